//! Gaussian statistics of feature sets and the Fréchet (Wasserstein-2)
//! distance between Gaussians.
//!
//! For N(mu1, S1) and N(mu2, S2) the squared Wasserstein-2 distance has the
//! closed form
//!
//!   W2^2 = |mu1 - mu2|^2 + tr(S1 + S2 - 2 (S1^(1/2) S2 S1^(1/2))^(1/2)),
//!
//! which the FID literature calls the Fréchet distance (Heusel et al.,
//! "GANs Trained by a Two Time-Scale Update Rule Converge to a Local Nash
//! Equilibrium", NeurIPS 2017). Both matrix square roots come from symmetric
//! eigendecompositions in float64 with negative eigenvalues clipped to 0, so
//! nearly singular covariances give a real, finite result. A general
//! `scipy.linalg.sqrtm` of S1 S2, as in pytorch-fid, can return complex
//! noise there.

use nalgebra::{DMatrix, SymmetricEigen};

use crate::error::{Error, Result};
use crate::gpu::Gpu;
use crate::metrics::points::{check_dim, check_finite};
use crate::ops::{gemm, GemmSpec, Matrix};

/// Relative tolerance of the symmetry check on covariance matrices:
/// |S[i, j] - S[j, i]| must be at most this times the largest |S| entry.
pub const COVARIANCE_SYMMETRY_TOLERANCE: f64 = 1e-5;

/// Mean and covariance of a point set.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct GaussianStatistics {
    /// Mean of each coordinate (`dim` values).
    pub mean: Vec<f64>,
    /// Unbiased covariance (divided by count - 1), dim x dim row-major.
    pub covariance: Vec<f64>,
    /// Number of coordinates per point.
    pub dim: usize,
    /// Number of points.
    pub count: usize,
}

/// Computes the mean and the unbiased covariance of `points` (n x dim
/// row-major, n >= 2) with GPU matrix products, returned in f64.
///
/// The products run in f32: the mean is (1/n) 1^T X, the points are centred
/// on the GPU, and the covariance is X_c^T X_c / (n - 1), so no
/// E[x x^T] - mu mu^T cancellation occurs. Entries are f32 sums of n terms,
/// so their rounding error grows with n. Point sets larger than one storage
/// binding are processed in row blocks.
pub fn gaussian_statistics(gpu: &Gpu, points: &[f32], dim: usize) -> Result<GaussianStatistics> {
    check_dim(dim)?;
    gaussian_statistics_in_blocks(gpu, points, dim, statistics_block_rows(gpu, dim)?)
}

/// Computes [`gaussian_statistics`] from row blocks of at most `block_rows`
/// points, each uploaded as its own buffer.
pub fn gaussian_statistics_in_blocks(
    gpu: &Gpu,
    points: &[f32],
    dim: usize,
    block_rows: usize,
) -> Result<GaussianStatistics> {
    check_dim(dim)?;
    if block_rows == 0 {
        return Err(Error::InvalidArgument {
            name: "block_rows",
            value: "0".to_string(),
            expected: "at least 1 point per block".to_string(),
        });
    }
    if points.len() % dim != 0 {
        return Err(Error::ShapeMismatch {
            operation: "gaussian_statistics",
            message: format!(
                "the points have {} values, which is not a multiple of dim = {dim}",
                points.len()
            ),
        });
    }
    let count = points.len() / dim;
    if count < 2 {
        return Err(Error::InvalidArgument {
            name: "point count",
            value: count.to_string(),
            expected: "at least 2 points for an unbiased covariance".to_string(),
        });
    }
    check_finite(points, dim, "points")?;

    let blocks = points
        .chunks(block_rows * dim)
        .map(|block| Matrix::upload(gpu, block, block.len() / dim, dim, "statistics points"))
        .collect::<Result<Vec<_>>>()?;
    // One all-ones vector per block, viewed as a row (1 x rows) for the mean
    // and as a column (rows x 1) for the centring.
    let ones = blocks
        .iter()
        .map(|block| gpu.upload(&vec![1.0f32; block.rows()], "statistics ones"))
        .collect::<Result<Vec<_>>>()?;
    let mean = Matrix::zeros(gpu, 1, dim, "mean")?;
    let covariance = Matrix::zeros(gpu, dim, dim, "covariance")?;

    let mut recorder = gpu.recorder("Gaussian statistics");
    for (index, (block, ones)) in blocks.iter().zip(&ones).enumerate() {
        let ones_row = Matrix::from_buffer(ones.clone(), 1, block.rows())?;
        gemm(
            &mut recorder,
            &ones_row,
            block,
            &mean,
            accumulate(1.0 / count as f32, index),
        )?;
    }
    for (index, (block, ones)) in blocks.iter().zip(&ones).enumerate() {
        // X <- X - 1 mu^T, then S += X^T X / (n - 1).
        let ones_column = Matrix::from_buffer(ones.clone(), block.rows(), 1)?;
        let centre = GemmSpec {
            alpha: -1.0,
            beta: 1.0,
            ..GemmSpec::default()
        };
        gemm(&mut recorder, &ones_column, &mean, block, centre)?;
        let spec = GemmSpec {
            transpose_a: true,
            ..accumulate(1.0 / (count - 1) as f32, index)
        };
        gemm(&mut recorder, block, block, &covariance, spec)?;
    }
    recorder.submit()?;

    let mean: Vec<f64> = mean.read(gpu)?.into_iter().map(f64::from).collect();
    let covariance = symmetrised(&covariance.read(gpu)?, dim);
    if mean
        .iter()
        .chain(&covariance)
        .any(|value| !value.is_finite())
    {
        return Err(Error::Dataset {
            origin: "points".to_string(),
            message: "the mean or covariance overflowed f32; rescale the points".to_string(),
        });
    }
    Ok(GaussianStatistics {
        mean,
        covariance,
        dim,
        count,
    })
}

/// Rows per block: one block of points must fit one storage binding.
fn statistics_block_rows(gpu: &Gpu, dim: usize) -> Result<usize> {
    let rows = gpu.max_storage_binding_bytes() / (dim as u64 * 4);
    if rows == 0 {
        return Err(Error::ExceedsLimit {
            what: format!("one point of {dim} coordinates"),
            requested: dim as u64 * 4,
            limit: gpu.max_storage_binding_bytes(),
            limit_name: "max_storage_buffer_binding_size",
        });
    }
    Ok(rows.min(u32::MAX as u64) as usize)
}

/// C = alpha A B for the first block, C += alpha A B for the others.
fn accumulate(alpha: f32, block_index: usize) -> GemmSpec {
    let beta = if block_index == 0 { 0.0 } else { 1.0 };
    GemmSpec {
        alpha,
        beta,
        ..GemmSpec::default()
    }
}

fn symmetrised(values: &[f32], dim: usize) -> Vec<f64> {
    let mut result = vec![0.0; dim * dim];
    for i in 0..dim {
        for j in 0..dim {
            result[i * dim + j] =
                0.5 * (f64::from(values[i * dim + j]) + f64::from(values[j * dim + i]));
        }
    }
    result
}

/// Computes the Fréchet distance between the Gaussians N(a.mean,
/// a.covariance) and N(b.mean, b.covariance):
/// |mu1 - mu2|^2 + tr(S1 + S2 - 2 (S1^(1/2) S2 S1^(1/2))^(1/2)), in float64
/// on the host.
///
/// This is the squared Wasserstein-2 distance (FID when the points are
/// Inception features). The expression is non-negative in exact arithmetic,
/// and a slightly negative rounded value (equal distributions) is returned
/// as 0. The cost is O(dim^3) for two eigendecompositions.
pub fn frechet_distance(a: &GaussianStatistics, b: &GaussianStatistics) -> Result<f64> {
    if a.dim != b.dim {
        return Err(Error::ShapeMismatch {
            operation: "frechet_distance",
            message: format!(
                "the first statistics have dim = {} but the second have dim = {}",
                a.dim, b.dim
            ),
        });
    }
    squared_wasserstein2(&a.mean, &a.covariance, &b.mean, &b.covariance, a.dim)
}

/// Computes the Wasserstein-2 distance between N(mean1, cov1) and
/// N(mean2, cov2): the square root of the Fréchet expression of
/// [`frechet_distance`], which is clipped at 0 first.
///
/// Means have `dim` values and covariances dim x dim row-major values. The
/// covariances must be finite and symmetric within
/// [`COVARIANCE_SYMMETRY_TOLERANCE`]; they are used as (S + S^T) / 2, and
/// negative eigenvalues (an indefinite matrix from rounding) count as 0.
pub fn wasserstein2_gaussians(
    mean1: &[f64],
    cov1: &[f64],
    mean2: &[f64],
    cov2: &[f64],
    dim: usize,
) -> Result<f64> {
    Ok(squared_wasserstein2(mean1, cov1, mean2, cov2, dim)?.sqrt())
}

fn squared_wasserstein2(
    mean1: &[f64],
    cov1: &[f64],
    mean2: &[f64],
    cov2: &[f64],
    dim: usize,
) -> Result<f64> {
    check_dim(dim)?;
    let s1 = checked_covariance(mean1, cov1, dim, "first")?;
    let s2 = checked_covariance(mean2, cov2, dim, "second")?;

    let root1 = psd_square_root(&s1)?;
    let middle = &root1 * &s2 * &root1;
    let middle = (&middle + middle.transpose()) * 0.5;
    let trace_root: f64 = eigenvalues(middle)?
        .iter()
        .map(|value| value.max(0.0).sqrt())
        .sum();
    let mean_term: f64 = mean1.iter().zip(mean2).map(|(x, y)| (x - y).powi(2)).sum();
    Ok((mean_term + s1.trace() + s2.trace() - 2.0 * trace_root).max(0.0))
}

/// Validates one Gaussian and returns its symmetrised covariance.
fn checked_covariance(
    mean: &[f64],
    covariance: &[f64],
    dim: usize,
    label: &str,
) -> Result<DMatrix<f64>> {
    if mean.len() != dim || covariance.len() != dim * dim {
        return Err(Error::ShapeMismatch {
            operation: "wasserstein2_gaussians",
            message: format!(
                "the {label} Gaussian has a mean of {} values and a covariance of {} values, but dim = {dim} \
                 needs {dim} and {}",
                mean.len(),
                covariance.len(),
                dim * dim
            ),
        });
    }
    let invalid = |value: String, expected: String| Error::InvalidArgument {
        name: "Gaussian",
        value,
        expected,
    };
    if let Some(index) = mean.iter().position(|value| !value.is_finite()) {
        return Err(invalid(
            format!("{label} mean[{index}] = {}", mean[index]),
            "finite values".to_string(),
        ));
    }
    if let Some(index) = covariance.iter().position(|value| !value.is_finite()) {
        let (i, j) = (index / dim, index % dim);
        return Err(invalid(
            format!("{label} covariance[{i}, {j}] = {}", covariance[index]),
            "finite values".to_string(),
        ));
    }

    let largest = covariance
        .iter()
        .fold(0.0f64, |max, value| max.max(value.abs()));
    let allowed = COVARIANCE_SYMMETRY_TOLERANCE * largest;
    for i in 0..dim {
        for j in i + 1..dim {
            let (upper, lower) = (covariance[i * dim + j], covariance[j * dim + i]);
            if (upper - lower).abs() > allowed {
                return Err(invalid(
                    format!(
                        "{label} covariance[{i}, {j}] = {upper}, covariance[{j}, {i}] = {lower}"
                    ),
                    format!(
                        "a symmetric matrix: entries may differ from their transpose by at most \
                         {COVARIANCE_SYMMETRY_TOLERANCE:e} times the largest entry ({largest:e})"
                    ),
                ));
            }
        }
    }
    let matrix = DMatrix::from_row_slice(dim, dim, covariance);
    Ok((&matrix + matrix.transpose()) * 0.5)
}

/// Square root of a symmetric matrix, V diag(sqrt(max(lambda, 0))) V^T.
fn psd_square_root(matrix: &DMatrix<f64>) -> Result<DMatrix<f64>> {
    let eigen = decompose(matrix.clone())?;
    let roots = eigen.eigenvalues.map(|value| value.max(0.0).sqrt());
    Ok(&eigen.eigenvectors * DMatrix::from_diagonal(&roots) * eigen.eigenvectors.transpose())
}

fn eigenvalues(matrix: DMatrix<f64>) -> Result<Vec<f64>> {
    Ok(decompose(matrix)?.eigenvalues.iter().copied().collect())
}

fn decompose(matrix: DMatrix<f64>) -> Result<SymmetricEigen<f64, nalgebra::Dyn>> {
    let dim = matrix.nrows();
    // Symmetric QR usually converges in a few iterations per eigenvalue, so
    // the cap only stops a decomposition that fails to converge.
    SymmetricEigen::try_new(matrix, f64::EPSILON, 1000 * dim.max(1)).ok_or_else(|| {
        Error::InvalidArgument {
            name: "covariance",
            value: format!("a {dim} x {dim} matrix"),
            expected:
                "a matrix whose symmetric eigendecomposition converges; check it for extreme values"
                    .to_string(),
        }
    })
}
