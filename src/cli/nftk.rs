//! `maso nftk`: train and explain the NFT-K per-layer kernel classifier.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::Args;

use super::ActivationArg;

use maso::data::{load_dataset, Dataset, DATASET_SPEC_HELP};
use maso::kernels::ntk::{Inputs, NtkConfig, Parameterization};
use maso::pipelines::nftk::{run_nftk, LabelledPoints, NftkConfig, NftkResult};
use maso::{plot, Gpu};

/// Options of `maso nftk`.
#[derive(Debug, Args)]
pub struct NftkArgs {
    /// Data set: mnist, mnist:DIR, mnist-test:DIR, breast-cancer, a directory
    /// with X.npy and y.npy, or a CSV file with the label in the last column.
    #[arg(long, default_value = "breast-cancer")]
    dataset: String,
    /// Training points drawn from the data set (stratified; 0 for all but the test points).
    #[arg(long, default_value_t = 0)]
    train: usize,
    /// Test points drawn from the data set (stratified).
    #[arg(long, default_value_t = 0)]
    test: usize,
    /// Number of hidden layers L of the network (L + 1 per-layer kernels).
    #[arg(long, default_value_t = 3)]
    depth: usize,
    /// Hidden-layer nonlinearity.
    #[arg(long, value_enum, default_value_t = ActivationArg::Relu)]
    activation: ActivationArg,
    /// Weight standard deviation sigma_w.
    #[arg(long, default_value_t = std::f64::consts::SQRT_2, allow_negative_numbers = true)]
    w_std: f64,
    /// Bias standard deviation sigma_b (0 for no bias).
    #[arg(long, default_value_t = 0.1, allow_negative_numbers = true)]
    b_std: f64,
    /// Ridge added to each kernel, whose mean diagonal is normalised to 1.
    #[arg(long, default_value_t = 0.01)]
    ridge: f64,
    /// Seed of the shuffle and the train/test split.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Number of test points whose per-layer contributions are plotted.
    #[arg(long, default_value_t = 8)]
    explain: usize,
    /// Output directory (created if missing).
    #[arg(long)]
    out: PathBuf,
}

/// Default sizes: the whole of a small data set, a quick subset of MNIST.
fn default_sizes(samples: usize) -> (usize, usize) {
    if samples <= 2000 {
        let test = samples / 4;
        (samples - test, test)
    } else {
        (1000, 500)
    }
}

/// Shuffles, keeps train + test points, splits them stratified and scales
/// the features: pixels to [0, 1] for MNIST, z-scores (training statistics)
/// otherwise.
fn prepare(
    dataset: Dataset,
    spec: &str,
    train: usize,
    test: usize,
    seed: u64,
) -> Result<(Dataset, Dataset)> {
    let total = dataset.n_samples();
    let (default_train, default_test) = default_sizes(total);
    let test = if test == 0 { default_test } else { test };
    let train = if train == 0 {
        default_train.min(total.saturating_sub(test))
    } else {
        train
    };
    if train + test > total || train < 2 || test < 1 {
        bail!("--train {train} and --test {test} need 2 to {total} points together (the data set has {total})");
    }
    let shuffled = dataset.shuffled(seed);
    let kept: Vec<usize> = (0..train + test).collect();
    let subset = shuffled.subset(&kept)?;
    let (mut train_set, mut test_set) =
        subset.train_test_split(test as f64 / (train + test) as f64, seed)?;
    if spec.starts_with("mnist") {
        train_set.scale(1.0 / 255.0)?;
        test_set.scale(1.0 / 255.0)?;
    } else {
        let statistics = train_set.fit_standardization();
        train_set.standardize(&statistics)?;
        test_set.standardize(&statistics)?;
    }
    Ok((train_set, test_set))
}

/// Loads the data, runs NFT-K and writes the report, tables and figures.
pub fn run(args: &NftkArgs) -> Result<()> {
    let dataset = load_dataset(&args.dataset)
        .with_context(|| format!("accepted --dataset values: {DATASET_SPEC_HELP}"))?;
    let classes = dataset.n_classes();
    let class_names = dataset.class_names().to_vec();
    let name = dataset.name().to_string();
    let (train, test) = prepare(dataset, &args.dataset, args.train, args.test, args.seed)?;
    log::info!(
        "{name}: {} training and {} test points, {} features, {classes} classes",
        train.n_samples(),
        test.n_samples(),
        train.n_features()
    );

    let config = NftkConfig {
        network: NtkConfig {
            depth: args.depth,
            activation: args.activation.into(),
            w_std: args.w_std,
            b_std: Some(args.b_std),
            parameterization: Parameterization::Ntk,
            width: 512,
        },
        ridge: args.ridge,
        ..NftkConfig::default()
    };
    let gpu = Gpu::new()?;
    let train_points = LabelledPoints {
        inputs: Inputs::new(
            train.features(),
            train.n_samples(),
            train.n_features(),
            "training set",
        )?,
        labels: train.labels(),
    };
    let test_points = LabelledPoints {
        inputs: Inputs::new(
            test.features(),
            test.n_samples(),
            test.n_features(),
            "test set",
        )?,
        labels: test.labels(),
    };
    let result = run_nftk(&gpu, &config, &train_points, &test_points, classes)?;
    if !result.converged {
        log::warn!("some conjugate-gradient solves did not reach the tolerance; raise --ridge for better conditioning");
    }

    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("failed to create {}", args.out.display()))?;
    write_outputs(
        &args.out,
        args,
        &config,
        &name,
        &class_names,
        &gpu,
        &result,
        test.labels(),
    )?;
    log::info!(
        "accuracy: per-layer combination {:.4}, full NTK {:.4}, layers {}; results in {}",
        result.accuracy,
        result.accuracy_full_ntk,
        result
            .accuracy_per_layer
            .iter()
            .map(|a| format!("{a:.4}"))
            .collect::<Vec<_>>()
            .join(" "),
        args.out.display()
    );
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn write_outputs(
    out: &Path,
    args: &NftkArgs,
    config: &NftkConfig,
    name: &str,
    class_names: &[String],
    gpu: &Gpu,
    result: &NftkResult,
    test_labels: &[u32],
) -> Result<()> {
    let layer_names: Vec<String> = (0..result.layers).map(|h| format!("layer {h}")).collect();
    let report = serde_json::json!({
        "dataset": name,
        "dataset_spec": args.dataset,
        "train_points": args.train,
        "class_names": class_names,
        "config": config,
        "seed": args.seed,
        "adapter": gpu.info().name,
        "result": {
            "accuracy": result.accuracy,
            "accuracy_full_ntk": result.accuracy_full_ntk,
            "accuracy_per_layer": result.accuracy_per_layer,
            "mu": result.mu,
            "alignments": result.alignments,
            "layer_scales": result.layer_scales,
            "iterations_per_class": result.iterations_per_class,
            "converged": result.converged,
            "gram_seconds": result.gram_seconds,
            "total_seconds": result.total_seconds,
        },
    });
    write_file(
        &out.join("report.json"),
        &serde_json::to_string_pretty(&report)?,
    )?;

    let mut mu_csv = format!(
        "class,{}\n",
        (0..result.layers)
            .map(|h| format!("layer_{h}"))
            .collect::<Vec<_>>()
            .join(",")
    );
    for (c, row) in result.mu.iter().enumerate() {
        let _ = writeln!(
            mu_csv,
            "{},{}",
            csv_field(&class_names[c]),
            row.iter()
                .map(|v| format!("{v:.6}"))
                .collect::<Vec<_>>()
                .join(",")
        );
    }
    write_file(&out.join("mu.csv"), &mu_csv)?;

    let mut contributions_csv = format!(
        "test_index,label,predicted,class,score,{}\n",
        (0..result.layers)
            .map(|h| format!("layer_{h}"))
            .collect::<Vec<_>>()
            .join(",")
    );
    for (t, per_class) in result.contributions.iter().enumerate() {
        for (c, terms) in per_class.iter().enumerate() {
            let _ = writeln!(
                contributions_csv,
                "{t},{},{},{},{:.6},{}",
                csv_field(&class_names[test_labels[t] as usize]),
                csv_field(&class_names[result.predictions[t] as usize]),
                csv_field(&class_names[c]),
                result.scores[t][c],
                terms
                    .iter()
                    .map(|v| format!("{v:.6}"))
                    .collect::<Vec<_>>()
                    .join(",")
            );
        }
    }
    write_file(&out.join("contributions.csv"), &contributions_csv)?;

    plot::heatmap(
        &out.join("mu.png"),
        "Layer weights mu (class x layer)",
        class_names,
        &layer_names,
        &result.mu,
    )?;
    let explained = args.explain.min(result.contributions.len());
    if explained > 0 {
        let labels: Vec<String> = (0..explained)
            .map(|t| {
                format!(
                    "#{t} {}->{}",
                    class_names[test_labels[t] as usize],
                    class_names[result.predictions[t] as usize]
                )
            })
            .collect();
        let values: Vec<Vec<f64>> = (0..explained)
            .map(|t| result.contributions[t][result.predictions[t] as usize].clone())
            .collect();
        plot::grouped_bars(
            &out.join("contributions.png"),
            "Per-layer contributions to the predicted class's score",
            "contribution",
            &labels,
            &layer_names,
            &values,
        )?;
    }
    let mut accuracy_labels = vec!["combined".to_string(), "full NTK".to_string()];
    accuracy_labels.extend(layer_names.iter().cloned());
    let mut accuracies = vec![vec![result.accuracy], vec![result.accuracy_full_ntk]];
    accuracies.extend(result.accuracy_per_layer.iter().map(|&a| vec![a]));
    plot::grouped_bars(
        &out.join("accuracy.png"),
        "Test accuracy",
        "accuracy",
        &accuracy_labels,
        &["accuracy".to_string()],
        &accuracies,
    )?;
    Ok(())
}

fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

fn write_file(path: &Path, contents: &str) -> Result<()> {
    std::fs::write(path, contents).with_context(|| format!("failed to write {}", path.display()))
}
