//! Where the delegated statistics come from, and how old they may be: the
//! five registries' published `delegated-<registry>-extended-latest` files,
//! their URLs, the dates of the bundled snapshot, what makes a fetched file
//! acceptable, and the two age rules a crawl follows (pure; the fetching and
//! storing is [`crate::crawl::layout`]'s).
//!
//! - A stored file fetched less than [`REUSE_SECS`] (24 h) ago from the same
//!   URL is used again instead of fetched ([`reusable`]).
//! - Statistics dated more than [`STALE_DAYS`] (30) days before today are
//!   *stale* ([`is_stale`]): the space they call free is then probed at the
//!   seed granularity, never skipped on their word. A file without a
//!   readable date is stale; a date later than today is taken as given
//!   (fresh).

use std::fmt::Write as _;

use crate::rdap::Registry;

use super::{date_days, parse_for, Parsed};

/// How long a fetched file is used again instead of fetched: 24 h.
pub const REUSE_SECS: u64 = 24 * 3600;

/// Statistics older than this many days are stale.
pub const STALE_DAYS: i64 = 30;

/// The registry's name in the files (`ripencc`, not `ripe`).
pub fn stats_name(r: Registry) -> &'static str {
    match r {
        Registry::Arin => "arin",
        Registry::Ripe => "ripencc",
        Registry::Apnic => "apnic",
        Registry::Lacnic => "lacnic",
        Registry::Afrinic => "afrinic",
    }
}

/// The file's real name, `delegated-ripencc-extended-latest`.
pub fn file_name(r: Registry) -> String {
    format!("delegated-{}-extended-latest", stats_name(r))
}

/// The path the registry publishes it under on its own server
/// (`pub/stats/ripencc/...`; APNIC's has no `pub/`).
pub fn url_path(r: Registry) -> String {
    let dir = if r == Registry::Apnic { "" } else { "pub/" };
    format!("{dir}stats/{}/{}", stats_name(r), file_name(r))
}

/// The host that publishes the registry's statistics.
fn host(r: Registry) -> &'static str {
    match r {
        Registry::Arin => "ftp.arin.net",
        Registry::Ripe => "ftp.ripe.net",
        Registry::Apnic => "ftp.apnic.net",
        Registry::Lacnic => "ftp.lacnic.net",
        Registry::Afrinic => "ftp.afrinic.net",
    }
}

/// The registry's own URL of its current extended statistics, e.g.
/// `https://ftp.ripe.net/pub/stats/ripencc/delegated-ripencc-extended-latest`.
pub fn official_url(r: Registry) -> String {
    format!("https://{}/{}", host(r), url_path(r))
}

/// The URL of `r`'s file on a mirror given as `--stats NAME=URL`: a URL
/// ending in `/` is a mirror of the registry's tree (the file is at
/// [`url_path`] under it, as the local world serves it); any other is the
/// file itself.
pub fn mirror_url(r: Registry, url: &str) -> String {
    if url.ends_with('/') {
        format!("{url}{}", url_path(r))
    } else {
        url.to_string()
    }
}

/// The date (`YYYYMMDD`) of each registry's part of the bundled snapshot,
/// by [`Registry::index`] (see `data/SOURCES.md`): AFRINIC's, APNIC's and
/// LACNIC's real files; ARIN's and RIPE NCC's part derived from the
/// 2026-02-01 aggregated prefixes (RIPE NCC's real records, up to
/// 185.41.131.255, are of 2026-07-20; the older date counts).
pub const BUNDLE_DATES: [&str; 5] = ["20260201", "20260201", "20260618", "20240208", "20260821"];

/// The bundled snapshot's date for `r`.
pub fn bundle_date(r: Registry) -> &'static str {
    BUNDLE_DATES[r.index()]
}

/// `YYYYMMDD` as `YYYY-MM-DD` (anything else as it is).
pub fn show_date(d: &str) -> String {
    if date_days(d).is_some() {
        format!("{}-{}-{}", &d[..4], &d[4..6], &d[6..])
    } else {
        d.to_string()
    }
}

/// Whether statistics dated `date` are stale on day `today` (days since
/// 1970-01-01): more than [`STALE_DAYS`] days old, or without a date.
pub fn is_stale(date: Option<&str>, today: i64) -> bool {
    match date.and_then(date_days) {
        Some(d) => today - d > STALE_DAYS,
        None => true,
    }
}

/// Whether a file stored from `source` at `fetched_at` is used again for
/// `url` at `now` (Unix seconds): the same URL, fetched less than
/// [`REUSE_SECS`] ago (a fetch time in the future, a clock set back, is not
/// trusted).
pub fn reusable(source: &str, fetched_at: u64, url: &str, now: u64) -> bool {
    source == url && fetched_at <= now && now - fetched_at < REUSE_SECS
}

/// Checks a file fetched (or stored) as `r`'s statistics and parses it: it
/// must have a version line naming `r`, hold `ipv4` records (unless its
/// summary line declares none), not fewer than its summary line declares,
/// and not end in a half-written line. Lines that do not parse (and records of
/// another registry) are counted in the result, not fatal. The error is one
/// line: what is wrong and what was expected.
pub fn check(r: Registry, bytes: &[u8]) -> Result<Parsed, String> {
    let text = String::from_utf8_lossy(bytes);
    let parsed = parse_for(&text, r);
    let name = stats_name(r);
    let Some(h) = &parsed.header else {
        return Err(format!(
            "not a delegated statistics file (no version line `2|{name}|serial|records|start|end|offset`; it starts {:?})",
            start_of(&text)
        ));
    };
    if h.of() != Some(r) {
        return Err(format!(
            "its version line names registry {:?}, expected {name}",
            super::short(&h.registry)
        ));
    }
    if let Some((seen, declared)) = parsed.truncated() {
        return Err(format!(
            "truncated: {seen} ipv4 records of the {declared} its summary line declares"
        ));
    }
    if let Some(cut) = &parsed.cut_last {
        return Err(format!(
            "truncated: its last line ({}) is cut short: {}",
            cut.line, cut.error
        ));
    }
    // A registry with no ipv4 space at all (a local world's scope) says so
    // in its summary line.
    if parsed.delegations.is_empty() && parsed.summary != Some(0) {
        let mut m = format!("no ipv4 records of {name}");
        if let Some(e) = parsed.errors.first() {
            let _ = write!(m, " ({} lines refused, first: {e})", parsed.junk);
        }
        return Err(m);
    }
    Ok(parsed)
}

/// The first 40 characters of a text, for messages.
fn start_of(text: &str) -> String {
    text.chars().take(40).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_the_registries_own() {
        let urls: Vec<String> = Registry::ALL.iter().map(|&r| official_url(r)).collect();
        assert_eq!(
            urls,
            [
                "https://ftp.arin.net/pub/stats/arin/delegated-arin-extended-latest",
                "https://ftp.ripe.net/pub/stats/ripencc/delegated-ripencc-extended-latest",
                "https://ftp.apnic.net/stats/apnic/delegated-apnic-extended-latest",
                "https://ftp.lacnic.net/pub/stats/lacnic/delegated-lacnic-extended-latest",
                "https://ftp.afrinic.net/pub/stats/afrinic/delegated-afrinic-extended-latest",
            ]
        );
        assert_eq!(
            mirror_url(Registry::Ripe, "http://127.0.0.1:8081/"),
            "http://127.0.0.1:8081/pub/stats/ripencc/delegated-ripencc-extended-latest"
        );
        assert_eq!(
            mirror_url(Registry::Ripe, "http://m/ripe.txt"),
            "http://m/ripe.txt"
        );
    }

    #[test]
    fn thirty_days_and_no_date_are_stale_a_future_date_is_not() {
        let day = |d: &str| date_days(d).unwrap();
        let today = day("20261202");
        assert!(!is_stale(Some("20261202"), today));
        assert!(!is_stale(Some("20261102"), today), "30 days old");
        assert!(is_stale(Some("20261101"), today), "31 days old");
        assert!(!is_stale(Some("20270821"), today), "dated later: as given");
        assert!(is_stale(None, today));
        assert!(is_stale(Some("2026-12-02"), today), "not YYYYMMDD");
        for r in Registry::ALL {
            assert!(is_stale(Some(bundle_date(r)), today), "{r}");
            assert!(!is_stale(Some(bundle_date(r)), day(bundle_date(r))));
        }
        assert_eq!(show_date("20240208"), "2024-02-08");
        assert_eq!(show_date("x"), "x");
    }

    #[test]
    fn reuse_for_24_hours_from_the_same_url() {
        let u = "https://ftp.arin.net/x";
        assert!(reusable(u, 1000, u, 1000));
        assert!(reusable(u, 1000, u, 1000 + REUSE_SECS - 1));
        assert!(!reusable(u, 1000, u, 1000 + REUSE_SECS));
        assert!(
            !reusable(u, 1000, "http://127.0.0.1:1/x", 1001),
            "another URL"
        );
        assert!(!reusable(u, 5000, u, 1000), "fetched in the future");
    }

    const AFRINIC: &str = "2|afrinic|20260821|19600|00000000|20260821|00000\r\n\
afrinic|*|ipv4|*|2|summary\r\n\
afrinic|ZA|ipv4|41.0.0.0|2097152|20071126|allocated|F364712F\r\n\
afrinic|ZZ|ipv4|41.76.8.0|1024||reserved|\r\n";

    #[test]
    fn a_good_file_passes_and_each_bad_one_says_why() {
        let p = check(Registry::Afrinic, AFRINIC.as_bytes()).unwrap();
        assert_eq!(p.delegations.len(), 2);
        assert_eq!(p.header.unwrap().date().as_deref(), Some("20260821"));
        let e = check(Registry::Ripe, AFRINIC.as_bytes()).unwrap_err();
        assert_eq!(
            e,
            "its version line names registry \"afrinic\", expected ripencc"
        );
        let e = check(Registry::Afrinic, b"<html><body>Not here</body></html>").unwrap_err();
        assert!(
            e.starts_with("not a delegated statistics file") && e.contains("<html>"),
            "{e}"
        );
        // Cut in the last line's third field: one ipv4 record of the two.
        let cut = &AFRINIC[..AFRINIC.len() - 30];
        let e = check(Registry::Afrinic, cut.as_bytes()).unwrap_err();
        assert_eq!(
            e,
            "truncated: 1 ipv4 records of the 2 its summary line declares"
        );
        // Cut later: the count matches, the half-written last line does not.
        let cut = &AFRINIC[..AFRINIC.len() - 12];
        let e = check(Registry::Afrinic, cut.as_bytes()).unwrap_err();
        assert_eq!(
            e,
            "truncated: its last line (4) is cut short: 6 fields, expected registry|cc|type|start|value|date|status[|opaque-id]"
        );
        // Records of another registry are counted, not fatal.
        let mixed = format!("{AFRINIC}apnic|AU|ipv4|1.0.0.0|256|20110811|assigned\n");
        let p = check(Registry::Afrinic, mixed.as_bytes()).unwrap();
        assert_eq!((p.delegations.len(), p.junk), (2, 1));
        assert_eq!(
            p.errors[0].at("x"),
            "x:5: a record of \"apnic\" in the file of \"afrinic\", skipped"
        );
        let e = check(
            Registry::Afrinic,
            b"2|afrinic|20260821|0|00000000|20260821|00000\n",
        )
        .unwrap_err();
        assert_eq!(e, "no ipv4 records of afrinic");
        let empty = "2|afrinic|20260821|0|00000000|20260821|00000\nafrinic|*|ipv4|*|0|summary\n";
        assert!(check(Registry::Afrinic, empty.as_bytes())
            .unwrap()
            .delegations
            .is_empty());
    }
}
