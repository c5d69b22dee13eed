//! Settings of a DDPM loop study, with their ranges and two presets.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::generative::ddpm::{ClassifierConfig, DenoiserConfig, ScheduleKind, TrainingConfig};
use crate::generative::{check_lambda, LoopFamily};
use crate::metrics::MAX_K;

/// Source of the MNIST images.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MnistSource {
    /// The 5000-digit subset bundled in the binary: a stratified 80% (4000
    /// digits) is the real pool, the other 1000 digits the held-out set.
    Bundled,
    /// The standard IDX files in a directory (gzip-compressed or not): the
    /// 60000 training digits are the real pool, the 10000 test digits the
    /// held-out set.
    Idx(PathBuf),
}

impl MnistSource {
    /// Parses `mnist` (bundled) or `mnist:DIR` (IDX files in DIR).
    pub fn parse(spec: &str) -> Result<Self> {
        if spec == "mnist" {
            return Ok(Self::Bundled);
        }
        match spec.strip_prefix("mnist:") {
            Some(dir) if !dir.is_empty() => Ok(Self::Idx(PathBuf::from(dir))),
            _ => Err(Error::InvalidArgument {
                name: "dataset",
                value: spec.to_string(),
                expected: "mnist (the bundled 5000-digit subset) or mnist:DIR (a directory with \
                           the four MNIST IDX files, gzip-compressed or not)"
                    .to_string(),
            }),
        }
    }
}

/// Denoiser training settings of every generation (the seed comes from the
/// study's seed and the generation).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct StudyTraining {
    /// Optimiser steps per generation.
    pub steps: usize,
    /// Images per step.
    pub batch_size: usize,
    /// Adam's step size.
    pub learning_rate: f32,
    /// Probability of training on the null label (0.1 in the study).
    pub label_dropout: f64,
}

impl StudyTraining {
    /// Returns the training settings with a given seed.
    pub fn with_seed(&self, seed: u64) -> TrainingConfig {
        TrainingConfig {
            steps: self.steps,
            batch_size: self.batch_size,
            learning_rate: self.learning_rate,
            label_dropout: self.label_dropout,
            seed,
        }
    }
}

/// Settings of a DDPM self-consuming loop study; see the module
/// documentation for the protocol.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DdpmStudyConfig {
    /// Real images.
    pub dataset: MnistSource,
    /// Loop family.
    pub family: LoopFamily,
    /// Sampling biases lambda in (0, 1]; each gets its own loop, and
    /// guidance w = 1 / lambda - 1.
    pub lambdas: Vec<f64>,
    /// Generations per loop, generation 1 included.
    pub generations: usize,
    /// Real images per generation (the fixed set of augmentation, or each
    /// fresh draw).
    pub n_real: usize,
    /// Synthetic images per generation.
    pub n_synthetic: usize,
    /// Real images of generation 1 (augmentation uses `n_real`).
    pub n_initial: usize,
    /// Held-out real images the metrics compare against.
    pub reference_samples: usize,
    /// Generated images scored per generation (the synthetic set is drawn
    /// with max(n_synthetic, metric_samples) images and scored on its first
    /// `metric_samples`).
    pub metric_samples: usize,
    /// Neighbours of the k-NN metrics.
    pub k: usize,
    /// Denoiser sizes.
    pub denoiser: DenoiserConfig,
    /// Noise schedule.
    pub schedule: ScheduleKind,
    /// Diffusion steps T.
    pub diffusion_steps: usize,
    /// Denoiser training per generation.
    pub training: StudyTraining,
    /// Sampling steps S <= T (strided ancestral sampling when S < T).
    pub sampling_steps: usize,
    /// Images per sampling batch.
    pub sampling_batch: usize,
    /// Feature network.
    pub classifier: ClassifierConfig,
    /// Images per class in each generation's sample grid.
    pub grid_per_class: usize,
    /// Seed of every draw.
    pub seed: u64,
}

impl DdpmStudyConfig {
    /// Returns a small fully synthetic study on the bundled subset (lambda = 1,
    /// three generations) that takes a few minutes on a software adapter.
    pub fn quick() -> Self {
        Self {
            dataset: MnistSource::Bundled,
            family: LoopFamily::FullySynthetic,
            lambdas: vec![1.0],
            generations: 3,
            n_real: 2000,
            n_synthetic: 500,
            n_initial: 2000,
            reference_samples: 500,
            metric_samples: 500,
            k: 5,
            denoiser: DenoiserConfig {
                time_frequencies: 16,
                ..DenoiserConfig::mnist(128, 2)
            },
            schedule: ScheduleKind::linear(),
            diffusion_steps: 500,
            training: StudyTraining {
                steps: 300,
                batch_size: 64,
                learning_rate: 2e-3,
                label_dropout: 0.1,
            },
            sampling_steps: 20,
            sampling_batch: 250,
            classifier: ClassifierConfig {
                hidden: 128,
                features: 64,
                epochs: 3,
                batch_size: 100,
                learning_rate: 1e-3,
            },
            grid_per_class: 8,
            seed: 0,
        }
    }

    /// Returns the sizes of the original MNIST experiment (T = 500, 60000 images
    /// per generation, lambda in {1, 0.8, 0.66, 0.5}, 20 generations) on
    /// the IDX files in `dir`. The denoiser is this crate's residual MLP,
    /// not the original U-Net; it needs a hardware GPU.
    pub fn full(dir: PathBuf) -> Self {
        Self {
            dataset: MnistSource::Idx(dir),
            lambdas: vec![1.0, 0.8, 0.66, 0.5],
            generations: 20,
            n_real: 60_000,
            n_synthetic: 60_000,
            n_initial: 60_000,
            reference_samples: 10_000,
            metric_samples: 10_000,
            denoiser: DenoiserConfig::mnist(1024, 4),
            training: StudyTraining {
                steps: 50_000,
                batch_size: 256,
                learning_rate: 1e-3,
                label_dropout: 0.1,
            },
            sampling_steps: 500,
            sampling_batch: 2000,
            classifier: ClassifierConfig {
                hidden: 256,
                features: 128,
                epochs: 10,
                batch_size: 128,
                learning_rate: 1e-3,
            },
            ..Self::quick()
        }
    }

    /// Real images generation 1 trains on.
    pub fn first_real(&self) -> usize {
        if matches!(self.family, LoopFamily::Augment(_)) {
            self.n_real
        } else {
            self.n_initial
        }
    }

    /// Images drawn from each generation's model.
    pub fn samples_per_generation(&self) -> usize {
        self.n_synthetic.max(self.metric_samples)
    }

    /// Checks every field's range (the sizes against the data come later,
    /// when the data is loaded).
    pub fn validate(&self) -> Result<()> {
        if self.lambdas.is_empty() || self.lambdas.len() > 16 {
            return Err(invalid(
                "lambdas",
                format!("{:?}", self.lambdas),
                "1 to 16 sampling biases",
            ));
        }
        for (index, &lambda) in self.lambdas.iter().enumerate() {
            check_lambda(lambda)?;
            if self.lambdas[..index].contains(&lambda) {
                return Err(invalid(
                    "lambdas",
                    format!("{:?}", self.lambdas),
                    "distinct values",
                ));
            }
        }
        let counts = [
            ("generations", self.generations, 1, 1000),
            (
                "reference samples",
                self.reference_samples,
                self.k + 1,
                1_000_000,
            ),
            ("metric samples", self.metric_samples, self.k + 1, 1_000_000),
            ("k", self.k, 1, MAX_K),
            ("sampling batch", self.sampling_batch, 1, 65_536),
            ("grid images per class", self.grid_per_class, 1, 64),
            (
                "first generation's real images",
                self.first_real(),
                10,
                10_000_000,
            ),
            ("synthetic images", self.n_synthetic, 0, 10_000_000),
            ("real images", self.n_real, 0, 10_000_000),
        ];
        for (name, value, low, high) in counts {
            if value < low || value > high {
                return Err(invalid(
                    name,
                    value.to_string(),
                    &format!("between {low} and {high}"),
                ));
            }
        }
        let later = match self.family {
            LoopFamily::FullySynthetic => self.n_synthetic,
            LoopFamily::Augment(_) | LoopFamily::Fresh => self.n_real + self.n_synthetic,
        };
        if self.generations > 1 && later < 10 {
            return Err(invalid(
                "training images after generation 1",
                later.to_string(),
                "at least 10 (raise --n-synth, or --n-real for augmentation and fresh data)",
            ));
        }
        if self.denoiser.classes != 10 || self.denoiser.pixels != crate::data::MNIST_PIXELS {
            return Err(invalid(
                "denoiser shape",
                format!(
                    "{} pixels, {} classes",
                    self.denoiser.pixels, self.denoiser.classes
                ),
                "784 pixels and 10 classes for MNIST",
            ));
        }
        self.denoiser.validate()?;
        self.classifier.validate()?;
        self.training.with_seed(0).validate()?;
        let schedule =
            crate::generative::ddpm::NoiseSchedule::new(self.schedule, self.diffusion_steps)?;
        schedule.sampling_timesteps(self.sampling_steps)?;
        Ok(())
    }
}

fn invalid(name: &'static str, value: String, expected: &str) -> Error {
    Error::InvalidArgument {
        name,
        value,
        expected: expected.to_string(),
    }
}
