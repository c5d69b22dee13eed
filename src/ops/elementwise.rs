//! Elementwise maps (`shaders/elementwise.wgsl`).

use bytemuck::{Pod, Zeroable};

use crate::error::{Error, Result};
use crate::gpu::{grid_1d, GpuBuffer, Recorder};
use crate::shaders;

/// A function applied to every element.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum UnaryOp {
    /// scale * x + shift.
    Affine {
        /// Factor.
        scale: f32,
        /// Offset.
        shift: f32,
    },
    /// max(x, 0).
    Relu,
    /// e^x.
    Exp,
    /// Natural logarithm.
    Log,
    /// Square root.
    Sqrt,
    /// |x|.
    Abs,
    /// x^2.
    Square,
    /// sin(x).
    Sin,
    /// cos(x).
    Cos,
    /// tanh(x).
    Tanh,
    /// 1 / (1 + e^-x).
    Sigmoid,
    /// The error function.
    Erf,
    /// 1 / x.
    Reciprocal,
    /// x clamped to [min, max].
    Clamp {
        /// Lower bound.
        min: f32,
        /// Upper bound.
        max: f32,
    },
    /// scale * x^exponent, for x > 0.
    Power {
        /// Factor.
        scale: f32,
        /// Exponent.
        exponent: f32,
    },
    /// 1 where x > 0, else 0 (the derivative of ReLU).
    ReluDerivative,
}

impl UnaryOp {
    /// Shader OP code and the two scalar parameters.
    fn encode(self) -> (u32, f32, f32) {
        match self {
            UnaryOp::Affine { scale, shift } => (0, scale, shift),
            UnaryOp::Relu => (1, 0.0, 0.0),
            UnaryOp::Exp => (2, 0.0, 0.0),
            UnaryOp::Log => (3, 0.0, 0.0),
            UnaryOp::Sqrt => (4, 0.0, 0.0),
            UnaryOp::Abs => (5, 0.0, 0.0),
            UnaryOp::Square => (6, 0.0, 0.0),
            UnaryOp::Sin => (7, 0.0, 0.0),
            UnaryOp::Cos => (8, 0.0, 0.0),
            UnaryOp::Tanh => (9, 0.0, 0.0),
            UnaryOp::Sigmoid => (10, 0.0, 0.0),
            UnaryOp::Erf => (11, 0.0, 0.0),
            UnaryOp::Reciprocal => (12, 0.0, 0.0),
            UnaryOp::Clamp { min, max } => (13, min, max),
            UnaryOp::Power { scale, exponent } => (14, scale, exponent),
            UnaryOp::ReluDerivative => (15, 0.0, 0.0),
        }
    }
}

/// A function of two arrays, applied element by element.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum BinaryOp {
    /// x + y.
    Add,
    /// x - y.
    Subtract,
    /// x * y.
    Multiply,
    /// x / y.
    Divide,
    /// max(x, y).
    Max,
    /// min(x, y).
    Min,
    /// a x + b y.
    Axpby {
        /// Factor on x.
        a: f32,
        /// Factor on y.
        b: f32,
    },
}

impl BinaryOp {
    fn encode(self) -> (u32, f32, f32) {
        match self {
            BinaryOp::Add => (0, 0.0, 0.0),
            BinaryOp::Subtract => (1, 0.0, 0.0),
            BinaryOp::Multiply => (2, 0.0, 0.0),
            BinaryOp::Divide => (3, 0.0, 0.0),
            BinaryOp::Max => (4, 0.0, 0.0),
            BinaryOp::Min => (5, 0.0, 0.0),
            BinaryOp::Axpby { a, b } => (6, a, b),
        }
    }
}

/// Broadcasting rule for the second operand of [`map_binary`]; the first
/// operand is read as a row-major matrix with `columns` columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Broadcast {
    /// y has the same length as x.
    None,
    /// y is a row of `columns` values added to every row of x.
    Row {
        /// Columns of x.
        columns: usize,
    },
    /// y contains one value per row of x.
    Column {
        /// Columns of x.
        columns: usize,
    },
    /// y contains a single value.
    Scalar,
}

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct MapParams {
    length: u32,
    columns: u32,
    broadcast: u32,
    padding0: u32,
    p: f32,
    q: f32,
    padding1: [f32; 2],
}

fn map_params(length: usize, columns: usize, broadcast: u32, p: f32, q: f32) -> Result<MapParams> {
    let length = u32::try_from(length).map_err(|_| Error::InvalidArgument {
        name: "elementwise length",
        value: length.to_string(),
        expected: "at most 2^32 - 1 elements; split the array".to_string(),
    })?;
    Ok(MapParams {
        length,
        columns: columns as u32,
        broadcast,
        padding0: 0,
        p,
        q,
        padding1: [0.0; 2],
    })
}

/// Records `f(x)` into a new buffer.
pub fn map_unary(
    recorder: &mut Recorder,
    x: &GpuBuffer<f32>,
    op: UnaryOp,
) -> Result<GpuBuffer<f32>> {
    let gpu = recorder.gpu();
    let output = gpu.create_buffer::<f32>(x.len(), "map_unary output")?;
    let (code, p, q) = op.encode();
    let kernel = gpu.kernel(&shaders::ELEMENTWISE, "map_unary", &[("OP", code as f64)])?;
    let params = recorder.uniform(&map_params(x.len(), 1, 0, p, q)?)?;
    let grid = grid_1d(gpu, x.len(), "map_unary")?;
    recorder.dispatch(
        &kernel,
        &[(0, x.raw()), (2, output.raw()), (3, &params)],
        grid,
        "map_unary",
    )?;
    Ok(output)
}

/// Records `x = f(x)`.
pub fn map_unary_in_place(recorder: &mut Recorder, x: &GpuBuffer<f32>, op: UnaryOp) -> Result<()> {
    let gpu = recorder.gpu();
    let (code, p, q) = op.encode();
    let kernel = gpu.kernel(
        &shaders::ELEMENTWISE,
        "map_unary_in_place",
        &[("OP", code as f64)],
    )?;
    let params = recorder.uniform(&map_params(x.len(), 1, 0, p, q)?)?;
    let grid = grid_1d(gpu, x.len(), "map_unary_in_place")?;
    recorder.dispatch(
        &kernel,
        &[(2, x.raw()), (3, &params)],
        grid,
        "map_unary_in_place",
    )
}

/// Records `f(x, y)` into a new buffer, with `y` spread by `broadcast`.
pub fn map_binary(
    recorder: &mut Recorder,
    x: &GpuBuffer<f32>,
    y: &GpuBuffer<f32>,
    op: BinaryOp,
    broadcast: Broadcast,
) -> Result<GpuBuffer<f32>> {
    let (mode, columns, expected_y) = match broadcast {
        Broadcast::None => (0, 1, Some(x.len())),
        Broadcast::Row { columns } => (
            1,
            columns,
            (columns > 0 && x.len() % columns == 0).then_some(columns),
        ),
        Broadcast::Column { columns } => (
            2,
            columns,
            (columns > 0 && x.len() % columns == 0).then(|| x.len() / columns),
        ),
        Broadcast::Scalar => (3, 1, Some(1)),
    };
    if expected_y != Some(y.len()) {
        return Err(Error::ShapeMismatch {
            operation: "map_binary",
            message: format!(
                "x has {} values and y has {}, which does not fit broadcast {broadcast:?}{}",
                x.len(),
                y.len(),
                match expected_y {
                    Some(expected) => format!(" (y needs {expected} values)"),
                    None => " (x's length must be a positive multiple of columns)".to_string(),
                }
            ),
        });
    }

    let gpu = recorder.gpu();
    let output = gpu.create_buffer::<f32>(x.len(), "map_binary output")?;
    let (code, p, q) = op.encode();
    let kernel = gpu.kernel(&shaders::ELEMENTWISE, "map_binary", &[("OP", code as f64)])?;
    let params = recorder.uniform(&map_params(x.len(), columns, mode, p, q)?)?;
    let grid = grid_1d(gpu, x.len(), "map_binary")?;
    recorder.dispatch(
        &kernel,
        &[(0, x.raw()), (1, y.raw()), (2, output.raw()), (3, &params)],
        grid,
        "map_binary",
    )?;
    Ok(output)
}
