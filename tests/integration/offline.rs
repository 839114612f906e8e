//! A crawl with no registry reachable, for real: every `--registry` at a
//! 127.0.0.1 port with nothing listening (connection refused), at a name
//! that cannot resolve (`nonexistent.invalid`: a DNS failure, and no query
//! leaves the machine, RFC 6761), or at scripted servers that accept and
//! never answer (request timeouts). Each run must name the cause per
//! registry in its JSON progress lines, in its summary and in `stats`, stop
//! by itself after `--unreachable-after` with exit 2 and a one-line
//! diagnosis, and leave the DB resumable.

use std::process::Output;
use std::time::Duration;

use crate::server::{self, Registry, Reply};
use crate::util::{json, jsonl, Workdir};

/// Seeds in ARIN (8.0.0.0/16) and RIPE NCC (193.0.0.0/16) space: far more
/// lookups than failing ones get through before the stop.
const WITHIN: [&str; 4] = ["--within", "8.0.0.0/16", "--within", "193.0.0.0/16"];

/// `crawl` arguments aiming all five registries at `base(registry)`, with
/// short timeouts and a 2 s offline bound.
fn offline_args(base: impl Fn(Registry) -> String) -> Vec<String> {
    let mut v: Vec<String> = [
        "crawl",
        "--progress",
        "json",
        "--progress-every",
        "0.2",
        "--threads",
        "8",
        "--retry-base-ms",
        "100",
        "--timeout",
        "0.5",
        "--connect-timeout",
        "0.5",
        "--unreachable-after",
        "2",
    ]
    .map(String::from)
    .to_vec();
    for r in Registry::ALL {
        v.extend([
            "--rate".to_string(),
            format!("{r}=unlimited"),
            "--registry".into(),
            format!("{r}={}", base(r)),
        ]);
    }
    v
}

/// What an offline run printed.
struct Offline {
    summary: serde_json::Value,
    progress: Vec<serde_json::Value>,
    diagnosis: String,
}

/// Runs `args` on a DB seeded with [`WITHIN`]; insists on the offline stop.
fn run_offline(w: &Workdir, args: &[String]) -> Offline {
    w.ok(&{
        let mut g = vec!["gen-seeds"];
        g.extend(WITHIN);
        g
    });
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    let out: Output = w.run(&a);
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(
        out.status.code(),
        Some(2),
        "offline crawl exit\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
    );
    let progress: Vec<serde_json::Value> = jsonl(
        &stderr
            .lines()
            .filter(|l| l.starts_with('{'))
            .collect::<Vec<_>>()
            .join("\n"),
    );
    let diagnosis = stderr
        .lines()
        .find(|l| l.starts_with("ipcrawl: error: no registry answered"))
        .unwrap_or_else(|| panic!("no diagnosis line in\n{stderr}"))
        .to_string();
    Offline {
        summary: json(&stdout),
        progress,
        diagnosis,
    }
}

/// The checks every offline run passes: the summary, the progress lines and
/// `stats` name `cause` (a JSON key) for ARIN and RIPE NCC, the diagnosis
/// names `words` for both hosts, and nothing is lost.
fn assert_offline(
    w: &Workdir,
    o: &Offline,
    cause: &str,
    words: &str,
    host: &dyn Fn(&str) -> String,
) {
    eprintln!("{}", o.diagnosis);
    assert_eq!(o.summary["stop"], "unreachable", "{}", o.summary);
    assert_eq!(o.summary["networks"], 0);
    let tf = &o.summary["transport_failures"];
    for reg in ["arin", "ripe"] {
        let n = tf[reg][cause].as_u64().unwrap_or(0);
        assert!(n > 0, "no {cause} counted for {reg}: {tf}");
        assert!(
            o.diagnosis
                .contains(&format!("{} ({reg}): {words} (", host(reg))),
            "{reg} / {words} missing: {}",
            o.diagnosis
        );
    }
    assert!(
        o.diagnosis.contains("no registry answered in 2 s: ")
            && o.diagnosis.contains("check the network, DNS and firewall")
            && o.diagnosis.contains("run the same command again to resume"),
        "{}",
        o.diagnosis
    );
    assert_eq!(tf.as_object().map(serde_json::Map::len), Some(2), "{tf}");
    // The progress lines showed the failures while it ran.
    let seen = o
        .progress
        .iter()
        .any(|l| l["transport_failures"]["arin"][cause].as_u64().unwrap_or(0) > 0);
    assert!(
        seen,
        "no progress line named {cause}: {:?}",
        o.progress.last()
    );
    // Stored with the crawl, shown by stats.
    let stats = json(&w.ok(&["stats", "--json"]));
    assert_eq!(
        stats["by_registry"]["arin"]["transport"][cause], tf["arin"][cause],
        "{stats}"
    );
    let table = w.ok(&["stats"]);
    assert!(
        table.contains("no answer (transport failures, all runs):"),
        "{table}"
    );
    // Nothing is lost: no seed is done, each is pending or failed (retried
    // by the next run).
    let seeds = &stats["seeds"];
    assert_eq!(seeds["done"], 0, "{stats}");
    assert_eq!(
        seeds["pending"].as_u64().unwrap() + seeds["failed"].as_u64().unwrap(),
        seeds["total"].as_u64().unwrap()
    );
}

#[test]
fn nothing_listening_stops_with_refused_connections_named() {
    let w = Workdir::new("offline-refused");
    // Ports bound, then closed: nothing listens there.
    let ports: Vec<u16> = (0..5)
        .map(|_| {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        })
        .collect();
    let base = |r: Registry| format!("http://127.0.0.1:{}/", ports[r.index()]);
    let o = run_offline(&w, &offline_args(base));
    let host = |reg: &str| {
        let r: Registry = reg.parse().unwrap();
        format!("127.0.0.1:{}", ports[r.index()])
    };
    assert_offline(&w, &o, "refused", "connection refused", &host);
    let table = w.ok(&["stats"]);
    assert!(
        table.contains("arin: ") && table.contains(" refused connection"),
        "{table}"
    );
    // Run again: the same diagnosis, the counters add up.
    let before = o.summary["counters"]["by_registry"]["arin"]["transport"]["refused"]
        .as_u64()
        .unwrap();
    let args = offline_args(base);
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    let again = w.run(&a);
    assert_eq!(again.status.code(), Some(2));
    let s = json(&String::from_utf8_lossy(&again.stdout));
    let after = s["counters"]["by_registry"]["arin"]["transport"]["refused"]
        .as_u64()
        .unwrap();
    let this_run = s["transport_failures"]["arin"]["refused"].as_u64().unwrap();
    assert_eq!(after, before + this_run, "{s}");
}

#[test]
fn an_unresolvable_name_stops_with_dns_failures_named() {
    let w = Workdir::new("offline-dns");
    let o = run_offline(&w, &offline_args(|_| "http://nonexistent.invalid/".into()));
    assert_offline(&w, &o, "dns", "DNS failure", &|_| {
        "nonexistent.invalid".into()
    });
}

#[test]
fn servers_that_never_answer_stop_with_timeouts_named() {
    let w = Workdir::new("offline-timeout");
    // Every connection is accepted, read, and held without an answer for
    // far longer than the crawl's 0.5 s request timeout.
    let regs = server::start(|_, _, _| Reply {
        delay: Duration::from_secs(30),
        ..Reply::new(200)
    });
    let base = |r: Registry| regs.base_url(r).to_string();
    let o = run_offline(&w, &offline_args(base));
    let host = |reg: &str| {
        let r: Registry = reg.parse().unwrap();
        regs.base_url(r)
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_string()
    };
    assert_offline(&w, &o, "timeout", "request timeout", &host);
    assert!(!regs.requests().is_empty(), "the servers saw the requests");
}
