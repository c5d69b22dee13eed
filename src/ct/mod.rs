//! Parallel-beam computed tomography: the Shepp-Logan phantom, the Radon
//! transform and its exact adjoint on the GPU, filtered back-projection,
//! measurement noise and sinogram files.
//!
//! The discretisation follows scikit-image so that data moves between the
//! two: [`Radon`] is the linear map of `skimage.transform.radon(image, theta,
//! circle=True)` (bilinear rotation about pixel (size / 2, size / 2) and
//! column sums) and [`filtered_back_projection`] reproduces `iradon(...,
//! circle=True)`. Images are row-major `size` x `size`; sinograms in memory
//! are row-major angles x detectors, and on disk scikit-image's
//! (detectors, angles) ([`write_sinogram`]).

mod fbp;
mod geometry;
mod noise;
mod phantom;
mod radon;
pub mod reference;
mod sinogram_npy;

pub use fbp::{
    filter_sinogram, filtered_back_projection, filtered_detectors, fourier_filter,
    padded_projection_len, FbpFilter, MAX_FBP_SIZE,
};
pub use geometry::RadonGeometry;
pub use noise::{add_noise, NOISE_STREAM};
pub use phantom::{
    shepp_logan, shepp_logan_ellipses, Ellipse, PhantomVariant, MAX_PHANTOM_SIZE,
    PHANTOM_SUPERSAMPLING,
};
pub use radon::Radon;
pub use sinogram_npy::{read_sinogram, write_sinogram, Sinogram};
