//! The database: one redb file, the only redb user.
//!
//! | table | key | value |
//! |---|---|---|
//! | `meta` | `&str` | bytes: `magic` = `ipcrawl`, `schema_version` = `1`, `plan` (seed plan JSON), `created_at` |
//! | `seeds` | `u8` first octet | the /8's seed runs ([`crate::seeds::SeedSet::encode_chunk`]) |
//! | `space` | `u8` first octet | the swept space inside the /8 ([`IntervalSet::to_bytes`]) |
//! | `networks` | `(start, end, registry)` | a [`Record`] as JSON (parsed fields + provenance) |
//! | `network_keys` | `(start, end, registry)` | `()`: the same keys, so reports scan no record |
//! | `placeholders` | `(start, end, registry)` | a placeholder [`Record`] as JSON (never coverage) |
//! | `raw` | `(start, end, registry)` | the answer's raw JSON, gzip'd |
//! | `gaps` | `start` | `(end, kind, registry)`: space probed and found empty (404 or placeholder) |
//! | `failures` | `start` | a [`Failure`] as JSON: lookups that failed for good, retried next crawl |
//! | `counters` | `&str` | `u64` telemetry counters, cumulative over runs |
//! | `known` | `u8` first octet | the known-network set inside the /8 ([`IntervalSet::to_bytes`]) |
//!
//! Integer keys sort numerically, so scans run in address order. During a
//! crawl only the writer thread calls [`Store::apply`]; it commits a batch
//! per call, so a crash loses at most the batch in flight.

use std::collections::BTreeMap;
use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};

use flate2::read::GzDecoder;
use redb::{
    Database, ReadOnlyDatabase, ReadTransaction, ReadableDatabase, ReadableTable,
    ReadableTableMetadata, TableDefinition, TableError,
};
use serde::{Deserialize, Serialize};

use crate::prefix::Range;
use crate::rdap::{Network, Registry};
use crate::seeds::{PlanInfo, SeedPlan, SeedSet};
use crate::trie::IntervalSet;

/// redb's page cache (its default is 1 GiB, which a long crawl would fill).
const CACHE_BYTES: usize = 128 << 20;

/// Version of the layout above; checked on open.
pub const SCHEMA_VERSION: u32 = 1;
const MAGIC: &[u8] = b"ipcrawl";

type NetKey = (u32, u32, u8);

const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");
const SEEDS: TableDefinition<u8, &[u8]> = TableDefinition::new("seeds");
const SPACE: TableDefinition<u8, &[u8]> = TableDefinition::new("space");
const NETWORKS: TableDefinition<NetKey, &[u8]> = TableDefinition::new("networks");
const NETWORK_KEYS: TableDefinition<NetKey, ()> = TableDefinition::new("network_keys");
const PLACEHOLDERS: TableDefinition<NetKey, &[u8]> = TableDefinition::new("placeholders");
const RAW: TableDefinition<NetKey, &[u8]> = TableDefinition::new("raw");
const GAPS: TableDefinition<u32, (u32, u8, u8)> = TableDefinition::new("gaps");
const FAILURES: TableDefinition<u32, &[u8]> = TableDefinition::new("failures");
const COUNTERS: TableDefinition<&str, u64> = TableDefinition::new("counters");
const KNOWN: TableDefinition<u8, &[u8]> = TableDefinition::new("known");
const SWEPT: TableDefinition<(u8, u8), &[u8]> = TableDefinition::new("swept");

/// How deep a stretch of space has been swept (see [`Write::Swept`]).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Level {
    /// Every top-level network in it is stored (a coverage-first sweep).
    Top,
    /// Every network at every level in it is stored (`--depth all`, a bulk
    /// dump, an RFC 9910 search).
    All,
}

impl Level {
    fn code(self) -> u8 {
        match self {
            Level::Top => 0,
            Level::All => 1,
        }
    }
}

/// A storage failure, naming the file and what was being done.
#[derive(Debug)]
pub enum Error {
    /// No database at the path (for commands that only read).
    Missing(PathBuf),
    /// The file exists but is not an ipcrawl database, or is damaged.
    NotIpcrawl(PathBuf, String),
    /// Written by another schema version.
    Schema {
        /// The file.
        path: PathBuf,
        /// Its version.
        found: String,
    },
    /// Another process holds the database.
    InUse(PathBuf),
    /// Left by a killed process and in need of a repair, which needs write access.
    NeedsRepair(PathBuf),
    /// redb or I/O failure while working on `table`.
    Db {
        /// The table (or step) involved.
        table: &'static str,
        /// What redb said.
        message: String,
    },
    /// A stored value could not be decoded.
    Corrupt {
        /// The table involved.
        table: &'static str,
        /// Details.
        message: String,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Missing(p) => write!(
                f,
                "no database at {}: run `ipcrawl crawl` (or `ipcrawl gen-seeds`) first, or pass --db PATH",
                p.display()
            ),
            Error::NotIpcrawl(p, m) => {
                write!(f, "{} is not a readable ipcrawl database: {m}", p.display())
            }
            Error::Schema { path, found } => write!(
                f,
                "{} has schema version {found}, this ipcrawl reads version {SCHEMA_VERSION}",
                path.display()
            ),
            Error::InUse(p) => write!(
                f,
                "{} is in use by another process (a running crawl?); wait for it or use another --db",
                p.display()
            ),
            Error::NeedsRepair(p) => write!(
                f,
                "{} was not closed cleanly (a killed crawl?) and needs a repair, which needs write access to it: run `ipcrawl --db {} stats` where it is writable",
                p.display(),
                p.display()
            ),
            Error::Db { table, message } => write!(f, "database error in table {table}: {message}"),
            Error::Corrupt { table, message } => {
                write!(f, "corrupt value in table {table}: {message}")
            }
        }
    }
}

impl std::error::Error for Error {}

/// Result alias for this module.
pub type Result<T> = std::result::Result<T, Error>;

fn db_err(table: &'static str) -> impl Fn(&dyn fmt::Display) -> Error {
    move |e| Error::Db {
        table,
        message: e.to_string(),
    }
}

macro_rules! dbe {
    ($table:expr) => {
        |e| db_err($table)(&e)
    };
}

/// A stored network answer: parsed fields plus provenance.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// The registry whose server gave the answer.
    pub registry: Registry,
    /// Parsed fields.
    pub network: Network,
    /// The address (or prefix start) whose lookup returned it.
    pub queried: u32,
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

/// A lookup that failed for good (after retries); retried by the next crawl.
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
    /// Space swept to this level: a later crawl at this level (or a
    /// shallower one) asks nothing inside it.
    Swept(Range, Level),
}

enum Db {
    Rw(Database),
    Ro(ReadOnlyDatabase),
}

/// An open database.
pub struct Store {
    db: Db,
    path: PathBuf,
    /// A repaired private copy (see [`Store::open_input`]), removed on drop.
    scratch: Option<PathBuf>,
}

impl Drop for Store {
    fn drop(&mut self) {
        if let Some(p) = self.scratch.take() {
            let _ = std::fs::remove_file(p);
        }
    }
}

fn open_error(path: &Path, e: redb::DatabaseError) -> Error {
    match e {
        redb::DatabaseError::DatabaseAlreadyOpen => Error::InUse(path.to_path_buf()),
        other => Error::NotIpcrawl(path.to_path_buf(), other.to_string()),
    }
}

impl Store {
    /// Opens the database for writing, creating it if missing.
    pub fn open_or_create(path: &Path) -> Result<Store> {
        let exists = path.exists();
        if exists {
            // Check what the file is first, read-only: redb's writer rewrites
            // the header even of a file that is then refused (a foreign file
            // or another schema version must stay untouched).
            drop(Store::open_read(path)?);
        }
        let db = if exists {
            Database::builder()
                .set_cache_size(CACHE_BYTES)
                .open(path)
                .map_err(|e| open_error(path, e))?
        } else {
            Database::builder()
                .set_cache_size(CACHE_BYTES)
                .create(path)
                .map_err(|e| Error::NotIpcrawl(path.to_path_buf(), e.to_string()))?
        };
        let store = Store {
            db: Db::Rw(db),
            path: path.to_path_buf(),
            scratch: None,
        };
        if exists {
            store.check_meta()?;
        }
        store.init_tables()?;
        Ok(store)
    }

    /// Opens an existing database for writing.
    pub fn open_rw(path: &Path) -> Result<Store> {
        if !path.exists() {
            return Err(Error::Missing(path.to_path_buf()));
        }
        Store::open_or_create(path)
    }

    /// Opens an existing database read-only (reports; works in read-only
    /// directories). A file left by a killed crawl cannot be read before
    /// redb repairs it; it is repaired in place first (as the next crawl
    /// would do), which needs write access.
    pub fn open_read(path: &Path) -> Result<Store> {
        match Store::open_ro(path) {
            Err(Error::NeedsRepair(_)) => {
                Store::repair(path)?;
                Store::open_ro(path)
            }
            other => other,
        }
    }

    /// Opens an existing database without ever writing to it (merge
    /// inputs): the file is copied into `scratch_dir` and the copy is
    /// opened with redb's full integrity check (so a damaged file is refused
    /// instead of read), repaired if a killed crawl left it, and removed
    /// when the store is dropped. A file another process holds is refused.
    pub fn open_input(path: &Path, scratch_dir: &Path) -> Result<Store> {
        let name = path
            .file_name()
            .map_or_else(|| "input".to_string(), |n| n.to_string_lossy().into_owned());
        static COPIES: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = COPIES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let copy = scratch_dir.join(format!(".{name}.check-{}-{n}.tmp", std::process::id()));
        // redb may panic on a damaged file where it does not detect the damage.
        let opened = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            Store::open_checked_copy(path, &copy)
        }))
        .unwrap_or_else(|_| {
            Err(Error::NotIpcrawl(
                path.to_path_buf(),
                "damaged: redb could not read it".into(),
            ))
        });
        match opened {
            Ok(mut store) => {
                store.scratch = Some(copy);
                Ok(store)
            }
            Err(e) => {
                let _ = std::fs::remove_file(&copy);
                Err(e)
            }
        }
    }

    fn open_checked_copy(path: &Path, copy: &Path) -> Result<Store> {
        // Holding a read handle keeps a crawl from starting on it meanwhile.
        let guard = match Store::open_ro(path) {
            Ok(s) => Some(s),
            Err(Error::NeedsRepair(_)) => None,
            Err(e) => return Err(e),
        };
        std::fs::copy(path, copy).map_err(|e| Error::Db {
            table: "(input copy)",
            message: format!("cannot copy {} to {}: {e}", path.display(), copy.display()),
        })?;
        drop(guard);
        let db = redb::Builder::new()
            .set_check_integrity_on_open(true)
            .open(copy)
            .map_err(|e| Error::NotIpcrawl(path.to_path_buf(), e.to_string()))?;
        let store = Store {
            db: Db::Rw(db),
            path: path.to_path_buf(),
            scratch: None,
        };
        store.check_meta()?;
        Ok(store)
    }

    fn open_ro(path: &Path) -> Result<Store> {
        if !path.exists() {
            return Err(Error::Missing(path.to_path_buf()));
        }
        let db = Database::builder()
            .set_cache_size(CACHE_BYTES)
            .open_read_only(path)
            .map_err(|e| match e {
                redb::DatabaseError::RepairAborted => Error::NeedsRepair(path.to_path_buf()),
                e => open_error(path, e),
            })?;
        let store = Store {
            db: Db::Ro(db),
            path: path.to_path_buf(),
            scratch: None,
        };
        store.check_meta()?;
        Ok(store)
    }

    /// Repairs a file left by a killed process (opening it for writing does).
    fn repair(path: &Path) -> Result<()> {
        match Database::open(path) {
            Ok(db) => {
                drop(db);
                Ok(())
            }
            Err(redb::DatabaseError::Storage(redb::StorageError::Io(e)))
                if e.kind() == std::io::ErrorKind::PermissionDenied =>
            {
                Err(Error::NeedsRepair(path.to_path_buf()))
            }
            Err(e) => Err(open_error(path, e)),
        }
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn read(&self) -> Result<ReadTransaction> {
        match &self.db {
            Db::Rw(d) => d.begin_read(),
            Db::Ro(d) => d.begin_read(),
        }
        .map_err(dbe!("(read transaction)"))
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

    fn check_meta(&self) -> Result<()> {
        let txn = self.read()?;
        let t = match txn.open_table(META) {
            Ok(t) => t,
            Err(TableError::TableDoesNotExist(_)) => {
                return Err(Error::NotIpcrawl(
                    self.path.clone(),
                    "a redb file without ipcrawl's meta table".into(),
                ))
            }
            Err(e) => return Err(Error::NotIpcrawl(self.path.clone(), e.to_string())),
        };
        let get = |k: &str| -> Result<Option<Vec<u8>>> {
            Ok(t.get(k).map_err(dbe!("meta"))?.map(|v| v.value().to_vec()))
        };
        if get("magic")?.as_deref() != Some(MAGIC) {
            return Err(Error::NotIpcrawl(
                self.path.clone(),
                "meta table lacks the ipcrawl magic".into(),
            ));
        }
        let v = get("schema_version")?.unwrap_or_default();
        let v = String::from_utf8_lossy(&v).to_string();
        if v != SCHEMA_VERSION.to_string() {
            return Err(Error::Schema {
                path: self.path.clone(),
                found: v,
            });
        }
        Ok(())
    }

    fn init_tables(&self) -> Result<()> {
        let txn = self.rw()?.begin_write().map_err(dbe!("(init)"))?;
        {
            let mut meta = txn.open_table(META).map_err(dbe!("meta"))?;
            if meta.get("magic").map_err(dbe!("meta"))?.is_none() {
                meta.insert("magic", MAGIC).map_err(dbe!("meta"))?;
                meta.insert("schema_version", SCHEMA_VERSION.to_string().as_bytes())
                    .map_err(dbe!("meta"))?;
                meta.insert("created_at", crate::time::now_rfc3339().as_bytes())
                    .map_err(dbe!("meta"))?;
            }
            txn.open_table(SEEDS).map_err(dbe!("seeds"))?;
            txn.open_table(SPACE).map_err(dbe!("space"))?;
            txn.open_table(NETWORKS).map_err(dbe!("networks"))?;
            txn.open_table(NETWORK_KEYS).map_err(dbe!("network_keys"))?;
            txn.open_table(PLACEHOLDERS).map_err(dbe!("placeholders"))?;
            txn.open_table(RAW).map_err(dbe!("raw"))?;
            txn.open_table(GAPS).map_err(dbe!("gaps"))?;
            txn.open_table(FAILURES).map_err(dbe!("failures"))?;
            txn.open_table(COUNTERS).map_err(dbe!("counters"))?;
            txn.open_table(KNOWN).map_err(dbe!("known"))?;
            txn.open_table(SWEPT).map_err(dbe!("swept"))?;
        }
        txn.commit().map_err(dbe!("(init)"))
    }

    /// Replaces the seed plan; results are kept.
    pub fn replace_seeds(&self, plan: &SeedPlan) -> Result<()> {
        let txn = self.rw()?.begin_write().map_err(dbe!("seeds"))?;
        {
            let mut seeds = txn.open_table(SEEDS).map_err(dbe!("seeds"))?;
            seeds.retain(|_, _| false).map_err(dbe!("seeds"))?;
            let mut space = txn.open_table(SPACE).map_err(dbe!("space"))?;
            space.retain(|_, _| false).map_err(dbe!("space"))?;
            let pieces = split_by_eight(plan.space.ranges());
            for chunk in 0..=255u8 {
                if let Some(bytes) = plan.seeds.encode_chunk(chunk) {
                    seeds
                        .insert(chunk, bytes.as_slice())
                        .map_err(dbe!("seeds"))?;
                }
                if let Some(rs) = pieces.get(&chunk) {
                    let set = IntervalSet::from_ranges(rs.iter().copied());
                    space
                        .insert(chunk, set.to_bytes().as_slice())
                        .map_err(dbe!("space"))?;
                }
            }
            let info = serde_json::to_vec(&plan.info).map_err(dbe!("meta"))?;
            let mut meta = txn.open_table(META).map_err(dbe!("meta"))?;
            meta.insert("plan", info.as_slice()).map_err(dbe!("meta"))?;
        }
        txn.commit().map_err(dbe!("seeds"))
    }

    /// The stored seed plan, if `gen-seeds` (or a crawl) wrote one.
    pub fn load_plan(&self) -> Result<Option<SeedPlan>> {
        let txn = self.read()?;
        let meta = txn.open_table(META).map_err(dbe!("meta"))?;
        let Some(info) = meta.get("plan").map_err(dbe!("meta"))? else {
            return Ok(None);
        };
        let info: PlanInfo = serde_json::from_slice(info.value()).map_err(|e| Error::Corrupt {
            table: "meta",
            message: format!("plan: {e}"),
        })?;
        let seeds_t = txn.open_table(SEEDS).map_err(dbe!("seeds"))?;
        let mut runs = Vec::new();
        for item in seeds_t.iter().map_err(dbe!("seeds"))? {
            let (k, v) = item.map_err(dbe!("seeds"))?;
            runs.extend(SeedSet::decode_chunk(k.value(), v.value()).map_err(|e| {
                Error::Corrupt {
                    table: "seeds",
                    message: e.to_string(),
                }
            })?);
        }
        let space = read_chunked_set(&txn, SPACE, "space")?;
        Ok(Some(SeedPlan {
            seeds: SeedSet::from_runs(runs),
            space,
            info,
        }))
    }

    /// The space swept to `level` (exactly that level's record; a crawl at
    /// [`Level::Top`] also skips what is swept to [`Level::All`]).
    pub fn load_swept(&self, level: Level) -> Result<IntervalSet> {
        let txn = self.read()?;
        let t = txn.open_table(SWEPT).map_err(dbe!("swept"))?;
        let mut ranges = Vec::new();
        for item in t
            .range((level.code(), 0u8)..=(level.code(), 255u8))
            .map_err(dbe!("swept"))?
        {
            let (_, v) = item.map_err(dbe!("swept"))?;
            let set = IntervalSet::from_bytes(v.value()).map_err(|e| Error::Corrupt {
                table: "swept",
                message: e.to_string(),
            })?;
            ranges.extend_from_slice(set.ranges());
        }
        Ok(IntervalSet::from_ranges(ranges))
    }

    /// The persisted known-network set (union of all stored non-placeholder networks).
    pub fn load_known(&self) -> Result<IntervalSet> {
        let txn = self.read()?;
        read_chunked_set(&txn, KNOWN, "known")
    }

    /// Ranges and registries of every stored non-placeholder network, in
    /// address order (from the key-only index: no record is read).
    pub fn network_keys(&self) -> Result<Vec<(Range, Registry)>> {
        let txn = self.read()?;
        let t = txn.open_table(NETWORK_KEYS).map_err(dbe!("network_keys"))?;
        let mut out = Vec::with_capacity(t.len().map_err(dbe!("network_keys"))? as usize);
        for item in t.iter().map_err(dbe!("network_keys"))? {
            let (k, _) = item.map_err(dbe!("networks"))?;
            let (s, e, r) = k.value();
            out.push(key_parts(s, e, r)?);
        }
        Ok(out)
    }

    /// Calls `f` on every stored record in address order (placeholders too
    /// when `placeholders` is set, after the networks).
    pub fn for_each_record(
        &self,
        placeholders: bool,
        mut f: impl FnMut(Record) -> std::result::Result<(), Box<dyn std::error::Error>>,
    ) -> std::result::Result<(), Box<dyn std::error::Error>> {
        let txn = self.read()?;
        let mut tables = vec![(NETWORKS, "networks")];
        if placeholders {
            tables.push((PLACEHOLDERS, "placeholders"));
        }
        for (def, name) in tables {
            let t = txn.open_table(def).map_err(dbe!(name))?;
            for item in t.iter().map_err(dbe!(name))? {
                let (_, v) = item.map_err(dbe!(name))?;
                f(decode_record(v.value(), name)?)?;
            }
        }
        Ok(())
    }

    /// Every stored record (networks, then placeholders if asked).
    pub fn records(&self, placeholders: bool) -> Result<Vec<Record>> {
        let mut out = Vec::new();
        self.for_each_record(placeholders, |r| {
            out.push(r);
            Ok(())
        })
        .map_err(|e| Error::Db {
            table: "networks",
            message: e.to_string(),
        })?;
        Ok(out)
    }

    /// The raw answer of a stored network, un-gzip'd.
    pub fn raw(&self, range: Range, registry: Registry) -> Result<Option<Vec<u8>>> {
        let txn = self.read()?;
        let t = txn.open_table(RAW).map_err(dbe!("raw"))?;
        let key = (range.start, range.end, registry.index() as u8);
        let Some(v) = t.get(key).map_err(dbe!("raw"))? else {
            return Ok(None);
        };
        let mut out = Vec::new();
        GzDecoder::new(v.value())
            .take(64 << 20)
            .read_to_end(&mut out)
            .map_err(|e| Error::Corrupt {
                table: "raw",
                message: e.to_string(),
            })?;
        Ok(Some(out))
    }

    /// Number of stored networks and placeholders.
    pub fn counts(&self) -> Result<(u64, u64)> {
        let txn = self.read()?;
        let n = txn.open_table(NETWORKS).map_err(dbe!("networks"))?;
        let p = txn.open_table(PLACEHOLDERS).map_err(dbe!("placeholders"))?;
        Ok((
            n.len().map_err(dbe!("networks"))?,
            p.len().map_err(dbe!("placeholders"))?,
        ))
    }

    /// Every gap, in address order.
    pub fn gaps(&self) -> Result<Vec<(Range, GapKind, Registry)>> {
        let txn = self.read()?;
        let t = txn.open_table(GAPS).map_err(dbe!("gaps"))?;
        let mut out = Vec::new();
        for item in t.iter().map_err(dbe!("gaps"))? {
            let (k, v) = item.map_err(dbe!("gaps"))?;
            let (end, kind, reg) = v.value();
            let (range, registry) = key_parts(k.value(), end, reg)?;
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
        let t = txn.open_table(FAILURES).map_err(dbe!("failures"))?;
        let mut out = Vec::new();
        for item in t.iter().map_err(dbe!("failures"))? {
            let (_, v) = item.map_err(dbe!("failures"))?;
            out.push(decode_failure(v.value())?);
        }
        Ok(out)
    }

    /// The cumulative counters.
    pub fn counters(&self) -> Result<BTreeMap<String, u64>> {
        let txn = self.read()?;
        let t = txn.open_table(COUNTERS).map_err(dbe!("counters"))?;
        let mut out = BTreeMap::new();
        for item in t.iter().map_err(dbe!("counters"))? {
            let (k, v) = item.map_err(dbe!("counters"))?;
            out.insert(k.value().to_string(), v.value());
        }
        Ok(out)
    }

    /// Gives the pages freed by many small commits back to the file system
    /// (a crawl's DB shrinks by about a third).
    pub fn compact(&mut self) -> Result<()> {
        match &mut self.db {
            Db::Rw(d) => d.compact().map(|_| ()).map_err(dbe!("(compact)")),
            Db::Ro(_) => Ok(()),
        }
    }

    /// Applies a batch in one transaction and commits it.
    pub fn apply(&self, batch: &[Write]) -> Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        let txn = self.rw()?.begin_write().map_err(dbe!("(batch)"))?;
        let mut new_known: Vec<Range> = Vec::new();
        let mut new_swept: [Vec<Range>; 2] = [Vec::new(), Vec::new()];
        {
            let mut nets = txn.open_table(NETWORKS).map_err(dbe!("networks"))?;
            let mut keys = txn.open_table(NETWORK_KEYS).map_err(dbe!("network_keys"))?;
            let mut phs = txn.open_table(PLACEHOLDERS).map_err(dbe!("placeholders"))?;
            let mut raw = txn.open_table(RAW).map_err(dbe!("raw"))?;
            let mut gaps = txn.open_table(GAPS).map_err(dbe!("gaps"))?;
            let mut fails = txn.open_table(FAILURES).map_err(dbe!("failures"))?;
            let mut counters = txn.open_table(COUNTERS).map_err(dbe!("counters"))?;
            for w in batch {
                match w {
                    Write::Network(rec, body) => {
                        let key = rec.key();
                        let json = serde_json::to_vec(rec.as_ref()).map_err(dbe!("networks"))?;
                        if rec.network.placeholder {
                            phs.insert(key, json.as_slice())
                                .map_err(dbe!("placeholders"))?;
                        } else {
                            nets.insert(key, json.as_slice())
                                .map_err(dbe!("networks"))?;
                            keys.insert(key, ()).map_err(dbe!("network_keys"))?;
                            new_known.push(rec.network.range);
                        }
                        raw.insert(key, gzip(body).as_slice())
                            .map_err(dbe!("raw"))?;
                    }
                    Write::Gap(r, kind, reg) => {
                        let k = u8::from(*kind == GapKind::Placeholder);
                        gaps.insert(r.start, (r.end, k, reg.index() as u8))
                            .map_err(dbe!("gaps"))?;
                    }
                    Write::Failure(f) => {
                        let json = serde_json::to_vec(f).map_err(dbe!("failures"))?;
                        fails
                            .insert(f.addr, json.as_slice())
                            .map_err(dbe!("failures"))?;
                    }
                    Write::ClearFailure(a) => {
                        fails.remove(*a).map_err(dbe!("failures"))?;
                    }
                    Write::Counters(map) => {
                        for (k, v) in map {
                            counters.insert(k.as_str(), *v).map_err(dbe!("counters"))?;
                        }
                    }
                    Write::Swept(r, level) => new_swept[usize::from(level.code())].push(*r),
                }
            }
            for level in [Level::Top, Level::All] {
                let rs = &new_swept[usize::from(level.code())];
                if rs.is_empty() {
                    continue;
                }
                let mut swept = txn.open_table(SWEPT).map_err(dbe!("swept"))?;
                for (chunk, rs) in split_by_eight(rs) {
                    let key = (level.code(), chunk);
                    let old = match swept.get(key).map_err(dbe!("swept"))? {
                        Some(v) => {
                            IntervalSet::from_bytes(v.value()).map_err(|e| Error::Corrupt {
                                table: "swept",
                                message: e.to_string(),
                            })?
                        }
                        None => IntervalSet::new(),
                    };
                    let merged = old.union(&IntervalSet::from_ranges(rs));
                    swept
                        .insert(key, merged.to_bytes().as_slice())
                        .map_err(dbe!("swept"))?;
                }
            }
            if !new_known.is_empty() {
                let mut known = txn.open_table(KNOWN).map_err(dbe!("known"))?;
                for (chunk, rs) in split_by_eight(&new_known) {
                    let old = match known.get(chunk).map_err(dbe!("known"))? {
                        Some(v) => {
                            IntervalSet::from_bytes(v.value()).map_err(|e| Error::Corrupt {
                                table: "known",
                                message: e.to_string(),
                            })?
                        }
                        None => IntervalSet::new(),
                    };
                    let merged = old.union(&IntervalSet::from_ranges(rs));
                    known
                        .insert(chunk, merged.to_bytes().as_slice())
                        .map_err(dbe!("known"))?;
                }
            }
        }
        txn.commit().map_err(dbe!("(batch commit)"))
    }
}

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

impl Store {
    /// Adds every network, placeholder, raw answer, gap, failure and counter
    /// of `other` into this store, in one transaction. Same (start, end,
    /// registry): the newer `fetched_at` wins (on a tie, the one already
    /// here). Same gap start: the longer gap. Same failure address: the
    /// later one. Counters are summed. The seed plan and the known set are
    /// left alone: see [`Store::finish_merge`].
    pub fn merge_from(&self, other: &Store) -> Result<MergeCounts> {
        let src = other.read()?;
        let txn = self.rw()?.begin_write().map_err(dbe!("(merge)"))?;
        let mut c = MergeCounts::default();
        {
            let src_raw = src.open_table(RAW).map_err(dbe!("raw"))?;
            let mut raw = txn.open_table(RAW).map_err(dbe!("raw"))?;
            let mut keys = txn.open_table(NETWORK_KEYS).map_err(dbe!("network_keys"))?;
            for (def, name) in [(NETWORKS, "networks"), (PLACEHOLDERS, "placeholders")] {
                let from = src.open_table(def).map_err(dbe!(name))?;
                let mut to = txn.open_table(def).map_err(dbe!(name))?;
                for item in from.iter().map_err(dbe!(name))? {
                    let (k, v) = item.map_err(dbe!(name))?;
                    let key = k.value();
                    let incoming = decode_record(v.value(), name)?;
                    c.records += 1;
                    let old = to.get(key).map_err(dbe!(name))?.map(|o| o.value().to_vec());
                    if let Some(old) = old {
                        c.duplicates += 1;
                        if decode_record(&old, name)?.fetched_at >= incoming.fetched_at {
                            continue;
                        }
                        c.newer += 1;
                    }
                    to.insert(key, v.value()).map_err(dbe!(name))?;
                    if name == "networks" {
                        keys.insert(key, ()).map_err(dbe!("network_keys"))?;
                    }
                    match src_raw.get(key).map_err(dbe!("raw"))? {
                        Some(body) => {
                            raw.insert(key, body.value()).map_err(dbe!("raw"))?;
                        }
                        None => {
                            raw.remove(key).map_err(dbe!("raw"))?;
                        }
                    }
                }
            }
            let from = src.open_table(GAPS).map_err(dbe!("gaps"))?;
            let mut to = txn.open_table(GAPS).map_err(dbe!("gaps"))?;
            for item in from.iter().map_err(dbe!("gaps"))? {
                let (k, v) = item.map_err(dbe!("gaps"))?;
                let (start, (end, kind, reg)) = (k.value(), v.value());
                key_parts(start, end, reg)?;
                c.gaps += 1;
                let old_end = to.get(start).map_err(dbe!("gaps"))?.map(|o| o.value().0);
                if old_end.is_none_or(|e| e < end) {
                    to.insert(start, (end, kind, reg)).map_err(dbe!("gaps"))?;
                }
            }
            let from = src.open_table(FAILURES).map_err(dbe!("failures"))?;
            let mut to = txn.open_table(FAILURES).map_err(dbe!("failures"))?;
            for item in from.iter().map_err(dbe!("failures"))? {
                let (k, v) = item.map_err(dbe!("failures"))?;
                let incoming = decode_failure(v.value())?;
                c.failures += 1;
                let old = to
                    .get(k.value())
                    .map_err(dbe!("failures"))?
                    .map(|o| o.value().to_vec());
                if let Some(old) = old {
                    if decode_failure(&old)?.at >= incoming.at {
                        continue;
                    }
                }
                to.insert(k.value(), v.value()).map_err(dbe!("failures"))?;
            }
            let from = src.open_table(COUNTERS).map_err(dbe!("counters"))?;
            let mut to = txn.open_table(COUNTERS).map_err(dbe!("counters"))?;
            for item in from.iter().map_err(dbe!("counters"))? {
                let (k, v) = item.map_err(dbe!("counters"))?;
                let old = to
                    .get(k.value())
                    .map_err(dbe!("counters"))?
                    .map(|o| o.value());
                let sum = old.unwrap_or(0).saturating_add(v.value());
                to.insert(k.value(), sum).map_err(dbe!("counters"))?;
            }
        }
        txn.commit().map_err(dbe!("(merge commit)"))?;
        Ok(c)
    }

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
        let txn = self.rw()?.begin_write().map_err(dbe!("(merge)"))?;
        {
            let mut t = txn.open_table(KNOWN).map_err(dbe!("known"))?;
            t.retain(|_, _| false).map_err(dbe!("known"))?;
            for (chunk, rs) in split_by_eight(known.ranges()) {
                let set = IntervalSet::from_ranges(rs);
                t.insert(chunk, set.to_bytes().as_slice())
                    .map_err(dbe!("known"))?;
            }
            let mut fails = txn.open_table(FAILURES).map_err(dbe!("failures"))?;
            for a in &stale {
                fails.remove(*a).map_err(dbe!("failures"))?;
            }
            let from = serde_json::to_vec(inputs).map_err(dbe!("meta"))?;
            let mut meta = txn.open_table(META).map_err(dbe!("meta"))?;
            meta.insert("merged_from", from.as_slice())
                .map_err(dbe!("meta"))?;
        }
        txn.commit().map_err(dbe!("(merge commit)"))?;
        Ok(stale.len() as u64)
    }
}

fn decode_failure(bytes: &[u8]) -> Result<Failure> {
    serde_json::from_slice(bytes).map_err(|e| Error::Corrupt {
        table: "failures",
        message: e.to_string(),
    })
}

fn decode_record(bytes: &[u8], table: &'static str) -> Result<Record> {
    serde_json::from_slice(bytes).map_err(|e| Error::Corrupt {
        table,
        message: e.to_string(),
    })
}

fn key_parts(start: u32, end: u32, reg: u8) -> Result<(Range, Registry)> {
    let range = Range::new(start, end).ok_or_else(|| Error::Corrupt {
        table: "networks",
        message: format!("start {start} > end {end}"),
    })?;
    let registry = Registry::from_index(usize::from(reg)).ok_or_else(|| Error::Corrupt {
        table: "networks",
        message: format!("registry index {reg}"),
    })?;
    Ok((range, registry))
}

fn read_chunked_set(
    txn: &ReadTransaction,
    def: TableDefinition<u8, &[u8]>,
    name: &'static str,
) -> Result<IntervalSet> {
    let t = txn.open_table(def).map_err(dbe!(name))?;
    let mut ranges = Vec::new();
    for item in t.iter().map_err(dbe!(name))? {
        let (_, v) = item.map_err(dbe!(name))?;
        let set = IntervalSet::from_bytes(v.value()).map_err(|e| Error::Corrupt {
            table: name,
            message: e.to_string(),
        })?;
        ranges.extend_from_slice(set.ranges());
    }
    Ok(IntervalSet::from_ranges(ranges))
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

/// Gzip (RFC 1952) with a compressor reused per thread: a fresh deflate
/// state per answer cost more than the compression itself.
fn gzip(bytes: &[u8]) -> Vec<u8> {
    use flate2::{Compress, Compression, Crc, FlushCompress, Status};
    thread_local! {
        static DEFLATE: std::cell::RefCell<Compress> =
            std::cell::RefCell::new(Compress::new(Compression::fast(), false));
    }
    // Header: magic, deflate, no flags, no mtime, no extra flags, unknown OS.
    let mut out = Vec::with_capacity(bytes.len() / 3 + 64);
    out.extend_from_slice(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]);
    DEFLATE.with(|d| {
        let mut d = d.borrow_mut();
        d.reset();
        loop {
            if out.len() == out.capacity() {
                out.reserve(4096);
            }
            let done = usize::try_from(d.total_in())
                .unwrap_or(bytes.len())
                .min(bytes.len());
            match d.compress_vec(&bytes[done..], &mut out, FlushCompress::Finish) {
                Ok(Status::StreamEnd) | Err(_) => break,
                Ok(Status::BufError) => out.reserve(4096),
                Ok(Status::Ok) => {}
            }
        }
    });
    let mut crc = Crc::new();
    crc.update(bytes);
    out.extend_from_slice(&crc.sum().to_le_bytes());
    out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prefix::parse_addr_lenient;

    fn tmp(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("ipcrawl-store-{}-{name}", std::process::id()));
        let _ = std::fs::remove_file(&d);
        d
    }

    fn rec(start: &str, end: &str, reg: Registry, placeholder: bool) -> Record {
        let range = Range::new(
            parse_addr_lenient(start).unwrap(),
            parse_addr_lenient(end).unwrap(),
        )
        .unwrap();
        Record {
            registry: reg,
            network: Network {
                handle: format!("H-{start}"),
                range,
                name: Some("N".into()),
                net_type: None,
                country: None,
                parent_handle: None,
                parent_range: None,
                up_link: None,
                status: vec![],
                entities: vec![],
                registration: None,
                last_changed: None,
                placeholder,
            },
            queried: range.start,
            source_url: "http://127.0.0.1/ip/x".into(),
            fetched_at: "2026-11-27T00:00:00Z".into(),
        }
    }

    #[test]
    fn round_trip_and_known_set() {
        let p = tmp("rt");
        let s = Store::open_or_create(&p).unwrap();
        let a = rec("1.0.0.0", "1.0.0.255", Registry::Apnic, false);
        let b = rec("2.255.0.0", "3.0.255.255", Registry::Ripe, false);
        let ph = rec("2.0.0.0", "2.255.255.255", Registry::Ripe, true);
        s.apply(&[
            Write::Network(Box::new(a.clone()), b"{\"x\":1}".to_vec()),
            Write::Network(Box::new(b.clone()), b"{}".to_vec()),
            Write::Network(Box::new(ph.clone()), b"{}".to_vec()),
            Write::Gap(Range::new(5, 9).unwrap(), GapKind::NotFound, Registry::Arin),
            Write::Counters([("queries".to_string(), 7)].into()),
        ])
        .unwrap();
        drop(s);
        let s = Store::open_read(&p).unwrap();
        assert_eq!(s.counts().unwrap(), (2, 1));
        assert_eq!(s.records(false).unwrap(), vec![a.clone(), b.clone()]);
        assert_eq!(s.records(true).unwrap().len(), 3);
        let known = s.load_known().unwrap();
        assert_eq!(known.ranges(), &[a.network.range, b.network.range]);
        assert_eq!(
            s.raw(a.network.range, Registry::Apnic).unwrap().unwrap(),
            b"{\"x\":1}"
        );
        assert_eq!(s.counters().unwrap()["queries"], 7);
        assert_eq!(s.gaps().unwrap()[0].1, GapKind::NotFound);
        let _ = std::fs::remove_file(&p);
    }

    #[test]
    fn gzip_round_trips_with_a_reused_compressor() {
        let big: Vec<u8> = (0..200_000u32)
            .flat_map(|i| (i % 251).to_le_bytes())
            .collect();
        for body in [&b""[..], b"{}", &big, b"{\"again\":true}"] {
            let gz = gzip(body);
            let mut back = Vec::new();
            GzDecoder::new(&gz[..]).read_to_end(&mut back).unwrap();
            assert_eq!(back, body);
        }
    }

    #[test]
    fn seeds_survive_and_are_replaced() {
        let p = tmp("seeds");
        let s = Store::open_or_create(&p).unwrap();
        assert!(s.load_plan().unwrap().is_none());
        let plan = crate::seeds::grid(&["8.0.0.0/16".parse().unwrap()], 24).unwrap();
        s.replace_seeds(&plan).unwrap();
        let back = s.load_plan().unwrap().unwrap();
        assert_eq!(back.seeds, plan.seeds);
        assert_eq!(back.space, plan.space);
        assert_eq!(back.info.seeds, 256);
        let _ = std::fs::remove_file(&p);
    }

    #[test]
    fn foreign_files_are_refused() {
        let p = tmp("foreign");
        std::fs::write(&p, b"this is not a database at all, just some text").unwrap();
        let e = Store::open_read(&p).err().unwrap().to_string();
        assert!(e.contains("not a readable ipcrawl database"), "{e}");
        let e = Store::open_or_create(&p).err().unwrap().to_string();
        assert!(e.contains("not a readable ipcrawl database"), "{e}");
        // A redb file without ipcrawl's tables.
        let _ = std::fs::remove_file(&p);
        let db = Database::create(&p).unwrap();
        drop(db);
        let e = Store::open_read(&p).err().unwrap().to_string();
        assert!(e.contains("meta table"), "{e}");
        let missing = tmp("missing");
        assert!(matches!(Store::open_read(&missing), Err(Error::Missing(_))));
        let _ = std::fs::remove_file(&p);
    }

    #[test]
    fn merge_keeps_the_newest_answer_and_unites_the_rest() {
        let (pa, pb, po) = (tmp("ma"), tmp("mb"), tmp("mo"));
        let a = Store::open_or_create(&pa).unwrap();
        let b = Store::open_or_create(&pb).unwrap();
        let old = rec("1.0.0.0", "1.0.0.255", Registry::Apnic, false);
        let mut new = old.clone();
        new.fetched_at = "2026-12-01T00:00:00Z".into();
        new.network.name = Some("NEWER".into());
        let other = rec("2.0.0.0", "2.0.0.255", Registry::Ripe, false);
        let failure = |addr: u32| Failure {
            addr,
            end: addr,
            registry: Registry::Ripe,
            reason: "HTTP 503".into(),
            attempts: 5,
            at: "2026-11-27T00:00:00Z".into(),
        };
        a.apply(&[
            Write::Network(Box::new(old.clone()), b"old".to_vec()),
            Write::Gap(
                Range::new(100, 109).unwrap(),
                GapKind::NotFound,
                Registry::Arin,
            ),
            Write::Failure(failure(other.network.range.start + 5)),
            Write::Failure(failure(7 << 24)),
            Write::Counters([("queries".to_string(), 3)].into()),
        ])
        .unwrap();
        b.apply(&[
            Write::Network(Box::new(new.clone()), b"new".to_vec()),
            Write::Network(Box::new(other.clone()), b"{}".to_vec()),
            Write::Gap(
                Range::new(100, 199).unwrap(),
                GapKind::NotFound,
                Registry::Arin,
            ),
            Write::Counters([("queries".to_string(), 4)].into()),
        ])
        .unwrap();
        drop((a, b));
        let (a, b) = (
            Store::open_read(&pa).unwrap(),
            Store::open_read(&pb).unwrap(),
        );
        // Either order: the newer answer wins, with its raw body.
        for order in [[&a, &b], [&b, &a]] {
            let _ = std::fs::remove_file(&po);
            let o = Store::open_or_create(&po).unwrap();
            let mut dups = 0;
            for s in order {
                dups += o.merge_from(s).unwrap().duplicates;
            }
            assert_eq!(dups, 1);
            assert_eq!(o.finish_merge(&["a".into(), "b".into()]).unwrap(), 1);
            assert_eq!(o.records(false).unwrap(), vec![new.clone(), other.clone()]);
            assert_eq!(
                o.raw(new.network.range, Registry::Apnic).unwrap().unwrap(),
                b"new"
            );
            assert_eq!(o.counters().unwrap()["queries"], 7);
            assert_eq!(o.gaps().unwrap()[0].0, Range::new(100, 199).unwrap());
            // The failure inside a merged network is dropped; the other stays.
            let f = o.failures().unwrap();
            assert_eq!(f.len(), 1);
            assert_eq!(f[0].addr, 7 << 24);
            let known = o.load_known().unwrap();
            assert_eq!(known.ranges(), &[new.network.range, other.network.range]);
        }
        for p in [pa, pb, po] {
            let _ = std::fs::remove_file(p);
        }
    }
}
