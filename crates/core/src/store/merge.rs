//! Uniting stores: [`Store::merge_from`] and [`Store::finish_merge`].
//!
//! Values of an input of the same schema are copied as they are, with the
//! dictionaries they name (ids are content-derived, so the same dictionary
//! has the same id everywhere). A value whose dictionary id is taken in the
//! output by another dictionary, and every value of a schema-1 input, is
//! decoded and packed again.

use std::collections::HashSet;
use std::sync::{Arc, PoisonError};

use redb::{ReadTransaction, ReadableTable, WriteTransaction};

use crate::prefix::Range;
use crate::trie::IntervalSet;

use super::codec::{self, encode_dict, seal};
use super::compress::{needs_dict, DictKind, Dicts, Packer, Unpacker};
use super::error::{corrupt, step, tbl};
use super::schema::{
    set_dumped, set_searched, set_to_search, NetKey, Tag, COUNTERS, DICTS, FAILURES, GAPS, HISTORY,
    KNOWN, META, NETWORKS, NETWORK_KEYS, PLACEHOLDERS, RAW, SET_SWEPT_ALL, SET_SWEPT_TOP, SWEPT,
};
use super::{show_key, split_by_eight, Error, Level, Result, Store};
use crate::rdap::Registry;

/// What [`Store::merge_from`] did with one input.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MergeCounts {
    /// Networks and placeholders read.
    pub records: u64,
    /// Records whose (start, end, registry) was already there (one kept).
    pub duplicates: u64,
    /// Of those, how many replaced the stored one with a newer answer.
    pub newer: u64,
    /// Gaps read.
    pub gaps: u64,
    /// Failures read.
    pub failures: u64,
}

/// How one input's values reach the output.
struct Copier {
    /// Values can be copied as they are (same schema).
    verbatim: bool,
    /// Dictionary ids whose values must be packed again.
    clash: HashSet<u32>,
    src: Unpacker,
    dst: Unpacker,
    packer: Packer,
}

impl Copier {
    /// Whether a stored value of `tag` can be copied as it is.
    fn can_copy(&self, value: &[u8], tag: Tag) -> bool {
        self.verbatim
            && codec::open(value, tag)
                .is_ok_and(|p| needs_dict(p).is_none_or(|id| !self.clash.contains(&id)))
    }
}

impl Store {
    /// Adds every network, placeholder, raw answer, gap, failure and counter
    /// of `other` into this store, in one transaction. Same (start, end,
    /// registry): the newer `fetched_at` wins (on a tie, the one already
    /// here). Same gap start: the longer gap. Same failure address: the
    /// later one. Counters are summed (`*_max_s`: the largest). `help`
    /// notes: the newer. Histories are united, and of two different
    /// versions of a network the older one joins them (ended when the newer
    /// was fetched). The seed plan and the known set are
    /// left alone: see [`Store::finish_merge`].
    pub fn merge_from(&self, other: &Store) -> Result<MergeCounts> {
        let src = other.read()?;
        let txn = self.rw()?.begin_write().map_err(step("(merge)"))?;
        let mut c = MergeCounts::default();
        let dicts = self.copy_dicts(other, &txn)?;
        let mut cp = Copier {
            verbatim: other.schema == self.schema,
            clash: dicts.1,
            src: Unpacker::new(other.dicts_snapshot()),
            dst: Unpacker::new(Arc::new(dicts.0.clone())),
            packer: Packer::new(&dicts.0).map_err(|m| corrupt(&DICTS, "(all)", m))?,
        };
        self.merge_records(other, &src, &txn, &mut cp, &mut c)?;
        Self::merge_history(other, &src, &txn, &mut cp)?;
        self.merge_rest(other, &src, &txn, &mut c)?;
        txn.commit().map_err(step("(merge commit)"))?;
        *self.dicts.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(dicts.0);
        // A writer packer built before would not know the new dictionaries.
        *self.writer.lock().unwrap_or_else(PoisonError::into_inner) = None;
        Ok(c)
    }

    /// Copies the dictionaries of `other` that this store lacks. Returns
    /// all dictionaries the output will hold and the ids that clash.
    fn copy_dicts(&self, other: &Store, txn: &WriteTransaction) -> Result<(Dicts, HashSet<u32>)> {
        let mut all = (*self.dicts_snapshot()).clone();
        let mut clash = HashSet::new();
        let mut t = txn.open_table(DICTS).map_err(tbl(&DICTS))?;
        for (id, d) in other.dicts_snapshot().iter() {
            match all.get(id) {
                Some(mine) if mine.bytes == d.bytes => {}
                Some(_) => {
                    clash.insert(*id);
                }
                None => {
                    t.insert(*id, encode_dict(d).as_slice())
                        .map_err(tbl(&DICTS))?;
                    all.insert(*id, d.clone());
                }
            }
        }
        Ok((all, clash))
    }

    fn merge_records(
        &self,
        other: &Store,
        src: &ReadTransaction,
        txn: &WriteTransaction,
        cp: &mut Copier,
        c: &mut MergeCounts,
    ) -> Result<()> {
        let src_raw = src.open_table(RAW).map_err(tbl(&RAW))?;
        let mut raw = txn.open_table(RAW).map_err(tbl(&RAW))?;
        let mut keys = txn.open_table(NETWORK_KEYS).map_err(tbl(&NETWORK_KEYS))?;
        for (def, is_net) in [(&NETWORKS, true), (&PLACEHOLDERS, false)] {
            let from = src.open_table(*def).map_err(tbl(def))?;
            let mut to = txn.open_table(*def).map_err(tbl(def))?;
            for item in from.iter().map_err(tbl(def))? {
                let (k, v) = item.map_err(tbl(def))?;
                let key: NetKey = k.value();
                let incoming = other.decode_record(&mut cp.src, def, key, v.value())?;
                c.records += 1;
                let value = if cp.can_copy(v.value(), Tag::Record) {
                    v.value().to_vec()
                } else {
                    let payload = codec::encode_record(&incoming);
                    seal(
                        Tag::Record,
                        &cp.packer
                            .pack(DictKind::Record, incoming.registry, &payload),
                    )
                };
                let stored = to.get(key).map_err(tbl(def))?.map(|o| o.value().to_vec());
                if let Some(stored) = stored {
                    c.duplicates += 1;
                    let old = self.decode_record(&mut cp.dst, def, key, &stored)?;
                    let differs =
                        is_net && !super::history::same_content(&old.network, &incoming.network);
                    if old.fetched_at >= incoming.fetched_at {
                        if differs {
                            let mut h = txn.open_table(HISTORY).map_err(tbl(&HISTORY))?;
                            Store::retire(&mut h, key, &incoming, &value, &old.fetched_at)?;
                        }
                        continue;
                    }
                    if differs {
                        let mut h = txn.open_table(HISTORY).map_err(tbl(&HISTORY))?;
                        Store::retire(&mut h, key, &old, &stored, &incoming.fetched_at)?;
                    }
                    c.newer += 1;
                }
                to.insert(key, value.as_slice()).map_err(tbl(def))?;
                if is_net {
                    keys.insert(key, ()).map_err(tbl(&NETWORK_KEYS))?;
                }
                match src_raw.get(key).map_err(tbl(&RAW))? {
                    Some(body) if cp.can_copy(body.value(), Tag::Raw) => {
                        raw.insert(key, body.value()).map_err(tbl(&RAW))?;
                    }
                    Some(body) => {
                        let bytes = other.decode_raw(&mut cp.src, key, body.value())?;
                        let packed = cp.packer.pack(DictKind::Raw, incoming.registry, &bytes);
                        raw.insert(key, seal(Tag::Raw, &packed).as_slice())
                            .map_err(tbl(&RAW))?;
                    }
                    None => {
                        raw.remove(key).map_err(tbl(&RAW))?;
                    }
                }
            }
        }
        Ok(())
    }

    /// Copies the previous versions of `other` this store lacks (the same
    /// key and `valid_from`: the same version).
    fn merge_history(
        other: &Store,
        src: &ReadTransaction,
        txn: &WriteTransaction,
        cp: &mut Copier,
    ) -> Result<()> {
        let from = match src.open_table(HISTORY) {
            Ok(t) => t,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(()),
            Err(e) => return Err(tbl(&HISTORY)(e)),
        };
        let mut to = txn.open_table(HISTORY).map_err(tbl(&HISTORY))?;
        for item in from.iter().map_err(tbl(&HISTORY))? {
            let (k, v) = item.map_err(tbl(&HISTORY))?;
            let hk = k.value();
            if to.get(hk).map_err(tbl(&HISTORY))?.is_some() {
                continue;
            }
            let bad = |m: String| corrupt(&HISTORY, show_key((hk.0, hk.1, hk.2)), m);
            let (until, inner) = super::history::open_history(v.value()).map_err(bad)?;
            let key = (hk.0, hk.1, hk.2);
            let rec = other.decode_record(&mut cp.src, &NETWORKS, key, inner)?;
            let inner = if cp.can_copy(inner, Tag::Record) {
                inner.to_vec()
            } else {
                let payload = codec::encode_record(&rec);
                seal(
                    Tag::Record,
                    &cp.packer.pack(DictKind::Record, rec.registry, &payload),
                )
            };
            Store::retire(&mut to, key, &rec, &inner, &until)?;
        }
        Ok(())
    }

    /// Gaps, failures and counters.
    /// Unites `other`'s swept and searched sets into this store's (an input
    /// of schema 1 or 2: its known set, swept at depth top).
    fn merge_swept(&self, other: &Store, txn: &WriteTransaction) -> Result<()> {
        if self.schema < 3 {
            return Ok(());
        }
        let mut sets: Vec<(u8, IntervalSet)> = Vec::new();
        for (set, level) in [(SET_SWEPT_TOP, Level::Top), (SET_SWEPT_ALL, Level::All)] {
            sets.push((set, other.load_swept(level)?));
        }
        for reg in Registry::ALL {
            for (all, level) in [(false, Level::Top), (true, Level::All)] {
                sets.push((set_searched(reg, all), other.load_searched(reg, level)?));
            }
            sets.push((set_to_search(reg), other.load_to_search(reg)?));
            sets.push((set_dumped(reg), other.load_dumped_of(reg)?));
        }
        let mut to = txn.open_table(SWEPT).map_err(tbl(&SWEPT))?;
        for (set, incoming) in sets {
            for (chunk, rs) in split_by_eight(incoming.ranges()) {
                let old = match to.get((set, chunk)).map_err(tbl(&SWEPT))? {
                    Some(v) => codec::decode_ranges(v.value())
                        .map_err(|m| corrupt(&SWEPT, format!("set {set} /8 {chunk}"), m))?,
                    None => IntervalSet::new(),
                };
                let merged = old.union(&IntervalSet::from_ranges(rs));
                to.insert((set, chunk), codec::encode_ranges(&merged).as_slice())
                    .map_err(tbl(&SWEPT))?;
            }
        }
        Ok(())
    }

    fn merge_rest(
        &self,
        other: &Store,
        src: &ReadTransaction,
        txn: &WriteTransaction,
        c: &mut MergeCounts,
    ) -> Result<()> {
        self.merge_swept(other, txn)?;
        let from = src.open_table(GAPS).map_err(tbl(&GAPS))?;
        let mut to = txn.open_table(GAPS).map_err(tbl(&GAPS))?;
        for item in from.iter().map_err(tbl(&GAPS))? {
            let (k, v) = item.map_err(tbl(&GAPS))?;
            let (start, (end, kind, reg)) = (k.value(), v.value());
            codec::key_parts((start, end, reg))
                .map_err(|m| corrupt(&GAPS, show_key((start, end, reg)), m))?;
            c.gaps += 1;
            let old_end = to.get(start).map_err(tbl(&GAPS))?.map(|o| o.value().0);
            if old_end.is_none_or(|e| e < end) {
                to.insert(start, (end, kind, reg)).map_err(tbl(&GAPS))?;
            }
        }
        let from = src.open_table(FAILURES).map_err(tbl(&FAILURES))?;
        let mut to = txn.open_table(FAILURES).map_err(tbl(&FAILURES))?;
        for item in from.iter().map_err(tbl(&FAILURES))? {
            let (k, v) = item.map_err(tbl(&FAILURES))?;
            let incoming = other.decode_failure(k.value(), v.value())?;
            c.failures += 1;
            if let Some(old) = to.get(k.value()).map_err(tbl(&FAILURES))? {
                if self.decode_failure(k.value(), old.value())?.at >= incoming.at {
                    continue;
                }
            }
            to.insert(k.value(), codec::encode_failure(&incoming).as_slice())
                .map_err(tbl(&FAILURES))?;
        }
        let from = src.open_table(COUNTERS).map_err(tbl(&COUNTERS))?;
        let mut to = txn.open_table(COUNTERS).map_err(tbl(&COUNTERS))?;
        for item in from.iter().map_err(tbl(&COUNTERS))? {
            let (k, v) = item.map_err(tbl(&COUNTERS))?;
            let old = to
                .get(k.value())
                .map_err(tbl(&COUNTERS))?
                .map(|o| o.value());
            // Counters are summed; a largest-seen value stays the largest.
            let value = if k.value().ends_with("_max_s") {
                old.unwrap_or(0).max(v.value())
            } else {
                old.unwrap_or(0).saturating_add(v.value())
            };
            to.insert(k.value(), value).map_err(tbl(&COUNTERS))?;
        }
        // What each registry's `help` said and its imported dump's note:
        // the newer note wins; the imported files' notes are united.
        let from = src.open_table(META).map_err(tbl(&META))?;
        let mut to = txn.open_table(META).map_err(tbl(&META))?;
        for item in from.iter().map_err(tbl(&META))? {
            let (k, v) = item.map_err(tbl(&META))?;
            let key = k.value();
            let old = to.get(key).map_err(tbl(&META))?.map(|o| o.value().to_vec());
            let value = match (key, old) {
                (_, None) if newer_note(key, None, v.value()) => v.value().to_vec(),
                ("import.files", Some(old)) => unite_files(&old, v.value()),
                (_, Some(old)) if newer_note(key, Some(&old), v.value()) => v.value().to_vec(),
                _ => continue,
            };
            to.insert(key, value.as_slice()).map_err(tbl(&META))?;
        }
        Ok(())
    }
}

/// Whether a merge input's `meta` note `new` replaces `old` at `key`:
/// `help.*` by its `at_unix`, `dump.*` by its `date`, `import.files` when
/// absent; any other key never.
fn newer_note(key: &str, old: Option<&[u8]>, new: &[u8]) -> bool {
    let field = |note: &[u8], name: &str| {
        serde_json::from_slice::<serde_json::Value>(note)
            .ok()
            .and_then(|n| n.get(name).cloned())
    };
    let (name, numeric) = if key.starts_with("help.") {
        ("at_unix", true)
    } else if key.starts_with("dump.") {
        ("date", false)
    } else {
        return key == "import.files" && old.is_none();
    };
    let Some(old) = old else { return true };
    let (o, n) = (field(old, name), field(new, name));
    if numeric {
        o.and_then(|o| o.as_u64()) < n.and_then(|n| n.as_u64())
    } else {
        o.and_then(|o| o.as_str().map(str::to_string))
            < n.and_then(|n| n.as_str().map(str::to_string))
    }
}

/// Two `import.files` notes (JSON objects by file name) as one; `old`'s
/// entries stay where both name a file.
fn unite_files(old: &[u8], new: &[u8]) -> Vec<u8> {
    let obj = |b: &[u8]| {
        serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(b).unwrap_or_default()
    };
    let mut all = obj(old);
    for (k, v) in obj(new) {
        all.entry(k).or_insert(v);
    }
    serde_json::to_vec(&all).unwrap_or_else(|_| old.to_vec())
}

impl Store {
    /// Ends a merge: rebuilds the known-network set from the networks,
    /// drops failures the sweep would never retry (inside a stored network
    /// or a probed gap) and records the inputs in `meta` (`merged_from`).
    /// Returns the number of failures dropped.
    pub fn finish_merge(&self, inputs: &[String]) -> Result<u64> {
        let ranges: Vec<Range> = self.network_keys()?.into_iter().map(|(r, _)| r).collect();
        let known = IntervalSet::from_ranges(ranges);
        let skipped = known.union(&IntervalSet::from_ranges(
            self.gaps()?.into_iter().map(|(r, _, _)| r),
        ));
        let stale: Vec<u32> = self
            .failures()?
            .into_iter()
            .filter(|f| skipped.contains(f.addr))
            .map(|f| f.addr)
            .collect();
        if self.schema < 2 {
            return Err(Error::Db {
                table: "(merge)",
                message: "a merge writes the current schema only".into(),
            });
        }
        let txn = self.rw()?.begin_write().map_err(step("(merge)"))?;
        {
            let mut t = txn.open_table(KNOWN).map_err(tbl(&KNOWN))?;
            t.retain(|_, _| false).map_err(tbl(&KNOWN))?;
            for (chunk, rs) in split_by_eight(known.ranges()) {
                let set = IntervalSet::from_ranges(rs);
                t.insert(chunk, codec::encode_ranges(&set).as_slice())
                    .map_err(tbl(&KNOWN))?;
            }
            let mut fails = txn.open_table(FAILURES).map_err(tbl(&FAILURES))?;
            for a in &stale {
                fails.remove(*a).map_err(tbl(&FAILURES))?;
            }
            let mut meta = txn.open_table(META).map_err(tbl(&META))?;
            meta.insert("merged_from", codec::encode_names(inputs).as_slice())
                .map_err(tbl(&META))?;
        }
        txn.commit().map_err(step("(merge commit)"))?;
        Ok(stale.len() as u64)
    }
}
