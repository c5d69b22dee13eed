//! Tiling of Gram matrices: tile sizes from the adapter's limits, the tile
//! grid (only tiles on and above the diagonal for a symmetric matrix), and
//! writing each tile (and its mirror) to a [`GramSink`].

use std::time::Instant;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::gpu::Gpu;
use crate::kernels::shard::{shard_range, tile_grid, Shard, TileManifest};
use crate::kernels::sink::GramSink;

/// Summary of a tiled Gram computation.
#[derive(Debug, Clone, Serialize)]
pub struct GramReport {
    /// Rows of the Gram matrices (points in the first set).
    pub rows: usize,
    /// Columns (points in the second set, or the first again).
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

/// Rows and columns of one tile, as global indices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TileBlock {
    /// First row.
    pub row: usize,
    /// Number of rows.
    pub rows: usize,
    /// First column.
    pub column: usize,
    /// Number of columns.
    pub columns: usize,
}

/// Largest tile edge chosen automatically; bigger tiles gain little and
/// delay progress reports.
const MAX_TILE: usize = 4096;

/// Picks the tile edge: `requested`, or the largest multiple of 64 (at most
/// 4096) for which `components` output planes and one point's
/// `floats_per_point` input values per tile row fit in one storage binding.
pub fn tile_edge(
    gpu: &Gpu,
    components: usize,
    floats_per_point: usize,
    requested: Option<usize>,
) -> Result<usize> {
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
    let by_output = ((binding_floats / components.max(1)) as f64).sqrt() as usize;
    let by_input = binding_floats / floats_per_point.max(1);
    let edge = by_output.min(by_input).min(MAX_TILE);
    if edge == 0 {
        return Err(Error::ExceedsLimit {
            what: format!("one input point of {floats_per_point} values"),
            requested: floats_per_point as u64 * 4,
            limit: gpu.max_storage_binding_bytes(),
            limit_name: "max_storage_buffer_binding_size",
        });
    }
    Ok(if edge >= 64 { edge / 64 * 64 } else { edge })
}

/// Tiles a run computes: its shard of the grid, minus the tiles a manifest
/// lists as finished (each finished tile is then recorded in it).
#[derive(Default)]
pub struct TileSelection<'a> {
    /// The share of the tile grid to compute.
    pub shard: Shard,
    /// Record of finished tiles, for resuming and for shards sharing an output.
    pub manifest: Option<&'a mut TileManifest>,
}

/// Computes an `n1` x `n2` Gram matrix tile by tile with `compute_tile`,
/// which returns the tile's component planes (each rows x columns,
/// row-major) and its GPU seconds, and writes them to `sink`.
///
/// With `symmetric` set (the same points on both sides) only tiles on and
/// above the diagonal are computed; the others are written as transposes.
/// With `upper_only` set as well, `compute_tile` may leave the strictly lower
/// triangle of a diagonal tile unwritten, and it is filled from the upper
/// one. Only the tiles of `selection`'s shard that its manifest does not
/// list are computed. `progress` receives (tiles done, tiles total) after
/// each tile, counted within the shard.
#[allow(clippy::too_many_arguments)]
pub fn run_tiled(
    n1: usize,
    n2: usize,
    symmetric: bool,
    upper_only: bool,
    tile: usize,
    components: usize,
    sink: &mut dyn GramSink,
    selection: TileSelection,
    progress: &mut dyn FnMut(usize, usize),
    compute_tile: &mut dyn FnMut(TileBlock) -> Result<(Vec<f32>, f64)>,
) -> Result<GramReport> {
    let started = Instant::now();
    let tiles = tile_grid(n1, n2, tile, symmetric);
    let range = shard_range(&tiles, selection.shard);
    let mut manifest = selection.manifest;
    let mut report = GramReport {
        rows: n1,
        columns: n2,
        tile,
        tiles_computed: 0,
        entries_computed: 0,
        gpu_seconds: 0.0,
        wall_seconds: 0.0,
    };
    let total = range.len();
    for (done, index) in range.enumerate() {
        if manifest.as_ref().is_some_and(|m| m.is_done(index)) {
            progress(done + 1, total);
            continue;
        }
        let block = tiles[index];
        let (planes, gpu_seconds) = compute_tile(block)?;
        let layout = TileLayout {
            symmetric,
            upper_only,
            components,
        };
        store_tile(
            sink,
            manifest.as_deref_mut(),
            &mut report,
            layout,
            index,
            block,
            planes,
            gpu_seconds,
        )?;
        progress(done + 1, total);
    }
    sink.finish()?;
    report.wall_seconds = started.elapsed().as_secs_f64();
    Ok(report)
}

/// Computes the selected tiles with several workers (one per GPU), each
/// taking the next tile from a shared queue. This thread writes the tiles,
/// records them in the manifest and reports progress in completion order.
/// Arguments and results are those of [`run_tiled`].
#[allow(clippy::too_many_arguments, clippy::type_complexity)]
pub fn run_tiled_parallel<'w>(
    n1: usize,
    n2: usize,
    symmetric: bool,
    upper_only: bool,
    tile: usize,
    components: usize,
    sink: &mut dyn GramSink,
    selection: TileSelection,
    progress: &mut dyn FnMut(usize, usize),
    workers: Vec<Box<dyn FnMut(TileBlock) -> Result<(Vec<f32>, f64)> + Send + 'w>>,
) -> Result<GramReport> {
    let started = Instant::now();
    let tiles = tile_grid(n1, n2, tile, symmetric);
    let range = shard_range(&tiles, selection.shard);
    let total = range.len();
    let mut manifest = selection.manifest;
    let pending: Vec<usize> = range
        .filter(|&index| !manifest.as_ref().is_some_and(|m| m.is_done(index)))
        .collect();
    let mut done = total - pending.len();
    let mut report = GramReport {
        rows: n1,
        columns: n2,
        tile,
        tiles_computed: 0,
        entries_computed: 0,
        gpu_seconds: 0.0,
        wall_seconds: 0.0,
    };
    let next = std::sync::atomic::AtomicUsize::new(0);
    let stop = std::sync::atomic::AtomicBool::new(false);
    let (sender, receiver) =
        std::sync::mpsc::sync_channel::<Result<(usize, Vec<f32>, f64)>>(workers.len() * 2);

    std::thread::scope(|scope| -> Result<()> {
        for mut worker in workers {
            let (sender, next, stop, pending, tiles) =
                (sender.clone(), &next, &stop, &pending, &tiles);
            scope.spawn(move || {
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let position = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(&index) = pending.get(position) else {
                        break;
                    };
                    let outcome =
                        worker(tiles[index]).map(|(planes, seconds)| (index, planes, seconds));
                    let failed = outcome.is_err();
                    if sender.send(outcome).is_err() || failed {
                        break;
                    }
                }
            });
        }
        drop(sender);
        let mut first_error = None;
        for outcome in receiver {
            let (index, planes, gpu_seconds) = match outcome {
                Ok(value) => value,
                Err(error) => {
                    stop.store(true, std::sync::atomic::Ordering::Relaxed);
                    first_error.get_or_insert(error);
                    continue;
                }
            };
            if first_error.is_some() {
                continue;
            }
            let layout = TileLayout {
                symmetric,
                upper_only,
                components,
            };
            if let Err(error) = store_tile(
                sink,
                manifest.as_deref_mut(),
                &mut report,
                layout,
                index,
                tiles[index],
                planes,
                gpu_seconds,
            ) {
                stop.store(true, std::sync::atomic::Ordering::Relaxed);
                first_error = Some(error);
                continue;
            }
            done += 1;
            progress(done, total);
        }
        first_error.map_or(Ok(()), Err)
    })?;
    sink.finish()?;
    report.wall_seconds = started.elapsed().as_secs_f64();
    Ok(report)
}

/// How a tile's planes map onto the output.
#[derive(Clone, Copy)]
struct TileLayout {
    symmetric: bool,
    upper_only: bool,
    components: usize,
}

/// Completes a computed tile, the same way for one worker or several:
/// mirrors a diagonal tile's upper triangle if needed, writes the tile (and
/// its transpose below the diagonal), records it in the manifest after the
/// data is synced, and counts it in the report.
#[allow(clippy::too_many_arguments)]
fn store_tile(
    sink: &mut dyn GramSink,
    manifest: Option<&mut TileManifest>,
    report: &mut GramReport,
    layout: TileLayout,
    index: usize,
    block: TileBlock,
    mut planes: Vec<f32>,
    gpu_seconds: f64,
) -> Result<()> {
    let diagonal = block.row == block.column;
    if layout.symmetric && layout.upper_only && diagonal {
        mirror_upper_triangle(&mut planes, block.rows, layout.components);
    }
    write_tile(
        sink,
        &planes,
        layout.components,
        block,
        layout.symmetric && !diagonal,
    )?;
    if let Some(manifest) = manifest {
        sink.sync()?;
        manifest.mark_done(index)?;
    }
    report.tiles_computed += 1;
    report.entries_computed += (block.rows * block.columns) as u64;
    report.gpu_seconds += gpu_seconds;
    Ok(())
}

/// Copies the strict upper triangle of each square plane onto the lower one.
fn mirror_upper_triangle(planes: &mut [f32], edge: usize, components: usize) {
    for plane in planes.chunks_mut(edge * edge).take(components) {
        for r in 0..edge {
            for c in 0..r {
                plane[r * edge + c] = plane[c * edge + r];
            }
        }
    }
}

/// Writes each component plane of a tile, and its transpose below the
/// diagonal when `mirror` is set.
fn write_tile(
    sink: &mut dyn GramSink,
    planes: &[f32],
    components: usize,
    block: TileBlock,
    mirror: bool,
) -> Result<()> {
    let plane = block.rows * block.columns;
    let mut transposed = Vec::new();
    for component in 0..components {
        let values = &planes[component * plane..(component + 1) * plane];
        sink.write_block(
            component,
            block.row,
            block.column,
            block.rows,
            block.columns,
            values,
        )?;
        if mirror {
            transposed.clear();
            transposed.resize(plane, 0.0);
            for r in 0..block.rows {
                for c in 0..block.columns {
                    transposed[c * block.rows + r] = values[r * block.columns + c];
                }
            }
            sink.write_block(
                component,
                block.column,
                block.row,
                block.columns,
                block.rows,
                &transposed,
            )?;
        }
    }
    Ok(())
}
