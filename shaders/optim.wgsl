// Parameter updates of the neural-network engine (src/nn/optim.rs).
//
// Bindings: 0 gradient g (read), 1 parameter w, 2 first moment m, 3 second
// moment v, 4 Bregman dual variable (read-write), 5 parameters.
// Workgroup 256 x 1 x 1 on the grid of shared/grid; one invocation per
// parameter entry.
//
// adam: Kingma and Ba's update with bias correction,
//   m = b1 m + (1 - b1) g,  v = b2 v + (1 - b2) g^2,
//   w -= lr * (m / c1) / (sqrt(v / c2) + eps),  c1 = 1 - b1^t, c2 = 1 - b2^t.
// adabreg: the same direction applied to a dual variable, followed by the
// proximal map of the L1 penalty (Bungert et al., "A Bregman learning
// framework for sparse neural networks", 2022):
//   dual -= lr * (m / c1) / (sqrt(v / c2) + eps),
//   w = sign(dual) * max(|dual| - mu, 0).
// With mu = 0 the dual equals w and the update is Adam's. A weight at zero
// stays there until its accumulated gradient signal exceeds mu, which keeps
// the network sparse.

#import shared/grid

struct OptimParams {
    length: u32,
    _padding0: u32,
    _padding1: u32,
    _padding2: u32,
    learning_rate: f32,
    beta1: f32,
    beta2: f32,
    epsilon: f32,
    correction1: f32,
    correction2: f32,
    mu: f32,
    _padding3: f32,
}

@group(0) @binding(0) var<storage, read> gradient: array<f32>;
@group(0) @binding(1) var<storage, read_write> weight: array<f32>;
@group(0) @binding(2) var<storage, read_write> first_moment: array<f32>;
@group(0) @binding(3) var<storage, read_write> second_moment: array<f32>;
@group(0) @binding(4) var<storage, read_write> dual: array<f32>;
@group(0) @binding(5) var<uniform> params: OptimParams;

// Updates the moments of entry i and returns the bias-corrected Adam step.
fn adam_direction(i: u32) -> f32 {
    let g = gradient[i];
    let m = params.beta1 * first_moment[i] + (1.0 - params.beta1) * g;
    let v = params.beta2 * second_moment[i] + (1.0 - params.beta2) * g * g;
    first_moment[i] = m;
    second_moment[i] = v;
    return (m / params.correction1) / (sqrt(v / params.correction2) + params.epsilon);
}

@compute @workgroup_size(256)
fn adam(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = linear_index(id, groups);
    if i >= params.length {
        return;
    }
    weight[i] -= params.learning_rate * adam_direction(i);
}

@compute @workgroup_size(256)
fn adabreg(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = linear_index(id, groups);
    if i >= params.length {
        return;
    }
    let updated = dual[i] - params.learning_rate * adam_direction(i);
    dual[i] = updated;
    weight[i] = sign(updated) * max(abs(updated) - params.mu, 0.0);
}
