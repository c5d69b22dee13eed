//! Labelled data sets for classification: the [`Dataset`] type, with a
//! seeded stratified split and per-feature standardization.

mod dataset;
mod split;
mod standardize;

pub use dataset::Dataset;
pub use standardize::Standardization;
