//! The DDPM kernels (shaders/ddpm.wgsl) against float64 references written
//! from the formulas, on odd sizes, and the sampling update against
//! diffusers' DDPMScheduler.step (fixtures from
//! scripts/fixtures/ddpm_fixtures.py).
//!
//! Tolerances: the noising kernel does two float32 products per value
//! (error ~1e-7 relative). The update divides by sqrt(alpha_bar), which
//! amplifies float32 rounding by up to 1 / sqrt(alpha_bar_t) (about 12 at
//! the noisiest step of the linear T = 500 schedule) before the clip, so
//! its results are compared within 2e-5 of the largest magnitude;
//! diffusers computes in float32 too, so its results are compared within
//! 1e-4.

mod common;

use std::path::PathBuf;

use common::{gpu, uniform_values};
use maso::generative::ddpm::kernels::{
    record_noising, record_sampling_update, DenoiserInputs, GuidedUpdate, PixelStatistics,
};
use maso::generative::ddpm::{NoiseSchedule, SamplingStep, ScheduleKind};
use maso::GpuBuffer;

/// E[eps | x_t] for independent Gaussian pixels of mean m and variance v.
fn gaussian_prediction(x: f64, m: f64, v: f64, a: f64, b: f64) -> f64 {
    if b <= 0.0 {
        return 0.0;
    }
    b * (x - a * m) / (a * a * v + b * b)
}

/// Random per-pixel statistics (uploaded) with a few zero variances, as
/// MNIST's constant background pixels have.
fn statistics(columns: usize, seed: u64) -> (Vec<f32>, Vec<f32>, GpuBuffer<f32>, GpuBuffer<f32>) {
    let mean = uniform_values(seed, columns, -1.0, 0.5);
    let mut variance = uniform_values(seed + 1, columns, 0.0, 0.8);
    for value in variance.iter_mut().step_by(5) {
        *value = 0.0;
    }
    let mean_buffer = gpu().upload(&mean, "mean").unwrap();
    let variance_buffer = gpu().upload(&variance, "variance").unwrap();
    (mean, variance, mean_buffer, variance_buffer)
}

fn assert_close(what: &str, actual: &[f32], expected: &[f64], tolerance: f64) {
    assert_eq!(actual.len(), expected.len(), "{what}: length");
    let scale = expected.iter().fold(1.0f64, |m, v| m.max(v.abs()));
    for (index, (&got, &want)) in actual.iter().zip(expected).enumerate() {
        let error = (f64::from(got) - want).abs() / scale;
        assert!(
            error <= tolerance,
            "{what}[{index}]: GPU {got}, reference {want} (error {error:.2e}, allowed {tolerance:.0e})"
        );
    }
}

#[test]
fn noising_matches_reference() {
    let gpu = gpu();
    let (rows, columns) = (7, 37);
    let clean = uniform_values(1, rows * columns, -1.0, 1.0);
    let noise = uniform_values(2, rows * columns, -3.0, 3.0);
    let coefficients = uniform_values(3, rows * 4, 0.0, 1.0);
    let (mean, variance, mean_buffer, variance_buffer) = statistics(columns, 4);
    let clean_buffer = gpu.upload(&clean, "clean").unwrap();
    let noise_buffer = gpu.upload(&noise, "noise").unwrap();
    let coefficient_buffer = gpu.upload(&coefficients, "coefficients").unwrap();
    let images = gpu.create_buffer::<f32>(rows * columns, "images").unwrap();
    let skip = gpu.create_buffer::<f32>(rows * columns, "skip").unwrap();
    let mut recorder = gpu.recorder("noising test");
    record_noising(
        &mut recorder,
        &clean_buffer,
        &noise_buffer,
        &coefficient_buffer,
        PixelStatistics {
            mean: &mean_buffer,
            variance: &variance_buffer,
        },
        DenoiserInputs {
            images: &images,
            skip: &skip,
        },
        rows,
        columns,
    )
    .unwrap();
    recorder.submit().unwrap();

    let mut expected = Vec::new();
    let mut expected_skip = Vec::new();
    for index in 0..rows * columns {
        let (row, column) = (index / columns, index % columns);
        let c = |k: usize| f64::from(coefficients[4 * row + k]);
        let noisy = c(0) * f64::from(clean[index]) + c(1) * f64::from(noise[index]);
        expected.push(noisy);
        let (m, v) = (f64::from(mean[column]), f64::from(variance[column]));
        expected_skip.push(gaussian_prediction(noisy, m, v, c(2), c(3)));
    }
    assert_close("x_t", &gpu.read(&images).unwrap(), &expected, 1e-6);
    assert_close("skip", &gpu.read(&skip).unwrap(), &expected_skip, 2e-6);
}

/// x_prev of one element by the formula of `SamplingStep`.
fn update_reference(
    step: &SamplingStep,
    x: f64,
    epsilon: f64,
    noise: f64,
    clip: (f64, f64),
) -> f64 {
    let x0 = ((x - (1.0 - step.alpha_bar).sqrt() * epsilon) / step.alpha_bar.sqrt())
        .clamp(clip.0, clip.1);
    step.x0_coefficient * x0 + step.xt_coefficient * x + step.sigma * noise
}

struct UpdateCase {
    rows: usize,
    columns: usize,
    samples: Vec<f32>,
    epsilon: Vec<f32>,
    noise: Vec<f32>,
    mean: Vec<f32>,
    variance: Vec<f32>,
}

/// Runs the update kernel; returns (images, skip), both blocks.
fn run_update(case: &UpdateCase, update: &GuidedUpdate) -> (Vec<f32>, Vec<f32>) {
    let gpu = gpu();
    let epsilon = gpu.upload(&case.epsilon, "epsilon").unwrap();
    let noise = gpu.upload(&case.noise, "noise").unwrap();
    let images = gpu.upload(&case.samples, "samples").unwrap();
    let skip = gpu
        .create_buffer::<f32>(case.samples.len(), "skip")
        .unwrap();
    let mean = gpu.upload(&case.mean, "mean").unwrap();
    let variance = gpu.upload(&case.variance, "variance").unwrap();
    let mut recorder = gpu.recorder("update test");
    record_sampling_update(
        &mut recorder,
        &epsilon,
        &noise,
        PixelStatistics {
            mean: &mean,
            variance: &variance,
        },
        DenoiserInputs {
            images: &images,
            skip: &skip,
        },
        case.rows,
        case.columns,
        update,
    )
    .unwrap();
    recorder.submit().unwrap();
    (gpu.read(&images).unwrap(), gpu.read(&skip).unwrap())
}

#[test]
fn guided_update_matches_reference() {
    let schedule = NoiseSchedule::new(ScheduleKind::linear(), 500).unwrap();
    let (rows, columns) = (5, 43);
    let count = rows * columns;
    let (mean, variance, _, _) = statistics(columns, 8);
    let plan = schedule.sampling_plan(25).unwrap();
    for (index, step) in plan.iter().enumerate() {
        if index % 6 != 0 && index != 24 {
            continue;
        }
        for guidance in [None, Some(0.0), Some(1.5)] {
            let blocks = if guidance.is_some() { 2 } else { 1 };
            let seed = 10 * index as u64;
            let half = uniform_values(seed, count, -2.5, 2.5);
            let samples: Vec<f32> = (0..blocks).flat_map(|_| half.iter().copied()).collect();
            let case = UpdateCase {
                rows,
                columns,
                samples,
                epsilon: uniform_values(seed + 1, blocks * count, -2.0, 2.0),
                noise: uniform_values(seed + 2, count, -3.0, 3.0),
                mean: mean.clone(),
                variance: variance.clone(),
            };
            let next_alpha_bar = plan.get(index + 1).map(|next| next.alpha_bar);
            let update = GuidedUpdate {
                step: *step,
                guidance,
                clip: (-1.0, 1.0),
                next_alpha_bar,
            };
            let (images, skip) = run_update(&case, &update);

            let w = guidance.unwrap_or(0.0);
            let expected: Vec<f64> = (0..count)
                .map(|i| {
                    let mut epsilon = f64::from(case.epsilon[i]);
                    if guidance.is_some() {
                        epsilon = (1.0 + w) * epsilon - w * f64::from(case.epsilon[count + i]);
                    }
                    update_reference(
                        step,
                        f64::from(case.samples[i]),
                        epsilon,
                        f64::from(case.noise[i]),
                        (-1.0, 1.0),
                    )
                })
                .collect();
            let what = format!(
                "step {index} (t = {}), guidance {guidance:?}",
                step.timestep
            );
            assert_close(&what, &images[..count], &expected, 2e-5);
            let (a, b) = next_alpha_bar.map_or((0.0, 0.0), |ab| (ab.sqrt(), (1.0 - ab).sqrt()));
            let skip_expected: Vec<f64> = expected
                .iter()
                .enumerate()
                .map(|(i, &x)| {
                    let column = i % columns;
                    let (m, v) = (f64::from(mean[column]), f64::from(variance[column]));
                    gaussian_prediction(x, m, v, a, b)
                })
                .collect();
            assert_close(&what, &skip[..count], &skip_expected, 2e-5);
            if guidance.is_some() {
                assert_eq!(images[..count], images[count..], "{what}: null half");
                assert_eq!(skip[..count], skip[count..], "{what}: null half of skip");
            }
        }
    }
}

#[test]
fn update_matches_diffusers_step() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/ddpm/steps.json");
    let fixture: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let values = |case: &serde_json::Value, key: &str| -> Vec<f32> {
        case[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap() as f32)
            .collect()
    };
    for case in fixture["cases"].as_array().unwrap() {
        let kind = ScheduleKind::parse(case["schedule"].as_str().unwrap()).unwrap();
        let schedule = NoiseSchedule::new(kind, 500).unwrap();
        let sampling_steps = case["sampling_steps"].as_u64().unwrap() as usize;
        let timestep = case["timestep"].as_u64().unwrap() as usize;
        let step = *schedule
            .sampling_plan(sampling_steps)
            .unwrap()
            .iter()
            .find(|s| s.timestep == timestep)
            .unwrap();
        let sample = values(case, "sample");
        let update_case = UpdateCase {
            rows: case["rows"].as_u64().unwrap() as usize,
            columns: case["columns"].as_u64().unwrap() as usize,
            samples: [sample.clone(), sample].concat(),
            epsilon: [values(case, "eps_cond"), values(case, "eps_null")].concat(),
            noise: values(case, "noise"),
            mean: vec![0.0; 37],
            variance: vec![1.0; 37],
        };
        let update = GuidedUpdate {
            step,
            guidance: Some(case["guidance"].as_f64().unwrap()),
            clip: (-1.0, 1.0),
            next_alpha_bar: None,
        };
        let (images, _) = run_update(&update_case, &update);
        let expected: Vec<f64> = values(case, "prev_sample")
            .iter()
            .map(|&v| f64::from(v))
            .collect();
        let what = format!(
            "{} schedule, {sampling_steps} steps, t = {timestep}",
            case["schedule"]
        );
        assert_close(&what, &images[..expected.len()], &expected, 1e-4);
    }
}

#[test]
fn update_rejects_short_buffers() {
    let gpu = gpu();
    let small = gpu.create_buffer::<f32>(10, "small").unwrap();
    let schedule = NoiseSchedule::new(ScheduleKind::linear(), 10).unwrap();
    let update = GuidedUpdate {
        step: schedule.sampling_plan(10).unwrap()[0],
        guidance: Some(1.0),
        clip: (-1.0, 1.0),
        next_alpha_bar: None,
    };
    let mut recorder = gpu.recorder("short buffers");
    let error = record_sampling_update(
        &mut recorder,
        &small,
        &small,
        PixelStatistics {
            mean: &small,
            variance: &small,
        },
        DenoiserInputs {
            images: &small,
            skip: &small,
        },
        2,
        5,
        &update,
    )
    .unwrap_err()
    .to_string();
    assert!(error.contains("20 are needed"), "{error}");
}
