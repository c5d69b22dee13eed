//! A static computation graph of small networks with forward and backward
//! passes on the GPU.
//!
//! A [`GraphBuilder`] records operations on tensors of a fixed number of
//! rows (samples or pixels); [`GraphBuilder::build`] allocates a value and,
//! where a trainable parameter or a differentiated input lies upstream, a
//! gradient buffer per tensor. Parameters live in a
//! [`ParameterStore`](super::ParameterStore), so graphs of other sizes (a
//! rendering graph, a Jacobian graph) share one set of weights.
//!
//! Backward passes are reverse-mode: every operation adds the product of its
//! Jacobian's transpose with the gradient at its output to the gradients of
//! its inputs and parameters (the formulas sit next to each operation).

use std::sync::Arc;

use crate::error::{Error, Result};
use crate::gpu::{Gpu, GpuBuffer, Recorder};
use crate::ops::{self, GemmSpec, Matrix, Reduction};

use super::kernels::{dispatch, Bind, Launch, NnParams};
use super::params::{ParamId, ParameterStore};

/// Handle of a tensor in a graph.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TensorId(usize);

/// Pointwise nonlinearities.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub enum Activation {
    /// f(x) = x.
    Identity,
    /// max(x, 0).
    Relu,
    /// sin(omega x) (SIREN's omega_0).
    Sine {
        /// Frequency factor.
        omega: f32,
    },
    /// 1 / (1 + e^-x).
    Sigmoid,
    /// tanh(x).
    Tanh,
    /// x sigmoid(x) (also called swish).
    Silu,
}

impl Activation {
    pub(crate) fn code(self) -> u32 {
        match self {
            Activation::Identity => 0,
            Activation::Relu => 1,
            Activation::Sine { .. } => 2,
            Activation::Sigmoid => 3,
            Activation::Tanh => 4,
            Activation::Silu => 5,
        }
    }

    fn parameter(self) -> f32 {
        match self {
            Activation::Sine { omega } => omega,
            _ => 0.0,
        }
    }
}

/// Source of the statistics a channel normalisation uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NormStatistics {
    /// Mean and variance of the current batch, as in training; they are also
    /// stored in the statistics parameter for later frozen use.
    Batch,
    /// The stored statistics, so that the network is a pointwise function
    /// (rendering at another resolution, Jacobians).
    Frozen,
}

/// A fixed linear map applied to a whole tensor viewed as one vector (for
/// example the Radon transform of a rendered image), with its adjoint for
/// the backward pass.
pub trait LinearOperator: Send + Sync {
    /// Length of the vectors the operator accepts.
    fn input_len(&self) -> usize;
    /// Length of the vectors it returns.
    fn output_len(&self) -> usize;
    /// Records output = A input (overwriting output).
    fn forward(
        &self,
        recorder: &mut Recorder,
        input: &GpuBuffer<f32>,
        output: &GpuBuffer<f32>,
    ) -> Result<()>;
    /// Records output = A^T input (overwriting output).
    fn adjoint(
        &self,
        recorder: &mut Recorder,
        input: &GpuBuffer<f32>,
        output: &GpuBuffer<f32>,
    ) -> Result<()>;
}

/// Parameters of a channel normalisation
/// y = gamma (x - mean) / sqrt(var + eps) + beta, with `statistics` a frozen
/// 2 x C parameter (means, then inverse deviations).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChannelNorm {
    /// Scale per channel (1 x C).
    pub gamma: ParamId,
    /// Shift per channel (1 x C).
    pub beta: ParamId,
    /// Stored statistics (2 x C, not trained).
    pub statistics: ParamId,
    /// Added to the variance.
    pub epsilon: f32,
}

#[derive(Clone)]
enum Op {
    Input {
        differentiate: bool,
    },
    Dense {
        x: TensorId,
        weight: ParamId,
        bias: Option<ParamId>,
    },
    Activation {
        x: TensorId,
        activation: Activation,
    },
    Scale {
        x: TensorId,
        factor: f32,
    },
    Add {
        a: TensorId,
        b: TensorId,
    },
    SinCos {
        x: TensorId,
    },
    BroadcastRow {
        row: ParamId,
    },
    Parameter {
        parameter: ParamId,
    },
    Norm {
        x: TensorId,
        norm: ChannelNorm,
        statistics: NormStatistics,
    },
    Upsample2x {
        x: TensorId,
        width: usize,
        height: usize,
    },
    AreaDownsample {
        x: TensorId,
        width: usize,
        height: usize,
        factor: usize,
    },
    Operator {
        x: TensorId,
        operator: Arc<dyn LinearOperator>,
    },
}

/// Objective a graph is trained to minimise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Loss {
    /// Mean over all entries of (prediction - target)^2.
    MeanSquaredError {
        /// The network's output.
        prediction: TensorId,
        /// An input tensor holding the targets.
        target: TensorId,
    },
    /// Mean over rows of the softmax cross-entropy of logits against target
    /// probabilities (one-hot labels, for example).
    SoftmaxCrossEntropy {
        /// Logits.
        logits: TensorId,
        /// An input tensor holding the target probabilities.
        target: TensorId,
    },
}

struct NodeSpec {
    op: Op,
    rows: usize,
    columns: usize,
    label: String,
}

/// Records the operations of a graph; see the module documentation.
pub struct GraphBuilder<'s> {
    store: &'s ParameterStore,
    nodes: Vec<NodeSpec>,
    loss: Option<Loss>,
}

impl<'s> GraphBuilder<'s> {
    /// Starts a graph whose operations use parameters of `store`.
    pub fn new(store: &'s ParameterStore) -> Self {
        Self {
            store,
            nodes: Vec::new(),
            loss: None,
        }
    }

    /// Rows and columns of a tensor.
    pub fn shape(&self, tensor: TensorId) -> (usize, usize) {
        let node = &self.nodes[tensor.0];
        (node.rows, node.columns)
    }

    fn push(&mut self, op: Op, rows: usize, columns: usize, label: &str) -> TensorId {
        self.nodes.push(NodeSpec {
            op,
            rows,
            columns,
            label: label.to_string(),
        });
        TensorId(self.nodes.len() - 1)
    }

    fn parameter_shape(&self, id: ParamId) -> (usize, usize) {
        let value = self.store.value(id);
        (value.rows(), value.columns())
    }

    fn mismatch(operation: &'static str, message: String) -> Error {
        Error::ShapeMismatch { operation, message }
    }

    /// Adds a rows x columns input filled by [`Graph::set_input`].
    pub fn input(&mut self, rows: usize, columns: usize, label: &str) -> Result<TensorId> {
        if rows == 0 || columns == 0 {
            return Err(Self::mismatch(
                "GraphBuilder::input",
                format!("input {label:?} is {rows} x {columns}; both must be at least 1"),
            ));
        }
        Ok(self.push(
            Op::Input {
                differentiate: false,
            },
            rows,
            columns,
            label,
        ))
    }

    /// Adds an input whose gradient the backward pass computes (for Jacobians).
    pub fn differentiable_input(
        &mut self,
        rows: usize,
        columns: usize,
        label: &str,
    ) -> Result<TensorId> {
        let id = self.input(rows, columns, label)?;
        self.nodes[id.0].op = Op::Input {
            differentiate: true,
        };
        Ok(id)
    }

    /// y = x W^T + b with W of shape out x in and b of shape 1 x out.
    pub fn dense(
        &mut self,
        x: TensorId,
        weight: ParamId,
        bias: Option<ParamId>,
        label: &str,
    ) -> Result<TensorId> {
        let (rows, columns) = self.shape(x);
        let (out, fan_in) = self.parameter_shape(weight);
        if fan_in != columns {
            return Err(Self::mismatch(
                "dense",
                format!("{label:?}: the input has {columns} columns but weight {:?} is {out} x {fan_in}", self.store.name(weight)),
            ));
        }
        if let Some(bias) = bias {
            if self.parameter_shape(bias) != (1, out) {
                return Err(Self::mismatch(
                    "dense",
                    format!(
                        "{label:?}: bias {:?} must be 1 x {out}, not {:?}",
                        self.store.name(bias),
                        self.parameter_shape(bias)
                    ),
                ));
            }
        }
        Ok(self.push(Op::Dense { x, weight, bias }, rows, out, label))
    }

    /// y = f(x) elementwise.
    pub fn activation(&mut self, x: TensorId, activation: Activation, label: &str) -> TensorId {
        let (rows, columns) = self.shape(x);
        self.push(Op::Activation { x, activation }, rows, columns, label)
    }

    /// y = factor x.
    pub fn scale(&mut self, x: TensorId, factor: f32, label: &str) -> TensorId {
        let (rows, columns) = self.shape(x);
        self.push(Op::Scale { x, factor }, rows, columns, label)
    }

    /// y = a + b (same shape).
    pub fn add(&mut self, a: TensorId, b: TensorId, label: &str) -> Result<TensorId> {
        let (shape_a, shape_b) = (self.shape(a), self.shape(b));
        if shape_a != shape_b {
            return Err(Self::mismatch(
                "add",
                format!("{label:?}: {shape_a:?} + {shape_b:?}"),
            ));
        }
        Ok(self.push(Op::Add { a, b }, shape_a.0, shape_a.1, label))
    }

    /// y = [cos(x), sin(x)] (twice the columns), the second half of Fourier
    /// features and sinusoidal encodings.
    pub fn sincos(&mut self, x: TensorId, label: &str) -> TensorId {
        let (rows, columns) = self.shape(x);
        self.push(Op::SinCos { x }, rows, 2 * columns, label)
    }

    /// Repeats a 1 x C parameter on `rows` rows (a learned constant input).
    pub fn broadcast_row(&mut self, row: ParamId, rows: usize, label: &str) -> Result<TensorId> {
        let (parameter_rows, columns) = self.parameter_shape(row);
        if parameter_rows != 1 || rows == 0 {
            return Err(Self::mismatch(
                "broadcast_row",
                format!("{label:?}: needs a 1 x C parameter and rows >= 1"),
            ));
        }
        Ok(self.push(Op::BroadcastRow { row }, rows, columns, label))
    }

    /// Uses a whole parameter as a tensor (a deep decoder's fixed input).
    pub fn parameter(&mut self, parameter: ParamId, label: &str) -> TensorId {
        let (rows, columns) = self.parameter_shape(parameter);
        self.push(Op::Parameter { parameter }, rows, columns, label)
    }

    /// Channel normalisation over the rows (batch normalisation of a 1x1
    /// convolution stack).
    pub fn channel_norm(
        &mut self,
        x: TensorId,
        norm: ChannelNorm,
        statistics: NormStatistics,
        label: &str,
    ) -> Result<TensorId> {
        let (rows, columns) = self.shape(x);
        let expected = [
            (norm.gamma, (1, columns)),
            (norm.beta, (1, columns)),
            (norm.statistics, (2, columns)),
        ];
        for (id, shape) in expected {
            if self.parameter_shape(id) != shape {
                return Err(Self::mismatch(
                    "channel_norm",
                    format!(
                        "{label:?}: parameter {:?} is {:?}, expected {shape:?}",
                        self.store.name(id),
                        self.parameter_shape(id)
                    ),
                ));
            }
        }
        Ok(self.push(
            Op::Norm {
                x,
                norm,
                statistics,
            },
            rows,
            columns,
            label,
        ))
    }

    fn check_grid(
        &self,
        x: TensorId,
        width: usize,
        height: usize,
        operation: &'static str,
    ) -> Result<(usize, usize)> {
        let (rows, columns) = self.shape(x);
        if rows != width * height {
            return Err(Self::mismatch(
                operation,
                format!("the input has {rows} rows, not {width} x {height} pixels"),
            ));
        }
        Ok((rows, columns))
    }

    /// Bilinear x2 upsampling of a width x height pixel grid (rows in
    /// row-major pixel order, columns = channels; half-pixel centres).
    pub fn upsample2x(
        &mut self,
        x: TensorId,
        width: usize,
        height: usize,
        label: &str,
    ) -> Result<TensorId> {
        let (_, columns) = self.check_grid(x, width, height, "upsample2x")?;
        Ok(self.push(
            Op::Upsample2x { x, width, height },
            4 * width * height,
            columns,
            label,
        ))
    }

    /// Mean over factor x factor blocks of a width x height pixel grid.
    pub fn area_downsample(
        &mut self,
        x: TensorId,
        width: usize,
        height: usize,
        factor: usize,
        label: &str,
    ) -> Result<TensorId> {
        let (_, columns) = self.check_grid(x, width, height, "area_downsample")?;
        if factor == 0 || width % factor != 0 || height % factor != 0 {
            return Err(Error::InvalidArgument {
                name: "downsampling factor",
                value: factor.to_string(),
                expected: format!("a factor >= 1 that divides the grid size {width} x {height}"),
            });
        }
        let rows = (width / factor) * (height / factor);
        Ok(self.push(
            Op::AreaDownsample {
                x,
                width,
                height,
                factor,
            },
            rows,
            columns,
            label,
        ))
    }

    /// Applies a fixed linear operator to the whole tensor; the result is a
    /// column of `operator.output_len()` rows.
    pub fn linear_operator(
        &mut self,
        x: TensorId,
        operator: Arc<dyn LinearOperator>,
        label: &str,
    ) -> Result<TensorId> {
        let (rows, columns) = self.shape(x);
        if rows * columns != operator.input_len() {
            return Err(Self::mismatch(
                "linear_operator",
                format!(
                    "{label:?}: the tensor has {} entries but the operator takes {}",
                    rows * columns,
                    operator.input_len()
                ),
            ));
        }
        let output_rows = operator.output_len();
        Ok(self.push(Op::Operator { x, operator }, output_rows, 1, label))
    }

    /// Sets the loss that [`Graph::record_backward`] differentiates.
    pub fn set_loss(&mut self, loss: Loss) -> Result<()> {
        let (prediction, target) = match loss {
            Loss::MeanSquaredError { prediction, target } => (prediction, target),
            Loss::SoftmaxCrossEntropy { logits, target } => (logits, target),
        };
        if self.shape(prediction) != self.shape(target) {
            return Err(Self::mismatch(
                "loss",
                format!(
                    "prediction {:?} and target {:?} differ in shape",
                    self.shape(prediction),
                    self.shape(target)
                ),
            ));
        }
        if !matches!(self.nodes[target.0].op, Op::Input { .. }) {
            return Err(Self::mismatch(
                "loss",
                "the target must be an input tensor".to_string(),
            ));
        }
        self.loss = Some(loss);
        Ok(())
    }

    /// Allocates the graph's buffers.
    pub fn build(self, gpu: &Gpu) -> Result<Graph> {
        let store = self.store;
        let mut needs_gradient = vec![false; self.nodes.len()];
        for (index, node) in self.nodes.iter().enumerate() {
            let trainable = |id: &ParamId| store.is_trainable(*id);
            needs_gradient[index] = match &node.op {
                Op::Input { differentiate } => *differentiate,
                Op::Dense { x, weight, bias } => {
                    needs_gradient[x.0] || trainable(weight) || bias.as_ref().is_some_and(trainable)
                }
                Op::Activation { x, .. }
                | Op::Scale { x, .. }
                | Op::SinCos { x }
                | Op::Upsample2x { x, .. }
                | Op::AreaDownsample { x, .. }
                | Op::Operator { x, .. } => needs_gradient[x.0],
                Op::Add { a, b } => needs_gradient[a.0] || needs_gradient[b.0],
                Op::BroadcastRow { row } => trainable(row),
                Op::Parameter { parameter } => trainable(parameter),
                Op::Norm { x, norm, .. } => {
                    needs_gradient[x.0] || trainable(&norm.gamma) || trainable(&norm.beta)
                }
            };
        }

        let mut nodes = Vec::with_capacity(self.nodes.len());
        for (spec, gradient) in self.nodes.into_iter().zip(needs_gradient) {
            let value = Matrix::zeros(gpu, spec.rows, spec.columns, &spec.label)
                .map_err(|error| too_large(error, &spec.label))?;
            let gradient = if gradient {
                Some(
                    Matrix::zeros(
                        gpu,
                        spec.rows,
                        spec.columns,
                        &format!("{} gradient", spec.label),
                    )
                    .map_err(|error| too_large(error, &spec.label))?,
                )
            } else {
                None
            };
            let scratch = match spec.op {
                Op::Norm { .. } => {
                    Some(gpu.create_buffer::<f32>(2 * spec.columns, "norm statistics")?)
                }
                _ => None,
            };
            nodes.push(Node {
                spec,
                value,
                gradient,
                scratch,
            });
        }

        let loss = match self.loss {
            Some(loss) => {
                let (prediction, entries) = match loss {
                    Loss::MeanSquaredError { prediction, .. } => {
                        (prediction, nodes[prediction.0].value.len())
                    }
                    Loss::SoftmaxCrossEntropy { logits, .. } => (logits, nodes[logits.0].spec.rows),
                };
                let gradient =
                    gpu.create_buffer::<f32>(nodes[prediction.0].value.len(), "loss gradient")?;
                let terms = gpu.create_buffer::<f32>(entries, "loss terms")?;
                Some(LossBuffers {
                    loss,
                    gradient,
                    terms,
                })
            }
            None => None,
        };
        Ok(Graph { nodes, loss })
    }
}

/// Adds advice to an allocation that exceeded the adapter's limits.
fn too_large(error: Error, label: &str) -> Error {
    match error {
        Error::ExceedsLimit { what, requested, limit, limit_name } => Error::ExceedsLimit {
            what: format!("{what} (tensor {label:?}; use a smaller batch, render in tiles or pick an adapter with larger buffers)"),
            requested,
            limit,
            limit_name,
        },
        other => other,
    }
}

struct Node {
    spec: NodeSpec,
    value: Matrix,
    gradient: Option<Matrix>,
    /// Batch statistics of a normalisation (2 x C), or the backward sums.
    scratch: Option<GpuBuffer<f32>>,
}

struct LossBuffers {
    loss: Loss,
    gradient: GpuBuffer<f32>,
    terms: GpuBuffer<f32>,
}

/// A built graph; see [`GraphBuilder`].
pub struct Graph {
    nodes: Vec<Node>,
    loss: Option<LossBuffers>,
}

impl Graph {
    /// Rows and columns of a tensor.
    pub fn shape(&self, tensor: TensorId) -> (usize, usize) {
        (
            self.nodes[tensor.0].spec.rows,
            self.nodes[tensor.0].spec.columns,
        )
    }

    /// Returns the tensor's value (valid after a forward pass).
    pub fn value(&self, tensor: TensorId) -> &Matrix {
        &self.nodes[tensor.0].value
    }

    /// Returns the tensor's gradient, if the graph computes one.
    pub fn gradient(&self, tensor: TensorId) -> Option<&Matrix> {
        self.nodes[tensor.0].gradient.as_ref()
    }

    /// Uploads an input's values (row-major, the input's full shape).
    pub fn set_input(&self, gpu: &Gpu, tensor: TensorId, values: &[f32]) -> Result<()> {
        let node = &self.nodes[tensor.0];
        if !matches!(node.spec.op, Op::Input { .. }) {
            return Err(Error::InvalidArgument {
                name: "tensor",
                value: node.spec.label.clone(),
                expected: "an input tensor".to_string(),
            });
        }
        if values.len() != node.value.len() {
            return Err(Error::ShapeMismatch {
                operation: "Graph::set_input",
                message: format!(
                    "input {:?} is {} x {} ({} values) but {} values were given",
                    node.spec.label,
                    node.spec.rows,
                    node.spec.columns,
                    node.value.len(),
                    values.len()
                ),
            });
        }
        if let Some(position) = values.iter().position(|value| !value.is_finite()) {
            return Err(Error::InvalidArgument {
                name: "input value",
                value: format!(
                    "{} at index {position} of {:?}",
                    values[position], node.spec.label
                ),
                expected: "finite values".to_string(),
            });
        }
        gpu.write(node.value.buffer(), 0, values)
    }

    /// Reads a tensor's value back.
    pub fn read(&self, gpu: &Gpu, tensor: TensorId) -> Result<Vec<f32>> {
        self.nodes[tensor.0].value.read(gpu)
    }

    /// Records the forward pass (and the loss terms, if the graph has a loss).
    pub fn record_forward(&self, recorder: &mut Recorder, store: &ParameterStore) -> Result<()> {
        for node in &self.nodes {
            self.forward_node(recorder, store, node)?;
        }
        Ok(())
    }

    fn forward_node(
        &self,
        recorder: &mut Recorder,
        store: &ParameterStore,
        node: &Node,
    ) -> Result<()> {
        let (rows, columns) = (node.spec.rows, node.spec.columns);
        let count = rows * columns;
        let shape = NnParams::matrix(rows, columns);
        let out = node.value.buffer();
        let value = |id: TensorId| self.nodes[id.0].value.buffer();
        match &node.spec.op {
            Op::Input { .. } => Ok(()),
            Op::Dense { x, weight, bias } => {
                let spec = GemmSpec {
                    transpose_b: true,
                    ..GemmSpec::default()
                };
                ops::gemm(
                    recorder,
                    &self.nodes[x.0].value,
                    store.value(*weight),
                    &node.value,
                    spec,
                )?;
                match bias {
                    Some(bias) => dispatch(
                        recorder,
                        "add_row_bias",
                        None,
                        shape,
                        Bind {
                            a: Some(store.value(*bias).buffer()),
                            output: Some(out),
                            ..Bind::default()
                        },
                        Launch::Elements(count),
                    ),
                    None => Ok(()),
                }
            }
            Op::Activation { x, activation } => map_into(
                recorder,
                "activation_forward",
                Some(*activation),
                shape.with_p(activation.parameter()),
                value(*x),
                out,
                count,
            ),
            Op::Scale { x, factor } => map_into(
                recorder,
                "scale",
                None,
                shape.with_p(*factor),
                value(*x),
                out,
                count,
            ),
            Op::Add { a, b } => dispatch(
                recorder,
                "add",
                None,
                shape,
                Bind {
                    a: Some(value(*a)),
                    b: Some(value(*b)),
                    output: Some(out),
                    ..Bind::default()
                },
                Launch::Elements(count),
            ),
            Op::SinCos { x } => map_into(
                recorder,
                "sincos_forward",
                None,
                NnParams::matrix(rows, columns / 2),
                value(*x),
                out,
                count / 2,
            ),
            Op::BroadcastRow { row } => map_into(
                recorder,
                "broadcast_row",
                None,
                shape,
                store.value(*row).buffer(),
                out,
                count,
            ),
            Op::Parameter { parameter } => {
                recorder.copy(store.value(*parameter).buffer(), 0, out, 0, count)
            }
            Op::Norm {
                x,
                norm,
                statistics,
            } => self.forward_norm(recorder, store, node, *x, norm, *statistics),
            Op::Upsample2x { x, width, height } => map_into(
                recorder,
                "upsample2x_forward",
                None,
                shape.with_grid(*width, *height),
                value(*x),
                out,
                count,
            ),
            Op::AreaDownsample {
                x,
                width,
                height,
                factor,
            } => map_into(
                recorder,
                "area_downsample_forward",
                None,
                shape.with_grid(*width, *height).with_factor(*factor),
                value(*x),
                out,
                count,
            ),
            Op::Operator { x, operator } => operator.forward(recorder, value(*x), out),
        }
    }

    fn forward_norm(
        &self,
        recorder: &mut Recorder,
        store: &ParameterStore,
        node: &Node,
        x: TensorId,
        norm: &ChannelNorm,
        statistics: NormStatistics,
    ) -> Result<()> {
        let (rows, columns) = (node.spec.rows, node.spec.columns);
        let input = self.nodes[x.0].value.buffer();
        let stored = store.value(norm.statistics).buffer();
        let used = match statistics {
            NormStatistics::Batch => {
                let batch = node
                    .scratch
                    .as_ref()
                    .expect("normalisation nodes own a statistics buffer");
                dispatch(
                    recorder,
                    "norm_statistics",
                    None,
                    NnParams::matrix(rows, columns).with_p(norm.epsilon),
                    Bind {
                        a: Some(input),
                        output: Some(batch),
                        ..Bind::default()
                    },
                    Launch::Columns(columns),
                )?;
                recorder.copy(batch, 0, stored, 0, 2 * columns)?;
                batch
            }
            NormStatistics::Frozen => stored,
        };
        dispatch(
            recorder,
            "norm_forward",
            None,
            NnParams::matrix(rows, columns),
            Bind {
                a: Some(input),
                b: Some(used),
                c: Some(store.value(norm.gamma).buffer()),
                d: Some(store.value(norm.beta).buffer()),
                output: Some(node.value.buffer()),
                ..Bind::default()
            },
            Launch::Elements(rows * columns),
        )
    }

    /// Records the loss gradient and terms after a forward pass; the mean
    /// loss is `loss_sum / loss_count` of the terms.
    fn record_loss(&self, recorder: &mut Recorder) -> Result<&LossBuffers> {
        let buffers = self.loss.as_ref().ok_or_else(|| Error::InvalidArgument {
            name: "loss",
            value: "none".to_string(),
            expected: "a graph built after GraphBuilder::set_loss".to_string(),
        })?;
        let (entry, prediction, target) = match buffers.loss {
            Loss::MeanSquaredError { prediction, target } => ("squared_error", prediction, target),
            Loss::SoftmaxCrossEntropy { logits, target } => {
                ("softmax_cross_entropy", logits, target)
            }
        };
        let (rows, columns) = self.shape(prediction);
        let launch = match buffers.loss {
            Loss::MeanSquaredError { .. } => Launch::Elements(rows * columns),
            Loss::SoftmaxCrossEntropy { .. } => Launch::Elements(rows),
        };
        dispatch(
            recorder,
            entry,
            None,
            NnParams::matrix(rows, columns).with_p(2.0 / (rows * columns) as f32),
            Bind {
                a: Some(self.nodes[prediction.0].value.buffer()),
                b: Some(self.nodes[target.0].value.buffer()),
                output: Some(&buffers.gradient),
                output2: Some(&buffers.terms),
                ..Bind::default()
            },
            launch,
        )?;
        Ok(buffers)
    }

    /// Number of terms the loss averages.
    pub fn loss_count(&self) -> usize {
        self.loss.as_ref().map_or(0, |buffers| buffers.terms.len())
    }

    /// Records the loss, clears all gradients and back-propagates. Returns a
    /// one-element buffer holding the sum of the loss terms (divide by
    /// [`Graph::loss_count`] for the mean).
    pub fn record_backward(
        &self,
        recorder: &mut Recorder,
        store: &ParameterStore,
    ) -> Result<GpuBuffer<f32>> {
        let buffers = self.record_loss(recorder)?;
        let loss_sum = ops::reduce_all(recorder, &buffers.terms, Reduction::Sum)?;
        let prediction = match buffers.loss {
            Loss::MeanSquaredError { prediction, .. } => prediction,
            Loss::SoftmaxCrossEntropy { logits, .. } => logits,
        };
        self.record_backward_from(recorder, store, prediction, &buffers.gradient)?;
        Ok(loss_sum)
    }

    /// Clears all gradients and back-propagates `seed` (the gradient at
    /// tensor `output`).
    pub fn record_backward_from(
        &self,
        recorder: &mut Recorder,
        store: &ParameterStore,
        output: TensorId,
        seed: &GpuBuffer<f32>,
    ) -> Result<()> {
        store.clear_gradients(recorder);
        for node in &self.nodes {
            if let Some(gradient) = &node.gradient {
                recorder.clear(gradient.buffer());
            }
        }
        let target =
            self.nodes[output.0]
                .gradient
                .as_ref()
                .ok_or_else(|| Error::InvalidArgument {
                    name: "backward output",
                    value: self.nodes[output.0].spec.label.clone(),
                    expected:
                        "a tensor that depends on a trainable parameter or a differentiable input"
                            .to_string(),
                })?;
        if seed.len() != target.len() {
            return Err(Error::ShapeMismatch {
                operation: "record_backward_from",
                message: format!(
                    "the seed has {} values, the output {}",
                    seed.len(),
                    target.len()
                ),
            });
        }
        axpy(recorder, seed, target.buffer(), 1.0, 0)?;
        for node in self.nodes.iter().rev() {
            if let Some(gradient) = &node.gradient {
                self.backward_node(recorder, store, node, gradient)?;
            }
        }
        Ok(())
    }

    fn input_gradient(&self, tensor: TensorId) -> Option<&GpuBuffer<f32>> {
        self.nodes[tensor.0].gradient.as_ref().map(Matrix::buffer)
    }

    fn backward_node(
        &self,
        recorder: &mut Recorder,
        store: &ParameterStore,
        node: &Node,
        gradient: &Matrix,
    ) -> Result<()> {
        let (rows, columns) = (node.spec.rows, node.spec.columns);
        let count = rows * columns;
        let shape = NnParams::matrix(rows, columns);
        let g = gradient.buffer();
        match &node.spec.op {
            Op::Input { .. } => Ok(()),
            // y = x W^T + b:  dx += dy W,  dW += dy^T x,  db += column sums of dy.
            Op::Dense { x, weight, bias } => {
                let accumulate = GemmSpec {
                    beta: 1.0,
                    ..GemmSpec::default()
                };
                if let Some(input_gradient) = &self.nodes[x.0].gradient {
                    ops::gemm(
                        recorder,
                        gradient,
                        store.value(*weight),
                        input_gradient,
                        accumulate,
                    )?;
                }
                if store.is_trainable(*weight) {
                    let spec = GemmSpec {
                        transpose_a: true,
                        ..accumulate
                    };
                    ops::gemm(
                        recorder,
                        gradient,
                        &self.nodes[x.0].value,
                        store.gradient(*weight),
                        spec,
                    )?;
                }
                match bias {
                    Some(bias) if store.is_trainable(*bias) => column_sums(
                        recorder,
                        g,
                        None,
                        store.gradient(*bias).buffer(),
                        rows,
                        columns,
                    ),
                    _ => Ok(()),
                }
            }
            // y = f(x):  dx += dy f'(x).
            Op::Activation { x, activation } => match self.input_gradient(*x) {
                Some(input_gradient) => dispatch(
                    recorder,
                    "activation_backward",
                    Some(*activation),
                    shape.with_p(activation.parameter()),
                    Bind {
                        a: Some(self.nodes[x.0].value.buffer()),
                        b: Some(node.value.buffer()),
                        c: Some(g),
                        output: Some(input_gradient),
                        ..Bind::default()
                    },
                    Launch::Elements(count),
                ),
                None => Ok(()),
            },
            Op::Scale { x, factor } => match self.input_gradient(*x) {
                Some(input_gradient) => axpy(recorder, g, input_gradient, *factor, 0),
                None => Ok(()),
            },
            Op::Add { a, b } => {
                for input in [a, b] {
                    if let Some(input_gradient) = self.input_gradient(*input) {
                        axpy(recorder, g, input_gradient, 1.0, 0)?;
                    }
                }
                Ok(())
            }
            // [cos x, sin x]:  dx += -sin(x) dy_cos + cos(x) dy_sin.
            Op::SinCos { x } => match self.input_gradient(*x) {
                Some(input_gradient) => dispatch(
                    recorder,
                    "sincos_backward",
                    None,
                    NnParams::matrix(rows, columns / 2),
                    Bind {
                        a: Some(self.nodes[x.0].value.buffer()),
                        c: Some(g),
                        output: Some(input_gradient),
                        ..Bind::default()
                    },
                    Launch::Elements(count / 2),
                ),
                None => Ok(()),
            },
            Op::BroadcastRow { row } => column_sums(
                recorder,
                g,
                None,
                store.gradient(*row).buffer(),
                rows,
                columns,
            ),
            Op::Parameter { parameter } => {
                axpy(recorder, g, store.gradient(*parameter).buffer(), 1.0, 0)
            }
            Op::Norm {
                x,
                norm,
                statistics,
            } => self.backward_norm(recorder, store, node, g, *x, norm, *statistics),
            Op::Upsample2x { x, width, height } => match self.input_gradient(*x) {
                Some(input_gradient) => dispatch(
                    recorder,
                    "upsample2x_backward",
                    None,
                    NnParams::matrix(width * height, columns).with_grid(*width, *height),
                    Bind {
                        c: Some(g),
                        output: Some(input_gradient),
                        ..Bind::default()
                    },
                    Launch::Elements(width * height * columns),
                ),
                None => Ok(()),
            },
            Op::AreaDownsample {
                x,
                width,
                height,
                factor,
            } => match self.input_gradient(*x) {
                Some(input_gradient) => dispatch(
                    recorder,
                    "area_downsample_backward",
                    None,
                    NnParams::matrix(width * height, columns)
                        .with_grid(*width, *height)
                        .with_factor(*factor),
                    Bind {
                        c: Some(g),
                        output: Some(input_gradient),
                        ..Bind::default()
                    },
                    Launch::Elements(width * height * columns),
                ),
                None => Ok(()),
            },
            // y = A x:  dx += A^T dy.
            Op::Operator { x, operator } => match self.input_gradient(*x) {
                Some(input_gradient) => {
                    let scratch = recorder
                        .gpu()
                        .create_buffer::<f32>(operator.input_len(), "operator adjoint")?;
                    operator.adjoint(recorder, g, &scratch)?;
                    axpy(recorder, &scratch, input_gradient, 1.0, 0)
                }
                None => Ok(()),
            },
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn backward_norm(
        &self,
        recorder: &mut Recorder,
        store: &ParameterStore,
        node: &Node,
        g: &GpuBuffer<f32>,
        x: TensorId,
        norm: &ChannelNorm,
        statistics: NormStatistics,
    ) -> Result<()> {
        let (rows, columns) = (node.spec.rows, node.spec.columns);
        let input = self.nodes[x.0].value.buffer();
        let used = match statistics {
            NormStatistics::Batch => node
                .scratch
                .as_ref()
                .expect("normalisation nodes own a statistics buffer"),
            NormStatistics::Frozen => store.value(norm.statistics).buffer(),
        };
        let sums = recorder
            .gpu()
            .create_buffer::<f32>(2 * columns, "norm backward sums")?;
        dispatch(
            recorder,
            "norm_backward_sums",
            None,
            NnParams::matrix(rows, columns),
            Bind {
                a: Some(input),
                b: Some(used),
                c: Some(g),
                output: Some(&sums),
                ..Bind::default()
            },
            Launch::Columns(columns),
        )?;
        // d beta += sum(dy), d gamma += sum(dy x_hat).
        if store.is_trainable(norm.beta) {
            axpy_range(
                recorder,
                &sums,
                0,
                store.gradient(norm.beta).buffer(),
                columns,
            )?;
        }
        if store.is_trainable(norm.gamma) {
            axpy_range(
                recorder,
                &sums,
                columns,
                store.gradient(norm.gamma).buffer(),
                columns,
            )?;
        }
        // The sums are of dy, not of gamma * dy. Because gamma is constant per
        // column, the kernel applies the factor gamma[j] once at the end.
        match self.input_gradient(x) {
            Some(input_gradient) => dispatch(
                recorder,
                "norm_backward_input",
                None,
                NnParams::matrix(rows, columns)
                    .with_factor(usize::from(statistics == NormStatistics::Batch)),
                Bind {
                    a: Some(input),
                    b: Some(used),
                    c: Some(g),
                    d: Some(store.value(norm.gamma).buffer()),
                    output: Some(input_gradient),
                    output2: Some(&sums),
                },
                Launch::Elements(rows * columns),
            ),
            None => Ok(()),
        }
    }
}

/// Records a kernel that reads one input (binding a) and writes `output`,
/// with one invocation per element of `count`.
fn map_into(
    recorder: &mut Recorder,
    entry: &str,
    activation: Option<Activation>,
    params: NnParams,
    input: &GpuBuffer<f32>,
    output: &GpuBuffer<f32>,
    count: usize,
) -> Result<()> {
    let bind = Bind {
        a: Some(input),
        output: Some(output),
        ..Bind::default()
    };
    dispatch(
        recorder,
        entry,
        activation,
        params,
        bind,
        Launch::Elements(count),
    )
}

/// Records output[offset..offset + len(x)] += factor x.
fn axpy(
    recorder: &mut Recorder,
    x: &GpuBuffer<f32>,
    output: &GpuBuffer<f32>,
    factor: f32,
    offset: usize,
) -> Result<()> {
    dispatch(
        recorder,
        "axpy",
        None,
        NnParams::matrix(x.len(), 1)
            .with_p(factor)
            .with_offset(offset),
        Bind {
            a: Some(x),
            output: Some(output),
            ..Bind::default()
        },
        Launch::Elements(x.len()),
    )
}

/// Records output[..len] += x[start..start + len].
fn axpy_range(
    recorder: &mut Recorder,
    x: &GpuBuffer<f32>,
    start: usize,
    output: &GpuBuffer<f32>,
    len: usize,
) -> Result<()> {
    let part = recorder.gpu().create_buffer::<f32>(len, "axpy range")?;
    recorder.copy(x, start, &part, 0, len)?;
    axpy(recorder, &part, output, 1.0, 0)
}

/// Records output[j] += sum_i x[i, j] (times y[i, j] when given).
fn column_sums(
    recorder: &mut Recorder,
    x: &GpuBuffer<f32>,
    y: Option<&GpuBuffer<f32>>,
    output: &GpuBuffer<f32>,
    rows: usize,
    columns: usize,
) -> Result<()> {
    dispatch(
        recorder,
        "column_sums",
        None,
        NnParams::matrix(rows, columns)
            .with_p(1.0)
            .with_factor(usize::from(y.is_some())),
        Bind {
            a: Some(x),
            b: y.or(Some(x)),
            output: Some(output),
            ..Bind::default()
        },
        Launch::Columns(columns),
    )
}
