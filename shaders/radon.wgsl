// Parallel-beam Radon transform of a square image and its exact transpose.
//
// The forward map is scikit-image's radon(image, theta, circle=True): for
// each angle the image is rotated about pixel (c, c), c = size / 2 (integer
// division), with bilinear interpolation and zero outside the image, and the
// rotated image is summed along its columns. Written as line sums, detector
// bin d of angle theta (offset t = d - detectors / 2) is
//
//   sinogram[a, d] = sum_k bilinear(image; row(t, s_k), col(t, s_k))
//   col = c + cos(theta) t + sin(theta) s,   row = c - sin(theta) t + cos(theta) s
//
// over the ray samples s_k = k - samples / 2, k = 0 .. samples - 1, with
// samples = max(size, detectors). The bilinear weights of a sample are
// (1 - dr, dr) x (1 - dc, dc) on pixels (r0 .. r0 + 1, c0 .. c0 + 1), with
// r0 = floor(row), dr = row - r0 and likewise for columns.
//
// radon_adjoint applies the transpose of that matrix by gathering: pixel
// (i, j) finds, for every angle, the ray samples whose bilinear footprint
// contains it and adds weight x sinogram value. Both entry points compute
// positions and weights with the same functions, so the two kernels use the
// same matrix up to rounding in the sums. No atomics are used: each
// invocation writes one output value, so results are deterministic.
//
// Bindings: 2 cos_sin (one (cos, sin) pair per angle), 3 parameters;
// radon_forward: 0 image (read), 1 sinogram (written);
// radon_adjoint: 4 sinogram (read), 5 image (written).
// Images are size x size and sinograms angles x detectors, both row-major.
// radon_forward: workgroup 64 x 1; invocation (x, y) computes detector bin x
// of angle y. radon_adjoint: workgroup 16 x 16; invocation (x, y) computes
// pixel (row y, column x).

struct RadonParams {
    size: u32,
    detectors: u32,
    samples: u32,
    angles: u32,
    // size / 2, detectors / 2 and samples / 2 (integer division) as f32.
    image_center: f32,
    detector_center: f32,
    sample_center: f32,
    _padding: f32,
}

@group(0) @binding(2) var<storage, read> cos_sin: array<vec2<f32>>;
@group(0) @binding(3) var<uniform> params: RadonParams;

// Half-diagonal of the 2 x 2 pixel footprint of one bilinear sample, plus a
// margin for f32 rounding of the positions.
const FOOTPRINT_RADIUS: f32 = 1.4643;

// (row, column) in pixels of ray sample s of detector offset t.
fn sample_position(trig: vec2<f32>, t: f32, s: f32) -> vec2<f32> {
    let column = params.image_center + trig.x * t + trig.y * s;
    let row = params.image_center - trig.y * t + trig.x * s;
    return vec2<f32>(row, column);
}

// Bilinear weight of integer coordinate `index` for a position whose floor
// is `base` and whose fractional part is `fraction`.
fn bilinear_weight(index: i32, base: i32, fraction: f32) -> f32 {
    if index == base {
        return 1.0 - fraction;
    }
    if index == base + 1 {
        return fraction;
    }
    return 0.0;
}

// ---------------------------------------------------------------- forward

@group(0) @binding(0) var<storage, read> image_in: array<f32>;
@group(0) @binding(1) var<storage, read_write> sinogram_out: array<f32>;

fn pixel(row: i32, column: i32) -> f32 {
    let n = i32(params.size);
    if row < 0 || column < 0 || row >= n || column >= n {
        return 0.0;
    }
    return image_in[u32(row) * params.size + u32(column)];
}

// Range [first, last) of sample indices k whose position along one axis,
// offset + slope * (k - sample_center), can fall inside (-1, size). It is
// widened by half a pixel and one sample on each side, so rounding never
// drops a sample with a non-zero weight; samples outside the image add zero.
fn axis_sample_range(offset: f32, slope: f32) -> vec2<f32> {
    let low = -1.5;
    let high = f32(params.size) + 0.5;
    let everything = vec2<f32>(0.0, f32(params.samples));
    if slope == 0.0 {
        if offset > low && offset < high {
            return everything;
        }
        return vec2<f32>(0.0, 0.0);
    }
    let a = (low - offset) / slope + params.sample_center;
    let b = (high - offset) / slope + params.sample_center;
    return vec2<f32>(floor(min(a, b)) - 1.0, ceil(max(a, b)) + 1.0);
}

@compute @workgroup_size(64, 1, 1)
fn radon_forward(@builtin(global_invocation_id) id: vec3<u32>) {
    let detector = id.x;
    let angle = id.y;
    if detector >= params.detectors || angle >= params.angles {
        return;
    }
    let trig = cos_sin[angle];
    let t = f32(detector) - params.detector_center;

    // Clip the loop to the samples that can touch the image.
    let by_row = axis_sample_range(params.image_center - trig.y * t, trig.x);
    let by_column = axis_sample_range(params.image_center + trig.x * t, trig.y);
    let limit = f32(params.samples);
    let first = u32(clamp(max(by_row.x, by_column.x), 0.0, limit));
    let last = u32(clamp(min(by_row.y, by_column.y), 0.0, limit));

    var total = 0.0;
    for (var k = first; k < last; k += 1u) {
        let position = sample_position(trig, t, f32(k) - params.sample_center);
        let base = floor(position);
        let fraction = position - base;
        let r0 = i32(base.x);
        let c0 = i32(base.y);
        let top = (1.0 - fraction.y) * pixel(r0, c0) + fraction.y * pixel(r0, c0 + 1);
        let bottom = (1.0 - fraction.y) * pixel(r0 + 1, c0) + fraction.y * pixel(r0 + 1, c0 + 1);
        total += (1.0 - fraction.x) * top + fraction.x * bottom;
    }
    sinogram_out[angle * params.detectors + detector] = total;
}

// ---------------------------------------------------------------- adjoint

@group(0) @binding(4) var<storage, read> sinogram_in: array<f32>;
@group(0) @binding(5) var<storage, read_write> image_out: array<f32>;

// Integer range [first, last] of indices whose coordinate
// index - center lies within FOOTPRINT_RADIUS of `coordinate`, clamped to
// [0, count - 1]. Returns first > last when empty.
fn footprint_range(coordinate: f32, center: f32, count: u32) -> vec2<i32> {
    let low = max(ceil(coordinate + center - FOOTPRINT_RADIUS), 0.0);
    let high = min(floor(coordinate + center + FOOTPRINT_RADIUS), f32(count) - 1.0);
    return vec2<i32>(i32(low), i32(high));
}

@compute @workgroup_size(16, 16, 1)
fn radon_adjoint(@builtin(global_invocation_id) id: vec3<u32>) {
    let column = id.x;
    let row = id.y;
    if column >= params.size || row >= params.size {
        return;
    }
    let x = f32(column) - params.image_center;
    let y = f32(row) - params.image_center;
    let i = i32(row);
    let j = i32(column);

    var total = 0.0;
    for (var angle = 0u; angle < params.angles; angle += 1u) {
        let trig = cos_sin[angle];
        // The pixel's coordinates in the rotated (t, s) frame; the samples
        // that reach it lie within the footprint radius of this point.
        let t_pixel = trig.x * x - trig.y * y;
        let s_pixel = trig.y * x + trig.x * y;
        let detectors = footprint_range(t_pixel, params.detector_center, params.detectors);
        let samples = footprint_range(s_pixel, params.sample_center, params.samples);
        let row_offset = angle * params.detectors;

        for (var d = detectors.x; d <= detectors.y; d += 1) {
            let t = f32(d) - params.detector_center;
            var weight_sum = 0.0;
            for (var k = samples.x; k <= samples.y; k += 1) {
                let position = sample_position(trig, t, f32(k) - params.sample_center);
                let base = floor(position);
                let fraction = position - base;
                let row_weight = bilinear_weight(i, i32(base.x), fraction.x);
                let column_weight = bilinear_weight(j, i32(base.y), fraction.y);
                weight_sum += row_weight * column_weight;
            }
            total += weight_sum * sinogram_in[row_offset + u32(d)];
        }
    }
    image_out[row * params.size + column] = total;
}
