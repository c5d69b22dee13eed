//! The library's error type.

use std::path::PathBuf;

/// Advice shown in [`Error::NoAdapter`] on how to get an adapter.
pub const NO_ADAPTER_HELP: &str = "maso needs a Vulkan, Metal, DX12 or OpenGL adapter. \
On headless Linux without a GPU, install Mesa's software Vulkan driver (lavapipe): \
`sudo apt-get install mesa-vulkan-drivers` on Debian or Ubuntu; with a GPU, install its vendor driver. \
Run `maso info` to list the adapters wgpu finds";

/// Errors returned by maso.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// wgpu found no adapter for the requested backends.
    #[error("no GPU adapter found (backends: {backends}). {help}", help = NO_ADAPTER_HELP)]
    NoAdapter {
        /// The backends that were searched.
        backends: String,
    },

    /// `WGPU_ADAPTER_NAME` matched none of the adapters found.
    #[error(
        "no adapter name contains {requested:?} (from WGPU_ADAPTER_NAME); adapters found: {available}. \
         Set WGPU_ADAPTER_NAME to part of one of these names, or unset it"
    )]
    AdapterNotFound {
        /// The requested substring.
        requested: String,
        /// Names of the adapters that were found.
        available: String,
    },

    /// An environment variable contains a value maso does not accept.
    #[error("invalid {variable}={value:?}: expected {expected}")]
    InvalidEnvironment {
        /// Name of the variable.
        variable: &'static str,
        /// Value found.
        value: String,
        /// Accepted values.
        expected: &'static str,
    },

    /// The adapter refused to create a device.
    #[error("failed to create a device on adapter {adapter:?}: {source}")]
    RequestDevice {
        /// Adapter name.
        adapter: String,
        /// The wgpu error.
        source: wgpu::RequestDeviceError,
    },

    /// A WGSL shader failed to parse or validate.
    #[error("shader {label:?} is invalid:\n{report}")]
    Shader {
        /// Label of the shader.
        label: String,
        /// naga's report with file, line and column.
        report: String,
    },

    /// wgpu reported a validation error.
    #[error("GPU validation error in {operation}: {message}")]
    Validation {
        /// Operation maso was running.
        operation: String,
        /// wgpu's description.
        message: String,
    },

    /// The device ran out of memory.
    #[error("GPU out of memory in {operation}: {message}. Use smaller sizes or tiles, or free other GPU work")]
    OutOfMemory {
        /// Operation maso was running.
        operation: String,
        /// wgpu's description.
        message: String,
    },

    /// wgpu reported an internal error (for example a shader the driver could not compile).
    #[error("GPU internal error in {operation}: {message}")]
    Internal {
        /// Operation maso was running.
        operation: String,
        /// wgpu's description.
        message: String,
    },

    /// The device was lost (driver reset, removal, or destruction).
    #[error("GPU device lost ({reason}): {message}. Create a new `Gpu` to continue")]
    DeviceLost {
        /// wgpu's reason code.
        reason: String,
        /// The driver's message.
        message: String,
    },

    /// A resource would exceed one of the device's limits.
    #[error(
        "{what} needs {requested} bytes, but this adapter allows at most {limit} bytes ({limit_name}). \
         Split the work into smaller pieces"
    )]
    ExceedsLimit {
        /// The resource.
        what: String,
        /// Requested size in bytes.
        requested: u64,
        /// The adapter's limit in bytes.
        limit: u64,
        /// The wgpu limit's name.
        limit_name: &'static str,
    },

    /// A dispatch would need more workgroups than the adapter allows.
    #[error(
        "{what} needs {requested} workgroups along one dimension, but this adapter allows at most {limit}. \
         Split the work into smaller pieces"
    )]
    TooManyWorkgroups {
        /// The dispatch.
        what: String,
        /// Workgroups requested.
        requested: u64,
        /// The adapter's limit.
        limit: u32,
    },

    /// Operand shapes do not fit together.
    #[error("shape mismatch in {operation}: {message}")]
    ShapeMismatch {
        /// The operation.
        operation: &'static str,
        /// Description of the disagreeing shapes.
        message: String,
    },

    /// An argument is outside its allowed range.
    #[error("invalid {name} = {value}: {expected}")]
    InvalidArgument {
        /// Name of the argument.
        name: &'static str,
        /// Value given.
        value: String,
        /// Allowed range or values.
        expected: String,
    },

    /// Mapping a buffer for reading failed.
    #[error("failed to read back {what} from the GPU: {message}")]
    ReadBack {
        /// The buffer.
        what: String,
        /// wgpu's description.
        message: String,
    },

    /// Waiting for the GPU failed or timed out.
    #[error("waiting for the GPU failed: {0}")]
    Poll(String),

    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },

    /// A figure could not be drawn or saved.
    #[error("failed to draw figure {path}: {message}")]
    Plot {
        /// The PNG file.
        path: PathBuf,
        /// Description of the failure.
        message: String,
    },

    /// A `.npy` file is malformed or has an unsupported layout.
    #[error("{path}: invalid .npy file: {message}")]
    Npy {
        /// The file.
        path: PathBuf,
        /// Problem found and how to fix it.
        message: String,
    },

    /// A data set file is malformed, or data set values fail validation.
    #[error("invalid data set {origin}: {message}")]
    Dataset {
        /// The file, directory or data set name where the problem was found.
        origin: String,
        /// Problem found and how to fix it.
        message: String,
    },
}

/// Shorthand for results with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
