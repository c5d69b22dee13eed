//! NTK Gram throughput and kernel ridge regression (`cargo bench --bench ntk`).
//!
//! `ntk_gram` reports Gram entries per second (criterion's "elem/s") for a
//! 512 x 512 (software adapter) or 4096 x 4096 (GPU) Gram matrix of ReLU
//! networks, NNGP and NTK only, read back to host memory. `kernel_ridge`
//! times one conjugate-gradient solve with 10 right-hand sides.

use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use maso::kernels::ntk::{compute_ntk_gram, Activation, GramOptions, GramSink, Inputs, NtkConfig};
use maso::ops::Matrix;
use maso::random::PhiloxStream;
use maso::solvers::{solve_kernel_ridge, CgOptions};
use maso::Gpu;

/// Discards blocks, so the benchmark measures GPU work and read-back only.
struct DiscardSink;

impl GramSink for DiscardSink {
    fn write_block(
        &mut self,
        _: usize,
        _: usize,
        _: usize,
        _: usize,
        _: usize,
        _: &[f32],
    ) -> maso::Result<()> {
        Ok(())
    }
}

fn software(gpu: &Gpu) -> bool {
    gpu.info().device_type == wgpu::DeviceType::Cpu
}

fn bench_gram(criterion: &mut Criterion) {
    let gpu = Gpu::new().expect("benchmarks need a GPU adapter");
    eprintln!(
        "adapter: {} ({:?}, {:?})",
        gpu.info().name,
        gpu.info().backend,
        gpu.info().device_type
    );
    let points = if software(&gpu) { 512 } else { 4096 };
    let mut group = criterion.benchmark_group("ntk_gram");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));
    group.throughput(Throughput::Elements((points * points) as u64));
    for dimension in [32usize, 784] {
        let x1 = PhiloxStream::new(1, 0).normal(0, points * dimension);
        let x2 = PhiloxStream::new(2, 0).normal(0, points * dimension);
        let inputs1 = Inputs::new(&x1, points, dimension, "x1").unwrap();
        let inputs2 = Inputs::new(&x2, points, dimension, "x2").unwrap();
        for depth in [1usize, 5, 10] {
            let config = NtkConfig {
                depth,
                activation: Activation::Relu,
                w_std: std::f64::consts::SQRT_2,
                b_std: Some(0.1),
                ..NtkConfig::default()
            };
            let id = BenchmarkId::new(format!("relu_d{dimension}"), format!("depth{depth}"));
            group.bench_with_input(id, &depth, |bencher, _| {
                bencher.iter(|| {
                    compute_ntk_gram(
                        &gpu,
                        &config,
                        &inputs1,
                        Some(&inputs2),
                        &GramOptions::default(),
                        &mut DiscardSink,
                        &mut |_, _| {},
                    )
                    .unwrap()
                });
            });
        }
    }
    group.finish();
}

fn bench_solver(criterion: &mut Criterion) {
    let gpu = Gpu::new().expect("benchmarks need a GPU adapter");
    let sizes: &[usize] = if software(&gpu) {
        &[256, 512]
    } else {
        &[1024, 4096]
    };
    let mut group = criterion.benchmark_group("kernel_ridge");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));
    for &n in sizes {
        // An NTK Gram matrix of random points, like those the solver gets in practice.
        let dimension = 32;
        let x = PhiloxStream::new(3, 0).normal(0, n * dimension);
        let inputs = Inputs::new(&x, n, dimension, "x").unwrap();
        let mut sink = maso::kernels::ntk::MemorySink::new(2, n, n);
        let config = NtkConfig {
            depth: 3,
            w_std: std::f64::consts::SQRT_2,
            b_std: Some(0.1),
            ..NtkConfig::default()
        };
        compute_ntk_gram(
            &gpu,
            &config,
            &inputs,
            None,
            &GramOptions::default(),
            &mut sink,
            &mut |_, _| {},
        )
        .unwrap();
        let kernel = Matrix::upload(&gpu, &sink.components[1], n, n, "K").unwrap();
        let targets =
            Matrix::upload(&gpu, &PhiloxStream::new(4, 0).normal(0, n * 10), n, 10, "Y").unwrap();
        let mean_diagonal = (0..n).map(|i| sink.components[1][i * n + i]).sum::<f32>() / n as f32;
        let options = CgOptions {
            ridge: 1e-2 * mean_diagonal,
            tolerance: 1e-4,
            max_iterations: 1000,
        };
        group.bench_with_input(BenchmarkId::new("cg_10_targets", n), &n, |bencher, _| {
            bencher.iter(|| solve_kernel_ridge(&gpu, &kernel, &targets, &options).unwrap());
        });
    }
    group.finish();
}

criterion_group!(benches, bench_gram, bench_solver);
criterion_main!(benches);
