//! The GPU state of exact t-SNE gradient descent (`shaders/tsne.wgsl`).

use std::sync::Arc;

use bytemuck::{Pod, Zeroable};

use crate::error::{Error, Result};
use crate::gpu::{grid_1d, Gpu, GpuBuffer, Kernel, Recorder};
use crate::shaders;

/// Columns of the probability matrix that one invocation of the pair pass
/// sweeps. Smaller chunks give more invocations (better occupancy on large
/// GPUs) at the price of more partial sums for the update pass to add.
const CHUNK_LENGTH: usize = 128;
/// Invocations per workgroup of `tsne_pair_partials`.
const PAIR_WORKGROUP_SIZE: usize = 64;
/// Coordinates per invocation of `tsne_pair_partials` (one vec4).
const COORDINATES_PER_BLOCK: usize = 4;

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct TsneParams {
    n: u32,
    dimensions: u32,
    chunk_count: u32,
    chunk_length: u32,
    exaggeration: f32,
    momentum: f32,
    learning_rate: f32,
    min_gain: f32,
}

/// Settings of one gradient-descent step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepParameters {
    /// Factor on P in the gradient (early exaggeration; 1 for none).
    pub exaggeration: f32,
    /// Weight of the previous update.
    pub momentum: f32,
    /// Step size, in scikit-learn's convention (the gradient includes its
    /// factor 4).
    pub learning_rate: f32,
    /// Floor of the per-coordinate gains.
    pub min_gain: f32,
}

/// [`StepParameters`] in a uniform buffer, for recording many steps without
/// creating a buffer per step.
pub struct StepUniform {
    buffer: wgpu::Buffer,
}

/// Embedding, momentum term, gains and scratch buffers of one t-SNE run on
/// the GPU.
///
/// Each step computes the exact O(n^2) gradient of KL(P || Q) and applies
/// scikit-learn's update with momentum and delta-bar-delta gains; see
/// `shaders/tsne.wgsl` for the formulas.
pub struct TsneOptimizer<'gpu> {
    gpu: &'gpu Gpu,
    n: usize,
    dimensions: usize,
    chunk_count: usize,
    probabilities: GpuBuffer<f32>,
    embedding: GpuBuffer<f32>,
    attraction_partials: GpuBuffer<f32>,
    repulsion_partials: GpuBuffer<f32>,
    kernel_sum_partials: GpuBuffer<f32>,
    normaliser: GpuBuffer<f32>,
    gradient: GpuBuffer<f32>,
    update: GpuBuffer<f32>,
    gains: GpuBuffer<f32>,
    pair_kernel: Arc<Kernel>,
    normaliser_kernel: Arc<Kernel>,
    update_kernel: Arc<Kernel>,
}

impl<'gpu> TsneOptimizer<'gpu> {
    /// Uploads the joint probabilities (row-major n x n, zero diagonal) and
    /// the initial embedding (row-major n x `dimensions`), with a zero
    /// momentum term and unit gains.
    pub fn new(
        gpu: &'gpu Gpu,
        probabilities: &[f32],
        initial_embedding: &[f32],
        n: usize,
        dimensions: usize,
    ) -> Result<Self> {
        check_shape(probabilities.len(), initial_embedding.len(), n, dimensions)?;
        let coordinates = n * dimensions;
        let chunk_count = n.div_ceil(CHUNK_LENGTH);
        Ok(Self {
            gpu,
            n,
            dimensions,
            chunk_count,
            probabilities: gpu.upload(probabilities, "t-SNE joint probabilities")?,
            embedding: gpu.upload(initial_embedding, "t-SNE embedding")?,
            attraction_partials: gpu
                .create_buffer(chunk_count * coordinates, "t-SNE attraction partial sums")?,
            repulsion_partials: gpu
                .create_buffer(chunk_count * coordinates, "t-SNE repulsion partial sums")?,
            kernel_sum_partials: gpu.create_buffer(chunk_count * n, "t-SNE kernel partial sums")?,
            normaliser: gpu.create_buffer(1, "t-SNE normaliser")?,
            gradient: gpu.create_buffer(coordinates, "t-SNE gradient")?,
            update: gpu.create_buffer(coordinates, "t-SNE update")?,
            gains: gpu.upload(&vec![1.0f32; coordinates], "t-SNE gains")?,
            pair_kernel: gpu.kernel(&shaders::TSNE, "tsne_pair_partials", &[])?,
            normaliser_kernel: gpu.kernel(&shaders::TSNE, "tsne_normaliser", &[])?,
            update_kernel: gpu.kernel(&shaders::TSNE, "tsne_update", &[])?,
        })
    }

    /// Number of points.
    pub fn n(&self) -> usize {
        self.n
    }

    /// Coordinates per point.
    pub fn dimensions(&self) -> usize {
        self.dimensions
    }

    /// Creates the uniform buffer that [`TsneOptimizer::record_step`] binds.
    pub fn step_uniform(&self, parameters: &StepParameters) -> Result<StepUniform> {
        let params = TsneParams {
            n: self.n as u32,
            dimensions: self.dimensions as u32,
            chunk_count: self.chunk_count as u32,
            chunk_length: CHUNK_LENGTH as u32,
            exaggeration: parameters.exaggeration,
            momentum: parameters.momentum,
            learning_rate: parameters.learning_rate,
            min_gain: parameters.min_gain,
        };
        Ok(StepUniform {
            buffer: self.gpu.create_uniform(&params, "t-SNE step parameters")?,
        })
    }

    /// Records one step: the pair pass, the sum Z and the update.
    pub fn record_step(&self, recorder: &mut Recorder, uniform: &StepUniform) -> Result<()> {
        let params = &uniform.buffer;
        let pair_grid = [
            self.n.div_ceil(PAIR_WORKGROUP_SIZE) as u32,
            self.chunk_count as u32,
            self.dimensions.div_ceil(COORDINATES_PER_BLOCK) as u32,
        ];
        recorder.dispatch(
            &self.pair_kernel,
            &[
                (0, self.probabilities.raw()),
                (1, self.embedding.raw()),
                (2, self.attraction_partials.raw()),
                (3, self.repulsion_partials.raw()),
                (4, self.kernel_sum_partials.raw()),
                (5, params),
            ],
            pair_grid,
            "tsne_pair_partials",
        )?;
        recorder.dispatch(
            &self.normaliser_kernel,
            &[
                (4, self.kernel_sum_partials.raw()),
                (5, params),
                (6, self.normaliser.raw()),
            ],
            [1, 1, 1],
            "tsne_normaliser",
        )?;
        let update_grid = grid_1d(self.gpu, self.n * self.dimensions, "tsne_update")?;
        recorder.dispatch(
            &self.update_kernel,
            &[
                (1, self.embedding.raw()),
                (2, self.attraction_partials.raw()),
                (3, self.repulsion_partials.raw()),
                (5, params),
                (6, self.normaliser.raw()),
                (7, self.gradient.raw()),
                (8, self.update.raw()),
                (9, self.gains.raw()),
            ],
            update_grid,
            "tsne_update",
        )
    }

    /// Runs one step and waits for it.
    pub fn step(&self, parameters: &StepParameters) -> Result<()> {
        let uniform = self.step_uniform(parameters)?;
        let mut recorder = self.gpu.recorder("t-SNE step");
        self.record_step(&mut recorder, &uniform)?;
        recorder.submit()?;
        Ok(())
    }

    /// Sets the momentum term to zero and the gains to one, as at the start.
    /// Takes effect before the next submission.
    pub fn reset_momentum_and_gains(&self) -> Result<()> {
        let coordinates = self.n * self.dimensions;
        self.gpu
            .write(&self.update, 0, &vec![0.0f32; coordinates])?;
        self.gpu.write(&self.gains, 0, &vec![1.0f32; coordinates])
    }

    /// Copies the current embedding (row-major n x d) to the host.
    pub fn embedding(&self) -> Result<Vec<f32>> {
        self.gpu.read(&self.embedding)
    }

    /// Copies the gradient of the last step (row-major n x d, before the
    /// gains, including the exaggeration of that step) to the host.
    pub fn gradient(&self) -> Result<Vec<f32>> {
        self.gpu.read(&self.gradient)
    }
}

fn check_shape(probabilities: usize, embedding: usize, n: usize, dimensions: usize) -> Result<()> {
    if n < 2 {
        return Err(Error::InvalidArgument {
            name: "number of points",
            value: n.to_string(),
            expected: "at least 2".to_string(),
        });
    }
    // Shaders index the n x n matrix with 32-bit integers.
    if n > u16::MAX as usize {
        return Err(Error::InvalidArgument {
            name: "number of points",
            value: n.to_string(),
            expected: format!("at most {} for the exact O(n^2) gradient", u16::MAX),
        });
    }
    if dimensions == 0 || dimensions > u16::MAX as usize {
        return Err(Error::InvalidArgument {
            name: "embedding dimensions",
            value: dimensions.to_string(),
            expected: format!("between 1 and {}", u16::MAX),
        });
    }
    if probabilities != n * n {
        return Err(Error::ShapeMismatch {
            operation: "t-SNE",
            message: format!("the joint probabilities have {probabilities} values, but {n} points need {n} x {n}"),
        });
    }
    if embedding != n * dimensions {
        return Err(Error::ShapeMismatch {
            operation: "t-SNE",
            message: format!("the embedding has {embedding} values, but {n} points of {dimensions} coordinates need {}", n * dimensions),
        });
    }
    Ok(())
}
