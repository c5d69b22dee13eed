//! Float64 CPU evaluation of the NNGP, NTK and per-layer terms, written from
//! the recursion in the module documentation of [`crate::kernels::ntk`].
//! Tests compare the GPU kernel with it.

use crate::kernels::ntk::{Activation, NtkConfig};

/// (E[phi(u) phi(v)], E[phi'(u) phi'(v)]) for (u, v) ~ N(0, [[s11, s12], [s12, s22]]).
pub fn dual_activation(activation: Activation, s11: f64, s22: f64, s12: f64) -> (f64, f64) {
    use std::f64::consts::PI;
    match activation {
        Activation::Relu => {
            let scale = (s11 * s22).sqrt();
            if scale == 0.0 {
                return (0.0, 0.5);
            }
            let correlation = (s12 / scale).clamp(-1.0, 1.0);
            let theta = correlation.acos();
            let expectation = scale * (theta.sin() + (PI - theta) * theta.cos()) / (2.0 * PI);
            (expectation, (PI - theta) / (2.0 * PI))
        }
        Activation::Erf => {
            let product = (1.0 + 2.0 * s11) * (1.0 + 2.0 * s22);
            let expectation = 2.0 / PI * (2.0 * s12 / product.sqrt()).clamp(-1.0, 1.0).asin();
            let derivative = 4.0 / PI / (product - 4.0 * s12 * s12).sqrt();
            (expectation, derivative)
        }
    }
}

/// Sigma_h(x, x) for h = 0..L-1: the input covariance of each weight layer
/// on the diagonal, which every entry of a Gram matrix needs.
pub fn diagonal_trajectory(config: &NtkConfig, x: &[f64]) -> Vec<f64> {
    let mut sigma = x.iter().map(|v| v * v).sum::<f64>() / x.len() as f64;
    let mut trajectory = Vec::with_capacity(config.depth);
    for _ in 0..config.depth {
        trajectory.push(sigma);
        let s = config.w_variance() * sigma + config.b_variance();
        sigma = dual_activation(config.activation, s, s, s).0;
    }
    trajectory
}

/// NNGP, NTK and per-layer terms Theta_0..Theta_L of one pair of inputs.
#[derive(Debug, Clone, PartialEq)]
pub struct PairKernels {
    /// Output covariance S_L.
    pub nngp: f64,
    /// Neural tangent kernel.
    pub ntk: f64,
    /// Theta_h for h = 0..L, summing to `ntk`.
    pub layers: Vec<f64>,
}

/// Evaluates the kernels of `config` for inputs `x` and `y` of equal length.
pub fn pair_kernels(config: &NtkConfig, x: &[f64], y: &[f64]) -> PairKernels {
    let dimension = x.len();
    let (alpha_first, alpha_hidden, beta) = config.gradient_kernel_coefficients(dimension);
    let (w2, b2) = (config.w_variance(), config.b_variance());
    let norm = |v: &[f64]| v.iter().map(|a| a * a).sum::<f64>() / dimension as f64;

    let mut s11 = norm(x);
    let mut s22 = norm(y);
    let mut sigma = x.iter().zip(y).map(|(a, b)| a * b).sum::<f64>() / dimension as f64;
    let mut gradient_kernels = vec![alpha_first * sigma + beta];
    let mut factors = vec![1.0];
    for _ in 0..config.depth {
        let (p11, p22, p12) = (w2 * s11 + b2, w2 * s22 + b2, w2 * sigma + b2);
        let (expectation, derivative) = dual_activation(config.activation, p11, p22, p12);
        s11 = dual_activation(config.activation, p11, p11, p11).0;
        s22 = dual_activation(config.activation, p22, p22, p22).0;
        sigma = expectation;
        gradient_kernels.push(alpha_hidden * sigma + beta);
        factors.push(w2 * derivative);
    }

    let mut layers = vec![0.0; config.depth + 1];
    let mut product = 1.0;
    for h in (0..=config.depth).rev() {
        layers[h] = gradient_kernels[h] * product;
        product *= factors[h];
    }
    PairKernels {
        nngp: w2 * sigma + b2,
        ntk: layers.iter().sum(),
        layers,
    }
}
