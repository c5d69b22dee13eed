//! Labelled multivariate sequences of different lengths, the input of the
//! recurrent kernels in the MASK pipeline.
//!
//! The module has the [`SequenceSet`] type and loaders for `.ts` files
//! (UEA/UCR archive), `.npy` directories and CSV files. It also has the
//! bundled JapaneseVowels training set, the synthetic ODE data set of the
//! MASK study, and the study's preprocessing: l2 normalization, random step
//! deletion and zero padding.
//!
//! [`load_sequences`] picks a source from one string such as `ode`,
//! `ode:7`, `japanese-vowels` or a path.

mod japanese_vowels;
mod missing;
mod npy_dir;
mod ode;
mod preprocess;
mod set;
mod spec;
mod ts;
mod ts_header;
mod univariate_csv;

pub use japanese_vowels::load_japanese_vowels;
pub use missing::MissingValues;
pub use npy_dir::load_sequence_npy_dir;
pub use ode::{generate_ode, OdeConfig};
pub use set::SequenceSet;
pub use spec::{load_sequences, load_sequences_with, SEQUENCE_SPEC_HELP};
pub use ts::{load_ts, parse_ts};
pub use univariate_csv::load_sequence_csv;
