//! A throwaway PostgreSQL cluster for tests: `initdb` into a temp dir, `pg_ctl start` on a
//! free loopback port with its unix socket in that dir, stopped and removed on drop (also when
//! the test panics).
//!
//! PostgreSQL refuses to run as root, and CI runs tests as root: then `initdb` and `pg_ctl`
//! run as the `postgres` system user that Debian's `postgresql` package creates
//! (`runuser -u postgres -- …`), and the temp dir is handed to that user. The binaries are
//! looked up in `CARDSYNC_PG_BIN`, else the newest `/usr/lib/postgresql/*/bin`, else
//! `pg_config --bindir`; when none exists the test fails saying how to install them
//! (`cargo xtask tools` does). Authentication is `trust` on 127.0.0.1 only: the cluster
//! lives as long as one test and listens nowhere else.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A running throwaway cluster. See the module docs of `crates/cardsync-server/tests/common/pg.rs`.
pub struct PgCluster {
    dir: tempfile::TempDir,
    bin: PathBuf,
    port: u16,
    /// Run the binaries as the `postgres` user (we are root).
    as_postgres: bool,
}

fn bin_dir() -> PathBuf {
    if let Ok(dir) = std::env::var("CARDSYNC_PG_BIN") {
        return PathBuf::from(dir);
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
    if let Some((_, bin)) = versions.pop() {
        return bin;
    }
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output()
        && out.status.success()
    {
        return PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    }
    panic!(
        "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin, no pg_config): \
         run `cargo xtask tools` or `apt-get install postgresql`, or set CARDSYNC_PG_BIN"
    );
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

fn check(what: &str, out: std::io::Result<Output>, log: Option<&Path>) {
    let out = out.unwrap_or_else(|e| panic!("cannot run {what}: {e}"));
    if !out.status.success() {
        let log = log
            .and_then(|p| std::fs::read_to_string(p).ok())
            .unwrap_or_default();
        panic!(
            "{what} failed ({}):\n{}{}\n{log}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl PgCluster {
    /// Creates and starts a cluster. Panics with the server's log if it cannot.
    pub fn start() -> PgCluster {
        let bin = bin_dir();
        let as_postgres = is_root();
        let dir = tempfile::Builder::new()
            .prefix("cardsync-pg-")
            .tempdir()
            .unwrap();
        if as_postgres {
            let out = Command::new("chown")
                .arg("postgres:")
                .arg(dir.path())
                .output();
            check("chown postgres", out, None);
        }
        let mut cluster = PgCluster {
            dir,
            bin,
            port: 0,
            as_postgres,
        };
        let data = cluster.data();
        let out = cluster
            .command("initdb")
            .args([
                "-A",
                "trust",
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
                "-D",
            ])
            .arg(&data)
            .output();
        check("initdb", out, None);
        // A free port can be taken between our probe and the server's bind: try a few.
        let mut attempt = 0;
        loop {
            cluster.port = std::net::TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port();
            match cluster.try_start() {
                Ok(()) => return cluster,
                Err(e) if attempt < 4 => eprintln!("postgres did not start, retrying: {e}"),
                Err(e) => panic!("{e}"),
            }
            attempt += 1;
        }
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn log(&self) -> PathBuf {
        self.dir.path().join("postgres.log")
    }

    fn command(&self, program: &str) -> Command {
        let program = self.bin.join(program);
        if self.as_postgres {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(program);
            command
        } else {
            Command::new(program)
        }
    }

    fn try_start(&self) -> Result<(), String> {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1",
            self.port,
            self.dir.path().display()
        );
        let out = self
            .command("pg_ctl")
            .args(["start", "-w", "-t", "60", "-D"])
            .arg(self.data())
            .arg("-l")
            .arg(self.log())
            .args(["-o", &options])
            .output()
            .map_err(|e| format!("cannot run pg_ctl: {e}"))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "pg_ctl start failed: {}{}\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr),
                std::fs::read_to_string(self.log()).unwrap_or_default()
            ))
        }
    }

    /// Starts the cluster again after [`PgCluster::stop`], on the same port.
    pub fn restart(&self) {
        self.try_start().unwrap_or_else(|e| panic!("{e}"));
    }

    /// Stops the cluster (`immediate`: like a crash of the database server; committed data
    /// survives in the WAL).
    pub fn stop(&self) {
        let out = self
            .command("pg_ctl")
            .args(["stop", "-w", "-m", "immediate", "-D"])
            .arg(self.data())
            .output();
        check("pg_ctl stop", out, Some(&self.log()));
    }

    /// The port it listens on, at 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The URL of database `db` (trust authentication, user `postgres`).
    pub fn url(&self, db: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{db}", self.port)
    }

    /// Creates an empty database and returns its URL. Safe to call from async tests (the
    /// blocking client runs on a thread of its own).
    pub fn create_database(&self, db: &str) -> String {
        let admin_url = self.url("postgres");
        let sql = format!("CREATE DATABASE \"{db}\"");
        std::thread::scope(|s| {
            s.spawn(|| {
                let mut admin = postgres::Client::connect(&admin_url, postgres::NoTls).unwrap();
                admin.batch_execute(&sql).unwrap();
            })
            .join()
            .unwrap();
        });
        self.url(db)
    }

    /// A plain client on database `db`, to inspect or damage what a store wrote. Blocking:
    /// not for an async test's own thread.
    pub fn client(&self, db: &str) -> postgres::Client {
        postgres::Client::connect(&self.url(db), postgres::NoTls).unwrap()
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        // Best effort: a cluster already stopped answers with an error, which is fine.
        let _ = self
            .command("pg_ctl")
            .args(["stop", "-w", "-m", "immediate", "-D"])
            .arg(self.data())
            .output();
    }
}
