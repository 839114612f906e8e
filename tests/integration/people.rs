//! For the people who run it: the map as a person sees it (pixels against
//! the known layout), `lookup`'s statuses, stdin and table, shell
//! completions and the man page, `-q`/`-v`, and closed pipes.
//!
//! The databases are built here through the public store API
//! (`Store::open_or_create`, `Write::Network`, `Write::Gap`), with networks
//! parsed from small RDAP answers.

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};

use ipcrawl::map::{self, Class, Layout};
use ipcrawl::prefix::Range;
use ipcrawl::rdap::{parse::parse_network, Registry};
use ipcrawl::store::{Failure, GapKind, Record, Store, Write};

use crate::util::{json, jsonl, Workdir};

const FETCHED: &str = "2026-11-27T13:38:10Z";

fn range(a: &str, b: &str) -> Range {
    let p = |s: &str| u32::from(s.parse::<std::net::Ipv4Addr>().unwrap());
    Range::new(p(a), p(b)).unwrap()
}

/// A network record as the crawler stores it, parsed from an RDAP answer.
fn network(
    reg: Registry,
    handle: &str,
    start: &str,
    end: &str,
    name: &str,
    country: &str,
) -> Write {
    let body = format!(
        r#"{{"objectClassName":"ip network","handle":"{handle}","startAddress":"{start}",
        "endAddress":"{end}","ipVersion":"v4","name":"{name}","country":"{country}",
        "type":"ALLOCATED PA","status":["active"],"rdapConformance":["rdap_level_0"]}}"#
    );
    let r = range(start, end);
    let net = parse_network(body.as_bytes(), Range::new(r.start, r.start).unwrap())
        .unwrap_or_else(|e| panic!("test answer for {handle}: {e}"));
    Write::Network(
        Box::new(Record {
            registry: reg,
            network: net,
            queried: Some(r.start),
            source_url: format!("http://127.0.0.1/ip/{start}"),
            fetched_at: FETCHED.into(),
        }),
        body.into_bytes(),
    )
}

/// 1/8 APNIC, 3/8 ARIN, 185/8 RIPE NCC, 200/8 LACNIC, 41/8 AFRINIC; 2/8
/// probed with 404s, 5/8 answered by a placeholder; a failed lookup at 6.0.0.0.
fn build_db(path: &Path) {
    let store = Store::open_or_create(path).unwrap();
    store
        .apply(&[
            network(
                Registry::Apnic,
                "APNIC-1",
                "1.0.0.0",
                "1.255.255.255",
                "ONE",
                "AU",
            ),
            network(
                Registry::Apnic,
                "APNIC-1-1-1",
                "1.1.1.0",
                "1.1.1.255",
                "APNIC-LABS",
                "AU",
            ),
            network(
                Registry::Arin,
                "NET-3-0-0-0-1",
                "3.0.0.0",
                "3.255.255.255",
                "AMAZON",
                "US",
            ),
            network(
                Registry::Ripe,
                "185.0.0.0 - 185.255.255.255",
                "185.0.0.0",
                "185.255.255.255",
                "EU-185",
                "EU",
            ),
            network(
                Registry::Lacnic,
                "200.0.0.0/8",
                "200.0.0.0",
                "200.255.255.255",
                "LAC-200",
                "BR",
            ),
            network(
                Registry::Afrinic,
                "AFRINIC-41",
                "41.0.0.0",
                "41.255.255.255",
                "AF-41",
                "ZA",
            ),
            Write::Gap(
                range("2.0.0.0", "2.255.255.255"),
                GapKind::NotFound,
                Registry::Ripe,
            ),
            Write::Gap(
                range("5.0.0.0", "5.255.255.255"),
                GapKind::Placeholder,
                Registry::Ripe,
            ),
            Write::Failure(Failure {
                addr: range("6.0.0.0", "6.0.0.0").start,
                end: range("6.0.0.255", "6.0.0.255").start,
                registry: Registry::Arin,
                reason: "HTTP 503 after 5 attempts".into(),
                attempts: 5,
                at: FETCHED.into(),
                permanent: false,
            }),
        ])
        .unwrap();
}

fn decode_png(path: &Path) -> map::Image {
    let file = std::fs::File::open(path).unwrap();
    let mut reader = png::Decoder::new(std::io::BufReader::new(file))
        .read_info()
        .unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!(info.color_type, png::ColorType::Rgb);
    assert_eq!(info.bit_depth, png::BitDepth::Eight);
    buf.truncate(info.buffer_size());
    map::Image {
        width: info.width,
        height: info.height,
        pixels: buf,
    }
}

/// Whether `img` shows exactly `text` (and nothing else) in its box at `at`.
fn shows_text(img: &map::Image, at: (u32, u32), scale: u32, text: &str, ink: [u8; 3]) -> bool {
    let mut alone = map::Image::new(img.width, img.height, [1, 2, 3]);
    alone.text(at, scale, text, ink);
    let w = (text.chars().count() as u32 * 6 - 1) * scale;
    (at.1..at.1 + 7 * scale)
        .all(|y| (at.0..at.0 + w).all(|x| (alone.get(x, y) == ink) == (img.get(x, y) == ink)))
}

#[test]
fn the_map_of_a_known_db_shows_each_slash8_where_people_expect_it() {
    let wd = Workdir::new("map-layout");
    build_db(&wd.db());
    let out = wd.run(&["coverage", "--map", "map.png"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let img = decode_png(&wd.path("map.png"));
    let lay = Layout::new(1024);
    assert_eq!((img.width, img.height), (lay.width, lay.height));
    assert!(img.width >= 1024 && img.height >= 1024);

    // Each /8's square, at its xkcd-map position, in its class colour
    // (sampled a quarter into the square: off the label and the grid).
    let at = |octet: u8| {
        let s = lay.slash8(octet);
        img.get(s.x + s.w / 4, s.y + s.h / 4)
    };
    assert_eq!(lay.slash8(1).x - lay.slash8(0).x, 64, "1/8 right of 0/8");
    assert_eq!(lay.slash8(3).y - lay.slash8(0).y, 64, "3/8 below 0/8");
    assert_eq!(at(1), Class::Registry(Registry::Apnic).rgb());
    assert_eq!(at(3), Class::Registry(Registry::Arin).rgb());
    assert_eq!(at(185), Class::Registry(Registry::Ripe).rgb());
    assert_eq!(at(200), Class::Registry(Registry::Lacnic).rgb());
    assert_eq!(at(41), Class::Registry(Registry::Afrinic).rgb());
    assert_eq!(at(2), Class::NotFound.rgb());
    assert_eq!(at(5), Class::Placeholder.rgb());
    assert_eq!(at(8), Class::Unknown.rgb());
    for octet in [0u8, 10, 127].into_iter().chain(224..=255) {
        assert_eq!(at(octet), Class::Reserved.rgb(), "{octet}/8 is reserved");
    }
    // The palette is the documented Okabe-Ito one.
    assert_eq!(at(3), [0x00, 0x72, 0xb2]);
    assert_eq!(at(185), [0xe6, 0x9f, 0x00]);

    // The /8 grid: full-length lines between the squares.
    let step = lay.map.w / 16;
    for k in 1..16 {
        let x = lay.map.x + k * step - lay.grid_width / 2;
        assert!(
            (lay.map.y..lay.map.y + lay.map.h).all(|y| img.get(x, y) == map::GRID),
            "line {k}"
        );
    }
    // Labels: 185 written in its square.
    let sq = lay.slash8(185);
    let w = (3 * 6 - 1) * lay.unit;
    let label_at = (sq.x + (sq.w - w) / 2, sq.y + (sq.h - 7 * lay.unit) / 2);
    assert!(shows_text(&img, label_at, lay.unit, "185", map::LABEL));

    // The legend: each swatch in its colour, its label beside it.
    for item in &lay.legend {
        let s = item.swatch;
        assert!(
            (s.y..s.y + s.h).all(|y| (s.x..s.x + s.w).all(|x| img.get(x, y) == item.class.rgb()))
        );
        assert!(
            shows_text(&img, item.text_at, lay.unit, item.class.label(), map::INK),
            "{:?}",
            item.class
        );
    }

    // The title: the newest answer's date and the coverage percentage.
    let cov = json(&wd.ok(&["coverage", "--json"]));
    let cap = map::caption(
        cov["percent"].as_f64().unwrap(),
        cov["addresses"].as_u64().unwrap(),
        "2026-11-27",
        "NEWEST ANSWER",
        16,
    );
    assert!(
        cap.title.contains("2026-11-27") && cap.title.contains(" %"),
        "{}",
        cap.title
    );
    assert!(
        shows_text(&img, lay.title_at, 2 * lay.unit, &cap.title, map::INK),
        "title {}",
        cap.title
    );
    assert!(shows_text(
        &img,
        lay.subtitle_at,
        lay.unit,
        &cap.subtitle,
        map::INK
    ));

    // Another size: the same layout, scaled.
    wd.ok(&["coverage", "--map", "small.png", "--map-size", "512"]);
    let small = decode_png(&wd.path("small.png"));
    let lay = Layout::new(512);
    assert_eq!((small.width, small.height), (lay.width, lay.height));
    let s = lay.slash8(185);
    assert_eq!(
        small.get(s.x + s.w / 4, s.y + s.h / 4),
        Class::Registry(Registry::Ripe).rgb()
    );
    // No temporary file left beside the pictures.
    let names: Vec<String> = std::fs::read_dir(&wd.dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| !n.contains(".tmp")), "{names:?}");
}

#[test]
fn the_map_never_replaces_the_database() {
    let wd = Workdir::new("map-db");
    build_db(&wd.db());
    let before = std::fs::read(wd.db()).unwrap();
    std::fs::create_dir(wd.path("sub")).unwrap();
    let db = wd.db().display().to_string();
    let spelled = wd.dir.join("sub/../test.redb").display().to_string();
    for target in [db.as_str(), "test.redb", "./test.redb", spelled.as_str()] {
        let out = wd.run(&["coverage", "--map", target]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "--map {target}: {err}");
        assert!(err.contains("is the database itself"), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
    }
    assert!(std::fs::read(wd.db()).unwrap() == before, "the DB changed");
    // An unwritable place: one line, exit 2, nothing left behind.
    let out = wd.run(&["coverage", "--map", "missing/map.png"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("missing/map.png") && err.lines().count() == 1,
        "{err}"
    );
    let out = wd.run(&["coverage", "--map", "sub"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is a directory"));
    let out = wd.run(&["coverage", "--map", "m.png", "--map-size", "1000"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("\"1000\""));
}

#[test]
fn lookup_tells_reserved_probed_failed_and_unknown_apart() {
    let wd = Workdir::new("lookup-status");
    build_db(&wd.db());
    let rows = jsonl(&wd.ok(&[
        "lookup", "1.1.1.1", "1.2.3.4", "10.1.1.1", "2.2.2.2", "5.5.5.5", "6.0.0.7", "8.8.8.8",
    ]));
    let status: Vec<&str> = rows.iter().map(|r| r["status"].as_str().unwrap()).collect();
    assert_eq!(
        status,
        [
            "network",
            "network",
            "reserved",
            "no_network",
            "no_network",
            "failed",
            "not_crawled"
        ]
    );
    // Found networks keep the old shape: query + the export record.
    assert_eq!(rows[0]["query"], "1.1.1.1");
    assert_eq!(
        rows[0]["network"]["handle"], "APNIC-1-1-1",
        "the most specific"
    );
    assert_eq!(rows[1]["network"]["handle"], "APNIC-1");
    assert_eq!(rows[0]["network"]["registry"], "apnic");
    assert_eq!(rows[0]["network"]["fetched_at"], FETCHED);
    for r in &rows[2..] {
        assert_eq!(r["network"], serde_json::Value::Null, "{r}");
    }
    assert_eq!(rows[2]["reserved"], "10.0.0.0/8");
    assert_eq!(rows[3]["gap"]["answer"], "not_found");
    assert_eq!(rows[4]["gap"]["answer"], "placeholder");
    assert_eq!(rows[5]["failure"]["reason"], "HTTP 503 after 5 attempts");
}

fn with_stdin(wd: &Workdir, args: &[&str], input: &str) -> std::process::Output {
    let mut child = wd
        .cmd(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn lookup_reads_stdin_and_reports_bad_lines_in_place() {
    let wd = Workdir::new("lookup-stdin");
    build_db(&wd.db());
    let input = "# resolvers\n1.1.1.1\n\n   10.0.0.1  \nnot-an-ip\n3.3.3.3 # aws\n300.1.1.1\n";
    let out = with_stdin(&wd, &["lookup", "-"], input);
    assert_eq!(out.status.code(), Some(1), "bad lines: exit 1");
    let rows = jsonl(&String::from_utf8(out.stdout).unwrap());
    let q: Vec<&str> = rows.iter().map(|r| r["query"].as_str().unwrap()).collect();
    assert_eq!(
        q,
        ["1.1.1.1", "10.0.0.1", "not-an-ip", "3.3.3.3", "300.1.1.1"]
    );
    assert_eq!(rows[2]["status"], "error");
    assert_eq!(rows[2]["line"], 5);
    let e = rows[2]["error"].as_str().unwrap();
    assert!(e.contains("line 5") && e.contains("\"not-an-ip\""), "{e}");
    assert_eq!(rows[4]["line"], 7);
    assert_eq!(rows[3]["network"]["handle"], "NET-3-0-0-0-1");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("2 input line(s)"), "{err}");
    // All good: exit 0; -q silences the note either way.
    let out = with_stdin(&wd, &["lookup", "-"], "1.1.1.1\n8.8.8.8\n");
    assert!(out.status.success());
    assert_eq!(jsonl(&String::from_utf8(out.stdout).unwrap()).len(), 2);
    let out = with_stdin(&wd, &["-q", "lookup", "-"], "x\n");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn lookup_table_is_aligned_with_one_row_per_address() {
    let wd = Workdir::new("lookup-table");
    build_db(&wd.db());
    for flag in [&["--table"][..], &["--format", "table"][..]] {
        let mut args = vec!["lookup", "1.1.1.1", "10.0.0.1", "2.2.2.2", "8.8.8.8"];
        args.extend(flag);
        let text = wd.ok(&args);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 5, "{text}");
        let head = lines[0];
        for col in [
            "address", "status", "handle", "range", "name", "country", "registry",
        ] {
            assert!(head.contains(col), "{head}");
        }
        let status_col = head.find("status").unwrap();
        let range_col = head.find("range").unwrap();
        for (line, (st, rg)) in lines[1..].iter().zip([
            ("network", "1.1.1.0/24"),
            ("reserved", "10.0.0.0/8"),
            ("no_network", "2.0.0.0/8"),
            ("not_crawled", "-"),
        ]) {
            assert_eq!(&line[status_col..status_col + st.len()], st, "{text}");
            assert_eq!(&line[range_col..range_col + rg.len()], rg, "{text}");
        }
        assert!(
            lines[1].contains("APNIC-LABS") && lines[1].ends_with("apnic"),
            "{text}"
        );
    }
}

#[test]
fn completions_complete_commands_and_flags_in_bash() {
    let wd = Workdir::new("completions");
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let s = wd.ok(&["completions", shell]);
        assert!(s.contains("coverage") && s.contains("map-size"), "{shell}");
    }
    let out = wd.run(&["completions", "tcsh"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("tcsh"));
    // Real bash: load the script, ask for completions as the shell would.
    let script = wd.path("ipcrawl.bash");
    std::fs::write(&script, wd.ok(&["completions", "bash"])).unwrap();
    let complete = |line: &[&str]| -> Vec<String> {
        let words = line
            .iter()
            .map(|w| format!("'{w}'"))
            .collect::<Vec<_>>()
            .join(" ");
        let prog = format!(
            "source '{}'; COMP_WORDS=({words}); COMP_CWORD={}; COMP_LINE='{}'; COMP_POINT=${{#COMP_LINE}}; _ipcrawl ipcrawl '{}' '{}'; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
            script.display(),
            line.len() - 1,
            line.join(" "),
            line[line.len() - 1],
            line[line.len().saturating_sub(2)]
        );
        let out = Command::new("bash")
            .arg("-c")
            .arg(&prog)
            .output()
            .expect("bash");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(String::from)
            .collect()
    };
    assert_eq!(complete(&["ipcrawl", "cov"]), ["coverage"]);
    let flags = complete(&["ipcrawl", "coverage", "--map-"]);
    assert!(
        flags.contains(&"--map-size".to_string()) && flags.contains(&"--map-pixel".to_string()),
        "{flags:?}"
    );
    let shells = complete(&["ipcrawl", "completions", "z"]);
    assert_eq!(shells, ["zsh"]);
}

#[test]
fn the_man_page_renders_with_man() {
    let wd = Workdir::new("man");
    let page = wd.ok(&["man"]);
    assert!(
        page.contains(".TH ipcrawl 1"),
        "{}",
        &page[..200.min(page.len())]
    );
    std::fs::write(wd.path("ipcrawl.1"), &page).unwrap();
    let out = Command::new("man")
        .arg("-l")
        .arg(wd.path("ipcrawl.1"))
        .env("MANPAGER", "cat")
        .env("MANWIDTH", "100")
        .output()
        .expect("man");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for needle in [
        "NAME",
        "SYNOPSIS",
        "SUBCOMMANDS",
        "gen-seeds",
        "coverage",
        "completions",
        "--quiet",
    ] {
        assert!(
            text.contains(needle),
            "rendered page lacks {needle}:\n{text}"
        );
    }
    let cov = wd.ok(&["man", "coverage"]);
    assert!(cov.contains("ipcrawl\\-coverage") && cov.contains("map\\-size"));
    let out = wd.run(&["man", "nope"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("\"nope\""));
}

#[test]
fn quiet_silences_and_verbose_details_the_informational_lines() {
    let wd = Workdir::new("verbosity");
    build_db(&wd.db());
    let lines = |args: &[&str]| -> Vec<String> {
        let out = wd.run(args);
        assert!(out.status.success(), "{args:?}");
        String::from_utf8_lossy(&out.stderr)
            .lines()
            .map(String::from)
            .collect()
    };
    let normal = lines(&["coverage", "--map", "m.png"]);
    assert_eq!(normal.len(), 1, "{normal:?}");
    assert!(normal[0].contains("map written to m.png"), "{normal:?}");
    assert!(lines(&["-q", "coverage", "--map", "m.png"]).is_empty());
    assert!(lines(&["coverage", "--quiet", "--map", "m.png"]).is_empty());
    let verbose = lines(&["-v", "coverage", "--map", "m.png"]);
    assert!(verbose.len() > normal.len(), "{verbose:?}");
    assert!(
        verbose
            .iter()
            .any(|l| l.contains("networks and") && l.contains("gaps read")),
        "{verbose:?}"
    );
    assert!(
        verbose.iter().any(|l| l.contains("dated 2026-11-27")),
        "{verbose:?}"
    );
    let verbose = lines(&["lookup", "-v", "1.1.1.1"]);
    assert!(
        verbose.iter().any(|l| l.contains("6 networks")),
        "{verbose:?}"
    );
    assert!(lines(&["lookup", "1.1.1.1"]).is_empty());
    // Errors are never silenced.
    let out = wd.run(&["-q", "lookup", "1.1.1.1", "--db", "missing.redb"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(!out.stderr.is_empty());
    let out = wd.run(&["-q", "-v", "stats"]);
    assert_eq!(out.status.code(), Some(2));
}

/// A pipe as (reading end, writing end), made from a FIFO with std alone
/// (`std::io::pipe` is newer than the workspace's rust-version).
fn fifo_pipe(wd: &Workdir) -> (std::fs::File, std::fs::File) {
    use std::os::unix::fs::OpenOptionsExt as _;
    /// Linux's O_NONBLOCK: open the reading end without waiting for a writer.
    const O_NONBLOCK: i32 = 0o4000;
    let path = wd.path("stdout.fifo");
    let _ = std::fs::remove_file(&path);
    let st = Command::new("mkfifo").arg(&path).status().expect("mkfifo");
    assert!(st.success(), "mkfifo {}", path.display());
    let reader = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(O_NONBLOCK)
        .open(&path)
        .unwrap();
    let writer = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    (reader, writer)
}

/// Runs `args` with stdout a pipe: `early` closes the reading end before the
/// command starts (its first write fails with EPIPE), otherwise one line is
/// read and the pipe closed (`| head -1`). Returns (exit code, stderr).
fn closed_pipe(wd: &Workdir, args: &[&str], early: bool) -> (Option<i32>, String) {
    let (reader, writer) = fifo_pipe(wd);
    let mut cmd = wd.cmd(args);
    cmd.stdin(Stdio::null())
        .stdout(writer)
        .stderr(Stdio::piped());
    if early {
        drop(reader);
        let out = cmd.output().unwrap();
        return (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        );
    }
    let child = cmd.spawn().unwrap();
    // The parent's copy of the writer went into `cmd`: drop it so EOF can come.
    drop(cmd);
    // Back to blocking reads: wait for the first line (or EOF).
    let mut rd = std::io::BufReader::new(reader);
    let mut line = Vec::new();
    let start = std::time::Instant::now();
    loop {
        let mut byte = [0u8; 1];
        match std::io::Read::read(&mut rd, &mut byte) {
            Ok(0) => break,
            Ok(_) if byte[0] == b'\n' => break,
            Ok(_) => line.push(byte[0]),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                assert!(
                    start.elapsed() < std::time::Duration::from_secs(60),
                    "no output"
                );
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
            Err(e) => panic!("reading the pipe: {e}"),
        }
    }
    drop(rd);
    let out = child.wait_with_output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn every_command_exits_0_quietly_on_a_closed_stdout() {
    let wd = Workdir::new("pipes");
    build_db(&wd.db());
    let commands: [&[&str]; 8] = [
        &["stats"],
        &["stats", "--json"],
        &["coverage"],
        &["coverage", "--json"],
        &["lookup", "1.1.1.1", "10.0.0.1", "2.2.2.2", "8.8.8.8"],
        &["export"],
        &["completions", "bash"],
        &["man"],
    ];
    for args in commands {
        for early in [true, false] {
            for run in 0..20 {
                let (code, err) = closed_pipe(&wd, args, early);
                assert_eq!(
                    (code, err.as_str()),
                    (Some(0), ""),
                    "ipcrawl {args:?} (reader closed {}), run {run}",
                    if early {
                        "before the start"
                    } else {
                        "after one line"
                    }
                );
            }
        }
    }
}
