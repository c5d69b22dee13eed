//! The NFT-K classifier on synthetic data: layer weights, per-layer
//! contributions and scores against a float64 CPU implementation of the same
//! rule (reference NTK recursion, alignment, Cholesky solve).

mod common;

use common::{gpu, uniform_values};
use maso::kernels::ntk::{reference, Activation, Inputs, NtkConfig};
use maso::pipelines::nftk::{
    centred_alignment, run_nftk, weights_from_alignments, LabelledPoints, NftkConfig,
};
use nalgebra::{DMatrix, DVector};

/// Three Gaussian blobs in 6 dimensions with centres 1.5 apart.
fn blobs(seed: u64, per_class: usize) -> (Vec<f32>, Vec<u32>) {
    let dimension = 6;
    let noise = uniform_values(seed, per_class * 3 * dimension, -1.0, 1.0);
    let mut features = Vec::new();
    let mut labels = Vec::new();
    for class in 0..3u32 {
        for i in 0..per_class {
            for f in 0..dimension {
                let centre = if f == class as usize { 1.5 } else { 0.0 };
                features
                    .push(centre + 0.6 * noise[((class as usize * per_class) + i) * dimension + f]);
            }
            labels.push(class);
        }
    }
    (features, labels)
}

fn config() -> NftkConfig {
    NftkConfig {
        network: NtkConfig {
            depth: 3,
            activation: Activation::Relu,
            w_std: 1.4,
            b_std: Some(0.2),
            ..NtkConfig::default()
        },
        ridge: 0.05,
        tolerance: 1e-6,
        max_iterations: 2000,
    }
}

/// float64 per-layer kernels between rows of `a` and `b`, each as a DMatrix.
fn reference_layers(
    network: &NtkConfig,
    a: &[f32],
    b: &[f32],
    dimension: usize,
) -> Vec<DMatrix<f64>> {
    let (na, nb) = (a.len() / dimension, b.len() / dimension);
    let point = |x: &[f32], i: usize| {
        x[i * dimension..(i + 1) * dimension]
            .iter()
            .map(|&v| f64::from(v))
            .collect::<Vec<f64>>()
    };
    let mut layers = vec![DMatrix::zeros(na, nb); network.depth + 1];
    for i in 0..na {
        for j in 0..nb {
            let pair = reference::pair_kernels(network, &point(a, i), &point(b, j));
            for (h, value) in pair.layers.iter().enumerate() {
                layers[h][(i, j)] = *value;
            }
        }
    }
    layers
}

#[test]
fn nftk_matches_float64_implementation() {
    let (train_x, train_y) = blobs(1, 20);
    let (test_x, test_y) = blobs(2, 8);
    let dimension = 6;
    let config = config();
    let train = LabelledPoints {
        inputs: Inputs::new(&train_x, train_y.len(), dimension, "train").unwrap(),
        labels: &train_y,
    };
    let test = LabelledPoints {
        inputs: Inputs::new(&test_x, test_y.len(), dimension, "test").unwrap(),
        labels: &test_y,
    };
    let result = run_nftk(gpu(), &config, &train, &test, 3).unwrap();
    assert!(result.converged);

    // Reference: normalise, align, weight, solve, score.
    let n = train_y.len();
    let train_layers = reference_layers(&config.network, &train_x, &train_x, dimension);
    let test_layers = reference_layers(&config.network, &test_x, &train_x, dimension);
    let scales: Vec<f64> = train_layers.iter().map(|k| k.diagonal().mean()).collect();
    for (h, scale) in scales.iter().enumerate() {
        assert!(
            (result.layer_scales[h] - scale).abs() <= 1e-5 * scale,
            "layer {h} scale {} vs {scale}",
            result.layer_scales[h]
        );
    }
    for class in 0..3 {
        let targets: Vec<f64> = train_y
            .iter()
            .map(|&l| if l == class { 1.0 } else { -1.0 })
            .collect();
        let alignments: Vec<f64> = train_layers
            .iter()
            .zip(&scales)
            .map(|(kernel, scale)| {
                let normalised: Vec<f32> = (0..n * n)
                    .map(|k| (kernel[(k / n, k % n)] / scale) as f32)
                    .collect();
                centred_alignment(&normalised, n, &targets)
            })
            .collect();
        let mu = weights_from_alignments(&alignments);
        for h in 0..mu.len() {
            assert!(
                (result.mu[class as usize][h] - mu[h]).abs() < 1e-4,
                "mu[{class}][{h}] = {} vs {}",
                result.mu[class as usize][h],
                mu[h]
            );
        }
        let mut combined = DMatrix::<f64>::identity(n, n) * config.ridge;
        for ((kernel, scale), weight) in train_layers.iter().zip(&scales).zip(&mu) {
            combined += kernel * (weight / scale);
        }
        let alpha = combined
            .cholesky()
            .unwrap()
            .solve(&DVector::from_vec(targets));
        let mut scores = DVector::<f64>::zeros(test_y.len());
        for ((kernel, scale), weight) in test_layers.iter().zip(&scales).zip(&mu) {
            scores += kernel * &alpha * (weight / scale);
        }
        let largest = scores.amax();
        for t in 0..test_y.len() {
            let got = result.scores[t][class as usize];
            assert!(
                (got - scores[t]).abs() <= 1e-3 * largest.max(1.0),
                "class {class} test {t}: score {got} vs {}",
                scores[t]
            );
        }
    }
}

#[test]
fn nftk_outputs_are_consistent() {
    let (train_x, train_y) = blobs(3, 25);
    let (test_x, test_y) = blobs(4, 10);
    let dimension = 6;
    let train = LabelledPoints {
        inputs: Inputs::new(&train_x, train_y.len(), dimension, "train").unwrap(),
        labels: &train_y,
    };
    let test = LabelledPoints {
        inputs: Inputs::new(&test_x, test_y.len(), dimension, "test").unwrap(),
        labels: &test_y,
    };
    let result = run_nftk(gpu(), &config(), &train, &test, 3).unwrap();

    assert_eq!(result.layers, 4);
    assert_eq!(result.mu.len(), 3);
    for row in &result.mu {
        assert!(row.iter().all(|&w| w >= 0.0), "{row:?}");
        assert!((row.iter().sum::<f64>() - 1.0).abs() < 1e-12, "{row:?}");
    }
    for (t, per_class) in result.contributions.iter().enumerate() {
        for (c, terms) in per_class.iter().enumerate() {
            let sum: f64 = terms.iter().sum();
            assert!(
                (sum - result.scores[t][c]).abs() < 1e-9,
                "test {t} class {c}"
            );
        }
    }
    // Well-separated blobs: a regression guard, not a benchmark.
    assert!(
        result.accuracy >= 0.9,
        "combined accuracy {}",
        result.accuracy
    );
    assert!(
        result.accuracy_full_ntk >= 0.9,
        "full NTK accuracy {}",
        result.accuracy_full_ntk
    );
    assert_eq!(result.accuracy_per_layer.len(), 4);
    assert_eq!(result.predictions.len(), test_y.len());
}

#[test]
fn nftk_rejects_bad_labels() {
    let x = [0.0f32, 1.0, 2.0, 3.0];
    let labels = [0u32, 5];
    let points = LabelledPoints {
        inputs: Inputs::new(&x, 2, 2, "train").unwrap(),
        labels: &labels,
    };
    let message = run_nftk(gpu(), &config(), &points, &points, 3)
        .unwrap_err()
        .to_string();
    assert!(message.contains("labels in 0..3"), "{message}");
    let short = [0u32];
    let points = LabelledPoints {
        inputs: Inputs::new(&x, 2, 2, "train").unwrap(),
        labels: &short,
    };
    let message = run_nftk(gpu(), &config(), &points, &points, 3)
        .unwrap_err()
        .to_string();
    assert!(message.contains("2 points but 1 labels"), "{message}");
}
