//! The synthetic two-class data set of the MASK study ("Wearing a MASK",
//! ICASSP 2021): series drawn from a discretised second-order differential
//! equation `x'' = (a1 / t) x + (a2 / t^2) x'` with a unit step.
//!
//! Each series starts from three given values `x_1, x_2, x_3` (steps count
//! from 1). The first difference is `d1_s = x_{s+1} - x_s`, so the initial
//! one is `d1_2 = x_3 - x_2` (`d1_1` is never used). Then, for
//! `t = 4, ..., T`:
//!
//! ```text
//! d2_{t-2} = (a1 / t) x_{t-2} + (a2 / t^2) d1_{t-2}
//! d1_{t-1} = d1_{t-2} + d2_{t-2}
//! x_t      = x_{t-1} + d1_{t-1}
//! ```
//!
//! so the coefficients use the index `t` of the value being computed, whose
//! first value is 4.
//!
//! NOTE: the study states the three update equations and the three given
//! values but not where `t` starts, so the start at 4 (the first value not
//! given) and `d1_2 = x_3 - x_2` are this module's reading. Another reading
//! would shift the `a1 / t` and `a2 / t^2` coefficients.
//!
//! The two classes differ in the parameter distributions:
//!
//! | class | a1 | a2 | x_1, x_2, x_3 |
//! |---|---|---|---|
//! | `class 1` (label 0) | N(-4, 2^2) | N(0, 0.05^2) | iid N(0, 1) |
//! | `class 2` (label 1) | N(-20, 1) | N(0, 0.1^2) | 2, -1, 1 |
//!
//! The series grow quickly: with 30 steps and seeds 0 to 2, the peak
//! magnitude of a class 2 series lies between about 8 * 10^4 and 1.3 * 10^6,
//! and of a class 1 series below 5 * 10^3. The study scales each series to
//! unit l2 norm before use (see [`SequenceSet::normalize_unit_l2`]).

use super::SequenceSet;
use crate::error::{Error, Result};
use crate::random::PhiloxStream;

/// Size and seed of the synthetic ODE data set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OdeConfig {
    /// Number of series in each of the two classes (the study used 100).
    pub series_per_class: usize,
    /// Number of steps of every series, at least 3 (the study used 30).
    pub steps: usize,
    /// Seed of the Philox streams that draw the parameters.
    pub seed: u64,
}

impl Default for OdeConfig {
    /// Returns the study's size: 100 series per class, 30 steps, seed 0.
    fn default() -> Self {
        Self {
            series_per_class: 100,
            steps: 30,
            seed: 0,
        }
    }
}

/// Parameter distributions of one class.
struct OdeClass {
    a1_mean: f64,
    a1_std: f64,
    a2_std: f64,
    /// Fixed initial values, or `None` for iid standard normal ones.
    initial: Option<[f64; 3]>,
}

const CLASSES: [OdeClass; 2] = [
    OdeClass {
        a1_mean: -4.0,
        a1_std: 2.0,
        a2_std: 0.05,
        initial: None,
    },
    OdeClass {
        a1_mean: -20.0,
        a1_std: 1.0,
        a2_std: 0.1,
        initial: Some([2.0, -1.0, 1.0]),
    },
];

/// Generates the synthetic ODE data set (see the module documentation for
/// the recursion): `series_per_class` series of class 1 (label 0), then as
/// many of class 2 (label 1), each `steps` long with one channel.
///
/// Series `i` of class `c` (both counting from 0) draws its standard normal
/// values from the Philox stream (`seed`, `c * 2^32 + i`): value 0 for `a1`,
/// value 1 for `a2`, and values 2, 3 and 4 for `x_1, x_2, x_3` in class 1.
/// So a seed always gives the same series, and a series does not change
/// when `series_per_class` does. The recursion runs in f64 and the values
/// are stored rounded to f32. Returns [`Error::InvalidArgument`] for
/// `series_per_class == 0`, for `steps < 3`, or for a size whose values
/// overflow f32.
pub fn generate_ode(config: &OdeConfig) -> Result<SequenceSet> {
    validate(config)?;
    let mut sequences = Vec::with_capacity(2 * config.series_per_class);
    let mut labels = Vec::with_capacity(2 * config.series_per_class);
    for (class, parameters) in CLASSES.iter().enumerate() {
        for index in 0..config.series_per_class {
            let stream = PhiloxStream::new(config.seed, ((class as u64) << 32) + index as u64);
            let series = draw_series(parameters, stream, config.steps);
            sequences.push(series.into_iter().map(|value| value as f32).collect());
            labels.push(class as u32);
        }
    }
    let class_names = vec!["class 1".to_string(), "class 2".to_string()];
    SequenceSet::new(
        format!("ode (seed {})", config.seed),
        sequences,
        1,
        labels,
        class_names,
    )
    .map_err(|error| Error::InvalidArgument {
        name: "steps",
        value: config.steps.to_string(),
        expected: format!("a length whose series stay within f32 range ({error})"),
    })
}

fn validate(config: &OdeConfig) -> Result<()> {
    if config.series_per_class == 0 {
        return Err(Error::InvalidArgument {
            name: "series_per_class",
            value: "0".into(),
            expected: "at least 1 series per class".into(),
        });
    }
    if config.series_per_class as u64 > u64::from(u32::MAX) {
        return Err(Error::InvalidArgument {
            name: "series_per_class",
            value: config.series_per_class.to_string(),
            expected: format!("at most {} series per class", u32::MAX),
        });
    }
    if config.steps < 3 {
        return Err(Error::InvalidArgument {
            name: "steps",
            value: config.steps.to_string(),
            expected: "at least 3 steps, because every series starts from three given values"
                .into(),
        });
    }
    Ok(())
}

fn draw_series(parameters: &OdeClass, stream: PhiloxStream, steps: usize) -> Vec<f64> {
    let normals: Vec<f64> = stream.normal(0, 5).into_iter().map(f64::from).collect();
    let a1 = parameters.a1_mean + parameters.a1_std * normals[0];
    let a2 = parameters.a2_std * normals[1];
    let initial = parameters
        .initial
        .unwrap_or([normals[2], normals[3], normals[4]]);
    integrate(a1, a2, initial, steps)
}

/// Runs the recursion of the module documentation. `x[s - 1]` is `x_s`.
fn integrate(a1: f64, a2: f64, initial: [f64; 3], steps: usize) -> Vec<f64> {
    let mut x = Vec::with_capacity(steps);
    x.extend_from_slice(&initial);
    let mut d1 = initial[2] - initial[1];
    for t in 4..=steps {
        let time = t as f64;
        let d2 = (a1 / time) * x[t - 3] + (a2 / (time * time)) * d1;
        d1 += d2;
        x.push(x[t - 2] + d1);
    }
    x.truncate(steps);
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integrate_follows_recursion_by_hand() {
        // a1 = -20, a2 = 0 from (2, -1, 1): d1_2 = 2, d2_2 = -5 * x_2 = 5,
        // d1_3 = 7, x_4 = 8; d2_3 = -4 * x_3 = -4, d1_4 = 3, x_5 = 11.
        assert_eq!(
            integrate(-20.0, 0.0, [2.0, -1.0, 1.0], 5),
            vec![2.0, -1.0, 1.0, 8.0, 11.0]
        );
    }

    #[test]
    fn integrate_uses_a2_over_t_squared() {
        // a1 = 0, a2 = 16 from (0, 0, 1): d1_2 = 1, d2_2 = (16 / 16) * 1 = 1,
        // d1_3 = 2, x_4 = 3.
        assert_eq!(
            integrate(0.0, 16.0, [0.0, 0.0, 1.0], 4),
            vec![0.0, 0.0, 1.0, 3.0]
        );
    }

    #[test]
    fn three_steps_are_the_initial_values() {
        assert_eq!(
            integrate(-4.0, 0.1, [1.0, 2.0, 3.0], 3),
            vec![1.0, 2.0, 3.0]
        );
    }

    #[test]
    fn invalid_sizes_are_rejected() {
        let too_short = OdeConfig {
            steps: 2,
            ..OdeConfig::default()
        };
        let text = generate_ode(&too_short).unwrap_err().to_string();
        assert!(text.contains("at least 3 steps"), "{text}");
        let empty = OdeConfig {
            series_per_class: 0,
            ..OdeConfig::default()
        };
        let text = generate_ode(&empty).unwrap_err().to_string();
        assert!(text.contains("at least 1 series"), "{text}");
    }
}
