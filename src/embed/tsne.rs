//! Exact t-SNE on the GPU from a distance matrix (van der Maaten and Hinton,
//! "Visualizing Data using t-SNE", JMLR 2008), with the optimisation schedule
//! of scikit-learn's `TSNE(method="exact")` (1.9.1):
//! - 250 iterations with P multiplied by 12 (early exaggeration) and
//!   momentum 0.5, then the remaining iterations with momentum 0.8. The
//!   momentum term and the gains restart at the switch, because scikit-learn
//!   calls its gradient descent afresh for the second stage;
//! - delta-bar-delta gains (+0.2 or *0.8, at least 0.01);
//! - learning rate "auto": max(n / early_exaggeration / 4, 50);
//! - initial points drawn from N(0, (1e-4)^2) per coordinate.
//!
//! Differences from scikit-learn: every requested iteration runs (scikit-learn
//! also stops after 300 iterations without progress or at a gradient norm
//! below 1e-7), the Student-t kernel has one degree of freedom for any output
//! dimension (scikit-learn uses n_components - 1 degrees of freedom above two
//! dimensions), and the reported KL divergence always uses the plain P
//! (scikit-learn reports KL(12 P || Q) during early exaggeration).

use crate::embed::affinities::{check_perplexity, joint_probabilities};
use crate::embed::{DistanceMatrix, StepParameters, TsneOptimizer};
use crate::error::{Error, Result};
use crate::gpu::Gpu;
use crate::random::PhiloxStream;

/// Philox stream id of the initial embedding.
const INITIAL_EMBEDDING_STREAM: u64 = 0x75_6e_65;
/// Standard deviation of the initial coordinates (scikit-learn's value).
const INITIAL_STANDARD_DEVIATION: f32 = 1e-4;

/// Step size of gradient descent.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub enum LearningRate {
    /// max(n / early_exaggeration / 4, 50), scikit-learn's "auto".
    Auto,
    /// A fixed step size.
    Fixed(f32),
}

/// Settings of [`tsne`]. The defaults are scikit-learn's.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct TsneConfig {
    /// Dimensions of the embedding (default 2).
    pub n_components: usize,
    /// Effective number of neighbours of each point, in (0, n) (default 30).
    pub perplexity: f64,
    /// Whether distances are squared before the Gaussian (default true). True
    /// matches scikit-learn's and openTSNE's handling of precomputed
    /// distances, and gives a Gaussian in the distance itself. Set it to
    /// false when the matrix contains squared distances already.
    pub square_distances: bool,
    /// Factor on P during the first iterations (default 12).
    pub early_exaggeration: f32,
    /// Iterations with early exaggeration and the initial momentum (default 250).
    pub exaggeration_iterations: usize,
    /// Step size (default [`LearningRate::Auto`]).
    pub learning_rate: LearningRate,
    /// Momentum during early exaggeration (default 0.5).
    pub initial_momentum: f32,
    /// Momentum afterwards (default 0.8).
    pub final_momentum: f32,
    /// Floor of the per-coordinate gains (default 0.01).
    pub min_gain: f32,
    /// Total iterations, early exaggeration included (default 1000).
    pub n_iter: usize,
    /// Seed of the initial embedding (default 0).
    pub seed: u64,
    /// Iterations per GPU submission and per progress report (default 50).
    pub report_every: usize,
    /// Whether each progress report carries the KL divergence (default true).
    /// It is computed on the host in float64 at O(n^2) cost per report.
    pub report_kl: bool,
}

impl Default for TsneConfig {
    fn default() -> Self {
        Self {
            n_components: 2,
            perplexity: 30.0,
            square_distances: true,
            early_exaggeration: 12.0,
            exaggeration_iterations: 250,
            learning_rate: LearningRate::Auto,
            initial_momentum: 0.5,
            final_momentum: 0.8,
            min_gain: 0.01,
            n_iter: 1000,
            seed: 0,
            report_every: 50,
            report_kl: true,
        }
    }
}

impl TsneConfig {
    /// Checks every field against the number of points `n`.
    pub fn validate(&self, n: usize) -> Result<()> {
        if n < 2 {
            return Err(invalid("number of points", n, "at least 2"));
        }
        if self.n_components == 0 {
            return Err(invalid("n_components", self.n_components, "at least 1"));
        }
        check_perplexity(self.perplexity, n)?;
        if !(self.early_exaggeration.is_finite() && self.early_exaggeration >= 1.0) {
            return Err(invalid(
                "early_exaggeration",
                self.early_exaggeration,
                "a finite number >= 1",
            ));
        }
        if let LearningRate::Fixed(rate) = self.learning_rate {
            if !(rate.is_finite() && rate > 0.0) {
                return Err(invalid("learning_rate", rate, "a finite number > 0"));
            }
        }
        for (name, momentum) in [
            ("initial_momentum", self.initial_momentum),
            ("final_momentum", self.final_momentum),
        ] {
            if !(0.0..1.0).contains(&momentum) {
                return Err(invalid(name, momentum, "a number in [0, 1)"));
            }
        }
        if !(self.min_gain.is_finite() && self.min_gain > 0.0) {
            return Err(invalid("min_gain", self.min_gain, "a finite number > 0"));
        }
        if self.n_iter == 0 {
            return Err(invalid("n_iter", self.n_iter, "at least 1"));
        }
        if self.report_every == 0 {
            return Err(invalid("report_every", self.report_every, "at least 1"));
        }
        Ok(())
    }

    /// Returns the step size for `n` points.
    pub fn learning_rate_for(&self, n: usize) -> f32 {
        match self.learning_rate {
            LearningRate::Auto => (n as f32 / self.early_exaggeration / 4.0).max(50.0),
            LearningRate::Fixed(rate) => rate,
        }
    }
}

fn invalid(name: &'static str, value: impl ToString, expected: &str) -> Error {
    Error::InvalidArgument {
        name,
        value: value.to_string(),
        expected: expected.to_string(),
    }
}

/// Outcome of [`tsne`].
#[derive(Debug, Clone)]
pub struct TsneResult {
    /// Row-major n x n_components coordinates.
    pub embedding: Vec<f32>,
    /// Number of points.
    pub n: usize,
    /// Coordinates per point.
    pub n_components: usize,
    /// KL(P || Q) of the final embedding, in nats, computed exactly in float64.
    pub kl_divergence: f64,
    /// Iterations run.
    pub iterations: usize,
    /// Step size used.
    pub learning_rate: f32,
}

/// Embeds the points behind `distances` with exact t-SNE on the GPU.
///
/// `progress(iterations_done, kl)` runs after every `config.report_every`
/// iterations and after the last one; `kl` is KL(P || Q) when
/// `config.report_kl` is set.
pub fn tsne(
    gpu: &Gpu,
    distances: &DistanceMatrix,
    config: &TsneConfig,
    progress: &mut dyn FnMut(usize, Option<f64>),
) -> Result<TsneResult> {
    let n = distances.n();
    config.validate(n)?;
    let dimensions = config.n_components;
    let probabilities = joint_probabilities(distances, config.perplexity, config.square_distances)?;
    let probabilities_f32: Vec<f32> = probabilities.iter().map(|&p| p as f32).collect();
    let optimizer = TsneOptimizer::new(
        gpu,
        &probabilities_f32,
        &initial_embedding(n, dimensions, config.seed),
        n,
        dimensions,
    )?;
    drop(probabilities_f32);

    let learning_rate = config.learning_rate_for(n);
    run_schedule(
        gpu,
        &optimizer,
        &probabilities,
        config,
        learning_rate,
        progress,
    )?;

    let embedding = optimizer.embedding()?;
    let kl_divergence = kl_divergence(&probabilities, &embedding, n, dimensions)?;
    Ok(TsneResult {
        embedding,
        n,
        n_components: dimensions,
        kl_divergence,
        iterations: config.n_iter,
        learning_rate,
    })
}

/// Runs the two stages of gradient descent (early exaggeration, then the
/// plain objective) in submissions of `config.report_every` iterations and
/// reports progress after each.
fn run_schedule(
    gpu: &Gpu,
    optimizer: &TsneOptimizer,
    probabilities: &[f64],
    config: &TsneConfig,
    learning_rate: f32,
    progress: &mut dyn FnMut(usize, Option<f64>),
) -> Result<()> {
    let (n, dimensions) = (optimizer.n(), optimizer.dimensions());
    let exaggeration_end = config.exaggeration_iterations.min(config.n_iter);
    let early = optimizer.step_uniform(&StepParameters {
        exaggeration: config.early_exaggeration,
        momentum: config.initial_momentum,
        learning_rate,
        min_gain: config.min_gain,
    })?;
    let late = optimizer.step_uniform(&StepParameters {
        exaggeration: 1.0,
        momentum: config.final_momentum,
        learning_rate,
        min_gain: config.min_gain,
    })?;

    let mut done = 0;
    while done < config.n_iter {
        let in_early_stage = done < exaggeration_end;
        let stage_end = if in_early_stage {
            exaggeration_end
        } else {
            config.n_iter
        };
        let batch_end = stage_end.min((done / config.report_every + 1) * config.report_every);
        let mut recorder = gpu.recorder("t-SNE iterations");
        for _ in done..batch_end {
            optimizer.record_step(&mut recorder, if in_early_stage { &early } else { &late })?;
        }
        recorder.submit()?;
        done = batch_end;

        if done == exaggeration_end && done < config.n_iter {
            optimizer.reset_momentum_and_gains()?;
        }
        if done % config.report_every == 0 || done == config.n_iter {
            let kl = if config.report_kl {
                Some(kl_divergence(
                    probabilities,
                    &optimizer.embedding()?,
                    n,
                    dimensions,
                )?)
            } else {
                None
            };
            progress(done, kl);
        }
    }
    Ok(())
}

/// Draws the initial embedding (row-major n x dimensions): 1e-4 times
/// standard normal values from a Philox stream.
pub fn initial_embedding(n: usize, dimensions: usize, seed: u64) -> Vec<f32> {
    PhiloxStream::new(seed, INITIAL_EMBEDDING_STREAM)
        .normal(0, n * dimensions)
        .into_iter()
        .map(|value| INITIAL_STANDARD_DEVIATION * value)
        .collect()
}

/// Computes KL(P || Q) in nats, in float64, for joint probabilities P
/// (row-major n x n) and the Student-t similarities Q of `embedding`
/// (row-major n x dimensions): sum over i != j of p_ij ln(p_ij / q_ij) with
/// q_ij = w_ij / sum_{k != l} w_kl and w_ij = 1 / (1 + |y_i - y_j|^2).
///
/// As in scikit-learn, p and q are floored at f64 machine epsilon inside the
/// logarithm. Errors when the slices do not have n x n and n x dimensions
/// values.
pub fn kl_divergence(
    probabilities: &[f64],
    embedding: &[f32],
    n: usize,
    dimensions: usize,
) -> Result<f64> {
    if probabilities.len() != n * n || embedding.len() != n * dimensions {
        return Err(Error::ShapeMismatch {
            operation: "KL divergence",
            message: format!(
                "{} probabilities and {} coordinates do not fit {n} points of {dimensions} dimensions \
                 (expected {} and {})",
                probabilities.len(),
                embedding.len(),
                n * n,
                n * dimensions
            ),
        });
    }
    let kernel = |i: usize, j: usize| {
        let (a, b) = (
            &embedding[i * dimensions..(i + 1) * dimensions],
            &embedding[j * dimensions..(j + 1) * dimensions],
        );
        let distance2: f64 = a
            .iter()
            .zip(b)
            .map(|(&x, &y)| (f64::from(x) - f64::from(y)).powi(2))
            .sum();
        1.0 / (1.0 + distance2)
    };
    let mut normaliser = 0.0;
    for i in 0..n {
        for j in (0..n).filter(|&j| j != i) {
            normaliser += kernel(i, j);
        }
    }
    let mut divergence = 0.0;
    for i in 0..n {
        for j in (0..n).filter(|&j| j != i) {
            let p = probabilities[i * n + j];
            let q = (kernel(i, j) / normaliser).max(f64::EPSILON);
            divergence += p * (p.max(f64::EPSILON) / q).ln();
        }
    }
    Ok(divergence)
}
