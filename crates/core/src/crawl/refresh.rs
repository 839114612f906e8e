//! `crawl --refresh [--max-age DURATION]`: a finished DB brought to the
//! registries' current state for the cost of the changes.
//!
//! 1. [`begin`] compares the statistics this crawl lays itself out by with
//!    the ones the last crawl used (stored in the DB: [`baseline`]). A block
//!    whose allocated or assigned record is new, changed (start, size,
//!    status, holder id, date, registry) or gone ([`diff`]) is to be asked
//!    again, and so is every network fetched longer than `--max-age` ago.
//!    That space loses its swept, searched and dumped marks and its gaps
//!    ([`Store::begin_refresh`]), so the ordinary crawl machinery asks it
//!    again at the crawl's depth (`--depth all`: every network of the
//!    block's subtree); free-space records only tell where not to skip,
//!    as in every crawl. The stored networks meeting it are the ones to
//!    verify: the crawl's climbs do not stop at them.
//! 2. The crawl runs. A fetched record equal to the stored one only
//!    updates `fetched_at`; a different one replaces it, the old version
//!    going to the history.
//! 3. [`finish`], once a crawl has finished with no failure left (the
//!    refresh, or any later crawl that resumes it): a network to verify
//!    that was not fetched again, and whose space the refresh's answers
//!    speak of, is gone: it leaves the current view for the history.
//!
//! Starting is one transaction (the marks cleared, the new baseline
//! stored), so an interrupted refresh resumes like any crawl: the next run
//! finds no new difference and asks what is still unmarked.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use serde::Serialize;

use crate::delegated::{self, source, Delegation};
use crate::prefix::{fmt_addr, Range};
use crate::rdap::Registry;
use crate::store::{RefreshEnd, RefreshStart, StatsFile, Store};
use crate::trie::IntervalSet;

use super::layout::Statistics;
use super::Error;

/// What differs between two sets of delegated records.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Diff {
    /// Allocated/assigned records whose start no earlier record had.
    pub new: Vec<Delegation>,
    /// Records at a start an earlier one had, with other values: (old, new).
    pub changed: Vec<(Delegation, Delegation)>,
    /// Earlier records whose start no current record has.
    pub gone: Vec<Delegation>,
}

impl Diff {
    /// The space of every differing record, old and new.
    pub fn space(&self) -> IntervalSet {
        IntervalSet::from_ranges(
            self.new
                .iter()
                .chain(self.gone.iter())
                .chain(self.changed.iter().flat_map(|(a, b)| [a, b]))
                .map(|d| d.range),
        )
    }
}

/// What a record says about a block: start, size, status, holder id,
/// date, registry.
type Print<'a> = (
    u32,
    u32,
    &'static str,
    Option<&'a str>,
    Option<&'a str>,
    Registry,
);

fn print(d: &Delegation) -> Print<'_> {
    (
        d.range.start,
        d.range.end,
        d.status.name(),
        d.holder.as_deref(),
        d.date.as_deref(),
        d.registry,
    )
}

/// The allocated/assigned records of `old` and `new` that differ (free
/// space is left out: it only tells where not to skip).
pub fn diff(old: &[Delegation], new: &[Delegation]) -> Diff {
    let held = |v: &[Delegation]| -> BTreeMap<u32, Vec<Delegation>> {
        let mut m: BTreeMap<u32, Vec<Delegation>> = BTreeMap::new();
        for d in v.iter().filter(|d| d.status.is_delegated()) {
            m.entry(d.range.start).or_default().push(d.clone());
        }
        m
    };
    let (old, new) = (held(old), held(new));
    let mut out = Diff::default();
    for (start, now) in &new {
        match old.get(start) {
            None => out.new.extend(now.iter().cloned()),
            Some(was) => {
                let mut a: Vec<Print<'_>> = was.iter().map(print).collect();
                let mut b: Vec<Print<'_>> = now.iter().map(print).collect();
                a.sort_unstable();
                b.sort_unstable();
                if a != b {
                    for (x, y) in was.iter().zip(now.iter()) {
                        out.changed.push((x.clone(), y.clone()));
                    }
                    // Unequal counts: the rest is new or gone.
                    out.new.extend(now.iter().skip(was.len()).cloned());
                    out.gone.extend(was.iter().skip(now.len()).cloned());
                }
            }
        }
    }
    for (start, was) in &old {
        if !new.contains_key(start) {
            out.gone.extend(was.iter().cloned());
        }
    }
    out
}

/// The statistics `stats` uses, as files to store as the baseline of the
/// next refresh: each registry's records written back in the delegated
/// format (whatever their origin: fetched, stored, local or bundled).
pub fn baseline(stats: &Statistics, now: u64) -> Vec<StatsFile> {
    stats
        .used
        .iter()
        .map(|u| {
            let mut text = String::new();
            for d in u.delegations() {
                line(&mut text, d);
            }
            StatsFile {
                registry: u.registry,
                source: u.source.clone(),
                fetched_at: u.fetched_at.unwrap_or(now),
                date: u.date.clone(),
                serial: String::new(),
                bytes: text.into_bytes(),
            }
        })
        .collect()
}

/// One record as a delegated-statistics line.
fn line(text: &mut String, d: &Delegation) {
    let _ = writeln!(
        text,
        "{}|{}|ipv4|{}|{}|{}|{}|{}",
        source::stats_name(d.registry),
        d.cc.as_deref().unwrap_or("ZZ"),
        fmt_addr(d.range.start),
        d.range.len(),
        d.date.as_deref().unwrap_or("00000000"),
        d.status.name(),
        d.holder.as_deref().unwrap_or("")
    );
}

/// The records of stored baseline files.
pub fn read_baseline(files: &[StatsFile]) -> Vec<Delegation> {
    files
        .iter()
        .flat_map(|f| delegated::parse(&String::from_utf8_lossy(&f.bytes)).delegations)
        .collect()
}

/// What a refresh found and did (the crawl's JSON summary, `refresh`).
#[derive(Clone, Debug, Default, Serialize)]
pub struct Report {
    /// No statistics of an earlier crawl were stored: every block counts as new.
    pub no_baseline: bool,
    /// Blocks whose allocated/assigned record is new.
    pub new_blocks: usize,
    /// Blocks whose record changed.
    pub changed_blocks: usize,
    /// Blocks whose record is gone.
    pub gone_blocks: usize,
    /// Networks fetched longer than `--max-age` ago.
    pub aged_networks: usize,
    /// Addresses asked again.
    pub addresses: u64,
    /// Stored networks meeting that space, to be verified (asked again).
    pub networks_reasked: usize,
    /// Of those, found gone (moved to the history).
    pub networks_gone: usize,
    /// Networks replaced by a different version (the old one in the history).
    pub networks_replaced: u64,
    /// Networks to verify that the refresh fetched again.
    pub networks_fetched_again: u64,
    /// Networks to verify no answer spoke of (kept as they were).
    pub networks_unverified: u64,
    /// Whether the refresh ended (a crawl finished with no failure left);
    /// if not, the next crawl continues it.
    pub finished: bool,
}

impl Report {
    /// The stderr line of a refresh's start.
    pub fn start_line(&self) -> String {
        let mut s = format!(
            "refresh: {} new, {} changed, {} gone blocks in the statistics",
            self.new_blocks, self.changed_blocks, self.gone_blocks
        );
        if self.aged_networks > 0 {
            let _ = write!(s, ", {} networks older than --max-age", self.aged_networks);
        }
        let _ = write!(
            s,
            ": asking {} addresses again ({} stored networks to verify)",
            self.addresses, self.networks_reasked
        );
        if self.no_baseline {
            s.push_str(" (no statistics of an earlier crawl stored: every block counts as new)");
        }
        s
    }

    /// The stderr line of a refresh's end.
    pub fn end_line(&self) -> String {
        if !self.finished {
            return "refresh: not finished; the next crawl continues it".into();
        }
        format!(
            "refresh: {} networks gone (now in the history), {} replaced by a newer version, {} fetched again unchanged or replaced, {} not reached and kept",
            self.networks_gone,
            self.networks_replaced,
            self.networks_fetched_again,
            self.networks_unverified
        )
    }
}

/// Starts a refresh of `store` by `stats` (see the module documentation):
/// networks fetched more than `max_age` before `now` (Unix seconds) are
/// asked again too.
pub fn begin(
    store: &Store,
    stats: &Statistics,
    max_age: Option<Duration>,
    now: u64,
) -> Result<Report, Error> {
    let stored = store.crawled_stats()?;
    let current: Vec<Delegation> = stats
        .used
        .iter()
        .flat_map(|u| u.delegations().iter().cloned())
        .collect();
    let d = diff(&read_baseline(&stored), &current);
    let mut space = d.space();
    let mut report = Report {
        no_baseline: stored.is_empty(),
        new_blocks: d.new.len(),
        changed_blocks: d.changed.len(),
        gone_blocks: d.gone.len(),
        ..Report::default()
    };
    if let Some(age) = max_age {
        let before = crate::time::rfc3339(now.saturating_sub(age.as_secs()));
        let mut aged: Vec<Range> = Vec::new();
        store
            .for_each_record(false, |r| {
                if r.fetched_at < before {
                    aged.push(r.network.range);
                }
                Ok(())
            })
            .map_err(|e| {
                Error::Store(crate::store::Error::Db {
                    table: "networks",
                    message: e.to_string(),
                })
            })?;
        report.aged_networks = aged.len();
        space = space.union(&IntervalSet::from_ranges(aged));
    }
    report.addresses = space.address_count();
    let since = crate::time::rfc3339(now);
    store.begin_refresh(&RefreshStart {
        space: &space,
        baseline: &baseline(stats, now),
        since: &since,
    })?;
    report.networks_reasked = store.refresh_targets()?.len();
    Ok(report)
}

/// A crawl that is no refresh: stores its statistics as the baseline of
/// the next refresh if none is stored yet (the statistics the DB was
/// crawled by).
pub fn keep_first_baseline(store: &Store, stats: &Statistics, now: u64) -> Result<(), Error> {
    store.set_crawled_stats_once(&baseline(stats, now))?;
    Ok(())
}

/// Ends the pending refresh after a finished crawl with no failure left
/// (see [`Store::finish_refresh`]); fills `report`'s end figures.
pub fn finish(store: &Store, now: u64, report: &mut Report) -> Result<RefreshEnd, Error> {
    let end = store.finish_refresh(&crate::time::rfc3339(now))?;
    report.networks_gone = end.gone.len();
    report.networks_replaced = end.replaced;
    report.networks_fetched_again = end.fetched_again;
    report.networks_unverified = end.unverified;
    report.finished = true;
    Ok(end)
}

/// `7d`, `12h`, `30m`, `90s`, `2w` (a bare number: seconds) → a duration.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    let (num, unit) = t
        .find(|c: char| !c.is_ascii_digit())
        .map_or((t, ""), |i| t.split_at(i));
    let n: u64 = num
        .parse()
        .map_err(|_| format!("{s:?} is not a duration: expected e.g. 30d, 12h, 90m or 3600s"))?;
    let mult = match unit {
        "" | "s" => 1,
        "m" | "min" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        _ => {
            return Err(format!(
                "{s:?} is not a duration: unit {unit:?}, expected s, m, h, d or w"
            ))
        }
    };
    n.checked_mul(mult)
        .filter(|&v| v > 0)
        .map(Duration::from_secs)
        .ok_or_else(|| format!("{s:?} is not a duration greater than 0"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::delegated::Status;

    fn d(start: &str, size: u32, status: Status, holder: &str, date: &str) -> Delegation {
        let start = crate::prefix::parse_addr_lenient(start).unwrap();
        Delegation {
            registry: Registry::Ripe,
            cc: Some("NL".into()),
            range: Range::new(start, start + size - 1).unwrap(),
            date: Some(date.into()),
            status,
            holder: Some(holder.into()),
        }
    }

    #[test]
    fn only_allocated_and_assigned_differences_count() {
        let a = d("185.0.0.0", 1024, Status::Allocated, "h1", "20200101");
        let b = d("185.0.4.0", 1024, Status::Allocated, "h2", "20200101");
        let c = d("185.0.8.0", 1024, Status::Assigned, "h3", "20200101");
        let free = d("185.0.12.0", 1024, Status::Available, "", "");
        let old = vec![a.clone(), b.clone(), c.clone(), free.clone()];
        let renamed = Delegation {
            holder: Some("h9".into()),
            ..b.clone()
        };
        let fresh = d("185.0.12.0", 256, Status::Allocated, "h4", "20270101");
        let new = vec![a.clone(), renamed.clone(), fresh.clone()];
        let got = diff(&old, &new);
        assert_eq!(got.new, vec![fresh.clone()]);
        assert_eq!(got.changed, vec![(b.clone(), renamed)]);
        assert_eq!(got.gone, vec![c.clone()]);
        assert_eq!(
            got.space(),
            IntervalSet::from_ranges([b.range, c.range, fresh.range])
        );
        assert_eq!(diff(&old, &old), Diff::default(), "nothing changed");
        // A free record that changes is no difference.
        let shrunk = d("185.0.12.0", 512, Status::Available, "", "");
        assert_eq!(
            diff(&old, &[a, b, c, shrunk]),
            Diff::default(),
            "free space is no change"
        );
    }

    #[test]
    fn a_baseline_reads_back_as_the_records_it_was_made_of() {
        let recs = vec![
            d("185.0.0.0", 1024, Status::Allocated, "h1", "20200101"),
            Delegation {
                cc: None,
                date: None,
                holder: None,
                registry: Registry::Arin,
                ..d("23.0.0.0", 65_536, Status::Assigned, "x", "20200101")
            },
        ];
        let mut text = String::new();
        for d in &recs {
            line(&mut text, d);
        }
        let f = StatsFile {
            registry: Registry::Ripe,
            source: "x".into(),
            fetched_at: 0,
            date: None,
            serial: String::new(),
            bytes: text.into_bytes(),
        };
        assert_eq!(read_baseline(&[f]), recs);
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30d"), Ok(Duration::from_secs(30 * 86_400)));
        assert_eq!(parse_duration("12h"), Ok(Duration::from_secs(43_200)));
        assert_eq!(parse_duration("90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("2w"), Ok(Duration::from_secs(1_209_600)));
        for bad in ["", "d", "0d", "3y", "-1d", "1.5d"] {
            let e = parse_duration(bad).unwrap_err();
            assert!(e.contains("duration"), "{bad}: {e}");
        }
    }
}
