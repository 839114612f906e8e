//! The world's dumps, read by the project's dump reader, give exactly the
//! networks its RDAP answers give.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use ipcrawl_core::dump::read_slices;
use ipcrawl_core::prefix::{Cidr, Range};
use ipcrawl_core::rdap::parse::parse_network;
use ipcrawl_core::rdap::{Entity, Network, Registry};

use super::*;
use crate::model::{Bootstrap, GenParams, Model, Placeholder, BUNDLED_BOOTSTRAP};
use crate::render::{self, Bases};

/// APNIC's 1/8 (with RIPE NCC and ARIN transfers), AFRINIC's 41/8, a part
/// of RIPE NCC's 185/8 and LACNIC's 200/8 (which holds RIPE NCC, APNIC and
/// AFRINIC blocks): networks of all three registries, transfers in each dump.
const SCOPE: [&str; 4] = ["1.0.0.0/8", "41.0.0.0/8", "185.0.0.0/11", "200.0.0.0/8"];

fn build(epoch: u32) -> Model {
    let scope: Vec<Cidr> = SCOPE.iter().map(|s| s.parse().unwrap()).collect();
    let params = GenParams { density: 1.0 };
    let m = Model::build(
        Bootstrap::parse(BUNDLED_BOOTSTRAP).unwrap(),
        &scope,
        &ipcrawl_core::delegated::bundled(),
        3,
        params,
    )
    .unwrap();
    crate::epoch::age(m, 3, params, epoch)
}

fn world() -> &'static Model {
    static M: OnceLock<Model> = OnceLock::new();
    M.get_or_init(|| build(0))
}

fn bases() -> Bases {
    std::array::from_fn(|i| format!("http://127.0.0.1:{}/", 9000 + i))
}

/// What parsing the registry's RDAP answer for each of its networks (those
/// `pick` keeps) gives.
fn rdap(
    m: &Model,
    r: Registry,
    pick: &dyn Fn(&crate::model::Net) -> bool,
) -> BTreeMap<String, Network> {
    let b = bases();
    m.nets
        .iter()
        .enumerate()
        .filter(|(_, n)| n.registry == r && pick(n))
        .map(|(i, n)| {
            let body = render::network(m, i as u32, &b, "http://q/");
            let q = Range::new(n.range.start, n.range.start).unwrap();
            let p = parse_network(&body, q).unwrap_or_else(|e| panic!("{}: {e}", n.handle));
            (p.handle.clone(), p)
        })
        .collect()
}

type Dumped = (BTreeMap<String, Network>, BTreeMap<String, Network>);

/// The epoch-0 world's dump of `r`, read once.
fn dumped(r: Registry) -> &'static Dumped {
    static D: [OnceLock<Dumped>; 5] = [const { OnceLock::new() }; 5];
    D[r.index()].get_or_init(|| dump(world(), r))
}

/// What reading the registry's dump files (plain text; the gzip files are
/// [`write_dir_writes_the_eight_gzip_files`]'s) gives: (networks, placeholders).
fn dump(m: &Model, r: Registry) -> Dumped {
    let files: Vec<(&str, Vec<u8>)> = DumpFile::of(r)
        .into_iter()
        .map(|f| {
            let mut plain = Vec::new();
            write_plain(m, f, &mut plain).unwrap();
            (f.name(), plain)
        })
        .collect();
    let slices: Vec<(&str, &[u8])> = files.iter().map(|(n, b)| (*n, b.as_slice())).collect();
    let (nets, summaries) = read_slices(&slices).unwrap();
    for s in &summaries {
        assert_eq!(s.skipped_count(), 0, "{}: {:?}", s.file, s.skipped);
    }
    let mut real = BTreeMap::new();
    let mut placeholders = BTreeMap::new();
    for d in nets {
        assert_eq!(d.registry, r);
        let n = d.network;
        let map = if n.placeholder {
            &mut placeholders
        } else {
            &mut real
        };
        assert!(
            map.insert(n.handle.clone(), n).is_none(),
            "duplicate object"
        );
    }
    (real, placeholders)
}

fn role<'a>(n: &'a Network, role: &str) -> Option<&'a Entity> {
    n.entities
        .iter()
        .find(|e| e.roles.iter().any(|x| x == role))
}

/// The fields a dump and an RDAP answer must agree on.
fn same(a: &Network, b: &Network) {
    let h = &a.handle;
    assert_eq!(a.handle, b.handle);
    assert_eq!(a.range, b.range, "{h}");
    assert_eq!(a.name, b.name, "{h}: name");
    assert_eq!(a.net_type, b.net_type, "{h}: type");
    assert_eq!(a.country, b.country, "{h}: country");
    assert_eq!(a.parent_handle, b.parent_handle, "{h}: parent");
    let reg = |n: &Network| {
        role(n, "registrant")
            .cloned()
            .map(|e| (e.handle, e.name, e.email))
    };
    assert_eq!(reg(a), reg(b), "{h}: registrant");
    let abuse = |n: &Network| role(n, "abuse").map(|e| (e.handle.clone(), e.email.clone()));
    assert_eq!(abuse(a), abuse(b), "{h}: abuse");
    assert_eq!(a.registration, b.registration, "{h}: registration");
    assert_eq!(a.last_changed, b.last_changed, "{h}: last changed");
    assert_eq!(a.placeholder, b.placeholder, "{h}: placeholder");
}

/// Every network of `r` in the dump is one of its RDAP networks and the
/// other way round, field by field.
fn check_registry(m: &Model, r: Registry, from_dump: &BTreeMap<String, Network>) -> usize {
    let from_rdap = rdap(m, r, &|_| true);
    assert!(from_rdap.len() > 50, "{r}: {}", from_rdap.len());
    let missing: Vec<_> = from_rdap
        .keys()
        .filter(|k| !from_dump.contains_key(*k))
        .take(5)
        .collect();
    let extra: Vec<_> = from_dump
        .keys()
        .filter(|k| !from_rdap.contains_key(*k))
        .take(5)
        .collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "{r}: missing {missing:?}, extra {extra:?}"
    );
    for (k, a) in &from_rdap {
        same(&from_dump[k], a);
    }
    from_rdap.len()
}

/// Every network of every dump agrees field by field with its RDAP answer,
/// and every RDAP network is in its registry's dump.
#[test]
fn every_dumped_network_equals_its_rdap_answer() {
    let m = world();
    let (ripe, _) = dumped(Registry::Ripe);
    assert!(check_registry(m, Registry::Ripe, ripe) > 1000);
    // Transferred-in blocks (in APNIC's 1/8 and LACNIC's 200/8) are in RIPE's dump.
    assert!(
        ripe.values().any(|d| d.range.start >> 24 == 1),
        "no 1/8 block"
    );
    assert!(
        ripe.values().any(|d| d.range.start >> 24 == 200),
        "no 200/8 block"
    );
    let (apnic, _) = dumped(Registry::Apnic);
    assert!(check_registry(m, Registry::Apnic, apnic) > 1000);
    assert!(
        apnic.values().any(|d| d.range.start >> 24 == 200),
        "no 200/8 block"
    );
    let (afrinic, _) = dumped(Registry::Afrinic);
    assert!(check_registry(m, Registry::Afrinic, afrinic) > 500);
    // AFRINIC's RDAP names networks after their organisation.
    assert!(afrinic
        .values()
        .all(|d| d.name.as_deref().is_some_and(|x| x.starts_with("ORG-"))));
    placeholders_agree();
}

/// Transfers, returns and new blocks move between the dumps with the RDAP
/// answers: after five years, every network of a block changed since epoch
/// 0 agrees field by field, and each dump holds exactly its registry's
/// networks (the others are unchanged, checked above at epoch 0).
#[test]
fn aged_dumps_equal_their_rdap_answers() {
    let m = build(5);
    let changed: Vec<Range> = m
        .history
        .iter()
        .flat_map(|l| &l.blocks)
        .map(|b| b.range)
        .collect();
    assert!(changed.len() > 20, "{}", changed.len());
    let into = |r: Registry| {
        m.history
            .iter()
            .flat_map(|l| &l.blocks)
            .filter(|b| b.kind == crate::epoch::ChangeKind::Transferred)
            .filter(|b| b.registry_after == Some(r))
            .count()
    };
    assert!(
        into(Registry::Ripe) > 0 && into(Registry::Apnic) > 0,
        "no transfer into a dump"
    );
    let touched = |n: &crate::model::Net| changed.iter().any(|c| c.intersect(&n.range).is_some());
    let mut checked = 0;
    for r in [Registry::Ripe, Registry::Apnic, Registry::Afrinic] {
        let (from_dump, _) = dump(&m, r);
        let handles: Vec<&String> = m
            .nets
            .iter()
            .filter(|n| n.registry == r)
            .map(|n| &n.handle)
            .collect();
        assert_eq!(from_dump.len(), handles.len(), "{r}");
        assert!(handles.iter().all(|h| from_dump.contains_key(*h)), "{r}");
        for (k, a) in rdap(&m, r, &touched) {
            same(&from_dump[&k], &a);
            checked += 1;
        }
    }
    assert!(checked > 20, "{checked}");
}

/// The placeholders the RDAP servers answer are objects of the dumps, with
/// the same fields.
fn placeholders_agree() {
    let b = bases();
    let parse = |p: Placeholder, at: u32| {
        parse_network(
            &render::placeholder(p, &b, "q"),
            Range::new(at, at).unwrap(),
        )
        .unwrap()
    };
    let s185: Cidr = "185.0.0.0/8".parse().unwrap();
    let s1: Cidr = "1.0.0.0/8".parse().unwrap();
    let (_, ripe) = dumped(Registry::Ripe);
    let rdap = parse(Placeholder::RipeManaged(s185), s185.addr());
    same(&ripe[&rdap.handle], &rdap);
    assert_eq!(
        ripe["1.0.0.0 - 1.255.255.255"].name.as_deref(),
        Some("NON-RIPE-NCC-MANAGED-ADDRESS-BLOCK")
    );
    assert_eq!(
        ripe["0.0.0.0 - 255.255.255.255"].name.as_deref(),
        Some("IANA-BLK")
    );
    let (_, apnic) = dumped(Registry::Apnic);
    let rdap = parse(Placeholder::ApnicAp(s1), s1.addr());
    same(&apnic[&rdap.handle], &rdap);
    let rdap = parse(Placeholder::ApnicIana, s1.addr());
    same(&apnic[&rdap.handle], &rdap);
    assert_eq!(
        apnic["200.0.0.0 - 200.255.255.255"].name.as_deref(),
        Some("ERX-NETBLOCK")
    );
    let (_, afrinic) = dumped(Registry::Afrinic);
    let rdap = parse(Placeholder::AfrinicIana, s1.addr());
    let d = &afrinic[&rdap.handle];
    // The real AFRINIC server names its root as its own parent and gives
    // no dates; nesting cannot: the rest agrees.
    assert_eq!(
        (&d.name, &d.net_type, &d.country),
        (&rdap.name, &rdap.net_type, &rdap.country)
    );
    let org = |n: &Network| role(n, "registrant").map(|e| (e.handle.clone(), e.name.clone()));
    assert_eq!(org(d), org(&rdap));
    assert!(afrinic.contains_key("41.0.0.0 - 41.255.255.255"));
}

/// A small world for the tests of the files themselves.
fn small() -> Model {
    let scope: Vec<Cidr> = [
        "1.178.0.0/16",
        "41.0.0.0/10",
        "185.0.0.0/14",
        "200.0.0.0/12",
    ]
    .iter()
    .map(|s| s.parse().unwrap())
    .collect();
    Model::build(
        Bootstrap::parse(BUNDLED_BOOTSTRAP).unwrap(),
        &scope,
        &ipcrawl_core::delegated::bundled(),
        3,
        GenParams { density: 1.0 },
    )
    .unwrap()
}

/// The files look like the registries' own; `write_dir` writes them gzipped.
#[test]
fn files_have_each_registrys_style() {
    let m = &small();
    let text = |f: DumpFile| {
        let mut out = Vec::new();
        write_plain(m, f, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    };
    let ripe = text(DumpFile::RipeInetnum);
    assert!(
        ripe.starts_with("#\n# The contents of this file are subject to\n# RIPE Database Terms")
    );
    assert!(ripe.contains("\nremarks:        * THIS OBJECT IS MODIFIED\n"));
    assert!(ripe.contains("\n% Tags relating to '"));
    assert!(ripe.contains("\nadmin-c:        DUMY-RIPE\n"));
    assert!(text(DumpFile::RipeRole).contains("\nnic-hdl:        DUMY-RIPE\n"));
    let apnic = text(DumpFile::ApnicInetnum);
    assert!(apnic.starts_with("#\n# 20260821 03:15:02\n#\n# Copyright (c) 1994-1998 APNIC Ltd."));
    assert!(apnic.contains("\nmnt-irt:        IRT-"));
    assert!(text(DumpFile::ApnicIrt).contains("\nirt:            IRT-APNIC-AP\n"));
    assert!(text(DumpFile::ApnicOrganisation).contains("\norganisation:   ORG-"));
    assert!(text(DumpFile::ApnicRole).contains("\nabuse-mailbox:  abuse@"));
    let afrinic = text(DumpFile::Afrinic);
    assert!(
        afrinic.contains("\n              Internet Service Provider\n"),
        "continuation lines"
    );
    assert!(afrinic.contains("\nchanged:      ***@afrinic.net "));
    assert!(afrinic.contains("\ne-mail:       ***@"));
    assert!(afrinic.contains("\norganisation: ORG-"));
    assert!(afrinic.contains("\nrole:         Abuse contact\n"));
    assert!(afrinic
        .lines()
        .any(|l| l.starts_with("country:      ") && l.ends_with(|c: char| c.is_ascii_lowercase())));
    // The dump's timestamp is the epoch's date.
    let (_, summaries) =
        read_slices(&[("apnic.db.inetnum.gz", &render(m, DumpFile::ApnicInetnum))]).unwrap();
    assert_eq!(
        summaries[0].dump_date.as_deref(),
        Some("2026-08-21T03:15:02Z")
    );
    assert!(DumpFile::of(Registry::Arin).is_empty() && DumpFile::of(Registry::Lacnic).is_empty());
    let dir = std::env::temp_dir().join(format!("ipcrawl-world-dumps-{}", std::process::id()));
    let files = write_dir(m, &dir).unwrap();
    let names: Vec<String> = files
        .iter()
        .map(|(p, _)| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, DumpFile::ALL.map(|f| f.name().to_string()));
    for (p, size) in &files {
        let bytes = std::fs::read(p).unwrap();
        assert_eq!(bytes.len() as u64, *size);
        assert_eq!(&bytes[..2], [0x1f, 0x8b], "{}: gzip", p.display());
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
