//! The `delegated` table: each registry's delegated-statistics file as a
//! crawl last fetched it, packed with plain zstd (see [`super::schema`]).
//! A file of this schema written before the table existed simply lacks it:
//! reading gives nothing, the next write creates it.

use std::sync::Arc;

use redb::{ReadableTable, TableDefinition, TableError};

use crate::rdap::Registry;

use super::codec;
use super::compress::{Dicts, Unpacker};
use super::error::{corrupt, step, tbl};
use super::schema::DELEGATED;
use super::{Result, Store};

/// A delegated-statistics file as fetched (the `delegated` table holds the
/// last one of each registry).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatsFile {
    /// Whose file it is.
    pub registry: Registry,
    /// The URL it was fetched from.
    pub source: String,
    /// When, in Unix seconds.
    pub fetched_at: u64,
    /// The date its version line gives (`YYYYMMDD`), if any.
    pub date: Option<String>,
    /// The serial of its version line, as written.
    pub serial: String,
    /// The file, as the server sent it.
    pub bytes: Vec<u8>,
}

impl Store {
    /// Every stored statistics file, in registry order (none in a file
    /// without the table).
    pub fn stats_files(&self) -> Result<Vec<StatsFile>> {
        self.read_stats(&DELEGATED)
    }

    /// Every statistics file of `def` (`delegated` or `crawled_stats`), in
    /// registry order; none in a file without the table.
    pub(super) fn read_stats(
        &self,
        def: &'static TableDefinition<'static, u8, &'static [u8]>,
    ) -> Result<Vec<StatsFile>> {
        let txn = self.read()?;
        let t = match txn.open_table(*def) {
            Ok(t) => t,
            Err(TableError::TableDoesNotExist(_)) => return Ok(Vec::new()),
            Err(e) => return Err(tbl(def)(e)),
        };
        let mut u = Unpacker::new(Arc::new(Dicts::new()));
        let mut out = Vec::new();
        for item in t.iter().map_err(tbl(def))? {
            let (k, v) = item.map_err(tbl(def))?;
            let key = k.value();
            let bad = |m: String| corrupt(def, format!("registry {key}"), m);
            let registry = Registry::from_index(usize::from(key))
                .ok_or_else(|| bad(format!("registry index {key}, expected 0 to 4")))?;
            let (mut f, packed) = codec::decode_stats(registry, v.value()).map_err(bad)?;
            f.bytes = u.unpack(packed).map_err(bad)?;
            out.push(f);
        }
        Ok(out)
    }

    /// Stores `file` as its registry's statistics, replacing the one
    /// stored before, in one transaction.
    pub fn put_stats_file(&self, file: &StatsFile) -> Result<()> {
        let mut packer = super::write::packer_for(&Dicts::new())?;
        let value = codec::encode_stats(file, &packer.pack_plain(&file.bytes));
        let txn = self
            .rw()?
            .begin_write()
            .map_err(step("(statistics write)"))?;
        {
            let mut t = txn.open_table(DELEGATED).map_err(tbl(&DELEGATED))?;
            t.insert(file.registry.index() as u8, value.as_slice())
                .map_err(tbl(&DELEGATED))?;
        }
        txn.commit().map_err(step("(statistics commit)"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp(name: &str) -> std::path::PathBuf {
        let p = std::env::temp_dir().join(format!(
            "ipcrawl-store-delegated-{name}-{}.redb",
            std::process::id()
        ));
        let _ = std::fs::remove_file(&p);
        p
    }

    #[test]
    fn a_stored_file_reads_back_and_the_next_replaces_it() {
        let path = tmp("round");
        let store = Store::open_or_create(&path).unwrap();
        assert!(store.stats_files().unwrap().is_empty());
        let text = "2|afrinic|20260821|2|00000000|20260821|00000\n\
                    afrinic|*|ipv4|*|1|summary\n\
                    afrinic|ZA|ipv4|41.0.0.0|2097152|20071126|allocated|F364712F\n"
            .repeat(2000);
        let mut f = StatsFile {
            registry: Registry::Afrinic,
            source: "https://ftp.afrinic.net/pub/stats/afrinic/delegated-afrinic-extended-latest"
                .into(),
            fetched_at: 1_795_786_690,
            date: Some("20260821".into()),
            serial: "20260821".into(),
            bytes: text.into_bytes(),
        };
        store.put_stats_file(&f).unwrap();
        let other = StatsFile {
            registry: Registry::Arin,
            date: None,
            bytes: b"2.3|arin|1|0|19700101|20270821|-0400\n".to_vec(),
            ..f.clone()
        };
        store.put_stats_file(&other).unwrap();
        assert_eq!(store.stats_files().unwrap(), vec![other.clone(), f.clone()]);
        f.fetched_at += 86_400;
        f.bytes.truncate(100);
        store.put_stats_file(&f).unwrap();
        drop(store);
        // Read-only, after a reopen.
        let store = Store::open_read(&path).unwrap();
        assert_eq!(store.stats_files().unwrap(), vec![other, f]);
        drop(store);
        let _ = std::fs::remove_file(&path);
    }

    #[test]
    fn a_damaged_value_is_a_corrupt_error_naming_the_table() {
        let path = tmp("damaged");
        let store = Store::open_or_create(&path).unwrap();
        let f = StatsFile {
            registry: Registry::Ripe,
            source: "http://127.0.0.1:1/".into(),
            fetched_at: 1,
            date: None,
            serial: String::new(),
            bytes: b"x".to_vec(),
        };
        store.put_stats_file(&f).unwrap();
        {
            let db = store.rw().unwrap();
            let txn = db.begin_write().unwrap();
            {
                let mut t = txn.open_table(DELEGATED).unwrap();
                let mut v = t.get(1u8).unwrap().unwrap().value().to_vec();
                let last = v.len() - 1;
                v[last] ^= 0xFF;
                t.insert(1u8, v.as_slice()).unwrap();
            }
            txn.commit().unwrap();
        }
        let e = store.stats_files().unwrap_err().to_string();
        assert!(e.contains("delegated") && e.contains("checksum"), "{e}");
        drop(store);
        let _ = std::fs::remove_file(&path);
    }
}
