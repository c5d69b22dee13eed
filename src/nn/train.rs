//! Fitting coordinate networks to values on a set of coordinates, rendering
//! them on other grids, and the Lipschitz estimate.

use std::time::Instant;

use crate::error::{Error, Result};
use crate::gpu::Gpu;
use crate::ops::Matrix;
use crate::random::PhiloxStream;

use super::graph::{Graph, GraphBuilder, LinearOperator, Loss, NormStatistics, TensorId};
use super::models::CoordinateNetwork;
use super::optim::{Optimizer, OptimizerConfig};
use super::params::ParameterStore;

/// Settings of a fit.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct FitConfig {
    /// Optimiser steps.
    pub iterations: usize,
    /// Optimiser settings.
    pub optimizer: OptimizerConfig,
    /// Coordinates per step; None uses all of them (full batch).
    pub batch_size: Option<usize>,
    /// Seed of the mini-batch draws.
    pub seed: u64,
}

impl FitConfig {
    /// Full-batch Adam at learning rate 1e-3 for `iterations` steps.
    pub fn full_batch(iterations: usize) -> Self {
        Self {
            iterations,
            optimizer: OptimizerConfig::default(),
            batch_size: None,
            seed: 0,
        }
    }
}

/// Record of a fit: losses and time.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct FitReport {
    /// Mean loss of every step, measured before that step's update.
    pub losses: Vec<f32>,
    /// Wall-clock seconds of the training loop.
    pub seconds: f64,
}

impl FitReport {
    /// Optimiser steps per second.
    pub fn steps_per_second(&self) -> f64 {
        self.losses.len() as f64 / self.seconds.max(1e-12)
    }
}

/// How often the loss history is read back for progress reports.
const PROGRESS_EVERY: usize = 25;

/// A training graph: network output, then optionally a fixed linear
/// measurement, compared by mean squared error with `targets`.
struct TrainingGraph {
    graph: Graph,
    coordinates: TensorId,
    target: TensorId,
}

fn training_graph(
    gpu: &Gpu,
    network: &dyn CoordinateNetwork,
    rows: usize,
    measurement: Option<&std::sync::Arc<dyn LinearOperator>>,
    target_len: usize,
) -> Result<TrainingGraph> {
    let mut builder = GraphBuilder::new(network.store());
    let coordinates = builder.input(rows, 2, "coordinates")?;
    let mut output = network.build(&mut builder, coordinates, NormStatistics::Batch)?;
    if let Some(operator) = measurement {
        output = builder.linear_operator(output, operator.clone(), "measurement")?;
    }
    let (out_rows, out_columns) = builder.shape(output);
    if out_rows * out_columns != target_len {
        return Err(Error::ShapeMismatch {
            operation: "fit",
            message: format!(
                "the network's output has {} values per step but the targets have {target_len}",
                out_rows * out_columns
            ),
        });
    }
    let target = builder.input(out_rows, out_columns, "targets")?;
    builder.set_loss(Loss::MeanSquaredError {
        prediction: output,
        target,
    })?;
    Ok(TrainingGraph {
        graph: builder.build(gpu)?,
        coordinates,
        target,
    })
}

fn check_coordinates(coordinates: &[[f32; 2]], values: usize, channels: usize) -> Result<()> {
    if coordinates.is_empty() {
        return Err(Error::InvalidArgument {
            name: "coordinates",
            value: "none".to_string(),
            expected: "at least one coordinate".to_string(),
        });
    }
    if values != coordinates.len() * channels {
        return Err(Error::ShapeMismatch {
            operation: "fit",
            message: format!(
                "{} coordinates with {channels} channels need {} target values, got {values}",
                coordinates.len(),
                coordinates.len() * channels
            ),
        });
    }
    Ok(())
}

/// Runs the optimisation loop on a built training graph; `feed` uploads the
/// inputs of step `t` (None: they never change).
fn optimise(
    gpu: &Gpu,
    store: &mut ParameterStore,
    graph: &Graph,
    config: &FitConfig,
    mut feed: Option<&mut dyn FnMut(usize) -> Result<()>>,
    progress: &mut dyn FnMut(usize, f32),
) -> Result<FitReport> {
    let mut optimizer = Optimizer::new(config.optimizer)?;
    let history = gpu.create_buffer::<f32>(config.iterations.max(1), "loss history")?;
    let count = graph.loss_count() as f32;
    let started = Instant::now();
    for step in 0..config.iterations {
        if let Some(feed) = feed.as_mut() {
            feed(step)?;
        }
        let mut recorder = gpu.recorder("training step");
        graph.record_forward(&mut recorder, store)?;
        let loss_sum = graph.record_backward(&mut recorder, store)?;
        recorder.copy(&loss_sum, 0, &history, step, 1)?;
        optimizer.record_step(&mut recorder, store)?;
        recorder.submit()?;
        if (step + 1) % PROGRESS_EVERY == 0 || step + 1 == config.iterations {
            let loss = gpu.read_range(&history, step..step + 1)?[0] / count;
            if !loss.is_finite() {
                return Err(Error::InvalidArgument {
                    name: "learning_rate",
                    value: config.optimizer.learning_rate.to_string(),
                    expected: format!("a value small enough that training stays finite (the loss became {loss} at step {})", step + 1),
                });
            }
            progress(step + 1, loss);
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    let losses = if config.iterations == 0 {
        Vec::new()
    } else {
        gpu.read(&history)?
            .into_iter()
            .map(|sum| sum / count)
            .collect()
    };
    Ok(FitReport { losses, seconds })
}

/// Fits `network` so that its output at `coordinates` (N x 2, in [-1, 1])
/// matches `targets` (N x C, row-major). Full batch when
/// `config.batch_size` is None; otherwise each step uses a fresh uniform
/// draw (with replacement) of that many coordinates.
///
/// Channel-normalisation statistics: after training, one more forward pass
/// in batch mode over the training coordinates (a final mini-batch draw when
/// training on mini-batches) stores the statistics that rendering freezes.
pub fn fit(
    gpu: &Gpu,
    network: &mut dyn CoordinateNetwork,
    coordinates: &[[f32; 2]],
    targets: &[f32],
    config: &FitConfig,
    progress: &mut dyn FnMut(usize, f32),
) -> Result<FitReport> {
    let channels = network.output_channels();
    check_coordinates(coordinates, targets.len(), channels)?;
    let flat: Vec<f32> = coordinates.iter().flat_map(|c| c.iter().copied()).collect();
    let rows = match config.batch_size {
        Some(0) => {
            return Err(Error::InvalidArgument {
                name: "batch_size",
                value: "0".to_string(),
                expected: "at least 1, or none for full-batch training".to_string(),
            })
        }
        Some(batch) => batch.min(coordinates.len()),
        None => coordinates.len(),
    };
    let training = training_graph(gpu, network, rows, None, rows * channels)?;
    let report = if rows == coordinates.len() && config.batch_size.is_none() {
        training.graph.set_input(gpu, training.coordinates, &flat)?;
        training.graph.set_input(gpu, training.target, targets)?;
        optimise(
            gpu,
            network.store_mut(),
            &training.graph,
            config,
            None,
            progress,
        )?
    } else {
        let stream = PhiloxStream::new(config.seed, 0x6d62);
        let mut batch_coordinates = vec![0.0f32; rows * 2];
        let mut batch_targets = vec![0.0f32; rows * channels];
        let mut draw = |step: usize| -> Result<()> {
            let bits = stream.bits((step * rows) as u64, rows);
            for (slot, bits) in bits.into_iter().enumerate() {
                let index = (bits as usize) % coordinates.len();
                batch_coordinates[slot * 2..slot * 2 + 2].copy_from_slice(&coordinates[index]);
                batch_targets[slot * channels..(slot + 1) * channels]
                    .copy_from_slice(&targets[index * channels..(index + 1) * channels]);
            }
            training
                .graph
                .set_input(gpu, training.coordinates, &batch_coordinates)?;
            training
                .graph
                .set_input(gpu, training.target, &batch_targets)
        };
        let report = optimise(
            gpu,
            network.store_mut(),
            &training.graph,
            config,
            Some(&mut draw),
            progress,
        )?;
        draw(config.iterations)?;
        report
    };
    let mut recorder = gpu.recorder("freezing normalisation statistics");
    training
        .graph
        .record_forward(&mut recorder, network.store())?;
    recorder.submit()?;
    Ok(report)
}

/// Fits `network` through a fixed linear measurement: the network is
/// evaluated on all `coordinates` (full batch), its N x C output is mapped by
/// `measurement`, and the result is compared with `measured` by mean
/// squared error (CT: the Radon transform of the rendered image against a
/// sinogram).
pub fn fit_through(
    gpu: &Gpu,
    network: &mut dyn CoordinateNetwork,
    coordinates: &[[f32; 2]],
    measurement: std::sync::Arc<dyn LinearOperator>,
    measured: &[f32],
    config: &FitConfig,
    progress: &mut dyn FnMut(usize, f32),
) -> Result<FitReport> {
    check_coordinates(
        coordinates,
        coordinates.len() * network.output_channels(),
        network.output_channels(),
    )?;
    let training = training_graph(
        gpu,
        network,
        coordinates.len(),
        Some(&measurement),
        measured.len(),
    )?;
    let flat: Vec<f32> = coordinates.iter().flat_map(|c| c.iter().copied()).collect();
    training.graph.set_input(gpu, training.coordinates, &flat)?;
    training.graph.set_input(gpu, training.target, measured)?;
    let report = optimise(
        gpu,
        network.store_mut(),
        &training.graph,
        config,
        None,
        progress,
    )?;
    let mut recorder = gpu.recorder("freezing normalisation statistics");
    training
        .graph
        .record_forward(&mut recorder, network.store())?;
    recorder.submit()?;
    Ok(report)
}

/// Largest number of coordinates evaluated in one rendering pass.
pub const RENDER_CHUNK: usize = 1 << 16;

/// Evaluates the network (frozen normalisation statistics, so each pixel
/// depends on its coordinate only) at `coordinates`; returns N x C values.
pub fn render(
    gpu: &Gpu,
    network: &dyn CoordinateNetwork,
    coordinates: &[[f32; 2]],
) -> Result<Vec<f32>> {
    let channels = network.output_channels();
    let chunk = RENDER_CHUNK.min(coordinates.len().max(1));
    let mut builder = GraphBuilder::new(network.store());
    let input = builder.input(chunk, 2, "render coordinates")?;
    let output = network.build(&mut builder, input, NormStatistics::Frozen)?;
    let graph = builder.build(gpu)?;
    let mut values = Vec::with_capacity(coordinates.len() * channels);
    for part in coordinates.chunks(chunk) {
        graph.set_input(gpu, input, &padded(part, chunk))?;
        let mut recorder = gpu.recorder("rendering");
        graph.record_forward(&mut recorder, network.store())?;
        recorder.submit()?;
        let rendered = graph.read(gpu, output)?;
        values.extend_from_slice(&rendered[..part.len() * channels]);
    }
    Ok(values)
}

/// Flattens coordinates, repeating the last one up to `len` rows (the
/// network is pointwise when rendering, so padding rows change nothing).
fn padded(part: &[[f32; 2]], len: usize) -> Vec<f32> {
    let last = *part.last().expect("chunks are not empty");
    part.iter()
        .chain(std::iter::repeat_n(&last, len - part.len()))
        .flat_map(|c| c.iter().copied())
        .collect()
}

/// Largest Frobenius norm of the Jacobian d out / d p over `coordinates`
/// (frozen normalisation), by one backward pass per output channel.
pub fn lipschitz_estimate(
    gpu: &Gpu,
    network: &dyn CoordinateNetwork,
    coordinates: &[[f32; 2]],
) -> Result<f64> {
    let channels = network.output_channels();
    let chunk = RENDER_CHUNK.min(coordinates.len().max(1));
    let mut builder = GraphBuilder::new(network.store());
    let input = builder.differentiable_input(chunk, 2, "jacobian coordinates")?;
    let output = network.build(&mut builder, input, NormStatistics::Frozen)?;
    let graph = builder.build(gpu)?;
    let mut largest = 0.0f64;
    for part in coordinates.chunks(chunk) {
        graph.set_input(gpu, input, &padded(part, chunk))?;
        let mut squared = vec![0.0f64; part.len()];
        for channel in 0..channels {
            let seed: Vec<f32> = (0..chunk * channels)
                .map(|i| if i % channels == channel { 1.0 } else { 0.0 })
                .collect();
            let seed = Matrix::upload(gpu, &seed, chunk, channels, "jacobian seed")?;
            let mut recorder = gpu.recorder("jacobian");
            graph.record_forward(&mut recorder, network.store())?;
            graph.record_backward_from(&mut recorder, network.store(), output, seed.buffer())?;
            recorder.submit()?;
            let gradient = graph
                .gradient(input)
                .expect("differentiable inputs have gradients")
                .read(gpu)?;
            for (row, total) in squared.iter_mut().enumerate() {
                *total +=
                    (gradient[2 * row] as f64).powi(2) + (gradient[2 * row + 1] as f64).powi(2);
            }
        }
        largest = squared.into_iter().fold(largest, f64::max);
    }
    Ok(largest.sqrt())
}
