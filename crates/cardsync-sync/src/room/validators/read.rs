//! The typed reads the example validators share: a register's value, a numeric field, a live
//! card, the column a card shows in. One file below the validators, so that they import it
//! and nothing imports them back.

use cardsync_core::{BoardId, Card, CardDoc, CardId, FieldValue, Value};

/// A register field's value, if the card has it set.
pub(super) fn register<'c>(card: &'c Card, field: &str) -> Option<&'c Value> {
    match card.fields.get(field)? {
        FieldValue::Register(Value::Null) => None,
        FieldValue::Register(value) => Some(value),
        _ => None,
    }
}

/// A numeric field: a number register, a counter's sum or a max field's value.
pub(super) fn number(card: &Card, field: &str) -> Option<f64> {
    match card.fields.get(field)? {
        FieldValue::Register(Value::Number(n)) => Some(*n),
        FieldValue::Counter(n) => Some(*n as f64),
        FieldValue::Max(n) => *n,
        _ => None,
    }
}

/// A live card (not deleted) as `doc` holds it.
pub(super) fn live_card(doc: &CardDoc, card: CardId) -> Option<Card> {
    doc.card(card).filter(|c| !c.deleted)
}

/// The name of the column a card shows in on a board, in `doc`.
pub(super) fn column_name(doc: &CardDoc, board: BoardId, card: CardId) -> Option<String> {
    let place = doc.card_place(board, card)?;
    doc.board(board)?
        .columns
        .into_iter()
        .find(|c| c.id == place.column)
        .map(|c| c.name)
}
