//! Images for the coordinate-network pipelines: the [`Image`] type and
//! PNG/JPEG input and output. All CPU code.

mod image;

pub use self::image::{read_image, write_png, Image, GREY_WEIGHTS};
