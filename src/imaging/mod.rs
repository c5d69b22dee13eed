//! Images for the coordinate-network pipelines: the [`Image`] type, PNG/JPEG
//! input and output, bundled test images, resampling and quality metrics
//! (PSNR, SSIM) and comparison figures. All CPU code.

mod bundled;
mod image;
mod panel;
mod quality;
mod resample;

pub use self::bundled::{bundled_image, bundled_image_names};
pub use self::image::{read_image, write_png, Image, GREY_WEIGHTS};
pub use self::panel::{Panel, PanelGrid, Zoom};
pub use self::quality::{psnr, ssim, SSIM_SIGMA, SSIM_WINDOW};
pub use self::resample::{
    area_downsample, coordinate_grid, crop_to_multiple, keys_kernel, resize_bicubic,
    resize_bilinear, resize_keys_cubic, BICUBIC_A,
};
