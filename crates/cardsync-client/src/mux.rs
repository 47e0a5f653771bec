//! Many documents over one connection: `MuxClient` (in `lib.rs`) holds one WebSocket to the
//! server's multiplexed endpoint (`/ws`), run by the task here, and `MuxClient::open` gives a
//! `Client` per document with the same API as a client with a socket of its own (docs/design.md §6, *Many rooms over one
//! socket*).
//!
//! **Why a socket per room, virtually.** The per-document engine, `SyncMachine`, stays exactly
//! as it is: it asks for a socket, sends frames on it, and hears it close. Here each such
//! socket is a *room* of the shared connection: opening it joins the document under a fresh
//! room id (never reused on that connection), its frames travel with the room id in front, and
//! the server's error frame for the room is that socket's close, with the code a socket of its
//! own would have closed with. So a refused token, a rejection budget spent or a room the
//! server dropped affect one document, whose machine backs off and rejoins as it would
//! reconnect; only the shared connection dropping closes every room at once.
//!
//! The connection opens when the first document asks for a socket, and stays open while the
//! handle lives (switching to an open document costs a join, not a TCP and WebSocket setup).
//! Messages the server sends in pieces are reassembled per room
//! ([`Reassembly`](cardsync_sync::protocol::mux::Reassembly)).

use bytes::Bytes;
use cardsync_sync::connection::SocketId;
use cardsync_sync::protocol::close_code;
use cardsync_sync::protocol::mux::{self, MuxFrame, Reassembly, RoomId};
use futures_util::{SinkExt as _, StreamExt as _};
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::socket::{SocketEvent, WsOut};

/// The largest message reassembled from pieces: the socket layer's default message limit,
/// which bounds a message on a socket of its own the same way.
const MAX_MESSAGE: usize = 64 << 20;

/// What a document's driver (or a room's writer) asks of the shared connection.
#[derive(Debug)]
pub(crate) enum MuxCommand {
    /// Open a virtual socket: join `doc`, and report to `events` as a socket would.
    Open {
        socket: SocketId,
        doc: String,
        events: mpsc::UnboundedSender<SocketEvent>,
    },
    /// A frame for a room.
    Send { room: RoomId, frame: Vec<u8> },
    /// The driver closed the room's socket.
    Leave { room: RoomId },
}

/// Starts the task of a connection to `url` (the server's `/ws`), opened when the first room
/// needs it; it ends once every sender of its commands is gone. Call it inside a tokio
/// runtime.
pub(crate) fn spawn(url: String) -> mpsc::UnboundedSender<MuxCommand> {
    let (commands, rx) = mpsc::unbounded_channel();
    let task = Task {
        url,
        commands: commands.downgrade(),
        rooms: HashMap::new(),
        next_room: 1,
        reassembly: Reassembly::default(),
    };
    tokio::spawn(task.run(rx));
    commands
}

/// How a document's driver reaches its room.
pub(crate) enum Transport {
    /// A WebSocket of its own, to this URL.
    Direct(String),
    /// A room of a shared connection.
    Mux {
        commands: mpsc::UnboundedSender<MuxCommand>,
        doc: String,
    },
}

impl Transport {
    /// Opens socket `socket` for the driver, which hears of it on `events`.
    pub(crate) fn open(&self, socket: SocketId, events: mpsc::UnboundedSender<SocketEvent>) {
        match self {
            Transport::Direct(url) => {
                tokio::spawn(crate::socket::run(socket, url.clone(), events));
            }
            Transport::Mux { commands, doc } => {
                let open = MuxCommand::Open {
                    socket,
                    doc: doc.clone(),
                    events: events.clone(),
                };
                if commands.send(open).is_err() {
                    let error = "the shared connection has stopped".to_owned();
                    let _ = events.send(SocketEvent::Failed { socket, error });
                }
            }
        }
    }
}

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;
type Connecting = Pin<Box<dyn Future<Output = Result<Ws, String>> + Send>>;

/// A room of the connection, and the virtual socket it stands for.
struct Room {
    socket: SocketId,
    doc: String,
    events: mpsc::UnboundedSender<SocketEvent>,
    /// Joined on the current connection (and reported opened).
    joined: bool,
}

struct Task {
    url: String,
    /// For the rooms' writers; weak, so the task ends once every handle and driver is gone.
    commands: mpsc::WeakUnboundedSender<MuxCommand>,
    rooms: HashMap<RoomId, Room>,
    next_room: u64,
    reassembly: Reassembly,
}

impl Task {
    async fn run(mut self, mut commands: mpsc::UnboundedReceiver<MuxCommand>) {
        let mut ws: Option<Ws> = None;
        let mut connecting: Option<Connecting> = None;
        loop {
            tokio::select! {
                command = commands.recv() => match command {
                    Some(command) => self.command(command, &mut ws, &mut connecting).await,
                    None => break,
                },
                connected = async {
                    match connecting.as_mut() {
                        Some(fut) => fut.await,
                        None => std::future::pending().await,
                    }
                } => {
                    connecting = None;
                    match connected {
                        Ok(socket) => {
                            let mut socket = socket;
                            if self.join_waiting(&mut socket).await {
                                ws = Some(socket);
                            } else {
                                self.lost(close_code::ABNORMAL, "write failed");
                            }
                        }
                        Err(error) => self.failed(&error),
                    }
                }
                incoming = async {
                    match ws.as_mut() {
                        Some(ws) => ws.next().await,
                        None => std::future::pending().await,
                    }
                } => match incoming {
                    Some(Ok(WsMessage::Binary(bytes))) => self.frame(&bytes),
                    Some(Ok(WsMessage::Close(frame))) => {
                        let (code, reason) = frame
                            .map(|f| (u16::from(f.code), f.reason.to_string()))
                            .unwrap_or((close_code::NO_STATUS, String::new()));
                        ws = None;
                        self.lost(code, &reason);
                    }
                    Some(Ok(_)) => {}
                    Some(Err(e)) => {
                        ws = None;
                        self.lost(close_code::ABNORMAL, &e.to_string());
                    }
                    None => {
                        ws = None;
                        self.lost(close_code::ABNORMAL, "connection ended");
                    }
                },
            }
        }
        if let Some(mut ws) = ws {
            let _ = ws.close(None).await;
        }
    }

    async fn command(
        &mut self,
        command: MuxCommand,
        ws: &mut Option<Ws>,
        connecting: &mut Option<Connecting>,
    ) {
        match command {
            MuxCommand::Open {
                socket,
                doc,
                events,
            } => {
                let room = RoomId(self.next_room);
                self.next_room += 1;
                self.rooms.insert(
                    room,
                    Room {
                        socket,
                        doc,
                        events,
                        joined: false,
                    },
                );
                match ws {
                    Some(open) => {
                        let joined = self.join(open, room).await;
                        if !joined {
                            *ws = None;
                            self.lost(close_code::ABNORMAL, "write failed");
                        }
                    }
                    None if connecting.is_none() => {
                        let url = self.url.clone();
                        *connecting = Some(Box::pin(async move {
                            tokio_tungstenite::connect_async_with_config(url.as_str(), None, true)
                                .await
                                .map(|(ws, _)| ws)
                                .map_err(|e| e.to_string())
                        }));
                    }
                    None => {}
                }
            }
            MuxCommand::Send { room, frame } => {
                let joined = self.rooms.get(&room).is_some_and(|r| r.joined);
                if let (true, Some(open)) = (joined, ws.as_mut()) {
                    let frame = mux::message_frame(room, &frame);
                    if let Err(e) = open.send(WsMessage::Binary(frame.into())).await {
                        *ws = None;
                        self.lost(close_code::ABNORMAL, &e.to_string());
                    }
                }
            }
            MuxCommand::Leave { room } => {
                self.reassembly.forget(room);
                let Some(left) = self.rooms.remove(&room) else {
                    return;
                };
                if let (true, Some(open)) = (left.joined, ws.as_mut()) {
                    let frame = mux::leave_frame(room);
                    if let Err(e) = open.send(WsMessage::Binary(frame.into())).await {
                        *ws = None;
                        self.lost(close_code::ABNORMAL, &e.to_string());
                    }
                }
                let _ = left.events.send(SocketEvent::Closed {
                    socket: left.socket,
                    code: close_code::NORMAL,
                    reason: "closed by the client".into(),
                });
            }
        }
    }

    /// Joins every room that waited for the connection. `false` if a write failed.
    async fn join_waiting(&mut self, ws: &mut Ws) -> bool {
        let mut waiting: Vec<RoomId> = self
            .rooms
            .iter()
            .filter(|(_, r)| !r.joined)
            .map(|(id, _)| *id)
            .collect();
        waiting.sort();
        for room in waiting {
            if !self.join(ws, room).await {
                return false;
            }
        }
        true
    }

    /// Sends the join of `room`, then reports its socket open with a writer of its own.
    async fn join(&mut self, ws: &mut Ws, room: RoomId) -> bool {
        let Some(entry) = self.rooms.get_mut(&room) else {
            return true;
        };
        let frame = mux::join_frame(room, &entry.doc);
        if ws.send(WsMessage::Binary(frame.into())).await.is_err() {
            return false;
        }
        entry.joined = true;
        let (writer, out) = mpsc::unbounded_channel();
        tokio::spawn(forward(room, out, self.commands.clone()));
        let opened = SocketEvent::Opened {
            socket: entry.socket,
            writer,
        };
        let _ = entry.events.send(opened);
        true
    }

    fn frame(&mut self, bytes: &Bytes) {
        let frame = match MuxFrame::decode(bytes, MAX_MESSAGE) {
            Ok(frame) => frame,
            Err(e) => {
                tracing::warn!(error = %e, "undecodable frame on the shared connection");
                return;
            }
        };
        match frame {
            MuxFrame::Message { room, body } => {
                let whole = self.reassembly.finish(room, body, MAX_MESSAGE);
                if let (Ok(whole), Some(entry)) = (whole, self.rooms.get(&room)) {
                    let _ = entry.events.send(SocketEvent::Frame {
                        socket: entry.socket,
                        bytes: whole.to_vec(),
                    });
                }
            }
            MuxFrame::Fragment { room, body } => {
                if let Err(e) = self.reassembly.fragment(room, &body, MAX_MESSAGE) {
                    tracing::warn!(%room, error = %e, "fragmented message too large; dropped");
                }
            }
            MuxFrame::Error { room, error } => {
                self.reassembly.forget(room);
                tracing::debug!(%room, code = error.code.as_str(), reason = %error.reason, "room error");
                if let Some(entry) = self.rooms.remove(&room) {
                    let _ = entry.events.send(SocketEvent::Closed {
                        socket: entry.socket,
                        code: error.close_code,
                        reason: format!("{}: {}", error.code.as_str(), error.reason),
                    });
                }
            }
            MuxFrame::Join { .. } | MuxFrame::Leave { .. } => {
                tracing::warn!("a server sent a join or leave; ignored");
            }
        }
    }

    /// The connection closed: every room's socket closes with it.
    fn lost(&mut self, code: u16, reason: &str) {
        self.reassembly = Reassembly::default();
        for (_, room) in self.rooms.drain() {
            let event = if room.joined {
                SocketEvent::Closed {
                    socket: room.socket,
                    code,
                    reason: reason.to_owned(),
                }
            } else {
                SocketEvent::Failed {
                    socket: room.socket,
                    error: reason.to_owned(),
                }
            };
            let _ = room.events.send(event);
        }
    }

    /// Connecting failed: every waiting room's socket failed.
    fn failed(&mut self, error: &str) {
        self.lost(close_code::ABNORMAL, error);
    }
}

/// Carries a room's frames from its driver to the connection, and its close as a leave.
async fn forward(
    room: RoomId,
    mut out: mpsc::UnboundedReceiver<WsOut>,
    commands: mpsc::WeakUnboundedSender<MuxCommand>,
) {
    while let Some(message) = out.recv().await {
        let Some(commands) = commands.upgrade() else {
            return;
        };
        match message {
            WsOut::Frame(frame) => {
                let _ = commands.send(MuxCommand::Send { room, frame });
            }
            WsOut::Close => break,
        }
    }
    // Closed by the driver, or the driver dropped its writer (it heard the room close).
    if let Some(commands) = commands.upgrade() {
        let _ = commands.send(MuxCommand::Leave { room });
    }
}
