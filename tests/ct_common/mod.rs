//! Helpers shared by the CT tests: fixture paths, scikit-image sinogram
//! fixtures and a relative comparison.

#![allow(dead_code)]

use std::path::PathBuf;

use maso::io::npy;

/// Path of a file in tests/fixtures/ct.
pub fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/ct")
        .join(name)
}

/// Reads a (detectors, angles) fixture in scikit-image's layout and returns
/// (detectors, angles, values as angles x detectors).
pub fn load_sinogram(name: &str) -> (usize, usize, Vec<f64>) {
    let array = npy::read_f64(fixture(name)).unwrap();
    let [detectors, angles] = array.shape[..] else {
        panic!("{name} is not 2-D")
    };
    let mut transposed = vec![0.0; array.data.len()];
    for detector in 0..detectors {
        for angle in 0..angles {
            transposed[angle * detectors + detector] = array.data[detector * angles + angle];
        }
    }
    (detectors, angles, transposed)
}

/// Rounds float64 values to f32.
pub fn narrow(values: &[f64]) -> Vec<f32> {
    values.iter().map(|&value| value as f32).collect()
}

/// Widens f32 values to float64.
pub fn widen(values: &[f32]) -> Vec<f64> {
    values.iter().map(|&value| f64::from(value)).collect()
}

/// Asserts max |actual - expected| <= tolerance * max |expected|.
pub fn assert_close(actual: &[f32], expected: &[f64], tolerance: f64, what: &str) {
    assert_eq!(actual.len(), expected.len(), "{what}: length");
    let scale = expected
        .iter()
        .fold(1e-30f64, |acc, value| acc.max(value.abs()));
    let (index, error) = actual
        .iter()
        .zip(expected)
        .map(|(&got, &want)| (f64::from(got) - want).abs())
        .enumerate()
        .fold((0, 0.0), |worst, (index, error)| {
            if error.is_nan() || error > worst.1 {
                (index, error)
            } else {
                worst
            }
        });
    assert!(
        error <= tolerance * scale,
        "{what}: entry {index} is {} but the reference is {} (error {:.3e} of the scale {scale:.3e})",
        actual[index],
        expected[index],
        error / scale
    );
}
