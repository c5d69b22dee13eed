//! MAD: self-consuming loops of generative models, scored each generation.
//!
//! Every generation's model is measured against a held-out real reference
//! sample by k-NN precision, recall, density and coverage and by the
//! Fréchet distance between the two samples' Gaussians. Gaussian models of
//! Gaussian data also get the exact 2-Wasserstein distance to the real
//! distribution and the covariance trace for every chain; samples from the
//! 25-mode grid get the number of modes they still cover.

use serde::Serialize;

use crate::error::{Error, Result};
use crate::generative::{
    recovered_modes, run_gaussian_chains, run_loop, Gaussian, GaussianMixture, GenerativeModel,
    GmmOptions, LoopConfig, RealDistribution,
};
use crate::gpu::Gpu;
use crate::metrics::{frechet_distance, gaussian_statistics, prdc, GaussianStatistics};

/// The generative model of the loop.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MadModel {
    /// Multivariate Gaussian (unbiased mean and covariance).
    Gaussian,
    /// Gaussian mixture fitted by EM.
    Gmm(GmmOptions),
}

/// Settings of [`run_mad`].
#[derive(Debug, Clone, Copy, Serialize)]
pub struct MadConfig {
    /// Model trained in every generation.
    pub model: MadModel,
    /// Loop family, sizes, lambda, generations and seed.
    pub loop_config: LoopConfig,
    /// Independent chains.
    pub chains: usize,
    /// Chains whose samples are scored by k-NN metrics and the Fréchet
    /// distance (the others, for Gaussian chains, get the closed-form
    /// distance only).
    pub scored_chains: usize,
    /// Size of the real reference sample and of each scored generated sample.
    pub metric_samples: usize,
    /// Neighbours of the k-NN metrics.
    pub k: usize,
}

/// Scores of one chain in one generation.
#[derive(Debug, Clone, Serialize)]
pub struct GenerationMetrics {
    /// Generation, from 1.
    pub generation: usize,
    /// Chain index.
    pub chain: usize,
    /// k-NN precision (share of generated points inside real balls).
    pub precision: Option<f64>,
    /// k-NN recall (share of real points inside generated balls).
    pub recall: Option<f64>,
    /// Density (Naeem et al., 2020).
    pub density: Option<f64>,
    /// Coverage (Naeem et al., 2020).
    pub coverage: Option<f64>,
    /// Fréchet distance between the Gaussians of the real and generated samples.
    pub frechet: Option<f64>,
    /// Exact 2-Wasserstein distance of a Gaussian model to a Gaussian real distribution.
    pub wasserstein2: Option<f64>,
    /// Trace of a Gaussian model's covariance.
    pub trace: Option<f64>,
    /// Grid modes covered by the generated sample (25-mode grid only).
    pub modes: Option<usize>,
}

/// Output of [`run_mad`].
#[derive(Debug, Clone, Serialize)]
pub struct MadResult {
    /// One row per generation and chain.
    pub rows: Vec<GenerationMetrics>,
    /// Generated samples of chain 0 for each generation (for scatter plots), row-major.
    #[serde(skip)]
    pub samples: Vec<Vec<f32>>,
    /// The real reference sample.
    #[serde(skip)]
    pub reference: Vec<f32>,
}

/// Scores `samples` against the reference.
struct Scorer<'a> {
    gpu: &'a Gpu,
    reference: &'a [f32],
    reference_statistics: GaussianStatistics,
    dim: usize,
    k: usize,
    grid: bool,
}

impl Scorer<'_> {
    fn score(&self, generation: usize, chain: usize, samples: &[f32]) -> Result<GenerationMetrics> {
        let quality = prdc(self.gpu, self.reference, samples, self.dim, self.k)?;
        let statistics = gaussian_statistics(self.gpu, samples, self.dim)?;
        Ok(GenerationMetrics {
            generation,
            chain,
            precision: Some(quality.precision),
            recall: Some(quality.recall),
            density: Some(quality.density),
            coverage: Some(quality.coverage),
            frechet: Some(frechet_distance(&self.reference_statistics, &statistics)?),
            wasserstein2: None,
            trace: None,
            modes: if self.grid {
                Some(recovered_modes(samples, 0.01)?)
            } else {
                None
            },
        })
    }
}

/// Runs the loops of `config` against `real`; `progress` receives
/// (generation done, generations total).
pub fn run_mad(
    gpu: &Gpu,
    config: &MadConfig,
    real: &RealDistribution,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<MadResult> {
    config.loop_config.validate()?;
    if config.chains == 0 || config.scored_chains > config.chains {
        return Err(Error::InvalidArgument {
            name: "chains",
            value: format!("{} chains, {} scored", config.chains, config.scored_chains),
            expected: "at least 1 chain and at most as many scored chains as chains".to_string(),
        });
    }
    let dim = real.dim();
    let reference = real.sample(
        gpu,
        config.metric_samples,
        config.loop_config.seed ^ 0x5EF_E8E7CE,
    )?;
    let scorer = Scorer {
        gpu,
        reference: &reference,
        reference_statistics: gaussian_statistics(gpu, &reference, dim)?,
        dim,
        k: config.k,
        grid: matches!(real, RealDistribution::GridMixture),
    };
    let generations = config.loop_config.generations;
    let mut rows = Vec::new();
    let mut samples_of_first_chain = Vec::new();

    match (config.model, real) {
        (MadModel::Gaussian, RealDistribution::Gaussian(truth)) => {
            run_gaussian_chains(
                gpu,
                truth,
                &config.loop_config,
                config.chains,
                &mut |summary, models| {
                    for (chain, model) in models.iter().enumerate() {
                        let mut row = if chain < config.scored_chains {
                            let seed = config.loop_config.seed
                                ^ ((summary.generation as u64) << 20)
                                ^ chain as u64;
                            let samples = model.sample(
                                gpu,
                                config.metric_samples,
                                config.loop_config.lambda,
                                seed,
                            )?;
                            let row = scorer.score(summary.generation, chain, &samples)?;
                            if chain == 0 {
                                samples_of_first_chain.push(samples);
                            }
                            row
                        } else {
                            empty_row(summary.generation, chain)
                        };
                        row.wasserstein2 = Some(summary.wasserstein2[chain]);
                        row.trace = Some(summary.traces[chain]);
                        rows.push(row);
                    }
                    progress(summary.generation, generations);
                    Ok(())
                },
            )?;
        }
        (model, _) => {
            for chain in 0..config.chains {
                let mut chain_config = config.loop_config;
                chain_config.seed = config
                    .loop_config
                    .seed
                    .wrapping_add(chain as u64)
                    .wrapping_mul(0x9E37_79B9_7F4A_7C15);
                let mut boxed: Box<dyn GenerativeModel> = match model {
                    MadModel::Gaussian => Box::new(Gaussian::standard(dim)?),
                    MadModel::Gmm(options) => Box::new(GaussianMixture::new(GmmOptions {
                        seed: chain_config.seed,
                        ..options
                    })),
                };
                let sample_count = if chain < config.scored_chains {
                    config.metric_samples
                } else {
                    0
                };
                run_loop(
                    gpu,
                    boxed.as_mut(),
                    real,
                    &chain_config,
                    sample_count,
                    &mut |record| {
                        let row = if sample_count > 0 {
                            scorer.score(record.generation, chain, &record.samples)?
                        } else {
                            empty_row(record.generation, chain)
                        };
                        if chain == 0 {
                            samples_of_first_chain.push(record.samples.clone());
                        }
                        rows.push(row);
                        if chain == 0 {
                            progress(record.generation, generations);
                        }
                        Ok(())
                    },
                )?;
            }
        }
    }
    Ok(MadResult {
        rows,
        samples: samples_of_first_chain,
        reference,
    })
}

fn empty_row(generation: usize, chain: usize) -> GenerationMetrics {
    GenerationMetrics {
        generation,
        chain,
        precision: None,
        recall: None,
        density: None,
        coverage: None,
        frechet: None,
        wasserstein2: None,
        trace: None,
        modes: None,
    }
}

/// Averages over chains of each metric per generation (missing values skipped).
pub fn average_by_generation(
    rows: &[GenerationMetrics],
    generations: usize,
) -> Vec<GenerationMetrics> {
    (1..=generations)
        .map(|generation| {
            let members: Vec<&GenerationMetrics> =
                rows.iter().filter(|r| r.generation == generation).collect();
            let mean = |pick: &dyn Fn(&GenerationMetrics) -> Option<f64>| -> Option<f64> {
                let values: Vec<f64> = members.iter().filter_map(|r| pick(r)).collect();
                (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
            };
            GenerationMetrics {
                generation,
                chain: usize::MAX,
                precision: mean(&|r| r.precision),
                recall: mean(&|r| r.recall),
                density: mean(&|r| r.density),
                coverage: mean(&|r| r.coverage),
                frechet: mean(&|r| r.frechet),
                wasserstein2: mean(&|r| r.wasserstein2),
                trace: mean(&|r| r.trace),
                modes: mean(&|r| r.modes.map(|m| m as f64)).map(|m| m.round() as usize),
            }
        })
        .collect()
}
