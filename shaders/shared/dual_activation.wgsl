// Dual activations of ReLU and erf: for (u, v) ~ N(0, [[s11, s12], [s12, s22]]),
// E[phi(u) phi(v)] and E[phi'(u) phi'(v)], the building blocks of the NNGP and
// NTK recursions. Inverse trigonometric functions come from portable_math,
// because the built-ins may be coarse (llvmpipe's asin and atan2 were off by
// up to 5e-3).

#import shared/portable_math

override ACTIVATION: u32 = 0u;  // 0 ReLU, 1 erf

// (E[phi(u) phi(v)], E[phi'(u) phi'(v)]) for variances s11, s22 and
// covariance s12 under `activation` (0 ReLU, 1 erf). `same_point` selects the
// exact value for identical inputs (correlation 1).
fn dual_activation(activation: u32, s11: f32, s22: f32, s12: f32, same_point: bool) -> vec2<f32> {
    if (activation == 0u) {
        // ReLU: arc-cosine kernel of degree 1 and 0 (Cho and Saul, 2009).
        let scale = sqrt(s11 * s22);
        if (same_point || scale == 0.0) {
            return vec2<f32>(0.5 * scale, 0.5);
        }
        let correlation = clamp(s12 / scale, -1.0, 1.0);
        // atan2 keeps theta accurate near 0, where acos(correlation) is not.
        let theta = portable_atan2(sqrt(max(0.0, (1.0 - correlation) * (1.0 + correlation))), correlation);
        let cos_sin = portable_cos_sin_pi(theta / PI);
        let expectation = scale * (cos_sin.y + (PI - theta) * cos_sin.x) / (2.0 * PI);
        let derivative = (PI - theta) / (2.0 * PI);
        return vec2<f32>(expectation, derivative);
    }
    // erf (Williams, 1997).
    let a = 1.0 + 2.0 * s11;
    let c = 1.0 + 2.0 * s22;
    var covariance = s12;
    if (same_point) {
        covariance = s11;
    }
    let argument = clamp(2.0 * covariance / sqrt(a * c), -1.0, 1.0);
    let expectation = (2.0 / PI) * portable_asin(argument);
    let derivative = (4.0 / PI) / sqrt(max(a * c - 4.0 * covariance * covariance, 1e-30));
    return vec2<f32>(expectation, derivative);
}
