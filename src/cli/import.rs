//! `ipcrawl import FILE...`: registry bulk dumps into the DB
//! ([`ipcrawl::import`]); a crawl afterwards asks only for what the dumps
//! lack. Progress (bytes of both passes, rate, ETA) on a terminal; a
//! summary on stdout (a sentence per registry, or `--json`). Ctrl-C,
//! SIGTERM and SIGHUP stop it between batches (exit 128 + the signal);
//! running it again gives the same result as one run.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use ipcrawl::import::{self, ImportConfig, ImportProgress, ImportReport, Phase};
use ipcrawl::store::Store;

use super::signals::{StopSignals, SIGNALS};
use super::Globals;

/// Import options.
#[derive(clap::Args, Debug)]
#[command(after_long_help = AFTER)]
pub struct Args {
    /// Dump files, gzip or plain, any order: RIPE NCC's ripe.db.inetnum.gz,
    /// ripe.db.organisation.gz, ripe.db.role.gz; APNIC's apnic.db.inetnum.gz,
    /// apnic.db.irt.gz, apnic.db.role.gz, apnic.db.organisation.gz; AFRINIC's
    /// afrinic.db.gz. Give a registry's files together: an inetnum's
    /// organisation, role and irt are looked up among the files of this run.
    #[arg(value_name = "FILE", required = true)]
    pub files: Vec<PathBuf>,
    /// The date of files whose header carries none (RIPE NCC's and
    /// AFRINIC's do not), YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ (UTC); without
    /// it, the file's modification time (keep the server's with `wget -N` or
    /// `curl -R`).
    #[arg(long, value_name = "DATE", value_parser = parse_date)]
    pub dump_date: Option<String>,
    /// Print one JSON object instead of sentences.
    #[arg(long)]
    pub json: bool,
}

const AFTER: &str = "\
Each inetnum becomes a network of the registry its source: names, described as that registry's \
RDAP server describes it, with source_url dump:FILE and fetched_at the dump's date. A newer \
dump of a registry replaces what an older one said (networks it no longer has are removed); \
the same dump again changes nothing; an older one is refused (exit 1). RDAP answers fetched \
after the dump's date are kept. Malformed objects are skipped and counted per reason \
(`ipcrawl stats --json`: import). A crawl afterwards asks nothing inside the networks the \
dumps hold (use --depth all for the other registries' nested networks).

Each registry's terms apply to its dump: RIPE NCC's database terms restrict copying it.

Exit codes: 0 imported; 1 a registry's dump was older than the one stored (refused); 2 an \
unreadable file (nothing of it is noted) or DB; 130, 143, 129 stopped by SIGINT, SIGTERM, \
SIGHUP (run it again).";

fn parse_date(s: &str) -> Result<String, String> {
    import::parse_dump_date(s)
}

/// Runs the command.
pub fn run(args: Args, g: &Globals) -> anyhow::Result<ExitCode> {
    let signals = StopSignals::install()?;
    let mut store = Store::open_or_create(&g.db)?;
    let cfg = ImportConfig {
        dump_date: args.dump_date.clone(),
        ..ImportConfig::default()
    };
    let bar =
        (std::io::stderr().is_terminal() && g.verbosity >= super::Verbosity::Normal).then(new_bar);
    let mut last = None;
    let mut on_progress = |p: &ImportProgress| {
        if let Some(bar) = &bar {
            bar.set_length(p.total_bytes);
            bar.set_position(p.bytes);
            bar.set_message(message(p));
        }
        last = Some(p.clone());
    };
    let result = import::run(&store, &args.files, &cfg, &signals.quit, &mut on_progress);
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let report = result.with_context(|| format!("cannot import into {}", g.db.display()))?;
    if report.stopped {
        let sig = signals.received().unwrap_or(SIGNALS[0]);
        g.info(format_args!(
            "stopped by {} after {} records: nothing noted yet; run the same command again to finish",
            sig.name,
            last.map_or(0, |p| p.stored)
        ));
        return Ok(ExitCode::from(sig.exit_code()));
    }
    // Repacks the first records with the dictionaries trained on them and
    // gives the pages of many batch commits back.
    if let Err(e) = store.compact() {
        g.info(format_args!(
            "warning: compacting {} failed: {e}; everything is committed, the file stays larger",
            g.db.display()
        ));
    }
    drop(store);
    print_report(&report, &args, g);
    let refused = report
        .registries
        .iter()
        .any(|r| r.refused_older_than.is_some());
    Ok(if refused {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn new_bar() -> ProgressBar {
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template(
            "{bar:30} {bytes}/{total_bytes} {binary_bytes_per_sec} ETA {eta} {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.enable_steady_tick(Duration::from_millis(500));
    bar
}

fn message(p: &ImportProgress) -> String {
    let what = match p.phase {
        Phase::Scan => "scanning",
        Phase::Store => "storing",
    };
    let secs = p.elapsed.as_secs_f64().max(0.001);
    format!(
        "{what} {}: {} records ({:.0}/s)",
        p.file,
        p.stored,
        p.stored as f64 / secs
    )
}

fn print_report(report: &ImportReport, args: &Args, g: &Globals) {
    if args.json {
        let regs: Vec<serde_json::Value> = report
            .registries
            .iter()
            .map(|r| {
                serde_json::json!({
                    "registry": r.registry.name(),
                    "inetnums": r.inetnums,
                    "dump": r.note,
                    "refused_older_than": r.refused_older_than,
                })
            })
            .collect();
        let out = serde_json::json!({
            "db": g.db.display().to_string(),
            "files": report.files,
            "registries": regs,
        });
        println!("{out}");
        return;
    }
    for r in &report.registries {
        match (&r.note, &r.refused_older_than) {
            (Some(n), _) => println!(
                "{}: {} networks and {} placeholders from the dump of {} ({}); {} newer RDAP answers kept, {} records of an older dump removed",
                r.registry,
                n.networks,
                n.placeholders,
                n.date,
                n.files.join(", "),
                n.kept_rdap,
                n.removed
            ),
            (None, Some(old)) => println!(
                "{}: refused: its dump is older than the one of {old} already imported ({} inetnums not written)",
                r.registry, r.inetnums
            ),
            (None, None) => {}
        }
    }
    for f in &report.files {
        let skipped: u64 = f.skipped.values().sum();
        if skipped > 0 {
            let reasons: Vec<String> = f.skipped.iter().map(|(k, n)| format!("{k} {n}")).collect();
            println!(
                "{}: {skipped} objects skipped ({})",
                f.file,
                reasons.join(", ")
            );
        }
    }
    if report.registries.is_empty() {
        g.info(format_args!(
            "the files hold no inetnum: their organisations, roles and irts are used only together with inetnum files"
        ));
    }
}
