//! Hostile answers, each against a scripted local server: the lookup is
//! refused with a recorded reason (`stats --json` → `failures[].reason`),
//! the crawl goes on and stores the other registries' networks, the
//! known-network set is not poisoned (a later good network in the same lane
//! is still found; `lookup` never returns the hostile one), and `coverage`
//! reads exactly as in a run where the hostile address answered 404.
//!
//! The world: APNIC 1.1.1.0/24 and RIPE 193.0.0.0/21 (real answers), ARIN
//! `GOOD-NET` 8.8.9.0/24; the hostile answer comes for the ARIN seed 8.8.8.0.

use std::io::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::server::{
    a, ip_of, not_found, start, Bases, CrawlArgs, Registries, Registry, Reply, Request, Stream,
};
use crate::util::{fixture, json, jsonl, Workdir};

const GOOD_NET: &str = r#"{"objectClassName":"ip network","handle":"GOOD-NET-1",
 "startAddress":"8.8.9.0","endAddress":"8.8.9.255","ipVersion":"v4","name":"GOOD-NET",
 "type":"DIRECT ASSIGNMENT","status":["active"],"rdapConformance":["rdap_level_0"]}"#;

/// A network answer for the hostile seed with the given members replaced.
fn evil(start: &str, end: &str, extra: &str) -> String {
    format!(
        r#"{{"objectClassName":"ip network","handle":"EVIL-1","name":"EVIL",
 "startAddress":"{start}","endAddress":"{end}","ipVersion":"v4","status":["active"]{extra}}}"#
    )
}

type Hostile = dyn Fn(Registry, &str, &Bases) -> Option<Reply> + Send + Sync;

/// The scripted world; `hostile(registry, path, bases)` answers first when it wants to.
fn world(
    hostile: impl Fn(Registry, &str, &Bases) -> Option<Reply> + Send + Sync + 'static,
) -> Registries {
    let hostile: Box<Hostile> = Box::new(hostile);
    start(move |reg, req: &Request, bases| {
        let path = req.target.as_str();
        if let Some(r) = hostile(reg, path, bases) {
            return r;
        }
        let Some((addr, len)) = ip_of(path) else {
            return not_found();
        };
        let inside = |lo: &str, hi: &str| addr >= a(lo) && addr <= a(hi);
        match reg {
            Registry::Apnic if inside("1.1.1.0", "1.1.1.255") && len >= 24 => {
                Reply::json(200, fixture("apnic/apnic-1.1.1.1-2024-07-26.json"))
            }
            Registry::Ripe if inside("193.0.0.0", "193.0.7.255") && len >= 21 => {
                Reply::json(200, fixture("ripe/ripe-193.0.6.139.json"))
            }
            Registry::Arin if inside("8.8.9.0", "8.8.9.255") && len >= 24 => {
                Reply::json(200, GOOD_NET)
            }
            _ => not_found(),
        }
    })
}

/// Whether a request path asks ARIN-space seed 8.8.8.x (the hostile one).
fn is_target(path: &str) -> bool {
    ip_of(path).is_some_and(|(addr, _)| addr >> 8 == a("8.8.8.0") >> 8)
}

fn crawl_args(w: &Registries, extra: &[&str]) -> Vec<String> {
    let mut v = vec![
        "--threads",
        "4",
        "--retry-base-ms",
        "10",
        "--attempts",
        "2",
        "--connect-timeout",
        "2",
    ];
    if !extra.contains(&"--timeout") {
        v.extend(["--timeout", "5"]);
    }
    v.extend_from_slice(extra);
    w.crawl_args(&v)
}

/// Seeds, crawl; returns the crawl's exit code and stderr.
fn crawl(wd: &Workdir, w: &Registries, extra: &[&str]) -> (Option<i32>, String) {
    wd.ok(&[
        "gen-seeds",
        "--within",
        "1.1.1.0/24",
        "--within",
        "193.0.0.0/22",
        "--within",
        "8.8.8.0/23",
    ]);
    let args = crawl_args(w, extra);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = wd.run(&args);
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(!err.contains("panicked"), "{err}");
    (out.status.code(), err)
}

/// What every run must show, hostile answer or not.
fn assert_unpoisoned(wd: &Workdir) {
    let rows = jsonl(&wd.ok(&["export", "--placeholders"]));
    let handles: Vec<&str> = rows.iter().map(|r| r["handle"].as_str().unwrap()).collect();
    assert_eq!(
        handles,
        [
            "1.1.1.0 - 1.1.1.255",
            "GOOD-NET-1",
            "193.0.0.0 - 193.0.7.255"
        ],
        "exactly the good networks, nothing hostile stored: {rows:?}"
    );
    let hits = jsonl(&wd.ok(&["lookup", "8.8.8.8", "8.8.9.9", "0.0.0.1", "200.1.1.1"]));
    assert_eq!(hits[0]["network"], serde_json::Value::Null, "{hits:?}");
    assert_eq!(hits[1]["network"]["handle"], "GOOD-NET-1");
    assert_eq!(hits[2]["network"], serde_json::Value::Null);
    assert_eq!(hits[3]["network"], serde_json::Value::Null);
    let cov = json(&wd.ok(&["coverage", "--json"]));
    assert_eq!(cov["networks"], 3, "{cov}");
    assert_eq!(cov["cidrs"], 3, "{cov}");
    assert_eq!(cov["addresses"], 256 + 2048 + 256, "{cov}");
    assert_eq!(cov["by_registry"]["arin"]["networks"], 1, "{cov}");
    assert_eq!(cov["by_registry"]["arin"]["addresses"], 256, "{cov}");
    assert_eq!(cov["placeholders"], 0, "{cov}");
}

/// The hostile lookup is the one failure, with a reason containing `needle`.
fn assert_rejected(wd: &Workdir, code: Option<i32>, needle: &str) {
    assert_eq!(code, Some(1), "finished, with a failure");
    let st = json(&wd.ok(&["stats", "--json"]));
    let fails = st["failures"].as_array().unwrap();
    assert_eq!(fails.len(), 1, "{fails:?}");
    assert_eq!(fails[0]["addr"], "8.8.8.0");
    assert_eq!(fails[0]["registry"], "arin");
    let reason = fails[0]["reason"].as_str().unwrap();
    assert!(
        reason.contains(needle),
        "reason {reason:?} lacks {needle:?}"
    );
    assert!(!reason.contains('\n'), "one line: {reason:?}");
    eprintln!("refused as expected: {reason}");
    assert_eq!(st["seeds"]["pending"], 0);
    assert_unpoisoned(wd);
}

/// A hostile 200 body for the target.
fn body_case(name: &str, body: Vec<u8>, needle: &str) {
    let wd = Workdir::new(name);
    let w = world(move |reg, path, _| {
        (reg == Registry::Arin && is_target(path)).then(|| Reply::json(200, body.clone()))
    });
    let (code, _) = crawl(&wd, &w, &[]);
    assert_rejected(&wd, code, needle);
}

#[test]
fn baseline_404_gives_the_same_coverage() {
    let wd = Workdir::new("hostile-baseline");
    let w = world(|_, _, _| None);
    let (code, err) = crawl(&wd, &w, &[]);
    assert_eq!(code, Some(0), "{err}");
    assert_unpoisoned(&wd);
}

#[test]
fn non_placeholder_claiming_everything() {
    body_case(
        "hostile-all",
        evil("0.0.0.0", "255.255.255.255", "").into_bytes(),
        "spans more than one /8",
    );
}

#[test]
fn non_placeholder_claiming_a_slash_1() {
    body_case(
        "hostile-slash1",
        evil("0.0.0.0", "127.255.255.255", "").into_bytes(),
        "spans more than one /8",
    );
}

#[test]
fn range_not_containing_the_query() {
    body_case(
        "hostile-outside",
        evil("9.9.9.0", "9.9.9.255", "").into_bytes(),
        "does not contain the query 8.8.8.0",
    );
}

#[test]
fn start_after_end() {
    body_case(
        "hostile-inverted",
        evil("8.8.8.255", "8.8.8.0", "").into_bytes(),
        "startAddress 8.8.8.255 is after endAddress 8.8.8.0",
    );
}

#[test]
fn ipv6_in_an_ipv4_answer() {
    body_case(
        "hostile-v6",
        evil("2001:db8::", "2001:db8::ffff", "").into_bytes(),
        "not an IPv4 network",
    );
    body_case(
        "hostile-v6-label",
        evil("8.8.8.0", "8.8.8.255", r#","ipVersion":"v6""#)
            .replacen(r#""ipVersion":"v4","#, "", 1)
            .into_bytes(),
        "not an IPv4 network",
    );
}

#[test]
fn invalid_utf8() {
    let mut body = evil("8.8.8.0", "8.8.8.255", "").into_bytes();
    let at = body.iter().position(|&b| b == b'E').unwrap();
    body[at] = 0xff;
    body_case("hostile-utf8", body, "not UTF-8");
}

#[test]
fn deeply_nested_json() {
    let mut deep = "[".repeat(100_000);
    deep.push_str(&"]".repeat(100_000));
    body_case("hostile-deep", deep.into_bytes(), "deeper than 64");
    // Depth hidden inside an otherwise fine network.
    let nested = format!(r#","entities":{}1{}"#, "[".repeat(500), "]".repeat(500));
    body_case(
        "hostile-deep-inner",
        evil("8.8.8.0", "8.8.8.255", &nested).into_bytes(),
        "deeper than 64",
    );
}

#[test]
fn fifty_megabytes_are_refused_at_the_cap() {
    let wd = Workdir::new("hostile-50mb");
    let sent = Arc::new(AtomicU64::new(0));
    let s = Arc::clone(&sent);
    let w = world(move |reg, path, _| {
        (reg == Registry::Arin && is_target(path)).then(|| {
            Reply::streamed(Stream {
                content_length: Some(50 << 20),
                chunk: vec![b' '; 64 << 10],
                total: 50 << 20,
                pause: Duration::ZERO,
                sent: Arc::clone(&s),
            })
        })
    });
    let t = Instant::now();
    let (code, _) = crawl(&wd, &w, &[]);
    assert_rejected(&wd, code, "body over 4194304 bytes");
    // The client stopped reading at the cap: the server could not push the
    // 50 MB through (socket buffers absorb a few MB at most).
    let n = sent.load(Ordering::SeqCst);
    assert!(n < 20 << 20, "server wrote {n} bytes");
    assert!(t.elapsed() < Duration::from_secs(30));
}

#[test]
fn gzip_bomb_is_capped_after_decoding() {
    // 64 MB of spaces compress to ~64 KB; the 4 MiB cap applies to what ureq decodes.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let block = vec![b' '; 1 << 20];
    for _ in 0..64 {
        gz.write_all(&block).unwrap();
    }
    let bomb = gz.finish().unwrap();
    let wd = Workdir::new("hostile-gzip");
    let w = world(move |reg, path, _| {
        (reg == Registry::Arin && is_target(path)).then(|| {
            let mut r = Reply::json(200, bomb.clone());
            r.headers.push(("Content-Encoding".into(), "gzip".into()));
            r
        })
    });
    let (code, _) = crawl(&wd, &w, &[]);
    assert_rejected(&wd, code, "body over 4194304 bytes");
}

#[test]
fn a_body_that_trickles_forever_is_ended_by_the_timeout() {
    let wd = Workdir::new("hostile-trickle");
    let sent = Arc::new(AtomicU64::new(0));
    let s = Arc::clone(&sent);
    let w = world(move |reg, path, _| {
        (reg == Registry::Arin && is_target(path)).then(|| {
            Reply::streamed(Stream {
                content_length: Some(1 << 30),
                chunk: b" ".to_vec(),
                total: u64::MAX,
                pause: Duration::from_millis(50),
                sent: Arc::clone(&s),
            })
        })
    });
    let t = Instant::now();
    let (code, _) = crawl(&wd, &w, &["--timeout", "1"]);
    let took = t.elapsed();
    assert_rejected(&wd, code, "timeout");
    // Two attempts of ~1 s each, not forever.
    assert!(took < Duration::from_secs(20), "{took:?}");
    assert!(sent.load(Ordering::SeqCst) > 0, "the trickle did start");
}

#[test]
fn redirect_loop() {
    let wd = Workdir::new("hostile-loop");
    let w = world(|reg, path, bases| {
        if !is_target(path) {
            return None;
        }
        let to = if reg == Registry::Arin {
            Registry::Ripe
        } else {
            Registry::Arin
        };
        Some(Reply::redirect(&format!(
            "{}{}",
            bases[to.index()],
            path.trim_start_matches('/')
        )))
    });
    let (code, _) = crawl(&wd, &w, &[]);
    assert_rejected(&wd, code, "redirect loop");
}

#[test]
fn endless_redirect_chain() {
    // Every hop a new URL (no loop): stopped after 5 hops.
    let wd = Workdir::new("hostile-chain");
    let w = world(|reg, path, bases| {
        if !path.starts_with("/ip/8.8.8.") {
            return None;
        }
        let (addr, _) = ip_of(path)?;
        let next = std::net::Ipv4Addr::from(addr + 1);
        let to = if reg == Registry::Arin {
            Registry::Ripe
        } else {
            Registry::Arin
        };
        Some(Reply::redirect(&format!("{}ip/{next}", bases[to.index()])))
    });
    let (code, _) = crawl(&wd, &w, &[]);
    assert_rejected(&wd, code, "more than 5 redirects");
}

#[test]
fn redirect_to_a_host_that_is_not_a_registry() {
    // 127.0.0.1:1 is no configured registry: refused before any connection.
    for (name, loc) in [
        ("hostile-foreign-port", "http://127.0.0.1:1/ip/8.8.8.0"),
        (
            "hostile-foreign-name",
            "https://rdap.evil.invalid/ip/8.8.8.0",
        ),
        (
            "hostile-foreign-userinfo",
            "http://rdap.arin.net@127.0.0.1:1/ip/8.8.8.0",
        ),
    ] {
        let wd = Workdir::new(name);
        let w = world(move |reg, path, _| {
            (reg == Registry::Arin && is_target(path)).then(|| Reply::redirect(loc))
        });
        let (code, _) = crawl(&wd, &w, &[]);
        assert_rejected(&wd, code, "redirect to a host that is not a registry");
    }
}

#[test]
fn https_to_http_downgrade_goes_to_the_configured_base_only() {
    // A registry redirects to plain http on another registry's public host.
    // The scheme, host and port come from that registry's configured base
    // (here the local RIPE server, given with --registry), never from the
    // Location: the request lands on the local RIPE server, and a public
    // host is never contacted. (With the bundled bootstrap the same Location
    // becomes https://rdap.db.ripe.net/...: see the bootstrap unit tests.)
    let wd = Workdir::new("hostile-downgrade");
    let w = world(|reg, path, _| {
        if !is_target(path) {
            return None;
        }
        Some(match reg {
            Registry::Arin => Reply::redirect("http://rdap.db.ripe.net/ip/8.8.8.0"),
            _ => not_found(),
        })
    });
    let (code, err) = crawl(&wd, &w, &[]);
    assert_eq!(code, Some(0), "{err}");
    let reqs = w.requests();
    assert!(
        reqs.contains(&(Registry::Ripe, "/ip/8.8.8.0".to_string())),
        "{reqs:?}"
    );
    let st = json(&wd.ok(&["stats", "--json"]));
    assert_eq!(st["by_registry"]["arin"]["redirects"], 1, "{st}");
    assert_unpoisoned(&wd);
}

#[test]
fn a_later_crawl_retries_and_heals() {
    // The hostile answer is recorded; once the server behaves, the next run
    // retries the failed seed and the failure disappears.
    let wd = Workdir::new("hostile-heal");
    let healed = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let h = Arc::clone(&healed);
    let w = world(move |reg, path, _| {
        if reg != Registry::Arin || !is_target(path) {
            return None;
        }
        Some(if h.load(Ordering::SeqCst) {
            not_found()
        } else {
            Reply::json(200, evil("0.0.0.0", "255.255.255.255", ""))
        })
    });
    let (code, _) = crawl(&wd, &w, &[]);
    assert_rejected(&wd, code, "spans more than one /8");
    healed.store(true, Ordering::SeqCst);
    let args = crawl_args(&w, &[]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    wd.ok(&args);
    let st = json(&wd.ok(&["stats", "--json"]));
    assert_eq!(st["failures"], serde_json::json!([]));
    assert_unpoisoned(&wd);
}

// ------------------------------------------------------------ hostile sizes

/// `"entities":[{},{},…]` with `n` empty entities (3 bytes each).
fn empty_entities(n: usize) -> String {
    let mut s = String::with_capacity(3 * n + 16);
    s.push_str(r#","entities":["#);
    for i in 0..n {
        if i > 0 {
            s.push(',');
        }
        s.push_str("{}");
    }
    s.push(']');
    s
}

/// Runs `ipcrawl --db <wd>/test.redb ARGS` under GNU time; returns the
/// output and the child's peak resident set in KiB (its own `wait4`
/// rusage, so other tests' processes do not count).
fn run_measured(wd: &Workdir, args: &[&str]) -> (std::process::Output, u64) {
    let time = std::path::Path::new("/usr/bin/time");
    assert!(
        time.exists(),
        "the memory tests need GNU time at /usr/bin/time (Debian package `time`)"
    );
    let out = std::process::Command::new(time)
        .arg("-v")
        .arg(env!("CARGO_BIN_EXE_ipcrawl"))
        .current_dir(&wd.dir)
        .env_remove("IPCRAWL_DB")
        .arg("--db")
        .arg(wd.db())
        .args(args)
        .output()
        .expect("run ipcrawl under /usr/bin/time");
    let err = String::from_utf8_lossy(&out.stderr);
    let kib = err
        .lines()
        .find_map(|l| l.trim().strip_prefix("Maximum resident set size (kbytes):"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no peak RSS in GNU time's report:\n{err}"));
    (out, kib)
}

/// A peak no refused hostile answer may push a small crawl over: the
/// crawl itself needs ~30 MB; the unfixed parser needed 220 MB for one
/// such answer and 1.9 GB for sixteen.
const RSS_BOUND_KIB: u64 = 200 * 1024;

/// The issue-15 answer: 3 MB holding 10^6 empty entities, for the target.
#[test]
fn a_million_empty_entities_are_refused_with_bounded_memory() {
    let body = evil("8.8.8.0", "8.8.8.255", &empty_entities(1_000_000)).into_bytes();
    assert!(
        body.len() > 3_000_000 && body.len() < 4 << 20,
        "{}",
        body.len()
    );
    let wd = Workdir::new("hostile-entities");
    let w = world(move |reg, path, _| {
        (reg == Registry::Arin && is_target(path)).then(|| Reply::json(200, body.clone()))
    });
    wd.ok(&[
        "gen-seeds",
        "--within",
        "1.1.1.0/24",
        "--within",
        "193.0.0.0/22",
        "--within",
        "8.8.8.0/23",
    ]);
    let args = crawl_args(&w, &[]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (out, kib) = run_measured(&wd, &args);
    let db = std::fs::metadata(wd.db()).map_or(0, |m| m.len());
    // The same crawl with a 404 instead, for the report's comparison.
    let base = Workdir::new("hostile-entities-baseline");
    base.ok(&[
        "gen-seeds",
        "--within",
        "1.1.1.0/24",
        "--within",
        "193.0.0.0/22",
        "--within",
        "8.8.8.0/23",
    ]);
    let quiet = world(|_, _, _| None);
    let args = crawl_args(&quiet, &[]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (_, base_kib) = run_measured(&base, &args);
    eprintln!("one 10^6-entity answer: peak RSS {kib} KiB (the same crawl with a 404: {base_kib} KiB), DB {db} bytes");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
    assert_rejected(&wd, out.status.code(), "JSON values");
    assert!(kib < RSS_BOUND_KIB, "peak RSS {kib} KiB");
    assert!(db < 16 << 20, "DB {db} bytes");
}

/// Sixteen such answers at once (16 lanes in 16 ARIN /8s, 16 threads).
#[test]
fn sixteen_hostile_answers_at_once_stay_bounded() {
    const SLASH8: [u8; 16] = [3, 4, 6, 7, 9, 11, 12, 13, 15, 16, 17, 18, 19, 20, 21, 22];
    let wd = Workdir::new("hostile-entities-16");
    let asked = Arc::new(AtomicU64::new(0));
    let seen = Arc::clone(&asked);
    let w = world(move |reg, path, _| {
        let (addr, _) = ip_of(path)?;
        let first = (addr >> 24) as u8;
        if reg != Registry::Arin || !SLASH8.contains(&first) {
            return None;
        }
        seen.fetch_add(1, Ordering::SeqCst);
        let net = addr & 0xffff_ff00;
        let (start, end) = (
            std::net::Ipv4Addr::from(net).to_string(),
            std::net::Ipv4Addr::from(net | 0xff).to_string(),
        );
        Some(Reply::json(
            200,
            evil(&start, &end, &empty_entities(1_000_000)),
        ))
    });
    let mut seeds = vec!["gen-seeds".to_string()];
    for b in SLASH8 {
        seeds.extend(["--within".to_string(), format!("{b}.0.0.0/24")]);
    }
    let seeds: Vec<&str> = seeds.iter().map(String::as_str).collect();
    wd.ok(&seeds);
    let args = w.crawl_args(&[
        "--threads",
        "16",
        "--retry-base-ms",
        "10",
        "--attempts",
        "2",
        "--timeout",
        "20",
    ]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (out, kib) = run_measured(&wd, &args);
    let db = std::fs::metadata(wd.db()).map_or(0, |m| m.len());
    eprintln!("sixteen 10^6-entity answers: peak RSS {kib} KiB, DB {db} bytes");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(asked.load(Ordering::SeqCst), 16, "one query per /24");
    assert_eq!(out.status.code(), Some(1), "{err}");
    let st = json(&wd.ok(&["stats", "--json"]));
    let fails = st["failures"].as_array().unwrap();
    assert_eq!(fails.len(), 16, "{fails:?}");
    for f in fails {
        let reason = f["reason"].as_str().unwrap();
        assert!(reason.contains("JSON values"), "{reason}");
        assert!(!reason.contains('\n'), "{reason}");
    }
    assert_eq!(st["networks"], 0, "{st}");
    assert!(kib < RSS_BOUND_KIB, "peak RSS {kib} KiB");
    assert!(db < 16 << 20, "DB {db} bytes");
}

#[test]
fn sixty_five_entities_or_a_long_name_are_refused() {
    let entities: Vec<String> = (0..65)
        .map(|i| format!(r#"{{"handle":"E{i}","roles":["technical"]}}"#))
        .collect();
    body_case(
        "hostile-65-entities",
        evil(
            "8.8.8.0",
            "8.8.8.255",
            &format!(r#","entities":[{}]"#, entities.join(",")),
        )
        .into_bytes(),
        "more than 64 entities (nested ones included)",
    );
    body_case(
        "hostile-long-name",
        evil("8.8.8.0", "8.8.8.255", "")
            .replacen(
                r#""name":"EVIL""#,
                &format!(r#""name":"{}""#, "N".repeat(5000)),
                1,
            )
            .into_bytes(),
        "name is 5000 bytes long (limit 1024)",
    );
}
