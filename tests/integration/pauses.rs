//! 429s over real HTTP (issue 15.6): a scripted ARIN answers `429` to the
//! lookups of 8.8.8.0/23 (one lane, so one query in flight: the counts are
//! exact), APNIC and RIPE answer with real networks. Every verdict is a
//! count of requests over a fixed number of 429s, or a counter the crawl
//! stored (pauses are summed as granted, not measured on a clock): never
//! wall time.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use crate::server::{a, ip_of, not_found, start, CrawlArgs, Registries, Registry, Reply};
use crate::util::{fixture, json, jsonl, Workdir};

const GOOD_NET: &str = r#"{"objectClassName":"ip network","handle":"GOOD-NET-1",
 "startAddress":"8.8.9.0","endAddress":"8.8.9.255","ipVersion":"v4","name":"GOOD-NET",
 "status":["active"]}"#;

/// How the scripted ARIN answers.
struct Script {
    /// 429s still to send (`u64::MAX`: for ever); then ARIN answers.
    left: AtomicU64,
    /// The 429's `Retry-After` (and `Date`) headers.
    headers: Vec<(String, String)>,
    /// ARIN requests seen.
    asked: AtomicU64,
    /// Once set, ARIN answers whatever `left` says.
    healed: AtomicBool,
}

fn world(script: Arc<Script>) -> Registries {
    start(move |reg, req, _| {
        let Some((addr, len)) = ip_of(&req.target) else {
            return not_found();
        };
        let inside = |lo: &str, hi: &str| addr >= a(lo) && addr <= a(hi);
        match reg {
            Registry::Arin if inside("8.8.8.0", "8.8.9.255") => {
                script.asked.fetch_add(1, Ordering::SeqCst);
                let limited = !script.healed.load(Ordering::SeqCst)
                    && script
                        .left
                        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                        .is_ok();
                if limited {
                    let mut r =
                        Reply::json(429, r#"{"errorCode":429,"title":"Too Many Requests"}"#);
                    r.headers.extend(script.headers.iter().cloned());
                    r
                } else if inside("8.8.9.0", "8.8.9.255") && len >= 24 {
                    Reply::json(200, GOOD_NET)
                } else {
                    not_found()
                }
            }
            Registry::Apnic if inside("1.1.1.0", "1.1.1.255") && len >= 24 => {
                Reply::json(200, fixture("apnic/apnic-1.1.1.1-2024-07-26.json"))
            }
            Registry::Ripe if inside("193.0.0.0", "193.0.7.255") && len >= 21 => {
                Reply::json(200, fixture("ripe/ripe-193.0.6.139.json"))
            }
            _ => not_found(),
        }
    })
}

/// Response headers, `(name, value)`.
type Headers<'a> = &'a [(&'a str, &'a str)];

fn script(left: u64, headers: Headers) -> Arc<Script> {
    Arc::new(Script {
        left: AtomicU64::new(left),
        headers: headers
            .iter()
            .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
            .collect(),
        asked: AtomicU64::new(0),
        healed: AtomicBool::new(false),
    })
}

/// Seeds once, then a crawl with a 50 ms floor and the given budget;
/// returns (exit code, stdout summary, stderr).
fn crawl(
    wd: &Workdir,
    w: &Registries,
    max_pause: &str,
) -> (Option<i32>, serde_json::Value, String) {
    if !wd.db().exists() {
        wd.ok(&[
            "gen-seeds",
            "--within",
            "1.1.1.0/24",
            "--within",
            "193.0.0.0/22",
            "--within",
            "8.8.8.0/23",
        ]);
    }
    let args = w.crawl_args(&[
        "--threads",
        "4",
        "--rate-limit-floor-ms",
        "50",
        "--max-pause",
        max_pause,
        "--timeout",
        "10",
    ]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = wd.run(&args);
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(!err.contains("panicked"), "{err}");
    let summary = json(&String::from_utf8_lossy(&out.stdout));
    (out.status.code(), summary, err)
}

fn handles(wd: &Workdir) -> Vec<String> {
    jsonl(&wd.ok(&["export"]))
        .iter()
        .map(|r| r["handle"].as_str().unwrap().to_string())
        .collect()
}

/// `Retry-After: 0` for ever. Before: immediate retries, 549 queries in
/// 25 s. Now: pauses of 50, 100, 200, 400 ms (the floor, doubling); the
/// fifth 429 would pass the 1 s budget, so ARIN's work is put off after
/// exactly five requests, with one line saying so; APNIC and RIPE finish;
/// exit 1; the next run (ARIN healed) continues and finishes.
#[test]
fn retry_after_zero_for_ever_is_asked_five_times_then_put_off() {
    let wd = Workdir::new("pause-zero");
    // Without the floor the pauses are 0 and the budget is never reached:
    // after 100 429s ARIN answers, and the count below fails.
    let s = script(100, &[("Retry-After", "0")]);
    let w = world(Arc::clone(&s));
    let (code, summary, err) = crawl(&wd, &w, "1");
    assert_eq!(s.asked.load(Ordering::SeqCst), 5, "{err}");
    assert_eq!(code, Some(1), "{err}");
    assert_eq!(summary["stop"], "put_off", "{summary}");
    let line = "ipcrawl: arin: 5 rate limits (429) paused it for 750 ms this run and the next pause would pass --max-pause 1 s (last Retry-After: 0 s); its remaining work is put off to the next run, the other registries carry on";
    assert_eq!(err.lines().filter(|l| *l == line).count(), 1, "{err}");
    assert!(
        err.contains("ipcrawl: finished with work left: the remaining work of arin was put off"),
        "{err}"
    );
    assert_eq!(summary["put_off"]["arin"], &line["ipcrawl: ".len()..]);
    assert_eq!(
        handles(&wd),
        ["1.1.1.0 - 1.1.1.255", "193.0.0.0 - 193.0.7.255"]
    );
    let st = json(&wd.ok(&["stats", "--json"]));
    let arin = &st["by_registry"]["arin"];
    assert_eq!(arin["rate_limited"], 5, "{st}");
    assert_eq!(arin["pause_429_ms"], 50 + 100 + 200 + 400, "{st}");
    assert_eq!(arin["retry_after_max_s"], 0, "{st}");
    assert_eq!(arin["put_off"], 1, "{st}");
    assert_eq!(
        st["failures"],
        serde_json::json!([]),
        "put off is not failed"
    );
    assert_eq!(st["seeds"]["pending"], 2, "{st}");
    let table = wd.ok(&["stats"]);
    assert!(
        table.contains(
            "  arin: paused 0.8 s by 429s, largest Retry-After 0 s, work put off in 1 run(s)"
        ),
        "{table}"
    );
    // The next run continues where this one stopped.
    s.healed.store(true, Ordering::SeqCst);
    let (code, summary, err) = crawl(&wd, &w, "1");
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(summary["stop"], "finished");
    assert_eq!(
        handles(&wd),
        [
            "1.1.1.0 - 1.1.1.255",
            "GOOD-NET-1",
            "193.0.0.0 - 193.0.7.255"
        ]
    );
    assert_eq!(
        s.asked.load(Ordering::SeqCst),
        5 + 2,
        "8.8.8.0 (404), 8.8.9.0"
    );
}

/// Three 429s with `Retry-After: 0`, then answers: asked exactly four
/// times for 8.8.8.0, paused 50 + 100 + 200 ms, and the crawl finishes.
#[test]
fn three_429s_cost_three_growing_pauses_and_one_more_query() {
    let wd = Workdir::new("pause-three");
    let s = script(3, &[("Retry-After", "0")]);
    let w = world(Arc::clone(&s));
    let (code, _, err) = crawl(&wd, &w, "3600");
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(
        s.asked.load(Ordering::SeqCst),
        3 + 2,
        "three 429s, then 8.8.8.0 and 8.8.9.0"
    );
    let ask = w
        .requests()
        .iter()
        .filter(|(r, p)| *r == Registry::Arin && p.starts_with("/ip/8.8.8."))
        .count();
    assert_eq!(ask, 4);
    let st = json(&wd.ok(&["stats", "--json"]));
    assert_eq!(st["by_registry"]["arin"]["rate_limited"], 3, "{st}");
    assert_eq!(st["by_registry"]["arin"]["pause_429_ms"], 350, "{st}");
    assert_eq!(st["by_registry"]["arin"]["put_off"], 0, "{st}");
}

/// A `Retry-After` of 31 years is capped at an hour; with a budget under
/// an hour the first 429 puts ARIN off, and the message and stats show
/// what the server asked for. A `Retry-After` HTTP-date is read against
/// the server's `Date`; garbage counts as absent.
#[test]
fn huge_dated_and_garbage_retry_afters() {
    let cases: [(Headers, &str, u64); 3] = [
        (&[("Retry-After", "999999999")], "999999999 s", 999_999_999),
        (
            &[
                ("Date", "Sun, 06 Nov 1994 08:49:37 GMT"),
                ("Retry-After", "Sun, 06 Nov 1994 09:49:37 GMT"),
            ],
            "3600 s",
            3600,
        ),
        (&[("Retry-After", "soon, maybe")], "none", 0),
    ];
    for (i, (headers, shown, max)) in cases.into_iter().enumerate() {
        let wd = Workdir::new(&format!("pause-huge-{i}"));
        let s = script(u64::MAX, headers);
        let w = world(Arc::clone(&s));
        // Without a Retry-After the pause is the 60 s base: over the budget too.
        let (code, _, err) = crawl(&wd, &w, "30");
        assert_eq!(code, Some(1), "{err}");
        assert_eq!(s.asked.load(Ordering::SeqCst), 1, "{headers:?}: {err}");
        let want = format!(
            "ipcrawl: arin: 1 rate limits (429) paused it for 0 ms this run and the next pause would pass --max-pause 30 s (last Retry-After: {shown})"
        );
        assert!(err.contains(&want), "{headers:?}: {err}");
        let st = json(&wd.ok(&["stats", "--json"]));
        assert_eq!(st["by_registry"]["arin"]["retry_after_max_s"], max, "{st}");
        assert_eq!(st["by_registry"]["arin"]["put_off"], 1, "{st}");
        assert_eq!(handles(&wd).len(), 2);
    }
}
