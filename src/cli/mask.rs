//! `maso mask`: the MASK study on the synthetic ODE data or a user data set.

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};

use super::ActivationArg;

use maso::data::sequences::{load_sequences_with, MissingValues, SEQUENCE_SPEC_HELP};
use maso::embed::{KernelDistance, TsneConfig};
use maso::kernels::rntk::{Readout, RntkConfig};
use maso::pipelines::mask::{run_mask, MaskConfig};
use maso::plot::{scatter_grid, ScatterPanel};
use maso::Gpu;

/// Options of `maso mask`.
#[derive(Debug, Args)]
pub struct MaskArgs {
    /// Sequences: `ode` (the study's synthetic data), a .ts file, a directory
    /// with X.npy and y.npy, a CSV file, or `japanese-vowels`.
    #[arg(long, default_value = "ode")]
    data: String,
    /// Seed of the ODE data, the step deletion and t-SNE's initialisation.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Probability with which each step is deleted, independently, so that
    /// lengths vary (default: 0.2 for the ODE data, as in the study, and 0
    /// otherwise).
    #[arg(long)]
    delete_fraction: Option<f64>,
    /// Number of recurrent layers.
    #[arg(long, default_value_t = 1)]
    depth: usize,
    /// Nonlinearity of the recurrent network.
    #[arg(long, value_enum, default_value_t = ActivationArg::Relu)]
    activation: ActivationArg,
    /// Recurrent weight scale sigma_w.
    #[arg(long, default_value_t = std::f64::consts::SQRT_2)]
    sw: f64,
    /// Input weight scale sigma_u.
    #[arg(long, default_value_t = 1.0)]
    su: f64,
    /// Bias scale sigma_b.
    #[arg(long, default_value_t = 0.1)]
    sb: f64,
    /// Kernel-induced distance for t-SNE.
    #[arg(long, value_enum, default_value_t = DistanceArg::Cosine)]
    distance: DistanceArg,
    /// t-SNE perplexity.
    #[arg(long, default_value_t = 30.0)]
    perplexity: f64,
    /// t-SNE iterations.
    #[arg(long, default_value_t = 1000)]
    iterations: usize,
    /// Ridge added to the centred RNTK before kernel PCA.
    #[arg(long, default_value_t = 0.1)]
    kpca_ridge: f64,
    /// Output directory (created if missing).
    #[arg(long)]
    out: PathBuf,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum DistanceArg {
    Cosine,
    FeatureSpace,
}

/// Runs the study and writes embeddings.csv, mask.png, report.json and the
/// RNTK Gram matrix.
pub fn run(args: &MaskArgs) -> Result<()> {
    let spec = if args.data == "ode" {
        format!("ode:{}", args.seed)
    } else {
        args.data.clone()
    };
    let mut set = load_sequences_with(&spec, MissingValues::Interpolate)
        .with_context(|| format!("accepted --data values: {SEQUENCE_SPEC_HELP}"))?;
    set.normalize_unit_l2()?;
    let fraction = args
        .delete_fraction
        .unwrap_or(if args.data.starts_with("ode") {
            0.2
        } else {
            0.0
        });
    let mut deleted = 0;
    if fraction > 0.0 {
        let (thinned, removed) = set.drop_steps_independently(fraction, args.seed)?;
        set = thinned;
        deleted = removed;
    }
    log::info!(
        "{}: {} sequences, {} channels, lengths {} to {} after deleting {deleted} steps",
        set.name(),
        set.n_sequences(),
        set.n_channels(),
        set.lengths().iter().min().unwrap_or(&0),
        set.max_length()
    );

    let config = MaskConfig {
        rntk: RntkConfig {
            layers: args.depth,
            activation: args.activation.into(),
            sw: args.sw,
            su: args.su,
            sb: args.sb,
            sh: 0.0,
            sv: 1.0,
            readout: Readout::Last,
        },
        kpca_ridge: args.kpca_ridge,
        distance: match args.distance {
            DistanceArg::Cosine => KernelDistance::Cosine,
            DistanceArg::FeatureSpace => KernelDistance::FeatureSpace,
        },
        tsne: TsneConfig {
            perplexity: args.perplexity,
            n_iter: args.iterations,
            seed: args.seed,
            ..TsneConfig::default()
        },
        ..MaskConfig::default()
    };
    let gpu = Gpu::new()?;
    let result = run_mask(&gpu, &config, &set, &mut |stage| log::info!("{stage}"))?;

    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("failed to create {}", args.out.display()))?;
    let names = set.class_names();
    let mut csv = String::from("index,label,class");
    for embedding in &result.embeddings {
        let _ = write!(csv, ",{0}_x,{0}_y", embedding.name);
    }
    csv.push('\n');
    for (i, &label) in set.labels().iter().enumerate() {
        let _ = write!(csv, "{i},{label},{}", names[label as usize]);
        for embedding in &result.embeddings {
            let _ = write!(
                csv,
                ",{:.6},{:.6}",
                embedding.coordinates[2 * i],
                embedding.coordinates[2 * i + 1]
            );
        }
        csv.push('\n');
    }
    std::fs::write(args.out.join("embeddings.csv"), csv)
        .context("failed to write embeddings.csv")?;

    let titles = [
        "PCA (zero-padded)",
        "RNTK kernel PCA",
        "t-SNE (zero-padded)",
        "RNTK kernel t-SNE",
    ];
    let panels: Vec<ScatterPanel> = result
        .embeddings
        .iter()
        .zip(titles)
        .map(|(embedding, title)| ScatterPanel {
            title,
            points: &embedding.coordinates,
            labels: set.labels(),
        })
        .collect();
    scatter_grid(
        &args.out.join("mask.png"),
        &format!("MASK on {}", set.name()),
        &panels,
        2,
        names,
    )?;
    maso::io::npy::write_f32(
        args.out.join("rntk_ntk.npy"),
        &[set.n_sequences(), set.n_sequences()],
        &result.rntk_gram,
    )?;

    let scores: Vec<serde_json::Value> = result
        .embeddings
        .iter()
        .map(|e| serde_json::json!({"name": e.name, "knn_accuracy": e.knn_accuracy, "silhouette": e.silhouette, "trustworthiness": e.trustworthiness, "kl_divergence": e.kl_divergence}))
        .collect();
    let report = serde_json::json!({
        "data": set.name(),
        "sequences": set.n_sequences(),
        "channels": set.n_channels(),
        "steps_deleted": deleted,
        "class_names": names,
        "config": config,
        "seed": args.seed,
        "adapter": gpu.info().name,
        "embeddings": scores,
        "gram_seconds": result.gram_seconds,
        "total_seconds": result.total_seconds,
    });
    std::fs::write(
        args.out.join("report.json"),
        serde_json::to_string_pretty(&report)?,
    )
    .context("failed to write report.json")?;
    for embedding in &result.embeddings {
        log::info!(
            "{:>9}: {}-NN accuracy {:.3}, silhouette {:.3}, trustworthiness {:.3}",
            embedding.name,
            config.knn_neighbors,
            embedding.knn_accuracy,
            embedding.silhouette,
            embedding.trustworthiness
        );
    }
    Ok(())
}
