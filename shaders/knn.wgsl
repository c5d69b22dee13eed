// Brute-force k-nearest-neighbour search and ball counts in Euclidean space,
// the two passes behind the precision, recall, density and coverage metrics.
//
// Points are row-major with every row padded by zeros to `row_vectors`
// vec4 values; the padding adds exactly zero to a squared distance. Squared
// distances are summed from coordinate differences directly (no
// |x|^2 + |y|^2 - 2 x.y expansion), so close points lose no precision to
// cancellation.
//
// One dispatch scans reference rows reference_begin .. reference_end of one
// reference block for every query of one query block. The per-query state
// lives in storage buffers, so the host can cover a large reference set
// with many dispatches and submissions.
//
// Bindings: 0 queries (query_count rows), 1 references (one block),
// 2 parameters;
//   knn_smallest: 3 smallest (query_count x k squared distances, ascending,
//     read and updated);
//   ball_count: 4 reference_radii2 (one squared radius per reference row),
//     5 counts (u32 per query, read and updated), 6 nearest2 (smallest
//     squared distance per query, read and updated).
// Workgroup: 256 x 1 x 1 over a 2-D grid (see shared/grid); one invocation
// per query, looping over the references of the chunk without barriers.
//
// knn_smallest keeps the k smallest squared distances seen so far, skipping
// the reference with the query's own global index when exclude_self is 1
// (a set searched against itself). The host starts the state at the largest
// f32, which it also requires every squared distance to stay below.
// ball_count adds the number of references with d^2 < r_ref^2 (strictly
// less, as in the prdc package) and lowers nearest2 to the smallest d^2.

#import shared/grid

// Largest k; the host rejects larger values.
const MAX_K: u32 = 32u;

struct KnnParams {
    query_count: u32,
    row_vectors: u32,
    reference_begin: u32,
    reference_end: u32,
    k: u32,
    exclude_self: u32,
    // Global indices of the first row of the query and the reference block.
    query_offset: u32,
    reference_offset: u32,
}

@group(0) @binding(0) var<storage, read> queries: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> references: array<vec4<f32>>;
@group(0) @binding(2) var<uniform> params: KnnParams;
@group(0) @binding(3) var<storage, read_write> smallest: array<f32>;
@group(0) @binding(4) var<storage, read> reference_radii2: array<f32>;
@group(0) @binding(5) var<storage, read_write> counts: array<u32>;
@group(0) @binding(6) var<storage, read_write> nearest2: array<f32>;

fn squared_distance(query: u32, reference: u32) -> f32 {
    let query_start = query * params.row_vectors;
    let reference_start = reference * params.row_vectors;
    var total = vec4<f32>(0.0);
    for (var v = 0u; v < params.row_vectors; v = v + 1u) {
        let difference = queries[query_start + v] - references[reference_start + v];
        total = total + difference * difference;
    }
    return (total.x + total.y) + (total.z + total.w);
}

@compute @workgroup_size(256)
fn knn_smallest(@builtin(global_invocation_id) global_id: vec3<u32>,
                @builtin(num_workgroups) workgroup_count: vec3<u32>) {
    let query = linear_index(global_id, workgroup_count);
    if (query >= params.query_count) {
        return;
    }
    let k = params.k;
    let state_start = query * k;
    var best: array<f32, MAX_K>;
    for (var slot = 0u; slot < k; slot = slot + 1u) {
        best[slot] = smallest[state_start + slot];
    }

    let own_index = params.query_offset + query;
    for (var reference = params.reference_begin; reference < params.reference_end; reference = reference + 1u) {
        if (params.exclude_self == 1u && params.reference_offset + reference == own_index) {
            continue;
        }
        let distance2 = squared_distance(query, reference);
        if (distance2 < best[k - 1u]) {
            // Insertion into the ascending list: shift larger values up one slot.
            var slot = k - 1u;
            while (slot > 0u && best[slot - 1u] > distance2) {
                best[slot] = best[slot - 1u];
                slot = slot - 1u;
            }
            best[slot] = distance2;
        }
    }

    for (var slot = 0u; slot < k; slot = slot + 1u) {
        smallest[state_start + slot] = best[slot];
    }
}

@compute @workgroup_size(256)
fn ball_count(@builtin(global_invocation_id) global_id: vec3<u32>,
              @builtin(num_workgroups) workgroup_count: vec3<u32>) {
    let query = linear_index(global_id, workgroup_count);
    if (query >= params.query_count) {
        return;
    }
    var count = counts[query];
    var nearest = nearest2[query];
    for (var reference = params.reference_begin; reference < params.reference_end; reference = reference + 1u) {
        let distance2 = squared_distance(query, reference);
        count = count + select(0u, 1u, distance2 < reference_radii2[reference]);
        nearest = min(nearest, distance2);
    }
    counts[query] = count;
    nearest2[query] = nearest;
}
