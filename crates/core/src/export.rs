//! Export: one record per stored network, as JSON Lines or CSV.
//!
//! # JSON Lines (`--format jsonl`, the default)
//!
//! One object per line, in address order:
//!
//! | key | type | meaning |
//! |---|---|---|
//! | `handle` | string | the registry's handle for the network |
//! | `start`, `end` | string | first and last address, dotted quads |
//! | `cidrs` | list of string | the exact CIDR decomposition of `start..end` (`"a.b.c.d/len"`) |
//! | `name` | string \| null | the network's `name` |
//! | `type` | string \| null | the network's `type`, as the registry wrote it |
//! | `country` | string \| null | the network object's own `country` (ARIN networks have none) |
//! | `registry` | string | `arin`, `ripe`, `apnic`, `lacnic` or `afrinic`: who answered |
//! | `parent_handle` | string \| null | `parentHandle` as sent (handle, CIDR or range) |
//! | `status` | list of string | status values, lower case |
//! | `entities` | list of object | `{handle, roles, name, email}` of each contact |
//! | `registration` | string \| null | registration date, as sent |
//! | `last_changed` | string \| null | last-changed date, as sent |
//! | `queried` | string \| null | the address whose lookup returned it (`null` for records no lookup returned, such as bulk-dump imports) |
//! | `source_url` | string | the URL that answered |
//! | `fetched_at` | string | RFC 3339 time of the answer |
//! | `placeholder` | bool | true only for placeholders (exported with `--placeholders`) |
//!
//! Absent values are `null`, never invented.
//!
//! # CSV (`--format csv`)
//!
//! A header line, then the same fields in the same order; `cidrs` are joined
//! with spaces, `status` with `;`, and `entities` is the JSON array. Fields
//! are quoted per RFC 4180 when needed.

use std::io::{self, Write};

use serde::Serialize;

use crate::prefix::fmt_addr;
use crate::rdap::Entity;
use crate::store::Record;

/// Output format.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Format {
    /// JSON Lines.
    Jsonl,
    /// CSV with a header.
    Csv,
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
    pub registration: Option<&'a str>,
    /// See the module docs.
    pub last_changed: Option<&'a str>,
    /// See the module docs.
    pub queried: Option<String>,
    /// See the module docs.
    pub source_url: &'a str,
    /// See the module docs.
    pub fetched_at: &'a str,
    /// See the module docs.
    pub placeholder: bool,
}

impl<'a> Row<'a> {
    /// The exported view of a stored record.
    pub fn of(r: &'a Record) -> Row<'a> {
        let n = &r.network;
        Row {
            handle: &n.handle,
            start: fmt_addr(n.range.start),
            end: fmt_addr(n.range.end),
            cidrs: n.range.to_cidrs().iter().map(ToString::to_string).collect(),
            name: n.name.as_deref(),
            net_type: n.net_type.as_deref(),
            country: n.country.as_deref(),
            registry: r.registry.name(),
            parent_handle: n.parent_handle.as_deref(),
            status: &n.status,
            entities: &n.entities,
            registration: n.registration.as_deref(),
            last_changed: n.last_changed.as_deref(),
            queried: r.queried.map(fmt_addr),
            source_url: &r.source_url,
            fetched_at: &r.fetched_at,
            placeholder: n.placeholder,
        }
    }
}

/// CSV header, in [`Row`] order.
pub const CSV_HEADER: &str = "handle,start,end,cidrs,name,type,country,registry,parent_handle,status,entities,registration,last_changed,queried,source_url,fetched_at,placeholder";

/// Writes records one by one.
pub struct Writer<W: Write> {
    out: W,
    format: Format,
    header_done: bool,
    /// Records written.
    pub count: u64,
}

impl<W: Write> Writer<W> {
    /// A writer in `format`.
    pub fn new(out: W, format: Format) -> Writer<W> {
        Writer {
            out,
            format,
            header_done: false,
            count: 0,
        }
    }

    /// Writes one record.
    pub fn write(&mut self, r: &Record) -> io::Result<()> {
        let row = Row::of(r);
        match self.format {
            Format::Jsonl => {
                serde_json::to_writer(&mut self.out, &row)?;
                self.out.write_all(b"\n")?;
            }
            Format::Csv => {
                if !self.header_done {
                    self.out.write_all(CSV_HEADER.as_bytes())?;
                    self.out.write_all(b"\n")?;
                    self.header_done = true;
                }
                let entities = serde_json::to_string(row.entities).map_err(io::Error::other)?;
                let fields: [&str; 17] = [
                    row.handle,
                    &row.start,
                    &row.end,
                    &row.cidrs.join(" "),
                    row.name.unwrap_or(""),
                    row.net_type.unwrap_or(""),
                    row.country.unwrap_or(""),
                    row.registry,
                    row.parent_handle.unwrap_or(""),
                    &row.status.join(";"),
                    &entities,
                    row.registration.unwrap_or(""),
                    row.last_changed.unwrap_or(""),
                    row.queried.as_deref().unwrap_or(""),
                    row.source_url,
                    row.fetched_at,
                    if row.placeholder { "true" } else { "false" },
                ];
                for (i, f) in fields.iter().enumerate() {
                    if i > 0 {
                        self.out.write_all(b",")?;
                    }
                    write_csv_field(&mut self.out, f)?;
                }
                self.out.write_all(b"\n")?;
            }
        }
        self.count += 1;
        Ok(())
    }

    /// Writes the CSV header even when there are no records, flushes, and
    /// returns the inner writer.
    pub fn finish(mut self) -> io::Result<W> {
        if self.format == Format::Csv && !self.header_done {
            self.out.write_all(CSV_HEADER.as_bytes())?;
            self.out.write_all(b"\n")?;
        }
        self.out.flush()?;
        Ok(self.out)
    }
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
        ] {
            assert!(v.get(k).is_some(), "missing {k}");
        }
        assert_eq!(v["start"], "13.64.0.0");
        assert_eq!(v["end"], "13.107.255.255");
        assert_eq!(
            v["cidrs"],
            serde_json::json!(["13.64.0.0/11", "13.96.0.0/13", "13.104.0.0/14"])
        );
        assert_eq!(v["country"], serde_json::Value::Null);
        assert_eq!(v["queried"], "13.104.0.0");
        assert_eq!(v["entities"][0]["email"], serde_json::Value::Null);
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
        assert!(row.starts_with("NET-13-64-0-0-1,13.64.0.0,13.107.255.255,13.64.0.0/11 13.96.0.0/13 13.104.0.0/14,\"MSFT, \"\"quoted\"\"\","));
        let empty = Writer::new(Vec::new(), Format::Csv).finish().unwrap();
        assert_eq!(String::from_utf8(empty).unwrap().trim(), CSV_HEADER);
    }
}
