//! `maso radon` and `maso fbp` run as a user would: files, shapes, values
//! against the library, and error messages.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use maso::ct::{
    filtered_back_projection, shepp_logan, FbpFilter, PhantomVariant, Radon, RadonGeometry,
    Sinogram,
};
use maso::imaging::{read_image, write_png, Image};
use maso::io::npy;

fn maso() -> Command {
    Command::new(env!("CARGO_BIN_EXE_maso"))
}

fn scratch(name: &str) -> PathBuf {
    let directory = std::env::temp_dir().join(format!("maso-ct-cli-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&directory).unwrap();
    directory
}

/// `maso radon` of the modified phantom at `size` with `angles` angles.
fn radon_phantom(size: usize, angles: &str, out: &Path) -> Command {
    let mut command = maso();
    let size = size.to_string();
    command
        .args([
            "radon",
            "--phantom",
            "shepp-logan",
            "--size",
            &size,
            "--angles",
            angles,
            "--out",
        ])
        .arg(out);
    command
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

#[test]
fn radon_phantom_writes_npy_and_png() {
    let directory = scratch("phantom");
    let out = directory.join("sino.npy");
    run_ok(&mut radon_phantom(33, "13", &out));

    let written = npy::read_f32(&out).unwrap();
    assert_eq!(written.shape, vec![33, 13]);
    let geometry = RadonGeometry::uniform(33, 13);
    let image = shepp_logan(33, PhantomVariant::Modified).unwrap();
    let expected = Radon::new(common::gpu(), geometry)
        .unwrap()
        .forward_host(common::gpu(), &image)
        .unwrap();
    assert_eq!(Sinogram::read_npy(&out).unwrap().data, expected);

    let picture = read_image(&directory.join("sino.png")).unwrap();
    assert_eq!(
        (picture.width(), picture.height(), picture.channels()),
        (13, 33, 1)
    );
}

#[test]
fn radon_image_matches_library() {
    let directory = scratch("image");
    let (png, out) = (directory.join("phantom.png"), directory.join("sino.npy"));
    let phantom = shepp_logan(24, PhantomVariant::Original).unwrap();
    let scaled: Vec<f32> = phantom.iter().map(|value| value / 2.0).collect();
    write_png(&png, &Image::new(24, 24, 1, scaled).unwrap()).unwrap();
    run_ok(
        maso()
            .args(["radon", "--angles", "9", "--detectors", "31", "--out"])
            .arg(&out)
            .arg("--image")
            .arg(&png),
    );

    let sinogram = Sinogram::read_npy(&out).unwrap();
    assert_eq!((sinogram.detectors, sinogram.angles), (31, 9));
    let image = read_image(&png).unwrap();
    let geometry = RadonGeometry::uniform(24, 9).with_detectors(31);
    let expected = Radon::new(common::gpu(), geometry)
        .unwrap()
        .forward_host(common::gpu(), image.data())
        .unwrap();
    assert_eq!(sinogram.data, expected);
}

#[test]
fn radon_noise_follows_seed() {
    let directory = scratch("noise");
    let run = |name: &str, seed: &str| {
        let out = directory.join(name);
        run_ok(radon_phantom(16, "5", &out).args(["--noise-snr", "20", "--seed", seed]));
        npy::read_f32(&out).unwrap().data
    };
    let (first, again, other) = (run("a.npy", "3"), run("b.npy", "3"), run("c.npy", "4"));
    assert_eq!(first, again);
    assert_ne!(first, other);
}

#[test]
fn radon_rejects_non_square_image() {
    let directory = scratch("non-square");
    let png = directory.join("wide.png");
    write_png(&png, &Image::new(20, 12, 1, vec![0.5; 240]).unwrap()).unwrap();
    let message = run_err(
        maso()
            .args(["radon", "--angles", "4", "--out"])
            .arg(directory.join("s.npy"))
            .arg("--image")
            .arg(&png),
    );
    assert!(
        message.contains("20 x 12") && message.contains("square"),
        "{message}"
    );
}

#[test]
fn radon_rejects_bad_options() {
    let directory = scratch("bad-options");
    let message = run_err(&mut radon_phantom(16, "0", &directory.join("s.npy")));
    assert!(message.contains("number of angles"), "{message}");
    let message = run_err(&mut radon_phantom(16, "4", &directory.join("s.png")));
    assert!(message.contains(".npy"), "{message}");
    let message = run_err(
        maso()
            .args(["radon", "--angles", "4", "--out"])
            .arg(directory.join("s.npy")),
    );
    assert!(message.contains("--image"), "{message}");
}

#[test]
fn fbp_matches_library() {
    let directory = scratch("fbp");
    let (sinogram_path, png, array) = (
        directory.join("sino.npy"),
        directory.join("rec.png"),
        directory.join("rec.npy"),
    );
    run_ok(&mut radon_phantom(40, "21", &sinogram_path));
    run_ok(
        maso()
            .args(["fbp", "--filter", "shepp-logan", "--angles", "21", "--out"])
            .arg(&png)
            .arg("--npy")
            .arg(&array)
            .arg("--sinogram")
            .arg(&sinogram_path),
    );

    let sinogram = Sinogram::read_npy(&sinogram_path).unwrap();
    let geometry = RadonGeometry::uniform(40, 21);
    let expected = filtered_back_projection(
        common::gpu(),
        &geometry,
        &sinogram.data,
        FbpFilter::SheppLogan,
    )
    .unwrap();
    let written = npy::read_f32(&array).unwrap();
    assert_eq!(written.shape, vec![40, 40]);
    assert_eq!(written.data, expected);
    let picture = read_image(&png).unwrap();
    assert_eq!((picture.width(), picture.height()), (40, 40));
}

#[test]
fn fbp_output_size_option() {
    let directory = scratch("fbp-size");
    let (sinogram_path, png) = (directory.join("sino.npy"), directory.join("rec.png"));
    run_ok(&mut radon_phantom(30, "8", &sinogram_path));
    run_ok(
        maso()
            .args(["fbp", "--size", "17", "--normalize", "--out"])
            .arg(&png)
            .arg("--sinogram")
            .arg(&sinogram_path),
    );
    let picture = read_image(&png).unwrap();
    assert_eq!((picture.width(), picture.height()), (17, 17));
    let brightest = picture.data().iter().copied().fold(0.0f32, f32::max);
    assert_eq!(brightest, 1.0);
}

#[test]
fn fbp_rejects_bad_input() {
    let directory = scratch("fbp-bad");
    let sinogram_path = directory.join("sino.npy");
    run_ok(&mut radon_phantom(12, "6", &sinogram_path));
    let out = directory.join("rec.png");

    let message = run_err(
        maso()
            .args(["fbp", "--filter", "gauss", "--out"])
            .arg(&out)
            .arg("--sinogram")
            .arg(&sinogram_path),
    );
    assert!(
        message.contains("gauss") && message.contains("ramp, shepp-logan, cosine, hamming, hann"),
        "{message}"
    );

    let message = run_err(
        maso()
            .args(["fbp", "--angles", "7", "--out"])
            .arg(&out)
            .arg("--sinogram")
            .arg(&sinogram_path),
    );
    assert!(
        message.contains("--angles 7") && message.contains("6 angles"),
        "{message}"
    );

    let cube = directory.join("cube.npy");
    npy::write_f32(&cube, &[2, 3, 4], &[0.0; 24]).unwrap();
    let message = run_err(
        maso()
            .args(["fbp", "--out"])
            .arg(&out)
            .arg("--sinogram")
            .arg(&cube),
    );
    assert!(message.contains("(detectors, angles)"), "{message}");
}
