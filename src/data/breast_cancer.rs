//! The Breast Cancer Wisconsin (Diagnostic) data set (Street, Wolberg and
//! Mangasarian, UCI Machine Learning Repository): 569 tumours, 30 features
//! computed from images of cell nuclei, and the diagnosis.
//!
//! The bundled file is `sklearn/datasets/data/breast_cancer.csv` from
//! scikit-learn 1.7.2 (see `assets/README.md`). Its first line gives the row
//! count, the feature count and the class names. Each later line contains
//! the 30 features and then the label. Label 0 is malignant and 1 is benign,
//! the same encoding as scikit-learn's `load_breast_cancer`.

use super::dataset::dataset_error;
use super::Dataset;
use crate::error::Result;

const BUNDLED_BREAST_CANCER: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/assets/breast_cancer.csv"
));

const ORIGIN: &str = "bundled breast_cancer.csv";

/// Loads the bundled breast cancer data: 569 rows of 30 features, with
/// classes `malignant` (label 0, 212 rows) and `benign` (label 1, 357 rows).
pub fn load_breast_cancer() -> Result<Dataset> {
    let text = std::str::from_utf8(BUNDLED_BREAST_CANCER)
        .map_err(|error| dataset_error(ORIGIN, format!("the file is not UTF-8 text ({error})")))?;
    let mut lines = text.lines().filter(|line| !line.trim().is_empty());
    let header = lines
        .next()
        .ok_or_else(|| dataset_error(ORIGIN, "the file is empty"))?;
    let (n_samples, n_features, class_names) = parse_header(header)?;

    let mut features = Vec::with_capacity(n_samples * n_features);
    let mut labels = Vec::with_capacity(n_samples);
    for (index, line) in lines.enumerate() {
        let line_number = index + 2;
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        if fields.len() != n_features + 1 {
            return Err(dataset_error(
                ORIGIN,
                format!(
                    "line {line_number} has {} fields, expected {}",
                    fields.len(),
                    n_features + 1
                ),
            ));
        }
        for field in &fields[..n_features] {
            let value = field.parse::<f32>().map_err(|_| {
                dataset_error(
                    ORIGIN,
                    format!("line {line_number}: feature {field:?} is not a number"),
                )
            })?;
            features.push(value);
        }
        let label = fields[n_features].parse::<u32>().map_err(|_| {
            dataset_error(
                ORIGIN,
                format!(
                    "line {line_number}: label {:?} is not an integer",
                    fields[n_features]
                ),
            )
        })?;
        labels.push(label);
    }

    if labels.len() != n_samples {
        return Err(dataset_error(
            ORIGIN,
            format!(
                "the header promises {n_samples} rows but the file has {}",
                labels.len()
            ),
        ));
    }
    Dataset::new(
        "Breast Cancer Wisconsin (Diagnostic) (bundled from scikit-learn 1.7.2)",
        features,
        n_features,
        labels,
        class_names,
    )
}

/// Parses the first line, `n_samples,n_features,class 0 name,class 1 name,...`.
fn parse_header(header: &str) -> Result<(usize, usize, Vec<String>)> {
    let fields: Vec<&str> = header.split(',').map(str::trim).collect();
    let count = |index: usize, what: &str| -> Result<usize> {
        fields
            .get(index)
            .and_then(|field| field.parse().ok())
            .ok_or_else(|| {
                dataset_error(
                    ORIGIN,
                    format!("the header {header:?} does not give the {what} in field {index}"),
                )
            })
    };
    let n_samples = count(0, "row count")?;
    let n_features = count(1, "feature count")?;
    let class_names = fields[2..].iter().map(|name| name.to_string()).collect();
    Ok((n_samples, n_features, class_names))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_gives_counts_and_classes() {
        let (n_samples, n_features, classes) = parse_header("569,30,malignant,benign").unwrap();
        assert_eq!((n_samples, n_features), (569, 30));
        assert_eq!(classes, vec!["malignant", "benign"]);
    }

    #[test]
    fn header_without_counts_is_rejected() {
        let message = parse_header("radius,texture").unwrap_err().to_string();
        assert!(message.contains("row count"), "{message}");
    }

    #[test]
    fn bundled_file_loads() {
        let data = load_breast_cancer().unwrap();
        assert_eq!(data.n_samples(), 569);
        assert_eq!(data.n_features(), 30);
        assert_eq!(data.row(0)[0], 17.99);
    }
}
