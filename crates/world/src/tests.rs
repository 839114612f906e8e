//! Tests of the world: answers over real HTTP on 127.0.0.1 only.

#![allow(clippy::many_single_char_names)]

use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpStream};
use std::str::FromStr;
use std::sync::OnceLock;
use std::time::Duration;

use serde_json::Value;

use super::*;
use ipcrawl_core::prefix::{fmt_addr, Range};

pub(crate) fn a(s: &str) -> u32 {
    u32::from(Ipv4Addr::from_str(s).unwrap())
}

pub(crate) fn cidrs(v: &[&str]) -> Vec<Cidr> {
    v.iter().map(|s| s.parse().unwrap()).collect()
}

/// Small slices of five /8s of five registries, with transfers (1.178/16:
/// RIPE NCC and ARIN blocks in APNIC's /8).
const TEST_SCOPE: [&str; 5] = [
    "1.178.0.0/16",
    "23.128.0.0/13",
    "41.0.0.0/10",
    "185.0.0.0/13",
    "200.0.0.0/12",
];

fn shared_world() -> &'static WorldHandle {
    static W: OnceLock<WorldHandle> = OnceLock::new();
    W.get_or_init(|| {
        World::start(WorldConfig {
            scope: cidrs(&TEST_SCOPE),
            seed: 42,
            ..WorldConfig::default()
        })
        .unwrap()
    })
}

pub(crate) fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into()
}

pub(crate) struct Got {
    pub(crate) status: u16,
    pub(crate) location: Option<String>,
    pub(crate) content_type: String,
    pub(crate) retry_after: Option<String>,
    pub(crate) body: String,
}

pub(crate) fn get(url: &str) -> Got {
    let mut r = agent().get(url).call().unwrap();
    let h = |k: &str| {
        r.headers()
            .get(k)
            .and_then(|v| v.to_str().ok())
            .map(ToString::to_string)
    };
    let location = h("location");
    let content_type = h("content-type").unwrap_or_default();
    let retry_after = h("retry-after");
    Got {
        status: r.status().as_u16(),
        location,
        content_type,
        retry_after,
        body: r.body_mut().read_to_string().unwrap(),
    }
}

pub(crate) fn json(g: &Got) -> Value {
    serde_json::from_str(&g.body).unwrap()
}

/// Raw exchange: (status, head, body, declared length); status None = no answer.
fn raw(base: &str, request: &str) -> (Option<u16>, String, Vec<u8>, Option<usize>) {
    let hostport = base
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_string();
    let mut s = TcpStream::connect(hostport).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(request.as_bytes()).unwrap();
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf);
    let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
        return (None, String::new(), buf, None);
    };
    let head = String::from_utf8_lossy(&buf[..p]).to_string();
    let status = head.split_whitespace().nth(1).and_then(|s| s.parse().ok());
    let len = head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.eq_ignore_ascii_case("content-length")
            .then(|| v.trim().parse().ok())?
    });
    (status, head, buf[p + 4..].to_vec(), len)
}

/// The first address of the first top-level network `reg` holds.
fn first_net(m: &Model, reg: Registry) -> u32 {
    m.nets
        .iter()
        .find(|n| n.depth == 0 && n.registry == reg)
        .map(|n| n.range.start)
        .unwrap()
}

fn uncovered(m: &Model, within: &str) -> Option<u32> {
    let c: Cidr = within.parse().unwrap();
    let r = c.range();
    (u64::from(r.start)..=u64::from(r.end))
        .step_by(256)
        .map(|x| x as u32 + 7)
        .find(|&x| m.deepest(x).is_none())
}

#[test]
fn bootstrap_routes_all_221_slash8s() {
    let b = Bootstrap::parse(model::BUNDLED_BOOTSTRAP).unwrap();
    let mut n = [0; 5];
    for x in 0..=255u32 {
        if let Some(r) = b.registry(x << 24) {
            n[r.index()] += 1;
        }
    }
    assert_eq!(n, [111, 43, 51, 10, 6]);
    assert_eq!(b.registry(a("41.1.2.3")), Some(Registry::Afrinic));
    assert_eq!(b.registry(a("10.0.0.1")), None);
    assert!(Bootstrap::parse("{}").is_err());
}

#[test]
fn model_is_laminar_and_has_the_expected_shapes() {
    let w = shared_world();
    let m = w.model();
    assert!(m.len() > 1000, "{}", m.len());
    let mut depth2 = 0;
    let mut tiny = 0;
    let mut unaligned = 0;
    let mut longest_run = 0;
    let mut run = 0;
    let mut prev_end: Option<u32> = None;
    for (i, n) in m.nets.iter().enumerate() {
        if i > 0 {
            let p = &m.nets[i - 1];
            assert!(
                (p.range.start, std::cmp::Reverse(p.range.end))
                    < (n.range.start, std::cmp::Reverse(n.range.end)),
                "order at {i}"
            );
        }
        if let Some(pi) = n.parent {
            let p = &m.nets[pi as usize];
            assert!(p.range.contains_range(&n.range) && p.range != n.range);
            assert_eq!(p.registry, n.registry);
            assert_eq!(n.depth, p.depth + 1);
        }
        // The deepest network at its start is itself or one of its descendants.
        let mut d = m.deepest(n.range.start).unwrap();
        while m.nets[d as usize].depth > n.depth {
            d = m.nets[d as usize].parent.unwrap();
        }
        assert_eq!(d, i as u32, "{}", n.handle);
        depth2 += usize::from(n.depth >= 2);
        tiny += usize::from(n.range.len() <= 16);
        unaligned += usize::from(n.depth > 0 && n.range.as_cidr().is_none());
        let small = n.depth == 1 && (8..=64).contains(&n.range.len());
        if small && prev_end.is_some_and(|e| u64::from(e) + 1 == u64::from(n.range.start)) {
            run += 1;
        } else {
            run = usize::from(small);
        }
        longest_run = longest_run.max(run);
        prev_end = small.then_some(n.range.end);
    }
    assert!(depth2 > 0, "no grandchildren");
    assert!(tiny > 10, "tiny {tiny}");
    assert!(unaligned > 10, "unaligned {unaligned}");
    assert!(longest_run >= 10, "longest customer run {longest_run}");
    // Transfers exist in the APNIC /8.
    assert!(m
        .nets
        .iter()
        .any(|n| n.range.start >> 24 == 1 && n.registry == Registry::Ripe));
}

#[test]
fn same_seed_same_world_other_seed_other_world() {
    let build = |seed| {
        Model::build(
            Bootstrap::parse(model::BUNDLED_BOOTSTRAP).unwrap(),
            &cidrs(&["185.0.0.0/14", "1.178.0.0/16"]),
            &ipcrawl_core::delegated::bundled(),
            seed,
            GenParams { density: 1.0 },
        )
        .unwrap()
    };
    let (m1, m2, m3) = (build(7), build(7), build(8));
    let key = |m: &Model| {
        m.nets
            .iter()
            .map(|n| (n.handle.clone(), n.range, n.name.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(key(&m1), key(&m2));
    assert_ne!(key(&m1), key(&m3));
    let bases: render::Bases = std::array::from_fn(|i| format!("http://w/{i}/"));
    for i in (0..m1.nets.len()).step_by(97) {
        let q = "http://w/q";
        assert_eq!(
            render::network(&m1, i as u32, &bases, q),
            render::network(&m2, i as u32, &bases, q)
        );
    }
    // Density 0: only the delegated blocks.
    let flat = Model::build(
        Bootstrap::parse(model::BUNDLED_BOOTSTRAP).unwrap(),
        &cidrs(&["185.0.0.0/14"]),
        &ipcrawl_core::delegated::bundled(),
        7,
        GenParams { density: 0.0 },
    )
    .unwrap();
    assert!(flat.nets.iter().all(|n| n.depth == 0));
}

#[test]
fn answers_match_the_model_in_each_registry_style() {
    let w = shared_world();
    let m = w.model();
    for reg in Registry::ALL {
        let x = first_net(m, reg) + 1;
        let addr = fmt_addr(x);
        let i = m.deepest(x).unwrap();
        let n = &m.nets[i as usize];
        let server = n.registry;
        let g = get(&format!("{}ip/{addr}", w.base_url(server)));
        assert_eq!(g.status, 200, "{addr}: {}", g.body);
        let v = json(&g);
        assert_eq!(v["handle"], n.handle.as_str(), "{addr}");
        assert_eq!(v["startAddress"], fmt_addr(n.range.start).as_str());
        assert_eq!(v["endAddress"], fmt_addr(n.range.end).as_str());
        assert_eq!(v["objectClassName"], "ip network");
        assert!(v["parentHandle"].is_string());
        assert!(v["port43"].as_str().unwrap().starts_with("whois."));
        assert!(g.body.contains("\"abuse\""), "{addr}: no abuse entity");
        assert!(g.body.contains("\"email\""), "{addr}: no e-mail");
        let events = v["events"].as_array().unwrap();
        assert_eq!(events.len(), 2);
        match server {
            Registry::Arin => {
                assert!(n.handle.starts_with("NET-"));
                assert!(v["cidr0_cidrs"].is_array());
                assert!(v.get("country").is_none());
                assert!(v["parentHandle"].as_str().unwrap().starts_with("NET-"));
            }
            Registry::Ripe | Registry::Afrinic => {
                assert_eq!(n.handle, n.range.to_string());
                assert!(v["type"]
                    .as_str()
                    .unwrap()
                    .chars()
                    .all(|c| !c.is_lowercase()));
            }
            Registry::Apnic => {
                assert!(v["type"].as_str().unwrap().contains("PORTABLE"));
                assert!(g.body.contains("\"rel\":\"up\""));
            }
            Registry::Lacnic => {
                assert!(g.content_type.starts_with("application/json"));
                assert!(v.get("name").is_none());
                assert_eq!(
                    v["type"].as_str().unwrap(),
                    v["type"].as_str().unwrap().to_lowercase()
                );
                assert!(n.handle.contains('/'));
                assert!(g.body.contains("\"rel\": \"up\""));
            }
        }
        if server != Registry::Lacnic {
            assert_eq!(g.content_type, "application/rdap+json");
        }
    }
}

#[test]
fn arin_top_level_parent_is_the_slash8_net() {
    let w = shared_world();
    let m = w.model();
    let n = m
        .nets
        .iter()
        .find(|n| n.registry == Registry::Arin && n.depth == 0 && n.range.start >> 24 == 23)
        .unwrap();
    let g = get(&format!(
        "{}ip/{}",
        w.base_url(Registry::Arin),
        n.range.as_cidr().unwrap_or_else(|| n.range.to_cidrs()[0])
    ));
    let v = json(&g);
    if v["handle"] == n.handle.as_str() {
        assert_eq!(v["parentHandle"], "NET-23-0-0-0-0");
    }
    // A child starting at its parent's first address gets the next number.
    if let Some(c) = m.nets.iter().find(|c| {
        c.registry == Registry::Arin
            && c.depth == 1
            && m.nets[c.parent.unwrap() as usize].range.start == c.range.start
    }) {
        assert!(c.handle.ends_with("-2"), "{}", c.handle);
    }
}

#[test]
fn transfers_redirect_to_the_holder() {
    let w = shared_world();
    let m = w.model();
    let n = m
        .nets
        .iter()
        .find(|n| n.range.start >> 24 == 1 && n.registry != Registry::Apnic)
        .unwrap();
    let addr = fmt_addr(n.range.start);
    let g = get(&format!("{}ip/{addr}", w.base_url(Registry::Apnic)));
    assert_eq!(g.status, 301);
    let loc = g.location.unwrap();
    assert_eq!(loc, format!("{}ip/{addr}", w.base_url(n.registry)));
    let g = get(&loc);
    assert_eq!(g.status, 200);
    let v = json(&g);
    assert!(Range::new(
        a(v["startAddress"].as_str().unwrap()),
        a(v["endAddress"].as_str().unwrap())
    )
    .unwrap()
    .contains(n.range.start));
    // A server asked about another registry's /8 sends the client there.
    let u = uncovered(m, "41.0.0.0/10").unwrap();
    let g = get(&format!("{}ip/{}", w.base_url(Registry::Arin), fmt_addr(u)));
    assert_eq!(g.status, 301);
    assert!(g
        .location
        .unwrap()
        .starts_with(&w.base_url(Registry::Afrinic)));
}

#[test]
fn uncovered_space_answers_like_the_real_servers() {
    let w = shared_world();
    let m = w.model();
    let ask = |reg: Registry, within: &str| {
        let u = uncovered(m, within).unwrap_or_else(|| panic!("no gap in {within}"));
        get(&format!("{}ip/{}", w.base_url(reg), fmt_addr(u)))
    };
    let g = ask(Registry::Ripe, "185.0.0.0/13");
    assert_eq!(g.status, 200);
    let v = json(&g);
    assert_eq!(v["name"], "RIPE-NCC-MANAGED-ADDRESS-BLOCK");
    assert_eq!(v["status"][0], "administrative");
    assert_eq!(v["handle"], "185.0.0.0 - 185.255.255.255");

    let g = ask(Registry::Afrinic, "41.0.0.0/10");
    let v = json(&g);
    assert_eq!(v["name"], "ORG-IANA1-AFRINIC");
    assert_eq!(v["startAddress"], "0.0.0.0");
    assert_eq!(v["endAddress"], "255.255.255.255");

    for (reg, within) in [
        (Registry::Arin, "23.128.0.0/13"),
        (Registry::Lacnic, "200.0.0.0/12"),
    ] {
        let g = ask(reg, within);
        assert_eq!(g.status, 404, "{reg}");
        assert_eq!(json(&g)["errorCode"], 404);
    }

    // APNIC: APNIC-AP over the /8, IANA-BLOCK for some /16s.
    let mut seen = std::collections::BTreeSet::new();
    for b in 0..=255u32 {
        let x = (1 << 24) | (b << 16) | 5;
        if m.deepest(x).is_some() {
            continue;
        }
        let g = get(&format!(
            "{}ip/{}",
            w.base_url(Registry::Apnic),
            fmt_addr(x)
        ));
        let v = json(&g);
        seen.insert(v["name"].as_str().unwrap().to_string());
        if v["name"] == "APNIC-AP" {
            assert_eq!(v["handle"], "1.0.0.0 - 1.255.255.255");
            assert_eq!(v["status"][0], "administrative");
        }
        if seen.len() == 2 {
            break;
        }
    }
    assert!(
        seen.contains("APNIC-AP") && seen.contains("IANA-BLOCK"),
        "{seen:?}"
    );
}

#[test]
fn prefix_queries_return_the_most_specific_network_holding_the_prefix() {
    let w = shared_world();
    let m = w.model();
    let mut checked = 0;
    for n in m
        .nets
        .iter()
        .filter(|n| n.registry == Registry::Ripe)
        .step_by(53)
        .take(20)
    {
        let c = n.range.covering_cidr();
        let want = m.deepest_range(c.range());
        let g = get(&format!("{}ip/{c}", w.base_url(Registry::Ripe)));
        match want {
            Some(i) => {
                assert_eq!(g.status, 200, "{c}");
                assert_eq!(
                    json(&g)["handle"],
                    m.nets[i as usize].handle.as_str(),
                    "{c}"
                );
                assert!(m.nets[i as usize].range.contains_range(&c.range()));
            }
            None => assert_eq!(json(&g)["name"], "RIPE-NCC-MANAGED-ADDRESS-BLOCK"),
        }
        checked += 1;
    }
    assert_eq!(checked, 20);
    // %2F and a query string are fine; host bits are not.
    let g = get(&format!(
        "{}ip/185.0.0.0%2F16?jscard=1",
        w.base_url(Registry::Ripe)
    ));
    assert_eq!(g.status, 200);
    let g = get(&format!("{}ip/185.0.0.1/16", w.base_url(Registry::Ripe)));
    assert_eq!(g.status, 400);
    assert_eq!(json(&g)["errorCode"], 400);
}

#[test]
fn bad_requests_never_kill_the_server() {
    let w = shared_world();
    let base = w.base_url(Registry::Arin);
    let ok = fmt_addr(first_net(w.model(), Registry::Arin));
    let (s, _, _, _) = raw(&base, "GARBAGE\r\n\r\n");
    assert_eq!(s, Some(400));
    let (s, _, _, _) = raw(
        &base,
        "GET /ip/999.1.1.1 HTTP/1.1\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(s, Some(400));
    let (s, _, _, _) = raw(&base, "GET /nope HTTP/1.1\r\nConnection: close\r\n\r\n");
    assert_eq!(s, Some(404));
    let (s, _, _, _) = raw(
        &base,
        "POST /ip/23.0.0.1 HTTP/1.1\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc",
    );
    assert_eq!(s, Some(405));
    let (s, _, _, _) = raw(
        &base,
        &format!("GET /{} HTTP/1.1\r\n\r\n", "a".repeat(10_000)),
    );
    assert_eq!(s, Some(400));
    let (s, _, _, _) = raw(&base, "GET /ip/23.0.0.1 HTTP/1.1\r\nno colon here\r\n\r\n");
    assert_eq!(s, Some(400));
    // Two requests on one keep-alive connection, then a close.
    let (s, head, body, _) = raw(
        &base,
        &format!("GET /ip/{ok} HTTP/1.1\r\nHost: x\r\n\r\nGET /ip/{ok} HTTP/1.1\r\nConnection: close\r\n\r\n"),
    );
    assert_eq!(s, Some(200));
    assert!(head.contains("keep-alive"));
    assert!(String::from_utf8_lossy(&body).contains("HTTP/1.1 200 OK"));
    // Still serving.
    assert_eq!(get(&format!("{base}ip/{ok}")).status, 200);
}

#[test]
fn truth_counts_and_the_oracle_match_an_http_sweep() {
    let world = World::start(WorldConfig {
        scope: cidrs(&[
            "1.178.0.0/17",
            "41.0.0.0/16",
            "23.0.0.0/18",
            "200.0.0.0/16",
            "185.0.0.0/17",
        ]),
        seed: 3,
        ..WorldConfig::default()
    })
    .unwrap();
    let t = world.truth().clone();
    let m = world.model();
    assert_eq!(t.networks.len(), m.len());
    assert_eq!(t.oracle.queries, t.oracle.networks + t.oracle.gaps);
    let sum: u64 = t.by_registry.values().map(|r| r.addresses).sum();
    assert_eq!(sum, t.covered.addresses);
    let union: u64 = t
        .covered
        .ranges
        .iter()
        .map(|[s, e]| u64::from(a(e)) - u64::from(a(s)) + 1)
        .sum();
    assert_eq!(union, t.covered.addresses);
    assert!(t.networks.iter().any(|n| n.transfer));

    // Sweep over HTTP exactly as the oracle does.
    let ag = agent();
    let (mut queries, mut redirects, mut covered) = (0u64, 0u64, 0u64);
    for s in &m.scope {
        let mut x = u64::from(s.start);
        while x <= u64::from(s.end) {
            let reg = m.bootstrap.registry(x as u32).unwrap();
            let mut url = format!("{}ip/{}", world.base_url(reg), fmt_addr(x as u32));
            queries += 1;
            let (status, body) = loop {
                let mut r = ag.get(&url).call().unwrap();
                if r.status().as_u16() == 301 {
                    redirects += 1;
                    url = r.headers()["location"].to_str().unwrap().to_string();
                    continue;
                }
                break (r.status().as_u16(), r.body_mut().read_to_string().unwrap());
            };
            let v: Value = serde_json::from_str(&body).unwrap();
            let placeholder = status == 404
                || matches!(
                    v["name"].as_str(),
                    Some(
                        "RIPE-NCC-MANAGED-ADDRESS-BLOCK"
                            | "APNIC-AP"
                            | "IANA-BLOCK"
                            | "ORG-IANA1-AFRINIC"
                    )
                );
            if placeholder {
                x = (x | 0xFF) + 1;
            } else {
                let end = u64::from(a(v["endAddress"].as_str().unwrap()));
                let start = u64::from(a(v["startAddress"].as_str().unwrap()));
                assert!(start <= x && x <= end);
                covered += end.min(u64::from(s.end)) - x + 1;
                x = end + 1;
            }
        }
    }
    assert_eq!(queries, t.oracle.queries);
    assert_eq!(redirects, t.oracle.redirects);
    assert_eq!(covered, t.covered.addresses);

    let dir = std::env::temp_dir().join(format!("ipcrawl-truth-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("truth.json");
    world.write_truth(&p).unwrap();
    let v: Value = serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
    assert_eq!(v["oracle"]["queries"], t.oracle.queries);
    assert_eq!(v["covered"]["addresses"], t.covered.addresses);
    std::fs::remove_dir_all(&dir).unwrap();
    let c = world.all_counters();
    assert_eq!(
        c.iter().map(|c| c.requests).sum::<u64>(),
        queries + redirects
    );
    world.shutdown();
}

#[test]
fn faults_come_at_the_configured_rates_and_reproduce() {
    let dir = std::env::temp_dir().join(format!("ipcrawl-faults-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let log = dir.join("requests.log");
    let cfg = WorldConfig {
        scope: cidrs(&["185.0.0.0/16"]),
        seed: 9,
        faults: Faults {
            server_error: 0.1,
            drop: 0.1,
            slow: 0.05,
            truncate: 0.1,
            slow_delay: Duration::from_millis(30),
        },
        log: Some(log.clone()),
        ..WorldConfig::default()
    };
    let run = |cfg: WorldConfig| {
        let world = World::start(cfg).unwrap();
        let base = world.base_url(Registry::Ripe);
        let mut outcomes = Vec::new();
        for i in 0..600u32 {
            let (s, _, body, len) = raw(
                &base,
                &format!(
                    "GET /ip/185.0.{}.{} HTTP/1.1\r\nConnection: close\r\n\r\n",
                    i / 256,
                    i % 256
                ),
            );
            outcomes.push(match (s, len) {
                (None, _) => "drop",
                (Some(s), _) if s >= 500 => "5xx",
                (Some(200), Some(l)) if l > body.len() => "truncate",
                (Some(200), _) => "ok",
                _ => "other",
            });
        }
        let c = world.counters(Registry::Ripe);
        world.shutdown();
        (outcomes, c)
    };
    let (o1, c) = run(cfg.clone());
    let count = |k: &str| o1.iter().filter(|&&x| x == k).count();
    for (k, want) in [("5xx", 60), ("drop", 60), ("truncate", 60)] {
        let n = count(k);
        assert!(
            (30..=95).contains(&n),
            "{k}: {n} of 600, expected about {want}"
        );
    }
    assert_eq!(count("other"), 0);
    assert_eq!(c.fault_5xx as usize, count("5xx"));
    assert_eq!(c.fault_drop as usize, count("drop"));
    assert!(c.fault_slow > 10 && c.fault_slow < 60, "{}", c.fault_slow);
    let (o2, _) = run(cfg);
    assert_eq!(o1, o2, "same seed, same faults");
    let text = std::fs::read_to_string(&log).unwrap();
    assert_eq!(text.lines().count(), 1200);
    assert!(text.contains(" ripe GET /ip/185.0.0.0 "));
    assert!(text.contains("fault-drop"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn rate_limits_answer_429() {
    let mut rate = [None; 5];
    rate[Registry::Arin.index()] = Some(RateLimit {
        per_second: 5.0,
        retry_after: true,
    });
    rate[Registry::Lacnic.index()] = Some(RateLimit {
        per_second: 2.0,
        retry_after: false,
    });
    let world = World::start(WorldConfig {
        scope: cidrs(&["23.0.0.0/16", "200.0.0.0/16"]),
        rate,
        ..WorldConfig::default()
    })
    .unwrap();
    let mut limited = 0;
    for _ in 0..20 {
        let g = get(&format!("{}ip/23.0.0.1", world.base_url(Registry::Arin)));
        if g.status == 429 {
            limited += 1;
            let s: u64 = g.retry_after.unwrap().parse().unwrap();
            assert!((1..=2).contains(&s));
        }
    }
    assert!(limited >= 10, "{limited}");
    let mut notice = false;
    for _ in 0..10 {
        let g = get(&format!("{}ip/200.0.0.1", world.base_url(Registry::Lacnic)));
        if g.status == 429 {
            assert!(g.retry_after.is_none());
            assert!(g.body.contains("Rate Limit Notice"));
            notice = true;
        }
    }
    assert!(notice);
    // Unlimited registries are not affected (RIPE's placeholder outside the scope).
    assert_eq!(
        get(&format!("{}ip/185.0.0.1", world.base_url(Registry::Ripe))).status,
        200
    );
    assert_eq!(world.counters(Registry::Arin).rate_limited, limited);
    world.shutdown();
}

/// Reads one HTTP/1.1 answer with a `Content-Length` off a kept-alive
/// connection: (status, head, body).
fn read_answer(r: &mut std::io::BufReader<TcpStream>) -> (u16, String, Vec<u8>) {
    use std::io::BufRead;
    let mut head = String::new();
    loop {
        let mut line = String::new();
        assert!(r.read_line(&mut line).unwrap() > 0, "connection closed");
        if line == "\r\n" {
            break;
        }
        head.push_str(&line);
    }
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    let len: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("Content-Length: "))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let mut body = vec![0; len];
    r.read_exact(&mut body).unwrap();
    (status, head, body)
}

/// Throughput is measured by `examples/world_bench.rs`; this asserts what
/// holds under any load: concurrent clients, each on one kept-alive
/// connection, all get the right network, and the server counts each
/// request exactly once.
#[test]
fn concurrent_keep_alive_clients_get_correct_answers_and_exact_counts() {
    let world = World::start(WorldConfig {
        scope: cidrs(&["185.0.0.0/14"]),
        seed: 5,
        ..WorldConfig::default()
    })
    .unwrap();
    let m = world.model();
    // Addresses the RIPE server answers with a network, and the handle it must give.
    let asks: Vec<(u32, String)> = m
        .nets
        .iter()
        .filter(|n| n.registry == Registry::Ripe)
        .map(|n| n.range.end)
        .map(|x| (x, m.nets[m.deepest(x).unwrap() as usize].handle.clone()))
        .take(200)
        .collect();
    assert_eq!(asks.len(), 200);
    let (clients, per) = (4, 150);
    let hostport = world
        .base_url(Registry::Ripe)
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_string();
    let hs: Vec<_> = (0..clients)
        .map(|t| {
            let (hostport, asks) = (hostport.clone(), asks.clone());
            std::thread::spawn(move || {
                let s = TcpStream::connect(&hostport).unwrap();
                s.set_nodelay(true).unwrap();
                s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
                let mut w = s.try_clone().unwrap();
                let mut r = std::io::BufReader::new(s);
                for i in 0..per {
                    let (x, handle) = &asks[(t * 37 + i) % asks.len()];
                    let req = format!("GET /ip/{} HTTP/1.1\r\nHost: w\r\n\r\n", fmt_addr(*x));
                    w.write_all(req.as_bytes()).unwrap();
                    let (status, head, body) = read_answer(&mut r);
                    assert_eq!(status, 200, "{}", fmt_addr(*x));
                    assert!(head.contains("Connection: keep-alive"), "{head}");
                    let v: Value = serde_json::from_slice(&body).unwrap();
                    assert_eq!(v["handle"], handle.as_str(), "{}", fmt_addr(*x));
                }
            })
        })
        .collect();
    for h in hs {
        h.join().unwrap();
    }
    let c = world.counters(Registry::Ripe);
    let n = (clients * per) as u64;
    assert_eq!(c.requests, n, "{c:?}");
    assert_eq!(c.networks, n, "{c:?}");
    assert_eq!(
        world.all_counters().iter().map(|c| c.requests).sum::<u64>(),
        n,
        "only RIPE was asked"
    );
    world.shutdown();
}

#[test]
fn shutdown_closes_the_ports() {
    let world = World::start(WorldConfig {
        scope: cidrs(&["41.0.0.0/16"]),
        ..WorldConfig::default()
    })
    .unwrap();
    let base = world.base_url(Registry::Afrinic);
    assert_eq!(get(&format!("{base}ip/41.0.0.1")).status, 200);
    world.shutdown();
    let hostport = base.trim_start_matches("http://").trim_end_matches('/');
    let alive = TcpStream::connect(hostport).and_then(|mut s| {
        s.write_all(b"GET /ip/41.0.0.1 HTTP/1.1\r\n\r\n")?;
        let mut b = [0u8; 16];
        s.set_read_timeout(Some(Duration::from_secs(2)))?;
        s.read(&mut b)
    });
    assert!(
        !matches!(alive, Ok(n) if n > 0),
        "still answering after shutdown"
    );
}

#[test]
fn empty_scope_is_an_error() {
    let e = World::start(WorldConfig {
        scope: cidrs(&["10.0.0.0/8"]),
        ..WorldConfig::default()
    })
    .err()
    .unwrap();
    assert!(e.to_string().contains("scope"), "{e}");
}

/// The world's answers go through the same parser as the real samples:
/// every registry's networks parse to the model's range, handle, name,
/// country, parent and registration date; uncovered space parses as a
/// placeholder (RIPE, APNIC, AFRINIC) or is a 404 error body (ARIN, LACNIC).
#[test]
fn answers_parse_with_the_real_parser() {
    use ipcrawl_core::rdap::parse::{parse_error_body, parse_network};
    let w = shared_world();
    let m = w.model();
    let mut checked = [0usize; 5];
    // A spread of networks of every depth and registry.
    for (i, n) in m.nets.iter().enumerate().step_by(97).take(400) {
        let x = n.range.start;
        if m.deepest(x) != Some(i as u32) {
            continue;
        }
        let g = get(&format!("{}ip/{}", w.base_url(n.registry), fmt_addr(x)));
        assert_eq!(g.status, 200, "{}: {}", fmt_addr(x), g.body);
        let q = Range::new(x, x).unwrap();
        let p = parse_network(g.body.as_bytes(), q)
            .unwrap_or_else(|e| panic!("{} ({}): {e}", fmt_addr(x), n.registry));
        assert_eq!(p.range, n.range, "{}", n.handle);
        assert_eq!(p.handle, n.handle);
        assert!(!p.placeholder, "{}", n.handle);
        assert_eq!(
            p.registration.as_deref().map(|d| &d[..10]),
            Some(n.registered.as_str())
        );
        match n.registry {
            Registry::Lacnic => assert_eq!(p.name, None),
            // Like the real server: AFRINIC names a network after its organisation.
            Registry::Afrinic => {
                assert_eq!(p.name.as_deref(), Some(render::contacts(n).org.as_str()));
            }
            _ => assert_eq!(p.name.as_deref(), Some(n.name.as_str())),
        }
        if matches!(n.registry, Registry::Arin | Registry::Lacnic) {
            // Like the real servers: ARIN and LACNIC networks carry no country.
            assert_eq!(p.country, None, "{}", n.handle);
        } else {
            assert_eq!(p.country, n.cc);
        }
        if let Some(pi) = n.parent {
            let parent = &m.nets[pi as usize];
            assert!(
                p.parent_range == Some(parent.range)
                    || p.parent_handle.as_deref() == Some(parent.handle.as_str()),
                "{}: parent {:?} / {:?}, want {}",
                n.handle,
                p.parent_range,
                p.parent_handle,
                parent.handle
            );
        }
        assert!(
            p.entities
                .iter()
                .any(|e| e.roles.iter().any(|r| r == "abuse") && e.email.is_some()),
            "{}: no abuse e-mail",
            n.handle
        );
        checked[n.registry.index()] += 1;
    }
    for reg in [
        Registry::Arin,
        Registry::Ripe,
        Registry::Apnic,
        Registry::Lacnic,
    ] {
        assert!(
            checked[reg.index()] > 0,
            "no {reg} network checked: {checked:?}"
        );
    }
    for (reg, within) in [
        (Registry::Ripe, "185.0.0.0/13"),
        (Registry::Afrinic, "41.0.0.0/10"),
        (Registry::Apnic, "1.0.0.0/10"),
    ] {
        let u = uncovered(m, within).unwrap();
        let g = get(&format!("{}ip/{}", w.base_url(reg), fmt_addr(u)));
        let p = parse_network(g.body.as_bytes(), Range::new(u, u).unwrap()).unwrap();
        assert!(p.placeholder, "{reg}: {:?} is not a placeholder", p.name);
    }
    for (reg, within) in [
        (Registry::Arin, "23.128.0.0/13"),
        (Registry::Lacnic, "200.0.0.0/12"),
    ] {
        let u = uncovered(m, within).unwrap();
        let g = get(&format!("{}ip/{}", w.base_url(reg), fmt_addr(u)));
        assert_eq!(g.status, 404);
        assert_eq!(
            parse_error_body(g.body.as_bytes()).and_then(|e| e.code),
            Some(404)
        );
    }
}

/// Each registry's server serves its own delegated statistics at
/// `stats::url_path` (the same bytes as `stats::render`, parsed back into
/// its records), outside its rate limit; other registries' paths are 404s.
#[test]
fn each_server_serves_its_statistics() {
    let mut rate = [None; 5];
    rate[Registry::Arin.index()] = Some(RateLimit {
        per_second: 1.0,
        retry_after: true,
    });
    let world = World::start(WorldConfig {
        scope: cidrs(&["23.0.0.0/16", "41.0.0.0/12"]),
        rate,
        epoch: 1,
        ..WorldConfig::default()
    })
    .unwrap();
    for r in Registry::ALL {
        let url = world.stats_url(r);
        assert!(url.ends_with(&crate::stats::url_path(r)), "{url}");
        let g = get(&url);
        assert_eq!(g.status, 200, "{url}");
        assert!(
            g.content_type.starts_with("text/plain"),
            "{}",
            g.content_type
        );
        assert_eq!(g.body.as_bytes(), crate::stats::render(world.model(), r));
        assert_eq!(g.body.as_bytes(), world.stats(r));
        let p = ipcrawl_core::delegated::source::check(r, g.body.as_bytes()).unwrap();
        assert_eq!(p.delegations, crate::stats::records(world.model(), r));
        assert_eq!(p.header.unwrap().date().as_deref(), Some("20270821"));
    }
    // Many fetches within ARIN's 1/s: never a 429.
    for _ in 0..5 {
        assert_eq!(get(&world.stats_url(Registry::Arin)).status, 200);
    }
    let arin = world.counters(Registry::Arin);
    assert_eq!((arin.stats, arin.rate_limited, arin.requests), (6, 0, 6));
    // Not another registry's file, not with a trailing part.
    let base = world.base_url(Registry::Arin);
    let ripe_path = crate::stats::url_path(Registry::Ripe);
    assert_eq!(get(&format!("{base}{ripe_path}")).status, 404);
    assert_eq!(
        get(&format!("{}x", world.stats_url(Registry::Ripe))).status,
        404
    );
    assert_eq!(
        get(&format!("{}?fresh=1", world.stats_url(Registry::Ripe))).status,
        200
    );
    world.shutdown();
}
