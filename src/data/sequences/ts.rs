//! The `.ts` text format of the UEA/UCR time series archive, as sktime
//! reads and writes it.
//!
//! A file has header lines starting with `@` (`@problemName`,
//! `@timeStamps`, `@missing`, `@univariate`, `@dimensions`, `@equalLength`,
//! `@seriesLength`, `@classLabel true LABELS...`), then `@data`, then one
//! case per line. A case lists its channels separated by `:`, each channel
//! its values separated by `,`, and ends with the class label after the
//! last `:`. Lines starting with `#` are comments, and `?` marks a missing
//! value. Time-stamped series, written as `(time,value)` pairs, are
//! rejected.

use std::path::Path;

use super::missing::{resolve_missing, MissingValues};
use super::ts_header::TsHeader;
use super::SequenceSet;
use crate::data::dataset::dataset_error;
use crate::data::gzip::read_maybe_gzip;
use crate::error::Result;

/// Loads a `.ts` file (gzip-compressed or not), treating missing values by
/// `missing`. See [`parse_ts`] for what is checked.
pub fn load_ts(path: impl AsRef<Path>, missing: MissingValues) -> Result<SequenceSet> {
    let path = path.as_ref();
    let origin = path.display().to_string();
    let bytes = read_maybe_gzip(path)?;
    let text = std::str::from_utf8(&bytes)
        .map_err(|error| dataset_error(&origin, format!("the file is not UTF-8 text ({error})")))?;
    parse_ts(text, &origin, missing)
}

/// Parses the text of a `.ts` file. `origin` names the source in errors and
/// in the set's name.
///
/// Classes are numbered in the order `@classLabel` declares them, and class
/// labels in the data are matched to the declared ones without regard to
/// case, as sktime does. Unknown header tags are ignored with a warning.
///
/// Returns [`crate::Error::Dataset`] for:
/// - a malformed header, or no `@data` or `@classLabel` line;
/// - no cases after `@data`;
/// - a case whose channel count differs from `@dimensions`, from
///   `@univariate true` or from the first case;
/// - channels of one case with different lengths, or a case without values;
/// - a label that `@classLabel` does not declare;
/// - lengths that break `@equalLength true` with `@seriesLength`;
/// - time stamps, and values that are not numbers or are infinite;
/// - missing values under [`MissingValues::Reject`].
///
/// Errors about one line name it, and errors about a case name it as
/// "case K (line L)", counting cases from 0 and lines from 1.
pub fn parse_ts(text: &str, origin: &str, missing: MissingValues) -> Result<SequenceSet> {
    let mut header = TsHeader::default();
    let mut cases = TsCases::default();
    let mut in_data = false;

    for (index, line) in text.trim_start_matches('\u{feff}').lines().enumerate() {
        let line_number = index + 1;
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if line.starts_with('@') {
            if in_data {
                return Err(dataset_error(
                    origin,
                    format!("line {line_number}: header line {line:?} follows @data; header lines must come before @data"),
                ));
            }
            in_data = read_header_line(line, line_number, &mut header, origin)?;
            continue;
        }
        if !in_data {
            return Err(dataset_error(
                origin,
                format!(
                    "line {line_number}: expected a header line starting with @, a comment starting with #, \
                     or @data before the first case, found {:?}",
                    truncate(line)
                ),
            ));
        }
        let case = parse_case(line, line_number, cases.labels.len(), &header, origin)?;
        cases.push(case, line_number, &header, missing, origin)?;
    }

    if !in_data {
        return Err(dataset_error(
            origin,
            "the file has no @data line, so it contains no cases",
        ));
    }
    cases.into_set(header, origin)
}

/// Reads one line starting with `@` and returns whether it is `@data`,
/// which ends the header.
fn read_header_line(
    line: &str,
    line_number: usize,
    header: &mut TsHeader,
    origin: &str,
) -> Result<bool> {
    let tag = line.split_whitespace().next().unwrap_or_default();
    if !tag.eq_ignore_ascii_case("@data") {
        header.read_line(line, line_number, origin)?;
        return Ok(false);
    }
    if line.len() > tag.len() {
        return Err(dataset_error(
            origin,
            format!("line {line_number}: {line:?} has text after @data; put the first case on the next line"),
        ));
    }
    if header.class_labels.is_none() {
        return Err(dataset_error(
            origin,
            "the header has no @classLabel line; add `@classLabel true` followed by the class labels before @data",
        ));
    }
    Ok(true)
}

/// Shortens a line for an error message.
fn truncate(line: &str) -> String {
    const SHOWN: usize = 60;
    match line.char_indices().nth(SHOWN) {
        Some((cut, _)) => format!("{}...", &line[..cut]),
        None => line.to_string(),
    }
}

/// One case of the data section: its values, channel-major as in the file.
struct TsCase {
    channels: Vec<Vec<f32>>,
    label: u32,
}

/// Parses one data line. `case_index` counts the cases before it.
fn parse_case(
    line: &str,
    line_number: usize,
    case_index: usize,
    header: &TsHeader,
    origin: &str,
) -> Result<TsCase> {
    let place = format!("case {case_index} (line {line_number})");
    let error = |message: String| dataset_error(origin, format!("{place}: {message}"));
    if line.contains('(') {
        return Err(error(
            "the values are written as (time,value) pairs; time-stamped series are not supported, \
             so resample them to equally spaced values and write plain values"
                .into(),
        ));
    }

    let (channel_text, label_text) = line.rsplit_once(':').ok_or_else(|| {
        error(
            "the line has no ':', so it lacks the class label that must follow the last channel"
                .into(),
        )
    })?;
    let label_text = label_text.trim();
    let label = header.class_index(label_text).ok_or_else(|| {
        let declared = header.class_labels.as_deref().unwrap_or_default().join(" ");
        error(format!(
            "the class label {label_text:?} is not declared by @classLabel (declared: {declared})"
        ))
    })?;

    let mut channels = Vec::new();
    for (channel, text) in channel_text.split(':').enumerate() {
        channels.push(parse_channel(text, channel).map_err(error)?);
    }
    Ok(TsCase {
        channels,
        label: label as u32,
    })
}

/// Parses the comma-separated values of one channel. An empty channel has
/// no values, and `?` is a missing value (NaN), as is `NaN`.
fn parse_channel(text: &str, channel: usize) -> std::result::Result<Vec<f32>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(Vec::new());
    }
    text.split(',')
        .enumerate()
        .map(|(step, field)| {
            let field = field.trim();
            if field == "?" {
                return Ok(f32::NAN);
            }
            let place = format!("channel {channel}, step {step} (counting from 0)");
            let value = field
                .parse::<f64>()
                .map_err(|_| format!("{place}: {field:?} is not a number or ?"))?
                as f32;
            if value.is_infinite() {
                return Err(format!(
                    "{place}: {field:?} is infinite or too large for f32"
                ));
            }
            Ok(value)
        })
        .collect()
}

/// The cases read so far, steps already transposed to row-major order.
#[derive(Default)]
struct TsCases {
    sequences: Vec<Vec<f32>>,
    labels: Vec<u32>,
    n_channels: Option<usize>,
}

impl TsCases {
    fn push(
        &mut self,
        case: TsCase,
        line_number: usize,
        header: &TsHeader,
        missing: MissingValues,
        origin: &str,
    ) -> Result<()> {
        let place = format!("case {} (line {line_number})", self.labels.len());
        let error = |message: String| dataset_error(origin, format!("{place}: {message}"));
        self.check_channel_count(case.channels.len(), header)
            .map_err(error)?;
        let length = check_case_length(&case.channels, header).map_err(error)?;

        let n_channels = case.channels.len();
        let mut values = vec![0.0; length * n_channels];
        for (channel, channel_values) in case.channels.iter().enumerate() {
            for (step, &value) in channel_values.iter().enumerate() {
                values[step * n_channels + channel] = value;
            }
        }
        resolve_missing(&mut values, n_channels, missing, origin, &place)?;
        self.sequences.push(values);
        self.labels.push(case.label);
        Ok(())
    }

    fn check_channel_count(
        &mut self,
        count: usize,
        header: &TsHeader,
    ) -> std::result::Result<(), String> {
        if let Some(declared) = header.dimensions {
            if count != declared {
                return Err(format!(
                    "the case has {count} channels, but the header declares @dimensions {declared}"
                ));
            }
        }
        if header.univariate == Some(true) && count != 1 {
            return Err(format!(
                "the case has {count} channels, but the header declares @univariate true"
            ));
        }
        match self.n_channels {
            Some(expected) if expected != count => Err(format!(
                "the case has {count} channels, but the cases before it have {expected}; \
                 every case must have the same number of channels"
            )),
            _ => {
                self.n_channels = Some(count);
                Ok(())
            }
        }
    }

    fn into_set(self, header: TsHeader, origin: &str) -> Result<SequenceSet> {
        let Some(n_channels) = self.n_channels else {
            return Err(dataset_error(origin, "the file has no cases after @data"));
        };
        let name = match &header.problem_name {
            Some(problem) => format!("{problem} ({origin})"),
            None => origin.to_string(),
        };
        let class_names = header.class_labels.unwrap_or_default();
        SequenceSet::new(name, self.sequences, n_channels, self.labels, class_names)
    }
}

/// Returns the case's length after checking that its channels agree, that
/// it has at least one step, and that it obeys `@equalLength true` with
/// `@seriesLength`.
fn check_case_length(
    channels: &[Vec<f32>],
    header: &TsHeader,
) -> std::result::Result<usize, String> {
    let length = channels[0].len();
    if let Some((channel, other)) = channels
        .iter()
        .enumerate()
        .find(|(_, values)| values.len() != length)
    {
        return Err(format!(
            "channel 0 has {length} values but channel {channel} has {}; all channels of a case must have \
             the same length",
            other.len()
        ));
    }
    if length == 0 {
        return Err("the case has no values; every case needs at least one step".into());
    }
    if header.equal_length == Some(true) {
        if let Some(declared) = header.series_length {
            if length != declared {
                return Err(format!(
                    "the case has {length} steps, but the header declares @equalLength true and @seriesLength {declared}"
                ));
            }
        }
    }
    Ok(length)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "@problemName tiny\n@timeStamps false\n@univariate false\n@dimensions 2\n\
                          @equalLength false\n@classLabel true up down\n@data\n";

    fn parse(data: &str) -> Result<SequenceSet> {
        parse_ts(&format!("{HEADER}{data}"), "tiny.ts", MissingValues::Reject)
    }

    #[test]
    fn cases_are_transposed_to_steps() {
        let set = parse("1,2,3:4,5,6:up\n7:8:DOWN\n").unwrap();
        assert_eq!(set.n_sequences(), 2);
        assert_eq!(set.n_channels(), 2);
        assert_eq!(set.lengths(), &[3, 1]);
        assert_eq!(set.sequence(0), &[1.0, 4.0, 2.0, 5.0, 3.0, 6.0]);
        assert_eq!(set.labels(), &[0, 1]);
        assert_eq!(set.class_names(), &["up", "down"]);
        assert_eq!(set.name(), "tiny (tiny.ts)");
    }

    #[test]
    fn comments_and_blank_lines_are_skipped() {
        let text = format!("# a comment\n\n{HEADER}# between cases\n1:2:up\n\n");
        let set = parse_ts(&text, "tiny.ts", MissingValues::Reject).unwrap();
        assert_eq!(set.n_sequences(), 1);
    }

    #[test]
    fn header_after_data_is_rejected() {
        let text = parse("1:2:up\n@dimensions 2\n").unwrap_err().to_string();
        assert!(text.contains("line 9"), "{text}");
        assert!(text.contains("must come before @data"), "{text}");
    }

    #[test]
    fn missing_data_line_is_rejected() {
        let text = parse_ts("@classLabel true a\n", "x.ts", MissingValues::Reject)
            .unwrap_err()
            .to_string();
        assert!(text.contains("no @data line"), "{text}");
    }

    #[test]
    fn missing_class_label_line_is_rejected() {
        let text = parse_ts("@dimensions 1\n@data\n1:a\n", "x.ts", MissingValues::Reject)
            .unwrap_err()
            .to_string();
        assert!(text.contains("no @classLabel line"), "{text}");
    }

    #[test]
    fn data_before_header_end_is_rejected() {
        let text = parse_ts("@classLabel true a\n1:a\n", "x.ts", MissingValues::Reject)
            .unwrap_err()
            .to_string();
        assert!(text.contains("line 2"), "{text}");
        assert!(text.contains("expected a header line"), "{text}");
    }

    #[test]
    fn unparsable_value_names_place() {
        let text = parse("1,2:3,x:up\n").unwrap_err().to_string();
        assert!(text.contains("case 0 (line 8)"), "{text}");
        assert!(text.contains("channel 1, step 1"), "{text}");
        assert!(text.contains("\"x\" is not a number"), "{text}");
    }

    #[test]
    fn text_after_data_tag_is_rejected() {
        let text = parse_ts(
            "@classLabel true a\n@data 1:a\n",
            "x.ts",
            MissingValues::Reject,
        )
        .unwrap_err()
        .to_string();
        assert!(text.contains("line 2"), "{text}");
        assert!(text.contains("text after @data"), "{text}");
    }

    #[test]
    fn line_without_label_is_rejected() {
        let text = parse("1,2,3\n").unwrap_err().to_string();
        assert!(text.contains("lacks the class label"), "{text}");
    }

    #[test]
    fn equal_length_declaration_is_enforced() {
        let text = "@dimensions 1\n@equalLength true\n@seriesLength 3\n@classLabel true a\n@data\n1,2,3:a\n1,2:a\n";
        let message = parse_ts(text, "x.ts", MissingValues::Reject)
            .unwrap_err()
            .to_string();
        assert!(message.contains("case 1 (line 7)"), "{message}");
        assert!(message.contains("@seriesLength 3"), "{message}");
    }

    #[test]
    fn univariate_declaration_is_enforced() {
        let text = "@univariate true\n@classLabel true a\n@data\n1:2:a\n";
        let message = parse_ts(text, "x.ts", MissingValues::Reject)
            .unwrap_err()
            .to_string();
        assert!(message.contains("@univariate true"), "{message}");
    }
}
