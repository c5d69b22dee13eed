//! Study sweeps: a TOML grid of `maso mad` settings split into cells, run
//! by tasks (`--task I/N`, one per Slurm array task or process), and
//! gathered by `maso collect` into one table and figure.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::Args;

use maso::kernels::shard::Shard;
use maso::plot::line_chart;

use super::mad::MadArgs;

/// One cell: option name and value pairs, in a fixed order.
type Cell = Vec<(String, String)>;

fn scalar_text(value: &toml::Value, key: &str, file: &Path) -> Result<String> {
    match value {
        toml::Value::String(text) => Ok(text.clone()),
        toml::Value::Integer(number) => Ok(number.to_string()),
        toml::Value::Float(number) => Ok(number.to_string()),
        toml::Value::Boolean(flag) => Ok(flag.to_string()),
        _ => bail!(
            "{}: {key} must be a string, number or boolean (or, in [grid], a list of them)",
            file.display()
        ),
    }
}

/// Reads a sweep file into its cells (the cartesian product of the grid).
fn sweep_cells(file: &Path) -> Result<Vec<Cell>> {
    let text = std::fs::read_to_string(file)
        .with_context(|| format!("failed to read sweep file {}", file.display()))?;
    let table: toml::Table = text
        .parse()
        .with_context(|| format!("{} is not valid TOML", file.display()))?;
    let mut axes: Vec<(String, Vec<String>)> = Vec::new();
    for (key, value) in &table {
        if key == "grid" || key == "command" {
            continue;
        }
        axes.push((key.replace('_', "-"), vec![scalar_text(value, key, file)?]));
    }
    if let Some(grid) = table.get("grid") {
        let grid = grid
            .as_table()
            .with_context(|| format!("{}: [grid] must be a table of lists", file.display()))?;
        for (key, value) in grid {
            let values = value
                .as_array()
                .with_context(|| format!("{}: grid.{key} must be a list", file.display()))?;
            if values.is_empty() {
                bail!(
                    "{}: grid.{key} is empty; give at least one value",
                    file.display()
                );
            }
            let texts = values
                .iter()
                .map(|v| scalar_text(v, key, file))
                .collect::<Result<Vec<_>>>()?;
            axes.push((key.replace('_', "-"), texts));
        }
    }
    for forbidden in ["out", "sweep", "task"] {
        if axes.iter().any(|(key, _)| key == forbidden) {
            bail!(
                "{}: {forbidden} cannot be set in a sweep file; it comes from the command line",
                file.display()
            );
        }
    }
    let mut cells: Vec<Cell> = vec![Vec::new()];
    for (key, values) in &axes {
        cells = cells
            .into_iter()
            .flat_map(|cell| {
                values.iter().map(move |value| {
                    let mut next = cell.clone();
                    next.push((key.clone(), value.clone()));
                    next
                })
            })
            .collect();
    }
    Ok(cells)
}

fn cell_directory(out: &Path, index: usize) -> PathBuf {
    out.join("cells").join(format!("cell-{index:04}"))
}

/// Reads the study a sweep file runs (`command = ...`, default `mad`).
fn sweep_command(file: &Path) -> Result<String> {
    let text = std::fs::read_to_string(file)
        .with_context(|| format!("failed to read sweep file {}", file.display()))?;
    let table: toml::Table = text
        .parse()
        .with_context(|| format!("{} is not valid TOML", file.display()))?;
    let command = table
        .get("command")
        .and_then(|v| v.as_str())
        .unwrap_or("mad")
        .to_string();
    if !["mad", "mask", "nftk"].contains(&command.as_str()) {
        bail!(
            "{}: command = {command:?} is not a study; use mad, mask or nftk",
            file.display()
        );
    }
    Ok(command)
}

/// Builds the command line of one cell.
fn cell_arguments(command: &str, cell: &Cell, out: &Path) -> Vec<String> {
    let mut argv = vec![
        "--log-level".to_string(),
        "warn".to_string(),
        command.to_string(),
    ];
    for (key, value) in cell {
        argv.push(format!("--{key}"));
        argv.push(value.clone());
    }
    argv.push("--out".to_string());
    argv.push(out.display().to_string());
    argv
}

/// Options of `maso sweep`.
#[derive(Debug, Args)]
pub struct SweepArgs {
    /// TOML sweep file: `command` (mad, mask or nftk), scalar options and a
    /// `[grid]` table of lists; every combination of the lists is one cell.
    file: PathBuf,
    /// Sweep directory, with one `cells/cell-NNNN` folder per cell.
    #[arg(long)]
    out: PathBuf,
    /// Run only task I of N (cells whose index is I modulo N, numbered from
    /// 0 as Slurm array tasks are). Finished cells are skipped.
    #[arg(long)]
    task: Option<String>,
}

/// Runs `maso sweep`.
pub fn run_sweep_command(args: &SweepArgs) -> Result<()> {
    run_cells(
        &sweep_command(&args.file)?,
        &args.file,
        &args.out,
        args.task.as_deref(),
    )
}

/// Runs `maso mad --sweep` (a sweep file without `command` runs mad).
pub fn run_sweep(args: &MadArgs, file: &Path, task: Option<&str>) -> Result<()> {
    run_cells(&sweep_command(file)?, file, &args.out, task)
}

/// Runs the cells of task `task` (all cells without one) of a sweep into `out`.
fn run_cells(command: &str, file: &Path, out: &Path, task: Option<&str>) -> Result<()> {
    let cells = sweep_cells(file)?;
    let task = task.map(Shard::parse).transpose()?.unwrap_or_default();
    std::fs::create_dir_all(out).with_context(|| format!("failed to create {}", out.display()))?;
    let listing: Vec<BTreeMap<String, String>> = cells
        .iter()
        .map(|cell| cell.iter().cloned().collect())
        .collect();
    std::fs::write(
        out.join("sweep.json"),
        serde_json::to_string_pretty(
            &serde_json::json!({ "file": file, "command": command, "cells": listing }),
        )?,
    )
    .context("failed to write sweep.json")?;
    let mine: Vec<usize> = (0..cells.len())
        .filter(|index| index % task.count == task.index)
        .collect();
    log::info!(
        "sweep {}: {} cells, task {}/{} runs {}",
        file.display(),
        cells.len(),
        task.index,
        task.count,
        mine.len()
    );
    for index in mine {
        let directory = cell_directory(out, index);
        if directory.join(DONE_MARKER).is_file() {
            log::info!("cell {index} already finished; skipping it");
            continue;
        }
        log::info!("cell {index}: {:?}", cells[index]);
        super::run_arguments(&cell_arguments(command, &cells[index], &directory))
            .with_context(|| format!("sweep cell {index} ({:?}) failed", cells[index]))?;
        std::fs::write(directory.join(DONE_MARKER), "")
            .with_context(|| format!("failed to mark cell {index} as finished"))?;
    }
    Ok(())
}

/// Empty file written into a cell's folder once the cell has finished.
const DONE_MARKER: &str = "cell.done";

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
    let listing: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&listing_path).with_context(|| {
            format!(
                "failed to read {}; is this a sweep directory?",
                listing_path.display()
            )
        })?)
        .with_context(|| format!("{} is not valid JSON", listing_path.display()))?;
    let cells = listing["cells"]
        .as_array()
        .context("sweep.json lists no cells")?;
    let missing: Vec<usize> = (0..cells.len())
        .filter(|&i| {
            !cell_directory(&args.directory, i)
                .join(DONE_MARKER)
                .is_file()
        })
        .collect();
    if !missing.is_empty() {
        bail!("cells {missing:?} of {} are not finished yet; run their tasks (maso sweep FILE --task I/N) first", cells.len());
    }
    if listing["command"].as_str().unwrap_or("mad") != "mad" {
        return collect_reports(args, cells);
    }

    let keys: Vec<String> = cells
        .first()
        .and_then(|c| c.as_object())
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default();
    let metrics = [
        "precision",
        "recall",
        "density",
        "coverage",
        "frechet",
        "wasserstein2",
        "trace",
        "modes",
    ];
    let mut csv = format!("cell,{},generation,{}\n", keys.join(","), metrics.join(","));
    let mut recall_series = Vec::new();
    for (index, cell) in cells.iter().enumerate() {
        let summary_path = cell_directory(&args.directory, index).join("summary.json");
        let summary: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&summary_path)?)
                .with_context(|| format!("{} is not valid JSON", summary_path.display()))?;
        let label: Vec<String> = keys
            .iter()
            .map(|k| format!("{k}={}", cell[k].as_str().unwrap_or("")))
            .collect();
        let mut recall = Vec::new();
        for row in summary["averages"]
            .as_array()
            .context("summary.json has no averages")?
        {
            let generation = row["generation"].as_u64().unwrap_or(0);
            let values: Vec<String> = metrics
                .iter()
                .map(|m| {
                    row[*m]
                        .as_f64()
                        .map_or(String::new(), |v| format!("{v:.6}"))
                })
                .collect();
            let parameters: Vec<String> = keys
                .iter()
                .map(|k| cell[k].as_str().unwrap_or("").to_string())
                .collect();
            let _ = writeln!(
                csv,
                "{index},{},{generation},{}",
                parameters.join(","),
                values.join(",")
            );
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
        line_chart(
            &args.directory.join("sweep_recall.png"),
            "Recall by generation, one line per cell",
            "generation",
            "recall",
            &recall_series,
            false,
        )?;
    }
    log::info!(
        "collected {} cells into {}",
        cells.len(),
        args.directory.join("sweep.csv").display()
    );
    Ok(())
}

/// Flattens the numeric scalars of a JSON report into (path, value) pairs,
/// skipping nested arrays (such as weight tables).
fn numeric_leaves(
    value: &serde_json::Value,
    path: &str,
    depth: usize,
    leaves: &mut Vec<(String, f64)>,
) {
    match value {
        serde_json::Value::Number(number) => {
            if let Some(v) = number.as_f64() {
                leaves.push((path.to_string(), v));
            }
        }
        serde_json::Value::Object(map) if depth < 3 => {
            for (key, child) in map {
                let name = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                numeric_leaves(child, &name, depth + 1, leaves);
            }
        }
        serde_json::Value::Array(items) if depth < 3 && !items.iter().any(|i| i.is_array()) => {
            for (index, child) in items.iter().enumerate() {
                let label = child
                    .get("name")
                    .and_then(|n| n.as_str())
                    .map_or(index.to_string(), str::to_string);
                numeric_leaves(child, &format!("{path}.{label}"), depth + 1, leaves);
            }
        }
        _ => {}
    }
}

/// Gathers the `report.json` of every cell of a mask or nftk sweep into
/// sweep.csv, one row per cell with every numeric value of the report.
fn collect_reports(args: &CollectArgs, cells: &[serde_json::Value]) -> Result<()> {
    let keys: Vec<String> = cells
        .first()
        .and_then(|c| c.as_object())
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default();
    let mut rows = Vec::new();
    let mut columns: Vec<String> = Vec::new();
    for (index, cell) in cells.iter().enumerate() {
        let report_path = cell_directory(&args.directory, index).join("report.json");
        let report: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(&report_path)
                .with_context(|| format!("failed to read {}", report_path.display()))?,
        )
        .with_context(|| format!("{} is not valid JSON", report_path.display()))?;
        let mut leaves = Vec::new();
        numeric_leaves(&report, "", 0, &mut leaves);
        for (name, _) in &leaves {
            if !columns.contains(name) {
                columns.push(name.clone());
            }
        }
        rows.push((index, cell, leaves));
    }
    let mut csv = format!("cell,{},{}\n", keys.join(","), columns.join(","));
    for (index, cell, leaves) in rows {
        let parameters: Vec<String> = keys
            .iter()
            .map(|k| cell[k].as_str().unwrap_or("").to_string())
            .collect();
        let values: Vec<String> = columns
            .iter()
            .map(|c| {
                leaves
                    .iter()
                    .find(|(n, _)| n == c)
                    .map_or(String::new(), |(_, v)| format!("{v}"))
            })
            .collect();
        let _ = writeln!(csv, "{index},{},{}", parameters.join(","), values.join(","));
    }
    std::fs::write(args.directory.join("sweep.csv"), csv).context("failed to write sweep.csv")?;
    log::info!(
        "collected {} cells into {}",
        cells.len(),
        args.directory.join("sweep.csv").display()
    );
    Ok(())
}
