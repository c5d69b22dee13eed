//! Kernel PCA (Schölkopf, Smola and Müller, 1998) on the GPU.
//!
//! The kernel is centred in feature space, Kc = H K H with H = I - 11^T/n,
//! optionally shifted by a ridge (Kc + ridge I moves every eigenvalue by the
//! ridge and leaves the eigenvectors), and its top-k eigenpairs are found by
//! subspace iteration with Rayleigh-Ritz steps (Golub and Van Loan,
//! "Matrix Computations", section 8.2.4): each iteration is one n x n x p
//! GEMM on the GPU, then a p x p symmetric eigenproblem, the Ritz residuals
//! and a QR orthonormalisation on the host in float64, with p = k + 10
//! columns. Iteration stops when every requested Ritz pair's residual is
//! small, which also pins down the eigenvectors (not only the eigenvalues).
//!
//! As in scikit-learn's `KernelPCA`, training points project to
//! v_i sqrt(lambda_i), new points with kernel rows k (against the training
//! points) to (centred k) v_i / sqrt(lambda_i), and each eigenvector's
//! largest-magnitude entry is made positive. The method assumes the centred
//! kernel is positive semi-definite (true for NTK, RNTK and linear kernels);
//! eigenvalues that come out non-positive get zero projections.

use nalgebra::{DMatrix, SymmetricEigen};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::gpu::Gpu;
use crate::ops::{self, Matrix};

/// Settings of [`KernelPca::fit`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct KernelPcaOptions {
    /// Number of components k.
    pub n_components: usize,
    /// Added to the centred kernel's diagonal.
    pub ridge: f64,
    /// Stop when every requested Ritz pair's residual ||K v - lambda v|| is
    /// below this, relative to the largest eigenvalue.
    pub tolerance: f64,
    /// Iteration cap.
    pub max_iterations: usize,
    /// Seed of the random starting subspace.
    pub seed: u64,
}

impl Default for KernelPcaOptions {
    fn default() -> Self {
        Self {
            n_components: 2,
            ridge: 0.0,
            // The GPU product is f32, whose rounding leaves residuals near
            // 1e-7 relative; 1e-5 is reached reliably.
            tolerance: 1e-5,
            max_iterations: 500,
            seed: 0,
        }
    }
}

/// A fitted kernel PCA.
#[derive(Debug, Clone, Serialize)]
pub struct KernelPca {
    /// Eigenvalues of the centred (and ridged) kernel, largest first.
    pub eigenvalues: Vec<f64>,
    /// Eigenvectors, n x k row-major.
    pub eigenvectors: Vec<f64>,
    /// Training points in the new coordinates, n x k row-major.
    pub projections: Vec<f64>,
    /// Row means of the training kernel (for centring new rows).
    pub row_means: Vec<f64>,
    /// Mean of all training kernel entries.
    pub grand_mean: f64,
    /// Subspace iterations run.
    pub iterations: usize,
    /// Whether the Ritz values met the tolerance.
    pub converged: bool,
}

/// Computes the linear kernel X X^T of `count` points of `dimension`
/// features on the GPU, for PCA as kernel PCA.
pub fn linear_kernel(
    gpu: &Gpu,
    values: &[f32],
    count: usize,
    dimension: usize,
) -> Result<Vec<f32>> {
    let points = Matrix::upload(gpu, values, count, dimension, "pca points")?;
    let mut recorder = gpu.recorder("linear kernel");
    let gram = ops::gram(&mut recorder, &points, &points)?;
    recorder.submit()?;
    gram.read(gpu)
}

fn check_kernel(kernel: &[f32], n: usize) -> Result<()> {
    if n == 0 || kernel.len() != n * n {
        return Err(Error::ShapeMismatch {
            operation: "kernel PCA",
            message: format!(
                "the kernel has {} values, not {n} x {n} with n >= 1",
                kernel.len()
            ),
        });
    }
    if let Some(position) = kernel.iter().position(|v| !v.is_finite()) {
        return Err(Error::InvalidArgument {
            name: "kernel",
            value: format!(
                "{} at ({}, {})",
                kernel[position],
                position / n,
                position % n
            ),
            expected: "finite values".to_string(),
        });
    }
    let scale = kernel
        .iter()
        .fold(0.0f32, |m, v| m.max(v.abs()))
        .max(f32::MIN_POSITIVE);
    let mut worst = (0.0f32, 0, 0);
    for i in 0..n {
        for j in i + 1..n {
            let gap = (kernel[i * n + j] - kernel[j * n + i]).abs();
            if gap > worst.0 {
                worst = (gap, i, j);
            }
        }
    }
    if worst.0 > 1e-5 * scale {
        return Err(Error::InvalidArgument {
            name: "kernel",
            value: format!(
                "K[{}, {}] - K[{}, {}] = {:e}",
                worst.1, worst.2, worst.2, worst.1, worst.0
            ),
            expected:
                "a symmetric matrix (to 1e-5 of its largest entry); symmetrise it as (K + K^T) / 2"
                    .to_string(),
        });
    }
    Ok(())
}

impl KernelPca {
    /// Fits kernel PCA to the n x n kernel `kernel` (row-major, symmetric).
    pub fn fit(gpu: &Gpu, kernel: &[f32], n: usize, options: &KernelPcaOptions) -> Result<Self> {
        check_kernel(kernel, n)?;
        if options.n_components == 0 || options.n_components > n {
            return Err(Error::InvalidArgument {
                name: "n_components",
                value: options.n_components.to_string(),
                expected: format!("a number of components from 1 to the number of points ({n})"),
            });
        }
        if !(options.ridge.is_finite() && options.ridge >= 0.0) {
            return Err(Error::InvalidArgument {
                name: "ridge",
                value: options.ridge.to_string(),
                expected: "a finite value >= 0".to_string(),
            });
        }

        // Centring in float64 on the host: Kc_ij = K_ij - r_i - r_j + g.
        let row_means: Vec<f64> = (0..n)
            .map(|i| {
                kernel[i * n..(i + 1) * n]
                    .iter()
                    .map(|&v| f64::from(v))
                    .sum::<f64>()
                    / n as f64
            })
            .collect();
        let grand_mean = row_means.iter().sum::<f64>() / n as f64;
        let centred: Vec<f32> = (0..n * n)
            .map(|index| {
                let (i, j) = (index / n, index % n);
                let ridge = if i == j { options.ridge } else { 0.0 };
                (f64::from(kernel[index]) - row_means[i] - row_means[j] + grand_mean + ridge) as f32
            })
            .collect();
        let centred = Matrix::upload(gpu, &centred, n, n, "kpca centred kernel")?;

        let block = (options.n_components + 10).min(n);
        let start =
            crate::random::PhiloxStream::new(options.seed, 0x4B_50_43_41).normal(0, n * block);
        let mut basis = DMatrix::from_row_iterator(n, block, start.into_iter().map(f64::from))
            .qr()
            .q();
        let mut iterations = 0;
        let mut converged = false;
        let (vectors, values) = loop {
            // The O(n^2 p) product runs on the GPU; the O(n p^2) rest on the host.
            let basis_values: Vec<f32> = (0..n)
                .flat_map(|i| (0..block).map(move |j| (i, j)))
                .map(|(i, j)| basis[(i, j)] as f32)
                .collect();
            let basis_gpu = Matrix::upload(gpu, &basis_values, n, block, "kpca basis")?;
            let mut recorder = gpu.recorder("kpca iteration");
            let product = ops::matmul(&mut recorder, &centred, &basis_gpu)?;
            recorder.submit()?;
            let product =
                DMatrix::from_row_iterator(n, block, product.read(gpu)?.into_iter().map(f64::from));
            iterations += 1;

            // Rayleigh-Ritz: eigenpairs of B = Q^T K Q, largest first.
            let projected = basis.transpose() * &product;
            let eigen = SymmetricEigen::new((&projected + projected.transpose()) * 0.5);
            let mut order: Vec<usize> = (0..block).collect();
            order.sort_by(|&a, &c| eigen.eigenvalues[c].total_cmp(&eigen.eigenvalues[a]));
            let k = options.n_components;
            let weights = DMatrix::from_fn(block, k, |r, c| eigen.eigenvectors[(r, order[c])]);
            let values: Vec<f64> = order[..k].iter().map(|&i| eigen.eigenvalues[i]).collect();

            // Residual ||K v - lambda v|| of each Ritz pair, relative to the largest eigenvalue.
            let ritz_vectors = &basis * &weights;
            let images = &product * &weights;
            let largest = values[0].abs().max(1e-300);
            let residual = (0..k)
                .map(|c| (images.column(c) - ritz_vectors.column(c) * values[c]).norm() / largest)
                .fold(0.0, f64::max);
            if residual <= options.tolerance {
                converged = true;
                break (ritz_vectors, values);
            }
            if iterations >= options.max_iterations {
                log::warn!("kernel PCA stopped after {iterations} subspace iterations with residual {residual:.2e} (tolerance {:.1e})", options.tolerance);
                break (ritz_vectors, values);
            }
            basis = product.qr().q();
        };
        Ok(Self::from_eigenpairs(
            vectors, &values, row_means, grand_mean, iterations, converged,
        ))
    }

    fn from_eigenpairs(
        mut vectors: DMatrix<f64>,
        values: &[f64],
        row_means: Vec<f64>,
        grand_mean: f64,
        iterations: usize,
        converged: bool,
    ) -> Self {
        let (n, k) = (vectors.nrows(), vectors.ncols());
        for c in 0..k {
            let mut column = vectors.column_mut(c);
            let norm = column.norm().max(1e-300);
            column /= norm;
            let largest = (0..n)
                .max_by(|&a, &b| column[a].abs().total_cmp(&column[b].abs()))
                .unwrap_or(0);
            if column[largest] < 0.0 {
                column.neg_mut();
            }
        }
        let projections: Vec<f64> = (0..n)
            .flat_map(|i| (0..k).map(move |c| (i, c)))
            .map(|(i, c)| vectors[(i, c)] * values[c].max(0.0).sqrt())
            .collect();
        let eigenvectors: Vec<f64> = (0..n)
            .flat_map(|i| (0..k).map(move |c| (i, c)))
            .map(|(i, c)| vectors[(i, c)])
            .collect();
        Self {
            eigenvalues: values.to_vec(),
            eigenvectors,
            projections,
            row_means,
            grand_mean,
            iterations,
            converged,
        }
    }

    /// Number of components.
    pub fn n_components(&self) -> usize {
        self.eigenvalues.len()
    }

    /// Projects new points given their kernel rows against the training
    /// points (`rows` x n, row-major); returns rows x k.
    pub fn transform(&self, kernel_rows: &[f32], rows: usize) -> Result<Vec<f64>> {
        let n = self.row_means.len();
        if kernel_rows.len() != rows * n {
            return Err(Error::ShapeMismatch {
                operation: "kernel PCA transform",
                message: format!(
                    "{} kernel values for {rows} rows against {n} training points",
                    kernel_rows.len()
                ),
            });
        }
        let k = self.n_components();
        let mut projections = vec![0.0; rows * k];
        for r in 0..rows {
            let row = &kernel_rows[r * n..(r + 1) * n];
            let row_mean = row.iter().map(|&v| f64::from(v)).sum::<f64>() / n as f64;
            for c in 0..k {
                if self.eigenvalues[c] <= 0.0 {
                    continue;
                }
                let dot: f64 = (0..n)
                    .map(|j| {
                        (f64::from(row[j]) - row_mean - self.row_means[j] + self.grand_mean)
                            * self.eigenvectors[j * k + c]
                    })
                    .sum();
                projections[r * k + c] = dot / self.eigenvalues[c].sqrt();
            }
        }
        Ok(projections)
    }
}
