//! Labelled data from a CSV file: a header row, then one row per sample with
//! numeric features and the class label in the last column.

use std::path::Path;

use super::dataset::dataset_error;
use super::gzip::read_maybe_gzip;
use super::labels::encode_strings;
use super::Dataset;
use crate::error::Result;

/// Loads a CSV file with a header row and the class label in the last
/// column. Every other column must contain finite numbers.
///
/// Labels may be integers or strings. They are numbered 0..C-1 in sorted
/// order (by value when all are integers, as text otherwise) and keep their
/// text as class names. Fields are comma-separated and may be quoted.
/// Surrounding spaces are ignored, and a gzip-compressed file is detected
/// and decompressed. Errors name the line (counting from 1, header
/// included) and the column header, and cover an empty file, a header
/// without data rows, rows with the wrong field count, empty fields,
/// non-numeric features and NaN or infinite features.
pub fn load_csv(path: impl AsRef<Path>) -> Result<Dataset> {
    let path = path.as_ref();
    let origin = path.display().to_string();
    let bytes = read_maybe_gzip(path)?;
    let table = parse_csv(&bytes, &origin)?;
    let encoded = encode_strings(&table.raw_labels);
    Dataset::new(
        origin,
        table.features,
        table.n_features,
        encoded.labels,
        encoded.class_names,
    )
}

struct CsvTable {
    features: Vec<f32>,
    n_features: usize,
    raw_labels: Vec<String>,
}

fn parse_csv(bytes: &[u8], origin: &str) -> Result<CsvTable> {
    let csv_error =
        |error: csv::Error| dataset_error(origin, format!("the file is not valid CSV: {error}"));
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(bytes);

    let header = reader.headers().map_err(csv_error)?.clone();
    if header.is_empty() {
        return Err(dataset_error(
            origin,
            "the file is empty; expected a header row, then one row per sample with the label in the last column",
        ));
    }
    if header.len() < 2 {
        return Err(dataset_error(
            origin,
            format!(
                "the header has 1 column ({:?}); expected at least one feature column and the label column last",
                &header[0]
            ),
        ));
    }

    let n_features = header.len() - 1;
    let mut table = CsvTable {
        features: Vec::new(),
        n_features,
        raw_labels: Vec::new(),
    };
    for record in reader.records() {
        let record = record.map_err(csv_error)?;
        let line = record.position().map_or(0, |position| position.line());
        parse_row(&record, &header, line, origin, &mut table)?;
    }
    if table.raw_labels.is_empty() {
        return Err(dataset_error(
            origin,
            "the file has a header row but no data rows",
        ));
    }
    Ok(table)
}

fn parse_row(
    record: &csv::StringRecord,
    header: &csv::StringRecord,
    line: u64,
    origin: &str,
    table: &mut CsvTable,
) -> Result<()> {
    if record.len() != header.len() {
        return Err(dataset_error(
            origin,
            format!(
                "line {line} has {} fields, but the header has {}",
                record.len(),
                header.len()
            ),
        ));
    }
    for (column, field) in record.iter().take(table.n_features).enumerate() {
        let value = parse_feature(field).map_err(|problem| {
            dataset_error(
                origin,
                format!("line {line}, column {:?}: {problem}", &header[column]),
            )
        })?;
        table.features.push(value);
    }

    let label = &record[table.n_features];
    if label.is_empty() {
        return Err(dataset_error(
            origin,
            format!(
                "line {line}: the label (column {:?}) is empty",
                &header[table.n_features]
            ),
        ));
    }
    table.raw_labels.push(label.to_string());
    Ok(())
}

/// Parses one feature field, or describes why it is not a finite number.
fn parse_feature(field: &str) -> std::result::Result<f32, String> {
    if field.is_empty() {
        return Err("the value is empty (missing); fill in or remove missing values".into());
    }
    let value: f32 = field
        .parse()
        .map_err(|_| format!("{field:?} is not a number"))?;
    if value.is_nan() {
        return Err(format!(
            "{field:?} is NaN (a missing value); fill in or remove missing values"
        ));
    }
    if value.is_infinite() {
        return Err(format!("{field:?} is infinite or too large for f32"));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error_text(text: &str) -> String {
        match parse_csv(text.as_bytes(), "test.csv") {
            Ok(_) => panic!("expected an error for {text:?}"),
            Err(error) => error.to_string(),
        }
    }

    #[test]
    fn parses_features_and_labels() {
        let table = parse_csv(b"a, b ,label\n1,2,cat\n3, 4.5 ,\"dog, big\"\n", "ok").unwrap();
        assert_eq!(table.n_features, 2);
        assert_eq!(table.features, vec![1.0, 2.0, 3.0, 4.5]);
        assert_eq!(table.raw_labels, vec!["cat", "dog, big"]);
    }

    #[test]
    fn accepts_crlf_line_ends() {
        let table = parse_csv(b"a,label\r\n1,0\r\n2,1\r\n", "crlf").unwrap();
        assert_eq!(table.features, vec![1.0, 2.0]);
        assert_eq!(table.raw_labels, vec!["0", "1"]);
    }

    #[test]
    fn rejects_single_column() {
        let text = error_text("label\n1\n");
        assert!(text.contains("the header has 1 column"), "{text}");
    }

    #[test]
    fn rejects_ragged_row() {
        let text = error_text("a,b,label\n1,2,0\n1,0\n");
        assert!(
            text.contains("line 3 has 2 fields, but the header has 3"),
            "{text}"
        );
    }

    #[test]
    fn rejects_empty_feature() {
        let text = error_text("a,b,label\n1,,0\n");
        assert!(text.contains("line 2, column \"b\""), "{text}");
        assert!(text.contains("empty"), "{text}");
    }

    #[test]
    fn rejects_infinite_feature() {
        let text = error_text("a,label\n1e39,0\n");
        assert!(text.contains("\"1e39\" is infinite or too large"), "{text}");
    }

    #[test]
    fn rejects_empty_label() {
        let text = error_text("a,label\n1,\n");
        assert!(
            text.contains("line 2: the label (column \"label\") is empty"),
            "{text}"
        );
    }
}
