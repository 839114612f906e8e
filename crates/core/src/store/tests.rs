//! Store tests: the API round trips, the codec (round trip, tags,
//! checksums), dictionaries, merging, and the schema-1 compatibility
//! fixtures in `tests/fixtures/db/`.

use std::path::{Path, PathBuf};

use redb::{Database, ReadableDatabase, ReadableTable};

use super::codec::{self, seal};
use super::compress::{needs_dict, DictKind, Unpacker, TRAIN_SAMPLES};
use super::schema::{Tag, NETWORKS, NETWORK_KEYS, RAW};
use super::*;
use crate::prefix::parse_addr_lenient;
use crate::rdap::Entity;

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("ipcrawl-store-{}-{name}", std::process::id()));
    let _ = std::fs::remove_file(&d);
    d
}

fn rec(start: &str, end: &str, reg: Registry, placeholder: bool) -> Record {
    let range = Range::new(
        parse_addr_lenient(start).unwrap(),
        parse_addr_lenient(end).unwrap(),
    )
    .unwrap();
    Record {
        registry: reg,
        network: Network {
            handle: format!("H-{start}"),
            range,
            name: Some("N".into()),
            net_type: None,
            country: None,
            parent_handle: None,
            parent_range: None,
            up_link: None,
            status: vec![],
            entities: vec![],
            registration: None,
            last_changed: None,
            placeholder,
        },
        queried: Some(range.start),
        source_url: "http://127.0.0.1/ip/x".into(),
        fetched_at: "2026-11-27T00:00:00Z".into(),
    }
}

/// A record with every field set (and one absent in each entity).
fn full_rec(i: u32) -> Record {
    let start = (20 << 24) + (i << 8);
    let mut r = rec(
        &crate::prefix::fmt_addr(start),
        &crate::prefix::fmt_addr(start + 255),
        Registry::ALL[(i % 5) as usize],
        false,
    );
    let n = &mut r.network;
    n.handle = format!("NET-20-{i}-0-1");
    n.name = Some(format!("CUSTOMER-{}", i * 7919 % 10_007));
    n.net_type = Some("ASSIGNED PA".into());
    n.country = Some("NL".into());
    n.parent_handle = Some(format!("NET-20-{}-0-0", i / 16));
    n.parent_range = Range::new(start & 0xFFFF_0000, start | 0xFFFF);
    n.up_link = Some(format!("https://rdap.example.net/ip/20.{}.0.0/16", i >> 8));
    n.status = vec!["active".into(), "assigned".into()];
    n.entities = vec![
        Entity {
            handle: Some(format!("ORG-{i}")),
            roles: vec!["registrant".into()],
            name: Some(format!("Customer {i} B.V. — ünïcode")),
            email: None,
        },
        Entity {
            handle: None,
            roles: vec!["abuse".into(), "technical".into()],
            name: None,
            email: Some(format!("abuse@c{i}.example.net")),
        },
    ];
    n.registration = Some(format!("20{:02}-03-02T10:00:00Z", i % 25));
    n.last_changed = Some("2024-11-20T08:13:55Z".into());
    r.source_url = format!(
        "http://127.0.0.1:4000/ip/{}",
        crate::prefix::fmt_addr(start)
    );
    r
}

/// A raw answer in a registry's style, varied like real ones.
fn answer(r: &Record) -> Vec<u8> {
    format!(
        r#"{{"rdapConformance":["rdap_level_0","cidr0"],"objectClassName":"ip network","handle":"{}","startAddress":"{}","endAddress":"{}","ipVersion":"v4","name":"{}","type":"ASSIGNED PA","country":"NL","parentHandle":"{}","status":["active"],"entities":[{{"objectClassName":"entity","handle":"ORG-{}","roles":["registrant"],"vcardArray":["vcard",[["version",{{}},"text","4.0"],["fn",{{}},"text","{}"]]]}}],"events":[{{"eventAction":"registration","eventDate":"{}"}}],"links":[{{"value":"{}","rel":"self","href":"{}"}}],"port43":"whois.example.net","notices":[{{"title":"Terms and Conditions","description":["This is the example database query service."]}}]}}"#,
        r.network.handle,
        crate::prefix::fmt_addr(r.network.range.start),
        crate::prefix::fmt_addr(r.network.range.end),
        r.network.name.as_deref().unwrap_or(""),
        r.network.parent_handle.as_deref().unwrap_or(""),
        r.network.range.start,
        r.network.name.as_deref().unwrap_or(""),
        r.network.registration.as_deref().unwrap_or(""),
        r.source_url,
        r.source_url,
    )
    .into_bytes()
}

fn copy_fixture(name: &str, to: &str) -> PathBuf {
    let src = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/db")
        .join(name);
    let dst = tmp(to);
    std::fs::copy(&src, &dst).unwrap();
    dst
}

fn fixture_text(name: &str) -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/db")
        .join(name);
    std::fs::read_to_string(p).unwrap()
}

fn export_jsonl(s: &Store) -> String {
    let mut w = crate::export::Writer::new(Vec::new(), crate::export::Format::Jsonl);
    s.for_each_record(true, |r| Ok(w.write(&r)?)).unwrap();
    String::from_utf8(w.finish().unwrap()).unwrap()
}

/// Today's export `got` says what the golden export `want` (written by an
/// earlier version) says: the same lines, each with every member of the
/// golden line and the same value (later versions add members), dates as
/// the same instant (exports now write them in UTC, `Z`).
fn assert_exports_match(want: &str, got: &str) {
    let (w, g): (Vec<&str>, Vec<&str>) = (want.lines().collect(), got.lines().collect());
    assert_eq!(w.len(), g.len(), "line count");
    for (i, (a, b)) in w.iter().zip(&g).enumerate() {
        let a: serde_json::Value = serde_json::from_str(a).unwrap();
        let b: serde_json::Value = serde_json::from_str(b).unwrap();
        for (k, av) in a.as_object().unwrap() {
            let bv = &b[k];
            if matches!(k.as_str(), "registration" | "last_changed" | "fetched_at") {
                let instant =
                    |v: &serde_json::Value| v.as_str().and_then(crate::export::dates::instant);
                assert_eq!(
                    instant(av),
                    instant(bv),
                    "line {i} {k}: golden {av}, export {bv}"
                );
                assert!(
                    bv.is_null() || bv.as_str().is_some_and(|s| s.ends_with('Z')),
                    "line {i} {k}: {bv}"
                );
            } else {
                assert_eq!(av, bv, "line {i} {k}");
            }
        }
    }
}

fn flip(path: &Path, def: TableDefinition<NetKey, &[u8]>, key: NetKey, at: usize, mask: u8) {
    let db = Database::open(path).unwrap();
    let txn = db.begin_write().unwrap();
    {
        let mut t = txn.open_table(def).unwrap();
        let mut v = t.get(key).unwrap().unwrap().value().to_vec();
        v[at] ^= mask;
        t.insert(key, v.as_slice()).unwrap();
    }
    txn.commit().unwrap();
}

use redb::TableDefinition;

#[test]
fn round_trip_and_known_set() {
    let p = tmp("rt");
    let s = Store::open_or_create(&p).unwrap();
    let a = rec("1.0.0.0", "1.0.0.255", Registry::Apnic, false);
    let b = rec("2.255.0.0", "3.0.255.255", Registry::Ripe, false);
    let ph = rec("2.0.0.0", "2.255.255.255", Registry::Ripe, true);
    s.apply(&[
        Write::Network(Box::new(a.clone()), b"{\"x\":1}".to_vec()),
        Write::Network(Box::new(b.clone()), b"{}".to_vec()),
        Write::Network(Box::new(ph.clone()), b"{}".to_vec()),
        Write::Gap(Range::new(5, 9).unwrap(), GapKind::NotFound, Registry::Arin),
        Write::Counters([("queries".to_string(), 7)].into()),
    ])
    .unwrap();
    drop(s);
    let s = Store::open_read(&p).unwrap();
    assert_eq!(s.schema_version(), SCHEMA_VERSION);
    assert_eq!(s.counts().unwrap(), (2, 1));
    assert_eq!(s.records(false).unwrap(), vec![a.clone(), b.clone()]);
    assert_eq!(s.records(true).unwrap().len(), 3);
    let known = s.load_known().unwrap();
    assert_eq!(known.ranges(), &[a.network.range, b.network.range]);
    assert_eq!(
        s.raw(a.network.range, Registry::Apnic).unwrap().unwrap(),
        b"{\"x\":1}"
    );
    assert_eq!(s.counters().unwrap()["queries"], 7);
    assert_eq!(s.gaps().unwrap()[0].1, GapKind::NotFound);
    let _ = std::fs::remove_file(&p);
}

#[test]
fn records_come_with_their_raw_answers_in_one_scan() {
    let p = tmp("with-raw");
    let s = Store::open_or_create(&p).unwrap();
    let a = rec("1.0.0.0", "1.0.0.255", Registry::Apnic, false);
    let b = rec("2.255.0.0", "3.0.255.255", Registry::Ripe, false);
    let ph = rec("2.0.0.0", "2.255.255.255", Registry::Ripe, true);
    s.apply(&[
        Write::Network(Box::new(a.clone()), b"{\"x\":1}".to_vec()),
        Write::Network(
            Box::new(b.clone()),
            b"inetnum: 2.255.0.0 - 3.0.255.255".to_vec(),
        ),
        Write::Network(Box::new(ph.clone()), b"{\"p\":true}".to_vec()),
    ])
    .unwrap();
    for placeholders in [false, true] {
        let mut got = Vec::new();
        s.for_each_record_with_raw(placeholders, |r, raw| {
            got.push((r, raw));
            Ok(())
        })
        .unwrap();
        let mut want = vec![
            (a.clone(), Some(b"{\"x\":1}".to_vec())),
            (
                b.clone(),
                Some(b"inetnum: 2.255.0.0 - 3.0.255.255".to_vec()),
            ),
        ];
        if placeholders {
            want.push((ph.clone(), Some(b"{\"p\":true}".to_vec())));
        }
        assert_eq!(got, want);
        // The same records, in the same order, as without the raw answers.
        let plain = s.records(placeholders).unwrap();
        assert_eq!(got.into_iter().map(|(r, _)| r).collect::<Vec<_>>(), plain);
    }
    let _ = std::fs::remove_file(&p);
}

#[test]
fn a_record_without_a_queried_address_round_trips() {
    let p = tmp("noquery");
    let s = Store::open_or_create(&p).unwrap();
    let mut a = full_rec(3);
    a.queried = None;
    s.apply(&[Write::Network(Box::new(a.clone()), b"{}".to_vec())])
        .unwrap();
    assert_eq!(s.records(false).unwrap(), vec![a.clone()]);
    // Schema 1 cannot hold it: refused, not invented.
    let p1 = tmp("noquery-v1");
    let old = Store::create_v1(&p1).unwrap();
    let e = old
        .apply(&[Write::Network(Box::new(a), b"{}".to_vec())])
        .unwrap_err()
        .to_string();
    assert!(e.contains("without a queried address"), "{e}");
    let _ = std::fs::remove_file(&p);
    let _ = std::fs::remove_file(&p1);
}

#[test]
fn seeds_survive_and_are_replaced() {
    let p = tmp("seeds");
    let s = Store::open_or_create(&p).unwrap();
    assert!(s.load_plan().unwrap().is_none());
    let plan = crate::seeds::grid(&["8.0.0.0/16".parse().unwrap()], 24).unwrap();
    s.replace_seeds(&plan).unwrap();
    let back = s.load_plan().unwrap().unwrap();
    assert_eq!(back.seeds, plan.seeds);
    assert_eq!(back.space, plan.space);
    assert_eq!(back.info.seeds, 256);
    let _ = std::fs::remove_file(&p);
}

/// Moved from `seeds.rs`: the seed-run codec round trips both big grids.
#[test]
fn seed_chunks_round_trip() {
    use crate::seeds::{grid, grid_2016, SeedSet};
    for p in [grid(&[], 24).unwrap(), grid_2016()] {
        let mut runs = Vec::new();
        for chunk in 0..=255u8 {
            let r = p.seeds.chunk_runs(chunk);
            if !r.is_empty() {
                let bytes = codec::encode_runs(chunk, &r);
                runs.extend(codec::decode_runs(chunk, &bytes).unwrap());
                // The schema-1 encoding too.
                assert_eq!(
                    v1::decode_seeds(chunk, &v1::encode_seeds(chunk, &r)).unwrap(),
                    r
                );
            }
        }
        let back = SeedSet::from_runs(runs);
        assert_eq!(back.len(), p.seeds.len());
        assert!(back.iter().eq(p.seeds.iter()));
    }
    assert!(v1::decode_seeds(1, b"garbage").is_err());
    assert!(codec::decode_runs(1, b"\x05\x01").is_err());
    // A run leaving its /8 is refused.
    assert!(codec::decode_runs(1, &[1, 0x80, 0x80, 0x80, 0x10, 1, 1]).is_err());
    // The 2016 grid through the store, in both schemas.
    for (name, s) in [
        ("g16", Store::open_or_create(&tmp("g16")).unwrap()),
        ("g16-v1", Store::create_v1(&tmp("g16-v1")).unwrap()),
    ] {
        let plan = grid_2016();
        s.replace_seeds(&plan).unwrap();
        let back = s.load_plan().unwrap().unwrap();
        assert!(back.seeds.iter().eq(plan.seeds.iter()), "{name}");
        assert_eq!(back.info, plan.info, "{name}");
        let _ = std::fs::remove_file(s.path());
    }
}

#[test]
fn foreign_files_are_refused() {
    let p = tmp("foreign");
    std::fs::write(&p, b"this is not a database at all, just some text").unwrap();
    let e = Store::open_read(&p).err().unwrap().to_string();
    assert!(e.contains("not a readable ipcrawl database"), "{e}");
    let e = Store::open_or_create(&p).err().unwrap().to_string();
    assert!(e.contains("not a readable ipcrawl database"), "{e}");
    // A redb file without ipcrawl's tables.
    let _ = std::fs::remove_file(&p);
    let db = Database::create(&p).unwrap();
    drop(db);
    let e = Store::open_read(&p).err().unwrap().to_string();
    assert!(e.contains("meta table"), "{e}");
    let missing = tmp("missing");
    assert!(matches!(Store::open_read(&missing), Err(Error::Missing(_))));
    let _ = std::fs::remove_file(&p);
}

#[test]
fn a_newer_schema_is_refused_untouched() {
    let p = tmp("newer");
    drop(Store::open_or_create(&p).unwrap());
    {
        let db = Database::open(&p).unwrap();
        let txn = db.begin_write().unwrap();
        txn.open_table(schema::META)
            .unwrap()
            .insert(
                "schema_version",
                (SCHEMA_VERSION + 1).to_string().as_bytes(),
            )
            .unwrap();
        txn.commit().unwrap();
    }
    let before = std::fs::read(&p).unwrap();
    for e in [
        Store::open_read(&p).err().unwrap(),
        Store::open_or_create(&p).err().unwrap(),
    ] {
        let e = e.to_string();
        let want = format!(
            "has schema version {}, this ipcrawl reads version {SCHEMA_VERSION}",
            SCHEMA_VERSION + 1
        );
        assert!(e.contains(&want), "{e}");
    }
    assert!(std::fs::read(&p).unwrap() == before, "modified");
    let _ = std::fs::remove_file(&p);
}

#[test]
fn merge_keeps_the_newest_answer_and_unites_the_rest() {
    let (pa, pb, po) = (tmp("ma"), tmp("mb"), tmp("mo"));
    let a = Store::open_or_create(&pa).unwrap();
    let b = Store::open_or_create(&pb).unwrap();
    let old = rec("1.0.0.0", "1.0.0.255", Registry::Apnic, false);
    let mut new = old.clone();
    new.fetched_at = "2026-12-01T00:00:00Z".into();
    new.network.name = Some("NEWER".into());
    let other = rec("2.0.0.0", "2.0.0.255", Registry::Ripe, false);
    let failure = |addr: u32| Failure {
        addr,
        end: addr,
        registry: Registry::Ripe,
        reason: "HTTP 503".into(),
        attempts: 5,
        at: "2026-11-27T00:00:00Z".into(),
        permanent: false,
    };
    a.apply(&[
        Write::Network(Box::new(old.clone()), b"old".to_vec()),
        Write::Gap(
            Range::new(100, 109).unwrap(),
            GapKind::NotFound,
            Registry::Arin,
        ),
        Write::Failure(failure(other.network.range.start + 5)),
        Write::Failure(failure(7 << 24)),
        Write::Counters([("queries".to_string(), 3)].into()),
    ])
    .unwrap();
    b.apply(&[
        Write::Network(Box::new(new.clone()), b"new".to_vec()),
        Write::Network(Box::new(other.clone()), b"{}".to_vec()),
        Write::Gap(
            Range::new(100, 199).unwrap(),
            GapKind::NotFound,
            Registry::Arin,
        ),
        Write::Counters([("queries".to_string(), 4)].into()),
    ])
    .unwrap();
    drop((a, b));
    let (a, b) = (
        Store::open_read(&pa).unwrap(),
        Store::open_read(&pb).unwrap(),
    );
    // Either order: the newer answer wins, with its raw body.
    for order in [[&a, &b], [&b, &a]] {
        let _ = std::fs::remove_file(&po);
        let o = Store::open_or_create(&po).unwrap();
        let mut dups = 0;
        for s in order {
            dups += o.merge_from(s).unwrap().duplicates;
        }
        assert_eq!(dups, 1);
        assert_eq!(o.finish_merge(&["a".into(), "b".into()]).unwrap(), 1);
        assert_eq!(o.merged_from().unwrap(), vec!["a", "b"]);
        assert_eq!(o.records(false).unwrap(), vec![new.clone(), other.clone()]);
        assert_eq!(
            o.raw(new.network.range, Registry::Apnic).unwrap().unwrap(),
            b"new"
        );
        assert_eq!(o.counters().unwrap()["queries"], 7);
        assert_eq!(o.gaps().unwrap()[0].0, Range::new(100, 199).unwrap());
        // The failure inside a merged network is dropped; the other stays.
        let f = o.failures().unwrap();
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].addr, 7 << 24);
        let known = o.load_known().unwrap();
        assert_eq!(known.ranges(), &[new.network.range, other.network.range]);
    }
    for p in [pa, pb, po] {
        let _ = std::fs::remove_file(p);
    }
}

#[test]
fn codec_round_trips_every_field() {
    for i in 0..20 {
        let mut r = full_rec(i);
        if i % 2 == 1 {
            r.queried = None;
        }
        if i % 3 == 0 {
            r.network.placeholder = true;
            r.network.entities.clear();
            r.network.country = None;
        }
        let back = codec::decode_record(r.key(), &codec::encode_record(&r)).unwrap();
        assert_eq!(back, r);
        // And through the schema-1 layout (which needs a queried address).
        if r.queried.is_some() {
            assert_eq!(
                v1::decode_record(&v1::encode_record(&r).unwrap()).unwrap(),
                r
            );
        }
    }
    let f = Failure {
        addr: 42,
        end: 4242,
        registry: Registry::Lacnic,
        reason: "HTTP 503 (5 attempts)".into(),
        attempts: 5,
        at: "2026-12-01T00:00:00Z".into(),
        permanent: false,
    };
    assert_eq!(
        codec::decode_failure(&codec::encode_failure(&f)).unwrap(),
        f
    );
    assert_eq!(v1::decode_failure(&v1::encode_failure(&f)).unwrap(), f);
    // A permanent refusal: its own tag, so an ordinary failure keeps the
    // bytes every version reads; the flag survives the round trip.
    assert_eq!(codec::encode_failure(&f)[0], Tag::Failure as u8);
    let refusal = Failure {
        permanent: true,
        ..f.clone()
    };
    let bytes = codec::encode_failure(&refusal);
    assert_eq!(bytes[0], Tag::Refusal as u8);
    assert_eq!(codec::decode_failure(&bytes).unwrap(), refusal);
    let plan = crate::seeds::grid(&["8.0.0.0/16".parse().unwrap()], 24).unwrap();
    assert_eq!(
        codec::decode_plan(&codec::encode_plan(&plan.info)).unwrap(),
        plan.info
    );
    let names = vec!["a.redb".to_string(), "ü/b.redb".to_string()];
    assert_eq!(
        codec::decode_names(&codec::encode_names(&names)).unwrap(),
        names
    );
    let set = crate::trie::IntervalSet::from_ranges([
        Range::new(0, 0).unwrap(),
        Range::new(10, 20).unwrap(),
        Range::new(u32::MAX - 5, u32::MAX).unwrap(),
    ]);
    assert_eq!(
        codec::decode_ranges(&codec::encode_ranges(&set)).unwrap(),
        set
    );
    // A record payload with a byte missing or one too many is refused.
    let p = codec::encode_record(&full_rec(1));
    assert!(codec::decode_record(full_rec(1).key(), &p[..p.len() - 1]).is_err());
    let mut longer = p.clone();
    longer.push(0);
    let e = codec::decode_record(full_rec(1).key(), &longer).unwrap_err();
    assert!(e.contains("trailing"), "{e}");
}

#[test]
fn the_version_tag_names_what_a_value_is() {
    let body = codec::encode_record(&full_rec(2));
    let as_raw = seal(Tag::Raw, &body);
    let e = codec::open(&as_raw, Tag::Record).unwrap_err();
    assert!(e.contains("tag 0x22, expected 0x12 (Record)"), "{e}");
    // An unknown (future) tag with a valid checksum is refused, not guessed at.
    let mut future = seal(Tag::Record, &body);
    future[0] = 0x13;
    let mut h = crc32fast::Hasher::new();
    h.update(&[0x13]);
    h.update(&future[5..]);
    future[1..5].copy_from_slice(&h.finalize().to_le_bytes());
    let e = codec::open(&future, Tag::Record).unwrap_err();
    assert!(e.contains("tag 0x13"), "{e}");
    assert!(codec::open(&[0x12, 0, 0], Tag::Record).is_err());
}

#[test]
fn the_checksum_catches_every_flipped_byte() {
    let r = full_rec(4);
    let mut u = Unpacker::new(std::sync::Arc::new(compress::Dicts::new()));
    let mut p = compress::Packer::new(&compress::Dicts::new()).unwrap();
    let value = seal(
        Tag::Record,
        &p.pack(DictKind::Record, r.registry, &codec::encode_record(&r)),
    );
    for at in 0..value.len() {
        for mask in [0x01, 0x80, 0xff] {
            let mut v = value.clone();
            v[at] ^= mask;
            let got = codec::open(&v, Tag::Record)
                .and_then(|b| u.unpack(b))
                .and_then(|b| codec::decode_record(r.key(), &b));
            assert!(
                got.is_err(),
                "flip of byte {at} with {mask:#x} went unnoticed"
            );
        }
    }
}

#[test]
fn a_damaged_value_is_reported_with_its_table_and_key() {
    let p = tmp("flip");
    let s = Store::open_or_create(&p).unwrap();
    let a = full_rec(9);
    let b = full_rec(10);
    s.apply(&[
        Write::Network(Box::new(a.clone()), answer(&a)),
        Write::Network(Box::new(b.clone()), answer(&b)),
    ])
    .unwrap();
    drop(s);
    let len = {
        let db = Database::open(&p).unwrap();
        let txn = db.begin_read().unwrap();
        let t = txn.open_table(NETWORKS).unwrap();
        let n = t.get(b.key()).unwrap().unwrap().value().len();
        n
    };
    // Every single-byte flip of the record: refused, never exported.
    for at in 0..len {
        flip(&p, NETWORKS, b.key(), at, 0x04);
        let s = Store::open_read(&p).unwrap();
        match s.records(false) {
            Err(Error::Corrupt { table, key, .. }) => {
                assert_eq!(table, "networks");
                assert_eq!(key.as_deref(), Some("20.0.10.0-20.0.10.255 arin"));
            }
            other => panic!("flip at {at}: {other:?}"),
        }
        drop(s);
        flip(&p, NETWORKS, b.key(), at, 0x04);
    }
    let s = Store::open_read(&p).unwrap();
    assert_eq!(s.records(false).unwrap(), vec![a.clone(), b.clone()]);
    drop(s);
    flip(&p, RAW, a.key(), 7, 0x10);
    let s = Store::open_read(&p).unwrap();
    let e = s.raw(a.network.range, a.registry).unwrap_err().to_string();
    assert_eq!(
        e,
        "corrupt value in table raw at key 20.0.9.0-20.0.9.255 afrinic: checksum mismatch \
         (the value was damaged); the database is damaged: restore a copy of it, or crawl again \
         into a new file (`ipcrawl --db NEW.redb crawl`)"
    );
    let _ = std::fs::remove_file(&p);
}

#[test]
fn errors_name_the_table_from_its_definition() {
    let e = error::tbl(&NETWORK_KEYS)("boom");
    assert_eq!(e.to_string(), "database error in table network_keys: boom");
    let e = error::corrupt(&RAW, "k", "bad");
    assert!(
        e.to_string()
            .starts_with("corrupt value in table raw at key k: bad; the database is damaged: "),
        "{e}"
    );
}

/// Writes `n` records of registry `reg` with their answers, in batches.
fn write_many(s: &Store, from: u32, n: u32) -> Vec<Record> {
    let mut out = Vec::new();
    let mut batch = Vec::new();
    for i in from..from + n {
        let mut r = full_rec(i);
        r.registry = Registry::Ripe;
        batch.push(Write::Network(Box::new(r.clone()), answer(&r)));
        out.push(r);
        if batch.len() == 500 {
            s.apply(&batch).unwrap();
            batch.clear();
        }
    }
    s.apply(&batch).unwrap();
    out
}

fn dict_of_raw(p: &Path, key: NetKey) -> Option<u32> {
    let db = Database::open(p).unwrap();
    let txn = db.begin_read().unwrap();
    let t = txn.open_table(RAW).unwrap();
    let v = t.get(key).unwrap().unwrap().value().to_vec();
    needs_dict(codec::open(&v, Tag::Raw).unwrap())
}

#[test]
fn dictionaries_are_trained_stored_and_used_and_old_values_stay_readable() {
    let p = tmp("dict");
    let n = TRAIN_SAMPLES as u32;
    let s = Store::open_or_create(&p).unwrap();
    let before = write_many(&s, 0, n);
    // Trained in the background; the next batch stores and uses them.
    s.wait_for_training();
    let after = write_many(&s, n, 300);
    let dicts = s.dictionaries();
    let kinds: Vec<(DictKind, Registry)> = dicts.iter().map(|d| (d.kind, d.registry)).collect();
    assert!(
        kinds.contains(&(DictKind::Raw, Registry::Ripe)),
        "{kinds:?}"
    );
    assert!(
        kinds.contains(&(DictKind::Record, Registry::Ripe)),
        "{kinds:?}"
    );
    assert!(dicts.iter().all(|d| d.samples == n));
    drop(s);
    assert_eq!(dict_of_raw(&p, before[0].key()), None);
    let raw_dict = dicts.iter().find(|d| d.kind == DictKind::Raw).unwrap().id;
    assert_eq!(dict_of_raw(&p, after[0].key()), Some(raw_dict));
    // Reopened: dictionaries come from the table; everything reads back.
    let s = Store::open_read(&p).unwrap();
    assert_eq!(s.dictionaries(), dicts);
    let all: Vec<Record> = before.iter().chain(&after).cloned().collect();
    let mut sorted = all.clone();
    sorted.sort_by_key(Record::key);
    assert_eq!(s.records(false).unwrap(), sorted);
    for r in [&before[5], &after[5]] {
        assert_eq!(
            s.raw(r.network.range, r.registry).unwrap().unwrap(),
            answer(r)
        );
    }
    // A merge copies values and their dictionaries as they are.
    let po = tmp("dict-merged");
    let o = Store::open_or_create(&po).unwrap();
    o.merge_from(&s).unwrap();
    o.finish_merge(&[]).unwrap();
    assert_eq!(o.dictionaries(), dicts);
    assert_eq!(o.records(false).unwrap(), sorted);
    assert_eq!(
        o.raw(after[7].network.range, after[7].registry)
            .unwrap()
            .unwrap(),
        answer(&after[7])
    );
    drop(o);
    assert_eq!(dict_of_raw(&po, after[0].key()), Some(raw_dict));
    // Compaction packs the values written before the dictionary with it.
    drop(s);
    let mut s = Store::open_rw(&p).unwrap();
    s.compact().unwrap();
    assert_eq!(s.records(false).unwrap(), sorted);
    assert_eq!(
        s.raw(before[3].network.range, before[3].registry)
            .unwrap()
            .unwrap(),
        answer(&before[3])
    );
    drop(s);
    assert_eq!(dict_of_raw(&p, before[0].key()), Some(raw_dict));
    let _ = std::fs::remove_file(&p);
    let _ = std::fs::remove_file(&po);
}

#[test]
fn a_schema_1_store_is_read_as_it_is_and_migrated_when_written() {
    let p = tmp("v1-written");
    let s = Store::create_v1(&p).unwrap();
    let mut recs = Vec::new();
    let mut batch = Vec::new();
    for i in 0..400 {
        let r = full_rec(i);
        batch.push(Write::Network(Box::new(r.clone()), answer(&r)));
        recs.push(r);
    }
    let f = Failure {
        addr: 99 << 24,
        end: 99 << 24,
        registry: Registry::Arin,
        reason: "timeout".into(),
        attempts: 5,
        at: "2026-12-01T00:00:00Z".into(),
        permanent: false,
    };
    batch.push(Write::Failure(f.clone()));
    s.apply(&batch).unwrap();
    s.replace_seeds(&crate::seeds::grid(&["20.0.0.0/16".parse().unwrap()], 24).unwrap())
        .unwrap();
    drop(s);
    recs.sort_by_key(Record::key);
    let read = Store::open_read(&p).unwrap();
    assert_eq!(read.schema_version(), 1);
    assert_eq!(read.records(false).unwrap(), recs);
    let known = read.load_known().unwrap();
    drop(read);
    let s = Store::open_rw(&p).unwrap();
    assert_eq!(s.schema_version(), SCHEMA_VERSION);
    assert_eq!(s.records(false).unwrap(), recs);
    assert_eq!(s.failures().unwrap(), vec![f]);
    assert_eq!(s.load_known().unwrap(), known);
    assert_eq!(s.load_plan().unwrap().unwrap().seeds.len(), 256);
    // 80 records per registry: enough to train each registry's dictionaries.
    assert_eq!(s.dictionaries().len(), 10, "{:?}", s.dictionaries());
    for r in &recs[..20] {
        assert_eq!(
            s.raw(r.network.range, r.registry).unwrap().unwrap(),
            answer(r)
        );
    }
    drop(s);
    assert!(dict_of_raw(&p, recs[0].key()).is_some());
    let _ = std::fs::remove_file(&p);
}

/// The committed schema-1 file (written by c6db4ef): read as it is and
/// after migration, its export equals the golden export made by c6db4ef.
#[test]
fn compat_v1_fixture_exports_as_c6db4ef_did() {
    let golden = fixture_text("v1.export.jsonl");
    let p = copy_fixture("v1.redb", "compat-v1");
    let s = Store::open_read(&p).unwrap();
    assert_eq!(s.schema_version(), 1);
    assert_exports_match(&golden, &export_jsonl(&s));
    let raws: Vec<Vec<u8>> = s
        .records(true)
        .unwrap()
        .iter()
        .map(|r| s.raw(r.network.range, r.registry).unwrap().unwrap())
        .collect();
    let failures = s.failures().unwrap();
    let plan = s.load_plan().unwrap().unwrap();
    drop(s);
    let s = Store::open_rw(&p).unwrap();
    assert_eq!(s.schema_version(), SCHEMA_VERSION);
    assert_exports_match(&golden, &export_jsonl(&s));
    let cov = serde_json::to_value(crate::coverage::report(&s).unwrap()).unwrap();
    let want: serde_json::Value = serde_json::from_str(&fixture_text("v1.coverage.json")).unwrap();
    assert_eq!(cov, want);
    assert_eq!(s.failures().unwrap(), failures);
    assert_eq!(failures.len(), 6);
    let back = s.load_plan().unwrap().unwrap();
    assert_eq!(back.seeds, plan.seeds);
    assert_eq!(back.info, plan.info);
    // Every raw answer survives, and parses to its stored record.
    for (r, raw) in s.records(true).unwrap().iter().zip(&raws) {
        let got = s.raw(r.network.range, r.registry).unwrap().unwrap();
        assert_eq!(&got, raw);
        let q = r.queried.unwrap();
        let n = crate::rdap::parse::parse_network(&got, Range::new(q, q).unwrap()).unwrap();
        assert_eq!(n, r.network);
    }
    let _ = std::fs::remove_file(&p);
}

/// The committed schema-2 file: the next schema's backward-compatibility test starts here.
#[test]
fn compat_v2_fixture_exports_its_golden_file() {
    let p = copy_fixture("v2.redb", "compat-v2");
    let s = Store::open_read(&p).unwrap();
    assert_eq!(s.schema_version(), 2);
    assert_exports_match(&fixture_text("v2.export.jsonl"), &export_jsonl(&s));
    let _ = std::fs::remove_file(&p);
}

#[test]
fn a_schema_1_input_merges_into_a_schema_2_output() {
    let p = copy_fixture("v1.redb", "merge-v1");
    let po = tmp("merge-v1-out");
    let input = Store::open_read(&p).unwrap();
    let o = Store::open_or_create(&po).unwrap();
    let c = o.merge_from(&input).unwrap();
    assert_eq!(c.records, 220);
    o.finish_merge(&["v1.redb".into()]).unwrap();
    assert_exports_match(&fixture_text("v1.export.jsonl"), &export_jsonl(&o));
    assert_eq!(o.failures().unwrap().len(), 6);
    let _ = std::fs::remove_file(&p);
    let _ = std::fs::remove_file(&po);
}

#[test]
fn the_v1_writer_writes_what_c6db4ef_wrote() {
    let p = copy_fixture("v1.redb", "v1-bytes");
    let db = Database::open(&p).unwrap();
    let txn = db.begin_read().unwrap();
    let t = txn.open_table(NETWORKS).unwrap();
    let mut n = 0;
    for item in t.iter().unwrap() {
        let (_, v) = item.unwrap();
        let r = v1::decode_record(v.value()).unwrap();
        assert_eq!(v1::encode_record(&r).unwrap(), v.value());
        n += 1;
    }
    assert_eq!(n, 219);
    drop((t, txn, db));
    let _ = std::fs::remove_file(&p);
}

/// Every decoder, on mutated and random bytes (with the checksum fixed up,
/// so the layouts themselves are exercised): an error, never a panic.
#[test]
fn decoders_never_panic_on_arbitrary_bodies() {
    let mut rng = crate::rng::SplitMix64::new(7);
    let mut u = Unpacker::new(std::sync::Arc::new(compress::Dicts::new()));
    let key = full_rec(1).key();
    let seeds: Vec<Vec<u8>> = vec![
        codec::encode_record(&full_rec(1)),
        codec::encode_runs(
            8,
            &crate::seeds::grid(&["8.0.0.0/16".parse().unwrap()], 24)
                .unwrap()
                .seeds
                .chunk_runs(8),
        ),
        compress::stored(b"{}"),
    ];
    let tags = [
        Tag::Record,
        Tag::Raw,
        Tag::Failure,
        Tag::Refusal,
        Tag::Plan,
        Tag::Seeds,
        Tag::Ranges,
        Tag::Dict,
        Tag::Names,
    ];
    // Varints at the edge of 64 bits in a range set.
    let mut o = codec::Out::default();
    o.varint(2);
    o.varint(u64::MAX);
    o.varint(u64::MAX);
    assert!(codec::decode_ranges(&seal(Tag::Ranges, &o.0)).is_err());
    for round in 0..20_000u64 {
        let mut body = seeds[(round % 3) as usize].clone();
        match rng.next_u64() % 4 {
            0 => body.truncate((rng.next_u64() as usize) % (body.len() + 1)),
            1 => {
                let at = (rng.next_u64() as usize) % body.len().max(1);
                if let Some(b) = body.get_mut(at) {
                    *b = rng.next_u64() as u8;
                }
            }
            2 => {
                body = (0..rng.next_u64() % 64)
                    .map(|_| rng.next_u64() as u8)
                    .collect();
            }
            _ => body.extend((0..rng.next_u64() % 8).map(|_| 0xff)),
        }
        let _ = codec::decode_record(key, &body);
        let _ = codec::decode_runs(8, &body);
        let _ = u.unpack(&body);
        for tag in tags {
            let v = seal(tag, &body);
            let _ = codec::decode_failure(&v);
            let _ = codec::decode_plan(&v);
            let _ = codec::decode_names(&v);
            let _ = codec::decode_ranges(&v);
            let _ = codec::decode_dict(1, &v);
        }
        let _ = v1::decode_record(&body);
        let _ = v1::decode_raw(&body);
        let _ = v1::decode_ranges(&body);
    }
}
