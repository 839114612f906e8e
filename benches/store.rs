//! Store benchmark: a DB of N synthetic networks (default 1,000,000, with a
//! realistic length mix and nesting), written through the crawl's own batch
//! path, then the reads every command starts with. The baseline, run in the
//! same process, is a plain scan of the `networks` table (`Store::network_keys`),
//! the least any report must do.
//!
//! `IPCRAWL_BENCH_NETWORKS=N` changes N; `IPCRAWL_BENCH_DB=PATH` keeps the DB
//! at PATH for `scripts/bench-e2e.sh` (which times the real commands on it).

use std::time::Instant;

use ipcrawl::coverage;
use ipcrawl::prefix::{Cidr, Range};
use ipcrawl::rdap::{Entity, Network, Registry};
use ipcrawl::rng::SplitMix64;
use ipcrawl::store::{Record, Store, Write};
use ipcrawl::trie::KnownSet;

fn network(rng: &mut SplitMix64, i: u64) -> (Range, Registry) {
    // Mostly /24, many /16–/23, a few /8–/15 and some /25–/32.
    let len = match rng.next_u64() % 10_000 {
        0..=6_999 => 24,
        7_000..=8_999 => 16 + (rng.next_u64() % 8) as u8,
        9_000..=9_004 => 8 + (rng.next_u64() % 8) as u8,
        _ => 25 + (rng.next_u64() % 8) as u8,
    };
    let addr = (rng.next_u64() as u32) % (223 << 24) + (1 << 24);
    let c = Cidr::new_masked(addr, len);
    (c.range(), Registry::ALL[(i % 5) as usize])
}

fn record(range: Range, registry: Registry, i: u64) -> Record {
    Record {
        registry,
        network: Network {
            handle: format!("NET-{i}"),
            range,
            name: Some(format!("CUSTOMER-{i}")),
            net_type: Some("ASSIGNED PA".into()),
            country: Some("NL".into()),
            parent_handle: Some(format!("NET-{}", i / 7)),
            parent_range: None,
            up_link: None,
            status: vec!["active".into()],
            entities: vec![Entity {
                handle: Some(format!("ABUSE{i}-RIPE")),
                roles: vec!["abuse".into()],
                name: Some("Abuse desk".into()),
                email: Some(format!("abuse@customer{i}.example.net")),
            }],
            registration: Some("2015-03-02T10:00:00Z".into()),
            last_changed: Some("2024-11-20T08:13:55Z".into()),
            placeholder: false,
        },
        queried: Some(range.start),
        source_url: format!(
            "https://rdap.db.ripe.net/ip/{}",
            Cidr::new_masked(range.start, 32)
        ),
        fetched_at: "2026-11-27T16:00:00Z".into(),
    }
}

fn main() -> anyhow::Result<()> {
    let n: u64 = std::env::var("IPCRAWL_BENCH_NETWORKS").map_or(Ok(1_000_000), |s| s.parse())?;
    let keep = std::env::var("IPCRAWL_BENCH_DB").ok();
    let path = keep.clone().map_or_else(
        || std::env::temp_dir().join(format!("ipcrawl-bench-store-{}.redb", std::process::id())),
        std::path::PathBuf::from,
    );
    let _ = std::fs::remove_file(&path);
    let store = Store::open_or_create(&path)?;
    let mut rng = SplitMix64::new(42);
    let raw = br#"{"objectClassName":"ip network","rdapConformance":["rdap_level_0"],"notices":[{"title":"Terms and Conditions","description":["This is the RIPE Database query service."]}],"port43":"whois.ripe.net"}"#;
    let t = Instant::now();
    let mut batch = Vec::with_capacity(2000);
    for i in 0..n {
        let (range, reg) = network(&mut rng, i);
        batch.push(Write::Network(
            Box::new(record(range, reg, i)),
            raw.to_vec(),
        ));
        if batch.len() == 2000 {
            store.apply(&batch)?;
            batch.clear();
        }
    }
    store.apply(&batch)?;
    let write = t.elapsed();
    drop(store);
    let size = std::fs::metadata(&path)?.len();
    let store = Store::open_read(&path)?;

    let t = Instant::now();
    let keys = store.network_keys()?;
    let scan = t.elapsed();
    let t = Instant::now();
    let cov = coverage::report(&store)?;
    let report = t.elapsed();
    let t = Instant::now();
    let known = KnownSet::from_set(&store.load_known()?);
    let load = t.elapsed();
    let t = Instant::now();
    let mut count = 0u64;
    store
        .for_each_record(false, |_| {
            count += 1;
            Ok(())
        })
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let records = t.elapsed();
    assert_eq!(count, keys.len() as u64);
    assert!(!known.is_empty());

    println!(
        "networks written      {n} in {:.2} s ({:.0}/s, batches of 2000)",
        write.as_secs_f64(),
        n as f64 / write.as_secs_f64()
    );
    println!(
        "db size               {:.1} MB ({} stored networks after key dedup)",
        size as f64 / 1e6,
        keys.len()
    );
    println!("baseline key scan     {:.3} s", scan.as_secs_f64());
    println!(
        "coverage report       {:.3} s ({} addresses, {} cidrs)",
        report.as_secs_f64(),
        cov.addresses,
        cov.cidrs
    );
    println!(
        "known set load        {:.3} s ({} merged ranges)",
        load.as_secs_f64(),
        known.len()
    );
    println!("decode every record   {:.3} s", records.as_secs_f64());
    println!(
        "ratios: coverage_vs_scan={:.2} known_load_vs_scan={:.2} records_vs_scan={:.2}",
        report.as_secs_f64() / scan.as_secs_f64(),
        load.as_secs_f64() / scan.as_secs_f64(),
        records.as_secs_f64() / scan.as_secs_f64()
    );
    drop(store);
    if keep.is_none() {
        let _ = std::fs::remove_file(&path);
    }
    Ok(())
}
