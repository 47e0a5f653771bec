//! Which card field each fixed container id belongs to, so that no two fields share one.
//!
//! **Why.** A field added to the schema after a card existed gets its container as the fixed
//! item `(container_client(card, field), 0)` (docs/design.md §3, "Fields added later"), and
//! yrs takes an item whose id it already holds as a duplicate and drops it. The id is a hash
//! of the card id and the field name, and a card id is chosen by its writer: a crafted one can
//! give one of its fields the fixed id of another card's field. Whichever of the two items a
//! replica receives first is the one it keeps, so the writes into the other field would land
//! in the first on some replicas and nowhere on others. A 52-bit hash makes an honest collision
//! a once-in-a-lifetime event; a crafted one takes a moment.
//!
//! So the room keeps, for every card it holds, the fixed ids of all its container fields under
//! the room's schema, and refuses:
//! - a new card one of whose fields would share a fixed id with another card's field
//!   (`ContainerCollision`); the first card to claim an id keeps it;
//! - a fixed item for a field whose id another field claims too (possible only between cards
//!   that existed before a schema change added the field): neither field gets a container,
//!   rather than one of them losing its writes on some replicas.

use std::collections::{HashMap, HashSet};

use cardsync_core::layout::{self, container_client};
use cardsync_core::{CardDoc, CardId, CardKind, FieldKind, Schema};
use yrs::{Any, Map, Out, ReadTxn, Transact};

/// Who claims a fixed id: a card and the place of the field among its kind's fields (by name,
/// under the room's schema, which does not change while the room is open), so that a claim
/// holds no string.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Claim {
    One(CardId, usize),
    /// Two fields or more: none may have a container under it.
    Shared,
}

/// The fixed container ids of the room's cards (see the module docs).
#[derive(Debug, Default)]
pub(crate) struct FixedIds {
    claims: HashMap<u64, Claim>,
    cards: HashSet<CardId>,
}

/// The fields of `kind` whose values are containers, with their claims and fixed ids for
/// `card`.
fn fixed_fields(card: CardId, kind: &CardKind) -> impl Iterator<Item = (&str, Claim, u64)> {
    kind.fields
        .iter()
        .enumerate()
        .filter(|(_, (_, def))| def.kind != FieldKind::Register)
        .map(move |(at, (name, _))| {
            let id = container_client(card, name);
            (name.as_str(), Claim::One(card, at), id)
        })
}

impl FixedIds {
    /// The claims of every card in `doc` whose kind `schema` knows.
    pub fn build(doc: &CardDoc, schema: &Schema) -> Self {
        let mut ids = Self::default();
        let txn = doc.yrs_doc().transact();
        if let Some(cards) = txn.get_map(layout::CARDS) {
            for (key, value) in cards.iter(&txn) {
                ids.add_entry(&txn, schema, key, value);
            }
        }
        ids
    }

    /// Records the claims of the cards under `keys` in `doc` that it does not hold yet: the
    /// cards an accepted update touched.
    pub fn add_new<'k>(
        &mut self,
        doc: &CardDoc,
        schema: &Schema,
        keys: impl IntoIterator<Item = &'k String>,
    ) {
        let txn = doc.yrs_doc().transact();
        let Some(cards) = txn.get_map(layout::CARDS) else {
            return;
        };
        for key in keys {
            if CardId::from_key(key).is_some_and(|card| !self.knows(card))
                && let Some(value) = cards.get(&txn, key)
            {
                self.add_entry(&txn, schema, key, value);
            }
        }
    }

    /// Records the claims of the card stored as `key` → `value`, if it is one.
    fn add_entry<T: ReadTxn>(&mut self, txn: &T, schema: &Schema, key: &str, value: Out) {
        let (Some(card), Out::YMap(map)) = (CardId::from_key(key), value) else {
            return;
        };
        let Some(Out::Any(Any::String(kind))) = map.get(txn, layout::KIND) else {
            return;
        };
        if let Some(kind) = schema.cards.get(kind.as_ref()) {
            self.add(card, kind);
        }
    }

    /// Records the claims of `card` (of `kind`), once.
    fn add(&mut self, card: CardId, kind: &CardKind) {
        if !self.cards.insert(card) {
            return;
        }
        for (_, mine, id) in fixed_fields(card, kind) {
            self.claims
                .entry(id)
                .and_modify(|claim| {
                    if *claim != mine {
                        *claim = Claim::Shared;
                    }
                })
                .or_insert(mine);
        }
    }

    /// Whether the room holds `card`'s claims already.
    pub fn knows(&self, card: CardId) -> bool {
        self.cards.contains(&card)
    }

    /// For a card not held yet: its first field whose fixed id another card's field claims.
    pub fn collision<'k>(&self, card: CardId, kind: &'k CardKind) -> Option<&'k str> {
        fixed_fields(card, kind)
            .find(|(_, mine, id)| self.claims.get(id).is_some_and(|claim| claim != mine))
            .map(|(name, ..)| name)
    }

    /// Whether the fixed id of `card`'s `field` is claimed by another field as well.
    pub fn shared(&self, card: CardId, field: &str) -> bool {
        self.claims.get(&container_client(card, field)) == Some(&Claim::Shared)
    }
}
