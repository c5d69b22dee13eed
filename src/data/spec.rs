//! Choosing a data set from one string, as given on a command line.

use std::path::Path;

use super::breast_cancer::load_breast_cancer;
use super::dataset::dataset_error;
use super::mnist::{load_mnist_bundled, load_mnist_idx, MnistSplit, PixelScale};
use super::user_csv::load_csv;
use super::user_npy::load_npy_dir;
use super::Dataset;
use crate::error::Result;

/// The forms [`load_dataset`] accepts, for error messages and help text.
pub const DATASET_SPEC_HELP: &str = "\
`mnist` (the bundled 5000-digit MNIST subset), \
`mnist:DIR` (the MNIST training set from the IDX files in DIR), \
`mnist-test:DIR` (the MNIST test set from the IDX files in DIR), \
`breast-cancer` (the bundled Breast Cancer Wisconsin data), \
a directory containing X.npy and y.npy, \
or a .csv file with a header row and the label in the last column";

/// Loads the data set named by `spec`. [`DATASET_SPEC_HELP`] lists the
/// accepted forms.
///
/// Feature values are returned as stored, so MNIST pixels are 0 to 255. Call
/// [`Dataset::scale`] or [`Dataset::standardize`] to rescale them. Returns
/// [`crate::Error::Dataset`] listing the accepted forms when `spec` matches
/// none of them.
pub fn load_dataset(spec: &str) -> Result<Dataset> {
    match spec {
        "mnist" => return load_mnist_bundled(PixelScale::Raw),
        "breast-cancer" => return load_breast_cancer(),
        _ => {}
    }
    if let Some(dir) = spec.strip_prefix("mnist:") {
        return load_mnist_idx(
            non_empty_dir(dir, spec)?,
            MnistSplit::Train,
            PixelScale::Raw,
        );
    }
    if let Some(dir) = spec.strip_prefix("mnist-test:") {
        return load_mnist_idx(non_empty_dir(dir, spec)?, MnistSplit::Test, PixelScale::Raw);
    }

    let path = Path::new(spec);
    if path.is_dir() {
        return load_npy_dir(path);
    }
    let is_csv = path
        .extension()
        .is_some_and(|extension| extension.eq_ignore_ascii_case("csv"));
    if is_csv && path.is_file() {
        return load_csv(path);
    }

    let problem = if path.exists() {
        "is neither a directory nor a .csv file"
    } else {
        "is not a known data set name, and no file or directory has this path"
    };
    Err(dataset_error(
        format!("{spec:?}"),
        format!("{problem}. Accepted forms: {DATASET_SPEC_HELP}"),
    ))
}

fn non_empty_dir<'a>(dir: &'a str, spec: &str) -> Result<&'a str> {
    if dir.is_empty() {
        return Err(dataset_error(
            format!("{spec:?}"),
            "the directory after the colon is missing; write it as in `mnist:/data/mnist` (use `mnist:.` for the current directory)",
        ));
    }
    Ok(dir)
}
