//! Core kernels with Rust wrappers: matrix products, reductions, elementwise
//! maps and random numbers.
//!
//! Each operation records into a [`Recorder`](crate::gpu::Recorder), so a
//! pipeline can put many of them into one submission; nothing runs until
//! [`Recorder::submit`](crate::gpu::Recorder::submit).

mod elementwise;
mod gemm;
mod matrix;
mod random;
mod reduce;

pub use elementwise::{map_binary, map_unary, map_unary_in_place, BinaryOp, Broadcast, UnaryOp};
pub use gemm::{gemm, gram, matmul, GemmSpec};
pub use matrix::Matrix;
pub use random::{fill_normal, fill_random_bits, fill_uniform};
pub use reduce::{reduce_all, reduce_columns, reduce_rows, Reduction};
