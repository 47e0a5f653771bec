//! Shared helpers of the end-to-end tests: the real server binary on 127.0.0.1, native
//! clients, raw WebSockets, and bounded waits.
//!
//! Every wait is bounded by [`TIMEOUT`] (generous, for a loaded 2-core CI machine) and
//! asserts an outcome, never a duration.

#![allow(dead_code)]

pub mod measure;
pub mod openapi;
pub mod pg;

use std::io::{BufRead as _, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use cardsync_client::{Client, ClientConfig, ClientEvent, ClientEvents, SyncStatus};
use cardsync_core::{CardKind, FieldDef, FieldKind, Schema, ValueType};
use cardsync_server::auth::{Claims, Secret, mint, unix_now};
use cardsync_sync::connection::{ConnectionConfig, State};
use cardsync_sync::protocol::{Message, close_code};
use cardsync_sync::room::Role;
use futures_util::{SinkExt as _, StreamExt as _};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// The bound on every wait.
pub const TIMEOUT: Duration = Duration::from_secs(60);

pub const SECRET: &[u8; 32] = b"test-secret-test-secret-test-sec";

pub fn schema() -> Schema {
    Schema::new(1).card(
        "task",
        CardKind::default()
            .field("title", FieldDef::register(ValueType::String))
            .field("votes", FieldDef::new(FieldKind::Counter))
            // For the stock peers' tests (stock.rs): a state machine and a text field.
            .field(
                "status",
                FieldDef::state_machine([("todo", "doing"), ("doing", "done"), ("doing", "todo")]),
            )
            .field("body", FieldDef::new(FieldKind::Text)),
    )
}

pub fn token(doc: &str, role: Role) -> String {
    minted(doc, role, None)
}

/// A token with a subject (`sub`): the user id the server stamps and audits.
pub fn token_of(doc: &str, role: Role, sub: &str) -> String {
    minted(doc, role, Some(sub.into()))
}

fn minted(doc: &str, role: Role, sub: Option<String>) -> String {
    let claims = Claims {
        doc: doc.into(),
        role,
        exp: unix_now() + 3600,
        sub,
    };
    mint(&Secret::new(SECRET.to_vec()).unwrap(), &claims)
}

/// Fails the test with `what` if `fut` does not finish within [`TIMEOUT`].
pub async fn within<T>(what: &str, fut: impl std::future::Future<Output = T>) -> T {
    match tokio::time::timeout(TIMEOUT, fut).await {
        Ok(out) => out,
        Err(_) => panic!("timed out waiting for {what}"),
    }
}

/// A free loopback port (bound then released).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The server binary, started on a data directory.
pub struct TestServer {
    pub child: Child,
    pub addr: SocketAddr,
    pub dir: PathBuf,
}

/// Writes the schema and a config (plus `extra` TOML) into `dir`.
pub fn write_config(dir: &Path, extra: &str) -> PathBuf {
    write_config_with(dir, extra, &schema())
}

/// [`write_config`] with another schema.
pub fn write_config_with(dir: &Path, extra: &str, schema: &Schema) -> PathBuf {
    let schema_file = dir.join("schema.json");
    std::fs::write(&schema_file, serde_json::to_string(schema).unwrap()).unwrap();
    let config = dir.join("server.toml");
    let text = format!(
        "data_dir = {:?}\nschema = {:?}\n{extra}",
        dir.join("data"),
        schema_file
    );
    std::fs::write(&config, text).unwrap();
    config
}

/// Runs the binary with `args`, the test secret and quiet logs. The binary is this build's,
/// or the one `CARDSYNC_TEST_SERVER_BIN` names (a measurement comparing another commit's
/// server, e.g. `load_nodes.rs`).
pub fn command(dir: &Path, extra: &str, port: u16) -> Command {
    command_with(dir, extra, port, &schema())
}

/// [`command`] with another schema.
pub fn command_with(dir: &Path, extra: &str, port: u16, schema: &Schema) -> Command {
    let config = write_config_with(dir, extra, schema);
    let bin = std::env::var_os("CARDSYNC_TEST_SERVER_BIN")
        .unwrap_or_else(|| env!("CARGO_BIN_EXE_cardsync-server").into());
    let mut cmd = Command::new(bin);
    cmd.args(["serve", "--config"])
        .arg(&config)
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .env("CARDSYNC_SECRET", std::str::from_utf8(SECRET).unwrap())
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

/// What happens to the server's stderr.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Logs {
    /// Warnings and errors, forwarded to the test's output (shown on failure).
    Forwarded,
    /// Everything down to `debug`, into a pipe whose reading end is closed at once, as when
    /// the `| tee` or log shipper reading a server's stderr goes away.
    BrokenPipe,
}

impl TestServer {
    /// Starts the server on `port` (0: any) and waits for its "listening" line.
    pub fn start(dir: &Path, extra: &str, port: u16) -> TestServer {
        Self::start_with_logs(dir, extra, port, Logs::Forwarded)
    }

    /// [`TestServer::start`], with the server's stderr going where `logs` says.
    pub fn start_with_logs(dir: &Path, extra: &str, port: u16, logs: Logs) -> TestServer {
        Self::spawn(dir, command(dir, extra, port), logs)
    }

    /// [`TestServer::start`] with another schema.
    pub fn start_with_schema(dir: &Path, extra: &str, schema: &Schema) -> TestServer {
        Self::spawn(dir, command_with(dir, extra, 0, schema), Logs::Forwarded)
    }

    fn spawn(dir: &Path, mut command: Command, logs: Logs) -> TestServer {
        if logs == Logs::BrokenPipe {
            command.env("RUST_LOG", "debug");
        }
        let mut child = command.spawn().unwrap();
        let stdout = child.stdout.take().unwrap();
        let stderr = child.stderr.take().unwrap();
        match logs {
            Logs::Forwarded => {
                std::thread::spawn(move || {
                    for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                        eprintln!("[server] {line}");
                    }
                });
            }
            Logs::BrokenPipe => drop(stderr),
        }
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let line = rx
            .recv_timeout(TIMEOUT)
            .expect("the server printed no listening line");
        let addr = line
            .strip_prefix("cardsync-server listening on ws://")
            .and_then(|rest| rest.strip_suffix("/rooms/{doc}"))
            .unwrap_or_else(|| panic!("unexpected first line: {line}"))
            .parse()
            .unwrap();
        TestServer {
            child,
            addr,
            dir: dir.to_owned(),
        }
    }

    pub fn url(&self, doc: &str) -> String {
        format!("ws://{}/rooms/{doc}", self.addr)
    }

    /// The server's `/metrics.json` document.
    pub async fn metrics(&self) -> serde_json::Value {
        serde_json::from_str(&http_get(self.addr, "/metrics.json").await).unwrap()
    }

    /// Waits until the server counts `n` WebSocket connections (`/metrics.json`).
    pub async fn connections_settle_at(&self, n: u64) {
        within("the connection count to settle", async {
            while self.metrics().await["connections"] != n {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
        .await;
    }

    /// SIGKILL: no shutdown, no flush.
    pub fn kill_9(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// SIGTERM, then waits for the exit; returns whether it exited successfully.
    pub fn terminate(mut self) -> bool {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        for _ in 0..(TIMEOUT.as_millis() / 50) {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.success();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("the server did not exit after SIGTERM");
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Fast reconnects, so tests do not wait out production backoffs.
pub fn fast_connection() -> ConnectionConfig {
    ConnectionConfig {
        backoff_base: Duration::from_millis(50),
        backoff_cap: Duration::from_millis(300),
        ..ConnectionConfig::default()
    }
}

pub async fn client(
    url: &str,
    doc: &str,
    role: Role,
    store: Option<PathBuf>,
) -> (Client, ClientEvents) {
    let mut config = ClientConfig::new(url, token(doc, role));
    config.connection = fast_connection();
    config.store = store;
    Client::open(Arc::new(schema()), config).await.unwrap()
}

pub fn online_and_idle(s: &SyncStatus) -> bool {
    s.connection.state == State::Online && s.session.pending == 0
}

pub async fn settled(client: &Client, what: &str) {
    within(what, client.wait_for(online_and_idle)).await;
}

/// Polls `check` on a client's session until it holds.
pub async fn eventually<F>(client: &Client, what: &str, check: F)
where
    F: Fn(&cardsync_sync::session::ClientSession) -> bool + Send + Sync + Clone + 'static,
{
    within(what, async {
        loop {
            if client.read(check.clone()).await.unwrap() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
}

/// Waits for the first event matching `pick`.
pub async fn next_event<T>(
    events: &mut ClientEvents,
    what: &str,
    mut pick: impl FnMut(ClientEvent) -> Option<T>,
) -> T {
    within(what, async {
        loop {
            let event = events.recv().await.expect("client stopped");
            if let Some(found) = pick(event) {
                return found;
            }
        }
    })
    .await
}

pub type Raw = WebSocketStream<MaybeTlsStream<TcpStream>>;

pub async fn raw(url: &str) -> Raw {
    within("a raw connection", tokio_tungstenite::connect_async(url))
        .await
        .unwrap()
        .0
}

/// A cardsync hello with `token`, from client id `client`.
pub fn hello_from(token: &str, client: u64) -> Message {
    Message::Hello {
        version: cardsync_sync::protocol::PROTOCOL_VERSION,
        token: token.into(),
        client,
    }
}

pub async fn send(raw: &mut Raw, message: &Message) {
    raw.send(WsMessage::Binary(message.encode().into()))
        .await
        .unwrap();
}

/// Reads until a protocol message matching `pick` arrives.
pub async fn expect_message<T>(raw: &mut Raw, mut pick: impl FnMut(Message) -> Option<T>) -> T {
    within("a message", async {
        loop {
            match raw.next().await {
                Some(Ok(WsMessage::Binary(bytes))) => {
                    if let Some(found) =
                        Message::decode(&bytes, usize::MAX).ok().and_then(&mut pick)
                    {
                        return found;
                    }
                }
                Some(Ok(_)) => {}
                other => panic!("connection ended before the message: {other:?}"),
            }
        }
    })
    .await
}

/// Reads until the server's close frame and returns its code and reason.
pub async fn expect_close(raw: &mut Raw) -> (u16, String) {
    within("a close frame", async {
        loop {
            match raw.next().await {
                Some(Ok(WsMessage::Close(Some(frame)))) => {
                    return (u16::from(frame.code), frame.reason.to_string());
                }
                Some(Ok(WsMessage::Close(None))) => return (close_code::NO_STATUS, String::new()),
                Some(Ok(_)) => {}
                other => panic!("connection ended without a close frame: {other:?}"),
            }
        }
    })
    .await
}

/// A bare HTTP/1.1 GET (no client library needed for one JSON document).
pub async fn http_get(addr: std::net::SocketAddr, path: &str) -> String {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    within("the metrics response", stream.read_to_string(&mut response))
        .await
        .unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    response
        .split("\r\n\r\n")
        .nth(1)
        .unwrap_or_default()
        .to_owned()
}

/// Runs `tests/js/<script>` (real npm `yjs` and `y-websocket` clients) with `request` as JSON
/// on stdin; returns the JSON it prints. Blocking: call it from `spawn_blocking`.
pub fn node(script: &str, request: &serde_json::Value) -> serde_json::Value {
    use std::io::Write as _;
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/js");
    assert!(
        dir.join("node_modules/y-websocket/package.json").is_file(),
        "npm packages are not installed in {}: run `npm ci` there (`cargo xtask test` does)",
        dir.display()
    );
    let mut child = Command::new("node")
        .arg(script)
        .current_dir(&dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run `node` ({e}): these tests need Node.js >= 20"));
    let input = request.to_string();
    let mut stdin = child.stdin.take().expect("piped stdin");
    // Written from another thread, so a chatty child can never deadlock us on a full pipe.
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let output = child.wait_with_output().expect("wait for node");
    writer.join().expect("stdin writer").expect("write request");
    assert!(
        output.status.success(),
        "node {script} failed ({}):\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "node {script} printed invalid JSON ({e}):\n{}",
            String::from_utf8_lossy(&output.stdout)
        )
    })
}
