// Reductions of f32 arrays: sums, maxima, minima, sums of squares and of
// absolute values.
//
// Bindings: 0 input (read-only), 1 output, 2 parameters.
// OP selects the reduction: 0 sum, 1 max, 2 min, 3 sum of squares,
// 4 sum of absolute values. Every result is multiplied by `scale` (1 for a
// plain reduction, 1/count for a mean).
//
// reduce_segments: workgroup of 256 invocations per segment, where segment s
//   is input[s * segment_length .. min((s + 1) * segment_length, length)].
//   Row reductions of an m x n matrix are segments of length n. Segments are
//   spread over a 2-D grid of workgroups (s = x + y * groups_x).
// reduce_columns: workgroup of 64 x 4 invocations; x picks a column and the
//   4 rows of invocations share a chunk of `chunk_rows` rows of the matrix
//   (workgroup y index = chunk). output[chunk * columns + column] holds the
//   partial result; the host runs a second pass when there is more than one
//   chunk.

struct ReduceParams {
    length: u32,
    segment_length: u32,
    segment_count: u32,
    scale: f32,
    rows: u32,
    columns: u32,
    chunk_rows: u32,
    _padding: u32,
}

override OP: u32 = 0u;

@group(0) @binding(0) var<storage, read> input: array<f32>;
@group(0) @binding(1) var<storage, read_write> output: array<f32>;
@group(0) @binding(2) var<uniform> params: ReduceParams;

var<workgroup> partials: array<f32, 256>;

fn reduce_identity() -> f32 {
    switch OP {
        case 1u: { return bitcast<f32>(0xFF800000u); }  // -infinity
        case 2u: { return bitcast<f32>(0x7F800000u); }  // +infinity
        default: { return 0.0; }
    }
}

// Maps an input element before combining (squares, absolute values).
fn reduce_prepare(x: f32) -> f32 {
    switch OP {
        case 3u: { return x * x; }
        case 4u: { return abs(x); }
        default: { return x; }
    }
}

fn reduce_combine(left: f32, right: f32) -> f32 {
    switch OP {
        case 1u: { return max(left, right); }
        case 2u: { return min(left, right); }
        default: { return left + right; }
    }
}

@compute @workgroup_size(256)
fn reduce_segments(@builtin(workgroup_id) group: vec3<u32>,
                   @builtin(num_workgroups) workgroup_count: vec3<u32>,
                   @builtin(local_invocation_index) local_index: u32) {
    let segment = group.x + group.y * workgroup_count.x;
    // `segment` is the same for the whole workgroup, so every invocation
    // reaches the barriers below or none does.
    if (segment >= params.segment_count) {
        return;
    }
    let start = segment * params.segment_length;
    let end = min(start + params.segment_length, params.length);

    var accumulator = reduce_identity();
    for (var index = start + local_index; index < end; index = index + 256u) {
        accumulator = reduce_combine(accumulator, reduce_prepare(input[index]));
    }
    partials[local_index] = accumulator;
    workgroupBarrier();

    for (var stride = 128u; stride > 0u; stride = stride >> 1u) {
        if (local_index < stride) {
            partials[local_index] = reduce_combine(partials[local_index], partials[local_index + stride]);
        }
        workgroupBarrier();
    }
    if (local_index == 0u) {
        output[segment] = params.scale * partials[0];
    }
}

@compute @workgroup_size(64, 4)
fn reduce_columns(@builtin(workgroup_id) group: vec3<u32>,
                  @builtin(local_invocation_id) local: vec3<u32>) {
    let column = group.x * 64u + local.x;
    let chunk = group.y;
    let row_start = chunk * params.chunk_rows;
    let row_end = min(row_start + params.chunk_rows, params.rows);

    var accumulator = reduce_identity();
    if (column < params.columns) {
        for (var row = row_start + local.y; row < row_end; row = row + 4u) {
            accumulator = reduce_combine(accumulator, reduce_prepare(input[row * params.columns + column]));
        }
    }
    partials[local.y * 64u + local.x] = accumulator;
    workgroupBarrier();

    if (local.y == 0u && column < params.columns) {
        var total = partials[local.x];
        for (var lane = 1u; lane < 4u; lane = lane + 1u) {
            total = reduce_combine(total, partials[lane * 64u + local.x]);
        }
        output[chunk * params.columns + column] = params.scale * total;
    }
}
