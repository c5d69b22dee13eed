//! Adam and its Bregman (L1-proximal) variant, applied on the GPU
//! (`shaders/optim.wgsl` gives the update formulas).

use bytemuck::{Pod, Zeroable};

use crate::error::{Error, Result};
use crate::gpu::{grid_1d, Gpu, Recorder};
use crate::ops::Matrix;
use crate::shaders;

use super::params::ParameterStore;

/// Optimiser settings.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct OptimizerConfig {
    /// Step size.
    pub learning_rate: f32,
    /// Decay of the first moment.
    pub beta1: f32,
    /// Decay of the second moment.
    pub beta2: f32,
    /// Added to the root of the second moment.
    pub epsilon: f32,
    /// L1 strength mu of the Bregman variant (0 gives plain Adam).
    pub l1: f32,
}

impl Default for OptimizerConfig {
    fn default() -> Self {
        Self {
            learning_rate: 1e-3,
            beta1: 0.9,
            beta2: 0.999,
            epsilon: 1e-8,
            l1: 0.0,
        }
    }
}

impl OptimizerConfig {
    /// Checks every field's range.
    pub fn validate(&self) -> Result<()> {
        let fields = [
            (
                "learning_rate",
                self.learning_rate,
                self.learning_rate > 0.0 && self.learning_rate.is_finite(),
                "> 0",
            ),
            (
                "beta1",
                self.beta1,
                (0.0..1.0).contains(&self.beta1),
                "in [0, 1)",
            ),
            (
                "beta2",
                self.beta2,
                (0.0..1.0).contains(&self.beta2),
                "in [0, 1)",
            ),
            (
                "epsilon",
                self.epsilon,
                self.epsilon > 0.0 && self.epsilon.is_finite(),
                "> 0",
            ),
            ("l1", self.l1, self.l1 >= 0.0 && self.l1.is_finite(), ">= 0"),
        ];
        for (name, value, ok, expected) in fields {
            if !ok {
                return Err(Error::InvalidArgument {
                    name,
                    value: value.to_string(),
                    expected: format!("a value {expected}"),
                });
            }
        }
        Ok(())
    }
}

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct OptimParams {
    length: u32,
    padding: [u32; 3],
    learning_rate: f32,
    beta1: f32,
    beta2: f32,
    epsilon: f32,
    correction1: f32,
    correction2: f32,
    mu: f32,
    padding1: f32,
}

/// Adam (or AdaBreg when `l1` > 0) over the trainable parameters of a store.
pub struct Optimizer {
    config: OptimizerConfig,
    step: u32,
}

impl Optimizer {
    /// A fresh optimiser (step count 0).
    pub fn new(config: OptimizerConfig) -> Result<Self> {
        config.validate()?;
        Ok(Self { config, step: 0 })
    }

    /// Settings.
    pub fn config(&self) -> &OptimizerConfig {
        &self.config
    }

    /// Steps taken so far.
    pub fn steps(&self) -> u32 {
        self.step
    }

    /// Creates the moment buffers and the dual variable of every trainable
    /// parameter that lacks them. The dual starts at w + mu sign(w), the
    /// point whose shrinkage is w, so the first update starts from the
    /// current weights.
    fn prepare(&self, gpu: &Gpu, store: &mut ParameterStore) -> Result<()> {
        for parameter in store
            .parameters
            .iter_mut()
            .filter(|p| p.trainable && p.state.is_none())
        {
            let (rows, columns) = (parameter.value.rows(), parameter.value.columns());
            let weights = parameter.value.read(gpu)?;
            let mu = self.config.l1;
            let dual: Vec<f32> = weights
                .iter()
                .map(|&w| if w == 0.0 { 0.0 } else { w + mu * w.signum() })
                .collect();
            parameter.state = Some([
                Matrix::zeros(gpu, rows, columns, "adam first moment")?,
                Matrix::zeros(gpu, rows, columns, "adam second moment")?,
                Matrix::upload(gpu, &dual, rows, columns, "bregman dual")?,
            ]);
        }
        Ok(())
    }

    /// Records one update of every trainable parameter from its gradient.
    pub fn record_step(
        &mut self,
        recorder: &mut Recorder,
        store: &mut ParameterStore,
    ) -> Result<()> {
        let gpu = recorder.gpu();
        self.prepare(gpu, store)?;
        self.step += 1;
        let t = self.step as i32;
        let entry = if self.config.l1 > 0.0 {
            "adabreg"
        } else {
            "adam"
        };
        let kernel = gpu.kernel(&shaders::OPTIM, entry, &[])?;
        for parameter in store.parameters.iter().filter(|p| p.trainable) {
            let [first, second, dual] =
                parameter.state.as_ref().expect("prepare created the state");
            let params = OptimParams {
                length: parameter.value.len() as u32,
                padding: [0; 3],
                learning_rate: self.config.learning_rate,
                beta1: self.config.beta1,
                beta2: self.config.beta2,
                epsilon: self.config.epsilon,
                correction1: 1.0 - self.config.beta1.powi(t),
                correction2: 1.0 - self.config.beta2.powi(t),
                mu: self.config.l1,
                padding1: 0.0,
            };
            let uniform = recorder.uniform(&params)?;
            let mut bindings = vec![
                (0, parameter.gradient.buffer().raw()),
                (1, parameter.value.buffer().raw()),
                (2, first.buffer().raw()),
                (3, second.buffer().raw()),
            ];
            if self.config.l1 > 0.0 {
                bindings.push((4, dual.buffer().raw()));
            }
            bindings.push((5, &uniform));
            let grid = grid_1d(gpu, parameter.value.len(), entry)?;
            recorder.dispatch(&kernel, &bindings, grid, entry)?;
        }
        Ok(())
    }
}
