//! Writing board ops (validated first, in `validate.rs`): each op is one write of one plain
//! value in the `boards` root, and the board index is updated at once so later ops of the
//! same batch (a card placed at an index after another) see it; the observer repeats the
//! update at commit, which changes nothing.

use std::collections::HashMap;
use std::sync::Arc;

use yrs::{Any, Map, TransactionMut, WriteTxn};

use crate::doc::CardDoc;
use crate::ids::{BoardId, ColumnId};
use crate::layout::{self, ColumnValue};
use crate::ops::Op;
use crate::order_index::OrderIndex;

/// The `boards` root, through the writing transaction.
fn boards(txn: &mut TransactionMut<'_>) -> yrs::MapRef {
    txn.get_or_insert_map(layout::BOARDS)
}

fn column_any(value: &ColumnValue) -> Any {
    Any::from(HashMap::from([
        (
            layout::COLUMN_NAME.to_owned(),
            Any::String(value.name.clone()),
        ),
        (layout::ORDER.to_owned(), Any::String(value.order.clone())),
        (layout::REMOVED.to_owned(), Any::Bool(value.removed)),
    ]))
}

fn placement_any(column: ColumnId, order: &Arc<str>) -> Any {
    Any::from(HashMap::from([
        (
            layout::COLUMN.to_owned(),
            Any::String(Arc::from(column.to_string())),
        ),
        (layout::ORDER.to_owned(), Any::String(order.clone())),
    ]))
}

impl CardDoc {
    /// An order key placing `column` at `index` among the board's other live columns.
    fn column_key(&mut self, board: BoardId, column: ColumnId, index: u32) -> Arc<str> {
        let jitter = self.next_jitter();
        let tracker = self.tracker();
        let mut order = OrderIndex::default();
        if let Some(state) = tracker.boards.boards.get(&board) {
            for (id, value) in state.live_columns() {
                // Columns share the card index's order logic: an id is 128 bits either way.
                order.upsert(
                    crate::ids::CardId::from_u128(id.as_u128()),
                    value.order.clone(),
                    false,
                );
            }
        }
        order.key_for(
            crate::ids::CardId::from_u128(column.as_u128()),
            index,
            jitter,
        )
    }

    fn write_column(
        &self,
        txn: &mut TransactionMut<'_>,
        board: BoardId,
        column: ColumnId,
        value: ColumnValue,
    ) {
        let key = layout::column_entry(&board.to_string(), &column.to_string());
        boards(txn).insert(txn, key, column_any(&value));
        self.tracker()
            .boards
            .boards
            .entry(board)
            .or_default()
            .set_column(column, Some(value));
    }

    fn stored_column(&self, board: BoardId, column: ColumnId) -> Option<ColumnValue> {
        self.tracker()
            .boards
            .boards
            .get(&board)?
            .columns
            .get(&column)
            .cloned()
    }

    /// Writes one validated board op.
    pub(crate) fn write_board(&mut self, txn: &mut TransactionMut<'_>, op: &Op) {
        match op {
            Op::CreateBoard { board, kind } => {
                let value = Any::from(HashMap::from([(
                    layout::BOARD_KIND.to_owned(),
                    Any::String(Arc::from(kind.as_str())),
                )]));
                boards(txn).insert(txn, board.to_string(), value);
                self.tracker().boards.boards.entry(*board).or_default().kind =
                    Some(Arc::from(kind.as_str()));
            }
            Op::AddColumn {
                board,
                column,
                name,
                index,
            } => {
                let order = self.column_key(*board, *column, *index);
                let value = ColumnValue {
                    name: Arc::from(name.as_str()),
                    order,
                    removed: false,
                };
                self.write_column(txn, *board, *column, value);
            }
            Op::RenameColumn {
                board,
                column,
                name,
            } => {
                if let Some(mut value) = self.stored_column(*board, *column) {
                    value.name = Arc::from(name.as_str());
                    self.write_column(txn, *board, *column, value);
                }
            }
            Op::MoveColumn {
                board,
                column,
                index,
            } => {
                if let Some(mut value) = self.stored_column(*board, *column) {
                    value.order = self.column_key(*board, *column, *index);
                    self.write_column(txn, *board, *column, value);
                }
            }
            Op::RemoveColumn { board, column } => {
                if let Some(mut value) = self.stored_column(*board, *column) {
                    value.removed = true;
                    self.write_column(txn, *board, *column, value);
                }
            }
            Op::PlaceCard {
                board,
                card,
                column,
                index,
            } => {
                let jitter = self.next_jitter();
                let mut tracker = self.tracker();
                let order = match tracker.boards.boards.get(board) {
                    Some(state) => state.key_for(*column, *card, *index, jitter),
                    None => Arc::from("a0"),
                };
                let key = layout::placement_entry(&board.to_string(), &card.to_string());
                let hidden = !tracker.is_visible(*card);
                tracker
                    .boards
                    .place(*board, *card, Some((*column, order.clone())), hidden);
                drop(tracker);
                boards(txn).insert(txn, key, placement_any(*column, &order));
            }
            Op::UnplaceCard { board, card } => {
                let key = layout::placement_entry(&board.to_string(), &card.to_string());
                boards(txn).remove(txn, &key);
                let mut tracker = self.tracker();
                tracker.boards.place(*board, *card, None, true);
            }
            _ => {}
        }
    }
}
