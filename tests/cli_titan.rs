//! `maso inr fit` and `maso titan sr` run as a user would, on a small image
//! written by the test, with tiny networks so that they finish in seconds.

use std::path::{Path, PathBuf};
use std::process::Command;

use maso::imaging::{read_image, write_png, Image};

fn maso() -> Command {
    Command::new(env!("CARGO_BIN_EXE_maso"))
}

fn scratch(name: &str) -> PathBuf {
    let directory =
        std::env::temp_dir().join(format!("maso-cli-titan-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&directory).unwrap();
    directory
}

fn run_ok(command: &mut Command) -> String {
    let output = command.output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "command failed: {stderr}");
    stderr
}

fn run_err(command: &mut Command) -> String {
    let output = command.output().unwrap();
    assert!(!output.status.success(), "command succeeded unexpectedly");
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Writes a 30 x 22 RGB gradient with a bright square.
fn write_test_image(path: &Path) {
    let (width, height) = (30, 22);
    let mut data = Vec::new();
    for y in 0..height {
        for x in 0..width {
            let inside = (8..16).contains(&x) && (6..14).contains(&y);
            data.extend([
                x as f32 / width as f32,
                y as f32 / height as f32,
                if inside { 1.0 } else { 0.2 },
            ]);
        }
    }
    write_png(path, &Image::new(width, height, 3, data).unwrap()).unwrap();
}

const TINY: [&str; 8] = [
    "--preset", "quick", "--iters", "30", "--width", "16", "--depth", "3",
];

#[test]
fn inr_fit_writes_reconstruction_losses_and_weights() {
    let directory = scratch("fit");
    let image = directory.join("input.png");
    write_test_image(&image);
    let out = directory.join("out");
    run_ok(
        maso()
            .args(["inr", "fit", "--model", "titan", "--render", "45x33"])
            .arg("--image")
            .arg(&image)
            .args(TINY)
            .arg("--out")
            .arg(&out),
    );

    let reconstruction = read_image(&out.join("reconstruction.png")).unwrap();
    assert_eq!(
        (
            reconstruction.width(),
            reconstruction.height(),
            reconstruction.channels()
        ),
        (30, 22, 3)
    );
    let rendered = read_image(&out.join("render_45x33.png")).unwrap();
    assert_eq!((rendered.width(), rendered.height()), (45, 33));
    let losses = std::fs::read_to_string(out.join("losses.csv")).unwrap();
    assert_eq!(losses.lines().count(), 31, "a header and one row per step");
    assert!(out.join("loss.png").exists());
    assert!(out.join("weights/parameters.json").exists());
    assert!(out.join("weights/embedding_weight.npy").exists());
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    assert!(summary["psnr"].as_f64().unwrap().is_finite());
    assert_eq!(summary["model"], "titan");
}

#[test]
fn titan_sr_writes_images_panel_and_table() {
    let directory = scratch("sr");
    let image = directory.join("truth.png");
    write_test_image(&image);
    let out = directory.join("out");
    let text = run_ok(
        maso()
            .args([
                "titan",
                "sr",
                "--models",
                "titan,siren,bicubic,deep-decoder",
                "--lipschitz-grid",
                "8",
            ])
            .arg("--image")
            .arg(&image)
            .args(TINY)
            .arg("--out")
            .arg(&out),
    );
    // 30 x 22 is cropped to 28 x 20 for a scale of 4, and the log reports it.
    assert!(text.contains("cropped 2 x 2 pixels"), "{text}");
    for name in [
        "ground_truth",
        "low_resolution",
        "titan",
        "siren",
        "bicubic",
        "deep-decoder",
        "panel",
        "loss",
    ] {
        assert!(out.join(format!("{name}.png")).exists(), "{name}.png");
    }
    assert_eq!(read_image(&out.join("titan.png")).unwrap().width(), 28);
    assert_eq!(
        read_image(&out.join("low_resolution.png")).unwrap().width(),
        7
    );

    let table = std::fs::read_to_string(out.join("results.csv")).unwrap();
    assert_eq!(table.lines().count(), 5, "{table}");
    let titan_row = table
        .lines()
        .find(|line| line.starts_with("titan,"))
        .unwrap();
    let cells: Vec<&str> = titan_row.split(',').collect();
    assert!(
        cells[1].parse::<f64>().unwrap().is_finite(),
        "PSNR in {titan_row}"
    );
    assert!(
        cells[3].parse::<f64>().unwrap() > 0.0,
        "Lipschitz estimate in {titan_row}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("results.json")).unwrap()).unwrap();
    assert_eq!(json["cropped_pixels"], serde_json::json!([2, 2]));
    assert_eq!(json["results"].as_array().unwrap().len(), 4);
}

#[test]
fn bad_images_and_settings_are_reported() {
    let directory = scratch("errors");
    let empty = directory.join("empty.png");
    std::fs::write(&empty, b"").unwrap();
    let message = run_err(
        maso()
            .args(["inr", "fit", "--out", "x"])
            .arg("--image")
            .arg(&empty),
    );
    assert!(message.contains("empty.png"), "{message}");

    let missing = directory.join("missing.png");
    let message = run_err(
        maso()
            .args(["titan", "sr", "--out", "x"])
            .arg("--image")
            .arg(&missing),
    );
    assert!(message.contains("missing.png"), "{message}");

    let image = directory.join("small.png");
    write_test_image(&image);
    let message = run_err(
        maso()
            .args(["titan", "sr", "--scale", "40", "--out", "x"])
            .arg("--image")
            .arg(&image),
    );
    assert!(
        message.contains("scale") && message.contains("22"),
        "{message}"
    );
    let message = run_err(
        maso()
            .args(["titan", "sr", "--models", "titan,nearest", "--out", "x"])
            .arg("--image")
            .arg(&image),
    );
    assert!(
        message.contains("nearest") && message.contains("bicubic"),
        "{message}"
    );
    let message = run_err(
        maso()
            .args(["inr", "fit", "--keep", "0", "--out", "x"])
            .arg("--image")
            .arg(&image),
    );
    assert!(message.contains("--keep"), "{message}");
    let message = run_err(
        maso()
            .args(["inr", "fit", "--render", "big", "--out", "x"])
            .arg("--image")
            .arg(&image),
    );
    assert!(message.contains("WIDTHxHEIGHT"), "{message}");
    let message = run_err(maso().args(["inr", "fit", "--image", "bundled:lena", "--out", "x"]));
    assert!(message.contains("camera"), "{message}");
}

#[test]
fn titan_ct_writes_reconstructions_panel_and_table() {
    let directory = scratch("ct");
    let out = directory.join("out");
    run_ok(
        maso()
            .args([
                "titan",
                "ct",
                "--size",
                "24",
                "--angles",
                "5,9",
                "--noise-snr",
                "30",
                "--models",
                "fbp,siren,titan",
            ])
            .args(TINY)
            .arg("--out")
            .arg(&out),
    );
    for name in [
        "phantom.png",
        "panel.png",
        "fbp_5.png",
        "siren_9.png",
        "titan_5.png",
        "sinogram_5.npy",
        "sinogram_9.npy",
    ] {
        assert!(out.join(name).exists(), "{name}");
    }
    // Sinograms are stored as scikit-image lays them out: detectors x angles.
    let (rows, columns, _) = maso::io::npy::read_matrix_f32(out.join("sinogram_9.npy")).unwrap();
    assert_eq!((rows, columns), (24, 9));
    let table = std::fs::read_to_string(out.join("results.csv")).unwrap();
    assert_eq!(table.lines().count(), 7, "{table}");
    for line in table.lines().skip(1) {
        let psnr: f64 = line.split(',').nth(2).unwrap().parse().unwrap();
        assert!(psnr.is_finite(), "{line}");
    }
}

#[test]
fn titan_ct_rejects_bad_phantoms_and_angles() {
    let directory = scratch("ct-errors");
    let image = directory.join("wide.png");
    write_test_image(&image);
    let message = run_err(
        maso()
            .args(["titan", "ct", "--out", "x", "--phantom"])
            .arg(&image),
    );
    assert!(
        message.contains("30 x 22") && message.contains("square"),
        "{message}"
    );
    let message =
        run_err(maso().args(["titan", "ct", "--size", "16", "--angles", "0", "--out", "x"]));
    assert!(message.contains("angle"), "{message}");
    let message = run_err(maso().args([
        "titan", "ct", "--size", "16", "--models", "fbp,wire", "--out", "x",
    ]));
    assert!(
        message.contains("wire") && message.contains("titan"),
        "{message}"
    );
    let message = run_err(maso().args([
        "titan", "ct", "--size", "16", "--filter", "gauss", "--out", "x",
    ]));
    assert!(
        message.contains("gauss") && message.contains("hann"),
        "{message}"
    );
}
