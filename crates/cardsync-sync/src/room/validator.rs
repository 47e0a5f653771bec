//! App-defined validators: an application's own rules, judged in the room after the schema's.
//!
//! The schema says what a valid document *is* (kinds, types, transitions, field permissions);
//! an application also has rules about what a change *may do*: "at most 5 cards in Doing",
//! "a section's position stays within 100 m of its planned point", "only the assignee moves a
//! card to Done". A [`Validator`] is such a rule, written in Rust against the core's typed
//! reads. The room calls every configured validator for every batch that passed the schema
//! checks, before it accepts the batch (docs/design.md §10, "App-defined validators"); a
//! rejection is an ordinary `Reject` with the code `rejected_by_validator`, and the client
//! rolls the batch back like any other refused batch.
//!
//! # What a validator sees
//! A [`Proposal`]: the document before the batch (the authoritative replica) and after it
//! (the shadow, which holds the batch), both as [`CardDoc`]s read through the core's typed
//! reads; what the batch touched (cards, boards, placements); and its [`Author`], the role
//! and the subject (user id) of the token the connection was admitted with.
//!
//! The batch's *intent* (its typed ops) is not on the wire: a `SubmitBatch` carries only the
//! yrs update, so [`Proposal::ops`] is `None` today. Validators judge the effect instead, the
//! before and after states of what the batch touched, which is also what a stock Yjs peer's
//! update offers and what cannot be forged by sending ops that disagree with the update.
//!
//! # Determinism
//! With several nodes (docs/design.md §12) a batch whose append lost the compare-and-append is
//! judged again on the new state (`log.rs`), and two nodes may judge the same batch. So a
//! validator must be a pure function of its proposal: no clock, no I/O, no randomness, no
//! state that changes between calls. Its verdict is then the same wherever and however often
//! the batch is judged on the same state.

use std::collections::BTreeSet;
use std::fmt;
use std::sync::Arc;

use cardsync_core::layout::{BoardKey, parse_board_key};
use cardsync_core::{BoardId, CardDoc, CardId, ColumnId, Op};

use super::auth::Author;
use super::shadow::Touched;

/// A batch a room is about to accept, as validators see it. See the module docs of `room/validator.rs`.
pub struct Proposal<'a> {
    /// The document before the batch.
    pub before: &'a CardDoc,
    /// The document with the batch applied.
    pub after: &'a CardDoc,
    /// Who wrote it.
    pub author: &'a Author,
    /// The batch's typed ops, when the client sent them. Always `None` today: the wire
    /// carries only the update (see the module docs of `room/validator.rs`).
    pub ops: Option<&'a [Op]>,
    /// Cards whose own entry (kind, fields, deletion) the batch changed.
    pub cards: BTreeSet<CardId>,
    /// Boards whose entry, columns or placements the batch changed.
    pub boards: BTreeSet<BoardId>,
    /// Columns the batch changed (added, renamed, moved, removed).
    pub columns: BTreeSet<(BoardId, ColumnId)>,
    /// Cards whose placement on a board the batch changed (placed, moved, unplaced).
    pub placements: BTreeSet<(BoardId, CardId)>,
}

impl<'a> Proposal<'a> {
    /// A proposal of what an update touched, as the room's shadow recorded it. Keys that are
    /// not canonical ids cannot reach here (the schema checks refuse them first).
    pub(crate) fn new(
        before: &'a CardDoc,
        after: &'a CardDoc,
        author: &'a Author,
        touched: &Touched,
    ) -> Self {
        let cards = touched
            .cards
            .keys()
            .filter_map(|k| CardId::from_key(k))
            .collect();
        let mut proposal = Self {
            before,
            after,
            author,
            ops: None,
            cards,
            boards: BTreeSet::new(),
            columns: BTreeSet::new(),
            placements: BTreeSet::new(),
        };
        for key in touched.boards.keys() {
            match parse_board_key(key) {
                Some(BoardKey::Board(board)) => {
                    proposal.boards.insert(board);
                }
                Some(BoardKey::Column(board, column)) => {
                    proposal.boards.insert(board);
                    proposal.columns.insert((board, column));
                }
                Some(BoardKey::Placement(board, card)) => {
                    proposal.boards.insert(board);
                    proposal.placements.insert((board, card));
                }
                None => {}
            }
        }
        proposal
    }

    /// A proposal built by hand, for tests of a validator and for tools that judge a change
    /// outside a room: `cards`, `boards`, `columns` and `placements` start empty.
    pub fn of(before: &'a CardDoc, after: &'a CardDoc, author: &'a Author) -> Self {
        Self {
            before,
            after,
            author,
            ops: None,
            cards: BTreeSet::new(),
            boards: BTreeSet::new(),
            columns: BTreeSet::new(),
            placements: BTreeSet::new(),
        }
    }
}

/// A validator's refusal: a stable code of the validator's own (`"wip_limit"`), which programs
/// match on, and a reason for people.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refused {
    /// Stable, machine-readable: lower snake case by convention.
    pub code: String,
    /// Human-readable: what was refused and why.
    pub reason: String,
}

impl Refused {
    /// A refusal with `code` and `reason`.
    pub fn new(code: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            code: code.into(),
            reason: reason.into(),
        }
    }

    /// The reason a `Reject` carries: the validator's code, a colon, then its reason, so a
    /// client reads the code back with [`Refused::code_of`].
    pub fn wire_reason(&self) -> String {
        format!("{}: {}", self.code, self.reason)
    }

    /// The validator's code at the start of a `Reject`'s reason (the part before the first
    /// `": "`), for a rejection with the code `rejected_by_validator`.
    pub fn code_of(reason: &str) -> Option<&str> {
        reason.split_once(": ").map(|(code, _)| code)
    }
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.wire_reason())
    }
}

/// An application's rule about what a batch may do. See the module docs of `room/validator.rs`: it must be
/// deterministic, a pure function of the [`Proposal`].
pub trait Validator: Send + Sync {
    /// Accepts the batch (`Ok`) or refuses it with a stable code and a reason.
    fn validate(&self, proposal: &Proposal<'_>) -> Result<(), Refused>;
}

impl<V: Validator + ?Sized> Validator for Arc<V> {
    fn validate(&self, proposal: &Proposal<'_>) -> Result<(), Refused> {
        (**self).validate(proposal)
    }
}

impl<V: Validator + ?Sized> Validator for Box<V> {
    fn validate(&self, proposal: &Proposal<'_>) -> Result<(), Refused> {
        (**self).validate(proposal)
    }
}

/// The validators of one room, run in order; the first refusal decides.
#[derive(Clone, Default)]
pub struct Validators(Vec<Arc<dyn Validator>>);

impl Validators {
    /// No validators.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a validator, run after those added before it.
    pub fn with(mut self, validator: impl Validator + 'static) -> Self {
        self.0.push(Arc::new(validator));
        self
    }

    /// Adds a shared validator.
    pub fn push(&mut self, validator: Arc<dyn Validator>) {
        self.0.push(validator);
    }

    /// Adds `other`'s validators after these.
    pub fn extend(&mut self, other: Validators) {
        self.0.extend(other.0);
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// How many.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Runs every validator in order; the first refusal decides.
    pub fn validate(&self, proposal: &Proposal<'_>) -> Result<(), Refused> {
        self.0.iter().try_for_each(|v| v.validate(proposal))
    }
}

impl fmt::Debug for Validators {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Validators({})", self.0.len())
    }
}
