// General matrix product C = alpha * op(A) op(B) + beta * C in f32.
//
// Bindings: 0 A, 1 B (read-only), 2 C (read-write), 3 parameters.
// All matrices are dense and row-major. op(A) is m x k and op(B) is k x n:
//   TRANSPOSE_A = false: A is stored m x k;  true: A is stored k x m.
//   TRANSPOSE_B = false: B is stored k x n;  true: B is stored n x k, which
//   gives the Gram form A B^T.
// Workgroup: 16 x 16 invocations compute one 64 x 64 tile of C; invocation
// (x, y) owns the 4 x 4 entries at rows y + 16i and columns x + 16j, so the
// reads from workgroup memory and the writes to C are contiguous across x.
// K is consumed in slices of 16 staged through workgroup memory; entries
// outside the matrices load as zero, so any m, n, k work.
// When beta is zero, C is not read (as in BLAS), so it may hold NaN.

struct GemmParams {
    m: u32,
    n: u32,
    k: u32,
    alpha: f32,
    beta: f32,
    _padding0: u32,
    _padding1: u32,
    _padding2: u32,
}

override TRANSPOSE_A: bool = false;
override TRANSPOSE_B: bool = false;

const TILE: u32 = 64u;
const SLICE: u32 = 16u;

@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> c: array<f32>;
@group(0) @binding(3) var<uniform> params: GemmParams;

// Slices of op(A) and op(B), both laid out [kk][64].
var<workgroup> tile_a: array<f32, 1024>;
var<workgroup> tile_b: array<f32, 1024>;

fn load_a(row: u32, kk: u32) -> f32 {
    if (row >= params.m || kk >= params.k) {
        return 0.0;
    }
    if (TRANSPOSE_A) {
        return a[kk * params.m + row];
    }
    return a[row * params.k + kk];
}

fn load_b(kk: u32, column: u32) -> f32 {
    if (kk >= params.k || column >= params.n) {
        return 0.0;
    }
    if (TRANSPOSE_B) {
        return b[column * params.k + kk];
    }
    return b[kk * params.n + column];
}

@compute @workgroup_size(16, 16)
fn gemm(@builtin(workgroup_id) group: vec3<u32>,
        @builtin(local_invocation_id) local: vec3<u32>,
        @builtin(local_invocation_index) local_index: u32) {
    let row_base = group.y * TILE;
    let column_base = group.x * TILE;
    var sums: array<f32, 16>;

    for (var k_base = 0u; k_base < params.k; k_base = k_base + SLICE) {
        // 256 invocations stage 1024 entries of each slice, 4 apiece. The
        // index split follows the stored layout so that neighbouring
        // invocations read neighbouring addresses.
        for (var step = 0u; step < 4u; step = step + 1u) {
            let e = local_index + step * 256u;
            if (TRANSPOSE_A) {
                tile_a[e] = load_a(row_base + e % TILE, k_base + e / TILE);
            } else {
                tile_a[(e % SLICE) * TILE + e / SLICE] = load_a(row_base + e / SLICE, k_base + e % SLICE);
            }
            if (TRANSPOSE_B) {
                tile_b[(e % SLICE) * TILE + e / SLICE] = load_b(k_base + e % SLICE, column_base + e / SLICE);
            } else {
                tile_b[e] = load_b(k_base + e / TILE, column_base + e % TILE);
            }
        }
        workgroupBarrier();

        for (var kk = 0u; kk < SLICE; kk = kk + 1u) {
            var a_values: array<f32, 4>;
            var b_values: array<f32, 4>;
            for (var i = 0u; i < 4u; i = i + 1u) {
                a_values[i] = tile_a[kk * TILE + local.y + 16u * i];
                b_values[i] = tile_b[kk * TILE + local.x + 16u * i];
            }
            for (var i = 0u; i < 4u; i = i + 1u) {
                for (var j = 0u; j < 4u; j = j + 1u) {
                    sums[i * 4u + j] = fma(a_values[i], b_values[j], sums[i * 4u + j]);
                }
            }
        }
        workgroupBarrier();
    }

    for (var i = 0u; i < 4u; i = i + 1u) {
        let row = row_base + local.y + 16u * i;
        for (var j = 0u; j < 4u; j = j + 1u) {
            let column = column_base + local.x + 16u * j;
            if (row < params.m && column < params.n) {
                let index = row * params.n + column;
                var value = params.alpha * sums[i * 4u + j];
                if (params.beta != 0.0) {
                    value = value + params.beta * c[index];
                }
                c[index] = value;
            }
        }
    }
}
