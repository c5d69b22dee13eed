//! Labelled data sets for classification: the [`Dataset`] type with
//! splitting and standardization, the bundled MNIST subset and breast cancer
//! data, MNIST IDX files, and user data in CSV or `.npy` files. The
//! [`sequences`] module contains labelled sequences of different lengths.
//!
//! [`load_dataset`] picks a source from one string such as `mnist`,
//! `breast-cancer`, `mnist:DIR` or a path. The bundled files are embedded in
//! the binary, so they need no files at run time. `assets/README.md` gives
//! their origin and licences.

mod breast_cancer;
mod dataset;
mod gzip;
mod idx;
mod labels;
mod mnist;
pub mod sequences;
mod spec;
mod split;
mod standardize;
mod user_csv;
mod user_npy;

pub use breast_cancer::load_breast_cancer;
pub use dataset::Dataset;
pub use mnist::{
    load_mnist_bundled, load_mnist_csv, load_mnist_idx, MnistSplit, PixelScale, MNIST_PIXELS,
};
pub use spec::{load_dataset, DATASET_SPEC_HELP};
pub use standardize::Standardization;
pub use user_csv::load_csv;
pub use user_npy::load_npy_dir;
