//! RIR delegated statistics ("RIR statistics exchange format") → [`Delegation`]s.
//!
//! Record lines are `registry|cc|type|start|value|date|status[|opaque-id[|ext]]`;
//! comments (`#`) and blank lines are skipped silently, the version line
//! (`version|registry|serial|records|startdate|enddate|UTCoffset`) is kept as
//! the file's [`Header`] and the `ipv4` `summary` line's count as
//! [`Parsed::summary`]. Only `ipv4` records are kept; for them `value` is an address
//! **count**, not always a power of two, so a record is a [`Range`], not a CIDR.
//! Lines that look like records but do not parse are skipped and counted
//! ([`Parsed::junk`]), with the first few reasons kept for the caller to show
//! (as `file:line: reason` with [`JunkLine::at`]).
//!
//! Real files have quirks, all survived: CRLF line ends, APNIC's comment block
//! before the version line, `*` in the summary lines, empty or `ZZ` country,
//! empty or `00000000` dates, missing opaque ids, missing fields (refused,
//! counted), a download cut short (the last line half written: refused,
//! counted; fewer `ipv4` records than the summary line declares:
//! [`Parsed::truncated`]), and records of another registry than the one the
//! file is of (refused, counted by [`parse_for`]: [`LineError::WrongRegistry`]).
//!
//! [`source`] knows where the files are published, and what the crawl does
//! when they are old or cannot be fetched.
//!
//! [`bundled`] loads the gzip snapshot shipped in `data/delegated/` (see
//! `data/SOURCES.md`: real AFRINIC, APNIC, LACNIC and truncated RIPE NCC files,
//! ARIN and the rest of RIPE NCC derived from aggregated prefixes). Pure apart from
//! the `*_file` helpers.

use std::fmt;
use std::net::Ipv4Addr;
use std::path::Path;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::prefix::Range;
use crate::rdap::Registry;

pub mod source;

/// The bundled snapshot (gzip), built by `scripts/refresh-delegated.py`.
const BUNDLED_GZ: &[u8] = include_bytes!("../../../data/delegated/delegated-ipv4-snapshot.txt.gz");

/// How many line errors [`Parsed::errors`] keeps (all are counted in `junk`).
const KEEP_ERRORS: usize = 20;

/// The `status` column.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Allocated to an LIR/ISP (which may reassign parts).
    Allocated,
    /// Assigned to an end user.
    Assigned,
    /// Held back by the registry (extended files only).
    Reserved,
    /// Free pool (extended files only).
    Available,
}

impl Status {
    /// The word used in the files.
    pub fn name(self) -> &'static str {
        match self {
            Status::Allocated => "allocated",
            Status::Assigned => "assigned",
            Status::Reserved => "reserved",
            Status::Available => "available",
        }
    }

    /// Allocated or assigned: space somebody holds.
    pub fn is_delegated(self) -> bool {
        matches!(self, Status::Allocated | Status::Assigned)
    }
}

impl FromStr for Status {
    type Err = ();
    fn from_str(s: &str) -> Result<Status, ()> {
        match s.trim().to_ascii_lowercase().as_str() {
            "allocated" => Ok(Status::Allocated),
            "assigned" => Ok(Status::Assigned),
            "reserved" => Ok(Status::Reserved),
            "available" => Ok(Status::Available),
            _ => Err(()),
        }
    }
}

/// One ipv4 record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delegation {
    /// The registry whose file lists it.
    pub registry: Registry,
    /// ISO 3166 country code; `None` when empty or `ZZ`.
    pub cc: Option<String>,
    /// `start` .. `start + value - 1`.
    pub range: Range,
    /// `YYYYMMDD` as written; `None` when empty or `00000000`.
    pub date: Option<String>,
    /// The status column.
    pub status: Status,
    /// The opaque holder id (extended files), groups one holder's records.
    pub holder: Option<String>,
}

/// Why one line was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LineError {
    /// Fewer than the 7 mandatory `|`-separated fields.
    TooFewFields(usize),
    /// The first field is not one of the five registries.
    UnknownRegistry(String),
    /// `start` is not a dotted quad.
    BadStart(String),
    /// `value` is not a positive address count.
    BadCount(String),
    /// `start + value - 1` passes 255.255.255.255.
    PastEnd {
        /// Start address as written.
        start: String,
        /// Count as written.
        value: String,
    },
    /// `status` is not allocated/assigned/reserved/available.
    BadStatus(String),
    /// A record of another registry in the file of one registry ([`parse_for`]).
    WrongRegistry {
        /// The record's registry field, as written.
        found: String,
        /// The file's registry, as the files name it (`ripencc`).
        expected: String,
    },
}

impl fmt::Display for LineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LineError::TooFewFields(n) => write!(
                f,
                "{n} fields, expected registry|cc|type|start|value|date|status[|opaque-id]"
            ),
            LineError::UnknownRegistry(r) => write!(
                f,
                "unknown registry {:?}, expected afrinic, apnic, arin, lacnic or ripencc",
                short(r)
            ),
            LineError::BadStart(s) => {
                write!(f, "bad start address {:?}, expected a.b.c.d", short(s))
            }
            LineError::BadCount(v) => {
                write!(
                    f,
                    "bad address count {:?}, expected a number from 1",
                    short(v)
                )
            }
            LineError::PastEnd { start, value } => {
                write!(
                    f,
                    "{} + {} addresses passes 255.255.255.255",
                    short(start),
                    short(value)
                )
            }
            LineError::BadStatus(s) => write!(
                f,
                "bad status {:?}, expected allocated, assigned, reserved or available",
                short(s)
            ),
            LineError::WrongRegistry { found, expected } => write!(
                f,
                "a record of {:?} in the file of {:?}, skipped",
                short(found),
                short(expected)
            ),
        }
    }
}

/// A field as quoted in a message: at most 40 characters.
fn short(s: &str) -> String {
    if s.chars().count() > 40 {
        let cut: String = s.chars().take(40).collect();
        format!("{cut}…")
    } else {
        s.to_string()
    }
}

impl std::error::Error for LineError {}

/// A refused line with its 1-based number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JunkLine {
    /// 1-based line number.
    pub line: usize,
    /// Why.
    pub error: LineError,
}

impl fmt::Display for JunkLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.error)
    }
}

impl JunkLine {
    /// The one-line message naming the file: `FILE:LINE: reason`.
    pub fn at(&self, file: &str) -> String {
        format!("{file}:{}: {}", self.line, self.error)
    }
}

/// A file's version line:
/// `version|registry|serial|records|startdate|enddate|UTCoffset`, e.g.
/// `2|afrinic|20260821|19600|00000000|20260821|00000` or
/// `2|ripencc|1784584799|260022|19700101|20260720|+0200` (RIPE NCC's serial
/// is Unix time, ARIN's in milliseconds; the others' a date).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Header {
    /// Format version (`2`, `2.3`).
    pub version: String,
    /// The registry as written (`ripencc`; `nro` in the combined file).
    pub registry: String,
    /// The serial as written.
    pub serial: String,
    /// The record count it declares (every type), if readable.
    pub records: Option<u64>,
    /// Start date as written.
    pub start_date: String,
    /// End date (`YYYYMMDD`) as written.
    pub end_date: String,
    /// UTC offset as written.
    pub utc_offset: String,
}

impl Header {
    /// The file's date, `YYYYMMDD`: the later of the end date and a serial
    /// written as a date (APNIC's serial is the day after its end date);
    /// `None` when neither is a valid date.
    pub fn date(&self) -> Option<String> {
        [self.end_date.as_str(), self.serial.as_str()]
            .into_iter()
            .filter(|d| date_days(d).is_some())
            .max()
            .map(str::to_string)
    }

    /// The registry it names, when it is one of the five.
    pub fn of(&self) -> Option<Registry> {
        Registry::from_str(&self.registry).ok()
    }
}

/// Days since 1970-01-01 of a `YYYYMMDD` date; `None` unless it is one
/// (year 1900-9999, a real month and day).
pub fn date_days(d: &str) -> Option<i64> {
    if d.len() != 8 || !d.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let y: i64 = d[..4].parse().ok()?;
    let m: i64 = d[4..6].parse().ok()?;
    let day: i64 = d[6..].parse().ok()?;
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let month_len = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    if !(1900..=9999).contains(&y) || day < 1 || day > month_len {
        return None;
    }
    // Howard Hinnant's days_from_civil.
    let yy = if m <= 2 { y - 1 } else { y };
    let era = yy.div_euclid(400);
    let yoe = yy - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146_097 + doe - 719_468)
}

/// What a file gave.
#[derive(Clone, Debug, Default)]
pub struct Parsed {
    /// The ipv4 records, in file order.
    pub delegations: Vec<Delegation>,
    /// Record-like lines refused.
    pub junk: usize,
    /// The first refused lines (at most 20), for messages.
    pub errors: Vec<JunkLine>,
    /// The version line, if the file has one (the bundled snapshot has none).
    pub header: Option<Header>,
    /// The count of the `ipv4` summary line, if any.
    pub summary: Option<u64>,
    /// `ipv4` record lines seen, kept or refused.
    pub ipv4_lines: u64,
    /// The last line, when it was refused and the text does not end with a
    /// line end: a download cut short in the middle of a line.
    pub cut_last: Option<JunkLine>,
}

impl Parsed {
    /// `Some((seen, declared))` when the file holds fewer `ipv4` record
    /// lines than its summary line declares: a download cut short.
    pub fn truncated(&self) -> Option<(u64, u64)> {
        self.summary
            .filter(|&n| n > self.ipv4_lines)
            .map(|n| (self.ipv4_lines, n))
    }
}

/// Why a file could not be read at all.
#[derive(Debug)]
pub enum Error {
    /// Reading (or gunzipping) failed.
    Io {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io { path, source } => write!(f, "cannot read delegated file {path}: {source}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. } => Some(source),
        }
    }
}

/// What one line is.
enum Line {
    /// Blank, comment, or a record of another type than `ipv4`.
    Other,
    /// The version line.
    Header(Header),
    /// A summary line: its type and count.
    Summary(String, Option<u64>),
    /// An `ipv4` record.
    Ipv4(Delegation),
}

/// Parses one line: `Ok(None)` for lines that are not ipv4 records (header,
/// summary, comment, blank, asn/ipv6 records), `Err` for a broken record.
pub fn parse_line(line: &str) -> Result<Option<Delegation>, LineError> {
    match classify(line)? {
        Line::Ipv4(d) => Ok(Some(d)),
        Line::Other | Line::Header(_) | Line::Summary(..) => Ok(None),
    }
}

/// Whether a refused line was an `ipv4` record (its third field says so).
fn is_ipv4_line(line: &str) -> bool {
    line.split('|')
        .nth(2)
        .is_some_and(|t| t.trim().eq_ignore_ascii_case("ipv4"))
}

fn classify(line: &str) -> Result<Line, LineError> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return Ok(Line::Other);
    }
    let f: Vec<&str> = line.split('|').map(str::trim).collect();
    // Version header: `2|afrinic|...` or `2.3|lacnic|...`.
    if f[0].bytes().next().is_some_and(|b| b.is_ascii_digit()) {
        let field = |i: usize| f.get(i).copied().unwrap_or_default().to_string();
        return Ok(Line::Header(Header {
            version: field(0),
            registry: field(1),
            serial: field(2),
            records: f.get(3).and_then(|n| n.parse().ok()),
            start_date: field(4),
            end_date: field(5),
            utc_offset: field(6),
        }));
    }
    if f.len() >= 6 && f[5].eq_ignore_ascii_case("summary") {
        return Ok(Line::Summary(f[2].to_ascii_lowercase(), f[4].parse().ok()));
    }
    if f.len() < 7 {
        return Err(LineError::TooFewFields(f.len()));
    }
    if !f[2].eq_ignore_ascii_case("ipv4") {
        return Ok(Line::Other);
    }
    let registry = Registry::from_str(f[0]).map_err(|_| LineError::UnknownRegistry(f[0].into()))?;
    let start = Ipv4Addr::from_str(f[3])
        .map(u32::from)
        .map_err(|_| LineError::BadStart(f[3].into()))?;
    let value: u64 = f[4]
        .parse()
        .ok()
        .filter(|&v| v > 0)
        .ok_or_else(|| LineError::BadCount(f[4].into()))?;
    let end = u64::from(start) + value - 1;
    let end = u32::try_from(end).map_err(|_| LineError::PastEnd {
        start: f[3].into(),
        value: f[4].into(),
    })?;
    let status = Status::from_str(f[6]).map_err(|()| LineError::BadStatus(f[6].into()))?;
    let cc = (!f[1].is_empty() && !f[1].eq_ignore_ascii_case("zz")).then(|| f[1].to_string());
    let date = (!f[5].is_empty() && f[5] != "00000000").then(|| f[5].to_string());
    let holder = f.get(7).filter(|h| !h.is_empty()).map(ToString::to_string);
    Ok(Line::Ipv4(Delegation {
        registry,
        cc,
        range: Range { start, end },
        date,
        status,
        holder,
    }))
}

/// Parses a whole file's text leniently (records of every registry are
/// kept: a file may hold several, e.g. the bundled snapshot or the NRO's
/// combined file). The first version line is the [`Header`].
pub fn parse(text: &str) -> Parsed {
    parse_with(text, None)
}

/// [`parse`] for the file of one registry (a fetched or stored
/// `delegated-<registry>-extended-latest`): records of the others are
/// refused and counted ([`LineError::WrongRegistry`]).
pub fn parse_for(text: &str, registry: Registry) -> Parsed {
    parse_with(text, Some(registry))
}

fn parse_with(text: &str, only: Option<Registry>) -> Parsed {
    let mut out = Parsed::default();
    let lines = text.lines().count();
    let open_end = !text.is_empty() && !text.ends_with('\n');
    for (i, line) in text.lines().enumerate() {
        let error = match classify(line) {
            Ok(Line::Ipv4(d)) => {
                out.ipv4_lines += 1;
                match only {
                    Some(r) if r != d.registry => LineError::WrongRegistry {
                        found: line.split('|').next().unwrap_or_default().trim().into(),
                        expected: source::stats_name(r).into(),
                    },
                    _ => {
                        out.delegations.push(d);
                        continue;
                    }
                }
            }
            Ok(Line::Header(h)) => {
                if out.header.is_none() {
                    out.header = Some(h);
                }
                continue;
            }
            Ok(Line::Summary(kind, n)) => {
                if kind == "ipv4" && out.summary.is_none() {
                    out.summary = n;
                }
                continue;
            }
            Ok(Line::Other) => continue,
            Err(e) => {
                if is_ipv4_line(line) {
                    out.ipv4_lines += 1;
                }
                e
            }
        };
        out.junk += 1;
        let junk = JunkLine { line: i + 1, error };
        if open_end && i + 1 == lines {
            out.cut_last = Some(junk.clone());
        }
        if out.errors.len() < KEEP_ERRORS {
            out.errors.push(junk);
        }
    }
    out
}

/// Reads and parses a file; a `.gz` name is gunzipped. Invalid UTF-8 is replaced.
pub fn parse_file(path: &Path) -> Result<Parsed, Error> {
    let io = |source| Error::Io {
        path: path.display().to_string(),
        source,
    };
    let raw = std::fs::read(path).map_err(io)?;
    let bytes = if path.extension().is_some_and(|e| e == "gz") {
        gunzip(&raw).map_err(io)?
    } else {
        raw
    };
    Ok(parse(&String::from_utf8_lossy(&bytes)))
}

/// Largest delegated file accepted, unpacked (the real ones are 10–40 MB).
const MAX_FILE: usize = 1 << 30;

fn gunzip(raw: &[u8]) -> std::io::Result<Vec<u8>> {
    crate::gz::gunzip(raw, MAX_FILE)
}

/// The bundled snapshot (all registries, all statuses, sorted by start
/// address). Parsed on each call (about 0.2 s) and not cached: callers keep
/// what they need (the crawl keeps only ranges), so the 250,000 records do
/// not stay in memory for a whole crawl.
pub fn bundled() -> Vec<Delegation> {
    // The snapshot is compiled in and checked by a unit test; a broken build
    // artifact yields an empty list rather than a panic.
    gunzip(BUNDLED_GZ)
        .map(|b| parse(&String::from_utf8_lossy(&b)).delegations)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(s: &str) -> u32 {
        u32::from(Ipv4Addr::from_str(s).unwrap())
    }

    const SAMPLE: &str = "\
2|afrinic|20260821|19600|00000000|20260821|00000
afrinic|*|asn|*|4350|summary
afrinic|*|ipv4|*|6045|summary
afrinic|ZA|asn|1228|1|19910301|allocated|F36B9F4B
afrinic|ZA|ipv4|41.0.0.0|2097152|20071126|allocated|F364712F
afrinic|ZZ|ipv4|41.76.8.0|1024||reserved|
afrinic|ZA|ipv4|196.11.239.0|2048|19930101|assigned|F36B52D2
# comment
apnic|AU|ipv4|1.0.0.0|256|20110811|assigned
apnic|CN|ipv4|1.0.1.0|bogus|20110414|allocated
apnic|CN|ipv4|1.0.1.0
ripencc|NL|ipv4|193.0.0.0|2048|19930901|allocated|e773719f-9ae3
lacnic|BR|ipv4|24.152.0.0|1024|20200310|weird|310248
xx|BR|ipv4|24.152.0.0|1024|20200310|allocated|310248
lacnic|BR|ipv4|255.255.255.0|512|20200310|allocated|310248
lacnic|BR|ipv6|2001:1200::|23|20020902|allocated|157
";

    #[test]
    fn parses_real_lines() {
        let p = parse(SAMPLE);
        assert_eq!(p.delegations.len(), 5, "{:?}", p.errors);
        let d = &p.delegations[0];
        assert_eq!(d.registry, Registry::Afrinic);
        assert_eq!(d.cc.as_deref(), Some("ZA"));
        assert_eq!(
            d.range,
            Range::new(a("41.0.0.0"), a("41.31.255.255")).unwrap()
        );
        assert_eq!(d.date.as_deref(), Some("20071126"));
        assert_eq!(d.status, Status::Allocated);
        assert_eq!(d.holder.as_deref(), Some("F364712F"));
        let r = &p.delegations[1];
        assert_eq!(
            (r.cc.as_deref(), r.date.as_deref(), r.holder.as_deref()),
            (None, None, None)
        );
        assert_eq!(r.status, Status::Reserved);
        // Not a power of two, not aligned: a range.
        let u = &p.delegations[2];
        assert_eq!(u.range.len(), 2048);
        assert_eq!(u.range.to_cidrs().len(), 4);
        assert_eq!(p.delegations[3].registry, Registry::Apnic);
        assert_eq!(p.delegations[3].holder, None);
        assert_eq!(p.delegations[4].registry, Registry::Ripe);
    }

    #[test]
    fn junk_is_counted_with_reasons() {
        let p = parse(SAMPLE);
        assert_eq!(p.junk, 5);
        let msgs: Vec<String> = p.errors.iter().map(ToString::to_string).collect();
        assert!(
            msgs[0].starts_with("line 10: bad address count \"bogus\""),
            "{msgs:?}"
        );
        assert!(msgs[1].contains("4 fields"), "{msgs:?}");
        assert!(msgs[2].contains("bad status \"weird\""), "{msgs:?}");
        assert!(msgs[3].contains("unknown registry \"xx\""), "{msgs:?}");
        assert!(msgs[4].contains("passes 255.255.255.255"), "{msgs:?}");
    }

    #[test]
    fn line_level_cases() {
        assert_eq!(parse_line(""), Ok(None));
        assert_eq!(
            parse_line("2.3|lacnic|20240208|88899|19870101|20240208|-0300"),
            Ok(None)
        );
        assert_eq!(
            parse_line("arin|US|ipv4|3.0.0.0|0||allocated"),
            Err(LineError::BadCount("0".into()))
        );
        assert_eq!(
            parse_line("arin|US|ipv4|3.0.0|256||allocated"),
            Err(LineError::BadStart("3.0.0".into()))
        );
        let d = parse_line("arin|US|ipv4|255.255.255.255|1||allocated")
            .unwrap()
            .unwrap();
        assert_eq!(d.range.start, u32::MAX);
    }

    #[test]
    fn bundled_snapshot_loads() {
        let all = bundled();
        assert!(all.len() > 200_000, "{}", all.len());
        for r in Registry::ALL {
            assert!(all.iter().any(|d| d.registry == r), "{r} missing");
        }
        // Sorted by start address.
        assert!(all.windows(2).all(|w| w[0].range.start <= w[1].range.start));
        // Real lines are in it.
        assert!(all.iter().any(|d| d.registry == Registry::Afrinic
            && d.range.start == a("41.0.0.0")
            && d.range.len() == 2_097_152));
        assert!(all
            .iter()
            .any(|d| d.registry == Registry::Apnic && d.range.start == a("1.0.0.0")));
    }

    /// A real excerpt from `tests/fixtures/delegated/` (see its SOURCES.md).
    fn fixture(name: &str) -> String {
        let p = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/fixtures/delegated/"
        );
        std::fs::read_to_string(format!("{p}{name}")).unwrap()
    }

    #[test]
    fn real_excerpts_parse_with_their_headers_and_summaries() {
        // AFRINIC: extended, ZZ and empty fields, counts not a power of two.
        let p = parse_for(
            &fixture("delegated-afrinic-extended-latest.excerpt.txt"),
            Registry::Afrinic,
        );
        assert_eq!((p.delegations.len(), p.junk), (43, 0), "{:?}", p.errors);
        assert_eq!(
            (p.summary, p.ipv4_lines, p.truncated()),
            (Some(43), 43, None)
        );
        let h = p.header.as_ref().unwrap();
        assert_eq!((h.version.as_str(), h.registry.as_str()), ("2", "afrinic"));
        assert_eq!(
            (h.start_date.as_str(), h.date().as_deref()),
            ("00000000", Some("20260821"))
        );
        assert!(p
            .delegations
            .iter()
            .any(|d| d.range.len() == 393_216 && d.range.to_cidrs().len() == 2));
        let reserved = p
            .delegations
            .iter()
            .find(|d| d.status == Status::Reserved)
            .unwrap();
        assert_eq!(
            (&reserved.cc, &reserved.date, &reserved.holder),
            (&None, &None, &None)
        );
        assert!(p.delegations.iter().any(|d| d.status == Status::Available));
        // APNIC: a comment block before the version line, a comment after
        // the records, non-extended 7-field records; the serial is the day
        // after the end date.
        let p = parse_for(
            &fixture("delegated-apnic-latest.excerpt.txt"),
            Registry::Apnic,
        );
        assert_eq!((p.delegations.len(), p.junk, p.truncated()), (35, 0, None));
        let h = p.header.unwrap();
        assert_eq!(
            (h.serial.as_str(), h.end_date.as_str()),
            ("20260618", "20260617")
        );
        assert_eq!(h.date().as_deref(), Some("20260618"));
        assert!(p.delegations.iter().all(|d| d.holder.is_none()));
        // LACNIC: a `2.3` header.
        let p = parse_for(
            &fixture("delegated-lacnic-extended-latest.excerpt.txt"),
            Registry::Lacnic,
        );
        assert_eq!((p.delegations.len(), p.junk, p.truncated()), (35, 0, None));
        let h = p.header.unwrap();
        assert_eq!(
            (h.version.as_str(), h.date().as_deref()),
            ("2.3", Some("20240208"))
        );
        assert_eq!(h.records, Some(88_899));
    }

    #[test]
    fn a_download_cut_short_is_seen() {
        // RIPE NCC's real header (Unix-time serial) and summaries, 40 records.
        let text = fixture("delegated-ripencc-extended-latest.cut.txt");
        let p = parse_for(&text, Registry::Ripe);
        assert_eq!(p.delegations.len(), 40);
        assert_eq!(p.truncated(), Some((40, 100_395)));
        let h = p.header.unwrap();
        assert_eq!(
            (h.serial.as_str(), h.date().as_deref()),
            ("1784584799", Some("20260720"))
        );
        // The last line half written, without its line end.
        let cut = &text[..text.len() - 40];
        let p = parse_for(cut, Registry::Ripe);
        let last = p.cut_last.as_ref().unwrap();
        assert_eq!(last.line, 44);
        assert_eq!(
            last.at("ripe.txt"),
            "ripe.txt:44: bad status \"allocat\", expected allocated, assigned, reserved or available"
        );
        // The same line complete but for its line end is not cut.
        assert!(parse(text.trim_end()).cut_last.is_none());
    }

    #[test]
    fn crlf_and_other_registries_records() {
        let text = fixture("delegated-afrinic-extended-latest.excerpt.txt");
        let crlf = text.replace('\n', "\r\n");
        let p = parse_for(&crlf, Registry::Afrinic);
        assert_eq!((p.delegations.len(), p.junk), (43, 0));
        assert_eq!(p.delegations, parse(&text).delegations);
        // Served as LACNIC's file: every record refused, counted, named.
        let p = parse_for(&text, Registry::Lacnic);
        assert_eq!((p.delegations.len(), p.junk), (0, 43));
        assert_eq!(
            p.errors[0].at("lacnic.txt"),
            "lacnic.txt:10: a record of \"afrinic\" in the file of \"lacnic\", skipped"
        );
        // `parse` keeps every registry's records (several files in one).
        let both = format!(
            "{text}{}",
            fixture("delegated-lacnic-extended-latest.excerpt.txt")
        );
        let p = parse(&both);
        assert_eq!((p.delegations.len(), p.junk), (78, 0));
        assert_eq!(
            p.header.unwrap().registry,
            "afrinic",
            "the first version line"
        );
    }

    #[test]
    fn dates() {
        assert_eq!(date_days("19700101"), Some(0));
        assert_eq!(date_days("20000229"), Some(11_016));
        assert_eq!(date_days("20010229"), None);
        for bad in [
            "00000000",
            "2026082",
            "2026-08-21",
            "20261301",
            "20260132",
            "+0260821",
        ] {
            assert_eq!(date_days(bad), None, "{bad}");
        }
        let h = Header {
            serial: "1783846821829".into(),
            end_date: "20260712".into(),
            ..Header::default()
        };
        assert_eq!(h.date().as_deref(), Some("20260712"));
        assert_eq!(Header::default().date(), None);
    }

    #[test]
    fn gz_file_round_trip() {
        let dir = std::env::temp_dir().join(format!("ipcrawl-deleg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("x.txt.gz");
        std::fs::write(&p, crate::gz::gzip(SAMPLE.as_bytes())).unwrap();
        assert_eq!(parse_file(&p).unwrap().delegations.len(), 5);
        let e = parse_file(&dir.join("missing.txt"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("missing.txt"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
