//! Filtered back-projection against scikit-image's `iradon` and a float64
//! reference with a direct DFT.
//!
//! Fixtures in tests/fixtures/ct come from scikit-image 0.26.0
//! (scripts/fixtures/make_ct_fixtures.py). Tolerances:
//! - Fourier filters against `_get_fourier_filter`: 1e-12 absolute; both are
//!   float64 FFTs of the same kernel times the same window (values up to 1).
//! - reconstructions against `iradon` and the float64 reference: 1e-5 of the
//!   largest |value|. Filtering runs in float64; the GPU then sums one
//!   linearly interpolated f32 value per angle, with detector positions
//!   rounded to 4e-6 of a bin. The worst error measured was 3.5e-6.

mod common;
mod ct_common;

use common::{gpu, uniform_values};
use maso::ct::reference::filtered_back_projection_reference;
use maso::ct::{filtered_back_projection, fourier_filter, FbpFilter, RadonGeometry};
use maso::io::npy;

use ct_common::{assert_close, fixture, load_sinogram, narrow, widen};

#[test]
fn fourier_filters_match_scikit_image() {
    for filter in FbpFilter::ALL {
        let expected = npy::read_f64(fixture(&format!(
            "fourier_filter_256_{}.npy",
            filter.name()
        )))
        .unwrap()
        .data;
        let response = fourier_filter(256, filter).unwrap();
        for (k, (&got, &want)) in response.iter().zip(&expected).enumerate() {
            assert!(
                (got - want).abs() <= 1e-12,
                "{filter} bin {k}: {got} but scikit-image gives {want}"
            );
        }
    }
}

#[test]
fn reconstructions_match_iradon() {
    for (size, sinogram_name) in [(64, "radon_phantom64.npy"), (45, "radon_phantom45.npy")] {
        let (detectors, angles, sinogram) = load_sinogram(sinogram_name);
        let sinogram = narrow(&sinogram);
        assert_eq!(detectors, size, "{sinogram_name}: detectors");
        let geometry = RadonGeometry::uniform(size, angles);
        for filter in FbpFilter::ALL {
            let name = format!("iradon_phantom{size}_{}.npy", filter.name());
            let expected = npy::read_f64(fixture(&name)).unwrap().data;
            let image = filtered_back_projection(gpu(), &geometry, &sinogram, filter).unwrap();
            assert_close(&image, &expected, 1e-5, &name);
        }
    }
}

#[test]
fn smaller_output_matches_iradon() {
    // 64 detectors reconstructed on a 48 x 48 grid (iradon's output_size).
    let (detectors, angles, sinogram) = load_sinogram("radon_phantom64.npy");
    let sinogram = narrow(&sinogram);
    let geometry = RadonGeometry::uniform(48, angles).with_detectors(detectors);
    let expected = npy::read_f64(fixture("iradon_phantom64_ramp_size48.npy"))
        .unwrap()
        .data;
    let image = filtered_back_projection(gpu(), &geometry, &sinogram, FbpFilter::Ramp).unwrap();
    assert_close(&image, &expected, 1e-5, "output size 48");
}

#[test]
fn reconstructions_match_float64_reference() {
    for (size, angles, detectors, seed) in [(21, 7, 21, 1), (16, 5, 23, 2), (30, 11, 19, 3)] {
        let geometry = RadonGeometry {
            size,
            angles_degrees: uniform_values(seed, angles, -30.0, 250.0),
            detectors,
        };
        let sinogram = uniform_values(seed + 10, angles * detectors, -1.0, 2.0);
        let widened = widen(&sinogram);
        for filter in FbpFilter::ALL {
            let expected = filtered_back_projection_reference(&geometry, &widened, filter);
            let image = filtered_back_projection(gpu(), &geometry, &sinogram, filter).unwrap();
            assert_close(
                &image,
                &expected,
                1e-5,
                &format!("{size}x{size}, {angles} angles, {detectors} detectors, {filter}"),
            );
        }
    }
}

#[test]
fn filter_names_parse() {
    for (name, filter) in FbpFilter::NAMES.iter().zip(FbpFilter::ALL) {
        assert_eq!(name.parse::<FbpFilter>().unwrap(), filter);
        assert_eq!(filter.to_string(), *name);
    }
    assert_eq!(
        "Shepp_Logan".parse::<FbpFilter>().unwrap(),
        FbpFilter::SheppLogan
    );
}

#[test]
fn unknown_filter_lists_names() {
    let message = "gaussian".parse::<FbpFilter>().unwrap_err().to_string();
    assert!(
        message.contains("gaussian")
            && message.contains("ramp, shepp-logan, cosine, hamming, hann"),
        "{message}"
    );
}

#[test]
fn bad_sinograms_are_rejected() {
    let geometry = RadonGeometry::uniform(16, 4);
    let message = filtered_back_projection(gpu(), &geometry, &[0.0; 60], FbpFilter::Ramp)
        .unwrap_err()
        .to_string();
    assert!(
        message.contains("60 values") && message.contains("4 angles x 16 detectors"),
        "{message}"
    );

    let mut sinogram = vec![0.0; 64];
    sinogram[9] = f32::NAN;
    let message = filtered_back_projection(gpu(), &geometry, &sinogram, FbpFilter::Hann)
        .unwrap_err()
        .to_string();
    assert!(message.contains("index 9"), "{message}");

    let message =
        filtered_back_projection(gpu(), &RadonGeometry::uniform(16, 0), &[], FbpFilter::Ramp)
            .unwrap_err()
            .to_string();
    assert!(message.contains("number of angles"), "{message}");
}
