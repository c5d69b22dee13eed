//! NFT-K: an interpretable kernel classifier built from the per-layer terms
//! of the infinite-width NTK.
//!
//! For each class c (one-vs-rest, targets +1 / -1) the kernel is a convex
//! combination of the normalised per-layer kernels,
//!
//! ```text
//! K_c = sum_h mu_{c,h} Theta_h / s_h,   mu_{c,h} >= 0,  sum_h mu_{c,h} = 1,
//! f_c(x) = sum_i alpha_{c,i} K_c(x, x_i) = sum_h mu_{c,h} [Theta_h(x, X) / s_h] alpha_c,
//! ```
//!
//! where s_h is the mean diagonal of Theta_h on the training set, so that
//! every layer enters at the same scale. The weights follow the "align" rule
//! of Cortes, Mohri and Rostamizadeh ("Algorithms for learning kernels based
//! on centered alignment", JMLR 2012): mu_{c,h} is proportional to the
//! centred alignment between Theta_h and y_c y_c^T, negative alignments are
//! set to zero, and a class whose alignments are all zero gets uniform
//! weights. alpha_c solves (K_c + ridge I) alpha_c = y_c (kernel ridge
//! regression, conjugate gradients on the GPU). The prediction is the class
//! with the largest f_c, and the inner sum splits each f_c(x) exactly into
//! per-layer contributions.

use std::time::Instant;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::gpu::Gpu;
use crate::kernels::ntk::{
    component_names, compute_ntk_gram, GramOptions, Inputs, MemorySink, NtkConfig,
};
use crate::ops::{self, Matrix};
use crate::solvers::{solve_kernel_ridge, CgOptions};

/// Settings of [`run_nftk`].
#[derive(Debug, Clone, Copy, Serialize)]
pub struct NftkConfig {
    /// The network whose per-layer NTK terms are combined.
    pub network: NtkConfig,
    /// Ridge added to the diagonal of every (normalised, mean diagonal 1) kernel.
    pub ridge: f64,
    /// Relative residual at which conjugate gradients stop.
    pub tolerance: f64,
    /// Iteration cap of conjugate gradients.
    pub max_iterations: usize,
}

impl Default for NftkConfig {
    fn default() -> Self {
        Self {
            network: NtkConfig {
                depth: 3,
                w_std: std::f64::consts::SQRT_2,
                b_std: Some(0.1),
                ..NtkConfig::default()
            },
            ridge: 1e-2,
            tolerance: 1e-4,
            max_iterations: 1000,
        }
    }
}

/// Labelled points: row-major features and labels in 0..classes.
#[derive(Debug, Clone, Copy)]
pub struct LabelledPoints<'a> {
    /// Feature matrix.
    pub inputs: Inputs<'a>,
    /// One label per point.
    pub labels: &'a [u32],
}

/// Output of [`run_nftk`].
#[derive(Debug, Clone, Serialize)]
pub struct NftkResult {
    /// Number of classes C.
    pub classes: usize,
    /// Number of per-layer kernels (depth + 1).
    pub layers: usize,
    /// Mean diagonal s_h of each Theta_h on the training set.
    pub layer_scales: Vec<f64>,
    /// Centred alignment of each normalised Theta_h with each class's targets (C x layers).
    pub alignments: Vec<Vec<f64>>,
    /// Layer weights mu (C x layers); each row is non-negative and sums to 1.
    pub mu: Vec<Vec<f64>>,
    /// f_c(x) for each test point (test x C).
    pub scores: Vec<Vec<f64>>,
    /// Per-layer terms of each score (test x C x layers); they sum to `scores`.
    pub contributions: Vec<Vec<Vec<f64>>>,
    /// Predicted class of each test point.
    pub predictions: Vec<u32>,
    /// Test accuracy of the combined per-layer classifier.
    pub accuracy: f64,
    /// Test accuracy of kernel ridge regression on the full NTK.
    pub accuracy_full_ntk: f64,
    /// Test accuracy with each single normalised layer kernel.
    pub accuracy_per_layer: Vec<f64>,
    /// Conjugate-gradient iterations of each class's solve.
    pub iterations_per_class: Vec<usize>,
    /// Whether every solve reached the tolerance.
    pub converged: bool,
    /// Seconds spent on Gram matrices and on everything.
    pub gram_seconds: f64,
    /// Total seconds.
    pub total_seconds: f64,
}

fn check_labels(points: &LabelledPoints, classes: usize, name: &str) -> Result<()> {
    if points.labels.len() != points.inputs.count {
        return Err(Error::ShapeMismatch {
            operation: "nftk",
            message: format!(
                "{name} has {} points but {} labels",
                points.inputs.count,
                points.labels.len()
            ),
        });
    }
    if let Some(bad) = points
        .labels
        .iter()
        .find(|&&label| label as usize >= classes)
    {
        return Err(Error::InvalidArgument {
            name: "label",
            value: bad.to_string(),
            expected: format!("labels in 0..{classes} in the {name} set"),
        });
    }
    Ok(())
}

/// Gram components (nngp, ntk, layer_0..layer_L) between `rows` and the training points.
fn gram_components(
    gpu: &Gpu,
    network: &NtkConfig,
    rows: &Inputs,
    train: &Inputs,
    symmetric: bool,
) -> Result<Vec<Vec<f32>>> {
    let names = component_names(network.depth, true);
    let mut sink = MemorySink::new(names.len(), rows.count, train.count);
    let options = GramOptions {
        per_layer: true,
        tile: None,
    };
    let x2 = if symmetric { None } else { Some(train) };
    compute_ntk_gram(gpu, network, rows, x2, &options, &mut sink, &mut |_, _| {})?;
    Ok(sink.components)
}

fn mean_diagonal(matrix: &[f32], n: usize) -> f64 {
    let total: f64 = (0..n).map(|i| f64::from(matrix[i * n + i])).sum();
    let mean = total / n as f64;
    if mean > 0.0 && mean.is_finite() {
        mean
    } else {
        1.0
    }
}

/// Centred alignment <H K H, y y^T>_F / (||H K H||_F ||H y||^2) in float64.
pub fn centred_alignment(kernel: &[f32], n: usize, targets: &[f64]) -> f64 {
    let mean_target = targets.iter().sum::<f64>() / n as f64;
    let centred: Vec<f64> = targets.iter().map(|y| y - mean_target).collect();
    let target_norm_squared: f64 = centred.iter().map(|y| y * y).sum();

    let (mut frobenius_squared, mut total, mut quadratic) = (0.0f64, 0.0f64, 0.0f64);
    let mut row_sums_squared = 0.0f64;
    for i in 0..n {
        let row = &kernel[i * n..(i + 1) * n];
        let mut row_sum = 0.0f64;
        let mut weighted = 0.0f64;
        for (j, &value) in row.iter().enumerate() {
            let value = f64::from(value);
            frobenius_squared += value * value;
            row_sum += value;
            weighted += value * centred[j];
        }
        total += row_sum;
        row_sums_squared += row_sum * row_sum;
        quadratic += centred[i] * weighted;
    }
    let nf = n as f64;
    let centred_frobenius_squared =
        frobenius_squared - 2.0 / nf * row_sums_squared + total * total / (nf * nf);
    let denominator = centred_frobenius_squared.max(0.0).sqrt() * target_norm_squared;
    if denominator > 0.0 {
        quadratic / denominator
    } else {
        0.0
    }
}

/// Layer weights from alignments: negative ones clipped to 0, then normalised
/// to sum 1 (uniform when nothing is positive).
pub fn weights_from_alignments(alignments: &[f64]) -> Vec<f64> {
    let clipped: Vec<f64> = alignments.iter().map(|a| a.max(0.0)).collect();
    let total: f64 = clipped.iter().sum();
    if total > 0.0 {
        clipped.iter().map(|a| a / total).collect()
    } else {
        vec![1.0 / alignments.len() as f64; alignments.len()]
    }
}

/// One-vs-rest targets: +1 for `class`, -1 otherwise.
fn class_targets(labels: &[u32], class: usize) -> Vec<f64> {
    labels
        .iter()
        .map(|&l| if l as usize == class { 1.0 } else { -1.0 })
        .collect()
}

fn accuracy(scores: &[Vec<f64>], labels: &[u32]) -> (f64, Vec<u32>) {
    let predictions: Vec<u32> = scores.iter().map(|row| argmax(row) as u32).collect();
    let correct = predictions
        .iter()
        .zip(labels)
        .filter(|(p, l)| p == l)
        .count();
    (correct as f64 / labels.len().max(1) as f64, predictions)
}

fn argmax(values: &[f64]) -> usize {
    values
        .iter()
        .enumerate()
        .fold((0, f64::NEG_INFINITY), |best, (i, &v)| {
            if v > best.1 {
                (i, v)
            } else {
                best
            }
        })
        .0
}

/// Scales a row-major matrix by 1/scale into a new f32 vector.
fn scaled(matrix: &[f32], scale: f64) -> Vec<f32> {
    let factor = (1.0 / scale) as f32;
    matrix.iter().map(|v| v * factor).collect()
}

/// Kernel ridge regression with `kernel` (n x n) on one-vs-rest targets of all
/// classes at once; returns the test scores (m x C) from `cross` (m x n).
fn ridge_scores(
    gpu: &Gpu,
    kernel: &[f32],
    cross: &[f32],
    train_labels: &[u32],
    classes: usize,
    m: usize,
    options: &CgOptions,
) -> Result<(Vec<Vec<f64>>, bool)> {
    let n = train_labels.len();
    let targets: Vec<f32> = train_labels
        .iter()
        .flat_map(|&l| (0..classes).map(move |c| if l as usize == c { 1.0 } else { -1.0 }))
        .collect();
    let kernel = Matrix::upload(gpu, kernel, n, n, "nftk kernel")?;
    let targets = Matrix::upload(gpu, &targets, n, classes, "nftk targets")?;
    let (coefficients, report) = solve_kernel_ridge(gpu, &kernel, &targets, options)?;
    let cross = Matrix::upload(gpu, cross, m, n, "nftk cross kernel")?;
    let mut recorder = gpu.recorder("nftk prediction");
    let scores = ops::matmul(&mut recorder, &cross, &coefficients)?;
    recorder.submit()?;
    let values = scores.read(gpu)?;
    Ok((
        values
            .chunks(classes)
            .map(|row| row.iter().map(|&v| f64::from(v)).collect())
            .collect(),
        report.converged,
    ))
}

/// Trains the NFT-K classifier on `train` and evaluates it on `test`.
pub fn run_nftk(
    gpu: &Gpu,
    config: &NftkConfig,
    train: &LabelledPoints,
    test: &LabelledPoints,
    classes: usize,
) -> Result<NftkResult> {
    let started = Instant::now();
    config.network.validate()?;
    if classes < 2 {
        return Err(Error::InvalidArgument {
            name: "classes",
            value: classes.to_string(),
            expected: "at least 2 classes".to_string(),
        });
    }
    if !(config.ridge.is_finite() && config.ridge > 0.0) {
        return Err(Error::InvalidArgument {
            name: "ridge",
            value: config.ridge.to_string(),
            expected: "a finite value > 0 (relative to the kernels' mean diagonal of 1)"
                .to_string(),
        });
    }
    check_labels(train, classes, "training")?;
    check_labels(test, classes, "test")?;
    let (n, m) = (train.inputs.count, test.inputs.count);
    let layers = config.network.depth + 1;

    let train_gram = gram_components(gpu, &config.network, &train.inputs, &train.inputs, true)?;
    let test_gram = gram_components(gpu, &config.network, &test.inputs, &train.inputs, false)?;
    let gram_seconds = started.elapsed().as_secs_f64();

    // Components are nngp, ntk, layer_0..layer_L; normalise each kernel by its
    // mean training diagonal.
    let ntk_scale = mean_diagonal(&train_gram[1], n);
    let layer_scales: Vec<f64> = (0..layers)
        .map(|h| mean_diagonal(&train_gram[2 + h], n))
        .collect();
    let train_layers: Vec<Vec<f32>> = (0..layers)
        .map(|h| scaled(&train_gram[2 + h], layer_scales[h]))
        .collect();
    let test_layers: Vec<Vec<f32>> = (0..layers)
        .map(|h| scaled(&test_gram[2 + h], layer_scales[h]))
        .collect();

    let alignments: Vec<Vec<f64>> = (0..classes)
        .map(|c| {
            let targets = class_targets(train.labels, c);
            train_layers
                .iter()
                .map(|kernel| centred_alignment(kernel, n, &targets))
                .collect()
        })
        .collect();
    let mu: Vec<Vec<f64>> = alignments
        .iter()
        .map(|a| weights_from_alignments(a))
        .collect();

    let cg = CgOptions {
        ridge: config.ridge as f32,
        tolerance: config.tolerance,
        max_iterations: config.max_iterations,
    };
    let (contributions, iterations_per_class, mut converged) = combined_contributions(
        gpu,
        &train_layers,
        &test_layers,
        &mu,
        train.labels,
        n,
        m,
        &cg,
    )?;
    let scores: Vec<Vec<f64>> = contributions
        .iter()
        .map(|per_class| per_class.iter().map(|terms| terms.iter().sum()).collect())
        .collect();
    let (combined_accuracy, predictions) = accuracy(&scores, test.labels);

    let (full_scores, full_converged) = ridge_scores(
        gpu,
        &scaled(&train_gram[1], ntk_scale),
        &scaled(&test_gram[1], ntk_scale),
        train.labels,
        classes,
        m,
        &cg,
    )?;
    converged &= full_converged;
    let accuracy_full_ntk = accuracy(&full_scores, test.labels).0;
    let mut accuracy_per_layer = Vec::with_capacity(layers);
    for h in 0..layers {
        let (layer_scores, layer_converged) = ridge_scores(
            gpu,
            &train_layers[h],
            &test_layers[h],
            train.labels,
            classes,
            m,
            &cg,
        )?;
        converged &= layer_converged;
        accuracy_per_layer.push(accuracy(&layer_scores, test.labels).0);
    }

    Ok(NftkResult {
        classes,
        layers,
        layer_scales,
        alignments,
        mu,
        scores,
        contributions,
        predictions,
        accuracy: combined_accuracy,
        accuracy_full_ntk,
        accuracy_per_layer,
        iterations_per_class,
        converged,
        gram_seconds,
        total_seconds: started.elapsed().as_secs_f64(),
    })
}

/// Solves each class's combined-kernel ridge regression and splits the test
/// scores into per-layer terms (test x class x layer).
#[allow(clippy::too_many_arguments, clippy::type_complexity)]
fn combined_contributions(
    gpu: &Gpu,
    train_layers: &[Vec<f32>],
    test_layers: &[Vec<f32>],
    mu: &[Vec<f64>],
    train_labels: &[u32],
    n: usize,
    m: usize,
    cg: &CgOptions,
) -> Result<(Vec<Vec<Vec<f64>>>, Vec<usize>, bool)> {
    let (classes, layers) = (mu.len(), train_layers.len());
    let mut coefficients = vec![0.0f32; n * classes];
    let mut iterations = Vec::with_capacity(classes);
    let mut converged = true;
    for (c, weights) in mu.iter().enumerate() {
        let mut combined = vec![0.0f32; n * n];
        for (kernel, &weight) in train_layers.iter().zip(weights) {
            let weight = weight as f32;
            combined
                .iter_mut()
                .zip(kernel)
                .for_each(|(sum, value)| *sum += weight * value);
        }
        let kernel = Matrix::upload(gpu, &combined, n, n, "nftk class kernel")?;
        let targets: Vec<f32> = class_targets(train_labels, c)
            .into_iter()
            .map(|y| y as f32)
            .collect();
        let targets = Matrix::upload(gpu, &targets, n, 1, "nftk class targets")?;
        let (alpha, report) = solve_kernel_ridge(gpu, &kernel, &targets, cg)?;
        for (i, value) in alpha.read(gpu)?.into_iter().enumerate() {
            coefficients[i * classes + c] = value;
        }
        iterations.push(report.iterations);
        converged &= report.converged;
    }

    // Theta_h(test, train) / s_h times the coefficients of every class, one
    // product per layer; mu then weights each class's column.
    let coefficients = Matrix::upload(gpu, &coefficients, n, classes, "nftk coefficients")?;
    let mut contributions = vec![vec![vec![0.0f64; layers]; classes]; m];
    for h in 0..layers {
        let cross = Matrix::upload(gpu, &test_layers[h], m, n, "nftk layer cross kernel")?;
        let mut recorder = gpu.recorder("nftk layer contributions");
        let products = ops::matmul(&mut recorder, &cross, &coefficients)?;
        recorder.submit()?;
        let products = products.read(gpu)?;
        for t in 0..m {
            for c in 0..classes {
                contributions[t][c][h] = mu[c][h] * f64::from(products[t * classes + c]);
            }
        }
    }
    Ok((contributions, iterations, converged))
}
