//! The world's statistics: real format, the real parser, round trips.

use std::sync::OnceLock;

use ipcrawl_core::delegated::{parse, parse_file, Delegation, Status};
use ipcrawl_core::prefix::{Cidr, Range};
use ipcrawl_core::rdap::Registry;

use super::*;
use crate::model::{Bootstrap, GenParams, Model, BUNDLED_BOOTSTRAP};

const SCOPE: [&str; 6] = [
    "1.0.0.0/8",
    "23.128.0.0/10",
    "41.0.0.0/9",
    "185.0.0.0/12",
    "200.0.0.0/10",
    "45.6.0.0/15",
];

fn scope() -> Vec<Cidr> {
    SCOPE.iter().map(|s| s.parse().unwrap()).collect()
}

fn bundled() -> &'static [Delegation] {
    static B: OnceLock<Vec<Delegation>> = OnceLock::new();
    B.get_or_init(ipcrawl_core::delegated::bundled)
}

fn build(delegations: &[Delegation]) -> Model {
    Model::build(
        Bootstrap::parse(BUNDLED_BOOTSTRAP).unwrap(),
        &scope(),
        delegations,
        5,
        GenParams { density: 1.0 },
    )
    .unwrap()
}

fn world() -> &'static Model {
    static M: OnceLock<Model> = OnceLock::new();
    M.get_or_init(|| build(bundled()))
}

fn all_records(m: &Model) -> Vec<Delegation> {
    let mut out = Vec::new();
    for r in Registry::ALL {
        let text = String::from_utf8(render(m, r)).unwrap();
        let p = parse(&text);
        assert_eq!(p.junk, 0, "{r}: {:?}", p.errors);
        out.extend(p.delegations);
    }
    out
}

#[test]
fn files_have_the_real_shape_and_parse() {
    let m = world();
    for r in Registry::ALL {
        let text = String::from_utf8(render(m, r)).unwrap();
        let lines: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
        let head: Vec<&str> = lines[0].split('|').collect();
        assert_eq!(head.len(), 7, "{}", lines[0]);
        assert_eq!(head[1], stats_name(r));
        // APNIC's serial is the file's date (its end date the day before).
        let date = if r == Registry::Apnic {
            head[2]
        } else {
            head[5]
        };
        assert_eq!(date, "20260821", "{r}: the epoch-0 date");
        let p = parse(&text);
        assert_eq!(p.junk, 0, "{r}: {:?}", p.errors);
        assert_eq!(head[3], p.delegations.len().to_string());
        assert_eq!(
            lines[1],
            format!("{}|*|ipv4|*|{}|summary", stats_name(r), p.delegations.len())
        );
        assert!(p.delegations.iter().all(|d| d.registry == r));
        // Sorted, disjoint.
        for w in p.delegations.windows(2) {
            assert!(
                w[0].range.end < w[1].range.start,
                "{r}: {:?} {:?}",
                w[0],
                w[1]
            );
        }
        // Every record line has the 8 fields of the extended format.
        for l in &lines[2..] {
            assert_eq!(l.split('|').count(), 8, "{l}");
        }
    }
    assert_eq!(
        file_name(Registry::Ripe),
        "delegated-ripencc-extended-latest"
    );
    assert_eq!(
        url_path(Registry::Apnic),
        "stats/apnic/delegated-apnic-extended-latest"
    );
}

#[test]
fn records_agree_with_the_model() {
    let m = world();
    let recs = all_records(m);
    // Every top-level network is a delegated record of its holder registry.
    let tops: Vec<_> = m.nets.iter().filter(|n| n.depth == 0).collect();
    let delegated: Vec<&Delegation> = recs.iter().filter(|d| d.status.is_delegated()).collect();
    assert_eq!(tops.len(), delegated.len());
    let mut sorted = delegated.clone();
    sorted.sort_by_key(|d| d.range.start);
    for (n, d) in tops.iter().zip(&sorted) {
        assert_eq!((n.range, n.registry, &n.cc), (d.range, d.registry, &d.cc));
    }
    // Free space is exactly the scope minus the top-level networks, each
    // piece listed by the registry the bootstrap gives it to.
    for d in recs.iter().filter(|d| !d.status.is_delegated()) {
        assert!(m.scope.iter().any(|s| s.contains_range(&d.range)), "{d:?}");
        assert_eq!(m.bootstrap.registry(d.range.start), Some(d.registry));
        for x in [d.range.start, d.range.end] {
            assert!(m.deepest(x).is_none(), "{d:?} is covered");
        }
    }
    let scope_total: u64 = m.scope.iter().map(Range::len).sum();
    let in_scope = |d: &&Delegation| {
        m.scope
            .iter()
            .filter_map(|s| s.intersect(&d.range))
            .map(|x| x.len())
            .sum::<u64>()
    };
    let listed: u64 = recs.iter().map(|d| in_scope(&d)).sum();
    assert_eq!(listed, scope_total, "records tile the scope");
    // The input's reserved space is published as reserved; the rest as available.
    let reserved: u64 = recs
        .iter()
        .filter(|d| d.status == Status::Reserved)
        .map(|d| d.range.len())
        .sum();
    assert!(
        reserved > 0,
        "the AFRINIC and LACNIC snapshot files list reserved space"
    );
    assert!(recs.iter().any(|d| d.status == Status::Available));
    assert!(recs
        .iter()
        .filter(|d| d.status == Status::Reserved)
        .all(|d| m.reserved.iter().any(|x| x.contains_range(&d.range))));
}

/// The world rebuilt from its own statistics files is the same world.
#[test]
fn rebuilt_from_its_own_statistics_is_the_same_world() {
    let m = world();
    let dir = std::env::temp_dir().join(format!("ipcrawl-world-stats-{}", std::process::id()));
    let paths = write_dir(m, &dir).unwrap();
    assert_eq!(paths.len(), 5);
    let mut recs = Vec::new();
    for p in &paths {
        let parsed = parse_file(p).unwrap();
        assert_eq!(parsed.junk, 0);
        recs.extend(parsed.delegations);
    }
    std::fs::remove_dir_all(&dir).unwrap();
    let again = build(&recs);
    assert_eq!(again.nets.len(), m.nets.len());
    for (a, b) in m.nets.iter().zip(&again.nets) {
        assert_eq!(
            (&a.range, a.registry, a.parent, a.depth, a.kind, &a.handle),
            (&b.range, b.registry, b.parent, b.depth, b.kind, &b.handle)
        );
        assert_eq!(
            (
                &a.name,
                &a.cc,
                &a.registered,
                &a.changed,
                a.holder,
                &a.record
            ),
            (
                &b.name,
                &b.cc,
                &b.registered,
                &b.changed,
                b.holder,
                &b.record
            ),
            "{}",
            a.handle
        );
    }
    for r in Registry::ALL {
        assert_eq!(render(&again, r), render(m, r), "{r}");
    }
}
