//! Embedding maso: compute a Gram matrix on the GPU from Rust code.
//!
//! Run with `cargo run --release --example gram_matrix`.

use maso::ops::{self, Matrix};
use maso::Gpu;

fn main() -> maso::Result<()> {
    let gpu = Gpu::new()?; // honours WGPU_BACKEND, WGPU_ADAPTER_NAME, WGPU_POWER_PREF
    let x = Matrix::upload(&gpu, &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], 3, 2, "x")?;

    // Record any number of kernels, then submit them together.
    let mut recorder = gpu.timed_recorder("gram");
    let gram = ops::gram(&mut recorder, &x, &x)?; // x x^T, 3 x 3
    let report = recorder.submit()?;

    println!("{:?} in {:.3} ms", gram.read(&gpu)?, report.seconds() * 1e3);
    Ok(())
}
