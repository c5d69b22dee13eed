//! Embeddings from kernels and distances: kernel-induced distances, exact
//! t-SNE on the GPU, and metrics of class separation and neighbourhood
//! preservation.
//!
//! A typical kernel t-SNE run:
//! 1. [`kernel_distances`] turns a Gram matrix into a [`DistanceMatrix`]
//!    (or [`DistanceMatrix::new`] validates user distances);
//! 2. [`tsne`] calibrates the affinities ([`joint_probabilities`]) and
//!    optimises the embedding on the GPU ([`TsneOptimizer`]);
//! 3. [`knn_accuracy`], [`silhouette_score`] and [`trustworthiness`] measure
//!    the result.

mod affinities;
mod distances;
mod metrics;
mod optimizer;
mod tsne;

pub use affinities::joint_probabilities;
pub use distances::{
    kernel_distances, kernel_distances_from_gpu, DistanceMatrix, KernelDistance, SYMMETRY_TOLERANCE,
};
pub use metrics::{knn_accuracy, silhouette_score, trustworthiness};
pub use optimizer::{StepParameters, StepUniform, TsneOptimizer};
pub use tsne::{initial_embedding, kl_divergence, tsne, LearningRate, TsneConfig, TsneResult};
