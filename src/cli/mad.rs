//! `maso mad`: self-consuming loops of Gaussian or mixture models, or of a
//! conditional DDPM on MNIST (`--model ddpm`, in the `ddpm` submodule), with
//! per-generation metrics, tables and plots.

mod ddpm;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};

use maso::generative::{GmmOptions, LoopConfig, LoopFamily, RealDistribution, SyntheticSource};
use maso::io::npy;
use maso::pipelines::mad::{
    average_by_generation, run_mad, GenerationMetrics, MadConfig, MadModel,
};
use maso::plot::{line_chart, scatter_grid, ScatterPanel};
use maso::Gpu;

/// Options of `maso mad`.
#[derive(Debug, Clone, Args)]
pub struct MadArgs {
    /// Generative model trained in each generation.
    #[arg(long, value_enum, default_value_t = ModelArg::Gaussian)]
    model: ModelArg,
    /// Loop family.
    #[arg(long = "loop", value_enum, default_value_t = LoopArg::FullySynthetic)]
    loop_family: LoopArg,
    /// Sampling bias lambda in (0, 1]; 1 is unbiased. The ddpm model takes
    /// a comma-separated list (one loop each), such as 1,0.8,0.66,0.5.
    #[arg(long = "lambda", value_delimiter = ',', default_value = "1")]
    lambdas: Vec<f64>,
    /// Number of generations (generation 1 trains on real data).
    #[arg(long, default_value_t = 20)]
    generations: usize,
    /// Real points per generation (the fixed set of augmentation, or each fresh draw).
    #[arg(long, default_value_t = 1000)]
    n_real: usize,
    /// Synthetic points per generation.
    #[arg(long = "n-synth", default_value_t = 1000)]
    n_synthetic: usize,
    /// Real points in generation 1 (default: --n-real).
    #[arg(long)]
    n_initial: Option<usize>,
    /// Real distribution: `normal:D` (standard normal in D dimensions),
    /// `grid` (25-mode 2-D mixture) or a 2-D `.npy` point set.
    #[arg(long, default_value = "normal:2")]
    real: String,
    /// Independent chains.
    #[arg(long, default_value_t = 1)]
    chains: usize,
    /// Chains scored with k-NN metrics and the Fréchet distance (default: all, at most 4).
    #[arg(long)]
    scored_chains: Option<usize>,
    /// Points in the real reference sample and in each scored generated
    /// sample (default: 2000; ddpm: 500).
    #[arg(long)]
    metric_samples: Option<usize>,
    /// Neighbours of the k-NN metrics.
    #[arg(long, default_value_t = 5)]
    k: usize,
    /// Mixture components (gmm only).
    #[arg(long, default_value_t = 25)]
    components: usize,
    /// Seed of every draw.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Output directory (created if missing); with --sweep, the sweep's
    /// directory, with one `cells/cell-NNNN` folder per grid cell.
    #[arg(long)]
    pub(super) out: PathBuf,
    /// TOML sweep file: scalar settings plus a `[grid]` table of lists (keys
    /// are this command's option names, such as lambda, loop, seed, n-real);
    /// every combination of the lists is one cell.
    #[arg(long)]
    sweep: Option<PathBuf>,
    /// With --sweep, run only task I of N (cells whose index is I modulo N,
    /// numbered from 0 as Slurm array tasks are). Finished cells are skipped.
    #[arg(long, requires = "sweep")]
    task: Option<String>,
    #[command(flatten)]
    ddpm: ddpm::DdpmArgs,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ModelArg {
    Gaussian,
    Gmm,
    /// Conditional DDPM on MNIST (see the DDPM options).
    Ddpm,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum LoopArg {
    FullySynthetic,
    #[value(alias = "augmentation")]
    Augment,
    AugmentAll,
    Fresh,
}

fn parse_real(spec: &str) -> Result<RealDistribution> {
    if spec == "grid" {
        return Ok(RealDistribution::GridMixture);
    }
    if let Some(dimension) = spec.strip_prefix("normal:") {
        let dim: usize = dimension.parse().with_context(|| {
            format!("invalid --real {spec:?}: expected normal:D with D a positive integer")
        })?;
        if dim == 0 {
            bail!("invalid --real {spec:?}: the dimension must be at least 1");
        }
        return Ok(RealDistribution::standard_normal(dim)?);
    }
    let path = Path::new(spec);
    if path.extension().is_some_and(|e| e == "npy") {
        let (_, dim, values) = npy::read_matrix_f32(path)?;
        return Ok(RealDistribution::points(values, dim)?);
    }
    bail!("invalid --real {spec:?}: expected normal:D, grid, or a path to a .npy point set")
}

/// Runs one loop study, or the cells of a sweep with --sweep.
pub fn run(args: &MadArgs) -> Result<()> {
    match &args.sweep {
        Some(path) => super::sweep::run_sweep(args, path, args.task.as_deref()),
        None => run_single(args),
    }
}

impl MadArgs {
    fn family(&self) -> LoopFamily {
        match self.loop_family {
            LoopArg::FullySynthetic => LoopFamily::FullySynthetic,
            LoopArg::Augment => LoopFamily::Augment(SyntheticSource::LastModel),
            LoopArg::AugmentAll => LoopFamily::Augment(SyntheticSource::AllModels),
            LoopArg::Fresh => LoopFamily::Fresh,
        }
    }

    /// Returns the one lambda of a Gaussian or mixture loop.
    fn single_lambda(&self) -> Result<f64> {
        match self.lambdas.as_slice() {
            [lambda] => Ok(*lambda),
            many => bail!(
                "invalid --lambda {many:?}: the {:?} model runs one lambda per study; \
                 use --sweep for several, or --model ddpm",
                self.model
            ),
        }
    }
}

/// Runs the loops and writes metrics.csv, summary.json and the figures.
pub fn run_single(args: &MadArgs) -> Result<()> {
    if matches!(args.model, ModelArg::Ddpm) {
        return ddpm::run(args);
    }
    if args.ddpm.is_set() {
        bail!("the DDPM options (such as --dataset and --resume) apply only to --model ddpm");
    }
    let real = parse_real(&args.real)?;
    let family = args.family();
    let lambda = args.single_lambda()?;
    let loop_config = LoopConfig {
        family,
        n_real: args.n_real,
        n_synthetic: args.n_synthetic,
        n_initial: args.n_initial.unwrap_or(args.n_real),
        lambda,
        generations: args.generations,
        seed: args.seed,
    };
    let model = match args.model {
        ModelArg::Gaussian => MadModel::Gaussian,
        ModelArg::Gmm => MadModel::Gmm(GmmOptions {
            components: args.components,
            ..GmmOptions::default()
        }),
        ModelArg::Ddpm => unreachable!("run_single sends ddpm studies to ddpm::run"),
    };
    let config = MadConfig {
        model,
        loop_config,
        chains: args.chains,
        scored_chains: args.scored_chains.unwrap_or(args.chains.min(4)),
        metric_samples: args.metric_samples.unwrap_or(2000),
        k: args.k,
    };
    log::info!(
        "{} loop of a {:?} model on {}, lambda {}, {} generations, {} chains",
        family.name(),
        args.model,
        real.describe(),
        lambda,
        args.generations,
        args.chains
    );

    let gpu = Gpu::new()?;
    let bar = ProgressBar::new(args.generations as u64);
    bar.set_style(
        ProgressStyle::with_template(
            "{bar:40} generation {pos}/{len}, {elapsed} elapsed, {eta} left",
        )
        .expect("valid template"),
    );
    let result = run_mad(&gpu, &config, &real, &mut |done, _| {
        bar.set_position(done as u64)
    })?;
    bar.finish_and_clear();

    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("failed to create {}", args.out.display()))?;
    let averages = average_by_generation(&result.rows, args.generations);
    write_csv(&args.out.join("metrics.csv"), &result.rows, &averages)?;
    write_figures(&args.out, &averages, &result, real.dim(), args)?;
    let summary = serde_json::json!({
        "config": config,
        "real": real.describe(),
        "adapter": gpu.info().name,
        "averages": averages,
        "first": averages.first(),
        "last": averages.last(),
    });
    std::fs::write(
        args.out.join("summary.json"),
        serde_json::to_string_pretty(&summary)?,
    )
    .context("failed to write summary.json")?;
    if let (Some(first), Some(last)) = (averages.first(), averages.last()) {
        log::info!(
            "generation 1 -> {}: precision {} -> {}, recall {} -> {}, Fréchet {} -> {}",
            args.generations,
            format_option(first.precision),
            format_option(last.precision),
            format_option(first.recall),
            format_option(last.recall),
            format_option(first.frechet),
            format_option(last.frechet)
        );
    }
    Ok(())
}

fn format_option(value: Option<f64>) -> String {
    value.map_or_else(|| "-".to_string(), |v| format!("{v:.4}"))
}

fn write_csv(
    path: &Path,
    rows: &[GenerationMetrics],
    averages: &[GenerationMetrics],
) -> Result<()> {
    let cell = |value: Option<f64>| value.map_or(String::new(), |v| format!("{v:.6}"));
    let mut text = String::from(
        "generation,chain,precision,recall,density,coverage,frechet,wasserstein2,trace,modes\n",
    );
    for row in rows.iter().chain(averages) {
        let chain = if row.chain == usize::MAX {
            "mean".to_string()
        } else {
            row.chain.to_string()
        };
        let _ = writeln!(
            text,
            "{},{chain},{},{},{},{},{},{},{},{}",
            row.generation,
            cell(row.precision),
            cell(row.recall),
            cell(row.density),
            cell(row.coverage),
            cell(row.frechet),
            cell(row.wasserstein2),
            cell(row.trace),
            row.modes.map_or(String::new(), |m| m.to_string())
        );
    }
    std::fs::write(path, text).with_context(|| format!("failed to write {}", path.display()))
}

fn series(
    name: &str,
    averages: &[GenerationMetrics],
    pick: impl Fn(&GenerationMetrics) -> Option<f64>,
) -> Option<(String, Vec<(f64, f64)>)> {
    let points: Vec<(f64, f64)> = averages
        .iter()
        .filter_map(|r| pick(r).map(|v| (r.generation as f64, v)))
        .collect();
    (!points.is_empty()).then(|| (name.to_string(), points))
}

fn write_figures(
    out: &Path,
    averages: &[GenerationMetrics],
    result: &maso::pipelines::mad::MadResult,
    dim: usize,
    args: &MadArgs,
) -> Result<()> {
    let quality: Vec<_> = [
        series("precision", averages, |r| r.precision),
        series("recall", averages, |r| r.recall),
        series("density", averages, |r| r.density),
        series("coverage", averages, |r| r.coverage),
    ]
    .into_iter()
    .flatten()
    .collect();
    if !quality.is_empty() {
        line_chart(
            &out.join("metrics.png"),
            "k-NN metrics by generation (mean over scored chains)",
            "generation",
            "value",
            &quality,
            false,
        )?;
    }
    let distances: Vec<_> = [
        series("Fréchet distance", averages, |r| r.frechet),
        series("Wasserstein-2 to real", averages, |r| r.wasserstein2),
        series("trace of covariance", averages, |r| r.trace),
    ]
    .into_iter()
    .flatten()
    .collect();
    if !distances.is_empty() {
        line_chart(
            &out.join("distances.png"),
            "Distances and spread by generation (mean over chains)",
            "generation",
            "value",
            &distances,
            true,
        )?;
    }
    if let Some(modes) = series("modes covered", averages, |r| r.modes.map(|m| m as f64)) {
        line_chart(
            &out.join("modes.png"),
            "Grid modes covered by the samples",
            "generation",
            "modes",
            &[modes],
            false,
        )?;
    }
    if dim == 2 && !result.samples.is_empty() && !result.samples[0].is_empty() {
        let picks = [0, result.samples.len() / 2, result.samples.len() - 1];
        let mut panels_data = Vec::new();
        for &index in picks.iter() {
            let mut points: Vec<f64> = result.reference.iter().map(|&v| f64::from(v)).collect();
            points.extend(result.samples[index].iter().map(|&v| f64::from(v)));
            let mut labels = vec![0u32; result.reference.len() / 2];
            labels.extend(std::iter::repeat_n(1u32, result.samples[index].len() / 2));
            panels_data.push((format!("generation {}", index + 1), points, labels));
        }
        let panels: Vec<ScatterPanel> = panels_data
            .iter()
            .map(|(title, points, labels)| ScatterPanel {
                title,
                points,
                labels,
            })
            .collect();
        let names = ["real".to_string(), "generated".to_string()];
        scatter_grid(
            &out.join("samples.png"),
            &format!(
                "Samples of chain 0 ({} loop, lambda {})",
                args.loop_family
                    .to_possible_value()
                    .map(|v| v.get_name().to_string())
                    .unwrap_or_default(),
                args.lambdas[0]
            ),
            &panels,
            3,
            &names,
        )?;
    }
    Ok(())
}
