//! The HTTP API beside the WebSocket rooms (docs/design.md §10, "The HTTP API"), for backends
//! that read and write documents without holding a WebSocket: `GET /docs/{doc}`,
//! `GET /docs/{doc}/cards/{card}` and `POST /docs/{doc}/ops`, beside the audit trail
//! (`http_history.rs`) and the change feed (`http_feed.rs`). Described in
//! `docs/openapi.json`.
//!
//! Authorized by the same per-document tokens as the rooms, sent as
//! `Authorization: Bearer <token>`: any role reads, a viewer never writes (refused here, before
//! the room is involved), and a backend gets a `service` token. Reads come from the store,
//! which holds exactly what was acked (persist before ack), so a read after a write's answer
//! sees it, on any node. A write goes through the room as an in-process peer
//! (`http_peer.rs`), judged like any client's batch. Every failure is a JSON error with a
//! stable code (`http_error.rs`), and nothing is written on any of them.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Json;
use axum::routing::{get, post};
use cardsync_core::{CardDoc, CardId, DocExport, Op, Stamp};
use cardsync_sync::protocol::BatchId;
use serde::{Deserialize, Serialize};

use crate::http_auth::{authorize, bearer, writer_request};
use crate::http_error::ApiError;
use crate::http_peer::{self, Written};
use crate::rooms::Shared;
use crate::store::{DocId, SeqNo};

/// The actor a batch is stamped with when the request names none.
pub(crate) const DEFAULT_ACTOR: &str = "api";

/// The API's routes.
pub(crate) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/docs/{doc}", get(read_doc))
        .route("/docs/{doc}/cards/{card}", get(read_card))
        .route("/docs/{doc}/ops", post(write_ops))
        .merge(crate::http_history::routes())
        .merge(crate::http_feed::routes())
        .merge(crate::http_restore::routes())
}

/// `GET /docs/{doc}`: the document, typed by the schema.
#[derive(Debug, Serialize)]
struct DocBody {
    /// The document id.
    doc: String,
    /// The sequence number of the last log entry read.
    head: SeqNo,
    #[serde(flatten)]
    export: DocExport,
}

/// `POST /docs/{doc}/ops`: one batch of typed ops.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct OpsRequest {
    /// The ops, applied as one transaction: all or none.
    ops: Vec<Op>,
    /// Who the batch is by (its stamp's actor) when the token names no subject (`sub`, which
    /// wins); [`DEFAULT_ACTOR`] when absent.
    #[serde(default)]
    actor: Option<String>,
}

/// The answer to an accepted batch.
#[derive(Debug, Serialize)]
struct OpsAnswer {
    /// `acked` (durable and broadcast) or `unchanged` (the ops changed nothing; nothing sent).
    status: &'static str,
    /// The batch's id, when one was sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    batch: Option<BatchId>,
}

async fn read_doc(
    State(shared): State<Arc<Shared>>,
    Path(doc): Path<String>,
    headers: HeaderMap,
) -> Result<Json<DocBody>, ApiError> {
    let (doc, _) = authorize(&shared, &doc, &headers)?;
    let (head, replica) = load(&shared, &doc).await?;
    Ok(Json(DocBody {
        doc: doc.as_str().to_owned(),
        head,
        export: replica.export(),
    }))
}

async fn read_card(
    State(shared): State<Arc<Shared>>,
    Path((doc, card)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Json<cardsync_core::Card>, ApiError> {
    let (doc, _) = authorize(&shared, &doc, &headers)?;
    let id: CardId = card
        .parse()
        .map_err(|_| ApiError::BadCardId(card.clone()))?;
    let (_, replica) = load(&shared, &doc).await?;
    replica
        .card(id)
        .map(Json)
        .ok_or(ApiError::UnknownCard(card))
}

async fn write_ops(
    State(shared): State<Arc<Shared>>,
    Path(doc): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<OpsAnswer>, ApiError> {
    let (doc, claims, request): (_, _, OpsRequest) =
        writer_request(&shared, &doc, &headers, body).await?;
    if request.ops.is_empty() {
        return Err(ApiError::EmptyBatch);
    }
    let wall_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    // A token that names its user stamps the batch with it: a body cannot claim another
    // user's identity. Without a subject the body's actor (or the default) names it.
    let actor = claims
        .sub
        .or(request.actor)
        .unwrap_or_else(|| DEFAULT_ACTOR.to_owned());
    let stamp = Stamp::new(wall_ms, actor);
    let token = bearer(&headers)?.to_owned();
    let answer = match http_peer::submit(&shared, &doc, token, stamp, request.ops).await? {
        Written::Acked(batch) => OpsAnswer {
            status: "acked",
            batch: Some(batch),
        },
        Written::Unchanged => OpsAnswer {
            status: "unchanged",
            batch: None,
        },
    };
    Ok(Json(answer))
}

/// Reads the document from the store: what was acked, no more.
async fn load(shared: &Arc<Shared>, doc: &DocId) -> Result<(SeqNo, CardDoc), ApiError> {
    let (store, schema, id) = (
        Arc::clone(&shared.store),
        Arc::clone(&shared.schema),
        doc.clone(),
    );
    let loaded = tokio::task::spawn_blocking(move || {
        let stored = store
            .load(&id)
            .map_err(|e| ApiError::Storage(e.to_string()))?;
        if stored.updates.is_empty() {
            return Err(ApiError::UnknownDoc(id.as_str().to_owned()));
        }
        // Client id 0 never writes (the replica only reads).
        let mut replica =
            CardDoc::with_schema(schema, 0).map_err(|e| ApiError::Storage(e.to_string()))?;
        for update in &stored.updates {
            replica
                .apply_update_v1(update)
                .map_err(|e| ApiError::Storage(e.to_string()))?;
        }
        Ok((stored.head, replica))
    })
    .await;
    loaded.map_err(|e| ApiError::Storage(e.to_string()))?
}
