//! A fully connected network in the NTK parameterization, trained by
//! full-batch gradient descent on the GPU, and its empirical per-layer NTK.
//!
//! Forward pass for a batch X (N x d), with A_0 = X and n_0 = d:
//!
//! ```text
//! Z_{h+1} = (w / sqrt(n_h)) A_h W_{h+1}^T + b 1 b_{h+1}^T,   A_{h+1} = phi(Z_{h+1})
//! f = Z_{L+1}  (one output)
//! ```
//!
//! with W and b entries initialised iid N(0, 1). For weight layer h
//! (h = 0..L, the layer mapping A_h to Z_{h+1}) the gradient of f(x) is
//! (w / sqrt(n_h)) delta_{h+1}(x) a_h(x)^T, plus b delta_{h+1}(x) for its
//! bias, where delta = df/dz. The empirical per-layer NTK is therefore
//!
//! ```text
//! Theta_h(x, x') = (w^2 / n_h) <delta_{h+1}(x), delta_{h+1}(x')> <a_h(x), a_h(x')>
//!                + b^2 <delta_{h+1}(x), delta_{h+1}(x')>,
//! ```
//!
//! two Gram products and an elementwise product per layer. As the width grows
//! it approaches the infinite-width Theta_h of [`crate::kernels::ntk`].

use crate::error::{Error, Result};
use crate::gpu::{Gpu, GpuBuffer, Recorder};
use crate::kernels::ntk::Activation;
use crate::ops::{self, BinaryOp, Broadcast, GemmSpec, Matrix, Reduction, UnaryOp};
use crate::random::PhiloxStream;

/// Shape and scaling of an [`Mlp`].
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct MlpConfig {
    /// Input dimension d.
    pub input_dimension: usize,
    /// Width n of every hidden layer.
    pub width: usize,
    /// Number of hidden layers L.
    pub depth: usize,
    /// Hidden nonlinearity.
    pub activation: Activation,
    /// Weight scale sigma_w.
    pub w_std: f64,
    /// Bias scale sigma_b (0 for no bias contribution).
    pub b_std: f64,
}

impl MlpConfig {
    fn validate(&self) -> Result<()> {
        let checks: [(&'static str, bool, String); 4] = [
            (
                "input_dimension",
                self.input_dimension >= 1,
                self.input_dimension.to_string(),
            ),
            ("width", self.width >= 1, self.width.to_string()),
            ("depth", self.depth >= 1, self.depth.to_string()),
            (
                "w_std",
                self.w_std.is_finite()
                    && self.w_std >= 0.0
                    && self.b_std.is_finite()
                    && self.b_std >= 0.0,
                format!("{} (b_std {})", self.w_std, self.b_std),
            ),
        ];
        for (name, ok, value) in checks {
            if !ok {
                return Err(Error::InvalidArgument {
                    name,
                    value,
                    expected: "a dimension, width and depth >= 1 and finite w_std, b_std >= 0"
                        .to_string(),
                });
            }
        }
        Ok(())
    }

    /// Fan-in n_h of weight layer h.
    fn fan_in(&self, layer: usize) -> usize {
        if layer == 0 {
            self.input_dimension
        } else {
            self.width
        }
    }

    /// Output width of weight layer h.
    fn fan_out(&self, layer: usize) -> usize {
        if layer == self.depth {
            1
        } else {
            self.width
        }
    }
}

/// A network's parameters on the GPU: W_{h+1} (fan_out x fan_in) and b_{h+1}.
pub struct Mlp {
    config: MlpConfig,
    weights: Vec<Matrix>,
    biases: Vec<GpuBuffer<f32>>,
}

/// Activations of a batch: A_0..A_L and the pre-activations Z_1..Z_{L+1}.
struct ForwardPass {
    activations: Vec<Matrix>,
    pre_activations: Vec<Matrix>,
}

impl Mlp {
    /// Creates a network with N(0, 1) weights and biases from Philox stream
    /// `seed` (stream 2h for W_{h+1}, 2h + 1 for b_{h+1}).
    pub fn new(gpu: &Gpu, config: MlpConfig, seed: u64) -> Result<Self> {
        config.validate()?;
        let mut weights = Vec::new();
        let mut biases = Vec::new();
        for layer in 0..=config.depth {
            let (rows, columns) = (config.fan_out(layer), config.fan_in(layer));
            let weight = Matrix::zeros(gpu, rows, columns, "mlp weight")?;
            let bias = gpu.create_buffer::<f32>(rows, "mlp bias")?;
            let mut recorder = gpu.recorder("mlp initialisation");
            ops::fill_normal(
                &mut recorder,
                weight.buffer(),
                PhiloxStream::new(seed, 2 * layer as u64),
                0,
            )?;
            ops::fill_normal(
                &mut recorder,
                &bias,
                PhiloxStream::new(seed, 2 * layer as u64 + 1),
                0,
            )?;
            recorder.submit()?;
            weights.push(weight);
            biases.push(bias);
        }
        Ok(Self {
            config,
            weights,
            biases,
        })
    }

    /// Creates a network from host parameters: `weights[h]` is W_{h+1}
    /// row-major (fan_out x fan_in) and `biases[h]` is b_{h+1}.
    pub fn from_parameters(
        gpu: &Gpu,
        config: MlpConfig,
        weights: &[Vec<f32>],
        biases: &[Vec<f32>],
    ) -> Result<Self> {
        config.validate()?;
        if weights.len() != config.depth + 1 || biases.len() != config.depth + 1 {
            return Err(Error::ShapeMismatch {
                operation: "mlp parameters",
                message: format!(
                    "{} weight and {} bias arrays for {} layers",
                    weights.len(),
                    biases.len(),
                    config.depth + 1
                ),
            });
        }
        let mut weight_matrices = Vec::new();
        let mut bias_buffers = Vec::new();
        for layer in 0..=config.depth {
            let (rows, columns) = (config.fan_out(layer), config.fan_in(layer));
            weight_matrices.push(Matrix::upload(
                gpu,
                &weights[layer],
                rows,
                columns,
                "mlp weight",
            )?);
            if biases[layer].len() != rows {
                return Err(Error::ShapeMismatch {
                    operation: "mlp parameters",
                    message: format!(
                        "bias {layer} has {} values, not {rows}",
                        biases[layer].len()
                    ),
                });
            }
            bias_buffers.push(gpu.upload(&biases[layer], "mlp bias")?);
        }
        Ok(Self {
            config,
            weights: weight_matrices,
            biases: bias_buffers,
        })
    }

    /// Returns the network's configuration.
    pub fn config(&self) -> &MlpConfig {
        &self.config
    }

    /// Copies the parameters to the host: (weights, biases) per layer.
    pub fn parameters(&self, gpu: &Gpu) -> Result<(Vec<Vec<f32>>, Vec<Vec<f32>>)> {
        let weights = self
            .weights
            .iter()
            .map(|w| w.read(gpu))
            .collect::<Result<Vec<_>>>()?;
        let biases = self
            .biases
            .iter()
            .map(|b| gpu.read(b))
            .collect::<Result<Vec<_>>>()?;
        Ok((weights, biases))
    }

    fn layer_scale(&self, layer: usize) -> f32 {
        (self.config.w_std / (self.config.fan_in(layer) as f64).sqrt()) as f32
    }

    fn forward_pass(&self, recorder: &mut Recorder, inputs: &Matrix) -> Result<ForwardPass> {
        let gpu = recorder.gpu();
        let batch = inputs.rows();
        let mut activations = vec![inputs.clone()];
        let mut pre_activations = Vec::new();
        for layer in 0..=self.config.depth {
            let pre = Matrix::zeros(gpu, batch, self.config.fan_out(layer), "mlp pre-activation")?;
            // Z = b 1 b^T first, then Z += (w / sqrt(n)) A W^T.
            let bias_scale = self.config.b_std as f32;
            let scaled_bias = ops::map_unary(
                recorder,
                &self.biases[layer],
                UnaryOp::Affine {
                    scale: bias_scale,
                    shift: 0.0,
                },
            )?;
            let spread = ops::map_binary(
                recorder,
                pre.buffer(),
                &scaled_bias,
                BinaryOp::Add,
                Broadcast::Row {
                    columns: pre.columns(),
                },
            )?;
            let pre = Matrix::from_buffer(spread, batch, pre.columns())?;
            let spec = GemmSpec {
                transpose_b: true,
                alpha: self.layer_scale(layer),
                beta: 1.0,
                ..GemmSpec::default()
            };
            ops::gemm(
                recorder,
                activations.last().expect("inputs are the first activation"),
                &self.weights[layer],
                &pre,
                spec,
            )?;
            if layer < self.config.depth {
                let activated = match self.config.activation {
                    Activation::Relu => ops::map_unary(recorder, pre.buffer(), UnaryOp::Relu)?,
                    Activation::Erf => ops::map_unary(recorder, pre.buffer(), UnaryOp::Erf)?,
                };
                activations.push(Matrix::from_buffer(activated, batch, pre.columns())?);
            }
            pre_activations.push(pre);
        }
        Ok(ForwardPass {
            activations,
            pre_activations,
        })
    }

    /// phi'(Z) elementwise.
    fn activation_derivative(
        &self,
        recorder: &mut Recorder,
        pre: &Matrix,
    ) -> Result<GpuBuffer<f32>> {
        match self.config.activation {
            Activation::Relu => ops::map_unary(recorder, pre.buffer(), UnaryOp::ReluDerivative),
            Activation::Erf => {
                // erf'(z) = 2 / sqrt(pi) exp(-z^2)
                let square = ops::map_unary(recorder, pre.buffer(), UnaryOp::Square)?;
                let exponential = ops::map_unary(
                    recorder,
                    &square,
                    UnaryOp::Affine {
                        scale: -1.0,
                        shift: 0.0,
                    },
                )?;
                let exponential = ops::map_unary(recorder, &exponential, UnaryOp::Exp)?;
                ops::map_unary(
                    recorder,
                    &exponential,
                    UnaryOp::Affine {
                        scale: std::f32::consts::FRAC_2_SQRT_PI,
                        shift: 0.0,
                    },
                )
            }
        }
    }

    /// Backpropagates `output_gradient` (N x 1, df/dz_{L+1} per sample) and
    /// returns delta_{h+1} = d(output)/dZ_{h+1} for h = 0..L (each N x fan_out).
    fn backward_deltas(
        &self,
        recorder: &mut Recorder,
        pass: &ForwardPass,
        output_gradient: &Matrix,
    ) -> Result<Vec<Matrix>> {
        let gpu = recorder.gpu();
        let batch = output_gradient.rows();
        let mut deltas = vec![output_gradient.clone()];
        for layer in (1..=self.config.depth).rev() {
            let upstream = deltas.last().expect("at least the output gradient");
            // G_h = phi'(Z_h) * ((w / sqrt(n_h)) G_{h+1} W_{h+1})
            let propagated = Matrix::zeros(
                gpu,
                batch,
                self.config.fan_in(layer),
                "mlp propagated gradient",
            )?;
            let spec = GemmSpec {
                alpha: self.layer_scale(layer),
                ..GemmSpec::default()
            };
            ops::gemm(recorder, upstream, &self.weights[layer], &propagated, spec)?;
            let derivative =
                self.activation_derivative(recorder, &pass.pre_activations[layer - 1])?;
            let delta = ops::map_binary(
                recorder,
                propagated.buffer(),
                &derivative,
                BinaryOp::Multiply,
                Broadcast::None,
            )?;
            deltas.push(Matrix::from_buffer(delta, batch, propagated.columns())?);
        }
        deltas.reverse();
        Ok(deltas)
    }

    /// Network outputs f(x) for each row of `inputs` (N x d).
    pub fn predict(&self, gpu: &Gpu, inputs: &Matrix) -> Result<Vec<f32>> {
        self.check_inputs(inputs)?;
        let mut recorder = gpu.recorder("mlp forward");
        let pass = self.forward_pass(&mut recorder, inputs)?;
        recorder.submit()?;
        pass.pre_activations.last().expect("output layer").read(gpu)
    }

    fn check_inputs(&self, inputs: &Matrix) -> Result<()> {
        if inputs.columns() != self.config.input_dimension {
            return Err(Error::ShapeMismatch {
                operation: "mlp",
                message: format!(
                    "inputs have {} features but the network expects {}",
                    inputs.columns(),
                    self.config.input_dimension
                ),
            });
        }
        Ok(())
    }

    /// One full-batch gradient-descent step on the loss 1/(2N) sum (f - y)^2;
    /// returns the loss before the step.
    pub fn train_step(
        &mut self,
        gpu: &Gpu,
        inputs: &Matrix,
        targets: &Matrix,
        learning_rate: f32,
    ) -> Result<f64> {
        self.check_inputs(inputs)?;
        let batch = inputs.rows();
        let mut recorder = gpu.recorder("mlp training step");
        let pass = self.forward_pass(&mut recorder, inputs)?;
        let outputs = pass.pre_activations.last().expect("output layer");
        let residual = ops::map_binary(
            &mut recorder,
            outputs.buffer(),
            targets.buffer(),
            BinaryOp::Subtract,
            Broadcast::None,
        )?;
        let loss = ops::reduce_all(&mut recorder, &residual, Reduction::SumOfSquares)?;
        let scaled = ops::map_unary(
            &mut recorder,
            &residual,
            UnaryOp::Affine {
                scale: 1.0 / batch as f32,
                shift: 0.0,
            },
        )?;
        let output_gradient = Matrix::from_buffer(scaled, batch, 1)?;
        let deltas = self.backward_deltas(&mut recorder, &pass, &output_gradient)?;

        for layer in 0..=self.config.depth {
            // dL/dW = (w / sqrt(n)) G^T A;  dL/db = b colsum(G).
            let spec = GemmSpec {
                transpose_a: true,
                alpha: -learning_rate * self.layer_scale(layer),
                beta: 1.0,
                ..GemmSpec::default()
            };
            ops::gemm(
                &mut recorder,
                &deltas[layer],
                &pass.activations[layer],
                &self.weights[layer],
                spec,
            )?;
            let bias_gradient = ops::reduce_columns(&mut recorder, &deltas[layer], Reduction::Sum)?;
            let step = -learning_rate * self.config.b_std as f32;
            let updated = ops::map_binary(
                &mut recorder,
                &self.biases[layer],
                &bias_gradient,
                BinaryOp::Axpby { a: 1.0, b: step },
                Broadcast::None,
            )?;
            recorder.copy(&updated, 0, &self.biases[layer], 0, updated.len())?;
        }
        recorder.submit()?;
        Ok(f64::from(gpu.read(&loss)?[0]) / (2.0 * batch as f64))
    }

    /// Empirical per-layer NTK Theta_h(X1, X2) for h = 0..L (each n1 x n2,
    /// row-major on the host).
    pub fn empirical_layer_ntk(
        &self,
        gpu: &Gpu,
        x1: &Matrix,
        x2: &Matrix,
    ) -> Result<Vec<Vec<f32>>> {
        self.check_inputs(x1)?;
        self.check_inputs(x2)?;
        let mut recorder = gpu.recorder("empirical ntk");
        let ones1 = gpu.upload(&vec![1.0f32; x1.rows()], "ones")?;
        let ones2 = gpu.upload(&vec![1.0f32; x2.rows()], "ones")?;
        let pass1 = self.forward_pass(&mut recorder, x1)?;
        let pass2 = self.forward_pass(&mut recorder, x2)?;
        let deltas1 = self.backward_deltas(
            &mut recorder,
            &pass1,
            &Matrix::from_buffer(ones1, x1.rows(), 1)?,
        )?;
        let deltas2 = self.backward_deltas(
            &mut recorder,
            &pass2,
            &Matrix::from_buffer(ones2, x2.rows(), 1)?,
        )?;

        let mut layers = Vec::new();
        let b2 = (self.config.b_std * self.config.b_std) as f32;
        for layer in 0..=self.config.depth {
            let delta_gram = ops::gram(&mut recorder, &deltas1[layer], &deltas2[layer])?;
            let activation_gram = ops::gram(
                &mut recorder,
                &pass1.activations[layer],
                &pass2.activations[layer],
            )?;
            let product = ops::map_binary(
                &mut recorder,
                delta_gram.buffer(),
                activation_gram.buffer(),
                BinaryOp::Multiply,
                Broadcast::None,
            )?;
            let weight_factor =
                (self.config.w_std * self.config.w_std / self.config.fan_in(layer) as f64) as f32;
            let theta = ops::map_binary(
                &mut recorder,
                &product,
                delta_gram.buffer(),
                BinaryOp::Axpby {
                    a: weight_factor,
                    b: b2,
                },
                Broadcast::None,
            )?;
            layers.push(theta);
        }
        recorder.submit()?;
        layers.iter().map(|theta| gpu.read(theta)).collect()
    }
}
