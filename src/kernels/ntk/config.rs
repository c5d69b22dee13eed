//! Network description for the infinite-width NTK and its validation.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Deepest network the GPU kernel supports (its per-entry arrays have this size).
pub const MAX_DEPTH: usize = 128;

/// Nonlinearity of the hidden layers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Activation {
    /// max(x, 0).
    Relu,
    /// The error function.
    Erf,
}

impl Activation {
    /// Parses `relu` or `erf`.
    pub fn parse(name: &str) -> Result<Self> {
        match name.to_ascii_lowercase().as_str() {
            "relu" => Ok(Self::Relu),
            "erf" => Ok(Self::Erf),
            _ => Err(Error::InvalidArgument {
                name: "activation",
                value: name.to_string(),
                expected: "relu or erf".to_string(),
            }),
        }
    }
}

/// Weight scaling convention, as in neural-tangents' `stax.Dense`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Parameterization {
    /// W ~ N(0, 1) with w_std / sqrt(fan_in) in the forward pass.
    Ntk,
    /// W ~ N(0, w_std^2 / fan_in); the NTK then depends on the widths.
    Standard,
}

impl Parameterization {
    /// Parses `ntk` or `standard`.
    pub fn parse(name: &str) -> Result<Self> {
        match name.to_ascii_lowercase().as_str() {
            "ntk" => Ok(Self::Ntk),
            "standard" => Ok(Self::Standard),
            _ => Err(Error::InvalidArgument {
                name: "parameterization",
                value: name.to_string(),
                expected: "ntk or standard".to_string(),
            }),
        }
    }
}

/// A fully connected network: `depth` hidden layers of `activation`, each
/// preceded by a dense layer, and a dense read-out, all with the same
/// `w_std` and `b_std`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct NtkConfig {
    /// Number of hidden layers L (the network has L + 1 dense layers).
    pub depth: usize,
    /// Hidden-layer nonlinearity.
    pub activation: Activation,
    /// Weight standard deviation sigma_w.
    pub w_std: f64,
    /// Bias standard deviation sigma_b; `None` for a network without biases.
    pub b_std: Option<f64>,
    /// Weight scaling convention.
    pub parameterization: Parameterization,
    /// Hidden width; only the standard parameterization's NTK depends on it.
    pub width: usize,
}

impl Default for NtkConfig {
    fn default() -> Self {
        Self {
            depth: 1,
            activation: Activation::Relu,
            w_std: 1.0,
            b_std: None,
            parameterization: Parameterization::Ntk,
            width: 512,
        }
    }
}

impl NtkConfig {
    /// Checks every field and returns the first invalid one.
    pub fn validate(&self) -> Result<()> {
        if self.depth == 0 || self.depth > MAX_DEPTH {
            return Err(Error::InvalidArgument {
                name: "depth",
                value: self.depth.to_string(),
                expected: format!("a number of hidden layers from 1 to {MAX_DEPTH}"),
            });
        }
        if !(self.w_std.is_finite() && self.w_std >= 0.0) {
            return Err(Error::InvalidArgument {
                name: "w_std",
                value: self.w_std.to_string(),
                expected: "a finite standard deviation >= 0".to_string(),
            });
        }
        if let Some(b_std) = self.b_std {
            if !(b_std.is_finite() && b_std >= 0.0) {
                return Err(Error::InvalidArgument {
                    name: "b_std",
                    value: b_std.to_string(),
                    expected: "a finite standard deviation >= 0, or no bias".to_string(),
                });
            }
        }
        if self.width == 0 {
            return Err(Error::InvalidArgument {
                name: "width",
                value: "0".to_string(),
                expected: "a hidden width of at least 1".to_string(),
            });
        }
        Ok(())
    }

    /// sigma_w^2.
    pub fn w_variance(&self) -> f64 {
        self.w_std * self.w_std
    }

    /// sigma_b^2 (0 without biases).
    pub fn b_variance(&self) -> f64 {
        self.b_std.map_or(0.0, |b| b * b)
    }

    /// Coefficients (alpha_0, alpha_hidden, beta) of the gradient kernel
    /// G_h = alpha_h Sigma_h + beta of weight layer h, for `dimension` inputs.
    pub fn gradient_kernel_coefficients(&self, dimension: usize) -> (f64, f64, f64) {
        match self.parameterization {
            Parameterization::Ntk => (self.w_variance(), self.w_variance(), self.b_variance()),
            // neural-tangents 0.6.5 (stax.Dense): the weight gradient of a
            // layer with fan-in n contributes n Sigma_h, and a bias, even one
            // with b_std = 0, contributes 1.
            Parameterization::Standard => (
                dimension as f64,
                self.width as f64,
                if self.b_std.is_some() { 1.0 } else { 0.0 },
            ),
        }
    }
}
