//! Labelled data sets for classification: the [`Dataset`] type with
//! splitting and standardization, the bundled MNIST subset, and MNIST IDX
//! files.
//!
//! The bundled file is embedded in the binary, so it needs no files at run
//! time. `assets/README.md` gives its origin and licences.

mod dataset;
mod gzip;
mod idx;
mod mnist;
mod split;
mod standardize;

pub use dataset::Dataset;
pub use mnist::{load_mnist_bundled, load_mnist_csv, load_mnist_idx, MnistSplit, PixelScale, MNIST_PIXELS};
pub use standardize::Standardization;
