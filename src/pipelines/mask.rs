//! MASK: kernel PCA and kernel t-SNE of variable-length sequences through
//! their recurrent NTK, against PCA and t-SNE of the zero-padded sequences.
//!
//! Four 2-D embeddings of one sequence set are computed and scored:
//!
//! - `pca`: PCA of the sequences zero-padded to the longest length;
//! - `rntk_pca`: kernel PCA of the RNTK Gram matrix (centred in feature
//!   space, plus a ridge on the diagonal);
//! - `tsne`: t-SNE of the Euclidean distances between padded sequences;
//! - `rntk_tsne`: t-SNE of a kernel-induced distance of the RNTK Gram
//!   matrix (cosine form 1 - K / sqrt(Kxx Kyy) by default, as in the
//!   original study, or the feature-space distance).
//!
//! Each embedding gets the leave-one-out k-NN accuracy of the class labels,
//! the silhouette score and the trustworthiness with respect to the distances
//! its method started from.

use std::time::Instant;

use serde::Serialize;

use crate::data::sequences::SequenceSet;
use crate::decomposition::{linear_kernel, KernelPca, KernelPcaOptions};
use crate::embed::{
    kernel_distances, knn_accuracy, silhouette_score, trustworthiness, tsne, DistanceMatrix,
    KernelDistance, TsneConfig,
};
use crate::error::Result;
use crate::gpu::Gpu;
use crate::kernels::ntk::MemorySink;
use crate::kernels::rntk::{compute_rntk_gram, RntkConfig, SequenceInputs};

/// Settings of [`run_mask`].
#[derive(Debug, Clone, Serialize)]
pub struct MaskConfig {
    /// The recurrent network whose NTK compares the sequences.
    pub rntk: RntkConfig,
    /// Ridge added to the centred RNTK before kernel PCA.
    pub kpca_ridge: f64,
    /// Kernel-induced distance fed to t-SNE.
    pub distance: KernelDistance,
    /// t-SNE settings, shared by both t-SNE embeddings.
    pub tsne: TsneConfig,
    /// Neighbours of the k-NN accuracy.
    pub knn_neighbors: usize,
    /// Neighbours of the trustworthiness.
    pub trustworthiness_neighbors: usize,
}

impl Default for MaskConfig {
    /// Returns the study's setting: one ReLU layer with sw^2 = 2, su = 1,
    /// sb = 0.1, sh = 0, kernel PCA ridge 0.1 and the cosine distance.
    fn default() -> Self {
        Self {
            rntk: RntkConfig::default(),
            kpca_ridge: 0.1,
            distance: KernelDistance::Cosine,
            tsne: TsneConfig::default(),
            knn_neighbors: 5,
            trustworthiness_neighbors: 5,
        }
    }
}

/// One scored 2-D embedding.
#[derive(Debug, Clone, Serialize)]
pub struct Embedding {
    /// `pca`, `rntk_pca`, `tsne` or `rntk_tsne`.
    pub name: String,
    /// Row-major n x 2 coordinates.
    pub coordinates: Vec<f64>,
    /// Leave-one-out k-NN accuracy of the labels in the embedding.
    pub knn_accuracy: f64,
    /// Mean silhouette coefficient of the labels.
    pub silhouette: f64,
    /// Trustworthiness with respect to the method's input distances.
    pub trustworthiness: f64,
    /// Final KL divergence for t-SNE embeddings.
    pub kl_divergence: Option<f64>,
}

/// Output of [`run_mask`].
#[derive(Debug, Clone, Serialize)]
pub struct MaskResult {
    /// The four embeddings: pca, rntk_pca, tsne, rntk_tsne.
    pub embeddings: Vec<Embedding>,
    /// The RNTK Gram matrix (n x n, row-major).
    #[serde(skip)]
    pub rntk_gram: Vec<f32>,
    /// Seconds for the RNTK Gram matrix.
    pub gram_seconds: f64,
    /// Seconds for everything.
    pub total_seconds: f64,
}

fn to_f32(values: &[f64]) -> Vec<f32> {
    values.iter().map(|&v| v as f32).collect()
}

fn score(
    name: &str,
    coordinates: Vec<f64>,
    distances: &DistanceMatrix,
    labels: &[u32],
    config: &MaskConfig,
    kl: Option<f64>,
) -> Result<Embedding> {
    let points = to_f32(&coordinates);
    Ok(Embedding {
        name: name.to_string(),
        knn_accuracy: knn_accuracy(&points, 2, labels, config.knn_neighbors)?,
        silhouette: silhouette_score(&points, 2, labels)?,
        trustworthiness: trustworthiness(distances, &points, 2, config.trustworthiness_neighbors)?,
        kl_divergence: kl,
        coordinates,
    })
}

/// Euclidean distances between the rows of an n x d matrix.
fn euclidean_distances(values: &[f32], n: usize, dimension: usize) -> Result<DistanceMatrix> {
    let mut distances = vec![0.0f32; n * n];
    for i in 0..n {
        for j in i + 1..n {
            let squared: f64 = (0..dimension)
                .map(|f| f64::from(values[i * dimension + f] - values[j * dimension + f]).powi(2))
                .sum();
            let distance = squared.sqrt() as f32;
            distances[i * n + j] = distance;
            distances[j * n + i] = distance;
        }
    }
    DistanceMatrix::new(distances, n)
}

/// Computes and scores the four embeddings of `set`. `progress` receives a
/// short description of each stage as it starts.
pub fn run_mask(
    gpu: &Gpu,
    config: &MaskConfig,
    set: &SequenceSet,
    progress: &mut dyn FnMut(&str),
) -> Result<MaskResult> {
    let started = Instant::now();
    let n = set.n_sequences();
    let labels = set.labels();
    let kpca = KernelPcaOptions {
        n_components: 2,
        ridge: config.kpca_ridge,
        ..KernelPcaOptions::default()
    };

    progress("RNTK Gram matrix");
    let mut offsets = vec![0usize];
    for &length in set.lengths() {
        offsets.push(offsets.last().copied().unwrap_or(0) + length);
    }
    let inputs = SequenceInputs::new(set.values(), &offsets, set.n_channels(), set.name())?;
    let mut sink = MemorySink::new(2, n, n);
    compute_rntk_gram(
        gpu,
        &config.rntk,
        &inputs,
        None,
        None,
        &mut sink,
        &mut |_, _| {},
    )?;
    let gram = sink.components.swap_remove(1);
    let gram_seconds = started.elapsed().as_secs_f64();
    let kernel_distance = kernel_distances(&gram, n, config.distance)?;

    progress("kernel PCA of the RNTK");
    let rntk_pca = KernelPca::fit(gpu, &gram, n, &kpca)?;
    progress("t-SNE of the RNTK distances");
    let rntk_tsne = tsne(gpu, &kernel_distance, &config.tsne, &mut |_, _| {})?;

    progress("baselines on zero-padded sequences");
    let padded = set.pad_zeros();
    let width = set.max_length() * set.n_channels();
    let euclidean = euclidean_distances(&padded, n, width)?;
    let linear = linear_kernel(gpu, &padded, n, width)?;
    let pca = KernelPca::fit(gpu, &linear, n, &KernelPcaOptions { ridge: 0.0, ..kpca })?;
    let padded_tsne = tsne(gpu, &euclidean, &config.tsne, &mut |_, _| {})?;

    progress("scores");
    let widen = |values: &[f32]| values.iter().map(|&v| f64::from(v)).collect::<Vec<f64>>();
    let embeddings = vec![
        score("pca", pca.projections, &euclidean, labels, config, None)?,
        score(
            "rntk_pca",
            rntk_pca.projections,
            &kernel_distance,
            labels,
            config,
            None,
        )?,
        score(
            "tsne",
            widen(&padded_tsne.embedding),
            &euclidean,
            labels,
            config,
            Some(padded_tsne.kl_divergence),
        )?,
        score(
            "rntk_tsne",
            widen(&rntk_tsne.embedding),
            &kernel_distance,
            labels,
            config,
            Some(rntk_tsne.kl_divergence),
        )?,
    ];
    Ok(MaskResult {
        embeddings,
        rntk_gram: gram,
        gram_seconds,
        total_seconds: started.elapsed().as_secs_f64(),
    })
}
