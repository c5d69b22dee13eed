//! Sequences from a directory of NumPy files:
//!
//! - `X.npy`: the values, shape `(n, T_max, m)` for `n` sequences of up to
//!   `T_max` steps of `m` channels, or `(n, T)` for univariate sequences.
//! - `lengths.npy` (optional): `n` integers in `1..=T_max`. Sequence `i`
//!   is `X[i, :lengths[i]]`, and the values after it are ignored, so the
//!   padding may be anything, NaN included. Without this file every
//!   sequence has `T_max` steps.
//! - `y.npy`: `n` integer class labels.
//!
//! This is the layout of `np.save("X.npy", X); np.save("lengths.npy",
//! lengths); np.save("y.npy", y)`.

use std::path::Path;

use super::missing::{resolve_missing, MissingValues};
use super::SequenceSet;
use crate::data::dataset::dataset_error;
use crate::data::labels::encode_integers;
use crate::data::user_npy::read_integer_labels;
use crate::error::Result;
use crate::io::npy::{read_f32, read_f64, NpyArray};

/// Loads `dir/X.npy`, `dir/y.npy` and, if present, `dir/lengths.npy` (see
/// the module documentation for shapes). NaN values inside a sequence are
/// missing values, treated by `missing`.
///
/// Classes are the distinct labels in increasing order, named by their
/// value. Returns [`crate::Error::Dataset`] when a required file is
/// missing, when a shape or count disagrees, when a length is 0 or above
/// `T_max` (naming its index), or when a label is not an integer.
pub fn load_sequence_npy_dir(dir: impl AsRef<Path>, missing: MissingValues) -> Result<SequenceSet> {
    let dir = dir.as_ref();
    let origin = dir.display().to_string();
    let values_path = dir.join("X.npy");
    let labels_path = dir.join("y.npy");
    let lengths_path = dir.join("lengths.npy");
    for path in [&values_path, &labels_path] {
        if !path.is_file() {
            return Err(dataset_error(
                &origin,
                format!(
                    "{} is missing; a sequence directory needs X.npy (n x T_max x channels, or n x T), \
                     y.npy (one label per sequence) and optionally lengths.npy",
                    path.display()
                ),
            ));
        }
    }

    let values = read_f32(&values_path)?;
    let (n, max_length, n_channels) = values_shape(&values, &values_path)?;
    let labels = read_integer_labels(&labels_path)?;
    if labels.len() != n {
        return Err(dataset_error(
            labels_path.display(),
            format!(
                "y.npy has {} labels but X.npy has {n} sequences; give one label per sequence",
                labels.len()
            ),
        ));
    }
    let lengths = if lengths_path.is_file() {
        read_lengths(&lengths_path, n, max_length)?
    } else {
        vec![max_length; n]
    };

    let mut sequences = Vec::with_capacity(n);
    for (index, &length) in lengths.iter().enumerate() {
        let start = index * max_length * n_channels;
        let mut sequence = values.data[start..start + length * n_channels].to_vec();
        resolve_missing(
            &mut sequence,
            n_channels,
            missing,
            &origin,
            &format!("sequence {index}"),
        )?;
        sequences.push(sequence);
    }
    let encoded = encode_integers(&labels);
    SequenceSet::new(
        origin,
        sequences,
        n_channels,
        encoded.labels,
        encoded.class_names,
    )
}

/// Returns `(n, T_max, channels)` of a 3-D array, or `(n, T, 1)` of a 2-D one.
fn values_shape(values: &NpyArray<f32>, path: &Path) -> Result<(usize, usize, usize)> {
    let shape = match values.shape.as_slice() {
        &[n, steps, channels] => (n, steps, channels),
        &[n, steps] => (n, steps, 1),
        other => {
            return Err(dataset_error(
                path.display(),
                format!(
                    "X.npy must have shape (n, T_max, channels) or, for univariate data, (n, T), \
                     but its shape is {other:?}"
                ),
            ))
        }
    };
    let (n, steps, channels) = shape;
    if n == 0 || steps == 0 || channels == 0 {
        return Err(dataset_error(
            path.display(),
            format!(
                "X.npy has shape {:?}; every axis needs at least one element",
                values.shape
            ),
        ));
    }
    Ok(shape)
}

fn read_lengths(path: &Path, n: usize, max_length: usize) -> Result<Vec<usize>> {
    let array = read_f64(path)?;
    let error = |message: String| dataset_error(path.display(), message);
    if array.shape.len() != 1 {
        return Err(error(format!(
            "lengths.npy must be a vector (shape (n,)) but its shape is {:?}",
            array.shape
        )));
    }
    if array.data.len() != n {
        return Err(error(format!(
            "lengths.npy has {} lengths but X.npy has {n} sequences; give one length per sequence",
            array.data.len()
        )));
    }
    let mut lengths = Vec::with_capacity(n);
    for (index, &length) in array.data.iter().enumerate() {
        let valid = length.fract() == 0.0 && length >= 1.0 && length <= max_length as f64;
        if !valid {
            return Err(error(format!(
                "the length of sequence {index} (counting from 0) is {length}; every length must be \
                 an integer from 1 to {max_length}, the number of steps in X.npy"
            )));
        }
        lengths.push(length as usize);
    }
    Ok(lengths)
}
