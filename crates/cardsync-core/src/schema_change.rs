//! Which schema changes keep every write, and the check that refuses the others when a
//! document is opened with a new schema (docs/design.md §3, "Moving to a new schema").
//!
//! **Why at open.** Validation guards writes, not merges, so a document opened with a schema
//! that reads its data differently would not fail anywhere visible: a field whose kind changed
//! would read another shape (or nothing) where its data is, replicas on the old and new schema
//! would create rival containers under one key, and a removed state would strand every card
//! in it. None of that can be repaired after the fact, so it is refused before anything is
//! read: each replica records the schema it writes under in the document (`meta`,
//! `schema@{version}`), and [`CardDoc::load_v1`]/[`CardDoc::load_v2`] (and the server's room,
//! which opens its log the same way) compare the new schema with the newest one recorded.
//!
//! Safe, and kept: a new card kind, a new field of any kind on an existing card kind (its
//! container is the fixed item of [`crate::container`]), a new state or move in a state
//! machine, a relationship kind change (relationships hold plain values). Everything else
//! that changes how stored data reads is an [`SchemaChange`].

use std::collections::BTreeMap;
use std::fmt;

use yrs::{Any, Map, Out, ReadTxn, Transact};

use crate::doc::CardDoc;
use crate::error::OpenError;
use crate::layout;
use crate::schema::{Schema, ValueType};
use crate::value::FieldKind;

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
            } => write!(f, "field {field:?} of {kind:?} changed kind from {from:?} to {to:?}"),
            SchemaChange::ValueTypeChanged {
                kind,
                field,
                from,
                to,
            } => write!(f, "field {field:?} of {kind:?} changed type from {from:?} to {to:?}"),
            SchemaChange::StateRemoved { kind, field, state } => {
                write!(f, "state {state:?} of field {field:?} of {kind:?} removed")
            }
            SchemaChange::StateMachineAdded { kind, field } => {
                write!(f, "field {field:?} of {kind:?} became a state machine")
            }
            SchemaChange::VersionReused { version } => {
                write!(f, "version {version} names another schema in the document")
            }
        }
    }
}

impl Schema {
    /// The changes from `old` to `self` that would lose or strand stored data (empty when
    /// moving from `old` to `self` is safe).
    ///
    /// ```
    /// use cardsync_core::{CardKind, FieldDef, FieldKind, Schema, SchemaChange};
    /// let v1 = Schema::new(1).card("task", CardKind::default().field("notes", FieldDef::new(FieldKind::Text)));
    /// let mut v2 = v1.clone();
    /// v2.version = 2;
    /// v2.cards.get_mut("task").unwrap().fields.insert("votes".into(), FieldDef::new(FieldKind::Counter));
    /// assert!(v2.unsafe_changes_from(&v1).is_empty());
    /// v2.cards.get_mut("task").unwrap().fields.insert("notes".into(), FieldDef::new(FieldKind::Set));
    /// assert!(matches!(
    ///     v2.unsafe_changes_from(&v1)[..],
    ///     [SchemaChange::FieldKindChanged { from: FieldKind::Text, to: FieldKind::Set, .. }]
    /// ));
    /// ```
    pub fn unsafe_changes_from(&self, old: &Schema) -> Vec<SchemaChange> {
        let mut changes = Vec::new();
        if old.version == self.version && old != self {
            changes.push(SchemaChange::VersionReused {
                version: self.version,
            });
        }
        for (kind, old_kind) in &old.cards {
            let Some(new_kind) = self.cards.get(kind) else {
                changes.push(SchemaChange::CardKindRemoved { kind: kind.clone() });
                continue;
            };
            for (field, was) in &old_kind.fields {
                let at = || (kind.clone(), field.clone());
                let Some(now) = new_kind.fields.get(field) else {
                    let (kind, field) = at();
                    changes.push(SchemaChange::FieldRemoved { kind, field });
                    continue;
                };
                if was.kind != now.kind {
                    let (kind, field) = at();
                    changes.push(SchemaChange::FieldKindChanged {
                        kind,
                        field,
                        from: was.kind,
                        to: now.kind,
                    });
                    continue;
                }
                if was.value_type != now.value_type && now.value_type != ValueType::Any {
                    let (kind, field) = at();
                    changes.push(SchemaChange::ValueTypeChanged {
                        kind,
                        field,
                        from: was.value_type,
                        to: now.value_type,
                    });
                }
                match (&was.transitions, &now.transitions) {
                    (Some(before), Some(after)) => {
                        for state in before.keys().filter(|s| !after.contains_key(*s)) {
                            let (kind, field) = at();
                            changes.push(SchemaChange::StateRemoved {
                                kind,
                                field,
                                state: state.clone(),
                            });
                        }
                    }
                    (None, Some(_)) => {
                        let (kind, field) = at();
                        changes.push(SchemaChange::StateMachineAdded { kind, field });
                    }
                    _ => {}
                }
            }
        }
        changes
    }
}

impl CardDoc {
    /// The schemas the document records, by version (entries that do not parse are skipped:
    /// the server refuses them, and a document without any records compares with nothing).
    fn recorded_schemas<T: ReadTxn>(&self, txn: &T) -> BTreeMap<u32, Schema> {
        self.roots
            .meta
            .iter(txn)
            .filter_map(|(key, value)| {
                let version = layout::parse_schema_key(key)?;
                let Out::Any(Any::String(json)) = value else {
                    return None;
                };
                let schema: Schema = serde_json::from_str(&json).ok()?;
                (schema.version == version).then_some((version, schema))
            })
            .collect()
    }

    /// Refuses to go on with this document if the newest schema it records at or below ours
    /// cannot move to ours without losing or stranding data. A replica on an *older* schema
    /// than the newest recorded one compares with nothing newer: the newer schema was checked
    /// when it arrived. [`CardDoc::load_v1`] and [`CardDoc::load_v2`] call it; so does the
    /// server's room after replaying its log.
    pub fn check_schema_upgrade(&self) -> Result<(), OpenError> {
        let txn = self.doc.transact();
        let recorded = self.recorded_schemas(&txn);
        let Some((_, old)) = recorded.range(..=self.schema.version).next_back() else {
            return Ok(());
        };
        let changes = self.schema.unsafe_changes_from(old);
        if changes.is_empty() {
            Ok(())
        } else {
            Err(OpenError::UnsafeSchemaChange {
                from: old.version,
                to: self.schema.version,
                changes,
            })
        }
    }
}
