//! Labelled multivariate sequences of different lengths, the input of the
//! recurrent kernels in the MASK pipeline.

mod set;

pub use set::SequenceSet;
