//! Full-reference image quality: peak signal-to-noise ratio (PSNR) and the
//! structural similarity index (SSIM), both for a data range of 1.
//!
//! SSIM follows Z. Wang, A. C. Bovik, H. R. Sheikh and E. P. Simoncelli,
//! "Image quality assessment: from error visibility to structural
//! similarity", IEEE Trans. Image Processing 13(4), 2004, and reproduces
//! `skimage.metrics.structural_similarity(reference, test, data_range=1,
//! gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
//! channel_axis=-1)` of scikit-image 0.26: local statistics from a Gaussian
//! filter (sigma 1.5, truncated at 3.5 sigma, so 11 taps) with
//! `scipy.ndimage`'s `mode="reflect"` border, K1 = 0.01, K2 = 0.03, the mean of
//! the SSIM map after cropping 5 pixels from each border, and for RGB the
//! mean of the three channels' values. Everything is computed in float64.

use super::image::Image;
use crate::error::{Error, Result};

/// Standard deviation of SSIM's Gaussian window, in pixels.
pub const SSIM_SIGMA: f64 = 1.5;

/// Window side of SSIM: `2 * floor(3.5 * sigma + 0.5) + 1`, the extent of
/// the truncated Gaussian filter. Images need at least this many pixels per side.
pub const SSIM_WINDOW: usize = 11;

const K1: f64 = 0.01;
const K2: f64 = 0.03;

/// Returns the peak signal-to-noise ratio in dB for a data range of 1:
/// `10 log10(1 / MSE)`, with the mean squared error over all samples and
/// channels (as `skimage.metrics.peak_signal_noise_ratio(..., data_range=1)`).
///
/// Identical images give `f64::INFINITY`. Values are not clamped, so
/// clamp to [0, 1] first to score what [`write_png`](super::write_png) saves.
/// Errors if the sizes or channel counts differ.
pub fn psnr(reference: &Image, test: &Image) -> Result<f64> {
    check_same_shape(reference, test, "psnr")?;
    let squared_error: f64 = reference
        .data()
        .iter()
        .zip(test.data())
        .map(|(&a, &b)| (f64::from(a) - f64::from(b)).powi(2))
        .sum();
    let mse = squared_error / reference.data().len() as f64;
    if mse == 0.0 {
        return Ok(f64::INFINITY);
    }
    Ok(-10.0 * mse.log10())
}

/// Returns the mean structural similarity of `test` to `reference` for a data
/// range of 1, as scikit-image computes it (see the module documentation).
/// For RGB images it is the mean over the three channels.
///
/// Errors if the sizes or channel counts differ, or if a side is shorter than
/// [`SSIM_WINDOW`] (11) pixels, which scikit-image rejects as well.
pub fn ssim(reference: &Image, test: &Image) -> Result<f64> {
    check_same_shape(reference, test, "ssim")?;
    if reference.width() < SSIM_WINDOW || reference.height() < SSIM_WINDOW {
        return Err(Error::InvalidArgument {
            name: "image size",
            value: format!("{} x {}", reference.width(), reference.height()),
            expected: format!(
                "at least {SSIM_WINDOW} x {SSIM_WINDOW} pixels for SSIM's Gaussian window; use larger images"
            ),
        });
    }
    let channels = reference.channels();
    let total: f64 = (0..channels)
        .map(|channel| {
            let x = channel_plane(reference, channel);
            let y = channel_plane(test, channel);
            ssim_plane(&x, &y, reference.width(), reference.height())
        })
        .sum();
    Ok(total / channels as f64)
}

fn check_same_shape(reference: &Image, test: &Image, operation: &'static str) -> Result<()> {
    let shape = |image: &Image| (image.width(), image.height(), image.channels());
    if shape(reference) != shape(test) {
        return Err(Error::ShapeMismatch {
            operation,
            message: format!(
                "the reference is {} x {} with {} channel(s) but the test image is {} x {} with {} channel(s)",
                reference.width(),
                reference.height(),
                reference.channels(),
                test.width(),
                test.height(),
                test.channels()
            ),
        });
    }
    Ok(())
}

fn channel_plane(image: &Image, channel: usize) -> Vec<f64> {
    image
        .data()
        .iter()
        .skip(channel)
        .step_by(image.channels())
        .map(|&value| f64::from(value))
        .collect()
}

/// Mean SSIM of one channel, after cropping (window - 1) / 2 pixels per border.
fn ssim_plane(x: &[f64], y: &[f64], width: usize, height: usize) -> f64 {
    let kernel = gaussian_kernel(SSIM_SIGMA, SSIM_WINDOW / 2);
    let filter = |values: Vec<f64>| gaussian_filter(&values, width, height, &kernel);
    let product = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(p, q)| p * q).collect::<Vec<f64>>();

    let mean_x = filter(x.to_vec());
    let mean_y = filter(y.to_vec());
    let mean_xx = filter(product(x, x));
    let mean_yy = filter(product(y, y));
    let mean_xy = filter(product(x, y));

    let (c1, c2) = (K1 * K1, K2 * K2);
    let pad = (SSIM_WINDOW - 1) / 2;
    let mut sum = 0.0;
    for row in pad..height - pad {
        for column in pad..width - pad {
            let i = row * width + column;
            let (ux, uy) = (mean_x[i], mean_y[i]);
            let variance_x = mean_xx[i] - ux * ux;
            let variance_y = mean_yy[i] - uy * uy;
            let covariance = mean_xy[i] - ux * uy;
            let numerator = (2.0 * ux * uy + c1) * (2.0 * covariance + c2);
            let denominator = (ux * ux + uy * uy + c1) * (variance_x + variance_y + c2);
            sum += numerator / denominator;
        }
    }
    sum / ((height - 2 * pad) * (width - 2 * pad)) as f64
}

/// Normalised Gaussian weights at offsets -radius..=radius, as
/// `scipy.ndimage.gaussian_filter` builds them.
fn gaussian_kernel(sigma: f64, radius: usize) -> Vec<f64> {
    let weights: Vec<f64> = (0..=2 * radius)
        .map(|k| {
            let offset = k as f64 - radius as f64;
            (-0.5 * offset * offset / (sigma * sigma)).exp()
        })
        .collect();
    let total: f64 = weights.iter().sum();
    weights.into_iter().map(|weight| weight / total).collect()
}

/// Maps an index outside 0..len into it by `scipy.ndimage`'s "reflect" rule
/// (d c b a | a b c d | d c b a): the edge sample is repeated.
fn reflect_index(index: i64, len: usize) -> usize {
    let period = 2 * len as i64;
    let folded = index.rem_euclid(period);
    if folded < len as i64 {
        folded as usize
    } else {
        (period - 1 - folded) as usize
    }
}

/// Correlates a row-major plane with `kernel` along y, then along x
/// (the axis order of `scipy.ndimage.gaussian_filter`).
fn gaussian_filter(values: &[f64], width: usize, height: usize, kernel: &[f64]) -> Vec<f64> {
    let radius = (kernel.len() / 2) as i64;

    let mut along_y = vec![0.0; values.len()];
    for row in 0..height {
        for (k, &weight) in kernel.iter().enumerate() {
            let source = reflect_index(row as i64 + k as i64 - radius, height);
            let (to, from) = (row * width, source * width);
            for (out, &value) in along_y[to..to + width]
                .iter_mut()
                .zip(&values[from..from + width])
            {
                *out += weight * value;
            }
        }
    }

    let mut filtered = vec![0.0; values.len()];
    for row in 0..height {
        let line = &along_y[row * width..(row + 1) * width];
        for (column, out) in filtered[row * width..(row + 1) * width]
            .iter_mut()
            .enumerate()
        {
            *out = kernel
                .iter()
                .enumerate()
                .map(|(k, &weight)| {
                    weight * line[reflect_index(column as i64 + k as i64 - radius, width)]
                })
                .sum();
        }
    }
    filtered
}
