//! Watching a running crawl. A crawl holds its DB locked (redb admits one
//! process), so `stats` and `coverage` cannot open it; instead the crawl
//! publishes a snapshot beside it, the status file `DB.status.json`
//! ([`StatusFile`]; format and rules in [`ipcrawl::status`] and the
//! README's "The live status file"), and on a DB in use these commands
//! show that snapshot, marked as one, with its age and whether it is stale
//! ([`held`]), or, with no status file, say where to look.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::anyhow;
use ipcrawl::crawl::{Progress, Summary};
use ipcrawl::status::{self, Seen, Verdict};
use ipcrawl::store::Store;
use serde_json::Value;

use super::progress::{fmt_eta, json_line, Estimate, JsonMap};

/// The text `--help` of `stats`, `coverage` and `crawl` end with.
pub const HELP: &str = "\
Watching a running crawl: a crawl holds its DB locked, and writes DB.status.json beside it \
(atomically: a temporary renamed onto it) when it opens the DB, every 5 s, and once more at its \
end with the final state. `stats` and `coverage` on a DB in use show that snapshot instead, marked \
LIVE SNAPSHOT with its age (STALE when its crawl is gone or it was not rewritten for 2 min; \
`--json`: the usual keys where the crawl knows them, plus a `live` member), exit 0; with no status \
file, one line saying where to look, exit 2.

DB.status.json members: ipcrawl_status (format, 1); state (starting, running, then finished, \
interrupted, max_queries, put_off, unreachable or failed); pid; db; started_at, updated_at \
(RFC 3339); updated_unix; write_every_s; command {depth, search, strategy, shard, threads, \
max_queries, rates}; stats (as stats --json: the counters, networks, placeholders); coverage (as \
coverage --json: networks, placeholders, addresses, non_reserved, percent); progress (the last \
--progress json line without its counters; null while starting). See the README, \"The live \
status file\".";

/// The live status file a crawl rewrites beside its DB
/// ([`ipcrawl::status`]): every [`status::WRITE_EVERY`] from the progress
/// ticks, and once at the end with the final state.
pub struct StatusFile {
    path: PathBuf,
    /// The members every document repeats: format, pid, db, started_at,
    /// command.
    base: JsonMap,
    last: Option<Instant>,
    latest: Option<Progress>,
    warned: bool,
}

impl StatusFile {
    /// The status file of `db`, for a crawl run with `command` (its depth,
    /// search, shard, ...).
    pub fn new(db: &Path, command: serde_json::Value) -> StatusFile {
        let mut base = JsonMap::new();
        base.insert("ipcrawl_status".into(), status::FORMAT.into());
        base.insert("pid".into(), std::process::id().into());
        base.insert("db".into(), db.display().to_string().into());
        base.insert("started_at".into(), ipcrawl::time::now_rfc3339().into());
        base.insert("write_every_s".into(), status::WRITE_EVERY.as_secs().into());
        base.insert("command".into(), command);
        StatusFile {
            path: status::path_for(db),
            base,
            last: None,
            latest: None,
            warned: false,
        }
    }

    /// The first document, before the crawl's first tick (the statistics
    /// may take minutes to fetch). Returns a warning the first time a
    /// write fails.
    pub fn starting(&mut self, store: &Store) -> Option<String> {
        self.write("starting", store, None)
    }

    /// A progress tick: keeps `p`, and rewrites the file when
    /// [`status::WRITE_EVERY`] has passed since the last write.
    pub fn tick(&mut self, p: &Progress, e: &Estimate, store: &Store) -> Option<String> {
        self.latest = Some(p.clone());
        if self.last.is_some_and(|t| t.elapsed() < status::WRITE_EVERY) {
            return None;
        }
        self.write("running", store, Some(e))
    }

    /// The last document: the crawl ended with `state` (`finished`,
    /// `interrupted`, ...), with the counters of its summary when it has
    /// one.
    pub fn finish(
        &mut self,
        state: &str,
        summary: Option<&Summary>,
        e: &Estimate,
        store: &Store,
    ) -> Option<String> {
        if let (Some(p), Some(s)) = (self.latest.as_mut(), summary) {
            p.snapshot = s.snapshot.clone();
            p.run_queries = s.run_queries;
            p.elapsed = s.elapsed;
        }
        self.write(state, store, Some(e))
    }

    fn write(&mut self, state: &str, store: &Store, e: Option<&Estimate>) -> Option<String> {
        self.last = Some(Instant::now());
        let doc = self.document(state, store, e);
        let err = status::write(&self.path, &doc).err()?;
        if self.warned {
            return None;
        }
        self.warned = true;
        Some(format!(
            "warning: cannot write the status file {} ({err}): `stats` and `coverage` cannot show this crawl while it runs",
            self.path.display()
        ))
    }

    fn document(&self, state: &str, store: &Store, e: Option<&Estimate>) -> serde_json::Value {
        let now = ipcrawl::time::Now::read();
        let figures = status::store_figures(store).unwrap_or(serde_json::Value::Null);
        let counters = match &self.latest {
            Some(p) => p.snapshot.clone(),
            None => store
                .counters()
                .map(|m| ipcrawl::crawl::telemetry::snapshot_from_map(&m))
                .unwrap_or_default(),
        };
        let mut stats = serde_json::to_value(&counters).unwrap_or_default();
        if let Some(o) = stats.as_object_mut() {
            for k in ["networks", "placeholders"] {
                o.insert(k.into(), figures[k].clone());
            }
        }
        let mut progress = match (&self.latest, e) {
            (Some(p), Some(e)) => json_line(p, e),
            _ => serde_json::Value::Null,
        };
        if let Some(o) = progress.as_object_mut() {
            // The same counters are the document's `stats`.
            o.remove("counters");
        }
        let mut doc = self.base.clone();
        doc.insert("state".into(), state.into());
        doc.insert("updated_at".into(), now.rfc3339().into());
        doc.insert("updated_unix".into(), now.unix_secs.into());
        doc.insert("stats".into(), stats);
        doc.insert("coverage".into(), figures);
        doc.insert("progress".into(), progress);
        doc.into()
    }
}

/// The snapshot of the crawl holding `db` (whose open failed: in use), or
/// the one-line error saying where to look when there is none.
pub fn held(db: &Path) -> anyhow::Result<(PathBuf, Seen)> {
    let path = status::path_for(db);
    let now = ipcrawl::time::Now::read().unix_secs;
    match status::read(&path, now) {
        Ok(Some(seen)) => Ok((path, seen)),
        Ok(None) => Err(anyhow!(
            "{} is in use by another process, and it has no status file {} beside it (a crawl of this version writes one within seconds of its start): \
             if a crawl holds it, watch its progress on its stderr (--progress json) and run this command again once it ends; \
             if an older ipcrawl or another program holds it, wait for it",
            db.display(),
            path.display()
        )),
        Err(e) => Err(anyhow!(
            "{} is in use by another process, and its status file cannot be shown: {e}",
            db.display()
        )),
    }
}

/// The snapshot's header for people: what it is, how old, whether stale.
pub fn header(db: &Path, path: &Path, seen: &Seen) -> Vec<String> {
    let d = &seen.doc;
    let age = fmt_eta(seen.age);
    let mut lines = match &seen.verdict {
        Verdict::Running => vec![format!(
            "LIVE SNAPSHOT of a running crawl (pid {}), not the DB itself: {} is held by it",
            d["pid"],
            db.display()
        )],
        Verdict::Ended(state) => vec![format!(
            "LAST SNAPSHOT of a crawl that just ended ({state}, pid {}) and is closing {}: run this command again in a moment for the DB itself",
            d["pid"],
            db.display()
        )],
        Verdict::Stale(why) => vec![format!(
            "STALE SNAPSHOT (do not trust it as the present): {why}; {} is held by another process",
            db.display()
        )],
    };
    lines.push(format!(
        "read from {}, written {age} ago ({}; a running crawl rewrites it every {} s); crawl started {}",
        path.display(),
        text(&d["updated_at"]),
        status::WRITE_EVERY.as_secs(),
        text(&d["started_at"]),
    ));
    let c = &d["command"];
    lines.push(format!(
        "command: depth {}, search {}, strategy {}, shard {}, threads {}, max queries {}",
        text(&c["depth"]),
        text(&c["search"]),
        text(&c["strategy"]),
        text(&c["shard"]),
        text(&c["threads"]),
        text(&c["max_queries"]),
    ));
    lines
}

/// The progress lines of a snapshot: swept share, ETA, queries and rate,
/// then one line per registry.
pub fn progress_lines(doc: &Value) -> Vec<String> {
    let p = &doc["progress"];
    if p.is_null() {
        return vec![format!(
            "progress    none yet (state {}: fetching the delegated statistics, laying out the lanes)",
            text(&doc["state"])
        )];
    }
    let eta = p["eta_s"].as_u64().map_or_else(
        || "?".into(),
        |s| fmt_eta(std::time::Duration::from_secs(s)),
    );
    let mut out = vec![format!(
        "progress    {}% of the plan's addresses swept ({} of {}), ETA {eta}, {} queries this run ({}/s), {} s elapsed",
        text(&p["percent"]),
        text(&p["swept"]),
        text(&p["total"]),
        text(&p["run_queries"]),
        text(&p["qps"]),
        text(&p["elapsed_s"]),
    )];
    if let Some(regs) = p["by_registry"].as_object() {
        out.push(format!(
            "  {:<8} {:>12} {:>12} {:>8} {:>9} {:>10}",
            "registry", "swept", "of", "percent", "queries/s", "ETA"
        ));
        for (name, r) in regs {
            let (swept, total) = (r["swept"].as_u64().unwrap_or(0), r["total"].as_u64());
            let Some(total) = total.filter(|t| *t > 0) else {
                continue;
            };
            let eta = r["eta_s"].as_u64().map_or_else(
                || "?".into(),
                |s| fmt_eta(std::time::Duration::from_secs(s)),
            );
            out.push(format!(
                "  {name:<8} {swept:>12} {total:>12} {:>7.2}% {:>9} {eta:>10}",
                swept as f64 * 100.0 / total as f64,
                text(&p["qps_by_registry"][name]),
            ));
        }
    }
    out
}

/// `--json` on a DB in use: `figures` (the snapshot's `stats` or
/// `coverage` member: the usual keys where the crawl knows them) with a
/// `live` member saying what it is.
pub fn json(figures: &Value, path: &Path, seen: &Seen) -> Value {
    let (verdict, note) = match &seen.verdict {
        Verdict::Running => ("running", None),
        Verdict::Ended(_) => ("ended", None),
        Verdict::Stale(why) => ("stale", Some(why.clone())),
    };
    let d = &seen.doc;
    let live = serde_json::json!({
        "snapshot": true,
        "status_file": path.display().to_string(),
        "age_s": seen.age.as_secs(),
        "verdict": verdict,
        "note": note,
        "state": d["state"],
        "pid": d["pid"],
        "started_at": d["started_at"],
        "updated_at": d["updated_at"],
        "command": d["command"],
        "progress": d["progress"],
    });
    let mut out = match figures {
        Value::Object(m) => m.clone(),
        _ => JsonMap::new(),
    };
    out.insert("live".into(), live);
    out.into()
}

/// A JSON value for people: strings bare, `null` as `-`.
pub fn text(v: &Value) -> String {
    match v {
        Value::Null => "-".into(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
