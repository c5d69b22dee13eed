//! `maso inr fit` (fit one coordinate network to an image) and `maso titan
//! sr` (the super-resolution comparison of TITAN with other networks and
//! interpolation).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};

use maso::ct::{shepp_logan, write_sinogram, FbpFilter, PhantomVariant};
use maso::imaging::{
    bundled_image, coordinate_grid, psnr, read_image, ssim, write_png, Image, Panel, PanelGrid,
};
use maso::nn::{fit, render, FitConfig, OptimizerConfig};
use maso::pipelines::titan::{super_resolve, NetworkSettings, SrConfig, SrMethod, SrReport};
use maso::pipelines::titan_ct::{reconstruct, CtConfig, CtMethod, CtReport};
use maso::plot::line_chart;
use maso::Gpu;

/// Reads `--image`: a PNG or JPEG path, or `bundled:NAME` for an image that
/// ships with maso.
pub fn load_image(spec: &str, grey: bool) -> Result<Image> {
    let image = match spec.strip_prefix("bundled:") {
        Some(name) => bundled_image(name)?,
        None => read_image(Path::new(spec))?,
    };
    Ok(if grey { image.to_grey() } else { image })
}

fn progress_bar(total: usize, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(total as u64);
    let template = format!("{what} {{bar:30}} {{pos}}/{{len}} steps, loss {{msg}}, {{eta}} left");
    bar.set_style(ProgressStyle::with_template(&template).expect("valid template"));
    bar
}

fn create_dir(path: &Path) -> Result<()> {
    std::fs::create_dir_all(path)
        .with_context(|| format!("failed to create the output folder {}", path.display()))
}

fn write_text(path: &Path, text: &str) -> Result<()> {
    std::fs::write(path, text).with_context(|| format!("failed to write {}", path.display()))
}

/// Coordinate networks as a command-line value.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ModelArg {
    /// TITAN (deep-decoder stack with coordinate features).
    Titan,
    /// SIREN (sine layers).
    Siren,
    /// Fourier-feature ReLU MLP.
    Ffn,
    /// ReLU MLP on raw coordinates.
    Relu,
}

impl From<ModelArg> for SrMethod {
    fn from(value: ModelArg) -> Self {
        match value {
            ModelArg::Titan => SrMethod::Titan,
            ModelArg::Siren => SrMethod::Siren,
            ModelArg::Ffn => SrMethod::Ffn,
            ModelArg::Relu => SrMethod::Relu,
        }
    }
}

/// Network sizes shared by `inr fit` and `titan sr`.
#[derive(Debug, Clone, Args)]
pub struct NetworkArgs {
    /// Optimiser steps (full batch unless --batch-size is given).
    #[arg(long, default_value_t = 2000)]
    iters: usize,
    /// Adam learning rate.
    #[arg(long, default_value_t = 1e-3)]
    lr: f32,
    /// Network size preset: `paper` (TITAN 100 x 10, SIREN and Fourier MLP 256 x
    /// 3) or `quick` (smaller networks for software adapters).
    #[arg(long, value_enum, default_value_t = SizeArg::Paper)]
    preset: SizeArg,
    /// Width override for the chosen network(s).
    #[arg(long)]
    width: Option<usize>,
    /// TITAN depth D (decoder layers + 1).
    #[arg(long)]
    depth: Option<usize>,
    /// SIREN omega_0.
    #[arg(long)]
    omega: Option<f32>,
    /// Fourier-feature scale sigma.
    #[arg(long)]
    sigma: Option<f32>,
    /// Probability that a TITAN weight starts non-zero (0.01 in the sparse
    /// runs of the study; 1 is dense).
    #[arg(long, default_value_t = 1.0)]
    keep: f32,
    /// L1 strength mu of TITAN's Bregman (proximal) Adam; 0 is plain Adam.
    #[arg(long, default_value_t = 0.0)]
    l1: f32,
    /// Seed of initialisation and mini-batches.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Fit greyscale (the luma of an RGB image).
    #[arg(long)]
    grey: bool,
}

/// Network size presets.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum SizeArg {
    /// The study's sizes.
    Paper,
    /// Smaller networks for quick runs on software adapters.
    Quick,
}

impl NetworkArgs {
    fn settings(&self, channels: usize) -> Result<NetworkSettings> {
        let mut settings = match self.preset {
            SizeArg::Paper => NetworkSettings::paper(channels),
            SizeArg::Quick => NetworkSettings::quick(channels),
        };
        settings.iterations = self.iters;
        settings.learning_rate = self.lr;
        settings.seed = self.seed;
        settings.titan_l1 = self.l1;
        settings.titan.keep = self.keep;
        if let Some(width) = self.width {
            settings.titan.width = width;
            settings.siren.width = width;
            settings.mlp.width = width;
        }
        if let Some(depth) = self.depth {
            settings.titan.depth = depth;
        }
        if let Some(omega) = self.omega {
            settings.siren.omega = omega;
        }
        if let Some(sigma) = self.sigma {
            settings.mlp.fourier_scale = sigma;
        }
        if !(self.keep > 0.0 && self.keep <= 1.0) {
            bail!(
                "--keep {} is out of range: give a probability in (0, 1]",
                self.keep
            );
        }
        Ok(settings)
    }
}

/// `maso inr ...`.
#[derive(Debug, Clone, Args)]
pub struct InrArgs {
    #[command(subcommand)]
    command: InrCommand,
}

#[derive(Debug, Clone, Subcommand)]
enum InrCommand {
    /// Fit a coordinate network to an image and write the reconstruction,
    /// the loss curve and the weights.
    Fit(InrFitArgs),
}

/// Options of `maso inr fit`.
#[derive(Debug, Clone, Args)]
pub struct InrFitArgs {
    /// PNG or JPEG image, or `bundled:NAME` (camera, astronaut, ...).
    #[arg(long)]
    image: String,
    /// The network.
    #[arg(long, value_enum, default_value_t = ModelArg::Siren)]
    model: ModelArg,
    #[command(flatten)]
    network: NetworkArgs,
    /// Coordinates per step (default: all pixels, full batch).
    #[arg(long)]
    batch_size: Option<usize>,
    /// Also render the trained network at this size, e.g. 1024x1024.
    #[arg(long)]
    render: Option<String>,
    /// Output folder.
    #[arg(long)]
    out: PathBuf,
}

/// Runs `maso inr`.
pub fn run_inr(args: &InrArgs) -> Result<()> {
    match &args.command {
        InrCommand::Fit(args) => run_fit(args),
    }
}

fn parse_size(text: &str) -> Result<(usize, usize)> {
    let parsed = text.split_once('x').and_then(|(w, h)| {
        Some((
            w.trim().parse::<usize>().ok()?,
            h.trim().parse::<usize>().ok()?,
        ))
    });
    match parsed {
        Some((w, h)) if w > 0 && h > 0 => Ok((w, h)),
        _ => bail!("--render {text:?} is not a size: write WIDTHxHEIGHT, e.g. 1024x768"),
    }
}

fn run_fit(args: &InrFitArgs) -> Result<()> {
    let image = load_image(&args.image, args.network.grey)?;
    let render_size = args.render.as_deref().map(parse_size).transpose()?;
    let settings = args.network.settings(image.channels())?;
    let method = SrMethod::from(args.model);
    let gpu = Gpu::new()?;
    log::info!(
        "fitting {} to a {} x {} image with {} channels, {} steps on {}",
        method.name(),
        image.width(),
        image.height(),
        image.channels(),
        settings.iterations,
        gpu.info().name
    );
    let mut network = settings.network(&gpu, method, image.channels())?;
    let config = FitConfig {
        iterations: settings.iterations,
        optimizer: OptimizerConfig {
            learning_rate: settings.learning_rate,
            l1: if method == SrMethod::Titan {
                settings.titan_l1
            } else {
                0.0
            },
            ..OptimizerConfig::default()
        },
        batch_size: args.batch_size,
        seed: settings.seed,
    };
    let coordinates = coordinate_grid(image.width(), image.height());
    let bar = progress_bar(settings.iterations, method.name());
    let report = fit(
        &gpu,
        network.as_mut(),
        &coordinates,
        image.data(),
        &config,
        &mut |step, loss| {
            bar.set_position(step as u64);
            bar.set_message(format!("{loss:.3e}"));
        },
    )?;
    bar.finish_and_clear();

    create_dir(&args.out)?;
    let rendered = render(&gpu, network.as_ref(), &coordinates)?;
    let reconstruction = Image::new(
        image.width(),
        image.height(),
        image.channels(),
        rendered.into_iter().map(|v| v.clamp(0.0, 1.0)).collect(),
    )?;
    write_png(&args.out.join("reconstruction.png"), &reconstruction)?;
    if let Some((width, height)) = render_size {
        let values = render(&gpu, network.as_ref(), &coordinate_grid(width, height))?;
        let upscaled = Image::new(
            width,
            height,
            image.channels(),
            values.into_iter().map(|v| v.clamp(0.0, 1.0)).collect(),
        )?;
        write_png(
            &args.out.join(format!("render_{width}x{height}.png")),
            &upscaled,
        )?;
    }
    network.store().save(&gpu, &args.out.join("weights"))?;
    write_losses(
        &args.out,
        &[(method.name().to_string(), report.losses.clone())],
    )?;
    let summary = serde_json::json!({
        "image": args.image,
        "model": method.name(),
        "settings": settings,
        "batch_size": args.batch_size,
        "adapter": gpu.info().name,
        "psnr": psnr(&image, &reconstruction)?,
        "ssim": ssim(&image, &reconstruction)?,
        "final_loss": report.losses.last(),
        "seconds": report.seconds,
        "steps_per_second": report.steps_per_second(),
        "parameters": network.store().trainable_count(),
        "nonzero_parameters": network.store().nonzero_count(&gpu)?,
    });
    write_text(
        &args.out.join("summary.json"),
        &serde_json::to_string_pretty(&summary)?,
    )?;
    log::info!(
        "PSNR {:.2} dB after {} steps ({:.1} steps/s); wrote {}",
        summary["psnr"].as_f64().unwrap_or(f64::NAN),
        settings.iterations,
        report.steps_per_second(),
        args.out.display()
    );
    Ok(())
}

/// Writes `losses.csv` (one column per series) and `loss.png`.
fn write_losses(out: &Path, series: &[(String, Vec<f32>)]) -> Result<()> {
    let steps = series
        .iter()
        .map(|(_, losses)| losses.len())
        .max()
        .unwrap_or(0);
    let mut text = String::from("step");
    for (name, _) in series {
        let _ = write!(text, ",{name}");
    }
    text.push('\n');
    for step in 0..steps {
        let _ = write!(text, "{}", step + 1);
        for (_, losses) in series {
            match losses.get(step) {
                Some(loss) => {
                    let _ = write!(text, ",{loss:e}");
                }
                None => text.push(','),
            }
        }
        text.push('\n');
    }
    write_text(&out.join("losses.csv"), &text)?;
    let curves: Vec<(String, Vec<(f64, f64)>)> = series
        .iter()
        .filter(|(_, losses)| !losses.is_empty())
        .map(|(name, losses)| {
            (
                name.clone(),
                losses
                    .iter()
                    .enumerate()
                    .map(|(i, &l)| ((i + 1) as f64, f64::from(l)))
                    .collect(),
            )
        })
        .collect();
    if !curves.is_empty() {
        line_chart(
            &out.join("loss.png"),
            "Training loss",
            "step",
            "mean squared error",
            &curves,
            true,
        )?;
    }
    Ok(())
}

/// `maso titan ...`.
#[derive(Debug, Clone, Args)]
pub struct TitanArgs {
    #[command(subcommand)]
    command: TitanCommand,
}

#[derive(Debug, Clone, Subcommand)]
enum TitanCommand {
    /// Super-resolution: downsample an image, fit each method on the low
    /// resolution, render at the full resolution and score PSNR and SSIM.
    Sr(SrArgs),
    /// Sparse-view CT: reconstruct a phantom from few projection angles by
    /// filtered back-projection and by networks fitted through the Radon
    /// transform, and score PSNR and SSIM.
    Ct(CtArgs),
}

/// Options of `maso titan sr`.
#[derive(Debug, Clone, Args)]
pub struct SrArgs {
    /// PNG or JPEG ground truth, or `bundled:NAME`.
    #[arg(long, default_value = "bundled:camera")]
    image: String,
    /// Downsampling factor. Sizes that are not multiples of it are cropped
    /// at the right and bottom edges (the table records how much).
    #[arg(long, default_value_t = 4)]
    scale: usize,
    /// Methods, comma-separated: titan, siren, ffn, relu, deep-decoder,
    /// bicubic, bilinear.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "titan,siren,ffn,deep-decoder,bicubic"
    )]
    models: Vec<String>,
    #[command(flatten)]
    network: NetworkArgs,
    /// Side of the square grid for the Lipschitz estimate (default: the
    /// full-resolution pixel grid).
    #[arg(long)]
    lipschitz_grid: Option<usize>,
    /// Output folder.
    #[arg(long)]
    out: PathBuf,
}

/// Runs `maso titan`.
pub fn run_titan(args: &TitanArgs) -> Result<()> {
    match &args.command {
        TitanCommand::Sr(args) => run_sr(args),
        TitanCommand::Ct(args) => run_ct(args),
    }
}

fn run_sr(args: &SrArgs) -> Result<()> {
    let image = load_image(&args.image, args.network.grey)?;
    let methods = args
        .models
        .iter()
        .map(|name| name.trim().parse::<SrMethod>())
        .collect::<maso::Result<Vec<_>>>()?;
    let config = SrConfig {
        scale: args.scale,
        methods,
        networks: args.network.settings(image.channels())?,
        lipschitz_grid: args.lipschitz_grid,
    };
    let gpu = Gpu::new()?;
    log::info!(
        "x{} super-resolution of a {} x {} image with {} on {}",
        args.scale,
        image.width(),
        image.height(),
        args.models.join(", "),
        gpu.info().name
    );
    let bar = progress_bar(config.networks.iterations, "training");
    let report = super_resolve(&gpu, &image, &config, &mut |method, step, loss| {
        bar.set_prefix(method.name());
        bar.set_position(step as u64);
        bar.set_message(format!("{loss:.3e} ({})", method.name()));
    })?;
    bar.finish_and_clear();
    if report.cropped != (0, 0) {
        log::warn!(
            "cropped {} x {} pixels so that the size divides by {}",
            report.cropped.0,
            report.cropped.1,
            args.scale
        );
    }
    write_sr_outputs(&args.out, &report, &config, &gpu)?;
    for result in &report.results {
        log::info!(
            "{:>13}: PSNR {:6.2} dB, SSIM {:.4}",
            result.method.name(),
            result.psnr,
            result.ssim
        );
    }
    log::info!("wrote {}", args.out.display());
    Ok(())
}

/// Writes every image, the panel, the tables and the loss curves of a
/// super-resolution run.
pub fn write_sr_outputs(out: &Path, report: &SrReport, config: &SrConfig, gpu: &Gpu) -> Result<()> {
    create_dir(out)?;
    write_png(&out.join("ground_truth.png"), &report.ground_truth)?;
    write_png(&out.join("low_resolution.png"), &report.low_resolution)?;
    for result in &report.results {
        write_png(
            &out.join(format!("{}.png", result.method.name())),
            &result.image,
        )?;
    }
    write_sr_panel(&out.join("panel.png"), report)?;

    let mut csv = String::from(
        "method,psnr_db,ssim,lipschitz,parameters,nonzero_parameters,seconds,steps_per_second\n",
    );
    for r in &report.results {
        let optional = |value: Option<f64>| value.map_or(String::new(), |v| format!("{v:.6}"));
        let _ = writeln!(
            csv,
            "{},{:.4},{:.6},{},{},{},{:.3},{}",
            r.method.name(),
            r.psnr,
            r.ssim,
            optional(r.lipschitz),
            r.parameters,
            r.nonzero_parameters,
            r.seconds,
            optional(r.steps_per_second)
        );
    }
    write_text(&out.join("results.csv"), &csv)?;
    let summary = serde_json::json!({
        "config": config,
        "adapter": gpu.info().name,
        "ground_truth_size": [report.ground_truth.width(), report.ground_truth.height()],
        "low_resolution_size": [report.low_resolution.width(), report.low_resolution.height()],
        "cropped_pixels": [report.cropped.0, report.cropped.1],
        "scores_at": "final iteration",
        "results": report.results,
    });
    write_text(
        &out.join("results.json"),
        &serde_json::to_string_pretty(&summary)?,
    )?;
    let losses: Vec<(String, Vec<f32>)> = report
        .results
        .iter()
        .map(|r| (r.method.name().to_string(), r.losses.clone()))
        .collect();
    write_losses(out, &losses)
}

/// Ground truth, low resolution and every method side by side, each with a
/// zoomed crop of the centre.
fn write_sr_panel(path: &Path, report: &SrReport) -> Result<()> {
    let truth = &report.ground_truth;
    let side = (truth.width().min(truth.height()) / 4).max(1);
    let (x, y) = ((truth.width() - side) / 2, (truth.height() - side) / 2);
    let mut panel = Panel::new(report.results.len() + 1);
    panel.add("ground truth", truth);
    for result in &report.results {
        panel.add(
            &format!(
                "{} {:.2} dB / {:.3}",
                result.method.name(),
                result.psnr,
                result.ssim
            ),
            &result.image,
        );
    }
    panel.zoom(x, y, side, side, 2);
    panel.save(path)?;
    Ok(())
}

/// Options of `maso titan ct`.
#[derive(Debug, Clone, Args)]
pub struct CtArgs {
    /// Test object: `shepp-logan` (scikit-image's modified intensities, 0
    /// to 1), `shepp-logan-original` (the 1974 intensities, 0 to 2), or a
    /// square PNG or JPEG image (converted to grey).
    #[arg(long, default_value = "shepp-logan")]
    phantom: String,
    /// Side of the phantom in pixels (an image file keeps its own size).
    #[arg(long, default_value_t = 256)]
    size: usize,
    /// Numbers of projection angles, comma-separated, each spread evenly over
    /// [0, 180) degrees.
    #[arg(long, value_delimiter = ',', default_value = "20,50,100")]
    angles: Vec<usize>,
    /// Add Gaussian measurement noise at this signal-to-noise ratio (dB).
    #[arg(long)]
    noise_snr: Option<f64>,
    /// Methods, comma-separated: fbp, siren, ffn, relu, titan.
    #[arg(long, value_delimiter = ',', default_value = "fbp,siren,ffn,titan")]
    models: Vec<String>,
    /// Filter of the FBP baseline: ramp, shepp-logan, cosine, hamming, hann.
    #[arg(long, default_value = "ramp")]
    filter: String,
    #[command(flatten)]
    network: NetworkArgs,
    /// Output folder.
    #[arg(long)]
    out: PathBuf,
}

/// Returns the phantom's side and pixels (row-major, grey).
fn load_phantom(args: &CtArgs) -> Result<(usize, Vec<f32>)> {
    let variant = match args.phantom.as_str() {
        "shepp-logan" => Some(PhantomVariant::Modified),
        "shepp-logan-original" => Some(PhantomVariant::Original),
        _ => None,
    };
    if let Some(variant) = variant {
        return Ok((args.size, shepp_logan(args.size, variant)?));
    }
    let image = read_image(Path::new(&args.phantom))
        .with_context(|| {
            format!(
                "--phantom {:?} is neither shepp-logan, shepp-logan-original nor a readable image",
                args.phantom
            )
        })?
        .to_grey();
    if image.width() != image.height() {
        bail!(
            "--phantom {} is {} x {} pixels; CT reconstruction needs a square image (crop or pad it to a square first)",
            args.phantom,
            image.width(),
            image.height()
        );
    }
    Ok((image.width(), image.into_data()))
}

fn run_ct(args: &CtArgs) -> Result<()> {
    let (size, phantom) = load_phantom(args)?;
    let methods = args
        .models
        .iter()
        .map(|name| name.trim().parse::<CtMethod>())
        .collect::<maso::Result<Vec<_>>>()?;
    let config = CtConfig {
        angle_counts: args.angles.clone(),
        methods,
        filter: args.filter.parse::<FbpFilter>()?,
        noise_snr_db: args.noise_snr,
        noise_seed: args.network.seed,
        networks: args.network.settings(1)?,
    };
    let gpu = Gpu::new()?;
    log::info!(
        "CT of a {size} x {size} phantom from {:?} angles with {} on {}",
        args.angles,
        args.models.join(", "),
        gpu.info().name
    );
    let bar = progress_bar(config.networks.iterations, "training");
    let report = reconstruct(
        &gpu,
        size,
        &phantom,
        &config,
        &mut |angles, method, step, loss| {
            bar.set_position(step as u64);
            bar.set_message(format!("{loss:.3e} ({} at {angles} angles)", method.name()));
        },
    )?;
    bar.finish_and_clear();
    write_ct_outputs(&args.out, &report, &config, &gpu)?;
    for result in &report.results {
        log::info!(
            "{:>4} angles {:>6}: PSNR {:6.2} dB, SSIM {:.4}",
            result.angles,
            result.method.name(),
            result.psnr,
            result.ssim
        );
    }
    log::info!("wrote {}", args.out.display());
    Ok(())
}

/// Writes the phantom, sinograms, reconstructions, the panel and the tables
/// of a CT run.
pub fn write_ct_outputs(out: &Path, report: &CtReport, config: &CtConfig, gpu: &Gpu) -> Result<()> {
    create_dir(out)?;
    write_png(&out.join("phantom.png"), &report.phantom)?;
    for (geometry, sinogram) in &report.sinograms {
        write_sinogram(
            out.join(format!("sinogram_{}.npy", geometry.angle_count())),
            geometry,
            sinogram,
        )?;
    }
    for result in &report.results {
        write_png(
            &out.join(format!("{}_{}.png", result.method.name(), result.angles)),
            &result.image,
        )?;
    }

    let mut rows = Vec::new();
    for &angles in &config.angle_counts {
        let mut row = vec![report.phantom.clone()];
        row.extend(
            report
                .results
                .iter()
                .filter(|r| r.angles == angles)
                .map(|r| r.image.clone()),
        );
        rows.push(row);
    }
    let mut column_labels = vec!["phantom".to_string()];
    column_labels.extend(config.methods.iter().map(|m| m.name().to_string()));
    let grid = PanelGrid {
        title: Some("CT reconstructions (rows: projection angles)".to_string()),
        row_labels: config
            .angle_counts
            .iter()
            .map(|a| format!("{a} angles"))
            .collect(),
        column_labels,
        images: rows,
        zoom: None,
    };
    grid.save(&out.join("panel.png"))?;

    let mut csv = String::from("angles,method,psnr_db,ssim,seconds,final_loss\n");
    for r in &report.results {
        let _ = writeln!(
            csv,
            "{},{},{:.4},{:.6},{:.3},{}",
            r.angles,
            r.method.name(),
            r.psnr,
            r.ssim,
            r.seconds,
            r.final_loss.map_or(String::new(), |l| format!("{l:e}"))
        );
    }
    write_text(&out.join("results.csv"), &csv)?;
    let summary = serde_json::json!({
        "config": config,
        "adapter": gpu.info().name,
        "size": report.phantom.width(),
        "scores": "reconstructions clamped to [0, 1] and zero outside the inscribed circle, scored at the final iteration",
        "results": report.results,
    });
    write_text(
        &out.join("results.json"),
        &serde_json::to_string_pretty(&summary)?,
    )
}
