//! Time of one exact t-SNE iteration (`cargo bench --bench tsne`): the pair
//! pass, the sum Z and the update of `shaders/tsne.wgsl`.
//!
//! The points are the deterministic ones of `scripts/bench/tsne_peers.py`
//! (x[i, k] = sin(0.37 i + 1.9 k) + 3 (i mod 2) in 10 dimensions), so both
//! start from the same distance matrix; the affinities use perplexity 30 on
//! squared distances. Each sample records `iters` iterations into one
//! submission and takes GPU time from timestamp queries where the adapter
//! has them (wall-clock otherwise). n = 5000 runs only on hardware adapters,
//! because a software adapter needs minutes for it.

use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use maso::embed::{
    initial_embedding, joint_probabilities, DistanceMatrix, StepParameters, TsneOptimizer,
};
use maso::Gpu;

const DIMENSIONS: usize = 10;

fn bench_points(n: usize) -> Vec<f64> {
    let mut points = vec![0.0; n * DIMENSIONS];
    for i in 0..n {
        for k in 0..DIMENSIONS {
            points[i * DIMENSIONS + k] =
                (0.37 * i as f64 + 1.9 * k as f64).sin() + 3.0 * (i % 2) as f64;
        }
    }
    points
}

fn bench_distances(n: usize) -> DistanceMatrix {
    let points = bench_points(n);
    let mut distances = vec![0.0f32; n * n];
    for i in 0..n {
        for j in 0..n {
            let squared: f64 = (0..DIMENSIONS)
                .map(|k| (points[i * DIMENSIONS + k] - points[j * DIMENSIONS + k]).powi(2))
                .sum();
            distances[i * n + j] = squared.sqrt() as f32;
        }
    }
    DistanceMatrix::new(distances, n).expect("the benchmark distances are valid")
}

fn sizes(gpu: &Gpu) -> Vec<usize> {
    if gpu.info().device_type == wgpu::DeviceType::Cpu {
        vec![1000]
    } else {
        vec![1000, 5000]
    }
}

fn bench_tsne_iteration(criterion: &mut Criterion) {
    let gpu = Gpu::new().expect("benchmarks need a GPU adapter");
    eprintln!(
        "adapter: {} ({:?}, {:?})",
        gpu.info().name,
        gpu.info().backend,
        gpu.info().device_type
    );
    let mut group = criterion.benchmark_group("tsne_iteration");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));

    for n in sizes(&gpu) {
        let probabilities =
            joint_probabilities(&bench_distances(n), 30.0, true).expect("perplexity 30 is below n");
        let probabilities: Vec<f32> = probabilities.iter().map(|&p| p as f32).collect();
        let optimizer =
            TsneOptimizer::new(&gpu, &probabilities, &initial_embedding(n, 2, 0), n, 2).unwrap();
        let uniform = optimizer
            .step_uniform(&StepParameters {
                exaggeration: 12.0,
                momentum: 0.5,
                learning_rate: (n as f32 / 48.0).max(50.0),
                min_gain: 0.01,
            })
            .unwrap();
        // Criterion's "elem/s" counts pairs (i, j) per second.
        group.throughput(Throughput::Elements((n * n) as u64));
        group.bench_with_input(BenchmarkId::new("exact", n), &n, |bencher, _| {
            bencher.iter_custom(|iters| {
                let mut recorder = gpu.timed_recorder("t-SNE bench");
                for _ in 0..iters {
                    optimizer.record_step(&mut recorder, &uniform).unwrap();
                }
                Duration::from_secs_f64(recorder.submit().unwrap().seconds())
            });
        });
    }
    group.finish();
}

criterion_group!(benches, bench_tsne_iteration);
criterion_main!(benches);
