// Philox-4x32-10 counter-based generator (Salmon et al., "Parallel random
// numbers: as easy as 1, 2, 3", SC 2011), with the constants of Random123.
// The host twin is `random::philox4x32_10` in src/random/philox.rs; the two
// produce the same integers bit for bit.

const PHILOX_M0: u32 = 0xD2511F53u;
const PHILOX_M1: u32 = 0xCD9E8D57u;
const PHILOX_W0: u32 = 0x9E3779B9u;
const PHILOX_W1: u32 = 0xBB67AE85u;

// Full 64-bit product of two u32 values as (high word, low word).
// WGSL has no 64-bit integers, so the product is assembled from 16-bit halves.
fn philox_mul_hi_lo(a: u32, b: u32) -> vec2<u32> {
    let a_lo = a & 0xFFFFu;
    let a_hi = a >> 16u;
    let b_lo = b & 0xFFFFu;
    let b_hi = b >> 16u;

    let lo_lo = a_lo * b_lo;
    let hi_lo = a_hi * b_lo;
    let lo_hi = a_lo * b_hi;
    let hi_hi = a_hi * b_hi;

    // At most 0xFFFF + 0xFFFF + 0xFFFE0001 = 0xFFFFFFFF, so this cannot wrap.
    let middle = (lo_lo >> 16u) + (hi_lo & 0xFFFFu) + lo_hi;
    let high = hi_hi + (hi_lo >> 16u) + (middle >> 16u);
    let low = (middle << 16u) | (lo_lo & 0xFFFFu);
    return vec2<u32>(high, low);
}

fn philox_round(counter: vec4<u32>, key: vec2<u32>) -> vec4<u32> {
    let product0 = philox_mul_hi_lo(PHILOX_M0, counter.x);
    let product1 = philox_mul_hi_lo(PHILOX_M1, counter.z);
    return vec4<u32>(
        product1.x ^ counter.y ^ key.x,
        product1.y,
        product0.x ^ counter.w ^ key.y,
        product0.y,
    );
}

// Ten rounds, with the key bumped by the Weyl constants between rounds.
fn philox4x32_10(counter: vec4<u32>, key: vec2<u32>) -> vec4<u32> {
    var state = philox_round(counter, key);
    var round_key = key;
    for (var round = 1u; round < 10u; round = round + 1u) {
        round_key = round_key + vec2<u32>(PHILOX_W0, PHILOX_W1);
        state = philox_round(state, round_key);
    }
    return state;
}

// Uniform float in the open interval (0, 1) from the top 23 bits of `bits`:
// (floor(bits / 2^9) + 0.5) / 2^23. Every step is exact in f32, so the host
// and every GPU produce identical values.
fn philox_uniform(bits: u32) -> f32 {
    return (f32(bits >> 9u) + 0.5) * 1.1920928955078125e-7;
}
