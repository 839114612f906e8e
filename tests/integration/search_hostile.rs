//! Hostile RFC 9910 answers (issue 11), each from a scripted ARIN that
//! serves search (its `help` lists `rirSearch1`) over 149.112.152.0/22, at
//! `--depth all`. Its lookups answer the two real networks of ARIN's own
//! `rdap-bottom` answer for that key
//! (`tests/fixtures/rdap-search/arin-rdap-bottom-149.112.152.0_22.json`);
//! its searches answer something hostile: networks outside the key, a 0/0
//! network, garbage, more than the search body cap, a truncation notice
//! at every split. Each must end as a recorded failure and a fallback to
//! the address sweep: the crawl finishes, stores only real networks (the
//! /22 the sweep reaches at least), and the hostile ones never reach the
//! known set (`coverage` counts exactly the /22, `lookup` elsewhere finds
//! nothing).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::server::{a, ip_of, not_found, start, CrawlArgs, Registries, Registry, Reply};
use crate::util::{fixture, json, jsonl, Workdir};

const KEY: &str = "149.112.152.0/22";

const HELP: &str = r#"{"rdapConformance":["rdap_level_0","rirSearch1","ips","ipSearchResults"]}"#;

/// The real members of ARIN's bottom answer, as lookup answers.
fn members() -> Vec<serde_json::Value> {
    let v: serde_json::Value = serde_json::from_slice(&fixture(
        "../rdap-search/arin-rdap-bottom-149.112.152.0_22.json",
    ))
    .expect("fixture JSON");
    v["ipSearchResults"].as_array().expect("results").clone()
}

/// A result set holding `nets` (and the real notices, if `truncated`).
fn set(nets: &[serde_json::Value], truncated: bool) -> Vec<u8> {
    let mut v = serde_json::json!({
        "rdapConformance": ["rdap_level_0", "rirSearch1", "ips", "ipSearchResults"],
        "ipSearchResults": nets,
    });
    if truncated {
        v["notices"] = serde_json::json!([{
            "title": "Search results truncated",
            "type": "result set truncated due to excessive load",
            "description": ["limited search results to 1 maximum"]
        }]);
    }
    serde_json::to_vec(&v).expect("JSON")
}

fn moved(net: &serde_json::Value, start: &str, end: &str, handle: &str) -> serde_json::Value {
    let mut n = net.clone();
    n["startAddress"] = start.into();
    n["endAddress"] = end.into();
    n["handle"] = handle.into();
    n.as_object_mut().map(|o| o.remove("cidr0_cidrs"));
    n
}

/// A scripted world whose ARIN answers searches with `search(path)`.
fn world(
    search: impl Fn(&str) -> Reply + Send + Sync + 'static,
    asked: Arc<AtomicU64>,
) -> Registries {
    let nets = members();
    let leaf = serde_json::to_vec(&nets[0]).expect("JSON");
    let parent = serde_json::to_vec(&nets[1]).expect("JSON");
    start(move |reg, req, _| {
        if reg != Registry::Arin {
            return not_found();
        }
        let path = req.path();
        if path.ends_with("/help") {
            return Reply::json(200, HELP);
        }
        if path.contains("/ips/rirSearch1/") {
            asked.fetch_add(1, Ordering::SeqCst);
            return search(path);
        }
        let Some((addr, _)) = ip_of(&req.target) else {
            return not_found();
        };
        if (a("149.112.154.0")..=a("149.112.154.255")).contains(&addr) {
            Reply::json(200, leaf.clone())
        } else if (a("149.112.152.0")..=a("149.112.155.255")).contains(&addr) {
            Reply::json(200, parent.clone())
        } else {
            not_found()
        }
    })
}

fn search_args(w: &Registries) -> Vec<String> {
    let mut args = w.crawl_args(&["--depth", "all"]);
    // The scripted servers' arguments turn search off; these serve it.
    if let Some(i) = args.iter().position(|x| x == "--search") {
        args.drain(i..i + 2);
    }
    args
}

/// Crawls the scripted world over [`KEY`] and checks what must hold
/// whatever the hostile answer; returns `stats --json`.
fn crawl_hostile(
    name: &str,
    search: impl Fn(&str) -> Reply + Send + Sync + 'static,
) -> serde_json::Value {
    let asked = Arc::new(AtomicU64::new(0));
    let w = world(search, Arc::clone(&asked));
    let wd = Workdir::new(name);
    wd.ok(&["gen-seeds", "--within", KEY]);
    let args = search_args(&w);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = wd.run(&args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // The sweep resolved every address the refused search left to it, so
    // nothing is left failed: exit 0.
    assert_eq!(
        out.status.code(),
        Some(0),
        "{name}: crawl exited {:?}: {stderr}",
        out.status.code()
    );
    assert!(
        asked.load(Ordering::SeqCst) > 0,
        "{name}: no search was asked"
    );
    let stored: Vec<(String, String, String)> = jsonl(&wd.ok(&["export", "--placeholders"]))
        .iter()
        .map(|r| {
            let s = |k: &str| r[k].as_str().unwrap_or_default().to_string();
            (s("handle"), s("start"), s("end"))
        })
        .collect();
    // The sweep reaches the /22 (its first address is a seed); the /24
    // inside it only a search finds, so a fallback may lack it. Nothing
    // else may be stored.
    let real = [
        (
            "NET-149-112-152-0-1".to_string(),
            "149.112.152.0".to_string(),
            "149.112.155.255".to_string(),
        ),
        (
            "NET-149-112-154-0-1".to_string(),
            "149.112.154.0".to_string(),
            "149.112.154.255".to_string(),
        ),
    ];
    assert!(stored.contains(&real[0]), "{name}: {stored:?}");
    assert!(
        stored.iter().all(|s| real.contains(s)),
        "{name}: {stored:?}"
    );
    let cov = json(&wd.ok(&["coverage", "--json"]));
    assert_eq!(cov["addresses"], 1024, "{name}: {cov}");
    let look = jsonl(&wd.ok(&["lookup", "8.8.8.8", "11.0.0.1"]));
    assert!(
        look.iter().all(|l| l["network"].is_null()),
        "{name}: {look:?}"
    );
    let stats = json(&wd.ok(&["stats", "--json"]));
    assert_eq!(stats["failures"], serde_json::json!([]), "{name}: {stats}");
    w.shutdown();
    stats
}

fn arin(stats: &serde_json::Value, key: &str) -> u64 {
    stats["by_registry"]["arin"][key]
        .as_u64()
        .unwrap_or_else(|| panic!("no counter arin.{key} in {stats}"))
}

#[test]
fn networks_outside_the_key_and_a_whole_space_network_are_refused() {
    let nets = members();
    let outside = moved(&nets[0], "8.8.8.0", "8.8.8.255", "EVIL-OUTSIDE");
    let body = set(&[nets[0].clone(), outside], false);
    let stats = crawl_hostile("search-outside", move |_| Reply::json(200, body.clone()));
    assert!(arin(&stats, "failures") >= 1, "{stats}");
    assert!(arin(&stats, "search_fallbacks") >= 1, "{stats}");

    let nets = members();
    let all = moved(&nets[1], "0.0.0.0", "255.255.255.255", "EVIL-ALL");
    let body = set(&[all], false);
    let stats = crawl_hostile("search-everything", move |_| Reply::json(200, body.clone()));
    assert!(arin(&stats, "failures") >= 1, "{stats}");
}

#[test]
fn garbage_and_oversized_result_sets_fall_back_to_the_sweep() {
    let stats = crawl_hostile("search-garbage", |_| {
        Reply::json(200, "{\"ipSearchResults\": [ {\"handle\"")
    });
    assert!(arin(&stats, "search_fallbacks") >= 1, "{stats}");
    // Over the search body cap (64 MiB): refused unread past the cap.
    let huge = Arc::new({
        let mut b = br#"{"ipSearchResults":["#.to_vec();
        b.resize(65 * 1024 * 1024, b' ');
        b.extend_from_slice(b"]}");
        b
    });
    let stats = crawl_hostile("search-huge", move |_| {
        Reply::json(200, huge.as_slice().to_vec())
    });
    assert!(arin(&stats, "search_fallbacks") >= 1, "{stats}");
}

#[test]
fn an_endless_truncation_ends_in_the_sweep() {
    // Every set is cut at one member, however small the key: the walk
    // splits down to its limit, then leaves the rest to the sweep.
    let nets = members();
    let body = set(&nets[..1], true);
    let stats = crawl_hostile("search-truncated", move |_| Reply::json(200, body.clone()));
    assert!(arin(&stats, "search_fallbacks") >= 1, "{stats}");
}
