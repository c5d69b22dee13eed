//! `maso mad --model ddpm` run as a user would: a one-generation study at
//! tiny sizes, its outputs, `--resume`, and the error messages of options
//! that do not fit the model.

use std::path::PathBuf;
use std::process::Command;

fn maso() -> Command {
    Command::new(env!("CARGO_BIN_EXE_maso"))
}

fn scratch(name: &str) -> PathBuf {
    let directory =
        std::env::temp_dir().join(format!("maso-ddpm-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&directory);
    directory
}

fn run(command: &mut Command) -> (bool, String) {
    let output = command.output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    (output.status.success(), stderr)
}

const TINY: [&str; 26] = [
    "mad",
    "--model",
    "ddpm",
    "--lambda",
    "1,0.5",
    "--generations",
    "1",
    "--n-real",
    "100",
    "--n-synth",
    "20",
    "--metric-samples",
    "20",
    "--training-steps",
    "4",
    "--diffusion-steps",
    "10",
    "--sampling-steps",
    "2",
    "--width",
    "16",
    "--blocks",
    "1",
    "--classifier-epochs",
    "1",
    "--out",
];

#[test]
fn ddpm_study_writes_outputs() {
    let out = scratch("outputs");
    let (ok, log) = run(maso().args(TINY).arg(&out));
    assert!(ok, "{log}");
    assert!(log.contains("feature classifier test accuracy"), "{log}");
    for file in [
        "metrics.csv",
        "summary.json",
        "study.json",
        "fid.png",
        "recall.png",
        "feature_network.json",
        "lambda-1/generation-001/grid.png",
        "lambda-0.5/generation-001/samples.npy",
        "lambda-0.5/generation-001/model/output.weight.npy",
    ] {
        assert!(out.join(file).is_file(), "{file} is missing");
    }
    let csv = std::fs::read_to_string(out.join("metrics.csv")).unwrap();
    assert_eq!(csv.lines().count(), 3, "{csv}");
    assert!(csv.starts_with("lambda,guidance,generation"), "{csv}");

    let (ok, log) = run(maso().args(TINY).arg(&out));
    assert!(!ok);
    assert!(log.contains("--resume"), "{log}");
    let (ok, log) = run(maso().args(TINY).arg(&out).arg("--resume"));
    assert!(ok, "{log}");
    assert!(
        log.contains("resuming after 1 finished generations"),
        "{log}"
    );
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn ddpm_options_are_checked() {
    let out = scratch("checked");
    let cases: [(&[&str], &str); 5] = [
        (
            &["mad", "--model", "gaussian", "--lambda", "1,0.8"],
            "one lambda per study",
        ),
        (&["mad", "--model", "gaussian", "--resume"], "--model ddpm"),
        (
            &["mad", "--model", "ddpm", "--dataset", "cifar"],
            "mnist:DIR",
        ),
        (
            &["mad", "--model", "ddpm", "--sampling-steps", "600"],
            "sampling steps",
        ),
        (&["mad", "--model", "ddpm", "--chains", "3"], "--chains"),
    ];
    for (arguments, expected) in cases {
        let (ok, log) = run(maso().args(arguments).arg("--out").arg(&out));
        assert!(!ok, "{arguments:?} succeeded");
        assert!(log.contains(expected), "{arguments:?}: {log}");
    }
    let _ = std::fs::remove_dir_all(&out);
}
