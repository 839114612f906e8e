//! Import tests over real redb files: the real dump excerpts of
//! `tests/fixtures/dumps/`, repeated imports, newer and older dumps, RDAP
//! answers newer than the dump, a stopped import run again, damaged files.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use super::*;
use crate::prefix::parse_addr_lenient;
use crate::rdap::Network;

fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("ipcrawl-import-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/dumps")
        .join(name)
}

fn import(store: &Store, files: &[PathBuf], cfg: &ImportConfig) -> ImportReport {
    run(store, files, cfg, &AtomicBool::new(false), &mut |_| {}).unwrap()
}

fn dated(date: &str) -> ImportConfig {
    ImportConfig {
        dump_date: Some(parse_dump_date(date).unwrap()),
        ..ImportConfig::default()
    }
}

/// Every stored record as (handle, registry, source, fetched_at), sorted.
fn view(store: &Store) -> Vec<(String, Registry, String, String, bool)> {
    let mut v: Vec<_> = store
        .records(true)
        .unwrap()
        .into_iter()
        .map(|r| {
            (
                r.network.handle,
                r.registry,
                r.source_url,
                r.fetched_at,
                r.network.placeholder,
            )
        })
        .collect();
    v.sort();
    v
}

fn ripe_object(range: &str, netname: &str) -> String {
    format!(
        "inetnum:        {range}\nnetname:        {netname}\ncountry:        nl\nstatus:         ASSIGNED PA\nsource:         RIPE\n\n"
    )
}

fn write(path: &Path, objects: &[(&str, &str)]) {
    let text: String = objects.iter().map(|(r, n)| ripe_object(r, n)).collect();
    std::fs::write(path, format!("# RIPE test dump\n\n{text}")).unwrap();
}

#[test]
fn the_real_excerpts_are_stored_as_their_registries_describe_them() {
    let d = dir("real");
    let store = Store::open_or_create(&d.join("db.redb")).unwrap();
    let files: Vec<PathBuf> = [
        "ripe.reconstructed.db.inetnum.gz",
        "ripe.reconstructed.db.role",
        "apnic.reconstructed.db.inetnum",
        "apnic.reconstructed.db.irt.gz",
        "apnic.reconstructed.db.organisation",
        "afrinic.reconstructed.db.gz",
    ]
    .iter()
    .map(|f| fixture(f))
    .collect();
    let report = import(&store, &files, &dated("2026-11-30"));
    assert!(!report.stopped);
    let regs: Vec<Registry> = report.registries.iter().map(|r| r.registry).collect();
    assert_eq!(regs, [Registry::Ripe, Registry::Apnic, Registry::Afrinic]);
    let records = store.records(true).unwrap();
    let inetnums: u64 = report.registries.iter().map(|r| r.inetnums).sum();
    assert_eq!(
        records.len() as u64,
        inetnums,
        "every accepted inetnum stored once"
    );
    for r in &records {
        assert!(r.source_url.starts_with("dump:"), "{}", r.source_url);
        assert!(r.queried.is_none());
    }
    // RIPE NCC's own network: the header has no date, so --dump-date gives it.
    let ncc = records
        .iter()
        .find(|r| r.network.handle == "193.0.0.0 - 193.0.7.255")
        .unwrap();
    assert_eq!(ncc.registry, Registry::Ripe);
    assert_eq!(ncc.network.name.as_deref(), Some("RIPE-NCC"));
    assert_eq!(
        ncc.network.parent_handle.as_deref(),
        Some("193.0.0.0 - 193.0.23.255")
    );
    assert_eq!(ncc.source_url, "dump:ripe.reconstructed.db.inetnum.gz");
    assert_eq!(ncc.fetched_at, "2026-11-30T00:00:00Z");
    // The dumped space is the non-placeholder networks' union, per registry.
    for reg in [Registry::Ripe, Registry::Apnic, Registry::Afrinic] {
        let want = IntervalSet::from_ranges(
            records
                .iter()
                .filter(|r| r.registry == reg && !r.network.placeholder)
                .map(|r| r.network.range),
        );
        assert_eq!(store.load_dumped_of(reg).unwrap(), want, "{reg}");
        assert!(!want.is_empty(), "{reg}");
    }
    let notes = stored_dumps(&store).unwrap();
    assert_eq!(notes.len(), 3);
    let files = stored_files(&store).unwrap();
    assert_eq!(files.len(), 6);
    assert_eq!(
        files["ripe.reconstructed.db.role"].date_from,
        DateSource::Flag
    );
}

#[test]
fn importing_the_same_dump_twice_changes_nothing() {
    let d = dir("twice");
    let store = Store::open_or_create(&d.join("db.redb")).unwrap();
    let f = d.join("ripe.db.inetnum");
    write(
        &f,
        &[
            ("10.0.0.0 - 10.0.255.255", "A"),
            ("10.0.1.0 - 10.0.1.255", "A1"),
        ],
    );
    let first = import(&store, std::slice::from_ref(&f), &dated("2026-11-01"));
    let before = view(&store);
    let second = import(&store, std::slice::from_ref(&f), &dated("2026-11-01"));
    assert_eq!(view(&store), before);
    assert_eq!(before.len(), 2);
    let (a, b) = (
        first.registries[0].note.as_ref().unwrap(),
        second.registries[0].note.as_ref().unwrap(),
    );
    assert_eq!((a.networks, a.removed), (2, 0));
    assert_eq!((b.networks, b.removed), (2, 0));
}

#[test]
fn a_newer_dump_replaces_the_older_ones_view_and_an_older_one_is_refused() {
    let d = dir("newer");
    let store = Store::open_or_create(&d.join("db.redb")).unwrap();
    let old = d.join("old").join("ripe.db.inetnum");
    let new = d.join("new").join("ripe.db.inetnum");
    std::fs::create_dir_all(old.parent().unwrap()).unwrap();
    std::fs::create_dir_all(new.parent().unwrap()).unwrap();
    write(
        &old,
        &[
            ("10.0.0.0 - 10.0.255.255", "A"),
            ("10.1.0.0 - 10.1.255.255", "B"),
        ],
    );
    write(
        &new,
        &[
            ("10.0.0.0 - 10.0.255.255", "A2"),
            ("10.2.0.0 - 10.2.255.255", "C"),
        ],
    );
    import(&store, std::slice::from_ref(&old), &dated("2026-10-01"));
    let r = import(&store, std::slice::from_ref(&new), &dated("2026-11-01"));
    let note = r.registries[0].note.as_ref().unwrap();
    assert_eq!((note.networks, note.removed), (2, 1), "B went");
    let names: Vec<Option<String>> = store
        .records(false)
        .unwrap()
        .into_iter()
        .map(|r| r.network.name)
        .collect();
    assert_eq!(names, [Some("A2".to_string()), Some("C".to_string())]);
    let r = |s: &str, e: &str| {
        Range::new(
            parse_addr_lenient(s).unwrap(),
            parse_addr_lenient(e).unwrap(),
        )
        .unwrap()
    };
    assert_eq!(
        store.load_dumped_of(Registry::Ripe).unwrap(),
        IntervalSet::from_ranges([r("10.0.0.0", "10.0.255.255"), r("10.2.0.0", "10.2.255.255")])
    );
    assert_eq!(
        store.load_known().unwrap(),
        IntervalSet::from_ranges([r("10.0.0.0", "10.0.255.255"), r("10.2.0.0", "10.2.255.255")]),
        "the known set forgets the removed network"
    );
    // The old dump again: refused, nothing changes.
    let before = view(&store);
    let again = import(&store, std::slice::from_ref(&old), &dated("2026-10-01"));
    assert_eq!(
        again.registries[0].refused_older_than.as_deref(),
        Some("2026-11-01T00:00:00Z")
    );
    assert_eq!(view(&store), before);
}

fn rdap_record(range: Range, fetched_at: &str) -> Record {
    Record {
        registry: Registry::Ripe,
        network: Network {
            handle: "RDAP".into(),
            range,
            name: Some("FROM-RDAP".into()),
            net_type: None,
            country: None,
            parent_handle: None,
            parent_range: None,
            up_link: None,
            status: vec![],
            entities: vec![],
            registration: None,
            last_changed: None,
            placeholder: false,
        },
        queried: Some(range.start),
        source_url: "https://rdap.db.ripe.net/ip/10.0.0.0".into(),
        fetched_at: fetched_at.into(),
    }
}

#[test]
fn an_rdap_answer_newer_than_the_dump_is_kept_an_older_one_replaced() {
    let d = dir("rdap");
    let store = Store::open_or_create(&d.join("db.redb")).unwrap();
    let f = d.join("ripe.db.inetnum");
    write(
        &f,
        &[
            ("10.0.0.0 - 10.0.255.255", "A"),
            ("10.1.0.0 - 10.1.255.255", "B"),
        ],
    );
    let a = Range::new(0x0A00_0000, 0x0A00_FFFF).unwrap();
    let b = Range::new(0x0A01_0000, 0x0A01_FFFF).unwrap();
    store
        .apply(&[
            Write::Network(
                Box::new(rdap_record(a, "2026-12-01T10:00:00Z")),
                b"{}".to_vec(),
            ),
            Write::Network(
                Box::new(rdap_record(b, "2026-01-01T10:00:00Z")),
                b"{}".to_vec(),
            ),
        ])
        .unwrap();
    let r = import(&store, std::slice::from_ref(&f), &dated("2026-11-01"));
    let note = r.registries[0].note.as_ref().unwrap();
    assert_eq!((note.networks, note.kept_rdap), (1, 1));
    let names: Vec<_> = store
        .records(false)
        .unwrap()
        .into_iter()
        .map(|r| (r.network.name, r.source_url.starts_with("dump:")))
        .collect();
    assert_eq!(
        names,
        [(Some("FROM-RDAP".into()), false), (Some("B".into()), true)]
    );
    // A newer dump never removes an RDAP record.
    write(&f, &[("10.1.0.0 - 10.1.255.255", "B")]);
    import(&store, std::slice::from_ref(&f), &dated("2026-11-20"));
    assert_eq!(store.records(false).unwrap().len(), 2);
}

#[test]
fn a_stopped_import_run_again_gives_the_result_of_one_run() {
    let d = dir("stop");
    let f = d.join("ripe.db.inetnum");
    let objects: Vec<(String, String)> = (0..50)
        .map(|i| (format!("10.{i}.0.0 - 10.{i}.0.255"), format!("N{i}")))
        .collect();
    let refs: Vec<(&str, &str)> = objects
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    write(&f, &refs);
    let cfg = ImportConfig {
        batch: 7,
        ..dated("2026-11-01")
    };
    let once = Store::open_or_create(&d.join("once.redb")).unwrap();
    import(&once, std::slice::from_ref(&f), &cfg);

    let twice = Store::open_or_create(&d.join("twice.redb")).unwrap();
    let quit = AtomicBool::new(false);
    let mut stores = 0;
    let stopped = run(&twice, std::slice::from_ref(&f), &cfg, &quit, &mut |p| {
        if p.phase == Phase::Store {
            stores += 1;
            if stores == 3 {
                quit.store(true, Ordering::Relaxed);
            }
        }
    })
    .unwrap();
    assert!(stopped.stopped);
    let partial = twice.records(false).unwrap().len();
    assert!(partial > 0 && partial < 50, "{partial}");
    assert!(
        stored_dumps(&twice).unwrap().is_empty(),
        "no note before the end"
    );
    import(&twice, std::slice::from_ref(&f), &cfg);
    assert_eq!(view(&twice), view(&once));
    assert_eq!(
        twice.load_dumped_of(Registry::Ripe).unwrap(),
        once.load_dumped_of(Registry::Ripe).unwrap()
    );
}

#[test]
fn a_damaged_file_stops_the_import_before_anything_is_written() {
    let d = dir("damaged");
    let store = Store::open_or_create(&d.join("db.redb")).unwrap();
    let good = d.join("ripe.db.inetnum");
    write(&good, &[("10.0.0.0 - 10.0.255.255", "A")]);
    let gz = std::fs::read(fixture("ripe.test.gz")).unwrap();
    let cut = d.join("apnic.db.inetnum.gz");
    std::fs::write(&cut, &gz[..gz.len() / 2]).unwrap();
    let bin = d.join("afrinic.db");
    std::fs::write(&bin, b"inetnum: 1.0.0.0 - 1.0.0.255\n\0\0\x01binary").unwrap();
    for bad in [&cut, &bin] {
        let e = run(
            &store,
            &[good.clone(), bad.clone()],
            &ImportConfig::default(),
            &AtomicBool::new(false),
            &mut |_| {},
        )
        .unwrap_err();
        let msg = e.to_string();
        assert!(matches!(e, ImportError::Dump(_)), "{msg}");
        assert!(!msg.contains('\n'), "{msg}");
        assert!(
            msg.contains(&bad.file_name().unwrap().to_string_lossy().to_string()),
            "{msg}"
        );
        assert!(store.records(true).unwrap().is_empty(), "nothing written");
    }
    let missing = run(
        &store,
        &[d.join("nope.gz")],
        &ImportConfig::default(),
        &AtomicBool::new(false),
        &mut |_| {},
    )
    .unwrap_err();
    assert!(missing.to_string().contains("nope.gz"), "{missing}");
}

#[test]
fn dump_dates_are_checked() {
    assert_eq!(
        parse_dump_date("2026-11-30").unwrap(),
        "2026-11-30T00:00:00Z"
    );
    assert_eq!(
        parse_dump_date("2026-11-30T23:06:23Z").unwrap(),
        "2026-11-30T23:06:23Z"
    );
    for bad in [
        "",
        "2026-13-01",
        "2026-1-01",
        "20261130",
        "2026-11-30T25:00:00Z",
        "2026-11-30 00:00:00",
    ] {
        let e = parse_dump_date(bad).unwrap_err();
        assert!(e.contains("YYYY-MM-DD"), "{e}");
    }
}
