//! Validation of local writes against the schema and the current state.
//!
//! yrs cannot roll a transaction back, so a batch is validated completely before any of it is
//! written: either every op applies or none does. Ops later in a batch see the effects of
//! earlier ones (create a card, then link it) through a small [`Overlay`] of what the batch has
//! done so far.

use std::collections::{HashMap, HashSet};

use yrs::{Any, GetString, Map, Out, ReadTxn, Text};

use crate::doc::CardDoc;
use crate::error::WriteError;
use crate::ids::{CardId, RelationshipKey, SequenceId};
use crate::layout;
use crate::ops::Op;
use crate::schema::FieldDef;
use crate::text_bounds::{TextBounds, has_astral};
use crate::value::{FieldKind, Value};

/// What the ops validated so far in this batch changed.
pub(crate) struct Overlay {
    /// Card kind and deleted flag of cards created, deleted or restored by the batch.
    cards: HashMap<CardId, (String, bool)>,
    registers: HashMap<(CardId, String), Value>,
    /// This replica's counter entries as the batch leaves them.
    counters: HashMap<(CardId, String), i64>,
    /// Text fields the batch touches, to check ranges and character boundaries.
    texts: HashMap<(CardId, String), TextBounds>,
    /// Text fields the batch inserts characters outside the BMP into.
    astral_inserts: HashSet<(CardId, String)>,
    edges: HashMap<RelationshipKey, bool>,
    /// Membership changes per sequence; `None` marks a sequence created by the batch.
    sequences: HashMap<SequenceId, HashMap<CardId, bool>>,
    /// What the batch's board ops did (`board/validate.rs`).
    pub(crate) boards: crate::board::overlay::BoardOverlay,
}

/// Largest integer JavaScript represents exactly.
const MAX_SAFE_INTEGER: i64 = (1 << 53) - 1;

/// Numbers in attributes and properties must be finite, like register values.
fn check_attributes(field: &str, attributes: &crate::value::Attributes) -> Result<(), WriteError> {
    // Composites belong only in composite registers, whose schema declares their shape.
    if let Some(value) = attributes.values().find(|v| v.is_composite()) {
        return Err(WriteError::TypeMismatch {
            field: field.to_owned(),
            got: value.type_name(),
        });
    }
    if attributes
        .values()
        .any(|v| matches!(v, Value::Number(n) if !n.is_finite()))
    {
        return Err(WriteError::NotFinite {
            field: field.to_owned(),
        });
    }
    Ok(())
}

impl Overlay {
    /// An empty overlay for validating `ops`.
    pub fn new(ops: &[Op]) -> Self {
        let astral_inserts = ops
            .iter()
            .filter_map(|op| match op {
                Op::InsertText {
                    card, field, text, ..
                } if has_astral(text) => Some((*card, field.clone())),
                _ => None,
            })
            .collect();
        Self {
            cards: HashMap::new(),
            registers: HashMap::new(),
            counters: HashMap::new(),
            texts: HashMap::new(),
            astral_inserts,
            edges: HashMap::new(),
            sequences: HashMap::new(),
            boards: Default::default(),
        }
    }
}

impl CardDoc {
    fn card_state<T: ReadTxn>(
        &self,
        txn: &T,
        ov: &Overlay,
        card: CardId,
    ) -> Option<(String, bool)> {
        if let Some(state) = ov.cards.get(&card) {
            return Some(state.clone());
        }
        let map = self.card_map(txn, card)?;
        let kind = match map.get(txn, layout::KIND) {
            Some(Out::Any(Any::String(k))) => k.to_string(),
            _ => String::new(),
        };
        let deleted = matches!(
            map.get(txn, layout::DELETED),
            Some(Out::Any(Any::Bool(true)))
        );
        Some((kind, deleted))
    }

    pub(crate) fn live_card<T: ReadTxn>(
        &self,
        txn: &T,
        ov: &Overlay,
        card: CardId,
    ) -> Result<String, WriteError> {
        match self.card_state(txn, ov, card) {
            None => Err(WriteError::UnknownCard(card)),
            Some((_, true)) => Err(WriteError::CardDeleted(card)),
            Some((kind, false)) => Ok(kind),
        }
    }

    fn live_field<T: ReadTxn>(
        &self,
        txn: &T,
        ov: &Overlay,
        card: CardId,
        field: &str,
        expected: FieldKind,
    ) -> Result<&FieldDef, WriteError> {
        let kind = self.live_card(txn, ov, card)?;
        let def = self.field_def(&kind, field)?;
        if def.kind != expected {
            return Err(WriteError::WrongFieldKind {
                field: field.to_owned(),
                expected,
                actual: def.kind,
            });
        }
        if expected != FieldKind::Register {
            self.check_container(txn, card, field, expected)?;
        }
        Ok(def)
    }

    fn field_def(&self, kind: &str, field: &str) -> Result<&FieldDef, WriteError> {
        let Some(card_kind) = self.schema.cards.get(kind) else {
            return Err(WriteError::UnknownKind(kind.to_owned()));
        };
        card_kind
            .fields
            .get(field)
            .ok_or_else(|| WriteError::UnknownField {
                kind: kind.to_owned(),
                field: field.to_owned(),
            })
    }

    fn own_counter<T: ReadTxn>(&self, txn: &T, card: CardId, field: &str) -> i64 {
        match self.card_map(txn, card).and_then(|m| m.get(txn, field)) {
            Some(Out::YMap(entries)) => entries
                .get(txn, &layout::replica_key(self.client_id()))
                .map_or(0, |v| crate::value::integer(&v)),
            _ => 0,
        }
    }

    fn register_value<T: ReadTxn>(
        &self,
        txn: &T,
        ov: &Overlay,
        card: CardId,
        field: &str,
    ) -> Option<Value> {
        if let Some(v) = ov.registers.get(&(card, field.to_owned())) {
            return Some(v.clone());
        }
        match self.card_map(txn, card)?.get(txn, field)? {
            Out::Any(any) => Some(Value::from_any(&any)),
            _ => None,
        }
    }

    fn text_bounds<'o, T: ReadTxn>(
        &self,
        txn: &T,
        ov: &'o mut Overlay,
        card: CardId,
        field: &str,
    ) -> &'o mut TextBounds {
        let key = (card, field.to_owned());
        let batch_astral = ov.astral_inserts.contains(&key);
        ov.texts.entry(key).or_insert_with(|| {
            let Some(text) = self.text_ref(txn, card, field) else {
                return TextBounds::Plain(0);
            };
            let known = self
                .tracker()
                .astral
                .get(&(card, field.to_owned()))
                .copied();
            if known == Some(false) && !batch_astral {
                return TextBounds::Plain(text.len(txn));
            }
            let content = text.get_string(txn);
            let astral = known.unwrap_or_else(|| has_astral(&content));
            // What this batch inserts counts already: the write's events do not look again.
            self.tracker()
                .astral
                .insert((card, field.to_owned()), astral || batch_astral);
            TextBounds::of(&content, astral || batch_astral)
        })
    }

    fn edge_linked_now<T: ReadTxn>(&self, txn: &T, ov: &Overlay, key: &RelationshipKey) -> bool {
        ov.edges
            .get(key)
            .copied()
            .unwrap_or_else(|| self.edge_linked(txn, key))
    }

    fn in_sequence(
        &self,
        ov: &Overlay,
        sequence: SequenceId,
        card: CardId,
    ) -> Result<bool, WriteError> {
        let pending = ov.sequences.get(&sequence);
        if let Some(&present) = pending.and_then(|m| m.get(&card)) {
            return Ok(present);
        }
        let tracker = self.tracker();
        match tracker.sequences.get(&sequence) {
            Some(order) if tracker.sequence_exists(sequence) => Ok(order.contains(card)),
            _ if pending.is_some() => Ok(false),
            _ => Err(WriteError::UnknownSequence(sequence)),
        }
    }

    /// Checks one op against the state plus the batch so far, then records its effect.
    pub(crate) fn validate<T: ReadTxn>(
        &self,
        txn: &T,
        ov: &mut Overlay,
        op: &Op,
    ) -> Result<(), WriteError> {
        match op {
            Op::CreateCard { card, kind, fields } => {
                if self.card_state(txn, ov, *card).is_some() {
                    return Err(WriteError::CardExists(*card));
                }
                let Some(card_kind) = self.schema.cards.get(kind) else {
                    return Err(WriteError::UnknownKind(kind.clone()));
                };
                for (name, value) in fields {
                    let def = self.field_def(kind, name)?;
                    match def.kind {
                        FieldKind::Register | FieldKind::TimeOrdered => {
                            def.check_register_write(None, value)
                                .map_err(|e| e.into_write_error(name))?;
                            ov.registers.insert((*card, name.clone()), value.clone());
                        }
                        FieldKind::Text => {
                            let Value::String(text) = value else {
                                return Err(WriteError::TypeMismatch {
                                    field: name.clone(),
                                    got: value.type_name(),
                                });
                            };
                            let bounds = TextBounds::of(
                                text,
                                has_astral(text)
                                    || ov.astral_inserts.contains(&(*card, name.clone())),
                            );
                            ov.texts.insert((*card, name.clone()), bounds);
                        }
                        actual => {
                            return Err(WriteError::WrongFieldKind {
                                field: name.clone(),
                                expected: FieldKind::Register,
                                actual,
                            });
                        }
                    }
                }
                if let Some((name, _)) = card_kind.fields.iter().find(|(name, def)| {
                    def.required && fields.get(*name).is_none_or(|v| *v == Value::Null)
                }) {
                    return Err(WriteError::MissingRequired {
                        field: name.clone(),
                    });
                }
                ov.cards.insert(*card, (kind.clone(), false));
            }
            Op::SetField { card, field, value } => {
                let kind = self.live_card(txn, ov, *card)?;
                let expected = match self.field_def(&kind, field)?.kind {
                    FieldKind::TimeOrdered => FieldKind::TimeOrdered,
                    _ => FieldKind::Register,
                };
                let def = self.live_field(txn, ov, *card, field, expected)?;
                let current = self.register_value(txn, ov, *card, field);
                def.check_register_write(current.as_ref(), value)
                    .map_err(|e| e.into_write_error(field))?;
                ov.registers.insert((*card, field.clone()), value.clone());
            }
            Op::InsertText {
                card,
                field,
                index,
                text,
                attributes,
            } => {
                self.live_field(txn, ov, *card, field, FieldKind::Text)?;
                check_attributes(field, attributes)?;
                let bounds = self.text_bounds(txn, ov, *card, field);
                let text_len = bounds.len();
                if *index > text_len || !bounds.is_boundary(*index) {
                    return Err(WriteError::TextRange {
                        field: field.clone(),
                        index: *index,
                        len: 0,
                        text_len,
                    });
                }
                bounds.insert(*index, text);
            }
            Op::DeleteText {
                card,
                field,
                index,
                len,
            }
            | Op::FormatText {
                card,
                field,
                index,
                len,
                ..
            } => {
                self.live_field(txn, ov, *card, field, FieldKind::Text)?;
                if let Op::FormatText { attributes, .. } = op {
                    check_attributes(field, attributes)?;
                }
                let bounds = self.text_bounds(txn, ov, *card, field);
                let text_len = bounds.len();
                let end = index
                    .checked_add(*len)
                    .filter(|end| *end <= text_len)
                    .filter(|end| bounds.is_boundary(*index) && bounds.is_boundary(*end));
                let Some(end) = end else {
                    return Err(WriteError::TextRange {
                        field: field.clone(),
                        index: *index,
                        len: *len,
                        text_len,
                    });
                };
                if matches!(op, Op::DeleteText { .. }) {
                    bounds.delete(*index, end);
                }
            }
            Op::Increment { card, field, by } => {
                self.live_field(txn, ov, *card, field, FieldKind::Counter)?;
                let key = (*card, field.clone());
                let own = match ov.counters.get(&key) {
                    Some(own) => *own,
                    None => self.own_counter(txn, *card, field),
                };
                let total = own.checked_add(*by).filter(|t| t.abs() <= MAX_SAFE_INTEGER);
                let Some(total) = total.filter(|_| by.abs() <= MAX_SAFE_INTEGER) else {
                    return Err(WriteError::CounterRange {
                        field: field.clone(),
                    });
                };
                ov.counters.insert(key, total);
            }
            Op::RaiseMax { card, field, value } => {
                self.live_field(txn, ov, *card, field, FieldKind::Max)?;
                if !value.is_finite() {
                    return Err(WriteError::NotFinite {
                        field: field.clone(),
                    });
                }
            }
            Op::AddToSet { card, field, .. } | Op::RemoveFromSet { card, field, .. } => {
                self.live_field(txn, ov, *card, field, FieldKind::Set)?;
            }
            Op::DeleteCard { card } => {
                let kind = self.live_card(txn, ov, *card)?;
                ov.cards.insert(*card, (kind, true));
            }
            Op::RestoreCard { card } => match self.card_state(txn, ov, *card) {
                None => return Err(WriteError::UnknownCard(*card)),
                Some((_, false)) => return Err(WriteError::CardNotDeleted(*card)),
                Some((kind, true)) => {
                    ov.cards.insert(*card, (kind, false));
                }
            },
            Op::Link {
                from,
                kind,
                to,
                properties,
            } => {
                check_attributes(kind, properties)?;
                let Some(rel) = self.schema.relationships.get(kind) else {
                    return Err(WriteError::UnknownRelationshipKind(kind.clone()));
                };
                for (end, card, allowed) in [("from", from, &rel.from), ("to", to, &rel.to)] {
                    let card_kind = self.live_card(txn, ov, *card)?;
                    if !allowed.is_empty() && !allowed.contains(&card_kind) {
                        return Err(WriteError::EndpointKind {
                            relationship: kind.clone(),
                            kind: card_kind,
                            end,
                        });
                    }
                }
                ov.edges
                    .insert(RelationshipKey::new(*from, kind.clone(), *to), true);
            }
            Op::Unlink { from, kind, to } => {
                let key = RelationshipKey::new(*from, kind.clone(), *to);
                if !self.edge_linked_now(txn, ov, &key) {
                    return Err(WriteError::UnknownRelationship {
                        from: *from,
                        kind: kind.clone(),
                        to: *to,
                    });
                }
                ov.edges.insert(key, false);
            }
            Op::CreateSequence { sequence } => {
                if ov.sequences.contains_key(sequence) || self.tracker().sequence_exists(*sequence)
                {
                    return Err(WriteError::SequenceExists(*sequence));
                }
                ov.sequences.insert(*sequence, HashMap::new());
            }
            Op::InsertIntoSequence { sequence, card, .. } => {
                if self.in_sequence(ov, *sequence, *card)? {
                    return Err(WriteError::AlreadyInSequence {
                        sequence: *sequence,
                        card: *card,
                    });
                }
                self.live_card(txn, ov, *card)?;
                ov.sequences
                    .entry(*sequence)
                    .or_default()
                    .insert(*card, true);
            }
            Op::MoveInSequence { sequence, card, .. } => {
                if !self.in_sequence(ov, *sequence, *card)? {
                    return Err(WriteError::NotInSequence {
                        sequence: *sequence,
                        card: *card,
                    });
                }
            }
            Op::RemoveFromSequence { sequence, card } => {
                if !self.in_sequence(ov, *sequence, *card)? {
                    return Err(WriteError::NotInSequence {
                        sequence: *sequence,
                        card: *card,
                    });
                }
                ov.sequences
                    .entry(*sequence)
                    .or_default()
                    .insert(*card, false);
            }
            Op::CreateBoard { .. }
            | Op::AddColumn { .. }
            | Op::RenameColumn { .. }
            | Op::MoveColumn { .. }
            | Op::RemoveColumn { .. }
            | Op::PlaceCard { .. }
            | Op::UnplaceCard { .. } => self.validate_board(txn, ov, op)?,
        }
        Ok(())
    }
}
