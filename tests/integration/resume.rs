//! Crash-safe resume against the real local world: a crawl killed with
//! `kill -9` at several points, then interrupted with Ctrl-C, then run to
//! the end, must store exactly what an uninterrupted crawl of the same world
//! stores, with no duplicates, and send at most 5 % more queries.
//!
//! Both crawls run at once, each against its own world (same seed, so the
//! same networks; each world counts the requests it gets). `--latency-ms`
//! and few threads make the crawl last long enough to be killed at chosen
//! points: each interrupted run is stopped once it has sent `STEP` queries
//! (about a fifth of the crawl), going by its JSON progress lines.
//!
//! What a kill costs: the answers not yet committed (the writer commits
//! every 50 ms) plus the queries in flight, asked again by the next run —
//! about `rate × 80 ms + threads` queries. The world answers fast, so the
//! crawl is slowed to ~70 queries/s (30 ms, 4 threads), a regime like the
//! real registries' rate limits; at full local speed (~1,000/s) a kill costs
//! ~60 queries, which on a crawl this small would be 6 % per kill.

use std::time::Duration;

use crate::localworld::{coverage, crawl, diff, gen_seeds, networks, ok, LocalWorld, SCOPE};
use crate::util::{json, Workdir};

const LATENCY_MS: u64 = 30;
const THREADS: &str = "4";
/// Queries each interrupted run sends before it is stopped (of about 950).
const STEP: u64 = 200;

#[test]
fn kill_9_and_ctrl_c_resume_to_the_same_networks_with_few_extra_queries() {
    let w = Workdir::new("resume");
    let base_db = w.path("base.redb");
    let db = w.path("killed.redb");

    let baseline = {
        let dir = w.dir.clone();
        let base_db = base_db.clone();
        std::thread::spawn(move || {
            let world = LocalWorld::start(&dir, &SCOPE, LATENCY_MS);
            gen_seeds(&base_db, &SCOPE);
            let mut args = world.crawl_args();
            args.extend(["--threads".into(), THREADS.into()]);
            let run = crawl(&base_db, &args, None);
            assert!(run.status.success(), "baseline crawl: {}", run.stderr);
            (world.stop(), run.queries)
        })
    };

    let world = LocalWorld::start(&w.dir, &SCOPE, LATENCY_MS);
    gen_seeds(&db, &SCOPE);
    let mut args = world.crawl_args();
    args.extend(["--threads".into(), THREADS.into()]);
    let mut runs = Vec::new();
    for sig in ["KILL", "KILL", "INT"] {
        let run = crawl(&db, &args, Some((STEP, sig)));
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
        runs.push(run);
    }
    let last = crawl(&db, &args, None);
    assert!(last.status.success(), "final crawl: {}", last.stderr);
    assert_eq!(last.summary.as_ref().expect("summary")["stop"], "finished");
    // A crawl of a finished DB asks nothing.
    let again = crawl(&db, &args, None);
    assert_eq!(again.queries, 0, "a finished crawl re-ran queries");
    let killed_requests = world.stop();

    let (base_requests, base_queries) = baseline.join().expect("baseline thread");
    let a = networks(&base_db);
    let b = networks(&db);
    assert!(
        a.len() > 500,
        "the world is too small: {} networks",
        a.len()
    );
    assert!(a == b, "networks differ: {}", diff(&a, &b));
    assert_eq!(coverage(&base_db), coverage(&db));

    let ratio = killed_requests as f64 / base_requests as f64;
    eprintln!(
        "resume: uninterrupted {base_requests} requests ({base_queries} queries); \
         2 x kill -9 + Ctrl-C + resume: {killed_requests} requests ({:.2}x); Ctrl-C exit after {:?}",
        ratio,
        runs[2].exit_after_signal
    );
    assert!(
        ratio <= 1.05,
        "interrupted crawls sent {killed_requests} requests, {ratio:.3}x the uninterrupted {base_requests}"
    );
}
