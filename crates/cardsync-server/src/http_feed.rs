//! `GET /docs/{doc}/changes?since=SEQ`: the change feed, as Server-Sent Events (docs/design.md
//! §10, "Audit records, history and the change feed").
//!
//! Each accepted batch of the document is one `change` event, in sequence order, as it
//! commits: `id` is its sequence number, `data` a JSON object with `seq`, the author, time and
//! summary of its audit record (absent for an entry without one), its ops when it came as ops
//! over HTTP, and `update`, the v1 update the log holds, base64. Backends follow a document
//! without holding a WebSocket or polling.
//!
//! **Resumable, nothing missed or duplicated.** A reader names the last sequence number it
//! has, `since` (or `Last-Event-ID`, which an `EventSource` sends on reconnecting and which
//! wins), and gets every entry after it: first read from the store, then live. The handler
//! subscribes to the committed-changes channel (`changes.rs`) *before* it reads the store, so
//! an entry committed meanwhile is in one or the other, and the feed sends each sequence
//! number once, in order, skipping what it already sent and reading the store again when it
//! sees a gap (an entry another node appended, on a shared store, which the feed also checks
//! every `head_check_ms`). Since the store is the source, a server restart loses nothing: the
//! reader resumes from its last id.
//!
//! **A slow reader never delays an ack.** The channel never blocks the writer thread; a
//! reader that falls more than `[audit] feed_buffer` commits behind is cut off with an
//! `error` event, `{"code": "lagged", "resume_from": N}`, after which it reconnects from `N`
//! and catches up from the store. Memory is the channel's ring, whatever the readers do.
//! Entries folded into a snapshot by compaction are no longer in the log: their events come
//! from the audit trail, without `update`. At shutdown the stream ends; the reader resumes.
//!
//! Who may read it: as for the history (`http_history.rs`), `admin` and `service` tokens.

use std::collections::{BTreeMap, VecDeque};
use std::convert::Infallible;
use std::sync::Arc;

use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::get;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use futures_util::Stream;
use serde::{Deserialize, Serialize};
use tokio::sync::{broadcast, watch};

use crate::changes::Change;
use crate::http_auth::authorize_auditor;
use crate::http_error::ApiError;
use crate::rooms::Shared;
use crate::store::{Audit, DocId, SeqNo, StoreError};

/// Most entries read from the store at once; a reader further behind gets the rest in
/// further reads as it goes.
const READ_PAGE: usize = 1000;

/// The feed's route.
pub(crate) fn routes() -> Router<Arc<Shared>> {
    Router::new().route("/docs/{doc}/changes", get(changes))
}

/// The query string.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FeedParams {
    since: Option<SeqNo>,
}

/// The `data` of a `change` event.
#[derive(Debug, Serialize)]
struct ChangeEvent<'a> {
    /// The document.
    doc: &'a str,
    /// The entry's sequence number (also the event's id).
    seq: SeqNo,
    /// Its audit record's author, time, summary and ops, when it has one.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    audit: Option<&'a Audit>,
    /// The v1 update, base64 (absent for an entry compaction folded away).
    #[serde(skip_serializing_if = "Option::is_none")]
    update: Option<String>,
}

/// The `data` of an `error` event.
#[derive(Debug, Serialize)]
struct ErrorEvent {
    code: &'static str,
    message: String,
    /// The last sequence number sent: resume after it.
    resume_from: SeqNo,
}

/// What woke a reader waiting for the next change.
enum Wake {
    Live(Result<Arc<Change>, broadcast::error::RecvError>),
    Check,
    Stop,
}

/// One entry to send.
struct Pending {
    seq: SeqNo,
    update: Option<Vec<u8>>,
    audit: Option<Audit>,
}

async fn changes(
    State(shared): State<Arc<Shared>>,
    Path(doc): Path<String>,
    headers: HeaderMap,
    params: Result<Query<FeedParams>, QueryRejection>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let (doc, _) = authorize_auditor(&shared, &doc, &headers)?;
    let Query(params) = params.map_err(|e| ApiError::InvalidQuery(e.body_text()))?;
    let since = match headers.get("last-event-id") {
        Some(value) => value
            .to_str()
            .ok()
            .and_then(|v| v.trim().parse::<SeqNo>().ok())
            .ok_or_else(|| {
                ApiError::InvalidQuery("Last-Event-ID is not a sequence number".into())
            })?,
        None => params.since.unwrap_or(0),
    };
    // Subscribe before reading the store: a commit in between is in one or the other.
    let live = shared.persister.subscribe();
    let mut feed = Feed {
        shutdown: shared.shutdown.clone(),
        check: shared.store.is_shared().then(|| shared.head_check()),
        shared,
        doc,
        last: since,
        backlog: VecDeque::new(),
        live,
        done: false,
    };
    feed.read().await?;
    let stream = futures_util::stream::unfold(feed, |mut feed| async move {
        let event = feed.next().await?;
        Some((Ok(event), feed))
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}

/// One reader's place in the feed.
struct Feed {
    shared: Arc<Shared>,
    doc: DocId,
    /// The last sequence number sent (or the one the reader resumed from).
    last: SeqNo,
    /// Entries read from the store, to send before anything live.
    backlog: VecDeque<Pending>,
    live: broadcast::Receiver<Arc<Change>>,
    shutdown: watch::Receiver<bool>,
    /// How often to look in the store for other nodes' entries (shared stores only).
    check: Option<std::time::Duration>,
    done: bool,
}

impl Feed {
    /// Reads the entries after `last` from the store into the backlog: the log, with each
    /// entry's audit record, and the audit trail alone for entries compaction folded away.
    async fn read(&mut self) -> Result<(), ApiError> {
        let (store, doc, last) = (Arc::clone(&self.shared.store), self.doc.clone(), self.last);
        let read = tokio::task::spawn_blocking(move || -> Result<Vec<Pending>, StoreError> {
            let entries = match store.read_since(&doc, last) {
                Ok(entries) => entries,
                Err(StoreError::Compacted { floor, .. }) => store.read_since(&doc, floor)?,
                Err(e) => return Err(e),
            };
            let audits = store.read_accepted(&doc, last, READ_PAGE + entries.len())?;
            let mut merged: BTreeMap<SeqNo, Pending> = audits
                .into_iter()
                .filter_map(|r| {
                    let seq = r.seq?;
                    let audit = Some(r.audit);
                    Some((
                        seq,
                        Pending {
                            seq,
                            update: None,
                            audit,
                        },
                    ))
                })
                .collect();
            for entry in entries {
                merged
                    .entry(entry.seq)
                    .or_insert(Pending {
                        seq: entry.seq,
                        update: None,
                        audit: None,
                    })
                    .update = Some(entry.update);
            }
            Ok(merged.into_values().take(READ_PAGE).collect())
        })
        .await
        .map_err(|e| ApiError::Storage(e.to_string()))?;
        match read {
            Ok(pending) => {
                self.backlog
                    .extend(pending.into_iter().filter(|p| p.seq > self.last));
                Ok(())
            }
            Err(e @ StoreError::AheadOfHead { .. }) => Err(ApiError::InvalidSince(e.to_string())),
            Err(e) => Err(ApiError::Storage(e.to_string())),
        }
    }

    /// The next event, or `None` when the stream ends.
    async fn next(&mut self) -> Option<Event> {
        loop {
            if self.done {
                return None;
            }
            if let Some(pending) = self.backlog.pop_front() {
                if pending.seq <= self.last {
                    continue;
                }
                self.last = pending.seq;
                // A full page read: there may be more behind it.
                if self.backlog.is_empty() && self.read().await.is_err() {
                    self.done = true;
                }
                return Some(self.event(
                    pending.seq,
                    pending.update.as_deref(),
                    pending.audit.as_ref(),
                ));
            }
            let check = self.check;
            let woke = tokio::select! {
                change = self.live.recv() => Wake::Live(change),
                () = sleep_for(check), if check.is_some() => Wake::Check,
                _ = self.shutdown.wait_for(|stop| *stop) => Wake::Stop,
            };
            match woke {
                Wake::Live(Ok(change)) if change.doc == self.doc && change.seq > self.last => {
                    if change.seq == self.last + 1 {
                        self.last = change.seq;
                        let (update, audit) =
                            (Some(change.update.as_slice()), change.audit.as_deref());
                        return Some(self.event(change.seq, update, audit));
                    }
                    // A gap: entries another node appended. The store has them.
                    if let Err(e) = self.read().await {
                        return Some(self.cut("unavailable", e.to_string()));
                    }
                }
                Wake::Live(Ok(_)) => {}
                Wake::Live(Err(broadcast::error::RecvError::Lagged(missed))) => {
                    let message = format!(
                        "the reader fell {missed} commits behind; reconnect from resume_from"
                    );
                    return Some(self.cut("lagged", message));
                }
                Wake::Live(Err(broadcast::error::RecvError::Closed)) | Wake::Stop => return None,
                Wake::Check => {
                    if let Err(e) = self.read().await {
                        return Some(self.cut("unavailable", e.to_string()));
                    }
                }
            }
        }
    }

    fn event(&self, seq: SeqNo, update: Option<&[u8]>, audit: Option<&Audit>) -> Event {
        let data = ChangeEvent {
            doc: self.doc.as_str(),
            seq,
            audit,
            update: update.map(|u| STANDARD.encode(u)),
        };
        let event = Event::default().event("change").id(seq.to_string());
        event
            .json_data(&data)
            .unwrap_or_else(|e| Event::default().event("error").data(e.to_string()))
    }

    /// Ends the stream with an error event naming where to resume.
    fn cut(&mut self, code: &'static str, message: String) -> Event {
        self.done = true;
        let data = ErrorEvent {
            code,
            message,
            resume_from: self.last,
        };
        Event::default()
            .event("error")
            .json_data(&data)
            .unwrap_or_else(|e| Event::default().event("error").data(e.to_string()))
    }
}

async fn sleep_for(period: Option<std::time::Duration>) {
    if let Some(period) = period {
        tokio::time::sleep(period).await;
    }
}
