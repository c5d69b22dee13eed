//! Per-generation checkpoints of a DDPM loop study and the study file that
//! a resumed run must match.
//!
//! `LAMBDA_DIR/generation-NNN/` contains `model/` (the denoiser's weights),
//! `samples.npy` (images x 784, values in [0, 1]), `labels.npy` (their
//! conditioning labels as float32), `metrics.json`, `grid.png` and, written
//! last, `state.json`. A generation counts as finished only when its
//! `state.json` exists, so a run stopped in the middle of a generation
//! redoes that generation.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::{Error, Result};
use crate::io::npy;

use super::config::DdpmStudyConfig;
use super::DdpmGenerationMetrics;

/// Name of the study file in the output directory.
pub(super) const STUDY_FILE: &str = "study.json";
/// Name of the completion marker of a generation.
const STATE_FILE: &str = "state.json";

fn io_error(path: &Path, source: std::io::Error) -> Error {
    Error::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Writes `text` to a temporary file and renames it over `path`, so that a
/// reader never sees half a file.
pub(super) fn write_atomically(path: &Path, text: &str) -> Result<()> {
    let temporary = path.with_extension("partial");
    std::fs::write(&temporary, text).map_err(|e| io_error(&temporary, e))?;
    std::fs::rename(&temporary, path).map_err(|e| io_error(path, e))
}

pub(super) fn to_json<T: Serialize>(value: &T) -> String {
    serde_json::to_string_pretty(value).expect("plain data serialises to JSON")
}

/// Returns the directory of one lambda's loop.
pub(super) fn lambda_directory(out: &Path, lambda: f64) -> PathBuf {
    out.join(format!("lambda-{lambda}"))
}

/// Returns the directory of one generation.
pub(super) fn generation_directory(lambda_directory: &Path, generation: usize) -> PathBuf {
    lambda_directory.join(format!("generation-{generation:03}"))
}

/// Returns whether a generation finished (its `state.json` exists).
pub(super) fn is_finished(directory: &Path) -> bool {
    directory.join(STATE_FILE).is_file()
}

/// Random-stream position after a generation: every draw of generation g
/// comes from streams keyed by (seed, g, purpose), so the next generation
/// number is the whole state.
#[derive(Debug, Clone, Serialize)]
pub(super) struct GenerationState {
    pub lambda: f64,
    pub generation: usize,
    pub seed: u64,
    pub next_generation: usize,
    pub denoiser_seed: u64,
    pub training_seed: u64,
    pub sampling_seed: u64,
}

/// Everything a finished generation leaves besides the model weights.
pub(super) struct GenerationFiles<'a> {
    pub samples: &'a [f32],
    pub labels: &'a [u32],
    pub metrics: &'a DdpmGenerationMetrics,
    pub state: &'a GenerationState,
}

/// Writes the samples, labels and metrics of a generation whose model is
/// already saved under `directory/model`, then its state (the marker).
pub(super) fn save_generation(directory: &Path, files: &GenerationFiles) -> Result<()> {
    let pixels = crate::data::MNIST_PIXELS;
    let count = files.labels.len();
    npy::write_f32(
        directory.join("samples.npy"),
        &[count, pixels],
        files.samples,
    )?;
    let labels: Vec<f32> = files.labels.iter().map(|&l| l as f32).collect();
    npy::write_f32(directory.join("labels.npy"), &[count], &labels)?;
    write_atomically(&directory.join("metrics.json"), &to_json(files.metrics))?;
    write_atomically(&directory.join(STATE_FILE), &to_json(files.state))
}

/// Reads the samples and labels of a finished generation.
pub(super) fn load_samples(directory: &Path) -> Result<(Vec<f32>, Vec<u32>)> {
    let (_, _, samples) = npy::read_matrix_f32(directory.join("samples.npy"))?;
    let labels = npy::read_f32(directory.join("labels.npy"))?
        .data
        .into_iter()
        .map(|l| l as u32)
        .collect::<Vec<u32>>();
    if samples.len() != labels.len() * crate::data::MNIST_PIXELS {
        return Err(Error::InvalidArgument {
            name: "checkpoint",
            value: directory.display().to_string(),
            expected: format!(
                "samples.npy with one 784-pixel row per label; it has {} values for {} labels. \
                 Delete this generation's directory to recompute it",
                samples.len(),
                labels.len()
            ),
        });
    }
    Ok((samples, labels))
}

/// Reads the metrics of a finished generation.
pub(super) fn load_metrics(directory: &Path) -> Result<DdpmGenerationMetrics> {
    let path = directory.join("metrics.json");
    let text = std::fs::read_to_string(&path).map_err(|e| io_error(&path, e))?;
    serde_json::from_str(&text).map_err(|error| Error::InvalidArgument {
        name: "checkpoint metrics",
        value: path.display().to_string(),
        expected: format!("a metrics.json written by maso ({error}); delete this generation's directory to recompute it"),
    })
}

/// Returns the study settings as stored, without the number of
/// generations (a resumed study may run longer).
fn comparable(config: &DdpmStudyConfig) -> serde_json::Value {
    let mut value = serde_json::to_value(config).expect("plain data serialises to JSON");
    if let Some(object) = value.as_object_mut() {
        object.remove("generations");
    }
    value
}

/// Writes the study file of a new run, or checks that a resumed run has
/// the settings of the stored one. A new run refuses a directory that
/// already contains a study.
pub(super) fn prepare_directory(out: &Path, config: &DdpmStudyConfig, resume: bool) -> Result<()> {
    std::fs::create_dir_all(out).map_err(|e| io_error(out, e))?;
    let path = out.join(STUDY_FILE);
    if !path.is_file() {
        return write_atomically(&path, &to_json(&serde_json::json!({ "config": config })));
    }
    if !resume {
        return Err(Error::InvalidArgument {
            name: "output directory",
            value: out.display().to_string(),
            expected: "a directory without a study.json; pass --resume to continue the study there, or choose another --out".to_string(),
        });
    }
    let text = std::fs::read_to_string(&path).map_err(|e| io_error(&path, e))?;
    let stored: serde_json::Value =
        serde_json::from_str(&text).map_err(|error| Error::InvalidArgument {
            name: "study file",
            value: path.display().to_string(),
            expected: format!("the JSON that maso wrote ({error})"),
        })?;
    let mut stored_config = stored["config"].clone();
    if let Some(object) = stored_config.as_object_mut() {
        object.remove("generations");
    }
    let current = comparable(config);
    if stored_config != current {
        let differing: Vec<String> = current
            .as_object()
            .map(|object| {
                object
                    .iter()
                    .filter(|(key, value)| stored_config.get(key.as_str()) != Some(value))
                    .map(|(key, _)| key.clone())
                    .collect()
            })
            .unwrap_or_default();
        return Err(Error::InvalidArgument {
            name: "resumed study settings",
            value: differing.join(", "),
            expected: format!(
                "the settings stored in {} (only the number of generations may change on --resume)",
                path.display()
            ),
        });
    }
    write_atomically(&path, &to_json(&serde_json::json!({ "config": config })))
}
