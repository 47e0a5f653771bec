//! Error types, one small enum per domain.
//!
//! Each variant names one thing that went wrong and carries the data a caller needs to explain
//! it; there is no catch-all. Every error a caller can receive has a `code()`, the stable string
//! that JavaScript sees as `error.code`, so UI code can branch on it without parsing messages.

use thiserror::Error;

use crate::ids::{CardId, SequenceId};
use crate::untrusted::ScreenError;
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
    /// Yjs encodes client ids as JavaScript-safe integers.
    #[error("client id {0} exceeds 2^53 - 1, which Yjs peers cannot represent")]
    ClientId(u64),
    /// The schema is inconsistent.
    #[error(transparent)]
    Schema(#[from] SchemaError),
    /// The snapshot to load is malformed.
    #[error(transparent)]
    Decode(#[from] DecodeError),
}

impl OpenError {
    /// The stable code JavaScript sees: the code of the schema or decode error inside, or
    /// `invalid_client_id`.
    pub fn code(&self) -> &'static str {
        match self {
            OpenError::ClientId(_) => "invalid_client_id",
            OpenError::Schema(error) => error.code(),
            OpenError::Decode(error) => error.code(),
        }
    }
}

/// Untrusted bytes could not be decoded or integrated.
#[derive(Debug, Error)]
pub enum DecodeError {
    /// A state vector is malformed.
    #[error("malformed state vector: {0}")]
    StateVector(#[source] yrs::encoding::read::Error),
    /// An update is malformed.
    #[error("malformed update: {0}")]
    Update(#[source] yrs::encoding::read::Error),
    /// The [screen](crate::untrusted) refused the bytes before yrs saw them: decoding them would
    /// cost far more than their size (the yrs decode bomb), trip a panic in yrs, or bring
    /// content a cardsync document never holds.
    #[error("refused before decoding: {0}")]
    Screen(#[from] ScreenError),
    /// The update decoded but cannot be integrated into this document as it is.
    #[error("update cannot be integrated: {0}")]
    Integrate(#[source] IntegrateError),
    /// yrs panicked on bytes that passed the screen. yrs cannot roll a transaction back, so a
    /// panic while integrating may have left the document half-changed: discard it and load
    /// it again from a trusted snapshot (the sync server does this with its validation
    /// replica). Never returned in wasm32, where a panic aborts.
    #[error("yrs panicked while decoding or integrating the update")]
    Panicked,
}

impl DecodeError {
    /// The stable code JavaScript sees.
    pub fn code(&self) -> &'static str {
        "decode_error"
    }
}

/// Why a decoded update cannot be integrated. Unlike a [`ScreenError`], these depend on the
/// document the update meets, so [`crate::decode_update_v1`] cannot see them.
#[derive(Debug, Error)]
pub enum IntegrateError {
    /// A formatting mark (rich-text attribute) would become the value of a map key, next to
    /// the map entry it names as a neighbour. No honest peer writes one (marks live in texts),
    /// and yrs 0.28.1 panics reporting such a key to map observers (it unwraps the value a
    /// mark does not have), so it is refused before anything is integrated.
    #[error("item {client}#{clock} is a formatting mark that would become a map value")]
    FormatOnMapKey {
        /// The mark's client.
        client: u64,
        /// The mark's clock.
        clock: u32,
    },
    /// An insert names as its right neighbour a character the document holds at or before
    /// its left neighbour (or in another parent). No honest peer writes one, and yrs places
    /// it differently depending on how its blocks happen to be split, so replicas would read
    /// different text forever.
    #[error("item {client}#{clock} has its right origin at or before its left origin")]
    OriginsOutOfOrder {
        /// The insert's client.
        client: u64,
        /// The insert's clock.
        clock: u32,
    },
    /// An insert's left and right neighbours lie in different shared types. No honest peer
    /// writes one (both come from one list), and yrs 0.28.1 links it differently in a live
    /// document and in a reload of its snapshot, which lost the list around it.
    #[error("item {client}#{clock} has its left and right origins in different parents")]
    OriginsInDifferentParents {
        /// The insert's client.
        client: u64,
        /// The insert's clock.
        clock: u32,
    },
    /// A block starts at clocks the document already holds and runs past them, and names as
    /// its parent a type other than that of the held item it continues. No honest peer writes
    /// one: the held part is the same item. yrs 0.28.1 links the new tail after the held item,
    /// in that item's list, while filing it under the named parent; deleting that parent
    /// later frees the tail while the other list still points to it (a use-after-free).
    #[error("block {client}#{clock} continues a held item but names another parent")]
    ForeignContinuation {
        /// The block's client.
        client: u64,
        /// The block's first clock.
        clock: u32,
    },
    /// A block starts at clocks the document already holds and runs past them, yet waits
    /// for an item the document lacks. No honest peer writes one: the document integrated the
    /// held part with the same dependencies. yrs 0.28.1 would keep its tail waiting for them,
    /// but merging the tail into a snapshot re-encodes it as a continuation of the held item,
    /// without the dependency, so the snapshot would integrate it at once and read differently
    /// from the live document (a forged tail that overwrites a map key, say).
    #[error(
        "block {client}#{clock} overlaps what the document holds but waits for an item it lacks"
    )]
    PartlyHeldBlockWaits {
        /// The block's client.
        client: u64,
        /// The block's first clock.
        clock: u32,
    },
    /// An item names as its parent an item (of the same update, or one the document holds)
    /// that is neither a shared type nor deleted content (refused before anything is
    /// integrated; yrs would stop half-way).
    #[error("item {client}#{clock} names as parent an item that is not a shared type")]
    InvalidParent {
        /// The item's client.
        client: u64,
        /// The item's clock.
        clock: u32,
    },
    /// yrs refused the update while integrating it: it names as parent an item of the
    /// document that is not a shared type, one whose clocks arrived some way the intake did
    /// not record (otherwise [`IntegrateError::InvalidParent`] refuses it first). The blocks yrs integrated before it stay (yrs
    /// cannot roll back); the rest of the update is dropped.
    #[error(transparent)]
    Yrs(#[from] yrs::error::UpdateError),
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
    #[error("transition {from:?} -> {to:?} is not allowed")]
    InvalidTransition {
        /// The current state (`None`: unset, so only initial states are allowed).
        from: Option<String>,
        /// The requested state.
        to: String,
    },
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
            | EndpointKind { .. } => "schema_violation",
            TextRange { .. } | IndexOutOfRange { .. } | CounterRange { .. } => "out_of_range",
            UnknownRelationship { .. } => "unknown_relationship",
            UnknownSequence(_) => "unknown_sequence",
            SequenceExists(_) => "sequence_exists",
            AlreadyInSequence { .. } => "already_in_sequence",
            NotInSequence { .. } => "not_in_sequence",
        }
    }
}
