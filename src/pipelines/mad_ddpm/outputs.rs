//! Tables and figures of a DDPM loop study: `metrics.csv` (one row per
//! lambda and generation), `summary.json` and one PNG per metric with a
//! line per lambda.

use std::fmt::Write as _;
use std::path::Path;

use crate::error::Result;
use crate::gpu::Gpu;
use crate::metrics::PRDC_CONVENTION;
use crate::plot::line_chart;

use super::checkpoint::{to_json, write_atomically};
use super::{DdpmGenerationMetrics, DdpmStudyConfig, DdpmStudySummary};

/// The header of `metrics.csv`.
pub(super) const CSV_HEADER: &str = "lambda,guidance,generation,training_images,final_loss,fid,precision,recall,density,coverage,sample_accuracy,seconds";

fn csv(rows: &[DdpmGenerationMetrics]) -> String {
    let mut text = format!("{CSV_HEADER}\n");
    for row in rows {
        let _ = writeln!(
            text,
            "{},{:.6},{},{},{:.6},{:.6},{:.6},{:.6},{:.6},{:.6},{:.6},{:.3}",
            row.lambda,
            row.guidance,
            row.generation,
            row.training_images,
            row.final_loss,
            row.fid,
            row.precision,
            row.recall,
            row.density,
            row.coverage,
            row.sample_accuracy,
            row.seconds
        );
    }
    text
}

/// Writes metrics.csv, summary.json and the per-metric figures.
pub(super) fn write_outputs(
    out: &Path,
    config: &DdpmStudyConfig,
    gpu: &Gpu,
    summary: &DdpmStudySummary,
) -> Result<()> {
    write_atomically(&out.join("metrics.csv"), &csv(&summary.rows))?;
    let json = serde_json::json!({
        "config": config,
        "adapter": gpu.info().name,
        "classifier_accuracy": summary.classifier_accuracy,
        "prdc_convention": PRDC_CONVENTION,
        "rows": summary.rows,
        "resumed_generations": summary.resumed_generations,
        "seconds": summary.seconds,
    });
    write_atomically(&out.join("summary.json"), &to_json(&json))?;

    type Pick = fn(&DdpmGenerationMetrics) -> f64;
    let charts: [(&str, &str, Pick, bool); 6] = [
        (
            "fid.png",
            "Fréchet distance of classifier features",
            |r| r.fid,
            true,
        ),
        ("precision.png", "k-NN precision", |r| r.precision, false),
        ("recall.png", "k-NN recall", |r| r.recall, false),
        ("density.png", "density", |r| r.density, false),
        ("coverage.png", "coverage", |r| r.coverage, false),
        (
            "sample_accuracy.png",
            "samples classified as their label",
            |r| r.sample_accuracy,
            false,
        ),
    ];
    for (file, title, pick, log_y) in charts {
        let series: Vec<(String, Vec<(f64, f64)>)> = config
            .lambdas
            .iter()
            .map(|&lambda| {
                let points = summary
                    .rows
                    .iter()
                    .filter(|r| r.lambda == lambda)
                    .map(|r| (r.generation as f64, pick(r)))
                    .collect();
                (format!("lambda = {lambda}"), points)
            })
            .filter(|(_, points): &(String, Vec<(f64, f64)>)| !points.is_empty())
            .collect();
        if series.is_empty() {
            continue;
        }
        line_chart(
            &out.join(file),
            &format!("{title} by generation ({} loop)", config.family.name()),
            "generation",
            title,
            &series,
            log_y,
        )?;
    }
    Ok(())
}
