//! Time of one `metrics::prdc` call (`cargo bench --bench prdc`): upload,
//! the two k-NN radius searches, the two ball-count passes and read-back,
//! with k = 5 and d = 64.
//!
//! The points are the deterministic ones of `scripts/bench/prdc_peer.py`:
//! coordinate c of point i is u(i * 64 + c) for the real set and
//! 0.9 u(2^40 + i * 64 + c) + 0.08 for the fake set, where u(z) is the top 53
//! bits of SplitMix64's output for z, scaled to [0, 1). n_real = n_fake = n.
//! Criterion's throughput counts points (n_real + n_fake) per second, timed
//! by the wall clock. n = 10,000 runs only on hardware adapters. A software
//! adapter (device type Cpu, such as lavapipe) gets n = 2,000, because one
//! call at n = 10,000 took 19 s on lavapipe on a 2-core VM, so criterion's
//! ten samples and warm-up would take over three minutes.

use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use maso::metrics::prdc;
use maso::Gpu;

const DIM: usize = 64;
const K: usize = 5;

/// SplitMix64's output for input `z`, as a float in [0, 1).
fn splitmix_uniform(z: u64) -> f64 {
    let mut x = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^= x >> 31;
    (x >> 11) as f64 / (1u64 << 53) as f64
}

fn bench_points(n: usize, first_input: u64, scale: f64, shift: f64) -> Vec<f32> {
    (0..(n * DIM) as u64)
        .map(|index| (scale * splitmix_uniform(first_input + index) + shift) as f32)
        .collect()
}

fn point_count(gpu: &Gpu) -> usize {
    if gpu.info().device_type == wgpu::DeviceType::Cpu {
        2_000
    } else {
        10_000
    }
}

fn bench_prdc(criterion: &mut Criterion) {
    let gpu = Gpu::new().expect("benchmarks need a GPU adapter");
    eprintln!(
        "adapter: {} ({:?}, {:?})",
        gpu.info().name,
        gpu.info().backend,
        gpu.info().device_type
    );
    let n = point_count(&gpu);
    let real = bench_points(n, 0, 1.0, 0.0);
    let fake = bench_points(n, 1 << 40, 0.9, 0.08);
    let values = prdc(&gpu, &real, &fake, DIM, K).expect("the benchmark inputs are valid");
    eprintln!("n = {n}: {values:?}");

    let mut group = criterion.benchmark_group("prdc");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(10));
    group.throughput(Throughput::Elements(2 * n as u64));
    group.bench_with_input(BenchmarkId::new("d64_k5", n), &n, |bencher, _| {
        bencher.iter(|| prdc(&gpu, &real, &fake, DIM, K).unwrap());
    });
    group.finish();
}

criterion_group!(benches, bench_prdc);
criterion_main!(benches);
