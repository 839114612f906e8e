//! The live status file of a running crawl, `DB.status.json`: what `stats`
//! and `coverage` show while a crawl holds the database (redb locks the file
//! for its one writer, so no other process can open it, not even to read).
//!
//! The crawl rewrites it whole every [`WRITE_EVERY`] and once more when it
//! ends (with its final state), through [`crate::outfile`]: a temporary
//! beside it, synced and renamed onto it, so a reader sees one complete
//! document or the previous one, never half of one. What it holds is what
//! the crawl knows cheaply (its counters, its lanes' progress, two table
//! lengths and the known-network set), under the keys `stats --json` and
//! `coverage --json` use where the figure is the same; the format is in the
//! README ("The live status file").
//!
//! A reader judges a document by [`judge`]: the process that wrote it gone
//! (Linux: no `/proc/PID`), or no rewrite for [`STALE_AFTER`], makes it
//! stale; a final state makes it the end of a run.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{json, Value};

use crate::prefix::{self, NON_RESERVED_TOTAL};
use crate::store::{self, Store};
use crate::trie::IntervalSet;

/// The format version, the document's `ipcrawl_status` member.
pub const FORMAT: u64 = 1;
/// How often a running crawl rewrites the file.
pub const WRITE_EVERY: Duration = Duration::from_secs(5);
/// A running crawl's document not rewritten for this long is stale (a
/// stopped process, a full disk).
pub const STALE_AFTER: Duration = Duration::from_secs(120);

/// The status file of the database `db`: `db` with `.status.json` appended.
pub fn path_for(db: &Path) -> PathBuf {
    let mut s = db.as_os_str().to_os_string();
    s.push(".status.json");
    PathBuf::from(s)
}

/// Writes `doc` to `path` whole (pretty-printed, one final newline).
pub fn write(path: &Path, doc: &Value) -> std::io::Result<()> {
    let mut bytes = serde_json::to_vec_pretty(doc).map_err(std::io::Error::other)?;
    bytes.push(b'\n');
    crate::outfile::write_whole(path, &bytes)
}

/// The store's figures a status document carries, read in two cheap steps
/// (table lengths; the known-network set, one value per /8): `networks`,
/// `placeholders`, and the covered `addresses` of the non-reserved space
/// with their `percent`, as `coverage` counts them.
pub fn store_figures(store: &Store) -> Result<Value, store::Error> {
    let (networks, placeholders) = store.counts()?;
    let nr = IntervalSet::from_ranges(prefix::non_reserved());
    let addresses = store.load_known()?.intersect(&nr).address_count();
    let percent =
        (addresses as f64 * 100.0 / NON_RESERVED_TOTAL as f64 * 10_000.0).round() / 10_000.0;
    Ok(json!({
        "networks": networks,
        "placeholders": placeholders,
        "addresses": addresses,
        "non_reserved": NON_RESERVED_TOTAL,
        "percent": percent,
    }))
}

/// What a reader makes of a status document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Written by a crawl still running, recently.
    Running,
    /// The last document of a run that ended (its `state`: `finished`,
    /// `interrupted`, ...).
    Ended(String),
    /// Not to be trusted as the present: why, one line.
    Stale(String),
}

/// A status document as read, with its age and the verdict on it.
#[derive(Clone, Debug)]
pub struct Seen {
    /// The document.
    pub doc: Value,
    /// Time since its `updated_unix`.
    pub age: Duration,
    /// See [`judge`].
    pub verdict: Verdict,
}

/// Reads the status file at `path` at wall-clock time `now_unix`:
/// `Ok(None)` when there is none, an error (one line) when it is not a
/// status document of this format.
pub fn read(path: &Path, now_unix: u64) -> Result<Option<Seen>, String> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
    };
    let doc: Value = serde_json::from_slice(&bytes).map_err(|e| {
        format!(
            "{} is not a status document (expected JSON: {e})",
            path.display()
        )
    })?;
    if doc["ipcrawl_status"].as_u64() != Some(FORMAT) {
        return Err(format!(
            "{} is not an ipcrawl status document of format {FORMAT} (its ipcrawl_status is {})",
            path.display(),
            doc["ipcrawl_status"]
        ));
    }
    let updated = doc["updated_unix"].as_u64().unwrap_or(0);
    let age = Duration::from_secs(now_unix.saturating_sub(updated));
    let pid = doc["pid"].as_u64().and_then(|p| u32::try_from(p).ok());
    let verdict = judge(&doc, age, pid.and_then(alive));
    Ok(Some(Seen { doc, age, verdict }))
}

/// The verdict on a document `age` old whose writer is `alive` (`None`:
/// this system cannot tell): stale when the writer is gone or a running
/// crawl has not rewritten it for [`STALE_AFTER`]; else ended when its
/// `state` is a final one; else running.
pub fn judge(doc: &Value, age: Duration, alive: Option<bool>) -> Verdict {
    let state = doc["state"].as_str().unwrap_or("unknown");
    let pid = &doc["pid"];
    if alive == Some(false) {
        return Verdict::Stale(if matches!(state, "running" | "starting") {
            format!("its crawl (pid {pid}) is gone without a final state (killed?)")
        } else {
            format!("its crawl (pid {pid}) ended ({state}) and is gone")
        });
    }
    if matches!(state, "running" | "starting") {
        if age > STALE_AFTER {
            return Verdict::Stale(format!(
                "not rewritten for {} s (a running crawl rewrites it every {} s): its crawl (pid {pid}) may be stopped or unable to write",
                age.as_secs(),
                WRITE_EVERY.as_secs()
            ));
        }
        return Verdict::Running;
    }
    Verdict::Ended(state.to_string())
}

/// Whether process `pid` lives (`None`: this system cannot tell).
fn alive(pid: u32) -> Option<bool> {
    let proc = Path::new("/proc");
    proc.join("self")
        .exists()
        .then(|| proc.join(pid.to_string()).exists())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(state: &str) -> Value {
        json!({"ipcrawl_status": FORMAT, "state": state, "pid": 7, "updated_unix": 1000})
    }

    #[test]
    fn the_verdict_follows_the_writer_the_age_and_the_state() {
        let fresh = Duration::from_secs(3);
        let old = STALE_AFTER + Duration::from_secs(1);
        assert_eq!(judge(&doc("running"), fresh, Some(true)), Verdict::Running);
        assert_eq!(judge(&doc("running"), fresh, None), Verdict::Running);
        assert!(
            matches!(judge(&doc("running"), old, Some(true)), Verdict::Stale(w) if w.contains("not rewritten for 121 s"))
        );
        assert!(
            matches!(judge(&doc("running"), fresh, Some(false)), Verdict::Stale(w) if w.contains("pid 7") && w.contains("gone"))
        );
        assert_eq!(
            judge(&doc("interrupted"), old, Some(true)),
            Verdict::Ended("interrupted".into())
        );
        assert!(matches!(
            judge(&doc("finished"), fresh, Some(false)),
            Verdict::Stale(_)
        ));
    }

    #[test]
    fn reading_tells_missing_from_foreign_and_measures_the_age() {
        let dir = std::env::temp_dir().join(format!("ipcrawl-status-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let db = dir.join("x.redb");
        let p = path_for(&db);
        assert_eq!(p, dir.join("x.redb.status.json"));
        let _ = std::fs::remove_file(&p);
        assert!(read(&p, 0).unwrap().is_none());
        std::fs::write(&p, b"{\"a\":1}").unwrap();
        assert!(read(&p, 0).unwrap_err().contains("not an ipcrawl status"));
        std::fs::write(&p, b"{trunc").unwrap();
        assert!(read(&p, 0).unwrap_err().contains("expected JSON"));
        let mut d = doc("running");
        d["pid"] = std::process::id().into();
        write(&p, &d).unwrap();
        let seen = read(&p, 1042).unwrap().unwrap();
        assert_eq!(seen.age, Duration::from_secs(42));
        assert_eq!(seen.verdict, Verdict::Running);
        assert_eq!(seen.doc["state"], "running");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
