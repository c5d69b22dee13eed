//! Command-line front end: argument parsing and one module per subcommand.

mod fbp;
mod info;
mod mad;
mod mask;
mod metrics;
mod nftk;
mod ntk;
mod radon;
mod reproduce;
mod rntk;
mod slurm;
mod sweep;
mod titan;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// GPU-first compute for neural tangent kernels, recurrent NTKs, coordinate
/// networks and self-consuming generative loops.
#[derive(Debug, Parser)]
#[command(name = "maso", version, about, long_about = None)]
struct Cli {
    /// Log filter: a level (error, warn, info, debug, trace) or env_logger
    /// directives; RUST_LOG overrides it. The default hides wgpu_hal's probe
    /// messages about backends that are not installed (such as EGL).
    #[arg(long, global = true, default_value = "info,wgpu_hal=off")]
    log_level: String,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// List the GPU adapters wgpu finds, the one maso picks, and its features
    /// and limits. Adapter choice follows WGPU_BACKEND, WGPU_ADAPTER_NAME and
    /// WGPU_POWER_PREF.
    Info(info::InfoArgs),
    /// Compute infinite-width NNGP, NTK and per-layer NTK Gram matrices of a
    /// fully connected network between the rows of two `.npy` arrays.
    Ntk(ntk::NtkArgs),
    /// Train the NFT-K classifier (per-layer NTK kernels combined per class)
    /// on a data set and write its accuracy, layer weights and per-layer
    /// contributions as JSON, CSV and PNG.
    Nftk(nftk::NftkArgs),
    /// Compute recurrent NTK and NNGP Gram matrices of variable-length
    /// sequences (.ts, .npy, CSV, or the synthetic ODE data set).
    Rntk(rntk::RntkArgs),
    /// Run the MASK study: RNTK kernel PCA and kernel t-SNE of sequences
    /// against PCA and t-SNE of the zero-padded sequences, with scores.
    Mask(mask::MaskArgs),
    /// Write (and with --submit, submit) Slurm job-array scripts that
    /// compute a sharded `maso ntk` or `maso rntk` Gram matrix or the cells
    /// of a `maso mad` sweep.
    Slurm(slurm::SlurmArgs),
    /// Compare fake (generated) points with real ones: k-NN precision,
    /// recall, density and coverage, and the Fréchet distance between their
    /// Gaussian fits, written to metrics.json.
    Metrics(metrics::MetricsArgs),
    /// Run self-consuming loops of Gaussian or mixture models (fully
    /// synthetic, augmentation or fresh data) and score every generation.
    Mad(mad::MadArgs),
    /// Fit a coordinate network (SIREN, Fourier features, ReLU MLP or TITAN)
    /// to an image.
    Inr(titan::InrArgs),
    /// TITAN studies: super-resolution against other coordinate networks,
    /// the deep decoder and interpolation.
    Titan(titan::TitanArgs),
    /// Run the research studies end to end on bundled data (nftk, mask,
    /// titan, mad) and write figures, tables, summaries and reports, one
    /// folder per study.
    Reproduce(reproduce::ReproduceArgs),
    /// Gather the cells of a sweep directory into sweep.csv (and, for loop
    /// studies, a recall plot).
    Collect(sweep::CollectArgs),
    /// Compute the parallel-beam sinogram (Radon transform) of a square image
    /// or of the Shepp-Logan phantom on the GPU, as scikit-image's
    /// radon(circle=True) discretises it; writes .npy and PNG.
    Radon(radon::RadonArgs),
    /// Reconstruct an image from a sinogram .npy by filtered back-projection
    /// (ramp, shepp-logan, cosine, hamming or hann filter), as scikit-image's
    /// iradon(circle=True) computes it.
    Fbp(fbp::FbpArgs),
    /// Run the cells of a TOML sweep of any study (`command = "mad"`,
    /// `"mask"` or `"nftk"`), or one task's share of them.
    Sweep(sweep::SweepArgs),
}

/// Parses the command line, runs the subcommand and maps errors to exit code 1.
pub fn run() -> ExitCode {
    let cli = Cli::parse();
    env_logger::Builder::new()
        .parse_filters(&cli.log_level)
        .parse_env("RUST_LOG")
        .format_timestamp(None)
        .init();

    let result = dispatch(cli.command);
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// Runs one parsed subcommand (also used for the cells of a sweep).
fn dispatch(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Info(args) => info::run(&args),
        Command::Ntk(args) => ntk::run(&args),
        Command::Nftk(args) => nftk::run(&args),
        Command::Rntk(args) => rntk::run(&args),
        Command::Mask(args) => mask::run(&args),
        Command::Slurm(args) => slurm::run(&args),
        Command::Metrics(args) => metrics::run(&args),
        Command::Mad(args) => mad::run(&args),
        Command::Inr(args) => titan::run_inr(&args),
        Command::Titan(args) => titan::run_titan(&args),
        Command::Reproduce(args) => reproduce::run(&args),
        Command::Collect(args) => sweep::collect(&args),
        Command::Sweep(args) => sweep::run_sweep_command(&args),
        Command::Radon(args) => radon::run(&args),
        Command::Fbp(args) => fbp::run(&args),
    }
}

/// Parses `argv` (without the program name) as a maso command line and runs it.
fn run_arguments(argv: &[String]) -> anyhow::Result<()> {
    let cli = Cli::try_parse_from(std::iter::once("maso".to_string()).chain(argv.iter().cloned()))
        .map_err(|error| anyhow::anyhow!("{error}"))?;
    dispatch(cli.command)
}

/// Opens the GPUs named by `--devices`: `all` (every Vulkan, Metal or DX12
/// adapter, else every adapter), a comma-separated list of adapter indices
/// as `maso info` prints them, or the default adapter when absent.
pub fn open_devices(spec: Option<&str>) -> anyhow::Result<Vec<maso::Gpu>> {
    let options = maso::GpuOptions::from_env()?;
    let Some(spec) = spec else {
        return Ok(vec![maso::Gpu::with_options(&options)?]);
    };
    let adapters = maso::gpu::enumerate_adapters(options.backends);
    let indices: Vec<usize> = if spec.trim() == "all" {
        let native: Vec<usize> = adapters
            .iter()
            .enumerate()
            .filter(|(_, a)| {
                matches!(
                    a.get_info().backend,
                    wgpu::Backend::Vulkan | wgpu::Backend::Metal | wgpu::Backend::Dx12
                )
            })
            .map(|(i, _)| i)
            .collect();
        if native.is_empty() {
            (0..adapters.len()).collect()
        } else {
            native
        }
    } else {
        spec.split(',')
            .map(|part| {
                part.trim().parse::<usize>().map_err(|_| {
                    anyhow::anyhow!(
                        "invalid --devices {spec:?}: expected all or adapter indices such as 0,2"
                    )
                })
            })
            .collect::<anyhow::Result<_>>()?
    };
    if indices.is_empty() {
        anyhow::bail!("--devices {spec:?} selects no adapter; run `maso info` to list them");
    }
    indices
        .into_iter()
        .map(|index| {
            Ok(maso::Gpu::with_options(&maso::GpuOptions {
                adapter_index: Some(index),
                ..options.clone()
            })?)
        })
        .collect()
}

/// Hidden-layer nonlinearity as a command-line value.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum ActivationArg {
    /// max(x, 0).
    Relu,
    /// The error function.
    Erf,
}

impl From<ActivationArg> for maso::kernels::ntk::Activation {
    fn from(value: ActivationArg) -> Self {
        match value {
            ActivationArg::Relu => Self::Relu,
            ActivationArg::Erf => Self::Erf,
        }
    }
}

/// Element type of output `.npy` files as a command-line value.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum DtypeArg {
    /// float32.
    F32,
    /// float64.
    F64,
}

impl From<DtypeArg> for maso::kernels::ntk::NpyDtype {
    fn from(value: DtypeArg) -> Self {
        match value {
            DtypeArg::F32 => Self::Float32,
            DtypeArg::F64 => Self::Float64,
        }
    }
}
