//! Store benchmark: the networks of the local world (`ipcrawl_world::Model`,
//! density 1) with the raw answers its servers would send
//! (`render::network`), parsed by the crawl's own parser, written through
//! `Store::apply` in writer-sized batches (2,000, the writer's `COMMIT_MAX`)
//! into several stores at once, one per format:
//!
//! - `v1`: today's format before schema 2 (JSON records, gzip'd answers),
//!   written by the test-support path `Store::create_v1`: the baseline;
//! - `zstd`: schema 2 with dictionary training off (plain zstd);
//! - `dict`: schema 2 as a crawl writes it (per-registry dictionaries,
//!   trained in the background from the first 2,000 values of each);
//!
//! then compacted (as `crawl` does at its end). It reports bytes per network
//! for each (file size, and per table), the bytes of a fourth design that
//! re-derives records from the raw answers instead of storing them, and
//! times `export` (every record to a JSONL sink) and `coverage` on each
//! store against the `v1` baseline, as ratios. Peak RSS is the process's
//! (the model and one batch; records are not kept).
//!
//! Environment:
//! - `IPCRAWL_BENCH_SCOPE`: comma-separated prefixes (default four /8s of four
//!   registries, ~109 k networks; `0.0.0.0/0` is the full-IPv4 world, ~4.36 M);
//! - `IPCRAWL_BENCH_FORMATS`: comma-separated, default `v1,zstd,dict`;
//! - `IPCRAWL_BENCH_DIR`: where the files go (default the temp dir; removed at the end);
//! - `IPCRAWL_BENCH_REPEAT`: runs of export and coverage, the fastest counts (default 3);
//! - `IPCRAWL_BENCH_MIGRATE=0`: skip timing the migration of a copy of the `v1` store;
//! - `IPCRAWL_BENCH_DB=PATH`: keep the `dict` store at PATH (for
//!   `scripts/bench-e2e.sh`, which times the real commands on it).

use std::io::Write as _;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use ipcrawl::coverage;
use ipcrawl::export::{Format, Writer};
use ipcrawl::prefix::{fmt_addr, Cidr, Range};
use ipcrawl::rdap::parse::parse_network;
use ipcrawl::store::{Record, Store, Write};
use ipcrawl::world::model::BUNDLED_BOOTSTRAP;
use ipcrawl::world::{render, Bootstrap, GenParams, Model};

const DEFAULT_SCOPE: &str = "1.0.0.0/8,23.0.0.0/8,185.0.0.0/8,200.0.0.0/8";
const BATCH: usize = 2000;
const FETCHED_AT: &str = "2026-12-01T12:00:00Z";

struct Target {
    name: &'static str,
    path: PathBuf,
    store: Option<Store>,
    write: Duration,
}

/// The records and answers of networks `from..to`, rendered and parsed on two threads.
fn batch(model: &Model, bases: &render::Bases, from: usize, to: usize) -> Vec<Write> {
    let one = |i: usize| -> Option<Write> {
        let n = &model.nets[i];
        let url = format!(
            "{}ip/{}",
            bases[n.registry.index()],
            fmt_addr(n.range.start)
        );
        let body = render::network(model, i as u32, bases, &url);
        let q = Range::new(n.range.start, n.range.start)?;
        let network = parse_network(&body, q).ok()?;
        let rec = Record {
            registry: n.registry,
            network,
            queried: Some(n.range.start),
            source_url: url,
            fetched_at: FETCHED_AT.into(),
        };
        Some(Write::Network(Box::new(rec), body))
    };
    let mid = from + (to - from) / 2;
    std::thread::scope(|s| {
        let h = s.spawn(|| (from..mid).filter_map(one).collect::<Vec<_>>());
        let mut b: Vec<Write> = (mid..to).filter_map(one).collect();
        let mut a = h.join().unwrap_or_default();
        a.append(&mut b);
        a
    })
}

fn rss_kb(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn export_time(store: &Store) -> anyhow::Result<(Duration, u64)> {
    let t = Instant::now();
    let mut w = Writer::new(std::io::BufWriter::new(std::io::sink()), Format::Jsonl);
    store
        .for_each_record(false, |r| Ok(w.write(&r)?))
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let n = w.count;
    w.finish()?.flush()?;
    Ok((t.elapsed(), n))
}

/// Export by re-deriving each record from its raw answer (the design that stores no record).
fn rederive_time(store: &Store) -> anyhow::Result<Duration> {
    let t = Instant::now();
    let mut w = Writer::new(std::io::BufWriter::new(std::io::sink()), Format::Jsonl);
    let mut err = None;
    store.for_each_raw(|range, registry, body| {
        let q = Range {
            start: range.start,
            end: range.start,
        };
        match parse_network(body, q) {
            Ok(network) => {
                let rec = Record {
                    registry,
                    network,
                    queried: Some(range.start),
                    source_url: String::new(),
                    fetched_at: FETCHED_AT.into(),
                };
                if let Err(e) = w.write(&rec) {
                    err = Some(e.to_string());
                }
            }
            Err(e) => err = Some(e.to_string()),
        }
    })?;
    if let Some(e) = err {
        anyhow::bail!("re-deriving: {e}");
    }
    w.finish()?.flush()?;
    Ok(t.elapsed())
}

#[allow(clippy::too_many_lines)] // a benchmark driver: one scenario after another, read top to bottom
fn main() -> anyhow::Result<()> {
    let scope: Vec<Cidr> = std::env::var("IPCRAWL_BENCH_SCOPE")
        .unwrap_or_else(|_| DEFAULT_SCOPE.into())
        .split(',')
        .map(|s| s.trim().parse())
        .collect::<Result<_, _>>()
        .map_err(|e| anyhow::anyhow!("IPCRAWL_BENCH_SCOPE: {e}"))?;
    let formats = std::env::var("IPCRAWL_BENCH_FORMATS").unwrap_or_else(|_| "v1,zstd,dict".into());
    let repeat: usize = std::env::var("IPCRAWL_BENCH_REPEAT").map_or(Ok(3), |s| s.parse())?;
    let dir =
        std::env::var("IPCRAWL_BENCH_DIR").map_or_else(|_| std::env::temp_dir(), PathBuf::from);
    let t = Instant::now();
    let model = Model::build(
        Bootstrap::parse(BUNDLED_BOOTSTRAP)?,
        &scope,
        &ipcrawl::delegated::bundled(),
        1,
        GenParams { density: 1.0 },
    )?;
    let total = model.nets.len();
    println!(
        "world                 {total} networks in {} ({:.1} s to build, RSS {} MB)",
        scope
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(","),
        t.elapsed().as_secs_f64(),
        rss_kb("VmRSS:") / 1024
    );
    let bases: render::Bases = std::array::from_fn(|i| format!("http://127.0.0.1:{}/", 40_000 + i));
    let mut targets = Vec::new();
    for name in ["v1", "zstd", "dict"] {
        if !formats.split(',').any(|f| f.trim() == name) {
            continue;
        }
        let path = match std::env::var("IPCRAWL_BENCH_DB") {
            Ok(p) if name == "dict" => PathBuf::from(p),
            _ => dir.join(format!(
                "ipcrawl-bench-store-{}-{name}.redb",
                std::process::id()
            )),
        };
        let _ = std::fs::remove_file(&path);
        let store = if name == "v1" {
            Store::create_v1(&path)?
        } else {
            Store::open_or_create(&path)?
        };
        store.set_training(name == "dict");
        targets.push(Target {
            name,
            path,
            store: Some(store),
            write: Duration::ZERO,
        });
    }
    let (mut gen, mut raw_bytes, mut written) = (Duration::ZERO, 0u64, 0u64);
    for from in (0..total).step_by(BATCH) {
        let t = Instant::now();
        let b = batch(&model, &bases, from, (from + BATCH).min(total));
        gen += t.elapsed();
        for w in &b {
            if let Write::Network(_, body) = w {
                raw_bytes += body.len() as u64;
                written += 1;
            }
        }
        for tg in &mut targets {
            let t = Instant::now();
            if let Some(s) = &tg.store {
                s.apply(&b)?;
            }
            tg.write += t.elapsed();
        }
    }
    println!(
        "answers               {written} rendered and parsed in {:.1} s; raw answers average {:.0} B",
        gen.as_secs_f64(),
        raw_bytes as f64 / written.max(1) as f64
    );
    drop(model);
    let mut base: Option<(Duration, Duration)> = None;
    for tg in &mut targets {
        let mut s = tg.store.take().ok_or_else(|| anyhow::anyhow!("no store"))?;
        let t = Instant::now();
        s.compact()?;
        let compact = t.elapsed();
        let dicts = s.dictionaries().len();
        drop(s);
        let size = std::fs::metadata(&tg.path)?.len();
        let s = Store::open_read(&tg.path)?;
        let tables = s.table_bytes()?;
        let (mut export, mut cov_t) = (Duration::MAX, Duration::MAX);
        let (mut n, mut cov) = (0, None);
        for _ in 0..repeat {
            let (e, count) = export_time(&s)?;
            export = export.min(e);
            n = count;
            let t = Instant::now();
            cov = Some(coverage::report(&s)?);
            cov_t = cov_t.min(t.elapsed());
        }
        let cov = cov.ok_or_else(|| anyhow::anyhow!("IPCRAWL_BENCH_REPEAT must be at least 1"))?;
        assert_eq!(n, s.counts()?.0);
        println!(
            "{:<5} {:>7.0} B/network ({:.1} MB file, {dicts} dictionaries); write {:.1} s ({:.1} us/network), compact {:.1} s",
            tg.name,
            size as f64 / written as f64,
            size as f64 / 1e6,
            tg.write.as_secs_f64(),
            tg.write.as_secs_f64() * 1e6 / written as f64,
            compact.as_secs_f64()
        );
        let per = |name: &str| {
            tables
                .iter()
                .find(|t| t.0 == name)
                .map_or(0.0, |t| t.2 as f64 / written as f64)
        };
        println!(
            "      tables (B/network incl. pages): networks {:.0}, raw {:.0}, network_keys {:.0}, known {:.1}",
            per("networks"),
            per("raw"),
            per("network_keys"),
            per("known")
        );
        println!(
            "      export {:.2} s ({n} records), coverage {:.2} s ({} addresses)",
            export.as_secs_f64(),
            cov_t.as_secs_f64(),
            cov.addresses
        );
        if tg.name == "dict" {
            let rederive = rederive_time(&s)?;
            println!(
                "      re-derived design (no networks table): {:.0} B/network; export by parsing the raw answers {:.2} s",
                (size as f64 - per("networks") * written as f64) / written as f64,
                rederive.as_secs_f64()
            );
            if let Some((e, _)) = base {
                println!(
                    "      ratio rederive_export_vs_v1={:.2}",
                    rederive.as_secs_f64() / e.as_secs_f64()
                );
            }
        }
        if tg.name == "v1" && std::env::var("IPCRAWL_BENCH_MIGRATE").map_or(true, |v| v != "0") {
            migrate(&s, &tg.path, written, export)?;
        }
        match base {
            None if tg.name == "v1" => base = Some((export, cov_t)),
            Some((e, c)) => println!(
                "      ratios vs v1: export={:.2} coverage={:.2} size={:.3}",
                export.as_secs_f64() / e.as_secs_f64(),
                cov_t.as_secs_f64() / c.as_secs_f64(),
                size as f64
                    / std::fs::metadata(targets_path_v1(&dir)).map_or(f64::NAN, |m| m.len() as f64)
            ),
            None => {}
        }
        drop(s);
    }
    println!("peak RSS              {} MB", rss_kb("VmHWM:") / 1024);
    let keep = std::env::var("IPCRAWL_BENCH_DB").ok().map(PathBuf::from);
    for tg in targets.iter().filter(|t| Some(&t.path) != keep.as_ref()) {
        let _ = std::fs::remove_file(&tg.path);
    }
    Ok(())
}

/// Migrates a copy of the schema-1 store and reports time, size and export time.
fn migrate(
    v1: &Store,
    path: &std::path::Path,
    written: u64,
    v1_export: Duration,
) -> anyhow::Result<()> {
    let copy = path.with_extension("migrated.redb");
    std::fs::copy(path, &copy)?;
    let t = Instant::now();
    let s = Store::open_rw(&copy)?;
    let took = t.elapsed();
    let size = std::fs::metadata(&copy)?.len();
    let (export, n) = export_time(&s)?;
    assert_eq!(n, v1.counts()?.0);
    assert!(
        !s.dictionaries().is_empty(),
        "the migration trained no dictionary"
    );
    println!(
        "      migrated to schema 2: {:.1} s ({:.1} us/network), {:.0} B/network, {} dictionaries, export ratio vs v1 {:.2}",
        took.as_secs_f64(),
        took.as_secs_f64() * 1e6 / written as f64,
        size as f64 / written as f64,
        s.dictionaries().len(),
        export.as_secs_f64() / v1_export.as_secs_f64()
    );
    drop(s);
    let _ = std::fs::remove_file(&copy);
    Ok(())
}

fn targets_path_v1(dir: &std::path::Path) -> PathBuf {
    dir.join(format!(
        "ipcrawl-bench-store-{}-v1.redb",
        std::process::id()
    ))
}
