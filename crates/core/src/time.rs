//! RFC 3339 timestamps without a date crate, and [`Now`]: the one place
//! that reads the wall clock.

use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// Both clocks, read once by a caller and handed to pure code (the crawl
/// scheduler never reads a clock): the monotonic instant for scheduling, the
/// wall clock for the timestamps it stores.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Now {
    /// Monotonic time, for waits and pauses.
    pub instant: Instant,
    /// Wall-clock seconds since the Unix epoch, for stored timestamps.
    pub unix_secs: u64,
}

impl Now {
    /// Reads both clocks.
    pub fn read() -> Now {
        Now {
            instant: Instant::now(),
            unix_secs: unix_now(),
        }
    }

    /// The wall-clock part as `YYYY-MM-DDTHH:MM:SSZ` (UTC).
    pub fn rfc3339(&self) -> String {
        rfc3339(self.unix_secs)
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Now, as `YYYY-MM-DDTHH:MM:SSZ` (UTC).
pub fn now_rfc3339() -> String {
    rfc3339(unix_now())
}

/// Seconds since the Unix epoch as `YYYY-MM-DDTHH:MM:SSZ` (UTC).
pub fn rfc3339(secs: u64) -> String {
    let days = i64::try_from(secs / 86_400).unwrap_or(i64::MAX / 2);
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem / 60) % 60,
        rem % 60
    )
}

/// Howard Hinnant's days → (year, month, day) for the proleptic Gregorian calendar.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_795_786_690), "2026-11-27T13:38:10Z");
        assert!(now_rfc3339().starts_with("20"));
        let n = Now::read();
        assert!(n.rfc3339().starts_with("20"));
        let fixed = Now {
            unix_secs: 951_782_400,
            ..n
        };
        assert_eq!(fixed.rfc3339(), "2000-02-29T00:00:00Z");
    }
}
