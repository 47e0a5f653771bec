//! The layout of a cardsync document in yrs: root names, bookkeeping keys, key formats, and
//! their canonical parsers (docs/design.md §3).
//!
//! **This module is the wire format.** A stock Yjs doc reads these names
//! (`doc.getMap("cards")`, a card's `"$kind"`), the sync server validates updates against them,
//! and every stored document depends on them. Changing one breaks every stored document and
//! every peer, so they live here, once, and everything that reads or checks a document (the
//! core's reads and indexes, the server room's validator) uses these definitions rather than
//! its own copy.
//!
//! | root | key | value |
//! |---|---|---|
//! | [`CARDS`] | card id ([`CardId::from_key`]) | a map: [`KIND`], [`DELETED`], [`CREATED`], [`MODIFIED`] and the fields |
//! | [`RELATIONSHIPS`] | `{from}:{kind}:{to}` ([`RelationshipKey::from_key`]) | a plain map of [`FROM`], [`REL_KIND`], [`TO`], [`REMOVED`] |
//! | [`RELATIONSHIP_PROPS`] | `{edge}\u{1f}{name}` ([`parse_prop_key`]) | a plain value |
//! | [`SEQUENCES`] | `{sequence}` or `{sequence}:{card}` ([`parse_sequence_key`]) | `true`, or an order key |
//! | [`BOARDS`] | `{board}`, `{board}/{column}` or `{board}:{card}` ([`parse_board_key`]) | `{kind}`, `{name, order, removed}` or `{column, order}`: plain maps ([`board_value`], [`column_value`], [`placement_value`]) |
//! | [`META`] | [`SCHEMA_VERSION`] | a number |
//! | [`META`] | `schema@{version}` ([`schema_key`]) | the schema of that version, as JSON text, written as the item `(schema_client, 0)` ([`schema_client`]) |
//!
//! Inside a card, counter and max fields are maps keyed by replica ([`parse_replica_key`]),
//! set fields maps keyed by `item@replica` ([`parse_set_entry`]). The container of a field
//! added to the schema after its card was created is one item with a fixed id,
//! `(container_client(card, field), 0)` ([`container_client`]), so every replica that creates
//! it creates the same item and yrs keeps one (docs/design.md §3).
//!
//! **Why parsing is canonical.** yrs compares keys as strings, so an alias of a key (an id in
//! upper case, `O` for `0`, a client id with a leading zero) is a *different* entry. Reading
//! an alias as the id it spells would let two entries claim one card, and removing one would
//! hide the other's data. Every parser here accepts only the spelling the core itself writes;
//! anything else is not a cardsync entry: reads ignore it and the server refuses it.

use std::sync::Arc;

use yrs::{Any, Out};

use crate::ids::{
    BoardId, COMPENSATOR_CLIENT_ID, CONTAINER_CLIENT_BASE, CardId, ColumnId, MAX_CLIENT_ID,
    RelationshipKey, SequenceId,
};

/// Root map: card id → card map.
pub const CARDS: &str = "cards";
/// Root map: relationship key `{from}:{kind}:{to}` → `{from, kind, to, removed}` (a plain
/// value, not a nested map: two peers creating the same edge at once write the same key, and a
/// nested container under it would let one side's later edits vanish with the losing copy).
pub const RELATIONSHIPS: &str = "relationships";
/// Root map: `{relationship key}\u{1f}{property}` → value, one last-writer-wins entry per
/// property, so concurrent edits of different properties both survive.
pub const RELATIONSHIP_PROPS: &str = "relationship_props";
/// Root map, flat for the same reason: `{sequence}` → `true` marks a created sequence, and
/// `{sequence}:{card}` → the card's order key in it.
pub const SEQUENCES: &str = "sequences";
/// Root map, flat like [`SEQUENCES`]: `{board}` → `{kind}` marks a created board,
/// `{board}/{column}` → `{name, order, removed}` is a column, and `{board}:{card}` →
/// `{column, order}` is the card's one placement on the board. A placement is one plain
/// value, so concurrent moves of a card to two columns leave it in exactly one
/// (docs/design.md §3, "Boards").
pub const BOARDS: &str = "boards";
/// Root map: document metadata.
pub const META: &str = "meta";
/// Every root of a cardsync document; any other root type is foreign.
pub const ROOTS: [&str; 6] = [
    CARDS,
    RELATIONSHIPS,
    RELATIONSHIP_PROPS,
    SEQUENCES,
    BOARDS,
    META,
];

/// `meta` key holding the schema version.
pub const SCHEMA_VERSION: &str = "schema_version";
/// Prefix of the `meta` keys holding the schema of each version a replica wrote under
/// (`schema@{version}`, JSON text): what an upgrade compares the new schema with.
pub const SCHEMA_PREFIX: &str = "schema@";

/// The `meta` key of the schema of `version`.
pub fn schema_key(version: u32) -> String {
    format!("{SCHEMA_PREFIX}{version}")
}

/// Parses a `meta` schema key, in the spelling [`schema_key`] writes.
pub fn parse_schema_key(key: &str) -> Option<u32> {
    let version: u32 = key.strip_prefix(SCHEMA_PREFIX)?.parse().ok()?;
    (schema_key(version) == key).then_some(version)
}

/// Card keys starting with this are the card's own bookkeeping, never fields; schemas may not
/// declare field names starting with it.
pub const RESERVED_PREFIX: char = '$';
/// Card key: the card kind (string).
pub const KIND: &str = "$kind";
/// Card key: soft-delete flag (bool; absent means false).
pub const DELETED: &str = "$deleted";
/// Card key: `{at, by}` of creation.
pub const CREATED: &str = "$created";
/// Card key: `{at, by}` of the last write, to within [`MODIFIED_RESOLUTION`].
pub const MODIFIED: &str = "$modified";
/// How far apart (in the stamps' unit, milliseconds recommended) two writes by the same actor
/// must be for the second to rewrite [`MODIFIED`]. Every rewrite takes a clock of the writer's
/// client id between its edits, and yrs merges consecutive characters into one item only when
/// their clocks are consecutive: rewritten per keystroke, a typed text becomes one item (and
/// one stamp tombstone) per character, so each insert walks them all (K5: 38× the bytes and
/// 85× the time of plain yrs). A burst by one actor therefore keeps its first stamp; another
/// actor, or the same one a second later, rewrites it.
pub const MODIFIED_RESOLUTION: u64 = 1_000;
/// Field of a `$created`/`$modified` stamp: the time (a number).
pub const STAMP_AT: &str = "at";
/// Field of a `$created`/`$modified` stamp: the actor (a string).
pub const STAMP_BY: &str = "by";

/// Relationship value field: from.
pub const FROM: &str = "from";
/// Relationship value field: kind.
pub const REL_KIND: &str = "kind";
/// Relationship value field: to.
pub const TO: &str = "to";
/// Relationship value field: soft-removal flag. Unlinking rewrites the value, which is ~20×
/// cheaper in yrs than removing a key that holds a nested map (docs/design.md §3).
pub const REMOVED: &str = "removed";

/// Separates a relationship key from a property name in `relationship_props`.
pub const PROP_SEPARATOR: char = '\u{1f}';
/// Separates the sequence from the card in a `sequences` entry key.
pub const SEQUENCE_SEPARATOR: char = ':';
/// Separates the item from the replica in a set entry key.
pub const SET_SEPARATOR: char = '@';

/// Slot field of a time-ordered register: the value.
pub const SLOT_VALUE: &str = "value";
/// Slot field of a time-ordered register: the write's stamp (`Stamp::at`).
pub const SLOT_AT: &str = "at";

/// Reads a time-ordered register's slot `{value, at}`: the stamp and the value, or `None` if
/// malformed (a stamp that is not a non-negative safe integer, other entries).
pub fn slot_value(value: &Out) -> Option<(u64, &Any)> {
    let map = plain_map(value, &[SLOT_VALUE, SLOT_AT])?;
    let at = match map.get(SLOT_AT)? {
        Any::Number(yrs::Number::Int(n)) => u64::try_from(*n).ok(),
        Any::Number(yrs::Number::Float(f)) if f.fract() == 0.0 && *f >= 0.0 => Some(*f as u64),
        _ => None,
    }
    .filter(|at| *at <= MAX_CLIENT_ID)?;
    Some((at, map.get(SLOT_VALUE)?))
}

/// The winning slot of a time-ordered register: the greatest `(at, replica)` among the
/// well-formed slots keyed by a canonical replica id.
pub fn latest_slot<'a>(
    slots: impl Iterator<Item = (&'a str, &'a Out)>,
) -> Option<(u64, u64, &'a Any)> {
    slots
        .filter_map(|(key, value)| {
            let replica = parse_replica_key(key)?;
            let (at, value) = slot_value(value)?;
            Some((at, replica, value))
        })
        .max_by_key(|(at, replica, _)| (*at, *replica))
}

/// Separates the board from a column in a `boards` key.
pub const COLUMN_SEPARATOR: char = '/';
/// Board value field: the board kind (a string of the schema's `boards`).
pub const BOARD_KIND: &str = "kind";
/// Column value field: its name.
pub const COLUMN_NAME: &str = "name";
/// Column and placement value field: the order key ([`crate::order_key`]).
pub const ORDER: &str = "order";
/// Placement value field: the column id.
pub const COLUMN: &str = "column";

/// Key of a board's column.
pub fn column_entry(board: &str, column: &str) -> String {
    format!("{board}{COLUMN_SEPARATOR}{column}")
}

/// Key of a card's placement on a board.
pub fn placement_entry(board: &str, card: &str) -> String {
    format!("{board}{SEQUENCE_SEPARATOR}{card}")
}

/// A key of the `boards` root.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BoardKey {
    /// `{board}`: the board and its kind.
    Board(BoardId),
    /// `{board}/{column}`: one column.
    Column(BoardId, ColumnId),
    /// `{board}:{card}`: the card's placement.
    Placement(BoardId, CardId),
}

/// Parses a key of the `boards` root, canonical ids only.
pub fn parse_board_key(key: &str) -> Option<BoardKey> {
    if let Some((board, column)) = key.split_once(COLUMN_SEPARATOR) {
        return Some(BoardKey::Column(
            BoardId::from_key(board)?,
            ColumnId::from_key(column)?,
        ));
    }
    match key.split_once(SEQUENCE_SEPARATOR) {
        None => Some(BoardKey::Board(BoardId::from_key(key)?)),
        Some((board, card)) => Some(BoardKey::Placement(
            BoardId::from_key(board)?,
            CardId::from_key(card)?,
        )),
    }
}

/// A plain map's string entry.
fn text<'a>(map: &'a std::collections::HashMap<String, Any>, key: &str) -> Option<&'a Arc<str>> {
    match map.get(key)? {
        Any::String(s) => Some(s),
        _ => None,
    }
}

/// A plain map holding exactly `keys` (no others).
fn plain_map<'a>(
    value: &'a Out,
    keys: &[&str],
) -> Option<&'a std::collections::HashMap<String, Any>> {
    match value {
        Out::Any(Any::Map(map)) if map.keys().all(|k| keys.contains(&k.as_str())) => Some(map),
        _ => None,
    }
}

/// Reads a board value `{kind}`: the board kind, or `None` if malformed.
pub fn board_value(value: &Out) -> Option<Arc<str>> {
    text(plain_map(value, &[BOARD_KIND])?, BOARD_KIND).cloned()
}

/// A column as stored: `{name, order, removed}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ColumnValue {
    /// Display name.
    pub name: Arc<str>,
    /// Order key among the board's columns.
    pub order: Arc<str>,
    /// Removed columns stay as tombstones: their cards show in the first live column.
    pub removed: bool,
}

/// Reads a column value, or `None` if malformed (missing or extra entries, an invalid order
/// key).
pub fn column_value(value: &Out) -> Option<ColumnValue> {
    let map = plain_map(value, &[COLUMN_NAME, ORDER, REMOVED])?;
    let order = text(map, ORDER)?;
    if !crate::order_key::is_valid(order) {
        return None;
    }
    let removed = match map.get(REMOVED) {
        Some(Any::Bool(b)) => *b,
        _ => return None,
    };
    Some(ColumnValue {
        name: text(map, COLUMN_NAME)?.clone(),
        order: order.clone(),
        removed,
    })
}

/// Reads a placement value `{column, order}`, or `None` if malformed.
pub fn placement_value(value: &Out) -> Option<(ColumnId, Arc<str>)> {
    let map = plain_map(value, &[COLUMN, ORDER])?;
    let column = ColumnId::from_key(text(map, COLUMN)?)?;
    let order = text(map, ORDER)?;
    crate::order_key::is_valid(order).then(|| (column, order.clone()))
}

/// Key of a relationship property.
pub fn prop_key(edge: &str, name: &str) -> String {
    format!("{edge}{PROP_SEPARATOR}{name}")
}

/// Splits a `relationship_props` key into the relationship and the property name (which may
/// be anything, even empty; the relationship must be canonical).
pub fn parse_prop_key(key: &str) -> Option<(RelationshipKey, &str)> {
    let (edge, name) = key.split_once(PROP_SEPARATOR)?;
    Some((RelationshipKey::from_key(edge)?, name))
}

/// Key of a card's entry in a sequence.
pub fn sequence_entry(sequence: &str, card: &str) -> String {
    format!("{sequence}{SEQUENCE_SEPARATOR}{card}")
}

/// A key of the `sequences` root.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SequenceKey {
    /// `{sequence}`: the sequence's creation marker.
    Marker(SequenceId),
    /// `{sequence}:{card}`: the card's order key in the sequence.
    Entry(SequenceId, CardId),
}

/// Parses a key of the `sequences` root, canonical ids only.
pub fn parse_sequence_key(key: &str) -> Option<SequenceKey> {
    match key.split_once(SEQUENCE_SEPARATOR) {
        None => Some(SequenceKey::Marker(SequenceId::from_key(key)?)),
        Some((sequence, card)) => Some(SequenceKey::Entry(
            SequenceId::from_key(sequence)?,
            CardId::from_key(card)?,
        )),
    }
}

/// Key of one add of `item` to a set field by replica `client`: `item@client`. A set is an
/// observed-remove set: each replica's add has its own key, a remove deletes the keys it has
/// seen, so an add concurrent with a remove survives (add wins) even when both replicas added
/// the same item before.
pub fn set_entry(item: &str, client: &str) -> String {
    format!("{item}{SET_SEPARATOR}{client}")
}

/// Splits a set entry key into the item and the replica that added it. Client ids are
/// canonical decimals, so the last `@` separates and the item may contain `@` itself.
pub fn parse_set_entry(key: &str) -> Option<(&str, u64)> {
    let (item, client) = key.rsplit_once(SET_SEPARATOR)?;
    Some((item, parse_replica_key(client)?))
}

/// The item of a set entry key.
pub fn set_item(key: &str) -> Option<&str> {
    parse_set_entry(key).map(|(item, _)| item)
}

/// Key of a replica's own entry in a counter or max field: its client id in decimal.
pub fn replica_key(client: u64) -> String {
    client.to_string()
}

/// Parses a replica key: a client id a Yjs peer can have (at most [`MAX_CLIENT_ID`]), in the
/// decimal spelling [`replica_key`] writes (no sign, no leading zero).
pub fn parse_replica_key(key: &str) -> Option<u64> {
    let client: u64 = key.parse().ok()?;
    (client <= MAX_CLIENT_ID && replica_key(client) == key).then_some(client)
}

/// The client id of the container of `field` on `card` when the field was added to the schema
/// after the card was created: the container is the one item `(container_client, 0)`.
///
/// **Wire format.** Every replica computes the same id, so concurrent first writes of the field
/// create one item, not two rivals under one key (of which yrs would keep one, discarding the
/// other replica's writes). The id lies in the reserved range from [`CONTAINER_CLIENT_BASE`]
/// to [`MAX_CLIENT_ID`], where no replica writes: FNV-1a over `{card}\u{1f}{field}`, mixed by
/// the SplitMix64 finalizer, low 52 bits.
pub fn container_client(card: CardId, field: &str) -> u64 {
    let key = card.to_string();
    reserved_hash(key.bytes().chain([0x1f]).chain(field.bytes()))
}

/// The client id of the record of a schema in `meta` (`schema@{version}` → `json`): the record
/// is the one item `(schema_client, 0)`, so every replica recording the same schema writes the
/// same item, and recording it takes no clock of the replica's own (docs/design.md §3). In the
/// reserved range, like [`container_client`], hashed alike over `schema@{version}\u{1f}{json}`.
pub fn schema_client(version: u32, json: &str) -> u64 {
    reserved_hash(
        schema_key(version)
            .bytes()
            .chain([0x1f])
            .chain(json.bytes()),
    )
}

/// FNV-1a over `bytes`, mixed by the SplitMix64 finalizer, in the reserved client range.
fn reserved_hash(bytes: impl Iterator<Item = u8>) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in bytes {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash = (hash ^ (hash >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    hash = (hash ^ (hash >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    hash ^= hash >> 31;
    let id = CONTAINER_CLIENT_BASE | (hash & (CONTAINER_CLIENT_BASE - 1));
    // The top id is the room's own writer, never a fixed item.
    if id == COMPENSATOR_CLIENT_ID {
        id - 1
    } else {
        id
    }
}

/// Reads a `relationships` value: `Some(removed)` for a well-formed one (a plain map; only
/// its [`REMOVED`] flag decides), `None` for anything else. An edge is *linked* when this is
/// `Some(false)`.
pub fn edge_removed(value: &Out) -> Option<bool> {
    match value {
        Out::Any(Any::Map(map)) => Some(matches!(map.get(REMOVED), Some(Any::Bool(true)))),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parsers_accept_only_what_the_core_writes() {
        let (seq, card) = (
            SequenceId::from_u128(u128::MAX / 3),
            CardId::from_u128(u128::MAX / 7),
        );
        let entry = sequence_entry(&seq.to_string(), &card.to_string());
        assert_eq!(
            parse_sequence_key(&entry),
            Some(SequenceKey::Entry(seq, card))
        );
        assert_eq!(
            parse_sequence_key(&seq.to_string()),
            Some(SequenceKey::Marker(seq))
        );
        assert_eq!(parse_sequence_key(&entry.to_uppercase()), None);

        let edge = RelationshipKey::new(card, "blocks", card);
        let prop = prop_key(&edge.to_string(), "weight");
        assert_eq!(parse_prop_key(&prop), Some((edge, "weight")));
        assert_eq!(parse_prop_key("x\u{1f}weight"), None);

        assert_eq!(parse_set_entry(&set_entry("a@b", "42")), Some(("a@b", 42)));
        for alias in ["x@042", "x@+42", "x@", "x", "x@9007199254740992"] {
            assert_eq!(parse_set_entry(alias), None, "{alias}");
        }
        assert_eq!(
            parse_replica_key(&replica_key(MAX_CLIENT_ID)),
            Some(MAX_CLIENT_ID)
        );
        assert_eq!(parse_replica_key("07"), None);
    }
}
