//! One generation of 256 Gaussian self-consuming chains (`cargo bench --bench mad`):
//! every chain draws 100 points in 16 dimensions from its Gaussian and refits
//! it. The peer is scripts/bench/numpy_gaussian_chains.py, the same loop
//! vectorised over chains in NumPy.

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use maso::generative::{run_gaussian_chains, Gaussian, LoopConfig, LoopFamily};
use maso::Gpu;

fn bench_chains(criterion: &mut Criterion) {
    let gpu = Gpu::new().expect("benchmarks need a GPU adapter");
    eprintln!(
        "adapter: {} ({:?}, {:?})",
        gpu.info().name,
        gpu.info().backend,
        gpu.info().device_type
    );
    let truth = Gaussian::standard(16).unwrap();
    let mut group = criterion.benchmark_group("gaussian_chains");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(8));
    // Generation 1 (fit to real data) and generation 2 (sample and refit):
    // the difference of the two runs is one loop generation.
    for generations in [1usize, 2] {
        let config = LoopConfig {
            family: LoopFamily::FullySynthetic,
            n_real: 100,
            n_synthetic: 100,
            n_initial: 100,
            lambda: 1.0,
            generations,
            seed: 0,
        };
        group.bench_function(
            format!("256_chains_d16_n100_generations{generations}"),
            |bencher| {
                bencher.iter(|| {
                    run_gaussian_chains(&gpu, &truth, &config, 256, &mut |_, _| Ok(())).unwrap()
                });
            },
        );
    }
    group.finish();
}

criterion_group!(benches, bench_chains);
criterion_main!(benches);
