//! The store's integrity and its open errors (issue 15.7): single-byte
//! flips in a copy of a real DB are refused or change nothing, never a
//! silently different export; a lock, a missing directory and a denied
//! permission each get their own one-line error naming the file.

use std::path::{Path, PathBuf};
use std::process::Output;

use crate::util::Workdir;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/db")
        .join(name)
}

/// Exit 2, exactly one line on stderr containing every `needle`, no panic text.
fn assert_refused(out: &Output, what: &str, needles: &[&str]) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{what}: {err}");
    assert_eq!(err.trim().lines().count(), 1, "{what}: not one line: {err}");
    assert!(err.starts_with("ipcrawl: error: "), "{what}: {err}");
    for n in needles {
        assert!(err.contains(n), "{what}: {err:?} lacks {n:?}");
    }
    for bad in ["panicked", "RUST_BACKTRACE", "not a readable"] {
        assert!(!err.contains(bad), "{what}: {err}");
    }
}

/// xorshift64: the flips are the same on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// Flips of one bit each in a copy of `v2.redb` (2,984 networks, written by
/// a real crawl of the local world). Each export is either refused with one
/// line naming the file, or byte for byte the export of the intact file.
/// Before reads ran redb's integrity check, flip 11 of this seed (a bit of a
/// network's key in a leaf page) changed a record silently, and about one
/// flip in a hundred did (seeds 2, 6, 7 of the first eight each hit one in
/// 40 flips); the value checksums caught those inside values only.
#[test]
fn byte_flips_are_refused_or_change_nothing() {
    const FLIPS: usize = 40;
    let wd = Workdir::new("integrity-flips");
    let good = std::fs::read(fixture("v2.redb")).unwrap();
    std::fs::write(wd.db(), &good).unwrap();
    let args = ["export", "--placeholders"];
    let reference = wd.ok(&args);
    assert_eq!(reference.lines().count(), 2984);
    let mut rng = Rng(6);
    let (mut refused, mut same) = (0, 0);
    let mut reasons = std::collections::BTreeMap::<String, usize>::new();
    for i in 0..FLIPS {
        let x = rng.next();
        let at = usize::try_from(x % good.len() as u64).unwrap();
        let bit = 1u8 << ((x >> 32) % 8);
        let mut bad = good.clone();
        bad[at] ^= bit;
        std::fs::write(wd.db(), &bad).unwrap();
        let out = wd.run(&args);
        let what = format!("flip {i}: bit {bit:#04x} of byte {at}");
        if out.status.success() {
            assert!(
                out.stdout == reference.as_bytes(),
                "{what}: exported something else, silently"
            );
            same += 1;
        } else {
            assert_refused(&out, &what, &["test.redb", "damaged"]);
            let err = String::from_utf8_lossy(&out.stderr);
            let why = err.split(" (redb").next().unwrap_or_default();
            *reasons
                .entry(why.replace(wd.dir.to_str().unwrap(), "DIR"))
                .or_default() += 1;
            refused += 1;
        }
        // The reports never write: the file is as it was flipped.
        assert!(
            std::fs::read(wd.db()).unwrap() == bad,
            "{what}: file modified"
        );
    }
    eprintln!("byte flips: {refused} of {FLIPS} refused, {same} exported unchanged");
    for (why, n) in &reasons {
        eprintln!("  {n} x {why}");
    }
    assert!(refused > 0 && same > 0, "{refused} refused, {same} same");
}

/// A flip in a committed page: every read command refuses the file with the
/// same line, naming it, the damage and the way out; the crawl too (it
/// would write into a damaged file).
#[test]
fn every_read_command_refuses_a_damaged_file() {
    let wd = Workdir::new("integrity-commands");
    let mut bad = std::fs::read(fixture("v2.redb")).unwrap();
    // Flip 11 of the seed above: a network's key.
    let mut rng = Rng(6);
    let x = (0..12).map(|_| rng.next()).last().unwrap();
    let at = usize::try_from(x % bad.len() as u64).unwrap();
    bad[at] ^= 1u8 << ((x >> 32) % 8);
    std::fs::write(wd.db(), &bad).unwrap();
    for cmd in [
        &["export"][..],
        &["export", "--placeholders", "-o", "out.csv"],
        &["coverage", "--json"],
        &["stats"],
        &["lookup", "185.0.0.1"],
        &["gen-seeds", "--within", "20.0.0.0/24"],
        &["crawl", "--progress", "none", "--max-queries", "1"],
    ] {
        assert_refused(
            &wd.run(cmd),
            &format!("{cmd:?}"),
            &[
                "test.redb is damaged",
                "integrity check",
                "crawl again into a new file",
            ],
        );
    }
    assert!(!wd.path("out.csv").exists());
    assert!(std::fs::read(wd.db()).unwrap() == bad, "modified");
}

/// Another process holding the DB (as a crawl does) is named as such, for
/// readers and writers.
#[test]
fn a_db_in_use_is_named_in_use() {
    let wd = Workdir::new("integrity-lock");
    std::fs::copy(fixture("v2.redb"), wd.db()).unwrap();
    let held = redb::Database::open(wd.db()).unwrap();
    for cmd in [
        &["export"][..],
        &["lookup", "185.0.0.1"],
        &["gen-seeds", "--within", "20.0.0.0/24"],
        &["crawl", "--progress", "none", "--max-queries", "1"],
    ] {
        assert_refused(
            &wd.run(cmd),
            &format!("{cmd:?}"),
            &["test.redb is in use by another ipcrawl process (a crawl?)"],
        );
    }
    // `stats` and `coverage` look for a running crawl's status file
    // (tests/integration/watch.rs) and say where to look without one.
    for cmd in [&["coverage"][..], &["stats"]] {
        assert_refused(
            &wd.run(cmd),
            &format!("{cmd:?}"),
            &["test.redb is in use by another process", "status file"],
        );
    }
    drop(held);
    wd.ok(&["stats"]);
}

/// A `--db` in a directory that does not exist: the directory is named.
#[test]
fn a_missing_directory_is_named() {
    let wd = Workdir::new("integrity-nodir");
    let db = wd.path("no/such/dir/x.redb");
    let gone = wd.path("no");
    for cmd in [
        &["export"][..],
        &["stats"],
        &["gen-seeds", "--within", "20.0.0.0/24"],
        &["crawl", "--progress", "none", "--max-queries", "1"],
    ] {
        let out = run_as(&[], &db, cmd);
        assert_refused(
            &out,
            &format!("{cmd:?}"),
            &[&format!(
                "{}: the directory {} does not exist",
                db.display(),
                gone.display()
            )],
        );
    }
    assert!(!gone.exists());
}

/// How this test can meet a denied permission: as itself when it is not
/// root, as `nobody` through `setpriv` when it is (root ignores modes), or
/// not at all (then it says so and the test is skipped).
fn unprivileged() -> Option<Vec<String>> {
    let uid = std::process::Command::new("id").arg("-u").output().ok()?;
    if String::from_utf8_lossy(&uid.stdout).trim() != "0" {
        return Some(Vec::new());
    }
    let probe = std::process::Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "true"])
        .status()
        .ok()?;
    probe.success().then(|| {
        [
            "setpriv",
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
        ]
        .map(String::from)
        .to_vec()
    })
}

/// Runs `ipcrawl --db DB ARGS` through `prefix` (empty: directly).
fn run_as(prefix: &[String], db: &Path, args: &[&str]) -> Output {
    let bin = env!("CARGO_BIN_EXE_ipcrawl");
    let mut c = match prefix.split_first() {
        Some((first, rest)) => {
            let mut c = std::process::Command::new(first);
            c.args(rest).arg(bin);
            c
        }
        None => std::process::Command::new(bin),
    };
    c.env_remove("IPCRAWL_DB")
        .current_dir("/")
        .arg("--db")
        .arg(db)
        .args(args)
        .output()
        .unwrap()
}

/// No read access, no write access to the file, none to its directory:
/// each named with the path and what was denied.
#[test]
fn denied_permissions_are_named() {
    use std::os::unix::fs::PermissionsExt;
    let Some(prefix) = unprivileged() else {
        eprintln!(
            "denied_permissions_are_named: SKIPPED: running as root without setpriv, \
             so no permission can be denied here"
        );
        return;
    };
    let wd = Workdir::new("integrity-perm");
    let mode = |p: &Path, m: u32| {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap();
    };
    // The unprivileged user must reach the directory (the temp dir is 1777).
    mode(&wd.dir, 0o777);
    let db = wd.db();
    std::fs::copy(fixture("v2.redb"), &db).unwrap();
    let writers: [&[&str]; 2] = [
        &["gen-seeds", "--within", "20.0.0.0/24"],
        &["crawl", "--progress", "none", "--max-queries", "1"],
    ];

    // Readable, not writable: reports work, writers are refused.
    mode(&db, 0o444);
    let out = run_as(&prefix, &db, &["stats"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for cmd in writers {
        assert_refused(
            &run_as(&prefix, &db, cmd),
            &format!("read-only {cmd:?}"),
            &[
                &format!("cannot write {}", db.display()),
                "ermission denied",
            ],
        );
    }
    // Not even readable.
    mode(&db, 0o000);
    for cmd in [&["export"][..], &["stats"], writers[0]] {
        assert_refused(
            &run_as(&prefix, &db, cmd),
            &format!("unreadable {cmd:?}"),
            &[&format!("cannot read {}", db.display()), "ermission denied"],
        );
    }
    mode(&db, 0o644);
    // A new DB in a directory without write access.
    mode(&wd.dir, 0o555);
    let new = wd.path("new.redb");
    assert_refused(
        &run_as(&prefix, &new, writers[0]),
        "new DB",
        &[
            &format!("cannot create {}", new.display()),
            "ermission denied",
        ],
    );
    // A directory that cannot be searched hides the file: denied, not missing.
    mode(&wd.dir, 0o000);
    assert_refused(
        &run_as(&prefix, &db, &["stats"]),
        "unsearchable dir",
        &[&format!("cannot read {}", db.display()), "ermission denied"],
    );
    mode(&wd.dir, 0o755);
}

/// Crash consistency in the manner of redb's crash tests: a crawl of the
/// local world killed with `kill -9` at points a seeded RNG picks (after
/// the Nth query, by the crawl's own progress lines: no timing in the
/// verdict), at most `KILLS` times, then resumed to the end. After every
/// kill the file passes redb's integrity check (every read command runs
/// it); at the end the exported records equal an uninterrupted crawl's
/// exactly (all fields but `fetched_at` and `source_url`, which names each
/// world's port). The requests ratio is printed, not asserted: what a kill
/// loses depends on the machine's load (`resume` bounds it).
#[test]
fn kill_9_at_seeded_points_resumes_to_the_same_records() {
    use crate::localworld::{crawl, gen_seeds, ok, records, LocalWorld, SCOPE};
    const KILLS: usize = 6;
    const LATENCY_MS: u64 = 30;
    let w = Workdir::new("integrity-crash");
    let base_db = w.path("base.redb");
    let db = w.path("killed.redb");
    let strip = |db: &Path| {
        let mut r = records(db);
        for v in r.values_mut() {
            if let Some(o) = v.as_object_mut() {
                o.remove("source_url");
            }
        }
        r
    };

    let baseline = {
        let (dir, base_db) = (w.dir.clone(), base_db.clone());
        std::thread::spawn(move || {
            let world = LocalWorld::start(&dir, &SCOPE, LATENCY_MS);
            gen_seeds(&base_db, &SCOPE);
            let run = crawl(&base_db, &world.crawl_args(), None);
            assert!(run.status.success(), "baseline crawl: {}", run.stderr);
            world.stop()
        })
    };

    gen_seeds(&db, &SCOPE);
    // Each run's world logs its requests (`id registry GET path ...`).
    let mut logs = Vec::new();
    let logged = |logs: &mut Vec<PathBuf>| {
        let log = w.path(&format!("run{}.log", logs.len()));
        let args = [std::ffi::OsStr::new("--log"), log.as_os_str()];
        let world = LocalWorld::start_with(&w.dir, &SCOPE, LATENCY_MS, &args);
        logs.push(log);
        world
    };
    let mut rng = Rng(15);
    let (mut requests, mut points) = (0, Vec::new());
    let mut finished = false;
    for _ in 0..KILLS {
        // Between 10 and 169 queries into the run (a whole crawl is ~950).
        let at = 10 + rng.next() % 160;
        let world = logged(&mut logs);
        let run = crawl(&db, &world.crawl_args(), Some((at, "KILL")));
        requests += world.stop();
        if run.status.success() {
            finished = true;
            break;
        }
        assert_eq!(
            run.status.code(),
            None,
            "killed by a signal: {}",
            run.stderr
        );
        points.push(at);
        // Repaired on open, then checked whole.
        ok(&db, &["stats", "--json"]);
    }
    if !finished {
        let world = logged(&mut logs);
        let run = crawl(&db, &world.crawl_args(), None);
        requests += world.stop();
        assert!(run.status.success(), "final crawl: {}", run.stderr);
    }
    let base_requests = baseline.join().expect("baseline thread");
    let (a, b) = (strip(&base_db), strip(&db));
    assert!(a.len() > 500, "the world is too small: {} records", a.len());
    let differ: Vec<_> = a
        .iter()
        .filter(|(k, v)| b.get(*k) != Some(v))
        .map(|(k, _)| k)
        .chain(b.keys().filter(|k| !a.contains_key(*k)))
        .take(5)
        .collect();
    assert!(
        differ.is_empty(),
        "{} vs {} records; differing, e.g. {differ:?}",
        a.len(),
        b.len()
    );
    // Requests asked again by a later run (what the kills cost).
    let mut seen = std::collections::BTreeSet::new();
    let mut logged_n = 0;
    for log in &logs {
        for line in std::fs::read_to_string(log).unwrap_or_default().lines() {
            let f: Vec<&str> = line.split_whitespace().collect();
            if let [_, reg, method, path, ..] = f[..] {
                logged_n += 1;
                seen.insert(format!("{reg} {method} {path}"));
            }
        }
    }
    #[allow(clippy::cast_precision_loss)]
    let ratio = requests as f64 / base_requests as f64;
    eprintln!(
        "crash consistency: {} kill -9 at queries {points:?} (seed 15), {} records equal; \
         requests {requests} vs uninterrupted {base_requests}: {ratio:.3}x \
         ({} of {logged_n} logged requests asked again)",
        points.len(),
        a.len(),
        logged_n - seen.len()
    );
}
