//! The known-network set and coverage maths.
//!
//! Three layers, each chosen for one job:
//!
//! - [`IntervalSet`]: the canonical form: sorted, disjoint, non-adjacent
//!   inclusive ranges. It is the source of truth for unions, intersections,
//!   exact address counts (nested networks are never counted twice) and
//!   persistence (8 bytes per run, see [`IntervalSet::to_bytes`]). Building
//!   it from a million unsorted ranges is a radix sort plus one merge pass.
//! - [`BitIndex`]: a read-only, direct-indexed, popcount-compressed bitmap
//!   built from an `IntervalSet` (Poptrie/DXR style, one bit per leaf since
//!   this is a set, not a map). A /12-indexed table of 32-byte blocks says,
//!   for each /18, "all out", "all in" or "mixed"; mixed /18s own one 64-bit
//!   word with one bit per /24, found by `rank + popcount`. /24s that are only
//!   partly covered (from /25–/32 networks or odd ranges) sit in a tiny
//!   sorted remainder reached the same way. A membership test is two loads
//!   and no unpredictable branch; the whole index of a 1M-prefix table is
//!   about 2 MB and scales down to ~130 KB for an empty set.
//! - [`KnownSet`]: the crawl's growing set: a `BitIndex` over a base
//!   `IntervalSet` plus a small `BTreeMap` overlay of recent inserts (with a
//!   /16 "pending" bitmap in front of it), merged and re-indexed in batches
//!   once the overlay passes a threshold, so an insert costs about a
//!   microsecond amortized and a check a few nanoseconds.
//! - [`LpmMap`]: most-specific-range lookup for `ipcrawl lookup`. The
//!   winner for every address is precomputed once (a sweep line over the
//!   ranges), leaving a sorted array of elementary segments behind a
//!   direct-indexed directory: a lookup is two loads and a short scan.
//!
//! Pure: no I/O, no `unsafe`. The only `bitvec` user in the crate (it
//! builds the index's bitmaps).
#![deny(clippy::cast_possible_truncation)]

mod bitindex;
mod lpm;
mod sort;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use bitvec::prelude::*;

pub use bitindex::BitIndex;
pub use lpm::LpmMap;

use crate::prefix::Range;

/// Sorted, disjoint, non-adjacent inclusive ranges.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IntervalSet {
    ranges: Vec<Range>,
}

/// Why persisted bytes could not be read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError(pub String);

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "corrupt interval set: {}", self.0)
    }
}

impl std::error::Error for DecodeError {}

/// Appends `r` to canonical `out`, merging with the last run when they
/// overlap or touch. `r.start` must be `>=` the last run's start.
#[inline]
fn push_merge(out: &mut Vec<Range>, r: Range) {
    match out.last_mut() {
        Some(last) if u64::from(r.start) <= u64::from(last.end) + 1 => {
            last.end = last.end.max(r.end);
        }
        _ => out.push(r),
    }
}

impl IntervalSet {
    /// The empty set.
    pub fn new() -> IntervalSet {
        IntervalSet::default()
    }

    /// The union of any ranges, in any order, overlapping or not.
    ///
    /// Large inputs are radix-sorted by start (three 11-bit passes), so a
    /// million ranges take a few milliseconds.
    pub fn from_ranges<I: IntoIterator<Item = Range>>(it: I) -> IntervalSet {
        let mut keys: Vec<u64> = it
            .into_iter()
            .map(|r| (u64::from(r.start) << 32) | u64::from(r.end))
            .collect();
        sort::sort_by_high_u32(&mut keys);
        let mut out: Vec<Range> = Vec::with_capacity(keys.len() / 2 + 1);
        for k in keys {
            push_merge(&mut out, sort::unpack(k));
        }
        out.shrink_to_fit();
        IntervalSet { ranges: out }
    }

    /// The ranges, in address order.
    pub fn ranges(&self) -> &[Range] {
        &self.ranges
    }

    /// Number of disjoint ranges.
    pub fn len(&self) -> usize {
        self.ranges.len()
    }

    /// Whether no address is in the set.
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// Number of addresses in the set (exact: runs are disjoint).
    pub fn address_count(&self) -> u64 {
        self.ranges.iter().map(Range::len).sum()
    }

    fn find(&self, addr: u32) -> Option<usize> {
        let i = self.ranges.partition_point(|r| r.end < addr);
        (i < self.ranges.len() && self.ranges[i].start <= addr).then_some(i)
    }

    /// Whether `addr` is in the set (binary search; build a [`BitIndex`]
    /// for many queries).
    pub fn contains(&self, addr: u32) -> bool {
        self.find(addr).is_some()
    }

    /// The merged range holding `addr`.
    pub fn covering(&self, addr: u32) -> Option<Range> {
        self.find(addr).map(|i| self.ranges[i])
    }

    /// The first address `>= addr` not in the set.
    pub fn next_uncovered(&self, addr: u32) -> Option<u32> {
        match self.covering(addr) {
            None => Some(addr),
            Some(r) => r.end.checked_add(1),
        }
    }

    /// Addresses in either set (one linear merge).
    pub fn union(&self, other: &IntervalSet) -> IntervalSet {
        let (left, right) = (&self.ranges, &other.ranges);
        let mut out = Vec::with_capacity(left.len() + right.len());
        let (mut li, mut ri) = (0, 0);
        while li < left.len() || ri < right.len() {
            let take_left =
                ri >= right.len() || (li < left.len() && left[li].start <= right[ri].start);
            let next = if take_left {
                li += 1;
                left[li - 1]
            } else {
                ri += 1;
                right[ri - 1]
            };
            push_merge(&mut out, next);
        }
        IntervalSet { ranges: out }
    }

    /// Addresses in both sets.
    pub fn intersect(&self, other: &IntervalSet) -> IntervalSet {
        let (mut i, mut j) = (0, 0);
        let mut out = Vec::new();
        while i < self.ranges.len() && j < other.ranges.len() {
            let (a, b) = (self.ranges[i], other.ranges[j]);
            if let Some(x) = a.intersect(&b) {
                out.push(x);
            }
            if a.end < b.end {
                i += 1;
            } else {
                j += 1;
            }
        }
        IntervalSet { ranges: out }
    }

    /// Addresses in `self` but not in `other`.
    pub fn subtract(&self, other: &IntervalSet) -> IntervalSet {
        let mut out = Vec::new();
        let mut j = 0;
        for r in &self.ranges {
            let mut cur = u64::from(r.start);
            let end = u64::from(r.end);
            while j < other.ranges.len() && u64::from(other.ranges[j].end) < cur {
                j += 1;
            }
            let mut k = j;
            while cur <= end && k < other.ranges.len() && u64::from(other.ranges[k].start) <= end {
                let o = other.ranges[k];
                if u64::from(o.start) > cur {
                    out.push(Range {
                        start: low_u32(cur),
                        end: o.start - 1,
                    });
                }
                cur = cur.max(u64::from(o.end) + 1);
                k += 1;
            }
            if cur <= end {
                out.push(Range {
                    start: low_u32(cur),
                    end: r.end,
                });
            }
        }
        IntervalSet { ranges: out }
    }

    /// Compact bytes for redb: little-endian `(start, end)` u32 pairs.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.ranges.len() * 8);
        for r in &self.ranges {
            out.extend_from_slice(&r.start.to_le_bytes());
            out.extend_from_slice(&r.end.to_le_bytes());
        }
        out
    }

    /// Reads [`IntervalSet::to_bytes`] back, checking the canonical form.
    pub fn from_bytes(b: &[u8]) -> Result<IntervalSet, DecodeError> {
        if b.len() % 8 != 0 {
            return Err(DecodeError(format!(
                "length {} is not a multiple of 8",
                b.len()
            )));
        }
        let mut ranges: Vec<Range> = Vec::with_capacity(b.len() / 8);
        for (n, ch) in b.chunks_exact(8).enumerate() {
            let s = u32::from_le_bytes([ch[0], ch[1], ch[2], ch[3]]);
            let e = u32::from_le_bytes([ch[4], ch[5], ch[6], ch[7]]);
            let r = Range::new(s, e)
                .ok_or_else(|| DecodeError(format!("run {n}: start {s} > end {e}")))?;
            if let Some(last) = ranges.last() {
                if u64::from(r.start) <= u64::from(last.end) + 1 {
                    return Err(DecodeError(format!(
                        "run {n}: not sorted, disjoint and non-adjacent"
                    )));
                }
            }
            ranges.push(r);
        }
        Ok(IntervalSet { ranges })
    }
}

/// The low 32 bits of a value known to fit (callers guarantee `< 2^32`).
#[inline]
fn low_u32(x: u64) -> u32 {
    u32::try_from(x & 0xFFFF_FFFF).unwrap_or(u32::MAX)
}

/// Smallest overlay size that triggers a merge into the base.
const MIN_OVERLAY: usize = 1024;

/// The crawl's growing set of covered space: nanosecond membership,
/// amortized-cheap inserts.
///
/// Layout: a [`BitIndex`] over a base [`IntervalSet`] answers most checks;
/// recent inserts wait in a merged `BTreeMap` overlay. When the overlay
/// holds more than `max(1024, base.len() / 64)` runs it is merged into the
/// base and the index is rebuilt (a few milliseconds for a million runs),
/// so rebuild cost per insert stays in the microseconds.
#[derive(Clone, Debug)]
pub struct KnownSet {
    base: IntervalSet,
    index: BitIndex,
    /// start → end of recent inserts, merged among themselves (they may
    /// overlap or touch the base).
    overlay: BTreeMap<u32, u32>,
    /// One bit per /16 touched by the overlay (8 KiB), so a miss in the index
    /// only searches the overlay when a pending insert could hold it.
    pending16: BitVec<u64, Lsb0>,
    /// Overlay size that triggers a merge; 0 means adaptive.
    fixed_threshold: usize,
}

impl Default for KnownSet {
    fn default() -> Self {
        KnownSet::new()
    }
}

impl KnownSet {
    /// An empty set.
    pub fn new() -> KnownSet {
        KnownSet::from_set(&IntervalSet::new())
    }

    /// A set holding `base`.
    pub fn from_set(base: &IntervalSet) -> KnownSet {
        KnownSet {
            base: base.clone(),
            index: BitIndex::build(base),
            overlay: BTreeMap::new(),
            pending16: BitVec::repeat(false, 1 << 16),
            fixed_threshold: 0,
        }
    }

    #[cfg(test)]
    fn with_threshold(base: &IntervalSet, threshold: usize) -> KnownSet {
        KnownSet {
            fixed_threshold: threshold.max(1),
            ..KnownSet::from_set(base)
        }
    }

    fn threshold(&self) -> usize {
        if self.fixed_threshold > 0 {
            self.fixed_threshold
        } else {
            MIN_OVERLAY.max(self.base.len() / 64)
        }
    }

    /// Adds a range. Ranges already inside the base cost one search.
    pub fn insert(&mut self, r: Range) {
        if self
            .base
            .covering(r.start)
            .is_some_and(|c| c.contains_range(&r))
        {
            return;
        }
        overlay_insert(&mut self.overlay, r);
        self.pending16[(r.start >> 16) as usize..=(r.end >> 16) as usize].fill(true);
        if self.overlay.len() > self.threshold() {
            self.flush();
        }
    }

    /// Merges the overlay into the base and rebuilds the index.
    fn flush(&mut self) {
        let over = IntervalSet {
            ranges: overlay_ranges(&self.overlay).collect(),
        };
        self.base = self.base.union(&over);
        self.index = BitIndex::build(&self.base);
        self.overlay.clear();
        self.pending16.fill(false);
    }

    fn overlay_covering(&self, addr: u32) -> Option<Range> {
        self.overlay
            .range(..=addr)
            .next_back()
            .filter(|(_, &e)| e >= addr)
            .map(|(&s, &e)| Range { start: s, end: e })
    }

    /// The maximal run of the whole set (base ∪ overlay) holding `addr`.
    pub fn covering(&self, addr: u32) -> Option<Range> {
        if self.overlay.is_empty() {
            return if self.index.contains(addr) {
                self.base.covering(addr)
            } else {
                None
            };
        }
        let mut run = self
            .base
            .covering(addr)
            .or_else(|| self.overlay_covering(addr))?;
        // Any run that overlaps or touches `run` without lying inside it holds
        // `run.start - 1` or `run.end + 1`; grow until neither side grows.
        loop {
            let mut grown = false;
            if let Some(next) = run.end.checked_add(1) {
                for c in [self.base.covering(next), self.overlay_covering(next)]
                    .into_iter()
                    .flatten()
                {
                    if c.end > run.end {
                        run.end = c.end;
                        grown = true;
                    }
                }
            }
            if let Some(prev) = run.start.checked_sub(1) {
                for c in [self.base.covering(prev), self.overlay_covering(prev)]
                    .into_iter()
                    .flatten()
                {
                    if c.start < run.start {
                        run.start = c.start;
                        grown = true;
                    }
                }
            }
            if !grown {
                return Some(run);
            }
        }
    }

    /// Whether `addr` is covered.
    #[inline]
    pub fn contains(&self, addr: u32) -> bool {
        // Test the (predictable) overlay emptiness first: branching on the
        // index's answer would mispredict half the time.
        if self.overlay.is_empty() {
            self.index.contains(addr)
        } else {
            self.index.contains(addr)
                || (self.pending16[(addr >> 16) as usize] && self.overlay_covering(addr).is_some())
        }
    }

    /// The canonical form (base and pending inserts merged), e.g. to persist.
    pub fn to_set(&self) -> IntervalSet {
        if self.overlay.is_empty() {
            return self.base.clone();
        }
        let over = IntervalSet {
            ranges: overlay_ranges(&self.overlay).collect(),
        };
        self.base.union(&over)
    }

    /// Number of merged ranges (O(1) when no insert is pending, else one
    /// O(n) merge).
    pub fn len(&self) -> usize {
        if self.overlay.is_empty() {
            self.base.len()
        } else {
            self.to_set().len()
        }
    }

    /// Whether nothing is covered.
    pub fn is_empty(&self) -> bool {
        self.base.is_empty() && self.overlay.is_empty()
    }
}

fn overlay_ranges(m: &BTreeMap<u32, u32>) -> impl Iterator<Item = Range> + '_ {
    m.iter().map(|(&s, &e)| Range { start: s, end: e })
}

/// Inserts `r` into a start → end map, merging with neighbours that overlap
/// or touch.
fn overlay_insert(map: &mut BTreeMap<u32, u32>, r: Range) {
    let mut start = r.start;
    let mut end = r.end;
    if let Some((&s, &e)) = map.range(..=start).next_back() {
        if u64::from(e) + 1 >= u64::from(start) {
            start = s;
            end = end.max(e);
            map.remove(&s);
        }
    }
    loop {
        let next = map
            .range(start..)
            .next()
            .map(|(&s, &e)| (s, e))
            .filter(|&(s, _)| u64::from(s) <= u64::from(end) + 1);
        match next {
            Some((s, e)) => {
                end = end.max(e);
                map.remove(&s);
            }
            None => break,
        }
    }
    map.insert(start, end);
}
