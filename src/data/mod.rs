//! Labelled data sets for classification: the [`Dataset`] type with
//! splitting and standardization, the bundled MNIST subset and breast cancer
//! data, and MNIST IDX files.
//!
//! The bundled files are embedded in the binary, so they need no files at
//! run time. `assets/README.md` gives their origin and licences.

mod breast_cancer;
mod dataset;
mod gzip;
mod idx;
mod mnist;
mod split;
mod standardize;

pub use breast_cancer::load_breast_cancer;
pub use dataset::Dataset;
pub use mnist::{load_mnist_bundled, load_mnist_csv, load_mnist_idx, MnistSplit, PixelScale, MNIST_PIXELS};
pub use standardize::Standardization;
