// Back-projection step of filtered back-projection, as in scikit-image's
// iradon(..., interpolation="linear", circle=True).
//
// Pixel (i, j) of the size x size output, with x = i - r and y = j - r for
// r = size / 2 (integer division), receives
//
//   scale * sum_a interp(filtered[a, :], y cos(theta_a) - x sin(theta_a))
//
// where interp linearly interpolates the filtered projection, whose bin b sits
// at offset b - filtered_center, and is 0 outside its first and last bins.
// Pixels with x^2 + y^2 > r^2 are set to 0. scale is pi / (2 angles).
//
// Bindings: 0 filtered (angles x filtered_detectors, row-major), 1 cos_sin
// (one (cos, sin) pair per angle), 2 parameters, 3 image (written).
// Workgroup: 16 x 16; invocation (x, y) computes pixel (row y, column x).

struct FbpParams {
    size: u32,
    filtered_detectors: u32,
    angles: u32,
    _padding: u32,
    // size / 2 and filtered_detectors / 2 (integer division) as f32.
    radius: f32,
    filtered_center: f32,
    scale: f32,
    _padding1: f32,
}

@group(0) @binding(0) var<storage, read> filtered: array<f32>;
@group(0) @binding(1) var<storage, read> cos_sin: array<vec2<f32>>;
@group(0) @binding(2) var<uniform> params: FbpParams;
@group(0) @binding(3) var<storage, read_write> image: array<f32>;

@compute @workgroup_size(16, 16, 1)
fn fbp_back_project(@builtin(global_invocation_id) id: vec3<u32>) {
    let column = id.x;
    let row = id.y;
    if column >= params.size || row >= params.size {
        return;
    }
    let radius = i32(params.radius);
    let xi = i32(row) - radius;
    let yi = i32(column) - radius;
    let index = row * params.size + column;
    if xi * xi + yi * yi > radius * radius {
        image[index] = 0.0;
        return;
    }

    let x = f32(xi);
    let y = f32(yi);
    let last = f32(params.filtered_detectors) - 1.0;
    var total = 0.0;
    for (var angle = 0u; angle < params.angles; angle += 1u) {
        let trig = cos_sin[angle];
        let u = y * trig.x - x * trig.y + params.filtered_center;
        if u < 0.0 || u > last {
            continue;
        }
        let base = min(floor(u), last);
        let fraction = u - base;
        let offset = angle * params.filtered_detectors + u32(base);
        let left = filtered[offset];
        var value = left;
        if base < last {
            value = left + fraction * (filtered[offset + 1u] - left);
        }
        total += value;
    }
    image[index] = total * params.scale;
}
