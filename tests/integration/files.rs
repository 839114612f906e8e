//! Broken and foreign database files, a read-only directory and a disk that
//! fills during a crawl: each gives one clear line on stderr and exit 2 (no
//! panic text), and what was committed before stays readable.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::server::{ip_of, not_found, start, CrawlArgs, Registries, Registry, Reply};
use crate::util::{json, jsonl, Workdir};

/// Every command that opens the DB, with arguments that are otherwise fine.
const COMMANDS: [&[&str]; 6] = [
    &["coverage", "--json"],
    &["export"],
    &["lookup", "20.0.0.1"],
    &["stats", "--json"],
    &["gen-seeds", "--within", "20.0.0.0/24"],
    &["crawl", "--progress", "none", "--max-queries", "1"],
];

/// ARIN answers every /24 of 20.0.0.0/8 with its own network, padded with
/// hard-to-compress remarks so that the DB grows quickly; the rest is 404.
fn many() -> Registries {
    start(|reg, req, _| {
        let Some((addr, _)) = ip_of(&req.target) else {
            return not_found();
        };
        if reg != Registry::Arin || addr >> 24 != 20 {
            return not_found();
        }
        let start = addr & !0xff;
        let s = std::net::Ipv4Addr::from(start);
        let e = std::net::Ipv4Addr::from(start | 0xff);
        let mut x = u64::from(start) | 1;
        let noise: String = (0..3000)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                char::from(b"0123456789abcdefghijklmnopqrstuvwxyz"[(x % 36) as usize])
            })
            .collect();
        Reply::json(
            200,
            format!(
                r#"{{"objectClassName":"ip network","handle":"NET-{s}","name":"N{s}",
                "startAddress":"{s}","endAddress":"{e}","ipVersion":"v4","status":["active"],
                "remarks":[{{"description":["{noise}"]}}]}}"#
            ),
        )
    })
}

fn crawl_args(w: &Registries, extra: &[&str]) -> Vec<String> {
    threads_args(w, "4", extra)
}

fn threads_args(w: &Registries, threads: &str, extra: &[&str]) -> Vec<String> {
    let mut v = vec!["--threads", threads];
    v.extend_from_slice(extra);
    w.crawl_args(&v)
}

/// A DB with the networks of `within` (a prefix of 20.0.0.0/8) crawled.
fn populated(wd: &Workdir, w: &Registries, within: &str) -> usize {
    wd.ok(&["gen-seeds", "--within", within]);
    let args = crawl_args(w, &[]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let summary = json(&wd.ok(&args));
    summary["networks"].as_u64().unwrap() as usize
}

/// Exit 2, exactly one line on stderr containing `needle`, no panic text.
fn assert_fatal(out: &Output, what: &str, needle: &str) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{what}: {err}");
    assert_eq!(err.trim().lines().count(), 1, "{what}: not one line: {err}");
    assert!(err.starts_with("ipcrawl: "), "{what}: {err}");
    assert!(err.contains(needle), "{what}: {err:?} lacks {needle:?}");
    for bad in ["panicked", "RUST_BACKTRACE", "stack backtrace"] {
        assert!(!err.contains(bad), "{what}: {err}");
    }
}

/// Runs every command on the DB; each must fail with `needle`.
fn all_commands_refuse(wd: &Workdir, needle: &str) {
    for cmd in COMMANDS {
        let out = wd.run(cmd);
        assert_fatal(&out, &format!("{cmd:?}"), needle);
    }
}

#[test]
fn truncated_db() {
    let wd = Workdir::new("files-truncated");
    let w = many();
    assert_eq!(populated(&wd, &w, "20.0.0.0/22"), 4);
    let full = std::fs::read(wd.db()).unwrap();
    for keep in [full.len() / 2, 4096, 100, 0] {
        std::fs::write(wd.db(), &full[..keep]).unwrap();
        let before = std::fs::read(wd.db()).unwrap();
        all_commands_refuse(&wd, "test.redb");
        // Refused, not "repaired" into something else.
        assert!(
            std::fs::read(wd.db()).unwrap() == before,
            "kept {keep}: modified"
        );
    }
}

#[test]
fn corrupt_db_bytes_flipped_in_the_middle() {
    let wd = Workdir::new("files-corrupt");
    let w = many();
    assert_eq!(populated(&wd, &w, "20.0.0.0/22"), 4);
    let good = std::fs::read(wd.db()).unwrap();
    // Flip every byte of a 4 KiB stretch, at several places; each run must be
    // either fine (the stretch was free space) or a clear refusal.
    let mut refused = 0;
    let mut reasons = std::collections::BTreeSet::new();
    for frac in [2usize, 3, 4, 5, 6, 8] {
        let mut bad = good.clone();
        let mid = bad.len() / frac;
        for b in &mut bad[mid..(mid + 4096).min(good.len())] {
            *b ^= 0xff;
        }
        std::fs::write(wd.db(), &bad).unwrap();
        for cmd in COMMANDS {
            let out = wd.run(cmd);
            let err = String::from_utf8_lossy(&out.stderr);
            for bad in ["panicked", "RUST_BACKTRACE", "stack backtrace"] {
                assert!(!err.contains(bad), "{cmd:?} at 1/{frac}: {err}");
            }
            match out.status.code() {
                Some(0) => {}
                Some(2) => {
                    refused += 1;
                    reasons.insert(err.trim().replace(wd.dir.to_str().unwrap(), "DIR"));
                    assert_fatal(&out, &format!("{cmd:?} at 1/{frac}"), "ipcrawl: error:");
                }
                other => panic!("{cmd:?} at 1/{frac}: exit {other:?}: {err}"),
            }
        }
    }
    eprintln!(
        "corrupt DB: {refused} of {} runs refused",
        6 * COMMANDS.len()
    );
    for r in reasons {
        eprintln!("  {r}");
    }
    // Whole header flipped: always refused.
    let mut bad = good.clone();
    for b in &mut bad[..512] {
        *b ^= 0xff;
    }
    std::fs::write(wd.db(), &bad).unwrap();
    all_commands_refuse(&wd, "not a readable ipcrawl database");
}

#[test]
fn files_that_are_not_redb() {
    let wd = Workdir::new("files-foreign");
    let gz = {
        use std::io::Write as _;
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(b"not a database").unwrap();
        e.finish().unwrap()
    };
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.resize(8192, 0);
    for (name, bytes) in [
        ("text", b"definitely not a redb file, just words".to_vec()),
        ("empty", Vec::new()),
        ("gzip", gz),
        ("png", png),
        ("zeros", vec![0u8; 1 << 20]),
    ] {
        std::fs::write(wd.db(), &bytes).unwrap();
        for cmd in COMMANDS {
            let out = wd.run(cmd);
            assert_fatal(&out, &format!("{name} {cmd:?}"), "ipcrawl: error:");
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(
                err.contains("not a readable ipcrawl database") || err.contains("no database"),
                "{name} {cmd:?}: {err}"
            );
        }
        assert!(std::fs::read(wd.db()).unwrap() == bytes, "{name} modified");
    }
    // A directory where the file should be.
    std::fs::remove_file(wd.db()).unwrap();
    std::fs::create_dir(wd.db()).unwrap();
    for cmd in COMMANDS {
        assert_fatal(&wd.run(cmd), &format!("dir {cmd:?}"), "test.redb");
    }
}

/// Writes a redb file with ipcrawl's meta table, as another version would.
fn write_meta(path: &Path, rows: &[(&str, &[u8])]) {
    const META: redb::TableDefinition<&str, &[u8]> = redb::TableDefinition::new("meta");
    let db = redb::Database::create(path).unwrap();
    let txn = db.begin_write().unwrap();
    {
        let mut t = txn.open_table(META).unwrap();
        for (k, v) in rows {
            t.insert(*k, *v).unwrap();
        }
    }
    txn.commit().unwrap();
}

#[test]
fn db_of_another_schema_version_is_refused_untouched() {
    let wd = Workdir::new("files-schema");
    write_meta(
        &wd.db(),
        &[("magic", b"ipcrawl"), ("schema_version", b"99")],
    );
    let before = std::fs::read(wd.db()).unwrap();
    all_commands_refuse(
        &wd,
        &format!(
            "has schema version 99, this ipcrawl reads version {}",
            ipcrawl::store::SCHEMA_VERSION
        ),
    );
    assert!(std::fs::read(wd.db()).unwrap() == before, "modified");

    // Another program's redb file: no meta table, or no magic.
    std::fs::remove_file(wd.db()).unwrap();
    {
        const OTHER: redb::TableDefinition<u64, u64> = redb::TableDefinition::new("other");
        let db = redb::Database::create(wd.db()).unwrap();
        let txn = db.begin_write().unwrap();
        txn.open_table(OTHER).unwrap().insert(1, 2).unwrap();
        txn.commit().unwrap();
    }
    let before = std::fs::read(wd.db()).unwrap();
    all_commands_refuse(&wd, "without ipcrawl's meta table");
    assert!(std::fs::read(wd.db()).unwrap() == before, "modified");

    std::fs::remove_file(wd.db()).unwrap();
    write_meta(&wd.db(), &[("schema_version", b"1")]);
    all_commands_refuse(&wd, "lacks the ipcrawl magic");
}

/// Whether this process can write into a directory whose mode forbids it
/// (root can: then permission tests prove nothing).
fn permissions_bite(dir: &Path) -> bool {
    let probe = dir.join(".probe");
    let bites = std::fs::write(&probe, b"x").is_err();
    let _ = std::fs::remove_file(&probe);
    bites
}

#[test]
fn read_only_directory() {
    use std::os::unix::fs::PermissionsExt;
    let wd = Workdir::new("files-ro");
    let w = many();
    assert_eq!(populated(&wd, &w, "20.0.0.0/23"), 2);
    let set_mode = |m: u32| {
        std::fs::set_permissions(&wd.dir, std::fs::Permissions::from_mode(m)).unwrap();
        std::fs::set_permissions(wd.db(), std::fs::Permissions::from_mode(m & 0o444 | 0o400))
            .unwrap();
    };
    set_mode(0o555);
    if !permissions_bite(&wd.dir) {
        set_mode(0o755);
        eprintln!(
            "read_only_directory: SKIPPED: running as uid 0 (root ignores file modes), \
             so a read-only directory cannot be simulated here"
        );
        return;
    }
    // Reports open the file read-only.
    let cov = json(&wd.ok(&["coverage", "--json"]));
    assert_eq!(cov["networks"], 2);
    assert_eq!(jsonl(&wd.ok(&["export"])).len(), 2);
    wd.ok(&["stats", "--json"]);
    wd.ok(&["lookup", "20.0.0.1"]);
    // Writers fail clearly.
    let args = crawl_args(&w, &[]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    assert_fatal(&wd.run(&args), "crawl", "test.redb");
    assert_fatal(
        &wd.run(&["gen-seeds", "--within", "20.0.0.0/24"]),
        "gen-seeds",
        "test.redb",
    );
    // A new DB in a read-only directory.
    let out = Command::new(env!("CARGO_BIN_EXE_ipcrawl"))
        .env("IPCRAWL_DB", wd.path("new.redb"))
        .args(["gen-seeds", "--within", "20.0.0.0/24"])
        .output()
        .unwrap();
    assert_fatal(&out, "new db", "new.redb");
    set_mode(0o755);
}

/// Longest a crawl on a full disk may run before the test calls it a hang
/// (it ends within seconds; issue 15.1 was a crawl that never ended).
const HANG: Duration = Duration::from_secs(120);

/// `sh -c 'trap "" XFSZ; ulimit -f BLOCKS; exec ipcrawl ...'`: a file-size
/// limit stands in for a full disk (write fails with EFBIG, the signal is
/// ignored as a daemon would). /bin/sh is dash here: blocks of 512 bytes.
/// Killed, and the test failed, if it runs longer than [`HANG`].
fn limited(wd: &Workdir, max_bytes: u64, args: &[String]) -> Output {
    let blocks = max_bytes / 512;
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "trap '' XFSZ; ulimit -f {blocks} || exit 99; exec \"$0\" \"$@\""
        ))
        .arg(env!("CARGO_BIN_EXE_ipcrawl"))
        .arg("--db")
        .arg(wd.db())
        .args(args)
        .current_dir(&wd.dir)
        .env_remove("IPCRAWL_DB")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let read = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut v = Vec::new();
            let _ = r.read_to_end(&mut v);
            v
        })
    };
    let out = read(Box::new(child.stdout.take().unwrap()));
    let err = read(Box::new(child.stderr.take().unwrap()));
    let started = Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        if started.elapsed() > HANG {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the crawl on a full disk still ran after {HANG:?}: it hangs");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Output {
        status,
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
    }
}

#[test]
fn disk_fills_during_a_crawl() {
    let wd = Workdir::new("files-full");
    let w = many();
    // 4096 seeds; a first run answers 64 of them and commits.
    wd.ok(&["gen-seeds", "--within", "20.0.0.0/12"]);
    let args = crawl_args(&w, &["--max-queries", "64"]);
    let args_ref: Vec<&str> = args.iter().map(String::as_str).collect();
    let first = json(&wd.ok(&args_ref));
    assert_eq!(first["networks"], 64);
    let size = std::fs::metadata(wd.db()).unwrap().len();

    // Then the disk "fills": the file may grow by 1 MiB at most. 64 threads
    // answer faster than a dead writer's queue (64) holds: before the fix
    // of issue 15.1 this run never ended.
    let args = threads_args(&w, "64", &[]);
    let out = limited(&wd, size + (1 << 20), &args);
    assert_ne!(out.status.code(), Some(99), "ulimit -f failed");
    assert_fatal(&out, "crawl on a full disk", "ipcrawl: error:");
    let err = String::from_utf8_lossy(&out.stderr);
    eprintln!("full disk: {}", err.trim());
    assert!(
        err.contains("File too large") || err.contains("too large") || err.contains("space"),
        "{err}"
    );

    // What was committed before is readable: at least the first run's networks.
    let cov = json(&wd.ok(&["coverage", "--json"]));
    let n = cov["networks"].as_u64().unwrap();
    assert!(n >= 64, "{cov}");
    let rows = jsonl(&wd.ok(&["export"]));
    assert_eq!(rows.len() as u64, n);
    assert_eq!(rows[0]["start"], "20.0.0.0");
    let hit = jsonl(&wd.ok(&["lookup", "20.0.0.9"]));
    assert_eq!(hit[0]["network"]["handle"], "NET-20.0.0.0");
    wd.ok(&["stats", "--json"]);
    assert!(n < 4096, "the limit did bite ({n} networks)");

    // With room again, the crawl resumes and finishes.
    let args_ref: Vec<&str> = args.iter().map(String::as_str).collect();
    let done = json(&wd.ok(&args_ref));
    assert_eq!(done["stop"], "finished");
    let cov = json(&wd.ok(&["coverage", "--json"]));
    assert_eq!(cov["networks"], 4096);
    assert_eq!(cov["addresses"], 1 << 20);
}
