//! The writing half of a multiplexed socket: the rooms' send queues, served in turn.
//!
//! **Fairness.** Each room has its own send queue (the room task sees a peer like any other),
//! and the writer serves them round-robin, starting after the room served last, one piece per
//! turn: a message over 256 KiB goes out as fragments
//! ([`next_piece`](cardsync_sync::protocol::mux::next_piece)), so a 24 MB snapshot in one room
//! lets every other room send between two of its pieces.
//!
//! **Why a task of its own.** A write waits while the client's TCP window is full. Were
//! reading and writing one loop, a room's batch would wait unread behind that write, and its
//! ack behind the rest of the snapshot; with the writer apart, the reader goes on routing
//! frames (a batch is judged, persisted and its ack queued meanwhile), and the ack is the next
//! piece out once the window opens.
//!
//! A room whose queue fills (the socket drains too slowly) is dropped by its room task, as a
//! connection would be; the writer tells the client (`unavailable`) and the reader forgets the
//! room. The socket's other rooms stay.

use std::collections::BTreeMap;
use std::task::{Context, Poll};

use axum::body::Bytes;
use axum::extract::ws::{CloseFrame, Message as WsMessage};
use cardsync_sync::protocol::Message;
use cardsync_sync::protocol::close_code;
use cardsync_sync::protocol::mux::{self, MuxError, MuxErrorCode, RoomId};
use cardsync_sync::room::{PeerCloseReason, PeerId};
use futures_util::{Sink, SinkExt as _};
use tokio::sync::mpsc;

use crate::conn::Outgoing;

/// What the reader asks of the writer.
pub(crate) enum Control {
    /// A room joined: serve its send queue.
    Add {
        room: RoomId,
        peer: PeerId,
        out: mpsc::Receiver<Outgoing>,
    },
    /// The room was left (or dropped by the reader): stop serving it.
    Remove { room: RoomId },
    /// Write this error frame.
    Error { room: RoomId, error: MuxError },
    /// Ping the client (the idle timer).
    Ping,
    /// Send a close frame and stop.
    Close { code: u16, reason: String },
}

/// What the writer tells the reader.
pub(crate) enum Notice {
    /// The room task closed or dropped this room's peer; the error is written.
    Lost { room: RoomId, peer: PeerId },
    /// A room paused its peer: read nothing until then.
    Pause(tokio::time::Instant),
}

/// One room's sending side.
struct Slot {
    peer: PeerId,
    out: mpsc::Receiver<Outgoing>,
    /// A message going out in pieces, and the offset of its next piece.
    sending: Option<(Bytes, usize)>,
    /// The reason of an auth refusal the room sent, for the error frame after it.
    denied: Option<String>,
}

enum Ready {
    Piece(Vec<u8>),
    Lost(RoomId, PeerId, MuxError),
    Pause(tokio::time::Instant),
}

/// Writes until the reader says close, the reader is gone, or a write fails.
pub(crate) async fn run<S>(
    mut sink: S,
    mut control: mpsc::Receiver<Control>,
    notices: mpsc::UnboundedSender<Notice>,
) where
    S: Sink<WsMessage> + Unpin,
{
    let mut slots = Slots::default();
    loop {
        let message = tokio::select! {
            biased;
            control = control.recv() => match control {
                None => break,
                Some(Control::Add { room, peer, out }) => {
                    let slot = Slot { peer, out, sending: None, denied: None };
                    slots.rooms.insert(room, slot);
                    continue;
                }
                Some(Control::Remove { room }) => {
                    slots.rooms.remove(&room);
                    continue;
                }
                Some(Control::Error { room, error }) => error_message(room, &error),
                Some(Control::Ping) => WsMessage::Ping(Vec::new().into()),
                Some(Control::Close { code, reason }) => {
                    let frame = CloseFrame { code, reason: reason.into() };
                    let _ = sink.send(WsMessage::Close(Some(frame))).await;
                    break;
                }
            },
            ready = std::future::poll_fn(|cx| slots.poll_ready(cx)) => match ready {
                Ready::Piece(frame) => WsMessage::Binary(frame.into()),
                Ready::Lost(room, peer, error) => {
                    let _ = notices.send(Notice::Lost { room, peer });
                    error_message(room, &error)
                }
                Ready::Pause(until) => {
                    let _ = notices.send(Notice::Pause(until));
                    continue;
                }
            },
        };
        if sink.send(message).await.is_err() {
            break;
        }
    }
}

fn error_message(room: RoomId, error: &MuxError) -> WsMessage {
    tracing::debug!(%room, code = error.code.as_str(), reason = %error.reason, "room error");
    WsMessage::Binary(mux::error_frame(room, error).into())
}

/// The error frame for a room its room task closed with `code` and `reason` (the
/// [`PeerCloseReason`] strings, or the server's own closes).
fn closed(code: u16, reason: String, denied: Option<String>) -> MuxError {
    let is = |r: PeerCloseReason| reason == r.as_str();
    let kind = if is(PeerCloseReason::AuthDenied) {
        MuxErrorCode::BadToken
    } else if is(PeerCloseReason::FrameTooLarge) {
        MuxErrorCode::TooLarge
    } else if is(PeerCloseReason::Malformed) {
        MuxErrorCode::Malformed
    } else if is(PeerCloseReason::HelloTimeout) {
        MuxErrorCode::HelloTimeout
    } else if is(PeerCloseReason::TooManyRejections) {
        MuxErrorCode::TooManyRejections
    } else {
        MuxErrorCode::Unavailable
    };
    let reason = match (kind, denied) {
        (MuxErrorCode::BadToken, Some(denied)) => denied,
        _ => reason,
    };
    MuxError {
        code: kind,
        close_code: code,
        reason,
    }
}

#[derive(Default)]
struct Slots {
    rooms: BTreeMap<RoomId, Slot>,
    /// The room id from which the next turn starts.
    cursor: u64,
}

impl Slots {
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Ready> {
        let order: Vec<RoomId> = self
            .rooms
            .range(RoomId(self.cursor)..)
            .chain(self.rooms.range(..RoomId(self.cursor)))
            .map(|(room, _)| *room)
            .collect();
        for room in order {
            let Some(slot) = self.rooms.get_mut(&room) else {
                continue;
            };
            if let Some((message, offset)) = slot.sending.take() {
                self.cursor = room.0 + 1;
                return Poll::Ready(Ready::Piece(piece(slot, room, message, offset)));
            }
            let Poll::Ready(outgoing) = slot.out.poll_recv(cx) else {
                continue;
            };
            self.cursor = room.0 + 1;
            let peer = slot.peer;
            return Poll::Ready(match outgoing {
                Some(Outgoing::Frame(frame)) => {
                    note_denial(slot, &frame);
                    Ready::Piece(piece(slot, room, frame, 0))
                }
                Some(Outgoing::Close { code, reason }) => {
                    let denied = slot.denied.take();
                    self.rooms.remove(&room);
                    Ready::Lost(room, peer, closed(code, reason, denied))
                }
                Some(Outgoing::Pause(until)) => Ready::Pause(until),
                None => {
                    self.rooms.remove(&room);
                    let error = MuxError {
                        code: MuxErrorCode::Unavailable,
                        close_code: close_code::TRY_AGAIN_LATER,
                        reason: "too far behind; join again".into(),
                    };
                    Ready::Lost(room, peer, error)
                }
            });
        }
        Poll::Pending
    }
}

/// Remembers the reason of an auth refusal (a small frame of its own type), so the room's
/// error frame can say "token expired" rather than only "auth_denied".
fn note_denial(slot: &mut Slot, frame: &[u8]) {
    const MSG_AUTH: u8 = 2;
    if frame.first() == Some(&MSG_AUTH)
        && let Ok(Message::AuthDenied { reason }) = Message::decode(frame, usize::MAX)
    {
        slot.denied = Some(reason);
    }
}

/// The next piece of `message` for `room` from `offset`; keeps the rest on the slot.
fn piece(slot: &mut Slot, room: RoomId, message: Bytes, offset: usize) -> Vec<u8> {
    let (frame, next) = mux::next_piece(room, &message, offset);
    if next < message.len() {
        slot.sending = Some((message, next));
    }
    frame
}
