//! Embeddings from kernels and distances: kernel-induced distances, exact
//! t-SNE on the GPU, and metrics of class separation and neighbourhood
//! preservation.

mod affinities;
mod distances;

pub use affinities::joint_probabilities;
pub use distances::{kernel_distances, kernel_distances_from_gpu, DistanceMatrix, KernelDistance, SYMMETRY_TOLERANCE};
