//! Gaussian mixture fitted by expectation-maximisation (Dempster, Laird and
//! Rubin, 1977) with k-means++ initialisation (Arthur and Vassilvitskii,
//! 2007) and a covariance floor, as scikit-learn's `GaussianMixture` does.
//!
//! Each EM iteration runs the E-step (responsibilities and log-likelihood,
//! `shaders/gmm.wgsl`) and the M-step's sums on the GPU: component weights as
//! row sums of the responsibilities, weighted means as one GEMM, and each
//! component's covariance as a GEMM of its centred, weighted points. The
//! K small Cholesky factorisations run on the host in float64.

use bytemuck::{Pod, Zeroable};
use nalgebra::DMatrix;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::generative::gaussian::record_samples;
use crate::generative::{check_lambda, check_points, Gaussian, GenerativeModel};
use crate::gpu::{grid_1d, Gpu};
use crate::ops::{self, BinaryOp, Broadcast, GemmSpec, Matrix, Reduction};
use crate::random::PhiloxStream;
use crate::shaders;

/// Settings of [`GaussianMixture`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct GmmOptions {
    /// Number of components K.
    pub components: usize,
    /// EM iteration cap.
    pub max_iterations: usize,
    /// Stop when the mean log-likelihood per point improves by less than this.
    pub tolerance: f64,
    /// Added to every covariance's diagonal (scikit-learn's `reg_covar`).
    pub covariance_floor: f64,
    /// Seed of the k-means++ initialisation.
    pub seed: u64,
}

impl Default for GmmOptions {
    fn default() -> Self {
        Self {
            components: 25,
            max_iterations: 200,
            tolerance: 1e-5,
            covariance_floor: 1e-6,
            seed: 0,
        }
    }
}

/// A fitted Gaussian mixture.
#[derive(Debug, Clone, Serialize)]
pub struct GaussianMixture {
    /// Fitting settings.
    pub options: GmmOptions,
    /// Mixing weights, summing to 1.
    pub weights: Vec<f64>,
    /// The components.
    pub components: Vec<Gaussian>,
    /// Mean log-likelihood per training point after each EM iteration.
    pub log_likelihood_history: Vec<f64>,
    /// Whether the tolerance was met before the iteration cap.
    pub converged: bool,
}

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct GmmParams {
    points: u32,
    dimension: u32,
    components: u32,
    padding: u32,
}

impl GaussianMixture {
    /// Creates an unfitted mixture with these settings.
    pub fn new(options: GmmOptions) -> Self {
        Self {
            options,
            weights: Vec::new(),
            components: Vec::new(),
            log_likelihood_history: Vec::new(),
            converged: false,
        }
    }

    /// Final mean log-likelihood per training point.
    pub fn log_likelihood(&self) -> Option<f64> {
        self.log_likelihood_history.last().copied()
    }

    /// Mean log-likelihood per point of `points` under the fitted mixture
    /// (the E-step on the GPU).
    pub fn mean_log_likelihood(&self, gpu: &Gpu, points: &[f32]) -> Result<f64> {
        let dim =
            self.components
                .first()
                .map(Gaussian::dim)
                .ok_or_else(|| Error::InvalidArgument {
                    name: "mixture",
                    value: "unfitted".into(),
                    expected: "a fitted mixture; call fit first".into(),
                })?;
        let n = check_points(points, dim, 1, "points")?;
        let matrix = Matrix::upload(gpu, points, n, dim, "gmm points")?;
        Ok(self.expect(gpu, &matrix)?.1)
    }
}

/// k-means++ seeding: the first centre uniformly, each next one with
/// probability proportional to the squared distance to the nearest centre.
fn kmeans_plus_plus(points: &[f32], dim: usize, k: usize, seed: u64) -> Vec<usize> {
    let n = points.len() / dim;
    let draws = PhiloxStream::new(seed, 0x4B4D_5050).uniform(0, k);
    let distance = |a: usize, b: usize| -> f64 {
        (0..dim)
            .map(|f| f64::from(points[a * dim + f] - points[b * dim + f]).powi(2))
            .sum()
    };
    let mut centres = vec![((f64::from(draws[0]) * n as f64) as usize).min(n - 1)];
    let mut nearest: Vec<f64> = (0..n).map(|i| distance(i, centres[0])).collect();
    for draw in draws.iter().skip(1) {
        let total: f64 = nearest.iter().sum();
        let target = f64::from(*draw) * total;
        let mut cumulative = 0.0;
        let mut chosen = n - 1;
        for (i, d) in nearest.iter().enumerate() {
            cumulative += d;
            if cumulative >= target {
                chosen = i;
                break;
            }
        }
        centres.push(chosen);
        for (i, value) in nearest.iter_mut().enumerate() {
            *value = value.min(distance(i, chosen));
        }
    }
    centres
}

/// Hard responsibilities (K x n) assigning each point to its nearest centre.
fn nearest_centre_responsibilities(points: &[f32], dim: usize, centres: &[usize]) -> Vec<f32> {
    let n = points.len() / dim;
    let mut responsibilities = vec![0.0f32; centres.len() * n];
    for i in 0..n {
        let distance = |c: usize| -> f64 {
            (0..dim)
                .map(|f| f64::from(points[i * dim + f] - points[c * dim + f]).powi(2))
                .sum()
        };
        let best = (0..centres.len())
            .min_by(|&a, &b| distance(centres[a]).total_cmp(&distance(centres[b])))
            .unwrap_or(0);
        responsibilities[best * n + i] = 1.0;
    }
    responsibilities
}

/// Inverse Cholesky factor (row-major) and log det of the factor.
fn inverse_factor(covariance: &[f64], dim: usize, component: usize) -> Result<(Vec<f64>, f64)> {
    let cholesky = DMatrix::from_row_slice(dim, dim, covariance)
        .cholesky()
        .ok_or_else(|| Error::InvalidArgument {
            name: "covariance",
            value: format!("component {component} is not positive definite"),
            expected: "a larger covariance floor or fewer components".to_string(),
        })?;
    let l = cholesky.l();
    let log_det: f64 = (0..dim).map(|i| l[(i, i)].ln()).sum();
    let inverse = l
        .try_inverse()
        .expect("a Cholesky factor with a positive diagonal is invertible");
    Ok((
        (0..dim * dim)
            .map(|k| inverse[(k / dim, k % dim)])
            .collect(),
        log_det,
    ))
}

impl GaussianMixture {
    /// M-step from responsibilities (K x n, on the GPU): weights, means and
    /// floored covariances.
    fn maximise(&mut self, gpu: &Gpu, points: &Matrix, responsibilities: &Matrix) -> Result<()> {
        let (n, dim, k) = (points.rows(), points.columns(), responsibilities.rows());
        let mut recorder = gpu.recorder("gmm m-step sums");
        let counts = ops::reduce_rows(&mut recorder, responsibilities, Reduction::Sum)?;
        let sums = ops::matmul(&mut recorder, responsibilities, points)?;
        recorder.submit()?;
        let counts: Vec<f64> = gpu.read(&counts)?.into_iter().map(f64::from).collect();
        let sums = sums.read(gpu)?;
        // An empty component keeps a tiny weight so that its parameters stay defined.
        let counts: Vec<f64> = counts.iter().map(|&c| c.max(1e-10)).collect();
        let means: Vec<Vec<f64>> = (0..k)
            .map(|c| {
                (0..dim)
                    .map(|f| f64::from(sums[c * dim + f]) / counts[c])
                    .collect()
            })
            .collect();

        let mut recorder = gpu.recorder("gmm m-step covariances");
        let mut moments = Vec::with_capacity(k);
        for (c, mean) in means.iter().enumerate() {
            let mean_f32: Vec<f32> = mean.iter().map(|&v| v as f32).collect();
            let mean_buffer = gpu.upload(&mean_f32, "gmm mean")?;
            let centred = ops::map_binary(
                &mut recorder,
                points.buffer(),
                &mean_buffer,
                BinaryOp::Subtract,
                Broadcast::Row { columns: dim },
            )?;
            let weights = gpu.create_buffer::<f32>(n, "gmm component responsibilities")?;
            recorder.copy(responsibilities.buffer(), c * n, &weights, 0, n)?;
            let weighted = ops::map_binary(
                &mut recorder,
                &centred,
                &weights,
                BinaryOp::Multiply,
                Broadcast::Column { columns: dim },
            )?;
            let moment = Matrix::zeros(gpu, dim, dim, "gmm second moment")?;
            let (weighted, centred) = (
                Matrix::from_buffer(weighted, n, dim)?,
                Matrix::from_buffer(centred, n, dim)?,
            );
            ops::gemm(
                &mut recorder,
                &weighted,
                &centred,
                &moment,
                GemmSpec {
                    transpose_a: true,
                    ..GemmSpec::default()
                },
            )?;
            moments.push(moment);
        }
        recorder.submit()?;

        let total: f64 = counts.iter().sum();
        self.weights = counts.iter().map(|c| c / total).collect();
        self.components = Vec::with_capacity(k);
        for (c, moment) in moments.iter().enumerate() {
            let values = moment.read(gpu)?;
            let mut covariance: Vec<f64> =
                values.iter().map(|&v| f64::from(v) / counts[c]).collect();
            for i in 0..dim {
                covariance[i * dim + i] += self.options.covariance_floor;
            }
            // Symmetrise away the f32 rounding of the product.
            for i in 0..dim {
                for j in 0..i {
                    let average = 0.5 * (covariance[i * dim + j] + covariance[j * dim + i]);
                    covariance[i * dim + j] = average;
                    covariance[j * dim + i] = average;
                }
            }
            self.components
                .push(Gaussian::new(means[c].clone(), covariance)?);
        }
        Ok(())
    }

    /// E-step on the GPU; returns responsibilities (K x n) and the mean log-likelihood.
    fn expect(&self, gpu: &Gpu, points: &Matrix) -> Result<(Matrix, f64)> {
        let (n, dim, k) = (points.rows(), points.columns(), self.components.len());
        let mut means = Vec::with_capacity(k * dim);
        let mut factors = Vec::with_capacity(k * dim * dim);
        let mut constants = Vec::with_capacity(k);
        for (c, component) in self.components.iter().enumerate() {
            let (inverse, log_det) = inverse_factor(&component.covariance, dim, c)?;
            means.extend(component.mean.iter().map(|&v| v as f32));
            factors.extend(inverse.iter().map(|&v| v as f32));
            let constant = self.weights[c].max(1e-300).ln()
                - log_det
                - 0.5 * dim as f64 * (2.0 * std::f64::consts::PI).ln();
            constants.push(constant as f32);
        }
        let means = gpu.upload(&means, "gmm means")?;
        let factors = gpu.upload(&factors, "gmm inverse factors")?;
        let constants = gpu.upload(&constants, "gmm log constants")?;
        let responsibilities = Matrix::zeros(gpu, k, n, "gmm responsibilities")?;
        let log_likelihood = gpu.create_buffer::<f32>(n, "gmm log-likelihood")?;

        let kernel = gpu.kernel(&shaders::GMM, "gmm_e_step", &[])?;
        let mut recorder = gpu.recorder("gmm e-step");
        let params = recorder.uniform(&GmmParams {
            points: n as u32,
            dimension: dim as u32,
            components: k as u32,
            padding: 0,
        })?;
        let grid = grid_1d(gpu, n, "gmm_e_step")?;
        recorder.dispatch(
            &kernel,
            &[
                (0, points.buffer().raw()),
                (1, means.raw()),
                (2, factors.raw()),
                (3, constants.raw()),
                (4, responsibilities.buffer().raw()),
                (5, log_likelihood.raw()),
                (6, &params),
            ],
            grid,
            "gmm_e_step",
        )?;
        let total = ops::reduce_all(&mut recorder, &log_likelihood, Reduction::Mean)?;
        recorder.submit()?;
        Ok((responsibilities, f64::from(gpu.read(&total)?[0])))
    }

    /// Runs EM from the k-means++ seeding until the tolerance or the cap.
    fn run_em(&mut self, gpu: &Gpu, points_host: &[f32], dim: usize) -> Result<()> {
        let n = points_host.len() / dim;
        let k = self.options.components;
        let points = Matrix::upload(gpu, points_host, n, dim, "gmm points")?;
        let centres = kmeans_plus_plus(points_host, dim, k, self.options.seed);
        let initial = Matrix::upload(
            gpu,
            &nearest_centre_responsibilities(points_host, dim, &centres),
            k,
            n,
            "gmm initial responsibilities",
        )?;
        self.maximise(gpu, &points, &initial)?;
        self.log_likelihood_history.clear();
        self.converged = false;
        for _ in 0..self.options.max_iterations {
            let (responsibilities, log_likelihood) = self.expect(gpu, &points)?;
            let improvement = self
                .log_likelihood_history
                .last()
                .map(|previous| log_likelihood - previous);
            self.log_likelihood_history.push(log_likelihood);
            if improvement.is_some_and(|gain| gain.abs() < self.options.tolerance) {
                self.converged = true;
                break;
            }
            self.maximise(gpu, &points, &responsibilities)?;
        }
        Ok(())
    }
}

impl GenerativeModel for GaussianMixture {
    fn name(&self) -> &'static str {
        "gmm"
    }

    fn fit(&mut self, gpu: &Gpu, points: &[f32], dim: usize) -> Result<()> {
        let n = check_points(points, dim, 2, "training points")?;
        if self.options.components == 0 || self.options.components > n {
            return Err(Error::InvalidArgument {
                name: "components",
                value: self.options.components.to_string(),
                expected: format!("between 1 and the number of training points ({n})"),
            });
        }
        self.run_em(gpu, points, dim)
    }

    /// Draws the component of each point from the weights, then the point
    /// from N(mean_k, lambda covariance_k).
    fn sample(&self, gpu: &Gpu, count: usize, lambda: f64, seed: u64) -> Result<Vec<f32>> {
        check_lambda(lambda)?;
        if self.components.is_empty() {
            return Err(Error::InvalidArgument {
                name: "mixture",
                value: "unfitted".into(),
                expected: "a fitted mixture; call fit first".into(),
            });
        }
        let dim = self.components[0].dim();
        let picks = PhiloxStream::new(seed, 0).uniform(0, count);
        let mut per_component = vec![0usize; self.components.len()];
        for u in picks {
            let mut cumulative = 0.0;
            let mut chosen = self.components.len() - 1;
            for (c, w) in self.weights.iter().enumerate() {
                cumulative += w;
                if f64::from(u) < cumulative {
                    chosen = c;
                    break;
                }
            }
            per_component[chosen] += 1;
        }
        let mut recorder = gpu.recorder("gmm sampling");
        let mut parts = Vec::new();
        for (c, (&share, component)) in per_component.iter().zip(&self.components).enumerate() {
            if share > 0 {
                parts.push(record_samples(
                    &mut recorder,
                    &component.mean,
                    &component.factor,
                    share,
                    lambda,
                    PhiloxStream::new(seed, 1 + c as u64),
                )?);
            }
        }
        recorder.submit()?;
        let mut samples = Vec::with_capacity(count * dim);
        for part in parts {
            samples.extend(part.read(gpu)?);
        }
        Ok(samples)
    }
}
