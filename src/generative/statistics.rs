//! Sufficient statistics of point sets: computed per part on the GPU around
//! the part's own mean (so no cancellation), combined on the host in float64
//! with the pairwise update of Chan, Golub and LeVeque (1979).

use crate::error::Result;
use crate::gpu::{Gpu, Recorder};
use crate::ops::{self, BinaryOp, Broadcast, GemmSpec, Matrix, Reduction};

/// Count, mean and centred second moment M2 = sum (x - mean)(x - mean)^T.
#[derive(Debug, Clone, PartialEq)]
pub struct PartStatistics {
    /// Number of points.
    pub count: usize,
    /// Mean, `dim` values.
    pub mean: Vec<f64>,
    /// Centred second moment, dim x dim row-major.
    pub m2: Vec<f64>,
}

impl PartStatistics {
    /// Dimension of the points.
    pub fn dim(&self) -> usize {
        self.mean.len()
    }

    /// Unbiased covariance M2 / (count - 1) (zero for a single point).
    pub fn covariance(&self) -> Vec<f64> {
        let divisor = (self.count.max(2) - 1) as f64;
        self.m2.iter().map(|v| v / divisor).collect()
    }
}

/// Records the mean and centred second moment of `points` (n x dim) and
/// returns the GPU buffers (mean: dim values, m2: dim x dim).
pub(crate) fn record_part_statistics(
    recorder: &mut Recorder,
    points: &Matrix,
) -> Result<(crate::gpu::GpuBuffer<f32>, Matrix)> {
    let gpu = recorder.gpu();
    let dim = points.columns();
    let mean = ops::reduce_columns(recorder, points, Reduction::Mean)?;
    let centred = ops::map_binary(
        recorder,
        points.buffer(),
        &mean,
        BinaryOp::Subtract,
        Broadcast::Row { columns: dim },
    )?;
    let centred = Matrix::from_buffer(centred, points.rows(), dim)?;
    let m2 = Matrix::zeros(gpu, dim, dim, "second moment")?;
    ops::gemm(
        recorder,
        &centred,
        &centred,
        &m2,
        GemmSpec {
            transpose_a: true,
            ..GemmSpec::default()
        },
    )?;
    Ok((mean, m2))
}

/// Computes the statistics of `points` (row-major, `dim` values per point) on the GPU.
pub fn part_statistics(gpu: &Gpu, points: &[f32], dim: usize) -> Result<PartStatistics> {
    let count = points.len() / dim.max(1);
    let matrix = Matrix::upload(gpu, points, count, dim, "statistics points")?;
    let mut recorder = gpu.recorder("part statistics");
    let (mean, m2) = record_part_statistics(&mut recorder, &matrix)?;
    recorder.submit()?;
    Ok(PartStatistics {
        count,
        mean: gpu.read(&mean)?.into_iter().map(f64::from).collect(),
        m2: m2.read(gpu)?.into_iter().map(f64::from).collect(),
    })
}

/// Statistics of the union of `parts` (all of the same dimension).
pub fn combine_statistics(parts: &[PartStatistics]) -> PartStatistics {
    let dim = parts.first().map_or(0, PartStatistics::dim);
    let mut total = PartStatistics {
        count: 0,
        mean: vec![0.0; dim],
        m2: vec![0.0; dim * dim],
    };
    for part in parts.iter().filter(|p| p.count > 0) {
        let (na, nb) = (total.count as f64, part.count as f64);
        let n = na + nb;
        let delta: Vec<f64> = (0..dim).map(|i| part.mean[i] - total.mean[i]).collect();
        for i in 0..dim {
            for j in 0..dim {
                total.m2[i * dim + j] += part.m2[i * dim + j] + delta[i] * delta[j] * na * nb / n;
            }
        }
        for i in 0..dim {
            total.mean[i] += delta[i] * nb / n;
        }
        total.count += part.count;
    }
    total
}
