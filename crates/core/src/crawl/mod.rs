//! The crawl: seeds → lanes → scheduler → workers → one writer.
//!
//! [`run`] loads the seed plan, the known networks, the probed gaps and the
//! standing failures from the store, cuts the plan's space into lanes (one
//! registry each, optionally one shard's part only), and runs the worker
//! pool until every lane is swept, `--max-queries` is reached, or the quit
//! flag is raised. It never prints: progress goes to a callback.
//!
//! Resuming needs no extra state: whatever was committed (networks, gaps,
//! failures) is skipped or retried exactly as the sweep would have, so a
//! second run continues where the first one's last commit left it.

pub mod pool;
pub mod ratelimit;
pub mod sched;
pub mod search;
pub mod shard;
pub mod telemetry;

use std::collections::BTreeSet;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use crate::rdap::bootstrap::Bootstrap;
use crate::rdap::{Fetch, Registry};
use crate::store::{self, Store};
use crate::trie::{IntervalSet, KnownSet};

pub use sched::{Depth, Policy};
pub use shard::Shard;
use telemetry::{Snapshot, Telemetry};

/// A validated crawl configuration (no clap types).
#[derive(Clone, Debug)]
pub struct CrawlConfig {
    /// Worker threads (queries in flight at most). Defaults to 64.
    pub threads: usize,
    /// Scheduling and politeness.
    pub policy: Policy,
    /// Only this shard's part of the space.
    pub shard: Option<Shard>,
    /// Lane cut points (e.g. delegated block starts), sorted.
    pub cuts: Vec<u32>,
    /// The space the registries list as delegated (allocated or assigned):
    /// shards balance by it, and space outside it is probed coarsely.
    /// `None`: plain addresses, every seed probed.
    pub delegated: Option<IntervalSet>,
    /// Prefix length of the coarse probing outside `delegated` (an empty
    /// answer skips the rest of that block). `None`: probe every seed.
    /// Defaults to 16.
    pub coarse: Option<u8>,
    /// Sweep lanes (default) or the 2016 strategy.
    pub strategy: Strategy,
    /// How often the progress callback runs. Defaults to 1 s.
    pub progress_every: Duration,
    /// After a stop, how long to wait for queries in flight. Defaults to 1 s.
    pub drain_timeout: Duration,
}

impl Default for CrawlConfig {
    fn default() -> CrawlConfig {
        CrawlConfig {
            threads: 64,
            policy: Policy::default(),
            shard: None,
            cuts: Vec::new(),
            delegated: None,
            coarse: Some(16),
            strategy: Strategy::Sweep,
            progress_every: Duration::from_secs(1),
            drain_timeout: Duration::from_secs(1),
        }
    }
}

/// How the crawl walks the space.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Strategy {
    /// Lanes swept in address order (see [`sched`]). The default.
    Sweep,
    /// The 2016 system's: every seed asked in order by a pool of workers,
    /// unless a known network covers it when its turn comes. For comparison.
    Seeds2016,
}

/// A live view for progress displays.
#[derive(Clone, Debug)]
pub struct Progress {
    /// Counters (cumulative over runs).
    pub snapshot: Snapshot,
    /// Queries sent by this run.
    pub run_queries: u64,
    /// Addresses of the lanes swept so far.
    pub swept: u64,
    /// Addresses in all lanes.
    pub total: u64,
    /// Time since start.
    pub elapsed: Duration,
    /// Registries paused (429 or circuit open), with time left.
    pub paused: Vec<(Registry, Duration)>,
}

impl Progress {
    /// Estimated time left, from the swept fraction.
    pub fn eta(&self) -> Option<Duration> {
        if self.swept == 0 || self.total == 0 {
            return None;
        }
        let f = self.swept as f64 / self.total as f64;
        Some(self.elapsed.mul_f64((1.0 - f) / f))
    }
}

/// Why a crawl stopped before sweeping everything.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Stop {
    /// Swept every lane.
    Finished,
    /// The quit flag (Ctrl-C).
    Interrupted,
    /// `--max-queries` reached.
    MaxQueries,
}

/// The outcome of [`run`].
#[derive(Clone, Debug)]
pub struct Summary {
    /// How it ended.
    pub stop: Stop,
    /// Counters after the run (cumulative).
    pub snapshot: Snapshot,
    /// Queries sent by this run.
    pub run_queries: u64,
    /// Lanes swept.
    pub lanes: usize,
    /// Wall time.
    pub elapsed: Duration,
    /// Failures standing in the DB after the run.
    pub failures: usize,
}

/// A crawl that could not run or went wrong.
#[derive(Debug)]
pub enum Error {
    /// The DB has no seed plan.
    NoSeeds,
    /// Storage failed.
    Store(store::Error),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::NoSeeds => {
                f.write_str("the database has no seeds: run `ipcrawl gen-seeds` first")
            }
            Error::Store(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<store::Error> for Error {
    fn from(e: store::Error) -> Error {
        Error::Store(e)
    }
}

/// Lane cuts and delegated space from the bundled delegated statistics:
/// lanes start at every block (networks rarely straddle allocations), shards
/// balance by delegated space, and the rest is probed coarsely.
pub fn bundled_layout() -> (Vec<u32>, IntervalSet) {
    let delegations = crate::delegated::bundled();
    let mut cuts: Vec<u32> = delegations.iter().map(|d| d.range.start).collect();
    cuts.sort_unstable();
    cuts.dedup();
    let delegated = IntervalSet::from_ranges(
        delegations
            .iter()
            .filter(|d| d.status.is_delegated())
            .map(|d| d.range),
    );
    (cuts, delegated)
}

/// Runs a crawl over the store's seed plan.
pub fn run(
    store: &Store,
    routes: &Bootstrap,
    fetch: Arc<dyn Fetch>,
    cfg: &CrawlConfig,
    quit: &AtomicBool,
    on_progress: &mut dyn FnMut(&Progress),
) -> Result<Summary, Error> {
    let start = Instant::now();
    let plan = store.load_plan()?.ok_or(Error::NoSeeds)?;
    let mut space = plan.space.clone();
    if let Some(sh) = cfg.shard {
        let part = match &cfg.delegated {
            Some(w) => sh.part_weighted_at(&plan.space, w, &cfg.cuts),
            None => sh.part(&plan.space),
        };
        space = space.intersect(&part);
    }
    let lanes = match cfg.strategy {
        Strategy::Sweep => sched::lanes(
            space.ranges(),
            routes.entries(),
            &cfg.cuts,
            cfg.delegated.as_ref(),
            cfg.coarse,
        ),
        Strategy::Seeds2016 => sched::seed_lanes(space.ranges(), routes.entries(), &plan.seeds),
    };
    let known = KnownSet::from_set(&store.load_known()?);
    let gaps = KnownSet::from_set(&IntervalSet::from_ranges(
        store.gaps()?.into_iter().map(|(r, _, _)| r),
    ));
    let failed: BTreeSet<u32> = store.failures()?.into_iter().map(|f| f.addr).collect();
    let tele = Arc::new(Telemetry::from_map(&store.counters()?));
    let queries_before = tele.snapshot().queries;
    let scheduler = sched::Scheduler::new(
        &lanes,
        Arc::new(plan.seeds),
        known,
        gaps,
        failed,
        cfg.policy.clone(),
        Arc::clone(&tele),
    );
    let threads = cfg.threads.max(1);
    let shared = Arc::new(pool::Shared {
        sched: Mutex::new(scheduler),
        wake: Condvar::new(),
        tele: Arc::clone(&tele),
        live: AtomicUsize::new(threads),
        main: std::thread::current(),
    });
    let (tx, rx) = crossbeam_channel::bounded::<pool::Msg>(pool::QUEUE);
    let write_failed = AtomicBool::new(false);

    let progress = |shared: &pool::Shared| {
        let g = shared.lock();
        let (swept, total) = g.progress();
        let snapshot = tele.snapshot();
        Progress {
            run_queries: snapshot.queries - queries_before,
            snapshot,
            swept,
            total,
            elapsed: start.elapsed(),
            paused: g.paused(Instant::now()),
        }
    };

    let mut interrupted = false;
    let writer_result = std::thread::scope(|sc| {
        let writer = sc.spawn(|| pool::writer(store, &rx, &tele, &write_failed));
        // Workers are detached: after a stop, queries still in flight past
        // the drain timeout are abandoned (and redone by the next run).
        for _ in 0..threads {
            let shared = Arc::clone(&shared);
            let fetch = Arc::clone(&fetch);
            let tx = tx.clone();
            std::thread::spawn(move || pool::worker(&shared, fetch.as_ref(), &tx));
        }
        let mut last_progress = Instant::now();
        let mut stop_at: Option<Instant> = None;
        loop {
            // Not on the workers' condvar: a wake-up meant for a worker
            // must never land here.
            std::thread::park_timeout(Duration::from_millis(50));
            if shared.live.load(Ordering::SeqCst) == 0 {
                break;
            }
            if (quit.load(Ordering::SeqCst) || write_failed.load(Ordering::SeqCst))
                && stop_at.is_none()
            {
                interrupted = quit.load(Ordering::SeqCst);
                shared.lock().stop();
                shared.wake.notify_all();
                stop_at = Some(Instant::now());
            }
            if stop_at.is_some_and(|t| t.elapsed() >= cfg.drain_timeout) {
                break;
            }
            if last_progress.elapsed() >= cfg.progress_every {
                on_progress(&progress(&shared));
                last_progress = Instant::now();
            }
        }
        on_progress(&progress(&shared));
        let _ = tx.send(pool::Msg::Finish);
        writer.join().unwrap_or_else(|_| {
            Err(store::Error::Db {
                table: "(writer)",
                message: "writer thread panicked".into(),
            })
        })
    });
    writer_result?;
    let g = shared.lock();
    let stop = if g.finished() {
        Stop::Finished
    } else if interrupted {
        Stop::Interrupted
    } else {
        Stop::MaxQueries
    };
    drop(g);
    let snapshot = tele.snapshot();
    Ok(Summary {
        stop,
        run_queries: snapshot.queries - queries_before,
        snapshot,
        lanes: lanes.len(),
        elapsed: start.elapsed(),
        failures: store.failures()?.len(),
    })
}
