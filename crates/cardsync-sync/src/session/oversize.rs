//! Batches larger than the server takes are refused here, as the server would refuse them.
//!
//! The room refuses an update over its `max_update_bytes` as `too_large`, but only when the
//! frame reaches it: one more than a little over the limit is closed by the socket layer
//! (1009) before anyone reads its batch id. The client reconnects, sends the same batch, and
//! is closed again, forever. So the welcome carries the room's limit, and the session judges
//! its own batches against it: one too large gets the verdict the room would give, a
//! `too_large` rejection, and the same rollback (docs/design.md §5), so it is never sent. A
//! fused batch is split as for any refusal, and each part is judged again on its own.
//!
//! The limit is kept across connections (a server's limit rarely changes, and a batch made
//! offline is judged at the next welcome). Until a first welcome there is none to judge by.

use super::ClientSession;
use super::SessionError;
use crate::protocol::RejectCode;
use crate::time::Instant;

impl ClientSession {
    /// Refuses, one after the other, every pending batch larger than the server takes.
    pub(super) fn refuse_oversize(&mut self, now: Instant) -> Result<(), SessionError> {
        let Some(max) = self.max_update_bytes else {
            return Ok(());
        };
        // Each refusal rolls back and replays the rest under new ids, so look again after it.
        loop {
            let found = self
                .outbox
                .batches()
                .find(|b| b.update.len() > max)
                .map(|b| (b.id, b.update.len()));
            let Some((batch, len)) = found else {
                return Ok(());
            };
            let reason =
                format!("the batch's update is {len} bytes; the server takes at most {max}");
            self.handle_reject(now, batch, RejectCode::TooLarge, reason)?;
        }
    }
}
