//! Infinite-width NTK Gram matrices on the GPU against the float64 CPU
//! recursion, plus tiling, symmetry, per-layer and file-output checks.
//!
//! Tolerance: 1e-5 of the largest |entry| of each float64 matrix, the
//! agreement users expect with neural-tangents in float64. The GPU evaluates
//! the recursion in f32; on llvmpipe the worst case here (ReLU, depth 10,
//! Theta_0) is about 2.2e-6, from rounding of correlations near 1 that the
//! arccosine amplifies and that compounds over the layers.

mod common;

use common::{gpu, uniform_values};
use maso::kernels::ntk::{
    component_names, compute_ntk_gram, reference, Activation, GramOptions, Inputs, MemorySink,
    NpyDtype, NpySink, NtkConfig, Parameterization,
};

fn config(activation: Activation, depth: usize, b_std: Option<f64>) -> NtkConfig {
    NtkConfig {
        depth,
        activation,
        w_std: if activation == Activation::Relu {
            1.4
        } else {
            1.2
        },
        b_std,
        parameterization: Parameterization::Ntk,
        width: 64,
    }
}

fn run(config: &NtkConfig, x1: &Inputs, x2: Option<&Inputs>, options: GramOptions) -> MemorySink {
    let components = component_names(config.depth, options.per_layer).len();
    let columns = x2.map_or(x1.count, |x| x.count);
    let mut sink = MemorySink::new(components, x1.count, columns);
    compute_ntk_gram(gpu(), config, x1, x2, &options, &mut sink, &mut |_, _| {}).unwrap();
    sink
}

/// float64 components in the sink's order.
fn reference_components(
    config: &NtkConfig,
    x1: &[f32],
    x2: &[f32],
    dimension: usize,
) -> Vec<Vec<f64>> {
    let to_f64 = |v: &[f32]| v.iter().map(|&x| f64::from(x)).collect::<Vec<f64>>();
    let (n1, n2) = (x1.len() / dimension, x2.len() / dimension);
    let mut components = vec![vec![0.0; n1 * n2]; 3 + config.depth];
    for i in 0..n1 {
        for j in 0..n2 {
            let pair = reference::pair_kernels(
                config,
                &to_f64(&x1[i * dimension..(i + 1) * dimension]),
                &to_f64(&x2[j * dimension..(j + 1) * dimension]),
            );
            components[0][i * n2 + j] = pair.nngp;
            components[1][i * n2 + j] = pair.ntk;
            for (h, value) in pair.layers.iter().enumerate() {
                components[2 + h][i * n2 + j] = *value;
            }
        }
    }
    components
}

fn assert_close(actual: &[f32], expected: &[f64], what: &str) {
    let scale = expected
        .iter()
        .fold(0.0f64, |m, v| m.max(v.abs()))
        .max(1e-30);
    if std::env::var("NTK_PROBE").is_ok() {
        let worst = actual
            .iter()
            .zip(expected)
            .map(|(&g, &w)| (f64::from(g) - w).abs() / scale)
            .fold(0.0, f64::max);
        let worst_relative = actual
            .iter()
            .zip(expected)
            .map(|(&g, &w)| (f64::from(g) - w).abs() / w.abs().max(1e-300))
            .fold(0.0, f64::max);
        eprintln!("PROBE {what}: {worst:.2e} of max, {worst_relative:.2e} entrywise");
        return;
    }
    for (index, (&got, &want)) in actual.iter().zip(expected).enumerate() {
        let error = (f64::from(got) - want).abs() / scale;
        assert!(error <= 1e-5, "{what}: entry {index} is {got}, float64 gives {want} (error {error:e} of the largest entry)");
    }
}

#[test]
fn gram_matches_float64_recursion() {
    let (n1, n2, dimension) = (7, 33, 5);
    let x1 = uniform_values(11, n1 * dimension, -1.0, 1.0);
    let x2 = uniform_values(12, n2 * dimension, -1.0, 1.0);
    let inputs1 = Inputs::new(&x1, n1, dimension, "X1").unwrap();
    let inputs2 = Inputs::new(&x2, n2, dimension, "X2").unwrap();
    for activation in [Activation::Relu, Activation::Erf] {
        for depth in [1, 2, 5, 10] {
            for b_std in [None, Some(0.3)] {
                let config = config(activation, depth, b_std);
                let options = GramOptions {
                    per_layer: true,
                    tile: None,
                };
                let sink = run(&config, &inputs1, Some(&inputs2), options);
                let expected = reference_components(&config, &x1, &x2, dimension);
                for (name, (actual, wanted)) in component_names(depth, true)
                    .iter()
                    .zip(sink.components.iter().zip(&expected))
                {
                    assert_close(
                        actual,
                        wanted,
                        &format!("{activation:?} depth {depth} b_std {b_std:?} {name}"),
                    );
                }
            }
        }
    }
}

#[test]
fn tiled_gram_equals_single_tile() {
    let (n1, n2, dimension) = (70, 45, 9);
    let x1 = uniform_values(21, n1 * dimension, -1.0, 1.0);
    let x2 = uniform_values(22, n2 * dimension, -1.0, 1.0);
    let inputs1 = Inputs::new(&x1, n1, dimension, "X1").unwrap();
    let inputs2 = Inputs::new(&x2, n2, dimension, "X2").unwrap();
    let config = config(Activation::Relu, 3, Some(0.1));
    let whole = run(
        &config,
        &inputs1,
        Some(&inputs2),
        GramOptions {
            per_layer: true,
            tile: None,
        },
    );
    let tiled = run(
        &config,
        &inputs1,
        Some(&inputs2),
        GramOptions {
            per_layer: true,
            tile: Some(16),
        },
    );
    assert_eq!(whole.components, tiled.components);
}

#[test]
fn symmetric_gram_is_symmetric_with_exact_diagonal() {
    let (n, dimension) = (40, 6);
    let x = uniform_values(31, n * dimension, -1.0, 1.0);
    let inputs = Inputs::new(&x, n, dimension, "X").unwrap();
    for activation in [Activation::Relu, Activation::Erf] {
        let config = config(activation, 4, Some(0.2));
        let sink = run(
            &config,
            &inputs,
            None,
            GramOptions {
                per_layer: true,
                tile: Some(16),
            },
        );
        let expected = reference_components(&config, &x, &x, dimension);
        for (component, matrix) in sink.components.iter().enumerate() {
            for i in 0..n {
                for j in 0..n {
                    assert_eq!(
                        matrix[i * n + j],
                        matrix[j * n + i],
                        "{activation:?} component {component} at ({i}, {j})"
                    );
                }
                // The diagonal follows the analytic theta = 0 values.
                let want = expected[component][i * n + i];
                let got = f64::from(matrix[i * n + i]);
                assert!(
                    (got - want).abs() <= 2e-6 * want.abs().max(1e-30),
                    "{activation:?} component {component} diagonal {i}: {got} vs {want}"
                );
            }
            assert_close(
                matrix,
                &expected[component],
                &format!("{activation:?} symmetric component {component}"),
            );
        }
    }
}

#[test]
fn layer_terms_sum_to_ntk_and_are_psd() {
    let (n, dimension) = (30, 8);
    let x = uniform_values(41, n * dimension, -1.0, 1.0);
    let inputs = Inputs::new(&x, n, dimension, "X").unwrap();
    for activation in [Activation::Relu, Activation::Erf] {
        let depth = 5;
        let config = config(activation, depth, Some(0.2));
        let sink = run(
            &config,
            &inputs,
            None,
            GramOptions {
                per_layer: true,
                tile: None,
            },
        );
        let ntk = &sink.components[1];
        let scale = ntk.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        for index in 0..n * n {
            let sum: f32 = (0..=depth).map(|h| sink.components[2 + h][index]).sum();
            assert!(
                (sum - ntk[index]).abs() <= 4e-6 * scale,
                "{activation:?} entry {index}: layers sum to {sum}, ntk {}",
                ntk[index]
            );
        }
        for h in 0..=depth {
            let layer = &sink.components[2 + h];
            let matrix = nalgebra::DMatrix::from_fn(n, n, |i, j| f64::from(layer[i * n + j]));
            let eigenvalues = matrix.symmetric_eigenvalues();
            let largest = eigenvalues.max();
            let smallest = eigenvalues.min();
            assert!(
                smallest >= -1e-5 * largest,
                "{activation:?} layer {h}: eigenvalue {smallest} (largest {largest})"
            );
        }
    }
}

#[test]
fn npy_output_matches_memory() {
    let (n1, n2, dimension) = (37, 20, 4);
    let x1 = uniform_values(51, n1 * dimension, -1.0, 1.0);
    let x2 = uniform_values(52, n2 * dimension, -1.0, 1.0);
    let inputs1 = Inputs::new(&x1, n1, dimension, "X1").unwrap();
    let inputs2 = Inputs::new(&x2, n2, dimension, "X2").unwrap();
    let config = config(Activation::Erf, 2, None);
    let options = GramOptions {
        per_layer: true,
        tile: Some(16),
    };
    let memory = run(&config, &inputs1, Some(&inputs2), options);

    let names = component_names(config.depth, true);
    let directory = std::env::temp_dir().join(format!("maso-ntk-npy-{}", std::process::id()));
    for dtype in [NpyDtype::Float32, NpyDtype::Float64] {
        let mut sink = NpySink::create(&directory, &names, n1, n2, dtype).unwrap();
        compute_ntk_gram(
            gpu(),
            &config,
            &inputs1,
            Some(&inputs2),
            &options,
            &mut sink,
            &mut |_, _| {},
        )
        .unwrap();
        for (component, name) in names.iter().enumerate() {
            let array = maso::io::npy::read_f64(directory.join(format!("{name}.npy"))).unwrap();
            assert_eq!(array.shape, vec![n1, n2], "{name}");
            let expected: Vec<f64> = memory.components[component]
                .iter()
                .map(|&v| f64::from(v))
                .collect();
            assert_eq!(array.data, expected, "{name} as {dtype:?}");
        }
    }
}

#[test]
fn progress_reports_every_tile() {
    let (n, dimension) = (50, 3);
    let x = uniform_values(61, n * dimension, -1.0, 1.0);
    let inputs = Inputs::new(&x, n, dimension, "X").unwrap();
    let config = config(Activation::Relu, 1, None);
    let mut sink = MemorySink::new(2, n, n);
    let mut calls = Vec::new();
    let options = GramOptions {
        per_layer: false,
        tile: Some(16),
    };
    let report = compute_ntk_gram(
        gpu(),
        &config,
        &inputs,
        None,
        &options,
        &mut sink,
        &mut |done, total| calls.push((done, total)),
    )
    .unwrap();
    // 4 x 4 tiles of 16, of which the 10 on or above the diagonal are computed.
    assert_eq!(report.tiles_computed, 10);
    assert_eq!(calls.last(), Some(&(10, 10)));
    assert_eq!(calls.len(), 10);
}

#[test]
fn invalid_inputs_are_rejected() {
    let x = [0.0f32; 12];
    let nan = [0.0, f32::NAN, 0.0, 0.0];
    assert!(Inputs::new(&x, 0, 12, "X")
        .unwrap_err()
        .to_string()
        .contains("at least one point"));
    assert!(Inputs::new(&x, 5, 3, "X")
        .unwrap_err()
        .to_string()
        .contains("not 5 x 3"));
    let message = Inputs::new(&nan, 2, 2, "X").unwrap_err().to_string();
    assert!(message.contains("row 0, column 1"), "{message}");

    let a = Inputs::new(&x, 4, 3, "X1").unwrap();
    let b = Inputs::new(&x, 3, 4, "X2").unwrap();
    let mut sink = MemorySink::new(2, 4, 3);
    let message = compute_ntk_gram(
        gpu(),
        &NtkConfig::default(),
        &a,
        Some(&b),
        &GramOptions::default(),
        &mut sink,
        &mut |_, _| {},
    )
    .unwrap_err()
    .to_string();
    assert!(
        message.contains("3 features per point but X2 has 4"),
        "{message}"
    );

    for (bad, field) in [
        (
            NtkConfig {
                w_std: -1.0,
                ..NtkConfig::default()
            },
            "w_std",
        ),
        (
            NtkConfig {
                depth: 0,
                ..NtkConfig::default()
            },
            "depth",
        ),
        (
            NtkConfig {
                depth: 129,
                ..NtkConfig::default()
            },
            "depth",
        ),
        (
            NtkConfig {
                b_std: Some(f64::NAN),
                ..NtkConfig::default()
            },
            "b_std",
        ),
    ] {
        let message = bad.validate().unwrap_err().to_string();
        assert!(message.contains(field), "{message}");
    }
}
