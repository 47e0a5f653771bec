//! Who may call the HTTP API: the request's bearer token, checked for the document, the roles
//! that may read the audit trail, and a writer's JSON body. One file that the API's handlers
//! (`http_api.rs`, `http_history.rs`, `http_feed.rs`, `http_restore.rs`) all import, so that
//! none imports another for it.

use axum::body::Body;
use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use cardsync_sync::room::Role;
use serde::de::DeserializeOwned;

use crate::auth::{Claims, unix_now, verify_claims};
use crate::http_error::ApiError;
use crate::rooms::Shared;
use crate::store::DocId;

/// The bearer token of the request.
pub(crate) fn bearer(headers: &HeaderMap) -> Result<&str, ApiError> {
    let value = headers.get(AUTHORIZATION).ok_or(ApiError::MissingToken)?;
    let value = value.to_str().map_err(|_| ApiError::MissingToken)?;
    let (scheme, token) = value.split_once(' ').ok_or(ApiError::MissingToken)?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(ApiError::MissingToken);
    }
    Ok(token.trim())
}

/// Checks the document id and the request's token for it; returns the token's claims.
pub(crate) fn authorize(
    shared: &Shared,
    doc: &str,
    headers: &HeaderMap,
) -> Result<(DocId, Claims), ApiError> {
    let doc = DocId::new(doc).map_err(|e| ApiError::BadDocId(e.to_string()))?;
    let token = bearer(headers)?;
    let claims =
        verify_claims(&shared.secret, token, doc.as_str(), unix_now()).map_err(ApiError::Auth)?;
    Ok((doc, claims))
}

/// Checks the token and that its role may read the audit trail (admin, service).
pub(crate) fn authorize_auditor(
    shared: &Shared,
    doc: &str,
    headers: &HeaderMap,
) -> Result<(DocId, Claims), ApiError> {
    let (doc, claims) = authorize(shared, doc, headers)?;
    match claims.role {
        Role::Admin | Role::Service => Ok((doc, claims)),
        role @ (Role::Editor | Role::Viewer) => Err(ApiError::NotAnAuditor(role)),
    }
}

/// Checks the token and that its role may write, then reads the body (at most the WebSocket
/// message limit) as JSON: a malformed body is `malformed_json`, a well-formed one of the wrong
/// shape `invalid_ops`. Nothing is written on any error.
pub(crate) async fn writer_request<T: DeserializeOwned>(
    shared: &Shared,
    doc: &str,
    headers: &HeaderMap,
    body: Body,
) -> Result<(DocId, Claims, T), ApiError> {
    let (doc, claims) = authorize(shared, doc, headers)?;
    if !claims.role.can_write() {
        return Err(ApiError::ViewerWrite);
    }
    let limit = shared.config.ws_message_limit();
    let bytes = axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| ApiError::BodyTooLarge { limit })?;
    let request = serde_json::from_slice(&bytes).map_err(|e| match e.classify() {
        serde_json::error::Category::Data => ApiError::InvalidOps(e.to_string()),
        _ => ApiError::MalformedJson(e.to_string()),
    })?;
    Ok((doc, claims, request))
}
