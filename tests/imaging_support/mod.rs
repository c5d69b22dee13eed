//! Helpers shared by the imaging tests: scratch directories, random images
//! and fixture images stored as `.npy`.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use maso::imaging::Image;
use maso::io::npy;
use maso::random::PhiloxStream;

/// Creates an empty directory for one test under the system temporary directory.
pub fn scratch_dir(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("maso-imaging-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create scratch directory");
    dir
}

/// Builds an image with values uniform in [0, 1), reproducible from `seed`.
pub fn random_image(seed: u64, width: usize, height: usize, channels: usize) -> Image {
    let data = PhiloxStream::new(seed, 0x1A6E).uniform(0, width * height * channels);
    Image::new(width, height, channels, data).unwrap()
}

/// Builds a random image whose samples are multiples of 1/255, so an 8-bit
/// round trip or a figure shows them exactly.
pub fn quantised_image(seed: u64, width: usize, height: usize, channels: usize) -> Image {
    let image = random_image(seed, width, height, channels);
    let data = image
        .data()
        .iter()
        .map(|value| (value * 255.0).round() / 255.0)
        .collect();
    Image::new(width, height, channels, data).unwrap()
}

/// Loads an image stored as a float32 `.npy` of shape (height, width) or
/// (height, width, 3).
pub fn npy_image(path: &Path) -> Image {
    let array = npy::read_f32(path).unwrap();
    let channels = array.shape.get(2).copied().unwrap_or(1);
    Image::new(array.shape[1], array.shape[0], channels, array.data).unwrap()
}
