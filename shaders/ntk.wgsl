// Infinite-width NNGP and NTK of a fully connected network, with the NTK's
// per-layer terms, for one tile of input pairs.
//
// Bindings: 0 gram: <x_i, x'_j> for the tile (rows x columns, row-major),
//           1 diagonal_rows: Sigma_h(x_i, x_i) for h = 0..L-1, L values per row,
//           2 diagonal_columns: the same for the columns' points,
//           3 output: component planes of rows x columns values each, in the
//             order nngp, ntk, then Theta_0 .. Theta_L when PER_LAYER is set,
//           4 parameters.
// ACTIVATION (an override declared in shared/dual_activation) selects ReLU
// (0) or erf (1).
// Workgroup: 256 x 1 x 1 over a 2-D grid (see shared/grid); one invocation
// per tile entry.
//
// Recursion for a pair (x, x'), following the NTK parameterization of
// Jacot et al. (2018) and Lee et al. (2019) with neural-tangents' layout:
//   Sigma_0 = <x, x'> / d                     input covariance of weight layer 0
//   S_h = w^2 Sigma_h + b^2                   pre-activation covariance
//   Sigma_{h+1} = E[phi(u) phi(v)],  D_{h+1} = w^2 E[phi'(u) phi'(v)],
//       with (u, v) ~ N(0, [[S_h(x,x), S_h(x,x')], [S_h(x,x'), S_h(x',x')]])
//   G_h = alpha_h Sigma_h + beta               gradient kernel of weight layer h
//   T_0 = G_0,  T_h = G_h + D_h T_{h-1},  NTK = T_L,  NNGP = S_L
//   Theta_h = G_h * prod_{k = h+1..L} D_k      (so NTK = sum_h Theta_h)
// The host sets alpha_0, alpha (h >= 1) and beta for the parameterization.

#import shared/grid
#import shared/dual_activation

override PER_LAYER: bool = true;

const MAX_DEPTH: u32 = 128u;

struct NtkParams {
    rows: u32,
    columns: u32,
    depth: u32,
    // Global index of the tile's first row and column, and whether rows and
    // columns index the same points (then equal indices are the same input).
    row_offset: u32,
    column_offset: u32,
    same_points: u32,
    _padding0: u32,
    _padding1: u32,
    inverse_dimension: f32,
    w_variance: f32,
    b_variance: f32,
    alpha_first: f32,
    alpha_hidden: f32,
    beta: f32,
    _padding2: f32,
    _padding3: f32,
}

@group(0) @binding(0) var<storage, read> gram: array<f32>;
@group(0) @binding(1) var<storage, read> diagonal_rows: array<f32>;
@group(0) @binding(2) var<storage, read> diagonal_columns: array<f32>;
@group(0) @binding(3) var<storage, read_write> output: array<f32>;
@group(0) @binding(4) var<uniform> params: NtkParams;

@compute @workgroup_size(256)
fn ntk_tile(@builtin(global_invocation_id) global_id: vec3<u32>,
            @builtin(num_workgroups) workgroup_count: vec3<u32>) {
    let index = linear_index(global_id, workgroup_count);
    let plane = params.rows * params.columns;
    if (index >= plane) {
        return;
    }
    let row = index / params.columns;
    let column = index % params.columns;
    let same_point = params.same_points != 0u
        && params.row_offset + row == params.column_offset + column;
    let depth = params.depth;

    var sigma = gram[index] * params.inverse_dimension;
    if (same_point) {
        sigma = diagonal_rows[row * depth];
    }
    var layer_kernel = params.alpha_first * sigma + params.beta;
    var ntk = layer_kernel;
    var factors: array<f32, MAX_DEPTH>;
    if (PER_LAYER) {
        output[2u * plane + index] = layer_kernel;
    }

    for (var h = 1u; h <= depth; h = h + 1u) {
        let s11 = params.w_variance * diagonal_rows[row * depth + h - 1u] + params.b_variance;
        let s22 = params.w_variance * diagonal_columns[column * depth + h - 1u] + params.b_variance;
        let s12 = params.w_variance * sigma + params.b_variance;
        let duals = dual_activation(ACTIVATION, s11, s22, s12, same_point);
        sigma = duals.x;
        let factor = params.w_variance * duals.y;
        layer_kernel = params.alpha_hidden * sigma + params.beta;
        ntk = layer_kernel + factor * ntk;
        if (PER_LAYER) {
            factors[h] = factor;
            output[(2u + h) * plane + index] = layer_kernel;
        }
    }

    output[index] = params.w_variance * sigma + params.b_variance;
    output[plane + index] = ntk;

    if (PER_LAYER) {
        // Theta_h = G_h * prod_{k > h} D_k, accumulated from the last layer down.
        var product = 1.0;
        for (var h = depth; h > 0u; h = h - 1u) {
            product = product * factors[h];
            let slot = (2u + h - 1u) * plane + index;
            output[slot] = output[slot] * product;
        }
    }
}
