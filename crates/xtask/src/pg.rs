//! A throwaway PostgreSQL cluster for `cargo xtask demo --cluster`: `initdb` into a fresh
//! folder under the system temp dir, `pg_ctl start` on a free loopback port with its unix
//! socket in that folder, stopped and removed when dropped.
//!
//! Why a copy of the tests' helper (`crates/cardsync-server/tests/common/pg.rs`) and not a
//! shared crate: that one is test code (it panics, and reads its clients with the `postgres`
//! crate); this one returns [`Error`]s, runs every program through [`Cmd`], and xtask stays free
//! of the server's dependencies. Both start a cluster the same way: the binaries from the newest
//! `/usr/lib/postgresql/*/bin` (or `CARDSYNC_PG_BIN`), as the `postgres` system user when we
//! are root (PostgreSQL refuses to run as root), `trust` authentication on 127.0.0.1 only.
//! [`crate::apt::POSTGRESQL`] installs Debian's package when it is missing.

use std::path::{Path, PathBuf};

use crate::cmd::Cmd;
use crate::error::{Error, Result};

/// A running throwaway cluster; stopped and removed on drop.
pub struct PgCluster {
    dir: PathBuf,
    bin: PathBuf,
    port: u16,
    /// Run the binaries as the `postgres` user (we are root).
    as_postgres: bool,
}

/// Where PostgreSQL's server binaries are.
fn bin_dir() -> Result<PathBuf> {
    if let Some(dir) = std::env::var_os("CARDSYNC_PG_BIN") {
        return Ok(PathBuf::from(dir));
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("pg_ctl").exists().then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin).ok_or_else(|| {
        Error::new(
            "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin): `apt-get install \
             postgresql`, or set CARDSYNC_PG_BIN",
        )
    })
}

impl PgCluster {
    /// Creates and starts a cluster, and creates database `db` in it.
    pub fn start(db: &str) -> Result<PgCluster> {
        let bin = bin_dir()?;
        let as_postgres = crate::apt::is_root();
        let dir = std::env::temp_dir().join(format!("cardsync-demo-pg-{}", std::process::id()));
        let here = crate::paths::workspace_root();
        std::fs::create_dir_all(&dir)
            .map_err(|e| Error::new(format!("cannot create {}: {e}", dir.display())))?;
        let mut cluster = PgCluster {
            dir,
            bin,
            port: 0,
            as_postgres,
        };
        if as_postgres {
            Cmd::new("chown", &here)
                .args(["postgres:"])
                .args([&cluster.dir])
                .run()?;
        }
        cluster
            .command("initdb")
            .args(["-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale=C"])
            .args(["--no-sync", "-D"])
            .args([cluster.data()])
            .run()?;
        cluster.port = free_port()?;
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1",
            cluster.port,
            cluster.dir.display()
        );
        cluster
            .command("pg_ctl")
            .args(["start", "-w", "-t", "60", "-D"])
            .args([cluster.data()])
            .args([PathBuf::from("-l"), cluster.dir.join("postgres.log")])
            .args(["-o", &options])
            .run()?;
        Cmd::new(cluster.bin.join("createdb"), &here)
            .args(["-h", "127.0.0.1", "-p", &cluster.port.to_string()])
            .args(["-U", "postgres", db])
            .run()?;
        Ok(cluster)
    }

    fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    /// `program` from the binaries' folder, as the `postgres` user when we are root.
    fn command(&self, program: &str) -> Cmd {
        let here = crate::paths::workspace_root();
        let program = self.bin.join(program);
        if self.as_postgres {
            Cmd::new("runuser", &here)
                .args(["-u", "postgres", "--"])
                .args([program])
        } else {
            Cmd::new(program, &here)
        }
    }

    /// The URL of database `db` (trust authentication, user `postgres`).
    pub fn url(&self, db: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{db}", self.port)
    }

    /// Where the cluster lives (removed on drop).
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        // Best effort: a cluster that did not start answers with an error, which is fine.
        let _ = self
            .command("pg_ctl")
            .args(["stop", "-w", "-m", "fast", "-D"])
            .args([self.data()])
            .run();
        if let Err(e) = std::fs::remove_dir_all(&self.dir) {
            eprintln!("cannot remove {}: {e}", self.dir.display());
        }
    }
}

/// A free loopback port (bound, then released for the server to take).
pub fn free_port() -> Result<u16> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| Error::new(format!("no free loopback port: {e}")))
}
