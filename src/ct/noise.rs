//! Gaussian measurement noise at a given signal-to-noise ratio.

use crate::ct::geometry::{check_finite, invalid};
use crate::error::Result;
use crate::random::PhiloxStream;

/// Philox stream id of the noise; the seed is the caller's.
pub const NOISE_STREAM: u64 = 0x5241_444f_4e4f_4953;

/// Adds independent Gaussian noise N(0, sigma^2) to every value of
/// `sinogram` and returns sigma.
///
/// The signal-to-noise ratio is defined on the clean sinogram s as
/// `snr_db = 10 log10(mean(s^2) / sigma^2)`, so
/// `sigma = sqrt(mean(s^2) / 10^(snr_db / 10))`. Value `k` receives
/// `sigma * z_k`, where z is the standard normal sequence of the host Philox
/// stream ([`PhiloxStream::normal`]) with key `seed` and stream id
/// [`NOISE_STREAM`], so a seed reproduces the same noise on every machine.
/// An all-zero sinogram gets sigma = 0 and is left unchanged.
pub fn add_noise(sinogram: &mut [f32], snr_db: f64, seed: u64) -> Result<f64> {
    if !snr_db.is_finite() {
        return Err(invalid(
            "noise SNR",
            &format!("{snr_db} dB"),
            "a finite signal-to-noise ratio in dB",
        ));
    }
    if sinogram.is_empty() {
        return Err(invalid(
            "sinogram length",
            "0",
            "a sinogram with at least one value",
        ));
    }
    check_finite("sinogram value", sinogram)?;

    let mean_square = sinogram
        .iter()
        .map(|&value| f64::from(value).powi(2))
        .sum::<f64>()
        / sinogram.len() as f64;
    let sigma = (mean_square / 10f64.powf(snr_db / 10.0)).sqrt();
    let noise = PhiloxStream::new(seed, NOISE_STREAM).normal(0, sinogram.len());
    for (value, z) in sinogram.iter_mut().zip(noise) {
        *value = (f64::from(*value) + sigma * f64::from(z)) as f32;
    }
    Ok(sigma)
}
