//! Multivariate Gaussian model: unbiased mean and covariance, sampling
//! through a Cholesky factor, and many independent self-consuming chains
//! advanced together on the GPU.

use nalgebra::{DMatrix, SymmetricEigen};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::generative::statistics::PartStatistics;
use crate::generative::{check_lambda, check_points, GenerativeModel};
use crate::gpu::{Gpu, Recorder};
use crate::ops::{self, BinaryOp, Broadcast, GemmSpec, Matrix};
use crate::random::PhiloxStream;

/// Computes a factor F with F F^T = covariance: the Cholesky factor when the
/// covariance is positive definite, else the symmetric square root (which
/// also exists for the rank-deficient covariance of fewer points than
/// dimensions; samples then stay in the covariance's range).
fn covariance_factor(covariance: &[f64], dim: usize) -> Vec<f64> {
    let matrix = DMatrix::from_row_slice(dim, dim, covariance);
    if let Some(cholesky) = matrix.clone().cholesky() {
        let l = cholesky.l();
        return (0..dim * dim).map(|k| l[(k / dim, k % dim)]).collect();
    }
    let eigen = SymmetricEigen::new(matrix);
    let roots = eigen.eigenvalues.map(|v| v.max(0.0).sqrt());
    let root =
        &eigen.eigenvectors * DMatrix::from_diagonal(&roots) * eigen.eigenvectors.transpose();
    (0..dim * dim).map(|k| root[(k / dim, k % dim)]).collect()
}

/// Records `count` samples of N(mean, lambda F F^T) into a new matrix.
pub(crate) fn record_samples(
    recorder: &mut Recorder,
    mean: &[f64],
    factor: &[f64],
    count: usize,
    lambda: f64,
    stream: PhiloxStream,
) -> Result<Matrix> {
    let gpu = recorder.gpu();
    let dim = mean.len();
    let noise = Matrix::zeros(gpu, count, dim, "gaussian noise")?;
    ops::fill_normal(recorder, noise.buffer(), stream, 0)?;
    let factor: Vec<f32> = factor.iter().map(|&v| v as f32).collect();
    let factor = Matrix::upload(gpu, &factor, dim, dim, "gaussian factor")?;
    let mean: Vec<f32> = mean.iter().map(|&v| v as f32).collect();
    let mean = gpu.upload(&mean, "gaussian mean")?;
    let zeros = gpu.create_buffer::<f32>(count * dim, "gaussian samples")?;
    let samples = ops::map_binary(
        recorder,
        &zeros,
        &mean,
        BinaryOp::Add,
        Broadcast::Row { columns: dim },
    )?;
    let samples = Matrix::from_buffer(samples, count, dim)?;
    // X = sqrt(lambda) Z F^T + 1 mean^T
    let spec = GemmSpec {
        transpose_b: true,
        alpha: lambda.sqrt() as f32,
        beta: 1.0,
        ..GemmSpec::default()
    };
    ops::gemm(recorder, &noise, &factor, &samples, spec)?;
    Ok(samples)
}

/// A multivariate normal distribution N(mean, covariance).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Gaussian {
    /// Mean, `dim` values.
    pub mean: Vec<f64>,
    /// Covariance, dim x dim row-major.
    pub covariance: Vec<f64>,
    #[serde(skip)]
    pub(crate) factor: Vec<f64>,
}

impl Gaussian {
    /// N(mean, covariance); the covariance must be symmetric positive semi-definite.
    pub fn new(mean: Vec<f64>, covariance: Vec<f64>) -> Result<Self> {
        let dim = mean.len();
        if dim == 0 || covariance.len() != dim * dim {
            return Err(Error::ShapeMismatch {
                operation: "gaussian",
                message: format!(
                    "a mean of {dim} values needs a {dim} x {dim} covariance, not {} values",
                    covariance.len()
                ),
            });
        }
        let factor = covariance_factor(&covariance, dim);
        Ok(Self {
            mean,
            covariance,
            factor,
        })
    }

    /// Returns the standard normal N(0, I) in `dim` dimensions.
    pub fn standard(dim: usize) -> Result<Self> {
        let covariance = (0..dim * dim)
            .map(|k| if k / dim == k % dim { 1.0 } else { 0.0 })
            .collect();
        Self::new(vec![0.0; dim], covariance)
    }

    /// Dimension.
    pub fn dim(&self) -> usize {
        self.mean.len()
    }

    /// Trace of the covariance.
    pub fn trace(&self) -> f64 {
        (0..self.dim())
            .map(|i| self.covariance[i * self.dim() + i])
            .sum()
    }

    pub(crate) fn from_statistics(statistics: &PartStatistics) -> Result<Self> {
        Self::new(statistics.mean.clone(), statistics.covariance())
    }
}

impl GenerativeModel for Gaussian {
    fn name(&self) -> &'static str {
        "gaussian"
    }

    /// Fits the unbiased mean and covariance (divisor n - 1). With n <= dim
    /// the covariance is singular, and sampling uses its symmetric square root.
    fn fit(&mut self, gpu: &Gpu, points: &[f32], dim: usize) -> Result<()> {
        let count = check_points(points, dim, 2, "training points")?;
        if count <= dim {
            log::warn!("fitting a {dim}-dimensional Gaussian to {count} points: the covariance has rank at most {} and samples stay in that subspace", count - 1);
        }
        let statistics = crate::generative::statistics::part_statistics(gpu, points, dim)?;
        *self = Self::from_statistics(&statistics)?;
        Ok(())
    }

    fn sample(&self, gpu: &Gpu, count: usize, lambda: f64, seed: u64) -> Result<Vec<f32>> {
        check_lambda(lambda)?;
        let mut recorder = gpu.recorder("gaussian sampling");
        let samples = record_samples(
            &mut recorder,
            &self.mean,
            &self.factor,
            count,
            lambda,
            PhiloxStream::new(seed, 0),
        )?;
        recorder.submit()?;
        samples.read(gpu)
    }
}
