//! Four example validators (docs/design.md §10, "App-defined validators"), each a rule the seed
//! apps asked for, written only against the core's typed reads and the [`Proposal`]:
//!
//! - [`WipLimit`]: at most N cards in a board column (`wip_limit`);
//! - [`Distance`]: a composite `{lat, lon}` position stays within N metres of the card's
//!   planned point (`too_far`);
//! - [`Milestone`]: a progress field may pass a threshold only when a flag is set
//!   (`not_inspected`);
//! - [`AssigneeMovesToDone`]: only the card's assignee moves it into a Done column
//!   (`not_assignee`).
//!
//! They live beside the [`Validator`] trait so that a server can enable them from its
//! configuration (each is a serde value) without an application writing code, and so that an
//! application's own validators have four worked examples to copy. Each judges only what the
//! batch changed, so a document that broke a rule before the rule was configured does not
//! make every later batch fail.
//!
//! [`Proposal`]: super::Proposal
//! [`Validator`]: super::Validator

mod assignee;
mod distance;
mod milestone;
mod wip_limit;

#[cfg(test)]
pub(crate) mod tests;

use cardsync_core::{BoardId, Card, CardDoc, CardId, FieldValue, Value};

pub use assignee::AssigneeMovesToDone;
pub use distance::Distance;
pub use milestone::Milestone;
pub use wip_limit::WipLimit;

/// A register field's value, if the card has it set.
fn register<'c>(card: &'c Card, field: &str) -> Option<&'c Value> {
    match card.fields.get(field)? {
        FieldValue::Register(Value::Null) => None,
        FieldValue::Register(value) => Some(value),
        _ => None,
    }
}

/// A numeric field: a number register, a counter's sum or a max field's value.
fn number(card: &Card, field: &str) -> Option<f64> {
    match card.fields.get(field)? {
        FieldValue::Register(Value::Number(n)) => Some(*n),
        FieldValue::Counter(n) => Some(*n as f64),
        FieldValue::Max(n) => *n,
        _ => None,
    }
}

/// A live card (not deleted) as `doc` holds it.
fn live_card(doc: &CardDoc, card: CardId) -> Option<Card> {
    doc.card(card).filter(|c| !c.deleted)
}

/// The name of the column a card shows in on a board, in `doc`.
fn column_name(doc: &CardDoc, board: BoardId, card: CardId) -> Option<String> {
    let place = doc.card_place(board, card)?;
    doc.board(board)?
        .columns
        .into_iter()
        .find(|c| c.id == place.column)
        .map(|c| c.name)
}
