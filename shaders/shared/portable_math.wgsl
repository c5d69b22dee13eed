// Transcendental functions written out in basic arithmetic.
//
// WGSL's built-in log, sin and cos may be as coarse as an absolute error of
// 2^-11 on Vulkan (the SPIR-V precision rules allow it), so results would
// differ from vendor to vendor. These versions use only +, -, *, / and sqrt,
// and agree with a float64 evaluation to a few units in the last place on any
// conforming adapter.

const LN_2: f32 = 0.6931471805599453;
const PI: f32 = 3.141592653589793;

// Natural logarithm of a positive, finite, normal x.
// x = m * 2^e with m in [sqrt(1/2), sqrt(2)); ln(m) = 2 atanh(s) with
// s = (m - 1) / (m + 1), |s| <= 0.1716, summed to s^9 (truncation < 1e-9).
fn portable_log(x: f32) -> f32 {
    let bits = bitcast<u32>(x);
    var exponent = i32((bits >> 23u) & 0xFFu) - 127;
    var mantissa = bitcast<f32>((bits & 0x007FFFFFu) | 0x3F800000u);
    if (mantissa > 1.4142135623730951) {
        mantissa = mantissa * 0.5;
        exponent = exponent + 1;
    }
    let s = (mantissa - 1.0) / (mantissa + 1.0);
    let s2 = s * s;
    let series = s * (2.0 + s2 * (0.6666666666666666 + s2 * (0.4 + s2 * (0.2857142857142857 + s2 * 0.2222222222222222))));
    return f32(exponent) * LN_2 + series;
}

// (cos(pi x), sin(pi x)) for |x| <= 2^22.
// x is split into quarter turns q and a remainder y in [-1/4, 1/4] (exact in
// f32), then Taylor series in pi*y to degree 9 (truncation below 2e-9).
fn portable_cos_sin_pi(x: f32) -> vec2<f32> {
    let quarter_turns = round(2.0 * x);
    let y = x - 0.5 * quarter_turns;
    let z = PI * y;
    let z2 = z * z;
    let sine = z * (1.0 + z2 * (-0.16666666666666666 + z2 * (0.008333333333333333 + z2 * (-0.0001984126984126984 + z2 * 2.7557319223985893e-6))));
    let cosine = 1.0 + z2 * (-0.5 + z2 * (0.041666666666666664 + z2 * (-0.001388888888888889 + z2 * 2.48015873015873e-5)));

    let quadrant = i32(quarter_turns) & 3;
    if (quadrant == 0) {
        return vec2<f32>(cosine, sine);
    }
    if (quadrant == 1) {
        return vec2<f32>(-sine, cosine);
    }
    if (quadrant == 2) {
        return vec2<f32>(-cosine, -sine);
    }
    return vec2<f32>(sine, -cosine);
}

// Error function. Below |x| = 0.5 a Taylor series (relative error < 3e-8);
// above, 1 - erfc(|x|) with the Chebyshev fit of Numerical Recipes (2nd ed.,
// section 6.2, fractional error of erfc below 1.2e-7).
fn portable_erf(x: f32) -> f32 {
    let z = abs(x);
    if (z < 0.5) {
        let z2 = z * z;
        let series = z * (1.0 + z2 * (-0.3333333333333333 + z2 * (0.1 + z2 * (-0.023809523809523808 + z2 * (0.004629629629629629 + z2 * -0.0007575757575757576)))));
        return sign(x) * 1.1283791670955126 * series;
    }
    let t = 1.0 / (1.0 + 0.5 * z);
    let polynomial = -z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
    let erfc = t * exp(polynomial);
    return sign(x) * (1.0 - erfc);
}

// Arctangent of t in [0, 1]. Above tan(pi/8) the identity
// atan(t) = pi/4 + atan((t - 1) / (t + 1)) maps t into [-0.4143, 0.4143],
// where the Taylor series to degree 19 is accurate to 5e-10.
fn portable_atan_unit(t: f32) -> f32 {
    var offset = 0.0;
    var u = t;
    if (t > 0.41421356237309503) {
        offset = 0.7853981633974483;
        u = (t - 1.0) / (t + 1.0);
    }
    let u2 = u * u;
    let series = u * (1.0 + u2 * (-0.3333333333333333 + u2 * (0.2 + u2 * (-0.14285714285714285 + u2 * (0.1111111111111111
        + u2 * (-0.09090909090909091 + u2 * (0.07692307692307693 + u2 * (-0.06666666666666667 + u2 * (0.058823529411764705
        + u2 * -0.05263157894736842)))))))));
    return offset + series;
}

// Four-quadrant arctangent of y / x in [-pi, pi], like atan2.
fn portable_atan2(y: f32, x: f32) -> f32 {
    let ax = abs(x);
    let ay = abs(y);
    if (ax == 0.0 && ay == 0.0) {
        return 0.0;
    }
    var angle = portable_atan_unit(min(ax, ay) / max(ax, ay));
    if (ay > ax) {
        angle = 0.5 * PI - angle;
    }
    if (x < 0.0) {
        angle = PI - angle;
    }
    if (y < 0.0) {
        angle = -angle;
    }
    return angle;
}

// Arcsine of x in [-1, 1].
fn portable_asin(x: f32) -> f32 {
    return portable_atan2(x, sqrt(max(0.0, (1.0 - x) * (1.0 + x))));
}
