//! Card operations: the *intent* behind every local change.
//!
//! Every write goes through an [`Op`]. The sync layer keeps the ops of each unacknowledged
//! batch in its outbox, because after a rejection the document is rebuilt from the confirmed
//! state and the surviving ops are *replayed* (DESIGN.md §5): yrs cannot un-apply an update,
//! but it can redo intent. Ops are serde values so they persist and travel as they are.

use serde::{Deserialize, Serialize};

use crate::ids::{CardId, SequenceId};
use crate::value::{Attributes, Value};

/// Who changed something and when, as the caller's clock and identity say. The core reads no
/// clock; `at` is whatever the caller uses (wall milliseconds or a hybrid logical clock).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stamp {
    /// Time in the caller's unit (milliseconds recommended).
    pub at: u64,
    /// The actor (user) id.
    pub by: String,
}

impl Stamp {
    /// A stamp.
    pub fn new(at: u64, by: impl Into<String>) -> Self {
        Self { at, by: by.into() }
    }
}

/// One card operation. Text positions and lengths count UTF-16 code units, as JavaScript and
/// Yjs do, so indexes from a browser selection work unchanged.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Op {
    /// Creates a card. `fields` gives register values and initial text of text fields.
    CreateCard {
        /// New id.
        card: CardId,
        /// Card kind from the schema.
        kind: String,
        /// Initial values.
        #[serde(default)]
        fields: Attributes,
    },
    /// Sets a register.
    SetField {
        /// Card.
        card: CardId,
        /// Register field.
        field: String,
        /// New value (`Null` clears).
        value: Value,
    },
    /// Inserts text, optionally formatted.
    InsertText {
        /// Card.
        card: CardId,
        /// Text field.
        field: String,
        /// Position.
        index: u32,
        /// Text to insert.
        text: String,
        /// Formatting of the inserted run.
        #[serde(default, skip_serializing_if = "Attributes::is_empty")]
        attributes: Attributes,
    },
    /// Deletes a range of text.
    DeleteText {
        /// Card.
        card: CardId,
        /// Text field.
        field: String,
        /// Start.
        index: u32,
        /// Length.
        len: u32,
    },
    /// Formats a range of text (`Null` removes an attribute).
    FormatText {
        /// Card.
        card: CardId,
        /// Text field.
        field: String,
        /// Start.
        index: u32,
        /// Length.
        len: u32,
        /// Attributes to set.
        attributes: Attributes,
    },
    /// Adds to a counter (negative to decrement).
    Increment {
        /// Card.
        card: CardId,
        /// Counter field.
        field: String,
        /// Amount.
        by: i64,
    },
    /// Raises a max field to at least `value`.
    RaiseMax {
        /// Card.
        card: CardId,
        /// Max field.
        field: String,
        /// Candidate value.
        value: f64,
    },
    /// Adds an item to a set.
    AddToSet {
        /// Card.
        card: CardId,
        /// Set field.
        field: String,
        /// Item.
        item: String,
    },
    /// Removes an item from a set.
    RemoveFromSet {
        /// Card.
        card: CardId,
        /// Set field.
        field: String,
        /// Item.
        item: String,
    },
    /// Soft-deletes a card: it and its relationships disappear from reads until restored.
    DeleteCard {
        /// Card.
        card: CardId,
    },
    /// Restores a soft-deleted card.
    RestoreCard {
        /// Card.
        card: CardId,
    },
    /// Creates (or revives) a relationship and sets the given properties.
    Link {
        /// From.
        from: CardId,
        /// Relationship kind.
        kind: String,
        /// To.
        to: CardId,
        /// Properties.
        #[serde(default, skip_serializing_if = "Attributes::is_empty")]
        properties: Attributes,
    },
    /// Removes a relationship.
    Unlink {
        /// From.
        from: CardId,
        /// Relationship kind.
        kind: String,
        /// To.
        to: CardId,
    },
    /// Creates an empty sequence.
    CreateSequence {
        /// New id.
        sequence: SequenceId,
    },
    /// Puts a card into a sequence at a visible index (an index past the end appends).
    InsertIntoSequence {
        /// Sequence.
        sequence: SequenceId,
        /// Card.
        card: CardId,
        /// Position among the visible cards.
        index: u32,
    },
    /// Moves a card within a sequence to a visible index (counted without the card itself).
    MoveInSequence {
        /// Sequence.
        sequence: SequenceId,
        /// Card.
        card: CardId,
        /// Target position.
        index: u32,
    },
    /// Takes a card out of a sequence.
    RemoveFromSequence {
        /// Sequence.
        sequence: SequenceId,
        /// Card.
        card: CardId,
    },
}

impl Op {
    /// The card whose `$modified` stamp this op updates, if any.
    pub(crate) fn touched_card(&self) -> Option<CardId> {
        match self {
            Op::CreateCard { .. }
            | Op::Link { .. }
            | Op::Unlink { .. }
            | Op::CreateSequence { .. }
            | Op::InsertIntoSequence { .. }
            | Op::MoveInSequence { .. }
            | Op::RemoveFromSequence { .. } => None,
            Op::SetField { card, .. }
            | Op::InsertText { card, .. }
            | Op::DeleteText { card, .. }
            | Op::FormatText { card, .. }
            | Op::Increment { card, .. }
            | Op::RaiseMax { card, .. }
            | Op::AddToSet { card, .. }
            | Op::RemoveFromSet { card, .. }
            | Op::DeleteCard { card }
            | Op::RestoreCard { card } => Some(*card),
        }
    }
}
