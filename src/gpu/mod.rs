//! The GPU runtime: adapter selection, buffers, pipelines, batched
//! submission and timing. See [`Gpu`].

mod buffer;
mod context;
mod pipeline;
mod recorder;

pub use buffer::GpuBuffer;
pub use context::{enumerate_adapters, parse_backends, Gpu, GpuOptions};
pub use pipeline::{Kernel, PipelineCacheStats};
pub use recorder::{DispatchTiming, Recorder, SubmitReport, TimingSource};

use crate::error::{Error, Result};

/// Invocations per workgroup of the one-dimensional kernels.
pub const WORKGROUP_SIZE_1D: u32 = 256;

/// Workgroup counts that cover `items` invocations of a one-dimensional
/// kernel, folded into x and y when x alone would pass the adapter's limit.
/// Shaders recover the flat index with `shared/grid.wgsl`'s `linear_index`.
pub fn grid_1d(gpu: &Gpu, items: usize, what: &str) -> Result<[u32; 3]> {
    let groups = items.div_ceil(WORKGROUP_SIZE_1D as usize) as u64;
    let limit = gpu.limits().max_compute_workgroups_per_dimension as u64;
    if groups == 0 {
        return Ok([0, 1, 1]);
    }
    let x = groups.min(limit);
    let y = groups.div_ceil(x);
    if y > limit || items > u32::MAX as usize {
        return Err(Error::TooManyWorkgroups {
            what: format!("{what} over {items} elements"),
            requested: groups,
            limit: limit as u32,
        });
    }
    Ok([x as u32, y as u32, 1])
}
