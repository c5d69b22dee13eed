//! The GPU runtime: error paths, batching, timing, buffers and the pipeline cache.

mod common;

use common::gpu;
use maso::gpu::{Gpu, GpuBuffer, GpuOptions};
use maso::ops::{self, Matrix, UnaryOp};
use maso::Error;

#[test]
fn malformed_shader_returns_error_with_line() {
    let source = "@compute @workgroup_size(1)\nfn main() {\n    let x: f32 = 1.0 +;\n}\n";
    let error = gpu().compile_shader("broken.wgsl", source).unwrap_err();
    assert!(matches!(error, Error::Shader { .. }), "{error:?}");
    let message = error.to_string();
    assert!(message.contains("broken.wgsl:3:"), "{message}");
}

#[test]
fn shader_with_type_error_returns_error() {
    let source = "@compute @workgroup_size(1)\nfn main() {\n    let x: u32 = 1.5;\n}\n";
    let error = gpu()
        .compile_shader("typed.wgsl", source)
        .unwrap_err()
        .to_string();
    assert!(error.contains("typed.wgsl:3:"), "{error}");
}

#[test]
fn missing_entry_point_returns_validation_error() {
    let gpu = gpu();
    let module = gpu
        .compile_shader("tiny.wgsl", "@compute @workgroup_size(1)\nfn main() {}\n")
        .unwrap();
    let error = gpu
        .create_kernel(&module, "tiny.wgsl", "no_such_entry", &[])
        .unwrap_err();
    assert!(matches!(error, Error::Validation { .. }), "{error:?}");
}

#[test]
fn oversized_buffer_returns_limit_error() {
    let gpu = gpu();
    let too_many = (gpu.limits().max_storage_buffer_binding_size as usize) / 4 + 1;
    let error = gpu.create_buffer::<f32>(too_many, "huge").unwrap_err();
    assert!(matches!(error, Error::ExceedsLimit { .. }), "{error:?}");
    let message = error.to_string();
    assert!(
        message.contains("max_storage_buffer_binding_size"),
        "{message}"
    );
    assert!(message.contains("huge"), "{message}");
}

#[test]
fn too_many_workgroups_returns_error() {
    let gpu = gpu();
    let kernel = gpu
        .kernel(
            &maso::shaders::ELEMENTWISE,
            "map_unary_in_place",
            &[("OP", 1.0)],
        )
        .unwrap();
    let buffer: GpuBuffer<f32> = gpu.create_buffer(4, "x").unwrap();
    let params = gpu
        .create_uniform(&[4u32, 1, 0, 0, 0, 0, 0, 0], "params")
        .unwrap();
    let mut recorder = gpu.recorder("too many");
    let limit = gpu.limits().max_compute_workgroups_per_dimension;
    let error = recorder
        .dispatch(
            &kernel,
            &[(2, buffer.raw()), (3, &params)],
            [limit + 1, 1, 1],
            "too many",
        )
        .unwrap_err();
    assert!(
        matches!(error, Error::TooManyWorkgroups { .. }),
        "{error:?}"
    );
}

#[test]
fn missing_binding_returns_validation_error() {
    let gpu = gpu();
    let kernel = gpu
        .kernel(
            &maso::shaders::ELEMENTWISE,
            "map_unary_in_place",
            &[("OP", 1.0)],
        )
        .unwrap();
    let buffer: GpuBuffer<f32> = gpu.create_buffer(4, "x").unwrap();
    let mut recorder = gpu.recorder("missing binding");
    let error = recorder
        .dispatch(&kernel, &[(2, buffer.raw())], [1, 1, 1], "missing binding")
        .unwrap_err();
    assert!(matches!(error, Error::Validation { .. }), "{error:?}");
    // The device stays usable after a caught error.
    let fresh = gpu.upload(&[1.0f32, -1.0], "after error").unwrap();
    assert_eq!(gpu.read(&fresh).unwrap(), vec![1.0, -1.0]);
}

#[cfg(target_os = "linux")]
#[test]
fn no_adapter_error_says_how_to_get_one() {
    // Linux builds of wgpu have no Metal backend, so this finds nothing.
    let options = GpuOptions {
        backends: wgpu::Backends::METAL,
        ..GpuOptions::default()
    };
    let error = Gpu::with_options(&options).unwrap_err();
    assert!(matches!(error, Error::NoAdapter { .. }), "{error:?}");
    assert!(
        error
            .to_string()
            .contains("apt-get install mesa-vulkan-drivers"),
        "{error}"
    );
}

#[test]
fn unknown_adapter_name_lists_available() {
    let options = GpuOptions {
        adapter_name: Some("no-such-adapter-xyz".to_string()),
        ..GpuOptions::default()
    };
    let message = Gpu::with_options(&options).unwrap_err().to_string();
    assert!(message.contains("no-such-adapter-xyz"), "{message}");
    assert!(message.contains(&gpu().info().name), "{message}");
}

#[test]
fn recorder_batches_dispatches_into_one_submission() {
    let gpu = gpu();
    let buffer = gpu.upload(&[0.0f32; 1000], "counter").unwrap();
    let mut recorder = gpu.timed_recorder("batch");
    for _ in 0..10 {
        ops::map_unary_in_place(
            &mut recorder,
            &buffer,
            UnaryOp::Affine {
                scale: 1.0,
                shift: 1.0,
            },
        )
        .unwrap();
    }
    assert_eq!(recorder.dispatch_count(), 10);
    let report = recorder.submit().unwrap();
    assert_eq!(report.dispatches, 10);
    assert!(report.wall_seconds > 0.0);
    // Dispatches in one submission run in recording order.
    assert_eq!(gpu.read(&buffer).unwrap(), vec![10.0; 1000]);
    if gpu.supports_timestamps() {
        assert_eq!(report.per_dispatch.len(), 10);
        let gpu_seconds = report.gpu_seconds.expect("timestamps were recorded");
        assert!(gpu_seconds >= 0.0, "{gpu_seconds}");
        assert!(gpu_seconds.is_finite(), "{gpu_seconds}");
        assert_eq!(report.source(), maso::gpu::TimingSource::Timestamps);
    } else {
        assert_eq!(report.source(), maso::gpu::TimingSource::WallClock);
    }
}

#[test]
fn timed_recorder_handles_more_dispatches_than_one_query_set() {
    let gpu = gpu();
    let buffer = gpu.upload(&[0.0f32; 4], "counter").unwrap();
    let mut recorder = gpu.timed_recorder("many");
    for _ in 0..300 {
        ops::map_unary_in_place(
            &mut recorder,
            &buffer,
            UnaryOp::Affine {
                scale: 1.0,
                shift: 1.0,
            },
        )
        .unwrap();
    }
    let report = recorder.submit().unwrap();
    assert_eq!(gpu.read(&buffer).unwrap(), vec![300.0; 4]);
    if gpu.supports_timestamps() {
        assert_eq!(report.per_dispatch.len(), 300);
    }
}

#[test]
fn partial_read_and_write() {
    let gpu = gpu();
    let values: Vec<f32> = (0..100).map(|i| i as f32).collect();
    let buffer = gpu.upload(&values, "values").unwrap();
    assert_eq!(
        gpu.read_range(&buffer, 37..41).unwrap(),
        vec![37.0, 38.0, 39.0, 40.0]
    );
    gpu.write(&buffer, 10, &[-1.0, -2.0]).unwrap();
    assert_eq!(
        gpu.read_range(&buffer, 9..13).unwrap(),
        vec![9.0, -1.0, -2.0, 12.0]
    );
    let error = gpu.read_range(&buffer, 90..101).unwrap_err().to_string();
    assert!(error.contains("90..101"), "{error}");
    let error = gpu.write(&buffer, 99, &[0.0, 0.0]).unwrap_err().to_string();
    assert!(error.contains("99..101"), "{error}");
}

#[test]
fn odd_sized_byte_buffers_round_trip() {
    let gpu = gpu();
    let bytes: Vec<u8> = (0..13).collect();
    let buffer = gpu.upload(&bytes, "bytes").unwrap();
    assert_eq!(gpu.read(&buffer).unwrap(), bytes);
    assert_eq!(gpu.read_range(&buffer, 5..6).unwrap(), vec![5]);
}

#[test]
fn empty_buffers_are_allowed() {
    let gpu = gpu();
    let buffer: GpuBuffer<f32> = gpu.create_buffer(0, "empty").unwrap();
    assert!(buffer.is_empty());
    assert_eq!(gpu.read(&buffer).unwrap(), Vec::<f32>::new());
}

#[test]
fn recorder_copy_moves_ranges() {
    let gpu = gpu();
    let source = gpu.upload(&[1.0f32, 2.0, 3.0, 4.0], "source").unwrap();
    let destination: GpuBuffer<f32> = gpu.create_buffer(6, "destination").unwrap();
    let mut recorder = gpu.recorder("copy");
    recorder.copy(&source, 1, &destination, 3, 3).unwrap();
    assert!(recorder.copy(&source, 2, &destination, 0, 3).is_err());
    recorder.submit().unwrap();
    assert_eq!(
        gpu.read(&destination).unwrap(),
        vec![0.0, 0.0, 0.0, 2.0, 3.0, 4.0]
    );
}

#[test]
fn pipeline_cache_reuses_pipelines() {
    let gpu = gpu();
    let first = gpu
        .kernel(
            &maso::shaders::GEMM,
            "gemm",
            &[("TRANSPOSE_A", 0.0), ("TRANSPOSE_B", 1.0)],
        )
        .unwrap();
    let count = gpu.pipeline_cache_stats().pipelines;
    let second = gpu
        .kernel(
            &maso::shaders::GEMM,
            "gemm",
            &[("TRANSPOSE_A", 0.0), ("TRANSPOSE_B", 1.0)],
        )
        .unwrap();
    assert!(std::sync::Arc::ptr_eq(&first, &second));
    assert_eq!(gpu.pipeline_cache_stats().pipelines, count);
}

#[test]
fn matrix_upload_checks_length() {
    let error = Matrix::upload(gpu(), &[0.0; 5], 2, 3, "m")
        .unwrap_err()
        .to_string();
    assert!(error.contains("2 x 3"), "{error}");
}

#[test]
fn threads_share_one_gpu() {
    let gpu = gpu();
    std::thread::scope(|scope| {
        for thread in 0..4 {
            scope.spawn(move || {
                let values = vec![thread as f32; 257];
                let buffer = gpu.upload(&values, "thread").unwrap();
                let mut recorder = gpu.recorder("thread");
                let doubled = ops::map_unary(
                    &mut recorder,
                    &buffer,
                    UnaryOp::Affine {
                        scale: 2.0,
                        shift: 0.0,
                    },
                )
                .unwrap();
                recorder.submit().unwrap();
                assert_eq!(gpu.read(&doubled).unwrap(), vec![2.0 * thread as f32; 257]);
            });
        }
    });
}
