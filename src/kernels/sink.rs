//! Destinations for Gram matrices computed tile by tile: memory or
//! preallocated `.npy` files written block by block.

use std::fs::File;
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Receives rectangular blocks of one or more n1 x n2 matrices.
pub trait GramSink {
    /// Stores `block` (row-major, `rows` x `columns`) of component
    /// `component` at row `row` and column `column`.
    fn write_block(
        &mut self,
        component: usize,
        row: usize,
        column: usize,
        rows: usize,
        columns: usize,
        block: &[f32],
    ) -> Result<()>;

    /// Flushes buffered data; called once after the last block.
    fn finish(&mut self) -> Result<()> {
        Ok(())
    }

    /// Makes every block written so far durable (before a tile is recorded
    /// as finished in a manifest).
    fn sync(&mut self) -> Result<()> {
        Ok(())
    }
}

/// Keeps every component in memory as a row-major `Vec<f32>`.
#[derive(Debug, Clone)]
pub struct MemorySink {
    /// Rows of each matrix.
    pub rows: usize,
    /// Columns of each matrix.
    pub columns: usize,
    /// One row-major matrix per component.
    pub components: Vec<Vec<f32>>,
}

impl MemorySink {
    /// Allocates `components` zero matrices of `rows` x `columns`.
    pub fn new(components: usize, rows: usize, columns: usize) -> Self {
        Self {
            rows,
            columns,
            components: vec![vec![0.0; rows * columns]; components],
        }
    }
}

impl GramSink for MemorySink {
    fn write_block(
        &mut self,
        component: usize,
        row: usize,
        column: usize,
        rows: usize,
        columns: usize,
        block: &[f32],
    ) -> Result<()> {
        let matrix = &mut self.components[component];
        for r in 0..rows {
            let start = (row + r) * self.columns + column;
            matrix[start..start + columns].copy_from_slice(&block[r * columns..(r + 1) * columns]);
        }
        Ok(())
    }
}

/// Element type of the `.npy` files an [`NpySink`] writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NpyDtype {
    /// Little-endian float32 (`<f4`).
    Float32,
    /// Little-endian float64 (`<f8`), widened from the GPU's float32.
    Float64,
}

impl NpyDtype {
    fn size(self) -> u64 {
        match self {
            NpyDtype::Float32 => 4,
            NpyDtype::Float64 => 8,
        }
    }

    fn descr(self) -> &'static str {
        match self {
            NpyDtype::Float32 => "<f4",
            NpyDtype::Float64 => "<f8",
        }
    }
}

struct NpyTarget {
    path: PathBuf,
    file: File,
    data_offset: u64,
}

/// Writes each component to `DIR/NAME.npy`, preallocated at full size and
/// filled block by block at the right offsets, so matrices larger than
/// memory stream straight to disk.
pub struct NpySink {
    targets: Vec<NpyTarget>,
    columns: usize,
    dtype: NpyDtype,
    row_bytes: Vec<u8>,
}

/// Builds a version 1.0 `.npy` header padded to a multiple of 64 bytes.
pub(crate) fn npy_header(descr: &str, shape: &[usize]) -> Vec<u8> {
    let shape_text = match shape {
        [single] => format!("({single},)"),
        _ => format!(
            "({})",
            shape
                .iter()
                .map(|n| n.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let dictionary =
        format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape_text}, }}");
    let unpadded = 10 + dictionary.len() + 1;
    let padding = unpadded.div_ceil(64) * 64 - unpadded;
    let mut header = Vec::with_capacity(unpadded + padding);
    header.extend_from_slice(b"\x93NUMPY\x01\x00");
    header.extend_from_slice(&((dictionary.len() + padding + 1) as u16).to_le_bytes());
    header.extend_from_slice(dictionary.as_bytes());
    header.extend(std::iter::repeat_n(b' ', padding));
    header.push(b'\n');
    header
}

impl NpySink {
    /// Creates (or truncates) `DIR/NAME.npy` for each name, sized for
    /// `rows` x `columns` values of `dtype`.
    pub fn create(
        directory: &Path,
        names: &[String],
        rows: usize,
        columns: usize,
        dtype: NpyDtype,
    ) -> Result<Self> {
        std::fs::create_dir_all(directory).map_err(|source| Error::Io {
            path: directory.to_path_buf(),
            source,
        })?;
        let mut targets = Vec::with_capacity(names.len());
        for name in names {
            let path = directory.join(format!("{name}.npy"));
            let io_error = |source| Error::Io {
                path: path.clone(),
                source,
            };
            let mut file = File::create(&path).map_err(io_error)?;
            let header = npy_header(dtype.descr(), &[rows, columns]);
            file.write_all(&header).map_err(io_error)?;
            let data_offset = header.len() as u64;
            let total = data_offset + rows as u64 * columns as u64 * dtype.size();
            file.set_len(total).map_err(io_error)?;
            targets.push(NpyTarget {
                path,
                file,
                data_offset,
            });
        }
        Ok(Self {
            targets,
            columns,
            dtype,
            row_bytes: Vec::new(),
        })
    }

    /// Opens `DIR/NAME.npy` for each name for writing blocks without
    /// truncating it, creating it at full size if missing, so that several
    /// shards can fill one file. An existing file must have the same header
    /// (dtype and shape).
    pub fn open_shared(
        directory: &Path,
        names: &[String],
        rows: usize,
        columns: usize,
        dtype: NpyDtype,
    ) -> Result<Self> {
        std::fs::create_dir_all(directory).map_err(|source| Error::Io {
            path: directory.to_path_buf(),
            source,
        })?;
        let header = npy_header(dtype.descr(), &[rows, columns]);
        let total = header.len() as u64 + rows as u64 * columns as u64 * dtype.size();
        let mut targets = Vec::with_capacity(names.len());
        for name in names {
            let path = directory.join(format!("{name}.npy"));
            let io_error = |source| Error::Io {
                path: path.clone(),
                source,
            };
            let mut file = std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&path)
                .map_err(io_error)?;
            let length = file.metadata().map_err(io_error)?.len();
            if length == 0 {
                file.write_all(&header).map_err(io_error)?;
                file.set_len(total).map_err(io_error)?;
            } else {
                let mut existing = vec![0u8; header.len()];
                use std::io::Read as _;
                let matches =
                    length == total && file.read_exact(&mut existing).is_ok() && existing == header;
                if !matches {
                    return Err(Error::Npy {
                        path: path.clone(),
                        message: format!("an existing file of another shape or dtype is in the way (expected {rows} x {columns} {}); use a new output directory", dtype.descr()),
                    });
                }
            }
            targets.push(NpyTarget {
                path,
                file,
                data_offset: header.len() as u64,
            });
        }
        Ok(Self {
            targets,
            columns,
            dtype,
            row_bytes: Vec::new(),
        })
    }

    /// Paths of the files being written, in component order.
    pub fn paths(&self) -> Vec<PathBuf> {
        self.targets
            .iter()
            .map(|target| target.path.clone())
            .collect()
    }
}

impl GramSink for NpySink {
    fn write_block(
        &mut self,
        component: usize,
        row: usize,
        column: usize,
        rows: usize,
        columns: usize,
        block: &[f32],
    ) -> Result<()> {
        let target = &mut self.targets[component];
        let element = self.dtype.size();
        for r in 0..rows {
            let values = &block[r * columns..(r + 1) * columns];
            self.row_bytes.clear();
            match self.dtype {
                NpyDtype::Float32 => values
                    .iter()
                    .for_each(|v| self.row_bytes.extend_from_slice(&v.to_le_bytes())),
                NpyDtype::Float64 => values.iter().for_each(|v| {
                    self.row_bytes
                        .extend_from_slice(&f64::from(*v).to_le_bytes())
                }),
            }
            let offset = target.data_offset
                + ((row + r) as u64 * self.columns as u64 + column as u64) * element;
            let io_error = |source| Error::Io {
                path: target.path.clone(),
                source,
            };
            target
                .file
                .seek(SeekFrom::Start(offset))
                .map_err(io_error)?;
            target.file.write_all(&self.row_bytes).map_err(io_error)?;
        }
        Ok(())
    }

    fn sync(&mut self) -> Result<()> {
        for target in &mut self.targets {
            target.file.sync_data().map_err(|source| Error::Io {
                path: target.path.clone(),
                source,
            })?;
        }
        Ok(())
    }

    fn finish(&mut self) -> Result<()> {
        for target in &mut self.targets {
            target.file.sync_all().map_err(|source| Error::Io {
                path: target.path.clone(),
                source,
            })?;
        }
        Ok(())
    }
}
