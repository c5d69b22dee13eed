//! Neural networks trained on the GPU.

pub mod mlp;
