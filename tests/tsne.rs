//! Kernel distances, t-SNE and the embedding metrics.
//!
//! Fixtures in tests/fixtures/tsne come from scikit-learn 1.9.1
//! (scripts/fixtures/make_tsne_fixtures.py). Tolerances:
//! - joint probabilities: 1e-6 relative per entry (the host computes them in
//!   float64 by the same steps as scikit-learn);
//! - GPU gradient: 1e-4 relative to the sum of the absolute values of its
//!   terms, against a float64 reference written from the formula (the GPU
//!   sums in f32);
//! - metrics: 1e-12 absolute for k-NN accuracy and trustworthiness (exact
//!   fractions), 1e-9 relative for the silhouette score.

mod common;

use std::path::PathBuf;

use common::{gpu, uniform_values};
use maso::embed::{
    joint_probabilities, kernel_distances, kernel_distances_from_gpu, kl_divergence, knn_accuracy,
    silhouette_score, trustworthiness, tsne, DistanceMatrix, KernelDistance, StepParameters,
    TsneConfig, TsneOptimizer,
};
use maso::io::npy;
use maso::ops::Matrix;

fn fixture_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tsne")
}

fn manifest() -> serde_json::Value {
    let text = std::fs::read_to_string(fixture_dir().join("manifest.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn load_f32(name: &str) -> (Vec<f32>, Vec<usize>) {
    let array = npy::read_f32(fixture_dir().join(name)).unwrap();
    (array.data, array.shape)
}

fn load_distances(name: &str) -> DistanceMatrix {
    let (values, shape) = load_f32(name);
    DistanceMatrix::new(values, shape[0]).unwrap()
}

fn labels_from(value: &serde_json::Value) -> Vec<u32> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|label| label.as_u64().unwrap() as u32)
        .collect()
}

fn error_text<T: std::fmt::Debug>(result: maso::Result<T>) -> String {
    result
        .expect_err("the input should be rejected")
        .to_string()
}

// ---------------------------------------------------------------- affinities

fn check_affinities(square_distances: bool, fixture: &str) {
    let distances = load_distances("distances.npy");
    let perplexity = manifest()["perplexity"].as_f64().unwrap();
    let got = joint_probabilities(&distances, perplexity, square_distances).unwrap();
    let expected = npy::read_f64(fixture_dir().join(fixture)).unwrap().data;
    assert_eq!(got.len(), expected.len());

    let n = distances.n();
    let mut worst = (0.0f64, 0usize);
    for (index, (&value, &reference)) in got.iter().zip(&expected).enumerate() {
        if index / n == index % n {
            assert_eq!(value, 0.0, "diagonal entry {index}");
            continue;
        }
        let relative = (value - reference).abs() / reference;
        if relative > worst.0 {
            worst = (relative, index);
        }
    }
    let (relative, index) = worst;
    assert!(
        relative <= 1e-6,
        "P[{}, {}] = {} but scikit-learn gives {} (relative error {relative:e})",
        index / n,
        index % n,
        got[index],
        expected[index]
    );
}

#[test]
fn affinities_match_sklearn_squared() {
    assert_eq!(
        manifest()["tsne_squares_precomputed_distances"],
        serde_json::Value::Bool(true)
    );
    check_affinities(true, "joint_probabilities_squared.npy");
}

#[test]
fn affinities_match_sklearn_unsquared() {
    check_affinities(false, "joint_probabilities_unsquared.npy");
}

#[test]
fn affinities_sum_to_one() {
    let distances = load_distances("distances.npy");
    let p = joint_probabilities(&distances, 5.0, true).unwrap();
    let total: f64 = p.iter().sum();
    assert!((total - 1.0).abs() < 1e-12, "sum of P = {total}");
    let n = distances.n();
    for i in 0..n {
        for j in 0..n {
            assert_eq!(p[i * n + j], p[j * n + i], "P[{i}, {j}] is not symmetric");
        }
    }
}

// ---------------------------------------------------------------- gradient

/// Random symmetric joint probabilities with a zero diagonal, summing to 1.
fn random_probabilities(n: usize, seed: u64) -> Vec<f32> {
    let raw = uniform_values(seed, n * n, 0.0, 1.0);
    let mut p = vec![0.0f64; n * n];
    for i in 0..n {
        for j in 0..n {
            if i != j {
                p[i * n + j] = f64::from(raw[i * n + j] + raw[j * n + i]);
            }
        }
    }
    let total: f64 = p.iter().sum();
    p.iter().map(|&value| (value / total) as f32).collect()
}

/// Float64 gradient 4 sum_j (a p_ij - q_ij) w_ij (y_i - y_j), and the sum of
/// the absolute values of its terms per coordinate (for the tolerance).
fn reference_gradient(
    p: &[f32],
    y: &[f32],
    n: usize,
    d: usize,
    exaggeration: f64,
) -> (Vec<f64>, Vec<f64>) {
    let w = |i: usize, j: usize| {
        let distance2: f64 = (0..d)
            .map(|k| (f64::from(y[i * d + k]) - f64::from(y[j * d + k])).powi(2))
            .sum();
        1.0 / (1.0 + distance2)
    };
    let mut z = 0.0;
    for i in 0..n {
        for j in 0..n {
            if i != j {
                z += w(i, j);
            }
        }
    }
    let mut gradient = vec![0.0; n * d];
    let mut magnitude = vec![0.0; n * d];
    for i in 0..n {
        for j in (0..n).filter(|&j| j != i) {
            let wij = w(i, j);
            let attraction = exaggeration * f64::from(p[i * n + j]) * wij;
            let repulsion = wij * wij / z;
            for k in 0..d {
                let difference = f64::from(y[i * d + k]) - f64::from(y[j * d + k]);
                gradient[i * d + k] += 4.0 * (attraction - repulsion) * difference;
                magnitude[i * d + k] += 4.0 * (attraction + repulsion) * difference.abs();
            }
        }
    }
    (gradient, magnitude)
}

fn check_gradient(n: usize, d: usize, exaggeration: f32) {
    let p = random_probabilities(n, 11 + n as u64);
    let y0 = uniform_values(97 + (n * d) as u64, n * d, -3.0, 3.0);
    let optimizer = TsneOptimizer::new(gpu(), &p, &y0, n, d).unwrap();
    let learning_rate = 50.0;
    optimizer
        .step(&StepParameters {
            exaggeration,
            momentum: 0.5,
            learning_rate,
            min_gain: 0.01,
        })
        .unwrap();
    let gradient = optimizer.gradient().unwrap();
    let (expected, magnitude) = reference_gradient(&p, &y0, n, d, f64::from(exaggeration));

    for index in 0..n * d {
        let error = (f64::from(gradient[index]) - expected[index]).abs();
        assert!(
            error <= 1e-4 * magnitude[index],
            "n = {n}, d = {d}: gradient of point {} coordinate {} is {} but float64 gives {} (error {error:e}, term magnitude {:e})",
            index / d,
            index % d,
            gradient[index],
            expected[index],
            magnitude[index]
        );
    }

    // First step: the momentum term is zero, so every gain shrinks from 1 to
    // 0.8 and y1 = y0 - learning_rate * 0.8 * gradient.
    let y1 = optimizer.embedding().unwrap();
    for index in 0..n * d {
        let want =
            f64::from(y0[index]) - f64::from(learning_rate) * 0.8 * f64::from(gradient[index]);
        let scale = f64::from(y0[index].abs())
            + (f64::from(learning_rate) * f64::from(gradient[index])).abs();
        assert!(
            (f64::from(y1[index]) - want).abs() <= 1e-6 * scale,
            "n = {n}, d = {d}: updated coordinate {index} is {} but {want} expected",
            y1[index]
        );
    }
}

#[test]
fn gradient_matches_float64_awkward_sizes() {
    for n in [7, 33, 257] {
        check_gradient(n, 2, 1.0);
    }
}

#[test]
fn gradient_with_exaggeration_and_other_dimensions() {
    check_gradient(33, 2, 12.0);
    check_gradient(7, 1, 1.0);
    check_gradient(33, 3, 4.0);
    check_gradient(33, 6, 1.0);
}

// ---------------------------------------------------------------- t-SNE runs

#[test]
fn kl_decreases_and_is_reported() {
    let distances = load_distances("distances.npy");
    let config = TsneConfig {
        perplexity: 10.0,
        n_iter: 400,
        report_every: 50,
        ..TsneConfig::default()
    };
    let mut reports = Vec::new();
    let result = tsne(gpu(), &distances, &config, &mut |iteration, kl| {
        reports.push((iteration, kl))
    })
    .unwrap();

    let iterations: Vec<usize> = reports.iter().map(|(iteration, _)| *iteration).collect();
    assert_eq!(iterations, vec![50, 100, 150, 200, 250, 300, 350, 400]);
    let kls: Vec<f64> = reports
        .iter()
        .map(|(_, kl)| kl.expect("report_kl is on"))
        .collect();
    let after_exaggeration = kls[4];
    assert!(
        result.kl_divergence.is_finite(),
        "final KL {}",
        result.kl_divergence
    );
    assert!(
        result.kl_divergence > 0.0,
        "final KL {}",
        result.kl_divergence
    );
    assert!(
        result.kl_divergence < kls[0],
        "KL went from {} to {}",
        kls[0],
        result.kl_divergence
    );
    assert!(
        result.kl_divergence < after_exaggeration,
        "KL after exaggeration {after_exaggeration} did not fall (final {})",
        result.kl_divergence
    );
    assert_eq!(
        result.kl_divergence, kls[7],
        "final KL differs from the last report"
    );
    assert_eq!(result.embedding.len(), 40 * 2);
    assert_eq!(result.learning_rate, 50.0);
}

#[test]
fn blobs_separate_like_sklearn() {
    let distances = load_distances("blobs_distances.npy");
    let blobs = &manifest()["blobs"];
    let labels = labels_from(&blobs["labels"]);
    let config = TsneConfig {
        perplexity: blobs["perplexity"].as_f64().unwrap(),
        report_kl: false,
        ..TsneConfig::default()
    };
    let result = tsne(gpu(), &distances, &config, &mut |_, kl| {
        assert!(kl.is_none())
    })
    .unwrap();

    let accuracy = knn_accuracy(&result.embedding, 2, &labels, 5).unwrap();
    let sklearn_accuracy = blobs["sklearn_knn_accuracy_5"].as_f64().unwrap();
    let sklearn_kl = blobs["sklearn_kl_divergence"].as_f64().unwrap();
    assert!(accuracy > 0.95, "5-NN accuracy {accuracy}");
    assert!(
        accuracy >= sklearn_accuracy - 0.02,
        "5-NN accuracy {accuracy}, scikit-learn {sklearn_accuracy}"
    );
    assert!(
        (result.kl_divergence - sklearn_kl).abs() <= 0.1 * sklearn_kl,
        "KL {} is not within 10% of scikit-learn's {sklearn_kl}",
        result.kl_divergence
    );
}

#[test]
fn kl_divergence_matches_definition() {
    // Two points: P = 1/2 for both ordered pairs, and Q = 1/2 as well.
    let p = [0.0, 0.5, 0.5, 0.0];
    assert!(
        kl_divergence(&p, &[0.0, 0.0, 3.0, 4.0], 2, 2)
            .unwrap()
            .abs()
            < 1e-15
    );
    // Three points on a line, where q follows from w = 1 / (1 + d^2).
    let p = [0.0, 0.3, 0.1, 0.3, 0.0, 0.1, 0.1, 0.1, 0.0];
    let y = [0.0, 1.0, 3.0];
    let w: [f64; 3] = [0.5, 0.1, 0.2];
    let z = 2.0 * (w[0] + w[1] + w[2]);
    let expected = 2.0
        * (0.3 * (0.3 / (w[0] / z)).ln()
            + 0.1 * (0.1 / (w[1] / z)).ln()
            + 0.1 * (0.1 / (w[2] / z)).ln());
    let got = kl_divergence(&p, &y, 3, 1).unwrap();
    assert!(
        (got - expected).abs() < 1e-12,
        "KL {got}, expected {expected}"
    );
    assert!(error_text(kl_divergence(&p, &y, 3, 2)).contains("expected 9 and 6"));
}

// ---------------------------------------------------------------- distances

fn gram(points: &[f32], n: usize, d: usize) -> Vec<f32> {
    let mut kernel = vec![0.0f32; n * n];
    for i in 0..n {
        for j in 0..n {
            kernel[i * n + j] = (0..d)
                .map(|k| f64::from(points[i * d + k]) * f64::from(points[j * d + k]))
                .sum::<f64>() as f32;
        }
    }
    kernel
}

#[test]
fn kernel_distances_of_linear_kernel() {
    let (n, d) = (9, 4);
    let points = uniform_values(5, n * d, -1.0, 2.0);
    let kernel = gram(&points, n, d);
    let feature = kernel_distances(&kernel, n, KernelDistance::FeatureSpace).unwrap();
    let cosine = kernel_distances(&kernel, n, KernelDistance::Cosine).unwrap();
    for i in 0..n {
        let a = &points[i * d..(i + 1) * d];
        for j in 0..n {
            let c = &points[j * d..(j + 1) * d];
            let euclidean = a
                .iter()
                .zip(c)
                .map(|(&x, &y)| (f64::from(x) - f64::from(y)).powi(2))
                .sum::<f64>()
                .sqrt();
            let dot: f64 = a
                .iter()
                .zip(c)
                .map(|(&x, &y)| f64::from(x) * f64::from(y))
                .sum();
            let norms = (a.iter().map(|&x| f64::from(x).powi(2)).sum::<f64>()
                * c.iter().map(|&x| f64::from(x).powi(2)).sum::<f64>())
            .sqrt();
            let scale = (f64::from(kernel[i * n + i]) + f64::from(kernel[j * n + j])).sqrt();
            assert!(
                (f64::from(feature.get(i, j)) - euclidean).abs() <= 1e-3 * scale,
                "feature-space distance ({i}, {j}) = {}, Euclidean {euclidean}",
                feature.get(i, j)
            );
            let expected_cosine = if i == j {
                0.0
            } else {
                (1.0 - dot / norms).clamp(0.0, 2.0)
            };
            assert!(
                (f64::from(cosine.get(i, j)) - expected_cosine).abs() <= 1e-6,
                "cosine distance ({i}, {j}) = {}, expected {expected_cosine}",
                cosine.get(i, j)
            );
        }
        assert_eq!(feature.get(i, i), 0.0);
    }
}

#[test]
fn kernel_distances_read_from_gpu() {
    let (n, d) = (6, 3);
    let kernel = gram(&uniform_values(8, n * d, 0.5, 1.5), n, d);
    let matrix = Matrix::upload(gpu(), &kernel, n, n, "kernel").unwrap();
    let from_gpu = kernel_distances_from_gpu(gpu(), &matrix, KernelDistance::Cosine).unwrap();
    assert_eq!(
        from_gpu,
        kernel_distances(&kernel, n, KernelDistance::Cosine).unwrap()
    );
    let rectangular = Matrix::upload(gpu(), &kernel[..n * (n - 1)], n - 1, n, "kernel").unwrap();
    assert!(error_text(kernel_distances_from_gpu(
        gpu(),
        &rectangular,
        KernelDistance::Cosine
    ))
    .contains("square"));
}

#[test]
fn kernel_tiny_asymmetry_is_averaged() {
    let mut kernel = vec![2.0, 1.0, 1.0, 2.0];
    kernel[1] = 1.0 + 1e-6;
    let distances = kernel_distances(&kernel, 2, KernelDistance::FeatureSpace).unwrap();
    assert_eq!(distances.get(0, 1), distances.get(1, 0));
}

// ---------------------------------------------------------------- bad input

#[test]
fn perplexity_at_least_n_is_rejected() {
    let distances = load_distances("distances.npy");
    for perplexity in [40.0, 55.0, 0.0, f64::NAN] {
        let config = TsneConfig {
            perplexity,
            ..TsneConfig::default()
        };
        let message = error_text(tsne(gpu(), &distances, &config, &mut |_, _| {}));
        assert!(message.contains("perplexity"), "{message}");
        assert!(
            message.contains("(0, 40)"),
            "message should give the allowed range: {message}"
        );
    }
}

#[test]
fn bad_config_is_rejected() {
    let distances = load_distances("distances.npy");
    let cases = [
        TsneConfig {
            n_components: 0,
            perplexity: 10.0,
            ..TsneConfig::default()
        },
        TsneConfig {
            n_iter: 0,
            perplexity: 10.0,
            ..TsneConfig::default()
        },
        TsneConfig {
            final_momentum: 1.0,
            perplexity: 10.0,
            ..TsneConfig::default()
        },
        TsneConfig {
            report_every: 0,
            perplexity: 10.0,
            ..TsneConfig::default()
        },
    ];
    for (config, field) in
        cases
            .iter()
            .zip(["n_components", "n_iter", "final_momentum", "report_every"])
    {
        let message = error_text(tsne(gpu(), &distances, config, &mut |_, _| {}));
        assert!(message.contains(field), "{message}");
    }
    let single = DistanceMatrix::new(vec![0.0], 1).unwrap();
    let message = error_text(tsne(gpu(), &single, &TsneConfig::default(), &mut |_, _| {}));
    assert!(message.contains("at least 2"), "{message}");
}

#[test]
fn non_symmetric_kernel_is_rejected() {
    let n = 4;
    let mut kernel = gram(&uniform_values(3, n * 2, 0.5, 1.0), n, 2);
    kernel[n + 3] += 0.01;
    kernel[2 * n] += 1e-3;
    let message = error_text(kernel_distances(&kernel, n, KernelDistance::FeatureSpace));
    assert!(
        message.contains("K[1, 3]"),
        "the worst pair should be named: {message}"
    );
    assert!(message.contains("symmetric"), "{message}");
}

#[test]
fn non_finite_values_are_rejected() {
    let n = 3;
    let mut kernel = gram(&uniform_values(4, n * 2, 0.5, 1.0), n, 2);
    kernel[5] = f32::NAN;
    let message = error_text(kernel_distances(&kernel, n, KernelDistance::Cosine));
    assert!(message.contains("[1, 2]"), "{message}");
    assert!(message.contains("NaN"), "{message}");

    let mut distances = vec![0.0, 1.0, 2.0, 1.0, 0.0, 1.0, 2.0, 1.0, 0.0];
    distances[2] = f32::INFINITY;
    let message = error_text(DistanceMatrix::new(distances, n));
    assert!(message.contains("[0, 2]"), "{message}");
    assert!(message.contains("finite"), "{message}");
}

#[test]
fn kernel_diagonal_is_checked() {
    let kernel = vec![1.0, 0.0, 0.0, 0.0];
    assert!(kernel_distances(&kernel, 2, KernelDistance::FeatureSpace).is_ok());
    let message = error_text(kernel_distances(&kernel, 2, KernelDistance::Cosine));
    assert!(message.contains("K[1, 1]"), "{message}");
    assert!(message.contains("positive"), "{message}");
    let negative = vec![1.0, 0.0, 0.0, -0.5];
    let message = error_text(kernel_distances(&negative, 2, KernelDistance::FeatureSpace));
    assert!(message.contains("non-negative"), "{message}");
    let message = error_text(kernel_distances(&kernel, 3, KernelDistance::FeatureSpace));
    assert!(message.contains("3 x 3"), "{message}");
}

#[test]
fn invalid_distance_matrices_are_rejected() {
    let good = vec![0.0, 1.0, 2.0, 1.0, 0.0, 1.5, 2.0, 1.5, 0.0];
    assert!(DistanceMatrix::new(good.clone(), 3).is_ok());

    let mut negative = good.clone();
    negative[1] = -1.0;
    negative[3] = -1.0;
    assert!(error_text(DistanceMatrix::new(negative, 3)).contains("non-negative"));

    let mut diagonal = good.clone();
    diagonal[4] = 0.1;
    let message = error_text(DistanceMatrix::new(diagonal, 3));
    assert!(message.contains("D[1, 1]"), "{message}");
    assert!(message.contains("zero diagonal"), "{message}");

    let mut asymmetric = good.clone();
    asymmetric[5] = 1.6;
    let message = error_text(DistanceMatrix::new(asymmetric, 3));
    assert!(message.contains("D[1, 2]"), "{message}");
    assert!(message.contains("symmetric"), "{message}");

    assert!(error_text(DistanceMatrix::new(good, 2)).contains("2 x 2"));
}

// ---------------------------------------------------------------- metrics

#[test]
fn metrics_match_sklearn() {
    let manifest = manifest();
    let metrics = &manifest["metrics"];
    let labels = labels_from(&manifest["labels"]);
    let (embedding, shape) = load_f32("embedding.npy");
    let distances = load_distances("distances.npy");
    assert_eq!(shape, vec![40, 2]);

    for k in [1, 4, 5] {
        let expected = metrics["knn_accuracy"][k.to_string()].as_f64().unwrap();
        let got = knn_accuracy(&embedding, 2, &labels, k).unwrap();
        assert!(
            (got - expected).abs() < 1e-12,
            "{k}-NN accuracy {got}, scikit-learn {expected}"
        );
    }
    assert!(
        metrics["knn_vote_ties"]["4"].as_u64().unwrap() > 0,
        "the fixture should contain vote ties"
    );

    let expected = metrics["silhouette"].as_f64().unwrap();
    let got = silhouette_score(&embedding, 2, &labels).unwrap();
    assert!(
        (got - expected).abs() <= 1e-9 * expected.abs(),
        "silhouette {got}, scikit-learn {expected}"
    );

    for k in [1, 5, 12] {
        let expected = metrics["trustworthiness"][k.to_string()].as_f64().unwrap();
        let got = trustworthiness(&distances, &embedding, 2, k).unwrap();
        assert!(
            (got - expected).abs() < 1e-12,
            "trustworthiness({k}) {got}, scikit-learn {expected}"
        );
    }
}

#[test]
fn metrics_on_perfect_embedding() {
    // The embedding is the original points, so every neighbourhood is kept.
    let points = [
        0.0f32, 0.0, 0.1, 0.0, 0.0, 0.2, 5.0, 5.0, 5.1, 5.0, 5.0, 5.3,
    ];
    let labels = [0, 0, 0, 1, 1, 1];
    let mut distances = vec![0.0f32; 36];
    for i in 0..6 {
        for j in 0..6 {
            let (dx, dy) = (
                points[2 * i] - points[2 * j],
                points[2 * i + 1] - points[2 * j + 1],
            );
            distances[i * 6 + j] = (dx * dx + dy * dy).sqrt();
        }
    }
    let distances = DistanceMatrix::new(distances, 6).unwrap();
    assert_eq!(knn_accuracy(&points, 2, &labels, 2).unwrap(), 1.0);
    assert_eq!(trustworthiness(&distances, &points, 2, 2).unwrap(), 1.0);
    assert!(silhouette_score(&points, 2, &labels).unwrap() > 0.9);
}

#[test]
fn knn_vote_tie_goes_to_smallest_label() {
    // 1-D points with k = 2. Point 0 has neighbours 1 (label 7, lower
    // index) and 2 (label 3) at the same distance, so the tied vote goes to
    // 3, its own label. Point 2 has neighbours labelled 3 and 7 (a tie, so 3:
    // right), point 1 has two neighbours labelled 3 (wrong), and points 3 to
    // 5 have only neighbours labelled 9 (right).
    let points = [0.0f32, -1.0, 1.0, 10.0, 11.0, 12.0];
    let labels = [3, 7, 3, 9, 9, 9];
    let accuracy = knn_accuracy(&points, 1, &labels, 2).unwrap();
    assert_eq!(accuracy, 5.0 / 6.0);
}

#[test]
fn metric_arguments_are_checked() {
    let points = [0.0f32, 1.0, 2.0, 3.0];
    let labels = [0, 0, 1, 1];
    assert!(error_text(knn_accuracy(&points, 1, &labels, 4)).contains("[1, 3]"));
    assert!(error_text(knn_accuracy(&points, 1, &labels[..3], 1)).contains("3 points"));
    assert!(error_text(silhouette_score(&points, 1, &[0, 0, 0, 0])).contains("distinct labels"));
    let distances = DistanceMatrix::new(vec![0.0; 16], 4).unwrap();
    assert!(error_text(trustworthiness(&distances, &points, 1, 2)).contains("n_neighbors"));
    assert!(error_text(knn_accuracy(&[0.0, f32::NAN, 1.0, 2.0], 1, &labels, 1)).contains("finite"));
}
