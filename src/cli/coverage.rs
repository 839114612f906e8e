//! `ipcrawl coverage`: how much of the non-reserved space is covered.

use std::process::ExitCode;

use std::io::Write as _;
use std::path::PathBuf;

use anyhow::Context;
use ipcrawl::coverage;
use ipcrawl::map;
use ipcrawl::store::Store;

use super::Globals;

/// Coverage options.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Print one JSON object instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Also draw the IPv4 space as a Hilbert-curve PNG, coloured by
    /// registry, 404s, placeholders, unprobed and reserved space.
    #[arg(long, value_name = "FILE.png")]
    pub map: Option<PathBuf>,
    /// One pixel per /16 (256 x 256) or per /24 (4096 x 4096).
    #[arg(long, value_name = "LEN", default_value_t = 16, value_parser = parse_pixel)]
    pub map_pixel: u8,
}

fn parse_pixel(s: &str) -> Result<u8, String> {
    match s {
        "16" => Ok(16),
        "24" => Ok(24),
        _ => Err(format!(
            "{s:?} is not 16 or 24 (one pixel per /16 or per /24)"
        )),
    }
}

/// Runs the command.
pub fn run(args: Args, g: &Globals) -> anyhow::Result<ExitCode> {
    let store = Store::open_read(&g.db)?;
    let c = coverage::report(&store)?;
    if let Some(path) = &args.map {
        let classes = map::classify(&store.network_keys()?, &store.gaps()?, args.map_pixel);
        let file = std::fs::File::create(path)
            .with_context(|| format!("--map {}: cannot create", path.display()))?;
        let mut w = std::io::BufWriter::new(file);
        map::write_png(&mut w, &classes, args.map_pixel)
            .with_context(|| format!("--map {}: cannot write", path.display()))?;
        w.flush()?;
        let side = 1u32 << (args.map_pixel / 2);
        eprintln!(
            "ipcrawl: map written to {} ({side} x {side}, one pixel per /{}; legend in the README)",
            path.display(),
            args.map_pixel
        );
    }
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
