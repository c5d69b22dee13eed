//! Matrix products C = alpha op(A) op(B) + beta C (`shaders/gemm.wgsl`).

use bytemuck::{Pod, Zeroable};

use crate::error::{Error, Result};
use crate::gpu::Recorder;
use crate::ops::Matrix;
use crate::shaders;

/// Rows and columns of C computed by one workgroup.
const TILE: usize = 64;

/// Options of [`gemm`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GemmSpec {
    /// Use A^T: A is stored k x m.
    pub transpose_a: bool,
    /// Use B^T: B is stored n x k (the Gram form A B^T).
    pub transpose_b: bool,
    /// Factor on the product.
    pub alpha: f32,
    /// Factor on the previous C; 0 ignores C's contents, NaN included.
    pub beta: f32,
}

impl Default for GemmSpec {
    fn default() -> Self {
        Self {
            transpose_a: false,
            transpose_b: false,
            alpha: 1.0,
            beta: 0.0,
        }
    }
}

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct GemmParams {
    m: u32,
    n: u32,
    k: u32,
    alpha: f32,
    beta: f32,
    padding: [u32; 3],
}

/// Records C = alpha op(A) op(B) + beta C.
pub fn gemm(
    recorder: &mut Recorder,
    a: &Matrix,
    b: &Matrix,
    c: &Matrix,
    spec: GemmSpec,
) -> Result<()> {
    let (m, k) = if spec.transpose_a {
        (a.columns(), a.rows())
    } else {
        (a.rows(), a.columns())
    };
    let (k_b, n) = if spec.transpose_b {
        (b.columns(), b.rows())
    } else {
        (b.rows(), b.columns())
    };
    if k != k_b || c.rows() != m || c.columns() != n {
        return Err(Error::ShapeMismatch {
            operation: "gemm",
            message: format!(
                "op(A) is {m} x {k}, op(B) is {k_b} x {n} and C is {} x {} (transpose_a = {}, transpose_b = {}); \
                 the inner dimensions must agree and C must be {m} x {n}",
                c.rows(),
                c.columns(),
                spec.transpose_a,
                spec.transpose_b
            ),
        });
    }
    for (name, value) in [("alpha", spec.alpha), ("beta", spec.beta)] {
        if !value.is_finite() {
            return Err(Error::InvalidArgument {
                name,
                value: value.to_string(),
                expected: "a finite number".to_string(),
            });
        }
    }
    check_index_range(m, n, k)?;
    if m == 0 || n == 0 {
        return Ok(());
    }

    let gpu = recorder.gpu();
    let kernel = gpu.kernel(
        &shaders::GEMM,
        "gemm",
        &[
            ("TRANSPOSE_A", f64::from(u8::from(spec.transpose_a))),
            ("TRANSPOSE_B", f64::from(u8::from(spec.transpose_b))),
        ],
    )?;
    let params = recorder.uniform(&GemmParams {
        m: m as u32,
        n: n as u32,
        k: k as u32,
        alpha: spec.alpha,
        beta: spec.beta,
        padding: [0; 3],
    })?;
    let workgroups = [n.div_ceil(TILE) as u32, m.div_ceil(TILE) as u32, 1];
    recorder.dispatch(
        &kernel,
        &[
            (0, a.buffer().raw()),
            (1, b.buffer().raw()),
            (2, c.buffer().raw()),
            (3, &params),
        ],
        workgroups,
        "gemm",
    )
}

/// The shader indexes with u32, so every flat index must fit.
fn check_index_range(m: usize, n: usize, k: usize) -> Result<()> {
    let largest = [
        m.saturating_mul(n),
        m.saturating_mul(k),
        n.saturating_mul(k),
    ]
    .into_iter()
    .max()
    .unwrap_or(0);
    if largest > u32::MAX as usize {
        return Err(Error::InvalidArgument {
            name: "gemm shape",
            value: format!("m = {m}, n = {n}, k = {k}"),
            expected: "matrices of at most 2^32 - 1 elements each; tile larger products"
                .to_string(),
        });
    }
    Ok(())
}

/// Records C = A B into a new matrix.
pub fn matmul(recorder: &mut Recorder, a: &Matrix, b: &Matrix) -> Result<Matrix> {
    let c = Matrix::zeros(recorder.gpu(), a.rows(), b.columns(), "matmul output")?;
    gemm(recorder, a, b, &c, GemmSpec::default())?;
    Ok(c)
}

/// Records the Gram form C = A B^T into a new matrix (rows of A against rows
/// of B; A and B need the same number of columns but not of rows).
pub fn gram(recorder: &mut Recorder, a: &Matrix, b: &Matrix) -> Result<Matrix> {
    let c = Matrix::zeros(recorder.gpu(), a.rows(), b.rows(), "gram output")?;
    let spec = GemmSpec {
        transpose_b: true,
        ..GemmSpec::default()
    };
    gemm(recorder, a, b, &c, spec)?;
    Ok(c)
}
