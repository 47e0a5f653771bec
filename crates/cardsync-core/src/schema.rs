//! The schema: which card kinds exist, their fields, and what a valid write is.
//!
//! One serde value describes it, so the very same schema runs in the browser (through the wasm
//! layer, as a plain JS object) and on the server, which validates every batch against it. The
//! schema is not stored in the document: documents only carry `meta.schema_version`, and peers
//! that disagree on the schema still merge, because validation guards writes, not merges.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::SchemaError;
use crate::value::Value;

/// How a field merges concurrent writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldKind {
    /// Last writer wins.
    Register,
    /// Collaborative rich text.
    Text,
    /// A PN-counter: increments and decrements from every replica add up.
    Counter,
    /// Progress that only grows: the value is the largest ever written.
    Max,
    /// An add-wins set of strings.
    Set,
}

/// The type a register accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ValueType {
    /// Any [`Value`].
    #[default]
    Any,
    /// Strings only.
    String,
    /// Finite numbers only.
    Number,
    /// Booleans only.
    Bool,
}

impl ValueType {
    pub(crate) fn accepts(self, value: &Value) -> bool {
        matches!(
            (self, value),
            (_, Value::Null)
                | (ValueType::Any, _)
                | (ValueType::String, Value::String(_))
                | (ValueType::Number, Value::Number(_))
                | (ValueType::Bool, Value::Bool(_))
        )
    }
}

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
}

impl FieldDef {
    /// A field of the given kind, optional, any value type.
    pub fn new(kind: FieldKind) -> Self {
        Self {
            kind,
            value_type: ValueType::Any,
            required: false,
            transitions: None,
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
}

/// Names starting with this are reserved for the card's own bookkeeping keys.
pub(crate) const RESERVED_PREFIX: char = '$';

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

    /// Checks the schema itself: field names, transition tables, endpoint kinds.
    pub fn check(&self) -> Result<(), SchemaError> {
        for (kind_name, kind) in &self.cards {
            for (name, def) in &kind.fields {
                let at = || (kind_name.clone(), name.clone());
                if name.is_empty() || name.starts_with(RESERVED_PREFIX) {
                    let (kind, field) = at();
                    return Err(SchemaError::ReservedFieldName { kind, field });
                }
                if def.kind != FieldKind::Register && (def.required || def.transitions.is_some()) {
                    let (kind, field) = at();
                    return Err(SchemaError::RegisterOnly { kind, field });
                }
                if let Some(table) = &def.transitions {
                    if def.value_type != ValueType::String {
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
