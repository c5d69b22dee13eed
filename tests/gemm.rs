//! GEMM and Gram kernels against a float64 reference and NumPy fixtures.
//!
//! Tolerance: each entry may differ from the float64 result by at most
//! 4 * sqrt(k) * 2^-24 * sum_k |a_ik b_kj| (plus 1e-30). Float32 accumulation
//! of k terms gives an error of about sqrt(k) rounding units of that sum for
//! random data; the worst case is k units, so the bound has margin for the
//! summation order and fused multiply-adds of any adapter.

mod common;

use common::{gpu, reference_gemm, uniform_values, worst_ratio};
use maso::ops::{self, GemmSpec, Matrix};

fn check_gemm(
    m: usize,
    n: usize,
    k: usize,
    transpose_a: bool,
    transpose_b: bool,
    alpha: f32,
    beta: f32,
) {
    let gpu = gpu();
    let seed = (m * 1_000_003 + n * 1009 + k) as u64;
    let a_values = uniform_values(seed, m * k, -1.0, 1.0);
    let b_values = uniform_values(seed + 1, k * n, -1.0, 1.0);
    let c_values = uniform_values(seed + 2, m * n, -1.0, 1.0);
    let (a_rows, a_columns) = if transpose_a { (k, m) } else { (m, k) };
    let (b_rows, b_columns) = if transpose_b { (n, k) } else { (k, n) };
    let a = Matrix::upload(gpu, &a_values, a_rows, a_columns, "a").unwrap();
    let b = Matrix::upload(gpu, &b_values, b_rows, b_columns, "b").unwrap();
    let c = Matrix::upload(gpu, &c_values, m, n, "c").unwrap();

    let mut recorder = gpu.recorder("gemm test");
    let spec = GemmSpec {
        transpose_a,
        transpose_b,
        alpha,
        beta,
    };
    ops::gemm(&mut recorder, &a, &b, &c, spec).unwrap();
    recorder.submit().unwrap();
    let result = c.read(gpu).unwrap();

    let (product, magnitude) =
        reference_gemm(&a_values, &b_values, m, n, k, transpose_a, transpose_b);
    let expected: Vec<f64> = product
        .iter()
        .zip(&c_values)
        .map(|(p, c0)| f64::from(alpha) * p + f64::from(beta) * f64::from(*c0))
        .collect();
    let unit = 2f64.powi(-24);
    let (worst, index) = worst_ratio(&result, &expected, |i, _| {
        4.0 * (k as f64).sqrt().max(1.0)
            * unit
            * (f64::from(alpha.abs()) * magnitude[i]
                + f64::from(beta.abs()) * f64::from(c_values[i].abs()))
            + 1e-30
    });
    assert!(
        worst <= 1.0,
        "gemm m={m} n={n} k={k} ta={transpose_a} tb={transpose_b}: entry {index} is {} but float64 gives {} ({worst:.2} x tolerance)",
        result[index],
        expected[index]
    );
}

#[test]
fn gemm_plain_awkward_sizes() {
    for (m, n, k) in [
        (1, 1, 1),
        (7, 33, 257),
        (33, 7, 1),
        (65, 129, 17),
        (257, 100, 33),
        (100, 1, 1000),
    ] {
        check_gemm(m, n, k, false, false, 1.0, 0.0);
    }
}

#[test]
fn gram_form_different_row_counts() {
    for (m, n, k) in [
        (1, 7, 3),
        (257, 100, 33),
        (33, 1000, 7),
        (64, 64, 64),
        (129, 65, 100),
    ] {
        check_gemm(m, n, k, false, true, 1.0, 0.0);
    }
}

#[test]
fn gemm_transposed_a() {
    for (m, n, k) in [(7, 33, 257), (100, 65, 31)] {
        check_gemm(m, n, k, true, false, 1.0, 0.0);
        check_gemm(m, n, k, true, true, 1.0, 0.0);
    }
}

#[test]
fn gemm_alpha_and_beta() {
    check_gemm(37, 41, 43, false, false, 0.5, -2.0);
    check_gemm(37, 41, 43, false, true, -1.5, 1.0);
}

#[test]
fn gemm_beta_zero_ignores_nan_in_c() {
    let gpu = gpu();
    let a = Matrix::upload(gpu, &[1.0, 2.0, 3.0, 4.0], 2, 2, "a").unwrap();
    let b = Matrix::upload(gpu, &[1.0, 0.0, 0.0, 1.0], 2, 2, "b").unwrap();
    let c = Matrix::upload(gpu, &[f32::NAN; 4], 2, 2, "c").unwrap();
    let mut recorder = gpu.recorder("beta zero");
    ops::gemm(&mut recorder, &a, &b, &c, GemmSpec::default()).unwrap();
    recorder.submit().unwrap();
    assert_eq!(c.read(gpu).unwrap(), vec![1.0, 2.0, 3.0, 4.0]);
}

#[test]
fn gemm_zero_inner_dimension_scales_c() {
    let gpu = gpu();
    let a = Matrix::zeros(gpu, 3, 0, "a").unwrap();
    let b = Matrix::zeros(gpu, 0, 2, "b").unwrap();
    let c = Matrix::upload(gpu, &[1.0; 6], 3, 2, "c").unwrap();
    let mut recorder = gpu.recorder("k = 0");
    let spec = GemmSpec {
        beta: 3.0,
        ..GemmSpec::default()
    };
    ops::gemm(&mut recorder, &a, &b, &c, spec).unwrap();
    recorder.submit().unwrap();
    assert_eq!(c.read(gpu).unwrap(), vec![3.0; 6]);
}

#[test]
fn gemm_rejects_mismatched_shapes() {
    let gpu = gpu();
    let a = Matrix::zeros(gpu, 3, 4, "a").unwrap();
    let b = Matrix::zeros(gpu, 5, 2, "b").unwrap();
    let mut recorder = gpu.recorder("mismatch");
    let error = ops::matmul(&mut recorder, &a, &b).unwrap_err().to_string();
    assert!(error.contains("op(A) is 3 x 4"), "{error}");
    assert!(error.contains("op(B) is 5 x 2"), "{error}");
}

#[test]
fn gemm_rejects_non_finite_alpha() {
    let gpu = gpu();
    let a = Matrix::zeros(gpu, 2, 2, "a").unwrap();
    let mut recorder = gpu.recorder("alpha");
    let spec = GemmSpec {
        alpha: f32::INFINITY,
        ..GemmSpec::default()
    };
    let error = ops::gemm(&mut recorder, &a, &a, &a, spec)
        .unwrap_err()
        .to_string();
    assert!(error.contains("alpha"), "{error}");
}

#[test]
fn matmul_and_gram_allocate_outputs() {
    let gpu = gpu();
    let a = Matrix::upload(gpu, &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], 2, 3, "a").unwrap();
    let b = Matrix::upload(gpu, &[1.0, 0.0, 1.0, 0.0, 1.0, 0.0], 2, 3, "b").unwrap();
    let mut recorder = gpu.recorder("gram");
    let gram = ops::gram(&mut recorder, &a, &b).unwrap();
    recorder.submit().unwrap();
    assert_eq!((gram.rows(), gram.columns()), (2, 2));
    assert_eq!(gram.read(gpu).unwrap(), vec![4.0, 2.0, 10.0, 5.0]);
}
