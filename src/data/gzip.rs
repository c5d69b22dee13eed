//! Reading files that may be gzip-compressed. Compression is detected from
//! the gzip magic bytes, not from the file name, so a renamed file still
//! loads.

use std::io::Read;
use std::path::Path;

use flate2::read::MultiGzDecoder;

use super::dataset::dataset_error;
use crate::error::{Error, Result};

/// The first two bytes of every gzip member (RFC 1952).
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Returns the bytes unchanged, or decompressed if they start with the gzip
/// magic bytes. `origin` names the source in errors.
pub(crate) fn decompress_if_gzip(bytes: Vec<u8>, origin: &str) -> Result<Vec<u8>> {
    if !bytes.starts_with(&GZIP_MAGIC) {
        return Ok(bytes);
    }
    let mut decompressed = Vec::with_capacity(bytes.len() * 4);
    MultiGzDecoder::new(bytes.as_slice())
        .read_to_end(&mut decompressed)
        .map_err(|error| {
            dataset_error(
                origin,
                format!("the gzip data is corrupt or truncated ({error}); download or copy the file again"),
            )
        })?;
    Ok(decompressed)
}

/// Reads a file, decompressing it if it is gzip-compressed.
pub(crate) fn read_maybe_gzip(path: &Path) -> Result<Vec<u8>> {
    let bytes = std::fs::read(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    decompress_if_gzip(bytes, &path.display().to_string())
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use flate2::write::GzEncoder;
    use flate2::Compression;

    use super::*;

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
        encoder.write_all(bytes).unwrap();
        encoder.finish().unwrap()
    }

    #[test]
    fn plain_data_passes_through() {
        assert_eq!(
            decompress_if_gzip(b"1,2,3\n".to_vec(), "plain").unwrap(),
            b"1,2,3\n"
        );
    }

    #[test]
    fn gzip_data_is_decompressed() {
        let compressed = gzip(b"hello, data");
        assert_eq!(
            decompress_if_gzip(compressed, "packed").unwrap(),
            b"hello, data"
        );
    }

    #[test]
    fn truncated_gzip_names_origin() {
        let compressed = gzip(&[7u8; 1000]);
        let cut = &compressed[..compressed.len() / 2];
        let message = decompress_if_gzip(cut.to_vec(), "cut.gz")
            .unwrap_err()
            .to_string();
        assert!(message.contains("cut.gz"), "{message}");
        assert!(message.contains("corrupt or truncated"), "{message}");
    }
}
