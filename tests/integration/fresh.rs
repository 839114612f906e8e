//! Fresh delegated statistics (issue 13.1) over real HTTP: an epoch-1 world
//! (a year on: new allocations in space the bundled snapshot calls free)
//! crawled with the statistics its servers publish, fetched the way a crawl
//! fetches the registries' own; with the bundle only (older than 30 days,
//! so its free space is probed at every seed); and with the bundle trusted
//! as if it were recent (coarse probing of its free space), which misses
//! new allocations. Then the fallbacks, against scripted servers: a stale,
//! a truncated and a garbage file, a 404 and a refused connection, each
//! with its one-line warning, and a stored copy that a bad fetch never
//! replaces; `--delegated` files; bad arguments.

use std::collections::BTreeSet;
use std::ffi::OsStr;

use crate::localworld::{coverage, crawl, gen_seeds, ok, LocalWorld};
use crate::server::{self, CrawlArgs, Registry, Reply};
use crate::util::{json, jsonl, Workdir};

/// AFRINIC's free pool in 102.192.0.0/12 (new AFRINIC allocations land
/// there), RIPE NCC, LACNIC and ARIN space: about 800 queries with fresh
/// statistics.
const SCOPE: [&str; 4] = [
    "102.192.0.0/12",
    "185.0.0.0/14",
    "200.0.0.0/14",
    "23.0.0.0/14",
];

/// The day after the epoch-1 world's date (2027-08-21): its statistics are
/// one day old, the bundle's (2024-02 to 2026-08) more than 30 days.
const TODAY: &str = "2027-08-22";

/// A day on which the bundle's AFRINIC part (2026-08-21) is 4 days old:
/// trusted, its free space probed coarsely.
const TRUSTING: &str = "2026-08-25";

/// What the truth file says about the world.
struct Truth {
    covered: u64,
    /// (start, end) of every new allocation of epoch 1.
    new: BTreeSet<(String, String)>,
}

fn truth(path: &std::path::Path) -> Truth {
    let t = json(&std::fs::read_to_string(path).expect("truth file"));
    let new = t["epochs"]
        .as_array()
        .expect("epochs")
        .iter()
        .flat_map(|e| e["blocks"].as_array().cloned().unwrap_or_default())
        .filter(|b| b["change"] == "new")
        .map(|b| {
            let s = |k: &str| b[k].as_str().unwrap_or_default().to_string();
            (s("start"), s("end"))
        })
        .collect();
    Truth {
        covered: t["covered"]["addresses"].as_u64().expect("covered"),
        new,
    }
}

/// The stored networks' (start, end).
fn ranges(db: &std::path::Path) -> BTreeSet<(String, String)> {
    jsonl(&ok(db, &["export"]))
        .iter()
        .map(|r| {
            let s = |k: &str| r[k].as_str().unwrap_or_default().to_string();
            (s("start"), s("end"))
        })
        .collect()
}

/// A finished crawl of `db` (seeded with [`SCOPE`]) with `args`: its summary
/// and stderr.
fn finished(db: &std::path::Path, args: &[String]) -> (serde_json::Value, String) {
    gen_seeds(db, &SCOPE);
    let run = crawl(db, args, None);
    assert!(run.status.success(), "crawl {args:?}: {}", run.stderr);
    let s = run.summary.expect("summary");
    assert_eq!(s["stop"], "finished", "{s}");
    (s, run.stderr)
}

/// The warning lines of a crawl's stderr.
fn warnings(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|l| l.starts_with("ipcrawl: warning: "))
        .collect()
}

#[test]
fn fresh_statistics_find_every_new_allocation_and_the_stale_bundle_too_at_a_cost() {
    let w = Workdir::new("fresh-stats");
    let truth_file = w.path("truth.json");
    let extra = [
        OsStr::new("--epoch"),
        OsStr::new("1"),
        OsStr::new("--truth"),
        truth_file.as_os_str(),
    ];
    let world = LocalWorld::start_with(&w.dir, &SCOPE, 0, &extra);
    let t = truth(&truth_file);
    assert!(t.new.len() >= 5, "too few new allocations: {:?}", t.new);
    let base = world.crawl_args();
    let today = ["--today".to_string(), TODAY.to_string()];

    // Fresh: the world's statistics, fetched.
    let fresh_db = w.path("fresh.redb");
    let mut args = base.clone();
    args.extend(world.stats_args());
    args.extend(today.clone());
    let (fresh, err) = finished(&fresh_db, &args);
    assert!(warnings(&err).is_empty(), "{err}");
    for r in Registry::ALL {
        let s = &fresh["statistics"][r.name()];
        assert_eq!(s["origin"], "fetched", "{r}: {s}");
        assert_eq!(
            (&s["date"], &s["stale"]),
            (&"2027-08-21".into(), &false.into())
        );
        assert!(
            s["source"]
                .as_str()
                .unwrap()
                .starts_with("http://127.0.0.1:"),
            "{s}"
        );
    }
    assert_eq!(coverage(&fresh_db)["addresses"], t.covered);
    let got = ranges(&fresh_db);
    let missed: Vec<_> = t.new.difference(&got).collect();
    assert!(missed.is_empty(), "fresh statistics missed {missed:?}");
    // Run again within 24 h: the stored files are used, nothing is fetched.
    let again = crawl(&fresh_db, &args, None);
    let again = again.summary.expect("summary of the second run");
    assert_eq!(again["run_queries"], 0);
    for r in Registry::ALL {
        assert_eq!(again["statistics"][r.name()]["origin"], "reused", "{r}");
    }

    // The bundle only (no --stats): older than 30 days, every seed probed.
    let bundle_db = w.path("bundle.redb");
    let mut args = base.clone();
    args.extend(today);
    let (bundle, err) = finished(&bundle_db, &args);
    assert!(
        warnings(&err).is_empty(),
        "a deliberate skip is no warning: {err}"
    );
    for r in Registry::ALL {
        let s = &bundle["statistics"][r.name()];
        assert_eq!(
            (&s["origin"], &s["stale"]),
            (&"bundled".into(), &true.into())
        );
        assert!(s["note"].as_str().unwrap().contains("not fetched"), "{s}");
    }
    assert_eq!(coverage(&bundle_db)["addresses"], t.covered);
    let got = ranges(&bundle_db);
    let missed: Vec<_> = t.new.difference(&got).collect();
    assert!(missed.is_empty(), "the stale bundle missed {missed:?}");
    let (fq, bq) = (
        fresh["run_queries"].as_u64().unwrap(),
        bundle["run_queries"].as_u64().unwrap(),
    );
    assert!(bq > 2 * fq, "bundle {bq} queries, fresh {fq}");

    // The bundle trusted (its AFRINIC part 4 days old): the coarse skip of
    // the free space it lists misses new allocations.
    let trusted_db = w.path("trusted.redb");
    let mut args = base;
    args.extend(["--today".to_string(), TRUSTING.to_string()]);
    let (trusted, _) = finished(&trusted_db, &args);
    assert_eq!(trusted["statistics"]["afrinic"]["stale"], false);
    let missed = t.new.difference(&ranges(&trusted_db)).count();
    assert!(missed > 0, "the trusted bundle found every new allocation");
    let covered = coverage(&trusted_db)["addresses"].as_u64().unwrap();
    assert!(covered < t.covered, "{covered} of {}", t.covered);

    let counters = world.stop_counters();
    for r in Registry::ALL {
        assert_eq!(counters[r.name()]["stats"], 1, "{r}: {counters}");
    }
    eprintln!(
        "fresh: {fq} queries; stale bundle: {bq} ({:.2}x); trusted bundle: {} queries, {missed} of {} new allocations missed",
        bq as f64 / fq as f64,
        trusted["run_queries"],
        t.new.len()
    );
}

/// A statistics file of `name` (`arin`, `ripencc`, ...) dated `date` with
/// one allocated /24 at `start`, its summary declaring `declared` records.
fn stats_file(name: &str, date: &str, start: &str, declared: usize) -> String {
    format!(
        "2|{name}|{date}|1|19700101|{date}|+0000\n\
         {name}|*|ipv4|*|{declared}|summary\n\
         {name}|ZZ|ipv4|{start}|256|{date}|allocated|h1\n"
    )
}

/// Statistics served by scripted registries: `/good/NAME` (dated the day
/// before [`TODAY`]), `/stale/NAME` (2020), `/cut/NAME` (declares 9
/// records), `/garbage` (HTML); RDAP lookups are 404s.
fn scripted() -> server::Registries {
    server::start(|_, req, _| {
        let path = req.target.as_str();
        let body = |text: String| Reply::with_body(200, "text/plain", text.into_bytes());
        if path == "/garbage" {
            return body("<html><body>502 Bad Gateway</body></html>\n".into());
        }
        let Some((kind, name)) = path.trim_start_matches('/').split_once('/') else {
            return server::not_found();
        };
        let start = match name {
            "arin" => "23.0.0.0",
            "ripencc" => "185.0.0.0",
            "apnic" => "1.0.0.0",
            "lacnic" => "200.0.0.0",
            "afrinic" => "41.0.0.0",
            _ => return server::not_found(),
        };
        match kind {
            "good" => body(stats_file(name, "20270821", start, 1)),
            "stale" => body(stats_file(name, "20200101", start, 1)),
            "cut" => body(stats_file(name, "20270821", start, 9)),
            _ => server::not_found(),
        }
    })
}

/// The name a registry's file uses.
fn file_name(r: Registry) -> &'static str {
    if r == Registry::Ripe {
        "ripencc"
    } else {
        r.name()
    }
}

/// A port with nothing listening.
fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

#[test]
fn bad_statistics_fall_back_with_one_warning_each_and_never_replace_a_stored_copy() {
    let w = Workdir::new("stats-fallback");
    let regs = scripted();
    w.ok(&["gen-seeds", "--within", "23.0.0.0/23"]);
    let base = |r: Registry| regs.base_url(r).to_string();
    let closed = closed_port();
    let bad = |r: Registry| match r {
        Registry::Arin => format!("{}stale/arin", base(r)),
        Registry::Ripe => format!("{}cut/ripencc", base(r)),
        Registry::Apnic => format!("{}garbage", base(r)),
        Registry::Lacnic => format!("{}missing/lacnic", base(r)),
        Registry::Afrinic => format!("http://127.0.0.1:{closed}/afrinic"),
    };
    let run = |urls: &dyn Fn(Registry) -> String| {
        let mut extra: Vec<String> = vec!["--today".into(), TODAY.into()];
        for r in Registry::ALL {
            extra.extend(["--stats".into(), format!("{r}={}", urls(r))]);
        }
        let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
        let args = regs.crawl_args(&extra);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = w.run(&args);
        let err = String::from_utf8_lossy(&out.stderr).to_string();
        assert!(out.status.success(), "{err}");
        let summary = json(&String::from_utf8_lossy(&out.stdout));
        (summary, err)
    };

    // Nothing stored: a stale file is used (and said to be stale), the
    // others fall back to the bundle, one warning line each.
    let (s, err) = run(&bad);
    let warned = warnings(&err);
    assert_eq!(warned.len(), 5, "{err}");
    let origins: Vec<&str> = Registry::ALL
        .iter()
        .map(|r| s["statistics"][r.name()]["origin"].as_str().unwrap())
        .collect();
    assert_eq!(
        origins,
        ["fetched", "bundled", "bundled", "bundled", "bundled"]
    );
    let expect = [
        format!("arin statistics from {} are dated 2020-01-01; older than 30 days", bad(Registry::Arin)),
        format!("ripe statistics: fetch failed: {}: truncated: 1 ipv4 records of the 9 its summary line declares; using the bundled snapshot (dated 2026-02-01)", bad(Registry::Ripe)),
        format!("apnic statistics: fetch failed: {}: not a delegated statistics file", bad(Registry::Apnic)),
        format!("lacnic statistics: fetch failed: {}: HTTP 404 Not Found; using the bundled snapshot (dated 2024-02-08)", bad(Registry::Lacnic)),
        format!("afrinic statistics: fetch failed: {}: ", bad(Registry::Afrinic)),
    ];
    for (line, want) in warned.iter().zip(&expect) {
        assert!(line.contains(want.as_str()), "{line:?} lacks {want:?}");
    }
    assert!(
        warned[4].contains("refused") && warned[4].contains("dated 2026-08-21"),
        "{}",
        warned[4]
    );

    // Good files: fetched and stored.
    let good = |r: Registry| format!("{}good/{}", base(r), file_name(r));
    let (s, err) = run(&good);
    assert!(warnings(&err).is_empty(), "{err}");
    for r in Registry::ALL {
        assert_eq!(s["statistics"][r.name()]["origin"], "fetched", "{r}");
    }
    let stored = |db: &std::path::Path| {
        ipcrawl::store::Store::open_read(db)
            .unwrap()
            .stats_files()
            .unwrap()
            .into_iter()
            .map(|f| (f.registry, f.source, f.bytes))
            .collect::<Vec<_>>()
    };
    let kept = stored(&w.db());
    assert_eq!(kept.len(), 5);
    assert_eq!(
        kept[0].2,
        stats_file("arin", "20270821", "23.0.0.0", 1).into_bytes()
    );

    // Bad again: the stored copies are used, and stay as they were.
    let (s, err) = run(&bad);
    let warned = warnings(&err);
    assert_eq!(warned.len(), 5, "{err}");
    assert_eq!(
        s["statistics"]["arin"]["origin"], "fetched",
        "stale but valid"
    );
    for r in &Registry::ALL[1..] {
        assert_eq!(s["statistics"][r.name()]["origin"], "stored", "{r}");
    }
    assert!(
        warned[1].contains(&format!(
            "using the copy stored in the DB (fetched {}",
            s["statistics"]["ripe"]["fetched_at"].as_str().unwrap()
        )) && warned[1].contains(&format!("from {}, dated 2027-08-21)", good(Registry::Ripe))),
        "{}",
        warned[1]
    );
    let now = stored(&w.db());
    assert_eq!(now[1..], kept[1..], "a bad fetch replaced a stored copy");
    assert_ne!(
        now[0], kept[0],
        "the stale (valid) file is the newest fetch"
    );

    // Offline (every --stats refused): the stored copies, still; ARIN's
    // (dated 2020) gives way to the newer bundle.
    let (s, err) = run(&|r| format!("http://127.0.0.1:{closed}/{}", file_name(r)));
    assert_eq!(warnings(&err).len(), 5, "{err}");
    assert_eq!(s["statistics"]["arin"]["origin"], "bundled");
    for r in &Registry::ALL[1..] {
        assert_eq!(s["statistics"][r.name()]["origin"], "stored", "{r}");
    }
    assert_eq!(stored(&w.db()), now, "nothing stored was lost");
}

#[test]
fn local_files_and_bad_arguments() {
    let w = Workdir::new("stats-local");
    let regs = scripted();
    w.ok(&["gen-seeds", "--within", "41.0.0.0/23"]);
    let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/delegated/");
    let afrinic = format!("{fixtures}delegated-afrinic-extended-latest.excerpt.txt");
    let lacnic = format!("{fixtures}delegated-lacnic-extended-latest.excerpt.txt");
    let extra = [
        "--delegated",
        &afrinic,
        "--delegated",
        &lacnic,
        "--today",
        "2026-08-30",
    ];
    let args = regs.crawl_args(&extra);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = w.run(&args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    let s = json(&String::from_utf8_lossy(&out.stdout));
    let st = &s["statistics"];
    assert_eq!(
        (&st["afrinic"]["origin"], &st["afrinic"]["stale"]),
        (&"local".into(), &false.into())
    );
    assert_eq!(st["afrinic"]["source"], afrinic.as_str());
    assert_eq!(st["afrinic"]["records"], 43);
    assert_eq!(
        (&st["lacnic"]["origin"], &st["lacnic"]["stale"]),
        (&"local".into(), &true.into())
    );
    for r in ["arin", "ripe", "apnic"] {
        assert_eq!(st[r]["origin"], "bundled", "{r}");
    }
    let warned = warnings(&err);
    assert_eq!(
        warned.len(),
        4,
        "lacnic stale, three not in the files: {err}"
    );
    assert!(
        warned.iter().any(|l| l.contains(
            "arin statistics: no --delegated file holds its records; using the bundled snapshot"
        )),
        "{err}"
    );
    // No registry was asked for statistics: only RDAP lookups reached them.
    assert!(
        regs.requests().iter().all(|(_, t)| t.starts_with("/ip/")),
        "{:?}",
        regs.requests()
    );

    // A file that is no statistics, a missing file, a bad --stats: exit 2, one line.
    let html = w.path("page.html");
    std::fs::write(&html, "<html>\n<body>no</body>\n</html>\n").unwrap();
    let html = html.display().to_string();
    for (extra, needle) in [
        (
            vec!["--delegated", html.as_str()],
            format!("--delegated {html}: no ipv4 records"),
        ),
        (
            vec!["--delegated", "no/such.txt"],
            "--delegated no/such.txt: cannot read".to_string(),
        ),
        (
            vec!["--stats", "arin=ftp://x/"],
            "\"ftp://x/\" is not an http:// or https:// URL".to_string(),
        ),
        (
            vec!["--stats", "nobody=http://127.0.0.1:1/"],
            "nobody".to_string(),
        ),
        (
            vec!["--today", "2027-13-01"],
            "\"2027-13-01\" is not a date: expected YYYY-MM-DD".to_string(),
        ),
    ] {
        let args = regs.crawl_args(&extra);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = w.run(&args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{extra:?}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{extra:?}: {err}");
        assert!(err.contains(&needle), "{extra:?}: {err}");
    }
}
