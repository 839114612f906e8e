//! Output files, as a user loading them meets them: the format from `-o`'s
//! extension (and a contradiction refused), Parquet read back with typed
//! columns, integer addresses, dates in UTC, server-sent control
//! characters never written raw, the stored raw answers (`--raw`), outputs
//! replaced whole or not at all (a full disk leaves the old file, no
//! temporary), the database refused as an output however it is spelled,
//! and the temporaries of killed runs removed by the next run.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::record::{Field, Row};

use crate::server::{a, ip_of, not_found, start, CrawlArgs, Registries, Registry, Reply};
use crate::util::{json, jsonl, Workdir};

/// The name a hostile server gives its network: an OSC that retitles the
/// terminal, ended by BEL.
const PWNED: &str = "\x1b]0;pwned\x07";

/// ARIN's answer for 20.0.0.0/24, pretty-printed as servers do: control
/// characters in the name and an entity, dates in two offsets.
const HOSTILE: &str = r#"{
  "objectClassName": "ip network",
  "handle": "NET-20-0-0-0-1",
  "startAddress": "20.0.0.0",
  "endAddress": "20.0.0.255",
  "ipVersion": "v4",
  "name": "\u001b]0;pwned\u0007",
  "type": "DIRECT ALLOCATION",
  "parentHandle": "NET-20-0-0-0-0",
  "status": ["active"],
  "events": [
    {"eventAction": "registration", "eventDate": "2017-10-18T14:39:41-04:00"},
    {"eventAction": "last changed", "eventDate": "2021-03-01T09:00:00+09:00"}
  ],
  "entities": [{
    "objectClassName": "entity",
    "handle": "EVIL-ARIN",
    "roles": ["abuse", "technical"],
    "vcardArray": ["vcard", [["version", {}, "text", "4.0"],
      ["fn", {}, "text", "Evil \u009b31m Corp"],
      ["email", {}, "text", "abuse@evil.example"]]]
  }],
  "rdapConformance": ["rdap_level_0"]
}
"#;

/// ARIN answers 20.0.0.0/24 with [`HOSTILE`] and every other /24 of
/// 20.0.0.0/8 with a plain network (2 kB of random remarks, so that even
/// gzip'd exports have some size); the rest is 404.
fn world() -> Registries {
    start(|reg, req, _| {
        let Some((addr, _)) = ip_of(&req.target) else {
            return not_found();
        };
        if reg != Registry::Arin || addr >> 24 != 20 {
            return not_found();
        }
        if addr >> 8 == a("20.0.0.0") >> 8 {
            return Reply::json(200, HOSTILE);
        }
        let start = addr & !0xff;
        let s = std::net::Ipv4Addr::from(start);
        let e = std::net::Ipv4Addr::from(start | 0xff);
        let mut x = u64::from(start) | 1;
        let remark: String = (0..2000)
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
                "events":[{{"eventAction":"registration","eventDate":"2019-06-23T15:57:53-05:00"}}],
                "remarks":[{{"description":["{remark}"]}}]}}"#
            ),
        )
    })
}

/// A DB holding the 16 networks of 20.0.0.0/20.
fn populated(wd: &Workdir) {
    let w = world();
    wd.ok(&["gen-seeds", "--within", "20.0.0.0/20"]);
    let args = w.crawl_args(&["--threads", "4"]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    assert_eq!(json(&wd.ok(&args))["networks"], 16);
}

/// Exit 2 and one line on stderr containing `needle`.
fn refused(out: &Output, needle: &str) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    assert!(err.starts_with("ipcrawl: error: "), "{err}");
    assert!(err.contains(needle), "expected {needle:?} in: {err}");
}

/// Files in the work directory whose name ends in `.tmp`.
fn temporaries(wd: &Workdir) -> Vec<String> {
    std::fs::read_dir(&wd.dir)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| Path::new(n).extension().is_some_and(|e| e == "tmp"))
        .collect()
}

fn gunzip(bytes: &[u8]) -> String {
    let mut s = String::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_string(&mut s)
        .unwrap();
    s
}

fn parquet_rows(path: &Path) -> Vec<Row> {
    let f = std::fs::File::open(path).unwrap();
    let reader = SerializedFileReader::new(f).unwrap();
    reader
        .get_row_iter(None)
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

fn field<'r>(row: &'r Row, name: &str) -> &'r Field {
    row.get_column_iter()
        .find(|(n, _)| n.as_str() == name)
        .map_or_else(|| panic!("no column {name}"), |(_, f)| f)
}

/// Whether `bytes` hold a control character (C0 other than `\n`, DEL, or
/// a UTF-8 C1) raw.
fn has_raw_control(bytes: &[u8]) -> bool {
    String::from_utf8_lossy(bytes)
        .chars()
        .any(|c| c != '\n' && c.is_control())
}

const HEADER: &str = "handle,start,end,cidrs,start_int,end_int,name,type,country,registry,parent_handle,status,entities,registration,last_changed,queried,source_url,fetched_at,placeholder";

#[test]
fn the_format_follows_the_file_name_and_a_contradiction_is_refused() {
    let wd = Workdir::new("out-formats");
    populated(&wd);
    let rows = jsonl(&wd.ok(&["export"]));
    assert_eq!(rows.len(), 16);

    // Issue 14: `-o x.csv` used to write JSON Lines.
    let out = wd.run(&["export", "-o", "x.csv"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("16 records written to x.csv (CSV)"));
    let csv = std::fs::read_to_string(wd.path("x.csv")).unwrap();
    assert_eq!(csv.lines().next(), Some(HEADER));
    assert_eq!(csv.lines().count(), 17);
    for name in ["x.jsonl", "x.json", "x.ndjson"] {
        wd.ok(&["export", "-o", name]);
        assert_eq!(
            jsonl(&std::fs::read_to_string(wd.path(name)).unwrap()),
            rows,
            "{name}"
        );
    }
    wd.ok(&["export", "-o", "x.csv.gz"]);
    assert_eq!(gunzip(&std::fs::read(wd.path("x.csv.gz")).unwrap()), csv);
    wd.ok(&["export", "-o", "x.jsonl.gz"]);
    assert_eq!(
        jsonl(&gunzip(&std::fs::read(wd.path("x.jsonl.gz")).unwrap())),
        rows
    );
    wd.ok(&["export", "--format", "csv", "-o", "plain"]);
    assert_eq!(std::fs::read_to_string(wd.path("plain")).unwrap(), csv);
    wd.ok(&["export", "--format", "csv", "-o", "x.txt"]);
    assert_eq!(std::fs::read_to_string(wd.path("x.txt")).unwrap(), csv);
    wd.ok(&["export", "-o", "x.parquet"]);
    let pq = std::fs::read(wd.path("x.parquet")).unwrap();
    assert!(pq.starts_with(b"PAR1") && pq.ends_with(b"PAR1"));
    let prow = parquet_rows(&wd.path("x.parquet"));
    assert_eq!(prow.len(), 16);
    for (p, j) in prow.iter().zip(&rows) {
        assert_eq!(
            field(p, "handle"),
            &Field::Str(j["handle"].as_str().unwrap().into())
        );
        assert_eq!(
            field(p, "start_int"),
            &Field::UInt(j["start_int"].as_u64().unwrap() as u32)
        );
    }

    // Contradictions and unknown names: one line, exit 2, nothing written.
    for (args, needle) in [
        (
            &["export", "--format", "jsonl", "-o", "y.csv"][..],
            "--format jsonl contradicts -o y.csv",
        ),
        (
            &["export", "--format", "csv", "-o", "y.parquet"][..],
            "a Parquet file name",
        ),
        (
            &["export", "--format", "parquet", "-o", "y.jsonl.gz"][..],
            "contradicts",
        ),
        (&["export", "-o", "y.txt"][..], "give --format"),
        (&["export", "-o", "y.parquet.gz"][..], "cannot be gzip'd"),
        (
            &["export", "--format", "parquet", "-o", "y.gz"][..],
            "cannot be gzip'd",
        ),
    ] {
        refused(&wd.run(args), needle);
    }
    let left: Vec<String> = std::fs::read_dir(&wd.dir)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("y.") || n.contains(".y."))
        .collect();
    assert!(left.is_empty(), "refused exports wrote {left:?}");
    assert!(temporaries(&wd).is_empty());
}

#[test]
fn values_load_typed_dates_in_utc_and_no_control_character_raw() {
    let wd = Workdir::new("out-values");
    populated(&wd);
    wd.ok(&["export", "-o", "n.jsonl"]);
    wd.ok(&["export", "-o", "n.csv"]);
    wd.ok(&["export", "-o", "n.parquet"]);
    let stdout_csv = wd.run(&["export", "--format", "csv"]).stdout;
    let stdout_jsonl = wd.run(&["export"]).stdout;
    let jl = std::fs::read(wd.path("n.jsonl")).unwrap();
    let csv = std::fs::read(wd.path("n.csv")).unwrap();
    assert_eq!(stdout_csv, csv);
    assert_eq!(stdout_jsonl, jl);
    for (what, bytes) in [("jsonl", &jl), ("csv", &csv)] {
        assert!(
            !has_raw_control(bytes),
            "{what} holds a raw control character"
        );
        assert!(!bytes.contains(&0x1b), "{what} holds ESC");
    }

    // JSON Lines: the exact values, once decoded; dates in UTC; integers.
    let rows = jsonl(std::str::from_utf8(&jl).unwrap());
    let h = &rows[0];
    assert_eq!(h["name"], PWNED);
    assert_eq!(h["entities"][0]["name"], "Evil \u{9b}31m Corp");
    assert_eq!(
        h["entities"][0]["roles"],
        serde_json::json!(["abuse", "technical"])
    );
    assert_eq!(h["registration"], "2017-10-18T18:39:41Z");
    assert_eq!(h["last_changed"], "2021-03-01T00:00:00Z");
    assert_eq!(h["start_int"], a("20.0.0.0"));
    assert_eq!(h["end_int"], a("20.0.0.255"));
    assert_eq!(rows[1]["registration"], "2019-06-23T20:57:53Z");
    for r in &rows {
        for k in ["registration", "fetched_at"] {
            let d = r[k].as_str().unwrap();
            assert!(d.len() == 20 && d.ends_with('Z'), "{k}: {d}");
        }
        assert_eq!(
            r["end_int"].as_u64().unwrap() - r["start_int"].as_u64().unwrap(),
            255
        );
    }

    // CSV: controls as visible escapes, one line per record, lists as JSON.
    let text = String::from_utf8(csv).unwrap();
    let line = text.lines().nth(1).unwrap();
    assert_eq!(text.lines().count(), 17);
    assert!(
        line.starts_with(&format!(
            "NET-20-0-0-0-1,20.0.0.0,20.0.0.255,\"[\"\"20.0.0.0/24\"\"]\",{},{},\\u001b]0;pwned\\u0007,",
            a("20.0.0.0"),
            a("20.0.0.255")
        )),
        "{line}"
    );
    assert!(line.contains("Evil \\u009b31m Corp"), "{line}");
    assert!(
        line.contains(",2017-10-18T18:39:41Z,2021-03-01T00:00:00Z,"),
        "{line}"
    );

    // Parquet: typed, exact.
    let p = parquet_rows(&wd.path("n.parquet"));
    assert_eq!(p.len(), 16);
    assert_eq!(field(&p[0], "name"), &Field::Str(PWNED.into()));
    assert_eq!(field(&p[0], "start_int"), &Field::UInt(a("20.0.0.0")));
    assert_eq!(
        field(&p[0], "registration"),
        &Field::TimestampMicros(1_508_351_981_000_000)
    );
    let Field::ListInternal(status) = field(&p[0], "status") else {
        panic!("status is not a list");
    };
    assert_eq!(status.elements(), &[Field::Str("active".into())]);
    let Field::ListInternal(ents) = field(&p[0], "entities") else {
        panic!("entities is not a list");
    };
    let Field::Group(e) = &ents.elements()[0] else {
        panic!("an entity is not a struct");
    };
    let Field::ListInternal(roles) = field(e, "roles") else {
        panic!("roles is not a list");
    };
    assert_eq!(
        roles.elements(),
        &[Field::Str("abuse".into()), Field::Str("technical".into())]
    );
    assert_eq!(field(e, "email"), &Field::Str("abuse@evil.example".into()));
}

#[test]
fn lookup_shows_hostile_names_without_raw_controls() {
    let wd = Workdir::new("out-lookup");
    populated(&wd);
    let out = wd.run(&["lookup", "20.0.0.1"]);
    assert!(out.status.success());
    assert!(
        !has_raw_control(&out.stdout),
        "{:?}",
        String::from_utf8_lossy(&out.stdout)
    );
    let v = json(std::str::from_utf8(&out.stdout).unwrap());
    assert_eq!(v["network"]["name"], PWNED, "decoded, the exact value");
    assert_eq!(v["network"]["registration"], "2017-10-18T18:39:41Z");
    let table = wd
        .run(&["lookup", "--table", "20.0.0.1", "20.0.1.1"])
        .stdout;
    let text = String::from_utf8(table).unwrap();
    assert!(!has_raw_control(text.as_bytes()), "{text:?}");
    assert!(text.contains("\\u001b]0;pwned\\u0007"), "{text}");
    // A stdin line holding ESC is echoed escaped too.
    let mut c = wd.cmd(&["lookup", "--table", "-"]);
    c.stdin(Stdio::piped()).stdout(Stdio::piped());
    let mut child = c.spawn().unwrap();
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), b"\x1b[2Jnot-an-ip\n").unwrap();
    drop(child.stdin.take());
    let out = child.wait_with_output().unwrap();
    assert!(
        !has_raw_control(&out.stdout),
        "{:?}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn raw_answers_are_exported_on_request() {
    let wd = Workdir::new("out-raw");
    populated(&wd);
    let served: serde_json::Value = serde_json::from_str(HOSTILE).unwrap();
    wd.ok(&["export", "--raw", "-o", "r.jsonl"]);
    let text = std::fs::read_to_string(wd.path("r.jsonl")).unwrap();
    assert_eq!(text.lines().count(), 16, "one line per record");
    assert!(!has_raw_control(text.as_bytes()));
    let rows = jsonl(&text);
    assert_eq!(rows[0]["raw"], served);
    // The registry's own date text is in the raw answer.
    assert_eq!(
        rows[0]["raw"]["events"][0]["eventDate"],
        "2017-10-18T14:39:41-04:00"
    );
    assert_eq!(rows[1]["raw"]["handle"], "NET-20.0.1.0");
    assert!(jsonl(&wd.ok(&["export"]))[0].get("raw").is_none());

    wd.ok(&["export", "--raw", "-o", "r.csv"]);
    let csv = std::fs::read_to_string(wd.path("r.csv")).unwrap();
    assert_eq!(csv.lines().next(), Some(format!("{HEADER},raw").as_str()));
    assert_eq!(csv.lines().count(), 17);
    assert!(!has_raw_control(csv.as_bytes()));
    let line = csv.lines().nth(1).unwrap();
    let raw_field = line.split_once(",false,").unwrap().1;
    let unquoted = raw_field
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap()
        .replace("\"\"", "\"");
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&unquoted).unwrap(),
        served
    );

    wd.ok(&["export", "--raw", "-o", "r.parquet"]);
    let p = parquet_rows(&wd.path("r.parquet"));
    assert_eq!(
        field(&p[0], "raw"),
        &Field::Str(HOSTILE.into()),
        "exactly as served"
    );
}

/// `sh -c 'trap "" XFSZ; ulimit -f BLOCKS; exec ipcrawl ARGS'`: writes past
/// `max_bytes` fail with EFBIG, as on a full disk (dash: 512-byte blocks).
fn limited(wd: &Workdir, max_bytes: u64, args: &[&str]) -> Output {
    Command::new("sh")
        .arg("-c")
        .arg(format!(
            "trap '' XFSZ; ulimit -f {} || exit 99; exec \"$0\" \"$@\"",
            max_bytes / 512
        ))
        .arg(env!("CARGO_BIN_EXE_ipcrawl"))
        .arg("--db")
        .arg(wd.db())
        .args(args)
        .current_dir(&wd.dir)
        .env_remove("IPCRAWL_DB")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

#[test]
fn a_failed_write_leaves_the_previous_file_and_no_temporary() {
    let wd = Workdir::new("out-atomic");
    populated(&wd);
    for (args, file) in [
        (&["export", "--raw", "-o", "n.jsonl"][..], "n.jsonl"),
        (&["export", "--raw", "-o", "n.csv.gz"][..], "n.csv.gz"),
        (&["export", "--raw", "-o", "n.parquet"][..], "n.parquet"),
        (&["coverage", "--map", "m.png"][..], "m.png"),
    ] {
        wd.ok(args);
        let good = std::fs::read(wd.path(file)).unwrap();
        assert!(good.len() > 8192, "{file}: {} bytes", good.len());
        // A stand-in for the previous run's file, smaller than the limit.
        std::fs::write(wd.path(file), b"the previous file").unwrap();
        let out = limited(&wd, 4096, args);
        assert_ne!(out.status.code(), Some(99), "ulimit -f failed");
        refused(&out, file);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("too large"), "{err}");
        assert_eq!(
            std::fs::read(wd.path(file)).unwrap(),
            b"the previous file",
            "{file} was touched"
        );
        assert!(
            temporaries(&wd).is_empty(),
            "{file}: {:?}",
            temporaries(&wd)
        );
        // With room again the file is replaced whole.
        wd.ok(args);
        assert_eq!(
            std::fs::read(wd.path(file)).unwrap().len(),
            good.len(),
            "{file}"
        );
    }

    // merge -o: the shard copy or the merged file cannot grow.
    let db = std::fs::metadata(wd.db()).unwrap().len();
    std::fs::write(wd.path("m.redb"), b"an older merge").unwrap();
    let out = limited(&wd, db / 2, &["merge", "-o", "m.redb", "test.redb"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(std::fs::read(wd.path("m.redb")).unwrap(), b"an older merge");
    assert!(temporaries(&wd).is_empty(), "{:?}", temporaries(&wd));
}

#[test]
fn the_database_is_never_an_output() {
    let wd = Workdir::new("out-db");
    populated(&wd);
    let before = std::fs::read(wd.db()).unwrap();
    std::fs::create_dir(wd.path("sub")).unwrap();
    std::os::unix::fs::symlink(wd.db(), wd.path("link.csv")).unwrap();
    std::fs::hard_link(wd.db(), wd.path("hard.jsonl")).unwrap();
    let abs = wd.db().display().to_string();
    for spelling in [
        "test.redb",
        "./test.redb",
        "sub/../test.redb",
        abs.as_str(),
        "link.csv",
        "hard.jsonl",
    ] {
        for args in [
            &["export", "-o", spelling][..],
            &["export", "--format", "csv", "-o", spelling][..],
            &["coverage", "--map", spelling][..],
        ] {
            let out = wd.run(args);
            refused(&out, "is the database itself");
            assert_eq!(
                std::fs::read(wd.db()).unwrap(),
                before,
                "{args:?} changed the DB"
            );
        }
    }
    // Through a symlinked --db as well.
    let mut c = Command::new(env!("CARGO_BIN_EXE_ipcrawl"));
    c.current_dir(&wd.dir).env_remove("IPCRAWL_DB").args([
        "--db",
        "link.csv",
        "export",
        "-o",
        "test.redb",
    ]);
    refused(&c.output().unwrap(), "is the database itself");
    assert_eq!(std::fs::read(wd.db()).unwrap(), before);
    assert!(temporaries(&wd).is_empty());
    // The DB still reads as before.
    assert_eq!(jsonl(&wd.ok(&["export"])).len(), 16);
}

/// A pid no process has: a child that has exited and been reaped.
fn dead_pid() -> u32 {
    let mut c = Command::new("true").spawn().unwrap();
    let pid = c.id();
    c.wait().unwrap();
    pid
}

#[test]
fn temporaries_of_killed_runs_are_removed_by_the_next() {
    let wd = Workdir::new("out-stale");
    populated(&wd);
    let dead = dead_pid();
    let mut alive = Command::new("sleep").arg("60").spawn().unwrap();
    let live = alive.id();
    let junk = vec![0u8; 1 << 20];
    let plant = |names: &[String]| {
        for n in names {
            std::fs::write(wd.path(n), &junk).unwrap();
        }
    };
    let exists = |n: &str| wd.path(n).exists();

    // What killed runs leave: an export's, a map's (and the name earlier
    // versions used), a merge's output and its input copy; one of a run
    // still going, which must stay.
    let stale: Vec<String> = vec![
        format!(".n.csv.ipcrawl-{dead}-0.tmp"),
        format!(".m.png.ipcrawl-{dead}-0.tmp"),
        format!(".m.png.{dead}.tmp"),
        format!(".merged.redb.ipcrawl-{dead}-0.tmp"),
        format!(".merged.redb.merge-{dead}.tmp"),
        format!(".test.redb.check-{dead}-0.tmp"),
    ];
    let running: Vec<String> = vec![
        format!(".n.csv.ipcrawl-{live}-0.tmp"),
        format!(".merged.redb.ipcrawl-{live}-0.tmp"),
        format!(".test.redb.check-{live}-0.tmp"),
    ];
    plant(&stale);
    plant(&running);

    wd.ok(&["export", "-o", "n.csv"]);
    assert!(!exists(&stale[0]));
    assert!(exists(&stale[1]), "an export removes only its own output's");
    wd.ok(&["coverage", "--map", "m.png"]);
    assert!(!exists(&stale[1]) && !exists(&stale[2]));
    assert!(exists(&stale[3]));
    let mut c = Command::new(env!("CARGO_BIN_EXE_ipcrawl"));
    c.current_dir(&wd.dir).env_remove("IPCRAWL_DB").args([
        "merge",
        "-o",
        "merged.redb",
        "test.redb",
    ]);
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut left = temporaries(&wd);
    left.sort();
    let mut want = running.clone();
    want.sort();
    assert_eq!(left, want, "stale ones gone, the running one's kept");
    let _ = alive.kill();
    let _ = alive.wait();
    // Once its process is gone, it is stale too.
    wd.ok(&["export", "-o", "n.csv"]);
    assert!(!exists(&running[0]));
}

#[test]
fn export_help_documents_every_field_and_format() {
    let wd = Workdir::new("out-help");
    let help = wd.ok(&["export", "--help"]);
    for needle in [
        "start_int, end_int",
        "uint32",
        "UTC",
        "timestamp",
        "list of struct",
        "--raw",
        ".parquet",
        ".gz",
        "JSON arrays",
        "\\u001b",
        "contradiction is refused",
        "pd.read_parquet",
    ] {
        assert!(
            help.contains(needle),
            "export --help lacks {needle:?}:\n{help}"
        );
    }
    for field in HEADER.split(',') {
        assert!(help.contains(field), "export --help lacks {field}");
    }
}

#[test]
fn an_output_through_a_symlink_replaces_the_file_it_names() {
    let wd = Workdir::new("out-links");
    populated(&wd);
    std::fs::create_dir(wd.path("real")).unwrap();
    for (link, args) in [
        ("n.csv", &["export", "-o", "n.csv"][..]),
        ("m.png", &["coverage", "--map", "m.png"][..]),
    ] {
        let real = wd.path(&format!("real/{link}"));
        std::fs::write(&real, b"old").unwrap();
        std::os::unix::fs::symlink(&real, wd.path(link)).unwrap();
        wd.ok(args);
        assert!(std::fs::symlink_metadata(wd.path(link))
            .unwrap()
            .file_type()
            .is_symlink());
        assert_ne!(std::fs::read(&real).unwrap(), b"old", "{link}");
    }
    let real = wd.path("real/m.redb");
    std::fs::write(&real, b"an older merge").unwrap();
    std::os::unix::fs::symlink(&real, wd.path("m.redb")).unwrap();
    let mut c = Command::new(env!("CARGO_BIN_EXE_ipcrawl"));
    c.current_dir(&wd.dir)
        .env_remove("IPCRAWL_DB")
        .args(["merge", "-o", "m.redb", "test.redb"]);
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(std::fs::symlink_metadata(wd.path("m.redb"))
        .unwrap()
        .file_type()
        .is_symlink());
    let mut c = Command::new(env!("CARGO_BIN_EXE_ipcrawl"));
    c.current_dir(&wd.dir)
        .env_remove("IPCRAWL_DB")
        .args(["--db", "real/m.redb", "export"]);
    let merged = c.output().unwrap();
    assert!(merged.status.success());
    assert_eq!(jsonl(&String::from_utf8(merged.stdout).unwrap()).len(), 16);
    assert!(temporaries(&wd).is_empty());
}

/// Parquet is binary: to a terminal (a pty from util-linux's `script`) it
/// is refused with one line, exit 2; redirected, it is written.
#[test]
fn parquet_is_refused_on_a_terminal() {
    if Command::new("script").arg("--version").output().is_err() {
        eprintln!("SKIPPED: no `script` (util-linux) to give the export a terminal");
        return;
    }
    let wd = Workdir::new("parquet-tty");
    let bin = env!("CARGO_BIN_EXE_ipcrawl");
    let line = format!("{bin} --db {} export --format parquet", wd.db().display());
    let out = Command::new("script")
        .args(["-qec", &line, "/dev/null"])
        .env_remove("IPCRAWL_DB")
        .stdin(Stdio::null())
        .output()
        .expect("run script");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(
        text.contains("--format parquet is binary: give -o FILE.parquet"),
        "{text}"
    );
    assert_eq!(text.trim().lines().count(), 1, "{text}");
    assert!(!wd.db().exists(), "refused before the DB is opened");
}
