//! Rules for the `boards` root (docs/design.md §3, "Boards"), flat like `sequences`:
//! - `{board}` → `{kind}`: a board kind the schema declares, which never changes;
//! - `{board}/{column}` → `{name, order, removed}` with a valid order key, on a board that
//!   exists;
//! - `{board}:{card}` → `{column, order}` with a valid order key, naming a **live** column of
//!   a board that exists, for a card whose kind the board kind allows (a card that does not
//!   exist is a modelled state, as for edges: reads hide it).
//!
//! The value parsers are the core's ([`layout::board_value`], [`layout::column_value`],
//! [`layout::placement_value`]), the same ones its reads use, and the placement rules are
//! the ones its local validation applies (`board/validate.rs`), so a client and the room agree
//! on what a valid placement is. Removing an entry is allowed: it is what undoing its creation
//! (or taking a card off a board) does.

use cardsync_core::layout::{self, BoardKey, KIND};
use cardsync_core::{BoardId, CardId, ColumnId};
use yrs::{Any, Map, Out};

use super::check::{Check, Side};
use super::violation::Violation;

/// A board's kind on one side, if its marker is there and well-formed.
fn board_kind(side: &Side<'_>, board: BoardId) -> Option<String> {
    let value = side.get(&side.boards, &board.to_string())?;
    layout::board_value(&value).map(|k| k.to_string())
}

impl Check<'_, '_> {
    pub(super) fn board_entry(&self, key: &str) -> Result<(), Violation> {
        let bad = || Violation::BadBoardEntry {
            key: key.to_owned(),
        };
        let parsed = layout::parse_board_key(key).ok_or_else(|| Violation::BadKey {
            root: layout::BOARDS,
            key: key.to_owned(),
        })?;
        let Some(value) = self.new.get(&self.new.boards, key) else {
            return Ok(());
        };
        match parsed {
            BoardKey::Board(board) => {
                let kind = layout::board_value(&value).ok_or_else(bad)?;
                if !self.rules.schema.boards.contains_key(&*kind) {
                    return Err(Violation::UnknownBoardKind {
                        kind: kind.to_string(),
                    });
                }
                match board_kind(&self.old, board) {
                    Some(old) if *old != *kind => Err(Violation::BoardKindChanged {
                        board: board.to_string(),
                        from: old,
                        to: kind.to_string(),
                    }),
                    _ => Ok(()),
                }
            }
            BoardKey::Column(board, _) => {
                layout::column_value(&value).ok_or_else(bad)?;
                self.board_of(board).map(drop)
            }
            BoardKey::Placement(board, card) => {
                let (column, _) = layout::placement_value(&value).ok_or_else(bad)?;
                let kind = self.board_of(board)?;
                self.live_column(board, column)?;
                self.card_allowed(board, &kind, card)
            }
        }
    }

    /// The kind of a board that exists after the update.
    fn board_of(&self, board: BoardId) -> Result<String, Violation> {
        board_kind(&self.new, board).ok_or_else(|| Violation::UnknownBoard {
            board: board.to_string(),
        })
    }

    fn live_column(&self, board: BoardId, column: ColumnId) -> Result<(), Violation> {
        let key = layout::column_entry(&board.to_string(), &column.to_string());
        let live = self
            .new
            .get(&self.new.boards, &key)
            .and_then(|value| layout::column_value(&value))
            .is_some_and(|c| !c.removed);
        if live {
            Ok(())
        } else {
            Err(Violation::UnknownColumn {
                board: board.to_string(),
                column: column.to_string(),
            })
        }
    }

    fn card_allowed(&self, board: BoardId, kind: &str, card: CardId) -> Result<(), Violation> {
        let card_kind = self
            .new
            .map(&self.new.cards, &card.to_string())
            .and_then(|m| match m.get(&self.new.txn, KIND) {
                Some(Out::Any(Any::String(k))) => Some(k.to_string()),
                _ => None,
            });
        let allowed = |card_kind: &str| {
            self.rules
                .schema
                .boards
                .get(kind)
                .is_some_and(|k| k.allows(card_kind))
        };
        match card_kind {
            Some(card_kind) if !allowed(&card_kind) => Err(Violation::CardNotAllowed {
                board: board.to_string(),
                card: card.to_string(),
                kind: card_kind,
            }),
            _ => Ok(()),
        }
    }
}
