//! Names of the roots and bookkeeping keys in the yrs document (DESIGN.md §3).
//!
//! These strings are the wire format a stock Yjs doc reads: `doc.getMap("cards")` and so on.
//! Changing one breaks every stored document, so they live here, in one place.

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
/// Root map: document metadata.
pub const META: &str = "meta";

/// `meta` key holding the schema version.
pub const SCHEMA_VERSION: &str = "schema_version";

/// Card key: the card kind (string).
pub const KIND: &str = "$kind";
/// Card key: soft-delete flag (bool; absent means false).
pub const DELETED: &str = "$deleted";
/// Card key: `{at, by}` of creation.
pub const CREATED: &str = "$created";
/// Card key: `{at, by}` of the last write.
pub const MODIFIED: &str = "$modified";

/// Relationship value field: from.
pub const FROM: &str = "from";
/// Relationship value field: kind.
pub const REL_KIND: &str = "kind";
/// Relationship value field: to.
pub const TO: &str = "to";
/// Relationship value field: soft-removal flag. Unlinking rewrites the value, which is ~20×
/// cheaper in yrs than removing a key that holds a nested map (DESIGN.md §3).
pub const REMOVED: &str = "removed";

/// Separates a relationship key from a property name in `relationship_props`.
pub const PROP_SEPARATOR: char = '\u{1f}';

/// Key of a relationship property.
pub fn prop_key(edge: &str, name: &str) -> String {
    format!("{edge}{PROP_SEPARATOR}{name}")
}

/// Key of a card's entry in a sequence.
pub fn sequence_entry(sequence: &str, card: &str) -> String {
    format!("{sequence}:{card}")
}

/// Key of one add of `item` to a set field by replica `client`: `item@client`. A set is an
/// observed-remove set: each replica's add has its own key, a remove deletes the keys it has
/// seen, so an add concurrent with a remove survives (add wins) even when both replicas added
/// the same item before.
pub fn set_entry(item: &str, client: &str) -> String {
    format!("{item}@{client}")
}

/// The item of a set entry key (client ids are digits, so the last `@` separates).
pub fn set_item(key: &str) -> Option<&str> {
    let (item, client) = key.rsplit_once('@')?;
    (!client.is_empty() && client.bytes().all(|b| b.is_ascii_digit())).then_some(item)
}
