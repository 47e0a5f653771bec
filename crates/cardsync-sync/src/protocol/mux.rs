//! The multiplexed framing: many rooms over one WebSocket (docs/design.md §6, *Many rooms over
//! one socket*).
//!
//! **Why.** A card app opens many documents (boards, a card's body), and one WebSocket per
//! document costs a TCP and TLS setup per switch, a slot of the browser's per-host connection
//! limit, and a server connection each. On the multiplexed endpoint (`/ws`) each frame carries
//! a **room id** in front of today's cardsync messages, so one socket carries any number of
//! rooms, each with its own hello, token, role, acks, rejections, limits and rate budget: the
//! server gives every room of a socket its own peer in that document's room, exactly as if it
//! had its own socket. The messages inside are unchanged, so the per-document `SyncMachine`
//! and `Room` are unchanged too; only a thin layer on each side routes frames by room id.
//!
//! **The room id** is a number the client picks when it joins (from 1; 0 names the socket
//! itself in errors that belong to no room) and never reuses on that socket. A number rather
//! than the document id: two bytes in front of every frame instead of up to 128, and a room
//! left and joined again gets a new id, so nothing the server sent the old incarnation can
//! be taken for the new one's.
//!
//! Every frame is `varint kind`, `varint room`, then:
//!
//! | kind | frame | direction | body |
//! | --- | --- | --- | --- |
//! | 0 | message | both | one cardsync message (§6 framing), or the last piece of a fragmented one |
//! | 1 | fragment | server → client | a piece of a message; more pieces of the same room follow, the last as a `message` |
//! | 2 | join | client → server | `string(document id)` |
//! | 3 | leave | client → server | (empty) |
//! | 4 | error | server → client | `varint code`, `varint close code`, `string(reason)`; the room is gone on the server |
//!
//! **Fragments.** A message over [`FRAGMENT_BYTES`] (256 KiB) leaves the server in pieces, one
//! per turn of the socket's round-robin over its rooms, so a large snapshot in one room does
//! not hold up the small acks of another. A client reassembles them per room
//! ([`Reassembly`]); clients send whole messages (bounded by the room's frame limit, as
//! today).
//!
//! **Errors** name the room they concern and leave the socket and its other rooms alone; the
//! codes are [`MuxErrorCode`]s with stable strings. The close code is the one a socket of its
//! own would have closed with, so a client hands it to the room's connection machine as the
//! close of that room's (virtual) socket.

use std::collections::HashMap;

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use super::ProtocolError;
use super::codes;
use super::lib0::{Reader, write_str, write_var};

/// The largest piece of a message the server sends in one frame.
pub const FRAGMENT_BYTES: usize = 256 * 1024;

/// The most a frame's mux header adds to a message: a kind and a room id (varints).
pub const MUX_OVERHEAD: usize = 16;

const KIND_MESSAGE: u64 = 0;
const KIND_FRAGMENT: u64 = 1;
const KIND_JOIN: u64 = 2;
const KIND_LEAVE: u64 = 3;
const KIND_ERROR: u64 = 4;

/// A client's number for one room it joined on a multiplexed socket. See the module docs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RoomId(pub u64);

impl RoomId {
    /// Room 0: the socket itself, in errors that concern no room (a header that does not
    /// decode).
    pub const SOCKET: RoomId = RoomId(0);
}

impl std::fmt::Display for RoomId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "room#{}", self.0)
    }
}

/// Why the server dropped a room of a multiplexed socket (or refused a frame for one). The
/// strings are stable, for logs and JavaScript.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MuxErrorCode {
    /// A frame named a room id this socket has not joined (or has left, or lost).
    UnknownRoom,
    /// The room refused the hello's token (invalid, expired, or for another document); the
    /// reason says which, as in the auth message that came before.
    BadToken,
    /// A frame or a message did not decode.
    Malformed,
    /// A message exceeded the room's frame limit.
    TooLarge,
    /// The socket holds as many rooms as it may (`limits.max_rooms_per_connection`).
    TooManyRooms,
    /// A join named a room id already in use on this socket, or 0.
    RoomIdInUse,
    /// A join named no valid document id.
    InvalidDocument,
    /// The room said nothing (no hello) in time.
    HelloTimeout,
    /// The peer spent its rejection budget in this room.
    TooManyRejections,
    /// The server cannot serve the room now (at its room limit, busy, storage failure,
    /// shutting down, or the client fell too far behind reading it): join again later.
    Unavailable,
}

impl MuxErrorCode {
    const ALL: [MuxErrorCode; 10] = [
        MuxErrorCode::UnknownRoom,
        MuxErrorCode::BadToken,
        MuxErrorCode::Malformed,
        MuxErrorCode::TooLarge,
        MuxErrorCode::TooManyRooms,
        MuxErrorCode::RoomIdInUse,
        MuxErrorCode::InvalidDocument,
        MuxErrorCode::HelloTimeout,
        MuxErrorCode::TooManyRejections,
        MuxErrorCode::Unavailable,
    ];

    /// The stable string form (`"unknown_room"`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            MuxErrorCode::UnknownRoom => "unknown_room",
            MuxErrorCode::BadToken => "bad_token",
            MuxErrorCode::Malformed => "malformed",
            MuxErrorCode::TooLarge => "too_large",
            MuxErrorCode::TooManyRooms => "too_many_rooms",
            MuxErrorCode::RoomIdInUse => "room_id_in_use",
            MuxErrorCode::InvalidDocument => "invalid_document",
            MuxErrorCode::HelloTimeout => "hello_timeout",
            MuxErrorCode::TooManyRejections => "too_many_rejections",
            MuxErrorCode::Unavailable => "unavailable",
        }
    }

    fn wire(self) -> u64 {
        codes::to_wire(&Self::ALL, &self)
    }

    fn from_wire(code: u64) -> Result<Self, ProtocolError> {
        codes::from_wire(&Self::ALL, code).ok_or(ProtocolError::UnknownMuxError(code))
    }
}

/// A room's error frame: what went wrong, and how the room's virtual socket closes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MuxError {
    /// What went wrong, as a stable code.
    pub code: MuxErrorCode,
    /// The WebSocket close code a socket of the room's own would have closed with
    /// ([`close_code`](super::close_code)).
    pub close_code: u16,
    /// Why, for humans (for a refused token: the room's reason, e.g. `"token expired"`).
    pub reason: String,
}

/// One frame of a multiplexed socket. Message bodies are slices of the frame's `Bytes`, never
/// copies.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MuxFrame {
    /// A whole message for a room, or the last piece of one.
    Message {
        /// Which room.
        room: RoomId,
        /// The message (today's framing), or its last piece.
        body: Bytes,
    },
    /// A piece of a room's message; more follow.
    Fragment {
        /// Which room.
        room: RoomId,
        /// The piece.
        body: Bytes,
    },
    /// Join the room of `doc` as `room`.
    Join {
        /// The id the client gives it.
        room: RoomId,
        /// The document id.
        doc: String,
    },
    /// Leave a room.
    Leave {
        /// Which room.
        room: RoomId,
    },
    /// The server dropped a room, or refused a frame for one.
    Error {
        /// Which room ([`RoomId::SOCKET`] if none).
        room: RoomId,
        /// What and why.
        error: MuxError,
    },
}

impl MuxFrame {
    /// Decodes one multiplexed frame of at most `max_len` bytes.
    pub fn decode(frame: &Bytes, max_len: usize) -> Result<MuxFrame, ProtocolError> {
        if frame.len() > max_len {
            return Err(ProtocolError::TooLarge {
                len: frame.len(),
                max: max_len,
            });
        }
        let mut r = Reader::new(frame);
        let kind = r.var()?;
        let room = RoomId(r.var()?);
        let body = || frame.slice(frame.len() - r.remaining()..);
        Ok(match kind {
            KIND_MESSAGE => MuxFrame::Message { room, body: body() },
            KIND_FRAGMENT => MuxFrame::Fragment { room, body: body() },
            KIND_JOIN => {
                let doc = r.string()?;
                r.finish()?;
                MuxFrame::Join { room, doc }
            }
            KIND_LEAVE => {
                r.finish()?;
                MuxFrame::Leave { room }
            }
            KIND_ERROR => {
                let code = MuxErrorCode::from_wire(r.var()?)?;
                let close_code =
                    u16::try_from(r.var()?).map_err(|_| ProtocolError::VarIntOverflow)?;
                let reason = r.string()?;
                r.finish()?;
                MuxFrame::Error {
                    room,
                    error: MuxError {
                        code,
                        close_code,
                        reason,
                    },
                }
            }
            other => return Err(ProtocolError::UnknownMuxKind(other)),
        })
    }

    /// Encodes the frame.
    pub fn encode(&self) -> Vec<u8> {
        match self {
            MuxFrame::Message { room, body } => message_frame(*room, body),
            MuxFrame::Fragment { room, body } => frame_with(KIND_FRAGMENT, *room, body),
            MuxFrame::Join { room, doc } => join_frame(*room, doc),
            MuxFrame::Leave { room } => leave_frame(*room),
            MuxFrame::Error { room, error } => error_frame(*room, error),
        }
    }
}

fn frame_with(kind: u64, room: RoomId, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + MUX_OVERHEAD);
    write_var(&mut out, kind);
    write_var(&mut out, room.0);
    out.extend_from_slice(body);
    out
}

/// The frame carrying `message` (one whole cardsync message) for `room`.
pub fn message_frame(room: RoomId, message: &[u8]) -> Vec<u8> {
    frame_with(KIND_MESSAGE, room, message)
}

/// The frame joining `doc` as `room`.
pub fn join_frame(room: RoomId, doc: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(doc.len() + MUX_OVERHEAD);
    write_var(&mut out, KIND_JOIN);
    write_var(&mut out, room.0);
    write_str(&mut out, doc);
    out
}

/// The frame leaving `room`.
pub fn leave_frame(room: RoomId) -> Vec<u8> {
    frame_with(KIND_LEAVE, room, &[])
}

/// The error frame for `room`.
pub fn error_frame(room: RoomId, error: &MuxError) -> Vec<u8> {
    let mut out = Vec::with_capacity(error.reason.len() + 2 * MUX_OVERHEAD);
    write_var(&mut out, KIND_ERROR);
    write_var(&mut out, room.0);
    write_var(&mut out, error.code.wire());
    write_var(&mut out, u64::from(error.close_code));
    write_str(&mut out, &error.reason);
    out
}

/// The next frame of `message` for `room` from byte `offset`: a `fragment` of
/// [`FRAGMENT_BYTES`] if more than that is left, else the final `message` frame. Returns the
/// frame and the offset after it (`message.len()` once done).
pub fn next_piece(room: RoomId, message: &[u8], offset: usize) -> (Vec<u8>, usize) {
    let rest = message.get(offset..).unwrap_or_default();
    if rest.len() > FRAGMENT_BYTES {
        let end = offset + FRAGMENT_BYTES;
        (
            frame_with(KIND_FRAGMENT, room, &rest[..FRAGMENT_BYTES]),
            end,
        )
    } else {
        (message_frame(room, rest), message.len())
    }
}

/// The room id of a frame, read from its header alone: how a server names the room of a
/// frame whose body does not decode. `None` if not even the header does.
pub fn peek_room(frame: &[u8]) -> Option<RoomId> {
    let mut r = Reader::new(frame);
    r.var().ok()?;
    Some(RoomId(r.var().ok()?))
}

/// A client's reassembly of fragmented messages, per room, with a bound on what it holds.
#[derive(Debug, Default)]
pub struct Reassembly {
    partial: HashMap<RoomId, Vec<u8>>,
}

impl Reassembly {
    /// Takes a fragment of `room`'s message; refuses one that would make the message longer
    /// than `max_len`.
    pub fn fragment(
        &mut self,
        room: RoomId,
        body: &[u8],
        max_len: usize,
    ) -> Result<(), ProtocolError> {
        let buffer = self.partial.entry(room).or_default();
        let len = buffer.len() + body.len();
        if len > max_len {
            self.partial.remove(&room);
            return Err(ProtocolError::TooLarge { len, max: max_len });
        }
        buffer.extend_from_slice(body);
        Ok(())
    }

    /// Takes the last piece of `room`'s message and returns the whole message: `body` itself
    /// (no copy) if no fragment came before it.
    pub fn finish(
        &mut self,
        room: RoomId,
        body: Bytes,
        max_len: usize,
    ) -> Result<Bytes, ProtocolError> {
        match self.partial.remove(&room) {
            None => Ok(body),
            Some(mut buffer) => {
                let len = buffer.len() + body.len();
                if len > max_len {
                    return Err(ProtocolError::TooLarge { len, max: max_len });
                }
                buffer.extend_from_slice(&body);
                Ok(Bytes::from(buffer))
            }
        }
    }

    /// Drops what was gathered for `room` (it was left or lost).
    pub fn forget(&mut self, room: RoomId) {
        self.partial.remove(&room);
    }
}

#[cfg(test)]
mod tests;
