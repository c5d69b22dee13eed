//! Tests of the image layer: the `Image` type and PNG/JPEG input and output.

mod common;

use std::path::PathBuf;

use common::uniform_values;
use maso::imaging::{read_image, write_png, Image};
use maso::Error;

/// Creates an empty directory for one test under the system temporary directory.
fn scratch_dir(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("maso-imaging-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create scratch directory");
    dir
}

/// Builds a random image whose samples are multiples of 1/255, so an 8-bit round trip is exact.
fn quantised_image(seed: u64, width: usize, height: usize, channels: usize) -> Image {
    let data = uniform_values(seed, width * height * channels, 0.0, 1.0)
        .into_iter()
        .map(|value| (value * 255.0).round() / 255.0)
        .collect();
    Image::new(width, height, channels, data).unwrap()
}

#[test]
fn image_new_checks_shape() {
    assert!(Image::new(3, 2, 1, vec![0.5; 6]).is_ok());
    assert!(Image::new(3, 2, 3, vec![0.5; 18]).is_ok());
    assert!(matches!(
        Image::new(3, 2, 3, vec![0.5; 17]),
        Err(Error::ShapeMismatch { .. })
    ));
    assert!(matches!(
        Image::new(3, 2, 2, vec![0.5; 12]),
        Err(Error::InvalidArgument {
            name: "channels",
            ..
        })
    ));
    assert!(matches!(
        Image::new(3, 2, 4, vec![0.5; 24]),
        Err(Error::InvalidArgument {
            name: "channels",
            ..
        })
    ));
    assert!(matches!(
        Image::new(0, 2, 1, vec![]),
        Err(Error::InvalidArgument {
            name: "image size",
            ..
        })
    ));
    assert!(matches!(
        Image::zeros(4, 0, 3),
        Err(Error::InvalidArgument {
            name: "image size",
            ..
        })
    ));
    assert!(matches!(
        Image::new(usize::MAX, 2, 3, vec![]),
        Err(Error::InvalidArgument {
            name: "image size",
            ..
        })
    ));
}

#[test]
fn image_new_rejects_non_finite() {
    let mut data = vec![0.25; 12];
    data[7] = f32::NAN;
    let error = Image::new(2, 2, 3, data).unwrap_err();
    assert!(error.to_string().contains("index 7"), "{error}");
    assert!(Image::new(1, 1, 1, vec![f32::INFINITY]).is_err());
    assert!(
        Image::new(1, 1, 1, vec![1.5]).is_ok(),
        "values outside [0, 1] are allowed"
    );
}

#[test]
fn image_accessors_and_layout() {
    let data: Vec<f32> = (0..2 * 3 * 3).map(|i| i as f32).collect();
    let image = Image::new(3, 2, 3, data.clone()).unwrap();
    assert_eq!((image.width(), image.height(), image.channels()), (3, 2, 3));
    assert_eq!(image.data(), &data[..]);
    // Row-major with interleaved channels: (x, y, c) sits at (y * width + x) * channels + c.
    assert_eq!(image.get(2, 1, 1), ((3 + 2) * 3 + 1) as f32);
    assert_eq!(image.get(0, 0, 2), 2.0);
    assert_eq!(image.clone().into_data(), data);
    let zeros = Image::zeros(5, 4, 1).unwrap();
    assert!(zeros.data().iter().all(|&value| value == 0.0));
    assert_eq!(zeros.data().len(), 20);
}

#[test]
#[should_panic(expected = "outside a 3 x 2 image")]
fn image_get_out_of_range_panics() {
    Image::zeros(3, 2, 1).unwrap().get(3, 0, 0);
}

#[test]
fn to_grey_uses_rgb2gray_weights() {
    let image = quantised_image(11, 5, 3, 3);
    let grey = image.to_grey();
    assert_eq!((grey.width(), grey.height(), grey.channels()), (5, 3, 1));
    for y in 0..3 {
        for x in 0..5 {
            let expected = 0.2125 * f64::from(image.get(x, y, 0))
                + 0.7154 * f64::from(image.get(x, y, 1))
                + 0.0721 * f64::from(image.get(x, y, 2));
            assert!(
                (f64::from(grey.get(x, y, 0)) - expected).abs() < 1e-7,
                "pixel ({x}, {y})"
            );
        }
    }
    let already_grey = quantised_image(12, 4, 4, 1);
    assert_eq!(already_grey.to_grey(), already_grey);
}

#[test]
fn crop_copies_rectangle() {
    let image = quantised_image(13, 7, 5, 3);
    let crop = image.crop(2, 1, 4, 3).unwrap();
    assert_eq!((crop.width(), crop.height(), crop.channels()), (4, 3, 3));
    for y in 0..3 {
        for x in 0..4 {
            for c in 0..3 {
                assert_eq!(crop.get(x, y, c), image.get(x + 2, y + 1, c));
            }
        }
    }
    assert_eq!(image.crop(0, 0, 7, 5).unwrap(), image);
    assert!(
        image.crop(4, 0, 4, 1).is_err(),
        "reaches past the right edge"
    );
    assert!(
        image.crop(0, 3, 1, 3).is_err(),
        "reaches past the bottom edge"
    );
    assert!(image.crop(0, 0, 0, 1).is_err(), "empty");
    assert!(image.crop(usize::MAX, 0, 2, 1).is_err(), "overflowing");
}

#[test]
fn png_round_trip_exact() {
    let dir = scratch_dir("png-round-trip");
    for channels in [1, 3] {
        let image = quantised_image(20 + channels as u64, 13, 7, channels);
        let path = dir.join(format!("round-trip-{channels}.png"));
        write_png(&path, &image).unwrap();
        let read = read_image(&path).unwrap();
        assert_eq!(
            (read.width(), read.height(), read.channels()),
            (13, 7, channels)
        );
        for (index, (&got, &want)) in read.data().iter().zip(image.data()).enumerate() {
            assert!(
                (got - want).abs() < 1e-6,
                "channels {channels}, sample {index}: {got} vs {want}"
            );
        }
    }
}

#[test]
fn write_png_clamps_and_rounds() {
    let dir = scratch_dir("png-clamp");
    let path = dir.join("clamp.png");
    let values = vec![-0.5, 0.0, 0.5 / 255.0, 0.49 / 255.0, 0.5, 1.0, 7.0];
    write_png(&path, &Image::new(7, 1, 1, values).unwrap()).unwrap();
    let decoded = image::open(&path).unwrap().into_luma8().into_raw();
    // 0.5 / 255 rounds half away from zero to 1; 0.5 * 255 = 127.5 rounds to 128.
    assert_eq!(decoded, vec![0, 0, 1, 0, 128, 255, 255]);
}

#[test]
fn write_png_into_missing_directory_fails() {
    let dir = scratch_dir("png-missing-dir");
    let path = dir.join("no-such-dir").join("out.png");
    let error = write_png(&path, &Image::zeros(2, 2, 1).unwrap()).unwrap_err();
    assert!(error.to_string().contains("no-such-dir"), "{error}");
    assert!(!path.exists());
}

#[test]
fn read_image_handles_pixel_formats() {
    let dir = scratch_dir("pixel-formats");
    let (width, height) = (5u32, 3u32);
    let pixel = |x: u32, y: u32, c: u32| ((x * 37 + y * 91 + c * 53) % 256) as u8;
    let pixel16 = |x: u32, y: u32, c: u32| ((x * 9_001 + y * 13_007 + c * 17_011) % 65_536) as u16;

    let grey_alpha =
        image::GrayAlphaImage::from_fn(width, height, |x, y| image::LumaA([pixel(x, y, 0), 17]));
    let rgba = image::RgbaImage::from_fn(width, height, |x, y| {
        image::Rgba([pixel(x, y, 0), pixel(x, y, 1), pixel(x, y, 2), 0])
    });
    let grey16 = image::ImageBuffer::<image::Luma<u16>, _>::from_fn(width, height, |x, y| {
        image::Luma([pixel16(x, y, 0)])
    });
    let rgb16 = image::ImageBuffer::<image::Rgb<u16>, _>::from_fn(width, height, |x, y| {
        image::Rgb([pixel16(x, y, 0), pixel16(x, y, 1), pixel16(x, y, 2)])
    });
    let rgba16 = image::ImageBuffer::<image::Rgba<u16>, _>::from_fn(width, height, |x, y| {
        image::Rgba([pixel16(x, y, 0), pixel16(x, y, 1), pixel16(x, y, 2), 5])
    });
    grey_alpha.save(dir.join("grey-alpha.png")).unwrap();
    rgba.save(dir.join("rgba.png")).unwrap();
    grey16.save(dir.join("grey16.png")).unwrap();
    rgb16.save(dir.join("rgb16.png")).unwrap();
    rgba16.save(dir.join("rgba16.png")).unwrap();

    let cases: [(&str, usize, f32); 5] = [
        ("grey-alpha.png", 1, 255.0),
        ("rgba.png", 3, 255.0),
        ("grey16.png", 1, 65535.0),
        ("rgb16.png", 3, 65535.0),
        ("rgba16.png", 3, 65535.0),
    ];
    for (name, channels, scale) in cases {
        let image = read_image(&dir.join(name)).unwrap();
        assert_eq!(
            (image.width(), image.height(), image.channels()),
            (5, 3, channels),
            "{name}"
        );
        for y in 0..height {
            for x in 0..width {
                for c in 0..channels as u32 {
                    let stored = if scale == 255.0 {
                        f32::from(pixel(x, y, c))
                    } else {
                        f32::from(pixel16(x, y, c))
                    };
                    let got = image.get(x as usize, y as usize, c as usize);
                    assert_eq!(got, stored / scale, "{name} pixel ({x}, {y}) channel {c}");
                }
            }
        }
    }
}

#[test]
fn read_image_decodes_jpeg() {
    let dir = scratch_dir("jpeg");
    // A smooth gradient survives JPEG at quality 95 to within a few grey levels.
    let rgb = image::RgbImage::from_fn(16, 8, |x, y| {
        image::Rgb([(x * 12) as u8, (y * 24) as u8, 128])
    });
    let path = dir.join("gradient.jpg");
    let file = std::fs::File::create(&path).unwrap();
    image::codecs::jpeg::JpegEncoder::new_with_quality(file, 95)
        .encode_image(&rgb)
        .unwrap();
    let image = read_image(&path).unwrap();
    assert_eq!(
        (image.width(), image.height(), image.channels()),
        (16, 8, 3)
    );
    for y in 0..8u32 {
        for x in 0..16u32 {
            let expected = [(x * 12) as f32, (y * 24) as f32, 128.0];
            for (c, want) in expected.iter().enumerate() {
                let got = image.get(x as usize, y as usize, c) * 255.0;
                assert!(
                    (got - want).abs() <= 6.0,
                    "pixel ({x}, {y}) channel {c}: {got} vs {want}"
                );
            }
        }
    }
}

#[test]
fn read_image_missing_file_names_path() {
    let path = scratch_dir("missing").join("absent.png");
    let error = read_image(&path).unwrap_err();
    assert!(matches!(error, Error::Io { .. }), "{error:?}");
    assert!(error.to_string().contains("absent.png"), "{error}");
}

#[test]
fn read_image_corrupt_file_names_path() {
    let dir = scratch_dir("corrupt");
    let text = dir.join("text.png");
    std::fs::write(&text, "this is not an image").unwrap();
    let error = read_image(&text).unwrap_err();
    assert!(error.to_string().contains("text.png"), "{error}");
    assert!(error.to_string().contains("not PNG or JPEG"), "{error}");

    // A valid PNG cut off inside its pixel data.
    let mut bytes = Vec::new();
    image::RgbImage::from_pixel(32, 32, image::Rgb([10, 200, 30]))
        .write_to(
            &mut std::io::Cursor::new(&mut bytes),
            image::ImageFormat::Png,
        )
        .unwrap();
    let truncated = dir.join("truncated.png");
    std::fs::write(&truncated, &bytes[..bytes.len() - 20]).unwrap();
    let error = read_image(&truncated).unwrap_err();
    assert!(error.to_string().contains("truncated.png"), "{error}");
    assert!(error.to_string().contains("corrupt"), "{error}");
}

#[test]
fn read_image_zero_size_png_fails() {
    // A hand-built PNG header declaring a 0 x 4 image.
    let mut png = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
    let mut ihdr = b"IHDR".to_vec();
    ihdr.extend_from_slice(&0u32.to_be_bytes());
    ihdr.extend_from_slice(&4u32.to_be_bytes());
    ihdr.extend_from_slice(&[8, 0, 0, 0, 0]);
    png.extend_from_slice(&13u32.to_be_bytes());
    png.extend_from_slice(&ihdr);
    png.extend_from_slice(&crc32(&ihdr).to_be_bytes());
    let path = scratch_dir("zero-size").join("empty.png");
    std::fs::write(&path, &png).unwrap();
    let error = read_image(&path).unwrap_err();
    assert!(error.to_string().contains("empty.png"), "{error}");
}

/// CRC-32 (ISO 3309) as PNG chunks use it.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}
