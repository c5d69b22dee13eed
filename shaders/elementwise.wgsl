// Elementwise maps over f32 arrays.
//
// map_unary:          bindings 0 x (read), 2 output, 3 parameters.
// map_unary_in_place: bindings 2 output (read-write), 3 parameters.
// map_binary:         bindings 0 x, 1 y (read), 2 output, 3 parameters.
// Workgroup: 256 x 1 x 1 over a 2-D grid (see shared/grid); one invocation
// per element.
//
// Unary OP (p and q are the scalar parameters):
//   0 p*x + q, 1 relu, 2 exp, 3 log, 4 sqrt, 5 abs, 6 square, 7 sin, 8 cos,
//   9 tanh, 10 sigmoid, 11 erf, 12 reciprocal, 13 clamp to [p, q],
//   14 p * x^q for x > 0 (power), 15 relu derivative (1 where x > 0, else 0).
// Binary OP: 0 x + y, 1 x - y, 2 x * y, 3 x / y, 4 max, 5 min, 6 p*x + q*y.
// y is broadcast by `broadcast`: 0 same shape as x, 1 a row vector of
// `columns` entries (y[i % columns]), 2 a column vector (y[i / columns]),
// 3 a scalar (y[0]).

#import shared/grid
#import shared/portable_math

struct MapParams {
    length: u32,
    columns: u32,
    broadcast: u32,
    _padding: u32,
    p: f32,
    q: f32,
    _padding1: f32,
    _padding2: f32,
}

override OP: u32 = 0u;

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> y: array<f32>;
@group(0) @binding(2) var<storage, read_write> output: array<f32>;
@group(0) @binding(3) var<uniform> params: MapParams;

fn apply_unary(value: f32) -> f32 {
    switch OP {
        case 0u: { return params.p * value + params.q; }
        case 1u: { return max(value, 0.0); }
        case 2u: { return exp(value); }
        case 3u: { return log(value); }
        case 4u: { return sqrt(value); }
        case 5u: { return abs(value); }
        case 6u: { return value * value; }
        case 7u: { return sin(value); }
        case 8u: { return cos(value); }
        case 9u: { return tanh(value); }
        case 10u: { return 1.0 / (1.0 + exp(-value)); }
        case 11u: { return portable_erf(value); }
        case 12u: { return 1.0 / value; }
        case 13u: { return clamp(value, params.p, params.q); }
        case 14u: { return params.p * pow(value, params.q); }
        case 15u: { return select(0.0, 1.0, value > 0.0); }
        default: { return value; }
    }
}

fn broadcast_y(index: u32) -> f32 {
    switch params.broadcast {
        case 1u: { return y[index % params.columns]; }
        case 2u: { return y[index / params.columns]; }
        case 3u: { return y[0]; }
        default: { return y[index]; }
    }
}

fn apply_binary(left: f32, right: f32) -> f32 {
    switch OP {
        case 0u: { return left + right; }
        case 1u: { return left - right; }
        case 2u: { return left * right; }
        case 3u: { return left / right; }
        case 4u: { return max(left, right); }
        case 5u: { return min(left, right); }
        case 6u: { return params.p * left + params.q * right; }
        default: { return left; }
    }
}

@compute @workgroup_size(256)
fn map_unary(@builtin(global_invocation_id) global_id: vec3<u32>,
             @builtin(num_workgroups) workgroup_count: vec3<u32>) {
    let index = linear_index(global_id, workgroup_count);
    if (index < params.length) {
        output[index] = apply_unary(x[index]);
    }
}

@compute @workgroup_size(256)
fn map_unary_in_place(@builtin(global_invocation_id) global_id: vec3<u32>,
                      @builtin(num_workgroups) workgroup_count: vec3<u32>) {
    let index = linear_index(global_id, workgroup_count);
    if (index < params.length) {
        output[index] = apply_unary(output[index]);
    }
}

@compute @workgroup_size(256)
fn map_binary(@builtin(global_invocation_id) global_id: vec3<u32>,
              @builtin(num_workgroups) workgroup_count: vec3<u32>) {
    let index = linear_index(global_id, workgroup_count);
    if (index < params.length) {
        output[index] = apply_binary(x[index], broadcast_y(index));
    }
}
