//! `maso ntk`: NNGP, NTK and per-layer NTK Gram matrices written as `.npy`.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};

use super::ActivationArg;
use super::DtypeArg;
use indicatif::{ProgressBar, ProgressStyle};

use maso::io::npy;
use maso::kernels::ntk::{
    component_names, compute_ntk_gram_selected, GramOptions, Inputs, NpyDtype, NpySink, NtkConfig,
    Parameterization,
};
use maso::kernels::shard::{Fingerprint, Shard, TileManifest};
use maso::kernels::tiling::TileSelection;

/// Tile edge of sharded runs, fixed so that shards on different adapters agree.
pub const SHARDED_TILE: usize = 1024;

/// Hash of everything that determines the output files, so that a manifest
/// left by other inputs or settings is recognised.
fn fingerprint(
    config: &NtkConfig,
    x1: &[f32],
    x2: Option<&[f32]>,
    per_layer: bool,
    tile: Option<usize>,
    dtype: NpyDtype,
) -> Fingerprint {
    let mut hash = Fingerprint::default();
    hash.update(serde_json::to_string(config).unwrap_or_default().as_bytes());
    hash.update(bytemuck::cast_slice(x1));
    hash.update(&[u8::from(x2.is_some())]);
    hash.update(bytemuck::cast_slice(x2.unwrap_or(&[])));
    hash.update(format!("{per_layer} {tile:?} {dtype:?}").as_bytes());
    hash
}
use maso::Gpu;

/// Options of `maso ntk`.
#[derive(Debug, Args)]
pub struct NtkArgs {
    /// Inputs X1 as a 2-D `.npy` array (points x features).
    #[arg(long)]
    x1: PathBuf,
    /// Inputs X2 (default: X1, which computes only half of the tiles).
    #[arg(long)]
    x2: Option<PathBuf>,
    /// Number of hidden layers L (the network has L + 1 dense layers).
    #[arg(long, default_value_t = 1)]
    depth: usize,
    /// Hidden-layer nonlinearity.
    #[arg(long, value_enum, default_value_t = ActivationArg::Relu)]
    activation: ActivationArg,
    /// Weight standard deviation sigma_w.
    #[arg(long, default_value_t = 1.0, allow_negative_numbers = true)]
    w_std: f64,
    /// Bias standard deviation sigma_b; omit for a network without biases.
    #[arg(long, allow_negative_numbers = true)]
    b_std: Option<f64>,
    /// Weight scaling convention, as in neural-tangents.
    #[arg(long, value_enum, default_value_t = ParameterizationArg::Ntk)]
    parameterization: ParameterizationArg,
    /// Hidden width; only the standard parameterization's NTK depends on it.
    #[arg(long, default_value_t = 512)]
    width: usize,
    /// Element type of the output files.
    #[arg(long, value_enum, default_value_t = DtypeArg::F32)]
    dtype: DtypeArg,
    /// Skip the per-layer terms layer_<h>.npy.
    #[arg(long)]
    no_layers: bool,
    /// Tile edge in entries (default: sized from the adapter's limits, or
    /// 1024 with --shard so that every shard uses the same tile grid).
    #[arg(long)]
    tile: Option<usize>,
    /// Compute only shard I of N (numbered from 0, as Slurm array tasks are)
    /// into shared output files; tiles listed in DIR/manifest.tiles are
    /// skipped, so a rerun resumes.
    #[arg(long)]
    shard: Option<String>,
    /// GPUs to use: `all`, or adapter indices as `maso info` lists them
    /// (such as 0,2); one worker per GPU takes tiles from a shared queue.
    #[arg(long)]
    devices: Option<String>,
    /// Output directory (created if missing).
    #[arg(long)]
    out: PathBuf,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ParameterizationArg {
    Ntk,
    Standard,
}

/// Loads the inputs, computes the Gram matrices tile by tile into `--out`
/// and writes `ntk.json` with the configuration and timings.
pub fn run(args: &NtkArgs) -> Result<()> {
    let config = NtkConfig {
        depth: args.depth,
        activation: args.activation.into(),
        w_std: args.w_std,
        b_std: args.b_std,
        parameterization: match args.parameterization {
            ParameterizationArg::Ntk => Parameterization::Ntk,
            ParameterizationArg::Standard => Parameterization::Standard,
        },
        width: args.width,
    };
    config.validate()?;

    let (n1, d1, x1_values) = npy::read_matrix_f32(&args.x1)?;
    let x1 = Inputs::new(&x1_values, n1, d1, &args.x1.display().to_string())?;
    let x2_data = match &args.x2 {
        Some(path) => Some((npy::read_matrix_f32(path)?, path.display().to_string())),
        None => None,
    };
    let x2 = match &x2_data {
        Some(((n2, d2, values), name)) => Some(Inputs::new(values, *n2, *d2, name)?),
        None => None,
    };
    let n2 = x2.as_ref().map_or(n1, |x| x.count);

    let gpus = super::open_devices(args.devices.as_deref())?;
    let gpu = &gpus[0];
    let extra: Vec<&Gpu> = gpus[1..].iter().collect();
    if gpus.len() > 1 {
        log::info!(
            "using {} devices: {}",
            gpus.len(),
            gpus.iter()
                .map(|g| g.info().name.clone())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let per_layer = !args.no_layers;
    let names = component_names(config.depth, per_layer);
    let dtype = args.dtype.into();
    let shard = args.shard.as_deref().map(Shard::parse).transpose()?;
    let tile = match (shard, args.tile) {
        (Some(_), None) => Some(SHARDED_TILE),
        (_, tile) => tile,
    };
    let mut manifest = match shard {
        Some(_) => Some(TileManifest::open(
            &args.out,
            &fingerprint(
                &config,
                &x1_values,
                x2_data.as_ref().map(|d| d.0 .2.as_slice()),
                per_layer,
                tile,
                dtype,
            ),
        )?),
        None => None,
    };
    let mut sink = match shard {
        Some(_) => NpySink::open_shared(&args.out, &names, n1, n2, dtype)?,
        None => NpySink::create(&args.out, &names, n1, n2, dtype)?,
    };
    log::info!(
        "computing {} Gram matrices of {n1} x {n2} ({} per file) into {}",
        names.len(),
        human_bytes(n1 as u64 * n2 as u64 * if dtype == NpyDtype::Float32 { 4 } else { 8 }),
        args.out.display()
    );

    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} tiles, {elapsed} elapsed, {eta} left")
            .expect("valid template"),
    );
    let options = GramOptions { per_layer, tile };
    let selection = TileSelection {
        shard: shard.unwrap_or_default(),
        manifest: manifest.as_mut(),
    };
    let report = compute_ntk_gram_selected(
        &gpus[0],
        &extra,
        &config,
        &x1,
        x2.as_ref(),
        &options,
        &mut sink,
        selection,
        &mut |done, total| {
            bar.set_length(total as u64);
            bar.set_position(done as u64);
        },
    )?;
    bar.finish_and_clear();

    let summary = serde_json::json!({
        "config": config,
        "x1": args.x1,
        "x2": args.x2,
        "shape": [n1, n2],
        "dtype": format!("{dtype:?}"),
        "shard": shard,
        "files": sink.paths(),
        "adapter": gpu.info().name,
        "backend": format!("{:?}", gpu.info().backend),
        "report": report,
        "entries_per_second": (n1 * n2) as f64 / report.wall_seconds.max(1e-12),
    });
    let summary_path = match shard {
        Some(shard) => args
            .out
            .join(format!("ntk.shard-{}-of-{}.json", shard.index, shard.count)),
        None => args.out.join("ntk.json"),
    };
    std::fs::write(&summary_path, serde_json::to_string_pretty(&summary)?)
        .with_context(|| format!("failed to write {}", summary_path.display()))?;
    log::info!(
        "wrote {} files to {} in {:.2} s ({:.3e} entries per second)",
        names.len(),
        args.out.display(),
        report.wall_seconds,
        (n1 * n2) as f64 / report.wall_seconds.max(1e-12)
    );
    Ok(())
}

fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}
