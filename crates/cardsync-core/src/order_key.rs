//! Fractional order keys: strings that sort in sequence order and always leave room between.
//!
//! Sequences store one key per card (docs/design.md §3, the fractional alternative to slots): a move
//! is one last-writer-wins map write, so a card can never be in two places, and no list walk is
//! needed (a Y.Array index walk costs ~240 µs per move at 10k items on this machine).
//!
//! The format is the well-known one from `fractional-indexing` (Rocicorp, after Figma's
//! write-up): an *integer part* whose first character encodes its length, then an optional
//! *fraction* in base 62 with no trailing zero. Appending only bumps the integer part, so a
//! sequence built by 10k appends keeps 3-character keys instead of growing by a character every
//! few dozen inserts.
//!
//! Keys written by other peers are data, not trusted input: anything that is not a valid key is
//! treated as absent when generating a neighbour, and never causes a panic.

const DIGITS: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const ZERO: u8 = b'0';
const BASE: usize = 62;
/// The smallest integer part; no key may be built below it.
const SMALLEST_INTEGER: &str = "A00000000000000000000000000";

fn digit(c: u8) -> Option<usize> {
    match c {
        b'0'..=b'9' => Some((c - b'0') as usize),
        b'A'..=b'Z' => Some((c - b'A') as usize + 10),
        b'a'..=b'z' => Some((c - b'a') as usize + 36),
        _ => None,
    }
}

fn integer_len(head: u8) -> Option<usize> {
    match head {
        b'a'..=b'z' => Some((head - b'a') as usize + 2),
        b'A'..=b'Z' => Some((b'Z' - head) as usize + 2),
        _ => None,
    }
}

/// Splits a valid key into integer part and fraction, or `None` when invalid.
fn split(key: &str) -> Option<(&str, &str)> {
    let bytes = key.as_bytes();
    let len = integer_len(*bytes.first()?)?;
    if len > bytes.len() || !bytes.iter().all(|&c| digit(c).is_some()) {
        return None;
    }
    let (int, frac) = key.split_at(len);
    if frac.as_bytes().last() == Some(&ZERO) || key == SMALLEST_INTEGER {
        return None;
    }
    Some((int, frac))
}

/// Whether a key is well-formed (keys from foreign writers may not be).
pub fn is_valid(key: &str) -> bool {
    split(key).is_some()
}

/// A fraction strictly between `a` and `b` (`None` = 1). Both are valid fractions, `a < b`.
fn midpoint(a: &[u8], b: Option<&[u8]>) -> Vec<u8> {
    if let Some(b) = b {
        let n = (0..b.len())
            .take_while(|&i| a.get(i).copied().unwrap_or(ZERO) == b[i])
            .count();
        if n > 0 {
            let mut out = b[..n].to_vec();
            out.extend(midpoint(a.get(n..).unwrap_or(&[]), Some(&b[n..])));
            return out;
        }
    }
    let da = a.first().and_then(|&c| digit(c)).unwrap_or(0);
    let db = b
        .and_then(|b| b.first())
        .and_then(|&c| digit(c))
        .unwrap_or(BASE);
    if db - da > 1 {
        vec![DIGITS[(da + db).div_ceil(2)]]
    } else if let Some(b) = b.filter(|b| b.len() > 1) {
        b[..1].to_vec()
    } else {
        let mut out = vec![DIGITS[da]];
        out.extend(midpoint(a.get(1..).unwrap_or(&[]), None));
        out
    }
}

fn increment_integer(int: &str) -> Option<String> {
    let (head, digits) = int.as_bytes().split_first()?;
    let mut digits = digits.to_vec();
    for d in digits.iter_mut().rev() {
        let next = digit(*d)? + 1;
        if next < BASE {
            *d = DIGITS[next];
            return Some(assemble(*head, &digits));
        }
        *d = ZERO;
    }
    // Every digit carried: the integer grows by one digit.
    match *head {
        b'Z' => Some("a0".to_owned()),
        b'z' => None,
        h => {
            let head = h + 1;
            if head > b'a' {
                digits.push(ZERO);
            } else {
                digits.pop();
            }
            Some(assemble(head, &digits))
        }
    }
}

fn decrement_integer(int: &str) -> Option<String> {
    let (head, digits) = int.as_bytes().split_first()?;
    let mut digits = digits.to_vec();
    for d in digits.iter_mut().rev() {
        let value = digit(*d)?;
        if value > 0 {
            *d = DIGITS[value - 1];
            return Some(assemble(*head, &digits));
        }
        *d = DIGITS[BASE - 1];
    }
    match *head {
        b'a' => Some("Zz".to_owned()),
        b'A' => None,
        h => {
            let head = h - 1;
            if head < b'Z' {
                digits.push(DIGITS[BASE - 1]);
            } else {
                digits.pop();
            }
            Some(assemble(head, &digits))
        }
    }
}

fn assemble(head: u8, digits: &[u8]) -> String {
    let mut out = String::with_capacity(digits.len() + 1);
    out.push(head as char);
    out.extend(digits.iter().map(|&d| d as char));
    out
}

fn concat(int: &str, frac: &[u8]) -> String {
    let mut out = String::from(int);
    out.extend(frac.iter().map(|&d| d as char));
    out
}

/// A key strictly between `a` and `b` (`None` = open end), or `None` when no valid key fits
/// (invalid or unordered bounds, or the key space's extreme ends).
pub fn between(a: Option<&str>, b: Option<&str>) -> Option<String> {
    let sa = a.map(split);
    let sb = b.map(split);
    if matches!(sa, Some(None)) || matches!(sb, Some(None)) {
        return None;
    }
    if let (Some(a), Some(b)) = (a, b)
        && a >= b
    {
        return None;
    }
    match (sa.flatten(), sb.flatten()) {
        (None, None) => Some("a0".to_owned()),
        (None, Some((ib, fb))) => {
            if ib == SMALLEST_INTEGER {
                return Some(concat(ib, &midpoint(&[], Some(fb.as_bytes()))));
            }
            if !fb.is_empty() {
                return Some(ib.to_owned());
            }
            decrement_integer(ib)
        }
        (Some((ia, fa)), None) => Some(match increment_integer(ia) {
            Some(next) => next,
            None => concat(ia, &midpoint(fa.as_bytes(), None)),
        }),
        (Some((ia, fa)), Some((ib, fb))) => {
            if ia == ib {
                return Some(concat(ia, &midpoint(fa.as_bytes(), Some(fb.as_bytes()))));
            }
            let next = increment_integer(ia)?;
            if Some(next.as_str()) < b {
                Some(next)
            } else {
                Some(concat(ia, &midpoint(fa.as_bytes(), None)))
            }
        }
    }
}

/// Like [`between`], then lengthened by a few digits drawn from `jitter` so that two replicas
/// inserting at the same place at the same time almost never pick equal keys. Equal keys would
/// still order deterministically (ties break by card id), but nothing fits between them.
pub fn between_jittered(a: Option<&str>, b: Option<&str>, jitter: u64) -> Option<String> {
    let key = between(a, b)?;
    let (int, frac) = split(&key)?;
    // Jitter digits go in the fraction: (frac, upper) bounds keep the result inside (a, b).
    let upper = match b.and_then(split) {
        Some((ib, fb)) if ib == int => Some(fb.as_bytes()),
        _ => None,
    };
    let mut low = frac.as_bytes().to_vec();
    let mut bits = jitter;
    for _ in 0..3 {
        let choice = 1 + (bits % (BASE as u64 - 1)) as usize;
        bits /= BASE as u64 - 1;
        let mut candidate = low.clone();
        candidate.push(DIGITS[choice]);
        if upper.is_none_or(|u| candidate.as_slice() < u) {
            low = candidate;
        }
    }
    let jittered = concat(int, &low);
    debug_assert!(is_valid(&jittered));
    Some(jittered)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn appends_stay_short() {
        let mut last: Option<String> = None;
        for _ in 0..10_000 {
            let next = between(last.as_deref(), None).unwrap();
            assert!(last.as_deref() < Some(next.as_str()));
            last = Some(next);
        }
        assert!(last.unwrap().len() <= 4);
    }

    #[test]
    fn prepends_stay_ordered() {
        let mut first: Option<String> = None;
        for _ in 0..5_000 {
            let next = between(None, first.as_deref()).unwrap();
            if let Some(f) = &first {
                assert!(next < *f, "{next} !< {f}");
            }
            first = Some(next);
        }
    }

    #[test]
    fn invalid_bounds_give_none_not_panic() {
        for bad in [
            "",
            "!",
            "a",
            "a00",
            "b0",
            "A00000000000000000000000000",
            "\u{e9}",
        ] {
            assert_eq!(between(Some(bad), None), None, "{bad:?}");
            assert_eq!(between(None, Some(bad)), None, "{bad:?}");
        }
        assert_eq!(between(Some("a5"), Some("a1")), None);
        assert_eq!(between(Some("a5"), Some("a5")), None);
    }

    proptest! {
        #[test]
        fn between_is_strictly_between(picks in proptest::collection::vec((any::<u16>(), any::<u64>()), 1..300)) {
            // Build a sorted list by random insertions, checking every new key.
            let mut keys: Vec<String> = Vec::new();
            for (pos, jitter) in picks {
                let at = pos as usize % (keys.len() + 1);
                let a = at.checked_sub(1).map(|i| keys[i].as_str());
                let b = keys.get(at).map(|s| s.as_str());
                let key = between_jittered(a, b, jitter).unwrap();
                prop_assert!(is_valid(&key));
                prop_assert!(a.is_none_or(|a| a < key.as_str()), "{:?} !< {}", a, key);
                prop_assert!(b.is_none_or(|b| key.as_str() < b), "{} !< {:?}", key, b);
                keys.insert(at, key);
            }
        }
    }
}
