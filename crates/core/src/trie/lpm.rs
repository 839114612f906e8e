//! [`LpmMap`]: most-specific-range lookup with the answer precomputed.
//!
//! Among the stored ranges holding an address, the smallest wins, ties to
//! the one inserted last. For CIDR inputs this is exactly longest-prefix
//! match; for the odd non-CIDR ranges registries publish it is the natural
//! generalisation (the most specific network).
//!
//! Instead of walking a trie per lookup, the build sweeps the ranges once
//! (a min-heap keyed by `(size, -insertion)` with lazy deletion) and cuts the
//! address space into elementary segments, each with its winner, merged when
//! neighbours share one. The segments sit in one sorted `u64` array
//! (`start << 32 | winner`) behind a direct-indexed directory of `2^k`
//! chunks (`2^k` ≈ the segment count, at most 2^20), so a lookup reads two
//! adjacent directory entries and scans a handful of segments, usually
//! within one cache line.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use crate::prefix::Range;

/// Winner index meaning "no range holds this segment".
const NONE: u32 = u32::MAX;
/// Largest directory: 2^20 chunks (4 MiB).
const MAX_DIR_BITS: u32 = 20;
/// Smallest directory: 2^4 chunks.
const MIN_DIR_BITS: u32 = 4;
/// Candidate runs up to this long are counted linearly (branch-free).
const LINEAR_MAX: usize = 16;

/// Most-specific-range lookup: among the stored ranges that contain an
/// address, the smallest wins (ties: the one inserted last).
#[derive(Clone, Debug)]
pub struct LpmMap<V> {
    values: Vec<V>,
    /// `start << 32 | winner`, sorted; the first segment starts at 0.
    segs: Vec<u64>,
    /// `dir[c]` = index of the segment holding address `c << shift`;
    /// `dir[2^k]` = last segment.
    dir: Vec<u32>,
    shift: u32,
}

#[inline]
fn u32_of(x: usize) -> u32 {
    u32::try_from(x).expect("LpmMap holds fewer than 2^32 - 1 entries")
}

impl<V> LpmMap<V> {
    /// Builds the map (O(n log n)).
    pub fn new(items: Vec<(Range, V)>) -> LpmMap<V> {
        let n = items.len();
        assert!(n < NONE as usize, "too many ranges");
        let ranges: Vec<Range> = items.iter().map(|(r, _)| *r).collect();
        let values: Vec<V> = items.into_iter().map(|(_, v)| v).collect();

        // Items by start; boundary points = starts and ends + 1.
        let mut by_start: Vec<u32> = (0..u32_of(n)).collect();
        by_start.sort_unstable_by_key(|&i| ranges[i as usize].start);
        let mut points: Vec<u32> = Vec::with_capacity(2 * n + 1);
        points.push(0);
        for r in &ranges {
            points.push(r.start);
            if let Some(next) = r.end.checked_add(1) {
                points.push(next);
            }
        }
        points.sort_unstable();
        points.dedup();

        // Min-heap on (size, newest first); expired entries leave lazily.
        let mut heap: BinaryHeap<Reverse<(u64, Reverse<u32>)>> = BinaryHeap::new();
        let mut segs: Vec<u64> = Vec::with_capacity(points.len());
        let mut next_item = 0;
        let mut last = None;
        for &p in &points {
            while next_item < n && ranges[by_start[next_item] as usize].start == p {
                let i = by_start[next_item];
                heap.push(Reverse((ranges[i as usize].len(), Reverse(i))));
                next_item += 1;
            }
            while let Some(&Reverse((_, Reverse(i)))) = heap.peek() {
                if ranges[i as usize].end < p {
                    heap.pop();
                } else {
                    break;
                }
            }
            let winner = heap.peek().map_or(NONE, |&Reverse((_, Reverse(i)))| i);
            if last != Some(winner) {
                segs.push((u64::from(p) << 32) | u64::from(winner));
                last = Some(winner);
            }
        }
        segs.shrink_to_fit();

        let k = (usize::BITS - segs.len().leading_zeros()).clamp(MIN_DIR_BITS, MAX_DIR_BITS);
        let shift = 32 - k;
        let chunks = 1usize << k;
        let mut dir = Vec::with_capacity(chunks + 1);
        let mut s = 0usize;
        for c in 0..chunks {
            let at = u64::try_from(c).unwrap_or(u64::MAX) << shift;
            while s + 1 < segs.len() && segs[s + 1] >> 32 <= at {
                s += 1;
            }
            dir.push(u32_of(s));
        }
        dir.push(u32_of(segs.len() - 1));
        LpmMap {
            values,
            segs,
            dir,
            shift,
        }
    }

    /// The value of the smallest range holding `addr`.
    #[inline]
    pub fn lookup(&self, addr: u32) -> Option<&V> {
        let c = (addr >> self.shift) as usize;
        let lo = self.dir[c] as usize;
        let hi = self.dir[c + 1] as usize;
        let key = (u64::from(addr) << 32) | u64::from(u32::MAX);
        let cand = &self.segs[lo + 1..=hi];
        let i = lo
            + if cand.len() <= LINEAR_MAX {
                cand.iter().filter(|&&s| s <= key).count()
            } else {
                cand.partition_point(|&s| s <= key)
            };
        let winner = self.segs[i] & u64::from(u32::MAX);
        self.values
            .get(usize::try_from(winner).unwrap_or(usize::MAX))
    }

    /// Number of stored ranges.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether no range is stored.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Heap bytes of the lookup structure, excluding the values themselves.
    pub fn heap_bytes(&self) -> usize {
        self.segs.capacity() * 8 + self.dir.capacity() * 4
    }
}
