//! Targets over the update API: untrusted updates and state vectors.
//!
//! The promises checked, beyond "no panic": a refused update leaves the document exactly as it
//! was (no half-applied update), and an accepted one leaves a document whose own snapshot, v1
//! and v2, loads back into the same document: the failure mode where a server acks an update
//! and then cannot reopen its own store.

use cardsync_core::{CardDoc, merge_updates_v1, merge_updates_v2};

use super::seeds::{fixture, schema};

/// Which update encoding a target feeds.
#[derive(Clone, Copy, Debug)]
pub(super) enum Encoding {
    V1,
    V2,
}

/// `data` as an update to a document with content, then merged with a real update.
pub(super) fn update(data: &[u8], encoding: Encoding) {
    let (mut doc, updates) = fixture();
    let before = doc.export();
    let applied = match encoding {
        Encoding::V1 => doc.apply_update_v1(data),
        Encoding::V2 => doc.apply_update_v2(data),
    };
    match applied {
        Err(_) => assert_eq!(
            doc.export(),
            before,
            "a refused update changed the document"
        ),
        Ok(()) => reloads(&doc),
    }
    let merged = match encoding {
        Encoding::V1 => merge_updates_v1(&[&updates[0], data]),
        Encoding::V2 => merge_updates_v2(&[data]),
    };
    if let Ok(merged) = merged {
        // A merge the core accepted is an update the core accepts.
        let mut fresh = CardDoc::with_schema(schema(), 9).expect("valid schema");
        let result = match encoding {
            Encoding::V1 => fresh.apply_update_v1(&merged),
            Encoding::V2 => fresh.apply_update_v2(&merged),
        };
        if result.is_ok() {
            reloads(&fresh);
        }
    }
}

/// The document's snapshots load back into the same document.
fn reloads(doc: &CardDoc) {
    let export = doc.export();
    let v1 = CardDoc::load_v1(schema(), 8, &doc.snapshot_v1())
        .expect("a document's own v1 snapshot loads");
    assert_eq!(v1.export(), export, "the v1 snapshot reloads differently");
    let v2 = CardDoc::load_v2(schema(), 8, &doc.snapshot_v2())
        .expect("a document's own v2 snapshot loads");
    assert_eq!(v2.export(), export, "the v2 snapshot reloads differently");
}

/// `data` as a state vector: the diffs it asks for apply to a document at that state.
pub(super) fn state_vector(data: &[u8]) {
    let (doc, _) = fixture();
    let v1 = doc.diff_v1(data);
    let v2 = doc.diff_v2(data);
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
            doc.export(),
            "the document's own diff changed a copy"
        );
    }
}
