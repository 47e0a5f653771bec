//! Stable codes on the wire as their place in a fixed table: a code's number is its index in
//! its type's `ALL` list, so adding a code means appending to the list, never renumbering.
//! One pair of functions serves every such type (reject codes, multiplexing error codes).

/// The wire number of `code`: its index in `all`.
pub(crate) fn to_wire<T: PartialEq>(all: &[T], code: &T) -> u64 {
    all.iter().position(|c| c == code).unwrap_or_default() as u64
}

/// The code whose wire number is `number`, if `all` has one.
pub(crate) fn from_wire<T: Copy>(all: &[T], number: u64) -> Option<T> {
    usize::try_from(number)
        .ok()
        .and_then(|i| all.get(i).copied())
}
