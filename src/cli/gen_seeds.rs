//! `ipcrawl gen-seeds`: write the seed set into the DB.

use std::process::ExitCode;

use anyhow::Context;
use ipcrawl::delegated;
use ipcrawl::prefix::Cidr;
use ipcrawl::seeds::{self, SeedPlan};
use ipcrawl::store::Store;

use super::Globals;

/// Where the crawl looks.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Only seed inside this prefix (repeatable), e.g. 41.0.0.0/8.
    #[arg(long, value_name = "CIDR")]
    pub within: Vec<Cidr>,
    /// One seed per block of this prefix length (8-32): the first address of
    /// every /LEN of the non-reserved space.
    #[arg(long, value_name = "LEN", default_value_t = 24)]
    pub granularity: u8,
    /// Use a historical grid instead: `2016` writes the 2016 system's exact
    /// 4,706,768 seeds.
    #[arg(long, value_name = "YEAR", value_parser = ["2016"], conflicts_with_all = ["within", "granularity", "delegated"])]
    pub grid: Option<String>,
    /// Seed the start of every allocated or assigned block listed in these
    /// RIR delegated-statistics files (repeatable; `.gz` accepted), instead of
    /// a grid; the crawl then sweeps only those blocks.
    #[arg(long, value_name = "FILE", conflicts_with = "granularity")]
    pub delegated: Vec<std::path::PathBuf>,
}

/// Builds the plan the arguments ask for.
pub fn plan(args: &Args) -> anyhow::Result<SeedPlan> {
    if args.grid.is_some() {
        return Ok(seeds::grid_2016());
    }
    if !args.delegated.is_empty() {
        let mut blocks = Vec::new();
        for path in &args.delegated {
            let parsed = delegated::parse_file(path)?;
            let before = blocks.len();
            blocks.extend(
                parsed
                    .delegations
                    .iter()
                    .filter(|d| d.status.is_delegated())
                    .map(|d| d.range),
            );
            if blocks.len() == before {
                anyhow::bail!(
                    "--delegated {}: no allocated or assigned ipv4 records ({} lines refused{}); expected an RIR delegated-statistics file",
                    path.display(),
                    parsed.junk,
                    parsed.errors.first().map(|e| format!(", first: {e}")).unwrap_or_default()
                );
            }
        }
        return Ok(seeds::from_blocks(&blocks, &args.within));
    }
    Ok(seeds::grid(&args.within, args.granularity)?)
}

/// Runs the command.
pub fn run(args: Args, g: &Globals) -> anyhow::Result<ExitCode> {
    let plan = plan(&args)?;
    let store = Store::open_or_create(&g.db)?;
    store
        .replace_seeds(&plan)
        .with_context(|| format!("writing seeds to {}", g.db.display()))?;
    println!(
        "{} seeds ({}) over {} addresses written to {}",
        plan.info.seeds,
        describe(&plan),
        plan.info.space_addresses,
        g.db.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// A few words on a plan.
pub fn describe(plan: &SeedPlan) -> String {
    match (plan.info.kind.as_str(), plan.info.granularity) {
        ("grid", Some(l)) if plan.info.within.is_empty() => {
            format!("every /{l} of the non-reserved space")
        }
        ("grid", Some(l)) => format!("every /{l} within {}", plan.info.within.join(", ")),
        ("grid2016", _) => "the 2016 grid".to_string(),
        ("delegated", _) => "the start of every delegated block".to_string(),
        (k, _) => k.to_string(),
    }
}
