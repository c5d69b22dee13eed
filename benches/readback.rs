//! Read-back bandwidth (`cargo bench --bench readback`): copying a storage
//! buffer to the host through a staging buffer, as `Gpu::read` does,
//! measured by the wall clock. Criterion reports bytes per second.

use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use maso::Gpu;

fn bench_readback(criterion: &mut Criterion) {
    let gpu = Gpu::new().expect("benchmarks need a GPU adapter");
    eprintln!(
        "adapter: {} ({:?}, {:?})",
        gpu.info().name,
        gpu.info().backend,
        gpu.info().device_type
    );
    let mut group = criterion.benchmark_group("readback");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));

    let max_bytes = gpu.max_storage_binding_bytes();
    for mebibytes in [1u64, 16, 64, 256] {
        let bytes = mebibytes << 20;
        if bytes > max_bytes {
            continue;
        }
        let buffer = gpu
            .upload(&vec![1.0f32; (bytes / 4) as usize], "readback source")
            .unwrap();
        group.throughput(Throughput::Bytes(bytes));
        group.bench_with_input(
            BenchmarkId::new("read", format!("{mebibytes}MiB")),
            &bytes,
            |bencher, _| {
                bencher.iter(|| gpu.read(&buffer).unwrap());
            },
        );
    }
    group.finish();
}

criterion_group!(benches, bench_readback);
criterion_main!(benches);
