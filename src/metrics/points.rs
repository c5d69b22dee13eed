//! Validation of point sets, and their upload as row blocks in the layout of
//! `shaders/knn.wgsl` (rows padded with zeros to a multiple of 4 coordinates).

use crate::error::{Error, Result};
use crate::gpu::{Gpu, GpuBuffer};

/// A validated row-major point set.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PointSet<'a> {
    pub values: &'a [f32],
    pub dim: usize,
    pub rows: usize,
    /// Name used in error messages, such as "real points".
    pub name: &'static str,
}

impl<'a> PointSet<'a> {
    /// Checks that `values` are rows of `dim` finite coordinates whose squared
    /// distances fit in f32.
    pub fn new(values: &'a [f32], dim: usize, name: &'static str) -> Result<Self> {
        check_dim(dim)?;
        if values.len() % dim != 0 {
            return Err(Error::ShapeMismatch {
                operation: "metrics",
                message: format!(
                    "the {name} have {} values, which is not a multiple of dim = {dim}; \
                     pass row-major points of dim coordinates each",
                    values.len()
                ),
            });
        }
        let rows = values.len() / dim;
        if rows > u32::MAX as usize {
            return Err(Error::InvalidArgument {
                name: "point count",
                value: rows.to_string(),
                expected: format!(
                    "at most {} {name}, because the kernels index rows with u32",
                    u32::MAX
                ),
            });
        }
        check_finite(values, dim, name)?;
        check_magnitude(values, dim, name)?;
        Ok(Self {
            values,
            dim,
            rows,
            name,
        })
    }

    /// Returns rows `range` as a slice of coordinates.
    pub fn rows_slice(&self, range: std::ops::Range<usize>) -> &'a [f32] {
        &self.values[range.start * self.dim..range.end * self.dim]
    }
}

pub(crate) fn check_dim(dim: usize) -> Result<()> {
    if dim == 0 {
        return Err(Error::InvalidArgument {
            name: "dim",
            value: "0".to_string(),
            expected: "at least 1 coordinate per point".to_string(),
        });
    }
    Ok(())
}

pub(crate) fn check_finite(values: &[f32], dim: usize, name: &'static str) -> Result<()> {
    match values.iter().position(|value| !value.is_finite()) {
        None => Ok(()),
        Some(index) => Err(Error::Dataset {
            origin: name.to_string(),
            message: format!(
                "row {}, column {} is {}; every coordinate must be finite, so remove or impute that row",
                index / dim,
                index % dim,
                values[index]
            ),
        }),
    }
}

/// Rejects coordinates so large that a squared distance could reach the
/// largest f32, which the k-NN kernels use as "no neighbour yet". A squared
/// distance is at most dim * (2 max|x|)^2; the bound keeps a factor of 2 for
/// rounding in the f32 sums.
fn check_magnitude(values: &[f32], dim: usize, name: &'static str) -> Result<()> {
    let largest = values
        .iter()
        .fold(0.0f64, |max, value| max.max(f64::from(value.abs())));
    let bound = dim as f64 * (2.0 * largest).powi(2);
    if bound > f64::from(f32::MAX) / 2.0 {
        return Err(Error::Dataset {
            origin: name.to_string(),
            message: format!(
                "the largest coordinate magnitude, {largest:e}, lets squared distances overflow f32 in {dim} \
                 dimensions; rescale the points"
            ),
        });
    }
    Ok(())
}

/// A point set on the GPU in blocks of at most `block_rows` rows, one
/// storage buffer each, every row padded to `row_vectors` vec4 values.
pub(crate) struct PointBlocks {
    pub buffers: Vec<GpuBuffer<f32>>,
    /// Global index of the first row of each block.
    pub offsets: Vec<usize>,
    pub rows: Vec<usize>,
    pub row_vectors: usize,
    pub total_rows: usize,
}

impl PointBlocks {
    pub fn upload(gpu: &Gpu, points: &PointSet, block_rows: usize) -> Result<Self> {
        let row_vectors = points.dim.div_ceil(4);
        let padded_dim = row_vectors * 4;
        let mut blocks = Self {
            buffers: Vec::new(),
            offsets: Vec::new(),
            rows: Vec::new(),
            row_vectors,
            total_rows: points.rows,
        };
        let mut start = 0;
        while start < points.rows {
            let end = (start + block_rows).min(points.rows);
            let mut padded = vec![0.0f32; (end - start) * padded_dim];
            for (row, coordinates) in points
                .rows_slice(start..end)
                .chunks_exact(points.dim)
                .enumerate()
            {
                padded[row * padded_dim..row * padded_dim + points.dim]
                    .copy_from_slice(coordinates);
            }
            blocks.buffers.push(gpu.upload(&padded, points.name)?);
            blocks.offsets.push(start);
            blocks.rows.push(end - start);
            start = end;
        }
        Ok(blocks)
    }

    pub fn len(&self) -> usize {
        self.buffers.len()
    }
}
