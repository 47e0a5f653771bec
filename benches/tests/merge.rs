//! `Report::merge`, as `cargo xtask bench --nodes` uses it: a later run's rows and notes
//! replace the earlier run's of the same case and heading, and everything else is kept.

use cardsync_benches::report::{Cell, Report};

fn number(v: f64) -> Cell {
    Cell::Number { median: v, min: v }
}

#[test]
fn a_later_run_replaces_rows_and_notes_of_the_same_case_and_keeps_the_rest() {
    let mut last = Report::default();
    last.push("K1", "create", "µs", vec![("cardsync", number(1.0))]);
    last.push(
        "E2",
        "two nodes: rate",
        "batches/s",
        vec![("cardsync", number(10.0))],
    );
    last.notes = vec![
        "Native: old".into(),
        "Scaling out (E2, this run): old".into(),
    ];
    let mut new = Report::default();
    new.push(
        "E2",
        "two nodes: rate",
        "batches/s",
        vec![("cardsync", number(20.0))],
    );
    new.push("E1", "across nodes", "ms", vec![("cardsync", number(3.0))]);
    new.notes = vec![
        "Scaling out (E2, this run): new".into(),
        "E1 across nodes: new".into(),
    ];
    last.merge(new);
    let cases: Vec<(&str, &str)> = last
        .rows
        .iter()
        .map(|r| (r.workload.as_str(), r.case.as_str()))
        .collect();
    assert_eq!(
        cases,
        [
            ("K1", "create"),
            ("E2", "two nodes: rate"),
            ("E1", "across nodes")
        ]
    );
    assert!(matches!(
        last.rows[1].cells["cardsync"],
        Cell::Number { median, .. } if median == 20.0
    ));
    assert_eq!(
        last.notes,
        [
            "Native: old",
            "Scaling out (E2, this run): new",
            "E1 across nodes: new"
        ]
    );
}
