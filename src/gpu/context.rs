//! Adapter selection, device creation and error capture.
//!
//! [`Gpu`] owns one wgpu device. Every operation that can fail on the GPU runs
//! inside [`Gpu::scoped`], which pushes out-of-memory, validation and internal
//! error scopes, so wgpu's errors come back as [`Error`] values instead of
//! reaching wgpu's default handler (which panics).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::error::{Error, Result};
use crate::gpu::pipeline::PipelineCache;

/// How to choose an adapter. [`GpuOptions::from_env`] reads the variables
/// that wgpu's own tools use.
#[derive(Debug, Clone)]
pub struct GpuOptions {
    /// Backends to search (`WGPU_BACKEND`, a comma-separated list of
    /// `vulkan`, `metal`, `dx12`, `gl`).
    pub backends: wgpu::Backends,
    /// Preferred kind of adapter (`WGPU_POWER_PREF`: `high`, `low` or `none`).
    pub power_preference: wgpu::PowerPreference,
    /// Case-insensitive substring of the adapter name (`WGPU_ADAPTER_NAME`).
    pub adapter_name: Option<String>,
    /// Index into the adapter list of [`enumerate_adapters`] (as `maso info`
    /// prints it); when set, it overrides the other selection rules.
    pub adapter_index: Option<usize>,
    /// Maximum wait for one submission before [`Error::Poll`] (`MASO_GPU_TIMEOUT`,
    /// seconds; default one hour).
    pub poll_timeout: Duration,
}

impl Default for GpuOptions {
    fn default() -> Self {
        Self {
            backends: wgpu::Backends::VULKAN
                | wgpu::Backends::METAL
                | wgpu::Backends::DX12
                | wgpu::Backends::GL,
            power_preference: wgpu::PowerPreference::None,
            adapter_name: None,
            adapter_index: None,
            poll_timeout: Duration::from_secs(3600),
        }
    }
}

impl GpuOptions {
    /// Reads `WGPU_BACKEND`, `WGPU_POWER_PREF`, `WGPU_ADAPTER_NAME` and
    /// `MASO_GPU_TIMEOUT`, falling back to the defaults for unset variables.
    pub fn from_env() -> Result<Self> {
        let mut options = Self::default();
        if let Some(value) = non_empty_env("WGPU_BACKEND") {
            options.backends = parse_backends(&value)?;
        }
        if let Some(value) = non_empty_env("WGPU_POWER_PREF") {
            options.power_preference = parse_power_preference(&value)?;
        }
        options.adapter_name = non_empty_env("WGPU_ADAPTER_NAME");
        if let Some(value) = non_empty_env("MASO_GPU_TIMEOUT") {
            let seconds: f64 = value
                .trim()
                .parse()
                .ok()
                .filter(|s: &f64| *s > 0.0 && s.is_finite())
                .ok_or(Error::InvalidEnvironment {
                    variable: "MASO_GPU_TIMEOUT",
                    value: value.clone(),
                    expected: "a positive number of seconds",
                })?;
            options.poll_timeout = Duration::from_secs_f64(seconds);
        }
        Ok(options)
    }
}

fn non_empty_env(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .filter(|value| !value.trim().is_empty())
}

/// Parses a comma-separated backend list such as `vulkan,gl`.
pub fn parse_backends(list: &str) -> Result<wgpu::Backends> {
    let mut backends = wgpu::Backends::empty();
    for name in list.split(',') {
        backends |= match name.trim().to_ascii_lowercase().as_str() {
            "vulkan" | "vk" => wgpu::Backends::VULKAN,
            "metal" | "mtl" => wgpu::Backends::METAL,
            "dx12" | "d3d12" => wgpu::Backends::DX12,
            "gl" | "gles" | "opengl" => wgpu::Backends::GL,
            _ => {
                return Err(Error::InvalidEnvironment {
                    variable: "WGPU_BACKEND",
                    value: list.to_string(),
                    expected: "a comma-separated list of vulkan, metal, dx12, gl",
                })
            }
        };
    }
    Ok(backends)
}

fn parse_power_preference(value: &str) -> Result<wgpu::PowerPreference> {
    match value.trim().to_ascii_lowercase().as_str() {
        "high" => Ok(wgpu::PowerPreference::HighPerformance),
        "low" => Ok(wgpu::PowerPreference::LowPower),
        "none" => Ok(wgpu::PowerPreference::None),
        _ => Err(Error::InvalidEnvironment {
            variable: "WGPU_POWER_PREF",
            value: value.to_string(),
            expected: "high, low or none",
        }),
    }
}

/// Lists every adapter wgpu finds for `backends`.
pub fn enumerate_adapters(backends: wgpu::Backends) -> Vec<wgpu::Adapter> {
    let instance = create_instance(backends);
    pollster::block_on(instance.enumerate_adapters(backends))
}

fn create_instance(backends: wgpu::Backends) -> wgpu::Instance {
    let mut descriptor = wgpu::InstanceDescriptor::new_without_display_handle();
    descriptor.backends = backends;
    // Ask wgpu to report out-of-memory before the driver does, where the
    // backend exposes a memory budget (Vulkan with VK_EXT_memory_budget, DX12).
    descriptor.memory_budget_thresholds = wgpu::MemoryBudgetThresholds {
        for_resource_creation: Some(95),
        for_device_loss: Some(99),
    };
    wgpu::Instance::new(descriptor)
}

/// Ranks adapters: a lower value is preferred.
fn adapter_rank(info: &wgpu::AdapterInfo, preference: wgpu::PowerPreference) -> (u8, u8) {
    use wgpu::DeviceType::*;
    let type_rank = match (preference, info.device_type) {
        (wgpu::PowerPreference::LowPower, IntegratedGpu) => 0,
        (wgpu::PowerPreference::LowPower, DiscreteGpu) => 1,
        (_, DiscreteGpu) => 0,
        (_, IntegratedGpu) => 1,
        (_, VirtualGpu) => 2,
        (_, Other) => 3,
        (_, Cpu) => 4,
    };
    // The GL backend lacks timestamp queries and has lower limits, so a native
    // backend on the same device is preferred.
    let backend_rank = match info.backend {
        wgpu::Backend::Vulkan | wgpu::Backend::Metal | wgpu::Backend::Dx12 => 0,
        _ => 1,
    };
    (type_rank, backend_rank)
}

/// Picks the adapter that `options` describe from `adapters`.
fn select_adapter(mut adapters: Vec<wgpu::Adapter>, options: &GpuOptions) -> Result<wgpu::Adapter> {
    if adapters.is_empty() {
        return Err(Error::NoAdapter {
            backends: format!("{:?}", options.backends),
        });
    }
    if let Some(index) = options.adapter_index {
        if index >= adapters.len() {
            return Err(Error::InvalidArgument {
                name: "device",
                value: index.to_string(),
                expected: format!(
                    "an adapter index below {} (see `maso info`)",
                    adapters.len()
                ),
            });
        }
        return Ok(adapters.swap_remove(index));
    }
    let candidates: Vec<wgpu::Adapter> = match &options.adapter_name {
        None => adapters,
        Some(requested) => {
            let needle = requested.to_lowercase();
            let names: Vec<String> = adapters
                .iter()
                .map(|adapter| {
                    let info = adapter.get_info();
                    format!("{:?} ({:?})", info.name, info.backend)
                })
                .collect();
            let matching: Vec<wgpu::Adapter> = adapters
                .into_iter()
                .filter(|adapter| adapter.get_info().name.to_lowercase().contains(&needle))
                .collect();
            if matching.is_empty() {
                return Err(Error::AdapterNotFound {
                    requested: requested.clone(),
                    available: names.join(", "),
                });
            }
            matching
        }
    };
    let chosen = candidates
        .into_iter()
        .min_by_key(|adapter| adapter_rank(&adapter.get_info(), options.power_preference))
        .expect("candidates is not empty");
    Ok(chosen)
}

/// Device-wide state written by wgpu's callbacks.
#[derive(Default)]
struct DeviceState {
    lost: Mutex<Option<(String, String)>>,
    uncaptured: Mutex<Vec<String>>,
}

/// One GPU device with its queue, limits and pipeline cache.
pub struct Gpu {
    _instance: wgpu::Instance,
    adapter: wgpu::Adapter,
    device: wgpu::Device,
    queue: wgpu::Queue,
    info: wgpu::AdapterInfo,
    limits: wgpu::Limits,
    features: wgpu::Features,
    poll_timeout: Duration,
    state: Arc<DeviceState>,
    pub(crate) pipelines: PipelineCache,
}

impl std::fmt::Debug for Gpu {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Gpu")
            .field("adapter", &self.info.name)
            .field("backend", &self.info.backend)
            .finish_non_exhaustive()
    }
}

impl Gpu {
    /// Opens the adapter chosen by the environment (see [`GpuOptions::from_env`]).
    pub fn new() -> Result<Self> {
        Self::with_options(&GpuOptions::from_env()?)
    }

    /// Opens the adapter that `options` select, with the adapter's own limits.
    pub fn with_options(options: &GpuOptions) -> Result<Self> {
        let instance = create_instance(options.backends);
        let adapters = pollster::block_on(instance.enumerate_adapters(options.backends));
        let adapter = select_adapter(adapters, options)?;
        let info = adapter.get_info();
        log::info!(
            "using adapter {:?} ({:?}, {:?}, driver {:?} {:?})",
            info.name,
            info.backend,
            info.device_type,
            info.driver,
            info.driver_info
        );

        // Only features maso uses are requested, so the device behaves the
        // same on every adapter that has them.
        let wanted = wgpu::Features::TIMESTAMP_QUERY;
        let features = adapter.features() & wanted;
        // The adapter's own limits, not WebGPU's defaults: storage bindings of
        // 128 MiB and more are what makes large Gram tiles possible.
        let limits = adapter.limits();
        let descriptor = wgpu::DeviceDescriptor {
            label: Some("maso device"),
            required_features: features,
            required_limits: limits.clone(),
            experimental_features: wgpu::ExperimentalFeatures::disabled(),
            memory_hints: wgpu::MemoryHints::Performance,
            trace: wgpu::Trace::Off,
        };
        let (device, queue) =
            pollster::block_on(adapter.request_device(&descriptor)).map_err(|source| {
                Error::RequestDevice {
                    adapter: info.name.clone(),
                    source,
                }
            })?;

        let state = Arc::new(DeviceState::default());
        let lost_state = Arc::clone(&state);
        device.set_device_lost_callback(move |reason, message| {
            log::error!("GPU device lost ({reason:?}): {message}");
            *lost_state
                .lost
                .lock()
                .unwrap_or_else(|poison| poison.into_inner()) =
                Some((format!("{reason:?}"), message));
        });
        let uncaptured_state = Arc::clone(&state);
        device.on_uncaptured_error(Arc::new(move |error: wgpu::Error| {
            log::error!("GPU error outside an error scope: {error}");
            uncaptured_state
                .uncaptured
                .lock()
                .unwrap_or_else(|poison| poison.into_inner())
                .push(error.to_string());
        }));

        Ok(Self {
            _instance: instance,
            adapter,
            device,
            queue,
            info,
            limits,
            features,
            poll_timeout: options.poll_timeout,
            state,
            pipelines: PipelineCache::default(),
        })
    }

    /// Returns the wgpu device, for code that records its own GPU work.
    pub fn device(&self) -> &wgpu::Device {
        &self.device
    }

    /// Returns the device's queue.
    pub fn queue(&self) -> &wgpu::Queue {
        &self.queue
    }

    /// Returns the adapter the device was created on.
    pub fn adapter(&self) -> &wgpu::Adapter {
        &self.adapter
    }

    /// Returns the adapter's name, backend, device type and driver.
    pub fn info(&self) -> &wgpu::AdapterInfo {
        &self.info
    }

    /// Returns the device's limits (equal to the adapter's).
    pub fn limits(&self) -> &wgpu::Limits {
        &self.limits
    }

    /// Returns the features enabled on the device.
    pub fn features(&self) -> wgpu::Features {
        self.features
    }

    /// Returns whether GPU timestamps are available to [`Gpu::timed_recorder`].
    pub fn supports_timestamps(&self) -> bool {
        self.features.contains(wgpu::Features::TIMESTAMP_QUERY)
    }

    /// Returns the largest buffer size, in bytes, that one storage binding accepts.
    pub fn max_storage_binding_bytes(&self) -> u64 {
        (self.limits.max_storage_buffer_binding_size as u64).min(self.limits.max_buffer_size)
    }

    /// Returns the maximum wait for one submission (see [`GpuOptions::poll_timeout`]).
    pub fn poll_timeout(&self) -> Duration {
        self.poll_timeout
    }

    /// Returns an error if the device was lost or an error escaped the scopes.
    pub fn check_healthy(&self) -> Result<()> {
        if let Some((reason, message)) = self
            .state
            .lost
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
        {
            return Err(Error::DeviceLost { reason, message });
        }
        let escaped: Vec<String> = std::mem::take(
            &mut *self
                .state
                .uncaptured
                .lock()
                .unwrap_or_else(|p| p.into_inner()),
        );
        if !escaped.is_empty() {
            return Err(Error::Validation {
                operation: "earlier GPU work recorded outside maso's error scopes".to_string(),
                message: escaped.join("; "),
            });
        }
        Ok(())
    }

    /// Runs `body` inside out-of-memory, validation and internal error scopes
    /// and turns what they catch into an [`Error`] naming `operation`.
    ///
    /// Error scopes belong to the calling thread, so concurrent threads sharing
    /// one `Gpu` each see their own errors.
    pub fn scoped<T>(&self, operation: &str, body: impl FnOnce() -> Result<T>) -> Result<T> {
        self.check_healthy()?;
        let out_of_memory = self.device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
        let validation = self.device.push_error_scope(wgpu::ErrorFilter::Validation);
        let internal = self.device.push_error_scope(wgpu::ErrorFilter::Internal);

        let value = body();

        // Scopes pop in reverse order of their creation.
        let internal = pollster::block_on(internal.pop());
        let validation = pollster::block_on(validation.pop());
        let out_of_memory = pollster::block_on(out_of_memory.pop());
        let operation = operation.to_string();
        if let Some(error) = out_of_memory {
            return Err(Error::OutOfMemory {
                operation,
                message: error.to_string(),
            });
        }
        if let Some(error) = validation {
            return Err(Error::Validation {
                operation,
                message: error.to_string(),
            });
        }
        if let Some(error) = internal {
            return Err(Error::Internal {
                operation,
                message: error.to_string(),
            });
        }
        self.check_healthy()?;
        value
    }

    /// Blocks until `submission` has finished on the GPU.
    pub(crate) fn wait_for(
        &self,
        submission: wgpu::SubmissionIndex,
        operation: &str,
    ) -> Result<()> {
        let poll = self.device.poll(wgpu::PollType::Wait {
            submission_index: Some(submission),
            timeout: Some(self.poll_timeout),
        });
        if let Err(error) = poll {
            self.check_healthy()?;
            return Err(Error::Poll(format!(
                "{operation}: {error} (timeout {:.0} s; raise MASO_GPU_TIMEOUT for longer submissions)",
                self.poll_timeout.as_secs_f64()
            )));
        }
        self.check_healthy()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backend_list_parses_aliases() {
        let parsed = parse_backends("Vulkan, gl").unwrap();
        assert_eq!(parsed, wgpu::Backends::VULKAN | wgpu::Backends::GL);
        assert_eq!(parse_backends("mtl").unwrap(), wgpu::Backends::METAL);
    }

    #[test]
    fn backend_list_rejects_unknown_name() {
        let error = parse_backends("vulkan,cuda").unwrap_err().to_string();
        assert!(error.contains("WGPU_BACKEND"), "{error}");
        assert!(error.contains("vulkan,cuda"), "{error}");
    }

    #[test]
    fn power_preference_rejects_unknown_value() {
        let error = parse_power_preference("fast").unwrap_err().to_string();
        assert!(error.contains("high, low or none"), "{error}");
    }
}
