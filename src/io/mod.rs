//! File formats: NumPy `.npy` arrays.

pub mod npy;
