//! The database: one redb file, the only redb user.
//!
//! - [`schema`]: every table, its keys and values, the value tags, the
//!   schema versions and the migration path;
//! - `codec`: the storage-owned layout of every value (envelope with tag
//!   and CRC-32, records, failures, plan, seed runs, range sets);
//! - `compress`: packing with zstd and per-registry dictionaries, and the
//!   background dictionary trainer (the only zstd user);
//! - `v1`: the schema-1 layouts, read for old files and the migration;
//! - `open`, `read`, `write`, `merge`, `migrate`: the [`Store`] API;
//! - `delegated`: the fetched delegated-statistics files ([`StatsFile`]);
//! - `dumps`: the space imported bulk dumps cover, and the step that ends an
//!   import ([`DumpFinish`]);
//! - `history`: previous versions of networks ([`Version`]), the statistics
//!   the last crawl used, and the start and end of a refresh.
//!
//! During a crawl only the writer thread calls [`Store::apply`]; it commits
//! a batch per call, so a crash loses at most the batch in flight.

mod codec;
mod compress;
mod delegated;
mod dumps;
mod error;
mod history;
mod merge;
mod migrate;
mod open;
mod read;
pub mod schema;
mod v1;
mod verify;
mod write;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use redb::{Database, ReadOnlyDatabase, ReadTransaction, ReadableDatabase};
use serde::{Deserialize, Serialize};

use crate::prefix::{fmt_addr, Range};
use crate::rdap::{Network, Registry};

pub use compress::{Dict, DictKind, TRAIN_SAMPLES};
pub use delegated::StatsFile;
pub use dumps::{DumpFinish, StoredSource};
pub use error::{Error, Result};
pub use history::{RefreshEnd, RefreshStart, Version};
pub use merge::MergeCounts;
pub use schema::SCHEMA_VERSION;

use compress::{Dicts, Packer, Trainer};
use error::step;
use schema::NetKey;

/// A stored network answer: parsed fields plus provenance.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// The registry whose server gave the answer.
    pub registry: Registry,
    /// Parsed fields.
    pub network: Network,
    /// The address (or prefix start) whose lookup returned it; `None` for
    /// records that no lookup returned (bulk-dump imports).
    pub queried: Option<u32>,
    /// The URL that answered.
    pub source_url: String,
    /// When it was fetched (RFC 3339).
    pub fetched_at: String,
}

impl Record {
    fn key(&self) -> NetKey {
        (
            self.network.range.start,
            self.network.range.end,
            self.registry.index() as u8,
        )
    }
}

/// Why a stretch of space holds no network.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GapKind {
    /// The registry answered 404.
    NotFound,
    /// The registry answered with a placeholder.
    Placeholder,
}

/// A lookup that failed for good (after retries); retried by the next
/// crawl, unless `permanent`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    /// The address asked for.
    pub addr: u32,
    /// The stretch of space the sweep moved past because of it.
    pub end: u32,
    /// The registry asked.
    pub registry: Registry,
    /// Why, one line.
    pub reason: String,
    /// Attempts made.
    pub attempts: u32,
    /// When it was given up (RFC 3339).
    pub at: String,
    /// A refused answer the registry gives the same way every time
    /// (LACNIC's 2015 echo of the query): later crawls do not ask again
    /// (they skip `addr..=end`) and do not count it as work left; `stats`
    /// lists it as a refused answer. Cleared like any failure when a stored
    /// network covers the address.
    #[serde(default)]
    pub permanent: bool,
}

/// One change, applied by [`Store::apply`].
#[derive(Clone, Debug)]
pub enum Write {
    /// A network (or placeholder) and its raw answer.
    Network(Box<Record>, Vec<u8>),
    /// Space found empty.
    Gap(Range, GapKind, Registry),
    /// A lookup given up.
    Failure(Failure),
    /// A failed lookup that later succeeded or is retried.
    ClearFailure(u32),
    /// Counter values to store (absolute, cumulative).
    Counters(BTreeMap<String, u64>),
    /// Space swept to this depth: a later crawl at this depth (or a
    /// shallower one) asks nothing inside it.
    Swept(Range, Level),
    /// Keys this registry's RFC 9910 search has enumerated to this depth: a
    /// resumed search does not ask them again.
    Searched(Range, Registry, Level),
    /// Space this registry answered in another registry's lanes (after a
    /// redirect) whose every level its search is to enumerate (`--depth
    /// all`): a resumed crawl walks it too.
    ToSearch(Range, Registry),
    /// A plain `meta` entry (a note such as `help.<registry>`: JSON text).
    Meta(String, Vec<u8>),
}

/// How deep a stretch of space is done (see [`Write::Swept`]).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Level {
    /// Every top-level network in it is stored (a coverage-first sweep).
    Top,
    /// Every network at every level in it is stored (`--depth all`, a bulk
    /// dump, an RFC 9910 bottom search).
    All,
}

enum Db {
    Rw(Database),
    Ro(ReadOnlyDatabase),
}

/// The writer's packing state: built on the first [`Store::apply`].
struct WriterState {
    packer: Packer,
    /// A second packer with the same dictionaries: a large batch is packed
    /// on two threads (built on the first such batch).
    helper: Option<Packer>,
    trainer: Trainer,
}

/// An open database.
pub struct Store {
    db: Db,
    path: PathBuf,
    /// A repaired private copy (see [`Store::open_input`]), removed on drop.
    scratch: Option<PathBuf>,
    /// The file's schema: [`SCHEMA_VERSION`], or 1 for a file read as it is.
    schema: u32,
    /// The committed dictionaries.
    dicts: RwLock<Arc<Dicts>>,
    writer: Mutex<Option<WriterState>>,
    /// Whether [`Store::apply`] trains dictionaries (on unless a bench says otherwise).
    training: std::sync::atomic::AtomicBool,
}

impl Drop for Store {
    fn drop(&mut self) {
        if let Some(p) = self.scratch.take() {
            let _ = std::fs::remove_file(p);
        }
    }
}

impl Store {
    fn new(db: Db, path: &Path, schema: u32) -> Result<Store> {
        let mut s = Store {
            db,
            path: path.to_path_buf(),
            scratch: None,
            schema,
            dicts: RwLock::new(Arc::new(Dicts::new())),
            writer: Mutex::new(None),
            training: std::sync::atomic::AtomicBool::new(true),
        };
        if schema >= 2 {
            let d = s.load_dicts()?;
            s.dicts = RwLock::new(Arc::new(d));
        }
        Ok(s)
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The file's schema version ([`SCHEMA_VERSION`] once opened for
    /// writing; 1 for a schema-1 file opened read-only, read as it is).
    pub fn schema_version(&self) -> u32 {
        self.schema
    }

    fn read(&self) -> Result<ReadTransaction> {
        match &self.db {
            Db::Rw(d) => d.begin_read(),
            Db::Ro(d) => d.begin_read(),
        }
        .map_err(step("(read transaction)"))
    }

    fn rw(&self) -> Result<&Database> {
        match &self.db {
            Db::Rw(d) => Ok(d),
            Db::Ro(_) => Err(Error::Db {
                table: "(write transaction)",
                message: "database opened read-only".into(),
            }),
        }
    }

    fn dicts_snapshot(&self) -> Arc<Dicts> {
        Arc::clone(&self.dicts.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// The stored compression dictionaries (see [`schema`]).
    pub fn dictionaries(&self) -> Vec<Dict> {
        self.dicts_snapshot().values().cloned().collect()
    }

    /// Waits until every dictionary being trained in the background is
    /// ready; the next [`Store::apply`] stores and uses them.
    pub fn wait_for_training(&self) {
        let mut w = self.writer.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(w) = w.as_mut() {
            w.trainer.wait();
        }
    }

    #[doc(hidden)]
    /// Turns dictionary training off or on (benches measure plain zstd with it off).
    pub fn set_training(&self, on: bool) {
        self.training
            .store(on, std::sync::atomic::Ordering::Relaxed);
    }
}

/// `start-end registry`, for error messages.
fn show_key(key: NetKey) -> String {
    let reg = Registry::from_index(usize::from(key.2)).map_or("?", Registry::name);
    format!("{}-{} {reg}", fmt_addr(key.0), fmt_addr(key.1))
}

/// Splits ranges at /8 boundaries, grouped by first octet.
fn split_by_eight(ranges: &[Range]) -> BTreeMap<u8, Vec<Range>> {
    let mut out: BTreeMap<u8, Vec<Range>> = BTreeMap::new();
    for r in ranges {
        let mut s = r.start;
        loop {
            let chunk = (s >> 24) as u8;
            let chunk_end = s | 0x00FF_FFFF;
            let e = r.end.min(chunk_end);
            out.entry(chunk)
                .or_default()
                .push(Range { start: s, end: e });
            if e == r.end {
                break;
            }
            s = e + 1;
        }
    }
    out
}
