//! `maso radon`: the parallel-beam sinogram of an image or of the
//! Shepp-Logan phantom, written as `.npy` (scikit-image's layout) and PNG.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::{Args, ValueEnum};

use maso::ct::{add_noise, shepp_logan, write_sinogram, PhantomVariant, Radon, RadonGeometry};
use maso::imaging::{read_image, write_png, Image};
use maso::Gpu;

/// Options of `maso radon`.
#[derive(Debug, Args)]
pub struct RadonArgs {
    /// Square input image (PNG or JPEG; colour is converted to grey with
    /// scikit-image's rgb2gray weights, 8-bit values are divided by 255).
    #[arg(long, required_unless_present = "phantom", conflicts_with = "phantom")]
    image: Option<PathBuf>,
    /// Built-in test object to use instead of --image: the Shepp-Logan
    /// phantom with scikit-image's (modified) or the 1974 paper's intensities.
    #[arg(long, value_enum)]
    phantom: Option<PhantomArg>,
    /// Side of the phantom in pixels (only with --phantom).
    #[arg(long, default_value_t = 256, conflicts_with = "image")]
    size: usize,
    /// Number of projection angles, spaced evenly over [0, 180) degrees.
    #[arg(long)]
    angles: usize,
    /// Detector bins per projection (default: the image side).
    #[arg(long)]
    detectors: Option<usize>,
    /// Add Gaussian noise with this signal-to-noise ratio in dB,
    /// 10 log10(mean(sinogram^2) / sigma^2).
    #[arg(long)]
    noise_snr: Option<f64>,
    /// Seed of the noise (Philox stream; the same seed gives the same noise).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Output sinogram, a float32 `.npy` array of shape (detectors, angles).
    /// A PNG of it (detectors down, angles across, scaled from its minimum to
    /// its maximum) is written next to it with the extension `.png`.
    #[arg(long)]
    out: PathBuf,
}

/// Built-in phantom as a command-line value.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum PhantomArg {
    /// Shepp-Logan phantom with Toft's modified intensities (0 to 1), as
    /// scikit-image's `shepp_logan_phantom()`.
    SheppLogan,
    /// Shepp-Logan phantom with the original intensities (0 to 2).
    SheppLoganOriginal,
}

/// Reads or renders the image, computes its sinogram on the GPU and writes
/// the `.npy` file and its PNG.
pub fn run(args: &RadonArgs) -> Result<()> {
    if args
        .out
        .extension()
        .and_then(|extension| extension.to_str())
        != Some("npy")
    {
        bail!(
            "--out {} must end in .npy; the sinogram PNG is written next to it",
            args.out.display()
        );
    }
    let (image, size, source) = input_image(args)?;
    let detectors = args.detectors.unwrap_or(size);
    let geometry = RadonGeometry::uniform(size, args.angles).with_detectors(detectors);

    let gpu = Gpu::new()?;
    let started = Instant::now();
    let radon = Radon::new(&gpu, geometry.clone()).context("invalid --angles or --detectors")?;
    let mut sinogram = radon.forward_host(&gpu, &image)?;
    let seconds = started.elapsed().as_secs_f64();
    if let Some(snr_db) = args.noise_snr {
        add_noise(&mut sinogram, snr_db, args.seed).context("invalid --noise-snr")?;
    }

    write_sinogram(&args.out, &geometry, &sinogram)?;
    let png_path = args.out.with_extension("png");
    write_png(&png_path, &sinogram_picture(&geometry, &sinogram)?)?;
    println!(
        "sinogram of {source}: {detectors} detectors x {} angles in {:.3} s on {} -> {} and {}",
        args.angles,
        seconds,
        gpu.info().name,
        args.out.display(),
        png_path.display()
    );
    Ok(())
}

/// Returns the image (row-major, grey), its side and a description.
fn input_image(args: &RadonArgs) -> Result<(Vec<f32>, usize, String)> {
    if let Some(path) = &args.image {
        let image = read_image(path)?.to_grey();
        let side = square_side(&image, path)?;
        return Ok((image.into_data(), side, path.display().to_string()));
    }
    let variant = match args.phantom {
        Some(PhantomArg::SheppLoganOriginal) => PhantomVariant::Original,
        _ => PhantomVariant::Modified,
    };
    let image = shepp_logan(args.size, variant).context("invalid --size")?;
    Ok((
        image,
        args.size,
        format!("the {variant:?} Shepp-Logan phantom ({0} x {0})", args.size),
    ))
}

fn square_side(image: &Image, path: &Path) -> Result<usize> {
    if image.width() != image.height() {
        bail!(
            "--image {} is {} x {} pixels (width x height), but the Radon transform needs a square image; crop or pad it to N x N",
            path.display(),
            image.width(),
            image.height()
        );
    }
    Ok(image.width())
}

/// Draws the sinogram as scikit-image shows it: one column per angle,
/// scaled from its minimum (black) to its maximum (white).
fn sinogram_picture(geometry: &RadonGeometry, sinogram: &[f32]) -> Result<Image> {
    let (angles, detectors) = (geometry.angle_count(), geometry.detectors);
    let low = sinogram.iter().copied().fold(f32::INFINITY, f32::min);
    let high = sinogram.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let range = if high > low { high - low } else { 1.0 };
    let mut pixels = vec![0.0; sinogram.len()];
    for angle in 0..angles {
        for detector in 0..detectors {
            pixels[detector * angles + angle] =
                (sinogram[angle * detectors + detector] - low) / range;
        }
    }
    Ok(Image::new(angles, detectors, 1, pixels)?)
}
