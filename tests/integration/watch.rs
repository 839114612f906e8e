//! Watching a running crawl (issue 14.5): a crawl holds its DB locked, so
//! `stats` and `coverage` read the status file it publishes beside it
//! (`DB.status.json`) and show it as a live snapshot; with no status file
//! they say where to look. The crawl is kept running by a scripted LACNIC
//! server whose lookups hang until the test releases them, so every
//! verdict waits for a state (the status file saying `running`, the crawl's
//! exit), never for a time.

use std::path::Path;
use std::process::{Child, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::server::{self, not_found, CrawlArgs, Registry};
use crate::util::{json, Workdir};

/// Longest the test waits for a state.
const DEADLINE: Duration = Duration::from_secs(180);

/// The status file of `db`.
fn status_path(db: &Path) -> std::path::PathBuf {
    let mut s = db.as_os_str().to_os_string();
    s.push(".status.json");
    s.into()
}

/// Polls `db`'s status file until `want` holds of it (or panics after
/// [`DEADLINE`], or when `child` exits first).
fn wait_status(
    db: &Path,
    child: &mut Child,
    want: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    let t = Instant::now();
    loop {
        if let Ok(text) = std::fs::read_to_string(status_path(db)) {
            // Replaced whole by a rename: every read is one complete document.
            let doc = json(&text);
            if want(&doc) {
                return doc;
            }
        }
        assert!(
            child.try_wait().expect("poll crawl").is_none(),
            "the crawl ended before its status file said what the test waits for"
        );
        assert!(t.elapsed() < DEADLINE, "status file never ready");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

/// Runs and insists on exit 0; returns stdout.
fn ok(w: &Workdir, args: &[&str]) -> String {
    let out = w.run(args);
    let (o, e) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{args:?}\n{o}\n{e}");
    o
}

#[test]
fn stats_and_coverage_show_a_running_crawls_live_snapshot() {
    let w = Workdir::new("watch-live");
    let release = Arc::new(AtomicBool::new(false));
    let r = Arc::clone(&release);
    let regs = server::start(move |reg, _req, _| {
        if reg == Registry::Lacnic {
            // Held until the test has looked at the running crawl.
            while !r.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(5));
            }
        }
        not_found()
    });
    ok(&w, &["gen-seeds", "--within", "200.0.0.0/24"]);
    let args = regs.crawl_args(&["--timeout", "3600", "--threads", "4"]);
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut child = w
        .cmd(&a)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start crawl");
    let pid = u64::from(child.id());
    let db = w.db();
    let doc = wait_status(&db, &mut child, |d| {
        d["state"] == "running" && d["progress"]["total"].as_u64().is_some()
    });
    // The file itself: the documented members.
    assert_eq!(doc["ipcrawl_status"], 1);
    assert_eq!(doc["pid"], pid);
    assert_eq!(doc["command"]["depth"], "coverage");
    assert_eq!(doc["command"]["search"], "off");
    assert_eq!(doc["command"]["rates"]["lacnic"], "unlimited");
    assert_eq!(doc["progress"]["total"], 256);
    for k in ["started_at", "updated_at", "updated_unix", "write_every_s"] {
        assert!(!doc[k].is_null(), "{k} missing: {doc}");
    }
    assert_eq!(doc["stats"]["networks"], 0);
    assert_eq!(doc["coverage"]["non_reserved"], 3_702_258_432_u64);

    // The DB is locked: `stats` and `coverage` show the snapshot, exit 0.
    let s = ok(&w, &["stats"]);
    assert!(
        s.starts_with(&format!("LIVE SNAPSHOT of a running crawl (pid {pid})")),
        "{s}"
    );
    assert!(s.contains("test.redb.status.json, written "), "{s}");
    assert!(s.contains("command: depth coverage, search off"), "{s}");
    assert!(
        s.contains("of the plan's addresses swept (0 of 256)"),
        "{s}"
    );
    assert!(s.contains("lacnic"), "{s}");
    let sj = json(&ok(&w, &["stats", "--json"]));
    assert_eq!(sj["live"]["snapshot"], true, "{sj}");
    assert_eq!(sj["live"]["verdict"], "running");
    assert_eq!(sj["live"]["pid"], pid);
    assert_eq!(sj["live"]["command"]["depth"], "coverage");
    assert!(sj["live"]["age_s"].as_u64().is_some());
    assert_eq!(sj["networks"], 0);
    assert!(
        sj["by_registry"]["lacnic"]["queries"].as_u64().is_some(),
        "{sj}"
    );
    let c = ok(&w, &["coverage"]);
    assert!(c.starts_with("LIVE SNAPSHOT of a running crawl"), "{c}");
    assert!(
        c.contains("covered     0 addresses of the non-reserved 3702258432"),
        "{c}"
    );
    let cj = json(&ok(&w, &["coverage", "--json"]));
    assert_eq!(cj["live"]["verdict"], "running", "{cj}");
    assert_eq!(cj["non_reserved"], 3_702_258_432_u64);
    assert_eq!(cj["percent"], 0.0);
    // The map needs the DB itself.
    let out = w.run(&["coverage", "--map", "m.png"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).1.contains("the map needs the DB itself"));

    // Released: the crawl finishes, its last document says so, and `stats`
    // reads the DB again.
    release.store(true, Ordering::SeqCst);
    let t = Instant::now();
    let st = loop {
        if let Some(st) = child.try_wait().expect("poll crawl") {
            break st;
        }
        assert!(t.elapsed() < DEADLINE, "crawl never finished");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(st.success(), "crawl exit {st:?}");
    let last = json(&std::fs::read_to_string(status_path(&db)).expect("status file"));
    assert_eq!(last["state"], "finished", "{last}");
    assert_eq!(last["progress"]["swept"], 256);
    let s = ok(&w, &["stats"]);
    assert!(!s.contains("SNAPSHOT"), "{s}");
    assert!(s.contains("256 total") || s.contains("done"), "{s}");
    regs.shutdown();
}

#[test]
fn a_db_in_use_without_status_file_says_where_to_look_and_an_old_one_is_stale() {
    let w = Workdir::new("watch-pointer");
    ok(&w, &["gen-seeds", "--within", "200.0.0.0/24"]);
    let db = w.db();
    // Another process holds the DB, not a crawl: this test, through redb.
    let held = redb::Database::builder().open(&db).expect("hold the DB");
    for cmd in ["stats", "coverage"] {
        let out = w.run(&[cmd]);
        let (o, e) = text(&out);
        assert_eq!(out.status.code(), Some(2), "{cmd}: {o}{e}");
        assert!(o.is_empty(), "{o}");
        assert_eq!(e.lines().count(), 1, "one line: {e}");
        let want = format!(
            "ipcrawl: error: {} is in use by another process, and it has no status file {} beside it",
            db.display(),
            status_path(&db).display()
        );
        assert!(e.starts_with(&want), "{e}");
        assert!(e.contains("watch its progress on its stderr"), "{e}");
    }
    // A status file left by a crawl that stopped rewriting it ten minutes
    // ago (its pid this live test process): shown, marked stale.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let doc = serde_json::json!({
        "ipcrawl_status": 1, "state": "running", "pid": std::process::id(),
        "db": db.display().to_string(), "started_at": "2026-01-01T00:00:00Z",
        "updated_at": "2026-01-01T00:10:00Z", "updated_unix": now - 600, "write_every_s": 5,
        "command": {"depth": "all", "search": "auto"},
        "stats": {"networks": 7, "placeholders": 1},
        "coverage": {"networks": 7, "addresses": 1024, "non_reserved": 3_702_258_432_u64, "percent": 0.0},
        "progress": null,
    });
    std::fs::write(status_path(&db), doc.to_string()).unwrap();
    let s = ok(&w, &["stats"]);
    assert!(s.starts_with("STALE SNAPSHOT"), "{s}");
    assert!(s.contains("not rewritten for 6"), "{s}");
    assert!(s.contains("networks    7 stored, 1 placeholders"), "{s}");
    let cj = json(&ok(&w, &["coverage", "--json"]));
    assert_eq!(cj["live"]["verdict"], "stale", "{cj}");
    assert_eq!(cj["addresses"], 1024);
    // Garbage in the status file: one line naming it, never "in use" alone.
    std::fs::write(status_path(&db), b"{half").unwrap();
    let out = w.run(&["stats"]);
    let (_, e) = text(&out);
    assert_eq!(out.status.code(), Some(2));
    assert!(e.contains("is not a status document"), "{e}");
    drop(held);
}

/// LACNIC's 2015 answer echoing the query (handle, start and end all the
/// queried address) is refused, and the refusal is recorded for good: the
/// crawl that meets it exits 0, `stats` lists it as a refused answer with
/// its reason, and the next crawl asks nothing for it and exits 0 too
/// (before: a failure retried by every crawl, each one exiting 1).
#[test]
fn an_echoed_query_is_refused_once_for_good_and_not_asked_again() {
    let w = Workdir::new("watch-echo");
    let echo = crate::util::fixture("lacnic/lacnic-200.57.141.161-2015.json");
    let regs = server::start(move |reg, req, _| {
        if reg == Registry::Lacnic && req.path() == "/ip/200.57.141.161" {
            return crate::server::Reply::json(200, echo.clone());
        }
        not_found()
    });
    // Eight seeds, 200.57.141.160 to .167: the echo at .161, 404s around it.
    ok(
        &w,
        &[
            "gen-seeds",
            "--within",
            "200.57.141.160/29",
            "--granularity",
            "32",
        ],
    );
    let args = regs.crawl_args(&[]);
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    let asked = |regs: &server::Registries| {
        regs.requests()
            .iter()
            .filter(|(r, p)| *r == Registry::Lacnic && p == "/ip/200.57.141.161")
            .count()
    };

    let out = w.run(&a);
    let (o, e) = text(&out);
    assert_eq!(out.status.code(), Some(0), "first crawl\n{o}\n{e}");
    let s = json(&o);
    assert_eq!(s["stop"], "finished", "{s}");
    assert_eq!(s["failures"], 0, "{s}");
    assert_eq!(s["refused"], 1, "{s}");
    assert_eq!(asked(&regs), 1, "asked once");
    let total_first = regs.requests().len();

    let st = json(&ok(&w, &["stats", "--json"]));
    assert_eq!(st["failures"], serde_json::json!([]), "{st}");
    let refused = st["refused"].as_array().expect("refused list");
    assert_eq!(refused.len(), 1, "{st}");
    assert_eq!(refused[0]["addr"], "200.57.141.161");
    assert_eq!(refused[0]["registry"], "lacnic");
    let reason = refused[0]["reason"].as_str().unwrap_or_default();
    assert!(
        reason.contains(
            "answer echoes the query: handle, startAddress and endAddress are all 200.57.141.161"
        ),
        "{reason}"
    );
    assert_eq!(st["seeds"]["refused"], 1, "{st}");
    assert_eq!(st["seeds"]["failed"], 0);
    assert_eq!(st["seeds"]["pending"], 0);
    let table = ok(&w, &["stats"]);
    assert!(
        table.contains("refused answers (recorded for good: not asked again")
            && table.contains("200.57.141.161 (lacnic, 1 attempts): http://"),
        "{table}"
    );
    assert!(!table.contains("failed lookups"), "{table}");

    // The second crawl: nothing asked at all (everything else was a 404
    // gap), exit 0.
    let out = w.run(&a);
    let (o, e) = text(&out);
    assert_eq!(out.status.code(), Some(0), "second crawl\n{o}\n{e}");
    let s = json(&o);
    assert_eq!(s["run_queries"], 0, "{s}");
    assert_eq!(s["refused"], 1);
    assert_eq!(asked(&regs), 1, "the echo was asked again");
    assert_eq!(
        regs.requests().len(),
        total_first,
        "the second crawl asked something"
    );
    regs.shutdown();
}
