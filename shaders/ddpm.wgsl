// Denoising diffusion (DDPM) kernels: forward noising for training and the
// guided ancestral update for sampling. The formulas are in
// src/generative/ddpm/schedule.rs and denoiser.rs; the host computes every
// coefficient in float64 and passes it rounded to f32.
//
// Bindings (each entry point uses a subset):
//   0 first:  read, rows x columns (clean images, or predicted noise)
//   1 second: read, rows x columns (Gaussian noise z)
//   2 third:  read, rows x 4 (per-row coefficients, see ddpm_noising)
//   3 destination: read-write, rows x columns (noisy images, or samples x_t)
//   4 skip: read-write, rows x columns (the denoiser's skip input)
//   5 parameters
//   6 mean, 7 variance: read, columns (per-pixel data statistics m, v).
// Workgroup: 256 x 1 x 1 over the 2-D grid of shared/grid, one invocation
// per element (row, column) of a rows x columns matrix.
//
// The skip input is the noise prediction of a per-pixel Gaussian model of
// the data, E[eps | x_t] = b (x_t - a m) / (a^2 v + b^2) with
// a = sqrt(alpha_bar_t) and b = sqrt(1 - alpha_bar_t); it is 0 when b = 0.
//
// ddpm_noising: with row r's coefficients (a, b, a_skip, b_skip),
//   x_t = a first + b second (x_t = sqrt(alpha_bar_t) x_0 +
//   sqrt(1 - alpha_bar_t) eps) and skip = the Gaussian prediction at
//   (a_skip, b_skip).
// ddpm_update: one sampling step. With `guided` set, the noise prediction
//   holds 2 rows blocks: rows 0..rows conditioned on the labels and rows
//   rows..2 rows on the null label; eps = (1 + w) eps_cond - w eps_null
//   (classifier-free guidance). The new sample is written to row r and,
//   when guided, to row rows + r too, so that both halves of the next
//   forward pass see it; skip receives the Gaussian prediction at the next
//   step's (a, b).

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
    next_sqrt_alpha_bar: f32,
    next_sqrt_one_minus_alpha_bar: f32,
    _padding1: f32,
    _padding2: f32,
}

@group(0) @binding(0) var<storage, read> first: array<f32>;
@group(0) @binding(1) var<storage, read> second: array<f32>;
@group(0) @binding(2) var<storage, read> third: array<f32>;
@group(0) @binding(3) var<storage, read_write> destination: array<f32>;
@group(0) @binding(4) var<storage, read_write> skip: array<f32>;
@group(0) @binding(5) var<uniform> params: DdpmParams;
@group(0) @binding(6) var<storage, read> mean: array<f32>;
@group(0) @binding(7) var<storage, read> variance: array<f32>;

fn gaussian_noise_prediction(x: f32, column: u32, a: f32, b: f32) -> f32 {
    if (b <= 0.0) {
        return 0.0;
    }
    return b * (x - a * mean[column]) / (a * a * variance[column] + b * b);
}

@compute @workgroup_size(256)
fn ddpm_noising(@builtin(global_invocation_id) global_id: vec3<u32>,
                @builtin(num_workgroups) workgroup_count: vec3<u32>) {
    let index = linear_index(global_id, workgroup_count);
    if (index >= params.rows * params.columns) {
        return;
    }
    let row = index / params.columns;
    let column = index % params.columns;
    let noisy = third[4u * row] * first[index] + third[4u * row + 1u] * second[index];
    destination[index] = noisy;
    skip[index] = gaussian_noise_prediction(noisy, column, third[4u * row + 2u], third[4u * row + 3u]);
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
    let next_skip = gaussian_noise_prediction(next, index % params.columns,
                                              params.next_sqrt_alpha_bar,
                                              params.next_sqrt_one_minus_alpha_bar);
    destination[index] = next;
    skip[index] = next_skip;
    if (params.guided != 0u) {
        destination[count + index] = next;
        skip[count + index] = next_skip;
    }
}
