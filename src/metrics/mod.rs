//! Metrics that compare generated ("fake") samples with real ones:
//! [`prdc`] computes precision, recall, density and coverage from
//! k-nearest-neighbour balls on the GPU in tiles ([`knn_radii`] exposes the
//! radii).

mod knn;
mod points;
mod prdc;

pub use knn::{knn_radii, knn_radii_tiled, KnnTiling, MAX_K};
pub use prdc::{prdc, prdc_tiled, Prdc, PRDC_CONVENTION};
