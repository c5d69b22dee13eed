//! A conditional denoising diffusion model (DDPM) of MNIST-sized images,
//! trained and sampled on the GPU, and the digit classifier whose features
//! score its samples.
//!
//! - [`schedule`]: linear and cosine noise schedules and the coefficients of
//!   full or strided ancestral sampling;
//! - [`Denoiser`]: the residual-MLP noise predictor with sinusoidal time and
//!   one-hot class embeddings (the null class serves classifier-free
//!   guidance);
//! - [`train_denoiser`] and [`DenoiserTrainer`]: the simplified DDPM loss
//!   with label dropout and Adam;
//! - [`sample_images`]: guided ancestral sampling with a fused update kernel;
//! - [`FeatureNetwork`]: the MLP classifier for FID-style features.

mod classifier;
mod denoiser;
mod grid;
pub mod kernels;
mod sampling;
pub mod schedule;
mod training;

pub(crate) use classifier::permutation;
pub use classifier::{ClassifierConfig, FeatureNetwork};
pub use denoiser::{Denoiser, DenoiserConfig, DenoiserGraph};
pub use grid::write_sample_grid;
pub use sampling::{balanced_labels, sample_images, SamplingConfig, SAMPLING_STREAM};
pub use schedule::{guidance_from_lambda, NoiseSchedule, SamplingStep, ScheduleKind};
pub use training::{
    train_denoiser, DenoiserTrainer, TrainingBatch, TrainingConfig, TrainingReport,
};
