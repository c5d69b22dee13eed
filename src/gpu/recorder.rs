//! Batching many dispatches into one command encoder and one submission,
//! with optional GPU timestamps per dispatch.

use std::time::Instant;

use bytemuck::Pod;

use crate::error::{Error, Result};
use crate::gpu::{Gpu, GpuBuffer, Kernel};

/// Queries per timestamp query set (two per timed dispatch). WebGPU allows
/// at most 4096 queries per set.
const QUERIES_PER_SET: u32 = 512;

/// Clock behind the durations in a [`SubmitReport`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimingSource {
    /// GPU timestamp queries written at the start and end of each pass.
    Timestamps,
    /// Host wall-clock time from submission to completion (the adapter has no
    /// timestamp queries, or timing was not requested).
    WallClock,
}

/// Duration of one recorded dispatch.
#[derive(Debug, Clone)]
pub struct DispatchTiming {
    /// The label passed to [`Recorder::dispatch`].
    pub label: String,
    /// Seconds between the pass's start and end timestamps.
    pub seconds: f64,
}

/// Outcome of [`Recorder::submit`].
#[derive(Debug, Clone)]
pub struct SubmitReport {
    /// Number of dispatches recorded.
    pub dispatches: usize,
    /// Host seconds from submission until the GPU finished.
    pub wall_seconds: f64,
    /// GPU seconds from the first pass's start to the last pass's end, when
    /// timestamps were recorded.
    pub gpu_seconds: Option<f64>,
    /// Per-dispatch GPU durations, when timestamps were recorded.
    pub per_dispatch: Vec<DispatchTiming>,
}

impl SubmitReport {
    /// Returns the best available duration: GPU time if measured, else wall-clock.
    pub fn seconds(&self) -> f64 {
        self.gpu_seconds.unwrap_or(self.wall_seconds)
    }

    /// Returns the clock that [`SubmitReport::seconds`] uses.
    pub fn source(&self) -> TimingSource {
        if self.gpu_seconds.is_some() {
            TimingSource::Timestamps
        } else {
            TimingSource::WallClock
        }
    }
}

/// Records dispatches and copies into one command encoder.
///
/// Nothing runs until [`Recorder::submit`], which sends one command buffer
/// and waits for it. Buffers bound in a dispatch stay alive until then, since
/// wgpu holds references to them.
pub struct Recorder<'gpu> {
    gpu: &'gpu Gpu,
    encoder: wgpu::CommandEncoder,
    label: String,
    query_sets: Option<Vec<wgpu::QuerySet>>,
    timed_labels: Vec<String>,
    dispatches: usize,
}

impl Gpu {
    /// Starts a recorder whose submission is timed by the wall clock.
    pub fn recorder(&self, label: &str) -> Recorder<'_> {
        Recorder::new(self, label, false)
    }

    /// Starts a recorder that writes GPU timestamps around every dispatch when
    /// the adapter supports them (see [`Gpu::supports_timestamps`]).
    pub fn timed_recorder(&self, label: &str) -> Recorder<'_> {
        Recorder::new(self, label, self.supports_timestamps())
    }
}

impl<'gpu> Recorder<'gpu> {
    fn new(gpu: &'gpu Gpu, label: &str, timed: bool) -> Self {
        let encoder = gpu
            .device()
            .create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some(label) });
        Self {
            gpu,
            encoder,
            label: label.to_string(),
            query_sets: timed.then(Vec::new),
            timed_labels: Vec::new(),
            dispatches: 0,
        }
    }

    /// Returns the device this recorder records for.
    pub fn gpu(&self) -> &'gpu Gpu {
        self.gpu
    }

    /// Number of dispatches recorded so far.
    pub fn dispatch_count(&self) -> usize {
        self.dispatches
    }

    /// Creates a uniform buffer for kernel parameters.
    pub fn uniform<P: Pod>(&self, value: &P) -> Result<wgpu::Buffer> {
        self.gpu.create_uniform(value, "maso kernel parameters")
    }

    /// Records one dispatch of `kernel` with `bindings` as (binding number,
    /// buffer) pairs of bind group 0.
    pub fn dispatch(
        &mut self,
        kernel: &Kernel,
        bindings: &[(u32, &wgpu::Buffer)],
        workgroups: [u32; 3],
        label: &str,
    ) -> Result<()> {
        let limit = self.gpu.limits().max_compute_workgroups_per_dimension;
        if let Some(&too_many) = workgroups.iter().find(|&&count| count > limit) {
            return Err(Error::TooManyWorkgroups {
                what: format!("dispatch {label:?} of {}", kernel.label()),
                requested: too_many as u64,
                limit,
            });
        }
        if workgroups.contains(&0) {
            return Ok(());
        }

        let timestamp_index = self.next_timestamp_slot(label);
        let gpu = self.gpu;
        let encoder = &mut self.encoder;
        let query_sets = &self.query_sets;
        gpu.scoped(&format!("recording {label:?} ({})", kernel.label()), || {
            let entries: Vec<wgpu::BindGroupEntry> = bindings
                .iter()
                .map(|(binding, buffer)| wgpu::BindGroupEntry {
                    binding: *binding,
                    resource: buffer.as_entire_binding(),
                })
                .collect();
            let bind_group = gpu.device().create_bind_group(&wgpu::BindGroupDescriptor {
                label: Some(label),
                layout: kernel.bind_group_layout(),
                entries: &entries,
            });
            let timestamp_writes = match (query_sets, timestamp_index) {
                (Some(sets), Some((set, query))) => Some(wgpu::ComputePassTimestampWrites {
                    query_set: &sets[set],
                    beginning_of_pass_write_index: Some(query),
                    end_of_pass_write_index: Some(query + 1),
                }),
                _ => None,
            };
            let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some(label),
                timestamp_writes,
            });
            pass.set_pipeline(kernel.pipeline());
            pass.set_bind_group(0, &bind_group, &[]);
            pass.dispatch_workgroups(workgroups[0], workgroups[1], workgroups[2]);
            Ok(())
        })?;
        self.dispatches += 1;
        Ok(())
    }

    /// Records filling the whole of `buffer` with zeros.
    pub fn clear<T: Pod>(&mut self, buffer: &GpuBuffer<T>) {
        self.encoder.clear_buffer(buffer.raw(), 0, None);
    }

    /// Records a copy of `source[source_offset..source_offset + len]` into
    /// `destination` at `destination_offset` (element offsets).
    pub fn copy<T: Pod>(
        &mut self,
        source: &GpuBuffer<T>,
        source_offset: usize,
        destination: &GpuBuffer<T>,
        destination_offset: usize,
        len: usize,
    ) -> Result<()> {
        let in_range = |offset: usize, buffer: &GpuBuffer<T>| {
            offset
                .checked_add(len)
                .is_some_and(|end| end <= buffer.len())
        };
        if !in_range(source_offset, source) || !in_range(destination_offset, destination) {
            return Err(Error::InvalidArgument {
                name: "copy range",
                value: format!("{len} elements from {source_offset} to {destination_offset}"),
                expected: format!(
                    "ranges inside {:?} ({} elements) and {:?} ({} elements)",
                    source.label(),
                    source.len(),
                    destination.label(),
                    destination.len()
                ),
            });
        }
        let element = std::mem::size_of::<T>() as u64;
        let (from, to, bytes) = (
            source_offset as u64 * element,
            destination_offset as u64 * element,
            len as u64 * element,
        );
        if from % 4 != 0 || to % 4 != 0 || bytes % 4 != 0 {
            return Err(Error::InvalidArgument {
                name: "copy range",
                value: format!("{bytes} bytes from byte {from} to byte {to}"),
                expected: "offsets and sizes that are multiples of 4 bytes".to_string(),
            });
        }
        if len == 0 {
            return Ok(());
        }
        let gpu = self.gpu;
        let encoder = &mut self.encoder;
        gpu.scoped("recording a buffer copy", || {
            encoder.copy_buffer_to_buffer(source.raw(), from, destination.raw(), to, bytes);
            Ok(())
        })
    }

    /// Reserves two timestamp queries for the next dispatch, if timing.
    fn next_timestamp_slot(&mut self, label: &str) -> Option<(usize, u32)> {
        let sets = self.query_sets.as_mut()?;
        let query = (self.timed_labels.len() as u32 * 2) % QUERIES_PER_SET;
        if query == 0 {
            sets.push(
                self.gpu
                    .device()
                    .create_query_set(&wgpu::QuerySetDescriptor {
                        label: Some("maso dispatch timestamps"),
                        ty: wgpu::QueryType::Timestamp,
                        count: QUERIES_PER_SET,
                    }),
            );
        }
        self.timed_labels.push(label.to_string());
        Some((sets.len() - 1, query))
    }

    /// Submits everything recorded as one command buffer and waits for it.
    pub fn submit(self) -> Result<SubmitReport> {
        let Recorder {
            gpu,
            mut encoder,
            label,
            query_sets,
            timed_labels,
            dispatches,
        } = self;
        let operation = format!("submitting {label:?}");

        let report = gpu.scoped(&operation, || {
            let staging = query_sets
                .as_ref()
                .filter(|_| !timed_labels.is_empty())
                .map(|sets| resolve_timestamps(gpu, &mut encoder, sets, timed_labels.len()));
            let started = Instant::now();
            let submission = gpu.queue().submit([encoder.finish()]);
            let (gpu_seconds, per_dispatch) = match staging {
                Some(staging) => {
                    let bytes = gpu.map_and_copy(&staging, submission, &operation)?;
                    let ticks: Vec<u64> = bytemuck::pod_collect_to_vec(&bytes);
                    timings_from_ticks(gpu, &ticks, &timed_labels)
                }
                None => {
                    gpu.wait_for(submission, &operation)?;
                    (None, Vec::new())
                }
            };
            Ok(SubmitReport {
                dispatches,
                wall_seconds: started.elapsed().as_secs_f64(),
                gpu_seconds,
                per_dispatch,
            })
        })?;
        log::trace!(
            "{operation}: {} dispatches in {:.3} ms",
            report.dispatches,
            report.seconds() * 1e3
        );
        Ok(report)
    }
}

/// Records the resolution of all timestamp queries into a mappable buffer.
fn resolve_timestamps(
    gpu: &Gpu,
    encoder: &mut wgpu::CommandEncoder,
    sets: &[wgpu::QuerySet],
    timed_dispatches: usize,
) -> wgpu::Buffer {
    let total_queries = timed_dispatches as u64 * 2;
    let bytes = total_queries * 8;
    let resolve = gpu.device().create_buffer(&wgpu::BufferDescriptor {
        label: Some("maso timestamp resolve"),
        size: bytes,
        usage: wgpu::BufferUsages::QUERY_RESOLVE | wgpu::BufferUsages::COPY_SRC,
        mapped_at_creation: false,
    });
    let staging = gpu.device().create_buffer(&wgpu::BufferDescriptor {
        label: Some("maso timestamp staging"),
        size: bytes,
        usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    });
    for (index, set) in sets.iter().enumerate() {
        let first = index as u64 * QUERIES_PER_SET as u64;
        let count = (total_queries - first).min(QUERIES_PER_SET as u64) as u32;
        encoder.resolve_query_set(set, 0..count, &resolve, first * 8);
    }
    encoder.copy_buffer_to_buffer(&resolve, 0, &staging, 0, bytes);
    staging
}

fn timings_from_ticks(
    gpu: &Gpu,
    ticks: &[u64],
    labels: &[String],
) -> (Option<f64>, Vec<DispatchTiming>) {
    let period_seconds = gpu.queue().get_timestamp_period() as f64 * 1e-9;
    let per_dispatch: Vec<DispatchTiming> = labels
        .iter()
        .enumerate()
        .map(|(index, label)| DispatchTiming {
            label: label.clone(),
            seconds: ticks[2 * index + 1].saturating_sub(ticks[2 * index]) as f64 * period_seconds,
        })
        .collect();
    let first = ticks.iter().step_by(2).min().copied().unwrap_or(0);
    let last = ticks.iter().skip(1).step_by(2).max().copied().unwrap_or(0);
    (
        Some(last.saturating_sub(first) as f64 * period_seconds),
        per_dispatch,
    )
}
