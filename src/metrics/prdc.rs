//! Precision and recall (Kynkäänniemi et al., "Improved Precision and Recall
//! Metric for Assessing Generative Models", NeurIPS 2019) and density and
//! coverage (Naeem et al., "Reliable Fidelity and Diversity Metrics for
//! Generative Models", ICML 2020) from k-nearest-neighbour balls.
//!
//! Every real point x_i gets a ball whose radius r_i is the distance to its
//! k-th nearest other real point. Every fake point y_j likewise gets a
//! radius s_j among the fake points. Then
//! - precision = share of fake points inside at least one real ball;
//! - recall = share of real points inside at least one fake ball;
//! - density = (1 / (k n_fake)) * sum over fake points of the number of real
//!   balls that contain them;
//! - coverage = share of real points whose nearest fake point lies inside
//!   their own ball.
//!
//! "Inside" is strict: d(y, x_i) < r_i, as in the prdc package (0.2) by the
//! authors of the density and coverage paper. torch-fidelity
//! (`metric_prc.py`, precision and recall only) counts points on the sphere
//! as inside (d <= r) and defaults to k = 3, so on data with ties its values
//! can be higher. The comparisons use squared distances, so no square root
//! rounds a distance onto its radius.
//!
//! The kernels compute each squared distance directly in f32, while prdc
//! rounds scikit-learn's distances to f32, so a count can differ from
//! prdc's when a distance lies within rounding of a radius. In the
//! benchmark at n = 10,000 and d = 64, one of 220,898 ball memberships
//! differed.

use crate::error::Result;
use crate::gpu::Gpu;
use crate::metrics::knn::{ball_counts, check_k, kth_smallest_squared, KnnTiling};
use crate::metrics::points::{check_dim, PointBlocks, PointSet};

/// How [`prdc`] decides that a point lies inside a ball, for reports.
pub const PRDC_CONVENTION: &str =
    "strict: a point is inside a ball when its distance to the centre is less than the radius (d < r), as in the \
     prdc package; torch-fidelity uses d <= r";

/// Precision, recall, density and coverage of a fake set against a real set.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Prdc {
    /// Share of fake points inside at least one real ball, in [0, 1].
    pub precision: f64,
    /// Share of real points inside at least one fake ball, in [0, 1].
    pub recall: f64,
    /// Mean number of real balls containing a fake point, divided by k; at
    /// least 0 and not bounded by 1.
    pub density: f64,
    /// Share of real points whose nearest fake point lies inside their ball,
    /// in [0, 1].
    pub coverage: f64,
}

/// Computes precision, recall, density and coverage of `fake` against `real`
/// with k-nearest-neighbour balls (the module documentation gives the
/// definitions and the strict `<` convention).
///
/// `real` contains n_real x dim row-major values and `fake` n_fake x dim.
/// The default k in the literature is 5. Requires dim >= 1,
/// 1 <= k <= min(32, n_real - 1, n_fake - 1) and finite coordinates; the
/// errors name the set, the value and the allowed range.
pub fn prdc(gpu: &Gpu, real: &[f32], fake: &[f32], dim: usize, k: usize) -> Result<Prdc> {
    check_dim(dim)?;
    let points = (real.len() / dim).max(fake.len() / dim);
    prdc_tiled(
        gpu,
        real,
        fake,
        dim,
        k,
        KnnTiling::for_adapter(gpu, points, dim, k),
    )
}

/// Computes [`prdc`] with an explicit tiling.
pub fn prdc_tiled(
    gpu: &Gpu,
    real: &[f32],
    fake: &[f32],
    dim: usize,
    k: usize,
    tiling: KnnTiling,
) -> Result<Prdc> {
    let real = PointSet::new(real, dim, "real points")?;
    let fake = PointSet::new(fake, dim, "fake points")?;
    check_k(k, real.rows, real.name)?;
    check_k(k, fake.rows, fake.name)?;
    tiling.validate()?;

    let real_blocks = PointBlocks::upload(gpu, &real, tiling.block_rows)?;
    let fake_blocks = PointBlocks::upload(gpu, &fake, tiling.block_rows)?;
    let real_radii2 = kth_smallest_squared(gpu, &real_blocks, k, tiling.chunk_rows)?;
    let fake_radii2 = kth_smallest_squared(gpu, &fake_blocks, k, tiling.chunk_rows)?;
    // Fake points against the real balls give precision and density; real
    // points against the fake balls give recall, and their nearest fake
    // point gives coverage.
    let fake_in_real = ball_counts(
        gpu,
        &fake_blocks,
        &real_blocks,
        &real_radii2,
        tiling.chunk_rows,
    )?;
    let real_in_fake = ball_counts(
        gpu,
        &real_blocks,
        &fake_blocks,
        &fake_radii2,
        tiling.chunk_rows,
    )?;

    let covered = real_in_fake
        .nearest2
        .iter()
        .zip(&real_radii2)
        .filter(|(nearest2, radius2)| nearest2 < radius2);
    let containing_balls: u64 = fake_in_real
        .counts
        .iter()
        .map(|&count| u64::from(count))
        .sum();
    Ok(Prdc {
        precision: share(
            fake_in_real
                .counts
                .iter()
                .filter(|&&count| count > 0)
                .count(),
            fake.rows,
        ),
        recall: share(
            real_in_fake
                .counts
                .iter()
                .filter(|&&count| count > 0)
                .count(),
            real.rows,
        ),
        // The same operations as prdc 0.2, (1 / k) * mean(counts), so that
        // equal counts give bit-identical values.
        density: (1.0 / k as f64) * (containing_balls as f64 / fake.rows as f64),
        coverage: share(covered.count(), real.rows),
    })
}

fn share(count: usize, total: usize) -> f64 {
    count as f64 / total as f64
}
