//! Container rules: an update never replaces a container, and the container of a field added
//! to an existing card is the field's fixed item (docs/design.md §3, "Fields added later").
//!
//! **Why.** yrs keeps one value per map key. An update that puts a new container (or a plain
//! value, or nothing) where a card or one of its text, counter, max or set fields held one
//! discards everything written inside it: a whole text, every replica's count, every set
//! item, including writes the room acked long ago. Honest replicas never do that, since
//! the containers of a card's fields are created with the card or, for fields added to the
//! schema later, as one fixed item `(container_client(card, field), 0)` that concurrent
//! creations share (`cardsync_core`'s `container.rs`). So the room refuses:
//!
//! - a container replaced or removed (a removed *card* stays allowed: undoing a creation);
//! - a container added to an existing card that is not the field's fixed item, since a second
//!   creation elsewhere would race it;
//! - clocks of a client id in the reserved range ([`cardsync_core::CONTAINER_CLIENT_BASE`]) that
//!   are not exactly one such fixed item, or the fixed item recording a schema in `meta`: no
//!   replica writes as those ids, so a sender that does could otherwise plant another item
//!   under an id honest replicas trust as a container. (A schema record is checked by its key
//!   and value, not its place: nothing builds on it, and the value the key shows must hash to
//!   the id.)

use cardsync_core::layout::{self, container_client};
use cardsync_core::{COMPENSATOR_CLIENT_ID, CONTAINER_CLIENT_BASE, CardDoc, CardId};
use yrs::branch::{Branch, BranchID};
use yrs::{Any, Map, Out, ReadTxn, Transact};

use super::check::Check;
use super::incoming::Fresh;
use super::shadow::Touched;
use super::violation::Violation;

/// The item id of a container value, if `value` is one.
fn container_id(value: Option<&Out>) -> Option<(u64, u32)> {
    let branch: &Branch = match value? {
        Out::YText(text) => text.as_ref(),
        Out::YMap(map) => map.as_ref(),
        Out::YArray(array) => array.as_ref(),
        _ => return None,
    };
    match branch.id() {
        BranchID::Nested(id) => Some((id.client.get(), id.clock)),
        BranchID::Root(_) => None,
    }
}

/// Whether a container is the room's own copy: a compensation puts a container a stock peer
/// replaced back as a copy of its old content (a deleted item cannot be revived), written as
/// [`COMPENSATOR_CLIENT_ID`], which no peer may write as (`batches.rs`). That replacement
/// restores what the peer's discarded, so it is no violation.
fn by_the_room(container: Option<(u64, u32)>) -> bool {
    container.is_some_and(|(client, _)| client == COMPENSATOR_CLIENT_ID)
}

/// Whether `client` is in the range reserved for field containers.
pub(super) fn is_reserved(client: u64) -> bool {
    client >= CONTAINER_CLIENT_BASE
}

impl Check<'_, '_> {
    /// The container rules for field `name` of card `card` (a text, counter, max or set
    /// field). `existing`: the card was in the document before the update.
    pub(super) fn container(
        &self,
        card: &str,
        name: &str,
        existing: bool,
        old: Option<&Out>,
        new: Option<&Out>,
    ) -> Result<(), Violation> {
        let (before, after) = (container_id(old), container_id(new));
        if before.is_some() && before != after && !by_the_room(after) {
            return Err(Violation::ContainerReplaced {
                card: card.to_owned(),
                field: name.to_owned(),
            });
        }
        if existing && before.is_none() && after.is_some() {
            let id = CardId::from_key(card);
            let fixed = id.map(|c| (container_client(c, name), 0));
            if after != fixed {
                return Err(Violation::LateContainer {
                    card: card.to_owned(),
                    field: name.to_owned(),
                });
            }
            if id.is_some_and(|c| self.rules.fixed.shared(c, name)) {
                return Err(Violation::ContainerCollision {
                    card: card.to_owned(),
                    field: name.to_owned(),
                });
            }
        }
        Ok(())
    }

    /// Refuses an update that puts a new card map where a card was (its old fields go with it).
    pub(super) fn card_kept(&self, key: &str) -> Result<(), Violation> {
        let old = self.old.get(&self.old.cards, key);
        let new = self.new.get(&self.new.cards, key);
        let (before, after) = (container_id(old.as_ref()), container_id(new.as_ref()));
        if before.is_some() && after.is_some() && before != after && !by_the_room(after) {
            return Err(Violation::ContainerReplaced {
                card: key.to_owned(),
                field: String::new(),
            });
        }
        Ok(())
    }
}

/// Checks that every reserved client id among `fresh` wrote exactly one item, at clock 0, and
/// that the item is now the container of a touched field whose fixed id it is, in `new` (the
/// shadow with the update applied).
pub(crate) fn reserved_clients(
    fresh: &[Fresh],
    touched: &Touched,
    new: &CardDoc,
) -> Result<(), Violation> {
    let reserved: Vec<&Fresh> = fresh.iter().filter(|f| is_reserved(f.client)).collect();
    if reserved.is_empty() {
        return Ok(());
    }
    let txn = new.yrs_doc().transact();
    let cards = txn.get_map(layout::CARDS);
    for f in reserved {
        let placed = f.start == 0
            && f.end == 1
            && touched.cards.iter().any(|(card, touch)| {
                let Some(id) = CardId::from_key(card) else {
                    return false;
                };
                let Some(Out::YMap(map)) = cards.as_ref().and_then(|c| c.get(&txn, card)) else {
                    return false;
                };
                touch.keys.iter().any(|name| {
                    !name.starts_with(layout::RESERVED_PREFIX)
                        && container_client(id, name) == f.client
                        && container_id(map.get(&txn, name).as_ref()) == Some((f.client, 0))
                })
            });
        let meta = txn.get_map(layout::META);
        // Or the record of a schema: its value's fixed id (its place is `meta` by the key).
        let recorded = || {
            f.start == 0
                && f.end == 1
                && touched.meta.iter().any(|key| {
                    let Some(version) = layout::parse_schema_key(key) else {
                        return false;
                    };
                    match meta.as_ref().and_then(|m| m.get(&txn, key)) {
                        Some(Out::Any(Any::String(json))) => {
                            layout::schema_client(version, &json) == f.client
                        }
                        _ => false,
                    }
                })
        };
        if !placed && !recorded() {
            return Err(Violation::ReservedClient { client: f.client });
        }
    }
    Ok(())
}
