//! The one error type of the harness.
//!
//! Each variant is one way a peer or an input can fail, kept typed so a failing run says
//! whose library refused what. A benchmark that hits any of them is broken (the workloads only
//! issue valid operations), so the runner stops with the message rather than reporting a
//! figure for work that did not happen.

use thiserror::Error;

/// What stopped a workload.
#[derive(Debug, Error)]
pub enum BenchError {
    /// cardsync refused a write.
    #[error("cardsync write: {0}")]
    CardsyncWrite(#[from] cardsync_core::WriteError),
    /// cardsync could not decode an update or a state vector.
    #[error("cardsync decode: {0}")]
    CardsyncDecode(#[from] cardsync_core::DecodeError),
    /// cardsync could not open a document.
    #[error("cardsync open: {0}")]
    CardsyncOpen(#[from] cardsync_core::OpenError),
    /// The cardsync outbox refused to compact.
    #[error("cardsync outbox: {0}")]
    CardsyncOutbox(#[from] cardsync_sync::outbox::OutboxError),
    /// yrs could not decode an update or a state vector.
    #[error("yrs decode: {0}")]
    YrsDecode(#[from] yrs::encoding::read::Error),
    /// yrs refused to integrate an update.
    #[error("yrs update: {0}")]
    YrsUpdate(#[from] yrs::error::UpdateError),
    /// automerge refused an operation or an input.
    #[error("automerge: {0}")]
    Automerge(#[from] automerge::AutomergeError),
    /// loro refused an operation or an input.
    #[error("loro: {0}")]
    Loro(#[from] loro::LoroError),
    /// loro could not encode an export.
    #[error("loro export: {0}")]
    LoroEncode(#[from] loro::LoroEncodeError),
    /// A document did not hold what the workload put there (a modelling bug in an adapter).
    #[error("{peer}: {what}")]
    Missing {
        /// The peer.
        peer: &'static str,
        /// What was expected.
        what: String,
    },
    /// The editing trace could not be read.
    #[error("trace {path}: {source}")]
    TraceIo {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The editing trace is not the documented JSON.
    #[error("trace {path}: {source}")]
    TraceJson {
        /// The file.
        path: String,
        /// Why.
        source: serde_json::Error,
    },
}

/// The result of a harness step.
pub type Result<T, E = BenchError> = std::result::Result<T, E>;
