//! "Only the assignee moves a card to Done": a card may enter a board column named `column`
//! only in a batch whose author's subject (the token's user id) is the card's `field`.
//!
//! Judged for the placements the batch changed: a card that shows in such a column after the
//! batch and did not before must have the author as its assignee. An author without a subject
//! (an old token, an anonymous peer) is never the assignee. Moving a card out of Done, or
//! editing a card in it, is not this rule's business.

use cardsync_core::Value;
use serde::{Deserialize, Serialize};

use super::read::{column_name, live_card, register};
use crate::room::validator::{Proposal, Refused, Validator};

/// See the module docs of `room/validators/assignee.rs`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssigneeMovesToDone {
    /// The column name only the assignee moves a card into, e.g. `"Done"`.
    pub column: String,
    /// The card's string register naming its assignee's user id.
    pub field: String,
}

impl AssigneeMovesToDone {
    /// The stable code of its refusals.
    pub const CODE: &'static str = "not_assignee";
}

impl Validator for AssigneeMovesToDone {
    fn validate(&self, proposal: &Proposal<'_>) -> Result<(), Refused> {
        for &(board, card) in &proposal.placements {
            if column_name(proposal.after, board, card).as_deref() != Some(self.column.as_str()) {
                continue;
            }
            if column_name(proposal.before, board, card).as_deref() == Some(self.column.as_str()) {
                continue;
            }
            let assignee =
                live_card(proposal.after, card).and_then(|c| match register(&c, &self.field) {
                    Some(Value::String(s)) => Some(s.clone()),
                    _ => None,
                });
            let author = proposal.author.subject.as_deref();
            if author.is_none() || author != assignee.as_deref() {
                let who = author.unwrap_or("an author without a user id");
                let reason = format!(
                    "only card {card}'s {} may move it to {:?}, not {who}",
                    self.field, self.column
                );
                return Err(Refused::new(Self::CODE, reason));
            }
        }
        Ok(())
    }
}
