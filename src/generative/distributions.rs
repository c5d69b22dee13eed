//! Real data distributions of the loops: a Gaussian, the 25-mode grid
//! mixture, or a user's point set.

use crate::error::{Error, Result};
use crate::generative::{check_points, Gaussian, GenerativeModel};
use crate::gpu::Gpu;
use crate::random::PhiloxStream;

/// Standard deviation of each mode of the grid mixture.
pub const GRID_MODE_STD: f64 = 0.05;

/// Returns the 25 mode centres of the grid mixture: {-4, -2, 0, 2, 4}^2.
pub fn grid_mixture_modes() -> Vec<[f64; 2]> {
    let coordinates = [-4.0, -2.0, 0.0, 2.0, 4.0];
    coordinates
        .iter()
        .flat_map(|&x| coordinates.iter().map(move |&y| [x, y]))
        .collect()
}

/// A distribution to draw real data from.
#[derive(Debug, Clone)]
pub enum RealDistribution {
    /// A multivariate normal.
    Gaussian(Gaussian),
    /// Equal-weight mixture of isotropic 2-D normals (standard deviation
    /// [`GRID_MODE_STD`]) at the 25 points of [`grid_mixture_modes`].
    GridMixture,
    /// A fixed point set, resampled uniformly with replacement.
    Points {
        /// Row-major points.
        values: Vec<f32>,
        /// Values per point.
        dim: usize,
    },
}

impl RealDistribution {
    /// Returns the standard normal in `dim` dimensions.
    pub fn standard_normal(dim: usize) -> Result<Self> {
        Ok(Self::Gaussian(Gaussian::standard(dim)?))
    }

    /// Wraps a user point set (at least two finite points).
    pub fn points(values: Vec<f32>, dim: usize) -> Result<Self> {
        check_points(&values, dim, 2, "the real point set")?;
        Ok(Self::Points { values, dim })
    }

    /// Dimension of the points.
    pub fn dim(&self) -> usize {
        match self {
            Self::Gaussian(gaussian) => gaussian.dim(),
            Self::GridMixture => 2,
            Self::Points { dim, .. } => *dim,
        }
    }

    /// Draws `count` points reproducibly from `seed`.
    pub fn sample(&self, gpu: &Gpu, count: usize, seed: u64) -> Result<Vec<f32>> {
        match self {
            Self::Gaussian(gaussian) => gaussian.sample(gpu, count, 1.0, seed),
            Self::GridMixture => {
                let modes = grid_mixture_modes();
                let choices = PhiloxStream::new(seed, 1).uniform(0, count);
                let noise = PhiloxStream::new(seed, 2).normal(0, 2 * count);
                let mut points = Vec::with_capacity(2 * count);
                for (i, u) in choices.iter().enumerate() {
                    let mode =
                        modes[((f64::from(*u) * modes.len() as f64) as usize).min(modes.len() - 1)];
                    points.push((mode[0] + GRID_MODE_STD * f64::from(noise[2 * i])) as f32);
                    points.push((mode[1] + GRID_MODE_STD * f64::from(noise[2 * i + 1])) as f32);
                }
                Ok(points)
            }
            Self::Points { values, dim } => {
                let rows = values.len() / dim;
                let picks = PhiloxStream::new(seed, 3).uniform(0, count);
                let mut points = Vec::with_capacity(count * dim);
                for u in picks {
                    let row = ((f64::from(u) * rows as f64) as usize).min(rows - 1);
                    points.extend_from_slice(&values[row * dim..(row + 1) * dim]);
                }
                Ok(points)
            }
        }
    }

    /// Describes the distribution for reports.
    pub fn describe(&self) -> String {
        match self {
            Self::Gaussian(gaussian) => format!("normal in {} dimensions", gaussian.dim()),
            Self::GridMixture => "25-mode 2-D grid mixture".to_string(),
            Self::Points { values, dim } => {
                format!("{} points in {dim} dimensions", values.len() / dim)
            }
        }
    }
}

/// Number of grid modes "recovered" by `points`: a mode counts when at least
/// `min_share` of the points lie within 3 standard deviations
/// (3 x [`GRID_MODE_STD`]) of its centre.
pub fn recovered_modes(points: &[f32], min_share: f64) -> Result<usize> {
    if points.len() % 2 != 0 {
        return Err(Error::ShapeMismatch {
            operation: "mode count",
            message: format!("{} values are not 2-D points", points.len()),
        });
    }
    let n = points.len() / 2;
    let radius_squared = (3.0 * GRID_MODE_STD).powi(2);
    let recovered = grid_mixture_modes()
        .iter()
        .filter(|mode| {
            let inside = points
                .chunks(2)
                .filter(|p| {
                    (f64::from(p[0]) - mode[0]).powi(2) + (f64::from(p[1]) - mode[1]).powi(2)
                        <= radius_squared
                })
                .count();
            n > 0 && inside as f64 >= min_share * n as f64
        })
        .count();
    Ok(recovered)
}
