//! The wire protocol: y-protocols framing plus cardsync's extensions.
//!
//! One WebSocket carries one room (document). Every binary frame is one message that starts with
//! a varint *message type*, exactly as in y-protocols, so a stock `y-websocket` client can talk
//! to our server for plain sync:
//!
//! | type | message | body |
//! | --- | --- | --- |
//! | 0 | sync | varint sub-type: 0 step1 `buf(state vector)`, 1 step2 `buf(update)`, 2 update `buf(update)` |
//! | 1 | awareness | `buf(awareness update)` |
//! | 2 | auth | varint 0 = permission denied, then `string(reason)` |
//! | 3 | query awareness | — |
//! | 99 | cardsync extension | `buf(payload)`; payload = varint kind, then fields below |
//!
//! The extension travels inside one length-prefixed buffer under a type number y-protocols does
//! not use, so a stock client skips it whole (y-websocket logs and ignores unknown types, and
//! yrs decodes it as `Message::Custom`). Extension kinds, all fields lib0-encoded (varints,
//! length-prefixed strings and buffers):
//!
//! | kind | message | fields |
//! | --- | --- | --- |
//! | 0 | hello (client → server) | `version`, `string(token)`, `client id` |
//! | 1 | welcome (server → client) | `version`, `string(role)` |
//! | 2 | submit batch | `client`, `seq`, `buf(update v1)` |
//! | 3 | ack | `client`, `seq`, `clock` — the server holds `client` up to `clock` (exclusive) |
//! | 4 | reject | `client`, `seq`, `code`, `string(reason)` |
//! | 5 | ping | `nonce` |
//! | 6 | pong | `nonce` |
//!
//! **Versioning.** The client states its [`PROTOCOL_VERSION`] in hello; the server answers with
//! the version it will speak (the lower of the two) or refuses with an auth message, and sends
//! nothing the agreed version cannot decode (version 2 added the reject code
//! `rejected_by_validator`). New
//! extension kinds get new numbers; a peer that meets an unknown kind gets
//! [`ProtocolError::UnknownExtension`] for that message and carries on.
//!
//! **Untrusted bytes.** [`Message::decode`] never panics, checks every length against the bytes
//! left and rejects frames over the caller's size limit before looking inside. Update and state
//! vector payloads stay opaque bytes here; the document decodes them (with its own typed
//! errors) when it applies them.

pub mod close_code;
mod codes;
mod lib0;
pub mod mux;

use lib0::{Reader, write_buf, write_str, write_var};
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// The protocol version this crate speaks. Version 2 added the reject code
/// `rejected_by_validator`; a room speaking to a version 1 client sends `forbidden` instead.
pub const PROTOCOL_VERSION: u32 = 2;
/// Message type of the cardsync extension.
pub const MSG_CARDSYNC: u64 = 99;

const MSG_SYNC: u64 = 0;
const MSG_AWARENESS: u64 = 1;
const MSG_AUTH: u64 = 2;
const MSG_QUERY_AWARENESS: u64 = 3;

/// Identifies a batch: the client id that produced it and its sequence number there.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct BatchId {
    /// The yrs client id of the local doc that made the batch.
    pub client: u64,
    /// Its position among that client id's batches, from 0.
    pub seq: u64,
}

/// Why the server refused a batch. The codes are stable strings for JavaScript.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RejectCode {
    /// The bytes did not decode as an update.
    Malformed,
    /// The batch breaks the schema (unknown kind or field, wrong type).
    SchemaViolation,
    /// A state-machine field moved along a transition the schema does not allow.
    InvalidTransition,
    /// The connection's role may not make this change.
    Forbidden,
    /// The batch exceeds the size limit.
    TooLarge,
    /// The batch builds on a batch the server rejected.
    DependsOnRejected,
    /// The connection sends faster than allowed.
    RateLimited,
    /// An application's validator refused the batch (`room::Validator`); the reason starts
    /// with the validator's own stable code, then `": "` (`room::Refused::code_of`). Sent
    /// only to clients of protocol version 2 or later; version 1 clients, which cannot decode
    /// it, get `Forbidden` with the same reason.
    RejectedByValidator,
}

impl RejectCode {
    /// Every code, in wire order (a code's wire number is its index here).
    pub const ALL: [RejectCode; 8] = [
        RejectCode::Malformed,
        RejectCode::SchemaViolation,
        RejectCode::InvalidTransition,
        RejectCode::Forbidden,
        RejectCode::TooLarge,
        RejectCode::DependsOnRejected,
        RejectCode::RateLimited,
        RejectCode::RejectedByValidator,
    ];

    /// Whether the refusal says "not now" rather than "no": the same batch may be sent again
    /// later (after a backoff) and be accepted. Only `RateLimited` is; every other code is a
    /// verdict on the batch, which the client rolls back.
    pub fn is_retryable(self) -> bool {
        matches!(self, RejectCode::RateLimited)
    }

    /// The stable string form (`"depends_on_rejected"`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            RejectCode::Malformed => "malformed",
            RejectCode::SchemaViolation => "schema_violation",
            RejectCode::InvalidTransition => "invalid_transition",
            RejectCode::Forbidden => "forbidden",
            RejectCode::TooLarge => "too_large",
            RejectCode::DependsOnRejected => "depends_on_rejected",
            RejectCode::RateLimited => "rate_limited",
            RejectCode::RejectedByValidator => "rejected_by_validator",
        }
    }

    /// The code's index in [`RejectCode::ALL`] (its wire number), for per-code tables.
    pub fn index(self) -> usize {
        Self::ALL
            .iter()
            .position(|c| *c == self)
            .unwrap_or_default()
    }

    fn wire(self) -> u64 {
        codes::to_wire(&Self::ALL, &self)
    }

    fn from_wire(code: u64) -> Result<Self, ProtocolError> {
        codes::from_wire(&Self::ALL, code).ok_or(ProtocolError::UnknownRejectCode(code))
    }
}

/// One protocol message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message {
    /// Sync step 1: "here is my state vector, send me what I lack".
    SyncStep1 {
        /// v1-encoded state vector.
        state_vector: Vec<u8>,
    },
    /// Sync step 2: the answer to step 1.
    SyncStep2 {
        /// v1 update.
        update: Vec<u8>,
    },
    /// An incremental update (stock clients send their edits this way; no ack).
    Update {
        /// v1 update.
        update: Vec<u8>,
    },
    /// Awareness (presence) update, relayed as is.
    Awareness {
        /// Encoded awareness update.
        update: Vec<u8>,
    },
    /// Auth refused, with a reason (y-protocols' permission-denied message).
    AuthDenied {
        /// Why.
        reason: String,
    },
    /// Asks peers to resend awareness.
    QueryAwareness,
    /// Client → server greeting.
    Hello {
        /// The client's protocol version.
        version: u32,
        /// Bearer token for this room.
        token: String,
        /// The client's current yrs client id.
        client: u64,
    },
    /// Server → client: accepted, with the version and role in force.
    Welcome {
        /// Negotiated version.
        version: u32,
        /// The role the token grants (e.g. `"editor"`).
        role: String,
        /// The largest batch update the room takes (its `max_update_bytes`), so that a
        /// client refuses a larger batch itself, as `too_large`, instead of sending a frame
        /// the server must close the socket on, again after every reconnect. `None` from a
        /// server that predates the field (it ends the message).
        max_update_bytes: Option<u64>,
    },
    /// A batch for the server to validate, persist, ack and broadcast.
    SubmitBatch {
        /// Which batch.
        batch: BatchId,
        /// Its v1 update.
        update: Vec<u8>,
    },
    /// The batch is durable on the server, and so is everything of `batch.client` below `clock`.
    Ack {
        /// Which batch.
        batch: BatchId,
        /// The server holds `batch.client` up to this clock (exclusive).
        clock: u32,
    },
    /// The batch was refused: never applied, never broadcast.
    Reject {
        /// Which batch.
        batch: BatchId,
        /// Why, as a stable code.
        code: RejectCode,
        /// Why, for humans.
        reason: String,
    },
    /// Liveness probe.
    Ping {
        /// Echoed in the pong.
        nonce: u64,
    },
    /// Answer to a ping.
    Pong {
        /// The ping's nonce.
        nonce: u64,
    },
}

/// A frame could not be decoded.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum ProtocolError {
    /// The frame ended in the middle of a value.
    #[error("message truncated")]
    Truncated,
    /// A varint does not fit its type.
    #[error("varint overflow")]
    VarIntOverflow,
    /// A string is not UTF-8.
    #[error("string is not valid UTF-8")]
    InvalidUtf8,
    /// Bytes left after the message.
    #[error("{0} trailing bytes after the message")]
    TrailingBytes(usize),
    /// The frame exceeds the size limit.
    #[error("message of {len} bytes exceeds the limit of {max}")]
    TooLarge {
        /// Frame size.
        len: usize,
        /// Limit.
        max: usize,
    },
    /// Not a y-protocols type nor ours.
    #[error("unknown message type {0}")]
    UnknownType(u64),
    /// Unknown sync sub-type.
    #[error("unknown sync message {0}")]
    UnknownSync(u64),
    /// Unknown auth sub-type.
    #[error("unknown auth message {0}")]
    UnknownAuth(u64),
    /// Unknown extension kind (a newer peer).
    #[error("unknown cardsync message kind {0}")]
    UnknownExtension(u64),
    /// Unknown reject code (a newer peer).
    #[error("unknown reject code {0}")]
    UnknownRejectCode(u64),
    /// Unknown frame kind on a multiplexed socket ([`mux`]).
    #[error("unknown multiplexed frame kind {0}")]
    UnknownMuxKind(u64),
    /// Unknown error code in a multiplexed error frame (a newer server).
    #[error("unknown multiplexed error code {0}")]
    UnknownMuxError(u64),
}

impl ProtocolError {
    /// The stable code JavaScript sees.
    pub fn code(&self) -> &'static str {
        "decode_error"
    }
}

impl Message {
    /// Encodes the message as one frame.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        match self {
            Message::SubmitBatch { batch, update } => return submit_batch_frame(*batch, update),
            Message::SyncStep1 { state_vector } => sync(&mut out, 0, state_vector),
            Message::SyncStep2 { update } => sync(&mut out, 1, update),
            Message::Update { update } => sync(&mut out, 2, update),
            Message::Awareness { update } => {
                write_var(&mut out, MSG_AWARENESS);
                write_buf(&mut out, update);
            }
            Message::AuthDenied { reason } => {
                write_var(&mut out, MSG_AUTH);
                write_var(&mut out, 0);
                write_str(&mut out, reason);
            }
            Message::QueryAwareness => write_var(&mut out, MSG_QUERY_AWARENESS),
            _ => {
                let payload = self.extension_payload();
                write_var(&mut out, MSG_CARDSYNC);
                write_buf(&mut out, &payload);
            }
        }
        out
    }

    fn extension_payload(&self) -> Vec<u8> {
        let mut p = Vec::new();
        let batch_id = |p: &mut Vec<u8>, b: &BatchId| {
            write_var(p, b.client);
            write_var(p, b.seq);
        };
        match self {
            Message::Hello {
                version,
                token,
                client,
            } => {
                write_var(&mut p, 0);
                write_var(&mut p, u64::from(*version));
                write_str(&mut p, token);
                write_var(&mut p, *client);
            }
            Message::Welcome {
                version,
                role,
                max_update_bytes,
            } => {
                write_var(&mut p, 1);
                write_var(&mut p, u64::from(*version));
                write_str(&mut p, role);
                if let Some(max) = max_update_bytes {
                    write_var(&mut p, *max);
                }
            }
            Message::Ack { batch, clock } => {
                write_var(&mut p, 3);
                batch_id(&mut p, batch);
                write_var(&mut p, u64::from(*clock));
            }
            Message::Reject {
                batch,
                code,
                reason,
            } => {
                write_var(&mut p, 4);
                batch_id(&mut p, batch);
                write_var(&mut p, code.wire());
                write_str(&mut p, reason);
            }
            Message::Ping { nonce } => {
                write_var(&mut p, 5);
                write_var(&mut p, *nonce);
            }
            Message::Pong { nonce } => {
                write_var(&mut p, 6);
                write_var(&mut p, *nonce);
            }
            Message::SyncStep1 { .. }
            | Message::SyncStep2 { .. }
            | Message::Update { .. }
            | Message::Awareness { .. }
            | Message::AuthDenied { .. }
            | Message::QueryAwareness
            // Written by `submit_batch_frame`, straight from the update.
            | Message::SubmitBatch { .. } => {}
        }
        p
    }

    /// Decodes one frame of at most `max_len` bytes.
    pub fn decode(frame: &[u8], max_len: usize) -> Result<Message, ProtocolError> {
        if frame.len() > max_len {
            return Err(ProtocolError::TooLarge {
                len: frame.len(),
                max: max_len,
            });
        }
        let mut r = Reader::new(frame);
        let message = match r.var()? {
            MSG_SYNC => {
                let kind = r.var()?;
                let bytes = r.buf()?.to_vec();
                match kind {
                    0 => Message::SyncStep1 {
                        state_vector: bytes,
                    },
                    1 => Message::SyncStep2 { update: bytes },
                    2 => Message::Update { update: bytes },
                    other => return Err(ProtocolError::UnknownSync(other)),
                }
            }
            MSG_AWARENESS => Message::Awareness {
                update: r.buf()?.to_vec(),
            },
            MSG_AUTH => match r.var()? {
                0 => Message::AuthDenied {
                    reason: r.string()?,
                },
                other => return Err(ProtocolError::UnknownAuth(other)),
            },
            MSG_QUERY_AWARENESS => Message::QueryAwareness,
            MSG_CARDSYNC => {
                let mut p = Reader::new(r.buf()?);
                let message = decode_extension(&mut p)?;
                p.finish()?;
                message
            }
            other => return Err(ProtocolError::UnknownType(other)),
        };
        r.finish()?;
        Ok(message)
    }
}

/// The frame of `Message::SubmitBatch { batch, update }`, written from borrowed bytes: the
/// update goes into the frame once, with no message or extension payload built around a copy
/// of it first (a batch's update is the one large thing a client sends).
pub fn submit_batch_frame(batch: BatchId, update: &[u8]) -> Vec<u8> {
    let mut head = Vec::with_capacity(24);
    write_var(&mut head, 2);
    write_var(&mut head, batch.client);
    write_var(&mut head, batch.seq);
    write_var(&mut head, update.len() as u64);
    let mut out = Vec::with_capacity(head.len() + update.len() + 12);
    write_var(&mut out, MSG_CARDSYNC);
    write_var(&mut out, (head.len() + update.len()) as u64);
    out.extend_from_slice(&head);
    out.extend_from_slice(update);
    out
}

/// The frame of `Message::Update { update }`, written from borrowed bytes.
pub fn update_frame(update: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(update.len() + 12);
    sync(&mut out, 2, update);
    out
}

impl Message {
    /// The batch id of a `SubmitBatch` frame, read from its header alone (a few varints),
    /// without looking at the update: how a room refuses an oversize batch as `too_large`, a
    /// verdict its client rolls back, instead of closing a socket the client would reopen
    /// only to send the same batch again. `None` for any other frame.
    pub fn peek_batch(frame: &[u8]) -> Option<BatchId> {
        let mut r = Reader::new(frame);
        if r.var().ok()? != MSG_CARDSYNC {
            return None;
        }
        let mut p = Reader::new(r.buf().ok()?);
        if p.var().ok()? != 2 {
            return None;
        }
        Some(BatchId {
            client: p.var().ok()?,
            seq: p.var().ok()?,
        })
    }
}

/// The update of an update-carrying frame (`SubmitBatch`, sync step 2 or `Update`), borrowed
/// from the frame, with the batch id of a `SubmitBatch`: how a room reads the one large thing
/// a peer sends without copying it first. `None` for any other frame, or one that does not
/// decode exactly as its message ([`Message::decode`] then says why).
pub fn borrow_update(frame: &[u8]) -> Option<(Option<BatchId>, &[u8])> {
    let mut r = Reader::new(frame);
    let found = match r.var().ok()? {
        MSG_SYNC => match r.var().ok()? {
            1 | 2 => (None, r.buf().ok()?),
            _ => return None,
        },
        MSG_CARDSYNC => {
            let mut p = Reader::new(r.buf().ok()?);
            if p.var().ok()? != 2 {
                return None;
            }
            let batch = BatchId {
                client: p.var().ok()?,
                seq: p.var().ok()?,
            };
            let update = p.buf().ok()?;
            p.finish().ok()?;
            (Some(batch), update)
        }
        _ => return None,
    };
    r.finish().ok()?;
    Some(found)
}

impl Message {
    /// Whether `frame` is a hello, from its first bytes: how the multiplexed endpoint checks
    /// that a room begins with one without decoding (or copying) anything else.
    pub fn is_hello(frame: &[u8]) -> bool {
        let mut r = Reader::new(frame);
        if r.var().ok() != Some(MSG_CARDSYNC) {
            return false;
        }
        r.buf().is_ok_and(|p| Reader::new(p).var().ok() == Some(0))
    }
}

fn sync(out: &mut Vec<u8>, kind: u64, bytes: &[u8]) {
    write_var(out, MSG_SYNC);
    write_var(out, kind);
    write_buf(out, bytes);
}

fn decode_extension(p: &mut Reader<'_>) -> Result<Message, ProtocolError> {
    let batch_id = |p: &mut Reader<'_>| -> Result<BatchId, ProtocolError> {
        Ok(BatchId {
            client: p.var()?,
            seq: p.var()?,
        })
    };
    Ok(match p.var()? {
        0 => Message::Hello {
            version: p.var_u32()?,
            token: p.string()?,
            client: p.var()?,
        },
        1 => Message::Welcome {
            version: p.var_u32()?,
            role: p.string()?,
            max_update_bytes: if p.remaining() == 0 {
                None
            } else {
                Some(p.var()?)
            },
        },
        2 => Message::SubmitBatch {
            batch: batch_id(p)?,
            update: p.buf()?.to_vec(),
        },
        3 => Message::Ack {
            batch: batch_id(p)?,
            clock: p.var_u32()?,
        },
        4 => Message::Reject {
            batch: batch_id(p)?,
            code: RejectCode::from_wire(p.var()?)?,
            reason: p.string()?,
        },
        5 => Message::Ping { nonce: p.var()? },
        6 => Message::Pong { nonce: p.var()? },
        other => return Err(ProtocolError::UnknownExtension(other)),
    })
}

#[cfg(test)]
mod tests;
