//! Recurrent neural tangent kernel (RNTK) and NNGP of infinitely wide Elman
//! networks (Alemohammad, Wang, Balestriero and Baraniuk, "The Recurrent
//! Neural Tangent Kernel", ICLR 2021) between sequences of different
//! lengths.
//!
//! The network with L layers of width n and inputs x_t in R^m:
//!
//! ```text
//! g1_t = (sw/sqrt n) W1 h1_{t-1} + (su/sqrt m) U1 x_t + sb b1
//! gl_t = (sw/sqrt n) Wl hl_{t-1} + (su/sqrt n) Ul h(l-1)_t + sb bl
//! hl_t = phi(gl_t),   hl_0 ~ N(0, sh^2 I),   f(x) = (sv/sqrt n) V hL_T
//! ```
//!
//! The recursion over pairs of time steps is written out in `shaders/rntk.wgsl`
//! and in [`reference`]. Initial states of different sequences are
//! independent. Gram matrices are tiled and streamed like the NTK's.

mod config;
mod gram;
pub mod reference;

pub use config::{Readout, RntkConfig, MAX_LAYERS};
pub use gram::{compute_rntk_gram, compute_rntk_gram_selected, SequenceInputs};
