//! The SQLite store on real files: what it appends it loads back and compacts without losing
//! an update, and a damaged row or a file that is not its database is a typed error, never a
//! panic or a silently shorter log.

use cardsync_core::{CardDoc, CardId, CardKind, Schema, Stamp};

use super::*;

fn updates(n: u128) -> (CardDoc, Vec<Vec<u8>>) {
    let schema = Schema::new(1).card("note", CardKind::default());
    let mut doc = CardDoc::new(schema, 5).unwrap();
    let mut out = Vec::new();
    for i in 0..n {
        let sv = doc.state_vector();
        doc.create_card(&Stamp::new(1, "t"), CardId::from_u128(i), "note", [])
            .unwrap();
        out.push(doc.diff_v1(&sv).unwrap());
    }
    (doc, out)
}

fn replay(updates: &[Vec<u8>]) -> CardDoc {
    let schema = Schema::new(1).card("note", CardKind::default());
    let mut doc = CardDoc::new(schema, 6).unwrap();
    for u in updates {
        doc.apply_update_v1(u).unwrap();
    }
    doc
}

fn open(dir: &tempfile::TempDir) -> SqliteStore {
    SqliteStore::open(&dir.path().join("c.db"), Synchronous::Full).unwrap()
}

#[test]
fn append_load_compact_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir);
    let doc = DocId::new("d").unwrap();
    let other = DocId::new("e").unwrap();
    let (source, ups) = updates(10);
    let appends: Vec<Append> = ups
        .iter()
        .map(|u| Append {
            doc: doc.clone(),
            update: u.clone(),
        })
        .collect();
    store.append(&appends[..6]).unwrap();
    store
        .append(&[Append {
            doc: other.clone(),
            update: ups[0].clone(),
        }])
        .unwrap();
    let loaded = store.load(&doc).unwrap();
    assert_eq!(loaded.log_len, 6);
    let done = store.compact(&doc).unwrap();
    assert_eq!(done.folded, 6);
    store.append(&appends[6..]).unwrap();
    let loaded = store.load(&doc).unwrap();
    assert_eq!((loaded.updates.len(), loaded.log_len), (5, 4));
    assert_eq!(replay(&loaded.updates).export(), source.export());
    assert_eq!(store.load(&other).unwrap().log_len, 1);
    assert_eq!(store.compact(&doc).unwrap().folded, 4);
    assert_eq!(store.compact(&doc).unwrap().folded, 0);
    let report = store.verify().unwrap();
    assert_eq!((report.documents, report.updates), (2, 2));
    store.flush().unwrap();
    drop(store);
    let reopened = open(&dir);
    assert_eq!(
        replay(&reopened.load(&doc).unwrap().updates).export(),
        source.export()
    );
}

#[test]
fn a_damaged_row_is_a_typed_error_naming_the_row() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir);
    let doc = DocId::new("d").unwrap();
    let (_, ups) = updates(2);
    let appends: Vec<Append> = ups
        .iter()
        .map(|u| Append {
            doc: doc.clone(),
            update: u.clone(),
        })
        .collect();
    store.append(&appends).unwrap();
    lock(&store.writer)
        .execute("UPDATE updates SET data = x'ab8ec57376' WHERE id = 2", [])
        .unwrap();
    let err = store.load(&doc).unwrap_err();
    assert!(
        matches!(&err, StoreError::CorruptUpdate { location, .. } if location == "log #2"),
        "{err}"
    );
    assert!(matches!(
        store.verify(),
        Err(StoreError::CorruptUpdate { .. })
    ));
    // A row whose digest matches but that the screen refuses (the decode bomb) is refused too.
    let bomb = [0xab, 0x8e, 0xc5, 0x73, 0x76];
    lock(&store.writer)
        .execute(
            "UPDATE updates SET data = ?1, digest = ?2 WHERE id = 2",
            params![bomb.as_slice(), digest(&bomb)],
        )
        .unwrap();
    let err = store.load(&doc).unwrap_err();
    assert!(err.to_string().contains("decode guard"), "{err}");
}

#[test]
fn garbage_and_truncated_files_refuse_to_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.db");
    std::fs::write(&path, vec![0x5a; 64 * 1024]).unwrap();
    let err = SqliteStore::open(&path, Synchronous::Full).unwrap_err();
    assert!(matches!(err, StoreError::NotADatabase { .. }), "{err}");

    let path = dir.path().join("t.db");
    {
        let store = SqliteStore::open(&path, Synchronous::Full).unwrap();
        let doc = DocId::new("d").unwrap();
        let big = vec![
            Append {
                doc,
                update: updates(1).1[0].clone()
            };
            2000
        ];
        store.append(&big).unwrap();
        store.flush().unwrap();
    }
    let len = std::fs::metadata(&path).unwrap().len();
    let file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    file.set_len(len / 2).unwrap();
    drop(file);
    let err = SqliteStore::open(&path, Synchronous::Full).unwrap_err();
    assert!(matches!(err, StoreError::Corrupt { .. }), "{err}");
}

#[test]
fn a_format_1_file_is_migrated_and_a_newer_format_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.db");
    let (source, ups) = updates(4);
    {
        // A file as format 1 wrote it: one document compacted to a snapshot and then
        // appended to, another with a log only.
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch(
            "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
             CREATE TABLE snapshots (
                 doc TEXT PRIMARY KEY, data BLOB NOT NULL, digest BLOB NOT NULL) STRICT;
             CREATE TABLE updates (
                 id INTEGER PRIMARY KEY AUTOINCREMENT, doc TEXT NOT NULL,
                 data BLOB NOT NULL, digest BLOB NOT NULL) STRICT;
             CREATE INDEX updates_by_doc ON updates (doc, id);
             INSERT INTO meta (key, value) VALUES ('format', '1');",
        )
        .unwrap();
        let snapshot = cardsync_core::merge_updates_v1(&[&ups[0], &ups[1]]).unwrap();
        conn.execute(
            "INSERT INTO snapshots (doc, data, digest) VALUES ('d', ?1, ?2)",
            params![snapshot, digest(&snapshot)],
        )
        .unwrap();
        for (doc, u) in [
            ("e", &ups[0]),
            ("d", &ups[2]),
            ("e", &ups[1]),
            ("d", &ups[3]),
        ] {
            conn.execute(
                "INSERT INTO updates (doc, data, digest) VALUES (?1, ?2, ?3)",
                params![doc, u, digest(u)],
            )
            .unwrap();
        }
    }
    let store = open(&dir);
    let (d, e) = (DocId::new("d").unwrap(), DocId::new("e").unwrap());
    let loaded = store.load(&d).unwrap();
    // The snapshot counts as entry 1, the two log rows are 2 and 3.
    assert_eq!((loaded.head, loaded.log_len), (3, 2));
    assert_eq!(replay(&loaded.updates).export(), source.export());
    let seqs: Vec<SeqNo> = store
        .read_since(&d, 1)
        .unwrap()
        .iter()
        .map(|e| e.seq)
        .collect();
    assert_eq!(seqs, [2, 3]);
    assert!(matches!(
        store.read_since(&d, 0),
        Err(StoreError::Compacted { floor: 1, .. })
    ));
    assert_eq!(store.load(&e).unwrap().head, 2);
    store
        .append(&[Append {
            doc: e.clone(),
            update: ups[2].clone(),
        }])
        .unwrap();
    assert_eq!(store.read_since(&e, 2).unwrap()[0].seq, 3);
    assert_eq!(store.verify().unwrap().updates, 6);
    drop(store);
    // Opening again is a no-op; a newer format is refused before anything is written.
    assert_eq!(open(&dir).load(&e).unwrap().head, 3);
    Connection::open(&path)
        .unwrap()
        .execute("UPDATE meta SET value = '5' WHERE key = 'format'", [])
        .unwrap();
    let err = SqliteStore::open(&path, Synchronous::Full).unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::NewerSchema {
                found: 5,
                supported: 4
            }
        ),
        "{err}"
    );
    assert_eq!(err.code(), "newer_schema");
}
