//! A milestone rule: a progress field may pass a threshold only when a flag is set ("progress
//! may pass 50 only when `inspected` is set").
//!
//! Judged for cards the batch changed: a batch is refused when, after it, the card's progress
//! is above `threshold`, it was not before (or the card is new), and the flag is not `true`.
//! A card already past the threshold may still be edited, and lowering progress is always
//! allowed. Progress may be a number register, a counter or a max field.

use cardsync_core::Value;
use serde::{Deserialize, Serialize};

use super::read::{live_card, number, register};
use crate::room::validator::{Proposal, Refused, Validator};

/// See the module docs of `room/validators/milestone.rs`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Milestone {
    /// The card kind the rule applies to.
    pub kind: String,
    /// The progress field.
    pub field: String,
    /// The value progress may pass only with the flag set.
    pub threshold: f64,
    /// The boolean register that must be `true` (e.g. `inspected`).
    pub flag: String,
}

impl Milestone {
    /// The stable code of its refusals.
    pub const CODE: &'static str = "not_inspected";
}

impl Validator for Milestone {
    fn validate(&self, proposal: &Proposal<'_>) -> Result<(), Refused> {
        for &id in &proposal.cards {
            let Some(card) = live_card(proposal.after, id).filter(|c| c.kind == self.kind) else {
                continue;
            };
            let Some(progress) = number(&card, &self.field).filter(|p| *p > self.threshold) else {
                continue;
            };
            let was_past = proposal
                .before
                .card(id)
                .and_then(|b| number(&b, &self.field))
                .is_some_and(|p| p > self.threshold);
            let flagged = register(&card, &self.flag) == Some(&Value::Bool(true));
            if !was_past && !flagged {
                let reason = format!(
                    "card {id}'s {} may pass {} only when {} is set (it would be {progress})",
                    self.field, self.threshold, self.flag
                );
                return Err(Refused::new(Self::CODE, reason));
            }
        }
        Ok(())
    }
}
