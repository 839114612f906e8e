//! Exactness tests: fixed cases for every prefix length and edge, then
//! property tests against naive references (linear scans over `Vec<Range>`)
//! on many random sets from a fixed-seed RNG.

use crate::rng::SplitMix64;
use std::cmp::Reverse;

use super::*;
use crate::prefix::{non_reserved, Cidr, NON_RESERVED_TOTAL, RESERVED};

fn r(s: u32, e: u32) -> Range {
    Range::new(s, e).unwrap()
}

/// SplitMix64: tiny, deterministic, good enough for test data.
struct Rng(SplitMix64);

fn seeded(seed: u64) -> Rng {
    Rng(SplitMix64::new(seed))
}

impl Rng {
    fn next(&mut self) -> u64 {
        self.0.next_u64()
    }
    fn u32(&mut self) -> u32 {
        low_u32(self.next() >> 32)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// A random range: a CIDR of any length, or an arbitrary short/long range,
/// sometimes pinned to the ends of the space, sometimes inside `near`.
fn random_range(rng: &mut Rng, near: &[Range]) -> Range {
    let base = if !near.is_empty() && rng.below(3) == 0 {
        let p = near[usize::try_from(rng.below(near.len() as u64)).unwrap()];
        p.start.wrapping_add(low_u32(rng.below(p.len())))
    } else {
        match rng.below(8) {
            0 => 0,
            1 => u32::MAX - low_u32(rng.below(1024)),
            _ => rng.u32(),
        }
    };
    match rng.below(3) {
        0 => {
            let len = u8::try_from(rng.below(33)).unwrap();
            Cidr::new_masked(base, len).range()
        }
        1 => {
            let len = low_u32(rng.below(600));
            r(base, base.saturating_add(len))
        }
        _ => {
            let len = low_u32(rng.next() >> (32 + rng.below(32)));
            r(base, base.saturating_add(len))
        }
    }
}

fn random_ranges(rng: &mut Rng, n: usize) -> Vec<Range> {
    let mut v = Vec::with_capacity(n);
    for _ in 0..n {
        let x = random_range(rng, &v);
        v.push(x);
    }
    v
}

fn naive_contains(v: &[Range], a: u32) -> bool {
    v.iter().any(|x| x.contains(a))
}

/// The maximal run of the union holding `a`, by fixpoint over all ranges.
fn naive_covering(v: &[Range], a: u32) -> Option<Range> {
    let mut run = *v.iter().find(|x| x.contains(a))?;
    loop {
        let mut grown = false;
        for x in v {
            let touches = u64::from(x.start) <= u64::from(run.end) + 1
                && u64::from(run.start) <= u64::from(x.end) + 1;
            if touches && (x.start < run.start || x.end > run.end) {
                run = r(run.start.min(x.start), run.end.max(x.end));
                grown = true;
            }
        }
        if !grown {
            return Some(run);
        }
    }
}

/// Union size by a sweep over separately sorted starts and ends (a
/// different algorithm from the merge the implementation uses).
fn naive_count(v: &[Range]) -> u64 {
    let mut ev: Vec<(u64, i32)> = Vec::new();
    for x in v {
        ev.push((u64::from(x.start), 1));
        ev.push((u64::from(x.end) + 1, -1));
    }
    ev.sort_unstable();
    let (mut depth, mut prev, mut total) = (0i32, 0u64, 0u64);
    for (p, d) in ev {
        if depth > 0 {
            total += p - prev;
        }
        depth += d;
        prev = p;
    }
    total
}

/// Addresses worth probing: every edge ±1, the ends of the space, random.
fn probes(rng: &mut Rng, v: &[Range], extra: usize) -> Vec<u32> {
    let mut p = vec![0, 1, u32::MAX, u32::MAX - 1];
    for x in v {
        for a in [x.start, x.end] {
            p.extend([a.wrapping_sub(1), a, a.wrapping_add(1)]);
        }
        p.push(x.start & !0xFF);
        p.push(x.end | 0xFF);
        p.push(x.start.wrapping_add(low_u32(rng.below(x.len()))));
    }
    for _ in 0..extra {
        p.push(rng.u32());
    }
    p
}

fn check_set(v: &[Range], rng: &mut Rng) {
    let set = IntervalSet::from_ranges(v.iter().copied());
    // Canonical: sorted, disjoint, non-adjacent.
    for w in set.ranges().windows(2) {
        assert!(u64::from(w[0].end) + 1 < u64::from(w[1].start), "{w:?}");
    }
    assert_eq!(set.address_count(), naive_count(v));
    let idx = BitIndex::build(&set);
    assert_eq!(idx.address_count(), set.address_count());
    for a in probes(rng, v, 200) {
        let want = naive_contains(v, a);
        assert_eq!(set.contains(a), want, "IntervalSet {a:#x}");
        assert_eq!(idx.contains(a), want, "BitIndex {a:#x} in {v:?}");
        assert_eq!(set.covering(a), naive_covering(v, a), "covering {a:#x}");
    }
    assert_eq!(IntervalSet::from_bytes(&set.to_bytes()), Ok(set));
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
fn every_prefix_length_at_the_edges() {
    let mut rng = seeded(1);
    for len in 0..=32u8 {
        for base in [0, u32::MAX, 0x0A0B_0C0D, 0x8000_0000, rng.u32(), rng.u32()] {
            let c = Cidr::new_masked(base, len);
            let v = vec![c.range()];
            let set = IntervalSet::from_ranges(v.clone());
            assert_eq!(set.address_count(), c.size());
            let idx = BitIndex::build(&set);
            let cr = c.range();
            for a in [
                cr.start,
                cr.end,
                cr.start.wrapping_sub(1),
                cr.end.wrapping_add(1),
            ] {
                assert_eq!(idx.contains(a), c.contains(a), "/{len} {a:#x}");
                assert_eq!(set.contains(a), c.contains(a));
            }
            let mut k = KnownSet::new();
            k.insert(cr);
            assert_eq!(k.covering(cr.start), Some(cr));
            assert_eq!(k.covering(cr.end), Some(cr));
            let m = LpmMap::new(vec![(cr, len)]);
            assert_eq!(m.lookup(cr.start), Some(&len));
            assert_eq!(m.lookup(cr.end), Some(&len));
            if let Some(out) = cr.end.checked_add(1) {
                assert_eq!(m.lookup(out), None);
                assert!(!k.contains(out));
            }
        }
    }
}

#[test]
fn nested_prefixes_of_every_length() {
    // 0.0.0.0/0 ⊃ … ⊃ x/32 and 255.255.255.255/32 chains: LPM picks the deepest.
    for base in [0u32, u32::MAX, 0xC0A8_0101] {
        let items: Vec<(Range, u8)> = (0..=32u8)
            .map(|l| (Cidr::new_masked(base, l).range(), l))
            .collect();
        let m = LpmMap::new(items.clone());
        assert_eq!(m.lookup(base), Some(&32));
        for l in 0..32u8 {
            // An address inside /l but outside /(l+1).
            let a = base ^ (1u32 << (31 - u32::from(l)));
            assert_eq!(m.lookup(a), Some(&l), "base {base:#x} /{l}");
        }
        let set = IntervalSet::from_ranges(items.iter().map(|x| x.0));
        assert_eq!(set.ranges(), &[Range::ALL]);
        let idx = BitIndex::build(&set);
        assert!(idx.contains(0) && idx.contains(u32::MAX) && idx.contains(base));
    }
}

#[test]
fn adjacency_and_sub_24_pieces() {
    // Adjacent /25s merge to a /24; adjacent non-CIDR ranges merge too.
    let s = IntervalSet::from_ranges([r(0x0100_0000, 0x0100_007F), r(0x0100_0080, 0x0100_00FF)]);
    assert_eq!(s.ranges(), &[r(0x0100_0000, 0x0100_00FF)]);
    // Several pieces inside one /24, and runs crossing /24 and /18 edges.
    let v = vec![
        r(0x0200_0001, 0x0200_0001),
        r(0x0200_0003, 0x0200_0010),
        r(0x0200_00F0, 0x0200_0205),
        r(0x0200_3FFF, 0x0200_4000),
        r(0xFFFF_FF00, 0xFFFF_FFFE),
        r(0, 0),
    ];
    let set = IntervalSet::from_ranges(v.clone());
    let idx = BitIndex::build(&set);
    for a in probes(&mut seeded(2), &v, 0) {
        assert_eq!(idx.contains(a), naive_contains(&v, a), "{a:#x}");
    }
    assert!(!idx.contains(u32::MAX));
    assert!(idx.contains(0) && !idx.contains(1));
}

#[test]
fn union_minus_reserved_is_exact() {
    let nr = IntervalSet::from_ranges(non_reserved());
    let reserved = IntervalSet::from_ranges(RESERVED.iter().map(Cidr::range));
    assert_eq!(nr.address_count(), NON_RESERVED_TOTAL);
    assert_eq!(nr.union(&reserved).ranges(), &[Range::ALL]);
    assert!(nr.intersect(&reserved).is_empty());
    let all = IntervalSet::from_ranges([Range::ALL]);
    assert_eq!(all.subtract(&reserved), nr);
    assert_eq!(all.subtract(&nr), reserved);
    // Nested networks inside the space do not change the count.
    let nested: Vec<Range> = non_reserved()
        .iter()
        .flat_map(Range::to_cidrs)
        .flat_map(|c| {
            let r = c.range();
            [
                r,
                Cidr::new_masked(r.start, c.len().saturating_add(3)).range(),
            ]
        })
        .collect();
    assert_eq!(IntervalSet::from_ranges(nested), nr);
    let idx = BitIndex::build(&nr);
    assert_eq!(idx.address_count(), NON_RESERVED_TOTAL);
    for c in RESERVED {
        let x = c.range();
        assert!(!idx.contains(x.start) && !idx.contains(x.end));
        if x.start > 0 {
            assert!(idx.contains(x.start - 1) || crate::prefix::is_reserved(x.start - 1));
        }
    }
}

#[test]
fn bytes_round_trip_and_corruption() {
    let mut rng = seeded(3);
    for n in [0, 1, 5, 300] {
        let set = IntervalSet::from_ranges(random_ranges(&mut rng, n));
        let b = set.to_bytes();
        assert_eq!(b.len(), set.len() * 8);
        assert_eq!(IntervalSet::from_bytes(&b), Ok(set));
    }
    let enc = |v: &[(u32, u32)]| -> Vec<u8> {
        v.iter()
            .flat_map(|&(s, e)| s.to_le_bytes().into_iter().chain(e.to_le_bytes()))
            .collect()
    };
    assert!(IntervalSet::from_bytes(&[0; 7]).is_err());
    assert!(IntervalSet::from_bytes(&enc(&[(5, 4)])).is_err());
    assert!(
        IntervalSet::from_bytes(&enc(&[(10, 20), (0, 5)])).is_err(),
        "unsorted"
    );
    assert!(
        IntervalSet::from_bytes(&enc(&[(10, 20), (15, 30)])).is_err(),
        "overlap"
    );
    assert!(
        IntervalSet::from_bytes(&enc(&[(10, 20), (21, 30)])).is_err(),
        "adjacent"
    );
    assert!(IntervalSet::from_bytes(&enc(&[(10, 20), (22, 30)])).is_ok());
    let e = IntervalSet::from_bytes(&enc(&[(5, 4)]))
        .unwrap_err()
        .to_string();
    assert!(e.contains("corrupt"), "{e}");
}

#[test]
fn property_sets_against_naive() {
    let mut rng = seeded(0x5EED);
    for round in 0..300 {
        let n = [0, 1, 2, 5, 20, 80][round % 6];
        let v = random_ranges(&mut rng, n);
        check_set(&v, &mut rng);
    }
}

#[test]
fn property_large_set_against_naive() {
    // Enough ranges to exercise the radix-sort path and dense blocks.
    let mut rng = seeded(77);
    let v = random_ranges(&mut rng, 5000);
    let set = IntervalSet::from_ranges(v.clone());
    let mut sorted = v.clone();
    sorted.sort_unstable();
    let mut merged: Vec<Range> = Vec::new();
    for x in sorted {
        push_merge(&mut merged, x);
    }
    assert_eq!(set.ranges(), merged.as_slice());
    assert_eq!(set.address_count(), naive_count(&v));
    let idx = BitIndex::build(&set);
    for a in probes(&mut rng, &v[..300], 2000) {
        assert_eq!(idx.contains(a), set.contains(a), "{a:#x}");
    }
    for x in set.ranges() {
        for a in [
            x.start.wrapping_sub(1),
            x.start,
            x.end,
            x.end.wrapping_add(1),
        ] {
            assert_eq!(idx.contains(a), set.contains(a), "{a:#x}");
        }
    }
}

#[test]
fn set_algebra_against_naive() {
    let mut rng = seeded(11);
    for _ in 0..150 {
        let na = usize::try_from(rng.below(30)).unwrap();
        let va = random_ranges(&mut rng, na);
        let nb = usize::try_from(rng.below(30)).unwrap();
        let vb = random_ranges(&mut rng, nb);
        let (sa, sb) = (
            IntervalSet::from_ranges(va.clone()),
            IntervalSet::from_ranges(vb.clone()),
        );
        let (uni, int, dif) = (sa.union(&sb), sa.intersect(&sb), sa.subtract(&sb));
        let both: Vec<Range> = va.iter().chain(&vb).copied().collect();
        assert_eq!(uni, IntervalSet::from_ranges(both.clone()));
        for p in probes(&mut rng, &both, 50) {
            let (in_a, in_b) = (naive_contains(&va, p), naive_contains(&vb, p));
            assert_eq!(uni.contains(p), in_a || in_b);
            assert_eq!(int.contains(p), in_a && in_b);
            assert_eq!(dif.contains(p), in_a && !in_b);
            let want = match naive_covering(&va, p) {
                None => Some(p),
                Some(run) => run.end.checked_add(1),
            };
            assert_eq!(sa.next_uncovered(p), want, "next_uncovered {p:#x}");
        }
    }
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
fn property_known_set_against_naive() {
    let mut rng = seeded(0x00C0_FFEE);
    for round in 0..40 {
        let start = random_ranges(&mut rng, [0, 3, 30][round % 3]);
        let mut k =
            KnownSet::with_threshold(&IntervalSet::from_ranges(start.clone()), 1 + round % 7);
        let mut naive = start;
        for _ in 0..40 {
            let x = random_range(&mut rng, &naive);
            k.insert(x);
            naive.push(x);
            for a in probes(&mut rng, &naive[naive.len().saturating_sub(4)..], 8) {
                assert_eq!(k.contains(a), naive_contains(&naive, a), "{a:#x}");
                assert_eq!(k.covering(a), naive_covering(&naive, a), "{a:#x}");
            }
        }
        let want = IntervalSet::from_ranges(naive.clone());
        assert_eq!(k.len(), want.len());
        assert_eq!(k.to_set(), want);
        assert_eq!(k.is_empty(), naive.is_empty());
    }
}

#[test]
fn known_set_adaptive_threshold_flushes() {
    let mut k = KnownSet::new();
    for i in 0..3000u32 {
        k.insert(Cidr::new_masked(i << 10, 24).range());
    }
    assert!(k.overlay.len() <= MIN_OVERLAY);
    assert_eq!(k.len(), 3000);
    assert!(k.contains(2999 << 10) && !k.contains((2999 << 10) + 256));
    assert_eq!(k.covering(5 << 10), Some(r(5 << 10, (5 << 10) + 255)));
}

fn naive_lpm<V>(items: &[(Range, V)], a: u32) -> Option<&V> {
    items
        .iter()
        .enumerate()
        .filter(|(_, (x, _))| x.contains(a))
        .max_by_key(|(i, (x, _))| (Reverse(x.len()), *i))
        .map(|(_, (_, v))| v)
}

#[test]
fn lpm_ties_go_to_the_last_inserted() {
    let a = Cidr::new_masked(0x0A00_0000, 8).range();
    let m = LpmMap::new(vec![(a, "first"), (a, "second")]);
    assert_eq!(m.lookup(0x0A01_0203), Some(&"second"));
    let m = LpmMap::new(Vec::<(Range, u8)>::new());
    assert_eq!(m.lookup(0), None);
    assert!(m.is_empty());
    // A non-CIDR range smaller than an overlapping CIDR wins where it lies.
    let odd = r(0x0A00_0010, 0x0A00_0300);
    let m = LpmMap::new(vec![
        (odd, 1),
        (Cidr::new_masked(0x0A00_0000, 22).range(), 2),
    ]);
    assert_eq!(m.lookup(0x0A00_0100), Some(&1));
    assert_eq!(m.lookup(0x0A00_0301), Some(&2));
}

#[test]
fn property_lpm_against_naive() {
    let mut rng = seeded(0x1F);
    for round in 0..200 {
        let n = [1, 3, 10, 40, 150][round % 5];
        let ranges = random_ranges(&mut rng, n);
        let items: Vec<(Range, usize)> = ranges.iter().copied().zip(0..).collect();
        let m = LpmMap::new(items.clone());
        assert_eq!(m.len(), n);
        for a in probes(&mut rng, &ranges, 100) {
            assert_eq!(m.lookup(a), naive_lpm(&items, a), "{a:#x}");
        }
    }
}
