//! Coordinate-network training steps per second (`cargo bench --bench inr`):
//! one full step (forward, backward, Adam) of a SIREN of width 256 with 3
//! hidden layers, and of TITAN (m = 100, D = 10), on 65,536 coordinates per
//! step. The peer is scripts/bench/inr_torch.py, the same SIREN step in
//! PyTorch on the same machine.

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use maso::nn::{
    CoordinateNetwork, GraphBuilder, Loss, NormStatistics, Optimizer, OptimizerConfig, Siren,
    SirenConfig, Titan, TitanConfig,
};
use maso::Gpu;

const COORDINATES: usize = 1 << 16;

fn bench_network(
    criterion: &mut Criterion,
    gpu: &Gpu,
    name: &str,
    mut network: Box<dyn CoordinateNetwork>,
) {
    let side = 256;
    let coordinates: Vec<f32> = (0..COORDINATES)
        .flat_map(|i| {
            [
                -1.0 + (2 * (i % side) + 1) as f32 / side as f32,
                -1.0 + (2 * (i / side) + 1) as f32 / side as f32,
            ]
        })
        .collect();
    let targets: Vec<f32> = coordinates
        .chunks(2)
        .flat_map(|p| [0.5 + 0.5 * (3.0 * p[0]).sin() * p[1], 0.5, 0.5 - 0.2 * p[1]])
        .collect();
    let mut builder = GraphBuilder::new(network.store());
    let input = builder.input(COORDINATES, 2, "coordinates").unwrap();
    let output = network
        .build(&mut builder, input, NormStatistics::Batch)
        .unwrap();
    let target = builder.input(COORDINATES, 3, "targets").unwrap();
    builder
        .set_loss(Loss::MeanSquaredError {
            prediction: output,
            target,
        })
        .unwrap();
    let graph = builder.build(gpu).unwrap();
    graph.set_input(gpu, input, &coordinates).unwrap();
    graph.set_input(gpu, target, &targets).unwrap();
    let mut optimizer = Optimizer::new(OptimizerConfig::default()).unwrap();

    let mut group = criterion.benchmark_group("inr_training_step");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(20));
    group.bench_function(format!("{name}_65536_coordinates"), |bencher| {
        bencher.iter(|| {
            let mut recorder = gpu.recorder("training step");
            graph
                .record_forward(&mut recorder, network.store())
                .unwrap();
            graph
                .record_backward(&mut recorder, network.store())
                .unwrap();
            optimizer
                .record_step(&mut recorder, network.store_mut())
                .unwrap();
            recorder.submit().unwrap();
        });
    });
    group.finish();
}

fn bench_steps(criterion: &mut Criterion) {
    let gpu = Gpu::new().expect("benchmarks need a GPU adapter");
    eprintln!(
        "adapter: {} ({:?}, {:?})",
        gpu.info().name,
        gpu.info().backend,
        gpu.info().device_type
    );
    let siren = SirenConfig {
        width: 256,
        hidden_layers: 3,
        omega: 30.0,
        channels: 3,
    };
    bench_network(
        criterion,
        &gpu,
        "siren_256x3",
        Box::new(Siren::new(&gpu, siren, 0).unwrap()),
    );
    bench_network(
        criterion,
        &gpu,
        "titan_100x10",
        Box::new(Titan::new(&gpu, TitanConfig::paper(3), 0).unwrap()),
    );
}

criterion_group!(benches, bench_steps);
criterion_main!(benches);
