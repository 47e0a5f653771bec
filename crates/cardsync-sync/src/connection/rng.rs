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

/// The workspace's one seeded generator (its module in cardsync-core says why SplitMix64),
/// the default [`Rng`] of the connection machine.
pub use cardsync_core::SplitMix64;

impl Rng for SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        SplitMix64::next_u64(self)
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
    fn the_rng_is_the_cores_sequence() {
        let (mut ours, mut core) = (SplitMix64::new(1_234_567), SplitMix64::new(1_234_567));
        let mut by_ref = &mut ours;
        for _ in 0..10 {
            assert_eq!(Rng::next_u64(&mut by_ref), core.next_u64());
        }
    }
}
