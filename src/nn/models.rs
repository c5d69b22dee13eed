//! Coordinate networks (SIREN, Fourier-feature MLP, ReLU MLP, TITAN) and the
//! grid-based deep decoder, built from the graph operations of
//! [`super::graph`]. docs/titan.md describes each architecture.

use std::f32::consts::PI;

use crate::error::{Error, Result};
use crate::gpu::Gpu;
use crate::random::PhiloxStream;

use super::graph::{Activation, ChannelNorm, GraphBuilder, NormStatistics, TensorId};
use super::params::{Init, ParamId, ParameterStore};

/// A network from 2-D coordinates to colour channels.
pub trait CoordinateNetwork {
    /// Short name used in tables ("siren", "titan", ...).
    fn name(&self) -> &str;
    /// Output channels.
    fn output_channels(&self) -> usize;
    /// The parameters.
    fn store(&self) -> &ParameterStore;
    /// Returns the parameters for training.
    fn store_mut(&mut self) -> &mut ParameterStore;
    /// Adds the network to `graph` on a rows x 2 coordinate tensor and
    /// returns the rows x C output.
    fn build(
        &self,
        graph: &mut GraphBuilder,
        coordinates: TensorId,
        statistics: NormStatistics,
    ) -> Result<TensorId>;
}

fn check_positive(name: &'static str, value: usize) -> Result<()> {
    if value == 0 {
        return Err(Error::InvalidArgument {
            name,
            value: "0".to_string(),
            expected: "at least 1".to_string(),
        });
    }
    Ok(())
}

/// Draws parameters from consecutive Philox streams of one seed.
struct Initialiser<'g> {
    gpu: &'g Gpu,
    seed: u64,
    next_stream: u64,
    keep: f32,
}

impl Initialiser<'_> {
    fn add(
        &mut self,
        store: &mut ParameterStore,
        name: &str,
        rows: usize,
        columns: usize,
        init: Init,
        masked: bool,
    ) -> Result<ParamId> {
        let stream = PhiloxStream::new(self.seed, self.next_stream);
        self.next_stream += 1;
        let keep = if masked { self.keep } else { 1.0 };
        store.add_random(self.gpu, name, rows, columns, init, keep, stream, true)
    }

    fn frozen(
        &mut self,
        store: &mut ParameterStore,
        name: &str,
        rows: usize,
        columns: usize,
        init: Init,
    ) -> Result<ParamId> {
        let stream = PhiloxStream::new(self.seed, self.next_stream);
        self.next_stream += 1;
        store.add_random(self.gpu, name, rows, columns, init, 1.0, stream, false)
    }

    fn norm(
        &mut self,
        store: &mut ParameterStore,
        name: &str,
        channels: usize,
    ) -> Result<ChannelNorm> {
        let gamma = store.add(
            self.gpu,
            &format!("{name}_gamma"),
            1,
            channels,
            &vec![1.0; channels],
            true,
        )?;
        let beta = store.add(
            self.gpu,
            &format!("{name}_beta"),
            1,
            channels,
            &vec![0.0; channels],
            true,
        )?;
        let mut statistics = vec![0.0; channels];
        statistics.extend(std::iter::repeat_n(1.0, channels));
        let statistics = store.add(
            self.gpu,
            &format!("{name}_statistics"),
            2,
            channels,
            &statistics,
            false,
        )?;
        Ok(ChannelNorm {
            gamma,
            beta,
            statistics,
            epsilon: 1e-5,
        })
    }
}

/// Adds the fixed frequency matrix of a sinusoidal (positional) encoding
/// to `store` and returns it: with `levels` = L and input dimension d, the
/// 2^k pi e_j rows (k = 0..L-1, j = 0..d-1), so that
/// `graph.sincos(graph.dense(x, id, None))` yields NeRF's encoding
/// [cos(2^k pi x_j), sin(2^k pi x_j)] of every coordinate.
pub fn sinusoidal_encoding(
    gpu: &Gpu,
    store: &mut ParameterStore,
    name: &str,
    input_dimension: usize,
    levels: usize,
) -> Result<ParamId> {
    check_positive("input_dimension", input_dimension)?;
    check_positive("levels", levels)?;
    let rows = levels * input_dimension;
    let mut frequencies = vec![0.0f32; rows * input_dimension];
    for level in 0..levels {
        for axis in 0..input_dimension {
            let row = level * input_dimension + axis;
            frequencies[row * input_dimension + axis] =
                (2.0f64.powi(level as i32) * std::f64::consts::PI) as f32;
        }
    }
    store.add(gpu, name, rows, input_dimension, &frequencies, false)
}

/// A dense layer's weight and optional bias.
#[derive(Debug, Clone, Copy)]
struct Linear {
    weight: ParamId,
    bias: Option<ParamId>,
}

impl Linear {
    fn apply(&self, graph: &mut GraphBuilder, x: TensorId, label: &str) -> Result<TensorId> {
        graph.dense(x, self.weight, self.bias, label)
    }
}

/// SIREN settings (Sitzmann et al., 2020).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct SirenConfig {
    /// Width of every hidden layer.
    pub width: usize,
    /// Number of hidden sine layers after the first.
    pub hidden_layers: usize,
    /// omega_0 of every sine layer.
    pub omega: f32,
    /// Output channels.
    pub channels: usize,
}

impl Default for SirenConfig {
    fn default() -> Self {
        Self {
            width: 256,
            hidden_layers: 3,
            omega: 30.0,
            channels: 3,
        }
    }
}

/// SIREN: sin(omega (W x + b)) layers with the authors' initialisation
/// (first layer U(-1/n, 1/n), later layers U(-sqrt(6/n)/omega,
/// sqrt(6/n)/omega)) and a linear output.
pub struct Siren {
    config: SirenConfig,
    store: ParameterStore,
    layers: Vec<Linear>,
}

impl Siren {
    /// Creates a SIREN with weights from `seed`.
    pub fn new(gpu: &Gpu, config: SirenConfig, seed: u64) -> Result<Self> {
        check_positive("width", config.width)?;
        check_positive("channels", config.channels)?;
        if !(config.omega > 0.0 && config.omega.is_finite()) {
            return Err(Error::InvalidArgument {
                name: "omega",
                value: config.omega.to_string(),
                expected: "a positive frequency, typically 10 to 30".to_string(),
            });
        }
        let mut store = ParameterStore::new();
        let mut init = Initialiser {
            gpu,
            seed,
            next_stream: 0,
            keep: 1.0,
        };
        let mut layers = Vec::new();
        let mut fan_in = 2;
        for layer in 0..=config.hidden_layers + 1 {
            let out = if layer == config.hidden_layers + 1 {
                config.channels
            } else {
                config.width
            };
            let bound = if layer == 0 {
                1.0 / fan_in as f32
            } else {
                (6.0 / fan_in as f32).sqrt() / config.omega
            };
            let weight = init.add(
                &mut store,
                &format!("layer{layer}_weight"),
                out,
                fan_in,
                Init::Uniform {
                    low: -bound,
                    high: bound,
                },
                false,
            )?;
            let bias = init.add(
                &mut store,
                &format!("layer{layer}_bias"),
                1,
                out,
                Init::linear_default(fan_in),
                false,
            )?;
            layers.push(Linear {
                weight,
                bias: Some(bias),
            });
            fan_in = out;
        }
        Ok(Self {
            config,
            store,
            layers,
        })
    }
}

impl CoordinateNetwork for Siren {
    fn name(&self) -> &str {
        "siren"
    }

    fn output_channels(&self) -> usize {
        self.config.channels
    }

    fn store(&self) -> &ParameterStore {
        &self.store
    }

    fn store_mut(&mut self) -> &mut ParameterStore {
        &mut self.store
    }

    fn build(
        &self,
        graph: &mut GraphBuilder,
        coordinates: TensorId,
        _: NormStatistics,
    ) -> Result<TensorId> {
        let mut x = coordinates;
        let last = self.layers.len() - 1;
        for (index, layer) in self.layers.iter().enumerate() {
            x = layer.apply(graph, x, &format!("siren layer {index}"))?;
            if index < last {
                x = graph.activation(
                    x,
                    Activation::Sine {
                        omega: self.config.omega,
                    },
                    &format!("siren sine {index}"),
                );
            }
        }
        Ok(x)
    }
}

/// Settings of a ReLU MLP, optionally on Fourier features.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct MlpConfig {
    /// Width of every hidden layer.
    pub width: usize,
    /// Number of hidden ReLU layers.
    pub hidden_layers: usize,
    /// Number of random Fourier frequencies m (0: plain coordinates).
    pub fourier_features: usize,
    /// Standard deviation sigma of the frequencies B ~ N(0, sigma^2).
    pub fourier_scale: f32,
    /// Output channels.
    pub channels: usize,
}

impl MlpConfig {
    /// Returns the Fourier-feature network of Tancik et al. (2020): 256 frequencies
    /// with sigma = 10, then a ReLU MLP.
    pub fn fourier(channels: usize) -> Self {
        Self {
            width: 256,
            hidden_layers: 3,
            fourier_features: 256,
            fourier_scale: 10.0,
            channels,
        }
    }

    /// Returns a ReLU MLP on the raw coordinates.
    pub fn relu(channels: usize) -> Self {
        Self {
            fourier_features: 0,
            ..Self::fourier(channels)
        }
    }
}

/// A ReLU MLP with a sigmoid output; with Fourier features its input is
/// gamma(p) = [cos(2 pi B p), sin(2 pi B p)] with a fixed random B.
pub struct Mlp {
    config: MlpConfig,
    store: ParameterStore,
    frequencies: Option<ParamId>,
    layers: Vec<Linear>,
}

impl Mlp {
    /// Creates the network with weights from `seed` (PyTorch's default
    /// linear initialisation).
    pub fn new(gpu: &Gpu, config: MlpConfig, seed: u64) -> Result<Self> {
        check_positive("width", config.width)?;
        check_positive("channels", config.channels)?;
        if config.fourier_features > 0
            && !(config.fourier_scale > 0.0 && config.fourier_scale.is_finite())
        {
            return Err(Error::InvalidArgument {
                name: "fourier_scale",
                value: config.fourier_scale.to_string(),
                expected: "a positive standard deviation (10 is typical for images)".to_string(),
            });
        }
        let mut store = ParameterStore::new();
        let mut init = Initialiser {
            gpu,
            seed,
            next_stream: 0,
            keep: 1.0,
        };
        let frequencies = match config.fourier_features {
            0 => None,
            features => Some(init.frozen(
                &mut store,
                "fourier_frequencies",
                features,
                2,
                Init::Normal {
                    std: 2.0 * PI * config.fourier_scale,
                },
            )?),
        };
        let mut fan_in = if config.fourier_features > 0 {
            2 * config.fourier_features
        } else {
            2
        };
        let mut layers = Vec::new();
        for layer in 0..=config.hidden_layers {
            let out = if layer == config.hidden_layers {
                config.channels
            } else {
                config.width
            };
            let weight = init.add(
                &mut store,
                &format!("layer{layer}_weight"),
                out,
                fan_in,
                Init::linear_default(fan_in),
                false,
            )?;
            let bias = init.add(
                &mut store,
                &format!("layer{layer}_bias"),
                1,
                out,
                Init::linear_default(fan_in),
                false,
            )?;
            layers.push(Linear {
                weight,
                bias: Some(bias),
            });
            fan_in = out;
        }
        Ok(Self {
            config,
            store,
            frequencies,
            layers,
        })
    }
}

impl CoordinateNetwork for Mlp {
    fn name(&self) -> &str {
        if self.frequencies.is_some() {
            "ffn"
        } else {
            "relu"
        }
    }

    fn output_channels(&self) -> usize {
        self.config.channels
    }

    fn store(&self) -> &ParameterStore {
        &self.store
    }

    fn store_mut(&mut self) -> &mut ParameterStore {
        &mut self.store
    }

    fn build(
        &self,
        graph: &mut GraphBuilder,
        coordinates: TensorId,
        _: NormStatistics,
    ) -> Result<TensorId> {
        let mut x = coordinates;
        if let Some(frequencies) = self.frequencies {
            let phases = graph.dense(x, frequencies, None, "fourier phases")?;
            x = graph.sincos(phases, "fourier features");
        }
        let last = self.layers.len() - 1;
        for (index, layer) in self.layers.iter().enumerate() {
            x = layer.apply(graph, x, &format!("mlp layer {index}"))?;
            let activation = if index < last {
                Activation::Relu
            } else {
                Activation::Sigmoid
            };
            x = graph.activation(x, activation, &format!("mlp activation {index}"));
        }
        Ok(x)
    }
}

/// TITAN settings.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct TitanConfig {
    /// Width m of the decoder stack and the coordinate features.
    pub width: usize,
    /// Depth D: D - 1 decoder layers, each with its residual feature.
    pub depth: usize,
    /// Output channels.
    pub channels: usize,
    /// Probability that a linear weight starts non-zero (1: dense; the
    /// authors' sparse runs use 0.01).
    pub keep: f32,
}

impl TitanConfig {
    /// Returns the authors' super-resolution network: m = 100, D = 10, dense.
    pub fn paper(channels: usize) -> Self {
        Self {
            width: 100,
            depth: 10,
            channels,
            keep: 1.0,
        }
    }
}

/// TITAN: a deep-decoder stack of 1x1 layers on a learned constant, with
/// sine features of the coordinates at growing frequency injected into
/// every layer, channel normalisation and a sigmoid output:
///
/// ```text
/// x = A p + a;  r_i = sin(2 (B_i (2 (i + 1) x) + c_i)) / D;  z_0 = z_in;
/// z_{i+1} = Norm(relu(W_i z_i + r_i));  out = sigmoid(W_out z_{D-1})
/// ```
pub struct Titan {
    config: TitanConfig,
    store: ParameterStore,
    embedding: Linear,
    residual: Vec<Linear>,
    constant: ParamId,
    decoder: Vec<ParamId>,
    norms: Vec<ChannelNorm>,
    output: ParamId,
}

impl Titan {
    /// Creates TITAN with weights from `seed` (PyTorch's default linear
    /// initialisation, z_in ~ U(-1, 1), keep-masks on the linear weights).
    pub fn new(gpu: &Gpu, config: TitanConfig, seed: u64) -> Result<Self> {
        check_positive("width", config.width)?;
        check_positive("channels", config.channels)?;
        if config.depth < 2 {
            return Err(Error::InvalidArgument {
                name: "depth",
                value: config.depth.to_string(),
                expected: "at least 2 (one decoder layer)".to_string(),
            });
        }
        let m = config.width;
        let mut store = ParameterStore::new();
        let mut init = Initialiser {
            gpu,
            seed,
            next_stream: 0,
            keep: config.keep,
        };
        let embedding = Linear {
            weight: init.add(
                &mut store,
                "embedding_weight",
                m,
                2,
                Init::linear_default(2),
                false,
            )?,
            bias: Some(init.add(
                &mut store,
                "embedding_bias",
                1,
                m,
                Init::linear_default(2),
                false,
            )?),
        };
        let constant = init.add(
            &mut store,
            "z_in",
            1,
            m,
            Init::Uniform {
                low: -1.0,
                high: 1.0,
            },
            false,
        )?;
        let mut residual = Vec::new();
        let mut decoder = Vec::new();
        let mut norms = Vec::new();
        for layer in 0..config.depth - 1 {
            residual.push(Linear {
                weight: init.add(
                    &mut store,
                    &format!("residual{layer}_weight"),
                    m,
                    m,
                    Init::linear_default(m),
                    true,
                )?,
                bias: Some(init.add(
                    &mut store,
                    &format!("residual{layer}_bias"),
                    1,
                    m,
                    Init::linear_default(m),
                    false,
                )?),
            });
            decoder.push(init.add(
                &mut store,
                &format!("decoder{layer}_weight"),
                m,
                m,
                Init::linear_default(m),
                true,
            )?);
            norms.push(init.norm(&mut store, &format!("norm{layer}"), m)?);
        }
        let output = init.add(
            &mut store,
            "output_weight",
            config.channels,
            m,
            Init::linear_default(m),
            true,
        )?;
        Ok(Self {
            config,
            store,
            embedding,
            residual,
            constant,
            decoder,
            norms,
            output,
        })
    }
}

impl CoordinateNetwork for Titan {
    fn name(&self) -> &str {
        "titan"
    }

    fn output_channels(&self) -> usize {
        self.config.channels
    }

    fn store(&self) -> &ParameterStore {
        &self.store
    }

    fn store_mut(&mut self) -> &mut ParameterStore {
        &mut self.store
    }

    fn build(
        &self,
        graph: &mut GraphBuilder,
        coordinates: TensorId,
        statistics: NormStatistics,
    ) -> Result<TensorId> {
        let (rows, _) = graph.shape(coordinates);
        let depth = self.config.depth as f32;
        let x = self
            .embedding
            .apply(graph, coordinates, "titan embedding")?;
        let mut z = graph.broadcast_row(self.constant, rows, "titan z_in")?;
        for (layer, ((residual, decoder), norm)) in self
            .residual
            .iter()
            .zip(&self.decoder)
            .zip(&self.norms)
            .enumerate()
        {
            let scaled = graph.scale(
                x,
                2.0 * (layer + 1) as f32,
                &format!("titan frequency {layer}"),
            );
            let projected = residual.apply(graph, scaled, &format!("titan residual {layer}"))?;
            let feature = graph.activation(
                projected,
                Activation::Sine { omega: 2.0 },
                &format!("titan sine {layer}"),
            );
            let feature = graph.scale(feature, 1.0 / depth, &format!("titan feature {layer}"));
            let mixed = graph.dense(z, *decoder, None, &format!("titan decoder {layer}"))?;
            let summed = graph.add(mixed, feature, &format!("titan sum {layer}"))?;
            let activated =
                graph.activation(summed, Activation::Relu, &format!("titan relu {layer}"));
            z = graph.channel_norm(activated, *norm, statistics, &format!("titan norm {layer}"))?;
        }
        let logits = graph.dense(z, self.output, None, "titan output")?;
        Ok(graph.activation(logits, Activation::Sigmoid, "titan sigmoid"))
    }
}

/// Deep decoder settings (Heckel and Hand, 2019).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct DeepDecoderConfig {
    /// Channels k of every layer.
    pub channels: usize,
    /// Number of x2 upsampling layers (the input grid is the output grid
    /// divided by 2^layers).
    pub layers: usize,
    /// Output channels.
    pub output_channels: usize,
    /// Output grid width.
    pub width: usize,
    /// Output grid height.
    pub height: usize,
}

/// The deep decoder: a fixed random tensor on a coarse grid, then per layer a
/// 1x1 convolution, bilinear x2 upsampling, ReLU and channel normalisation,
/// and a final 1x1 convolution with a sigmoid. It is tied to its output grid.
pub struct DeepDecoder {
    config: DeepDecoderConfig,
    store: ParameterStore,
    input: ParamId,
    convolutions: Vec<ParamId>,
    norms: Vec<ChannelNorm>,
    output: ParamId,
}

impl DeepDecoder {
    /// Creates a deep decoder; width and height must be divisible by
    /// 2^layers.
    pub fn new(gpu: &Gpu, config: DeepDecoderConfig, seed: u64) -> Result<Self> {
        check_positive("channels", config.channels)?;
        check_positive("output_channels", config.output_channels)?;
        let divisor = 1usize << config.layers;
        if config.width % divisor != 0
            || config.height % divisor != 0
            || config.width == 0
            || config.height == 0
        {
            return Err(Error::InvalidArgument {
                name: "deep decoder grid",
                value: format!(
                    "{} x {} with {} upsampling layers",
                    config.width, config.height, config.layers
                ),
                expected: format!("a width and height divisible by 2^layers = {divisor}"),
            });
        }
        let k = config.channels;
        let mut store = ParameterStore::new();
        let mut init = Initialiser {
            gpu,
            seed,
            next_stream: 0,
            keep: 1.0,
        };
        let cells = (config.width / divisor) * (config.height / divisor);
        let input = init.frozen(
            &mut store,
            "input",
            cells,
            k,
            Init::Uniform {
                low: 0.0,
                high: 0.1,
            },
        )?;
        let mut convolutions = Vec::new();
        let mut norms = Vec::new();
        for layer in 0..config.layers {
            convolutions.push(init.add(
                &mut store,
                &format!("conv{layer}_weight"),
                k,
                k,
                Init::linear_default(k),
                false,
            )?);
            norms.push(init.norm(&mut store, &format!("norm{layer}"), k)?);
        }
        let output = init.add(
            &mut store,
            "output_weight",
            config.output_channels,
            k,
            Init::linear_default(k),
            false,
        )?;
        Ok(Self {
            config,
            store,
            input,
            convolutions,
            norms,
            output,
        })
    }

    /// Settings.
    pub fn config(&self) -> &DeepDecoderConfig {
        &self.config
    }

    /// The parameters.
    pub fn store(&self) -> &ParameterStore {
        &self.store
    }

    /// Returns the parameters for training.
    pub fn store_mut(&mut self) -> &mut ParameterStore {
        &mut self.store
    }

    /// Adds the decoder to `graph`; returns the (width x height) x C image.
    pub fn build(&self, graph: &mut GraphBuilder, statistics: NormStatistics) -> Result<TensorId> {
        let divisor = 1usize << self.config.layers;
        let (mut width, mut height) = (self.config.width / divisor, self.config.height / divisor);
        let mut x = graph.parameter(self.input, "deep decoder input");
        for (layer, (convolution, norm)) in self.convolutions.iter().zip(&self.norms).enumerate() {
            x = graph.dense(x, *convolution, None, &format!("deep decoder conv {layer}"))?;
            x = graph.upsample2x(x, width, height, &format!("deep decoder upsample {layer}"))?;
            width *= 2;
            height *= 2;
            x = graph.activation(x, Activation::Relu, &format!("deep decoder relu {layer}"));
            x = graph.channel_norm(x, *norm, statistics, &format!("deep decoder norm {layer}"))?;
        }
        let logits = graph.dense(x, self.output, None, "deep decoder output")?;
        Ok(graph.activation(logits, Activation::Sigmoid, "deep decoder sigmoid"))
    }
}
