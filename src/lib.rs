//! maso: GPU-first compute for neural tangent kernels, recurrent NTKs,
//! coordinate networks and self-consuming generative loops, in hand-written
//! WGSL scheduled on wgpu.
//!
//! Layers, from the bottom: [`gpu`] (runtime), [`ops`] (core kernels),
//! [`random`] (counter-based random numbers), [`io`] (file formats).

#![warn(missing_docs)]

pub mod ct;
pub mod data;
pub mod decomposition;
pub mod embed;
pub mod error;
pub mod generative;
pub mod gpu;
pub mod imaging;
pub mod io;
pub mod kernels;
pub mod metrics;
pub mod nn;
pub mod ops;
pub mod pipelines;
pub mod plot;
pub mod random;
pub mod reproduce;
pub mod shader_source;
pub mod shaders;
pub mod solvers;

pub use error::{Error, Result};
pub use gpu::{Gpu, GpuBuffer, GpuOptions};
pub use ops::Matrix;
