//! The whole job against a scripted five-registry world made of real
//! answers: gen-seeds → crawl → coverage → export → lookup → stats, then a
//! second crawl that must send nothing.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::server::{a, ip_of, not_found, start, Bases, CrawlArgs, Registries, Registry, Reply};
use crate::util::{fixture, json, jsonl, Workdir};

const RIPE_MANAGED: &str = r#"{"objectClassName":"ip network","handle":"193.0.0.0 - 193.255.255.255",
 "startAddress":"193.0.0.0","endAddress":"193.255.255.255","ipVersion":"v4",
 "name":"RIPE-NCC-MANAGED-ADDRESS-BLOCK","type":"ALLOCATED UNSPECIFIED","country":"EU",
 "status":["administrative"],"rdapConformance":["rdap_level_0"]}"#;

const RIPE_TRANSFER: &str = r#"{"objectClassName":"ip network","handle":"192.198.4.0 - 192.198.4.255",
 "startAddress":"192.198.4.0","endAddress":"192.198.4.255","ipVersion":"v4",
 "name":"TRANSFERRED-NET","type":"ASSIGNED PA","country":"DE","status":["active"],
 "events":[{"eventAction":"registration","eventDate":"2019-05-02T10:00:00Z"}],
 "entities":[{"objectClassName":"entity","handle":"AB123-RIPE","roles":["abuse"],
   "vcardArray":["vcard",[["version",{},"text","4.0"],["fn",{},"text","Abuse desk"],
   ["email",{},"text","abuse@example.net"]]]}],
 "rdapConformance":["rdap_level_0"]}"#;

/// The scripted world: five real networks (one transferred from ARIN to
/// RIPE), placeholders, 404s, and one 503.
fn world(arin_503_once: Arc<AtomicBool>) -> Registries {
    start(move |reg, req, bases: &Bases| {
        let path = req.target.as_str();
        let Some((addr, len)) = ip_of(path) else {
            return Reply::json(400, r#"{"errorCode":400,"title":"Bad Request"}"#);
        };
        let inside = |lo: &str, hi: &str| addr >= a(lo) && addr <= a(hi);
        match reg {
            Registry::Apnic if inside("1.1.1.0", "1.1.1.255") && len >= 24 => {
                Reply::json(200, fixture("apnic/apnic-1.1.1.1-2024-07-26.json"))
            }
            Registry::Ripe if inside("193.0.0.0", "193.0.7.255") && len >= 21 => {
                Reply::json(200, fixture("ripe/ripe-193.0.6.139.json"))
            }
            Registry::Ripe if inside("192.198.4.0", "192.198.4.255") => {
                Reply::json(200, RIPE_TRANSFER)
            }
            Registry::Ripe if inside("193.0.0.0", "193.255.255.255") => {
                Reply::json(200, RIPE_MANAGED)
            }
            Registry::Arin if inside("192.198.0.0", "192.198.3.255") => {
                if addr == a("192.198.0.0") && !arin_503_once.swap(true, Ordering::SeqCst) {
                    Reply::json(503, "upstream busy")
                } else {
                    Reply::json(200, fixture("arin/arin-192.198.0.0.json"))
                }
            }
            Registry::Arin if inside("192.198.4.0", "192.198.4.255") => Reply::redirect(&format!(
                "{}{}",
                bases[Registry::Ripe.index()],
                path.trim_start_matches('/')
            )),
            Registry::Afrinic if inside("196.216.2.0", "196.216.3.255") => {
                Reply::json(200, fixture("afrinic/afrinic-196.216.2.20-2018-02-13.json"))
            }
            Registry::Afrinic => Reply::json(
                200,
                fixture("afrinic/afrinic-0.0.0.0-placeholder-2022-12-17.json"),
            ),
            _ => not_found(),
        }
    })
}

const WITHIN: [&str; 5] = [
    "1.1.1.0/24",
    "193.0.0.0/21",
    "192.198.0.0/21",
    "196.216.0.0/22",
    "10.0.0.0/8",
];

fn crawl_args(w: &Registries) -> Vec<String> {
    w.crawl_args(&["--threads", "8", "--retry-base-ms", "10"])
}

#[test]
fn whole_job_on_a_scripted_multi_registry_world() {
    let wd = Workdir::new("pipeline");
    let w = world(Arc::new(AtomicBool::new(false)));
    let mut gen = vec!["gen-seeds"];
    for c in WITHIN {
        gen.extend(["--within", c]);
    }
    let out = wd.ok(&gen);
    // 1 + 8 + 8 + 4 /24s; 10/8 is reserved and gets none.
    assert!(out.starts_with("21 seeds"), "{out}");

    let args = crawl_args(&w);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let summary = json(&wd.ok(&args));
    assert_eq!(summary["stop"], "finished");
    assert_eq!(summary["networks"], 5);
    assert_eq!(summary["failures"], 0);

    // Exactly the queries a coverage-first sweep needs.
    let reqs = w.requests();
    let count = |r: Registry| reqs.iter().filter(|(n, _)| *n == r).count();
    assert_eq!(count(Registry::Apnic), 1, "{reqs:?}");
    assert_eq!(count(Registry::Arin), 6, "{reqs:?}");
    assert_eq!(count(Registry::Ripe), 3, "{reqs:?}");
    assert_eq!(count(Registry::Afrinic), 3, "{reqs:?}");
    assert_eq!(count(Registry::Lacnic), 0, "{reqs:?}");
    assert!(
        reqs.iter().all(|(_, p)| !p.starts_with("/ip/10.")),
        "reserved space was queried: {reqs:?}"
    );

    // Exactly the real networks, in address order, attributed to whoever answered.
    let rows = jsonl(&wd.ok(&["export"]));
    let got: Vec<(String, String, String, String)> = rows
        .iter()
        .map(|r| {
            (
                r["start"].as_str().unwrap().to_string(),
                r["end"].as_str().unwrap().to_string(),
                r["registry"].as_str().unwrap().to_string(),
                r["handle"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let want = [
        ("1.1.1.0", "1.1.1.255", "apnic", "1.1.1.0 - 1.1.1.255"),
        ("192.198.0.0", "192.198.3.255", "arin", "NET-192-198-0-0-1"),
        (
            "192.198.4.0",
            "192.198.4.255",
            "ripe",
            "192.198.4.0 - 192.198.4.255",
        ),
        (
            "193.0.0.0",
            "193.0.7.255",
            "ripe",
            "193.0.0.0 - 193.0.7.255",
        ),
        (
            "196.216.2.0",
            "196.216.3.255",
            "afrinic",
            "196.216.2.0 - 196.216.3.255",
        ),
    ]
    .map(|(a, b, c, d)| (a.to_string(), b.to_string(), c.to_string(), d.to_string()));
    assert_eq!(got, want);
    let arin = &rows[1];
    assert_eq!(arin["cidrs"], serde_json::json!(["192.198.0.0/22"]));
    assert_eq!(arin["country"], serde_json::Value::Null);
    assert_eq!(arin["name"], "RADIOLINK-ARIN-1");
    assert_eq!(arin["queried"], "192.198.0.0");
    assert!(arin["source_url"]
        .as_str()
        .unwrap()
        .starts_with(w.base_url(Registry::Arin)));
    let transfer = &rows[2];
    assert_eq!(transfer["name"], "TRANSFERRED-NET");
    assert_eq!(transfer["entities"][0]["email"], "abuse@example.net");
    assert!(transfer["source_url"]
        .as_str()
        .unwrap()
        .starts_with(w.base_url(Registry::Ripe)));
    assert_eq!(rows[4]["cidrs"], serde_json::json!(["196.216.2.0/23"]));

    // Coverage: the union of the five, no placeholder.
    let cov = json(&wd.ok(&["coverage", "--json"]));
    assert_eq!(cov["networks"], 5);
    assert_eq!(cov["cidrs"], 5);
    assert_eq!(cov["addresses"], 256 + 1024 + 256 + 2048 + 512);
    assert_eq!(cov["non_reserved"], 3_702_258_432u64);
    assert_eq!(cov["by_registry"]["ripe"]["networks"], 2);
    assert_eq!(cov["by_registry"]["ripe"]["addresses"], 2048 + 256);
    assert_eq!(cov["by_registry"]["lacnic"]["addresses"], 0);
    assert_eq!(cov["placeholders"], 2);

    // The Hilbert map: a PNG with a 1024 px map square plus title and legend
    // (its pixels: tests/integration/people.rs).
    wd.ok(&["coverage", "--map", "map.png"]);
    let png = std::fs::read(wd.path("map.png")).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let lay = ipcrawl::map::Layout::new(1024);
    let ihdr: Vec<u8> = [lay.width, lay.height]
        .iter()
        .flat_map(|v| v.to_be_bytes())
        .collect();
    assert_eq!(
        &png[16..24],
        &ihdr[..],
        "IHDR {} x {}",
        lay.width,
        lay.height
    );

    // Lookup from the DB alone.
    let hits = jsonl(&wd.ok(&["lookup", "192.198.4.9", "8.8.8.8", "196.216.3.1"]));
    assert_eq!(hits[0]["network"]["name"], "TRANSFERRED-NET");
    assert_eq!(hits[1]["network"], serde_json::Value::Null);
    assert_eq!(hits[2]["network"]["registry"], "afrinic");

    // Counters: one retry (the 503), one redirect, three 404s, two placeholders.
    let st = json(&wd.ok(&["stats", "--json"]));
    assert_eq!(st["by_registry"]["arin"]["retries"], 1);
    assert_eq!(st["by_registry"]["arin"]["redirects"], 1);
    assert_eq!(st["by_registry"]["arin"]["not_found"], 3);
    assert_eq!(st["by_registry"]["afrinic"]["placeholders"], 2);
    assert_eq!(
        st["queries"], 12,
        "one lookup per job (the redirect hop is part of it)"
    );
    assert_eq!(st["seeds"]["total"], 21);
    assert_eq!(st["seeds"]["pending"], 0);
    assert_eq!(st["seeds"]["failed"], 0);
    assert_eq!(st["failures"], serde_json::json!([]));

    // A second crawl resumes into nothing: not one query.
    let before = w.requests().len();
    let again = json(&wd.ok(&args));
    assert_eq!(again["run_queries"], 0);
    assert_eq!(w.requests().len(), before);

    // Placeholders are exported only when asked; CSV and gzip work.
    let all = jsonl(&wd.ok(&["export", "--placeholders"]));
    assert_eq!(all.len(), 7);
    assert_eq!(all.iter().filter(|r| r["placeholder"] == true).count(), 2);
    let csv = wd.ok(&["export", "--format", "csv"]);
    assert_eq!(csv.lines().count(), 6);
    assert!(csv.starts_with("handle,start,end,cidrs,"));
    wd.ok(&["export", "-o", "out.jsonl.gz"]);
    let gz = std::fs::read(wd.path("out.jsonl.gz")).unwrap();
    let mut text = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&gz[..]), &mut text).unwrap();
    assert_eq!(jsonl(&text), rows);
}

#[test]
fn failures_are_recorded_listed_and_retried_next_run() {
    let wd = Workdir::new("failures");
    let healthy = Arc::new(AtomicBool::new(false));
    let h = Arc::clone(&healthy);
    let w = start(move |_, req, _| {
        let path = req.target.as_str();
        if !h.load(Ordering::SeqCst) {
            return Reply::json(503, "down");
        }
        match ip_of(path) {
            Some(_) => Reply::json(200, fixture("apnic/apnic-1.1.1.1-2024-07-26.json")),
            None => not_found(),
        }
    });
    wd.ok(&["gen-seeds", "--within", "1.1.1.0/24"]);
    let mut args = crawl_args(&w);
    args.extend(["--attempts", "2"].map(String::from));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = wd.run(&args);
    assert_eq!(out.status.code(), Some(1), "exit 1: finished with failures");
    let st = json(&wd.ok(&["stats", "--json"]));
    assert_eq!(st["seeds"]["failed"], 1);
    let f = &st["failures"][0];
    assert_eq!(f["addr"], "1.1.1.0");
    assert_eq!(f["registry"], "apnic");
    assert!(f["reason"].as_str().unwrap().contains("HTTP 503"), "{f}");
    assert_eq!(f["attempts"], 2);

    healthy.store(true, Ordering::SeqCst);
    let summary = json(&wd.ok(&args));
    assert_eq!(summary["failures"], 0);
    assert_eq!(summary["networks"], 1);
    let st = json(&wd.ok(&["stats", "--json"]));
    assert_eq!(st["seeds"]["failed"], 0);
    assert_eq!(st["seeds"]["done"], 1);
}
