//! The schema changes that would lose or strand stored data, as the error names them
//! (docs/design.md §3, "Moving to a new schema"). Which changes those are, and the check at
//! open, are in `schema_upgrade.rs`; this file holds only the names, so that the error types
//! can carry them without importing the schema.
//!
//! **Why at open.** Validation guards writes, not merges, so a document opened with a schema
//! that reads its data differently would not fail anywhere visible: a field whose kind changed
//! would read another shape (or nothing) where its data is, replicas on the old and new schema
//! would create rival containers under one key, and a removed state would strand every card
//! in it. None of that can be repaired after the fact, so it is refused before anything is
//! read: each replica records the schema it writes under in the document (`meta`,
//! `schema@{version}`), and `CardDoc::load_v1`/`CardDoc::load_v2` (and the server's room,
//! which opens its log the same way) compare the new schema with the newest one recorded.
//!
//! Safe, and kept: a new card kind, a new field of any kind on an existing card kind (its
//! container is the fixed item of `container.rs`), a new state or move in a state
//! machine, a relationship kind change (relationships hold plain values), a composite shape
//! that admits every value the old one did (an optional key added, a range or a limit
//! widened: `Composite::admits`). Everything else
//! that changes how stored data reads is an [`SchemaChange`].

use std::fmt;

use crate::value::{FieldKind, ValueType};

/// A schema change that would lose or strand stored data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SchemaChange {
    /// A card kind is gone: its cards would read as an unknown kind, and accept no writes.
    CardKindRemoved {
        /// Card kind.
        kind: String,
    },
    /// A field is gone: its data would stay unread, and a later field of that name would meet
    /// it in another shape.
    FieldRemoved {
        /// Card kind.
        kind: String,
        /// Field.
        field: String,
    },
    /// A field's kind changed: its stored data has the old shape.
    FieldKindChanged {
        /// Card kind.
        kind: String,
        /// Field.
        field: String,
        /// Old kind.
        from: FieldKind,
        /// New kind.
        to: FieldKind,
    },
    /// A register's value type narrowed (anything but a change to `any`): stored values may
    /// not have the new type.
    ValueTypeChanged {
        /// Card kind.
        kind: String,
        /// Field.
        field: String,
        /// Old type.
        from: ValueType,
        /// New type.
        to: ValueType,
    },
    /// A state machine lost a state: cards in it could never move again.
    StateRemoved {
        /// Card kind.
        kind: String,
        /// Field.
        field: String,
        /// The removed state.
        state: String,
    },
    /// A free register became a state machine: its stored values need not be states.
    StateMachineAdded {
        /// Card kind.
        kind: String,
        /// Field.
        field: String,
    },
    /// A plain register became a composite: its stored values need not have the shape.
    CompositeAdded {
        /// Card kind.
        kind: String,
        /// Field.
        field: String,
    },
    /// A composite register became a plain one: no value type accepts its stored objects and
    /// arrays.
    CompositeRemoved {
        /// Card kind.
        kind: String,
        /// Field.
        field: String,
    },
    /// A composite's shape or limits no longer admit every value the old ones did (a key
    /// removed or made required, a range or a limit narrowed, another shape).
    ShapeNarrowed {
        /// Card kind.
        kind: String,
        /// Field.
        field: String,
    },
    /// The document records another schema under the same version number.
    VersionReused {
        /// The version.
        version: u32,
    },
}

impl fmt::Display for SchemaChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SchemaChange::CardKindRemoved { kind } => write!(f, "card kind {kind:?} removed"),
            SchemaChange::FieldRemoved { kind, field } => {
                write!(f, "field {field:?} of {kind:?} removed")
            }
            SchemaChange::FieldKindChanged {
                kind,
                field,
                from,
                to,
            } => write!(
                f,
                "field {field:?} of {kind:?} changed kind from {from:?} to {to:?}"
            ),
            SchemaChange::ValueTypeChanged {
                kind,
                field,
                from,
                to,
            } => write!(
                f,
                "field {field:?} of {kind:?} changed type from {from:?} to {to:?}"
            ),
            SchemaChange::StateRemoved { kind, field, state } => {
                write!(f, "state {state:?} of field {field:?} of {kind:?} removed")
            }
            SchemaChange::StateMachineAdded { kind, field } => {
                write!(f, "field {field:?} of {kind:?} became a state machine")
            }
            SchemaChange::CompositeAdded { kind, field } => {
                write!(f, "field {field:?} of {kind:?} became a composite")
            }
            SchemaChange::CompositeRemoved { kind, field } => {
                write!(f, "field {field:?} of {kind:?} is no longer a composite")
            }
            SchemaChange::ShapeNarrowed { kind, field } => write!(
                f,
                "the shape of field {field:?} of {kind:?} no longer admits every stored value"
            ),
            SchemaChange::VersionReused { version } => {
                write!(f, "version {version} names another schema in the document")
            }
        }
    }
}
