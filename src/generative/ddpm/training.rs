//! Training the denoiser on the GPU with the simplified DDPM objective
//! (Ho et al., eq. 14): for a clean image x_0, a timestep t uniform on
//! {0, .., T - 1} and eps ~ N(0, I), minimise the mean squared error between
//! eps and eps_theta(sqrt(alpha_bar_t) x_0 + sqrt(1 - alpha_bar_t) eps, t, c),
//! with Adam. For classifier-free guidance (Ho and Salimans, 2022) each
//! label is replaced by the null label with probability `label_dropout`.
//!
//! The noise is drawn on the GPU (Philox) and the noisy batch is formed
//! there. The host sends only the clean images, labels and timesteps, for
//! many steps per submission.

use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::gpu::{Gpu, GpuBuffer};
use crate::nn::{Optimizer, OptimizerConfig};
use crate::ops::fill_normal;
use crate::random::{uniform_from_bits, PhiloxStream};

use super::denoiser::{Denoiser, DenoiserGraph};
use super::kernels::{record_noising, DenoiserInputs};
use super::schedule::NoiseSchedule;

/// Philox stream ids of the training draws (under the training seed).
const BATCH_STREAM: u64 = 0x7472_6169;
const NOISE_STREAM: u64 = 0x6e6f_6973;

/// Steps recorded into one GPU submission.
const STEPS_PER_SUBMISSION: usize = 16;

/// Settings of [`train_denoiser`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TrainingConfig {
    /// Optimiser steps.
    pub steps: usize,
    /// Images per step.
    pub batch_size: usize,
    /// Adam's step size.
    pub learning_rate: f32,
    /// Probability of replacing a label by the null label.
    pub label_dropout: f64,
    /// Seed of the batch, timestep, dropout and noise draws.
    pub seed: u64,
}

impl TrainingConfig {
    /// Checks every field.
    pub fn validate(&self) -> Result<()> {
        if self.steps == 0 || self.steps > 100_000_000 {
            return Err(Error::InvalidArgument {
                name: "training steps",
                value: self.steps.to_string(),
                expected: "between 1 and 1e8".to_string(),
            });
        }
        if self.batch_size == 0 || self.batch_size > 65_536 {
            return Err(Error::InvalidArgument {
                name: "batch size",
                value: self.batch_size.to_string(),
                expected: "between 1 and 65536 images per step".to_string(),
            });
        }
        if !(self.label_dropout >= 0.0 && self.label_dropout < 1.0) {
            return Err(Error::InvalidArgument {
                name: "label dropout",
                value: self.label_dropout.to_string(),
                expected: "a probability in [0, 1) (0.1 in the study)".to_string(),
            });
        }
        OptimizerConfig {
            learning_rate: self.learning_rate,
            ..OptimizerConfig::default()
        }
        .validate()
    }
}

/// Loss history of a training run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrainingReport {
    /// Mean squared error of every step, before its update.
    pub losses: Vec<f32>,
    /// Wall-clock seconds.
    pub seconds: f64,
}

/// One training batch. `images` are scaled to the model's data range
/// [-1, 1], B x pixels; `labels` are classes or the null label; `timesteps`
/// lie in 0 .. T.
#[derive(Debug, Clone, Copy)]
pub struct TrainingBatch<'a> {
    /// Clean images x_0.
    pub images: &'a [f32],
    /// Labels c (the null label `classes` for unconditional rows).
    pub labels: &'a [u32],
    /// Timesteps t.
    pub timesteps: &'a [usize],
}

/// A training graph with its optimiser, for steps on caller-chosen batches.
///
/// The noise of the k-th step (counting every step this trainer ran) is
/// element `k * ceil4(B pixels) + i` of Philox stream `noise` for entry i
/// of the batch, as [`PhiloxStream::normal`] numbers them.
pub struct DenoiserTrainer {
    graph: DenoiserGraph,
    optimizer: Optimizer,
    clean: GpuBuffer<f32>,
    coefficients: GpuBuffer<f32>,
    noise: PhiloxStream,
    steps: usize,
    alpha_bars: Vec<f64>,
}

/// `count` rounded up to a multiple of 4 (random streams start on blocks of 4).
pub(crate) fn block_aligned(count: usize) -> usize {
    count.div_ceil(4) * 4
}

impl DenoiserTrainer {
    /// Builds the training graph for batches of `batch_size` images.
    pub fn new(
        gpu: &Gpu,
        denoiser: &Denoiser,
        schedule: &NoiseSchedule,
        batch_size: usize,
        optimizer: OptimizerConfig,
        noise: PhiloxStream,
    ) -> Result<Self> {
        let pixels = denoiser.config().pixels;
        Ok(Self {
            graph: denoiser.build_graph(gpu, batch_size, true)?,
            optimizer: Optimizer::new(optimizer)?,
            clean: gpu.create_buffer(batch_size * pixels, "clean images")?,
            coefficients: gpu.create_buffer(batch_size * 4, "noising coefficients")?,
            noise,
            steps: 0,
            alpha_bars: schedule.alpha_bars().to_vec(),
        })
    }

    /// Returns the training graph (its inputs contain the last batch after a step).
    pub fn graph(&self) -> &DenoiserGraph {
        &self.graph
    }

    /// Steps taken so far.
    pub fn steps(&self) -> usize {
        self.steps
    }

    fn check_batch(&self, denoiser: &Denoiser, batch: &TrainingBatch) -> Result<()> {
        let rows = self.graph.rows;
        let pixels = denoiser.config().pixels;
        if batch.images.len() != rows * pixels
            || batch.labels.len() != rows
            || batch.timesteps.len() != rows
        {
            return Err(Error::ShapeMismatch {
                operation: "denoiser training batch",
                message: format!(
                    "{} image values, {} labels and {} timesteps for a batch of {rows} images of {pixels} values",
                    batch.images.len(),
                    batch.labels.len(),
                    batch.timesteps.len()
                ),
            });
        }
        if let Some(&t) = batch
            .timesteps
            .iter()
            .find(|&&t| t >= self.alpha_bars.len())
        {
            return Err(Error::InvalidArgument {
                name: "timestep",
                value: t.to_string(),
                expected: format!("a timestep below T = {}", self.alpha_bars.len()),
            });
        }
        if let Some(position) = batch.images.iter().position(|v| !v.is_finite()) {
            return Err(Error::InvalidArgument {
                name: "training image value",
                value: format!("{} at index {position}", batch.images[position]),
                expected: "finite pixel values".to_string(),
            });
        }
        Ok(())
    }

    /// Runs one optimiser step per batch, all in one submission, and returns
    /// each step's mean loss (measured before its update).
    pub fn run(
        &mut self,
        gpu: &Gpu,
        denoiser: &mut Denoiser,
        batches: &[TrainingBatch],
    ) -> Result<Vec<f32>> {
        if batches.is_empty() {
            return Ok(Vec::new());
        }
        let rows = self.graph.rows;
        let pixels = denoiser.config().pixels;
        let frequencies = denoiser.config().time_frequencies;
        let classes = denoiser.config().classes + 1;
        let mut clean = Vec::with_capacity(batches.len() * rows * pixels);
        let mut coefficients = Vec::with_capacity(batches.len() * rows * 4);
        let mut phases = Vec::with_capacity(batches.len() * rows * frequencies);
        let mut one_hot = Vec::with_capacity(batches.len() * rows * classes);
        for batch in batches {
            self.check_batch(denoiser, batch)?;
            clean.extend_from_slice(batch.images);
            for (&t, &label) in batch.timesteps.iter().zip(batch.labels) {
                let alpha_bar = self.alpha_bars[t];
                let (a, b) = (alpha_bar.sqrt() as f32, (1.0 - alpha_bar).sqrt() as f32);
                coefficients.extend_from_slice(&[a, b, a, b]);
                phases.extend(denoiser.phases(t));
                one_hot.extend(denoiser.one_hot(label)?);
            }
        }
        let clean = gpu.upload(&clean, "clean image batches")?;
        let coefficients = gpu.upload(&coefficients, "noising coefficient batches")?;
        let phases = gpu.upload(&phases, "time phase batches")?;
        let one_hot = gpu.upload(&one_hot, "label batches")?;
        let history = gpu.create_buffer::<f32>(batches.len(), "loss history")?;

        let graph = &self.graph.graph;
        let inputs = DenoiserInputs {
            images: graph.value(self.graph.images).buffer(),
            skip: graph.value(self.graph.skip).buffer(),
        };
        let target = graph
            .value(self.graph.target.expect("trainers build training graphs"))
            .buffer();
        let mut recorder = gpu.recorder("denoiser training steps");
        for index in 0..batches.len() {
            recorder.copy(&clean, index * rows * pixels, &self.clean, 0, rows * pixels)?;
            recorder.copy(
                &coefficients,
                index * rows * 4,
                &self.coefficients,
                0,
                rows * 4,
            )?;
            let phases_input = graph.value(self.graph.phases).buffer();
            recorder.copy(
                &phases,
                index * rows * frequencies,
                phases_input,
                0,
                rows * frequencies,
            )?;
            let labels_input = graph.value(self.graph.labels).buffer();
            recorder.copy(
                &one_hot,
                index * rows * classes,
                labels_input,
                0,
                rows * classes,
            )?;
            let offset = (self.steps + index) * block_aligned(rows * pixels);
            fill_normal(&mut recorder, target, self.noise, offset as u64)?;
            record_noising(
                &mut recorder,
                &self.clean,
                target,
                &self.coefficients,
                denoiser.pixel_statistics(),
                inputs,
                rows,
                pixels,
            )?;
            graph.record_forward(&mut recorder, denoiser.store())?;
            let loss = graph.record_backward(&mut recorder, denoiser.store())?;
            recorder.copy(&loss, 0, &history, index, 1)?;
            self.optimizer
                .record_step(&mut recorder, denoiser.store_mut())?;
        }
        recorder.submit()?;
        self.steps += batches.len();
        let count = graph.loss_count() as f32;
        Ok(gpu
            .read(&history)?
            .into_iter()
            .map(|sum| sum / count)
            .collect())
    }
}

/// Trains `denoiser` on `images` (n x pixels, values in [0, 1], mapped to
/// [-1, 1]) with class `labels`, after setting its skip input's per-pixel
/// statistics to those of the mapped images. Each step draws `batch_size` images
/// uniformly with replacement, a timestep per image and the label dropout
/// from Philox stream (seed, batch stream), so a run is reproducible.
/// `progress` receives (steps done, mean loss of the last submission).
pub fn train_denoiser(
    gpu: &Gpu,
    denoiser: &mut Denoiser,
    schedule: &NoiseSchedule,
    images: &[f32],
    labels: &[u32],
    config: &TrainingConfig,
    progress: &mut dyn FnMut(usize, f32),
) -> Result<TrainingReport> {
    config.validate()?;
    let pixels = denoiser.config().pixels;
    let count = crate::generative::check_points(images, pixels, 1, "training images")?;
    if labels.len() != count {
        return Err(Error::ShapeMismatch {
            operation: "train_denoiser",
            message: format!("{count} images but {} labels", labels.len()),
        });
    }
    if let Some(&label) = labels
        .iter()
        .find(|&&l| l as usize >= denoiser.config().classes)
    {
        return Err(Error::InvalidArgument {
            name: "training label",
            value: label.to_string(),
            expected: format!("a class below {}", denoiser.config().classes),
        });
    }

    let scaled: Vec<f32> = images.iter().map(|&value| 2.0 * value - 1.0).collect();
    denoiser.fit_pixel_statistics(gpu, &scaled)?;
    drop(scaled);

    let optimizer = OptimizerConfig {
        learning_rate: config.learning_rate,
        ..OptimizerConfig::default()
    };
    let mut trainer = DenoiserTrainer::new(
        gpu,
        denoiser,
        schedule,
        config.batch_size,
        optimizer,
        PhiloxStream::new(config.seed, NOISE_STREAM),
    )?;
    let draws = PhiloxStream::new(config.seed, BATCH_STREAM);
    let rows = config.batch_size;
    let null = denoiser.config().null_label();
    let steps_total = schedule.steps();
    let started = Instant::now();
    let mut losses = Vec::with_capacity(config.steps);
    let mut step = 0;
    while step < config.steps {
        let chunk = STEPS_PER_SUBMISSION.min(config.steps - step);
        let mut batch_images = vec![0.0f32; chunk * rows * pixels];
        let mut batch_labels = vec![0u32; chunk * rows];
        let mut batch_timesteps = vec![0usize; chunk * rows];
        for k in 0..chunk {
            let bits = draws.bits(((step + k) * rows * 3) as u64, rows * 3);
            for r in 0..rows {
                let slot = k * rows + r;
                let index = bits[3 * r] as usize % count;
                let source = &images[index * pixels..(index + 1) * pixels];
                for (out, &value) in batch_images[slot * pixels..(slot + 1) * pixels]
                    .iter_mut()
                    .zip(source)
                {
                    *out = 2.0 * value - 1.0;
                }
                batch_timesteps[slot] = bits[3 * r + 1] as usize % steps_total;
                let dropped = f64::from(uniform_from_bits(bits[3 * r + 2])) < config.label_dropout;
                batch_labels[slot] = if dropped { null } else { labels[index] };
            }
        }
        let batches: Vec<TrainingBatch> = (0..chunk)
            .map(|k| TrainingBatch {
                images: &batch_images[k * rows * pixels..(k + 1) * rows * pixels],
                labels: &batch_labels[k * rows..(k + 1) * rows],
                timesteps: &batch_timesteps[k * rows..(k + 1) * rows],
            })
            .collect();
        let chunk_losses = trainer.run(gpu, denoiser, &batches)?;
        let last = *chunk_losses.last().expect("a chunk has at least one step");
        if !last.is_finite() {
            return Err(Error::InvalidArgument {
                name: "learning_rate",
                value: config.learning_rate.to_string(),
                expected: format!(
                    "a value small enough that training stays finite (the loss became {last} at step {})",
                    step + chunk
                ),
            });
        }
        losses.extend(chunk_losses);
        step += chunk;
        let mean = losses[step - chunk..].iter().sum::<f32>() / chunk as f32;
        progress(step, mean);
    }
    Ok(TrainingReport {
        losses,
        seconds: started.elapsed().as_secs_f64(),
    })
}
