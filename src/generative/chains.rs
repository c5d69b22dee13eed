//! Many independent Gaussian self-consuming chains advanced together on the
//! GPU, for Monte Carlo averages of the loop.
//!
//! Each generation records, for every chain, its draws (real and synthetic)
//! and their statistics (mean and centred second moment) into one command
//! buffer per group of chains, reads all statistics back at once, and fits
//! the next Gaussians on the host in float64. A fitted Gaussian only needs
//! these statistics, so the pooled data of "augment with all models" never
//! has to be kept: the pool's statistics are combined instead.

use serde::Serialize;

use crate::error::{Error, Result};
use crate::generative::gaussian::{record_samples, wasserstein2_squared};
use crate::generative::statistics::{combine_statistics, record_part_statistics, PartStatistics};
use crate::generative::{Gaussian, LoopConfig, LoopFamily, SyntheticSource};
use crate::gpu::{Gpu, GpuBuffer};
use crate::random::PhiloxStream;

/// The state of every chain after one generation.
#[derive(Debug, Clone, Serialize)]
pub struct ChainGeneration {
    /// Generation number, from 1.
    pub generation: usize,
    /// Mean of each chain's Gaussian (chains x dim).
    pub means: Vec<Vec<f64>>,
    /// Trace of each chain's covariance.
    pub traces: Vec<f64>,
    /// 2-Wasserstein distance of each chain's Gaussian to the real one.
    pub wasserstein2: Vec<f64>,
}

impl ChainGeneration {
    /// Average of `values` over the chains.
    pub fn average(values: &[f64]) -> f64 {
        values.iter().sum::<f64>() / values.len().max(1) as f64
    }
}

/// Floats of samples recorded per submission; larger generations are split
/// into groups of chains.
const FLOATS_PER_SUBMISSION: usize = 1 << 24;

/// Draws the parts described by (chain, mean, factor, count, lambda,
/// stream) on the GPU and returns their statistics.
fn draw_statistics(gpu: &Gpu, dim: usize, draws: &[(usize, &Gaussian, usize, f64, PhiloxStream)]) -> Result<Vec<PartStatistics>> {
    let mut statistics = Vec::with_capacity(draws.len());
    let stride = dim + dim * dim;
    let mut start = 0;
    while start < draws.len() {
        let mut end = start;
        let mut floats = 0;
        while end < draws.len() && (end == start || floats + draws[end].2 * dim <= FLOATS_PER_SUBMISSION) {
            floats += draws[end].2 * dim;
            end += 1;
        }
        let group = &draws[start..end];
        let results: GpuBuffer<f32> = gpu.create_buffer(group.len() * stride, "chain statistics")?;
        let mut recorder = gpu.recorder("gaussian chains generation");
        for (slot, &(_, gaussian, count, lambda, stream)) in group.iter().enumerate() {
            let samples = record_samples(&mut recorder, &gaussian.mean, &gaussian.factor, count, lambda, stream)?;
            let (mean, m2) = record_part_statistics(&mut recorder, &samples)?;
            recorder.copy(&mean, 0, &results, slot * stride, dim)?;
            recorder.copy(m2.buffer(), 0, &results, slot * stride + dim, dim * dim)?;
        }
        recorder.submit()?;
        let values = gpu.read(&results)?;
        for (slot, &(_, _, count, _, _)) in group.iter().enumerate() {
            let block = &values[slot * stride..(slot + 1) * stride];
            statistics.push(PartStatistics {
                count,
                mean: block[..dim].iter().map(|&v| f64::from(v)).collect(),
                m2: block[dim..].iter().map(|&v| f64::from(v)).collect(),
            });
        }
        start = end;
    }
    Ok(statistics)
}

/// Runs `chains` independent Gaussian loops against the real Gaussian
/// `truth`; `progress` sees each generation's summary and models as it
/// completes, and may stop the run by returning an error.
pub fn run_gaussian_chains(
    gpu: &Gpu,
    truth: &Gaussian,
    config: &LoopConfig,
    chains: usize,
    progress: &mut dyn FnMut(&ChainGeneration, &[Gaussian]) -> Result<()>,
) -> Result<Vec<ChainGeneration>> {
    config.validate()?;
    if chains == 0 {
        return Err(Error::InvalidArgument { name: "chains", value: "0".into(), expected: "at least 1 chain".into() });
    }
    let dim = truth.dim();
    let stream = |chain: usize, generation: usize, purpose: u64| {
        let (seed, id) = config.stream(chain as u64, generation, purpose);
        PhiloxStream::new(seed, id)
    };
    let augment = matches!(config.family, LoopFamily::Augment(_));
    let first_size = if augment { config.n_real } else { config.n_initial };

    // Generation 1: every chain fits its own real draw.
    let draws: Vec<_> = (0..chains).map(|c| (c, truth, first_size, 1.0, stream(c, 1, 0))).collect();
    let first = draw_statistics(gpu, dim, &draws)?;
    let fixed_real = first.clone();
    let mut pools: Vec<Option<PartStatistics>> = vec![None; chains];
    let mut models: Vec<Gaussian> = first.iter().map(Gaussian::from_statistics).collect::<Result<_>>()?;
    let mut history = vec![summarise(1, &models, truth)];
    progress(&history[0], &models)?;

    for generation in 2..=config.generations {
        let mut draws: Vec<(usize, &Gaussian, usize, f64, PhiloxStream)> = (0..chains)
            .map(|c| (c, &models[c], config.n_synthetic, config.lambda, stream(c, generation, 1)))
            .collect();
        if config.family == LoopFamily::Fresh {
            draws.extend((0..chains).map(|c| (c, truth, config.n_real, 1.0, stream(c, generation, 0))));
        }
        let parts = draw_statistics(gpu, dim, &draws)?;
        let mut next = Vec::with_capacity(chains);
        for c in 0..chains {
            let synthetic = parts[c].clone();
            let training = match config.family {
                LoopFamily::FullySynthetic => synthetic,
                LoopFamily::Augment(SyntheticSource::LastModel) => combine_statistics(&[fixed_real[c].clone(), synthetic]),
                LoopFamily::Augment(SyntheticSource::AllModels) => {
                    let pool = match pools[c].take() {
                        Some(pool) => combine_statistics(&[pool, synthetic]),
                        None => synthetic,
                    };
                    let training = combine_statistics(&[fixed_real[c].clone(), pool.clone()]);
                    pools[c] = Some(pool);
                    training
                }
                LoopFamily::Fresh => combine_statistics(&[parts[chains + c].clone(), synthetic]),
            };
            next.push(Gaussian::from_statistics(&training)?);
        }
        models = next;
        history.push(summarise(generation, &models, truth));
        progress(history.last().expect("just pushed"), &models)?;
    }
    Ok(history)
}

fn summarise(generation: usize, models: &[Gaussian], truth: &Gaussian) -> ChainGeneration {
    ChainGeneration {
        generation,
        means: models.iter().map(|m| m.mean.clone()).collect(),
        traces: models.iter().map(Gaussian::trace).collect(),
        wasserstein2: models.iter().map(|m| wasserstein2_squared(m, truth).sqrt()).collect(),
    }
}
