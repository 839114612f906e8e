//! `crawl --refresh` and `export --history` (issue 13.3 and 13.4) over real
//! HTTP: a DB crawled from the epoch-0 world is refreshed against the same
//! world a year on (a second world process, `--epoch 1`, with its own
//! statistics), and compared with a fresh crawl of that world: the same
//! current view, for a small part of its queries, the replaced and removed
//! versions in the history. Then a refresh with nothing changed asks
//! nothing, and `--max-age` asks every network again.

use std::collections::BTreeSet;
use std::ffi::OsStr;
use std::path::Path;

use crate::localworld::{crawl, gen_seeds, ok, LocalWorld};
use crate::util::{json, jsonl, Workdir};

/// RIPE NCC, AFRINIC's free pool, LACNIC and ARIN space (as in `fresh`).
const SCOPE: [&str; 4] = [
    "102.192.0.0/12",
    "185.0.0.0/14",
    "200.0.0.0/14",
    "23.0.0.0/14",
];

/// A day after each world's date (epoch 0: 2026-08-21, epoch 1: a year on):
/// its statistics are fresh.
const DAY_0: &str = "2026-08-22";
const DAY_1: &str = "2027-08-22";

/// What an exported record says about the network, without how and when it
/// was fetched (`fetched_at`, `queried`, `source_url`: the URLs name each
/// world process's port) and without the history's validity.
fn content(r: &serde_json::Value) -> String {
    let mut r = r.clone();
    if let Some(o) = r.as_object_mut() {
        for k in [
            "fetched_at",
            "queried",
            "source_url",
            "valid_from",
            "valid_until",
        ] {
            o.remove(k);
        }
    }
    r.to_string()
}

fn view(db: &Path, args: &[&str]) -> Vec<serde_json::Value> {
    jsonl(&ok(db, args))
}

fn contents(rows: &[serde_json::Value]) -> BTreeSet<String> {
    rows.iter().map(content).collect()
}

/// A finished crawl: its summary and stderr.
fn finished(db: &Path, args: &[String]) -> (serde_json::Value, String) {
    let run = crawl(db, args, None);
    assert!(run.status.success(), "crawl {args:?}: {}", run.stderr);
    let s = run.summary.expect("summary");
    assert_eq!(s["stop"], "finished", "{s}");
    (s, run.stderr)
}

fn args_for(world: &LocalWorld, day: &str, extra: &[&str]) -> Vec<String> {
    let mut a = world.crawl_args();
    a.extend(world.stats_args());
    a.extend(["--today".to_string(), day.to_string()]);
    a.extend(extra.iter().map(ToString::to_string));
    a
}

#[test]
fn a_refresh_reaches_the_fresh_crawls_view_for_a_fraction_of_its_queries() {
    let w = Workdir::new("refresh");
    let old_db = w.path("old.redb");
    let new_db = w.path("new.redb");

    // Epoch 0: the DB to refresh.
    let world0 = LocalWorld::start(&w.dir, &SCOPE, 0);
    gen_seeds(&old_db, &SCOPE);
    let (first, _) = finished(&old_db, &args_for(&world0, DAY_0, &[]));
    assert!(first["refresh"].is_null(), "{first}");
    drop(world0);
    let before = view(&old_db, &["export"]);
    assert!(view(&old_db, &["export", "--history"]).is_empty());

    // Epoch 1, a second world process: a fresh crawl, and the refresh.
    let truth_file = w.path("truth.json");
    let extra = [
        OsStr::new("--epoch"),
        OsStr::new("1"),
        OsStr::new("--truth"),
        truth_file.as_os_str(),
    ];
    let world1 = LocalWorld::start_with(&w.dir, &SCOPE, 0, &extra);
    let truth = json(&std::fs::read_to_string(&truth_file).expect("truth file"));
    let kinds: BTreeSet<&str> = truth["epochs"][0]["blocks"]
        .as_array()
        .expect("blocks")
        .iter()
        .filter_map(|b| b["change"].as_str())
        .collect();
    assert!(kinds.len() >= 3, "too few kinds of change: {kinds:?}");
    gen_seeds(&new_db, &SCOPE);
    let (full, _) = finished(&new_db, &args_for(&world1, DAY_1, &[]));
    let (re, err) = finished(&old_db, &args_for(&world1, DAY_1, &["--refresh"]));
    let r = &re["refresh"];
    assert_eq!(r["finished"], true, "{re}");
    assert!(
        r["new_blocks"].as_u64().unwrap() + r["changed_blocks"].as_u64().unwrap() > 0
            && r["gone_blocks"].as_u64().unwrap() + r["changed_blocks"].as_u64().unwrap() > 0,
        "{r}"
    );
    assert!(err.contains("ipcrawl: refresh: "), "{err}");
    assert!(r["no_baseline"] == false, "{r}");

    // The same current view as the fresh crawl.
    let after = view(&old_db, &["export"]);
    let fresh = view(&new_db, &["export"]);
    let (a, f) = (contents(&after), contents(&fresh));
    let only_refresh: Vec<&String> = a.difference(&f).take(5).collect();
    let only_fresh: Vec<&String> = f.difference(&a).take(5).collect();
    assert!(
        a == f,
        "{} networks only in the refreshed view, e.g. {only_refresh:?}; {} only in the fresh crawl's, e.g. {only_fresh:?}",
        a.difference(&f).count(),
        f.difference(&a).count()
    );

    // For a fraction of the queries.
    let (rq, fq) = (
        re["run_queries"].as_u64().unwrap(),
        full["run_queries"].as_u64().unwrap(),
    );
    eprintln!(
        "refresh: {rq} queries, fresh crawl of the epoch-1 world: {fq} ({:.1} %); {r}",
        rq as f64 * 100.0 / fq as f64
    );
    assert!(rq * 2 < fq, "the refresh asked {rq}, a fresh crawl {fq}");

    // The history: exactly the versions the refresh replaced or removed.
    let history = view(&old_db, &["export", "--history"]);
    let old: BTreeSet<String> = contents(&before);
    let replaced: BTreeSet<String> = old.difference(&a).cloned().collect();
    assert!(!replaced.is_empty());
    assert_eq!(contents(&history), replaced);
    let gone = r["networks_gone"].as_u64().unwrap();
    let changed = r["networks_replaced"].as_u64().unwrap();
    assert!(gone > 0 && changed > 0, "{r}");
    assert_eq!(gone + changed, history.len() as u64, "{r}");
    for h in &history {
        assert!(
            h["valid_until"]
                .as_str()
                .is_some_and(|u| u.starts_with("20")),
            "{h}"
        );
        assert!(h["valid_from"] == h["fetched_at"], "{h}");
        assert!(h["valid_from"].as_str() < h["valid_until"].as_str(), "{h}");
    }
    // Every format has the columns.
    let csv = ok(&old_db, &["export", "--history", "--format", "csv"]);
    assert!(
        csv.lines()
            .next()
            .unwrap()
            .ends_with(",placeholder,valid_from,valid_until"),
        "{csv}"
    );
    assert_eq!(csv.lines().count(), history.len() + 1);

    // Nothing changed since: a second refresh finds nothing, removes nothing.
    let (again, _) = finished(&old_db, &args_for(&world1, DAY_1, &["--refresh"]));
    let r2 = &again["refresh"];
    for k in [
        "new_blocks",
        "changed_blocks",
        "gone_blocks",
        "networks_gone",
    ] {
        assert_eq!(r2[k], 0, "{k}: {r2}");
    }
    assert_eq!(contents(&view(&old_db, &["export"])), a);
    assert_eq!(view(&old_db, &["export", "--history"]).len(), history.len());

    // --max-age: every network is older than a second by now, so all are
    // asked again; nothing changed, so none is replaced or gone.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let (aged, _) = finished(
        &old_db,
        &args_for(&world1, DAY_1, &["--refresh", "--max-age", "1s"]),
    );
    let r3 = &aged["refresh"];
    assert_eq!(
        r3["aged_networks"].as_u64(),
        Some(after.len() as u64),
        "{r3}"
    );
    assert_eq!(
        (&r3["networks_gone"], &r3["networks_replaced"]),
        (&0.into(), &0.into()),
        "{r3}"
    );
    assert!(aged["run_queries"].as_u64().unwrap() > rq, "{aged}");
    assert_eq!(contents(&view(&old_db, &["export"])), a);
    assert_eq!(view(&old_db, &["export", "--history"]).len(), history.len());
}

#[test]
fn max_age_needs_refresh_and_a_duration() {
    let w = Workdir::new("refresh-args");
    for (args, want) in [
        (&["crawl", "--max-age", "7d"][..], "--refresh"),
        (
            &["crawl", "--refresh", "--max-age", "7y"][..],
            "is not a duration",
        ),
        (&["export", "--history", "--raw"][..], "--raw"),
    ] {
        let out = w.run(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(want), "{args:?}: {err}");
    }
}
