//! Forward and backward passes of every graph operation against float64
//! references.
//!
//! For each operation, a float64 CPU forward pass written from the formula
//! gives the reference output, and central finite differences of that
//! float64 forward pass (h = 1e-6, truncation error ~1e-12) give the
//! reference gradients of L = sum(R * y) for a random R, with respect to the
//! input and to every trainable parameter. The GPU computes y in float32 and
//! back-propagates R.
//!
//! Tolerances: outputs within 2e-5 and gradients within 2e-4 of the largest
//! reference magnitude. Each output is a short sum of float32 products
//! (rounding ~1e-6 relative) and each gradient a sum over the 37 rows of
//! such products; sine layers with omega = 30 amplify argument rounding by
//! omega.

mod common;

use std::sync::Arc;

use common::{gpu, uniform_values};
use maso::gpu::{GpuBuffer, Recorder};
use maso::nn::{
    Activation, ChannelNorm, Graph, GraphBuilder, LinearOperator, Loss, NormStatistics, Optimizer,
    OptimizerConfig, ParamId, ParameterStore, TensorId,
};
use maso::Result;

const ROWS: usize = 37;

struct ParamSpec {
    rows: usize,
    columns: usize,
    low: f32,
    high: f32,
    trainable: bool,
}

fn param(rows: usize, columns: usize) -> ParamSpec {
    ParamSpec {
        rows,
        columns,
        low: -1.0,
        high: 1.0,
        trainable: true,
    }
}

type Build<'a> = &'a dyn Fn(&mut GraphBuilder, TensorId, &[ParamId]) -> Result<TensorId>;
type Reference<'a> = &'a dyn Fn(&[f64], &[Vec<f64>]) -> Vec<f64>;

fn max_abs(values: &[f64]) -> f64 {
    values.iter().fold(0.0f64, |m, v| m.max(v.abs()))
}

fn assert_close(what: &str, actual: &[f32], expected: &[f64], relative: f64) {
    assert_eq!(actual.len(), expected.len(), "{what}: length");
    let scale = max_abs(expected).max(1e-3);
    for (index, (&got, &want)) in actual.iter().zip(expected).enumerate() {
        let error = (f64::from(got) - want).abs() / scale;
        assert!(error <= relative, "{what}[{index}]: GPU {got}, reference {want} (error {error:.2e} of max {scale:.3e}, allowed {relative:.0e})");
    }
}

/// Runs one operation on the GPU and compares output and gradients.
fn check_operation(
    name: &str,
    columns: usize,
    specs: &[ParamSpec],
    input_range: (f32, f32),
    build: Build,
    reference: Reference,
) {
    let gpu = gpu();
    let seed = name.bytes().map(u64::from).sum::<u64>();
    let mut store = ParameterStore::new();
    let mut parameters = Vec::new();
    let mut ids = Vec::new();
    for (index, spec) in specs.iter().enumerate() {
        let values = uniform_values(
            seed * 31 + index as u64,
            spec.rows * spec.columns,
            spec.low,
            spec.high,
        );
        ids.push(
            store
                .add(
                    gpu,
                    &format!("p{index}"),
                    spec.rows,
                    spec.columns,
                    &values,
                    spec.trainable,
                )
                .unwrap(),
        );
        parameters.push(values.iter().map(|&v| f64::from(v)).collect::<Vec<f64>>());
    }
    let input: Vec<f32> = uniform_values(seed, ROWS * columns, input_range.0, input_range.1);

    let mut builder = GraphBuilder::new(&store);
    let x = builder.differentiable_input(ROWS, columns, "x").unwrap();
    let y = build(&mut builder, x, &ids).unwrap();
    let (out_rows, out_columns) = builder.shape(y);
    let graph = builder.build(gpu).unwrap();
    graph.set_input(gpu, x, &input).unwrap();
    let seed_values = uniform_values(seed + 7, out_rows * out_columns, -1.0, 1.0);
    let seed_buffer = gpu.upload(&seed_values, "seed").unwrap();
    let mut recorder = gpu.recorder("check");
    graph.record_forward(&mut recorder, &store).unwrap();
    graph
        .record_backward_from(&mut recorder, &store, y, &seed_buffer)
        .unwrap();
    recorder.submit().unwrap();

    let x64: Vec<f64> = input.iter().map(|&v| f64::from(v)).collect();
    let expected = reference(&x64, &parameters);
    assert_close(
        &format!("{name} output"),
        &graph.read(gpu, y).unwrap(),
        &expected,
        2e-5,
    );

    let r: Vec<f64> = seed_values.iter().map(|&v| f64::from(v)).collect();
    let loss = |x: &[f64], p: &[Vec<f64>]| {
        reference(x, p)
            .iter()
            .zip(&r)
            .map(|(a, b)| a * b)
            .sum::<f64>()
    };
    let h = 1e-6;
    let mut x_gradient = Vec::new();
    for i in 0..x64.len() {
        let (mut plus, mut minus) = (x64.clone(), x64.clone());
        plus[i] += h;
        minus[i] -= h;
        x_gradient.push((loss(&plus, &parameters) - loss(&minus, &parameters)) / (2.0 * h));
    }
    let gpu_x_gradient = graph.gradient(x).unwrap().read(gpu).unwrap();
    assert_close(
        &format!("{name} input gradient"),
        &gpu_x_gradient,
        &x_gradient,
        2e-4,
    );

    for (index, id) in ids.iter().enumerate() {
        if !specs[index].trainable {
            continue;
        }
        let mut gradient = Vec::new();
        for j in 0..parameters[index].len() {
            let (mut plus, mut minus) = (parameters.clone(), parameters.clone());
            plus[index][j] += h;
            minus[index][j] -= h;
            gradient.push((loss(&x64, &plus) - loss(&x64, &minus)) / (2.0 * h));
        }
        assert_close(
            &format!("{name} gradient of parameter {index}"),
            &store.read_gradient(gpu, *id).unwrap(),
            &gradient,
            2e-4,
        );
    }
}

fn dense_reference(x: &[f64], w: &[f64], b: Option<&[f64]>, columns: usize) -> Vec<f64> {
    let out = w.len() / columns;
    let rows = x.len() / columns;
    let mut y = vec![0.0; rows * out];
    for i in 0..rows {
        for o in 0..out {
            let dot: f64 = (0..columns)
                .map(|k| x[i * columns + k] * w[o * columns + k])
                .sum();
            y[i * out + o] = dot + b.map_or(0.0, |b| b[o]);
        }
    }
    y
}

#[test]
fn dense_with_and_without_bias() {
    check_operation(
        "dense bias",
        5,
        &[param(7, 5), param(1, 7)],
        (-1.0, 1.0),
        &|g, x, p| g.dense(x, p[0], Some(p[1]), "d"),
        &|x, p| dense_reference(x, &p[0], Some(&p[1]), 5),
    );
    check_operation(
        "dense",
        3,
        &[param(6, 3)],
        (-1.0, 1.0),
        &|g, x, p| g.dense(x, p[0], None, "d"),
        &|x, p| dense_reference(x, &p[0], None, 3),
    );
}

#[test]
fn activations() {
    type Formula = fn(f64) -> f64;
    let cases: [(Activation, Formula); 6] = [
        (Activation::Identity, |v| v),
        (Activation::Relu, |v| v.max(0.0)),
        (Activation::Sine { omega: 30.0 }, |v| (30.0 * v).sin()),
        (Activation::Sigmoid, |v| 1.0 / (1.0 + (-v).exp())),
        (Activation::Tanh, f64::tanh),
        (Activation::Silu, |v| v / (1.0 + (-v).exp())),
    ];
    for (activation, f) in cases {
        // A dense layer first, so that the activation's input gradient
        // reaches a parameter too.
        check_operation(
            &format!("{activation:?}"),
            4,
            &[param(5, 4)],
            (-2.0, 2.0),
            &|g, x, p| {
                let z = g.dense(x, p[0], None, "d")?;
                Ok(g.activation(z, activation, "a"))
            },
            &|x, p| {
                dense_reference(x, &p[0], None, 4)
                    .into_iter()
                    .map(f)
                    .collect()
            },
        );
    }
}

#[test]
fn scale_add_and_shared_inputs() {
    // y = x + 0.5 sin(x): two paths into x, whose gradients must add up.
    check_operation(
        "scale add",
        3,
        &[],
        (-2.0, 2.0),
        &|g, x, _| {
            let s = g.activation(x, Activation::Sine { omega: 1.0 }, "s");
            let half = g.scale(s, 0.5, "h");
            g.add(x, half, "y")
        },
        &|x, _| x.iter().map(|v| v + 0.5 * v.sin()).collect(),
    );
}

#[test]
fn sincos_features() {
    // Fourier features [cos(x B^T), sin(x B^T)] with a trainable B.
    check_operation(
        "sincos",
        2,
        &[ParamSpec {
            low: -5.0,
            high: 5.0,
            ..param(9, 2)
        }],
        (-1.0, 1.0),
        &|g, x, p| {
            let phases = g.dense(x, p[0], None, "phases")?;
            Ok(g.sincos(phases, "features"))
        },
        &|x, p| {
            let phases = dense_reference(x, &p[0], None, 2);
            let mut y = Vec::new();
            for row in phases.chunks(9) {
                y.extend(row.iter().map(|v| v.cos()));
                y.extend(row.iter().map(|v| v.sin()));
            }
            y
        },
    );
}

#[test]
fn broadcast_row_and_parameter_tensors() {
    check_operation(
        "broadcast",
        4,
        &[param(1, 4), param(ROWS, 4)],
        (-1.0, 1.0),
        &|g, x, p| {
            let row = g.broadcast_row(p[0], ROWS, "row")?;
            let full = g.parameter(p[1], "full");
            let sum = g.add(row, full, "sum")?;
            g.add(sum, x, "y")
        },
        &|x, p| (0..x.len()).map(|i| p[0][i % 4] + p[1][i] + x[i]).collect(),
    );
}

fn norm_reference(
    x: &[f64],
    columns: usize,
    gamma: &[f64],
    beta: &[f64],
    statistics: Option<&[f64]>,
) -> Vec<f64> {
    let rows = x.len() / columns;
    let mut y = vec![0.0; x.len()];
    for j in 0..columns {
        let (mean, inverse) = match statistics {
            Some(s) => (s[j], s[columns + j]),
            None => {
                let mean = (0..rows).map(|i| x[i * columns + j]).sum::<f64>() / rows as f64;
                let variance = (0..rows)
                    .map(|i| (x[i * columns + j] - mean).powi(2))
                    .sum::<f64>()
                    / rows as f64;
                (mean, 1.0 / (variance + 1e-5).sqrt())
            }
        };
        for i in 0..rows {
            y[i * columns + j] = gamma[j] * (x[i * columns + j] - mean) * inverse + beta[j];
        }
    }
    y
}

fn norm_specs(columns: usize) -> Vec<ParamSpec> {
    vec![
        ParamSpec {
            low: 0.5,
            high: 1.5,
            ..param(1, columns)
        },
        param(1, columns),
        ParamSpec {
            low: 0.5,
            high: 2.0,
            trainable: false,
            ..param(2, columns)
        },
    ]
}

fn norm_of(p: &[ParamId]) -> ChannelNorm {
    ChannelNorm {
        gamma: p[0],
        beta: p[1],
        statistics: p[2],
        epsilon: 1e-5,
    }
}

#[test]
fn channel_norm_with_batch_statistics() {
    check_operation(
        "norm batch",
        6,
        &norm_specs(6),
        (-1.0, 3.0),
        &|g, x, p| g.channel_norm(x, norm_of(p), NormStatistics::Batch, "n"),
        &|x, p| norm_reference(x, 6, &p[0], &p[1], None),
    );
}

#[test]
fn channel_norm_with_frozen_statistics() {
    check_operation(
        "norm frozen",
        5,
        &norm_specs(5),
        (-1.0, 3.0),
        &|g, x, p| g.channel_norm(x, norm_of(p), NormStatistics::Frozen, "n"),
        &|x, p| norm_reference(x, 5, &p[0], &p[1], Some(&p[2])),
    );
}

#[test]
fn batch_statistics_are_stored_for_frozen_use() {
    let gpu = gpu();
    let mut store = ParameterStore::new();
    let gamma = store.add(gpu, "g", 1, 3, &[1.0; 3], true).unwrap();
    let beta = store.add(gpu, "b", 1, 3, &[0.0; 3], true).unwrap();
    let statistics = store
        .add(gpu, "s", 2, 3, &[0.0, 0.0, 0.0, 1.0, 1.0, 1.0], false)
        .unwrap();
    let input = uniform_values(3, 11 * 3, -2.0, 5.0);
    let mut builder = GraphBuilder::new(&store);
    let x = builder.input(11, 3, "x").unwrap();
    let norm = ChannelNorm {
        gamma,
        beta,
        statistics,
        epsilon: 1e-5,
    };
    builder
        .channel_norm(x, norm, NormStatistics::Batch, "n")
        .unwrap();
    let graph = builder.build(gpu).unwrap();
    graph.set_input(gpu, x, &input).unwrap();
    let mut recorder = gpu.recorder("norm");
    graph.record_forward(&mut recorder, &store).unwrap();
    recorder.submit().unwrap();
    let stored = store.read(gpu, statistics).unwrap();
    for j in 0..3 {
        let column: Vec<f64> = (0..11).map(|i| f64::from(input[i * 3 + j])).collect();
        let mean = column.iter().sum::<f64>() / 11.0;
        let variance = column.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / 11.0;
        assert!((f64::from(stored[j]) - mean).abs() < 1e-5, "mean {j}");
        assert!(
            (f64::from(stored[3 + j]) - 1.0 / (variance + 1e-5).sqrt()).abs() < 1e-5,
            "inverse deviation {j}"
        );
    }
}

fn bilinear_taps(o: usize, size: usize) -> (usize, usize, f64) {
    let source = ((o as f64 + 0.5) / 2.0 - 0.5).max(0.0);
    let low = (source.floor() as usize).min(size - 1);
    let high = (low + 1).min(size - 1);
    (low, high, source - low as f64)
}

#[test]
fn bilinear_upsampling_and_its_adjoint() {
    // A 7 x 5 grid (35 pixels) of 3 channels; ROWS is 37, so the grid input
    // comes from a dense layer over a parameter tensor.
    let (width, height, channels) = (7, 5, 3);
    check_operation(
        "upsample",
        2,
        &[param(width * height, channels)],
        (-1.0, 1.0),
        &|g, _, p| {
            let grid = g.parameter(p[0], "grid");
            g.upsample2x(grid, width, height, "up")
        },
        &|_, p| {
            let mut y = vec![0.0; 4 * width * height * channels];
            for oy in 0..2 * height {
                let (y0, y1, wy) = bilinear_taps(oy, height);
                for ox in 0..2 * width {
                    let (x0, x1, wx) = bilinear_taps(ox, width);
                    for c in 0..channels {
                        let at = |yy: usize, xx: usize| p[0][(yy * width + xx) * channels + c];
                        let top = (1.0 - wx) * at(y0, x0) + wx * at(y0, x1);
                        let bottom = (1.0 - wx) * at(y1, x0) + wx * at(y1, x1);
                        y[(oy * 2 * width + ox) * channels + c] = (1.0 - wy) * top + wy * bottom;
                    }
                }
            }
            y
        },
    );
}

#[test]
fn area_downsampling_and_its_adjoint() {
    let (width, height, factor, channels) = (9, 6, 3, 2);
    check_operation(
        "downsample",
        2,
        &[param(width * height, channels)],
        (-1.0, 1.0),
        &|g, _, p| {
            let grid = g.parameter(p[0], "grid");
            g.area_downsample(grid, width, height, factor, "down")
        },
        &|_, p| {
            let (out_width, out_height) = (width / factor, height / factor);
            let mut y = vec![0.0; out_width * out_height * channels];
            for oy in 0..out_height {
                for ox in 0..out_width {
                    for c in 0..channels {
                        let mut sum = 0.0;
                        for dy in 0..factor {
                            for dx in 0..factor {
                                sum += p[0][((oy * factor + dy) * width + ox * factor + dx)
                                    * channels
                                    + c];
                            }
                        }
                        y[(oy * out_width + ox) * channels + c] = sum / (factor * factor) as f64;
                    }
                }
            }
            y
        },
    );
}

/// Selects some entries of a vector: (A x)_j = x[selected[j]]; its adjoint
/// puts y_j back at selected[j].
struct Selection {
    input_len: usize,
    selected: Vec<usize>,
}

impl LinearOperator for Selection {
    fn input_len(&self) -> usize {
        self.input_len
    }

    fn output_len(&self) -> usize {
        self.selected.len()
    }

    fn forward(
        &self,
        recorder: &mut Recorder,
        input: &GpuBuffer<f32>,
        output: &GpuBuffer<f32>,
    ) -> Result<()> {
        for (j, &i) in self.selected.iter().enumerate() {
            recorder.copy(input, i, output, j, 1)?;
        }
        Ok(())
    }

    fn adjoint(
        &self,
        recorder: &mut Recorder,
        input: &GpuBuffer<f32>,
        output: &GpuBuffer<f32>,
    ) -> Result<()> {
        recorder.clear(output);
        for (j, &i) in self.selected.iter().enumerate() {
            recorder.copy(input, j, output, i, 1)?;
        }
        Ok(())
    }
}

#[test]
fn linear_operators_back_propagate_through_their_adjoint() {
    let selected = vec![3, 0, 17, 40, 41, 72];
    let operator: Arc<dyn LinearOperator> = Arc::new(Selection {
        input_len: ROWS * 2,
        selected: selected.clone(),
    });
    check_operation(
        "operator",
        2,
        &[],
        (-1.0, 1.0),
        &|g, x, _| {
            let squared = g.activation(x, Activation::Tanh, "t");
            g.linear_operator(squared, operator.clone(), "select")
        },
        &|x, _| selected.iter().map(|&i| x[i].tanh()).collect(),
    );
}

fn loss_graph(
    store: &ParameterStore,
    columns: usize,
    cross_entropy: bool,
) -> (Graph, TensorId, TensorId) {
    let gpu = gpu();
    let mut builder = GraphBuilder::new(store);
    let x = builder.differentiable_input(ROWS, columns, "x").unwrap();
    let prediction = builder.scale(x, 1.0, "prediction");
    let target = builder.input(ROWS, columns, "target").unwrap();
    let loss = if cross_entropy {
        Loss::SoftmaxCrossEntropy {
            logits: prediction,
            target,
        }
    } else {
        Loss::MeanSquaredError { prediction, target }
    };
    builder.set_loss(loss).unwrap();
    (builder.build(gpu).unwrap(), x, target)
}

#[test]
fn losses_and_their_gradients() {
    let gpu = gpu();
    let store = ParameterStore::new();
    let columns = 10;
    let logits = uniform_values(41, ROWS * columns, -3.0, 3.0);
    let mut targets = vec![0.0f32; ROWS * columns];
    for row in 0..ROWS {
        targets[row * columns + (row * 7) % columns] = 1.0;
    }
    for cross_entropy in [false, true] {
        let (graph, x, target) = loss_graph(&store, columns, cross_entropy);
        graph.set_input(gpu, x, &logits).unwrap();
        graph.set_input(gpu, target, &targets).unwrap();
        let mut recorder = gpu.recorder("loss");
        graph.record_forward(&mut recorder, &store).unwrap();
        let sum = graph.record_backward(&mut recorder, &store).unwrap();
        recorder.submit().unwrap();
        let loss = f64::from(gpu.read(&sum).unwrap()[0]) / graph.loss_count() as f64;

        let (mut expected_loss, mut expected_gradient) = (0.0, vec![0.0; logits.len()]);
        for row in 0..ROWS {
            let z: Vec<f64> = (0..columns)
                .map(|j| f64::from(logits[row * columns + j]))
                .collect();
            let t: Vec<f64> = (0..columns)
                .map(|j| f64::from(targets[row * columns + j]))
                .collect();
            if cross_entropy {
                let largest = z.iter().cloned().fold(f64::MIN, f64::max);
                let log_total = z.iter().map(|v| (v - largest).exp()).sum::<f64>().ln() + largest;
                for j in 0..columns {
                    expected_loss -= t[j] * (z[j] - log_total) / ROWS as f64;
                    expected_gradient[row * columns + j] =
                        ((z[j] - log_total).exp() - t[j]) / ROWS as f64;
                }
            } else {
                let n = (ROWS * columns) as f64;
                for j in 0..columns {
                    expected_loss += (z[j] - t[j]).powi(2) / n;
                    expected_gradient[row * columns + j] = 2.0 * (z[j] - t[j]) / n;
                }
            }
        }
        assert!(
            (loss - expected_loss).abs() <= 1e-5 * expected_loss,
            "loss {loss} vs {expected_loss} (cross entropy {cross_entropy})"
        );
        assert_close(
            "loss gradient",
            &graph.gradient(x).unwrap().read(gpu).unwrap(),
            &expected_gradient,
            1e-5,
        );
    }
}

/// Float64 Adam/AdaBreg on the least-squares problem of `optimizer_steps`.
fn reference_optimizer(
    x: &[f64],
    t: &[f64],
    w: &mut [f64],
    config: &OptimizerConfig,
    steps: usize,
    fan_in: usize,
) {
    let out = w.len() / fan_in;
    let rows = x.len() / fan_in;
    let (mut m, mut v) = (vec![0.0; w.len()], vec![0.0; w.len()]);
    let mu = f64::from(config.l1);
    let mut dual: Vec<f64> = w
        .iter()
        .map(|&value| {
            if value == 0.0 {
                0.0
            } else {
                value + mu * value.signum()
            }
        })
        .collect();
    let (b1, b2) = (f64::from(config.beta1), f64::from(config.beta2));
    for step in 1..=steps {
        let y = dense_reference(x, w, None, fan_in);
        let mut g = vec![0.0; w.len()];
        for i in 0..rows {
            for o in 0..out {
                let residual = 2.0 * (y[i * out + o] - t[i * out + o]) / (rows * out) as f64;
                for k in 0..fan_in {
                    g[o * fan_in + k] += residual * x[i * fan_in + k];
                }
            }
        }
        for j in 0..w.len() {
            m[j] = b1 * m[j] + (1.0 - b1) * g[j];
            v[j] = b2 * v[j] + (1.0 - b2) * g[j] * g[j];
            let direction = (m[j] / (1.0 - b1.powi(step as i32)))
                / ((v[j] / (1.0 - b2.powi(step as i32))).sqrt() + f64::from(config.epsilon));
            if mu > 0.0 {
                dual[j] -= f64::from(config.learning_rate) * direction;
                w[j] = dual[j].signum() * (dual[j].abs() - mu).max(0.0);
            } else {
                w[j] -= f64::from(config.learning_rate) * direction;
            }
        }
    }
}

fn optimizer_steps(config: OptimizerConfig, keep: f32) {
    let gpu = gpu();
    let (fan_in, out, steps) = (5, 3, 6);
    let mut store = ParameterStore::new();
    let stream = maso::random::PhiloxStream::new(9, 1);
    let init = maso::nn::Init::Uniform {
        low: -1.0,
        high: 1.0,
    };
    let weight = store
        .add_random(gpu, "w", out, fan_in, init, keep, stream, true)
        .unwrap();
    let mut w: Vec<f64> = store
        .read(gpu, weight)
        .unwrap()
        .iter()
        .map(|&v| f64::from(v))
        .collect();
    let x = uniform_values(5, ROWS * fan_in, -1.0, 1.0);
    let t = uniform_values(6, ROWS * out, -1.0, 1.0);

    let mut builder = GraphBuilder::new(&store);
    let input = builder.input(ROWS, fan_in, "x").unwrap();
    let prediction = builder.dense(input, weight, None, "y").unwrap();
    let target = builder.input(ROWS, out, "t").unwrap();
    builder
        .set_loss(Loss::MeanSquaredError { prediction, target })
        .unwrap();
    let graph = builder.build(gpu).unwrap();
    graph.set_input(gpu, input, &x).unwrap();
    graph.set_input(gpu, target, &t).unwrap();
    let mut optimizer = Optimizer::new(config).unwrap();
    for _ in 0..steps {
        let mut recorder = gpu.recorder("step");
        graph.record_forward(&mut recorder, &store).unwrap();
        graph.record_backward(&mut recorder, &store).unwrap();
        optimizer.record_step(&mut recorder, &mut store).unwrap();
        recorder.submit().unwrap();
    }

    let x64: Vec<f64> = x.iter().map(|&v| f64::from(v)).collect();
    let t64: Vec<f64> = t.iter().map(|&v| f64::from(v)).collect();
    reference_optimizer(&x64, &t64, &mut w, &config, steps, fan_in);
    let got = store.read(gpu, weight).unwrap();
    // Each step moves a weight by at most the learning rate (Adam's step is
    // bounded by about lr), so the float32 difference stays near rounding.
    for (j, (&g, &e)) in got.iter().zip(&w).enumerate() {
        assert!(
            (f64::from(g) - e).abs() < 2e-6,
            "weight {j}: GPU {g}, reference {e} ({config:?})"
        );
    }
}

#[test]
fn adam_matches_the_reference_for_several_steps() {
    optimizer_steps(
        OptimizerConfig {
            learning_rate: 0.01,
            ..OptimizerConfig::default()
        },
        1.0,
    );
}

#[test]
fn bregman_adam_keeps_masked_weights_sparse() {
    let config = OptimizerConfig {
        learning_rate: 0.01,
        l1: 0.05,
        ..OptimizerConfig::default()
    };
    optimizer_steps(config, 0.4);
}

#[test]
fn graph_errors_name_the_shapes() {
    let gpu = gpu();
    let mut store = ParameterStore::new();
    let w = store.add(gpu, "w", 4, 3, &[0.0; 12], true).unwrap();
    let mut builder = GraphBuilder::new(&store);
    let x = builder.input(5, 2, "x").unwrap();
    let message = builder.dense(x, w, None, "layer").unwrap_err().to_string();
    assert!(
        message.contains("2 columns") && message.contains("4 x 3"),
        "{message}"
    );
    let message = builder.upsample2x(x, 3, 3, "up").unwrap_err().to_string();
    assert!(message.contains("5 rows"), "{message}");
    let message = builder
        .area_downsample(x, 5, 1, 2, "down")
        .unwrap_err()
        .to_string();
    assert!(message.contains("divides"), "{message}");
    let graph = builder.build(gpu).unwrap();
    let message = graph
        .set_input(gpu, x, &[f32::NAN; 10])
        .unwrap_err()
        .to_string();
    assert!(message.contains("NaN"), "{message}");
    let message = graph.set_input(gpu, x, &[0.0; 3]).unwrap_err().to_string();
    assert!(message.contains("10 values"), "{message}");
    let message = Optimizer::new(OptimizerConfig {
        learning_rate: -1.0,
        ..OptimizerConfig::default()
    })
    .err()
    .unwrap()
    .to_string();
    assert!(message.contains("learning_rate"), "{message}");
}

#[test]
fn sinusoidal_encoding_matches_the_nerf_formula() {
    let gpu = gpu();
    let mut store = ParameterStore::new();
    let frequencies = maso::nn::sinusoidal_encoding(gpu, &mut store, "encoding", 2, 5).unwrap();
    let points = uniform_values(77, ROWS * 2, -1.0, 1.0);
    let mut builder = GraphBuilder::new(&store);
    let x = builder.input(ROWS, 2, "x").unwrap();
    let phases = builder.dense(x, frequencies, None, "phases").unwrap();
    let encoded = builder.sincos(phases, "encoded");
    let graph = builder.build(gpu).unwrap();
    graph.set_input(gpu, x, &points).unwrap();
    let mut recorder = gpu.recorder("encoding");
    graph.record_forward(&mut recorder, &store).unwrap();
    recorder.submit().unwrap();
    let got = graph.read(gpu, encoded).unwrap();

    // Row layout: 10 cosines (level-major, x then y), then 10 sines.
    let mut expected = Vec::new();
    for point in points.chunks(2) {
        let phases: Vec<f64> = (0..5)
            .flat_map(|k| {
                point
                    .iter()
                    .map(move |&p| 2f64.powi(k) * std::f64::consts::PI * f64::from(p))
            })
            .collect();
        expected.extend(phases.iter().map(|p| p.cos()));
        expected.extend(phases.iter().map(|p| p.sin()));
    }
    // Phases up to 16 pi: the float32 product carries ~1e-6 relative error.
    assert_close("sinusoidal encoding", &got, &expected, 2e-5);
}
