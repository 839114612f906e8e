//! Writing: the batch of a crawl's writer thread ([`Store::apply`]), the seed
//! plan, and compaction. Values are encoded in the file's schema (schema 1
//! only for the test-support path [`Store::create_v1`]).

use std::sync::{Arc, MutexGuard, PoisonError};

use redb::{ReadableTable, ReadableTableMetadata, WriteTransaction};

use crate::prefix::Range;
use crate::rdap::Registry;
use crate::seeds::SeedPlan;
use crate::trie::IntervalSet;

use super::codec::{self, encode_dict, seal};
use super::compress::{dict_id, needs_dict, Dict, DictKind, Packer, Unpacker};
use super::error::{corrupt, step, tbl};
use super::schema::{
    set_searched, set_to_search, NetKey, Tag, COUNTERS, DICTS, FAILURES, GAPS, HISTORY, KNOWN,
    META, NETWORKS, NETWORK_KEYS, PLACEHOLDERS, RAW, SEEDS, SET_SWEPT_ALL, SET_SWEPT_TOP, SPACE,
    SWEPT,
};
use super::{
    split_by_eight, v1, Db, Error, GapKind, Level, Record, Result, Store, Write, WriterState,
};
use std::collections::BTreeMap;

/// Whether at least an eighth of the file at `path` is free pages: what
/// [`redb::Database::compact`] would give back.
fn worth_compacting(d: &redb::Database, path: &std::path::Path) -> Result<bool> {
    let txn = d.begin_write().map_err(step("(compact)"))?;
    let st = txn.stats().map_err(step("(compact)"))?;
    txn.abort().map_err(step("(compact)"))?;
    let used = st.allocated_pages() * st.page_size() as u64;
    let len = std::fs::metadata(path).map_or(0, |m| m.len());
    Ok(len.saturating_sub(used) * 8 >= len)
}

/// A packer for `dicts`; zstd's failure to make one is the compression step's error.
pub(super) fn packer_for(dicts: &super::compress::Dicts) -> Result<Packer> {
    Packer::new(dicts).map_err(|m| Error::Db {
        table: "(compression)",
        message: m,
    })
}

/// Networks in a batch from which it is packed on two threads.
const PARALLEL_BATCH: usize = 256;

/// Packs (record payload, raw answer) pairs with `packer`, sealed.
fn pack_values(packer: &mut Packer, jobs: &[(Registry, &[u8], &[u8])]) -> Vec<(Vec<u8>, Vec<u8>)> {
    jobs.iter()
        .map(|(reg, record, raw)| {
            (
                seal(Tag::Record, &packer.pack(DictKind::Record, *reg, record)),
                seal(Tag::Raw, &packer.pack(DictKind::Raw, *reg, raw)),
            )
        })
        .collect()
}

/// A record's schema-1 value.
fn v1_record(rec: &Record) -> Result<Vec<u8>> {
    v1::encode_record(rec).map_err(|m| Error::Db {
        table: if rec.network.placeholder {
            "placeholders"
        } else {
            "networks"
        },
        message: m,
    })
}

impl Store {
    /// The writer's state, built on first use from the committed dictionaries.
    fn writer_state(&self) -> Result<MutexGuard<'_, Option<WriterState>>> {
        let mut w = self.writer.lock().unwrap_or_else(PoisonError::into_inner);
        if w.is_none() {
            let packer = packer_for(&self.dicts_snapshot())?;
            *w = Some(WriterState {
                packer,
                helper: None,
                trainer: super::compress::Trainer::default(),
            });
        }
        Ok(w)
    }

    /// The committed dictionaries and `fresh`, stored in the open transaction.
    fn dicts_with(&self, fresh: &[Dict]) -> super::compress::Dicts {
        let mut all = (*self.dicts_snapshot()).clone();
        all.extend(fresh.iter().map(|d| (d.id, d.clone())));
        all
    }

    /// Stores the dictionaries trained since the last batch in `txn` and
    /// hands them to the packer; returns them (committed into `self.dicts`
    /// only after the transaction commits).
    fn store_trained(&self, txn: &WriteTransaction, w: &mut WriterState) -> Result<Vec<Dict>> {
        let mut out = Vec::new();
        let known = self.dicts_snapshot();
        let mut t = txn.open_table(DICTS).map_err(tbl(&DICTS))?;
        for d in w.trainer.finished() {
            let id = dict_id(&d.bytes);
            if known.contains_key(&id) {
                continue; // the same content is there already (or, rarely, an id clash)
            }
            let dict = Dict {
                id,
                kind: d.kind,
                registry: d.registry,
                samples: d.samples,
                trained_at: crate::time::now_rfc3339(),
                bytes: d.bytes.into(),
            };
            t.insert(id, encode_dict(&dict).as_slice())
                .map_err(tbl(&DICTS))?;
            w.packer.add(&dict).map_err(|m| corrupt(&DICTS, id, m))?;
            if let Some(h) = w.helper.as_mut() {
                h.add(&dict).map_err(|m| corrupt(&DICTS, id, m))?;
            }
            out.push(dict);
        }
        Ok(out)
    }

    /// The stored values (record, raw answer) of a batch's networks, in
    /// batch order. A large batch is packed on two threads (zstd is most of
    /// a batch's cost); samples for dictionaries still to train are offered
    /// first, in order, so the result is the same either way.
    fn network_values(
        &self,
        w: &mut WriterState,
        fresh: &[Dict],
        batch: &[Write],
    ) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        let nets: Vec<(&Record, &[u8])> = batch
            .iter()
            .filter_map(|wr| match wr {
                Write::Network(rec, body) => Some((&**rec, body.as_slice())),
                _ => None,
            })
            .collect();
        if self.schema == 1 {
            return nets
                .iter()
                .map(|(rec, body)| Ok((v1_record(rec)?, v1::encode_raw(body))))
                .collect();
        }
        let payloads: Vec<Vec<u8>> = nets.iter().map(|(r, _)| codec::encode_record(r)).collect();
        if self.training.load(std::sync::atomic::Ordering::Relaxed) {
            for ((rec, body), payload) in nets.iter().zip(&payloads) {
                for (kind, bytes) in [
                    (DictKind::Record, payload.as_slice()),
                    (DictKind::Raw, body),
                ] {
                    if !w.packer.has(kind, rec.registry) {
                        w.trainer.offer(kind, rec.registry, bytes);
                    }
                }
            }
        }
        let jobs: Vec<(Registry, &[u8], &[u8])> = nets
            .iter()
            .zip(&payloads)
            .map(|((rec, body), payload)| (rec.registry, payload.as_slice(), *body))
            .collect();
        if jobs.len() < PARALLEL_BATCH {
            return Ok(pack_values(&mut w.packer, &jobs));
        }
        if w.helper.is_none() {
            w.helper = Some(packer_for(&self.dicts_with(fresh))?);
        }
        let (first, second) = jobs.split_at(jobs.len() / 2);
        let WriterState { packer, helper, .. } = w;
        let Some(helper) = helper.as_mut() else {
            return Ok(pack_values(packer, &jobs));
        };
        let (mut out, rest) = std::thread::scope(|scope| {
            let other = scope.spawn(|| pack_values(helper, second));
            let mine = pack_values(packer, first);
            (mine, other.join())
        });
        match rest {
            Ok(rest) => out.extend(rest),
            // The helper cannot panic short of running out of memory; if it
            // did, its half is packed here.
            Err(_) => out.extend(pack_values(packer, second)),
        }
        Ok(out)
    }

    pub(super) fn ranges_value(&self, set: &IntervalSet) -> Vec<u8> {
        if self.schema == 1 {
            v1::encode_ranges(set)
        } else {
            codec::encode_ranges(set)
        }
    }

    /// Replaces the seed plan; results are kept.
    pub fn replace_seeds(&self, plan: &SeedPlan) -> Result<()> {
        let txn = self.rw()?.begin_write().map_err(tbl(&SEEDS))?;
        {
            let mut packer = packer_for(&super::compress::Dicts::new())?;
            let mut seeds = txn.open_table(SEEDS).map_err(tbl(&SEEDS))?;
            seeds.retain(|_, _| false).map_err(tbl(&SEEDS))?;
            let mut space = txn.open_table(SPACE).map_err(tbl(&SPACE))?;
            space.retain(|_, _| false).map_err(tbl(&SPACE))?;
            let pieces = split_by_eight(plan.space.ranges());
            for chunk in 0..=255u8 {
                let runs = plan.seeds.chunk_runs(chunk);
                if !runs.is_empty() {
                    let bytes = if self.schema == 1 {
                        v1::encode_seeds(chunk, &runs)
                    } else {
                        let raw = codec::encode_runs(chunk, &runs);
                        seal(Tag::Seeds, &packer.pack_plain(&raw))
                    };
                    seeds.insert(chunk, bytes.as_slice()).map_err(tbl(&SEEDS))?;
                }
                if let Some(rs) = pieces.get(&chunk) {
                    let set = IntervalSet::from_ranges(rs.iter().copied());
                    space
                        .insert(chunk, self.ranges_value(&set).as_slice())
                        .map_err(tbl(&SPACE))?;
                }
            }
            let info = if self.schema == 1 {
                v1::encode_plan(&plan.info)
            } else {
                codec::encode_plan(&plan.info)
            };
            let mut meta = txn.open_table(META).map_err(tbl(&META))?;
            meta.insert("plan", info.as_slice()).map_err(tbl(&META))?;
        }
        txn.commit().map_err(tbl(&SEEDS))
    }

    /// Ends a writing session: stores the dictionaries still being trained,
    /// packs again with them the values written before they existed (at
    /// most the first [`super::TRAIN_SAMPLES`] or so of each registry), and
    /// gives the pages freed by many small commits back to the file system
    /// (a crawl's DB shrinks by about a third) when at least an eighth of
    /// the file is free: an import's few large commits leave some 7 %, and
    /// moving every page of a 1 GB file to win that took longer than
    /// storing a fifth of its networks.
    pub fn compact(&mut self) -> Result<()> {
        if matches!(self.db, Db::Ro(_)) {
            return Ok(());
        }
        if self.schema >= 2 {
            self.wait_for_training();
            self.commit_trained()?;
            self.repack()?;
        }
        match &mut self.db {
            Db::Rw(d) if worth_compacting(d, &self.path)? => {
                d.compact().map(|_| ()).map_err(step("(compact)"))
            }
            _ => Ok(()),
        }
    }

    /// Stores the dictionaries the trainer finished since the last batch.
    fn commit_trained(&self) -> Result<()> {
        let txn = self.rw()?.begin_write().map_err(tbl(&DICTS))?;
        let mut guard = self.writer_state()?;
        let Some(w) = guard.as_mut() else {
            return Ok(());
        };
        let fresh = self.store_trained(&txn, w)?;
        if fresh.is_empty() {
            return Ok(());
        }
        if let Err(e) = txn.commit().map_err(step("(dictionary commit)")) {
            *guard = None;
            return Err(e);
        }
        let mut d = self.dicts.write().unwrap_or_else(PoisonError::into_inner);
        let mut all = (**d).clone();
        all.extend(fresh.into_iter().map(|x| (x.id, x)));
        *d = Arc::new(all);
        Ok(())
    }

    /// Packs with their pair's dictionary the records and answers packed
    /// without one; returns how many. Damaged values are left for readers to report.
    pub(super) fn repack(&self) -> Result<u64> {
        let dicts = self.dicts_snapshot();
        if dicts.is_empty() {
            return Ok(0);
        }
        let mut packer = Packer::new(&dicts).map_err(|m| corrupt(&DICTS, "(all)", m))?;
        let mut u = Unpacker::new(dicts);
        let txn = self.rw()?.begin_write().map_err(step("(repack)"))?;
        let mut n = 0;
        for (def, tag, kind) in [
            (&NETWORKS, Tag::Record, DictKind::Record),
            (&PLACEHOLDERS, Tag::Record, DictKind::Record),
            (&RAW, Tag::Raw, DictKind::Raw),
        ] {
            let mut t = txn.open_table(*def).map_err(tbl(def))?;
            let mut todo = Vec::new();
            for item in t.iter().map_err(tbl(def))? {
                let (k, v) = item.map_err(tbl(def))?;
                let key = k.value();
                let Some(reg) = Registry::from_index(usize::from(key.2)) else {
                    continue;
                };
                if !packer.has(kind, reg) {
                    continue;
                }
                // Most values have their dictionary: the method byte after
                // the envelope's head says so without checking the whole
                // value's checksum (a scan of the file's every byte).
                if codec::packing_method(v.value()) == Some(super::compress::ZSTD_DICT) {
                    continue;
                }
                let Ok(packed) = codec::open(v.value(), tag) else {
                    continue;
                };
                if needs_dict(packed).is_some() {
                    continue;
                }
                if let Ok(payload) = u.unpack(packed) {
                    todo.push((key, seal(tag, &packer.pack(kind, reg, &payload))));
                }
            }
            n += todo.len() as u64;
            if todo.len() * 4 > t.len().map_err(tbl(def))? as usize {
                // Most of a (small) table shrank: rebuild it, or its pages
                // would stay as large as before, mostly empty.
                let mut all: Vec<(NetKey, Vec<u8>)> = Vec::new();
                for item in t.iter().map_err(tbl(def))? {
                    let (k, v) = item.map_err(tbl(def))?;
                    all.push((k.value(), v.value().to_vec()));
                }
                let mut fresh = todo.into_iter().peekable();
                t.retain(|_, _| false).map_err(tbl(def))?;
                for (key, old) in all {
                    let value = match fresh.next_if(|(k, _)| *k == key) {
                        Some((_, v)) => v,
                        None => old,
                    };
                    t.insert(key, value.as_slice()).map_err(tbl(def))?;
                }
            } else {
                for (key, value) in &todo {
                    t.insert(*key, value.as_slice()).map_err(tbl(def))?;
                }
            }
        }
        txn.commit().map_err(step("(repack commit)"))?;
        Ok(n)
    }

    /// Applies a batch in one transaction and commits it. Dictionaries
    /// trained in the background since the last batch are stored in the
    /// same transaction, before the first value that uses them.
    pub fn apply(&self, batch: &[Write]) -> Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        let txn = self.rw()?.begin_write().map_err(step("(batch)"))?;
        let mut guard = self.writer_state()?;
        let Some(w) = guard.as_mut() else {
            return Err(step("(batch)")("no writer state"));
        };
        let result = self
            .apply_in(&txn, w, batch)
            .and_then(|fresh| txn.commit().map_err(step("(batch commit)")).map(|()| fresh));
        match result {
            Ok(fresh) if !fresh.is_empty() => {
                let mut d = self.dicts.write().unwrap_or_else(PoisonError::into_inner);
                let mut all = (**d).clone();
                all.extend(fresh.into_iter().map(|x| (x.id, x)));
                *d = Arc::new(all);
                Ok(())
            }
            Ok(_) => Ok(()),
            Err(e) => {
                // The packer may hold a dictionary that was never committed:
                // rebuild it from the committed ones on the next batch.
                *guard = None;
                Err(e)
            }
        }
    }

    fn apply_in(
        &self,
        txn: &WriteTransaction,
        w: &mut WriterState,
        batch: &[Write],
    ) -> Result<Vec<Dict>> {
        let fresh = if self.schema >= 2 {
            self.store_trained(txn, w)?
        } else {
            Vec::new()
        };
        let mut values = self.network_values(w, &fresh, batch)?.into_iter();
        let mut new_known: Vec<Range> = Vec::new();
        let mut new_spans: BTreeMap<u8, Vec<Range>> = BTreeMap::new();
        let mut nets = txn.open_table(NETWORKS).map_err(tbl(&NETWORKS))?;
        let mut keys = txn.open_table(NETWORK_KEYS).map_err(tbl(&NETWORK_KEYS))?;
        let mut phs = txn.open_table(PLACEHOLDERS).map_err(tbl(&PLACEHOLDERS))?;
        let mut raw = txn.open_table(RAW).map_err(tbl(&RAW))?;
        let mut gaps = txn.open_table(GAPS).map_err(tbl(&GAPS))?;
        let mut fails = txn.open_table(FAILURES).map_err(tbl(&FAILURES))?;
        let mut counters = txn.open_table(COUNTERS).map_err(tbl(&COUNTERS))?;
        // Opened (and the old records decoded) only when a stored network
        // is replaced: a crawl's new networks cost nothing more.
        let mut hist = None;
        let mut old_reader: Option<Unpacker> = None;
        for wr in batch {
            match wr {
                Write::Network(rec, _) => {
                    let key = rec.key();
                    let Some((value, raw_value)) = values.next() else {
                        return Err(step("(batch)")("a network without its packed values"));
                    };
                    if rec.network.placeholder {
                        phs.insert(key, value.as_slice())
                            .map_err(tbl(&PLACEHOLDERS))?;
                    } else {
                        let old = nets
                            .insert(key, value.as_slice())
                            .map_err(tbl(&NETWORKS))?
                            .map(|g| g.value().to_vec());
                        if let Some(old) = old {
                            let u = old_reader.get_or_insert_with(|| {
                                Unpacker::new(Arc::new(self.dicts_with(&fresh)))
                            });
                            // A damaged old value is replaced, not kept.
                            if let Ok(prev) = self.decode_record(u, &NETWORKS, key, &old) {
                                if !super::history::same_content(&prev.network, &rec.network) {
                                    if hist.is_none() {
                                        hist =
                                            Some(txn.open_table(HISTORY).map_err(tbl(&HISTORY))?);
                                    }
                                    if let Some(h) = hist.as_mut() {
                                        Store::retire(h, key, &prev, &old, &rec.fetched_at)?;
                                    }
                                }
                            }
                        }
                        keys.insert(key, ()).map_err(tbl(&NETWORK_KEYS))?;
                        new_known.push(rec.network.range);
                    }
                    raw.insert(key, raw_value.as_slice()).map_err(tbl(&RAW))?;
                }
                Write::Gap(r, kind, reg) => {
                    let k = u8::from(*kind == GapKind::Placeholder);
                    gaps.insert(r.start, (r.end, k, reg.index() as u8))
                        .map_err(tbl(&GAPS))?;
                }
                Write::Failure(f) => {
                    let v = if self.schema == 1 {
                        v1::encode_failure(f)
                    } else {
                        codec::encode_failure(f)
                    };
                    fails.insert(f.addr, v.as_slice()).map_err(tbl(&FAILURES))?;
                }
                Write::ClearFailure(a) => {
                    fails.remove(*a).map_err(tbl(&FAILURES))?;
                }
                Write::Counters(map) => {
                    for (k, v) in map {
                        counters.insert(k.as_str(), *v).map_err(tbl(&COUNTERS))?;
                    }
                }
                Write::Swept(r, level) => {
                    let set = match level {
                        Level::Top => SET_SWEPT_TOP,
                        Level::All => SET_SWEPT_ALL,
                    };
                    new_spans.entry(set).or_default().push(*r);
                }
                Write::Searched(r, reg, level) => new_spans
                    .entry(set_searched(*reg, *level == Level::All))
                    .or_default()
                    .push(*r),
                Write::ToSearch(r, reg) => {
                    new_spans.entry(set_to_search(*reg)).or_default().push(*r);
                }
                Write::Meta(k, v) => {
                    let mut meta = txn.open_table(META).map_err(tbl(&META))?;
                    meta.insert(k.as_str(), v.as_slice()).map_err(tbl(&META))?;
                }
            }
        }
        if !new_known.is_empty() {
            self.add_known(txn, &new_known)?;
        }
        for (set, rs) in new_spans {
            self.add_spans(txn, set, &rs)?;
        }
        Ok(fresh)
    }

    /// Unites `ranges` into `swept`'s set `set` (schema 3; a file of an
    /// older schema, written only by the bench's baseline path, keeps none).
    fn add_spans(&self, txn: &WriteTransaction, set: u8, ranges: &[Range]) -> Result<()> {
        if self.schema < 3 {
            return Ok(());
        }
        let mut t = txn.open_table(SWEPT).map_err(tbl(&SWEPT))?;
        for (chunk, rs) in split_by_eight(ranges) {
            let old = match t.get((set, chunk)).map_err(tbl(&SWEPT))? {
                Some(v) => codec::decode_ranges(v.value())
                    .map_err(|m| corrupt(&SWEPT, format!("set {set} /8 {chunk}"), m))?,
                None => IntervalSet::new(),
            };
            let merged = old.union(&IntervalSet::from_ranges(rs));
            t.insert((set, chunk), codec::encode_ranges(&merged).as_slice())
                .map_err(tbl(&SWEPT))?;
        }
        Ok(())
    }

    /// Unites `ranges` into the stored known-network set.
    fn add_known(&self, txn: &WriteTransaction, ranges: &[Range]) -> Result<()> {
        let mut known = txn.open_table(KNOWN).map_err(tbl(&KNOWN))?;
        for (chunk, rs) in split_by_eight(ranges) {
            let old = match known.get(chunk).map_err(tbl(&KNOWN))? {
                Some(v) => {
                    let r = if self.schema == 1 {
                        v1::decode_ranges(v.value())
                    } else {
                        codec::decode_ranges(v.value())
                    };
                    r.map_err(|m| corrupt(&KNOWN, format!("/8 {chunk}"), m))?
                }
                None => IntervalSet::new(),
            };
            let merged = old.union(&IntervalSet::from_ranges(rs));
            known
                .insert(chunk, self.ranges_value(&merged).as_slice())
                .map_err(tbl(&KNOWN))?;
        }
        Ok(())
    }
}
