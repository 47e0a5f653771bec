//! The room on a log that other nodes append to too (docs/design.md §12): entries that
//! arrive from the store, and appends the store refused because the log moved on.
//!
//! When several nodes serve one document, the store orders their appends: each append is
//! accepted only at the head its batch was validated against. The room stays sans-IO; the
//! driver reads the store and hands the room what it found, through two inputs:
//!
//! - [`Room::handle_log_entries`]: entries other nodes appended (woken by the bus, or found
//!   by a periodic check). They are trusted (validated by the node that appended them, and
//!   durable), so they are applied without judgement, broadcast to every peer and count as
//!   durable at once. Only with nothing of the room's own in flight: an entry past the head
//!   the room's appends expect makes those appends fail, which is the next case.
//! - [`Room::handle_log_moved`]: the driver's appends were refused because the head moved
//!   (another node appended first). The room's replica already holds the refused batches and
//!   yrs cannot take an update back, so the room **rebuilds its replica from the store**
//!   (the document as stored now) and judges the refused batches again, in their order,
//!   against the new state: each is persisted again (a new [`RoomAction::Persist`]) or
//!   rejected with the normal reasons. Peers stay connected: they get what the other nodes
//!   appended (everything beyond the state the room had made durable), and a sync step 2 that
//!   waited is computed again from durable state. A duplicate that waited for a refused
//!   persist to be re-acked is judged again as well: the rebuilt replica may not hold it. A rebuild costs O(document), paid only on
//!   a lost race; routing a document to one node makes races rare (§12).
//!
//! [`RoomAction::Persist`]: super::RoomAction::Persist

use yrs::StateVector;
use yrs::block::ClientID;
use yrs::updates::encoder::Encode;

use crate::protocol::{BatchId, Message};
use crate::time::Instant;

use super::auth::{Authenticator, Author, Role};
use super::error::RoomError;
use super::fixed_ids::FixedIds;
use super::names::PeerId;
use super::replica::{held, open_doc};
use super::settle::Answer;
use super::{PersistToken, Room};

impl<A: Authenticator> Room<A> {
    /// Entries that other nodes appended to the document's log after what the room holds,
    /// oldest first (see `room/log.rs` and docs/design.md §12): applied, broadcast to every
    /// peer, durable. Refused with [`RoomError::PersistsInFlight`] while the room's own
    /// persists are in flight. A failure to apply one (a corrupt store) leaves the entries before it applied.
    pub fn handle_log_entries<U: AsRef<[u8]>>(
        &mut self,
        _now: Instant,
        entries: impl IntoIterator<Item = U>,
    ) -> Result<(), RoomError> {
        if !self.pending.is_empty() {
            return Err(RoomError::PersistsInFlight {
                pending: self.pending.len(),
            });
        }
        for (index, entry) in entries.into_iter().enumerate() {
            let entry = entry.as_ref();
            self.doc
                .apply_update_v1(entry)
                .map_err(|source| RoomError::CorruptLog { index, source })?;
            // The cards the entry made claim their fixed container ids (`fixed_ids.rs`); the
            // shadow names them, and without a shadow the claims are read again whole.
            match self.shadow.as_mut().map(|shadow| shadow.apply(entry)) {
                Some(Ok(applied)) => {
                    let cards = applied.touched.cards.keys();
                    self.fixed.add_new(&self.doc, &self.schema, cards);
                }
                Some(Err(_)) | None => {
                    self.shadow = None;
                    self.fixed = FixedIds::build(&self.doc, &self.schema);
                }
            }
            self.durable = held(&self.doc);
            let frame = Message::Update {
                update: entry.to_vec(),
            }
            .encode();
            self.broadcast(None, frame);
        }
        Ok(())
    }

    /// Every persist in flight was refused because the log moved on (the driver waited for
    /// each one's outcome); `log` is the document as the store holds it now, snapshot then
    /// entries. The room rebuilds its replica from it, sends every peer what it lacked, and
    /// judges the refused batches again in order (see `room/log.rs` and docs/design.md §12).
    /// Returns the tokens of the refused persists it dropped. On `Err` (a corrupt store) nothing changed.
    pub fn handle_log_moved<U: AsRef<[u8]>>(
        &mut self,
        now: Instant,
        log: impl IntoIterator<Item = U>,
    ) -> Result<Vec<PersistToken>, RoomError> {
        let doc = open_doc(&self.schema, log)?;
        let before = {
            let mut sv = StateVector::default();
            for (&client, &clock) in &self.durable {
                sv.set_max(ClientID::new(client), clock);
            }
            sv.encode_v1()
        };
        self.doc = doc;
        self.shadow = None;
        self.durable = held(&self.doc);
        self.fixed = FixedIds::build(&self.doc, &self.schema);
        let refused = std::mem::take(&mut self.pending);
        // Every rejection that waited is judged again below, on the rebuilt state.
        self.held.clear();
        // What the other nodes appended: everything beyond the state the peers were given.
        if let Ok(catch_up) = self.doc.diff_v1(&before) {
            let frame = Message::Update { update: catch_up }.encode();
            self.broadcast(None, frame);
        }
        // Answers that waited held the refused batches: compute them again, from durable state.
        for Answer {
            peer, state_vector, ..
        } in refused.iter().flat_map(|p| &p.answers)
        {
            if self.peers.contains_key(peer)
                && let Ok(update) = self.doc.diff_v1(state_vector)
            {
                self.send(*peer, &Message::SyncStep2 { update });
            }
        }
        let mut dropped = Vec::with_capacity(refused.len());
        for p in refused {
            dropped.push(PersistToken(p.token));
            // A peer that left was never acked: a cardsync client resends from its outbox.
            self.judge_again(now, p.from, p.batch, &p.source);
            // Verdicts that waited for this persist are judged again too, in their order: a
            // duplicate's original may be gone with it (its peer left), and then acking it
            // would ack what nothing durable holds; a rejection was reached on a state that
            // held it (`settle.rs`).
            for waiter in p.waiting {
                let (peer, batch, update) = waiter.into_parts();
                self.judge_again(now, peer, batch, &update);
            }
        }
        Ok(dropped)
    }

    /// Judges a batch whose persist was refused again, for its peer if still connected.
    fn judge_again(&mut self, now: Instant, peer: PeerId, batch: Option<BatchId>, update: &[u8]) {
        if let Some(state) = self.peers.get(&peer) {
            // The same author as the first judgement (the peer's admission), so the
            // validators, pure functions of author, state and batch, judge alike.
            let author = state
                .author()
                .unwrap_or_else(|| Author::anonymous(Role::Viewer));
            let stock = !state.hello;
            let verdict = self.judge(&author, batch, update, false, stock);
            self.settle(now, peer, batch, update, verdict);
        }
    }
}
