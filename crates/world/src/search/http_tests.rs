//! RIR search over real HTTP on 127.0.0.1: every relation against brute
//! force, the real ARIN answers' shapes, limits, help, 501s, redirects, bad
//! keys, counters; every returned network goes through the real parser.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::OnceLock;

use serde_json::Value;

use ipcrawl_core::prefix::{fmt_addr, Cidr, Range};
use ipcrawl_core::rdap::parse::{parse_error_body, parse_network};
use ipcrawl_core::rdap::Registry;

use super::tests::Brute;
use super::{OverLimit, Relation, SearchLimit};
use crate::tests::{cidrs, get, json, Got};
use crate::{World, WorldConfig, WorldHandle};

/// Transfers inside APNIC's 1/8 (RIPE NCC and ARIN blocks) and ARIN blocks in 185/8.
const SCOPE: [&str; 4] = [
    "1.178.0.0/16",
    "23.128.0.0/15",
    "185.0.0.0/14",
    "41.0.0.0/16",
];

/// ARIN, RIPE NCC and (to see a server that neither refuses mixed keys nor
/// is ARIN) APNIC serve search.
fn shared() -> &'static WorldHandle {
    static W: OnceLock<WorldHandle> = OnceLock::new();
    W.get_or_init(|| {
        World::start(WorldConfig {
            scope: cidrs(&SCOPE),
            seed: 21,
            search: [true, true, true, false, false],
            ..WorldConfig::default()
        })
        .unwrap()
    })
}

fn url(w: &WorldHandle, reg: Registry, rel: Relation, key: &str) -> String {
    format!("{}ips/rirSearch1/{}/{key}", w.base_url(reg), rel.name())
}

/// `a.b.c.d` for a one-address range, `a.b.c.d/len` for a CIDR.
fn key_text(k: Range) -> String {
    if k.start == k.end {
        return fmt_addr(k.start);
    }
    k.as_cidr().expect("a CIDR key").to_string()
}

fn results(v: &Value) -> &Vec<Value> {
    v["ipSearchResults"].as_array().expect("ipSearchResults")
}

fn conformance(v: &Value) -> BTreeSet<String> {
    v["rdapConformance"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect()
}

fn keys_of(v: &Value) -> BTreeSet<String> {
    v.as_object().unwrap().keys().cloned().collect()
}

fn fixture(name: &str) -> Value {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/rdap-search")
        .join(name);
    serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap()
}

/// What the server must answer, from brute force.
#[derive(Debug, PartialEq, Eq)]
enum Want {
    Redirect(Registry),
    Refused,
    Nothing,
    Net(u32),
    Admin(Cidr),
    Nets(Vec<u32>),
}

fn admin(w: &WorldHandle, k: Range) -> Option<Cidr> {
    let m = w.model();
    let b = m.bootstrap.block(k.start)?;
    (m.bootstrap.registry(k.start) == Some(Registry::Arin)
        && b.range().contains_range(&k)
        && b.range() != k)
        .then_some(b)
}

fn want(w: &WorldHandle, b: &Brute, reg: Registry, rel: Relation, k: Range, active: bool) -> Want {
    want_held(w, b, b.holders(k), reg, rel, k, active)
}

/// [`want`] with the key's holders already known.
fn want_held(
    w: &WorldHandle,
    b: &Brute,
    held: [bool; 5],
    reg: Registry,
    rel: Relation,
    k: Range,
    active: bool,
) -> Want {
    let count = held.iter().filter(|&&h| h).count();
    if count == 1 && !held[reg.index()] {
        return Want::Redirect(Registry::ALL.into_iter().find(|r| held[r.index()]).unwrap());
    }
    if count != 1 && reg == Registry::Ripe {
        return Want::Refused;
    }
    if !held[reg.index()] {
        return Want::Nothing;
    }
    let arin = reg == Registry::Arin;
    let one = |i: Option<u32>| i.map_or(Want::Nothing, Want::Net);
    match rel {
        Relation::Up => match (b.up(reg, k), arin && !active) {
            (Some(i), _) => Want::Net(i),
            (None, true) => admin(w, k).map_or(Want::Nothing, Want::Admin),
            (None, false) => Want::Nothing,
        },
        Relation::Top if arin && !active => {
            admin(w, k).map_or_else(|| one(b.top(reg, k, false)), Want::Admin)
        }
        Relation::Top => one(b.top(reg, k, arin)),
        Relation::Down | Relation::Bottom => {
            let v = if rel == Relation::Down {
                b.down(reg, k)
            } else {
                b.bottom(reg, k)
            };
            if v.is_empty() {
                Want::Nothing
            } else {
                Want::Nets(v)
            }
        }
    }
}

/// Checks one answer against what brute force wants; every network parses.
fn check(w: &WorldHandle, reg: Registry, rel: Relation, k: Range, g: &Got, want: &Want) {
    let m = w.model();
    let what = format!("{reg} {} {}: {want:?}", rel.name(), key_text(k));
    match want {
        Want::Redirect(to) => {
            assert_eq!(g.status, 301, "{what}");
            let loc = g.location.as_deref().unwrap();
            assert!(loc.starts_with(&w.base_url(*to)), "{what}: {loc}");
            let path = loc.split('?').next().unwrap();
            assert!(
                path.ends_with(&format!("/{}/{}", rel.name(), key_text(k))),
                "{loc}"
            );
        }
        Want::Refused => {
            assert_eq!(g.status, 404, "{what}");
            let v = json(g);
            assert_eq!(v["description"][0], "Redirect URI not found", "{what}");
        }
        Want::Nothing if rel.single() => {
            assert_eq!(g.status, 404, "{what}");
            let e = parse_error_body(g.body.as_bytes()).expect("an RDAP error body");
            assert_eq!(e.code, Some(404), "{what}");
        }
        Want::Nothing => {
            let status = if reg == Registry::Arin { 404 } else { 200 };
            assert_eq!(g.status, status, "{what}");
            assert!(results(&json(g)).is_empty(), "{what}");
        }
        Want::Net(i) => {
            assert_eq!(g.status, 200, "{what}: {}", g.body);
            let n = &m.nets[*i as usize];
            let p = parse_network(g.body.as_bytes(), k).unwrap_or_else(|e| panic!("{what}: {e}"));
            assert_eq!(
                (p.handle.as_str(), p.range),
                (n.handle.as_str(), n.range),
                "{what}"
            );
            assert!(!p.placeholder, "{what}");
            assert!(conformance(&json(g)).contains("rirSearch1"), "{what}");
        }
        Want::Admin(c) => {
            assert_eq!(g.status, 200, "{what}");
            let p = parse_network(g.body.as_bytes(), k).unwrap_or_else(|e| panic!("{what}: {e}"));
            assert!(p.placeholder, "{what}: the /8 is a placeholder");
            assert_eq!(p.range, c.range(), "{what}");
            assert_eq!(p.handle, format!("NET-{}-0-0-0-0", c.addr() >> 24));
        }
        Want::Nets(v) => {
            assert_eq!(g.status, 200, "{what}");
            let body = json(g);
            let got = results(&body);
            let handles: Vec<&str> = got.iter().map(|r| r["handle"].as_str().unwrap()).collect();
            let wanted: Vec<&str> = v
                .iter()
                .map(|&i| m.nets[i as usize].handle.as_str())
                .collect();
            assert_eq!(handles, wanted, "{what}");
            for (r, &i) in got.iter().zip(v) {
                let n = &m.nets[i as usize];
                let bytes = serde_json::to_vec(r).unwrap();
                let p = parse_network(&bytes, n.range).unwrap_or_else(|e| panic!("{what}: {e}"));
                assert_eq!(p.range, n.range);
                assert!(k.contains_range(&p.range), "{what}: outside the key");
                assert!(
                    rel == Relation::Bottom || p.range != k,
                    "{what}: down lists the key"
                );
                assert!(r.get("rdapConformance").is_none() && r.get("notices").is_none());
            }
        }
    }
}

/// CIDR and address keys around every 37th network, and some /16s and /20s.
fn keys(w: &WorldHandle) -> Vec<Range> {
    let mut out = BTreeSet::new();
    for n in w.model().nets.iter().step_by(37) {
        let r = n.range;
        out.insert(r.covering_cidr().range());
        out.insert(Range::new(r.start, r.start).unwrap());
        out.insert(Cidr::new_masked(r.start, 20).range());
        if let Some(c) = r.as_cidr() {
            out.insert(c.range());
        }
    }
    for s in [
        "1.178.0.0/16",
        "185.1.0.0/16",
        "23.128.0.0/16",
        "41.0.0.0/16",
        "10.0.0.0/16",
    ] {
        out.insert(s.parse::<Cidr>().unwrap().range());
    }
    out.into_iter().collect()
}

#[test]
fn every_relation_matches_brute_force_over_http() {
    let w = shared();
    let b = Brute::new(w.model());
    let keys = keys(w);
    assert!(keys.len() > 60, "{}", keys.len());
    let mut kinds = std::collections::BTreeMap::new();
    for &k in &keys {
        let held = b.holders(k);
        for reg in [Registry::Arin, Registry::Ripe, Registry::Apnic] {
            for rel in Relation::ALL {
                let g = get(&url(w, reg, rel, &key_text(k)));
                let wt = want_held(w, &b, held, reg, rel, k, false);
                check(w, reg, rel, k, &g, &wt);
                *kinds
                    .entry(format!("{wt:?}").split('(').next().unwrap().to_string())
                    .or_insert(0) += 1;
                if rel.single() {
                    let g = get(&format!("{}?status=active", url(w, reg, rel, &key_text(k))));
                    check(
                        w,
                        reg,
                        rel,
                        k,
                        &g,
                        &want_held(w, &b, held, reg, rel, k, true),
                    );
                }
            }
        }
    }
    for kind in ["Redirect", "Refused", "Nothing", "Net", "Admin", "Nets"] {
        assert!(
            kinds.get(kind).copied().unwrap_or(0) > 0,
            "{kind} never seen: {kinds:?}"
        );
    }
}

#[test]
fn real_arin_answers_parse_and_world_answers_have_their_members() {
    let w = shared();
    let m = w.model();
    let key22: Range = "149.112.152.0/22".parse::<Cidr>().unwrap().range();
    // The real answers through the real parser.
    let top = fixture("arin-rdap-top-149.112.152.0_22.json");
    let p = parse_network(&serde_json::to_vec(&top).unwrap(), key22).unwrap();
    assert!(p.placeholder, "ARIN's administrative /8 is a placeholder");
    assert_eq!(p.handle, "NET-149-0-0-0-0");
    let up = fixture("arin-rdap-up-149.112.152.0.json");
    let p = parse_network(
        &serde_json::to_vec(&up).unwrap(),
        Range::new(key22.start, key22.start).unwrap(),
    )
    .unwrap();
    assert_eq!(
        (p.handle.as_str(), p.range, p.placeholder),
        ("NET-149-112-152-0-1", key22, false)
    );
    let down = fixture("arin-rdap-down-149.112.152.0_21.json");
    let bottom = fixture("arin-rdap-bottom-149.112.152.0_22.json");
    for (v, n) in [(&down, 1), (&bottom, 2)] {
        assert_eq!(results(v).len(), n);
        for r in results(v) {
            let start =
                ipcrawl_core::prefix::parse_addr_lenient(r["startAddress"].as_str().unwrap())
                    .unwrap();
            parse_network(
                &serde_json::to_vec(r).unwrap(),
                Range::new(start, start).unwrap(),
            )
            .unwrap();
        }
    }

    // The world's ARIN answers have the same members and conformance.
    let arin_slash16 = m
        .nets
        .iter()
        .filter(|n| n.registry == Registry::Arin && n.depth == 0 && n.range.start >> 24 == 23)
        .map(|n| Cidr::new_masked(n.range.start, 16))
        .next()
        .unwrap();
    let g = get(&url(
        w,
        Registry::Arin,
        Relation::Down,
        &arin_slash16.to_string(),
    ));
    assert_eq!(g.status, 200, "{}", g.body);
    let ours = json(&g);
    assert_eq!(keys_of(&ours), keys_of(&down));
    assert_eq!(conformance(&ours), conformance(&down));
    assert_eq!(keys_of(&results(&ours)[0]), keys_of(&results(&down)[0]));
    let g = get(&url(
        w,
        Registry::Arin,
        Relation::Top,
        &arin_slash16.to_string(),
    ));
    let ours = json(&g);
    assert_eq!(keys_of(&ours), keys_of(&top));
    assert_eq!(conformance(&ours), conformance(&top));
    assert_eq!(ours["handle"], "NET-23-0-0-0-0");
    assert_eq!(ours["name"], "NET23");
    assert_eq!(ours["status"], serde_json::json!(["administrative"]));
    let leaf = m
        .nets
        .iter()
        .find(|n| n.registry == Registry::Arin && n.depth == 1 && n.range.start >> 24 == 23)
        .unwrap();
    let g = get(&url(
        w,
        Registry::Arin,
        Relation::Up,
        &fmt_addr(leaf.range.start),
    ));
    assert_eq!(g.status, 200);
    assert_eq!(keys_of(&json(&g)), keys_of(&up));
}

#[test]
fn help_lists_search_only_where_it_is_served() {
    let w = shared();
    for reg in Registry::ALL {
        let g = get(&format!("{}help", w.base_url(reg)));
        assert_eq!(g.status, 200, "{reg}");
        let c = conformance(&json(&g));
        let served = matches!(reg, Registry::Arin | Registry::Ripe | Registry::Apnic);
        for ext in ["rirSearch1", "ips", "ipSearchResults"] {
            assert_eq!(c.contains(ext), served, "{reg} {ext}: {c:?}");
        }
        assert!(c.contains("rdap_level_0"), "{reg}");
        assert!(json(&g)["notices"].is_array());
    }
    assert_eq!(w.counters(Registry::Lacnic).help, 1);
}

#[test]
fn servers_without_search_answer_501_or_404() {
    // The default world: only ARIN and RIPE NCC serve search.
    let w = World::start(WorldConfig {
        scope: cidrs(&["41.0.0.0/16", "1.178.0.0/16", "200.0.0.0/16"]),
        ..WorldConfig::default()
    })
    .unwrap();
    for (reg, key, status) in [
        (Registry::Afrinic, "41.0.0.0/16", 501),
        (Registry::Apnic, "1.178.0.0/16", 404),
        (Registry::Lacnic, "200.0.0.0/16", 404),
    ] {
        let g = get(&url(&w, reg, Relation::Down, key));
        assert_eq!(g.status, status, "{reg}");
        let v = json(&g);
        let code = v["errorCode"]
            .as_u64()
            .or_else(|| v["errorCode"].as_str()?.parse().ok());
        assert_eq!(code, Some(u64::from(status)), "{reg}: {v}");
        assert_eq!(w.counters(reg).searches, 1, "{reg}");
        assert_eq!(w.counters(reg).search_results, 0, "{reg}");
    }
    let g = get(&format!("{}help", w.base_url(Registry::Afrinic)));
    assert!(!conformance(&json(&g)).contains("rirSearch1"));
    // RIPE NCC switched off answers 501 too.
    let w = World::start(WorldConfig {
        scope: cidrs(&["185.0.0.0/16"]),
        search: [true, false, false, false, false],
        ..WorldConfig::default()
    })
    .unwrap();
    let g = get(&url(&w, Registry::Ripe, Relation::Up, "185.0.0.1"));
    assert_eq!(g.status, 501);
    assert_eq!(json(&g)["title"], "Not Implemented");
}

#[test]
fn result_sets_over_the_limit_are_refused_or_truncated() {
    let w = World::start(WorldConfig {
        scope: cidrs(&["185.0.0.0/14", "23.128.0.0/15"]),
        seed: 4,
        search_limits: [
            SearchLimit {
                max: 7,
                over: OverLimit::Truncate,
            },
            SearchLimit {
                max: 7,
                over: OverLimit::Refuse,
            },
            SearchLimit::default_for(Registry::Apnic),
            SearchLimit::default_for(Registry::Lacnic),
            SearchLimit::default_for(Registry::Afrinic),
        ],
        ..WorldConfig::default()
    })
    .unwrap();
    let b = Brute::new(w.model());
    let ripe_key: Range = "185.0.0.0/14".parse::<Cidr>().unwrap().range();
    assert!(b.bottom(Registry::Ripe, ripe_key).len() > 7);
    let g = get(&url(&w, Registry::Ripe, Relation::Bottom, "185.0.0.0/14"));
    assert_eq!(g.status, 400);
    let v = json(&g);
    assert_eq!(
        (v["errorCode"].as_u64(), v["title"].as_str()),
        (Some(400), Some("Too Many Rows"))
    );
    assert_eq!(v["description"][0], "The result size is too large");
    // Exactly at the limit is fine.
    let seven = (12..=24u8)
        .rev()
        .flat_map(|len| {
            w.model()
                .nets
                .iter()
                .filter(|n| n.registry == Registry::Ripe)
                .map(move |n| Cidr::new_masked(n.range.start, len))
        })
        .find(|c| b.bottom(Registry::Ripe, c.range()).len() == 7);
    if let Some(c) = seven {
        let g = get(&url(&w, Registry::Ripe, Relation::Bottom, &c.to_string()));
        assert_eq!((g.status, results(&json(&g)).len()), (200, 7), "{c}");
    }
    // ARIN: the first 7 in address order and a truncation notice.
    let arin_key: Range = "23.128.0.0/15".parse::<Cidr>().unwrap().range();
    let all = b.down(Registry::Arin, arin_key);
    assert!(all.len() > 7, "{}", all.len());
    let g = get(&url(&w, Registry::Arin, Relation::Down, "23.128.0.0/15"));
    assert_eq!(g.status, 200);
    let v = json(&g);
    let handles: Vec<&str> = results(&v)
        .iter()
        .map(|r| r["handle"].as_str().unwrap())
        .collect();
    let want: Vec<&str> = all[..7]
        .iter()
        .map(|&i| w.model().nets[i as usize].handle.as_str())
        .collect();
    assert_eq!(handles, want);
    let notice = v["notices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["title"] == "Search results truncated")
        .expect("a truncation notice");
    assert_eq!(notice["type"], "result set truncated due to excessive load");
    let c = w.counters(Registry::Arin);
    assert_eq!((c.searches, c.search_results, c.search_cut), (1, 7, 1));
    assert_eq!(w.counters(Registry::Ripe).search_cut, 1);
}

#[test]
fn keys_statuses_and_relations_are_checked() {
    let w = shared();
    let ripe = |path: &str| {
        get(&format!(
            "{}ips/rirSearch1/{path}",
            w.base_url(Registry::Ripe)
        ))
    };
    let arin = |path: &str| {
        get(&format!(
            "{}ips/rirSearch1/{path}",
            w.base_url(Registry::Arin)
        ))
    };
    let status_title = |g: &Got| {
        (
            g.status,
            json(g)["title"].as_str().unwrap_or("").to_string(),
        )
    };
    assert_eq!(
        status_title(&ripe("rdap-upper/185.0.0.0/16")),
        (400, "Bad Request".into())
    );
    assert_eq!(
        json(&ripe("rdap-upper/185.0.0.0/16"))["description"][0],
        "Relation rdap-upper doesn't exist"
    );
    assert_eq!(ripe("rdap-up/").status, 400, "empty key");
    assert_eq!(ripe("rdap-up/185.0.0").status, 400);
    assert_eq!(ripe("rdap-down/185.0.0.1/16").status, 400, "host bits");
    assert_eq!(ripe("rdap-down/185.0.0.0/16?status=active").status, 501);
    assert_eq!(ripe("rdap-up/185.0.0.1?status=administrative").status, 501);
    // RIPE NCC takes a range key, percent-encoded; ARIN refuses it.
    let m = w.model();
    let n = m
        .nets
        .iter()
        .find(|n| {
            n.registry == Registry::Ripe
                && n.range.as_cidr().is_none()
                && n.range.start >> 24 == 185
        })
        .unwrap();
    let path = format!("rdap-bottom/{}", n.range.to_string().replace(' ', "%20"));
    let g = ripe(&path);
    assert_eq!(g.status, 200, "{}", g.body);
    let listed = results(&json(&g))
        .iter()
        .any(|r| r["handle"] == n.handle.as_str());
    assert_eq!(
        listed, !n.filled,
        "the key's own network is listed unless its children fill it"
    );
    let arin_range = m
        .nets
        .iter()
        .find(|n| n.registry == Registry::Arin && n.range.start >> 24 == 23)
        .unwrap()
        .range;
    let g = arin(&format!(
        "rdap-down/{}",
        arin_range.to_string().replace(' ', "%20")
    ));
    assert_eq!(g.status, 400, "{}", g.body);
    assert_eq!(
        arin("rdap-down/23.128.0.0%2F16").status,
        200,
        "%2F is a slash"
    );
}

#[test]
fn searches_redirect_like_lookups_and_follow_to_the_holder() {
    let w = shared();
    let m = w.model();
    // An ARIN block inside APNIC's 1/8, asked at APNIC and at RIPE NCC.
    let t = m
        .nets
        .iter()
        .find(|n| n.registry == Registry::Arin && n.range.start >> 24 == 1)
        .unwrap();
    let probe = Range::new(t.range.start, t.range.start).unwrap();
    let g = get(&url(w, Registry::Ripe, Relation::Down, &key_text(probe)));
    assert_eq!(
        g.location.as_deref(),
        Some(&*url(w, Registry::Arin, Relation::Down, &key_text(probe)))
    );
    let g = get(&url(w, Registry::Apnic, Relation::Up, &key_text(probe)));
    assert_eq!(g.status, 301, "{}", g.body);
    let loc = g.location.unwrap();
    assert_eq!(loc, url(w, Registry::Arin, Relation::Up, &key_text(probe)));
    let b = Brute::new(m);
    let g = get(&loc);
    check(
        w,
        Registry::Arin,
        Relation::Up,
        probe,
        &g,
        &want(w, &b, Registry::Arin, Relation::Up, probe, false),
    );
    assert_eq!(g.status, 200, "the holder answers: {}", g.body);
    // RIPE NCC space asked at ARIN: 301 to RIPE NCC, query string kept.
    let g = get(&format!(
        "{}?status=active",
        url(w, Registry::Arin, Relation::Top, "185.1.0.0/16")
    ));
    assert_eq!(g.status, 301);
    assert!(g
        .location
        .unwrap()
        .ends_with("rdap-top/185.1.0.0/16?status=active"));
    assert!(w.counters(Registry::Arin).redirects >= 1);
}

#[test]
fn faults_rate_limits_and_the_log_apply_to_searches() {
    let dir = std::env::temp_dir().join(format!("ipcrawl-search-log-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let log = dir.join("requests.log");
    let mut rate = [None; 5];
    rate[Registry::Ripe.index()] = Some(crate::RateLimit {
        per_second: 2.0,
        retry_after: true,
    });
    let w = World::start(WorldConfig {
        scope: cidrs(&["185.0.0.0/16"]),
        rate,
        log: Some(log.clone()),
        ..WorldConfig::default()
    })
    .unwrap();
    let mut limited = 0;
    for _ in 0..12 {
        let g = get(&url(&w, Registry::Ripe, Relation::Down, "185.0.0.0/16"));
        if g.status == 429 {
            limited += 1;
            assert!(g.retry_after.is_some());
        } else {
            assert_eq!(g.status, 200, "{}", g.body);
        }
    }
    assert!(limited >= 6, "{limited}");
    let c = w.counters(Registry::Ripe);
    assert_eq!(c.rate_limited, limited);
    assert_eq!(c.requests, 12);
    assert_eq!(c.searches, 12 - limited);
    w.shutdown();
    let text = std::fs::read_to_string(&log).unwrap();
    assert_eq!(text.lines().count(), 12);
    assert!(
        text.contains(" ripe GET /ips/rirSearch1/rdap-down/185.0.0.0/16 200 "),
        "{text}"
    );
    assert!(text.contains(" 429 "));
    std::fs::remove_dir_all(&dir).unwrap();

    // Faults hit searches like lookups: with every answer dropped, none comes.
    let w = World::start(WorldConfig {
        scope: cidrs(&["185.0.0.0/16"]),
        faults: crate::Faults {
            drop: 1.0,
            ..crate::Faults::default()
        },
        ..WorldConfig::default()
    })
    .unwrap();
    let r = crate::tests::agent()
        .get(&url(&w, Registry::Ripe, Relation::Bottom, "185.0.0.0/16"))
        .call();
    assert!(r.is_err(), "a dropped connection is no answer");
    assert_eq!(w.counters(Registry::Ripe).fault_drop, 1);
}

#[test]
fn truth_counts_top_level_and_parent_networks_per_registry() {
    let w = shared();
    let t = w.truth();
    let m = w.model();
    for reg in Registry::ALL {
        let r = &t.by_registry[reg.name()];
        let nets = m.nets.iter().filter(|n| n.registry == reg);
        assert_eq!(r.networks, nets.clone().count() as u64);
        assert_eq!(
            r.top_level,
            nets.clone().filter(|n| n.depth == 0).count() as u64
        );
        let parents: BTreeSet<u32> = m
            .nets
            .iter()
            .filter(|n| n.registry == reg)
            .filter_map(|n| n.parent)
            .collect();
        assert_eq!(r.with_children, parents.len() as u64, "{reg}");
        assert_eq!(
            r.search,
            matches!(reg, Registry::Arin | Registry::Ripe | Registry::Apnic)
        );
    }
    assert!(t.by_registry["ripe"].with_children > 0);
}

#[test]
fn fixtures_match_their_sources_md() {
    use sha2::{Digest, Sha256};
    use std::fmt::Write as _;
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/rdap-search");
    let sources = std::fs::read_to_string(dir.join("SOURCES.md")).unwrap();
    let mut listed = Vec::new();
    for line in sources.lines().filter(|l| l.starts_with("| `")) {
        let cells: Vec<&str> = line.split(" | ").collect();
        let file = cells[0].trim_start_matches("| ").trim_matches('`');
        let want = cells
            .last()
            .unwrap()
            .trim_end_matches(" |")
            .trim_matches('`');
        let got: String = Sha256::digest(std::fs::read(dir.join(file)).unwrap())
            .iter()
            .fold(String::new(), |mut h, b| {
                let _ = write!(h, "{b:02x}");
                h
            });
        assert_eq!(got, want, "{file}");
        listed.push(file.to_string());
    }
    let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|f| Path::new(f).extension().is_some_and(|e| e == "json"))
        .collect();
    listed.sort();
    on_disk.sort();
    assert_eq!(listed, on_disk);
    assert_eq!(listed.len(), 4);
}
