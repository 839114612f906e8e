//! Starts a local RDAP world with the default configuration (or the scope
//! prefixes given as arguments), prints `NAME=URL` per registry and the world's
//! size, and serves until Ctrl-C.
//!
//! `cargo run --release --example world -- 1.0.0.0/8 41.0.0.0/8`

use std::sync::mpsc;
use std::time::Instant;

use ipcrawl::world::{World, WorldConfig};

fn main() -> anyhow::Result<()> {
    let mut cfg = WorldConfig::default();
    let scope: Vec<_> = std::env::args().skip(1).collect();
    if !scope.is_empty() {
        cfg.scope = scope.iter().map(|s| s.parse()).collect::<Result<_, _>>()?;
    }
    let t = Instant::now();
    let world = World::start(cfg)?;
    let built = t.elapsed();
    for (r, url) in world.urls() {
        println!("{r}={url}");
    }
    let truth = world.truth();
    eprintln!(
        "built in {built:?}: {} networks, {} covered addresses, oracle {} queries ({} redirects, {} gaps); truth in {:?}",
        truth.networks.len(),
        truth.covered.addresses,
        truth.oracle.queries,
        truth.oracle.redirects,
        truth.oracle.gaps,
        t.elapsed().saturating_sub(built)
    );
    for (name, r) in &truth.by_registry {
        eprintln!(
            "  {name}: {} networks ({} top-level), {} addresses",
            r.networks, r.top_level, r.addresses
        );
    }
    let (tx, rx) = mpsc::channel();
    ctrlc::set_handler(move || {
        let _ = tx.send(());
    })?;
    let _ = rx.recv();
    world.shutdown();
    Ok(())
}
