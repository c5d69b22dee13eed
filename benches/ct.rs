//! Radon transform, adjoint and filtered back-projection of the modified
//! Shepp-Logan phantom (`cargo bench --bench ct`), 180 angles over [0, 180)
//! and as many detectors as image columns.
//!
//! `forward` and `adjoint` time one recorded dispatch and its submission on
//! buffers already on the GPU, by the wall clock. Criterion's throughput
//! counts projections (angles) per second. `fbp` times the whole
//! `filtered_back_projection` call: float64 FFT filtering on the CPU, upload,
//! back-projection on the GPU and read-back. scripts/bench/ct_skimage.py
//! times scikit-image's radon and iradon on the same inputs.

use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use maso::ct::{
    filtered_back_projection, shepp_logan, FbpFilter, PhantomVariant, Radon, RadonGeometry,
};
use maso::Gpu;

const ANGLES: usize = 180;
const SIZES: [usize; 2] = [256, 512];

fn bench_ct(criterion: &mut Criterion) {
    let gpu = Gpu::new().expect("benchmarks need a GPU adapter");
    eprintln!(
        "adapter: {} ({:?}, {:?})",
        gpu.info().name,
        gpu.info().backend,
        gpu.info().device_type
    );

    let mut group = criterion.benchmark_group("ct");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));
    group.throughput(Throughput::Elements(ANGLES as u64));
    for size in SIZES {
        let geometry = RadonGeometry::uniform(size, ANGLES);
        let radon = Radon::new(&gpu, geometry.clone()).expect("the benchmark geometry is valid");
        let phantom =
            shepp_logan(size, PhantomVariant::Modified).expect("the phantom size is valid");
        let image = gpu.upload(&phantom, "phantom").unwrap();
        let sinogram = gpu
            .create_buffer::<f32>(geometry.sinogram_len(), "sinogram")
            .unwrap();
        let back_projection = gpu
            .create_buffer::<f32>(geometry.image_len(), "back-projection")
            .unwrap();

        group.bench_with_input(BenchmarkId::new("forward", size), &size, |bencher, _| {
            bencher.iter(|| {
                let mut recorder = gpu.recorder("bench forward");
                radon.forward(&mut recorder, &image, &sinogram).unwrap();
                recorder.submit().unwrap()
            });
        });
        group.bench_with_input(BenchmarkId::new("adjoint", size), &size, |bencher, _| {
            bencher.iter(|| {
                let mut recorder = gpu.recorder("bench adjoint");
                radon
                    .adjoint(&mut recorder, &sinogram, &back_projection)
                    .unwrap();
                recorder.submit().unwrap()
            });
        });

        let host_sinogram = gpu.read(&sinogram).unwrap();
        group.bench_with_input(BenchmarkId::new("fbp_ramp", size), &size, |bencher, _| {
            bencher.iter(|| {
                filtered_back_projection(&gpu, &geometry, &host_sinogram, FbpFilter::Ramp).unwrap()
            });
        });
    }
    group.finish();
}

criterion_group!(benches, bench_ct);
criterion_main!(benches);
