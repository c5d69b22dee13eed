//! Seeded shuffles and a stratified train/test split, drawn from Philox
//! streams so that a seed gives the same rows on every platform.

use crate::error::{Error, Result};
use crate::random::PhiloxStream;

use super::Dataset;

/// Stream id of the whole-data-set shuffle in [`Dataset::shuffled`]. The
/// split uses stream `c` for class `c`, so this id sits far above any class.
const SHUFFLE_STREAM: u64 = u64::MAX;

/// Maps a 64-bit random word to a uniform integer in `0..bound` by the
/// multiply-shift method. The bias is at most `bound / 2^64`, far below
/// anything a sample of rows could show.
fn below(word: u64, bound: usize) -> usize {
    ((u128::from(word) * bound as u128) >> 64) as usize
}

/// Shuffles `items` in place by Fisher-Yates, taking two words of `stream`
/// per swap.
pub(crate) fn shuffle<T>(items: &mut [T], stream: PhiloxStream) {
    let words = stream.bits(0, 2 * items.len());
    for position in (1..items.len()).rev() {
        let word = u64::from(words[2 * position]) | (u64::from(words[2 * position + 1]) << 32);
        items.swap(position, below(word, position + 1));
    }
}

/// Splits `test_total` test rows among classes in proportion to `counts`.
/// Each class gets the floor of its exact share, and the rows left over go
/// one each to the classes with the largest remainders (lower label first
/// on ties). No class gets more rows than it has, because `test_total` is
/// below the total count.
fn test_rows_per_class(counts: &[usize], test_total: usize) -> Vec<usize> {
    let total: usize = counts.iter().sum();
    let mut quotas: Vec<usize> = counts
        .iter()
        .map(|&count| test_total * count / total)
        .collect();
    let mut remainders: Vec<(usize, usize)> = counts
        .iter()
        .enumerate()
        .map(|(class, &count)| (test_total * count % total, class))
        .collect();
    remainders.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));

    let leftover = test_total - quotas.iter().sum::<usize>();
    for &(_, class) in remainders.iter().take(leftover) {
        quotas[class] += 1;
    }
    quotas
}

fn validate_test_fraction(test_fraction: f64, n_samples: usize) -> Result<usize> {
    let invalid = |expected: String| Error::InvalidArgument {
        name: "test_fraction",
        value: test_fraction.to_string(),
        expected,
    };
    if !(test_fraction > 0.0 && test_fraction < 1.0) {
        return Err(invalid(
            "a fraction strictly between 0 and 1, such as 0.2".into(),
        ));
    }
    let test_total = (test_fraction * n_samples as f64).ceil() as usize;
    if test_total >= n_samples {
        return Err(invalid(format!(
            "a fraction that leaves at least one of the {n_samples} rows for training"
        )));
    }
    Ok(test_total)
}

/// Splits the items with class `labels` into training and test indices,
/// stratified by class, for [`Dataset::train_test_split`] and the split of
/// sequence sets. Both index lists are sorted.
///
/// The test part has `ceil(test_fraction * labels.len())` items, shared
/// among the classes in proportion to their sizes. The test items of class
/// `c` are drawn from the Philox stream (`seed`, `c`). Returns
/// [`Error::InvalidArgument`] unless `0 < test_fraction < 1` and both parts
/// get at least one item.
pub(crate) fn stratified_split(
    labels: &[u32],
    n_classes: usize,
    test_fraction: f64,
    seed: u64,
) -> Result<(Vec<usize>, Vec<usize>)> {
    let test_total = validate_test_fraction(test_fraction, labels.len())?;
    let mut rows_by_class = vec![Vec::new(); n_classes];
    for (row, &label) in labels.iter().enumerate() {
        rows_by_class[label as usize].push(row);
    }
    let counts: Vec<usize> = rows_by_class.iter().map(Vec::len).collect();
    let quotas = test_rows_per_class(&counts, test_total);

    let mut train_rows = Vec::with_capacity(labels.len() - test_total);
    let mut test_rows = Vec::with_capacity(test_total);
    for (class, rows) in rows_by_class.iter_mut().enumerate() {
        shuffle(rows, PhiloxStream::new(seed, class as u64));
        test_rows.extend_from_slice(&rows[..quotas[class]]);
        train_rows.extend_from_slice(&rows[quotas[class]..]);
    }
    train_rows.sort_unstable();
    test_rows.sort_unstable();
    Ok((train_rows, test_rows))
}

impl Dataset {
    /// Splits the rows into a training and a test part, stratified by class.
    ///
    /// The test part has `ceil(test_fraction * n_samples)` rows, as in
    /// scikit-learn's `train_test_split`, shared among the classes in
    /// proportion to their sizes. Which rows of a class go to the test part
    /// is drawn from the Philox stream (`seed`, class label). The same seed
    /// always gives the same split, and both parts keep the original row
    /// order. Returns [`Error::InvalidArgument`] unless `0 < test_fraction < 1`
    /// and both parts get at least one row.
    pub fn train_test_split(&self, test_fraction: f64, seed: u64) -> Result<(Dataset, Dataset)> {
        let (train_rows, test_rows) =
            stratified_split(self.labels(), self.n_classes(), test_fraction, seed)?;
        Ok((self.subset(&train_rows)?, self.subset(&test_rows)?))
    }

    /// Returns a copy with the rows in a random order drawn from `seed`.
    /// Useful before taking a prefix of a file that is sorted by class, such
    /// as the bundled MNIST subset.
    pub fn shuffled(&self, seed: u64) -> Dataset {
        let mut rows: Vec<usize> = (0..self.n_samples()).collect();
        shuffle(&mut rows, PhiloxStream::new(seed, SHUFFLE_STREAM));
        self.subset(&rows)
            .expect("a permutation of the rows is a valid subset")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotas_follow_class_sizes() {
        assert_eq!(test_rows_per_class(&[500, 500], 200), vec![100, 100]);
        assert_eq!(test_rows_per_class(&[212, 357], 114), vec![42, 72]);
        assert_eq!(test_rows_per_class(&[1, 1, 1], 2), vec![1, 1, 0]);
        assert_eq!(test_rows_per_class(&[0, 4], 1), vec![0, 1]);
    }

    #[test]
    fn quotas_sum_to_test_total() {
        let counts = [7, 1, 13, 2, 0, 29];
        for test_total in 1..52 {
            let quotas = test_rows_per_class(&counts, test_total);
            assert_eq!(
                quotas.iter().sum::<usize>(),
                test_total,
                "test_total {test_total}"
            );
            for (quota, count) in quotas.iter().zip(counts) {
                assert!(
                    *quota <= count,
                    "test_total {test_total}: quota {quota} of {count}"
                );
            }
        }
    }

    #[test]
    fn shuffle_is_a_seeded_permutation() {
        let mut first: Vec<usize> = (0..100).collect();
        let mut second = first.clone();
        shuffle(&mut first, PhiloxStream::new(5, 0));
        shuffle(&mut second, PhiloxStream::new(5, 0));
        assert_eq!(first, second);
        assert_ne!(first, (0..100).collect::<Vec<_>>());
        let mut sorted = first.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..100).collect::<Vec<_>>());
    }

    #[test]
    fn below_stays_in_range() {
        assert_eq!(below(0, 7), 0);
        assert_eq!(below(u64::MAX, 7), 6);
        assert_eq!(below(u64::MAX / 2, 2), 0);
        assert_eq!(below(u64::MAX / 2 + 1, 2), 1);
    }

    #[test]
    fn fraction_outside_open_interval_is_rejected() {
        for fraction in [0.0, 1.0, -0.5, f64::NAN] {
            let message = validate_test_fraction(fraction, 10)
                .unwrap_err()
                .to_string();
            assert!(
                message.contains("strictly between 0 and 1"),
                "{fraction}: {message}"
            );
        }
        let message = validate_test_fraction(0.99, 10).unwrap_err().to_string();
        assert!(message.contains("at least one of the 10 rows"), "{message}");
    }
}
