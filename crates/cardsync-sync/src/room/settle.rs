//! Carrying out a verdict: persist, then ack and broadcast; or reject (and mark).
//!
//! Two records make acks and dependencies exact:
//! - `durable`: per client id, the clock up to which the room's state is *durable*. An ack
//!   reports it ("the room holds client C up to clock N"), never the in-memory clock, so an
//!   ack is never ahead of the disk. A duplicate that arrives while persists are in flight is
//!   re-acked when the last of them completes (its clocks may be in it).
//! - marks: per client id, where the range the room rejected starts and why (see
//!   `batches.rs` for how they are used).
//!
//! The same promise covers the sync step 2 that answers a peer's step 1. A cardsync session
//! takes whatever the room sends as durable: it moves it into its confirmed doc and counts
//! its own pending batches found in it as acked (acks are "the room holds client C up to
//! clock N", whichever message says so). A step 2 computed from the in-memory doc while a
//! persist is in flight would be such an ack ahead of the disk, and a crash would lose a batch
//! the client already dropped from its outbox. So a step 2 asked for while persists are in
//! flight is computed at once (it then holds nothing newer) and sent when the last of them
//! completes, exactly like a re-ack.
//!
//! The same holds for rejections. A verdict reached while persists are in flight was reached
//! on a state that holds them, and on a shared log (several nodes, docs/design.md §12) such a
//! persist can still be refused, the room rebuilt without it, and the batch then judged
//! otherwise: a move refused as an invalid transition from a state that never became durable
//! would be valid. A rejection rolls back on the client at once and cannot be taken back, so it
//! waits like a re-ack ([`Waiter::Reject`]) and is sent when the persists before it complete, or
//! judged again if the log moved on (`log.rs`). Until then the batch's client id is *held*: a
//! later batch of it is refused as depending on the held one (and waits too), as a mark would.
//! `RateLimited` is no verdict on the batch (the client resends it), so it is sent at once.
//!
//! Every rejection but `RateLimited` spends the peer's rejection budget; a peer out of budget
//! is closed, because each rejection after validation rebuilds the shadow, O(document).

use crate::protocol::{BatchId, Message, RejectCode};
use crate::time::Instant;

use super::action::{PeerCloseReason, RoomAction};
use super::audit::AuditRecord;
use super::auth::{Authenticator, Author, Role};
use super::batches::{Accepted, Refusal};
use super::compensate::Compensation;
use super::error::RoomError;
use super::judgement::{Judgement, Summary, Verdict};
use super::names::{PeerId, PersistToken};
use super::peer::Peer;
use super::shadow::COMPENSATOR_CLIENT_ID;
use super::{Room, UNBATCHED};

/// The protocol version that brought `RejectCode::RejectedByValidator`.
const VALIDATOR_CODE_SINCE: u32 = 2;

/// Where a client id's rejected range starts, and why it was rejected.
#[derive(Clone, Debug)]
pub(crate) struct Mark {
    pub clock: u32,
    /// The rejected batch's `seq`, to recognise a resend of it.
    pub seq: u64,
    pub code: RejectCode,
    pub reason: String,
}

/// A persist in flight and what waits for it.
#[derive(Debug)]
pub(crate) struct PendingPersist {
    pub(super) token: u64,
    pub(super) from: PeerId,
    pub(super) batch: Option<BatchId>,
    /// What the update changed, to broadcast.
    pub(super) effect: Vec<u8>,
    /// `(client, clock)` pairs the room holds once this persist is durable.
    clocks: Vec<(u64, u32)>,
    /// Verdicts reached meanwhile, in arrival order: sent when this completes.
    pub(super) waiting: Vec<Waiter>,
    /// Sync step 2 answers computed meanwhile: sent when this completes. Each keeps the
    /// state vector it answers, to compute it again if the log moved on (`log.rs`).
    pub(super) answers: Vec<Answer>,
    /// For a compensated stock update: the room's own change, which the sender lacks (it gets
    /// it when this completes, with the audit record).
    compensation: Option<Compensation>,
    /// The update as the peer sent it: what is judged again if the log moved on (`log.rs`).
    /// Never the effect: an effect is relative to the replica it was judged on. Items that a
    /// batch persisting before it overwrote are encoded in it as already deleted, and the
    /// deletions that batch made are left out; judged again on a rebuilt replica without that
    /// batch, it would write something else than the peer did, or nothing. A compensated
    /// effect also holds the room's own writes, which a second judgement would refuse.
    pub(super) source: Vec<u8>,
}

/// A verdict waiting for the persists before it (see the module docs). Each keeps its
/// batch's update: if those persists are refused because the log moved on, it is judged again
/// on the rebuilt room (`log.rs`).
#[derive(Debug)]
pub(crate) enum Waiter {
    /// A duplicate, acked once they are durable (its clocks may be in them). The rebuilt room
    /// may no longer hold it: the batch it duplicated came from a peer that left.
    Reack {
        peer: PeerId,
        batch: BatchId,
        update: Vec<u8>,
    },
    /// A rejection, sent once they are durable (the state it was judged on is then final).
    /// `author` is kept for the judgement: the peer may have left by then.
    Reject {
        peer: PeerId,
        author: Option<Author>,
        batch: Option<BatchId>,
        update: Vec<u8>,
        refusal: Refusal,
    },
}

impl Waiter {
    /// The peer, batch and update, to judge it again.
    pub(super) fn into_parts(self) -> (PeerId, Option<BatchId>, Vec<u8>) {
        match self {
            Waiter::Reack {
                peer,
                batch,
                update,
            } => (peer, Some(batch), update),
            Waiter::Reject {
                peer,
                batch,
                update,
                ..
            } => (peer, batch, update),
        }
    }
}

/// A sync step 2 answer waiting for the persists before it.
#[derive(Debug)]
pub(crate) struct Answer {
    pub(super) peer: PeerId,
    /// The state vector the peer sent in its step 1.
    pub(super) state_vector: Vec<u8>,
    pub(super) update: Vec<u8>,
}

impl<A: Authenticator> Room<A> {
    /// Carries out the verdict on a batch from `peer`.
    pub(super) fn settle(
        &mut self,
        now: Instant,
        peer: PeerId,
        batch: Option<BatchId>,
        update: &[u8],
        verdict: Result<Accepted, Refusal>,
    ) {
        match verdict {
            Ok(Accepted::Held) => self.acknowledge(peer, batch, update),
            Ok(Accepted::Applied {
                effect,
                clocks,
                compensation,
                summary,
            }) => {
                self.issued += 1;
                let token = self.issued;
                let author = self.peers.get(&peer).and_then(Peer::author);
                let verdict = Verdict::Accepted(PersistToken(token));
                self.judged(peer, author, batch, verdict, summary);
                self.actions.push_back(RoomAction::Persist {
                    token: PersistToken(token),
                    update: effect.clone(),
                });
                self.pending.push_back(PendingPersist {
                    token,
                    from: peer,
                    batch,
                    effect,
                    clocks,
                    waiting: Vec::new(),
                    answers: Vec::new(),
                    compensation,
                    source: update.to_vec(),
                });
            }
            Err(refusal) => match self.pending.back_mut() {
                Some(last) if refusal.code != RejectCode::RateLimited => {
                    if let Some(b) = batch {
                        let held = self.held.entry(b.client).or_insert(b.seq);
                        *held = (*held).min(b.seq);
                    }
                    let author = self.peers.get(&peer).and_then(Peer::author);
                    last.waiting.push(Waiter::Reject {
                        peer,
                        author,
                        batch,
                        update: update.to_vec(),
                        refusal,
                    });
                }
                _ => self.refuse(now, peer, batch, refusal),
            },
        }
    }

    pub(super) fn refuse(
        &mut self,
        now: Instant,
        peer: PeerId,
        batch: Option<BatchId>,
        refusal: Refusal,
    ) {
        let author = self.peers.get(&peer).and_then(Peer::author);
        self.refuse_as(now, peer, author, batch, refusal);
    }

    /// [`Self::refuse`], judged as by `author`.
    fn refuse_as(
        &mut self,
        now: Instant,
        peer: PeerId,
        author: Option<Author>,
        batch: Option<BatchId>,
        refusal: Refusal,
    ) {
        let Refusal {
            code,
            reason,
            client,
            mark,
            summary,
        } = refusal;
        // `rate_limited` is no verdict ("not now", resent later), so it is not judged.
        if code != RejectCode::RateLimited {
            let verdict = Verdict::Rejected {
                code,
                reason: reason.clone(),
            };
            self.judged(peer, author, batch, verdict, summary);
        }
        if let Some((client, clock)) = mark {
            let m = Mark {
                clock,
                seq: batch.map_or(UNBATCHED, |b| b.seq),
                code,
                reason: reason.clone(),
            };
            let slot = self.marks.entry(client).or_insert_with(|| m.clone());
            if clock < slot.clock {
                *slot = m;
            }
        }
        let batch = batch.unwrap_or(BatchId {
            client,
            seq: UNBATCHED,
        });
        // A client of protocol version 1 cannot decode the validators' code: it gets the
        // verdict it knows that rolls back too, with the same reason.
        let code = match code {
            RejectCode::RejectedByValidator
                if self
                    .peers
                    .get(&peer)
                    .is_some_and(|p| p.version < VALIDATOR_CODE_SINCE) =>
            {
                RejectCode::Forbidden
            }
            code => code,
        };
        // A rejection that waited (see the module docs) may find its peer gone.
        if self.peers.contains_key(&peer) {
            let reject = Message::Reject {
                batch,
                code,
                reason,
            };
            self.send(peer, &reject);
        }
        let exhausted = code != RejectCode::RateLimited
            && self
                .peers
                .get_mut(&peer)
                .is_some_and(|p| !p.rejections.try_take(now));
        if exhausted {
            self.close(peer, PeerCloseReason::TooManyRejections);
        }
    }

    /// Reports a judgement to the driver, if it asked for them (`judgement.rs`).
    fn judged(
        &mut self,
        peer: PeerId,
        author: Option<Author>,
        batch: Option<BatchId>,
        verdict: Verdict,
        summary: Option<Box<Summary>>,
    ) {
        if !self.judgements {
            return;
        }
        let author = author.unwrap_or_else(|| Author::anonymous(Role::Viewer));
        self.actions.push_back(RoomAction::Judged(Judgement {
            peer,
            author,
            batch,
            verdict,
            summary: summary.map_or_else(Summary::default, |s| *s),
        }));
    }

    /// Acks a batch the room already holds: now if nothing is being persisted, else when the
    /// last pending persist completes (the batch's clocks may be in it). `update` is the
    /// batch, kept while it waits (see [`Waiter`]).
    pub(super) fn acknowledge(&mut self, peer: PeerId, batch: Option<BatchId>, update: &[u8]) {
        let Some(batch) = batch else { return };
        match self.pending.back_mut() {
            Some(last) => last.waiting.push(Waiter::Reack {
                peer,
                batch,
                update: update.to_vec(),
            }),
            None => self.ack(peer, batch),
        }
    }

    /// Sends a sync step 2 answer (computed from the doc as it is now): now if nothing is
    /// being persisted, else when the last pending persist completes, so that it never shows
    /// a peer state a crash could still lose.
    pub(super) fn answer_step1_when_durable(
        &mut self,
        peer: PeerId,
        state_vector: &[u8],
        update: Vec<u8>,
    ) {
        match self.pending.back_mut() {
            Some(last) => last.answers.push(Answer {
                peer,
                state_vector: state_vector.to_vec(),
                update,
            }),
            None => self.send(peer, &Message::SyncStep2 { update }),
        }
    }

    fn ack(&mut self, peer: PeerId, batch: BatchId) {
        if self.peers.contains_key(&peer) {
            let clock = self.durable.get(&batch.client).copied().unwrap_or(0);
            self.send(peer, &Message::Ack { batch, clock });
        }
    }

    /// The driver made every persist up to `token` durable: ack and broadcast what waited.
    pub fn handle_persisted(&mut self, now: Instant, token: PersistToken) -> Result<(), RoomError> {
        if token.0 > self.issued {
            return Err(RoomError::UnknownToken(token));
        }
        while self.pending.front().is_some_and(|p| p.token <= token.0) {
            let Some(done) = self.pending.pop_front() else {
                break;
            };
            for &(client, clock) in &done.clocks {
                let durable = self.durable.entry(client).or_default();
                *durable = (*durable).max(clock);
            }
            if let Some(batch) = done.batch {
                self.ack(done.from, batch);
            }
            for waiter in done.waiting {
                match waiter {
                    Waiter::Reack { peer, batch, .. } => self.ack(peer, batch),
                    Waiter::Reject {
                        peer,
                        author,
                        batch,
                        refusal,
                        ..
                    } => {
                        if let Some(b) = batch {
                            self.held.remove(&b.client);
                        }
                        self.refuse_as(now, peer, author, batch, refusal);
                    }
                }
            }
            let frame = Message::Update {
                update: done.effect,
            }
            .encode();
            self.broadcast(Some(done.from), frame);
            if let Some(Compensation { update, violations }) = done.compensation {
                if self.peers.contains_key(&done.from) {
                    self.send(done.from, &Message::Update { update });
                }
                let record = AuditRecord {
                    peer: done.from,
                    clients: done
                        .clocks
                        .iter()
                        .map(|&(client, _)| client)
                        .filter(|&c| c != COMPENSATOR_CLIENT_ID)
                        .collect(),
                    token: PersistToken(done.token),
                    violations,
                };
                self.actions.push_back(RoomAction::Audit(record));
            }
            for Answer { peer, update, .. } in done.answers {
                if self.peers.contains_key(&peer) {
                    self.send(peer, &Message::SyncStep2 { update });
                }
            }
        }
        Ok(())
    }
}
