// Recurrent NTK and NNGP of an infinitely wide Elman network (Alemohammad et
// al., "The Recurrent Neural Tangent Kernel", ICLR 2021) for one tile of
// sequence pairs.
//
// Bindings: 0 row_values, 3 column_values: the tile's sequences, steps x
//             channels each, concatenated;
//           1 row_offsets, 4 column_offsets: first step of each sequence
//             (count + 1 entries, the last one the total);
//           2 row_self, 5 column_self: self-covariances S_l(x; t, t) of each
//             sequence, layers values per step, in step order;
//           6 output: two planes of rows x columns values, NNGP then NTK;
//           7 parameters.
// Workgroup: 256 x 1 x 1 over a 2-D grid (see shared/grid); one invocation
// per sequence pair, walking the time-step diagonals of the pair.
//
// For sequences x (length T) and y (length T') the covariances of layer l at
// time steps (a, b) follow the diagonal (a - 1, b - 1) -> (a, b):
//   S_1(a,b) = sw^2 V[S_1(a-1,b-1)] + su^2 <x_a, y_b> / m + sb^2
//   S_l(a,b) = sw^2 V[S_l(a-1,b-1)] + su^2 V[S_{l-1}(a,b)] + sb^2
//   T_1(a,b) = S_1(a,b) + sw^2 V'[S_1(a-1,b-1)] T_1(a-1,b-1)
//   T_l(a,b) = S_l(a,b) + sw^2 V'[S_l(a-1,b-1)] T_l(a-1,b-1)
//                       + su^2 V'[S_{l-1}(a,b)] T_{l-1}(a,b)
// where V and V' take the 2 x 2 covariance [[S(x;a,a), S(a,b)], [S(a,b),
// S(y;b,b)]] (see shared/dual_activation). Before the first step the hidden
// covariance is sh^2 when x and y are the same sequence at (0, 0) and 0
// otherwise, and T is 0. Read-outs:
//   last step (READOUT = 0):  NNGP = sv^2 V[S_L(T,T')],
//                             NTK  = NNGP + sv^2 V'[S_L(T,T')] T_L(T,T');
//   mean over steps (READOUT = 1): the same terms averaged over all (a, b).
// The last-step read-out only needs the diagonal ending at (T, T'), so the
// sequences are end-aligned and a pair costs min(T, T') * L steps.

#import shared/grid
#import shared/dual_activation

override READOUT: u32 = 0u;

const MAX_LAYERS: u32 = 16u;

struct RntkParams {
    rows: u32,
    columns: u32,
    row_offset: u32,
    column_offset: u32,
    same_set: u32,
    layers: u32,
    channels: u32,
    _padding0: u32,
    sw2: f32,
    su2: f32,
    sb2: f32,
    sh2: f32,
    sv2: f32,
    inverse_channels: f32,
    _padding1: f32,
    _padding2: f32,
}

@group(0) @binding(0) var<storage, read> row_values: array<f32>;
@group(0) @binding(1) var<storage, read> row_offsets: array<u32>;
@group(0) @binding(2) var<storage, read> row_self: array<f32>;
@group(0) @binding(3) var<storage, read> column_values: array<f32>;
@group(0) @binding(4) var<storage, read> column_offsets: array<u32>;
@group(0) @binding(5) var<storage, read> column_self: array<f32>;
@group(0) @binding(6) var<storage, read_write> output: array<f32>;
@group(0) @binding(7) var<uniform> params: RntkParams;

// <x_a, y_b> / m for global steps a (row sequence) and b (column sequence).
fn input_covariance(row_step: u32, column_step: u32) -> f32 {
    var total = 0.0;
    for (var c = 0u; c < params.channels; c = c + 1u) {
        total = total + row_values[row_step * params.channels + c] * column_values[column_step * params.channels + c];
    }
    return total * params.inverse_channels;
}

// Walks one diagonal of steps (start_a + k, start_b + k), k = 0..length-1,
// (steps local to each sequence) and returns the read-out terms summed over
// the diagonal (mean read-out) or at its last step (last read-out) as
// (sum of V[S_L], sum of V'[S_L] T_L).
fn walk_diagonal(row_start: u32, column_start: u32, start_a: u32, start_b: u32, length: u32, same_sequence: bool) -> vec2<f32> {
    // Per layer: V and V' T of the previous step on this diagonal.
    var previous_value: array<f32, MAX_LAYERS>;
    var previous_tangent: array<f32, MAX_LAYERS>;
    let initial = select(0.0, params.sh2, same_sequence && start_a == 0u && start_b == 0u);
    for (var l = 0u; l < params.layers; l = l + 1u) {
        previous_value[l] = initial;
        previous_tangent[l] = 0.0;
    }

    var readout = vec2<f32>(0.0, 0.0);
    for (var k = 0u; k < length; k = k + 1u) {
        let a = start_a + k;
        let b = start_b + k;
        let on_diagonal = same_sequence && a == b;
        // Layer 1 sees the inputs, whose covariance carries no tangent term.
        var below_value = input_covariance(row_start + a, column_start + b);
        var below_tangent = 0.0;
        var value = 0.0;
        var derivative = 0.0;
        var tangent = 0.0;
        for (var l = 0u; l < params.layers; l = l + 1u) {
            let s11 = row_self[(row_start + a) * params.layers + l];
            let s22 = column_self[(column_start + b) * params.layers + l];
            var covariance = params.sw2 * previous_value[l] + params.su2 * below_value + params.sb2;
            if (on_diagonal) {
                covariance = s11;
            }
            tangent = covariance + params.sw2 * previous_tangent[l] + params.su2 * below_tangent;
            let duals = dual_activation(ACTIVATION, s11, s22, covariance, on_diagonal);
            value = duals.x;
            derivative = duals.y;
            previous_value[l] = value;
            previous_tangent[l] = derivative * tangent;
            // The next layer sees this layer's V and V' T at the same step.
            below_value = value;
            below_tangent = derivative * tangent;
        }
        if (READOUT == 1u || k + 1u == length) {
            readout = readout + vec2<f32>(value, derivative * tangent);
        }
    }
    return readout;
}

@compute @workgroup_size(256)
fn rntk_tile(@builtin(global_invocation_id) global_id: vec3<u32>,
             @builtin(num_workgroups) workgroup_count: vec3<u32>) {
    let index = linear_index(global_id, workgroup_count);
    let plane = params.rows * params.columns;
    if (index >= plane) {
        return;
    }
    let row = index / params.columns;
    let column = index % params.columns;
    // On a diagonal tile of a symmetric Gram matrix the host copies the upper
    // triangle onto the lower one, which halves the work and keeps the
    // result exactly symmetric.
    if (params.same_set != 0u && params.row_offset == params.column_offset && row > column) {
        return;
    }
    let row_start = row_offsets[row];
    let column_start = column_offsets[column];
    let row_length = row_offsets[row + 1u] - row_start;
    let column_length = column_offsets[column + 1u] - column_start;
    let same_sequence = params.same_set != 0u
        && params.row_offset + row == params.column_offset + column;

    var terms = vec2<f32>(0.0, 0.0);
    if (READOUT == 0u) {
        let length = min(row_length, column_length);
        terms = walk_diagonal(row_start, column_start, row_length - length, column_length - length, length, same_sequence);
    } else {
        // Every diagonal of the T x T' grid starts on its first row or column.
        for (var a = 0u; a < row_length; a = a + 1u) {
            terms = terms + walk_diagonal(row_start, column_start, a, 0u, min(row_length - a, column_length), same_sequence);
        }
        for (var b = 1u; b < column_length; b = b + 1u) {
            terms = terms + walk_diagonal(row_start, column_start, 0u, b, min(row_length, column_length - b), same_sequence);
        }
        terms = terms / f32(row_length * column_length);
    }
    output[index] = params.sv2 * terms.x;
    output[plane + index] = params.sv2 * (terms.x + terms.y);
}
