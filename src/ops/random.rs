//! Random streams on the GPU (`shaders/random.wgsl`), identical to
//! [`crate::random::PhiloxStream`] on the host.

use bytemuck::{Pod, Zeroable};

use crate::error::{Error, Result};
use crate::gpu::{grid_1d, GpuBuffer, Recorder};
use crate::random::PhiloxStream;
use crate::shaders;

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct RandomParams {
    key: [u32; 2],
    stream: [u32; 2],
    block_offset: [u32; 2],
    count: u32,
    padding: u32,
}

fn record_random<T: Pod>(
    recorder: &mut Recorder,
    entry_point: &str,
    output: &GpuBuffer<T>,
    stream: PhiloxStream,
    offset: u64,
) -> Result<()> {
    if offset % 4 != 0 {
        return Err(Error::InvalidArgument {
            name: "random stream offset",
            value: offset.to_string(),
            expected: "a multiple of 4 (streams are generated in blocks of four values)"
                .to_string(),
        });
    }
    let count = u32::try_from(output.len()).map_err(|_| Error::InvalidArgument {
        name: "random output length",
        value: output.len().to_string(),
        expected: "at most 2^32 - 1 values per dispatch; fill in parts with offsets".to_string(),
    })?;
    let block_offset = offset / 4;
    let gpu = recorder.gpu();
    let kernel = gpu.kernel(&shaders::RANDOM, entry_point, &[])?;
    let params = recorder.uniform(&RandomParams {
        key: [stream.seed as u32, (stream.seed >> 32) as u32],
        stream: [stream.stream as u32, (stream.stream >> 32) as u32],
        block_offset: [block_offset as u32, (block_offset >> 32) as u32],
        count,
        padding: 0,
    })?;
    let blocks = output.len().div_ceil(4);
    let grid = grid_1d(gpu, blocks, entry_point)?;
    recorder.dispatch(
        &kernel,
        &[(0, output.raw()), (1, &params)],
        grid,
        entry_point,
    )
}

/// Records the Philox words `offset .. offset + output.len()` of `stream`
/// into `output`. `offset` must be a multiple of 4.
pub fn fill_random_bits(
    recorder: &mut Recorder,
    output: &GpuBuffer<u32>,
    stream: PhiloxStream,
    offset: u64,
) -> Result<()> {
    record_random(recorder, "random_bits", output, stream, offset)
}

/// Records uniform values in (0, 1), equal bit for bit to
/// [`PhiloxStream::uniform`].
pub fn fill_uniform(
    recorder: &mut Recorder,
    output: &GpuBuffer<f32>,
    stream: PhiloxStream,
    offset: u64,
) -> Result<()> {
    record_random(recorder, "random_uniform", output, stream, offset)
}

/// Records standard normal values; they agree with
/// [`PhiloxStream::normal`] to a few units in the last place.
pub fn fill_normal(
    recorder: &mut Recorder,
    output: &GpuBuffer<f32>,
    stream: PhiloxStream,
    offset: u64,
) -> Result<()> {
    record_random(recorder, "random_normal", output, stream, offset)
}
