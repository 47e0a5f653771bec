//! The HTTP surface: the room WebSockets, the HTTP API under `/docs` (`http_api.rs`),
//! `/metrics` (Prometheus text) and `/metrics.json`, `/healthz`, and optionally static files at `/` (`static_dir`: the demo board, or an app's
//! build).
//!
//! Rooms live under `/rooms/{doc}` rather than at the root as in `y-websocket`'s own server,
//! so that `/metrics` can never collide with a document name. A stock `y-websocket` client
//! still works: give it `ws://host:port/rooms` as its server URL, and it appends
//! `/{room}` itself; its `params: { token }` arrive as `?token=`.
//!
//! A refused connection is refused *after* the upgrade, with a WebSocket close code and
//! reason, because a browser's WebSocket API shows nothing of an HTTP error response. Only a
//! malformed document id gets a plain 400: there is no room to speak for.

use std::sync::Arc;

use axum::Router;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{Extension, Path, Query, State};
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Json, Response};
use axum::routing::get;
use serde::Deserialize;

use crate::conn;
use crate::meter::Meter;
use crate::rooms::Shared;
use crate::store::DocId;

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    let files = shared.config.static_dir.clone();
    let router = Router::new()
        .route("/rooms/{doc}", get(room))
        .route("/ws", get(crate::mux::endpoint))
        .route("/metrics", get(metrics))
        .route("/metrics.json", get(metrics_json))
        .route("/healthz", get(|| async { "ok" }))
        .merge(crate::http_api::routes())
        .with_state(shared);
    match files {
        Some(dir) => router.fallback_service(tower_http::services::ServeDir::new(dir)),
        None => router,
    }
}

#[derive(Deserialize)]
struct RoomQuery {
    token: Option<String>,
}

async fn room(
    State(shared): State<Arc<Shared>>,
    Path(doc): Path<String>,
    Query(query): Query<RoomQuery>,
    Extension(meter): Extension<Meter>,
    upgrade: WebSocketUpgrade,
) -> Response {
    let doc = match DocId::new(&doc) {
        Ok(doc) => doc,
        Err(e) => return (StatusCode::BAD_REQUEST, e.to_string()).into_response(),
    };
    let limit = shared.config.ws_message_limit();
    let upgrade = upgrade.max_message_size(limit).max_frame_size(limit);
    match Arc::clone(&shared.connections).try_acquire_owned() {
        Ok(permit) => {
            let token = query.token;
            upgrade.on_upgrade(move |socket| conn::serve(shared, doc, token, socket, meter, permit))
        }
        Err(_) => {
            shared.metrics.refused();
            let max = shared.config.limits.max_connections;
            tracing::info!(max, "connection refused: connection limit");
            upgrade.on_upgrade(move |socket| conn::refuse(socket, max))
        }
    }
}

async fn metrics(State(shared): State<Arc<Shared>>) -> Response {
    let text = crate::metrics_text::render(&shared.metrics);
    let content_type = [(CONTENT_TYPE, crate::metrics_text::CONTENT_TYPE)];
    (content_type, text).into_response()
}

async fn metrics_json(State(shared): State<Arc<Shared>>) -> Json<crate::metrics::Snapshot> {
    Json(shared.metrics.snapshot())
}
