//! Per-feature standardization (z-scores): fit the means and standard
//! deviations on the training rows, then apply the same values to every part.

use crate::error::{Error, Result};

use super::Dataset;

/// Per-feature means and standard deviations, as fitted by
/// [`Dataset::fit_standardization`].
#[derive(Debug, Clone, PartialEq)]
pub struct Standardization {
    /// Mean of each feature.
    pub means: Vec<f32>,
    /// Population standard deviation (divisor n) of each feature, or 1 for
    /// a feature that is constant on the fitted rows.
    pub stds: Vec<f32>,
}

impl Dataset {
    /// Computes each feature's mean and population standard deviation over
    /// all rows, accumulating in f64.
    ///
    /// A constant feature gets a standard deviation of 1, so standardizing
    /// only centers it, as scikit-learn's `StandardScaler` does.
    pub fn fit_standardization(&self) -> Standardization {
        let n_features = self.n_features();
        let n_samples = self.n_samples() as f64;

        let mut sums = vec![0.0f64; n_features];
        for row in self.features().chunks_exact(n_features) {
            for (sum, &value) in sums.iter_mut().zip(row) {
                *sum += f64::from(value);
            }
        }
        let means: Vec<f64> = sums.iter().map(|sum| sum / n_samples).collect();

        let mut squares = vec![0.0f64; n_features];
        for row in self.features().chunks_exact(n_features) {
            for ((square, &value), mean) in squares.iter_mut().zip(row).zip(&means) {
                *square += (f64::from(value) - mean).powi(2);
            }
        }
        let stds = squares
            .iter()
            .map(|square| {
                let std = (square / n_samples).sqrt() as f32;
                if std > 0.0 {
                    std
                } else {
                    1.0
                }
            })
            .collect();

        Standardization {
            means: means.into_iter().map(|mean| mean as f32).collect(),
            stds,
        }
    }

    /// Replaces each value `x` of feature `j` by `(x - means[j]) / stds[j]`.
    ///
    /// Fit the statistics on the training part and apply them to both parts,
    /// so that no test values leak into the fitted statistics. Returns
    /// [`Error::ShapeMismatch`] when the lengths differ from `n_features()`,
    /// [`Error::InvalidArgument`] for a non-finite mean or a standard
    /// deviation that is not positive and finite, and [`Error::Dataset`] if a
    /// result overflows f32. On error the data set is unchanged.
    pub fn standardize(&mut self, statistics: &Standardization) -> Result<()> {
        self.validate_standardization(statistics)?;
        let n_features = self.n_features();
        let standardized: Vec<f32> = self
            .features()
            .iter()
            .enumerate()
            .map(|(index, &value)| {
                let column = index % n_features;
                ((f64::from(value) - f64::from(statistics.means[column]))
                    / f64::from(statistics.stds[column])) as f32
            })
            .collect();
        self.replace_features(standardized, "standardizing")
    }

    fn validate_standardization(&self, statistics: &Standardization) -> Result<()> {
        let n_features = self.n_features();
        if statistics.means.len() != n_features || statistics.stds.len() != n_features {
            return Err(Error::ShapeMismatch {
                operation: "standardize",
                message: format!(
                    "the data set has {n_features} features but the statistics have {} means and {} standard deviations",
                    statistics.means.len(),
                    statistics.stds.len()
                ),
            });
        }
        if let Some(column) = statistics.means.iter().position(|mean| !mean.is_finite()) {
            return Err(Error::InvalidArgument {
                name: "means",
                value: format!("{} at column {column}", statistics.means[column]),
                expected: "finite means".into(),
            });
        }
        if let Some(column) = statistics
            .stds
            .iter()
            .position(|std| !(std.is_finite() && *std > 0.0))
        {
            return Err(Error::InvalidArgument {
                name: "stds",
                value: format!("{} at column {column}", statistics.stds[column]),
                expected: "positive, finite standard deviations".into(),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn two_columns() -> Dataset {
        // Column 0 is 1, 2, 3, 4 and column 1 is constant.
        let features = vec![1.0, 7.0, 2.0, 7.0, 3.0, 7.0, 4.0, 7.0];
        Dataset::new("two columns", features, 2, vec![0; 4], vec!["only".into()]).unwrap()
    }

    #[test]
    fn fit_uses_population_std() {
        let statistics = two_columns().fit_standardization();
        assert_eq!(statistics.means, vec![2.5, 7.0]);
        assert!(
            (statistics.stds[0] - 1.25f32.sqrt()).abs() < 1e-6,
            "{:?}",
            statistics.stds
        );
    }

    #[test]
    fn fit_sets_unit_std_for_constant_feature() {
        let statistics = two_columns().fit_standardization();
        assert_eq!(statistics.stds[1], 1.0);
    }

    #[test]
    fn standardize_centers_and_scales() {
        let mut data = two_columns();
        let statistics = data.fit_standardization();
        data.standardize(&statistics).unwrap();
        let column0: Vec<f32> = data.features().iter().step_by(2).copied().collect();
        let expected = [-1.5, -0.5, 0.5, 1.5].map(|x: f32| x / 1.25f32.sqrt());
        for (got, want) in column0.iter().zip(expected) {
            assert!((got - want).abs() < 1e-6, "{column0:?}");
        }
        assert!(data.features().iter().skip(1).step_by(2).all(|&x| x == 0.0));
    }

    #[test]
    fn standardize_rejects_wrong_length() {
        let mut data = two_columns();
        let statistics = Standardization {
            means: vec![0.0],
            stds: vec![1.0],
        };
        let message = data.standardize(&statistics).unwrap_err().to_string();
        assert!(
            message.contains("2 features but the statistics have 1 means"),
            "{message}"
        );
    }

    #[test]
    fn standardize_rejects_zero_std() {
        let mut data = two_columns();
        let statistics = Standardization {
            means: vec![0.0, 0.0],
            stds: vec![1.0, 0.0],
        };
        let message = data.standardize(&statistics).unwrap_err().to_string();
        assert!(message.contains("0 at column 1"), "{message}");
        assert_eq!(data, two_columns());
    }

    #[test]
    fn standardize_rejects_overflow_and_keeps_data() {
        let mut data = two_columns();
        let statistics = Standardization {
            means: vec![0.0, 0.0],
            stds: vec![1e-39, 1.0],
        };
        let message = data.standardize(&statistics).unwrap_err().to_string();
        assert!(
            message.contains("standardizing overflows f32 at row 0, column 0"),
            "{message}"
        );
        assert_eq!(data, two_columns());
    }
}
