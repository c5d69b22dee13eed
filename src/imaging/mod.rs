//! Images for the coordinate-network pipelines: the [`Image`] type, PNG/JPEG
//! input and output, resampling and quality metrics (PSNR, SSIM). All CPU code.

mod image;
mod quality;
mod resample;

pub use self::image::{read_image, write_png, Image, GREY_WEIGHTS};
pub use self::quality::{psnr, ssim, SSIM_SIGMA, SSIM_WINDOW};
pub use self::resample::{
    area_downsample, coordinate_grid, crop_to_multiple, keys_kernel, resize_bicubic,
    resize_bilinear, resize_keys_cubic, BICUBIC_A,
};
