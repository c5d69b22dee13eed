//! Settings of the recurrent NTK and their validation.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::kernels::ntk::Activation;

/// Deepest network the GPU kernel supports (its per-pair arrays have this size).
pub const MAX_LAYERS: usize = 16;

/// Read-out of the last layer's hidden states into the network's output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Readout {
    /// f = (sv/sqrt n) V h_T: only the end-aligned diagonal of step pairs
    /// matters, O(min(T, T') L) per pair.
    Last,
    /// f = (sv/sqrt n) V (1/T) sum_t h_t: every pair of steps, O(T T' L).
    Mean,
}

impl Readout {
    /// Parses `last` or `mean`.
    pub fn parse(name: &str) -> Result<Self> {
        match name.to_ascii_lowercase().as_str() {
            "last" => Ok(Self::Last),
            "mean" => Ok(Self::Mean),
            _ => Err(Error::InvalidArgument {
                name: "readout",
                value: name.to_string(),
                expected: "last or mean".to_string(),
            }),
        }
    }
}

/// An Elman network: `layers` recurrent layers of `activation`, weight scales
/// sw (recurrent), su (input), sb (bias), sh (initial state), sv (output).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RntkConfig {
    /// Number of recurrent layers L.
    pub layers: usize,
    /// Nonlinearity.
    pub activation: Activation,
    /// Recurrent weight scale sigma_w.
    pub sw: f64,
    /// Input weight scale sigma_u.
    pub su: f64,
    /// Bias scale sigma_b.
    pub sb: f64,
    /// Initial hidden state scale sigma_h.
    pub sh: f64,
    /// Output weight scale sigma_v.
    pub sv: f64,
    /// Read-out of the hidden states.
    pub readout: Readout,
}

impl Default for RntkConfig {
    /// Returns the usual ReLU setting: sw^2 = 2, su = 1, sb = 0.1, sh = 0, sv = 1, one layer.
    fn default() -> Self {
        Self {
            layers: 1,
            activation: Activation::Relu,
            sw: std::f64::consts::SQRT_2,
            su: 1.0,
            sb: 0.1,
            sh: 0.0,
            sv: 1.0,
            readout: Readout::Last,
        }
    }
}

impl RntkConfig {
    /// Checks every field and returns the first invalid one.
    pub fn validate(&self) -> Result<()> {
        if self.layers == 0 || self.layers > MAX_LAYERS {
            return Err(Error::InvalidArgument {
                name: "layers",
                value: self.layers.to_string(),
                expected: format!("a number of recurrent layers from 1 to {MAX_LAYERS}"),
            });
        }
        for (name, value) in [
            ("sw", self.sw),
            ("su", self.su),
            ("sb", self.sb),
            ("sh", self.sh),
            ("sv", self.sv),
        ] {
            if !(value.is_finite() && value >= 0.0) {
                return Err(Error::InvalidArgument {
                    name,
                    value: value.to_string(),
                    expected: "a finite scale >= 0".to_string(),
                });
            }
        }
        Ok(())
    }
}
