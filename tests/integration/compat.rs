//! Backward compatibility: the databases of `tests/fixtures/db/`, written by
//! earlier versions, give the same `export`, `coverage` and `stats` output
//! as the version that wrote them, read as they are and after migration.
//! Only copies are opened; the committed files are checked unchanged.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::util::Workdir;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/db")
        .join(name)
}

fn sha256(path: &Path) -> String {
    let bytes = std::fs::read(path).unwrap();
    Sha256::digest(&bytes)
        .iter()
        .fold(String::new(), |mut s, b| {
            use std::fmt::Write as _;
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// Whether `got` says everything `want` says: equal values, and objects in
/// `got` holding at least the members of `want` (outputs only ever gain
/// members: counters, columns), with the same values. The export's dates
/// are the same instant (exports now write them in UTC, `Z`).
fn says_at_least(want: &serde_json::Value, got: &serde_json::Value) -> bool {
    match (want, got) {
        (serde_json::Value::Object(w), serde_json::Value::Object(g)) => w.iter().all(|(k, v)| {
            g.get(k).is_some_and(|gv| match k.as_str() {
                "registration" | "last_changed" | "fetched_at" => same_instant(v, gv),
                _ => says_at_least(v, gv),
            })
        }),
        (serde_json::Value::Array(w), serde_json::Value::Array(g)) => {
            w.len() == g.len() && w.iter().zip(g).all(|(a, b)| says_at_least(a, b))
        }
        (w, g) => w == g,
    }
}

/// Two dates (or nulls) naming the same instant, `got`'s in UTC.
fn same_instant(want: &serde_json::Value, got: &serde_json::Value) -> bool {
    let instant = |v: &serde_json::Value| v.as_str().and_then(ipcrawl::export::dates::instant);
    instant(want) == instant(got)
        && (got.is_null() || got.as_str().is_some_and(|s| s.ends_with('Z')))
}

/// Each line of `got` says at least what the same line of `want` says.
fn lines_say_at_least(want: &str, got: &str) -> bool {
    let (w, g): (Vec<&str>, Vec<&str>) = (want.lines().collect(), got.lines().collect());
    w.len() == g.len()
        && w.iter().zip(&g).all(|(a, b)| {
            match (
                serde_json::from_str::<serde_json::Value>(a),
                serde_json::from_str::<serde_json::Value>(b),
            ) {
                (Ok(a), Ok(b)) => says_at_least(&a, &b),
                _ => a == b,
            }
        })
}

/// The three outputs of `wd.db()` say what the golden files of `version`
/// say (every member and value they hold; later versions may add members).
fn same_outputs(wd: &Workdir, version: &str, when: &str) {
    for (args, golden) in [
        (&["export", "--placeholders"][..], "export.jsonl"),
        (&["coverage", "--json"][..], "coverage.json"),
        (&["stats", "--json"][..], "stats.json"),
    ] {
        let want = std::fs::read_to_string(fixture(&format!("{version}.{golden}"))).unwrap();
        let got = wd.ok(args);
        assert!(
            lines_say_at_least(&want, &got),
            "{version} {when}: `ipcrawl {}` differs from {version}.{golden}\n--- want (first 600)\n{}\n--- got (first 600)\n{}",
            args.join(" "),
            &want[..want.len().min(600)],
            &got[..got.len().min(600)]
        );
    }
}

#[test]
fn schema_1_file_reads_and_migrates_to_the_same_outputs() {
    let committed = fixture("v1.redb");
    let sha = sha256(&committed);
    assert_eq!(
        sha, "cc4beea7ca01defde09ce7c00835c342b839b100b6126b90b308d1b89902f181",
        "tests/fixtures/db/v1.redb changed"
    );
    let wd = Workdir::new("compat-v1");
    std::fs::copy(&committed, wd.db()).unwrap();
    same_outputs(&wd, "v1", "read as it is");
    let before = std::fs::read(wd.db()).unwrap();
    // Read-only commands left the schema-1 copy as it was.
    assert!(
        before == std::fs::read(&committed).unwrap(),
        "a read changed the file"
    );
    {
        let s = ipcrawl::store::Store::open_rw(&wd.db()).unwrap();
        assert_eq!(s.schema_version(), ipcrawl::store::SCHEMA_VERSION);
    }
    same_outputs(&wd, "v1", "migrated");
    assert_eq!(sha256(&committed), sha, "the committed file was modified");
}

#[test]
fn schema_2_file_gives_its_golden_outputs() {
    let committed = fixture("v2.redb");
    let sha = sha256(&committed);
    assert_eq!(
        sha, "601b69e6a0aa4a7cff9d8f5d1a1b104ad9de685359f3a60e37120756d5b0d551",
        "tests/fixtures/db/v2.redb changed"
    );
    let wd = Workdir::new("compat-v2");
    std::fs::copy(&committed, wd.db()).unwrap();
    same_outputs(&wd, "v2", "read");
    assert_eq!(sha256(&committed), sha);
}
