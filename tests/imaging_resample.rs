//! Resampling against a float64 reference written from the formulas, and
//! against OpenCV, PIL and scikit-image. scripts/fixtures/imaging_resample.py
//! wrote the files in tests/fixtures/imaging/resample.

mod common;

use std::path::PathBuf;

use common::uniform_values;
use maso::imaging::{
    area_downsample, coordinate_grid, crop_to_multiple, keys_kernel, resize_bicubic,
    resize_bilinear, resize_keys_cubic, Image,
};
use maso::io::npy;
use maso::Error;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/imaging/resample")
        .join(format!("{name}.npy"))
}

/// Loads a fixture input stored as (height, width) or (height, width, 3).
fn fixture_image(name: &str) -> Image {
    let array = npy::read_f32(fixture(name)).unwrap();
    let channels = array.shape.get(2).copied().unwrap_or(1);
    Image::new(array.shape[1], array.shape[0], channels, array.data).unwrap()
}

fn random_image(seed: u64, width: usize, height: usize, channels: usize) -> Image {
    Image::new(
        width,
        height,
        channels,
        uniform_values(seed, width * height * channels, 0.0, 1.0),
    )
    .unwrap()
}

/// Interpolates `image` at output pixel (`x`, `y`) of a `width` x `height`
/// result directly in 2-D. The source position is (i + 0.5) * in / out - 0.5,
/// taps are clamped to the image, and `kernel(d)` weighs a tap at distance d.
fn reference_pixel(
    image: &Image,
    width: usize,
    height: usize,
    x: usize,
    y: usize,
    radius: i64,
    kernel: &dyn Fn(f64) -> f64,
) -> Vec<f64> {
    let source_x = (x as f64 + 0.5) * image.width() as f64 / width as f64 - 0.5;
    let source_y = (y as f64 + 0.5) * image.height() as f64 / height as f64 - 0.5;
    let mut value = vec![0.0; image.channels()];
    for j in source_y.floor() as i64 - radius + 1..=source_y.floor() as i64 + radius {
        for i in source_x.floor() as i64 - radius + 1..=source_x.floor() as i64 + radius {
            let weight = kernel(source_x - i as f64) * kernel(source_y - j as f64);
            let column = i.clamp(0, image.width() as i64 - 1) as usize;
            let row = j.clamp(0, image.height() as i64 - 1) as usize;
            for (c, sum) in value.iter_mut().enumerate() {
                *sum += weight * f64::from(image.get(column, row, c));
            }
        }
    }
    value
}

/// Largest |actual - expected| over all samples, with the sample index.
fn max_abs_error(actual: &Image, expected: &[f64]) -> (f64, usize) {
    assert_eq!(actual.data().len(), expected.len(), "sample count");
    let mut worst = (0.0, 0);
    for (index, (&got, &want)) in actual.data().iter().zip(expected).enumerate() {
        let error = (f64::from(got) - want).abs();
        if error > worst.0 {
            worst = (error, index);
        }
    }
    worst
}

fn triangle(d: f64) -> f64 {
    (1.0 - d.abs()).max(0.0)
}

#[test]
fn resize_matches_2d_formula() {
    // Float32 rounding of results in [0, 1] (about 6e-8) dominates, so 1e-6 absolute is ample.
    let sizes = [
        (13, 11, 1, 31, 17),
        (9, 7, 3, 4, 5),
        (5, 8, 1, 12, 3),
        (1, 1, 3, 3, 2),
        (17, 3, 3, 17, 3),
    ];
    for (seed, &(in_width, in_height, channels, width, height)) in sizes.iter().enumerate() {
        let image = random_image(100 + seed as u64, in_width, in_height, channels);
        let cases: [(&str, Image, i64, Box<dyn Fn(f64) -> f64>); 3] = [
            (
                "bilinear",
                resize_bilinear(&image, width, height).unwrap(),
                1,
                Box::new(triangle),
            ),
            (
                "bicubic",
                resize_bicubic(&image, width, height).unwrap(),
                2,
                Box::new(|d| keys_kernel(d, -0.5)),
            ),
            (
                "cubic a=-0.75",
                resize_keys_cubic(&image, width, height, -0.75).unwrap(),
                2,
                Box::new(|d| keys_kernel(d, -0.75)),
            ),
        ];
        for (name, resized, radius, kernel) in cases {
            assert_eq!(
                (resized.width(), resized.height(), resized.channels()),
                (width, height, channels),
                "{name}"
            );
            let mut expected = Vec::new();
            for y in 0..height {
                for x in 0..width {
                    expected.extend(reference_pixel(
                        &image, width, height, x, y, radius, &kernel,
                    ));
                }
            }
            let (error, index) = max_abs_error(&resized, &expected);
            assert!(
                error < 1e-6,
                "{name} {in_width}x{in_height} -> {width}x{height}: sample {index} off by {error}"
            );
        }
    }
}

#[test]
fn keys_kernel_values() {
    for a in [-0.5, -0.75] {
        assert_eq!(keys_kernel(0.0, a), 1.0);
        assert_eq!(keys_kernel(1.0, a), 0.0);
        assert_eq!(keys_kernel(2.0, a), 0.0);
        assert_eq!(keys_kernel(2.5, a), 0.0);
        assert_eq!(keys_kernel(-0.3, a), keys_kernel(0.3, a));
        // The four weights of any fractional offset sum to 1.
        for t in [0.0, 0.1, 0.37, 0.5, 0.99] {
            let sum = keys_kernel(t + 1.0, a)
                + keys_kernel(t, a)
                + keys_kernel(1.0 - t, a)
                + keys_kernel(2.0 - t, a);
            assert!((sum - 1.0).abs() < 1e-12, "a = {a}, t = {t}: {sum}");
        }
    }
    // W(0.5) = (a + 2) / 8 - (a + 3) / 4 + 1 = 0.5625 for a = -0.5.
    assert!((keys_kernel(0.5, -0.5) - 0.5625).abs() < 1e-15);
    // W(1.5) = a (27/8 - 45/4 + 12 - 4) = -0.0625 for a = -0.5.
    assert!((keys_kernel(1.5, -0.5) + 0.0625).abs() < 1e-15);
}

#[test]
fn resize_same_size_is_identity() {
    let image = random_image(7, 9, 6, 3);
    assert_eq!(resize_bilinear(&image, 9, 6).unwrap(), image);
    assert_eq!(resize_bicubic(&image, 9, 6).unwrap(), image);
}

#[test]
fn resize_keeps_constant_image() {
    let image = Image::new(5, 4, 1, vec![0.3; 20]).unwrap();
    for resized in [
        resize_bilinear(&image, 13, 9).unwrap(),
        resize_bicubic(&image, 13, 9).unwrap(),
        resize_bicubic(&image, 2, 3).unwrap(),
    ] {
        for &value in resized.data() {
            assert!((value - 0.3).abs() < 1e-6, "{value}");
        }
    }
}

#[test]
fn resize_rejects_bad_arguments() {
    let image = random_image(8, 4, 4, 1);
    assert!(matches!(
        resize_bilinear(&image, 0, 4),
        Err(Error::InvalidArgument {
            name: "output size",
            ..
        })
    ));
    assert!(matches!(
        resize_bicubic(&image, 4, 0),
        Err(Error::InvalidArgument {
            name: "output size",
            ..
        })
    ));
    assert!(matches!(
        resize_keys_cubic(&image, 4, 4, f64::NAN),
        Err(Error::InvalidArgument { name: "a", .. })
    ));
}

/// OpenCV 5.1 computes in float32 with float32 interpolation coefficients; the
/// measured maximum difference is 2e-7, so 1e-6 absolute leaves a margin.
#[test]
fn resize_matches_opencv() {
    let sizes = [("up", 29, 23), ("down", 7, 5), ("mixed", 20, 6)];
    for input in ["grey", "rgb"] {
        let image = fixture_image(input);
        for (label, width, height) in sizes {
            let linear = npy::read_f64(fixture(&format!("{input}_opencv_linear_{label}")))
                .unwrap()
                .data;
            let (error, index) =
                max_abs_error(&resize_bilinear(&image, width, height).unwrap(), &linear);
            assert!(
                error < 1e-6,
                "{input} bilinear {label}: sample {index} off by {error}"
            );

            let cubic = npy::read_f64(fixture(&format!("{input}_opencv_cubic_{label}")))
                .unwrap()
                .data;
            let (error, index) = max_abs_error(
                &resize_keys_cubic(&image, width, height, -0.75).unwrap(),
                &cubic,
            );
            assert!(
                error < 1e-6,
                "{input} cubic a=-0.75 {label}: sample {index} off by {error}"
            );
        }
    }
}

/// Marks the output positions along an axis whose four bicubic taps all lie
/// inside the input, where PIL's border renormalisation does not apply.
fn taps_inside(input: usize, output: usize) -> Vec<bool> {
    (0..output)
        .map(|i| {
            let base = ((i as f64 + 0.5) * input as f64 / output as f64 - 0.5).floor() as i64;
            base >= 1 && base + 2 < input as i64
        })
        .collect()
}

/// PIL stores its intermediate pass in float32; the measured maximum
/// difference is 7e-8, so 1e-6 absolute leaves a margin.
#[test]
fn resize_matches_pil_when_enlarging() {
    let sizes = [("up", 29, 23), ("up_large", 53, 47)];
    for input in ["grey", "rgb"] {
        let image = fixture_image(input);
        let channels = image.channels();
        for (label, width, height) in sizes {
            let bilinear = npy::read_f64(fixture(&format!("{input}_pil_bilinear_{label}")))
                .unwrap()
                .data;
            let (error, index) =
                max_abs_error(&resize_bilinear(&image, width, height).unwrap(), &bilinear);
            assert!(
                error < 1e-6,
                "{input} bilinear {label}: sample {index} off by {error}"
            );

            let pil = npy::read_f64(fixture(&format!("{input}_pil_bicubic_{label}")))
                .unwrap()
                .data;
            let ours = resize_bicubic(&image, width, height).unwrap();
            let (columns, rows) = (
                taps_inside(image.width(), width),
                taps_inside(image.height(), height),
            );
            let (mut interior_error, mut border_error) = (0.0f64, 0.0f64);
            for (index, (&got, &want)) in ours.data().iter().zip(&pil).enumerate() {
                let pixel = index / channels;
                let error = (f64::from(got) - want).abs();
                if columns[pixel % width] && rows[pixel / width] {
                    interior_error = interior_error.max(error);
                } else {
                    border_error = border_error.max(error);
                }
            }
            assert!(
                interior_error < 1e-6,
                "{input} bicubic {label}: interior off by {interior_error}"
            );
            // PIL renormalises the in-range weights at the border where we clamp, as documented.
            assert!(
                border_error > 1e-3,
                "{input} bicubic {label}: border differs by only {border_error}"
            );
        }
    }
}

#[test]
fn area_downsample_averages_blocks() {
    let image = random_image(30, 14, 10, 3);
    for factor in [1, 2, 3, 4, 10] {
        let small = area_downsample(&image, factor).unwrap();
        assert_eq!(
            (small.width(), small.height(), small.channels()),
            (14 / factor, 10 / factor, 3),
            "factor {factor}"
        );
        for y in 0..small.height() {
            for x in 0..small.width() {
                for c in 0..3 {
                    let mut sum = 0.0f64;
                    for dy in 0..factor {
                        for dx in 0..factor {
                            sum += f64::from(image.get(x * factor + dx, y * factor + dy, c));
                        }
                    }
                    let expected = sum / (factor * factor) as f64;
                    let got = f64::from(small.get(x, y, c));
                    assert!(
                        (got - expected).abs() < 1e-6,
                        "factor {factor} pixel ({x}, {y}) channel {c}"
                    );
                }
            }
        }
    }
    assert_eq!(area_downsample(&image, 1).unwrap(), image);
}

#[test]
fn area_downsample_drops_remainder() {
    let image = random_image(31, 14, 10, 1);
    let cropped = crop_to_multiple(&image, 4).unwrap();
    assert_eq!((cropped.width(), cropped.height()), (12, 8));
    assert_eq!(cropped, image.crop(0, 0, 12, 8).unwrap());
    assert_eq!(
        area_downsample(&image, 4).unwrap(),
        area_downsample(&cropped, 4).unwrap()
    );
    assert_eq!(
        crop_to_multiple(&image, 2).unwrap(),
        image,
        "14 x 10 is a multiple of 2"
    );
}

#[test]
fn area_downsample_rejects_bad_factor() {
    let image = random_image(32, 6, 4, 1);
    for factor in [0, 5, 7] {
        let error = area_downsample(&image, factor).unwrap_err();
        assert!(
            matches!(error, Error::InvalidArgument { name: "factor", .. }),
            "factor {factor}: {error:?}"
        );
        assert!(error.to_string().contains("from 1 to 4"), "{error}");
        assert!(
            crop_to_multiple(&image, factor).is_err(),
            "crop_to_multiple factor {factor}"
        );
    }
    assert_eq!(area_downsample(&image, 4).unwrap().width(), 1);
}

/// skimage pads incomplete blocks with zeros, so only complete blocks are
/// compared; float64 against float32 results, 1e-6 absolute.
#[test]
fn area_downsample_matches_skimage() {
    for input in ["grey", "rgb"] {
        let image = fixture_image(input);
        let skimage = npy::read_f64(fixture(&format!("{input}_local_mean_3"))).unwrap();
        let ours = area_downsample(&image, 3).unwrap();
        let (padded_width, channels) = (skimage.shape[1], image.channels());
        assert_eq!(padded_width, image.width().div_ceil(3), "{input}");
        for y in 0..ours.height() {
            for x in 0..ours.width() {
                for c in 0..channels {
                    let want = skimage.data[(y * padded_width + x) * channels + c];
                    let got = f64::from(ours.get(x, y, c));
                    assert!(
                        (got - want).abs() < 1e-6,
                        "{input} pixel ({x}, {y}) channel {c}: {got} vs {want}"
                    );
                }
            }
        }
    }
}

#[test]
fn coordinate_grid_centres_and_order() {
    let grid = coordinate_grid(4, 2);
    let expected = [
        [-0.75, -0.5],
        [-0.25, -0.5],
        [0.25, -0.5],
        [0.75, -0.5],
        [-0.75, 0.5],
        [-0.25, 0.5],
        [0.25, 0.5],
        [0.75, 0.5],
    ];
    assert_eq!(grid, expected);
    assert_eq!(coordinate_grid(1, 1), vec![[0.0, 0.0]]);
    assert!(coordinate_grid(0, 3).is_empty());
    let odd = coordinate_grid(7, 5);
    assert_eq!(odd.len(), 35);
    assert_eq!(odd[3], [0.0, -0.8]);
    assert!((odd[34][0] - 6.0 / 7.0).abs() < 1e-7);
}

#[test]
fn coordinate_grids_align_under_area_downsample() {
    let (factor, low_width, low_height) = (4, 5, 3);
    let high = coordinate_grid(low_width * factor, low_height * factor);
    let low = coordinate_grid(low_width, low_height);
    let high_width = low_width * factor;
    for y in 0..low_height {
        for x in 0..low_width {
            let mut centroid = [0.0f64; 2];
            for dy in 0..factor {
                for dx in 0..factor {
                    let point = high[(y * factor + dy) * high_width + x * factor + dx];
                    centroid[0] += f64::from(point[0]) / 16.0;
                    centroid[1] += f64::from(point[1]) / 16.0;
                }
            }
            let centre = low[y * low_width + x];
            assert!(
                (f64::from(centre[0]) - centroid[0]).abs() < 1e-6,
                "pixel ({x}, {y}) x"
            );
            assert!(
                (f64::from(centre[1]) - centroid[1]).abs() < 1e-6,
                "pixel ({x}, {y}) y"
            );
        }
    }
}
