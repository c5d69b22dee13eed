//! Preprocessing of sequence sets as in the MASK study: l2 normalization,
//! random deletion of steps, and zero padding for fixed-length baselines.

use super::SequenceSet;
use crate::data::dataset::dataset_error;
use crate::data::split::shuffle;
use crate::data::Dataset;
use crate::error::{Error, Result};
use crate::random::PhiloxStream;

/// Added to the sequence index to get the Philox stream id of that
/// sequence's deletions. It keeps these streams apart from those of the
/// train/test split (the class labels) and of [`super::generate_ode`]
/// (below 2^33), so reusing one seed for all three draws unrelated numbers.
const DELETION_STREAM_BASE: u64 = 1 << 40;
/// Philox stream ids of `drop_steps_independently`, one per sequence.
const INDEPENDENT_DELETION_STREAM_BASE: u64 = 1 << 41;

impl SequenceSet {
    /// Euclidean norm of each sequence over all its steps and channels,
    /// computed in f64.
    pub fn l2_norms(&self) -> Vec<f64> {
        (0..self.n_sequences())
            .map(|index| {
                let sum: f64 = self
                    .sequence(index)
                    .iter()
                    .map(|&value| f64::from(value).powi(2))
                    .sum();
                sum.sqrt()
            })
            .collect()
    }

    /// Divides each sequence by its own l2 norm (over all steps and
    /// channels), so every sequence has unit norm. Returns
    /// [`crate::Error::Dataset`] naming the first sequence whose values are
    /// all zero, in which case the set is left unchanged.
    pub fn normalize_unit_l2(&mut self) -> Result<()> {
        let norms = self.l2_norms();
        if let Some(index) = norms.iter().position(|&norm| norm == 0.0) {
            return Err(dataset_error(
                self.name(),
                format!(
                    "sequence {index} (counting from 0) is all zeros, so it cannot be scaled to unit l2 norm; \
                     remove it first"
                ),
            ));
        }
        for (index, norm) in norms.into_iter().enumerate() {
            for value in self.sequence_mut(index) {
                *value = (f64::from(*value) / norm) as f32;
            }
        }
        Ok(())
    }

    /// Divides every sequence by the largest l2 norm in the set, so that
    /// norm becomes 1 and the ratios between norms stay. Returns the largest
    /// norm. Returns [`crate::Error::Dataset`] when
    /// every value of the set is zero.
    pub fn scale_by_max_norm(&mut self) -> Result<f64> {
        let max_norm = self.l2_norms().into_iter().fold(0.0, f64::max);
        if max_norm == 0.0 {
            return Err(dataset_error(
                self.name(),
                "every value is zero, so there is no largest norm to divide by",
            ));
        }
        for index in 0..self.n_sequences() {
            for value in self.sequence_mut(index) {
                *value = (f64::from(*value) / max_norm) as f32;
            }
        }
        Ok(max_norm)
    }

    /// Deletes a random `fraction` of the steps of each sequence, keeping
    /// the order of the rest, and returns the new set and the number of
    /// steps deleted in total.
    ///
    /// A sequence of `T` steps loses `min(round(fraction * T), T - 1)`
    /// steps, where `round` rounds halves away from zero, so every sequence
    /// keeps at least one step. With the study's 20% and `T = 30`, 6 steps
    /// go and 24 stay. Which steps of sequence `i` go is drawn from the
    /// Philox stream (`seed`, 2^40 + `i`), so the same seed always deletes
    /// the same steps. Returns [`Error::InvalidArgument`] unless
    /// `0 <= fraction < 1`.
    pub fn delete_random_steps(&self, fraction: f64, seed: u64) -> Result<(SequenceSet, usize)> {
        if !(0.0..1.0).contains(&fraction) {
            return Err(Error::InvalidArgument {
                name: "fraction",
                value: fraction.to_string(),
                expected: "a fraction of steps in [0, 1), such as 0.2".into(),
            });
        }
        let n_channels = self.n_channels();
        let mut sequences = Vec::with_capacity(self.n_sequences());
        let mut deleted_total = 0;
        for index in 0..self.n_sequences() {
            let length = self.length(index);
            let deleted = ((fraction * length as f64).round() as usize).min(length - 1);
            let stream = PhiloxStream::new(seed, DELETION_STREAM_BASE + index as u64);
            let kept_steps = kept_steps(length, deleted, stream);

            let sequence = self.sequence(index);
            let mut kept = Vec::with_capacity(kept_steps.len() * n_channels);
            for step in kept_steps {
                kept.extend_from_slice(&sequence[step * n_channels..(step + 1) * n_channels]);
            }
            sequences.push(kept);
            deleted_total += deleted;
        }
        let set = SequenceSet::new(
            self.name(),
            sequences,
            n_channels,
            self.labels().to_vec(),
            self.class_names().to_vec(),
        )?;
        Ok((set, deleted_total))
    }

    /// Deletes each step independently with probability `probability`,
    /// keeping the order of the rest, and returns the new set and the number
    /// of steps deleted in total.
    ///
    /// Unlike [`SequenceSet::delete_random_steps`], lengths then vary
    /// (binomially) from sequence to sequence, which is how the MASK study
    /// made its equal-length synthetic series unequal. Step `t` of sequence
    /// `i` is deleted when word `t` of the Philox stream (`seed`, 2^41 + `i`)
    /// maps to a uniform value below `probability`. A sequence that would
    /// lose every step keeps its last one. Returns
    /// [`Error::InvalidArgument`] unless `0 <= probability < 1`.
    pub fn drop_steps_independently(
        &self,
        probability: f64,
        seed: u64,
    ) -> Result<(SequenceSet, usize)> {
        if !(0.0..1.0).contains(&probability) {
            return Err(Error::InvalidArgument {
                name: "probability",
                value: probability.to_string(),
                expected: "a deletion probability in [0, 1), such as 0.2".into(),
            });
        }
        let n_channels = self.n_channels();
        let mut sequences = Vec::with_capacity(self.n_sequences());
        let mut deleted_total = 0;
        for index in 0..self.n_sequences() {
            let length = self.length(index);
            let draws = PhiloxStream::new(seed, INDEPENDENT_DELETION_STREAM_BASE + index as u64)
                .uniform(0, length);
            let mut kept_steps: Vec<usize> = (0..length)
                .filter(|&t| f64::from(draws[t]) >= probability)
                .collect();
            if kept_steps.is_empty() {
                kept_steps.push(length - 1);
            }
            let sequence = self.sequence(index);
            let mut kept = Vec::with_capacity(kept_steps.len() * n_channels);
            for &step in &kept_steps {
                kept.extend_from_slice(&sequence[step * n_channels..(step + 1) * n_channels]);
            }
            deleted_total += length - kept_steps.len();
            sequences.push(kept);
        }
        let set = SequenceSet::new(
            self.name(),
            sequences,
            n_channels,
            self.labels().to_vec(),
            self.class_names().to_vec(),
        )?;
        Ok((set, deleted_total))
    }

    /// Pads every sequence with zero steps at its end up to `max_length()`
    /// and returns the `n_sequences() x (max_length() * n_channels())`
    /// row-major matrix. Row `i` contains sequence `i` step by step, so step
    /// `t` of channel `c` is column `t * n_channels() + c`, and the columns
    /// from `length(i) * n_channels()` on are zero.
    pub fn pad_zeros(&self) -> Vec<f32> {
        let width = self.max_length() * self.n_channels();
        let mut matrix = vec![0.0; self.n_sequences() * width];
        for index in 0..self.n_sequences() {
            let sequence = self.sequence(index);
            matrix[index * width..index * width + sequence.len()].copy_from_slice(sequence);
        }
        matrix
    }

    /// Returns [`SequenceSet::pad_zeros`] as a [`Dataset`] with the same
    /// labels and classes, for fixed-length methods such as PCA or t-SNE on
    /// padded sequences.
    pub fn to_padded_dataset(&self) -> Result<Dataset> {
        Dataset::new(
            format!(
                "{} (zero-padded to {} steps)",
                self.name(),
                self.max_length()
            ),
            self.pad_zeros(),
            self.max_length() * self.n_channels(),
            self.labels().to_vec(),
            self.class_names().to_vec(),
        )
    }
}

/// Chooses `deleted` of the steps `0..length` by a seeded shuffle and
/// returns the others in increasing order.
fn kept_steps(length: usize, deleted: usize, stream: PhiloxStream) -> Vec<usize> {
    let mut steps: Vec<usize> = (0..length).collect();
    shuffle(&mut steps, stream);
    let mut kept = steps.split_off(deleted);
    kept.sort_unstable();
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kept_steps_are_sorted_and_counted() {
        let kept = kept_steps(30, 6, PhiloxStream::new(3, 0));
        assert_eq!(kept.len(), 24);
        assert!(kept.windows(2).all(|pair| pair[0] < pair[1]), "{kept:?}");
        assert!(kept.iter().all(|&step| step < 30), "{kept:?}");
    }

    #[test]
    fn kept_steps_depend_on_stream() {
        let first = kept_steps(30, 6, PhiloxStream::new(3, 0));
        assert_eq!(first, kept_steps(30, 6, PhiloxStream::new(3, 0)));
        assert_ne!(first, kept_steps(30, 6, PhiloxStream::new(4, 0)));
    }
}
