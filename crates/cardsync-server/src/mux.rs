//! The multiplexed endpoint, `/ws`: many rooms over one WebSocket (docs/design.md §6, *Many
//! rooms over one socket*; the framing is `cardsync_sync::protocol::mux`).
//!
//! **Why here and not in the rooms.** Each room of a multiplexed socket becomes a peer of its
//! document's room of its own, with its own send queue, exactly like a connection to
//! `/rooms/{doc}`: the room task cannot tell them apart, so every room of a socket has its own
//! hello, token, role, acks, rejections, frame limit, rate budget and rejection budget, and a
//! room's close (a refused token, a malformed message) drops that room only. This task adds
//! what a socket of many rooms needs and nothing else:
//!
//! - **routing**: a frame's room id picks the room; its message goes on as a slice of the
//!   socket layer's `Bytes` (no copy), charged to the budget for bytes in flight as on a
//!   connection of its own (`conn.rs`);
//! - **fair writing** (`mux/write.rs`, a task of its own so reading never waits behind a
//!   write): the rooms' send queues are served round-robin, one piece of at most 256 KiB per
//!   turn, so a large snapshot in one room does not hold up another room's acks;
//! - **errors per room**: a close from a room, an unknown room id, a join past the socket's
//!   cap (`limits.max_rooms_per_connection`) become an error frame for that room, with a
//!   stable code; the socket and its other rooms carry on.
//!
//! A room's first message must be a hello: a stock client has no multiplexed framing, so a
//! hello-less peer here is a bug, and requiring the hello keeps the room's pause of a stock
//! peer (which would stop reading the whole socket) out of this path. Reading stays one
//! stream: a frame for a room whose inbox is full waits, and so does the socket behind it
//! (backpressure), while writing goes on.

mod read;
mod write;

use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{Message as WsMessage, WebSocket, WebSocketUpgrade};
use axum::extract::{Extension, State};
use axum::response::Response;
use cardsync_sync::protocol::close_code;
use cardsync_sync::protocol::mux::MUX_OVERHEAD;
use futures_util::StreamExt as _;
use tokio::sync::{OwnedSemaphorePermit, mpsc};

use crate::budget::Charge;
use crate::conn::ConnGauge;
use crate::meter::Meter;
use crate::rooms::{Inbox, Shared};
use read::{Rooms, Route, Waiting};
use write::{Control, Notice};

/// How long to wait for the client's half of a closing handshake.
const CLOSE_GRACE: Duration = Duration::from_secs(2);

/// The largest WebSocket message `/ws` reads: a connection's limit plus the mux header.
fn message_limit(shared: &Shared) -> usize {
    shared
        .config
        .ws_message_limit()
        .saturating_add(MUX_OVERHEAD)
}

/// `GET /ws`: upgrades to a multiplexed socket, or refuses past `max_connections` (a
/// multiplexed socket counts as one connection, however many rooms it carries).
pub(crate) async fn endpoint(
    State(shared): State<Arc<Shared>>,
    Extension(meter): Extension<Meter>,
    upgrade: WebSocketUpgrade,
) -> Response {
    let limit = message_limit(&shared);
    let upgrade = upgrade.max_message_size(limit).max_frame_size(limit);
    match Arc::clone(&shared.connections).try_acquire_owned() {
        Ok(permit) => upgrade.on_upgrade(move |socket| serve(shared, socket, meter, permit)),
        Err(_) => {
            shared.metrics.refused();
            let max = shared.config.limits.max_connections;
            tracing::info!(max, "multiplexed connection refused: connection limit");
            upgrade.on_upgrade(move |socket| crate::conn::refuse(socket, max))
        }
    }
}

/// Serves one multiplexed socket until it closes: reads here, writes on a task of its own
/// (`write.rs`).
async fn serve(shared: Arc<Shared>, socket: WebSocket, meter: Meter, permit: OwnedSemaphorePermit) {
    let _permit = permit;
    shared.metrics.connection_opened();
    let _gauge = ConnGauge(Arc::clone(&shared));
    let (sink, mut stream) = socket.split();
    let (control, control_rx) = mpsc::channel(shared.config.limits.send_queue.max(1));
    let (notices_tx, mut notices) = mpsc::unbounded_channel();
    let writer = tokio::spawn(write::run(sink, control_rx, notices_tx));
    meter.activate(&shared.budget, message_limit(&shared));
    let mut rooms = Rooms::new(Arc::clone(&shared), control.clone());
    let idle = Duration::from_millis(shared.config.limits.idle_timeout_ms.max(1));
    let mut heard = tokio::time::Instant::now();
    let mut pinged = false;
    let mut waiting: Option<Waiting> = None;
    let mut paused: Option<tokio::time::Instant> = None;
    // The close this side starts, if any: (code, reason).
    let mut closing: Option<(u16, &str)> = None;
    loop {
        if rooms.overrun() {
            closing = Some((close_code::TRY_AGAIN_LATER, "too far behind; reconnect"));
            break;
        }
        let reading = waiting.is_none() && paused.is_none();
        let deadline = if pinged {
            heard + idle
        } else {
            heard + idle / 2
        };
        tokio::select! {
            () = tokio::time::sleep_until(deadline), if reading => {
                if pinged {
                    closing = Some((close_code::GOING_AWAY, "idle timeout"));
                    break;
                }
                pinged = true;
                let _ = control.try_send(Control::Ping);
            }
            admitted = admit(&shared, waiting.as_mut()), if waiting.is_some() => {
                let Some(w) = waiting.take() else { continue };
                match admitted {
                    Some((permit, charge)) => {
                        permit.send(Inbox::Frame { peer: w.peer, frame: w.frame, at: w.at, charge });
                    }
                    None => rooms.lost_task(w.room),
                }
            }
            () = sleep_until_some(paused), if paused.is_some() => {
                paused = None;
                (heard, pinged) = (tokio::time::Instant::now(), false);
            }
            notice = notices.recv() => match notice {
                Some(Notice::Lost { room, peer }) => rooms.lost(room, peer),
                Some(Notice::Pause(until)) => paused = Some(paused.map_or(until, |p| p.max(until))),
                // The writer stopped: a write failed.
                None => break,
            },
            incoming = stream.next(), if reading => match incoming {
                Some(Ok(WsMessage::Binary(bytes))) => {
                    (heard, pinged) = (tokio::time::Instant::now(), false);
                    let charge = meter
                        .settle(bytes.len())
                        .or_else(|| shared.budget.try_charge(bytes.len()));
                    if let Route::Wait(w) = rooms.route(&bytes, charge, heard) {
                        waiting = Some(w);
                    }

                }
                Some(Ok(WsMessage::Text(_))) => {
                    closing = Some((close_code::UNSUPPORTED_DATA, "binary frames only"));
                    break;
                }
                Some(Ok(WsMessage::Ping(payload) | WsMessage::Pong(payload))) => {
                    meter.settle(payload.len());
                    (heard, pinged) = (tokio::time::Instant::now(), false);
                }
                Some(Ok(WsMessage::Close(_))) | None => break,
                Some(Err(e)) => {
                    tracing::debug!(error = %e, "multiplexed socket error");
                    let reason = "message too big or not a valid WebSocket frame";
                    closing = Some((close_code::MESSAGE_TOO_BIG, reason));
                    break;
                }
            },
        }
    }
    rooms.leave_all();
    if let Some((code, reason)) = closing {
        let close = Control::Close {
            code,
            reason: reason.to_owned(),
        };
        let _ = tokio::time::timeout(CLOSE_GRACE, control.send(close)).await;
        // Wait briefly for the client's close, so it sees the code and reason, not a reset.
        let _ = tokio::time::timeout(CLOSE_GRACE, async {
            while let Some(Ok(message)) = stream.next().await {
                if matches!(message, WsMessage::Close(_)) {
                    break;
                }
            }
        })
        .await;
    }
    drop(control);
    drop(rooms);
    // A writer blocked on a client that reads nothing would hold the connection forever.
    let mut writer = writer;
    if tokio::time::timeout(CLOSE_GRACE, &mut writer)
        .await
        .is_err()
    {
        writer.abort();
    }
}

/// Gets a waiting message its charge (if it has none yet), then a slot in its room's inbox.
/// `None` if the room is gone.
async fn admit(
    shared: &Shared,
    waiting: Option<&mut Waiting>,
) -> Option<(mpsc::OwnedPermit<Inbox>, Charge)> {
    let w = waiting?;
    if w.charge.is_none() {
        w.charge = Some(shared.budget.charge(w.frame.len()).await);
    }
    let permit = w.inbox.clone().reserve_owned().await.ok()?;
    Some((permit, w.charge.take()?))
}

/// Sleeps until `until` (polled only while it is `Some`).
async fn sleep_until_some(until: Option<tokio::time::Instant>) {
    if let Some(until) = until {
        tokio::time::sleep_until(until).await;
    }
}
