//! Counter-based random numbers: Philox-4x32-10 on the host, bit-identical to
//! the GPU kernels in `shaders/random.wgsl` (see [`crate::ops::fill_uniform`]).
//!
//! A stream is named by a 64-bit `seed` (the Philox key) and a 64-bit `stream`
//! id (counter words 2 and 3). Element `j` of a stream is lane `j % 4` of the
//! block whose counter words 0 and 1 hold `j / 4`. Any element can therefore be
//! computed without the ones before it, and GPU and host agree.

mod philox;

pub use philox::{normal_pair_from_bits, philox4x32_10, uniform_from_bits, PhiloxStream};
