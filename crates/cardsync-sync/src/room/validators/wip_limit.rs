//! A column WIP limit: at most `limit` cards in every board column named `column`.
//!
//! Kanban's work-in-progress limit, judged per column the batch may have filled: a batch is
//! refused when, after it, a column of that name holds more than `limit` visible cards *and*
//! more than it held before. So moving a card out of an over-full column, or editing a card in
//! it, stays possible; only growing it past the limit is refused.

use serde::{Deserialize, Serialize};

use crate::room::validator::{Proposal, Refused, Validator};

/// See the [module docs](self).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WipLimit {
    /// The column name the limit applies to (on every board), e.g. `"Doing"`.
    pub column: String,
    /// The most cards the column may hold.
    pub limit: usize,
}

impl WipLimit {
    /// The stable code of its refusals.
    pub const CODE: &'static str = "wip_limit";
}

impl Validator for WipLimit {
    fn validate(&self, proposal: &Proposal<'_>) -> Result<(), Refused> {
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
                    let reason = format!(
                        "column {:?} may hold at most {} cards; this change makes it {now}",
                        self.column, self.limit
                    );
                    return Err(Refused::new(Self::CODE, reason));
                }
            }
        }
        Ok(())
    }
}
