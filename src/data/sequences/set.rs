//! The [`SequenceSet`] type: labelled multivariate sequences of different
//! lengths, whose invariants are checked once, when the set is built.

use std::fmt;

use crate::data::dataset::{dataset_error, validate_classes};
use crate::data::split::stratified_split;
use crate::error::Result;

/// A labelled set of multivariate sequences that may differ in length.
///
/// Sequence `i` has `length(i)` steps of `n_channels()` values each, stored
/// row-major (step by step), so step `t` of channel `c` is
/// `sequence(i)[t * n_channels() + c]`. Every constructor validates the
/// contents, so a `SequenceSet` always has at least one sequence, at least
/// one channel, at least one step per sequence, finite values, and labels
/// below `class_names().len()`. A class may have no sequences (for example
/// after [`SequenceSet::subset`]).
#[derive(Clone, PartialEq)]
pub struct SequenceSet {
    name: String,
    values: Vec<f32>,
    lengths: Vec<usize>,
    /// Offset of each sequence's first value in `values`, plus the total
    /// value count at the end, so sequence `i` is `starts[i]..starts[i + 1]`.
    starts: Vec<usize>,
    n_channels: usize,
    labels: Vec<u32>,
    class_names: Vec<String>,
}

impl SequenceSet {
    /// Creates a set from one row-major `steps x n_channels` vector per
    /// sequence, one label per sequence and the name of each class.
    ///
    /// Returns [`crate::Error::Dataset`] when a sequence's value count is not
    /// a multiple of `n_channels` or is zero (naming the sequence), and in
    /// every case that [`SequenceSet::from_lengths`] rejects.
    pub fn new(
        name: impl Into<String>,
        sequences: Vec<Vec<f32>>,
        n_channels: usize,
        labels: Vec<u32>,
        class_names: Vec<String>,
    ) -> Result<Self> {
        let name = name.into();
        if n_channels == 0 {
            return Err(dataset_error(
                &name,
                "the sequences have no channels; n_channels must be at least 1",
            ));
        }
        let mut lengths = Vec::with_capacity(sequences.len());
        for (index, sequence) in sequences.iter().enumerate() {
            if sequence.len() % n_channels != 0 {
                return Err(dataset_error(
                    &name,
                    format!(
                        "sequence {index} (counting from 0) has {} values, which is not a whole number \
                         of steps of {n_channels} channels",
                        sequence.len()
                    ),
                ));
            }
            lengths.push(sequence.len() / n_channels);
        }
        let values = sequences.concat();
        Self::from_lengths(name, values, &lengths, n_channels, labels, class_names)
    }

    /// Creates a set from all sequences stored back to back in `values`,
    /// with sequence `i` taking the next `lengths[i] * n_channels` values.
    ///
    /// Returns [`crate::Error::Dataset`] in these cases:
    /// - there are no sequences or no channels;
    /// - a sequence has no steps (the message names its index);
    /// - the value count or label count disagrees with `lengths`;
    /// - a value is NaN or infinite (the message names its sequence, step
    ///   and channel);
    /// - a label is not below `class_names.len()`, or class names repeat.
    pub fn from_lengths(
        name: impl Into<String>,
        values: Vec<f32>,
        lengths: &[usize],
        n_channels: usize,
        labels: Vec<u32>,
        class_names: Vec<String>,
    ) -> Result<Self> {
        let name = name.into();
        validate_shape(&name, values.len(), lengths, n_channels, labels.len())?;
        let mut starts = Vec::with_capacity(lengths.len() + 1);
        let mut start = 0;
        for &length in lengths {
            starts.push(start);
            start += length * n_channels;
        }
        starts.push(start);

        let set = Self {
            name,
            values,
            lengths: lengths.to_vec(),
            starts,
            n_channels,
            labels,
            class_names,
        };
        set.validate_values()?;
        validate_classes(&set.name, &set.labels, &set.class_names, "sequence")?;
        Ok(set)
    }

    fn validate_values(&self) -> Result<()> {
        let Some(index) = self.values.iter().position(|value| !value.is_finite()) else {
            return Ok(());
        };
        let sequence = self.starts.partition_point(|&start| start <= index) - 1;
        let offset = index - self.starts[sequence];
        let value = self.values[index];
        let kind = if value.is_nan() {
            "NaN".to_string()
        } else {
            format!("infinite ({value})")
        };
        Err(dataset_error(
            &self.name,
            format!(
                "the value at sequence {sequence}, step {}, channel {} (counting from 0) is {kind}; \
                 remove non-finite values, or load the file with MissingValues::Interpolate \
                 to fill missing ones",
                offset / self.n_channels,
                offset % self.n_channels
            ),
        ))
    }

    /// Name or short description of the data and where it came from.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Number of sequences.
    pub fn n_sequences(&self) -> usize {
        self.lengths.len()
    }

    /// Number of channels (values per step), the same for every sequence.
    pub fn n_channels(&self) -> usize {
        self.n_channels
    }

    /// Number of steps of each sequence.
    pub fn lengths(&self) -> &[usize] {
        &self.lengths
    }

    /// Number of steps of sequence `index`. Panics if `index >= n_sequences()`.
    pub fn length(&self, index: usize) -> usize {
        self.lengths[index]
    }

    /// Number of steps of the longest sequence.
    pub fn max_length(&self) -> usize {
        self.lengths.iter().copied().max().unwrap_or(0)
    }

    /// Number of steps of all sequences together.
    pub fn total_steps(&self) -> usize {
        self.lengths.iter().sum()
    }

    /// Values of sequence `index`, `length(index) x n_channels()` row-major.
    /// Panics if `index >= n_sequences()`.
    pub fn sequence(&self, index: usize) -> &[f32] {
        &self.values[self.starts[index]..self.starts[index + 1]]
    }

    /// All values, sequence after sequence, each row-major.
    pub fn values(&self) -> &[f32] {
        &self.values
    }

    /// Class label of each sequence, in `0..n_classes()`.
    pub fn labels(&self) -> &[u32] {
        &self.labels
    }

    /// Name of each class, indexed by label.
    pub fn class_names(&self) -> &[String] {
        &self.class_names
    }

    /// Number of classes, including classes without sequences.
    pub fn n_classes(&self) -> usize {
        self.class_names.len()
    }

    /// Number of sequences in each class, indexed by label.
    pub fn class_counts(&self) -> Vec<usize> {
        let mut counts = vec![0; self.n_classes()];
        for &label in &self.labels {
            counts[label as usize] += 1;
        }
        counts
    }

    /// Mutable values of sequence `index`, for transforms that keep the
    /// lengths. The caller must keep every value finite.
    pub(super) fn sequence_mut(&mut self, index: usize) -> &mut [f32] {
        &mut self.values[self.starts[index]..self.starts[index + 1]]
    }

    /// Copies the sequences at `indices`, in that order, into a new set with
    /// the same name and classes. Indices may repeat. Returns
    /// [`crate::Error::Dataset`] for an empty list or an index out of range.
    pub fn subset(&self, indices: &[usize]) -> Result<SequenceSet> {
        if indices.is_empty() {
            return Err(dataset_error(
                &self.name,
                "cannot take a subset of zero sequences; give at least one sequence index",
            ));
        }
        if let Some(&bad) = indices.iter().find(|&&index| index >= self.n_sequences()) {
            return Err(dataset_error(
                &self.name,
                format!(
                    "sequence index {bad} is out of range: the set has {} sequences",
                    self.n_sequences()
                ),
            ));
        }
        let sequences = indices
            .iter()
            .map(|&index| self.sequence(index).to_vec())
            .collect();
        let labels = indices.iter().map(|&index| self.labels[index]).collect();
        SequenceSet::new(
            self.name.clone(),
            sequences,
            self.n_channels,
            labels,
            self.class_names.clone(),
        )
    }

    /// Splits the sequences into a training and a test part, stratified by
    /// class, by the same code as [`crate::data::Dataset::train_test_split`].
    ///
    /// The test part has `ceil(test_fraction * n_sequences())` sequences,
    /// shared among the classes in proportion to their sizes. The same seed
    /// always gives the same split, and both parts keep the original order.
    /// Returns [`crate::Error::InvalidArgument`] unless `0 < test_fraction < 1`
    /// and both parts get at least one sequence.
    pub fn train_test_split(
        &self,
        test_fraction: f64,
        seed: u64,
    ) -> Result<(SequenceSet, SequenceSet)> {
        let (train, test) = stratified_split(&self.labels, self.n_classes(), test_fraction, seed)?;
        Ok((self.subset(&train)?, self.subset(&test)?))
    }
}

fn validate_shape(
    name: &str,
    n_values: usize,
    lengths: &[usize],
    n_channels: usize,
    n_labels: usize,
) -> Result<()> {
    if lengths.is_empty() {
        return Err(dataset_error(name, "the set is empty: it has no sequences"));
    }
    if n_channels == 0 {
        return Err(dataset_error(
            name,
            "the sequences have no channels; n_channels must be at least 1",
        ));
    }
    if let Some(index) = lengths.iter().position(|&length| length == 0) {
        return Err(dataset_error(
            name,
            format!("sequence {index} (counting from 0) has no steps; every sequence needs at least one step"),
        ));
    }
    if n_labels != lengths.len() {
        return Err(dataset_error(
            name,
            format!(
                "there are {} sequences but {n_labels} labels; give exactly one label per sequence",
                lengths.len()
            ),
        ));
    }
    let total_steps: u128 = lengths.iter().map(|&length| length as u128).sum();
    let expected_values = total_steps * n_channels as u128;
    if expected_values != n_values as u128 {
        return Err(dataset_error(
            name,
            format!("{total_steps} steps of {n_channels} channels need {expected_values} values, but {n_values} were given"),
        ));
    }
    Ok(())
}

impl fmt::Debug for SequenceSet {
    /// Prints the name, shape and classes, but not the values.
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("SequenceSet")
            .field("name", &self.name)
            .field("n_sequences", &self.n_sequences())
            .field("n_channels", &self.n_channels)
            .field("max_length", &self.max_length())
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

    /// Three sequences of two channels with 1, 3 and 2 steps.
    fn small() -> SequenceSet {
        let sequences = vec![
            vec![1.0, 2.0],
            vec![3.0, 4.0, 5.0, 6.0, 7.0, 8.0],
            vec![9.0, 10.0, 11.0, 12.0],
        ];
        SequenceSet::new("small", sequences, 2, vec![0, 1, 1], names(2)).unwrap()
    }

    fn message(result: Result<SequenceSet>) -> String {
        result.unwrap_err().to_string()
    }

    #[test]
    fn accessors_report_shape() {
        let set = small();
        assert_eq!(set.n_sequences(), 3);
        assert_eq!(set.n_channels(), 2);
        assert_eq!(set.lengths(), &[1, 3, 2]);
        assert_eq!(set.length(1), 3);
        assert_eq!(set.max_length(), 3);
        assert_eq!(set.total_steps(), 6);
        assert_eq!(set.sequence(2), &[9.0, 10.0, 11.0, 12.0]);
        assert_eq!(set.class_counts(), vec![1, 2]);
    }

    #[test]
    fn from_lengths_matches_new() {
        let values: Vec<f32> = (1..=12).map(|value| value as f32).collect();
        let set =
            SequenceSet::from_lengths("small", values, &[1, 3, 2], 2, vec![0, 1, 1], names(2))
                .unwrap();
        assert_eq!(set, small());
    }

    #[test]
    fn zero_length_sequence_names_index() {
        let sequences = vec![vec![1.0], vec![], vec![2.0]];
        let text = message(SequenceSet::new(
            "gap",
            sequences,
            1,
            vec![0, 0, 0],
            names(1),
        ));
        assert!(
            text.contains("sequence 1 (counting from 0) has no steps"),
            "{text}"
        );
    }

    #[test]
    fn partial_step_is_rejected() {
        let sequences = vec![vec![1.0, 2.0], vec![1.0, 2.0, 3.0]];
        let text = message(SequenceSet::new("odd", sequences, 2, vec![0, 0], names(1)));
        assert!(text.contains("sequence 1"), "{text}");
        assert!(text.contains("not a whole number of steps"), "{text}");
    }

    #[test]
    fn empty_set_is_rejected() {
        let text = message(SequenceSet::new("none", vec![], 1, vec![], names(1)));
        assert!(text.contains("no sequences"), "{text}");
    }

    #[test]
    fn label_count_must_match() {
        let text = message(SequenceSet::new(
            "labels",
            vec![vec![1.0]],
            1,
            vec![0, 0],
            names(1),
        ));
        assert!(text.contains("1 sequences but 2 labels"), "{text}");
    }

    #[test]
    fn nan_names_sequence_step_channel() {
        let mut sequences = vec![vec![0.0; 4], vec![0.0; 6]];
        sequences[1][5] = f32::NAN;
        let text = message(SequenceSet::new("nan", sequences, 2, vec![0, 0], names(1)));
        assert!(text.contains("sequence 1, step 2, channel 1"), "{text}");
        assert!(text.contains("NaN"), "{text}");
    }

    #[test]
    fn infinity_names_sequence_step_channel() {
        let mut sequences = vec![vec![0.0; 4], vec![0.0; 6]];
        sequences[0][2] = f32::INFINITY;
        let text = message(SequenceSet::new("inf", sequences, 2, vec![0, 0], names(1)));
        assert!(text.contains("sequence 0, step 1, channel 0"), "{text}");
        assert!(text.contains("infinite"), "{text}");
    }

    #[test]
    fn label_out_of_range_names_sequence() {
        let text = message(SequenceSet::new(
            "labels",
            vec![vec![1.0], vec![2.0]],
            1,
            vec![0, 3],
            names(2),
        ));
        assert!(text.contains("label at sequence 1"), "{text}");
    }

    #[test]
    fn subset_copies_in_order() {
        let part = small().subset(&[2, 0, 2]).unwrap();
        assert_eq!(part.lengths(), &[2, 1, 2]);
        assert_eq!(part.sequence(1), &[1.0, 2.0]);
        assert_eq!(part.labels(), &[1, 0, 1]);
        assert_eq!(part.class_names(), small().class_names());
    }

    #[test]
    fn subset_rejects_bad_indices() {
        let text = message(small().subset(&[3]));
        assert!(text.contains("sequence index 3 is out of range"), "{text}");
        let text = message(small().subset(&[]));
        assert!(text.contains("zero sequences"), "{text}");
    }

    #[test]
    fn split_is_stratified_and_seeded() {
        let sequences = (0..20)
            .map(|index| vec![index as f32; index % 3 + 1])
            .collect();
        let labels = (0..20).map(|index| u32::from(index >= 5)).collect();
        let set = SequenceSet::new("split", sequences, 1, labels, names(2)).unwrap();

        let (train, test) = set.train_test_split(0.2, 7).unwrap();
        assert_eq!(test.class_counts(), vec![1, 3]);
        assert_eq!(train.class_counts(), vec![4, 12]);
        let (train_again, test_again) = set.train_test_split(0.2, 7).unwrap();
        assert_eq!(train, train_again);
        assert_eq!(test, test_again);
    }
}
