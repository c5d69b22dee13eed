//! Filtered back-projection (FBP) as scikit-image's `iradon` computes it;
//! the steps are listed on [`filtered_back_projection`].

use std::str::FromStr;
use std::sync::Arc;

use bytemuck::{Pod, Zeroable};
use rustfft::num_complex::Complex;
use rustfft::FftPlanner;

use crate::ct::geometry::{check_finite, check_len, invalid, RadonGeometry};
use crate::ct::radon::{check_dispatch_limits, sinogram_shape};
use crate::error::{Error, Result};
use crate::gpu::{Gpu, Kernel};
use crate::shaders;

/// Largest output side of [`filtered_back_projection`]: the shader squares
/// pixel offsets in 32-bit integers.
pub const MAX_FBP_SIZE: usize = 32768;

const WORKGROUP_SIDE: usize = 16;

/// Frequency window applied to the ramp filter, as named by scikit-image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FbpFilter {
    /// The ramp alone (sharpest, noisiest).
    Ramp,
    /// Ramp times sinc: sin(w) / w with w = pi * frequency (cycles per bin).
    SheppLogan,
    /// Ramp times cos(pi * frequency).
    Cosine,
    /// Ramp times a Hamming window over the padded length.
    Hamming,
    /// Ramp times a Hann window over the padded length.
    Hann,
}

impl FbpFilter {
    /// Every filter, in the order of [`FbpFilter::NAMES`].
    pub const ALL: [FbpFilter; 5] = [
        Self::Ramp,
        Self::SheppLogan,
        Self::Cosine,
        Self::Hamming,
        Self::Hann,
    ];

    /// Names accepted by [`FbpFilter::from_str`] (scikit-image's `filter_name`).
    pub const NAMES: [&'static str; 5] = ["ramp", "shepp-logan", "cosine", "hamming", "hann"];

    /// scikit-image's name of the filter.
    pub fn name(self) -> &'static str {
        Self::NAMES[Self::ALL
            .iter()
            .position(|filter| *filter == self)
            .unwrap_or(0)]
    }
}

impl std::fmt::Display for FbpFilter {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(self.name())
    }
}

impl FromStr for FbpFilter {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self> {
        let requested = text.trim().to_ascii_lowercase().replace('_', "-");
        Self::NAMES
            .iter()
            .position(|name| *name == requested)
            .map(|index| Self::ALL[index])
            .ok_or_else(|| {
                invalid(
                    "FBP filter",
                    text,
                    &format!("one of: {}", Self::NAMES.join(", ")),
                )
            })
    }
}

/// Bins of each projection after the circle padding of step 1:
/// `ceil(sqrt(2) * detectors)`.
pub fn filtered_detectors(detectors: usize) -> usize {
    (std::f64::consts::SQRT_2 * detectors as f64).ceil() as usize
}

/// Length of the zero-padded projection that is Fourier transformed:
/// the next power of two of `2 * filtered`, at least 64.
pub fn padded_projection_len(filtered: usize) -> usize {
    (2 * filtered).next_power_of_two().max(64)
}

/// Computes the frequency response of `filter` on a grid of `len` (even)
/// DFT bins, in NumPy's FFT order (bin 0 is frequency 0).
pub fn fourier_filter(len: usize, filter: FbpFilter) -> Result<Vec<f64>> {
    if len < 2 || len % 2 != 0 {
        return Err(invalid(
            "filter length",
            &len.to_string(),
            "an even length of at least 2",
        ));
    }
    use std::f64::consts::PI;

    // The ramp's spatial kernel, symmetric about bin 0.
    let mut kernel: Vec<Complex<f64>> = (0..len)
        .map(|k| {
            let distance = k.min(len - k);
            let value = match distance {
                0 => 0.25,
                d if d % 2 == 1 => -1.0 / (PI * d as f64).powi(2),
                _ => 0.0,
            };
            Complex::new(value, 0.0)
        })
        .collect();
    FftPlanner::new().plan_fft_forward(len).process(&mut kernel);
    let mut response: Vec<f64> = kernel.iter().map(|value| 2.0 * value.re).collect();

    // NumPy's fftshift moves bin (k + len / 2) % len of a window to bin k.
    let shifted = |window: &dyn Fn(usize) -> f64, k: usize| window((k + len / 2) % len);
    let symmetric_window = |a0: f64, k: usize| {
        shifted(
            &|n| a0 - (1.0 - a0) * (2.0 * PI * n as f64 / (len - 1) as f64).cos(),
            k,
        )
    };
    for (k, value) in response.iter_mut().enumerate() {
        let window = match filter {
            FbpFilter::Ramp => 1.0,
            FbpFilter::SheppLogan if k == 0 => 1.0,
            FbpFilter::SheppLogan => {
                let frequency = if k < len / 2 {
                    k as f64
                } else {
                    k as f64 - len as f64
                } / len as f64;
                let omega = PI * frequency;
                omega.sin() / omega
            }
            FbpFilter::Cosine => shifted(&|n| (PI * n as f64 / len as f64).sin(), k),
            FbpFilter::Hamming => symmetric_window(0.54, k),
            FbpFilter::Hann => symmetric_window(0.5, k),
        };
        *value *= window;
    }
    Ok(response)
}

/// Filters every projection of `sinogram` (angles x detectors) by steps 1
/// and 2 of [`filtered_back_projection`] and returns the angles x `filtered`
/// result, `filtered = ceil(sqrt(2) * detectors)`, in float64.
pub fn filter_sinogram(
    geometry: &RadonGeometry,
    sinogram: &[f32],
    filter: FbpFilter,
) -> Result<Vec<f64>> {
    geometry.validate()?;
    check_len(
        "filtered back-projection",
        "the sinogram",
        sinogram.len(),
        geometry.sinogram_len(),
        &sinogram_shape(geometry),
    )?;
    check_finite("sinogram value", sinogram)?;

    let detectors = geometry.detectors;
    let filtered = filtered_detectors(detectors);
    let pad_before = filtered / 2 - detectors / 2;
    let padded = padded_projection_len(filtered);
    let response = fourier_filter(padded, filter)?;
    let mut planner = FftPlanner::new();
    let forward = planner.plan_fft_forward(padded);
    let inverse = planner.plan_fft_inverse(padded);

    let mut output = Vec::with_capacity(geometry.angle_count() * filtered);
    let mut buffer = vec![Complex::new(0.0, 0.0); padded];
    for projection in sinogram.chunks_exact(detectors) {
        buffer.fill(Complex::new(0.0, 0.0));
        for (slot, &value) in buffer[pad_before..pad_before + detectors]
            .iter_mut()
            .zip(projection)
        {
            slot.re = f64::from(value);
        }
        forward.process(&mut buffer);
        for (value, gain) in buffer.iter_mut().zip(&response) {
            *value *= *gain;
        }
        inverse.process(&mut buffer);
        // rustfft's inverse is unnormalised; NumPy's ifft divides by the length.
        output.extend(
            buffer[..filtered]
                .iter()
                .map(|value| value.re / padded as f64),
        );
    }
    Ok(output)
}

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct FbpParams {
    size: u32,
    filtered_detectors: u32,
    angles: u32,
    padding: u32,
    radius: f32,
    filtered_center: f32,
    scale: f32,
    padding1: f32,
}

/// Reconstructs a `size` x `size` image (row-major) from `sinogram`
/// (angles x detectors, row-major) by filtered back-projection.
///
/// Equals scikit-image's `iradon(sinogram.T, theta=angles, output_size=size,
/// filter_name=filter.name(), interpolation="linear", circle=True)` up to
/// float32 rounding; pixels outside the circle of radius `size / 2` are 0.
///
/// Steps, for a sinogram of `detectors` bins per projection:
/// 1. Zero-pad each projection to `filtered = ceil(sqrt(2) * detectors)` bins,
///    keeping the rotation centre at bin `filtered / 2`.
/// 2. Zero-pad again at the end to `padded = max(64, 2^ceil(log2(2 * filtered)))`
///    and multiply its discrete Fourier transform by the filter
///    ([`fourier_filter`]). The real part of the first `filtered` bins of the
///    inverse transform is the filtered projection. This step runs on the
///    CPU in float64 with `rustfft`.
/// 3. On the GPU (`shaders/ct_fbp.wgsl`), back-project with linear
///    interpolation, set pixels outside the inscribed circle to zero and
///    multiply by pi / (2 angles).
///
/// The ramp filter is not |frequency| sampled on the grid but the Fourier
/// transform of the band-limited ramp's spatial kernel: `f[0] = 1/4`,
/// `f[k] = -1 / (pi k)^2` for odd k (k counted circularly), 0 for other
/// even k, and `H = 2 Re(DFT(f))`. This removes the mean bias of the sampled ramp; the
/// construction is scikit-image's, which cites Kak and Slaney, "Principles
/// of Computerized Tomographic Imaging", 1988, chapter 3, equation 61.
/// The other filters multiply H by a window of the frequency.
pub fn filtered_back_projection(
    gpu: &Gpu,
    geometry: &RadonGeometry,
    sinogram: &[f32],
    filter: FbpFilter,
) -> Result<Vec<f32>> {
    if geometry.size > MAX_FBP_SIZE {
        return Err(invalid(
            "image size",
            &geometry.size.to_string(),
            &format!("at most {MAX_FBP_SIZE} for filtered back-projection"),
        ));
    }
    let filtered = filter_sinogram(geometry, sinogram, filter)?;
    let filtered_len = filtered_detectors(geometry.detectors);
    let back_projection_geometry = RadonGeometry {
        detectors: filtered_len,
        ..geometry.clone()
    };
    check_dispatch_limits(gpu, &back_projection_geometry)?;

    let filtered_f32: Vec<f32> = filtered.iter().map(|&value| value as f32).collect();
    let params = FbpParams {
        size: geometry.size as u32,
        filtered_detectors: filtered_len as u32,
        angles: geometry.angle_count() as u32,
        padding: 0,
        radius: (geometry.size / 2) as f32,
        filtered_center: (filtered_len / 2) as f32,
        scale: (std::f64::consts::PI / (2.0 * geometry.angle_count() as f64)) as f32,
        padding1: 0.0,
    };
    let kernel: Arc<Kernel> = gpu.kernel(&shaders::CT_FBP, "fbp_back_project", &[])?;
    let filtered_buffer = gpu.upload(&filtered_f32, "FBP filtered sinogram")?;
    let cos_sin = gpu.upload(&geometry.cos_sin(), "FBP angles (cos, sin)")?;
    let params = gpu.create_uniform(&params, "FBP parameters")?;
    let image = gpu.create_buffer::<f32>(geometry.image_len(), "FBP image")?;

    let side = geometry.size.div_ceil(WORKGROUP_SIDE) as u32;
    let mut recorder = gpu.recorder("filtered back-projection");
    recorder.dispatch(
        &kernel,
        &[
            (0, filtered_buffer.raw()),
            (1, cos_sin.raw()),
            (2, &params),
            (3, image.raw()),
        ],
        [side, side, 1],
        "fbp_back_project",
    )?;
    recorder.submit()?;
    gpu.read(&image)
}
