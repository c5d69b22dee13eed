//! The self-consuming loop engine for any [`GenerativeModel`].
//!
//! Generation 1 trains on real data only. Generation t > 1 trains on:
//!
//! - fully synthetic: `n_synthetic` samples of model t - 1;
//! - synthetic augmentation: a fixed real set of `n_real` points (the data of
//!   generation 1) plus `n_synthetic` samples of model t - 1, or of every
//!   earlier model (a pool that grows by `n_synthetic` per generation);
//! - fresh data: a new real draw of `n_real` points plus `n_synthetic`
//!   samples of model t - 1.
//!
//! Synthetic samples are drawn with bias lambda. Every draw comes from its
//! own Philox stream (seed, generation, purpose), so a run is reproducible
//! and any generation can be recomputed alone.

use serde::Serialize;

use crate::error::{Error, Result};
use crate::generative::{check_lambda, GenerativeModel, RealDistribution};
use crate::gpu::Gpu;

/// Source of augmentation's synthetic samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SyntheticSource {
    /// The previous generation's model only.
    LastModel,
    /// Every earlier model, accumulated.
    AllModels,
}

/// Loop family: how real and synthetic data are mixed after generation 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LoopFamily {
    /// Only the previous model's samples.
    FullySynthetic,
    /// A fixed real set plus synthetic samples.
    Augment(SyntheticSource),
    /// A new real draw plus synthetic samples.
    Fresh,
}

impl LoopFamily {
    /// Returns the family's command-line name.
    pub fn name(self) -> &'static str {
        match self {
            Self::FullySynthetic => "fully-synthetic",
            Self::Augment(SyntheticSource::LastModel) => "augment",
            Self::Augment(SyntheticSource::AllModels) => "augment-all",
            Self::Fresh => "fresh",
        }
    }

    /// Parses `fully-synthetic`, `augment` (last model), `augment-all` or `fresh`.
    pub fn parse(name: &str) -> Result<Self> {
        match name {
            "fully-synthetic" => Ok(Self::FullySynthetic),
            "augment" => Ok(Self::Augment(SyntheticSource::LastModel)),
            "augment-all" => Ok(Self::Augment(SyntheticSource::AllModels)),
            "fresh" => Ok(Self::Fresh),
            _ => Err(Error::InvalidArgument {
                name: "loop",
                value: name.to_string(),
                expected: "fully-synthetic, augment, augment-all or fresh".to_string(),
            }),
        }
    }
}

/// Sizes, bias and length of a loop.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LoopConfig {
    /// Loop family.
    pub family: LoopFamily,
    /// Real points per generation (fixed set for augmentation, new draw for fresh data).
    pub n_real: usize,
    /// Synthetic points per generation.
    pub n_synthetic: usize,
    /// Real points of generation 1 (augmentation uses `n_real` instead, its fixed set).
    pub n_initial: usize,
    /// Sampling bias in (0, 1].
    pub lambda: f64,
    /// Number of generations, generation 1 included.
    pub generations: usize,
    /// Seed of every draw.
    pub seed: u64,
}

impl LoopConfig {
    /// Checks sizes and lambda.
    pub fn validate(&self) -> Result<()> {
        check_lambda(self.lambda)?;
        if self.generations == 0 {
            return Err(Error::InvalidArgument {
                name: "generations",
                value: "0".into(),
                expected: "at least 1 generation".into(),
            });
        }
        let real_first = matches!(self.family, LoopFamily::Augment(_));
        let first = if real_first {
            self.n_real
        } else {
            self.n_initial
        };
        if first < 2 {
            return Err(Error::InvalidArgument {
                name: "n_initial",
                value: first.to_string(),
                expected: "at least 2 real points in generation 1".into(),
            });
        }
        if self.family == LoopFamily::FullySynthetic && self.n_synthetic < 2 && self.generations > 1
        {
            return Err(Error::InvalidArgument {
                name: "n_synthetic",
                value: self.n_synthetic.to_string(),
                expected: "at least 2 synthetic points per generation in a fully synthetic loop"
                    .into(),
            });
        }
        Ok(())
    }

    /// Stream of a draw: purpose 0 real, 1 synthetic.
    pub(crate) fn stream(&self, chain: u64, generation: usize, purpose: u64) -> (u64, u64) {
        (
            self.seed,
            (chain << 32) | ((generation as u64) << 4) | purpose,
        )
    }
}

/// The training data and samples of one generation of [`run_loop`].
#[derive(Debug, Clone)]
pub struct GenerationRecord {
    /// Generation number, from 1.
    pub generation: usize,
    /// Points the model of this generation was trained on.
    pub training_points: usize,
    /// `n_sample` samples of this generation's model, drawn with the loop's
    /// lambda as the next generation would draw them, for the metrics.
    pub samples: Vec<f32>,
}

/// Runs one self-consuming loop of `model` against `real`, calling
/// `on_generation` with each generation's record (for metrics, plots and
/// checkpoints) as soon as it is done.
pub fn run_loop(
    gpu: &Gpu,
    model: &mut dyn GenerativeModel,
    real: &RealDistribution,
    config: &LoopConfig,
    n_sample: usize,
    on_generation: &mut dyn FnMut(&GenerationRecord) -> Result<()>,
) -> Result<()> {
    config.validate()?;
    let dim = real.dim();
    let draw_real = |generation: usize, count: usize| {
        let (seed, stream) = config.stream(0, generation, 0);
        real.sample(gpu, count, seed ^ stream.rotate_left(17))
    };

    let first_size = if matches!(config.family, LoopFamily::Augment(_)) {
        config.n_real
    } else {
        config.n_initial
    };
    let fixed_real = draw_real(1, first_size)?;
    let mut pool: Vec<f32> = Vec::new();
    let mut training = fixed_real.clone();
    for generation in 1..=config.generations {
        if generation > 1 {
            let (seed, stream) = config.stream(0, generation, 1);
            let synthetic = model.sample(
                gpu,
                config.n_synthetic,
                config.lambda,
                seed ^ stream.rotate_left(29),
            )?;
            training = match config.family {
                LoopFamily::FullySynthetic => synthetic,
                LoopFamily::Augment(SyntheticSource::LastModel) => {
                    [fixed_real.as_slice(), &synthetic].concat()
                }
                LoopFamily::Augment(SyntheticSource::AllModels) => {
                    pool.extend_from_slice(&synthetic);
                    [fixed_real.as_slice(), &pool].concat()
                }
                LoopFamily::Fresh => [draw_real(generation, config.n_real)?, synthetic].concat(),
            };
        }
        model.fit(gpu, &training, dim)?;
        let (seed, stream) = config.stream(0, generation, 2);
        let samples = if n_sample > 0 {
            model.sample(gpu, n_sample, config.lambda, seed ^ stream.rotate_left(41))?
        } else {
            Vec::new()
        };
        on_generation(&GenerationRecord {
            generation,
            training_points: training.len() / dim,
            samples,
        })?;
    }
    Ok(())
}
