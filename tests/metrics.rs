//! Precision, recall, density and coverage, k-NN radii, Gaussian statistics
//! and the Fréchet and Wasserstein-2 distances.
//!
//! Fixtures in tests/fixtures/metrics come from prdc 0.2, NumPy and SciPy
//! (scripts/fixtures/make_metrics_fixtures.py; versions in manifest.json).
//! Tolerances:
//! - precision, recall, density, coverage: exact equality. Each is a count
//!   divided by a set size, and a count changes only if a distance lies
//!   within f32 rounding of a radius, which random data does not produce.
//! - k-NN radii: 1e-6 relative against a float64 brute-force search. The GPU
//!   sums up to 64 squared f32 differences; the worst error measured on
//!   these inputs was 1.1e-7.
//! - Fréchet and Wasserstein-2 distances from the fixtures' float64
//!   statistics: 1e-6 relative. Both sides compute in float64, so the
//!   difference comes only from the square-root algorithms (eigendecomposition
//!   here, SciPy's sqrtm and NumPy's eigh there) and is near 1e-14.
//! - GPU means: 1e-5 of |mean| plus the largest standard deviation;
//!   covariances: 1e-5 of the largest covariance entry. The GPU sums n
//!   products in f32, and an f32 mean of 50 alone is only exact to 4e-6.

mod common;

use std::path::PathBuf;
use std::time::Instant;

use common::{gpu, uniform_values};
use maso::io::npy;
use maso::metrics::{
    frechet_distance, gaussian_statistics, gaussian_statistics_in_blocks, knn_radii,
    knn_radii_tiled, prdc, prdc_tiled, wasserstein2_gaussians, GaussianStatistics, KnnTiling, Prdc,
};
use maso::random::PhiloxStream;

fn fixture_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/metrics")
}

fn manifest() -> serde_json::Value {
    let text = std::fs::read_to_string(fixture_dir().join("manifest.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// Row-major values and the number of columns of a 2-D float32 fixture.
fn load_points(name: &str) -> (Vec<f32>, usize) {
    let (_, columns, values) = npy::read_matrix_f32(fixture_dir().join(name)).unwrap();
    (values, columns)
}

fn load_f64(name: &str) -> Vec<f64> {
    npy::read_f64(fixture_dir().join(name)).unwrap().data
}

fn case_names() -> Vec<String> {
    manifest()["prdc_cases"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect()
}

fn case_field(case: &str, field: &str) -> f64 {
    manifest()["prdc_cases"][case][field].as_f64().unwrap()
}

fn fixture_statistics(case: &str, set: &str) -> GaussianStatistics {
    let mean = load_f64(&format!("{case}_{set}_mean.npy"));
    let covariance = load_f64(&format!("{case}_{set}_covariance.npy"));
    let dim = mean.len();
    GaussianStatistics {
        mean,
        covariance,
        dim,
        count: case_field(case, &format!("n_{set}")) as usize,
    }
}

fn error_text<T: std::fmt::Debug>(result: maso::Result<T>) -> String {
    result
        .expect_err("the input should be rejected")
        .to_string()
}

fn relative_error(actual: f64, expected: f64) -> f64 {
    (actual - expected).abs() / expected.abs()
}

fn normal_points(seed: u64, rows: usize, dim: usize) -> Vec<f32> {
    PhiloxStream::new(seed, 7).normal(0, rows * dim)
}

/// Checks all four values against the fixture bit for bit.
///
/// serde_json's default float parser can be one unit in the last place off,
/// so the expected values are rebuilt from the integer counts in the
/// manifest. The fixture script checked that these divisions reproduce
/// prdc's values exactly.
fn assert_prdc_eq(actual: Prdc, case: &str) {
    let fields = &manifest()["prdc_cases"][case];
    let count = |name: &str| fields["counts"][name].as_u64().unwrap() as f64;
    let n_real = case_field(case, "n_real");
    let n_fake = case_field(case, "n_fake");
    let k = case_field(case, "k");
    assert_eq!(
        actual.precision,
        count("fake_in_real_balls") / n_fake,
        "precision, case {case}"
    );
    assert_eq!(
        actual.recall,
        count("real_in_fake_balls") / n_real,
        "recall, case {case}"
    );
    assert_eq!(
        actual.density,
        (1.0 / k) * (count("containing_real_balls") / n_fake),
        "density, case {case}"
    );
    assert_eq!(
        actual.coverage,
        count("covered_real") / n_real,
        "coverage, case {case}"
    );
}

// ---------------------------------------------------------------- prdc

#[test]
fn prdc_matches_package() {
    for case in case_names() {
        let (real, dim) = load_points(&format!("{case}_real.npy"));
        let (fake, _) = load_points(&format!("{case}_fake.npy"));
        let k = case_field(&case, "k") as usize;
        assert_prdc_eq(prdc(gpu(), &real, &fake, dim, k).unwrap(), &case);
    }
}

#[test]
fn prdc_small_tiles_match_package() {
    // Blocks of 37 rows and chunks of 5 references: the real and fake sets
    // span several buffers, and every dispatch carries state to the next.
    let tiling = KnnTiling {
        block_rows: 37,
        chunk_rows: 5,
    };
    for case in case_names() {
        let (real, dim) = load_points(&format!("{case}_real.npy"));
        let (fake, _) = load_points(&format!("{case}_fake.npy"));
        let k = case_field(&case, "k") as usize;
        assert_prdc_eq(
            prdc_tiled(gpu(), &real, &fake, dim, k, tiling).unwrap(),
            &case,
        );
    }
}

#[test]
fn prdc_identical_sets_are_perfect() {
    let points = normal_points(11, 300, 6);
    let values = prdc(gpu(), &points, &points, 6, 5).unwrap();
    assert_eq!(values.precision, 1.0, "precision");
    assert_eq!(values.recall, 1.0, "recall");
    assert_eq!(values.coverage, 1.0, "coverage");
    assert!(
        values.density >= 1.0 / 5.0,
        "every fake point lies in its own ball: {values:?}"
    );
}

#[test]
fn prdc_far_apart_sets_score_zero() {
    let real = normal_points(12, 80, 3);
    let fake: Vec<f32> = normal_points(13, 90, 3)
        .into_iter()
        .map(|x| x + 100.0)
        .collect();
    let values = prdc(gpu(), &real, &fake, 3, 5).unwrap();
    assert_eq!(
        values,
        Prdc {
            precision: 0.0,
            recall: 0.0,
            density: 0.0,
            coverage: 0.0
        }
    );
}

#[test]
fn prdc_rejects_bad_inputs() {
    let real = normal_points(14, 20, 4);
    let fake = normal_points(15, 12, 4);

    let mut with_nan = fake.clone();
    with_nan[3 * 4 + 2] = f32::NAN;
    let message = error_text(prdc(gpu(), &real, &with_nan, 4, 5));
    assert!(message.contains("fake points"), "{message}");
    assert!(message.contains("row 3, column 2 is NaN"), "{message}");

    let mut with_infinity = real.clone();
    with_infinity[19 * 4] = f32::INFINITY;
    let message = error_text(prdc(gpu(), &with_infinity, &fake, 4, 5));
    assert!(message.contains("real points"), "{message}");
    assert!(message.contains("row 19, column 0 is inf"), "{message}");

    let message = error_text(prdc(gpu(), &real, &fake, 4, 12));
    assert!(message.contains("invalid k = 12"), "{message}");
    assert!(message.contains("1 ..= 11"), "{message}");
    assert!(message.contains("fake points (12)"), "{message}");

    let message = error_text(prdc(gpu(), &real, &fake, 4, 0));
    assert!(message.contains("invalid k = 0"), "{message}");

    let message = error_text(prdc(gpu(), &real, &fake[..47], 4, 5));
    assert!(
        message.contains("47 values, which is not a multiple of dim = 4"),
        "{message}"
    );

    let message = error_text(prdc(gpu(), &real, &fake, 0, 5));
    assert!(message.contains("invalid dim = 0"), "{message}");

    let huge = vec![1e19f32; 40];
    let message = error_text(prdc(gpu(), &huge, &fake, 4, 5));
    assert!(message.contains("overflow f32"), "{message}");
}

// ---------------------------------------------------------------- k-NN radii

/// k-th smallest distance from each point to the others, in float64.
fn reference_radii(points: &[f32], n: usize, dim: usize, k: usize) -> Vec<f64> {
    (0..n)
        .map(|i| {
            let mut distances: Vec<f64> = (0..n)
                .filter(|&j| j != i)
                .map(|j| {
                    let squared: f64 = (0..dim)
                        .map(|c| {
                            (f64::from(points[i * dim + c]) - f64::from(points[j * dim + c]))
                                .powi(2)
                        })
                        .sum();
                    squared.sqrt()
                })
                .collect();
            distances.sort_by(f64::total_cmp);
            distances[k - 1]
        })
        .collect()
}

fn check_radii(n: usize, dim: usize, k: usize) {
    let points = uniform_values(1000 * n as u64 + dim as u64, n * dim, -1.0, 1.0);
    let radii = knn_radii(gpu(), &points, dim, k).unwrap();
    let expected = reference_radii(&points, n, dim, k);
    assert_eq!(radii.len(), n, "n = {n}, dim = {dim}, k = {k}");
    for (index, (&got, &want)) in radii.iter().zip(&expected).enumerate() {
        let error = relative_error(f64::from(got), want);
        assert!(
            error <= 1e-6,
            "n = {n}, dim = {dim}, k = {k}: radius {index} is {got}, expected {want}"
        );
    }
}

#[test]
fn knn_radii_match_float64_reference() {
    for n in [7, 33, 257, 1000] {
        for dim in [1, 3, 64] {
            check_radii(n, dim, 1);
            check_radii(n, dim, 5);
        }
    }
}

#[test]
fn knn_radii_largest_k() {
    // k = n - 1: the farthest other point. 32 is also the largest k allowed.
    for dim in [1, 3, 64] {
        check_radii(7, dim, 6);
        check_radii(33, dim, 32);
    }
}

#[test]
fn knn_radii_tiles_match_untiled() {
    let (n, dim, k) = (257, 5, 7);
    let points = uniform_values(77, n * dim, -2.0, 2.0);
    let untiled = knn_radii(gpu(), &points, dim, k).unwrap();
    for tiling in [
        KnnTiling {
            block_rows: 64,
            chunk_rows: 9,
        },
        KnnTiling {
            block_rows: 256,
            chunk_rows: 1,
        },
    ] {
        let tiled = knn_radii_tiled(gpu(), &points, dim, k, tiling).unwrap();
        assert_eq!(tiled, untiled, "{tiling:?}");
    }
}

#[test]
fn knn_radii_count_duplicates() {
    // Point 0 and point 2 coincide, so each is the other's nearest neighbour.
    let points = [0.0f32, 0.0, 3.0, 4.0, 0.0, 0.0, 6.0, 8.0];
    let radii = knn_radii(gpu(), &points, 2, 1).unwrap();
    assert_eq!(radii, vec![0.0, 5.0, 0.0, 5.0]);
}

#[test]
fn knn_radii_reject_bad_inputs() {
    let points = uniform_values(5, 40 * 3, -1.0, 1.0);
    let message = error_text(knn_radii(gpu(), &points, 3, 40));
    assert!(message.contains("invalid k = 40"), "{message}");
    assert!(message.contains("1 ..= 32"), "{message}");
    let message = error_text(knn_radii(gpu(), &points[..3], 3, 1));
    assert!(message.contains("at least 2 points"), "{message}");
    let message = error_text(knn_radii(gpu(), &points[..119], 3, 1));
    assert!(message.contains("not a multiple of dim = 3"), "{message}");
    let message = error_text(knn_radii_tiled(
        gpu(),
        &points,
        3,
        1,
        KnnTiling {
            block_rows: 10,
            chunk_rows: 0,
        },
    ));
    assert!(message.contains("invalid chunk_rows = 0"), "{message}");
}

// ---------------------------------------------------------------- Fréchet and W2

#[test]
fn frechet_matches_scipy() {
    for case in case_names() {
        let real = fixture_statistics(&case, "real");
        let fake = fixture_statistics(&case, "fake");
        let distance = frechet_distance(&real, &fake).unwrap();
        let by_sqrtm = case_field(&case, "frechet_sqrtm");
        let by_eigh = case_field(&case, "frechet_eigh");
        assert!(
            relative_error(distance, by_sqrtm) <= 1e-6,
            "case {case}: {distance} vs sqrtm route {by_sqrtm}"
        );
        assert!(
            relative_error(distance, by_eigh) <= 1e-6,
            "case {case}: {distance} vs eigh route {by_eigh}"
        );

        let w2 = wasserstein2_gaussians(
            &real.mean,
            &real.covariance,
            &fake.mean,
            &fake.covariance,
            real.dim,
        )
        .unwrap();
        let expected = case_field(&case, "wasserstein2");
        assert!(
            relative_error(w2, expected) <= 1e-6,
            "case {case}: W2 {w2} vs {expected}"
        );
    }
}

#[test]
fn wasserstein2_matches_scipy() {
    let expected = &manifest()["w2"];
    let dim = expected["dim"].as_u64().unwrap() as usize;
    let w2 = wasserstein2_gaussians(
        &load_f64("w2_mean1.npy"),
        &load_f64("w2_covariance1.npy"),
        &load_f64("w2_mean2.npy"),
        &load_f64("w2_covariance2.npy"),
        dim,
    )
    .unwrap();
    let by_eigh = expected["wasserstein2"].as_f64().unwrap();
    assert!(relative_error(w2, by_eigh) <= 1e-6, "W2 {w2} vs {by_eigh}");
    let by_sqrtm = expected["frechet_sqrtm"].as_f64().unwrap();
    assert!(
        relative_error(w2 * w2, by_sqrtm) <= 1e-6,
        "W2^2 {} vs sqrtm route {by_sqrtm}",
        w2 * w2
    );
}

#[test]
fn gaussian_statistics_match_numpy() {
    for case in case_names() {
        for set in ["real", "fake"] {
            let (points, dim) = load_points(&format!("{case}_{set}.npy"));
            let expected = fixture_statistics(&case, set);
            let statistics = gaussian_statistics(gpu(), &points, dim).unwrap();
            assert_eq!(statistics.dim, dim);
            assert_eq!(statistics.count, expected.count);
            check_statistics(&statistics, &expected, &format!("case {case}, {set}"));
        }
    }
}

fn check_statistics(actual: &GaussianStatistics, expected: &GaussianStatistics, what: &str) {
    let scale = expected
        .covariance
        .iter()
        .fold(0.0f64, |max, value| max.max(value.abs()));
    for (index, (got, want)) in actual.mean.iter().zip(&expected.mean).enumerate() {
        let allowed = 1e-5 * (want.abs() + scale.sqrt());
        assert!(
            (got - want).abs() <= allowed,
            "{what}: mean[{index}] = {got}, expected {want}"
        );
    }
    for (index, (got, want)) in actual
        .covariance
        .iter()
        .zip(&expected.covariance)
        .enumerate()
    {
        assert!(
            (got - want).abs() <= 1e-5 * scale,
            "{what}: covariance entry {index} = {got}, expected {want}"
        );
    }
}

#[test]
fn gaussian_statistics_in_blocks_match_float64() {
    let (n, dim) = (1001, 13);
    // An offset of 50 makes the mean large against the spread, where
    // E[x x^T] - mu mu^T would cancel badly.
    let points: Vec<f32> = uniform_values(31, n * dim, -1.0, 1.0)
        .into_iter()
        .map(|x| x + 50.0)
        .collect();
    let mut mean = vec![0.0f64; dim];
    for row in points.chunks(dim) {
        for (sum, &x) in mean.iter_mut().zip(row) {
            *sum += f64::from(x) / n as f64;
        }
    }
    let mut covariance = vec![0.0f64; dim * dim];
    for row in points.chunks(dim) {
        for i in 0..dim {
            for j in 0..dim {
                covariance[i * dim + j] +=
                    (f64::from(row[i]) - mean[i]) * (f64::from(row[j]) - mean[j]) / (n - 1) as f64;
            }
        }
    }
    let expected = GaussianStatistics {
        mean,
        covariance,
        dim,
        count: n,
    };
    for block_rows in [1001, 256, 100] {
        let statistics = gaussian_statistics_in_blocks(gpu(), &points, dim, block_rows).unwrap();
        check_statistics(
            &statistics,
            &expected,
            &format!("blocks of {block_rows} rows"),
        );
    }
}

#[test]
fn frechet_of_gpu_statistics_matches_scipy() {
    // End to end: float32 GPU statistics, then the host distance. The f32
    // rounding of the statistics bounds the agreement (3e-7 relative measured).
    for case in case_names() {
        let (real, dim) = load_points(&format!("{case}_real.npy"));
        let (fake, _) = load_points(&format!("{case}_fake.npy"));
        let real = gaussian_statistics(gpu(), &real, dim).unwrap();
        let fake = gaussian_statistics(gpu(), &fake, dim).unwrap();
        let distance = frechet_distance(&real, &fake).unwrap();
        let expected = case_field(&case, "frechet_sqrtm");
        assert!(
            relative_error(distance, expected) <= 1e-5,
            "case {case}: {distance} vs {expected}"
        );
    }
}

#[test]
fn frechet_identical_sets_is_zero() {
    let points = normal_points(21, 500, 10);
    let statistics = gaussian_statistics(gpu(), &points, 10).unwrap();
    let distance = frechet_distance(&statistics, &statistics).unwrap();
    let trace: f64 = (0..10).map(|i| statistics.covariance[i * 10 + i]).sum();
    assert!(distance >= 0.0, "{distance}");
    assert!(
        distance <= 1e-12 * trace,
        "{distance} against a trace of {trace}"
    );
}

#[test]
fn frechet_rank_deficient_is_finite() {
    // 400 points in a 3-D subspace of 8 dimensions: both covariances have
    // rank 3, so five eigenvalues are zero up to rounding noise of either sign.
    let dim = 8;
    let basis = normal_points(41, 3 * dim, 1);
    let embed = |seed: u64, shift: f32| -> Vec<f32> {
        let coefficients = normal_points(seed, 400 * 3, 1);
        let mut points = vec![0.0f32; 400 * dim];
        for (row, weights) in coefficients.chunks(3).enumerate() {
            for c in 0..dim {
                points[row * dim + c] =
                    shift + (0..3).map(|b| weights[b] * basis[b * dim + c]).sum::<f32>();
            }
        }
        points
    };
    let first = gaussian_statistics(gpu(), &embed(42, 0.0), dim).unwrap();
    let second = gaussian_statistics(gpu(), &embed(43, 0.5), dim).unwrap();
    let distance = frechet_distance(&first, &second).unwrap();
    assert!(distance.is_finite(), "{distance}");
    // The shift of 0.5 in every coordinate alone contributes 8 * 0.25 = 2.
    assert!(distance >= 1.5, "{distance}");

    let singular = vec![0.0f64; dim * dim];
    let w2 = wasserstein2_gaussians(&first.mean, &singular, &first.mean, &first.covariance, dim)
        .unwrap();
    let trace: f64 = (0..dim).map(|i| first.covariance[i * dim + i]).sum();
    // Against a point mass at its own mean, W2^2 is the trace of the covariance.
    assert!(
        relative_error(w2 * w2, trace) <= 1e-9,
        "{} vs {trace}",
        w2 * w2
    );

    // diag(2, 1, -1e-9) rotated by 45 degrees in the first two coordinates:
    // an indefinite matrix such as rounding can produce. The negative
    // eigenvalue is clipped to 0, so the distance to diag(2, 1, 0) is 0.
    let indefinite = [1.5, 0.5, 0.0, 0.5, 1.5, 0.0, 0.0, 0.0, -1e-9];
    let clipped = [1.5, 0.5, 0.0, 0.5, 1.5, 0.0, 0.0, 0.0, 0.0];
    let w2 = wasserstein2_gaussians(&[0.0; 3], &indefinite, &[0.0; 3], &clipped, 3).unwrap();
    assert!(w2.is_finite(), "{w2}");
    assert!(w2 <= 1e-6, "{w2}");
}

#[test]
fn frechet_rejects_bad_inputs() {
    let first = GaussianStatistics {
        mean: vec![0.0; 2],
        covariance: vec![1.0, 0.0, 0.0, 1.0],
        dim: 2,
        count: 10,
    };
    let third = GaussianStatistics {
        mean: vec![0.0; 3],
        covariance: vec![0.0; 9],
        dim: 3,
        count: 10,
    };
    let message = error_text(frechet_distance(&first, &third));
    assert!(
        message.contains("dim = 2 but the second have dim = 3"),
        "{message}"
    );

    let message = error_text(wasserstein2_gaussians(
        &[0.0; 2], &[1.0; 3], &[0.0; 2], &[1.0; 4], 2,
    ));
    assert!(message.contains("covariance of 3 values"), "{message}");

    let asymmetric = [1.0, 0.5, 0.0, 1.0];
    let message = error_text(wasserstein2_gaussians(
        &[0.0; 2],
        &asymmetric,
        &[0.0; 2],
        &[1.0, 0.0, 0.0, 1.0],
        2,
    ));
    assert!(message.contains("a symmetric matrix"), "{message}");

    let message = error_text(wasserstein2_gaussians(
        &[f64::NAN, 0.0],
        &[1.0, 0.0, 0.0, 1.0],
        &[0.0; 2],
        &[1.0, 0.0, 0.0, 1.0],
        2,
    ));
    assert!(message.contains("first mean[0] = NaN"), "{message}");

    let message = error_text(gaussian_statistics(gpu(), &[1.0, 2.0, 3.0], 3));
    assert!(message.contains("at least 2 points"), "{message}");
    let message = error_text(gaussian_statistics(gpu(), &[1.0, 2.0, f32::NAN, 4.0], 2));
    assert!(message.contains("row 1, column 0 is NaN"), "{message}");
}

// ---------------------------------------------------------------- scale

/// Proves that the tiling handles 50,000 x 50,000 points of d = 64: four
/// passes of 2.5e9 pairs in about 300 dispatches of 2^31 coordinate
/// differences each. Measured: 821 s on lavapipe (llvmpipe, LLVM 15.0.6) on
/// a 2-core cloud VM shared with other builds.
#[test]
#[ignore = "slow on software adapters; run with --ignored"]
fn prdc_50k_points_d64() {
    let (n, dim) = (50_000, 64);
    let real = normal_points(51, n, dim);
    let fake: Vec<f32> = normal_points(52, n, dim)
        .into_iter()
        .map(|x| 0.8 * x + 0.1)
        .collect();
    let started = Instant::now();
    let values = prdc(gpu(), &real, &fake, dim, 5).unwrap();
    eprintln!(
        "prdc of {n} x {n} points, d = {dim}: {values:?} in {:.1} s on {}",
        started.elapsed().as_secs_f64(),
        gpu().info().name
    );
    for (name, value) in [
        ("precision", values.precision),
        ("recall", values.recall),
        ("coverage", values.coverage),
    ] {
        assert!((0.0..=1.0).contains(&value), "{name} = {value}");
    }
    assert!(values.precision > 0.5, "{values:?}");
    assert!(values.recall > 0.0, "{values:?}");
}
