//! The containers of fields added to the schema after their card was created: one item with a
//! fixed id, so concurrent creations are one creation (docs/design.md §3, "Fields added
//! later").
//!
//! **Why.** A text, counter, max or set field lives in a nested container under its name in
//! the card's map. Fields the card's creator knew get theirs with the card, and nobody can
//! race to create a card. A field added to the schema later has no container until its first
//! write; if two replicas each created one, they would be two different items under one map
//! key, and yrs keeps one of them (the higher client id's): every write the other replica made
//! into its own container would be gone, and a room would have acked it. yrs merges two
//! creations only when they are *the same item*: same id, same content, same place. So the
//! container of a late field is exactly that: the item `(container_client(card, field), 0)`
//! ([`layout::container_client`]), an empty Y.Text or Y.Map under the card's map at the
//! field's key, with no origins. Every replica that creates it writes these same bytes; yrs
//! integrates the first copy and skips every other one as already held.
//!
//! The id's client lies in a range no replica writes as ([`crate::CONTAINER_CLIENT_BASE`]), and
//! the item is its only block, so the server can verify it (the room's
//! `check_container.rs`). It is created in a transaction of its own, before the write that
//! needs it, and that transaction is not undoable: undoing the first write must remove the
//! write, not the container, which every other replica may already be writing into.
//!
//! The record of the schema a replica writes under (`meta`, `schema@{version}`, read by
//! [`crate::schema_change`]) is made the same way, as the item `(schema_client, 0)`
//! ([`layout::schema_client`]): every replica on one schema records one item, and recording
//! takes no clock of the replica's own, so what its writes look like does not change.

use yrs::branch::{Branch, BranchID};
use yrs::{Map, Out, ReadTxn};

use crate::doc::CardDoc;
use crate::error::WriteError;
use crate::events::Origin;
use crate::ids::CardId;
use crate::layout;
use crate::lib0::write_var;
use crate::ops::Op;
use crate::value::FieldKind;

/// The fixed items a write lacks: see [`CardDoc::missing_fixed_items`].
#[derive(Default)]
pub(crate) struct FixedItems {
    missing: Vec<Missing>,
    /// The schema record, `(version, json)`.
    schema: Option<(u32, String)>,
}

/// Content numbers of a shared type and of plain values in the Yjs update format, the map key
/// flag, and lib0's tag of a string value.
const CONTENT_TYPE: u8 = 7;
const CONTENT_ANY: u8 = 8;
const HAS_PARENT_SUB: u8 = 0x20;
const ANY_STRING: u8 = 119;
/// Yjs type numbers.
const TYPE_MAP: u64 = 1;
const TYPE_TEXT: u64 = 2;

/// A container to create: the card's map item id, the field and its kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Missing {
    card: CardId,
    parent: (u64, u32),
    field: String,
    kind: FieldKind,
}

fn write_string(out: &mut Vec<u8>, s: &str) {
    write_var(out, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}

/// The one v1 update creating `missing` and, if given, the schema record `(version, json)`:
/// one client each, one block each.
fn encode(missing: &[Missing], schema: Option<(u32, &str)>) -> Vec<u8> {
    let mut out = Vec::with_capacity(32 * missing.len() + schema.map_or(2, |s| s.1.len() + 40));
    write_var(
        &mut out,
        (missing.len() + usize::from(schema.is_some())) as u64,
    );
    if let Some((version, json)) = schema {
        write_var(&mut out, 1); // blocks
        write_var(&mut out, layout::schema_client(version, json));
        write_var(&mut out, 0); // clock
        out.push(CONTENT_ANY | HAS_PARENT_SUB);
        write_var(&mut out, 1); // the parent is a root, by name
        write_string(&mut out, layout::META);
        write_string(&mut out, &layout::schema_key(version));
        write_var(&mut out, 1); // one value
        out.push(ANY_STRING);
        write_string(&mut out, json);
    }
    for m in missing {
        write_var(&mut out, 1); // blocks
        write_var(&mut out, layout::container_client(m.card, &m.field));
        write_var(&mut out, 0); // clock
        out.push(CONTENT_TYPE | HAS_PARENT_SUB);
        write_var(&mut out, 0); // the parent is an item, not a root
        write_var(&mut out, m.parent.0);
        write_var(&mut out, u64::from(m.parent.1));
        write_string(&mut out, &m.field);
        write_var(
            &mut out,
            if m.kind == FieldKind::Text {
                TYPE_TEXT
            } else {
                TYPE_MAP
            },
        );
    }
    write_var(&mut out, 0); // no deletions
    out
}

/// The field a container-writing op needs, and its kind. Ops that only take away (deleting
/// or formatting text, removing from a set) need none: with no container there is nothing to
/// take away.
fn needs_container(
    op: &Op,
    time_ordered: impl Fn(CardId, &str) -> bool,
) -> Option<(CardId, &str, FieldKind)> {
    match op {
        Op::SetField { card, field, .. } if time_ordered(*card, field) => {
            Some((*card, field, FieldKind::TimeOrdered))
        }
        Op::InsertText { card, field, .. } => Some((*card, field, FieldKind::Text)),
        Op::Increment { card, field, .. } => Some((*card, field, FieldKind::Counter)),
        Op::RaiseMax { card, field, .. } => Some((*card, field, FieldKind::Max)),
        Op::AddToSet { card, field, .. } => Some((*card, field, FieldKind::Set)),
        _ => None,
    }
}

/// Whether `value` is the container a field of `kind` keeps.
pub(crate) fn is_container(value: &Out, kind: FieldKind) -> bool {
    matches!(
        (value, kind),
        (Out::YText(_), FieldKind::Text)
            | (
                Out::YMap(_),
                FieldKind::Counter | FieldKind::Max | FieldKind::Set | FieldKind::TimeOrdered
            )
    )
}

impl CardDoc {
    /// Checks that field `field` (of `kind`, not a register) of an existing card can be
    /// written: its key holds the container or nothing, and if nothing, its fixed id is free.
    pub(crate) fn check_container<T: ReadTxn>(
        &self,
        txn: &T,
        card: CardId,
        field: &str,
        kind: FieldKind,
    ) -> Result<(), WriteError> {
        let Some(map) = self.card_map(txn, card) else {
            return Ok(()); // created by this batch, with its containers
        };
        let shape = || WriteError::BadContainer {
            field: field.to_owned(),
        };
        match map.get(txn, field) {
            Some(value) if is_container(&value, kind) => Ok(()),
            Some(_) => Err(shape()),
            None => {
                let client = yrs::block::ClientID::new(layout::container_client(card, field));
                // Held but not at this key: removed, or a (vanishingly rare) hash collision.
                if txn.state_vector().get(&client) > 0 {
                    Err(shape())
                } else {
                    Ok(())
                }
            }
        }
    }

    /// The schema record to write, if the document lacks it: `(version, json)`.
    fn missing_schema_record<T: ReadTxn>(&self, txn: &T) -> Option<(u32, String)> {
        let version = self.schema.version;
        if self
            .roots
            .meta
            .get(txn, &layout::schema_key(version))
            .is_some()
        {
            return None;
        }
        // Serializing maps of strings, enums and bools cannot fail.
        let json = serde_json::to_string(&*self.schema).unwrap_or_default();
        let client = yrs::block::ClientID::new(layout::schema_client(version, &json));
        // Held but not at its key: overwritten by a rival record, which opening refused.
        (txn.state_vector().get(&client) == 0).then_some((version, json))
    }

    /// What a write of `ops` needs and lacks, as the fixed items of the module docs: the
    /// containers they write into on cards that exist without them, and the record of this
    /// replica's schema. Read in the write's validation transaction (no second one per write).
    pub(crate) fn missing_fixed_items<T: ReadTxn>(&self, txn: &T, ops: &[Op]) -> FixedItems {
        if ops.is_empty() {
            return FixedItems::default();
        }
        let mut missing: Vec<Missing> = Vec::new();
        let time_ordered = |card: CardId, field: &str| {
            let kind = self
                .card_map(txn, card)
                .and_then(|m| match m.get(txn, layout::KIND) {
                    Some(yrs::Out::Any(yrs::Any::String(k))) => Some(k),
                    _ => None,
                });
            kind.and_then(|k| self.schema.cards.get(&*k)?.fields.get(field))
                .is_some_and(|def| def.kind == FieldKind::TimeOrdered)
        };
        for (card, field, kind) in ops
            .iter()
            .filter_map(|op| needs_container(op, time_ordered))
        {
            let Some(map) = self.card_map(txn, card) else {
                continue;
            };
            if map.get(txn, field).is_some()
                || missing.iter().any(|m| m.card == card && m.field == field)
            {
                continue;
            }
            let BranchID::Nested(id) = AsRef::<Branch>::as_ref(&map).id() else {
                continue; // a card map is never a root
            };
            missing.push(Missing {
                card,
                parent: (id.client.get(), id.clock),
                field: field.to_owned(),
                kind,
            });
        }
        FixedItems {
            schema: self.missing_schema_record(txn),
            missing,
        }
    }

    /// Creates `items` (from [`CardDoc::missing_fixed_items`], after the ops validated) in one
    /// transaction of its own (with `origin`, never undoable). Returns that transaction's
    /// update (empty when nothing was missing).
    pub(crate) fn create_fixed_items(&mut self, items: FixedItems, origin: Origin) -> Vec<u8> {
        let FixedItems { missing, schema } = items;
        if missing.is_empty() && schema.is_none() {
            return Vec::new();
        }
        let update = encode(&missing, schema.as_ref().map(|(v, j)| (*v, j.as_str())));
        // The items' parents are held and their ids free (checked above and by validation),
        // so the intake integrates them whole.
        let result = self.apply_update_v1_with_origin(&update, origin);
        debug_assert!(
            result.is_ok(),
            "a field container did not integrate: {result:?}"
        );
        update
    }
}

/// Joins the fixed items' update (`containers`, their own clients) and a write's update
/// (`write`, the writer's client) into one v1 update: the client sections of both under one
/// count, then the write's delete set (the fixed items' is empty). No client is in both.
/// Without fixed items (almost every write) the write's update is returned as it is.
pub(crate) fn join(containers: &[u8], write: Vec<u8>) -> Vec<u8> {
    if containers.is_empty() {
        return write;
    }
    let (mut c, mut w) = (containers, write.as_slice());
    let (Ok(nc), Ok(nw)) = (crate::lib0::read_var(&mut c), crate::lib0::read_var(&mut w)) else {
        unreachable!("both updates were encoded here and by yrs");
    };
    // `c` ends with the containers' empty delete set (one zero byte).
    let c = &c[..c.len() - 1];
    let mut out = Vec::with_capacity(containers.len() + write.len());
    write_var(&mut out, nc + nw);
    out.extend_from_slice(c);
    out.extend_from_slice(w);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    use crate::{CardKind, FieldDef, Schema, Stamp};

    #[test]
    fn container_ids_are_reserved_stable_and_distinct() {
        let card = CardId::from_u128(7);
        let a = layout::container_client(card, "notes");
        assert_eq!(a, layout::container_client(card, "notes"));
        assert_ne!(a, layout::container_client(card, "votes"));
        assert_ne!(a, layout::container_client(CardId::from_u128(8), "notes"));
        assert!((crate::CONTAINER_CLIENT_BASE..=crate::MAX_CLIENT_ID).contains(&a));
    }

    #[test]
    fn two_replicas_create_one_container() {
        let v1 = Schema::new(1).card("task", CardKind::default());
        let v2 = Schema::new(2).card(
            "task",
            CardKind::default().field("notes", FieldDef::new(FieldKind::Text)),
        );
        let mut a = CardDoc::new(v1, 1).unwrap();
        let card = CardId::from_u128(1);
        a.create_card(&Stamp::new(1, "a"), card, "task", [])
            .unwrap();
        let snapshot = a.snapshot_v1();
        let v2 = Arc::new(v2);
        let mut a = CardDoc::load_v1(v2.clone(), 1, &snapshot).unwrap();
        let mut b = CardDoc::load_v1(v2, 2, &snapshot).unwrap();
        let insert = |text: &str| Op::InsertText {
            card,
            field: "notes".into(),
            index: 0,
            text: text.into(),
            attributes: Default::default(),
        };
        let ua = a
            .apply_with_origin(&Stamp::new(2, "a"), &[insert("hello ")], Origin::Local)
            .unwrap()
            .update;
        let ub = b
            .apply_with_origin(&Stamp::new(2, "b"), &[insert("world")], Origin::Local)
            .unwrap()
            .update;
        a.apply_update_v1(&ub).unwrap();
        b.apply_update_v1(&ua).unwrap();
        assert_eq!(a.export(), b.export());
        let notes = |doc: &CardDoc| match doc.card(card).map(|c| c.fields["notes"].clone()) {
            Some(crate::FieldValue::Text(text)) => text,
            other => panic!("{other:?}"),
        };
        let text = notes(&a);
        assert!(
            text.contains("hello ") && text.contains("world"),
            "{text:?}"
        );
        // The first write can be undone; the container stays for everyone.
        assert!(a.undo());
        assert_eq!(notes(&a), "world");
        b.apply_update_v1(&a.snapshot_v1()).unwrap();
        assert_eq!(notes(&b), "world");
    }
}
