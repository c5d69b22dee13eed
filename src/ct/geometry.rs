//! Parallel-beam geometry shared by the Radon transform, its adjoint and
//! filtered back-projection.

use crate::error::{Error, Result};

/// Parallel-beam scan of a square image: the projection angles and the
/// number of detector bins per projection.
///
/// Coordinates are in pixels. The rotation centre is pixel
/// (`size / 2`, `size / 2`) (integer division, row and column), detector bin
/// `c` sits at offset `c - detectors / 2` from it, and detector bins are one
/// pixel apart, as in scikit-image's `radon`.
#[derive(Debug, Clone, PartialEq)]
pub struct RadonGeometry {
    /// Side of the square image in pixels.
    pub size: usize,
    /// Projection angles in degrees (any values, in any order).
    pub angles_degrees: Vec<f32>,
    /// Detector bins per projection (usually `size`).
    pub detectors: usize,
}

impl RadonGeometry {
    /// Returns `n_angles` angles evenly spaced over [0, 180) degrees
    /// (NumPy's `linspace(0, 180, n_angles, endpoint=False)`) and `size`
    /// detectors.
    pub fn uniform(size: usize, n_angles: usize) -> Self {
        let step = 180.0 / n_angles as f64;
        let angles_degrees = (0..n_angles)
            .map(|index| (index as f64 * step) as f32)
            .collect();
        Self {
            size,
            angles_degrees,
            detectors: size,
        }
    }

    /// Returns the geometry with `detectors` bins per projection.
    pub fn with_detectors(mut self, detectors: usize) -> Self {
        self.detectors = detectors;
        self
    }

    /// Returns the geometry for an image of `height` x `width` pixels, which
    /// must be square.
    pub fn for_image(height: usize, width: usize, angles_degrees: Vec<f32>) -> Result<Self> {
        if height != width {
            return Err(Error::InvalidArgument {
                name: "image shape",
                value: format!("{height} x {width} (height x width)"),
                expected: "a square image; crop or pad it to N x N first".to_string(),
            });
        }
        let geometry = Self {
            size: width,
            angles_degrees,
            detectors: width,
        };
        geometry.validate()?;
        Ok(geometry)
    }

    /// Number of projection angles.
    pub fn angle_count(&self) -> usize {
        self.angles_degrees.len()
    }

    /// Pixels in the image (`size * size`).
    pub fn image_len(&self) -> usize {
        self.size * self.size
    }

    /// Values in a sinogram (`angles * detectors`).
    pub fn sinogram_len(&self) -> usize {
        self.angle_count() * self.detectors
    }

    /// Samples summed along each ray: `max(size, detectors)`, one pixel
    /// apart and centred on the rotation centre.
    ///
    /// With `detectors == size` this is scikit-image's `radon(circle=True)`;
    /// with `detectors = ceil(sqrt(2) * size)` it is `radon(circle=False)`,
    /// which pads the image to that side before rotating it.
    pub fn ray_samples(&self) -> usize {
        self.size.max(self.detectors)
    }

    /// Checks every field; the error names the field, its value and the fix.
    pub fn validate(&self) -> Result<()> {
        self.validate_counts()?;
        self.validate_angles()?;
        self.validate_extent()
    }

    fn validate_counts(&self) -> Result<()> {
        if self.size == 0 {
            return Err(invalid("image size", "0", "at least 1 pixel"));
        }
        if self.detectors == 0 {
            return Err(invalid(
                "detectors",
                "0",
                "at least 1 detector bin per projection",
            ));
        }
        if self.angles_degrees.is_empty() {
            return Err(invalid(
                "number of angles",
                "0",
                "at least 1 projection angle",
            ));
        }
        Ok(())
    }

    fn validate_angles(&self) -> Result<()> {
        let not_finite = self
            .angles_degrees
            .iter()
            .enumerate()
            .find(|(_, angle)| !angle.is_finite());
        match not_finite {
            Some((index, angle)) => Err(invalid(
                "projection angle",
                &format!("{angle} (angle {index})"),
                "a finite angle in degrees",
            )),
            None => Ok(()),
        }
    }

    fn validate_extent(&self) -> Result<()> {
        // The shaders index with u32 and convert pixel coordinates to f32,
        // which is exact for integers up to 2^24.
        let limit = 1usize << 24;
        if self.size > limit || self.detectors > limit {
            return Err(invalid(
                "image size or detectors",
                &format!("{} and {}", self.size, self.detectors),
                "at most 2^24 each",
            ));
        }

        let too_long = |len: Option<usize>| len.is_none_or(|len| len > u32::MAX as usize);
        if too_long(self.size.checked_mul(self.size))
            || too_long(self.angle_count().checked_mul(self.detectors))
        {
            let shape = format!(
                "{} x {} image, {} angles x {} detectors",
                self.size,
                self.size,
                self.angle_count(),
                self.detectors
            );
            return Err(invalid(
                "geometry",
                &shape,
                "an image and a sinogram of at most 2^32 - 1 values each",
            ));
        }
        Ok(())
    }

    /// (cos, sin) of every angle, computed in float64 and rounded to f32.
    pub(crate) fn cos_sin(&self) -> Vec<[f32; 2]> {
        self.angles_degrees
            .iter()
            .map(|&degrees| {
                let radians = f64::from(degrees).to_radians();
                [radians.cos() as f32, radians.sin() as f32]
            })
            .collect()
    }
}

pub(crate) fn invalid(name: &'static str, value: &str, expected: &str) -> Error {
    Error::InvalidArgument {
        name,
        value: value.to_string(),
        expected: expected.to_string(),
    }
}

/// Rejects NaN and infinite values, naming the array and the first bad index.
pub(crate) fn check_finite(name: &'static str, values: &[f32]) -> Result<()> {
    match values.iter().position(|value| !value.is_finite()) {
        None => Ok(()),
        Some(index) => Err(invalid(
            name,
            &format!("{} at index {index}", values[index]),
            "finite values only; replace NaN and infinite entries first",
        )),
    }
}

/// Checks that `len` equals `expected`, naming both shapes.
pub(crate) fn check_len(
    operation: &'static str,
    what: &str,
    len: usize,
    expected: usize,
    shape: &str,
) -> Result<()> {
    if len == expected {
        return Ok(());
    }
    Err(Error::ShapeMismatch {
        operation,
        message: format!("{what} has {len} values, but the geometry needs {expected} ({shape})"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uniform_angles_match_linspace() {
        let geometry = RadonGeometry::uniform(8, 6);
        assert_eq!(
            geometry.angles_degrees,
            vec![0.0, 30.0, 60.0, 90.0, 120.0, 150.0]
        );
        assert_eq!(geometry.detectors, 8);
    }

    #[test]
    fn validate_rejects_zero_angles() {
        let message = RadonGeometry::uniform(8, 0)
            .validate()
            .unwrap_err()
            .to_string();
        assert!(message.contains("number of angles"), "{message}");
    }

    #[test]
    fn for_image_rejects_non_square() {
        let message = RadonGeometry::for_image(4, 5, vec![0.0])
            .unwrap_err()
            .to_string();
        assert!(message.contains("4 x 5"), "{message}");
    }
}
