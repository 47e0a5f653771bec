//! Translating events on the `boards` root into the board index and [`ChangeEvent`]s.
//!
//! The root is flat (no nested containers), so every event is a change of a root entry: a
//! board marker, a column or a placement. A malformed value (only a foreign writer makes
//! one; a validating room refuses it) reads as absent, like an order key the core cannot
//! parse in a sequence.

use yrs::TransactionMut;
use yrs::types::{Event, Events};

use crate::events::{ChangeEvent, Tracker, new_value};
use crate::layout::{self, BoardKey};

/// Translates an event batch on the `boards` root.
pub(crate) fn on_boards(tracker: &mut Tracker, txn: &TransactionMut<'_>, events: &Events<'_>) {
    for event in events.iter() {
        let Event::Map(e) = event else { continue };
        if !event.path().is_empty() {
            continue;
        }
        for (key, change) in e.keys(txn) {
            let value = new_value(change);
            let board = match layout::parse_board_key(key) {
                Some(BoardKey::Board(board)) => {
                    let kind = value.and_then(layout::board_value);
                    tracker.boards.boards.entry(board).or_default().kind = kind;
                    board
                }
                Some(BoardKey::Column(board, column)) => {
                    let column_value = value.and_then(layout::column_value);
                    tracker
                        .boards
                        .boards
                        .entry(board)
                        .or_default()
                        .set_column(column, column_value);
                    board
                }
                Some(BoardKey::Placement(board, card)) => {
                    let placement = value.and_then(layout::placement_value);
                    let hidden = !tracker.is_visible(card);
                    tracker.boards.place(board, card, placement, hidden);
                    board
                }
                None => continue,
            };
            tracker.push(ChangeEvent::BoardChanged { board });
        }
    }
}
