//! Export: one record per stored network, as JSON Lines, CSV or Parquet.
//!
//! Records come in address order (start, then end, then registry);
//! placeholders only when asked (after the networks). Every format has the
//! same fields in the same order:
//!
//! | field | JSON Lines | CSV | Parquet | meaning |
//! |---|---|---|---|---|
//! | `handle` | string | text | `STRING` | the registry's handle for the network |
//! | `start`, `end` | string | text | `STRING` | first and last address, dotted quads |
//! | `cidrs` | list of string | JSON array | `LIST<STRING>` | the exact CIDR decomposition of `start..end` (`"a.b.c.d/len"`) |
//! | `start_int`, `end_int` | number | integer | `UINT32` | `start` and `end` as integers (`a·2²⁴ + b·2¹⁶ + c·2⁸ + d`), for range joins |
//! | `name` | string \| null | text | `STRING` (nullable) | the network's `name` |
//! | `type` | string \| null | text | `STRING` (nullable) | the network's `type`, as the registry wrote it |
//! | `country` | string \| null | text | `STRING` (nullable) | the network object's own `country` (ARIN networks have none) |
//! | `registry` | string | text | `STRING` | `arin`, `ripe`, `apnic`, `lacnic` or `afrinic`: who answered |
//! | `parent_handle` | string \| null | text | `STRING` (nullable) | `parentHandle` as sent (handle, CIDR or range) |
//! | `status` | list of string | JSON array | `LIST<STRING>` | status values, lower case |
//! | `entities` | list of object | JSON array | `LIST<STRUCT<handle STRING, roles LIST<STRING>, name STRING, email STRING>>` | `{handle, roles, name, email}` of each contact |
//! | `registration` | string \| null | text | `TIMESTAMP(µs, UTC)` (nullable) | registration date, in UTC |
//! | `last_changed` | string \| null | text | `TIMESTAMP(µs, UTC)` (nullable) | last-changed date, in UTC |
//! | `queried` | string \| null | text | `STRING` (nullable) | the address whose lookup returned it (`null` for records no lookup returned, such as bulk-dump imports) |
//! | `source_url` | string | text | `STRING` | the URL that answered (`dump:FILE` for imports) |
//! | `fetched_at` | string | text | `TIMESTAMP(µs, UTC)` | when it was fetched, in UTC |
//! | `placeholder` | bool | `true`/`false` | `BOOLEAN` | true only for placeholders (exported with `--placeholders`) |
//! | `valid_from`, `valid_until` (only with `--history`) | string \| null | text | `TIMESTAMP(µs, UTC)` (nullable) | a previous version's validity: from its `fetched_at` to the fetch that replaced it or the time it was found gone |
//! | `raw` (only with `--raw`) | object \| string \| null | JSON text | `STRING` (nullable) | the answer as stored: see below |
//!
//! Absent values are `null` (CSV: an empty field), never invented.
//!
//! **History** (`--history`): the previous versions of networks instead of
//! the current view (see [`crate::store::Version`]), in address order and
//! then by `valid_from`, with the two `valid_*` columns after `placeholder`.
//! A transferred block's old version keeps its old registry and handle.
//!
//! **Dates** are the same instant as the registry's value, written in UTC:
//! `YYYY-MM-DDTHH:MM:SSZ` (with `.fff` or `.ffffff` when the value had a
//! fraction), so every row of a column has one offset and pandas, DuckDB
//! and Polars parse them as timestamps. A value that is not a date-time
//! ([`dates`] lists the accepted forms) is exported as `null` and counted
//! ([`Writer::dates_unreadable`]); the server's own text stays in `raw`.
//!
//! **Control characters** (C0, DEL, C1: ESC, BEL, CSI, ...) sent by a
//! server never reach the output raw, so `cat`-ing an export cannot drive
//! a terminal: JSON Lines escapes them (`\u001b`; the decoded value is
//! exact), CSV writes them as the six characters `\u001b` (every CSV
//! record is one line), Parquet stores the exact value (a binary format;
//! see [`text`]).
//!
//! **Raw answers** (`--raw`): the RDAP answer stored for the network, as
//! the server sent it (or the RPSL object of a bulk dump). JSON Lines embeds
//! a JSON answer as a JSON value (whitespace between tokens removed,
//! controls escaped) and any other answer as a string; CSV writes the same
//! JSON text in one field; Parquet stores the stored text exactly. `null`
//! when nothing was stored.
//!
//! # JSON Lines (`--format jsonl`, the default; `.jsonl`, `.json`, `.ndjson`)
//!
//! One object per line with the keys above, in that order.
//!
//! # CSV (`--format csv`; `.csv`)
//!
//! RFC 4180: a header line with the field names, then one line per
//! network; fields holding `,`, `"` or a line break are quoted, `"`
//! doubled. The list fields (`cidrs`, `status`, `entities`) are JSON arrays
//! in one field (`json.loads`, DuckDB `from_json`).
//!
//! # Parquet (`--format parquet`; `.parquet`)
//!
//! One row per network with the typed columns above (schema:
//! [`parquet::SCHEMA`]), Snappy-compressed, in row groups of
//! [`parquet::ROW_GROUP`] rows. `start_int`/`end_int` are `UINT32` (DuckDB
//! `UINTEGER`, pandas `uint32`), so a range join needs no macro:
//! `... JOIN nets ON ip BETWEEN start_int AND end_int`.
//!
//! # Output files
//!
//! [`Target::of`] picks the format from `-o`'s extension (`.gz` after
//! `.jsonl`/`.json`/`.ndjson`/`.csv`: gzip'd) and refuses a `--format` that
//! contradicts it.

pub mod dates;
pub mod parquet;
pub mod text;

use std::io::{self, Write};
use std::path::Path;

use serde::{Serialize, Serializer};

use crate::prefix::fmt_addr;
use crate::rdap::Entity;
use crate::store::{Record, Version};

/// Output format.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Format {
    /// JSON Lines.
    Jsonl,
    /// CSV with a header.
    Csv,
    /// Apache Parquet.
    Parquet,
}

impl Format {
    /// The `--format` value naming it.
    pub fn name(self) -> &'static str {
        match self {
            Format::Jsonl => "jsonl",
            Format::Csv => "csv",
            Format::Parquet => "parquet",
        }
    }

    /// What people call it.
    pub fn title(self) -> &'static str {
        match self {
            Format::Jsonl => "JSON Lines",
            Format::Csv => "CSV",
            Format::Parquet => "Parquet",
        }
    }
}

/// Where an export goes: its format and whether it is gzip'd.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// The format.
    pub format: Format,
    /// Gzip the output (`.gz`).
    pub gzip: bool,
}

/// The extensions each format is known by (`.gz` may follow those of
/// JSON Lines and CSV).
const EXTENSIONS: [(&str, Format); 5] = [
    ("jsonl", Format::Jsonl),
    ("json", Format::Jsonl),
    ("ndjson", Format::Jsonl),
    ("csv", Format::Csv),
    ("parquet", Format::Parquet),
];

fn by_extension(ext: &str) -> Option<Format> {
    EXTENSIONS
        .iter()
        .find(|(e, _)| e.eq_ignore_ascii_case(ext))
        .map(|&(_, f)| f)
}

fn extension(p: &Path) -> Option<String> {
    p.extension().map(|e| e.to_string_lossy().into_owned())
}

impl Target {
    /// The target of `export [--format F] [-o PATH]`: the format given, else
    /// the one `PATH`'s extension names, else JSON Lines. A file name with
    /// no extension takes `--format` (default JSON Lines); an unknown
    /// extension needs `--format`; a `--format` that contradicts a known
    /// extension is refused, and so is Parquet with `.gz` (Parquet
    /// compresses its own columns). The error is one line naming the value.
    pub fn of(format: Option<Format>, path: Option<&Path>) -> Result<Target, String> {
        let Some(path) = path else {
            return Ok(Target {
                format: format.unwrap_or(Format::Jsonl),
                gzip: false,
            });
        };
        let shown = path.display();
        let mut ext = extension(path);
        let gzip = ext.as_deref().is_some_and(|e| e.eq_ignore_ascii_case("gz"));
        if gzip {
            ext = path.file_stem().and_then(|s| extension(Path::new(s)));
        }
        let named = match ext.as_deref() {
            None => None,
            Some(e) => match by_extension(e) {
                Some(f) => Some(f),
                None if format.is_some() => None,
                None => {
                    return Err(format!(
                        "-o {shown}: cannot tell the format from \".{e}\" (expected .jsonl, .json, .ndjson, .csv or .parquet, .gz after jsonl or csv); give --format"
                    ))
                }
            },
        };
        let chosen = match (format, named) {
            (Some(f), Some(n)) if f != n => {
                return Err(format!(
                    "--format {} contradicts -o {shown}, a {} file name: drop --format or rename the file",
                    f.name(),
                    n.title()
                ))
            }
            (Some(f), _) => f,
            (None, Some(n)) => n,
            (None, None) => Format::Jsonl,
        };
        if gzip && chosen == Format::Parquet {
            return Err(format!(
                "-o {shown}: Parquet compresses its own columns and cannot be gzip'd: drop the .gz"
            ));
        }
        Ok(Target {
            format: chosen,
            gzip,
        })
    }
}

/// A date exported in UTC: microseconds since the epoch, serialized as
/// `YYYY-MM-DDTHH:MM:SS[.fff]Z` (see [`dates`]).
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Utc(pub i64);

impl Utc {
    /// The instant `s` names, if it is a date-time.
    pub fn parse(s: &str) -> Option<Utc> {
        dates::instant(s).map(Utc)
    }
}

impl std::fmt::Display for Utc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&dates::format_utc(self.0))
    }
}

impl Serialize for Utc {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// The exported shape of a record.
#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct Row<'a> {
    /// See the module docs.
    pub handle: &'a str,
    /// See the module docs.
    pub start: String,
    /// See the module docs.
    pub end: String,
    /// See the module docs.
    pub cidrs: Vec<String>,
    /// See the module docs.
    pub start_int: u32,
    /// See the module docs.
    pub end_int: u32,
    /// See the module docs.
    pub name: Option<&'a str>,
    /// See the module docs.
    #[serde(rename = "type")]
    pub net_type: Option<&'a str>,
    /// See the module docs.
    pub country: Option<&'a str>,
    /// See the module docs.
    pub registry: &'static str,
    /// See the module docs.
    pub parent_handle: Option<&'a str>,
    /// See the module docs.
    pub status: &'a [String],
    /// See the module docs.
    pub entities: &'a [Entity],
    /// See the module docs.
    pub registration: Option<Utc>,
    /// See the module docs.
    pub last_changed: Option<Utc>,
    /// See the module docs.
    pub queried: Option<String>,
    /// See the module docs.
    pub source_url: &'a str,
    /// See the module docs.
    pub fetched_at: Option<Utc>,
    /// See the module docs.
    pub placeholder: bool,
    /// A previous version's `valid_from` and `valid_until` (`--history`).
    #[serde(skip)]
    pub valid: Option<Valid>,
    /// Dates of the record that are not date-times (exported as null).
    #[serde(skip)]
    pub dates_unreadable: u8,
}

/// The validity of a previous version (see the module docs).
#[derive(Serialize, Debug, Clone, Copy, PartialEq, Eq)]
pub struct Valid {
    /// Its `fetched_at`.
    pub valid_from: Option<Utc>,
    /// When it was replaced or found gone.
    pub valid_until: Option<Utc>,
}

impl<'a> Row<'a> {
    /// The exported view of a stored record.
    pub fn of(r: &'a Record) -> Row<'a> {
        let n = &r.network;
        let mut unreadable = 0;
        let mut date = |s: Option<&str>| {
            let s = s?;
            let d = Utc::parse(s);
            unreadable += u8::from(d.is_none());
            d
        };
        let registration = date(n.registration.as_deref());
        let last_changed = date(n.last_changed.as_deref());
        let fetched_at = date(Some(&r.fetched_at));
        Row {
            handle: &n.handle,
            start: fmt_addr(n.range.start),
            end: fmt_addr(n.range.end),
            cidrs: n.range.to_cidrs().iter().map(ToString::to_string).collect(),
            start_int: n.range.start,
            end_int: n.range.end,
            name: n.name.as_deref(),
            net_type: n.net_type.as_deref(),
            country: n.country.as_deref(),
            registry: r.registry.name(),
            parent_handle: n.parent_handle.as_deref(),
            status: &n.status,
            entities: &n.entities,
            registration,
            last_changed,
            queried: r.queried.map(fmt_addr),
            source_url: &r.source_url,
            fetched_at,
            placeholder: n.placeholder,
            valid: None,
            dates_unreadable: unreadable,
        }
    }

    /// The exported view of a previous version.
    pub fn of_version(v: &'a Version) -> Row<'a> {
        let mut row = Row::of(&v.record);
        let until = Utc::parse(&v.valid_until);
        row.dates_unreadable += u8::from(until.is_none());
        row.valid = Some(Valid {
            valid_from: row.fetched_at,
            valid_until: until,
        });
        row
    }
}

/// CSV header, in [`Row`] order (`,raw` follows with `--raw`).
pub const CSV_HEADER: &str = "handle,start,end,cidrs,start_int,end_int,name,type,country,registry,parent_handle,status,entities,registration,last_changed,queried,source_url,fetched_at,placeholder";

/// What export options change.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct Options {
    /// Add the `raw` field (the stored answer).
    pub raw: bool,
    /// Add the `valid_from` and `valid_until` fields (previous versions).
    pub history: bool,
}

/// A stored answer as the JSON Lines `raw` member.
enum RawJson {
    Null,
    Json(Box<serde_json::value::RawValue>),
    Text(String),
}

impl RawJson {
    fn of(raw: Option<&[u8]>) -> RawJson {
        let Some(raw) = raw else {
            return RawJson::Null;
        };
        text::json_one_line(raw)
            .and_then(|line| serde_json::value::RawValue::from_string(line).ok())
            .map_or_else(
                || RawJson::Text(String::from_utf8_lossy(raw).into_owned()),
                RawJson::Json,
            )
    }
}

impl Serialize for RawJson {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            RawJson::Null => s.serialize_none(),
            RawJson::Json(v) => v.serialize(s),
            RawJson::Text(t) => s.serialize_str(t),
        }
    }
}

/// A row with its validity and raw answer (JSON Lines with `--history`
/// or `--raw`).
#[derive(Serialize)]
struct Line<'r, 'a> {
    #[serde(flatten)]
    row: &'r Row<'a>,
    #[serde(flatten)]
    valid: Option<Valid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    raw: Option<RawJson>,
}

enum Sink<W: Write + Send> {
    Jsonl(W),
    Csv {
        out: W,
        header_done: bool,
    },
    Parquet(Box<parquet::Writer<W>>),
    /// Parquet before the first record (its writer is made on first use).
    ParquetPending(W),
    /// Only while a Parquet writer is being made (or after it failed).
    Gone,
}

/// Writes records one by one.
pub struct Writer<W: Write + Send> {
    sink: Sink<W>,
    options: Options,
    /// Records written.
    pub count: u64,
    /// Dates that were not date-times, exported as null (see the module docs).
    pub dates_unreadable: u64,
}

impl<W: Write + Send> Writer<W> {
    /// A writer in `format` with the default options.
    pub fn new(out: W, format: Format) -> Writer<W> {
        Writer::with_options(out, format, Options::default())
    }

    /// A writer in `format` with `options`.
    pub fn with_options(out: W, format: Format, options: Options) -> Writer<W> {
        let sink = match format {
            Format::Jsonl => Sink::Jsonl(out),
            Format::Csv => Sink::Csv {
                out,
                header_done: false,
            },
            Format::Parquet => Sink::ParquetPending(out),
        };
        Writer {
            sink,
            options,
            count: 0,
            dates_unreadable: 0,
        }
    }

    /// Writes one record (without its raw answer: `raw` is `null`).
    pub fn write(&mut self, r: &Record) -> io::Result<()> {
        self.write_with_raw(r, None)
    }

    /// Writes one record and, with [`Options::raw`], its raw answer.
    pub fn write_with_raw(&mut self, r: &Record, raw: Option<&[u8]>) -> io::Result<()> {
        self.write_row(&Row::of(r), raw)
    }

    /// Writes one previous version (with [`Options::history`]).
    pub fn write_version(&mut self, v: &Version) -> io::Result<()> {
        self.write_row(&Row::of_version(v), None)
    }

    fn write_row(&mut self, row: &Row<'_>, raw: Option<&[u8]>) -> io::Result<()> {
        self.dates_unreadable += u64::from(row.dates_unreadable);
        let with_raw = self.options.raw;
        let history = self.options.history;
        if let Sink::ParquetPending(_) = self.sink {
            self.start_parquet()?;
        }
        match &mut self.sink {
            Sink::Jsonl(out) => {
                if with_raw || history {
                    let line = Line {
                        row,
                        valid: history.then(|| row.valid.unwrap_or(NO_VALIDITY)),
                        raw: with_raw.then(|| RawJson::of(raw)),
                    };
                    text::write_json_line(out, &line)?;
                } else {
                    text::write_json_line(out, row)?;
                }
            }
            Sink::Csv { out, header_done } => {
                if !*header_done {
                    write_csv_header(out, self.options)?;
                    *header_done = true;
                }
                let valid = history.then(|| row.valid.unwrap_or(NO_VALIDITY));
                write_csv_row(out, row, valid, with_raw.then(|| RawJson::of(raw)))?;
            }
            Sink::Parquet(w) => w.push(row, raw)?,
            Sink::ParquetPending(_) | Sink::Gone => {
                return Err(io::Error::other("the Parquet writer failed earlier"))
            }
        }
        self.count += 1;
        Ok(())
    }

    fn start_parquet(&mut self) -> io::Result<()> {
        if let Sink::ParquetPending(out) = std::mem::replace(&mut self.sink, Sink::Gone) {
            self.sink = Sink::Parquet(Box::new(parquet::Writer::with_history(
                out,
                self.options.raw,
                self.options.history,
            )?));
        }
        Ok(())
    }

    /// Ends the output (the CSV header even when there are no records, the
    /// Parquet footer), flushes, and returns the inner writer.
    pub fn finish(mut self) -> io::Result<W> {
        if let Sink::ParquetPending(_) = self.sink {
            self.start_parquet()?;
        }
        let mut out = match self.sink {
            Sink::Jsonl(out) => out,
            Sink::Csv {
                mut out,
                header_done,
            } => {
                if !header_done {
                    write_csv_header(&mut out, self.options)?;
                }
                out
            }
            Sink::Parquet(w) => w.finish()?,
            Sink::ParquetPending(_) | Sink::Gone => {
                return Err(io::Error::other("the Parquet writer failed earlier"))
            }
        };
        out.flush()?;
        Ok(out)
    }
}

/// The validity of a row that has none (not a previous version).
const NO_VALIDITY: Valid = Valid {
    valid_from: None,
    valid_until: None,
};

fn write_csv_header(out: &mut impl Write, options: Options) -> io::Result<()> {
    out.write_all(CSV_HEADER.as_bytes())?;
    if options.history {
        out.write_all(b",valid_from,valid_until")?;
    }
    if options.raw {
        out.write_all(b",raw")?;
    }
    out.write_all(b"\n")
}

fn write_csv_row(
    out: &mut impl Write,
    row: &Row<'_>,
    valid: Option<Valid>,
    raw: Option<RawJson>,
) -> io::Result<()> {
    let date = |d: Option<Utc>| d.map(|d| d.to_string()).unwrap_or_default();
    let mut fields: Vec<String> = vec![
        row.handle.to_string(),
        row.start.clone(),
        row.end.clone(),
        text::to_json_string(&row.cidrs)?,
        row.start_int.to_string(),
        row.end_int.to_string(),
        row.name.unwrap_or("").to_string(),
        row.net_type.unwrap_or("").to_string(),
        row.country.unwrap_or("").to_string(),
        row.registry.to_string(),
        row.parent_handle.unwrap_or("").to_string(),
        text::to_json_string(&row.status)?,
        text::to_json_string(&row.entities)?,
        date(row.registration),
        date(row.last_changed),
        row.queried.clone().unwrap_or_default(),
        row.source_url.to_string(),
        date(row.fetched_at),
        if row.placeholder { "true" } else { "false" }.to_string(),
    ];
    if let Some(v) = valid {
        fields.push(date(v.valid_from));
        fields.push(date(v.valid_until));
    }
    match raw {
        None => {}
        Some(RawJson::Null) => fields.push(String::new()),
        Some(r) => fields.push(text::to_json_string(&r)?),
    }
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            out.write_all(b",")?;
        }
        write_csv_field(out, &text::escape_controls(f))?;
    }
    out.write_all(b"\n")
}

fn write_csv_field(out: &mut impl Write, f: &str) -> io::Result<()> {
    if f.contains([',', '"', '\n', '\r']) {
        out.write_all(b"\"")?;
        out.write_all(f.replace('"', "\"\"").as_bytes())?;
        out.write_all(b"\"")
    } else {
        out.write_all(f.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prefix::Range;
    use crate::rdap::{Network, Registry};
    use ::parquet::file::reader::{FileReader, SerializedFileReader};
    use ::parquet::record::{Field, List, Row as PqRow};

    fn rec() -> Record {
        Record {
            registry: Registry::Arin,
            network: Network {
                handle: "NET-13-64-0-0-1".into(),
                range: Range::new(0x0D40_0000, 0x0D6B_FFFF).unwrap(),
                name: Some("MSFT, \"quoted\"".into()),
                net_type: Some("DIRECT ALLOCATION".into()),
                country: None,
                parent_handle: Some("NET-13-0-0-0-0".into()),
                parent_range: None,
                up_link: None,
                status: vec!["active".into()],
                entities: vec![Entity {
                    handle: Some("MSFT".into()),
                    roles: vec!["registrant".into()],
                    name: Some("Microsoft Corporation".into()),
                    email: None,
                }],
                registration: Some("2017-10-18T14:39:41-04:00".into()),
                last_changed: None,
                placeholder: false,
            },
            queried: Some(0x0D68_0000),
            source_url: "https://rdap.arin.net/registry/ip/13.104.0.0".into(),
            fetched_at: "2026-11-27T00:00:00Z".into(),
        }
    }

    /// A hostile record: control characters in the name, the handle and an
    /// entity, an offset date, an unreadable date, an entity without roles.
    fn hostile() -> Record {
        let mut r = rec();
        r.registry = Registry::Ripe;
        r.network.handle = "EVIL\u{9b}31m".into();
        r.network.range = Range::new(0xC100_0000, 0xC100_07FF).unwrap();
        r.network.name = Some(PWNED.into());
        r.network.country = Some("NL".into());
        r.network.status = vec!["active".into(), "assigned; pa".into()];
        r.network.registration = Some("2003-03-17T12:15:57+01:00".into());
        r.network.last_changed = Some("last tuesday".into());
        r.network.entities = vec![
            Entity {
                handle: Some("ABUSE\x07".into()),
                roles: vec!["abuse".into(), "technical".into()],
                name: None,
                email: Some("abuse@ripe.net".into()),
            },
            Entity::default(),
        ];
        r.queried = None;
        r
    }

    const PWNED: &str = "\x1b]0;pwned\x07";

    fn jsonl(records: &[Record], options: Options, raws: &[Option<&[u8]>]) -> String {
        let mut w = Writer::with_options(Vec::new(), Format::Jsonl, options);
        for (r, raw) in records
            .iter()
            .zip(raws.iter().chain(std::iter::repeat(&None)))
        {
            w.write_with_raw(r, *raw).unwrap();
        }
        String::from_utf8(w.finish().unwrap()).unwrap()
    }

    #[test]
    fn jsonl_has_every_documented_key() {
        let mut w = Writer::new(Vec::new(), Format::Jsonl);
        w.write(&rec()).unwrap();
        let out = w.finish().unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        for k in [
            "handle",
            "start",
            "end",
            "cidrs",
            "start_int",
            "end_int",
            "name",
            "type",
            "country",
            "registry",
            "parent_handle",
            "status",
            "entities",
            "registration",
            "last_changed",
            "queried",
            "source_url",
            "fetched_at",
            "placeholder",
        ] {
            assert!(v.get(k).is_some(), "missing {k}");
        }
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys.join(","), CSV_HEADER, "JSON keys in CSV order");
        assert!(v.get("raw").is_none(), "raw only with --raw");
        assert_eq!(v["start"], "13.64.0.0");
        assert_eq!(v["end"], "13.107.255.255");
        assert_eq!(v["start_int"], 222_298_112);
        assert_eq!(v["end_int"], 225_181_695);
        assert_eq!(
            v["cidrs"],
            serde_json::json!(["13.64.0.0/11", "13.96.0.0/13", "13.104.0.0/14"])
        );
        assert_eq!(v["country"], serde_json::Value::Null);
        assert_eq!(v["queried"], "13.104.0.0");
        assert_eq!(v["entities"][0]["email"], serde_json::Value::Null);
        // The same instant, in UTC.
        assert_eq!(v["registration"], "2017-10-18T18:39:41Z");
        assert_eq!(v["fetched_at"], "2026-11-27T00:00:00Z");
    }

    #[test]
    fn a_record_without_a_queried_address_exports_null() {
        let mut r = rec();
        r.queried = None;
        let mut w = Writer::new(Vec::new(), Format::Jsonl);
        w.write(&r).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&w.finish().unwrap()).unwrap();
        assert_eq!(v["queried"], serde_json::Value::Null);
        let mut w = Writer::new(Vec::new(), Format::Csv);
        w.write(&r).unwrap();
        let out = String::from_utf8(w.finish().unwrap()).unwrap();
        let row = out.lines().nth(1).unwrap();
        assert!(
            row.ends_with(
                ",,https://rdap.arin.net/registry/ip/13.104.0.0,2026-11-27T00:00:00Z,false"
            ),
            "{row}"
        );
    }

    #[test]
    fn csv_quotes_and_header() {
        let mut w = Writer::new(Vec::new(), Format::Csv);
        w.write(&rec()).unwrap();
        let out = String::from_utf8(w.finish().unwrap()).unwrap();
        let mut lines = out.lines();
        assert_eq!(lines.next(), Some(CSV_HEADER));
        let row = lines.next().unwrap();
        assert!(
            row.starts_with(
                "NET-13-64-0-0-1,13.64.0.0,13.107.255.255,\"[\"\"13.64.0.0/11\"\",\"\"13.96.0.0/13\"\",\"\"13.104.0.0/14\"\"]\",222298112,225181695,\"MSFT, \"\"quoted\"\"\","
            ),
            "{row}"
        );
        assert!(row.contains(",2017-10-18T18:39:41Z,"), "{row}");
        assert!(
            row.contains(",\"[\"\"active\"\"]\",\"[{\"\"handle\"\":\"\"MSFT\"\",\"\"roles\"\":[\"\"registrant\"\"],"),
            "{row}"
        );
        let empty = Writer::new(Vec::new(), Format::Csv).finish().unwrap();
        assert_eq!(String::from_utf8(empty).unwrap().trim(), CSV_HEADER);
        let empty = Writer::with_options(
            Vec::new(),
            Format::Csv,
            Options {
                raw: true,
                ..Options::default()
            },
        )
        .finish()
        .unwrap();
        assert_eq!(
            String::from_utf8(empty).unwrap().trim(),
            format!("{CSV_HEADER},raw")
        );
    }

    #[test]
    fn no_control_character_reaches_csv_or_jsonl_raw() {
        let raw = "{\"handle\":\"EVIL\",\"name\":\"\\u001b]0;pwned\\u0007\u{9b}\"}".to_string();
        for options in [
            Options::default(),
            Options {
                raw: true,
                ..Options::default()
            },
        ] {
            let text = jsonl(&[hostile()], options, &[Some(raw.as_bytes())]);
            assert!(!text.trim_end().chars().any(text::is_control), "{text:?}");
            let v: serde_json::Value = serde_json::from_str(&text).unwrap();
            // Decoded, the values are exactly what the server sent.
            assert_eq!(v["name"], PWNED);
            assert_eq!(v["handle"], "EVIL\u{9b}31m");
            assert_eq!(v["entities"][0]["handle"], "ABUSE\x07");

            let mut w = Writer::with_options(Vec::new(), Format::Csv, options);
            w.write_with_raw(&hostile(), Some(raw.as_bytes())).unwrap();
            let csv = String::from_utf8(w.finish().unwrap()).unwrap();
            assert_eq!(csv.lines().count(), 2, "{csv}");
            assert!(
                !csv.chars().any(|c| c != '\n' && text::is_control(c)),
                "{csv:?}"
            );
            let row = csv.lines().nth(1).unwrap();
            assert!(row.starts_with("EVIL\\u009b31m,"), "{row}");
            assert!(row.contains(",\\u001b]0;pwned\\u0007,"), "{row}");
        }
    }

    #[test]
    fn dates_are_utc_and_unreadable_ones_null_and_counted() {
        let mut w = Writer::new(Vec::new(), Format::Jsonl);
        w.write(&rec()).unwrap();
        w.write(&hostile()).unwrap();
        assert_eq!(w.dates_unreadable, 1);
        let text = String::from_utf8(w.finish().unwrap()).unwrap();
        let rows: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(rows[1]["registration"], "2003-03-17T11:15:57Z");
        assert_eq!(rows[1]["last_changed"], serde_json::Value::Null);
        for r in &rows {
            for k in ["registration", "last_changed", "fetched_at"] {
                if let Some(s) = r[k].as_str() {
                    assert!(s.ends_with('Z') && Utc::parse(s).is_some(), "{k}: {s}");
                }
            }
        }
    }

    #[test]
    fn raw_answers_are_json_values_or_strings() {
        let answer = b"{\n  \"handle\": \"NET-13-64-0-0-1\",\n  \"events\": [ {\"eventDate\": \"2017-10-18T14:39:41-04:00\"} ]\n}\n";
        let rpsl = b"inetnum: 193.0.0.0 - 193.0.7.255\nnetname: RIPE-NCC\n";
        let text = jsonl(
            &[rec(), hostile(), rec()],
            Options {
                raw: true,
                ..Options::default()
            },
            &[Some(answer), Some(rpsl), None],
        );
        let rows: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(text.lines().count(), 3, "one line per record: {text}");
        assert_eq!(rows[0]["raw"]["handle"], "NET-13-64-0-0-1");
        // The original date string is in the raw answer.
        assert_eq!(
            rows[0]["raw"]["events"][0]["eventDate"],
            "2017-10-18T14:39:41-04:00"
        );
        assert_eq!(
            rows[0]["raw"],
            serde_json::from_slice::<serde_json::Value>(answer).unwrap()
        );
        assert_eq!(rows[1]["raw"], std::str::from_utf8(rpsl).unwrap());
        assert_eq!(rows[2]["raw"], serde_json::Value::Null);
        assert_eq!(rows[0]["placeholder"], false, "row keys stay before raw");

        let mut w = Writer::with_options(
            Vec::new(),
            Format::Csv,
            Options {
                raw: true,
                ..Options::default()
            },
        );
        w.write_with_raw(&rec(), Some(answer)).unwrap();
        w.write_with_raw(&rec(), None).unwrap();
        let csv = String::from_utf8(w.finish().unwrap()).unwrap();
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines.len(), 3, "{csv}");
        assert!(
            lines[1].ends_with(",false,\"{\"\"handle\"\":\"\"NET-13-64-0-0-1\"\",\"\"events\"\":[{\"\"eventDate\"\":\"\"2017-10-18T14:39:41-04:00\"\"}]}\""),
            "{}",
            lines[1]
        );
        assert!(lines[2].ends_with(",false,"), "{}", lines[2]);
    }

    #[test]
    fn targets_follow_the_extension_and_refuse_contradictions() {
        let t = |f: Option<Format>, p: &str| Target::of(f, Some(Path::new(p)));
        let ok = |format, gzip| Ok(Target { format, gzip });
        assert_eq!(Target::of(None, None), ok(Format::Jsonl, false));
        assert_eq!(
            Target::of(Some(Format::Parquet), None),
            ok(Format::Parquet, false)
        );
        assert_eq!(t(None, "x.csv"), ok(Format::Csv, false));
        assert_eq!(t(None, "dir.v2/x.CSV"), ok(Format::Csv, false));
        assert_eq!(t(None, "x.jsonl"), ok(Format::Jsonl, false));
        assert_eq!(t(None, "x.json"), ok(Format::Jsonl, false));
        assert_eq!(t(None, "x.ndjson"), ok(Format::Jsonl, false));
        assert_eq!(t(None, "x.parquet"), ok(Format::Parquet, false));
        assert_eq!(t(None, "x.csv.gz"), ok(Format::Csv, true));
        assert_eq!(t(None, "x.jsonl.gz"), ok(Format::Jsonl, true));
        assert_eq!(t(None, "x.gz"), ok(Format::Jsonl, true));
        assert_eq!(t(Some(Format::Csv), "x.gz"), ok(Format::Csv, true));
        assert_eq!(t(None, "networks"), ok(Format::Jsonl, false));
        assert_eq!(t(Some(Format::Csv), "networks"), ok(Format::Csv, false));
        assert_eq!(t(Some(Format::Csv), "x.csv"), ok(Format::Csv, false));
        assert_eq!(t(Some(Format::Jsonl), "x.json"), ok(Format::Jsonl, false));
        assert_eq!(t(Some(Format::Csv), "x.txt"), ok(Format::Csv, false));
        assert_eq!(t(Some(Format::Csv), "/dev/stdout"), ok(Format::Csv, false));

        let e = t(Some(Format::Jsonl), "x.csv").unwrap_err();
        assert!(
            e.contains("--format jsonl contradicts -o x.csv, a CSV file name"),
            "{e}"
        );
        let e = t(Some(Format::Parquet), "x.csv.gz").unwrap_err();
        assert!(
            e.contains("--format parquet contradicts -o x.csv.gz"),
            "{e}"
        );
        let e = t(Some(Format::Csv), "x.parquet").unwrap_err();
        assert!(e.contains("a Parquet file name"), "{e}");
        let e = t(None, "x.txt").unwrap_err();
        assert!(e.contains("\".txt\"") && e.contains("give --format"), "{e}");
        let e = t(None, "x.parquet.gz").unwrap_err();
        assert!(e.contains("cannot be gzip'd"), "{e}");
        let e = t(Some(Format::Parquet), "x.gz").unwrap_err();
        assert!(e.contains("cannot be gzip'd"), "{e}");
        for e in [e, t(None, "x.txt").unwrap_err()] {
            assert_eq!(e.lines().count(), 1, "{e}");
        }
    }

    fn parquet_of(records: &[(Record, Option<&[u8]>)], raw: bool, group: usize) -> Vec<u8> {
        let mut w = Writer::with_options(
            Vec::new(),
            Format::Parquet,
            Options {
                raw,
                ..Options::default()
            },
        );
        if group > 0 {
            w.start_parquet().unwrap();
            if let Sink::Parquet(p) = &mut w.sink {
                p.set_group_rows(group);
            }
        }
        for (r, a) in records {
            w.write_with_raw(r, *a).unwrap();
        }
        w.finish().unwrap()
    }

    fn read_rows(bytes: Vec<u8>) -> (SerializedFileReader<::bytes::Bytes>, Vec<PqRow>) {
        let reader = SerializedFileReader::new(::bytes::Bytes::from(bytes)).unwrap();
        let rows = reader
            .get_row_iter(None)
            .unwrap()
            .map(Result::unwrap)
            .collect();
        (reader, rows)
    }

    fn field<'r>(row: &'r PqRow, name: &str) -> &'r Field {
        row.get_column_iter()
            .find(|(n, _)| n.as_str() == name)
            .map_or_else(|| panic!("no column {name}"), |(_, f)| f)
    }

    fn strings(f: &Field) -> Vec<String> {
        let Field::ListInternal(list) = f else {
            panic!("not a list: {f:?}");
        };
        list_strings(list)
    }

    fn list_strings(list: &List) -> Vec<String> {
        list.elements()
            .iter()
            .map(|e| match e {
                Field::Str(s) => s.clone(),
                other => panic!("not a string: {other:?}"),
            })
            .collect()
    }

    #[test]
    fn parquet_has_typed_columns_and_reads_back() {
        let answer: &[u8] = b"{\"handle\":\"NET-13-64-0-0-1\"}";
        let bytes = parquet_of(&[(rec(), Some(answer)), (hostile(), None)], true, 0);
        assert!(bytes.starts_with(b"PAR1") && bytes.ends_with(b"PAR1"));
        let (reader, rows) = read_rows(bytes);
        let meta = reader.metadata();
        assert_eq!(meta.file_metadata().num_rows(), 2);
        let schema = meta.file_metadata().schema_descr();
        let kinds: Vec<(String, String)> = schema
            .columns()
            .iter()
            .map(|c| {
                (
                    c.path().string(),
                    format!("{:?} {:?}", c.physical_type(), c.logical_type_ref()),
                )
            })
            .collect();
        let kind = |p: &str| {
            kinds
                .iter()
                .find(|(n, _)| n == p)
                .map_or_else(|| panic!("no column {p}: {kinds:?}"), |(_, k)| k.clone())
        };
        for col in ["start_int", "end_int"] {
            assert_eq!(
                kind(col),
                "INT32 Some(Integer(IntType { bit_width: 32, is_signed: false }))"
            );
        }
        for col in ["registration", "last_changed", "fetched_at"] {
            assert_eq!(
                kind(col),
                "INT64 Some(Timestamp(TimestampType { is_adjusted_to_u_t_c: true, unit: MICROS }))"
            );
        }
        assert_eq!(kind("handle"), "BYTE_ARRAY Some(String)");
        assert_eq!(kind("placeholder"), "BOOLEAN None");
        for list in [
            "cidrs.list.element",
            "status.list.element",
            "entities.list.element.roles.list.element",
        ] {
            assert_eq!(kind(list), "BYTE_ARRAY Some(String)", "{list}");
        }
        kind("entities.list.element.email");
        kind("raw");

        let r = &rows[0];
        assert_eq!(field(r, "handle"), &Field::Str("NET-13-64-0-0-1".into()));
        assert_eq!(field(r, "start"), &Field::Str("13.64.0.0".into()));
        assert_eq!(field(r, "start_int"), &Field::UInt(222_298_112));
        assert_eq!(field(r, "end_int"), &Field::UInt(225_181_695));
        assert_eq!(
            strings(field(r, "cidrs")),
            ["13.64.0.0/11", "13.96.0.0/13", "13.104.0.0/14"]
        );
        assert_eq!(field(r, "country"), &Field::Null);
        assert_eq!(field(r, "registry"), &Field::Str("arin".into()));
        assert_eq!(strings(field(r, "status")), ["active"]);
        let micros = Utc::parse("2017-10-18T18:39:41Z").unwrap().0;
        assert_eq!(field(r, "registration"), &Field::TimestampMicros(micros));
        assert_eq!(field(r, "last_changed"), &Field::Null);
        assert_eq!(
            field(r, "fetched_at"),
            &Field::TimestampMicros(1_795_737_600_000_000)
        );
        assert_eq!(field(r, "queried"), &Field::Str("13.104.0.0".into()));
        assert_eq!(field(r, "placeholder"), &Field::Bool(false));
        assert_eq!(
            field(r, "raw"),
            &Field::Str(String::from_utf8(answer.to_vec()).unwrap())
        );
        let Field::ListInternal(ents) = field(r, "entities") else {
            panic!("entities is not a list");
        };
        assert_eq!(ents.elements().len(), 1);
        let Field::Group(e) = &ents.elements()[0] else {
            panic!("an entity is not a struct");
        };
        assert_eq!(field(e, "handle"), &Field::Str("MSFT".into()));
        assert_eq!(strings(field(e, "roles")), ["registrant"]);
        assert_eq!(
            field(e, "name"),
            &Field::Str("Microsoft Corporation".into())
        );
        assert_eq!(field(e, "email"), &Field::Null);

        // The hostile row: exact values, two entities (one empty), lists kept apart.
        let r = &rows[1];
        assert_eq!(field(r, "name"), &Field::Str(PWNED.into()));
        assert_eq!(strings(field(r, "status")), ["active", "assigned; pa"]);
        assert_eq!(field(r, "queried"), &Field::Null);
        assert_eq!(field(r, "raw"), &Field::Null);
        assert_eq!(field(r, "last_changed"), &Field::Null);
        let Field::ListInternal(ents) = field(r, "entities") else {
            panic!("entities is not a list");
        };
        let e: Vec<&PqRow> = ents
            .elements()
            .iter()
            .map(|f| match f {
                Field::Group(g) => g,
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(e.len(), 2);
        assert_eq!(strings(field(e[0], "roles")), ["abuse", "technical"]);
        assert_eq!(field(e[0], "email"), &Field::Str("abuse@ripe.net".into()));
        assert_eq!(field(e[0], "name"), &Field::Null);
        assert!(strings(field(e[1], "roles")).is_empty());
        assert_eq!(field(e[1], "handle"), &Field::Null);
    }

    #[test]
    fn parquet_row_groups_and_empty_files_read_back() {
        // Without --raw there is no raw column; an empty export is a valid file.
        let (reader, rows) = read_rows(parquet_of(&[], false, 0));
        assert!(rows.is_empty());
        let names: Vec<String> = reader
            .metadata()
            .file_metadata()
            .schema_descr()
            .columns()
            .iter()
            .map(|c| c.path().string())
            .collect();
        assert!(!names.iter().any(|n| n == "raw"), "{names:?}");
        assert_eq!(names.len(), 22, "{names:?}");

        // Rows across several row groups keep their order and levels.
        let mut records = Vec::new();
        for i in 0..7u32 {
            let mut r = if i % 2 == 0 { rec() } else { hostile() };
            r.network.range = Range::new(i << 8, (i << 8) | 0xff).unwrap();
            if i == 3 {
                r.network.entities.clear();
                r.network.status.clear();
            }
            records.push((r, None));
        }
        let (reader, rows) = read_rows(parquet_of(&records, false, 3));
        assert_eq!(reader.metadata().num_row_groups(), 3);
        assert_eq!(rows.len(), 7);
        for (i, r) in rows.iter().enumerate() {
            let want = Row::of(&records[i].0);
            assert_eq!(field(r, "start_int"), &Field::UInt(want.start_int));
            assert_eq!(strings(field(r, "status")), want.status);
            let Field::ListInternal(ents) = field(r, "entities") else {
                panic!("entities is not a list");
            };
            assert_eq!(ents.elements().len(), want.entities.len(), "row {i}");
        }
    }

    /// `--history`: every format gains `valid_from` and `valid_until` after
    /// `placeholder`; plain rows stay as they were.
    #[test]
    fn history_rows_carry_their_validity_in_every_format() {
        let v = Version {
            record: rec(),
            valid_until: "2027-01-02T03:04:05Z".into(),
        };
        let opts = Options {
            history: true,
            ..Options::default()
        };
        let mut w = Writer::with_options(Vec::new(), Format::Jsonl, opts);
        w.write_version(&v).unwrap();
        let out = String::from_utf8(w.finish().unwrap()).unwrap();
        let j: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
        assert_eq!(j["valid_from"], j["fetched_at"]);
        assert_eq!(j["valid_until"], "2027-01-02T03:04:05Z");
        assert!(j.get("raw").is_none());
        let keys: Vec<&String> = j.as_object().unwrap().keys().collect();
        assert_eq!(
            keys[keys.len() - 3..],
            ["placeholder", "valid_from", "valid_until"]
        );

        let mut w = Writer::with_options(Vec::new(), Format::Csv, opts);
        w.write_version(&v).unwrap();
        let out = String::from_utf8(w.finish().unwrap()).unwrap();
        let mut lines = out.lines();
        assert_eq!(
            lines.next().unwrap(),
            format!("{CSV_HEADER},valid_from,valid_until")
        );
        assert!(
            lines
                .next()
                .unwrap()
                .ends_with(",false,2026-11-27T00:00:00Z,2027-01-02T03:04:05Z"),
            "{out}"
        );

        let mut w = Writer::with_options(Vec::new(), Format::Parquet, opts);
        w.write_version(&v).unwrap();
        let (_, rows) = read_rows(w.finish().unwrap());
        assert_eq!(rows.len(), 1);
        let Field::TimestampMicros(until) = field(&rows[0], "valid_until") else {
            panic!("valid_until is no timestamp");
        };
        assert_eq!(*until, Utc::parse("2027-01-02T03:04:05Z").unwrap().0);
        assert_eq!(field(&rows[0], "valid_from"), field(&rows[0], "fetched_at"));
    }
}
