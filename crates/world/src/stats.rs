//! The world's own delegated statistics: one
//! `delegated-{arin,ripencc,apnic,lacnic,afrinic}-extended-latest` file per
//! registry in the real "RIR statistics exchange format", consistent with the
//! model, so that tests and the demo get their statistics the way a crawl
//! does: over HTTP, each registry's server answering `GET /`[`url_path`]
//! (`crawl --stats NAME=BASE_URL`), or as files (`crawl --delegated FILE`).
//!
//! ```text
//! 2|ripencc|1787313600|21341|19700101|20260821|+0200
//! ripencc|*|ipv4|*|21341|summary
//! ripencc|NL|ipv4|185.0.0.0|1024|20131126|allocated|e773719f
//! ripencc||ipv4|185.0.4.0|512||available|
//! ```
//!
//! - The version line carries each registry's real header shape (ARIN's
//!   `2.3` and millisecond serial, RIPE NCC's Unix-time serial, APNIC's and
//!   LACNIC's and AFRINIC's date serials, their start dates and UTC offsets)
//!   with the epoch's date ([`crate::epoch::epoch_date`]) as end date; one
//!   `ipv4` summary line follows (no asn or ipv6 records are written).
//! - Every top-level network is an `allocated`/`assigned` record of its
//!   holder registry, with the country, `date` and opaque id its input record
//!   had ([`crate::model::Record`]: empty where the bundled snapshot has none,
//!   as for APNIC's non-extended file and the derived ARIN records), changed
//!   as [`crate::epoch`] describes in an aged world.
//! - Free space — the parts of the scope no top-level network covers — is
//!   listed by the registry the IANA bootstrap gives it to (also where a
//!   transferred block was returned), as `reserved` where the input said so
//!   and `available` elsewhere, cut at /8 boundaries.
//!
//! Parsed back with [`ipcrawl_core::delegated::parse`] these records rebuild
//! the same world: the same networks at epoch 0 (tested), and in an aged world
//! the same top-level networks and the same subtree under every block whose
//! record has not changed since epoch 0.

use std::fmt::Write as _;
use std::io;
use std::path::{Path, PathBuf};

use ipcrawl_core::delegated::{Delegation, Status};
use ipcrawl_core::prefix::{fmt_addr, Range};
use ipcrawl_core::rdap::Registry;

use super::epoch::{compact, epoch_date, epoch_day};
use super::model::{Kind, Model};

pub use ipcrawl_core::delegated::source::{file_name, stats_name, url_path};

/// `ranges` minus `holes` (both sorted by start; `holes` disjoint).
pub(crate) fn subtract(ranges: &[Range], holes: &[Range]) -> Vec<Range> {
    let mut out = Vec::new();
    let mut h = 0;
    for r in ranges {
        let mut cur = u64::from(r.start);
        let end = u64::from(r.end);
        while h < holes.len() && u64::from(holes[h].end) < cur {
            h += 1;
        }
        let mut k = h;
        while cur <= end {
            match holes.get(k) {
                Some(x) if u64::from(x.start) <= end => {
                    if u64::from(x.start) > cur {
                        out.push(Range {
                            start: cur as u32,
                            end: x.start - 1,
                        });
                    }
                    cur = cur.max(u64::from(x.end) + 1);
                    k += 1;
                }
                _ => {
                    out.push(Range {
                        start: cur as u32,
                        end: end as u32,
                    });
                    break;
                }
            }
        }
    }
    out
}

/// The scope's free space (no top-level network on it), cut at bootstrap
/// block (/8) boundaries, with the registry the bootstrap gives it to; in
/// address order.
pub fn free_space(model: &Model) -> Vec<(Range, Registry)> {
    let tops: Vec<Range> = model
        .nets
        .iter()
        .filter(|n| n.depth == 0)
        .map(|n| n.range)
        .collect();
    let mut pieces: Vec<(Range, Registry)> = Vec::new();
    for s in &model.scope {
        let mut x = u64::from(s.start);
        while x <= u64::from(s.end) {
            let a = x as u32;
            let block_end = model
                .bootstrap
                .block(a)
                .map_or(a | 0x00FF_FFFF, |c| c.range().end)
                .min(a | 0x00FF_FFFF)
                .min(s.end);
            if let Some(r) = model.bootstrap.registry(a) {
                pieces.push((
                    Range {
                        start: a,
                        end: block_end,
                    },
                    r,
                ));
            }
            x = u64::from(block_end) + 1;
        }
    }
    let ranges: Vec<Range> = pieces.iter().map(|(p, _)| *p).collect();
    // Each free range lies inside one piece (pieces are never merged).
    subtract(&ranges, &tops)
        .into_iter()
        .filter_map(|f| model.bootstrap.registry(f.start).map(|r| (f, r)))
        .collect()
}

/// Free ranges cut into reserved and available parts.
fn label_free(free: Range, reserved: &[Range]) -> Vec<(Range, Status)> {
    let mut inside: Vec<Range> = reserved.iter().filter_map(|x| x.intersect(&free)).collect();
    inside.sort_unstable();
    // Merge overlaps so the subtraction sees disjoint holes (adjacent
    // records stay apart, as the input listed them).
    let mut merged: Vec<Range> = Vec::new();
    for x in inside {
        match merged.last_mut() {
            Some(m) if x.start <= m.end => m.end = m.end.max(x.end),
            _ => merged.push(x),
        }
    }
    let mut out: Vec<(Range, Status)> = merged.iter().map(|x| (*x, Status::Reserved)).collect();
    out.extend(
        subtract(&[free], &merged)
            .into_iter()
            .map(|x| (x, Status::Available)),
    );
    out.sort_unstable_by_key(|(x, _)| x.start);
    out
}

/// The registry's records, in address order: its top-level networks and
/// the free space the bootstrap gives it.
pub fn records(model: &Model, r: Registry) -> Vec<Delegation> {
    let mut out: Vec<Delegation> = model
        .nets
        .iter()
        .filter(|n| n.depth == 0 && n.registry == r)
        .map(|n| {
            let (status, date, holder) = match &n.record {
                Some(rec) => (rec.status, rec.date.clone(), rec.holder_id.clone()),
                None => (
                    if n.kind == Kind::Assignment {
                        Status::Assigned
                    } else {
                        Status::Allocated
                    },
                    Some(compact(&n.registered)),
                    None,
                ),
            };
            Delegation {
                registry: r,
                cc: n.cc.clone(),
                range: n.range,
                date,
                status,
                holder,
            }
        })
        .collect();
    for (f, _) in free_space(model).into_iter().filter(|(_, g)| *g == r) {
        for (range, status) in label_free(f, &model.reserved) {
            out.push(Delegation {
                registry: r,
                cc: None,
                range,
                date: None,
                status,
                holder: None,
            });
        }
    }
    out.sort_by_key(|d| d.range.start);
    out
}

/// The version line of the registry's file, dated `date` (`YYYYMMDD`).
fn header(r: Registry, date: &str, day: i64, n: usize) -> String {
    let secs = day * 86_400 + 12 * 3600;
    let name = stats_name(r);
    match r {
        Registry::Arin => format!("2.3|{name}|{}|{n}|19700101|{date}|-0400", secs * 1000),
        Registry::Ripe => format!("2|{name}|{secs}|{n}|19700101|{date}|+0200"),
        Registry::Apnic => {
            let before = compact(&super::epoch::day_string(day - 1));
            format!("2|{name}|{date}|{n}|19830613|{before}|+1000")
        }
        Registry::Lacnic => format!("2.3|{name}|{date}|{n}|19870101|{date}|-0300"),
        Registry::Afrinic => format!("2|{name}|{date}|{n}|00000000|{date}|00000"),
    }
}

/// One record line.
fn line(out: &mut String, d: &Delegation) {
    let name = stats_name(d.registry);
    let cc = match (&d.cc, d.status.is_delegated(), d.registry) {
        (Some(cc), _, _) => cc.as_str(),
        (None, true, _) | (None, false, Registry::Afrinic) => "ZZ",
        (None, false, _) => "",
    };
    let _ = writeln!(
        out,
        "{name}|{cc}|ipv4|{}|{}|{}|{}|{}",
        fmt_addr(d.range.start),
        d.range.len(),
        d.date.as_deref().unwrap_or(""),
        d.status.name(),
        d.holder.as_deref().unwrap_or("")
    );
}

/// The registry's `delegated-*-extended-latest` file for the model's epoch.
pub fn render(model: &Model, r: Registry) -> Vec<u8> {
    let recs = records(model, r);
    let day = epoch_day(model.epoch);
    let date = compact(&epoch_date(model.epoch));
    let mut out = String::with_capacity(recs.len() * 64 + 256);
    if r == Registry::Apnic {
        out.push_str(
            "#\n# CONDITIONS OF USE: see https://www.apnic.net/\n# (the ipcrawl local world's statistics, in APNIC's format)\n#\n",
        );
    }
    out.push_str(&header(r, &date, day, recs.len()));
    out.push('\n');
    let _ = writeln!(out, "{}|*|ipv4|*|{}|summary", stats_name(r), recs.len());
    for d in &recs {
        line(&mut out, d);
    }
    out.into_bytes()
}

/// Writes the five files into `dir` (created if missing); returns their paths.
pub fn write_dir(model: &Model, dir: &Path) -> io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let mut paths = Vec::new();
    for r in Registry::ALL {
        let p = dir.join(file_name(r));
        std::fs::write(&p, render(model, r))?;
        paths.push(p);
    }
    Ok(paths)
}

#[cfg(test)]
mod tests;
