//! Float64 CPU evaluations of the Radon transform, its adjoint and filtered
//! back-projection, written from the formulas in `shaders/radon.wgsl` and
//! [`crate::ct::filtered_back_projection`] rather than from the shaders. Tests compare the GPU
//! results with them. They are direct sums (the FBP filter uses a plain
//! O(n^2) discrete Fourier transform), meant for small sizes.

use std::f64::consts::PI;

use crate::ct::fbp::{filtered_detectors, padded_projection_len, FbpFilter};
use crate::ct::geometry::RadonGeometry;

/// Ray-sample positions of one angle: calls `visit(detector, row, column)`
/// for every (detector, sample) pair.
fn for_each_sample(geometry: &RadonGeometry, degrees: f32, mut visit: impl FnMut(usize, f64, f64)) {
    let (sin, cos) = f64::from(degrees).to_radians().sin_cos();
    let center = (geometry.size / 2) as f64;
    let samples = geometry.ray_samples();
    for detector in 0..geometry.detectors {
        let t = detector as f64 - (geometry.detectors / 2) as f64;
        for k in 0..samples {
            let s = k as f64 - (samples / 2) as f64;
            visit(
                detector,
                center - sin * t + cos * s,
                center + cos * t + sin * s,
            );
        }
    }
}

/// Lists the pixels around (row, column) that lie inside the image, with
/// their bilinear weights.
fn bilinear_taps(size: usize, row: f64, column: f64) -> impl Iterator<Item = (usize, f64)> {
    let (r0, c0) = (row.floor(), column.floor());
    let (dr, dc) = (row - r0, column - c0);
    let taps = [
        (r0, c0, (1.0 - dr) * (1.0 - dc)),
        (r0, c0 + 1.0, (1.0 - dr) * dc),
        (r0 + 1.0, c0, dr * (1.0 - dc)),
        (r0 + 1.0, c0 + 1.0, dr * dc),
    ];
    let n = size as f64;
    taps.into_iter()
        .filter(move |&(r, c, _)| r >= 0.0 && c >= 0.0 && r < n && c < n)
        .map(move |(r, c, weight)| (r as usize * size + c as usize, weight))
}

/// Computes A x, the sinogram (angles x detectors) of a row-major
/// `size` x `size` image.
pub fn radon_forward_reference(geometry: &RadonGeometry, image: &[f64]) -> Vec<f64> {
    let mut sinogram = vec![0.0; geometry.sinogram_len()];
    for (angle, &degrees) in geometry.angles_degrees.iter().enumerate() {
        let projection =
            &mut sinogram[angle * geometry.detectors..(angle + 1) * geometry.detectors];
        for_each_sample(geometry, degrees, |detector, row, column| {
            projection[detector] += bilinear_taps(geometry.size, row, column)
                .map(|(pixel, weight)| weight * image[pixel])
                .sum::<f64>();
        });
    }
    sinogram
}

/// Computes A^T y by scattering weight x y[angle, detector] from every ray
/// sample to its pixels.
pub fn radon_adjoint_reference(geometry: &RadonGeometry, sinogram: &[f64]) -> Vec<f64> {
    let mut image = vec![0.0; geometry.image_len()];
    for (angle, &degrees) in geometry.angles_degrees.iter().enumerate() {
        let projection = &sinogram[angle * geometry.detectors..(angle + 1) * geometry.detectors];
        for_each_sample(geometry, degrees, |detector, row, column| {
            for (pixel, weight) in bilinear_taps(geometry.size, row, column) {
                image[pixel] += weight * projection[detector];
            }
        });
    }
    image
}

/// Computes the filter's response on `len` DFT bins from a direct DFT of the
/// ramp's spatial kernel and NumPy's window formulas.
fn filter_response_reference(len: usize, filter: FbpFilter) -> Vec<f64> {
    let kernel = |n: usize| {
        let d = n.min(len - n);
        if d == 0 {
            0.25
        } else if d % 2 == 1 {
            -1.0 / (PI * d as f64).powi(2)
        } else {
            0.0
        }
    };
    let window = |k: usize| {
        let shifted = (k + len / 2) % len;
        let symmetric = (2.0 * PI * shifted as f64 / (len - 1) as f64).cos();
        match filter {
            FbpFilter::Ramp => 1.0,
            FbpFilter::SheppLogan => {
                let frequency = if k < len / 2 {
                    k as f64
                } else {
                    k as f64 - len as f64
                } / len as f64;
                if k == 0 {
                    1.0
                } else {
                    (PI * frequency).sin() / (PI * frequency)
                }
            }
            FbpFilter::Cosine => (PI * shifted as f64 / len as f64).sin(),
            FbpFilter::Hamming => 0.54 - 0.46 * symmetric,
            FbpFilter::Hann => 0.5 - 0.5 * symmetric,
        }
    };
    (0..len)
        .map(|k| {
            let real: f64 = (0..len)
                .map(|n| kernel(n) * (2.0 * PI * (k * n % len) as f64 / len as f64).cos())
                .sum();
            2.0 * real * window(k)
        })
        .collect()
}

/// Filtered back-projection of `sinogram` (angles x detectors) by the steps
/// of [`crate::ct::filtered_back_projection`], all in float64.
pub fn filtered_back_projection_reference(
    geometry: &RadonGeometry,
    sinogram: &[f64],
    filter: FbpFilter,
) -> Vec<f64> {
    let detectors = geometry.detectors;
    let filtered_len = filtered_detectors(detectors);
    let pad_before = filtered_len / 2 - detectors / 2;
    let padded = padded_projection_len(filtered_len);
    let response = filter_response_reference(padded, filter);
    let twiddle = |m: usize| {
        let angle = 2.0 * PI * (m % padded) as f64 / padded as f64;
        (angle.cos(), angle.sin())
    };

    let mut filtered = vec![0.0; geometry.angle_count() * filtered_len];
    for (angle, projection) in sinogram.chunks_exact(detectors).enumerate() {
        // Spectrum of the zero-padded projection times the filter.
        let spectrum: Vec<(f64, f64)> = (0..padded)
            .map(|k| {
                let (mut real, mut imaginary) = (0.0, 0.0);
                for (index, &value) in projection.iter().enumerate() {
                    let (cos, sin) = twiddle(k * (pad_before + index));
                    real += value * cos;
                    imaginary -= value * sin;
                }
                (real * response[k], imaginary * response[k])
            })
            .collect();
        for bin in 0..filtered_len {
            let real: f64 = spectrum
                .iter()
                .enumerate()
                .map(|(k, &(re, im))| {
                    let (cos, sin) = twiddle(k * bin);
                    re * cos - im * sin
                })
                .sum();
            filtered[angle * filtered_len + bin] = real / padded as f64;
        }
    }

    let size = geometry.size;
    let radius = (size / 2) as f64;
    let center = (filtered_len / 2) as f64;
    let mut image = vec![0.0; size * size];
    for row in 0..size {
        for column in 0..size {
            let (x, y) = (row as f64 - radius, column as f64 - radius);
            if x * x + y * y > radius * radius {
                continue;
            }
            let mut total = 0.0;
            for (angle, &degrees) in geometry.angles_degrees.iter().enumerate() {
                let (sin, cos) = f64::from(degrees).to_radians().sin_cos();
                let u = y * cos - x * sin + center;
                if u < 0.0 || u > (filtered_len - 1) as f64 {
                    continue;
                }
                let base = u.floor() as usize;
                let left = filtered[angle * filtered_len + base];
                let right = filtered[angle * filtered_len + (base + 1).min(filtered_len - 1)];
                total += left + (u - base as f64) * (right - left);
            }
            image[row * size + column] = total * PI / (2.0 * geometry.angle_count() as f64);
        }
    }
    image
}
