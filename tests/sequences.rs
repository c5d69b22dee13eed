//! Sequence sets: the bundled JapaneseVowels file against sktime's reading
//! of it, `.ts` parsing errors and missing values, the synthetic ODE data,
//! preprocessing, and `.npy` and CSV files written here. No GPU is needed.

use std::path::PathBuf;

use maso::data::sequences::{
    generate_ode, load_japanese_vowels, load_sequence_csv, load_sequence_npy_dir, load_sequences,
    load_sequences_with, parse_ts, MissingValues, OdeConfig, SequenceSet, SEQUENCE_SPEC_HELP,
};
use maso::io::npy;
use maso::random::PhiloxStream;
use serde_json::Value;

/// Creates a fresh, empty directory for one test and returns its path.
fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("maso-sequences-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn names(count: usize) -> Vec<String> {
    (0..count).map(|class| format!("class {class}")).collect()
}

// ---------------------------------------------------------------- JapaneseVowels

fn japanese_vowels_summary() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/sequences/japanese_vowels_summary.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn japanese_vowels_shape_matches_sktime() {
    let summary = japanese_vowels_summary();
    let set = load_japanese_vowels().unwrap();
    assert_eq!(
        set.n_sequences() as u64,
        summary["n_cases"].as_u64().unwrap()
    );
    assert_eq!(
        set.n_channels() as u64,
        summary["n_channels"].as_u64().unwrap()
    );
    let lengths: Vec<usize> = summary["lengths"]
        .as_array()
        .unwrap()
        .iter()
        .map(|length| length.as_u64().unwrap() as usize)
        .collect();
    assert_eq!(set.lengths(), lengths.as_slice());
}

#[test]
fn japanese_vowels_labels_match_sktime() {
    let summary = japanese_vowels_summary();
    let set = load_japanese_vowels().unwrap();
    let expected: Vec<&str> = summary["labels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|label| label.as_str().unwrap())
        .collect();
    let loaded: Vec<&str> = set
        .labels()
        .iter()
        .map(|&label| set.class_names()[label as usize].as_str())
        .collect();
    assert_eq!(loaded, expected);
}

#[test]
fn japanese_vowels_edge_values_match_sktime() {
    let summary = japanese_vowels_summary();
    let set = load_japanese_vowels().unwrap();
    let channels = set.n_channels();
    for (case, edges) in summary["first_cases"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
    {
        let sequence = set.sequence(case);
        let last_step = set.length(case) - 1;
        for channel in 0..channels {
            let first = edges["first"][channel].as_f64().unwrap() as f32;
            let last = edges["last"][channel].as_f64().unwrap() as f32;
            assert_eq!(
                sequence[channel], first,
                "case {case}, channel {channel}, first step"
            );
            assert_eq!(
                sequence[last_step * channels + channel],
                last,
                "case {case}, channel {channel}, last step"
            );
        }
    }
}

#[test]
fn japanese_vowels_counts_per_speaker() {
    let set = load_japanese_vowels().unwrap();
    assert_eq!(
        set.class_names(),
        &["1", "2", "3", "4", "5", "6", "7", "8", "9"]
    );
    assert_eq!(set.class_counts(), vec![30; 9]);
    assert_eq!(set.lengths().iter().min(), Some(&7));
    assert_eq!(set.max_length(), 26);
    assert!(set.name().starts_with("JapaneseVowels"), "{}", set.name());
}

#[test]
fn japanese_vowels_loads_by_name() {
    assert_eq!(
        load_sequences("japanese-vowels").unwrap(),
        load_japanese_vowels().unwrap()
    );
}

// ---------------------------------------------------------------- .ts parsing

const TS_HEADER: &str = "\
# A tiny two-channel problem for the tests.
@problemName tiny
@timeStamps false
@missing true
@univariate false
@dimensions 2
@equalLength false
@classLabel true yes no
@data
";

/// Parses `data` after [`TS_HEADER`], so the first case is on line 10.
fn parse_tiny(data: &str, missing: MissingValues) -> maso::Result<SequenceSet> {
    parse_ts(&format!("{TS_HEADER}{data}"), "tiny.ts", missing)
}

fn tiny_error(data: &str) -> String {
    parse_tiny(data, MissingValues::Reject)
        .unwrap_err()
        .to_string()
}

#[test]
fn ts_missing_value_rejected_by_default() {
    let text = tiny_error("1,2,3:4,5,6:yes\n1,2,3:4,?,6:no\n");
    assert!(text.contains("tiny.ts"), "{text}");
    assert!(text.contains("case 1 (line 11)"), "{text}");
    assert!(text.contains("channel 1, step 1"), "{text}");
    assert!(text.contains("missing"), "{text}");
}

#[test]
fn ts_missing_values_interpolated() {
    let set = parse_tiny("?,2,?,?,8,?:1,1,1,1,1,1:yes\n", MissingValues::Interpolate).unwrap();
    let channel_0: Vec<f32> = set.sequence(0).iter().step_by(2).copied().collect();
    assert_eq!(channel_0, vec![2.0, 2.0, 4.0, 6.0, 8.0, 8.0]);
    let channel_1: Vec<f32> = set.sequence(0).iter().skip(1).step_by(2).copied().collect();
    assert_eq!(channel_1, vec![1.0; 6]);
}

#[test]
fn ts_all_missing_channel_is_rejected() {
    let text = parse_tiny("?,?:1,2:yes\n", MissingValues::Interpolate)
        .unwrap_err()
        .to_string();
    assert!(text.contains("case 0 (line 10)"), "{text}");
    assert!(text.contains("every value of channel 0"), "{text}");
}

#[test]
fn ts_channel_count_against_header() {
    let text = tiny_error("1,2:3,4:5,6:yes\n");
    assert!(text.contains("case 0 (line 10)"), "{text}");
    assert!(text.contains("3 channels"), "{text}");
    assert!(text.contains("@dimensions 2"), "{text}");
}

#[test]
fn ts_channel_count_across_cases() {
    let text = "@classLabel true a\n@data\n1:2:a\n1:a\n";
    let message = parse_ts(text, "cases.ts", MissingValues::Reject)
        .unwrap_err()
        .to_string();
    assert!(message.contains("case 1 (line 4)"), "{message}");
    assert!(
        message.contains("1 channels, but the cases before it have 2"),
        "{message}"
    );
}

#[test]
fn ts_channel_lengths_within_case() {
    let text = tiny_error("1,2,3:4,5:yes\n");
    assert!(text.contains("case 0 (line 10)"), "{text}");
    assert!(
        text.contains("channel 0 has 3 values but channel 1 has 2"),
        "{text}"
    );
}

#[test]
fn ts_zero_length_case_is_rejected() {
    let text = tiny_error("1,2:3,4:yes\n:  :no\n");
    assert!(text.contains("case 1 (line 11)"), "{text}");
    assert!(text.contains("no values"), "{text}");
}

#[test]
fn ts_undeclared_label_is_rejected() {
    let text = tiny_error("1:2:yes\n3:4:maybe\n");
    assert!(text.contains("case 1 (line 11)"), "{text}");
    assert!(text.contains("\"maybe\" is not declared"), "{text}");
    assert!(text.contains("declared: yes no"), "{text}");
}

#[test]
fn ts_labels_ignore_case_like_sktime() {
    let set = parse_tiny("1:2:YES\n3:4:No\n", MissingValues::Reject).unwrap();
    assert_eq!(set.labels(), &[0, 1]);
    assert_eq!(set.class_names(), &["yes", "no"]);
}

#[test]
fn ts_timestamps_header_is_rejected() {
    let text = "@problemName stamped\n@timeStamps true\n@classLabel true a\n@data\n(0,1),(1,2):a\n";
    let message = parse_ts(text, "stamped.ts", MissingValues::Reject)
        .unwrap_err()
        .to_string();
    assert!(message.contains("line 2"), "{message}");
    assert!(message.contains("not supported"), "{message}");
}

#[test]
fn ts_timestamped_values_are_rejected() {
    let text = tiny_error("(0,1),(1,2):(0,3),(1,4):yes\n");
    assert!(text.contains("case 0 (line 10)"), "{text}");
    assert!(
        text.contains("time-stamped series are not supported"),
        "{text}"
    );
}

#[test]
fn ts_without_cases_is_rejected() {
    let text = parse_ts(TS_HEADER, "empty.ts", MissingValues::Reject)
        .unwrap_err()
        .to_string();
    assert!(text.contains("no cases after @data"), "{text}");
}

#[test]
fn ts_infinite_value_names_place() {
    for value in ["inf", "-1e40"] {
        let text = tiny_error(&format!("1,2:3,4:yes\n1,{value}:3,4:no\n"));
        assert!(text.contains("case 1 (line 11)"), "{text}");
        assert!(text.contains("channel 0, step 1"), "{text}");
        assert!(text.contains("infinite or too large"), "{text}");
    }
}

#[test]
fn ts_file_loads_by_path() {
    let dir = temp_dir("ts-path");
    let path = dir.join("tiny.ts");
    std::fs::write(&path, format!("{TS_HEADER}1,2:3,4:yes\n5:6:no\n")).unwrap();
    let set = load_sequences(path.to_str().unwrap()).unwrap();
    assert_eq!(set.lengths(), &[2, 1]);
    assert_eq!(set.sequence(0), &[1.0, 3.0, 2.0, 4.0]);
}

// ---------------------------------------------------------------- ODE data

/// Float64 version of the MASK study's recursion for one series, written
/// from the formulas with 1-based steps: given x_1..x_3 and
/// d1_2 = x_3 - x_2, for t = 4..T
/// d2_{t-2} = (a1/t) x_{t-2} + (a2/t^2) d1_{t-2},
/// d1_{t-1} = d1_{t-2} + d2_{t-2}, x_t = x_{t-1} + d1_{t-1}.
fn reference_ode_series(a1: f64, a2: f64, start: [f64; 3], steps: usize) -> Vec<f64> {
    // Index 0 is unused so that x[t] is x_t and d1[t] is d1_t.
    let mut x = vec![0.0; steps + 1];
    let mut d1 = vec![0.0; steps + 1];
    x[1..4].copy_from_slice(&start);
    d1[2] = x[3] - x[2];
    for t in 4..=steps {
        let t_f = t as f64;
        let d2 = a1 / t_f * x[t - 2] + a2 / t_f.powi(2) * d1[t - 2];
        d1[t - 1] = d1[t - 2] + d2;
        x[t] = x[t - 1] + d1[t - 1];
    }
    x[1..].to_vec()
}

#[test]
fn ode_has_study_shape() {
    let set = generate_ode(&OdeConfig::default()).unwrap();
    assert_eq!(set.n_sequences(), 200);
    assert_eq!(set.n_channels(), 1);
    assert_eq!(set.lengths(), vec![30; 200].as_slice());
    assert_eq!(set.class_counts(), vec![100, 100]);
    assert_eq!(set.labels()[..100], [0; 100]);
    assert_eq!(set.labels()[100..], [1; 100]);
    assert!(set.values().iter().all(|value| value.is_finite()));
}

#[test]
fn ode_is_reproducible_per_seed() {
    let config = OdeConfig::default();
    assert_eq!(
        generate_ode(&config).unwrap(),
        generate_ode(&config).unwrap()
    );
    assert_eq!(
        load_sequences("ode").unwrap(),
        generate_ode(&config).unwrap()
    );
    let seven = OdeConfig { seed: 7, ..config };
    assert_eq!(
        load_sequences("ode:7").unwrap(),
        generate_ode(&seven).unwrap()
    );
}

#[test]
fn ode_differs_across_seeds() {
    let zero = generate_ode(&OdeConfig::default()).unwrap();
    let one = generate_ode(&OdeConfig {
        seed: 1,
        ..OdeConfig::default()
    })
    .unwrap();
    for index in [0, 99, 100, 199] {
        assert_ne!(zero.sequence(index), one.sequence(index), "series {index}");
    }
}

#[test]
fn ode_class_2_starts_at_stated_values() {
    let set = generate_ode(&OdeConfig::default()).unwrap();
    for step in 0..3 {
        let mean: f64 = (100..200)
            .map(|index| f64::from(set.sequence(index)[step]))
            .sum::<f64>()
            / 100.0;
        assert_eq!(mean, [2.0, -1.0, 1.0][step], "step {step}");
    }
}

#[test]
fn ode_class_1_starts_near_zero() {
    let set = generate_ode(&OdeConfig::default()).unwrap();
    for step in 0..3 {
        let values: Vec<f64> = (0..100)
            .map(|index| f64::from(set.sequence(index)[step]))
            .collect();
        let mean = values.iter().sum::<f64>() / 100.0;
        let variance = values
            .iter()
            .map(|value| (value - mean).powi(2))
            .sum::<f64>()
            / 99.0;
        // A mean of 100 standard normal values has standard deviation 0.1.
        assert!(mean.abs() < 0.4, "step {step}: mean {mean}");
        assert!(
            (0.6..1.5).contains(&variance),
            "step {step}: variance {variance}"
        );
    }
}

#[test]
fn ode_matches_float64_reference() {
    let seed = 11;
    let config = OdeConfig {
        seed,
        ..OdeConfig::default()
    };
    let set = generate_ode(&config).unwrap();
    // Series 5 of class 1 and series 42 of class 2, drawn from the streams
    // that generate_ode documents: (seed, class * 2^32 + index).
    for (class, index, position) in [(0u64, 5u64, 5usize), (1, 42, 142)] {
        let normals: Vec<f64> = PhiloxStream::new(seed, (class << 32) + index)
            .normal(0, 5)
            .into_iter()
            .map(f64::from)
            .collect();
        let (a1, a2, start) = if class == 0 {
            (
                -4.0 + 2.0 * normals[0],
                0.05 * normals[1],
                [normals[2], normals[3], normals[4]],
            )
        } else {
            (-20.0 + normals[0], 0.1 * normals[1], [2.0, -1.0, 1.0])
        };
        let expected = reference_ode_series(a1, a2, start, 30);
        let loaded = set.sequence(position);
        for (step, (&value, &reference)) in loaded.iter().zip(&expected).enumerate() {
            let tolerance = 1e-6 * reference.abs().max(1.0);
            assert!(
                (f64::from(value) - reference).abs() <= tolerance,
                "class {class}, series {index}, step {step}: {value} vs {reference}"
            );
        }
    }
}

#[test]
fn ode_size_is_configurable() {
    let config = OdeConfig {
        series_per_class: 4,
        steps: 12,
        seed: 0,
    };
    let small = generate_ode(&config).unwrap();
    assert_eq!(small.n_sequences(), 8);
    assert_eq!(small.max_length(), 12);
    // Series keep their values when the class size changes.
    let full = generate_ode(&OdeConfig::default()).unwrap();
    assert_eq!(small.sequence(5), &full.sequence(101)[..12]);
}

// ---------------------------------------------------------------- preprocessing

fn ragged_set() -> SequenceSet {
    let sequences = vec![
        vec![3.0, 4.0],
        vec![1.0, 0.0, 0.0, 1.0, 1.0, 1.0],
        vec![0.0, 0.0, 0.0, 10.0],
    ];
    SequenceSet::new("ragged", sequences, 2, vec![0, 1, 1], names(2)).unwrap()
}

#[test]
fn unit_l2_gives_unit_norms() {
    let mut set = ragged_set();
    set.normalize_unit_l2().unwrap();
    for (index, norm) in set.l2_norms().into_iter().enumerate() {
        assert!((norm - 1.0).abs() < 1e-6, "sequence {index}: norm {norm}");
    }
    assert_eq!(set.sequence(0), &[0.6, 0.8]);
    assert_eq!(set.sequence(2), &[0.0, 0.0, 0.0, 1.0]);
}

#[test]
fn unit_l2_rejects_zero_sequence() {
    let sequences = vec![vec![1.0, 2.0], vec![0.0, 0.0, 0.0]];
    let mut set = SequenceSet::new("zeros", sequences, 1, vec![0, 0], names(1)).unwrap();
    let before = set.clone();
    let text = set.normalize_unit_l2().unwrap_err().to_string();
    assert!(text.contains("sequence 1"), "{text}");
    assert!(text.contains("all zeros"), "{text}");
    assert_eq!(set, before);
}

#[test]
fn max_norm_scaling_keeps_ratios() {
    let mut set = ragged_set();
    let before = set.l2_norms();
    let max_norm = set.scale_by_max_norm().unwrap();
    assert_eq!(max_norm, 10.0);
    let after = set.l2_norms();
    for (index, (old, new)) in before.iter().zip(&after).enumerate() {
        assert!(
            (new - old / 10.0).abs() < 1e-6,
            "sequence {index}: {old} -> {new}"
        );
    }
    assert_eq!(after.iter().copied().fold(0.0, f64::max), 1.0);
}

#[test]
fn max_norm_rejects_all_zero_set() {
    let mut set = SequenceSet::new("zeros", vec![vec![0.0; 3]], 1, vec![0], names(1)).unwrap();
    let text = set.scale_by_max_norm().unwrap_err().to_string();
    assert!(text.contains("every value is zero"), "{text}");
}

#[test]
fn deletion_keeps_order_and_fraction() {
    // Values equal to their step index show which steps survive.
    let lengths = [30usize, 10, 7, 1, 2];
    let sequences = lengths
        .iter()
        .map(|&length| (0..length).map(|step| step as f32).collect())
        .collect();
    let set = SequenceSet::new("steps", sequences, 1, vec![0; 5], names(1)).unwrap();

    let (thinned, deleted) = set.delete_random_steps(0.2, 3).unwrap();
    // round(0.2 T) is 6, 2, 1 (from 1.4), 0 (from 0.2) and 0 (from 0.4).
    assert_eq!(thinned.lengths(), &[24, 8, 6, 1, 2]);
    assert_eq!(deleted, 6 + 2 + 1);
    for index in 0..thinned.n_sequences() {
        let kept = thinned.sequence(index);
        assert!(
            kept.windows(2).all(|pair| pair[0] < pair[1]),
            "sequence {index}: {kept:?}"
        );
    }
    assert_eq!(thinned.labels(), set.labels());
}

#[test]
fn deletion_rounds_halves_up_and_keeps_one_step() {
    let set = SequenceSet::new(
        "short",
        vec![vec![1.0; 5], vec![1.0; 2]],
        1,
        vec![0, 0],
        names(1),
    )
    .unwrap();
    // With 0.5, T = 5 loses 3 (2.5 rounds up) and T = 2 loses 1. With 0.9,
    // T = 2 would lose 2 (from 1.8), but the cap T - 1 keeps one step.
    let (thinned, deleted) = set.delete_random_steps(0.5, 0).unwrap();
    assert_eq!(thinned.lengths()[0], 2);
    assert_eq!(deleted, 3 + 1);
    let (thinned, _) = set.delete_random_steps(0.9, 0).unwrap();
    assert_eq!(thinned.lengths(), &[1, 1]);
}

#[test]
fn deletion_is_seeded() {
    let set = generate_ode(&OdeConfig::default()).unwrap();
    let (first, _) = set.delete_random_steps(0.2, 5).unwrap();
    let (again, _) = set.delete_random_steps(0.2, 5).unwrap();
    let (other, _) = set.delete_random_steps(0.2, 6).unwrap();
    assert_eq!(first, again);
    assert_ne!(first, other);
    assert_eq!(first.lengths(), vec![24; 200].as_slice());
}

#[test]
fn deletion_keeps_multichannel_steps_whole() {
    // Channel 1 is always 100 plus channel 0, so split steps would show.
    let sequence: Vec<f32> = (0..20)
        .flat_map(|step| [step as f32, 100.0 + step as f32])
        .collect();
    let set = SequenceSet::new("pairs", vec![sequence], 2, vec![0], names(1)).unwrap();
    let (thinned, deleted) = set.delete_random_steps(0.25, 9).unwrap();
    assert_eq!(deleted, 5);
    for step in thinned.sequence(0).chunks(2) {
        assert_eq!(step[1], step[0] + 100.0, "{step:?}");
    }
}

#[test]
fn deletion_rejects_bad_fraction() {
    for fraction in [-0.1, 1.0, f64::NAN] {
        let text = ragged_set()
            .delete_random_steps(fraction, 0)
            .unwrap_err()
            .to_string();
        assert!(text.contains("[0, 1)"), "{fraction}: {text}");
    }
}

#[test]
fn padding_puts_zeros_after_each_sequence() {
    let set = ragged_set();
    let matrix = set.pad_zeros();
    #[rustfmt::skip]
    let expected = vec![
        3.0, 4.0, 0.0, 0.0, 0.0, 0.0,
        1.0, 0.0, 0.0, 1.0, 1.0, 1.0,
        0.0, 0.0, 0.0, 10.0, 0.0, 0.0,
    ];
    assert_eq!(matrix, expected);

    let dataset = set.to_padded_dataset().unwrap();
    assert_eq!(dataset.n_samples(), 3);
    assert_eq!(dataset.n_features(), 6);
    assert_eq!(dataset.features(), expected.as_slice());
    assert_eq!(dataset.labels(), set.labels());
}

// ---------------------------------------------------------------- npy and CSV files

#[test]
fn npy_round_trip_with_lengths() {
    let dir = temp_dir("npy-lengths");
    let set = ragged_set();
    npy::write_f32(dir.join("X.npy"), &[3, 3, 2], &set.pad_zeros()).unwrap();
    npy::write_f64(dir.join("lengths.npy"), &[3], &[1.0, 3.0, 2.0]).unwrap();
    npy::write_f64(dir.join("y.npy"), &[3], &[4.0, 9.0, 9.0]).unwrap();

    let loaded = load_sequence_npy_dir(&dir, MissingValues::Reject).unwrap();
    assert_eq!(loaded.lengths(), set.lengths());
    assert_eq!(loaded.values(), set.values());
    assert_eq!(loaded.labels(), set.labels());
    assert_eq!(loaded.class_names(), &["4", "9"]);
    assert_eq!(load_sequences(dir.to_str().unwrap()).unwrap(), loaded);
}

#[test]
fn npy_two_dimensional_is_univariate() {
    let dir = temp_dir("npy-2d");
    npy::write_f32(dir.join("X.npy"), &[2, 3], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]).unwrap();
    npy::write_f64(dir.join("y.npy"), &[2], &[0.0, 1.0]).unwrap();
    let loaded = load_sequence_npy_dir(&dir, MissingValues::Reject).unwrap();
    assert_eq!(loaded.n_channels(), 1);
    assert_eq!(loaded.lengths(), &[3, 3]);
    assert_eq!(loaded.sequence(1), &[4.0, 5.0, 6.0]);
}

#[test]
fn npy_padding_may_be_nan() {
    let dir = temp_dir("npy-nan-padding");
    npy::write_f32(
        dir.join("X.npy"),
        &[2, 3],
        &[1.0, f32::NAN, f32::NAN, 4.0, 5.0, 6.0],
    )
    .unwrap();
    npy::write_f64(dir.join("lengths.npy"), &[2], &[1.0, 3.0]).unwrap();
    npy::write_f64(dir.join("y.npy"), &[2], &[0.0, 1.0]).unwrap();
    let loaded = load_sequence_npy_dir(&dir, MissingValues::Reject).unwrap();
    assert_eq!(loaded.sequence(0), &[1.0]);
}

#[test]
fn npy_missing_value_inside_sequence() {
    let dir = temp_dir("npy-missing");
    npy::write_f32(dir.join("X.npy"), &[1, 3], &[1.0, f32::NAN, 3.0]).unwrap();
    npy::write_f64(dir.join("y.npy"), &[1], &[0.0]).unwrap();
    let text = load_sequence_npy_dir(&dir, MissingValues::Reject)
        .unwrap_err()
        .to_string();
    assert!(
        text.contains("sequence 0: the value at channel 0, step 1"),
        "{text}"
    );
    let filled = load_sequences_with(dir.to_str().unwrap(), MissingValues::Interpolate).unwrap();
    assert_eq!(filled.sequence(0), &[1.0, 2.0, 3.0]);
}

#[test]
fn npy_zero_length_names_index() {
    let dir = temp_dir("npy-zero-length");
    npy::write_f32(dir.join("X.npy"), &[2, 2, 1], &[1.0; 4]).unwrap();
    npy::write_f64(dir.join("lengths.npy"), &[2], &[2.0, 0.0]).unwrap();
    npy::write_f64(dir.join("y.npy"), &[2], &[0.0, 0.0]).unwrap();
    let text = load_sequence_npy_dir(&dir, MissingValues::Reject)
        .unwrap_err()
        .to_string();
    assert!(text.contains("length of sequence 1"), "{text}");
    assert!(text.contains("from 1 to 2"), "{text}");
}

#[test]
fn npy_missing_labels_file() {
    let dir = temp_dir("npy-no-labels");
    npy::write_f32(dir.join("X.npy"), &[1, 2], &[1.0, 2.0]).unwrap();
    let text = load_sequence_npy_dir(&dir, MissingValues::Reject)
        .unwrap_err()
        .to_string();
    assert!(text.contains("y.npy is missing"), "{text}");
}

#[test]
fn csv_round_trip_with_ragged_rows() {
    let dir = temp_dir("csv");
    let path = dir.join("series.csv");
    std::fs::write(&path, "b, 1.5, 2, 3\na,4,,\n b ,5,6,?,8,\n").unwrap();

    let text = load_sequence_csv(&path, MissingValues::Reject)
        .unwrap_err()
        .to_string();
    assert!(
        text.contains("line 3: the value at channel 0, step 2"),
        "{text}"
    );

    let set = load_sequence_csv(&path, MissingValues::Interpolate).unwrap();
    assert_eq!(set.lengths(), &[3, 1, 4]);
    assert_eq!(set.sequence(0), &[1.5, 2.0, 3.0]);
    assert_eq!(set.sequence(2), &[5.0, 6.0, 7.0, 8.0]);
    assert_eq!(set.labels(), &[1, 0, 1]);
    assert_eq!(set.class_names(), &["a", "b"]);
    assert_eq!(
        load_sequences_with(path.to_str().unwrap(), MissingValues::Interpolate).unwrap(),
        set
    );
}

#[test]
fn csv_rejects_inner_empty_field() {
    let dir = temp_dir("csv-gap");
    let path = dir.join("gap.csv");
    std::fs::write(&path, "1,1,2,3\n2,1,,3\n").unwrap();
    let text = load_sequence_csv(&path, MissingValues::Reject)
        .unwrap_err()
        .to_string();
    assert!(text.contains("line 2, step 1"), "{text}");
    assert!(text.contains("only trailing fields may be empty"), "{text}");
}

#[test]
fn csv_rejects_infinite_value() {
    let dir = temp_dir("csv-infinite");
    let path = dir.join("huge.csv");
    std::fs::write(&path, "1,1,2\n2,1,1e39\n").unwrap();
    let text = load_sequence_csv(&path, MissingValues::Reject)
        .unwrap_err()
        .to_string();
    assert!(text.contains("line 2, step 1"), "{text}");
    assert!(text.contains("too large for f32"), "{text}");
}

#[test]
fn csv_rejects_row_without_values() {
    let dir = temp_dir("csv-label-only");
    let path = dir.join("label_only.csv");
    std::fs::write(&path, "1,1,2\n2,,\n").unwrap();
    let text = load_sequence_csv(&path, MissingValues::Reject)
        .unwrap_err()
        .to_string();
    assert!(text.contains("line 2"), "{text}");
    assert!(text.contains("no values"), "{text}");
}

#[test]
fn csv_header_row_gets_a_hint() {
    let dir = temp_dir("csv-header");
    let path = dir.join("header.csv");
    std::fs::write(&path, "label,t0,t1\n1,2,3\n").unwrap();
    let text = load_sequence_csv(&path, MissingValues::Reject)
        .unwrap_err()
        .to_string();
    assert!(text.contains("line 1"), "{text}");
    assert!(text.contains("must not have a header row"), "{text}");
}

// ---------------------------------------------------------------- spec strings

#[test]
fn unknown_spec_lists_accepted_forms() {
    let text = load_sequences("no-such-data").unwrap_err().to_string();
    assert!(text.contains("no-such-data"), "{text}");
    assert!(text.contains(SEQUENCE_SPEC_HELP), "{text}");
}

#[test]
fn bad_ode_seed_is_rejected() {
    let text = load_sequences("ode:x").unwrap_err().to_string();
    assert!(text.contains("not an unsigned 64-bit integer"), "{text}");
}

#[test]
fn split_keeps_class_shares() {
    let set = generate_ode(&OdeConfig::default()).unwrap();
    let (train, test) = set.train_test_split(0.25, 2).unwrap();
    assert_eq!(test.class_counts(), vec![25, 25]);
    assert_eq!(train.class_counts(), vec![75, 75]);
}
