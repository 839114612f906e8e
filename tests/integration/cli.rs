//! Command-line errors: one line on stderr naming the value and what was
//! expected, exit code 2, nothing written.

use crate::util::Workdir;

#[test]
fn bad_values_get_one_line_errors() {
    let wd = Workdir::new("cli");
    // (arguments, a piece the one-line error must contain). Every flag of
    // every command has at least one bad value here.
    let cases: &[(&[&str], &str)] = &[
        // global
        (&["--db"], "--db"),
        (&["--bogus-flag", "coverage"], "--bogus-flag"),
        (&["frobnicate"], "frobnicate"),
        // gen-seeds
        (&["gen-seeds", "--within", "10.0.0.1/8"], "10.0.0.1/8"),
        (&["gen-seeds", "--within", "nonsense"], "nonsense"),
        (&["gen-seeds", "--within", "1.2.3.0/33"], "1.2.3.0/33"),
        (&["gen-seeds", "--within", "2001:db8::/32"], "2001:db8::/32"),
        (&["gen-seeds", "--granularity", "7"], "--granularity 7"),
        (&["gen-seeds", "--granularity", "40"], "40"),
        (&["gen-seeds", "--granularity", "x"], "--granularity"),
        (&["gen-seeds", "--grid", "2015"], "2015"),
        (
            &["gen-seeds", "--grid", "2016", "--within", "1.0.0.0/8"],
            "--grid",
        ),
        (
            &["gen-seeds", "--delegated", "no/such/file.txt"],
            "no/such/file.txt",
        ),
        // crawl
        (&["crawl", "--threads", "0"], "0"),
        (&["crawl", "--threads", "5000"], "5000"),
        (&["crawl", "--threads", "many"], "many"),
        (
            &["crawl", "--bootstrap", "no/such/bootstrap.json"],
            "no/such/bootstrap.json",
        ),
        // Both files are written below, in the test's directory.
        (
            &["crawl", "--bootstrap", "not-json.txt"],
            "--bootstrap not-json.txt: not an RDAP bootstrap file",
        ),
        (
            &["crawl", "--bootstrap", "http-only.json"],
            "bootstrap service http://rdap.apnic.net/ is not https",
        ),
        (&["crawl", "--shard", "4/4"], "4/4"),
        (&["crawl", "--shard", "x"], "\"x\""),
        (&["crawl", "--shard", "1/0"], "1/0"),
        (&["crawl", "--shard", "-1/4"], "-1"),
        (&["crawl", "--rate", "arin=10/fortnight"], "10/fortnight"),
        (&["crawl", "--rate", "arin=0/s"], "0/s"),
        // Issue 15.7: these reached a panic or an absurd interval.
        (
            &["crawl", "--rate", "arin=1e-300/s"],
            "invalid rate \"1e-300/s\": expected N/s, N/min or N/h from 1/h to 100000/s, or unlimited",
        ),
        (&["crawl", "--rate", "arin=inf/s"], "\"inf/s\""),
        (&["crawl", "--rate", "arin=NaN/s"], "\"NaN/s\""),
        (&["crawl", "--rate", "arin=-1/s"], "\"-1/s\""),
        (&["crawl", "--rate", "arin=1e300/s"], "from 1/h to 100000/s"),
        (&["crawl", "--rate", "arin=1/0s"], "\"1/0s\""),
        (&["crawl", "--max-pause", "0"], "--max-pause (0)"),
        (&["crawl", "--max-pause", "NaN"], "--max-pause"),
        (&["crawl", "--rate-limit-floor-ms", "0"], "--rate-limit-floor-ms"),
        (&["crawl", "--rate", "foo=1/s"], "foo"),
        (&["crawl", "--rate", "arin"], "NAME=RATE"),
        (
            &["crawl", "--registry", "bogus=http://127.0.0.1:1/"],
            "bogus",
        ),
        (&["crawl", "--registry", "ripe=ftp://x/"], "ftp://x/"),
        (&["crawl", "--registry", "ripe"], "NAME=URL"),
        (&["crawl", "--registry", "ripe=http:///"], "http:///"),
        (
            &["crawl", "--registry", "ripe=https://u:s3cret@127.0.0.1:1/"],
            "user info",
        ),
        (&["crawl", "--depth", "deep"], "deep"),
        (&["crawl", "--contact", "noc @example.org"], "--contact"),
        (&["crawl", "--contact", "a@b\r\nX-Evil: 1"], "--contact"),
        (&["crawl", "--max-queries", "0"], "--max-queries (0)"),
        (&["crawl", "--max-queries", "-5"], "-5"),
        (&["crawl", "--progress", "loud"], "loud"),
        (&["crawl", "--progress-every", "0"], "--progress-every"),
        (&["crawl", "--progress-every", "soon"], "soon"),
        (&["crawl", "--attempts", "0"], "--attempts"),
        (&["crawl", "--retry-base-ms", "x"], "--retry-base-ms"),
        (&["crawl", "--rate-limit-pause-ms", "-1"], "-1"),
        (&["crawl", "--breaker-pause-ms", "y"], "--breaker-pause-ms"),
        (&["crawl", "--timeout", "0"], "--timeout (0)"),
        (&["crawl", "--timeout", "NaN"], "--timeout"),
        (&["crawl", "--connect-timeout", "-1"], "-1"),
        (&["crawl", "--no-cuts=yes"], "--no-cuts"),
        // coverage, export, lookup, stats
        (&["coverage", "--json=yes"], "--json"),
        (&["coverage", "--map-pixel", "20"], "\"20\" is not 16 or 24"),
        (&["coverage", "--map"], "--map"),
        (&["export", "--format", "xml"], "xml"),
        (&["export", "-o"], "--output"),
        (&["export", "--placeholders=no"], "--placeholders"),
        (&["lookup", "1.2.3"], "1.2.3"),
        (&["lookup", "300.1.1.1"], "300.1.1.1"),
        (&["lookup", "::1"], "::1"),
        (&["lookup"], "<IP>"),
        (&["stats", "--json=1"], "--json"),
        // world (refused before it serves)
        (&["world", "--scope", "1.2.3.4/40"], "1.2.3.4/40"),
        (&["world", "--seed", "-1"], "-1"),
        (&["world", "--density", "-2"], "-2"),
        (&["world", "--density=-2"], "--density"),
        (&["world", "--rate", "arin=fast"], "fast"),
        (&["world", "--rate", "arin=1e-300/s"], "from 1/h to 100000/s"),
        (&["world", "--no-retry-after=1"], "--no-retry-after"),
        (&["world", "--latency-ms", "soon"], "soon"),
        (&["world", "--fault-5xx", "1.5"], "--fault-5xx"),
        (&["world", "--fault-drop=-0.1"], "-0.1"),
        (&["world", "--fault-slow", "2"], "--fault-slow"),
        (&["world", "--fault-truncate", "x"], "--fault-truncate"),
        (&["world", "--slow-ms", "-3"], "-3"),
        (&["world", "--truth"], "--truth"),
        (&["world", "--log"], "--log"),
        (&["world", "--urls"], "--urls"),
    ];
    std::fs::write(wd.path("not-json.txt"), "hello").unwrap();
    std::fs::write(
        wd.path("http-only.json"),
        r#"{"services":[[["1.0.0.0/8"],["http://rdap.apnic.net/"]]]}"#,
    )
    .unwrap();
    let mut wrong = Vec::new();
    for (args, needle) in cases {
        let out = run_bounded(&wd, args);
        let err = String::from_utf8_lossy(&out.stderr);
        let ok = out.status.code() == Some(2)
            && err.trim().lines().count() == 1
            && err.contains(needle)
            && !err.contains("panicked");
        if !ok {
            wrong.push(format!(
                "{args:?} (want {needle:?}): exit {:?}: {err}",
                out.status.code()
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    // Refused before anything is written: no case created the database.
    assert!(
        !wd.db().exists(),
        "a refused command created {}",
        wd.db().display()
    );
}

/// Runs with a deadline, so that a bad value that is wrongly accepted (a
/// `world` that starts serving) fails the test instead of hanging it.
fn run_bounded(wd: &Workdir, args: &[&str]) -> std::process::Output {
    let mut child = wd
        .cmd(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn ipcrawl");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while child.try_wait().expect("wait").is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("{args:?} still running after 60 s: the bad value was accepted");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.wait_with_output().expect("output")
}

#[test]
fn missing_or_foreign_db_is_a_clear_error() {
    let wd = Workdir::new("cli-db");
    for cmd in [
        &["coverage"][..],
        &["stats"],
        &["export"],
        &["lookup", "1.1.1.1"],
    ] {
        let out = wd.run(cmd);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{cmd:?}");
        assert!(err.contains("no database at"), "{cmd:?}: {err}");
    }
    std::fs::write(wd.db(), b"definitely not a redb file, just words").unwrap();
    for cmd in [&["coverage"][..], &["crawl"], &["gen-seeds"]] {
        let out = wd.run(cmd);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{cmd:?}: {err}");
        assert!(
            err.contains("not a readable ipcrawl database"),
            "{cmd:?}: {err}"
        );
        assert_eq!(err.trim().lines().count(), 1, "{err}");
    }
    assert_eq!(
        std::fs::read(wd.db()).unwrap(),
        b"definitely not a redb file, just words",
        "the foreign file is untouched"
    );
}

#[test]
fn help_and_version_exit_zero() {
    let wd = Workdir::new("cli-help");
    for args in [&["--help"][..], &["crawl", "--help"], &["--version"]] {
        let out = wd.run(args);
        assert_eq!(out.status.code(), Some(0), "{args:?}");
        assert!(!out.stdout.is_empty());
    }
    let help = String::from_utf8(wd.run(&["crawl", "--help"]).stdout).unwrap();
    for flag in [
        "--threads",
        "--bootstrap",
        "--registry",
        "--rate",
        "--shard",
        "--depth",
        "--contact",
        "--max-queries",
    ] {
        assert!(help.contains(flag), "crawl --help lacks {flag}");
    }
}
