//! The output root's `report.md` and `summary.json`: which studies ran, on
//! which adapter and versions, at which scale, and how long each took.

use std::fmt::Write as _;
use std::path::Path;

use serde::Serialize;

use super::output::{write_json, write_text};
use super::{Reproduction, Scale, StudyStatus};
use crate::error::Result;
use crate::gpu::Gpu;

/// Software and hardware a reproduction ran on.
#[derive(Debug, Clone, Serialize)]
pub struct Environment {
    /// Adapter name as the driver reports it.
    pub adapter: String,
    /// wgpu backend (Vulkan, Metal, Dx12, Gl).
    pub backend: String,
    /// Discrete, integrated, virtual or CPU (software) adapter.
    pub device_type: String,
    /// Driver name and version.
    pub driver: String,
    /// maso's version.
    pub maso_version: &'static str,
    /// The wgpu version maso was built with, from Cargo.lock.
    pub wgpu_version: String,
    /// Operating system and CPU architecture.
    pub system: String,
}

/// Describes the adapter of `gpu` and the versions of this build.
pub fn environment(gpu: &Gpu) -> Environment {
    let info = gpu.info();
    Environment {
        adapter: info.name.clone(),
        backend: format!("{:?}", info.backend),
        device_type: format!("{:?}", info.device_type),
        driver: format!("{} {}", info.driver, info.driver_info)
            .trim()
            .to_string(),
        maso_version: env!("CARGO_PKG_VERSION"),
        wgpu_version: locked_version("wgpu").unwrap_or_else(|| "unknown".to_string()),
        system: format!("{} {}", std::env::consts::OS, std::env::consts::ARCH),
    }
}

/// Returns the version of `package` recorded in the Cargo.lock this crate was built with.
fn locked_version(package: &str) -> Option<String> {
    const LOCK: &str = include_str!("../../Cargo.lock");
    let marker = format!("name = \"{package}\"\nversion = \"");
    let start = LOCK.find(&marker)? + marker.len();
    let length = LOCK[start..].find('"')?;
    Some(LOCK[start..start + length].to_string())
}

/// Formats seconds as `12.3 s` or `4 min 05 s`.
pub fn format_seconds(seconds: f64) -> String {
    if seconds < 60.0 {
        format!("{seconds:.1} s")
    } else {
        let whole = seconds.round() as u64;
        format!("{} min {:02} s", whole / 60, whole % 60)
    }
}

/// Writes `root/report.md` and `root/summary.json` for a finished reproduction.
pub fn write_index(
    root: &Path,
    scale: Scale,
    environment: &Environment,
    reproduction: &Reproduction,
) -> Result<()> {
    let summary = serde_json::json!({
        "scale": scale,
        "environment": environment,
        "seconds": reproduction.seconds,
        "studies": reproduction.studies,
    });
    write_json(&root.join("summary.json"), &summary)?;
    write_text(
        &root.join("report.md"),
        &index_markdown(scale, environment, reproduction),
    )
}

fn index_markdown(scale: Scale, environment: &Environment, reproduction: &Reproduction) -> String {
    let mut text = String::from("# maso reproduce\n\n");
    text += "Each study below ran on the data bundled with maso; its report places the figures and key numbers, \
             and its `summary.json` holds every number. `docs/reproduce.md` in the repository describes the \
             sizes of each scale.\n\n";
    text += "| setting | value |\n|---|---|\n";
    let _ = writeln!(text, "| scale | `{}` |", scale.name());
    let _ = writeln!(
        text,
        "| adapter | {} ({}, {}) |",
        environment.adapter, environment.backend, environment.device_type
    );
    let _ = writeln!(text, "| driver | {} |", environment.driver);
    let _ = writeln!(
        text,
        "| versions | maso {}, wgpu {} |",
        environment.maso_version, environment.wgpu_version
    );
    let _ = writeln!(text, "| system | {} |", environment.system);
    let _ = writeln!(
        text,
        "| total run time | {} |",
        format_seconds(reproduction.seconds)
    );

    text += "\n| study | status | run time | report |\n|---|---|---|---|\n";
    for record in &reproduction.studies {
        let report = format!("[{0}/report.md]({0}/report.md)", record.name);
        let (status, time, link) = match &record.status {
            StudyStatus::Done { seconds } if record.missing.is_empty() => {
                ("done".to_string(), format_seconds(*seconds), report)
            }
            StudyStatus::Done { seconds } => (
                format!(
                    "done; not run because not implemented yet: {}",
                    record.missing.join("; ")
                ),
                format_seconds(*seconds),
                report,
            ),
            StudyStatus::Failed { seconds, error } => (
                format!("failed: {}", error.replace('|', "\\|")),
                format_seconds(*seconds),
                report,
            ),
            StudyStatus::NotImplemented => (
                format!("not implemented yet: {}", record.missing.join("; ")),
                "-".to_string(),
                "-".to_string(),
            ),
        };
        let _ = writeln!(text, "| {} | {status} | {time} | {link} |", record.title);
    }
    text
}
