//! Encoding of raw class labels (strings or integers) as 0..C-1.

use std::collections::BTreeMap;

/// Encoded labels and the name of each class, indexed by label.
pub(crate) struct EncodedLabels {
    pub labels: Vec<u32>,
    pub class_names: Vec<String>,
}

/// Numbers the distinct integers in increasing order and names each class
/// by its decimal value.
pub(crate) fn encode_integers(values: &[i64]) -> EncodedLabels {
    let mut classes: BTreeMap<i64, u32> = values.iter().map(|&value| (value, 0)).collect();
    for (index, label) in classes.values_mut().enumerate() {
        *label = index as u32;
    }
    EncodedLabels {
        labels: values.iter().map(|value| classes[value]).collect(),
        class_names: classes.keys().map(|value| value.to_string()).collect(),
    }
}

/// Numbers the distinct labels in sorted order. When every label is an
/// integer they are sorted by value (so "10" follows "9") and named by their
/// decimal value, which merges spellings such as "07" and "7". Otherwise they
/// are sorted as strings (byte order) and keep their text as the class name.
pub(crate) fn encode_strings(values: &[String]) -> EncodedLabels {
    let integers: Option<Vec<i64>> = values.iter().map(|value| value.parse().ok()).collect();
    if let Some(integers) = integers {
        return encode_integers(&integers);
    }
    let mut classes: BTreeMap<&str, u32> = values.iter().map(|value| (value.as_str(), 0)).collect();
    for (index, label) in classes.values_mut().enumerate() {
        *label = index as u32;
    }
    EncodedLabels {
        labels: values.iter().map(|value| classes[value.as_str()]).collect(),
        class_names: classes.keys().map(|name| name.to_string()).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(values: &[&str]) -> Vec<String> {
        values.iter().map(|value| value.to_string()).collect()
    }

    #[test]
    fn integers_sort_by_value() {
        let encoded = encode_strings(&strings(&["10", "9", "-1", "9"]));
        assert_eq!(encoded.labels, vec![2, 1, 0, 1]);
        assert_eq!(encoded.class_names, vec!["-1", "9", "10"]);
    }

    #[test]
    fn integer_spellings_merge() {
        let encoded = encode_strings(&strings(&["07", "7", "+7"]));
        assert_eq!(encoded.labels, vec![0, 0, 0]);
        assert_eq!(encoded.class_names, vec!["7"]);
    }

    #[test]
    fn strings_sort_as_text() {
        let encoded = encode_strings(&strings(&["versicolor", "setosa", "virginica", "setosa"]));
        assert_eq!(encoded.labels, vec![1, 0, 2, 0]);
        assert_eq!(
            encoded.class_names,
            vec!["setosa", "versicolor", "virginica"]
        );
    }

    #[test]
    fn mixed_labels_sort_as_text() {
        let encoded = encode_strings(&strings(&["b", "10", "9"]));
        assert_eq!(encoded.class_names, vec!["10", "9", "b"]);
        assert_eq!(encoded.labels, vec![2, 0, 1]);
    }
}
