//! The schema: which card kinds exist, their fields, and what a valid write is.
//!
//! One serde value describes it, so the very same schema runs in the browser (through the wasm
//! layer, as a plain JS object) and on the server, which validates every batch against it. The
//! schema is not stored in the document: documents only carry `meta.schema_version`, and peers
//! that disagree on the schema still merge, because validation guards writes, not merges.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::btree::set_of;
use crate::composite::Composite;
use crate::error::{RegisterError, SchemaError};
use crate::layout::RESERVED_PREFIX;
use crate::value::{FieldKind, Value, ValueType};

/// One field of a card kind.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FieldDef {
    /// The merge policy.
    pub kind: FieldKind,
    /// For registers: the accepted value type.
    #[serde(default)]
    pub value_type: ValueType,
    /// For registers: the card cannot be created without it, nor the value cleared.
    #[serde(default)]
    pub required: bool,
    /// For string registers: a state machine. Keys are states, values the states each may move
    /// to. With a table, only listed states are valid values and only listed moves are allowed.
    /// An unset register may take an *initial* state: one no move leads to (any state, if every
    /// state has a way in).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transitions: Option<BTreeMap<String, Vec<String>>>,
    /// For registers: a composite value (an object or array of this shape, written and merged
    /// whole). Without it a register takes only scalars.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub composite: Option<Composite>,
}

impl FieldDef {
    /// A field of the given kind, optional, any value type.
    pub fn new(kind: FieldKind) -> Self {
        Self {
            kind,
            value_type: ValueType::Any,
            required: false,
            transitions: None,
            composite: None,
        }
    }

    /// A last-writer-wins register holding a composite value of the given shape.
    pub fn composite(composite: Composite) -> Self {
        Self {
            composite: Some(composite),
            ..Self::new(FieldKind::Register)
        }
    }

    /// A last-writer-wins register of the given type.
    pub fn register(value_type: ValueType) -> Self {
        Self {
            value_type,
            ..Self::new(FieldKind::Register)
        }
    }

    /// Marks the field required.
    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }

    /// A string register restricted to a state machine, given as `(from, to)` moves.
    pub fn state_machine<'a>(moves: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let mut table: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (from, to) in moves {
            table
                .entry(from.to_owned())
                .or_default()
                .push(to.to_owned());
            table.entry(to.to_owned()).or_default();
        }
        Self {
            transitions: Some(table),
            ..Self::register(ValueType::String)
        }
    }
}

impl FieldDef {
    /// Checks one write of a register: `from` is what the register holds now (`None`: the key
    /// is absent), `to` what it would hold (`Null` clears it).
    ///
    /// This is *the* register rule. Local writes ([`CardDoc::set_field`], card creation) and
    /// the sync server's validator (which reads `from` and `to` out of a replica with
    /// [`Value::from_any`]) both call it, so a client and a server can never disagree on
    /// what a valid write is. In order:
    /// - the value has the field's [`ValueType`] ([`RegisterError::TypeMismatch`]), or, for a
    ///   composite register, its declared shape within its limits ([`RegisterError::BadShape`]);
    /// - numbers are finite ([`RegisterError::NotFinite`]);
    /// - a required register is never left unset: `Null` is refused unless the register
    ///   already holds `Null` (rewriting it changes nothing) ([`RegisterError::MissingRequired`]);
    /// - with a state machine, a state moves only along a listed move or stays put, and an
    ///   unset register (absent, `Null`, or not a string) takes only an *initial* state: one no
    ///   move leads to, or any state when every state has a way in
    ///   ([`RegisterError::InvalidTransition`]).
    ///
    /// It does not check that the field is a register; callers resolve the field first.
    ///
    /// ```
    /// use cardsync_core::{FieldDef, RegisterError, Value};
    /// let status = FieldDef::state_machine([("todo", "doing"), ("doing", "done")]).required();
    /// assert_eq!(status.check_register_write(None, &"todo".into()), Ok(()));
    /// assert!(matches!(
    ///     status.check_register_write(Some(&"todo".into()), &"done".into()),
    ///     Err(RegisterError::InvalidTransition { .. })
    /// ));
    /// assert_eq!(
    ///     status.check_register_write(Some(&"doing".into()), &Value::Null),
    ///     Err(RegisterError::MissingRequired)
    /// );
    /// ```
    ///
    /// [`CardDoc::set_field`]: crate::CardDoc::set_field
    pub fn check_register_write(
        &self,
        from: Option<&Value>,
        to: &Value,
    ) -> Result<(), RegisterError> {
        match &self.composite {
            Some(composite) if *to != Value::Null => {
                composite.check(to).map_err(RegisterError::BadShape)?;
            }
            Some(_) => {}
            None if !self.value_type.accepts(to) => {
                return Err(RegisterError::TypeMismatch {
                    got: to.type_name(),
                });
            }
            None => {}
        }
        if matches!(to, Value::Number(n) if !n.is_finite()) {
            return Err(RegisterError::NotFinite);
        }
        if *to == Value::Null {
            return if self.required && from != Some(&Value::Null) {
                Err(RegisterError::MissingRequired)
            } else {
                Ok(())
            };
        }
        let Some(table) = &self.transitions else {
            return Ok(());
        };
        let from = from.and_then(Value::as_str);
        let to = to.as_str().unwrap_or_default();
        let allowed = match from {
            Some(from) if from == to => true,
            Some(from) => table
                .get(from)
                .is_some_and(|next| next.iter().any(|s| s == to)),
            None => is_initial(table, to),
        };
        if allowed {
            Ok(())
        } else {
            Err(RegisterError::InvalidTransition {
                from: from.map(str::to_owned),
                to: to.to_owned(),
            })
        }
    }
}

/// Whether a state machine may start in `state`: it is a state of the table and no move leads
/// to it, or every state has a way in (a cycle has no natural start).
fn is_initial(table: &BTreeMap<String, Vec<String>>, state: &str) -> bool {
    let targets: BTreeSet<&str> = set_of(table.values().flatten().map(String::as_str));
    let all_targets = table.keys().all(|s| targets.contains(s.as_str()));
    table.contains_key(state) && (all_targets || !targets.contains(state))
}

/// A card kind: the fields its cards may hold.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CardKind {
    /// Fields by name.
    pub fields: BTreeMap<String, FieldDef>,
}

impl CardKind {
    /// Adds a field.
    pub fn field(mut self, name: &str, def: FieldDef) -> Self {
        self.fields.insert(name.to_owned(), def);
        self
    }
}

/// A relationship kind and the card kinds its endpoints may have (empty: any kind).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RelationshipKind {
    /// Allowed kinds of the `from` card.
    #[serde(default)]
    pub from: Vec<String>,
    /// Allowed kinds of the `to` card.
    #[serde(default)]
    pub to: Vec<String>,
}

/// A board kind: which card kinds its boards may hold (empty: any kind). A placement of a
/// card of another kind is refused locally ([`WriteError::CardNotAllowed`]) and by the room.
///
/// [`WriteError::CardNotAllowed`]: crate::WriteError::CardNotAllowed
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct BoardKind {
    /// Card kinds its boards may hold.
    #[serde(default)]
    pub cards: Vec<String>,
}

impl BoardKind {
    /// Whether a card of `kind` may be placed on a board of this kind.
    pub fn allows(&self, kind: &str) -> bool {
        self.cards.is_empty() || self.cards.iter().any(|k| k == kind)
    }
}

/// The whole schema.
///
/// ```
/// use cardsync_core::{CardKind, FieldDef, FieldKind, Schema, ValueType};
/// let schema = Schema::new(1)
///     .card("task", CardKind::default()
///         .field("title", FieldDef::register(ValueType::String).required())
///         .field("status", FieldDef::state_machine([("todo", "doing"), ("doing", "done")]))
///         .field("body", FieldDef::new(FieldKind::Text)))
///     .relationship("blocks", Default::default());
/// assert!(schema.check().is_ok());
/// let json = serde_json::to_string(&schema).unwrap();
/// assert_eq!(serde_json::from_str::<Schema>(&json).unwrap(), schema);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Schema {
    /// Written to `meta.schema_version` of documents created with this schema.
    pub version: u32,
    /// Card kinds by name.
    #[serde(default)]
    pub cards: BTreeMap<String, CardKind>,
    /// Relationship kinds by name.
    #[serde(default)]
    pub relationships: BTreeMap<String, RelationshipKind>,
    /// Board kinds by name. Skipped when empty, so the JSON (and the recorded schema of
    /// every document, docs/design.md §3) of a schema without boards is what it was before.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub boards: BTreeMap<String, BoardKind>,
}

impl Schema {
    /// An empty schema of the given version.
    pub fn new(version: u32) -> Self {
        Self {
            version,
            ..Self::default()
        }
    }

    /// Adds a card kind.
    pub fn card(mut self, name: &str, kind: CardKind) -> Self {
        self.cards.insert(name.to_owned(), kind);
        self
    }

    /// Adds a relationship kind.
    pub fn relationship(mut self, name: &str, kind: RelationshipKind) -> Self {
        self.relationships.insert(name.to_owned(), kind);
        self
    }

    /// Adds a board kind.
    pub fn board(mut self, name: &str, kind: BoardKind) -> Self {
        self.boards.insert(name.to_owned(), kind);
        self
    }

    /// Checks the schema itself: field names, transition tables, endpoint kinds.
    pub fn check(&self) -> Result<(), SchemaError> {
        for (kind_name, kind) in &self.cards {
            for (name, def) in &kind.fields {
                let at = || (kind_name.clone(), name.clone());
                if name.is_empty() || name.starts_with(RESERVED_PREFIX) {
                    let (kind, field) = at();
                    return Err(SchemaError::ReservedFieldName { kind, field });
                }
                let register_only = def.required || def.transitions.is_some();
                let valued = matches!(def.kind, FieldKind::Register | FieldKind::TimeOrdered);
                if (def.kind != FieldKind::Register && register_only)
                    || (!valued && def.composite.is_some())
                {
                    let (kind, field) = at();
                    return Err(SchemaError::RegisterOnly { kind, field });
                }
                if let Some(table) = &def.transitions {
                    if def.value_type != ValueType::String || def.composite.is_some() {
                        let (kind, field) = at();
                        return Err(SchemaError::TransitionsNeedStrings { kind, field });
                    }
                    if let Some(state) = table.values().flatten().find(|s| !table.contains_key(*s))
                    {
                        let (kind, field) = at();
                        return Err(SchemaError::UnknownState {
                            kind,
                            field,
                            state: state.clone(),
                        });
                    }
                }
            }
        }
        for (name, board) in &self.boards {
            if let Some(kind) = board.cards.iter().find(|k| !self.cards.contains_key(*k)) {
                return Err(SchemaError::UnknownBoardCardKind {
                    board: name.clone(),
                    kind: kind.clone(),
                });
            }
        }
        for (name, rel) in &self.relationships {
            if name.is_empty() {
                return Err(SchemaError::EmptyRelationshipKind);
            }
            if let Some(kind) = rel
                .from
                .iter()
                .chain(&rel.to)
                .find(|k| !self.cards.contains_key(*k))
            {
                return Err(SchemaError::UnknownEndpointKind {
                    relationship: name.clone(),
                    kind: kind.clone(),
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::RegisterError;

    #[test]
    fn the_register_rule() {
        let ok = |def: &FieldDef, from: Option<Value>, to: Value| {
            def.check_register_write(from.as_ref(), &to)
        };
        let number = FieldDef::register(ValueType::Number).required();
        assert_eq!(
            ok(&number, None, "x".into()),
            Err(RegisterError::TypeMismatch { got: "string" })
        );
        assert_eq!(
            ok(&number, None, f64::NAN.into()),
            Err(RegisterError::NotFinite)
        );
        // Required: never left unset, but rewriting a null that is already there is no change.
        assert_eq!(
            ok(&number, None, Value::Null),
            Err(RegisterError::MissingRequired)
        );
        assert_eq!(
            ok(&number, Some(1.into()), Value::Null),
            Err(RegisterError::MissingRequired)
        );
        assert_eq!(ok(&number, Some(Value::Null), Value::Null), Ok(()));

        let line = FieldDef::state_machine([("todo", "doing"), ("doing", "done")]);
        assert_eq!(ok(&line, None, "todo".into()), Ok(()));
        assert_eq!(ok(&line, Some(Value::Null), "todo".into()), Ok(()));
        let refused = |from: Option<&str>, to: &str| RegisterError::InvalidTransition {
            from: from.map(str::to_owned),
            to: to.to_owned(),
        };
        assert_eq!(ok(&line, None, "doing".into()), Err(refused(None, "doing")));
        assert_eq!(ok(&line, None, "nope".into()), Err(refused(None, "nope")));
        assert_eq!(ok(&line, Some("doing".into()), "doing".into()), Ok(()));
        assert_eq!(
            ok(&line, Some("doing".into()), "todo".into()),
            Err(refused(Some("doing"), "todo"))
        );
        // The reason names states as a person would, never as Rust's `Some(..)`.
        let text = refused(Some("doing"), "todo").to_string();
        assert_eq!(text, r#"transition "doing" -> "todo" is not allowed"#);
        let text = refused(None, "doing").to_string();
        assert_eq!(text, r#"transition unset -> "doing" is not allowed"#);
        // A cycle has no natural start: any state may be the first.
        let cycle = FieldDef::state_machine([("a", "b"), ("b", "a")]);
        assert_eq!(ok(&cycle, None, "b".into()), Ok(()));
        assert_eq!(
            refused(None, "x").into_write_error("status"),
            crate::WriteError::InvalidTransition {
                field: "status".into(),
                from: String::new(),
                to: "x".into(),
            }
        );
    }
}
