//! Reading: every decode goes through the file's schema (schema-1 files are
//! read as they are) and names the table and key of a corrupt value.

use std::collections::BTreeMap;

use redb::{ReadTransaction, ReadableTable, ReadableTableMetadata, TableDefinition};

use crate::prefix::Range;
use crate::rdap::Registry;
use crate::seeds::{PlanInfo, SeedPlan, SeedSet};
use crate::trie::IntervalSet;

use super::codec::{self, key_parts};
use super::compress::Unpacker;
use super::error::{corrupt, tbl};
use super::schema::{
    set_searched, set_to_search, NetKey, Tag, COUNTERS, FAILURES, GAPS, KNOWN, META, NETWORKS,
    NETWORK_KEYS, PLACEHOLDERS, RAW, SEEDS, SET_SWEPT_ALL, SET_SWEPT_TOP, SPACE, SWEPT,
};
use super::{show_key, v1, Error, Failure, GapKind, Level, Record, Result, Store};

type RecordTable = TableDefinition<'static, NetKey, &'static [u8]>;

impl Store {
    /// A record value of `def` at `key`, decoded per the file's schema.
    pub(super) fn decode_record(
        &self,
        u: &mut Unpacker,
        def: &'static RecordTable,
        key: NetKey,
        bytes: &[u8],
    ) -> Result<Record> {
        let r = if self.schema == 1 {
            v1::decode_record(bytes).and_then(|r| {
                if r.key() == key {
                    Ok(r)
                } else {
                    Err(format!("the record is of {}", show_key(r.key())))
                }
            })
        } else {
            codec::open(bytes, Tag::Record)
                .and_then(|p| u.unpack(p))
                .and_then(|p| codec::decode_record(key, &p))
        };
        r.map_err(|m| corrupt(def, show_key(key), m))
    }

    /// A raw value at `key`, unpacked.
    pub(super) fn decode_raw(
        &self,
        u: &mut Unpacker,
        key: NetKey,
        bytes: &[u8],
    ) -> Result<Vec<u8>> {
        let r = if self.schema == 1 {
            v1::decode_raw(bytes)
        } else {
            codec::open(bytes, Tag::Raw).and_then(|p| u.unpack(p))
        };
        r.map_err(|m| corrupt(&RAW, show_key(key), m))
    }

    /// A failure value at `addr`.
    pub(super) fn decode_failure(&self, addr: u32, bytes: &[u8]) -> Result<Failure> {
        let r = if self.schema == 1 {
            v1::decode_failure(bytes)
        } else {
            codec::decode_failure(bytes)
        };
        r.map_err(|m| corrupt(&FAILURES, crate::prefix::fmt_addr(addr), m))
    }

    fn decode_ranges(
        &self,
        def: &'static TableDefinition<'static, u8, &'static [u8]>,
        chunk: u8,
        bytes: &[u8],
    ) -> Result<IntervalSet> {
        let r = if self.schema == 1 {
            v1::decode_ranges(bytes)
        } else {
            codec::decode_ranges(bytes)
        };
        r.map_err(|m| corrupt(def, format!("/8 {chunk}"), m))
    }

    /// A /8's range set, as stored in `def` (`space` or `known`).
    pub(super) fn read_chunked_set(
        &self,
        txn: &ReadTransaction,
        def: &'static TableDefinition<'static, u8, &'static [u8]>,
    ) -> Result<IntervalSet> {
        let t = txn.open_table(*def).map_err(tbl(def))?;
        let mut ranges = Vec::new();
        for item in t.iter().map_err(tbl(def))? {
            let (k, v) = item.map_err(tbl(def))?;
            let set = self.decode_ranges(def, k.value(), v.value())?;
            ranges.extend_from_slice(set.ranges());
        }
        Ok(IntervalSet::from_ranges(ranges))
    }

    /// The stored seed plan, if `gen-seeds` (or a crawl) wrote one.
    pub fn load_plan(&self) -> Result<Option<SeedPlan>> {
        let txn = self.read()?;
        let meta = txn.open_table(META).map_err(tbl(&META))?;
        let Some(info) = meta.get("plan").map_err(tbl(&META))? else {
            return Ok(None);
        };
        let info: PlanInfo = if self.schema == 1 {
            v1::decode_plan(info.value())
        } else {
            codec::decode_plan(info.value())
        }
        .map_err(|m| corrupt(&META, "plan", m))?;
        let seeds_t = txn.open_table(SEEDS).map_err(tbl(&SEEDS))?;
        let mut u = Unpacker::new(self.dicts_snapshot());
        let mut runs = Vec::new();
        for item in seeds_t.iter().map_err(tbl(&SEEDS))? {
            let (k, v) = item.map_err(tbl(&SEEDS))?;
            let chunk = k.value();
            let got = if self.schema == 1 {
                v1::decode_seeds(chunk, v.value())
            } else {
                codec::open(v.value(), Tag::Seeds)
                    .and_then(|p| u.unpack(p))
                    .and_then(|raw| codec::decode_runs(chunk, &raw))
            };
            runs.extend(got.map_err(|m| corrupt(&SEEDS, format!("/8 {chunk}"), m))?);
        }
        let space = self.read_chunked_set(&txn, &SPACE)?;
        Ok(Some(SeedPlan {
            seeds: SeedSet::from_runs(runs),
            space,
            info,
        }))
    }

    /// The space swept to exactly `level` (a crawl at [`Level::Top`] also
    /// skips what is swept to [`Level::All`]). A file of schema 1 or 2 read
    /// as it is: its known set is its space swept at the top level.
    pub fn load_swept(&self, level: Level) -> Result<IntervalSet> {
        if self.schema < 3 {
            return match level {
                Level::Top => self.load_known(),
                Level::All => Ok(IntervalSet::new()),
            };
        }
        self.load_set(match level {
            Level::Top => SET_SWEPT_TOP,
            Level::All => SET_SWEPT_ALL,
        })
    }

    /// The keys `registry`'s search has enumerated to `level`.
    pub fn load_searched(&self, registry: Registry, level: Level) -> Result<IntervalSet> {
        self.load_set(set_searched(registry, level == Level::All))
    }

    /// Space `registry` answered in other registries' lanes that its search
    /// is to enumerate ([`super::Write::ToSearch`]).
    pub fn load_to_search(&self, registry: Registry) -> Result<IntervalSet> {
        self.load_set(set_to_search(registry))
    }

    /// One set of the `swept` table (empty in files before schema 3, which
    /// have no such table).
    pub(super) fn load_set(&self, set: u8) -> Result<IntervalSet> {
        if self.schema < 3 {
            return Ok(IntervalSet::new());
        }
        let txn = self.read()?;
        let t = txn.open_table(SWEPT).map_err(tbl(&SWEPT))?;
        let mut ranges = Vec::new();
        for item in t.range((set, 0u8)..=(set, 255u8)).map_err(tbl(&SWEPT))? {
            let (k, v) = item.map_err(tbl(&SWEPT))?;
            let (_, chunk) = k.value();
            let one = codec::decode_ranges(v.value())
                .map_err(|m| corrupt(&SWEPT, format!("set {set} /8 {chunk}"), m))?;
            ranges.extend_from_slice(one.ranges());
        }
        Ok(IntervalSet::from_ranges(ranges))
    }

    /// The persisted known-network set (union of all stored non-placeholder networks).
    pub fn load_known(&self) -> Result<IntervalSet> {
        let txn = self.read()?;
        self.read_chunked_set(&txn, &KNOWN)
    }

    /// Ranges and registries of every stored non-placeholder network, in
    /// address order (from the key-only index: no record is read).
    pub fn network_keys(&self) -> Result<Vec<(Range, Registry)>> {
        let txn = self.read()?;
        let t = txn.open_table(NETWORK_KEYS).map_err(tbl(&NETWORK_KEYS))?;
        let mut out = Vec::with_capacity(t.len().map_err(tbl(&NETWORK_KEYS))? as usize);
        for item in t.iter().map_err(tbl(&NETWORK_KEYS))? {
            let (k, _) = item.map_err(tbl(&NETWORK_KEYS))?;
            let key = k.value();
            out.push(key_parts(key).map_err(|m| corrupt(&NETWORK_KEYS, show_key(key), m))?);
        }
        Ok(out)
    }

    /// Calls `f` on every stored record in address order (placeholders too
    /// when `placeholders` is set, after the networks).
    pub fn for_each_record(
        &self,
        placeholders: bool,
        f: impl FnMut(Record) -> std::result::Result<(), Box<dyn std::error::Error>>,
    ) -> std::result::Result<(), Box<dyn std::error::Error>> {
        self.scan_records(placeholders, f)
    }

    fn scan_records<E: From<Error>>(
        &self,
        placeholders: bool,
        mut f: impl FnMut(Record) -> std::result::Result<(), E>,
    ) -> std::result::Result<(), E> {
        self.scan(placeholders, false, |r, _| f(r))
    }

    /// Like [`Store::for_each_record`], with each record's raw answer
    /// (`None` when none is stored), read in the same transaction.
    pub fn for_each_record_with_raw(
        &self,
        placeholders: bool,
        f: impl FnMut(Record, Option<Vec<u8>>) -> std::result::Result<(), Box<dyn std::error::Error>>,
    ) -> std::result::Result<(), Box<dyn std::error::Error>> {
        self.scan(placeholders, true, f)
    }

    /// Every record (networks, then placeholders if asked) in one read
    /// transaction, with its raw answer when `with_raw`.
    fn scan<E: From<Error>>(
        &self,
        placeholders: bool,
        with_raw: bool,
        mut f: impl FnMut(Record, Option<Vec<u8>>) -> std::result::Result<(), E>,
    ) -> std::result::Result<(), E> {
        let txn = self.read()?;
        let raw_t = if with_raw {
            Some(txn.open_table(RAW).map_err(tbl(&RAW))?)
        } else {
            None
        };
        let mut u = Unpacker::new(self.dicts_snapshot());
        let mut tables = vec![&NETWORKS];
        if placeholders {
            tables.push(&PLACEHOLDERS);
        }
        for def in tables {
            let t = txn.open_table(*def).map_err(tbl(def))?;
            for item in t.iter().map_err(tbl(def))? {
                let (k, v) = item.map_err(tbl(def))?;
                let key = k.value();
                let record = self.decode_record(&mut u, def, key, v.value())?;
                let raw = match &raw_t {
                    Some(raw_t) => match raw_t.get(key).map_err(tbl(&RAW))? {
                        Some(r) => Some(self.decode_raw(&mut u, key, r.value())?),
                        None => None,
                    },
                    None => None,
                };
                f(record, raw)?;
            }
        }
        Ok(())
    }

    /// Every stored record (networks, then placeholders if asked).
    pub fn records(&self, placeholders: bool) -> Result<Vec<Record>> {
        let mut out = Vec::new();
        self.scan_records(placeholders, |r| {
            out.push(r);
            Ok::<(), Error>(())
        })?;
        Ok(out)
    }

    /// The raw answer of a stored network, unpacked.
    pub fn raw(&self, range: Range, registry: Registry) -> Result<Option<Vec<u8>>> {
        let txn = self.read()?;
        let t = txn.open_table(RAW).map_err(tbl(&RAW))?;
        let key = (range.start, range.end, registry.index() as u8);
        let Some(v) = t.get(key).map_err(tbl(&RAW))? else {
            return Ok(None);
        };
        let mut u = Unpacker::new(self.dicts_snapshot());
        self.decode_raw(&mut u, key, v.value()).map(Some)
    }

    /// Calls `f` on every raw answer, in key order (benches re-derive records from them).
    #[doc(hidden)]
    pub fn for_each_raw(&self, mut f: impl FnMut(Range, Registry, &[u8])) -> Result<()> {
        let txn = self.read()?;
        let t = txn.open_table(RAW).map_err(tbl(&RAW))?;
        let mut u = Unpacker::new(self.dicts_snapshot());
        for item in t.iter().map_err(tbl(&RAW))? {
            let (k, v) = item.map_err(tbl(&RAW))?;
            let key = k.value();
            let (range, reg) = key_parts(key).map_err(|m| corrupt(&RAW, show_key(key), m))?;
            f(range, reg, &self.decode_raw(&mut u, key, v.value())?);
        }
        Ok(())
    }

    /// Bytes stored per table: `(name, value and key bytes, pages incl. overhead)`.
    #[doc(hidden)]
    pub fn table_bytes(&self) -> Result<Vec<(&'static str, u64, u64)>> {
        use redb::TableHandle;
        let txn = self.read()?;
        let mut out = Vec::new();
        macro_rules! stat {
            ($($def:expr),*) => {$(
                let t = txn.open_table($def).map_err(tbl(&$def))?;
                let s = t.stats().map_err(tbl(&$def))?;
                out.push(($def.name(), s.stored_bytes(), s.stored_bytes() + s.metadata_bytes() + s.fragmented_bytes()));
            )*};
        }
        stat!(
            NETWORKS,
            NETWORK_KEYS,
            PLACEHOLDERS,
            RAW,
            KNOWN,
            GAPS,
            FAILURES
        );
        if self.schema >= 2 {
            stat!(super::schema::DICTS);
        }
        Ok(out)
    }

    /// Number of stored networks and placeholders.
    pub fn counts(&self) -> Result<(u64, u64)> {
        let txn = self.read()?;
        let n = txn.open_table(NETWORKS).map_err(tbl(&NETWORKS))?;
        let p = txn.open_table(PLACEHOLDERS).map_err(tbl(&PLACEHOLDERS))?;
        Ok((
            n.len().map_err(tbl(&NETWORKS))?,
            p.len().map_err(tbl(&PLACEHOLDERS))?,
        ))
    }

    /// Every gap, in address order.
    pub fn gaps(&self) -> Result<Vec<(Range, GapKind, Registry)>> {
        let txn = self.read()?;
        let t = txn.open_table(GAPS).map_err(tbl(&GAPS))?;
        let mut out = Vec::new();
        for item in t.iter().map_err(tbl(&GAPS))? {
            let (k, v) = item.map_err(tbl(&GAPS))?;
            let (end, kind, reg) = v.value();
            let key = (k.value(), end, reg);
            let (range, registry) = key_parts(key).map_err(|m| corrupt(&GAPS, show_key(key), m))?;
            let kind = if kind == 0 {
                GapKind::NotFound
            } else {
                GapKind::Placeholder
            };
            out.push((range, kind, registry));
        }
        Ok(out)
    }

    /// Every failure still standing, in address order.
    pub fn failures(&self) -> Result<Vec<Failure>> {
        let txn = self.read()?;
        let t = txn.open_table(FAILURES).map_err(tbl(&FAILURES))?;
        let mut out = Vec::new();
        for item in t.iter().map_err(tbl(&FAILURES))? {
            let (k, v) = item.map_err(tbl(&FAILURES))?;
            out.push(self.decode_failure(k.value(), v.value())?);
        }
        Ok(out)
    }

    /// A plain `meta` entry (see [`super::schema`]), if the file has it.
    pub fn meta_plain(&self, key: &str) -> Result<Option<Vec<u8>>> {
        let txn = self.read()?;
        let meta = txn.open_table(META).map_err(tbl(&META))?;
        Ok(meta
            .get(key)
            .map_err(tbl(&META))?
            .map(|v| v.value().to_vec()))
    }

    /// The inputs of the merge that made this file (`meta.merged_from`), if any.
    pub fn merged_from(&self) -> Result<Vec<String>> {
        let txn = self.read()?;
        let meta = txn.open_table(META).map_err(tbl(&META))?;
        let Some(v) = meta.get("merged_from").map_err(tbl(&META))? else {
            return Ok(Vec::new());
        };
        if self.schema == 1 {
            v1::decode_names(v.value())
        } else {
            codec::decode_names(v.value())
        }
        .map_err(|m| corrupt(&META, "merged_from", m))
    }

    /// The cumulative counters.
    pub fn counters(&self) -> Result<BTreeMap<String, u64>> {
        let txn = self.read()?;
        let t = txn.open_table(COUNTERS).map_err(tbl(&COUNTERS))?;
        let mut out = BTreeMap::new();
        for item in t.iter().map_err(tbl(&COUNTERS))? {
            let (k, v) = item.map_err(tbl(&COUNTERS))?;
            out.insert(k.value().to_string(), v.value());
        }
        Ok(out)
    }
}
