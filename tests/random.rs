//! Philox streams: GPU against host, bit for bit for integers and uniforms,
//! to a few units in the last place for normals, plus sample statistics.

mod common;

use common::{gpu, ulp_distance};
use maso::gpu::GpuBuffer;
use maso::ops;
use maso::random::PhiloxStream;

fn gpu_bits(stream: PhiloxStream, offset: u64, count: usize) -> Vec<u32> {
    let gpu = gpu();
    let output: GpuBuffer<u32> = gpu.create_buffer(count, "bits").unwrap();
    let mut recorder = gpu.recorder("bits");
    ops::fill_random_bits(&mut recorder, &output, stream, offset).unwrap();
    recorder.submit().unwrap();
    gpu.read(&output).unwrap()
}

fn gpu_floats(stream: PhiloxStream, offset: u64, count: usize, normal: bool) -> Vec<f32> {
    let gpu = gpu();
    let output: GpuBuffer<f32> = gpu.create_buffer(count, "floats").unwrap();
    let mut recorder = gpu.recorder("floats");
    if normal {
        ops::fill_normal(&mut recorder, &output, stream, offset).unwrap();
    } else {
        ops::fill_uniform(&mut recorder, &output, stream, offset).unwrap();
    }
    recorder.submit().unwrap();
    gpu.read(&output).unwrap()
}

const STREAMS: [PhiloxStream; 3] = [
    PhiloxStream { seed: 0, stream: 0 },
    PhiloxStream {
        seed: 0xDEAD_BEEF_0123_4567,
        stream: 3,
    },
    PhiloxStream {
        seed: u64::MAX,
        stream: u64::MAX,
    },
];

// The last offset starts 3 blocks below 2^32 blocks, so the block counter
// carries into its high word inside the dispatch.
const OFFSETS: [u64; 3] = [0, 4 * 1000, 4 * ((1 << 32) - 3)];

#[test]
fn integer_stream_matches_host_exactly() {
    for stream in STREAMS {
        for offset in OFFSETS {
            for count in [1, 7, 33, 257, 1000] {
                assert_eq!(
                    gpu_bits(stream, offset, count),
                    stream.bits(offset, count),
                    "{stream:?} offset {offset} count {count}"
                );
            }
        }
    }
}

#[test]
fn uniform_stream_matches_host_exactly() {
    for stream in STREAMS {
        for offset in OFFSETS {
            let gpu_values = gpu_floats(stream, offset, 1001, false);
            let host_values = stream.uniform(offset, 1001);
            let gpu_bits: Vec<u32> = gpu_values.iter().map(|v| v.to_bits()).collect();
            let host_bits: Vec<u32> = host_values.iter().map(|v| v.to_bits()).collect();
            assert_eq!(gpu_bits, host_bits, "{stream:?} offset {offset}");
        }
    }
}

/// The GPU evaluates Box-Muller in f32 with maso's own log and sin/cos; the
/// host in float64. The bound is 8 units in the last place of the pair's
/// radius r = sqrt(-2 ln u1): a value near zero (angle near a quarter turn)
/// has an error relative to r, not to itself.
#[test]
fn normal_stream_matches_host_within_ulps() {
    let mut worst_ulps = 0u32;
    for stream in STREAMS {
        for offset in OFFSETS {
            let count = 4000;
            let gpu_values = gpu_floats(stream, offset, count, true);
            let host_values = stream.normal(offset, count);
            for pair in 0..count / 2 {
                let (i, j) = (2 * pair, 2 * pair + 1);
                let radius = (host_values[i].powi(2) + host_values[j].powi(2)).sqrt();
                let unit = radius * f32::EPSILON;
                for index in [i, j] {
                    let error = (gpu_values[index] - host_values[index]).abs();
                    assert!(
                        error <= 8.0 * unit,
                        "{stream:?} offset {offset} element {index}: gpu {} host {} (error {error:e}, radius {radius})",
                        gpu_values[index],
                        host_values[index]
                    );
                    worst_ulps = worst_ulps
                        .max(ulp_distance(gpu_values[index], host_values[index]).min(1 << 20));
                }
            }
        }
    }
    eprintln!("largest normal difference: {worst_ulps} ulp of the value itself");
}

#[test]
fn normal_sample_moments() {
    // For n = 200_000 standard normals the sample mean has standard error
    // 1/sqrt(n) = 0.0022 and the sample variance sqrt(2/n) = 0.0032; the
    // bounds are 5 standard errors. The fourth moment checks the tails.
    let n = 200_000;
    let values = gpu_floats(PhiloxStream::new(2026, 1), 0, n, true);
    let mean = values.iter().map(|&v| f64::from(v)).sum::<f64>() / n as f64;
    let variance = values
        .iter()
        .map(|&v| (f64::from(v) - mean).powi(2))
        .sum::<f64>()
        / (n - 1) as f64;
    let kurtosis = values
        .iter()
        .map(|&v| (f64::from(v) - mean).powi(4))
        .sum::<f64>()
        / n as f64
        / variance.powi(2);
    assert!(mean.abs() < 5.0 / (n as f64).sqrt(), "mean {mean}");
    assert!(
        (variance - 1.0).abs() < 5.0 * (2.0 / n as f64).sqrt(),
        "variance {variance}"
    );
    // The kurtosis of a normal sample has standard error sqrt(24/n) = 0.011.
    assert!(
        (kurtosis - 3.0).abs() < 5.0 * (24.0 / n as f64).sqrt(),
        "kurtosis {kurtosis}"
    );
}

#[test]
fn uniform_sample_moments() {
    let n = 200_000;
    let values = gpu_floats(PhiloxStream::new(7, 0), 0, n, false);
    assert!(
        values.iter().all(|&v| v > 0.0 && v < 1.0),
        "values outside (0, 1)"
    );
    let mean = values.iter().map(|&v| f64::from(v)).sum::<f64>() / n as f64;
    let variance = values
        .iter()
        .map(|&v| (f64::from(v) - mean).powi(2))
        .sum::<f64>()
        / (n - 1) as f64;
    // Uniform(0, 1): mean 1/2 with standard error sqrt(1/12/n), variance 1/12.
    assert!(
        (mean - 0.5).abs() < 5.0 * (1.0 / 12.0 / n as f64).sqrt(),
        "mean {mean}"
    );
    assert!((variance - 1.0 / 12.0).abs() < 0.002, "variance {variance}");
}

#[test]
fn streams_with_different_ids_differ() {
    let a = gpu_bits(PhiloxStream::new(1, 0), 0, 64);
    let b = gpu_bits(PhiloxStream::new(1, 1), 0, 64);
    let equal = a.iter().zip(&b).filter(|(x, y)| x == y).count();
    assert!(equal < 2, "{equal} of 64 words coincide");
}

#[test]
fn offset_must_be_multiple_of_four() {
    let gpu = gpu();
    let output: GpuBuffer<u32> = gpu.create_buffer(8, "bits").unwrap();
    let mut recorder = gpu.recorder("bad offset");
    let error = ops::fill_random_bits(&mut recorder, &output, PhiloxStream::new(1, 0), 6)
        .unwrap_err()
        .to_string();
    assert!(error.contains("multiple of 4"), "{error}");
}
