//! `ipcrawl crawl`: arguments → [`CrawlConfig`], the seed plan
//! ([`crawl::ensure_plan`]), the delegated statistics the lanes are laid
//! out by ([`crawl::layout`]: fetched at start, reused for 24 h, `--stats`
//! mirrors, `--delegated` files; a one-line warning for each fallback), the
//! crawl, progress on stderr ([`super::progress`]) and in the live status
//! file beside the DB ([`super::live`]), a JSON summary on stdout.
//!
//! Signals: SIGINT (Ctrl-C), SIGTERM (Kubernetes, Slurm, systemd, `kill`)
//! and SIGHUP (a closed terminal) all stop the crawl cleanly: what is
//! answered is committed, the summary printed, and the exit code is 128 +
//! the signal (130, 143, 129), resumable. The handlers are the first thing
//! `crawl` installs, before it reads its arguments or opens the DB. A second
//! signal exits at once (its own 128 + signal; the DB is then repaired on
//! the next open, like after kill -9). SIGHUP is left alone when the crawl
//! was started with it ignored (`nohup`).
//!
//! Refresh (`--refresh [--max-age DURATION]`): the blocks whose delegated
//! record changed since the statistics the last crawl used, and the
//! networks older than `--max-age`, are asked again
//! ([`crawl::refresh`]); networks found gone go to the history. One line on
//! stderr at the start and one at the end; `refresh` in the JSON summary.
//!
//! Offline: when no registry answered anything for `--unreachable-after`
//! (60 s) while lookups failed in transport, the crawl stops (the rule is
//! [`ipcrawl::crawl::pool::nothing_reachable`]) with one line naming the causes
//! per registry host, and exit 2; everything is resumable.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use ipcrawl::crawl::layout::{self, GetFile, Statistics, Want};
use ipcrawl::crawl::politeness::{default_rates, Rate};
use ipcrawl::crawl::telemetry::TransportCount;
use ipcrawl::crawl::{self, CrawlConfig, Depth, PlanOrigin, Policy, Shard, Stop};
use ipcrawl::delegated::source;
use ipcrawl::rdap::bootstrap::Bootstrap;
use ipcrawl::rdap::client::{Client, ClientConfig, FileClient, FileConfig};
use ipcrawl::rdap::Registry;
use ipcrawl::store::Store;

use super::live::StatusFile;
use super::progress::{ProgressArg, View};
use super::signals::{StopSignals, SIGNALS};
use super::Globals;

/// Whether RFC 9910 search is used.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum SearchArg {
    /// Where a registry's `help` lists it.
    Auto,
    /// Never.
    Off,
}

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
#[command(after_long_help = super::live::HELP)]
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
    /// `coverage`: the top-level networks (climb from a nested answer to
    /// its top-level network and continue after it: fewest queries); `all`:
    /// every network at every level (continue at end + 1 of every answer,
    /// and fetch the parents it names).
    #[arg(long, value_enum, default_value = "coverage")]
    pub depth: DepthArg,
    /// `auto`: ask each registry's `help` once; where it lists RFC 9910 RIR
    /// search, enumerate its space with searches (`rdap-down` for the
    /// top-level networks, `rdap-bottom` for every network with `--depth
    /// all`) and sweep only what they leave; `off`: sweep everything.
    #[arg(long, value_enum, default_value = "auto")]
    pub search: SearchArg,
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
    /// Stop after this many seconds in which no registry answered anything
    /// while lookups failed in transport (0: never).
    #[arg(long, value_name = "SECS", default_value_t = 60.0, hide = true)]
    pub unreachable_after: f64,
    /// RIR delegated-statistics files to lay the crawl out by instead of
    /// fetching the registries' current ones (repeatable, one per file;
    /// `.gz` accepted; a file may hold several registries). A registry no
    /// file holds uses the copy stored in the DB, else the bundled snapshot.
    #[arg(long, value_name = "FILE")]
    pub delegated: Vec<PathBuf>,
    /// Fetch NAME's delegated statistics from a mirror (repeatable): a URL
    /// ending in `/` is the root of a copy of the registry's tree (the file
    /// is at `pub/stats/<name>/delegated-<name>-extended-latest` under it,
    /// as `ipcrawl world` serves it), any other URL is the file itself.
    /// Without it a registry's own file is fetched, unless `--registry`
    /// points that registry elsewhere (then the stored copy or the bundle).
    #[arg(long, value_name = "NAME=URL", value_parser = parse_registry_url)]
    pub stats: Vec<(Registry, String)>,
    /// Count the statistics' age from this day (YYYY-MM-DD) instead of
    /// today's clock (rehearsals against an aged world, tests).
    #[arg(long, value_name = "DATE", value_parser = parse_day, hide = true)]
    pub today: Option<i64>,
    /// Whole-request timeout of a statistics fetch, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 300.0, hide = true)]
    pub stats_timeout: f64,
    /// One lane per bootstrap entry instead of one per delegated block.
    #[arg(long, hide = true)]
    pub no_cuts: bool,
    /// Outside the space the delegated statistics list as held, an empty
    /// answer skips the rest of the /LEN block (0: probe every seed). Not
    /// in the space of statistics older than 30 days: there every seed is
    /// probed.
    #[arg(long, value_name = "LEN", default_value_t = 16, value_parser = clap::value_parser!(u8).range(0..=32))]
    pub coarse: u8,
    /// Bring a finished DB to the registries' current state: ask again the
    /// blocks whose delegated record is new, changed or gone since the
    /// statistics the last crawl used (with --depth all, their whole
    /// subtree), and the networks older than --max-age. Networks found gone
    /// leave the current view; previous versions are kept (export --history).
    #[arg(long)]
    pub refresh: bool,
    /// With --refresh: also ask again every network fetched longer ago than
    /// this (`30d`, `12h`, `2w`, seconds; default: none by age).
    #[arg(long, value_name = "DURATION", requires = "refresh", value_parser = crawl::refresh::parse_duration)]
    pub max_age: Option<Duration>,
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

/// `YYYY-MM-DD` → days since 1970-01-01.
fn parse_day(s: &str) -> Result<i64, String> {
    let compact: String = s.chars().filter(|c| *c != '-').collect();
    let ok = s.len() == 10 && s.as_bytes()[4] == b'-' && s.as_bytes()[7] == b'-';
    ok.then(|| ipcrawl::delegated::date_days(&compact))
        .flatten()
        .ok_or_else(|| format!("{s:?} is not a date: expected YYYY-MM-DD"))
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
    secs("stats-timeout", args.stats_timeout)?;
    // Lane cuts and delegated space come from the statistics, once the DB
    // is open ([`lay_out`]).
    let cfg = CrawlConfig {
        threads: args.threads as usize,
        policy,
        shard: args.shard,
        coarse: (args.coarse > 0).then_some(args.coarse),
        strategy: if args.strategy_2016 {
            crawl::Strategy::Seeds2016
        } else {
            crawl::Strategy::Sweep
        },
        progress_every: Duration::from_millis(250),
        search: [args.search == SearchArg::Auto; 5],
        unreachable_after: if args.unreachable_after == 0.0 {
            None
        } else {
            Some(secs("unreachable-after", args.unreachable_after)?)
        },
        ..CrawlConfig::default()
    };
    Ok((routes, client, cfg))
}

/// Runs the command.
pub fn run(args: Args, g: &Globals) -> anyhow::Result<ExitCode> {
    // First of all: a signal from now on stops the crawl cleanly.
    let signals = StopSignals::install()?;
    let (routes, client_cfg, mut cfg) = config(&args)?;
    secs("progress-every", args.progress_every)?;
    let (local, local_warnings) = layout::local(&args.delegated).map_err(anyhow::Error::msg)?;
    let mut store = Store::open_or_create(&g.db)?;
    // What `stats` and `coverage` show while this crawl holds the DB.
    let mut status = StatusFile::new(&g.db, command_json(&args, &cfg));
    if let Some(w) = status.starting(&store) {
        g.info(format_args!("{w}"));
    }
    let (plan, origin) = crawl::ensure_plan(&store)?;
    if origin == PlanOrigin::Default {
        eprintln!(
            "ipcrawl: no seeds in {}: wrote the default {} (every /24 of the non-reserved space)",
            g.db.display(),
            plan.info.seeds
        );
    }
    let statistics = statistics(&args, local, &store, &signals.quit)
        .with_context(|| format!("storing delegated statistics in {}", g.db.display()))?;
    for w in local_warnings
        .iter()
        .map(String::as_str)
        .chain(statistics.warnings())
    {
        g.info(format_args!("warning: {w}"));
    }
    for n in statistics.notes() {
        g.detail(format_args!("{n}"));
    }
    let mut refresh = start_refresh(&args, &store, &statistics, g)?;
    let fresh_dumps = ipcrawl::import::fresh_dumps(&store, today(&args))?;
    lay_out(&mut cfg, &statistics, &routes, args.no_cuts, &fresh_dumps);
    let fetch = Arc::new(Client::new(routes.clone(), client_cfg));
    let mut view = View::new(
        args.progress.resolve(),
        Duration::from_secs_f64(args.progress_every),
    );
    let mut told = 0;
    let mut announced = false;
    let result = crawl::run(
        &store,
        plan,
        &routes,
        fetch,
        &cfg,
        &signals.quit,
        &mut |p| {
            if !announced {
                if let Some(sig) = signals.received() {
                    announced = true;
                    view.say(&format!(
                        "ipcrawl: stopping on {}: committing what is stored ({} to abort now)",
                        sig.name, sig.again
                    ));
                }
            }
            view.show(p);
            // A registry put off: one line, when it happens.
            for off in p.put_off.iter().skip(told) {
                view.say(&format!("ipcrawl: {off}"));
            }
            told = told.max(p.put_off.len());
            if let Some(w) = status.tick(p, view.estimate(), &store) {
                view.say(&format!("ipcrawl: {w}"));
            }
        },
    );
    view.finish();
    let summary = match result {
        Ok(s) => s,
        Err(e) => {
            status.finish("failed", None, view.estimate(), &store);
            return Err(e).with_context(|| format!("crawling into {}", g.db.display()));
        }
    };
    let stop = match summary.stop {
        Stop::Finished => "finished",
        Stop::Interrupted => "interrupted",
        Stop::MaxQueries => "max_queries",
        Stop::PutOff => "put_off",
        Stop::Unreachable => "unreachable",
    };
    if let Some(w) = status.finish(stop, Some(&summary), view.estimate(), &store) {
        g.info(format_args!("{w}"));
    }
    end_refresh(refresh.as_mut(), &summary, &store, g)?;
    if summary.stop == Stop::Finished {
        if let Err(e) = store.compact() {
            // Everything is committed: a file left larger is no reason to fail the crawl.
            g.info(format_args!(
                "warning: compacting {} failed: {e}; everything is committed, the file stays larger",
                g.db.display()
            ));
        }
    }
    let put_off: serde_json::Map<String, serde_json::Value> = summary
        .put_off
        .iter()
        .map(|o| (o.registry.name().to_string(), o.to_string().into()))
        .collect();
    let signal = signals
        .received()
        .filter(|_| summary.stop == Stop::Interrupted);
    let (networks, placeholders) = store.counts()?;
    let out = serde_json::json!({
        "stop": stop,
        "signal": signal.map(|s| s.name),
        "run_queries": summary.run_queries,
        "elapsed_s": (summary.elapsed.as_secs_f64() * 1000.0).round() / 1000.0,
        "lanes": summary.lanes,
        "networks": networks,
        "placeholders": placeholders,
        "failures": summary.failures,
        "refused": summary.refused,
        "put_off": put_off,
        "transport_failures": transport_json(&summary.run_transport),
        "statistics": statistics.to_json(),
        "refresh": refresh,
        "counters": summary.snapshot,
    });
    println!("{out}");
    match summary.stop {
        Stop::Interrupted => {
            let sig = signal.unwrap_or(SIGNALS[0]);
            eprintln!(
                "ipcrawl: interrupted ({}); everything answered so far is stored in {}. Run the same command again to resume.",
                sig.name,
                g.db.display()
            );
            return Ok(ExitCode::from(sig.exit_code()));
        }
        Stop::Unreachable => {
            let after = cfg.unreachable_after.unwrap_or_default();
            eprintln!(
                "ipcrawl: error: {}",
                diagnosis(after, &summary.run_transport, |r| host_of(routes.base(r)))
            );
            return Ok(ExitCode::from(2));
        }
        Stop::Finished | Stop::MaxQueries | Stop::PutOff => {}
    }
    Ok(finished_code(&summary))
}

/// `--refresh`: starts it (one line on stderr); otherwise stores the
/// statistics as the first baseline, and continues a refresh an earlier run
/// left unfinished.
fn start_refresh(
    args: &Args,
    store: &Store,
    statistics: &Statistics,
    g: &Globals,
) -> anyhow::Result<Option<crawl::refresh::Report>> {
    let now = ipcrawl::time::Now::read().unix_secs;
    if args.refresh {
        let r = crawl::refresh::begin(store, statistics, args.max_age, now)
            .with_context(|| format!("starting the refresh of {}", g.db.display()))?;
        g.info(format_args!("{}", r.start_line()));
        return Ok(Some(r));
    }
    crawl::refresh::keep_first_baseline(store, statistics, now)?;
    Ok(store
        .refresh_pending()?
        .map(|_| crawl::refresh::Report::default()))
}

/// Ends a refresh after a finished crawl with no failure left (one line
/// on stderr either way).
fn end_refresh(
    refresh: Option<&mut crawl::refresh::Report>,
    summary: &crawl::Summary,
    store: &Store,
    g: &Globals,
) -> anyhow::Result<()> {
    let Some(r) = refresh else {
        return Ok(());
    };
    if summary.stop == Stop::Finished && summary.failures == 0 {
        let now = ipcrawl::time::Now::read().unix_secs;
        crawl::refresh::finish(store, now, r)
            .with_context(|| format!("ending the refresh of {}", g.db.display()))?;
    }
    g.info(format_args!("{}", r.end_line()));
    Ok(())
}

/// The exit code of a run that was not stopped by a signal or the offline
/// rule, with its stderr lines: 1 when it finished with work left.
fn finished_code(summary: &crawl::Summary) -> ExitCode {
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
    code
}

/// The status file's `command`: how this crawl was asked to run.
fn command_json(args: &Args, cfg: &CrawlConfig) -> serde_json::Value {
    let rates: serde_json::Map<String, serde_json::Value> = Registry::ALL
        .iter()
        .map(|r| {
            let rate = cfg.policy.rates[r.index()].to_string();
            (r.name().to_string(), rate.into())
        })
        .collect();
    serde_json::json!({
        "depth": match cfg.policy.depth {
            Depth::Coverage => "coverage",
            Depth::All => "all",
        },
        "search": if args.search == SearchArg::Auto { "auto" } else { "off" },
        "strategy": if args.strategy_2016 { "2016" } else { "sweep" },
        "shard": args.shard.map(|s| s.to_string()),
        "threads": args.threads,
        "max_queries": args.max_queries,
        "rates": rates,
    })
}

/// Where each registry's statistics come from, by the arguments (see
/// [`layout`]): `--delegated` files, a `--stats` mirror, nothing fetched
/// for a registry `--registry` points elsewhere, else its own URL.
fn wants(args: &Args, mut local: [Option<layout::Local>; 5]) -> [Want; 5] {
    Registry::ALL.map(|r| {
        let mirror = args.stats.iter().rev().find(|(x, _)| *x == r);
        if let Some(l) = local[r.index()].take() {
            Want::Local(l)
        } else if let Some((_, url)) = mirror {
            Want::Fetch(source::mirror_url(r, url))
        } else if !args.delegated.is_empty() {
            Want::Skip {
                why: "no --delegated file holds its records".into(),
                warn: true,
            }
        } else if args.registry.iter().any(|(x, _)| *x == r) {
            Want::Skip {
                why: "not fetched (--registry points it elsewhere and no --stats says where its statistics are)".into(),
                warn: false,
            }
        } else {
            Want::Fetch(source::official_url(r))
        }
    })
}

/// Today (days since 1970-01-01): `--today`, else the clock.
fn today(args: &Args) -> i64 {
    let now = ipcrawl::time::Now::read().unix_secs;
    args.today
        .unwrap_or_else(|| i64::try_from(now / 86_400).unwrap_or(i64::MAX))
}

/// Gets the statistics the arguments ask for (fetching what they say).
fn statistics(
    args: &Args,
    local: [Option<layout::Local>; 5],
    store: &Store,
    quit: &AtomicBool,
) -> anyhow::Result<Statistics> {
    let files: Arc<dyn GetFile> = Arc::new(FileClient::new(&FileConfig {
        connect_timeout: secs("connect-timeout", args.connect_timeout)?,
        request_timeout: secs("stats-timeout", args.stats_timeout)?,
        contact: args.contact.clone(),
        ..FileConfig::default()
    }));
    let now = ipcrawl::time::Now::read().unix_secs;
    let today = today(args);
    Ok(layout::gather(
        store,
        &wants(args, local),
        &files,
        now,
        today,
        quit,
    )?)
}

/// Sets the lane cuts and the delegated space from `statistics`, and the
/// shard balance from the bundle (the same in every shard).
fn lay_out(
    cfg: &mut CrawlConfig,
    statistics: &Statistics,
    routes: &Bootstrap,
    no_cuts: bool,
    fresh_dumps: &[layout::FreshDump],
) {
    let lay = statistics.layout_with_dumps(routes, fresh_dumps);
    cfg.complete = lay.complete;
    cfg.cuts = if no_cuts { Vec::new() } else { lay.cuts };
    cfg.delegated = Some(lay.delegated);
    if cfg.shard.is_some() {
        let (cuts, weight) = crawl::bundled_layout();
        cfg.balance = Some((if no_cuts { Vec::new() } else { cuts }, weight));
    }
}

/// `{"ripe": {"dns": 12}, ...}`: the run's transport failures.
fn transport_json(counts: &[TransportCount]) -> serde_json::Value {
    let mut m = serde_json::Map::new();
    for c in counts {
        let e = m
            .entry(c.registry.name())
            .or_insert_with(|| serde_json::json!({}));
        e[c.cause.key()] = c.count.into();
    }
    m.into()
}

/// The host (and port) of a base URL: `https://rdap.arin.net/registry/` →
/// `rdap.arin.net`.
fn host_of(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.split('/').next().unwrap_or(rest).to_string()
}

/// The one-line offline diagnosis: `no registry answered in 60 s:
/// rdap.arin.net (arin): DNS failure (14); ...: check the network, DNS and
/// firewall ...`.
fn diagnosis(
    after: Duration,
    counts: &[TransportCount],
    host: impl Fn(Registry) -> String,
) -> String {
    let per: Vec<String> = Registry::ALL
        .iter()
        .filter_map(|&r| {
            let mut mine: Vec<&TransportCount> =
                counts.iter().filter(|c| c.registry == r).collect();
            mine.sort_by_key(|c| std::cmp::Reverse(c.count));
            let causes: Vec<String> = mine
                .iter()
                .map(|c| format!("{} ({})", c.cause, c.count))
                .collect();
            (!causes.is_empty()).then(|| format!("{} ({r}): {}", host(r), causes.join(", ")))
        })
        .collect();
    let secs = after.as_secs_f64();
    let t = if secs.fract() == 0.0 {
        format!("{secs:.0}")
    } else {
        format!("{secs}")
    };
    format!(
        "no registry answered in {t} s: {}: check the network, DNS and firewall (or the --registry URLs); nothing is lost: run the same command again to resume",
        per.join("; ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use ipcrawl::rdap::Transport;

    #[test]
    fn the_offline_diagnosis_names_hosts_causes_and_what_to_check() {
        let c = |registry, cause, count| TransportCount {
            registry,
            cause,
            count,
        };
        let counts = [
            c(Registry::Arin, Transport::Dns, 14),
            c(Registry::Ripe, Transport::ConnectTimeout, 3),
            c(Registry::Ripe, Transport::Refused, 12),
        ];
        let line = diagnosis(Duration::from_secs(60), &counts, |r| {
            host_of(Registry::official_base(r))
        });
        assert_eq!(
            line,
            "no registry answered in 60 s: rdap.arin.net (arin): DNS failure (14); \
             rdap.db.ripe.net (ripe): connection refused (12), connect timeout (3): \
             check the network, DNS and firewall (or the --registry URLs); nothing is lost: \
             run the same command again to resume"
        );
        assert!(!line.contains('\n'));
        assert_eq!(host_of("http://127.0.0.1:8081/"), "127.0.0.1:8081");
        assert!(
            diagnosis(Duration::from_millis(1500), &counts, |_| "h".into())
                .starts_with("no registry answered in 1.5 s: h (arin)")
        );
    }
}
