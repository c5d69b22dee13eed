//! The feature network of the image metrics: a small MLP digit classifier
//! (pixels -> hidden -> features -> classes, ReLU), trained with softmax
//! cross-entropy and Adam on the GPU. Its penultimate layer (after the ReLU)
//! gives the features for the Fréchet distance and the k-NN metrics, as the
//! MNIST experiments of the self-consuming loop study used a small digit
//! classifier (LeNet) instead of Inception.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::gpu::Gpu;
use crate::nn::{
    Activation, Graph, GraphBuilder, Loss, Optimizer, OptimizerConfig, ParamId, ParameterStore,
    TensorId,
};
use crate::random::PhiloxStream;

use super::denoiser::add_linear;

/// Rows of one inference pass over images.
const INFERENCE_ROWS: usize = 500;

/// Sizes and training settings of the feature network.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ClassifierConfig {
    /// Width of the first hidden layer.
    pub hidden: usize,
    /// Width of the penultimate layer (the feature dimension).
    pub features: usize,
    /// Passes over the training images.
    pub epochs: usize,
    /// Images per step.
    pub batch_size: usize,
    /// Adam's step size.
    pub learning_rate: f32,
}

impl ClassifierConfig {
    /// Checks every field.
    pub fn validate(&self) -> Result<()> {
        let sizes = [
            ("classifier hidden width", self.hidden, 1, 1 << 14),
            ("classifier feature width", self.features, 2, 1 << 12),
            ("classifier epochs", self.epochs, 1, 10_000),
            ("classifier batch size", self.batch_size, 1, 65_536),
        ];
        for (name, value, low, high) in sizes {
            if value < low || value > high {
                return Err(Error::InvalidArgument {
                    name,
                    value: value.to_string(),
                    expected: format!("between {low} and {high}"),
                });
            }
        }
        OptimizerConfig {
            learning_rate: self.learning_rate,
            ..OptimizerConfig::default()
        }
        .validate()
    }
}

/// A trained (or loaded) digit classifier.
pub struct FeatureNetwork {
    config: ClassifierConfig,
    seed: u64,
    pixels: usize,
    classes: usize,
    store: ParameterStore,
    layers: [(ParamId, ParamId); 3],
}

struct ClassifierGraph {
    graph: Graph,
    images: TensorId,
    features: TensorId,
    logits: TensorId,
    target: Option<TensorId>,
}

impl FeatureNetwork {
    /// Creates an untrained network for images of `pixels` values and
    /// `classes` classes; `seed` sets the initial weights and the shuffles.
    pub fn new(
        gpu: &Gpu,
        pixels: usize,
        classes: usize,
        config: ClassifierConfig,
        seed: u64,
    ) -> Result<Self> {
        config.validate()?;
        if pixels == 0 || classes < 2 {
            return Err(Error::InvalidArgument {
                name: "classifier shape",
                value: format!("{pixels} pixels, {classes} classes"),
                expected: "at least 1 pixel and 2 classes".to_string(),
            });
        }
        let mut store = ParameterStore::new();
        let shapes = [
            ("hidden", config.hidden, pixels),
            ("features", config.features, config.hidden),
            ("logits", classes, config.features),
        ];
        let mut layers = Vec::new();
        for (index, (name, out, fan_in)) in shapes.into_iter().enumerate() {
            let stream = 2 * index as u64;
            let (weight, bias) =
                add_linear(gpu, &mut store, name, (out, fan_in), true, seed, stream)?;
            layers.push((weight, bias.expect("requested a bias")));
        }
        Ok(Self {
            config,
            seed,
            pixels,
            classes,
            store,
            layers: [layers[0], layers[1], layers[2]],
        })
    }

    /// Settings.
    pub fn config(&self) -> &ClassifierConfig {
        &self.config
    }

    /// Feature dimension.
    pub fn feature_dim(&self) -> usize {
        self.config.features
    }

    fn build(&self, gpu: &Gpu, rows: usize, training: bool) -> Result<ClassifierGraph> {
        let mut builder = GraphBuilder::new(&self.store);
        let images = builder.input(rows, self.pixels, "classifier images")?;
        let [first, second, third] = self.layers;
        let hidden = builder.dense(images, first.0, Some(first.1), "classifier hidden")?;
        let hidden = builder.activation(hidden, Activation::Relu, "classifier hidden relu");
        let features = builder.dense(hidden, second.0, Some(second.1), "classifier features")?;
        let features = builder.activation(features, Activation::Relu, "classifier features relu");
        let logits = builder.dense(features, third.0, Some(third.1), "classifier logits")?;
        let target = if training {
            let target = builder.input(rows, self.classes, "classifier one-hot labels")?;
            builder.set_loss(Loss::SoftmaxCrossEntropy { logits, target })?;
            Some(target)
        } else {
            None
        };
        Ok(ClassifierGraph {
            graph: builder.build(gpu)?,
            images,
            features,
            logits,
            target,
        })
    }

    fn check_images(&self, images: &[f32], what: &str) -> Result<usize> {
        crate::generative::check_points(images, self.pixels, 1, what)
    }

    /// Trains on `images` (n x pixels) with `labels`; each epoch visits the
    /// images in a fresh Philox permutation, dropping the last partial
    /// batch. Returns the mean loss of every epoch; `progress` receives
    /// (epoch, mean loss).
    pub fn train(
        &mut self,
        gpu: &Gpu,
        images: &[f32],
        labels: &[u32],
        progress: &mut dyn FnMut(usize, f32),
    ) -> Result<Vec<f32>> {
        let count = self.check_images(images, "classifier training images")?;
        if labels.len() != count {
            return Err(Error::ShapeMismatch {
                operation: "FeatureNetwork::train",
                message: format!("{count} images but {} labels", labels.len()),
            });
        }
        if let Some(&label) = labels.iter().find(|&&l| l as usize >= self.classes) {
            return Err(Error::InvalidArgument {
                name: "classifier label",
                value: label.to_string(),
                expected: format!("a class below {}", self.classes),
            });
        }
        let rows = self.config.batch_size.min(count);
        let network = self.build(gpu, rows, true)?;
        let target = network.target.expect("built for training");
        let mut optimizer = Optimizer::new(OptimizerConfig {
            learning_rate: self.config.learning_rate,
            ..OptimizerConfig::default()
        })?;
        let loss_count = network.graph.loss_count() as f32;
        let mut epoch_losses = Vec::with_capacity(self.config.epochs);
        let mut batch_images = vec![0.0f32; rows * self.pixels];
        let mut batch_targets = vec![0.0f32; rows * self.classes];
        for epoch in 0..self.config.epochs {
            let order = permutation(count, PhiloxStream::new(self.seed, 0x100 + epoch as u64));
            let batches = count / rows;
            let history = gpu.create_buffer::<f32>(batches, "classifier losses")?;
            for batch in 0..batches {
                batch_targets.fill(0.0);
                for (slot, &index) in order[batch * rows..(batch + 1) * rows].iter().enumerate() {
                    batch_images[slot * self.pixels..(slot + 1) * self.pixels]
                        .copy_from_slice(&images[index * self.pixels..(index + 1) * self.pixels]);
                    batch_targets[slot * self.classes + labels[index] as usize] = 1.0;
                }
                network
                    .graph
                    .set_input(gpu, network.images, &batch_images)?;
                network.graph.set_input(gpu, target, &batch_targets)?;
                let mut recorder = gpu.recorder("classifier training step");
                network.graph.record_forward(&mut recorder, &self.store)?;
                let loss = network.graph.record_backward(&mut recorder, &self.store)?;
                recorder.copy(&loss, 0, &history, batch, 1)?;
                optimizer.record_step(&mut recorder, &mut self.store)?;
                recorder.submit()?;
            }
            let mean = gpu.read(&history)?.iter().sum::<f32>() / (batches as f32 * loss_count);
            if !mean.is_finite() {
                return Err(Error::InvalidArgument {
                    name: "classifier learning rate",
                    value: self.config.learning_rate.to_string(),
                    expected: format!("a value small enough that training stays finite (the loss became {mean} in epoch {})", epoch + 1),
                });
            }
            epoch_losses.push(mean);
            progress(epoch + 1, mean);
        }
        Ok(epoch_losses)
    }

    /// Runs the network over `images` in passes of up to 500 rows and
    /// returns (features, logits), row-major.
    fn evaluate(&self, gpu: &Gpu, images: &[f32]) -> Result<(Vec<f32>, Vec<f32>)> {
        let count = self.check_images(images, "classifier input images")?;
        let rows = INFERENCE_ROWS.min(count);
        let network = self.build(gpu, rows, false)?;
        let mut features = Vec::with_capacity(count * self.config.features);
        let mut logits = Vec::with_capacity(count * self.classes);
        let mut padded = vec![0.0f32; rows * self.pixels];
        for part in images.chunks(rows * self.pixels) {
            padded[..part.len()].copy_from_slice(part);
            padded[part.len()..].fill(0.0);
            network.graph.set_input(gpu, network.images, &padded)?;
            let mut recorder = gpu.recorder("classifier inference");
            network.graph.record_forward(&mut recorder, &self.store)?;
            recorder.submit()?;
            let used = part.len() / self.pixels;
            let values = network.graph.value(network.features).buffer();
            features.extend(gpu.read_range(values, 0..used * self.config.features)?);
            let values = network.graph.value(network.logits).buffer();
            logits.extend(gpu.read_range(values, 0..used * self.classes)?);
        }
        Ok((features, logits))
    }

    /// Penultimate-layer features of `images`, n x feature_dim.
    pub fn features(&self, gpu: &Gpu, images: &[f32]) -> Result<Vec<f32>> {
        Ok(self.evaluate(gpu, images)?.0)
    }

    /// Predicted class of every image (the largest logit).
    pub fn predict(&self, gpu: &Gpu, images: &[f32]) -> Result<Vec<u32>> {
        let (_, logits) = self.evaluate(gpu, images)?;
        Ok(logits
            .chunks(self.classes)
            .map(|row| {
                let mut best = 0;
                for (index, value) in row.iter().enumerate() {
                    if *value > row[best] {
                        best = index;
                    }
                }
                best as u32
            })
            .collect())
    }

    /// Share of `images` whose predicted class equals the label.
    pub fn accuracy(&self, gpu: &Gpu, images: &[f32], labels: &[u32]) -> Result<f64> {
        let predicted = self.predict(gpu, images)?;
        if predicted.len() != labels.len() {
            return Err(Error::ShapeMismatch {
                operation: "FeatureNetwork::accuracy",
                message: format!("{} images but {} labels", predicted.len(), labels.len()),
            });
        }
        let correct = predicted.iter().zip(labels).filter(|(a, b)| a == b).count();
        Ok(correct as f64 / labels.len().max(1) as f64)
    }

    /// Writes the weights into `directory`.
    pub fn save(&self, gpu: &Gpu, directory: &std::path::Path) -> Result<()> {
        self.store.save(gpu, directory)
    }

    /// Reads weights written by [`FeatureNetwork::save`] for the same sizes.
    pub fn load(&mut self, gpu: &Gpu, directory: &std::path::Path) -> Result<()> {
        self.store.load(gpu, directory)
    }
}

/// Shuffles 0 .. count by Fisher-Yates with Philox draws.
pub(crate) fn permutation(count: usize, stream: PhiloxStream) -> Vec<usize> {
    let mut order: Vec<usize> = (0..count).collect();
    let bits = stream.bits(0, count);
    for i in (1..count).rev() {
        let j = (bits[i] as usize) % (i + 1);
        order.swap(i, j);
    }
    order
}
