//! Kernel ridge regression, (K + ridge I) A = Y, by conjugate gradients on
//! the GPU, one independent CG per column of Y advanced in lockstep
//! (Hestenes and Stiefel, 1952; Golub and Van Loan, "Matrix Computations",
//! algorithm 11.3.2).
//!
//! Each iteration costs one n x n x c matrix product and a few elementwise
//! maps and column reductions. The c step sizes are computed on the host.
//! This is also the NTK-GP posterior mean: predictions are K(test, train) A.

use serde::Serialize;

use crate::error::{Error, Result};
use crate::gpu::Gpu;
use crate::ops::{self, BinaryOp, Broadcast, GemmSpec, Matrix, Reduction};

/// Settings of [`solve_kernel_ridge`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct CgOptions {
    /// Ridge (regularisation) added to the diagonal of K; must be >= 0.
    pub ridge: f32,
    /// Stop when ||residual|| <= tolerance * ||y|| for every column.
    pub tolerance: f64,
    /// Iteration cap; CG in exact arithmetic needs at most n.
    pub max_iterations: usize,
}

impl Default for CgOptions {
    fn default() -> Self {
        Self {
            ridge: 1e-3,
            tolerance: 1e-5,
            max_iterations: 2000,
        }
    }
}

/// Convergence record of [`solve_kernel_ridge`].
#[derive(Debug, Clone, Serialize)]
pub struct CgReport {
    /// Iterations run.
    pub iterations: usize,
    /// Final ||residual|| / ||y|| per column, from the CG recurrence.
    pub relative_residuals: Vec<f64>,
    /// Whether every column reached the tolerance.
    pub converged: bool,
}

fn validate(kernel: &Matrix, targets: &Matrix, options: &CgOptions) -> Result<()> {
    if kernel.rows() != kernel.columns() || targets.rows() != kernel.rows() {
        return Err(Error::ShapeMismatch {
            operation: "kernel ridge regression",
            message: format!(
                "K is {} x {} and Y is {} x {}; K must be square with as many rows as Y",
                kernel.rows(),
                kernel.columns(),
                targets.rows(),
                targets.columns()
            ),
        });
    }
    if !(options.ridge.is_finite() && options.ridge >= 0.0) {
        return Err(Error::InvalidArgument {
            name: "ridge",
            value: options.ridge.to_string(),
            expected: "a finite value >= 0".to_string(),
        });
    }
    if !(options.tolerance.is_finite() && options.tolerance > 0.0) {
        return Err(Error::InvalidArgument {
            name: "tolerance",
            value: options.tolerance.to_string(),
            expected: "a finite value > 0".to_string(),
        });
    }
    Ok(())
}

/// Column sums of x * y, read back to the host.
fn column_dots(gpu: &Gpu, x: &Matrix, y: &Matrix) -> Result<Vec<f64>> {
    let mut recorder = gpu.recorder("cg column dots");
    let products = ops::map_binary(
        &mut recorder,
        x.buffer(),
        y.buffer(),
        BinaryOp::Multiply,
        Broadcast::None,
    )?;
    let products = Matrix::from_buffer(products, x.rows(), x.columns())?;
    let sums = ops::reduce_columns(&mut recorder, &products, Reduction::Sum)?;
    recorder.submit()?;
    Ok(gpu.read(&sums)?.into_iter().map(f64::from).collect())
}

/// Returns x + factor * y with one factor per column.
fn add_scaled_columns(gpu: &Gpu, x: &Matrix, y: &Matrix, factors: &[f64]) -> Result<Matrix> {
    let factors: Vec<f32> = factors.iter().map(|&f| f as f32).collect();
    let factor_row = gpu.upload(&factors, "cg step sizes")?;
    let columns = x.columns();
    let mut recorder = gpu.recorder("cg update");
    let scaled = ops::map_binary(
        &mut recorder,
        y.buffer(),
        &factor_row,
        BinaryOp::Multiply,
        Broadcast::Row { columns },
    )?;
    let sum = ops::map_binary(
        &mut recorder,
        x.buffer(),
        &scaled,
        BinaryOp::Add,
        Broadcast::None,
    )?;
    recorder.submit()?;
    Matrix::from_buffer(sum, x.rows(), columns)
}

/// Returns (K + ridge I) P.
fn apply_operator(gpu: &Gpu, kernel: &Matrix, direction: &Matrix, ridge: f32) -> Result<Matrix> {
    let product = Matrix::zeros(
        gpu,
        direction.rows(),
        direction.columns(),
        "cg operator product",
    )?;
    let mut recorder = gpu.recorder("cg operator");
    recorder.copy(direction.buffer(), 0, product.buffer(), 0, direction.len())?;
    let spec = GemmSpec {
        beta: ridge,
        ..GemmSpec::default()
    };
    ops::gemm(&mut recorder, kernel, direction, &product, spec)?;
    recorder.submit()?;
    Ok(product)
}

/// Solves (K + ridge I) A = Y for A (n x c) by conjugate gradients.
///
/// K must be symmetric positive semi-definite (with ridge > 0) or definite.
/// Columns that reach the tolerance keep their solution while the others
/// continue; a run that hits `max_iterations` returns its last iterate with
/// `converged = false`.
pub fn solve_kernel_ridge(
    gpu: &Gpu,
    kernel: &Matrix,
    targets: &Matrix,
    options: &CgOptions,
) -> Result<(Matrix, CgReport)> {
    validate(kernel, targets, options)?;
    let (n, columns) = (targets.rows(), targets.columns());
    let mut solution = Matrix::zeros(gpu, n, columns, "kernel ridge coefficients")?;
    let target_norms: Vec<f64> = column_dots(gpu, targets, targets)?
        .into_iter()
        .map(f64::sqrt)
        .collect();

    let mut residual = targets.clone();
    let mut direction = targets.clone();
    let mut residual_squares = column_dots(gpu, &residual, &residual)?;
    let relative = |squares: &[f64]| -> Vec<f64> {
        squares
            .iter()
            .zip(&target_norms)
            .map(|(s, norm)| if *norm > 0.0 { s.sqrt() / norm } else { 0.0 })
            .collect()
    };
    let done =
        |relative_residuals: &[f64]| relative_residuals.iter().all(|r| *r <= options.tolerance);

    let mut iterations = 0;
    let mut relative_residuals = relative(&residual_squares);
    while iterations < options.max_iterations && !done(&relative_residuals) {
        let product = apply_operator(gpu, kernel, &direction, options.ridge)?;
        let curvature = column_dots(gpu, &direction, &product)?;
        // A column that has converged, or whose direction has no curvature
        // left, takes no further step.
        let steps: Vec<f64> = (0..columns)
            .map(|c| {
                if relative_residuals[c] <= options.tolerance || curvature[c] <= 0.0 {
                    0.0
                } else {
                    residual_squares[c] / curvature[c]
                }
            })
            .collect();
        solution = add_scaled_columns(gpu, &solution, &direction, &steps)?;
        let negative_steps: Vec<f64> = steps.iter().map(|s| -s).collect();
        residual = add_scaled_columns(gpu, &residual, &product, &negative_steps)?;

        let new_squares = column_dots(gpu, &residual, &residual)?;
        let conjugation: Vec<f64> = (0..columns)
            .map(|c| {
                if residual_squares[c] > 0.0 {
                    new_squares[c] / residual_squares[c]
                } else {
                    0.0
                }
            })
            .collect();
        direction = add_scaled_columns(gpu, &residual, &direction, &conjugation)?;
        residual_squares = new_squares;
        relative_residuals = relative(&residual_squares);
        iterations += 1;
    }

    let converged = done(&relative_residuals);
    if !converged {
        log::warn!(
            "conjugate gradients stopped after {iterations} iterations with relative residuals up to {:.2e} (tolerance {:.1e}); raise the ridge or the iteration cap",
            relative_residuals.iter().cloned().fold(0.0, f64::max),
            options.tolerance
        );
    }
    Ok((
        solution,
        CgReport {
            iterations,
            relative_residuals,
            converged,
        },
    ))
}

/// Predictions K(test, train) A for a cross kernel (m x n) and coefficients (n x c).
pub fn kernel_ridge_predict(
    gpu: &Gpu,
    cross_kernel: &Matrix,
    coefficients: &Matrix,
) -> Result<Matrix> {
    let mut recorder = gpu.recorder("kernel ridge prediction");
    let predictions = ops::matmul(&mut recorder, cross_kernel, coefficients)?;
    recorder.submit()?;
    Ok(predictions)
}
