//! Typed storage buffers, upload and read-back.

use std::marker::PhantomData;
use std::sync::mpsc;

use bytemuck::Pod;
use wgpu::util::DeviceExt;

use crate::error::{Error, Result};
use crate::gpu::Gpu;

/// A storage buffer of `len` values of `T` on the GPU.
///
/// wgpu zero-fills new buffers, so a buffer from [`Gpu::create_buffer`]
/// starts as zeros.
#[derive(Debug, Clone)]
pub struct GpuBuffer<T: Pod> {
    buffer: wgpu::Buffer,
    len: usize,
    label: String,
    _element: PhantomData<T>,
}

impl<T: Pod> GpuBuffer<T> {
    /// Number of elements.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Returns whether the buffer contains no elements.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Size of the elements in bytes (the allocation may be padded to 4 bytes).
    pub fn size_bytes(&self) -> u64 {
        (self.len * std::mem::size_of::<T>()) as u64
    }

    /// Returns the underlying wgpu buffer, for binding in custom pipelines.
    pub fn raw(&self) -> &wgpu::Buffer {
        &self.buffer
    }

    /// Returns the label given at creation, used in error messages.
    pub fn label(&self) -> &str {
        &self.label
    }
}

/// Usages of every maso storage buffer: bound in shaders, filled by uploads
/// and copies, and copied out to staging buffers for read-back.
const STORAGE_USAGES: wgpu::BufferUsages = wgpu::BufferUsages::STORAGE
    .union(wgpu::BufferUsages::COPY_SRC)
    .union(wgpu::BufferUsages::COPY_DST);

/// Allocation size: copies and bindings need a non-zero multiple of 4 bytes.
fn padded_size(bytes: u64) -> u64 {
    bytes.max(4).div_ceil(4) * 4
}

impl Gpu {
    /// Checks that `bytes` fit in one storage binding of this device.
    pub fn check_storage_size(&self, what: &str, bytes: u64) -> Result<()> {
        if bytes > self.limits().max_buffer_size {
            return Err(Error::ExceedsLimit {
                what: what.to_string(),
                requested: bytes,
                limit: self.limits().max_buffer_size,
                limit_name: "max_buffer_size",
            });
        }
        let binding_limit = self.limits().max_storage_buffer_binding_size as u64;
        if bytes > binding_limit {
            return Err(Error::ExceedsLimit {
                what: what.to_string(),
                requested: bytes,
                limit: binding_limit,
                limit_name: "max_storage_buffer_binding_size",
            });
        }
        Ok(())
    }

    fn checked_bytes<T: Pod>(&self, label: &str, len: usize) -> Result<u64> {
        let bytes = (len as u64)
            .checked_mul(std::mem::size_of::<T>() as u64)
            .ok_or_else(|| Error::InvalidArgument {
                name: "buffer length",
                value: len.to_string(),
                expected: "a length whose size in bytes fits in 64 bits".to_string(),
            })?;
        self.check_storage_size(&format!("buffer {label:?}"), bytes)?;
        Ok(bytes)
    }

    /// Creates a zero-filled storage buffer of `len` elements.
    pub fn create_buffer<T: Pod>(&self, len: usize, label: &str) -> Result<GpuBuffer<T>> {
        let bytes = self.checked_bytes::<T>(label, len)?;
        let buffer = self.scoped(&format!("creating buffer {label:?}"), || {
            Ok(self.device().create_buffer(&wgpu::BufferDescriptor {
                label: Some(label),
                size: padded_size(bytes),
                usage: STORAGE_USAGES,
                mapped_at_creation: false,
            }))
        })?;
        Ok(GpuBuffer {
            buffer,
            len,
            label: label.to_string(),
            _element: PhantomData,
        })
    }

    /// Creates a storage buffer holding a copy of `data`.
    pub fn upload<T: Pod>(&self, data: &[T], label: &str) -> Result<GpuBuffer<T>> {
        let bytes = self.checked_bytes::<T>(label, data.len())?;
        let mut contents = bytemuck::cast_slice::<T, u8>(data).to_vec();
        contents.resize(padded_size(bytes) as usize, 0);
        let buffer = self.scoped(&format!("uploading buffer {label:?}"), || {
            Ok(self
                .device()
                .create_buffer_init(&wgpu::util::BufferInitDescriptor {
                    label: Some(label),
                    contents: &contents,
                    usage: STORAGE_USAGES,
                }))
        })?;
        Ok(GpuBuffer {
            buffer,
            len: data.len(),
            label: label.to_string(),
            _element: PhantomData,
        })
    }

    /// Overwrites elements `offset..offset + data.len()` of `buffer`.
    ///
    /// Writes are ordered before every later submission on this device.
    pub fn write<T: Pod>(&self, buffer: &GpuBuffer<T>, offset: usize, data: &[T]) -> Result<()> {
        let end = offset
            .checked_add(data.len())
            .filter(|end| *end <= buffer.len);
        if end.is_none() {
            return Err(Error::InvalidArgument {
                name: "write range",
                value: format!("{offset}..{}", offset.saturating_add(data.len())),
                expected: format!(
                    "a range inside buffer {:?} of {} elements",
                    buffer.label, buffer.len
                ),
            });
        }
        let element = std::mem::size_of::<T>();
        let byte_offset = offset * element;
        let byte_len = data.len() * element;
        if byte_offset % 4 != 0 || byte_len % 4 != 0 {
            return Err(Error::InvalidArgument {
                name: "write range",
                value: format!("{byte_len} bytes at byte offset {byte_offset}"),
                expected: "an offset and a length that are multiples of 4 bytes".to_string(),
            });
        }
        if data.is_empty() {
            return Ok(());
        }
        self.scoped(&format!("writing buffer {:?}", buffer.label), || {
            self.queue().write_buffer(
                &buffer.buffer,
                byte_offset as u64,
                bytemuck::cast_slice(data),
            );
            Ok(())
        })
    }

    /// Copies the whole buffer back to the host.
    pub fn read<T: Pod>(&self, buffer: &GpuBuffer<T>) -> Result<Vec<T>> {
        self.read_range(buffer, 0..buffer.len)
    }

    /// Copies elements `range` of `buffer` back to the host.
    ///
    /// The data goes through a mappable staging buffer, because storage
    /// buffers cannot be mapped on most adapters.
    pub fn read_range<T: Pod>(
        &self,
        buffer: &GpuBuffer<T>,
        range: std::ops::Range<usize>,
    ) -> Result<Vec<T>> {
        if range.start > range.end || range.end > buffer.len {
            return Err(Error::InvalidArgument {
                name: "read range",
                value: format!("{range:?}"),
                expected: format!(
                    "a range inside buffer {:?} of {} elements",
                    buffer.label, buffer.len
                ),
            });
        }
        if range.is_empty() {
            return Ok(Vec::new());
        }
        let element = std::mem::size_of::<T>() as u64;
        let byte_start = range.start as u64 * element;
        let byte_len = (range.end - range.start) as u64 * element;
        // Copies start and end on 4-byte boundaries; the extra bytes are dropped below.
        let copy_start = byte_start / 4 * 4;
        let copy_len = padded_size(byte_start + byte_len - copy_start);
        let operation = format!("reading back buffer {:?}", buffer.label);

        let bytes = self.scoped(&operation, || {
            let staging = self.device().create_buffer(&wgpu::BufferDescriptor {
                label: Some("maso read-back staging"),
                size: copy_len,
                usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            });
            let mut encoder =
                self.device()
                    .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                        label: Some("maso read-back"),
                    });
            encoder.copy_buffer_to_buffer(&buffer.buffer, copy_start, &staging, 0, copy_len);
            let submission = self.queue().submit([encoder.finish()]);
            self.map_and_copy(&staging, submission, &operation)
        })?;

        let skip = (byte_start - copy_start) as usize;
        Ok(bytemuck::pod_collect_to_vec(
            &bytes[skip..skip + byte_len as usize],
        ))
    }

    /// Maps `staging` after `submission` completes and returns its bytes.
    pub(crate) fn map_and_copy(
        &self,
        staging: &wgpu::Buffer,
        submission: wgpu::SubmissionIndex,
        operation: &str,
    ) -> Result<Vec<u8>> {
        let (sender, receiver) = mpsc::channel();
        staging
            .slice(..)
            .map_async(wgpu::MapMode::Read, move |result| {
                // The receiver outlives the wait below; a failed send means the
                // caller already returned with an error.
                let _ = sender.send(result);
            });
        self.wait_for(submission, operation)?;
        // The map callback runs inside whichever thread's poll observes the
        // mapping complete. With several threads sharing the device, that can
        // be another thread that is still busy running callbacks after this
        // thread's wait has returned, so keep polling until it arrives.
        let deadline = std::time::Instant::now() + self.poll_timeout();
        let mapped = loop {
            match receiver.recv_timeout(std::time::Duration::from_millis(1)) {
                Ok(result) => break result,
                Err(mpsc::RecvTimeoutError::Timeout) if std::time::Instant::now() < deadline => {
                    let _ = self.device().poll(wgpu::PollType::Poll);
                    self.check_healthy()?;
                }
                Err(_) => {
                    return Err(Error::ReadBack {
                        what: operation.to_string(),
                        message: "the buffer mapping did not complete before the GPU timeout"
                            .to_string(),
                    })
                }
            }
        };
        mapped.map_err(|error| Error::ReadBack {
            what: operation.to_string(),
            message: error.to_string(),
        })?;
        let bytes = {
            let view = staging
                .slice(..)
                .get_mapped_range()
                .map_err(|error| Error::ReadBack {
                    what: operation.to_string(),
                    message: error.to_string(),
                })?;
            view.to_vec()
        };
        staging.unmap();
        Ok(bytes)
    }

    /// Creates a uniform buffer holding `value` (kernel parameters).
    pub fn create_uniform<P: Pod>(&self, value: &P, label: &str) -> Result<wgpu::Buffer> {
        self.scoped(&format!("creating uniform {label:?}"), || {
            Ok(self
                .device()
                .create_buffer_init(&wgpu::util::BufferInitDescriptor {
                    label: Some(label),
                    contents: bytemuck::bytes_of(value),
                    usage: wgpu::BufferUsages::UNIFORM,
                }))
        })
    }
}
