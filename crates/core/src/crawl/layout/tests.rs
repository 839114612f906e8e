//! The choice of statistics per registry, against a real store and a file
//! source answering from a table (the fetch over real HTTP is tested in
//! `rdap::client` and the integration tests).

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use super::*;
use crate::delegated::date_days;
use crate::prefix::Range;

/// Answers each URL from a table, counting the requests; an unknown URL
/// is a refused connection.
#[derive(Default)]
struct Files {
    answers: Mutex<HashMap<String, Result<Vec<u8>, String>>>,
    asked: AtomicU64,
    /// Never answers (until the test ends).
    hang: bool,
}

impl Files {
    fn serve(&self, url: &str, body: &str) {
        self.answers
            .lock()
            .unwrap()
            .insert(url.into(), Ok(body.as_bytes().to_vec()));
    }
}

impl GetFile for Files {
    fn get_file(&self, url: &str) -> Result<Vec<u8>, String> {
        self.asked.fetch_add(1, Ordering::SeqCst);
        if self.hang {
            std::thread::sleep(Duration::from_secs(30));
        }
        self.answers
            .lock()
            .unwrap()
            .get(url)
            .cloned()
            .unwrap_or_else(|| Err(format!("{url}: connection refused")))
    }
}

fn db(name: &str) -> (PathBuf, Store) {
    let p = std::env::temp_dir().join(format!("ipcrawl-layout-{name}-{}.redb", std::process::id()));
    let _ = std::fs::remove_file(&p);
    let s = Store::open_or_create(&p).unwrap();
    (p, s)
}

fn url(r: Registry) -> String {
    format!("http://127.0.0.1:1/{}", source::url_path(r))
}

/// A file of `r` dated `date` holding `records` (`start|count|status`).
fn file(r: Registry, date: &str, records: &[(&str, u32, &str)]) -> String {
    let name = source::stats_name(r);
    let mut s = format!(
        "2|{name}|{date}|{}|19700101|{date}|+0000\n{name}|*|ipv4|*|{}|summary\n",
        records.len(),
        records.len()
    );
    for (start, n, status) in records {
        let _ = writeln!(s, "{name}|ZZ|ipv4|{start}|{n}|{date}|{status}|h1");
    }
    s
}

const TODAY: &str = "20270822";
const NOW: u64 = 1_818_900_000; // 2027-08-22

fn today() -> i64 {
    date_days(TODAY).unwrap()
}

fn fetch_all() -> [Want; 5] {
    Registry::ALL.map(|r| Want::Fetch(url(r)))
}

fn gather_with(store: &Store, wants: &[Want; 5], files: &Arc<Files>, now: u64) -> Statistics {
    let get: Arc<dyn GetFile> = Arc::clone(files) as Arc<dyn GetFile>;
    gather(store, wants, &get, now, today(), &AtomicBool::new(false)).unwrap()
}

fn a(s: &str) -> u32 {
    crate::prefix::parse_addr_lenient(s).unwrap()
}

/// Five fresh files: ARIN holds 23.0.0.0/16 and lists 23.1.0.0/16 free.
fn serve_five(files: &Files, date: &str) {
    for r in Registry::ALL {
        let recs: Vec<(&str, u32, &str)> = if r == Registry::Arin {
            vec![
                ("23.0.0.0", 65_536, "allocated"),
                ("23.1.0.0", 65_536, "available"),
            ]
        } else {
            vec![]
        };
        files.serve(&url(r), &file(r, date, &recs));
    }
}

#[test]
fn fetched_files_are_stored_and_reused_for_a_day() {
    let (path, store) = db("reuse");
    let files = Arc::new(Files::default());
    serve_five(&files, "20270821");
    let s = gather_with(&store, &fetch_all(), &files, NOW);
    assert_eq!(files.asked.load(Ordering::SeqCst), 5);
    for u in &s.used {
        assert_eq!(u.origin, Origin::Fetched, "{u:?}");
        assert_eq!((u.date.as_deref(), u.stale), (Some("20270821"), false));
        assert!(u.warning.is_none() && u.note.is_none(), "{u:?}");
    }
    let stored = store.stats_files().unwrap();
    assert_eq!(stored.len(), 5);
    assert_eq!(stored[0].fetched_at, NOW);
    assert_eq!(stored[0].source, url(Registry::Arin));
    // Within 24 h: nothing fetched.
    let s = gather_with(&store, &fetch_all(), &files, NOW + 23 * 3600);
    assert_eq!(files.asked.load(Ordering::SeqCst), 5);
    assert!(s.used.iter().all(|u| u.origin == Origin::Reused));
    assert_eq!(s.used[0].records, 2);
    // A day later: fetched again.
    let s = gather_with(&store, &fetch_all(), &files, NOW + 24 * 3600);
    assert_eq!(files.asked.load(Ordering::SeqCst), 10);
    assert!(s.used.iter().all(|u| u.origin == Origin::Fetched));
    drop(store);
    let _ = std::fs::remove_file(path);
}

#[test]
fn a_failed_fetch_falls_back_to_the_stored_copy_then_the_bundle() {
    let (path, store) = db("fallback");
    let files = Arc::new(Files::default());
    // Nothing stored, nothing served: the bundle, with a warning.
    let s = gather_with(&store, &fetch_all(), &files, NOW);
    let arin = &s.used[0];
    assert_eq!((arin.origin, arin.stale), (Origin::Bundled, true));
    assert_eq!(
        arin.warning.as_deref().unwrap(),
        format!(
            "arin statistics: fetch failed: {}: connection refused; using the bundled snapshot \
             (dated 2026-02-01); older than 30 days: the space it calls free is probed at every seed",
            url(Registry::Arin)
        )
    );
    assert!(arin.records > 50_000);
    assert!(s.used.iter().all(|u| u.origin == Origin::Bundled));
    assert!(store.stats_files().unwrap().is_empty());
    // Stored once, then garbage and a truncated file: the stored copy stays
    // and is used.
    serve_five(&files, "20270821");
    gather_with(&store, &fetch_all(), &files, NOW);
    files.serve(&url(Registry::Arin), "<html>502 Bad Gateway</html>");
    let ripe = file(
        Registry::Ripe,
        "20270822",
        &[("185.0.0.0", 1024, "allocated")],
    );
    files.serve(
        &url(Registry::Ripe),
        &ripe.replace("|1|summary", "|9|summary"),
    );
    let later = NOW + 2 * 86_400;
    let s = gather_with(&store, &fetch_all(), &files, later);
    let (arin, ripe) = (&s.used[0], &s.used[1]);
    assert_eq!((arin.origin, ripe.origin), (Origin::Stored, Origin::Stored));
    let w = arin.warning.as_deref().unwrap();
    assert!(
        w.starts_with("arin statistics: fetch failed: http://127.0.0.1:1/pub/stats/arin/delegated-arin-extended-latest: not a delegated statistics file")
            && w.ends_with(&format!(
                "using the copy stored in the DB (fetched 2027-08-22T02:00:00Z from {}, dated 2027-08-21)",
                url(Registry::Arin)
            )),
        "{w}"
    );
    assert!(!w.contains('\n'));
    assert!(
        ripe.warning
            .as_deref()
            .unwrap()
            .contains("truncated: 1 ipv4 records of the 9 its summary line declares"),
        "{:?}",
        ripe.warning
    );
    assert_eq!((arin.records, arin.stale), (2, false));
    let stored = store.stats_files().unwrap();
    assert_eq!(stored[0].fetched_at, NOW, "the good copy was kept");
    assert_eq!(stored[1].fetched_at, NOW);
    // The others fetched again fine.
    assert!(s.used[2..].iter().all(|u| u.origin == Origin::Fetched));
    drop(store);
    let _ = std::fs::remove_file(path);
}

#[test]
fn a_stored_copy_older_than_the_bundle_gives_way_to_it() {
    let (path, store) = db("older");
    let files = Arc::new(Files::default());
    files.serve(
        &url(Registry::Lacnic),
        &file(
            Registry::Lacnic,
            "20200101",
            &[("200.0.0.0", 256, "allocated")],
        ),
    );
    let s = gather_with(&store, &fetch_all(), &files, NOW);
    assert_eq!(s.used[3].origin, Origin::Fetched);
    assert!(s.used[3].stale);
    assert!(
        s.used[3]
            .warning
            .as_deref()
            .unwrap()
            .contains("are dated 2020-01-01; older than 30 days"),
        "{:?}",
        s.used[3].warning
    );
    files.answers.lock().unwrap().clear();
    let s = gather_with(&store, &fetch_all(), &files, NOW + 2 * 86_400);
    assert_eq!(
        s.used[3].origin,
        Origin::Bundled,
        "2024-02-08 beats 2020-01-01"
    );
    drop(store);
    let _ = std::fs::remove_file(path);
}

#[test]
fn a_deliberate_skip_is_a_note_and_local_files_are_used_as_given() {
    let (path, store) = db("skip");
    let files = Arc::new(Files::default());
    let mut wants = fetch_all();
    wants[0] = Want::Skip {
        why: "not fetched".into(),
        warn: false,
    };
    wants[1] = Want::Local(Local {
        paths: vec!["ripe.txt".into()],
        date: Some("20270820".into()),
        records: crate::delegated::parse(&file(
            Registry::Ripe,
            "20270820",
            &[("185.0.0.0", 1024, "allocated")],
        ))
        .delegations,
    });
    let s = gather_with(&store, &wants, &files, NOW);
    assert_eq!(files.asked.load(Ordering::SeqCst), 3);
    let arin = &s.used[0];
    assert_eq!(arin.origin, Origin::Bundled);
    assert!(arin.warning.is_none());
    assert!(arin
        .note
        .as_deref()
        .unwrap()
        .starts_with("arin statistics: not fetched; using the bundled snapshot"));
    let ripe = &s.used[1];
    assert_eq!(
        (ripe.origin, ripe.stale, ripe.records),
        (Origin::Local, false, 1)
    );
    assert_eq!(ripe.source, "ripe.txt");
    assert_eq!(s.warnings().count(), 3, "apnic, lacnic, afrinic refused");
    assert_eq!(s.notes().count(), 1);
    let j = s.to_json();
    assert_eq!(j["ripe"]["origin"], "local");
    assert_eq!(j["ripe"]["date"], "2027-08-20");
    assert_eq!(j["arin"]["origin"], "bundled");
    drop(store);
    let _ = std::fs::remove_file(path);
}

#[test]
fn a_raised_quit_stops_waiting_for_fetches() {
    let (path, store) = db("quit");
    let files = Arc::new(Files {
        hang: true,
        ..Files::default()
    });
    let get: Arc<dyn GetFile> = files;
    let quit = AtomicBool::new(true);
    let t = std::time::Instant::now();
    let s = gather(&store, &fetch_all(), &get, NOW, today(), &quit).unwrap();
    assert!(
        t.elapsed() < Duration::from_secs(20),
        "waited for a hung fetch"
    );
    assert!(s
        .used
        .iter()
        .all(|u| u.origin == Origin::Bundled && u.warning.is_none()));
    assert!(s.used[0]
        .note
        .as_deref()
        .unwrap()
        .contains("the fetch was interrupted"));
    drop(store);
    let _ = std::fs::remove_file(path);
}

#[test]
fn fresh_statistics_allow_coarse_probing_stale_ones_do_not() {
    let (path, store) = db("layout");
    let files = Arc::new(Files::default());
    serve_five(&files, "20270821");
    let routes = Bootstrap::bundled();
    let fresh = gather_with(&store, &fetch_all(), &files, NOW).layout(&routes);
    let held = Range::new(a("23.0.0.0"), a("23.0.255.255")).unwrap();
    let free = Range::new(a("23.1.0.0"), a("23.1.255.255")).unwrap();
    let inside = |set: &IntervalSet, r: Range| {
        set.intersect(&IntervalSet::from_ranges([r]))
            .address_count()
            == r.len()
    };
    assert!(inside(&fresh.delegated, held));
    assert!(
        !fresh.delegated.contains(free.start),
        "free space is probed coarsely"
    );
    assert!(fresh.fine.is_empty());
    assert!(fresh.cuts.contains(&free.start));
    // The same files a year later: stale, so every ARIN block is probed finely.
    let later = date_days("20280901").unwrap();
    let get: Arc<dyn GetFile> = Arc::clone(&files) as Arc<dyn GetFile>;
    let s = gather(
        &store,
        &fetch_all(),
        &get,
        NOW,
        later,
        &AtomicBool::new(false),
    )
    .unwrap();
    assert!(s.used.iter().all(|u| u.stale));
    let stale = s.layout(&routes);
    assert!(inside(&stale.delegated, free));
    let arin_eight = Range::new(a("3.0.0.0"), a("3.255.255.255")).unwrap();
    assert!(inside(&stale.fine, arin_eight), "unlisted ARIN space too");
    assert!(stale.cuts.contains(&a("23.0.0.0")));
    drop(store);
    let _ = std::fs::remove_file(path);
}

#[test]
fn local_files_are_split_by_registry_with_the_oldest_date() {
    let dir = std::env::temp_dir().join(format!("ipcrawl-layout-local-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let one = dir.join("one.txt");
    let two = dir.join("two.txt");
    let junk = dir.join("junk.txt");
    let mut both = file(
        Registry::Arin,
        "20270801",
        &[("23.0.0.0", 256, "allocated")],
    );
    both.push_str("ripencc|NL|ipv4|185.0.0.0|1024|20131126|allocated|x\n");
    std::fs::write(&one, both).unwrap();
    std::fs::write(
        &two,
        file(Registry::Arin, "20270810", &[("23.0.1.0", 256, "assigned")]),
    )
    .unwrap();
    std::fs::write(&junk, "<html>no</html>\n").unwrap();
    std::fs::write(
        &two,
        format!(
            "{}arin|US|ipv4|23.0.2.0|256\n",
            std::fs::read_to_string(&two).unwrap()
        ),
    )
    .unwrap();
    let (l, warned) = local(&[one, two.clone()]).unwrap();
    assert_eq!(
        warned,
        [format!(
            "--delegated {0}: 1 lines skipped, first: {0}:4: 5 fields, expected registry|cc|type|start|value|date|status[|opaque-id]",
            two.display()
        )]
    );
    let arin = l[0].as_ref().unwrap();
    assert_eq!(arin.records.len(), 2);
    assert_eq!(arin.date.as_deref(), Some("20270801"));
    assert_eq!(arin.paths.len(), 2);
    let ripe = l[1].as_ref().unwrap();
    assert_eq!(
        (ripe.records.len(), ripe.date.as_deref()),
        (1, Some("20270801"))
    );
    assert!(l[2].is_none());
    let e = local(std::slice::from_ref(&junk)).unwrap_err();
    assert!(
        e.starts_with(&format!("--delegated {}: no ipv4 records", junk.display())),
        "{e}"
    );
    let e = local(&[dir.join("missing.txt")]).unwrap_err();
    assert!(e.contains("missing.txt") && !e.contains('\n'), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_fresh_dump_makes_its_registrys_space_coarse_and_what_it_holds_complete() {
    let (path, store) = db("dumps");
    let files = Arc::new(Files::default());
    serve_five(&files, "20270821");
    let routes = Bootstrap::bundled();
    let one = |s: &str, e: &str| IntervalSet::from_ranges([Range::new(a(s), a(e)).unwrap()]);
    let dump = |date: &str| FreshDump {
        registry: Registry::Arin,
        space: one("23.0.0.0", "23.0.0.255"),
        date: date.into(),
    };
    // Fresh statistics: ARIN's allocation dated up to the dump's day is
    // complete (the dump holds all of it); one dated after it is not.
    let fresh = gather_with(&store, &fetch_all(), &files, NOW);
    let after = fresh.layout_with_dumps(&routes, &[dump("20270822")]);
    assert!(after.complete.contains(a("23.0.200.1")));
    assert!(
        !after.complete.contains(a("23.1.0.1")),
        "free space is not complete"
    );
    let before = fresh.layout_with_dumps(&routes, &[dump("20270820")]);
    assert_eq!(
        before.complete,
        one("23.0.0.0", "23.0.0.255"),
        "only the dump's networks"
    );
    assert!(fresh.layout(&routes).complete.is_empty());
    // Stale statistics: the fresh dump keeps ARIN's space coarse, yet only
    // its own networks are complete.
    let later = date_days("20280901").unwrap();
    let get: Arc<dyn GetFile> = Arc::clone(&files) as Arc<dyn GetFile>;
    let stale = gather(
        &store,
        &fetch_all(),
        &get,
        NOW,
        later,
        &AtomicBool::new(false),
    )
    .unwrap();
    let lay = stale.layout_with_dumps(&routes, &[dump("20280831")]);
    assert!(
        !lay.fine.contains(a("3.0.0.1")),
        "ARIN is not probed finely"
    );
    assert!(lay.fine.contains(a("193.0.0.1")), "RIPE still is");
    assert_eq!(lay.complete, one("23.0.0.0", "23.0.0.255"));
    drop(store);
    let _ = std::fs::remove_file(path);
}
