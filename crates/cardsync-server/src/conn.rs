//! One WebSocket connection: frames in to the room's inbox, frames out from its send queue.
//!
//! The connection task knows nothing of the protocol. It forwards binary frames to the room
//! (waiting when the room's inbox is full: backpressure reaches the client's TCP window
//! instead of the server's memory) and writes what the room queues for it. While a frame
//! waits for the inbox, the task goes on writing: the room answers every batch with an ack,
//! so a fast sender whose acks were not drained would fill its own send queue and be cut as
//! "too far behind" although it reads everything it is sent. Before a frame goes to the room it
//! takes its charge of the process-wide budget for bytes in flight (`budget.rs`), waiting the
//! same way when the budget is spent; the frame travels as the socket layer's `Bytes`,
//! uncopied. The room may also pause a
//! connection ([`Outgoing::Pause`]): a stock client past its batch rate cannot resend what a
//! room refused, so instead of refusing, the room has its socket left unread until its token
//! bucket refills, and backpressure again reaches the client's TCP window. Closing is always
//! explicit and explained: every close this server initiates carries a code and a reason
//! (see [`Outgoing::Close`]), so a client can tell "your token expired" from "server busy".
//!
//! A connection from which nothing arrives for `limits.idle_timeout_ms` is closed
//! ([`GOING_AWAY`](close_code::GOING_AWAY), "idle timeout"): otherwise a dead peer whose TCP connection never reported it (a laptop
//! closed mid-session, a dropped NAT mapping), or a client that connects and goes silent,
//! holds a connection slot for good. Halfway there the server sends a WebSocket ping, which
//! every live WebSocket implementation answers by itself, so a quiet but live client stays.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::ws::{CloseFrame, Message as WsMessage, WebSocket};
use cardsync_sync::protocol::close_code;
use futures_util::{SinkExt as _, StreamExt as _};
use tokio::sync::mpsc::error::TrySendError;
use tokio::sync::{OwnedSemaphorePermit, mpsc};

use crate::budget::Charge;
use crate::meter::Meter;
use crate::rooms::{self, Inbox, Shared};
use crate::store::DocId;

/// How long to wait for the client's half of a closing handshake.
const CLOSE_GRACE: Duration = Duration::from_secs(2);

/// What a room (or the server) queues for a connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Outgoing {
    /// A binary frame (a broadcast's recipients share one buffer).
    Frame(Bytes),
    /// Close with this code (RFC 6455 §7.4) and reason; nothing is sent after it.
    Close { code: u16, reason: String },
    /// Read no frame from the socket before this instant (the room's `RoomAction::Pause`:
    /// a stock client past its rate). Writing goes on.
    Pause(tokio::time::Instant),
}

impl Outgoing {
    pub fn close(code: u16, reason: &str) -> Self {
        Outgoing::Close {
            code,
            reason: reason.to_owned(),
        }
    }
}

/// Decrements the connection gauge however the task ends.
pub(crate) struct ConnGauge(pub(crate) Arc<Shared>);

impl Drop for ConnGauge {
    fn drop(&mut self) {
        self.0.metrics.connection_closed();
    }
}

/// Serves one upgraded socket until it closes. `permit` is its connection slot.
pub(crate) async fn serve(
    shared: Arc<Shared>,
    doc: DocId,
    token: Option<String>,
    socket: WebSocket,
    meter: Meter,
    permit: OwnedSemaphorePermit,
) {
    let _permit = permit;
    shared.metrics.connection_opened();
    let _gauge = ConnGauge(Arc::clone(&shared));
    let peer = shared.next_peer();
    let (out_tx, mut out_rx) = mpsc::channel(shared.config.limits.send_queue.max(1));
    let (mut sink, mut stream) = socket.split();
    let inbox = match rooms::join(&shared, &doc, peer, token, out_tx) {
        Ok(inbox) => inbox,
        Err(refusal) => {
            shared.metrics.refused();
            tracing::info!(%doc, ?refusal, "connection refused");
            let Outgoing::Close { code, reason } = refusal.close() else {
                return;
            };
            close(&mut sink, &mut stream, code, &reason).await;
            return;
        }
    };
    tracing::debug!(%doc, %peer, "connected");
    meter.activate(&shared.budget, shared.config.ws_message_limit());
    let idle = Duration::from_millis(shared.config.limits.idle_timeout_ms.max(1));
    let mut heard = tokio::time::Instant::now();
    let mut pinged = false;
    // A frame read from the socket that waits for its charge of the budget for bytes in
    // flight, then for room in the inbox; no more is read meanwhile.
    let mut waiting: Option<Waiting> = None;
    // The room paused this peer until then (backpressure on a stock client past its rate).
    let mut paused: Option<tokio::time::Instant> = None;
    // Whether the room was already told this peer is gone.
    let mut told = false;
    loop {
        let reading = waiting.is_none() && paused.is_none();
        // Ping halfway through the silence, close at its end.
        let deadline = if pinged {
            heard + idle
        } else {
            heard + idle / 2
        };
        tokio::select! {
            // Silence is only the client's while its frames are being read.
            () = tokio::time::sleep_until(deadline), if reading => {
                if pinged {
                    tracing::debug!(%doc, %peer, "idle timeout");
                    // The room forgets the peer (and the others see its presence go) now, not
                    // after a close handshake a dead peer never answers (docs/design.md §6).
                    let _ = inbox.send(Inbox::Disconnect { peer }).await;
                    told = true;
                    close(&mut sink, &mut stream, close_code::GOING_AWAY, "idle timeout").await;
                    break;
                }
                pinged = true;
                if sink.send(WsMessage::Ping(Vec::new().into())).await.is_err() {
                    break;
                }
            }
            admitted = admit(&shared, &inbox, waiting.as_mut()), if waiting.is_some() => {
                let (Some((permit, charge)), Some(w)) = (admitted, waiting.take()) else {
                    close(&mut sink, &mut stream, close_code::INTERNAL_ERROR, "room unavailable; reconnect").await;
                    break;
                };
                permit.send(Inbox::Frame { peer, frame: w.frame, at: w.at, charge });
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
                    let slot = match &charge {
                        Some(_) => inbox.try_reserve(),
                        None => Err(TrySendError::Full(())),
                    };
                    match (slot, charge) {
                        (Ok(permit), Some(charge)) => {
                            permit.send(Inbox::Frame { peer, frame: bytes, at: heard, charge });
                        }
                        (Ok(_) | Err(TrySendError::Full(())), charge) => {
                            waiting = Some(Waiting { frame: bytes, at: heard, charge });
                        }
                        (Err(TrySendError::Closed(())), _) => {
                            close(&mut sink, &mut stream, close_code::INTERNAL_ERROR, "room unavailable; reconnect").await;
                            break;
                        }
                    }
                }
                Some(Ok(WsMessage::Text(_))) => {
                    close(&mut sink, &mut stream, close_code::UNSUPPORTED_DATA, "binary frames only").await;
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
                    // Typically a message over the socket layer's limit, or a protocol error.
                    tracing::debug!(%doc, %peer, error = %e, "socket error");
                    let reason = "message too big or not a valid WebSocket frame";
                    close(&mut sink, &mut stream, close_code::MESSAGE_TOO_BIG, reason).await;
                    break;
                }
            },
            outgoing = out_rx.recv() => match outgoing {
                Some(Outgoing::Frame(frame)) => {
                    if sink.feed(WsMessage::Binary(frame)).await.is_err() {
                        break;
                    }
                    if out_rx.is_empty() && sink.flush().await.is_err() {
                        break;
                    }
                }
                Some(Outgoing::Close { code, reason }) => {
                    close(&mut sink, &mut stream, code, &reason).await;
                    break;
                }
                Some(Outgoing::Pause(until)) => {
                    paused = Some(paused.map_or(until, |p| p.max(until)));
                }
                None => {
                    // The room dropped this connection: it stopped reading its frames.
                    close(&mut sink, &mut stream, close_code::TRY_AGAIN_LATER, "too far behind; reconnect").await;
                    break;
                }
            },
        }
    }
    if !told {
        let _ = inbox.send(Inbox::Disconnect { peer }).await;
    }
    tracing::debug!(%doc, %peer, "disconnected");
}

/// A frame read from the socket and not yet in its room's inbox.
struct Waiting {
    frame: Bytes,
    at: tokio::time::Instant,
    /// Its share of the budget for bytes in flight, once it has it.
    charge: Option<Charge>,
}

/// Gets a waiting frame its charge (if it has none yet), then a slot in the inbox. Cancelled
/// when the connection has something to write, and resumed after: a charge once taken stays
/// with the frame until both are there. `None` if the room is gone.
async fn admit<'a>(
    shared: &Shared,
    inbox: &'a mpsc::Sender<Inbox>,
    waiting: Option<&mut Waiting>,
) -> Option<(mpsc::Permit<'a, Inbox>, Charge)> {
    let w = waiting?;
    if w.charge.is_none() {
        w.charge = Some(shared.budget.charge(w.frame.len()).await);
    }
    let permit = inbox.reserve().await.ok()?;
    Some((permit, w.charge.take()?))
}

/// Sleeps until `until` (the caller only polls this while it is `Some`).
async fn sleep_until_some(until: Option<tokio::time::Instant>) {
    if let Some(until) = until {
        tokio::time::sleep_until(until).await;
    }
}

/// Sends a close frame, then waits briefly for the client's close so the handshake ends
/// cleanly (the client sees the code and reason, not a reset).
pub(crate) async fn close<S, R>(sink: &mut S, stream: &mut R, code: u16, reason: &str)
where
    S: futures_util::Sink<WsMessage> + Unpin,
    R: futures_util::Stream<Item = Result<WsMessage, axum::Error>> + Unpin,
{
    let frame = CloseFrame {
        code,
        reason: reason.into(),
    };
    if sink.send(WsMessage::Close(Some(frame))).await.is_err() {
        return;
    }
    let _ = tokio::time::timeout(CLOSE_GRACE, async {
        while let Some(Ok(message)) = stream.next().await {
            if matches!(message, WsMessage::Close(_)) {
                break;
            }
        }
    })
    .await;
}

/// Refuses an upgraded socket at the connection limit, with a close code and reason.
pub(crate) async fn refuse(socket: WebSocket, max: usize) {
    let (mut sink, mut stream) = socket.split();
    let reason = format!("server at its connection limit ({max}); retry later");
    close(&mut sink, &mut stream, close_code::TRY_AGAIN_LATER, &reason).await;
}
