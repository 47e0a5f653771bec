//! Why the validator refused an update, one variant per rule, each with its wire code.
//!
//! The `Display` text becomes the `reason` of the `Reject` the client sees, so it names the
//! card, field and values involved: a developer reading a rejection in the browser console
//! should not need server logs to understand it.

use cardsync_core::ValueType;
use thiserror::Error;

use super::auth::Role;
use crate::protocol::RejectCode;

/// One broken rule.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum Violation {
    /// The role cannot write at all.
    #[error("role {role} may not change the document")]
    ReadOnly {
        /// The peer's role.
        role: Role,
    },
    /// A field rule reserves the field to other roles.
    #[error("role {role} may not set field {field:?} of {kind:?} cards")]
    FieldForbidden {
        /// The peer's role.
        role: Role,
        /// Card kind.
        kind: String,
        /// Field.
        field: String,
    },
    /// A batch carried clocks of a client id other than its own.
    #[error("batch of client {batch} carries changes of client {other}")]
    ForeignClient {
        /// The batch's client id.
        batch: u64,
        /// The other one.
        other: u64,
    },
    /// An entry of a root map whose key is not an id of the right kind.
    #[error("{root} key {key:?} is not a valid id")]
    BadKey {
        /// Root map.
        root: &'static str,
        /// The key.
        key: String,
    },
    /// An entry of a root map that is not a map.
    #[error("{root} entry {key:?} is not a map")]
    NotAMap {
        /// Root map.
        root: &'static str,
        /// The key.
        key: String,
    },
    /// A card without a string `$kind`.
    #[error("card {card} has no kind")]
    MissingKind {
        /// Card key.
        card: String,
    },
    /// A card of a kind the schema does not declare.
    #[error("card {card} has unknown kind {kind:?}")]
    UnknownKind {
        /// Card key.
        card: String,
        /// Its kind.
        kind: String,
    },
    /// A card's kind changed.
    #[error("card {card} changed kind from {from:?} to {to:?}")]
    KindChanged {
        /// Card key.
        card: String,
        /// Old kind.
        from: String,
        /// New kind.
        to: String,
    },
    /// A `$` key the card layout does not define, or one with the wrong shape.
    #[error("card {card} has an invalid bookkeeping entry {key:?}")]
    BadBookkeeping {
        /// Card key.
        card: String,
        /// The key.
        key: String,
    },
    /// A field the card's kind does not declare.
    #[error("{kind:?} cards have no field {field:?} (card {card})")]
    UnknownField {
        /// Card key.
        card: String,
        /// Card kind.
        kind: String,
        /// Field.
        field: String,
    },
    /// A field stored as the wrong yrs shape (e.g. a map where a register belongs).
    #[error("field {field:?} of card {card} must be {expected}")]
    WrongShape {
        /// Card key.
        card: String,
        /// Field.
        field: String,
        /// What it must be.
        expected: &'static str,
    },
    /// A register value of the wrong type.
    #[error("field {field:?} of card {card} takes {expected:?} values, not {got}")]
    TypeMismatch {
        /// Card key.
        card: String,
        /// Field.
        field: String,
        /// Declared type.
        expected: ValueType,
        /// What came.
        got: &'static str,
    },
    /// A composite register value that does not fit its declared shape or limits.
    #[error("field {field:?} of card {card}: {error}")]
    BadShape {
        /// Card key.
        card: String,
        /// Field.
        field: String,
        /// What does not fit.
        error: cardsync_core::ShapeError,
    },
    /// A time-ordered register's stamp too far ahead of the room's clock.
    #[error(
        "field {field:?} of card {card}: stamp {at} is more than the allowed skew ahead of the server clock (latest {latest})"
    )]
    StampAhead {
        /// Card key.
        card: String,
        /// Field.
        field: String,
        /// The stamp.
        at: u64,
        /// The latest stamp allowed now.
        latest: u64,
    },
    /// A number that is NaN or infinite.
    #[error("field {field:?} of card {card} must be a finite number")]
    NotFinite {
        /// Card key.
        card: String,
        /// Field.
        field: String,
    },
    /// A required register missing at creation or cleared later.
    #[error("required field {field:?} of card {card} is missing or cleared")]
    MissingRequired {
        /// Card key.
        card: String,
        /// Field.
        field: String,
    },
    /// A state-machine register moved along a move the schema does not list.
    #[error(
        "field {field:?} of card {card} may not move from {} to {to:?}",
        from.as_ref().map_or_else(|| "unset".to_owned(), |state| format!("{state:?}"))
    )]
    InvalidTransition {
        /// Card key.
        card: String,
        /// Field.
        field: String,
        /// Old state (`None`: unset, so only initial states are allowed).
        from: Option<String>,
        /// New state.
        to: String,
    },
    /// An update that writes as a reserved client id something it may not: as the room's own
    /// id ([`COMPENSATOR_CLIENT_ID`](super::shadow::COMPENSATOR_CLIENT_ID)), which only the
    /// room's compensations use, or, as a field container's id, anything but exactly that
    /// container at its fixed place (`check_container.rs`).
    #[error(
        "client id {client} is reserved, and the update writes as it what only the room or a field's fixed container may"
    )]
    ReservedClient {
        /// The reserved id.
        client: u64,
    },
    /// A counter, max or set entry written under another replica's key.
    #[error("field {field:?} of card {card}: entry {key:?} belongs to another replica")]
    ForeignEntry {
        /// Card key.
        card: String,
        /// Field.
        field: String,
        /// Entry key.
        key: String,
    },
    /// A counter entry that is not an integer, or a counter beyond ±(2^53 − 1).
    #[error(
        "counter {field:?} of card {card}: entry {key:?} is not a safe integer or the total overflows"
    )]
    CounterRange {
        /// Card key.
        card: String,
        /// Field.
        field: String,
        /// Entry key.
        key: String,
    },
    /// A max field's entry lowered or removed.
    #[error("max field {field:?} of card {card}: entry {key:?} went down")]
    MaxDecreased {
        /// Card key.
        card: String,
        /// Field.
        field: String,
        /// Entry key.
        key: String,
    },
    /// A relationship kind the schema does not declare.
    #[error("unknown relationship kind {kind:?}")]
    UnknownRelationshipKind {
        /// Kind.
        kind: String,
    },
    /// A relationship value field (or property) that is missing, unknown, or disagrees with
    /// the edge key.
    #[error("relationship {key}: entry {entry:?} is missing or invalid")]
    BadEdgeEntry {
        /// Edge key.
        key: String,
        /// Entry.
        entry: String,
    },
    /// An edge endpoint of a card kind the relationship kind does not allow.
    #[error("relationship {key}: its {end} card has kind {kind:?}, which is not allowed")]
    EndpointKind {
        /// Edge key.
        key: String,
        /// `"from"` or `"to"`.
        end: &'static str,
        /// The card's kind.
        kind: String,
    },
    /// A `sequences` entry that is neither `sequence → true` nor `sequence:card → order key`.
    #[error("sequences entry {key:?} is invalid")]
    BadSequenceEntry {
        /// Entry key.
        key: String,
    },
    /// A `boards` entry whose value is not the layout's shape (`{kind}`, `{name, order,
    /// removed}` or `{column, order}`, with valid order keys).
    #[error("boards entry {key:?} is invalid")]
    BadBoardEntry {
        /// Entry key.
        key: String,
    },
    /// A board of a kind the schema does not declare.
    #[error("unknown board kind {kind:?}")]
    UnknownBoardKind {
        /// Kind.
        kind: String,
    },
    /// A board's kind changed.
    #[error("board {board} changed kind from {from:?} to {to:?}")]
    BoardKindChanged {
        /// Board id.
        board: String,
        /// Old kind.
        from: String,
        /// New kind.
        to: String,
    },
    /// A column or placement on a board that does not exist.
    #[error("board {board} does not exist")]
    UnknownBoard {
        /// Board id.
        board: String,
    },
    /// A placement naming a column the board does not have, or has removed.
    #[error("board {board} has no column {column}")]
    UnknownColumn {
        /// Board id.
        board: String,
        /// Column id.
        column: String,
    },
    /// A card placed on a board whose kind does not allow its kind.
    #[error("board {board} may not hold card {card} of kind {kind:?}")]
    CardNotAllowed {
        /// Board id.
        board: String,
        /// Card id.
        card: String,
        /// The card's kind.
        kind: String,
    },
    /// A `meta` entry other than a numeric schema version.
    #[error("meta entry {key:?} is invalid")]
    BadMeta {
        /// Key.
        key: String,
    },
    /// An update replaced or removed a field's container (or a whole card), which discards
    /// every write inside it (docs/design.md §3, "Fields added later").
    #[error(
        "field {field:?} of card {card}: the update replaces its container, discarding its content"
    )]
    ContainerReplaced {
        /// Card key.
        card: String,
        /// Field (empty when the card itself was replaced).
        field: String,
    },
    /// A container created for a field of an existing card that is not the field's fixed item
    /// `(container_client(card, field), 0)`: a rival creation would discard one side's writes.
    #[error(
        "field {field:?} of card {card}: a container added to an existing card must be its fixed item"
    )]
    LateContainer {
        /// Card key.
        card: String,
        /// Field.
        field: String,
    },
    /// The fixed container id of a field is another card's field's too (docs/design.md §3,
    /// `fixed_ids.rs`): a new card whose id makes one, or a container under an id that two
    /// fields claim. Replicas would disagree about which field the container is.
    #[error("field {field:?} of card {card}: its fixed container id is another card's field's too")]
    ContainerCollision {
        /// Card key.
        card: String,
        /// Field.
        field: String,
    },
    /// A root type a cardsync document does not have.
    #[error("unknown root type {0:?}")]
    UnknownRoot(String),
}

impl Violation {
    /// The stable code sent in the `Reject`.
    pub fn code(&self) -> RejectCode {
        match self {
            Violation::ReadOnly { .. }
            | Violation::FieldForbidden { .. }
            | Violation::ReservedClient { .. } => RejectCode::Forbidden,
            Violation::InvalidTransition { .. } => RejectCode::InvalidTransition,
            _ => RejectCode::SchemaViolation,
        }
    }
}
