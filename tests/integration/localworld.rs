//! The local RDAP world (`ipcrawl world`) as a subprocess, and crawls
//! against it as subprocesses that can be killed, interrupted and resumed.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::util::{json, jsonl};

/// A small world of four registries: APNIC space holding RIPE NCC and ARIN
/// transfers (1.178.0.0/15, 1.186.0.0/16), RIPE NCC space, LACNIC space with
/// redirects to ARIN, and ARIN space: about 950 queries, 670 networks.
pub const SCOPE: [&str; 5] = [
    "1.176.0.0/12",
    "185.1.0.0/16",
    "185.2.0.0/15",
    "200.0.0.0/13",
    "23.0.0.0/14",
];

/// Longest a crawl subprocess may take before the test gives up.
const CRAWL_DEADLINE: Duration = Duration::from_secs(180);

/// `ipcrawl --db DB ARGS`.
pub fn ipcrawl(db: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_ipcrawl"));
    c.env_remove("IPCRAWL_DB")
        .env_remove("IPCRAWL_CONTACT")
        .arg("--db")
        .arg(db)
        .args(args);
    c
}

/// Runs and insists on exit code 0; returns stdout.
pub fn ok(db: &Path, args: &[&str]) -> String {
    let out = ipcrawl(db, args).output().expect("run ipcrawl");
    assert!(
        out.status.success(),
        "ipcrawl {args:?} on {} failed with {:?}\n--- stdout\n{}\n--- stderr\n{}",
        db.display(),
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 stdout")
}

/// Sends a signal by name (`INT`, `KILL`) to a process.
pub fn signal(pid: u32, name: &str) {
    let st = Command::new("kill")
        .arg(format!("-{name}"))
        .arg(pid.to_string())
        .status()
        .expect("run kill");
    assert!(st.success(), "kill -{name} {pid} failed");
}

/// A running `ipcrawl world`.
pub struct LocalWorld {
    child: Option<Child>,
    stderr: PathBuf,
    /// `NAME=URL` per registry.
    pub urls: Vec<String>,
}

impl LocalWorld {
    /// Starts `ipcrawl world --scope ... --latency-ms L` with its files in `dir`.
    pub fn start(dir: &Path, scope: &[&str], latency_ms: u64) -> LocalWorld {
        LocalWorld::start_with(dir, scope, latency_ms, &[])
    }

    /// [`LocalWorld::start`] with more `ipcrawl world` arguments (`--log FILE`).
    pub fn start_with(
        dir: &Path,
        scope: &[&str],
        latency_ms: u64,
        extra: &[&std::ffi::OsStr],
    ) -> LocalWorld {
        let stderr = dir.join(format!("world-{}.err", unique()));
        let mut c = Command::new(env!("CARGO_BIN_EXE_ipcrawl"));
        c.arg("world")
            .arg("--latency-ms")
            .arg(latency_ms.to_string())
            .args(extra);
        for s in scope {
            c.arg("--scope").arg(s);
        }
        let mut child = c
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&stderr).expect("world stderr file"))
            .spawn()
            .expect("start ipcrawl world");
        let out = child.stdout.take().expect("world stdout");
        let mut urls = Vec::new();
        for line in BufReader::new(out).lines().take(5) {
            urls.push(line.expect("world stdout line"));
        }
        assert_eq!(urls.len(), 5, "world printed {urls:?}");
        LocalWorld {
            child: Some(child),
            stderr,
            urls,
        }
    }

    /// `crawl` arguments pointing at this world, with unlimited rates.
    pub fn crawl_args(&self) -> Vec<String> {
        let mut v = vec!["crawl".to_string()];
        for u in &self.urls {
            v.push("--registry".into());
            v.push(u.clone());
        }
        for r in ["arin", "ripe", "apnic", "lacnic", "afrinic"] {
            v.push("--rate".into());
            v.push(format!("{r}=unlimited"));
        }
        v
    }

    /// `--stats NAME=URL` for all five: the statistics this world serves.
    pub fn stats_args(&self) -> Vec<String> {
        self.urls
            .iter()
            .flat_map(|u| ["--stats".to_string(), u.clone()])
            .collect()
    }

    /// Stops the world (Ctrl-C) and returns its counters by registry
    /// (`{"arin": {"requests": N, "stats": N, "searches": N, ...}, ...}`).
    pub fn stop_counters(mut self) -> serde_json::Value {
        let mut child = self.child.take().expect("world running");
        signal(child.id(), "INT");
        let st = child.wait().expect("wait for world");
        let err = std::fs::read_to_string(&self.stderr).unwrap_or_default();
        assert!(st.success(), "world exited with {st:?}: {err}");
        json(err.lines().last().unwrap_or("{}"))
    }

    /// Stops the world (Ctrl-C) and returns the requests its five servers got.
    pub fn stop(self) -> u64 {
        let counters = self.stop_counters();
        let regs = counters.as_object().expect("world counters object");
        regs.values()
            .map(|c| c["requests"].as_u64().expect("requests counter"))
            .sum()
    }
}

impl Drop for LocalWorld {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::SeqCst)
}

/// `gen-seeds --within SCOPE...`.
pub fn gen_seeds(db: &Path, scope: &[&str]) {
    let mut args = vec!["gen-seeds"];
    for s in scope {
        args.push("--within");
        args.push(s);
    }
    ok(db, &args);
}

/// How a crawl run ended.
pub struct Run {
    /// Exit status.
    pub status: ExitStatus,
    /// The JSON summary line, if the run printed one (not after kill -9).
    pub summary: Option<serde_json::Value>,
    /// stderr.
    pub stderr: String,
    /// Queries sent by the run, by the last progress line or the summary.
    pub queries: u64,
    /// Time from the signal to the exit, if a signal was sent.
    pub exit_after_signal: Option<Duration>,
}

/// Runs `args` (a crawl with `--progress json`), and once the run has sent
/// `stop_at` queries sends `sig` (`KILL` or `INT`); `None` lets it finish.
pub fn crawl(db: &Path, args: &[String], stop_at: Option<(u64, &str)>) -> Run {
    let mut a: Vec<&str> = args.iter().map(String::as_str).collect();
    a.extend(["--progress", "json", "--progress-every", "0.1"]);
    let mut child = ipcrawl(db, &a)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start crawl");
    let (tx, rx) = mpsc::channel::<u64>();
    let err = child.stderr.take().expect("crawl stderr");
    let reader = std::thread::spawn(move || {
        let mut all = String::new();
        for line in BufReader::new(err).lines() {
            let Ok(line) = line else { break };
            if let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) {
                if let Some(q) = v["run_queries"].as_u64() {
                    let _ = tx.send(q);
                }
            }
            all.push_str(&line);
            all.push('\n');
        }
        all
    });
    let started = Instant::now();
    let mut queries = 0;
    let mut signalled: Option<Instant> = None;
    let status = loop {
        if let Some(st) = child.try_wait().expect("poll crawl") {
            break st;
        }
        assert!(
            started.elapsed() < CRAWL_DEADLINE,
            "crawl still running after {CRAWL_DEADLINE:?}"
        );
        match rx.recv_timeout(Duration::from_millis(20)) {
            Ok(q) => queries = queries.max(q),
            Err(mpsc::RecvTimeoutError::Timeout | mpsc::RecvTimeoutError::Disconnected) => {}
        }
        if let Some((at, sig)) = stop_at {
            if signalled.is_none() && queries >= at {
                if sig == "KILL" {
                    let _ = child.kill();
                } else {
                    signal(child.id(), sig);
                }
                signalled = Some(Instant::now());
            }
        }
        if signalled.is_some() {
            // Wait for the exit itself, timing it.
            let st = child.wait().expect("wait for crawl");
            break st;
        }
    };
    let exit_after_signal = signalled.map(|t| t.elapsed());
    let mut out = String::new();
    if let Some(mut o) = child.stdout.take() {
        let _ = std::io::Read::read_to_string(&mut o, &mut out);
    }
    let stderr = reader.join().expect("stderr reader");
    let summary = out.lines().rev().find(|l| l.starts_with('{')).map(json);
    if let Some(s) = &summary {
        queries = s["run_queries"].as_u64().unwrap_or(queries);
    }
    Run {
        status,
        summary,
        stderr,
        queries,
        exit_after_signal,
    }
}

/// One exported record, without what differs between runs of one world
/// (`fetched_at`); with `source_url` only when `with_url`.
pub type Key = (String, String, String, String, bool);

/// The stored networks and placeholders, keyed by (start, end, registry,
/// handle, placeholder); panics on a duplicate (start, end, registry).
pub fn networks(db: &Path) -> BTreeSet<Key> {
    let recs = jsonl(&ok(db, &["export", "--placeholders"]));
    let mut keys = BTreeSet::new();
    let mut ranges = BTreeSet::new();
    for r in &recs {
        let s = |k: &str| r[k].as_str().unwrap_or_default().to_string();
        assert!(
            ranges.insert((s("start"), s("end"), s("registry"))),
            "duplicate network {r} in {}",
            db.display()
        );
        keys.insert((
            s("start"),
            s("end"),
            s("registry"),
            s("handle"),
            r["placeholder"].as_bool().unwrap_or(false),
        ));
    }
    keys
}

/// Every exported record as JSON minus `fetched_at`, keyed by (start, end, registry).
pub fn records(db: &Path) -> BTreeMap<String, serde_json::Value> {
    jsonl(&ok(db, &["export", "--placeholders"]))
        .into_iter()
        .map(|mut r| {
            let key = format!("{} {} {}", r["start"], r["end"], r["registry"]);
            if let Some(o) = r.as_object_mut() {
                o.remove("fetched_at");
            }
            (key, r)
        })
        .collect()
}

/// `coverage --json`.
pub fn coverage(db: &Path) -> serde_json::Value {
    json(&ok(db, &["coverage", "--json"]))
}

/// Describes how two network sets differ (for assertion messages).
pub fn diff(a: &BTreeSet<Key>, b: &BTreeSet<Key>) -> String {
    let only_a: Vec<&Key> = a.difference(b).take(10).collect();
    let only_b: Vec<&Key> = b.difference(a).take(10).collect();
    format!(
        "{} only in the first, e.g. {only_a:?}; {} only in the second, e.g. {only_b:?}",
        a.difference(b).count(),
        b.difference(a).count()
    )
}
