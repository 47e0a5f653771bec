//! `cardsync-server migrate --from <data-dir> --to postgres://…`: moving a single node's SQLite
//! store to PostgreSQL, so that a team that outgrows one node takes its documents along
//! (docs/design.md §12).
//!
//! Each document is copied in one transaction of the target store: its snapshot (if any) and
//! every log entry after it, in order, as the target's entries 1, 2, … (the stored updates
//! byte for byte; the numbering restarts, which nothing outside one store relies on). Then it
//! is read back, which checks every row's digest and screen, and compared byte for byte with
//! the source. A document the target already holds with the same updates is skipped, so the
//! migration can be run again after an interruption; one the target holds with *different*
//! updates is refused ([`MigrateError::Diverged`]), never overwritten: nodes may already serve
//! it. Run it with no node serving from the source.

use std::path::Path;

use thiserror::Error;

use crate::config::DB_FILE;
use crate::store::{Append, DocId, PostgresStore, SqliteStore, Store, StoreError, Synchronous};

/// What a migration did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Migrated {
    /// Documents copied.
    pub copied: usize,
    /// Documents the target already held, identical.
    pub skipped: usize,
    /// Stored updates copied (snapshots and log entries).
    pub updates: usize,
    /// Their size in bytes.
    pub bytes: u64,
}

/// Why a migration stopped.
#[derive(Debug, Error)]
pub enum MigrateError {
    /// The source has no store file.
    #[error("no SQLite store at {0}")]
    NoSource(String),
    /// A store refused to open, read or write.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The target holds the document with other updates: it is not overwritten.
    #[error(
        "document {doc:?} is already in the target with different contents ({target} updates, the source has {source_count}); it was not overwritten"
    )]
    Diverged {
        /// The document.
        doc: String,
        /// Updates the target holds.
        target: usize,
        /// Updates the source holds.
        source_count: usize,
    },
    /// What was read back from the target is not what was written.
    #[error("document {doc:?} reads back differently from the target; the copy is not trusted")]
    Mismatch {
        /// The document.
        doc: String,
    },
}

impl MigrateError {
    /// A stable identifier of the kind of error.
    pub fn code(&self) -> &'static str {
        match self {
            MigrateError::NoSource(_) => "no_source",
            MigrateError::Store(e) => e.code(),
            MigrateError::Diverged { .. } => "diverged",
            MigrateError::Mismatch { .. } => "mismatch",
        }
    }
}

/// Copies every document of the SQLite store in `data_dir` to the PostgreSQL store at `url`.
/// Blocking. `progress` hears of each document as it is done (`true`: copied, `false`:
/// already there).
pub fn migrate(
    data_dir: &Path,
    url: &str,
    mut progress: impl FnMut(&DocId, bool),
) -> Result<Migrated, MigrateError> {
    let file = data_dir.join(DB_FILE);
    if !file.is_file() {
        return Err(MigrateError::NoSource(file.display().to_string()));
    }
    let source = SqliteStore::open(&file, Synchronous::Full)?;
    source.verify()?;
    let target = PostgresStore::connect(url)?;
    let mut done = Migrated::default();
    for doc in source.documents()? {
        let stored = source.load(&doc)?;
        let there = target.load(&doc)?;
        if there.updates == stored.updates {
            done.skipped += 1;
            progress(&doc, false);
            continue;
        }
        if !there.updates.is_empty() {
            return Err(MigrateError::Diverged {
                doc: doc.to_string(),
                target: there.updates.len(),
                source_count: stored.updates.len(),
            });
        }
        let appends: Vec<Append> = stored
            .updates
            .iter()
            .map(|update| Append {
                doc: doc.clone(),
                update: update.clone(),
            })
            .collect();
        target.append(&appends)?;
        if target.load(&doc)?.updates != stored.updates {
            return Err(MigrateError::Mismatch {
                doc: doc.to_string(),
            });
        }
        done.copied += 1;
        done.updates += stored.updates.len();
        done.bytes += stored.updates.iter().map(|u| u.len() as u64).sum::<u64>();
        progress(&doc, true);
    }
    Ok(done)
}
