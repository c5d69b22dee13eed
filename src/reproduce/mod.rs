//! `maso reproduce`: the research studies run end to end on bundled data.
//!
//! Each study writes one folder: figures (`figures/*.png`), tables
//! (`tables/*.csv`), arrays (`arrays/*.npy`), `summary.json` with the
//! configuration and key numbers of every part, and `report.md`, which
//! places the figures and numbers with a sentence on what each shows. The
//! output root gets `report.md` and `summary.json` that link the studies and
//! record the adapter, scale, versions and run times (see [`index`]).
//!
//! A study is a named list of [`Part`]s, and a part is two plain functions:
//! `plan` builds and validates the part's configuration for a [`Scale`]
//! without touching the GPU, and `run` computes it and returns its summary
//! and report section. [`STUDIES`] lists the studies in the order `all`
//! runs them. A study that is not implemented yet keeps an entry with no
//! parts, and a study that lacks some of the original experiments names
//! them in [`Study::missing`]; both appear in the reports as not run.
//!
//! To add a study, write a module with a `pub const STUDY: Study` and put it
//! in [`STUDIES`]. To add an experiment to a study, write a `Part` and
//! append it to that study's `parts`.

pub mod index;
pub mod mad;
pub mod mask;
pub mod nftk;
mod output;
pub mod titan;

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::gpu::Gpu;

pub use index::{environment, write_index, Environment};
pub use output::{decimal, null_paths, serde_name, write_json, OutputFile, Section, Table};

/// Problem sizes of a reproduction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scale {
    /// Tiny sizes that finish in seconds on a software adapter, for tests.
    Smoke,
    /// Reduced sizes that finish in a few minutes per study on a software adapter.
    Quick,
    /// The original studies' sizes, meant for a real GPU.
    Paper,
}

impl Scale {
    /// Returns the scale's command-line name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Smoke => "smoke",
            Self::Quick => "quick",
            Self::Paper => "paper",
        }
    }

    /// Parses a command-line name (`smoke`, `quick` or `paper`).
    pub fn parse(name: &str) -> Result<Self> {
        match name {
            "smoke" => Ok(Self::Smoke),
            "quick" => Ok(Self::Quick),
            "paper" => Ok(Self::Paper),
            _ => Err(Error::InvalidArgument {
                name: "scale",
                value: name.to_string(),
                expected: "smoke, quick or paper".to_string(),
            }),
        }
    }
}

/// Receiver of progress reports from a running study.
pub trait Progress {
    /// Reports that a step of `study`, named by `message`, starts.
    fn stage(&mut self, study: &str, message: &str);
    /// Reports that `done` of `total` units of the current step are finished.
    fn advance(&mut self, done: usize, total: usize);
}

/// [`Progress`] that logs each step at `info` level and ignores advances.
#[derive(Debug, Default, Clone, Copy)]
pub struct LogProgress;

impl Progress for LogProgress {
    fn stage(&mut self, study: &str, message: &str) {
        log::info!("{study}: {message}");
    }

    fn advance(&mut self, _done: usize, _total: usize) {}
}

/// What a part's `run` function gets: the GPU, the scale, the study's
/// output folder and the progress receiver.
pub struct StudyContext<'a> {
    /// The GPU every part runs on.
    pub gpu: &'a Gpu,
    /// Problem sizes.
    pub scale: Scale,
    study: &'static str,
    directory: PathBuf,
    progress: &'a mut dyn Progress,
}

impl<'a> StudyContext<'a> {
    /// Creates the context of `study`, writing into `directory` (which must exist).
    pub fn new(
        gpu: &'a Gpu,
        scale: Scale,
        study: &'static str,
        directory: PathBuf,
        progress: &'a mut dyn Progress,
    ) -> Self {
        Self {
            gpu,
            scale,
            study,
            directory,
            progress,
        }
    }

    /// Returns the study's output folder.
    pub fn directory(&self) -> &Path {
        &self.directory
    }

    /// Reports that a step starts.
    pub fn stage(&mut self, message: &str) {
        self.progress.stage(self.study, message);
    }

    /// Reports progress within the current step.
    pub fn advance(&mut self, done: usize, total: usize) {
        self.progress.advance(done, total);
    }

    /// Returns `figures/NAME.png`, creating the folder.
    pub fn figure(&self, name: &str) -> Result<OutputFile> {
        OutputFile::create(&self.directory, "figures", name, "png")
    }

    /// Returns `tables/NAME.csv`, creating the folder.
    pub fn table(&self, name: &str) -> Result<OutputFile> {
        OutputFile::create(&self.directory, "tables", name, "csv")
    }

    /// Returns `arrays/NAME.npy`, creating the folder.
    pub fn array(&self, name: &str) -> Result<OutputFile> {
        OutputFile::create(&self.directory, "arrays", name, "npy")
    }
}

/// The result of one part: its entry in `summary.json` and its report section.
pub struct PartOutput {
    /// Configuration and key numbers; stored under the part's name.
    pub summary: serde_json::Value,
    /// Markdown section with the part's figures, tables and findings.
    pub section: Section,
}

/// One experiment of a study.
#[derive(Debug, Clone, Copy)]
pub struct Part {
    /// Key in `summary.json` and prefix of the part's files.
    pub name: &'static str,
    /// Builds and validates the configuration for a scale, without the GPU.
    pub plan: fn(Scale) -> Result<serde_json::Value>,
    /// Runs the experiment and writes its files.
    pub run: fn(&mut StudyContext) -> Result<PartOutput>,
}

/// A research study: a title, an introduction and its parts.
#[derive(Debug, Clone, Copy)]
pub struct Study {
    /// Command-line name and output folder.
    pub name: &'static str,
    /// Heading of the study's report.
    pub title: &'static str,
    /// Opening paragraph of the report: the study's question and what runs.
    pub introduction: &'static str,
    /// Experiments in the order they run; empty for a study not implemented yet.
    pub parts: &'static [Part],
    /// Experiments of the original study that maso does not run yet.
    pub missing: &'static [&'static str],
}

impl Study {
    /// Returns whether the study has any part to run.
    pub fn is_implemented(&self) -> bool {
        !self.parts.is_empty()
    }

    /// Returns the study's short name, the title up to its colon (such as `NFT-K`).
    pub fn short_title(&self) -> &'static str {
        self.title.split(':').next().unwrap_or(self.title)
    }

    /// Builds and validates every part's configuration for `scale`.
    pub fn plan(&self, scale: Scale) -> Result<serde_json::Value> {
        self.check_implemented()?;
        let mut plans = serde_json::Map::new();
        for part in self.parts {
            plans.insert(part.name.to_string(), (part.plan)(scale)?);
        }
        Ok(serde_json::Value::Object(plans))
    }

    /// Returns an error naming the study when it has no parts.
    pub fn check_implemented(&self) -> Result<()> {
        if self.is_implemented() {
            return Ok(());
        }
        Err(Error::InvalidArgument {
            name: "study",
            value: self.name.to_string(),
            expected: format!(
                "the {} study is not implemented yet (missing: {}); choose one of the available studies: {}",
                self.short_title(),
                self.missing.join("; "),
                available_names().join(", ")
            ),
        })
    }
}

/// Every study, in the order `maso reproduce all` runs them.
pub const STUDIES: &[Study] = &[nftk::STUDY, mask::STUDY, titan::STUDY, mad::STUDY];

/// Returns the study named `name`, or an error listing the names.
pub fn find_study(name: &str) -> Result<&'static Study> {
    STUDIES
        .iter()
        .find(|study| study.name == name)
        .ok_or_else(|| Error::InvalidArgument {
            name: "study",
            value: name.to_string(),
            expected: format!("one of {} or all", study_names().join(", ")),
        })
}

/// Returns the names of all studies, implemented or not.
pub fn study_names() -> Vec<&'static str> {
    STUDIES.iter().map(|study| study.name).collect()
}

fn available_names() -> Vec<&'static str> {
    STUDIES
        .iter()
        .filter(|study| study.is_implemented())
        .map(|study| study.name)
        .collect()
}

/// Outcome of one study in a reproduction.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum StudyStatus {
    /// Every part ran.
    Done {
        /// Wall-clock seconds.
        seconds: f64,
    },
    /// A part failed; parts before it kept their files.
    Failed {
        /// Wall-clock seconds until the failure.
        seconds: f64,
        /// The error.
        error: String,
    },
    /// The study has no parts yet.
    NotImplemented,
}

/// One study's entry in a reproduction.
#[derive(Debug, Clone, Serialize)]
pub struct StudyRecord {
    /// The study's name.
    pub name: &'static str,
    /// The study's title.
    pub title: &'static str,
    /// What happened.
    #[serde(flatten)]
    pub status: StudyStatus,
    /// Experiments of the original study that were not run because maso lacks them.
    pub missing: Vec<&'static str>,
}

/// Runs every part of `study` into `root/NAME/` and writes the study's
/// `summary.json` and `report.md`, also after a failed part (the report then
/// names it). Returns the wall-clock seconds, or the failed part's error.
pub fn run_study(
    gpu: &Gpu,
    study: &'static Study,
    scale: Scale,
    root: &Path,
    progress: &mut dyn Progress,
) -> Result<f64> {
    study.check_implemented()?;
    let started = Instant::now();
    let directory = root.join(study.name);
    create_directory(&directory)?;
    let mut context = StudyContext::new(gpu, scale, study.name, directory.clone(), progress);

    let mut summaries = serde_json::Map::new();
    let mut sections = Vec::new();
    let mut failure = None;
    for part in study.parts {
        let part_started = Instant::now();
        match (part.run)(&mut context) {
            Ok(output) => {
                let mut summary = output.summary;
                if let serde_json::Value::Object(fields) = &mut summary {
                    fields.insert(
                        "seconds".to_string(),
                        part_started.elapsed().as_secs_f64().into(),
                    );
                }
                summaries.insert(part.name.to_string(), summary);
                sections.push(output.section);
            }
            Err(error) => {
                failure = Some((part.name, error));
                break;
            }
        }
    }
    let seconds = started.elapsed().as_secs_f64();

    let summary = serde_json::json!({
        "study": study.name,
        "title": study.title,
        "scale": scale,
        "adapter": gpu.info().name,
        "seconds": seconds,
        "parts": summaries,
        "not_implemented": study.missing,
        "failed_part": failure.as_ref().map(|(name, error)| serde_json::json!({"part": name, "error": error.to_string()})),
    });
    let summary = without_nulls(summary);
    let null_fields = null_paths(&summary);
    write_json(&directory.join("summary.json"), &summary)?;
    let report = study_report(
        study,
        scale,
        gpu,
        seconds,
        &sections,
        failure.as_ref(),
        &null_fields,
    );
    output::write_text(&directory.join("report.md"), &report)?;

    match failure {
        Some((part, error)) => {
            log::error!("{}: part {part} failed: {error}", study.name);
            Err(error)
        }
        None => Ok(seconds),
    }
}

/// Drops the top-level fields that are null (an absent failure), keeping
/// nulls deeper down, which mark non-finite numbers.
fn without_nulls(value: serde_json::Value) -> serde_json::Value {
    match value {
        serde_json::Value::Object(fields) => {
            serde_json::Value::Object(fields.into_iter().filter(|(_, v)| !v.is_null()).collect())
        }
        other => other,
    }
}

fn study_report(
    study: &Study,
    scale: Scale,
    gpu: &Gpu,
    seconds: f64,
    sections: &[Section],
    failure: Option<&(&str, Error)>,
    null_fields: &[String],
) -> String {
    let mut text = format!("# {}\n\n{}\n\n", study.title, study.introduction);
    text += &format!(
        "Scale `{}` on adapter {}; run time {}. All numbers below are in [summary.json](summary.json).\n\n",
        scale.name(),
        gpu.info().name,
        index::format_seconds(seconds)
    );
    if !null_fields.is_empty() {
        text += &format!(
            "**Warning:** these summary fields are not finite numbers (NaN or infinity): {}.\n\n",
            null_fields.join(", ")
        );
    }
    for section in sections {
        text += &section.markdown();
    }
    if let Some((part, error)) = failure {
        text += &format!("## Failed: {part}\n\nThe part `{part}` failed, so it and the parts after it have no results: {error}\n\n");
    }
    if !study.missing.is_empty() {
        text += "## Not implemented yet\n\nThese experiments of the original study are not run because maso does not implement them yet:\n\n";
        for missing in study.missing {
            text += &format!("- {missing}\n");
        }
        text += "\n";
    }
    text
}

/// Creates `directory` and its parents, with an error that names it.
pub fn create_directory(directory: &Path) -> Result<()> {
    std::fs::create_dir_all(directory).map_err(|source| Error::Io {
        path: directory.to_path_buf(),
        source,
    })
}

/// Creates `root` and checks that a file can be written in it, so that an
/// unwritable output directory fails before any computation.
fn check_writable(root: &Path) -> Result<()> {
    create_directory(root)?;
    let probe = root.join(".maso-write-check");
    let io_error = |source| Error::Io {
        path: root.to_path_buf(),
        source,
    };
    std::fs::write(&probe, b"").map_err(io_error)?;
    std::fs::remove_file(&probe).map_err(io_error)
}

/// Selection of the studies a reproduction runs.
#[derive(Debug, Clone, Copy)]
pub enum Selection<'a> {
    /// Every implemented study; the others are listed as not implemented.
    All,
    /// The named studies; a study that is not implemented is an error.
    Named(&'a [&'static Study]),
}

/// Result of [`reproduce`].
#[derive(Debug, Clone)]
pub struct Reproduction {
    /// One record per study considered, in run order.
    pub studies: Vec<StudyRecord>,
    /// Wall-clock seconds of the whole run.
    pub seconds: f64,
}

impl Reproduction {
    /// Returns the studies that failed.
    pub fn failures(&self) -> Vec<&StudyRecord> {
        self.studies
            .iter()
            .filter(|record| matches!(record.status, StudyStatus::Failed { .. }))
            .collect()
    }
}

/// Runs the selected studies into `root` and writes the top-level
/// `report.md` and `summary.json`. A failing study is recorded and the
/// next one runs. Returns an error before any work when a named study is
/// not implemented or `root` cannot be created.
pub fn reproduce(
    gpu: &Gpu,
    selection: Selection,
    scale: Scale,
    root: &Path,
    progress: &mut dyn Progress,
) -> Result<Reproduction> {
    let studies: Vec<&'static Study> = match selection {
        Selection::All => STUDIES.iter().collect(),
        Selection::Named(studies) => {
            for study in studies {
                study.check_implemented()?;
            }
            studies.to_vec()
        }
    };
    for study in &studies {
        if study.is_implemented() {
            study.plan(scale)?;
        }
    }
    check_writable(root)?;
    let environment = environment(gpu);

    let started = Instant::now();
    let mut records = Vec::new();
    for study in studies {
        let status = if !study.is_implemented() {
            log::warn!(
                "the {} study is not implemented yet and does not run: {}",
                study.short_title(),
                study.missing.join("; ")
            );
            StudyStatus::NotImplemented
        } else {
            log::info!(
                "{}: starting at scale {}",
                study.short_title(),
                scale.name()
            );
            let study_started = Instant::now();
            match run_study(gpu, study, scale, root, progress) {
                Ok(seconds) => {
                    log::info!(
                        "{}: done in {}",
                        study.short_title(),
                        index::format_seconds(seconds)
                    );
                    StudyStatus::Done { seconds }
                }
                Err(error) => {
                    log::error!("{}: {error}", study.short_title());
                    StudyStatus::Failed {
                        seconds: study_started.elapsed().as_secs_f64(),
                        error: error.to_string(),
                    }
                }
            }
        };
        if study.is_implemented() && !study.missing.is_empty() {
            log::warn!(
                "{}: not run because not implemented yet: {}",
                study.short_title(),
                study.missing.join("; ")
            );
        }
        records.push(StudyRecord {
            name: study.name,
            title: study.title,
            status,
            missing: study.missing.to_vec(),
        });
    }
    let reproduction = Reproduction {
        studies: records,
        seconds: started.elapsed().as_secs_f64(),
    };
    write_index(root, scale, &environment, &reproduction)?;
    Ok(reproduction)
}
