//! One WebSocket attempt: connect, then pump frames both ways until it ends.
//!
//! Each `OpenSocket` of the connection state machine becomes one of these tasks, tagged with
//! its [`SocketId`], and everything it reports carries that id: the state machine refuses
//! events of sockets it has given up on, so a slow close of an old socket can never be
//! mistaken for a failure of the new one.

use cardsync_sync::connection::SocketId;
use cardsync_sync::protocol::close_code;
use futures_util::{SinkExt as _, StreamExt as _};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message as WsMessage;

/// `TCP_NODELAY`: frames are small and each is wanted at once, so none should wait for the
/// acknowledgement of the one before (Nagle's algorithm); browsers set it on WebSockets too.
const NO_NAGLE: bool = true;

/// What a socket task reports to the driver.
#[derive(Debug)]
pub(crate) enum SocketEvent {
    /// Connected; frames for it go to `writer`.
    Opened {
        socket: SocketId,
        writer: mpsc::UnboundedSender<WsOut>,
    },
    /// A binary frame arrived.
    Frame { socket: SocketId, bytes: Vec<u8> },
    /// The connection attempt failed.
    Failed { socket: SocketId, error: String },
    /// The socket closed, with the peer's close code ([`close_code::ABNORMAL`] without a
    /// close frame) and reason.
    Closed {
        socket: SocketId,
        code: u16,
        reason: String,
    },
}

/// What the driver sends a socket task.
#[derive(Debug)]
pub(crate) enum WsOut {
    Frame(Vec<u8>),
    Close,
}

/// Connects to `url` and pumps frames until the socket ends or the driver closes it.
pub(crate) async fn run(socket: SocketId, url: String, events: mpsc::UnboundedSender<SocketEvent>) {
    let ws = match tokio_tungstenite::connect_async_with_config(url.as_str(), None, NO_NAGLE).await
    {
        Ok((ws, _response)) => ws,
        Err(e) => {
            let _ = events.send(SocketEvent::Failed {
                socket,
                error: e.to_string(),
            });
            return;
        }
    };
    let (mut sink, mut stream) = ws.split();
    let (writer, mut out) = mpsc::unbounded_channel();
    if events.send(SocketEvent::Opened { socket, writer }).is_err() {
        return;
    }
    let (code, reason) = loop {
        tokio::select! {
            incoming = stream.next() => match incoming {
                Some(Ok(WsMessage::Binary(bytes))) => {
                    let _ = events.send(SocketEvent::Frame { socket, bytes: bytes.to_vec() });
                }
                Some(Ok(WsMessage::Close(frame))) => {
                    // tungstenite answers the close itself; drain until the stream ends.
                    let (code, reason) = frame
                        .map(|f| (u16::from(f.code), f.reason.to_string()))
                        .unwrap_or((close_code::NO_STATUS, String::new()));
                    while let Some(Ok(_)) = stream.next().await {}
                    break (code, reason);
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => break (close_code::ABNORMAL, e.to_string()),
                None => break (close_code::ABNORMAL, String::new()),
            },
            outgoing = out.recv() => match outgoing {
                Some(WsOut::Frame(frame)) => {
                    if let Err(e) = sink.send(WsMessage::Binary(frame.into())).await {
                        break (close_code::ABNORMAL, e.to_string());
                    }
                }
                Some(WsOut::Close) | None => {
                    let _ = sink.close().await;
                    break (close_code::NORMAL, "closed by the client".into());
                }
            },
        }
    };
    let _ = events.send(SocketEvent::Closed {
        socket,
        code,
        reason,
    });
}
