//! The command line: global options, one module per subcommand, error
//! printing and exit codes.
//!
//! Exit codes: 0 done; 1 the run finished but some lookups failed for good
//! (`ipcrawl stats` lists them); 2 fatal (bad arguments, unreadable DB, ...);
//! 130, 143, 129 interrupted by SIGINT (Ctrl-C), SIGTERM, SIGHUP (run the
//! same command again to resume; see [`crawl`]).
//! Errors are one line on stderr: `ipcrawl: error: ...`. A closed stdout
//! (`ipcrawl export | head`) is not an error: every command exits 0 quietly,
//! whether it meets the closed pipe as an `io::Error` (propagated to
//! [`main`]) or through a `println!` panic (caught by the panic hook).
//!
//! `-q` silences the informational stderr lines ([`Globals::info`]), `-v`
//! adds per-step detail ([`Globals::detail`]); errors are always printed.

mod completions;
mod coverage;
mod crawl;
mod export;
mod gen_seeds;
mod import;
mod live;
mod lookup;
mod man;
mod merge;
mod progress;
mod signals;
mod stats;
mod world;

use std::io::{self, Write as _};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use ipcrawl::crawl::politeness::Rate;
use ipcrawl::rdap::Registry;

/// Collect the RDAP registration record of every network in the
/// non-reserved IPv4 space into one redb file, and report the coverage.
///
/// A bare `ipcrawl crawl` does the whole job: it writes the default seeds
/// (the first address of every /24) and crawls the five registries politely,
/// resumably (Ctrl-C, then run it again).
#[derive(Parser, Debug)]
#[command(name = "ipcrawl", version, about, long_about, max_term_width = 100)]
pub struct Cli {
    /// The database file.
    #[arg(
        long,
        global = true,
        env = "IPCRAWL_DB",
        default_value = "ipcrawl.redb"
    )]
    pub db: PathBuf,

    /// Say more on stderr: per-step detail (what was read, what was written).
    #[arg(short, long, global = true, conflicts_with = "quiet")]
    pub verbose: bool,

    /// Say nothing on stderr but errors (no informational lines).
    #[arg(short, long, global = true)]
    pub quiet: bool,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Write the seed set (where the crawl looks) into the DB.
    GenSeeds(gen_seeds::Args),
    /// Look up every seed no known network covers yet (resumable).
    Crawl(crawl::Args),
    /// Store the registries' bulk dumps (RIPE NCC, APNIC, AFRINIC): a crawl then asks only for the rest.
    Import(import::Args),
    /// Unite shard databases into one (dedupes networks, keeps the newest answer).
    Merge(merge::Args),
    /// Distinct networks, CIDRs and covered addresses, overall and per registry.
    Coverage(coverage::Args),
    /// One record per stored network, as JSON Lines, CSV or Parquet.
    Export(export::Args),
    /// The most specific stored network for each address (from the DB alone).
    Lookup(lookup::Args),
    /// The crawl's counters, seeds pending/done/failed, and standing failures.
    Stats(stats::Args),
    /// Serve the local RDAP world on 127.0.0.1 (rehearsals, tests, benchmarks).
    World(world::Args),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions(completions::Args),
    /// Print the manual page (roff) of ipcrawl or of one command.
    Man(man::Args),
}

/// How much a command says on stderr besides errors.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verbosity {
    /// `-q`: errors only.
    Quiet,
    /// The default: errors and informational lines.
    Normal,
    /// `-v`: also per-step detail.
    Verbose,
}

/// Options every command sees.
pub struct Globals {
    /// `--db`.
    pub db: PathBuf,
    /// `-q` / `-v`.
    pub verbosity: Verbosity,
}

impl Globals {
    /// An informational line on stderr (`ipcrawl: ...`), silenced by `-q`.
    /// A closed stderr is ignored.
    pub fn info(&self, msg: std::fmt::Arguments<'_>) {
        if self.verbosity >= Verbosity::Normal {
            let _ = writeln!(io::stderr(), "ipcrawl: {msg}");
        }
    }

    /// A per-step detail line on stderr, only with `-v`.
    pub fn detail(&self, msg: std::fmt::Arguments<'_>) {
        if self.verbosity >= Verbosity::Verbose {
            let _ = writeln!(io::stderr(), "ipcrawl: {msg}");
        }
    }
}

/// Whether a panic message is `println!`'s on a closed stdout
/// (`failed printing to stdout: Broken pipe (os error 32)`).
fn is_stdout_epipe_panic(msg: &str) -> bool {
    msg.starts_with("failed printing to stdout")
        && (msg.contains("Broken pipe") || msg.contains("os error 32"))
}

/// The database file(s) the command opens, for the panic hook's message.
static DB_PATH: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// A panic (a bug, or redb meeting a damaged file) prints one line and exits
/// 2, like every other fatal error: no backtrace, no half-written output.
fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let msg = info
            .payload()
            .downcast_ref::<&str>()
            .map(ToString::to_string)
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into());
        if is_stdout_epipe_panic(&msg) {
            // `ipcrawl stats | head -1`: the reader is gone, nothing to say.
            std::process::exit(0);
        }
        let at = info
            .location()
            .map(|l| {
                // `.../registry/src/index.crates.io-…/redb-4.6.0/src/x.rs` → `redb-4.6.0/src/x.rs`
                let f = l.file();
                let short = f.find("/redb-").map_or(f, |i| &f[i + 1..]);
                format!(" at {short}:{}", l.line())
            })
            .unwrap_or_default();
        let hint = if at.contains("redb-") {
            let db = DB_PATH
                .get()
                .map_or_else(|| "the database".into(), Clone::clone);
            format!(
                "{db} is damaged (restore a copy of it, or crawl again into a new file: \
                 `ipcrawl --db NEW.redb crawl`)"
            )
        } else {
            "internal error (a bug: please report it)".to_string()
        };
        eprintln!("ipcrawl: error: {hint}: {}{at}", one_line(&msg));
        std::process::exit(2);
    }));
}

/// Parses, runs, prints errors, returns the exit code.
pub fn main() -> ExitCode {
    install_panic_hook();
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            use clap::error::ErrorKind;
            if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion)
                || matches!(
                    e.kind(),
                    ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
                )
            {
                let _ = e.print();
                return if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
                    ExitCode::from(2)
                } else {
                    ExitCode::SUCCESS
                };
            }
            eprintln!("ipcrawl: {}", first_line(&e.to_string()));
            return ExitCode::from(2);
        }
    };
    let _ = DB_PATH.set(match &cli.command {
        // The hook exits before `Store::open_input` can catch a redb panic:
        // name the inputs, not `--db`.
        Command::Merge(_) => "one of the merge inputs".to_string(),
        _ => cli.db.display().to_string(),
    });
    let verbosity = if cli.quiet {
        Verbosity::Quiet
    } else if cli.verbose {
        Verbosity::Verbose
    } else {
        Verbosity::Normal
    };
    let g = Globals {
        db: cli.db,
        verbosity,
    };
    let result = match cli.command {
        Command::GenSeeds(a) => gen_seeds::run(a, &g),
        Command::Crawl(a) => crawl::run(a, &g),
        Command::Import(a) => import::run(a, &g),
        Command::Merge(a) => merge::run(a, &g),
        Command::Coverage(a) => coverage::run(a, &g),
        Command::Export(a) => export::run(a, &g),
        Command::Lookup(a) => lookup::run(a, &g),
        Command::Stats(a) => stats::run(a, &g),
        Command::World(a) => world::run(a, &g),
        Command::Completions(a) => completions::run(&a),
        Command::Man(a) => man::run(&a),
    };
    match result {
        Ok(code) => code,
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ipcrawl: error: {}", one_line(&format!("{e:#}")));
            ExitCode::from(2)
        }
    }
}

/// Parses `NAME=N/s`, `NAME=N/min` or `NAME=unlimited` (`--rate`).
pub fn parse_registry_rate(s: &str) -> Result<(Registry, Rate), String> {
    let (name, rate) = s
        .split_once('=')
        .ok_or_else(|| format!("{s:?} is not NAME=RATE (e.g. lacnic=10/min)"))?;
    let reg: Registry = name.parse().map_err(|e| format!("{e}"))?;
    let rate: Rate = rate.parse().map_err(|e| format!("{e}"))?;
    Ok((reg, rate))
}

/// The first paragraph of a clap error on one line (so a missing argument's
/// name, which clap puts on the next line, is kept).
fn first_line(s: &str) -> String {
    let para: Vec<&str> = s
        .lines()
        .skip_while(|l| l.trim().is_empty())
        .take_while(|l| !l.trim().is_empty())
        .map(str::trim)
        .collect();
    if para.is_empty() {
        "error".to_string()
    } else {
        para.join(" ")
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The clap definition of the whole command line (completions, man page).
pub fn command() -> clap::Command {
    <Cli as clap::CommandFactory>::command()
}

/// Writes `bytes` to a locked stdout and flushes, propagating errors (a
/// closed pipe becomes an `io::Error` that [`main`] turns into exit 0).
pub fn write_stdout(bytes: &[u8]) -> io::Result<()> {
    let mut out = io::stdout().lock();
    out.write_all(bytes)?;
    out.flush()
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_printlns_broken_pipe_panic_is_a_quiet_exit() {
        assert!(is_stdout_epipe_panic(
            "failed printing to stdout: Broken pipe (os error 32)"
        ));
        assert!(!is_stdout_epipe_panic(
            "failed printing to stdout: No space left on device (os error 28)"
        ));
        assert!(!is_stdout_epipe_panic(
            "failed printing to stderr: Broken pipe (os error 32)"
        ));
        assert!(!is_stdout_epipe_panic("index out of bounds"));
    }

    #[test]
    fn quiet_and_verbose_are_global_and_exclusive() {
        let c = Cli::try_parse_from(["ipcrawl", "coverage", "-q"]).unwrap();
        assert!(c.quiet && !c.verbose);
        let c = Cli::try_parse_from(["ipcrawl", "-v", "lookup", "1.1.1.1"]).unwrap();
        assert!(c.verbose);
        assert!(Cli::try_parse_from(["ipcrawl", "-q", "-v", "stats"]).is_err());
    }

    #[test]
    fn the_command_line_definition_is_consistent() {
        command().debug_assert();
    }
}
