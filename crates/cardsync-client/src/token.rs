//! Tokens that expire, natively: a [`TokenSource`] the client asks for a token before each
//! connection and again when the server refuses one (`"token expired"`), as the npm
//! `SyncClient`'s `token` callback (docs/design.md §6, *Tokens that expire*).
//!
//! Why a callback and not a token: a token is minted with an expiry, and a client that lives
//! longer than it would otherwise reconnect with a token the server refuses every time. The
//! source's answer opens the socket; no answer, or the refused token again, stops the client
//! (`SyncStatus::unauthorized`) with every outbox entry kept, until `Client::set_token`.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use cardsync_sync::connection::SocketId;

type Fetch = dyn Fn() -> Pin<Box<dyn Future<Output = Option<String>> + Send>> + Send + Sync;

/// Where a client gets its tokens: an async function returning a token, or `None` when none
/// can be had (signed out, the backend refused).
#[derive(Clone)]
pub struct TokenSource(Arc<Fetch>);

impl TokenSource {
    /// Wraps `fetch`, called once per token wanted.
    pub fn new<F, Fut>(fetch: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Option<String>> + Send + 'static,
    {
        Self(Arc::new(move || Box::pin(fetch())))
    }

    pub(crate) fn fetch(&self) -> Pin<Box<dyn Future<Output = Option<String>> + Send>> {
        (self.0)()
    }
}

impl fmt::Debug for TokenSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenSource(..)")
    }
}

/// A token source's answer, back in the client's task.
#[derive(Debug)]
pub(crate) enum TokenAnswer {
    /// For the socket about to open.
    ForSocket {
        socket: SocketId,
        token: Option<String>,
    },
    /// After the server refused the token, for this reason.
    Refresh {
        reason: String,
        token: Option<String>,
    },
}
