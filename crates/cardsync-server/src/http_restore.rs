//! `POST /docs/{doc}/restore`: a card, or the whole document, back to its state at a past
//! sequence number, as a new forward batch (docs/design.md §10, "History and restore").
//!
//! The body is `{"seq": N, "card": "<id>"}` (`card` optional: without it every card goes
//! back). The handler reads the document from the store twice, as it was after entry `N` (the
//! snapshot and the log up to `N`) and as it is, turns the difference into typed ops
//! (`restore_ops.rs`) and submits them exactly as `POST /docs/{doc}/ops` does (`http_peer.rs`):
//! judged by the room like any client's batch (a restore that breaks a rule, a state machine's
//! transition for instance, is refused with its code), persisted before its answer, audited
//! with its ops, broadcast to the connected clients, and streamed by the change feed. The log
//! is never rewritten. Same roles as writing: a viewer is refused.
//!
//! A sequence number beyond the head is `400 invalid_seq`; one that compaction folded into
//! the snapshot (the log no longer holds the state after it) is `409 compacted`. The ops are
//! computed from the store's state at the request: a write landing in between is not undone.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Json;
use axum::routing::post;
use cardsync_core::{CardDoc, CardId, Op, Stamp};
use cardsync_sync::protocol::BatchId;
use serde::{Deserialize, Serialize};

use crate::http_auth::{bearer, writer_request};
use crate::http_error::ApiError;
use crate::http_peer::{self, Written};
use crate::restore_ops::restore_card;
use crate::rooms::Shared;
use crate::store::{DocId, SeqNo, now_ms};

/// The actor of a restore's stamp when the token names no subject and the body no actor.
const RESTORE_ACTOR: &str = "restore";

/// The restore route.
pub(crate) fn routes() -> Router<Arc<Shared>> {
    Router::new().route("/docs/{doc}/restore", post(restore))
}

/// `POST /docs/{doc}/restore`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RestoreRequest {
    /// The sequence number whose state to go back to.
    seq: SeqNo,
    /// Only this card (default: every card).
    #[serde(default)]
    card: Option<CardId>,
    /// The stamp's actor when the token names no subject.
    #[serde(default)]
    actor: Option<String>,
}

/// The answer.
#[derive(Debug, Serialize)]
struct RestoreAnswer {
    /// `acked` (durable and broadcast) or `unchanged` (already in that state; nothing sent).
    status: &'static str,
    /// The batch's id, when one was sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    batch: Option<BatchId>,
    /// How many ops the restore took.
    ops: usize,
}

async fn restore(
    State(shared): State<Arc<Shared>>,
    Path(doc): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<RestoreAnswer>, ApiError> {
    let (doc, claims, request): (_, _, RestoreRequest) =
        writer_request(&shared, &doc, &headers, body).await?;
    let (then, now) = states(&shared, &doc, request.seq).await?;
    let ops: Vec<Op> = match request.card {
        Some(id) => {
            let (old, current) = (then.card(id), now.card(id));
            if old.is_none() && current.is_none() {
                return Err(ApiError::UnknownCard(id.to_string()));
            }
            restore_card(id, old.as_ref(), current.as_ref())
        }
        None => {
            let (old, current) = (then.export().cards, now.export().cards);
            let ids: std::collections::BTreeSet<CardId> =
                old.keys().chain(current.keys()).copied().collect();
            ids.into_iter()
                .flat_map(|id| restore_card(id, old.get(&id), current.get(&id)))
                .collect()
        }
    };
    let count = ops.len();
    if ops.is_empty() {
        return Ok(Json(RestoreAnswer {
            status: "unchanged",
            batch: None,
            ops: 0,
        }));
    }
    let actor = claims
        .sub
        .or(request.actor)
        .unwrap_or_else(|| RESTORE_ACTOR.to_owned());
    let token = bearer(&headers)?.to_owned();
    let stamp = Stamp::new(now_ms(), actor);
    let answer = match http_peer::submit(&shared, &doc, token, stamp, ops).await? {
        Written::Acked(batch) => RestoreAnswer {
            status: "acked",
            batch: Some(batch),
            ops: count,
        },
        Written::Unchanged => RestoreAnswer {
            status: "unchanged",
            batch: None,
            ops: 0,
        },
    };
    Ok(Json(answer))
}

/// The document as it was after entry `seq`, and as it is.
async fn states(
    shared: &Arc<Shared>,
    doc: &DocId,
    seq: SeqNo,
) -> Result<(CardDoc, CardDoc), ApiError> {
    let (store, schema, id) = (
        Arc::clone(&shared.store),
        Arc::clone(&shared.schema),
        doc.clone(),
    );
    let read = tokio::task::spawn_blocking(move || {
        let stored = store
            .load(&id)
            .map_err(|e| ApiError::Storage(e.to_string()))?;
        if stored.updates.is_empty() {
            return Err(ApiError::UnknownDoc(id.as_str().to_owned()));
        }
        if seq > stored.head {
            return Err(ApiError::RestorePoint(format!(
                "sequence number {seq} is beyond the head {}",
                stored.head
            )));
        }
        // The updates are the snapshot (if any), then the log entries after it, up to head.
        let snapshot = stored.updates.len() - stored.log_len;
        let covered = stored.head - stored.log_len as SeqNo;
        if snapshot > 0 && seq < covered {
            return Err(ApiError::Compacted(format!(
                "the log up to {covered} was folded into a snapshot: sequence number {seq} \
                 can no longer be restored"
            )));
        }
        let upto = snapshot + usize::try_from(seq - covered).unwrap_or(usize::MAX);
        let replay = |updates: &[Vec<u8>]| -> Result<CardDoc, ApiError> {
            // Client id 0 never writes (the replicas only read).
            let mut replica = CardDoc::with_schema(Arc::clone(&schema), 0)
                .map_err(|e| ApiError::Storage(e.to_string()))?;
            for update in updates {
                replica
                    .apply_update_v1(update)
                    .map_err(|e| ApiError::Storage(e.to_string()))?;
            }
            Ok(replica)
        };
        Ok((replay(&stored.updates[..upto])?, replay(&stored.updates)?))
    })
    .await;
    read.map_err(|e| ApiError::Storage(e.to_string()))?
}
