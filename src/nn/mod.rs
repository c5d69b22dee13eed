//! Neural networks trained on the GPU.
//!
//! - [`graph`]: a static computation graph with forward and backward
//!   kernels (dense layers, activations, Fourier features, channel
//!   normalisation, upsampling, fixed linear measurements, losses);
//! - [`params`] and [`optim`]: parameters with their gradients, Adam and
//!   its L1-proximal (Bregman) variant;
//! - [`models`]: SIREN, Fourier-feature and ReLU MLPs, TITAN and the deep
//!   decoder;
//! - [`train`]: fitting coordinate networks, rendering, Lipschitz estimates;
//! - [`mlp`]: the NTK-parameterised MLP of the NFT-K pipeline.

pub mod graph;
mod kernels;
pub mod mlp;
pub mod models;
pub mod optim;
pub mod params;
pub mod train;

pub use graph::{
    Activation, ChannelNorm, Graph, GraphBuilder, LinearOperator, Loss, NormStatistics, TensorId,
};
pub use models::{
    sinusoidal_encoding, CoordinateNetwork, DeepDecoder, DeepDecoderConfig, Mlp, MlpConfig, Siren,
    SirenConfig, Titan, TitanConfig,
};
pub use optim::{Optimizer, OptimizerConfig};
pub use params::{Init, ParamId, ParameterStore};
pub use train::{fit, fit_through, lipschitz_estimate, render, FitConfig, FitReport};
