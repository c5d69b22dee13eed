//! Ancestral sampling of the conditional denoiser on the GPU, with
//! classifier-free guidance (Ho and Salimans, 2022):
//! eps = (1 + w) eps(x_t, t, c) - w eps(x_t, t, null). The labelled and the
//! null-label halves go through the network as one batch of 2B rows, and one
//! fused kernel per step combines them and applies the update of
//! [`SamplingStep`](super::SamplingStep). Sampling bias lambda = 1 / (1 + w).
//!
//! Noise layout, so that a CPU reference can reproduce a run: for batch b
//! (images b B .. (b + 1) B, the last one padded) and step s = 0 .. S (0 is
//! the initial x_T), the noise is elements
//! `(b (S + 1) + s) ceil4(B pixels) ..` of Philox stream (seed, 0x73616d70)
//! in [`PhiloxStream::normal`](crate::random::PhiloxStream::normal)'s
//! numbering.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::gpu::Gpu;
use crate::ops::fill_normal;
use crate::random::PhiloxStream;

use super::denoiser::Denoiser;
use super::kernels::{record_noising, record_sampling_update, DenoiserInputs, GuidedUpdate};
use super::schedule::NoiseSchedule;
use super::training::block_aligned;

/// Philox stream id of the sampling noise.
pub const SAMPLING_STREAM: u64 = 0x7361_6d70;

/// Sampling steps recorded into one GPU submission.
const STEPS_PER_SUBMISSION: usize = 50;

/// Settings of [`sample_images`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SamplingConfig {
    /// Sampling steps S (T for the full ancestral chain; fewer visit a
    /// strided subset of the timesteps).
    pub steps: usize,
    /// Guidance weight w >= 0 (0 samples the conditional model unguided).
    pub guidance: f64,
    /// Images per batch (each batch is one graph of B or 2B rows).
    pub batch_size: usize,
    /// Seed of the noise.
    pub seed: u64,
}

impl SamplingConfig {
    /// Checks every field against the schedule.
    pub fn validate(&self, schedule: &NoiseSchedule) -> Result<()> {
        schedule.sampling_timesteps(self.steps)?;
        if !(self.guidance >= 0.0 && self.guidance.is_finite()) {
            return Err(Error::InvalidArgument {
                name: "guidance weight",
                value: self.guidance.to_string(),
                expected: "a finite weight w >= 0 (lambda = 1 / (1 + w))".to_string(),
            });
        }
        if self.batch_size == 0 || self.batch_size > 65_536 {
            return Err(Error::InvalidArgument {
                name: "sampling batch size",
                value: self.batch_size.to_string(),
                expected: "between 1 and 65536 images".to_string(),
            });
        }
        Ok(())
    }
}

/// Draws one image per entry of `labels` (classes 0 .. C - 1) and returns
/// them row-major, n x pixels, with values in [0, 1]. The last step clips
/// the predicted clean image to the model's range [-1, 1], which is then
/// mapped back to [0, 1].
pub fn sample_images(
    gpu: &Gpu,
    denoiser: &Denoiser,
    schedule: &NoiseSchedule,
    labels: &[u32],
    config: &SamplingConfig,
) -> Result<Vec<f32>> {
    config.validate(schedule)?;
    let classes = denoiser.config().classes;
    if let Some(&label) = labels.iter().find(|&&l| l as usize >= classes) {
        return Err(Error::InvalidArgument {
            name: "sampling label",
            value: label.to_string(),
            expected: format!("a class below {classes}"),
        });
    }
    if labels.is_empty() {
        return Ok(Vec::new());
    }
    let pixels = denoiser.config().pixels;
    let frequencies = denoiser.config().time_frequencies;
    let batch = config.batch_size.min(labels.len());
    let guidance = (config.guidance > 0.0).then_some(config.guidance);
    let blocks = if guidance.is_some() { 2 } else { 1 };
    let rows = blocks * batch;
    let plan = schedule.sampling_plan(config.steps)?;

    let network = denoiser.build_graph(gpu, rows, false)?;
    let graph = &network.graph;
    // One buffer of time phases per submission, so that no single buffer
    // grows with the number of steps past a binding's size limit.
    let mut phase_chunks = Vec::new();
    for steps in plan.chunks(STEPS_PER_SUBMISSION) {
        let mut phases = Vec::with_capacity(steps.len() * rows * frequencies);
        for step in steps {
            let row = denoiser.phases(step.timestep);
            for _ in 0..rows {
                phases.extend_from_slice(&row);
            }
        }
        phase_chunks.push(gpu.upload(&phases, "sampling time phases")?);
    }
    let noise = gpu.create_buffer::<f32>(batch * pixels, "sampling noise")?;
    // The initial x_T goes through the noising kernel (x_T = 0 x_0 + 1 z) so
    // that the skip input is formed with it; both halves get the same z.
    let zeros = gpu.create_buffer::<f32>(rows * pixels, "zero images")?;
    let initial_noise = gpu.create_buffer::<f32>(rows * pixels, "initial noise")?;
    let (a, b) = (
        plan[0].alpha_bar.sqrt() as f32,
        (1.0 - plan[0].alpha_bar).sqrt() as f32,
    );
    let initial_coefficients: Vec<f32> = (0..rows).flat_map(|_| [0.0, 1.0, a, b]).collect();
    let initial_coefficients = gpu.upload(&initial_coefficients, "initial noising coefficients")?;
    let stream = PhiloxStream::new(config.seed, SAMPLING_STREAM);
    let stride = block_aligned(batch * pixels) as u64;
    let inputs = DenoiserInputs {
        images: graph.value(network.images).buffer(),
        skip: graph.value(network.skip).buffer(),
    };
    let epsilon = graph.value(network.output).buffer();
    let phases_input = graph.value(network.phases).buffer();

    let mut output = Vec::with_capacity(labels.len() * pixels);
    for (batch_index, part) in labels.chunks(batch).enumerate() {
        let mut one_hot = Vec::with_capacity(rows * (classes + 1));
        for block in 0..blocks {
            for row in 0..batch {
                let label = match (block, part.get(row)) {
                    (0, Some(&label)) => label,
                    (0, None) => 0,
                    _ => denoiser.config().null_label(),
                };
                one_hot.extend(denoiser.one_hot(label)?);
            }
        }
        graph.set_input(gpu, network.labels, &one_hot)?;
        let first_offset = batch_index as u64 * (plan.len() as u64 + 1) * stride;

        let mut recorder = gpu.recorder("sampling: initial noise");
        fill_normal(&mut recorder, &noise, stream, first_offset)?;
        for block in 0..blocks {
            let size = batch * pixels;
            recorder.copy(&noise, 0, &initial_noise, block * size, size)?;
        }
        record_noising(
            &mut recorder,
            &zeros,
            &initial_noise,
            &initial_coefficients,
            denoiser.pixel_statistics(),
            inputs,
            rows,
            pixels,
        )?;
        for (index, step) in plan.iter().enumerate() {
            if index > 0 && index % STEPS_PER_SUBMISSION == 0 {
                recorder.submit()?;
                recorder = gpu.recorder("sampling steps");
            }
            let size = rows * frequencies;
            let phases = &phase_chunks[index / STEPS_PER_SUBMISSION];
            let offset = (index % STEPS_PER_SUBMISSION) * size;
            recorder.copy(phases, offset, phases_input, 0, size)?;
            graph.record_forward(&mut recorder, denoiser.store())?;
            let offset = first_offset + (index as u64 + 1) * stride;
            fill_normal(&mut recorder, &noise, stream, offset)?;
            let update = GuidedUpdate {
                step: *step,
                guidance,
                clip: (-1.0, 1.0),
                next_alpha_bar: plan.get(index + 1).map(|next| next.alpha_bar),
            };
            record_sampling_update(
                &mut recorder,
                epsilon,
                &noise,
                denoiser.pixel_statistics(),
                inputs,
                batch,
                pixels,
                &update,
            )?;
        }
        recorder.submit()?;
        let values = gpu.read_range(inputs.images, 0..part.len() * pixels)?;
        output.extend(
            values
                .into_iter()
                .map(|v| (0.5 * (v + 1.0)).clamp(0.0, 1.0)),
        );
    }
    Ok(output)
}

/// Labels 0, 1, .., C - 1, 0, 1, .. for `count` samples (equal class shares).
pub fn balanced_labels(count: usize, classes: usize) -> Vec<u32> {
    (0..count).map(|i| (i % classes.max(1)) as u32).collect()
}
