//! The conditional noise-prediction network eps_theta(x_t, t, c): a residual
//! MLP on flattened images.
//!
//! With H the width, E = 2 `time_frequencies` and C the classes:
//!
//! - time embedding: phases t f_k with f_k = 10000^(-k / (E/2)), then
//!   [cos, sin] (the sinusoidal embedding of Vaswani et al.), a dense layer
//!   to H, SiLU, a dense layer to H;
//! - class embedding: the one-hot label over C + 1 classes (the last is the
//!   null label of classifier-free guidance) through a dense layer to H
//!   without bias; cond = time embedding + class embedding;
//! - h = W_in x + b_in, then per residual block
//!   h += W_2 SiLU(W_1 SiLU(h) + b_1 + W_c SiLU(cond) + b_c) + b_2;
//! - eps = W_out SiLU(h) + b_out + s(x_t, t), where the skip input
//!   s = b (x_t - a m) / (a^2 v + b^2), a = sqrt(alpha_bar_t),
//!   b = sqrt(1 - alpha_bar_t), is E[eps | x_t] for data with independent
//!   Gaussian pixels of mean m and variance v (the training images' per-pixel
//!   statistics, stored as frozen parameters `data.mean` and `data.variance`).
//!
//! The MLP learns only the residual of this Gaussian prediction. Without
//! it, a network narrower than the image cannot pass the noise through its
//! hidden layers. The loss then stays near 1 - H / pixels at large t, where
//! x_t is nearly eps, and the noise on constant pixels (MNIST's background)
//! is never removed at small t. The noising and sampling kernels form the
//! skip input on the GPU.
//!
//! Weights and biases start as PyTorch's `nn.Linear` default,
//! U(-1/sqrt(fan_in), 1/sqrt(fan_in)).

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::gpu::Gpu;
use crate::nn::{Activation, Graph, GraphBuilder, Init, Loss, ParamId, ParameterStore, TensorId};
use crate::random::PhiloxStream;

use super::kernels::PixelStatistics;

/// Sizes of the denoiser.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DenoiserConfig {
    /// Values per image (784 for MNIST).
    pub pixels: usize,
    /// Classes, without the null label (10 for MNIST).
    pub classes: usize,
    /// Width H of the hidden layers.
    pub width: usize,
    /// Residual blocks.
    pub blocks: usize,
    /// Frequencies of the sinusoidal time embedding (it has twice as many
    /// features).
    pub time_frequencies: usize,
}

impl DenoiserConfig {
    /// Returns the MNIST sizes with the given width and blocks and 32 time
    /// frequencies.
    pub fn mnist(width: usize, blocks: usize) -> Self {
        Self {
            pixels: crate::data::MNIST_PIXELS,
            classes: 10,
            width,
            blocks,
            time_frequencies: 32,
        }
    }

    /// Checks every size.
    pub fn validate(&self) -> Result<()> {
        let fields = [
            ("pixels", self.pixels, 1, 1 << 20),
            ("classes", self.classes, 1, 1 << 16),
            ("width", self.width, 1, 1 << 14),
            ("blocks", self.blocks, 0, 64),
            ("time_frequencies", self.time_frequencies, 1, 1 << 12),
        ];
        for (name, value, low, high) in fields {
            if value < low || value > high {
                return Err(Error::InvalidArgument {
                    name,
                    value: value.to_string(),
                    expected: format!("a denoiser size between {low} and {high}"),
                });
            }
        }
        Ok(())
    }

    /// Returns the index of the null label (classifier-free guidance's
    /// unconditional input).
    pub fn null_label(&self) -> u32 {
        self.classes as u32
    }

    /// Frequencies f_k = 10000^(-k / K) of the time embedding.
    pub fn frequencies(&self) -> Vec<f64> {
        let count = self.time_frequencies as f64;
        (0..self.time_frequencies)
            .map(|k| (-(10_000f64.ln()) * k as f64 / count).exp())
            .collect()
    }

    /// Multiply-adds of one forward pass per image (for throughput reports).
    pub fn multiply_adds(&self) -> usize {
        let h = self.width;
        2 * self.pixels * h
            + 2 * self.time_frequencies * h
            + h * h
            + (self.classes + 1) * h
            + self.blocks * 3 * h * h
    }
}

/// Adds a dense layer's weight (out x fan_in) and, with `bias`, its bias
/// (1 x out), drawn from PyTorch's `nn.Linear` default with Philox streams
/// `stream` (weight) and `stream + 1` (bias) of `seed`.
pub(crate) fn add_linear(
    gpu: &Gpu,
    store: &mut ParameterStore,
    name: &str,
    (out, fan_in): (usize, usize),
    bias: bool,
    seed: u64,
    stream: u64,
) -> Result<(ParamId, Option<ParamId>)> {
    let init = Init::linear_default(fan_in);
    let weight = store.add_random(
        gpu,
        &format!("{name}.weight"),
        out,
        fan_in,
        init,
        1.0,
        PhiloxStream::new(seed, stream),
        true,
    )?;
    let bias = if bias {
        let stream = PhiloxStream::new(seed, stream + 1);
        Some(store.add_random(
            gpu,
            &format!("{name}.bias"),
            1,
            out,
            init,
            1.0,
            stream,
            true,
        )?)
    } else {
        None
    };
    Ok((weight, bias))
}

/// The parameters of one residual block.
#[derive(Debug, Clone, Copy)]
struct Block {
    first: (ParamId, ParamId),
    condition: (ParamId, ParamId),
    second: (ParamId, ParamId),
}

/// The parameter ids of the network.
#[derive(Debug, Clone)]
struct Parameters {
    time_first: (ParamId, ParamId),
    time_second: (ParamId, ParamId),
    class_embedding: ParamId,
    input: (ParamId, ParamId),
    blocks: Vec<Block>,
    output: (ParamId, ParamId),
    pixel_mean: ParamId,
    pixel_variance: ParamId,
}

/// The tensors of a built denoiser graph.
pub struct DenoiserGraph {
    /// The built graph.
    pub graph: Graph,
    /// Input: x_t, rows x pixels.
    pub images: TensorId,
    /// Input: time phases t f_k, rows x time_frequencies.
    pub phases: TensorId,
    /// Input: one-hot labels, rows x (classes + 1).
    pub labels: TensorId,
    /// Input: the Gaussian noise prediction (the skip input), rows x pixels.
    pub skip: TensorId,
    /// Output: predicted noise, rows x pixels.
    pub output: TensorId,
    /// Input: the noise to predict, when built for training.
    pub target: Option<TensorId>,
    /// Rows of every tensor.
    pub rows: usize,
}

/// A conditional denoiser and its weights on the GPU.
pub struct Denoiser {
    config: DenoiserConfig,
    store: ParameterStore,
    parameters: Parameters,
}

impl Denoiser {
    /// Creates a denoiser with weights drawn from Philox streams of `seed`.
    pub fn new(gpu: &Gpu, config: DenoiserConfig, seed: u64) -> Result<Self> {
        config.validate()?;
        let mut store = ParameterStore::new();
        let mut stream = 0u64;
        let mut dense = |store: &mut ParameterStore,
                         name: &str,
                         out: usize,
                         fan_in: usize,
                         bias: bool|
         -> Result<(ParamId, ParamId)> {
            stream += 2;
            let (weight, bias) = add_linear(gpu, store, name, (out, fan_in), bias, seed, stream)?;
            Ok((weight, bias.unwrap_or(weight)))
        };
        let (h, d) = (config.width, config.pixels);
        let time_first = dense(&mut store, "time1", h, 2 * config.time_frequencies, true)?;
        let time_second = dense(&mut store, "time2", h, h, true)?;
        let (class_embedding, _) = dense(&mut store, "class", h, config.classes + 1, false)?;
        let input = dense(&mut store, "input", h, d, true)?;
        let mut blocks = Vec::with_capacity(config.blocks);
        for index in 0..config.blocks {
            blocks.push(Block {
                first: dense(&mut store, &format!("block{index}.dense1"), h, h, true)?,
                condition: dense(&mut store, &format!("block{index}.condition"), h, h, true)?,
                second: dense(&mut store, &format!("block{index}.dense2"), h, h, true)?,
            });
        }
        let output = dense(&mut store, "output", d, h, true)?;
        // Mean 0 and variance 1 until the training data sets them: the skip
        // input is then sqrt(1 - alpha_bar_t) x_t.
        let pixel_mean = store.add(gpu, "data.mean", 1, d, &vec![0.0; d], false)?;
        let pixel_variance = store.add(gpu, "data.variance", 1, d, &vec![1.0; d], false)?;
        Ok(Self {
            config,
            store,
            parameters: Parameters {
                time_first,
                time_second,
                class_embedding,
                input,
                blocks,
                output,
                pixel_mean,
                pixel_variance,
            },
        })
    }

    /// Sizes.
    pub fn config(&self) -> &DenoiserConfig {
        &self.config
    }

    /// The weights.
    pub fn store(&self) -> &ParameterStore {
        &self.store
    }

    /// Returns the weights for the optimiser to update.
    pub fn store_mut(&mut self) -> &mut ParameterStore {
        &mut self.store
    }

    /// Builds the network's graph for `rows` images, with a mean squared
    /// error loss against a noise input when `training`.
    pub fn build_graph(&self, gpu: &Gpu, rows: usize, training: bool) -> Result<DenoiserGraph> {
        let config = &self.config;
        let p = &self.parameters;
        let mut builder = GraphBuilder::new(&self.store);
        let images = builder.input(rows, config.pixels, "noisy images")?;
        let phases = builder.input(rows, config.time_frequencies, "time phases")?;
        let labels = builder.input(rows, config.classes + 1, "one-hot labels")?;
        let skip = builder.input(rows, config.pixels, "skip term")?;

        let embedding = builder.sincos(phases, "time embedding");
        let time = builder.dense(embedding, p.time_first.0, Some(p.time_first.1), "time1")?;
        let time = builder.activation(time, Activation::Silu, "time1 silu");
        let time = builder.dense(time, p.time_second.0, Some(p.time_second.1), "time2")?;
        let class = builder.dense(labels, p.class_embedding, None, "class embedding")?;
        let condition = builder.add(time, class, "condition")?;
        let condition = builder.activation(condition, Activation::Silu, "condition silu");

        let mut hidden = builder.dense(images, p.input.0, Some(p.input.1), "input")?;
        for (index, block) in p.blocks.iter().enumerate() {
            let label = |part: &str| format!("block{index} {part}");
            let u = builder.activation(hidden, Activation::Silu, &label("silu1"));
            let u = builder.dense(u, block.first.0, Some(block.first.1), &label("dense1"))?;
            let c = builder.dense(
                condition,
                block.condition.0,
                Some(block.condition.1),
                &label("condition"),
            )?;
            let u = builder.add(u, c, &label("conditioned"))?;
            let u = builder.activation(u, Activation::Silu, &label("silu2"));
            let u = builder.dense(u, block.second.0, Some(block.second.1), &label("dense2"))?;
            hidden = builder.add(hidden, u, &label("residual"))?;
        }
        let hidden = builder.activation(hidden, Activation::Silu, "output silu");
        let residual = builder.dense(hidden, p.output.0, Some(p.output.1), "output")?;
        let output = builder.add(residual, skip, "predicted noise")?;

        let target = if training {
            let target = builder.input(rows, config.pixels, "noise")?;
            builder.set_loss(Loss::MeanSquaredError {
                prediction: output,
                target,
            })?;
            Some(target)
        } else {
            None
        };
        Ok(DenoiserGraph {
            graph: builder.build(gpu)?,
            images,
            phases,
            labels,
            skip,
            output,
            target,
            rows,
        })
    }

    /// Returns the time phases t f_k of one image at timestep t.
    pub fn phases(&self, timestep: usize) -> Vec<f32> {
        self.config
            .frequencies()
            .iter()
            .map(|f| (timestep as f64 * f) as f32)
            .collect()
    }

    /// Returns the per-pixel statistics of the skip input, on the GPU.
    pub fn pixel_statistics(&self) -> PixelStatistics<'_> {
        PixelStatistics {
            mean: self.store.value(self.parameters.pixel_mean).buffer(),
            variance: self.store.value(self.parameters.pixel_variance).buffer(),
        }
    }

    /// Sets the per-pixel mean and variance of the skip input.
    pub fn set_pixel_statistics(
        &mut self,
        gpu: &Gpu,
        mean: &[f32],
        variance: &[f32],
    ) -> Result<()> {
        if let Some(&v) = variance.iter().find(|v| !v.is_finite() || **v < 0.0) {
            return Err(Error::InvalidArgument {
                name: "pixel variance",
                value: v.to_string(),
                expected: "finite variances >= 0".to_string(),
            });
        }
        if let Some(&m) = mean.iter().find(|m| !m.is_finite()) {
            return Err(Error::InvalidArgument {
                name: "pixel mean",
                value: m.to_string(),
                expected: "finite means".to_string(),
            });
        }
        self.store.write(gpu, self.parameters.pixel_mean, mean)?;
        self.store
            .write(gpu, self.parameters.pixel_variance, variance)
    }

    /// Sets the skip input's statistics to the per-pixel mean and variance
    /// (1 / n) of `images` (n x pixels, in the model's [-1, 1] range),
    /// accumulated in float64.
    pub fn fit_pixel_statistics(&mut self, gpu: &Gpu, images: &[f32]) -> Result<()> {
        let pixels = self.config.pixels;
        let count = crate::generative::check_points(images, pixels, 1, "images")?;
        let mut sums = vec![0.0f64; pixels];
        let mut squares = vec![0.0f64; pixels];
        for image in images.chunks(pixels) {
            for (j, &value) in image.iter().enumerate() {
                sums[j] += f64::from(value);
                squares[j] += f64::from(value) * f64::from(value);
            }
        }
        let mean: Vec<f64> = sums.iter().map(|s| s / count as f64).collect();
        let variance: Vec<f32> = squares
            .iter()
            .zip(&mean)
            .map(|(q, m)| (q / count as f64 - m * m).max(0.0) as f32)
            .collect();
        let mean: Vec<f32> = mean.iter().map(|&m| m as f32).collect();
        self.set_pixel_statistics(gpu, &mean, &variance)
    }

    /// Returns the one-hot row of `label` (the null label is `classes`).
    pub fn one_hot(&self, label: u32) -> Result<Vec<f32>> {
        if label > self.config.null_label() {
            return Err(Error::InvalidArgument {
                name: "label",
                value: label.to_string(),
                expected: format!(
                    "a class from 0 to {} or the null label {}",
                    self.config.classes - 1,
                    self.config.null_label()
                ),
            });
        }
        let mut row = vec![0.0; self.config.classes + 1];
        row[label as usize] = 1.0;
        Ok(row)
    }

    /// Writes the weights into `directory` (one `.npy` per parameter and
    /// `parameters.json`).
    pub fn save(&self, gpu: &Gpu, directory: &std::path::Path) -> Result<()> {
        self.store.save(gpu, directory)
    }

    /// Reads weights written by [`Denoiser::save`] for the same sizes.
    pub fn load(&mut self, gpu: &Gpu, directory: &std::path::Path) -> Result<()> {
        self.store.load(gpu, directory)
    }
}
