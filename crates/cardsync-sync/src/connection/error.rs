//! Inputs the machine refused.
//!
//! A sans-IO machine sees events late and out of order as a matter of course: a close event
//! from a socket it already abandoned, a pong after a reconnect. None of these may panic or
//! corrupt the state, so every `handle_*` for a socket event returns `Result`, and an `Err`
//! means "ignored, nothing changed". Drivers can log them at debug level; tests assert on
//! them. Commands that state a fact (`handle_start`, `handle_network`, ...) are idempotent
//! instead and never fail: repeating a fact is not an error.

use thiserror::Error;

use super::action::SocketId;
use super::status::State;

/// An input event that the current state does not accept; the machine ignored it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Error)]
pub enum ConnectionError {
    /// The event names a socket other than the current one (an abandoned socket, or none is
    /// open at all).
    #[error("event from {socket}, but the current socket is {current:?}")]
    StaleSocket {
        /// The socket named by the event.
        socket: SocketId,
        /// The socket the machine is using, if any.
        current: Option<SocketId>,
    },
    /// The event is about the current socket but does not fit the state, e.g.
    /// `socket_opened` twice, or `synced` before the socket opened.
    #[error("{input:?} is not expected while {state}")]
    UnexpectedInput {
        /// The refused input.
        input: InputKind,
        /// The state the machine was in (and still is).
        state: State,
    },
    /// A pong whose nonce matches no ping in flight: a duplicate, or too late.
    #[error("pong with nonce {nonce} answers no ping in flight")]
    UnknownPong {
        /// The nonce carried by the pong.
        nonce: u64,
    },
}

/// Which input an [`ConnectionError::UnexpectedInput`] refers to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputKind {
    /// `handle_socket_opened`.
    SocketOpened,
    /// `handle_synced`.
    Synced,
    /// `handle_message_received`.
    MessageReceived,
}
