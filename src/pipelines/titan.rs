//! TITAN: coordinate networks with a deep image prior, compared with SIREN,
//! Fourier-feature MLPs, the deep decoder and classical interpolation on
//! super-resolution (docs/titan.md has the details).
//!
//! Protocol: crop the ground truth to a multiple of the scale, downsample it
//! by area averaging, fit each network on the low-resolution pixel centres,
//! render it at the high-resolution pixel centres, and score PSNR and SSIM
//! against the ground truth at the final iteration. Pixel centres of both
//! grids sit at -1 + (2 i + 1) / size, so each low-resolution centre is the
//! centroid of its high-resolution block.

use std::str::FromStr;
use std::time::Instant;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::gpu::Gpu;
use crate::imaging::{
    area_downsample, coordinate_grid, psnr, resize_bicubic, resize_bilinear, ssim, Image,
};
use crate::nn::{
    fit, lipschitz_estimate, render, CoordinateNetwork, DeepDecoder, DeepDecoderConfig, FitConfig,
    GraphBuilder, Loss, Mlp, MlpConfig, NormStatistics, Optimizer, OptimizerConfig, Siren,
    SirenConfig, Titan, TitanConfig,
};

/// A super-resolution method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SrMethod {
    /// TITAN (dense weights unless the config sets a keep probability).
    Titan,
    /// SIREN.
    Siren,
    /// Fourier-feature ReLU MLP.
    Ffn,
    /// ReLU MLP on raw coordinates.
    Relu,
    /// The grid-based deep decoder, fitted through area downsampling.
    DeepDecoder,
    /// Keys cubic convolution of the low-resolution image.
    Bicubic,
    /// Bilinear interpolation of the low-resolution image.
    Bilinear,
}

impl SrMethod {
    /// Every method, in table order.
    pub const ALL: [SrMethod; 7] = [
        SrMethod::Titan,
        SrMethod::Siren,
        SrMethod::Ffn,
        SrMethod::Relu,
        SrMethod::DeepDecoder,
        SrMethod::Bicubic,
        SrMethod::Bilinear,
    ];

    /// Name used on the command line and in tables.
    pub fn name(self) -> &'static str {
        match self {
            SrMethod::Titan => "titan",
            SrMethod::Siren => "siren",
            SrMethod::Ffn => "ffn",
            SrMethod::Relu => "relu",
            SrMethod::DeepDecoder => "deep-decoder",
            SrMethod::Bicubic => "bicubic",
            SrMethod::Bilinear => "bilinear",
        }
    }

    /// Whether the method is a coordinate network (renderable anywhere).
    pub fn is_coordinate_network(self) -> bool {
        matches!(
            self,
            SrMethod::Titan | SrMethod::Siren | SrMethod::Ffn | SrMethod::Relu
        )
    }
}

impl FromStr for SrMethod {
    type Err = Error;

    fn from_str(name: &str) -> Result<Self> {
        SrMethod::ALL
            .into_iter()
            .find(|method| method.name() == name)
            .ok_or_else(|| Error::InvalidArgument {
                name: "method",
                value: name.to_string(),
                expected: format!("one of {}", SrMethod::ALL.map(SrMethod::name).join(", ")),
            })
    }
}

/// Network sizes and training settings shared by the TITAN studies.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct NetworkSettings {
    /// Optimiser steps of every network (equal for all, as the study
    /// compares at equal iterations).
    pub iterations: usize,
    /// Adam learning rate.
    pub learning_rate: f32,
    /// L1 strength of TITAN's Bregman update (0: plain Adam).
    pub titan_l1: f32,
    /// TITAN's width m, depth D and keep probability.
    pub titan: TitanConfig,
    /// SIREN's width, hidden layers and omega_0.
    pub siren: SirenConfig,
    /// The Fourier-feature and ReLU MLPs' width, layers and frequencies.
    pub mlp: MlpConfig,
    /// Channels of the deep decoder.
    pub deep_decoder_channels: usize,
    /// Seed of every initialisation.
    pub seed: u64,
}

impl NetworkSettings {
    /// Returns the study's settings: TITAN m = 100, D = 10; SIREN 256 x 3 with
    /// omega_0 = 30; Fourier features 256 x 3 on 256 frequencies with
    /// sigma = 10; deep decoder with 64 channels; 5000 Adam steps at 1e-3.
    pub fn paper(channels: usize) -> Self {
        Self {
            iterations: 5000,
            learning_rate: 1e-3,
            titan_l1: 0.0,
            titan: TitanConfig::paper(channels),
            siren: SirenConfig {
                channels,
                ..SirenConfig::default()
            },
            mlp: MlpConfig::fourier(channels),
            deep_decoder_channels: 64,
            seed: 0,
        }
    }

    /// Returns smaller networks and fewer steps that run in a few minutes on a
    /// software adapter.
    pub fn quick(channels: usize) -> Self {
        Self {
            iterations: 300,
            titan: TitanConfig {
                width: 48,
                depth: 6,
                channels,
                keep: 1.0,
            },
            siren: SirenConfig {
                width: 96,
                hidden_layers: 2,
                omega: 30.0,
                channels,
            },
            mlp: MlpConfig {
                width: 96,
                hidden_layers: 2,
                fourier_features: 96,
                fourier_scale: 10.0,
                channels,
            },
            deep_decoder_channels: 32,
            ..Self::paper(channels)
        }
    }

    fn fit_config(&self) -> FitConfig {
        FitConfig {
            optimizer: OptimizerConfig {
                learning_rate: self.learning_rate,
                ..OptimizerConfig::default()
            },
            ..FitConfig::full_batch(self.iterations)
        }
    }

    /// Creates the coordinate network of `method` for `channels` channels.
    pub fn network(
        &self,
        gpu: &Gpu,
        method: SrMethod,
        channels: usize,
    ) -> Result<Box<dyn CoordinateNetwork>> {
        Ok(match method {
            SrMethod::Titan => Box::new(Titan::new(
                gpu,
                TitanConfig {
                    channels,
                    ..self.titan
                },
                self.seed,
            )?),
            SrMethod::Siren => Box::new(Siren::new(
                gpu,
                SirenConfig {
                    channels,
                    ..self.siren
                },
                self.seed,
            )?),
            SrMethod::Ffn => Box::new(Mlp::new(
                gpu,
                MlpConfig {
                    channels,
                    ..self.mlp
                },
                self.seed,
            )?),
            SrMethod::Relu => Box::new(Mlp::new(
                gpu,
                MlpConfig {
                    channels,
                    fourier_features: 0,
                    ..self.mlp
                },
                self.seed,
            )?),
            other => {
                return Err(Error::InvalidArgument {
                    name: "method",
                    value: other.name().to_string(),
                    expected: "a coordinate network (titan, siren, ffn or relu)".to_string(),
                })
            }
        })
    }
}

/// Settings of [`super_resolve`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SrConfig {
    /// Downsampling factor.
    pub scale: usize,
    /// Methods to run.
    pub methods: Vec<SrMethod>,
    /// Networks and training.
    pub networks: NetworkSettings,
    /// Side of the grid (over [-1, 1]^2) on which the Lipschitz estimate is
    /// taken; None uses the high-resolution pixel grid.
    pub lipschitz_grid: Option<usize>,
}

/// One method's result.
#[derive(Debug, Clone, Serialize)]
pub struct SrResult {
    /// The method.
    pub method: SrMethod,
    /// PSNR (dB) against the ground truth.
    pub psnr: f64,
    /// SSIM against the ground truth (Gaussian window, as scikit-image).
    pub ssim: f64,
    /// Largest Jacobian Frobenius norm over the Lipschitz grid (coordinate
    /// networks only).
    pub lipschitz: Option<f64>,
    /// Trained parameters.
    pub parameters: usize,
    /// Trained parameters that are not zero.
    pub nonzero_parameters: usize,
    /// Seconds of training (or interpolation).
    pub seconds: f64,
    /// Optimiser steps per second.
    pub steps_per_second: Option<f64>,
    /// Training loss of every step (empty for interpolation).
    #[serde(skip)]
    pub losses: Vec<f32>,
    /// The upscaled image.
    #[serde(skip)]
    pub image: Image,
}

/// The outcome of [`super_resolve`].
#[derive(Debug, Clone)]
pub struct SrReport {
    /// The ground truth after cropping to a multiple of the scale.
    pub ground_truth: Image,
    /// Pixels cropped from the right and bottom edges.
    pub cropped: (usize, usize),
    /// The low-resolution input.
    pub low_resolution: Image,
    /// One result per method, in the order asked for.
    pub results: Vec<SrResult>,
}

/// Runs the super-resolution protocol; `progress(method, step, loss)` is
/// called during training.
pub fn super_resolve(
    gpu: &Gpu,
    image: &Image,
    config: &SrConfig,
    progress: &mut dyn FnMut(SrMethod, usize, f32),
) -> Result<SrReport> {
    let scale = config.scale;
    if scale < 2 || scale > image.width().min(image.height()) {
        return Err(Error::InvalidArgument {
            name: "scale",
            value: scale.to_string(),
            expected: format!(
                "an integer from 2 to the image's smaller side ({})",
                image.width().min(image.height())
            ),
        });
    }
    if config.methods.is_empty() {
        return Err(Error::InvalidArgument {
            name: "methods",
            value: "none".to_string(),
            expected: "at least one method".to_string(),
        });
    }
    let (width, height) = (
        image.width() / scale * scale,
        image.height() / scale * scale,
    );
    let ground_truth = image.crop(0, 0, width, height)?;
    let low_resolution = area_downsample(&ground_truth, scale)?;
    let mut results = Vec::new();
    for &method in &config.methods {
        let result = match method {
            SrMethod::Bicubic | SrMethod::Bilinear => {
                interpolate(&ground_truth, &low_resolution, method)?
            }
            SrMethod::DeepDecoder => deep_decoder(
                gpu,
                &ground_truth,
                &low_resolution,
                scale,
                &config.networks,
                progress,
            )?,
            _ => coordinate_network(
                gpu,
                &ground_truth,
                &low_resolution,
                method,
                config,
                progress,
            )?,
        };
        results.push(result);
    }
    Ok(SrReport {
        cropped: (image.width() - width, image.height() - height),
        ground_truth,
        low_resolution,
        results,
    })
}

fn interpolate(ground_truth: &Image, low_resolution: &Image, method: SrMethod) -> Result<SrResult> {
    let started = Instant::now();
    let (width, height) = (ground_truth.width(), ground_truth.height());
    let image = if method == SrMethod::Bicubic {
        resize_bicubic(low_resolution, width, height)?
    } else {
        resize_bilinear(low_resolution, width, height)?
    };
    scored(
        method,
        ground_truth,
        image,
        started.elapsed().as_secs_f64(),
        Vec::new(),
        None,
        (0, 0),
    )
}

fn scored(
    method: SrMethod,
    ground_truth: &Image,
    image: Image,
    seconds: f64,
    losses: Vec<f32>,
    lipschitz: Option<f64>,
    (parameters, nonzero_parameters): (usize, usize),
) -> Result<SrResult> {
    let steps_per_second = (!losses.is_empty()).then(|| losses.len() as f64 / seconds.max(1e-12));
    Ok(SrResult {
        method,
        psnr: psnr(ground_truth, &image)?,
        ssim: ssim(ground_truth, &image)?,
        lipschitz,
        parameters,
        nonzero_parameters,
        seconds,
        steps_per_second,
        losses,
        image,
    })
}

/// Converts rendered N x C values to an image, clamped to [0, 1].
fn to_image(width: usize, height: usize, channels: usize, values: Vec<f32>) -> Result<Image> {
    Image::new(
        width,
        height,
        channels,
        values.into_iter().map(|v| v.clamp(0.0, 1.0)).collect(),
    )
}

fn coordinate_network(
    gpu: &Gpu,
    ground_truth: &Image,
    low_resolution: &Image,
    method: SrMethod,
    config: &SrConfig,
    progress: &mut dyn FnMut(SrMethod, usize, f32),
) -> Result<SrResult> {
    let channels = ground_truth.channels();
    let settings = &config.networks;
    let mut network = settings.network(gpu, method, channels)?;
    let mut fit_config = settings.fit_config();
    if method == SrMethod::Titan {
        fit_config.optimizer.l1 = settings.titan_l1;
    }
    let coordinates = coordinate_grid(low_resolution.width(), low_resolution.height());
    let report = fit(
        gpu,
        network.as_mut(),
        &coordinates,
        low_resolution.data(),
        &fit_config,
        &mut |step, loss| progress(method, step, loss),
    )?;

    let (width, height) = (ground_truth.width(), ground_truth.height());
    let rendered = render(gpu, network.as_ref(), &coordinate_grid(width, height))?;
    let image = to_image(width, height, channels, rendered)?;
    let lipschitz_points = match config.lipschitz_grid {
        Some(side) => coordinate_grid(side, side),
        None => coordinate_grid(width, height),
    };
    let lipschitz = lipschitz_estimate(gpu, network.as_ref(), &lipschitz_points)?;
    let counts = (
        network.store().trainable_count(),
        network.store().nonzero_count(gpu)?,
    );
    scored(
        method,
        ground_truth,
        image,
        report.seconds,
        report.losses,
        Some(lipschitz),
        counts,
    )
}

/// Number of x2 upsampling layers of the deep decoder for an output grid:
/// five (a 1/32 input grid, as in the study) or fewer when the size has
/// fewer factors of two.
pub fn deep_decoder_layers(width: usize, height: usize) -> usize {
    let twos = (width | height).trailing_zeros() as usize;
    twos.min(5)
}

fn deep_decoder(
    gpu: &Gpu,
    ground_truth: &Image,
    low_resolution: &Image,
    scale: usize,
    settings: &NetworkSettings,
    progress: &mut dyn FnMut(SrMethod, usize, f32),
) -> Result<SrResult> {
    let (width, height, channels) = (
        ground_truth.width(),
        ground_truth.height(),
        ground_truth.channels(),
    );
    let config = DeepDecoderConfig {
        channels: settings.deep_decoder_channels,
        layers: deep_decoder_layers(width, height),
        output_channels: channels,
        width,
        height,
    };
    let mut decoder = DeepDecoder::new(gpu, config, settings.seed)?;
    let mut builder = GraphBuilder::new(decoder.store());
    let image = decoder.build(&mut builder, NormStatistics::Batch)?;
    let measured = builder.area_downsample(image, width, height, scale, "measured")?;
    let (rows, columns) = builder.shape(measured);
    let target = builder.input(rows, columns, "low resolution")?;
    builder.set_loss(Loss::MeanSquaredError {
        prediction: measured,
        target,
    })?;
    let graph = builder.build(gpu)?;
    graph.set_input(gpu, target, low_resolution.data())?;

    let mut optimizer = Optimizer::new(settings.fit_config().optimizer)?;
    let history = gpu.create_buffer::<f32>(settings.iterations.max(1), "deep decoder losses")?;
    let started = Instant::now();
    for step in 0..settings.iterations {
        let mut recorder = gpu.recorder("deep decoder step");
        graph.record_forward(&mut recorder, decoder.store())?;
        let loss = graph.record_backward(&mut recorder, decoder.store())?;
        recorder.copy(&loss, 0, &history, step, 1)?;
        optimizer.record_step(&mut recorder, decoder.store_mut())?;
        recorder.submit()?;
        if (step + 1) % 25 == 0 {
            progress(
                SrMethod::DeepDecoder,
                step + 1,
                gpu.read_range(&history, step..step + 1)?[0] / graph.loss_count() as f32,
            );
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    let count = graph.loss_count() as f32;
    let losses = if settings.iterations == 0 {
        Vec::new()
    } else {
        gpu.read(&history)?
            .into_iter()
            .map(|sum| sum / count)
            .collect()
    };

    // The decoder's image is its output on the training grid (batch
    // statistics, as in training).
    let mut recorder = gpu.recorder("deep decoder output");
    graph.record_forward(&mut recorder, decoder.store())?;
    recorder.submit()?;
    let output = to_image(width, height, channels, graph.read(gpu, image)?)?;
    let counts = (
        decoder.store().trainable_count(),
        decoder.store().nonzero_count(gpu)?,
    );
    scored(
        SrMethod::DeepDecoder,
        ground_truth,
        output,
        seconds,
        losses,
        None,
        counts,
    )
}
