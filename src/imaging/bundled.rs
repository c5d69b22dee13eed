//! Test images from scikit-image's data directory, embedded in the binary so
//! that examples and tests run without files. Credits and licences are in
//! `assets/images/LICENSE.md`.

use std::path::Path;

use super::image::{decode_image, Image};
use crate::error::{Error, Result};

/// Name and PNG bytes of each bundled image, sorted by name.
const BUNDLED_IMAGES: [(&str, &[u8]); 3] = [
    // 256 x 256 RGB crop around the face of scikit-image's 512 x 512 `astronaut`.
    (
        "astronaut",
        include_bytes!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/assets/images/astronaut.png"
        )),
    ),
    // 512 x 512 grey, scikit-image's `camera`.
    (
        "camera",
        include_bytes!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/assets/images/camera.png"
        )),
    ),
    // 451 x 300 RGB, scikit-image's `chelsea` (a cat).
    (
        "chelsea",
        include_bytes!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/assets/images/chelsea.png"
        )),
    ),
];

/// Returns the names accepted by [`bundled_image`], sorted.
pub fn bundled_image_names() -> Vec<&'static str> {
    BUNDLED_IMAGES.iter().map(|(name, _)| *name).collect()
}

/// Decodes the bundled image called `name`: `astronaut` (256 x 256 RGB),
/// `camera` (512 x 512 grey) or `chelsea` (451 x 300 RGB).
///
/// Errors for any other name, listing the available ones.
pub fn bundled_image(name: &str) -> Result<Image> {
    let Some((_, bytes)) = BUNDLED_IMAGES.iter().find(|(known, _)| *known == name) else {
        return Err(Error::InvalidArgument {
            name: "bundled image",
            value: format!("{name:?}"),
            expected: format!("one of {}", bundled_image_names().join(", ")),
        });
    };
    decode_image(bytes, Path::new(&format!("bundled image {name}")))
}
