//! `ipcrawl crawl`: arguments → [`CrawlConfig`], the seed plan
//! ([`crawl::ensure_plan`]), the crawl, progress on stderr
//! ([`super::progress`]), a JSON summary on stdout.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use ipcrawl::crawl::politeness::{default_rates, Rate};
use ipcrawl::crawl::{self, CrawlConfig, Depth, PlanOrigin, Policy, Shard, Stop};
use ipcrawl::rdap::bootstrap::Bootstrap;
use ipcrawl::rdap::client::{Client, ClientConfig};
use ipcrawl::rdap::Registry;
use ipcrawl::store::Store;

use super::progress::{ProgressArg, View};
use super::Globals;

/// How deep the sweep goes.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum DepthArg {
    /// On a nested answer, ask for its parent and continue after the top-level network.
    Coverage,
    /// Continue at end + 1 of every answer.
    All,
}

/// Crawl options.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Worker threads, i.e. queries in flight at most (1-4096).
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub threads: u32,
    /// An RFC 9224 IPv4 bootstrap file instead of the bundled IANA copy.
    #[arg(long, value_name = "FILE")]
    pub bootstrap: Option<PathBuf>,
    /// Use URL as NAME's RDAP base URL everywhere (routing and redirects),
    /// e.g. `ripe=http://127.0.0.1:8081/` (repeatable).
    #[arg(long, value_name = "NAME=URL", value_parser = parse_registry_url)]
    pub registry: Vec<(Registry, String)>,
    /// Query rate of a registry: `NAME=N/s`, `NAME=N/min` or `NAME=unlimited`
    /// (repeatable). Defaults: arin, ripe, apnic 10/s; lacnic 10/min; afrinic 1/s.
    #[arg(long, value_name = "NAME=RATE", value_parser = super::parse_registry_rate)]
    pub rate: Vec<(Registry, Rate)>,
    /// Crawl only partition K (from 0) of N of the space.
    #[arg(long, value_name = "K/N")]
    pub shard: Option<Shard>,
    /// `coverage`: climb to the top-level network of a nested answer and
    /// continue after it (fewest queries); `all`: continue at end + 1 of
    /// every answer.
    #[arg(long, value_enum, default_value = "coverage")]
    pub depth: DepthArg,
    /// Your e-mail address, sent in the User-Agent so registries can reach you.
    #[arg(long, value_name = "EMAIL", env = "IPCRAWL_CONTACT")]
    pub contact: Option<String>,
    /// Stop after sending this many queries (resume later by running again).
    #[arg(long, value_name = "N")]
    pub max_queries: Option<u64>,
    /// Progress display on stderr.
    #[arg(long, value_enum, default_value = "auto")]
    pub progress: ProgressArg,
    /// Seconds between progress lines (JSON mode).
    #[arg(long, value_name = "SECS", default_value_t = 5.0)]
    pub progress_every: f64,
    /// Attempts per lookup before it is recorded as failed.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=100), hide = true)]
    pub attempts: u32,
    /// First retry delay in milliseconds (doubles each retry).
    #[arg(long, default_value_t = 1000, hide = true)]
    pub retry_base_ms: u64,
    /// Pause after a 429 without Retry-After, in milliseconds (doubles on repeats).
    #[arg(long, default_value_t = 60_000, hide = true)]
    pub rate_limit_pause_ms: u64,
    /// Shortest pause after any 429 whatever its Retry-After says, in
    /// milliseconds (doubles with each 429 in a row).
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..=3_600_000), hide = true)]
    pub rate_limit_floor_ms: u64,
    /// Longest total of 429 pauses per registry in one run, in seconds;
    /// past it, that registry's remaining work is put off to the next run.
    #[arg(long, value_name = "SECS", default_value_t = 4.0 * 3600.0, hide = true)]
    pub max_pause: f64,
    /// First circuit-breaker pause, in milliseconds.
    #[arg(long, default_value_t = 30_000, hide = true)]
    pub breaker_pause_ms: u64,
    /// Whole-request timeout in seconds.
    #[arg(long, default_value_t = 30.0, hide = true)]
    pub timeout: f64,
    /// Connect timeout in seconds.
    #[arg(long, default_value_t = 10.0, hide = true)]
    pub connect_timeout: f64,
    /// One lane per bootstrap entry instead of one per delegated block.
    #[arg(long, hide = true)]
    pub no_cuts: bool,
    /// Outside the space the bundled delegated statistics list as held, an
    /// empty answer skips the rest of the /LEN block (0: probe every seed).
    #[arg(long, value_name = "LEN", default_value_t = 16, value_parser = clap::value_parser!(u8).range(0..=32))]
    pub coarse: u8,
    /// The 2016 strategy, for comparison: every seed asked in order, no sweep,
    /// no parent climbing (use with --depth all).
    #[arg(long, hide = true)]
    pub strategy_2016: bool,
}

fn parse_registry_url(s: &str) -> Result<(Registry, String), String> {
    let (name, url) = s
        .split_once('=')
        .ok_or_else(|| format!("{s:?} is not NAME=URL (e.g. ripe=http://127.0.0.1:8081/)"))?;
    let reg: Registry = name.parse().map_err(|e| format!("{e}"))?;
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(format!("{url:?} is not an http:// or https:// URL"));
    }
    Ok((reg, url.to_string()))
}

fn secs(name: &str, v: f64) -> anyhow::Result<Duration> {
    secs_up_to(name, v, 86_400.0)
}

fn secs_up_to(name: &str, v: f64, max: f64) -> anyhow::Result<Duration> {
    if !v.is_finite() || v <= 0.0 || v > max {
        anyhow::bail!("--{name} ({v}) must be a number of seconds between 0 and {max}");
    }
    Ok(Duration::from_secs_f64(v))
}

/// Validated configuration from the arguments.
pub fn config(args: &Args) -> anyhow::Result<(Bootstrap, ClientConfig, CrawlConfig)> {
    let mut routes = match &args.bootstrap {
        None => Bootstrap::bundled(),
        Some(p) => {
            let bytes = std::fs::read(p)
                .with_context(|| format!("--bootstrap {}: cannot read", p.display()))?;
            Bootstrap::from_json(&bytes).with_context(|| format!("--bootstrap {}", p.display()))?
        }
    };
    for (reg, url) in &args.registry {
        routes
            .set_base(*reg, url)
            // The error names the URL itself, redacted (no credentials echoed).
            .with_context(|| format!("--registry {reg}"))?;
    }
    let mut rates = default_rates();
    for (reg, rate) in &args.rate {
        rates[reg.index()] = *rate;
    }
    let client = ClientConfig {
        connect_timeout: secs("connect-timeout", args.connect_timeout)?,
        request_timeout: secs("timeout", args.timeout)?,
        contact: args.contact.clone(),
        ..ClientConfig::default()
    };
    let policy = Policy {
        depth: match args.depth {
            _ if args.strategy_2016 => Depth::All,
            DepthArg::Coverage => Depth::Coverage,
            DepthArg::All => Depth::All,
        },
        rates,
        max_attempts: args.attempts,
        retry_base: Duration::from_millis(args.retry_base_ms),
        rate_limit_base: Duration::from_millis(args.rate_limit_pause_ms),
        rate_limit_floor: Duration::from_millis(args.rate_limit_floor_ms),
        max_pause: secs_up_to("max-pause", args.max_pause, 30.0 * 86_400.0)?,
        breaker_base: Duration::from_millis(args.breaker_pause_ms),
        max_queries: args.max_queries,
        ..Policy::default()
    };
    if let Some(c) = &args.contact {
        // Sent in the User-Agent header: no spaces or control characters
        // (header injection), nothing outside printable ASCII.
        if c.is_empty() || !c.chars().all(|ch| ch.is_ascii_graphic()) {
            anyhow::bail!(
                "--contact {c:?} is not usable: expected an e-mail address (printable ASCII, no spaces), sent in the User-Agent header"
            );
        }
    }
    if args.max_queries == Some(0) {
        anyhow::bail!("--max-queries (0) must be greater than 0");
    }
    let (cuts, delegated) = crawl::bundled_layout();
    let cfg = CrawlConfig {
        threads: args.threads as usize,
        policy,
        shard: args.shard,
        cuts: if args.no_cuts { Vec::new() } else { cuts },
        delegated: Some(delegated),
        coarse: (args.coarse > 0).then_some(args.coarse),
        strategy: if args.strategy_2016 {
            crawl::Strategy::Seeds2016
        } else {
            crawl::Strategy::Sweep
        },
        progress_every: Duration::from_millis(250),
        ..CrawlConfig::default()
    };
    Ok((routes, client, cfg))
}

/// Runs the command.
pub fn run(args: Args, g: &Globals) -> anyhow::Result<ExitCode> {
    let (routes, client_cfg, cfg) = config(&args)?;
    secs("progress-every", args.progress_every)?;
    let mut store = Store::open_or_create(&g.db)?;
    let (plan, origin) = crawl::ensure_plan(&store)?;
    if origin == PlanOrigin::Default {
        eprintln!(
            "ipcrawl: no seeds in {}: wrote the default {} (every /24 of the non-reserved space)",
            g.db.display(),
            plan.info.seeds
        );
    }
    let quit = Arc::new(AtomicBool::new(false));
    install_ctrlc(Arc::clone(&quit));
    let fetch = Arc::new(Client::new(routes.clone(), client_cfg));
    let mut view = View::new(
        args.progress.resolve(),
        Duration::from_secs_f64(args.progress_every),
    );
    let mut told = 0;
    let summary = crawl::run(&store, plan, &routes, fetch, &cfg, &quit, &mut |p| {
        view.show(p);
        // A registry put off: one line, when it happens.
        for off in p.put_off.iter().skip(told) {
            view.note(&format!("ipcrawl: {off}"));
        }
        told = told.max(p.put_off.len());
    })
    .with_context(|| format!("crawling into {}", g.db.display()))?;
    view.finish();
    if summary.stop == Stop::Finished {
        store
            .compact()
            .with_context(|| format!("compacting {}", g.db.display()))?;
    }
    let stop = match summary.stop {
        Stop::Finished => "finished",
        Stop::Interrupted => "interrupted",
        Stop::MaxQueries => "max_queries",
        Stop::PutOff => "put_off",
    };
    let put_off: serde_json::Map<String, serde_json::Value> = summary
        .put_off
        .iter()
        .map(|o| (o.registry.name().to_string(), o.to_string().into()))
        .collect();
    let (networks, placeholders) = store.counts()?;
    let out = serde_json::json!({
        "stop": stop,
        "run_queries": summary.run_queries,
        "elapsed_s": (summary.elapsed.as_secs_f64() * 1000.0).round() / 1000.0,
        "lanes": summary.lanes,
        "networks": networks,
        "placeholders": placeholders,
        "failures": summary.failures,
        "put_off": put_off,
        "counters": summary.snapshot,
    });
    println!("{out}");
    if summary.stop == Stop::Interrupted {
        eprintln!(
            "ipcrawl: interrupted; everything answered so far is stored in {}. Run the same command again to resume.",
            g.db.display()
        );
        return Ok(ExitCode::from(130));
    }
    // Exit 1: finished with work left (lookups failed for good, or a
    // registry's work put off); the next run continues either way.
    let mut code = ExitCode::SUCCESS;
    if summary.failures > 0 {
        eprintln!(
            "ipcrawl: {} lookups failed for good (see `ipcrawl stats`); the next `ipcrawl crawl` retries them",
            summary.failures
        );
        code = ExitCode::from(1);
    }
    if !summary.put_off.is_empty() {
        let names: Vec<&str> = summary.put_off.iter().map(|o| o.registry.name()).collect();
        eprintln!(
            "ipcrawl: finished with work left: the remaining work of {} was put off after too many 429 pauses (see above); run the same command again later to continue",
            names.join(", ")
        );
        code = ExitCode::from(1);
    }
    if summary.stop == Stop::MaxQueries {
        eprintln!("ipcrawl: stopped after --max-queries; run again to continue");
    }
    Ok(code)
}

fn install_ctrlc(quit: Arc<AtomicBool>) {
    let presses = AtomicU32::new(0);
    let _ = ctrlc::set_handler(move || {
        if presses.fetch_add(1, Ordering::SeqCst) == 0 {
            quit.store(true, Ordering::SeqCst);
            eprintln!("\nipcrawl: stopping: committing what is stored (Ctrl-C again to abort now)");
        } else {
            std::process::exit(130);
        }
    });
}
