//! `maso fbp`: filtered back-projection of a sinogram `.npy` file into a PNG
//! (and optionally `.npy`) image.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::Args;

use maso::ct::{filtered_back_projection, FbpFilter, RadonGeometry, Sinogram};
use maso::imaging::{write_png, Image};
use maso::io::npy;
use maso::Gpu;

/// Options of `maso fbp`.
#[derive(Debug, Args)]
pub struct FbpArgs {
    /// Sinogram as a 2-D `.npy` array of shape (detectors, angles), float32
    /// or float64, as skimage.transform.radon returns it. Its angles are
    /// taken to be evenly spaced over [0, 180) degrees.
    #[arg(long)]
    sinogram: PathBuf,
    /// Expected number of angles; the file's angle count must match it.
    #[arg(long)]
    angles: Option<usize>,
    /// Side of the reconstructed image in pixels (default: the detector count).
    #[arg(long)]
    size: Option<usize>,
    /// Frequency filter: ramp, shepp-logan, cosine, hamming or hann.
    #[arg(long, default_value = "ramp")]
    filter: String,
    /// Output PNG. Values are clamped to [0, 1] unless --normalize is given.
    #[arg(long)]
    out: PathBuf,
    /// Scale the PNG from the reconstruction's minimum to its maximum instead
    /// of clamping to [0, 1].
    #[arg(long)]
    normalize: bool,
    /// Also write the reconstruction as a float32 `.npy` array (size, size).
    #[arg(long)]
    npy: Option<PathBuf>,
}

/// Reads the sinogram, reconstructs on the GPU and writes the image files.
pub fn run(args: &FbpArgs) -> Result<()> {
    let filter: FbpFilter = args.filter.parse().context("invalid --filter")?;
    let sinogram = Sinogram::read_npy(&args.sinogram)?;
    if let Some(angles) = args.angles {
        if angles != sinogram.angles {
            bail!(
                "--angles {angles} does not match --sinogram {}, which contains {} angles (shape ({}, {}) = detectors x angles)",
                args.sinogram.display(),
                sinogram.angles,
                sinogram.detectors,
                sinogram.angles
            );
        }
    }
    let size = args.size.unwrap_or(sinogram.detectors);
    let geometry = RadonGeometry::uniform(size, sinogram.angles).with_detectors(sinogram.detectors);

    let gpu = Gpu::new()?;
    let started = Instant::now();
    let image = filtered_back_projection(&gpu, &geometry, &sinogram.data, filter)
        .with_context(|| format!("failed to reconstruct {}", args.sinogram.display()))?;
    let seconds = started.elapsed().as_secs_f64();

    if let Some(path) = &args.npy {
        npy::write_f32(path, &[size, size], &image)?;
    }
    write_png(
        &args.out,
        &Image::new(size, size, 1, png_values(image, args.normalize))?,
    )?;
    println!(
        "FBP ({filter} filter) of {}: {size} x {size} pixels from {} angles x {} detectors in {seconds:.3} s on {} -> {}",
        args.sinogram.display(),
        sinogram.angles,
        sinogram.detectors,
        gpu.info().name,
        args.out.display()
    );
    Ok(())
}

/// Returns the values to draw: unchanged (the PNG writer clamps to [0, 1])
/// or scaled from the minimum to the maximum.
fn png_values(image: Vec<f32>, normalize: bool) -> Vec<f32> {
    if !normalize {
        return image;
    }
    let low = image.iter().copied().fold(f32::INFINITY, f32::min);
    let high = image.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let range = if high > low { high - low } else { 1.0 };
    image
        .into_iter()
        .map(|value| (value - low) / range)
        .collect()
}
