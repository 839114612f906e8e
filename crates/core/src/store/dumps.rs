//! Imported bulk dumps: the space each registry's latest dump covers (the
//! `swept` sets `48 + registry`, see [`super::schema`]) and the step that
//! ends an import, replacing what an older dump of the registry said.

use redb::{ReadableTable, WriteTransaction};

use crate::rdap::Registry;
use crate::trie::IntervalSet;

use super::codec;
use super::compress::Unpacker;
use super::error::{step, tbl};
use super::schema::{
    set_dumped, NetKey, HISTORY, KNOWN, META, NETWORKS, NETWORK_KEYS, PLACEHOLDERS, RAW, SWEPT,
};
use super::{split_by_eight, Result, Store};

/// What ends the import of one registry's dump ([`Store::finish_dump`]).
pub struct DumpFinish<'a> {
    /// The registry whose dump was imported.
    pub registry: Registry,
    /// The space its non-placeholder inetnums cover: every network at every
    /// level inside it is stored. Replaces the set of an older import.
    pub space: &'a IntervalSet,
    /// Remove this registry's records that came from a dump (`source_url`
    /// `dump:…`) fetched before this time (`YYYY-MM-DDTHH:MM:SSZ`): an older
    /// dump's networks that the newer one no longer has. RDAP records are
    /// never removed.
    pub remove_before: Option<&'a str>,
    /// Plain `meta` entries to write in the same transaction (the import's
    /// notes), given how many records were removed.
    pub meta: &'a dyn Fn(u64) -> Vec<(String, Vec<u8>)>,
}

impl std::fmt::Debug for DumpFinish<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DumpFinish")
            .field("registry", &self.registry)
            .field("space", &self.space.ranges().len())
            .field("remove_before", &self.remove_before)
            .finish_non_exhaustive()
    }
}

/// What is stored at a key an import is about to write ([`Store::stored_sources`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredSource {
    /// The record came from a dump (`source_url` `dump:…`).
    pub from_dump: bool,
    /// Its `fetched_at`.
    pub fetched_at: String,
}

impl Store {
    /// The space `registry`'s latest imported dump covers.
    pub fn load_dumped_of(&self, registry: Registry) -> Result<IntervalSet> {
        self.load_set(set_dumped(registry))
    }

    /// The space every registry's latest imported dump covers: a crawl at
    /// any depth asks nothing inside it.
    pub fn load_dumped(&self) -> Result<IntervalSet> {
        let mut all = IntervalSet::new();
        for r in Registry::ALL {
            all = all.union(&self.load_dumped_of(r)?);
        }
        Ok(all)
    }

    /// What is stored at each `(range, registry, placeholder)` key (in the
    /// placeholders table for a placeholder), in one read transaction.
    pub fn stored_sources(
        &self,
        keys: &[(crate::prefix::Range, Registry, bool)],
    ) -> Result<Vec<Option<StoredSource>>> {
        let txn = self.read()?;
        let nets = txn.open_table(NETWORKS).map_err(tbl(&NETWORKS))?;
        let phs = txn.open_table(PLACEHOLDERS).map_err(tbl(&PLACEHOLDERS))?;
        let mut u = Unpacker::new(self.dicts_snapshot());
        let mut out = Vec::with_capacity(keys.len());
        for &(r, reg, placeholder) in keys {
            let key = (r.start, r.end, reg.index() as u8);
            let (t, def) = if placeholder {
                (&phs, &PLACEHOLDERS)
            } else {
                (&nets, &NETWORKS)
            };
            let found = match t.get(key).map_err(tbl(def))? {
                Some(v) => {
                    let rec = self.decode_record(&mut u, def, key, v.value())?;
                    Some(StoredSource {
                        from_dump: rec.source_url.starts_with("dump:"),
                        fetched_at: rec.fetched_at,
                    })
                }
                None => None,
            };
            out.push(found);
        }
        Ok(out)
    }

    /// Ends a registry's import in one transaction: removes the older
    /// dump's records it no longer has (and rebuilds the known-network set
    /// if any went), replaces the registry's dumped space, and writes the
    /// notes. Returns how many records (networks and placeholders) went.
    pub fn finish_dump(&self, f: &DumpFinish<'_>) -> Result<u64> {
        let txn = self.rw()?.begin_write().map_err(step("(import finish)"))?;
        let removed = match f.remove_before {
            Some(before) => self.remove_stale(&txn, f.registry, before)?,
            None => 0,
        };
        if removed > 0 {
            self.rebuild_known(&txn)?;
        }
        {
            let set = set_dumped(f.registry);
            let mut t = txn.open_table(SWEPT).map_err(tbl(&SWEPT))?;
            for chunk in 0..=255u8 {
                t.remove((set, chunk)).map_err(tbl(&SWEPT))?;
            }
            for (chunk, rs) in split_by_eight(f.space.ranges()) {
                let one = IntervalSet::from_ranges(rs);
                t.insert((set, chunk), codec::encode_ranges(&one).as_slice())
                    .map_err(tbl(&SWEPT))?;
            }
            let mut meta = txn.open_table(META).map_err(tbl(&META))?;
            for (k, v) in (f.meta)(removed) {
                meta.insert(k.as_str(), v.as_slice()).map_err(tbl(&META))?;
            }
        }
        txn.commit().map_err(step("(import finish commit)"))?;
        Ok(removed)
    }

    /// Removes `registry`'s dump-sourced records fetched before `before`
    /// (the networks go to the history, ended at `before`: the newer dump's date).
    fn remove_stale(
        &self,
        txn: &WriteTransaction,
        registry: Registry,
        before: &str,
    ) -> Result<u64> {
        let reg = registry.index() as u8;
        let mut u = Unpacker::new(self.dicts_snapshot());
        let mut removed = 0;
        for def in [&NETWORKS, &PLACEHOLDERS] {
            let mut t = txn.open_table(*def).map_err(tbl(def))?;
            let mut stale: Vec<NetKey> = Vec::new();
            let mut retired: Vec<(NetKey, super::Record, Vec<u8>)> = Vec::new();
            for item in t.iter().map_err(tbl(def))? {
                let (k, v) = item.map_err(tbl(def))?;
                let key = k.value();
                if key.2 != reg {
                    continue;
                }
                let rec = self.decode_record(&mut u, def, key, v.value())?;
                if rec.source_url.starts_with("dump:") && rec.fetched_at.as_str() < before {
                    stale.push(key);
                    if !rec.network.placeholder {
                        retired.push((key, rec, v.value().to_vec()));
                    }
                }
            }
            let mut hist = txn.open_table(HISTORY).map_err(tbl(&HISTORY))?;
            for (key, rec, stored) in &retired {
                Self::retire(&mut hist, *key, rec, stored, before)?;
            }
            let mut keys = txn.open_table(NETWORK_KEYS).map_err(tbl(&NETWORK_KEYS))?;
            let mut raw = txn.open_table(RAW).map_err(tbl(&RAW))?;
            for key in &stale {
                t.remove(*key).map_err(tbl(def))?;
                keys.remove(*key).map_err(tbl(&NETWORK_KEYS))?;
                raw.remove(*key).map_err(tbl(&RAW))?;
            }
            removed += stale.len() as u64;
        }
        Ok(removed)
    }

    /// Rebuilds the known-network set from the network keys (after removals).
    pub(super) fn rebuild_known(&self, txn: &WriteTransaction) -> Result<()> {
        let mut ranges = Vec::new();
        {
            let keys = txn.open_table(NETWORK_KEYS).map_err(tbl(&NETWORK_KEYS))?;
            for item in keys.iter().map_err(tbl(&NETWORK_KEYS))? {
                let (k, _) = item.map_err(tbl(&NETWORK_KEYS))?;
                let (s, e, _) = k.value();
                ranges.push(crate::prefix::Range { start: s, end: e });
            }
        }
        let set = IntervalSet::from_ranges(ranges);
        let mut known = txn.open_table(KNOWN).map_err(tbl(&KNOWN))?;
        known.retain(|_, _| false).map_err(tbl(&KNOWN))?;
        for (chunk, rs) in split_by_eight(set.ranges()) {
            let one = IntervalSet::from_ranges(rs);
            known
                .insert(chunk, self.ranges_value(&one).as_slice())
                .map_err(tbl(&KNOWN))?;
        }
        Ok(())
    }
}
