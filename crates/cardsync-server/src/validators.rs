//! Which validators each room runs: the example validators the configuration enables per
//! document pattern, then an application's own, given in code.
//!
//! A room's [`Validators`] are chosen when it loads, from its
//! document id, so one server can hold a WIP limit on `team-*` boards and nothing on `notes-*`.
//! The configuration can enable only the four examples of `cardsync_sync::room::validators`
//! (they are plain data); an application's own rules are Rust, so a team builds its own
//! binary: `cardsync_server` is a library with a thin `main`, and
//! [`Server::start_with_validators`](crate::Server::start_with_validators) takes a
//! [`RoomValidators`] beside the configuration (README, "Your own validators").
//!
//! # Your own server binary
//! A validator is a pure function of the batch's [`Proposal`](cardsync_sync::room::Proposal)
//! (no clock, no I/O): the same batch may be judged again after a lost compare-and-append,
//! and must get the same verdict. A team's `main` is the stock one plus its validators:
//!
//! ```no_run
//! use cardsync_core::{CardId, FieldValue, Schema, Value};
//! use cardsync_server::{Server, auth::Secret, config::ServerConfig};
//! use cardsync_sync::room::{Proposal, Refused, Validator, Validators};
//!
//! /// "Only a foreman may lower progress."
//! struct OnlyForemenLowerProgress;
//!
//! impl Validator for OnlyForemenLowerProgress {
//!     fn validate(&self, p: &Proposal<'_>) -> Result<(), Refused> {
//!         let progress = |doc: &cardsync_core::CardDoc, id: CardId| match doc.card(id)?.fields.get("progress") {
//!             Some(FieldValue::Register(Value::Number(n))) => Some(*n),
//!             _ => None,
//!         };
//!         for &card in &p.cards {
//!             let lowered = matches!((progress(p.before, card), progress(p.after, card)), (Some(a), Some(b)) if b < a);
//!             if lowered && p.author.subject.as_deref().is_none_or(|s| !s.starts_with("foreman-")) {
//!                 return Err(Refused::new("foreman_only", format!("only a foreman may lower card {card}'s progress")));
//!             }
//!         }
//!         Ok(())
//!     }
//! }
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let config: ServerConfig = toml::from_str(&std::fs::read_to_string("server.toml")?)?;
//! let schema: Schema = serde_json::from_str(&std::fs::read_to_string("schema.json")?)?;
//! let secret = Secret::new(std::env::var("CARDSYNC_SECRET")?.into_bytes())?;
//! let server = Server::start_with_validators(config, schema, secret, |doc: &str| {
//!     let mut rules = Validators::new();
//!     if doc.starts_with("fibre-") {
//!         rules = rules.with(OnlyForemenLowerProgress);
//!     }
//!     rules
//! })
//! .await?;
//! server.wait().await?;
//! # Ok(()) }
//! ```
//!
//! # Configured examples
//! ```toml
//! [[validators]]
//! docs = "team-*"                                 # `*` matches any run of characters
//! wip_limit = { column = "Doing", limit = 3 }
//! assignee_moves_to_done = { column = "Done", field = "assignee" }
//!
//! [[validators]]
//! docs = "fibre-*"
//! distance = { kind = "section", field = "position", planned = "planned", max_metres = 100.0 }
//! milestone = { kind = "section", field = "progress", threshold = 50.0, flag = "inspected" }
//! ```

use std::sync::Arc;

use cardsync_sync::room::Validators;
use cardsync_sync::room::validators::{AssigneeMovesToDone, Distance, Milestone, WipLimit};
use serde::{Deserialize, Serialize};

/// One `[[validators]]` entry: the example validators to run in the rooms of the documents
/// `docs` matches. Several entries may match one document; all of their validators run, in
/// the order of the file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValidatorEntry {
    /// Document ids this entry applies to: a pattern where `*` matches any run of
    /// characters (`"*"` is every document).
    pub docs: String,
    /// At most N cards in a column.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wip_limit: Option<WipLimit>,
    /// A position within N metres of the planned point.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distance: Option<Distance>,
    /// Progress past a threshold only with a flag set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub milestone: Option<Milestone>,
    /// Only the assignee moves a card to Done.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignee_moves_to_done: Option<AssigneeMovesToDone>,
}

impl ValidatorEntry {
    /// Adds this entry's validators to `out`.
    fn add_to(&self, out: &mut Validators) {
        if let Some(v) = &self.wip_limit {
            out.push(Arc::new(v.clone()));
        }
        if let Some(v) = &self.distance {
            out.push(Arc::new(v.clone()));
        }
        if let Some(v) = &self.milestone {
            out.push(Arc::new(v.clone()));
        }
        if let Some(v) = &self.assignee_moves_to_done {
            out.push(Arc::new(v.clone()));
        }
    }
}

/// An application's own validators, chosen per document when its room loads. Implemented by
/// every `Fn(&str) -> Validators` closure.
pub trait RoomValidators: Send + Sync {
    /// The validators of the room of document `doc`.
    fn for_doc(&self, doc: &str) -> Validators;
}

impl<F: Fn(&str) -> Validators + Send + Sync> RoomValidators for F {
    fn for_doc(&self, doc: &str) -> Validators {
        self(doc)
    }
}

/// The configured entries and the application's own validators, together.
#[derive(Clone, Default)]
pub(crate) struct AppValidators {
    configured: Vec<ValidatorEntry>,
    custom: Option<Arc<dyn RoomValidators>>,
}

impl AppValidators {
    pub fn new(configured: Vec<ValidatorEntry>, custom: Option<Arc<dyn RoomValidators>>) -> Self {
        Self { configured, custom }
    }

    /// The validators of `doc`'s room: the matching configured entries' first, in file
    /// order, then the application's.
    pub fn for_doc(&self, doc: &str) -> Validators {
        let mut out = Validators::new();
        for entry in self.configured.iter().filter(|e| matches(&e.docs, doc)) {
            entry.add_to(&mut out);
        }
        if let Some(custom) = &self.custom {
            out.extend(custom.for_doc(doc));
        }
        out
    }
}

/// Whether `text` matches `pattern`, where `*` matches any run of characters (none too).
pub(crate) fn matches(pattern: &str, text: &str) -> bool {
    let mut parts = pattern.split('*');
    let first = parts.next().unwrap_or_default();
    let Some(mut rest) = text.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    let Some((last, middle)) = parts.split_last() else {
        return rest.is_empty();
    };
    for part in middle {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_match_with_stars() {
        assert!(matches("*", ""));
        assert!(matches("*", "anything"));
        assert!(matches("demo", "demo"));
        assert!(!matches("demo", "demo-2"));
        assert!(matches("team-*", "team-a"));
        assert!(!matches("team-*", "xteam-a"));
        assert!(matches("*-board", "x-board"));
        assert!(!matches("*-board", "x-boards"));
        assert!(matches("a*b*c", "aXbYc"));
        assert!(matches("a*b*c", "abc"));
        assert!(!matches("a*b*c", "acb"));
        assert!(!matches("ab*ba", "aba"));
    }

    #[test]
    fn entries_choose_validators_per_document() {
        let entries: Vec<ValidatorEntry> = toml::from_str::<toml::Table>(
            r#"
            [[validators]]
            docs = "team-*"
            wip_limit = { column = "Doing", limit = 3 }
            assignee_moves_to_done = { column = "Done", field = "assignee" }
            [[validators]]
            docs = "*"
            milestone = { kind = "task", field = "progress", threshold = 50.0, flag = "inspected" }
            "#,
        )
        .unwrap()["validators"]
            .clone()
            .try_into()
            .unwrap();
        let custom: Arc<dyn RoomValidators> = Arc::new(|doc: &str| {
            let mut v = Validators::new();
            if doc == "team-a" {
                v.push(Arc::new(WipLimit {
                    column: "Review".into(),
                    limit: 1,
                    field: None,
                }));
            }
            v
        });
        let app = AppValidators::new(entries, Some(custom));
        assert_eq!(app.for_doc("team-a").len(), 4);
        assert_eq!(app.for_doc("team-b").len(), 3);
        assert_eq!(app.for_doc("notes").len(), 1);
        let strict = toml::from_str::<ValidatorEntry>(
            "docs = \"*\"\nwip_limt = { column = \"a\", limit = 1 }",
        );
        assert!(strict.is_err());
    }
}
