//! Sinograms in `.npy` files, in scikit-image's layout.
//!
//! On disk a sinogram is a 2-D array of shape (detectors, angles): column a
//! is the projection at angle a, as `skimage.transform.radon` returns it and
//! `iradon` expects it. maso writes float32 and reads float32 or float64 (and
//! the integer types that [`crate::io::npy`] accepts). In memory maso keeps
//! the transpose, angles x detectors, so one projection is contiguous.

use std::path::Path;

use crate::ct::geometry::RadonGeometry;
use crate::error::{Error, Result};
use crate::io::npy;

/// A sinogram read from disk, in maso's layout.
#[derive(Debug, Clone, PartialEq)]
pub struct Sinogram {
    /// Number of projections (columns of the file's array).
    pub angles: usize,
    /// Detector bins per projection (rows of the file's array).
    pub detectors: usize,
    /// Values, row-major angles x detectors.
    pub data: Vec<f32>,
}

impl Sinogram {
    /// Reads a (detectors, angles) array and transposes it to angles x detectors.
    pub fn read_npy(path: impl AsRef<Path>) -> Result<Sinogram> {
        let path = path.as_ref();
        let array = npy::read_f32(path)?;
        let [detectors, angles] = array.shape[..] else {
            return Err(Error::Npy {
                path: path.to_path_buf(),
                message: format!(
                    "a sinogram must be a 2-D array of shape (detectors, angles), as skimage.transform.radon returns it, \
                     but the shape is {:?}",
                    array.shape
                ),
            });
        };
        if detectors == 0 || angles == 0 {
            return Err(Error::Npy {
                path: path.to_path_buf(),
                message: format!("the sinogram has shape ({detectors}, {angles}); it needs at least one detector and one angle"),
            });
        }
        Ok(Sinogram {
            angles,
            detectors,
            data: transpose(&array.data, detectors, angles),
        })
    }

    /// Checks that the sinogram has the geometry's angle and detector
    /// counts; the error names both shapes.
    pub fn check_geometry(&self, geometry: &RadonGeometry, origin: &Path) -> Result<()> {
        if self.angles == geometry.angle_count() && self.detectors == geometry.detectors {
            return Ok(());
        }
        Err(Error::ShapeMismatch {
            operation: "reading a sinogram",
            message: format!(
                "{} contains {} detectors x {} angles (file shape ({}, {})), but the geometry has {} detectors x {} angles \
                 (image size {}); pass matching --detectors/--angles or recompute the sinogram",
                origin.display(),
                self.detectors,
                self.angles,
                self.detectors,
                self.angles,
                geometry.detectors,
                geometry.angle_count(),
                geometry.size
            ),
        })
    }
}

/// Reads a sinogram written in scikit-image's layout and checks it against
/// `geometry`; returns angles x detectors values.
pub fn read_sinogram(path: impl AsRef<Path>, geometry: &RadonGeometry) -> Result<Vec<f32>> {
    let path = path.as_ref();
    let sinogram = Sinogram::read_npy(path)?;
    sinogram.check_geometry(geometry, path)?;
    Ok(sinogram.data)
}

/// Writes `sinogram` (angles x detectors) as a float32 (detectors, angles) array.
pub fn write_sinogram(
    path: impl AsRef<Path>,
    geometry: &RadonGeometry,
    sinogram: &[f32],
) -> Result<()> {
    if sinogram.len() != geometry.sinogram_len() {
        return Err(Error::ShapeMismatch {
            operation: "writing a sinogram",
            message: format!(
                "the sinogram has {} values, but the geometry needs {} angles x {} detectors = {}",
                sinogram.len(),
                geometry.angle_count(),
                geometry.detectors,
                geometry.sinogram_len()
            ),
        });
    }
    let on_disk = transpose(sinogram, geometry.angle_count(), geometry.detectors);
    npy::write_f32(
        path,
        &[geometry.detectors, geometry.angle_count()],
        &on_disk,
    )
}

/// Transposes a row-major rows x columns matrix.
fn transpose(values: &[f32], rows: usize, columns: usize) -> Vec<f32> {
    let mut transposed = vec![0.0; values.len()];
    for row in 0..rows {
        for column in 0..columns {
            transposed[column * rows + row] = values[row * columns + column];
        }
    }
    transposed
}
