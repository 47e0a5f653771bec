//! Validation of board ops, before anything is written (see `validate.rs` for why a batch is
//! checked whole first). Later ops of a batch see earlier ones through `BoardOverlay`: a
//! batch may create a board, add its columns and place cards in them.
//!
//! The rules are the ones the room's validator enforces on the stored entries
//! (`check_board.rs` in the sync crate): a board of a declared kind, placements only in live
//! columns, only cards of kinds the board kind allows.

use yrs::ReadTxn;

use crate::doc::CardDoc;
use crate::error::WriteError;
use crate::ids::{BoardId, ColumnId};
use crate::ops::Op;
use crate::validate::Overlay;

use super::overlay::BoardOverlay;

impl CardDoc {
    fn board_kind(&self, ov: &BoardOverlay, board: BoardId) -> Result<String, WriteError> {
        if let Some(kind) = ov.created.get(&board) {
            return Ok(kind.clone());
        }
        self.tracker()
            .boards
            .boards
            .get(&board)
            .and_then(|state| state.kind.as_deref().map(str::to_owned))
            .ok_or(WriteError::UnknownBoard(board))
    }

    /// `Some(live)` if the column has an entry (live or removed), `None` if it has none.
    fn column_state(&self, ov: &BoardOverlay, board: BoardId, column: ColumnId) -> Option<bool> {
        if let Some(live) = ov.columns.get(&(board, column)) {
            return Some(*live);
        }
        let tracker = self.tracker();
        let state = tracker.boards.boards.get(&board)?;
        state.columns.get(&column).map(|c| !c.removed)
    }

    fn live_column(
        &self,
        ov: &BoardOverlay,
        board: BoardId,
        column: ColumnId,
    ) -> Result<(), WriteError> {
        match self.column_state(ov, board, column) {
            Some(true) => Ok(()),
            _ => Err(WriteError::UnknownColumn { board, column }),
        }
    }

    /// Checks one board op against the state plus the batch so far, then records its effect.
    pub(crate) fn validate_board<T: ReadTxn>(
        &self,
        txn: &T,
        ov: &mut Overlay,
        op: &Op,
    ) -> Result<(), WriteError> {
        match op {
            Op::CreateBoard { board, kind } => {
                if self.board_kind(&ov.boards, *board).is_ok() {
                    return Err(WriteError::BoardExists(*board));
                }
                if !self.schema.boards.contains_key(kind) {
                    return Err(WriteError::UnknownBoardKind(kind.clone()));
                }
                ov.boards.created.insert(*board, kind.clone());
            }
            Op::AddColumn { board, column, .. } => {
                self.board_kind(&ov.boards, *board)?;
                if self.column_state(&ov.boards, *board, *column).is_some() {
                    return Err(WriteError::ColumnExists {
                        board: *board,
                        column: *column,
                    });
                }
                ov.boards.columns.insert((*board, *column), true);
            }
            Op::RenameColumn { board, column, .. } | Op::MoveColumn { board, column, .. } => {
                self.board_kind(&ov.boards, *board)?;
                self.live_column(&ov.boards, *board, *column)?;
            }
            Op::RemoveColumn { board, column } => {
                self.board_kind(&ov.boards, *board)?;
                self.live_column(&ov.boards, *board, *column)?;
                ov.boards.columns.insert((*board, *column), false);
            }
            Op::PlaceCard {
                board,
                card,
                column,
                ..
            } => {
                let board_kind = self.board_kind(&ov.boards, *board)?;
                self.live_column(&ov.boards, *board, *column)?;
                let card_kind = self.live_card(txn, ov, *card)?;
                let allowed = self
                    .schema
                    .boards
                    .get(&board_kind)
                    .is_some_and(|k| k.allows(&card_kind));
                if !allowed {
                    return Err(WriteError::CardNotAllowed {
                        board_kind,
                        card: *card,
                        card_kind,
                    });
                }
                ov.boards.placed.insert((*board, *card), true);
            }
            Op::UnplaceCard { board, card } => {
                self.board_kind(&ov.boards, *board)?;
                let placed = match ov.boards.placed.get(&(*board, *card)) {
                    Some(placed) => *placed,
                    None => self
                        .tracker()
                        .boards
                        .boards
                        .get(board)
                        .is_some_and(|state| state.is_placed(*card)),
                };
                if !placed {
                    return Err(WriteError::NotOnBoard {
                        board: *board,
                        card: *card,
                    });
                }
                ov.boards.placed.insert((*board, *card), false);
            }
            _ => {}
        }
        Ok(())
    }
}
