//! Error types, one small enum per domain.
//!
//! Each variant names one thing that went wrong and carries the data a caller needs to explain
//! it; there is no catch-all. Every error a caller can receive has a `code()`, the stable string
//! that JavaScript sees as `error.code`, so UI code can branch on it without parsing messages.
//!
//! These are the card model's. The errors of untrusted bytes ([`DecodeError`] and what it wraps)
//! live with the firewall that raises them, in [`crate::untrusted`], which knows nothing of
//! cards; an [`OpenError`] carries one when a snapshot does not load.

use thiserror::Error;

use crate::composite::ShapeError;
use crate::ids::{BoardId, CardId, ColumnId, SequenceId};
use crate::schema_change::SchemaChange;
use crate::untrusted::DecodeError;
use crate::value::FieldKind;

/// The schema itself is inconsistent.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum SchemaError {
    /// Field names are non-empty and do not start with `$` (reserved for bookkeeping keys).
    #[error("field name {field:?} of card kind {kind:?} is empty or reserved")]
    ReservedFieldName {
        /// Card kind.
        kind: String,
        /// Field.
        field: String,
    },
    /// `required` and `transitions` only make sense on registers.
    #[error("field {field:?} of card kind {kind:?}: required/transitions apply to registers only")]
    RegisterOnly {
        /// Card kind.
        kind: String,
        /// Field.
        field: String,
    },
    /// A transition table needs a string register.
    #[error("field {field:?} of card kind {kind:?}: a state machine needs value_type string")]
    TransitionsNeedStrings {
        /// Card kind.
        kind: String,
        /// Field.
        field: String,
    },
    /// A transition targets a state that is not a key of the table.
    #[error("field {field:?} of card kind {kind:?}: transition to unlisted state {state:?}")]
    UnknownState {
        /// Card kind.
        kind: String,
        /// Field.
        field: String,
        /// The state.
        state: String,
    },
    /// A board kind names a card kind the schema lacks.
    #[error("board kind {board:?} names unknown card kind {kind:?}")]
    UnknownBoardCardKind {
        /// Board kind.
        board: String,
        /// The card kind.
        kind: String,
    },
    /// Relationship kinds have names.
    #[error("a relationship kind has an empty name")]
    EmptyRelationshipKind,
    /// A relationship endpoint names a card kind the schema lacks.
    #[error("relationship {relationship:?} names unknown card kind {kind:?}")]
    UnknownEndpointKind {
        /// Relationship kind.
        relationship: String,
        /// The missing card kind.
        kind: String,
    },
}

impl SchemaError {
    /// The stable code JavaScript sees.
    pub fn code(&self) -> &'static str {
        "invalid_schema"
    }
}

/// A document could not be opened.
#[derive(Debug, Error)]
pub enum OpenError {
    /// Yjs encodes client ids as JavaScript-safe integers, and ids from 2^52 are reserved for
    /// field containers (docs/design.md §3).
    #[error("client id {0} exceeds 2^52 - 1, the largest a replica may write as")]
    ClientId(u64),
    /// The schema is inconsistent.
    #[error(transparent)]
    Schema(#[from] SchemaError),
    /// The snapshot to load is malformed.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// The document records a schema that this one cannot replace without losing or
    /// stranding data (docs/design.md §3, "Moving to a new schema").
    #[error("schema {to} cannot replace schema {from} of this document: {}", list(.changes))]
    UnsafeSchemaChange {
        /// The version recorded in the document.
        from: u32,
        /// The version opening it.
        to: u32,
        /// Every unsafe change, in card kind and field order.
        changes: Vec<SchemaChange>,
    },
}

fn list(changes: &[SchemaChange]) -> String {
    let items: Vec<String> = changes.iter().map(ToString::to_string).collect();
    items.join("; ")
}

impl OpenError {
    /// The stable code JavaScript sees: the code of the schema or decode error inside,
    /// `invalid_client_id` or `unsafe_schema_change`.
    pub fn code(&self) -> &'static str {
        match self {
            OpenError::ClientId(_) => "invalid_client_id",
            OpenError::Schema(error) => error.code(),
            OpenError::Decode(error) => error.code(),
            OpenError::UnsafeSchemaChange { .. } => "unsafe_schema_change",
        }
    }
}

/// A register write breaks the field's rules ([`FieldDef::check_register_write`]).
///
/// It names no card or field: the caller knows them, and reports them its own way (a local
/// write as a [`WriteError`], through [`RegisterError::into_write_error`]; the sync server
/// as a rejection naming the card).
///
/// [`FieldDef::check_register_write`]: crate::FieldDef::check_register_write
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum RegisterError {
    /// The value does not have the register's type.
    #[error("the register does not accept a {got}")]
    TypeMismatch {
        /// The value's type ([`Value::type_name`](crate::Value::type_name)).
        got: &'static str,
    },
    /// A NaN or infinite number.
    #[error("numbers must be finite")]
    NotFinite,
    /// A required register would be left unset.
    #[error("a required register cannot be cleared")]
    MissingRequired,
    /// The state machine does not allow this move.
    #[error(
        "transition {} -> {to:?} is not allowed",
        from.as_ref().map_or_else(|| "unset".to_owned(), |state| format!("{state:?}"))
    )]
    InvalidTransition {
        /// The current state (`None`: unset, so only initial states are allowed).
        from: Option<String>,
        /// The requested state.
        to: String,
    },
    /// A composite value that does not fit its declared shape or limits.
    #[error("the value does not fit the register's shape: {0}")]
    BadShape(ShapeError),
}

impl RegisterError {
    /// The same refusal as a [`WriteError`] about `field`.
    pub fn into_write_error(self, field: &str) -> WriteError {
        let field = field.to_owned();
        match self {
            RegisterError::TypeMismatch { got } => WriteError::TypeMismatch { field, got },
            RegisterError::NotFinite => WriteError::NotFinite { field },
            RegisterError::MissingRequired => WriteError::MissingRequired { field },
            RegisterError::InvalidTransition { from, to } => WriteError::InvalidTransition {
                field,
                from: from.unwrap_or_default(),
                to,
            },
            RegisterError::BadShape(error) => WriteError::BadShape { field, error },
        }
    }
}

/// A write was refused. Nothing of the refused batch was applied.
#[derive(Clone, Debug, Error, PartialEq)]
pub enum WriteError {
    /// No card with this id exists.
    #[error("unknown card {0}")]
    UnknownCard(CardId),
    /// A card with this id exists already.
    #[error("card {0} exists already")]
    CardExists(CardId),
    /// The card is soft-deleted; restore it first.
    #[error("card {0} is deleted")]
    CardDeleted(CardId),
    /// The card is not deleted, so it cannot be restored.
    #[error("card {0} is not deleted")]
    CardNotDeleted(CardId),
    /// The schema has no such card kind.
    #[error("unknown card kind {0:?}")]
    UnknownKind(String),
    /// The card's kind has no such field.
    #[error("card kind {kind:?} has no field {field:?}")]
    UnknownField {
        /// Card kind.
        kind: String,
        /// Field.
        field: String,
    },
    /// The operation does not fit the field's kind (e.g. incrementing a register).
    #[error("field {field:?} is a {actual:?} field, the operation needs {expected:?}")]
    WrongFieldKind {
        /// Field.
        field: String,
        /// What the operation needs.
        expected: FieldKind,
        /// What the schema says.
        actual: FieldKind,
    },
    /// The value does not have the register's type.
    #[error("field {field:?} does not accept a {got}")]
    TypeMismatch {
        /// Field.
        field: String,
        /// The value's type.
        got: &'static str,
    },
    /// Numbers must be finite (NaN and infinities do not survive JSON or merge sensibly).
    #[error("field {field:?}: numbers must be finite")]
    NotFinite {
        /// Field.
        field: String,
    },
    /// A counter step or total beyond ±(2^53 - 1), which JavaScript cannot represent exactly.
    #[error("field {field:?}: counter out of the safe integer range")]
    CounterRange {
        /// Field.
        field: String,
    },
    /// A required register is missing at creation or being cleared.
    #[error("required field {field:?} is missing")]
    MissingRequired {
        /// Field.
        field: String,
    },
    /// The state machine does not allow this move.
    #[error("field {field:?}: transition {from:?} -> {to:?} is not allowed")]
    InvalidTransition {
        /// Field.
        field: String,
        /// The current state (empty when unset).
        from: String,
        /// The requested state.
        to: String,
    },
    /// A text range lies outside the text, or one of its ends would split a surrogate pair.
    #[error(
        "field {field:?}: range {index}+{len} outside text of length {text_len} or inside a character"
    )]
    TextRange {
        /// Field.
        field: String,
        /// Start (UTF-16 units).
        index: u32,
        /// Length (UTF-16 units).
        len: u32,
        /// Text length (UTF-16 units).
        text_len: u32,
    },
    /// The field's key holds something other than its container, or its container's fixed id
    /// is taken (docs/design.md §3, "Fields added later"): writing would replace data.
    #[error("field {field:?} holds no container of its kind, and none can be created")]
    BadContainer {
        /// Field.
        field: String,
    },
    /// The schema has no such relationship kind.
    #[error("unknown relationship kind {0:?}")]
    UnknownRelationshipKind(String),
    /// The schema does not allow this endpoint kind.
    #[error("relationship {relationship:?} does not allow a {kind:?} card at its {end} end")]
    EndpointKind {
        /// Relationship kind.
        relationship: String,
        /// The endpoint's card kind.
        kind: String,
        /// `"from"` or `"to"`.
        end: &'static str,
    },
    /// No such (visible or hidden) relationship.
    #[error("no relationship {from} -{kind}-> {to}")]
    UnknownRelationship {
        /// From.
        from: CardId,
        /// Kind.
        kind: String,
        /// To.
        to: CardId,
    },
    /// No sequence with this id exists.
    #[error("unknown sequence {0}")]
    UnknownSequence(SequenceId),
    /// A sequence with this id exists already.
    #[error("sequence {0} exists already")]
    SequenceExists(SequenceId),
    /// The card is already in the sequence (use move).
    #[error("card {card} is already in sequence {sequence}")]
    AlreadyInSequence {
        /// Sequence.
        sequence: SequenceId,
        /// Card.
        card: CardId,
    },
    /// The card is not in the sequence.
    #[error("card {card} is not in sequence {sequence}")]
    NotInSequence {
        /// Sequence.
        sequence: SequenceId,
        /// Card.
        card: CardId,
    },
    /// A composite value that does not fit its field's shape or limits.
    #[error("field {field:?}: {error}")]
    BadShape {
        /// Field.
        field: String,
        /// What does not fit.
        error: ShapeError,
    },
    /// A board kind the schema does not declare.
    #[error("unknown board kind {0:?}")]
    UnknownBoardKind(String),
    /// No such board.
    #[error("unknown board {0}")]
    UnknownBoard(BoardId),
    /// The board id is taken.
    #[error("board {0} exists already")]
    BoardExists(BoardId),
    /// No such column on the board, or it was removed.
    #[error("board {board} has no column {column}")]
    UnknownColumn {
        /// Board.
        board: BoardId,
        /// Column.
        column: ColumnId,
    },
    /// The column id is taken on this board (removed columns keep theirs).
    #[error("board {board} has a column {column} already")]
    ColumnExists {
        /// Board.
        board: BoardId,
        /// Column.
        column: ColumnId,
    },
    /// The board's kind does not allow cards of this kind.
    #[error("boards of kind {board_kind:?} do not hold {card_kind:?} cards (card {card})")]
    CardNotAllowed {
        /// The board's kind.
        board_kind: String,
        /// The card.
        card: CardId,
        /// Its kind.
        card_kind: String,
    },
    /// The card is not on the board.
    #[error("card {card} is not on board {board}")]
    NotOnBoard {
        /// Board.
        board: BoardId,
        /// Card.
        card: CardId,
    },
    /// The index is past the end of the sequence.
    #[error("index {index} past the end of a sequence of {len}")]
    IndexOutOfRange {
        /// Requested index.
        index: u32,
        /// Visible length.
        len: u32,
    },
}

impl WriteError {
    /// The stable code JavaScript sees as `error.code`.
    pub fn code(&self) -> &'static str {
        use WriteError::*;
        match self {
            UnknownCard(_) => "unknown_card",
            CardExists(_) => "card_exists",
            CardDeleted(_) => "card_deleted",
            CardNotDeleted(_) => "card_not_deleted",
            InvalidTransition { .. } => "invalid_transition",
            UnknownKind(_)
            | UnknownField { .. }
            | WrongFieldKind { .. }
            | TypeMismatch { .. }
            | NotFinite { .. }
            | MissingRequired { .. }
            | UnknownRelationshipKind(_)
            | EndpointKind { .. }
            | BadContainer { .. } => "schema_violation",
            TextRange { .. } | IndexOutOfRange { .. } | CounterRange { .. } => "out_of_range",
            UnknownRelationship { .. } => "unknown_relationship",
            UnknownSequence(_) => "unknown_sequence",
            SequenceExists(_) => "sequence_exists",
            AlreadyInSequence { .. } => "already_in_sequence",
            NotInSequence { .. } => "not_in_sequence",
            UnknownBoardKind(_) | CardNotAllowed { .. } => "schema_violation",
            UnknownBoard(_) => "unknown_board",
            BadShape { .. } => "bad_shape",
            BoardExists(_) => "board_exists",
            UnknownColumn { .. } => "unknown_column",
            ColumnExists { .. } => "column_exists",
            NotOnBoard { .. } => "not_on_board",
        }
    }
}
