//! Choosing a sequence set from one string, as given on a command line.

use std::path::Path;

use super::japanese_vowels::load_japanese_vowels;
use super::missing::MissingValues;
use super::npy_dir::load_sequence_npy_dir;
use super::ode::{generate_ode, OdeConfig};
use super::ts::load_ts;
use super::univariate_csv::load_sequence_csv;
use super::SequenceSet;
use crate::data::dataset::dataset_error;
use crate::error::Result;

/// The forms [`load_sequences`] accepts, for error messages and help text.
pub const SEQUENCE_SPEC_HELP: &str = "\
`ode` (the synthetic ODE data set of the MASK study, seed 0), \
`ode:SEED` (the same with another seed), \
`japanese-vowels` (the bundled JapaneseVowels training set), \
a .ts or .ts.gz file (UEA/UCR format), \
a directory containing X.npy, y.npy and optionally lengths.npy, \
or a .csv or .csv.gz file of univariate sequences with the label first";

/// Loads the sequence set named by `spec`, rejecting missing values.
/// [`SEQUENCE_SPEC_HELP`] lists the accepted forms.
pub fn load_sequences(spec: &str) -> Result<SequenceSet> {
    load_sequences_with(spec, MissingValues::Reject)
}

/// Loads the sequence set named by `spec`, treating missing values in
/// files by `missing`. The synthetic and bundled sets have none.
///
/// Returns [`crate::Error::Dataset`] listing the accepted forms when `spec`
/// matches none of them, and for a seed that is not an unsigned integer.
pub fn load_sequences_with(spec: &str, missing: MissingValues) -> Result<SequenceSet> {
    match spec {
        "ode" => return generate_ode(&OdeConfig::default()),
        "japanese-vowels" => return load_japanese_vowels(),
        _ => {}
    }
    if let Some(seed) = spec.strip_prefix("ode:") {
        let seed = seed.parse::<u64>().map_err(|_| {
            dataset_error(
                format!("{spec:?}"),
                format!(
                    "the seed {seed:?} is not an unsigned 64-bit integer; write it as in `ode:7`"
                ),
            )
        })?;
        return generate_ode(&OdeConfig {
            seed,
            ..OdeConfig::default()
        });
    }

    let path = Path::new(spec);
    if path.is_dir() {
        return load_sequence_npy_dir(path, missing);
    }
    if path.is_file() && has_suffix(spec, ".ts") {
        return load_ts(path, missing);
    }
    if path.is_file() && has_suffix(spec, ".csv") {
        return load_sequence_csv(path, missing);
    }

    let problem = if path.exists() {
        "is neither a directory nor a .ts or .csv file"
    } else {
        "is not a known data set name, and no file or directory has this path"
    };
    Err(dataset_error(
        format!("{spec:?}"),
        format!("{problem}. Accepted forms: {SEQUENCE_SPEC_HELP}"),
    ))
}

/// Returns whether `name` ends with `suffix` or `suffix` plus `.gz`, ignoring case.
fn has_suffix(name: &str, suffix: &str) -> bool {
    let name = name.to_ascii_lowercase();
    name.ends_with(suffix) || name.ends_with(&format!("{suffix}.gz"))
}
