//! Analytical facts of the Gaussian self-consuming loop, checked by Monte
//! Carlo over many chains run together on the GPU. Each check compares a
//! chain average with its expectation within 4 standard errors of that
//! average (so a correct engine fails about once in 16,000 runs; the seeds
//! are fixed, so the outcome is deterministic).

mod common;

use common::gpu;
use maso::generative::{
    run_gaussian_chains, ChainGeneration, Gaussian, LoopConfig, LoopFamily, SyntheticSource,
};

fn config(family: LoopFamily, n: usize, lambda: f64, generations: usize, seed: u64) -> LoopConfig {
    LoopConfig {
        family,
        n_real: n,
        n_synthetic: n,
        n_initial: n,
        lambda,
        generations,
        seed,
    }
}

/// Mean and standard error of `values`.
fn mean_and_error(values: &[f64]) -> (f64, f64) {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let variance = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, (variance / n).sqrt())
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted[sorted.len() / 2]
}

fn assert_zero_mean(values: &[f64], what: &str) {
    let (mean, error) = mean_and_error(values);
    assert!(
        mean.abs() <= 4.0 * error,
        "{what}: average {mean:e} is more than 4 standard errors ({error:e}) from 0"
    );
}

#[test]
fn trace_decays_geometrically_with_lambda() {
    let lambda = 0.8;
    let truth = Gaussian::standard(3).unwrap();
    let history = run_gaussian_chains(
        gpu(),
        &truth,
        &config(LoopFamily::FullySynthetic, 50, lambda, 6, 1),
        400,
        &mut |_, _| Ok(()),
    )
    .unwrap();
    for t in 1..history.len() {
        // E[tr S_{t+1} | S_t] = lambda tr S_t, so tr S_{t+1} - lambda tr S_t has mean 0.
        let differences: Vec<f64> = (0..400)
            .map(|c| history[t].traces[c] - lambda * history[t - 1].traces[c])
            .collect();
        assert_zero_mean(
            &differences,
            &format!("trace step into generation {}", t + 1),
        );
    }
    let first = ChainGeneration::average(&history[0].traces);
    let last = ChainGeneration::average(&history[5].traces);
    assert!(
        (last / first - lambda.powi(5)).abs() < 0.1 * lambda.powi(5),
        "E tr S_6 / E tr S_1 = {} vs {}",
        last / first,
        lambda.powi(5)
    );
}

#[test]
fn mean_steps_have_covariance_lambda_sigma_over_n() {
    let (lambda, n) = (0.6, 40);
    let truth = Gaussian::standard(2).unwrap();
    let history = run_gaussian_chains(
        gpu(),
        &truth,
        &config(LoopFamily::FullySynthetic, n, lambda, 4, 2),
        500,
        &mut |_, _| Ok(()),
    )
    .unwrap();
    for t in 1..history.len() {
        // E[|mu_{t+1} - mu_t|^2 | S_t] = lambda tr S_t / n.
        let residuals: Vec<f64> = (0..500)
            .map(|c| {
                let step: f64 = history[t].means[c]
                    .iter()
                    .zip(&history[t - 1].means[c])
                    .map(|(a, b)| (a - b).powi(2))
                    .sum();
                step - lambda * history[t - 1].traces[c] / n as f64
            })
            .collect();
        assert_zero_mean(&residuals, &format!("mean step into generation {}", t + 1));
    }
}

#[test]
fn covariance_collapses_even_without_bias() {
    let truth = Gaussian::standard(1).unwrap();
    let history = run_gaussian_chains(
        gpu(),
        &truth,
        &config(LoopFamily::FullySynthetic, 10, 1.0, 120, 3),
        50,
        &mut |_, _| Ok(()),
    )
    .unwrap();
    // The log variance drifts down by about 1/(n - 1) = 0.11 per generation,
    // although the expected variance stays 1 (a few chains keep large ones).
    assert!(
        median(&history.last().unwrap().traces) < 1e-3,
        "median variance after 120 generations: {}",
        median(&history.last().unwrap().traces)
    );
}

/// Digamma function for x >= 6 by its asymptotic series, after recurrence.
fn digamma(mut x: f64) -> f64 {
    let mut shift = 0.0;
    while x < 6.0 {
        shift -= 1.0 / x;
        x += 1.0;
    }
    let inverse = 1.0 / (x * x);
    shift + x.ln() - 0.5 / x - inverse * (1.0 / 12.0 - inverse * (1.0 / 120.0 - inverse / 252.0))
}

#[test]
fn log_variance_falls_by_log_lambda_minus_one_over_n() {
    let (lambda, n, chains) = (0.7, 20usize, 600);
    let truth = Gaussian::standard(1).unwrap();
    let history = run_gaussian_chains(
        gpu(),
        &truth,
        &config(LoopFamily::FullySynthetic, n, lambda, 6, 4),
        chains,
        &mut |_, _| Ok(()),
    )
    .unwrap();
    // log S_{t+1} - log S_t = log lambda + log(chi2_{n-1} / (n - 1)), whose
    // mean is log lambda + digamma((n - 1) / 2) + log(2 / (n - 1)).
    let exact = lambda.ln() + digamma((n as f64 - 1.0) / 2.0) + (2.0 / (n as f64 - 1.0)).ln();
    let approximation = lambda.ln() - 1.0 / (n as f64 - 1.0);
    assert!(
        (exact - approximation).abs() < 0.002,
        "exact {exact}, approximation {approximation}"
    );
    let slopes: Vec<f64> = (0..chains)
        .map(|c| (history[5].traces[c].ln() - history[1].traces[c].ln()) / 4.0 - exact)
        .collect();
    assert_zero_mean(&slopes, "log-variance slope");
}

/// Average 2-Wasserstein distance to the real Gaussian over the last
/// `window` generations and all chains.
fn settled_distance(history: &[ChainGeneration], window: usize) -> f64 {
    let tail = &history[history.len() - window..];
    tail.iter()
        .map(|g| ChainGeneration::average(&g.wasserstein2))
        .sum::<f64>()
        / window as f64
}

fn fresh_limit(dim: usize, chains: usize, generations: usize) {
    let truth = Gaussian::standard(dim).unwrap();
    let run = |initial: usize| {
        let config = LoopConfig {
            family: LoopFamily::Fresh,
            n_real: 100,
            n_synthetic: 900,
            n_initial: initial,
            lambda: 1.0,
            generations,
            seed: 5,
        };
        run_gaussian_chains(gpu(), &truth, &config, chains, &mut |_, _| Ok(())).unwrap()
    };
    let small = run(100);
    let large = run(1000);
    let (start_small, start_large) = (
        ChainGeneration::average(&small[0].wasserstein2),
        ChainGeneration::average(&large[0].wasserstein2),
    );
    assert!(
        start_small > 1.5 * start_large,
        "generation 1: {start_small} (100 points) vs {start_large} (1000 points)"
    );
    let (limit_small, limit_large) = (settled_distance(&small, 10), settled_distance(&large, 10));
    assert!(
        (limit_small - limit_large).abs() < 0.1 * limit_large,
        "limits {limit_small} (initial 100) and {limit_large} (initial 1000) differ"
    );
}

#[test]
fn fresh_data_limit_ignores_initial_size() {
    fresh_limit(10, 12, 30);
}

/// Runs the study's size, d = 100 (about a minute on lavapipe).
#[test]
#[ignore]
fn fresh_data_limit_ignores_initial_size_d100() {
    fresh_limit(100, 16, 60);
}

#[test]
fn augmentation_keeps_covariance_away_from_zero() {
    let truth = Gaussian::standard(2).unwrap();
    let run = |family| {
        run_gaussian_chains(
            gpu(),
            &truth,
            &config(family, 20, 1.0, 50, 6),
            30,
            &mut |_, _| Ok(()),
        )
        .unwrap()
    };
    let last_model = run(LoopFamily::Augment(SyntheticSource::LastModel));
    let all_models = run(LoopFamily::Augment(SyntheticSource::AllModels));
    let synthetic = run(LoopFamily::FullySynthetic);
    // Medians: the fully synthetic loop's mean trace stays near its start,
    // carried by a few chains, while the typical chain collapses.
    let last = |h: &[ChainGeneration]| median(&h.last().unwrap().traces);
    assert!(
        last(&last_model) > 0.5,
        "augment (last model): {}",
        last(&last_model)
    );
    assert!(
        last(&all_models) > 0.5,
        "augment (all models): {}",
        last(&all_models)
    );
    assert!(
        last(&synthetic) < 0.2,
        "fully synthetic: {}",
        last(&synthetic)
    );
}

#[test]
fn invalid_loop_settings_are_rejected() {
    let truth = Gaussian::standard(2).unwrap();
    for (lambda, needle) in [(0.0, "lambda"), (1.5, "lambda"), (f64::NAN, "lambda")] {
        let message = run_gaussian_chains(
            gpu(),
            &truth,
            &config(LoopFamily::Fresh, 10, lambda, 2, 0),
            2,
            &mut |_, _| Ok(()),
        )
        .unwrap_err()
        .to_string();
        assert!(message.contains(needle), "{message}");
    }
    let message = run_gaussian_chains(
        gpu(),
        &truth,
        &config(LoopFamily::Fresh, 1, 1.0, 2, 0),
        2,
        &mut |_, _| Ok(()),
    )
    .unwrap_err()
    .to_string();
    assert!(message.contains("at least 2 real points"), "{message}");
}

#[test]
fn chain_draws_follow_their_philox_streams() {
    // Generation 1 of chain c draws from stream (seed, c << 32 | 1 << 4);
    // with the standard normal as truth the points are the stream's normals.
    let (n, dim, seed) = (37usize, 3usize, 11u64);
    let truth = Gaussian::standard(dim).unwrap();
    let history = run_gaussian_chains(
        gpu(),
        &truth,
        &config(LoopFamily::FullySynthetic, n, 1.0, 1, seed),
        3,
        &mut |_, _| Ok(()),
    )
    .unwrap();
    for chain in 0..3u64 {
        let normals =
            maso::random::PhiloxStream::new(seed, (chain << 32) | (1 << 4)).normal(0, n * dim);
        for f in 0..dim {
            let expected: f64 =
                (0..n).map(|i| f64::from(normals[i * dim + f])).sum::<f64>() / n as f64;
            let got = history[0].means[chain as usize][f];
            assert!(
                (got - expected).abs() < 1e-5,
                "chain {chain}, coordinate {f}: {got} vs {expected}"
            );
        }
    }
}

#[test]
fn fewer_points_than_dimensions_give_degenerate_samples() {
    use maso::generative::GenerativeModel;
    // 4 points in 6 dimensions: the covariance has rank 3, so the fitted
    // Gaussian samples through its symmetric square root and its samples
    // stay in the span of the centred training points.
    let dim = 6;
    let points = maso::random::PhiloxStream::new(9, 0).normal(0, 4 * dim);
    let mut model = Gaussian::standard(dim).unwrap();
    model.fit(gpu(), &points, dim).unwrap();
    let samples = model.sample(gpu(), 50, 1.0, 3).unwrap();
    assert!(samples.iter().all(|v| v.is_finite()));
    let centred: Vec<f64> = samples
        .chunks(dim)
        .flat_map(|s| {
            s.iter()
                .zip(&model.mean)
                .map(|(a, m)| f64::from(*a) - m)
                .collect::<Vec<_>>()
        })
        .collect();
    let matrix = nalgebra::DMatrix::from_row_slice(50, dim, &centred);
    let singular = matrix.singular_values();
    let rank = singular
        .iter()
        .filter(|&&s| s > 1e-3 * singular.max())
        .count();
    assert_eq!(rank, 3, "singular values {singular:?}");
}
