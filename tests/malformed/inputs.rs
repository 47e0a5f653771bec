//! Deterministic input generation (seeded SplitMix64 mutations of real bytes, random bytes) and
//! the tallies that count verdicts and time each entry point.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

/// The workspace's seeded generator (SplitMix64), spreading mutations, with the byte strings
/// this module needs.
pub(crate) struct Rng(cardsync_core::SplitMix64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Rng(cardsync_core::SplitMix64::new(seed))
    }

    pub(crate) fn next(&mut self) -> u64 {
        self.0.next_u64()
    }

    pub(crate) fn below(&mut self, n: usize) -> usize {
        self.0.below(n)
    }

    pub(crate) fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next() as u8).collect()
    }
}

/// Every proper prefix of `bytes` (the empty one included).
pub(crate) fn truncations(bytes: &[u8]) -> Vec<Vec<u8>> {
    (0..bytes.len()).map(|n| bytes[..n].to_vec()).collect()
}

/// `count` copies of `bytes`, each with 1..=`max_bits` random bits flipped.
pub(crate) fn bit_flips(
    rng: &mut Rng,
    bytes: &[u8],
    count: usize,
    max_bits: usize,
) -> Vec<Vec<u8>> {
    (0..count)
        .map(|_| {
            let mut out = bytes.to_vec();
            for _ in 0..1 + rng.below(max_bits) {
                let bit = rng.below(out.len() * 8);
                out[bit / 8] ^= 1 << (bit % 8);
            }
            out
        })
        .collect()
}

/// `count` copies of `bytes` with one byte overwritten by a boundary value, a byte inserted or
/// removed, or a chunk duplicated: mutations that shift lengths and varints rather than bits.
pub(crate) fn structural(rng: &mut Rng, bytes: &[u8], count: usize) -> Vec<Vec<u8>> {
    const SPECIAL: [u8; 8] = [0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff, 0x08, 0x77];
    (0..count)
        .map(|_| {
            let mut out = bytes.to_vec();
            let at = rng.below(out.len());
            match rng.below(4) {
                0 => out[at] = SPECIAL[rng.below(SPECIAL.len())],
                1 => out.insert(at, rng.next() as u8),
                2 => {
                    out.remove(at);
                }
                _ => {
                    let len = 1 + rng.below(16.min(out.len() - at));
                    let chunk = out[at..at + len].to_vec();
                    let to = rng.below(out.len());
                    out.splice(to..to, chunk);
                }
            }
            out
        })
        .collect()
}

/// `count` random byte strings of length 0..=`max_len`.
pub(crate) fn random(rng: &mut Rng, count: usize, max_len: usize) -> Vec<Vec<u8>> {
    (0..count)
        .map(|_| {
            let len = rng.below(max_len + 1);
            rng.bytes(len)
        })
        .collect()
}

/// Like [`random`], but 9 bytes in 10 have the varint continuation bit cleared, so counts and
/// lengths are mostly small and decoding gets past the first varint into the structure (fully
/// random bytes mostly fail at the first count).
pub(crate) fn random_short_varints(rng: &mut Rng, count: usize, max_len: usize) -> Vec<Vec<u8>> {
    random(rng, count, max_len)
        .into_iter()
        .map(|mut bytes| {
            for b in &mut bytes {
                if rng.below(10) != 0 {
                    *b &= 0x7f;
                }
            }
            bytes
        })
        .collect()
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

// ---------------------------------------------------------------------------------------------
// Tallies: how many inputs failed, and how long decoding took

#[derive(Default)]
pub(crate) struct Tally {
    ok: usize,
    err: usize,
    slow: usize,
    slowest: Duration,
    slowest_input: Vec<u8>,
    total: Duration,
}

impl Tally {
    /// Runs `f` on `input`, timing it and counting its verdict.
    pub(crate) fn run<T, E>(
        &mut self,
        input: &[u8],
        f: impl FnOnce() -> Result<T, E>,
    ) -> Result<T, E> {
        let start = Instant::now();
        let result = f();
        let took = start.elapsed();
        self.total += took;
        if took >= Duration::from_millis(10) {
            self.slow += 1;
        }
        if took > self.slowest {
            self.slowest = took;
            self.slowest_input = input.to_vec();
        }
        match result {
            Ok(_) => self.ok += 1,
            Err(_) => self.err += 1,
        }
        result
    }

    pub(crate) fn count(&self) -> usize {
        self.ok + self.err
    }

    /// Asserts that at least `percent` % of the inputs failed.
    pub(crate) fn assert_mostly_err(&self, what: &str, percent: usize) {
        assert!(
            self.err * 100 >= self.count() * percent,
            "{what}: only {} of {} inputs were rejected (expected >= {percent}%)",
            self.err,
            self.count()
        );
    }

    pub(crate) fn report(&self, what: &str) {
        if std::env::var_os("CARDSYNC_MALFORMED_REPORT").is_some() {
            eprintln!(
                "{what:<40} {:>6} inputs {:>6} err {:>6} ok {:>4} slow(>=10ms) total {:>8.1?} slowest {:>8.1?} ({})",
                self.count(),
                self.err,
                self.ok,
                self.slow,
                self.total,
                self.slowest,
                hex(&self.slowest_input[..self.slowest_input.len().min(16)]),
            );
        }
    }
}
