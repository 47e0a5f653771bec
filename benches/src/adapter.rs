//! The one interface every compared library implements.
//!
//! Why a trait and not four copies of each workload: a workload written once against [`Peer`]
//! issues the *same* actions in the same order with the same ids to every library, so a
//! difference in the table is a difference between the libraries, not between four scripts.
//! Each implementation models the action in its library's own idiom (nested maps and a text
//! for a card, a movable list where the library has one), and every method that writes is
//! exactly one transaction, one user action, as [`crate`] requires. Batched variants have their
//! own methods so they are never confused with the per-action figures.
//!
//! Cards, sequences, board columns and texts are named by index (`i` is
//! [`crate::card_id`]`(i)` everywhere), so a workload never builds a peer-specific id.

use crate::error::Result;

/// One compared library, holding one replica of the benchmark document.
pub trait Peer: Sized {
    /// The column name in the results table.
    const NAME: &'static str;

    /// What an offline client queues for [`Peer::compact`]: one update per transaction.
    /// Cloned for each timed sample, so the run is made once.
    type Outbox: Clone;

    /// An empty document for replica `client` (a distinct client/actor/peer id per replica).
    fn new(client: u64) -> Result<Self>;

    /// Opens a replica from [`Peer::snapshot`] bytes.
    fn load(client: u64, snapshot: &[u8]) -> Result<Self>;

    /// Creates card `i` with all eight fields and its 500-char body: one transaction.
    fn create_card(&mut self, i: usize) -> Result<()>;

    /// Creates every card of `cards` in one transaction (the batched variant of K1).
    fn create_cards_batched(&mut self, cards: std::ops::Range<usize>) -> Result<()>;

    /// Creates card `i` with only its title (the setup of workloads about something else).
    fn create_small_card(&mut self, i: usize) -> Result<()>;

    /// Sets register `field` ("title" takes the text of `value`, "priority" the number) of
    /// card `i`: one transaction.
    fn set_field(&mut self, i: usize, field: &str, value: u64) -> Result<()>;

    /// Adds one to card `i`'s `votes` counter: one transaction.
    fn increment(&mut self, i: usize) -> Result<()>;

    /// The `votes` counter of card `i`.
    fn votes(&self, i: usize) -> Result<i64>;

    /// Soft-deletes card `i` (a flag, so a restore brings its edges back): one transaction.
    fn delete_card(&mut self, i: usize) -> Result<()>;

    /// Visible (not deleted) cards.
    fn card_count(&self) -> usize;

    /// Links card `from` to card `to` with the benchmark's relationship kind: one transaction.
    fn link(&mut self, from: usize, to: usize) -> Result<()>;

    /// Removes that link: one transaction.
    fn unlink(&mut self, from: usize, to: usize) -> Result<()>;

    /// Whether the link exists (ignoring endpoint deletion).
    fn has_link(&self, from: usize, to: usize) -> bool;

    /// Card ids (as printed by [`crate::card_id`]) of the visible neighbours of card `i`:
    /// outgoing then incoming, each sorted, edges with a deleted endpoint left out.
    fn neighbours(&self, i: usize) -> Vec<String>;

    /// Creates the one benchmark sequence: one transaction.
    fn create_sequence(&mut self) -> Result<()>;

    /// Appends card `i` to the sequence: one transaction.
    fn append(&mut self, i: usize) -> Result<()>;

    /// Moves card `i`, now at index `from`, so that it ends at index `to`: one transaction.
    /// Both indexes are given because a UI that moves a card has rendered the list.
    fn move_card(&mut self, i: usize, from: usize, to: usize) -> Result<()>;

    /// The sequence as card ids (as printed by [`crate::card_id`]), duplicates included.
    fn sequence(&self) -> Vec<String>;

    /// Creates the one benchmark board with [`crate::BOARD_COLUMNS`] empty columns: one
    /// transaction.
    fn create_board(&mut self) -> Result<()>;

    /// Appends card `i` to the end of board column `column`: one transaction.
    fn add_to_column(&mut self, i: usize, column: usize) -> Result<()>;

    /// Moves card `i`, now at index `from.1` of column `from.0`, so that it ends at index
    /// `to.1` of another column `to.0`: one transaction. Both places are given because a UI
    /// that drags a card has rendered the board.
    fn move_across(&mut self, i: usize, from: (usize, usize), to: (usize, usize)) -> Result<()>;

    /// The board's columns in order, each as card ids (as printed by [`crate::card_id`]),
    /// duplicates included.
    fn board(&self) -> Vec<Vec<String>>;

    /// Replaces `delete` characters at `index` of card `i`'s body with `insert`: one
    /// transaction.
    fn splice_body(&mut self, i: usize, index: usize, delete: usize, insert: &str) -> Result<()>;

    /// Card `i`'s body.
    fn body(&self, i: usize) -> Result<String>;

    /// Reads card `i` with every field into plain values (what a UI shows); returns how many
    /// fields it read.
    fn read_card(&self, i: usize) -> Result<usize>;

    /// Reads every card into plain values; returns how many it read.
    fn materialize(&self) -> Result<usize>;

    /// The whole document in the library's default full encoding (yrs v1, automerge `save`,
    /// loro snapshot).
    fn snapshot(&self) -> Result<Vec<u8>>;

    /// The whole document in the alternative encoding where there is one (yrs v2).
    fn snapshot_alt(&self) -> Option<Vec<u8>>;

    /// What this replica holds, as sent to a peer to ask for the rest (yrs state vector,
    /// automerge heads, loro version vector), encoded.
    fn version(&self) -> Result<Vec<u8>>;

    /// Everything this replica holds beyond `version`.
    fn diff(&self, version: &[u8]) -> Result<Vec<u8>>;

    /// Integrates an update from another replica.
    fn apply(&mut self, update: &[u8]) -> Result<()>;

    /// Makes `n` single-op transactions (increments of card `i`'s counter) while offline and
    /// queues each one's update as the library's outbox would.
    fn offline_run(&mut self, i: usize, n: usize) -> Result<Self::Outbox>;

    /// Compacts a queued run into one update.
    fn compact(outbox: Self::Outbox) -> Result<Vec<u8>>;
}
