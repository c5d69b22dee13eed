//! In-memory images and PNG/JPEG input and output.
//!
//! An [`Image`] stores `f32` samples row by row with channels interleaved
//! (grey: one channel, RGB: three). Values are nominally in [0, 1], the range
//! the quality metrics and coordinate networks assume. Files are decoded and
//! encoded with the `image` crate (PNG and JPEG).

use std::io::Cursor;
use std::path::Path;

use image::{DynamicImage, ImageFormat, ImageReader};

use crate::error::{Error, Result};

/// Row-major image, channels interleaved, values nominally in [0, 1].
#[derive(Debug, Clone, PartialEq)]
pub struct Image {
    width: usize,
    height: usize,
    channels: usize,
    data: Vec<f32>,
}

/// Weights of R, G and B in [`Image::to_grey`]: the ITU-R BT.709 luma
/// coefficients that `skimage.color.rgb2gray` uses (scikit-image 0.19 and later).
pub const GREY_WEIGHTS: [f64; 3] = [0.2125, 0.7154, 0.0721];

impl Image {
    /// Creates an image from samples stored row by row, channels interleaved.
    ///
    /// Errors if `width` or `height` is zero, `channels` is not 1 or 3,
    /// `data.len()` differs from `width * height * channels`, or a value is
    /// NaN or infinite. Values outside [0, 1] are accepted.
    pub fn new(width: usize, height: usize, channels: usize, data: Vec<f32>) -> Result<Self> {
        let expected_len = checked_len(width, height, channels)?;
        if data.len() != expected_len {
            return Err(Error::ShapeMismatch {
                operation: "Image::new",
                message: format!(
                    "{width} x {height} pixels with {channels} channel(s) need {expected_len} values, got {}",
                    data.len()
                ),
            });
        }
        if let Some(index) = data.iter().position(|value| !value.is_finite()) {
            return Err(Error::InvalidArgument {
                name: "image value",
                value: format!("{} at index {index}", data[index]),
                expected:
                    "finite values; replace NaN and infinite samples before building the image"
                        .to_string(),
            });
        }
        Ok(Self {
            width,
            height,
            channels,
            data,
        })
    }

    /// Creates a black image (all samples 0).
    pub fn zeros(width: usize, height: usize, channels: usize) -> Result<Self> {
        let len = checked_len(width, height, channels)?;
        Self::new(width, height, channels, vec![0.0; len])
    }

    /// Width in pixels.
    pub fn width(&self) -> usize {
        self.width
    }

    /// Height in pixels.
    pub fn height(&self) -> usize {
        self.height
    }

    /// Number of channels: 1 (grey) or 3 (RGB).
    pub fn channels(&self) -> usize {
        self.channels
    }

    /// Samples, row by row, channels interleaved.
    pub fn data(&self) -> &[f32] {
        &self.data
    }

    /// Consumes the image and returns its samples.
    pub fn into_data(self) -> Vec<f32> {
        self.data
    }

    /// Returns the sample of `channel` at column `x`, row `y`.
    ///
    /// # Panics
    ///
    /// Panics if `x`, `y` or `channel` is out of range, like slice indexing.
    pub fn get(&self, x: usize, y: usize, channel: usize) -> f32 {
        assert!(
            x < self.width && y < self.height && channel < self.channels,
            "pixel ({x}, {y}) channel {channel} is outside a {} x {} image with {} channel(s)",
            self.width,
            self.height,
            self.channels
        );
        self.data[(y * self.width + x) * self.channels + channel]
    }

    /// Converts to one channel with the weights of `skimage.color.rgb2gray`
    /// ([`GREY_WEIGHTS`]: 0.2125 R + 0.7154 G + 0.0721 B). A grey image is
    /// returned unchanged.
    pub fn to_grey(&self) -> Image {
        if self.channels == 1 {
            return self.clone();
        }
        let data = self
            .data
            .chunks_exact(3)
            .map(|rgb| {
                let luma: f64 = rgb
                    .iter()
                    .zip(GREY_WEIGHTS)
                    .map(|(&value, weight)| f64::from(value) * weight)
                    .sum();
                luma as f32
            })
            .collect();
        Image {
            width: self.width,
            height: self.height,
            channels: 1,
            data,
        }
    }

    /// Copies the `width` x `height` rectangle whose top-left pixel is (`x`, `y`).
    ///
    /// Errors if the rectangle is empty or reaches outside the image.
    pub fn crop(&self, x: usize, y: usize, width: usize, height: usize) -> Result<Image> {
        check_rectangle(self, x, y, width, height)?;
        let mut data = Vec::with_capacity(width * height * self.channels);
        for row in y..y + height {
            let start = (row * self.width + x) * self.channels;
            data.extend_from_slice(&self.data[start..start + width * self.channels]);
        }
        Ok(Image {
            width,
            height,
            channels: self.channels,
            data,
        })
    }
}

/// Checks that the `width` x `height` rectangle at (`x`, `y`) is non-empty and
/// lies inside `image`.
pub(crate) fn check_rectangle(
    image: &Image,
    x: usize,
    y: usize,
    width: usize,
    height: usize,
) -> Result<()> {
    let fits_x = x
        .checked_add(width)
        .is_some_and(|right| right <= image.width);
    let fits_y = y
        .checked_add(height)
        .is_some_and(|bottom| bottom <= image.height);
    if width == 0 || height == 0 || !fits_x || !fits_y {
        return Err(Error::InvalidArgument {
            name: "rectangle",
            value: format!("x = {x}, y = {y}, width = {width}, height = {height}"),
            expected: format!(
                "a non-empty rectangle inside the {} x {} image (x + width <= {}, y + height <= {})",
                image.width, image.height, image.width, image.height
            ),
        });
    }
    Ok(())
}

/// Validates the shape and returns `width * height * channels`.
fn checked_len(width: usize, height: usize, channels: usize) -> Result<usize> {
    if channels != 1 && channels != 3 {
        return Err(Error::InvalidArgument {
            name: "channels",
            value: channels.to_string(),
            expected: "1 (grey) or 3 (RGB)".to_string(),
        });
    }
    if width == 0 || height == 0 {
        return Err(Error::InvalidArgument {
            name: "image size",
            value: format!("{width} x {height}"),
            expected: "a width and a height of at least 1 pixel".to_string(),
        });
    }
    width
        .checked_mul(height)
        .and_then(|pixels| pixels.checked_mul(channels))
        .ok_or_else(|| Error::InvalidArgument {
            name: "image size",
            value: format!("{width} x {height} x {channels}"),
            expected: "a sample count that fits in usize".to_string(),
        })
}

/// Reads a PNG or JPEG file (the format is detected from the content, not the
/// extension).
///
/// 8-bit samples are divided by 255 and 16-bit samples by 65535. Grey and
/// grey+alpha files give one channel; RGB and RGBA files give three. The alpha
/// channel is dropped, not composited, so transparent pixels keep their stored
/// colour. Errors name the path: a missing or unreadable file, content that is
/// not a decodable PNG or JPEG, or an image with zero width or height.
pub fn read_image(path: &Path) -> Result<Image> {
    let bytes = std::fs::read(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    decode_image(&bytes, path)
}

/// Decodes PNG or JPEG bytes; `origin` names the source in errors.
pub(crate) fn decode_image(bytes: &[u8], origin: &Path) -> Result<Image> {
    let invalid = |message: String| Error::Io {
        path: origin.to_path_buf(),
        source: std::io::Error::new(std::io::ErrorKind::InvalidData, message),
    };
    let reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|error| invalid(format!("cannot read the image header: {error}")))?;
    match reader.format() {
        Some(ImageFormat::Png | ImageFormat::Jpeg) => {}
        other => {
            let found = other.map_or("an unknown format".to_string(), |format| {
                format!("{format:?}")
            });
            return Err(invalid(format!(
                "the file is {found}, not PNG or JPEG; convert it to PNG"
            )));
        }
    }
    let decoded = reader
        .decode()
        .map_err(|error| invalid(format!("corrupt or unsupported image: {error}")))?;
    if decoded.width() == 0 || decoded.height() == 0 {
        return Err(invalid(format!(
            "the image is {} x {} pixels; it needs at least 1 x 1",
            decoded.width(),
            decoded.height()
        )));
    }
    from_dynamic(decoded)
}

fn from_dynamic(decoded: DynamicImage) -> Result<Image> {
    let width = decoded.width() as usize;
    let height = decoded.height() as usize;
    let scale_u8 = |value: &u8| f32::from(*value) / 255.0;
    let scale_u16 = |value: &u16| f32::from(*value) / 65535.0;
    let (channels, data): (usize, Vec<f32>) = match decoded {
        DynamicImage::ImageLuma8(buffer) => (1, buffer.as_raw().iter().map(scale_u8).collect()),
        DynamicImage::ImageRgb8(buffer) => (3, buffer.as_raw().iter().map(scale_u8).collect()),
        DynamicImage::ImageLuma16(buffer) => (1, buffer.as_raw().iter().map(scale_u16).collect()),
        DynamicImage::ImageRgb16(buffer) => (3, buffer.as_raw().iter().map(scale_u16).collect()),
        DynamicImage::ImageLumaA8(buffer) => {
            (1, buffer.as_raw().iter().step_by(2).map(scale_u8).collect())
        }
        DynamicImage::ImageLumaA16(buffer) => (
            1,
            buffer.as_raw().iter().step_by(2).map(scale_u16).collect(),
        ),
        DynamicImage::ImageRgba8(buffer) => {
            (3, drop_alpha(buffer.as_raw()).map(scale_u8).collect())
        }
        DynamicImage::ImageRgba16(buffer) => {
            (3, drop_alpha(buffer.as_raw()).map(scale_u16).collect())
        }
        other if other.color().has_color() => (3, other.to_rgb32f().into_raw()),
        other => (1, other.to_luma32f().into_raw()),
    };
    Image::new(width, height, channels, data)
}

fn drop_alpha<T>(rgba: &[T]) -> impl Iterator<Item = &T> {
    rgba.chunks_exact(4).flat_map(|pixel| &pixel[..3])
}

/// Writes `image` as an 8-bit grey or RGB PNG.
///
/// Samples are clamped to [0, 1] and rounded to the nearest of 0..=255. The
/// file is encoded in memory first, so an encoding error creates no file.
pub fn write_png(path: &Path, image: &Image) -> Result<()> {
    let bytes = encode_png(image).map_err(|error| Error::Io {
        path: path.to_path_buf(),
        source: std::io::Error::other(format!("failed to encode PNG: {error}")),
    })?;
    std::fs::write(path, bytes).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// Converts a sample to 8 bits: clamp to [0, 1], scale by 255, round half away from zero.
pub(crate) fn to_u8(value: f32) -> u8 {
    (value.clamp(0.0, 1.0) * 255.0).round() as u8
}

fn encode_png(image: &Image) -> std::result::Result<Vec<u8>, String> {
    let (Ok(width), Ok(height)) = (u32::try_from(image.width), u32::try_from(image.height)) else {
        return Err(format!(
            "{} x {} pixels exceed PNG's limit of 2^32 - 1 per side",
            image.width, image.height
        ));
    };
    let samples: Vec<u8> = image.data.iter().copied().map(to_u8).collect();
    let colour = if image.channels == 1 {
        image::ExtendedColorType::L8
    } else {
        image::ExtendedColorType::Rgb8
    };
    let mut bytes = Vec::new();
    let encoder = image::codecs::png::PngEncoder::new(&mut bytes);
    image::ImageEncoder::write_image(encoder, &samples, width, height, colour)
        .map_err(|error| error.to_string())?;
    Ok(bytes)
}
