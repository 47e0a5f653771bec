//! Boards: ordered columns, each card in at most one of them (docs/design.md §3, "Boards").
//! Thin: each method parses its arguments, writes one op or reads once from the core.

use cardsync_core::{BoardId, ColumnId, Op};
use wasm_bindgen::prelude::*;

use super::CardDoc;
use crate::convert::{self, card_id, ids_to_js, to_js};
use crate::error::JsResult;
use crate::random;
use crate::types::{JsIds, JsOptionalBoard, JsOptionalPlace};

fn board_id(text: &str) -> Result<BoardId, JsValue> {
    text.parse().js()
}

fn column_id(text: &str) -> Result<ColumnId, JsValue> {
    text.parse().js()
}

#[wasm_bindgen]
impl CardDoc {
    /// Creates an empty board of a kind the schema declares and returns its id: `id` if
    /// given, else a fresh random one.
    #[wasm_bindgen(js_name = createBoard)]
    pub fn create_board(&self, kind: &str, id: Option<String>) -> Result<String, JsValue> {
        let board = match id {
            Some(id) => board_id(&id)?,
            None => BoardId::from_bytes(random::id_bytes()?),
        };
        let kind = kind.to_owned();
        self.write_ops(vec![Op::CreateBoard { board, kind }])?;
        Ok(board.to_string())
    }

    /// Adds a column at `index` among the live columns (past the end appends) and returns its
    /// id: `id` if given, else a fresh random one.
    #[wasm_bindgen(js_name = addColumn)]
    pub fn add_column(
        &self,
        board: &str,
        name: &str,
        index: f64,
        id: Option<String>,
    ) -> Result<String, JsValue> {
        let board = board_id(board)?;
        let column = match id {
            Some(id) => column_id(&id)?,
            None => ColumnId::from_bytes(random::id_bytes()?),
        };
        let index = convert::index(index, "index")?;
        let name = name.to_owned();
        self.write_ops(vec![Op::AddColumn {
            board,
            column,
            name,
            index,
        }])?;
        Ok(column.to_string())
    }

    /// Renames a column.
    #[wasm_bindgen(js_name = renameColumn)]
    pub fn rename_column(&self, board: &str, column: &str, name: &str) -> Result<(), JsValue> {
        let (board, column, name) = (board_id(board)?, column_id(column)?, name.to_owned());
        self.write_ops(vec![Op::RenameColumn {
            board,
            column,
            name,
        }])
    }

    /// Moves a column to `index` among the other live columns.
    #[wasm_bindgen(js_name = moveColumn)]
    pub fn move_column(&self, board: &str, column: &str, index: f64) -> Result<(), JsValue> {
        let (board, column) = (board_id(board)?, column_id(column)?);
        let index = convert::index(index, "index")?;
        self.write_ops(vec![Op::MoveColumn {
            board,
            column,
            index,
        }])
    }

    /// Removes a column; its cards show in the first live column.
    #[wasm_bindgen(js_name = removeColumn)]
    pub fn remove_column(&self, board: &str, column: &str) -> Result<(), JsValue> {
        let (board, column) = (board_id(board)?, column_id(column)?);
        self.write_ops(vec![Op::RemoveColumn { board, column }])
    }

    /// Places a card at a visible index of a column (counted without the card; past the end
    /// appends), moving it from wherever it was on the board. Concurrent moves of one card
    /// leave it in exactly one column.
    #[wasm_bindgen(js_name = placeCard)]
    pub fn place_card(
        &self,
        board: &str,
        card: &str,
        column: &str,
        index: f64,
    ) -> Result<(), JsValue> {
        let (board, card, column) = (board_id(board)?, card_id(card)?, column_id(column)?);
        let index = convert::index(index, "index")?;
        self.write_ops(vec![Op::PlaceCard {
            board,
            card,
            column,
            index,
        }])
    }

    /// Takes a card off a board.
    #[wasm_bindgen(js_name = unplaceCard)]
    pub fn unplace_card(&self, board: &str, card: &str) -> Result<(), JsValue> {
        let (board, card) = (board_id(board)?, card_id(card)?);
        self.write_ops(vec![Op::UnplaceCard { board, card }])
    }

    /// A board's live columns with their visible cards in order, or `undefined`.
    pub fn board(&self, board: &str) -> Result<JsOptionalBoard, JsValue> {
        let view = self.read()?.board(board_id(board)?);
        Ok(to_js(&view)?.unchecked_into())
    }

    /// Where a visible card shows on a board (`{column, index}`), or `undefined`.
    #[wasm_bindgen(js_name = cardPlace)]
    pub fn card_place(&self, board: &str, card: &str) -> Result<JsOptionalPlace, JsValue> {
        let place = self.read()?.card_place(board_id(board)?, card_id(card)?);
        Ok(to_js(&place)?.unchecked_into())
    }

    /// Every board id, in order.
    #[wasm_bindgen(js_name = boardIds)]
    pub fn board_ids(&self) -> Result<JsIds, JsValue> {
        Ok(ids_to_js(&self.read()?.board_ids()).unchecked_into())
    }
}
