//! The reading half of a multiplexed socket: the rooms joined, and where each frame goes.
//!
//! A join makes the room a peer of its document's room with a send queue of its own (handed
//! to the writer, `write.rs`); a message goes to its room's inbox as a slice of the socket
//! layer's `Bytes`; a leave, or a frame that cannot be routed, drops the room and becomes an
//! error for that room alone.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Bytes;
use cardsync_sync::protocol::mux::{self, MuxError, MuxErrorCode, MuxFrame, RoomId};
use cardsync_sync::protocol::{Message, close_code};
use cardsync_sync::room::PeerId;
use tokio::sync::mpsc;
use tokio::sync::mpsc::error::TrySendError;

use super::write::Control;
use crate::budget::Charge;
use crate::conn::Outgoing;
use crate::rooms::{self, Inbox, Shared};
use crate::store::DocId;

/// A message read for a room and not yet in its room's inbox.
pub(crate) struct Waiting {
    pub room: RoomId,
    pub peer: PeerId,
    pub inbox: mpsc::Sender<Inbox>,
    pub frame: Bytes,
    pub at: tokio::time::Instant,
    pub charge: Option<Charge>,
}

/// One joined room, as the reader sees it.
struct Slot {
    peer: PeerId,
    inbox: mpsc::Sender<Inbox>,
    /// Whether the room's hello went through (the first message must be one).
    greeted: bool,
}

/// What became of a frame read from the socket.
pub(crate) enum Route {
    /// Handled (queued to its room, a join or a leave done, or an error sent).
    Done,
    /// Its room's inbox is full (or the budget spent): wait, reading nothing more.
    Wait(Waiting),
}

fn error(code: MuxErrorCode, close_code: u16, reason: impl Into<String>) -> MuxError {
    MuxError {
        code,
        close_code,
        reason: reason.into(),
    }
}

/// The rooms of one socket, by the client's room id.
pub(crate) struct Rooms {
    shared: Arc<Shared>,
    rooms: BTreeMap<RoomId, Slot>,
    writer: mpsc::Sender<Control>,
    /// The writer's queue was full: the client does not read what it is sent.
    overrun: bool,
}

impl Rooms {
    pub fn new(shared: Arc<Shared>, writer: mpsc::Sender<Control>) -> Self {
        Self {
            shared,
            rooms: BTreeMap::new(),
            writer,
            overrun: false,
        }
    }

    /// Whether the writer's queue overflowed: a client that sends frames (each may earn an
    /// error) but reads nothing would otherwise grow it without bound. The socket closes.
    pub fn overrun(&self) -> bool {
        self.overrun
    }

    fn tell(&mut self, control: Control) {
        if self.writer.try_send(control).is_err() {
            self.overrun = true;
        }
    }

    /// Has the writer send `error` for `room`.
    pub fn refuse(&mut self, room: RoomId, error: MuxError) {
        self.tell(Control::Error { room, error });
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
                self.refuse(room, e);
                return Route::Done;
            }
        };
        match frame {
            MuxFrame::Message { room, body } => return self.message(room, body, charge, at),
            MuxFrame::Join { room, doc } => self.join(room, &doc),
            MuxFrame::Leave { room } => {
                if !self.leave(room) {
                    self.refuse(room, unknown(room));
                }
            }
            MuxFrame::Fragment { room, .. } | MuxFrame::Error { room, .. } => {
                self.leave(room);
                let reason = "clients send whole messages, and no errors";
                self.refuse(
                    room,
                    error(MuxErrorCode::Malformed, close_code::PROTOCOL_ERROR, reason),
                );
            }
        }
        Route::Done
    }

    fn message(
        &mut self,
        room: RoomId,
        body: Bytes,
        charge: Option<Charge>,
        at: tokio::time::Instant,
    ) -> Route {
        let Some(slot) = self.rooms.get_mut(&room) else {
            self.refuse(room, unknown(room));
            return Route::Done;
        };
        if !slot.greeted {
            if !Message::is_hello(&body) {
                self.leave(room);
                let reason = "a room's first message must be a hello";
                let e = error(MuxErrorCode::Malformed, close_code::PROTOCOL_ERROR, reason);
                self.refuse(room, e);
                return Route::Done;
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
            self.lost_task(room);
            return Route::Done;
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

    fn join(&mut self, room: RoomId, doc: &str) {
        if room == RoomId::SOCKET || self.rooms.contains_key(&room) {
            self.leave(room);
            let reason = format!("{room} is in use on this socket (or 0); ids are never reused");
            let e = error(
                MuxErrorCode::RoomIdInUse,
                close_code::PROTOCOL_ERROR,
                reason,
            );
            return self.refuse(room, e);
        }
        let cap = self.shared.config.limits.max_rooms_per_connection;
        if self.rooms.len() >= cap {
            let reason = format!("at most {cap} rooms per connection; leave one first");
            let e = error(
                MuxErrorCode::TooManyRooms,
                close_code::TRY_AGAIN_LATER,
                reason,
            );
            return self.refuse(room, e);
        }
        let doc = match DocId::new(doc) {
            Ok(doc) => doc,
            Err(e) => {
                let e = error(
                    MuxErrorCode::InvalidDocument,
                    close_code::POLICY_VIOLATION,
                    e.to_string(),
                );
                return self.refuse(room, e);
            }
        };
        let peer = self.shared.next_peer();
        let (out_tx, out) = mpsc::channel(self.shared.config.limits.send_queue.max(1));
        match rooms::join(&self.shared, &doc, peer, None, out_tx) {
            Ok(inbox) => {
                tracing::debug!(%doc, %peer, %room, "joined over a multiplexed socket");
                self.tell(Control::Add { room, peer, out });
                let slot = Slot {
                    peer,
                    inbox,
                    greeted: false,
                };
                self.rooms.insert(room, slot);
            }
            Err(refusal) => {
                self.shared.metrics.refused();
                let (code, reason) = match refusal.close() {
                    Outgoing::Close { code, reason } => (code, reason),
                    Outgoing::Frame(_) | Outgoing::Pause(_) => {
                        (close_code::TRY_AGAIN_LATER, "refused".into())
                    }
                };
                self.refuse(room, error(MuxErrorCode::Unavailable, code, reason));
            }
        }
    }

    /// Leaves `room`: its room task hears the peer go, the writer stops serving it. Returns
    /// whether it was joined.
    pub fn leave(&mut self, room: RoomId) -> bool {
        let Some(slot) = self.rooms.remove(&room) else {
            return false;
        };
        self.tell(Control::Remove { room });
        let disconnect = Inbox::Disconnect { peer: slot.peer };
        if let Err(TrySendError::Full(disconnect)) = slot.inbox.try_send(disconnect) {
            let inbox = slot.inbox;
            tokio::spawn(async move {
                let _ = inbox.send(disconnect).await;
            });
        }
        true
    }

    /// The writer reported that the room task closed `peer` in `room` (and told the client).
    pub fn lost(&mut self, room: RoomId, peer: PeerId) {
        if self.rooms.get(&room).is_some_and(|slot| slot.peer == peer) {
            self.leave(room);
        }
    }

    /// A room whose task went away: leave it and tell the client.
    pub fn lost_task(&mut self, room: RoomId) {
        self.leave(room);
        let reason = "room unavailable; join again";
        self.refuse(
            room,
            error(
                MuxErrorCode::Unavailable,
                close_code::INTERNAL_ERROR,
                reason,
            ),
        );
    }

    /// Leaves every room (the socket closed).
    pub fn leave_all(&mut self) {
        let rooms: Vec<RoomId> = self.rooms.keys().copied().collect();
        for room in rooms {
            self.leave(room);
        }
    }
}

fn unknown(room: RoomId) -> MuxError {
    error(
        MuxErrorCode::UnknownRoom,
        close_code::PROTOCOL_ERROR,
        format!("{room} is not joined on this socket"),
    )
}
