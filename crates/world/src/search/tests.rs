//! The relations against brute force over the network list, on a built world
//! (with transfers) and on RIPE NCC's own test tree.

use ipcrawl_core::prefix::{Cidr, Range};
use ipcrawl_core::rdap::Registry;
use ipcrawl_core::rng::SplitMix64;

use super::*;
use crate::model::{self, Bootstrap, GenParams, Kind, Model, Net};

fn world() -> Model {
    let scope: Vec<Cidr> = [
        "1.178.0.0/16",
        "23.128.0.0/15",
        "41.0.0.0/15",
        "185.0.0.0/13",
        "200.0.0.0/15",
    ]
    .iter()
    .map(|s| s.parse().unwrap())
    .collect();
    Model::build(
        Bootstrap::parse(model::BUNDLED_BOOTSTRAP).unwrap(),
        &scope,
        &ipcrawl_core::delegated::bundled(),
        11,
        GenParams { density: 1.5 },
    )
    .unwrap()
}

/// The brute-force relations of one registry's networks.
pub(super) struct Brute<'a> {
    m: &'a Model,
    /// Per network: whether its direct children (found by brute force) cover it.
    covered: Vec<bool>,
}

fn strictly(outer: Range, inner: Range) -> bool {
    outer.contains_range(&inner) && outer != inner
}

impl<'a> Brute<'a> {
    pub(super) fn new(m: &'a Model) -> Brute<'a> {
        let n = m.nets.len();
        let mut child_sum = vec![0u64; n];
        for c in &m.nets {
            // The smallest strict container of c is its parent.
            let parent = (0..n)
                .filter(|&j| strictly(m.nets[j].range, c.range))
                .min_by_key(|&j| m.nets[j].range.len());
            if let Some(p) = parent {
                child_sum[p] += c.range.len();
            }
        }
        let covered = (0..n)
            .map(|j| child_sum[j] == m.nets[j].range.len())
            .collect();
        Brute { m, covered }
    }

    fn of(&self, reg: Registry) -> impl Iterator<Item = (u32, &Net)> + '_ {
        self.m
            .nets
            .iter()
            .enumerate()
            .filter(move |(_, n)| n.registry == reg)
            .map(|(i, n)| (i as u32, n))
    }

    pub(super) fn up(&self, reg: Registry, k: Range) -> Option<u32> {
        self.of(reg)
            .filter(|(_, n)| strictly(n.range, k))
            .min_by_key(|(_, n)| n.range.len())
            .map(|(i, _)| i)
    }

    pub(super) fn top(&self, reg: Registry, k: Range, or_itself: bool) -> Option<u32> {
        self.of(reg)
            .filter(|(_, n)| strictly(n.range, k) || (or_itself && n.range == k))
            .max_by_key(|(_, n)| n.range.len())
            .map(|(i, _)| i)
    }

    pub(super) fn down(&self, reg: Registry, k: Range) -> Vec<u32> {
        let inside: Vec<(u32, Range)> = self
            .of(reg)
            .filter(|(_, n)| strictly(k, n.range))
            .map(|(i, n)| (i, n.range))
            .collect();
        inside
            .iter()
            .filter(|(_, r)| !inside.iter().any(|(_, o)| strictly(*o, *r)))
            .map(|(i, _)| *i)
            .collect()
    }

    pub(super) fn bottom(&self, reg: Registry, k: Range) -> Vec<u32> {
        self.of(reg)
            .filter(|(i, n)| k.contains_range(&n.range) && !self.covered[*i as usize])
            .map(|(i, _)| i)
            .collect()
    }

    /// Per address: the holder of its top-level network, else the bootstrap's.
    pub(super) fn holders(&self, k: Range) -> [bool; 5] {
        let mut set = [false; 5];
        if let Some(i) = self
            .m
            .nets
            .iter()
            .enumerate()
            .filter(|(_, n)| n.range.contains_range(&k))
            .min_by_key(|(_, n)| n.range.len())
            .map(|(i, _)| i)
        {
            set[self.m.nets[i].registry.index()] = true;
            return set;
        }
        for a in u64::from(k.start)..=u64::from(k.end) {
            let a = a as u32;
            let r = match self.m.deepest(a) {
                Some(i) => Some(self.m.nets[self.m.root(i) as usize].registry),
                None => self.m.bootstrap.registry(a),
            };
            if let Some(r) = r {
                set[r.index()] = true;
            }
        }
        set
    }
}

/// Keys around every 11th network: its range, its covering prefix, the /16
/// and /20 holding it, its first address, and a range straddling its end.
fn keys(m: &Model) -> Vec<Range> {
    let mut rng = SplitMix64::new(5);
    let mut out = Vec::new();
    for n in m.nets.iter().step_by(11) {
        let r = n.range;
        out.push(r);
        out.push(r.covering_cidr().range());
        out.push(Cidr::new_masked(r.start, 16).range());
        out.push(Cidr::new_masked(r.start, 20).range());
        out.push(Range::new(r.start, r.start).unwrap());
        let end = r.end.saturating_add(rng.range(1, 300) as u32);
        out.push(Range::new(r.start + (r.len() / 2) as u32, end).unwrap());
    }
    out.push("1.178.0.0/16".parse::<Cidr>().unwrap().range());
    out.push("185.0.0.0/13".parse::<Cidr>().unwrap().range());
    out.push("10.0.0.0/16".parse::<Cidr>().unwrap().range());
    out.sort();
    out.dedup();
    out
}

#[test]
fn relations_match_brute_force_on_a_world_with_transfers() {
    let m = world();
    let b = Brute::new(&m);
    let keys = keys(&m);
    assert!(keys.len() > 300, "{}", keys.len());
    let mut seen = [0usize; 4];
    for &k in &keys {
        for reg in Registry::ALL {
            assert_eq!(up(&m, reg, k), b.up(reg, k), "up {k} {reg}");
            assert_eq!(
                top(&m, reg, k, false),
                b.top(reg, k, false),
                "top {k} {reg}"
            );
            assert_eq!(top(&m, reg, k, true), b.top(reg, k, true), "top= {k} {reg}");
            let d = down(&m, reg, k, usize::MAX);
            assert_eq!(d.nets, b.down(reg, k), "down {k} {reg}");
            assert!(!d.more);
            let bt = bottom(&m, reg, k, usize::MAX);
            assert_eq!(bt.nets, b.bottom(reg, k), "bottom {k} {reg}");
            seen[0] += usize::from(up(&m, reg, k).is_some());
            seen[1] += usize::from(d.nets.len() > 1);
            seen[2] += usize::from(bt.nets.len() > 1);
            seen[3] += usize::from(bt.nets.iter().any(|&i| m.nets[i as usize].range == k));
        }
    }
    assert!(
        seen.iter().all(|&s| s > 20),
        "each case is exercised: {seen:?}"
    );
}

#[test]
fn holders_match_brute_force() {
    let m = world();
    let b = Brute::new(&m);
    let mut kinds = [0usize; 3];
    for k in keys(&m).into_iter().filter(|k| k.len() <= 1 << 16) {
        let h = holders(&m, k);
        assert_eq!(h, b.holders(k), "{k}");
        kinds[h.iter().filter(|&&x| x).count().min(2)] += 1;
    }
    assert!(
        kinds.iter().all(|&n| n > 0),
        "none, one, several: {kinds:?}"
    );
}

#[test]
fn limits_keep_the_first_results_and_say_there_are_more() {
    let m = world();
    let key: Range = "185.0.0.0/13".parse::<Cidr>().unwrap().range();
    let all = bottom(&m, Registry::Ripe, key, usize::MAX).nets;
    assert!(all.len() > 20, "{}", all.len());
    let cut = bottom(&m, Registry::Ripe, key, 10);
    assert_eq!(cut.nets, all[..10]);
    assert!(cut.more);
    let exact = bottom(&m, Registry::Ripe, key, all.len());
    assert_eq!((exact.nets.len(), exact.more), (all.len(), false));
    let d = down(&m, Registry::Ripe, key, usize::MAX).nets;
    let cut = down(&m, Registry::Ripe, key, 3);
    assert_eq!((&cut.nets[..], cut.more), (&d[..3], true));
}

fn net(range: &str, parent: Option<u32>, depth: u8) -> Net {
    let r = ipcrawl_core::prefix::parse_range_lenient(range).unwrap();
    Net {
        range: r,
        registry: Registry::Ripe,
        parent,
        depth,
        kind: Kind::Allocation,
        handle: r.to_string(),
        name: "TEST".into(),
        cc: None,
        registered: "2020-01-01".into(),
        changed: "2020-01-02".into(),
        holder: 1,
        filled: false,
        record: None,
    }
}

/// RIPE NCC's relation test tree (`RdapControllerTestIntegration`
/// `loadIpv4RelationTreeExample`, moved from 192.0.2.0/24 to 193.0.2.0/24):
/// a /24 wholly covered by its /25 and two /26s; the /25 holds a /28 holding
/// a /32.
fn ripe_tree() -> Model {
    let bootstrap =
        Bootstrap::parse(r#"{"services": [[["193.0.0.0/8"], ["https://rdap.db.ripe.net/"]]]}"#)
            .unwrap();
    let mut nets = vec![
        net("193.0.2.0 - 193.0.2.255", None, 0),
        net("193.0.2.0 - 193.0.2.127", Some(0), 1),
        net("193.0.2.0 - 193.0.2.15", Some(1), 2),
        net("193.0.2.0 - 193.0.2.0", Some(2), 3),
        net("193.0.2.128 - 193.0.2.191", Some(0), 1),
        net("193.0.2.192 - 193.0.2.255", Some(0), 1),
    ];
    model::mark_filled(&mut nets);
    Model {
        bootstrap,
        scope: vec![Range::new(0xC100_0000, 0xC1FF_FFFF).unwrap()],
        nets,
        overlaps_dropped: 0,
        reserved: Vec::new(),
        epoch: 0,
        history: Vec::new(),
    }
}

#[test]
fn ripe_ncc_test_tree_gives_ripe_ncc_answers() {
    let m = ripe_tree();
    let r = |s: &str| ipcrawl_core::prefix::parse_range_lenient(s).unwrap();
    let ripe = Registry::Ripe;
    let slash24 = r("193.0.2.0 - 193.0.2.255");
    // bottom(/24): the /32, the /28 and the /25 (gaps), both /26s; not the /24.
    let handles = |f: Found| -> Vec<String> {
        f.nets
            .iter()
            .map(|&i| m.nets[i as usize].handle.clone())
            .collect()
    };
    assert_eq!(
        handles(bottom(&m, ripe, slash24, usize::MAX)),
        [
            "193.0.2.0 - 193.0.2.127",
            "193.0.2.0 - 193.0.2.15",
            "193.0.2.0 - 193.0.2.0",
            "193.0.2.128 - 193.0.2.191",
            "193.0.2.192 - 193.0.2.255"
        ]
    );
    assert!(m.nets[0].filled && !m.nets[1].filled && !m.nets[3].filled);
    assert_eq!(
        handles(down(&m, ripe, slash24, usize::MAX)),
        [
            "193.0.2.0 - 193.0.2.127",
            "193.0.2.128 - 193.0.2.191",
            "193.0.2.192 - 193.0.2.255"
        ]
    );
    // up of the /28 is the /25; top of it the /24; the /24 has neither.
    let slash28 = r("193.0.2.0 - 193.0.2.15");
    assert_eq!(up(&m, ripe, slash28), Some(1));
    assert_eq!(top(&m, ripe, slash28, false), Some(0));
    assert_eq!(up(&m, ripe, slash24), None);
    assert_eq!(top(&m, ripe, slash24, false), None);
    assert_eq!(top(&m, ripe, slash24, true), Some(0));
    // An address is a one-address range: up of 193.0.2.7 is the /28 holding it.
    assert_eq!(up(&m, ripe, r("193.0.2.7 - 193.0.2.7")), Some(2));
    // up of the /32 network itself is its parent /28.
    assert_eq!(up(&m, ripe, r("193.0.2.0 - 193.0.2.0")), Some(2));
    // Nothing of another registry's.
    assert_eq!(up(&m, Registry::Arin, slash28), None);
    assert!(bottom(&m, Registry::Arin, slash24, 9).nets.is_empty());
    assert_eq!(holders(&m, slash24), [false, true, false, false, false]);
    assert_eq!(
        holders(&m, r("10.0.0.0 - 10.0.0.255")),
        [false; 5],
        "nobody's space"
    );
}

#[test]
fn relation_names_round_trip() {
    for r in Relation::ALL {
        assert_eq!(Relation::parse(r.name()), Some(r));
    }
    assert_eq!(Relation::parse("up"), None, "draft names are not accepted");
    assert_eq!(Relation::parse("rdap-upper"), None);
}
