//! MAD with a conditional DDPM on MNIST: self-consuming loops of diffusion
//! models, scored every generation by features of a digit classifier.
//!
//! Protocol ("Self-Consuming Generative Models Go MAD", ICLR 2024, MNIST
//! experiment, with this crate's residual-MLP denoiser in place of the
//! original U-Net):
//!
//! 1. A feature network (a small MLP classifier) is trained on the real
//!    pool; its penultimate layer gives 784 -> F features, and its accuracy
//!    on the held-out real images is reported.
//! 2. For every lambda, generation 1 trains a fresh denoiser on real images;
//!    generation g > 1 trains a fresh denoiser on the previous generation's
//!    samples (fully synthetic), on a fixed real set plus those samples or
//!    all earlier samples (augmentation), or on a new real draw plus those
//!    samples (fresh data).
//! 3. Each generation draws max(n_synthetic, metric_samples) images with
//!    equal class shares by guided sampling with w = 1 / lambda - 1, writes
//!    a sample grid, and scores its first `metric_samples` images against
//!    `reference_samples` held-out real images: the Fréchet distance of the
//!    feature Gaussians (FID with this feature network), k-NN precision,
//!    recall, density and coverage, and the classifier's accuracy on the
//!    samples' conditioning labels.
//!
//! Every draw of generation g comes from Philox streams keyed by the seed,
//! g and the draw's purpose, not by lambda. So generation 1 is the same for
//! every lambda (it is trained once and copied), and a stopped study resumes
//! from its last finished generation with the same results as an
//! uninterrupted run on the same adapter.

mod checkpoint;
mod config;
mod outputs;

use std::path::Path;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::data::{load_mnist_bundled, load_mnist_idx, MnistSplit, PixelScale, MNIST_PIXELS};
use crate::error::{Error, Result};
use crate::generative::ddpm::{
    balanced_labels, guidance_from_lambda, permutation, sample_images, train_denoiser,
    write_sample_grid, Denoiser, FeatureNetwork, NoiseSchedule, SamplingConfig,
};
use crate::generative::{LoopFamily, SyntheticSource};
use crate::gpu::Gpu;
use crate::metrics::{frechet_distance, gaussian_statistics, prdc, GaussianStatistics};
use crate::random::PhiloxStream;

use checkpoint::{
    generation_directory, is_finished, lambda_directory, load_metrics, load_samples,
    prepare_directory, save_generation, GenerationFiles, GenerationState,
};
pub use config::{DdpmStudyConfig, MnistSource, StudyTraining};

/// Share of the bundled subset held out for the metrics and the
/// classifier's test accuracy.
pub const BUNDLED_HELD_OUT: f64 = 0.2;

/// Scores of one generation of one lambda's loop.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DdpmGenerationMetrics {
    /// Sampling bias.
    pub lambda: f64,
    /// Guidance weight w = 1 / lambda - 1.
    pub guidance: f64,
    /// Generation, from 1.
    pub generation: usize,
    /// Images the denoiser trained on.
    pub training_images: usize,
    /// Mean loss of the last 16 training steps.
    pub final_loss: f32,
    /// Fréchet distance between the feature Gaussians of the held-out real
    /// images and the samples.
    pub fid: f64,
    /// k-NN precision.
    pub precision: f64,
    /// k-NN recall.
    pub recall: f64,
    /// Density (Naeem et al., 2020).
    pub density: f64,
    /// Coverage (Naeem et al., 2020).
    pub coverage: f64,
    /// Share of samples the feature network assigns to their conditioning
    /// label.
    pub sample_accuracy: f64,
    /// Wall-clock seconds of the generation (training, sampling, scoring).
    pub seconds: f64,
}

/// Output of [`run`] and [`resume`].
#[derive(Debug, Clone, Serialize)]
pub struct DdpmStudySummary {
    /// Test accuracy of the feature network on the held-out real images.
    pub classifier_accuracy: f64,
    /// One row per lambda and generation, lambdas in the configured order.
    pub rows: Vec<DdpmGenerationMetrics>,
    /// Generations read from checkpoints instead of computed.
    pub resumed_generations: usize,
    /// Wall-clock seconds of this call.
    pub seconds: f64,
}

/// Progress events of a study.
#[derive(Debug, Clone)]
pub enum DdpmProgress<'a> {
    /// A feature-network epoch finished.
    Classifier {
        /// Epoch, from 1.
        epoch: usize,
        /// Epochs in total.
        epochs: usize,
        /// Mean training loss of the epoch.
        loss: f32,
    },
    /// The feature network is ready (trained or loaded).
    ClassifierReady {
        /// Accuracy on the held-out real images.
        accuracy: f64,
    },
    /// A loop continues after its finished generations.
    Resumed {
        /// Sampling bias of the loop.
        lambda: f64,
        /// Generations read from checkpoints.
        generations: usize,
    },
    /// Denoiser training advanced.
    Training {
        /// Sampling bias of the loop.
        lambda: f64,
        /// Generation being trained.
        generation: usize,
        /// Steps done.
        step: usize,
        /// Steps in total.
        steps: usize,
        /// Mean loss of the last steps.
        loss: f32,
    },
    /// Sampling started.
    Sampling {
        /// Sampling bias of the loop.
        lambda: f64,
        /// Generation being sampled.
        generation: usize,
        /// Images to draw.
        images: usize,
    },
    /// A generation finished and was saved.
    Generation(&'a DdpmGenerationMetrics),
}

/// Runs a new study into `out` (which must not hold one yet), writing a
/// checkpoint per generation, `metrics.csv`, `summary.json` and the figures.
pub fn run(
    gpu: &Gpu,
    config: &DdpmStudyConfig,
    out: &Path,
    progress: &mut dyn FnMut(&DdpmProgress),
) -> Result<DdpmStudySummary> {
    run_study(gpu, config, out, false, progress)
}

/// Continues the study in `out` from its last finished generation (or
/// starts it when `out` contains none). The settings must equal the stored
/// ones except for the number of generations.
pub fn resume(
    gpu: &Gpu,
    config: &DdpmStudyConfig,
    out: &Path,
    progress: &mut dyn FnMut(&DdpmProgress),
) -> Result<DdpmStudySummary> {
    run_study(gpu, config, out, true, progress)
}

/// Derives the seed of the draws of `purpose` in `generation` (0 for
/// study-wide draws).
fn derived_seed(seed: u64, generation: usize, purpose: u64) -> u64 {
    let words = PhiloxStream::new(seed, 0x6d61_6464).block(((generation as u64) << 8) | purpose);
    u64::from(words[0]) | (u64::from(words[1]) << 32)
}

const REAL_DRAW: u64 = 1;
const DENOISER_INIT: u64 = 2;
const TRAINING: u64 = 3;
const SAMPLING: u64 = 4;
const CLASSIFIER: u64 = 5;
const REFERENCE: u64 = 6;

/// Images with labels, row-major.
#[derive(Debug, Clone, Default)]
struct LabelledImages {
    images: Vec<f32>,
    labels: Vec<u32>,
}

impl LabelledImages {
    fn len(&self) -> usize {
        self.labels.len()
    }

    fn select(&self, indices: &[usize]) -> Self {
        let mut selected = Self::default();
        for &index in indices {
            selected
                .images
                .extend_from_slice(&self.images[index * MNIST_PIXELS..(index + 1) * MNIST_PIXELS]);
            selected.labels.push(self.labels[index]);
        }
        selected
    }

    fn prefix(&self, count: usize) -> Self {
        Self {
            images: self.images[..count * MNIST_PIXELS].to_vec(),
            labels: self.labels[..count].to_vec(),
        }
    }

    fn extend(&mut self, other: &Self) {
        self.images.extend_from_slice(&other.images);
        self.labels.extend_from_slice(&other.labels);
    }
}

/// The real pool and the held-out images.
struct RealData {
    pool: LabelledImages,
    held_out: LabelledImages,
}

fn load_real(source: &MnistSource) -> Result<RealData> {
    let (pool, held_out) = match source {
        MnistSource::Bundled => {
            load_mnist_bundled(PixelScale::UnitInterval)?.train_test_split(BUNDLED_HELD_OUT, 0)?
        }
        MnistSource::Idx(dir) => (
            load_mnist_idx(dir, MnistSplit::Train, PixelScale::UnitInterval)?,
            load_mnist_idx(dir, MnistSplit::Test, PixelScale::UnitInterval)?,
        ),
    };
    if pool.n_features() != MNIST_PIXELS || held_out.n_features() != MNIST_PIXELS {
        return Err(Error::Dataset {
            origin: pool.name().to_string(),
            message: format!(
                "the images have {} pixels, but the DDPM study needs 28 x 28 = 784",
                pool.n_features()
            ),
        });
    }
    let convert = |dataset: crate::data::Dataset| {
        let (images, labels, _) = dataset.into_parts();
        LabelledImages { images, labels }
    };
    Ok(RealData {
        pool: convert(pool),
        held_out: convert(held_out),
    })
}

fn check_sizes(config: &DdpmStudyConfig, real: &RealData) -> Result<()> {
    let pool = real.pool.len();
    let mut needs = vec![("first generation's real images", config.first_real())];
    if matches!(config.family, LoopFamily::Fresh) {
        needs.push(("real images per generation", config.n_real));
    }
    for (name, count) in needs {
        if count > pool {
            return Err(Error::InvalidArgument {
                name,
                value: count.to_string(),
                expected: format!("at most the {pool} images of the real pool"),
            });
        }
    }
    if config.reference_samples > real.held_out.len() {
        return Err(Error::InvalidArgument {
            name: "reference samples",
            value: config.reference_samples.to_string(),
            expected: format!("at most the {} held-out real images", real.held_out.len()),
        });
    }
    Ok(())
}

/// Study-wide state shared by every lambda's loop.
struct Study<'a> {
    gpu: &'a Gpu,
    config: &'a DdpmStudyConfig,
    out: &'a Path,
    real: RealData,
    schedule: NoiseSchedule,
    classifier: FeatureNetwork,
    reference_features: Vec<f32>,
    reference_statistics: GaussianStatistics,
}

fn run_study(
    gpu: &Gpu,
    config: &DdpmStudyConfig,
    out: &Path,
    resume: bool,
    progress: &mut dyn FnMut(&DdpmProgress),
) -> Result<DdpmStudySummary> {
    let started = Instant::now();
    config.validate()?;
    let real = load_real(&config.dataset)?;
    check_sizes(config, &real)?;
    prepare_directory(out, config, resume)?;

    let (classifier, classifier_accuracy) = feature_network(gpu, config, out, &real, progress)?;
    progress(&DdpmProgress::ClassifierReady {
        accuracy: classifier_accuracy,
    });
    let order = permutation(
        real.held_out.len(),
        PhiloxStream::new(derived_seed(config.seed, 0, REFERENCE), 0),
    );
    let reference = real.held_out.select(&order[..config.reference_samples]);
    let reference_features = classifier.features(gpu, &reference.images)?;
    let reference_statistics =
        gaussian_statistics(gpu, &reference_features, classifier.feature_dim())?;
    let study = Study {
        gpu,
        config,
        out,
        schedule: NoiseSchedule::new(config.schedule, config.diffusion_steps)?,
        real,
        classifier,
        reference_features,
        reference_statistics,
    };

    let mut rows = Vec::new();
    let mut resumed_generations = 0;
    for (index, &lambda) in config.lambdas.iter().enumerate() {
        resumed_generations += study.run_loop(index, lambda, resume, &mut rows, progress)?;
    }
    let summary = DdpmStudySummary {
        classifier_accuracy,
        rows,
        resumed_generations,
        seconds: started.elapsed().as_secs_f64(),
    };
    outputs::write_outputs(out, config, gpu, &summary)?;
    Ok(summary)
}

/// Trains the feature network on the real pool (or loads it when resuming
/// a study that already trained it) and measures its held-out accuracy.
fn feature_network(
    gpu: &Gpu,
    config: &DdpmStudyConfig,
    out: &Path,
    real: &RealData,
    progress: &mut dyn FnMut(&DdpmProgress),
) -> Result<(FeatureNetwork, f64)> {
    let directory = out.join("feature_network");
    let marker = out.join("feature_network.json");
    let seed = derived_seed(config.seed, 0, CLASSIFIER);
    let mut network = FeatureNetwork::new(gpu, MNIST_PIXELS, 10, config.classifier, seed)?;
    let trained = !marker.is_file();
    let losses = if trained {
        let epochs = config.classifier.epochs;
        let losses = network.train(
            gpu,
            &real.pool.images,
            &real.pool.labels,
            &mut |epoch, loss| {
                progress(&DdpmProgress::Classifier {
                    epoch,
                    epochs,
                    loss,
                })
            },
        )?;
        network.save(gpu, &directory)?;
        losses
    } else {
        network.load(gpu, &directory)?;
        Vec::new()
    };
    let accuracy = network.accuracy(gpu, &real.held_out.images, &real.held_out.labels)?;
    if trained {
        checkpoint::write_atomically(
            &marker,
            &checkpoint::to_json(&serde_json::json!({
                "test_accuracy": accuracy,
                "test_images": real.held_out.len(),
                "training_images": real.pool.len(),
                "epoch_losses": losses,
                "config": config.classifier,
            })),
        )?;
    }
    Ok((network, accuracy))
}

impl Study<'_> {
    /// `count` real images of generation `generation`'s draw (a Philox
    /// permutation of the pool, so a draw has no repeats).
    fn draw_real(&self, generation: usize, count: usize) -> LabelledImages {
        let stream = PhiloxStream::new(derived_seed(self.config.seed, generation, REAL_DRAW), 0);
        let order = permutation(self.real.pool.len(), stream);
        self.real.pool.select(&order[..count])
    }

    /// Runs one lambda's loop; returns how many generations came from
    /// checkpoints.
    fn run_loop(
        &self,
        lambda_index: usize,
        lambda: f64,
        resume: bool,
        rows: &mut Vec<DdpmGenerationMetrics>,
        progress: &mut dyn FnMut(&DdpmProgress),
    ) -> Result<usize> {
        let config = self.config;
        let directory = lambda_directory(self.out, lambda);
        let fixed_real = self.draw_real(1, config.first_real());
        let mut previous = LabelledImages::default();
        let mut pool = LabelledImages::default();

        let mut start = 1;
        if resume {
            while start <= config.generations
                && is_finished(&generation_directory(&directory, start))
            {
                let finished = generation_directory(&directory, start);
                rows.push(load_metrics(&finished)?);
                let (images, labels) = load_samples(&finished)?;
                previous = LabelledImages { images, labels }.prefix(config.n_synthetic);
                if config.family == LoopFamily::Augment(SyntheticSource::AllModels) {
                    pool.extend(&previous);
                }
                start += 1;
            }
            if start > 1 {
                progress(&DdpmProgress::Resumed {
                    lambda,
                    generations: start - 1,
                });
            }
        }

        for generation in start..=config.generations {
            let training = match (generation, config.family) {
                (1, _) => fixed_real.clone(),
                (_, LoopFamily::FullySynthetic) => previous.clone(),
                (_, LoopFamily::Augment(SyntheticSource::LastModel)) => {
                    let mut set = fixed_real.clone();
                    set.extend(&previous);
                    set
                }
                (_, LoopFamily::Augment(SyntheticSource::AllModels)) => {
                    let mut set = fixed_real.clone();
                    set.extend(&pool);
                    set
                }
                (_, LoopFamily::Fresh) => {
                    let mut set = self.draw_real(generation, config.n_real);
                    set.extend(&previous);
                    set
                }
            };
            let samples =
                self.run_generation(lambda_index, lambda, generation, &training, rows, progress)?;
            previous = samples.prefix(config.n_synthetic);
            if config.family == LoopFamily::Augment(SyntheticSource::AllModels) {
                pool.extend(&previous);
            }
        }
        Ok(start - 1)
    }

    /// Trains, samples, scores and saves one generation; returns its samples.
    fn run_generation(
        &self,
        lambda_index: usize,
        lambda: f64,
        generation: usize,
        training: &LabelledImages,
        rows: &mut Vec<DdpmGenerationMetrics>,
        progress: &mut dyn FnMut(&DdpmProgress),
    ) -> Result<LabelledImages> {
        let (gpu, config) = (self.gpu, self.config);
        let started = Instant::now();
        let directory = generation_directory(&lambda_directory(self.out, lambda), generation);
        if directory.exists() {
            // A generation stopped before its state.json: start it afresh.
            std::fs::remove_dir_all(&directory).map_err(|source| Error::Io {
                path: directory.clone(),
                source,
            })?;
        }
        let state = GenerationState {
            lambda,
            generation,
            seed: config.seed,
            next_generation: generation + 1,
            denoiser_seed: derived_seed(config.seed, generation, DENOISER_INIT),
            training_seed: derived_seed(config.seed, generation, TRAINING),
            sampling_seed: derived_seed(config.seed, generation, SAMPLING),
        };

        let (denoiser, final_loss) =
            self.trained_denoiser(lambda_index, lambda, generation, training, &state, progress)?;
        denoiser.save(gpu, &directory.join("model"))?;

        let count = config.samples_per_generation();
        progress(&DdpmProgress::Sampling {
            lambda,
            generation,
            images: count,
        });
        let labels = balanced_labels(count, 10);
        let guidance = guidance_from_lambda(lambda)?;
        let sampling = SamplingConfig {
            steps: config.sampling_steps,
            guidance,
            batch_size: config.sampling_batch,
            seed: state.sampling_seed,
        };
        let images = sample_images(gpu, &denoiser, &self.schedule, &labels, &sampling)?;
        let samples = LabelledImages { images, labels };

        let scored = samples.prefix(config.metric_samples);
        let features = self.classifier.features(gpu, &scored.images)?;
        let dim = self.classifier.feature_dim();
        let quality = prdc(gpu, &self.reference_features, &features, dim, config.k)?;
        let statistics = gaussian_statistics(gpu, &features, dim)?;
        let sample_accuracy = self
            .classifier
            .accuracy(gpu, &scored.images, &scored.labels)?;
        let metrics = DdpmGenerationMetrics {
            lambda,
            guidance,
            generation,
            training_images: training.len(),
            final_loss,
            fid: frechet_distance(&self.reference_statistics, &statistics)?,
            precision: quality.precision,
            recall: quality.recall,
            density: quality.density,
            coverage: quality.coverage,
            sample_accuracy,
            seconds: started.elapsed().as_secs_f64(),
        };

        write_sample_grid(
            &directory.join("grid.png"),
            &samples.images,
            &samples.labels,
            28,
            10,
            config.grid_per_class,
        )?;
        save_generation(
            &directory,
            &GenerationFiles {
                samples: &samples.images,
                labels: &samples.labels,
                metrics: &metrics,
                state: &state,
            },
        )?;
        progress(&DdpmProgress::Generation(&metrics));
        rows.push(metrics);
        Ok(samples)
    }

    /// Trains generation `generation`'s denoiser, or, for generation 1 of
    /// a later lambda, loads the first lambda's (the same training data and
    /// seeds give the same weights). Returns it with its final loss.
    fn trained_denoiser(
        &self,
        lambda_index: usize,
        lambda: f64,
        generation: usize,
        training: &LabelledImages,
        state: &GenerationState,
        progress: &mut dyn FnMut(&DdpmProgress),
    ) -> Result<(Denoiser, f32)> {
        let (gpu, config) = (self.gpu, self.config);
        let mut denoiser = Denoiser::new(gpu, config.denoiser, state.denoiser_seed)?;
        if generation == 1 && lambda_index > 0 {
            let first = generation_directory(&lambda_directory(self.out, config.lambdas[0]), 1);
            if is_finished(&first) {
                denoiser.load(gpu, &first.join("model"))?;
                return Ok((denoiser, load_metrics(&first)?.final_loss));
            }
        }
        let steps = config.training.steps;
        let report = train_denoiser(
            gpu,
            &mut denoiser,
            &self.schedule,
            &training.images,
            &training.labels,
            &config.training.with_seed(state.training_seed),
            &mut |step, loss| {
                progress(&DdpmProgress::Training {
                    lambda,
                    generation,
                    step,
                    steps,
                    loss,
                })
            },
        )?;
        let tail = &report.losses[report.losses.len().saturating_sub(16)..];
        let final_loss = tail.iter().sum::<f32>() / tail.len().max(1) as f32;
        Ok((denoiser, final_loss))
    }
}
