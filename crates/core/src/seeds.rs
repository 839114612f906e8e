//! Seed sets: the addresses a crawl starts from, and the space it sweeps.
//!
//! A seed set is stored as arithmetic runs (`start, start+step, …`), so the
//! default /24 grid of the non-reserved space (14.4 million seeds) is a few
//! hundred runs and the 2016 grid (4.7 million) about 1.2 million. On disk
//! each /8 holds its runs as packed varints (see [`crate::store::schema`]).
//!
//! A [`SeedPlan`] pairs the seeds with the *space* they were drawn from
//! (`--within` ∩ non-reserved, or the delegated blocks): the crawl's sweep
//! never leaves that space.

use serde::{Deserialize, Serialize};
use std::fmt;

use crate::prefix::{self, Cidr, Range};
use crate::trie::IntervalSet;

/// `count` seeds: `start`, `start + step`, … (step ≥ 1).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Run {
    /// First seed.
    pub start: u32,
    /// Distance between seeds.
    pub step: u32,
    /// Number of seeds, ≥ 1.
    pub count: u32,
}

impl Run {
    /// Last seed of the run.
    pub fn last(&self) -> u32 {
        self.start + self.step * (self.count - 1)
    }
}

/// Sorted seed addresses, as runs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SeedSet {
    runs: Vec<Run>,
    len: u64,
}

/// A bad seed-plan request (granularity, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanError(pub String);

impl fmt::Display for PlanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for PlanError {}

impl SeedSet {
    /// Builds from runs already sorted and non-overlapping.
    pub fn from_runs(runs: Vec<Run>) -> SeedSet {
        let len = runs.iter().map(|r| u64::from(r.count)).sum();
        SeedSet { runs, len }
    }

    /// Builds from strictly increasing addresses (duplicates are dropped).
    pub fn from_sorted<I: IntoIterator<Item = u32>>(addrs: I) -> SeedSet {
        let mut b = Builder::default();
        for a in addrs {
            b.push(a);
        }
        b.finish()
    }

    /// The runs, in address order.
    pub fn runs(&self) -> &[Run] {
        &self.runs
    }

    /// Number of seeds.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether there are no seeds.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// All seeds in order.
    pub fn iter(&self) -> impl Iterator<Item = u32> + '_ {
        self.runs
            .iter()
            .flat_map(|r| (0..r.count).map(move |k| r.start + r.step * k))
    }

    /// The first seed `>= addr`.
    pub fn next_at_or_after(&self, addr: u32) -> Option<u32> {
        let i = self.runs.partition_point(|r| r.last() < addr);
        let r = self.runs.get(i)?;
        if addr <= r.start {
            return Some(r.start);
        }
        let k = (addr - r.start).div_ceil(r.step);
        Some(r.start + k * r.step)
    }

    /// Number of seeds inside `range`.
    pub fn count_in(&self, range: Range) -> u64 {
        let mut n = 0u64;
        let mut i = self.runs.partition_point(|r| r.last() < range.start);
        while let Some(r) = self.runs.get(i) {
            if r.start > range.end {
                break;
            }
            let lo = if range.start <= r.start {
                0
            } else {
                (range.start - r.start).div_ceil(r.step)
            };
            let hi = if range.end >= r.last() {
                r.count - 1
            } else {
                (range.end - r.start) / r.step
            };
            if hi >= lo {
                n += u64::from(hi - lo + 1);
            }
            i += 1;
        }
        n
    }

    /// The runs of one /8 (`chunk` = first octet), split at its edges
    /// (what the store keeps per /8).
    pub fn chunk_runs(&self, chunk: u8) -> Vec<Run> {
        let lo = u32::from(chunk) << 24;
        let hi = lo | 0x00FF_FFFF;
        let w = Range { start: lo, end: hi };
        let mut out = Vec::new();
        let mut i = self.runs.partition_point(|r| r.last() < lo);
        while let Some(r) = self.runs.get(i) {
            if r.start > hi {
                break;
            }
            if let Some(c) = clip_run(r, w) {
                out.push(c);
            }
            i += 1;
        }
        out
    }
}

fn clip_run(r: &Run, w: Range) -> Option<Run> {
    let lo = if w.start <= r.start {
        0
    } else {
        (w.start - r.start).div_ceil(r.step)
    };
    let hi = if w.end >= r.last() {
        r.count - 1
    } else {
        (w.end - r.start) / r.step
    };
    (lo < r.count && hi >= lo).then(|| Run {
        start: r.start + lo * r.step,
        step: r.step,
        count: hi - lo + 1,
    })
}

/// Incremental run builder for increasing addresses.
#[derive(Default)]
struct Builder {
    runs: Vec<Run>,
}

impl Builder {
    fn push(&mut self, a: u32) {
        match self.runs.last_mut() {
            Some(r) if a <= r.last() => {}
            Some(r) if r.count == 1 => {
                r.step = a - r.start;
                r.count = 2;
            }
            Some(r) if a - r.last() == r.step => r.count += 1,
            _ => self.runs.push(Run {
                start: a,
                step: 1,
                count: 1,
            }),
        }
    }

    fn push_run(&mut self, run: Run) {
        match self.runs.last_mut() {
            Some(r)
                if r.step == run.step && run.start > r.last() && run.start - r.last() == r.step =>
            {
                r.count += run.count;
            }
            _ => self.runs.push(run),
        }
    }

    fn finish(self) -> SeedSet {
        SeedSet::from_runs(self.runs)
    }
}

/// What a seed set was made from (kept in the DB's meta table).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanInfo {
    /// `grid`, `grid2016` or `delegated`.
    pub kind: String,
    /// Grid granularity (prefix length), for `grid`.
    pub granularity: Option<u8>,
    /// The `--within` prefixes, as given.
    pub within: Vec<String>,
    /// Number of seeds.
    pub seeds: u64,
    /// Addresses in the swept space.
    pub space_addresses: u64,
}

/// Seeds plus the space they sample.
#[derive(Clone, Debug)]
pub struct SeedPlan {
    /// The seeds.
    pub seeds: SeedSet,
    /// The space the crawl sweeps (inside the non-reserved space).
    pub space: IntervalSet,
    /// Description.
    pub info: PlanInfo,
}

impl SeedPlan {
    /// The part of the plan inside `within` (seeds and space).
    pub fn restrict(&self, within: &IntervalSet) -> SeedPlan {
        let space = self.space.intersect(within);
        let seeds = SeedSet::from_sorted(self.seeds.iter().filter(|&s| within.contains(s)));
        SeedPlan {
            info: PlanInfo {
                seeds: seeds.len(),
                space_addresses: space.address_count(),
                ..self.info.clone()
            },
            seeds,
            space,
        }
    }
}

fn within_space(within: &[Cidr]) -> IntervalSet {
    let nr = IntervalSet::from_ranges(prefix::non_reserved());
    if within.is_empty() {
        nr
    } else {
        nr.intersect(&IntervalSet::from_ranges(within.iter().map(Cidr::range)))
    }
}

/// The first address of every /`granularity` block of the non-reserved
/// space (or of the `within` prefixes), `granularity` 8 ..= 32.
pub fn grid(within: &[Cidr], granularity: u8) -> Result<SeedPlan, PlanError> {
    if !(8..=32).contains(&granularity) {
        return Err(PlanError(format!(
            "--granularity {granularity} is out of range: expected a prefix length from 8 to 32"
        )));
    }
    let space = within_space(within);
    let size = 1u64 << (32 - u32::from(granularity));
    let mut b = Builder::default();
    for r in space.ranges() {
        let start = u64::from(r.start);
        let end = u64::from(r.end);
        // The first seed is the range's own start; then every block start.
        let first_block = (start / size + 1) * size;
        b.push(r.start);
        if first_block <= end {
            let count = (end - first_block) / size + 1;
            // Split into runs that stay inside one /8 for cheap chunking.
            let mut s = first_block;
            let mut left = count;
            while left > 0 {
                let chunk_end = (s | 0x00FF_FFFF).min(end);
                let n = ((chunk_end - s) / size + 1).min(left);
                b.push_run(Run {
                    start: s as u32,
                    step: size.min(u64::from(u32::MAX)) as u32,
                    count: n as u32,
                });
                s += n * size;
                left -= n;
            }
        }
    }
    let seeds = b.finish();
    Ok(SeedPlan {
        info: PlanInfo {
            kind: "grid".into(),
            granularity: Some(granularity),
            within: within.iter().map(ToString::to_string).collect(),
            seeds: seeds.len(),
            space_addresses: space.address_count(),
        },
        seeds,
        space,
    })
}

/// First octets the 2016 system never seeded (single-organisation legacy /8s
/// and 127/8).
pub const GRID_2016_SKIPPED: [u8; 14] = [3, 9, 10, 12, 15, 16, 17, 18, 19, 20, 34, 48, 56, 127];

/// The 2016 system's exact 4,706,768 seeds: `a.b.c.d` with `a` in 1..=255
/// minus [`GRID_2016_SKIPPED`], any `b`, `c` a multiple of 12, `d` in
/// {1, 65, 129, 193}, minus 224/4, 240/4, 10/8, 172.16/12, 192.168/16,
/// 169.254/16 and 127/8. Its space is those /8s minus the reserved blocks.
pub fn grid_2016() -> SeedPlan {
    let excluded = IntervalSet::from_ranges(
        [
            "224.0.0.0/4",
            "240.0.0.0/4",
            "10.0.0.0/8",
            "172.16.0.0/12",
            "192.168.0.0/16",
            "169.254.0.0/16",
            "127.0.0.0/8",
        ]
        .iter()
        .filter_map(|s| s.parse::<Cidr>().ok())
        .map(|c| c.range()),
    );
    let mut b = Builder::default();
    let mut eights = Vec::new();
    for a in 1u32..=255 {
        if a >= 224 || GRID_2016_SKIPPED.contains(&(a as u8)) {
            continue;
        }
        eights.push(Range {
            start: a << 24,
            end: (a << 24) | 0x00FF_FFFF,
        });
        for bb in 0u32..=255 {
            for c in (0u32..=255).step_by(12) {
                let base = (a << 24) | (bb << 16) | (c << 8);
                if excluded.contains(base) {
                    continue;
                }
                b.push_run(Run {
                    start: base | 1,
                    step: 64,
                    count: 4,
                });
            }
        }
    }
    let seeds = b.finish();
    let space = IntervalSet::from_ranges(eights)
        .intersect(&IntervalSet::from_ranges(prefix::non_reserved()));
    SeedPlan {
        info: PlanInfo {
            kind: "grid2016".into(),
            granularity: None,
            within: Vec::new(),
            seeds: seeds.len(),
            space_addresses: space.address_count(),
        },
        seeds,
        space,
    }
}

/// Seeds at the start of each block (e.g. delegated allocations), limited to
/// `within` when given; the space is the blocks themselves.
pub fn from_blocks(blocks: &[Range], within: &[Cidr]) -> SeedPlan {
    let space = IntervalSet::from_ranges(blocks.iter().copied()).intersect(&within_space(within));
    // The first address of each block that lies in the space, and the start
    // of every piece of the space.
    let pieces = space.ranges();
    let mut starts: Vec<u32> = blocks
        .iter()
        .filter_map(|b| {
            let i = pieces.partition_point(|x| x.end < b.start);
            let first = pieces.get(i)?.start.max(b.start);
            (first <= b.end).then_some(first)
        })
        .chain(pieces.iter().map(|r| r.start))
        .collect();
    starts.sort_unstable();
    starts.dedup();
    let seeds = SeedSet::from_sorted(starts);
    SeedPlan {
        info: PlanInfo {
            kind: "delegated".into(),
            granularity: None,
            within: within.iter().map(ToString::to_string).collect(),
            seeds: seeds.len(),
            space_addresses: space.address_count(),
        },
        seeds,
        space,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(s: &str) -> u32 {
        prefix::parse_addr_lenient(s).unwrap()
    }

    #[test]
    fn default_grid_counts_every_24() {
        let p = grid(&[], 24).unwrap();
        assert_eq!(p.seeds.len(), prefix::NON_RESERVED_TOTAL / 256);
        assert_eq!(p.info.space_addresses, prefix::NON_RESERVED_TOTAL);
        assert!(p.seeds.runs().len() < 400, "{}", p.seeds.runs().len());
        assert_eq!(p.seeds.next_at_or_after(0), Some(a("1.0.0.0")));
        assert_eq!(
            p.seeds.next_at_or_after(a("9.255.255.1")),
            Some(a("11.0.0.0"))
        );
        assert_eq!(p.seeds.next_at_or_after(a("223.255.255.1")), None);
        let tail: Vec<u32> = p.seeds.iter().skip(3).take(2).collect();
        assert_eq!(tail, vec![a("1.0.3.0"), a("1.0.4.0")]);
    }

    #[test]
    fn grid_within_and_unaligned() {
        let w: Vec<Cidr> = vec![
            "1.2.3.128/25".parse().unwrap(),
            "10.0.0.0/8".parse().unwrap(),
        ];
        let p = grid(&w, 24).unwrap();
        assert_eq!(p.seeds.iter().collect::<Vec<_>>(), vec![a("1.2.3.128")]);
        let p = grid(&["8.0.0.0/22".parse().unwrap()], 24).unwrap();
        assert_eq!(p.seeds.len(), 4);
        assert!(grid(&[], 7).is_err());
        assert!(grid(&[], 33).is_err());
        assert_eq!(
            grid(&["8.8.8.0/24".parse().unwrap()], 32)
                .unwrap()
                .seeds
                .len(),
            256
        );
    }

    #[test]
    fn grid_2016_is_exact() {
        use sha2::{Digest, Sha256};
        let p = grid_2016();
        assert_eq!(p.seeds.len(), 4_706_768);
        let mut h = Sha256::new();
        let mut n = 0u64;
        let mut prev = None;
        for s in p.seeds.iter() {
            assert!(prev.is_none_or(|p| p < s));
            prev = Some(s);
            h.update(std::net::Ipv4Addr::from(s).to_string().as_bytes());
            h.update(b"\n");
            n += 1;
        }
        assert_eq!(n, 4_706_768);
        let hex: String = h.finalize().iter().fold(String::new(), |mut s, b| {
            use std::fmt::Write as _;
            let _ = write!(s, "{b:02x}");
            s
        });
        assert_eq!(
            hex,
            "fb47158b6b3e54326d5e9feca9d96160d0ae4c58bed0076669848dd576be9e09"
        );
    }

    #[test]
    fn counting_and_next() {
        let s = SeedSet::from_sorted([10, 20, 30, 31, 32, 100]);
        assert_eq!(s.len(), 6);
        assert_eq!(s.count_in(Range::new(15, 31).unwrap()), 3);
        assert_eq!(s.count_in(Range::new(0, 1000).unwrap()), 6);
        assert_eq!(s.count_in(Range::new(33, 99).unwrap()), 0);
        assert_eq!(s.next_at_or_after(21), Some(30));
        assert_eq!(s.next_at_or_after(33), Some(100));
        assert_eq!(s.next_at_or_after(101), None);
    }

    #[test]
    fn blocks_seed_their_starts() {
        let blocks = [
            Range::new(a("41.0.0.0"), a("41.0.255.255")).unwrap(),
            Range::new(a("41.1.0.0"), a("41.1.3.255")).unwrap(),
            Range::new(a("10.0.0.0"), a("10.0.0.255")).unwrap(),
        ];
        let p = from_blocks(&blocks, &[]);
        assert_eq!(
            p.seeds.iter().collect::<Vec<_>>(),
            vec![a("41.0.0.0"), a("41.1.0.0")]
        );
        assert_eq!(p.info.space_addresses, 65536 + 1024);
    }
}
