//! Previous versions of networks (the `history` table), and what a refresh
//! keeps in the store: the statistics the last crawl used (`crawled_stats`),
//! the start of a refresh ([`Store::begin_refresh`]: the space to ask
//! again loses its swept, searched and dumped marks and its gaps) and its
//! end ([`Store::finish_refresh`]: networks found gone leave the current
//! view for the history). See [`super::schema`] for the layouts.
//!
//! A version enters the history when [`Store::apply`] replaces a network by
//! a *different* record of the same key (a newer fetch of equal content
//! only updates `fetched_at`), when a newer bulk dump no longer has it, when
//! a refresh finds it gone, and when a merge meets two different versions.
//! Its `valid_from` is its `fetched_at`, its `valid_until` the `fetched_at`
//! of the record that replaced it (or when it was found gone). Files
//! written before the table existed simply lack it: no history.

use redb::{ReadableTable, Table, TableError, WriteTransaction};

use crate::prefix::Range;
use crate::rdap::Registry;
use crate::trie::IntervalSet;

use super::codec::{self, seal, In, Out, Reason};
use super::compress::{Dicts, Unpacker};
use super::error::{corrupt, step, tbl};
use super::schema::{
    set_dumped, set_searched, set_to_search, HistKey, NetKey, Tag, CRAWLED_STATS, GAPS, HISTORY,
    META, NETWORKS, NETWORK_KEYS, PLACEHOLDERS, RAW, SET_REFRESH, SET_SWEPT_ALL, SET_SWEPT_TOP,
    SWEPT,
};
use super::{show_key, split_by_eight, Error, Level, Record, Result, StatsFile, Store};

/// `meta` key: when the pending refresh began (RFC 3339).
const REFRESH_SINCE: &str = "refresh.since";

/// A previous version of a network (`export --history`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Version {
    /// The record as it was stored; `fetched_at` is its `valid_from`.
    pub record: Record,
    /// When it stopped being the current record (RFC 3339): the fetch
    /// that replaced it, or when it was found gone.
    pub valid_until: String,
}

/// Seconds since 1970 of an RFC 3339 UTC time (`YYYY-MM-DDTHH:MM:SS…`); 0
/// when it is not one.
pub(crate) fn unix_of(t: &str) -> u64 {
    let b = t.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        t.get(r)
            .filter(|s| s.bytes().all(|c| c.is_ascii_digit()))?
            .parse()
            .ok()
    };
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || b[13] != b':' || b[16] != b':' {
        return 0;
    }
    let (Some(y), Some(m), Some(d), Some(hh), Some(mm), Some(ss)) = (
        num(0..4),
        num(5..7),
        num(8..10),
        num(11..13),
        num(14..16),
        num(17..19),
    ) else {
        return 0;
    };
    // Howard Hinnant's days from civil.
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    u64::try_from(days * 86_400 + hh * 3600 + mm * 60 + ss).unwrap_or(0)
}

/// A `history` value: when it ended, then the record's stored value.
fn history_value(until: &str, stored: &[u8]) -> Vec<u8> {
    let mut o = Out::default();
    o.str(until);
    o.0.extend_from_slice(stored);
    seal(Tag::History, &o.0)
}

/// A `history` value's end time and the record's stored value.
pub(super) fn open_history(bytes: &[u8]) -> std::result::Result<(String, &[u8]), Reason> {
    let mut i = In::new(codec::open(bytes, Tag::History)?);
    let until = i.str()?;
    Ok((until, i.rest()))
}

/// `start-end registry @valid_from`, for error messages.
fn show_hist(k: HistKey) -> String {
    format!(
        "{} @{}",
        show_key((k.0, k.1, k.2)),
        crate::time::rfc3339(k.3)
    )
}

/// Whether two versions of a network say the same: every field but the
/// `up` link (a URL of the server that answered, not the registration).
pub(super) fn same_content(a: &crate::rdap::Network, b: &crate::rdap::Network) -> bool {
    a.handle == b.handle
        && a.range == b.range
        && a.name == b.name
        && a.net_type == b.net_type
        && a.country == b.country
        && a.parent_handle == b.parent_handle
        && a.parent_range == b.parent_range
        && a.status == b.status
        && a.entities == b.entities
        && a.registration == b.registration
        && a.last_changed == b.last_changed
        && a.placeholder == b.placeholder
}

/// Whether `r` meets `set`.
fn overlaps(set: &IntervalSet, r: Range) -> bool {
    let rs = set.ranges();
    let i = rs.partition_point(|x| x.end < r.start);
    rs.get(i).is_some_and(|x| x.start <= r.end)
}

/// What [`Store::begin_refresh`] is given.
#[derive(Debug)]
pub struct RefreshStart<'a> {
    /// The space to ask again.
    pub space: &'a IntervalSet,
    /// The statistics this refresh lays itself out by: the next refresh
    /// compares with them.
    pub baseline: &'a [StatsFile],
    /// Now (RFC 3339): networks fetched before it, in `space`, are to be
    /// asked again.
    pub since: &'a str,
}

/// What [`Store::finish_refresh`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RefreshEnd {
    /// Networks found gone: moved to the history.
    pub gone: Vec<(Range, Registry, String)>,
    /// Networks of the refreshed space fetched again.
    pub fetched_again: u64,
    /// Networks of the refreshed space no answer of the refresh spoke of
    /// (nested networks a coverage-first refresh does not reach): kept.
    pub unverified: u64,
    /// Versions the refresh replaced by different ones (now in history).
    pub replaced: u64,
}

impl Store {
    /// Moves `stored` (the stored value of `old` at `key`) into the history,
    /// ended at `until`.
    pub(super) fn retire(
        hist: &mut Table<HistKey, &[u8]>,
        key: NetKey,
        old: &Record,
        stored: &[u8],
        until: &str,
    ) -> Result<()> {
        let hk = (key.0, key.1, key.2, unix_of(&old.fetched_at));
        hist.insert(hk, history_value(until, stored).as_slice())
            .map_err(tbl(&HISTORY))?;
        Ok(())
    }

    /// Calls `f` on every previous version, in address order (then
    /// registry, then `valid_from`).
    pub fn for_each_version(
        &self,
        mut f: impl FnMut(Version) -> std::result::Result<(), Box<dyn std::error::Error>>,
    ) -> std::result::Result<(), Box<dyn std::error::Error>> {
        let txn = self.read()?;
        let t = match txn.open_table(HISTORY) {
            Ok(t) => t,
            Err(TableError::TableDoesNotExist(_)) => return Ok(()),
            Err(e) => return Err(tbl(&HISTORY)(e).into()),
        };
        let mut u = Unpacker::new(self.dicts_snapshot());
        for item in t.iter().map_err(tbl(&HISTORY))? {
            let (k, v) = item.map_err(tbl(&HISTORY))?;
            let hk = k.value();
            let (valid_until, stored) =
                open_history(v.value()).map_err(|m| corrupt(&HISTORY, show_hist(hk), m))?;
            let record = self
                .decode_record(&mut u, &NETWORKS, (hk.0, hk.1, hk.2), stored)
                .map_err(|e| corrupt(&HISTORY, show_hist(hk), e))?;
            f(Version {
                record,
                valid_until,
            })?;
        }
        Ok(())
    }

    /// Every previous version (see [`Store::for_each_version`]).
    pub fn history(&self) -> Result<Vec<Version>> {
        let mut out = Vec::new();
        let mut err = None;
        let r = self.for_each_version(|v| {
            out.push(v);
            Ok(())
        });
        if let Err(e) = r {
            err = Some(e.to_string());
        }
        match err {
            Some(m) => Err(Error::Db {
                table: "history",
                message: m,
            }),
            None => Ok(out),
        }
    }

    /// The statistics the last crawl or refresh used, in registry order
    /// (none in a file without the table).
    pub fn crawled_stats(&self) -> Result<Vec<StatsFile>> {
        self.read_stats(&CRAWLED_STATS)
    }

    /// Replaces the statistics the last crawl used by `files`.
    fn put_crawled_stats(txn: &WriteTransaction, files: &[StatsFile]) -> Result<()> {
        let mut packer = super::write::packer_for(&Dicts::new())?;
        let mut t = txn.open_table(CRAWLED_STATS).map_err(tbl(&CRAWLED_STATS))?;
        t.retain(|_, _| false).map_err(tbl(&CRAWLED_STATS))?;
        for f in files {
            let value = codec::encode_stats(f, &packer.pack_plain(&f.bytes));
            t.insert(f.registry.index() as u8, value.as_slice())
                .map_err(tbl(&CRAWLED_STATS))?;
        }
        Ok(())
    }

    /// Stores `files` as the statistics the last crawl used, unless some
    /// are stored already (a crawl that is no refresh sets the baseline
    /// once: a later refresh compares with what the DB was crawled by).
    pub fn set_crawled_stats_once(&self, files: &[StatsFile]) -> Result<bool> {
        if !self.crawled_stats()?.is_empty() {
            return Ok(false);
        }
        let txn = self
            .rw()?
            .begin_write()
            .map_err(step("(statistics write)"))?;
        Self::put_crawled_stats(&txn, files)?;
        txn.commit().map_err(step("(statistics commit)"))?;
        Ok(true)
    }

    /// The space a refresh asks again and when it began, while one is
    /// pending (`None` when none is).
    pub fn refresh_pending(&self) -> Result<Option<(IntervalSet, String)>> {
        let space = self.load_set(SET_REFRESH)?;
        if space.is_empty() {
            return Ok(None);
        }
        let since = self
            .meta_plain(REFRESH_SINCE)?
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default();
        Ok(Some((space, since)))
    }

    /// The networks a pending refresh is to verify: stored before it began,
    /// meeting its space (a crawl's climbs do not stop at them).
    pub fn refresh_targets(&self) -> Result<Vec<(Range, Registry)>> {
        let Some((space, since)) = self.refresh_pending()? else {
            return Ok(Vec::new());
        };
        let txn = self.read()?;
        let t = txn.open_table(NETWORKS).map_err(tbl(&NETWORKS))?;
        let mut out = Vec::new();
        self.networks_meeting(&t, &space, |_, r, rec, _| {
            if rec.fetched_at < since {
                out.push((r, rec.registry));
            }
        })?;
        Ok(out)
    }

    /// Calls `f` with the key, range, record and stored bytes of every
    /// network of `t` (the `networks` table, read or written) meeting `space`.
    fn networks_meeting<T: ReadableTable<NetKey, &'static [u8]>>(
        &self,
        t: &T,
        space: &IntervalSet,
        mut f: impl FnMut(NetKey, Range, Record, &[u8]),
    ) -> Result<()> {
        let mut u = Unpacker::new(self.dicts_snapshot());
        for item in t.iter().map_err(tbl(&NETWORKS))? {
            let (k, v) = item.map_err(tbl(&NETWORKS))?;
            let key = k.value();
            let Some(r) = Range::new(key.0, key.1) else {
                continue;
            };
            if overlaps(space, r) {
                let rec = self.decode_record(&mut u, &NETWORKS, key, v.value())?;
                f(key, r, rec, v.value());
            }
        }
        Ok(())
    }

    /// Starts a refresh in one transaction: `space` loses its swept,
    /// searched and dumped marks and its gaps (so the crawl asks it again),
    /// joins the pending refresh's space, and the baseline statistics are
    /// replaced. A pending refresh keeps its start time.
    pub fn begin_refresh(&self, s: &RefreshStart<'_>) -> Result<()> {
        let txn = self.rw()?.begin_write().map_err(step("(refresh start)"))?;
        if !s.space.is_empty() {
            let mut sets = vec![SET_SWEPT_TOP, SET_SWEPT_ALL];
            for r in Registry::ALL {
                sets.extend([
                    set_searched(r, false),
                    set_searched(r, true),
                    set_dumped(r),
                    set_to_search(r),
                ]);
            }
            let pieces = split_by_eight(s.space.ranges());
            let mut t = txn.open_table(SWEPT).map_err(tbl(&SWEPT))?;
            for set in sets {
                for (chunk, rs) in &pieces {
                    let key = (set, *chunk);
                    let old = match t.get(key).map_err(tbl(&SWEPT))? {
                        Some(v) => codec::decode_ranges(v.value())
                            .map_err(|m| corrupt(&SWEPT, format!("set {set} /8 {chunk}"), m))?,
                        None => continue,
                    };
                    let left = old.subtract(&IntervalSet::from_ranges(rs.iter().copied()));
                    if left.is_empty() {
                        t.remove(key).map_err(tbl(&SWEPT))?;
                    } else {
                        t.insert(key, codec::encode_ranges(&left).as_slice())
                            .map_err(tbl(&SWEPT))?;
                    }
                }
            }
            for (chunk, rs) in &pieces {
                let key = (SET_REFRESH, *chunk);
                let old = match t.get(key).map_err(tbl(&SWEPT))? {
                    Some(v) => codec::decode_ranges(v.value())
                        .map_err(|m| corrupt(&SWEPT, format!("set 64 /8 {chunk}"), m))?,
                    None => IntervalSet::new(),
                };
                let all = old.union(&IntervalSet::from_ranges(rs.iter().copied()));
                t.insert(key, codec::encode_ranges(&all).as_slice())
                    .map_err(tbl(&SWEPT))?;
            }
            Self::trim_gaps(&txn, s.space)?;
            let mut meta = txn.open_table(META).map_err(tbl(&META))?;
            if meta.get(REFRESH_SINCE).map_err(tbl(&META))?.is_none() {
                meta.insert(REFRESH_SINCE, s.since.as_bytes())
                    .map_err(tbl(&META))?;
            }
        }
        Self::put_crawled_stats(&txn, s.baseline)?;
        txn.commit().map_err(step("(refresh start commit)"))
    }

    /// Removes `space` from the stored gaps (a gap partly inside keeps
    /// its pieces outside).
    fn trim_gaps(txn: &WriteTransaction, space: &IntervalSet) -> Result<()> {
        let mut t = txn.open_table(GAPS).map_err(tbl(&GAPS))?;
        let mut hit = Vec::new();
        for item in t.iter().map_err(tbl(&GAPS))? {
            let (k, v) = item.map_err(tbl(&GAPS))?;
            let (start, (end, kind, reg)) = (k.value(), v.value());
            if let Some(r) = Range::new(start, end) {
                if overlaps(space, r) {
                    hit.push((r, kind, reg));
                }
            }
        }
        for (r, kind, reg) in hit {
            t.remove(r.start).map_err(tbl(&GAPS))?;
            let left = IntervalSet::from_ranges([r]).subtract(space);
            for p in left.ranges() {
                t.insert(p.start, (p.end, kind, reg)).map_err(tbl(&GAPS))?;
            }
        }
        Ok(())
    }

    /// Ends the pending refresh (after a finished crawl) in one transaction:
    /// a network it was to verify that it did not fetch again is gone when
    /// the refresh's answers speak of its space — a lookup whose answer (or
    /// 404) was for an address inside it, or a depth-`all` sweep or search
    /// over all of it; it then moves to the history, ended at `now`. The
    /// others are kept. Then the pending space and start are cleared.
    pub fn finish_refresh(&self, now: &str) -> Result<RefreshEnd> {
        let mut end = RefreshEnd::default();
        let Some((space, since)) = self.refresh_pending()? else {
            return Ok(end);
        };
        let evidence = self.refresh_evidence(&space, &since)?;
        let txn = self.rw()?.begin_write().map_err(step("(refresh finish)"))?;
        {
            let mut nets = txn.open_table(NETWORKS).map_err(tbl(&NETWORKS))?;
            let mut gone: Vec<(NetKey, Record, Vec<u8>)> = Vec::new();
            self.networks_meeting(&nets, &space, |key, r, rec, stored| {
                if rec.fetched_at >= since {
                    end.fetched_again += 1;
                } else if overlaps(&evidence.points, r)
                    || IntervalSet::from_ranges([r])
                        .subtract(&evidence.whole)
                        .is_empty()
                {
                    gone.push((key, rec, stored.to_vec()));
                } else {
                    end.unverified += 1;
                }
            })?;
            let mut hist = txn.open_table(HISTORY).map_err(tbl(&HISTORY))?;
            let mut keys = txn.open_table(NETWORK_KEYS).map_err(tbl(&NETWORK_KEYS))?;
            let mut raw = txn.open_table(RAW).map_err(tbl(&RAW))?;
            for (key, rec, stored) in gone {
                Self::retire(&mut hist, key, &rec, &stored, now)?;
                nets.remove(key).map_err(tbl(&NETWORKS))?;
                keys.remove(key).map_err(tbl(&NETWORK_KEYS))?;
                raw.remove(key).map_err(tbl(&RAW))?;
                end.gone.push((
                    Range {
                        start: key.0,
                        end: key.1,
                    },
                    rec.registry,
                    rec.network.handle,
                ));
            }
            // Versions ended since the refresh began, less the ones gone now.
            let mut ended = 0u64;
            for item in hist.iter().map_err(tbl(&HISTORY))? {
                let (k, v) = item.map_err(tbl(&HISTORY))?;
                let (until, _) = open_history(v.value())
                    .map_err(|m| corrupt(&HISTORY, show_hist(k.value()), m))?;
                ended += u64::from(until >= since);
            }
            end.replaced = ended.saturating_sub(end.gone.len() as u64);
        }
        if !end.gone.is_empty() {
            self.rebuild_known(&txn)?;
        }
        {
            let mut t = txn.open_table(SWEPT).map_err(tbl(&SWEPT))?;
            for chunk in 0..=255u8 {
                t.remove((SET_REFRESH, chunk)).map_err(tbl(&SWEPT))?;
            }
            let mut meta = txn.open_table(META).map_err(tbl(&META))?;
            meta.remove(REFRESH_SINCE).map_err(tbl(&META))?;
        }
        txn.commit().map_err(step("(refresh finish commit)"))?;
        Ok(end)
    }

    /// What the answers of the pending refresh say about its space:
    /// addresses asked (the `queried` of what it stored, the first address
    /// of each gap it found) and space enumerated to every level (swept
    /// or searched at depth `all`, found empty).
    fn refresh_evidence(&self, space: &IntervalSet, since: &str) -> Result<Evidence> {
        let mut points = Vec::new();
        let mut whole = Vec::new();
        let txn = self.read()?;
        let mut u = Unpacker::new(self.dicts_snapshot());
        for def in [&NETWORKS, &PLACEHOLDERS] {
            let t = txn.open_table(*def).map_err(tbl(def))?;
            for item in t.iter().map_err(tbl(def))? {
                let (k, v) = item.map_err(tbl(def))?;
                let key = k.value();
                let Some(r) = Range::new(key.0, key.1) else {
                    continue;
                };
                if !overlaps(space, r) {
                    continue;
                }
                let rec = self.decode_record(&mut u, def, key, v.value())?;
                if rec.fetched_at.as_str() >= since {
                    if let Some(q) = rec.queried {
                        points.push(Range { start: q, end: q });
                    }
                }
            }
        }
        let gaps = txn.open_table(GAPS).map_err(tbl(&GAPS))?;
        for item in gaps.iter().map_err(tbl(&GAPS))? {
            let (k, v) = item.map_err(tbl(&GAPS))?;
            if let Some(r) = Range::new(k.value(), v.value().0) {
                if overlaps(space, r) {
                    points.push(Range {
                        start: r.start,
                        end: r.start,
                    });
                    whole.push(r);
                }
            }
        }
        drop(gaps);
        drop(txn);
        let mut all = IntervalSet::from_ranges(whole).union(&self.load_swept(Level::All)?);
        for r in Registry::ALL {
            all = all.union(&self.load_searched(r, Level::All)?);
        }
        Ok(Evidence {
            points: IntervalSet::from_ranges(points).intersect(space),
            whole: all.intersect(space),
        })
    }
}

/// See [`Store::refresh_evidence`].
struct Evidence {
    points: IntervalSet,
    whole: IntervalSet,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rdap::Network;
    use crate::store::Write;

    fn tmp(name: &str) -> std::path::PathBuf {
        let p = std::env::temp_dir().join(format!(
            "ipcrawl-store-history-{name}-{}.redb",
            std::process::id()
        ));
        let _ = std::fs::remove_file(&p);
        p
    }

    fn rec(name: &str, at: &str) -> Record {
        Record {
            registry: Registry::Ripe,
            network: Network {
                handle: "NET-1".into(),
                range: Range::new(0x0B00_0000, 0x0B00_00FF).unwrap(),
                name: Some(name.into()),
                net_type: None,
                country: None,
                parent_handle: None,
                parent_range: None,
                up_link: Some(format!("http://127.0.0.1:{}/ip/11.0.0.0/8", at.len())),
                status: vec!["active".into()],
                entities: Vec::new(),
                registration: None,
                last_changed: None,
                placeholder: false,
            },
            queried: Some(0x0B00_0000),
            source_url: "http://127.0.0.1:1/ip/11.0.0.0".into(),
            fetched_at: at.into(),
        }
    }

    fn put(store: &Store, r: &Record) {
        store
            .apply(&[Write::Network(Box::new(r.clone()), b"{}".to_vec())])
            .unwrap();
    }

    #[test]
    fn unix_of_reads_rfc3339_and_gives_zero_for_the_rest() {
        assert_eq!(unix_of("1970-01-01T00:00:00Z"), 0);
        assert_eq!(unix_of("2026-11-27T13:38:10Z"), 1_795_786_690);
        assert_eq!(unix_of("2000-02-29T00:00:00.5Z"), 951_782_400);
        assert_eq!(unix_of("yesterday"), 0);
        assert_eq!(unix_of("2026-1x-27T13:38:10Z"), 0);
    }

    /// Equal content: no history row; different: one; removed: one.
    #[test]
    fn only_a_different_or_removed_record_enters_the_history() {
        let path = tmp("versions");
        let store = Store::open_or_create(&path).unwrap();
        assert!(
            store.history().unwrap().is_empty(),
            "no table yet: no history"
        );
        let first = rec("ALPHA", "2026-01-01T00:00:00Z");
        put(&store, &first);
        assert!(
            store.history().unwrap().is_empty(),
            "a new key has no history"
        );
        let same = Record {
            queried: Some(0x0B00_0010),
            ..rec("ALPHA", "2026-02-01T00:00:00Z")
        };
        put(&store, &same);
        assert!(
            store.history().unwrap().is_empty(),
            "a newer fetch of equal content is no new version"
        );
        assert_eq!(store.records(false).unwrap(), vec![same.clone()]);
        let renamed = rec("BETA", "2026-03-01T00:00:00Z");
        put(&store, &renamed);
        let h = store.history().unwrap();
        assert_eq!(h.len(), 1, "{h:?}");
        assert_eq!(h[0].record, same, "the replaced version, as it was stored");
        assert_eq!(h[0].valid_until, "2026-03-01T00:00:00Z");
        assert_eq!(store.records(false).unwrap(), vec![renamed.clone()]);

        // Removed: a refresh over its space whose lookup answered 404 there.
        let space = IntervalSet::from_ranges([renamed.network.range]);
        store
            .begin_refresh(&RefreshStart {
                space: &space,
                baseline: &[],
                since: "2026-04-01T00:00:00Z",
            })
            .unwrap();
        assert_eq!(
            store.refresh_targets().unwrap(),
            vec![(renamed.network.range, Registry::Ripe)]
        );
        store
            .apply(&[Write::Gap(
                renamed.network.range,
                super::super::GapKind::NotFound,
                Registry::Ripe,
            )])
            .unwrap();
        let end = store.finish_refresh("2026-04-01T00:05:00Z").unwrap();
        assert_eq!(end.gone.len(), 1, "{end:?}");
        assert!(store.records(false).unwrap().is_empty());
        assert!(
            store.load_known().unwrap().is_empty(),
            "the known set follows"
        );
        let h = store.history().unwrap();
        assert_eq!(h.len(), 2, "{h:?}");
        assert_eq!(h[1].record, renamed);
        assert_eq!(h[1].valid_until, "2026-04-01T00:05:00Z");
        assert!(
            store.refresh_pending().unwrap().is_none(),
            "the refresh ended"
        );
        drop(store);
        // Read-only, after a reopen.
        let store = Store::open_read(&path).unwrap();
        assert_eq!(store.history().unwrap().len(), 2);
        drop(store);
        let _ = std::fs::remove_file(&path);
    }

    /// A refresh whose answers never spoke of a network keeps it; one it
    /// fetched again is counted, not moved.
    #[test]
    fn a_refresh_keeps_what_it_has_no_word_on() {
        let path = tmp("unverified");
        let store = Store::open_or_create(&path).unwrap();
        let a = rec("ALPHA", "2026-01-01T00:00:00Z");
        put(&store, &a);
        let space = IntervalSet::from_ranges([a.network.range]);
        store
            .apply(&[Write::Swept(a.network.range, Level::Top)])
            .unwrap();
        store
            .begin_refresh(&RefreshStart {
                space: &space,
                baseline: &[],
                since: "2026-04-01T00:00:00Z",
            })
            .unwrap();
        assert!(
            store.load_swept(Level::Top).unwrap().is_empty(),
            "the swept mark is cleared"
        );
        let end = store.finish_refresh("2026-04-02T00:00:00Z").unwrap();
        assert_eq!((end.gone.len(), end.unverified), (0, 1));
        assert_eq!(store.records(false).unwrap(), vec![a]);
        drop(store);
        let _ = std::fs::remove_file(&path);
    }

    /// A merge unites histories, and the older of two different versions
    /// joins them.
    #[test]
    fn a_merge_keeps_both_histories_and_the_older_version() {
        let (pa, pb, po) = (tmp("merge-a"), tmp("merge-b"), tmp("merge-out"));
        let a = Store::open_or_create(&pa).unwrap();
        put(&a, &rec("ALPHA", "2026-01-01T00:00:00Z"));
        put(&a, &rec("BETA", "2026-02-01T00:00:00Z"));
        assert_eq!(a.history().unwrap().len(), 1);
        let b = Store::open_or_create(&pb).unwrap();
        let gamma = rec("GAMMA", "2026-03-01T00:00:00Z");
        put(&b, &gamma);
        let out = Store::open_or_create(&po).unwrap();
        out.merge_from(&b).unwrap();
        out.merge_from(&a).unwrap();
        let names: Vec<(String, String)> = out
            .history()
            .unwrap()
            .into_iter()
            .map(|v| (v.record.network.name.unwrap_or_default(), v.valid_until))
            .collect();
        assert_eq!(
            names,
            [
                ("ALPHA".to_string(), "2026-02-01T00:00:00Z".to_string()),
                ("BETA".to_string(), "2026-03-01T00:00:00Z".to_string()),
            ]
        );
        assert_eq!(out.records(false).unwrap(), vec![gamma]);
        // Merging the same input again adds nothing.
        out.merge_from(&a).unwrap();
        assert_eq!(out.history().unwrap().len(), 2);
        drop((a, b, out));
        for p in [pa, pb, po] {
            let _ = std::fs::remove_file(p);
        }
    }

    /// A newer dump that no longer has a network moves it to the history.
    #[test]
    fn a_network_a_newer_dump_lacks_enters_the_history() {
        let path = tmp("dump");
        let store = Store::open_or_create(&path).unwrap();
        let old = Record {
            source_url: "dump:ripe.db.inetnum.gz".into(),
            queried: None,
            ..rec("ALPHA", "2026-01-01T00:00:00Z")
        };
        put(&store, &old);
        let removed = store
            .finish_dump(&super::super::DumpFinish {
                registry: Registry::Ripe,
                space: &IntervalSet::new(),
                remove_before: Some("2026-01-02T00:00:00Z"),
                meta: &|_| Vec::new(),
            })
            .unwrap();
        assert_eq!(removed, 1);
        let h = store.history().unwrap();
        assert_eq!(h.len(), 1);
        assert_eq!(
            (&h[0].record, h[0].valid_until.as_str()),
            (&old, "2026-01-02T00:00:00Z")
        );
        drop(store);
        let _ = std::fs::remove_file(&path);
    }
}
