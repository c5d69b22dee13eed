//! k-nearest-neighbour radii and ball counts on the GPU (`shaders/knn.wgsl`),
//! computed in tiles so that large point sets fit the adapter's limits.
//!
//! Each point set is uploaded in blocks that fit one storage binding. For
//! every query block, the host dispatches the kernel over the reference
//! blocks in chunks of at most [`KnnTiling::chunk_rows`] rows. The
//! per-query state (the k smallest squared distances, or a count and the
//! nearest squared distance) stays in a storage buffer between dispatches
//! and is read back once per query block.

use bytemuck::{Pod, Zeroable};

use crate::error::{Error, Result};
use crate::gpu::{grid_1d, Gpu, Recorder};
use crate::metrics::points::{check_dim, PointBlocks, PointSet};
use crate::shaders;

/// Largest k that the k-NN kernel supports (the size of its private array).
pub const MAX_K: usize = 32;

/// Coordinate differences (queries x references x padded dim) that one
/// dispatch may compute by default. The cap bounds the duration of a single
/// dispatch, because some drivers reset a GPU whose dispatch runs for
/// seconds (Windows' timeout detection and recovery, for one).
const WORK_PER_DISPATCH: u64 = 1 << 31;

/// Dispatches per submission. Grouping spreads the cost of a submission over
/// several dispatches, and splitting keeps one submission of a huge search
/// within the GPU wait timeout.
const DISPATCHES_PER_SUBMISSION: usize = 16;

/// Sizes of the pieces in which the k-NN kernels process point sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KnnTiling {
    /// Maximum rows of one block, the part of a point set held in one
    /// storage buffer.
    pub block_rows: usize,
    /// Maximum reference rows that one dispatch compares with every query
    /// of a block.
    pub chunk_rows: usize,
}

impl KnnTiling {
    /// Returns the default tiling for sets of at most `points` points of
    /// `dim` coordinates searched with `k` neighbours: blocks as large as the
    /// adapter's storage-binding limit allows, and chunks that keep one
    /// dispatch to about 2^31 coordinate differences.
    pub fn for_adapter(gpu: &Gpu, points: usize, dim: usize, k: usize) -> Self {
        let row_bytes = (dim.max(1).div_ceil(4) * 16) as u64;
        let state_bytes = (k.clamp(1, MAX_K) * 4) as u64;
        let binding_rows = gpu.max_storage_binding_bytes() / row_bytes.max(state_bytes);
        let block_rows = (binding_rows.min(u32::MAX as u64) as usize).clamp(1, points.max(1));
        let work_per_reference = block_rows as u64 * row_bytes / 4;
        let chunk_rows =
            (WORK_PER_DISPATCH / work_per_reference).clamp(1, block_rows as u64) as usize;
        Self {
            block_rows,
            chunk_rows,
        }
    }

    pub(crate) fn validate(&self) -> Result<()> {
        for (name, value) in [
            ("block_rows", self.block_rows),
            ("chunk_rows", self.chunk_rows),
        ] {
            if value == 0 || value > u32::MAX as usize {
                return Err(Error::InvalidArgument {
                    name,
                    value: value.to_string(),
                    expected: format!("1 ..= {}", u32::MAX),
                });
            }
        }
        Ok(())
    }
}

/// Checks 1 <= k <= min(MAX_K, rows - 1) for a set of `rows` points.
pub(crate) fn check_k(k: usize, rows: usize, name: &str) -> Result<()> {
    let upper = MAX_K.min(rows.saturating_sub(1));
    if upper == 0 {
        return Err(Error::InvalidArgument {
            name: "k",
            value: k.to_string(),
            expected: format!("a k-NN radius needs at least 2 {name}, but there are {rows}"),
        });
    }
    if k == 0 || k > upper {
        return Err(Error::InvalidArgument {
            name: "k",
            value: k.to_string(),
            expected: format!(
                "an integer in 1 ..= {upper}, because k must be at most {MAX_K} and below the number of {name} ({rows})"
            ),
        });
    }
    Ok(())
}

/// Computes the distance from each point to its k-th nearest neighbour among
/// the other points of the same set (Euclidean, f32).
///
/// `points` contains n x dim row-major values. Requires dim >= 1,
/// 1 <= k <= min(32, n - 1) and finite coordinates; the errors name the
/// value and the allowed range. A duplicate of a point counts as a
/// neighbour at distance 0.
pub fn knn_radii(gpu: &Gpu, points: &[f32], dim: usize, k: usize) -> Result<Vec<f32>> {
    check_dim(dim)?;
    let tiling = KnnTiling::for_adapter(gpu, points.len() / dim, dim, k);
    knn_radii_tiled(gpu, points, dim, k, tiling)
}

/// Computes [`knn_radii`] with an explicit tiling, for example small chunks
/// that bound the duration of each dispatch.
pub fn knn_radii_tiled(
    gpu: &Gpu,
    points: &[f32],
    dim: usize,
    k: usize,
    tiling: KnnTiling,
) -> Result<Vec<f32>> {
    let set = PointSet::new(points, dim, "points")?;
    check_k(k, set.rows, set.name)?;
    tiling.validate()?;
    let blocks = PointBlocks::upload(gpu, &set, tiling.block_rows)?;
    let radii2 = kth_smallest_squared(gpu, &blocks, k, tiling.chunk_rows)?;
    Ok(radii2.into_iter().map(f32::sqrt).collect())
}

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct KnnParams {
    query_count: u32,
    row_vectors: u32,
    reference_begin: u32,
    reference_end: u32,
    k: u32,
    exclude_self: u32,
    query_offset: u32,
    reference_offset: u32,
}

/// One recorder at a time, submitted every [`DISPATCHES_PER_SUBMISSION`]
/// dispatches and at the end.
struct Batches<'gpu> {
    gpu: &'gpu Gpu,
    label: &'static str,
    recorder: Option<Recorder<'gpu>>,
}

impl<'gpu> Batches<'gpu> {
    fn new(gpu: &'gpu Gpu, label: &'static str) -> Self {
        Self {
            gpu,
            label,
            recorder: None,
        }
    }

    fn recorder(&mut self) -> Result<&mut Recorder<'gpu>> {
        if self
            .recorder
            .as_ref()
            .is_some_and(|recorder| recorder.dispatch_count() >= DISPATCHES_PER_SUBMISSION)
        {
            self.submit()?;
        }
        Ok(self
            .recorder
            .get_or_insert_with(|| self.gpu.recorder(self.label)))
    }

    fn submit(&mut self) -> Result<()> {
        if let Some(recorder) = self.recorder.take() {
            recorder.submit()?;
        }
        Ok(())
    }
}

/// Calls `record` for every chunk of every reference block, in order, with
/// the block index and the chunk's row range inside the block.
fn for_each_chunk(
    references: &PointBlocks,
    chunk_rows: usize,
    mut record: impl FnMut(usize, std::ops::Range<usize>) -> Result<()>,
) -> Result<()> {
    for block in 0..references.len() {
        let rows = references.rows[block];
        let mut begin = 0;
        while begin < rows {
            let end = (begin + chunk_rows).min(rows);
            record(block, begin..end)?;
            begin = end;
        }
    }
    Ok(())
}

/// Returns, for each point of `blocks`, the k-th smallest squared distance to
/// the other points of the same set.
pub(crate) fn kth_smallest_squared(
    gpu: &Gpu,
    blocks: &PointBlocks,
    k: usize,
    chunk_rows: usize,
) -> Result<Vec<f32>> {
    let kernel = gpu.kernel(&shaders::KNN, "knn_smallest", &[])?;
    let mut kth = Vec::with_capacity(blocks.total_rows);
    for query_block in 0..blocks.len() {
        let query_rows = blocks.rows[query_block];
        let state = gpu.upload(
            &vec![f32::MAX; query_rows * k],
            "k smallest squared distances",
        )?;
        let grid = grid_1d(gpu, query_rows, "k-NN search")?;
        let mut batches = Batches::new(gpu, "k-NN search");
        for_each_chunk(blocks, chunk_rows, |reference_block, range| {
            let params = KnnParams {
                query_count: query_rows as u32,
                row_vectors: blocks.row_vectors as u32,
                reference_begin: range.start as u32,
                reference_end: range.end as u32,
                k: k as u32,
                exclude_self: 1,
                query_offset: blocks.offsets[query_block] as u32,
                reference_offset: blocks.offsets[reference_block] as u32,
            };
            let recorder = batches.recorder()?;
            let uniform = recorder.uniform(&params)?;
            let bindings = [
                (0, blocks.buffers[query_block].raw()),
                (1, blocks.buffers[reference_block].raw()),
                (2, &uniform),
                (3, state.raw()),
            ];
            recorder.dispatch(&kernel, &bindings, grid, "knn_smallest")
        })?;
        batches.submit()?;
        let smallest = gpu.read(&state)?;
        kth.extend(smallest.chunks_exact(k).map(|row| row[k - 1]));
    }
    Ok(kth)
}

/// Per-query results of [`ball_counts`].
pub(crate) struct BallCounts {
    /// Number of reference balls that contain the query (d^2 < r^2).
    pub counts: Vec<u32>,
    /// Squared distance from the query to its nearest reference.
    pub nearest2: Vec<f32>,
}

/// Counts, for each query, the references whose ball contains it, where
/// reference j's ball has squared radius `reference_radii2[j]`, and finds the
/// nearest reference. Queries and references are different sets.
pub(crate) fn ball_counts(
    gpu: &Gpu,
    queries: &PointBlocks,
    references: &PointBlocks,
    reference_radii2: &[f32],
    chunk_rows: usize,
) -> Result<BallCounts> {
    let kernel = gpu.kernel(&shaders::KNN, "ball_count", &[])?;
    let radii_blocks = (0..references.len())
        .map(|block| {
            let start = references.offsets[block];
            let radii = &reference_radii2[start..start + references.rows[block]];
            gpu.upload(radii, "reference squared radii")
        })
        .collect::<Result<Vec<_>>>()?;

    let mut result = BallCounts {
        counts: Vec::with_capacity(queries.total_rows),
        nearest2: Vec::with_capacity(queries.total_rows),
    };
    for query_block in 0..queries.len() {
        let query_rows = queries.rows[query_block];
        let counts = gpu.create_buffer::<u32>(query_rows, "ball counts")?;
        let nearest2 = gpu.upload(&vec![f32::MAX; query_rows], "nearest squared distances")?;
        let grid = grid_1d(gpu, query_rows, "ball count")?;
        let mut batches = Batches::new(gpu, "ball count");
        for_each_chunk(references, chunk_rows, |reference_block, range| {
            let params = KnnParams {
                query_count: query_rows as u32,
                row_vectors: queries.row_vectors as u32,
                reference_begin: range.start as u32,
                reference_end: range.end as u32,
                k: 0,
                exclude_self: 0,
                query_offset: queries.offsets[query_block] as u32,
                reference_offset: references.offsets[reference_block] as u32,
            };
            let recorder = batches.recorder()?;
            let uniform = recorder.uniform(&params)?;
            let bindings = [
                (0, queries.buffers[query_block].raw()),
                (1, references.buffers[reference_block].raw()),
                (2, &uniform),
                (4, radii_blocks[reference_block].raw()),
                (5, counts.raw()),
                (6, nearest2.raw()),
            ];
            recorder.dispatch(&kernel, &bindings, grid, "ball_count")
        })?;
        batches.submit()?;
        result.counts.extend(gpu.read(&counts)?);
        result.nearest2.extend(gpu.read(&nearest2)?);
    }
    Ok(result)
}
