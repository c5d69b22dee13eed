//! Coordinate networks end to end: fitting, rendering with frozen
//! statistics, Lipschitz estimates and determinism.

mod common;

use common::gpu;
use maso::nn::{
    fit, lipschitz_estimate, render, CoordinateNetwork, DeepDecoder, DeepDecoderConfig, FitConfig,
    GraphBuilder, Loss, Mlp, MlpConfig, NormStatistics, Optimizer, OptimizerConfig, Siren,
    SirenConfig, Titan, TitanConfig,
};

/// Pixel centres of a width x height grid in [-1, 1]^2.
fn grid(width: usize, height: usize) -> Vec<[f32; 2]> {
    let mut points = Vec::new();
    for y in 0..height {
        for x in 0..width {
            points.push([
                -1.0 + (2 * x + 1) as f32 / width as f32,
                -1.0 + (2 * y + 1) as f32 / height as f32,
            ]);
        }
    }
    points
}

/// Returns a smooth two-channel test pattern in [0, 1].
fn pattern(points: &[[f32; 2]]) -> Vec<f32> {
    points
        .iter()
        .flat_map(|[x, y]| {
            [
                0.5 + 0.4 * (3.0 * x).sin() * (2.0 * y).cos(),
                0.5 + 0.3 * (x * y * 4.0).tanh(),
            ]
        })
        .collect()
}

fn small_titan(seed: u64) -> Titan {
    let config = TitanConfig {
        width: 12,
        depth: 4,
        channels: 2,
        keep: 1.0,
    };
    Titan::new(gpu(), config, seed).unwrap()
}

#[test]
fn every_coordinate_network_reduces_the_loss() {
    let gpu = gpu();
    let points = grid(19, 13);
    let targets = pattern(&points);
    let siren = SirenConfig {
        width: 32,
        hidden_layers: 2,
        omega: 10.0,
        channels: 2,
    };
    let mlp = MlpConfig {
        width: 32,
        hidden_layers: 2,
        fourier_features: 16,
        fourier_scale: 2.0,
        channels: 2,
    };
    let networks: Vec<Box<dyn CoordinateNetwork>> = vec![
        Box::new(Siren::new(gpu, siren, 1).unwrap()),
        Box::new(Mlp::new(gpu, mlp, 2).unwrap()),
        Box::new(
            Mlp::new(
                gpu,
                MlpConfig {
                    fourier_features: 0,
                    ..mlp
                },
                3,
            )
            .unwrap(),
        ),
        Box::new(small_titan(4)),
    ];
    for mut network in networks {
        let config = FitConfig {
            optimizer: OptimizerConfig {
                learning_rate: 3e-3,
                ..OptimizerConfig::default()
            },
            ..FitConfig::full_batch(150)
        };
        let report = fit(
            gpu,
            network.as_mut(),
            &points,
            &targets,
            &config,
            &mut |_, _| {},
        )
        .unwrap();
        let (first, last) = (report.losses[0], *report.losses.last().unwrap());
        assert!(
            last < 0.25 * first,
            "{}: loss {first} -> {last}",
            network.name()
        );
    }
}

#[test]
fn rendering_with_frozen_statistics_reproduces_the_training_forward_pass() {
    let gpu = gpu();
    let points = grid(11, 9);
    let targets = pattern(&points);
    let mut titan = small_titan(5);
    fit(
        gpu,
        &mut titan,
        &points,
        &targets,
        &FitConfig::full_batch(20),
        &mut |_, _| {},
    )
    .unwrap();

    // The statistics stored by the last batch-mode pass over the training
    // grid make the frozen network agree with the batch-mode one there.
    let mut builder = GraphBuilder::new(titan.store());
    let input = builder.input(points.len(), 2, "coordinates").unwrap();
    let output = titan
        .build(&mut builder, input, NormStatistics::Batch)
        .unwrap();
    let graph = builder.build(gpu).unwrap();
    let flat: Vec<f32> = points.iter().flatten().copied().collect();
    graph.set_input(gpu, input, &flat).unwrap();
    let mut recorder = gpu.recorder("batch forward");
    graph.record_forward(&mut recorder, titan.store()).unwrap();
    recorder.submit().unwrap();
    let batch = graph.read(gpu, output).unwrap();
    let frozen = render(gpu, &titan, &points).unwrap();
    for (index, (a, b)) in batch.iter().zip(&frozen).enumerate() {
        assert!((a - b).abs() < 1e-5, "value {index}: batch {a}, frozen {b}");
    }

    // Frozen rendering is pointwise: a pixel's value does not depend on the
    // other coordinates queried with it.
    let alone = render(gpu, &titan, &points[17..18]).unwrap();
    assert!((alone[0] - frozen[34]).abs() < 1e-6, "channel 0");
    assert!((alone[1] - frozen[35]).abs() < 1e-6, "channel 1");
}

#[test]
fn lipschitz_estimate_matches_finite_differences() {
    let gpu = gpu();
    let siren = Siren::new(
        gpu,
        SirenConfig {
            width: 16,
            hidden_layers: 1,
            omega: 5.0,
            channels: 3,
        },
        6,
    )
    .unwrap();
    let points = grid(7, 5);
    let estimate = lipschitz_estimate(gpu, &siren, &points).unwrap();

    // Central differences of the rendered network in float32 with h = 1e-2:
    // truncation ~h^2 |f'''| and rounding ~1e-7 / h, both well under 1%.
    let h = 1e-2f32;
    let mut largest = 0.0f64;
    for &[x, y] in &points {
        let shifted = [[x + h, y], [x - h, y], [x, y + h], [x, y - h]];
        let values = render(gpu, &siren, &shifted).unwrap();
        let mut squared = 0.0f64;
        for channel in 0..3 {
            let dx = f64::from(values[channel] - values[3 + channel]) / f64::from(2.0 * h);
            let dy = f64::from(values[6 + channel] - values[9 + channel]) / f64::from(2.0 * h);
            squared += dx * dx + dy * dy;
        }
        largest = largest.max(squared.sqrt());
    }
    assert!(
        (estimate - largest).abs() < 0.01 * largest,
        "estimate {estimate}, finite differences {largest}"
    );
}

#[test]
fn mini_batch_fits_are_deterministic_given_a_seed() {
    let gpu = gpu();
    let points = grid(13, 7);
    let targets = pattern(&points);
    let config = FitConfig {
        batch_size: Some(40),
        seed: 11,
        ..FitConfig::full_batch(15)
    };
    let mut weights = Vec::new();
    for seed in [11, 11, 12] {
        let mut titan = small_titan(7);
        fit(
            gpu,
            &mut titan,
            &points,
            &targets,
            &FitConfig { seed, ..config },
            &mut |_, _| {},
        )
        .unwrap();
        let id = titan.store().ids().next().unwrap();
        weights.push(titan.store().read(gpu, id).unwrap());
    }
    assert_eq!(weights[0], weights[1], "same seed, same weights");
    assert_ne!(weights[0], weights[2], "another seed draws other batches");
}

#[test]
fn deep_decoder_fits_through_area_downsampling() {
    // The super-resolution form of the deep decoder: a 16 x 16 output whose
    // 4 x 4 block means must match an 4 x 4 target.
    let gpu = gpu();
    let config = DeepDecoderConfig {
        channels: 8,
        layers: 2,
        output_channels: 1,
        width: 16,
        height: 16,
    };
    let mut decoder = DeepDecoder::new(gpu, config, 3).unwrap();
    let target: Vec<f32> = (0..16).map(|i| 0.2 + 0.04 * i as f32).collect();
    let mut builder = GraphBuilder::new(decoder.store());
    let image = decoder.build(&mut builder, NormStatistics::Batch).unwrap();
    let low = builder.area_downsample(image, 16, 16, 4, "low").unwrap();
    let measured = builder.input(16, 1, "target").unwrap();
    builder
        .set_loss(Loss::MeanSquaredError {
            prediction: low,
            target: measured,
        })
        .unwrap();
    let graph = builder.build(gpu).unwrap();
    graph.set_input(gpu, measured, &target).unwrap();
    let mut optimizer = Optimizer::new(OptimizerConfig {
        learning_rate: 0.01,
        ..OptimizerConfig::default()
    })
    .unwrap();
    let mut losses = Vec::new();
    for _ in 0..100 {
        let mut recorder = gpu.recorder("deep decoder step");
        graph
            .record_forward(&mut recorder, decoder.store())
            .unwrap();
        let sum = graph
            .record_backward(&mut recorder, decoder.store())
            .unwrap();
        optimizer
            .record_step(&mut recorder, decoder.store_mut())
            .unwrap();
        recorder.submit().unwrap();
        losses.push(gpu.read(&sum).unwrap()[0] / 16.0);
    }
    assert!(
        losses[99] < 0.1 * losses[0],
        "loss {} -> {}",
        losses[0],
        losses[99]
    );
}

#[test]
fn model_settings_out_of_range_are_rejected() {
    let gpu = gpu();
    let message = Siren::new(
        gpu,
        SirenConfig {
            omega: 0.0,
            ..SirenConfig::default()
        },
        0,
    )
    .err()
    .unwrap()
    .to_string();
    assert!(message.contains("omega"), "{message}");
    let message = Titan::new(
        gpu,
        TitanConfig {
            depth: 1,
            ..TitanConfig::paper(3)
        },
        0,
    )
    .err()
    .unwrap()
    .to_string();
    assert!(message.contains("depth"), "{message}");
    let config = DeepDecoderConfig {
        channels: 4,
        layers: 3,
        output_channels: 1,
        width: 20,
        height: 16,
    };
    let message = DeepDecoder::new(gpu, config, 0).err().unwrap().to_string();
    assert!(message.contains("divisible by 2^layers = 8"), "{message}");
    let mut siren = Siren::new(
        gpu,
        SirenConfig {
            width: 4,
            hidden_layers: 0,
            omega: 1.0,
            channels: 1,
        },
        0,
    )
    .unwrap();
    let message = fit(
        gpu,
        &mut siren,
        &[[0.0, 0.0]],
        &[0.5, 0.5],
        &FitConfig::full_batch(1),
        &mut |_, _| {},
    )
    .unwrap_err()
    .to_string();
    assert!(message.contains("need 1 target values"), "{message}");
}

#[test]
fn grids_beyond_the_adapter_limit_fail_with_advice() {
    let gpu = gpu();
    let width = 64;
    // Enough coordinates that one hidden tensor (rows x width floats)
    // exceeds the largest storage binding of this adapter.
    let limit = gpu.limits().max_storage_buffer_binding_size as u64;
    let rows = (limit / (4 * width as u64) + 1) as usize;
    let config = SirenConfig {
        width,
        hidden_layers: 1,
        omega: 30.0,
        channels: 1,
    };
    let mut siren = Siren::new(gpu, config, 0).unwrap();
    let coordinates = vec![[0.0f32, 0.0]; rows];
    let targets = vec![0.5f32; rows];
    let message = fit(
        gpu,
        &mut siren,
        &coordinates,
        &targets,
        &FitConfig::full_batch(1),
        &mut |_, _| {},
    )
    .unwrap_err()
    .to_string();
    assert!(message.contains("smaller batch"), "{message}");
    assert!(
        message.contains("max_storage_buffer_binding_size"),
        "{message}"
    );

    // Mini-batches of the same grid fit in the limit.
    let config = FitConfig {
        batch_size: Some(1024),
        ..FitConfig::full_batch(1)
    };
    fit(
        gpu,
        &mut siren,
        &coordinates,
        &targets,
        &config,
        &mut |_, _| {},
    )
    .unwrap();
}
