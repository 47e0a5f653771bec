//! The HTTP API's errors: one typed enum, each variant with a stable code and an HTTP status,
//! answered as JSON `{"code": "...", "message": "..."}`.
//!
//! A backend calling the API branches on `code`, never on the message (which is for people and
//! may change). Codes are the ones used everywhere else where the same thing went wrong: a
//! batch the room refused carries its reject code (`forbidden`, `schema_violation`, ...), an op
//! the core refuses before anything is sent carries the core's write code (`unknown_card`,
//! `out_of_range`, ...), a refused token says why as the WebSocket hello would (`invalid_token`,
//! `token_expired`, `no_access`). Only the HTTP-specific failures have codes of their own
//! (`missing_token`, `malformed_json`, `invalid_ops`, `body_too_large`, ...).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Json, Response};
use cardsync_core::WriteError;
use cardsync_sync::protocol::RejectCode;
use cardsync_sync::room::AuthError;
use serde::Serialize;
use thiserror::Error;

/// Why an API request failed. Nothing is written on any of them.
#[derive(Debug, Error)]
pub(crate) enum ApiError {
    /// No `Authorization: Bearer …` header.
    #[error("an `Authorization: Bearer <token>` header is required")]
    MissingToken,
    /// The token was refused.
    #[error("{0}")]
    Auth(AuthError),
    /// A viewer token on a write.
    #[error("a viewer token cannot write")]
    ViewerWrite,
    /// A role that may not read the audit trail (history, change feed).
    #[error("a {0} token cannot read the audit trail; admin and service tokens can")]
    NotAnAuditor(cardsync_sync::room::Role),
    /// The query string does not parse, names an unknown parameter, or asks for an empty
    /// range.
    #[error("invalid query: {0}")]
    InvalidQuery(String),
    /// The change feed cannot resume from that sequence number (beyond the head).
    #[error("{0}")]
    InvalidSince(String),
    /// A restore to a sequence number beyond the head.
    #[error("{0}")]
    RestorePoint(String),
    /// A restore to a state that compaction folded into the snapshot.
    #[error("{0}")]
    Compacted(String),
    /// The document id is not a valid one.
    #[error("{0}")]
    BadDocId(String),
    /// The card id is not a valid one.
    #[error("invalid card id: {0}")]
    BadCardId(String),
    /// The document has never been written.
    #[error("no document {0}")]
    UnknownDoc(String),
    /// The document has no such card.
    #[error("no card {0} in this document")]
    UnknownCard(String),
    /// The body is larger than the limit.
    #[error("the body exceeds {limit} bytes")]
    BodyTooLarge {
        /// The limit.
        limit: usize,
    },
    /// The body is not JSON.
    #[error("the body is not valid JSON: {0}")]
    MalformedJson(String),
    /// The body is JSON but not a batch of known ops.
    #[error("the body is not a batch of ops: {0}")]
    InvalidOps(String),
    /// The batch has no op.
    #[error("a batch needs at least one op")]
    EmptyBatch,
    /// The core refused an op before anything was sent (the batch never reached the room).
    #[error("{0}")]
    Write(WriteError),
    /// The room refused the batch.
    #[error("{reason}")]
    Rejected {
        /// The stable reject code.
        code: RejectCode,
        /// The room's reason.
        reason: String,
    },
    /// The room could not be reached or went away before its verdict (shutdown, a store
    /// failure, the room or connection limit): try again.
    #[error("{0}")]
    Unavailable(String),
    /// No verdict within the deadline.
    #[error("no verdict within {0} ms")]
    Timeout(u64),
    /// The store could not be read.
    #[error("storage error: {0}")]
    Storage(String),
}

/// The JSON body of every error.
#[derive(Debug, Serialize)]
pub(crate) struct ErrorBody {
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::MissingToken => "missing_token",
            ApiError::Auth(AuthError::InvalidToken) => "invalid_token",
            ApiError::Auth(AuthError::Expired) => "token_expired",
            ApiError::Auth(AuthError::NoAccess) => "no_access",
            ApiError::Auth(AuthError::Unavailable) => "auth_unavailable",
            ApiError::ViewerWrite | ApiError::NotAnAuditor(_) => "forbidden",
            ApiError::InvalidQuery(_) => "invalid_query",
            ApiError::InvalidSince(_) => "invalid_since",
            ApiError::RestorePoint(_) => "invalid_seq",
            ApiError::Compacted(_) => "compacted",
            ApiError::BadDocId(_) => "invalid_doc_id",
            ApiError::BadCardId(_) => "invalid_card_id",
            ApiError::UnknownDoc(_) => "unknown_doc",
            ApiError::UnknownCard(_) => "unknown_card",
            ApiError::BodyTooLarge { .. } => "body_too_large",
            ApiError::MalformedJson(_) => "malformed_json",
            ApiError::InvalidOps(_) => "invalid_ops",
            ApiError::EmptyBatch => "empty_batch",
            ApiError::Write(e) => e.code(),
            ApiError::Rejected { code, .. } => code.as_str(),
            ApiError::Unavailable(_) => "unavailable",
            ApiError::Timeout(_) => "timeout",
            ApiError::Storage(_) => "storage_error",
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::MissingToken
            | ApiError::Auth(AuthError::InvalidToken | AuthError::Expired) => {
                StatusCode::UNAUTHORIZED
            }
            ApiError::Auth(AuthError::NoAccess)
            | ApiError::ViewerWrite
            | ApiError::NotAnAuditor(_) => StatusCode::FORBIDDEN,
            ApiError::Auth(AuthError::Unavailable) | ApiError::Unavailable(_) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            ApiError::BadDocId(_)
            | ApiError::BadCardId(_)
            | ApiError::InvalidQuery(_)
            | ApiError::InvalidSince(_)
            | ApiError::RestorePoint(_)
            | ApiError::MalformedJson(_)
            | ApiError::InvalidOps(_)
            | ApiError::EmptyBatch => StatusCode::BAD_REQUEST,
            ApiError::UnknownDoc(_) | ApiError::UnknownCard(_) => StatusCode::NOT_FOUND,
            ApiError::Compacted(_) => StatusCode::CONFLICT,
            ApiError::BodyTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Write(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Rejected { code, .. } => match code {
                RejectCode::Forbidden => StatusCode::FORBIDDEN,
                RejectCode::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
                RejectCode::RateLimited => StatusCode::TOO_MANY_REQUESTS,
                RejectCode::Malformed => StatusCode::BAD_REQUEST,
                RejectCode::DependsOnRejected => StatusCode::CONFLICT,
                RejectCode::SchemaViolation
                | RejectCode::InvalidTransition
                | RejectCode::RejectedByValidator => StatusCode::UNPROCESSABLE_ENTITY,
            },
            ApiError::Timeout(_) => StatusCode::GATEWAY_TIMEOUT,
            ApiError::Storage(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            code: self.code(),
            message: self.to_string(),
        };
        (self.status(), Json(body)).into_response()
    }
}
