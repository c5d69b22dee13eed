//! The MLP denoiser of the DDPM loops (`cargo bench --bench ddpm`): training
//! steps and guided sampling passes of the 784 -> 256 residual MLP with two
//! blocks. The peer is scripts/bench/ddpm_torch.py, the same network in
//! PyTorch.
//!
//! - `training`: 16 Adam steps of 128 images in one submission (noise drawn
//!   and images noised on the GPU); elements are images per second.
//! - `sampling`: one guided pass of 10 strided steps over 128 images
//!   (256 network rows per step); elements are images per second.

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use maso::generative::ddpm::{
    balanced_labels, sample_images, Denoiser, DenoiserConfig, DenoiserTrainer, NoiseSchedule,
    SamplingConfig, ScheduleKind, TrainingBatch,
};
use maso::nn::OptimizerConfig;
use maso::random::PhiloxStream;
use maso::Gpu;

const BATCH: usize = 128;
const STEPS_PER_ITERATION: usize = 16;

fn bench_denoiser(criterion: &mut Criterion) {
    let gpu = Gpu::new().expect("benchmarks need a GPU adapter");
    eprintln!(
        "adapter: {} ({:?}, {:?})",
        gpu.info().name,
        gpu.info().backend,
        gpu.info().device_type
    );
    let schedule = NoiseSchedule::new(ScheduleKind::linear(), 500).unwrap();
    let config = DenoiserConfig::mnist(256, 2);
    let mut denoiser = Denoiser::new(&gpu, config, 0).unwrap();
    let pixels = config.pixels;

    let stream = PhiloxStream::new(1, 2);
    let images: Vec<f32> = stream
        .uniform(0, BATCH * pixels)
        .into_iter()
        .map(|u| 2.0 * u - 1.0)
        .collect();
    let labels: Vec<u32> = (0..BATCH).map(|i| (i % 11) as u32).collect();
    let timesteps: Vec<usize> = (0..BATCH).map(|i| (i * 37) % 500).collect();
    let batches: Vec<TrainingBatch> = (0..STEPS_PER_ITERATION)
        .map(|_| TrainingBatch {
            images: &images,
            labels: &labels,
            timesteps: &timesteps,
        })
        .collect();
    let mut trainer = DenoiserTrainer::new(
        &gpu,
        &denoiser,
        &schedule,
        BATCH,
        OptimizerConfig::default(),
        PhiloxStream::new(3, 4),
    )
    .unwrap();

    let mut group = criterion.benchmark_group("ddpm");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(20));
    group.throughput(Throughput::Elements((BATCH * STEPS_PER_ITERATION) as u64));
    group.bench_function("training_width256_batch128", |bencher| {
        bencher.iter(|| trainer.run(&gpu, &mut denoiser, &batches).unwrap());
    });

    let sampling = SamplingConfig {
        steps: 10,
        guidance: 1.0,
        batch_size: BATCH,
        seed: 5,
    };
    let sample_labels = balanced_labels(BATCH, 10);
    group.throughput(Throughput::Elements(BATCH as u64));
    group.bench_function("sampling_width256_128images_10steps_guided", |bencher| {
        bencher
            .iter(|| sample_images(&gpu, &denoiser, &schedule, &sample_labels, &sampling).unwrap());
    });
    group.finish();
}

criterion_group!(benches, bench_denoiser);
criterion_main!(benches);
