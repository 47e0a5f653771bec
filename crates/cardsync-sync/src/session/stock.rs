//! Graceful fallback behind a stock y-websocket server.
//!
//! A stock server (the `y-websocket` reference server, Hocuspocus without our extension)
//! ignores the hello, so no welcome comes; it answers our sync step 1 with a step 2 as any
//! y-protocols peer does. Our server always welcomes before that step 2 (it handles the hello
//! first), so a step 2 without a welcome names a stock server.
//!
//! There the session keeps working, with what the protocol gives: batches go out as plain
//! `Update` messages (the server applies and relays them), nothing is ever acked or rejected
//! explicitly, and a batch leaves the outbox once the server's state is seen to hold it (the
//! implicit ack of `apply_remote`, on the step 2 of the next connection). Until then it stays
//! pending and is sent again on each reconnect, which is harmless: updates are idempotent.
//! The heartbeat helps: a stock server answers no ping, so the heartbeat becomes a sync
//! step 1 from the confirmed doc, whose answer both shows the socket alive and carries the
//! pending batches the server now holds, acking them within a heartbeat interval.
//! [`SessionStatus::server_acks`](super::SessionStatus::server_acks) stays `false`, so a UI
//! can say that changes are sent but not confirmed.

use super::ClientSession;
use crate::protocol::Message;
use crate::time::Instant;

impl ClientSession {
    /// After a sync step 2: without a welcome, the server is a stock one; send what waits.
    pub(super) fn detect_stock(&mut self, now: Instant) {
        if self.welcomed || self.stock || !self.connected {
            return;
        }
        self.stock = true;
        self.send_ready(now);
    }
}

impl ClientSession {
    /// The frame of a heartbeat: a ping carrying `nonce`, or behind a stock server (which
    /// answers no ping) a sync step 1 from the confirmed doc.
    pub fn heartbeat(&self, nonce: u64) -> Vec<u8> {
        if self.stock {
            let state_vector = self.confirmed.state_vector();
            Message::SyncStep1 { state_vector }.encode()
        } else {
            Message::Ping { nonce }.encode()
        }
    }
}
