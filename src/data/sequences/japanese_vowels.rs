//! The training part of the UEA/UCR archive's JapaneseVowels data set
//! (M. Kudo, J. Toyama and M. Shimbo, Pattern Recognition Letters, 1999):
//! 9 male speakers saying the Japanese vowels 'a' and 'e', each recording
//! turned by a 12-degree linear prediction analysis into 7 to 29 steps of
//! 12 channels. This training part has 30 recordings per speaker, 7 to 26
//! steps long. The class is the speaker, labelled 1 to 9.
//!
//! The bundled file is `JapaneseVowels_TRAIN.ts` from the sktime 1.2.0
//! wheel, gzip-compressed (see `assets/README.md` for its checksum and
//! licence).

use super::missing::MissingValues;
use super::ts::parse_ts;
use super::SequenceSet;
use crate::data::dataset::dataset_error;
use crate::data::gzip::decompress_if_gzip;
use crate::error::Result;

const BUNDLED_JAPANESE_VOWELS: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/assets/JapaneseVowels_TRAIN.ts.gz"
));

const ORIGIN: &str = "bundled JapaneseVowels_TRAIN.ts";

/// Loads the bundled JapaneseVowels training set: 270 sequences of 12
/// channels, 7 to 26 steps long, 30 in each of the classes `1` to `9`
/// (labels 0 to 8).
pub fn load_japanese_vowels() -> Result<SequenceSet> {
    let bytes = decompress_if_gzip(BUNDLED_JAPANESE_VOWELS.to_vec(), ORIGIN)?;
    let text = std::str::from_utf8(&bytes)
        .map_err(|error| dataset_error(ORIGIN, format!("the file is not UTF-8 text ({error})")))?;
    parse_ts(text, ORIGIN, MissingValues::Reject)
}
