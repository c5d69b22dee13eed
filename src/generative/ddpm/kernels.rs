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
    next_sqrt_alpha_bar: f32,
    next_sqrt_one_minus_alpha_bar: f32,
    padding1: [f32; 2],
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
/// the denoiser reads and its skip input (see [`PixelStatistics`]).
#[derive(Debug, Clone, Copy)]
pub struct DenoiserInputs<'a> {
    /// x_t.
    pub images: &'a GpuBuffer<f32>,
    /// The Gaussian noise prediction b (x_t - a m) / (a^2 v + b^2).
    pub skip: &'a GpuBuffer<f32>,
}

/// Per-pixel mean m and variance v of the training images (in the model's
/// [-1, 1] range), which define the skip input
/// E[eps | x_t] = b (x_t - a m) / (a^2 v + b^2) with a = sqrt(alpha_bar_t)
/// and b = sqrt(1 - alpha_bar_t), the noise prediction of a Gaussian with
/// independent pixels.
#[derive(Debug, Clone, Copy)]
pub struct PixelStatistics<'a> {
    /// m, one value per pixel.
    pub mean: &'a GpuBuffer<f32>,
    /// v, one value per pixel.
    pub variance: &'a GpuBuffer<f32>,
}

impl PixelStatistics<'_> {
    fn check(&self, what: &'static str, columns: usize) -> Result<()> {
        check_len(what, self.mean, columns)?;
        check_len(what, self.variance, columns)
    }
}

/// Records x_t = c[4r] x_0 + c[4r + 1] eps for every row r of a
/// rows x columns batch, with `coefficients` holding (sqrt(alpha_bar_t),
/// sqrt(1 - alpha_bar_t)) of the noising and then (a, b) of the skip
/// input per row.
#[allow(clippy::too_many_arguments)]
pub fn record_noising(
    recorder: &mut Recorder,
    clean: &GpuBuffer<f32>,
    noise: &GpuBuffer<f32>,
    coefficients: &GpuBuffer<f32>,
    statistics: PixelStatistics,
    outputs: DenoiserInputs,
    rows: usize,
    columns: usize,
) -> Result<()> {
    let count = rows * columns;
    check_len("ddpm noising", clean, count)?;
    check_len("ddpm noising", noise, count)?;
    check_len("ddpm noising", outputs.images, count)?;
    check_len("ddpm noising", outputs.skip, count)?;
    check_len("ddpm noising", coefficients, 4 * rows)?;
    statistics.check("ddpm noising", columns)?;
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
            (6, statistics.mean.raw()),
            (7, statistics.variance.raw()),
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
    /// alpha_bar of the output's timestep, for its skip input (None after
    /// the last step: the skip input is then 0).
    pub next_alpha_bar: Option<f64>,
}

/// Records one ancestral sampling step on `rows` images of `columns`
/// values. `samples.images` contains x_t and receives x_prev, and
/// `samples.skip` the skip input of x_prev. With guidance, `epsilon` and
/// the samples have 2 rows blocks (labelled, then null label) and both
/// halves receive the result; `noise` holds rows x columns standard normal
/// values.
#[allow(clippy::too_many_arguments)]
pub fn record_sampling_update(
    recorder: &mut Recorder,
    epsilon: &GpuBuffer<f32>,
    noise: &GpuBuffer<f32>,
    statistics: PixelStatistics,
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
    statistics.check("ddpm sampling update", columns)?;
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
        next_sqrt_alpha_bar: update.next_alpha_bar.map_or(0.0, f64::sqrt) as f32,
        next_sqrt_one_minus_alpha_bar: update.next_alpha_bar.map_or(0.0, |a| (1.0 - a).sqrt())
            as f32,
        padding1: [0.0; 2],
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
            (6, statistics.mean.raw()),
            (7, statistics.variance.raw()),
        ],
        grid,
        "ddpm_update",
    )
}
