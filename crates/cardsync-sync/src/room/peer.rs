//! One connection's standing in the room: admitted or not, with which role, and its budgets.
//!
//! A peer starts *waiting*: nothing about the document is sent to it until it is admitted,
//! by a `Hello` whose token the authenticator accepts, by a token the driver passed at
//! connect time, or (if the room allows it) as a hello-less stock client. Only admitted peers
//! receive broadcasts and presence.

use std::collections::HashSet;
use std::sync::Arc;

use super::auth::{Author, Role};
use super::bucket::TokenBucket;
use super::config::RoomConfig;
use crate::time::Instant;

/// Where a peer stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Stage {
    /// Connected, not yet admitted; closed at `deadline` if still silent.
    Waiting {
        /// When the hello timeout fires.
        deadline: Instant,
    },
    /// Admitted with a role.
    Admitted {
        /// What it may do.
        role: Role,
    },
}

/// A connected peer.
#[derive(Debug)]
pub(crate) struct Peer {
    /// Admission state.
    pub stage: Stage,
    /// Batches and stock updates it may still send.
    pub batches: TokenBucket,
    /// Rejections it may still cause before it is closed.
    pub rejections: TokenBucket,
    /// Awareness messages it may still send; past them, its presence is dropped.
    pub awareness: TokenBucket,
    /// Whether it said a cardsync `Hello`. A peer without one is a stock Yjs client, which
    /// cannot roll back or resend: its invalid updates are compensated instead of refused,
    /// and past its rate it is paused ([`RoomAction::Pause`](super::RoomAction::Pause))
    /// instead of refused `RateLimited`.
    pub hello: bool,
    /// Client ids with a batch refused as `RateLimited` on this connection: a later batch
    /// of theirs that misses clocks is refused the same way (see `batches.rs`).
    pub rate_limited: HashSet<u64>,
    /// The user id its token names, handed to validators with its role (`validator.rs`).
    pub subject: Option<Arc<str>>,
    /// The protocol version agreed in its welcome (0 without a hello): a version 1 client
    /// knows no `RejectedByValidator` and gets `Forbidden` instead (`settle.rs`).
    pub version: u32,
}

impl Peer {
    /// A peer that connected at `now`.
    pub fn new(config: &RoomConfig, now: Instant, stage: Stage) -> Self {
        Self {
            stage,
            batches: TokenBucket::new(config.batch_rate, now),
            rejections: TokenBucket::new(config.rejection_rate, now),
            awareness: TokenBucket::new(config.awareness_rate, now),
            rate_limited: HashSet::new(),
            hello: false,
            subject: None,
            version: 0,
        }
    }

    /// Who writes through this peer, once admitted.
    pub fn author(&self) -> Option<Author> {
        Some(Author {
            role: self.role()?,
            subject: self.subject.clone(),
        })
    }

    /// The role, once admitted.
    pub fn role(&self) -> Option<Role> {
        match self.stage {
            Stage::Admitted { role } => Some(role),
            Stage::Waiting { .. } => None,
        }
    }
}
