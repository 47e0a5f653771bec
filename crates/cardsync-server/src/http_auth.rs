//! Who may call the HTTP API: the request's bearer token, checked for the document, and the
//! roles that may read the audit trail. One file that the API's handlers (`http_api.rs`,
//! `http_history.rs`, `http_feed.rs`) all import, so that none imports another for it.

use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use cardsync_sync::room::Role;

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
