//! Dense row-major f32 matrices on the GPU.

use crate::error::{Error, Result};
use crate::gpu::{Gpu, GpuBuffer};

/// A dense row-major `rows x columns` f32 matrix in a storage buffer.
#[derive(Debug, Clone)]
pub struct Matrix {
    buffer: GpuBuffer<f32>,
    rows: usize,
    columns: usize,
}

impl Matrix {
    /// Uploads `data` (row-major, `rows * columns` values).
    pub fn upload(
        gpu: &Gpu,
        data: &[f32],
        rows: usize,
        columns: usize,
        label: &str,
    ) -> Result<Self> {
        check_len(data.len(), rows, columns, label)?;
        Ok(Self {
            buffer: gpu.upload(data, label)?,
            rows,
            columns,
        })
    }

    /// Creates a zero matrix.
    pub fn zeros(gpu: &Gpu, rows: usize, columns: usize, label: &str) -> Result<Self> {
        let len = rows
            .checked_mul(columns)
            .ok_or_else(|| Error::InvalidArgument {
                name: "matrix shape",
                value: format!("{rows} x {columns}"),
                expected: "a shape whose element count fits in usize".to_string(),
            })?;
        Ok(Self {
            buffer: gpu.create_buffer(len, label)?,
            rows,
            columns,
        })
    }

    /// Views an existing buffer as a `rows x columns` matrix.
    pub fn from_buffer(buffer: GpuBuffer<f32>, rows: usize, columns: usize) -> Result<Self> {
        check_len(buffer.len(), rows, columns, buffer.label())?;
        Ok(Self {
            buffer,
            rows,
            columns,
        })
    }

    /// Copies the matrix to the host, row-major.
    pub fn read(&self, gpu: &Gpu) -> Result<Vec<f32>> {
        gpu.read(&self.buffer)
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Number of columns.
    pub fn columns(&self) -> usize {
        self.columns
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.rows * self.columns
    }

    /// Returns whether the matrix has no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Returns the storage buffer.
    pub fn buffer(&self) -> &GpuBuffer<f32> {
        &self.buffer
    }

    /// Consumes the matrix and returns its buffer.
    pub fn into_buffer(self) -> GpuBuffer<f32> {
        self.buffer
    }
}

fn check_len(len: usize, rows: usize, columns: usize, label: &str) -> Result<()> {
    if rows.checked_mul(columns) != Some(len) {
        return Err(Error::ShapeMismatch {
            operation: "matrix creation",
            message: format!(
                "{label:?} has {len} values, but a {rows} x {columns} matrix needs {}",
                rows.saturating_mul(columns)
            ),
        });
    }
    Ok(())
}
