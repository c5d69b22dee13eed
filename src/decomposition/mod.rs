//! Matrix decompositions for embeddings: kernel PCA (and PCA as kernel PCA
//! with the linear kernel).

mod kernel_pca;

pub use kernel_pca::{linear_kernel, KernelPca, KernelPcaOptions};
