// Forward and backward kernels of the neural-network engine (src/nn).
//
// Matrices are row-major with `rows` rows (one per sample or pixel) and
// `columns` columns (features or channels). Backward kernels ADD their
// contribution to the gradient they write (the host clears every gradient
// before a backward pass), so a tensor used twice gets the sum.
//
// Bindings: 0..3 inputs a, b, c, d (read), 4 output (read-write), 5 second
// output (read-write), 6 parameters. Each entry point uses a subset; the
// comment above it says which and what they hold.
//
// Elementwise entries: workgroup 256 x 1 x 1 on the 2-D grid of shared/grid,
// one invocation per element. Column entries (column_sums, norm_statistics,
// norm_backward_sums): one workgroup of 256 invocations per column, which
// stride over the rows and combine partial sums in workgroup memory.
//
// Activation codes (override ACTIVATION): 0 identity, 1 relu, 2 sine
// sin(p x), 3 sigmoid, 4 tanh, 5 silu x sigmoid(x). The sine goes through
// portable_cos_sin_pi because the built-in sin may be as coarse as 2^-11 on
// Vulkan, which gradient checks would see.

#import shared/grid
#import shared/portable_math

struct NnParams {
    rows: u32,
    columns: u32,
    // Grid width and height of pixel layouts, or a second column count.
    width: u32,
    height: u32,
    factor: u32,
    offset: u32,
    p: f32,
    q: f32,
}

override ACTIVATION: u32 = 0u;


@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read> c: array<f32>;
@group(0) @binding(3) var<storage, read> d: array<f32>;
@group(0) @binding(4) var<storage, read_write> output: array<f32>;
@group(0) @binding(5) var<storage, read_write> output2: array<f32>;
@group(0) @binding(6) var<uniform> params: NnParams;

var<workgroup> partial: array<f32, 256>;
var<workgroup> partial2: array<f32, 256>;

fn sigmoid(x: f32) -> f32 {
    return 1.0 / (1.0 + exp(-x));
}

fn sine_of(x: f32) -> f32 {
    return portable_cos_sin_pi(x / PI).y;
}

fn cosine_of(x: f32) -> f32 {
    return portable_cos_sin_pi(x / PI).x;
}

fn activate(x: f32) -> f32 {
    switch ACTIVATION {
        case 1u: { return max(x, 0.0); }
        case 2u: { return sine_of(params.p * x); }
        case 3u: { return sigmoid(x); }
        case 4u: { return tanh(x); }
        case 5u: { return x * sigmoid(x); }
        default: { return x; }
    }
}

// Derivative of the activation at pre-activation x with output y.
fn activation_slope(x: f32, y: f32) -> f32 {
    switch ACTIVATION {
        case 1u: { return select(0.0, 1.0, x > 0.0); }
        case 2u: { return params.p * cosine_of(params.p * x); }
        case 3u: { return y * (1.0 - y); }
        case 4u: { return 1.0 - y * y; }
        case 5u: {
            let s = sigmoid(x);
            return s + x * s * (1.0 - s);
        }
        default: { return 1.0; }
    }
}

fn element_count() -> u32 {
    return params.rows * params.columns;
}

// output[i, j] += a[j]: a bias row added to every row.
@compute @workgroup_size(256)
fn add_row_bias(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = linear_index(id, groups);
    if i >= element_count() {
        return;
    }
    output[i] += a[i % params.columns];
}

// output = act(a).
@compute @workgroup_size(256)
fn activation_forward(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = linear_index(id, groups);
    if i >= element_count() {
        return;
    }
    output[i] = activate(a[i]);
}

// output += c * act'(a): a is the pre-activation, b the activation's output,
// c the gradient arriving at the output.
@compute @workgroup_size(256)
fn activation_backward(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = linear_index(id, groups);
    if i >= element_count() {
        return;
    }
    output[i] += c[i] * activation_slope(a[i], b[i]);
}

// output = p * a (forward of a scaling).
@compute @workgroup_size(256)
fn scale(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = linear_index(id, groups);
    if i >= element_count() {
        return;
    }
    output[i] = params.p * a[i];
}

// output = a + b.
@compute @workgroup_size(256)
fn add(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = linear_index(id, groups);
    if i >= element_count() {
        return;
    }
    output[i] = a[i] + b[i];
}

// output[offset + i] += p * a[i] for i < rows * columns.
@compute @workgroup_size(256)
fn axpy(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = linear_index(id, groups);
    if i >= element_count() {
        return;
    }
    output[params.offset + i] += params.p * a[i];
}

// output[i, j] = a[j]: one learned row repeated for every sample.
@compute @workgroup_size(256)
fn broadcast_row(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = linear_index(id, groups);
    if i >= element_count() {
        return;
    }
    output[i] = a[i % params.columns];
}

// Sums column j of a (factor 0) or of a * b (factor 1) over the rows, then
// output[j] += p * sum. One workgroup per column.
@compute @workgroup_size(256)
fn column_sums(@builtin(local_invocation_id) local: vec3<u32>, @builtin(workgroup_id) group: vec3<u32>) {
    let j = group.x;
    var sum = 0.0;
    for (var i = local.x; i < params.rows; i += 256u) {
        let index = i * params.columns + j;
        var value = a[index];
        if params.factor == 1u {
            value *= b[index];
        }
        sum += value;
    }
    partial[local.x] = sum;
    workgroupBarrier();
    for (var stride = 128u; stride > 0u; stride >>= 1u) {
        if local.x < stride {
            partial[local.x] += partial[local.x + stride];
        }
        workgroupBarrier();
    }
    if local.x == 0u {
        output[j] += params.p * partial[0];
    }
}

// Per-column mean and 1 / sqrt(biased variance + p) of a, written as
// output[j] = mean and output[columns + j] = inverse deviation. Two passes
// over the column (mean first) keep the variance accurate when the mean is
// large. One workgroup per column.
@compute @workgroup_size(256)
fn norm_statistics(@builtin(local_invocation_id) local: vec3<u32>, @builtin(workgroup_id) group: vec3<u32>) {
    let j = group.x;
    let n = f32(params.rows);
    var sum = 0.0;
    for (var i = local.x; i < params.rows; i += 256u) {
        sum += a[i * params.columns + j];
    }
    partial[local.x] = sum;
    workgroupBarrier();
    for (var stride = 128u; stride > 0u; stride >>= 1u) {
        if local.x < stride {
            partial[local.x] += partial[local.x + stride];
        }
        workgroupBarrier();
    }
    let mean = partial[0] / n;
    workgroupBarrier();

    var squares = 0.0;
    for (var i = local.x; i < params.rows; i += 256u) {
        let centred = a[i * params.columns + j] - mean;
        squares += centred * centred;
    }
    partial[local.x] = squares;
    workgroupBarrier();
    for (var stride = 128u; stride > 0u; stride >>= 1u) {
        if local.x < stride {
            partial[local.x] += partial[local.x + stride];
        }
        workgroupBarrier();
    }
    if local.x == 0u {
        output[j] = mean;
        output[params.columns + j] = 1.0 / sqrt(partial[0] / n + params.p);
    }
}

// output = gamma * (a - mean) * inverse_deviation + beta, with b the
// statistics (mean, inverse deviation), c = gamma and d = beta.
@compute @workgroup_size(256)
fn norm_forward(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = linear_index(id, groups);
    if i >= element_count() {
        return;
    }
    let j = i % params.columns;
    output[i] = c[j] * (a[i] - b[j]) * b[params.columns + j] + d[j];
}

// Per column, with x_hat = (a - mean) * inverse deviation (statistics in b)
// and c the gradient at the output: output[j] = sum_i c (the beta gradient)
// and output[columns + j] = sum_i c * x_hat (the gamma gradient).
@compute @workgroup_size(256)
fn norm_backward_sums(@builtin(local_invocation_id) local: vec3<u32>, @builtin(workgroup_id) group: vec3<u32>) {
    let j = group.x;
    let mean = b[j];
    let inverse_deviation = b[params.columns + j];
    var sum = 0.0;
    var weighted = 0.0;
    for (var i = local.x; i < params.rows; i += 256u) {
        let index = i * params.columns + j;
        sum += c[index];
        weighted += c[index] * (a[index] - mean) * inverse_deviation;
    }
    partial[local.x] = sum;
    partial2[local.x] = weighted;
    workgroupBarrier();
    for (var stride = 128u; stride > 0u; stride >>= 1u) {
        if local.x < stride {
            partial[local.x] += partial[local.x + stride];
            partial2[local.x] += partial2[local.x + stride];
        }
        workgroupBarrier();
    }
    if local.x == 0u {
        output[j] = partial[0];
        output[params.columns + j] = partial2[0];
    }
}

// Input gradient of the normalisation: a = x, b = statistics, c = gradient
// at the output, d = gamma, output2 = the column sums of norm_backward_sums.
// With batch statistics (factor 1) the mean and variance depend on every
// row:  dx = gamma * s * (g - sum(g) / n - x_hat * sum(g x_hat) / n);
// with frozen statistics (factor 0) dx = gamma * s * g.
@compute @workgroup_size(256)
fn norm_backward_input(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = linear_index(id, groups);
    if i >= element_count() {
        return;
    }
    let j = i % params.columns;
    let inverse_deviation = b[params.columns + j];
    var gradient = c[i];
    if params.factor == 1u {
        let n = f32(params.rows);
        let x_hat = (a[i] - b[j]) * inverse_deviation;
        gradient -= (output2[j] + x_hat * output2[params.columns + j]) / n;
    }
    output[i] += d[j] * inverse_deviation * gradient;
}

// a is rows x columns; output is rows x (2 columns) = [cos(a), sin(a)].
@compute @workgroup_size(256)
fn sincos_forward(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = linear_index(id, groups);
    if i >= element_count() {
        return;
    }
    let row = i / params.columns;
    let j = i % params.columns;
    let pair = portable_cos_sin_pi(a[i] / PI);
    output[row * 2u * params.columns + j] = pair.x;
    output[row * 2u * params.columns + params.columns + j] = pair.y;
}

// output += -sin(a) * c[:, :F] + cos(a) * c[:, F:].
@compute @workgroup_size(256)
fn sincos_backward(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = linear_index(id, groups);
    if i >= element_count() {
        return;
    }
    let row = i / params.columns;
    let j = i % params.columns;
    let pair = portable_cos_sin_pi(a[i] / PI);
    let base = row * 2u * params.columns;
    output[i] += -pair.y * c[base + j] + pair.x * c[base + params.columns + j];
}

// Source coordinate and weights of bilinear x2 upsampling along one axis
// (half-pixel centres, edges clamped, as torch's Upsample with
// align_corners=False): output index o reads input (o + 0.5) / 2 - 0.5.
struct Taps {
    low: u32,
    high: u32,
    weight_high: f32,
}

fn upsample_taps(o: u32, size: u32) -> Taps {
    let source = max((f32(o) + 0.5) * 0.5 - 0.5, 0.0);
    let low = min(u32(floor(source)), size - 1u);
    let high = min(low + 1u, size - 1u);
    return Taps(low, high, source - f32(low));
}

// a: (height * width) x columns; output: (2 height * 2 width) x columns.
// rows = output pixels.
@compute @workgroup_size(256)
fn upsample2x_forward(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = linear_index(id, groups);
    if i >= element_count() {
        return;
    }
    let channel = i % params.columns;
    let pixel = i / params.columns;
    let out_width = 2u * params.width;
    let tx = upsample_taps(pixel % out_width, params.width);
    let ty = upsample_taps(pixel / out_width, params.height);
    let w = params.width;
    let k = params.columns;
    let top = (1.0 - tx.weight_high) * a[(ty.low * w + tx.low) * k + channel] + tx.weight_high * a[(ty.low * w + tx.high) * k + channel];
    let bottom = (1.0 - tx.weight_high) * a[(ty.high * w + tx.low) * k + channel] + tx.weight_high * a[(ty.high * w + tx.high) * k + channel];
    output[i] = (1.0 - ty.weight_high) * top + ty.weight_high * bottom;
}

// Weight with which output index o (upsampled axis) reads input index s.
fn tap_weight(o: u32, s: u32, size: u32) -> f32 {
    let taps = upsample_taps(o, size);
    var weight = 0.0;
    if taps.low == s {
        weight += 1.0 - taps.weight_high;
    }
    if taps.high == s {
        weight += taps.weight_high;
    }
    return weight;
}

// Adjoint of upsample2x_forward, gathered: input pixel s receives from the
// output pixels 2 s - 2 .. 2 s + 3 of each axis (clamping at the edges only
// adds weight to pixels inside that window). c holds the output gradient;
// rows = input pixels.
@compute @workgroup_size(256)
fn upsample2x_backward(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = linear_index(id, groups);
    if i >= element_count() {
        return;
    }
    let channel = i % params.columns;
    let pixel = i / params.columns;
    let sx = pixel % params.width;
    let sy = pixel / params.width;
    let out_width = 2u * params.width;
    let out_height = 2u * params.height;
    var sum = 0.0;
    for (var oy = max(i32(2u * sy) - 2, 0); oy <= min(i32(2u * sy) + 3, i32(out_height) - 1); oy++) {
        let wy = tap_weight(u32(oy), sy, params.height);
        if wy == 0.0 {
            continue;
        }
        for (var ox = max(i32(2u * sx) - 2, 0); ox <= min(i32(2u * sx) + 3, i32(out_width) - 1); ox++) {
            let wx = tap_weight(u32(ox), sx, params.width);
            sum += wy * wx * c[(u32(oy) * out_width + u32(ox)) * params.columns + channel];
        }
    }
    output[i] += sum;
}

// Mean over factor x factor blocks: a is (height * width) x columns with
// width and height multiples of factor; rows = output pixels.
@compute @workgroup_size(256)
fn area_downsample_forward(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = linear_index(id, groups);
    if i >= element_count() {
        return;
    }
    let channel = i % params.columns;
    let pixel = i / params.columns;
    let f = params.factor;
    let out_width = params.width / f;
    let x0 = (pixel % out_width) * f;
    let y0 = (pixel / out_width) * f;
    var sum = 0.0;
    for (var dy = 0u; dy < f; dy++) {
        for (var dx = 0u; dx < f; dx++) {
            sum += a[((y0 + dy) * params.width + x0 + dx) * params.columns + channel];
        }
    }
    output[i] = sum / f32(f * f);
}

// Adjoint of area_downsample_forward: every fine pixel gets its block's
// gradient (c) divided by factor^2; rows = fine pixels.
@compute @workgroup_size(256)
fn area_downsample_backward(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = linear_index(id, groups);
    if i >= element_count() {
        return;
    }
    let channel = i % params.columns;
    let pixel = i / params.columns;
    let f = params.factor;
    let out_width = params.width / f;
    let block = ((pixel / params.width) / f) * out_width + (pixel % params.width) / f;
    output[i] += c[block * params.columns + channel] / f32(f * f);
}

// Mean squared error: output = p * (a - b) (p = 2 / count, the loss
// gradient) and output2 = (a - b)^2 for the loss value.
@compute @workgroup_size(256)
fn squared_error(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = linear_index(id, groups);
    if i >= element_count() {
        return;
    }
    let difference = a[i] - b[i];
    output[i] = params.p * difference;
    output2[i] = difference * difference;
}

// Softmax cross-entropy of logits a against target probabilities b (one
// row per sample): output = (softmax(a) - b) / rows, the gradient of the
// mean loss, and output2[row] = -sum_j b log softmax(a). One invocation per
// row.
@compute @workgroup_size(256)
fn softmax_cross_entropy(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let row = linear_index(id, groups);
    if row >= params.rows {
        return;
    }
    let base = row * params.columns;
    var largest = a[base];
    for (var j = 1u; j < params.columns; j++) {
        largest = max(largest, a[base + j]);
    }
    var total = 0.0;
    for (var j = 0u; j < params.columns; j++) {
        total += exp(a[base + j] - largest);
    }
    let log_total = log(total);
    var loss = 0.0;
    for (var j = 0u; j < params.columns; j++) {
        let log_probability = a[base + j] - largest - log_total;
        loss -= b[base + j] * log_probability;
        output[base + j] = (exp(log_probability) - b[base + j]) / f32(params.rows);
    }
    output2[row] = loss;
}
