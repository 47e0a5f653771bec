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
//! - **fair writing** ([`slots`]): the rooms' send queues are served round-robin, one piece of
//!   at most 256 KiB per turn, so a large snapshot in one room does not hold up another
//!   room's acks;
//! - **errors per room**: a close from a room, an unknown room id, a join past the socket's
//!   cap (`limits.max_rooms_per_connection`) become an error frame for that room, with a
//!   stable code; the socket and its other rooms carry on.
//!
//! A room's first message must be a hello: a stock client has no multiplexed framing, so a
//! hello-less peer here is a bug, and requiring the hello keeps the room's pause of a stock
//! peer (which would stop reading the whole socket) out of this path. Reading stays one
//! stream: a frame for a room whose inbox is full waits, and so does the socket behind it
//! (backpressure), while writing goes on.

mod slots;

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::ws::{Message as WsMessage, WebSocket, WebSocketUpgrade};
use axum::extract::{Extension, State};
use axum::response::Response;
use cardsync_sync::protocol::close_code;
use cardsync_sync::protocol::mux::{self, MUX_OVERHEAD, MuxError, RoomId};
use futures_util::{SinkExt as _, StreamExt as _};
use tokio::sync::{OwnedSemaphorePermit, mpsc};

use crate::budget::Charge;
use crate::conn::{self, ConnGauge};
use crate::meter::Meter;
use crate::rooms::{Inbox, Shared};
use slots::{Ready, Route, Slots};

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
            upgrade.on_upgrade(move |socket| crate::http::refuse(socket, max))
        }
    }
}

/// A message read for a room and not yet in its room's inbox.
pub(crate) struct Waiting {
    room: RoomId,
    peer: cardsync_sync::room::PeerId,
    inbox: mpsc::Sender<Inbox>,
    frame: Bytes,
    at: tokio::time::Instant,
    charge: Option<Charge>,
}

/// Serves one multiplexed socket until it closes.
async fn serve(shared: Arc<Shared>, socket: WebSocket, meter: Meter, permit: OwnedSemaphorePermit) {
    let _permit = permit;
    shared.metrics.connection_opened();
    let _gauge = ConnGauge(Arc::clone(&shared));
    let (mut sink, mut stream) = socket.split();
    meter.activate(&shared.budget, message_limit(&shared));
    let mut slots = Slots::new(Arc::clone(&shared));
    let idle = Duration::from_millis(shared.config.limits.idle_timeout_ms.max(1));
    let mut heard = tokio::time::Instant::now();
    let mut pinged = false;
    let mut waiting: Option<Waiting> = None;
    let mut paused: Option<tokio::time::Instant> = None;
    loop {
        let reading = waiting.is_none() && paused.is_none();
        let deadline = if pinged {
            heard + idle
        } else {
            heard + idle / 2
        };
        tokio::select! {
            () = tokio::time::sleep_until(deadline), if reading => {
                if pinged {
                    conn::close(&mut sink, &mut stream, close_code::GOING_AWAY, "idle timeout").await;
                    break;
                }
                pinged = true;
                if sink.send(WsMessage::Ping(Vec::new().into())).await.is_err() {
                    break;
                }
            }
            admitted = admit(&shared, waiting.as_mut()), if waiting.is_some() => {
                let Some(w) = waiting.take() else { continue };
                match admitted {
                    Some((permit, charge)) => {
                        permit.send(Inbox::Frame { peer: w.peer, frame: w.frame, at: w.at, charge });
                    }
                    None => {
                        let error = slots.lost(w.room);
                        if write_error(&mut sink, w.room, &error).await.is_err() {
                            break;
                        }
                    }
                }
            }
            () = sleep_until_some(paused), if paused.is_some() => {
                paused = None;
                (heard, pinged) = (tokio::time::Instant::now(), false);
            }
            incoming = stream.next(), if reading => match incoming {
                Some(Ok(WsMessage::Binary(bytes))) => {
                    (heard, pinged) = (tokio::time::Instant::now(), false);
                    let charge = meter
                        .settle(bytes.len())
                        .or_else(|| shared.budget.try_charge(bytes.len()));
                    match slots.route(&bytes, charge, heard) {
                        Route::Done => {}
                        Route::Wait(w) => waiting = Some(w),
                        Route::Error(room, error) => {
                            if write_error(&mut sink, room, &error).await.is_err() {
                                break;
                            }
                        }
                    }
                }
                Some(Ok(WsMessage::Text(_))) => {
                    conn::close(&mut sink, &mut stream, close_code::UNSUPPORTED_DATA, "binary frames only").await;
                    break;
                }
                Some(Ok(WsMessage::Ping(payload) | WsMessage::Pong(payload))) => {
                    meter.settle(payload.len());
                    (heard, pinged) = (tokio::time::Instant::now(), false);
                }
                Some(Ok(WsMessage::Close(_))) | None => {
                    let _ = sink.close().await;
                    break;
                }
                Some(Err(e)) => {
                    tracing::debug!(error = %e, "multiplexed socket error");
                    let reason = "message too big or not a valid WebSocket frame";
                    conn::close(&mut sink, &mut stream, close_code::MESSAGE_TOO_BIG, reason).await;
                    break;
                }
            },
            ready = slots.ready() => match ready {
                Ready::Piece(frame) => {
                    if sink.send(WsMessage::Binary(frame.into())).await.is_err() {
                        break;
                    }
                }
                Ready::Error(room, error) => {
                    if write_error(&mut sink, room, &error).await.is_err() {
                        break;
                    }
                }
                Ready::Pause(until) => paused = Some(paused.map_or(until, |p| p.max(until))),
            },
        }
    }
    slots.leave_all();
}

/// Writes a room's error frame.
async fn write_error<S>(sink: &mut S, room: RoomId, error: &MuxError) -> Result<(), S::Error>
where
    S: futures_util::Sink<WsMessage> + Unpin,
{
    tracing::debug!(%room, code = error.code.as_str(), reason = %error.reason, "room error");
    sink.send(WsMessage::Binary(mux::error_frame(room, error).into()))
        .await
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
