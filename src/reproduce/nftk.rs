//! The NFT-K study: the per-layer NTK classifier of
//! [`crate::pipelines::nftk`] on the bundled MNIST subset and the
//! breast-cancer table, with its accuracy against kernel ridge regression on
//! the full NTK, on the NNGP and on each layer's kernel alone, its layer
//! weights and the per-layer split of its scores.

use serde::Serialize;

use super::{decimal, serde_name, Part, PartOutput, Scale, Section, Study, StudyContext, Table};
use crate::data::{load_dataset, Dataset};
use crate::error::{Error, Result};
use crate::gpu::Gpu;
use crate::kernels::ntk::{compute_ntk_gram, GramOptions, Inputs, MemorySink, NtkConfig};
use crate::ops::{self, Matrix};
use crate::pipelines::nftk::{run_nftk, LabelledPoints, NftkConfig, NftkResult};
use crate::plot;
use crate::solvers::{solve_kernel_ridge, CgOptions};

/// The NFT-K study.
pub const STUDY: Study = Study {
    name: "nftk",
    title: "NFT-K: per-layer neural tangent kernels",
    introduction: "A ReLU network of infinite width is described by its NTK, which splits exactly into one \
                   kernel per layer. The NFT-K classifier weights these per-layer kernels per class (by \
                   centred kernel alignment) and fits kernel ridge regression, so every score splits into \
                   per-layer contributions. It runs on the bundled MNIST subset and on the Wisconsin \
                   breast-cancer table, and is compared with one kernel machine on the full NTK, on the NNGP \
                   and on each layer's kernel.",
    parts: &[MNIST, BREAST_CANCER],
    missing: &[],
};

const MNIST: Part = Part {
    name: "mnist",
    plan: plan_mnist,
    run: run_mnist,
};

const BREAST_CANCER: Part = Part {
    name: "breast_cancer",
    plan: plan_breast_cancer,
    run: run_breast_cancer,
};

/// Data, sizes and classifier settings of one part.
#[derive(Debug, Clone, Serialize)]
struct NftkSetup {
    /// Part name and file prefix.
    part: &'static str,
    /// Heading of the report section.
    title: &'static str,
    /// Data set as `load_dataset` names it.
    dataset: &'static str,
    /// Training points (stratified split).
    train: usize,
    /// Test points.
    test: usize,
    /// Seed of the shuffle and the split.
    seed: u64,
    /// Test points whose per-layer contributions are drawn.
    explained: usize,
    /// Network and solver settings.
    classifier: NftkConfig,
}

fn classifier(depth: usize) -> NftkConfig {
    let defaults = NftkConfig::default();
    NftkConfig {
        network: NtkConfig {
            depth,
            ..defaults.network
        },
        ..defaults
    }
}

fn mnist_setup(scale: Scale) -> NftkSetup {
    let (train, test, depth) = match scale {
        Scale::Smoke => (60, 30, 2),
        Scale::Quick => (500, 250, 3),
        // The whole bundled subset: 4000 training and 1000 test digits.
        Scale::Paper => (4000, 1000, 3),
    };
    NftkSetup {
        part: "mnist",
        title: "MNIST digits",
        dataset: "mnist",
        train,
        test,
        seed: 0,
        explained: 8,
        classifier: classifier(depth),
    }
}

fn breast_cancer_setup(scale: Scale) -> NftkSetup {
    let (train, test, depth) = match scale {
        Scale::Smoke => (60, 30, 2),
        // The whole table, 569 tumours, split 3:1.
        Scale::Quick | Scale::Paper => (427, 142, 3),
    };
    NftkSetup {
        part: "breast_cancer",
        title: "Breast cancer (Wisconsin diagnostic)",
        dataset: "breast-cancer",
        train,
        test,
        seed: 0,
        explained: 8,
        classifier: classifier(depth),
    }
}

fn plan_mnist(scale: Scale) -> Result<serde_json::Value> {
    plan(&mnist_setup(scale))
}

fn plan_breast_cancer(scale: Scale) -> Result<serde_json::Value> {
    plan(&breast_cancer_setup(scale))
}

fn run_mnist(context: &mut StudyContext) -> Result<PartOutput> {
    run_part(context, &mnist_setup(context.scale))
}

fn run_breast_cancer(context: &mut StudyContext) -> Result<PartOutput> {
    run_part(context, &breast_cancer_setup(context.scale))
}

/// Checks the settings and that the data set has enough points.
fn plan(setup: &NftkSetup) -> Result<serde_json::Value> {
    validate(setup, &load_dataset(setup.dataset)?)?;
    Ok(serde_json::to_value(setup).expect("the setup serialises"))
}

fn validate(setup: &NftkSetup, dataset: &Dataset) -> Result<()> {
    setup.classifier.network.validate()?;
    let available = dataset.n_samples();
    if setup.train < 2 || setup.test < 1 || setup.train + setup.test > available {
        return Err(Error::InvalidArgument {
            name: "train and test points",
            value: format!("{} and {}", setup.train, setup.test),
            expected: format!(
                "at least 2 training and 1 test point, {available} together at most ({})",
                dataset.name()
            ),
        });
    }
    Ok(())
}

/// Shuffles, keeps `train + test` points, splits them stratified, and
/// scales MNIST pixels to [0, 1] or z-scores other features with the
/// training set's statistics.
fn prepare(setup: &NftkSetup, dataset: &Dataset) -> Result<(Dataset, Dataset)> {
    let total = setup.train + setup.test;
    let first_points: Vec<usize> = (0..total).collect();
    let subset = dataset.shuffled(setup.seed).subset(&first_points)?;
    let (mut train, mut test) =
        subset.train_test_split(setup.test as f64 / total as f64, setup.seed)?;
    if setup.dataset == "mnist" {
        train.scale(1.0 / 255.0)?;
        test.scale(1.0 / 255.0)?;
    } else {
        let statistics = train.fit_standardization();
        train.standardize(&statistics)?;
        test.standardize(&statistics)?;
    }
    Ok((train, test))
}

fn points<'a>(dataset: &'a Dataset, name: &str) -> Result<LabelledPoints<'a>> {
    Ok(LabelledPoints {
        inputs: Inputs::new(
            dataset.features(),
            dataset.n_samples(),
            dataset.n_features(),
            name,
        )?,
        labels: dataset.labels(),
    })
}

fn run_part(context: &mut StudyContext, setup: &NftkSetup) -> Result<PartOutput> {
    context.stage(&format!("{}: loading and splitting the data", setup.title));
    let dataset = load_dataset(setup.dataset)?;
    validate(setup, &dataset)?;
    let class_names = dataset.class_names().to_vec();
    let classes = dataset.n_classes();
    let (train, test) = prepare(setup, &dataset)?;
    let (train_points, test_points) = (points(&train, "training set")?, points(&test, "test set")?);

    context.stage(&format!(
        "{}: per-layer NTK classifier on {} training and {} test points",
        setup.title,
        train.n_samples(),
        test.n_samples()
    ));
    let result = run_nftk(
        context.gpu,
        &setup.classifier,
        &train_points,
        &test_points,
        classes,
    )?;
    context.stage(&format!("{}: NNGP baseline", setup.title));
    let nngp = nngp_accuracy(
        context.gpu,
        &setup.classifier,
        &train_points,
        &test_points,
        classes,
    )?;
    if !(result.converged && nngp.converged) {
        log::warn!(
            "{}: some conjugate-gradient solves stopped at the iteration cap",
            setup.title
        );
    }

    let mut section = Section::new(setup.title);
    section.paragraph(&format!(
        "Data: {}, with {} features and {classes} classes; {} training and {} test points drawn stratified with \
         seed {}. Network: {} hidden {} layers (w_std {}, b_std {}), so {} per-layer kernels; ridge {} on kernels \
         scaled to mean diagonal 1.",
        dataset.name(),
        dataset.n_features(),
        train.n_samples(),
        test.n_samples(),
        setup.seed,
        setup.classifier.network.depth,
        serde_name(&setup.classifier.network.activation),
        decimal(setup.classifier.network.w_std, 3),
        setup.classifier.network.b_std.map_or("none".to_string(), |b| b.to_string()),
        result.layers,
        setup.classifier.ridge,
    ));
    let labels = NamedLabels {
        classes: &class_names,
        test: test.labels(),
    };
    write_accuracy(context, setup, &result, nngp.accuracy, &mut section)?;
    write_weights(context, setup, &result, &class_names, &mut section)?;
    write_contributions(context, setup, &result, &labels, &mut section)?;
    if !(result.converged && nngp.converged) {
        section.paragraph("Some conjugate-gradient solves stopped at the iteration cap before reaching the tolerance.");
    }

    let summary = serde_json::json!({
        "config": setup,
        "dataset": dataset.name(),
        "train_points": train.n_samples(),
        "test_points": test.n_samples(),
        "features": dataset.n_features(),
        "classes": classes,
        "accuracy": {
            "combined": result.accuracy,
            "full_ntk": result.accuracy_full_ntk,
            "nngp": nngp.accuracy,
            "per_layer": result.accuracy_per_layer,
        },
        "mu": result.mu,
        "mean_mu_per_layer": mean_columns(&result.mu),
        "alignments": result.alignments,
        "layer_scales": result.layer_scales,
        "iterations_per_class": result.iterations_per_class,
        "converged": result.converged && nngp.converged,
        "gram_seconds": result.gram_seconds,
        "classifier_seconds": result.total_seconds,
    });
    Ok(PartOutput { summary, section })
}

/// Class names and the test labels, for tables and captions.
struct NamedLabels<'a> {
    classes: &'a [String],
    test: &'a [u32],
}

fn layer_names(layers: usize) -> Vec<String> {
    (0..layers).map(|h| format!("layer {h}")).collect()
}

fn write_accuracy(
    context: &StudyContext,
    setup: &NftkSetup,
    result: &NftkResult,
    nngp: f64,
    section: &mut Section,
) -> Result<()> {
    let mut kernels = vec![
        ("per-layer combination".to_string(), result.accuracy),
        ("full NTK".to_string(), result.accuracy_full_ntk),
        ("NNGP".to_string(), nngp),
    ];
    kernels.extend(
        layer_names(result.layers)
            .into_iter()
            .zip(result.accuracy_per_layer.iter().copied()),
    );
    let mut table = Table::new(&["kernel", "test accuracy"]);
    for (name, accuracy) in &kernels {
        table.push(vec![name.clone(), decimal(*accuracy, 4)]);
    }
    let table_file = context.table(&format!("{}_accuracy", setup.part))?;
    table.write_csv(&table_file.path)?;

    let figure = context.figure(&format!("{}_accuracy", setup.part))?;
    let names: Vec<String> = kernels.iter().map(|(name, _)| name.clone()).collect();
    let values: Vec<Vec<f64>> = kernels
        .iter()
        .map(|(_, accuracy)| vec![*accuracy])
        .collect();
    plot::grouped_bars(
        &figure.path,
        "Test accuracy by kernel",
        "accuracy",
        &names,
        &["accuracy".to_string()],
        &values,
    )?;

    let (worst, best) = extremes(&result.accuracy_per_layer);
    section.figure(
        &figure,
        &format!(
            "Test accuracy: the per-layer combination reaches {}, against {} for the full NTK and {} for the NNGP; \
             single layers range from {} (layer {}) to {} (layer {}).",
            decimal(result.accuracy, 3),
            decimal(result.accuracy_full_ntk, 3),
            decimal(nngp, 3),
            decimal(worst.1, 3),
            worst.0,
            decimal(best.1, 3),
            best.0
        ),
    );
    section.table(
        &table,
        &table_file,
        "Accuracy of each kernel machine on the test points",
    );
    Ok(())
}

fn write_weights(
    context: &StudyContext,
    setup: &NftkSetup,
    result: &NftkResult,
    class_names: &[String],
    section: &mut Section,
) -> Result<()> {
    let layers = layer_names(result.layers);
    let mut header = vec!["class"];
    header.extend(layers.iter().map(String::as_str));
    let mut table = Table::new(&header);
    for (name, row) in class_names.iter().zip(&result.mu) {
        let mut cells = vec![name.clone()];
        cells.extend(row.iter().map(|mu| decimal(*mu, 4)));
        table.push(cells);
    }
    let table_file = context.table(&format!("{}_mu", setup.part))?;
    table.write_csv(&table_file.path)?;
    let figure = context.figure(&format!("{}_mu", setup.part))?;
    plot::heatmap(
        &figure.path,
        "Layer weights mu (class x layer)",
        class_names,
        &layers,
        &result.mu,
    )?;

    let means = mean_columns(&result.mu);
    let (class, layer, weight) = largest_entry(&result.mu);
    section.figure(
        &figure,
        &format!(
            "Layer weights mu of each class (rows sum to 1). Averaged over classes they are {} for layers 0 to {}; \
             the largest single weight is {} (class {}, layer {layer}).",
            means.iter().map(|m| decimal(*m, 2)).collect::<Vec<_>>().join(", "),
            result.layers - 1,
            decimal(weight, 2),
            class_names[class]
        ),
    );
    section.file(&table_file, "the weights as a table");
    Ok(())
}

fn write_contributions(
    context: &StudyContext,
    setup: &NftkSetup,
    result: &NftkResult,
    labels: &NamedLabels,
    section: &mut Section,
) -> Result<()> {
    let layers = layer_names(result.layers);
    let mut header = vec!["test_index", "label", "predicted", "class", "score"];
    header.extend(layers.iter().map(String::as_str));
    let mut table = Table::new(&header);
    for (t, per_class) in result.contributions.iter().enumerate() {
        for (c, terms) in per_class.iter().enumerate() {
            let mut cells = vec![
                t.to_string(),
                labels.classes[labels.test[t] as usize].clone(),
                labels.classes[result.predictions[t] as usize].clone(),
                labels.classes[c].clone(),
                decimal(result.scores[t][c], 6),
            ];
            cells.extend(terms.iter().map(|v| decimal(*v, 6)));
            table.push(cells);
        }
    }
    let table_file = context.table(&format!("{}_contributions", setup.part))?;
    table.write_csv(&table_file.path)?;

    let explained = setup.explained.min(result.contributions.len());
    let predicted_terms =
        |t: usize| result.contributions[t][result.predictions[t] as usize].clone();
    let names: Vec<String> = (0..explained)
        .map(|t| {
            format!(
                "#{t} {}->{}",
                labels.classes[labels.test[t] as usize],
                labels.classes[result.predictions[t] as usize]
            )
        })
        .collect();
    let values: Vec<Vec<f64>> = (0..explained).map(predicted_terms).collect();
    let figure = context.figure(&format!("{}_contributions", setup.part))?;
    plot::grouped_bars(
        &figure.path,
        "Per-layer contributions to the predicted class's score",
        "contribution",
        &names,
        &layers,
        &values,
    )?;
    let first = predicted_terms(0);
    let (top_layer, top_value) = extremes(&first).1;
    section.figure(
        &figure,
        &format!(
            "Each group splits one test point's score for its predicted class (label -> prediction) into per-layer \
             terms that sum to it; for point #0 the largest term is layer {top_layer}'s, {} of a score of {}.",
            decimal(top_value, 3),
            decimal(first.iter().sum(), 3)
        ),
    );

    let (rows, means) = mean_predicted_contributions(result);
    let row_names: Vec<String> = rows.iter().map(|&c| labels.classes[c].clone()).collect();
    let mean_figure = context.figure(&format!("{}_mean_contributions", setup.part))?;
    plot::heatmap(
        &mean_figure.path,
        "Mean winning-score terms",
        &row_names,
        &layers,
        &means,
    )?;
    let (row, layer, value) = largest_entry(&means);
    let mut mean_table_header = vec!["predicted class"];
    mean_table_header.extend(layers.iter().map(String::as_str));
    let mut mean_table = Table::new(&mean_table_header);
    for (name, row) in row_names.iter().zip(&means) {
        let mut cells = vec![name.clone()];
        cells.extend(row.iter().map(|v| decimal(*v, 6)));
        mean_table.push(cells);
    }
    let mean_table_file = context.table(&format!("{}_mean_contributions", setup.part))?;
    mean_table.write_csv(&mean_table_file.path)?;
    section.figure(
        &mean_figure,
        &format!(
            "Mean per-layer term of the winning score over the test points predicted as each class ({} of {} \
             classes predicted at least once); the largest, {}, is layer {layer}'s for class {}.",
            rows.len(),
            labels.classes.len(),
            decimal(value, 3),
            row_names[row]
        ),
    );
    section.file(
        &table_file,
        "every test point's score for every class, split per layer",
    );
    section.file(&mean_table_file, "the mean contributions as a table");
    Ok(())
}

/// Mean over the test points predicted as each class of that class's
/// per-layer terms; returns the classes predicted at least once and their rows.
fn mean_predicted_contributions(result: &NftkResult) -> (Vec<usize>, Vec<Vec<f64>>) {
    let mut sums = vec![vec![0.0; result.layers]; result.classes];
    let mut counts = vec![0usize; result.classes];
    for (t, &predicted) in result.predictions.iter().enumerate() {
        let class = predicted as usize;
        counts[class] += 1;
        for (sum, term) in sums[class].iter_mut().zip(&result.contributions[t][class]) {
            *sum += term;
        }
    }
    let rows: Vec<usize> = (0..result.classes).filter(|&c| counts[c] > 0).collect();
    let means = rows
        .iter()
        .map(|&c| sums[c].iter().map(|s| s / counts[c] as f64).collect())
        .collect();
    (rows, means)
}

/// (index, value) of the smallest and the largest entry.
fn extremes(values: &[f64]) -> ((usize, f64), (usize, f64)) {
    let mut low = (0, f64::INFINITY);
    let mut high = (0, f64::NEG_INFINITY);
    for (index, &value) in values.iter().enumerate() {
        if value < low.1 {
            low = (index, value);
        }
        if value > high.1 {
            high = (index, value);
        }
    }
    (low, high)
}

/// (row, column, value) of the largest entry of a non-empty matrix.
fn largest_entry(rows: &[Vec<f64>]) -> (usize, usize, f64) {
    let mut best = (0, 0, f64::NEG_INFINITY);
    for (r, row) in rows.iter().enumerate() {
        let (column, value) = extremes(row).1;
        if value > best.2 {
            best = (r, column, value);
        }
    }
    best
}

fn mean_columns(rows: &[Vec<f64>]) -> Vec<f64> {
    let columns = rows.first().map_or(0, Vec::len);
    (0..columns)
        .map(|c| rows.iter().map(|row| row[c]).sum::<f64>() / rows.len() as f64)
        .collect()
}

/// Test accuracy of kernel ridge regression on the NNGP, and whether its
/// solve converged.
struct NngpAccuracy {
    accuracy: f64,
    converged: bool,
}

/// Fits one-vs-rest kernel ridge regression on the NNGP (scaled to mean
/// training diagonal 1, with the classifier's ridge) and scores the test points.
fn nngp_accuracy(
    gpu: &Gpu,
    config: &NftkConfig,
    train: &LabelledPoints,
    test: &LabelledPoints,
    classes: usize,
) -> Result<NngpAccuracy> {
    let (n, m) = (train.inputs.count, test.inputs.count);
    let options = GramOptions {
        per_layer: false,
        tile: None,
    };
    let mut train_gram = MemorySink::new(2, n, n);
    compute_ntk_gram(
        gpu,
        &config.network,
        &train.inputs,
        None,
        &options,
        &mut train_gram,
        &mut |_, _| {},
    )?;
    let mut cross_gram = MemorySink::new(2, m, n);
    compute_ntk_gram(
        gpu,
        &config.network,
        &test.inputs,
        Some(&train.inputs),
        &options,
        &mut cross_gram,
        &mut |_, _| {},
    )?;

    // Component 0 is the NNGP; scaling by the mean training diagonal puts the
    // ridge on the same footing as in the NFT-K classifier.
    let train_nngp = &train_gram.components[0];
    let scale = (0..n)
        .map(|i| f64::from(train_nngp[i * n + i]))
        .sum::<f64>()
        / n as f64;
    let factor = if scale > 0.0 && scale.is_finite() {
        (1.0 / scale) as f32
    } else {
        1.0
    };
    let kernel: Vec<f32> = train_nngp.iter().map(|v| v * factor).collect();
    let cross: Vec<f32> = cross_gram.components[0]
        .iter()
        .map(|v| v * factor)
        .collect();
    let targets: Vec<f32> = train
        .labels
        .iter()
        .flat_map(|&label| (0..classes).map(move |c| if label as usize == c { 1.0 } else { -1.0 }))
        .collect();

    let kernel = Matrix::upload(gpu, &kernel, n, n, "nngp kernel")?;
    let targets = Matrix::upload(gpu, &targets, n, classes, "nngp targets")?;
    let cg = CgOptions {
        ridge: config.ridge as f32,
        tolerance: config.tolerance,
        max_iterations: config.max_iterations,
    };
    let (coefficients, report) = solve_kernel_ridge(gpu, &kernel, &targets, &cg)?;
    let cross = Matrix::upload(gpu, &cross, m, n, "nngp cross kernel")?;
    let mut recorder = gpu.recorder("nngp prediction");
    let scores = ops::matmul(&mut recorder, &cross, &coefficients)?;
    recorder.submit()?;
    let scores = scores.read(gpu)?;

    let correct = scores
        .chunks(classes)
        .zip(test.labels)
        .filter(|(row, &label)| {
            let predicted = row
                .iter()
                .enumerate()
                .fold((0, f32::NEG_INFINITY), |best, (c, &v)| {
                    if v > best.1 {
                        (c, v)
                    } else {
                        best
                    }
                })
                .0;
            predicted == label as usize
        })
        .count();
    Ok(NngpAccuracy {
        accuracy: correct as f64 / m as f64,
        converged: report.converged,
    })
}
