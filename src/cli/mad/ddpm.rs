//! `maso mad --model ddpm`: self-consuming loops of a conditional DDPM on
//! MNIST, with checkpoints per generation and `--resume`.

use anyhow::{bail, Context, Result};
use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};

use maso::generative::ddpm::{DenoiserConfig, ScheduleKind};
use maso::pipelines::mad_ddpm::{self, DdpmProgress, DdpmStudyConfig, MnistSource};
use maso::Gpu;

use super::MadArgs;

/// Options that apply to `--model ddpm` only.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "DDPM options (--model ddpm)")]
pub struct DdpmArgs {
    /// Images: `mnist` (the bundled 5000-digit subset, 4000 for the loops and
    /// 1000 held out) or `mnist:DIR` (the four MNIST IDX files in DIR,
    /// gzip-compressed or not).
    #[arg(long)]
    dataset: Option<String>,
    /// Continue the study in --out from its last finished generation (the
    /// settings must match the stored ones, except --generations).
    #[arg(long)]
    resume: bool,
    /// Diffusion steps T (default 500; 2 to 100000).
    #[arg(long)]
    diffusion_steps: Option<usize>,
    /// Noise schedule (default linear).
    #[arg(long, value_enum)]
    schedule: Option<ScheduleArg>,
    /// Width of the denoiser's hidden layers (default 128; 1 to 16384).
    #[arg(long)]
    width: Option<usize>,
    /// Residual blocks of the denoiser (default 2; 0 to 64).
    #[arg(long)]
    blocks: Option<usize>,
    /// Denoiser training steps per generation (default 300).
    #[arg(long)]
    training_steps: Option<usize>,
    /// Images per training step (default 64).
    #[arg(long)]
    batch_size: Option<usize>,
    /// Adam step size of the denoiser (default 0.002).
    #[arg(long)]
    learning_rate: Option<f32>,
    /// Sampling steps S (default 20; 1 to T); S < T samples a strided
    /// subset of the timesteps with respaced betas.
    #[arg(long)]
    sampling_steps: Option<usize>,
    /// Images per sampling batch (default 250).
    #[arg(long)]
    sampling_batch: Option<usize>,
    /// Training epochs of the feature classifier (default 3).
    #[arg(long)]
    classifier_epochs: Option<usize>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ScheduleArg {
    /// Linear betas from 1e-4 to 0.02.
    Linear,
    /// The cosine schedule of Nichol and Dhariwal.
    Cosine,
}

impl DdpmArgs {
    /// Returns whether any DDPM-only option was given.
    pub(super) fn is_set(&self) -> bool {
        self.dataset.is_some()
            || self.resume
            || self.diffusion_steps.is_some()
            || self.schedule.is_some()
            || self.width.is_some()
            || self.blocks.is_some()
            || self.training_steps.is_some()
            || self.batch_size.is_some()
            || self.learning_rate.is_some()
            || self.sampling_steps.is_some()
            || self.sampling_batch.is_some()
            || self.classifier_epochs.is_some()
    }
}

/// Builds the study settings: the quick preset, overridden by the options
/// given.
fn study_config(args: &MadArgs) -> Result<DdpmStudyConfig> {
    if args.real != "normal:2" {
        bail!("--real applies to the Gaussian and mixture models; use --dataset mnist or mnist:DIR with --model ddpm");
    }
    if args.chains != 1 || args.scored_chains.is_some() {
        bail!("--chains and --scored-chains apply to the Gaussian and mixture models; a ddpm study runs one loop per lambda");
    }
    let options = &args.ddpm;
    let mut config = DdpmStudyConfig::quick();
    config.dataset = MnistSource::parse(options.dataset.as_deref().unwrap_or("mnist"))?;
    config.family = args.family();
    config.lambdas = args.lambdas.clone();
    config.generations = args.generations;
    config.n_real = args.n_real;
    config.n_synthetic = args.n_synthetic;
    config.n_initial = args.n_initial.unwrap_or(args.n_real);
    if let Some(samples) = args.metric_samples {
        config.metric_samples = samples;
        config.reference_samples = samples;
    }
    config.k = args.k;
    config.seed = args.seed;
    config.diffusion_steps = options.diffusion_steps.unwrap_or(config.diffusion_steps);
    config.schedule = match options.schedule {
        Some(ScheduleArg::Linear) => ScheduleKind::linear(),
        Some(ScheduleArg::Cosine) => ScheduleKind::cosine(),
        None => config.schedule,
    };
    config.denoiser = DenoiserConfig {
        width: options.width.unwrap_or(config.denoiser.width),
        blocks: options.blocks.unwrap_or(config.denoiser.blocks),
        ..config.denoiser
    };
    config.training.steps = options.training_steps.unwrap_or(config.training.steps);
    config.training.batch_size = options.batch_size.unwrap_or(config.training.batch_size);
    config.training.learning_rate = options
        .learning_rate
        .unwrap_or(config.training.learning_rate);
    config.sampling_steps = options.sampling_steps.unwrap_or(config.sampling_steps);
    config.sampling_batch = options.sampling_batch.unwrap_or(config.sampling_batch);
    config.classifier.epochs = options
        .classifier_epochs
        .unwrap_or(config.classifier.epochs);
    config.validate()?;
    Ok(config)
}

/// Runs (or resumes) the DDPM study and reports progress on stderr.
pub(super) fn run(args: &MadArgs) -> Result<()> {
    let config = study_config(args)?;
    log::info!(
        "{} loop of a conditional DDPM on {:?}, lambda {:?}, {} generations, T = {}, {} sampling steps",
        config.family.name(),
        config.dataset,
        config.lambdas,
        config.generations,
        config.diffusion_steps,
        config.sampling_steps
    );
    let gpu = Gpu::new()?;
    let bar = ProgressBar::new(config.training.steps as u64);
    bar.set_style(
        ProgressStyle::with_template("{prefix} {bar:30} {pos}/{len} {msg} ({elapsed})")
            .expect("valid template"),
    );
    let mut report = |event: &DdpmProgress| {
        match event {
        DdpmProgress::Classifier {
            epoch,
            epochs,
            loss,
        } => log::info!("feature classifier epoch {epoch}/{epochs}: loss {loss:.4}"),
        DdpmProgress::ClassifierReady { accuracy } => {
            log::info!("feature classifier test accuracy {:.2}%", 100.0 * accuracy)
        }
        DdpmProgress::Resumed {
            lambda,
            generations,
        } => log::info!("lambda {lambda}: resuming after {generations} finished generations"),
        DdpmProgress::Training {
            lambda,
            generation,
            step,
            steps,
            loss,
        } => {
            bar.set_length(*steps as u64);
            bar.set_prefix(format!("lambda {lambda} generation {generation} training"));
            bar.set_position(*step as u64);
            bar.set_message(format!("loss {loss:.4}"));
        }
        DdpmProgress::Sampling {
            lambda,
            generation,
            images,
        } => {
            bar.finish_and_clear();
            log::info!("lambda {lambda} generation {generation}: sampling {images} images");
        }
        DdpmProgress::Generation(metrics) => log::info!(
            "lambda {} generation {}: FID {:.3}, precision {:.3}, recall {:.3}, density {:.3}, coverage {:.3}, samples classified as their label {:.1}% ({:.0} s)",
            metrics.lambda,
            metrics.generation,
            metrics.fid,
            metrics.precision,
            metrics.recall,
            metrics.density,
            metrics.coverage,
            100.0 * metrics.sample_accuracy,
            metrics.seconds
        ),
    }
    };
    let summary = if args.ddpm.resume {
        mad_ddpm::resume(&gpu, &config, &args.out, &mut report)
    } else {
        mad_ddpm::run(&gpu, &config, &args.out, &mut report)
    }
    .with_context(|| format!("the DDPM study in {} failed", args.out.display()))?;
    bar.finish_and_clear();
    log::info!(
        "wrote metrics.csv, summary.json, figures and per-generation checkpoints to {} ({:.0} s)",
        args.out.display(),
        summary.seconds
    );
    Ok(())
}
