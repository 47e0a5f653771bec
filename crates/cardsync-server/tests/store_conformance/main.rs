//! One conformance suite for every store: each promise of the `Store` contract
//! (docs/design.md §10, §12) is one generic case in `cases.rs`, run here against SQLite (a
//! real file) and PostgreSQL (a throwaway cluster started by the test, `common/pg.rs`). Both
//! always run: a promise that only one store keeps is a bug in the other.

#[path = "../common/mod.rs"]
mod common;

mod backends;
mod cases;

/// Instantiates every case for one backend, as `#[test]`s named after the case.
macro_rules! conformance {
    ($backend:ident, $open:expr) => {
        mod $backend {
            use super::cases;

            #[test]
            fn append_numbers_entries_per_document() {
                cases::append_numbers_entries_per_document(&$open);
            }

            #[test]
            fn append_if_head_refuses_a_moved_head() {
                cases::append_if_head_refuses_a_moved_head(&$open);
            }

            #[test]
            fn two_nodes_racing_for_one_head_exactly_one_wins() {
                cases::two_nodes_racing_for_one_head_exactly_one_wins(&$open);
            }

            #[test]
            fn read_since_returns_the_entries_after() {
                cases::read_since_returns_the_entries_after(&$open);
            }

            #[test]
            fn compaction_while_appends_continue_keeps_a_tail() {
                cases::compaction_while_appends_continue_keeps_a_tail(&$open);
            }

            #[test]
            fn damaged_rows_are_refused() {
                cases::damaged_rows_are_refused(&$open);
            }

            #[test]
            fn a_stale_lease_is_fenced() {
                cases::a_stale_lease_is_fenced(&$open);
            }

            #[test]
            fn audit_records_ride_on_appends_filter_page_and_prune() {
                cases::audit_records_ride_on_appends_filter_page_and_prune(&$open);
            }

            #[test]
            fn batched_append_if_heads_judges_each_in_order() {
                cases::batched_append_if_heads_judges_each_in_order(&$open);
            }
        }
    };
}

conformance!(sqlite, crate::backends::Sqlite::new());
conformance!(postgres, crate::backends::Postgres::new());
