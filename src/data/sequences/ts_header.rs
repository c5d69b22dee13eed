//! The header of a `.ts` file: the `@` lines before `@data`.

use crate::data::dataset::dataset_error;
use crate::error::Result;

/// The header fields that the `.ts` loader uses. Tags are matched without
/// regard to case, as sktime does.
#[derive(Debug, Default)]
pub(super) struct TsHeader {
    pub problem_name: Option<String>,
    pub univariate: Option<bool>,
    pub dimensions: Option<usize>,
    pub equal_length: Option<bool>,
    pub series_length: Option<usize>,
    /// Class labels declared by `@classLabel true ...`, in the order given.
    /// `None` until a `@classLabel` line is read.
    pub class_labels: Option<Vec<String>>,
}

/// Tags whose value the loader reads or checks. Other tags are ignored with
/// a warning.
const KNOWN_TAGS: [&str; 9] = [
    "@problemname",
    "@timestamps",
    "@missing",
    "@univariate",
    "@dimensions",
    "@equallength",
    "@serieslength",
    "@classlabel",
    "@targetlabel",
];

impl TsHeader {
    /// Reads one header line (trimmed, starting with `@`, not `@data`).
    /// `line_number` counts from 1.
    pub fn read_line(&mut self, line: &str, line_number: usize, origin: &str) -> Result<()> {
        let mut tokens = line.split_whitespace();
        let tag = tokens.next().unwrap_or_default().to_ascii_lowercase();
        let values: Vec<&str> = tokens.collect();
        let error =
            |message: String| dataset_error(origin, format!("line {line_number}: {message}"));

        match tag.as_str() {
            "@problemname" => {
                let name = line[tag.len()..].trim();
                if name.is_empty() {
                    return Err(error("@problemName needs a name after the tag".into()));
                }
                self.problem_name = Some(name.to_string());
            }
            "@timestamps" => {
                if parse_flag(&tag, &values).map_err(error)? {
                    return Err(error(
                        "@timeStamps true: series with time stamps, written as (time, value) pairs, \
                         are not supported; resample them to equally spaced values and write plain values"
                            .into(),
                    ));
                }
            }
            "@missing" => {
                // A `?` is read as missing whatever this flag declares, so
                // only its syntax is checked.
                parse_flag(&tag, &values).map_err(error)?;
            }
            "@univariate" => self.univariate = Some(parse_flag(&tag, &values).map_err(error)?),
            "@equallength" => self.equal_length = Some(parse_flag(&tag, &values).map_err(error)?),
            "@dimensions" => self.dimensions = Some(parse_count(&tag, &values).map_err(error)?),
            "@serieslength" => {
                self.series_length = Some(parse_count(&tag, &values).map_err(error)?)
            }
            "@classlabel" => self.read_class_labels(&values).map_err(error)?,
            "@targetlabel" => {
                let kind = if parse_flag(&tag, &values).map_err(error)? {
                    "regression targets (@targetLabel true)"
                } else {
                    "unlabelled cases (@targetLabel false)"
                };
                return Err(error(format!(
                    "the file has {kind}; sequence sets need one class label per case, declared by @classLabel true"
                )));
            }
            _ => {
                log::warn!(
                    "{origin}: line {line_number}: ignoring unknown header tag {tag} (known tags: {})",
                    KNOWN_TAGS.join(", ")
                );
            }
        }
        Ok(())
    }

    fn read_class_labels(&mut self, values: &[&str]) -> std::result::Result<(), String> {
        if !parse_flag("@classlabel", &values[..values.len().min(1)])? {
            return Err("the file declares no class labels (@classLabel false); \
                        sequence sets need one class label per case"
                .into());
        }
        let labels = &values[1..];
        if labels.is_empty() {
            return Err(
                "@classLabel true must be followed by the class labels, separated by spaces".into(),
            );
        }
        for (index, label) in labels.iter().enumerate() {
            if let Some(earlier) = labels[..index]
                .iter()
                .find(|earlier| earlier.eq_ignore_ascii_case(label))
            {
                return Err(format!(
                    "@classLabel declares the label {label:?} twice (also as {earlier:?}); labels are matched \
                     without regard to case, so they must differ in more than case"
                ));
            }
        }
        self.class_labels = Some(labels.iter().map(|label| label.to_string()).collect());
        Ok(())
    }

    /// Returns the index of `label` among the declared class labels,
    /// ignoring case as sktime does.
    pub fn class_index(&self, label: &str) -> Option<usize> {
        self.class_labels
            .as_ref()?
            .iter()
            .position(|declared| declared.eq_ignore_ascii_case(label))
    }
}

fn parse_flag(tag: &str, values: &[&str]) -> std::result::Result<bool, String> {
    match values {
        [value] if value.eq_ignore_ascii_case("true") => Ok(true),
        [value] if value.eq_ignore_ascii_case("false") => Ok(false),
        _ => Err(format!(
            "{tag} expects true or false, found {:?}",
            values.join(" ")
        )),
    }
}

fn parse_count(tag: &str, values: &[&str]) -> std::result::Result<usize, String> {
    match values {
        [value] => match value.parse::<usize>() {
            Ok(count) if count > 0 => Ok(count),
            _ => Err(format!("{tag} expects a positive integer, found {value:?}")),
        },
        _ => Err(format!(
            "{tag} expects one positive integer, found {:?}",
            values.join(" ")
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(lines: &[&str]) -> Result<TsHeader> {
        let mut header = TsHeader::default();
        for (index, line) in lines.iter().enumerate() {
            header.read_line(line, index + 1, "test.ts")?;
        }
        Ok(header)
    }

    #[test]
    fn reads_known_tags() {
        let header = read(&[
            "@problemName Japanese Vowels",
            "@timeStamps false",
            "@missing true",
            "@univariate false",
            "@dimensions 12",
            "@equalLength TRUE",
            "@seriesLength 29",
            "@classLabel true a B c",
        ])
        .unwrap();
        assert_eq!(header.problem_name.as_deref(), Some("Japanese Vowels"));
        assert_eq!(header.univariate, Some(false));
        assert_eq!(header.dimensions, Some(12));
        assert_eq!(header.equal_length, Some(true));
        assert_eq!(header.series_length, Some(29));
        assert_eq!(header.class_index("b"), Some(1));
        assert_eq!(header.class_index("d"), None);
    }

    #[test]
    fn bad_flag_names_line_and_tag() {
        let text = read(&["@problemName x", "@univariate maybe"])
            .unwrap_err()
            .to_string();
        assert!(text.contains("line 2"), "{text}");
        assert!(text.contains("@univariate expects true or false"), "{text}");
    }

    #[test]
    fn bad_count_is_rejected() {
        let text = read(&["@dimensions 0"]).unwrap_err().to_string();
        assert!(text.contains("positive integer"), "{text}");
    }

    #[test]
    fn repeated_class_label_is_rejected() {
        let text = read(&["@classLabel true x y X"]).unwrap_err().to_string();
        assert!(text.contains("twice"), "{text}");
    }

    #[test]
    fn unlabelled_and_regression_files_are_rejected() {
        let text = read(&["@classLabel false"]).unwrap_err().to_string();
        assert!(text.contains("no class labels"), "{text}");
        let text = read(&["@targetLabel true"]).unwrap_err().to_string();
        assert!(text.contains("regression targets"), "{text}");
    }

    #[test]
    fn unknown_tag_is_ignored() {
        let header = read(&["@comment hello", "@dimensions 2"]).unwrap();
        assert_eq!(header.dimensions, Some(2));
    }
}
