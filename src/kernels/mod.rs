//! Kernel functions of infinitely wide networks, and the tiling and output
//! machinery their Gram matrices share.

pub mod ntk;
pub mod rntk;
pub mod shard;
pub mod sink;
pub mod tiling;
