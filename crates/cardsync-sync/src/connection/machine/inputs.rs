//! The inputs of [`Connection`]: one `handle_*` per thing a driver can observe.
//!
//! Two kinds, treated differently on purpose. Facts about the world (`start`/`stop`,
//! network, visibility) are idempotent and infallible: a driver may repeat them freely, e.g.
//! re-sending `navigator.onLine` on every focus. Socket events name a [`SocketId`] and return
//! `Result`: an `Err` means the event was stale or out of place and was ignored, with the
//! state untouched (see [`ConnectionError`]).

use super::Connection;
use crate::connection::{
    Cause, CloseCause, ConnectionError, Failure, InputKind, Instant, Rng, RttEstimate, SocketId,
    State,
};

impl<R: Rng> Connection<R> {
    /// The user wants to sync. Connects at once unless the network is down. Idempotent.
    pub fn handle_start(&mut self, now: Instant) {
        self.step(now, |c, now| {
            c.wanted = true;
            if c.state == State::Offline && c.network_online {
                c.connect(now, Cause::Started);
            }
        });
    }

    /// The user no longer wants to sync: close any socket, cancel any retry, forget the
    /// failure count. Idempotent.
    pub fn handle_stop(&mut self, now: Instant) {
        self.step(now, |c, now| {
            c.wanted = false;
            c.go_offline(now, CloseCause::Stopped, Cause::Stopped);
        });
    }

    /// The browser's `online`/`offline` events. Down: close any socket and stop retrying,
    /// since retries would only fail. Up: connect at once with a fresh failure count, since
    /// the failures were most likely the outage itself. Idempotent.
    pub fn handle_network(&mut self, now: Instant, online: bool) {
        self.step(now, |c, now| {
            c.network_online = online;
            if !online {
                c.go_offline(now, CloseCause::NetworkOffline, Cause::NetworkOffline);
            } else if c.wanted && c.state == State::Offline {
                c.connect(now, Cause::NetworkOnline);
            }
        });
    }

    /// The page became hidden or visible: switches the heartbeat interval, measured from the
    /// last tick, so a page coming back into view checks a long-silent socket at once.
    pub fn handle_visibility(&mut self, now: Instant, hidden: bool) {
        self.step(now, |c, _| c.hidden = hidden);
    }

    /// The socket opened: start syncing, under the sync idle timeout.
    pub fn handle_socket_opened(
        &mut self,
        now: Instant,
        socket: SocketId,
    ) -> Result<(), ConnectionError> {
        self.step(now, |c, now| {
            c.check(socket, InputKind::SocketOpened, &[State::Connecting])?;
            c.deadline = Some(now + c.config.sync_timeout);
            c.set_state(now, State::Syncing, Cause::SocketOpened);
            Ok(())
        })
    }

    /// The session finished the initial sync on this socket: go online, reset the failure
    /// count, start heartbeats.
    pub fn handle_synced(&mut self, now: Instant, socket: SocketId) -> Result<(), ConnectionError> {
        self.step(now, |c, now| {
            c.check(socket, InputKind::Synced, &[State::Syncing])?;
            c.deadline = None;
            c.consecutive_failures = 0;
            c.online_since = Some(now);
            c.heartbeat.restart(now);
            c.set_state(now, State::Online, Cause::Synced);
            Ok(())
        })
    }

    /// Any inbound message on this socket (pongs included): proof of life. While syncing it
    /// restarts the sync idle timeout; while online it resets the missed-heartbeat count.
    pub fn handle_message_received(
        &mut self,
        now: Instant,
        socket: SocketId,
    ) -> Result<(), ConnectionError> {
        self.step(now, |c, now| {
            c.check(
                socket,
                InputKind::MessageReceived,
                &[State::Syncing, State::Online],
            )?;
            c.last_received_at = Some(now);
            if c.state == State::Syncing {
                c.deadline = Some(now + c.config.sync_timeout);
            }
            c.heartbeat.heard();
            Ok(())
        })
    }

    /// A pong echoing `nonce`: an RTT sample and proof of life. Needs no socket id because
    /// nonces are never reused, so only the current socket can answer a ping in flight.
    pub fn handle_pong(&mut self, now: Instant, nonce: u64) -> Result<(), ConnectionError> {
        self.step(now, |c, now| {
            let sample = match c.state {
                State::Online => c.heartbeat.pong(now, nonce),
                _ => None,
            };
            let sample = sample.ok_or(ConnectionError::UnknownPong { nonce })?;
            match &mut c.rtt {
                Some(rtt) => rtt.update(sample),
                None => c.rtt = Some(RttEstimate::new(sample)),
            }
            c.last_pong_at = Some(now);
            c.last_received_at = Some(now);
            Ok(())
        })
    }

    /// The socket closed (by the peer, the network, or after our own `CloseSocket`, in
    /// which case it is stale and refused). `code` is the WebSocket close code.
    pub fn handle_socket_closed(
        &mut self,
        now: Instant,
        socket: SocketId,
        code: u16,
    ) -> Result<(), ConnectionError> {
        self.step(now, |c, now| {
            c.check_socket(socket)?;
            c.fail(now, Failure::SocketClosed { code });
            Ok(())
        })
    }

    /// The socket reported an error. Browsers follow it with a close event, which will then
    /// be stale: the machine has already moved on.
    pub fn handle_socket_error(
        &mut self,
        now: Instant,
        socket: SocketId,
    ) -> Result<(), ConnectionError> {
        self.step(now, |c, now| {
            c.check_socket(socket)?;
            c.fail(now, Failure::SocketError);
            Ok(())
        })
    }

    /// Time has reached (or passed) `poll_timeout()`; fires whatever is due. Calling it
    /// early is harmless.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.step(now, |_, _| ());
    }
}
