//! Yjs interop: cardsync documents read and written by the real npm `yjs`, run by `node`.
//!
//! docs/design.md §3 promises that a stock Yjs doc can read and edit a cardsync document through
//! `doc.getMap("cards")` and friends, and §4 that the update API is Yjs wire-compatible. These
//! tests check both against `yjs` itself (pinned in `tests/js/package.json`), not against yrs's
//! idea of it: the scripts in `tests/js/` load our bytes with `Y.applyUpdate(V2)`, print what Yjs
//! sees as JSON, edit with the plain Yjs API, and send back `Y.encodeStateAsUpdate` diffs.
//!
//! Requests and replies are JSON on stdin/stdout with binary payloads as hex. Without node or
//! `tests/js/node_modules` the tests fail (never skip): `cargo xtask test` installs them.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use cardsync_core::{
    Attributes, CardDoc, CardId, ChangeBatch, ChangeEvent, FieldValue, Op, Origin, RelationshipKey,
    Schema, SequenceId, Stamp, TextRun, Value, order_key,
};
use serde_json::{Value as Json, json};
use yrs::updates::decoder::Decode;
use yrs::{StateVector, Update};

// ---------------------------------------------------------------------------------------------
// Running node

fn js_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("js")
}

/// Runs `tests/js/<script>` with `request` as JSON on stdin and returns its JSON reply.
fn node(script: &str, request: &Json) -> Json {
    let dir = js_dir();
    assert!(
        dir.join("node_modules/yjs/package.json").is_file(),
        "npm package `yjs` is not installed in {}: run `cargo xtask test` (it runs `npm ci` there), \
         or `npm ci` in tests/js yourself",
        dir.display()
    );
    let mut child = Command::new("node")
        .arg(script)
        .current_dir(&dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run `node` ({e}): the Yjs interop tests need Node.js >= 20 on PATH; \
                 `cargo xtask test` checks for it and installs tests/js/node_modules"
            )
        });
    let input = request.to_string();
    let mut stdin = child.stdin.take().expect("piped stdin");
    // Write from another thread so a chatty child can never deadlock us on a full pipe.
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let output = child.wait_with_output().expect("wait for node");
    writer
        .join()
        .expect("stdin writer thread")
        .expect("write request to node");
    assert!(
        output.status.success(),
        "node {script} failed ({}):\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "node {script} printed invalid JSON ({e}):\n{}",
            String::from_utf8_lossy(&output.stdout)
        )
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &Json) -> Vec<u8> {
    let text = text.as_str().expect("hex string");
    assert!(text.len().is_multiple_of(2), "odd hex length");
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex digit"))
        .collect()
}

/// What `inspect.mjs` says stock Yjs sees after applying `updates` (bytes, is-v2) in order.
fn yjs_view(updates: &[(&[u8], bool)]) -> Json {
    let updates: Vec<Json> = updates
        .iter()
        .map(|(bytes, v2)| json!({ "hex": hex(bytes), "v2": v2 }))
        .collect();
    node("inspect.mjs", &json!({ "updates": updates }))
}

// ---------------------------------------------------------------------------------------------
// The document under test

fn schema() -> Schema {
    cardsync_tests::board_schema()
}

const T1: CardId = CardId::from_u128(0x1111_2222_3333_4444_5555_6666_7777_8888);
const T2: CardId = CardId::from_u128(0x2222);
const T3: CardId = CardId::from_u128(0x3333_0000_0000_0000_0000_0000_0000_0000);
const NOTE: CardId = CardId::from_u128(0x4444);
/// The card the Yjs peer creates.
const T4: CardId = CardId::from_u128(0x5555_5555);
/// A card created after the Yjs edits.
const T5: CardId = CardId::from_u128(0x6666);
const BOARD: SequenceId = SequenceId::from_u128(0xb0a2d);
const EMPTY: SequenceId = SequenceId::from_u128(0xe);
/// The Yjs peer's client id.
const YJS_CLIENT: u64 = 4242;

fn stamp(at: u64) -> Stamp {
    Stamp::new(1_700_000_000_000 + at, "ada")
}

fn attrs<const N: usize>(pairs: [(&str, Value); N]) -> Attributes {
    pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

/// A document with every field kind, formatted text, counter/max/set entries from two
/// replicas (client ids 1 and 2), a deleted card, linked, unlinked and dangling relationships,
/// and two sequences. Returned doc is replica 1 with replica 2's changes merged in.
fn build() -> CardDoc {
    let mut a = CardDoc::new(schema(), 1).unwrap();
    let s = stamp(1);
    a.create_card(
        &s,
        T1,
        "task",
        [
            ("title", Value::from("Write interop tests")),
            ("status", "todo".into()),
            ("estimate", 3.5.into()),
            ("flagged", true.into()),
            ("body", "Hello world".into()),
        ],
    )
    .unwrap();
    a.format_text(&s, T1, "body", 0, 5, attrs([("bold", true.into())]))
        .unwrap();
    a.format_text(
        &s,
        T1,
        "body",
        6,
        5,
        attrs([("italic", true.into()), ("color", "#ff0000".into())]),
    )
    .unwrap();
    a.apply(
        &s,
        &[Op::InsertText {
            card: T1,
            field: "body".into(),
            index: 11,
            text: " see ticket".into(),
            attributes: attrs([("link", "https://example.invalid/1".into())]),
        }],
    )
    .unwrap();
    a.increment(&s, T1, "votes", 3).unwrap();
    a.raise_max(&s, T1, "progress", 40.0).unwrap();
    a.add_to_set(&s, T1, "tags", "urgent").unwrap();
    a.add_to_set(&s, T1, "tags", "backend").unwrap();

    a.create_card(&s, T2, "task", [("title", Value::from("Second"))])
        .unwrap();
    a.create_card(&s, T3, "task", [("title", Value::from("Gone"))])
        .unwrap();
    a.create_card(&s, NOTE, "note", [("text", Value::from("a note"))])
        .unwrap();

    a.link(&s, T1, "blocks", T2, attrs([("weight", 2.into())]))
        .unwrap();
    a.link(&s, T2, "relates", NOTE, Attributes::new()).unwrap();
    a.unlink(&s, T2, "relates", NOTE).unwrap();

    a.create_sequence(&s, BOARD).unwrap();
    a.create_sequence(&s, EMPTY).unwrap();
    for card in [T1, T2, T3, NOTE] {
        a.insert_into_sequence(&s, BOARD, card, u32::MAX).unwrap();
    }
    a.move_in_sequence(&s, BOARD, T2, 0).unwrap();
    a.delete_card(&s, T3).unwrap();

    // A second replica adds its own counter, max and set entries.
    let mut b = CardDoc::load_v1(a.schema().clone(), 2, &a.snapshot_v1()).unwrap();
    let s2 = Stamp::new(1_700_000_000_500, "bob");
    b.increment(&s2, T1, "votes", 4).unwrap();
    b.increment(&s2, T1, "votes", -1).unwrap();
    b.raise_max(&s2, T1, "progress", 75.0).unwrap();
    b.add_to_set(&s2, T1, "tags", "frontend").unwrap();
    a.apply_update_v1(&b.diff_v1(&a.state_vector()).unwrap())
        .unwrap();

    assert_eq!(a.sequence(BOARD), Some(vec![T2, T1, NOTE]));
    assert_eq!(a.card(T1).unwrap().fields["votes"], FieldValue::Counter(6));
    a
}

// ---------------------------------------------------------------------------------------------
// Reading Yjs's view

fn card(view: &Json, id: CardId) -> &Json {
    let c = &view["cards"][id.to_string()];
    assert!(c.is_object(), "Yjs sees no card {id}: {}", view["cards"]);
    c
}

/// Text runs as Yjs's `toDelta()` reports them, in cardsync's shape.
fn yjs_runs(view: &Json, id: CardId, field: &str) -> Vec<TextRun> {
    let delta = view["texts"][id.to_string()][field]
        .as_array()
        .unwrap_or_else(|| panic!("no delta for {id}.{field}: {}", view["texts"]));
    delta
        .iter()
        .map(|op| TextRun {
            text: op["insert"].as_str().expect("string insert").to_owned(),
            attributes: serde_json::from_value(op["attributes"].clone()).unwrap_or_default(),
        })
        .collect()
}

/// A sequence's entries as Yjs sees them (`{sequence}:{card}` keys of the flat `sequences`
/// root), in cardsync's order: by order key, then by card id.
fn yjs_order(view: &Json, sequence: SequenceId) -> Vec<(String, CardId)> {
    let root = view["sequences"].as_object().expect("sequences root");
    assert_eq!(
        root.get(&sequence.to_string()),
        Some(&json!(true)),
        "Yjs sees no marker of sequence {sequence}"
    );
    let prefix = format!("{sequence}:");
    let mut entries: Vec<(String, CardId)> = root
        .iter()
        .filter_map(|(key, order)| {
            let card = key.strip_prefix(&prefix)?;
            let order = order.as_str().expect("order keys are strings").to_owned();
            Some((order, card.parse().expect("entry keys end in a card id")))
        })
        .collect();
    entries.sort();
    entries
}

fn visible_order(view: &Json, sequence: SequenceId) -> Vec<CardId> {
    yjs_order(view, sequence)
        .into_iter()
        .map(|(_, id)| id)
        .filter(|id| {
            let c = &view["cards"][id.to_string()];
            c.is_object() && c["$deleted"] != json!(true)
        })
        .collect()
}

fn entries(value: &Json) -> BTreeMap<String, f64> {
    value
        .as_object()
        .expect("a nested map")
        .iter()
        .map(|(k, v)| (k.clone(), v.as_f64().expect("numeric entry")))
        .collect()
}

fn set_items(value: &Json) -> BTreeSet<String> {
    value
        .as_object()
        .expect("a nested map")
        .keys()
        .map(|k| {
            let (item, client) = k.rsplit_once('@').expect("item@client");
            assert!(client.parse::<u64>().is_ok(), "set key {k}");
            item.to_owned()
        })
        .collect()
}

fn state_vector(bytes: &[u8]) -> StateVector {
    StateVector::decode_v1(bytes).expect("valid state vector")
}

fn ids<const N: usize>(items: [&str; N]) -> BTreeSet<String> {
    items.into_iter().map(str::to_owned).collect()
}

// ---------------------------------------------------------------------------------------------
// cardsync -> Yjs

#[test]
fn yjs_reads_cardsync_snapshots_v1_and_v2() {
    let doc = build();
    let v1 = yjs_view(&[(&doc.snapshot_v1(), false)]);
    let v2 = yjs_view(&[(&doc.snapshot_v2(), true)]);
    for root in [
        "cards",
        "types",
        "texts",
        "relationships",
        "relationship_props",
        "sequences",
        "meta",
    ] {
        assert_eq!(
            v1[root], v2[root],
            "v1 and v2 snapshots differ in Yjs at {root}"
        );
    }
    let view = v1;

    // Registers and bookkeeping keys.
    let t1 = card(&view, T1);
    assert_eq!(t1["$kind"], "task");
    assert_eq!(t1["title"], "Write interop tests");
    assert_eq!(t1["status"], "todo");
    assert_eq!(t1["estimate"], 3.5);
    assert_eq!(t1["flagged"], true);
    assert_eq!(t1["$created"]["by"], "ada");
    assert_eq!(t1["$created"]["at"], 1_700_000_000_001u64);
    assert_eq!(t1.get("$deleted"), None);
    assert_eq!(card(&view, NOTE)["$kind"], "note");
    assert_eq!(card(&view, T3)["$deleted"], true);
    assert_eq!(card(&view, T3)["title"], "Gone");

    // Every field lives in the container docs/design.md §3 names.
    let types = &view["types"][T1.to_string()];
    for (field, ty) in [
        ("title", "value"),
        ("estimate", "value"),
        ("body", "Y.Text"),
        ("votes", "Y.Map"),
        ("progress", "Y.Map"),
        ("tags", "Y.Map"),
    ] {
        assert_eq!(types[field], ty, "field {field}");
    }
    assert_eq!(view["types"][NOTE.to_string()]["text"], "Y.Text");

    // Text, with its formatting.
    let body = "Hello world see ticket";
    assert_eq!(t1["body"], body);
    assert_eq!(card(&view, NOTE)["text"], "a note");
    let runs = yjs_runs(&view, T1, "body");
    assert_eq!(runs, doc.text_runs(T1, "body"));
    let bold = attrs([("bold", true.into())]);
    let italic = attrs([("color", "#ff0000".into()), ("italic", true.into())]);
    let link = attrs([("link", "https://example.invalid/1".into())]);
    let expected = [
        ("Hello", bold),
        (" ", Attributes::new()),
        ("world", italic),
        (" see ticket", link),
    ]
    .map(|(text, attributes)| TextRun {
        text: text.to_owned(),
        attributes,
    });
    assert_eq!(runs, expected);

    // Counter and max: one entry per replica, keyed by client id.
    let votes = entries(&t1["votes"]);
    assert_eq!(
        votes,
        BTreeMap::from([("1".into(), 3.0), ("2".into(), 3.0)])
    );
    assert_eq!(votes.values().sum::<f64>(), 6.0);
    let progress = entries(&t1["progress"]);
    assert_eq!(progress.values().copied().reduce(f64::max), Some(75.0));
    assert_eq!(
        doc.card(T1).unwrap().fields["progress"],
        FieldValue::Max(Some(75.0))
    );
    assert_eq!(
        set_items(&t1["tags"]),
        ids(["backend", "frontend", "urgent"])
    );

    // Relationships: deterministic keys, from/to/kind, properties, the removed flag.
    let rels = &view["relationships"];
    let blocks_key = RelationshipKey::new(T1, "blocks", T2).to_string();
    let blocks = &rels[&blocks_key];
    assert_eq!(blocks["from"], T1.to_string());
    assert_eq!(blocks["to"], T2.to_string());
    assert_eq!(blocks["kind"], "blocks");
    assert_eq!(blocks["removed"], false);
    assert_eq!(
        view["relationship_props"],
        json!({ format!("{blocks_key}\u{1f}weight"): 2 })
    );
    let relates = &rels[RelationshipKey::new(T2, "relates", NOTE).to_string()];
    assert_eq!(relates["kind"], "relates");
    assert_eq!(relates["removed"], true);
    assert_eq!(rels.as_object().unwrap().len(), 2);

    // Sequences: sorting the order keys reproduces cardsync's order.
    let raw = yjs_order(&view, BOARD);
    assert!(
        raw.iter().all(|(key, _)| order_key::is_valid(key)),
        "{raw:?}"
    );
    assert_eq!(
        raw.iter().map(|(_, id)| *id).collect::<Vec<_>>(),
        [T2, T1, T3, NOTE]
    );
    assert_eq!(Some(visible_order(&view, BOARD)), doc.sequence(BOARD));
    assert_eq!(yjs_order(&view, EMPTY), []);
    // Two markers and four entries, nothing else.
    assert_eq!(view["sequences"].as_object().unwrap().len(), 6);

    assert_eq!(view["meta"]["schema_version"], 2);

    // What Yjs re-encodes, cardsync reads back as the same document.
    let back = CardDoc::load_v1(doc.schema().clone(), 9, &unhex(&view["snapshot"])).unwrap();
    assert_eq!(back.export(), doc.export());
    assert_eq!(
        state_vector(&unhex(&view["stateVector"])),
        state_vector(&doc.state_vector())
    );
}

// ---------------------------------------------------------------------------------------------
// Yjs -> cardsync

/// Runs `edit.mjs` on `snapshot`, diffing against `state_vector`.
fn yjs_edit(snapshot: &[u8], state_vector: &[u8]) -> Json {
    node(
        "edit.mjs",
        &json!({
            "snapshot": hex(snapshot),
            "stateVector": hex(state_vector),
            "clientID": YJS_CLIENT,
            "card": T1.to_string(),
            "deleteCard": T2.to_string(),
            "newCard": T4.to_string(),
            "sequence": BOARD.to_string(),
        }),
    )
}

#[test]
fn yjs_edits_apply_to_cardsync_as_remote_changes() {
    let mut doc = build();
    let before = doc.snapshot_v1();
    let edited = yjs_edit(&before, &doc.state_vector());

    doc.buffer_changes(true);
    doc.apply_update_v1(&unhex(&edited["diff"])).unwrap();
    let batches: Vec<ChangeBatch> = std::iter::from_fn(|| doc.poll_changes()).collect();

    // The v2 diff says the same.
    let mut via_v2 = CardDoc::load_v1(doc.schema().clone(), 3, &before).unwrap();
    via_v2.apply_update_v2(&unhex(&edited["diffV2"])).unwrap();
    assert_eq!(via_v2.export(), doc.export());

    // The edited card.
    let t1 = doc.card(T1).unwrap();
    let field = |name: &str| t1.fields[name].clone();
    assert_eq!(field("title"), FieldValue::Register("Edited in Yjs".into()));
    assert_eq!(field("estimate"), FieldValue::Register(3.5.into()));
    assert_eq!(
        field("body"),
        FieldValue::Text("Yjs: Hello world see ticket (end)".into())
    );
    let runs = doc.text_runs(T1, "body");
    // Yjs's bold insert joins the bold run that was there.
    assert_eq!(runs[0].text, "Yjs: Hello");
    assert_eq!(runs[0].attributes, attrs([("bold", true.into())]));
    assert_eq!(runs.last().unwrap().text, " (end)");
    assert!(runs.last().unwrap().attributes.is_empty());
    assert_eq!(field("votes"), FieldValue::Counter(11));
    assert_eq!(field("progress"), FieldValue::Max(Some(99.5)));
    assert_eq!(
        field("tags"),
        FieldValue::Set(ids(["backend", "frontend", "yjs"]))
    );
    assert_eq!(t1.modified, Some(Stamp::new(1_700_000_000_123, "yjs-peer")));

    // The soft-deleted card hides with its edges; the edge is reported, not lost.
    assert!(!doc.is_visible(T2));
    assert!(doc.card(T2).unwrap().deleted);
    assert_eq!(doc.relationship(T1, "blocks", T2), None);
    let report = doc.integrity_report();
    assert_eq!(report.dangling.len(), 1);
    assert_eq!(
        report.dangling[0].key,
        RelationshipKey::new(T1, "blocks", T2)
    );

    // The card Yjs created, with the edge it drew.
    let t4 = doc.card(T4).unwrap();
    assert_eq!(t4.kind, "task");
    assert!(!t4.deleted);
    assert_eq!(t4.created, Some(Stamp::new(1_700_000_000_123, "yjs-peer")));
    assert_eq!(
        t4.fields["title"],
        FieldValue::Register("Born in Yjs".into())
    );
    assert_eq!(t4.fields["status"], FieldValue::Register("todo".into()));
    assert_eq!(
        t4.fields["body"],
        FieldValue::Text("made by a stock Yjs peer".into())
    );
    assert_eq!(t4.fields["votes"], FieldValue::Counter(2));
    assert_eq!(t4.fields["progress"], FieldValue::Max(None));
    assert_eq!(t4.fields["tags"], FieldValue::Set(ids(["fresh"])));
    let edge = doc
        .relationship(T4, "blocks", T1)
        .expect("edge drawn in Yjs");
    assert_eq!(edge.properties, attrs([("weight", 3.into())]));
    assert_eq!(doc.incoming(T1), vec![edge]);

    // The sequence keys Yjs set: the new card last, the last card first; T2 is now deleted.
    assert_eq!(doc.sequence(BOARD), Some(vec![NOTE, T1, T4]));

    // Exactly one batch of events, from a remote origin, naming every change.
    assert_eq!(batches.len(), 1, "{batches:#?}");
    assert_eq!(batches[0].origin, Origin::Remote);
    let events: BTreeSet<String> = batches[0].events.iter().map(|e| format!("{e:?}")).collect();
    let field_changed = |name: &str| ChangeEvent::FieldChanged {
        card: T1,
        field: name.into(),
    };
    for expected in [
        field_changed("title"),
        field_changed("body"),
        field_changed("votes"),
        field_changed("progress"),
        field_changed("tags"),
        ChangeEvent::CardDeleted { card: T2 },
        ChangeEvent::CardCreated {
            card: T4,
            kind: "task".into(),
        },
        ChangeEvent::RelationshipAdded {
            key: RelationshipKey::new(T4, "blocks", T1),
        },
        ChangeEvent::SequenceChanged { sequence: BOARD },
    ] {
        assert!(
            events.contains(&format!("{expected:?}")),
            "missing {expected:?} in {events:#?}"
        );
    }

    // cardsync keeps writing around what Yjs wrote: keys between foreign keys, own entries.
    let s = stamp(100);
    doc.create_card(&s, T5, "note", []).unwrap();
    doc.insert_into_sequence(&s, BOARD, T5, 1).unwrap();
    doc.move_in_sequence(&s, BOARD, T4, 0).unwrap();
    assert_eq!(doc.sequence(BOARD), Some(vec![T4, NOTE, T5, T1]));
    doc.increment(&s, T4, "votes", 1).unwrap();
    assert_eq!(
        doc.card(T4).unwrap().fields["votes"],
        FieldValue::Counter(3)
    );
    doc.set_field(&s, T4, "status", "doing").unwrap();
    assert_eq!(
        doc.card(T4).unwrap().fields["status"],
        FieldValue::Register("doing".into())
    );
}

// ---------------------------------------------------------------------------------------------
// State vectors and diffs in both directions

#[test]
fn diffs_round_trip_through_state_vectors_both_ways() {
    let mut doc = build();
    let shared = doc.snapshot_v1();
    // The Yjs peer edits from the shared state and diffs against what we had then.
    let edited = yjs_edit(&shared, &doc.state_vector());
    let yjs_state = unhex(&edited["snapshot"]);
    let yjs_sv = unhex(&edited["stateVector"]);

    // Meanwhile cardsync edits the same card concurrently, including an add of the tag the Yjs
    // peer removes (add wins) and a text insert at the same position as the Yjs peer's.
    let s = stamp(50);
    doc.insert_text(&s, T1, "body", 0, "Rust: ").unwrap();
    doc.increment(&s, T1, "votes", 10).unwrap();
    doc.set_field(&s, T1, "estimate", 8).unwrap();
    doc.remove_from_set(&s, T1, "tags", "urgent").unwrap();
    doc.add_to_set(&s, T1, "tags", "urgent").unwrap();
    doc.move_in_sequence(&s, BOARD, T1, 0).unwrap();

    // cardsync -> Yjs: a diff against the state vector Yjs encoded, in both encodings.
    let to_yjs_v1 = doc.diff_v1(&yjs_sv).unwrap();
    let to_yjs_v2 = doc.diff_v2(&yjs_sv).unwrap();
    let yjs_v1 = yjs_view(&[(&yjs_state, false), (&to_yjs_v1, false)]);
    let yjs_v2 = yjs_view(&[(&yjs_state, false), (&to_yjs_v2, true)]);
    for root in [
        "cards",
        "texts",
        "relationships",
        "relationship_props",
        "sequences",
        "meta",
        "stateVector",
    ] {
        assert_eq!(
            yjs_v1[root], yjs_v2[root],
            "v1 and v2 diffs differ in Yjs at {root}"
        );
    }
    // The diff holds only what Yjs lacked: smaller than our snapshot.
    assert!(to_yjs_v1.len() < doc.snapshot_v1().len());

    // Yjs -> cardsync: the diff the Yjs peer computed against our earlier state vector.
    doc.apply_update_v1(&unhex(&edited["diff"])).unwrap();

    // Both sides converged: same state vector, same document, nothing left to send.
    assert_eq!(
        state_vector(&unhex(&yjs_v1["stateVector"])),
        state_vector(&doc.state_vector())
    );
    let from_yjs = CardDoc::load_v1(doc.schema().clone(), 8, &unhex(&yjs_v1["snapshot"])).unwrap();
    assert_eq!(from_yjs.export(), doc.export());
    let rest = doc.diff_v1(&unhex(&yjs_v1["stateVector"])).unwrap();
    let rest = Update::decode_v1(&rest).unwrap();
    assert!(
        rest.state_vector().is_empty(),
        "nothing left to send: {rest:?}"
    );

    let t1 = doc.card(T1).unwrap();
    assert_eq!(t1.fields["votes"], FieldValue::Counter(21));
    assert_eq!(t1.fields["estimate"], FieldValue::Register(8.into()));
    assert_eq!(
        t1.fields["title"],
        FieldValue::Register("Edited in Yjs".into())
    );
    assert_eq!(
        t1.fields["tags"],
        FieldValue::Set(ids(["backend", "frontend", "urgent", "yjs"]))
    );
    let FieldValue::Text(body) = &t1.fields["body"] else {
        panic!("body is text")
    };
    assert_eq!(yjs_v1["cards"][T1.to_string()]["body"], body.as_str());
    assert!(body.contains("Rust: ") && body.contains("Yjs: ") && body.ends_with(" (end)"));
    assert_eq!(yjs_v1["cards"][T1.to_string()]["votes"]["4242"], 5);

    // Concurrent moves: the Yjs peer put NOTE first, we put T1 first; sorting the merged keys
    // in Yjs gives cardsync's order.
    assert_eq!(Some(visible_order(&yjs_v1, BOARD)), doc.sequence(BOARD));
    assert_eq!(doc.sequence(BOARD).unwrap().len(), 3);
}

/// A board as a stock Yjs doc sees it: `boards` holds `{board}` → `{kind}`, `{board}/{column}`
/// → `{name, order, removed}` and `{board}:{card}` → `{column, order}`, all plain JSON. Drawing
/// the board from that JSON alone (columns by order key then id; cards by order key then id;
/// a removed column's cards in the first live column) gives what cardsync reads, after
/// concurrent moves of one card to two columns and a column removed meanwhile.
#[test]
fn yjs_reads_a_board() {
    use cardsync_core::{BoardId, BoardKind, ColumnId};
    let schema = schema().board("kanban", BoardKind::default());
    let (board, cols) = (BoardId::from_u128(0xb0), [1, 2, 3].map(ColumnId::from_u128));
    let mut a = CardDoc::new(schema.clone(), 1).unwrap();
    let s = stamp(1);
    a.create_board(&s, board, "kanban").unwrap();
    for (i, column) in cols.iter().enumerate() {
        a.add_column(&s, board, *column, &format!("c{i}"), i as u32)
            .unwrap();
    }
    let cards = [T1, T2, T3];
    for card in cards {
        a.create_card(&s, card, "task", [("title", Value::from("t"))])
            .unwrap();
        a.place_card(&s, board, card, cols[1], 9).unwrap();
    }
    let mut b = CardDoc::new(schema, 2).unwrap();
    b.apply_update_v1(&a.snapshot_v1()).unwrap();
    a.place_card(&s, board, T1, cols[0], 0).unwrap();
    b.place_card(&s, board, T1, cols[2], 0).unwrap();
    b.remove_column(&s, board, cols[1]).unwrap();
    a.apply_update_v1(&b.diff_v1(&a.state_vector()).unwrap())
        .unwrap();
    let view = yjs_view(&[(&a.snapshot_v1(), false)]);
    let root = view["boards"].as_object().expect("boards root");
    assert_eq!(root[&board.to_string()], json!({ "kind": "kanban" }));
    // Columns, from the plain JSON.
    let prefix = format!("{board}/");
    let mut columns: Vec<(String, String, bool)> = root
        .iter()
        .filter_map(|(key, v)| {
            let id = key.strip_prefix(&prefix)?.to_owned();
            let removed = v["removed"].as_bool().expect("removed flag");
            Some((v["order"].as_str()?.to_owned(), id, removed))
        })
        .collect();
    columns.sort();
    let live: Vec<String> = columns
        .iter()
        .filter(|(.., removed)| !removed)
        .map(|(_, id, _)| id.clone())
        .collect();
    // Placements, from the plain JSON.
    let prefix = format!("{board}:");
    let mut drawn: Vec<(String, Vec<(String, String)>)> =
        live.iter().map(|id| (id.clone(), Vec::new())).collect();
    for (key, v) in root {
        let Some(card) = key.strip_prefix(&prefix) else {
            continue;
        };
        let column = v["column"].as_str().expect("column id");
        let at = live.iter().position(|c| c == column).unwrap_or(0);
        let order = v["order"].as_str().expect("order key").to_owned();
        drawn[at].1.push((order, card.to_owned()));
    }
    let cardsync = a.board(board).unwrap();
    assert_eq!(cardsync.columns.len(), drawn.len());
    for (column, (id, mut entries)) in cardsync.columns.iter().zip(drawn) {
        entries.sort();
        let ids: Vec<String> = entries.into_iter().map(|(_, c)| c).collect();
        let expected: Vec<String> = column.cards.iter().map(ToString::to_string).collect();
        assert_eq!((column.id.to_string(), expected), (id, ids));
    }
    let placed: usize = cardsync.columns.iter().map(|c| c.cards.len()).sum();
    assert_eq!(placed, 3, "every card in exactly one column");
}
