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
mod read;
mod wip_limit;

#[cfg(test)]
pub(crate) mod tests;

pub use assignee::AssigneeMovesToDone;
pub use distance::Distance;
pub use milestone::Milestone;
pub use wip_limit::WipLimit;
