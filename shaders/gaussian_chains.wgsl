// Many independent Gaussian draws at once: chain c draws `count` points of
// N(mean_c, lambda F_c F_c^T) and the kernels return each chain's sample
// mean and centred second moment.
//
// Bindings (all entry points share them; each uses a subset):
//   0 means: chains x d,   1 factors: chains x d x d (lower triangular),
//   2 streams: chains x 2 words (Philox stream id, low word first),
//   3 samples: chains x count x d (scratch; noise, then points),
//   4 sample_means: chains x d,   5 moments: chains x d x d,
//   6 parameters.
// Workgroup: 256 x 1 x 1 over a 2-D grid (see shared/grid).
//   chain_noise:     one invocation per block of 4 noise values of a chain;
//                    value e of chain c is element e of Philox stream
//                    (seed, streams[c]), as random::PhiloxStream::normal.
//   chain_transform: one invocation per (chain, point); x = mean +
//                    sqrt(lambda) F z, overwriting z in place.
//   chain_means:     one invocation per (chain, dimension).
//   chain_moments:   one invocation per (chain, row, column) of M2.

#import shared/grid
#import shared/philox
#import shared/portable_math

struct ChainParams {
    chains: u32,
    count: u32,
    dimension: u32,
    _padding0: u32,
    key: vec2<u32>,
    scale: f32,
    _padding1: f32,
}

@group(0) @binding(0) var<storage, read> means: array<f32>;
@group(0) @binding(1) var<storage, read> factors: array<f32>;
@group(0) @binding(2) var<storage, read> streams: array<u32>;
@group(0) @binding(3) var<storage, read_write> samples: array<f32>;
@group(0) @binding(4) var<storage, read_write> sample_means: array<f32>;
@group(0) @binding(5) var<storage, read_write> moments: array<f32>;
@group(0) @binding(6) var<uniform> params: ChainParams;

fn box_muller_pair(u1: f32, u2: f32) -> vec2<f32> {
    let radius = sqrt(-2.0 * portable_log(u1));
    return radius * portable_cos_sin_pi(2.0 * u2);
}

@compute @workgroup_size(256)
fn chain_noise(@builtin(global_invocation_id) global_id: vec3<u32>,
               @builtin(num_workgroups) workgroup_count: vec3<u32>) {
    let per_chain = params.count * params.dimension;
    let blocks_per_chain = (per_chain + 3u) / 4u;
    let index = linear_index(global_id, workgroup_count);
    if (index >= blocks_per_chain * params.chains) {
        return;
    }
    let chain = index / blocks_per_chain;
    let block = index % blocks_per_chain;
    let counter = vec4<u32>(block, 0u, streams[2u * chain], streams[2u * chain + 1u]);
    let bits = philox4x32_10(counter, params.key);
    let first = box_muller_pair(philox_uniform(bits.x), philox_uniform(bits.y));
    let second = box_muller_pair(philox_uniform(bits.z), philox_uniform(bits.w));
    let values = vec4<f32>(first, second);
    for (var lane = 0u; lane < 4u; lane = lane + 1u) {
        let element = block * 4u + lane;
        if (element < per_chain) {
            samples[chain * per_chain + element] = values[lane];
        }
    }
}

@compute @workgroup_size(256)
fn chain_transform(@builtin(global_invocation_id) global_id: vec3<u32>,
                   @builtin(num_workgroups) workgroup_count: vec3<u32>) {
    let index = linear_index(global_id, workgroup_count);
    if (index >= params.chains * params.count) {
        return;
    }
    let chain = index / params.count;
    let d = params.dimension;
    let base = index * d;
    // Rows from last to first, so every z_k is read before row k overwrites it.
    for (var step = 0u; step < d; step = step + 1u) {
        let row = d - 1u - step;
        var total = 0.0;
        for (var k = 0u; k <= row; k = k + 1u) {
            total = total + factors[(chain * d + row) * d + k] * samples[base + k];
        }
        samples[base + row] = means[chain * d + row] + params.scale * total;
    }
}

@compute @workgroup_size(256)
fn chain_means(@builtin(global_invocation_id) global_id: vec3<u32>,
               @builtin(num_workgroups) workgroup_count: vec3<u32>) {
    let index = linear_index(global_id, workgroup_count);
    let d = params.dimension;
    if (index >= params.chains * d) {
        return;
    }
    let chain = index / d;
    let column = index % d;
    var total = 0.0;
    for (var i = 0u; i < params.count; i = i + 1u) {
        total = total + samples[(chain * params.count + i) * d + column];
    }
    sample_means[index] = total / f32(params.count);
}

@compute @workgroup_size(256)
fn chain_moments(@builtin(global_invocation_id) global_id: vec3<u32>,
                 @builtin(num_workgroups) workgroup_count: vec3<u32>) {
    let index = linear_index(global_id, workgroup_count);
    let d = params.dimension;
    if (index >= params.chains * d * d) {
        return;
    }
    let chain = index / (d * d);
    let row = (index / d) % d;
    let column = index % d;
    let mean_row = sample_means[chain * d + row];
    let mean_column = sample_means[chain * d + column];
    var total = 0.0;
    for (var i = 0u; i < params.count; i = i + 1u) {
        let point = (chain * params.count + i) * d;
        total = total + (samples[point + row] - mean_row) * (samples[point + column] - mean_column);
    }
    moments[index] = total;
}
