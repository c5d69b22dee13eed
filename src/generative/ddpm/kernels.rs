//! Wrappers that record the kernels of `shaders/ddpm.wgsl`: forward noising
//! of a training batch and the guided ancestral update of a sampling step.

use bytemuck::{Pod, Zeroable};

use crate::error::{Error, Result};
use crate::gpu::{grid_1d, GpuBuffer, Recorder};
use crate::shaders;

use super::schedule::SamplingStep;

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable, Default)]
struct DdpmParams {
    rows: u32,
    columns: u32,
    guided: u32,
    padding: u32,
    guidance: f32,
    inverse_sqrt_alpha_bar: f32,
    sqrt_one_minus_alpha_bar: f32,
    x0_coefficient: f32,
    xt_coefficient: f32,
    sigma: f32,
    clip_low: f32,
    clip_high: f32,
    next_skip: f32,
    padding1: [f32; 3],
}

fn check_len(what: &'static str, buffer: &GpuBuffer<f32>, needed: usize) -> Result<()> {
    if buffer.len() < needed {
        return Err(Error::ShapeMismatch {
            operation: what,
            message: format!(
                "buffer {:?} has {} values but {needed} are needed",
                buffer.label(),
                buffer.len()
            ),
        });
    }
    Ok(())
}

/// The output buffers of a noising or sampling kernel: the images x_t that
/// the denoiser reads and its skip input c(t) x_t.
#[derive(Debug, Clone, Copy)]
pub struct DenoiserInputs<'a> {
    /// x_t.
    pub images: &'a GpuBuffer<f32>,
    /// c(t) x_t.
    pub skip: &'a GpuBuffer<f32>,
}

/// Records x_t = c[3r] x_0 + c[3r + 1] eps and skip = c[3r + 2] x_t for every
/// row r of a rows x columns batch, with `coefficients` holding
/// (sqrt(alpha_bar_t), sqrt(1 - alpha_bar_t), skip coefficient) per row.
pub fn record_noising(
    recorder: &mut Recorder,
    clean: &GpuBuffer<f32>,
    noise: &GpuBuffer<f32>,
    coefficients: &GpuBuffer<f32>,
    outputs: DenoiserInputs,
    rows: usize,
    columns: usize,
) -> Result<()> {
    let count = rows * columns;
    check_len("ddpm noising", clean, count)?;
    check_len("ddpm noising", noise, count)?;
    check_len("ddpm noising", outputs.images, count)?;
    check_len("ddpm noising", outputs.skip, count)?;
    check_len("ddpm noising", coefficients, 3 * rows)?;
    let params = DdpmParams {
        rows: rows as u32,
        columns: columns as u32,
        ..DdpmParams::default()
    };
    let gpu = recorder.gpu();
    let kernel = gpu.kernel(&shaders::DDPM, "ddpm_noising", &[])?;
    let uniform = recorder.uniform(&params)?;
    let grid = grid_1d(gpu, count, "ddpm_noising")?;
    recorder.dispatch(
        &kernel,
        &[
            (0, clean.raw()),
            (1, noise.raw()),
            (2, coefficients.raw()),
            (3, outputs.images.raw()),
            (4, outputs.skip.raw()),
            (5, &uniform),
        ],
        grid,
        "ddpm_noising",
    )
}

/// One guided sampling update, as [`record_sampling_update`] applies it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GuidedUpdate {
    /// The step's coefficients.
    pub step: SamplingStep,
    /// Classifier-free guidance weight w (None: no null-label half).
    pub guidance: Option<f64>,
    /// Range the predicted clean image is clipped to.
    pub clip: (f32, f32),
    /// Skip coefficient c(t) of the output's timestep (0 after the last step).
    pub next_skip: f64,
}

/// Records one ancestral sampling step on `rows` images of `columns`
/// values. `samples.images` holds x_t and receives x_prev, and
/// `samples.skip` receives `next_skip` x_prev. With guidance, `epsilon` and
/// the samples have 2 rows blocks (labelled, then null label) and both
/// halves receive the result; `noise` holds rows x columns standard normal
/// values.
pub fn record_sampling_update(
    recorder: &mut Recorder,
    epsilon: &GpuBuffer<f32>,
    noise: &GpuBuffer<f32>,
    samples: DenoiserInputs,
    rows: usize,
    columns: usize,
    update: &GuidedUpdate,
) -> Result<()> {
    let count = rows * columns;
    let blocks = if update.guidance.is_some() { 2 } else { 1 };
    check_len("ddpm sampling update", epsilon, blocks * count)?;
    check_len("ddpm sampling update", samples.images, blocks * count)?;
    check_len("ddpm sampling update", samples.skip, blocks * count)?;
    check_len("ddpm sampling update", noise, count)?;
    let step = &update.step;
    let params = DdpmParams {
        rows: rows as u32,
        columns: columns as u32,
        guided: u32::from(update.guidance.is_some()),
        padding: 0,
        guidance: update.guidance.unwrap_or(0.0) as f32,
        inverse_sqrt_alpha_bar: (1.0 / step.alpha_bar.sqrt()) as f32,
        sqrt_one_minus_alpha_bar: (1.0 - step.alpha_bar).sqrt() as f32,
        x0_coefficient: step.x0_coefficient as f32,
        xt_coefficient: step.xt_coefficient as f32,
        sigma: step.sigma as f32,
        clip_low: update.clip.0,
        clip_high: update.clip.1,
        next_skip: update.next_skip as f32,
        padding1: [0.0; 3],
    };
    let gpu = recorder.gpu();
    let kernel = gpu.kernel(&shaders::DDPM, "ddpm_update", &[])?;
    let uniform = recorder.uniform(&params)?;
    let grid = grid_1d(gpu, count, "ddpm_update")?;
    recorder.dispatch(
        &kernel,
        &[
            (0, epsilon.raw()),
            (1, noise.raw()),
            (3, samples.images.raw()),
            (4, samples.skip.raw()),
            (5, &uniform),
        ],
        grid,
        "ddpm_update",
    )
}
