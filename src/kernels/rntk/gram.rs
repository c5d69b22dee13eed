//! Tiled RNTK/NNGP Gram matrices of sequence sets on the GPU (`shaders/rntk.wgsl`).

use bytemuck::{Pod, Zeroable};

use crate::error::{Error, Result};
use crate::gpu::{grid_1d, Gpu, GpuBuffer};
use crate::kernels::ntk::Activation;
use crate::kernels::rntk::reference::self_covariances;
use crate::kernels::rntk::{Readout, RntkConfig};
use crate::kernels::sink::GramSink;
use crate::kernels::tiling::{
    run_tiled, run_tiled_parallel, tile_edge, GramReport, TileBlock, TileSelection,
};
use crate::shaders;

/// A set of sequences: each `steps x channels`, row-major, concatenated in
/// `values`; sequence i occupies steps `offsets[i]..offsets[i + 1]`.
#[derive(Debug, Clone, Copy)]
pub struct SequenceInputs<'a> {
    /// Concatenated steps, `channels` values each.
    pub values: &'a [f32],
    /// First step of each sequence, then the total number of steps.
    pub offsets: &'a [usize],
    /// Values per step (m).
    pub channels: usize,
}

impl<'a> SequenceInputs<'a> {
    /// Wraps concatenated sequences after checking offsets, lengths and values.
    pub fn new(
        values: &'a [f32],
        offsets: &'a [usize],
        channels: usize,
        name: &str,
    ) -> Result<Self> {
        let invalid = |value: String, expected: &str| Error::InvalidArgument {
            name: "sequences",
            value: format!("{name}: {value}"),
            expected: expected.to_string(),
        };
        if channels == 0 || offsets.len() < 2 {
            return Err(invalid(
                format!(
                    "{} sequences of {channels} channels",
                    offsets.len().saturating_sub(1)
                ),
                "at least one sequence with at least one channel",
            ));
        }
        if offsets[0] != 0 || offsets.last().copied().unwrap_or(0) * channels != values.len() {
            return Err(invalid(
                format!(
                    "offsets end at step {} but there are {} values",
                    offsets.last().copied().unwrap_or(0),
                    values.len()
                ),
                "offsets from 0 to the number of steps, with steps x channels values",
            ));
        }
        if let Some(i) = offsets.windows(2).position(|pair| pair[1] <= pair[0]) {
            return Err(invalid(
                format!(
                    "sequence {i} has length {}",
                    offsets[i + 1] as i64 - offsets[i] as i64
                ),
                "sequences of at least one step; drop empty ones",
            ));
        }
        if let Some(position) = values.iter().position(|v| !v.is_finite()) {
            let step = position / channels;
            let sequence = offsets.partition_point(|&offset| offset <= step) - 1;
            return Err(invalid(
                format!(
                    "{} at sequence {sequence}, step {}, channel {}",
                    values[position],
                    step - offsets[sequence],
                    position % channels
                ),
                "finite values; fill or drop missing steps first",
            ));
        }
        Ok(Self {
            values,
            offsets,
            channels,
        })
    }

    /// Number of sequences.
    pub fn count(&self) -> usize {
        self.offsets.len() - 1
    }

    /// Steps of sequence `index`.
    pub fn length(&self, index: usize) -> usize {
        self.offsets[index + 1] - self.offsets[index]
    }

    /// Values of sequence `index` (steps x channels).
    pub fn sequence(&self, index: usize) -> &'a [f32] {
        &self.values[self.offsets[index] * self.channels..self.offsets[index + 1] * self.channels]
    }

    fn longest(&self) -> usize {
        (0..self.count()).map(|i| self.length(i)).max().unwrap_or(0)
    }
}

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct RntkParams {
    rows: u32,
    columns: u32,
    row_offset: u32,
    column_offset: u32,
    same_set: u32,
    layers: u32,
    channels: u32,
    padding0: u32,
    sw2: f32,
    su2: f32,
    sb2: f32,
    sh2: f32,
    sv2: f32,
    inverse_channels: f32,
    padding1: [f32; 2],
}

/// Self-covariances of every sequence, `layers` values per step, in float64
/// on the host and rounded to f32.
fn all_self_covariances(config: &RntkConfig, set: &SequenceInputs) -> Vec<f32> {
    let mut values = Vec::with_capacity(set.values.len() / set.channels * config.layers);
    for index in 0..set.count() {
        let sequence: Vec<f64> = set.sequence(index).iter().map(|&v| f64::from(v)).collect();
        values.extend(
            self_covariances(config, &sequence, set.channels)
                .into_iter()
                .map(|v| v as f32),
        );
    }
    values
}

/// Computes the NNGP and RNTK Gram matrices (components `nngp`, `ntk`)
/// between `set1` and `set2` (or `set1` with itself) into `sink`.
pub fn compute_rntk_gram(
    gpu: &Gpu,
    config: &RntkConfig,
    set1: &SequenceInputs,
    set2: Option<&SequenceInputs>,
    tile: Option<usize>,
    sink: &mut dyn GramSink,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<GramReport> {
    compute_rntk_gram_selected(
        gpu,
        &[],
        config,
        set1,
        set2,
        tile,
        sink,
        TileSelection::default(),
        progress,
    )
}

/// [`compute_rntk_gram`] for the tiles of `selection` only (one shard,
/// skipping finished tiles); `tile` must then be fixed for every shard.
/// Tiles are spread over `gpu` and `extra_gpus`, one worker per device.
#[allow(clippy::too_many_arguments)]
pub fn compute_rntk_gram_selected(
    gpu: &Gpu,
    extra_gpus: &[&Gpu],
    config: &RntkConfig,
    set1: &SequenceInputs,
    set2: Option<&SequenceInputs>,
    tile: Option<usize>,
    sink: &mut dyn GramSink,
    selection: TileSelection,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<GramReport> {
    config.validate()?;
    let symmetric = set2.is_none();
    let set2 = set2.unwrap_or(set1);
    if set1.channels != set2.channels {
        return Err(Error::ShapeMismatch {
            operation: "rntk",
            message: format!(
                "the first set has {} channels per step but the second has {}",
                set1.channels, set2.channels
            ),
        });
    }
    let floats_per_sequence = set1.longest().max(set2.longest()) * set1.channels.max(config.layers);
    let tile = tile_edge(gpu, 2, floats_per_sequence, tile)?;
    let self1 = all_self_covariances(config, set1);
    let self2 = if symmetric {
        self1.clone()
    } else {
        all_self_covariances(config, set2)
    };
    let capacity = tile.min(set1.count()) * tile.min(set2.count());
    let devices: Vec<&Gpu> = std::iter::once(gpu)
        .chain(extra_gpus.iter().copied())
        .collect();
    let outputs = devices
        .iter()
        .map(|device| device.create_buffer::<f32>(2 * capacity, "rntk tile output"))
        .collect::<Result<Vec<_>>>()?;
    let contexts: Vec<RntkTile> = devices
        .iter()
        .zip(&outputs)
        .map(|(device, output)| RntkTile {
            gpu: device,
            config,
            symmetric,
            set1,
            set2,
            self1: &self1,
            self2: &self2,
            output,
        })
        .collect();
    if contexts.len() == 1 {
        return run_tiled(
            set1.count(),
            set2.count(),
            symmetric,
            true,
            tile,
            2,
            sink,
            selection,
            progress,
            &mut |block| contexts[0].compute(block),
        );
    }
    let workers: Vec<Box<dyn FnMut(TileBlock) -> Result<(Vec<f32>, f64)> + Send + '_>> = contexts
        .iter()
        .map(|context| {
            Box::new(move |block| context.compute(block))
                as Box<dyn FnMut(TileBlock) -> Result<(Vec<f32>, f64)> + Send + '_>
        })
        .collect();
    run_tiled_parallel(
        set1.count(),
        set2.count(),
        symmetric,
        true,
        tile,
        2,
        sink,
        selection,
        progress,
        workers,
    )
}

struct RntkTile<'a> {
    gpu: &'a Gpu,
    config: &'a RntkConfig,
    symmetric: bool,
    set1: &'a SequenceInputs<'a>,
    set2: &'a SequenceInputs<'a>,
    self1: &'a [f32],
    self2: &'a [f32],
    output: &'a GpuBuffer<f32>,
}

/// Uploads sequences `first..first + count` of `set`: values, offsets
/// relative to the first, and self-covariances.
fn upload_block(
    gpu: &Gpu,
    set: &SequenceInputs,
    self_values: &[f32],
    layers: usize,
    first: usize,
    count: usize,
) -> Result<(GpuBuffer<f32>, GpuBuffer<u32>, GpuBuffer<f32>)> {
    let (start, end) = (set.offsets[first], set.offsets[first + count]);
    let values = gpu.upload(
        &set.values[start * set.channels..end * set.channels],
        "rntk sequences",
    )?;
    let offsets: Vec<u32> = set.offsets[first..=first + count]
        .iter()
        .map(|&o| (o - start) as u32)
        .collect();
    let offsets = gpu.upload(&offsets, "rntk offsets")?;
    let self_block = gpu.upload(
        &self_values[start * layers..end * layers],
        "rntk self covariances",
    )?;
    Ok((values, offsets, self_block))
}

impl RntkTile<'_> {
    fn compute(&self, block: TileBlock) -> Result<(Vec<f32>, f64)> {
        let (gpu, config) = (self.gpu, self.config);
        let rows = upload_block(
            gpu,
            self.set1,
            self.self1,
            config.layers,
            block.row,
            block.rows,
        )?;
        let columns = upload_block(
            gpu,
            self.set2,
            self.self2,
            config.layers,
            block.column,
            block.columns,
        )?;
        let params = RntkParams {
            rows: block.rows as u32,
            columns: block.columns as u32,
            row_offset: block.row as u32,
            column_offset: block.column as u32,
            same_set: u32::from(self.symmetric),
            layers: config.layers as u32,
            channels: self.set1.channels as u32,
            padding0: 0,
            sw2: config.sw.powi(2) as f32,
            su2: config.su.powi(2) as f32,
            sb2: config.sb.powi(2) as f32,
            sh2: config.sh.powi(2) as f32,
            sv2: config.sv.powi(2) as f32,
            inverse_channels: (1.0 / self.set1.channels as f64) as f32,
            padding1: [0.0; 2],
        };
        let activation = match config.activation {
            Activation::Relu => 0.0,
            Activation::Erf => 1.0,
        };
        let readout = match config.readout {
            Readout::Last => 0.0,
            Readout::Mean => 1.0,
        };
        let kernel = gpu.kernel(
            &shaders::RNTK,
            "rntk_tile",
            &[("ACTIVATION", activation), ("READOUT", readout)],
        )?;
        let plane = block.rows * block.columns;
        let mut recorder = gpu.timed_recorder("rntk tile");
        let uniform = recorder.uniform(&params)?;
        let grid = grid_1d(gpu, plane, "rntk_tile")?;
        recorder.dispatch(
            &kernel,
            &[
                (0, rows.0.raw()),
                (1, rows.1.raw()),
                (2, rows.2.raw()),
                (3, columns.0.raw()),
                (4, columns.1.raw()),
                (5, columns.2.raw()),
                (6, self.output.raw()),
                (7, &uniform),
            ],
            grid,
            "rntk_tile",
        )?;
        let submitted = recorder.submit()?;
        let values = gpu.read_range(self.output, 0..2 * plane)?;
        Ok((values, submitted.seconds()))
    }
}
