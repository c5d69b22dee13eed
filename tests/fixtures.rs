//! Agreement with the public libraries that compute the same quantities:
//! NumPy (matrix products, reductions) and randomgen (Philox-4x32-10).
//! scripts/fixtures/make_core_fixtures.py wrote the files in
//! tests/fixtures/core.

mod common;

use std::path::PathBuf;

use common::{gpu, worst_ratio};
use maso::io::npy;
use maso::ops::{self, Matrix, Reduction};
use maso::random::philox4x32_10;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/core")
        .join(name)
}

fn load_matrix(name: &str) -> (Matrix, Vec<f32>) {
    let (rows, columns, data) = npy::read_matrix_f32(fixture(name)).unwrap();
    (
        Matrix::upload(gpu(), &data, rows, columns, name).unwrap(),
        data,
    )
}

/// NumPy's float64 results from the same float32 inputs; the GPU sums 23
/// float32 products, so 1e-5 relative to the largest entry is ample.
fn assert_matches_numpy(actual: &[f32], name: &str) {
    let expected = npy::read_f64(fixture(name)).unwrap().data;
    let scale = expected.iter().fold(1e-30f64, |acc, v| acc.max(v.abs()));
    let (worst, index) = worst_ratio(actual, &expected, |_, _| 1e-5 * scale);
    assert!(
        worst <= 1.0,
        "{name}: entry {index} is {} but NumPy gives {}",
        actual[index],
        expected[index]
    );
}

#[test]
fn products_match_numpy() {
    let (a, _) = load_matrix("a.npy");
    let (b, _) = load_matrix("b.npy");
    let (c, _) = load_matrix("c.npy");
    let mut recorder = gpu().recorder("numpy products");
    let product = ops::matmul(&mut recorder, &a, &c).unwrap();
    let gram = ops::gram(&mut recorder, &a, &b).unwrap();
    recorder.submit().unwrap();
    assert_matches_numpy(&product.read(gpu()).unwrap(), "a_times_c.npy");
    assert_matches_numpy(&gram.read(gpu()).unwrap(), "a_gram_b.npy");
}

#[test]
fn reductions_match_numpy() {
    let (a, _) = load_matrix("a.npy");
    let mut recorder = gpu().recorder("numpy reductions");
    let row_sums = ops::reduce_rows(&mut recorder, &a, Reduction::Sum).unwrap();
    let column_max = ops::reduce_columns(&mut recorder, &a, Reduction::Max).unwrap();
    let column_means = ops::reduce_columns(&mut recorder, &a, Reduction::Mean).unwrap();
    recorder.submit().unwrap();
    assert_matches_numpy(&gpu().read(&row_sums).unwrap(), "a_row_sums.npy");
    assert_matches_numpy(&gpu().read(&column_max).unwrap(), "a_column_max.npy");
    assert_matches_numpy(&gpu().read(&column_means).unwrap(), "a_column_means.npy");
}

/// randomgen increments its 128-bit counter before each block, so its n-th
/// block (from 0) is Philox of counter + n + 1.
#[test]
fn philox_matches_randomgen() {
    let text = std::fs::read_to_string(fixture("philox_randomgen.json")).unwrap();
    let fixture: serde_json::Value = serde_json::from_str(&text).unwrap();
    let cases = fixture["cases"].as_array().unwrap();
    assert!(!cases.is_empty());
    for case in cases {
        let words = |key: &str| -> Vec<u32> {
            case[key]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_u64().unwrap() as u32)
                .collect()
        };
        let key = words("key");
        let counter = words("counter_before_first_block");
        let expected = words("words");
        let start = counter
            .iter()
            .rev()
            .fold(0u128, |acc, &word| (acc << 32) | u128::from(word));
        let mut actual = Vec::new();
        for block in 0..expected.len() / 4 {
            let value = start.wrapping_add(block as u128 + 1);
            let counter = [
                value as u32,
                (value >> 32) as u32,
                (value >> 64) as u32,
                (value >> 96) as u32,
            ];
            actual.extend(philox4x32_10(counter, [key[0], key[1]]));
        }
        assert_eq!(actual, expected, "key {key:?}, counter {counter:?}");
    }
}
