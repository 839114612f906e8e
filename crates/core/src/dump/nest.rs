//! Parent handles from nesting: the parent of an inetnum is the smallest
//! other inetnum of the same registry that contains it (placeholders
//! included, so RIPE's `0.0.0.0 - 255.255.255.255` root and APNIC's /8
//! objects are parents, as their RDAP servers say).
//!
//! Memory: 8 bytes per range plus 4 per parent link, per registry; the
//! ranges are collected during the first pass and sorted once.

use crate::prefix::Range;
use crate::rdap::Registry;

const NONE: u32 = u32::MAX;

/// Collects ranges, then answers "which range is this one's parent".
#[derive(Debug, Default)]
pub struct Nest {
    /// Per registry (index order): `(start, end)`, sorted by start then end
    /// descending (an enclosing range before what it encloses), deduplicated.
    ranges: [Vec<(u32, u32)>; 5],
    /// Per registry: the index of each range's parent, or [`NONE`].
    parents: [Vec<u32>; 5],
    built: bool,
}

impl Nest {
    /// An empty index.
    pub fn new() -> Nest {
        Nest::default()
    }

    /// Adds one inetnum's range (before [`Nest::build`]).
    pub fn add(&mut self, registry: Registry, range: Range) {
        if let Some(v) = self.ranges.get_mut(registry.index()) {
            v.push((range.start, range.end));
            self.built = false;
        }
    }

    /// Adds every range of `other` (an index of other files, before [`Nest::build`]).
    pub fn absorb(&mut self, other: Nest) {
        for (mine, theirs) in self.ranges.iter_mut().zip(other.ranges) {
            mine.extend(theirs);
        }
        self.built = false;
    }

    /// Ranges held (after deduplication, once built).
    pub fn len(&self) -> usize {
        self.ranges.iter().map(Vec::len).sum()
    }

    /// Whether no range was added.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Sorts and links every range to its parent. A stack sweep, O(n log n):
    /// in start order, an enclosing range comes before what it encloses; a
    /// stacked range that does not contain the next one can contain no later
    /// one either (for nested data) and is popped. Overlapping, not nested
    /// ranges (not in real dumps) are popped too, so a parent always contains
    /// its child and the sweep stays linear on hostile input.
    pub fn build(&mut self) {
        for (ranges, parents) in self.ranges.iter_mut().zip(self.parents.iter_mut()) {
            ranges.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
            ranges.dedup();
            ranges.shrink_to_fit();
            parents.clear();
            parents.reserve_exact(ranges.len());
            let mut stack: Vec<u32> = Vec::new();
            for (i, &(start, end)) in ranges.iter().enumerate() {
                while let Some(&top) = stack.last() {
                    let (ts, te) = ranges[top as usize];
                    if ts <= start && end <= te {
                        break;
                    }
                    stack.pop();
                }
                parents.push(stack.last().copied().unwrap_or(NONE));
                stack.push(u32::try_from(i).unwrap_or(NONE));
            }
        }
        self.built = true;
    }

    /// The parent range of `range` of `registry`: `Some(None)` for a range
    /// with no parent, `None` when the range was never added (or the index
    /// is not built).
    pub fn parent(&self, registry: Registry, range: Range) -> Option<Option<Range>> {
        if !self.built {
            return None;
        }
        let i = registry.index();
        let (ranges, parents) = (self.ranges.get(i)?, self.parents.get(i)?);
        let key = (range.start, range.end);
        let at = ranges
            .binary_search_by(|p| p.0.cmp(&key.0).then(key.1.cmp(&p.1)))
            .ok()?;
        let p = *parents.get(at)?;
        if p == NONE {
            return Some(None);
        }
        let &(start, end) = ranges.get(p as usize)?;
        Some(Range::new(start, end))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prefix::parse_range_lenient;

    fn r(s: &str) -> Range {
        parse_range_lenient(s).unwrap()
    }

    /// Naive model: the smallest other added range of the registry containing it.
    fn naive(all: &[(Registry, Range)], reg: Registry, x: Range) -> Option<Range> {
        all.iter()
            .filter(|(g, p)| *g == reg && *p != x && p.contains_range(&x))
            .map(|(_, p)| *p)
            .min_by_key(|p| (p.len(), p.start))
    }

    #[test]
    fn ripe_like_tree() {
        let all = [
            (Registry::Ripe, r("0.0.0.0 - 255.255.255.255")),
            (Registry::Ripe, r("193.0.0.0 - 193.0.23.255")),
            (Registry::Ripe, r("193.0.0.0 - 193.0.7.255")),
            (Registry::Ripe, r("193.0.8.0 - 193.0.8.255")),
            (Registry::Ripe, r("130.59.0.0 - 130.59.255.255")),
            (Registry::Apnic, r("101.0.0.0/8")),
            (Registry::Apnic, r("101.203.88.0/24")),
            // The same range at another registry is not a parent.
            (Registry::Afrinic, r("193.0.0.0 - 193.0.7.255")),
        ];
        let mut n = Nest::new();
        for (g, x) in all {
            n.add(g, x);
        }
        assert_eq!(
            n.parent(Registry::Ripe, r("193.0.0.0/21")),
            None,
            "not built"
        );
        n.build();
        let p = |g, s| n.parent(g, r(s));
        assert_eq!(
            p(Registry::Ripe, "193.0.0.0 - 193.0.7.255"),
            Some(Some(r("193.0.0.0 - 193.0.23.255")))
        );
        assert_eq!(
            p(Registry::Ripe, "193.0.8.0/24"),
            Some(Some(r("193.0.0.0 - 193.0.23.255")))
        );
        assert_eq!(
            p(Registry::Ripe, "193.0.0.0 - 193.0.23.255"),
            Some(Some(Range::ALL))
        );
        assert_eq!(p(Registry::Ripe, "130.59.0.0/16"), Some(Some(Range::ALL)));
        assert_eq!(p(Registry::Ripe, "0.0.0.0/0"), Some(None));
        assert_eq!(
            p(Registry::Apnic, "101.203.88.0/24"),
            Some(Some(r("101.0.0.0/8")))
        );
        assert_eq!(p(Registry::Afrinic, "193.0.0.0/21"), Some(None));
        assert_eq!(p(Registry::Ripe, "193.0.9.0/24"), None, "never added");
    }

    #[test]
    fn duplicates_are_one_range() {
        let mut n = Nest::new();
        for _ in 0..3 {
            n.add(Registry::Ripe, r("10.0.0.0/24"));
        }
        n.add(Registry::Ripe, r("10.0.0.0/16"));
        n.build();
        assert_eq!(n.len(), 2);
        assert_eq!(
            n.parent(Registry::Ripe, r("10.0.0.0/24")),
            Some(Some(r("10.0.0.0/16")))
        );
    }

    #[test]
    fn against_the_naive_model() {
        // Random laminar and overlapping sets: a found parent always contains
        // the child; on nested (laminar) sets it is exactly the naive one.
        let mut rng = crate::rng::SplitMix64::new(7);
        for round in 0..200 {
            let laminar = round % 2 == 0;
            let mut all: Vec<(Registry, Range)> = Vec::new();
            for _ in 0..(rng.next_u64() % 60) {
                let reg = [Registry::Ripe, Registry::Apnic][(rng.next_u64() % 2) as usize];
                let x = if laminar {
                    let len = 8 + (rng.next_u64() % 17) as u8;
                    crate::prefix::Cidr::new_masked(
                        0x0a00_0000 | (rng.next_u64() as u32 & 0x00ff_ffff),
                        len,
                    )
                    .range()
                } else {
                    let a = 0x0a00_0000 + (rng.next_u64() % 4096) as u32;
                    let b = a + (rng.next_u64() % 2048) as u32;
                    Range::new(a, b).unwrap()
                };
                all.push((reg, x));
            }
            let mut n = Nest::new();
            for &(g, x) in &all {
                n.add(g, x);
            }
            n.build();
            for &(g, x) in &all {
                let got = n.parent(g, x).expect("added");
                if let Some(p) = got {
                    assert!(p.contains_range(&x) && p != x, "{x} in {p}");
                }
                if laminar {
                    assert_eq!(got, naive(&all, g, x), "{x}");
                }
            }
        }
    }

    #[test]
    fn overlapping_chain_has_no_parents() {
        // 200k ranges each overlapping the previous one (every sweep step pops):
        // none contains another, so none has a parent.
        let mut n = Nest::new();
        for i in 0..200_000u32 {
            n.add(Registry::Ripe, Range::new(i, i + 1000).unwrap());
        }
        n.build();
        assert_eq!(
            n.parent(Registry::Ripe, Range::new(5, 1005).unwrap()),
            Some(None)
        );
    }
}
