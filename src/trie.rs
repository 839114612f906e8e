//! The known-network set and coverage maths.
//!
//! - [`IntervalSet`]: the canonical form — sorted, disjoint, merged inclusive
//!   ranges. Source of truth for unions, address counts and persistence.
//! - [`KnownSet`]: the crawl's growing set of covered space (insert + membership).
//! - [`LpmMap`]: most-specific-range lookup, for `ipcrawl lookup`.
//!
//! FIRST VERSION: simple sorted-vector / BTreeMap implementations with the
//! final API; the fast bit index is issue 3's work.

use std::collections::BTreeMap;

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

impl IntervalSet {
    /// The empty set.
    pub fn new() -> IntervalSet {
        IntervalSet::default()
    }

    /// The union of any ranges, in any order, overlapping or not.
    pub fn from_ranges<I: IntoIterator<Item = Range>>(it: I) -> IntervalSet {
        let mut v: Vec<Range> = it.into_iter().collect();
        v.sort_unstable();
        let mut out: Vec<Range> = Vec::with_capacity(v.len());
        for r in v {
            match out.last_mut() {
                Some(last) if u64::from(r.start) <= u64::from(last.end) + 1 => {
                    last.end = last.end.max(r.end);
                }
                _ => out.push(r),
            }
        }
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

    /// Number of addresses in the set.
    pub fn address_count(&self) -> u64 {
        self.ranges.iter().map(Range::len).sum()
    }

    fn find(&self, addr: u32) -> Option<usize> {
        let i = self.ranges.partition_point(|r| r.end < addr);
        (i < self.ranges.len() && self.ranges[i].start <= addr).then_some(i)
    }

    /// Whether `addr` is in the set.
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

    /// Addresses in either set.
    pub fn union(&self, other: &IntervalSet) -> IntervalSet {
        IntervalSet::from_ranges(self.ranges.iter().chain(other.ranges.iter()).copied())
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
                        start: cur as u32,
                        end: o.start - 1,
                    });
                }
                cur = cur.max(u64::from(o.end) + 1);
                k += 1;
            }
            if cur <= end {
                out.push(Range {
                    start: cur as u32,
                    end: end as u32,
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
        let mut ranges = Vec::with_capacity(b.len() / 8);
        for ch in b.chunks_exact(8) {
            let s = u32::from_le_bytes([ch[0], ch[1], ch[2], ch[3]]);
            let e = u32::from_le_bytes([ch[4], ch[5], ch[6], ch[7]]);
            let r = Range::new(s, e).ok_or_else(|| DecodeError(format!("start {s} > end {e}")))?;
            if let Some(last) = ranges.last() {
                let last: &Range = last;
                if u64::from(r.start) <= u64::from(last.end) + 1 {
                    return Err(DecodeError("ranges not sorted and disjoint".into()));
                }
            }
            ranges.push(r);
        }
        Ok(IntervalSet { ranges })
    }
}

/// The crawl's growing set of covered space: fast inserts and membership.
#[derive(Clone, Debug, Default)]
pub struct KnownSet {
    /// start → end, merged and disjoint.
    map: BTreeMap<u32, u32>,
}

impl KnownSet {
    /// An empty set.
    pub fn new() -> KnownSet {
        KnownSet::default()
    }

    /// A set holding `base`.
    pub fn from_set(base: &IntervalSet) -> KnownSet {
        KnownSet {
            map: base.ranges().iter().map(|r| (r.start, r.end)).collect(),
        }
    }

    /// Adds a range (merging with neighbours).
    pub fn insert(&mut self, r: Range) {
        let mut start = r.start;
        let mut end = r.end;
        // Merge a predecessor that overlaps or touches.
        if let Some((&s, &e)) = self.map.range(..=start).next_back() {
            if u64::from(e) + 1 >= u64::from(start) {
                start = s;
                end = end.max(e);
                self.map.remove(&s);
            }
        }
        // Merge successors starting inside or right after.
        loop {
            let next = self
                .map
                .range(start..)
                .next()
                .map(|(&s, &e)| (s, e))
                .filter(|&(s, _)| u64::from(s) <= u64::from(end) + 1);
            match next {
                Some((s, e)) => {
                    end = end.max(e);
                    self.map.remove(&s);
                }
                None => break,
            }
        }
        self.map.insert(start, end);
    }

    /// The merged range holding `addr`.
    pub fn covering(&self, addr: u32) -> Option<Range> {
        self.map
            .range(..=addr)
            .next_back()
            .filter(|(_, &e)| e >= addr)
            .map(|(&s, &e)| Range { start: s, end: e })
    }

    /// Whether `addr` is covered.
    pub fn contains(&self, addr: u32) -> bool {
        self.covering(addr).is_some()
    }

    /// The canonical form.
    pub fn to_set(&self) -> IntervalSet {
        IntervalSet {
            ranges: self
                .map
                .iter()
                .map(|(&s, &e)| Range { start: s, end: e })
                .collect(),
        }
    }

    /// Number of merged ranges.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether nothing is covered.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

/// Most-specific-range lookup: among the stored ranges that contain an
/// address, the smallest wins (ties: the one inserted last).
#[derive(Clone, Debug)]
pub struct LpmMap<V> {
    items: Vec<(Range, V)>,
}

impl<V> LpmMap<V> {
    /// Builds the map.
    pub fn new(items: Vec<(Range, V)>) -> LpmMap<V> {
        LpmMap { items }
    }

    /// The value of the smallest range holding `addr`.
    pub fn lookup(&self, addr: u32) -> Option<&V> {
        self.items
            .iter()
            .filter(|(r, _)| r.contains(addr))
            .min_by_key(|(r, _)| r.len())
            .map(|(_, v)| v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(s: u32, e: u32) -> Range {
        Range::new(s, e).unwrap()
    }

    #[test]
    fn canonical_merge() {
        let s = IntervalSet::from_ranges([r(10, 20), r(21, 30), r(5, 7), r(6, 12), r(40, 50)]);
        assert_eq!(s.ranges(), &[r(5, 30), r(40, 50)]);
        assert_eq!(s.address_count(), 26 + 11);
        assert_eq!(s.next_uncovered(5), Some(31));
        assert_eq!(s.next_uncovered(35), Some(35));
        let back = IntervalSet::from_bytes(&s.to_bytes()).unwrap();
        assert_eq!(back, s);
    }

    #[test]
    fn known_set_insert_merges() {
        let mut k = KnownSet::new();
        k.insert(r(10, 20));
        k.insert(r(30, 40));
        k.insert(r(21, 29));
        assert_eq!(k.covering(25), Some(r(10, 40)));
        k.insert(r(0, u32::MAX));
        assert_eq!(k.len(), 1);
        assert!(k.contains(u32::MAX));
    }

    #[test]
    fn subtract_and_intersect() {
        let a = IntervalSet::from_ranges([r(0, 100)]);
        let b = IntervalSet::from_ranges([r(10, 20), r(50, 200)]);
        assert_eq!(a.subtract(&b).ranges(), &[r(0, 9), r(21, 49)]);
        assert_eq!(a.intersect(&b).ranges(), &[r(10, 20), r(50, 100)]);
    }
}
