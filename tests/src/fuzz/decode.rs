//! Targets over the update API: untrusted updates and state vectors.
//!
//! The promises checked, beyond "no panic": a refused update leaves the document exactly as it
//! was (no half-applied update), and an accepted one leaves a document whose own snapshot, v1
//! and v2, loads back into the same document: the failure mode where a server acks an update
//! and then cannot reopen its own store.
//!
//! Cost: most inputs libFuzzer tries do not decode, and the document refuses those before it
//! opens a transaction, so they go to one fixture copy shared by every input of the thread;
//! only an input that decodes gets a fresh copy, the only kind it may change. The promise is
//! still checked on each: a refused input leaves the document's export as it was.

use cardsync_core::{
    CardDoc, DecodeError, concat_updates_v1, decode_update_v1, decode_update_v2, merge_updates_v1,
    merge_updates_v2,
};

use super::seeds::{fixture, fixture_updates, schema, with_shared_fixture};

/// Which update encoding a target feeds.
#[derive(Clone, Copy, Debug)]
pub(super) enum Encoding {
    V1,
    V2,
}

impl Encoding {
    fn apply(self, doc: &mut CardDoc, data: &[u8]) -> Result<(), DecodeError> {
        match self {
            Encoding::V1 => doc.apply_update_v1(data),
            Encoding::V2 => doc.apply_update_v2(data),
        }
    }

    fn decodes(self, data: &[u8]) -> bool {
        match self {
            Encoding::V1 => decode_update_v1(data).is_ok(),
            Encoding::V2 => decode_update_v2(data).is_ok(),
        }
    }

    /// `data` merged with a real update of the fixture (v2 alone: the fixture's are v1).
    fn merge(self, data: &[u8]) -> Result<Vec<u8>, DecodeError> {
        match self {
            Encoding::V1 => merge_updates_v1(&[&fixture_updates()[0], data]),
            Encoding::V2 => merge_updates_v2(&[data]),
        }
    }
}

/// `data` as an update to a document with content, then merged with a real update.
pub(super) fn update(data: &[u8], encoding: Encoding) {
    if !encoding.decodes(data) {
        with_shared_fixture(|doc, export| {
            assert!(
                encoding.apply(doc, data).is_err(),
                "an update that does not decode was applied"
            );
            assert_eq!(
                doc.export(),
                *export,
                "a refused update changed the document"
            );
        });
        assert!(
            encoding.merge(data).is_err(),
            "an update that does not decode was merged"
        );
        return;
    }
    let (mut doc, _) = fixture();
    let before = doc.export();
    let applied = encoding.apply(&mut doc, data);
    match &applied {
        Err(_) => assert_eq!(
            doc.export(),
            before,
            "a refused update changed the document"
        ),
        Ok(()) => reloads(&doc),
    }
    if let Encoding::V1 = encoding {
        joins_alike(data, applied.is_ok(), &doc);
    }
    if let Ok(merged) = encoding.merge(data) {
        // A merge the core accepted is an update the core accepts.
        let mut fresh = CardDoc::with_schema(schema(), 9).expect("valid schema");
        if encoding.apply(&mut fresh, &merged).is_ok() {
            reloads(&fresh);
        }
    }
}

/// A v1 update that decodes, joined on its own by `concat_updates_v1` (the outbox's
/// compaction), applies to the fixture as it did itself: same verdict, same document.
fn joins_alike(data: &[u8], applied: bool, doc: &CardDoc) {
    let joined = concat_updates_v1(&[data]).expect("an update that decodes joins");
    let Some(joined) = joined else {
        return; // blocks of several clients: not a run
    };
    let (mut copy, _) = fixture();
    assert_eq!(
        copy.apply_update_v1(&joined).is_ok(),
        applied,
        "the joined update and the update itself got different verdicts"
    );
    assert_eq!(
        copy.export(),
        doc.export(),
        "the joined update applies differently"
    );
}

/// The document's snapshots load back into the same document.
fn reloads(doc: &CardDoc) {
    let export = doc.export();
    let v1 = match CardDoc::load_v1(schema(), 8, &doc.snapshot_v1()) {
        Ok(v1) => v1,
        // Known hole (docs/design.md §3, "Moving to a new schema"): a plain document applies
        // any structurally valid update, so a peer can record a schema that is not the
        // replica's own, and opening then refuses the document as an unsafe schema change.
        // A refusal is only accepted when such a foreign record is there to explain it.
        Err(cardsync_core::OpenError::UnsafeSchemaChange { .. }) if holds_foreign_schema(doc) => {
            return;
        }
        Err(e) => panic!("a document's own v1 snapshot loads: {e:?}"),
    };
    assert_eq!(v1.export(), export, "the v1 snapshot reloads differently");
    let v2 = CardDoc::load_v2(schema(), 8, &doc.snapshot_v2())
        .expect("a document's own v2 snapshot loads");
    assert_eq!(v2.export(), export, "the v2 snapshot reloads differently");
}

/// Whether `doc` records, in `meta`, a schema that is not the fixture's own.
fn holds_foreign_schema(doc: &CardDoc) -> bool {
    use yrs::{Map, Out, ReadTxn, Transact};
    let own = serde_json::to_string(&*schema()).unwrap_or_default();
    let txn = doc.yrs_doc().transact();
    let Some(meta) = txn.get_map(cardsync_core::layout::META) else {
        return false;
    };
    meta.iter(&txn).any(|(key, value)| {
        key.starts_with(cardsync_core::layout::SCHEMA_PREFIX)
            && !matches!(value, Out::Any(yrs::Any::String(json)) if *json == *own)
    })
}

/// `data` as a state vector: the diffs it asks for apply to a document at that state.
pub(super) fn state_vector(data: &[u8]) {
    // Diffs only read the document: the shared copy serves.
    let (v1, v2, export) =
        with_shared_fixture(|doc, export| (doc.diff_v1(data), doc.diff_v2(data), export.clone()));
    assert_eq!(
        v1.is_ok(),
        v2.is_ok(),
        "diff_v1 and diff_v2 disagree on whether the state vector is valid"
    );
    if let Ok(diff) = v1 {
        // Whatever state it was asked for, a diff is part of the document: applying it to a
        // copy of the document succeeds and changes nothing.
        let (mut copy, _) = fixture();
        copy.apply_update_v1(&diff)
            .expect("the document's own diff applies to a copy of it");
        assert_eq!(
            copy.export(),
            export,
            "the document's own diff changed a copy"
        );
    }
}
