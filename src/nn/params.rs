//! Trainable and frozen parameters of a network, kept on the GPU with their
//! gradients, so that a training graph and a rendering graph of other batch
//! sizes share one set of weights.

use std::path::Path;

use crate::error::{Error, Result};
use crate::gpu::{Gpu, Recorder};
use crate::io::npy;
use crate::ops::Matrix;
use crate::random::PhiloxStream;

/// Handle of one parameter in a [`ParameterStore`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ParamId(pub(crate) usize);

/// Distribution of a parameter's entries at initialisation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Init {
    /// Every entry equals the value.
    Constant(f32),
    /// Uniform on [low, high).
    Uniform {
        /// Lower end.
        low: f32,
        /// Upper end.
        high: f32,
    },
    /// Normal with mean 0 and the given standard deviation.
    Normal {
        /// Standard deviation.
        std: f32,
    },
}

impl Init {
    /// PyTorch's default for `nn.Linear` weights and biases:
    /// U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
    pub fn linear_default(fan_in: usize) -> Self {
        let bound = 1.0 / (fan_in.max(1) as f32).sqrt();
        Init::Uniform {
            low: -bound,
            high: bound,
        }
    }

    /// Draws `count` values from Philox stream `stream`.
    pub fn sample(self, stream: PhiloxStream, count: usize) -> Vec<f32> {
        match self {
            Init::Constant(value) => vec![value; count],
            Init::Uniform { low, high } => stream
                .uniform(0, count)
                .into_iter()
                .map(|u| low + (high - low) * u)
                .collect(),
            Init::Normal { std } => stream
                .normal(0, count)
                .into_iter()
                .map(|z| std * z)
                .collect(),
        }
    }
}

/// One parameter: its value, its gradient and the optimiser's state.
pub(crate) struct Parameter {
    pub(crate) name: String,
    pub(crate) value: Matrix,
    pub(crate) gradient: Matrix,
    pub(crate) trainable: bool,
    /// Adam moments and the Bregman dual variable, created on the first step.
    pub(crate) state: Option<[Matrix; 3]>,
}

/// The parameters of one network.
#[derive(Default)]
pub struct ParameterStore {
    pub(crate) parameters: Vec<Parameter>,
}

impl ParameterStore {
    /// Creates an empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a rows x columns parameter with the given host values
    /// (row-major). A frozen parameter (`trainable` false) gets no updates.
    pub fn add(
        &mut self,
        gpu: &Gpu,
        name: &str,
        rows: usize,
        columns: usize,
        values: &[f32],
        trainable: bool,
    ) -> Result<ParamId> {
        if values.len() != rows * columns || rows == 0 || columns == 0 {
            return Err(Error::ShapeMismatch {
                operation: "ParameterStore::add",
                message: format!(
                    "parameter {name:?} is {rows} x {columns} but {} values were given",
                    values.len()
                ),
            });
        }
        if let Some(position) = values.iter().position(|value| !value.is_finite()) {
            return Err(Error::InvalidArgument {
                name: "parameter value",
                value: format!("{} at index {position} of {name:?}", values[position]),
                expected: "finite initial values".to_string(),
            });
        }
        let value = Matrix::upload(gpu, values, rows, columns, name)?;
        let gradient = Matrix::zeros(gpu, rows, columns, &format!("{name} gradient"))?;
        self.parameters.push(Parameter {
            name: name.to_string(),
            value,
            gradient,
            trainable,
            state: None,
        });
        Ok(ParamId(self.parameters.len() - 1))
    }

    /// Adds a parameter drawn from `init` with Philox stream (seed, stream).
    /// With `keep` below 1, each entry is kept with that probability and set
    /// to zero otherwise (a Bernoulli keep-mask at initialisation, from the
    /// stream's second half so that it does not correlate with the values).
    #[allow(clippy::too_many_arguments)]
    pub fn add_random(
        &mut self,
        gpu: &Gpu,
        name: &str,
        rows: usize,
        columns: usize,
        init: Init,
        keep: f32,
        stream: PhiloxStream,
        trainable: bool,
    ) -> Result<ParamId> {
        if !(keep > 0.0 && keep <= 1.0) {
            return Err(Error::InvalidArgument {
                name: "keep probability",
                value: keep.to_string(),
                expected: "a probability in (0, 1]".to_string(),
            });
        }
        let count = rows * columns;
        let mut values = init.sample(stream, count);
        if keep < 1.0 {
            let draws = stream.uniform(1 << 40, count);
            for (value, draw) in values.iter_mut().zip(draws) {
                if draw >= keep {
                    *value = 0.0;
                }
            }
        }
        self.add(gpu, name, rows, columns, &values, trainable)
    }

    /// Number of parameters (tensors).
    pub fn len(&self) -> usize {
        self.parameters.len()
    }

    /// Returns whether the store has no parameters.
    pub fn is_empty(&self) -> bool {
        self.parameters.is_empty()
    }

    /// Name of a parameter.
    pub fn name(&self, id: ParamId) -> &str {
        &self.parameters[id.0].name
    }

    /// Value of a parameter on the GPU.
    pub fn value(&self, id: ParamId) -> &Matrix {
        &self.parameters[id.0].value
    }

    /// Gradient of a parameter on the GPU (valid after a backward pass).
    pub fn gradient(&self, id: ParamId) -> &Matrix {
        &self.parameters[id.0].gradient
    }

    /// Returns whether the optimiser updates this parameter.
    pub fn is_trainable(&self, id: ParamId) -> bool {
        self.parameters[id.0].trainable
    }

    /// Ids of all parameters in insertion order.
    pub fn ids(&self) -> impl Iterator<Item = ParamId> {
        (0..self.parameters.len()).map(ParamId)
    }

    /// Reads a parameter's value back.
    pub fn read(&self, gpu: &Gpu, id: ParamId) -> Result<Vec<f32>> {
        self.parameters[id.0].value.read(gpu)
    }

    /// Reads a parameter's gradient back.
    pub fn read_gradient(&self, gpu: &Gpu, id: ParamId) -> Result<Vec<f32>> {
        self.parameters[id.0].gradient.read(gpu)
    }

    /// Overwrites a parameter's value (the optimiser state is reset).
    pub fn write(&mut self, gpu: &Gpu, id: ParamId, values: &[f32]) -> Result<()> {
        let parameter = &mut self.parameters[id.0];
        if values.len() != parameter.value.len() {
            return Err(Error::ShapeMismatch {
                operation: "ParameterStore::write",
                message: format!(
                    "{:?} has {} entries but {} values were given",
                    parameter.name,
                    parameter.value.len(),
                    values.len()
                ),
            });
        }
        gpu.write(parameter.value.buffer(), 0, values)?;
        parameter.state = None;
        Ok(())
    }

    /// Total number of trainable entries.
    pub fn trainable_count(&self) -> usize {
        self.parameters
            .iter()
            .filter(|p| p.trainable)
            .map(|p| p.value.len())
            .sum()
    }

    /// Number of non-zero trainable entries (reads every parameter back).
    pub fn nonzero_count(&self, gpu: &Gpu) -> Result<usize> {
        let mut count = 0;
        for parameter in self.parameters.iter().filter(|p| p.trainable) {
            count += parameter
                .value
                .read(gpu)?
                .iter()
                .filter(|&&value| value != 0.0)
                .count();
        }
        Ok(count)
    }

    /// Records clearing every gradient.
    pub fn clear_gradients(&self, recorder: &mut Recorder) {
        for parameter in &self.parameters {
            recorder.clear(parameter.gradient.buffer());
        }
    }

    /// Writes every parameter as `<name>.npy` (float32, rows x columns) into
    /// `directory`, plus `parameters.json` listing names, shapes and whether
    /// each is trained.
    pub fn save(&self, gpu: &Gpu, directory: &Path) -> Result<()> {
        std::fs::create_dir_all(directory).map_err(|source| Error::Io {
            path: directory.to_path_buf(),
            source,
        })?;
        let mut listing = Vec::new();
        for parameter in &self.parameters {
            let values = parameter.value.read(gpu)?;
            let file = directory.join(format!("{}.npy", parameter.name));
            npy::write_f32(
                &file,
                &[parameter.value.rows(), parameter.value.columns()],
                &values,
            )?;
            listing.push(serde_json::json!({
                "name": parameter.name,
                "shape": [parameter.value.rows(), parameter.value.columns()],
                "trainable": parameter.trainable,
                "file": format!("{}.npy", parameter.name),
            }));
        }
        let path = directory.join("parameters.json");
        let text =
            serde_json::to_string_pretty(&listing).expect("a JSON list of plain values serialises");
        std::fs::write(&path, text).map_err(|source| Error::Io { path, source })
    }

    /// Reads parameters saved by [`ParameterStore::save`] into this store,
    /// matching them by name and shape.
    pub fn load(&mut self, gpu: &Gpu, directory: &Path) -> Result<()> {
        for index in 0..self.parameters.len() {
            let (name, rows, columns) = {
                let parameter = &self.parameters[index];
                (
                    parameter.name.clone(),
                    parameter.value.rows(),
                    parameter.value.columns(),
                )
            };
            let file = directory.join(format!("{name}.npy"));
            let (file_rows, file_columns, values) = npy::read_matrix_f32(&file)?;
            if (file_rows, file_columns) != (rows, columns) {
                return Err(Error::ShapeMismatch {
                    operation: "ParameterStore::load",
                    message: format!("{} is {file_rows} x {file_columns} but the network's {name:?} is {rows} x {columns}", file.display()),
                });
            }
            self.write(gpu, ParamId(index), &values)?;
        }
        Ok(())
    }
}
