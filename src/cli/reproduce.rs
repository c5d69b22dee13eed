//! `maso reproduce`: run the research studies end to end on bundled data
//! and write one folder of figures, tables, summary and report per study.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::builder::PossibleValuesParser;
use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};

use maso::reproduce::{self, find_study, Progress, Scale, Selection, Study, StudyStatus, STUDIES};
use maso::Gpu;

/// Options of `maso reproduce`.
#[derive(Debug, Args)]
pub struct ReproduceArgs {
    /// Studies to run, one or more of nftk, mask, titan, mad, or all.
    #[arg(value_parser = study_parser(), default_value = "all")]
    studies: Vec<String>,
    /// Problem sizes: `quick` takes a few minutes per study on a software
    /// adapter, `paper` uses the original studies' sizes and is meant for a
    /// real GPU, `smoke` takes seconds and is for tests.
    #[arg(long, value_enum, default_value_t = ScaleArg::Quick)]
    scale: ScaleArg,
    /// Output directory (created if missing): one folder per study, and
    /// report.md and summary.json that link them.
    #[arg(long, default_value = "reproduce-out")]
    out: PathBuf,
    /// Check the selected studies' configurations at this scale, print them
    /// as JSON and exit without computing anything.
    #[arg(long)]
    dry_run: bool,
}

fn study_parser() -> PossibleValuesParser {
    let mut names = reproduce::study_names();
    names.push("all");
    PossibleValuesParser::new(names)
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ScaleArg {
    Smoke,
    Quick,
    Paper,
}

impl From<ScaleArg> for Scale {
    fn from(value: ScaleArg) -> Self {
        match value {
            ScaleArg::Smoke => Self::Smoke,
            ScaleArg::Quick => Self::Quick,
            ScaleArg::Paper => Self::Paper,
        }
    }
}

/// [`Progress`] that logs each step and draws long steps as a progress bar
/// on stderr. indicatif hides the bar when stderr is not a terminal.
#[derive(Default)]
struct BarProgress {
    bar: Option<ProgressBar>,
}

impl BarProgress {
    fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}

impl Progress for BarProgress {
    fn stage(&mut self, study: &str, message: &str) {
        self.finish();
        log::info!("{study}: {message}");
    }

    fn advance(&mut self, done: usize, total: usize) {
        let bar = self.bar.get_or_insert_with(|| {
            let bar = ProgressBar::new(total as u64);
            bar.set_style(
                ProgressStyle::with_template("{bar:40} {pos}/{len}, {elapsed} elapsed, {eta} left")
                    .expect("valid template"),
            );
            bar
        });
        bar.set_length(total as u64);
        bar.set_position(done as u64);
    }
}

/// Resolves the positional names; `all` anywhere selects every study.
fn selected(names: &[String]) -> Result<Option<Vec<&'static Study>>> {
    if names.is_empty() || names.iter().any(|name| name == "all") {
        return Ok(None);
    }
    let mut studies: Vec<&'static Study> = Vec::new();
    for name in names {
        let study = find_study(name)?;
        if !studies.iter().any(|chosen| chosen.name == study.name) {
            studies.push(study);
        }
    }
    for study in &studies {
        study.check_implemented()?;
    }
    Ok(Some(studies))
}

fn print_plan(studies: &[&'static Study], scale: Scale) -> Result<()> {
    let mut plans = serde_json::Map::new();
    let mut missing = Vec::new();
    for study in studies {
        if study.is_implemented() {
            plans.insert(study.name.to_string(), study.plan(scale)?);
        } else {
            missing.push(study.name);
        }
    }
    let plan = serde_json::json!({"scale": scale, "studies": plans, "not_implemented": missing});
    println!("{}", serde_json::to_string_pretty(&plan)?);
    Ok(())
}

/// Creates `out` and writes and removes a probe file in it, so that an
/// unusable --out fails before the GPU work.
fn ensure_writable(out: &Path) -> Result<()> {
    let advice = || {
        format!(
            "cannot write to the output directory {}; choose another --out",
            out.display()
        )
    };
    std::fs::create_dir_all(out).with_context(advice)?;
    let probe = out.join(".maso-write-check");
    std::fs::write(&probe, b"").with_context(advice)?;
    std::fs::remove_file(&probe).with_context(advice)
}

/// Runs the selected studies and reports where the results are.
pub fn run(args: &ReproduceArgs) -> Result<()> {
    let scale = Scale::from(args.scale);
    let named = selected(&args.studies)?;
    let all: Vec<&'static Study> = STUDIES.iter().collect();
    if args.dry_run {
        return print_plan(named.as_deref().unwrap_or(&all), scale);
    }

    ensure_writable(&args.out)?;
    let gpu = Gpu::new()?;
    let selection = match &named {
        Some(studies) => Selection::Named(studies),
        None => Selection::All,
    };
    let mut progress = BarProgress::default();
    let reproduction = reproduce::reproduce(&gpu, selection, scale, &args.out, &mut progress);
    progress.finish();
    let reproduction = reproduction?;

    for record in &reproduction.studies {
        match &record.status {
            StudyStatus::Done { seconds } => log::info!(
                "{}: done in {:.1} s, report in {}",
                record.name,
                seconds,
                args.out.join(record.name).join("report.md").display()
            ),
            StudyStatus::Failed { error, .. } => log::error!("{}: failed: {error}", record.name),
            StudyStatus::NotImplemented => {
                log::warn!("{}: not run, not implemented yet", record.name)
            }
        }
    }
    log::info!(
        "summary of all studies in {}",
        args.out.join("report.md").display()
    );
    let failures = reproduction.failures();
    if !failures.is_empty() {
        let names: Vec<&str> = failures.iter().map(|record| record.name).collect();
        bail!(
            "{} of {} studies failed ({}); the others' results and {} name the errors",
            failures.len(),
            reproduction.studies.len(),
            names.join(", "),
            args.out.join("report.md").display()
        );
    }
    Ok(())
}
