//! Missing values in loaded sequences: rejecting them, or filling them by
//! linear interpolation along each channel.

use crate::data::dataset::dataset_error;
use crate::error::Result;

/// What a loader does with missing values: `?` in `.ts` files, and NaN in
/// `.ts`, `.npy` and CSV files. Infinite values are never treated as
/// missing, so they are always rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MissingValues {
    /// Fail with an error that names the case, channel and step of the
    /// first missing value.
    #[default]
    Reject,
    /// Fill each run of missing values by linear interpolation between the
    /// nearest present values of the same channel and sequence. A run at
    /// the start or end of a channel takes the nearest present value. A
    /// channel with no present value at all is still an error.
    Interpolate,
}

/// Applies `policy` to one row-major `steps x n_channels` sequence in place.
/// `origin` names the file and `case` the sequence in error messages, such
/// as "case 4 (line 21)".
pub(super) fn resolve_missing(
    values: &mut [f32],
    n_channels: usize,
    policy: MissingValues,
    origin: &str,
    case: &str,
) -> Result<()> {
    let Some(first) = values.iter().position(|value| value.is_nan()) else {
        return Ok(());
    };
    match policy {
        MissingValues::Reject => Err(dataset_error(
            origin,
            format!(
                "{case}: the value at channel {}, step {} (counting from 0) is missing; \
                 load with MissingValues::Interpolate to fill missing values by linear \
                 interpolation, or remove them from the file",
                first % n_channels,
                first / n_channels
            ),
        )),
        MissingValues::Interpolate => {
            for channel in 0..n_channels {
                if !interpolate_channel(values, n_channels, channel) {
                    return Err(dataset_error(
                        origin,
                        format!(
                            "{case}: every value of channel {channel} (counting from 0) is missing, \
                             so there is nothing to interpolate from; remove the case or fill the channel"
                        ),
                    ));
                }
            }
            Ok(())
        }
    }
}

/// Fills the NaN values of one channel of a row-major sequence. Returns
/// false, leaving the channel unchanged, when every value is NaN.
fn interpolate_channel(values: &mut [f32], n_channels: usize, channel: usize) -> bool {
    let steps = values.len() / n_channels;
    let at = |step: usize| step * n_channels + channel;
    let present: Vec<usize> = (0..steps)
        .filter(|&step| !values[at(step)].is_nan())
        .collect();
    let (Some(&first), Some(&last)) = (present.first(), present.last()) else {
        return false;
    };

    for step in 0..first {
        values[at(step)] = values[at(first)];
    }
    for step in last + 1..steps {
        values[at(step)] = values[at(last)];
    }
    for pair in present.windows(2) {
        let (left, right) = (pair[0], pair[1]);
        let left_value = f64::from(values[at(left)]);
        let right_value = f64::from(values[at(right)]);
        let span = (right - left) as f64;
        for step in left + 1..right {
            let weight = (step - left) as f64 / span;
            values[at(step)] = (left_value + weight * (right_value - left_value)) as f32;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    const NAN: f32 = f32::NAN;

    #[test]
    fn interior_gap_is_linear() {
        let mut values = vec![1.0, NAN, NAN, 4.0];
        resolve_missing(&mut values, 1, MissingValues::Interpolate, "test", "case 0").unwrap();
        assert_eq!(values, vec![1.0, 2.0, 3.0, 4.0]);
    }

    #[test]
    fn edges_take_nearest_value() {
        let mut values = vec![NAN, NAN, 5.0, 7.0, NAN];
        resolve_missing(&mut values, 1, MissingValues::Interpolate, "test", "case 0").unwrap();
        assert_eq!(values, vec![5.0, 5.0, 5.0, 7.0, 7.0]);
    }

    #[test]
    fn channels_are_filled_separately() {
        // Two channels, three steps: channel 0 is 0, ?, 2 and channel 1 is ?, 10, ?.
        let mut values = vec![0.0, NAN, NAN, 10.0, 2.0, NAN];
        resolve_missing(&mut values, 2, MissingValues::Interpolate, "test", "case 0").unwrap();
        assert_eq!(values, vec![0.0, 10.0, 1.0, 10.0, 2.0, 10.0]);
    }

    #[test]
    fn all_missing_channel_is_an_error() {
        let mut values = vec![1.0, NAN, 2.0, NAN];
        let text = resolve_missing(
            &mut values,
            2,
            MissingValues::Interpolate,
            "file.ts",
            "case 3 (line 9)",
        )
        .unwrap_err()
        .to_string();
        assert!(text.contains("case 3 (line 9)"), "{text}");
        assert!(text.contains("every value of channel 1"), "{text}");
    }

    #[test]
    fn reject_names_channel_and_step() {
        let mut values = vec![1.0, 2.0, 3.0, NAN];
        let text = resolve_missing(
            &mut values,
            2,
            MissingValues::Reject,
            "file.ts",
            "case 0 (line 5)",
        )
        .unwrap_err()
        .to_string();
        assert!(text.contains("case 0 (line 5)"), "{text}");
        assert!(text.contains("channel 1, step 1"), "{text}");
    }

    #[test]
    fn complete_data_is_unchanged() {
        let mut values = vec![1.0, 2.0, 3.0];
        resolve_missing(&mut values, 1, MissingValues::Reject, "test", "case 0").unwrap();
        assert_eq!(values, vec![1.0, 2.0, 3.0]);
    }
}
