//! The conditional denoiser against a float64 CPU reference written from its
//! formula (src/generative/ddpm/denoiser.rs): one training step (noising,
//! loss, gradients of every parameter, the Adam update) and a whole guided
//! sampling chain, on a small network of odd sizes.
//!
//! Gradients come from central differences (h = 1e-6) of the float64 loss.
//! Tolerances: the loss within 1e-5 relative; each parameter's gradient
//! within 2e-4 of its largest reference magnitude (float32 sums over the
//! batch, as in tests/nn_layers.rs); the Adam step is checked where the
//! gradient is not tiny, because the first step is lr g / (|g| + eps) and
//! flips with the sign of a gradient that rounding can change. Sampled
//! images (in [0, 1]) within 2e-3: five steps each divide by
//! sqrt(alpha_bar) >= 0.5 and feed the result through the network again.

mod common;

use std::collections::HashMap;

use common::{gpu, uniform_values};
use maso::generative::ddpm::{
    sample_images, Denoiser, DenoiserConfig, DenoiserTrainer, NoiseSchedule, SamplingConfig,
    ScheduleKind, TrainingBatch, SAMPLING_STREAM,
};
use maso::nn::OptimizerConfig;
use maso::random::PhiloxStream;

const CONFIG: DenoiserConfig = DenoiserConfig {
    pixels: 13,
    classes: 3,
    width: 9,
    blocks: 2,
    time_frequencies: 3,
};

type Weights = HashMap<String, Vec<f64>>;

fn read_weights(denoiser: &Denoiser) -> Weights {
    let store = denoiser.store();
    store
        .ids()
        .map(|id| {
            let values = store.read(gpu(), id).unwrap();
            (
                store.name(id).to_string(),
                values.into_iter().map(f64::from).collect(),
            )
        })
        .collect()
}

/// y = x W^T + b for one row.
fn dense(weights: &Weights, name: &str, x: &[f64], bias: bool) -> Vec<f64> {
    let w = &weights[&format!("{name}.weight")];
    let out = w.len() / x.len();
    (0..out)
        .map(|o| {
            let dot: f64 = x
                .iter()
                .enumerate()
                .map(|(k, v)| v * w[o * x.len() + k])
                .sum();
            dot + if bias {
                weights[&format!("{name}.bias")][o]
            } else {
                0.0
            }
        })
        .collect()
}

fn silu(x: &[f64]) -> Vec<f64> {
    x.iter().map(|v| v / (1.0 + (-v).exp())).collect()
}

fn add(a: &[f64], b: &[f64]) -> Vec<f64> {
    a.iter().zip(b).map(|(x, y)| x + y).collect()
}

/// eps_theta(x_t, t, label) in float64, with the skip input
/// b (x_t - a m) / (a^2 v + b^2).
fn reference_denoiser(
    weights: &Weights,
    x: &[f64],
    timestep: usize,
    label: u32,
    alpha_bar: f64,
) -> Vec<f64> {
    let frequencies = CONFIG.frequencies();
    let mut embedding: Vec<f64> = frequencies
        .iter()
        .map(|f| (timestep as f64 * f).cos())
        .collect();
    embedding.extend(frequencies.iter().map(|f| (timestep as f64 * f).sin()));
    let time = dense(
        weights,
        "time2",
        &silu(&dense(weights, "time1", &embedding, true)),
        true,
    );
    let mut one_hot = vec![0.0; CONFIG.classes + 1];
    one_hot[label as usize] = 1.0;
    let class = dense(weights, "class", &one_hot, false);
    let condition = silu(&add(&time, &class));
    let mut hidden = dense(weights, "input", x, true);
    for block in 0..CONFIG.blocks {
        let u = dense(
            weights,
            &format!("block{block}.dense1"),
            &silu(&hidden),
            true,
        );
        let c = dense(
            weights,
            &format!("block{block}.condition"),
            &condition,
            true,
        );
        let u = dense(
            weights,
            &format!("block{block}.dense2"),
            &silu(&add(&u, &c)),
            true,
        );
        hidden = add(&hidden, &u);
    }
    let (a, b) = (alpha_bar.sqrt(), (1.0 - alpha_bar).sqrt());
    let (mean, variance) = (&weights["data.mean"], &weights["data.variance"]);
    let skip: Vec<f64> = x
        .iter()
        .enumerate()
        .map(|(j, value)| b * (value - a * mean[j]) / (a * a * variance[j] + b * b))
        .collect();
    add(&dense(weights, "output", &silu(&hidden), true), &skip)
}

struct Batch {
    images: Vec<f32>,
    labels: Vec<u32>,
    timesteps: Vec<usize>,
    noise: Vec<f32>,
}

fn reference_loss(weights: &Weights, batch: &Batch, schedule: &NoiseSchedule) -> f64 {
    let d = CONFIG.pixels;
    let mut total = 0.0;
    for (row, (&t, &label)) in batch.timesteps.iter().zip(&batch.labels).enumerate() {
        let alpha_bar = schedule.alpha_bars()[t];
        let x_t: Vec<f64> = (0..d)
            .map(|j| {
                alpha_bar.sqrt() * f64::from(batch.images[row * d + j])
                    + (1.0 - alpha_bar).sqrt() * f64::from(batch.noise[row * d + j])
            })
            .collect();
        let prediction = reference_denoiser(weights, &x_t, t, label, alpha_bar);
        let noise = &batch.noise[row * d..(row + 1) * d];
        for (predicted, &target) in prediction.iter().zip(noise) {
            total += (predicted - f64::from(target)).powi(2);
        }
    }
    total / (batch.labels.len() * d) as f64
}

/// Random skip-input statistics, with one constant pixel (variance 0).
fn set_statistics(denoiser: &mut Denoiser, seed: u64) {
    let mean = uniform_values(seed, CONFIG.pixels, -1.0, 0.0);
    let mut variance = uniform_values(seed + 1, CONFIG.pixels, 0.05, 0.6);
    variance[4] = 0.0;
    denoiser
        .set_pixel_statistics(gpu(), &mean, &variance)
        .unwrap();
}

#[test]
fn training_step_matches_reference() {
    let gpu = gpu();
    let schedule = NoiseSchedule::new(ScheduleKind::linear(), 40).unwrap();
    let mut denoiser = Denoiser::new(gpu, CONFIG, 17).unwrap();
    set_statistics(&mut denoiser, 41);
    let rows = 7;
    let noise_stream = PhiloxStream::new(5, 6);
    let optimizer = OptimizerConfig {
        learning_rate: 1e-3,
        ..OptimizerConfig::default()
    };
    let mut trainer =
        DenoiserTrainer::new(gpu, &denoiser, &schedule, rows, optimizer, noise_stream).unwrap();
    let batch = Batch {
        images: uniform_values(3, rows * CONFIG.pixels, -1.0, 1.0),
        labels: vec![0, 1, 2, 3, 1, 3, 0],
        timesteps: vec![0, 39, 5, 17, 28, 1, 33],
        noise: noise_stream.normal(0, rows * CONFIG.pixels),
    };
    let before = read_weights(&denoiser);
    let losses = trainer
        .run(
            gpu,
            &mut denoiser,
            &[TrainingBatch {
                images: &batch.images,
                labels: &batch.labels,
                timesteps: &batch.timesteps,
            }],
        )
        .unwrap();

    let loss = reference_loss(&before, &batch, &schedule);
    assert!(
        (f64::from(losses[0]) - loss).abs() <= 1e-5 * loss,
        "loss: GPU {}, reference {loss}",
        losses[0]
    );

    let store = denoiser.store();
    let h = 1e-6;
    let learning_rate = 1e-3;
    for id in store.ids().filter(|&id| store.is_trainable(id)) {
        let name = store.name(id).to_string();
        let gradient_gpu = store.read_gradient(gpu, id).unwrap();
        let after = store.read(gpu, id).unwrap();
        let mut gradient = Vec::new();
        for index in 0..before[&name].len() {
            let (mut plus, mut minus) = (before.clone(), before.clone());
            plus.get_mut(&name).unwrap()[index] += h;
            minus.get_mut(&name).unwrap()[index] -= h;
            gradient.push(
                (reference_loss(&plus, &batch, &schedule)
                    - reference_loss(&minus, &batch, &schedule))
                    / (2.0 * h),
            );
        }
        let scale = gradient.iter().fold(1e-6f64, |m, g| m.max(g.abs()));
        for (index, (&got, &want)) in gradient_gpu.iter().zip(&gradient).enumerate() {
            let error = (f64::from(got) - want).abs() / scale;
            assert!(
                error <= 2e-4,
                "gradient of {name}[{index}]: GPU {got}, reference {want} (error {error:.2e})"
            );
            if want.abs() > 1e-2 * scale {
                // Adam's first step: m_hat = g, v_hat = g^2.
                let expected = before[&name][index] - learning_rate * want / (want.abs() + 1e-8);
                let error = (f64::from(after[index]) - expected).abs();
                assert!(
                    error <= 1e-6,
                    "{name}[{index}] after the step: GPU {}, reference {expected}",
                    after[index]
                );
            }
        }
    }
}

/// Runs the whole sampling chain in float64 with the documented noise layout.
fn reference_samples(
    weights: &Weights,
    schedule: &NoiseSchedule,
    labels: &[u32],
    config: &SamplingConfig,
) -> Vec<f64> {
    let d = CONFIG.pixels;
    let plan = schedule.sampling_plan(config.steps).unwrap();
    let batch = config.batch_size.min(labels.len());
    let stride = (batch * d).div_ceil(4) * 4;
    let stream = PhiloxStream::new(config.seed, SAMPLING_STREAM);
    let w = config.guidance;
    let mut output = Vec::new();
    for (batch_index, part) in labels.chunks(batch).enumerate() {
        let first = batch_index * (plan.len() + 1) * stride;
        let initial = stream.normal(first as u64, batch * d);
        for (row, &label) in part.iter().enumerate() {
            let mut x: Vec<f64> = initial[row * d..(row + 1) * d]
                .iter()
                .map(|&v| f64::from(v))
                .collect();
            for (index, step) in plan.iter().enumerate() {
                let noise = stream.normal((first + (index + 1) * stride) as u64, batch * d);
                let conditional =
                    reference_denoiser(weights, &x, step.timestep, label, step.alpha_bar);
                let epsilon: Vec<f64> = if w > 0.0 {
                    let null = reference_denoiser(
                        weights,
                        &x,
                        step.timestep,
                        CONFIG.classes as u32,
                        step.alpha_bar,
                    );
                    conditional
                        .iter()
                        .zip(&null)
                        .map(|(c, u)| (1.0 + w) * c - w * u)
                        .collect()
                } else {
                    conditional
                };
                x = (0..d)
                    .map(|j| {
                        let x0 = ((x[j] - (1.0 - step.alpha_bar).sqrt() * epsilon[j])
                            / step.alpha_bar.sqrt())
                        .clamp(-1.0, 1.0);
                        step.x0_coefficient * x0
                            + step.xt_coefficient * x[j]
                            + step.sigma * f64::from(noise[row * d + j])
                    })
                    .collect();
            }
            output.extend(x.iter().map(|v| 0.5 * (v + 1.0)));
        }
    }
    output
}

#[test]
fn sampling_chain_matches_reference() {
    let gpu = gpu();
    let schedule = NoiseSchedule::new(ScheduleKind::cosine(), 20).unwrap();
    let mut denoiser = Denoiser::new(gpu, CONFIG, 23).unwrap();
    set_statistics(&mut denoiser, 43);
    let weights = read_weights(&denoiser);
    let labels = [0, 2, 1, 1, 0];
    for guidance in [0.0, 0.7] {
        let config = SamplingConfig {
            steps: 5,
            guidance,
            batch_size: 3,
            seed: 31,
        };
        let images = sample_images(gpu, &denoiser, &schedule, &labels, &config).unwrap();
        let expected = reference_samples(&weights, &schedule, &labels, &config);
        assert_eq!(images.len(), expected.len());
        for (index, (&got, &want)) in images.iter().zip(&expected).enumerate() {
            assert!(
                (0.0..=1.0).contains(&got),
                "sample {index} = {got} is outside [0, 1]"
            );
            assert!(
                (f64::from(got) - want).abs() <= 2e-3,
                "guidance {guidance}, value {index}: GPU {got}, reference {want}"
            );
        }
    }
}

#[test]
fn sampling_rejects_bad_settings() {
    let gpu = gpu();
    let schedule = NoiseSchedule::new(ScheduleKind::linear(), 10).unwrap();
    let denoiser = Denoiser::new(gpu, CONFIG, 1).unwrap();
    let config = SamplingConfig {
        steps: 5,
        guidance: 0.0,
        batch_size: 4,
        seed: 0,
    };
    let message = sample_images(gpu, &denoiser, &schedule, &[3], &config)
        .unwrap_err()
        .to_string();
    assert!(message.contains("a class below 3"), "{message}");
    let too_many = SamplingConfig {
        steps: 11,
        ..config
    };
    assert!(sample_images(gpu, &denoiser, &schedule, &[0], &too_many).is_err());
    let negative = SamplingConfig {
        guidance: -1.0,
        ..config
    };
    assert!(sample_images(gpu, &denoiser, &schedule, &[0], &negative).is_err());
}
