//! `merge` refusals: a missing, foreign, damaged or other-schema input, and
//! an output that is one of the inputs, are each refused with one line
//! naming the file and exit code 2, leaving no output, no temporary file,
//! and an existing output untouched. (The merge itself is tested against a
//! full crawl in `shards`.)

use std::path::{Path, PathBuf};

use crate::localworld::{ipcrawl, ok};
use crate::util::{json, Workdir};

const META: redb::TableDefinition<&str, &[u8]> = redb::TableDefinition::new("meta");

/// A small valid ipcrawl database (seeds only).
fn valid(w: &Workdir, name: &str) -> PathBuf {
    let p = w.path(name);
    ok(&p, &["gen-seeds", "--within", "8.0.0.0/16"]);
    p
}

/// Runs `merge -o out inputs...`, expects exit 2 and one stderr line containing `needle`.
fn refused(w: &Workdir, out: &Path, inputs: &[&Path], needle: &str) {
    let before = std::fs::read(out).ok();
    let mut c = ipcrawl(&w.path("unused.redb"), &["merge", "-o"]);
    c.arg(out).args(inputs);
    let r = c.output().expect("run merge");
    let err = String::from_utf8_lossy(&r.stderr);
    assert_eq!(r.status.code(), Some(2), "merge {inputs:?}: {err}");
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    assert!(err.starts_with("ipcrawl: error: "), "{err}");
    assert!(err.contains(needle), "expected {needle:?} in: {err}");
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(std::fs::read(out).ok(), before, "the output was touched");
    let tmp: Vec<_> = std::fs::read_dir(&w.dir)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "tmp"))
        .collect();
    assert!(tmp.is_empty(), "temporary files left: {tmp:?}");
}

#[test]
fn merge_refuses_bad_inputs_with_one_line_and_exit_2() {
    let w = Workdir::new("merge-refusals");
    let good = valid(&w, "good.redb");
    let good_bytes = std::fs::read(&good).unwrap();
    let out = w.path("out.redb");

    let missing = w.path("missing.redb");
    refused(&w, &out, &[&good, &missing], "no database at");

    let text = w.path("notes.txt");
    std::fs::write(&text, "these are not the networks you are looking for\n").unwrap();
    refused(
        &w,
        &out,
        &[&good, &text],
        "notes.txt is not a readable ipcrawl database",
    );

    let foreign = w.path("foreign.redb");
    {
        let db = redb::Database::create(&foreign).unwrap();
        let t = db.begin_write().unwrap();
        t.open_table(redb::TableDefinition::<u64, u64>::new("other"))
            .unwrap()
            .insert(1, 2)
            .unwrap();
        t.commit().unwrap();
    }
    refused(&w, &out, &[&foreign, &good], "without ipcrawl's meta table");

    let newer = w.path("newer.redb");
    std::fs::copy(&good, &newer).unwrap();
    {
        let db = redb::Database::open(&newer).unwrap();
        let t = db.begin_write().unwrap();
        t.open_table(META)
            .unwrap()
            .insert("schema_version", b"99".as_slice())
            .unwrap();
        t.commit().unwrap();
    }
    refused(&w, &out, &[&good, &newer], "has schema version 99");

    let damaged = w.path("damaged.redb");
    let mut bytes = good_bytes.clone();
    let mid = bytes.len() / 2;
    for b in &mut bytes[mid..] {
        *b ^= 0x5a;
    }
    std::fs::write(&damaged, &bytes).unwrap();
    refused(&w, &out, &[&good, &damaged], "damaged.redb is damaged");

    let truncated = w.path("truncated.redb");
    std::fs::write(&truncated, &good_bytes[..good_bytes.len() / 2]).unwrap();
    refused(&w, &out, &[&truncated], "truncated.redb is damaged");

    // The output is one of the inputs, however spelled.
    refused(&w, &good, &[&good], "is also an input");
    std::fs::create_dir_all(w.path("sub")).unwrap();
    refused(
        &w,
        &w.path("sub/../good.redb"),
        &[&good],
        "is also an input",
    );

    // A failed merge leaves an existing output as it was.
    std::fs::write(&out, b"an older merge").unwrap();
    refused(&w, &out, &[&good, &missing], "no database at");
    assert_eq!(
        std::fs::read(&good).unwrap(),
        good_bytes,
        "an input was modified"
    );

    // And a good merge replaces it with a working database.
    let r = ipcrawl(&w.path("unused.redb"), &["merge", "--json", "-o"])
        .arg(&out)
        .arg(&good)
        .arg(&good)
        .output()
        .unwrap();
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let report = json(&String::from_utf8_lossy(&r.stdout));
    assert_eq!(report["seeds"], 256);
    let stats = json(&ok(&out, &["stats", "--json"]));
    assert_eq!(stats["seeds"]["total"], 256, "{stats}");
    assert_eq!(
        std::fs::read(&good).unwrap(),
        good_bytes,
        "an input was modified"
    );
}
