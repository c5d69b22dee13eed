//! The IDX array format of the MNIST files (LeCun and Cortes): two zero
//! bytes, a data-type byte, the number of dimensions, then each dimension as
//! a big-endian u32, then the values in row-major order.
//!
//! Only unsigned-byte arrays (type 0x08) are read, which is what MNIST and
//! Fashion-MNIST store.

use super::dataset::dataset_error;
use crate::error::Result;

/// Data-type byte of unsigned 8-bit values.
const TYPE_UNSIGNED_BYTE: u8 = 0x08;

/// An unsigned-byte array read from an IDX file.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct IdxArray {
    /// Extent of each dimension, outermost first.
    pub dims: Vec<usize>,
    /// Values in row-major order.
    pub data: Vec<u8>,
}

fn type_name(code: u8) -> &'static str {
    match code {
        0x08 => "unsigned byte",
        0x09 => "signed byte",
        0x0B => "16-bit integer",
        0x0C => "32-bit integer",
        0x0D => "32-bit float",
        0x0E => "64-bit float",
        _ => "unknown",
    }
}

/// Parses an uncompressed IDX file of unsigned bytes. `origin` names the
/// file in errors.
pub(crate) fn parse_idx_u8(bytes: &[u8], origin: &str) -> Result<IdxArray> {
    if bytes.len() < 4 {
        return Err(dataset_error(
            origin,
            format!(
                "the file has {} bytes, too few for an IDX header; it is truncated or empty",
                bytes.len()
            ),
        ));
    }
    if bytes[0] != 0 || bytes[1] != 0 {
        return Err(dataset_error(
            origin,
            format!(
                "the file does not start with an IDX magic number (first bytes {:#04x} {:#04x}, expected 0x00 0x00); \
                 it is not an IDX file",
                bytes[0], bytes[1]
            ),
        ));
    }
    if bytes[2] != TYPE_UNSIGNED_BYTE {
        return Err(dataset_error(
            origin,
            format!(
                "the IDX data type is {:#04x} ({}), but only unsigned bytes (0x08) are supported, as in the MNIST files",
                bytes[2],
                type_name(bytes[2])
            ),
        ));
    }

    let dims = parse_dims(bytes, origin)?;
    let header_len = 4 + 4 * dims.len();
    let expected = dims
        .iter()
        .try_fold(1usize, |product, &extent| product.checked_mul(extent));
    let available = bytes.len() - header_len;
    match expected {
        Some(expected) if expected == available => Ok(IdxArray {
            dims,
            data: bytes[header_len..].to_vec(),
        }),
        Some(expected) if expected > available => Err(dataset_error(
            origin,
            format!(
                "the file is truncated: the header gives dimensions {dims:?}, which need {expected} data bytes, \
                 but only {available} follow; download the file again"
            ),
        )),
        Some(expected) => Err(dataset_error(
            origin,
            format!(
                "the header gives dimensions {dims:?}, which need {expected} data bytes, but {available} follow; \
                 the file is corrupt or not an IDX file"
            ),
        )),
        None => Err(dataset_error(
            origin,
            format!("the dimensions {dims:?} are too large; the header is corrupt"),
        )),
    }
}

fn parse_dims(bytes: &[u8], origin: &str) -> Result<Vec<usize>> {
    let rank = usize::from(bytes[3]);
    if rank == 0 {
        return Err(dataset_error(
            origin,
            "the IDX header declares 0 dimensions; the file is corrupt",
        ));
    }
    let header_len = 4 + 4 * rank;
    if bytes.len() < header_len {
        return Err(dataset_error(
            origin,
            format!(
                "the file is truncated inside its header: {rank} dimensions need {header_len} header bytes, \
                 but the file has {}",
                bytes.len()
            ),
        ));
    }
    let dims = bytes[4..header_len]
        .chunks_exact(4)
        .map(|word| u32::from_be_bytes([word[0], word[1], word[2], word[3]]) as usize)
        .collect();
    Ok(dims)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn idx_bytes(type_code: u8, dims: &[u32], data: &[u8]) -> Vec<u8> {
        let mut bytes = vec![0, 0, type_code, dims.len() as u8];
        for extent in dims {
            bytes.extend_from_slice(&extent.to_be_bytes());
        }
        bytes.extend_from_slice(data);
        bytes
    }

    fn error_text(bytes: &[u8]) -> String {
        parse_idx_u8(bytes, "test.idx").unwrap_err().to_string()
    }

    #[test]
    fn parses_dims_and_values() {
        let array = parse_idx_u8(&idx_bytes(8, &[2, 1, 3], &[1, 2, 3, 4, 5, 6]), "ok").unwrap();
        assert_eq!(array.dims, vec![2, 1, 3]);
        assert_eq!(array.data, vec![1, 2, 3, 4, 5, 6]);
    }

    #[test]
    fn short_file_is_rejected() {
        let text = error_text(&[0, 0]);
        assert!(text.contains("test.idx"), "{text}");
        assert!(text.contains("too few for an IDX header"), "{text}");
    }

    #[test]
    fn wrong_magic_is_rejected() {
        let text = error_text(b"PK\x03\x04rest");
        assert!(text.contains("not an IDX file"), "{text}");
    }

    #[test]
    fn float_type_is_rejected() {
        let text = error_text(&idx_bytes(0x0D, &[1], &[0, 0, 0, 0]));
        assert!(text.contains("0x0d (32-bit float)"), "{text}");
    }

    #[test]
    fn truncated_header_is_rejected() {
        let mut bytes = idx_bytes(8, &[2, 2], &[]);
        bytes.truncate(9);
        let text = error_text(&bytes);
        assert!(text.contains("truncated inside its header"), "{text}");
    }

    #[test]
    fn truncated_data_is_rejected() {
        let text = error_text(&idx_bytes(8, &[2, 2], &[1, 2, 3]));
        assert!(text.contains("truncated"), "{text}");
        assert!(
            text.contains("need 4 data bytes, but only 3 follow"),
            "{text}"
        );
    }

    #[test]
    fn trailing_bytes_are_rejected() {
        let text = error_text(&idx_bytes(8, &[2], &[1, 2, 3]));
        assert!(text.contains("need 2 data bytes, but 3 follow"), "{text}");
    }

    #[test]
    fn zero_rank_is_rejected() {
        let text = error_text(&[0, 0, 8, 0]);
        assert!(text.contains("0 dimensions"), "{text}");
    }
}
