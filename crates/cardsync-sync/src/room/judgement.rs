//! Judgements: what the room decided about each batch, for the driver's audit trail.
//!
//! An audit trail needs, for every batch the room judges, who sent it, the verdict and what the
//! batch touched. The room is the one place that knows all three: the author is the peer's
//! admission (its token's role and subject, never the actor a client claims in its stamps),
//! the verdict is the room's, and what was touched is what the shadow recorded while the batch
//! was checked. So the room reports a [`Judgement`] per batch, and the driver adds what the
//! sans-IO room must not know: the time (the driver's clock) and, for an accepted batch, its
//! sequence number (the store's, once the append lands).
//!
//! Judgements are opt-in ([`Room::with_judgements`](super::Room::with_judgements)) and come
//! out as [`RoomAction::Judged`](super::RoomAction::Judged), the room's one output: a driver
//! without an audit trail (a test, a simulation) never sees one and pays nothing. They are deterministic: the same inputs make the same
//! judgements, with no clock read.
//!
//! Which batches are judged: every batch (or stock update) that reaches a verdict, accepted or
//! rejected with a code. Not judged: a duplicate the room already holds (re-acked, nothing new)
//! and a `rate_limited` refusal ("not now", no verdict: docs/design.md §5), which a client
//! sends again and which would otherwise let one client fill the trail with refusals.

use std::collections::{BTreeMap, BTreeSet};

use cardsync_core::layout::{BoardKey, parse_board_key};
use cardsync_core::{BoardId, CardId};
use serde::{Deserialize, Serialize};

use super::auth::Author;
use super::names::{PeerId, PersistToken};
use super::shadow::Touched;
use crate::protocol::{BatchId, RejectCode};

/// What the room decided about one batch. See the module docs of `room/judgement.rs`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Judgement {
    /// The peer that sent it.
    pub peer: PeerId,
    /// Who sent it: the role and subject of the token the peer was admitted with.
    pub author: Author,
    /// The batch id, or `None` for a stock client's update (which has none).
    pub batch: Option<BatchId>,
    /// The verdict.
    pub verdict: Verdict,
    /// What the batch touched, as far as the room got before its verdict (empty for a batch
    /// refused before it was applied to the shadow: too large, malformed, a dependent).
    pub summary: Summary,
}

/// The room's verdict on one batch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Accepted and handed to the driver as the [`RoomAction::Persist`](super::RoomAction)
    /// with this token (emitted in the same drain).
    Accepted(PersistToken),
    /// Refused with a stable code (the code the room decided, before any downgrade for an old
    /// client) and the reason sent.
    Rejected {
        /// The stable reject code.
        code: RejectCode,
        /// The reason, for people.
        reason: String,
    },
}

/// What a batch touched, by card: the summary an audit record keeps. Derived from what the
/// room's shadow recorded while it checked the batch (`shadow.rs`), so it names exactly the
/// entries the update wrote, whatever ops a client may claim.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// Per card, what changed in it (its own entry, or its placement on a board).
    #[serde(default)]
    pub cards: BTreeMap<CardId, CardChange>,
    /// Boards whose entry, columns or placements changed.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub boards: BTreeSet<BoardId>,
    /// Keys of the relationships (edges) and relationship properties touched.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub relationships: BTreeSet<String>,
    /// Keys of the sequences touched.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub sequences: BTreeSet<String>,
}

/// What changed in one card.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CardChange {
    /// The card's entry was written or removed whole (created, deleted, replaced).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub whole: bool,
    /// Keys written inside the card: field names, and the card's `$` bookkeeping keys.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub fields: BTreeSet<String>,
    /// Boards on which the card's placement changed (placed, moved, unplaced).
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub placed: BTreeSet<BoardId>,
}

impl Summary {
    /// The summary of what the shadow recorded. Keys that are not canonical ids (only a
    /// refused batch can hold them) are left out of `cards` and `boards`.
    pub(crate) fn of(touched: &Touched) -> Self {
        let mut summary = Self::default();
        for (key, touch) in &touched.cards {
            if let Some(card) = CardId::from_key(key) {
                let change = summary.cards.entry(card).or_default();
                change.whole |= touch.whole;
                change.fields.extend(touch.keys.iter().cloned());
            }
        }
        for key in touched.boards.keys() {
            match parse_board_key(key) {
                Some(BoardKey::Board(board) | BoardKey::Column(board, _)) => {
                    summary.boards.insert(board);
                }
                Some(BoardKey::Placement(board, card)) => {
                    summary.boards.insert(board);
                    let change = summary.cards.entry(card).or_default();
                    change.placed.insert(board);
                }
                None => {}
            }
        }
        summary
            .relationships
            .extend(touched.relationships.keys().cloned());
        summary.relationships.extend(touched.props.keys().cloned());
        summary.sequences.extend(touched.sequences.keys().cloned());
        summary
    }

    /// The cards named: the ones a history filtered by card finds this batch under.
    pub fn card_ids(&self) -> impl Iterator<Item = CardId> + '_ {
        self.cards.keys().copied()
    }
}
