//! `ipcrawl merge -o OUT SHARD...`: unite shard databases into one.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

use super::Globals;

/// Merge options.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The merged database to write (replaced atomically if it exists; never one of the inputs).
    #[arg(short = 'o', long = "output", value_name = "OUT")]
    pub out: PathBuf,
    /// The shard databases (read, never modified).
    #[arg(value_name = "SHARD", required = true)]
    pub shards: Vec<PathBuf>,
    /// Print one JSON object instead of a sentence.
    #[arg(long)]
    pub json: bool,
}

/// Runs the command (`--db` is not used: the inputs and `-o` name the files).
pub fn run(args: Args, _g: &Globals) -> anyhow::Result<ExitCode> {
    // A panic (a damaged input redb did not catch) comes back as a one-line error.
    std::panic::set_hook(Box::new(|_| {}));
    let r = ipcrawl::merge::merge(&args.out, &args.shards)
        .with_context(|| format!("cannot merge into {}", args.out.display()))?;
    let c = &r.counts;
    if args.json {
        let out = serde_json::json!({
            "output": args.out.display().to_string(),
            "inputs": args.shards.len(),
            "records_read": c.records,
            "duplicates": c.duplicates,
            "replaced_by_newer": c.newer,
            "networks": r.networks,
            "placeholders": r.placeholders,
            "gaps_read": c.gaps,
            "failures": r.failures,
            "failures_dropped": r.failures_dropped,
            "seeds": r.plan.as_ref().map(|p| p.seeds),
        });
        println!("{out}");
    } else {
        println!(
            "merged {} databases into {}: {} networks and {} placeholders ({} duplicates, {} replaced by a newer answer), {} failures ({} dropped: answered elsewhere), {} seeds",
            args.shards.len(),
            args.out.display(),
            r.networks,
            r.placeholders,
            c.duplicates,
            c.newer,
            r.failures,
            r.failures_dropped,
            r.plan.as_ref().map_or(0, |p| p.seeds),
        );
    }
    Ok(ExitCode::SUCCESS)
}
