//! Univariate sequences from a CSV file with one sequence per row: the
//! class label in the first column, then the values in order. There is no
//! header row. Rows may have different numbers of values, and empty fields
//! at the end of a row are ignored, so a spreadsheet that pads short rows
//! with empty cells loads as written. `?`, `NaN` or `nan` marks a missing
//! value. This is the layout of the older UCR archive's text files, with
//! commas as separators.

use std::path::Path;

use super::missing::{resolve_missing, MissingValues};
use super::SequenceSet;
use crate::data::dataset::dataset_error;
use crate::data::gzip::read_maybe_gzip;
use crate::data::labels::encode_strings;
use crate::error::Result;

/// Loads a CSV file of univariate sequences, one per row with the label
/// first (see the module documentation), treating missing values by
/// `missing`. A gzip-compressed file is detected and decompressed.
///
/// Labels may be integers or strings, numbered in sorted order (by value
/// when all are integers, as text otherwise). Returns
/// [`crate::Error::Dataset`] for an empty file, a row with a label but no
/// values, an empty label, an empty field before the last value, a value
/// that is not a number or is infinite, and missing values under
/// [`MissingValues::Reject`]. Errors about a row name its line, counting
/// from 1.
pub fn load_sequence_csv(path: impl AsRef<Path>, missing: MissingValues) -> Result<SequenceSet> {
    let path = path.as_ref();
    let origin = path.display().to_string();
    let bytes = read_maybe_gzip(path)?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(bytes.as_slice());

    let mut sequences = Vec::new();
    let mut raw_labels = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|error| {
            dataset_error(&origin, format!("the file is not valid CSV: {error}"))
        })?;
        let line = record.position().map_or(0, |position| position.line());
        if record.iter().all(str::is_empty) {
            continue;
        }
        let (label, mut values) =
            parse_row(&record, line).map_err(|message| dataset_error(&origin, message))?;
        resolve_missing(&mut values, 1, missing, &origin, &format!("line {line}"))?;
        raw_labels.push(label);
        sequences.push(values);
    }
    if sequences.is_empty() {
        return Err(dataset_error(
            &origin,
            "the file has no rows; expected one sequence per row, the class label first, then the values",
        ));
    }

    let encoded = encode_strings(&raw_labels);
    SequenceSet::new(origin, sequences, 1, encoded.labels, encoded.class_names)
}

/// Splits one row into its label and values, NaN for each missing value.
fn parse_row(
    record: &csv::StringRecord,
    line: u64,
) -> std::result::Result<(String, Vec<f32>), String> {
    let label = record.get(0).unwrap_or_default();
    if label.is_empty() {
        return Err(format!(
            "line {line}: the class label (first field) is empty"
        ));
    }
    let fields: Vec<&str> = record.iter().skip(1).collect();
    let used = fields
        .iter()
        .rposition(|field| !field.is_empty())
        .map_or(0, |last| last + 1);
    if used == 0 {
        return Err(format!(
            "line {line}: the row has the label {label:?} but no values; every sequence needs at least one step"
        ));
    }

    let mut values = Vec::with_capacity(used);
    for (step, field) in fields[..used].iter().enumerate() {
        let value = parse_value(field, line).map_err(|problem| {
            format!(
                "line {line}, step {step} (counting from 0, column {}): the field {problem}",
                step + 2
            )
        })?;
        values.push(value);
    }
    Ok((label.to_string(), values))
}

/// Parses one value field, `?` giving NaN. `line` counts from 1, and on
/// line 1 a text field gets a hint about header rows.
fn parse_value(field: &str, line: u64) -> std::result::Result<f32, String> {
    if field == "?" {
        return Ok(f32::NAN);
    }
    if field.is_empty() {
        return Err(
            "is empty; only trailing fields may be empty, so mark a missing value with ?".into(),
        );
    }
    let Ok(value) = field.parse::<f64>() else {
        let hint = if line == 1 {
            "; the file must not have a header row"
        } else {
            ""
        };
        return Err(format!("{field:?} is not a number or ?{hint}"));
    };
    let value = value as f32;
    if value.is_infinite() {
        return Err(format!("{field:?} is infinite or too large for f32"));
    }
    Ok(value)
}
