//! The store's error type, and the helpers that name the table of a failure
//! from its [`TableDefinition`] (so no hand-written name can be wrong).

use std::fmt;
use std::path::PathBuf;

use redb::{Key, TableDefinition, TableHandle, Value};

use super::schema::{OLDEST_READABLE, SCHEMA_VERSION};

/// How to recover from a damaged file (nothing reads past the damage: redb
/// offers no way to skip a page that fails its checksum).
const RECOVER: &str =
    "restore a copy of it, or crawl again into a new file (`ipcrawl --db NEW.redb crawl`)";

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
    /// The file's directory (the first path named) does not exist: the
    /// second path is the nearest missing directory.
    NoDir(PathBuf, PathBuf),
    /// The file cannot be opened as needed for lack of permission.
    Denied {
        /// The file.
        path: PathBuf,
        /// `read`, `write` or `create`.
        action: &'static str,
        /// What the system said.
        cause: String,
    },
    /// A page of the file fails redb's integrity check (it was changed
    /// outside redb: a disk or a copy damaged it).
    Damaged(PathBuf, String),
    /// Left by a killed process and in need of a repair, which needs write access.
    NeedsRepair(PathBuf),
    /// redb or I/O failure while working on `table`.
    Db {
        /// The table (or step) involved.
        table: &'static str,
        /// What redb said.
        message: String,
    },
    /// A stored value could not be decoded (bad tag, checksum, or content).
    Corrupt {
        /// The table involved.
        table: &'static str,
        /// The key of the value, when one is involved.
        key: Option<String>,
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
                "{} has schema version {found}, this ipcrawl reads version {SCHEMA_VERSION} \
                 (and migrates versions {OLDEST_READABLE} and up): written by a newer ipcrawl? use that one",
                path.display()
            ),
            Error::InUse(p) => write!(
                f,
                "{} is in use by another ipcrawl process (a crawl?): wait for it to end, or use another --db",
                p.display()
            ),
            Error::NoDir(p, dir) => write!(
                f,
                "{}: the directory {} does not exist (create it, or pass another --db)",
                p.display(),
                dir.display()
            ),
            Error::Denied {
                path,
                action,
                cause,
            } => {
                let why = match *action {
                    "read" => "reports need read access to the file",
                    "create" => "a new database needs write access to its directory",
                    _ => "crawl and gen-seeds write to the DB (the reports only read it)",
                };
                write!(f, "cannot {action} {}: {cause}; {why}", path.display())
            }
            Error::Damaged(p, m) => write!(
                f,
                "{} is damaged, so what it holds cannot be trusted ({m}): {RECOVER}",
                p.display()
            ),
            Error::NeedsRepair(p) => write!(
                f,
                "{} was not closed cleanly (a killed crawl?) and needs a repair, which needs write access to it: run `ipcrawl --db {} stats` where it is writable",
                p.display(),
                p.display()
            ),
            Error::Db { table, message } => write!(f, "database error in table {table}: {message}"),
            Error::Corrupt {
                table,
                key: Some(key),
                message,
            } => write!(
                f,
                "corrupt value in table {table} at key {key}: {message}; the database is damaged: {RECOVER}"
            ),
            Error::Corrupt {
                table,
                key: None,
                message,
            } => write!(
                f,
                "corrupt value in table {table}: {message}; the database is damaged: {RECOVER}"
            ),
        }
    }
}

impl std::error::Error for Error {}

/// Result alias for this module.
pub type Result<T> = std::result::Result<T, Error>;

/// `map_err` for a redb failure on the table `def` (its name comes from
/// the definition itself).
pub(crate) fn tbl<K: Key + 'static, V: Value + 'static, E: fmt::Display>(
    def: &'static TableDefinition<'static, K, V>,
) -> impl FnOnce(E) -> Error {
    move |e| Error::Db {
        table: def.name(),
        message: e.to_string(),
    }
}

/// `map_err` for a redb failure in a step that is not one table
/// (`"(batch commit)"`, `"(read transaction)"`).
pub(crate) fn step<E: fmt::Display>(what: &'static str) -> impl FnOnce(E) -> Error {
    move |e| Error::Db {
        table: what,
        message: e.to_string(),
    }
}

/// A corrupt value of table `def` at `key`.
pub(crate) fn corrupt<K: Key + 'static, V: Value + 'static>(
    def: &'static TableDefinition<'static, K, V>,
    key: impl fmt::Display,
    message: impl fmt::Display,
) -> Error {
    Error::Corrupt {
        table: def.name(),
        key: Some(key.to_string()),
        message: message.to_string(),
    }
}
