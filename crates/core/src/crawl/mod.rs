//! The crawl: seeds → lanes → scheduler → workers → one writer.
//!
//! [`ensure_plan`] gives the store's seed plan (writing the default one
//! first into a DB without seeds). [`run`] loads the known networks, the
//! probed gaps and the standing failures from the store, cuts the plan's
//! space into lanes (one registry each, optionally one shard's part only),
//! and runs the worker pool until every lane is swept, `--max-queries` is
//! reached, or the quit flag is raised. It never prints: progress goes to a
//! callback.
//!
//! Where each rule lives:
//! - [`layout`]: which delegated statistics a crawl lays its lanes out by
//!   (fetched, reused for 24 h, stored, local or bundled) and what their age
//!   allows (no coarse skip on statistics older than 30 days);
//! - [`lanes`]: the sweep — where a lane's cursor goes next (known skip,
//!   gaps, seeds, coarse steps, continuations, parent climbs, held writes)
//!   and what an answer stores;
//! - [`politeness`]: when a registry may be asked again — token buckets,
//!   429 pauses and `Retry-After`, the circuit breaker, retry backoff and
//!   attempts;
//! - [`crate::rdap::classify`]: what an HTTP exchange means — network, gap,
//!   rate limit, retryable or refused;
//! - [`sched`]: which ready lane goes next across registries, `--max-queries`,
//!   stop and drain;
//! - [`pool`]: threads, the channel, the single writer and its commit
//!   policy, the stop on Ctrl-C or a storage error, and the offline stop
//!   ([`pool::nothing_reachable`]: no server answered anything for
//!   [`CrawlConfig::unreachable_after`] while lookups failed in transport);
//! - [`refresh`]: `--refresh` — what changed in the statistics since the
//!   last crawl, the space asked again, and the networks found gone;
//! - [`shard`]: which part of the space a `--shard K/N` run takes;
//! - [`telemetry`]: the counters, transport failures by registry and cause
//!   included.
//!
//! Resuming needs no extra state: whatever was committed (networks, gaps,
//! failures) is skipped or retried exactly as the sweep would have, so a
//! second run continues where the first one's last commit left it.

pub mod lanes;
pub mod layout;
pub mod netindex;
pub mod politeness;
pub mod pool;
pub mod refresh;
pub mod sched;
pub mod search;
pub mod shard;
pub mod telemetry;
pub mod walks;

use std::collections::BTreeSet;
use std::fmt;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::rdap::bootstrap::Bootstrap;
use crate::rdap::{Fetch, Registry};
use crate::seeds::{self, SeedPlan};
use crate::store::{self, Store};
use crate::trie::{IntervalSet, KnownSet};

pub use lanes::Depth;
pub use politeness::{Pause, PutOff};
pub use pool::Stop;
pub use sched::Policy;
pub use shard::Shard;
use telemetry::{Snapshot, Telemetry, TransportCount};

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
    /// The space the registries list as delegated (allocated or assigned),
    /// and any space their statistics are too old to call free (see
    /// [`layout`]): shards balance by it, and space outside it is probed
    /// coarsely. `None`: plain addresses, every seed probed.
    pub delegated: Option<IntervalSet>,
    /// What `--shard` partitions by instead of `cuts` and `delegated`:
    /// cuts and weights every shard shares whatever statistics it fetched
    /// (the bundled snapshot's, [`bundled_layout`]), so that shards started
    /// on different days still partition the space exactly. `None`: `cuts`
    /// and `delegated`.
    pub balance: Option<(Vec<u32>, IntervalSet)>,
    /// Space every network of which is stored already, beyond what the
    /// store records as swept or dumped: the delegated space of registries
    /// whose imported dump and statistics are both fresh
    /// ([`layout::Layout::complete`]). The crawl asks nothing inside it.
    pub complete: IntervalSet,
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
    /// By [`Registry::index`]: the registries whose `help` is asked and,
    /// when it lists RFC 9910 search, whose space is enumerated by search
    /// before its lanes sweep what is left (`--search auto`: all five;
    /// `--search off`: none). Defaults to all five.
    pub search: [bool; 5],
    /// The offline stop (see [`pool`]): a run in which no server answered
    /// anything while lookups failed in transport ends as
    /// [`Stop::Unreachable`] after this long. `None`: never. Defaults to 60 s.
    pub unreachable_after: Option<Duration>,
}

impl Default for CrawlConfig {
    fn default() -> CrawlConfig {
        CrawlConfig {
            threads: 64,
            policy: Policy::default(),
            shard: None,
            cuts: Vec::new(),
            delegated: None,
            complete: IntervalSet::new(),
            balance: None,
            coarse: Some(16),
            strategy: Strategy::Sweep,
            progress_every: Duration::from_secs(1),
            drain_timeout: Duration::from_secs(1),
            search: [true; 5],
            unreachable_after: Some(Duration::from_secs(60)),
        }
    }
}

/// How the crawl walks the space.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Strategy {
    /// Lanes swept in address order (see [`lanes`]). The default.
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
    /// Registries paused (429 or circuit open), with time left and why.
    pub paused: Vec<Pause>,
    /// Registries whose remaining work was put off to the next run (their
    /// 429 pauses passed `--max-pause`), each with a one-line reason.
    pub put_off: Vec<PutOff>,
    /// Lookups of this run no server answered, by registry and cause.
    pub run_transport: Vec<TransportCount>,
    /// Per registry (by [`crate::rdap::Registry::index`]): (addresses of its lanes swept
    /// so far, addresses in its lanes). They add up to `swept` and `total`.
    pub by_registry: [(u64, u64); 5],
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
    /// Failures standing in the DB after the run (to be retried: the
    /// permanent refusals are `refused`).
    pub failures: usize,
    /// Permanent refusals standing in the DB (answers refused for good,
    /// not asked again: see [`store::Failure::permanent`]).
    pub refused: usize,
    /// Registries whose remaining work was put off to the next run.
    pub put_off: Vec<PutOff>,
    /// Lookups of this run no server answered, by registry and cause (the
    /// diagnosis of a [`Stop::Unreachable`]).
    pub run_transport: Vec<TransportCount>,
}

/// A crawl that could not run or went wrong.
#[derive(Debug)]
pub enum Error {
    /// The default seed plan could not be made.
    Seeds(seeds::PlanError),
    /// Storage failed.
    Store(store::Error),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Seeds(e) => write!(f, "{e}"),
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
/// balance by delegated space, and the rest is probed coarsely. A crawl
/// lays itself out from the current statistics ([`layout`]) and keeps this
/// for the shard balance ([`CrawlConfig::balance`]).
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

/// Where the plan of a crawl came from.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum PlanOrigin {
    /// The store had one (from `gen-seeds` or an earlier crawl).
    Stored,
    /// The store had none: the default plan (the first address of every /24
    /// of the non-reserved space) was written into it.
    Default,
}

/// The store's seed plan; a DB without one first gets the default plan
/// (what a bare `ipcrawl crawl` crawls), written in.
pub fn ensure_plan(store: &Store) -> Result<(SeedPlan, PlanOrigin), Error> {
    if let Some(plan) = store.load_plan()? {
        return Ok((plan, PlanOrigin::Stored));
    }
    let plan = seeds::grid(&[], 24).map_err(Error::Seeds)?;
    store.replace_seeds(&plan)?;
    Ok((plan, PlanOrigin::Default))
}

/// Runs a crawl of `plan` (the store's, see [`ensure_plan`]) into `store`.
pub fn run(
    store: &Store,
    plan: SeedPlan,
    routes: &Bootstrap,
    fetch: Arc<dyn Fetch>,
    cfg: &CrawlConfig,
    quit: &AtomicBool,
    on_progress: &mut dyn FnMut(&Progress),
) -> Result<Summary, Error> {
    let start = Instant::now();
    let specs = lane_specs(&plan, routes, cfg);
    let mut reg_totals = [0u64; 5];
    for l in &specs {
        reg_totals[l.registry.index()] += l.range.len();
    }
    let known = load_known(store, cfg)?;
    let tele = Arc::new(Telemetry::from_map(&store.counters()?));
    let before = tele.snapshot();
    let queries_before = before.queries;
    let sweep = lanes::Sweep {
        depth: cfg.policy.depth,
        climb: cfg.strategy == Strategy::Sweep,
        clip: cfg.strategy == Strategy::Sweep,
    };
    let walks = load_walks(store, &specs, cfg, &tele)?;
    let scheduler = sched::Scheduler::new(
        &specs,
        Arc::new(plan.seeds),
        known,
        sweep,
        cfg.policy.clone(),
        Arc::clone(&tele),
    )
    .with_walks(walks);
    let settings = pool::Settings {
        threads: cfg.threads,
        progress_every: cfg.progress_every,
        drain_timeout: cfg.drain_timeout,
        unreachable_after: cfg.unreachable_after,
    };
    let mut put_off = Vec::new();
    let mut on_tick = |t: pool::Tick| {
        let snapshot = tele.snapshot();
        put_off.clone_from(&t.put_off);
        on_progress(&Progress {
            run_queries: snapshot.queries - queries_before,
            run_transport: snapshot.transport_since(&before),
            by_registry: {
                let swept = tele.swept_by_registry();
                std::array::from_fn(|i| (swept[i].min(reg_totals[i]), reg_totals[i]))
            },
            snapshot,
            swept: t.swept,
            total: t.total,
            elapsed: start.elapsed(),
            paused: t.paused,
            put_off: t.put_off,
        });
    };
    let stop = pool::run(
        store,
        scheduler,
        fetch,
        &tele,
        &settings,
        quit,
        &mut on_tick,
    )?;
    let snapshot = tele.snapshot();
    let standing = store.failures()?;
    let refused = standing.iter().filter(|f| f.permanent).count();
    Ok(Summary {
        stop,
        run_queries: snapshot.queries - queries_before,
        run_transport: snapshot.transport_since(&before),
        snapshot,
        lanes: specs.len(),
        elapsed: start.elapsed(),
        failures: standing.len() - refused,
        refused,
        put_off,
    })
}

/// What the store says is done, for a crawl at `cfg`'s depth: the space
/// swept at that depth or deeper (the 2016 strategy: the stored networks,
/// as it always skipped them) and the space imported dumps cover, the probed gaps, the stored networks by
/// exact range, the standing failures.
fn load_known(store: &Store, cfg: &CrawlConfig) -> Result<lanes::Known, Error> {
    let mut swept = store.load_swept(store::Level::All)?;
    if cfg.policy.depth == Depth::Coverage {
        swept = swept.union(&store.load_swept(store::Level::Top)?);
    }
    if cfg.strategy == Strategy::Seeds2016 {
        swept = swept.union(&store.load_known()?);
    }
    // Inside an imported dump's networks every level is stored.
    swept = swept.union(&store.load_dumped()?).union(&cfg.complete);
    let failures = store.failures()?;
    // Answers refused for good are not asked again: skipped like gaps.
    let refused = failures
        .iter()
        .filter(|f| f.permanent)
        .filter_map(|f| crate::prefix::Range::new(f.addr, f.end.max(f.addr)));
    let gaps =
        IntervalSet::from_ranges(store.gaps()?.into_iter().map(|(r, _, _)| r).chain(refused));
    let failed: BTreeSet<u32> = failures.into_iter().map(|f| f.addr).collect();
    let mut keys = store.network_keys()?;
    // A pending refresh verifies these: climbs do not stop at them.
    let targets: std::collections::HashSet<_> = store.refresh_targets()?.into_iter().collect();
    if !targets.is_empty() {
        keys.retain(|k| !targets.contains(k));
    }
    Ok(lanes::Known {
        swept: KnownSet::from_set(&swept),
        gaps: KnownSet::from_set(&gaps),
        nets: netindex::NetIndex::from_keys(&keys),
        failed,
    })
}

/// The RFC 9910 searches of a crawl at `cfg`: the registries asked, over
/// their lanes' space, minus the keys searched before at this depth.
fn load_walks(
    store: &Store,
    specs: &[lanes::LaneSpec],
    cfg: &CrawlConfig,
    tele: &Arc<Telemetry>,
) -> Result<walks::Walks, Error> {
    if cfg.strategy != Strategy::Sweep || !cfg.search.iter().any(|on| *on) {
        return Ok(walks::Walks::off(Arc::clone(tele)));
    }
    let level = cfg.policy.depth.level();
    let mut searched: [IntervalSet; 5] = Default::default();
    let mut known: [Option<bool>; 5] = [None; 5];
    let now = crate::time::Now::read();
    // What imported dumps hold is never searched for.
    let dumped = store.load_dumped()?.union(&cfg.complete);
    for r in Registry::ALL {
        searched[r.index()] = store.load_searched(r, level)?.union(&dumped);
        known[r.index()] = store
            .meta_plain(&format!("help.{}", r.name()))?
            .and_then(|note| walks::fresh_help(&note, now.unix_secs));
    }
    let walk_level = match cfg.policy.depth {
        Depth::Coverage => search::Level::Top,
        Depth::All => search::Level::All,
    };
    let mut regions = walks::regions_of(specs);
    if walk_level == search::Level::All {
        // Transfers found by earlier runs' lanes are walked again (what
        // their walk searched is skipped).
        for r in Registry::ALL {
            let extra = store.load_to_search(r)?;
            if !extra.is_empty() {
                let own = IntervalSet::from_ranges(regions[r.index()].iter().copied());
                regions[r.index()] = own.union(&extra).ranges().to_vec();
            }
        }
    }
    Ok(walks::Walks::new(
        cfg.search,
        known,
        regions,
        searched,
        walk_level,
        Arc::clone(tele),
    ))
}

/// The lanes of `plan`'s space (one shard's part with `cfg.shard`).
fn lane_specs(plan: &SeedPlan, routes: &Bootstrap, cfg: &CrawlConfig) -> Vec<lanes::LaneSpec> {
    let mut space = plan.space.clone();
    if let Some(sh) = cfg.shard {
        let (cuts, weight) = match &cfg.balance {
            Some((c, w)) => (c, Some(w)),
            None => (&cfg.cuts, cfg.delegated.as_ref()),
        };
        let part = match weight {
            Some(w) => sh.part_weighted_at(&plan.space, w, cuts),
            None => sh.part(&plan.space),
        };
        space = space.intersect(&part);
    }
    match cfg.strategy {
        Strategy::Sweep => lanes::split(
            space.ranges(),
            routes.entries(),
            &cfg.cuts,
            cfg.delegated.as_ref(),
            cfg.coarse,
        ),
        Strategy::Seeds2016 => lanes::per_seed(space.ranges(), routes.entries(), &plan.seeds),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prefix::Cidr;
    use crate::rdap::{Exchange, Registry, Target};
    use std::path::PathBuf;
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::mpsc;

    /// A registry that answers every lookup with a 404 at once, counting them.
    #[derive(Default)]
    struct Empty {
        asked: AtomicU64,
    }

    impl Fetch for Empty {
        fn fetch(&self, registry: Registry, target: &Target) -> Exchange {
            self.asked.fetch_add(1, Ordering::SeqCst);
            Exchange::Response {
                registry,
                url: format!("http://127.0.0.1:1/{target:?}"),
                status: 404,
                retry_after: None,
                body: Vec::new(),
                redirects: 0,
            }
        }
    }

    /// A fresh DB file holding a plan of every /24 in `within`.
    fn db_with_plan(name: &str, within: &str) -> (PathBuf, SeedPlan) {
        let path =
            std::env::temp_dir().join(format!("ipcrawl-crawl-{name}-{}.redb", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let c: Cidr = within.parse().unwrap();
        let plan = seeds::grid(&[c], 24).unwrap();
        Store::open_or_create(&path)
            .unwrap()
            .replace_seeds(&plan)
            .unwrap();
        (path, plan)
    }

    fn cfg(threads: usize) -> CrawlConfig {
        CrawlConfig {
            threads,
            policy: Policy {
                rates: [politeness::Rate::UNLIMITED; 5],
                ..Policy::default()
            },
            coarse: None,
            // The fake registry answers lookups only.
            search: [false; 5],
            ..CrawlConfig::default()
        }
    }

    /// Runs the crawl on its own thread; `None` if it is still running
    /// after a minute (a hang).
    fn crawl_within_a_minute(
        path: PathBuf,
        plan: SeedPlan,
        cfg: CrawlConfig,
        read_only: bool,
    ) -> Option<Result<Summary, Error>> {
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let store = if read_only {
                Store::open_read(&path).unwrap()
            } else {
                Store::open_rw(&path).unwrap()
            };
            let quit = AtomicBool::new(false);
            let fetch = Arc::new(Empty::default());
            let r = run(
                &store,
                plan,
                &Bootstrap::bundled(),
                fetch,
                &cfg,
                &quit,
                &mut |_| {},
            );
            drop(store);
            let _ = tx.send(r);
        });
        rx.recv_timeout(Duration::from_secs(60)).ok()
    }

    #[test]
    fn a_crawl_sweeps_every_seed_and_stores_what_it_found() {
        let (path, plan) = db_with_plan("sweep", "11.0.0.0/20");
        let s = crawl_within_a_minute(path.clone(), plan, cfg(4), false)
            .expect("the crawl ended")
            .unwrap();
        assert_eq!(s.stop, Stop::Finished);
        assert_eq!(s.run_queries, 16);
        assert_eq!(s.snapshot.by_registry["arin"].not_found, 16);
        let store = Store::open_read(&path).unwrap();
        assert_eq!(store.gaps().unwrap().len(), 16);
        assert_eq!(store.counters().unwrap()["arin.queries"], 16);
        drop(store);
        let _ = std::fs::remove_file(&path);
    }

    /// Issue 15.1: a writer that fails (a full disk; here a read-only
    /// store, whose first commit fails) used to leave the workers and the
    /// final `Finish` blocked on the full queue forever. Now the crawl ends
    /// with the storage error.
    #[test]
    fn a_dead_writer_ends_the_crawl_with_its_error() {
        // 65,536 seeds: far more answers than the queue holds.
        let (path, plan) = db_with_plan("dead-writer", "11.0.0.0/8");
        let r = crawl_within_a_minute(path.clone(), plan, cfg(16), true)
            .expect("the crawl hung after the writer failed");
        let e = r.expect_err("a read-only store cannot be written");
        assert!(matches!(e, Error::Store(_)), "{e}");
        let _ = std::fs::remove_file(&path);
    }

    #[test]
    fn ensure_plan_writes_the_default_only_into_a_db_without_one() {
        let (path, plan) = db_with_plan("plan", "11.0.0.0/20");
        let store = Store::open_rw(&path).unwrap();
        let (got, origin) = ensure_plan(&store).unwrap();
        assert_eq!(origin, PlanOrigin::Stored);
        assert_eq!(got.seeds.len(), plan.seeds.len());
        drop(store);
        let _ = std::fs::remove_file(&path);
        let store = Store::open_or_create(&path).unwrap();
        let (got, origin) = ensure_plan(&store).unwrap();
        assert_eq!(origin, PlanOrigin::Default);
        let default = seeds::grid(&[], 24).unwrap();
        assert_eq!(got.seeds.len(), default.seeds.len());
        let (again, origin) = ensure_plan(&store).unwrap();
        assert_eq!(origin, PlanOrigin::Stored, "written in");
        assert_eq!(again.seeds.len(), default.seeds.len());
        drop(store);
        let _ = std::fs::remove_file(&path);
    }
}
