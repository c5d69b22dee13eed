// Exact t-SNE gradient and one gradient-descent step with momentum and
// per-coordinate gains.
//
// Notation: n points y_i of d coordinates (embedding, row-major n x d), joint
// probabilities p_ij (row-major n x n, zero diagonal), Student-t kernel
// w_ij = 1 / (1 + |y_i - y_j|^2) and its sum Z over all pairs i != j. With
// q_ij = w_ij / Z and an early-exaggeration factor a, the gradient of
// KL(aP || Q) is
//   dC/dy_i = 4 sum_j (a p_ij - w_ij / Z) w_ij (y_i - y_j) = 4 (a A_i - R_i / Z),
//   A_i = sum_j p_ij w_ij (y_i - y_j),   R_i = sum_j w_ij^2 (y_i - y_j),
// so one sweep over the pairs gives A, R and the row sums of w at once.
//
// Bindings: 0 probabilities (n x n), 1 embedding (n x d, updated in place),
// 2 attraction_partials and 3 repulsion_partials (chunk_count x n x d),
// 4 kernel_sum_partials (chunk_count x n), 5 parameters, 6 normaliser (Z,
// one value), 7 gradient (n x d), 8 update (the momentum term, n x d),
// 9 gains (n x d).
//
// tsne_pair_partials: workgroup 64 x 1 x 1; invocation (row i, chunk c,
//   block b) sums the terms of A_i and R_i for columns j of chunk c
//   (chunk_length columns each) and coordinates 4b .. 4b + 3, and the row sum
//   of w over the chunk (block 0 only). No barriers, so a dispatch needs no
//   uniform control flow across the workgroup.
// tsne_normaliser: one workgroup of 256; sums kernel_sum_partials into Z.
// tsne_update: workgroup 256 over a 2-D grid (see shared/grid); invocation e
//   handles coordinate e of the n x d embedding. It adds up the chunk
//   partials, stores the gradient, and applies the update rule of
//   scikit-learn's exact t-SNE (1.9.1): the gain grows by 0.2 where the previous
//   update and the gradient have opposite signs and shrinks by a factor 0.8
//   otherwise, with a floor of min_gain; then
//   update = momentum * update - learning_rate * gain * gradient and
//   y += update.

#import shared/grid

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

@group(0) @binding(0) var<storage, read> probabilities: array<f32>;
@group(0) @binding(1) var<storage, read_write> embedding: array<f32>;
@group(0) @binding(2) var<storage, read_write> attraction_partials: array<f32>;
@group(0) @binding(3) var<storage, read_write> repulsion_partials: array<f32>;
@group(0) @binding(4) var<storage, read_write> kernel_sum_partials: array<f32>;
@group(0) @binding(5) var<uniform> params: TsneParams;
@group(0) @binding(6) var<storage, read_write> normaliser: array<f32>;
@group(0) @binding(7) var<storage, read_write> gradient: array<f32>;
@group(0) @binding(8) var<storage, read_write> update: array<f32>;
@group(0) @binding(9) var<storage, read_write> gains: array<f32>;

var<workgroup> partial_sums: array<f32, 256>;

// Coordinates first .. first + 3 of point `row`, with zeros past d.
fn load_block(row: u32, first: u32) -> vec4<f32> {
    var block = vec4<f32>(0.0);
    let count = min(4u, params.dimensions - first);
    for (var c = 0u; c < count; c = c + 1u) {
        block[c] = embedding[row * params.dimensions + first + c];
    }
    return block;
}

fn squared_distance(i: u32, j: u32) -> f32 {
    var total = 0.0;
    for (var k = 0u; k < params.dimensions; k = k + 1u) {
        let difference = embedding[i * params.dimensions + k] - embedding[j * params.dimensions + k];
        total = total + difference * difference;
    }
    return total;
}

@compute @workgroup_size(64)
fn tsne_pair_partials(@builtin(global_invocation_id) id: vec3<u32>) {
    let i = id.x;
    let chunk = id.y;
    let first = 4u * id.z;
    let n = params.n;
    if (i >= n || chunk >= params.chunk_count || first >= params.dimensions) {
        return;
    }
    let column_start = chunk * params.chunk_length;
    let column_end = min(column_start + params.chunk_length, n);
    // With at most four coordinates the block holds the whole point, so the
    // distance comes from the block difference without a second loop.
    let whole_point = params.dimensions <= 4u;
    let y_i = load_block(i, first);

    var attraction = vec4<f32>(0.0);
    var repulsion = vec4<f32>(0.0);
    var kernel_sum = 0.0;
    for (var j = column_start; j < column_end; j = j + 1u) {
        if (j == i) {
            continue;
        }
        let difference = y_i - load_block(j, first);
        var distance2 = 0.0;
        if (whole_point) {
            distance2 = dot(difference, difference);
        } else {
            distance2 = squared_distance(i, j);
        }
        let w = 1.0 / (1.0 + distance2);
        attraction = attraction + (probabilities[i * n + j] * w) * difference;
        repulsion = repulsion + (w * w) * difference;
        kernel_sum = kernel_sum + w;
    }

    let base = (chunk * n + i) * params.dimensions + first;
    let count = min(4u, params.dimensions - first);
    for (var c = 0u; c < count; c = c + 1u) {
        attraction_partials[base + c] = attraction[c];
        repulsion_partials[base + c] = repulsion[c];
    }
    if (first == 0u) {
        kernel_sum_partials[chunk * n + i] = kernel_sum;
    }
}

@compute @workgroup_size(256)
fn tsne_normaliser(@builtin(local_invocation_index) local_index: u32) {
    let length = params.chunk_count * params.n;
    var total = 0.0;
    for (var index = local_index; index < length; index = index + 256u) {
        total = total + kernel_sum_partials[index];
    }
    partial_sums[local_index] = total;
    workgroupBarrier();
    for (var stride = 128u; stride > 0u; stride = stride >> 1u) {
        if (local_index < stride) {
            partial_sums[local_index] = partial_sums[local_index] + partial_sums[local_index + stride];
        }
        workgroupBarrier();
    }
    if (local_index == 0u) {
        normaliser[0] = partial_sums[0];
    }
}

@compute @workgroup_size(256)
fn tsne_update(@builtin(global_invocation_id) global_id: vec3<u32>,
               @builtin(num_workgroups) workgroup_count: vec3<u32>) {
    let e = linear_index(global_id, workgroup_count);
    let length = params.n * params.dimensions;
    if (e >= length) {
        return;
    }
    var attraction = 0.0;
    var repulsion = 0.0;
    for (var chunk = 0u; chunk < params.chunk_count; chunk = chunk + 1u) {
        attraction = attraction + attraction_partials[chunk * length + e];
        repulsion = repulsion + repulsion_partials[chunk * length + e];
    }
    let g = 4.0 * (params.exaggeration * attraction - repulsion / normaliser[0]);
    gradient[e] = g;

    var step = update[e];
    var gain = gains[e];
    if (step * g < 0.0) {
        gain = gain + 0.2;
    } else {
        gain = gain * 0.8;
    }
    gain = max(gain, params.min_gain);
    step = params.momentum * step - params.learning_rate * gain * g;
    gains[e] = gain;
    update[e] = step;
    embedding[e] = embedding[e] + step;
}
