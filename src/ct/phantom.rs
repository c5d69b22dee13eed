//! The Shepp-Logan head phantom, evaluated from its ellipse table.
//!
//! The phantom is a sum of ten ellipses on the square [-1, 1]^2, x to the
//! right and y up. A point (x, y) lies in ellipse k when
//!
//! ```text
//! ((x - x0) cos(phi) + (y - y0) sin(phi))^2 / a^2
//!   + ((y - y0) cos(phi) - (x - x0) sin(phi))^2 / b^2 <= 1
//! ```
//!
//! and the image value there is the sum of the intensities of the ellipses
//! that contain it. The table is the widely reproduced one of Shepp and
//! Logan, "The Fourier reconstruction of a head section", IEEE Trans. Nucl.
//! Sci. 21(3), 1974 (the reference scikit-image gives). The modified,
//! higher-contrast intensities are usually credited to P. Toft's 1996 PhD
//! thesis. Tests check table and orientation against the image that
//! scikit-image 0.26 ships as `shepp_logan_phantom()`.
//!
//! Pixel (row i, column j) of an n x n image covers x in
//! [-1 + 2j/n, -1 + 2(j+1)/n] and y in [1 - 2(i+1)/n, 1 - 2i/n], so row 0 is
//! the top. Its value is the mean over a grid of
//! [`PHANTOM_SUPERSAMPLING`]^2 points at the centres of equal sub-cells,
//! which approximates the area-weighted mean across ellipse edges.

use std::str::FromStr;

use crate::ct::geometry::invalid;
use crate::error::{Error, Result};

/// Points per pixel side at which the phantom is evaluated (4 x 4 per pixel).
pub const PHANTOM_SUPERSAMPLING: usize = 4;

/// Largest phantom side accepted (16384 x 16384 pixels, 1 GiB of f32).
pub const MAX_PHANTOM_SIZE: usize = 16384;

/// Intensity table of the Shepp-Logan phantom.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PhantomVariant {
    /// Toft's modified intensities: values 0 to 1, soft tissue 0.2 to 0.4.
    /// scikit-image's `shepp_logan_phantom()` (0.26) shows this variant.
    Modified,
    /// The intensities of the 1974 paper (skull 2, brain about 1.02, details
    /// 0.01 to 0.03 above it).
    Original,
}

impl PhantomVariant {
    /// Names accepted by [`PhantomVariant::from_str`].
    pub const NAMES: &'static [&'static str] = &["modified", "original"];
}

impl FromStr for PhantomVariant {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self> {
        match text.trim().to_ascii_lowercase().as_str() {
            "modified" => Ok(Self::Modified),
            "original" => Ok(Self::Original),
            _ => Err(invalid(
                "phantom variant",
                text,
                "one of: modified, original",
            )),
        }
    }
}

/// One ellipse of the phantom.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ellipse {
    /// Intensity added inside the ellipse.
    pub intensity: f64,
    /// Semi-axis along the ellipse's own x axis.
    pub semi_axis_x: f64,
    /// Semi-axis along the ellipse's own y axis.
    pub semi_axis_y: f64,
    /// Centre, x.
    pub center_x: f64,
    /// Centre, y.
    pub center_y: f64,
    /// Counter-clockwise rotation of the ellipse's x axis from the image's,
    /// in degrees.
    pub rotation_degrees: f64,
}

impl Ellipse {
    /// Returns whether (x, y) lies inside or on the ellipse.
    pub fn contains(&self, x: f64, y: f64) -> bool {
        let (sin, cos) = self.rotation_degrees.to_radians().sin_cos();
        let (dx, dy) = (x - self.center_x, y - self.center_y);
        let along = dx * cos + dy * sin;
        let across = dy * cos - dx * sin;
        along * along / (self.semi_axis_x * self.semi_axis_x)
            + across * across / (self.semi_axis_y * self.semi_axis_y)
            <= 1.0
    }
}

/// Ellipse geometry shared by both variants: (a, b, x0, y0, phi in degrees).
const GEOMETRY: [[f64; 5]; 10] = [
    [0.69, 0.92, 0.0, 0.0, 0.0],
    [0.6624, 0.874, 0.0, -0.0184, 0.0],
    [0.11, 0.31, 0.22, 0.0, -18.0],
    [0.16, 0.41, -0.22, 0.0, 18.0],
    [0.21, 0.25, 0.0, 0.35, 0.0],
    [0.046, 0.046, 0.0, 0.1, 0.0],
    [0.046, 0.046, 0.0, -0.1, 0.0],
    [0.046, 0.023, -0.08, -0.605, 0.0],
    [0.023, 0.023, 0.0, -0.606, 0.0],
    [0.023, 0.046, 0.06, -0.605, 0.0],
];

const MODIFIED_INTENSITIES: [f64; 10] = [1.0, -0.8, -0.2, -0.2, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1];
const ORIGINAL_INTENSITIES: [f64; 10] =
    [2.0, -0.98, -0.02, -0.02, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01];

/// Returns the ten ellipses of `variant`.
pub fn shepp_logan_ellipses(variant: PhantomVariant) -> Vec<Ellipse> {
    let intensities = match variant {
        PhantomVariant::Modified => MODIFIED_INTENSITIES,
        PhantomVariant::Original => ORIGINAL_INTENSITIES,
    };
    GEOMETRY
        .iter()
        .zip(intensities)
        .map(
            |(&[semi_axis_x, semi_axis_y, center_x, center_y, rotation_degrees], intensity)| {
                Ellipse {
                    intensity,
                    semi_axis_x,
                    semi_axis_y,
                    center_x,
                    center_y,
                    rotation_degrees,
                }
            },
        )
        .collect()
}

/// Renders the Shepp-Logan phantom as a row-major `size` x `size` image.
///
/// The ellipses of [`shepp_logan_ellipses`] live on [-1, 1]^2 with x to the
/// right and y up; pixel (row i, column j) covers x in [-1 + 2j/n,
/// -1 + 2(j+1)/n] and y in [1 - 2(i+1)/n, 1 - 2i/n]. Its value is the mean
/// of the summed intensities at the centres of [`PHANTOM_SUPERSAMPLING`]^2
/// equal sub-cells.
pub fn shepp_logan(size: usize, variant: PhantomVariant) -> Result<Vec<f32>> {
    if size == 0 || size > MAX_PHANTOM_SIZE {
        return Err(invalid(
            "phantom size",
            &size.to_string(),
            &format!("between 1 and {MAX_PHANTOM_SIZE} pixels"),
        ));
    }
    let ellipses = shepp_logan_ellipses(variant);
    let samples = PHANTOM_SUPERSAMPLING;
    let n = size as f64;
    // Sub-cell centres as fractions of a pixel: (q + 0.5) / samples.
    let offsets: Vec<f64> = (0..samples)
        .map(|q| (q as f64 + 0.5) / samples as f64)
        .collect();

    let sub_cells = |index: usize, sign: f64| -> Vec<f64> {
        offsets
            .iter()
            .map(|offset| sign * (-1.0 + 2.0 * (index as f64 + offset) / n))
            .collect()
    };
    let column_xs: Vec<Vec<f64>> = (0..size).map(|column| sub_cells(column, 1.0)).collect();

    let mut image = Vec::with_capacity(size * size);
    for row in 0..size {
        let ys = sub_cells(row, -1.0);
        for xs in &column_xs {
            let mut total = 0.0;
            for &y in &ys {
                for &x in xs {
                    total += ellipses
                        .iter()
                        .filter(|ellipse| ellipse.contains(x, y))
                        .map(|ellipse| ellipse.intensity)
                        .sum::<f64>();
                }
            }
            image.push((total / (samples * samples) as f64) as f32);
        }
    }
    Ok(image)
}
