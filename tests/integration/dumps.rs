//! Bulk dumps (issue 12) over real files and real HTTP: the local world
//! writes its dumps (`world --dumps`), `import` stores them, and a crawl
//! asks only for what they lack; a newer (aged) world's dumps replace the
//! older view; the real excerpts of `tests/fixtures/dumps/` and hostile
//! dumps. Every verdict is a set or a count.

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use crate::localworld::{crawl, gen_seeds, ipcrawl, ok, LocalWorld, SCOPE};
use crate::util::{json, jsonl, Workdir};

const DUMPED: [&str; 3] = ["ripe", "apnic", "afrinic"];

/// The statistics' age is counted from the world's own date (its epoch 0).
const TODAY: &str = "2026-08-25";

fn dump_files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("dumps dir")
        .map(|e| e.expect("dir entry").path())
        .collect();
    v.sort();
    assert_eq!(v.len(), 8, "the world writes eight dump files: {v:?}");
    v
}

fn import(db: &Path, files: &[PathBuf], extra: &[&str]) -> std::process::Output {
    let mut c = ipcrawl(db, &["import"]);
    c.args(extra).args(files);
    c.output().expect("run import")
}

/// The world's networks of `registries` as (start, end, registry).
fn truth(path: &Path, registries: &[&str]) -> BTreeSet<(String, String, String)> {
    let t = json(&std::fs::read_to_string(path).expect("truth file"));
    t["networks"]
        .as_array()
        .expect("truth networks")
        .iter()
        .filter(|n| registries.contains(&n["registry"].as_str().unwrap_or_default()))
        .map(|n| {
            let s = |k: &str| n[k].as_str().unwrap_or_default().to_string();
            (s("start"), s("end"), s("registry"))
        })
        .collect()
}

/// Exported networks by (start, end, registry), without what differs by
/// source (`source_url`, `fetched_at`, `queried`), entities in a fixed order.
fn exported(db: &Path) -> BTreeMap<(String, String, String), serde_json::Value> {
    jsonl(&ok(db, &["export"]))
        .into_iter()
        .map(|mut r| {
            let s = |k: &str| r[k].as_str().unwrap_or_default().to_string();
            let key = (s("start"), s("end"), s("registry"));
            if let Some(o) = r.as_object_mut() {
                for k in ["source_url", "fetched_at", "queried"] {
                    o.remove(k);
                }
                if let Some(serde_json::Value::Array(es)) = o.get_mut("entities") {
                    es.sort_by_key(ToString::to_string);
                }
            }
            (key, r)
        })
        .collect()
}

fn queries(db: &Path) -> BTreeMap<String, u64> {
    let s = json(&ok(db, &["stats", "--json"]));
    s["by_registry"]
        .as_object()
        .expect("by_registry")
        .iter()
        .map(|(k, v)| (k.clone(), v["queries"].as_u64().unwrap_or(0)))
        .collect()
}

fn sources(db: &Path) -> BTreeMap<(String, bool), u64> {
    let mut m = BTreeMap::new();
    for r in jsonl(&ok(db, &["export"])) {
        let reg = r["registry"].as_str().unwrap_or_default().to_string();
        let dump = r["source_url"]
            .as_str()
            .unwrap_or_default()
            .starts_with("dump:");
        *m.entry((reg, dump)).or_insert(0) += 1;
    }
    m
}

#[test]
fn the_crawl_after_an_import_asks_only_for_what_the_dumps_lack() {
    let w = Workdir::new("dumps-crawl");
    let truth_file = w.path("truth.json");
    let dumps = w.path("dumps");
    let args: Vec<&OsStr> = vec![
        OsStr::new("--truth"),
        truth_file.as_os_str(),
        OsStr::new("--dumps"),
        dumps.as_os_str(),
    ];
    let world = LocalWorld::start_with(&w.path(""), &SCOPE, 0, &args);
    let files = dump_files(&dumps);
    let want = truth(&truth_file, &DUMPED);
    let mut report = Vec::new();
    for depth in ["coverage", "all"] {
        let (with, without) = (
            w.path(&format!("with-{depth}.redb")),
            w.path(&format!("without-{depth}.redb")),
        );
        for db in [&with, &without] {
            gen_seeds(db, &SCOPE);
        }
        let out = import(&with, &files, &[]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let imported = exported(&with);
        let mut a = world.crawl_args();
        a.extend(world.stats_args());
        a.extend([
            "--depth".into(),
            depth.into(),
            "--today".into(),
            TODAY.into(),
        ]);
        for db in [&with, &without] {
            let run = crawl(db, &a, None);
            assert!(run.status.success(), "{depth}: {}", run.stderr);
        }
        // Every network of the dumped registries, exactly.
        let got = exported(&with);
        let dumped: BTreeSet<_> = got
            .keys()
            .filter(|k| DUMPED.contains(&k.2.as_str()))
            .cloned()
            .collect();
        assert_eq!(dumped, want, "{depth}: the dumped registries' networks");
        // None of them asked again over RDAP: still the dump's record.
        let s = sources(&with);
        for r in DUMPED {
            assert_eq!(
                s.get(&(r.to_string(), false)),
                None,
                "{depth}: {r} asked again: {s:?}"
            );
        }
        assert_eq!(
            got.len(),
            imported.len()
                + got
                    .keys()
                    .filter(|k| !DUMPED.contains(&k.2.as_str()))
                    .count()
        );
        // Field for field what the RDAP answers say, where the crawl without
        // the dumps stored the network too.
        let rdap = exported(&without);
        let mut compared = 0;
        for (k, v) in &rdap {
            if DUMPED.contains(&k.2.as_str()) {
                assert_eq!(Some(v), got.get(k), "{depth}: {k:?}");
                compared += 1;
            }
        }
        let least = if depth == "all" { 600 } else { 100 };
        assert!(compared >= least, "{depth}: only {compared} compared");
        // The other registries' networks: what the crawl without dumps found.
        let others = |m: &BTreeMap<_, _>| -> BTreeSet<(String, String, String)> {
            m.keys()
                .filter(|k: &&(String, String, String)| !DUMPED.contains(&k.2.as_str()))
                .cloned()
                .collect()
        };
        assert_eq!(others(&got), others(&rdap), "{depth}: ARIN and LACNIC");
        let (qw, qo) = (queries(&with), queries(&without));
        let sum = |q: &BTreeMap<String, u64>| {
            DUMPED
                .iter()
                .map(|r| q.get(*r).copied().unwrap_or(0))
                .sum::<u64>()
        };
        // `coverage` splits each dumped registry's addresses by source: all
        // of them lie in its dump's space (no RDAP answer was needed there);
        // ARIN and LACNIC have no dump.
        let cov = json(&ok(&with, &["coverage", "--json"]));
        for r in DUMPED {
            let reg = &cov["by_registry"][r];
            assert_eq!(
                reg["dump"]["addresses"], reg["addresses"],
                "{depth}: {r} {cov}"
            );
            assert!(reg["dump"]["date"].is_string(), "{depth}: {r} {cov}");
        }
        for r in ["arin", "lacnic"] {
            assert!(
                cov["by_registry"][r].get("dump").is_none(),
                "{depth}: {r} {cov}"
            );
        }
        assert!(sum(&qw) < sum(&qo), "{depth}: {qw:?} vs {qo:?}");
        assert!(
            qw.get("ripe").copied().unwrap_or(0) <= 5,
            "{depth}: RIPE asked {qw:?}"
        );
        report.push(format!(
            "{depth}: dumped registries' queries {} with the dumps, {} without ({qw:?} / {qo:?})",
            sum(&qw),
            sum(&qo)
        ));
    }
    eprintln!("{}", report.join("\n"));
}

#[test]
fn a_newer_dump_replaces_the_older_view_and_the_same_dump_twice_changes_nothing() {
    let w = Workdir::new("dumps-epoch");
    let db = w.path("db.redb");
    let mut truths = Vec::new();
    for epoch in ["0", "1"] {
        let dir = w.path(&format!("dumps-{epoch}"));
        let t = w.path(&format!("truth-{epoch}.json"));
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_ipcrawl"));
        c.args(["world", "--no-serve", "--epoch", epoch, "--dumps"])
            .arg(&dir)
            .arg("--truth")
            .arg(&t);
        for s in SCOPE {
            c.args(["--scope", s]);
        }
        let st = c.output().expect("world");
        assert!(
            st.status.success(),
            "{}",
            String::from_utf8_lossy(&st.stderr)
        );
        truths.push((dir, t));
    }
    // RIPE's and AFRINIC's headers carry no date: --dump-date gives the epochs'.
    let dates = ["2026-08-21", "2027-08-21"];
    let (old, new) = (&truths[0], &truths[1]);
    let out = import(&db, &dump_files(&old.0), &["--dump-date", dates[0]]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let first: BTreeSet<_> = exported(&db).into_keys().collect();
    assert_eq!(first, truth(&old.1, &DUMPED));
    let out = import(&db, &dump_files(&old.0), &["--dump-date", dates[0]]);
    assert!(out.status.success());
    assert_eq!(
        exported(&db).into_keys().collect::<BTreeSet<_>>(),
        first,
        "twice: nothing changes"
    );

    let out = import(
        &db,
        &dump_files(&new.0),
        &["--dump-date", dates[1], "--json"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let second: BTreeSet<_> = exported(&db).into_keys().collect();
    let want = truth(&new.1, &DUMPED);
    assert_eq!(second, want, "the newer dump's view");
    let gone = first.difference(&want).count() as u64;
    assert!(gone > 0, "the aged world returned networks");
    let summary = json(&String::from_utf8_lossy(&out.stdout));
    let removed: u64 = summary["registries"]
        .as_array()
        .expect("registries")
        .iter()
        .map(|r| r["dump"]["removed"].as_u64().unwrap_or(0))
        .sum();
    assert!(removed >= gone, "removed {removed}, gone {gone}");
    // The older dump again: refused, exit 1, nothing changes.
    let out = import(&db, &dump_files(&old.0), &["--dump-date", dates[0]]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("refused"));
    assert_eq!(exported(&db).into_keys().collect::<BTreeSet<_>>(), second);
}

/// A RIPE inetnum object.
fn object(range: &str, name: &str) -> String {
    format!("inetnum:        {range}\nnetname:        {name}\ncountry:        NL\nstatus:         ASSIGNED PA\nsource:         RIPE\n\n")
}

#[test]
fn the_real_excerpts_import_and_hostile_dumps_poison_nothing() {
    let w = Workdir::new("dumps-hostile");
    let db = w.path("db.redb");
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/dumps");
    let real: Vec<PathBuf> = [
        "ripe.reconstructed.db.inetnum.gz",
        "ripe.reconstructed.db.role",
        "apnic.reconstructed.db.inetnum",
        "apnic.reconstructed.db.irt.gz",
        "apnic.reconstructed.db.organisation",
        "afrinic.reconstructed.db.gz",
    ]
    .iter()
    .map(|f| fixtures.join(f))
    .collect();
    let out = import(&db, &real, &["--dump-date", "2026-11-30"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let clean = exported(&db);
    assert!(clean.len() >= 5, "{clean:?}");
    let ncc = clean
        .values()
        .find(|r| r["handle"] == "193.0.0.0 - 193.0.7.255")
        .expect("RIPE NCC's network");
    assert_eq!(ncc["name"], "RIPE-NCC");
    let coverage = ok(&db, &["coverage", "--json"]);

    // A hostile RIPE dump: a whole-space non-placeholder, an inverted
    // range, a 10 MB object, beside one good network (its own file).
    let mut text = String::from("# hostile\n\n");
    text.push_str(&object("0.0.0.0 - 255.255.255.255", "ALL-OF-IT"));
    text.push_str(&object("10.0.0.255 - 10.0.0.0", "BACKWARDS"));
    text.push_str("inetnum:        11.0.0.0 - 11.0.0.255\nnetname:        HUGE\n");
    let long = "x".repeat(5_000);
    for _ in 0..2_000 {
        text.push_str("remarks:        ");
        text.push_str(&long);
        text.push('\n');
    }
    text.push_str("source:         RIPE\n\n");
    text.push_str(&object("12.0.0.0 - 12.0.0.255", "GOOD"));
    let hostile = w.path("hostile.db.inetnum");
    std::fs::write(&hostile, &text).unwrap();
    let out = import(
        &db,
        std::slice::from_ref(&hostile),
        &["--dump-date", "2026-11-30", "--json"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let s = json(&String::from_utf8_lossy(&out.stdout));
    let skipped = &s["files"][0]["skipped"];
    assert_eq!(skipped["too_broad"], 1, "{s}");
    assert_eq!(skipped["inverted"], 1, "{s}");
    assert_eq!(skipped["too_large"], 1, "{s}");
    let after = exported(&db);
    let names: BTreeSet<String> = after
        .values()
        .map(|r| r["name"].as_str().unwrap_or_default().to_string())
        .collect();
    assert!(names.contains("GOOD"), "{names:?}");
    for bad in ["ALL-OF-IT", "BACKWARDS", "HUGE"] {
        assert!(!names.contains(bad), "{bad} stored");
    }
    let stats = json(&ok(&db, &["stats", "--json"]));
    assert_eq!(stats["import"]["skipped"]["too_large"], 1, "{stats}");

    // Files that cannot be read to their end: one-line errors, exit 2,
    // nothing changes.
    let before = exported(&db);
    let gz = std::fs::read(fixtures.join("ripe.test.gz")).unwrap();
    let cut = w.path("ripe.db.inetnum.gz");
    std::fs::write(&cut, &gz[..gz.len() / 2]).unwrap();
    let bin = w.path("afrinic.db");
    std::fs::write(&bin, b"inetnum: 1.0.0.0 - 1.0.0.255\n\x00\x01\x02").unwrap();
    for bad in [&cut, &bin] {
        let out = import(&db, std::slice::from_ref(bad), &[]);
        assert_eq!(out.status.code(), Some(2));
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.trim().lines().count(), 1, "{err}");
        assert!(
            err.contains(&*bad.file_name().unwrap().to_string_lossy()),
            "{err}"
        );
        assert_eq!(exported(&db), before);
    }
    // The real networks' coverage is what it was, plus the one good network.
    let c0 = json(&coverage);
    let c1 = json(&ok(&db, &["coverage", "--json"]));
    assert_eq!(
        c1["addresses"].as_u64().unwrap_or(0),
        c0["addresses"].as_u64().unwrap_or(0) + 256,
        "{c0} {c1}"
    );
}
