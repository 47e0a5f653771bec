//! The stores under test, behind one small trait: open another handle on the same store (a
//! second node), and reach under the store with plain SQL to damage a row.

use cardsync_server::store::{PostgresStore, SqliteStore, Store, Synchronous};

use crate::common::pg::PgCluster;

/// A store to run the cases on.
pub trait Backend {
    /// The store type.
    type S: Store;
    /// A new handle on the same store: what another node would open.
    fn open(&self) -> Self::S;
    /// Runs one SQL statement on the store's database, outside the store (to damage it).
    /// `?`-free: the statement carries its values inline.
    fn sql(&self, statement: &str);
    /// The same statement with one blob parameter, written `$blob` in the text.
    fn sql_with_blob(&self, statement: &str, blob: &[u8]);
    /// The log table's name.
    fn log_table(&self) -> &'static str;
}

/// A SQLite file in a temp dir.
pub struct Sqlite {
    dir: tempfile::TempDir,
}

impl Sqlite {
    pub fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn path(&self) -> std::path::PathBuf {
        self.dir.path().join("cardsync.db")
    }
}

impl Backend for Sqlite {
    type S = SqliteStore;

    fn open(&self) -> SqliteStore {
        SqliteStore::open(&self.path(), Synchronous::Full).unwrap()
    }

    fn sql(&self, statement: &str) {
        let conn = rusqlite::Connection::open(self.path()).unwrap();
        conn.execute_batch(statement).unwrap();
    }

    fn sql_with_blob(&self, statement: &str, blob: &[u8]) {
        let conn = rusqlite::Connection::open(self.path()).unwrap();
        conn.execute(&statement.replace("$blob", "?1"), [blob])
            .unwrap();
    }

    fn log_table(&self) -> &'static str {
        "updates"
    }
}

/// A database in a throwaway PostgreSQL cluster of its own.
pub struct Postgres {
    cluster: PgCluster,
    url: String,
}

impl Postgres {
    pub fn new() -> Self {
        let cluster = PgCluster::start();
        let url = cluster.create_database("conformance");
        Self { cluster, url }
    }
}

impl Backend for Postgres {
    type S = PostgresStore;

    fn open(&self) -> PostgresStore {
        PostgresStore::connect(&self.url).unwrap()
    }

    fn sql(&self, statement: &str) {
        self.cluster
            .client("conformance")
            .batch_execute(statement)
            .unwrap();
    }

    fn sql_with_blob(&self, statement: &str, blob: &[u8]) {
        self.cluster
            .client("conformance")
            .execute(&statement.replace("$blob", "$1"), &[&blob])
            .unwrap();
    }

    fn log_table(&self) -> &'static str {
        "cardsync_log"
    }
}
