//! Tiled NNGP/NTK Gram matrices on the GPU (`shaders/ntk.wgsl`).

use bytemuck::{Pod, Zeroable};

use crate::error::{Error, Result};
use crate::gpu::{grid_1d, Gpu, GpuBuffer};
use crate::kernels::ntk::component_names;
use crate::kernels::ntk::reference::diagonal_trajectory;
use crate::kernels::ntk::{Activation, NtkConfig};
use crate::kernels::sink::GramSink;
use crate::kernels::tiling::{
    run_tiled, run_tiled_parallel, tile_edge, GramReport, TileBlock, TileSelection,
};
use crate::ops::{self, Matrix};
use crate::shaders;

/// A set of input points: `count` rows of `dimension` features, row-major.
#[derive(Debug, Clone, Copy)]
pub struct Inputs<'a> {
    /// Row-major values.
    pub values: &'a [f32],
    /// Number of points (rows).
    pub count: usize,
    /// Features per point (columns).
    pub dimension: usize,
}

impl<'a> Inputs<'a> {
    /// Wraps `values` as `count` x `dimension` and checks length and finiteness.
    pub fn new(values: &'a [f32], count: usize, dimension: usize, name: &str) -> Result<Self> {
        if count == 0 || dimension == 0 {
            return Err(Error::InvalidArgument {
                name: "inputs",
                value: format!("{name} of shape {count} x {dimension}"),
                expected: "at least one point with at least one feature".to_string(),
            });
        }
        if count.checked_mul(dimension) != Some(values.len()) {
            return Err(Error::ShapeMismatch {
                operation: "ntk inputs",
                message: format!(
                    "{name} has {} values, not {count} x {dimension}",
                    values.len()
                ),
            });
        }
        if let Some(position) = values.iter().position(|v| !v.is_finite()) {
            return Err(Error::InvalidArgument {
                name: "inputs",
                value: format!(
                    "{} in {name} at row {}, column {}",
                    values[position],
                    position / dimension,
                    position % dimension
                ),
                expected: "finite values; remove or impute NaN and infinite entries".to_string(),
            });
        }
        Ok(Self {
            values,
            count,
            dimension,
        })
    }

    fn rows(&self, start: usize, count: usize) -> &'a [f32] {
        &self.values[start * self.dimension..(start + count) * self.dimension]
    }
}

/// Tiling and output options of [`compute_ntk_gram`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct GramOptions {
    /// Compute Theta_0..Theta_L as well as the NNGP and NTK.
    pub per_layer: bool,
    /// Tile edge in entries; `None` sizes tiles from the adapter's limits.
    pub tile: Option<usize>,
}

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct NtkParams {
    rows: u32,
    columns: u32,
    depth: u32,
    row_offset: u32,
    column_offset: u32,
    same_points: u32,
    padding0: [u32; 2],
    inverse_dimension: f32,
    w_variance: f32,
    b_variance: f32,
    alpha_first: f32,
    alpha_hidden: f32,
    beta: f32,
    padding1: [f32; 2],
}

/// Per-point diagonal trajectories Sigma_h(x, x), h = 0..L-1, in float64 on
/// the host and rounded to f32 (L values per point).
fn diagonal_trajectories(config: &NtkConfig, inputs: &Inputs) -> Vec<f32> {
    let mut values = Vec::with_capacity(inputs.count * config.depth);
    let mut point = vec![0.0f64; inputs.dimension];
    for row in 0..inputs.count {
        for (slot, value) in point.iter_mut().zip(inputs.rows(row, 1)) {
            *slot = f64::from(*value);
        }
        values.extend(
            diagonal_trajectory(config, &point)
                .into_iter()
                .map(|v| v as f32),
        );
    }
    values
}

/// GPU buffer reused by every tile for the output planes.
struct TileWorkspace {
    output: GpuBuffer<f32>,
}

/// Computes the NNGP, NTK and optionally the per-layer terms of `config`
/// between `x1` and `x2` (or `x1` with itself when `x2` is `None`), tile by
/// tile, and writes every block to `sink`. `progress` receives (tiles done,
/// tiles total) after each tile.
///
/// With `x2 = None` only tiles on and above the diagonal are computed and
/// the others are written as their transposes.
pub fn compute_ntk_gram(
    gpu: &Gpu,
    config: &NtkConfig,
    x1: &Inputs,
    x2: Option<&Inputs>,
    options: &GramOptions,
    sink: &mut dyn GramSink,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<GramReport> {
    compute_ntk_gram_selected(
        gpu,
        &[],
        config,
        x1,
        x2,
        options,
        sink,
        TileSelection::default(),
        progress,
    )
}

/// [`compute_ntk_gram`] for the tiles of `selection` only: one shard of the
/// grid, skipping tiles its manifest lists as finished. The tile edge must
/// then be fixed (`options.tile`), so that every shard uses the same grid.
/// Tiles are spread over `gpu` and `extra_gpus`, one worker per device
/// taking tiles from a shared queue.
#[allow(clippy::too_many_arguments)]
pub fn compute_ntk_gram_selected(
    gpu: &Gpu,
    extra_gpus: &[&Gpu],
    config: &NtkConfig,
    x1: &Inputs,
    x2: Option<&Inputs>,
    options: &GramOptions,
    sink: &mut dyn GramSink,
    selection: TileSelection,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<GramReport> {
    config.validate()?;
    let symmetric = x2.is_none();
    let x2 = x2.unwrap_or(x1);
    if x1.dimension != x2.dimension {
        return Err(Error::ShapeMismatch {
            operation: "ntk",
            message: format!(
                "X1 has {} features per point but X2 has {}; both must have the same feature dimension",
                x1.dimension, x2.dimension
            ),
        });
    }
    let components = component_names(config.depth, options.per_layer).len();
    let tile = tile_edge(gpu, components, x1.dimension, options.tile)?;

    let diagonal_rows = diagonal_trajectories(config, x1);
    let diagonal_columns = if symmetric {
        diagonal_rows.clone()
    } else {
        diagonal_trajectories(config, x2)
    };
    let plane_capacity = tile.min(x1.count) * tile.min(x2.count);
    let report = if extra_gpus.is_empty() {
        let mut workspace = TileWorkspace {
            output: gpu.create_buffer(plane_capacity * components, "ntk tile output")?,
        };
        let context = TileContext {
            gpu,
            config,
            per_layer: options.per_layer,
            symmetric,
            x1,
            x2,
            diagonal_rows: &diagonal_rows,
            diagonal_columns: &diagonal_columns,
        };
        run_tiled(
            x1.count,
            x2.count,
            symmetric,
            false,
            tile,
            components,
            sink,
            selection,
            progress,
            &mut |block| context.compute(block, &mut workspace),
        )?
    } else {
        let mut workers: Vec<Box<dyn FnMut(TileBlock) -> Result<(Vec<f32>, f64)> + Send + '_>> =
            Vec::new();
        for device in std::iter::once(gpu).chain(extra_gpus.iter().copied()) {
            let mut workspace = TileWorkspace {
                output: device.create_buffer(plane_capacity * components, "ntk tile output")?,
            };
            let context = TileContext {
                gpu: device,
                config,
                per_layer: options.per_layer,
                symmetric,
                x1,
                x2,
                diagonal_rows: &diagonal_rows,
                diagonal_columns: &diagonal_columns,
            };
            workers.push(Box::new(move |block| {
                context.compute(block, &mut workspace)
            }));
        }
        run_tiled_parallel(
            x1.count, x2.count, symmetric, false, tile, components, sink, selection, progress,
            workers,
        )?
    };
    log::debug!(
        "ntk gram {} x {}: {} tiles of edge {tile}, {:.3} s GPU, {:.3} s total",
        report.rows,
        report.columns,
        report.tiles_computed,
        report.gpu_seconds,
        report.wall_seconds
    );
    Ok(report)
}

/// Everything a tile needs besides its block.
struct TileContext<'a> {
    gpu: &'a Gpu,
    config: &'a NtkConfig,
    per_layer: bool,
    symmetric: bool,
    x1: &'a Inputs<'a>,
    x2: &'a Inputs<'a>,
    diagonal_rows: &'a [f32],
    diagonal_columns: &'a [f32],
}

impl TileContext<'_> {
    /// Computes one tile's component planes; returns them with the GPU seconds.
    fn compute(&self, block: TileBlock, workspace: &mut TileWorkspace) -> Result<(Vec<f32>, f64)> {
        let (gpu, config, x1, x2) = (self.gpu, self.config, self.x1, self.x2);
        let depth = config.depth;
        let plane = block.rows * block.columns;

        let row_points = Matrix::upload(
            gpu,
            x1.rows(block.row, block.rows),
            block.rows,
            x1.dimension,
            "ntk row points",
        )?;
        let column_points = Matrix::upload(
            gpu,
            x2.rows(block.column, block.columns),
            block.columns,
            x2.dimension,
            "ntk column points",
        )?;
        let row_diagonal = gpu.upload(
            &self.diagonal_rows[block.row * depth..(block.row + block.rows) * depth],
            "ntk row diagonals",
        )?;
        let column_diagonal = gpu.upload(
            &self.diagonal_columns[block.column * depth..(block.column + block.columns) * depth],
            "ntk column diagonals",
        )?;
        let (alpha_first, alpha_hidden, beta) = config.gradient_kernel_coefficients(x1.dimension);
        let params = NtkParams {
            rows: block.rows as u32,
            columns: block.columns as u32,
            depth: depth as u32,
            row_offset: block.row as u32,
            column_offset: block.column as u32,
            same_points: u32::from(self.symmetric),
            padding0: [0; 2],
            inverse_dimension: (1.0 / x1.dimension as f64) as f32,
            w_variance: config.w_variance() as f32,
            b_variance: config.b_variance() as f32,
            alpha_first: alpha_first as f32,
            alpha_hidden: alpha_hidden as f32,
            beta: beta as f32,
            padding1: [0.0; 2],
        };
        let activation_code = match config.activation {
            Activation::Relu => 0.0,
            Activation::Erf => 1.0,
        };
        let kernel = gpu.kernel(
            &shaders::NTK,
            "ntk_tile",
            &[
                ("ACTIVATION", activation_code),
                ("PER_LAYER", f64::from(u8::from(self.per_layer))),
            ],
        )?;

        let mut recorder = gpu.timed_recorder("ntk tile");
        let gram = ops::gram(&mut recorder, &row_points, &column_points)?;
        let uniform = recorder.uniform(&params)?;
        let grid = grid_1d(gpu, plane, "ntk_tile")?;
        recorder.dispatch(
            &kernel,
            &[
                (0, gram.buffer().raw()),
                (1, row_diagonal.raw()),
                (2, column_diagonal.raw()),
                (3, workspace.output.raw()),
                (4, &uniform),
            ],
            grid,
            "ntk_tile",
        )?;
        let submitted = recorder.submit()?;

        let components = component_names(depth, self.per_layer).len();
        let values = gpu.read_range(&workspace.output, 0..plane * components)?;
        Ok((values, submitted.seconds()))
    }
}
