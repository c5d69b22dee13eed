//! PSNR and SSIM against scikit-image 0.26 and against properties that hold
//! by definition. scripts/fixtures/imaging_quality.py wrote the files in
//! tests/fixtures/imaging/quality.

mod common;

use std::path::PathBuf;

use common::uniform_values;
use maso::imaging::{psnr, ssim, Image};
use maso::io::npy;
use maso::Error;

fn fixture_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/imaging/quality")
}

/// Loads a fixture image stored as (height, width) or (height, width, 3).
fn fixture_image(name: &str) -> Image {
    let array = npy::read_f32(fixture_dir().join(format!("{name}.npy"))).unwrap();
    let channels = array.shape.get(2).copied().unwrap_or(1);
    Image::new(array.shape[1], array.shape[0], channels, array.data).unwrap()
}

fn random_image(seed: u64, width: usize, height: usize, channels: usize) -> Image {
    Image::new(
        width,
        height,
        channels,
        uniform_values(seed, width * height * channels, 0.0, 1.0),
    )
    .unwrap()
}

/// Both sides compute in float64 from the same float32 samples, differing
/// only in summation order: the measured maximum differences are 3e-14 dB
/// and 2e-15 (printed with --nocapture). The tolerances, 1e-9 dB for PSNR
/// and 1e-9 absolute for SSIM, are far above them and far below any real
/// discrepancy.
#[test]
fn metrics_match_skimage() {
    let manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(fixture_dir().join("manifest.json")).unwrap(),
    )
    .unwrap();
    let scores = manifest["scores"].as_object().unwrap();
    assert_eq!(scores.len(), 6, "fixture cases");
    let (mut worst_psnr, mut worst_ssim) = (0.0f64, 0.0f64);
    for (name, expected) in scores {
        let reference = fixture_image(&format!("{name}_reference"));
        let test = fixture_image(&format!("{name}_test"));

        let expected_psnr = expected["psnr"].as_f64().unwrap();
        let psnr_error = (psnr(&reference, &test).unwrap() - expected_psnr).abs();
        assert!(psnr_error < 1e-9, "{name}: PSNR off by {psnr_error} dB");

        let expected_ssim = expected["ssim"].as_f64().unwrap();
        let ssim_error = (ssim(&reference, &test).unwrap() - expected_ssim).abs();
        assert!(ssim_error < 1e-9, "{name}: SSIM off by {ssim_error}");

        worst_psnr = worst_psnr.max(psnr_error);
        worst_ssim = worst_ssim.max(ssim_error);
    }
    println!("max |PSNR - skimage| = {worst_psnr:e} dB, max |SSIM - skimage| = {worst_ssim:e}");
}

#[test]
fn psnr_from_formula() {
    // One sample off by 0.1 among 12: MSE = 0.01 / 12.
    let reference = Image::new(2, 2, 3, vec![0.5; 12]).unwrap();
    let mut data = vec![0.5; 12];
    data[5] = 0.6;
    let test = Image::new(2, 2, 3, data).unwrap();
    let difference = f64::from(0.6f32) - f64::from(0.5f32);
    let expected = 10.0 * (12.0 / (difference * difference)).log10();
    assert!((psnr(&reference, &test).unwrap() - expected).abs() < 1e-12);
    assert_eq!(
        psnr(&reference, &test).unwrap(),
        psnr(&test, &reference).unwrap()
    );
}

#[test]
fn identical_images_score_perfectly() {
    let image = random_image(40, 15, 12, 3);
    assert_eq!(psnr(&image, &image).unwrap(), f64::INFINITY);
    let score = ssim(&image, &image).unwrap();
    assert!((score - 1.0).abs() < 1e-12, "{score}");
}

#[test]
fn ssim_is_symmetric_and_decreases_with_noise() {
    let reference = random_image(41, 20, 14, 1);
    let mut previous = 1.0;
    for (step, scale) in [0.05f32, 0.15, 0.4].into_iter().enumerate() {
        let noise = uniform_values(50 + step as u64, 20 * 14, -scale, scale);
        let data = reference
            .data()
            .iter()
            .zip(&noise)
            .map(|(&v, &n)| (v + n).clamp(0.0, 1.0))
            .collect();
        let test = Image::new(20, 14, 1, data).unwrap();
        let forward = ssim(&reference, &test).unwrap();
        let backward = ssim(&test, &reference).unwrap();
        assert!(
            (forward - backward).abs() < 1e-12,
            "noise {scale}: {forward} vs {backward}"
        );
        assert!(
            forward < previous,
            "noise {scale}: SSIM {forward} not below {previous}"
        );
        previous = forward;
    }
}

#[test]
fn rgb_ssim_is_channel_mean() {
    let reference = random_image(42, 13, 12, 3);
    let test = random_image(43, 13, 12, 3);
    let channel = |image: &Image, c: usize| {
        let data = image.data().iter().skip(c).step_by(3).copied().collect();
        Image::new(13, 12, 1, data).unwrap()
    };
    let mean = (0..3)
        .map(|c| ssim(&channel(&reference, c), &channel(&test, c)).unwrap())
        .sum::<f64>()
        / 3.0;
    assert!((ssim(&reference, &test).unwrap() - mean).abs() < 1e-12);
}

#[test]
fn metrics_reject_mismatched_shapes() {
    let grey = random_image(44, 12, 12, 1);
    let rgb = random_image(45, 12, 12, 3);
    let wider = random_image(46, 13, 12, 1);
    assert!(matches!(
        psnr(&grey, &rgb),
        Err(Error::ShapeMismatch {
            operation: "psnr",
            ..
        })
    ));
    assert!(matches!(
        psnr(&grey, &wider),
        Err(Error::ShapeMismatch { .. })
    ));
    assert!(matches!(
        ssim(&grey, &rgb),
        Err(Error::ShapeMismatch {
            operation: "ssim",
            ..
        })
    ));
    let error = ssim(&grey, &wider).unwrap_err();
    assert!(
        error.to_string().contains("12 x 12 with 1 channel(s)"),
        "{error}"
    );
}

#[test]
fn ssim_rejects_images_below_window() {
    let narrow = random_image(47, 10, 30, 1);
    let error = ssim(&narrow, &narrow).unwrap_err();
    assert!(
        matches!(
            error,
            Error::InvalidArgument {
                name: "image size",
                ..
            }
        ),
        "{error:?}"
    );
    assert!(error.to_string().contains("at least 11 x 11"), "{error}");
    let short = random_image(48, 30, 10, 3);
    assert!(ssim(&short, &short).is_err());
    let smallest = random_image(49, 11, 11, 1);
    assert!(ssim(&smallest, &smallest).is_ok());
}
