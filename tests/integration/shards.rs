//! `--shard K/N` against one full crawl of the same local world: the union
//! of the shards' networks is the full crawl's, their queries together are
//! at most 5 % more, and `merge` of the four shard files gives a database
//! equal to the full crawl's for every command (coverage, export, lookup,
//! stats, and a crawl that resumes on it and finds nothing left to ask).

use std::collections::BTreeSet;

use crate::localworld::{
    coverage, crawl, diff, gen_seeds, ipcrawl, networks, ok, records, LocalWorld, SCOPE,
};
use crate::util::{json, jsonl, Workdir};

#[test]
fn shards_unite_to_the_full_crawl_and_merge_into_it() {
    let w = Workdir::new("shards");
    let world = LocalWorld::start(&w.dir, &SCOPE, 0);
    let args = world.crawl_args();
    let full = w.path("full.redb");
    gen_seeds(&full, &SCOPE);
    let run = crawl(&full, &args, None);
    assert!(run.status.success(), "full crawl: {}", run.stderr);
    let full_queries = run.queries;
    let full_nets = networks(&full);

    let mut four = Vec::new();
    for n in [2u32, 4] {
        let mut union = BTreeSet::new();
        let mut queries = 0;
        for k in 0..n {
            let db = w.path(&format!("n{n}-shard-{k}.redb"));
            gen_seeds(&db, &SCOPE);
            let mut a = args.clone();
            a.extend(["--shard".into(), format!("{k}/{n}")]);
            let run = crawl(&db, &a, None);
            assert!(run.status.success(), "shard {k}/{n}: {}", run.stderr);
            queries += run.queries;
            union.extend(networks(&db));
            if n == 4 {
                four.push(db);
            }
        }
        assert!(
            union == full_nets,
            "{n} shards vs one crawl: {}",
            diff(&union, &full_nets)
        );
        let ratio = queries as f64 / full_queries as f64;
        eprintln!("shards: N={n}: {queries} queries vs {full_queries} ({ratio:.4}x)");
        assert!(
            ratio <= 1.05,
            "{n} shards sent {queries} queries, {ratio:.3}x the single crawl's {full_queries}"
        );
    }

    // Merge the four shards: inputs untouched, output equal to the full crawl.
    let before: Vec<Vec<u8>> = four.iter().map(|p| std::fs::read(p).unwrap()).collect();
    let merged = w.path("merged.redb");
    let mut margs: Vec<String> = vec!["merge".into(), "--json".into(), "-o".into()];
    margs.push(merged.display().to_string());
    margs.extend(four.iter().map(|p| p.display().to_string()));
    let margs: Vec<&str> = margs.iter().map(String::as_str).collect();
    let report = json(&ok(&w.path("unused.redb"), &margs));
    assert_eq!(report["inputs"], 4);
    for (p, b) in four.iter().zip(&before) {
        assert!(
            std::fs::read(p).unwrap() == *b,
            "merge modified its input {}",
            p.display()
        );
    }
    let leftovers: Vec<_> = std::fs::read_dir(&w.dir)
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "tmp"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");

    assert_eq!(coverage(&merged), coverage(&full));
    assert_eq!(networks(&merged), full_nets);
    let (m, f) = (records(&merged), records(&full));
    assert_eq!(m.len(), f.len());
    for (k, r) in &f {
        // `queried` may differ for a network that spans a shard boundary.
        let strip = |v: &serde_json::Value| {
            let mut v = v.clone();
            v.as_object_mut().map(|o| o.remove("queried"));
            v
        };
        assert_eq!(strip(&m[k]), strip(r), "record {k}");
    }
    // Every command works on the merged file.
    let stats = json(&ok(&merged, &["stats", "--json"]));
    let full_stats = json(&ok(&full, &["stats", "--json"]));
    assert_eq!(stats["networks"], full_stats["networks"]);
    assert_eq!(stats["seeds"], full_stats["seeds"]);
    assert_eq!(stats["failures"], full_stats["failures"]);
    let some: Vec<&str> = ["1.179.40.1", "185.2.10.10", "200.1.2.3", "23.1.1.1"].to_vec();
    let mut l = vec!["lookup"];
    l.extend(&some);
    let strip_time = |s: String| -> Vec<serde_json::Value> {
        jsonl(&s)
            .into_iter()
            .map(|mut v| {
                if let Some(n) = v["network"].as_object_mut() {
                    n.remove("fetched_at");
                    n.remove("queried");
                }
                v
            })
            .collect()
    };
    assert_eq!(strip_time(ok(&merged, &l)), strip_time(ok(&full, &l)));
    let csv = ok(&merged, &["export", "--format", "csv"]);
    assert_eq!(
        csv.lines().count(),
        ok(&full, &["export", "--format", "csv"]).lines().count()
    );
    // A crawl resumes on the merged file and has nothing left to ask.
    let again = crawl(&merged, &args, None);
    assert!(
        again.status.success(),
        "crawl on the merged file: {}",
        again.stderr
    );
    assert_eq!(again.queries, 0, "the merged file lacked something");
    // Merging a merged file with one of its shards changes nothing.
    let twice = w.path("twice.redb");
    let out = ipcrawl(&w.path("unused.redb"), &["merge", "-o"])
        .arg(&twice)
        .arg(&merged)
        .arg(&four[0])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(networks(&twice), full_nets);
    assert_eq!(coverage(&twice), coverage(&full));
    drop(world);
}
