// Linear invocation index for one-dimensional work spread over a 2-D grid.
//
// WebGPU caps each dispatch dimension at 65535 workgroups, so the host splits
// long arrays over x and y (see `gpu::grid_1d`). With workgroups of 256
// invocations along x, this returns the flat index of the invocation.
fn linear_index(global_id: vec3<u32>, workgroup_count: vec3<u32>) -> u32 {
    return global_id.x + global_id.y * workgroup_count.x * 256u;
}
