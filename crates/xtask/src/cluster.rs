//! `cargo xtask demo --cluster`: the demo board served by two `cardsync-server` nodes on one
//! throwaway PostgreSQL (docs/design.md §12), with links that put two users on different
//! nodes, so a card moved by one appears for the other through the log and the bus.
//!
//! Why a mode of the demo and not a script: the cluster must be removed however the demo ends,
//! and xtask already knows how to build the board and find PostgreSQL. The nodes listen on
//! 127.0.0.1:4455 and :4456 and have no proxy in front: each link names its node. The board's
//! content lives only in the throwaway cluster, so it starts empty every time. Ctrl-C (the
//! terminal's SIGINT reaches the nodes too; the postmaster runs in a session of its own) stops
//! the nodes, then stops and removes the cluster.

use std::io::{Read as _, Write as _};
use std::process::Child;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::demo::Prepared;
use crate::error::{Error, Result};
use crate::pg::PgCluster;

/// The nodes' listening addresses.
const NODES: [&str; 2] = ["127.0.0.1:4455", "127.0.0.1:4456"];

/// How long a node may take to answer `/healthz` after it starts, and to exit when stopped.
const PATIENCE: Duration = Duration::from_secs(30);

/// Runs PostgreSQL and two nodes until Ctrl-C or until a node exits on its own.
pub fn run(prepared: &Prepared) -> Result<()> {
    let (stop_tx, stop_rx) = mpsc::channel();
    ctrlc::set_handler(move || {
        let _ = stop_tx.send(());
    })
    .map_err(|e| Error::new(format!("cannot handle Ctrl-C: {e}")))?;
    let cluster = PgCluster::start("cardsync")?;
    let store = cluster.url("cardsync");
    let mut nodes = Nodes(Vec::new());
    for listen in NODES {
        let child = prepared.serve(listen).args(["--store", &store]).spawn()?;
        nodes.0.push(child);
    }
    for listen in NODES {
        wait_healthy(listen, &mut nodes)?;
    }
    let (editor, viewer) = (&prepared.editor, &prepared.viewer);
    let [one, two] = NODES;
    println!(
        "\ncardsync demo board on two nodes, one PostgreSQL ({store}, in {})",
        cluster.dir().display()
    );
    println!("  editor on node 1: http://{one}/?name=Ada&token={editor}");
    println!("  editor on node 2 (open in another window): http://{two}/?name=Bob&token={editor}");
    println!("  viewer on node 2 (edits are rolled back): http://{two}/?name=Vic&token={viewer}");
    println!("Ctrl-C stops both nodes and removes the database.\n");
    let outcome = loop {
        if stop_rx.recv_timeout(Duration::from_millis(250)).is_ok() {
            break Ok(());
        }
        if let Some(status) = nodes.exited() {
            break Err(Error::new(format!(
                "a node exited on its own ({status}); stopping the demo"
            )));
        }
    };
    // The nodes first (they hold connections to the cluster), then the cluster on drop.
    nodes.stop();
    drop(cluster);
    outcome
}

/// The node processes, killed on drop if still running (an error path).
struct Nodes(Vec<Child>);

impl Nodes {
    /// The exit status of a node that has ended, if any.
    fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.0
            .iter_mut()
            .find_map(|child| child.try_wait().ok().flatten())
    }

    /// Waits for the nodes to exit (Ctrl-C reached them too); kills what is left after a while.
    fn stop(&mut self) {
        let deadline = Instant::now() + PATIENCE;
        for child in &mut self.0 {
            while Instant::now() < deadline && matches!(child.try_wait(), Ok(None)) {
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Nodes {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Waits until the node on `listen` answers `GET /healthz` with 200.
fn wait_healthy(listen: &str, nodes: &mut Nodes) -> Result<()> {
    let deadline = Instant::now() + PATIENCE;
    while Instant::now() < deadline {
        if healthz(listen) {
            return Ok(());
        }
        if let Some(status) = nodes.exited() {
            return Err(Error::new(format!("a node exited at start ({status})")));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Err(Error::new(format!(
        "the node on {listen} did not answer /healthz within {PATIENCE:?}"
    )))
}

/// One bare HTTP/1.1 `GET /healthz`; whether it answered 200.
fn healthz(listen: &str) -> bool {
    let Ok(mut stream) = std::net::TcpStream::connect(listen) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let request = format!("GET /healthz HTTP/1.1\r\nHost: {listen}\r\nConnection: close\r\n\r\n");
    let mut response = String::new();
    stream.write_all(request.as_bytes()).is_ok()
        && stream.read_to_string(&mut response).is_ok()
        && response.starts_with("HTTP/1.1 200")
}
