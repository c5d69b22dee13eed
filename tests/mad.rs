//! The MAD pipeline: self-consuming loops scored by k-NN metrics, the
//! Fréchet distance and, for Gaussians, the exact Wasserstein-2 distance.

mod common;

use common::gpu;
use maso::generative::{GmmOptions, LoopConfig, LoopFamily, RealDistribution};
use maso::pipelines::mad::{average_by_generation, run_mad, MadConfig, MadModel};

#[test]
fn gaussian_chains_are_scored_every_generation() {
    let real = RealDistribution::standard_normal(2).unwrap();
    let loop_config = LoopConfig {
        family: LoopFamily::FullySynthetic,
        n_real: 100,
        n_synthetic: 100,
        n_initial: 100,
        lambda: 0.8,
        generations: 4,
        seed: 1,
    };
    let config = MadConfig {
        model: MadModel::Gaussian,
        loop_config,
        chains: 6,
        scored_chains: 2,
        metric_samples: 300,
        k: 5,
    };
    let result = run_mad(gpu(), &config, &real, &mut |_, _| {}).unwrap();
    assert_eq!(result.rows.len(), 6 * 4);
    for row in &result.rows {
        assert!(row.wasserstein2.unwrap().is_finite());
        assert!(row.trace.unwrap() > 0.0);
        assert_eq!(
            row.precision.is_some(),
            row.chain < 2,
            "chain {}",
            row.chain
        );
    }
    let averages = average_by_generation(&result.rows, 4);
    // lambda = 0.8 shrinks the expected trace by 0.8 per generation.
    assert!(averages[3].trace.unwrap() < averages[0].trace.unwrap());
    assert!(
        averages[3].recall.unwrap() < averages[0].recall.unwrap(),
        "recall {:?} -> {:?}",
        averages[0].recall,
        averages[3].recall
    );
}

#[test]
fn fully_synthetic_mixture_loses_modes_and_recall() {
    let real = RealDistribution::GridMixture;
    let loop_config = LoopConfig {
        family: LoopFamily::FullySynthetic,
        n_real: 500,
        n_synthetic: 150,
        n_initial: 500,
        lambda: 1.0,
        generations: 20,
        seed: 7,
    };
    let model = MadModel::Gmm(GmmOptions {
        components: 25,
        max_iterations: 40,
        ..GmmOptions::default()
    });
    let config = MadConfig {
        model,
        loop_config,
        chains: 1,
        scored_chains: 1,
        metric_samples: 1000,
        k: 5,
    };
    let result = run_mad(gpu(), &config, &real, &mut |_, _| {}).unwrap();
    let first = &result.rows[0];
    let last = result.rows.last().unwrap();
    assert!(
        last.modes.unwrap() < first.modes.unwrap(),
        "modes {:?} -> {:?}",
        first.modes,
        last.modes
    );
    assert!(
        last.recall.unwrap() < first.recall.unwrap(),
        "recall {:?} -> {:?}",
        first.recall,
        last.recall
    );
    assert_eq!(result.samples.len(), 20);
}

#[test]
fn mad_rejects_bad_settings() {
    let real = RealDistribution::standard_normal(2).unwrap();
    let loop_config = LoopConfig {
        family: LoopFamily::Fresh,
        n_real: 50,
        n_synthetic: 50,
        n_initial: 50,
        lambda: 1.2,
        generations: 2,
        seed: 0,
    };
    let config = MadConfig {
        model: MadModel::Gaussian,
        loop_config,
        chains: 1,
        scored_chains: 1,
        metric_samples: 100,
        k: 5,
    };
    let message = run_mad(gpu(), &config, &real, &mut |_, _| {})
        .unwrap_err()
        .to_string();
    assert!(message.contains("lambda"), "{message}");
    let config = MadConfig {
        scored_chains: 3,
        loop_config: LoopConfig {
            lambda: 1.0,
            ..loop_config
        },
        ..config
    };
    let message = run_mad(gpu(), &config, &real, &mut |_, _| {})
        .unwrap_err()
        .to_string();
    assert!(message.contains("scored"), "{message}");
    let message = RealDistribution::points(vec![0.0, f32::NAN, 1.0, 1.0], 2)
        .unwrap_err()
        .to_string();
    assert!(message.contains("row 0, column 1"), "{message}");
}
