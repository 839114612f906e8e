//! `ipcrawl world`: serve the local RDAP world on 127.0.0.1 until killed.
//!
//! Prints one `NAME=URL` line per registry on stdout (and to `--urls FILE`),
//! then serves (RDAP, and each registry's delegated statistics at its real
//! path: `crawl --stats NAME=URL`); Ctrl-C stops it cleanly and prints the request counters as one
//! JSON line on stderr. Point a crawl at it with `--registry NAME=URL`.
//! `--epoch N` ages the world N years; `--stats-dir` and `--dumps` write its
//! delegated statistics and bulk dumps before serving starts (`--no-serve`:
//! write them and exit).

use std::fmt::Write as _;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context};

use ipcrawl::crawl::politeness::Rate;
use ipcrawl::prefix::Cidr;
use ipcrawl::rdap::Registry;
use ipcrawl::world::{Faults, RateLimit, World, WorldConfig, DEFAULT_SCOPE};

/// Serve the local RDAP world (for rehearsals, tests and benchmarks).
#[derive(clap::Args, Debug, Clone)]
pub struct Args {
    /// Prefix the world covers; repeatable. Reserved and unrouted parts are cut
    /// away. Defaults to 1.0.0.0/8 23.0.0.0/8 41.0.0.0/8 185.0.0.0/8 200.0.0.0/8
    /// (five registries; 1.0.0.0/8 holds transfers).
    #[arg(long = "scope", value_name = "PREFIX")]
    pub scope: Vec<Cidr>,
    /// Seed of every random choice (nesting, names, faults).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Nesting density: 1 is the realistic default, 0 only delegated blocks.
    #[arg(long, default_value_t = 1.0)]
    pub density: f64,
    /// Per-registry rate limit, e.g. `arin=10/s` or `lacnic=10/min`; repeatable.
    /// Over it the server answers 429. Defaults to no limit.
    #[arg(long = "rate", value_name = "NAME=N/s", value_parser = super::parse_registry_rate)]
    pub rate: Vec<(Registry, Rate)>,
    /// Send 429 without `Retry-After` (LACNIC never sends it; it sends a
    /// "Rate Limit Notice" body).
    #[arg(long)]
    pub no_retry_after: bool,
    /// Delay added to every answer, in milliseconds.
    #[arg(long, default_value_t = 0)]
    pub latency_ms: u64,
    /// Fraction of requests answered 500/502/503/504.
    #[arg(long, default_value_t = 0.0)]
    pub fault_5xx: f64,
    /// Fraction of requests whose connection is closed without an answer.
    #[arg(long, default_value_t = 0.0)]
    pub fault_drop: f64,
    /// Fraction of requests answered late (after --slow-ms).
    #[arg(long, default_value_t = 0.0)]
    pub fault_slow: f64,
    /// Fraction of answers cut in the middle of the body.
    #[arg(long, default_value_t = 0.0)]
    pub fault_truncate: f64,
    /// How late a slow answer is, in milliseconds.
    #[arg(long, default_value_t = 2000)]
    pub slow_ms: u64,
    /// Write the ground truth (networks, covered addresses, oracle queries) as JSON.
    #[arg(long, value_name = "FILE")]
    pub truth: Option<PathBuf>,
    /// Append one line per request to FILE.
    #[arg(long, value_name = "FILE")]
    pub log: Option<PathBuf>,
    /// Also write the `NAME=URL` lines to FILE.
    #[arg(long, value_name = "FILE")]
    pub urls: Option<PathBuf>,
    /// Registries serving RFC 9910 RIR search (`ips/rirSearch1/...`, listed in
    /// their `help`): comma-separated names, or `none`.
    #[arg(long, value_name = "NAMES", default_value = "arin,ripe", value_parser = parse_search)]
    pub search: [bool; 5],
    /// The most results a search server gives for `rdap-down`/`rdap-bottom`
    /// (above it ARIN truncates with a notice, the others answer 400 "Too Many
    /// Rows").
    #[arg(long, value_name = "N", default_value_t = 10_000)]
    pub search_limit: usize,
    /// Serve the same world N years on: new allocations in free space,
    /// returned blocks, transfers between registries, renamed holders, new
    /// and removed reassignments (deterministic per seed and epoch). 0 is
    /// today's world.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub epoch: u32,
    /// Write the world's delegated statistics into DIR, one
    /// `delegated-<registry>-extended-latest` file per registry (dated the
    /// epoch's date), before serving.
    #[arg(long, value_name = "DIR")]
    pub stats_dir: Option<PathBuf>,
    /// Write bulk dumps of the world's networks into DIR, in each registry's
    /// RPSL style (ripe.db.inetnum.gz, ripe.db.organisation.gz, ripe.db.role.gz,
    /// apnic.db.{inetnum,irt,role,organisation}.gz, afrinic.db.gz), before serving.
    #[arg(long, value_name = "DIR")]
    pub dumps: Option<PathBuf>,
    /// Write --stats-dir, --dumps and --truth, then exit without serving.
    #[arg(long)]
    pub no_serve: bool,
}

/// Parses `--search`: `none`, or registry names separated by commas.
pub fn parse_search(s: &str) -> Result<[bool; 5], String> {
    let mut on = [false; 5];
    if s.trim().eq_ignore_ascii_case("none") {
        return Ok(on);
    }
    for name in s.split(',').map(str::trim) {
        let r: Registry = name
            .parse()
            .map_err(|e| format!("{e} (--search takes names like arin,ripe, or none)"))?;
        on[r.index()] = true;
    }
    Ok(on)
}

fn fraction(flag: &str, v: f64) -> anyhow::Result<f64> {
    if !(0.0..=1.0).contains(&v) {
        bail!("--{flag} ({v}) must be between 0 and 1");
    }
    Ok(v)
}

/// Validates the arguments into a [`WorldConfig`].
pub fn config(args: &Args) -> anyhow::Result<WorldConfig> {
    let mut cfg = WorldConfig::default();
    if !args.scope.is_empty() {
        cfg.scope.clone_from(&args.scope);
    }
    debug_assert!(!DEFAULT_SCOPE.is_empty());
    cfg.seed = args.seed;
    if !(args.density.is_finite() && args.density >= 0.0) {
        bail!("--density ({}) must be 0 or more", args.density);
    }
    cfg.density = args.density;
    for (reg, rate) in &args.rate {
        cfg.rate[reg.index()] = rate.as_per_sec().map(|per_second| RateLimit {
            per_second,
            retry_after: !args.no_retry_after && *reg != Registry::Lacnic,
        });
    }
    cfg.latency = Duration::from_millis(args.latency_ms);
    cfg.faults = Faults {
        server_error: fraction("fault-5xx", args.fault_5xx)?,
        drop: fraction("fault-drop", args.fault_drop)?,
        slow: fraction("fault-slow", args.fault_slow)?,
        truncate: fraction("fault-truncate", args.fault_truncate)?,
        slow_delay: Duration::from_millis(args.slow_ms),
    };
    let sum = args.fault_5xx + args.fault_drop + args.fault_slow + args.fault_truncate;
    if sum > 1.0 {
        bail!("the --fault-* fractions add up to {sum}, more than 1");
    }
    cfg.log.clone_from(&args.log);
    cfg.search = args.search;
    if args.search_limit == 0 {
        bail!("--search-limit (0) must be at least 1");
    }
    for l in &mut cfg.search_limits {
        l.max = args.search_limit;
    }
    cfg.epoch = args.epoch;
    if args.epoch > 100 {
        bail!("--epoch ({}) must be at most 100 years", args.epoch);
    }
    if args.no_serve && args.stats_dir.is_none() && args.dumps.is_none() && args.truth.is_none() {
        bail!("--no-serve writes --stats-dir, --dumps or --truth: give at least one of them");
    }
    Ok(cfg)
}

/// Writes the statistics and dumps the arguments ask for; one line per file on stderr.
fn write_files(args: &Args, model: &ipcrawl::world::Model) -> anyhow::Result<()> {
    if let Some(dir) = &args.stats_dir {
        let paths = ipcrawl::world::stats::write_dir(model, dir)
            .with_context(|| format!("cannot write --stats-dir {}", dir.display()))?;
        for p in paths {
            eprintln!("world: wrote {}", p.display());
        }
    }
    if let Some(dir) = &args.dumps {
        let files = ipcrawl::world::dumps::write_dir(model, dir)
            .with_context(|| format!("cannot write --dumps {}", dir.display()))?;
        for (p, size) in files {
            eprintln!("world: wrote {} ({size} bytes)", p.display());
        }
    }
    Ok(())
}

/// `--no-serve`: builds the model, writes the files, exits.
fn write_only(args: &Args, cfg: &WorldConfig) -> anyhow::Result<ExitCode> {
    let model = cfg.model().context("cannot build the world")?;
    write_files(args, &model)?;
    if let Some(p) = &args.truth {
        let t = ipcrawl::world::Truth::compute(&model, cfg.seed, cfg.density, cfg.search);
        let what = || format!("cannot write --truth {}", p.display());
        let mut w = std::io::BufWriter::new(std::fs::File::create(p).with_context(what)?);
        serde_json::to_writer(&mut w, &t).with_context(what)?;
        w.flush().with_context(what)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Starts the world, prints the URLs and serves until Ctrl-C.
pub fn run(args: Args, g: &super::Globals) -> anyhow::Result<ExitCode> {
    let cfg = config(&args)?;
    if args.no_serve {
        return write_only(&args, &cfg);
    }
    let world = World::start(cfg).context("cannot start the world")?;
    write_files(&args, world.model())?;
    let mut lines = String::new();
    for (r, url) in world.urls() {
        let _ = writeln!(lines, "{r}={url}");
    }
    if let Some(p) = &args.urls {
        std::fs::write(p, &lines)
            .with_context(|| format!("cannot write --urls {}", p.display()))?;
    }
    if let Some(p) = &args.truth {
        world.write_truth(p)?;
    }
    let (tx, rx) = std::sync::mpsc::channel();
    ctrlc::set_handler(move || {
        let _ = tx.send(());
    })
    .context("cannot install the Ctrl-C handler")?;
    {
        let mut out = std::io::stdout().lock();
        out.write_all(lines.as_bytes())?;
        out.flush()?;
    }
    let t = world.truth();
    if g.verbosity >= super::Verbosity::Normal {
        eprintln!(
            "world: {} networks ({} covered addresses in scope), oracle sweep {} queries; delegated statistics on each server (e.g. {}; crawl --stats NAME=URL); Ctrl-C stops",
            t.networks.len(),
            t.covered.addresses,
            t.oracle.queries,
            world.stats_url(Registry::Ripe)
        );
    }
    let _ = rx.recv();
    let counters: serde_json::Map<String, serde_json::Value> = Registry::ALL
        .iter()
        .map(|&r| {
            (
                r.name().to_string(),
                serde_json::to_value(world.counters(r)).unwrap_or_default(),
            )
        })
        .collect();
    world.shutdown();
    eprintln!("{}", serde_json::Value::Object(counters));
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args() -> Args {
        Args {
            scope: vec![],
            seed: 1,
            density: 1.0,
            rate: vec![],
            no_retry_after: false,
            latency_ms: 0,
            fault_5xx: 0.0,
            fault_drop: 0.0,
            fault_slow: 0.0,
            fault_truncate: 0.0,
            slow_ms: 2000,
            truth: None,
            log: None,
            urls: None,
            search: [true, true, false, false, false],
            search_limit: 10_000,
            epoch: 0,
            stats_dir: None,
            dumps: None,
            no_serve: false,
        }
    }

    #[test]
    fn rates_and_validation() {
        let (r, n) = super::super::parse_registry_rate("lacnic=10/min").unwrap();
        assert_eq!(r, Registry::Lacnic);
        assert!((n.as_per_sec().unwrap() - 10.0 / 60.0).abs() < 1e-9);
        assert!(super::super::parse_registry_rate("arin=0/s").is_err());
        assert!(super::super::parse_registry_rate("nobody=1/s").is_err());
        assert!(super::super::parse_registry_rate("arin").is_err());
        let mut a = args();
        a.rate = vec![
            (Registry::Arin, Rate::per_sec(10.0)),
            (Registry::Lacnic, Rate::per_sec(10.0 / 60.0)),
        ];
        let c = config(&a).unwrap();
        assert!(c.rate[Registry::Arin.index()].unwrap().retry_after);
        assert!(!c.rate[Registry::Lacnic.index()].unwrap().retry_after);
        a.fault_drop = 1.5;
        let e = config(&a).unwrap_err().to_string();
        assert_eq!(e, "--fault-drop (1.5) must be between 0 and 1");
        a.fault_drop = 0.6;
        a.fault_5xx = 0.6;
        assert!(config(&a).is_err());
    }

    #[test]
    fn search_registries_and_limit() {
        assert_eq!(
            parse_search("arin,ripe").unwrap(),
            [true, true, false, false, false]
        );
        assert_eq!(parse_search("none").unwrap(), [false; 5]);
        assert_eq!(
            parse_search("lacnic").unwrap(),
            [false, false, false, true, false]
        );
        assert_eq!(
            parse_search("afrinic, apnic").unwrap(),
            [false, false, true, false, true]
        );
        let e = parse_search("arin,nobody").unwrap_err();
        assert!(e.contains("nobody") && e.contains("--search"), "{e}");
        assert!(parse_search("").is_err());
        let mut a = args();
        a.search = [false, false, false, true, false];
        a.search_limit = 50;
        let c = config(&a).unwrap();
        assert_eq!(c.search, [false, false, false, true, false]);
        assert!(c.search_limits.iter().all(|l| l.max == 50));
        assert_eq!(
            c.search_limits[Registry::Arin.index()].over,
            ipcrawl::world::OverLimit::Truncate
        );
        a.search_limit = 0;
        assert_eq!(
            config(&a).unwrap_err().to_string(),
            "--search-limit (0) must be at least 1"
        );
    }

    #[test]
    fn epoch_and_no_serve() {
        let mut a = args();
        a.epoch = 3;
        assert_eq!(config(&a).unwrap().epoch, 3);
        a.epoch = 500;
        assert_eq!(
            config(&a).unwrap_err().to_string(),
            "--epoch (500) must be at most 100 years"
        );
        a.epoch = 0;
        a.no_serve = true;
        assert!(config(&a).unwrap_err().to_string().contains("--no-serve"));
        a.dumps = Some(PathBuf::from("d"));
        assert!(config(&a).is_ok());
    }

    /// `--no-serve` writes the statistics, dumps and truth of the aged world and exits.
    #[test]
    fn no_serve_writes_the_files() {
        let dir = std::env::temp_dir().join(format!("ipcrawl-cli-world-{}", std::process::id()));
        let mut a = args();
        a.scope = vec![
            "41.0.0.0/10".parse().unwrap(),
            "1.178.0.0/16".parse().unwrap(),
        ];
        a.epoch = 2;
        a.no_serve = true;
        a.stats_dir = Some(dir.join("stats"));
        a.dumps = Some(dir.join("dumps"));
        a.truth = Some(dir.join("truth.json"));
        assert_eq!(
            run(
                a,
                &super::super::Globals {
                    db: PathBuf::from("unused.redb"),
                    verbosity: super::super::Verbosity::Quiet
                }
            )
            .unwrap(),
            ExitCode::SUCCESS
        );
        let stats =
            std::fs::read_to_string(dir.join("stats/delegated-afrinic-extended-latest")).unwrap();
        assert!(stats.starts_with("2|afrinic|20280821|"), "{stats:.80}");
        let parsed = ipcrawl::delegated::parse(&stats);
        assert_eq!(parsed.junk, 0);
        assert!(parsed.delegations.iter().any(|d| d.status.is_delegated()));
        for f in ipcrawl::world::dumps::DumpFile::ALL {
            assert!(dir.join("dumps").join(f.name()).is_file(), "{}", f.name());
        }
        let truth: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.join("truth.json")).unwrap()).unwrap();
        assert_eq!(truth["epoch"], 2);
        assert_eq!(truth["epochs"].as_array().map(Vec::len), Some(2));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
