//! `merge`: unite shard databases into one.
//!
//! The inputs are opened without ever being written (a file left by a killed
//! crawl is repaired in a private copy, see [`Store::open_input`]). The
//! output is built in a temporary file beside `OUT` and renamed onto it only
//! when complete, so a failure leaves no half file and an old `OUT` stays
//! intact until the new one replaces it. A merge killed with SIGKILL leaves
//! its temporary output and input copies behind; the next merge into the
//! same directory removes them (see [`crate::outfile`] for when a
//! temporary counts as stale).
//!
//! What the merged database holds:
//! - networks and placeholders: one per (start, end, registry); the newest
//!   answer (`fetched_at`) wins, with its raw answer;
//! - gaps, failures and counters: united (longest gap per start, latest
//!   failure per address, counters summed); failures inside a merged network
//!   or gap are dropped (the sweep would never retry them);
//! - the seed plan: the union of the inputs' plans — their seeds and their
//!   swept spaces. Shards of one crawl share one plan (each shard's part is
//!   cut from it at crawl time), so their union is that plan, and a `crawl`
//!   on the merged file resumes the whole job without re-asking anything;
//! - the known-network set, rebuilt from the merged networks.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::outfile::{self, same_file, Temp};
use crate::seeds::{PlanInfo, SeedPlan, SeedSet};
use crate::store::{self, MergeCounts, Store};

/// A merge that could not be done.
#[derive(Debug)]
pub enum Error {
    /// `-o` names one of the inputs.
    OutputIsInput(PathBuf),
    /// A file-system step failed.
    Io {
        /// What was being done.
        what: String,
        /// The error.
        error: std::io::Error,
    },
    /// An input (or the output) could not be read or written.
    Store(PathBuf, store::Error),
    /// A bug (or a damaged file redb did not catch): the panic's message.
    Internal(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::OutputIsInput(p) => write!(
                f,
                "the output {} is also an input: merge into a new file (inputs are never modified)",
                p.display()
            ),
            Error::Io { what, error } => write!(f, "{what}: {error}"),
            // Store errors name their file already, except storage failures.
            Error::Store(p, e @ (store::Error::Db { .. } | store::Error::Corrupt { .. })) => {
                write!(f, "{}: {e}", p.display())
            }
            Error::Store(_, e) => write!(f, "{e}"),
            Error::Internal(m) => write!(f, "internal error (a damaged input?): {m}"),
        }
    }
}

impl std::error::Error for Error {}

/// What a merge did.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// Sums over the inputs.
    pub counts: MergeCounts,
    /// Stored networks in the output.
    pub networks: u64,
    /// Stored placeholders in the output.
    pub placeholders: u64,
    /// Failures standing in the output.
    pub failures: u64,
    /// Failures dropped because a merged network or gap covers them.
    pub failures_dropped: u64,
    /// The merged seed plan, if any input had one.
    pub plan: Option<PlanInfo>,
}

/// Merges `inputs` into a new database at `out` (replacing any file there).
pub fn merge(out: &Path, inputs: &[PathBuf]) -> Result<Report, Error> {
    for i in inputs {
        if same_file(out, i) {
            return Err(Error::OutputIsInput(out.to_path_buf()));
        }
    }
    // An existing OUT that is a symbolic link: the file it names is replaced.
    let target = match std::fs::metadata(out) {
        Ok(m) if m.is_file() => std::fs::canonicalize(out).unwrap_or_else(|_| out.to_path_buf()),
        _ => out.to_path_buf(),
    };
    let dir = outfile::dir_of(&target);
    if !dir.is_dir() {
        return Err(Error::Io {
            what: format!("cannot write {}", out.display()),
            error: std::io::Error::new(std::io::ErrorKind::NotFound, "no such directory"),
        });
    }
    // Killed merges' leftovers: their input copies here (the output's
    // temporaries go when `Temp::beside` reserves ours).
    outfile::remove_stale_in(&dir, check_copy_pid);
    // Open (and so check) every input before creating anything.
    let stores = guarded(|| {
        inputs
            .iter()
            .map(|p| Store::open_input(p, &dir).map_err(|e| Error::Store(p.clone(), e)))
            .collect::<Result<Vec<Store>, Error>>()
    })?;
    let tmp = Temp::beside(&target).map_err(|error| Error::Io {
        what: format!("cannot write {}", out.display()),
        error,
    })?;
    let result = guarded(|| build(tmp.path(), &stores, inputs));
    drop(stores);
    // A failure drops `tmp`, which removes the temporary file.
    let report = result?;
    tmp.rename_onto().map_err(|error| Error::Io {
        what: format!("cannot move the merged database onto {}", out.display()),
        error,
    })?;
    Ok(report)
}

/// Runs `f`, turning a panic into [`Error::Internal`] (the caller cleans up).
fn guarded<T>(f: impl FnOnce() -> Result<T, Error>) -> Result<T, Error> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or_else(|p| {
        let m = p
            .downcast_ref::<&str>()
            .map(ToString::to_string)
            .or_else(|| p.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "panic".into());
        Err(Error::Internal(m))
    })
}

fn build(tmp: &Path, stores: &[Store], inputs: &[PathBuf]) -> Result<Report, Error> {
    let st = |e| Error::Store(tmp.to_path_buf(), e);
    let merged = Store::open_or_create(tmp).map_err(st)?;
    let mut report = Report::default();
    let mut plans = Vec::new();
    for (s, p) in stores.iter().zip(inputs) {
        let c = merged
            .merge_from(s)
            .map_err(|e| Error::Store(p.clone(), e))?;
        let r = &mut report.counts;
        r.records += c.records;
        r.duplicates += c.duplicates;
        r.newer += c.newer;
        r.gaps += c.gaps;
        r.failures += c.failures;
        if let Some(plan) = s.load_plan().map_err(|e| Error::Store(p.clone(), e))? {
            plans.push(plan);
        }
    }
    if let Some(plan) = union_plans(plans) {
        merged.replace_seeds(&plan).map_err(st)?;
        report.plan = Some(plan.info);
    }
    let names: Vec<String> = inputs.iter().map(|p| p.display().to_string()).collect();
    report.failures_dropped = merged.finish_merge(&names).map_err(st)?;
    (report.networks, report.placeholders) = merged.counts().map_err(st)?;
    report.failures = merged.failures().map_err(st)?.len() as u64;
    Ok(report)
}

/// The union of seed plans: every seed and every swept address of any of
/// them. Identical plans (shards of one crawl) give that plan back.
pub fn union_plans(plans: Vec<SeedPlan>) -> Option<SeedPlan> {
    let mut it = plans.into_iter();
    let mut acc = it.next()?;
    for p in it {
        if p.seeds == acc.seeds && p.space == acc.space {
            continue;
        }
        let seeds = SeedSet::from_sorted(merge_sorted(acc.seeds.iter(), p.seeds.iter()));
        let space = acc.space.union(&p.space);
        let mut within = acc.info.within.clone();
        for w in p.info.within {
            if !within.contains(&w) {
                within.push(w);
            }
        }
        let same_kind = acc.info.kind == p.info.kind;
        acc.info = PlanInfo {
            kind: if same_kind {
                acc.info.kind
            } else {
                "merged".into()
            },
            granularity: acc
                .info
                .granularity
                .filter(|g| Some(*g) == p.info.granularity),
            within,
            seeds: seeds.len(),
            space_addresses: space.address_count(),
        };
        acc.seeds = seeds;
        acc.space = space;
    }
    Some(acc)
}

/// Two ascending sequences merged into one (duplicates kept; `from_sorted` drops them).
fn merge_sorted(
    a: impl Iterator<Item = u32>,
    b: impl Iterator<Item = u32>,
) -> impl Iterator<Item = u32> {
    let mut a = a.peekable();
    let mut b = b.peekable();
    std::iter::from_fn(move || match (a.peek(), b.peek()) {
        (Some(x), Some(y)) if x <= y => a.next(),
        (Some(_), Some(_)) | (None, _) => b.next(),
        (Some(_), None) => a.next(),
    })
}

/// The pid in the name of an input's checked copy, as
/// [`Store::open_input`] names them: `.{input}.check-{pid}-{n}.tmp`.
fn check_copy_pid(file: &str) -> Option<u32> {
    let body = file.strip_prefix('.')?.strip_suffix(".tmp")?;
    let (_, tail) = body.rsplit_once(".check-")?;
    let (pid, n) = tail.split_once('-')?;
    if n.is_empty()
        || !n.bytes().all(|b| b.is_ascii_digit())
        || !pid.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    pid.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seeds::grid;

    #[test]
    fn plans_unite() {
        let a = grid(&["8.0.0.0/16".parse().unwrap()], 24).unwrap();
        let b = grid(&["8.0.128.0/17".parse().unwrap()], 24).unwrap();
        let c = grid(&["9.0.0.0/16".parse().unwrap()], 24).unwrap();
        let same = union_plans(vec![a.clone(), a.clone()]).unwrap();
        assert_eq!(same.seeds, a.seeds);
        assert_eq!(same.info, a.info);
        let u = union_plans(vec![a.clone(), b, c]).unwrap();
        assert_eq!(u.seeds.len(), 512);
        assert_eq!(u.space.address_count(), 2 << 16);
        assert_eq!(
            u.info.within,
            vec!["8.0.0.0/16", "8.0.128.0/17", "9.0.0.0/16"]
        );
        assert_eq!(u.info.seeds, 512);
        assert!(union_plans(vec![]).is_none());
    }

    #[test]
    fn same_file_sees_through_paths() {
        let d = std::env::temp_dir().join(format!("ipcrawl-merge-same-{}", std::process::id()));
        std::fs::create_dir_all(d.join("sub")).unwrap();
        let f = d.join("x.redb");
        std::fs::write(&f, b"x").unwrap();
        assert!(same_file(&f, &d.join("sub/../x.redb")));
        assert!(!same_file(&f, &d.join("y.redb")));
        let _ = std::fs::remove_dir_all(&d);
    }

    /// The cleaner knows the names `Store::open_input` really gives its copies.
    #[test]
    fn the_copies_open_input_makes_are_the_ones_cleaned() {
        let d = std::env::temp_dir().join(format!("ipcrawl-merge-copies-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        let db = d.join("shard-0.redb");
        drop(Store::open_or_create(&db).unwrap());
        let input = Store::open_input(&db, &d).unwrap();
        let copies: Vec<String> = std::fs::read_dir(&d)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n != "shard-0.redb")
            .collect();
        assert_eq!(copies.len(), 1, "{copies:?}");
        assert_eq!(
            check_copy_pid(&copies[0]),
            Some(std::process::id()),
            "{copies:?}"
        );
        drop(input);
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn input_copies_are_recognised_by_name() {
        assert_eq!(check_copy_pid(".shard-0.redb.check-4242-0.tmp"), Some(4242));
        assert_eq!(check_copy_pid(".a.check-b.redb.check-7-12.tmp"), Some(7));
        for other in [
            "shard.redb.check-1-0.tmp",
            ".shard.redb.check-1-0.tmp.keep",
            ".shard.redb.check-x-0.tmp",
            ".shard.redb.check-1-.tmp",
            ".shard.redb.ipcrawl-1-0.tmp",
        ] {
            assert_eq!(check_copy_pid(other), None, "{other}");
        }
    }
}
