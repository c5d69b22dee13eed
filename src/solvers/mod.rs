//! Linear solvers on the GPU for kernel machines.

mod conjugate_gradient;

pub use conjugate_gradient::{kernel_ridge_predict, solve_kernel_ridge, CgOptions, CgReport};
