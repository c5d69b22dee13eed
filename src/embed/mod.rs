//! Embeddings from kernels and distances: kernel-induced distances, exact
//! t-SNE on the GPU, and metrics of class separation and neighbourhood
//! preservation.

mod affinities;
mod distances;
mod optimizer;
mod tsne;

pub use affinities::joint_probabilities;
pub use distances::{kernel_distances, kernel_distances_from_gpu, DistanceMatrix, KernelDistance, SYMMETRY_TOLERANCE};
pub use optimizer::{StepParameters, StepUniform, TsneOptimizer};
pub use tsne::{initial_embedding, kl_divergence, tsne, LearningRate, TsneConfig, TsneResult};
