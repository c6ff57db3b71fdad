//! Exact text lookup for the answer readers: question ids, and question–answer pairs
//! as text, to indices, with one hash and usually one comparison of a few machine
//! words.
//!
//! A text's [`Fingerprint`] is its length and its first sixteen bytes read as two
//! little-endian words; a text shorter than sixteen bytes is read with overlapping
//! loads, so every byte is in a word and, among texts of one length, the fingerprint
//! is the text. Only the bytes past the sixteenth of a longer text are compared
//! separately. The table is open addressing at most half full, its hash seed chosen
//! at build time to leave no collisions where one of a few seeds does; with
//! collisions a lookup probes on until it finds the text or an empty slot, so the
//! answer is exact either way.
//!
//! Architecture invariant: a lookup never allocates and gives the value of exactly the
//! text that was inserted (differential test against a `HashMap` below).

/// A text's length and first sixteen bytes, as the table compares them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Fingerprint {
    len: usize,
    w0: u64,
    w1: u64,
}

/// The eight bytes of `b` from `at`, little-endian; `0` when `b` is shorter.
#[inline]
fn word8(b: &[u8], at: usize) -> u64 {
    b.get(at..)
        .and_then(<[u8]>::first_chunk::<8>)
        .map_or(0, |w| u64::from_le_bytes(*w))
}

/// The four bytes of `b` from `at`, little-endian; `0` when `b` is shorter.
#[inline]
fn word4(b: &[u8], at: usize) -> u64 {
    b.get(at..)
        .and_then(<[u8]>::first_chunk::<4>)
        .map_or(0, |w| u64::from(u32::from_le_bytes(*w)))
}

impl Fingerprint {
    #[inline(always)]
    fn of(b: &[u8]) -> Fingerprint {
        let len = b.len();
        let (w0, w1) = match len {
            16.. => (word8(b, 0), word8(b, 8)),
            8..=15 => (word8(b, 0), word8(b, len - 8)),
            4..=7 => (word4(b, 0), word4(b, len - 4)),
            1..=3 => {
                let at = |i: usize| u64::from(b.get(i).copied().unwrap_or(0));
                (at(0) | at(len / 2) << 8 | at(len - 1) << 16, 0)
            }
            0 => (0, 0),
        };
        Fingerprint { len, w0, w1 }
    }
}

/// The fingerprints of a key's two texts (the second empty for a one-text key).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Key {
    a: Fingerprint,
    b: Fingerprint,
}

impl Key {
    #[inline]
    fn of(a: &[u8], b: &[u8]) -> Key {
        Key {
            a: Fingerprint::of(a),
            b: Fingerprint::of(b),
        }
    }

    /// Two multiplications, one per text, each text's words mixed before its product
    /// is folded into the other's; the product's top bits index the table.
    #[inline(always)]
    fn hash(&self, seed: u64) -> u64 {
        let mix = |f: &Fingerprint, seed: u64| {
            (f.w0 ^ seed).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ f.w1 ^ (f.len as u64) << 40
        };
        (mix(&self.a, seed) ^ mix(&self.b, !seed).rotate_left(23))
            .wrapping_mul(0xD6E8_FEB8_6659_FD93)
    }
}

/// One slot of the table: a key and its value, or empty.
#[derive(Debug, Clone)]
struct Slot {
    key: Key,
    /// The bytes past the sixteenth of the key's first and second text (empty for
    /// shorter texts).
    tails: (Box<[u8]>, Box<[u8]>),
    value: u64,
    occupied: bool,
}

impl Slot {
    fn empty() -> Slot {
        Slot {
            key: Key::of(&[], &[]),
            tails: (Box::default(), Box::default()),
            value: 0,
            occupied: false,
        }
    }

    #[inline(always)]
    fn holds(&self, key: &Key, a: &[u8], b: &[u8]) -> bool {
        // Same length (the fingerprints are equal): a tail of at most sixteen bytes
        // is compared as its fingerprint, which is exact, without a call to memcmp.
        let tail = |t: &[u8], bytes: &[u8]| {
            let rest = bytes.get(16..).unwrap_or_default();
            if rest.len() <= 16 {
                Fingerprint::of(t) == Fingerprint::of(rest)
            } else {
                *t == *rest
            }
        };
        self.key == *key
            && (key.a.len <= 16 || tail(&self.tails.0, a))
            && (key.b.len <= 16 || tail(&self.tails.1, b))
    }
}

/// An immutable map from a text, or a pair of texts, to a `u64`, built once: factor
/// ids to indices, or (factor id, answer) to the factor and the answer's code.
#[derive(Debug, Clone)]
pub(crate) struct TextIndex {
    slots: Vec<Slot>,
    /// `slots.len() - 1`; the length is a power of two.
    mask: usize,
    /// How far a hash is shifted right to index `slots`.
    shift: u32,
    seed: u64,
}

/// Seeds tried at build time for a table without collisions.
const SEEDS_TRIED: u64 = 32;

impl TextIndex {
    /// A table of `entries` (first text, second text, value); of two entries with
    /// the same texts the first is kept.
    pub(crate) fn new<'t>(entries: impl IntoIterator<Item = (&'t str, &'t str, u64)>) -> TextIndex {
        let entries: Vec<(&str, &str, u64)> = entries.into_iter().collect();
        let bits = (entries.len().max(2) * 2)
            .next_power_of_two()
            .trailing_zeros();
        let size = 1usize << bits;
        let shift = 64 - bits;
        let collisions = |seed: u64| {
            let mut used = vec![false; size];
            let mut count = 0usize;
            for (a, b, _) in &entries {
                let h = Key::of(a.as_bytes(), b.as_bytes()).hash(seed) >> shift;
                match usize::try_from(h).ok().and_then(|h| used.get_mut(h)) {
                    Some(u) if *u => count += 1,
                    Some(u) => *u = true,
                    None => {}
                }
            }
            count
        };
        let seed = (0..SEEDS_TRIED)
            .map(|i| i.wrapping_mul(0x2545_F491_4F6C_DD1D))
            .min_by_key(|&seed| collisions(seed))
            .unwrap_or(0);
        let mut index = TextIndex {
            slots: vec![Slot::empty(); size],
            mask: size - 1,
            shift,
            seed,
        };
        for (a, b, value) in entries {
            index.insert(a, b, value);
        }
        index
    }

    fn insert(&mut self, a: &str, b: &str, value: u64) {
        if self.get_pair(a, b).is_some() {
            return;
        }
        let (a, b) = (a.as_bytes(), b.as_bytes());
        let key = Key::of(a, b);
        let mut at = self.start(&key);
        // At most half full: an empty slot is always found.
        while let Some(slot) = self.slots.get_mut(at) {
            if !slot.occupied {
                let tail = |t: &[u8]| t.get(16..).unwrap_or_default().into();
                *slot = Slot {
                    key,
                    tails: (tail(a), tail(b)),
                    value,
                    occupied: true,
                };
                return;
            }
            at = (at + 1) & self.mask;
        }
    }

    #[inline]
    fn start(&self, key: &Key) -> usize {
        usize::try_from(key.hash(self.seed) >> self.shift).unwrap_or(0)
    }

    /// The value of the one-text key `text`, if it was inserted (as `(text, "")`).
    #[inline]
    pub(crate) fn get(&self, text: &str) -> Option<u64> {
        self.get_pair(text, "")
    }

    /// The value of the key `(a, b)`, if it was inserted.
    #[inline(always)]
    pub(crate) fn get_pair(&self, a: &str, b: &str) -> Option<u64> {
        let (a, b) = (a.as_bytes(), b.as_bytes());
        let key = Key::of(a, b);
        let mut at = self.start(&key);
        loop {
            let slot = self.slots.get(at)?;
            if !slot.occupied {
                return None;
            }
            if slot.holds(&key, a, b) {
                return Some(slot.value);
            }
            at = (at + 1) & self.mask;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;

    /// Texts of every length class: empty, 1–3, 4–7, 8–15, 16, and longer.
    fn text() -> impl Strategy<Value = String> {
        prop_oneof![
            "[ab]{0,3}",
            "[a-c_]{4,7}",
            "[a-c]{8,15}",
            "[ab]{16}",
            "[ab]{17,40}",
            "\\PC{0,20}",
        ]
    }

    proptest! {
        /// Every lookup, of texts inserted and not, agrees with a `HashMap`.
        #[test]
        fn agrees_with_a_hash_map(
            entries in prop::collection::vec((text(), text(), any::<u64>()), 0..60),
            probes in prop::collection::vec((text(), text()), 0..60),
        ) {
            let index = TextIndex::new(entries.iter().map(|(a, b, v)| (a.as_str(), b.as_str(), *v)));
            let mut map = HashMap::new();
            for (a, b, v) in &entries {
                map.entry((a.clone(), b.clone())).or_insert(*v);
            }
            for ((a, b), v) in &map {
                prop_assert_eq!(index.get_pair(a, b), Some(*v), "inserted {:?}", (a, b));
            }
            for (a, b) in &probes {
                prop_assert_eq!(
                    index.get_pair(a, b),
                    map.get(&(a.clone(), b.clone())).copied(),
                    "probe {:?}", (a, b)
                );
            }
        }
    }

    /// Texts that differ only in a byte an overlapping load reads twice, or only past
    /// the sixteenth byte, or only in length, are told apart.
    #[test]
    fn near_texts_are_distinct() {
        let texts = [
            "",
            "a",
            "aa",
            "ab",
            "ba",
            "aaa",
            "aba",
            "abcd",
            "abce",
            "abcde",
            "abcdf",
            "abcdefgh",
            "abcdefgi",
            "abcdefghijklmnop",
            "abcdefghijklmnopq",
            "abcdefghijklmnopr",
            "abcdefghijklmnopqr",
            "step_down_from_inpatient",
            "step_down_from_inpatienu",
        ];
        let index = TextIndex::new(texts.iter().zip(0u64..).map(|(t, v)| (*t, "", v)));
        let pairs = TextIndex::new(texts.iter().zip(0u64..).map(|(t, v)| ("q", *t, v)));
        for (t, v) in texts.iter().zip(0u64..) {
            assert_eq!(index.get(t), Some(v), "{t:?}");
            assert_eq!(pairs.get_pair("q", t), Some(v), "(q, {t:?})");
            assert_eq!(pairs.get_pair(t, "q"), None, "({t:?}, q): the order counts");
            assert_eq!(pairs.get_pair("r", t), None, "(r, {t:?})");
        }
        for missing in ["abcdefghijklmnopz", "abcf", "b", "abcdefghijklmnopqrs", "c"] {
            assert_eq!(index.get(missing), None, "{missing:?}");
            assert_eq!(pairs.get_pair("q", missing), None, "(q, {missing:?})");
        }
    }
}
