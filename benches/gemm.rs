//! GEMM throughput (`cargo bench --bench gemm`).
//!
//! Criterion's "elem/s" figures are floating-point operations per second:
//! each multiply-add counts as two operations (2 m n k per product). The time
//! of each sample is GPU time from timestamp queries where the adapter has
//! them (wall-clock otherwise), over `iters` products recorded into one
//! submission.

use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use maso::ops::{self, GemmSpec, Matrix};
use maso::random::PhiloxStream;
use maso::Gpu;

fn square_sizes(gpu: &Gpu) -> Vec<usize> {
    // A software adapter needs seconds for 1024^3; real GPUs need big sizes
    // to reach their peak.
    if gpu.info().device_type == wgpu::DeviceType::Cpu {
        vec![128, 256, 512]
    } else {
        vec![512, 1024, 2048, 4096]
    }
}

fn bench_gemm(criterion: &mut Criterion) {
    let gpu = Gpu::new().expect("benchmarks need a GPU adapter");
    eprintln!(
        "adapter: {} ({:?}, {:?})",
        gpu.info().name,
        gpu.info().backend,
        gpu.info().device_type
    );
    let mut group = criterion.benchmark_group("gemm");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));

    for size in square_sizes(&gpu) {
        let values = PhiloxStream::new(1, 0).uniform(0, size * size);
        let a = Matrix::upload(&gpu, &values, size, size, "a").unwrap();
        let b = Matrix::upload(&gpu, &values, size, size, "b").unwrap();
        let c = Matrix::zeros(&gpu, size, size, "c").unwrap();
        group.throughput(Throughput::Elements(2 * (size as u64).pow(3)));

        for (name, transpose_b) in [("plain", false), ("gram", true)] {
            let spec = GemmSpec {
                transpose_b,
                ..GemmSpec::default()
            };
            group.bench_with_input(BenchmarkId::new(name, size), &size, |bencher, _| {
                bencher.iter_custom(|iters| {
                    let mut recorder = gpu.timed_recorder("gemm bench");
                    for _ in 0..iters {
                        ops::gemm(&mut recorder, &a, &b, &c, spec).unwrap();
                    }
                    Duration::from_secs_f64(recorder.submit().unwrap().seconds())
                });
            });
        }
    }
    group.finish();
}

criterion_group!(benches, bench_gemm);
criterion_main!(benches);
