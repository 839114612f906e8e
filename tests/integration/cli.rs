//! Command-line errors: one line on stderr naming the value and what was
//! expected, exit code 2, nothing written.

use crate::util::Workdir;

#[test]
fn bad_values_get_one_line_errors() {
    let wd = Workdir::new("cli");
    let cases: &[(&[&str], &str)] = &[
        (&["gen-seeds", "--within", "10.0.0.1/8"], "10.0.0.1/8"),
        (&["gen-seeds", "--within", "nonsense"], "nonsense"),
        (&["gen-seeds", "--granularity", "7"], "--granularity 7"),
        (&["gen-seeds", "--granularity", "40"], "40"),
        (&["gen-seeds", "--grid", "2015"], "2015"),
        (&["crawl", "--shard", "4/4"], "4/4"),
        (&["crawl", "--shard", "x"], "\"x\""),
        (&["crawl", "--threads", "0"], "0"),
        (&["crawl", "--rate", "arin=10/fortnight"], "10/fortnight"),
        (&["crawl", "--rate", "arin=0/s"], "0/s"),
        (&["crawl", "--rate", "foo=1/s"], "foo"),
        (
            &["crawl", "--registry", "bogus=http://127.0.0.1:1/"],
            "bogus",
        ),
        (&["crawl", "--registry", "ripe=ftp://x/"], "ftp://x/"),
        (&["crawl", "--depth", "deep"], "deep"),
        (&["crawl", "--max-queries", "0"], "--max-queries (0)"),
        (&["lookup", "1.2.3"], "1.2.3"),
        (&["export", "--format", "xml"], "xml"),
    ];
    for (args, needle) in cases {
        let out = wd.run(args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert_eq!(
            err.trim().lines().count(),
            1,
            "{args:?}: not one line: {err}"
        );
        assert!(err.contains(needle), "{args:?}: {err} lacks {needle}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
    assert!(!wd.db().exists() || std::fs::metadata(wd.db()).is_ok());
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
