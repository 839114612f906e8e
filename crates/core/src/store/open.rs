//! Opening a database: create, check the meta table and the schema, repair
//! a file left by a killed process, migrate a schema-1 file when writing.

use std::path::Path;

use redb::{Database, ReadTransaction, ReadableDatabase, ReadableTable, TableError};

use super::codec::decode_dict;
use super::compress::Dicts;
use super::error::{corrupt, step, tbl};
use super::schema::{
    COUNTERS, DICTS, FAILURES, GAPS, KNOWN, MAGIC, META, NETWORKS, NETWORK_KEYS, OLDEST_READABLE,
    PLACEHOLDERS, RAW, SCHEMA_VERSION, SEEDS, SPACE, SWEPT,
};
use super::{Db, Error, Result, Store};

/// redb's page cache (its default is 1 GiB, which a long crawl would fill).
const CACHE_BYTES: usize = 128 << 20;

/// The error of opening `path` (`writing`: for writing, or creating it).
fn open_error(path: &Path, e: redb::DatabaseError, writing: bool) -> Error {
    match e {
        redb::DatabaseError::DatabaseAlreadyOpen => Error::InUse(path.to_path_buf()),
        redb::DatabaseError::Storage(redb::StorageError::Io(e)) => io_error(path, &e, writing),
        other => Error::NotIpcrawl(path.to_path_buf(), other.to_string()),
    }
}

/// The error of an I/O failure on `path` while opening it: a missing
/// directory, a permission, or a file that cannot be a database.
pub(super) fn io_error(path: &Path, e: &std::io::Error, writing: bool) -> Error {
    use std::io::ErrorKind as K;
    let p = path.to_path_buf();
    match e.kind() {
        K::NotFound => match missing_dir(path) {
            Some(dir) => Error::NoDir(p, dir),
            None => Error::Missing(p),
        },
        K::PermissionDenied | K::ReadOnlyFilesystem => Error::Denied {
            path: p,
            action: match (writing, path.exists()) {
                (false, _) => "read",
                (true, true) => "write",
                (true, false) => "create",
            },
            cause: e.to_string(),
        },
        K::IsADirectory => Error::NotIpcrawl(p, "it is a directory".into()),
        _ => Error::NotIpcrawl(p, e.to_string()),
    }
}

/// The nearest directory above `path` that does not exist, if its parent
/// directory is missing.
fn missing_dir(path: &Path) -> Option<std::path::PathBuf> {
    let parent = path.parent().filter(|d| !d.as_os_str().is_empty())?;
    if parent.exists() {
        return None;
    }
    let mut dir = parent;
    while let Some(up) = dir
        .parent()
        .filter(|d| !d.as_os_str().is_empty() && !d.exists())
    {
        dir = up;
    }
    Some(dir.to_path_buf())
}

/// Whether a database exists at `path` (an unreadable directory on the way
/// is an error, not a missing file).
fn exists(path: &Path) -> Result<bool> {
    match std::fs::metadata(path) {
        Ok(_) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(io_error(path, &e, false)),
    }
}

/// No file at `path`: a missing directory is named as such.
fn missing(path: &Path) -> Error {
    match missing_dir(path) {
        Some(dir) => Error::NoDir(path.to_path_buf(), dir),
        None => Error::Missing(path.to_path_buf()),
    }
}

/// The schema version of an ipcrawl file, after checking its magic.
fn schema_of(txn: &ReadTransaction, path: &Path) -> Result<u32> {
    let t = match txn.open_table(META) {
        Ok(t) => t,
        Err(TableError::TableDoesNotExist(_)) => {
            return Err(Error::NotIpcrawl(
                path.to_path_buf(),
                "a redb file without ipcrawl's meta table".into(),
            ))
        }
        Err(e) => return Err(Error::NotIpcrawl(path.to_path_buf(), e.to_string())),
    };
    let get = |k: &str| -> Result<Option<Vec<u8>>> {
        Ok(t.get(k).map_err(tbl(&META))?.map(|v| v.value().to_vec()))
    };
    if get("magic")?.as_deref() != Some(MAGIC) {
        return Err(Error::NotIpcrawl(
            path.to_path_buf(),
            "meta table lacks the ipcrawl magic".into(),
        ));
    }
    let v = get("schema_version")?.unwrap_or_default();
    let v = String::from_utf8_lossy(&v).to_string();
    match v.parse::<u32>() {
        Ok(n) if (OLDEST_READABLE..=SCHEMA_VERSION).contains(&n) => Ok(n),
        _ => Err(Error::Schema {
            path: path.to_path_buf(),
            found: v,
        }),
    }
}

fn schema_of_db(db: &Database, path: &Path) -> Result<u32> {
    let txn = db.begin_read().map_err(step("(read transaction)"))?;
    schema_of(&txn, path)
}

impl Store {
    /// Opens the database for writing, creating it if missing. A schema-1
    /// file is migrated to the current schema first (see [`super::schema`]).
    pub fn open_or_create(path: &Path) -> Result<Store> {
        let exists = exists(path)?;
        if exists {
            // Check what the file is first, read-only: redb's writer rewrites
            // the header even of a file that is then refused (a foreign file,
            // another schema version or a damaged file must stay untouched).
            drop(Store::open_read(path)?);
        }
        let mut db = if exists {
            Database::builder()
                .set_cache_size(CACHE_BYTES)
                .open(path)
                .map_err(|e| open_error(path, e, true))?
        } else {
            Database::builder()
                .set_cache_size(CACHE_BYTES)
                .create(path)
                .map_err(|e| open_error(path, e, true))?
        };
        if exists && schema_of_db(&db, path)? < 2 {
            super::migrate::from_v1(&db)?;
            // The rewrite left the old pages free: give them back.
            db.compact().map_err(step("(compact after migration)"))?;
        }
        if exists && schema_of_db(&db, path)? < 3 {
            super::migrate::from_v2(&db)?;
        }
        init_tables(&db, SCHEMA_VERSION)?;
        Store::new(Db::Rw(db), path, SCHEMA_VERSION)
    }

    /// Opens an existing database for writing.
    pub fn open_rw(path: &Path) -> Result<Store> {
        if !exists(path)? {
            return Err(missing(path));
        }
        Store::open_or_create(path)
    }

    /// Creates a new database in the schema-1 format of c6db4ef, which
    /// [`Store::apply`] and [`Store::replace_seeds`] then write: the
    /// baseline of the store bench and the source of migration tests.
    #[doc(hidden)]
    pub fn create_v1(path: &Path) -> Result<Store> {
        let db = Database::builder()
            .set_cache_size(CACHE_BYTES)
            .create(path)
            .map_err(|e| Error::NotIpcrawl(path.to_path_buf(), e.to_string()))?;
        init_tables(&db, 1)?;
        Store::new(Db::Rw(db), path, 1)
    }

    /// Opens an existing database read-only (reports; works in read-only
    /// directories), after redb's full integrity check of it (see
    /// the store's `verify` module: every committed page against its checksum, the
    /// check `merge` runs on its inputs, here without a copy and without
    /// writing): a damaged file is refused with [`Error::Damaged`] instead
    /// of read. A file left by a killed crawl cannot be read before redb
    /// repairs it; it is repaired in place first (as the next crawl would
    /// do), which needs write access. A schema-1 file is read as it is,
    /// never migrated here.
    pub fn open_read(path: &Path) -> Result<Store> {
        // redb's read-only open trusts the stored allocator state, and
        // panics on some damage to it (before the check can run).
        let open = || {
            std::panic::catch_unwind(|| Store::open_ro_db(path)).unwrap_or_else(|_| {
                Err(Error::Damaged(
                    path.to_path_buf(),
                    "redb failed reading its allocator state".into(),
                ))
            })
        };
        let db = match open() {
            Err(Error::NeedsRepair(_)) => {
                Store::repair(path)?;
                open()?
            }
            other => other?,
        };
        // `db` holds the file meanwhile: no crawl can start on it.
        super::verify::verify(path)?;
        Store::of_ro(db, path)
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
            Err(Error::Damaged(
                path.to_path_buf(),
                "redb failed reading it".into(),
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
            .map_err(|e| match e {
                redb::DatabaseError::Storage(redb::StorageError::Corrupted(m)) => {
                    Error::Damaged(path.to_path_buf(), super::verify::checked(&m))
                }
                e => Error::NotIpcrawl(path.to_path_buf(), e.to_string()),
            })?;
        let schema = schema_of_db(&db, path)?;
        Store::new(Db::Rw(db), path, schema)
    }

    fn open_ro(path: &Path) -> Result<Store> {
        Store::of_ro(Store::open_ro_db(path)?, path)
    }

    fn open_ro_db(path: &Path) -> Result<redb::ReadOnlyDatabase> {
        if !exists(path)? {
            return Err(missing(path));
        }
        Database::builder()
            .set_cache_size(CACHE_BYTES)
            .open_read_only(path)
            .map_err(|e| match e {
                redb::DatabaseError::RepairAborted => Error::NeedsRepair(path.to_path_buf()),
                e => open_error(path, e, false),
            })
    }

    fn of_ro(db: redb::ReadOnlyDatabase, path: &Path) -> Result<Store> {
        let txn = db.begin_read().map_err(step("(read transaction)"))?;
        let schema = schema_of(&txn, path)?;
        drop(txn);
        Store::new(Db::Ro(db), path, schema)
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
            Err(e) => Err(open_error(path, e, true)),
        }
    }

    /// Every stored dictionary, checked.
    pub(super) fn load_dicts(&self) -> Result<Dicts> {
        let txn = self.read()?;
        let t = match txn.open_table(DICTS) {
            Ok(t) => t,
            // A read-only file of this schema always has it; be lenient anyway.
            Err(TableError::TableDoesNotExist(_)) => return Ok(Dicts::new()),
            Err(e) => return Err(tbl(&DICTS)(e)),
        };
        let mut out = Dicts::new();
        for item in t.iter().map_err(tbl(&DICTS))? {
            let (k, v) = item.map_err(tbl(&DICTS))?;
            let d = decode_dict(k.value(), v.value()).map_err(|m| corrupt(&DICTS, k.value(), m))?;
            out.insert(d.id, d);
        }
        Ok(out)
    }
}

/// Creates every table of `schema` and, in a new file, the meta entries.
fn init_tables(db: &Database, schema: u32) -> Result<()> {
    let txn = db.begin_write().map_err(step("(init)"))?;
    {
        let mut meta = txn.open_table(META).map_err(tbl(&META))?;
        if meta.get("magic").map_err(tbl(&META))?.is_none() {
            meta.insert("magic", MAGIC).map_err(tbl(&META))?;
            meta.insert("schema_version", schema.to_string().as_bytes())
                .map_err(tbl(&META))?;
            meta.insert("created_at", crate::time::now_rfc3339().as_bytes())
                .map_err(tbl(&META))?;
        }
        txn.open_table(SEEDS).map_err(tbl(&SEEDS))?;
        txn.open_table(SPACE).map_err(tbl(&SPACE))?;
        txn.open_table(NETWORKS).map_err(tbl(&NETWORKS))?;
        txn.open_table(NETWORK_KEYS).map_err(tbl(&NETWORK_KEYS))?;
        txn.open_table(PLACEHOLDERS).map_err(tbl(&PLACEHOLDERS))?;
        txn.open_table(RAW).map_err(tbl(&RAW))?;
        txn.open_table(GAPS).map_err(tbl(&GAPS))?;
        txn.open_table(FAILURES).map_err(tbl(&FAILURES))?;
        txn.open_table(COUNTERS).map_err(tbl(&COUNTERS))?;
        txn.open_table(KNOWN).map_err(tbl(&KNOWN))?;
        if schema >= 2 {
            txn.open_table(DICTS).map_err(tbl(&DICTS))?;
        }
        if schema >= 3 {
            txn.open_table(SWEPT).map_err(tbl(&SWEPT))?;
        }
    }
    txn.commit().map_err(step("(init)"))
}
