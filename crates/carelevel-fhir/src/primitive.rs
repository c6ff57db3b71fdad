//! Checks of the FHIR primitive types the mapping is handed by its caller: `id` and
//! `dateTime`. The mapping has no clock and makes up no ids, so what it is given must
//! be checked before it lands in a resource. Also the UUIDs of CDS Hooks cards: their
//! text form, version 4 from caller-supplied random bytes, and one per batch record.

/// Whether `text` is a FHIR `id`: 1 to 64 of `A-Z a-z 0-9 - .`.
pub fn is_id(text: &str) -> bool {
    (1..=64).contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
}

/// Whether `text` is a FHIR `dateTime` (the same in R4 and R5): `YYYY`, `YYYY-MM`,
/// `YYYY-MM-DD`, or `YYYY-MM-DDThh:mm:ss[.f{1,9}]` followed by a time zone (`Z` or
/// `+hh:mm`/`-hh:mm`, at most 14:00), which FHIR requires when there is a time.
/// Days are checked against 31, not against the month; leap seconds (`60`) are allowed
/// as the specification's regular expression allows them.
pub fn is_date_time(text: &str) -> bool {
    let b = text.as_bytes();
    let digits = |range: std::ops::Range<usize>| {
        b.get(range)
            .is_some_and(|d| !d.is_empty() && d.iter().all(u8::is_ascii_digit))
    };
    let number = |range: std::ops::Range<usize>| -> Option<u32> {
        if !digits(range.clone()) {
            return None;
        }
        text.get(range)?.parse().ok()
    };
    // Year: four digits, not 0000.
    if !digits(0..4) || text.get(0..4) == Some("0000") {
        return false;
    }
    if b.len() == 4 {
        return true;
    }
    if b.get(4) != Some(&b'-') || !number(5..7).is_some_and(|m| (1..=12).contains(&m)) {
        return false;
    }
    if b.len() == 7 {
        return true;
    }
    if b.get(7) != Some(&b'-') || !number(8..10).is_some_and(|d| (1..=31).contains(&d)) {
        return false;
    }
    if b.len() == 10 {
        return true;
    }
    let time_ok = b.get(10) == Some(&b'T')
        && number(11..13).is_some_and(|h| h <= 23)
        && b.get(13) == Some(&b':')
        && number(14..16).is_some_and(|m| m <= 59)
        && b.get(16) == Some(&b':')
        && number(17..19).is_some_and(|s| s <= 60);
    if !time_ok {
        return false;
    }
    let mut at = 19;
    if b.get(at) == Some(&b'.') {
        let frac = b
            .get(at + 1..)
            .map_or(0, |r| r.iter().take_while(|c| c.is_ascii_digit()).count());
        if !(1..=9).contains(&frac) {
            return false;
        }
        at += 1 + frac;
    }
    match b.get(at..) {
        Some(b"Z") => true,
        Some([sign, ..]) if *sign == b'+' || *sign == b'-' => {
            b.len() == at + 6
                && b.get(at + 3) == Some(&b':')
                && match (number(at + 1..at + 3), number(at + 4..at + 6)) {
                    (Some(14), Some(0)) => true,
                    (Some(h), Some(m)) => h <= 13 && m <= 59,
                    _ => false,
                }
        }
        _ => false,
    }
}

/// A UUID read from its canonical text form, 8-4-4-4-12 hex digits (either case).
pub fn parse_uuid(text: &str) -> Option<u128> {
    let groups: Vec<&str> = text.split('-').collect();
    let lengths: Vec<usize> = groups.iter().map(|g| g.len()).collect();
    if lengths != [8, 4, 4, 4, 12]
        || !groups
            .iter()
            .all(|g| g.bytes().all(|b| b.is_ascii_hexdigit()))
    {
        return None;
    }
    u128::from_str_radix(&groups.concat(), 16).ok()
}

/// The canonical text form of a UUID: 8-4-4-4-12 lowercase hex digits.
pub fn format_uuid(uuid: u128) -> String {
    let hex = format!("{uuid:032x}");
    let part = |r: std::ops::Range<usize>| hex.get(r).unwrap_or_default().to_owned();
    format!(
        "{}-{}-{}-{}-{}",
        part(0..8),
        part(8..12),
        part(12..16),
        part(16..20),
        part(20..32)
    )
}

/// A version-4 (random) UUID from 16 random bytes: the version and variant bits set
/// as RFC 9562 says.
pub fn uuid_v4(random: [u8; 16]) -> u128 {
    let n = u128::from_be_bytes(random);
    (n & !(0xf << 76) & !(0b11 << 62)) | (0x4 << 76) | (0b10 << 62)
}

/// The UUID of record `n` of a batch whose base UUID is `base`: `base` with its last
/// 48 bits (the `node` field) replaced by `(node + n) mod 2^48`. The version and
/// variant bits are untouched, so a v4 base gives v4-shaped UUIDs, one per record,
/// all different within a batch of fewer than 2^48 records.
pub fn record_uuid(base: u128, n: u64) -> u128 {
    const NODE: u128 = (1 << 48) - 1;
    let node = ((base & NODE) + u128::from(n)) & NODE;
    (base & !NODE) | node
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_round_trip_and_v4_sets_version_and_variant() {
        let text = "3f2504e0-4f89-41d3-9a0c-0305e82c3301";
        let u = parse_uuid(text).unwrap_or_default();
        assert_eq!(format_uuid(u), text);
        assert_eq!(parse_uuid("3F2504E0-4F89-41D3-9A0C-0305E82C3301"), Some(u));
        for bad in [
            "",
            "3f2504e0-4f89-41d3-9a0c-0305e82c330",
            "3f2504e04f8941d39a0c0305e82c3301",
            "3f2504e0-4f89-41d3-9a0c-0305e82c330g",
            "+f2504e0-4f89-41d3-9a0c-0305e82c3301",
        ] {
            assert_eq!(parse_uuid(bad), None, "{bad}");
        }
        let v4 = format_uuid(uuid_v4([0xff; 16]));
        assert_eq!(v4, "ffffffff-ffff-4fff-bfff-ffffffffffff");
        let v4 = format_uuid(uuid_v4([0; 16]));
        assert_eq!(v4, "00000000-0000-4000-8000-000000000000");
    }

    #[test]
    fn record_uuids_change_only_the_node_and_wrap() {
        let base = parse_uuid("3f2504e0-4f89-41d3-9a0c-ffffffffffff").unwrap_or_default();
        assert_eq!(
            format_uuid(record_uuid(base, 0)),
            "3f2504e0-4f89-41d3-9a0c-ffffffffffff"
        );
        assert_eq!(
            format_uuid(record_uuid(base, 1)),
            "3f2504e0-4f89-41d3-9a0c-000000000000"
        );
        assert_eq!(
            format_uuid(record_uuid(base, 2)),
            "3f2504e0-4f89-41d3-9a0c-000000000001"
        );
    }

    #[test]
    fn ids_are_one_to_sixty_four_of_the_allowed_characters() {
        for ok in ["a", "QR-1.2", &"x".repeat(64)] {
            assert!(is_id(ok), "{ok}");
        }
        for bad in ["", "a b", "a_b", "é", "a/b", &"x".repeat(65)] {
            assert!(!is_id(bad), "{bad}");
        }
    }

    #[test]
    fn date_times_follow_the_fhir_grammar() {
        for ok in [
            "2026",
            "2026-12",
            "2026-12-05",
            "2026-12-05T16:00:00Z",
            "2026-12-05T16:00:00.123Z",
            "2026-12-05T16:00:00.123456789+01:00",
            "2026-12-05T23:59:60-14:00",
            "2026-12-05T00:00:00+14:00",
        ] {
            assert!(is_date_time(ok), "{ok}");
        }
        for bad in [
            "",
            "26",
            "0000",
            "2026-13",
            "2026-00",
            "2026-12-32",
            "2026-12-05T16:00:00",
            "2026-12-05T16:00Z",
            "2026-12-05T24:00:00Z",
            "2026-12-05T16:60:00Z",
            "2026-12-05T16:00:00.Z",
            "2026-12-05T16:00:00.1234567890Z",
            "2026-12-05T16:00:00+14:30",
            "2026-12-05T16:00:00+1:00",
            "2026-12-05 16:00:00Z",
            "2026-12-05T16:00:00Zjunk",
            "２０２６",
        ] {
            assert!(!is_date_time(bad), "{bad}");
        }
    }
}
