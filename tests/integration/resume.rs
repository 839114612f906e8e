//! Crash-safe resume against the real local world: a crawl killed with
//! `kill -9` at several points, then interrupted with Ctrl-C, then run to
//! the end, must store exactly what an uninterrupted crawl of the same world
//! stores, with no duplicates; it must never ask again a query whose answer
//! was stored, and its extra queries must be no more than what the
//! interruptions legitimately lost.
//!
//! Both crawls run at once, each against its own worlds (same seed, so the
//! same networks). `--latency-ms` makes the crawl last long enough to be
//! killed at chosen points: each interrupted run is stopped once it has sent
//! `STEP` queries (about a fifth of the crawl), going by its JSON progress
//! lines. Every run of the interrupted crawl gets a fresh world that logs
//! each request (`ipcrawl world --log`), so what each run asked is known
//! exactly.
//!
//! What an interruption may cost: the answers not yet committed (the writer
//! commits every 50 ms, later when the machine is loaded) plus the queries in
//! flight, asked again by the next run. That depends on the machine's load,
//! so no fixed ratio bounds it. Instead the test measures it: after each
//! interrupted run it reads the DB and counts the run's requests whose answer
//! is not stored (a sweep address no stored network or gap covers, a parent
//! lookup climbing from such an address, a request the world had not logged
//! yet). The interrupted crawl may send at most the uninterrupted crawl's
//! requests plus those; and a run never asks for an address inside a
//! network or gap stored before it started. Both hold whatever the load.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use ipcrawl::prefix::{parse_addr_lenient, Cidr, Range};
use ipcrawl::store::Store;
use ipcrawl::trie::IntervalSet;

use crate::localworld::{coverage, crawl, diff, gen_seeds, networks, ok, LocalWorld, SCOPE};
use crate::util::{json, Workdir};

const LATENCY_MS: u64 = 30;
const THREADS: &str = "4";
/// Queries each interrupted run sends before it is stopped (of about 770).
const STEP: u64 = 150;

/// A world that logs its requests to its own file.
struct Logged {
    world: LocalWorld,
    log: PathBuf,
}

impl Logged {
    fn start(dir: &Path, name: &str) -> Logged {
        let log = dir.join(format!("{name}.requests.log"));
        let args = [OsStr::new("--log"), log.as_os_str()];
        Logged {
            world: LocalWorld::start_with(dir, &SCOPE, LATENCY_MS, &args),
            log,
        }
    }

    fn crawl_args(&self) -> Vec<String> {
        let mut args = self.world.crawl_args();
        args.extend(["--threads".into(), THREADS.into()]);
        args
    }

    /// Stops the world; returns its request count and the logged requests.
    fn stop(self) -> (u64, Vec<Request>) {
        let n = self.world.stop();
        (n, requests(&self.log))
    }
}

/// One logged request: the registry asked and the path (`/ip/a.b.c.d` for a
/// sweep address, `/ip/a.b.c.d/len` for a parent lookup).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Request {
    registry: String,
    path: String,
}

impl Request {
    /// The address of a sweep request.
    fn sweep_addr(&self) -> Option<u32> {
        let a = self.path.strip_prefix("/ip/")?;
        (!a.contains('/')).then(|| parse_addr_lenient(a))?
    }

    /// The prefix of a parent lookup.
    fn prefix(&self) -> Option<Range> {
        let p = self.path.strip_prefix("/ip/")?;
        p.contains('/')
            .then(|| p.parse::<Cidr>().ok().map(|c| c.range()))?
    }
}

/// The requests in a world's log (`MS REGISTRY METHOD PATH STATUS BYTES NOTE`).
fn requests(log: &Path) -> Vec<Request> {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    text.lines()
        .map(|l| {
            let f: Vec<&str> = l.split(' ').collect();
            assert!(f.len() >= 5, "bad log line {l:?} in {}", log.display());
            Request {
                registry: f[1].to_string(),
                path: f[3].to_string(),
            }
        })
        .collect()
}

/// The space whose answers the DB holds: stored networks and gaps (the
/// sweep skips both; failures it retries, so they do not count).
fn answered(db: &Path) -> IntervalSet {
    let store = Store::open_read(db).expect("open the DB");
    let nets = store.network_keys().expect("networks");
    let gaps = store.gaps().expect("gaps");
    IntervalSet::from_ranges(
        nets.into_iter()
            .map(|(r, _)| r)
            .chain(gaps.into_iter().map(|(r, _, _)| r)),
    )
}

/// The requests of a run whose answers `stored` does not hold: what the
/// next run may legitimately ask again. `unlogged` requests (in flight when
/// the run ended, not yet logged) count too.
fn lost(reqs: &[Request], stored: &IntervalSet, unlogged: u64) -> u64 {
    let lost_addrs: Vec<u32> = reqs
        .iter()
        .filter_map(Request::sweep_addr)
        .filter(|&a| !stored.contains(a))
        .collect();
    let climbing_from_lost = |p: Range| lost_addrs.iter().any(|&a| p.contains(a));
    let n = reqs
        .iter()
        .filter(|r| match (r.sweep_addr(), r.prefix()) {
            (Some(a), _) => !stored.contains(a),
            (None, Some(p)) => climbing_from_lost(p),
            (None, None) => true,
        })
        .count() as u64;
    n + unlogged
}

#[test]
fn kill_9_and_ctrl_c_resume_to_the_same_networks_with_few_extra_queries() {
    let w = Workdir::new("resume");
    let base_db = w.path("base.redb");
    let db = w.path("killed.redb");

    let baseline = {
        let dir = w.dir.clone();
        let base_db = base_db.clone();
        std::thread::spawn(move || {
            let world = Logged::start(&dir, "base");
            gen_seeds(&base_db, &SCOPE);
            let run = crawl(&base_db, &world.crawl_args(), None);
            assert!(run.status.success(), "baseline crawl: {}", run.stderr);
            let (n, reqs) = world.stop();
            (n, reqs, run.queries)
        })
    };

    gen_seeds(&db, &SCOPE);
    let mut runs = Vec::new();
    let mut all: Vec<Request> = Vec::new();
    let mut killed_requests = 0;
    let mut legit = 0;
    // The space answered before the current run started (nothing at first).
    let mut stored = IntervalSet::new();
    for (i, sig) in ["KILL", "KILL", "INT"].into_iter().enumerate() {
        let world = Logged::start(&w.dir, &format!("run{i}"));
        let run = crawl(&db, &world.crawl_args(), Some((STEP, sig)));
        let (n, reqs) = world.stop();
        let finished = run
            .summary
            .as_ref()
            .is_some_and(|s| s["stop"] == "finished");
        assert!(
            !finished,
            "the crawl finished before it could be stopped ({} queries): raise LATENCY_MS",
            run.queries
        );
        if sig == "KILL" {
            assert_eq!(run.status.code(), None, "killed by a signal");
            // A file left by kill -9 is readable at once (repaired on open).
            let stats = json(&ok(&db, &["stats", "--json"]));
            assert!(stats["networks"].as_u64().unwrap_or(0) > 0, "{stats}");
        } else {
            let took = run.exit_after_signal.unwrap_or(Duration::MAX);
            assert_eq!(
                run.status.code(),
                Some(130),
                "Ctrl-C exit code: {}",
                run.stderr
            );
            assert!(
                took < Duration::from_secs(2),
                "Ctrl-C took {took:?} to stop the crawl"
            );
            assert!(
                run.stderr.contains("Run the same command again to resume"),
                "Ctrl-C must say how to resume: {}",
                run.stderr
            );
            let s = run.summary.as_ref().expect("summary after Ctrl-C");
            assert_eq!(s["stop"], "interrupted");
        }
        assert_never_asked_again(&reqs, &stored, i);
        stored = answered(&db);
        let unlogged = n.saturating_sub(reqs.len() as u64);
        legit += lost(&reqs, &stored, unlogged);
        killed_requests += n;
        all.extend(reqs);
        runs.push(run);
    }
    let world = Logged::start(&w.dir, "last");
    let args = world.crawl_args();
    let last = crawl(&db, &args, None);
    assert!(last.status.success(), "final crawl: {}", last.stderr);
    assert_eq!(last.summary.as_ref().expect("summary")["stop"], "finished");
    // A crawl of a finished DB asks nothing.
    let again = crawl(&db, &args, None);
    assert_eq!(again.queries, 0, "a finished crawl re-ran queries");
    let (n, reqs) = world.stop();
    assert_never_asked_again(&reqs, &stored, 3);
    killed_requests += n;
    all.extend(reqs);

    let (base_requests, base_reqs, base_queries) = baseline.join().expect("baseline thread");
    let a = networks(&base_db);
    let b = networks(&db);
    assert!(
        a.len() > 500,
        "the world is too small: {} networks",
        a.len()
    );
    assert!(a == b, "networks differ: {}", diff(&a, &b));
    assert_eq!(coverage(&base_db), coverage(&db));

    // The interrupted crawl asked exactly the uninterrupted crawl's
    // queries, some of them more than once.
    let distinct =
        |v: &[Request]| -> std::collections::BTreeSet<Request> { v.iter().cloned().collect() };
    let (only_base, only_killed) = (
        distinct(&base_reqs)
            .difference(&distinct(&all))
            .take(5)
            .cloned()
            .collect::<Vec<_>>(),
        distinct(&all)
            .difference(&distinct(&base_reqs))
            .take(5)
            .cloned()
            .collect::<Vec<_>>(),
    );
    assert!(
        only_base.is_empty() && only_killed.is_empty(),
        "different queries: only uninterrupted {only_base:?}, only interrupted {only_killed:?}"
    );

    let ratio = killed_requests as f64 / base_requests as f64;
    eprintln!(
        "resume: uninterrupted {base_requests} requests ({base_queries} queries); \
         2 x kill -9 + Ctrl-C + resume: {killed_requests} requests ({ratio:.2}x), \
         of which the interruptions lost at most {legit}; Ctrl-C exit after {:?}",
        runs[2].exit_after_signal
    );
    assert!(
        killed_requests <= base_requests + legit,
        "interrupted crawls sent {killed_requests} requests: more than the uninterrupted \
         {base_requests} plus the {legit} whose answers the interruptions lost"
    );
}

/// Run `run` (0-based) asked for no sweep address whose answer the DB held
/// when it started (`stored`).
fn assert_never_asked_again(reqs: &[Request], stored: &IntervalSet, run: usize) {
    let again: Vec<&Request> = reqs
        .iter()
        .filter(|r| r.sweep_addr().is_some_and(|a| stored.contains(a)))
        .take(5)
        .collect();
    assert!(
        again.is_empty(),
        "run {run} asked again for addresses whose answers were stored: {again:?}"
    );
}
