//! Gaussian mixtures fitted by EM on the GPU: the E-step against float64,
//! monotone log-likelihood, the 25-mode grid recovered, and the fully
//! synthetic loop losing modes.

mod common;

use common::gpu;
use maso::generative::{
    recovered_modes, run_loop, GaussianMixture, GenerativeModel, GmmOptions, LoopConfig,
    LoopFamily, RealDistribution,
};

fn host_mean_log_likelihood(mixture: &GaussianMixture, points: &[f32]) -> f64 {
    let dim = mixture.components[0].dim();
    let n = points.len() / dim;
    let mut total = 0.0;
    for i in 0..n {
        let x: Vec<f64> = points[i * dim..(i + 1) * dim]
            .iter()
            .map(|&v| f64::from(v))
            .collect();
        let mut density = 0.0;
        for (weight, component) in mixture.weights.iter().zip(&mixture.components) {
            let covariance = nalgebra::DMatrix::from_row_slice(dim, dim, &component.covariance);
            let offset = nalgebra::DVector::from_iterator(
                dim,
                x.iter().zip(&component.mean).map(|(a, m)| a - m),
            );
            let quadratic = offset.dot(&(covariance.clone().try_inverse().unwrap() * &offset));
            let normaliser =
                ((2.0 * std::f64::consts::PI).powi(dim as i32) * covariance.determinant()).sqrt();
            density += weight * (-0.5 * quadratic).exp() / normaliser;
        }
        total += density.ln();
    }
    total / n as f64
}

#[test]
fn e_step_matches_float64_and_likelihood_rises() {
    let real = RealDistribution::standard_normal(3).unwrap();
    let points = real.sample(gpu(), 400, 1).unwrap();
    let mut mixture = GaussianMixture::new(GmmOptions {
        components: 4,
        max_iterations: 60,
        tolerance: 1e-7,
        ..GmmOptions::default()
    });
    mixture.fit(gpu(), &points, 3).unwrap();

    let history = &mixture.log_likelihood_history;
    assert!(history.len() >= 2);
    for pair in history.windows(2) {
        // EM never lowers the likelihood; allow f32 rounding of the mean.
        assert!(
            pair[1] >= pair[0] - 1e-5,
            "log-likelihood fell from {} to {}",
            pair[0],
            pair[1]
        );
    }
    assert!((mixture.weights.iter().sum::<f64>() - 1.0).abs() < 1e-9);

    let gpu_value = mixture.mean_log_likelihood(gpu(), &points).unwrap();
    let host_value = host_mean_log_likelihood(&mixture, &points);
    assert!(
        (gpu_value - host_value).abs() < 1e-5 * host_value.abs().max(1.0),
        "GPU {gpu_value} vs float64 {host_value}"
    );
}

#[test]
fn grid_mixture_modes_are_recovered() {
    let real = RealDistribution::GridMixture;
    let points = real.sample(gpu(), 2500, 3).unwrap();
    assert_eq!(recovered_modes(&points, 0.01).unwrap(), 25);
    let mut mixture = GaussianMixture::new(GmmOptions {
        components: 25,
        max_iterations: 100,
        ..GmmOptions::default()
    });
    mixture.fit(gpu(), &points, 2).unwrap();
    let samples = mixture.sample(gpu(), 2500, 1.0, 4).unwrap();
    let modes = recovered_modes(&samples, 0.01).unwrap();
    assert!(
        modes >= 22,
        "the fitted mixture covers only {modes} of 25 modes"
    );
}

#[test]
fn fully_synthetic_mixture_loop_loses_modes() {
    let real = RealDistribution::GridMixture;
    let config = LoopConfig {
        family: LoopFamily::FullySynthetic,
        n_real: 500,
        n_synthetic: 150,
        n_initial: 500,
        lambda: 1.0,
        generations: 25,
        seed: 7,
    };
    let mut mixture = GaussianMixture::new(GmmOptions {
        components: 25,
        max_iterations: 40,
        ..GmmOptions::default()
    });
    let mut modes = Vec::new();
    run_loop(gpu(), &mut mixture, &real, &config, 1000, &mut |record| {
        modes.push(recovered_modes(&record.samples, 0.01)?);
        Ok(())
    })
    .unwrap();
    let first = modes[0];
    let last = *modes.last().unwrap();
    assert!(first >= 20, "generation 1 recovers {first} modes");
    assert!(last < first, "modes over generations: {modes:?}");
}

#[test]
fn mixture_rejects_bad_input() {
    let mut mixture = GaussianMixture::new(GmmOptions {
        components: 5,
        ..GmmOptions::default()
    });
    let message = mixture
        .fit(gpu(), &[0.0, 1.0, 2.0, 3.0], 2)
        .unwrap_err()
        .to_string();
    assert!(message.contains("components"), "{message}");
    let message = mixture
        .fit(gpu(), &[0.0, f32::NAN, 2.0, 3.0], 2)
        .unwrap_err()
        .to_string();
    assert!(message.contains("row 0, column 1"), "{message}");
    let message = mixture.sample(gpu(), 10, 1.0, 0).unwrap_err().to_string();
    assert!(
        message.contains("unfitted") || message.contains("fit"),
        "{message}"
    );
}
