//! Reading and writing NumPy `.npy` files (format versions 1 to 3) with the
//! `npyz` crate.
//!
//! Readers accept C-ordered arrays of float64, float32 and the common integer
//! types and convert them to the requested float type. Any other file gets
//! an [`Error::Npy`] that names the file, the dtype found and the fix.

use std::fs::File;
use std::io::{BufReader, BufWriter};
use std::path::Path;

use npyz::WriterBuilder;

use crate::error::{Error, Result};

/// An n-dimensional array read from a `.npy` file.
#[derive(Debug, Clone, PartialEq)]
pub struct NpyArray<T> {
    /// Extent of each axis, in C order.
    pub shape: Vec<usize>,
    /// Values in C (row-major) order.
    pub data: Vec<T>,
}

fn npy_error(path: &Path, message: impl Into<String>) -> Error {
    Error::Npy {
        path: path.to_path_buf(),
        message: message.into(),
    }
}

/// Reads a `.npy` file as f64 values.
pub fn read_f64(path: impl AsRef<Path>) -> Result<NpyArray<f64>> {
    let path = path.as_ref();
    let file = File::open(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let npy = npyz::NpyFile::new(BufReader::new(file)).map_err(|error| {
        npy_error(path, format!("cannot parse the header ({error}); the file is empty, truncated or not a .npy file"))
    })?;

    let fortran_order = npy.order() == npyz::Order::Fortran && npy.shape().len() > 1;
    let shape: Vec<usize> = npy.shape().iter().map(|&extent| extent as usize).collect();
    let expected_len: usize = shape.iter().product();
    let dtype = match npy.dtype() {
        npyz::DType::Plain(type_string) => type_string.to_string(),
        other => {
            return Err(npy_error(
                path,
                format!("structured dtype {other:?} is not supported; save a plain numeric array"),
            ))
        }
    };

    let truncated = |error: std::io::Error| {
        npy_error(path, format!("cannot read {expected_len} values of dtype {dtype} ({error}); the file is truncated or corrupt"))
    };
    let data: Vec<f64> = match dtype.as_str() {
        "<f8" | ">f8" => npy.into_vec::<f64>().map_err(truncated)?,
        "<f4" | ">f4" => npy.into_vec::<f32>().map_err(truncated)?.into_iter().map(f64::from).collect(),
        "<i8" | ">i8" => npy.into_vec::<i64>().map_err(truncated)?.into_iter().map(|v| v as f64).collect(),
        "<i4" | ">i4" => npy.into_vec::<i32>().map_err(truncated)?.into_iter().map(f64::from).collect(),
        "<u8" | ">u8" => npy.into_vec::<u64>().map_err(truncated)?.into_iter().map(|v| v as f64).collect(),
        "<u4" | ">u4" => npy.into_vec::<u32>().map_err(truncated)?.into_iter().map(f64::from).collect(),
        "|u1" => npy.into_vec::<u8>().map_err(truncated)?.into_iter().map(f64::from).collect(),
        "|i1" => npy.into_vec::<i8>().map_err(truncated)?.into_iter().map(f64::from).collect(),
        "|b1" => npy.into_vec::<bool>().map_err(truncated)?.into_iter().map(|v| f64::from(u8::from(v))).collect(),
        other => {
            return Err(npy_error(
                path,
                format!("dtype {other} is not supported; convert with array.astype(numpy.float32) or float64"),
            ))
        }
    };
    if data.len() != expected_len {
        return Err(npy_error(
            path,
            format!(
                "the header promises {expected_len} values but the file holds {}",
                data.len()
            ),
        ));
    }
    let data = if fortran_order {
        fortran_to_c_order(&data, &shape)
    } else {
        data
    };
    Ok(NpyArray { shape, data })
}

/// Reorders column-major (Fortran) data of `shape` into row-major order.
fn fortran_to_c_order(data: &[f64], shape: &[usize]) -> Vec<f64> {
    let mut reordered = vec![0.0; data.len()];
    let mut index = vec![0usize; shape.len()];
    for value in reordered.iter_mut() {
        // `index` walks the C order; its Fortran offset has the first axis fastest.
        let mut offset = 0;
        for axis in (0..shape.len()).rev() {
            offset = offset * shape[axis] + index[axis];
        }
        *value = data[offset];
        for axis in (0..shape.len()).rev() {
            index[axis] += 1;
            if index[axis] < shape[axis] {
                break;
            }
            index[axis] = 0;
        }
    }
    reordered
}

/// Reads a `.npy` file as f32 values (float64 data is rounded).
pub fn read_f32(path: impl AsRef<Path>) -> Result<NpyArray<f32>> {
    let array = read_f64(path)?;
    Ok(NpyArray {
        shape: array.shape,
        data: array.data.into_iter().map(|value| value as f32).collect(),
    })
}

/// Reads a `.npy` file that must be a matrix; returns (rows, columns, data).
pub fn read_matrix_f32(path: impl AsRef<Path>) -> Result<(usize, usize, Vec<f32>)> {
    let path = path.as_ref();
    let array = read_f32(path)?;
    match array.shape.as_slice() {
        [rows, columns] => Ok((*rows, *columns, array.data)),
        [rows] => Ok((*rows, 1, array.data)),
        other => Err(npy_error(
            path,
            format!("expected a 2-D array (rows x features) but the shape is {other:?}; reshape it first"),
        )),
    }
}

fn write_array<T>(path: &Path, shape: &[usize], data: &[T]) -> Result<()>
where
    T: npyz::Serialize + npyz::AutoSerialize + Copy,
{
    let expected: usize = shape.iter().product();
    if expected != data.len() {
        return Err(Error::ShapeMismatch {
            operation: "npy write",
            message: format!(
                "shape {shape:?} needs {expected} values but {} were given",
                data.len()
            ),
        });
    }
    let io_error = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = File::create(path).map_err(io_error)?;
    let dims: Vec<u64> = shape.iter().map(|&extent| extent as u64).collect();
    let mut writer = npyz::WriteOptions::new()
        .default_dtype()
        .shape(&dims)
        .writer(BufWriter::new(file))
        .begin_nd()
        .map_err(io_error)?;
    writer.extend(data.iter().copied()).map_err(io_error)?;
    writer.finish().map_err(io_error)
}

/// Writes `data` with `shape` as a little-endian float32 `.npy` file.
pub fn write_f32(path: impl AsRef<Path>, shape: &[usize], data: &[f32]) -> Result<()> {
    write_array(path.as_ref(), shape, data)
}

/// Writes `data` with `shape` as a little-endian float64 `.npy` file.
pub fn write_f64(path: impl AsRef<Path>, shape: &[usize], data: &[f64]) -> Result<()> {
    write_array(path.as_ref(), shape, data)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_path(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("maso-npy-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir.join(name)
    }

    #[test]
    fn round_trip_keeps_shape_and_values() {
        let path = temp_path("round_trip.npy");
        let data: Vec<f32> = (0..6).map(|i| i as f32 * 0.5).collect();
        write_f32(&path, &[2, 3], &data).unwrap();
        let back = read_f32(&path).unwrap();
        assert_eq!(back.shape, vec![2, 3]);
        assert_eq!(back.data, data);
    }

    #[test]
    fn empty_file_reports_path_and_cause() {
        let path = temp_path("empty.npy");
        std::fs::write(&path, b"").unwrap();
        let message = read_f64(&path).unwrap_err().to_string();
        assert!(message.contains("empty.npy"), "{message}");
        assert!(message.contains("not a .npy file"), "{message}");
    }

    #[test]
    fn truncated_data_is_rejected() {
        let path = temp_path("truncated.npy");
        write_f64(&path, &[4, 4], &[1.0; 16]).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() - 20]).unwrap();
        let message = read_f64(&path).unwrap_err().to_string();
        assert!(message.contains("truncated"), "{message}");
    }

    #[test]
    fn fortran_order_is_reordered() {
        // A 2 x 3 x 4 array 0..24 in C order, stored column-major.
        let shape = [2usize, 3, 4];
        let column_major: Vec<f64> = (0..24)
            .map(|f| {
                let (i, j, k) = (f % 2, (f / 2) % 3, f / 6);
                (i * 12 + j * 4 + k) as f64
            })
            .collect();
        let expected: Vec<f64> = (0..24).map(f64::from).collect();
        assert_eq!(fortran_to_c_order(&column_major, &shape), expected);
    }

    #[test]
    fn write_rejects_wrong_length() {
        let path = temp_path("wrong.npy");
        let message = write_f32(&path, &[3, 3], &[0.0; 8])
            .unwrap_err()
            .to_string();
        assert!(message.contains("needs 9 values"), "{message}");
    }
}
