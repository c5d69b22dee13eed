//! Row, column and whole-array reductions against float64 references.
//!
//! Tolerance for sums and means: |gpu - float64| <= 8 * sqrt(n) * 2^-24 *
//! sum |x| over the n reduced values (float32 accumulation in a tree of
//! partial sums). Max and min must be exact.

mod common;

use common::{gpu, uniform_values};
use maso::gpu::GpuBuffer;
use maso::ops::{self, Matrix, Reduction};

const ALL: [Reduction; 6] = [
    Reduction::Sum,
    Reduction::Mean,
    Reduction::Max,
    Reduction::Min,
    Reduction::SumOfSquares,
    Reduction::SumOfAbs,
];

/// float64 reduction of `values`; also returns sum |prepared x| for the tolerance.
fn reference(values: impl Iterator<Item = f32> + Clone, reduction: Reduction) -> (f64, f64) {
    let values = values.map(f64::from);
    let count = values.clone().count() as f64;
    match reduction {
        Reduction::Sum => (values.clone().sum(), values.map(f64::abs).sum()),
        Reduction::Mean => (
            values.clone().sum::<f64>() / count,
            values.map(f64::abs).sum::<f64>() / count,
        ),
        Reduction::Max => (values.fold(f64::NEG_INFINITY, f64::max), 0.0),
        Reduction::Min => (values.fold(f64::INFINITY, f64::min), 0.0),
        Reduction::SumOfSquares => {
            let squares: f64 = values.map(|x| x * x).sum();
            (squares, squares)
        }
        Reduction::SumOfAbs => {
            let total: f64 = values.map(f64::abs).sum();
            (total, total)
        }
    }
}

fn assert_close(got: f32, want: f64, magnitude: f64, count: usize, what: &str) {
    let tolerance = 8.0 * (count as f64).sqrt().max(1.0) * 2f64.powi(-24) * magnitude;
    let error = (f64::from(got) - want).abs();
    assert!(
        error <= tolerance,
        "{what}: got {got}, float64 gives {want} (error {error:e} > tolerance {tolerance:e})"
    );
}

fn run_rows(matrix: &Matrix, reduction: Reduction) -> Vec<f32> {
    let gpu = gpu();
    let mut recorder = gpu.recorder("rows");
    let output = ops::reduce_rows(&mut recorder, matrix, reduction).unwrap();
    recorder.submit().unwrap();
    gpu.read(&output).unwrap()
}

fn run_columns(matrix: &Matrix, reduction: Reduction) -> Vec<f32> {
    let gpu = gpu();
    let mut recorder = gpu.recorder("columns");
    let output = ops::reduce_columns(&mut recorder, matrix, reduction).unwrap();
    recorder.submit().unwrap();
    gpu.read(&output).unwrap()
}

#[test]
fn row_reductions_awkward_sizes() {
    for (rows, columns) in [(1, 1), (7, 33), (33, 257), (257, 1000), (3, 70_001)] {
        let values = uniform_values((rows * 31 + columns) as u64, rows * columns, -2.0, 3.0);
        let matrix = Matrix::upload(gpu(), &values, rows, columns, "x").unwrap();
        for reduction in ALL {
            let result = run_rows(&matrix, reduction);
            assert_eq!(result.len(), rows);
            for row in 0..rows {
                let slice = values[row * columns..(row + 1) * columns].iter().copied();
                let (want, magnitude) = reference(slice, reduction);
                assert_close(
                    result[row],
                    want,
                    magnitude,
                    columns,
                    &format!("{reduction:?} of row {row} of {rows} x {columns}"),
                );
            }
        }
    }
}

#[test]
fn column_reductions_awkward_sizes() {
    // 3000 and 1_100_001 rows need a second pass over per-chunk partials.
    for (rows, columns) in [
        (1, 1),
        (7, 33),
        (257, 65),
        (1000, 7),
        (3000, 5),
        (1_100_001, 1),
    ] {
        let values = uniform_values((rows * 17 + columns) as u64, rows * columns, -1.0, 2.0);
        let matrix = Matrix::upload(gpu(), &values, rows, columns, "x").unwrap();
        for reduction in ALL {
            let result = run_columns(&matrix, reduction);
            assert_eq!(result.len(), columns);
            for column in 0..columns {
                let slice = values.iter().skip(column).step_by(columns).copied();
                let (want, magnitude) = reference(slice, reduction);
                assert_close(
                    result[column],
                    want,
                    magnitude,
                    rows,
                    &format!("{reduction:?} of column {column} of {rows} x {columns}"),
                );
            }
        }
    }
}

#[test]
fn whole_array_reductions_multi_pass() {
    // 16384 values per workgroup, so 100_003 needs two passes and 1 one.
    for len in [1, 7, 257, 16_384, 16_385, 100_003] {
        let values = uniform_values(len as u64, len, -1.0, 1.0);
        let buffer = gpu().upload(&values, "x").unwrap();
        for reduction in ALL {
            let mut recorder = gpu().recorder("all");
            let output = ops::reduce_all(&mut recorder, &buffer, reduction).unwrap();
            recorder.submit().unwrap();
            let result = gpu().read(&output).unwrap();
            assert_eq!(result.len(), 1);
            let (want, magnitude) = reference(values.iter().copied(), reduction);
            assert_close(
                result[0],
                want,
                magnitude,
                len,
                &format!("{reduction:?} of {len} values"),
            );
        }
    }
}

#[test]
fn max_and_min_handle_negative_rows() {
    let values = [-5.0, -3.0, -4.0, -9.0, -1.0, -2.0];
    let matrix = Matrix::upload(gpu(), &values, 2, 3, "x").unwrap();
    assert_eq!(run_rows(&matrix, Reduction::Max), vec![-3.0, -1.0]);
    assert_eq!(run_columns(&matrix, Reduction::Min), vec![-9.0, -3.0, -4.0]);
}

#[test]
fn empty_reductions_use_identities() {
    let matrix = Matrix::zeros(gpu(), 3, 0, "x").unwrap();
    assert_eq!(run_rows(&matrix, Reduction::Sum), vec![0.0; 3]);
    assert_eq!(
        run_rows(&matrix, Reduction::Max),
        vec![f32::NEG_INFINITY; 3]
    );
    let empty: GpuBuffer<f32> = gpu().create_buffer(0, "empty").unwrap();
    let mut recorder = gpu().recorder("empty");
    let output = ops::reduce_all(&mut recorder, &empty, Reduction::Mean).unwrap();
    recorder.submit().unwrap();
    assert!(gpu().read(&output).unwrap()[0].is_nan());
}
