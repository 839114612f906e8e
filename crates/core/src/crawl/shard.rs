//! `--shard K/N`: which part of the space one machine crawls.
//!
//! The space is cut into N contiguous parts of (nearly) equal weight, at /16
//! boundaries, so shards rarely ask about the same network. The weight of
//! an address is 1 by default; [`Shard::part_weighted`] takes a weight set
//! (e.g. the delegated allocations, so that shards balance by allocated
//! space rather than by /8 count).

use std::fmt;
use std::str::FromStr;

use crate::prefix::Range;
use crate::trie::IntervalSet;

/// Partition `k` (from 0) of `n`.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Shard {
    /// This shard, `0 ..= n-1`.
    pub k: u32,
    /// Number of shards, ≥ 1.
    pub n: u32,
}

/// A bad `--shard` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShardParseError(pub String);

impl fmt::Display for ShardParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid shard {:?}: expected K/N with N from 1 to 65536 and K from 0 to N-1",
            self.0
        )
    }
}

impl std::error::Error for ShardParseError {}

impl FromStr for Shard {
    type Err = ShardParseError;
    fn from_str(s: &str) -> Result<Shard, ShardParseError> {
        let err = || ShardParseError(s.to_string());
        let (k, n) = s.trim().split_once('/').ok_or_else(err)?;
        let k: u32 = k.trim().parse().map_err(|_| err())?;
        let n: u32 = n.trim().parse().map_err(|_| err())?;
        if n == 0 || n > 65536 || k >= n {
            return Err(err());
        }
        Ok(Shard { k, n })
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.k, self.n)
    }
}

impl Shard {
    /// This shard's part of `space`, balancing plain address counts.
    pub fn part(&self, space: &IntervalSet) -> IntervalSet {
        self.part_weighted(space, space)
    }

    /// This shard's part of `space`, balancing the addresses of `weight`
    /// inside `space` (falls back to plain counts when `weight` misses `space`).
    pub fn part_weighted(&self, space: &IntervalSet, weight: &IntervalSet) -> IntervalSet {
        self.part_from(space, &self.starts(space, weight))
    }

    /// Like [`Shard::part_weighted`], with every shard start moved down to
    /// the nearest of `cuts` (sorted block starts, e.g. the delegated
    /// allocations) above the previous shard's start. A shard then begins
    /// where an allocation — and so a top-level network — begins, exactly
    /// where a single crawl starts a lane: a start inside a network would
    /// make that shard ask for the nested network at its first address,
    /// which a single crawl skips (it climbs from the network's own start).
    pub fn part_weighted_at(
        &self,
        space: &IntervalSet,
        weight: &IntervalSet,
        cuts: &[u32],
    ) -> IntervalSet {
        let mut starts = self.starts(space, weight);
        let mut prev: Option<u32> = None;
        for s in starts.iter_mut().flatten() {
            let i = cuts.partition_point(|&c| c <= *s);
            if let Some(&c) = i.checked_sub(1).and_then(|i| cuts.get(i)) {
                if prev.is_none_or(|p| c > p) {
                    *s = c;
                }
            }
            prev = Some(*s);
        }
        self.part_from(space, &starts)
    }

    /// Each shard's first address (a /16 start), `None` for an empty shard.
    fn starts(self, space: &IntervalSet, weight: &IntervalSet) -> Vec<Option<u32>> {
        let mut w = weight.intersect(space);
        if w.is_empty() {
            w = space.clone();
        }
        // Weight per /16.
        let mut per16 = vec![0u64; 1 << 16];
        for r in w.ranges() {
            let mut s = u64::from(r.start);
            let e = u64::from(r.end);
            while s <= e {
                let block_end = s | 0xFFFF;
                let stop = block_end.min(e);
                per16[(s >> 16) as usize] += stop - s + 1;
                s = stop + 1;
            }
        }
        let total: u64 = per16.iter().sum();
        let mut starts: Vec<Option<u32>> = vec![None; self.n as usize];
        if total == 0 {
            return starts;
        }
        // Each /16 with weight goes to the shard holding its weight midpoint;
        // owners grow with the address, so shards are contiguous.
        let n = u64::from(self.n);
        let mut acc = 0u64;
        for (i, &wt) in per16.iter().enumerate() {
            if wt == 0 {
                continue;
            }
            let mid2 = acc * 2 + wt;
            acc += wt;
            let owner = ((u128::from(mid2) * u128::from(n)) / (2 * u128::from(total))) as usize;
            let owner = owner.min(self.n as usize - 1);
            starts[owner].get_or_insert((i as u32) << 16);
        }
        starts
    }

    /// This shard's part, from every shard's start.
    fn part_from(self, space: &IntervalSet, starts: &[Option<u32>]) -> IntervalSet {
        let k = self.k as usize;
        let Some(own) = starts[k] else {
            return IntervalSet::new();
        };
        // The first non-empty shard also takes everything before it; each
        // shard runs up to the next non-empty shard's start.
        let start = if starts[..k].iter().all(Option::is_none) {
            0
        } else {
            own
        };
        let end = starts[k + 1..]
            .iter()
            .flatten()
            .next()
            .map_or(u32::MAX, |&next| next - 1);
        space.intersect(&IntervalSet::from_ranges([Range { start, end }]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prefix::non_reserved;

    #[test]
    fn parse_shards() {
        assert_eq!("0/4".parse::<Shard>().unwrap(), Shard { k: 0, n: 4 });
        for bad in ["4/4", "1/0", "x/2", "1", "-1/3", "1/2/3"] {
            let e = bad.parse::<Shard>().unwrap_err().to_string();
            assert!(e.contains("expected K/N"), "{e}");
        }
    }

    #[test]
    fn parts_tile_the_space_and_balance() {
        let space = IntervalSet::from_ranges(non_reserved());
        for n in [1u32, 2, 3, 4, 7, 16] {
            let parts: Vec<IntervalSet> = (0..n).map(|k| Shard { k, n }.part(&space)).collect();
            let total: u64 = parts.iter().map(IntervalSet::address_count).sum();
            assert_eq!(total, space.address_count(), "n={n}");
            for i in 0..parts.len() {
                for j in i + 1..parts.len() {
                    assert!(parts[i].intersect(&parts[j]).is_empty(), "n={n} {i} {j}");
                }
            }
            let ideal = space.address_count() / u64::from(n);
            for p in &parts {
                let c = p.address_count();
                assert!(
                    c.abs_diff(ideal) <= ideal / 20 + (1 << 17),
                    "n={n} {c} vs {ideal}"
                );
            }
        }
    }

    #[test]
    fn starts_snap_to_block_starts_and_still_tile() {
        let space = IntervalSet::from_ranges([Range::new(0, (4 << 24) - 1).unwrap()]);
        // Two blocks: 0.0.0.0/7 and 2.0.0.0/7; the midpoint 2.0.0.0 is a block start.
        let cuts = [0, 1 << 24, 2 << 24, (2 << 24) + 0x1234];
        let parts: Vec<IntervalSet> = (0..3)
            .map(|k| Shard { k, n: 3 }.part_weighted_at(&space, &space, &cuts))
            .collect();
        let total: u64 = parts.iter().map(IntervalSet::address_count).sum();
        assert_eq!(total, space.address_count());
        for p in &parts[1..] {
            let s = p.ranges()[0].start;
            assert!(cuts.contains(&s), "shard starts at {s:#x}, not at a cut");
        }
        assert!(parts[0].intersect(&parts[1]).is_empty());
        assert!(parts[1].intersect(&parts[2]).is_empty());
        // No cut between two starts: the start stays where it was.
        let a = Shard { k: 1, n: 2 }.part_weighted_at(&space, &space, &[0]);
        assert_eq!(a.ranges()[0].start, 2 << 24);
    }

    #[test]
    fn weights_move_the_cuts() {
        let space = IntervalSet::from_ranges([Range::new(0, (4 << 24) - 1).unwrap()]);
        // All the weight in the first /8: both halves are cut inside it.
        let weight = IntervalSet::from_ranges([Range::new(0, (1 << 24) - 1).unwrap()]);
        let a = Shard { k: 0, n: 2 }.part_weighted(&space, &weight);
        let b = Shard { k: 1, n: 2 }.part_weighted(&space, &weight);
        assert_eq!(a.address_count() + b.address_count(), space.address_count());
        assert_eq!(a.ranges()[0].end, (1 << 23) - 1);
    }
}
