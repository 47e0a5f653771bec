//! Boards: ordered columns, and cards placed in at most one column each.
//!
//! Why not one sequence per column: a sequence is a list of its own, so two people moving one
//! card into two different columns at once would leave it in both. On a board a card's
//! placement (its column *and* its order key there) is **one** plain value under one key,
//! `{board}:{card}` in the `boards` root (docs/design.md §3, "Boards"): concurrent moves are
//! concurrent writes of one last-writer-wins register, so the card ends up in exactly one
//! column, at exactly one place. Within a column, cards order by their order keys
//! ([`crate::order_key`]) like a sequence's, and a move is one map write plus an index update
//! ([`index`]), close to the cost of a sequence move.
//!
//! Columns are entries `{board}/{column}` → `{name, order, removed}`, ordered by their own
//! order keys, so reordering columns never touches a card and runs concurrently with card
//! moves. A removed column stays as a tombstone; the cards still placed in it (a concurrent
//! move into it, or cards nobody moved out) show in the **first live column**, merged there
//! by their order keys, on every replica; a board with no live column lists them as
//! `unplaced`. Nothing is lost, and the next move of such a card gives it a live column.

mod index;
mod observe;
pub(crate) mod overlay;
mod validate;
mod write;

use serde::{Deserialize, Serialize};

pub(crate) use index::Boards;
pub(crate) use observe::on_boards;

use crate::doc::CardDoc;
use crate::error::WriteError;
use crate::ids::{BoardId, CardId, ColumnId};
use crate::ops::{Op, Stamp};

/// A board as read at one moment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BoardView {
    /// The board kind.
    pub kind: String,
    /// Live columns in order, each with its visible cards in order.
    pub columns: Vec<ColumnView>,
    /// Cards placed on a board that has no live column (empty otherwise: the cards of a
    /// removed column show in the first live column).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unplaced: Vec<CardId>,
}

/// One column of a [`BoardView`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColumnView {
    /// Column id.
    pub id: ColumnId,
    /// Its name.
    pub name: String,
    /// Visible cards (deleted and unknown ones hidden) in order.
    pub cards: Vec<CardId>,
}

/// Where a card shows on a board.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Place {
    /// The column it shows in.
    pub column: ColumnId,
    /// Its index among that column's visible cards.
    pub index: u32,
}

impl CardDoc {
    /// A board's live columns with their visible cards, or `None` if there is no such board.
    pub fn board(&self, board: BoardId) -> Option<BoardView> {
        let tracker = self.tracker();
        let state = tracker.boards.boards.get(&board)?;
        let kind = state.kind.as_deref()?.to_owned();
        let (columns, unplaced) = state.view();
        Some(BoardView {
            kind,
            columns: columns
                .into_iter()
                .map(|(id, value, cards)| ColumnView {
                    id,
                    name: value.name.to_string(),
                    cards,
                })
                .collect(),
            unplaced,
        })
    }

    /// Where a visible card shows on a board: `None` if the board or card is unknown, the
    /// card is deleted or not on the board, or the board has no live column.
    pub fn card_place(&self, board: BoardId, card: CardId) -> Option<Place> {
        let tracker = self.tracker();
        let state = tracker.boards.boards.get(&board)?;
        if !state.exists() {
            return None;
        }
        let (column, index) = state.place_of(card)?;
        Some(Place {
            column,
            index: u32::try_from(index).unwrap_or(u32::MAX),
        })
    }

    /// Every board id, in order.
    pub fn board_ids(&self) -> Vec<BoardId> {
        let tracker = self.tracker();
        let mut ids: Vec<_> = tracker
            .boards
            .boards
            .iter()
            .filter(|(_, state)| state.exists())
            .map(|(id, _)| *id)
            .collect();
        ids.sort_unstable();
        ids
    }

    /// Creates an empty board of a kind the schema declares.
    pub fn create_board(
        &mut self,
        stamp: &Stamp,
        board: BoardId,
        kind: &str,
    ) -> Result<(), WriteError> {
        let kind = kind.to_owned();
        self.apply(stamp, &[Op::CreateBoard { board, kind }])
    }

    /// Adds a column at `index` among the live columns (past the end appends).
    pub fn add_column(
        &mut self,
        stamp: &Stamp,
        board: BoardId,
        column: ColumnId,
        name: &str,
        index: u32,
    ) -> Result<(), WriteError> {
        let name = name.to_owned();
        self.apply(
            stamp,
            &[Op::AddColumn {
                board,
                column,
                name,
                index,
            }],
        )
    }

    /// Renames a column.
    pub fn rename_column(
        &mut self,
        stamp: &Stamp,
        board: BoardId,
        column: ColumnId,
        name: &str,
    ) -> Result<(), WriteError> {
        let name = name.to_owned();
        self.apply(
            stamp,
            &[Op::RenameColumn {
                board,
                column,
                name,
            }],
        )
    }

    /// Moves a column to `index` among the other live columns.
    pub fn move_column(
        &mut self,
        stamp: &Stamp,
        board: BoardId,
        column: ColumnId,
        index: u32,
    ) -> Result<(), WriteError> {
        self.apply(
            stamp,
            &[Op::MoveColumn {
                board,
                column,
                index,
            }],
        )
    }

    /// Removes a column; its cards show in the first live column.
    pub fn remove_column(
        &mut self,
        stamp: &Stamp,
        board: BoardId,
        column: ColumnId,
    ) -> Result<(), WriteError> {
        self.apply(stamp, &[Op::RemoveColumn { board, column }])
    }

    /// Places a card at visible `index` of a column (counted without the card; past the end
    /// appends), moving it from wherever it was on the board.
    pub fn place_card(
        &mut self,
        stamp: &Stamp,
        board: BoardId,
        card: CardId,
        column: ColumnId,
        index: u32,
    ) -> Result<(), WriteError> {
        self.apply(
            stamp,
            &[Op::PlaceCard {
                board,
                card,
                column,
                index,
            }],
        )
    }

    /// Takes a card off a board.
    pub fn unplace_card(
        &mut self,
        stamp: &Stamp,
        board: BoardId,
        card: CardId,
    ) -> Result<(), WriteError> {
        self.apply(stamp, &[Op::UnplaceCard { board, card }])
    }
}
