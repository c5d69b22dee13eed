//! The GPU Radon transform and its adjoint against float64 references,
//! scikit-image's `radon` and the adjoint identity <A x, y> = <x, A^T y>.
//!
//! Fixtures in tests/fixtures/ct come from scikit-image 0.26.0
//! (scripts/fixtures/make_ct_fixtures.py; versions in manifest.json).
//! Tolerances, relative to the largest |value| of the expected array:
//! - forward and adjoint against float64: 1e-5. Each output sums up to
//!   4 x max(size, detectors) x angles bilinear terms in f32, and sample
//!   positions near pixel 60 are rounded to 4e-6 of a pixel, which moves the
//!   bilinear weights by as much. The worst error measured was 1.5e-6.
//! - forward against scikit-image: 1e-5 for the same reasons (scikit-image
//!   works in float64 on the same float32 inputs; worst measured 1.4e-6).
//! - adjoint identity: 1e-6 relative to sum |(A x)_k y_k|. Both kernels
//!   compute the same f32 weights, so only the summation order differs
//!   (worst measured 1e-8; an adjoint that misses samples at the edge of the
//!   bilinear footprint gives 1e-5).

mod common;
mod ct_common;

use common::{gpu, uniform_values};
use maso::ct::reference::{radon_adjoint_reference, radon_forward_reference};
use maso::ct::{shepp_logan, PhantomVariant, Radon, RadonGeometry};
use maso::io::npy;

use ct_common::{assert_close, fixture, load_sinogram, widen};

fn odd_geometry(size: usize, angles: usize, detectors: usize, seed: u64) -> RadonGeometry {
    RadonGeometry {
        size,
        angles_degrees: uniform_values(seed, angles, -200.0, 400.0),
        detectors,
    }
}

#[test]
fn forward_matches_float64_reference() {
    for (size, angles, detectors, seed) in [
        (17, 7, 17, 1),
        (16, 5, 16, 2),
        (23, 9, 31, 3),
        (20, 3, 13, 4),
        (1, 2, 1, 5),
    ] {
        let geometry = odd_geometry(size, angles, detectors, seed);
        let image = uniform_values(seed + 100, size * size, -1.0, 1.0);
        let radon = Radon::new(gpu(), geometry.clone()).unwrap();
        let sinogram = radon.forward_host(gpu(), &image).unwrap();
        let expected = radon_forward_reference(&geometry, &widen(&image));
        assert_close(
            &sinogram,
            &expected,
            1e-5,
            &format!("forward {size}x{size}, {angles} angles, {detectors} detectors"),
        );
    }
}

#[test]
fn adjoint_matches_float64_reference() {
    for (size, angles, detectors, seed) in [
        (17, 7, 17, 11),
        (16, 5, 16, 12),
        (23, 9, 31, 13),
        (20, 3, 13, 14),
        (1, 2, 1, 15),
    ] {
        let geometry = odd_geometry(size, angles, detectors, seed);
        let sinogram = uniform_values(seed + 100, angles * detectors, -1.0, 1.0);
        let radon = Radon::new(gpu(), geometry.clone()).unwrap();
        let image = radon.adjoint_host(gpu(), &sinogram).unwrap();
        let expected = radon_adjoint_reference(&geometry, &widen(&sinogram));
        assert_close(
            &image,
            &expected,
            1e-5,
            &format!("adjoint {size}x{size}, {angles} angles, {detectors} detectors"),
        );
    }
}

#[test]
fn adjoint_identity_holds() {
    for (size, angles, detectors, seed) in [
        (31, 13, 31, 21),
        (45, 17, 45, 22),
        (33, 11, 47, 23),
        (40, 9, 29, 24),
    ] {
        let geometry = odd_geometry(size, angles, detectors, seed);
        let x = uniform_values(seed + 1000, size * size, -1.0, 1.0);
        let y = uniform_values(seed + 2000, angles * detectors, -1.0, 1.0);
        let radon = Radon::new(gpu(), geometry).unwrap();
        let ax = radon.forward_host(gpu(), &x).unwrap();
        let aty = radon.adjoint_host(gpu(), &y).unwrap();

        let dot = |a: &[f32], b: &[f32]| {
            a.iter()
                .zip(b)
                .map(|(&p, &q)| f64::from(p) * f64::from(q))
                .sum::<f64>()
        };
        let magnitude = ax
            .iter()
            .zip(&y)
            .map(|(&p, &q)| (f64::from(p) * f64::from(q)).abs())
            .sum::<f64>();
        let (left, right) = (dot(&ax, &y), dot(&x, &aty));
        assert!(
            (left - right).abs() <= 1e-6 * magnitude,
            "size {size}, {angles} angles, {detectors} detectors: <Ax, y> = {left}, <x, A^T y> = {right}, scale {magnitude}"
        );
    }
}

#[test]
fn phantom_sinograms_match_scikit_image() {
    for (size, angles, name) in [
        (64, 30, "radon_phantom64.npy"),
        (45, 17, "radon_phantom45.npy"),
    ] {
        let phantom = npy::read_f32(fixture(&format!("phantom_modified_{size}.npy")))
            .unwrap()
            .data;
        let (detectors, fixture_angles, expected) = load_sinogram(name);
        assert_eq!((detectors, fixture_angles), (size, angles), "{name}: shape");
        let radon = Radon::new(gpu(), RadonGeometry::uniform(size, angles)).unwrap();
        let sinogram = radon.forward_host(gpu(), &phantom).unwrap();
        assert_close(&sinogram, &expected, 1e-5, name);
    }
}

#[test]
fn random_angles_match_scikit_image() {
    let image = npy::read_f32(fixture("random15_image.npy")).unwrap().data;
    let angles = npy::read_f32(fixture("random15_angles.npy")).unwrap().data;
    for (name, detectors) in [
        ("radon_random15_circle.npy", 15),
        ("radon_random15_square.npy", 22),
    ] {
        let (fixture_detectors, _, expected) = load_sinogram(name);
        assert_eq!(fixture_detectors, detectors, "{name}: detectors");
        let geometry = RadonGeometry {
            size: 15,
            angles_degrees: angles.clone(),
            detectors,
        };
        let sinogram = Radon::new(gpu(), geometry)
            .unwrap()
            .forward_host(gpu(), &image)
            .unwrap();
        assert_close(&sinogram, &expected, 1e-5, name);
    }
}

#[test]
fn recorded_forward_and_adjoint_chain() {
    // forward then adjoint in one submission, as a training step records them.
    let geometry = RadonGeometry::uniform(29, 12);
    let radon = Radon::new(gpu(), geometry.clone()).unwrap();
    let image = shepp_logan(29, PhantomVariant::Modified).unwrap();
    let image_buffer = gpu().upload(&image, "phantom").unwrap();
    let sinogram = gpu()
        .create_buffer::<f32>(geometry.sinogram_len(), "sinogram")
        .unwrap();
    let back = gpu()
        .create_buffer::<f32>(geometry.image_len(), "back-projection")
        .unwrap();
    let mut recorder = gpu().recorder("forward and adjoint");
    radon
        .forward(&mut recorder, &image_buffer, &sinogram)
        .unwrap();
    radon.adjoint(&mut recorder, &sinogram, &back).unwrap();
    recorder.submit().unwrap();

    let expected_sinogram = radon_forward_reference(&geometry, &widen(&image));
    let expected_back = radon_adjoint_reference(&geometry, &expected_sinogram);
    assert_close(
        &gpu().read(&back).unwrap(),
        &expected_back,
        1e-5,
        "A^T A phantom",
    );
}

#[test]
fn transforms_are_deterministic() {
    let geometry = odd_geometry(37, 19, 41, 31);
    let radon = Radon::new(gpu(), geometry).unwrap();
    let x = uniform_values(32, 37 * 37, -1.0, 1.0);
    let y = uniform_values(33, 19 * 41, -1.0, 1.0);
    assert_eq!(
        radon.forward_host(gpu(), &x).unwrap(),
        radon.forward_host(gpu(), &x).unwrap()
    );
    assert_eq!(
        radon.adjoint_host(gpu(), &y).unwrap(),
        radon.adjoint_host(gpu(), &y).unwrap()
    );
}

#[test]
fn zero_angles_are_rejected() {
    let message = Radon::new(gpu(), RadonGeometry::uniform(16, 0))
        .unwrap_err()
        .to_string();
    assert!(message.contains("number of angles"), "{message}");
}

#[test]
fn zero_size_and_detectors_are_rejected() {
    let message = Radon::new(gpu(), RadonGeometry::uniform(0, 4))
        .unwrap_err()
        .to_string();
    assert!(message.contains("image size"), "{message}");
    let message = Radon::new(gpu(), RadonGeometry::uniform(8, 4).with_detectors(0))
        .unwrap_err()
        .to_string();
    assert!(message.contains("detectors"), "{message}");
}

#[test]
fn non_finite_angle_is_rejected() {
    let geometry = RadonGeometry {
        size: 8,
        angles_degrees: vec![0.0, f32::NAN],
        detectors: 8,
    };
    let message = Radon::new(gpu(), geometry).unwrap_err().to_string();
    assert!(message.contains("angle 1"), "{message}");
}

#[test]
fn wrong_image_length_is_rejected() {
    let radon = Radon::new(gpu(), RadonGeometry::uniform(8, 4)).unwrap();
    let message = radon
        .forward_host(gpu(), &[0.0; 63])
        .unwrap_err()
        .to_string();
    assert!(
        message.contains("63 values") && message.contains("8 x 8"),
        "{message}"
    );
}

#[test]
fn wrong_sinogram_length_is_rejected() {
    let radon = Radon::new(gpu(), RadonGeometry::uniform(8, 4).with_detectors(10)).unwrap();
    let message = radon
        .adjoint_host(gpu(), &[0.0; 32])
        .unwrap_err()
        .to_string();
    assert!(
        message.contains("32 values") && message.contains("4 angles x 10 detectors"),
        "{message}"
    );

    let image = gpu().create_buffer::<f32>(64, "image").unwrap();
    let sinogram = gpu().create_buffer::<f32>(32, "short sinogram").unwrap();
    let mut recorder = gpu().recorder("mismatch");
    let message = radon
        .forward(&mut recorder, &image, &sinogram)
        .unwrap_err()
        .to_string();
    assert!(message.contains("short sinogram"), "{message}");
}

#[test]
fn nan_inputs_are_rejected() {
    let radon = Radon::new(gpu(), RadonGeometry::uniform(4, 3)).unwrap();
    let mut image = vec![0.0; 16];
    image[5] = f32::NAN;
    let message = radon.forward_host(gpu(), &image).unwrap_err().to_string();
    assert!(message.contains("index 5"), "{message}");
    let mut sinogram = vec![0.0; 12];
    sinogram[7] = f32::INFINITY;
    let message = radon
        .adjoint_host(gpu(), &sinogram)
        .unwrap_err()
        .to_string();
    assert!(message.contains("index 7"), "{message}");
}

#[test]
fn non_square_image_is_rejected() {
    let message = RadonGeometry::for_image(30, 32, vec![0.0, 90.0])
        .unwrap_err()
        .to_string();
    assert!(
        message.contains("30 x 32") && message.contains("square"),
        "{message}"
    );
}

/// Larger transforms (256 x 256, 180 angles) against float64. About 2 s on
/// lavapipe, so it runs only with `--ignored`.
#[test]
#[ignore]
fn forward_and_adjoint_match_reference_at_256() {
    let geometry = RadonGeometry::uniform(256, 180);
    let image = shepp_logan(256, PhantomVariant::Modified).unwrap();
    let radon = Radon::new(gpu(), geometry.clone()).unwrap();
    let sinogram = radon.forward_host(gpu(), &image).unwrap();
    assert_close(
        &sinogram,
        &radon_forward_reference(&geometry, &widen(&image)),
        1e-5,
        "forward 256",
    );
    let back = radon.adjoint_host(gpu(), &sinogram).unwrap();
    assert_close(
        &back,
        &radon_adjoint_reference(&geometry, &widen(&sinogram)),
        1e-5,
        "adjoint 256",
    );
}
