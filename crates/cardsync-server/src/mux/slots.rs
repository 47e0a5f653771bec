//! The rooms of one multiplexed socket: joining and leaving, routing a frame to its room, and
//! the fair round-robin over the rooms' send queues.
//!
//! **Fairness.** Each room has its own send queue (the room task sees a peer like any
//! other), and [`Slots::ready`] serves them in turn, starting after the room served last, one
//! piece per turn: a message over 256 KiB goes out as fragments
//! ([`next_piece`](cardsync_sync::protocol::mux::next_piece)), so a 20 MB snapshot in one
//! room lets every other room send between two of its pieces. A room whose queue fills
//! (the socket reads too slowly) is dropped by its room task, as a connection would be, and
//! the client is told (`unavailable`); its other rooms stay.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::Bytes;
use cardsync_sync::protocol::mux::{self, MuxError, MuxErrorCode, MuxFrame, RoomId};
use cardsync_sync::protocol::{Message, close_code};
use cardsync_sync::room::{PeerCloseReason, PeerId};
use tokio::sync::mpsc;
use tokio::sync::mpsc::error::TrySendError;

use super::Waiting;
use crate::budget::Charge;
use crate::conn::Outgoing;
use crate::rooms::{self, Inbox, Shared};
use crate::store::DocId;

/// One joined room.
struct Slot {
    peer: PeerId,
    inbox: mpsc::Sender<Inbox>,
    out: mpsc::Receiver<Outgoing>,
    /// A message going out in pieces, and the offset of its next piece.
    sending: Option<(Vec<u8>, usize)>,
    /// Whether the room's hello went through (the first message must be one).
    greeted: bool,
    /// The reason of an auth refusal the room sent, for the error frame after it.
    denied: Option<String>,
}

/// What the socket should write next.
pub(crate) enum Ready {
    /// A frame (a message or a piece of one).
    Piece(Vec<u8>),
    /// A room is gone; tell the client.
    Error(RoomId, MuxError),
    /// A room paused its peer: read nothing until then.
    Pause(tokio::time::Instant),
}

/// What became of a frame read from the socket.
pub(crate) enum Route {
    /// Handled (queued to its room, or a join or leave done).
    Done,
    /// Its room's inbox is full (or the budget spent): wait, reading nothing more.
    Wait(Waiting),
    /// Refused: write this error for this room.
    Error(RoomId, MuxError),
}

fn error(code: MuxErrorCode, close_code: u16, reason: impl Into<String>) -> MuxError {
    MuxError {
        code,
        close_code,
        reason: reason.into(),
    }
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
    error(kind, code, reason)
}

/// The rooms of one socket, by the client's room id.
pub(crate) struct Slots {
    shared: Arc<Shared>,
    rooms: BTreeMap<RoomId, Slot>,
    /// The room id from which the next turn starts.
    cursor: RoomId,
}

impl Slots {
    pub fn new(shared: Arc<Shared>) -> Self {
        Self {
            shared,
            rooms: BTreeMap::new(),
            cursor: RoomId(0),
        }
    }

    /// Routes one frame read from the socket.
    pub fn route(
        &mut self,
        bytes: &Bytes,
        charge: Option<Charge>,
        at: tokio::time::Instant,
    ) -> Route {
        let frame = match MuxFrame::decode(bytes, usize::MAX) {
            Ok(frame) => frame,
            Err(e) => {
                let room = mux::peek_room(bytes).unwrap_or(RoomId::SOCKET);
                self.leave(room);
                let e = error(
                    MuxErrorCode::Malformed,
                    close_code::PROTOCOL_ERROR,
                    e.to_string(),
                );
                return Route::Error(room, e);
            }
        };
        match frame {
            MuxFrame::Message { room, body } => self.message(room, body, charge, at),
            MuxFrame::Join { room, doc } => self.join(room, &doc),
            MuxFrame::Leave { room } => {
                if self.leave(room) {
                    Route::Done
                } else {
                    Route::Error(room, unknown(room))
                }
            }
            MuxFrame::Fragment { room, .. } | MuxFrame::Error { room, .. } => {
                self.leave(room);
                let reason = "clients send whole messages, and no errors";
                Route::Error(
                    room,
                    error(MuxErrorCode::Malformed, close_code::PROTOCOL_ERROR, reason),
                )
            }
        }
    }

    fn message(
        &mut self,
        room: RoomId,
        body: Bytes,
        charge: Option<Charge>,
        at: tokio::time::Instant,
    ) -> Route {
        let Some(slot) = self.rooms.get_mut(&room) else {
            return Route::Error(room, unknown(room));
        };
        if !slot.greeted {
            if !Message::is_hello(&body) {
                self.leave(room);
                let reason = "a room's first message must be a hello";
                return Route::Error(
                    room,
                    error(MuxErrorCode::Malformed, close_code::PROTOCOL_ERROR, reason),
                );
            }
            slot.greeted = true;
        }
        let peer = slot.peer;
        let charge = match charge {
            Some(charge) => match slot.inbox.try_reserve() {
                Ok(permit) => {
                    permit.send(Inbox::Frame {
                        peer,
                        frame: body,
                        at,
                        charge,
                    });
                    return Route::Done;
                }
                Err(TrySendError::Full(())) => Some(charge),
                Err(TrySendError::Closed(())) => None,
            },
            None => None,
        };
        if slot.inbox.is_closed() {
            return Route::Error(room, self.lost(room));
        }
        Route::Wait(Waiting {
            room,
            peer,
            inbox: slot.inbox.clone(),
            frame: body,
            at,
            charge,
        })
    }

    fn join(&mut self, room: RoomId, doc: &str) -> Route {
        if room == RoomId::SOCKET || self.rooms.contains_key(&room) {
            self.leave(room);
            let reason = format!("{room} is in use on this socket (or 0); ids are never reused");
            return Route::Error(
                room,
                error(
                    MuxErrorCode::RoomIdInUse,
                    close_code::PROTOCOL_ERROR,
                    reason,
                ),
            );
        }
        let cap = self.shared.config.limits.max_rooms_per_connection;
        if self.rooms.len() >= cap {
            let reason = format!("at most {cap} rooms per connection; leave one first");
            return Route::Error(
                room,
                error(
                    MuxErrorCode::TooManyRooms,
                    close_code::TRY_AGAIN_LATER,
                    reason,
                ),
            );
        }
        let doc = match DocId::new(doc) {
            Ok(doc) => doc,
            Err(e) => {
                return Route::Error(
                    room,
                    error(
                        MuxErrorCode::InvalidDocument,
                        close_code::POLICY_VIOLATION,
                        e.to_string(),
                    ),
                );
            }
        };
        let peer = self.shared.next_peer();
        let (out_tx, out) = mpsc::channel(self.shared.config.limits.send_queue.max(1));
        match rooms::join(&self.shared, &doc, peer, None, out_tx) {
            Ok(inbox) => {
                tracing::debug!(%doc, %peer, %room, "joined over a multiplexed socket");
                let slot = Slot {
                    peer,
                    inbox,
                    out,
                    sending: None,
                    greeted: false,
                    denied: None,
                };
                self.rooms.insert(room, slot);
                Route::Done
            }
            Err(refusal) => {
                self.shared.metrics.refused();
                let Outgoing::Close { code, reason } = refusal.close() else {
                    return Route::Error(
                        room,
                        error(
                            MuxErrorCode::Unavailable,
                            close_code::TRY_AGAIN_LATER,
                            "refused",
                        ),
                    );
                };
                Route::Error(room, error(MuxErrorCode::Unavailable, code, reason))
            }
        }
    }

    /// Leaves `room` (its room task hears the peer go). Returns whether it was joined.
    pub fn leave(&mut self, room: RoomId) -> bool {
        let Some(slot) = self.rooms.remove(&room) else {
            return false;
        };
        let disconnect = Inbox::Disconnect { peer: slot.peer };
        if let Err(TrySendError::Full(disconnect)) = slot.inbox.try_send(disconnect) {
            let inbox = slot.inbox;
            tokio::spawn(async move {
                let _ = inbox.send(disconnect).await;
            });
        }
        true
    }

    /// A room whose task went away: leave it, and the error to tell the client.
    pub fn lost(&mut self, room: RoomId) -> MuxError {
        self.leave(room);
        error(
            MuxErrorCode::Unavailable,
            close_code::INTERNAL_ERROR,
            "room unavailable; join again",
        )
    }

    /// Leaves every room (the socket closed).
    pub fn leave_all(&mut self) {
        let rooms: Vec<RoomId> = self.rooms.keys().copied().collect();
        for room in rooms {
            self.leave(room);
        }
    }

    /// The next thing to write, from the rooms in turn. Pending while no room has anything.
    pub async fn ready(&mut self) -> Ready {
        std::future::poll_fn(|cx| self.poll_ready(cx)).await
    }

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Ready> {
        let order: Vec<RoomId> = self
            .rooms
            .range(self.cursor..)
            .chain(self.rooms.range(..self.cursor))
            .map(|(room, _)| *room)
            .collect();
        for room in order {
            let Some(slot) = self.rooms.get_mut(&room) else {
                continue;
            };
            if let Some((message, offset)) = slot.sending.take() {
                self.cursor = RoomId(room.0 + 1);
                return Poll::Ready(Ready::Piece(piece(slot, room, message, offset)));
            }
            let Poll::Ready(outgoing) = slot.out.poll_recv(cx) else {
                continue;
            };
            self.cursor = RoomId(room.0 + 1);
            return Poll::Ready(match outgoing {
                Some(Outgoing::Frame(frame)) => {
                    if frame.first() == Some(&2) {
                        if let Ok(Message::AuthDenied { reason }) =
                            Message::decode(&frame, usize::MAX)
                        {
                            slot.denied = Some(reason);
                        }
                    }
                    Ready::Piece(piece(slot, room, frame, 0))
                }
                Some(Outgoing::Close { code, reason }) => {
                    let denied = slot.denied.take();
                    self.leave(room);
                    Ready::Error(room, closed(code, reason, denied))
                }
                Some(Outgoing::Pause(until)) => Ready::Pause(until),
                None => {
                    self.leave(room);
                    let reason = "too far behind; join again";
                    Ready::Error(
                        room,
                        error(
                            MuxErrorCode::Unavailable,
                            close_code::TRY_AGAIN_LATER,
                            reason,
                        ),
                    )
                }
            });
        }
        Poll::Pending
    }
}

/// The next piece of `message` for `room` from `offset`; keeps the rest on the slot.
fn piece(slot: &mut Slot, room: RoomId, message: Vec<u8>, offset: usize) -> Vec<u8> {
    let (frame, next) = mux::next_piece(room, &message, offset);
    if next < message.len() {
        slot.sending = Some((message, next));
    }
    frame
}

fn unknown(room: RoomId) -> MuxError {
    error(
        MuxErrorCode::UnknownRoom,
        close_code::PROTOCOL_ERROR,
        format!("{room} is not joined on this socket"),
    )
}
