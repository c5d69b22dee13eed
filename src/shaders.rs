//! The WGSL shaders of `shaders/`, assembled and validated by `build.rs` and
//! embedded in the binary, so an installed `maso` never reads shader files.

/// One embedded shader module.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EmbeddedShader {
    /// File stem under `shaders/`, used as the label and pipeline-cache key.
    pub name: &'static str,
    /// WGSL text with every `#import` inlined.
    pub source: &'static str,
}

include!(concat!(env!("OUT_DIR"), "/shaders.rs"));
