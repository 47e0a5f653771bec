//! Printed ids and relationship keys.

use cardsync_core::{CardId, RelationshipKey, SequenceId};

use super::corpus::card;
use super::inputs::{Rng, Tally, random};

/// Text inputs: truncations and character-level mutations of `real`, plus random strings over
/// an alphabet that mixes id digits, separators and multi-byte characters.
fn text_inputs(rng: &mut Rng, reals: &[String], count: usize) -> Vec<String> {
    const CHARS: [char; 16] = [
        '0', '7', 'z', 'Z', 'o', 'I', 'l', 'u', ':', '-', ' ', 'é', '😀', '\u{0}', '\u{301}', 'ß',
    ];
    let mut out = Vec::new();
    for real in reals {
        let chars: Vec<char> = real.chars().collect();
        for n in 0..=chars.len() {
            out.push(chars[..n].iter().collect());
        }
        for _ in 0..count {
            let mut c = chars.clone();
            for _ in 0..1 + rng.below(3) {
                let at = rng.below(c.len() + 1);
                let new = CHARS[rng.below(CHARS.len())];
                match rng.below(3) {
                    0 if at < c.len() => c[at] = new,
                    1 if at < c.len() => {
                        c.remove(at);
                    }
                    _ => c.insert(at, new),
                }
            }
            out.push(c.into_iter().collect());
        }
    }
    for _ in 0..count {
        let len = rng.below(60);
        out.push((0..len).map(|_| CHARS[rng.below(CHARS.len())]).collect());
    }
    // Arbitrary (lossily decoded) bytes.
    for bytes in random(rng, count, 64) {
        out.push(String::from_utf8_lossy(&bytes).into_owned());
    }
    out
}

#[test]
fn ids_reject_malformed_text() {
    let mut rng = Rng::new(0x5eed_0008);
    let reals: Vec<String> = [0u128, 1, 0xdead_beef, u128::MAX]
        .map(|n| CardId::from_u128(n).to_string())
        .into();
    let inputs = text_inputs(&mut rng, &reals, 1500);
    let mut tally = Tally::default();
    for input in &inputs {
        let card = tally.run(input.as_bytes(), || input.parse::<CardId>());
        let sequence = input.parse::<SequenceId>();
        assert_eq!(
            card.as_ref().ok().map(|c| c.as_u128()),
            sequence.as_ref().ok().map(|s| s.as_u128())
        );
        let json = serde_json::to_string(input).unwrap();
        let via_serde = serde_json::from_str::<CardId>(&json);
        assert_eq!(
            via_serde.is_ok(),
            card.is_ok(),
            "serde and FromStr disagree on {input:?}"
        );
        if let Ok(id) = card {
            // Accepted text is 26 characters that name the same id as its canonical form.
            assert_eq!(input.chars().count(), 26);
            assert_eq!(id.to_string().parse::<CardId>(), Ok(id));
            assert_eq!(id.to_string(), id.to_string().to_lowercase());
        }
    }
    tally.report("CardId/SequenceId::from_str");
    tally.assert_mostly_err("CardId::from_str", 90);
}

#[test]
fn relationship_keys_reject_malformed_text() {
    let mut rng = Rng::new(0x5eed_0009);
    let reals: Vec<String> = [
        RelationshipKey::new(card(1), "blocks", card(2)),
        RelationshipKey::new(card(u128::MAX), "a:b", card(0)),
        RelationshipKey::new(card(7), "é😀", card(8)),
    ]
    .iter()
    .map(ToString::to_string)
    .collect();
    let inputs = text_inputs(&mut rng, &reals, 1500);
    let mut tally = Tally::default();
    for input in &inputs {
        let parsed = tally.run(input.as_bytes(), || input.parse::<RelationshipKey>());
        let json = serde_json::to_string(input).unwrap();
        let via_serde = serde_json::from_str::<RelationshipKey>(&json);
        assert_eq!(
            via_serde.ok(),
            parsed.clone().ok(),
            "serde and FromStr disagree on {input:?}"
        );
        if let Ok(key) = parsed {
            assert!(!key.kind.is_empty());
            assert_eq!(key.to_string().parse::<RelationshipKey>(), Ok(key));
        }
    }
    tally.report("RelationshipKey::from_str");
    tally.assert_mostly_err("RelationshipKey::from_str", 80);
}
