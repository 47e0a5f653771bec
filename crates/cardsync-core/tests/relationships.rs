//! Relationships: deterministic keys, properties, adjacency, dangling edges, restore.

mod common;

use cardsync_core::{DanglingReason, RelationshipKey, Value, WriteError};
use common::*;

#[test]
fn link_read_and_unlink() {
    let mut doc = doc(1);
    let (t1, t2) = (task(&mut doc, 1), task(&mut doc, 2));
    doc.create_card(&stamp(3), id(3), "person", [("name", "Ada".into())])
        .unwrap();
    let props = [("since".to_owned(), Value::from(2024))].into();
    doc.link(&stamp(4), t1, "assigned", id(3), props).unwrap();
    doc.link(&stamp(4), t1, "blocks", t2, Default::default())
        .unwrap();

    let out = doc.outgoing(t1);
    assert_eq!(out.len(), 2);
    let assigned = doc.relationship(t1, "assigned", id(3)).unwrap();
    assert_eq!(assigned.properties["since"], Value::Number(2024.0));
    assert_eq!(doc.incoming(t2).len(), 1);
    assert_eq!(doc.incoming(id(3))[0].from, t1);

    // Endpoint kinds come from the schema.
    let err = doc
        .link(&stamp(5), id(3), "assigned", t1, Default::default())
        .unwrap_err();
    assert!(
        matches!(err, WriteError::EndpointKind { end: "from", .. }),
        "{err}"
    );
    assert_eq!(err.code(), "schema_violation");

    doc.unlink(&stamp(6), t1, "blocks", t2).unwrap();
    assert!(doc.relationship(t1, "blocks", t2).is_none());
    assert!(doc.incoming(t2).is_empty());
    assert!(matches!(
        doc.unlink(&stamp(7), t1, "blocks", t2),
        Err(WriteError::UnknownRelationship { .. })
    ));
    // Relinking revives the same edge.
    doc.link(&stamp(8), t1, "blocks", t2, Default::default())
        .unwrap();
    assert_eq!(doc.relationships().len(), 2);
}

#[test]
fn concurrent_identical_links_make_one_edge() {
    let (mut a, mut b) = (doc(1), doc(2));
    let (t1, t2) = (task(&mut a, 1), task(&mut a, 2));
    sync(&mut a, &mut b);
    a.link(
        &stamp(3),
        t1,
        "blocks",
        t2,
        [("by".to_owned(), "a".into())].into(),
    )
    .unwrap();
    b.link(
        &stamp(3),
        t1,
        "blocks",
        t2,
        [("by".to_owned(), "b".into())].into(),
    )
    .unwrap();
    a.link(
        &stamp(4),
        t1,
        "blocks",
        t2,
        [("note".to_owned(), "n".into())].into(),
    )
    .unwrap();
    sync(&mut a, &mut b);
    assert_eq!(a.relationships().len(), 1);
    assert_eq!(a.export(), b.export());
    // Properties merge per name: neither side's later edit is lost with a losing copy.
    let edge = a.relationship(t1, "blocks", t2).unwrap();
    assert_eq!(edge.properties["note"], Value::from("n"));
    assert!(edge.properties.contains_key("by"));
    assert!(
        a.link(
            &stamp(5),
            t1,
            "blocks",
            t2,
            [("w".to_owned(), Value::Number(f64::NAN))].into()
        )
        .is_err()
    );
}

#[test]
fn deleted_endpoints_hide_edges_until_restored() {
    let (mut a, mut b) = (doc(1), doc(2));
    let (t1, t2) = (task(&mut a, 1), task(&mut a, 2));
    sync(&mut a, &mut b);
    // Concurrently: a deletes t2 while b links t1 -> t2.
    a.delete_card(&stamp(3), t2).unwrap();
    b.link(&stamp(3), t1, "blocks", t2, Default::default())
        .unwrap();
    sync(&mut a, &mut b);
    for doc in [&a, &b] {
        assert!(doc.relationships().is_empty());
        assert!(doc.outgoing(t1).is_empty());
        let report = doc.integrity_report();
        assert_eq!(report.dangling.len(), 1);
        assert_eq!(
            report.dangling[0].key,
            RelationshipKey::new(t1, "blocks", t2)
        );
        assert_eq!(report.dangling[0].to, Some(DanglingReason::Deleted));
        assert_eq!(report.dangling[0].from, None);
    }
    b.restore_card(&stamp(4), t2).unwrap();
    sync(&mut a, &mut b);
    assert_eq!(a.outgoing(t1).len(), 1);
    assert!(a.integrity_report().dangling.is_empty());
    assert_eq!(a.export(), b.export());
}

#[test]
fn edges_to_cards_not_yet_received_are_hidden() {
    let (mut a, mut b, mut c) = (doc(1), doc(2), doc(3));
    let t1 = task(&mut a, 1);
    sync(&mut a, &mut b);
    let t2 = task(&mut c, 2);
    sync(&mut a, &mut c);
    // b gets a's link but not c's card: the edge is there, hidden, and reported.
    let before = a.state_vector();
    a.link(&stamp(3), t1, "blocks", t2, Default::default())
        .unwrap();
    b.apply_update_v1(&a.diff_v1(&before).unwrap()).unwrap();
    assert!(b.outgoing(t1).is_empty());
    let report = b.integrity_report();
    assert_eq!(report.dangling.len(), 1);
    assert_eq!(report.dangling[0].to, Some(DanglingReason::Missing));
    // The card arrives: the edge appears.
    sync(&mut b, &mut c);
    assert_eq!(b.outgoing(t1).len(), 1);
    assert!(b.integrity_report().dangling.is_empty());
}

#[test]
fn undoing_a_creation_makes_edges_dangle() {
    let mut c = doc(3);
    let t3 = task(&mut c, 3);
    c.create_card(&stamp(1), id(4), "person", []).unwrap();
    c.link(&stamp(2), t3, "assigned", id(4), Default::default())
        .unwrap();
    c.delete_card(&stamp(3), id(4)).unwrap();
    assert_eq!(
        c.integrity_report().dangling[0].to,
        Some(DanglingReason::Deleted)
    );
    assert!(c.undo()); // the delete
    assert!(c.integrity_report().dangling.is_empty());
    assert!(c.undo()); // the link
    assert!(c.undo()); // the person's creation: the card is gone
    assert!(c.card(id(4)).is_none());
    assert!(c.outgoing(t3).is_empty());
    assert!(c.redo());
    assert!(c.redo());
    assert_eq!(c.outgoing(t3).len(), 1);
}
