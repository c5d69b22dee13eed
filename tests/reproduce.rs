//! `maso reproduce` run as a user would, through the built binary. Every
//! study runs at the smoke scale, and every file it writes is checked. The
//! other tests cover the errors for unknown and unimplemented studies and
//! for an output directory that cannot be created.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use maso::reproduce::{Scale, STUDIES};

fn maso() -> Command {
    Command::new(env!("CARGO_BIN_EXE_maso"))
}

fn scratch(name: &str) -> PathBuf {
    let directory =
        std::env::temp_dir().join(format!("maso-reproduce-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&directory);
    std::fs::create_dir_all(&directory).unwrap();
    directory
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Files each study must write at every scale, relative to its folder.
const EXPECTED: &[(&str, &[&str])] = &[
    (
        "nftk",
        &[
            "report.md",
            "summary.json",
            "figures/mnist_accuracy.png",
            "figures/mnist_mu.png",
            "figures/mnist_contributions.png",
            "figures/mnist_mean_contributions.png",
            "tables/mnist_accuracy.csv",
            "tables/mnist_mu.csv",
            "tables/mnist_contributions.csv",
            "tables/mnist_mean_contributions.csv",
            "figures/breast_cancer_accuracy.png",
            "figures/breast_cancer_mu.png",
            "figures/breast_cancer_contributions.png",
            "figures/breast_cancer_mean_contributions.png",
            "tables/breast_cancer_accuracy.csv",
            "tables/breast_cancer_mu.csv",
            "tables/breast_cancer_contributions.csv",
            "tables/breast_cancer_mean_contributions.csv",
        ],
    ),
    (
        "titan",
        &[
            "report.md",
            "summary.json",
            "figures/sr_panel.png",
            "figures/sr_loss.png",
            "tables/sr_results.csv",
            "figures/ct_panel.png",
            "tables/ct_results.csv",
        ],
    ),
    (
        "mask",
        &[
            "report.md",
            "summary.json",
            "figures/ode_embeddings.png",
            "figures/ode_rntk_blocks.png",
            "tables/ode_embeddings.csv",
            "tables/ode_scores.csv",
            "tables/ode_rntk_blocks.csv",
            "arrays/ode_rntk.npy",
            "figures/japanese_vowels_embeddings.png",
            "figures/japanese_vowels_rntk_blocks.png",
            "tables/japanese_vowels_embeddings.csv",
            "tables/japanese_vowels_scores.csv",
            "tables/japanese_vowels_rntk_blocks.csv",
            "arrays/japanese_vowels_rntk.npy",
        ],
    ),
    (
        "mad",
        &[
            "report.md",
            "summary.json",
            "figures/gaussian_wasserstein2.png",
            "figures/gaussian_trace.png",
            "figures/gaussian_precision.png",
            "figures/gaussian_recall.png",
            "tables/gaussian_generations.csv",
            "tables/gaussian_final.csv",
            "figures/grid_modes.png",
            "figures/grid_metrics.png",
            "figures/grid_samples.png",
            "tables/grid_generations.csv",
            "tables/ddpm_generations.csv",
            "ddpm/fid.png",
            "ddpm/recall.png",
            "ddpm/precision.png",
            "ddpm/metrics.csv",
            "ddpm/lambda-1/generation-002/grid.png",
        ],
    ),
];

/// Collects every file under `directory`, recursively.
fn files_under(directory: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(directory).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(files_under(&path));
        } else {
            files.push(path);
        }
    }
    files
}

/// Walks a JSON value and returns the paths of nulls and of numbers that
/// are not finite. serde_json writes NaN and infinity as null, and the
/// summaries store no null on purpose, so a null marks a lost number.
fn bad_numbers(value: &serde_json::Value, path: &str, found: &mut Vec<String>) {
    match value {
        serde_json::Value::Null => found.push(format!("{path} is null")),
        serde_json::Value::Number(number) if !number.as_f64().is_some_and(f64::is_finite) => {
            found.push(format!("{path} = {number}"))
        }
        serde_json::Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                bad_numbers(item, &format!("{path}[{index}]"), found);
            }
        }
        serde_json::Value::Object(fields) => {
            for (key, item) in fields {
                bad_numbers(item, &format!("{path}.{key}"), found);
            }
        }
        _ => {}
    }
}

fn read_json(path: &Path) -> serde_json::Value {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

/// Targets of the Markdown links `](target)` in `text` that are not web addresses.
fn link_targets(text: &str) -> Vec<String> {
    text.match_indices("](")
        .filter_map(|(start, _)| {
            let rest = &text[start + 2..];
            rest.find(')').map(|end| rest[..end].to_string())
        })
        .filter(|target| !target.starts_with("http"))
        .collect()
}

#[test]
fn smoke_run_writes_every_output() {
    let out = scratch("smoke").join("out");
    let output = maso()
        .args(["reproduce", "all", "--scale", "smoke", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    let log = stderr(&output);
    assert!(output.status.success(), "reproduce failed: {log}");

    for (study, files) in EXPECTED {
        for file in *files {
            let path = out.join(study).join(file);
            assert!(path.is_file(), "missing {}", path.display());
        }
    }
    assert!(out.join("report.md").is_file());
    assert!(out.join("summary.json").is_file());

    let files = files_under(&out);
    for path in &files {
        match path.extension().and_then(|e| e.to_str()) {
            Some("png") => {
                let image =
                    image::open(path).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
                assert!(
                    image.width() >= 200,
                    "{} is {} pixels wide",
                    path.display(),
                    image.width()
                );
                assert!(
                    image.height() >= 200,
                    "{} is {} pixels high",
                    path.display(),
                    image.height()
                );
            }
            Some("json") => {
                let mut found = Vec::new();
                bad_numbers(&read_json(path), "$", &mut found);
                assert!(found.is_empty(), "{}: {found:?}", path.display());
            }
            Some("csv") => {
                let mut reader = csv::Reader::from_path(path).unwrap();
                let width = reader.headers().unwrap().len();
                let rows: Vec<csv::StringRecord> =
                    reader.records().map(|record| record.unwrap()).collect();
                assert!(!rows.is_empty(), "{} has no rows", path.display());
                assert!(
                    rows.iter().all(|row| row.len() == width),
                    "{} has ragged rows",
                    path.display()
                );
            }
            Some("npy") => {
                let array = maso::io::npy::read_f64(path).unwrap();
                // Label files of the DDPM checkpoints are vectors; every other
                // array is a matrix.
                let dimensions = if path.ends_with("labels.npy") { 1 } else { 2 };
                assert_eq!(array.shape.len(), dimensions, "{}", path.display());
                assert!(
                    array.data.iter().all(|v| v.is_finite()),
                    "{}",
                    path.display()
                );
            }
            Some("md") => {
                let text = std::fs::read_to_string(path).unwrap();
                let folder = path.parent().unwrap();
                for target in link_targets(&text) {
                    assert!(
                        folder.join(&target).is_file(),
                        "{} links to missing {target}",
                        path.display()
                    );
                }
            }
            _ => panic!("unexpected file {}", path.display()),
        }
    }

    let summary = read_json(&out.join("summary.json"));
    assert_eq!(summary["scale"], "smoke");
    let statuses: Vec<(String, String)> = summary["studies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|study| {
            (
                study["name"].as_str().unwrap().to_string(),
                study["status"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let expected: Vec<(String, String)> = [
        ("nftk", "done"),
        ("mask", "done"),
        ("titan", "done"),
        ("mad", "done"),
    ]
    .iter()
    .map(|(name, status)| (name.to_string(), status.to_string()))
    .collect();
    assert_eq!(statuses, expected);

    let index = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(
        index.contains("[nftk/report.md](nftk/report.md)"),
        "{index}"
    );
    assert!(!index.contains("not implemented yet"), "{index}");
    assert!(index.contains("| scale | `smoke` |"), "{index}");

    // Key numbers lie in their valid ranges.
    let nftk = read_json(&out.join("nftk/summary.json"));
    for part in ["mnist", "breast_cancer"] {
        let accuracy = &nftk["parts"][part]["accuracy"];
        for key in ["combined", "full_ntk", "nngp"] {
            let value = accuracy[key].as_f64().unwrap();
            assert!((0.0..=1.0).contains(&value), "{part}.{key} = {value}");
        }
        assert_eq!(
            accuracy["per_layer"].as_array().unwrap().len(),
            3,
            "{part}: depth 2 has 3 layers"
        );
    }
    let mask = read_json(&out.join("mask/summary.json"));
    let ode_scores = mask["parts"]["ode"]["scores"].as_array().unwrap();
    assert_eq!(ode_scores.len(), 8, "two seeds times four embeddings");
    for score in ode_scores {
        for key in ["knn_accuracy", "trustworthiness"] {
            let value = score[key].as_f64().unwrap();
            assert!((0.0..=1.0).contains(&value), "{key} = {value}");
        }
    }
    let mad = read_json(&out.join("mad/summary.json"));
    assert_eq!(
        mad["parts"]["gaussian"]["loops"].as_array().unwrap().len(),
        6,
        "three families times two lambdas"
    );
    assert_eq!(
        mad["parts"]["ddpm"]["rows"].as_array().unwrap().len(),
        2,
        "two DDPM generations"
    );
    assert!(
        mad["parts"]["ddpm"]["classifier_accuracy"]
            .as_f64()
            .unwrap()
            > 0.1
    );
}

/// Runs the MASK study at its full paper scale (five seeds of the
/// study's 200 ODE series and all 270 JapaneseVowels sequences), which
/// takes about 30 s on lavapipe.
#[test]
#[ignore = "about 30 s on lavapipe; run with --ignored"]
fn mask_paper_scale_runs() {
    let out = scratch("mask-paper").join("out");
    let output = maso()
        .args(["reproduce", "mask", "--scale", "paper", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let summary = read_json(&out.join("mask/summary.json"));
    assert_eq!(summary["parts"]["ode"]["sequences"], 200);
    assert_eq!(
        summary["parts"]["ode"]["scores"].as_array().unwrap().len(),
        20,
        "five seeds times four embeddings"
    );
    assert_eq!(summary["parts"]["japanese_vowels"]["sequences"], 270);
    let mut found = Vec::new();
    bad_numbers(&summary, "$", &mut found);
    assert!(found.is_empty(), "{found:?}");
}

#[test]
fn unknown_study_is_rejected() {
    let out = scratch("unknown").join("out");
    let output = maso()
        .args(["reproduce", "ntk-study", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    let message = stderr(&output);
    assert!(!output.status.success());
    assert!(message.contains("ntk-study"), "{message}");
    assert!(
        message.contains("nftk, mask, titan, mad, all"),
        "the message should list the accepted names: {message}"
    );
}

#[test]
fn unwritable_output_fails_early() {
    // A path below a regular file cannot be created, even by root.
    let directory = scratch("unwritable");
    let file = directory.join("plain-file");
    std::fs::write(&file, "not a directory").unwrap();
    let out = file.join("out");
    let output = maso()
        .args(["reproduce", "mask", "--scale", "smoke", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    let message = stderr(&output);
    assert!(!output.status.success());
    assert!(
        message.contains("plain-file"),
        "the error should name the directory: {message}"
    );
    assert!(
        !message.contains("mask: Synthetic"),
        "no study should start: {message}"
    );
}

#[test]
fn paper_scale_plan_validates() {
    let output = maso()
        .args(["reproduce", "--scale", "paper", "--dry-run"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let plan: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(plan["scale"], "paper");
    assert_eq!(plan["studies"]["nftk"]["mnist"]["train"], 4000);
    assert_eq!(
        plan["studies"]["mask"]["ode"]["seeds"]
            .as_array()
            .unwrap()
            .len(),
        5
    );
    assert_eq!(plan["studies"]["mad"]["gaussian"]["dim"], 100);
    assert_eq!(plan["studies"]["mad"]["grid"]["generations"], 2000);
    assert_eq!(plan["studies"]["titan"]["super_resolution"]["crop"], 512);
    assert_eq!(
        plan["studies"]["titan"]["ct"]["config"]["angle_counts"],
        serde_json::json!([20, 50, 100])
    );
    assert_eq!(plan["not_implemented"], serde_json::json!([]));
}

#[test]
fn every_scale_plan_validates() {
    for scale in [Scale::Smoke, Scale::Quick, Scale::Paper] {
        for study in STUDIES.iter().filter(|study| study.is_implemented()) {
            let plan = study
                .plan(scale)
                .unwrap_or_else(|error| panic!("{} at {scale:?}: {error}", study.name));
            for part in study.parts {
                assert!(
                    plan[part.name].is_object(),
                    "{} at {scale:?} has no plan for {}",
                    study.name,
                    part.name
                );
            }
        }
    }
}

#[test]
fn scale_names_round_trip() {
    for scale in [Scale::Smoke, Scale::Quick, Scale::Paper] {
        assert_eq!(Scale::parse(scale.name()).unwrap(), scale);
    }
    let error = Scale::parse("huge").unwrap_err().to_string();
    assert!(error.contains("huge"), "{error}");
    assert!(error.contains("smoke, quick or paper"), "{error}");
}
