//! Labelled multivariate sequences of different lengths, the input of the
//! recurrent kernels in the MASK pipeline.
//!
//! The module has the [`SequenceSet`] type and a loader for `.ts` files
//! (UEA/UCR archive).

mod missing;
mod set;
mod ts;
mod ts_header;

pub use missing::MissingValues;
pub use set::SequenceSet;
pub use ts::{load_ts, parse_ts};
