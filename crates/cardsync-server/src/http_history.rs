//! `GET /docs/{doc}/history`: a document's audit trail over the HTTP API (docs/design.md §10,
//! "Audit records, history and the change feed").
//!
//! **Who may read it.** The trail names who did what, rejections included, which is more than
//! a collaborator needs to see of the others: tokens of the roles `admin` and `service` (a
//! backend) read it; `editor` and `viewer` tokens get `403 forbidden`. The change feed
//! (`http_feed.rs`) has the same rule, because it carries the same authors.
//!
//! **The query.** `card` (a card id: only records whose summary names it), `since` and
//! `until` (milliseconds since the Unix epoch, the server's clock: `since <= at < until`),
//! `after` (the cursor: the `next` of the previous page) and `limit` (1 to 1000, default
//! 100). Records come oldest first; `next` is set when a page is full. A parameter that does
//! not parse, an unknown one, or a range that ends before it starts is `400 invalid_query`
//! (`invalid_card_id` for a card id), never a silently empty answer.

use std::sync::Arc;

use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Json;
use axum::routing::get;
use cardsync_core::CardId;
use serde::{Deserialize, Serialize};

use crate::http_auth::authorize_auditor;
use crate::http_error::ApiError;
use crate::rooms::Shared;
use crate::store::{AuditQuery, AuditRecord, MAX_AUDIT_PAGE};

/// The history route.
pub(crate) fn routes() -> Router<Arc<Shared>> {
    Router::new().route("/docs/{doc}/history", get(history))
}

/// The query string of `GET /docs/{doc}/history`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct HistoryParams {
    card: Option<String>,
    since: Option<u64>,
    until: Option<u64>,
    after: Option<u64>,
    limit: Option<usize>,
}

/// A page of the trail.
#[derive(Debug, Serialize)]
struct HistoryPage {
    /// The document id.
    doc: String,
    /// The records, oldest first.
    records: Vec<AuditRecord>,
    /// The cursor of the next page (pass it as `after`), when this one is full.
    next: Option<u64>,
}

fn query(params: HistoryParams) -> Result<AuditQuery, ApiError> {
    let card = match params.card {
        Some(card) => Some(
            card.parse::<CardId>()
                .map_err(|_| ApiError::BadCardId(card.clone()))?,
        ),
        None => None,
    };
    if let (Some(since), Some(until)) = (params.since, params.until)
        && until < since
    {
        return Err(ApiError::InvalidQuery(format!(
            "the range ends (until={until}) before it starts (since={since})"
        )));
    }
    let limit = params.limit.unwrap_or(AuditQuery::default().limit);
    if !(1..=MAX_AUDIT_PAGE).contains(&limit) {
        return Err(ApiError::InvalidQuery(format!(
            "limit must be between 1 and {MAX_AUDIT_PAGE}, not {limit}"
        )));
    }
    Ok(AuditQuery {
        card,
        since_ms: params.since,
        until_ms: params.until,
        after: params.after.unwrap_or(0),
        limit,
    })
}

async fn history(
    State(shared): State<Arc<Shared>>,
    Path(doc): Path<String>,
    headers: HeaderMap,
    params: Result<Query<HistoryParams>, QueryRejection>,
) -> Result<Json<HistoryPage>, ApiError> {
    let (doc, _) = authorize_auditor(&shared, &doc, &headers)?;
    let Query(params) = params.map_err(|e| ApiError::InvalidQuery(e.body_text()))?;
    let query = query(params)?;
    let (store, id, limit) = (Arc::clone(&shared.store), doc.clone(), query.limit);
    let records = tokio::task::spawn_blocking(move || store.read_audit(&id, &query))
        .await
        .map_err(|e| ApiError::Storage(e.to_string()))?
        .map_err(|e| ApiError::Storage(e.to_string()))?;
    let next = (records.len() == limit)
        .then(|| records.last().map(|r| r.id))
        .flatten();
    Ok(Json(HistoryPage {
        doc: doc.as_str().to_owned(),
        records,
        next,
    }))
}
