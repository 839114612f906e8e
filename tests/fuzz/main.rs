//! Fuzz targets for the three parsers that read untrusted bytes, on stable
//! Rust (cargo-fuzz/libFuzzer needs a nightly compiler): proptest generates
//! mutations of a corpus seeded with the real samples.
//!
//! | target | function | corpus |
//! |---|---|---|
//! | `rdap` | [`parse_network`] (+ [`parse_error_body`], [`is_rate_limit_notice`]) with arbitrary queried ranges | every file in `tests/fixtures/rdap/` |
//! | `bootstrap` | [`Bootstrap::from_json`], then `registry_of` / `resolve` on arbitrary addresses and URLs | the bundled IANA file + small documents; generated service lists |
//! | `delegated` | [`delegated::parse`] | lines sampled from the bundled delegated snapshot + headers, summaries, asn/ipv6 lines |
//! | `dump` | [`dump::read_slices`] (both passes of the bulk-dump reader) | every file in `tests/fixtures/dumps/`, gunzipped and as gzip; RPSL lines |
//!
//! Mutations: byte flips, truncation, deletion, insertion of JSON/UTF-8
//! tokens, splicing from another sample, chunk repetition, and structured
//! JSON mutations (a node replaced by an interesting value, removed,
//! wrapped, or an important key set on an object), several per case.
//!
//! Every case asserts: no panic; bounded time (under [`MAX_CASE`]); bounded
//! allocation (the bytes allocated while parsing, counted by a global
//! allocator wrapper, stay under [`alloc_bound`] of the input length, so
//! nothing allocates by a number read from the input); and each target's
//! invariants (an accepted network contains the query and, unless a
//! placeholder, stays inside one /8; error messages are one line; bootstrap
//! bases are https and `resolve` never leaves them; delegations are ordered).
//!
//! Environment: `IPCRAWL_FUZZ_CASES` (cases per batch, default 300),
//! `IPCRAWL_FUZZ_SECS` (keep running batches for this long per target),
//! `IPCRAWL_FUZZ_SEED` (reproduce a run; the seed is printed). See
//! `scripts/fuzz.sh`.

use std::alloc::System;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use ipcrawl::delegated;
use ipcrawl::dump;
use ipcrawl::prefix::{parse_addr_lenient, Cidr, Range};
use ipcrawl::rdap::bootstrap::{Bootstrap, BUNDLED};
use ipcrawl::rdap::parse::{is_rate_limit_notice, parse_error_body, parse_network};
use ipcrawl::rdap::Registry;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed, TestCaseError, TestRunner};
use serde_json::Value;
use stats_alloc::{Region, StatsAlloc, INSTRUMENTED_SYSTEM};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// Longest a single case may take (debug builds are slow; real cases take
/// well under a millisecond).
const MAX_CASE: Duration = Duration::from_secs(2);

/// One target at a time: the allocation counters are process-wide.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Bytes a parser may allocate for an input of `len` bytes.
fn alloc_bound(len: usize) -> u64 {
    (len as u64) * 256 + (4 << 20)
}

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.trim().parse().ok())
}

// ------------------------------------------------------------ mutations

/// Tokens inserted by [`Mutation::Insert`].
const TOKENS: &[&[u8]] = &[
    b"{",
    b"}",
    b"[",
    b"]",
    b"\"",
    b",",
    b":",
    b"\\",
    b"\\u0000",
    b"\\ud800",
    b"\xff",
    b"\xc3",
    b"\xef\xbb\xbf",
    b"null",
    b"1e999",
    b"-0",
    b"18446744073709551616",
    b"\"startAddress\":\"0.0.0.0\",",
    b"\"endAddress\":\"255.255.255.255\",",
    b"\"ipVersion\":\"v6\",",
    b"\"errorCode\":\"429\",",
    b"Rate Limit Notice",
    b"/32",
    b"::",
    b" - ",
    b"|",
    b"||||||||",
    b"\n",
    b"\r\n",
    b"ipv4",
    b"4294967296",
    b"256.0.0.0",
    b"https://",
    b"http://",
    b"@",
    b"%20",
];

/// Keys set by [`JsonOp::Set`].
const KEYS: &[&str] = &[
    "startAddress",
    "endAddress",
    "ipVersion",
    "handle",
    "name",
    "status",
    "parentHandle",
    "links",
    "entities",
    "events",
    "objectClassName",
    "errorCode",
    "title",
    "country",
    "type",
    "roles",
    "vcardArray",
    "jscard",
    "rel",
    "href",
    "services",
    "eventAction",
    "eventDate",
];

/// Interesting JSON values.
fn values() -> &'static [Value] {
    static V: OnceLock<Vec<Value>> = OnceLock::new();
    V.get_or_init(|| {
        let mut v: Vec<Value> = [
            "null",
            "true",
            "0",
            "-1",
            "1e308",
            "18446744073709551615",
            "\"\"",
            "\" \"",
            "\"0.0.0.0\"",
            "\"255.255.255.255\"",
            "\"1.1.1.1/32\"",
            "\"001.001.001.001\"",
            "\"1.2.3\"",
            "\"1.2.3.4.5\"",
            "\"::1\"",
            "\"2001:db8::\"",
            "\"v6\"",
            "\"v4\"",
            "\"ip network\"",
            "\"entity\"",
            "\"IANA-BLOCK\"",
            "\"STUB-1\"",
            "\"administrative\"",
            "\"active, reserved\"",
            "\"0.0.0.0 - 255.255.255.255\"",
            "\"1.0.0.0 - 0.255.255.255\"",
            "\"1.0.0.0/8\"",
            "\"0.0.0.0/0\"",
            "\"NET-1-0-0-0-0\"",
            "\"NET-255-255-255-255-1\"",
            "\"up\"",
            "\"rdap-up up\"",
            "\"https://rdap.arin.net/registry/ip/1.0.0.0/8\"",
            "\"http://evil.example/ip/1.0.0.0%2F8\"",
            "\"Rate Limit Notice\"",
            "\"\\u0000\"",
            "\"é\\u00e9\"",
            "[]",
            "{}",
            "[[[[[[[[]]]]]]]]",
            "[\"vcard\",[[\"fn\",{},\"text\",\"x\"],[\"email\",[],\"text\",null]]]",
            "[{\"rel\":\"up\",\"href\":\"https://rdap.apnic.net/ip/1.0.0.0/8\"}]",
            "[{\"eventAction\":\"registration\",\"eventDate\":7}]",
            "[{\"handle\":\"H\",\"roles\":\"abuse,abuse\",\"entities\":[{\"handle\":\"H\"}]}]",
        ]
        .iter()
        .map(|s| serde_json::from_str(s).expect("value literal"))
        .collect();
        v.push(Value::String("a".repeat(10_000)));
        v.push(Value::String("1.2.3.4 ".repeat(500)));
        v
    })
}

#[derive(Clone, Debug)]
enum JsonOp {
    /// Replace the node by `values()[i]`.
    Replace(usize),
    /// Remove the node from its parent.
    Remove,
    /// `x` → `[x]`.
    Wrap,
    /// On an object: set `KEYS[k]` to `values()[v]`.
    Set(usize, usize),
}

#[derive(Clone, Debug)]
enum Mutation {
    Flip {
        at: usize,
        byte: u8,
    },
    Truncate {
        at: usize,
    },
    Delete {
        at: usize,
        len: usize,
    },
    Insert {
        at: usize,
        token: usize,
    },
    Splice {
        seed: usize,
        from: usize,
        len: usize,
        at: usize,
    },
    Repeat {
        at: usize,
        len: usize,
        times: usize,
    },
    Json {
        node: usize,
        op: JsonOp,
    },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let json_op = prop_oneof![
        any::<usize>().prop_map(JsonOp::Replace),
        Just(JsonOp::Remove),
        Just(JsonOp::Wrap),
        (any::<usize>(), any::<usize>()).prop_map(|(k, v)| JsonOp::Set(k, v)),
    ];
    prop_oneof![
        3 => (any::<usize>(), any::<u8>()).prop_map(|(at, byte)| Mutation::Flip { at, byte }),
        1 => any::<usize>().prop_map(|at| Mutation::Truncate { at }),
        1 => (any::<usize>(), 0..256usize).prop_map(|(at, len)| Mutation::Delete { at, len }),
        2 => (any::<usize>(), any::<usize>()).prop_map(|(at, token)| Mutation::Insert { at, token }),
        1 => (any::<usize>(), any::<usize>(), 0..4096usize, any::<usize>())
            .prop_map(|(seed, from, len, at)| Mutation::Splice { seed, from, len, at }),
        1 => (any::<usize>(), 1..512usize, 1..8usize)
            .prop_map(|(at, len, times)| Mutation::Repeat { at, len, times }),
        4 => (any::<usize>(), json_op).prop_map(|(node, op)| Mutation::Json { node, op }),
    ]
}

/// Applies the mutations to a copy of `corpus[seed]`.
fn mutate(corpus: &[Vec<u8>], seed: usize, muts: &[Mutation]) -> Vec<u8> {
    let mut b = corpus[seed % corpus.len()].clone();
    for m in muts {
        let pos = |at: usize, len: usize| if len == 0 { 0 } else { at % (len + 1) };
        match m {
            Mutation::Flip { at, byte } => {
                if !b.is_empty() {
                    let i = at % b.len();
                    b[i] ^= byte | 1;
                }
            }
            Mutation::Truncate { at } => b.truncate(pos(*at, b.len())),
            Mutation::Delete { at, len } => {
                let a = pos(*at, b.len());
                let e = (a + len).min(b.len());
                b.drain(a..e);
            }
            Mutation::Insert { at, token } => {
                let a = pos(*at, b.len());
                let t = TOKENS[token % TOKENS.len()];
                b.splice(a..a, t.iter().copied());
            }
            Mutation::Splice {
                seed,
                from,
                len,
                at,
            } => {
                let other = &corpus[seed % corpus.len()];
                let f = pos(*from, other.len());
                let e = (f + len).min(other.len());
                let a = pos(*at, b.len());
                b.splice(a..a, other[f..e].iter().copied());
            }
            Mutation::Repeat { at, len, times } => {
                let a = pos(*at, b.len());
                let e = (a + len).min(b.len());
                let chunk = b[a..e].to_vec();
                for _ in 0..*times {
                    b.splice(e..e, chunk.iter().copied());
                }
            }
            Mutation::Json { node, op } => {
                if let Ok(mut v) = serde_json::from_slice::<Value>(&b) {
                    let mut n = *node % count_nodes(&v).max(1);
                    apply(&mut v, &mut n, op);
                    b = serde_json::to_vec(&v).unwrap_or(b);
                }
            }
        }
        if b.len() > 1 << 20 {
            b.truncate(1 << 20);
        }
    }
    b
}

fn count_nodes(v: &Value) -> usize {
    1 + match v {
        Value::Array(a) => a.iter().map(count_nodes).sum(),
        Value::Object(o) => o.values().map(count_nodes).sum(),
        _ => 0,
    }
}

/// Applies `op` to the `n`-th node in pre-order; true once applied.
fn apply(v: &mut Value, n: &mut usize, op: &JsonOp) -> bool {
    if *n == 0 {
        match op {
            JsonOp::Replace(i) => *v = values()[i % values().len()].clone(),
            JsonOp::Remove => *v = Value::Null,
            JsonOp::Wrap => *v = Value::Array(vec![v.take()]),
            JsonOp::Set(k, i) => {
                if let Value::Object(o) = v {
                    o.insert(
                        KEYS[k % KEYS.len()].to_string(),
                        values()[i % values().len()].clone(),
                    );
                } else {
                    *v = values()[i % values().len()].clone();
                }
            }
        }
        return true;
    }
    *n -= 1;
    match v {
        Value::Array(a) => {
            for i in 0..a.len() {
                if *n == 0 && matches!(op, JsonOp::Remove) {
                    a.remove(i);
                    return true;
                }
                if apply(&mut a[i], n, op) {
                    return true;
                }
            }
            false
        }
        Value::Object(o) => {
            let keys: Vec<String> = o.keys().cloned().collect();
            for k in keys {
                if *n == 0 && matches!(op, JsonOp::Remove) {
                    o.remove(&k);
                    return true;
                }
                if let Some(child) = o.get_mut(&k) {
                    if apply(child, n, op) {
                        return true;
                    }
                }
            }
            false
        }
        _ => false,
    }
}

// --------------------------------------------------------------- driver

/// Runs `check` on cases of `strategy`: `IPCRAWL_FUZZ_CASES` per batch,
/// batches until `IPCRAWL_FUZZ_SECS` have passed (one batch without it).
/// Each case is timed and its allocations are counted. Prints executions.
fn drive<S: Strategy>(
    name: &str,
    strategy: S,
    check: impl Fn(&S::Value) -> Result<usize, TestCaseError>,
) where
    S::Value: std::fmt::Debug,
{
    let _serial = serial();
    let cases = env_u64("IPCRAWL_FUZZ_CASES").unwrap_or(300).max(1);
    let secs = env_u64("IPCRAWL_FUZZ_SECS");
    let seed = env_u64("IPCRAWL_FUZZ_SEED").unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64)
    });
    let execs = AtomicU64::new(0);
    let slowest = AtomicU64::new(0);
    let start = Instant::now();
    let mut batch = 0u64;
    loop {
        let config = Config {
            cases: u32::try_from(cases).unwrap_or(u32::MAX),
            failure_persistence: None,
            rng_seed: RngSeed::Fixed(seed.wrapping_add(batch)),
            max_shrink_iters: 2000,
            ..Config::default()
        };
        let mut runner = TestRunner::new(config);
        let result = runner.run(&strategy, |value| {
            let region = Region::new(GLOBAL);
            let t = Instant::now();
            let input_len = check(&value)?;
            let took = t.elapsed();
            let allocated = region.change().bytes_allocated as u64;
            execs.fetch_add(1, Ordering::Relaxed);
            slowest.fetch_max(took.as_micros() as u64, Ordering::Relaxed);
            prop_assert!(took < MAX_CASE, "{name}: one case took {took:?}");
            prop_assert!(
                allocated <= alloc_bound(input_len),
                "{name}: {allocated} bytes allocated for a {input_len}-byte input"
            );
            Ok(())
        });
        if let Err(e) = result {
            panic!(
                "fuzz target {name} failed (reproduce with IPCRAWL_FUZZ_SEED={} IPCRAWL_FUZZ_CASES={cases}): {e}",
                seed.wrapping_add(batch)
            );
        }
        batch += 1;
        if secs.is_none_or(|s| start.elapsed() >= Duration::from_secs(s)) {
            break;
        }
    }
    let n = execs.load(Ordering::Relaxed);
    let el = start.elapsed().as_secs_f64();
    eprintln!(
        "fuzz {name}: {n} executions in {el:.1} s ({:.0}/s), slowest case {} µs, seed {seed}",
        n as f64 / el.max(1e-9),
        slowest.load(Ordering::Relaxed)
    );
}

fn one_line(what: &str, msg: &str) -> Result<(), TestCaseError> {
    prop_assert!(!msg.contains('\n'), "{what}: multi-line message {msg:?}");
    prop_assert!(msg.chars().count() < 600, "{what}: message too long: {msg}");
    Ok(())
}

// ----------------------------------------------------------------- rdap

/// Every sample under `tests/fixtures/rdap/` (not the parser's expected files), with a query it answers.
fn rdap_corpus() -> &'static (Vec<Vec<u8>>, Vec<Range>) {
    static C: OnceLock<(Vec<Vec<u8>>, Vec<Range>)> = OnceLock::new();
    C.get_or_init(|| {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/rdap");
        let mut files = Vec::new();
        let mut dirs = vec![root];
        while let Some(d) = dirs.pop() {
            for e in std::fs::read_dir(&d).expect("fixture dir").flatten() {
                let p = e.path();
                if p.is_dir() {
                    dirs.push(p);
                } else if p.extension().is_some_and(|x| x == "json")
                    && !p.to_string_lossy().ends_with(".expected.json")
                {
                    files.push(p);
                }
            }
        }
        files.sort();
        let mut bodies = Vec::new();
        let mut queries = Vec::new();
        for f in files {
            let body = std::fs::read(&f).expect("fixture");
            let start = serde_json::from_slice::<Value>(&body)
                .ok()
                .and_then(|v| v.get("startAddress")?.as_str().and_then(parse_addr_lenient))
                .unwrap_or(0x0101_0101);
            bodies.push(body);
            queries.push(Range { start, end: start });
        }
        assert!(bodies.len() >= 30, "{} fixtures", bodies.len());
        (bodies, queries)
    })
}

#[derive(Clone, Debug)]
enum Query {
    /// The sample's own address.
    Own,
    Addr(u32),
    Prefix(u32, u8),
    /// Any two numbers, even start > end.
    Raw(u32, u32),
}

fn query() -> impl Strategy<Value = Query> {
    prop_oneof![
        4 => Just(Query::Own),
        1 => any::<u32>().prop_map(Query::Addr),
        1 => (any::<u32>(), 0..=32u8).prop_map(|(a, l)| Query::Prefix(a, l)),
        1 => (any::<u32>(), any::<u32>()).prop_map(|(a, b)| Query::Raw(a, b)),
    ]
}

fn check_rdap(body: &[u8], queried: Range) -> Result<usize, TestCaseError> {
    match parse_network(body, queried) {
        Ok(n) => {
            prop_assert!(n.range.start <= n.range.end);
            if queried.start <= queried.end {
                prop_assert!(
                    n.range.start <= queried.start && queried.end <= n.range.end,
                    "accepted {} for query {queried:?}",
                    n.range
                );
            }
            if !n.placeholder {
                prop_assert!(
                    n.range.start >> 24 == n.range.end >> 24,
                    "non-placeholder {} spans /8s",
                    n.range
                );
            }
            if let Some(p) = n.parent_range {
                prop_assert!(p.start <= n.range.start && n.range.end <= p.end);
            }
        }
        Err(e) => one_line("rdap error", &e.to_string())?,
    }
    let _ = parse_error_body(body);
    let _ = is_rate_limit_notice(body);
    Ok(body.len())
}

#[test]
fn fuzz_rdap_parser() {
    let (bodies, queries) = rdap_corpus();
    let random_bytes =
        prop::collection::vec(any::<u8>(), 0..4096).prop_map(|b| (b, Query::Addr(0x0101_0101)));
    let mutated = (
        any::<usize>(),
        prop::collection::vec(mutation(), 1..8),
        query(),
    )
        .prop_map(move |(seed, muts, q)| {
            let i = seed % bodies.len();
            (
                mutate(bodies, i, &muts),
                match q {
                    Query::Own => Query::Raw(queries[i].start, queries[i].end),
                    other => other,
                },
            )
        });
    drive(
        "rdap",
        prop_oneof![9 => mutated, 1 => random_bytes],
        |(body, q)| {
            let queried = match *q {
                Query::Own => Range {
                    start: 0x0101_0101,
                    end: 0x0101_0101,
                },
                Query::Addr(a) => Range { start: a, end: a },
                Query::Prefix(a, l) => Cidr::new_masked(a, l).range(),
                Query::Raw(start, end) => Range { start, end },
            };
            check_rdap(body, queried)
        },
    );
}

#[test]
fn rdap_parser_limits() {
    let _serial = serial();
    // Over the parser's own cap: refused without being parsed.
    let big = vec![b' '; ipcrawl::rdap::parse::MAX_BODY + 1];
    let region = Region::new(GLOBAL);
    let t = Instant::now();
    assert!(parse_network(&big, Range { start: 1, end: 1 }).is_err());
    assert!(t.elapsed() < MAX_CASE);
    assert!((region.change().bytes_allocated as u64) < 1 << 20);
    // A million-deep nesting costs no stack.
    let deep = "[".repeat(1_000_000).into_bytes();
    assert!(parse_network(&deep, Range { start: 1, end: 1 }).is_err());
}

// ------------------------------------------------------------ bootstrap

fn bootstrap_corpus() -> &'static Vec<Vec<u8>> {
    static C: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    C.get_or_init(|| {
        vec![
            BUNDLED.as_bytes().to_vec(),
            br#"{"version":"1.0","publication":"2024-01-01T00:00:00Z","services":[
                [["1.0.0.0/8","27.0.0.0/8"],["https://rdap.apnic.net/"]],
                [["3.0.0.0/8"],["http://rdap.arin.net/registry/","https://rdap.arin.net/registry/"]],
                [["41.0.0.0/8"],["https://rdap.afrinic.net/rdap/"]],
                [["200.0.0.0/8","186.0.0.0/7"],["https://rdap.lacnic.net/rdap/"]],
                [["193.0.0.0/8","2.0.0.0/8"],["https://rdap.db.ripe.net/"]]]}"#
                .to_vec(),
            br#"{"services":[[["1.0.0.0/8"],["https://rdap.apnic.net/"]],[["1.2.0.0/16"],["https://rdap.arin.net/registry/"]]]}"#.to_vec(),
        ]
    })
}

const URLS: &[&str] = &[
    "https://rdap.arin.net/registry/",
    "https://rdap.db.ripe.net/",
    "https://rdap.apnic.net/",
    "https://rdap.lacnic.net/rdap/",
    "https://rdap.afrinic.net/rdap/",
    "http://rdap.apnic.net/",
    "https://rdap.example.com/",
    "https://rdap.arin.net.evil.com/",
    "https://user@rdap.arin.net/",
    "",
];

fn generated_bootstrap() -> impl Strategy<Value = Vec<u8>> {
    let service = (
        prop::collection::vec((any::<u32>(), 0..=34u8), 0..12),
        prop::collection::vec(0..URLS.len(), 0..3),
    );
    prop::collection::vec(service, 0..40).prop_map(|services| {
        let services: Vec<Value> = services
            .into_iter()
            .map(|(prefixes, urls)| {
                let p: Vec<String> = prefixes
                    .into_iter()
                    .map(|(a, l)| format!("{}/{l}", std::net::Ipv4Addr::from(a)))
                    .collect();
                let u: Vec<&str> = urls.into_iter().map(|i| URLS[i]).collect();
                serde_json::json!([p, u])
            })
            .collect();
        serde_json::to_vec(&serde_json::json!({ "services": services })).unwrap_or_default()
    })
}

fn url_probe() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("https://".to_string()),
        Just("http://".to_string()),
        Just("rdap.arin.net".to_string()),
        Just("rdap.db.ripe.net".to_string()),
        Just("evil.example".to_string()),
        Just("@".to_string()),
        Just(":8080".to_string()),
        Just("/registry/".to_string()),
        Just("/ip/".to_string()),
        Just("1.2.3.4".to_string()),
        Just("/24".to_string()),
        Just(" - ".to_string()),
        Just("%20".to_string()),
        Just("?".to_string()),
        Just("#".to_string()),
        Just("[::1]".to_string()),
        "[a-z0-9./:@-]{0,12}",
    ];
    prop::collection::vec(piece, 0..8).prop_map(|p| p.concat())
}

#[test]
fn fuzz_bootstrap_parser() {
    let corpus = bootstrap_corpus();
    let mutated = (any::<usize>(), prop::collection::vec(mutation(), 1..6))
        .prop_map(move |(seed, muts)| mutate(corpus, seed, &muts));
    let doc = prop_oneof![3 => mutated, 2 => generated_bootstrap(), 1 => prop::collection::vec(any::<u8>(), 0..512)];
    drive(
        "bootstrap",
        (
            doc,
            prop::collection::vec(any::<u32>(), 8),
            prop::collection::vec(url_probe(), 4),
        ),
        |(doc, addrs, urls)| {
            match Bootstrap::from_json(doc) {
                Ok(b) => {
                    let e = b.entries();
                    for w in e.windows(2) {
                        prop_assert!(w[0].0.end < w[1].0.start, "overlap {:?}", &w[..2]);
                    }
                    for reg in Registry::ALL {
                        prop_assert!(
                            b.base(reg).starts_with("https://"),
                            "{reg}: {}",
                            b.base(reg)
                        );
                    }
                    for &a in addrs {
                        let _ = b.registry_of(a);
                    }
                    for u in urls {
                        if let Some((reg, to)) = b.resolve(u) {
                            prop_assert!(
                                to.starts_with(b.base(reg)),
                                "resolve({u:?}) = {to:?} left {}",
                                b.base(reg)
                            );
                        }
                    }
                }
                Err(e) => one_line("bootstrap error", &e.to_string())?,
            }
            Ok(doc.len())
        },
    );
}

// ------------------------------------------------------------ delegated

fn delegated_corpus() -> &'static Vec<Vec<u8>> {
    static C: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    C.get_or_init(|| {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("data/delegated/delegated-ipv4-snapshot.txt.gz");
        let gz = std::fs::read(path).expect("bundled snapshot");
        let mut text = String::new();
        std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&gz[..]), &mut text)
            .expect("gunzip snapshot");
        let lines: Vec<&str> = text.lines().collect();
        let extra = [
            "2|apnic|20240101|1234|19830613|20240101|+1000",
            "2.3|lacnic|20240101|5|19870101|20240101|-0300",
            "apnic|*|ipv4|*|1234|summary",
            "apnic|JP|asn|173|1|20020801|allocated",
            "apnic|AU|ipv6|2001:db8::|32|20100101|allocated",
            "afrinic|ZA|ipv4|196.216.2.0|512|20050101|allocated|F36B9F4B",
            "ripencc|EU|ipv4|2.0.0.0|1048576|20100712|allocated|abc|e-stats",
            "arin||ipv4|3.0.0.0|16777216||assigned",
            "# comment",
            "",
        ];
        let mut docs = Vec::new();
        for chunk in lines.chunks(lines.len() / 40 + 1).take(40) {
            let mut d: Vec<&str> = chunk
                .iter()
                .step_by(chunk.len() / 30 + 1)
                .copied()
                .collect();
            d.extend(extra);
            docs.push(d.join("\n").into_bytes());
        }
        docs
    })
}

#[test]
fn delegated_error_messages_are_bounded() {
    let _serial = serial();
    let long = "9".repeat(5000);
    for line in [
        format!("apnic|JP|ipv4|{long}|256|20200101|allocated"),
        format!("apnic|JP|ipv4|1.0.0.0|{long}|20200101|allocated"),
        format!("apnic|JP|ipv4|255.0.0.0|{long}0|20200101|allocated"),
        format!("apnic|JP|ipv4|1.0.0.0|256|20200101|{long}"),
        format!("x{long}|JP|ipv4|1.0.0.0|256|20200101|allocated"),
    ] {
        let p = delegated::parse(&line);
        assert_eq!(p.junk, 1, "{}", &line[..60]);
        let msg = p.errors[0].to_string();
        assert!(msg.len() < 200, "{msg}");
    }
}

#[test]
fn fuzz_delegated_parser() {
    let corpus = delegated_corpus();
    let mutated = (any::<usize>(), prop::collection::vec(mutation(), 1..10))
        .prop_map(move |(seed, muts)| mutate(corpus, seed, &muts));
    let line = prop_oneof![
        4 => "[a-z0-9|.*:+-]{0,60}",
        1 => r"(apnic|ripencc|x)\|[A-Z]{0,2}\|ipv4\|[0-9.]{0,300}\|[0-9]{0,300}\|[0-9]{0,8}\|[a-z]{0,300}",
    ];
    let lines = prop::collection::vec(line, 0..40).prop_map(|l| l.join("\n").into_bytes());
    drive(
        "delegated",
        prop_oneof![4 => mutated, 1 => lines, 1 => prop::collection::vec(any::<u8>(), 0..1024)],
        |bytes| {
            let text = String::from_utf8_lossy(bytes);
            let parsed = delegated::parse(&text);
            let n_lines = text.lines().count();
            prop_assert!(parsed.delegations.len() + parsed.junk <= n_lines);
            prop_assert!(parsed.errors.len() <= 20);
            for d in &parsed.delegations {
                prop_assert!(d.range.start <= d.range.end);
            }
            for e in &parsed.errors {
                one_line("delegated error", &e.to_string())?;
            }
            Ok(bytes.len())
        },
    );
}

// ------------------------------------------------------------ dump

/// Every file under `tests/fixtures/dumps/`: gzip ones both gunzipped and as gzip.
fn dump_corpus() -> &'static Vec<Vec<u8>> {
    static C: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    C.get_or_init(|| {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/dumps");
        let mut docs = Vec::new();
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .expect("dump fixtures")
            .flatten()
            .map(|e| e.path())
            .filter(|p| !p.to_string_lossy().ends_with(".md"))
            .collect();
        files.sort();
        for f in files {
            let bytes = std::fs::read(&f).expect("dump fixture");
            if bytes.starts_with(&[0x1f, 0x8b]) {
                let mut text = Vec::new();
                std::io::Read::read_to_end(
                    &mut flate2::read::MultiGzDecoder::new(&bytes[..]),
                    &mut text,
                )
                .expect("gunzip fixture");
                docs.push(text);
            }
            docs.push(bytes);
        }
        assert!(docs.len() >= 14, "{} dump documents", docs.len());
        docs
    })
}

#[test]
fn fuzz_dump_parser() {
    let corpus = dump_corpus();
    let mutated = (any::<usize>(), prop::collection::vec(mutation(), 1..10))
        .prop_map(move |(seed, muts)| mutate(corpus, seed, &muts));
    let line = prop_oneof![
        2 => r"(inetnum|netname|status|source|org|abuse-c|mnt-irt|country|changed|organisation|role|irt|nic-hdl|abuse-mailbox):[ ]{0,3}[ -~]{0,40}",
        1 => r"inetnum: [0-9.: -]{0,40}",
        1 => r"(source: (RIPE|APNIC|AFRINIC|ripe|X)|[ +\t#%][ -~]{0,20}|)",
    ];
    let objects = prop::collection::vec(line, 0..60).prop_map(|l| l.join("\n").into_bytes());
    drive(
        "dump",
        prop_oneof![5 => mutated, 2 => objects, 1 => prop::collection::vec(any::<u8>(), 0..2048)],
        |bytes| {
            match dump::read_slices(&[("fuzz.db", bytes)]) {
                Ok((networks, summaries)) => {
                    let accepted: u64 =
                        summaries.iter().map(dump::DumpSummary::network_count).sum();
                    prop_assert_eq!(accepted, networks.len() as u64);
                    for n in &networks {
                        let r = n.network.range;
                        prop_assert!(
                            n.network.placeholder || r.start >> 24 == r.end >> 24,
                            "{}",
                            r
                        );
                        if let Some(p) = n.network.parent_range {
                            prop_assert!(p.contains_range(&r) && p != r, "{} in {}", r, p);
                        }
                        prop_assert!(n.raw.len() <= dump::rpsl::MAX_RAW);
                    }
                }
                Err(e) => one_line("dump error", &e.to_string())?,
            }
            Ok(bytes.len())
        },
    );
}
