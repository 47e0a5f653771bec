//! The in-memory picture of every board, kept in step with the `boards` root by the event
//! observers (like the sequences' [`OrderIndex`]).
//!
//! Why an index: a board of 10k cards must draw a column and place a card at an index of it
//! without sorting or walking every placement, or a move would cost far more than a sequence
//! move (docs/design.md §3). So each board keeps one [`OrderIndex`] per column *as the
//! placements name it*, updated entry by entry from the placement values. A column a
//! placement names but the board does not have live (removed, or not yet arrived) is an
//! *orphan* cell: its cards show in the first live column, merged by their order keys, so
//! every replica draws them in the same place. That merge is the one read that sorts, and only
//! while a removed column still holds cards.

use std::collections::HashMap;
use std::sync::Arc;

use crate::ids::{CardId, ColumnId};
use crate::layout::ColumnValue;
use crate::order_index::OrderIndex;

/// A live column as drawn: its id, its stored value and its visible cards in order.
pub(crate) type DrawnColumn<'a> = (ColumnId, &'a ColumnValue, Vec<CardId>);

/// One board as the document holds it.
#[derive(Clone, Debug, Default)]
pub(crate) struct BoardState {
    /// The board's kind, once its marker is present.
    pub kind: Option<Arc<str>>,
    /// Every column entry, removed ones included.
    pub columns: HashMap<ColumnId, ColumnValue>,
    /// Cards by the column their placement names.
    cells: HashMap<ColumnId, OrderIndex>,
    /// Each placed card's stored column.
    placements: HashMap<CardId, ColumnId>,
}

impl BoardState {
    /// Whether the board's marker is present.
    pub fn exists(&self) -> bool {
        self.kind.is_some()
    }

    /// Records a column entry (`None`: the entry is gone, an undone creation).
    pub fn set_column(&mut self, column: ColumnId, value: Option<ColumnValue>) {
        match value {
            Some(value) => self.columns.insert(column, value),
            None => self.columns.remove(&column),
        };
    }

    /// Whether the column exists and is not removed.
    pub fn is_live(&self, column: ColumnId) -> bool {
        self.columns.get(&column).is_some_and(|c| !c.removed)
    }

    /// Live columns in board order: by order key, then id.
    pub fn live_columns(&self) -> Vec<(ColumnId, &ColumnValue)> {
        let mut live: Vec<_> = self
            .columns
            .iter()
            .filter(|(_, c)| !c.removed)
            .map(|(id, c)| (*id, c))
            .collect();
        live.sort_unstable_by(|a, b| (&a.1.order, a.0).cmp(&(&b.1.order, b.0)));
        live
    }

    /// The first live column, without sorting them all.
    fn first_live(&self) -> Option<ColumnId> {
        self.columns
            .iter()
            .filter(|(_, c)| !c.removed)
            .min_by(|a, b| (&a.1.order, a.0).cmp(&(&b.1.order, b.0)))
            .map(|(id, _)| *id)
    }

    /// Records a card's placement (`None`: taken off the board).
    pub fn place(&mut self, card: CardId, placement: Option<(ColumnId, Arc<str>)>, hidden: bool) {
        let old = match &placement {
            Some((column, _)) => self.placements.insert(card, *column),
            None => self.placements.remove(&card),
        };
        if let Some(old) = old
            && placement.as_ref().is_none_or(|(c, _)| *c != old)
            && let Some(cell) = self.cells.get_mut(&old)
        {
            cell.remove(card);
            if cell.is_empty() {
                self.cells.remove(&old);
            }
        }
        if let Some((column, key)) = placement {
            self.cells
                .entry(column)
                .or_default()
                .upsert(card, key, hidden);
        }
    }

    /// Shows or hides a card (deleted, restored, arrived).
    pub fn set_hidden(&mut self, card: CardId, hidden: bool) {
        if let Some(column) = self.placements.get(&card)
            && let Some(cell) = self.cells.get_mut(column)
        {
            cell.set_hidden(card, hidden);
        }
    }

    /// Whether the card has a placement (visible or not).
    pub fn is_placed(&self, card: CardId) -> bool {
        self.placements.contains_key(&card)
    }

    /// Orphan cells: placements naming a column that is not live.
    fn orphans(&self) -> impl Iterator<Item = &OrderIndex> + '_ {
        self.cells
            .iter()
            .filter(|(column, _)| !self.is_live(**column))
            .map(|(_, cell)| cell)
    }

    fn has_visible_orphans(&self) -> bool {
        self.orphans().any(|cell| cell.visible_len() > 0)
    }

    /// The first live column's cards merged with the orphans': the one read that sorts.
    fn merged_first(&self, first: ColumnId) -> OrderIndex {
        let mut merged = OrderIndex::default();
        for cell in self.cells.get(&first).into_iter().chain(self.orphans()) {
            for (key, card, hidden) in cell.entries() {
                merged.upsert(card, key.clone(), hidden);
            }
        }
        merged
    }

    /// The visible cards of each live column in order, and (only when the board has no live
    /// column) the cards that therefore have no place.
    pub fn view(&self) -> (Vec<DrawnColumn<'_>>, Vec<CardId>) {
        let live = self.live_columns();
        let orphans = self.has_visible_orphans();
        let columns = live
            .iter()
            .enumerate()
            .map(|(i, (id, value))| {
                let cards = if i == 0 && orphans {
                    self.merged_first(*id).visible().collect()
                } else {
                    self.cells
                        .get(id)
                        .map(|cell| cell.visible().collect())
                        .unwrap_or_default()
                };
                (*id, *value, cards)
            })
            .collect();
        let unplaced = if live.is_empty() {
            let mut all = OrderIndex::default();
            for cell in self.cells.values() {
                for (key, card, hidden) in cell.entries() {
                    all.upsert(card, key.clone(), hidden);
                }
            }
            all.visible().collect()
        } else {
            Vec::new()
        };
        (columns, unplaced)
    }

    /// Where a visible card shows: its live column, or the first live column for a card
    /// whose column is removed; with its index there.
    pub fn place_of(&self, card: CardId) -> Option<(ColumnId, usize)> {
        let stored = *self.placements.get(&card)?;
        let first = self.first_live()?;
        let column = if self.is_live(stored) { stored } else { first };
        let index = if column == first && self.has_visible_orphans() {
            self.merged_first(first).rank(card)?
        } else {
            self.cells.get(&column)?.rank(card)?
        };
        Some((column, index))
    }

    /// An order key placing `card` at visible `index` of live `column`, counted without the
    /// card itself, as the column shows (orphans merged into the first).
    pub fn key_for(&self, column: ColumnId, card: CardId, index: u32, jitter: u64) -> Arc<str> {
        if self.first_live() == Some(column) && self.has_visible_orphans() {
            return self.merged_first(column).key_for(card, index, jitter);
        }
        match self.cells.get(&column) {
            Some(cell) => cell.key_for(card, index, jitter),
            None => OrderIndex::default().key_for(card, index, jitter),
        }
    }
}

/// Every board of a document, and the boards each card is placed on (so a card's deletion
/// touches only those).
#[derive(Default)]
pub(crate) struct Boards {
    /// Boards by id (created, or holding entries that arrived first).
    pub boards: HashMap<crate::ids::BoardId, BoardState>,
    memberships: HashMap<CardId, Vec<crate::ids::BoardId>>,
}

impl Boards {
    /// Records a card's placement on a board.
    pub fn place(
        &mut self,
        board: crate::ids::BoardId,
        card: CardId,
        placement: Option<(ColumnId, Arc<str>)>,
        hidden: bool,
    ) {
        let member = self.memberships.entry(card).or_default();
        if placement.is_some() {
            if !member.contains(&board) {
                member.push(board);
            }
        } else {
            member.retain(|b| *b != board);
        }
        self.boards
            .entry(board)
            .or_default()
            .place(card, placement, hidden);
    }

    /// Shows or hides a card on every board it is placed on.
    pub fn set_hidden(&mut self, card: CardId, hidden: bool) {
        for board in self.memberships.get(&card).into_iter().flatten() {
            if let Some(state) = self.boards.get_mut(board) {
                state.set_hidden(card, hidden);
            }
        }
    }
}
