//! Thin wrappers that record the kernels of `shaders/nn.wgsl`.

use bytemuck::{Pod, Zeroable};

use crate::error::Result;
use crate::gpu::{grid_1d, GpuBuffer, Recorder};
use crate::shaders;

use super::graph::Activation;

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable, Default)]
pub(crate) struct NnParams {
    pub rows: u32,
    pub columns: u32,
    pub width: u32,
    pub height: u32,
    pub factor: u32,
    pub offset: u32,
    pub p: f32,
    pub q: f32,
}

impl NnParams {
    pub fn matrix(rows: usize, columns: usize) -> Self {
        Self {
            rows: rows as u32,
            columns: columns as u32,
            ..Self::default()
        }
    }

    pub fn with_p(mut self, p: f32) -> Self {
        self.p = p;
        self
    }

    pub fn with_factor(mut self, factor: usize) -> Self {
        self.factor = factor as u32;
        self
    }

    pub fn with_grid(mut self, width: usize, height: usize) -> Self {
        self.width = width as u32;
        self.height = height as u32;
        self
    }

    pub fn with_offset(mut self, offset: usize) -> Self {
        self.offset = offset as u32;
        self
    }
}

/// The buffers bound by one dispatch: inputs at bindings 0..3 and outputs at
/// 4 and 5, as the shader's header describes.
#[derive(Default)]
pub(crate) struct Bind<'a> {
    pub a: Option<&'a GpuBuffer<f32>>,
    pub b: Option<&'a GpuBuffer<f32>>,
    pub c: Option<&'a GpuBuffer<f32>>,
    pub d: Option<&'a GpuBuffer<f32>>,
    pub output: Option<&'a GpuBuffer<f32>>,
    pub output2: Option<&'a GpuBuffer<f32>>,
}

/// How many workgroups a dispatch needs.
pub(crate) enum Launch {
    /// One invocation per element of a `count`-element range.
    Elements(usize),
    /// One workgroup per column.
    Columns(usize),
}

/// Records `entry` of nn.wgsl with an activation code (ignored by entries
/// that do not read it).
pub(crate) fn dispatch(
    recorder: &mut Recorder,
    entry: &str,
    activation: Option<Activation>,
    params: NnParams,
    bind: Bind,
    launch: Launch,
) -> Result<()> {
    let gpu = recorder.gpu();
    let constants: Vec<(&str, f64)> = match activation {
        Some(activation) => vec![("ACTIVATION", activation.code() as f64)],
        None => Vec::new(),
    };
    let kernel = gpu.kernel(&shaders::NN, entry, &constants)?;
    let uniform = recorder.uniform(&params)?;
    let slots = [bind.a, bind.b, bind.c, bind.d, bind.output, bind.output2];
    let mut bindings: Vec<(u32, &wgpu::Buffer)> = slots
        .iter()
        .enumerate()
        .filter_map(|(index, buffer)| buffer.map(|buffer| (index as u32, buffer.raw())))
        .collect();
    bindings.push((6, &uniform));
    let grid = match launch {
        Launch::Elements(count) => grid_1d(gpu, count, entry)?,
        Launch::Columns(columns) => [columns as u32, 1, 1],
    };
    recorder.dispatch(&kernel, &bindings, grid, entry)
}
