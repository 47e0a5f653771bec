//! The cases: each states one promise of the store contract and fails if a store breaks it.
//! Updates are real yrs updates of a card document, so that loads can be replayed and
//! compactions really merge.

use std::sync::Barrier;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use cardsync_core::{CardDoc, CardId, CardKind, Schema, Stamp};
use cardsync_server::store::{
    Append, Audit, AuditAuthor, AuditQuery, AuditVerdict, DocId, HeadAppend, Lease, SeqNo, Store,
    StoreError,
};
use cardsync_sync::protocol::{BatchId, RejectCode};
use cardsync_sync::room::{CardChange, Role, Summary};

use crate::backends::Backend;

fn schema() -> Schema {
    Schema::new(1).card("note", CardKind::default())
}

/// `n` updates, each creating one card, from a document of yrs client `client`.
fn updates(client: u64, n: u128) -> (CardDoc, Vec<Vec<u8>>) {
    let mut doc = CardDoc::new(schema(), client).unwrap();
    let out = (0..n)
        .map(|i| {
            let sv = doc.state_vector();
            let card = CardId::from_u128(u128::from(client) << 64 | i);
            doc.create_card(&Stamp::new(1, "t"), card, "note", [])
                .unwrap();
            doc.diff_v1(&sv).unwrap()
        })
        .collect();
    (doc, out)
}

fn replay(updates: &[Vec<u8>]) -> CardDoc {
    let mut doc = CardDoc::new(schema(), 99).unwrap();
    for u in updates {
        doc.apply_update_v1(u).unwrap();
    }
    doc
}

fn doc(id: &str) -> DocId {
    DocId::new(id).unwrap()
}

const TTL: Duration = Duration::from_secs(60);

fn lease(store: &impl Store, id: &str, holder: &str) -> Lease {
    store.acquire_lease(&doc(id), holder, TTL, false).unwrap()
}

/// The batch path numbers each document's entries 1, 2, 3… in append order, across
/// documents in one batch, and the leased path continues the same numbering.
pub fn append_numbers_entries_per_document(b: &impl Backend) {
    let store = b.open();
    let (source, ups) = updates(5, 6);
    let (a, c) = (doc("a"), doc("c"));
    let batch: Vec<Append> = ups
        .iter()
        .enumerate()
        .map(|(i, u)| Append {
            doc: if i % 2 == 0 { a.clone() } else { c.clone() },
            update: u.clone(),
        })
        .collect();
    store.append(&batch).unwrap();
    store.append(&[]).unwrap();
    let loaded = store.load(&a).unwrap();
    assert_eq!((loaded.head, loaded.log_len), (3, 3));
    assert_eq!(
        loaded.updates,
        vec![ups[0].clone(), ups[2].clone(), ups[4].clone()]
    );
    let seqs: Vec<SeqNo> = store
        .read_since(&c, 0)
        .unwrap()
        .iter()
        .map(|e| e.seq)
        .collect();
    assert_eq!(seqs, [1, 2, 3]);
    let l = lease(&store, "a", "node-1");
    let (_, more) = updates(6, 1);
    assert_eq!(store.append_if_head(&l, 3, &more[0]).unwrap(), 4);
    assert_eq!(store.load(&a).unwrap().head, 4);
    assert_eq!(store.load(&doc("never")).unwrap(), Default::default());
    // Everything survives a new handle, and replays to the source document.
    drop(store);
    let store = b.open();
    let mut all = store.load(&a).unwrap().updates;
    all.extend(store.load(&c).unwrap().updates);
    let mut expected = source;
    expected.apply_update_v1(&more[0]).unwrap();
    assert_eq!(replay(&all).export(), expected.export());
    let report = store.verify().unwrap();
    assert_eq!((report.documents, report.updates), (2, 7));
}

/// Compare-and-append writes only at the expected head, and a refusal carries the head and
/// writes nothing.
pub fn append_if_head_refuses_a_moved_head(b: &impl Backend) {
    let store = b.open();
    let (_, ups) = updates(5, 4);
    let l = lease(&store, "d", "node-1");
    assert_eq!(store.append_if_head(&l, 0, &ups[0]).unwrap(), 1);
    let err = store.append_if_head(&l, 0, &ups[1]).unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::HeadMoved {
                expected: 0,
                head: 1,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(err.code(), "head_moved");
    assert_eq!(store.append_if_head(&l, 1, &ups[1]).unwrap(), 2);
    let err = store.append_if_head(&l, 7, &ups[2]).unwrap_err();
    assert!(
        matches!(err, StoreError::HeadMoved { head: 2, .. }),
        "{err}"
    );
    // A batch append by another writer moves the head too.
    store
        .append(&[Append {
            doc: doc("d"),
            update: ups[2].clone(),
        }])
        .unwrap();
    let err = store.append_if_head(&l, 2, &ups[3]).unwrap_err();
    assert!(
        matches!(err, StoreError::HeadMoved { head: 3, .. }),
        "{err}"
    );
    let loaded = store.load(&doc("d")).unwrap();
    assert_eq!(loaded.head, 3);
    assert_eq!(loaded.updates, ups[..3].to_vec());
}

/// Two handles (two nodes sharing a lease holder's identity, so only the head decides) race
/// for the same head, round after round: exactly one wins each round.
pub fn two_nodes_racing_for_one_head_exactly_one_wins(b: &impl Backend) {
    const ROUNDS: usize = 40;
    let stores = [b.open(), b.open()];
    let l = lease(&stores[0], "race", "node-1");
    let (_, ups_a) = updates(5, ROUNDS as u128);
    let (_, ups_b) = updates(6, ROUNDS as u128);
    let barrier = Barrier::new(2);
    let results: Vec<Vec<Result<SeqNo, StoreError>>> = std::thread::scope(|s| {
        let handles: Vec<_> = [(&stores[0], &ups_a), (&stores[1], &ups_b)]
            .into_iter()
            .map(|(store, ups)| {
                let (l, barrier) = (&l, &barrier);
                s.spawn(move || {
                    (0..ROUNDS)
                        .map(|round| {
                            barrier.wait();
                            let r = store.append_if_head(l, round as SeqNo, &ups[round]);
                            barrier.wait();
                            r
                        })
                        .collect()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut stored = Vec::new();
    for round in 0..ROUNDS {
        let (a, b) = (&results[0][round], &results[1][round]);
        let expected_head = round as SeqNo + 1;
        match (a, b) {
            (Ok(seq), Err(StoreError::HeadMoved { head, .. }))
            | (Err(StoreError::HeadMoved { head, .. }), Ok(seq)) => {
                assert_eq!(
                    (*seq, *head),
                    (expected_head, expected_head),
                    "round {round}"
                );
            }
            other => panic!("round {round}: not exactly one winner: {other:?}"),
        }
        stored.push(if a.is_ok() {
            ups_a[round].clone()
        } else {
            ups_b[round].clone()
        });
    }
    let loaded = stores[1].load(&doc("race")).unwrap();
    assert_eq!(loaded.head, ROUNDS as SeqNo);
    assert_eq!(loaded.updates, stored);
}

/// Reading after a sequence number returns exactly the later entries, numbered; at the head
/// nothing, beyond it a typed error.
pub fn read_since_returns_the_entries_after(b: &impl Backend) {
    let store = b.open();
    let (_, ups) = updates(5, 5);
    let l = lease(&store, "r", "node-1");
    for (i, u) in ups.iter().enumerate() {
        store.append_if_head(&l, i as SeqNo, u).unwrap();
    }
    let reader = b.open();
    for since in 0..=5 {
        let got = reader.read_since(&doc("r"), since).unwrap();
        let seqs: Vec<SeqNo> = got.iter().map(|e| e.seq).collect();
        assert_eq!(seqs, (since + 1..=5).collect::<Vec<_>>());
        let bytes: Vec<Vec<u8>> = got.into_iter().map(|e| e.update).collect();
        assert_eq!(bytes, ups[since as usize..].to_vec());
    }
    let err = reader.read_since(&doc("r"), 6).unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::AheadOfHead {
                seq: 6,
                head: 5,
                ..
            }
        ),
        "{err}"
    );
    assert!(reader.read_since(&doc("empty"), 0).unwrap().is_empty());
}

/// The lease holder compacts from one thread while another appends: nothing is lost, the
/// tail stays readable, a reader below it is told to load the snapshot, and a load equals
/// the source document.
pub fn compaction_while_appends_continue_keeps_a_tail(b: &impl Backend) {
    const N: usize = 150;
    const TAIL: u64 = 10;
    let (appender, compactor) = (b.open(), b.open());
    let l = lease(&appender, "c", "node-1");
    let (source, ups) = updates(5, N as u128);
    let head = AtomicU64::new(0);
    let done = AtomicBool::new(false);
    let compactions = std::thread::scope(|s| {
        let (l, head, done, compactor) = (&l, &head, &done, &compactor);
        let compacting = s.spawn(move || {
            let mut runs = Vec::new();
            while !done.load(Ordering::Acquire) {
                let upto = head.load(Ordering::Acquire);
                runs.push(compactor.compact_leased(l, upto, TAIL).unwrap());
                std::thread::sleep(Duration::from_millis(2));
            }
            runs
        });
        // Whatever happens to the appends, the compactor stops (or the scope never ends).
        let appended: Result<(), StoreError> = ups.iter().enumerate().try_for_each(|(i, u)| {
            let seq = appender.append_if_head(l, i as SeqNo, u)?;
            head.store(seq, Ordering::Release);
            Ok(())
        });
        done.store(true, Ordering::Release);
        let runs = compacting.join().unwrap();
        appended.unwrap();
        runs
    });
    assert!(
        compactions.iter().any(|c| c.folded > 0),
        "no compaction ran during the appends: {compactions:?}"
    );
    let last = compactor.compact_leased(&l, N as SeqNo, TAIL).unwrap();
    assert_eq!(last.upto, N as SeqNo);
    let loaded = appender.load(&doc("c")).unwrap();
    assert_eq!((loaded.head, loaded.log_len), (N as SeqNo, 0));
    assert_eq!(loaded.updates.len(), 1, "only the snapshot");
    assert_eq!(replay(&loaded.updates).export(), source.export());
    // The tail: a reader TAIL behind catches up entry by entry; one further behind cannot.
    let floor = N as SeqNo - TAIL;
    let tail = appender.read_since(&doc("c"), floor).unwrap();
    assert_eq!(tail.len(), TAIL as usize);
    assert_eq!(tail[0].update, ups[floor as usize]);
    let err = appender.read_since(&doc("c"), floor - 1).unwrap_err();
    assert!(
        matches!(err, StoreError::Compacted { floor: f, .. } if f == floor),
        "{err}"
    );
    assert_eq!(err.code(), "compacted");
    // Compacting again to the same point does nothing; beyond the head is refused.
    assert_eq!(
        compactor
            .compact_leased(&l, N as SeqNo, TAIL)
            .unwrap()
            .folded,
        0
    );
    let err = compactor
        .compact_leased(&l, N as SeqNo + 1, TAIL)
        .unwrap_err();
    assert!(matches!(err, StoreError::AheadOfHead { .. }), "{err}");
    // Appends after the compaction land after the snapshot and load with it.
    let (_, more) = updates(6, 1);
    appender.append_if_head(&l, N as SeqNo, &more[0]).unwrap();
    let loaded = b.open().load(&doc("c")).unwrap();
    assert_eq!((loaded.head, loaded.log_len), (N as SeqNo + 1, 1));
}

/// A row whose bytes do not match their digest, one that fails the screen, and a missing row
/// are typed errors naming the row, on load, read-since and verify: never a shorter document.
pub fn damaged_rows_are_refused(b: &impl Backend) {
    let store = b.open();
    let (_, ups) = updates(5, 4);
    let l = lease(&store, "dmg", "node-1");
    for (i, u) in ups.iter().enumerate() {
        store.append_if_head(&l, i as SeqNo, u).unwrap();
    }
    let log = b.log_table();
    let named_row_2 = |err: &StoreError| {
        matches!(err, StoreError::CorruptUpdate { doc, location, .. }
            if doc == "dmg" && location == "log #2")
    };
    // Flipped bytes.
    b.sql_with_blob(
        &format!("UPDATE {log} SET data = $blob WHERE doc = 'dmg' AND seq = 2"),
        &[0xab, 0x8e, 0xc5, 0x73, 0x76],
    );
    let err = store.load(&doc("dmg")).unwrap_err();
    assert!(named_row_2(&err), "{err}");
    assert_eq!(err.code(), "corrupt_update");
    assert!(named_row_2(&store.read_since(&doc("dmg"), 1).unwrap_err()));
    assert!(named_row_2(&store.verify().unwrap_err()));
    // Past the damaged row, catching up still works.
    assert_eq!(store.read_since(&doc("dmg"), 2).unwrap().len(), 2);
    // The decode bomb with a matching digest: the screen refuses it.
    let bomb = [0xab, 0x8e, 0xc5, 0x73, 0x76];
    let bomb_digest = {
        use sha2::Digest as _;
        sha2::Sha256::digest(bomb).to_vec()
    };
    b.sql_with_blob(
        &format!("UPDATE {log} SET digest = $blob WHERE doc = 'dmg' AND seq = 2"),
        &bomb_digest,
    );
    let err = store.load(&doc("dmg")).unwrap_err();
    assert!(
        named_row_2(&err) && err.to_string().contains("decode guard"),
        "{err}"
    );
    // A row deleted by hand: the log has a hole, and the load says so.
    b.sql(&format!("DELETE FROM {log} WHERE doc = 'dmg' AND seq = 2"));
    let err = store.load(&doc("dmg")).unwrap_err();
    assert!(
        named_row_2(&err) && err.to_string().contains("missing"),
        "{err}"
    );
    // The last row deleted: the head names a row that is gone.
    b.sql(&format!("DELETE FROM {log} WHERE doc = 'dmg' AND seq = 4"));
    let err = store.read_since(&doc("dmg"), 3).unwrap_err();
    assert!(
        matches!(&err, StoreError::CorruptUpdate { location, .. } if location == "log #4"),
        "{err}"
    );
}

/// Leases fence: each node serving a document holds its own lease; after expiry, or a forced
/// takeover, the old holder's appends, renewals and compactions are refused (an expired lease
/// is not renewed either); a release ends it at once; epochs only grow.
pub fn a_stale_lease_is_fenced(b: &impl Backend) {
    let (node1, node2) = (b.open(), b.open());
    let d = doc("f");
    let (_, ups) = updates(5, 6);
    let short = Duration::from_millis(300);
    let first = node1.acquire_lease(&d, "node-1", short, false).unwrap();
    assert_eq!(first.epoch, 1);
    // A second node serves the same document under a lease of its own: both may append,
    // the head orders them.
    let second = node2.acquire_lease(&d, "node-2", TTL, false).unwrap();
    assert_eq!(second.epoch, 2);
    assert_eq!(node1.append_if_head(&first, 0, &ups[0]).unwrap(), 1);
    assert_eq!(node2.append_if_head(&second, 1, &ups[1]).unwrap(), 2);
    // A lease that nobody held cannot append.
    let forged = Lease {
        doc: d.clone(),
        holder: "node-9".into(),
        epoch: 1,
    };
    assert!(matches!(
        node2.append_if_head(&forged, 2, &ups[2]),
        Err(StoreError::Fenced { .. })
    ));
    let never = Lease {
        doc: doc("g"),
        holder: "node-1".into(),
        epoch: 1,
    };
    let err = node1.append_if_head(&never, 0, &ups[2]).unwrap_err();
    assert!(
        matches!(err, StoreError::Fenced { current: 0, .. }),
        "{err}"
    );

    // Expiry: the holder pauses past its lease; its append is refused, and so is a renewal:
    // it must start again under a new lease.
    std::thread::sleep(short * 2);
    let err = node1.append_if_head(&first, 2, &ups[2]).unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::Fenced {
                epoch: 1,
                current: 2,
                expired: true,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(err.code(), "fenced");
    assert!(matches!(
        node1.renew_lease(&first, TTL),
        Err(StoreError::Fenced { expired: true, .. })
    ));
    assert!(matches!(
        node1.compact_leased(&first, 1, 0),
        Err(StoreError::Fenced { .. })
    ));
    // Releasing an ended lease changes nothing; the live one carries on.
    node1.release_lease(&first).unwrap();
    assert_eq!(node2.append_if_head(&second, 2, &ups[2]).unwrap(), 3);
    node2.renew_lease(&second, TTL).unwrap();

    // Acquiring again gives the holder a new epoch; the old one stays refused.
    let third = node1.acquire_lease(&d, "node-1", TTL, false).unwrap();
    assert_eq!(third.epoch, 3);
    assert!(matches!(
        node1.append_if_head(&first, 3, &ups[3]),
        Err(StoreError::Fenced {
            epoch: 1,
            current: 3,
            expired: false,
            ..
        })
    ));

    // A forced takeover (an operator moving the document) fences every other holder at once.
    let fourth = node1.acquire_lease(&d, "node-1", TTL, true).unwrap();
    assert_eq!(fourth.epoch, 4);
    let err = node2.append_if_head(&second, 3, &ups[3]).unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::Fenced {
                epoch: 2,
                current: 4,
                ..
            }
        ),
        "{err}"
    );
    assert!(matches!(
        node1.append_if_head(&third, 3, &ups[3]),
        Err(StoreError::Fenced { .. })
    ));
    assert_eq!(node1.append_if_head(&fourth, 3, &ups[3]).unwrap(), 4);
    assert_eq!(node1.compact_leased(&fourth, 4, 1).unwrap().upto, 4);

    // A release ends the lease at once, and the epoch keeps growing.
    node1.release_lease(&fourth).unwrap();
    assert!(matches!(
        node1.append_if_head(&fourth, 4, &ups[4]),
        Err(StoreError::Fenced { .. })
    ));
    let fifth = node2.acquire_lease(&d, "node-2", TTL, false).unwrap();
    assert_eq!(fifth.epoch, 5);
    assert_eq!(node2.append_if_head(&fifth, 4, &ups[4]).unwrap(), 5);
    let loaded = node1.load(&d).unwrap();
    assert_eq!(loaded.head, 5);
    assert_eq!(replay(&loaded.updates).export(), replay(&ups[..5]).export());
}

/// The batched compare-and-append judges each item in order in one transaction: refusals
/// write nothing and do not stop other documents, and a document's items after a refused one
/// are refused too (they were validated on top of it), even where the head would match.
pub fn batched_append_if_heads_judges_each_in_order(b: &impl Backend) {
    let (node1, node2) = (b.open(), b.open());
    let (x, y) = (doc("bx"), doc("by"));
    let (_, ups) = updates(7, 8);
    let lx = lease(&node1, "bx", "node-1");
    let ly = lease(&node1, "by", "node-1");
    let other = lease(&node2, "bx", "node-2");
    let item = |l: &Lease, expected: SeqNo, i: usize| HeadAppend {
        lease: l.clone(),
        expected,
        update: ups[i].clone(),
        audit: None,
    };
    let out = node1
        .append_if_heads(&[item(&lx, 0, 0), item(&ly, 0, 1), item(&lx, 1, 2)])
        .unwrap();
    assert_eq!(
        out.iter().map(|r| *r.as_ref().unwrap()).collect::<Vec<_>>(),
        [1, 1, 2]
    );
    // Another node moves x's head to 3.
    assert_eq!(node2.append_if_head(&other, 2, &ups[3]).unwrap(), 3);
    // x at 2 is refused; x at 3 comes after a refused item of x: refused, though the head
    // is 3; y carries on.
    let out = node1
        .append_if_heads(&[item(&lx, 2, 4), item(&ly, 1, 5), item(&lx, 3, 6)])
        .unwrap();
    assert!(
        matches!(
            &out[0],
            Err(StoreError::HeadMoved {
                expected: 2,
                head: 3,
                ..
            })
        ),
        "{:?}",
        out[0]
    );
    assert_eq!(*out[1].as_ref().unwrap(), 2);
    assert!(
        matches!(&out[2], Err(StoreError::HeadMoved { expected: 3, .. })),
        "{:?}",
        out[2]
    );
    // A fenced lease refuses its items and leaves the others.
    let fresh = node2.acquire_lease(&x, "node-2", TTL, true).unwrap();
    let out = node1
        .append_if_heads(&[item(&lx, 3, 4), item(&ly, 2, 5)])
        .unwrap();
    assert!(
        matches!(&out[0], Err(StoreError::Fenced { .. })),
        "{:?}",
        out[0]
    );
    assert_eq!(*out[1].as_ref().unwrap(), 3);
    assert!(node1.append_if_heads(&[]).unwrap().is_empty());
    assert_eq!(node2.append_if_head(&fresh, 3, &ups[4]).unwrap(), 4);
    assert_eq!(node1.load(&x).unwrap().head, 4);
    assert_eq!(node1.load(&y).unwrap().head, 3);
    let xs: Vec<SeqNo> = node1
        .read_since(&x, 0)
        .unwrap()
        .iter()
        .map(|e| e.seq)
        .collect();
    assert_eq!(xs, [1, 2, 3, 4]);
}

/// An audit record at `at_ms` by `subject`, touching `cards`.
fn audit(at_ms: u64, subject: &str, cards: &[u128], verdict: AuditVerdict) -> Audit {
    let cards = cards
        .iter()
        .map(|&n| {
            let mut change = CardChange::default();
            change.fields.insert("title".into());
            (CardId::from_u128(n), change)
        })
        .collect();
    Audit {
        at_ms,
        author: AuditAuthor {
            subject: Some(subject.into()),
            role: Role::Editor,
        },
        batch: Some(BatchId {
            client: 7,
            seq: at_ms,
        }),
        verdict,
        summary: Summary {
            cards,
            ..Summary::default()
        },
        ops: None,
    }
}

/// Audit records: an accepted batch's record lands with its append, numbered with its
/// sequence number, and only if the append lands; a rejection's is written on its own; reads
/// filter by document, card and time, page by id, and see what another handle wrote; the
/// accepted records read by sequence number; pruning deletes what is older than its cut, card
/// index included.
pub fn audit_records_ride_on_appends_filter_page_and_prune(b: &impl Backend) {
    let (node1, node2) = (b.open(), b.open());
    let (ax, ay) = (doc("ax"), doc("ay"));
    let (_, ups) = updates(7, 3);
    let (lx, ly) = (lease(&node1, "ax", "node-1"), lease(&node1, "ay", "node-1"));
    let accepted = AuditVerdict::Accepted;
    let out = node1
        .append_if_heads(&[
            HeadAppend {
                lease: lx.clone(),
                expected: 0,
                update: ups[0].clone(),
                audit: Some(Box::new(audit(1_000, "alice", &[1], accepted.clone()))),
            },
            HeadAppend {
                lease: ly.clone(),
                expected: 0,
                update: ups[1].clone(),
                audit: Some(Box::new(audit(2_000, "bob", &[2], accepted.clone()))),
            },
            // Refused (the head is 1 now): its record must not land.
            HeadAppend {
                lease: lx.clone(),
                expected: 0,
                update: ups[2].clone(),
                audit: Some(Box::new(audit(2_500, "carol", &[1], accepted.clone()))),
            },
        ])
        .unwrap();
    assert!(
        out[0].is_ok() && out[1].is_ok() && out[2].is_err(),
        "{out:?}"
    );
    let rejected = AuditVerdict::Rejected {
        code: RejectCode::Forbidden,
        reason: "a viewer cannot write".into(),
    };
    node1
        .append_audit(&[(ax.clone(), audit(3_000, "mallory", &[1], rejected.clone()))])
        .unwrap();
    node1.append_audit(&[]).unwrap();

    let all = node2.read_audit(&ax, &AuditQuery::default()).unwrap();
    assert_eq!(all.len(), 2, "{all:?}");
    assert_eq!((all[0].seq, all[1].seq), (Some(1), None));
    assert!(all[0].id < all[1].id);
    assert_eq!(all[0].doc, "ax");
    assert_eq!(all[0].audit, audit(1_000, "alice", &[1], accepted));
    assert_eq!(all[1].audit, audit(3_000, "mallory", &[1], rejected));

    let query = |card: Option<u128>, since: Option<u64>, until: Option<u64>, after: u64, limit| {
        AuditQuery {
            card: card.map(CardId::from_u128),
            since_ms: since,
            until_ms: until,
            after,
            limit,
        }
    };
    let ids = |store: &dyn Store, d: &DocId, q: AuditQuery| -> Vec<u64> {
        store
            .read_audit(d, &q)
            .unwrap()
            .iter()
            .map(|r| r.audit.at_ms)
            .collect()
    };
    assert_eq!(
        ids(&node1, &ax, query(Some(1), None, None, 0, 10)),
        [1_000, 3_000]
    );
    assert!(ids(&node1, &ax, query(Some(2), None, None, 0, 10)).is_empty());
    assert_eq!(ids(&node1, &ay, query(Some(2), None, None, 0, 10)), [2_000]);
    assert_eq!(
        ids(&node1, &ax, query(None, Some(2_000), None, 0, 10)),
        [3_000]
    );
    assert_eq!(
        ids(&node1, &ax, query(None, None, Some(3_000), 0, 10)),
        [1_000]
    );
    assert_eq!(
        ids(&node1, &ax, query(Some(1), Some(1_000), Some(3_001), 0, 10)),
        [1_000, 3_000]
    );
    assert_eq!(ids(&node1, &ax, query(None, None, None, 0, 1)), [1_000]);
    assert_eq!(
        ids(&node1, &ax, query(None, None, None, all[0].id, 1)),
        [3_000]
    );
    assert_eq!(
        ids(&node1, &ax, query(Some(1), None, None, all[0].id, 10)),
        [3_000]
    );

    let seqs = |after| -> Vec<Option<SeqNo>> {
        node2
            .read_accepted(&ax, after, 10)
            .unwrap()
            .iter()
            .map(|r| r.seq)
            .collect()
    };
    assert_eq!(seqs(0), [Some(1)]);
    assert!(seqs(1).is_empty());

    assert_eq!(node2.prune_audit(2_500).unwrap(), 2);
    assert_eq!(ids(&node1, &ax, query(None, None, None, 0, 10)), [3_000]);
    assert_eq!(ids(&node1, &ax, query(Some(1), None, None, 0, 10)), [3_000]);
    assert!(ids(&node1, &ay, query(None, None, None, 0, 10)).is_empty());
    assert_eq!(node1.prune_audit(2_500).unwrap(), 0);
}
