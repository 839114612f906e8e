//! Cost of RIR search in the local world: for every /8 of the scope, the
//! time to find `rdap-down` and `rdap-bottom` over the whole /8 in the model
//! (binary search, then a walk, stopping above the limit of 10,000: `+`
//! marks a set over it), then the time of
//! whole HTTP answers (found, rendered, sent, read) over /16s of it.
//!
//! `cargo run --release --example search_bench -- [DENSITY]`

use std::time::Instant;

use ipcrawl_core::prefix::Cidr;
use ipcrawl_world::search::{bottom, down};
use ipcrawl_world::{World, WorldConfig};

fn main() -> anyhow::Result<()> {
    let density: f64 = std::env::args().nth(1).map_or(Ok(1.0), |s| s.parse())?;
    let world = World::start(WorldConfig {
        density,
        search: [true; 5],
        ..WorldConfig::default()
    })?;
    let m = world.model();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    for s in &m.scope {
        let slash8 = Cidr::new_masked(s.start, 8);
        let Some(reg) = m.bootstrap.registry(s.start) else {
            continue;
        };
        let inside = m
            .nets
            .iter()
            .filter(|n| slash8.range().contains_range(&n.range) && n.registry == reg)
            .count();
        let t = Instant::now();
        let d = down(m, reg, slash8.range(), 10_000);
        let b = bottom(m, reg, slash8.range(), 10_000);
        let find = t.elapsed();
        // Whole answers over the /16s of the /8 (as a crawler splitting it would ask).
        let (mut n, mut bytes) = (0u64, 0u64);
        let t = Instant::now();
        for x in 0..=255u32 {
            let key = Cidr::new_masked(slash8.addr() | (x << 16), 16);
            let url = format!("{}ips/rirSearch1/rdap-bottom/{key}", world.base_url(reg));
            let mut r = agent.get(&url).call()?;
            let body = r.body_mut().with_config().limit(1 << 30).read_to_vec()?;
            n += 1;
            bytes += body.len() as u64;
        }
        let http = t.elapsed();
        println!(
            "{slash8} {reg:>7}: {inside:>6} networks; down {}{} / bottom {}{} found in {:.2} ms; \
             256 bottom answers over its /16s: {:.1} ms each, {:.1} MB in all",
            d.nets.len(),
            if d.more { "+" } else { "" },
            b.nets.len(),
            if b.more { "+" } else { "" },
            find.as_secs_f64() * 1e3,
            http.as_secs_f64() * 1e3 / n as f64,
            bytes as f64 / 1e6,
        );
    }
    world.shutdown();
    Ok(())
}
