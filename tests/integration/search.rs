//! RFC 9910 search over real HTTP (issue 11): crawls of the local world,
//! where ARIN and RIPE NCC serve search and APNIC and LACNIC do not (their
//! `help` lists no `rirSearch1`, their search paths answer 501), at the
//! world's full result limit and at a limit small enough that RIPE refuses
//! ("Too Many Rows") and ARIN truncates with a notice. `--depth all` must
//! store every ARIN and RIPE network the world has — transfers in other
//! registries' space and intermediates wholly covered by their children
//! included, which no lookup returns — and elsewhere exactly what the
//! lookup sweep reaches. Every verdict is a set or a count, never a time.

use std::collections::BTreeSet;
use std::ffi::OsStr;

use crate::localworld::{crawl, diff, gen_seeds, networks, Key, LocalWorld, SCOPE};
use crate::util::{json, Workdir};

/// The world's networks (not placeholders) of `registries`, as [`Key`]s.
fn truth(path: &std::path::Path, registries: &[&str]) -> BTreeSet<Key> {
    let t = json(&std::fs::read_to_string(path).expect("truth file"));
    t["networks"]
        .as_array()
        .expect("truth networks")
        .iter()
        .filter(|n| registries.contains(&n["registry"].as_str().unwrap_or_default()))
        .map(|n| {
            let s = |k: &str| n[k].as_str().unwrap_or_default().to_string();
            (s("start"), s("end"), s("registry"), s("handle"), false)
        })
        .collect()
}

fn of(set: &BTreeSet<Key>, registries: &[&str]) -> BTreeSet<Key> {
    set.iter()
        .filter(|k| !k.4 && registries.contains(&k.2.as_str()))
        .cloned()
        .collect()
}

fn top_level(path: &std::path::Path, registries: &[&str]) -> u64 {
    let t = json(&std::fs::read_to_string(path).expect("truth file"));
    registries
        .iter()
        .map(|r| {
            t["by_registry"][*r]["top_level"]
                .as_u64()
                .expect("top_level")
        })
        .sum()
}

const SEARCHERS: [&str; 2] = ["arin", "ripe"];
const SWEPT: [&str; 3] = ["apnic", "lacnic", "afrinic"];

/// One world, two crawls of it: `--depth all` with search (killed with
/// `kill -9` after `kill_at` queries and run again, if given), and the
/// same without search.
fn depth_all_on(
    limit: &str,
    kill_at: Option<u64>,
) -> (BTreeSet<Key>, BTreeSet<Key>, serde_json::Value, Workdir) {
    let w = Workdir::new(&format!("search-{limit}"));
    let truth_file = w.path("truth.json");
    let args: Vec<&OsStr> = vec![
        OsStr::new("--truth"),
        truth_file.as_os_str(),
        OsStr::new("--search-limit"),
        OsStr::new(limit),
    ];
    let world = LocalWorld::start_with(&w.path(""), &SCOPE, 0, &args);
    let (with, without) = (w.path("with.redb"), w.path("without.redb"));
    for db in [&with, &without] {
        gen_seeds(db, &SCOPE);
    }
    let mut a = world.crawl_args();
    a.extend(["--depth".into(), "all".into()]);
    if let Some(k) = kill_at {
        let run = crawl(&with, &a, Some((k, "KILL")));
        assert!(!run.status.success(), "the crawl ended before {k} queries");
    }
    let run = crawl(&with, &a, None);
    assert!(run.status.success(), "search crawl: {}", run.stderr);
    let mut off = a.clone();
    off.extend(["--search".into(), "off".into()]);
    let run = crawl(&without, &off, None);
    assert!(run.status.success(), "sweep crawl: {}", run.stderr);
    let world_counters = world.stop_counters();
    (networks(&with), networks(&without), world_counters, w)
}

/// What every `--depth all` crawl with search must store: exactly the
/// world's ARIN and RIPE NCC networks, elsewhere exactly what the crawl
/// without search (`without`) reached, nothing that is not in the world.
/// Returns the ARIN and RIPE NCC networks.
fn assert_every_network(
    with: &BTreeSet<Key>,
    without: &BTreeSet<Key>,
    truth_file: &std::path::Path,
) -> BTreeSet<Key> {
    let want = truth(truth_file, &SEARCHERS);
    let got = of(with, &SEARCHERS);
    assert_eq!(got, want, "{}", diff(&got, &want));
    let (swept, reached) = (of(with, &SWEPT), of(without, &SWEPT));
    assert_eq!(swept, reached, "{}", diff(&swept, &reached));
    let all = truth(truth_file, &["arin", "ripe", "apnic", "lacnic", "afrinic"]);
    let stored: BTreeSet<Key> = with.iter().filter(|k| !k.4).cloned().collect();
    assert!(stored.is_subset(&all), "{}", diff(&stored, &all));
    want
}

/// A world counter of registry `r` (0 when absent).
fn counter(world: &serde_json::Value, r: &str, k: &str) -> u64 {
    world[r][k].as_u64().unwrap_or(0)
}

#[test]
fn depth_all_with_search_stores_every_network_of_the_searching_registries() {
    let (with, without, world, w) = depth_all_on("10000", None);
    let t = w.path("truth.json");
    let want = assert_every_network(&with, &without, &t);
    // The sweep alone cannot see them all (the point of search).
    assert!(
        of(&without, &SEARCHERS).len() * 2 < want.len(),
        "the sweep reached {} of {}",
        of(&without, &SEARCHERS).len(),
        want.len()
    );
    // Searches answered, none cut at this limit; the requests to ARIN and
    // RIPE NCC of both crawls together stay near one per top-level network.
    let n = |r: &str, k: &str| counter(&world, r, k);
    assert!(
        n("arin", "searches") > 0 && n("ripe", "searches") > 0,
        "{world}"
    );
    assert_eq!(
        n("arin", "search_cut") + n("ripe", "search_cut"),
        0,
        "{world}"
    );
    for r in SWEPT {
        assert_eq!(n(r, "searches"), 0, "{r} serves no search: {world}");
    }
    eprintln!(
        "search: {} arin+ripe networks ({} top-level), sweep alone {}; world counters {world}",
        want.len(),
        top_level(&t, &SEARCHERS),
        of(&without, &SEARCHERS).len()
    );
}

#[test]
fn refused_and_truncated_result_sets_are_split_and_lose_nothing() {
    // At 20 results RIPE refuses ("Too Many Rows") and ARIN truncates
    // with a notice: the crawl splits and still stores every network, also
    // when it is killed in the middle and run again.
    let (with, without, world, w) = depth_all_on("20", Some(150));
    let t = w.path("truth.json");
    assert_every_network(&with, &without, &t);
    let n = |r: &str, k: &str| counter(&world, r, k);
    assert!(
        n("arin", "search_cut") > 0,
        "ARIN truncated nothing: {world}"
    );
    assert!(n("ripe", "search_cut") > 0, "RIPE refused nothing: {world}");
}
