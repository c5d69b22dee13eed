//! Recurrent NTK Gram matrices on the GPU against the float64 table
//! recursion, the per-time-step all-pairs formulation for equal lengths,
//! symmetry and positive semi-definiteness.
//!
//! Tolerance: 1e-5 of the largest |entry| of each float64 matrix (f32
//! arithmetic along at most 12 steps and 2 layers).

mod common;

use common::{gpu, uniform_values};
use maso::kernels::ntk::{reference::dual_activation, Activation, MemorySink};
use maso::kernels::rntk::{compute_rntk_gram, reference, Readout, RntkConfig, SequenceInputs};

/// Sequences of the given lengths with `channels` values per step.
fn sequences(seed: u64, lengths: &[usize], channels: usize) -> (Vec<f32>, Vec<usize>) {
    let total: usize = lengths.iter().sum();
    let values = uniform_values(seed, total * channels, -1.0, 1.0);
    let mut offsets = vec![0];
    for length in lengths {
        offsets.push(offsets.last().unwrap() + length);
    }
    (values, offsets)
}

fn run(
    config: &RntkConfig,
    set1: &SequenceInputs,
    set2: Option<&SequenceInputs>,
    tile: Option<usize>,
) -> MemorySink {
    let columns = set2.map_or(set1.count(), |s| s.count());
    let mut sink = MemorySink::new(2, set1.count(), columns);
    compute_rntk_gram(gpu(), config, set1, set2, tile, &mut sink, &mut |_, _| {}).unwrap();
    sink
}

fn to_f64(values: &[f32]) -> Vec<f64> {
    values.iter().map(|&v| f64::from(v)).collect()
}

fn assert_close(actual: &[f32], expected: &[f64], what: &str) {
    let scale = expected
        .iter()
        .fold(0.0f64, |m, v| m.max(v.abs()))
        .max(1e-30);
    for (index, (&got, &want)) in actual.iter().zip(expected).enumerate() {
        let error = (f64::from(got) - want).abs() / scale;
        assert!(error <= 1e-5, "{what}: entry {index} is {got}, float64 gives {want} (error {error:e} of the largest entry)");
    }
}

fn configs() -> Vec<RntkConfig> {
    let mut list = Vec::new();
    for activation in [Activation::Relu, Activation::Erf] {
        for layers in [1, 2] {
            for readout in [Readout::Last, Readout::Mean] {
                list.push(RntkConfig {
                    layers,
                    activation,
                    sw: 1.3,
                    su: 0.8,
                    sb: 0.2,
                    sh: 0.5,
                    sv: 1.1,
                    readout,
                });
            }
        }
    }
    list
}

#[test]
fn rntk_matches_float64_recursion() {
    let channels = 3;
    let (values1, offsets1) = sequences(1, &[1, 4, 7, 12, 3], channels);
    let (values2, offsets2) = sequences(2, &[5, 1, 9, 2], channels);
    let set1 = SequenceInputs::new(&values1, &offsets1, channels, "set 1").unwrap();
    let set2 = SequenceInputs::new(&values2, &offsets2, channels, "set 2").unwrap();
    for config in configs() {
        let sink = run(&config, &set1, Some(&set2), None);
        let mut nngp = Vec::new();
        let mut ntk = Vec::new();
        for i in 0..set1.count() {
            for j in 0..set2.count() {
                let (g, k) = reference::pair_kernels(
                    &config,
                    &to_f64(set1.sequence(i)),
                    &to_f64(set2.sequence(j)),
                    channels,
                    false,
                );
                nngp.push(g);
                ntk.push(k);
            }
        }
        assert_close(&sink.components[0], &nngp, &format!("{config:?} nngp"));
        assert_close(&sink.components[1], &ntk, &format!("{config:?} ntk"));
    }
}

#[test]
fn symmetric_rntk_is_symmetric_and_psd() {
    let channels = 2;
    let (values, offsets) = sequences(3, &[6, 2, 9, 4, 4, 11, 1, 7, 5, 8, 3, 10], channels);
    let set = SequenceInputs::new(&values, &offsets, channels, "set").unwrap();
    let n = set.count();
    for config in configs() {
        let sink = run(&config, &set, None, Some(5));
        for (component, matrix) in sink.components.iter().enumerate() {
            let mut expected = Vec::new();
            for i in 0..n {
                for j in 0..n {
                    assert_eq!(
                        matrix[i * n + j],
                        matrix[j * n + i],
                        "{config:?} component {component} ({i}, {j})"
                    );
                    let (g, k) = reference::pair_kernels(
                        &config,
                        &to_f64(set.sequence(i)),
                        &to_f64(set.sequence(j)),
                        channels,
                        i == j,
                    );
                    expected.push(if component == 0 { g } else { k });
                }
            }
            assert_close(
                matrix,
                &expected,
                &format!("{config:?} symmetric component {component}"),
            );
            let eigenvalues = nalgebra::DMatrix::from_fn(n, n, |i, j| f64::from(matrix[i * n + j]))
                .symmetric_eigenvalues();
            assert!(
                eigenvalues.min() >= -1e-5 * eigenvalues.max(),
                "{config:?} component {component}: eigenvalue {}",
                eigenvalues.min()
            );
        }
    }
}

/// The per-time-step formulation of the original RNTK code for equal-length
/// univariate sequences: N x N matrices of all sequence pairs, advanced one
/// time step at a time; returns the last-step (NNGP, NTK) matrices.
fn all_pairs_per_step(config: &RntkConfig, data: &[Vec<f64>]) -> (Vec<f64>, Vec<f64>) {
    let n = data.len();
    let steps = data[0].len();
    let (sw2, su2, sb2, sh2, sv2) = (
        config.sw.powi(2),
        config.su.powi(2),
        config.sb.powi(2),
        config.sh.powi(2),
        config.sv.powi(2),
    );
    let layers = config.layers;
    // Hidden covariance V and V' T of the previous step, per layer, per pair.
    let mut value = vec![vec![0.0; n * n]; layers];
    let mut tangent = vec![vec![0.0; n * n]; layers];
    for l in 0..layers {
        for i in 0..n {
            value[l][i * n + i] = sh2;
        }
    }
    let mut last_derivative = vec![0.0; n * n];
    let mut last_ntk = vec![0.0; n * n];
    for t in 0..steps {
        let mut below_value: Vec<f64> = (0..n * n)
            .map(|k| data[k / n][t] * data[k % n][t])
            .collect();
        let mut below_tangent = vec![0.0; n * n];
        for l in 0..layers {
            let covariance: Vec<f64> = (0..n * n)
                .map(|k| sw2 * value[l][k] + su2 * below_value[k] + sb2)
                .collect();
            let ntk: Vec<f64> = (0..n * n)
                .map(|k| covariance[k] + sw2 * tangent[l][k] + su2 * below_tangent[k])
                .collect();
            let mut new_value = vec![0.0; n * n];
            let mut new_derivative = vec![0.0; n * n];
            for k in 0..n * n {
                let (i, j) = (k / n, k % n);
                let (v, d) = dual_activation(
                    config.activation,
                    covariance[i * n + i],
                    covariance[j * n + j],
                    covariance[k],
                );
                new_value[k] = v;
                new_derivative[k] = d;
            }
            tangent[l] = (0..n * n).map(|k| new_derivative[k] * ntk[k]).collect();
            value[l] = new_value.clone();
            below_value = new_value;
            below_tangent = tangent[l].clone();
            last_derivative = new_derivative;
            last_ntk = ntk;
        }
    }
    let nngp: Vec<f64> = value[layers - 1].iter().map(|v| sv2 * v).collect();
    let ntk: Vec<f64> = (0..n * n)
        .map(|k| sv2 * (value[layers - 1][k] + last_derivative[k] * last_ntk[k]))
        .collect();
    (nngp, ntk)
}

#[test]
fn last_state_equals_all_pairs_formulation() {
    let (n, steps) = (9, 15);
    let values = uniform_values(4, n * steps, -1.0, 1.0);
    let offsets: Vec<usize> = (0..=n).map(|i| i * steps).collect();
    let set = SequenceInputs::new(&values, &offsets, 1, "univariate").unwrap();
    let data: Vec<Vec<f64>> = (0..n).map(|i| to_f64(set.sequence(i))).collect();
    for activation in [Activation::Relu, Activation::Erf] {
        for layers in [1, 2] {
            let config = RntkConfig {
                layers,
                activation,
                sw: std::f64::consts::SQRT_2,
                su: 0.5,
                sb: 0.1,
                sh: 0.3,
                sv: 1.0,
                readout: Readout::Last,
            };
            let sink = run(&config, &set, None, None);
            let (nngp, ntk) = all_pairs_per_step(&config, &data);
            assert_close(
                &sink.components[0],
                &nngp,
                &format!("{activation:?} L{layers} nngp"),
            );
            assert_close(
                &sink.components[1],
                &ntk,
                &format!("{activation:?} L{layers} ntk"),
            );
        }
    }
}

#[test]
fn invalid_sequences_are_rejected() {
    let values = [0.0f32; 6];
    let message = SequenceInputs::new(&values, &[0, 3, 3, 6], 1, "set")
        .unwrap_err()
        .to_string();
    assert!(message.contains("sequence 1 has length 0"), "{message}");
    let nan = [0.0, 1.0, f32::NAN, 2.0];
    let message = SequenceInputs::new(&nan, &[0, 1, 2], 2, "set")
        .unwrap_err()
        .to_string();
    assert!(
        message.contains("sequence 1, step 0, channel 0"),
        "{message}"
    );
    let message = SequenceInputs::new(&values, &[0, 2, 5], 1, "set")
        .unwrap_err()
        .to_string();
    assert!(message.contains("offsets end at step 5"), "{message}");

    let a = SequenceInputs::new(&values, &[0, 3, 6], 1, "a").unwrap();
    let b = SequenceInputs::new(&values, &[0, 3], 2, "b").unwrap();
    let mut sink = MemorySink::new(2, 2, 1);
    let message = compute_rntk_gram(
        gpu(),
        &RntkConfig::default(),
        &a,
        Some(&b),
        None,
        &mut sink,
        &mut |_, _| {},
    )
    .unwrap_err()
    .to_string();
    assert!(
        message.contains("1 channels per step but the second has 2"),
        "{message}"
    );
    let bad = RntkConfig {
        su: -1.0,
        ..RntkConfig::default()
    };
    assert!(bad.validate().unwrap_err().to_string().contains("su"));
}
