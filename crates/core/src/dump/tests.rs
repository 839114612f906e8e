//! The dump reader end to end: the real excerpts, the excerpts reconstructed
//! from real RDAP answers (checked against those answers field by field),
//! hostile input, and mutations that must never panic.

use std::io::Read;

use super::*;
use crate::prefix::parse_range_lenient;
use crate::rdap::parse::parse_network;
use crate::rdap::Entity;

macro_rules! dump {
    ($f:literal) => {
        include_bytes!(concat!("../../../../tests/fixtures/dumps/", $f)).as_slice()
    };
}

macro_rules! rdap {
    ($f:literal) => {
        include_bytes!(concat!("../../../../tests/fixtures/rdap/", $f)).as_slice()
    };
}

fn r(s: &str) -> Range {
    parse_range_lenient(s).unwrap()
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(bytes)
        .read_to_end(&mut out)
        .unwrap();
    out
}

fn scan_one(name: &str, bytes: &[u8]) -> Result<DumpSummary, DumpError> {
    Index::new().scan(name, bytes)
}

fn by_handle<'a>(nets: &'a [DumpNetwork], handle: &str) -> &'a DumpNetwork {
    nets.iter()
        .find(|n| n.network.handle == handle)
        .unwrap_or_else(|| panic!("no network {handle}"))
}

fn with_role<'a>(n: &'a Network, role: &str) -> Option<&'a Entity> {
    n.entities
        .iter()
        .find(|e| e.roles.iter().any(|r| r == role))
}

// ------------------------------------------------------------ real excerpts

#[test]
fn ripe_and_apnic_excerpts_counts_and_dates() {
    let ripe = scan_one("ripe.test.gz", dump!("ripe.test.gz")).unwrap();
    assert_eq!(ripe.objects, BTreeMap::from([("as-block".to_string(), 2)]));
    assert!(ripe.skipped.is_empty() && ripe.networks.is_empty());
    assert_eq!(ripe.dump_date, None, "RIPE's header has no timestamp");
    let apnic = scan_one("apnic.test.gz", dump!("apnic.test.gz")).unwrap();
    assert_eq!(apnic.objects, BTreeMap::from([("as-block".to_string(), 2)]));
    assert_eq!(
        apnic.dump_date.as_deref(),
        Some("2013-01-23T23:06:23Z"),
        "APNIC's header time, no zone: UTC"
    );
}

#[test]
fn afrinic_excerpt_networks() {
    let (nets, sums) = read_slices(&[("afrinic.test.gz", dump!("afrinic.test.gz"))]).unwrap();
    let s = &sums[0];
    assert_eq!(s.dump_date, None);
    assert_eq!(
        s.objects,
        BTreeMap::from([("as-block".to_string(), 3), ("inetnum".to_string(), 2)])
    );
    assert_eq!(s.networks, BTreeMap::from([(Registry::Afrinic, 2)]));
    assert_eq!(nets.len(), 2);
    let a = by_handle(&nets, "196.207.3.172 - 196.207.3.175");
    assert_eq!(a.registry, Registry::Afrinic);
    assert_eq!(a.source_file, "afrinic.test.gz");
    assert_eq!(a.network.range, r("196.207.3.172/30"));
    assert_eq!(
        a.network.name, None,
        "AFRINIC names by org; this one has none"
    );
    assert_eq!(a.network.net_type.as_deref(), Some("ASSIGNED PA"));
    assert_eq!(a.network.country.as_deref(), Some("NG"));
    assert_eq!(a.network.registration, None);
    assert_eq!(
        a.network.last_changed.as_deref(),
        Some("2003-03-03T00:00:00Z")
    );
    assert_eq!(a.network.parent_handle, None);
    assert_eq!(a.network.status, ["active"]);
    assert!(a.network.entities.is_empty());
    assert!(!a.network.placeholder);
    assert!(a
        .raw
        .starts_with("inetnum:      196.207.3.172 - 196.207.3.175\nnetname:      Test\n"));
    assert!(a.raw.ends_with("source:       AFRINIC\n"));
    let b = by_handle(&nets, "196.204.208.1 - 196.204.208.255");
    assert_eq!(b.network.country.as_deref(), Some("DK"), "upper-cased");
    assert_eq!(
        b.network.net_type.as_deref(),
        Some("Assigned PA"),
        "as written"
    );
}

#[test]
fn lacnic_file_is_foreign_and_latin1_is_read() {
    let s = scan_one("lacnic.test", dump!("lacnic.test")).unwrap();
    assert_eq!(s.skipped, BTreeMap::from([(SkipReason::ForeignSource, 2)]));
    assert_eq!(s.objects.get("inetnum"), Some(&2));
    assert!(s.networks.is_empty());
}

#[test]
fn a_zip_is_binary_and_named() {
    let e = scan_one("arin.test.zip", dump!("arin.test.zip")).unwrap_err();
    assert_eq!(e.kind, DumpErrorKind::Binary);
    let m = e.to_string();
    assert!(m.starts_with("arin.test.zip: binary data"), "{m}");
    assert!(m.contains("expected RPSL text"), "{m}");
    assert!(!m.contains('\n'));
}

// ------------------------------------------------ reconstructed vs RDAP

const RECONSTRUCTED: [(&str, &[u8]); 6] = [
    (
        "ripe.reconstructed.db.inetnum.gz",
        dump!("ripe.reconstructed.db.inetnum.gz"),
    ),
    (
        "apnic.reconstructed.db.inetnum",
        dump!("apnic.reconstructed.db.inetnum"),
    ),
    (
        "afrinic.reconstructed.db.gz",
        dump!("afrinic.reconstructed.db.gz"),
    ),
    // Contacts after the inetnums that use them.
    (
        "ripe.reconstructed.db.role",
        dump!("ripe.reconstructed.db.role"),
    ),
    (
        "apnic.reconstructed.db.irt.gz",
        dump!("apnic.reconstructed.db.irt.gz"),
    ),
    (
        "apnic.reconstructed.db.organisation",
        dump!("apnic.reconstructed.db.organisation"),
    ),
];

/// AFRINIC's dump hides the local part of e-mail addresses.
fn obfuscated(email: &str) -> String {
    match email.split_once('@') {
        Some((_, domain)) => format!("***@{domain}"),
        None => email.to_string(),
    }
}

/// One dump network against the RDAP answer of the same object.
fn assert_like_rdap(got: &DumpNetwork, answer: &[u8], query: &str, self_parent: bool) {
    let want = parse_network(answer, r(query)).unwrap();
    let (g, w) = (&got.network, &want);
    let h = &w.handle;
    assert_eq!(g.handle, w.handle);
    assert_eq!(g.range, w.range, "{h}");
    assert_eq!(g.name, w.name, "{h}: name");
    assert_eq!(g.net_type, w.net_type, "{h}: type");
    assert_eq!(g.country, w.country, "{h}: country");
    if self_parent {
        // AFRINIC's root names itself as parent; nesting cannot.
        assert_eq!(g.parent_handle, None, "{h}");
    } else {
        assert_eq!(g.parent_handle, w.parent_handle, "{h}: parent handle");
        assert_eq!(g.parent_range, w.parent_range, "{h}: parent range");
    }
    assert_eq!(g.registration, w.registration, "{h}: registration");
    assert_eq!(g.last_changed, w.last_changed, "{h}: last changed");
    if !w.status.is_empty() {
        assert_eq!(g.status, w.status, "{h}: status");
    }
    assert_eq!(g.placeholder, w.placeholder, "{h}: placeholder");
    let mail = |e: Option<&Entity>| {
        e.and_then(|e| e.email.clone()).map(|m| match got.registry {
            Registry::Afrinic => obfuscated(&m),
            _ => m,
        })
    };
    // The registrant organisation (RDAP also lists maintainers as registrants).
    // (AFRINIC's servers of 2015 and 2018 sent entities without roles.)
    let w_org = w.entities.iter().find(|e| {
        (e.roles.is_empty() || e.roles.iter().any(|r| r == "registrant"))
            && e.handle.as_deref().is_some_and(|x| x.starts_with("ORG-"))
    });
    let g_org = with_role(g, "registrant");
    assert_eq!(
        g_org.and_then(|e| e.handle.clone()),
        w_org.and_then(|e| e.handle.clone()),
        "{h}: registrant"
    );
    assert_eq!(
        g_org.and_then(|e| e.name.clone()),
        w_org.and_then(|e| e.name.clone()),
        "{h}: registrant name"
    );
    assert_eq!(mail(g_org), mail(w_org), "{h}: registrant e-mail");
    let (g_abuse, w_abuse) = (with_role(g, "abuse"), with_role(w, "abuse"));
    assert_eq!(
        g_abuse.and_then(|e| e.handle.clone()),
        w_abuse.and_then(|e| e.handle.clone()),
        "{h}: abuse handle"
    );
    assert_eq!(mail(g_abuse), mail(w_abuse), "{h}: abuse e-mail");
}

#[test]
fn reconstructed_excerpts_match_the_rdap_answers() {
    let (nets, sums) = read_slices(&RECONSTRUCTED).unwrap();
    assert!(sums.iter().all(|s| s.skipped.is_empty()), "{sums:?}");
    assert_eq!(sums[1].dump_date.as_deref(), Some("2013-01-23T23:06:23Z"));
    let total: u64 = sums.iter().map(DumpSummary::network_count).sum();
    assert_eq!(total, 19);
    assert_eq!(nets.len(), 19);
    let (ripe, apnic, afrinic) = (Registry::Ripe, Registry::Apnic, Registry::Afrinic);
    let cases: [(Registry, &str, &[u8], &str); 12] = [
        (
            ripe,
            "193.0.0.0 - 193.0.7.255",
            rdap!("ripe/ripe-193.0.6.139.json"),
            "193.0.6.139",
        ),
        (
            ripe,
            "88.208.0.0 - 88.208.2.127",
            rdap!("ripe/ripe-88.208.1.1-2026.json"),
            "88.208.1.1",
        ),
        (
            ripe,
            "130.59.0.0 - 130.59.255.255",
            rdap!("ripe/ripe-130.59.31.80.json"),
            "130.59.31.80",
        ),
        (
            apnic,
            "1.1.1.0 - 1.1.1.255",
            rdap!("apnic/apnic-1.1.1.1-2024-07-26.json"),
            "1.1.1.1",
        ),
        (
            apnic,
            "101.0.0.0 - 101.255.255.255",
            rdap!("apnic/apnic-APNIC-AP-101.0.0.0_8.from-history.json"),
            "101.203.88.0/24",
        ),
        (
            apnic,
            "0.0.0.0 - 255.255.255.255",
            rdap!("apnic/apnic-IANA-BLOCK-placeholder.from-history.json"),
            "101.203.88.0/24",
        ),
        (
            apnic,
            "210.107.0.0 - 210.107.127.255",
            rdap!("apnic/apnic-210.107.73.73-2015.json"),
            "210.107.73.73",
        ),
        (
            apnic,
            "61.181.0.0 - 61.181.255.255",
            rdap!("apnic/apnic-61.181.2.38-2018.json"),
            "61.181.2.38",
        ),
        (
            afrinic,
            "196.216.2.0 - 196.216.3.255",
            rdap!("afrinic/afrinic-196.216.2.1-2026.json"),
            "196.216.2.1",
        ),
        (
            afrinic,
            "196.11.239.0 - 196.11.246.255",
            rdap!("afrinic/afrinic-196.11.240.215-2015.json"),
            "196.11.240.215",
        ),
        (
            afrinic,
            "41.0.0.0 - 41.0.255.255",
            rdap!("afrinic/afrinic-41.0.0.0.json"),
            "41.0.0.0",
        ),
        (
            afrinic,
            "0.0.0.0 - 255.255.255.255",
            rdap!("afrinic/afrinic-0.0.0.0-placeholder-2022-12-17.json"),
            "0.0.0.0",
        ),
    ];
    for (registry, handle, answer, query) in cases {
        let got = nets
            .iter()
            .find(|n| n.network.handle == handle && n.registry == registry)
            .unwrap_or_else(|| panic!("no {registry} network {handle}"));
        // AFRINIC's root names itself as parent; nesting cannot.
        let self_parent = registry == afrinic && handle.starts_with("0.0.0.0");
        assert_like_rdap(got, answer, query, self_parent);
    }
    // The placeholder parents the RDAP answers name are networks too, flagged.
    let root = nets
        .iter()
        .find(|n| n.registry == Registry::Ripe && n.network.range == Range::ALL)
        .unwrap();
    assert!(root.network.placeholder);
    assert_eq!(root.network.status, ["administrative"]);
    assert_eq!(root.network.name.as_deref(), Some("IANA-BLK"));
}

#[test]
fn order_and_compression_do_not_change_the_networks() {
    let (base, _) = read_slices(&RECONSTRUCTED).unwrap();
    // Contacts first, every file plain.
    let plain: Vec<(String, Vec<u8>)> = RECONSTRUCTED
        .iter()
        .rev()
        .map(|(n, b)| {
            let bytes = if b.starts_with(&[0x1f, 0x8b]) {
                gunzip(b)
            } else {
                b.to_vec()
            };
            ((*n).to_string(), bytes)
        })
        .collect();
    let refs: Vec<(&str, &[u8])> = plain
        .iter()
        .map(|(n, b)| (n.as_str(), b.as_slice()))
        .collect();
    let (other, _) = read_slices(&refs).unwrap();
    let key = |v: &[DumpNetwork]| {
        let mut k: Vec<(Registry, String, Network, String)> = v
            .iter()
            .map(|n| {
                (
                    n.registry,
                    n.network.handle.clone(),
                    n.network.clone(),
                    n.raw.clone(),
                )
            })
            .collect();
        k.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
        k
    };
    assert_eq!(key(&base), key(&other));
    // Without the contact files the references stay, unresolved.
    let (bare, _) = read_slices(&RECONSTRUCTED[..3]).unwrap();
    let n = by_handle(&bare, "88.208.0.0 - 88.208.2.127");
    let abuse = with_role(&n.network, "abuse").unwrap();
    assert_eq!(abuse.handle.as_deref(), Some("DGGB1-RIPE"));
    assert_eq!(abuse.email, None);
}

// ------------------------------------------------------------ hostile input

const HOSTILE: &str = "\
# 20240102 03:04:05

inetnum: 10.0.0.0 - 10.0.0.255
netname: GOOD-FIRST
source: RIPE

inetnum: 2001:db8:: - 2001:db8::ffff
source: RIPE

inetnum: 10.0.1.0 - 10.0.0.0
source: RIPE

inetnum: 10.0.2.0 - 10.0.2.255
this line has no colon
source: RIPE

inetnum: 0.0.0.0 - 255.255.255.255
netname: EVIL-ALL
status: ASSIGNED PA
source: RIPE

inetnum: 10.0.3.0 - 10.0.3.255
source: RADB

inetnum: 10.0.4.0 - 10.0.4
source: RIPE

organisation:
org-name: No id
source: RIPE

  continuation where an object starts
netname: X

inetnum: 10.0.5.0 - 10.0.5.255
netname: GOOD-LAST
source: ripe
";

#[test]
fn malformed_objects_are_counted_and_the_rest_is_kept() {
    let (nets, sums) = read_slices(&[("hostile.db", HOSTILE.as_bytes())]).unwrap();
    let s = &sums[0];
    assert_eq!(s.dump_date.as_deref(), Some("2024-01-02T03:04:05Z"));
    assert_eq!(
        s.skipped,
        BTreeMap::from([
            (SkipReason::BadLine, 2),
            (SkipReason::BadRange, 1),
            (SkipReason::Inverted, 1),
            (SkipReason::Ipv6, 1),
            (SkipReason::TooBroad, 1),
            (SkipReason::ForeignSource, 1),
            (SkipReason::NoKey, 1),
        ])
    );
    let names: Vec<_> = nets
        .iter()
        .map(|n| n.network.name.clone().unwrap())
        .collect();
    assert_eq!(names, ["GOOD-FIRST", "GOOD-LAST"]);
    // Reports can name the reasons.
    let json = serde_json::to_value(s).unwrap();
    assert_eq!(json["skipped"]["too_broad"], 1);
    assert_eq!(json["networks"]["ripe"], 2);
    for reason in SkipReason::ALL {
        assert_eq!(serde_json::to_value(reason).unwrap(), reason.name());
        assert!(!reason.to_string().contains('\n'));
    }
}

/// A reader that makes a large dump on the fly (the test never holds it).
struct Generated {
    /// `(bytes, times)`: each piece repeated in turn.
    parts: Vec<(Vec<u8>, u64)>,
    part: usize,
    rep: u64,
    off: usize,
}

impl Generated {
    fn new(parts: Vec<(Vec<u8>, u64)>) -> Generated {
        Generated {
            parts,
            part: 0,
            rep: 0,
            off: 0,
        }
    }
}

impl Read for Generated {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        loop {
            let Some((bytes, times)) = self.parts.get(self.part) else {
                return Ok(0);
            };
            if self.rep >= *times {
                (self.part, self.rep, self.off) = (self.part + 1, 0, 0);
                continue;
            }
            let rest = &bytes[self.off..];
            let n = rest.len().min(buf.len());
            buf[..n].copy_from_slice(&rest[..n]);
            self.off += n;
            if self.off == bytes.len() {
                (self.rep, self.off) = (self.rep + 1, 0);
            }
            return Ok(n);
        }
    }
}

fn ten_mb_dump() -> impl Fn() -> Generated {
    || {
        Generated::new(vec![
            (
                b"inetnum: 10.0.0.0 - 10.0.0.255\nsource: RIPE\n".to_vec(),
                1,
            ),
            // 5,000 lines of 2 KB: 10 MB, under the attribute cap.
            (
                [b"remarks: ".as_slice(), &[b'p'; 2000], b"\n"].concat(),
                5_000,
            ),
            (b"\ninetnum: 10.0.1.0 - 10.0.1.255\nnetname: ".to_vec(), 1),
            (vec![b'L'; 1000], 10_000),
            (
                b"\nsource: RIPE\n\ninetnum: 10.0.2.0 - 10.0.2.255\nnetname: AFTER\nsource: RIPE\n"
                    .to_vec(),
                1,
            ),
        ])
    }
}

#[test]
fn ten_megabyte_objects_and_lines_are_read_past() {
    let make = ten_mb_dump();
    let mut index = Index::new();
    let s = index.scan("big.db", make()).unwrap();
    assert_eq!(s.skipped, BTreeMap::from([(SkipReason::TooLarge, 2)]));
    assert_eq!(s.network_count(), 1);
    let resolved = index.finish();
    let nets: Vec<_> = resolved
        .networks("big.db", make())
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(nets.len(), 1);
    assert_eq!(nets[0].network.name.as_deref(), Some("AFTER"));
}

#[test]
fn truncated_gzip_is_an_error_after_what_came_before() {
    let gz = dump!("afrinic.reconstructed.db.gz");
    let cut = &gz[..gz.len() * 3 / 4];
    let mut index = Index::new();
    let e = index.scan("afrinic.db.gz", cut).unwrap_err();
    assert!(matches!(e.kind, DumpErrorKind::Read(_)), "{e}");
    let m = e.to_string();
    assert!(m.starts_with("afrinic.db.gz: read error after line"), "{m}");
    assert!(m.contains("expected a complete gzip file"), "{m}");
    assert!(e.partial.network_count() > 0, "{:?}", e.partial);
    let before = e.partial.network_count();
    let resolved = index.finish();
    let mut got = 0;
    let mut last = None;
    for n in resolved.networks("afrinic.db.gz", cut) {
        match n {
            Ok(_) => got += 1,
            Err(e) => last = Some(e),
        }
    }
    assert_eq!(
        got, before,
        "the second pass delivers what the first indexed"
    );
    assert!(matches!(last.map(|e| e.kind), Some(DumpErrorKind::Read(_))));
}

#[test]
fn a_changed_file_between_passes_is_an_error() {
    let mut index = Index::new();
    index
        .scan(
            "a.db",
            &b"inetnum: 10.0.0.0 - 10.0.0.255\nsource: RIPE\n"[..],
        )
        .unwrap();
    let resolved = index.finish();
    let other = b"inetnum: 10.0.0.0 - 10.0.0.255\nsource: RIPE\n\ninetnum: 10.9.0.0 - 10.9.0.255\nsource: RIPE\n";
    let out: Vec<_> = resolved.networks("a.db", &other[..]).collect();
    assert_eq!(out.len(), 2);
    assert!(out[0].is_ok());
    let e = out[1].as_ref().unwrap_err();
    assert_eq!(
        e.kind,
        DumpErrorKind::Changed {
            range: r("10.9.0.0/24")
        }
    );
    assert!(e.to_string().contains("10.9.0.0 - 10.9.0.255"), "{e}");
}

#[test]
fn unreadable_input_is_an_error_naming_the_file() {
    struct Broken;
    impl Read for Broken {
        fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
            Err(std::io::Error::other("disk on fire"))
        }
    }
    let e = Index::new().scan("x.gz", Broken).unwrap_err();
    assert_eq!(
        e.to_string(),
        "x.gz: read error after line 0: disk on fire: expected a complete gzip file or plain RPSL text"
    );
    let resolved = Index::new().finish();
    let out: Vec<_> = resolved.networks("x.gz", Broken).collect();
    assert_eq!(out.len(), 1);
    assert!(out[0].is_err());
}

#[test]
fn object_kinds_are_capped() {
    let text = (0..200)
        .map(|i| format!("kind{i}: x"))
        .collect::<Vec<_>>()
        .join("\n\n");
    let s = scan_one("kinds.db", text.as_bytes()).unwrap();
    assert_eq!(s.objects.len(), MAX_KINDS + 1);
    assert_eq!(s.objects.get("(other)"), Some(&(200 - MAX_KINDS as u64)));
}

// ------------------------------------------------------------- no panics

struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

#[test]
fn mutated_dumps_never_panic() {
    const SPECIAL: &[u8] = b"\n\n:: \t+#%-./\r\x00\xff\xe9";
    let mut corpus: Vec<Vec<u8>> = RECONSTRUCTED
        .iter()
        .map(|(_, b)| {
            if b.starts_with(&[0x1f, 0x8b]) {
                gunzip(b)
            } else {
                b.to_vec()
            }
        })
        .collect();
    corpus.push(HOSTILE.as_bytes().to_vec());
    corpus.push(gunzip(dump!("afrinic.test.gz")));
    corpus.push(dump!("lacnic.test").to_vec());
    let gz: Vec<&[u8]> = vec![dump!("afrinic.reconstructed.db.gz"), dump!("ripe.test.gz")];
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    let mut networks = 0;
    for round in 0..1500 {
        let mut body = if round % 10 == 9 {
            gz[round % gz.len()].to_vec()
        } else {
            corpus[round % corpus.len()].clone()
        };
        match rng.below(4) {
            0 => body.truncate(rng.below(body.len())),
            1 => {
                for _ in 0..=rng.below(8) {
                    let i = rng.below(body.len());
                    body[i] = rng.next() as u8;
                }
            }
            2 => {
                for _ in 0..=rng.below(8) {
                    let i = rng.below(body.len());
                    body[i] = SPECIAL[rng.below(SPECIAL.len())];
                }
            }
            _ => {
                let a = rng.below(body.len());
                let b = (a + rng.below(64)).min(body.len());
                body.drain(a..b);
            }
        }
        // Both passes; a file ends in networks or in an error, never a panic.
        if let Ok((nets, _)) = read_slices(&[("mutant", &body)]) {
            for n in &nets {
                assert!(
                    n.network.range.start >> 24 == n.network.range.end >> 24
                        || n.network.placeholder
                );
                if let Some(p) = n.network.parent_range {
                    assert!(p.contains_range(&n.network.range));
                }
            }
            networks += nets.len();
        }
    }
    assert!(networks > 1000, "mutants still yield networks: {networks}");
}

#[test]
fn sources_md_lists_every_dump_fixture_with_its_sha256() {
    use sha2::{Digest, Sha256};
    use std::fmt::Write as _;
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/dumps");
    let sources = std::fs::read_to_string(dir.join("SOURCES.md")).unwrap();
    let mut listed = Vec::new();
    for line in sources.lines().filter(|l| l.starts_with("| `")) {
        let cells: Vec<&str> = line.split(" | ").collect();
        let file = cells[0].trim_start_matches("| ").trim_matches('`');
        let want = cells
            .last()
            .unwrap()
            .trim_end_matches(" |")
            .trim_matches('`');
        let got = Sha256::digest(std::fs::read(dir.join(file)).unwrap())
            .iter()
            .fold(String::new(), |mut h, b| {
                let _ = write!(h, "{b:02x}");
                h
            });
        assert_eq!(got, want, "{file}");
        listed.push(file.to_string());
    }
    let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|f| f != "SOURCES.md")
        .collect();
    listed.sort();
    on_disk.sort();
    assert_eq!(listed, on_disk);
    assert_eq!(listed.len(), 11);
}

/// A network from a dump is held to the RDAP parser's text cap: an inetnum
/// keeping a value over `MAX_TEXT` is skipped as too large, an organisation
/// or role with one is skipped (its references stay unresolved), and a value
/// at the cap is kept.
#[test]
fn values_over_the_rdap_text_cap_skip_their_object() {
    use crate::rdap::parse::MAX_TEXT;
    let long = "x".repeat(MAX_TEXT + 1);
    let fits = "y".repeat(MAX_TEXT);
    let dump = format!(
        "\
inetnum: 10.0.0.0 - 10.0.0.255
netname: {long}
source: RIPE

inetnum: 10.0.1.0 - 10.0.1.255
netname: {fits}
org: ORG-LONG
abuse-c: AR-LONG
source: RIPE

inetnum: 10.0.2.0 - 10.0.2.255
netname: OK
country: {long}
source: RIPE

organisation: ORG-LONG
org-name: {long}
source: RIPE

role: Abuse
nic-hdl: AR-LONG
abuse-mailbox: {long}@example.net
source: RIPE
"
    );
    let (nets, sums) = read_slices(&[("long.db", dump.as_bytes())]).unwrap();
    assert_eq!(sums[0].skipped, BTreeMap::from([(SkipReason::TooLarge, 4)]));
    assert_eq!(nets.len(), 1);
    let n = &nets[0].network;
    assert_eq!(n.name.as_deref(), Some(fits.as_str()));
    assert_eq!(n.entities.len(), 2);
    assert!(n
        .entities
        .iter()
        .all(|e| e.name.is_none() && e.email.is_none()));
    assert!(SkipReason::TooLarge
        .to_string()
        .contains("a value over 1 KiB"));
}

#[test]
fn indexes_of_separate_files_united_in_order_equal_one_index() {
    // The organisation is in both files with different names: the later
    // file's wins, in one index and in indexes united in file order.
    let first: &[u8] = b"organisation: ORG-A1-RIPE\norg-name: First name\nsource: RIPE\n\ninetnum: 10.0.0.0 - 10.0.255.255\nnetname: OUTER\norg: ORG-A1-RIPE\nsource: RIPE\n";
    let second: &[u8] = b"organisation: ORG-A1-RIPE\norg-name: Second name\nsource: RIPE\n\ninetnum: 10.0.1.0 - 10.0.1.255\nnetname: INNER\norg: ORG-A1-RIPE\nsource: RIPE\n";
    let (one, summaries) = read_slices(&[("a", first), ("b", second)]).unwrap();
    let mut a = Index::new();
    assert_eq!(a.scan("a", first).unwrap(), summaries[0]);
    let mut b = Index::new();
    assert_eq!(b.scan("b", second).unwrap(), summaries[1]);
    a.unite(b);
    let resolved = a.finish();
    let mut united: Vec<DumpNetwork> = Vec::new();
    for (name, bytes) in [("a", first), ("b", second)] {
        united.extend(resolved.networks(name, bytes).map(Result::unwrap));
    }
    assert_eq!(united, one);
    let inner = by_handle(&united, "10.0.1.0 - 10.0.1.255");
    assert_eq!(
        inner.network.parent_handle.as_deref(),
        Some("10.0.0.0 - 10.0.255.255")
    );
    let org = with_role(&inner.network, "registrant").unwrap();
    assert_eq!(org.name.as_deref(), Some("Second name"));
}
