//! `ipcrawl coverage`: how much of the non-reserved space is covered.

use std::process::ExitCode;

use ipcrawl::coverage;
use ipcrawl::store::Store;

use super::Globals;

/// Coverage options.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Print one JSON object instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Runs the command.
pub fn run(args: Args, g: &Globals) -> anyhow::Result<ExitCode> {
    let store = Store::open_read(&g.db)?;
    let c = coverage::report(&store)?;
    if args.json {
        println!("{}", serde_json::to_string(&c)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{:<10} {:>10} {:>15} {:>9}",
        "registry", "networks", "addresses", "percent"
    );
    for (name, r) in &c.by_registry {
        println!(
            "{name:<10} {:>10} {:>15} {:>8.4}%",
            r.networks, r.addresses, r.percent
        );
    }
    println!(
        "{:<10} {:>10} {:>15} {:>8.4}%",
        "total", c.networks, c.addresses, c.percent
    );
    println!();
    println!("distinct CIDRs          {}", c.cidrs);
    println!("non-reserved addresses  {}", c.non_reserved);
    println!("placeholders stored     {} (never counted)", c.placeholders);
    println!("probed, no network      {} addresses", c.gap_addresses);
    println!("failed lookups          {}", c.failures);
    Ok(ExitCode::SUCCESS)
}
