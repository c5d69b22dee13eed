//! Shader compilation and a cache of compute pipelines.
//!
//! Pipelines are keyed by shader name, entry point and override constants, so
//! each combination compiles once per [`Gpu`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::error::{Error, Result};
use crate::gpu::Gpu;
use crate::shader_source::{validate_shader, AssembledShader};
use crate::shaders::EmbeddedShader;

/// A compute pipeline with its bind-group layout.
#[derive(Debug)]
pub struct Kernel {
    pipeline: wgpu::ComputePipeline,
    bind_group_layout: wgpu::BindGroupLayout,
    label: String,
}

impl Kernel {
    /// The wgpu pipeline.
    pub fn pipeline(&self) -> &wgpu::ComputePipeline {
        &self.pipeline
    }

    /// Layout of bind group 0, derived from the entry point's bindings.
    pub fn bind_group_layout(&self) -> &wgpu::BindGroupLayout {
        &self.bind_group_layout
    }

    /// `shader::entry` plus constants, for logs and errors.
    pub fn label(&self) -> &str {
        &self.label
    }
}

type PipelineKey = (String, String, Vec<(String, u64)>);

/// Compiled modules and pipelines of one device.
#[derive(Default)]
pub(crate) struct PipelineCache {
    modules: Mutex<HashMap<String, wgpu::ShaderModule>>,
    kernels: Mutex<HashMap<PipelineKey, Arc<Kernel>>>,
}

/// Number of cached shader modules and pipelines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PipelineCacheStats {
    /// Compiled shader modules.
    pub modules: usize,
    /// Compiled compute pipelines.
    pub pipelines: usize,
}

impl Gpu {
    /// Compiles WGSL `source` after validating it with naga.
    ///
    /// naga's report (with line and column) is returned as [`Error::Shader`];
    /// errors the driver raises later come back from the error scope.
    pub fn compile_shader(&self, label: &str, source: &str) -> Result<wgpu::ShaderModule> {
        let assembled = AssembledShader::from_single_source(label, source);
        validate_shader(&assembled).map_err(|report| Error::Shader {
            label: label.to_string(),
            report,
        })?;
        self.scoped(&format!("compiling shader {label:?}"), || {
            Ok(self
                .device()
                .create_shader_module(wgpu::ShaderModuleDescriptor {
                    label: Some(label),
                    source: wgpu::ShaderSource::Wgsl(source.into()),
                }))
        })
    }

    /// Creates a pipeline for `entry_point` of `module` with override `constants`.
    pub fn create_kernel(
        &self,
        module: &wgpu::ShaderModule,
        label: &str,
        entry_point: &str,
        constants: &[(&str, f64)],
    ) -> Result<Kernel> {
        let kernel_label = kernel_label(label, entry_point, constants);
        self.scoped(&format!("creating pipeline {kernel_label}"), || {
            let pipeline =
                self.device()
                    .create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                        label: Some(&kernel_label),
                        layout: None,
                        module,
                        entry_point: Some(entry_point),
                        compilation_options: wgpu::PipelineCompilationOptions {
                            constants,
                            zero_initialize_workgroup_memory: true,
                        },
                        cache: None,
                    });
            let bind_group_layout = pipeline.get_bind_group_layout(0);
            Ok(Kernel {
                pipeline,
                bind_group_layout,
                label: kernel_label.clone(),
            })
        })
    }

    /// Returns the cached pipeline for an embedded shader, compiling it once.
    pub fn kernel(
        &self,
        shader: &EmbeddedShader,
        entry_point: &str,
        constants: &[(&str, f64)],
    ) -> Result<Arc<Kernel>> {
        let key: PipelineKey = (
            shader.name.to_string(),
            entry_point.to_string(),
            constants
                .iter()
                .map(|(name, value)| (name.to_string(), value.to_bits()))
                .collect(),
        );
        if let Some(kernel) = lock(&self.pipelines.kernels).get(&key) {
            return Ok(Arc::clone(kernel));
        }

        let module = self.embedded_module(shader)?;
        let kernel = Arc::new(self.create_kernel(&module, shader.name, entry_point, constants)?);
        log::debug!("compiled pipeline {}", kernel.label());
        lock(&self.pipelines.kernels).insert(key, Arc::clone(&kernel));
        Ok(kernel)
    }

    fn embedded_module(&self, shader: &EmbeddedShader) -> Result<wgpu::ShaderModule> {
        if let Some(module) = lock(&self.pipelines.modules).get(shader.name) {
            return Ok(module.clone());
        }
        // Embedded shaders passed naga in build.rs; only the driver can still fail.
        let module = self.scoped(&format!("compiling shader {:?}", shader.name), || {
            Ok(self
                .device()
                .create_shader_module(wgpu::ShaderModuleDescriptor {
                    label: Some(shader.name),
                    source: wgpu::ShaderSource::Wgsl(shader.source.into()),
                }))
        })?;
        lock(&self.pipelines.modules).insert(shader.name.to_string(), module.clone());
        Ok(module)
    }

    /// Counts of cached modules and pipelines.
    pub fn pipeline_cache_stats(&self) -> PipelineCacheStats {
        PipelineCacheStats {
            modules: lock(&self.pipelines.modules).len(),
            pipelines: lock(&self.pipelines.kernels).len(),
        }
    }
}

fn kernel_label(shader: &str, entry_point: &str, constants: &[(&str, f64)]) -> String {
    let mut label = format!("{shader}::{entry_point}");
    if !constants.is_empty() {
        let list: Vec<String> = constants
            .iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect();
        label.push_str(&format!("[{}]", list.join(",")));
    }
    label
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poison| poison.into_inner())
}
