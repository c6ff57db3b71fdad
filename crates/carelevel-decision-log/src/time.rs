//! Times in the log: RFC 3339, UTC, supplied by the caller (the crate has no clock).
//!
//! A record keeps the caller's text exactly. For ordering and filtering, the text is
//! read into a [`Timestamp`], whose [`Timestamp::key`] is a fixed-width form
//! (`YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ`) that sorts as text in time order; the SQLite
//! sink stores that key in its indexed `time` column.
//!
//! Accepted: `YYYY-MM-DDTHH:MM:SS[.fraction]Z` (1 to 9 fraction digits; `t`/`z` in
//! lower case and `+00:00` for `Z` are accepted too, as RFC 3339 allows). Any other
//! offset is refused: the log is in UTC, and a time in another zone is a caller's
//! mistake to report, not to convert silently. Leap seconds (`:60`) are refused.

use std::fmt;

/// A point in time read from RFC 3339 UTC text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp {
    year: u16,
    month: u8,
    day: u8,
    hour: u8,
    minute: u8,
    second: u8,
    nanos: u32,
}

/// Why a text is not an RFC 3339 UTC time.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{text}` is not an RFC 3339 UTC time ({problem}); expected e.g. `2026-12-05T13:04:05Z` or `2026-12-05T13:04:05.123Z`")]
pub struct TimeError {
    /// The text given (cut at 64 characters).
    pub text: String,
    /// What is wrong with it.
    pub problem: &'static str,
}

fn digits(bytes: &[u8], from: usize, len: usize) -> Option<u32> {
    let part = bytes.get(from..from.checked_add(len)?)?;
    part.iter().try_fold(0u32, |acc, b| {
        b.is_ascii_digit().then(|| acc * 10 + u32::from(b - b'0'))
    })
}

fn days_in_month(year: u16, month: u8) -> u8 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

impl Timestamp {
    /// Read RFC 3339 UTC text (see the module documentation for what is accepted).
    pub fn parse(text: &str) -> Result<Timestamp, TimeError> {
        let fail = |problem| TimeError {
            text: text.chars().take(64).collect(),
            problem,
        };
        let b = text.as_bytes();
        let sep = |i: usize, c: &[u8]| b.get(i).is_some_and(|x| c.contains(x));
        if !(sep(4, b"-") && sep(7, b"-") && sep(10, b"Tt") && sep(13, b":") && sep(16, b":")) {
            return Err(fail("the shape is not YYYY-MM-DDTHH:MM:SS"));
        }
        let field = |from, len| digits(b, from, len).ok_or_else(|| fail("a field is not digits"));
        let (year, month, day) = (field(0, 4)?, field(5, 2)?, field(8, 2)?);
        let (hour, minute, second) = (field(11, 2)?, field(14, 2)?, field(17, 2)?);
        let mut i = 19;
        let mut nanos = 0u32;
        if b.get(i) == Some(&b'.') {
            i += 1;
            let start = i;
            while b.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
            let n = i - start;
            if n == 0 || n > 9 {
                return Err(fail("the fraction of a second needs 1 to 9 digits"));
            }
            let frac = digits(b, start, n).ok_or_else(|| fail("a field is not digits"))?;
            nanos = frac * 10u32.pow(u32::try_from(9 - n).unwrap_or(0));
        }
        match b.get(i..) {
            Some(b"Z" | b"z" | b"+00:00") => {}
            Some([]) | None => return Err(fail("the zone is missing; write `Z` for UTC")),
            Some(_) => return Err(fail("only UTC (`Z` or `+00:00`) is accepted")),
        }
        let (Ok(year), Ok(month), Ok(day)) =
            (u16::try_from(year), u8::try_from(month), u8::try_from(day))
        else {
            return Err(fail("a field is out of range"));
        };
        if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
            return Err(fail("no such date"));
        }
        if hour > 23 || minute > 59 || second > 59 {
            return Err(fail("no such time of day"));
        }
        Ok(Timestamp {
            year,
            month,
            day,
            hour: u8::try_from(hour).unwrap_or(0),
            minute: u8::try_from(minute).unwrap_or(0),
            second: u8::try_from(second).unwrap_or(0),
            nanos,
        })
    }

    /// Read a filter bound: an RFC 3339 UTC time, or a date `YYYY-MM-DD` meaning the
    /// start of that day (00:00:00Z).
    pub fn parse_bound(text: &str) -> Result<Timestamp, TimeError> {
        if text.len() == 10 {
            return Timestamp::parse(&format!("{text}T00:00:00Z"));
        }
        Timestamp::parse(text)
    }

    /// The time `seconds` (and `nanos`) after 1970-01-01T00:00:00Z, for callers that
    /// read a clock (`SystemTime::now()` since `UNIX_EPOCH`); years 1970 to 9999.
    /// `None` outside that range or for `nanos` of a second or more.
    pub fn from_unix(seconds: u64, nanos: u32) -> Option<Timestamp> {
        if nanos >= 1_000_000_000 {
            return None;
        }
        let days = i64::try_from(seconds / 86_400).ok()?;
        let secs = seconds % 86_400;
        // Days since the epoch to a civil date (H. Hinnant's `civil_from_days`).
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + i64::from(month <= 2);
        if year > 9999 {
            return None;
        }
        Some(Timestamp {
            year: u16::try_from(year).ok()?,
            month: u8::try_from(month).ok()?,
            day: u8::try_from(day).ok()?,
            hour: u8::try_from(secs / 3600).ok()?,
            minute: u8::try_from(secs % 3600 / 60).ok()?,
            second: u8::try_from(secs % 60).ok()?,
            nanos,
        })
    }

    /// The fixed-width text form `YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ`: two keys compare as
    /// text exactly as the times compare.
    pub fn key(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:09}Z",
            self.year, self.month, self.day, self.hour, self.minute, self.second, self.nanos
        )
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test code: a panic is a failed test")]

    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_utc_forms() {
        let a = Timestamp::parse("2026-12-05T13:04:05Z").unwrap();
        assert_eq!(a.key(), "2026-12-05T13:04:05.000000000Z");
        assert_eq!(Timestamp::parse("2026-12-05t13:04:05z").unwrap(), a);
        assert_eq!(Timestamp::parse("2026-12-05T13:04:05+00:00").unwrap(), a);
        let b = Timestamp::parse("2026-12-05T13:04:05.5Z").unwrap();
        assert_eq!(b.key(), "2026-12-05T13:04:05.500000000Z");
        assert!(a < b);
        assert_eq!(
            Timestamp::parse("2024-02-29T00:00:00.123456789Z")
                .unwrap()
                .key(),
            "2024-02-29T00:00:00.123456789Z"
        );
        assert_eq!(
            Timestamp::parse_bound("2026-12-05").unwrap().key(),
            "2026-12-05T00:00:00.000000000Z"
        );
    }

    #[test]
    fn refuses_everything_else() {
        for (text, problem) in [
            (
                "2026-12-05T13:04:05",
                "the zone is missing; write `Z` for UTC",
            ),
            (
                "2026-12-05T13:04:05+01:00",
                "only UTC (`Z` or `+00:00`) is accepted",
            ),
            (
                "2026-12-05 13:04:05Z",
                "the shape is not YYYY-MM-DDTHH:MM:SS",
            ),
            ("2026-13-05T13:04:05Z", "no such date"),
            ("2023-02-29T13:04:05Z", "no such date"),
            ("2026-12-05T24:00:00Z", "no such time of day"),
            ("2026-12-05T23:59:60Z", "no such time of day"),
            (
                "2026-12-05T13:04:05.Z",
                "the fraction of a second needs 1 to 9 digits",
            ),
            (
                "2026-12-05T13:04:05.1234567890Z",
                "the fraction of a second needs 1 to 9 digits",
            ),
            ("2026-1a-05T13:04:05Z", "a field is not digits"),
            ("", "the shape is not YYYY-MM-DDTHH:MM:SS"),
            ("yesterday", "the shape is not YYYY-MM-DDTHH:MM:SS"),
        ] {
            let e = Timestamp::parse(text).unwrap_err();
            assert_eq!(e.problem, problem, "{text}");
        }
    }

    #[test]
    fn from_unix_matches_known_dates() {
        // Values from Python's `datetime(..., tzinfo=timezone.utc).timestamp()`.
        for (secs, text) in [
            (0, "1970-01-01T00:00:00.000000000Z"),
            (951_868_799, "2000-02-29T23:59:59.000000000Z"),
            (1_796_475_845, "2026-12-05T13:04:05.000000000Z"),
            (4_107_542_400, "2100-03-01T00:00:00.000000000Z"),
        ] {
            assert_eq!(Timestamp::from_unix(secs, 0).unwrap().key(), text);
        }
        assert_eq!(
            Timestamp::from_unix(0, 5).unwrap().key(),
            "1970-01-01T00:00:00.000000005Z"
        );
        assert!(Timestamp::from_unix(0, 1_000_000_000).is_none());
        assert!(Timestamp::from_unix(u64::MAX, 0).is_none());
    }

    proptest! {
        /// Later seconds are later times, and every time reads back as itself.
        #[test]
        fn from_unix_is_monotone_and_valid(a in 0u64..253_402_300_800, b in 0u64..253_402_300_800) {
            let (x, y) = (Timestamp::from_unix(a, 0).unwrap(), Timestamp::from_unix(b, 0).unwrap());
            prop_assert_eq!(a.cmp(&b), x.cmp(&y));
            prop_assert_eq!(Timestamp::parse(&x.key()).unwrap(), x);
        }

        /// The key sorts as text exactly as the times sort, and reads back as itself.
        #[test]
        fn key_order_is_time_order(
            a in (2000u16..2100, 1u8..=12, 1u8..=28, 0u8..24, 0u8..60, 0u8..60, 0u32..1_000_000_000),
            b in (2000u16..2100, 1u8..=12, 1u8..=28, 0u8..24, 0u8..60, 0u8..60, 0u32..1_000_000_000),
        ) {
            let t = |(year, month, day, hour, minute, second, nanos)| Timestamp { year, month, day, hour, minute, second, nanos };
            let (x, y) = (t(a), t(b));
            prop_assert_eq!(x.cmp(&y), x.key().cmp(&y.key()));
            prop_assert_eq!(Timestamp::parse(&x.key()).unwrap(), x);
        }
    }
}
