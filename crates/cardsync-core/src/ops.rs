//! Card operations: the *intent* behind every local change.
//!
//! Every write goes through an [`Op`]. The sync layer keeps the ops of each unacknowledged
//! batch in its outbox, because after a rejection the document is rebuilt from the confirmed
//! state and the surviving ops are *replayed* (docs/design.md §5): yrs cannot un-apply an update,
//! but it can redo intent. Ops are serde values so they persist and travel as they are.

use serde::{Deserialize, Serialize};

use crate::ids::{BoardId, CardId, ColumnId, SequenceId};
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
///
/// Serialized internally tagged (`{"op": "set_field", "card": …}`). Deserialized through
/// a private `WireOp`, one flat struct, instead of serde's derive for internally tagged enums,
/// which buffers every op into an intermediate `Content` value and instantiates each
/// variant's fields for a second deserializer: that derive alone was about 10 KB of the
/// gzipped wasm of the npm package, and slower. The accepted JSON is the same.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", try_from = "wire::WireOp")]
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
    /// Creates an empty board of a kind the schema declares.
    CreateBoard {
        /// New id.
        board: BoardId,
        /// Board kind.
        kind: String,
    },
    /// Adds a column at a position among the board's columns (past the end appends).
    AddColumn {
        /// Board.
        board: BoardId,
        /// New column id.
        column: ColumnId,
        /// Its name.
        name: String,
        /// Position among the live columns.
        index: u32,
    },
    /// Renames a column.
    RenameColumn {
        /// Board.
        board: BoardId,
        /// Column.
        column: ColumnId,
        /// New name.
        name: String,
    },
    /// Moves a column to a position among the other live columns.
    MoveColumn {
        /// Board.
        board: BoardId,
        /// Column.
        column: ColumnId,
        /// Target position.
        index: u32,
    },
    /// Removes a column. Its cards are not lost: they show in the first live column.
    RemoveColumn {
        /// Board.
        board: BoardId,
        /// Column.
        column: ColumnId,
    },
    /// Places a card in a column of a board at a visible index (counted without the card
    /// itself; past the end appends), moving it from wherever it was on that board.
    PlaceCard {
        /// Board.
        board: BoardId,
        /// Card.
        card: CardId,
        /// Column.
        column: ColumnId,
        /// Position among the column's visible cards.
        index: u32,
    },
    /// Takes a card off a board.
    UnplaceCard {
        /// Board.
        board: BoardId,
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
            | Op::RemoveFromSequence { .. }
            | Op::CreateBoard { .. }
            | Op::AddColumn { .. }
            | Op::RenameColumn { .. }
            | Op::MoveColumn { .. }
            | Op::RemoveColumn { .. }
            | Op::PlaceCard { .. }
            | Op::UnplaceCard { .. } => None,
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

mod wire {
    //! The deserializing side of [`Op`]'s JSON: every field any op has, each optional, then
    //! one `match` on the tag that takes the fields its variant needs. Fields of other
    //! variants are ignored, as serde's derive ignores unknown fields.

    use serde::{Deserialize, Deserializer};

    use super::Op;
    use crate::ids::{BoardId, CardId, ColumnId, SequenceId};
    use crate::value::{Attributes, Value};

    /// The op names (`"op"`), exactly the variant names in snake case.
    #[derive(Deserialize)]
    #[serde(rename_all = "snake_case")]
    enum Tag {
        CreateCard,
        SetField,
        InsertText,
        DeleteText,
        FormatText,
        Increment,
        RaiseMax,
        AddToSet,
        RemoveFromSet,
        DeleteCard,
        RestoreCard,
        Link,
        Unlink,
        CreateSequence,
        InsertIntoSequence,
        MoveInSequence,
        RemoveFromSequence,
        CreateBoard,
        AddColumn,
        RenameColumn,
        MoveColumn,
        RemoveColumn,
        PlaceCard,
        UnplaceCard,
    }

    /// One op as JSON has it.
    #[derive(Deserialize)]
    pub(super) struct WireOp {
        op: Tag,
        card: Option<CardId>,
        kind: Option<String>,
        fields: Option<Attributes>,
        field: Option<String>,
        /// `Some(Value::Null)` for `"value": null` (clears a register), `None` when absent.
        #[serde(default, deserialize_with = "present")]
        value: Option<Value>,
        index: Option<u32>,
        text: Option<String>,
        attributes: Option<Attributes>,
        len: Option<u32>,
        by: Option<i64>,
        item: Option<String>,
        from: Option<CardId>,
        to: Option<CardId>,
        properties: Option<Attributes>,
        sequence: Option<SequenceId>,
        board: Option<BoardId>,
        column: Option<ColumnId>,
        name: Option<String>,
    }

    fn present<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Value>, D::Error> {
        Value::deserialize(deserializer).map(Some)
    }

    /// Why a JSON object is not an op; serde reports it as a custom error.
    #[derive(Debug)]
    pub(super) enum WireError {
        Missing(&'static str),
        NotANumber,
    }

    impl std::fmt::Display for WireError {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            match self {
                WireError::Missing(field) => write!(f, "missing field `{field}`"),
                WireError::NotANumber => f.write_str("invalid type: `value` must be a number"),
            }
        }
    }

    fn need<T>(value: Option<T>, field: &'static str) -> Result<T, WireError> {
        value.ok_or(WireError::Missing(field))
    }

    impl TryFrom<WireOp> for Op {
        type Error = WireError;

        fn try_from(w: WireOp) -> Result<Self, WireError> {
            let card = || need(w.card, "card");
            let field = || need(w.field.clone(), "field");
            Ok(match w.op {
                Tag::CreateCard => Op::CreateCard {
                    card: card()?,
                    kind: need(w.kind, "kind")?,
                    fields: w.fields.unwrap_or_default(),
                },
                Tag::SetField => Op::SetField {
                    card: card()?,
                    field: field()?,
                    value: need(w.value, "value")?,
                },
                Tag::InsertText => Op::InsertText {
                    card: card()?,
                    field: field()?,
                    index: need(w.index, "index")?,
                    text: need(w.text, "text")?,
                    attributes: w.attributes.unwrap_or_default(),
                },
                Tag::DeleteText => Op::DeleteText {
                    card: card()?,
                    field: field()?,
                    index: need(w.index, "index")?,
                    len: need(w.len, "len")?,
                },
                Tag::FormatText => Op::FormatText {
                    card: card()?,
                    field: field()?,
                    index: need(w.index, "index")?,
                    len: need(w.len, "len")?,
                    attributes: need(w.attributes, "attributes")?,
                },
                Tag::Increment => Op::Increment {
                    card: card()?,
                    field: field()?,
                    by: need(w.by, "by")?,
                },
                Tag::RaiseMax => Op::RaiseMax {
                    card: card()?,
                    field: field()?,
                    value: match need(w.value, "value")? {
                        Value::Number(value) => value,
                        _ => return Err(WireError::NotANumber),
                    },
                },
                Tag::AddToSet => Op::AddToSet {
                    card: card()?,
                    field: field()?,
                    item: need(w.item, "item")?,
                },
                Tag::RemoveFromSet => Op::RemoveFromSet {
                    card: card()?,
                    field: field()?,
                    item: need(w.item, "item")?,
                },
                Tag::DeleteCard => Op::DeleteCard { card: card()? },
                Tag::RestoreCard => Op::RestoreCard { card: card()? },
                Tag::Link => Op::Link {
                    from: need(w.from, "from")?,
                    kind: need(w.kind, "kind")?,
                    to: need(w.to, "to")?,
                    properties: w.properties.unwrap_or_default(),
                },
                Tag::Unlink => Op::Unlink {
                    from: need(w.from, "from")?,
                    kind: need(w.kind, "kind")?,
                    to: need(w.to, "to")?,
                },
                Tag::CreateSequence => Op::CreateSequence {
                    sequence: need(w.sequence, "sequence")?,
                },
                Tag::InsertIntoSequence => Op::InsertIntoSequence {
                    sequence: need(w.sequence, "sequence")?,
                    card: card()?,
                    index: need(w.index, "index")?,
                },
                Tag::MoveInSequence => Op::MoveInSequence {
                    sequence: need(w.sequence, "sequence")?,
                    card: card()?,
                    index: need(w.index, "index")?,
                },
                Tag::RemoveFromSequence => Op::RemoveFromSequence {
                    sequence: need(w.sequence, "sequence")?,
                    card: card()?,
                },
                Tag::CreateBoard => Op::CreateBoard {
                    board: need(w.board, "board")?,
                    kind: need(w.kind, "kind")?,
                },
                Tag::AddColumn => Op::AddColumn {
                    board: need(w.board, "board")?,
                    column: need(w.column, "column")?,
                    name: need(w.name, "name")?,
                    index: need(w.index, "index")?,
                },
                Tag::RenameColumn => Op::RenameColumn {
                    board: need(w.board, "board")?,
                    column: need(w.column, "column")?,
                    name: need(w.name, "name")?,
                },
                Tag::MoveColumn => Op::MoveColumn {
                    board: need(w.board, "board")?,
                    column: need(w.column, "column")?,
                    index: need(w.index, "index")?,
                },
                Tag::RemoveColumn => Op::RemoveColumn {
                    board: need(w.board, "board")?,
                    column: need(w.column, "column")?,
                },
                Tag::PlaceCard => Op::PlaceCard {
                    board: need(w.board, "board")?,
                    card: card()?,
                    column: need(w.column, "column")?,
                    index: need(w.index, "index")?,
                },
                Tag::UnplaceCard => Op::UnplaceCard {
                    board: need(w.board, "board")?,
                    card: card()?,
                },
            })
        }
    }

    #[cfg(test)]
    mod tests {
        use super::super::Op;
        use crate::ids::{BoardId, CardId, ColumnId, SequenceId};
        use crate::value::Value;

        fn every_op() -> Vec<Op> {
            let card = CardId::from_bytes([1; 16]);
            let other = CardId::from_bytes([2; 16]);
            let sequence = SequenceId::from_bytes([3; 16]);
            let attrs: crate::value::Attributes = [("bold".to_owned(), Value::Bool(true))]
                .into_iter()
                .collect();
            let field = || "f".to_owned();
            vec![
                Op::CreateCard {
                    card,
                    kind: "task".into(),
                    fields: Default::default(),
                },
                Op::CreateCard {
                    card,
                    kind: "task".into(),
                    fields: attrs.clone(),
                },
                Op::SetField {
                    card,
                    field: field(),
                    value: Value::Null,
                },
                Op::SetField {
                    card,
                    field: field(),
                    value: Value::Number(1.5),
                },
                Op::InsertText {
                    card,
                    field: field(),
                    index: 1,
                    text: "x".into(),
                    attributes: attrs.clone(),
                },
                Op::InsertText {
                    card,
                    field: field(),
                    index: 0,
                    text: "".into(),
                    attributes: Default::default(),
                },
                Op::DeleteText {
                    card,
                    field: field(),
                    index: 1,
                    len: 2,
                },
                Op::FormatText {
                    card,
                    field: field(),
                    index: 1,
                    len: 2,
                    attributes: attrs.clone(),
                },
                Op::Increment {
                    card,
                    field: field(),
                    by: -3,
                },
                Op::RaiseMax {
                    card,
                    field: field(),
                    value: 0.25,
                },
                Op::AddToSet {
                    card,
                    field: field(),
                    item: "i".into(),
                },
                Op::RemoveFromSet {
                    card,
                    field: field(),
                    item: "i".into(),
                },
                Op::DeleteCard { card },
                Op::RestoreCard { card },
                Op::Link {
                    from: card,
                    kind: "k".into(),
                    to: other,
                    properties: attrs,
                },
                Op::Unlink {
                    from: card,
                    kind: "k".into(),
                    to: other,
                },
                Op::CreateSequence { sequence },
                Op::InsertIntoSequence {
                    sequence,
                    card,
                    index: 4,
                },
                Op::MoveInSequence {
                    sequence,
                    card,
                    index: 0,
                },
                Op::RemoveFromSequence { sequence, card },
                Op::CreateBoard {
                    board: BoardId::from_u128(9),
                    kind: "kanban".into(),
                },
                Op::AddColumn {
                    board: BoardId::from_u128(9),
                    column: ColumnId::from_u128(4),
                    name: "Todo".into(),
                    index: 0,
                },
                Op::RenameColumn {
                    board: BoardId::from_u128(9),
                    column: ColumnId::from_u128(4),
                    name: "Doing".into(),
                },
                Op::MoveColumn {
                    board: BoardId::from_u128(9),
                    column: ColumnId::from_u128(4),
                    index: 2,
                },
                Op::RemoveColumn {
                    board: BoardId::from_u128(9),
                    column: ColumnId::from_u128(4),
                },
                Op::PlaceCard {
                    board: BoardId::from_u128(9),
                    card,
                    column: ColumnId::from_u128(4),
                    index: 3,
                },
                Op::UnplaceCard {
                    board: BoardId::from_u128(9),
                    card,
                },
            ]
        }

        #[test]
        fn every_op_round_trips_through_json() {
            for op in every_op() {
                let json = serde_json::to_string(&op).unwrap();
                assert_eq!(serde_json::from_str::<Op>(&json).unwrap(), op, "{json}");
            }
        }

        #[test]
        fn malformed_ops_are_errors() {
            let card = CardId::from_bytes([1; 16]);
            for (json, message) in [
                (
                    format!(r#"{{"op":"set_field","card":"{card}","field":"f"}}"#),
                    "missing field `value`",
                ),
                (
                    format!(r#"{{"op":"raise_max","card":"{card}","field":"f","value":"x"}}"#),
                    "must be a number",
                ),
                (
                    r#"{"op":"explode"}"#.to_owned(),
                    "unknown variant `explode`",
                ),
                (format!(r#"{{"card":"{card}"}}"#), "missing field `op`"),
                (
                    format!(r#"{{"op":"delete_card","card":"{card}","card":"{card}"}}"#),
                    "duplicate field `card`",
                ),
            ] {
                let error = serde_json::from_str::<Op>(&json).unwrap_err().to_string();
                assert!(error.contains(message), "{json}: {error}");
            }
            // Fields an op does not have are ignored, as before.
            let json = format!(r#"{{"op":"delete_card","card":"{card}","extra":[1]}}"#);
            assert_eq!(
                serde_json::from_str::<Op>(&json).unwrap(),
                Op::DeleteCard { card }
            );
        }
    }
}
