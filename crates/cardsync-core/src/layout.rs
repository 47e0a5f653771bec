//! Names of the roots and bookkeeping keys in the yrs document (DESIGN.md §3).
//!
//! These strings are the wire format a stock Yjs doc reads: `doc.getMap("cards")` and so on.
//! Changing one breaks every stored document, so they live here, in one place.

/// Root map: card id → card map.
pub const CARDS: &str = "cards";
/// Root map: relationship key → relationship map.
pub const RELATIONSHIPS: &str = "relationships";
/// Root map: sequence id → map of card id → order key.
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

/// Relationship keys.
pub const FROM: &str = "from";
/// Relationship kind.
pub const REL_KIND: &str = "kind";
/// Relationship target.
pub const TO: &str = "to";
/// Relationship soft-removal flag: unlinking sets it, which is ~20× cheaper than removing a
/// key that holds a nested map (GC memmove in yrs, DESIGN.md §3).
pub const REMOVED: &str = "removed";
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

/// Relationship properties (nested map, so concurrent edits of different properties merge).
pub const PROPS: &str = "props";
