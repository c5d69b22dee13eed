//! Helpers shared by the integration tests: one GPU per test binary, seeded
//! inputs and float64 reference arithmetic.

#![allow(dead_code)]

use std::sync::OnceLock;

use maso::random::PhiloxStream;
use maso::Gpu;

/// The test binary's GPU (lavapipe in CI), opened once.
pub fn gpu() -> &'static Gpu {
    static GPU: OnceLock<Gpu> = OnceLock::new();
    GPU.get_or_init(|| {
        Gpu::new().unwrap_or_else(|error| panic!("the tests need a GPU adapter: {error}"))
    })
}

/// `len` values uniform in [low, high), reproducible from `seed`.
pub fn uniform_values(seed: u64, len: usize, low: f32, high: f32) -> Vec<f32> {
    PhiloxStream::new(seed, 0xC0FFEE)
        .uniform(0, len)
        .into_iter()
        .map(|u| low + (high - low) * u)
        .collect()
}

/// Row-major float64 product of op(A) (m x k) and op(B) (k x n).
pub fn reference_gemm(
    a: &[f32],
    b: &[f32],
    m: usize,
    n: usize,
    k: usize,
    transpose_a: bool,
    transpose_b: bool,
) -> (Vec<f64>, Vec<f64>) {
    let a_at = |row: usize, kk: usize| {
        f64::from(if transpose_a {
            a[kk * m + row]
        } else {
            a[row * k + kk]
        })
    };
    let b_at = |kk: usize, column: usize| {
        f64::from(if transpose_b {
            b[column * k + kk]
        } else {
            b[kk * n + column]
        })
    };
    let mut product = vec![0.0; m * n];
    let mut magnitude = vec![0.0; m * n];
    for row in 0..m {
        for column in 0..n {
            for kk in 0..k {
                let term = a_at(row, kk) * b_at(kk, column);
                product[row * n + column] += term;
                magnitude[row * n + column] += term.abs();
            }
        }
    }
    (product, magnitude)
}

/// Largest |actual - expected| / (tolerance(expected)), with its index.
pub fn worst_ratio(
    actual: &[f32],
    expected: &[f64],
    tolerance: impl Fn(usize, f64) -> f64,
) -> (f64, usize) {
    assert_eq!(actual.len(), expected.len(), "result length");
    let mut worst = (0.0, 0);
    for (index, (&got, &want)) in actual.iter().zip(expected).enumerate() {
        let ratio = (f64::from(got) - want).abs() / tolerance(index, want);
        if !(ratio <= worst.0) {
            worst = (ratio, index);
        }
        if ratio.is_nan() {
            return (f64::NAN, index);
        }
    }
    worst
}

/// Distance in units in the last place between two f32 values.
pub fn ulp_distance(a: f32, b: f32) -> u32 {
    let ordered = |x: f32| {
        let bits = x.to_bits() as i32;
        if bits < 0 {
            i32::MIN - bits
        } else {
            bits
        }
    };
    ordered(a).abs_diff(ordered(b))
}
