//! The Shepp-Logan phantom, measurement noise and sinogram `.npy` files.
//!
//! Tolerances:
//! - phantom against a float64 evaluation written here and against NumPy's
//!   (tests/fixtures/ct/phantom_*.npy): 2.5e-7 absolute, two float32 units
//!   in the last place at 1. Both sides sum the same 16 x 10 float64 terms,
//!   possibly in another order, and round once to float32.
//! - phantom against scikit-image's 400 x 400 PNG averaged to 80 x 80: a
//!   loose check of orientation and table only, since the PNG has hard edges
//!   and grey levels quantised to 1/255. The mean absolute difference must
//!   stay below 0.008 (measured 0.0045; the phantom flipped upside down
//!   gives 0.042) and fewer than 6% of pixels may differ by more than 0.05
//!   (measured 4.3%, all on ellipse edges).
//! - noise: the sample variance of 20,000 noise values lies within 5% of
//!   sigma^2 (the standard error is 1%).

mod ct_common;

use std::path::PathBuf;

use maso::ct::{
    add_noise, read_sinogram, shepp_logan, shepp_logan_ellipses, write_sinogram, PhantomVariant,
    RadonGeometry, Sinogram,
};
use maso::io::npy;

use ct_common::fixture;

fn scratch(name: &str) -> PathBuf {
    let directory = std::env::temp_dir().join(format!("maso-ct-{}", std::process::id()));
    std::fs::create_dir_all(&directory).unwrap();
    directory.join(name)
}

/// Float64 phantom from the ellipse table, written with an explicit
/// rotation matrix and sub-pixel coordinates independent of the library.
fn phantom_reference(size: usize, variant: PhantomVariant) -> Vec<f64> {
    let ellipses = shepp_logan_ellipses(variant);
    let step = 2.0 / size as f64;
    let mut image = vec![0.0; size * size];
    for row in 0..size {
        for column in 0..size {
            let mut total = 0.0;
            for sub_row in 0..4 {
                for sub_column in 0..4 {
                    let x = -1.0 + step * (column as f64 + (sub_column as f64 + 0.5) / 4.0);
                    let y = 1.0 - step * (row as f64 + (sub_row as f64 + 0.5) / 4.0);
                    for ellipse in &ellipses {
                        let angle = ellipse.rotation_degrees.to_radians();
                        let rotation = [[angle.cos(), angle.sin()], [-angle.sin(), angle.cos()]];
                        let (dx, dy) = (x - ellipse.center_x, y - ellipse.center_y);
                        let u = (rotation[0][0] * dx + rotation[0][1] * dy) / ellipse.semi_axis_x;
                        let v = (rotation[1][0] * dx + rotation[1][1] * dy) / ellipse.semi_axis_y;
                        if u * u + v * v <= 1.0 {
                            total += ellipse.intensity;
                        }
                    }
                }
            }
            image[row * size + column] = total / 16.0;
        }
    }
    image
}

fn max_abs_difference(actual: &[f32], expected: &[f64]) -> (f64, usize) {
    assert_eq!(actual.len(), expected.len());
    actual
        .iter()
        .zip(expected)
        .map(|(&got, &want)| (f64::from(got) - want).abs())
        .enumerate()
        .fold((0.0, 0), |worst, (index, error)| {
            if error.is_nan() || error > worst.0 {
                (error, index)
            } else {
                worst
            }
        })
}

#[test]
fn phantom_matches_float64_evaluation() {
    for (size, variant) in [
        (64, PhantomVariant::Modified),
        (45, PhantomVariant::Original),
        (7, PhantomVariant::Modified),
    ] {
        let image = shepp_logan(size, variant).unwrap();
        let (error, index) = max_abs_difference(&image, &phantom_reference(size, variant));
        assert!(
            error <= 2.5e-7,
            "{variant:?} {size}: pixel {index} differs by {error}"
        );
    }
}

#[test]
fn phantom_matches_numpy_fixture() {
    for (name, size, variant) in [
        ("phantom_modified_64.npy", 64, PhantomVariant::Modified),
        ("phantom_modified_45.npy", 45, PhantomVariant::Modified),
        ("phantom_original_45.npy", 45, PhantomVariant::Original),
    ] {
        let expected: Vec<f64> = npy::read_f64(fixture(name)).unwrap().data;
        let image = shepp_logan(size, variant).unwrap();
        let (error, index) = max_abs_difference(&image, &expected);
        assert!(error <= 2.5e-7, "{name}: pixel {index} differs by {error}");
    }
}

#[test]
fn phantom_resembles_scikit_image() {
    let expected = npy::read_f64(fixture("skimage_phantom_area80.npy"))
        .unwrap()
        .data;
    let image = shepp_logan(80, PhantomVariant::Modified).unwrap();
    let differences: Vec<f64> = image
        .iter()
        .zip(&expected)
        .map(|(&got, &want)| (f64::from(got) - want).abs())
        .collect();
    let mean = differences.iter().sum::<f64>() / differences.len() as f64;
    let far = differences
        .iter()
        .filter(|&&difference| difference > 0.05)
        .count() as f64
        / differences.len() as f64;
    assert!(mean < 0.008, "mean absolute difference {mean}");
    assert!(
        far < 0.06,
        "{:.1}% of pixels differ by more than 0.05",
        far * 100.0
    );
}

#[test]
fn phantom_values_follow_variant() {
    let modified = shepp_logan(128, PhantomVariant::Modified).unwrap();
    let original = shepp_logan(128, PhantomVariant::Original).unwrap();
    let max = |image: &[f32]| image.iter().fold(f32::MIN, |acc, &value| acc.max(value));
    let min = |image: &[f32]| image.iter().fold(f32::MAX, |acc, &value| acc.min(value));
    assert!(
        (max(&modified) - 1.0).abs() < 1e-6,
        "modified max {}",
        max(&modified)
    );
    assert!(
        min(&modified).abs() < 1e-6,
        "modified min {}",
        min(&modified)
    );
    assert!(
        (max(&original) - 2.0).abs() < 1e-6,
        "original max {}",
        max(&original)
    );
    // The centre pixel lies inside the brain (ellipses 1 and 2) only.
    assert!(
        (modified[64 * 128 + 64] - 0.2).abs() < 1e-6,
        "modified centre {}",
        modified[64 * 128 + 64]
    );
    assert!(
        (original[64 * 128 + 64] - 1.02).abs() < 1e-6,
        "original centre {}",
        original[64 * 128 + 64]
    );
}

#[test]
fn phantom_size_is_validated() {
    let message = shepp_logan(0, PhantomVariant::Modified)
        .unwrap_err()
        .to_string();
    assert!(message.contains("phantom size"), "{message}");
    let message = "toft".parse::<PhantomVariant>().unwrap_err().to_string();
    assert!(message.contains("modified, original"), "{message}");
}

#[test]
fn noise_has_requested_snr() {
    let clean: Vec<f32> = (0..20_000).map(|k| 1.0 + (k as f32 * 0.01).sin()).collect();
    let mut noisy = clean.clone();
    let sigma = add_noise(&mut noisy, 20.0, 7).unwrap();
    let mean_square = clean
        .iter()
        .map(|&value| f64::from(value).powi(2))
        .sum::<f64>()
        / clean.len() as f64;
    assert!(
        (sigma * sigma - mean_square / 100.0).abs() <= 1e-12 * mean_square,
        "sigma {sigma}"
    );

    let noise: Vec<f64> = noisy
        .iter()
        .zip(&clean)
        .map(|(&a, &b)| f64::from(a) - f64::from(b))
        .collect();
    let mean = noise.iter().sum::<f64>() / noise.len() as f64;
    let variance = noise
        .iter()
        .map(|value| (value - mean).powi(2))
        .sum::<f64>()
        / (noise.len() - 1) as f64;
    assert!(
        (variance / (sigma * sigma) - 1.0).abs() < 0.05,
        "variance {variance} for sigma^2 {}",
        sigma * sigma
    );
    assert!(
        mean.abs() < 4.0 * sigma / (noise.len() as f64).sqrt(),
        "mean {mean}"
    );
    let measured_snr = 10.0
        * (mean_square / noise.iter().map(|v| v * v).sum::<f64>() * noise.len() as f64).log10();
    assert!(
        (measured_snr - 20.0).abs() < 0.25,
        "measured SNR {measured_snr} dB"
    );
}

#[test]
fn noise_is_reproducible_by_seed() {
    let clean = vec![0.5f32; 101];
    let (mut first, mut second, mut other) = (clean.clone(), clean.clone(), clean.clone());
    add_noise(&mut first, 10.0, 42).unwrap();
    add_noise(&mut second, 10.0, 42).unwrap();
    add_noise(&mut other, 10.0, 43).unwrap();
    assert_eq!(first, second);
    assert_ne!(first, other);
}

#[test]
fn noise_rejects_bad_input() {
    let message = add_noise(&mut [1.0, 2.0], f64::NAN, 1)
        .unwrap_err()
        .to_string();
    assert!(message.contains("noise SNR"), "{message}");
    let message = add_noise(&mut [], 10.0, 1).unwrap_err().to_string();
    assert!(message.contains("sinogram length"), "{message}");
    let message = add_noise(&mut [1.0, f32::NAN], 10.0, 1)
        .unwrap_err()
        .to_string();
    assert!(message.contains("index 1"), "{message}");
    let mut zeros = [0.0f32; 4];
    assert_eq!(add_noise(&mut zeros, 10.0, 1).unwrap(), 0.0);
    assert_eq!(zeros, [0.0; 4]);
}

#[test]
fn sinogram_file_uses_scikit_image_layout() {
    // The fixture is skimage.transform.radon's output: (detectors, angles).
    let geometry = RadonGeometry::uniform(64, 30);
    let sinogram = read_sinogram(fixture("radon_phantom64.npy"), &geometry).unwrap();
    let on_disk = npy::read_f64(fixture("radon_phantom64.npy")).unwrap();
    assert_eq!(on_disk.shape, vec![64, 30]);
    // Angle 7, detector 40 in memory is row 40, column 7 on disk.
    assert_eq!(sinogram[7 * 64 + 40], on_disk.data[40 * 30 + 7] as f32);

    let path = scratch("round_trip.npy");
    write_sinogram(&path, &geometry, &sinogram).unwrap();
    let written = npy::read_f32(&path).unwrap();
    assert_eq!(written.shape, vec![64, 30]);
    assert_eq!(read_sinogram(&path, &geometry).unwrap(), sinogram);
}

#[test]
fn sinogram_shape_mismatch_names_both() {
    let path = fixture("radon_phantom45.npy");
    let message = read_sinogram(&path, &RadonGeometry::uniform(64, 17))
        .unwrap_err()
        .to_string();
    assert!(message.contains("45 detectors x 17 angles"), "{message}");
    assert!(message.contains("64 detectors x 17 angles"), "{message}");

    let three_d = scratch("cube.npy");
    npy::write_f32(&three_d, &[2, 2, 2], &[0.0; 8]).unwrap();
    let message = Sinogram::read_npy(&three_d).unwrap_err().to_string();
    assert!(
        message.contains("(detectors, angles)") && message.contains("[2, 2, 2]"),
        "{message}"
    );

    let message = write_sinogram(
        scratch("short.npy"),
        &RadonGeometry::uniform(8, 3),
        &[0.0; 20],
    )
    .unwrap_err()
    .to_string();
    assert!(
        message.contains("20 values") && message.contains("3 angles x 8 detectors"),
        "{message}"
    );
}
