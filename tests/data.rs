//! Data sets: the bundled files, MNIST IDX files written here, user CSV and
//! `.npy` data, and the error message for each kind of bad input. No GPU is
//! needed.

use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};

use flate2::write::GzEncoder;
use flate2::Compression;
use maso::data::{
    load_breast_cancer, load_dataset, load_mnist_bundled, load_mnist_csv, load_mnist_idx, Dataset,
    MnistSplit, PixelScale, MNIST_PIXELS,
};
use maso::io::npy;

/// Creates a fresh, empty directory for one test and returns its path.
fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("maso-data-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

fn error_text<T: std::fmt::Debug>(result: maso::Result<T>) -> String {
    result.unwrap_err().to_string()
}

// ---------------------------------------------------------------------------
// Bundled data

// The expected values were computed once from assets/mnist_5k.csv.gz with
// pandas 3.1.1 and NumPy 2.4.6:
//   df = pandas.read_csv("assets/mnist_5k.csv.gz", header=None)
//   df.iloc[:, -1].value_counts().sort_index()   -> 500 for every digit
//   X = df.iloc[:, :-1].to_numpy(); X.sum(), X[0].sum()   -> 131267102, 31095
const MNIST_LABEL_COUNTS: [usize; 10] = [500; 10];
const MNIST_PIXEL_SUM: u64 = 131_267_102;
const MNIST_FIRST_ROW_SUM: u64 = 31_095;

#[test]
fn bundled_mnist_shape_and_counts() {
    let data = load_mnist_bundled(PixelScale::Raw).unwrap();
    assert_eq!(data.n_samples(), 5000);
    assert_eq!(data.n_features(), 784);
    assert_eq!(data.n_classes(), 10);
    assert_eq!(
        data.class_names(),
        &["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"]
    );
    assert_eq!(data.class_counts(), MNIST_LABEL_COUNTS.to_vec());
}

#[test]
fn bundled_mnist_pixels_match_pandas() {
    let data = load_mnist_bundled(PixelScale::Raw).unwrap();
    let total: u64 = data.features().iter().map(|&value| value as u64).sum();
    let first_row: u64 = data.row(0).iter().map(|&value| value as u64).sum();
    assert_eq!(total, MNIST_PIXEL_SUM);
    assert_eq!(first_row, MNIST_FIRST_ROW_SUM);
    assert_eq!(data.features().iter().copied().fold(0.0, f32::max), 255.0);
}

#[test]
fn bundled_mnist_unit_scale() {
    let raw = load_mnist_bundled(PixelScale::Raw).unwrap();
    let unit = load_mnist_bundled(PixelScale::UnitInterval).unwrap();
    assert_eq!(unit.features().iter().copied().fold(0.0, f32::max), 1.0);
    for (scaled, original) in unit.features().iter().zip(raw.features()).step_by(97) {
        assert_eq!(*scaled, original / 255.0);
    }
    assert_eq!(unit.labels(), raw.labels());
}

#[test]
fn spec_mnist_is_bundled_raw() {
    let data = load_dataset("mnist").unwrap();
    assert_eq!(data, load_mnist_bundled(PixelScale::Raw).unwrap());
}

fn mnist_csv_line(grey_level: u8, digit: u8) -> String {
    let mut fields = vec![grey_level.to_string(); MNIST_PIXELS];
    fields.push(digit.to_string());
    fields.join(",")
}

#[test]
fn mnist_csv_plain_and_gzip() {
    let dir = temp_dir("mnist-csv");
    let text = format!("{}\n{}\n", mnist_csv_line(255, 4), mnist_csv_line(51, 8));
    std::fs::write(dir.join("digits.csv"), &text).unwrap();
    std::fs::write(dir.join("digits.csv.gz"), gzip(text.as_bytes())).unwrap();

    let plain = load_mnist_csv(dir.join("digits.csv"), PixelScale::UnitInterval).unwrap();
    let compressed = load_mnist_csv(dir.join("digits.csv.gz"), PixelScale::UnitInterval).unwrap();
    assert_eq!(plain.labels(), &[4, 8]);
    assert_eq!(plain.row(0), vec![1.0; MNIST_PIXELS].as_slice());
    assert_eq!(plain.row(1), vec![0.2; MNIST_PIXELS].as_slice());
    assert_eq!(compressed.features(), plain.features());
    assert_eq!(compressed.labels(), plain.labels());
}

// 212 malignant and 357 benign: scikit-learn's breast_cancer.rst ("Class
// Distribution") and pandas value_counts of the file's last column agree.
#[test]
fn breast_cancer_shape_and_classes() {
    let data = load_breast_cancer().unwrap();
    assert_eq!(data.n_samples(), 569);
    assert_eq!(data.n_features(), 30);
    assert_eq!(data.class_names(), &["malignant", "benign"]);
    assert_eq!(data.class_counts(), vec![212, 357]);
    assert_eq!(
        data.labels()[0],
        0,
        "the first row of the file is malignant"
    );
}

#[test]
fn spec_breast_cancer_is_bundled() {
    assert_eq!(
        load_dataset("breast-cancer").unwrap(),
        load_breast_cancer().unwrap()
    );
}

// ---------------------------------------------------------------------------
// MNIST IDX files

const ROWS: usize = 4;
const COLUMNS: usize = 3;

fn idx_images(images: &[Vec<u8>]) -> Vec<u8> {
    let mut bytes = vec![0, 0, 0x08, 3];
    for extent in [images.len(), ROWS, COLUMNS] {
        bytes.extend_from_slice(&(extent as u32).to_be_bytes());
    }
    for image in images {
        bytes.extend_from_slice(image);
    }
    bytes
}

fn idx_labels(labels: &[u8]) -> Vec<u8> {
    let mut bytes = vec![0, 0, 0x08, 1];
    bytes.extend_from_slice(&(labels.len() as u32).to_be_bytes());
    bytes.extend_from_slice(labels);
    bytes
}

/// Five 4 x 3 images whose pixels encode the image and pixel index.
fn sample_images() -> Vec<Vec<u8>> {
    (0..5)
        .map(|image| {
            (0..ROWS * COLUMNS)
                .map(|pixel| (image * 40 + pixel * 3) as u8)
                .collect()
        })
        .collect()
}

const SAMPLE_LABELS: [u8; 5] = [3, 0, 9, 3, 1];

fn write(dir: &Path, name: &str, bytes: &[u8]) {
    std::fs::write(dir.join(name), bytes).unwrap();
}

fn assert_matches_samples(data: &Dataset, scale: f32) {
    assert_eq!(data.n_samples(), 5);
    assert_eq!(data.n_features(), ROWS * COLUMNS);
    assert_eq!(data.labels(), &[3, 0, 9, 3, 1]);
    assert_eq!(data.n_classes(), 10);
    for (index, image) in sample_images().iter().enumerate() {
        let expected: Vec<f32> = image
            .iter()
            .map(|&grey_level| f32::from(grey_level) / scale)
            .collect();
        assert_eq!(data.row(index), expected.as_slice(), "image {index}");
    }
}

#[test]
fn idx_plain_round_trip() {
    let dir = temp_dir("idx-plain");
    write(
        &dir,
        "train-images-idx3-ubyte",
        &idx_images(&sample_images()),
    );
    write(&dir, "train-labels-idx1-ubyte", &idx_labels(&SAMPLE_LABELS));
    let data = load_mnist_idx(&dir, MnistSplit::Train, PixelScale::Raw).unwrap();
    assert_matches_samples(&data, 1.0);
}

#[test]
fn idx_gzip_round_trip() {
    let dir = temp_dir("idx-gzip");
    write(
        &dir,
        "t10k-images-idx3-ubyte.gz",
        &gzip(&idx_images(&sample_images())),
    );
    write(
        &dir,
        "t10k-labels-idx1-ubyte.gz",
        &gzip(&idx_labels(&SAMPLE_LABELS)),
    );
    let data = load_mnist_idx(&dir, MnistSplit::Test, PixelScale::UnitInterval).unwrap();
    assert_matches_samples(&data, 255.0);
}

#[test]
fn idx_gzip_detected_by_content() {
    let dir = temp_dir("idx-renamed");
    write(
        &dir,
        "train-images-idx3-ubyte",
        &gzip(&idx_images(&sample_images())),
    );
    write(
        &dir,
        "train-labels-idx1-ubyte.gz",
        &idx_labels(&SAMPLE_LABELS),
    );
    let data = load_mnist_idx(&dir, MnistSplit::Train, PixelScale::Raw).unwrap();
    assert_matches_samples(&data, 1.0);
}

#[test]
fn spec_mnist_dir_reads_both_splits() {
    let dir = temp_dir("idx-spec");
    write(
        &dir,
        "train-images-idx3-ubyte",
        &idx_images(&sample_images()),
    );
    write(&dir, "train-labels-idx1-ubyte", &idx_labels(&SAMPLE_LABELS));
    write(
        &dir,
        "t10k-images-idx3-ubyte",
        &idx_images(&sample_images()[..2]),
    );
    write(
        &dir,
        "t10k-labels-idx1-ubyte",
        &idx_labels(&SAMPLE_LABELS[..2]),
    );
    let train = load_dataset(&format!("mnist:{}", dir.display())).unwrap();
    let test = load_dataset(&format!("mnist-test:{}", dir.display())).unwrap();
    assert_matches_samples(&train, 1.0);
    assert_eq!(test.n_samples(), 2);
}

#[test]
fn idx_missing_file_names_both_names() {
    let dir = temp_dir("idx-missing");
    write(&dir, "train-labels-idx1-ubyte", &idx_labels(&SAMPLE_LABELS));
    let text = error_text(load_mnist_idx(&dir, MnistSplit::Train, PixelScale::Raw));
    assert!(
        text.contains("neither train-images-idx3-ubyte nor train-images-idx3-ubyte.gz"),
        "{text}"
    );
}

#[test]
fn idx_wrong_magic_names_file() {
    let dir = temp_dir("idx-magic");
    let mut images = idx_images(&sample_images());
    images[0] = 0x50;
    write(&dir, "train-images-idx3-ubyte", &images);
    write(&dir, "train-labels-idx1-ubyte", &idx_labels(&SAMPLE_LABELS));
    let text = error_text(load_mnist_idx(&dir, MnistSplit::Train, PixelScale::Raw));
    assert!(text.contains("train-images-idx3-ubyte"), "{text}");
    assert!(text.contains("not an IDX file"), "{text}");
}

#[test]
fn idx_truncated_images_names_file() {
    let dir = temp_dir("idx-truncated");
    let images = idx_images(&sample_images());
    write(&dir, "train-images-idx3-ubyte", &images[..images.len() - 7]);
    write(&dir, "train-labels-idx1-ubyte", &idx_labels(&SAMPLE_LABELS));
    let text = error_text(load_mnist_idx(&dir, MnistSplit::Train, PixelScale::Raw));
    assert!(text.contains("train-images-idx3-ubyte"), "{text}");
    assert!(text.contains("truncated"), "{text}");
    assert!(
        text.contains("need 60 data bytes, but only 53 follow"),
        "{text}"
    );
}

#[test]
fn idx_truncated_gzip_names_file() {
    let dir = temp_dir("idx-truncated-gzip");
    let compressed = gzip(&idx_labels(&SAMPLE_LABELS));
    write(
        &dir,
        "train-images-idx3-ubyte",
        &idx_images(&sample_images()),
    );
    write(
        &dir,
        "train-labels-idx1-ubyte.gz",
        &compressed[..compressed.len() - 10],
    );
    let text = error_text(load_mnist_idx(&dir, MnistSplit::Train, PixelScale::Raw));
    assert!(text.contains("train-labels-idx1-ubyte.gz"), "{text}");
    assert!(text.contains("corrupt or truncated"), "{text}");
}

#[test]
fn idx_count_mismatch_names_both_files() {
    let dir = temp_dir("idx-mismatch");
    write(
        &dir,
        "train-images-idx3-ubyte",
        &idx_images(&sample_images()),
    );
    write(
        &dir,
        "train-labels-idx1-ubyte",
        &idx_labels(&SAMPLE_LABELS[..4]),
    );
    let text = error_text(load_mnist_idx(&dir, MnistSplit::Train, PixelScale::Raw));
    assert!(text.contains("has 5 images but"), "{text}");
    assert!(
        text.contains("train-labels-idx1-ubyte has 4 labels"),
        "{text}"
    );
}

#[test]
fn idx_label_above_nine_is_rejected() {
    let dir = temp_dir("idx-label");
    write(
        &dir,
        "train-images-idx3-ubyte",
        &idx_images(&sample_images()),
    );
    write(
        &dir,
        "train-labels-idx1-ubyte",
        &idx_labels(&[3, 0, 10, 3, 1]),
    );
    let text = error_text(load_mnist_idx(&dir, MnistSplit::Train, PixelScale::Raw));
    assert!(
        text.contains("label 10 at index 2 is not a digit"),
        "{text}"
    );
}

#[test]
fn idx_swapped_files_are_rejected() {
    let dir = temp_dir("idx-swapped");
    write(&dir, "train-images-idx3-ubyte", &idx_labels(&SAMPLE_LABELS));
    write(
        &dir,
        "train-labels-idx1-ubyte",
        &idx_images(&sample_images()),
    );
    let text = error_text(load_mnist_idx(&dir, MnistSplit::Train, PixelScale::Raw));
    assert!(text.contains("needs 3 dimensions"), "{text}");
    assert!(text.contains("swapped"), "{text}");
}

// ---------------------------------------------------------------------------
// User CSV files

fn write_csv(name: &str, text: &str) -> PathBuf {
    let path = temp_dir(name).join("data.csv");
    std::fs::write(&path, text).unwrap();
    path
}

fn load_csv_text(name: &str, text: &str) -> maso::Result<Dataset> {
    let path = write_csv(name, text);
    load_dataset(path.to_str().unwrap())
}

#[test]
fn csv_string_labels_sorted() {
    let data = load_csv_text(
        "csv-strings",
        "x,y,species\n1,2,virginica\n3,4,setosa\n5,6,virginica\n",
    )
    .unwrap();
    assert_eq!(data.n_samples(), 3);
    assert_eq!(data.n_features(), 2);
    assert_eq!(data.features(), &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    assert_eq!(data.class_names(), &["setosa", "virginica"]);
    assert_eq!(data.labels(), &[1, 0, 1]);
}

#[test]
fn csv_integer_labels_sorted_by_value() {
    let data = load_csv_text("csv-integers", "x,label\n0.5,10\n1.5,2\n2.5,10\n").unwrap();
    assert_eq!(data.class_names(), &["2", "10"]);
    assert_eq!(data.labels(), &[1, 0, 1]);
}

#[test]
fn csv_empty_file_is_rejected() {
    let text = error_text(load_csv_text("csv-empty", ""));
    assert!(text.contains("data.csv"), "{text}");
    assert!(text.contains("the file is empty"), "{text}");
}

#[test]
fn csv_header_only_is_rejected() {
    let text = error_text(load_csv_text("csv-header", "a,b,label\n"));
    assert!(text.contains("no data rows"), "{text}");
}

#[test]
fn csv_nan_names_line_and_column() {
    let text = error_text(load_csv_text("csv-nan", "a,b,label\n1,2,0\n3,NaN,1\n"));
    assert!(text.contains("line 3, column \"b\""), "{text}");
    assert!(text.contains("is NaN"), "{text}");
}

#[test]
fn csv_non_numeric_feature_is_rejected() {
    let text = error_text(load_csv_text("csv-text", "a,b,label\n1,2,0\nabc,4,1\n"));
    assert!(text.contains("line 3, column \"a\""), "{text}");
    assert!(text.contains("\"abc\" is not a number"), "{text}");
}

// ---------------------------------------------------------------------------
// User .npy directories

fn write_npy_dir(name: &str, features: &[f32], rows: usize, labels: &[f64]) -> PathBuf {
    let dir = temp_dir(name);
    npy::write_f32(dir.join("X.npy"), &[rows, features.len() / rows], features).unwrap();
    npy::write_f64(dir.join("y.npy"), &[labels.len()], labels).unwrap();
    dir
}

#[test]
fn npy_dir_round_trip() {
    let features = [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0];
    let dir = write_npy_dir("npy-ok", &features, 4, &[1.0, -1.0, -1.0, 1.0]);
    let data = load_dataset(dir.to_str().unwrap()).unwrap();
    assert_eq!(data.n_samples(), 4);
    assert_eq!(data.n_features(), 2);
    assert_eq!(data.features(), &features);
    assert_eq!(data.class_names(), &["-1", "1"]);
    assert_eq!(data.labels(), &[1, 0, 0, 1]);
}

#[test]
fn npy_labels_wrong_length() {
    let dir = write_npy_dir("npy-length", &[0.0; 8], 4, &[0.0, 1.0, 0.0]);
    let text = error_text(load_dataset(dir.to_str().unwrap()));
    assert!(
        text.contains("y.npy has 3 labels but X.npy has 4 rows"),
        "{text}"
    );
}

#[test]
fn npy_fractional_label_is_rejected() {
    let dir = write_npy_dir("npy-fraction", &[0.0; 4], 2, &[0.0, 0.5]);
    let text = error_text(load_dataset(dir.to_str().unwrap()));
    assert!(
        text.contains("label 0.5 at index 1 is not an integer"),
        "{text}"
    );
}

#[test]
fn npy_missing_labels_file() {
    let dir = temp_dir("npy-missing");
    npy::write_f32(dir.join("X.npy"), &[2, 2], &[0.0; 4]).unwrap();
    let text = error_text(load_dataset(dir.to_str().unwrap()));
    assert!(text.contains("y.npy is missing"), "{text}");
}

#[test]
fn npy_nan_names_row_and_column() {
    let mut features = [0.0f32; 6];
    features[5] = f32::NAN;
    let dir = write_npy_dir("npy-nan", &features, 3, &[0.0, 1.0, 0.0]);
    let text = error_text(load_dataset(dir.to_str().unwrap()));
    assert!(text.contains("row 2, column 1"), "{text}");
    assert!(text.contains("NaN"), "{text}");
}

// ---------------------------------------------------------------------------
// Specs

#[test]
fn unknown_spec_lists_accepted_forms() {
    let text = error_text(load_dataset("cifar-10"));
    assert!(text.contains("\"cifar-10\""), "{text}");
    assert!(text.contains("not a known data set name"), "{text}");
    for form in [
        "`mnist`",
        "`mnist:DIR`",
        "`breast-cancer`",
        "X.npy and y.npy",
        ".csv file",
    ] {
        assert!(text.contains(form), "{form} missing from: {text}");
    }
}

#[test]
fn mnist_spec_without_dir_is_rejected() {
    let text = error_text(load_dataset("mnist:"));
    assert!(
        text.contains("directory after the colon is missing"),
        "{text}"
    );
}

#[test]
fn existing_non_csv_file_is_rejected() {
    let path = temp_dir("spec-txt").join("data.txt");
    std::fs::write(&path, "1,2\n").unwrap();
    let text = error_text(load_dataset(path.to_str().unwrap()));
    assert!(
        text.contains("neither a directory nor a .csv file"),
        "{text}"
    );
}

// ---------------------------------------------------------------------------
// Splitting and standardization

/// 103 rows in 3 classes of 60, 30 and 13 rows. Feature 0 is the row index,
/// so every row of a split can be traced back to the original.
fn indexed_dataset() -> Dataset {
    let labels: Vec<u32> = (0..103)
        .map(|row| {
            if row < 60 {
                0
            } else if row < 90 {
                1
            } else {
                2
            }
        })
        .collect();
    let features: Vec<f32> = (0..103)
        .flat_map(|row| [row as f32, (row % 7) as f32])
        .collect();
    let class_names = vec!["a".to_string(), "b".to_string(), "c".to_string()];
    Dataset::new("indexed", features, 2, labels, class_names).unwrap()
}

fn row_ids(data: &Dataset) -> Vec<usize> {
    (0..data.n_samples())
        .map(|row| data.row(row)[0] as usize)
        .collect()
}

#[test]
fn split_is_deterministic() {
    let data = indexed_dataset();
    let (train_a, test_a) = data.train_test_split(0.25, 11).unwrap();
    let (train_b, test_b) = data.train_test_split(0.25, 11).unwrap();
    assert_eq!(train_a, train_b);
    assert_eq!(test_a, test_b);
    let (_, test_other_seed) = data.train_test_split(0.25, 12).unwrap();
    assert_ne!(row_ids(&test_a), row_ids(&test_other_seed));
}

#[test]
fn split_is_disjoint_and_complete() {
    let data = indexed_dataset();
    let (train, test) = data.train_test_split(0.25, 3).unwrap();
    let train_ids: HashSet<usize> = row_ids(&train).into_iter().collect();
    let test_ids: HashSet<usize> = row_ids(&test).into_iter().collect();
    assert_eq!(
        train_ids.len(),
        train.n_samples(),
        "no row repeats in train"
    );
    assert_eq!(test_ids.len(), test.n_samples(), "no row repeats in test");
    assert!(train_ids.is_disjoint(&test_ids));
    let all: HashSet<usize> = train_ids.union(&test_ids).copied().collect();
    assert_eq!(all, (0..103).collect());
}

#[test]
fn split_keeps_labels_with_rows() {
    let data = indexed_dataset();
    let (train, test) = data.train_test_split(0.3, 5).unwrap();
    for part in [&train, &test] {
        for (row, id) in row_ids(part).into_iter().enumerate() {
            assert_eq!(part.labels()[row], data.labels()[id], "row id {id}");
            assert_eq!(part.row(row), data.row(id));
        }
    }
}

#[test]
fn split_is_stratified() {
    let data = indexed_dataset();
    let (train, test) = data.train_test_split(0.25, 9).unwrap();
    // ceil(0.25 * 103) = 26 test rows, shared 15.15 : 7.57 : 3.28 by class size.
    assert_eq!(test.n_samples(), 26);
    assert_eq!(test.class_counts(), vec![15, 8, 3]);
    assert_eq!(train.class_counts(), vec![45, 22, 10]);
}

#[test]
fn split_of_bundled_mnist_is_balanced() {
    let data = load_mnist_bundled(PixelScale::Raw).unwrap();
    let (train, test) = data.train_test_split(0.2, 0).unwrap();
    assert_eq!(train.class_counts(), vec![400; 10]);
    assert_eq!(test.class_counts(), vec![100; 10]);
}

#[test]
fn shuffled_is_a_permutation() {
    let data = indexed_dataset();
    let shuffled = data.shuffled(21);
    let mut ids = row_ids(&shuffled);
    assert_ne!(ids, (0..103).collect::<Vec<_>>());
    ids.sort_unstable();
    assert_eq!(ids, (0..103).collect::<Vec<_>>());
    assert_eq!(shuffled.class_counts(), data.class_counts());
}

fn column_mean_and_variance(data: &Dataset, column: usize) -> (f64, f64) {
    let values: Vec<f64> = (0..data.n_samples())
        .map(|row| f64::from(data.row(row)[column]))
        .collect();
    let mean = values.iter().sum::<f64>() / values.len() as f64;
    let variance = values
        .iter()
        .map(|value| (value - mean).powi(2))
        .sum::<f64>()
        / values.len() as f64;
    (mean, variance)
}

#[test]
fn standardize_gives_zero_mean_unit_variance() {
    let data = load_breast_cancer().unwrap();
    let (mut train, mut test) = data.train_test_split(0.25, 7).unwrap();
    let statistics = train.fit_standardization();
    train.standardize(&statistics).unwrap();
    test.standardize(&statistics).unwrap();

    // f32 rounding of values up to 4254 (worst area) leaves errors near 1e-7.
    for column in 0..train.n_features() {
        let (mean, variance) = column_mean_and_variance(&train, column);
        assert!(mean.abs() < 1e-5, "column {column}: mean {mean}");
        assert!(
            (variance - 1.0).abs() < 1e-5,
            "column {column}: variance {variance}"
        );
    }
    assert!(test.features().iter().all(|value| value.is_finite()));
}

#[test]
fn standardize_uses_train_statistics_on_test() {
    let data = load_breast_cancer().unwrap();
    let (train, test) = data.train_test_split(0.25, 7).unwrap();
    let statistics = train.fit_standardization();
    let mut standardized = test.clone();
    standardized.standardize(&statistics).unwrap();
    let expected = (test.row(4)[3] - statistics.means[3]) / statistics.stds[3];
    assert!((standardized.row(4)[3] - expected).abs() < 1e-5);
}
