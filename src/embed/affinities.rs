//! Input affinities of t-SNE: per-point Gaussian conditional probabilities
//! calibrated to a perplexity, symmetrised into joint probabilities
//! (van der Maaten and Hinton, "Visualizing Data using t-SNE", JMLR 2008,
//! section 2 and eq. 1).
//!
//! The calibration reproduces scikit-learn's exact method (1.9.1,
//! `sklearn.manifold._t_sne._joint_probabilities` and
//! `_utils._binary_search_perplexity`) step by step, so that the result
//! matches it to rounding:
//! - the values fed to the Gaussian are f32 (scikit-learn casts them);
//! - p_{j|i} = exp(-beta_i g_ij) / sum_{k != i} exp(-beta_i g_ik), where g is
//!   the distance or its square (see [`joint_probabilities`]);
//! - beta_i starts at 1 and is doubled or halved until the entropy
//!   H_i = ln(sum) + beta_i sum_j g_ij p_{j|i} (nats) brackets ln(perplexity),
//!   then bisected, until |H_i - ln(perplexity)| <= 1e-5 or 100 steps;
//! - a zero sum of exponentials is replaced by 1e-8;
//! - P = (C + C^T) / sum(C + C^T), floored at f64 machine epsilon off the
//!   diagonal, where C contains the conditional probabilities. The sum is 2n up
//!   to rounding, so this is the usual (C + C^T) / (2n).
//!
//! The perplexity, the tolerance and the 1e-8 are rounded to f32 first,
//! because scikit-learn declares them as C floats.

use crate::embed::DistanceMatrix;
use crate::error::{Error, Result};

/// Steps of the precision search per point (scikit-learn's `n_steps`).
const MAX_SEARCH_STEPS: usize = 100;

/// Computes the joint probabilities P (row-major n x n, float64, zero
/// diagonal) of `distances` at `perplexity`.
///
/// With `square_distances` the Gaussian is applied to the squared distances.
/// scikit-learn's `TSNE(metric="precomputed")` does the same (it runs
/// `distances **= 2` before calibrating), and so does openTSNE. The precision
/// is then 1 / (2 sigma^2) of a Gaussian in the distance. Without it, the
/// given values enter the exponent unchanged, which is right when they are
/// squared distances already (for example Kxx + Kyy - 2 Kxy).
///
/// Errors when the perplexity is not finite or not in (0, n).
pub fn joint_probabilities(
    distances: &DistanceMatrix,
    perplexity: f64,
    square_distances: bool,
) -> Result<Vec<f64>> {
    let n = distances.n();
    check_perplexity(perplexity, n)?;
    let gaussian_input: Vec<f32> = if square_distances {
        distances.values().iter().map(|&d| d * d).collect()
    } else {
        distances.values().to_vec()
    };

    let conditional = conditional_probabilities(&gaussian_input, n, perplexity);
    let mut joint = vec![0.0f64; n * n];
    let mut total = 0.0;
    for i in 0..n {
        for j in 0..n {
            let value = conditional[i * n + j] + conditional[j * n + i];
            joint[i * n + j] = value;
            total += value;
        }
    }
    let total = total.max(f64::EPSILON);
    for i in 0..n {
        for j in 0..n {
            joint[i * n + j] = if i == j {
                0.0
            } else {
                (joint[i * n + j] / total).max(f64::EPSILON)
            };
        }
    }
    Ok(joint)
}

/// Checks 0 < perplexity < n, the range scikit-learn's TSNE accepts.
pub(crate) fn check_perplexity(perplexity: f64, n: usize) -> Result<()> {
    if !(perplexity.is_finite() && perplexity > 0.0 && perplexity < n as f64) {
        return Err(Error::InvalidArgument {
            name: "perplexity",
            value: perplexity.to_string(),
            expected: format!(
                "a number in (0, {n}): the perplexity is an effective number of neighbours, so it must be \
                 below the number of points ({n})"
            ),
        });
    }
    Ok(())
}

/// Computes the conditional probabilities p_{j|i} (row i), calibrating the
/// rows in parallel on all available threads.
fn conditional_probabilities(gaussian_input: &[f32], n: usize, perplexity: f64) -> Vec<f64> {
    let mut conditional = vec![0.0f64; n * n];
    let threads = std::thread::available_parallelism()
        .map_or(1, |count| count.get())
        .min(n.max(1));
    let rows_per_thread = n.div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        for (block, rows) in conditional.chunks_mut(rows_per_thread * n).enumerate() {
            scope.spawn(move || {
                for (offset, row) in rows.chunks_mut(n).enumerate() {
                    let i = block * rows_per_thread + offset;
                    calibrate_row(&gaussian_input[i * n..(i + 1) * n], i, perplexity, row);
                }
            });
        }
    });
    conditional
}

/// Searches the precision of row `i` and writes p_{j|i} into `output`.
fn calibrate_row(inputs: &[f32], i: usize, perplexity: f64, output: &mut [f64]) {
    let target_entropy = f64::from(perplexity as f32).ln();
    let tolerance = f64::from(1e-5f32);
    let empty_sum = f64::from(1e-8f32);

    let mut beta = 1.0f64;
    let mut beta_low = f64::NEG_INFINITY;
    let mut beta_high = f64::INFINITY;
    for _ in 0..MAX_SEARCH_STEPS {
        let mut sum = 0.0;
        for (j, (&g, p)) in inputs.iter().zip(output.iter_mut()).enumerate() {
            if j != i {
                *p = (-f64::from(g) * beta).exp();
                sum += *p;
            }
        }
        if sum == 0.0 {
            sum = empty_sum;
        }
        let mut weighted_input = 0.0;
        for (&g, p) in inputs.iter().zip(output.iter_mut()) {
            *p /= sum;
            weighted_input += f64::from(g) * *p;
        }

        let entropy = sum.ln() + beta * weighted_input;
        let excess = entropy - target_entropy;
        if excess.abs() <= tolerance {
            break;
        }
        // Entropy falls as beta grows: too much entropy means beta is too small.
        if excess > 0.0 {
            beta_low = beta;
            beta = if beta_high == f64::INFINITY {
                beta * 2.0
            } else {
                (beta + beta_high) / 2.0
            };
        } else {
            beta_high = beta;
            beta = if beta_low == f64::NEG_INFINITY {
                beta / 2.0
            } else {
                (beta + beta_low) / 2.0
            };
        }
    }
}
