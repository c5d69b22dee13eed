//! `maso metrics`: precision, recall, density, coverage and the Fréchet
//! distance of a fake point set against a real one, written as JSON.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::Args;

use maso::io::npy;
use maso::metrics::{frechet_distance, gaussian_statistics, prdc, PRDC_CONVENTION};
use maso::Gpu;

/// Options of `maso metrics`.
#[derive(Debug, Args)]
pub struct MetricsArgs {
    /// Real points as a 2-D `.npy` array (points x features).
    #[arg(long)]
    real: PathBuf,
    /// Fake (generated) points as a 2-D `.npy` array with the same features.
    #[arg(long)]
    fake: PathBuf,
    /// Nearest neighbours that set each ball's radius (1 to 32, and below
    /// the size of each set).
    #[arg(long, default_value_t = 5)]
    k: usize,
    /// Output directory for metrics.json (created if missing).
    #[arg(long)]
    out: PathBuf,
}

/// Loads both sets, computes the metrics on the GPU, writes
/// `metrics.json` and prints a one-line summary.
pub fn run(args: &MetricsArgs) -> Result<()> {
    let (n_real, dim, real) = npy::read_matrix_f32(&args.real)?;
    let (n_fake, fake_dim, fake) = npy::read_matrix_f32(&args.fake)?;
    if fake_dim != dim {
        bail!(
            "--real {} has {dim} features per point but --fake {} has {fake_dim}; both sets need the same features",
            args.real.display(),
            args.fake.display()
        );
    }
    let inputs = || {
        format!(
            "--real {} and --fake {}",
            args.real.display(),
            args.fake.display()
        )
    };

    let gpu = Gpu::new()?;
    let started = Instant::now();
    let values = prdc(&gpu, &real, &fake, dim, args.k)
        .with_context(|| format!("failed to compute prdc of {}", inputs()))?;
    let real_statistics = gaussian_statistics(&gpu, &real, dim)?;
    let fake_statistics = gaussian_statistics(&gpu, &fake, dim)?;
    let frechet = frechet_distance(&real_statistics, &fake_statistics)
        .with_context(|| format!("failed to compute the Fréchet distance of {}", inputs()))?;
    let seconds = started.elapsed().as_secs_f64();

    let summary = serde_json::json!({
        "precision": values.precision,
        "recall": values.recall,
        "density": values.density,
        "coverage": values.coverage,
        "frechet_distance": frechet,
        "counts": { "real": n_real, "fake": n_fake },
        "dim": dim,
        "k": args.k,
        "convention": PRDC_CONVENTION,
        "real": args.real,
        "fake": args.fake,
        "adapter": gpu.info().name,
        "backend": format!("{:?}", gpu.info().backend),
        "seconds": seconds,
    });
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("failed to create {}", args.out.display()))?;
    let summary_path = args.out.join("metrics.json");
    std::fs::write(&summary_path, serde_json::to_string_pretty(&summary)?)
        .with_context(|| format!("failed to write {}", summary_path.display()))?;

    println!(
        "precision {:.4}  recall {:.4}  density {:.4}  coverage {:.4}  frechet_distance {:.6}  \
         ({n_real} real, {n_fake} fake, dim {dim}, k {}, {seconds:.2} s)",
        values.precision, values.recall, values.density, values.coverage, frechet, args.k
    );
    Ok(())
}
