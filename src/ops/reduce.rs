//! Row, column and whole-array reductions (`shaders/reduce.wgsl`).

use bytemuck::{Pod, Zeroable};

use crate::error::{Error, Result};
use crate::gpu::{GpuBuffer, Recorder};
use crate::ops::Matrix;
use crate::shaders;

/// A reduction over a row, a column or a whole array.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reduction {
    /// Sum of the values.
    Sum,
    /// Arithmetic mean.
    Mean,
    /// Largest value (-inf for an empty range).
    Max,
    /// Smallest value (+inf for an empty range).
    Min,
    /// Sum of squares.
    SumOfSquares,
    /// Sum of absolute values.
    SumOfAbs,
}

impl Reduction {
    /// Returns the shader's OP code for the first pass over the data.
    fn first_pass_code(self) -> u32 {
        match self {
            Reduction::Sum | Reduction::Mean => 0,
            Reduction::Max => 1,
            Reduction::Min => 2,
            Reduction::SumOfSquares => 3,
            Reduction::SumOfAbs => 4,
        }
    }

    /// Returns the OP code that combines partial results of the first pass.
    fn combine_code(self) -> u32 {
        match self {
            Reduction::Max => 1,
            Reduction::Min => 2,
            _ => 0,
        }
    }
}

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct ReduceParams {
    length: u32,
    segment_length: u32,
    segment_count: u32,
    scale: f32,
    rows: u32,
    columns: u32,
    chunk_rows: u32,
    padding: u32,
}

/// Segment length per workgroup when reducing a whole array: each of the 256
/// invocations folds 64 values before the tree step.
const WHOLE_ARRAY_SEGMENT: usize = 256 * 64;
/// Rows per column-reduction chunk; the chunks' partial results are combined
/// in a second pass.
const COLUMN_CHUNK_ROWS: usize = 256;
/// At most this many chunks per pass, so that the y dimension of the grid
/// stays far below the 65535-workgroup limit.
const MAX_COLUMN_CHUNKS: usize = 4096;

fn check_u32(name: &'static str, value: usize) -> Result<u32> {
    u32::try_from(value).map_err(|_| Error::InvalidArgument {
        name,
        value: value.to_string(),
        expected: "at most 2^32 - 1 elements; split the array".to_string(),
    })
}

/// Records one pass of `reduce_segments` and returns its output buffer.
fn record_segments(
    recorder: &mut Recorder,
    input: &GpuBuffer<f32>,
    length: usize,
    segment_length: usize,
    op_code: u32,
    scale: f32,
) -> Result<GpuBuffer<f32>> {
    let segment_count = length.div_ceil(segment_length.max(1));
    let gpu = recorder.gpu();
    let output = gpu.create_buffer::<f32>(segment_count, "reduction output")?;
    if segment_count == 0 {
        return Ok(output);
    }
    let kernel = gpu.kernel(
        &shaders::REDUCE,
        "reduce_segments",
        &[("OP", op_code as f64)],
    )?;
    let params = recorder.uniform(&ReduceParams {
        length: check_u32("reduction length", length)?,
        segment_length: check_u32("segment length", segment_length)?,
        segment_count: segment_count as u32,
        scale,
        rows: 0,
        columns: 0,
        chunk_rows: 0,
        padding: 0,
    })?;
    let limit = gpu.limits().max_compute_workgroups_per_dimension as usize;
    let x = segment_count.min(limit);
    let y = segment_count.div_ceil(x);
    recorder.dispatch(
        &kernel,
        &[(0, input.raw()), (1, output.raw()), (2, &params)],
        [x as u32, y as u32, 1],
        "reduce_segments",
    )?;
    Ok(output)
}

/// Records a reduction of each row of `matrix`; returns `rows` values.
pub fn reduce_rows(
    recorder: &mut Recorder,
    matrix: &Matrix,
    reduction: Reduction,
) -> Result<GpuBuffer<f32>> {
    if matrix.columns() == 0 {
        return empty_reduction(recorder, matrix.rows(), reduction);
    }
    let scale = match reduction {
        Reduction::Mean => 1.0 / matrix.columns() as f32,
        _ => 1.0,
    };
    record_segments(
        recorder,
        matrix.buffer(),
        matrix.len(),
        matrix.columns(),
        reduction.first_pass_code(),
        scale,
    )
}

/// Records a reduction of each column of `matrix`; returns `columns` values.
pub fn reduce_columns(
    recorder: &mut Recorder,
    matrix: &Matrix,
    reduction: Reduction,
) -> Result<GpuBuffer<f32>> {
    if matrix.rows() == 0 {
        return empty_reduction(recorder, matrix.columns(), reduction);
    }
    let mean_scale = match reduction {
        Reduction::Mean => 1.0 / matrix.rows() as f32,
        _ => 1.0,
    };
    let mut input = matrix.buffer().clone();
    let mut rows = matrix.rows();
    let mut op_code = reduction.first_pass_code();
    loop {
        let chunk_rows = COLUMN_CHUNK_ROWS.max(rows.div_ceil(MAX_COLUMN_CHUNKS));
        let chunks = rows.div_ceil(chunk_rows);
        let scale = if chunks == 1 { mean_scale } else { 1.0 };
        let output = record_column_pass(
            recorder,
            &input,
            rows,
            matrix.columns(),
            chunk_rows,
            op_code,
            scale,
        )?;
        if chunks == 1 {
            return Ok(output);
        }
        input = output;
        rows = chunks;
        op_code = reduction.combine_code();
    }
}

fn record_column_pass(
    recorder: &mut Recorder,
    input: &GpuBuffer<f32>,
    rows: usize,
    columns: usize,
    chunk_rows: usize,
    op_code: u32,
    scale: f32,
) -> Result<GpuBuffer<f32>> {
    let chunks = rows.div_ceil(chunk_rows);
    let gpu = recorder.gpu();
    let output = gpu.create_buffer::<f32>(chunks * columns, "column reduction output")?;
    let kernel = gpu.kernel(
        &shaders::REDUCE,
        "reduce_columns",
        &[("OP", op_code as f64)],
    )?;
    let params = recorder.uniform(&ReduceParams {
        length: check_u32("reduction length", rows * columns)?,
        segment_length: 0,
        segment_count: 0,
        scale,
        rows: rows as u32,
        columns: columns as u32,
        chunk_rows: chunk_rows as u32,
        padding: 0,
    })?;
    let column_groups = check_u32("column count", columns.div_ceil(64))?;
    recorder.dispatch(
        &kernel,
        &[(0, input.raw()), (1, output.raw()), (2, &params)],
        [column_groups, chunks as u32, 1],
        "reduce_columns",
    )?;
    Ok(output)
}

/// Records a reduction of the first `length` values of `input` to one value.
pub fn reduce_all(
    recorder: &mut Recorder,
    input: &GpuBuffer<f32>,
    reduction: Reduction,
) -> Result<GpuBuffer<f32>> {
    let length = input.len();
    if length == 0 {
        return empty_reduction(recorder, 1, reduction);
    }
    let mut current = input.clone();
    let mut remaining = length;
    let mut op_code = reduction.first_pass_code();
    loop {
        let last_pass = remaining <= WHOLE_ARRAY_SEGMENT;
        let scale = match (last_pass, reduction) {
            (true, Reduction::Mean) => 1.0 / length as f32,
            _ => 1.0,
        };
        let output = record_segments(
            recorder,
            &current,
            remaining,
            WHOLE_ARRAY_SEGMENT,
            op_code,
            scale,
        )?;
        if last_pass {
            return Ok(output);
        }
        remaining = output.len();
        current = output;
        op_code = reduction.combine_code();
    }
}

/// Uploads the result over empty ranges: 0 for sums, NaN for the mean, -inf / +inf
/// for max / min (as NumPy's identities, except that NumPy raises for max of
/// an empty array).
fn empty_reduction(
    recorder: &mut Recorder,
    count: usize,
    reduction: Reduction,
) -> Result<GpuBuffer<f32>> {
    let value = match reduction {
        Reduction::Max => f32::NEG_INFINITY,
        Reduction::Min => f32::INFINITY,
        Reduction::Mean => f32::NAN,
        _ => 0.0,
    };
    recorder
        .gpu()
        .upload(&vec![value; count], "reduction output")
}
