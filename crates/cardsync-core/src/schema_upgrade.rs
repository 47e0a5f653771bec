//! Opening a document with a new schema: which changes from the recorded schema are safe, and
//! the check that refuses the others (docs/design.md §3, "Moving to a new schema"; the names
//! of the unsafe changes are in `schema_change.rs`, and why they are unsafe there too).
//!
//! The recorded schema is the newest `meta["schema@{version}"]` at or below the opening one:
//! each replica records the schema it writes under (`container.rs`), so a document carries
//! what its data was written for, and an upgrade can be judged against it.

use std::collections::BTreeMap;

use yrs::{Any, Map, Out, ReadTxn, Transact};

use crate::doc::CardDoc;
use crate::error::OpenError;
use crate::layout;
use crate::schema::Schema;
use crate::schema_change::SchemaChange;
use crate::value::ValueType;

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
                match (&was.composite, &now.composite) {
                    (None, Some(_)) => {
                        let (kind, field) = at();
                        changes.push(SchemaChange::CompositeAdded { kind, field });
                    }
                    (Some(_), None) => {
                        let (kind, field) = at();
                        changes.push(SchemaChange::CompositeRemoved { kind, field });
                    }
                    (Some(before), Some(after)) if !after.admits(before) => {
                        let (kind, field) = at();
                        changes.push(SchemaChange::ShapeNarrowed { kind, field });
                    }
                    _ => {}
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
