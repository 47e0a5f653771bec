//! Connections that hold a socket without using it are closed: a request head trickled a
//! byte at a time (slow loris), and a WebSocket that goes silent, authenticated or not. A live
//! client that is merely quiet stays connected: its WebSocket layer answers the server's pings.
//!
//! The raw clients here speak TCP and the WebSocket framing by hand, because a WebSocket
//! library answers pings by itself whenever it reads, which is exactly what a dead peer does
//! not do.

mod common;

use std::time::{Duration, Instant};

use cardsync_sync::protocol::close_code;
use cardsync_sync::room::Role;
use common::*;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

/// Short timeouts, so the test waits seconds, not the production minute.
const CONFIG: &str = "[limits]\nhandshake_timeout_ms = 1000\nidle_timeout_ms = 1500\n";

/// The head of a WebSocket upgrade request for `/rooms/board`, without its final blank line.
fn upgrade_head(addr: std::net::SocketAddr) -> String {
    format!(
        "GET /rooms/board HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\n\
         Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    )
}

/// A masked binary frame (clients must mask); payloads up to 64 KiB.
fn client_frame(payload: &[u8]) -> Vec<u8> {
    let mask = [0x37, 0xfa, 0x21, 0x3d];
    let mut frame = vec![0x82];
    match payload.len() {
        n @ 0..=125 => frame.push(0x80 | n as u8),
        n => {
            frame.push(0x80 | 126);
            frame.extend(u16::try_from(n).unwrap().to_be_bytes());
        }
    }
    frame.extend(mask);
    frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    frame
}

/// Reads server frames (unmasked) until a close frame; returns its code, or `None` if the
/// connection ended without one. Never answers a ping.
async fn read_until_close(tcp: &mut TcpStream) -> Option<u16> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        // Parse whole frames at the front of `buf`.
        while buf.len() >= 2 {
            let (opcode, short) = (buf[0] & 0x0f, usize::from(buf[1] & 0x7f));
            let (len, header) = match short {
                126 if buf.len() >= 4 => (usize::from(u16::from_be_bytes([buf[2], buf[3]])), 4),
                127 if buf.len() >= 10 => {
                    let len = u64::from_be_bytes(buf[2..10].try_into().unwrap());
                    (usize::try_from(len).unwrap(), 10)
                }
                126 | 127 => break,
                n => (n, 2),
            };
            if buf.len() < header + len {
                break;
            }
            if opcode == 0x8 {
                let code = (len >= 2).then(|| u16::from_be_bytes([buf[header], buf[header + 1]]));
                return Some(code.unwrap_or(close_code::NO_STATUS));
            }
            buf.drain(..header + len);
        }
        match tcp.read(&mut chunk).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

/// Opens a WebSocket by hand and returns the stream after the 101 response.
async fn upgraded(addr: std::net::SocketAddr) -> TcpStream {
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    tcp.write_all(format!("{}\r\n", upgrade_head(addr)).as_bytes())
        .await
        .unwrap();
    // Read the response head byte by byte, so no frame after it is consumed.
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        head.push(tcp.read_u8().await.unwrap());
    }
    assert!(
        head.starts_with(b"HTTP/1.1 101"),
        "{}",
        String::from_utf8_lossy(&head)
    );
    tcp
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_head_trickled_byte_by_byte_is_cut_off() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path(), CONFIG, 0);
    let mut tcp = TcpStream::connect(server.addr).await.unwrap();
    tcp.write_all(upgrade_head(server.addr).as_bytes())
        .await
        .unwrap();
    tcp.write_all(b"X-Slow: ").await.unwrap();
    // One more header byte every 100 ms, never the blank line that ends the head: without a
    // deadline on the head, this holds the socket for as long as the client likes.
    let started = Instant::now();
    let mut byte = [0u8; 1];
    let cut = loop {
        if started.elapsed() > TIMEOUT {
            break false;
        }
        if tcp.write_all(b"a").await.is_err() {
            break true;
        }
        let read = tokio::time::timeout(Duration::from_millis(100), tcp.read(&mut byte)).await;
        if let Ok(Ok(0) | Err(_)) = read {
            break true;
        }
    };
    assert!(cut, "the server kept a trickled request head open");
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "closed before the handshake timeout: {:?}",
        started.elapsed()
    );
    // The server still serves everyone else.
    let (a, _) = client(&server.url("board"), "board", Role::Editor, None).await;
    settled(&a, "a client online after the slow one").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_websockets_are_closed_and_quiet_live_clients_stay() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path(), CONFIG, 0);
    let (live, mut events) = client(&server.url("board"), "board", Role::Editor, None).await;
    settled(&live, "the live client online").await;

    // Authenticated, then silent: it never answers the server's ping.
    let mut silent = upgraded(server.addr).await;
    let hello = hello_from(&token("board", Role::Editor), 77);
    silent
        .write_all(&client_frame(&hello.encode()))
        .await
        .unwrap();
    let started = Instant::now();
    let code = within("the idle close", read_until_close(&mut silent)).await;
    assert_eq!(code, Some(close_code::GOING_AWAY), "closed for idleness");
    assert!(
        started.elapsed() >= Duration::from_millis(1400),
        "closed before the idle timeout: {:?}",
        started.elapsed()
    );

    // Never even a hello: the same.
    let mut mute = upgraded(server.addr).await;
    let code = within("the idle close", read_until_close(&mut mute)).await;
    assert!(code.is_some(), "a close frame, not a reset");

    // The live client sat quiet through several idle timeouts and is still online and
    // working: its WebSocket layer answered every ping.
    tokio::time::sleep(Duration::from_millis(4000)).await;
    settled(&live, "the live client still online").await;
    while let Ok(event) = events.try_recv() {
        assert!(
            !matches!(event, cardsync_client::ClientEvent::Closed { .. }),
            "the live client was disconnected: {event:?}"
        );
    }
    let card = cardsync_core::CardId::from_u128(9);
    let create = cardsync_core::Op::CreateCard {
        card,
        kind: "task".into(),
        fields: Default::default(),
    };
    live.apply(cardsync_core::Stamp::new(1, "live"), vec![create])
        .await
        .unwrap();
    settled(&live, "the live client's write acked").await;
}
