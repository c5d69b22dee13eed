//! Float64 CPU evaluation of the recurrent NTK, written from the recursion
//! over the full table of time-step pairs (every (t, t'), as the all-pairs
//! formulation of the original RNTK code computes it). Tests compare the GPU
//! kernel, which walks only the diagonals it needs, with it.

use crate::kernels::ntk::reference::dual_activation;
use crate::kernels::rntk::{Readout, RntkConfig};

fn input_covariance(x: &[f64], y: &[f64], channels: usize, a: usize, b: usize) -> f64 {
    let dot: f64 = (0..channels)
        .map(|c| x[a * channels + c] * y[b * channels + c])
        .sum();
    dot / channels as f64
}

/// S_l(x; t, t) for every step t and layer l, as `[t * layers + l]`.
pub fn self_covariances(config: &RntkConfig, x: &[f64], channels: usize) -> Vec<f64> {
    let (sw2, su2, sb2, sh2) = (
        config.sw.powi(2),
        config.su.powi(2),
        config.sb.powi(2),
        config.sh.powi(2),
    );
    let steps = x.len() / channels;
    let mut table = vec![0.0; steps * config.layers];
    for t in 0..steps {
        let mut below = input_covariance(x, x, channels, t, t);
        for l in 0..config.layers {
            let previous = if t == 0 {
                sh2
            } else {
                let s = table[(t - 1) * config.layers + l];
                dual_activation(config.activation, s, s, s).0
            };
            let covariance = sw2 * previous + su2 * below + sb2;
            table[t * config.layers + l] = covariance;
            below = dual_activation(config.activation, covariance, covariance, covariance).0;
        }
    }
    table
}

/// (NNGP, NTK) of sequences `x` (T x m) and `y` (T' x m); `same_sequence`
/// marks a sequence paired with itself, whose initial states coincide.
pub fn pair_kernels(
    config: &RntkConfig,
    x: &[f64],
    y: &[f64],
    channels: usize,
    same_sequence: bool,
) -> (f64, f64) {
    let (sw2, su2, sb2, sh2, sv2) = (
        config.sw.powi(2),
        config.su.powi(2),
        config.sb.powi(2),
        config.sh.powi(2),
        config.sv.powi(2),
    );
    let layers = config.layers;
    let (steps_x, steps_y) = (x.len() / channels, y.len() / channels);
    let self_x = self_covariances(config, x, channels);
    let self_y = self_covariances(config, y, channels);
    // value[(a, b, l)] = V[S_l(a, b)], tangent[(a, b, l)] = V'[S_l(a, b)] T_l(a, b).
    let index = |a: usize, b: usize, l: usize| (a * steps_y + b) * layers + l;
    let mut value = vec![0.0; steps_x * steps_y * layers];
    let mut tangent = vec![0.0; steps_x * steps_y * layers];

    for a in 0..steps_x {
        for b in 0..steps_y {
            let mut below_value = input_covariance(x, y, channels, a, b);
            let mut below_tangent = 0.0;
            for l in 0..layers {
                let (previous_value, previous_tangent) = if a > 0 && b > 0 {
                    (
                        value[index(a - 1, b - 1, l)],
                        tangent[index(a - 1, b - 1, l)],
                    )
                } else if same_sequence && a == 0 && b == 0 {
                    (sh2, 0.0)
                } else {
                    (0.0, 0.0)
                };
                let covariance = sw2 * previous_value + su2 * below_value + sb2;
                let ntk = covariance + sw2 * previous_tangent + su2 * below_tangent;
                let (v, d) = dual_activation(
                    config.activation,
                    self_x[a * layers + l],
                    self_y[b * layers + l],
                    covariance,
                );
                value[index(a, b, l)] = v;
                tangent[index(a, b, l)] = d * ntk;
                below_value = v;
                below_tangent = d * ntk;
            }
        }
    }

    let last = layers - 1;
    let (sum_value, sum_tangent) = match config.readout {
        Readout::Last => (
            value[index(steps_x - 1, steps_y - 1, last)],
            tangent[index(steps_x - 1, steps_y - 1, last)],
        ),
        Readout::Mean => {
            let count = (steps_x * steps_y) as f64;
            let mut sums = (0.0, 0.0);
            for a in 0..steps_x {
                for b in 0..steps_y {
                    sums.0 += value[index(a, b, last)];
                    sums.1 += tangent[index(a, b, last)];
                }
            }
            (sums.0 / count, sums.1 / count)
        }
    };
    (sv2 * sum_value, sv2 * (sum_value + sum_tangent))
}
