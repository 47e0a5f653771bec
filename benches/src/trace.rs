//! The editing traces of K5 (`josephg/editing-traces`, CC BY 4.0), read where they are kept.
//!
//! The trace K5 replays is committed in `benches/data/editing-traces/` (its README credits the
//! source), so a clone benchmarks and tests on its own; `CARDSYNC_TRACES` points the benches at
//! another folder. A sequential trace is a list of
//! transactions, each a list of `[position, deleted, inserted]` patches in Unicode code points.

use std::io::Read;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{BenchError, Result};

/// One patch: at `0` (code points), delete `1` characters, insert `2`.
#[derive(Clone, Debug, Deserialize)]
pub struct Patch(pub usize, pub usize, pub String);

/// One transaction of the trace: its patches, applied in order.
#[derive(Clone, Debug, Deserialize)]
pub struct Txn {
    /// The patches.
    pub patches: Vec<Patch>,
}

/// A sequential editing trace.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Trace {
    /// The text before the first transaction.
    pub start_content: String,
    /// The text every correct replay ends with.
    pub end_content: String,
    /// The transactions.
    pub txns: Vec<Txn>,
}

impl Trace {
    /// Reads a gzipped JSON trace.
    pub fn read(path: &Path) -> Result<Self> {
        let shown = path.display().to_string();
        let file = std::fs::File::open(path).map_err(|source| BenchError::TraceIo {
            path: shown.clone(),
            source,
        })?;
        let mut json = String::new();
        flate2::read::GzDecoder::new(file)
            .read_to_string(&mut json)
            .map_err(|source| BenchError::TraceIo {
                path: shown.clone(),
                source,
            })?;
        serde_json::from_str(&json).map_err(|source| BenchError::TraceJson {
            path: shown,
            source,
        })
    }

    /// Every patch in order (each is one user action, one transaction, in the workloads).
    pub fn patches(&self) -> impl Iterator<Item = &Patch> {
        self.txns.iter().flat_map(|t| &t.patches)
    }

    /// Whether every patch is ASCII, so code points, UTF-16 units and bytes all agree.
    pub fn is_ascii(&self) -> bool {
        self.end_content.is_ascii() && self.patches().all(|p| p.2.is_ascii())
    }
}

/// Where the traces are: `$CARDSYNC_TRACES` when set, otherwise `benches/data/editing-traces`.
pub fn traces_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("CARDSYNC_TRACES") {
        return PathBuf::from(dir);
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data/editing-traces")
}
