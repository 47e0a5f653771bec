//! The life of a batch: limits, decode, clocks, validation, apply, persist, ack, broadcast.
//!
//! See the [module docs](super) for the order and why it is that order. This file decides;
//! `settle.rs` carries the verdict out (persist, ack, reject, broadcast).
//!
//! Clocks decide before any replica is touched: a batch whose clocks the room holds is a
//! duplicate; one reaching into a range the room rejected for its client id (a *mark*) is a
//! dependent, or a resend of the rejected batch, which gets its original verdict again; one
//! that starts after a hole needs a predecessor the room lacks. A batch numbered after the
//! rejected one is a dependent even when it brings no clocks (a delete-only batch). Only
//! `SubmitBatch` rejections mark: a stock client cannot roll back anyway, and a native
//! client's `SyncStep2` may mix several batches, whose own `SubmitBatch`es deserve their own
//! verdicts. Rate-limited, oversize, malformed and hole-after-a-gap refusals leave no mark:
//! they are retryable.
//!
//! Only a cardsync client (one that said hello) is refused `RateLimited`: a stock client
//! never resends, so its updates past the rate are judged all the same, and the room asks
//! the driver to stop reading its socket until the bucket refills (`RoomAction::Pause`).
//!
//! A `RateLimited` refusal is the one the client answers by resending the same batch later,
//! and the batches it sent behind it arrive before it hears of the refusal. Those of the same
//! client id then start after a hole; the hole is the rate limit's doing, not a rejection's,
//! so once a client id was rate-limited on a connection its holes are refused `RateLimited`
//! too (retryable, no mark, no cost to the rejection budget), and the client resends them
//! behind their predecessor. (A hole after a rejected range meets that range's mark first.)

use std::collections::BTreeSet;

use yrs::block::ClientID;
use yrs::{ReadTxn, Transact};

use crate::protocol::{BatchId, RejectCode};
use crate::time::Instant;

use super::Room;
use super::action::RoomAction;
use super::auth::{Authenticator, Author, Role};
use super::check::{Rules, check};
use super::check_container::{is_reserved, reserved_clients};
use super::compensate::{Compensation, compensate};
use super::incoming::{Fresh, Incoming};
use super::judgement::Summary;
use super::names::PeerId;
use super::shadow::{COMPENSATOR_CLIENT_ID, Shadow};
use super::validator::Proposal;
use super::violation::Violation;

/// A batch passed every check.
pub(super) enum Accepted {
    /// The room already holds all of it.
    Held,
    /// Applied; to be persisted.
    Applied {
        /// What to persist and broadcast: the update's effect, and the compensation if any.
        effect: Vec<u8>,
        clocks: Vec<(u64, u32)>,
        /// For a stock peer's invalid update, the room's compensation (`compensate.rs`).
        compensation: Option<Compensation>,
        /// What it touched, when the room reports judgements (`judgement.rs`).
        summary: Option<Box<Summary>>,
    },
}

/// A batch was refused.
#[derive(Debug)]
pub(super) struct Refusal {
    pub code: RejectCode,
    pub reason: String,
    /// Client id named in the reject of an unbatched update.
    pub client: u64,
    /// The mark to record, for `SubmitBatch` rejections that are final.
    pub mark: Option<(u64, u32)>,
    /// What the batch touched, when the room got as far as the shadow and reports judgements.
    pub summary: Option<Box<Summary>>,
}

impl Refusal {
    fn new(code: RejectCode, reason: impl Into<String>) -> Self {
        Self {
            code,
            reason: reason.into(),
            client: 0,
            mark: None,
            summary: None,
        }
    }

    /// The refusal of a batch that touched what `summary` says.
    fn touching(self, summary: &Option<Box<Summary>>) -> Self {
        Self {
            summary: summary.clone(),
            ..self
        }
    }
}

/// The clock where `batch`'s rejected range starts: its first clock the room lacks.
fn mark_of(batch: Option<BatchId>, fresh: &[Fresh], held: &yrs::StateVector) -> Option<(u64, u32)> {
    let client = batch?.client;
    let start = fresh
        .iter()
        .find(|f| f.client == client)
        .map_or_else(|| held.get(&ClientID::new(client)), |f| f.start);
    Some((client, start))
}

impl<A: Authenticator> Room<A> {
    /// Runs a batch (or a stock update, `batch == None`) through the pipeline.
    pub(super) fn receive(
        &mut self,
        now: Instant,
        peer: PeerId,
        batch: Option<BatchId>,
        update: &[u8],
    ) {
        let Some(state) = self.peers.get_mut(&peer) else {
            return;
        };
        let author = state
            .author()
            .unwrap_or_else(|| Author::anonymous(Role::Viewer));
        let stock = !state.hello;
        let verdict = if stock {
            // A stock client never resends: judge every update, and past the rate stop
            // reading its socket until the bucket has a token again (backpressure).
            if let Some(until) = state.batches.take_owing(now) {
                self.actions.push_back(RoomAction::Pause { peer, until });
            }
            self.judge(&author, batch, update, false, stock)
        } else if state.batches.try_take(now) {
            let rate_limited = batch.is_some_and(|b| state.rate_limited.contains(&b.client));
            self.judge(&author, batch, update, rate_limited, stock)
        } else {
            if let Some(b) = batch {
                state.rate_limited.insert(b.client);
            }
            Err(Refusal::new(
                RejectCode::RateLimited,
                "too many batches; retry later",
            ))
        };
        self.settle(now, peer, batch, update, verdict);
    }

    /// The verdict a client id's mark gives, if the update meets one. A batch numbered at or
    /// after the rejected one is judged by its number: the session replays every later batch
    /// of that id under a new one, a delete-only batch (no clocks to meet the mark) included,
    /// so acking one here would leave the room and its author disagreeing. An update without a
    /// batch (a stock client's, a `SyncStep2`), or an earlier batch, is judged by its clocks.
    fn meets_mark(&self, batch: Option<BatchId>, fresh: &[Fresh]) -> Option<(RejectCode, String)> {
        if let Some(b) = batch
            && let Some(m) = self.marks.get(&b.client)
            && b.seq >= m.seq
        {
            return Some(if b.seq == m.seq {
                (m.code, format!("already rejected: {}", m.reason))
            } else {
                let reason = format!(
                    "follows client {}'s batch {}, which the room rejected",
                    b.client, m.seq
                );
                (RejectCode::DependsOnRejected, reason)
            });
        }
        if let Some(b) = batch
            && let Some(&held) = self.held.get(&b.client)
            && b.seq > held
        {
            let reason = format!(
                "follows client {}'s batch {held}, which the room rejected",
                b.client
            );
            return Some((RejectCode::DependsOnRejected, reason));
        }
        fresh.iter().find_map(|f| {
            let m = self.marks.get(&f.client)?;
            (f.end > m.clock).then(|| {
                let reason = format!(
                    "builds on client {}'s clocks from {}, which the room rejected",
                    f.client, m.clock
                );
                (RejectCode::DependsOnRejected, reason)
            })
        })
    }

    /// `rate_limited`: a batch of this client id was rate-limited on this connection.
    /// `stock`: the peer said no hello, so an update breaking a document rule is compensated
    /// instead of refused.
    pub(super) fn judge(
        &mut self,
        author: &Author,
        batch: Option<BatchId>,
        update: &[u8],
        rate_limited: bool,
        stock: bool,
    ) -> Result<Accepted, Refusal> {
        let role = author.role;
        let max = self.config.max_update_bytes;
        if update.len() > max {
            let reason = format!(
                "update of {} bytes exceeds the limit of {max}",
                update.len()
            );
            return Err(Refusal::new(RejectCode::TooLarge, reason));
        }
        let incoming = Incoming::decode(update)
            .map_err(|e| Refusal::new(RejectCode::Malformed, e.to_string()))?;
        let held = self.doc.yrs_doc().transact().state_vector();
        let fresh = incoming.fresh(&held);
        let client = batch
            .map(|b| b.client)
            .or(fresh.first().map(|f| f.client))
            .unwrap_or(0);
        let mark = mark_of(batch, &fresh, &held);
        let refuse = |code: RejectCode, reason: String, mark: Option<(u64, u32)>| Refusal {
            code,
            reason,
            client,
            mark,
            summary: None,
        };
        let violation = |v: Violation| refuse(v.code(), v.to_string(), mark);

        if let Some(b) = batch
            && let Some(other) = fresh
                .iter()
                .find(|f| f.client != b.client && !is_reserved(f.client))
        {
            return Err(violation(Violation::ForeignClient {
                batch: b.client,
                other: other.client,
            }));
        }
        if fresh.iter().any(|f| f.client == COMPENSATOR_CLIENT_ID) {
            let client = COMPENSATOR_CLIENT_ID;
            return Err(violation(Violation::ReservedClient { client }));
        }
        if let Some((code, reason)) = self.meets_mark(batch, &fresh) {
            return Err(refuse(code, reason, None));
        }
        for f in &fresh {
            let have = held.get(&ClientID::new(f.client));
            if f.start > have {
                let (code, cause) = if rate_limited {
                    (RejectCode::RateLimited, "was rate-limited; resend it first")
                } else {
                    (RejectCode::DependsOnRejected, "was rejected or not sent")
                };
                let reason = format!(
                    "client {}'s clocks {have}..{} are missing: a predecessor {cause}",
                    f.client, f.start
                );
                return Err(refuse(code, reason, None));
            }
        }
        if fresh.is_empty() && !incoming.has_deletes() {
            return Ok(Accepted::Held);
        }
        if !role.can_write() && !fresh.is_empty() {
            return Err(violation(Violation::ReadOnly { role }));
        }

        let shadow = match self.shadow.take() {
            Some(shadow) => shadow,
            None => Shadow::load(self.schema.clone(), &self.doc.snapshot_v1()).map_err(|e| {
                refuse(
                    RejectCode::Malformed,
                    format!("the room cannot validate now: {e}"),
                    None,
                )
            })?,
        };
        let shadow = self.shadow.insert(shadow);
        let applied = match shadow.apply(update) {
            Ok(applied) => applied,
            Err(e) => {
                self.shadow = None;
                return Err(refuse(RejectCode::Malformed, e.to_string(), None));
            }
        };
        // What the batch touched, for the driver's audit trail (`judgement.rs`).
        let summary = self
            .judgements
            .then(|| Box::new(Summary::of(&applied.touched)));
        if shadow.has_missing_updates() {
            self.shadow = None;
            // A verdict the session rolls back, replaying this client id's later batches under
            // a new one: so the room must refuse those later batches too (the mark), or a
            // later batch it accepts here would land twice. A delete-only batch has no clocks
            // of its own; its mark starts at the clock the room holds for its client.
            let reason = "the update needs changes the room does not hold".to_owned();
            return Err(refuse(RejectCode::DependsOnRejected, reason, mark).touching(&summary));
        }
        if !role.can_write() && applied.effect.is_some() {
            self.shadow = None;
            return Err(violation(Violation::ReadOnly { role }).touching(&summary));
        }
        // Field containers' reserved ids write no entries (`check_container.rs`).
        let writers: BTreeSet<u64> = fresh
            .iter()
            .map(|f| f.client)
            .filter(|c| !is_reserved(*c))
            .collect();
        let rules = Rules {
            schema: &self.schema,
            permissions: &self.config.permissions,
            role,
            writers: &writers,
            fixed: &self.fixed,
            latest_stamp: self
                .wall_ms
                .map(|now| now.saturating_add(self.config.max_stamp_skew_ms)),
        };
        let foreign_roots = shadow.foreign_roots_in_use();
        // Clocks of a reserved client id are refused outright, for every peer: no change of the
        // room's can take clocks back (`check_container.rs`).
        if let Err(v) = reserved_clients(&fresh, &applied.touched, shadow.doc()) {
            self.shadow = None;
            return Err(violation(v).touching(&summary));
        }
        let mut compensation = None;
        if let Err(v) = check(
            &rules,
            &self.doc,
            shadow.doc(),
            &applied.touched,
            &foreign_roots,
        ) {
            // Only a stock writer's update within the known roots can be undone (see
            // `compensate.rs`); everything else is refused.
            if !stock || !role.can_write() {
                self.shadow = None;
                return Err(violation(v).touching(&summary));
            }
            match compensate(shadow, &self.doc, &rules, &applied.touched, &foreign_roots) {
                Ok(c) => compensation = Some(c),
                Err(e) => {
                    self.shadow = None;
                    let reason = format!("the room cannot compensate the update: {e}");
                    return Err(refuse(RejectCode::Malformed, reason, None).touching(&summary));
                }
            }
        }
        let Some(mut effect) = applied.effect else {
            return Ok(Accepted::Held);
        };
        // The application's rules, after the schema's and before anything is applied
        // (`validator.rs`). A compensated stock update is the room's own undoing of a broken
        // rule, judged by the schema alone: a validator's refusal could not be compensated.
        if compensation.is_none() && !self.validators.is_empty() {
            let proposal = Proposal::new(&self.doc, shadow.doc(), author, &applied.touched);
            if let Err(refused) = self.validators.validate(&proposal) {
                self.shadow = None;
                let code = RejectCode::RejectedByValidator;
                return Err(refuse(code, refused.wire_reason(), mark).touching(&summary));
            }
        }
        let mut clocks: Vec<(u64, u32)> = fresh.iter().map(|f| (f.client, f.end)).collect();
        if let Some(c) = &compensation {
            effect = match cardsync_core::merge_updates_v1(&[&effect, &c.update]) {
                Ok(merged) => merged,
                Err(e) => {
                    self.shadow = None;
                    let reason = format!("the room cannot compensate the update: {e}");
                    return Err(refuse(RejectCode::Malformed, reason, None).touching(&summary));
                }
            };
        }
        let own = compensation.as_ref().map(|c| c.update.as_slice());
        for bytes in std::iter::once(update).chain(own) {
            if let Err(e) = self.doc.apply_update_v1(bytes) {
                // Unreachable in practice: the shadow integrated the same bytes from the same
                // state.
                self.shadow = None;
                return Err(refuse(RejectCode::Malformed, e.to_string(), None).touching(&summary));
            }
        }
        self.fixed
            .add_new(&self.doc, &self.schema, applied.touched.cards.keys());
        if compensation.is_some() {
            let held = self.doc.yrs_doc().transact().state_vector();
            let id = COMPENSATOR_CLIENT_ID;
            clocks.push((id, held.get(&ClientID::new(id))));
        }
        Ok(Accepted::Applied {
            effect,
            clocks,
            compensation,
            summary,
        })
    }
}
