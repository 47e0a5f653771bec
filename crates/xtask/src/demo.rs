//! `cargo xtask demo`: the main job. Installs what is missing (the wasm32 target, npm packages,
//! wasm-bindgen-cli), builds the npm package (release wasm),
//! the demo board and `cardsync-server` (release), then runs the server with its SQLite store under
//! `target/cardsync-demo/`, serving the board and its room at `http://127.0.0.1:4455/`.
//!
//! `cargo xtask demo --cluster` serves the same board from two nodes on one throwaway
//! PostgreSQL instead ([`crate::cluster`]).
//!
//! The board's schema comes from the board's own source (`demo/src/schema.js`), so page and
//! server cannot disagree. The token secret is made once and kept beside the database, so
//! the printed links keep working across restarts (and the board's content persists). The
//! server's configuration enables one example validator, a WIP limit of 3 on Doing.

use std::io::Read as _;
use std::path::{Path, PathBuf};

use crate::cmd::Cmd;
use crate::error::{Error, Result};
use crate::{e2e, server, wasm};

/// Where the demo listens.
const LISTEN: &str = "127.0.0.1:4455";

/// The demo server's configuration, `demo/server.toml` (the end-to-end tests start their
/// server with the same file): the example WIP limit, 3 cards on the board's "Doing" column
/// (the server's validators, `cardsync_server::validators`). A fourth card dragged into
/// Doing is refused and rolled back, and the board shows the notice.
const DEMO_CONFIG: &str = include_str!("../../../demo/server.toml");

/// What both demos serve: the server binary, the board's files, its schema, the token secret
/// and an editor's and a viewer's token for the document `board`.
pub struct Prepared {
    /// The release `cardsync-server`.
    pub bin: PathBuf,
    /// The built board (`--static-dir`).
    pub board: PathBuf,
    /// `target/cardsync-demo/`: the schema, the secret and (single node) the SQLite store.
    pub data: PathBuf,
    /// The board's schema as JSON.
    pub schema: PathBuf,
    /// The token secret.
    pub secret: PathBuf,
    /// The server's configuration ([`DEMO_CONFIG`]).
    pub config: PathBuf,
    /// An editor's token.
    pub editor: String,
    /// A viewer's token.
    pub viewer: String,
}

/// Builds the package, the board and the release server, and writes the schema and secret.
pub fn prepare() -> Result<Prepared> {
    let root = crate::paths::workspace_root();
    // The release wasm build installs what it needs: the wasm32 target, pkg's npm packages
    // (wasm-opt) and wasm-bindgen-cli.
    crate::tools::ensure_node()?;
    wasm::build(&root, wasm::Options { release: true })?;
    let board = e2e::build_board(&root)?;
    let bin = server::build(&root, true)?;
    let data = crate::paths::target_dir(&root).join("cardsync-demo");
    crate::paths::create_dir(&data)?;
    let schema = data.join("schema.json");
    let json = Cmd::new("node", &root.join("demo"))
        .args(["--input-type=module", "-e"])
        .args(["import { schema } from './src/schema.js'; process.stdout.write(JSON.stringify(schema));"])
        .output()?;
    write(&schema, json.as_bytes())?;
    // The board's rules beyond the schema: a WIP limit on "Doing" (docs/design.md §10).
    let config = data.join("server.toml");
    write(&config, DEMO_CONFIG.as_bytes())?;
    let secret = data.join("secret");
    if !secret.exists() {
        write(&secret, random_hex()?.as_bytes())?;
    }
    let token = |role: &str| -> Result<String> {
        let out = Cmd::new(&bin, &root)
            .args([
                "token",
                "--doc",
                "board",
                "--role",
                role,
                "--ttl-secs",
                "2592000",
            ])
            .args([std::ffi::OsStr::new("--secret-file"), secret.as_os_str()])
            .output()?;
        Ok(out.trim().to_owned())
    };
    let (editor, viewer) = (token("editor")?, token("viewer")?);
    Ok(Prepared {
        bin,
        board,
        data,
        schema,
        secret,
        config,
        editor,
        viewer,
    })
}

impl Prepared {
    /// `cardsync-server serve` on `listen` with the schema, secret and board; the caller adds
    /// the store.
    pub fn serve(&self, listen: &str) -> Cmd {
        Cmd::new(&self.bin, &crate::paths::workspace_root())
            .args(["serve", "--listen", listen])
            .args([std::ffi::OsStr::new("--config"), self.config.as_os_str()])
            .args([std::ffi::OsStr::new("--schema"), self.schema.as_os_str()])
            .args([
                std::ffi::OsStr::new("--secret-file"),
                self.secret.as_os_str(),
            ])
            .args([std::ffi::OsStr::new("--static-dir"), self.board.as_os_str()])
    }
}

/// Builds everything and serves the board until interrupted: one node on SQLite, or with
/// `cluster` two nodes on a throwaway PostgreSQL ([`crate::cluster`]).
pub fn run(cluster: bool) -> Result<()> {
    if cluster {
        crate::apt::ensure(&[crate::apt::POSTGRESQL])?;
    }
    let prepared = prepare()?;
    if cluster {
        return crate::cluster::run(&prepared);
    }
    let (data, editor, viewer) = (&prepared.data, &prepared.editor, &prepared.viewer);
    println!("\ncardsync demo board (SQLite store in {})", data.display());
    println!("  editor: http://{LISTEN}/?name=Ada&token={editor}");
    println!("  second editor (open in another window): http://{LISTEN}/?name=Bob&token={editor}");
    println!("  viewer (edits are rolled back): http://{LISTEN}/?name=Vic&token={viewer}");
    println!("Ctrl-C stops the server.\n");
    prepared
        .serve(LISTEN)
        .args([std::ffi::OsStr::new("--data-dir"), data.as_os_str()])
        .run()
}

fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    std::fs::write(path, bytes)
        .map_err(|e| Error::new(format!("cannot write {}: {e}", path.display())))
}

/// 32 random bytes, hex-encoded: the demo's token secret.
fn random_hex() -> Result<String> {
    let mut bytes = [0u8; 32];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .map_err(|e| {
            Error::new(format!(
                "cannot read /dev/urandom for the demo's secret: {e}"
            ))
        })?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}
