//! A column WIP limit: at most `limit` cards in every column named `column`.
//!
//! Kanban's work-in-progress limit, judged per column the batch may have filled: a batch is
//! refused when, after it, such a column holds more than `limit` visible cards *and* more
//! than it held before. So moving a card out of an over-full column, or editing a card in
//! it, stays possible; only growing it past the limit is refused.
//!
//! A column is a board column (docs/design.md §3, "Boards") by default. Apps that keep a
//! card's column in a register instead (a `status` field, as the demo board does) name that
//! field: the column is then the set of live cards whose `field` holds `column`.

use cardsync_core::{CardDoc, Value};
use serde::{Deserialize, Serialize};

use super::read::register;
use crate::room::validator::{Proposal, Refused, Validator};

/// See the module docs of `room/validators/wip_limit.rs`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WipLimit {
    /// The column the limit applies to: a board column's name (on every board), e.g.
    /// `"Doing"`, or with `field`, the value of that register.
    pub column: String,
    /// The most cards the column may hold.
    pub limit: usize,
    /// A string register that holds each card's column (e.g. `"status"`), for apps that keep
    /// columns in a field rather than on a board; `None` counts board columns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl WipLimit {
    /// The stable code of its refusals.
    pub const CODE: &'static str = "wip_limit";

    fn refuse(&self, now: usize) -> Refused {
        let reason = format!(
            "column {:?} may hold at most {} cards; this change makes it {now}",
            self.column, self.limit
        );
        Refused::new(Self::CODE, reason)
    }

    /// Live cards whose `field` holds the column.
    fn in_field_column(&self, doc: &CardDoc, field: &str) -> usize {
        let column = Value::String(self.column.clone());
        doc.cards(None)
            .iter()
            .filter(|c| !c.deleted && register(c, field) == Some(&column))
            .count()
    }

    fn validate_field(&self, proposal: &Proposal<'_>, field: &str) -> Result<(), Refused> {
        let column = Value::String(self.column.clone());
        let enters = proposal.cards.iter().any(|&id| {
            proposal
                .after
                .card(id)
                .is_some_and(|c| !c.deleted && register(&c, field) == Some(&column))
        });
        if !enters {
            return Ok(());
        }
        let now = self.in_field_column(proposal.after, field);
        if now > self.limit && now > self.in_field_column(proposal.before, field) {
            return Err(self.refuse(now));
        }
        Ok(())
    }
}

impl Validator for WipLimit {
    fn validate(&self, proposal: &Proposal<'_>) -> Result<(), Refused> {
        if let Some(field) = &self.field {
            return self.validate_field(proposal, field);
        }
        for &board in &proposal.boards {
            let Some(after) = proposal.after.board(board) else {
                continue;
            };
            let before = proposal.before.board(board);
            for column in after.columns.iter().filter(|c| c.name == self.column) {
                let now = column.cards.len();
                if now <= self.limit {
                    continue;
                }
                let was = before
                    .as_ref()
                    .and_then(|b| b.columns.iter().find(|c| c.id == column.id))
                    .map_or(0, |c| c.cards.len());
                if now > was {
                    return Err(self.refuse(now));
                }
            }
        }
        Ok(())
    }
}
