//! The options for writing FHIR results, shared by `assess` and `batch
//! --format guidance-response|cds-card` (docs/fhir.md): `--occurrence` and
//! `--card-uuid`. The release is `--fhir r4|r5` of [`crate::fhir_read::FhirReadArgs`].
//! The mapping has no clock and no random source; the CLI supplies both here.

use std::time::{SystemTime, UNIX_EPOCH};

use carelevel_fhir::primitive::{format_uuid, is_date_time, parse_uuid, uuid_v4};

/// `--occurrence` and `--card-uuid`.
#[derive(Debug, Clone, clap::Args)]
pub struct FhirOutArgs {
    /// `occurrenceDateTime` of the GuidanceResponse, a FHIR dateTime such as
    /// `2026-12-05T16:00:00Z` [default: now, UTC].
    #[arg(long, value_name = "DATETIME")]
    pub occurrence: Option<String>,

    /// The CDS Hooks card's `uuid` [default: a fresh random v4 UUID]. In `batch` it
    /// is the base of every record's uuid: the last 12 hex digits plus the record's
    /// line number (docs/fhir.md).
    #[arg(long, value_name = "UUID")]
    pub card_uuid: Option<String>,
}

impl FhirOutArgs {
    /// The occurrence to write: `--occurrence`, checked, or now.
    pub fn occurrence(&self) -> Result<String, String> {
        match &self.occurrence {
            Some(text) if is_date_time(text) => Ok(text.clone()),
            Some(text) => Err(format!(
                "`--occurrence {text}` is not a FHIR dateTime: expected e.g. \
                 `2026-12-05`, or `2026-12-05T16:00:00Z` (a time needs a time zone)"
            )),
            None => now_utc(),
        }
    }

    /// The card uuid: `--card-uuid`, checked, or a fresh random one.
    pub fn card_uuid(&self) -> Result<u128, String> {
        match &self.card_uuid {
            Some(text) => parse_uuid(text).ok_or_else(|| {
                format!(
                    "`--card-uuid {text}` is not a UUID: expected 8-4-4-4-12 hex digits, \
                     e.g. 3f2504e0-4f89-41d3-9a0c-0305e82c3301"
                )
            }),
            None => {
                let mut bytes = [0u8; 16];
                getrandom::fill(&mut bytes)
                    .map_err(|e| format!("cannot make a random card uuid: {e}"))?;
                Ok(uuid_v4(bytes))
            }
        }
    }

    /// The card uuid as text.
    pub fn card_uuid_text(&self) -> Result<String, String> {
        self.card_uuid().map(format_uuid)
    }
}

/// Now, UTC, to the second, as RFC 3339 (`YYYY-MM-DDThh:mm:ssZ`).
fn now_utc() -> Result<String, String> {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_err(|_| "the system clock is before 1970; pass `--occurrence`".to_owned())?
        .as_secs();
    Ok(rfc3339(secs))
}

/// Seconds since 1970 as `YYYY-MM-DDThh:mm:ssZ` (proleptic Gregorian calendar;
/// days to civil date after Howard Hinnant's `civil_from_days`).
fn rfc3339(secs: u64) -> String {
    let days = secs / 86_400;
    let rem = secs % 86_400;
    let (h, m, s) = (rem / 3600, rem % 3600 / 60, rem % 60);
    // Shift the epoch to 0000-03-01 so that leap days end each 400-year era.
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}Z")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_of_known_instants() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_796_486_400), "2026-12-05T16:00:00Z");
        assert_eq!(rfc3339(4_107_542_399), "2100-02-28T23:59:59Z");
        assert_eq!(rfc3339(4_107_542_400), "2100-03-01T00:00:00Z");
    }

    #[test]
    fn now_is_a_fhir_date_time() {
        let now = now_utc().unwrap_or_default();
        assert!(is_date_time(&now), "{now}");
    }

    #[test]
    fn options_are_checked() {
        let args = |occurrence: Option<&str>, uuid: Option<&str>| FhirOutArgs {
            occurrence: occurrence.map(str::to_owned),
            card_uuid: uuid.map(str::to_owned),
        };
        assert!(args(Some("2026-12-05T16:00:00"), None)
            .occurrence()
            .is_err());
        assert_eq!(
            args(Some("2026-12-05"), None).occurrence().as_deref(),
            Ok("2026-12-05")
        );
        assert!(args(None, Some("nope")).card_uuid().is_err());
        let a = args(None, None).card_uuid_text().unwrap_or_default();
        let b = args(None, None).card_uuid_text().unwrap_or_default();
        assert_ne!(a, b);
        assert_eq!(a.as_bytes().get(14), Some(&b'4'), "{a}");
    }
}
