// E-step of expectation-maximisation for a Gaussian mixture.
//
// Bindings: 0 points (n x d), 1 means (K x d), 2 inverse_factors: for each
//           component the lower-triangular inverse L^{-1} of its covariance's
//           Cholesky factor (K x d x d, row-major), 3 log_constants:
//           log w_k - log det L_k - (d / 2) log(2 pi) per component,
//           4 responsibilities: K x n (component-major, so each component's
//           column is contiguous), 5 log_likelihood: n values, 6 parameters.
// Workgroup: 256 x 1 x 1 over a 2-D grid (see shared/grid); one invocation
// per point. log p_k(x) = log_constants[k] - |L_k^{-1} (x - mu_k)|^2 / 2;
// responsibilities are exp(log p_k - log sum_j p_j), the log-sum-exp taken
// around the largest term.

#import shared/grid

struct GmmParams {
    points: u32,
    dimension: u32,
    components: u32,
    _padding: u32,
}

@group(0) @binding(0) var<storage, read> points: array<f32>;
@group(0) @binding(1) var<storage, read> means: array<f32>;
@group(0) @binding(2) var<storage, read> inverse_factors: array<f32>;
@group(0) @binding(3) var<storage, read> log_constants: array<f32>;
@group(0) @binding(4) var<storage, read_write> responsibilities: array<f32>;
@group(0) @binding(5) var<storage, read_write> log_likelihood: array<f32>;
@group(0) @binding(6) var<uniform> params: GmmParams;

fn component_log_density(point: u32, component: u32) -> f32 {
    let d = params.dimension;
    var squared = 0.0;
    for (var row = 0u; row < d; row = row + 1u) {
        var projected = 0.0;
        for (var column = 0u; column <= row; column = column + 1u) {
            let offset = points[point * d + column] - means[component * d + column];
            projected = projected + inverse_factors[(component * d + row) * d + column] * offset;
        }
        squared = squared + projected * projected;
    }
    return log_constants[component] - 0.5 * squared;
}

@compute @workgroup_size(256)
fn gmm_e_step(@builtin(global_invocation_id) global_id: vec3<u32>,
              @builtin(num_workgroups) workgroup_count: vec3<u32>) {
    let point = linear_index(global_id, workgroup_count);
    if (point >= params.points) {
        return;
    }
    let n = params.points;
    var largest = -3.4e38;
    for (var k = 0u; k < params.components; k = k + 1u) {
        let value = component_log_density(point, k);
        responsibilities[k * n + point] = value;
        largest = max(largest, value);
    }
    var total = 0.0;
    for (var k = 0u; k < params.components; k = k + 1u) {
        total = total + exp(responsibilities[k * n + point] - largest);
    }
    let log_total = largest + log(total);
    log_likelihood[point] = log_total;
    for (var k = 0u; k < params.components; k = k + 1u) {
        responsibilities[k * n + point] = exp(responsibilities[k * n + point] - log_total);
    }
}
