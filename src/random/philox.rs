//! Philox-4x32-10 (Salmon, Moraes, Dror and Shaw, "Parallel random numbers:
//! as easy as 1, 2, 3", SC 2011), with the multipliers and Weyl constants of
//! the Random123 library.

const M0: u32 = 0xD251_1F53;
const M1: u32 = 0xCD9E_8D57;
const W0: u32 = 0x9E37_79B9;
const W1: u32 = 0xBB67_AE85;

fn round(counter: [u32; 4], key: [u32; 2]) -> [u32; 4] {
    let product0 = u64::from(M0) * u64::from(counter[0]);
    let product1 = u64::from(M1) * u64::from(counter[2]);
    [
        (product1 >> 32) as u32 ^ counter[1] ^ key[0],
        product1 as u32,
        (product0 >> 32) as u32 ^ counter[3] ^ key[1],
        product0 as u32,
    ]
}

/// Ten Philox rounds of `counter` under `key`.
pub fn philox4x32_10(counter: [u32; 4], key: [u32; 2]) -> [u32; 4] {
    let mut state = round(counter, key);
    let mut round_key = key;
    for _ in 1..10 {
        round_key = [round_key[0].wrapping_add(W0), round_key[1].wrapping_add(W1)];
        state = round(state, round_key);
    }
    state
}

/// Uniform f32 in the open interval (0, 1) from the top 23 bits of `bits`:
/// (floor(bits / 2^9) + 0.5) / 2^23. Every step is exact, so the GPU
/// produces the same value bit for bit.
pub fn uniform_from_bits(bits: u32) -> f32 {
    ((bits >> 9) as f32 + 0.5) * (1.0 / 8_388_608.0)
}

/// Two standard normal values from two words by the Box-Muller transform,
/// evaluated in f64 and rounded to f32. The GPU evaluates the same formula in
/// f32 and agrees to a few units in the last place.
pub fn normal_pair_from_bits(bits0: u32, bits1: u32) -> [f32; 2] {
    let u1 = f64::from(uniform_from_bits(bits0));
    let u2 = f64::from(uniform_from_bits(bits1));
    let radius = (-2.0 * u1.ln()).sqrt();
    let angle = 2.0 * std::f64::consts::PI * u2;
    [(radius * angle.cos()) as f32, (radius * angle.sin()) as f32]
}

/// One Philox stream: a key (seed) and a stream id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PhiloxStream {
    /// Philox key, as two 32-bit words (low word first).
    pub seed: u64,
    /// Counter words 2 and 3 (low word first).
    pub stream: u64,
}

impl PhiloxStream {
    /// Creates a stream with the given seed and stream id.
    pub fn new(seed: u64, stream: u64) -> Self {
        Self { seed, stream }
    }

    fn key(&self) -> [u32; 2] {
        [self.seed as u32, (self.seed >> 32) as u32]
    }

    /// Computes the four words of block `block`.
    pub fn block(&self, block: u64) -> [u32; 4] {
        let counter = [
            block as u32,
            (block >> 32) as u32,
            self.stream as u32,
            (self.stream >> 32) as u32,
        ];
        philox4x32_10(counter, self.key())
    }

    /// Words `offset .. offset + count` of the stream.
    pub fn bits(&self, offset: u64, count: usize) -> Vec<u32> {
        (offset..offset + count as u64)
            .map(|index| self.block(index / 4)[(index % 4) as usize])
            .collect()
    }

    /// Uniform values `offset .. offset + count` of the stream.
    pub fn uniform(&self, offset: u64, count: usize) -> Vec<f32> {
        self.bits(offset, count)
            .into_iter()
            .map(uniform_from_bits)
            .collect()
    }

    /// Standard normal values `offset .. offset + count`: words (0, 1) and
    /// (2, 3) of each block give one Box-Muller pair each.
    pub fn normal(&self, offset: u64, count: usize) -> Vec<f32> {
        (offset..offset + count as u64)
            .map(|index| {
                let words = self.block(index / 4);
                let lane = (index % 4) as usize;
                let pair = normal_pair_from_bits(words[lane & 2], words[(lane & 2) + 1]);
                pair[lane & 1]
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Known-answer vectors of Random123's kat_vectors file for philox4x32_10.
    #[test]
    fn philox_matches_random123_zero_vector() {
        assert_eq!(
            philox4x32_10([0; 4], [0; 2]),
            [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8]
        );
    }

    #[test]
    fn philox_matches_random123_ones_vector() {
        assert_eq!(
            philox4x32_10([u32::MAX; 4], [u32::MAX; 2]),
            [0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd]
        );
    }

    #[test]
    fn philox_matches_random123_pi_vector() {
        assert_eq!(
            philox4x32_10(
                [0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344],
                [0xa4093822, 0x299f31d0]
            ),
            [0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1]
        );
    }

    #[test]
    fn uniform_stays_inside_open_interval() {
        assert!(uniform_from_bits(0) > 0.0);
        assert!(uniform_from_bits(u32::MAX) < 1.0);
        assert_eq!(uniform_from_bits(0), 0.5 / 8_388_608.0);
    }

    #[test]
    fn stream_offset_matches_prefix() {
        let stream = PhiloxStream::new(42, 7);
        let all = stream.normal(0, 23);
        assert_eq!(stream.normal(5, 18), all[5..].to_vec());
    }
}
