// Denoising diffusion (DDPM) kernels: forward noising for training and the
// guided ancestral update for sampling. The formulas are in
// src/generative/ddpm/schedule.rs; the host computes every coefficient in
// float64 and passes it rounded to f32.
//
// Bindings (each entry point uses a subset):
//   0 first:  read, rows x columns (clean images, or predicted noise)
//   1 second: read, rows x columns (Gaussian noise z)
//   2 third:  read, rows x 3 (per-row noising and skip coefficients)
//   3 destination: read-write, rows x columns (noisy images, or samples x_t)
//   4 skip: read-write, rows x columns (the denoiser's skip input c(t) x_t)
//   5 parameters.
// Workgroup: 256 x 1 x 1 over the 2-D grid of shared/grid, one invocation
// per element (row, column) of a rows x columns matrix.
//
// ddpm_noising: destination = third[3 r] first + third[3 r + 1] second, that
//   is x_t = sqrt(alpha_bar_t) x_0 + sqrt(1 - alpha_bar_t) eps for each row
//   r, and skip = third[3 r + 2] x_t.
// ddpm_update: one sampling step. With `guided` set, the noise prediction
//   holds 2 rows blocks: rows 0..rows conditioned on the labels and rows
//   rows..2 rows on the null label; eps = (1 + w) eps_cond - w eps_null
//   (classifier-free guidance). The new sample is written to row r and,
//   when guided, to row rows + r too, so that both halves of the next
//   forward pass see it; skip receives next_skip times the new sample.

#import shared/grid

struct DdpmParams {
    rows: u32,
    columns: u32,
    guided: u32,
    _padding: u32,
    guidance: f32,
    inverse_sqrt_alpha_bar: f32,
    sqrt_one_minus_alpha_bar: f32,
    x0_coefficient: f32,
    xt_coefficient: f32,
    sigma: f32,
    clip_low: f32,
    clip_high: f32,
    next_skip: f32,
    _padding1: f32,
    _padding2: f32,
    _padding3: f32,
}

@group(0) @binding(0) var<storage, read> first: array<f32>;
@group(0) @binding(1) var<storage, read> second: array<f32>;
@group(0) @binding(2) var<storage, read> third: array<f32>;
@group(0) @binding(3) var<storage, read_write> destination: array<f32>;
@group(0) @binding(4) var<storage, read_write> skip: array<f32>;
@group(0) @binding(5) var<uniform> params: DdpmParams;

@compute @workgroup_size(256)
fn ddpm_noising(@builtin(global_invocation_id) global_id: vec3<u32>,
                @builtin(num_workgroups) workgroup_count: vec3<u32>) {
    let index = linear_index(global_id, workgroup_count);
    if (index >= params.rows * params.columns) {
        return;
    }
    let row = index / params.columns;
    let noisy = third[3u * row] * first[index] + third[3u * row + 1u] * second[index];
    destination[index] = noisy;
    skip[index] = third[3u * row + 2u] * noisy;
}

@compute @workgroup_size(256)
fn ddpm_update(@builtin(global_invocation_id) global_id: vec3<u32>,
               @builtin(num_workgroups) workgroup_count: vec3<u32>) {
    let count = params.rows * params.columns;
    let index = linear_index(global_id, workgroup_count);
    if (index >= count) {
        return;
    }
    var epsilon = first[index];
    if (params.guided != 0u) {
        epsilon = (1.0 + params.guidance) * epsilon - params.guidance * first[count + index];
    }
    let x = destination[index];
    let x0 = clamp((x - params.sqrt_one_minus_alpha_bar * epsilon) * params.inverse_sqrt_alpha_bar,
                   params.clip_low, params.clip_high);
    let next = params.x0_coefficient * x0 + params.xt_coefficient * x + params.sigma * second[index];
    destination[index] = next;
    skip[index] = params.next_skip * next;
    if (params.guided != 0u) {
        destination[count + index] = next;
        skip[count + index] = params.next_skip * next;
    }
}
