//! Noise schedules of denoising diffusion (Ho, Jain and Abbeel, "Denoising
//! Diffusion Probabilistic Models", NeurIPS 2020) and the coefficients of
//! ancestral sampling over all or a strided subset of the timesteps.
//!
//! Timesteps are numbered from 0 to T - 1, as in diffusers' DDPMScheduler:
//! q(x_t | x_0) = N(sqrt(alpha_bar_t) x_0, (1 - alpha_bar_t) I) with
//! alpha_bar_t = prod_{s <= t} (1 - beta_s).
//!
//! - linear: beta_t runs linearly from beta_start (t = 0) to beta_end
//!   (t = T - 1); Ho et al. use 1e-4 to 0.02 for T = 1000.
//! - cosine (Nichol and Dhariwal, "Improved Denoising Diffusion
//!   Probabilistic Models", ICML 2021, eq. 17): with
//!   f(u) = cos^2((u + s) / (1 + s) pi / 2),
//!   beta_t = min(1 - f((t + 1) / T) / f(t / T), 0.999), so that
//!   alpha_bar_t = f((t + 1) / T) / f(0) wherever the clip is inactive.
//!
//! Sampling with S < T steps visits the timesteps
//! t_i = i floor(T / S), i = S - 1, ..., 0 (diffusers' "leading" spacing)
//! and takes each step from t_i to the previous visited timestep with the
//! respaced beta' = 1 - alpha_bar_t / alpha_bar_prev (Nichol and Dhariwal,
//! section 4), which keeps the marginals q(x_t | x_0) of the visited steps.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Largest beta of the cosine schedule (Nichol and Dhariwal clip at 0.999
/// to avoid the singularity at t = T).
pub const COSINE_MAX_BETA: f64 = 0.999;

/// Kind of noise schedule.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum ScheduleKind {
    /// Linear betas from `beta_start` to `beta_end`.
    Linear {
        /// beta_0.
        beta_start: f64,
        /// beta_{T-1}.
        beta_end: f64,
    },
    /// The cosine schedule with offset s.
    Cosine {
        /// The small offset s (0.008 in Nichol and Dhariwal).
        offset: f64,
    },
}

impl ScheduleKind {
    /// Returns the linear schedule of Ho et al.: beta from 1e-4 to 0.02.
    pub fn linear() -> Self {
        ScheduleKind::Linear {
            beta_start: 1e-4,
            beta_end: 0.02,
        }
    }

    /// Returns the cosine schedule with s = 0.008.
    pub fn cosine() -> Self {
        ScheduleKind::Cosine { offset: 0.008 }
    }

    /// Parses `linear` or `cosine`.
    pub fn parse(name: &str) -> Result<Self> {
        match name {
            "linear" => Ok(Self::linear()),
            "cosine" => Ok(Self::cosine()),
            _ => Err(Error::InvalidArgument {
                name: "schedule",
                value: name.to_string(),
                expected: "linear or cosine".to_string(),
            }),
        }
    }
}

/// Evaluates the cosine schedule's f(u) = cos^2((u + s) / (1 + s) pi / 2).
pub fn cosine_alpha_bar_function(u: f64, offset: f64) -> f64 {
    ((u + offset) / (1.0 + offset) * std::f64::consts::FRAC_PI_2)
        .cos()
        .powi(2)
}

/// betas, alphas and alpha-bars of T timesteps, in float64.
#[derive(Debug, Clone, PartialEq)]
pub struct NoiseSchedule {
    kind: ScheduleKind,
    betas: Vec<f64>,
    alpha_bars: Vec<f64>,
}

/// The coefficients of one ancestral sampling step from timestep t to the
/// previous visited timestep (x_0 prediction clipped to the data range):
///
/// x0_hat = clip((x_t - sqrt(1 - alpha_bar_t) eps) / sqrt(alpha_bar_t)),
/// x_prev = x0_coefficient x0_hat + xt_coefficient x_t + sigma z,
///
/// the mean and the "fixed small" variance of q(x_prev | x_t, x_0) (Ho et
/// al., eq. 7).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SamplingStep {
    /// Timestep t of the input.
    pub timestep: usize,
    /// Timestep of the output (None: the output is the clean image).
    pub previous: Option<usize>,
    /// alpha_bar_t.
    pub alpha_bar: f64,
    /// alpha_bar of the previous timestep (1 for the last step).
    pub alpha_bar_previous: f64,
    /// sqrt(alpha_bar_prev) beta' / (1 - alpha_bar_t).
    pub x0_coefficient: f64,
    /// sqrt(1 - beta') (1 - alpha_bar_prev) / (1 - alpha_bar_t).
    pub xt_coefficient: f64,
    /// sqrt((1 - alpha_bar_prev) / (1 - alpha_bar_t) beta'), 0 at t = 0.
    pub sigma: f64,
}

impl NoiseSchedule {
    /// Builds the schedule of `kind` with `steps` timesteps (T).
    pub fn new(kind: ScheduleKind, steps: usize) -> Result<Self> {
        if !(2..=100_000).contains(&steps) {
            return Err(Error::InvalidArgument {
                name: "diffusion steps T",
                value: steps.to_string(),
                expected: "between 2 and 100000 (the study uses 500)".to_string(),
            });
        }
        let betas = match kind {
            ScheduleKind::Linear {
                beta_start,
                beta_end,
            } => {
                let valid = |beta: f64| beta > 0.0 && beta < 1.0;
                if !valid(beta_start) || !valid(beta_end) {
                    return Err(Error::InvalidArgument {
                        name: "linear schedule betas",
                        value: format!("{beta_start} to {beta_end}"),
                        expected: "betas in (0, 1), such as 1e-4 to 0.02".to_string(),
                    });
                }
                let slope = (beta_end - beta_start) / (steps - 1) as f64;
                (0..steps)
                    .map(|t| beta_start + slope * t as f64)
                    .collect::<Vec<f64>>()
            }
            ScheduleKind::Cosine { offset } => {
                if !(offset > 0.0 && offset < 1.0) {
                    return Err(Error::InvalidArgument {
                        name: "cosine schedule offset",
                        value: offset.to_string(),
                        expected: "an offset s in (0, 1), such as 0.008".to_string(),
                    });
                }
                let f = |t: usize| cosine_alpha_bar_function(t as f64 / steps as f64, offset);
                (0..steps)
                    .map(|t| (1.0 - f(t + 1) / f(t)).min(COSINE_MAX_BETA))
                    .collect()
            }
        };
        let mut product = 1.0;
        let alpha_bars = betas
            .iter()
            .map(|beta| {
                product *= 1.0 - beta;
                product
            })
            .collect();
        Ok(Self {
            kind,
            betas,
            alpha_bars,
        })
    }

    /// Returns the schedule's kind.
    pub fn kind(&self) -> ScheduleKind {
        self.kind
    }

    /// Number of timesteps T.
    pub fn steps(&self) -> usize {
        self.betas.len()
    }

    /// beta_t for t = 0 .. T - 1.
    pub fn betas(&self) -> &[f64] {
        &self.betas
    }

    /// alpha_t = 1 - beta_t.
    pub fn alphas(&self) -> Vec<f64> {
        self.betas.iter().map(|beta| 1.0 - beta).collect()
    }

    /// alpha_bar_t = prod_{s <= t} alpha_s.
    pub fn alpha_bars(&self) -> &[f64] {
        &self.alpha_bars
    }

    /// Returns the timesteps that sampling with `sampling_steps` steps visits, from
    /// the noisiest: i floor(T / S) for i = S - 1 down to 0.
    pub fn sampling_timesteps(&self, sampling_steps: usize) -> Result<Vec<usize>> {
        let steps = self.steps();
        if sampling_steps == 0 || sampling_steps > steps {
            return Err(Error::InvalidArgument {
                name: "sampling steps",
                value: sampling_steps.to_string(),
                expected: format!("between 1 and the diffusion steps T = {steps}"),
            });
        }
        let stride = steps / sampling_steps;
        Ok((0..sampling_steps).rev().map(|i| i * stride).collect())
    }

    /// Computes the coefficients of every step of ancestral sampling with
    /// `sampling_steps` steps (T for the full chain).
    pub fn sampling_plan(&self, sampling_steps: usize) -> Result<Vec<SamplingStep>> {
        let timesteps = self.sampling_timesteps(sampling_steps)?;
        let stride = self.steps() / sampling_steps;
        Ok(timesteps
            .iter()
            .map(|&t| {
                let previous = t.checked_sub(stride);
                self.step(t, previous)
            })
            .collect())
    }

    fn step(&self, timestep: usize, previous: Option<usize>) -> SamplingStep {
        let alpha_bar = self.alpha_bars[timestep];
        let alpha_bar_previous = previous.map_or(1.0, |p| self.alpha_bars[p]);
        let alpha = alpha_bar / alpha_bar_previous;
        let beta = 1.0 - alpha;
        let x0_coefficient = alpha_bar_previous.sqrt() * beta / (1.0 - alpha_bar);
        let xt_coefficient = alpha.sqrt() * (1.0 - alpha_bar_previous) / (1.0 - alpha_bar);
        let variance = ((1.0 - alpha_bar_previous) / (1.0 - alpha_bar) * beta).max(1e-20);
        SamplingStep {
            timestep,
            previous,
            alpha_bar,
            alpha_bar_previous,
            x0_coefficient,
            xt_coefficient,
            sigma: if timestep > 0 { variance.sqrt() } else { 0.0 },
        }
    }
}

/// Classifier-free guidance weight w for sampling bias lambda = 1 / (1 + w).
pub fn guidance_from_lambda(lambda: f64) -> Result<f64> {
    crate::generative::check_lambda(lambda)?;
    Ok(1.0 / lambda - 1.0)
}
