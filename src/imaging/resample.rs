//! Resampling: area (box) downsampling, bilinear and bicubic resizing, and
//! the pixel-centre coordinate grid that coordinate networks fit and render on.
//!
//! Resizing treats a pixel as a sample at its centre: output pixel `i` of `n`
//! reads the input at `(i + 0.5) * in / n - 0.5` (the half-pixel convention,
//! `align_corners=False` in PyTorch, `INTER_LINEAR`/`INTER_CUBIC` in OpenCV).
//! Filter taps that fall outside the image read the nearest edge pixel (edge
//! clamping). Bicubic uses Keys' cubic convolution kernel (R. Keys, "Cubic
//! convolution interpolation for digital image processing", IEEE Trans. ASSP
//! 29(6), 1981), with a = -0.5 as in Keys' paper, PIL and MATLAB. There is no
//! antialiasing filter, so shrinking with bilinear or bicubic aliases; use
//! [`area_downsample`] for integer reductions.

use super::image::Image;
use crate::error::{Error, Result};

/// Keys' parameter for [`resize_bicubic`].
pub const BICUBIC_A: f64 = -0.5;

/// Crops the right columns and bottom rows that do not fill a whole
/// `factor` x `factor` block, keeping the top-left
/// `factor * floor(width / factor)` x `factor * floor(height / factor)` pixels.
///
/// This is the ground truth that matches [`area_downsample`]'s output.
/// Errors as [`area_downsample`] does for `factor`.
pub fn crop_to_multiple(image: &Image, factor: usize) -> Result<Image> {
    check_factor(image, factor)?;
    let width = image.width() / factor * factor;
    let height = image.height() / factor * factor;
    image.crop(0, 0, width, height)
}

/// Averages each `factor` x `factor` block into one pixel (area or box
/// downsampling), accumulating in float64.
///
/// The output is `floor(width / factor)` x `floor(height / factor)`. When a
/// side is not a multiple of `factor`, the incomplete blocks at the right and
/// bottom are dropped, as most super-resolution code does, so the result
/// equals `area_downsample(&crop_to_multiple(image, factor)?, factor)`.
/// (`skimage.transform.downscale_local_mean` pads with zeros instead, which
/// darkens the last row and column.) Errors if `factor` is 0 or larger than
/// the width or height.
pub fn area_downsample(image: &Image, factor: usize) -> Result<Image> {
    check_factor(image, factor)?;
    let channels = image.channels();
    let (width, height) = (image.width() / factor, image.height() / factor);
    let source = image.data();
    let source_row = image.width() * channels;
    let block_size = (factor * factor) as f64;

    let mut data = Vec::with_capacity(width * height * channels);
    let mut sums = vec![0.0f64; channels];
    for y in 0..height {
        for x in 0..width {
            sums.fill(0.0);
            for row in y * factor..(y + 1) * factor {
                let start = row * source_row + x * factor * channels;
                for pixel in source[start..start + factor * channels].chunks_exact(channels) {
                    for (sum, &value) in sums.iter_mut().zip(pixel) {
                        *sum += f64::from(value);
                    }
                }
            }
            data.extend(sums.iter().map(|sum| (sum / block_size) as f32));
        }
    }
    Image::new(width, height, channels, data)
}

fn check_factor(image: &Image, factor: usize) -> Result<()> {
    if factor == 0 || factor > image.width() || factor > image.height() {
        return Err(Error::InvalidArgument {
            name: "factor",
            value: factor.to_string(),
            expected: format!(
                "an integer from 1 to {} (the smaller side of the {} x {} image)",
                image.width().min(image.height()),
                image.width(),
                image.height()
            ),
        });
    }
    Ok(())
}

/// Resizes with bilinear interpolation (half-pixel centres, edge clamping).
///
/// Errors if `width` or `height` is 0.
pub fn resize_bilinear(image: &Image, width: usize, height: usize) -> Result<Image> {
    check_size(width, height)?;
    let columns = axis_taps(image.width(), width, 1, |t| [1.0 - t, t]);
    let rows = axis_taps(image.height(), height, 1, |t| [1.0 - t, t]);
    apply_separable(image, &columns, &rows)
}

/// Resizes with Keys' cubic convolution, a = -0.5 ([`BICUBIC_A`]), half-pixel
/// centres and edge clamping.
///
/// Where all four taps of a pixel lie inside the image this equals PIL's
/// `Image.resize(..., BICUBIC)` when enlarging. PIL renormalises the weights of
/// the in-range taps near the border instead of clamping, so the outermost
/// one or two output pixels per input pixel differ. Errors if `width` or
/// `height` is 0.
pub fn resize_bicubic(image: &Image, width: usize, height: usize) -> Result<Image> {
    resize_keys_cubic(image, width, height, BICUBIC_A)
}

/// Resizes with Keys' cubic convolution kernel of parameter `a`
/// (half-pixel centres, edge clamping).
///
/// a = -0.5 is [`resize_bicubic`]. With a = -0.75 this reproduces OpenCV's
/// `cv2.resize(..., interpolation=INTER_CUBIC)` on float images (tested
/// against OpenCV 5.1). PyTorch's bicubic `interpolate` also uses a = -0.75.
/// Errors if `width` or `height` is 0 or `a` is not finite.
pub fn resize_keys_cubic(image: &Image, width: usize, height: usize, a: f64) -> Result<Image> {
    check_size(width, height)?;
    if !a.is_finite() {
        return Err(Error::InvalidArgument {
            name: "a",
            value: a.to_string(),
            expected: "a finite kernel parameter, usually -0.5 or -0.75".to_string(),
        });
    }
    let weights = |t: f64| {
        [
            keys_kernel(t + 1.0, a),
            keys_kernel(t, a),
            keys_kernel(1.0 - t, a),
            keys_kernel(2.0 - t, a),
        ]
    };
    let columns = axis_taps(image.width(), width, 2, weights);
    let rows = axis_taps(image.height(), height, 2, weights);
    apply_separable(image, &columns, &rows)
}

/// Keys' cubic convolution kernel W(x) with parameter `a`.
pub fn keys_kernel(x: f64, a: f64) -> f64 {
    let x = x.abs();
    if x <= 1.0 {
        ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0
    } else if x < 2.0 {
        ((a * x - 5.0 * a) * x + 8.0 * a) * x - 4.0 * a
    } else {
        0.0
    }
}

fn check_size(width: usize, height: usize) -> Result<()> {
    if width == 0 || height == 0 {
        return Err(Error::InvalidArgument {
            name: "output size",
            value: format!("{width} x {height}"),
            expected: "a width and a height of at least 1 pixel".to_string(),
        });
    }
    Ok(())
}

/// Input indices and weights that produce one output sample along an axis.
struct Taps {
    indices: Vec<usize>,
    weights: Vec<f64>,
}

/// Builds the taps of every output position along one axis. The interpolation
/// window has `2 * half_width` taps starting at `floor(source) - half_width + 1`,
/// and `weights` maps the fractional part of the source position to their weights.
fn axis_taps<const N: usize>(
    input: usize,
    output: usize,
    half_width: usize,
    weights: impl Fn(f64) -> [f64; N],
) -> Vec<Taps> {
    let scale = input as f64 / output as f64;
    let last = input as i64 - 1;
    (0..output)
        .map(|i| {
            let source = (i as f64 + 0.5) * scale - 0.5;
            let base = source.floor();
            let first = base as i64 - half_width as i64 + 1;
            Taps {
                indices: (0..N as i64)
                    .map(|k| (first + k).clamp(0, last) as usize)
                    .collect(),
                weights: weights(source - base).to_vec(),
            }
        })
        .collect()
}

/// Applies `columns` along x, then `rows` along y, in float64. Errors only if
/// a result overflows `f32`.
fn apply_separable(image: &Image, columns: &[Taps], rows: &[Taps]) -> Result<Image> {
    let channels = image.channels();
    let source = image.data();
    let (in_width, out_width, out_height) = (image.width(), columns.len(), rows.len());

    let mut horizontal = vec![0.0f64; image.height() * out_width * channels];
    for y in 0..image.height() {
        for (x, taps) in columns.iter().enumerate() {
            for (&index, &weight) in taps.indices.iter().zip(&taps.weights) {
                let from = (y * in_width + index) * channels;
                let to = (y * out_width + x) * channels;
                for c in 0..channels {
                    horizontal[to + c] += weight * f64::from(source[from + c]);
                }
            }
        }
    }

    let mut data = vec![0.0f64; out_height * out_width * channels];
    for (y, taps) in rows.iter().enumerate() {
        for (&index, &weight) in taps.indices.iter().zip(&taps.weights) {
            let from = index * out_width * channels;
            let to = y * out_width * channels;
            for (out, &value) in data[to..to + out_width * channels]
                .iter_mut()
                .zip(&horizontal[from..])
            {
                *out += weight * value;
            }
        }
    }

    let data = data.into_iter().map(|value| value as f32).collect();
    Image::new(out_width, out_height, channels, data)
}

/// Returns the pixel centres of a `width` x `height` grid in [-1, 1]^2, row
/// by row (y outer, x inner), each as `[x, y]` with
/// x = -1 + (2i + 1) / width and y = -1 + (2j + 1) / height.
///
/// The grid covers the image as a square of side 2 whatever its resolution,
/// so the centre of a low-resolution pixel is the mean of the centres of the
/// high-resolution pixels it averages in [`area_downsample`]. (Mapping the
/// corner pixels to -1 and 1 instead would shift the two grids against each
/// other.) An empty grid is returned when `width` or `height` is 0.
pub fn coordinate_grid(width: usize, height: usize) -> Vec<[f32; 2]> {
    let centre = |index: usize, size: usize| (-1.0 + (2 * index + 1) as f64 / size as f64) as f32;
    let mut grid = Vec::with_capacity(width * height);
    for j in 0..height {
        let y = centre(j, height);
        grid.extend((0..width).map(|i| [centre(i, width), y]));
    }
    grid
}
