//! Many independent Gaussian self-consuming chains advanced together on the
//! GPU, for Monte Carlo averages of the loop.
//!
//! Each generation draws every chain's points and computes their statistics
//! (mean and centred second moment) in four dispatches for all chains
//! together (`shaders/gaussian_chains.wgsl`), reads the statistics back at
//! once, and fits the next Gaussians on the host in float64. A fitted Gaussian only needs
//! these statistics, so the pooled data of "augment with all models" never
//! has to be kept: the pool's statistics are combined instead.

use serde::Serialize;

use crate::error::{Error, Result};
use crate::generative::statistics::{combine_statistics, PartStatistics};
use crate::generative::{Gaussian, LoopConfig, LoopFamily, SyntheticSource};
use crate::gpu::{grid_1d, Gpu, GpuBuffer};
use crate::metrics::wasserstein2_gaussians;
use crate::shaders;

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

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct ChainParams {
    chains: u32,
    count: u32,
    dimension: u32,
    padding0: u32,
    key: [u32; 2],
    scale: f32,
    padding1: f32,
}

/// Draws `count` points for each of `models` (chain i from its Philox stream
/// `streams[i]` under key `seed`) and returns every draw's statistics. All
/// chains of a group go through four dispatches (`shaders/gaussian_chains.wgsl`).
fn draw_statistics(
    gpu: &Gpu,
    dim: usize,
    models: &[&Gaussian],
    count: usize,
    lambda: f64,
    seed: u64,
    streams: &[u64],
) -> Result<Vec<PartStatistics>> {
    let per_chain = count * dim;
    let binding_floats = (gpu.max_storage_binding_bytes() / 4) as usize;
    let group_size =
        (binding_floats / per_chain.max(dim * dim).max(1)).clamp(1, models.len().max(1));
    if per_chain > binding_floats {
        return Err(Error::ExceedsLimit {
            what: format!("one chain's draw of {count} points in {dim} dimensions"),
            requested: per_chain as u64 * 4,
            limit: gpu.max_storage_binding_bytes(),
            limit_name: "max_storage_buffer_binding_size",
        });
    }
    let mut statistics = Vec::with_capacity(models.len());
    for (group, group_streams) in models.chunks(group_size).zip(streams.chunks(group_size)) {
        let chains = group.len();
        let means: Vec<f32> = group
            .iter()
            .flat_map(|m| m.mean.iter().map(|&v| v as f32))
            .collect();
        let factors: Vec<f32> = group
            .iter()
            .flat_map(|m| m.factor.iter().map(|&v| v as f32))
            .collect();
        let stream_words: Vec<u32> = group_streams
            .iter()
            .flat_map(|&s| [s as u32, (s >> 32) as u32])
            .collect();
        let means = gpu.upload(&means, "chain means")?;
        let factors = gpu.upload(&factors, "chain factors")?;
        let stream_words = gpu.upload(&stream_words, "chain streams")?;
        let samples: GpuBuffer<f32> = gpu.create_buffer(chains * per_chain, "chain samples")?;
        let sample_means: GpuBuffer<f32> = gpu.create_buffer(chains * dim, "chain sample means")?;
        let moments: GpuBuffer<f32> = gpu.create_buffer(chains * dim * dim, "chain moments")?;

        let mut recorder = gpu.recorder("gaussian chains generation");
        let params = recorder.uniform(&ChainParams {
            chains: chains as u32,
            count: count as u32,
            dimension: dim as u32,
            padding0: 0,
            key: [seed as u32, (seed >> 32) as u32],
            scale: lambda.sqrt() as f32,
            padding1: 0.0,
        })?;
        let stages: [(&str, &[u32], usize); 4] = [
            ("chain_noise", &[2, 3, 6], chains * per_chain.div_ceil(4)),
            ("chain_transform", &[0, 1, 3, 6], chains * count),
            ("chain_means", &[3, 4, 6], chains * dim),
            ("chain_moments", &[3, 4, 5, 6], chains * dim * dim),
        ];
        let buffers = [
            means.raw(),
            factors.raw(),
            stream_words.raw(),
            samples.raw(),
            sample_means.raw(),
            moments.raw(),
            &params,
        ];
        for (entry, bindings, items) in stages {
            let kernel = gpu.kernel(&shaders::GAUSSIAN_CHAINS, entry, &[])?;
            let entries: Vec<(u32, &wgpu::Buffer)> =
                bindings.iter().map(|&b| (b, buffers[b as usize])).collect();
            recorder.dispatch(&kernel, &entries, grid_1d(gpu, items, entry)?, entry)?;
        }
        recorder.submit()?;
        let mean_values = gpu.read(&sample_means)?;
        let moment_values = gpu.read(&moments)?;
        for c in 0..chains {
            statistics.push(PartStatistics {
                count,
                mean: mean_values[c * dim..(c + 1) * dim]
                    .iter()
                    .map(|&v| f64::from(v))
                    .collect(),
                m2: moment_values[c * dim * dim..(c + 1) * dim * dim]
                    .iter()
                    .map(|&v| f64::from(v))
                    .collect(),
            });
        }
    }
    Ok(statistics)
}

/// Runs `chains` independent Gaussian loops against the real Gaussian
/// `truth`; `progress` receives each generation's summary and models as it
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
        return Err(Error::InvalidArgument {
            name: "chains",
            value: "0".into(),
            expected: "at least 1 chain".into(),
        });
    }
    let dim = truth.dim();
    let stream = |chain: usize, generation: usize, purpose: u64| {
        config.stream(chain as u64, generation, purpose).1
    };
    let seed = config.seed;
    let augment = matches!(config.family, LoopFamily::Augment(_));
    let first_size = if augment {
        config.n_real
    } else {
        config.n_initial
    };

    // Generation 1: every chain fits its own real draw.
    let truths = vec![truth; chains];
    let first_streams: Vec<u64> = (0..chains).map(|c| stream(c, 1, 0)).collect();
    let first = draw_statistics(gpu, dim, &truths, first_size, 1.0, seed, &first_streams)?;
    let fixed_real = first.clone();
    let mut pools: Vec<Option<PartStatistics>> = vec![None; chains];
    let mut models: Vec<Gaussian> = first
        .iter()
        .map(Gaussian::from_statistics)
        .collect::<Result<_>>()?;
    let mut history = vec![summarise(1, &models, truth)?];
    progress(&history[0], &models)?;

    for generation in 2..=config.generations {
        let model_refs: Vec<&Gaussian> = models.iter().collect();
        let synthetic_streams: Vec<u64> = (0..chains).map(|c| stream(c, generation, 1)).collect();
        let mut parts = draw_statistics(
            gpu,
            dim,
            &model_refs,
            config.n_synthetic,
            config.lambda,
            seed,
            &synthetic_streams,
        )?;
        if config.family == LoopFamily::Fresh {
            let real_streams: Vec<u64> = (0..chains).map(|c| stream(c, generation, 0)).collect();
            parts.extend(draw_statistics(
                gpu,
                dim,
                &truths,
                config.n_real,
                1.0,
                seed,
                &real_streams,
            )?);
        }
        let mut next = Vec::with_capacity(chains);
        for c in 0..chains {
            let synthetic = parts[c].clone();
            let training = match config.family {
                LoopFamily::FullySynthetic => synthetic,
                LoopFamily::Augment(SyntheticSource::LastModel) => {
                    combine_statistics(&[fixed_real[c].clone(), synthetic])
                }
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
        history.push(summarise(generation, &models, truth)?);
        progress(history.last().expect("just pushed"), &models)?;
    }
    Ok(history)
}

fn summarise(generation: usize, models: &[Gaussian], truth: &Gaussian) -> Result<ChainGeneration> {
    let wasserstein2 = models
        .iter()
        .map(|m| {
            wasserstein2_gaussians(
                &m.mean,
                &m.covariance,
                &truth.mean,
                &truth.covariance,
                truth.dim(),
            )
        })
        .collect::<Result<Vec<f64>>>()?;
    Ok(ChainGeneration {
        generation,
        means: models.iter().map(|m| m.mean.clone()).collect(),
        traces: models.iter().map(Gaussian::trace).collect(),
        wasserstein2,
    })
}
