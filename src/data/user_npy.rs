//! Labelled data from a directory holding `X.npy` (features, one row per
//! sample) and `y.npy` (one integer class label per sample), the layout of
//! NumPy's `np.save("X.npy", X); np.save("y.npy", y)`.

use std::path::Path;

use super::dataset::dataset_error;
use super::labels::encode_integers;
use super::Dataset;
use crate::error::Result;
use crate::io::npy::{read_f64, read_matrix_f32};

/// Largest magnitude up to which every integer is exact in f64 (2^53).
const MAX_EXACT_INTEGER: f64 = 9_007_199_254_740_992.0;

/// Loads `dir/X.npy` (a matrix, or a vector read as one feature) and
/// `dir/y.npy` (a vector or an n x 1 matrix of integer labels).
///
/// Any dtype that [`crate::io::npy::read_f64`] accepts works for both. The
/// distinct labels are numbered 0..C-1 in increasing order and named by
/// their value, so labels -1 and 1 become classes "-1" and "1". Returns
/// [`crate::Error::Dataset`] when `y.npy` has the wrong shape or length or
/// contains a value that is not an integer.
pub fn load_npy_dir(dir: impl AsRef<Path>) -> Result<Dataset> {
    let dir = dir.as_ref();
    let features_path = dir.join("X.npy");
    let labels_path = dir.join("y.npy");
    for path in [&features_path, &labels_path] {
        if !path.is_file() {
            return Err(dataset_error(
                dir.display(),
                format!(
                    "{} is missing; a data directory needs X.npy (samples x features) and y.npy (one label per sample)",
                    path.display()
                ),
            ));
        }
    }

    let (rows, n_features, features) = read_matrix_f32(&features_path)?;
    let labels = read_integer_labels(&labels_path)?;
    if labels.len() != rows {
        return Err(dataset_error(
            labels_path.display(),
            format!(
                "y.npy has {} labels but X.npy has {rows} rows; give exactly one label per row",
                labels.len()
            ),
        ));
    }

    let encoded = encode_integers(&labels);
    Dataset::new(
        dir.display().to_string(),
        features,
        n_features,
        encoded.labels,
        encoded.class_names,
    )
}

/// Reads a vector (shape `(n,)` or `(n, 1)`) of integer class labels.
pub(crate) fn read_integer_labels(path: &Path) -> Result<Vec<i64>> {
    let array = read_f64(path)?;
    let is_vector = match array.shape.as_slice() {
        [_] => true,
        [_, columns] => *columns == 1,
        _ => false,
    };
    if !is_vector {
        return Err(dataset_error(
            path.display(),
            format!(
                "y.npy must be a vector of labels (shape (n,) or (n, 1)) but its shape is {:?}",
                array.shape
            ),
        ));
    }

    let bad = array
        .data
        .iter()
        .position(|&value| !(value.fract() == 0.0 && value.abs() <= MAX_EXACT_INTEGER));
    if let Some(index) = bad {
        return Err(dataset_error(
            path.display(),
            format!(
                "label {} at index {index} is not an integer; class labels must be integers \
                 (regression targets are not supported)",
                array.data[index]
            ),
        ));
    }
    Ok(array.data.iter().map(|&value| value as i64).collect())
}
