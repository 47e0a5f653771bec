//! The authoritative replica of a stored log, in a file of its own because both opening a
//! room (`mod.rs`) and rebuilding one when the log moved on (`log.rs`) make it: the log is
//! trusted (only validated updates), and what the replica holds per client id is what the
//! room may ack.

use std::collections::HashMap;
use std::sync::Arc;

use cardsync_core::{CardDoc, Schema};
use yrs::{ReadTxn, Transact};

use super::error::RoomError;
use super::shadow::ROOM_CLIENT_ID;

/// The authoritative replica of a stored log (trusted: only validated updates).
pub(super) fn open_doc<U: AsRef<[u8]>>(
    schema: &Arc<Schema>,
    log: impl IntoIterator<Item = U>,
) -> Result<CardDoc, RoomError> {
    let mut doc = CardDoc::with_schema(Arc::clone(schema), ROOM_CLIENT_ID)
        .map_err(|e| RoomError::Open(e.into()))?;
    doc.set_undo_enabled(false);
    for (index, update) in log.into_iter().enumerate() {
        doc.apply_update_v1(update.as_ref())
            .map_err(|source| RoomError::CorruptLog { index, source })?;
    }
    // The log was written under the schemas it records; ours must not strand its data.
    doc.check_schema_upgrade()
        .map_err(|e| RoomError::Open(e.into()))?;
    Ok(doc)
}

/// Per client id, the clock up to which `doc` holds its changes.
pub(super) fn held(doc: &CardDoc) -> HashMap<u64, u32> {
    let sv = doc.yrs_doc().transact().state_vector();
    sv.iter().map(|(c, clock)| (c.get(), *clock)).collect()
}
