//! Sample grids: one row of images per class, written as a grey-level PNG.

use std::path::Path;

use crate::error::{Error, Result};

/// Pixels between neighbouring images.
const GAP: u32 = 2;

/// Writes `images` (n x side^2 values in [0, 1]) as a PNG grid with one row
/// per class, holding up to `per_class` images with that label in order of
/// appearance. Classes with fewer images leave their row partly empty.
pub fn write_sample_grid(
    path: &Path,
    images: &[f32],
    labels: &[u32],
    side: usize,
    classes: usize,
    per_class: usize,
) -> Result<()> {
    let pixels = side * side;
    if side == 0 || images.len() != labels.len() * pixels || classes == 0 || per_class == 0 {
        return Err(Error::ShapeMismatch {
            operation: "write_sample_grid",
            message: format!(
                "{} values and {} labels for images of {side} x {side}, {classes} classes, {per_class} per class",
                images.len(),
                labels.len()
            ),
        });
    }
    let cell = side as u32 + GAP;
    let width = GAP + cell * per_class as u32;
    let height = GAP + cell * classes as u32;
    let mut canvas = image::GrayImage::from_pixel(width, height, image::Luma([64]));
    let mut filled = vec![0usize; classes];
    for (index, &label) in labels.iter().enumerate() {
        let class = label as usize;
        if class >= classes || filled[class] >= per_class {
            continue;
        }
        let left = GAP + cell * filled[class] as u32;
        let top = GAP + cell * class as u32;
        let image = &images[index * pixels..(index + 1) * pixels];
        for (offset, &value) in image.iter().enumerate() {
            let grey = (value.clamp(0.0, 1.0) * 255.0).round() as u8;
            let (row, column) = ((offset / side) as u32, (offset % side) as u32);
            canvas.put_pixel(left + column, top + row, image::Luma([grey]));
        }
        filled[class] += 1;
    }
    canvas.save(path).map_err(|error| Error::Plot {
        path: path.to_path_buf(),
        message: error.to_string(),
    })
}
