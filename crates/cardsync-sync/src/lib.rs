//! # cardsync-sync
//!
//! Sans-IO sync for cardsync documents. Nothing here reads a clock, draws a random number or
//! touches a socket: drivers (the tokio server and client, the browser client) feed in time,
//! bytes and socket events through `handle_*` methods and carry out what `poll_*` methods
//! return.
//!
//! ## The drain rule
//! After every `handle_*` call, and whenever the instant returned by `poll_timeout` passes
//! (call `handle_timeout(now)`), a driver drains every `poll_*` queue until it returns `None`.
//! State machines never act on their own between calls, so a driver that follows this rule
//! cannot miss an action, and a test can run them all in one thread with a simulated clock.

pub mod connection;
pub mod outbox;
pub mod protocol;
pub mod room;
pub mod session;
