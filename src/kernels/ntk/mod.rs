//! Infinite-width neural tangent kernel (NTK) and NNGP kernel of fully
//! connected networks, with the NTK split into one term per dense layer.
//!
//! For inputs x, x' of dimension d and a network of L hidden layers with
//! weight and bias standard deviations w and b (notation of neural-tangents):
//!
//! ```text
//! Sigma_0 = <x, x'> / d
//! S_h = w^2 Sigma_h + b^2                          pre-activation covariance
//! Sigma_{h+1} = E[phi(u) phi(v)],   D_{h+1} = w^2 E[phi'(u) phi'(v)]
//!     with (u, v) ~ N(0, [[S_h(x,x), S_h(x,x')], [S_h(x,x'), S_h(x',x')]])
//! NNGP = S_L,   NTK = sum_{h=0..L} Theta_h,   Theta_h = G_h prod_{k>h} D_k
//! ```
//!
//! where G_h, the gradient kernel of dense layer h, is S_h in the NTK
//! parameterization. ReLU uses the arc-cosine closed forms (Cho and Saul,
//! 2009), erf the arcsine form (Williams, 1997). Gram matrices are computed in
//! tiles sized from the adapter's limits and streamed to a [`GramSink`], so
//! their size is bounded by the disk, not by GPU memory.

mod config;
mod gram;
pub mod reference;

pub use crate::kernels::sink::{GramSink, MemorySink, NpyDtype, NpySink};
pub use crate::kernels::tiling::GramReport;
pub use config::{Activation, NtkConfig, Parameterization, MAX_DEPTH};
pub use gram::{compute_ntk_gram, compute_ntk_gram_selected, GramOptions, Inputs};

/// Names of the components in output order: `nngp`, `ntk`, then `layer_h`
/// for h = 0..=depth when per-layer terms are requested.
pub fn component_names(depth: usize, per_layer: bool) -> Vec<String> {
    let mut names = vec!["nngp".to_string(), "ntk".to_string()];
    if per_layer {
        names.extend((0..=depth).map(|h| format!("layer_{h}")));
    }
    names
}
