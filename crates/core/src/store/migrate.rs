//! Schema 1 → 2, in one write transaction (a crash leaves schema 1): reads
//! a snapshot, trains a dictionary per (kind, registry) on the first
//! [`TRAIN_SAMPLES`] stored values, and re-encodes every value. Schema 2 → 3,
//! in one more: the `swept` table, its depth-top set the known set (the
//! progress of the crawls that wrote the file).

use std::collections::HashMap;

use redb::{
    Database, ReadTransaction, ReadableDatabase, ReadableTable, TableDefinition, WriteTransaction,
};

use crate::rdap::Registry;

use super::codec::{self, encode_dict, key_parts, seal};
use super::compress::{dict_id, train, Dict, DictKind, Dicts, Packer, TRAIN_SAMPLES};
use super::error::{corrupt, step, tbl};
use super::schema::{
    NetKey, Tag, DICTS, FAILURES, KNOWN, META, NETWORKS, PLACEHOLDERS, RAW, SEEDS, SET_SWEPT_TOP,
    SPACE, SWEPT,
};
use super::{show_key, v1, Result};

type Samples = HashMap<(DictKind, Registry), Vec<Vec<u8>>>;
type RecordTable = TableDefinition<'static, NetKey, &'static [u8]>;

/// Fewer samples than this train no dictionary (zstd would refuse or overfit).
const MIN_SAMPLES: usize = 64;

/// Migrates a schema-1 file in place.
pub(super) fn from_v1(db: &Database) -> Result<()> {
    let snap = db.begin_read().map_err(step("(migration)"))?;
    let dicts = train_all(&snap)?;
    let mut packer = Packer::new(&dicts).map_err(|m| corrupt(&DICTS, "(trained)", m))?;
    let txn = db.begin_write().map_err(step("(migration)"))?;
    {
        let mut t = txn.open_table(DICTS).map_err(tbl(&DICTS))?;
        for d in dicts.values() {
            t.insert(d.id, encode_dict(d).as_slice())
                .map_err(tbl(&DICTS))?;
        }
    }
    for def in [&NETWORKS, &PLACEHOLDERS] {
        records(&snap, &txn, def, &mut packer)?;
    }
    raw(&snap, &txn, &mut packer)?;
    failures(&snap, &txn)?;
    ranges(&snap, &txn, &SPACE)?;
    ranges(&snap, &txn, &KNOWN)?;
    seeds(&snap, &txn, &mut packer)?;
    meta(&snap, &txn)?;
    txn.commit().map_err(step("(migration commit)"))
}

/// The dictionaries of the migrated file, trained on its first values.
fn train_all(snap: &ReadTransaction) -> Result<Dicts> {
    let mut samples = Samples::new();
    let mut take = |kind, reg, payload: Vec<u8>| {
        let v = samples.entry((kind, reg)).or_default();
        if v.len() < TRAIN_SAMPLES {
            v.push(payload);
        }
    };
    for def in [&NETWORKS, &PLACEHOLDERS] {
        let t = snap.open_table(*def).map_err(tbl(def))?;
        for item in t.iter().map_err(tbl(def))? {
            let (k, v) = item.map_err(tbl(def))?;
            let r =
                v1::decode_record(v.value()).map_err(|m| corrupt(def, show_key(k.value()), m))?;
            take(DictKind::Record, r.registry, codec::encode_record(&r));
        }
    }
    let t = snap.open_table(RAW).map_err(tbl(&RAW))?;
    for item in t.iter().map_err(tbl(&RAW))? {
        let (k, v) = item.map_err(tbl(&RAW))?;
        let key = k.value();
        let (_, reg) = key_parts(key).map_err(|m| corrupt(&RAW, show_key(key), m))?;
        let body = v1::decode_raw(v.value()).map_err(|m| corrupt(&RAW, show_key(key), m))?;
        take(DictKind::Raw, reg, body);
    }
    let now = crate::time::now_rfc3339();
    let mut out = Dicts::new();
    for ((kind, registry), s) in samples {
        if s.len() < MIN_SAMPLES {
            continue;
        }
        if let Some(bytes) = train(kind, &s) {
            let id = dict_id(&bytes);
            out.insert(
                id,
                Dict {
                    id,
                    kind,
                    registry,
                    samples: s.len() as u32,
                    trained_at: now.clone(),
                    bytes: bytes.into(),
                },
            );
        }
    }
    Ok(out)
}

/// `def`, emptied: the snapshot holds the old values, and a table filled
/// anew in key order has full pages (values rewritten in place keep their
/// old pages, mostly empty, and compaction does not merge pages).
fn fresh_table<'t, K: redb::Key + 'static, V: redb::Value + 'static>(
    txn: &'t WriteTransaction,
    def: &'static TableDefinition<'static, K, V>,
) -> Result<redb::Table<'t, K, V>> {
    txn.delete_table(*def).map_err(tbl(def))?;
    txn.open_table(*def).map_err(tbl(def))
}

fn records(
    snap: &ReadTransaction,
    txn: &WriteTransaction,
    def: &'static RecordTable,
    packer: &mut Packer,
) -> Result<()> {
    let from = snap.open_table(*def).map_err(tbl(def))?;
    let mut to = fresh_table(txn, def)?;
    for item in from.iter().map_err(tbl(def))? {
        let (k, v) = item.map_err(tbl(def))?;
        let key = k.value();
        let r = v1::decode_record(v.value()).map_err(|m| corrupt(def, show_key(key), m))?;
        if r.key() != key {
            return Err(corrupt(
                def,
                show_key(key),
                format!("the record is of {}", show_key(r.key())),
            ));
        }
        let packed = packer.pack(DictKind::Record, r.registry, &codec::encode_record(&r));
        to.insert(key, seal(Tag::Record, &packed).as_slice())
            .map_err(tbl(def))?;
    }
    Ok(())
}

fn raw(snap: &ReadTransaction, txn: &WriteTransaction, packer: &mut Packer) -> Result<()> {
    let from = snap.open_table(RAW).map_err(tbl(&RAW))?;
    let mut to = fresh_table(txn, &RAW)?;
    for item in from.iter().map_err(tbl(&RAW))? {
        let (k, v) = item.map_err(tbl(&RAW))?;
        let key = k.value();
        let (_, reg) = key_parts(key).map_err(|m| corrupt(&RAW, show_key(key), m))?;
        let body = v1::decode_raw(v.value()).map_err(|m| corrupt(&RAW, show_key(key), m))?;
        let packed = packer.pack(DictKind::Raw, reg, &body);
        to.insert(key, seal(Tag::Raw, &packed).as_slice())
            .map_err(tbl(&RAW))?;
    }
    Ok(())
}

fn failures(snap: &ReadTransaction, txn: &WriteTransaction) -> Result<()> {
    let from = snap.open_table(FAILURES).map_err(tbl(&FAILURES))?;
    let mut to = txn.open_table(FAILURES).map_err(tbl(&FAILURES))?;
    for item in from.iter().map_err(tbl(&FAILURES))? {
        let (k, v) = item.map_err(tbl(&FAILURES))?;
        let f = v1::decode_failure(v.value())
            .map_err(|m| corrupt(&FAILURES, crate::prefix::fmt_addr(k.value()), m))?;
        to.insert(k.value(), codec::encode_failure(&f).as_slice())
            .map_err(tbl(&FAILURES))?;
    }
    Ok(())
}

fn ranges(
    snap: &ReadTransaction,
    txn: &WriteTransaction,
    def: &'static TableDefinition<'static, u8, &'static [u8]>,
) -> Result<()> {
    let from = snap.open_table(*def).map_err(tbl(def))?;
    let mut to = txn.open_table(*def).map_err(tbl(def))?;
    for item in from.iter().map_err(tbl(def))? {
        let (k, v) = item.map_err(tbl(def))?;
        let set = v1::decode_ranges(v.value())
            .map_err(|m| corrupt(def, format!("/8 {}", k.value()), m))?;
        to.insert(k.value(), codec::encode_ranges(&set).as_slice())
            .map_err(tbl(def))?;
    }
    Ok(())
}

fn seeds(snap: &ReadTransaction, txn: &WriteTransaction, packer: &mut Packer) -> Result<()> {
    let from = snap.open_table(SEEDS).map_err(tbl(&SEEDS))?;
    let mut to = txn.open_table(SEEDS).map_err(tbl(&SEEDS))?;
    for item in from.iter().map_err(tbl(&SEEDS))? {
        let (k, v) = item.map_err(tbl(&SEEDS))?;
        let chunk = k.value();
        let runs = v1::decode_seeds(chunk, v.value())
            .map_err(|m| corrupt(&SEEDS, format!("/8 {chunk}"), m))?;
        let packed = packer.pack_plain(&codec::encode_runs(chunk, &runs));
        to.insert(chunk, seal(Tag::Seeds, &packed).as_slice())
            .map_err(tbl(&SEEDS))?;
    }
    Ok(())
}

fn meta(snap: &ReadTransaction, txn: &WriteTransaction) -> Result<()> {
    let from = snap.open_table(META).map_err(tbl(&META))?;
    let mut to = txn.open_table(META).map_err(tbl(&META))?;
    if let Some(v) = from.get("plan").map_err(tbl(&META))? {
        let p = v1::decode_plan(v.value()).map_err(|m| corrupt(&META, "plan", m))?;
        to.insert("plan", codec::encode_plan(&p).as_slice())
            .map_err(tbl(&META))?;
    }
    if let Some(v) = from.get("merged_from").map_err(tbl(&META))? {
        let n = v1::decode_names(v.value()).map_err(|m| corrupt(&META, "merged_from", m))?;
        to.insert("merged_from", codec::encode_names(&n).as_slice())
            .map_err(tbl(&META))?;
    }
    let note = format!("1 at {}", crate::time::now_rfc3339());
    to.insert("migrated_from", note.as_bytes())
        .map_err(tbl(&META))?;
    to.insert("schema_version", b"2".as_slice())
        .map_err(tbl(&META))?;
    Ok(())
}

/// Migrates a schema-2 file in place to schema 3.
pub(super) fn from_v2(db: &Database) -> Result<()> {
    let txn = db.begin_write().map_err(step("(migration)"))?;
    {
        let known = txn.open_table(KNOWN).map_err(tbl(&KNOWN))?;
        let mut swept = txn.open_table(SWEPT).map_err(tbl(&SWEPT))?;
        for item in known.iter().map_err(tbl(&KNOWN))? {
            let (k, v) = item.map_err(tbl(&KNOWN))?;
            // The same enveloped range set, under the depth-top set.
            codec::decode_ranges(v.value())
                .map_err(|m| corrupt(&KNOWN, format!("/8 {}", k.value()), m))?;
            swept
                .insert((SET_SWEPT_TOP, k.value()), v.value())
                .map_err(tbl(&SWEPT))?;
        }
        let mut meta = txn.open_table(META).map_err(tbl(&META))?;
        let before = meta
            .get("migrated_from")
            .map_err(tbl(&META))?
            .map(|v| String::from_utf8_lossy(v.value()).into_owned());
        let now = format!("2 at {}", crate::time::now_rfc3339());
        let note = before.map_or(now.clone(), |b| format!("{b}; {now}"));
        meta.insert("migrated_from", note.as_bytes())
            .map_err(tbl(&META))?;
        meta.insert("schema_version", b"3".as_slice())
            .map_err(tbl(&META))?;
    }
    txn.commit().map_err(step("(migration commit)"))
}
