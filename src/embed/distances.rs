//! Distance matrices for t-SNE and the embedding metrics: validated user
//! distances, or distances induced by a kernel (Gram) matrix.
//!
//! A kernel K(x, y) = <phi(x), phi(y)> gives two standard distances:
//! - the feature-space distance |phi(x) - phi(y)| = sqrt(Kxx + Kyy - 2 Kxy),
//! - the cosine distance 1 - Kxy / sqrt(Kxx Kyy), one minus the cosine of
//!   the angle between phi(x) and phi(y) (the form used by the MASK paper,
//!   "Wearing a MASK", ICASSP 2021, for kernel t-SNE on sequences).

use crate::error::{Error, Result};
use crate::gpu::Gpu;
use crate::ops::Matrix;

/// Relative tolerance of the symmetry and zero-diagonal checks.
///
/// A kernel passes when |K[i,j] - K[j,i]| <= SYMMETRY_TOLERANCE *
/// max(|K[i,j]|, |K[j,i]|, |K[i,i]|, |K[j,j]|) for every pair. A distance
/// matrix passes when |D[i,j] - D[j,i]| and every |D[i,i]| are at most
/// SYMMETRY_TOLERANCE times its largest entry. f32 Gram matrices computed in
/// tiles differ from exact symmetry by a few units in the last place (about
/// 1e-7 relative), well inside this bound.
pub const SYMMETRY_TOLERANCE: f64 = 1e-5;

/// The distance that [`kernel_distances`] derives from a kernel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum KernelDistance {
    /// sqrt(max(0, Kxx + Kyy - 2 Kxy)): the Euclidean distance between the
    /// feature vectors. Needs a non-negative diagonal.
    FeatureSpace,
    /// 1 - Kxy / sqrt(Kxx Kyy), clipped to [0, 2] as scikit-learn's
    /// `cosine_distances` does. Needs a positive diagonal.
    Cosine,
}

impl KernelDistance {
    /// Parses `feature-space` or `cosine`.
    pub fn parse(name: &str) -> Result<Self> {
        match name {
            "feature-space" => Ok(Self::FeatureSpace),
            "cosine" => Ok(Self::Cosine),
            _ => Err(Error::InvalidArgument {
                name: "kernel distance",
                value: format!("{name:?}"),
                expected: "feature-space or cosine".to_string(),
            }),
        }
    }
}

/// A validated n x n distance matrix (row-major f32): finite, non-negative,
/// exactly symmetric, with a zero diagonal.
#[derive(Debug, Clone, PartialEq)]
pub struct DistanceMatrix {
    values: Vec<f32>,
    n: usize,
}

impl DistanceMatrix {
    /// Validates a user distance matrix of `n * n` row-major values.
    ///
    /// Checks the shape, that every entry is finite and non-negative, the
    /// symmetry and the zero diagonal (both within [`SYMMETRY_TOLERANCE`]).
    /// Asymmetries within the tolerance are removed by averaging D[i,j] and
    /// D[j,i], and the diagonal is set to exactly zero.
    pub fn new(values: Vec<f32>, n: usize) -> Result<Self> {
        check_square(values.len(), n, "distance matrix")?;
        check_finite(&values, n, "distance matrix")?;
        if let Some(index) = values.iter().position(|&value| value < 0.0) {
            return Err(Error::InvalidArgument {
                name: "distance matrix",
                value: format!("D[{}, {}] = {}", index / n, index % n, values[index]),
                expected: "non-negative distances".to_string(),
            });
        }

        let largest = values
            .iter()
            .fold(0.0f64, |max, &value| max.max(f64::from(value)));
        let allowed = SYMMETRY_TOLERANCE * largest;
        if let Some(i) = (0..n).find(|&i| f64::from(values[i * n + i]) > allowed) {
            return Err(Error::InvalidArgument {
                name: "distance matrix",
                value: format!("D[{i}, {i}] = {}", values[i * n + i]),
                expected: format!(
                    "a zero diagonal: every |D[i, i]| at most {SYMMETRY_TOLERANCE:e} times the largest distance ({largest:e})"
                ),
            });
        }
        let worst = worst_asymmetry(&values, n, |_, _| largest);
        if let Some(pair) = worst.filter(|pair| pair.ratio > SYMMETRY_TOLERANCE) {
            return Err(Error::InvalidArgument {
                name: "distance matrix",
                value: pair.describe(&values, n, "D"),
                expected: format!(
                    "a symmetric matrix: |D[i, j] - D[j, i]| at most {SYMMETRY_TOLERANCE:e} times the largest \
                     distance ({largest:e}); the largest violation is shown. Symmetrise it as (D + D^T) / 2"
                ),
            });
        }

        let mut symmetric = symmetrised(&values, n);
        for i in 0..n {
            symmetric[i * n + i] = 0.0;
        }
        let values = symmetric.into_iter().map(|value| value as f32).collect();
        Ok(Self { values, n })
    }

    /// Number of points.
    pub fn n(&self) -> usize {
        self.n
    }

    /// Returns the row-major n x n values.
    pub fn values(&self) -> &[f32] {
        &self.values
    }

    /// Distance between points `i` and `j`.
    pub fn get(&self, i: usize, j: usize) -> f32 {
        self.values[i * self.n + j]
    }

    /// Consumes the matrix and returns its row-major values.
    pub fn into_values(self) -> Vec<f32> {
        self.values
    }
}

/// Computes the distance matrix that a kernel (Gram) matrix induces.
///
/// `kernel` contains n x n row-major values. It must be finite and symmetric
/// within [`SYMMETRY_TOLERANCE`] (the error names the worst pair), with a
/// non-negative diagonal for [`KernelDistance::FeatureSpace`] and a positive
/// one for [`KernelDistance::Cosine`]. The arithmetic is float64 on the
/// symmetrised kernel (K + K^T) / 2; the result is rounded to f32 and has an
/// exactly zero diagonal.
pub fn kernel_distances(kernel: &[f32], n: usize, kind: KernelDistance) -> Result<DistanceMatrix> {
    check_square(kernel.len(), n, "kernel matrix")?;
    check_finite(kernel, n, "kernel matrix")?;
    check_kernel_diagonal(kernel, n, kind)?;
    let diagonal_scale = |i: usize, j: usize| {
        f64::from(kernel[i * n + i].abs()).max(f64::from(kernel[j * n + j].abs()))
    };
    if let Some(pair) =
        worst_asymmetry(kernel, n, diagonal_scale).filter(|pair| pair.ratio > SYMMETRY_TOLERANCE)
    {
        return Err(Error::InvalidArgument {
            name: "kernel matrix",
            value: pair.describe(kernel, n, "K"),
            expected: format!(
                "a symmetric matrix: |K[i, j] - K[j, i]| at most {SYMMETRY_TOLERANCE:e} times \
                 max(|K[i, j]|, |K[j, i]|, |K[i, i]|, |K[j, j]|); the largest violation is shown. \
                 Symmetrise it as (K + K^T) / 2"
            ),
        });
    }

    let symmetric = symmetrised(kernel, n);
    let mut distances = vec![0.0f32; n * n];
    for i in 0..n {
        for j in 0..n {
            if i == j {
                continue;
            }
            let (kii, kjj, kij) = (
                symmetric[i * n + i],
                symmetric[j * n + j],
                symmetric[i * n + j],
            );
            let distance = match kind {
                KernelDistance::FeatureSpace => (kii + kjj - 2.0 * kij).max(0.0).sqrt(),
                KernelDistance::Cosine => (1.0 - kij / (kii * kjj).sqrt()).clamp(0.0, 2.0),
            };
            distances[i * n + j] = distance as f32;
        }
    }
    Ok(DistanceMatrix {
        values: distances,
        n,
    })
}

/// Reads a square kernel matrix back from the GPU and calls [`kernel_distances`].
pub fn kernel_distances_from_gpu(
    gpu: &Gpu,
    kernel: &Matrix,
    kind: KernelDistance,
) -> Result<DistanceMatrix> {
    if kernel.rows() != kernel.columns() {
        return Err(Error::ShapeMismatch {
            operation: "kernel distances",
            message: format!(
                "the kernel matrix is {} x {}, but it must be square",
                kernel.rows(),
                kernel.columns()
            ),
        });
    }
    kernel_distances(&kernel.read(gpu)?, kernel.rows(), kind)
}

fn check_square(len: usize, n: usize, matrix_name: &'static str) -> Result<()> {
    if n.checked_mul(n) != Some(len) {
        return Err(Error::ShapeMismatch {
            operation: "distance computation",
            message: format!(
                "the {matrix_name} has {len} values, but an {n} x {n} matrix needs {}",
                n.saturating_mul(n)
            ),
        });
    }
    Ok(())
}

fn check_finite(values: &[f32], n: usize, matrix_name: &'static str) -> Result<()> {
    if let Some(index) = values.iter().position(|value| !value.is_finite()) {
        return Err(Error::InvalidArgument {
            name: matrix_name,
            value: format!("entry [{}, {}] = {}", index / n, index % n, values[index]),
            expected: "finite values (no NaN or infinity)".to_string(),
        });
    }
    Ok(())
}

fn check_kernel_diagonal(kernel: &[f32], n: usize, kind: KernelDistance) -> Result<()> {
    for i in 0..n {
        let value = kernel[i * n + i];
        let (valid, requirement) = match kind {
            KernelDistance::FeatureSpace => (
                value >= 0.0,
                "a non-negative diagonal (K[i, i] = |phi(x_i)|^2)",
            ),
            KernelDistance::Cosine => (
                value > 0.0,
                "a positive diagonal, because the cosine distance divides by sqrt(K[i, i] K[j, j])",
            ),
        };
        if !valid {
            return Err(Error::InvalidArgument {
                name: "kernel matrix",
                value: format!("K[{i}, {i}] = {value}"),
                expected: requirement.to_string(),
            });
        }
    }
    Ok(())
}

/// The pair with the largest asymmetry relative to its scale.
struct Asymmetry {
    i: usize,
    j: usize,
    ratio: f64,
}

impl Asymmetry {
    fn describe(&self, values: &[f32], n: usize, symbol: &str) -> String {
        let (i, j) = (self.i, self.j);
        format!(
            "{symbol}[{i}, {j}] = {} but {symbol}[{j}, {i}] = {} (relative difference {:.3e})",
            values[i * n + j],
            values[j * n + i],
            self.ratio
        )
    }
}

/// Finds the pair i < j with the largest |M[i,j] - M[j,i]| / scale, where
/// scale = max(|M[i,j]|, |M[j,i]|, extra_scale(i, j)). Returns None when
/// there is no pair or every difference is zero.
fn worst_asymmetry(
    values: &[f32],
    n: usize,
    extra_scale: impl Fn(usize, usize) -> f64,
) -> Option<Asymmetry> {
    let mut worst: Option<Asymmetry> = None;
    for i in 0..n {
        for j in i + 1..n {
            let (upper, lower) = (f64::from(values[i * n + j]), f64::from(values[j * n + i]));
            let difference = (upper - lower).abs();
            if difference == 0.0 {
                continue;
            }
            let scale = upper.abs().max(lower.abs()).max(extra_scale(i, j));
            let ratio = difference / scale;
            if worst.as_ref().is_none_or(|pair| ratio > pair.ratio) {
                worst = Some(Asymmetry { i, j, ratio });
            }
        }
    }
    worst
}

/// (M + M^T) / 2 in float64.
fn symmetrised(values: &[f32], n: usize) -> Vec<f64> {
    let mut result = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..n {
            result[i * n + j] = 0.5 * (f64::from(values[i * n + j]) + f64::from(values[j * n + i]));
        }
    }
    result
}
