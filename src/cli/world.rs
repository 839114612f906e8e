//! `ipcrawl world`: serve the local RDAP world on 127.0.0.1 until killed.
//!
//! Prints one `NAME=URL` line per registry on stdout (and to `--urls FILE`),
//! then serves; Ctrl-C stops it cleanly and prints the request counters as one
//! JSON line on stderr. Point a crawl at it with `--registry NAME=URL`.

use std::fmt::Write as _;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context};

use ipcrawl::crawl::ratelimit::Rate;
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
    Ok(cfg)
}

/// Starts the world, prints the URLs and serves until Ctrl-C.
pub fn run(args: Args, g: &super::Globals) -> anyhow::Result<ExitCode> {
    let cfg = config(&args)?;
    let world = World::start(cfg).context("cannot start the world")?;
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
            "world: {} networks ({} covered addresses in scope), oracle sweep {} queries; Ctrl-C stops",
            t.networks.len(),
            t.covered.addresses,
            t.oracle.queries
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
}
