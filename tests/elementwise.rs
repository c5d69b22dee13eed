//! Elementwise maps against float64 references.
//!
//! Tolerances: exact for max, min, abs, clamp, the ReLU derivative and x^2
//! (one rounding). The others allow |gpu - float64| <= rel * |float64| + abs
//! with the values in `unary_tolerance`, which cover llvmpipe and the
//! accuracy of current desktop drivers; the Vulkan specification allows
//! coarser built-ins (sin and cos only to 2^-11 absolute).

mod common;

use common::{gpu, uniform_values, worst_ratio};
use maso::gpu::WORKGROUP_SIZE_1D;
use maso::ops::{self, BinaryOp, Broadcast, UnaryOp};

fn erf_reference(x: f64) -> f64 {
    // Abramowitz and Stegun 7.1.5 series, accurate to double rounding for |x| <= 4.
    let mut term = x;
    let mut sum = x;
    for n in 1..200 {
        term *= -x * x / n as f64;
        let addition = term / (2 * n + 1) as f64;
        sum += addition;
        if addition.abs() < 1e-17 * sum.abs() {
            break;
        }
    }
    2.0 / std::f64::consts::PI.sqrt() * sum
}

fn unary_reference(op: UnaryOp, x: f64) -> f64 {
    match op {
        UnaryOp::Affine { scale, shift } => f64::from(scale) * x + f64::from(shift),
        UnaryOp::Relu => x.max(0.0),
        UnaryOp::Exp => x.exp(),
        UnaryOp::Log => x.ln(),
        UnaryOp::Sqrt => x.sqrt(),
        UnaryOp::Abs => x.abs(),
        UnaryOp::Square => x * x,
        UnaryOp::Sin => x.sin(),
        UnaryOp::Cos => x.cos(),
        UnaryOp::Tanh => x.tanh(),
        UnaryOp::Sigmoid => 1.0 / (1.0 + (-x).exp()),
        UnaryOp::Erf => erf_reference(x),
        UnaryOp::Reciprocal => 1.0 / x,
        UnaryOp::Clamp { min, max } => x.clamp(f64::from(min), f64::from(max)),
        UnaryOp::Power { scale, exponent } => f64::from(scale) * x.powf(f64::from(exponent)),
        UnaryOp::ReluDerivative => {
            if x > 0.0 {
                1.0
            } else {
                0.0
            }
        }
    }
}

/// (relative, absolute) tolerance and the input range for each op.
fn unary_tolerance(op: UnaryOp) -> (f64, f64, f32, f32) {
    match op {
        UnaryOp::Relu | UnaryOp::Abs | UnaryOp::Clamp { .. } | UnaryOp::ReluDerivative => {
            (0.0, 0.0, -4.0, 4.0)
        }
        UnaryOp::Square => (6e-8, 0.0, -4.0, 4.0),
        UnaryOp::Affine { .. } => (1.2e-7, 1e-7, -4.0, 4.0),
        UnaryOp::Exp => (2e-6, 0.0, -4.0, 4.0),
        UnaryOp::Log => (1e-6, 1e-6, 0.01, 8.0),
        UnaryOp::Sqrt => (4e-7, 0.0, 0.0, 8.0),
        UnaryOp::Sin | UnaryOp::Cos => (0.0, 4e-6, -4.0, 4.0),
        UnaryOp::Tanh => (4e-6, 1e-6, -4.0, 4.0),
        UnaryOp::Sigmoid => (2e-6, 0.0, -8.0, 8.0),
        // 1 - erfc cancels near |x| = 0.5, where the absolute error of erfc (1.2e-7 relative) dominates.
        UnaryOp::Erf => (1e-6, 3e-7, -4.0, 4.0),
        UnaryOp::Reciprocal => (4e-7, 0.0, 0.1, 4.0),
        UnaryOp::Power { .. } => (4e-6, 0.0, 0.01, 4.0),
    }
}

const UNARY_OPS: [UnaryOp; 16] = [
    UnaryOp::Affine {
        scale: -1.5,
        shift: 0.25,
    },
    UnaryOp::Relu,
    UnaryOp::Exp,
    UnaryOp::Log,
    UnaryOp::Sqrt,
    UnaryOp::Abs,
    UnaryOp::Square,
    UnaryOp::Sin,
    UnaryOp::Cos,
    UnaryOp::Tanh,
    UnaryOp::Sigmoid,
    UnaryOp::Erf,
    UnaryOp::Reciprocal,
    UnaryOp::Clamp {
        min: -0.5,
        max: 1.5,
    },
    UnaryOp::Power {
        scale: 2.0,
        exponent: 1.7,
    },
    UnaryOp::ReluDerivative,
];

#[test]
fn unary_maps_match_float64() {
    let gpu = gpu();
    for op in UNARY_OPS {
        let (relative, absolute, low, high) = unary_tolerance(op);
        for len in [1, 7, 257, 1000] {
            let values = uniform_values(len as u64 + 99, len, low, high);
            let input = gpu.upload(&values, "x").unwrap();
            let mut recorder = gpu.recorder("unary");
            let output = ops::map_unary(&mut recorder, &input, op).unwrap();
            recorder.submit().unwrap();
            let result = gpu.read(&output).unwrap();

            let expected: Vec<f64> = values
                .iter()
                .map(|&x| unary_reference(op, f64::from(x)))
                .collect();
            // Exact ops still allow the rounding of the float64 result to f32.
            let (worst, index) = worst_ratio(&result, &expected, |_, want| {
                (relative * want.abs() + absolute)
                    .max(f64::from(f32::EPSILON) * 0.5 * want.abs())
                    .max(1e-30)
            });
            assert!(
                worst <= 1.0,
                "{op:?} of {} gives {} but float64 gives {} ({worst:.2} x tolerance)",
                values[index],
                result[index],
                expected[index]
            );
        }
    }
}

#[test]
fn unary_in_place_overwrites_input() {
    let gpu = gpu();
    let values = uniform_values(5, 33, -1.0, 1.0);
    let buffer = gpu.upload(&values, "x").unwrap();
    let mut recorder = gpu.recorder("in place");
    ops::map_unary_in_place(&mut recorder, &buffer, UnaryOp::Relu).unwrap();
    recorder.submit().unwrap();
    let expected: Vec<f32> = values.iter().map(|x| x.max(0.0)).collect();
    assert_eq!(gpu.read(&buffer).unwrap(), expected);
}

#[test]
fn binary_maps_with_broadcasting() {
    let gpu = gpu();
    let (rows, columns) = (33, 7);
    let x_values = uniform_values(1, rows * columns, -2.0, 2.0);
    let x = gpu.upload(&x_values, "x").unwrap();
    let ops_list = [
        BinaryOp::Add,
        BinaryOp::Subtract,
        BinaryOp::Multiply,
        BinaryOp::Divide,
        BinaryOp::Max,
        BinaryOp::Min,
        BinaryOp::Axpby { a: 0.5, b: -3.0 },
    ];
    let cases = [
        (Broadcast::None, rows * columns),
        (Broadcast::Row { columns }, columns),
        (Broadcast::Column { columns }, rows),
        (Broadcast::Scalar, 1),
    ];
    for (broadcast, y_len) in cases {
        let y_values = uniform_values(y_len as u64 + 7, y_len, 0.5, 3.0);
        let y = gpu.upload(&y_values, "y").unwrap();
        for op in ops_list {
            let mut recorder = gpu.recorder("binary");
            let output = ops::map_binary(&mut recorder, &x, &y, op, broadcast).unwrap();
            recorder.submit().unwrap();
            let result = gpu.read(&output).unwrap();
            for (index, &got) in result.iter().enumerate() {
                let y_value = match broadcast {
                    Broadcast::None => y_values[index],
                    Broadcast::Row { .. } => y_values[index % columns],
                    Broadcast::Column { .. } => y_values[index / columns],
                    Broadcast::Scalar => y_values[0],
                };
                let (a, b) = (f64::from(x_values[index]), f64::from(y_value));
                let want = match op {
                    BinaryOp::Add => a + b,
                    BinaryOp::Subtract => a - b,
                    BinaryOp::Multiply => a * b,
                    BinaryOp::Divide => a / b,
                    BinaryOp::Max => a.max(b),
                    BinaryOp::Min => a.min(b),
                    BinaryOp::Axpby { a: p, b: q } => f64::from(p) * a + f64::from(q) * b,
                };
                // One rounding for +, -, *, max, min; division may take 2.5 ulp on Vulkan.
                let tolerance = 3.0 * f64::from(f32::EPSILON) * want.abs().max(1e-6);
                assert!(
                    (f64::from(got) - want).abs() <= tolerance,
                    "{op:?} with {broadcast:?} at {index}: got {got}, float64 gives {want}"
                );
            }
        }
    }
}

#[test]
fn binary_rejects_wrong_broadcast_length() {
    let gpu = gpu();
    let x = gpu.upload(&[0.0f32; 12], "x").unwrap();
    let y = gpu.upload(&[0.0f32; 5], "y").unwrap();
    let mut recorder = gpu.recorder("bad broadcast");
    let error = ops::map_binary(
        &mut recorder,
        &x,
        &y,
        BinaryOp::Add,
        Broadcast::Row { columns: 4 },
    )
    .unwrap_err()
    .to_string();
    assert!(error.contains("y needs 4 values"), "{error}");
}

#[test]
fn maps_cover_grids_folded_over_y() {
    // More than 65535 workgroups of 256 invocations: the grid folds into y.
    let gpu = gpu();
    let len = 65_535 * WORKGROUP_SIZE_1D as usize + 1000;
    let values: Vec<f32> = (0..len).map(|i| (i % 1024) as f32).collect();
    let input = gpu.upload(&values, "x").unwrap();
    let mut recorder = gpu.recorder("large map");
    let output = ops::map_unary(
        &mut recorder,
        &input,
        UnaryOp::Affine {
            scale: 2.0,
            shift: 1.0,
        },
    )
    .unwrap();
    recorder.submit().unwrap();
    let result = gpu.read(&output).unwrap();
    let mismatch = result
        .iter()
        .enumerate()
        .find(|(i, &got)| got != values[*i] * 2.0 + 1.0);
    assert_eq!(mismatch, None, "first wrong element (index, value)");
}
