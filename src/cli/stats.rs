//! `ipcrawl stats`: prints [`stats::report`] (the crawl's counters, seeds
//! pending/done/failed, the standing failures, and the lookups no server
//! answered, by registry and cause) as a table or JSON (where the causes are
//! `by_registry.NAME.transport`). On a DB a running crawl holds, the crawl's
//! live snapshot instead ([`live`]).

use std::io::{self, Write as _};
use std::process::ExitCode;

use ipcrawl::import::DumpNote;
use ipcrawl::prefix::fmt_addr;
use ipcrawl::rdap::Registry;
use ipcrawl::stats::{self, SeedCounts, Source, StatsReport};
use ipcrawl::store::{self, Failure, Store};

use super::{live, Globals};

/// Stats options.
#[derive(clap::Args, Debug)]
#[command(after_long_help = live::HELP)]
pub struct Args {
    /// Print one JSON object instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Runs the command.
pub fn run(args: Args, g: &Globals) -> anyhow::Result<ExitCode> {
    let store = match Store::open_read(&g.db) {
        Ok(s) => s,
        Err(store::Error::InUse(_)) => return held(&args, g),
        Err(e) => return Err(e.into()),
    };
    let report = stats::report(&store)?;
    let import_skipped = report.import_skipped();
    let StatsReport {
        counters,
        seeds,
        networks,
        placeholders,
        gaps,
        failures,
        refused,
        transport,
        sources,
        dumps,
        import_files,
    } = report;
    let SeedCounts {
        total,
        done,
        failed,
        refused: refused_seeds,
        pending,
    } = seeds;
    if args.json {
        let list = |fs: &[Failure]| -> serde_json::Value {
            fs.iter().map(failure_json).collect::<Vec<_>>().into()
        };
        let mut v = serde_json::to_value(&counters)?;
        if let Some(o) = v.as_object_mut() {
            o.insert(
                "seeds".into(),
                serde_json::json!({"total": total, "done": done, "failed": failed, "refused": refused_seeds, "pending": pending}),
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
            o.insert("failures".into(), list(&failures));
            o.insert("refused".into(), list(&refused));
            o.insert("sources".into(), sources_json(&sources));
            o.insert(
                "import".into(),
                import_json(&dumps, &import_files, &import_skipped),
            );
        }
        println!("{v}");
        return Ok(ExitCode::SUCCESS);
    }
    let refused_note = if refused_seeds > 0 {
        format!(", {refused_seeds} refused for good")
    } else {
        String::new()
    };
    println!(
        "seeds       {total} total, {done} done, {failed} failed{refused_note}, {pending} pending"
    );
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
    println!("{}", registry_header());
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
    print_failures("failed lookups (retried by the next crawl):", &failures);
    print_failures(
        "refused answers (recorded for good: not asked again, not counted as work left):",
        &refused,
    );
    Ok(ExitCode::SUCCESS)
}

/// One entry of `failures` or `refused` in `--json`.
fn failure_json(f: &Failure) -> serde_json::Value {
    serde_json::json!({
        "addr": fmt_addr(f.addr),
        "end": fmt_addr(f.end),
        "registry": f.registry.name(),
        "reason": f.reason,
        "attempts": f.attempts,
        "at": f.at,
    })
}

/// A titled list of failures (nothing when there are none).
fn print_failures(title: &str, fs: &[Failure]) {
    if fs.is_empty() {
        return;
    }
    println!();
    println!("{title}");
    for f in fs {
        println!(
            "  {} ({}, {} attempts): {}",
            fmt_addr(f.addr),
            f.registry,
            f.attempts,
            f.reason
        );
    }
}

/// `stats` on a DB a crawl holds: its live snapshot ([`live`]).
fn held(args: &Args, g: &Globals) -> anyhow::Result<ExitCode> {
    let (path, seen) = live::held(&g.db)?;
    let figures = &seen.doc["stats"];
    let mut out = io::BufWriter::new(io::stdout().lock());
    if args.json {
        writeln!(out, "{}", live::json(figures, &path, &seen))?;
        out.flush()?;
        return Ok(ExitCode::SUCCESS);
    }
    let n = |v: &serde_json::Value, k: &str| live::text(&v[k]);
    for l in live::header(&g.db, &path, &seen) {
        writeln!(out, "{l}")?;
    }
    writeln!(out)?;
    writeln!(
        out,
        "networks    {} stored, {} placeholders",
        n(figures, "networks"),
        n(figures, "placeholders")
    )?;
    writeln!(
        out,
        "seeds       not in the snapshot (`ipcrawl stats` counts them once the crawl ends)"
    )?;
    for l in live::progress_lines(&seen.doc) {
        writeln!(out, "{l}")?;
    }
    writeln!(out)?;
    for k in [
        "within_known_cidr",
        "found_registry",
        "got_whois",
        "failed_lookup_whois",
        "parent_queries",
    ] {
        writeln!(out, "{k:<20} {}", n(figures, k))?;
    }
    writeln!(out)?;
    let cols = [
        "queries",
        "answers",
        "not_found",
        "placeholders",
        "redirects",
        "rate_limited",
        "retries",
        "failures",
    ];
    writeln!(out, "{}", registry_header())?;
    if let Some(regs) = figures["by_registry"].as_object() {
        for (name, r) in regs {
            let v = cols.map(|k| n(r, k));
            writeln!(
                out,
                "{name:<8} {:>9} {:>9} {:>9} {:>9} {:>9} {:>7} {:>8} {:>8}",
                v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]
            )?;
        }
    }
    out.flush()?;
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

/// The header of the per-registry counters table.
fn registry_header() -> String {
    format!(
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
    )
}
