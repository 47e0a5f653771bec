//! Connections: admitting peers, the sync handshake, presence, and routing their frames.
//!
//! Nothing about the document goes to a peer before it is admitted, and a peer's first frame
//! decides how it is admitted: a `Hello` is authenticated; anything else marks a stock
//! client, admitted with the configured hello-less role or refused. Once admitted, the room
//! runs the y-protocols handshake: it sends its own step 1 (and everyone's presence), and
//! answers the peer's step 1 with a step 2, once everything in it is durable (`settle.rs`
//! says why).
//!
//! Frames that do not decode close the peer, except two kinds skipped for forward
//! compatibility: unknown message types and unknown extension kinds (a newer peer).

use std::time::Duration;

use bytes::Bytes;

use crate::protocol::{self, Message, PROTOCOL_VERSION, ProtocolError, RejectCode};
use crate::time::Instant;

use super::Room;
use super::action::{PeerCloseReason, RoomAction};
use super::auth::{Authenticator, Author, Role};
use super::batches::Refusal;
use super::error::RoomError;
use super::names::PeerId;
use super::peer::{Peer, Stage};

/// Why a peer that brought no token at all is refused, when the room admits no hello-less
/// peer. It names what is missing and both ways to bring it, because the peer is most likely a
/// stock `y-websocket` client, which never sends a hello but can send a token in the URL.
pub(super) const HELLO_LESS_DENIED: &str = "token missing: send a cardsync hello with a token, \
     or connect with ?token=… (y-websocket: params: { token })";

impl<A: Authenticator> Room<A> {
    /// A peer connected. It has `hello_timeout_ms` to speak.
    pub fn handle_connect(&mut self, now: Instant, peer: PeerId) -> Result<(), RoomError> {
        if self.peers.contains_key(&peer) {
            return Err(RoomError::DuplicatePeer(peer));
        }
        let deadline = now + Duration::from_millis(self.config.hello_timeout_ms);
        let stage = Stage::Waiting { deadline };
        self.peers.insert(peer, Peer::new(&self.config, now, stage));
        Ok(())
    }

    /// A peer connected with a token the driver took from the connection itself (e.g. the
    /// URL's query string, where `y-websocket` puts its `params`). It is admitted at once (or
    /// refused with an auth message and a close); a later `Hello` re-authenticates it.
    pub fn handle_connect_with_token(
        &mut self,
        now: Instant,
        peer: PeerId,
        token: &str,
    ) -> Result<(), RoomError> {
        self.handle_connect(now, peer)?;
        self.authenticate(peer, token, None);
        Ok(())
    }

    /// A peer's connection ended. Unknown peers (e.g. one the room closed) are ignored.
    pub fn handle_disconnect(&mut self, _now: Instant, peer: PeerId) {
        self.forget(peer);
    }

    /// Time passed: closes peers that stayed silent past their hello deadline.
    pub fn handle_timeout(&mut self, now: Instant) {
        let late: Vec<PeerId> = self
            .peers
            .iter()
            .filter(|(_, p)| matches!(p.stage, Stage::Waiting { deadline } if deadline <= now))
            .map(|(&id, _)| id)
            .collect();
        for peer in late {
            self.close(peer, PeerCloseReason::HelloTimeout);
        }
    }

    /// A frame arrived from a peer.
    pub fn handle_message(
        &mut self,
        now: Instant,
        peer: PeerId,
        frame: &[u8],
    ) -> Result<(), RoomError> {
        let Some(state) = self.peers.get(&peer) else {
            return Err(RoomError::UnknownPeer(peer));
        };
        let waiting = matches!(state.stage, Stage::Waiting { .. });
        // The common case, an update, is read in place; everything else is decoded whole.
        if frame.len() <= self.config.max_frame_bytes()
            && let Some((batch, update)) = protocol::borrow_update(frame)
        {
            if !waiting || self.admit_hello_less(peer) {
                self.receive(now, peer, batch, update);
            }
            return Ok(());
        }
        let message = match Message::decode(frame, self.config.max_frame_bytes()) {
            Ok(message) => message,
            Err(ProtocolError::TooLarge { len, .. }) => {
                // A cardsync batch just over the limit (the socket layer delivers up to 64 KiB
                // more) gets the verdict `too_large`, which its client rolls back; closing would
                // have it reconnect and send the same batch again. Anything else is closed.
                match Message::peek_batch(frame).filter(|_| !waiting) {
                    Some(batch) => {
                        let max = self.config.max_update_bytes;
                        let reason = format!(
                            "a frame of {len} bytes exceeds the limit for an update of {max}"
                        );
                        let refusal = Refusal {
                            code: RejectCode::TooLarge,
                            reason,
                            client: batch.client,
                            mark: None,
                            summary: None,
                        };
                        self.settle(now, peer, Some(batch), &[], Err(refusal));
                    }
                    None => self.close(peer, PeerCloseReason::FrameTooLarge),
                }
                return Ok(());
            }
            Err(ProtocolError::UnknownType(_) | ProtocolError::UnknownExtension(_)) => {
                return Ok(());
            }
            Err(_) => {
                self.close(peer, PeerCloseReason::Malformed);
                return Ok(());
            }
        };
        if let Message::Hello { version, token, .. } = &message {
            self.authenticate(peer, token, Some(*version));
            return Ok(());
        }
        if waiting && !self.admit_hello_less(peer) {
            return Ok(());
        }
        match message {
            Message::SyncStep1 { state_vector } => self.answer_step1(peer, &state_vector),
            Message::SyncStep2 { update } | Message::Update { update } => {
                self.receive(now, peer, None, &update);
            }
            Message::SubmitBatch { batch, update } => {
                self.receive(now, peer, Some(batch), &update);
            }
            Message::Awareness { update } => self.relay_awareness(now, peer, &update, frame),
            Message::QueryAwareness => {
                if let Some(update) = self.presence.snapshot_for(peer) {
                    self.send(peer, &Message::Awareness { update });
                }
            }
            Message::Ping { nonce } => self.send(peer, &Message::Pong { nonce }),
            // Server-to-client messages and stray pongs mean nothing here.
            Message::Pong { .. }
            | Message::Hello { .. }
            | Message::Welcome { .. }
            | Message::Ack { .. }
            | Message::Reject { .. }
            | Message::AuthDenied { .. } => {}
        }
        Ok(())
    }

    /// Runs the authenticator; admits (welcome + handshake) or refuses (auth message + close).
    /// `version` is `None` for a token given at connect time (no welcome then: the peer may
    /// be a stock client that would not understand it).
    fn authenticate(&mut self, peer: PeerId, token: &str, version: Option<u32>) {
        if version == Some(0) {
            self.deny(peer, "unsupported protocol version 0".to_owned());
            return;
        }
        match self.auth.identify(token) {
            Err(e) => self.deny(peer, e.to_string()),
            Ok(Author { role, subject }) => {
                if let Some(state) = self.peers.get_mut(&peer) {
                    state.subject = subject;
                }
                if let Some(version) = version {
                    let version = version.min(PROTOCOL_VERSION);
                    let role = role.as_str().to_owned();
                    let max_update_bytes = Some(self.config.max_update_bytes as u64);
                    self.send(
                        peer,
                        &Message::Welcome {
                            version,
                            role,
                            max_update_bytes,
                        },
                    );
                }
                if let Some(version) = version
                    && let Some(state) = self.peers.get_mut(&peer)
                {
                    state.hello = true;
                    state.version = version.min(PROTOCOL_VERSION);
                }
                self.admit(peer, role);
            }
        }
    }

    /// Admits a peer that spoke without a hello, if the room allows it. Returns whether the
    /// peer is still connected.
    fn admit_hello_less(&mut self, peer: PeerId) -> bool {
        match self.config.hello_less_role {
            Some(role) => {
                self.admit(peer, role);
                true
            }
            None => {
                self.deny(peer, HELLO_LESS_DENIED.to_owned());
                false
            }
        }
    }

    fn admit(&mut self, peer: PeerId, role: Role) {
        let Some(state) = self.peers.get_mut(&peer) else {
            return;
        };
        let first = matches!(state.stage, Stage::Waiting { .. });
        state.stage = Stage::Admitted { role };
        if first {
            let state_vector = self.doc.state_vector();
            self.send(peer, &Message::SyncStep1 { state_vector });
            if let Some(update) = self.presence.snapshot_for(peer) {
                self.send(peer, &Message::Awareness { update });
            }
        }
    }

    /// Relays a peer's presence to everyone else and remembers it, unless it is over the size
    /// limit or the peer's awareness rate: then it is dropped and counted, and the peer stays
    /// (presence is ephemeral and renewed every 15 s; closing a tab for a fast cursor would
    /// cost its edits' connection).
    fn relay_awareness(&mut self, now: Instant, peer: PeerId, update: &[u8], frame: &[u8]) {
        if update.len() > self.config.max_awareness_bytes {
            self.verdicts.awareness_too_large += 1;
            return;
        }
        let Some(state) = self.peers.get_mut(&peer) else {
            return;
        };
        if !state.awareness.try_take(now) {
            self.verdicts.awareness_rate_limited += 1;
            return;
        }
        if self.presence.apply(peer, update).is_ok() {
            self.broadcast(Some(peer), Bytes::copy_from_slice(frame));
        }
    }

    fn deny(&mut self, peer: PeerId, reason: String) {
        self.send(peer, &Message::AuthDenied { reason });
        self.close(peer, PeerCloseReason::AuthDenied);
    }

    fn answer_step1(&mut self, peer: PeerId, state_vector: &[u8]) {
        // `diff_v1` runs the core's screen on the state vector first.
        match self.doc.diff_v1(state_vector).ok() {
            Some(update) => self.answer_step1_when_durable(peer, state_vector, update),
            None => self.close(peer, PeerCloseReason::Malformed),
        }
    }

    pub(super) fn send(&mut self, peer: PeerId, message: &Message) {
        match message {
            Message::Ack { .. } => self.verdicts.acks += 1,
            Message::Reject { code, .. } => {
                self.verdicts.rejections += 1;
                self.verdicts.rejections_by_code[code.index()] += 1;
            }
            _ => {}
        }
        let frame = Bytes::from(message.encode());
        self.actions.push_back(RoomAction::Send { peer, frame });
    }

    /// Sends a frame to every admitted peer except `except`: one buffer, shared.
    pub(super) fn broadcast(&mut self, except: Option<PeerId>, frame: impl Into<Bytes>) {
        let frame: Bytes = frame.into();
        for (&id, state) in &self.peers {
            if Some(id) != except && state.role().is_some() {
                let frame = frame.clone();
                self.actions.push_back(RoomAction::Send { peer: id, frame });
            }
        }
    }

    /// Closes a peer: the driver closes the socket, the room forgets the peer.
    pub(super) fn close(&mut self, peer: PeerId, reason: PeerCloseReason) {
        if self.forget(peer) {
            self.actions.push_back(RoomAction::Close { peer, reason });
        }
    }

    /// Removes a peer and tells the others its presence is gone. Returns whether it existed.
    fn forget(&mut self, peer: PeerId) -> bool {
        if self.peers.remove(&peer).is_none() {
            return false;
        }
        if let Some(update) = self.presence.remove_peer(peer) {
            self.broadcast(None, Message::Awareness { update }.encode());
        }
        true
    }
}
