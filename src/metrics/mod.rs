//! Metrics that compare generated ("fake") samples with real ones:
//! - [`prdc`]: precision, recall, density and coverage from k-nearest-neighbour
//!   balls, computed on the GPU in tiles ([`knn_radii`] exposes the radii);
//! - [`gaussian_statistics`] and [`frechet_distance`]: the Fréchet distance
//!   between Gaussian fits of two feature sets (FID when the features come
//!   from Inception), and [`wasserstein2_gaussians`] for known Gaussians.

mod gaussian;
mod knn;
mod points;
mod prdc;

pub use gaussian::{
    frechet_distance, gaussian_statistics, gaussian_statistics_in_blocks, wasserstein2_gaussians,
    GaussianStatistics, COVARIANCE_SYMMETRY_TOLERANCE,
};
pub use knn::{knn_radii, knn_radii_tiled, KnnTiling, MAX_K};
pub use prdc::{prdc, prdc_tiled, Prdc, PRDC_CONVENTION};
