//! `ipcrawl lookup`: the most specific stored network for each address.

use std::io::Write;
use std::net::Ipv4Addr;
use std::process::ExitCode;

use ipcrawl::export::Row;
use ipcrawl::store::Store;
use ipcrawl::trie::LpmMap;

use super::Globals;

/// Lookup options.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// IPv4 addresses (dotted quads).
    #[arg(value_name = "IP", required = true)]
    pub ips: Vec<Ipv4Addr>,
}

/// Runs the command: one JSON object per address, in order:
/// `{"query": "a.b.c.d", "network": <export record> | null}`.
pub fn run(args: Args, g: &Globals) -> anyhow::Result<ExitCode> {
    let store = Store::open_read(&g.db)?;
    let records = store.records(false)?;
    let map = LpmMap::new(
        records
            .iter()
            .enumerate()
            .map(|(i, r)| (r.network.range, i))
            .collect(),
    );
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for ip in args.ips {
        let hit = map.lookup(u32::from(ip)).map(|&i| Row::of(&records[i]));
        let line = serde_json::json!({ "query": ip.to_string(), "network": hit });
        writeln!(out, "{line}")?;
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
