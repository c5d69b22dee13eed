//! The [`Dataset`] type: a labelled feature matrix whose invariants are
//! checked once, when it is built.

use std::collections::HashSet;
use std::fmt;

use crate::error::{Error, Result};

/// A labelled classification data set: `n_samples` rows of `n_features`
/// values each, and one class label per row.
///
/// Every constructor validates the contents, so a `Dataset` always has at
/// least one row and one feature, finite feature values, and labels below
/// `class_names.len()`. A class may have no rows (for example after
/// [`Dataset::subset`]).
#[derive(Clone, PartialEq)]
pub struct Dataset {
    name: String,
    features: Vec<f32>,
    n_samples: usize,
    n_features: usize,
    labels: Vec<u32>,
    class_names: Vec<String>,
}

/// Builds an [`Error::Dataset`] for `origin`.
pub(crate) fn dataset_error(origin: impl fmt::Display, message: impl Into<String>) -> Error {
    Error::Dataset {
        origin: origin.to_string(),
        message: message.into(),
    }
}

/// Checks that `class_names` is non-empty and has no repeats, and that every
/// label is below its length. Errors name `origin`, and `item` is the word
/// for one labelled element in them, such as "row" or "sequence".
pub(crate) fn validate_classes(
    origin: &str,
    labels: &[u32],
    class_names: &[String],
    item: &str,
) -> Result<()> {
    let n_classes = class_names.len();
    if n_classes == 0 {
        return Err(dataset_error(
            origin,
            "the data set has no class names; give one name per class",
        ));
    }
    let mut seen = HashSet::with_capacity(n_classes);
    if let Some(repeated) = class_names
        .iter()
        .find(|class_name| !seen.insert(class_name.as_str()))
    {
        return Err(dataset_error(
            origin,
            format!(
                "the class name {repeated:?} appears more than once; class names must be distinct"
            ),
        ));
    }
    if let Some(index) = labels.iter().position(|&label| label as usize >= n_classes) {
        return Err(dataset_error(
            origin,
            format!(
                "the label at {item} {index} (counting from 0) is {}, but there are only {n_classes} classes, \
                 so labels must be in 0..{n_classes}",
                labels[index]
            ),
        ));
    }
    Ok(())
}

impl Dataset {
    /// Creates a data set from row-major `features` (`labels.len()` rows of
    /// `n_features` values), one label per row and the name of each class.
    ///
    /// Returns [`Error::Dataset`] when there are no rows or no features, when
    /// the lengths disagree, when a feature is NaN or infinite (naming its row
    /// and column), when a label is not below `class_names.len()`, or when
    /// class names repeat.
    pub fn new(
        name: impl Into<String>,
        features: Vec<f32>,
        n_features: usize,
        labels: Vec<u32>,
        class_names: Vec<String>,
    ) -> Result<Self> {
        let dataset = Self {
            name: name.into(),
            n_samples: labels.len(),
            features,
            n_features,
            labels,
            class_names,
        };
        dataset.validate_shape()?;
        dataset.validate_features()?;
        dataset.validate_classes()?;
        Ok(dataset)
    }

    fn validate_shape(&self) -> Result<()> {
        if self.n_samples == 0 {
            return Err(dataset_error(
                &self.name,
                "the data set is empty: it has no rows (samples)",
            ));
        }
        if self.n_features == 0 {
            return Err(dataset_error(
                &self.name,
                "the data set has no feature columns",
            ));
        }
        let expected = self.n_samples.checked_mul(self.n_features);
        if expected != Some(self.features.len()) {
            return Err(dataset_error(
                &self.name,
                format!(
                    "{} labels and {} features per row need {} feature values, but {} were given",
                    self.n_samples,
                    self.n_features,
                    self.n_samples as u128 * self.n_features as u128,
                    self.features.len()
                ),
            ));
        }
        Ok(())
    }

    fn validate_features(&self) -> Result<()> {
        let Some(index) = self.features.iter().position(|value| !value.is_finite()) else {
            return Ok(());
        };
        let value = self.features[index];
        let kind = if value.is_nan() {
            "NaN".to_string()
        } else {
            format!("infinite ({value})")
        };
        Err(dataset_error(
            &self.name,
            format!(
                "the feature at row {}, column {} (counting from 0) is {kind}; \
                 remove or impute missing and non-finite values first",
                index / self.n_features,
                index % self.n_features
            ),
        ))
    }

    fn validate_classes(&self) -> Result<()> {
        validate_classes(&self.name, &self.labels, &self.class_names, "row")
    }

    /// Name or short description of the data and where it came from.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Feature values, row-major: row `i` is `features()[i * n_features() ..][.. n_features()]`.
    pub fn features(&self) -> &[f32] {
        &self.features
    }

    /// Number of rows (samples).
    pub fn n_samples(&self) -> usize {
        self.n_samples
    }

    /// Number of features per row.
    pub fn n_features(&self) -> usize {
        self.n_features
    }

    /// Class label of each row, in `0..n_classes()`.
    pub fn labels(&self) -> &[u32] {
        &self.labels
    }

    /// Name of each class, indexed by label.
    pub fn class_names(&self) -> &[String] {
        &self.class_names
    }

    /// Number of classes, including classes without rows.
    pub fn n_classes(&self) -> usize {
        self.class_names.len()
    }

    /// Feature values of row `index`. Panics if `index >= n_samples()`.
    pub fn row(&self, index: usize) -> &[f32] {
        &self.features[index * self.n_features..(index + 1) * self.n_features]
    }

    /// Consumes the data set and returns `(features, labels, class_names)`.
    pub fn into_parts(self) -> (Vec<f32>, Vec<u32>, Vec<String>) {
        (self.features, self.labels, self.class_names)
    }

    /// Number of rows in each class, indexed by label.
    pub fn class_counts(&self) -> Vec<usize> {
        let mut counts = vec![0; self.n_classes()];
        for &label in &self.labels {
            counts[label as usize] += 1;
        }
        counts
    }

    /// Copies the rows at `indices`, in that order, into a new data set with
    /// the same name and classes. Indices may repeat (as in a bootstrap
    /// sample). Returns [`Error::Dataset`] for an empty list or an index out
    /// of range.
    pub fn subset(&self, indices: &[usize]) -> Result<Dataset> {
        if indices.is_empty() {
            return Err(dataset_error(
                &self.name,
                "cannot take a subset of zero rows; give at least one row index",
            ));
        }
        if let Some(&bad) = indices.iter().find(|&&index| index >= self.n_samples) {
            return Err(dataset_error(
                &self.name,
                format!(
                    "row index {bad} is out of range: the data set has {} rows",
                    self.n_samples
                ),
            ));
        }
        let mut features = Vec::with_capacity(indices.len() * self.n_features);
        for &index in indices {
            features.extend_from_slice(self.row(index));
        }
        Ok(Dataset {
            name: self.name.clone(),
            features,
            n_samples: indices.len(),
            n_features: self.n_features,
            labels: indices.iter().map(|&index| self.labels[index]).collect(),
            class_names: self.class_names.clone(),
        })
    }

    /// Multiplies every feature value by `factor`, for example `1.0 / 255.0`
    /// to bring 8-bit pixels into [0, 1]. Returns [`Error::InvalidArgument`]
    /// for a non-finite factor and [`Error::Dataset`] if a product overflows
    /// f32, in which case the data set is left unchanged.
    pub fn scale(&mut self, factor: f32) -> Result<()> {
        if !factor.is_finite() {
            return Err(Error::InvalidArgument {
                name: "factor",
                value: factor.to_string(),
                expected: "a finite number".into(),
            });
        }
        let scaled = self.features.iter().map(|&value| value * factor).collect();
        self.replace_features(scaled, &format!("scaling by {factor}"))
    }

    /// Replaces the feature values with the output of `operation`, which
    /// keeps the shape. Returns [`Error::Dataset`] and keeps the old values
    /// if an output value is not finite.
    pub(crate) fn replace_features(&mut self, features: Vec<f32>, operation: &str) -> Result<()> {
        debug_assert_eq!(features.len(), self.features.len());
        if let Some(index) = features.iter().position(|value| !value.is_finite()) {
            return Err(dataset_error(
                &self.name,
                format!(
                    "{operation} overflows f32 at row {}, column {} (counting from 0, input value {})",
                    index / self.n_features,
                    index % self.n_features,
                    self.features[index]
                ),
            ));
        }
        self.features = features;
        Ok(())
    }
}

impl fmt::Debug for Dataset {
    /// Prints the name, shape and classes, but not the values, which can
    /// number in the millions.
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("Dataset")
            .field("name", &self.name)
            .field("n_samples", &self.n_samples)
            .field("n_features", &self.n_features)
            .field("class_names", &self.class_names)
            .field("class_counts", &self.class_counts())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(count: usize) -> Vec<String> {
        (0..count).map(|class| format!("class {class}")).collect()
    }

    fn small() -> Dataset {
        let features = vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        Dataset::new("small", features, 2, vec![0, 1, 1], names(2)).unwrap()
    }

    fn message(result: Result<Dataset>) -> String {
        result.unwrap_err().to_string()
    }

    #[test]
    fn new_reports_shape() {
        let data = small();
        assert_eq!(data.n_samples(), 3);
        assert_eq!(data.n_features(), 2);
        assert_eq!(data.row(1), &[3.0, 4.0]);
        assert_eq!(data.class_counts(), vec![1, 2]);
    }

    #[test]
    fn new_rejects_empty_data() {
        let text = message(Dataset::new("empty", vec![], 3, vec![], names(2)));
        assert!(text.contains("no rows"), "{text}");
    }

    #[test]
    fn new_rejects_zero_features() {
        let text = message(Dataset::new("flat", vec![], 0, vec![0], names(1)));
        assert!(text.contains("no feature columns"), "{text}");
    }

    #[test]
    fn new_rejects_wrong_length() {
        let text = message(Dataset::new(
            "short",
            vec![0.0; 5],
            2,
            vec![0, 0, 0],
            names(1),
        ));
        assert!(
            text.contains("need 6 feature values, but 5 were given"),
            "{text}"
        );
    }

    #[test]
    fn new_names_row_and_column_of_nan() {
        let mut features = vec![0.0; 6];
        features[3] = f32::NAN;
        let text = message(Dataset::new("gaps", features, 2, vec![0, 0, 0], names(1)));
        assert!(text.contains("row 1, column 1"), "{text}");
        assert!(text.contains("NaN"), "{text}");
    }

    #[test]
    fn new_names_row_and_column_of_infinity() {
        let mut features = vec![0.0; 6];
        features[4] = f32::NEG_INFINITY;
        let text = message(Dataset::new("huge", features, 2, vec![0, 0, 0], names(1)));
        assert!(text.contains("row 2, column 0"), "{text}");
        assert!(text.contains("infinite"), "{text}");
    }

    #[test]
    fn new_rejects_label_out_of_range() {
        let text = message(Dataset::new(
            "labels",
            vec![0.0; 3],
            1,
            vec![0, 2, 1],
            names(2),
        ));
        assert!(text.contains("row 1"), "{text}");
        assert!(text.contains("labels must be in 0..2"), "{text}");
    }

    #[test]
    fn new_rejects_missing_class_names() {
        let text = message(Dataset::new("classes", vec![0.0], 1, vec![0], vec![]));
        assert!(text.contains("no class names"), "{text}");
    }

    #[test]
    fn new_rejects_repeated_class_names() {
        let classes = vec!["cat".to_string(), "dog".to_string(), "cat".to_string()];
        let text = message(Dataset::new("classes", vec![0.0], 1, vec![0], classes));
        assert!(text.contains("\"cat\" appears more than once"), "{text}");
    }

    #[test]
    fn subset_copies_rows_in_order() {
        let part = small().subset(&[2, 0, 2]).unwrap();
        assert_eq!(part.features(), &[5.0, 6.0, 1.0, 2.0, 5.0, 6.0]);
        assert_eq!(part.labels(), &[1, 0, 1]);
        assert_eq!(part.class_names(), small().class_names());
    }

    #[test]
    fn subset_rejects_bad_indices() {
        let data = small();
        let text = message(data.subset(&[0, 3]));
        assert!(text.contains("row index 3 is out of range"), "{text}");
        let text = message(data.subset(&[]));
        assert!(text.contains("zero rows"), "{text}");
    }

    #[test]
    fn scale_multiplies_every_value() {
        let mut data = small();
        data.scale(0.5).unwrap();
        assert_eq!(data.features(), &[0.5, 1.0, 1.5, 2.0, 2.5, 3.0]);
    }

    #[test]
    fn scale_rejects_overflow_and_keeps_data() {
        let mut data = small();
        let text = data.scale(f32::MAX).unwrap_err().to_string();
        assert!(text.contains("overflows"), "{text}");
        assert_eq!(data, small());
        let text = data.scale(f32::NAN).unwrap_err().to_string();
        assert!(text.contains("finite"), "{text}");
    }
}
