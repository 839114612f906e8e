//! ipcrawl's known-network set against `prefix-trie` 0.10.1, in one run.
//!
//! Run: `cargo bench --bench trie` (or `scripts/bench-trie.sh` from a fresh
//! clone). Release profile with the repository's `.cargo/config.toml`
//! (x86-64-v2, so POPCNT) for both sides: same flags.
//!
//! Data (fixed seeds, SplitMix64):
//! - a set of exactly 1,000,000 distinct prefixes with a BGP-like length mix: ~0.4% /8–/15,
//!   ~34.5% /16–/23, 62% /24, ~3% /25–/32; half of the prefixes longer than
//!   /15 are placed inside an earlier, shorter prefix (nesting), the rest
//!   uniformly in non-reserved space; shuffled before building;
//! - a set of exactly 50,000 distinct prefixes with the same mix (counts ÷ 20);
//! - 10,000,000 lookup addresses, exactly half covered (a random address
//!   inside a random prefix) and half not (random non-covered addresses),
//!   shuffled; the "sorted" runs use the same addresses in address order.
//!
//! What is measured (best of 3 unless noted):
//! - membership: ipcrawl `BitIndex::contains` vs `PrefixSet::is_covered`
//!   on a /32 (and, for information, `KnownSet::contains`), hit counts checked equal;
//! - memory: live heap bytes after building, counted by a global counting
//!   allocator (`stats_alloc`) for both sides, divided by the number of
//!   distinct prefixes. ipcrawl's figure is the `BitIndex` alone (what answers
//!   membership); the canonical `IntervalSet` (8 bytes per merged run, the
//!   persisted form) is shown on its own line too;
//! - union: the exact number of addresses covered by the built set
//!   (`IntervalSet::address_count` vs `PrefixSet::address_count`), checked equal;
//! - build: from the 1M prefixes in shuffled order to a queryable set
//!   (ipcrawl: `IntervalSet::from_ranges` + `BitIndex::build`; prefix-trie:
//!   `PrefixSet` inserts);
//! - lpm: `LpmMap::lookup` vs `PrefixMap::get_lpm` on the 1M set (value =
//!   prefix id; checksums of the returned ids checked equal), random order.
//!
//! Ratio convention (last line, `ratios: …`): every ratio is ipcrawl ÷
//! prefix-trie of the quantity named, so the targets read directly:
//! lookup_random, lookup_sorted and lpm are throughput ratios (higher is
//! better, targets ≥ 3.0, ≥ 3.5, ≥ 1.0); bytes_per_prefix_1m,
//! bytes_per_prefix_50k, union and build are bytes or time ratios (lower is
//! better, targets ≤ 0.25, ≤ 1.0, ≤ 0.05, ≤ 0.5).

use ipcrawl::rng::SplitMix64;
use std::alloc::System;
use std::hint::black_box;
use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use ipcrawl::prefix::{is_reserved, Cidr, Range};
use ipcrawl::trie::{BitIndex, IntervalSet, KnownSet, LpmMap};
use ipnet::Ipv4Net;
use prefix_trie::{PrefixMap, PrefixSet};
use stats_alloc::{Region, StatsAlloc, INSTRUMENTED_SYSTEM};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

const LOOKUPS: usize = 10_000_000;
const REPS: usize = 3;

/// Prefix counts per length for the 1M set (sums to 1,000,000).
const MIX_1M: [(u8, usize); 25] = [
    (8, 10),
    (9, 10),
    (10, 30),
    (11, 80),
    (12, 250),
    (13, 500),
    (14, 1_000),
    (15, 1_800),
    (16, 12_000),
    (17, 8_000),
    (18, 13_000),
    (19, 24_000),
    (20, 40_000),
    (21, 48_000),
    (22, 110_000),
    (23, 90_000),
    (24, 620_000),
    (25, 6_000),
    (26, 6_000),
    (27, 5_000),
    (28, 4_000),
    (29, 4_000),
    (30, 3_000),
    (31, 1_000),
    (32, 2_320),
];

struct Rng(SplitMix64);

fn seeded(seed: u64) -> Rng {
    Rng(SplitMix64::new(seed))
}

impl Rng {
    fn next(&mut self) -> u64 {
        self.0.next_u64()
    }
    fn u32(&mut self) -> u32 {
        (self.next() >> 32) as u32
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = self.below(i + 1);
            v.swap(i, j);
        }
    }
}

/// Exactly `total` distinct prefixes with [`MIX_1M`]'s length mix (scaled;
/// the remainder goes to /24), nested, shuffled.
fn gen_prefixes(seed: u64, total: usize) -> Vec<Cidr> {
    let mut rng = seeded(seed);
    let mut counts: Vec<(u8, usize)> = MIX_1M
        .iter()
        .map(|&(len, n)| (len, (n * total / 1_000_000).max(1)))
        .collect();
    let assigned: usize = counts.iter().map(|c| c.1).sum();
    let slash24 = counts
        .iter_mut()
        .find(|c| c.0 == 24)
        .expect("/24 in the mix");
    slash24.1 = slash24.1 + total - assigned;
    let mut seen = std::collections::HashSet::with_capacity(total);
    let mut out: Vec<Cidr> = Vec::with_capacity(total);
    for (len, count) in counts {
        let shorter = out.len();
        for _ in 0..count {
            let c = loop {
                let c = if len > 15 && shorter > 0 && rng.below(2) == 0 {
                    // Nested: inside an earlier, shorter prefix.
                    let p = out[rng.below(shorter)];
                    let host = rng.u32() & !ipcrawl::prefix::mask(p.len());
                    Cidr::new_masked(p.addr() | host, len)
                } else {
                    let a = rng.u32();
                    if is_reserved(a) {
                        continue;
                    }
                    Cidr::new_masked(a, len)
                };
                if seen.insert(c) {
                    break c;
                }
            };
            out.push(c);
        }
    }
    assert_eq!(out.len(), total);
    rng.shuffle(&mut out);
    out
}

/// `LOOKUPS` addresses, half inside the set, shuffled.
fn gen_addrs(seed: u64, prefixes: &[Cidr], set: &IntervalSet) -> Vec<u32> {
    let mut rng = seeded(seed);
    let mut v = Vec::with_capacity(LOOKUPS);
    for i in 0..LOOKUPS {
        if i % 2 == 0 {
            let r = prefixes[rng.below(prefixes.len())].range();
            v.push(r.start + (rng.next() % r.len()) as u32);
        } else {
            v.push(loop {
                let a = rng.u32();
                if !set.contains(a) {
                    break a;
                }
            });
        }
    }
    rng.shuffle(&mut v);
    v
}

fn net(c: Cidr) -> Ipv4Net {
    Ipv4Net::new(Ipv4Addr::from(c.addr()), c.len()).expect("valid prefix")
}

fn host(a: u32) -> Ipv4Net {
    Ipv4Net::new(Ipv4Addr::from(a), 32).expect("/32")
}

/// Best-of-`REPS` time of `f`, and its last result.
fn best<T>(mut f: impl FnMut() -> T) -> (Duration, T) {
    let mut best = Duration::MAX;
    let mut out = None;
    for _ in 0..REPS {
        let t = Instant::now();
        let r = black_box(f());
        best = best.min(t.elapsed());
        out = Some(r);
    }
    (best, out.expect("REPS > 0"))
}

/// Live heap bytes left allocated by `f`'s result.
fn live_bytes<T>(f: impl FnOnce() -> T) -> (T, usize, usize) {
    let reg = Region::new(GLOBAL);
    let v = f();
    let s = reg.change();
    // stats_alloc already folds realloc growth/shrink into these two totals.
    let live = s.bytes_allocated.saturating_sub(s.bytes_deallocated);
    (v, live, s.allocations + s.reallocations)
}

fn mops(d: Duration, n: usize) -> f64 {
    n as f64 / d.as_secs_f64() / 1e6
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

struct Row {
    what: String,
    ours: String,
    theirs: String,
    ratio: f64,
}

fn row(rows: &mut Vec<Row>, what: &str, ours: String, theirs: String, ratio: f64) {
    rows.push(Row {
        what: what.to_string(),
        ours,
        theirs,
        ratio,
    });
}

struct Sized {
    distinct: usize,
    ours_bytes: usize,
    canon_bytes: usize,
    theirs_bytes: usize,
    theirs_mem_size: usize,
    theirs_allocs: usize,
}

/// Builds both structures over `prefixes`, measuring live heap bytes.
fn build_both(prefixes: &[Cidr]) -> (IntervalSet, BitIndex, PrefixSet<Ipv4Net>, Sized) {
    let set = IntervalSet::from_ranges(prefixes.iter().map(Cidr::range));
    let (idx, ours_bytes, _) = live_bytes(|| BitIndex::build(&set));
    assert_eq!(
        ours_bytes,
        idx.heap_bytes(),
        "heap_bytes agrees with the allocator"
    );
    let nets: Vec<Ipv4Net> = prefixes.iter().copied().map(net).collect();
    let (pt, theirs_bytes, theirs_allocs) = live_bytes(|| {
        let mut s = PrefixSet::new();
        for n in &nets {
            s.insert(*n);
        }
        s
    });
    let sized = Sized {
        distinct: pt.len(),
        ours_bytes,
        canon_bytes: set.len() * std::mem::size_of::<Range>(),
        theirs_bytes,
        theirs_mem_size: pt.mem_size(),
        theirs_allocs,
    };
    (set, idx, pt, sized)
}

fn lookups(
    rows: &mut Vec<Row>,
    label: &str,
    idx: &BitIndex,
    pt: &PrefixSet<Ipv4Net>,
    addrs: &[u32],
) -> f64 {
    let (t_ours, hits_ours) = best(|| addrs.iter().filter(|&&a| idx.contains(a)).count());
    let (t_pt, hits_pt) = best(|| addrs.iter().filter(|&&a| pt.is_covered(&host(a))).count());
    assert_eq!(
        hits_ours, hits_pt,
        "{label}: both sides agree on membership"
    );
    let (o, p) = (mops(t_ours, addrs.len()), mops(t_pt, addrs.len()));
    row(
        rows,
        &format!("{label} (M lookups/s)"),
        format!("{o:.1}"),
        format!("{p:.1}"),
        o / p,
    );
    o / p
}

#[allow(clippy::too_many_lines)] // a benchmark driver: one scenario after another, read top to bottom
fn main() {
    let mut rows = Vec::new();
    eprintln!("generating data…");
    let p1m = gen_prefixes(0x1_000_000, 1_000_000);
    let p50k = gen_prefixes(0x50_000, 50_000);

    // ---- 1M set: build, memory, union, lookups ----
    let (set, idx, pt, s1m) = build_both(&p1m);
    let addrs = gen_addrs(0xADD5, &p1m, &set);
    let mut sorted = addrs.clone();
    sorted.sort_unstable();
    eprintln!(
        "1M set: {} distinct prefixes, {} merged runs, {} addresses",
        s1m.distinct,
        set.len(),
        set.address_count()
    );

    let r_rand = lookups(&mut rows, "1M random membership", &idx, &pt, &addrs);
    let r_sorted = lookups(&mut rows, "1M sorted membership", &idx, &pt, &sorted);
    let known = KnownSet::from_set(&set);
    let (t_known, hits_known) = best(|| addrs.iter().filter(|&&a| known.contains(a)).count());
    assert_eq!(hits_known, LOOKUPS / 2);
    row(
        &mut rows,
        "1M random KnownSet::contains (info)",
        format!("{:.1}", mops(t_known, LOOKUPS)),
        "-".into(),
        f64::NAN,
    );

    // Crawl-like growth: 100k new /24s into the 1M base, batched rebuilds.
    let extra: Vec<Range> = {
        let mut rng = seeded(0x1A5E);
        (0..100_000)
            .map(|_| Cidr::new_masked(rng.u32(), 24).range())
            .collect()
    };
    let mut grown = known.clone();
    let t = Instant::now();
    for r in &extra {
        grown.insert(*r);
    }
    let t_ins = t.elapsed();
    row(
        &mut rows,
        "KnownSet::insert, 100k /24s into 1M (ns/insert, info)",
        format!("{:.0}", t_ins.as_secs_f64() * 1e9 / extra.len() as f64),
        "-".into(),
        f64::NAN,
    );
    let (t_pend, _) = best(|| addrs.iter().filter(|&&a| grown.contains(a)).count());
    row(
        &mut rows,
        "KnownSet::contains, inserts pending (info)",
        format!("{:.1}", mops(t_pend, LOOKUPS)),
        "-".into(),
        f64::NAN,
    );
    drop(grown);

    let bpp = |b: usize, n: usize| b as f64 / n as f64;
    let r_bytes_1m = s1m.ours_bytes as f64 / s1m.theirs_bytes as f64;
    row(
        &mut rows,
        "1M bytes/prefix (BitIndex | PrefixSet)",
        format!("{:.2}", bpp(s1m.ours_bytes, s1m.distinct)),
        format!("{:.2}", bpp(s1m.theirs_bytes, s1m.distinct)),
        r_bytes_1m,
    );
    row(
        &mut rows,
        "1M bytes/prefix incl. IntervalSet (info)",
        format!("{:.2}", bpp(s1m.ours_bytes + s1m.canon_bytes, s1m.distinct)),
        format!("{:.2}", bpp(s1m.theirs_bytes, s1m.distinct)),
        (s1m.ours_bytes + s1m.canon_bytes) as f64 / s1m.theirs_bytes as f64,
    );

    let (t_u_ours, n_ours) = best(|| set.address_count());
    let (t_u_pt, n_pt) = best(|| pt.address_count());
    assert_eq!(Some(n_ours), n_pt.map(u64::from), "exact union agrees");
    let r_union = t_u_ours.as_secs_f64() / t_u_pt.as_secs_f64();
    row(
        &mut rows,
        "1M union address_count (ms)",
        format!("{:.3}", ms(t_u_ours)),
        format!("{:.3}", ms(t_u_pt)),
        r_union,
    );
    drop((known, pt));

    let nets: Vec<Ipv4Net> = p1m.iter().copied().map(net).collect();
    let (t_b_ours, built) = best(|| {
        let s = IntervalSet::from_ranges(p1m.iter().map(Cidr::range));
        let i = BitIndex::build(&s);
        (s, i)
    });
    assert_eq!(built.1, idx);
    drop(built);
    let (t_b_pt, _) = best(|| {
        let mut s = PrefixSet::new();
        for n in &nets {
            s.insert(*n);
        }
        s
    });
    let r_build = t_b_ours.as_secs_f64() / t_b_pt.as_secs_f64();
    row(
        &mut rows,
        "1M build from unsorted prefixes (ms)",
        format!("{:.1}", ms(t_b_ours)),
        format!("{:.1}", ms(t_b_pt)),
        r_build,
    );

    // ---- LPM on the 1M set ----
    let (t_lb_ours, lpm) = best(|| {
        LpmMap::new(
            p1m.iter()
                .zip(0u32..)
                .map(|(c, i)| (c.range(), i))
                .collect(),
        )
    });
    let (t_lb_pt, pm) = best(|| {
        let mut m: PrefixMap<Ipv4Net, u32> = PrefixMap::new();
        for (n, i) in nets.iter().zip(0u32..) {
            m.insert(*n, i);
        }
        m
    });
    let sum = |it: &mut dyn Iterator<Item = Option<u32>>| {
        it.fold(0u64, |acc, v| {
            acc.wrapping_mul(31).wrapping_add(v.map_or(7, u64::from))
        })
    };
    let (t_l_ours, c_ours) = best(|| sum(&mut addrs.iter().map(|&a| lpm.lookup(a).copied())));
    let (t_l_pt, c_pt) =
        best(|| sum(&mut addrs.iter().map(|&a| pm.get_lpm(&host(a)).map(|(_, &v)| v))));
    assert_eq!(c_ours, c_pt, "LPM answers agree");
    let r_lpm = mops(t_l_ours, LOOKUPS) / mops(t_l_pt, LOOKUPS);
    row(
        &mut rows,
        "1M LPM lookup (M lookups/s)",
        format!("{:.1}", mops(t_l_ours, LOOKUPS)),
        format!("{:.1}", mops(t_l_pt, LOOKUPS)),
        r_lpm,
    );
    row(
        &mut rows,
        "1M LPM build (ms, info)",
        format!("{:.1}", ms(t_lb_ours)),
        format!("{:.1}", ms(t_lb_pt)),
        t_lb_ours.as_secs_f64() / t_lb_pt.as_secs_f64(),
    );
    drop((lpm, pm, idx, set));

    // ---- 50k set ----
    let (set50, idx50, pt50, s50) = build_both(&p50k);
    let r_bytes_50k = s50.ours_bytes as f64 / s50.theirs_bytes as f64;
    row(
        &mut rows,
        "50k bytes/prefix (BitIndex | PrefixSet)",
        format!("{:.2}", bpp(s50.ours_bytes, s50.distinct)),
        format!("{:.2}", bpp(s50.theirs_bytes, s50.distinct)),
        r_bytes_50k,
    );
    row(
        &mut rows,
        "50k bytes/prefix incl. IntervalSet (info)",
        format!("{:.2}", bpp(s50.ours_bytes + s50.canon_bytes, s50.distinct)),
        format!("{:.2}", bpp(s50.theirs_bytes, s50.distinct)),
        (s50.ours_bytes + s50.canon_bytes) as f64 / s50.theirs_bytes as f64,
    );
    let addrs50 = gen_addrs(0xADD6, &p50k, &set50);
    lookups(
        &mut rows,
        "50k random membership (info)",
        &idx50,
        &pt50,
        &addrs50,
    );

    println!();
    println!(
        "1M set: {} distinct prefixes, {} merged runs; 50k set: {} distinct, {} runs",
        s1m.distinct,
        s1m.canon_bytes / 8,
        s50.distinct,
        set50.len()
    );
    println!(
        "prefix-trie mem_size(): 1M {} B, 50k {} B; allocator calls during its builds: {} / {}",
        s1m.theirs_mem_size, s50.theirs_mem_size, s1m.theirs_allocs, s50.theirs_allocs
    );
    println!();
    println!(
        "| {:<54} | {:>12} | {:>12} | {:>7} |",
        "measure", "ipcrawl", "prefix-trie", "ratio"
    );
    println!("|{:-<56}|{:->14}|{:->14}|{:->9}|", "", "", "", "");
    for r in &rows {
        let ratio = if r.ratio.is_nan() {
            "-".to_string()
        } else {
            format!("{:.3}", r.ratio)
        };
        println!(
            "| {:<54} | {:>12} | {:>12} | {:>7} |",
            r.what, r.ours, r.theirs, ratio
        );
    }
    println!();
    println!(
        "ratios: lookup_random={r_rand:.2} lookup_sorted={r_sorted:.2} \
         bytes_per_prefix_1m={r_bytes_1m:.3} bytes_per_prefix_50k={r_bytes_50k:.3} \
         union={r_union:.4} build={r_build:.3} lpm={r_lpm:.2}"
    );
}
