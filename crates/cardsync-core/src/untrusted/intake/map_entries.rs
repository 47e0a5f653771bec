//! Refusing formatting marks that would land on a map key.
//!
//! **Why.** yrs 0.28.1 reports a map's changed keys (`MapEvent::keys`, which the core's
//! observers and the sync room's shadow read) by unwrapping each new entry's value, and a
//! formatting mark has none: `item.content.get_last().unwrap()` panics (yrs
//! `types/mod.rs:806`), in wasm32 an abort. Marks only make sense inside a text, and Yjs
//! never writes one anywhere else, but an update can place one on a map key: explicitly
//! (a parent and key), or implicitly, by naming a map entry as its left or right neighbour,
//! whose parent and key yrs then copies. The latter depends on the document (the neighbour may
//! already be there), which is why this is checked while planning, not by the screen.
//!
//! The check over-approximates on purpose: a mark is refused if *either* neighbour leads to a
//! map entry, following neighbours through the update's own items that inherit their place
//! the same way. In an honest document every neighbour of a mark lies in the same text, so it
//! never refuses one.

use std::collections::{HashMap, HashSet};

use super::view::View;
use crate::untrusted::error::IntegrateError;
use crate::untrusted::screen::{CONTENT_FORMAT, TYPE_MAP};
use crate::untrusted::structure::{Block, BlockKind, Id, ItemInfo, Parent, Structure};

/// Resolves, for the items of one update, whether they sit in a map.
pub(super) struct MapEntries<'a, 't, 'doc> {
    structure: &'a Structure,
    view: &'a View<'t, 'doc>,
    /// Answers found so far, by block start (update items) or id (document items).
    known: HashMap<Id, bool>,
}

impl<'a, 't, 'doc> MapEntries<'a, 't, 'doc> {
    pub fn new(structure: &'a Structure, view: &'a View<'t, 'doc>) -> Self {
        Self {
            structure,
            view,
            known: HashMap::new(),
        }
    }

    /// Refuses `item` (the block of `client` at `block`) if it is a mark that would become a
    /// map entry. Its dependencies must be in the document or accepted from the update.
    pub fn check(
        &mut self,
        client: u64,
        block: &Block,
        item: &ItemInfo,
    ) -> Result<(), IntegrateError> {
        if item.content != CONTENT_FORMAT {
            return Ok(());
        }
        let lands = match &item.parent {
            Parent::Neighbours => {
                let mut neighbours = item.origin.into_iter().chain(item.right_origin);
                neighbours.any(|id| self.reaches_map(id))
            }
            explicit => item.keyed && self.parent_is_map(explicit),
        };
        if lands {
            return Err(IntegrateError::FormatOnMapKey {
                client,
                clock: block.clock,
            });
        }
        Ok(())
    }

    fn parent_is_map(&self, parent: &Parent) -> bool {
        match parent {
            Parent::Root(name) => self.view.root_is_map(name),
            Parent::Item(id) if self.view.has(*id) => self.view.type_is_map(*id),
            Parent::Item(id) => self.structure.find(*id).is_some_and(
                |b| matches!(&b.kind, BlockKind::Item(i) if i.type_ref == Some(TYPE_MAP)),
            ),
            Parent::Neighbours => false,
        }
    }

    /// Whether the item holding `start`, or any item it may take its place from, is a map
    /// entry. Iterative: the chain of neighbours within one update can be as long as the
    /// update, and a deep recursion would overflow wasm's small stack.
    fn reaches_map(&mut self, start: Id) -> bool {
        let mut stack = vec![start];
        let mut seen = HashSet::new();
        while let Some(id) = stack.pop() {
            let (key, direct) = if self.view.has(id) {
                (id, Some(id))
            } else {
                match self.structure.find(id) {
                    Some(block) => (
                        Id {
                            client: id.client,
                            clock: block.clock,
                        },
                        None,
                    ),
                    None => continue,
                }
            };
            if !seen.insert(key) {
                continue;
            }
            if let Some(&answer) = self.known.get(&key) {
                if answer {
                    return true;
                }
                continue;
            }
            let answer = match direct {
                Some(id) => Some(self.view.in_map(id)),
                None => match self.structure.find(id).map(|b| &b.kind) {
                    Some(BlockKind::Item(item)) => match &item.parent {
                        Parent::Neighbours => {
                            stack.extend(item.origin.into_iter().chain(item.right_origin));
                            None
                        }
                        explicit => Some(item.keyed && self.parent_is_map(explicit)),
                    },
                    _ => Some(false),
                },
            };
            if let Some(answer) = answer {
                self.known.insert(key, answer);
                if answer {
                    return true;
                }
            }
        }
        // Nothing reachable is a map entry, so none of what was visited is.
        for key in seen {
            self.known.insert(key, false);
        }
        false
    }
}
