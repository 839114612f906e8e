//! `ipcrawl stats`: prints [`stats::report`] (the crawl's counters, seeds
//! pending/done/failed, the standing failures, and the lookups no server
//! answered, by registry and cause) as a table or JSON (where the causes are
//! `by_registry.NAME.transport`).

use std::process::ExitCode;

use ipcrawl::import::DumpNote;
use ipcrawl::prefix::fmt_addr;
use ipcrawl::rdap::Registry;
use ipcrawl::stats::{self, SeedCounts, Source, StatsReport};
use ipcrawl::store::Store;

use super::Globals;

/// Stats options.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Print one JSON object instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Runs the command.
pub fn run(args: Args, g: &Globals) -> anyhow::Result<ExitCode> {
    let store = Store::open_read(&g.db)?;
    let report = stats::report(&store)?;
    let import_skipped = report.import_skipped();
    let StatsReport {
        counters,
        seeds,
        networks,
        placeholders,
        gaps,
        failures,
        transport,
        sources,
        dumps,
        import_files,
    } = report;
    let SeedCounts {
        total,
        done,
        failed,
        pending,
    } = seeds;
    if args.json {
        let fails: Vec<serde_json::Value> = failures
            .iter()
            .map(|f| {
                serde_json::json!({
                    "addr": fmt_addr(f.addr),
                    "end": fmt_addr(f.end),
                    "registry": f.registry.name(),
                    "reason": f.reason,
                    "attempts": f.attempts,
                    "at": f.at,
                })
            })
            .collect();
        let mut v = serde_json::to_value(&counters)?;
        if let Some(o) = v.as_object_mut() {
            o.insert(
                "seeds".into(),
                serde_json::json!({"total": total, "done": done, "failed": failed, "pending": pending}),
            );
            o.insert("networks".into(), networks.into());
            o.insert("placeholders".into(), placeholders.into());
            o.insert(
                "gaps".into(),
                serde_json::json!({
                    "not_found": gaps.not_found,
                    "placeholder": gaps.placeholder,
                }),
            );
            o.insert("failures".into(), fails.into());
            o.insert("sources".into(), sources_json(&sources));
            o.insert(
                "import".into(),
                import_json(&dumps, &import_files, &import_skipped),
            );
        }
        println!("{v}");
        return Ok(ExitCode::SUCCESS);
    }
    println!("seeds       {total} total, {done} done, {failed} failed, {pending} pending");
    println!("networks    {networks} stored, {placeholders} placeholders");
    println!(
        "gaps        {} not found (404), {} placeholder answers",
        gaps.not_found, gaps.placeholder
    );
    print_sources(&sources, &dumps, &import_skipped);
    println!();
    println!("within_known_cidr    {}", counters.within_known_cidr);
    println!("found_registry       {}", counters.found_registry);
    println!("got_whois            {}", counters.got_whois);
    println!("failed_lookup_whois  {}", counters.failed_lookup_whois);
    println!("parent_queries       {}", counters.parent_queries);
    println!();
    println!(
        "{:<8} {:>9} {:>9} {:>9} {:>9} {:>9} {:>7} {:>8} {:>8}",
        "registry",
        "queries",
        "answers",
        "404",
        "placehold",
        "redirects",
        "429",
        "retries",
        "failures"
    );
    for (name, r) in &counters.by_registry {
        println!(
            "{name:<8} {:>9} {:>9} {:>9} {:>9} {:>9} {:>7} {:>8} {:>8}",
            r.queries,
            r.answers,
            r.not_found,
            r.placeholders,
            r.redirects,
            r.rate_limited,
            r.retries,
            r.failures
        );
    }
    let paused: Vec<String> = counters
        .by_registry
        .iter()
        .filter(|(_, r)| r.pause_429_ms > 0 || r.put_off > 0)
        .map(|(name, r)| {
            format!(
                "  {name}: paused {:.1} s by 429s, largest Retry-After {} s, work put off in {} run(s)",
                r.pause_429_ms as f64 / 1000.0,
                r.retry_after_max_s,
                r.put_off
            )
        })
        .collect();
    if !paused.is_empty() {
        println!();
        println!("429 pauses:");
        for line in paused {
            println!("{line}");
        }
    }
    if !transport.is_empty() {
        println!();
        println!("no answer (transport failures, all runs):");
        for line in super::progress::fmt_transport(&transport) {
            println!("  {line}");
        }
    }
    if !failures.is_empty() {
        println!();
        println!("failed lookups (retried by the next crawl):");
        for f in &failures {
            println!(
                "  {} ({}, {} attempts): {}",
                fmt_addr(f.addr),
                f.registry,
                f.attempts,
                f.reason
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `{"ripe": {"dump": {"networks": N, "oldest": T, "newest": T}, "rdap": {...}}, ...}`.
fn sources_json(sources: &[Source]) -> serde_json::Value {
    let mut m = serde_json::Map::new();
    for s in sources {
        let e = m
            .entry(s.registry.name())
            .or_insert_with(|| serde_json::json!({}));
        e[if s.dump { "dump" } else { "rdap" }] = serde_json::json!({
            "networks": s.networks,
            "oldest": s.oldest,
            "newest": s.newest,
        });
    }
    m.into()
}

/// Where each registry's networks came from (dump or RDAP) and their ages.
fn print_sources(
    sources: &[Source],
    dumps: &[(Registry, DumpNote)],
    skipped: &std::collections::BTreeMap<String, u64>,
) {
    if sources.is_empty() && dumps.is_empty() {
        return;
    }
    println!();
    println!(
        "{:<8} {:<6} {:>9}  {:<20}  {:<20}",
        "registry", "source", "networks", "oldest", "newest"
    );
    for s in sources {
        println!(
            "{:<8} {:<6} {:>9}  {:<20}  {:<20}",
            s.registry.name(),
            if s.dump { "dump" } else { "rdap" },
            s.networks,
            s.oldest,
            s.newest
        );
    }
    for (r, n) in dumps {
        println!(
            "  {r}: dump of {} ({}), imported {}; {} newer RDAP answers kept, {} records of an older dump removed",
            n.date,
            n.files.join(", "),
            n.imported_at,
            n.kept_rdap,
            n.removed
        );
    }
    if !skipped.is_empty() {
        let parts: Vec<String> = skipped.iter().map(|(k, n)| format!("{k} {n}")).collect();
        println!("  dump objects skipped: {}", parts.join(", "));
    }
}

/// `{"dumps": {"ripe": NOTE, ...}, "files": {NAME: NOTE, ...}, "skipped": {REASON: N}}`.
fn import_json(
    dumps: &[(Registry, DumpNote)],
    files: &std::collections::BTreeMap<String, ipcrawl::import::FileNote>,
    skipped: &std::collections::BTreeMap<String, u64>,
) -> serde_json::Value {
    let dumps: serde_json::Map<String, serde_json::Value> = dumps
        .iter()
        .map(|(r, n)| (r.name().to_string(), serde_json::json!(n)))
        .collect();
    serde_json::json!({"dumps": dumps, "files": files, "skipped": skipped})
}
