//! Crawl benchmark against the local RDAP world, all in one process over
//! real HTTP on 127.0.0.1 (the world's servers and the crawler share the
//! machine's cores).
//!
//! Scenarios, each on a fresh world with the same seed (same networks):
//! 1. `sweep`: the default crawl (coverage first, delegated lanes, coarse
//!    probing), 64 threads, no rate limit, zero latency — queries against the
//!    world's oracle sweep (query, jump to end + 1, step a /24 on a gap), and
//!    answers per second (parse and store included);
//! 2. `depth-all`: `--depth all`;
//! 3. `2016`: the 2016 strategy — per-seed lookups of the 2016 grid with a
//!    known-network skip, 30 threads — for the query and coverage ratios;
//!    `sweep-20ms` and `2016-20ms` repeat both with 20 ms of server latency
//!    (the 2016 strategy's count depends on how many seeds are in flight);
//! 4. `faults`: 3 % 5xx, 1 % dropped connections, 1 % slow, 1 % truncated
//!    answers: must give the same networks and coverage as `sweep`;
//! 5. `rated`: the world enforces per-registry limits and the crawl is told
//!    them: wall time against the rate bound (the busiest registry's queries
//!    ÷ its rate) and the share of 429s.
//!
//! Ratios are printed on the last line. `IPCRAWL_BENCH_SCOPE` (comma-separated
//! prefixes) overrides the default four /8s of four registries;
//! `IPCRAWL_BENCH_ONLY` (comma-separated scenario names) skips the others.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ipcrawl::crawl::politeness::Rate;
use ipcrawl::crawl::{self, CrawlConfig, Depth, Policy, Strategy};
use ipcrawl::prefix::{Cidr, Range};
use ipcrawl::rdap::bootstrap::Bootstrap;
use ipcrawl::rdap::client::{Client, ClientConfig};
use ipcrawl::rdap::Registry;
use ipcrawl::seeds::{self, SeedPlan};
use ipcrawl::store::Store;
use ipcrawl::trie::IntervalSet;
use ipcrawl::world::{Faults, RateLimit, World, WorldConfig};

const DEFAULT_SCOPE: &str = "1.0.0.0/8,23.0.0.0/8,185.0.0.0/8,200.0.0.0/8";

struct Outcome {
    wall: Duration,
    queries: [u64; 5],
    keys: BTreeSet<(u32, u32, Registry)>,
    addresses: u64,
    answers: u64,
    failures: usize,
    world_429: u64,
    world_requests: u64,
}

impl Outcome {
    fn total(&self) -> u64 {
        self.queries.iter().sum()
    }
}

fn tmp_db(name: &str) -> PathBuf {
    let p = std::env::temp_dir().join(format!("ipcrawl-bench-{}-{name}.redb", std::process::id()));
    let _ = std::fs::remove_file(&p);
    p
}

fn run(
    name: &str,
    world_cfg: WorldConfig,
    plan: &SeedPlan,
    cfg: &CrawlConfig,
) -> anyhow::Result<Outcome> {
    if let Ok(only) = std::env::var("IPCRAWL_BENCH_ONLY") {
        if !only.split(',').any(|o| o.trim() == name) {
            return Ok(Outcome {
                wall: Duration::from_secs(1),
                queries: [1; 5],
                keys: BTreeSet::new(),
                addresses: 0,
                answers: 0,
                failures: 0,
                world_429: 0,
                world_requests: 0,
            });
        }
    }
    let world = World::start(world_cfg)?;
    let mut routes = Bootstrap::bundled();
    for (r, url) in world.urls() {
        routes.set_base(r, &url)?;
    }
    let db = tmp_db(name);
    let store = Store::open_or_create(&db)?;
    store.replace_seeds(plan)?;
    let client = ClientConfig {
        request_timeout: Duration::from_secs(5),
        ..ClientConfig::default()
    };
    let fetch = Arc::new(Client::new(routes.clone(), client));
    let quit = AtomicBool::new(false);
    let t0 = Instant::now();
    let summary = crawl::run(
        &store,
        plan.clone(),
        &routes,
        fetch,
        cfg,
        &quit,
        &mut |_| {},
    )?;
    let wall = t0.elapsed();
    let snap = summary.snapshot;
    let queries = Registry::ALL.map(|r| snap.by_registry.get(r.name()).map_or(0, |s| s.queries));
    let keys: BTreeSet<(u32, u32, Registry)> = store
        .network_keys()?
        .into_iter()
        .map(|(r, reg)| (r.start, r.end, reg))
        .collect();
    let covered =
        IntervalSet::from_ranges(keys.iter().map(|&(s, e, _)| Range { start: s, end: e }))
            .intersect(&plan.space)
            .address_count();
    let counts = world.all_counters();
    let out = Outcome {
        wall,
        queries,
        keys,
        addresses: covered,
        answers: snap.got_whois,
        failures: summary.failures,
        world_429: counts.iter().map(|c| c.rate_limited).sum(),
        world_requests: counts.iter().map(|c| c.requests).sum(),
    };
    drop(store);
    let _ = std::fs::remove_file(&db);
    world.shutdown();
    eprintln!(
        "  {name:<10} {:>7} queries {:>7} answers {:>7.2} s {:>8.0} q/s {:>9} addresses",
        out.total(),
        out.answers,
        wall.as_secs_f64(),
        out.total() as f64 / wall.as_secs_f64(),
        out.addresses
    );
    Ok(out)
}

/// Networks not inside another stored network (what coverage rests on).
fn top_level(keys: &BTreeSet<(u32, u32, Registry)>) -> BTreeSet<(u32, u32)> {
    let mut out = BTreeSet::new();
    let mut reach: Option<u32> = None;
    // Sorted by start, then end ascending: walk by start, widest first.
    let mut v: Vec<(u32, u32)> = keys.iter().map(|&(s, e, _)| (s, e)).collect();
    v.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
    for (s, e) in v {
        if reach.is_some_and(|r| e <= r) {
            continue;
        }
        out.insert((s, e));
        reach = Some(reach.map_or(e, |r| r.max(e)));
    }
    out
}

fn unlimited() -> [Rate; 5] {
    [Rate::UNLIMITED; 5]
}

#[allow(clippy::too_many_lines)] // a benchmark driver: one scenario after another, read top to bottom
fn main() -> anyhow::Result<()> {
    // `cargo bench` passes `--bench`; ignore arguments.
    let scope: Vec<Cidr> = std::env::var("IPCRAWL_BENCH_SCOPE")
        .unwrap_or_else(|_| DEFAULT_SCOPE.to_string())
        .split(',')
        .map(|s| s.trim().parse())
        .collect::<Result<_, _>>()?;
    let within = IntervalSet::from_ranges(scope.iter().map(Cidr::range));
    let world_cfg = || WorldConfig {
        scope: scope.clone(),
        ..WorldConfig::default()
    };
    let probe = World::start(world_cfg())?;
    let truth = probe.truth().clone();
    probe.shutdown();
    eprintln!(
        "world: {} scope, {} networks, {} covered addresses, oracle sweep {} queries",
        scope
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(" "),
        truth.networks.len(),
        truth.covered.addresses,
        truth.oracle.queries
    );
    let (cuts, delegated) = crawl::bundled_layout();
    let base = CrawlConfig {
        threads: 64,
        policy: Policy {
            rates: unlimited(),
            retry_base: Duration::from_millis(50),
            ..Policy::default()
        },
        cuts,
        delegated: Some(delegated),
        ..CrawlConfig::default()
    };
    let grid = seeds::grid(&scope, 24)?;

    let sweep = run("sweep", world_cfg(), &grid, &base)?;
    let all_cfg = CrawlConfig {
        policy: Policy {
            depth: Depth::All,
            ..base.policy.clone()
        },
        ..base.clone()
    };
    let all = run("depth-all", world_cfg(), &grid, &all_cfg)?;

    let grid16 = seeds::grid_2016().restrict(&within);
    let old_cfg = CrawlConfig {
        threads: 30,
        strategy: Strategy::Seeds2016,
        policy: Policy {
            depth: Depth::All,
            ..base.policy.clone()
        },
        ..base.clone()
    };
    let old = run("2016", world_cfg(), &grid16, &old_cfg)?;
    // Zero latency flatters the 2016 strategy: a seed's answer is back
    // before the next seed of the same network is sent. With a little
    // latency (real registries: 50–500 ms) 30 seeds are in flight at once.
    let slow_world = || WorldConfig {
        latency: Duration::from_millis(20),
        ..world_cfg()
    };
    let sweep_slow = run("sweep-20ms", slow_world(), &grid, &base)?;
    let old_slow = run("2016-20ms", slow_world(), &grid16, &old_cfg)?;

    let faulty_world = WorldConfig {
        faults: Faults {
            server_error: 0.03,
            drop: 0.01,
            slow: 0.01,
            truncate: 0.01,
            slow_delay: Duration::from_millis(1500),
        },
        ..world_cfg()
    };
    let faults = run("faults", faulty_world, &grid, &base)?;

    // Rates scaled from the real ones (10/s, 10/s, 10/s, 10/min, 1/s) so the
    // run takes about a minute; LACNIC and AFRINIC stay the slow ones.
    let limits: [f64; 5] = Registry::ALL.map(|r| match r {
        Registry::Arin | Registry::Ripe | Registry::Apnic => 400.0,
        Registry::Lacnic => 60.0,
        Registry::Afrinic => 10.0,
    });
    let rated_world = WorldConfig {
        rate: limits.map(|per_second| {
            Some(RateLimit {
                per_second,
                retry_after: true,
            })
        }),
        ..world_cfg()
    };
    let rated_cfg = CrawlConfig {
        policy: Policy {
            rates: limits.map(Rate::per_sec),
            ..base.policy.clone()
        },
        ..base.clone()
    };
    let rated = run("rated", rated_world, &grid, &rated_cfg)?;
    let bound = Registry::ALL
        .iter()
        .map(|r| rated.queries[r.index()] as f64 / limits[r.index()])
        .fold(0.0, f64::max);

    let oracle = truth.oracle.queries as f64;
    println!();
    println!(
        "| scenario | queries | ÷ oracle | answers/s | covered addresses | ÷ truth | failures |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for (name, o) in [
        ("sweep", &sweep),
        ("depth-all", &all),
        ("2016", &old),
        ("faults", &faults),
        ("rated", &rated),
    ] {
        println!(
            "| {name} | {} | {:.3} | {:.0} | {} | {:.4} | {} |",
            o.total(),
            o.total() as f64 / oracle,
            o.answers as f64 / o.wall.as_secs_f64(),
            o.addresses,
            o.addresses as f64 / truth.covered.addresses as f64,
            o.failures
        );
    }
    println!();
    println!(
        "rated: wall {:.1} s, rate bound {:.1} s (busiest registry), 429s {} of {} requests",
        rated.wall.as_secs_f64(),
        bound,
        rated.world_429,
        rated.world_requests
    );
    let same_top = top_level(&faults.keys) == top_level(&sweep.keys);
    println!(
        "faults: same top-level networks as sweep: {same_top}, all networks identical: {}, same coverage: {}",
        faults.keys == sweep.keys,
        faults.addresses == sweep.addresses
    );
    let only_sweep: Vec<_> = sweep.keys.difference(&faults.keys).take(5).collect();
    let only_faults: Vec<_> = faults.keys.difference(&sweep.keys).take(5).collect();
    if !only_sweep.is_empty() || !only_faults.is_empty() {
        println!(
            "faults: {} networks only without faults (e.g. {:?}), {} only with (e.g. {:?})",
            sweep.keys.difference(&faults.keys).count(),
            only_sweep,
            faults.keys.difference(&sweep.keys).count(),
            only_faults
        );
    }
    println!(
        "ratios: queries_vs_oracle={:.3} depth_all_vs_oracle={:.3} coverage_vs_truth={:.4} answers_per_s={:.0} queries_vs_2016={:.3} queries_vs_2016_20ms={:.3} coverage_vs_2016={:.3} wall_vs_rate_bound={:.3} share_429={:.4} faults_same={}",
        sweep.total() as f64 / oracle,
        all.total() as f64 / oracle,
        sweep.addresses as f64 / truth.covered.addresses as f64,
        sweep.answers as f64 / sweep.wall.as_secs_f64(),
        sweep.total() as f64 / old.total() as f64,
        sweep_slow.total() as f64 / old_slow.total() as f64,
        sweep.addresses as f64 / old.addresses.max(1) as f64,
        rated.wall.as_secs_f64() / bound,
        rated.world_429 as f64 / rated.world_requests.max(1) as f64,
        same_top && faults.addresses == sweep.addresses,
    );
    Ok(())
}
