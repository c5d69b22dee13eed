//! Kernel functions of infinitely wide networks.

pub mod ntk;
