//! Study sweeps: a TOML grid of `maso mad` settings split into cells, run
//! by tasks (`--task I/N`, one per Slurm array task or process), and
//! gathered by `maso collect` into one table and figure.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::{Args, Parser};

use maso::kernels::shard::Shard;
use maso::plot::line_chart;

use super::mad::{run_single, MadArgs};

/// Parses one cell's options exactly as the command line would.
#[derive(Debug, Parser)]
#[command(name = "maso mad")]
struct CellCommand {
    #[command(flatten)]
    args: MadArgs,
}

/// One cell: option name and value pairs, in a fixed order.
type Cell = Vec<(String, String)>;

fn scalar_text(value: &toml::Value, key: &str, file: &Path) -> Result<String> {
    match value {
        toml::Value::String(text) => Ok(text.clone()),
        toml::Value::Integer(number) => Ok(number.to_string()),
        toml::Value::Float(number) => Ok(number.to_string()),
        toml::Value::Boolean(flag) => Ok(flag.to_string()),
        _ => bail!("{}: {key} must be a string, number or boolean (or, in [grid], a list of them)", file.display()),
    }
}

/// Reads a sweep file into its cells (the cartesian product of the grid).
fn sweep_cells(file: &Path) -> Result<Vec<Cell>> {
    let text = std::fs::read_to_string(file).with_context(|| format!("failed to read sweep file {}", file.display()))?;
    let table: toml::Table = text.parse().with_context(|| format!("{} is not valid TOML", file.display()))?;
    let mut axes: Vec<(String, Vec<String>)> = Vec::new();
    for (key, value) in &table {
        if key == "grid" {
            continue;
        }
        axes.push((key.replace('_', "-"), vec![scalar_text(value, key, file)?]));
    }
    if let Some(grid) = table.get("grid") {
        let grid = grid.as_table().with_context(|| format!("{}: [grid] must be a table of lists", file.display()))?;
        for (key, value) in grid {
            let values = value.as_array().with_context(|| format!("{}: grid.{key} must be a list", file.display()))?;
            if values.is_empty() {
                bail!("{}: grid.{key} is empty; give at least one value", file.display());
            }
            let texts = values.iter().map(|v| scalar_text(v, key, file)).collect::<Result<Vec<_>>>()?;
            axes.push((key.replace('_', "-"), texts));
        }
    }
    for forbidden in ["out", "sweep", "task"] {
        if axes.iter().any(|(key, _)| key == forbidden) {
            bail!("{}: {forbidden} cannot be set in a sweep file; it comes from the command line", file.display());
        }
    }
    let mut cells: Vec<Cell> = vec![Vec::new()];
    for (key, values) in &axes {
        cells = cells
            .into_iter()
            .flat_map(|cell| values.iter().map(move |value| {
                let mut next = cell.clone();
                next.push((key.clone(), value.clone()));
                next
            }))
            .collect();
    }
    Ok(cells)
}

fn cell_directory(out: &Path, index: usize) -> PathBuf {
    out.join("cells").join(format!("cell-{index:04}"))
}

fn cell_arguments(cell: &Cell, out: &Path) -> Result<MadArgs> {
    let mut argv = vec!["maso mad".to_string()];
    for (key, value) in cell {
        argv.push(format!("--{key}"));
        argv.push(value.clone());
    }
    argv.push("--out".to_string());
    argv.push(out.display().to_string());
    let parsed = CellCommand::try_parse_from(&argv).map_err(|error| anyhow::anyhow!("invalid sweep cell {cell:?}: {error}"))?;
    Ok(parsed.args)
}

/// Runs the cells of task `task` (all cells without one) into `args.out`.
pub fn run_sweep(args: &MadArgs, file: &Path, task: Option<&str>) -> Result<()> {
    let cells = sweep_cells(file)?;
    let task = task.map(Shard::parse).transpose()?.unwrap_or_default();
    // Validate every cell before running any, so a typo fails at once.
    let parsed: Vec<MadArgs> = cells.iter().enumerate().map(|(index, cell)| cell_arguments(cell, &cell_directory(&args.out, index))).collect::<Result<_>>()?;
    std::fs::create_dir_all(&args.out).with_context(|| format!("failed to create {}", args.out.display()))?;
    let listing: Vec<BTreeMap<String, String>> = cells.iter().map(|cell| cell.iter().cloned().collect()).collect();
    std::fs::write(args.out.join("sweep.json"), serde_json::to_string_pretty(&serde_json::json!({ "file": file, "cells": listing }))?)
        .context("failed to write sweep.json")?;
    let mine: Vec<usize> = (0..cells.len()).filter(|index| index % task.count == task.index).collect();
    log::info!("sweep {}: {} cells, task {}/{} runs {}", file.display(), cells.len(), task.index, task.count, mine.len());
    for index in mine {
        let directory = cell_directory(&args.out, index);
        if directory.join("summary.json").is_file() {
            log::info!("cell {index} already finished; skipping it");
            continue;
        }
        log::info!("cell {index}: {:?}", cells[index]);
        run_single(&parsed[index]).with_context(|| format!("sweep cell {index} ({:?}) failed", cells[index]))?;
    }
    Ok(())
}

/// Options of `maso collect`.
#[derive(Debug, Args)]
pub struct CollectArgs {
    /// Sweep directory written by `maso mad --sweep ... --out DIR`.
    directory: PathBuf,
}

/// Gathers every cell's per-generation averages into `sweep.csv` and plots
/// recall and precision per cell.
pub fn collect(args: &CollectArgs) -> Result<()> {
    let listing_path = args.directory.join("sweep.json");
    let listing: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&listing_path).with_context(|| format!("failed to read {}; is this a sweep directory?", listing_path.display()))?)
        .with_context(|| format!("{} is not valid JSON", listing_path.display()))?;
    let cells = listing["cells"].as_array().context("sweep.json lists no cells")?;
    let missing: Vec<usize> = (0..cells.len()).filter(|&i| !cell_directory(&args.directory, i).join("summary.json").is_file()).collect();
    if !missing.is_empty() {
        bail!("cells {missing:?} of {} have no summary.json yet; run their tasks (maso mad --sweep ... --task I/N) first", cells.len());
    }

    let keys: Vec<String> = cells.first().and_then(|c| c.as_object()).map(|o| o.keys().cloned().collect()).unwrap_or_default();
    let metrics = ["precision", "recall", "density", "coverage", "frechet", "wasserstein2", "trace", "modes"];
    let mut csv = format!("cell,{},generation,{}\n", keys.join(","), metrics.join(","));
    let mut recall_series = Vec::new();
    for (index, cell) in cells.iter().enumerate() {
        let summary_path = cell_directory(&args.directory, index).join("summary.json");
        let summary: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&summary_path)?).with_context(|| format!("{} is not valid JSON", summary_path.display()))?;
        let label: Vec<String> = keys.iter().map(|k| format!("{k}={}", cell[k].as_str().unwrap_or(""))).collect();
        let mut recall = Vec::new();
        for row in summary["averages"].as_array().context("summary.json has no averages")? {
            let generation = row["generation"].as_u64().unwrap_or(0);
            let values: Vec<String> = metrics.iter().map(|m| row[*m].as_f64().map_or(String::new(), |v| format!("{v:.6}"))).collect();
            let parameters: Vec<String> = keys.iter().map(|k| cell[k].as_str().unwrap_or("").to_string()).collect();
            let _ = writeln!(csv, "{index},{},{generation},{}", parameters.join(","), values.join(","));
            if let Some(value) = row["recall"].as_f64() {
                recall.push((generation as f64, value));
            }
        }
        if !recall.is_empty() {
            recall_series.push((label.join(" "), recall));
        }
    }
    std::fs::write(args.directory.join("sweep.csv"), csv).context("failed to write sweep.csv")?;
    if !recall_series.is_empty() {
        line_chart(&args.directory.join("sweep_recall.png"), "Recall by generation, one line per cell", "generation", "recall", &recall_series, false)?;
    }
    log::info!("collected {} cells into {}", cells.len(), args.directory.join("sweep.csv").display());
    Ok(())
}
