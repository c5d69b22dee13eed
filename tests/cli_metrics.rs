//! `maso metrics` run as a user would: the JSON summary, the printed line,
//! agreement with the library, and the messages for bad inputs.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use maso::io::npy;
use maso::metrics::{frechet_distance, gaussian_statistics, prdc};
use maso::random::PhiloxStream;

fn metrics_command(real: &Path, fake: &Path, out: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_maso"));
    command
        .arg("metrics")
        .arg("--real")
        .arg(real)
        .arg("--fake")
        .arg(fake)
        .arg("--out")
        .arg(out);
    command
}

/// Creates an empty directory for `test` under the system's temporary directory.
fn work_dir(test: &str) -> PathBuf {
    let directory =
        std::env::temp_dir().join(format!("maso-metrics-cli-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&directory);
    std::fs::create_dir_all(&directory).unwrap();
    directory
}

/// Writes `rows` x `columns` standard normal values, shifted by `shift`.
fn save_points(path: &Path, rows: usize, columns: usize, seed: u64, shift: f32) -> Vec<f32> {
    let values: Vec<f32> = PhiloxStream::new(seed, 3)
        .normal(0, rows * columns)
        .into_iter()
        .map(|x| x + shift)
        .collect();
    npy::write_f32(path, &[rows, columns], &values).unwrap();
    values
}

fn stderr_of(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn failure_message(command: &mut Command) -> String {
    let output = command.output().unwrap();
    assert!(
        !output.status.success(),
        "the command should fail; stdout: {}",
        String::from_utf8_lossy(&output.stdout)
    );
    stderr_of(&output)
}

#[test]
fn metrics_writes_summary() {
    let directory = work_dir("summary");
    let (real_path, fake_path, out) = (
        directory.join("real.npy"),
        directory.join("fake.npy"),
        directory.join("out"),
    );
    let real = save_points(&real_path, 70, 6, 1, 0.0);
    let fake = save_points(&fake_path, 55, 6, 2, 0.4);

    let output = metrics_command(&real_path, &fake_path, &out)
        .args(["--k", "4"])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "maso metrics failed: {}",
        stderr_of(&output)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    assert!(stdout.contains("precision"), "{stdout}");
    assert!(stdout.contains("frechet_distance"), "{stdout}");

    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("metrics.json")).unwrap()).unwrap();
    assert_eq!(
        summary["counts"],
        serde_json::json!({ "real": 70, "fake": 55 })
    );
    assert_eq!(summary["dim"], 6);
    assert_eq!(summary["k"], 4);
    assert!(
        summary["convention"].as_str().unwrap().contains("d < r"),
        "{summary}"
    );
    assert!(
        !summary["adapter"].as_str().unwrap().is_empty(),
        "{summary}"
    );

    let gpu = common::gpu();
    let expected = prdc(gpu, &real, &fake, 6, 4).unwrap();
    assert_eq!(summary["precision"].as_f64().unwrap(), expected.precision);
    assert_eq!(summary["recall"].as_f64().unwrap(), expected.recall);
    assert_eq!(summary["coverage"].as_f64().unwrap(), expected.coverage);
    // serde_json may round a parsed float by one unit in the last place.
    assert!(
        (summary["density"].as_f64().unwrap() - expected.density).abs() <= 1e-15,
        "{summary}"
    );
    let frechet = frechet_distance(
        &gaussian_statistics(gpu, &real, 6).unwrap(),
        &gaussian_statistics(gpu, &fake, 6).unwrap(),
    )
    .unwrap();
    assert!(
        (summary["frechet_distance"].as_f64().unwrap() - frechet).abs() <= 1e-12 * frechet,
        "{summary}"
    );
}

#[test]
fn metrics_reports_bad_inputs() {
    let directory = work_dir("bad");
    let out = directory.join("out");
    let real = directory.join("real.npy");
    save_points(&real, 30, 4, 3, 0.0);

    let narrow = directory.join("narrow.npy");
    save_points(&narrow, 30, 3, 4, 0.0);
    let message = failure_message(&mut metrics_command(&real, &narrow, &out));
    assert!(
        message.contains("has 4 features per point but --fake"),
        "{message}"
    );
    assert!(message.contains("narrow.npy has 3"), "{message}");

    let missing = directory.join("missing.npy");
    let message = failure_message(&mut metrics_command(&real, &missing, &out));
    assert!(message.contains("missing.npy"), "{message}");

    let not_npy = directory.join("text.npy");
    std::fs::write(&not_npy, "1,2,3\n").unwrap();
    let message = failure_message(&mut metrics_command(&not_npy, &real, &out));
    assert!(message.contains("text.npy"), "{message}");
    assert!(message.contains("not a .npy file"), "{message}");

    let with_nan = directory.join("nan.npy");
    let mut values = vec![0.5f32; 20 * 4];
    values[7 * 4 + 1] = f32::NAN;
    npy::write_f32(&with_nan, &[20, 4], &values).unwrap();
    let message = failure_message(&mut metrics_command(&real, &with_nan, &out));
    assert!(message.contains("nan.npy"), "{message}");
    assert!(
        message.contains("fake points: row 7, column 1 is NaN"),
        "{message}"
    );

    let message = failure_message(metrics_command(&real, &real, &out).args(["--k", "30"]));
    assert!(message.contains("invalid k = 30"), "{message}");
    assert!(message.contains("1 ..= 29"), "{message}");
    assert!(
        !out.join("metrics.json").exists(),
        "a failed run must not write metrics.json"
    );
}
