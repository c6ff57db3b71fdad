//! Checks of the FHIR primitive types the mapping is handed by its caller: `id` and
//! `dateTime`. The mapping has no clock and makes up no ids, so what it is given must
//! be checked before it lands in a resource.

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

#[cfg(test)]
mod tests {
    use super::*;

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
