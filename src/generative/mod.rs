//! Generative models fitted and sampled on the GPU, real distributions, and
//! the self-consuming loops that train each generation on the previous
//! generation's samples.
//!
//! Sampling bias lambda in (0, 1] trades diversity for quality: a Gaussian
//! samples N(mu, lambda Sigma), a mixture applies the same to every
//! component; lambda = 1 is unbiased.

mod chains;
pub mod ddpm;
mod distributions;
mod gaussian;
mod gmm;
mod loops;
mod statistics;

pub use chains::{run_gaussian_chains, ChainGeneration};
pub use distributions::{grid_mixture_modes, recovered_modes, RealDistribution, GRID_MODE_STD};
pub use gaussian::Gaussian;
pub use gmm::{GaussianMixture, GmmOptions};
pub use loops::{run_loop, GenerationRecord, LoopConfig, LoopFamily, SyntheticSource};
pub use statistics::{combine_statistics, part_statistics, PartStatistics};

use crate::error::{Error, Result};
use crate::gpu::Gpu;

/// A model that can be fitted to points and sampled with a bias lambda.
pub trait GenerativeModel {
    /// Short name for reports (`gaussian`, `gmm`).
    fn name(&self) -> &'static str;

    /// Fits the model to `points` (row-major, `dim` values per point).
    fn fit(&mut self, gpu: &Gpu, points: &[f32], dim: usize) -> Result<()>;

    /// Draws `count` points with bias `lambda`, reproducibly from `seed`.
    fn sample(&self, gpu: &Gpu, count: usize, lambda: f64, seed: u64) -> Result<Vec<f32>>;
}

/// Checks that lambda lies in (0, 1].
pub fn check_lambda(lambda: f64) -> Result<()> {
    if lambda > 0.0 && lambda <= 1.0 {
        Ok(())
    } else {
        Err(Error::InvalidArgument {
            name: "lambda",
            value: lambda.to_string(),
            expected: "a sampling bias in (0, 1]; 1 is unbiased".to_string(),
        })
    }
}

/// Checks a point set: length a multiple of `dim`, at least `minimum`
/// points, finite values.
pub fn check_points(points: &[f32], dim: usize, minimum: usize, name: &str) -> Result<usize> {
    if dim == 0 || points.len() % dim != 0 {
        return Err(Error::ShapeMismatch {
            operation: "point set",
            message: format!(
                "{name} has {} values, which is not a multiple of the dimension {dim}",
                points.len()
            ),
        });
    }
    let count = points.len() / dim;
    if count < minimum {
        return Err(Error::InvalidArgument {
            name: "points",
            value: format!("{count} points in {name}"),
            expected: format!("at least {minimum} points"),
        });
    }
    if let Some(position) = points.iter().position(|v| !v.is_finite()) {
        return Err(Error::InvalidArgument {
            name: "points",
            value: format!(
                "{} in {name} at row {}, column {}",
                points[position],
                position / dim,
                position % dim
            ),
            expected: "finite values".to_string(),
        });
    }
    Ok(count)
}
