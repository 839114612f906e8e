//! The walk against a brute-force model registry: every network (or every
//! top-level one) found, few queries, nothing marked that is not a network,
//! and a walk resumed from what an interrupted one recorded ends the same.

use std::collections::BTreeSet;

use super::*;
use crate::prefix::{fmt_addr, parse_addr_lenient};
use crate::rdap::search::Member;
use crate::rng::SplitMix64;

fn a(s: &str) -> u32 {
    parse_addr_lenient(s).unwrap()
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Style {
    /// Range-string handles, parent named by its range (RIPE NCC).
    Ripe,
    /// `NET-a-b-c-d-N` handles, parent named by its handle (ARIN).
    Arin,
}

#[derive(Clone, Debug)]
struct MNet {
    range: Range,
    parent: Option<usize>,
    handle: String,
}

/// A registry: a laminar family of networks, answering like DESIGN §6.1.
struct Model {
    nets: Vec<MNet>,
    style: Style,
    /// Most results in one set answer.
    limit: usize,
    /// Over the limit: cut the set with a notice (ARIN) instead of 400 (RIPE).
    truncate: bool,
    asked: u64,
}

impl Model {
    fn build(seed: u64, style: Style, region: Range, wholly_covered: bool) -> Model {
        let mut rng = SplitMix64::new(seed);
        let mut ranges: Vec<(Range, Option<usize>)> = Vec::new();
        let mut cur = u64::from(region.start);
        let end = u64::from(region.end);
        while cur <= end {
            cur += rng.range(0, 4) * 256;
            let blocks = [1u64, 2, 3, 4, 8, 16, 5, 64][rng.range(0, 7) as usize];
            let size = blocks * 256;
            let start = if blocks.is_power_of_two() {
                cur.div_ceil(size) * size
            } else {
                cur
            };
            if start + size - 1 > end {
                break;
            }
            let top = Range::new(start as u32, (start + size - 1) as u32).unwrap();
            let idx = ranges.len();
            ranges.push((top, None));
            carve(&mut rng, &mut ranges, idx, top, 0, wholly_covered);
            cur = start + size;
        }
        // Pre-order: start ascending, end descending.
        let mut order: Vec<usize> = (0..ranges.len()).collect();
        order.sort_by_key(|&i| (ranges[i].0.start, std::cmp::Reverse(ranges[i].0.end)));
        let mut pos = vec![0; ranges.len()];
        for (p, &i) in order.iter().enumerate() {
            pos[i] = p;
        }
        let mut nets: Vec<MNet> = order
            .iter()
            .map(|&i| MNet {
                range: ranges[i].0,
                parent: ranges[i].1.map(|p| pos[p]),
                handle: String::new(),
            })
            .collect();
        let mut same = std::collections::HashMap::new();
        for n in &mut nets {
            n.handle = match style {
                Style::Ripe => n.range.to_string(),
                Style::Arin => {
                    let c = same.entry(n.range.start).or_insert(0);
                    *c += 1;
                    let [x, y, z, w] = n.range.start.to_be_bytes();
                    format!("NET-{x}-{y}-{z}-{w}-{c}")
                }
            };
        }
        Model {
            nets,
            style,
            limit: usize::MAX,
            truncate: false,
            asked: 0,
        }
    }

    fn network(&self, i: usize) -> Network {
        let n = &self.nets[i];
        let (parent_handle, parent_range) = match (self.style, n.parent) {
            (Style::Ripe, Some(p)) => (
                Some(self.nets[p].range.to_string()),
                Some(self.nets[p].range),
            ),
            (Style::Ripe, None) => {
                let slash8 = Cidr::new_masked(n.range.start, 8).range();
                (Some(slash8.to_string()), Some(slash8))
            }
            (Style::Arin, Some(p)) => (Some(self.nets[p].handle.clone()), None),
            (Style::Arin, None) => (Some(format!("NET-{}-0-0-0-0", n.range.start >> 24)), None),
        };
        Network {
            handle: n.handle.clone(),
            range: n.range,
            name: Some("N".into()),
            net_type: None,
            country: None,
            parent_handle,
            parent_range,
            up_link: None,
            status: vec!["active".into()],
            entities: vec![],
            registration: None,
            last_changed: None,
            placeholder: false,
        }
    }

    fn one(&self, i: usize) -> Reply {
        Reply::One(Box::new(self.network(i)), b"{}".to_vec())
    }

    /// The deepest network containing all of `r`.
    fn deepest(&self, r: Range) -> Option<usize> {
        (0..self.nets.len())
            .filter(|&i| self.nets[i].range.contains_range(&r))
            .min_by_key(|&i| self.nets[i].range.len())
    }

    fn children(&self, i: usize) -> Vec<usize> {
        (0..self.nets.len())
            .filter(|&j| self.nets[j].parent == Some(i))
            .collect()
    }

    fn wholly_covered(&self, i: usize) -> bool {
        let kids: u64 = self
            .children(i)
            .iter()
            .map(|&j| self.nets[j].range.len())
            .sum();
        kids == self.nets[i].range.len()
    }

    fn set(&self, members: Vec<usize>) -> Reply {
        let mut members = members;
        let mut truncated = false;
        if members.len() > self.limit {
            if !self.truncate {
                return Reply::Split;
            }
            members.truncate(self.limit);
            truncated = true;
        }
        Reply::Set(SetAnswer {
            members: members
                .into_iter()
                .map(|i| Member {
                    network: self.network(i),
                    raw: b"{}".to_vec(),
                })
                .collect(),
            truncated,
            dropped_placeholders: 0,
        })
    }

    fn answer(&mut self, ask: &Ask) -> Reply {
        self.asked += 1;
        match ask {
            Ask::Lookup(Target::Addr(x)) => self
                .deepest(Range { start: *x, end: *x })
                .map_or(Reply::NoneThere, |i| self.one(i)),
            Ask::Lookup(Target::Prefix(c)) => self
                .deepest(c.range())
                .map_or(Reply::NoneThere, |i| self.one(i)),
            Ask::Lookup(Target::Url(_) | Target::Search(..) | Target::Help) => {
                Reply::Failed("not a lookup".into())
            }
            Ask::Search(rel, key) => {
                let k = key.range();
                if self.style == Style::Arin && matches!(key, Key::Range(_)) {
                    return Reply::Failed("ARIN takes CIDR keys only".into());
                }
                let inside: Vec<usize> = (0..self.nets.len())
                    .filter(|&i| k.contains_range(&self.nets[i].range))
                    .collect();
                match rel {
                    Relation::Down => {
                        let members = inside
                            .iter()
                            .copied()
                            .filter(|&i| self.nets[i].range != k)
                            .filter(|&i| {
                                !inside.iter().any(|&j| {
                                    j != i
                                        && self.nets[j].range != k
                                        && self.nets[j].range.contains_range(&self.nets[i].range)
                                        && self.nets[j].range != self.nets[i].range
                                })
                            })
                            .collect();
                        self.set(members)
                    }
                    Relation::Bottom => {
                        let members = inside
                            .iter()
                            .copied()
                            .filter(|&i| !self.wholly_covered(i))
                            .collect();
                        self.set(members)
                    }
                    Relation::Up => (0..self.nets.len())
                        .filter(|&i| {
                            self.nets[i].range.contains_range(&k) && self.nets[i].range != k
                        })
                        .min_by_key(|&i| self.nets[i].range.len())
                        .map_or(Reply::NoneThere, |i| self.one(i)),
                    Relation::Top => (0..self.nets.len())
                        .filter(|&i| {
                            self.nets[i].range.contains_range(&k) && self.nets[i].range != k
                        })
                        .max_by_key(|&i| self.nets[i].range.len())
                        .map_or(Reply::NoneThere, |i| self.one(i)),
                }
            }
        }
    }

    fn all(&self) -> BTreeSet<(u32, u32)> {
        self.nets
            .iter()
            .map(|n| (n.range.start, n.range.end))
            .collect()
    }

    fn tops(&self) -> BTreeSet<(u32, u32)> {
        self.nets
            .iter()
            .filter(|n| n.parent.is_none())
            .map(|n| (n.range.start, n.range.end))
            .collect()
    }
}

/// Children of `parent` (recursively): runs of small blocks, scattered
/// blocks, and (when asked) an intermediate cut wholly into its children.
fn carve(
    rng: &mut SplitMix64,
    out: &mut Vec<(Range, Option<usize>)>,
    parent: usize,
    r: Range,
    depth: u32,
    wholly_covered: bool,
) {
    if depth >= 3 || r.len() < 64 {
        return;
    }
    let end = u64::from(r.end);
    let mut cur = u64::from(r.start) + rng.range(0, 2) * (r.len() / 8);
    let n = rng.range(0, 6);
    for _ in 0..n {
        let size = (r.len() / [4u64, 8, 16, 32][rng.range(0, 3) as usize]).max(16);
        let s = cur.div_ceil(size) * size;
        if s + size - 1 > end || size >= r.len() {
            break;
        }
        let child = Range::new(s as u32, (s + size - 1) as u32).unwrap();
        let idx = out.len();
        out.push((child, Some(parent)));
        if wholly_covered && child.len() >= 64 && rng.chance(0.3) {
            // Cut wholly into halves: an intermediate no bottom set holds.
            let half = child.len() / 2;
            for h in 0..2u64 {
                let hs = u64::from(child.start) + h * half;
                let hr = Range::new(hs as u32, (hs + half - 1) as u32).unwrap();
                let hi = out.len();
                out.push((hr, Some(idx)));
                carve(rng, out, hi, hr, depth + 2, false);
            }
        } else if rng.chance(0.4) {
            carve(rng, out, idx, child, depth + 1, wholly_covered);
        }
        cur = s + size + rng.range(0, 3) * size;
    }
}

/// Runs a walk to the end (or for `budget` tasks), answering from the model.
fn run(
    walk: &mut Walk,
    model: &mut Model,
    budget: usize,
) -> (Vec<Member>, Vec<Range>, Vec<Range>, usize) {
    let (mut stored, mut swept, mut searched) = (Vec::new(), Vec::new(), Vec::new());
    let mut tasks = 0;
    while tasks < budget {
        let Some((task, ask)) = walk.next_task() else {
            break;
        };
        // The scheduler's parser refuses answers that do not cover the task.
        let must = Walk::must_contain(&task);
        let mut reply = model.answer(&ask);
        if let Reply::One(n, _) = &reply {
            if !n.range.contains_range(&must) && !matches!(task, Task::Set { .. }) {
                reply = Reply::Failed("outside".into());
            }
        }
        let step = walk.complete(task, reply);
        assert!(!step.unsupported);
        stored.extend(step.store);
        swept.extend(step.swept);
        searched.extend(step.searched);
        tasks += 1;
    }
    (stored, swept, searched, tasks)
}

fn found(stored: &[Member]) -> BTreeSet<(u32, u32)> {
    stored
        .iter()
        .map(|m| (m.network.range.start, m.network.range.end))
        .collect()
}

fn region() -> Range {
    Range::new(a("10.0.0.0"), a("10.0.255.255")).unwrap()
}

/// A bigger region: a /13, a few hundred top-level networks.
fn big_region() -> Range {
    Range::new(a("10.0.0.0"), a("10.7.255.255")).unwrap()
}

#[test]
fn bottom_walk_finds_every_network_including_wholly_covered_intermediates() {
    for style in [Style::Ripe, Style::Arin] {
        for seed in 1..=6 {
            let mut m = Model::build(seed, style, big_region(), true);
            let covered = (0..m.nets.len()).filter(|&i| m.wholly_covered(i)).count();
            m.limit = 300;
            let mut w = Walk::new(
                Registry::Ripe,
                Level::All,
                Dialect {
                    range_keys: style == Style::Ripe,
                },
                &[big_region()],
                &[],
            );
            let (stored, swept, _, _) = run(&mut w, &mut m, usize::MAX);
            assert!(w.is_done());
            let got = found(&stored);
            let want = m.all();
            let missing: Vec<String> = want
                .difference(&got)
                .map(|(s, e)| format!("{} - {}", fmt_addr(*s), fmt_addr(*e)))
                .collect();
            // ARIN takes CIDR keys only: a wholly covered parent of a child
            // that is no CIDR may be skipped over (counted as unresolved).
            let allowed = if style == Style::Ripe {
                0
            } else {
                w.stats().parents_unresolved
            };
            assert!(
                missing.len() as u64 <= allowed,
                "{style:?} seed {seed}: missing {missing:?} ({covered} wholly covered)"
            );
            assert!(got.is_subset(&want), "nothing invented");
            // Marked space is networks only.
            let nets = crate::trie::IntervalSet::from_ranges(m.nets.iter().map(|n| n.range));
            for r in swept {
                assert!(
                    nets.intersect(&crate::trie::IntervalSet::from_ranges([r]))
                        .address_count()
                        == r.len()
                );
            }
            eprintln!(
                "{style:?} seed {seed}: {} queries for {} networks, {:?}",
                m.asked,
                want.len(),
                w.stats()
            );
            // Cheap: far fewer queries than networks.
            assert!(
                m.asked * 4 < want.len() as u64 + 40,
                "{style:?} seed {seed}: {} queries for {} networks",
                m.asked,
                want.len()
            );
        }
    }
}

#[test]
fn down_walk_finds_every_top_level_network_in_few_queries() {
    for (style, truncate) in [(Style::Ripe, false), (Style::Arin, true)] {
        for seed in 1..=6 {
            let mut m = Model::build(seed, style, big_region(), true);
            m.limit = 20;
            m.truncate = truncate;
            let mut w = Walk::new(
                Registry::Arin,
                Level::Top,
                Dialect {
                    range_keys: style == Style::Ripe,
                },
                &[big_region()],
                &[],
            );
            let (stored, _, _, _) = run(&mut w, &mut m, usize::MAX);
            let got = found(&stored);
            let tops = m.tops();
            assert!(
                tops.is_subset(&got),
                "{style:?} seed {seed}: missing {:?}",
                tops.difference(&got).collect::<Vec<_>>()
            );
            eprintln!(
                "{style:?} seed {seed}: {} queries for {} tops, {:?}",
                m.asked,
                tops.len(),
                w.stats()
            );
            assert!(
                m.asked * 2 < tops.len() as u64 + 40,
                "{} queries for {} tops",
                m.asked,
                tops.len()
            );
            assert!(w.stats().splits > 0, "the limit bites");
        }
    }
}

#[test]
fn a_network_across_a_split_is_found_by_the_boundary_lookup() {
    // Two halves of 10.0.0.0/16 and one non-CIDR network across 10.0.128.0,
    // with a child across it and children on both sides.
    across_a_split(&[
        ("10.0.0.0", "10.0.0.255"),
        ("10.0.127.0", "10.0.128.255"),
        ("10.0.127.128", "10.0.128.127"),
        ("10.0.127.0", "10.0.127.63"),
        ("10.0.128.192", "10.0.128.255"),
        ("10.0.200.0", "10.0.200.255"),
    ]);
}

#[test]
fn a_network_across_a_split_whose_child_starts_at_the_boundary_is_found() {
    // The boundary lookup's deepest network starts at the boundary: it lies
    // in the right half, but its parent crosses (the full-IPv4 world's
    // 54.133.125.0 - 54.133.136.255, lost before).
    across_a_split(&[
        ("10.0.0.0", "10.0.0.255"),
        ("10.0.125.0", "10.0.136.255"),
        ("10.0.125.0", "10.0.125.255"),
        ("10.0.128.0", "10.0.128.255"),
        ("10.0.130.0", "10.0.130.127"),
        ("10.0.200.0", "10.0.200.255"),
    ]);
}

/// Walks a RIPE-style registry of `nets` (parents from the nesting) at both
/// levels with a result limit of two, so the /16 is split at 10.0.128.0:
/// every network (every top-level one) must be found.
fn across_a_split(nets: &[(&str, &str)]) {
    for level in [Level::Top, Level::All] {
        let mut m = Model::build(
            1,
            Style::Ripe,
            Range::new(a("10.0.0.0"), a("10.0.0.0")).unwrap(),
            false,
        );
        m.nets = nets
            .iter()
            .map(|(s, e)| MNet {
                range: Range::new(a(s), a(e)).unwrap(),
                parent: None,
                handle: format!("{s} - {e}"),
            })
            .collect();
        m.nets
            .sort_by_key(|n| (n.range.start, std::cmp::Reverse(n.range.end)));
        // Fix parents after the sort (by range).
        let ranges: Vec<Range> = m.nets.iter().map(|n| n.range).collect();
        for i in 0..m.nets.len() {
            m.nets[i].parent = (0..ranges.len())
                .filter(|&j| {
                    j != i && ranges[j].contains_range(&ranges[i]) && ranges[j] != ranges[i]
                })
                .min_by_key(|&j| ranges[j].len());
        }
        m.limit = 2;
        let mut w = Walk::new(
            Registry::Ripe,
            level,
            Dialect { range_keys: true },
            &[region()],
            &[],
        );
        let (stored, _, _, _) = run(&mut w, &mut m, usize::MAX);
        let got = found(&stored);
        let want = if level == Level::All {
            m.all()
        } else {
            m.tops()
        };
        assert!(
            want.is_subset(&got),
            "{level:?}: missing {:?}",
            want.difference(&got).collect::<Vec<_>>()
        );
        assert!(w.stats().boundaries > 0);
    }
}

#[test]
fn a_walk_resumed_from_what_an_interrupted_one_recorded_ends_the_same() {
    for level in [Level::All, Level::Top] {
        for cut in [1, 3, 7, 15, 40] {
            let mut m = Model::build(3, Style::Ripe, region(), true);
            m.limit = 30;
            let whole = {
                let mut w = Walk::new(
                    Registry::Ripe,
                    level,
                    Dialect { range_keys: true },
                    &[region()],
                    &[],
                );
                found(&run(&mut w, &mut m, usize::MAX).0)
            };
            let mut w = Walk::new(
                Registry::Ripe,
                level,
                Dialect { range_keys: true },
                &[region()],
                &[],
            );
            let (first, _, searched, _) = run(&mut w, &mut m, cut);
            let mut w2 = Walk::new(
                Registry::Ripe,
                level,
                Dialect { range_keys: true },
                &[region()],
                &searched,
            );
            let (second, _, _, _) = run(&mut w2, &mut m, usize::MAX);
            let mut got = found(&first);
            got.extend(found(&second));
            assert_eq!(got, whole, "{level:?}, killed after {cut} tasks");
        }
    }
}

#[test]
fn cut_sets_that_do_not_converge_and_tiny_keys_fall_back_to_the_sweep() {
    let mut w = Walk::new(
        Registry::Arin,
        Level::All,
        Dialect { range_keys: false },
        &[region()],
        &[],
    );
    let (task, _) = w.next_task().unwrap();
    // A truncation with almost nothing in it: not split, left to the sweep.
    let step = w.complete(
        task,
        Reply::Set(SetAnswer {
            members: vec![],
            truncated: true,
            dropped_placeholders: 0,
        }),
    );
    assert_eq!(step.fallback.len(), 1);
    assert!(step.searched.is_empty() && step.swept.is_empty());
    assert!(w.is_done());
    // A key at the split limit is not split further.
    let k = Cidr::new(a("10.0.0.0"), MAX_SPLIT_LEN).unwrap();
    let mut w = Walk::new(
        Registry::Ripe,
        Level::All,
        Dialect { range_keys: true },
        &[k.range()],
        &[],
    );
    let (task, _) = w.next_task().unwrap();
    let step = w.complete(task, Reply::Split);
    assert_eq!(step.fallback.len(), 1);
    assert!(w.is_done());
}

#[test]
fn a_registry_without_search_stops_the_walk() {
    let mut w = Walk::new(
        Registry::Ripe,
        Level::All,
        Dialect { range_keys: true },
        &[
            region(),
            Range::new(a("11.0.0.0"), a("11.0.0.255")).unwrap(),
        ],
        &[],
    );
    let (task, _) = w.next_task().unwrap();
    let step = w.complete(task, Reply::Unsupported);
    assert!(step.unsupported);
    assert!(w.next_task().is_none());
    assert!(w.is_done());
}

#[test]
fn regions_are_cut_into_cidr_keys_with_boundary_lookups_between_them() {
    let r = Range::new(a("10.0.1.0"), a("10.0.6.255")).unwrap();
    let mut w = Walk::new(
        Registry::Arin,
        Level::All,
        Dialect { range_keys: false },
        &[r],
        &[],
    );
    let mut asks = Vec::new();
    while let Some((t, ask)) = w.next_task() {
        asks.push(ask);
        w.complete(t, Reply::Set(SetAnswer::default()));
    }
    let keys: Vec<String> = asks
        .iter()
        .map(|a| match a {
            Ask::Search(rel, k) => format!("{rel} {k}"),
            Ask::Lookup(t) => format!("{t:?}"),
        })
        .collect();
    assert_eq!(
        keys,
        [
            "rdap-bottom 10.0.1.0/24",
            "rdap-bottom 10.0.2.0/23",
            format!("Addr({})", a("10.0.2.0")).as_str(),
            "rdap-bottom 10.0.4.0/23",
            format!("Addr({})", a("10.0.4.0")).as_str(),
            "rdap-bottom 10.0.6.0/24",
            format!("Addr({})", a("10.0.6.0")).as_str(),
        ]
    );
    // Resumed with the middle searched: only the rest is asked.
    let done = [Range::new(a("10.0.2.0"), a("10.0.5.255")).unwrap()];
    let mut w = Walk::new(
        Registry::Arin,
        Level::All,
        Dialect { range_keys: false },
        &[r],
        &done,
    );
    let mut n = 0;
    while let Some((t, _)) = w.next_task() {
        n += 1;
        w.complete(t, Reply::Set(SetAnswer::default()));
    }
    assert_eq!(n, 2);
}
