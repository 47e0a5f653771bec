//! Waiting out a rate limit: the one refusal that is not a verdict.
//!
//! `RateLimited` says "not now", so rolling the batch back would lose a valid edit. The batch
//! stays in the outbox, unsent, and nothing at all is sent until a backoff has passed: the
//! server judges a client id's batches in order (and refuses the ones sent after a
//! rate-limited one the same way, see the room's `batches.rs`), so resending from the refused
//! batch onwards keeps that order. The wait doubles with each refusal in a row, up to a cap,
//! with jitter from the session's injected RNG so that clients throttled together do not come
//! back together; an ack ends the run.
//!
//! The server judges each batch in the order it arrives, and a batch made after a deferred
//! one often builds on it (it edits what that one created). If it arrives under another
//! client id (a session holds older ids' batches after a restart or a rollback), the server
//! refuses it with `DependsOnRejected`, which here is no verdict either: the predecessor it
//! lacks is only deferred. So such a refusal of a batch behind a deferred one defers it too,
//! and it goes out again behind its predecessor.
//!
//! The session reads no clock: the driver asks [`ClientSession::poll_timeout`] when to call
//! [`ClientSession::handle_timeout`]. A driver that never does still resends on the next
//! reconnect, persist confirmation or welcome after the wait.

use super::ClientSession;
use crate::protocol::BatchId;
use crate::time::Instant;

impl ClientSession {
    /// When [`ClientSession::handle_timeout`] is next due: the end of a rate-limit backoff.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.retry_at
    }

    /// Time passed: once a rate-limit backoff is over, sends what waited (or, while offline,
    /// lets the next connection send it at once).
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.retry_at.is_some_and(|at| at <= now) {
            self.retry_at = None;
            self.send_ready(now);
        }
    }

    /// The server refused `batch` as `RateLimited` (or for lacking a deferred predecessor):
    /// keep it, resend it after a backoff.
    pub(super) fn retry_later(&mut self, now: Instant, batch: BatchId) {
        self.outbox.defer(batch);
        if self.retry_at.is_some_and(|at| now < at) {
            // Refusals of the batches sent behind the first one: same wait.
            return;
        }
        self.retries = self.retries.saturating_add(1);
        self.retry_at = Some(Instant(now.0.saturating_add(self.retry_delay_ms())));
    }

    /// The jittered wait before the next resend: nominal `base · 2^(n-1)` capped, drawn
    /// uniformly from its upper half, so the wait never drops below half the nominal one.
    fn retry_delay_ms(&mut self) -> u64 {
        let doublings = self.retries.saturating_sub(1).min(63);
        let nominal = self
            .config
            .retry_base_ms
            .saturating_mul(1u64 << doublings)
            .min(self.config.retry_cap_ms)
            .max(1);
        let half = nominal / 2;
        nominal - half + self.rng.next_u64() % (half + 1)
    }
}
