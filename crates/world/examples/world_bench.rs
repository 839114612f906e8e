//! Throughput of the local RDAP world: starts a world, then `THREADS` client
//! threads (ureq, keep-alive) ask random addresses of the scope for `SECS`
//! seconds; prints answers per second. Client and server share the machine.
//!
//! `cargo run --release --example world_bench -- [THREADS] [SECS]`

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ipcrawl_core::rdap::Registry;
use ipcrawl_world::{World, WorldConfig};

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let threads: usize = args.next().map_or(Ok(16), |s| s.parse())?;
    let secs: u64 = args.next().map_or(Ok(5), |s| s.parse())?;
    let world = World::start(WorldConfig::default())?;
    let scope = world.model().scope.clone();
    let bases: Vec<(u32, String)> = scope
        .iter()
        .map(|r| {
            let reg = world
                .model()
                .bootstrap
                .registry(r.start)
                .unwrap_or(Registry::Arin);
            (r.start, world.base_url(reg))
        })
        .collect();
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let bytes = Arc::new(AtomicU64::new(0));
    let mut hs = Vec::new();
    for t in 0..threads {
        let (stop, done, bytes, bases) = (stop.clone(), done.clone(), bytes.clone(), bases.clone());
        hs.push(std::thread::spawn(move || {
            let agent: ureq::Agent = ureq::Agent::config_builder()
                .http_status_as_error(false)
                .max_redirects(0)
                .build()
                .into();
            let mut x: u64 = 0x9E37_79B9 + t as u64;
            while !stop.load(Ordering::Relaxed) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let (start, base) = &bases[(x % bases.len() as u64) as usize];
                let addr = start + ((x >> 20) as u32 & 0x00FF_FFFF);
                let url = format!("{base}ip/{}", std::net::Ipv4Addr::from(addr));
                if let Ok(mut r) = agent.get(&url).call() {
                    if let Ok(b) = r.body_mut().read_to_vec() {
                        bytes.fetch_add(b.len() as u64, Ordering::Relaxed);
                    }
                    done.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    let t0 = Instant::now();
    std::thread::sleep(Duration::from_secs(secs));
    stop.store(true, Ordering::Relaxed);
    for h in hs {
        let _ = h.join();
    }
    let el = t0.elapsed().as_secs_f64();
    let n = done.load(Ordering::Relaxed);
    println!(
        "{threads} client threads, {el:.1} s: {n} answers, {:.0} answers/s, {:.1} MB/s",
        n as f64 / el,
        bytes.load(Ordering::Relaxed) as f64 / el / 1e6
    );
    world.shutdown();
    Ok(())
}
