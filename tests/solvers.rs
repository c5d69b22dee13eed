//! Conjugate-gradient kernel ridge regression against a float64 Cholesky
//! solve (nalgebra).
//!
//! Tolerance: the solution's relative error is bounded by cond(K + ridge I)
//! times the relative residual; the test matrices have condition numbers
//! below 1e3 and the tolerance is 1e-6, so 1e-3 relative error is ample, and
//! the true residual is checked against 1e-4 (float32 rounding in K P).

mod common;

use common::{gpu, uniform_values};
use maso::ops::Matrix;
use maso::solvers::{kernel_ridge_predict, solve_kernel_ridge, CgOptions};
use nalgebra::DMatrix;

/// K = B B^T / k + 0.1 I for a random n x k matrix B.
fn spd_kernel(n: usize, seed: u64) -> DMatrix<f64> {
    let k = n + 5;
    let values = uniform_values(seed, n * k, -1.0, 1.0);
    let b = DMatrix::from_row_iterator(n, k, values.iter().map(|&v| f64::from(v)));
    &b * b.transpose() / k as f64 + DMatrix::identity(n, n) * 0.1
}

fn to_f32_row_major(matrix: &DMatrix<f64>) -> Vec<f32> {
    (0..matrix.nrows())
        .flat_map(|i| (0..matrix.ncols()).map(move |j| matrix[(i, j)] as f32))
        .collect()
}

#[test]
fn cg_matches_cholesky_solution() {
    let gpu = gpu();
    for (n, columns) in [(1, 1), (7, 3), (33, 2), (257, 4)] {
        let kernel = spd_kernel(n, n as u64);
        let targets = DMatrix::from_row_iterator(
            n,
            columns,
            uniform_values(n as u64 + 1, n * columns, -1.0, 1.0)
                .iter()
                .map(|&v| f64::from(v)),
        );
        let ridge = 0.05;
        let options = CgOptions {
            ridge: ridge as f32,
            tolerance: 1e-6,
            max_iterations: 500,
        };

        let kernel_gpu = Matrix::upload(gpu, &to_f32_row_major(&kernel), n, n, "K").unwrap();
        let targets_gpu =
            Matrix::upload(gpu, &to_f32_row_major(&targets), n, columns, "Y").unwrap();
        let (solution, report) =
            solve_kernel_ridge(gpu, &kernel_gpu, &targets_gpu, &options).unwrap();
        assert!(report.converged, "n = {n}: {report:?}");
        let solution = solution.read(gpu).unwrap();

        let system = &kernel + DMatrix::identity(n, n) * ridge;
        let exact = system.clone().cholesky().unwrap().solve(&targets);
        let exact_norm = exact.norm();
        let approximate =
            DMatrix::from_row_iterator(n, columns, solution.iter().map(|&v| f64::from(v)));
        let error = (&approximate - &exact).norm() / exact_norm;
        assert!(
            error < 1e-3,
            "n = {n}: relative error {error:e} after {} iterations",
            report.iterations
        );
        let residual = (&system * &approximate - &targets).norm() / targets.norm();
        assert!(residual < 1e-4, "n = {n}: relative residual {residual:e}");
    }
}

#[test]
fn predictions_are_cross_kernel_times_coefficients() {
    let gpu = gpu();
    let cross = Matrix::upload(gpu, &[1.0, 2.0, 0.0, -1.0, 0.5, 3.0], 2, 3, "K*").unwrap();
    let coefficients = Matrix::upload(gpu, &[1.0, 0.0, 2.0, 1.0, -1.0, 4.0], 3, 2, "A").unwrap();
    let predictions = kernel_ridge_predict(gpu, &cross, &coefficients).unwrap();
    assert_eq!(predictions.read(gpu).unwrap(), vec![5.0, 2.0, -3.0, 12.5]);
}

#[test]
fn cg_stops_at_iteration_cap() {
    let gpu = gpu();
    let n = 40;
    let kernel = spd_kernel(n, 3);
    let kernel_gpu = Matrix::upload(gpu, &to_f32_row_major(&kernel), n, n, "K").unwrap();
    let targets = Matrix::upload(gpu, &uniform_values(4, n, -1.0, 1.0), n, 1, "Y").unwrap();
    let options = CgOptions {
        ridge: 0.0,
        tolerance: 1e-12,
        max_iterations: 3,
    };
    let (_, report) = solve_kernel_ridge(gpu, &kernel_gpu, &targets, &options).unwrap();
    assert_eq!(report.iterations, 3);
    assert!(!report.converged);
}

#[test]
fn cg_rejects_bad_shapes_and_ridge() {
    let gpu = gpu();
    let kernel = Matrix::zeros(gpu, 4, 4, "K").unwrap();
    let targets = Matrix::zeros(gpu, 5, 1, "Y").unwrap();
    let message = solve_kernel_ridge(gpu, &kernel, &targets, &CgOptions::default())
        .unwrap_err()
        .to_string();
    assert!(message.contains("K is 4 x 4 and Y is 5 x 1"), "{message}");
    let targets = Matrix::zeros(gpu, 4, 1, "Y").unwrap();
    let options = CgOptions {
        ridge: -1.0,
        ..CgOptions::default()
    };
    let message = solve_kernel_ridge(gpu, &kernel, &targets, &options)
        .unwrap_err()
        .to_string();
    assert!(message.contains("ridge"), "{message}");
}
