// Random streams from Philox-4x32-10.
//
// Bindings: 0 output words (u32; floats are stored as their bit patterns),
//           1 parameters.
// Workgroup: 256 x 1 x 1 over a 2-D grid (see shared/grid).
// Invocation i evaluates the block with counter
// (block_offset + i as a 64-bit number in words 0-1, stream in words 2-3)
// and writes its four results to output[4i .. 4i + 3], skipping indices past
// `count`. Element j of a stream is therefore lane j % 4 of block j / 4.

#import shared/grid
#import shared/philox
#import shared/portable_math

struct RandomParams {
    key: vec2<u32>,
    stream: vec2<u32>,
    block_offset: vec2<u32>,  // low word, high word
    count: u32,
    _padding: u32,
}

@group(0) @binding(0) var<storage, read_write> output: array<u32>;
@group(0) @binding(1) var<uniform> params: RandomParams;

fn block_bits(block: u32) -> vec4<u32> {
    let low = params.block_offset.x + block;
    let carry = select(0u, 1u, low < block);
    let counter = vec4<u32>(low, params.block_offset.y + carry, params.stream.x, params.stream.y);
    return philox4x32_10(counter, params.key);
}

fn store_block(block: u32, values: vec4<u32>) {
    let first = block * 4u;
    for (var lane = 0u; lane < 4u; lane = lane + 1u) {
        if (first + lane < params.count) {
            output[first + lane] = values[lane];
        }
    }
}

// Standard normal pair from two uniforms by the Box-Muller transform.
fn box_muller(u1: f32, u2: f32) -> vec2<f32> {
    let radius = sqrt(-2.0 * portable_log(u1));
    return radius * portable_cos_sin_pi(2.0 * u2);
}

@compute @workgroup_size(256)
fn random_bits(@builtin(global_invocation_id) global_id: vec3<u32>,
               @builtin(num_workgroups) workgroup_count: vec3<u32>) {
    let block = linear_index(global_id, workgroup_count);
    if (block * 4u >= params.count) {
        return;
    }
    store_block(block, block_bits(block));
}

@compute @workgroup_size(256)
fn random_uniform(@builtin(global_invocation_id) global_id: vec3<u32>,
                  @builtin(num_workgroups) workgroup_count: vec3<u32>) {
    let block = linear_index(global_id, workgroup_count);
    if (block * 4u >= params.count) {
        return;
    }
    let bits = block_bits(block);
    var values: vec4<u32>;
    for (var lane = 0u; lane < 4u; lane = lane + 1u) {
        values[lane] = bitcast<u32>(philox_uniform(bits[lane]));
    }
    store_block(block, values);
}

@compute @workgroup_size(256)
fn random_normal(@builtin(global_invocation_id) global_id: vec3<u32>,
                 @builtin(num_workgroups) workgroup_count: vec3<u32>) {
    let block = linear_index(global_id, workgroup_count);
    if (block * 4u >= params.count) {
        return;
    }
    let bits = block_bits(block);
    let first = box_muller(philox_uniform(bits.x), philox_uniform(bits.y));
    let second = box_muller(philox_uniform(bits.z), philox_uniform(bits.w));
    store_block(block, bitcast<vec4<u32>>(vec4<f32>(first, second)));
}
