//! `maso rntk`: recurrent NTK and NNGP Gram matrices of sequence sets.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};

use super::ActivationArg;
use super::DtypeArg;
use indicatif::{ProgressBar, ProgressStyle};

use maso::data::sequences::{load_sequences_with, MissingValues, SequenceSet, SEQUENCE_SPEC_HELP};
use maso::kernels::ntk::NpySink;
use maso::kernels::rntk::{compute_rntk_gram_selected, Readout, RntkConfig, SequenceInputs};
use maso::kernels::shard::{Fingerprint, Shard, TileManifest};
use maso::kernels::tiling::TileSelection;
use maso::Gpu;

/// Options of `maso rntk`.
#[derive(Debug, Args)]
pub struct RntkArgs {
    /// Sequences: a .ts file, a directory with X.npy (and lengths.npy, y.npy),
    /// a CSV file, `ode[:SEED]` or `japanese-vowels`.
    #[arg(long)]
    sequences: String,
    /// Second set of sequences (default: the first, computing half of the pairs).
    #[arg(long)]
    sequences2: Option<String>,
    /// Number of recurrent layers L.
    #[arg(long, visible_alias = "layers", default_value_t = 1)]
    depth: usize,
    /// Nonlinearity.
    #[arg(long, value_enum, default_value_t = ActivationArg::Relu)]
    activation: ActivationArg,
    /// Recurrent weight scale sigma_w.
    #[arg(long, default_value_t = std::f64::consts::SQRT_2, allow_negative_numbers = true)]
    sw: f64,
    /// Input weight scale sigma_u.
    #[arg(long, default_value_t = 1.0, allow_negative_numbers = true)]
    su: f64,
    /// Bias scale sigma_b.
    #[arg(long, default_value_t = 0.1, allow_negative_numbers = true)]
    sb: f64,
    /// Initial hidden state scale sigma_h.
    #[arg(long, default_value_t = 0.0, allow_negative_numbers = true)]
    sh: f64,
    /// Output weight scale sigma_v.
    #[arg(long, default_value_t = 1.0, allow_negative_numbers = true)]
    sv: f64,
    /// Read-out: the last hidden state, or the mean over all steps.
    #[arg(long, value_enum, default_value_t = ReadoutArg::Last)]
    readout: ReadoutArg,
    /// Input scaling: none, each sequence to unit l2 norm, or every sequence
    /// divided by the largest norm of its set.
    #[arg(long, value_enum, default_value_t = NormalizeArg::None)]
    normalize: NormalizeArg,
    /// Fill missing values (`?` in .ts, NaN) by linear interpolation instead of failing.
    #[arg(long)]
    interpolate_missing: bool,
    /// Element type of the output files.
    #[arg(long, value_enum, default_value_t = DtypeArg::F32)]
    dtype: DtypeArg,
    /// Tile edge in sequence pairs (default: sized from the adapter's
    /// limits, or 1024 with --shard so that every shard uses the same grid).
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
enum ReadoutArg {
    Last,
    Mean,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
enum NormalizeArg {
    None,
    Unit,
    Max,
}

/// Cumulative step offsets of a sequence set (count + 1 entries).
pub fn step_offsets(set: &SequenceSet) -> Vec<usize> {
    let mut offsets = Vec::with_capacity(set.n_sequences() + 1);
    offsets.push(0);
    for &length in set.lengths() {
        offsets.push(offsets.last().copied().unwrap_or(0) + length);
    }
    offsets
}

fn load(spec: &str, args: &RntkArgs) -> Result<SequenceSet> {
    let missing = if args.interpolate_missing {
        MissingValues::Interpolate
    } else {
        MissingValues::Reject
    };
    let mut set = load_sequences_with(spec, missing)
        .with_context(|| format!("accepted sequence sources: {SEQUENCE_SPEC_HELP}"))?;
    match args.normalize {
        NormalizeArg::None => {}
        NormalizeArg::Unit => set.normalize_unit_l2()?,
        NormalizeArg::Max => {
            set.scale_by_max_norm()?;
        }
    }
    Ok(set)
}

/// Loads the sequences, computes the Gram matrices into `--out` and writes
/// `rntk.json` with the configuration and timings.
pub fn run(args: &RntkArgs) -> Result<()> {
    let config = RntkConfig {
        layers: args.depth,
        activation: args.activation.into(),
        sw: args.sw,
        su: args.su,
        sb: args.sb,
        sh: args.sh,
        sv: args.sv,
        readout: match args.readout {
            ReadoutArg::Last => Readout::Last,
            ReadoutArg::Mean => Readout::Mean,
        },
    };
    config.validate()?;
    let set1 = load(&args.sequences, args)?;
    let set2 = args
        .sequences2
        .as_deref()
        .map(|spec| load(spec, args))
        .transpose()?;
    let offsets1 = step_offsets(&set1);
    let offsets2 = set2.as_ref().map(step_offsets);
    let inputs1 =
        SequenceInputs::new(set1.values(), &offsets1, set1.n_channels(), &args.sequences)?;
    let inputs2 = match (&set2, &offsets2) {
        (Some(set), Some(offsets)) => Some(SequenceInputs::new(
            set.values(),
            offsets,
            set.n_channels(),
            args.sequences2.as_deref().unwrap_or("second set"),
        )?),
        _ => None,
    };
    let (n1, n2) = (
        inputs1.count(),
        inputs2.as_ref().map_or(inputs1.count(), |s| s.count()),
    );
    log::info!(
        "{}: {n1} sequences of {} channels, lengths {} to {}",
        set1.name(),
        set1.n_channels(),
        set1.lengths().iter().min().unwrap_or(&0),
        set1.max_length()
    );

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
    let dtype = args.dtype.into();
    let names = ["nngp".to_string(), "ntk".to_string()];
    let shard = args.shard.as_deref().map(Shard::parse).transpose()?;
    let tile = match (shard, args.tile) {
        (Some(_), None) => Some(super::ntk::SHARDED_TILE),
        (_, tile) => tile,
    };
    let mut manifest = match shard {
        Some(_) => {
            let mut hash = Fingerprint::default();
            hash.update(serde_json::to_string(&config)?.as_bytes());
            hash.update(bytemuck::cast_slice(set1.values()));
            for length in set1.lengths() {
                hash.update(&length.to_le_bytes());
            }
            if let Some(set) = &set2 {
                hash.update(bytemuck::cast_slice(set.values()));
                for length in set.lengths() {
                    hash.update(&length.to_le_bytes());
                }
            }
            hash.update(format!("{tile:?} {dtype:?} {:?}", args.normalize).as_bytes());
            Some(TileManifest::open(&args.out, &hash)?)
        }
        None => None,
    };
    let mut sink = match shard {
        Some(_) => NpySink::open_shared(&args.out, &names, n1, n2, dtype)?,
        None => NpySink::create(&args.out, &names, n1, n2, dtype)?,
    };
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} tiles, {elapsed} elapsed, {eta} left")
            .expect("valid template"),
    );
    let selection = TileSelection {
        shard: shard.unwrap_or_default(),
        manifest: manifest.as_mut(),
    };
    let report = compute_rntk_gram_selected(
        &gpus[0],
        &extra,
        &config,
        &inputs1,
        inputs2.as_ref(),
        tile,
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
        "sequences": args.sequences,
        "sequences2": args.sequences2,
        "normalize": format!("{:?}", args.normalize).to_lowercase(),
        "shape": [n1, n2],
        "shard": shard,
        "files": sink.paths(),
        "labels": set1.labels(),
        "class_names": set1.class_names(),
        "adapter": gpu.info().name,
        "report": report,
    });
    let summary_path = match shard {
        Some(shard) => args.out.join(format!(
            "rntk.shard-{}-of-{}.json",
            shard.index, shard.count
        )),
        None => args.out.join("rntk.json"),
    };
    std::fs::write(&summary_path, serde_json::to_string_pretty(&summary)?)
        .with_context(|| format!("failed to write {}", summary_path.display()))?;
    log::info!(
        "wrote nngp.npy and ntk.npy ({n1} x {n2}) to {} in {:.2} s",
        args.out.display(),
        report.wall_seconds
    );
    Ok(())
}
