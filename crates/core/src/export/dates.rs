//! Dates as exported: every date-time the registries sent, in whatever
//! offset, becomes the same instant in UTC (`YYYY-MM-DDTHH:MM:SS[.fff]Z`),
//! so that pandas, DuckDB and Parquet readers see one time zone.
//!
//! Accepted (RFC 3339 and its common relaxations): `T`, `t` or a space
//! between date and time; seconds optional; a fraction of any length (kept
//! to the microsecond); `Z`, `z`, `±HH:MM`, `±HHMM` or `±HH`; a time with no
//! offset is read as UTC (as DESIGN §6.2 does for APNIC's dumps); a date
//! alone (`2005-02-05`) is midnight UTC. Anything else is not a date:
//! [`instant`] gives `None` and the export writes `null` (the stored raw
//! answer keeps what the server sent).

/// Microseconds in a second.
const US: i64 = 1_000_000;

/// The instant `s` names, as microseconds since 1970-01-01T00:00:00Z, or
/// `None` when `s` is not a date-time of the accepted forms.
pub fn instant(s: &str) -> Option<i64> {
    let b = s.trim().as_bytes();
    let year = digits(b, 0, 4)?;
    if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
        return None;
    }
    let month = digits(b, 5, 2)?;
    let day = digits(b, 8, 2)?;
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return None;
    }
    let days = days_from_civil(year, month, day);
    if b.len() == 10 {
        return Some(days * 86_400 * US);
    }
    if !matches!(b.get(10), Some(b'T' | b't' | b' ')) {
        return None;
    }
    let hour = digits(b, 11, 2)?;
    if b.get(13) != Some(&b':') {
        return None;
    }
    let minute = digits(b, 14, 2)?;
    let mut i = 16;
    let mut second = 0;
    let mut micros = 0;
    if b.get(i) == Some(&b':') {
        second = digits(b, i + 1, 2)?;
        i += 3;
        if b.get(i) == Some(&b'.') {
            let start = i + 1;
            let mut end = start;
            while b.get(end).is_some_and(u8::is_ascii_digit) {
                end += 1;
            }
            if end == start {
                return None;
            }
            // The first six digits, right-padded: ".5" is 500000 µs.
            for k in 0..6 {
                micros = micros * 10
                    + b.get(start + k)
                        .filter(|_| start + k < end)
                        .map_or(0, |d| i64::from(d - b'0'));
            }
            i = end;
        }
    }
    // 60 is a leap second: it lands on the next minute's first second.
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let offset = offset_seconds(&b[i..])?;
    let local = ((days * 24 + hour) * 60 + minute) * 60 + second;
    Some((local - offset) * US + micros)
}

/// `s` as the same instant in UTC (see the module docs), or `None`.
pub fn to_utc(s: &str) -> Option<String> {
    instant(s).map(format_utc)
}

/// Microseconds since the epoch as `YYYY-MM-DDTHH:MM:SSZ`, with `.fff` or
/// `.ffffff` only when the instant has a fraction.
pub fn format_utc(us: i64) -> String {
    let secs = us.div_euclid(US);
    let frac = us.rem_euclid(US);
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let rem = secs.rem_euclid(86_400);
    let (hh, mm, ss) = (rem / 3600, (rem / 60) % 60, rem % 60);
    let fraction = if frac == 0 {
        String::new()
    } else if frac % 1000 == 0 {
        format!(".{:03}", frac / 1000)
    } else {
        format!(".{frac:06}")
    };
    format!("{y:04}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}{fraction}Z")
}

/// `n` ASCII digits of `b` from `at`, as a number.
fn digits(b: &[u8], at: usize, n: usize) -> Option<i64> {
    let s = b.get(at..at + n)?;
    s.iter().try_fold(0i64, |acc, &c| {
        c.is_ascii_digit().then(|| acc * 10 + i64::from(c - b'0'))
    })
}

/// The offset east of UTC that `rest` names, in seconds (`None` if `rest`
/// is not a whole offset).
fn offset_seconds(rest: &[u8]) -> Option<i64> {
    let sign = match rest.first() {
        None => return Some(0),
        Some(b'Z' | b'z') if rest.len() == 1 => return Some(0),
        Some(b'+') => 1,
        Some(b'-') => -1,
        _ => return None,
    };
    let hours = digits(rest, 1, 2)?;
    let minutes = match rest.len() {
        3 => 0,
        5 => digits(rest, 3, 2)?,
        6 if rest[3] == b':' => digits(rest, 4, 2)?,
        _ => return None,
    };
    if hours > 23 || minutes > 59 {
        return None;
    }
    Some(sign * (hours * 3600 + minutes * 60))
}

fn is_leap(y: i64) -> bool {
    y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Howard Hinnant's (year, month, day) → days since 1970-01-01.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Days since 1970-01-01 → (year, month, day).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (
        if m <= 2 {
            yoe + era * 400 + 1
        } else {
            yoe + era * 400
        },
        m,
        d,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_become_the_same_instant_in_utc() {
        for (given, want) in [
            ("2017-10-18T14:39:41-04:00", "2017-10-18T18:39:41Z"),
            ("2019-06-23T15:57:53-05:00", "2019-06-23T20:57:53Z"),
            ("2010-06-25T10:00:00Z", "2010-06-25T10:00:00Z"),
            ("2010-06-25t10:00:00z", "2010-06-25T10:00:00Z"),
            ("2010-06-25 10:00:00+00:00", "2010-06-25T10:00:00Z"),
            ("2015-03-31T01:16:18+09:30", "2015-03-30T15:46:18Z"),
            ("2015-03-31T01:16:18+0930", "2015-03-30T15:46:18Z"),
            ("2015-03-31T01:16:18+09", "2015-03-30T16:16:18Z"),
            ("1999-12-31T23:30:00-01:00", "2000-01-01T00:30:00Z"),
            ("2005-02-05", "2005-02-05T00:00:00Z"),
            ("2005-02-05T07:08", "2005-02-05T07:08:00Z"),
            ("2024-02-29T12:00:00.5Z", "2024-02-29T12:00:00.500Z"),
            (
                "2024-02-29T12:00:00.123456789+01:00",
                "2024-02-29T11:00:00.123456Z",
            ),
            ("1969-12-31T23:59:59Z", "1969-12-31T23:59:59Z"),
            ("1900-01-01T00:00:00Z", "1900-01-01T00:00:00Z"),
            ("2016-12-31T23:59:60Z", "2017-01-01T00:00:00Z"),
            ("  2010-06-25T10:00:00Z ", "2010-06-25T10:00:00Z"),
        ] {
            assert_eq!(to_utc(given).as_deref(), Some(want), "{given}");
        }
    }

    #[test]
    fn what_is_not_a_date_is_none() {
        for bad in [
            "",
            "yesterday",
            "2017-13-01T00:00:00Z",
            "2017-02-29T00:00:00Z",
            "2017-04-31",
            "2017-10-18T24:00:00Z",
            "2017-10-18T14:60:00Z",
            "2017-10-18T14:39:41+24:00",
            "2017-10-18T14:39:41 EST",
            "2017-10-18T14:39:41.Z",
            "2017-10-18T14:39:41Zjunk",
            "2017-10-18X14:39:41Z",
            "17-10-18",
            "2017/10/18",
            "20171018",
        ] {
            assert_eq!(instant(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn instants_are_microseconds_since_the_epoch() {
        assert_eq!(instant("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(instant("1970-01-01T00:00:01.000001Z"), Some(1_000_001));
        assert_eq!(instant("1969-12-31T23:59:59Z"), Some(-US));
        assert_eq!(instant("2026-11-27T00:00:00Z"), Some(1_795_737_600 * US));
    }

    #[test]
    fn the_calendar_round_trips_over_centuries() {
        for days in (-800_000..800_000).step_by(997) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
            let s = format_utc(days * 86_400 * US);
            if (0..=9999).contains(&y) {
                assert_eq!(instant(&s), Some(days * 86_400 * US), "{s}");
            }
        }
    }
}
