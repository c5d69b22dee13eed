//! The `maso` command line, run as a user would: `info`, `ntk` and `nftk`
//! on small inputs, checking files, shapes and error messages.

use std::path::{Path, PathBuf};
use std::process::Command;

fn maso() -> Command {
    Command::new(env!("CARGO_BIN_EXE_maso"))
}

fn scratch(name: &str) -> PathBuf {
    let directory = std::env::temp_dir().join(format!("maso-cli-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&directory).unwrap();
    directory
}

fn run_ok(command: &mut Command) -> String {
    let output = command.output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "command failed: {stderr}");
    String::from_utf8_lossy(&output.stdout).into_owned() + &stderr
}

fn run_err(command: &mut Command) -> String {
    let output = command.output().unwrap();
    assert!(!output.status.success(), "command succeeded unexpectedly");
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn write_points(path: &Path, rows: usize, columns: usize, seed: u64) {
    let values = maso::random::PhiloxStream::new(seed, 0).normal(0, rows * columns);
    maso::io::npy::write_f32(path, &[rows, columns], &values).unwrap();
}

#[test]
fn info_lists_adapter() {
    let text = run_ok(maso().arg("info"));
    assert!(text.contains("Selected:"), "{text}");
    let json = run_ok(maso().args(["info", "--json"]));
    let start = json.find('{').unwrap();
    let end = json.rfind('}').unwrap();
    let report: serde_json::Value = serde_json::from_str(&json[start..=end]).unwrap();
    assert!(
        report["selected"]["limits"]["max_storage_buffer_binding_size"]
            .as_u64()
            .unwrap()
            > 0
    );
}

#[test]
fn ntk_writes_all_components() {
    let directory = scratch("ntk");
    let (x1, x2, out) = (
        directory.join("x1.npy"),
        directory.join("x2.npy"),
        directory.join("out"),
    );
    write_points(&x1, 13, 5, 1);
    write_points(&x2, 9, 5, 2);
    run_ok(
        maso()
            .args([
                "ntk",
                "--depth",
                "2",
                "--activation",
                "erf",
                "--w-std",
                "1.3",
                "--b-std",
                "0.2",
                "--dtype",
                "f64",
                "--out",
            ])
            .arg(&out)
            .arg("--x1")
            .arg(&x1)
            .arg("--x2")
            .arg(&x2),
    );
    for name in ["nngp", "ntk", "layer_0", "layer_1", "layer_2"] {
        let array = maso::io::npy::read_f64(out.join(format!("{name}.npy"))).unwrap();
        assert_eq!(array.shape, vec![13, 9], "{name}");
        assert!(array.data.iter().all(|v| v.is_finite()), "{name}");
    }
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("ntk.json")).unwrap()).unwrap();
    assert_eq!(summary["shape"], serde_json::json!([13, 9]));
}

#[test]
fn ntk_reports_bad_inputs() {
    let directory = scratch("ntk-bad");
    let (x1, x2) = (directory.join("x1.npy"), directory.join("x2.npy"));
    write_points(&x1, 4, 3, 1);
    write_points(&x2, 4, 5, 2);
    let out = directory.join("out");
    let message = run_err(
        maso()
            .arg("ntk")
            .arg("--x1")
            .arg(&x1)
            .arg("--x2")
            .arg(&x2)
            .arg("--out")
            .arg(&out),
    );
    assert!(
        message.contains("3 features per point but X2 has 5"),
        "{message}"
    );
    let message = run_err(
        maso()
            .args(["ntk", "--w-std", "-1"])
            .arg("--x1")
            .arg(&x1)
            .arg("--out")
            .arg(&out),
    );
    assert!(message.contains("invalid w_std = -1"), "{message}");
    let missing = directory.join("missing.npy");
    let message = run_err(
        maso()
            .arg("ntk")
            .arg("--x1")
            .arg(&missing)
            .arg("--out")
            .arg(&out),
    );
    assert!(message.contains("missing.npy"), "{message}");
    let empty = directory.join("empty.npy");
    std::fs::write(&empty, b"").unwrap();
    let message = run_err(
        maso()
            .arg("ntk")
            .arg("--x1")
            .arg(&empty)
            .arg("--out")
            .arg(&out),
    );
    assert!(message.contains("not a .npy file"), "{message}");
    let nan = directory.join("nan.npy");
    maso::io::npy::write_f32(&nan, &[2, 2], &[1.0, f32::NAN, 0.0, 1.0]).unwrap();
    let message = run_err(
        maso()
            .arg("ntk")
            .arg("--x1")
            .arg(&nan)
            .arg("--out")
            .arg(&out),
    );
    assert!(message.contains("row 0, column 1"), "{message}");
    let integers = directory.join("strings.npy");
    // A NumPy array of strings ('<U1').
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    let header = "{'descr': '<U1', 'fortran_order': False, 'shape': (2,), }";
    let padded = format!("{header:<117}\n");
    bytes.extend_from_slice(&(padded.len() as u16).to_le_bytes());
    bytes.extend_from_slice(padded.as_bytes());
    bytes.extend_from_slice(&[b'a', 0, 0, 0, b'b', 0, 0, 0]);
    std::fs::write(&integers, bytes).unwrap();
    let message = run_err(
        maso()
            .arg("ntk")
            .arg("--x1")
            .arg(&integers)
            .arg("--out")
            .arg(&out),
    );
    assert!(message.contains("<U1"), "{message}");
    assert!(message.contains("not supported"), "{message}");
}

#[test]
fn nftk_writes_report_tables_and_figures() {
    let directory = scratch("nftk");
    let out = directory.join("out");
    run_ok(
        maso()
            .args([
                "nftk",
                "--dataset",
                "breast-cancer",
                "--train",
                "80",
                "--test",
                "40",
                "--depth",
                "2",
                "--explain",
                "4",
                "--out",
            ])
            .arg(&out),
    );
    for name in [
        "report.json",
        "mu.csv",
        "contributions.csv",
        "mu.png",
        "contributions.png",
        "accuracy.png",
    ] {
        assert!(out.join(name).is_file(), "{name} missing");
    }
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    let accuracy = report["result"]["accuracy"].as_f64().unwrap();
    assert!(accuracy > 0.8, "breast-cancer accuracy {accuracy}");
    let mu = std::fs::read_to_string(out.join("mu.csv")).unwrap();
    assert_eq!(mu.lines().count(), 3, "{mu}");
    assert!(mu.starts_with("class,layer_0,layer_1,layer_2"), "{mu}");
    let contributions = std::fs::read_to_string(out.join("contributions.csv")).unwrap();
    assert_eq!(contributions.lines().count(), 1 + 40 * 2);
}

#[test]
fn nftk_reports_unknown_dataset() {
    let directory = scratch("nftk-bad");
    let message = run_err(
        maso()
            .args(["nftk", "--dataset", "no-such-set", "--out"])
            .arg(directory.join("out")),
    );
    assert!(message.contains("breast-cancer"), "{message}");
    let message = run_err(
        maso()
            .args([
                "nftk",
                "--dataset",
                "breast-cancer",
                "--train",
                "600",
                "--test",
                "100",
                "--out",
            ])
            .arg(directory.join("out")),
    );
    assert!(message.contains("569"), "{message}");
}

#[test]
fn rntk_writes_gram_files() {
    let directory = scratch("rntk");
    let out = directory.join("out");
    run_ok(
        maso()
            .args([
                "rntk",
                "--sequences",
                "japanese-vowels",
                "--normalize",
                "unit",
                "--depth",
                "2",
                "--readout",
                "mean",
                "--out",
            ])
            .arg(&out),
    );
    for name in ["nngp", "ntk"] {
        let array = maso::io::npy::read_f64(out.join(format!("{name}.npy"))).unwrap();
        assert_eq!(array.shape, vec![270, 270], "{name}");
        assert!(array.data.iter().all(|v| v.is_finite()), "{name}");
    }
    let bad = directory.join("bad.ts");
    std::fs::write(&bad, "@problemName bad\n@univariate false\n@dimensions 2\n@classLabel true a b\n@data\n1,2:3,4:a\n1,2,3:b\n").unwrap();
    let message = run_err(
        maso()
            .arg("rntk")
            .arg("--sequences")
            .arg(&bad)
            .arg("--out")
            .arg(&out),
    );
    assert!(message.contains("bad.ts"), "{message}");
}

#[test]
fn mask_writes_embeddings_figure_and_report() {
    let directory = scratch("mask");
    let out = directory.join("out");
    run_ok(
        maso()
            .args([
                "mask",
                "--data",
                "ode",
                "--seed",
                "1",
                "--iterations",
                "300",
                "--out",
            ])
            .arg(&out),
    );
    for name in ["embeddings.csv", "mask.png", "report.json", "rntk_ntk.npy"] {
        assert!(out.join(name).is_file(), "{name} missing");
    }
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    let embeddings = report["embeddings"].as_array().unwrap();
    assert_eq!(embeddings.len(), 4);
    for embedding in embeddings {
        for key in ["knn_accuracy", "silhouette", "trustworthiness"] {
            assert!(
                embedding[key].as_f64().unwrap().is_finite(),
                "{key} of {}",
                embedding["name"]
            );
        }
    }
    let csv = std::fs::read_to_string(out.join("embeddings.csv")).unwrap();
    assert_eq!(csv.lines().count(), 201);
    let message = run_err(
        maso()
            .args(["mask", "--data", "ode", "--perplexity", "500", "--out"])
            .arg(&out),
    );
    assert!(message.contains("perplexity"), "{message}");
}

#[test]
fn slurm_writes_array_and_check_scripts() {
    let directory = scratch("slurm");
    let scripts = directory.join("jobs");
    let out = directory.join("gram");
    run_ok(
        maso()
            .args([
                "slurm",
                "rntk",
                "--tasks",
                "3",
                "--partition",
                "gpu",
                "--time",
                "1:00:00",
                "--script-dir",
            ])
            .arg(&scripts)
            .args(["--", "--sequences", "japanese-vowels", "--out"])
            .arg(&out),
    );
    let array = std::fs::read_to_string(scripts.join("maso-rntk-array.sbatch")).unwrap();
    assert!(array.contains("#SBATCH --array=0-2"), "{array}");
    assert!(array.contains("#SBATCH --partition=gpu"), "{array}");
    assert!(array.contains("#SBATCH --time=1:00:00"), "{array}");
    assert!(
        array.contains("--shard \"${SLURM_ARRAY_TASK_ID}/${SLURM_ARRAY_TASK_COUNT}\""),
        "{array}"
    );
    let check = std::fs::read_to_string(scripts.join("maso-rntk-check.sbatch")).unwrap();
    assert!(check.contains("--shard 0/1"), "{check}");
    let message = run_err(
        maso()
            .args(["slurm", "ntk", "--tasks", "2", "--script-dir"])
            .arg(&scripts)
            .args(["--", "--x1", "a.npy", "--shard", "0/2"]),
    );
    assert!(message.contains("remove --shard"), "{message}");
}

#[test]
fn shard_option_is_validated() {
    let directory = scratch("shard-cli");
    let message = run_err(
        maso()
            .args([
                "rntk",
                "--sequences",
                "japanese-vowels",
                "--shard",
                "5/4",
                "--out",
            ])
            .arg(directory.join("out")),
    );
    assert!(message.contains("invalid shard = 5/4"), "{message}");
}

#[test]
fn mad_writes_metrics_plots_and_summary() {
    let directory = scratch("mad");
    let out = directory.join("out");
    run_ok(
        maso()
            .args([
                "mad",
                "--model",
                "gaussian",
                "--real",
                "normal:2",
                "--loop",
                "fresh",
                "--lambda",
                "0.8",
                "--generations",
                "3",
                "--n-real",
                "100",
                "--n-synth",
                "200",
                "--chains",
                "4",
                "--metric-samples",
                "300",
                "--out",
            ])
            .arg(&out),
    );
    for name in [
        "metrics.csv",
        "summary.json",
        "metrics.png",
        "distances.png",
        "samples.png",
    ] {
        assert!(out.join(name).is_file(), "{name} missing");
    }
    let csv = std::fs::read_to_string(out.join("metrics.csv")).unwrap();
    // 3 generations x 4 chains, then 3 averaged rows.
    assert_eq!(csv.lines().count(), 1 + 12 + 3, "{csv}");
    let message = run_err(maso().args(["mad", "--lambda", "0", "--out"]).arg(&out));
    assert!(message.contains("lambda"), "{message}");
    let message = run_err(
        maso()
            .args(["mad", "--real", "normal:x", "--out"])
            .arg(&out),
    );
    assert!(message.contains("normal:D"), "{message}");
}

#[test]
fn mad_sweep_runs_tasks_and_collects() {
    let directory = scratch("sweep");
    let sweep = directory.join("sweep.toml");
    std::fs::write(&sweep, "model = \"gaussian\"\nreal = \"normal:2\"\ngenerations = 2\nchains = 1\nmetric_samples = 100\nn_real = 50\nn_synth = 50\n\n[grid]\nlambda = [1.0, 0.5]\nseed = [0, 1, 2]\n").unwrap();
    let out = directory.join("out");
    let message = run_err(maso().arg("collect").arg(&directory));
    assert!(message.contains("sweep.json"), "{message}");
    run_ok(
        maso()
            .arg("mad")
            .arg("--sweep")
            .arg(&sweep)
            .args(["--task", "0/2", "--out"])
            .arg(&out),
    );
    let message = run_err(maso().arg("collect").arg(&out));
    assert!(message.contains("cells [1, 3, 5] of 6"), "{message}");
    run_ok(
        maso()
            .arg("mad")
            .arg("--sweep")
            .arg(&sweep)
            .args(["--task", "1/2", "--out"])
            .arg(&out),
    );
    run_ok(maso().arg("collect").arg(&out));
    let table = std::fs::read_to_string(out.join("sweep.csv")).unwrap();
    // 6 cells x 2 generations.
    assert_eq!(table.lines().count(), 1 + 12, "{table}");
    assert!(out.join("sweep_recall.png").is_file());

    let bad = directory.join("bad.toml");
    std::fs::write(&bad, "[grid]\nlambda = [1.0, 2.0]\n").unwrap();
    let message = run_err(
        maso()
            .arg("mad")
            .arg("--sweep")
            .arg(&bad)
            .arg("--out")
            .arg(directory.join("bad")),
    );
    assert!(message.contains("lambda"), "{message}");
    std::fs::write(&bad, "out = \"x\"\n").unwrap();
    let message = run_err(
        maso()
            .arg("mad")
            .arg("--sweep")
            .arg(&bad)
            .arg("--out")
            .arg(directory.join("bad")),
    );
    assert!(
        message.contains("cannot be set in a sweep file"),
        "{message}"
    );
}

#[test]
fn sweep_of_another_study_collects_reports() {
    let directory = scratch("sweep-mask");
    let sweep = directory.join("sweep.toml");
    std::fs::write(&sweep, "command = \"nftk\"\ndataset = \"breast-cancer\"\ntrain = 60\ntest = 30\n\n[grid]\ndepth = [1, 2]\n").unwrap();
    let out = directory.join("out");
    run_ok(maso().arg("sweep").arg(&sweep).arg("--out").arg(&out));
    run_ok(maso().arg("collect").arg(&out));
    let table = std::fs::read_to_string(out.join("sweep.csv")).unwrap();
    assert_eq!(table.lines().count(), 3, "{table}");
    assert!(
        table.lines().next().unwrap().contains("result.accuracy"),
        "{table}"
    );
    std::fs::write(&sweep, "command = \"fly\"\n").unwrap();
    let message = run_err(maso().arg("sweep").arg(&sweep).arg("--out").arg(&out));
    assert!(message.contains("not a study"), "{message}");
}
