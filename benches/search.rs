//! Search-answer benchmark (issue 11.3): how fast the crawl turns RFC 9910
//! result sets into stored networks, against the lookup path as baseline,
//! in one process. The local world's model (density 1) over four /8s; its
//! ARIN and RIPE NCC networks, in address order, are rendered as the
//! world's servers render them, in sets of `IPCRAWL_BENCH_SET` members
//! (default 5,000: RIPE refuses above 10,000) and as single lookup answers.
//!
//! Measured, each on one thread and then on two (the crawl's workers parse
//! in parallel while one writer thread stores):
//! - `lookup parse`: `parse_network` of each network's lookup answer (the
//!   baseline: what a sweep parses per network);
//! - `search parse`: `rdap::search::parse_set` of the sets (every member
//!   through the same parser, with its key checked);
//! - `store`: the members as `Write::Network` records through
//!   `Store::apply` in writer batches of 2,000 (`COMMIT_MAX`), with the
//!   crawl's zstd dictionaries trained;
//! - `pipeline`: two parser threads feeding the storing thread over a
//!   bounded channel, as a crawl does: networks/s end to end.
//!
//! Environment: `IPCRAWL_BENCH_SCOPE` (comma-separated prefixes),
//! `IPCRAWL_BENCH_SET` (members per set). Run: `cargo bench --bench search`.

use std::sync::mpsc;
use std::time::Instant;

use ipcrawl::prefix::{fmt_addr, Cidr, Range};
use ipcrawl::rdap::parse::parse_network;
use ipcrawl::rdap::search::{parse_set, SetAnswer};
use ipcrawl::rdap::Registry;
use ipcrawl::store::{Record, Store, Write};
use ipcrawl::world::model::BUNDLED_BOOTSTRAP;
use ipcrawl::world::{render, Bootstrap, GenParams, Model};

const DEFAULT_SCOPE: &str = "1.0.0.0/8,23.0.0.0/8,185.0.0.0/8,200.0.0.0/8";
const BATCH: usize = 2000;

fn records(reg: Registry, set: SetAnswer) -> Vec<Write> {
    set.members
        .into_iter()
        .map(|m| {
            Write::Network(
                Box::new(Record {
                    registry: reg,
                    network: m.network,
                    queried: None,
                    source_url: "http://127.0.0.1/ips/rirSearch1/rdap-bottom/x".into(),
                    fetched_at: "2026-12-01T12:00:00Z".into(),
                }),
                m.raw,
            )
        })
        .collect()
}

fn range(start: u32, end: u32) -> anyhow::Result<Range> {
    Range::new(start, end).ok_or_else(|| anyhow::anyhow!("bad range {start}-{end}"))
}

fn rate(n: usize, secs: f64) -> f64 {
    n as f64 / secs.max(1e-9)
}

type Sets = Vec<(Registry, Range, Vec<u8>)>;
type Lookups = Vec<(Range, Vec<u8>)>;

/// The ARIN and RIPE NCC networks as result sets of `per_set` consecutive
/// networks (the key spans them) and as single lookup answers.
fn inputs(model: &Model, bases: &render::Bases, per_set: usize) -> anyhow::Result<(Sets, Lookups)> {
    // Sets of consecutive networks of one registry; the key spans them.
    let mut sets: Sets = Vec::new();
    let mut lookups: Lookups = Vec::new();
    for reg in [Registry::Arin, Registry::Ripe] {
        let mut ids: Vec<u32> = (0..model.nets.len() as u32)
            .filter(|&i| model.nets[i as usize].registry == reg)
            .collect();
        ids.sort_by_key(|&i| {
            (
                model.nets[i as usize].range.start,
                std::cmp::Reverse(model.nets[i as usize].range.end),
            )
        });
        for chunk in ids.chunks(per_set) {
            let start = chunk
                .iter()
                .map(|&i| model.nets[i as usize].range.start)
                .min()
                .unwrap_or(0);
            let end = chunk
                .iter()
                .map(|&i| model.nets[i as usize].range.end)
                .max()
                .unwrap_or(0);
            let key = range(start, end)?;
            let body = render::search_results(reg, model, chunk, bases, "x", None);
            sets.push((reg, key, body));
        }
        for &i in &ids {
            let n = &model.nets[i as usize];
            let url = format!("{}ip/{}", bases[reg.index()], fmt_addr(n.range.start));
            lookups.push((
                range(n.range.start, n.range.start)?,
                render::network(model, i, bases, &url),
            ));
        }
    }
    Ok((sets, lookups))
}

fn main() -> anyhow::Result<()> {
    let scope: Vec<Cidr> = std::env::var("IPCRAWL_BENCH_SCOPE")
        .unwrap_or_else(|_| DEFAULT_SCOPE.into())
        .split(',')
        .map(|s| s.trim().parse())
        .collect::<Result<_, _>>()
        .map_err(|e| anyhow::anyhow!("IPCRAWL_BENCH_SCOPE: {e}"))?;
    let per_set: usize = std::env::var("IPCRAWL_BENCH_SET").map_or(Ok(5000), |s| s.parse())?;
    let model = Model::build(
        Bootstrap::parse(BUNDLED_BOOTSTRAP)?,
        &scope,
        &ipcrawl::delegated::bundled(),
        1,
        GenParams { density: 1.0 },
    )?;
    let bases: render::Bases = std::array::from_fn(|i| format!("http://127.0.0.1:{}/", 40_000 + i));
    let (sets, lookups) = inputs(&model, &bases, per_set)?;
    let members = lookups.len();
    let set_bytes: usize = sets.iter().map(|s| s.2.len()).sum();
    println!(
        "world        {} networks; arin+ripe {members} in {} sets of <= {per_set} ({:.1} MB of result sets)",
        model.nets.len(),
        sets.len(),
        set_bytes as f64 / 1e6
    );

    // Baseline: the lookup parser, one answer per network.
    let t = Instant::now();
    let ok = lookups
        .iter()
        .filter(|(q, b)| parse_network(b, *q).is_ok())
        .count();
    let lookup_1 = rate(ok, t.elapsed().as_secs_f64());
    anyhow::ensure!(ok == members, "lookup answers refused: {}", members - ok);

    // Search sets, one thread.
    let t = Instant::now();
    let mut parsed = 0;
    for (_, key, body) in &sets {
        parsed += parse_set(body, *key)
            .map_err(|e| anyhow::anyhow!("{e:?}"))?
            .members
            .len();
    }
    let search_1 = rate(parsed, t.elapsed().as_secs_f64());
    anyhow::ensure!(parsed == members, "members parsed {parsed} of {members}");

    // Search sets, two threads.
    let t = Instant::now();
    let half = sets.len() / 2;
    let (a, b) = sets.split_at(half);
    let count = |part: &[(Registry, Range, Vec<u8>)]| -> usize {
        part.iter()
            .map(|(_, k, body)| parse_set(body, *k).map_or(0, |s| s.members.len()))
            .sum()
    };
    let n2 = std::thread::scope(|s| {
        let h = s.spawn(|| count(a));
        count(b) + h.join().unwrap_or(0)
    });
    let search_2 = rate(n2, t.elapsed().as_secs_f64());

    // Store alone: the parsed members in writer batches.
    let dir = std::env::temp_dir().join(format!("ipcrawl-bench-search-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let mut writes: Vec<Write> = Vec::new();
    for (reg, key, body) in &sets {
        writes.extend(records(
            *reg,
            parse_set(body, *key).map_err(|e| anyhow::anyhow!("{e:?}"))?,
        ));
    }
    let store = Store::open_or_create(&dir.join("store.redb"))?;
    store.set_training(true);
    let t = Instant::now();
    for b in writes.chunks(BATCH) {
        store.apply(b)?;
    }
    let store_1 = rate(writes.len(), t.elapsed().as_secs_f64());
    drop(writes);
    drop(store);

    // Pipeline: two parsers, one writer (the crawl's shape).
    let store = Store::open_or_create(&dir.join("pipeline.redb"))?;
    store.set_training(true);
    let (tx, rx) = mpsc::sync_channel::<Vec<Write>>(8);
    let t = Instant::now();
    let stored = std::thread::scope(|s| -> anyhow::Result<usize> {
        for part in [a, b] {
            let tx = tx.clone();
            s.spawn(move || {
                for (reg, key, body) in part {
                    if let Ok(set) = parse_set(body, *key) {
                        let recs = records(*reg, set);
                        for c in recs.chunks(BATCH) {
                            if tx.send(c.to_vec()).is_err() {
                                return;
                            }
                        }
                    }
                }
            });
        }
        drop(tx);
        let mut n = 0;
        for batch in rx {
            store.apply(&batch)?;
            n += batch.len();
        }
        Ok(n)
    })?;
    let pipeline = rate(stored, t.elapsed().as_secs_f64());
    anyhow::ensure!(stored == members, "stored {stored} of {members}");
    let db = std::fs::metadata(dir.join("pipeline.redb"))?.len();
    drop(store);
    let _ = std::fs::remove_dir_all(&dir);

    println!("lookup parse  1 thread   {lookup_1:>10.0} networks/s   (baseline)");
    println!(
        "search parse  1 thread   {search_1:>10.0} networks/s   {:.2}x",
        search_1 / lookup_1
    );
    println!(
        "search parse  2 threads  {search_2:>10.0} networks/s   {:.2}x",
        search_2 / lookup_1
    );
    println!(
        "store         1 thread   {store_1:>10.0} networks/s   {:.2}x",
        store_1 / lookup_1
    );
    println!(
        "pipeline      2+1        {pipeline:>10.0} networks/s   {:.2}x   ({} B/network on disk, target >= 50,000 networks/s)",
        pipeline / lookup_1,
        db / stored as u64
    );
    Ok(())
}
