//! Recurrent NTK Gram matrices and kernel PCA (`cargo bench --bench mask`).
//!
//! `rntk_gram` reports sequence pairs x time steps per second (criterion's
//! "elem/s"): N^2 T for equal-length sequences with the last-state read-out,
//! the unit in which the all-pairs NumPy formulation is timed by
//! scripts/bench/numpy_rntk.py. `kernel_pca` times a 2-component fit on an
//! RNTK Gram matrix.

use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use maso::decomposition::{KernelPca, KernelPcaOptions};
use maso::kernels::ntk::{GramSink, MemorySink};
use maso::kernels::rntk::{compute_rntk_gram, Readout, RntkConfig, SequenceInputs};
use maso::random::PhiloxStream;
use maso::Gpu;

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

/// `count` univariate sequences of `steps` steps, each of unit l2 norm.
fn unit_sequences(count: usize, steps: usize) -> (Vec<f32>, Vec<usize>) {
    let mut values = PhiloxStream::new(5, 0).normal(0, count * steps);
    for sequence in values.chunks_mut(steps) {
        let norm = sequence.iter().map(|v| v * v).sum::<f32>().sqrt();
        sequence.iter_mut().for_each(|v| *v /= norm);
    }
    (values, (0..=count).map(|i| i * steps).collect())
}

fn bench_rntk(criterion: &mut Criterion) {
    let gpu = Gpu::new().expect("benchmarks need a GPU adapter");
    eprintln!(
        "adapter: {} ({:?}, {:?})",
        gpu.info().name,
        gpu.info().backend,
        gpu.info().device_type
    );
    let software = gpu.info().device_type == wgpu::DeviceType::Cpu;
    let steps = 30;
    let mut group = criterion.benchmark_group("rntk_gram");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));
    let cases: &[(usize, usize, Readout)] = if software {
        &[
            (500, 1, Readout::Last),
            (1000, 2, Readout::Last),
            (100, 1, Readout::Mean),
        ]
    } else {
        &[
            (4000, 1, Readout::Last),
            (4000, 2, Readout::Last),
            (1000, 1, Readout::Mean),
        ]
    };
    for &(count, layers, readout) in cases {
        let (values, offsets) = unit_sequences(count, steps);
        let set = SequenceInputs::new(&values, &offsets, 1, "bench").unwrap();
        let config = RntkConfig {
            layers,
            readout,
            sb: 0.1,
            ..RntkConfig::default()
        };
        let pair_steps = match readout {
            Readout::Last => count * count * steps,
            Readout::Mean => count * count * steps * steps,
        };
        group.throughput(Throughput::Elements(pair_steps as u64));
        let id = BenchmarkId::new(
            format!("{readout:?}_L{layers}").to_lowercase(),
            format!("N{count}_T{steps}"),
        );
        group.bench_with_input(id, &count, |bencher, _| {
            bencher.iter(|| {
                compute_rntk_gram(
                    &gpu,
                    &config,
                    &set,
                    None,
                    None,
                    &mut DiscardSink,
                    &mut |_, _| {},
                )
                .unwrap()
            });
        });
    }
    group.finish();
}

fn bench_kernel_pca(criterion: &mut Criterion) {
    let gpu = Gpu::new().expect("benchmarks need a GPU adapter");
    let mut group = criterion.benchmark_group("kernel_pca");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));
    for count in [500usize, 1000] {
        let (values, offsets) = unit_sequences(count, 30);
        let set = SequenceInputs::new(&values, &offsets, 1, "bench").unwrap();
        let mut sink = MemorySink::new(2, count, count);
        compute_rntk_gram(
            &gpu,
            &RntkConfig::default(),
            &set,
            None,
            None,
            &mut sink,
            &mut |_, _| {},
        )
        .unwrap();
        let kernel = sink.components[1].clone();
        let options = KernelPcaOptions {
            n_components: 2,
            ..KernelPcaOptions::default()
        };
        group.bench_with_input(
            BenchmarkId::new("fit_2_components", count),
            &count,
            |bencher, _| {
                bencher.iter(|| KernelPca::fit(&gpu, &kernel, count, &options).unwrap());
            },
        );
    }
    group.finish();
}

criterion_group!(benches, bench_rntk, bench_kernel_pca);
criterion_main!(benches);
