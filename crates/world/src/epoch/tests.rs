//! Aging: determinism, each kind of change, its signature in the
//! statistics diff, untouched blocks untouched, and the served answers.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use ipcrawl_core::delegated::{parse, Delegation, Status};
use ipcrawl_core::prefix::{fmt_addr, Cidr, Range};
use ipcrawl_core::rdap::Registry;

use super::*;
use crate::model::{Bootstrap, Model, BUNDLED_BOOTSTRAP};
use crate::render::{self, Bases};
use crate::{stats, Truth, World, WorldConfig};

/// Five registries, transfers in 1/8 and 200/8, about 12,000 blocks.
const SCOPE: [&str; 5] = [
    "1.0.0.0/8",
    "23.0.0.0/9",
    "41.0.0.0/8",
    "185.0.0.0/10",
    "200.0.0.0/8",
];
const SEED: u64 = 11;
const PARAMS: GenParams = GenParams { density: 1.0 };

fn scope() -> Vec<Cidr> {
    SCOPE.iter().map(|s| s.parse().unwrap()).collect()
}

fn bundled() -> &'static [Delegation] {
    static B: OnceLock<Vec<Delegation>> = OnceLock::new();
    B.get_or_init(ipcrawl_core::delegated::bundled)
}

fn build_from(delegations: &[Delegation], seed: u64) -> Model {
    Model::build(
        Bootstrap::parse(BUNDLED_BOOTSTRAP).unwrap(),
        &scope(),
        delegations,
        seed,
        PARAMS,
    )
    .unwrap()
}

fn at(seed: u64, epoch: u32) -> Model {
    age(build_from(bundled(), seed), seed, PARAMS, epoch)
}

/// Epochs 0..=3 of the test world, built once (by aging year by year).
fn epochs() -> &'static [Model] {
    static E: OnceLock<Vec<Model>> = OnceLock::new();
    E.get_or_init(|| (0..=3).map(|n| at(SEED, n)).collect())
}

/// Everything about a network that an answer or the statistics show.
type Key = (
    Range,
    Registry,
    Option<u32>,
    u8,
    Kind,
    String,
    String,
    Option<String>,
    String,
    String,
    u64,
    Option<Box<Record>>,
);

fn key(n: &Net) -> Key {
    (
        n.range,
        n.registry,
        n.parent,
        n.depth,
        n.kind,
        n.handle.clone(),
        n.name.clone(),
        n.cc.clone(),
        n.registered.clone(),
        n.changed.clone(),
        n.holder,
        n.record.clone(),
    )
}

fn keys(m: &Model) -> Vec<Key> {
    m.nets.iter().map(key).collect()
}

fn stats_of(m: &Model) -> Vec<Delegation> {
    let mut out = Vec::new();
    for r in Registry::ALL {
        let p = parse(&String::from_utf8(stats::render(m, r)).unwrap());
        assert_eq!(p.junk, 0, "{:?}", p.errors);
        out.extend(p.delegations);
    }
    out
}

/// What a refresh crawl compares: allocated/assigned records by (start,
/// size, status, holder id, date, registry).
type RecKey = (u32, u64, Status, Option<String>, Option<String>, Registry);

fn delegated(recs: &[Delegation]) -> BTreeSet<RecKey> {
    recs.iter()
        .filter(|d| d.status.is_delegated())
        .map(|d| {
            (
                d.range.start,
                d.range.len(),
                d.status,
                d.holder.clone(),
                d.date.clone(),
                d.registry,
            )
        })
        .collect()
}

/// The ranges of the records that differ between two epochs' statistics.
fn changed_records(a: &Model, b: &Model) -> Vec<Range> {
    let (x, y) = (delegated(&stats_of(a)), delegated(&stats_of(b)));
    let mut out: Vec<Range> = x
        .symmetric_difference(&y)
        .map(|k| Range::new(k.0, (u64::from(k.0) + k.1 - 1) as u32).unwrap())
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

#[test]
fn epoch_zero_is_the_world_as_built() {
    let built = build_from(bundled(), SEED);
    let cfg = WorldConfig {
        scope: scope(),
        seed: SEED,
        ..WorldConfig::default()
    };
    assert_eq!(cfg.epoch, 0);
    let m = cfg.model().unwrap();
    assert_eq!(keys(&m), keys(&built));
    assert_eq!((m.epoch, m.history.len()), (0, 0));
    let same = age(build_from(bundled(), SEED), SEED, PARAMS, 0);
    assert_eq!(keys(&same), keys(&built));
    // The answers are functions of the networks: a sample shows the bytes.
    let bases: Bases = std::array::from_fn(|i| format!("http://w/{i}/"));
    for i in (0..m.nets.len() as u32).step_by(13) {
        assert_eq!(
            render::network(&m, i, &bases, "q"),
            render::network(&built, i, &bases, "q")
        );
    }
    for r in Registry::ALL {
        assert_eq!(stats::render(&m, r), stats::render(&built, r));
    }
}

#[test]
fn deterministic_per_seed_and_epoch() {
    let e = epochs();
    let again = at(SEED, 2);
    assert_eq!(keys(&again), keys(&e[2]));
    assert_eq!(again.history, e[2].history);
    // Aging year by year or all at once is the same.
    let stepwise = age(e[1].clone(), SEED, PARAMS, 2);
    assert_eq!(keys(&stepwise), keys(&e[3]));
    assert_eq!(stepwise.history, e[3].history);
    // Another seed or another epoch is another world.
    assert_ne!(keys(&at(SEED + 1, 2)), keys(&e[2]));
    assert_ne!(keys(&e[3]), keys(&e[2]));
    for r in Registry::ALL {
        assert_eq!(stats::render(&again, r), stats::render(&e[2], r));
    }
    assert_eq!(e[3].epoch, 3);
    assert_eq!(epoch_date(3), "2029-08-21");
    let head = String::from_utf8(stats::render(&e[3], Registry::Ripe)).unwrap();
    assert!(head.starts_with("2|ripencc|"));
    assert!(
        head.lines().next().unwrap().contains("|20290821|"),
        "{head:.80}"
    );
}

#[test]
fn the_model_stays_laminar_and_sorted() {
    for m in &epochs()[1..] {
        for (i, n) in m.nets.iter().enumerate() {
            if i > 0 {
                let p = &m.nets[i - 1];
                assert!(
                    (p.range.start, Reverse(p.range.end)) < (n.range.start, Reverse(n.range.end)),
                    "order at {}",
                    n.handle
                );
            }
            if let Some(pi) = n.parent {
                let p = &m.nets[pi as usize];
                assert!(p.range.contains_range(&n.range) && p.range != n.range);
                assert_eq!((p.registry, n.depth), (n.registry, p.depth + 1));
                assert!(n.record.is_none());
            } else {
                assert_eq!(n.depth, 0);
                assert!(n.record.is_some());
            }
            assert_eq!(
                m.deepest(n.range.start).map(|d| {
                    let mut d = d;
                    while m.nets[d as usize].depth > n.depth {
                        d = m.nets[d as usize].parent.unwrap();
                    }
                    d
                }),
                Some(i as u32)
            );
        }
        // Handles are unique within a registry (LACNIC's CIDR handles aside).
        let mut seen = BTreeSet::new();
        for n in m.nets.iter().filter(|n| n.registry != Registry::Lacnic) {
            assert!(seen.insert((n.registry, n.handle.clone())), "{}", n.handle);
        }
    }
}

#[test]
fn each_kind_of_change_happens_at_realistic_rates() {
    let e = epochs();
    for y in 1..=3 {
        let log = &e[y].history[y - 1];
        assert_eq!(log.epoch, y as u32);
        let before = &e[y - 1];
        let blocks = before.nets.iter().filter(|n| n.depth == 0).count() as f64;
        let mut count: BTreeMap<ChangeKind, usize> = BTreeMap::new();
        for b in &log.blocks {
            *count.entry(b.kind).or_default() += 1;
            assert!(
                b.date > epoch_date(y as u32 - 1) && b.date <= log.date,
                "{}",
                b.date
            );
        }
        for k in ChangeKind::ALL {
            let n = count.get(&k).copied().unwrap_or(0) as f64;
            let (lo, hi) = match k {
                ChangeKind::Returned => (0.002, 0.009),
                ChangeKind::Transferred => (0.001, 0.006),
                ChangeKind::Renamed => (0.009, 0.022),
                ChangeKind::Reassigned => (0.004, 0.03),
                ChangeKind::New => (0.008, 0.02),
            };
            assert!(
                (lo..=hi).contains(&(n / blocks)),
                "epoch {y}: {} {n} of {blocks} blocks",
                k.name()
            );
        }
        assert!(!log.added.is_empty() && !log.removed.is_empty() && !log.changed.is_empty());
    }
}

#[test]
fn new_allocations_go_anywhere_in_epoch_zero_free_space() {
    let e = epochs();
    let free0 = stats::free_space(&e[0]);
    let mut unaligned = 0;
    let mut sizes = BTreeSet::new();
    for log in &e[3].history {
        for b in log.blocks.iter().filter(|b| b.kind == ChangeKind::New) {
            let r = b.registry_after.unwrap();
            assert!(
                free0
                    .iter()
                    .any(|(f, g)| *g == r && f.contains_range(&b.range)),
                "{} not in {r}'s epoch-0 free space",
                b.range
            );
            unaligned += usize::from(b.range.start % 65_536 != 0);
            sizes.insert(b.range.len());
        }
    }
    assert!(unaligned > 10, "{unaligned}");
    assert!(sizes.len() >= 4, "{sizes:?}");
}

/// Every change of an epoch shows in the statistics diff with its signature.
#[test]
fn every_change_shows_in_the_statistics_diff() {
    let e = epochs();
    for y in 1..=3 {
        let (a, b) = (stats_of(&e[y - 1]), stats_of(&e[y]));
        let find = |recs: &[Delegation], r: Range| {
            recs.iter()
                .find(|d| d.range == r && d.status.is_delegated())
                .cloned()
        };
        for c in &e[y].history[y - 1].blocks {
            let (old, new) = (find(&a, c.range), find(&b, c.range));
            match c.kind {
                ChangeKind::New => {
                    assert!(old.is_none());
                    let new = new.unwrap();
                    assert!(new.holder.is_some());
                    assert_eq!(new.date, Some(compact(&c.date)));
                    // Free before (reserved or available records cover it).
                    let free: u64 = a
                        .iter()
                        .filter(|d| !d.status.is_delegated())
                        .filter_map(|d| d.range.intersect(&c.range))
                        .map(|x| x.len())
                        .sum();
                    assert_eq!(free, c.range.len(), "{}", c.range);
                }
                ChangeKind::Returned => {
                    assert!(old.is_some() && new.is_none(), "{}", c.range);
                    assert!(
                        b.iter()
                            .any(|d| d.status == Status::Available
                                && d.range.contains_range(&c.range)),
                        "{} not available",
                        c.range
                    );
                }
                ChangeKind::Transferred => {
                    let (old, new) = (old.unwrap(), new.unwrap());
                    assert_ne!(old.registry, new.registry);
                    assert_eq!(Some(new.registry), c.registry_after);
                    assert_ne!(old.holder, new.holder);
                    assert_eq!(new.date, Some(compact(&c.date)));
                }
                ChangeKind::Renamed => {
                    let (old, new) = (old.unwrap(), new.unwrap());
                    assert_eq!((old.registry, &old.date), (new.registry, &new.date));
                    assert_ne!(old.holder, new.holder);
                }
                ChangeKind::Reassigned => {
                    let (old, new) = (old.unwrap(), new.unwrap());
                    assert_eq!((old.registry, &old.holder), (new.registry, &new.holder));
                    assert_ne!(old.date, new.date);
                    assert_eq!(new.date, Some(compact(&c.date)));
                }
            }
        }
    }
}

/// The networks of epoch N are those of epoch N − 1 outside the blocks whose
/// record changed, byte for byte, plus what those blocks hold now; and the
/// log lists exactly the differences.
#[test]
fn networks_change_only_under_changed_records() {
    let e = epochs();
    let bases: Bases = std::array::from_fn(|i| format!("http://w/{i}/"));
    for y in 1..=3 {
        let (a, b) = (&e[y - 1], &e[y]);
        let changed = changed_records(a, b);
        // Changed records do not overlap (each epoch's records are disjoint,
        // and a record of one epoch overlapping one of the other is changed).
        let touched = |r: &Range| {
            let i = changed.partition_point(|c| c.end < r.start);
            changed.get(i).is_some_and(|c| c.start <= r.end)
                || changed[..i]
                    .iter()
                    .rev()
                    .take(2)
                    .any(|c| c.intersect(r).is_some())
        };
        let index = |m: &Model| -> BTreeMap<Range, u32> {
            m.nets
                .iter()
                .enumerate()
                .map(|(i, n)| (n.range, i as u32))
                .collect()
        };
        let (ia, ib) = (index(a), index(b));
        let mut outside = 0;
        let parent_key = |m: &Model, n: &Net| n.parent.map(|p| key(&m.nets[p as usize]));
        for (r, &i) in &ia {
            if touched(r) {
                continue;
            }
            let &j = ib
                .get(r)
                .unwrap_or_else(|| panic!("{r} vanished outside changed records"));
            let (x, z) = (&a.nets[i as usize], &b.nets[j as usize]);
            // An answer is a function of the network and its parent.
            let mut kx = key(x);
            let mut kz = key(z);
            (kx.2, kz.2) = (None, None);
            assert_eq!(kx, kz, "{r}");
            let (px, pz) = (parent_key(a, x), parent_key(b, z));
            assert_eq!(px.map(|k| (k.0, k.5)), pz.map(|k| (k.0, k.5)), "{r}");
            if outside % 17 == 0 {
                assert_eq!(
                    render::network(a, i, &bases, "q"),
                    render::network(b, j, &bases, "q"),
                    "{r}"
                );
            }
            outside += 1;
        }
        assert!(ib.keys().filter(|r| !touched(r)).count() == outside);
        // The log is the exact difference.
        let log = &b.history[y - 1];
        let added: BTreeSet<Range> = ib.keys().filter(|r| !ia.contains_key(r)).copied().collect();
        let removed: BTreeSet<Range> = ia.keys().filter(|r| !ib.contains_key(r)).copied().collect();
        assert_eq!(added, log.added.iter().map(|v| v.range).collect());
        assert_eq!(removed, log.removed.iter().map(|v| v.range).collect());
        let differ: BTreeSet<Range> = ia
            .iter()
            .filter_map(|(r, &i)| {
                let &j = ib.get(r)?;
                let (x, z) = (&a.nets[i as usize], &b.nets[j as usize]);
                let parent =
                    |m: &Model, n: &Net| n.parent.map(|p| m.nets[p as usize].handle.clone());
                let same = (
                    x.registry,
                    &x.handle,
                    &x.name,
                    x.kind,
                    &x.cc,
                    &x.registered,
                    &x.changed,
                    x.holder,
                ) == (
                    z.registry,
                    &z.handle,
                    &z.name,
                    z.kind,
                    &z.cc,
                    &z.registered,
                    &z.changed,
                    z.holder,
                ) && parent(a, x) == parent(b, z);
                (!same).then_some(*r)
            })
            .collect();
        assert_eq!(differ, log.changed.iter().map(|(v, _)| v.range).collect());
        // And every changed record is a logged block.
        let logged: BTreeSet<Range> = log.blocks.iter().map(|c| c.range).collect();
        assert!(
            changed.iter().all(|r| logged.contains(r)),
            "unlogged record change"
        );
    }
}

/// Rebuilt from its own statistics, an aged world has the same top-level
/// networks, and the same subtree under every block whose record is the
/// epoch-0 one.
#[test]
fn aged_statistics_rebuild_the_same_top_level_world() {
    let e = epochs();
    let m = &e[3];
    let again = build_from(&stats_of(m), SEED);
    type Top = (
        Range,
        Registry,
        Option<String>,
        String,
        u64,
        Option<Box<Record>>,
    );
    let tops = |m: &Model| -> Vec<Top> {
        m.nets
            .iter()
            .filter(|n| n.depth == 0)
            .map(|n| {
                (
                    n.range,
                    n.registry,
                    n.cc.clone(),
                    n.name.clone(),
                    n.holder,
                    n.record.clone(),
                )
            })
            .collect()
    };
    assert_eq!(tops(&again), tops(m));
    let original: BTreeSet<RecKey> = delegated(&stats_of(&e[0]));
    let subtree = |m: &Model, start: u32| -> Vec<Key> {
        let i = m
            .nets
            .iter()
            .position(|n| n.depth == 0 && n.range.start == start)
            .unwrap();
        let mut out = vec![key(&m.nets[i])];
        out.extend(m.nets[i + 1..].iter().take_while(|n| n.depth > 0).map(key));
        // Parent indices are positions in the whole list: make them relative.
        for k in &mut out {
            k.2 = k.2.map(|p| p - i as u32);
        }
        out
    };
    let mut same = 0;
    for d in stats_of(m).iter().filter(|d| d.status.is_delegated()) {
        let k = (
            d.range.start,
            d.range.len(),
            d.status,
            d.holder.clone(),
            d.date.clone(),
            d.registry,
        );
        if original.contains(&k) {
            assert_eq!(subtree(&again, d.range.start), subtree(m, d.range.start));
            same += 1;
        }
    }
    assert!(same > 1000, "{same}");
    for r in Registry::ALL {
        let body = |m: &Model| {
            String::from_utf8(stats::render(m, r))
                .unwrap()
                .lines()
                .filter(|l| !l.starts_with('#'))
                .skip(2)
                .map(str::to_string)
                .collect::<Vec<_>>()
        };
        assert!(body(&again) == body(m), "{r}: the records are a fixpoint");
    }
}

/// The truth carries the history: who held a block at epoch 0.
#[test]
fn truth_tells_who_held_a_block_at_epoch_zero() {
    let e = epochs();
    let t = Truth::compute(&e[3], SEED, 1.0, [true, true, false, false, false]);
    assert_eq!((t.epoch, t.date.as_str()), (3, "2029-08-21"));
    assert_eq!(t.epochs.len(), 3);
    let v = serde_json::to_value(&t).unwrap();
    assert!(v["epochs"][0]["blocks"].as_array().unwrap().len() > 10);
    let first = |kind: &str| {
        t.epochs
            .iter()
            .flat_map(|x| &x.blocks)
            .find(|b| b.change == kind)
            .unwrap()
            .clone()
    };
    for kind in ["transferred", "renamed", "returned"] {
        let b = first(kind);
        let start = ipcrawl_core::prefix::parse_addr_lenient(&b.start).unwrap();
        // The block's first change: its holder then is the epoch-0 one.
        let was = e[0]
            .nets
            .iter()
            .find(|n| n.depth == 0 && n.range.start == start)
            .unwrap();
        let earliest = t
            .epochs
            .iter()
            .flat_map(|x| &x.blocks)
            .find(|x| x.start == b.start)
            .unwrap();
        let h = earliest.holder_before.as_ref().unwrap();
        assert_eq!(h.name, was.name, "{kind} {}", b.start);
        assert_eq!(earliest.registry_before, Some(was.registry));
    }
    assert_eq!(
        Truth::compute(&e[0], SEED, 1.0, [true, true, false, false, false])
            .epochs
            .len(),
        0
    );
}

/// Over real HTTP: a transferred block is answered by its new holder and
/// redirected by the old one; a returned one is gone; a renamed one has its
/// new name.
#[test]
fn aged_world_serves_the_changes() {
    let world = World::start(WorldConfig {
        scope: scope(),
        seed: SEED,
        epoch: 2,
        ..WorldConfig::default()
    })
    .unwrap();
    let m = world.model();
    assert_eq!(keys(m), keys(&epochs()[2]));
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into();
    let get = |r: Registry, a: u32| {
        let mut resp = agent
            .get(&format!("{}ip/{}", world.base_url(r), fmt_addr(a)))
            .call()
            .unwrap();
        let loc = resp
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .map(ToString::to_string);
        (
            resp.status().as_u16(),
            loc,
            resp.body_mut().read_to_string().unwrap(),
        )
    };
    let blocks: Vec<&BlockChange> = m.history.iter().flat_map(|l| &l.blocks).collect();
    let later = |b: &BlockChange| blocks.iter().any(|x| x.range == b.range && x.date > b.date);
    let t = blocks
        .iter()
        .find(|b| b.kind == ChangeKind::Transferred && !later(b))
        .unwrap();
    let (from, to) = (t.registry_before.unwrap(), t.registry_after.unwrap());
    let (status, _, body) = get(to, t.range.start);
    assert_eq!(status, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["startAddress"], fmt_addr(t.range.start).as_str());
    let (status, loc, _) = get(from, t.range.start);
    assert_eq!(status, 301);
    assert!(loc.unwrap().starts_with(&world.base_url(to)));
    let r = blocks
        .iter()
        .find(|b| b.kind == ChangeKind::Returned && !later(b))
        .unwrap();
    let owner = m.bootstrap.registry(r.range.start).unwrap();
    let (status, _, body) = get(owner, r.range.start);
    assert!(
        status == 404 || body.contains("\"administrative\"") || body.contains("IANA"),
        "{status} {body:.200}"
    );
    let n = blocks
        .iter()
        .find(|b| b.kind == ChangeKind::Renamed && !later(b))
        .unwrap();
    let reg = n.registry_after.unwrap();
    let (status, _, body) = get(reg, n.range.start);
    assert_eq!(status, 200);
    let now = &n.holder_after.as_ref().unwrap().1;
    if reg != Registry::Lacnic && reg != Registry::Afrinic {
        assert!(
            body.contains(&format!("\"{now}\"")),
            "{now} not in {body:.300}"
        );
    }
    assert!(body.contains(&n.date), "last changed {}", n.date);
    let bytes = world.stats(to);
    let recs = parse(&String::from_utf8(bytes).unwrap()).delegations;
    assert!(recs.iter().any(|d| d.range == t.range && d.registry == to));
    world.shutdown();
}
