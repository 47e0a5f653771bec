//! Caller-supplied randomness for backoff jitter.
//!
//! Jitter exists so that a thousand clients dropped by one server restart do not all
//! reconnect in the same millisecond. It has to be random across clients but reproducible in
//! a test, so the state machine never draws from the OS: the caller hands in an [`Rng`],
//! normally a [`SplitMix64`] seeded from whatever entropy the driver has
//! (`crypto.getRandomValues`, the client id), and a simulation seeds it with a constant.

/// A source of uniformly distributed 64-bit values.
///
/// Deliberately tiny, so that a driver can wrap any generator it already has without this
/// crate depending on `rand`.
pub trait Rng {
    /// The next value; every bit should be uniformly distributed.
    fn next_u64(&mut self) -> u64;
}

/// SplitMix64 (Steele, Lea and Flood, 2014): a 64-bit state, one add and three mixes per
/// value.
///
/// Not cryptographic, and it does not need to be: the only job is spreading reconnect times.
/// It was chosen because it is tiny, has no bad seeds (zero included), and gives the same
/// sequence on every platform, so a seed in a failing test reproduces the failure.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// A generator whose whole output is determined by `seed`.
    pub const fn new(seed: u64) -> Self {
        SplitMix64 { state: seed }
    }
}

impl Rng for SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

impl<R: Rng + ?Sized> Rng for &mut R {
    fn next_u64(&mut self) -> u64 {
        (**self).next_u64()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_reference_vectors() {
        // First outputs for seed 1234567 from the reference C implementation
        // (https://prng.di.unimi.it/splitmix64.c).
        let mut rng = SplitMix64::new(1_234_567);
        assert_eq!(rng.next_u64(), 6_457_827_717_110_365_317);
        assert_eq!(rng.next_u64(), 3_203_168_211_198_807_973);
        assert_eq!(rng.next_u64(), 9_817_491_932_198_370_423);
    }

    #[test]
    fn same_seed_same_sequence() {
        let (mut a, mut b) = (SplitMix64::new(42), SplitMix64::new(42));
        for _ in 0..100 {
            assert_eq!(a.next_u64(), b.next_u64());
        }
    }
}
