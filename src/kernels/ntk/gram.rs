//! Tiled NNGP/NTK Gram matrices on the GPU (`shaders/ntk.wgsl`).

use std::time::Instant;

use bytemuck::{Pod, Zeroable};

use crate::error::{Error, Result};
use crate::gpu::{grid_1d, Gpu, GpuBuffer};
use crate::kernels::ntk::reference::diagonal_trajectory;
use crate::kernels::ntk::sink::{component_names, GramSink};
use crate::kernels::ntk::{Activation, NtkConfig};
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
                message: format!("{name} has {} values, not {count} x {dimension}", values.len()),
            });
        }
        if let Some(position) = values.iter().position(|v| !v.is_finite()) {
            return Err(Error::InvalidArgument {
                name: "inputs",
                value: format!("{} in {name} at row {}, column {}", values[position], position / dimension, position % dimension),
                expected: "finite values; remove or impute NaN and infinite entries".to_string(),
            });
        }
        Ok(Self { values, count, dimension })
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

/// Summary of a Gram computation.
#[derive(Debug, Clone, serde::Serialize)]
pub struct GramReport {
    /// Rows of the Gram matrices (points in X1).
    pub rows: usize,
    /// Columns (points in X2, or X1 again).
    pub columns: usize,
    /// Tile edge used.
    pub tile: usize,
    /// Tiles computed on the GPU (mirrored tiles of a symmetric matrix not counted).
    pub tiles_computed: usize,
    /// Entries of one matrix computed on the GPU.
    pub entries_computed: u64,
    /// GPU seconds spent in the tiles' submissions (timestamps or wall-clock).
    pub gpu_seconds: f64,
    /// Host seconds for the whole computation, read-back and writing included.
    pub wall_seconds: f64,
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

/// Largest tile edge tried; bigger tiles gain little and delay progress reports.
const MAX_TILE: usize = 4096;

/// Picks the tile edge: the largest multiple of 64 (at most [`MAX_TILE`])
/// whose output planes and input blocks fit in one storage binding each.
fn tile_edge(gpu: &Gpu, components: usize, dimension: usize, requested: Option<usize>) -> Result<usize> {
    let binding_floats = (gpu.max_storage_binding_bytes() / 4) as usize;
    if let Some(tile) = requested {
        if tile == 0 {
            return Err(Error::InvalidArgument {
                name: "tile",
                value: "0".to_string(),
                expected: "a tile edge of at least 1 entry".to_string(),
            });
        }
        return Ok(tile);
    }
    let by_output = ((binding_floats / components) as f64).sqrt() as usize;
    let by_input = binding_floats / dimension;
    let edge = by_output.min(by_input).min(MAX_TILE);
    if edge == 0 {
        return Err(Error::ExceedsLimit {
            what: format!("one input point of {dimension} features"),
            requested: dimension as u64 * 4,
            limit: gpu.max_storage_binding_bytes(),
            limit_name: "max_storage_buffer_binding_size",
        });
    }
    Ok(if edge >= 64 { edge / 64 * 64 } else { edge })
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
        values.extend(diagonal_trajectory(config, &point).into_iter().map(|v| v as f32));
    }
    values
}

/// GPU resources reused by every tile.
struct TileWorkspace {
    output: GpuBuffer<f32>,
    plane_capacity: usize,
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
    let started = Instant::now();
    let components = component_names(config.depth, options.per_layer).len();
    let tile = tile_edge(gpu, components, x1.dimension, options.tile)?;
    let row_tiles = x1.count.div_ceil(tile);
    let column_tiles = x2.count.div_ceil(tile);
    let tiles: Vec<(usize, usize)> = (0..row_tiles)
        .flat_map(|i| (0..column_tiles).map(move |j| (i, j)))
        .filter(|(i, j)| !symmetric || j >= i)
        .collect();

    let diagonal_rows = diagonal_trajectories(config, x1);
    let diagonal_columns = if symmetric { diagonal_rows.clone() } else { diagonal_trajectories(config, x2) };
    let plane_capacity = tile.min(x1.count) * tile.min(x2.count);
    let mut workspace = TileWorkspace {
        output: gpu.create_buffer(plane_capacity * components, "ntk tile output")?,
        plane_capacity,
    };

    let mut report = GramReport {
        rows: x1.count,
        columns: x2.count,
        tile,
        tiles_computed: 0,
        entries_computed: 0,
        gpu_seconds: 0.0,
        wall_seconds: 0.0,
    };
    for (done, &(i, j)) in tiles.iter().enumerate() {
        let block = TileBlock {
            row: i * tile,
            rows: tile.min(x1.count - i * tile),
            column: j * tile,
            columns: tile.min(x2.count - j * tile),
        };
        let planes = compute_tile(gpu, config, options.per_layer, symmetric, x1, x2, &diagonal_rows, &diagonal_columns, block, &mut workspace, &mut report)?;
        write_tile(sink, &planes, components, block, symmetric && i != j)?;
        progress(done + 1, tiles.len());
    }
    sink.finish()?;
    report.wall_seconds = started.elapsed().as_secs_f64();
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

#[derive(Debug, Clone, Copy)]
struct TileBlock {
    row: usize,
    rows: usize,
    column: usize,
    columns: usize,
}

#[allow(clippy::too_many_arguments)]
fn compute_tile(
    gpu: &Gpu,
    config: &NtkConfig,
    per_layer: bool,
    symmetric: bool,
    x1: &Inputs,
    x2: &Inputs,
    diagonal_rows: &[f32],
    diagonal_columns: &[f32],
    block: TileBlock,
    workspace: &mut TileWorkspace,
    report: &mut GramReport,
) -> Result<Vec<f32>> {
    let depth = config.depth;
    let plane = block.rows * block.columns;
    debug_assert!(plane <= workspace.plane_capacity);

    let row_points = Matrix::upload(gpu, x1.rows(block.row, block.rows), block.rows, x1.dimension, "ntk row points")?;
    let column_points = Matrix::upload(gpu, x2.rows(block.column, block.columns), block.columns, x2.dimension, "ntk column points")?;
    let row_diagonal = gpu.upload(&diagonal_rows[block.row * depth..(block.row + block.rows) * depth], "ntk row diagonals")?;
    let column_diagonal = gpu.upload(
        &diagonal_columns[block.column * depth..(block.column + block.columns) * depth],
        "ntk column diagonals",
    )?;
    let (alpha_first, alpha_hidden, beta) = config.gradient_kernel_coefficients(x1.dimension);
    let params = NtkParams {
        rows: block.rows as u32,
        columns: block.columns as u32,
        depth: depth as u32,
        row_offset: block.row as u32,
        column_offset: block.column as u32,
        same_points: u32::from(symmetric),
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
        &[("ACTIVATION", activation_code), ("PER_LAYER", f64::from(u8::from(per_layer)))],
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

    let components = component_names(depth, per_layer).len();
    let values = gpu.read_range(&workspace.output, 0..plane * components)?;
    report.tiles_computed += 1;
    report.entries_computed += plane as u64;
    report.gpu_seconds += submitted.seconds();
    Ok(values)
}

/// Writes each component plane of a tile, and its transpose below the
/// diagonal when `mirror` is set.
fn write_tile(sink: &mut dyn GramSink, planes: &[f32], components: usize, block: TileBlock, mirror: bool) -> Result<()> {
    let plane = block.rows * block.columns;
    let mut transposed = Vec::new();
    for component in 0..components {
        let values = &planes[component * plane..(component + 1) * plane];
        sink.write_block(component, block.row, block.column, block.rows, block.columns, values)?;
        if mirror {
            transposed.clear();
            transposed.resize(plane, 0.0);
            for r in 0..block.rows {
                for c in 0..block.columns {
                    transposed[c * block.rows + r] = values[r * block.columns + c];
                }
            }
            sink.write_block(component, block.column, block.row, block.columns, block.rows, &transposed)?;
        }
    }
    Ok(())
}
