//! The stored networks by exact range: "is this parent stored already?" and
//! "where does the top-level network holding it end?", which a climb needs
//! to stop at the right place. The union of stored ranges cannot answer
//! either (adjacent siblings merge into one interval that looks like their
//! parent), and deciding by it made which nested networks a crawl stored
//! depend on thread timing.
//!
//! Built once from the store's key-only network index (sorted), plus the
//! networks the crawl stores as it goes. Pure.

use std::collections::HashMap;

use crate::prefix::Range;
use crate::rdap::Registry;

/// One stored network: its range, registry and the end of the top-level
/// network holding it (its own end when it is top-level).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
struct Entry {
    start: u32,
    end: u32,
    reg: u8,
    top_end: u32,
}

/// Stored networks by exact range.
#[derive(Debug, Default)]
pub struct NetIndex {
    /// Loaded at start, sorted by (start, end, registry).
    base: Vec<Entry>,
    /// Stored during this crawl.
    added: HashMap<(u32, u32, u8), u32>,
    /// Starts of the networks stored during this crawl, per registry (for
    /// ARIN-style parents named by their first address).
    added_starts: HashMap<(u32, u8), Vec<(u32, u32)>>,
}

impl NetIndex {
    /// An empty index.
    pub fn new() -> NetIndex {
        NetIndex::default()
    }

    /// The index of `keys` (any order; networks are nested or disjoint, as
    /// registries keep them): each network's top end is the end of the
    /// largest stored network holding it.
    pub fn from_keys(keys: &[(Range, Registry)]) -> NetIndex {
        let mut by_nesting: Vec<(Range, u8)> = keys
            .iter()
            .map(|(r, reg)| (*r, reg.index() as u8))
            .collect();
        by_nesting.sort_by_key(|(r, reg)| (r.start, std::cmp::Reverse(r.end), *reg));
        let mut base = Vec::with_capacity(by_nesting.len());
        let mut top: Option<Range> = None;
        for (r, reg) in by_nesting {
            let t = match top {
                Some(t) if t.contains_range(&r) => t,
                _ => {
                    top = Some(r);
                    r
                }
            };
            base.push(Entry {
                start: r.start,
                end: r.end,
                reg,
                top_end: t.end,
            });
        }
        base.sort_by_key(|e| (e.start, e.end, e.reg));
        NetIndex {
            base,
            added: HashMap::new(),
            added_starts: HashMap::new(),
        }
    }

    /// Networks in the index.
    pub fn len(&self) -> usize {
        self.base.len() + self.added.len()
    }

    /// Whether the index is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Records a network stored now, held by the top-level network ending at
    /// `top_end`.
    pub fn insert(&mut self, r: Range, reg: Registry, top_end: u32) {
        let k = reg.index() as u8;
        if self.added.insert((r.start, r.end, k), top_end).is_none() {
            self.added_starts
                .entry((r.start, k))
                .or_default()
                .push((r.end, top_end));
        }
    }

    /// The top end of the stored network `r` of `reg`, if it is stored.
    pub fn top_end(&self, r: Range, reg: Registry) -> Option<u32> {
        let k = reg.index() as u8;
        if let Some(t) = self.added.get(&(r.start, r.end, k)) {
            return Some(*t);
        }
        self.base
            .binary_search_by_key(&(r.start, r.end, k), |e| (e.start, e.end, e.reg))
            .ok()
            .map(|i| self.base[i].top_end)
    }

    /// The smallest stored network of `reg` that starts at `start` and
    /// holds `child` (an ARIN parent is named by its first address only):
    /// its range and top end.
    pub fn starting_at(&self, start: u32, reg: Registry, child: Range) -> Option<(Range, u32)> {
        let k = reg.index() as u8;
        let holds = |end: u32| end >= child.end && (start, end) != (child.start, child.end);
        let mut best: Option<(Range, u32)> = None;
        let mut consider = |end: u32, top_end: u32| {
            if holds(end) && best.is_none_or(|(b, _)| end < b.end) {
                best = Some((Range { start, end }, top_end));
            }
        };
        let i = self.base.partition_point(|e| e.start < start);
        for e in &self.base[i..] {
            if e.start != start {
                break;
            }
            if e.reg == k {
                consider(e.end, e.top_end);
            }
        }
        for &(end, top_end) in self.added_starts.get(&(start, k)).into_iter().flatten() {
            consider(end, top_end);
        }
        best
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prefix::parse_range_lenient;

    fn r(s: &str) -> Range {
        parse_range_lenient(s).unwrap()
    }

    #[test]
    fn top_ends_follow_nesting_not_adjacency() {
        let keys = [
            (r("10.0.0.0 - 10.0.0.255"), Registry::Ripe),
            (r("10.0.0.0 - 10.0.0.127"), Registry::Ripe),
            // Adjacent to the first, not inside it: its own top.
            (r("10.0.1.0 - 10.0.1.255"), Registry::Ripe),
            (r("10.0.1.64 - 10.0.1.127"), Registry::Ripe),
        ];
        let ix = NetIndex::from_keys(&keys);
        assert_eq!(ix.len(), 4);
        assert_eq!(
            ix.top_end(r("10.0.0.0 - 10.0.0.127"), Registry::Ripe),
            Some(r("10.0.0.0 - 10.0.0.255").end)
        );
        assert_eq!(
            ix.top_end(r("10.0.1.64 - 10.0.1.127"), Registry::Ripe),
            Some(r("10.0.1.0 - 10.0.1.255").end)
        );
        // Same range, other registry: not stored.
        assert_eq!(ix.top_end(r("10.0.0.0 - 10.0.0.127"), Registry::Arin), None);
        // The union 10.0.0.0 - 10.0.1.255 is no network.
        assert_eq!(ix.top_end(r("10.0.0.0 - 10.0.1.255"), Registry::Ripe), None);
    }

    #[test]
    fn parents_named_by_their_first_address() {
        let mut ix = NetIndex::from_keys(&[
            (r("10.0.0.0 - 10.0.3.255"), Registry::Arin),
            (r("10.0.0.0 - 10.0.1.255"), Registry::Arin),
        ]);
        let child = r("10.0.0.128 - 10.0.0.255");
        // The smallest one starting there that holds the child.
        assert_eq!(
            ix.starting_at(r("10.0.0.0").start, Registry::Arin, child),
            Some((r("10.0.0.0 - 10.0.1.255"), r("10.0.0.0 - 10.0.3.255").end))
        );
        assert_eq!(
            ix.starting_at(r("10.0.0.0").start, Registry::Ripe, child),
            None
        );
        // Added during the crawl: found too, and the smaller one wins.
        ix.insert(r("10.0.0.0 - 10.0.0.255"), Registry::Arin, 99);
        assert_eq!(
            ix.starting_at(r("10.0.0.0").start, Registry::Arin, child),
            Some((r("10.0.0.0 - 10.0.0.255"), 99))
        );
        assert_eq!(
            ix.top_end(r("10.0.0.0 - 10.0.0.255"), Registry::Arin),
            Some(99)
        );
        // The child itself is never its own parent.
        assert_eq!(ix.starting_at(child.start, Registry::Arin, child), None);
    }
}
