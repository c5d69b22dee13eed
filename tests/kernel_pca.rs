//! Kernel PCA on the GPU against a dense float64 eigensolver and against
//! scikit-learn's `KernelPCA(kernel='precomputed')` (fixtures written by
//! scripts/fixtures/make_kpca_fixtures.py), up to the sign of each component.
//!
//! Tolerances: eigenvalues 1e-5 relative to the largest; projections 1e-4
//! of the largest |projection| (the GPU iterates in f32, so eigenvectors of
//! well-separated eigenvalues carry errors near 1e-6).

mod common;

use common::{gpu, uniform_values};
use maso::decomposition::{linear_kernel, KernelPca, KernelPcaOptions};
use maso::io::npy;
use nalgebra::{DMatrix, SymmetricEigen};

/// RBF kernel exp(-gamma |x - y|^2) of random points, rounded to f32.
fn rbf_kernel(n: usize, dimension: usize, gamma: f64, seed: u64) -> Vec<f32> {
    let x = uniform_values(seed, n * dimension, -1.5, 1.5);
    let mut kernel = vec![0.0f32; n * n];
    for i in 0..n {
        for j in 0..n {
            let distance: f64 = (0..dimension)
                .map(|f| {
                    (f64::from(x[i * dimension + f]) - f64::from(x[j * dimension + f])).powi(2)
                })
                .sum();
            kernel[i * n + j] = (-gamma * distance).exp() as f32;
        }
    }
    kernel
}

/// Compares column c of two row-major n x k tables up to sign.
fn assert_columns_match(actual: &[f64], expected: &[f64], n: usize, k: usize, what: &str) {
    let scale = expected.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    for c in 0..k {
        let dot: f64 = (0..n)
            .map(|i| actual[i * k + c] * expected[i * k + c])
            .sum();
        let sign = if dot < 0.0 { -1.0 } else { 1.0 };
        for i in 0..n {
            let error = (sign * actual[i * k + c] - expected[i * k + c]).abs();
            assert!(
                error <= 1e-4 * scale,
                "{what}: component {c}, row {i}: {} vs {}",
                actual[i * k + c],
                expected[i * k + c]
            );
        }
    }
}

#[test]
fn kernel_pca_matches_dense_eigensolver() {
    for (n, k) in [(7, 2), (33, 3), (100, 5)] {
        let kernel = rbf_kernel(n, 4, 0.3, n as u64);
        let options = KernelPcaOptions {
            n_components: k,
            ..KernelPcaOptions::default()
        };
        let fitted = KernelPca::fit(gpu(), &kernel, n, &options).unwrap();
        assert!(
            fitted.converged,
            "n = {n}: {} iterations",
            fitted.iterations
        );

        let h = DMatrix::<f64>::identity(n, n) - DMatrix::from_element(n, n, 1.0 / n as f64);
        let centred =
            &h * DMatrix::from_row_iterator(n, n, kernel.iter().map(|&v| f64::from(v))) * &h;
        let eigen = SymmetricEigen::new(centred);
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by(|&a, &b| eigen.eigenvalues[b].total_cmp(&eigen.eigenvalues[a]));
        let largest = eigen.eigenvalues[order[0]];
        for c in 0..k {
            let want = eigen.eigenvalues[order[c]];
            assert!(
                (fitted.eigenvalues[c] - want).abs() <= 1e-5 * largest,
                "n = {n}: eigenvalue {c} is {} vs {want}",
                fitted.eigenvalues[c]
            );
        }
        let expected: Vec<f64> = (0..n)
            .flat_map(|i| (0..k).map(move |c| (i, c)))
            .map(|(i, c)| {
                eigen.eigenvectors[(i, order[c])] * eigen.eigenvalues[order[c]].max(0.0).sqrt()
            })
            .collect();
        assert_columns_match(&fitted.projections, &expected, n, k, &format!("n = {n}"));
    }
}

fn fixture(name: &str) -> Vec<f64> {
    npy::read_f64(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/kpca")
            .join(name),
    )
    .unwrap()
    .data
}

#[test]
fn kernel_pca_matches_scikit_learn() {
    let kernel: Vec<f32> = fixture("kernel.npy").iter().map(|&v| v as f32).collect();
    let n = 40;
    let fitted = KernelPca::fit(
        gpu(),
        &kernel,
        n,
        &KernelPcaOptions {
            n_components: 3,
            ..KernelPcaOptions::default()
        },
    )
    .unwrap();
    let eigenvalues = fixture("eigenvalues.npy");
    for c in 0..3 {
        assert!(
            (fitted.eigenvalues[c] - eigenvalues[c]).abs() <= 1e-5 * eigenvalues[0],
            "eigenvalue {c}: {} vs {}",
            fitted.eigenvalues[c],
            eigenvalues[c]
        );
    }
    assert_columns_match(
        &fitted.projections,
        &fixture("projections.npy"),
        n,
        3,
        "training projections",
    );
    let new_rows: Vec<f32> = fixture("new_rows.npy").iter().map(|&v| v as f32).collect();
    let projected = fitted.transform(&new_rows, 7).unwrap();
    // Signs follow the training projections, so compare with the same flips.
    let training = fixture("projections.npy");
    let expected = fixture("new_projections.npy");
    let scale = expected.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    for c in 0..3 {
        let dot: f64 = (0..n)
            .map(|i| fitted.projections[i * 3 + c] * training[i * 3 + c])
            .sum();
        let sign = dot.signum();
        for r in 0..7 {
            let error = (sign * projected[r * 3 + c] - expected[r * 3 + c]).abs();
            assert!(
                error <= 1e-4 * scale,
                "new point {r}, component {c}: {} vs {}",
                projected[r * 3 + c],
                expected[r * 3 + c]
            );
        }
    }
}

#[test]
fn transform_of_training_rows_gives_projections() {
    let n = 25;
    let kernel = rbf_kernel(n, 3, 0.5, 9);
    let fitted = KernelPca::fit(
        gpu(),
        &kernel,
        n,
        &KernelPcaOptions {
            n_components: 2,
            ..KernelPcaOptions::default()
        },
    )
    .unwrap();
    let again = fitted.transform(&kernel, n).unwrap();
    let scale = fitted
        .projections
        .iter()
        .fold(0.0f64, |m, v| m.max(v.abs()));
    for (a, b) in again.iter().zip(&fitted.projections) {
        assert!((a - b).abs() <= 1e-4 * scale, "{a} vs {b}");
    }
}

#[test]
fn pca_through_linear_kernel() {
    // Points on a line in 3-D: one component carries all the variance.
    let n = 20;
    let values: Vec<f32> = (0..n)
        .flat_map(|i| [i as f32, 2.0 * i as f32, -(i as f32)])
        .collect();
    let kernel = linear_kernel(gpu(), &values, n, 3).unwrap();
    let fitted = KernelPca::fit(
        gpu(),
        &kernel,
        n,
        &KernelPcaOptions {
            n_components: 2,
            ..KernelPcaOptions::default()
        },
    )
    .unwrap();
    let variance: f64 = (0..n).map(|i| (i as f64 - 9.5).powi(2) * 6.0).sum();
    assert!(
        (fitted.eigenvalues[0] - variance).abs() <= 1e-4 * variance,
        "{} vs {variance}",
        fitted.eigenvalues[0]
    );
    assert!(
        fitted.eigenvalues[1].abs() <= 1e-4 * variance,
        "{}",
        fitted.eigenvalues[1]
    );
}

#[test]
fn kernel_pca_rejects_bad_input() {
    let kernel = [1.0f32, 0.5, 0.2, 1.0];
    let message = KernelPca::fit(
        gpu(),
        &kernel,
        2,
        &KernelPcaOptions {
            n_components: 1,
            ..KernelPcaOptions::default()
        },
    )
    .unwrap_err()
    .to_string();
    assert!(message.contains("symmetric"), "{message}");
    let kernel = [1.0f32, 0.5, 0.5, 1.0];
    let message = KernelPca::fit(
        gpu(),
        &kernel,
        2,
        &KernelPcaOptions {
            n_components: 3,
            ..KernelPcaOptions::default()
        },
    )
    .unwrap_err()
    .to_string();
    assert!(message.contains("n_components"), "{message}");
    let message = KernelPca::fit(gpu(), &kernel, 3, &KernelPcaOptions::default())
        .unwrap_err()
        .to_string();
    assert!(message.contains("3 x 3"), "{message}");
}
