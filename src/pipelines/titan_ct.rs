//! Sparse-view CT with coordinate networks: the TITAN study's comparison of
//! filtered back-projection with SIREN, Fourier-feature MLPs and TITAN
//! fitted through the Radon transform (docs/titan.md).
//!
//! For each number of projection angles: the sinogram of the phantom (with
//! optional Gaussian measurement noise at a given SNR) is reconstructed by
//! FBP, and every network is fitted so that the Radon transform of its
//! rendered image matches the sinogram in mean squared error, with the
//! gradient brought back through the exact adjoint (back-projection). Every
//! reconstruction is clamped to [0, 1] and set to zero outside the inscribed
//! circle (where FBP gives zero too) before PSNR and SSIM are computed
//! against the phantom.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Instant;

use serde::Serialize;

use crate::ct::{add_noise, filtered_back_projection, FbpFilter, Radon, RadonGeometry};
use crate::error::{Error, Result};
use crate::gpu::{Gpu, GpuBuffer, Recorder};
use crate::imaging::{coordinate_grid, psnr, ssim, Image};
use crate::nn::{fit_through, render, FitConfig, LinearOperator, OptimizerConfig};

use super::titan::{NetworkSettings, SrMethod};

/// The Radon transform as a fixed linear measurement of a rendered image.
pub struct RadonOperator {
    radon: Radon,
}

impl RadonOperator {
    /// Wraps a transform.
    pub fn new(radon: Radon) -> Self {
        Self { radon }
    }
}

impl LinearOperator for RadonOperator {
    fn input_len(&self) -> usize {
        self.radon.geometry().image_len()
    }

    fn output_len(&self) -> usize {
        self.radon.geometry().sinogram_len()
    }

    fn forward(
        &self,
        recorder: &mut Recorder,
        input: &GpuBuffer<f32>,
        output: &GpuBuffer<f32>,
    ) -> Result<()> {
        self.radon.forward(recorder, input, output)
    }

    fn adjoint(
        &self,
        recorder: &mut Recorder,
        input: &GpuBuffer<f32>,
        output: &GpuBuffer<f32>,
    ) -> Result<()> {
        self.radon.adjoint(recorder, input, output)
    }
}

/// A CT reconstruction method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CtMethod {
    /// Filtered back-projection with the configured filter.
    Fbp,
    /// A coordinate network fitted through the Radon transform.
    Network(SrMethod),
}

impl CtMethod {
    /// Every method, in table order.
    pub const ALL: [CtMethod; 5] = [
        CtMethod::Fbp,
        CtMethod::Network(SrMethod::Siren),
        CtMethod::Network(SrMethod::Ffn),
        CtMethod::Network(SrMethod::Relu),
        CtMethod::Network(SrMethod::Titan),
    ];

    /// Name used on the command line and in tables.
    pub fn name(self) -> &'static str {
        match self {
            CtMethod::Fbp => "fbp",
            CtMethod::Network(method) => method.name(),
        }
    }
}

impl FromStr for CtMethod {
    type Err = Error;

    fn from_str(name: &str) -> Result<Self> {
        CtMethod::ALL
            .into_iter()
            .find(|method| method.name() == name)
            .ok_or_else(|| Error::InvalidArgument {
                name: "CT method",
                value: name.to_string(),
                expected: format!("one of {}", CtMethod::ALL.map(CtMethod::name).join(", ")),
            })
    }
}

/// Settings of [`reconstruct`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CtConfig {
    /// Numbers of projection angles, evenly spaced over [0, 180) degrees.
    pub angle_counts: Vec<usize>,
    /// Methods to compare.
    pub methods: Vec<CtMethod>,
    /// Filter of the FBP baseline.
    #[serde(serialize_with = "filter_name")]
    pub filter: FbpFilter,
    /// Measurement SNR in dB (None: noise-free).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub noise_snr_db: Option<f64>,
    /// Seed of the measurement noise.
    pub noise_seed: u64,
    /// Networks and training (output channels are 1).
    pub networks: NetworkSettings,
}

fn filter_name<S: serde::Serializer>(
    filter: &FbpFilter,
    serializer: S,
) -> std::result::Result<S::Ok, S::Error> {
    serializer.serialize_str(filter.name())
}

/// One reconstruction.
#[derive(Debug, Clone, Serialize)]
pub struct CtResult {
    /// Number of projection angles.
    pub angles: usize,
    /// The method.
    pub method: CtMethod,
    /// PSNR (dB) against the phantom.
    pub psnr: f64,
    /// SSIM against the phantom.
    pub ssim: f64,
    /// Seconds of reconstruction (training for networks).
    pub seconds: f64,
    /// Final training loss (sinogram mean squared error).
    pub final_loss: Option<f32>,
    /// The reconstruction (masked and clamped).
    #[serde(skip)]
    pub image: Image,
}

/// The outcome of [`reconstruct`].
#[derive(Debug, Clone)]
pub struct CtReport {
    /// The ground truth.
    pub phantom: Image,
    /// The measured sinogram (angles x detectors) of every angle count.
    pub sinograms: Vec<(RadonGeometry, Vec<f32>)>,
    /// Results, angle count by angle count, in the order of the methods.
    pub results: Vec<CtResult>,
}

fn validate(size: usize, phantom: &[f32], config: &CtConfig) -> Result<()> {
    if phantom.len() != size * size {
        return Err(Error::ShapeMismatch {
            operation: "CT reconstruction",
            message: format!(
                "the phantom has {} pixels, not {size} x {size}",
                phantom.len()
            ),
        });
    }
    if config.angle_counts.is_empty() || config.angle_counts.contains(&0) {
        return Err(Error::InvalidArgument {
            name: "angle counts",
            value: format!("{:?}", config.angle_counts),
            expected: "one or more positive numbers of projection angles, e.g. 20,50,100"
                .to_string(),
        });
    }
    if config.methods.is_empty() {
        return Err(Error::InvalidArgument {
            name: "CT methods",
            value: "none".to_string(),
            expected: "at least one method".to_string(),
        });
    }
    Ok(())
}

/// Sets pixels outside the inscribed circle to zero (centre and radius as
/// in FBP: pixel (size / 2, size / 2), radius size / 2) and clamps the rest
/// to [0, 1].
pub fn mask_to_disc(size: usize, pixels: &[f32]) -> Vec<f32> {
    let radius = (size / 2) as f64;
    pixels
        .iter()
        .enumerate()
        .map(|(index, &value)| {
            let (row, column) = (
                (index / size) as f64 - radius,
                (index % size) as f64 - radius,
            );
            if row * row + column * column > radius * radius {
                0.0
            } else {
                value.clamp(0.0, 1.0)
            }
        })
        .collect()
}

/// Runs the CT comparison on a size x size phantom (row-major, values in
/// [0, 1]); `progress(angles, method, step, loss)` reports training.
pub fn reconstruct(
    gpu: &Gpu,
    size: usize,
    phantom: &[f32],
    config: &CtConfig,
    progress: &mut dyn FnMut(usize, CtMethod, usize, f32),
) -> Result<CtReport> {
    validate(size, phantom, config)?;
    let truth = Image::new(size, size, 1, phantom.to_vec())?;
    let mut sinograms = Vec::new();
    let mut results = Vec::new();
    for &angles in &config.angle_counts {
        let geometry = RadonGeometry::uniform(size, angles);
        let radon = Radon::new(gpu, geometry.clone())?;
        let mut sinogram = radon.forward_host(gpu, phantom)?;
        if let Some(snr) = config.noise_snr_db {
            add_noise(
                &mut sinogram,
                snr,
                config.noise_seed.wrapping_add(angles as u64),
            )?;
        }
        let operator: Arc<dyn LinearOperator> = Arc::new(RadonOperator::new(radon));
        for &method in &config.methods {
            let started = Instant::now();
            let (pixels, final_loss) = match method {
                CtMethod::Fbp => (
                    filtered_back_projection(gpu, &geometry, &sinogram, config.filter)?,
                    None,
                ),
                CtMethod::Network(network) => fit_network(
                    gpu,
                    size,
                    network,
                    &operator,
                    &sinogram,
                    config,
                    &mut |step, loss| progress(angles, method, step, loss),
                )?,
            };
            let seconds = started.elapsed().as_secs_f64();
            let image = Image::new(size, size, 1, mask_to_disc(size, &pixels))?;
            results.push(CtResult {
                angles,
                method,
                psnr: psnr(&truth, &image)?,
                ssim: ssim(&truth, &image)?,
                seconds,
                final_loss,
                image,
            });
        }
        sinograms.push((geometry, sinogram));
    }
    Ok(CtReport {
        phantom: truth,
        sinograms,
        results,
    })
}

fn fit_network(
    gpu: &Gpu,
    size: usize,
    method: SrMethod,
    operator: &Arc<dyn LinearOperator>,
    sinogram: &[f32],
    config: &CtConfig,
    progress: &mut dyn FnMut(usize, f32),
) -> Result<(Vec<f32>, Option<f32>)> {
    let settings = &config.networks;
    let mut network = settings.network(gpu, method, 1)?;
    let fit_config = FitConfig {
        optimizer: OptimizerConfig {
            learning_rate: settings.learning_rate,
            l1: if method == SrMethod::Titan {
                settings.titan_l1
            } else {
                0.0
            },
            ..OptimizerConfig::default()
        },
        ..FitConfig::full_batch(settings.iterations)
    };
    let coordinates = coordinate_grid(size, size);
    let report = fit_through(
        gpu,
        network.as_mut(),
        &coordinates,
        operator.clone(),
        sinogram,
        &fit_config,
        progress,
    )?;
    let pixels = render(gpu, network.as_ref(), &coordinates)?;
    Ok((pixels, report.losses.last().copied()))
}
