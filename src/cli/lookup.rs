//! `ipcrawl lookup`: what the DB knows about each address, from the DB alone.
//!
//! Every answer has a `status`:
//!
//! | status | meaning | extra member |
//! |---|---|---|
//! | `network` | the most specific stored network holds it | `network`: the export record |
//! | `reserved` | special-purpose space (§2's 15 blocks): no registry has it | `reserved`: the block |
//! | `no_network` | probed: the registry answered 404 or a placeholder there | `gap`: the probed range |
//! | `failed` | its lookup failed for good (the next crawl retries it) | `failure` |
//! | `not_crawled` | nothing known yet | — |
//! | `error` | (`lookup -` only) the input line is not an address | `line`, `error` |
//!
//! `network` is always present (`null` unless the status is `network`), so
//! `{"query": ..., "network": ...}` readers keep working. `ipcrawl lookup -`
//! reads addresses from stdin, one per line (blank lines and `#` comments
//! skipped); a bad line becomes an `error` row in place (the other lines are
//! still answered) and the exit code is 1. `--table` prints an aligned table.

use std::io::{self, BufRead, Read as _, Write};
use std::net::Ipv4Addr;
use std::process::ExitCode;

use ipcrawl::export::text::{escape_controls, to_json_string};
use ipcrawl::export::Row;
use ipcrawl::prefix::{self, fmt_addr, Cidr, Range};
use ipcrawl::rdap::Registry;
use ipcrawl::store::{Failure, GapKind, Record, Store};
use ipcrawl::trie::LpmMap;
use serde_json::{json, Value};

use super::Globals;

/// Longest input line read from stdin; longer lines are an `error` row.
const MAX_LINE: usize = 4096;

/// Lookup options.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// IPv4 addresses (dotted quads), or `-` to read them from stdin, one
    /// per line (blank lines and `#` comments skipped).
    #[arg(value_name = "IP", required = true, value_parser = parse_query)]
    pub ips: Vec<Query>,
    /// Output format: one JSON object per address, or an aligned table.
    #[arg(long, value_enum, default_value_t = Format::Json)]
    pub format: Format,
    /// Same as `--format table`.
    #[arg(long, conflicts_with = "format")]
    pub table: bool,
}

/// One command-line operand.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Query {
    /// An address.
    Addr(Ipv4Addr),
    /// `-`: read addresses from stdin.
    Stdin,
}

fn parse_query(s: &str) -> Result<Query, String> {
    if s == "-" {
        return Ok(Query::Stdin);
    }
    s.parse::<Ipv4Addr>()
        .map(Query::Addr)
        .map_err(|_| format!("{s:?} is not an IPv4 address (expected a.b.c.d, or - for stdin)"))
}

/// Output formats.
#[derive(Copy, Clone, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// One JSON object per line.
    Json,
    /// An aligned, human-readable table.
    Table,
}

/// What the DB knows, indexed for lookups; `R` is a network (a stored
/// [`Record`] in the command, anything in tests).
pub struct Index<R> {
    records: Vec<R>,
    networks: LpmMap<usize>,
    gaps: Vec<(Range, GapKind, Registry)>,
    gap_map: LpmMap<usize>,
    failures: Vec<Failure>,
    failure_map: LpmMap<usize>,
}

impl<R> Index<R> {
    /// Builds the lookup structures.
    pub fn new(
        networks: Vec<(Range, R)>,
        gaps: Vec<(Range, GapKind, Registry)>,
        failures: Vec<Failure>,
    ) -> Index<R> {
        let enumerate = |rs: Vec<Range>| rs.into_iter().enumerate().map(|(i, r)| (r, i)).collect();
        let (ranges, records): (Vec<Range>, Vec<R>) = networks.into_iter().unzip();
        let networks = LpmMap::new(enumerate(ranges));
        let gap_map = LpmMap::new(enumerate(gaps.iter().map(|g| g.0).collect()));
        let failure_map = LpmMap::new(enumerate(
            failures
                .iter()
                .map(|f| Range {
                    start: f.addr,
                    end: f.end.max(f.addr),
                })
                .collect(),
        ));
        Index {
            records,
            networks,
            gaps,
            gap_map,
            failures,
            failure_map,
        }
    }

    /// What is known about `addr`.
    pub fn answer(&self, addr: u32) -> Answer<'_, R> {
        if let Some(block) = prefix::RESERVED.iter().find(|c| c.contains(addr)) {
            return Answer::Reserved(*block);
        }
        if let Some(&i) = self.networks.lookup(addr) {
            return Answer::Network(&self.records[i]);
        }
        if let Some(&i) = self.gap_map.lookup(addr) {
            let (range, kind, registry) = self.gaps[i];
            return Answer::NoNetwork(range, kind, registry);
        }
        if let Some(&i) = self.failure_map.lookup(addr) {
            return Answer::Failed(&self.failures[i]);
        }
        Answer::NotCrawled
    }
}

/// The answer for one address.
#[derive(Debug, PartialEq)]
pub enum Answer<'a, R> {
    /// The most specific stored network.
    Network(&'a R),
    /// Reserved space, in this block.
    Reserved(Cidr),
    /// Probed: 404 or a placeholder over this range.
    NoNetwork(Range, GapKind, Registry),
    /// The lookup failed for good.
    Failed(&'a Failure),
    /// Nothing known.
    NotCrawled,
}

impl<R> Answer<'_, R> {
    /// The `status` word.
    pub fn status(&self) -> &'static str {
        match self {
            Answer::Network(_) => "network",
            Answer::Reserved(_) => "reserved",
            Answer::NoNetwork(..) => "no_network",
            Answer::Failed(_) => "failed",
            Answer::NotCrawled => "not_crawled",
        }
    }
}

impl Answer<'_, Record> {
    /// The JSON line.
    pub fn to_json(&self, query: &str) -> Value {
        let mut v = json!({ "query": query, "status": self.status(), "network": null });
        let o = v.as_object_mut().expect("a JSON object");
        match self {
            Answer::Network(r) => {
                o.insert("network".into(), json!(Row::of(r)));
            }
            Answer::Reserved(c) => {
                o.insert("reserved".into(), json!(c.to_string()));
            }
            Answer::NoNetwork(range, kind, reg) => {
                o.insert(
                    "gap".into(),
                    json!({
                        "start": fmt_addr(range.start),
                        "end": fmt_addr(range.end),
                        "registry": reg.name(),
                        "answer": gap_word(*kind),
                    }),
                );
            }
            Answer::Failed(f) => {
                o.insert(
                    "failure".into(),
                    json!({
                        "registry": f.registry.name(),
                        "reason": f.reason,
                        "attempts": f.attempts,
                        "at": f.at,
                    }),
                );
            }
            Answer::NotCrawled => {}
        }
        v
    }

    /// The table cells after address and status: handle, range, name,
    /// country, registry.
    fn cells(&self) -> [String; 5] {
        let dash = || "-".to_string();
        let opt = |s: Option<&str>| s.map_or_else(dash, ToString::to_string);
        match self {
            Answer::Network(r) => {
                let n = &r.network;
                [
                    n.handle.clone(),
                    range_text(n.range),
                    opt(n.name.as_deref()),
                    opt(n.country.as_deref()),
                    r.registry.name().to_string(),
                ]
            }
            Answer::Reserved(c) => [dash(), c.to_string(), "(reserved)".into(), dash(), dash()],
            Answer::NoNetwork(range, kind, reg) => [
                dash(),
                range_text(*range),
                format!("({})", gap_word(*kind)),
                dash(),
                reg.name().to_string(),
            ],
            Answer::Failed(f) => [
                dash(),
                dash(),
                format!("(failed: {})", f.reason),
                dash(),
                f.registry.name().to_string(),
            ],
            Answer::NotCrawled => [dash(), dash(), dash(), dash(), dash()],
        }
    }
}

fn gap_word(kind: GapKind) -> &'static str {
    match kind {
        GapKind::NotFound => "not_found",
        GapKind::Placeholder => "placeholder",
    }
}

fn range_text(r: Range) -> String {
    match r.as_cidr() {
        Some(c) => c.to_string(),
        None => format!("{} - {}", fmt_addr(r.start), fmt_addr(r.end)),
    }
}

/// One input line: an address or why it is not one.
#[derive(Debug, PartialEq, Eq)]
pub enum Line {
    /// An address to look up.
    Addr(Ipv4Addr),
    /// Blank or a comment.
    Skip,
    /// Not an address: the (trimmed, lossy) text and the reason.
    Bad(String, String),
}

/// Reads one stdin line (`# comment` and surrounding blanks removed).
pub fn parse_line(raw: &[u8]) -> Line {
    if raw.len() > MAX_LINE {
        let head = String::from_utf8_lossy(&raw[..64]).into_owned();
        return Line::Bad(
            format!("{head}..."),
            format!("line longer than {MAX_LINE} bytes (expected one address per line)"),
        );
    }
    let text = String::from_utf8_lossy(raw);
    let text = text.split('#').next().unwrap_or_default().trim();
    if text.is_empty() {
        return Line::Skip;
    }
    match text.parse::<Ipv4Addr>() {
        Ok(a) => Line::Addr(a),
        Err(_) => Line::Bad(
            text.to_string(),
            format!("{text:?} is not an IPv4 address (expected a.b.c.d)"),
        ),
    }
}

/// Reads the next line (without its end), at most `MAX_LINE + 1` bytes of
/// it; the rest of a longer line is consumed and dropped. `None` at the end.
fn next_line(input: &mut impl BufRead) -> io::Result<Option<Vec<u8>>> {
    let mut buf = Vec::new();
    let n = input
        .by_ref()
        .take(MAX_LINE as u64 + 1)
        .read_until(b'\n', &mut buf)?;
    if n == 0 {
        return Ok(None);
    }
    if buf.last() == Some(&b'\n') {
        buf.pop();
        if buf.last() == Some(&b'\r') {
            buf.pop();
        }
    } else if buf.len() > MAX_LINE {
        // Drain the rest of the overlong line.
        let mut sink = Vec::new();
        loop {
            sink.clear();
            let m = input.by_ref().take(1 << 16).read_until(b'\n', &mut sink)?;
            if m == 0 || sink.last() == Some(&b'\n') {
                break;
            }
        }
    }
    Ok(Some(buf))
}

/// Where the answers go: JSON lines streamed, or table rows held for alignment.
struct Sink<'a, W: Write> {
    out: W,
    format: Format,
    rows: Vec<[String; 7]>,
    index: &'a Index<Record>,
    bad: u64,
}

impl<W: Write> Sink<'_, W> {
    fn addr(&mut self, ip: Ipv4Addr) -> io::Result<()> {
        let a = self.index.answer(u32::from(ip));
        let q = ip.to_string();
        match self.format {
            Format::Json => writeln!(self.out, "{}", to_json_string(&a.to_json(&q))?),
            Format::Table => {
                let [h, r, n, c, g] = a.cells();
                self.rows.push([q, a.status().to_string(), h, r, n, c, g]);
                Ok(())
            }
        }
    }

    fn bad(&mut self, line: u64, text: String, why: String) -> io::Result<()> {
        self.bad += 1;
        match self.format {
            Format::Json => {
                let v = json!({
                    "query": text, "status": "error", "network": null,
                    "line": line, "error": format!("stdin line {line}: {why}"),
                });
                writeln!(self.out, "{}", to_json_string(&v)?)
            }
            Format::Table => {
                let dash = || "-".to_string();
                self.rows.push([
                    text,
                    "error".into(),
                    dash(),
                    dash(),
                    format!("(line {line}: not an address)"),
                    dash(),
                    dash(),
                ]);
                Ok(())
            }
        }
    }

    fn finish(mut self) -> io::Result<u64> {
        if self.format == Format::Table {
            let header = [
                "address", "status", "handle", "range", "name", "country", "registry",
            ]
            .map(String::from);
            write_table(&mut self.out, &header, &self.rows)?;
        }
        self.out.flush()?;
        Ok(self.bad)
    }
}

/// Writes `rows` under `header`, every column padded to its widest cell
/// (the last column unpadded).
pub fn write_table(
    out: &mut impl Write,
    header: &[String; 7],
    rows: &[[String; 7]],
) -> io::Result<()> {
    // A server's name (or a stdin line) may hold ESC and other controls:
    // shown as `\u001b` text, never sent to the terminal raw.
    let rows: Vec<[String; 7]> = rows
        .iter()
        .map(|r| r.clone().map(|c| escape_controls(&c).into_owned()))
        .collect();
    let rows = &rows[..];
    let mut width = header.clone().map(|h| h.chars().count());
    for r in rows {
        for (w, c) in width.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    for r in std::iter::once(header).chain(rows) {
        let mut line = String::new();
        for (i, (c, w)) in r.iter().zip(width).enumerate() {
            if i + 1 == r.len() {
                line.push_str(c);
            } else {
                line.push_str(c);
                line.extend(std::iter::repeat_n(' ', w - c.chars().count() + 2));
            }
        }
        writeln!(out, "{}", line.trim_end())?;
    }
    Ok(())
}

/// Runs the command: one answer per address, in order.
pub fn run(args: Args, g: &Globals) -> anyhow::Result<ExitCode> {
    let store = Store::open_read(&g.db)?;
    let records = store.records(false)?;
    let index = Index::new(
        records.into_iter().map(|r| (r.network.range, r)).collect(),
        store.gaps()?,
        store.failures()?,
    );
    g.detail(format_args!(
        "lookup: {} networks, {} probed gaps, {} standing failures read from {}",
        index.records.len(),
        index.gaps.len(),
        index.failures.len(),
        g.db.display()
    ));
    let format = if args.table {
        Format::Table
    } else {
        args.format
    };
    let mut sink = Sink {
        out: io::BufWriter::new(io::stdout().lock()),
        format,
        rows: Vec::new(),
        index: &index,
        bad: 0,
    };
    let mut stdin_read = false;
    for q in args.ips {
        match q {
            Query::Addr(ip) => sink.addr(ip)?,
            Query::Stdin if stdin_read => {}
            Query::Stdin => {
                stdin_read = true;
                let mut input = io::stdin().lock();
                let mut n = 0u64;
                while let Some(raw) = next_line(&mut input)? {
                    n += 1;
                    match parse_line(&raw) {
                        Line::Addr(ip) => sink.addr(ip)?,
                        Line::Skip => {}
                        Line::Bad(text, why) => sink.bad(n, text, why)?,
                    }
                    if format == Format::Json {
                        // Answer as lines arrive (`tail -f log | ipcrawl lookup -`).
                        sink.out.flush()?;
                    }
                }
            }
        }
    }
    let bad = sink.finish()?;
    if bad > 0 {
        g.info(format_args!(
            "lookup: {bad} input line(s) were not addresses (see the \"error\" rows); exit code 1"
        ));
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(a: &str, b: &str) -> Range {
        Range::new(
            prefix::parse_addr_lenient(a).unwrap(),
            prefix::parse_addr_lenient(b).unwrap(),
        )
        .unwrap()
    }

    fn a(s: &str) -> u32 {
        prefix::parse_addr_lenient(s).unwrap()
    }

    fn index() -> Index<&'static str> {
        Index::new(
            vec![
                (r("1.1.0.0", "1.1.255.255"), "BIG"),
                (r("1.1.1.0", "1.1.1.255"), "SMALL"),
            ],
            vec![(r("2.0.0.0", "2.0.0.255"), GapKind::NotFound, Registry::Ripe)],
            vec![Failure {
                addr: a("3.0.0.0"),
                end: a("3.0.0.255"),
                registry: Registry::Arin,
                reason: "HTTP 503".into(),
                attempts: 5,
                at: "2026-01-01T00:00:00Z".into(),
                permanent: false,
            }],
        )
    }

    #[test]
    fn each_status_is_distinct() {
        let ix = index();
        let status = |s: &str| ix.answer(a(s)).status();
        assert_eq!(status("1.1.1.1"), "network");
        match ix.answer(a("1.1.1.1")) {
            Answer::Network(handle) => assert_eq!(*handle, "SMALL"),
            other => panic!("{other:?}"),
        }
        assert_eq!(status("1.1.2.1"), "network");
        assert_eq!(status("10.1.2.3"), "reserved");
        assert_eq!(status("127.0.0.1"), "reserved");
        assert_eq!(status("224.0.0.1"), "reserved");
        assert_eq!(status("2.0.0.9"), "no_network");
        assert_eq!(status("3.0.0.9"), "failed");
        assert_eq!(status("4.0.0.1"), "not_crawled");
        assert_eq!(
            ix.answer(a("172.16.5.5")),
            Answer::Reserved("172.16.0.0/12".parse().unwrap())
        );
        assert_eq!(
            ix.answer(a("2.0.0.9")),
            Answer::NoNetwork(r("2.0.0.0", "2.0.0.255"), GapKind::NotFound, Registry::Ripe)
        );
    }

    #[test]
    fn stdin_lines_skip_blanks_and_comments_and_name_bad_values() {
        assert_eq!(
            parse_line(b"  8.8.8.8 \r"),
            Line::Addr(Ipv4Addr::new(8, 8, 8, 8))
        );
        assert_eq!(
            parse_line(b"8.8.4.4 # resolver"),
            Line::Addr(Ipv4Addr::new(8, 8, 4, 4))
        );
        assert_eq!(parse_line(b""), Line::Skip);
        assert_eq!(parse_line(b"   "), Line::Skip);
        assert_eq!(parse_line(b"# a comment"), Line::Skip);
        match parse_line(b"1.2.3") {
            Line::Bad(t, why) => {
                assert_eq!(t, "1.2.3");
                assert!(
                    why.contains("\"1.2.3\"") && why.contains("a.b.c.d"),
                    "{why}"
                );
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(parse_line(&[0xff, 0xfe]), Line::Bad(..)));
        assert!(matches!(
            parse_line(&vec![b'1'; MAX_LINE + 1]),
            Line::Bad(..)
        ));
    }

    #[test]
    fn overlong_lines_are_cut_and_the_next_line_still_read() {
        let mut input = Vec::new();
        input.extend(std::iter::repeat_n(b'9', 100_000));
        input.extend(b"\n1.2.3.4\nlast");
        let mut rd = io::BufReader::new(&input[..]);
        let first = next_line(&mut rd).unwrap().unwrap();
        assert_eq!(first.len(), MAX_LINE + 1);
        assert_eq!(next_line(&mut rd).unwrap().unwrap(), b"1.2.3.4");
        assert_eq!(next_line(&mut rd).unwrap().unwrap(), b"last");
        assert_eq!(next_line(&mut rd).unwrap(), None);
    }

    #[test]
    fn the_table_is_aligned() {
        let header = [
            "address", "status", "handle", "range", "name", "country", "registry",
        ]
        .map(String::from);
        let rows = vec![
            [
                "1.1.1.1",
                "network",
                "SMALL",
                "1.1.1.0/24",
                "-",
                "AU",
                "apnic",
            ]
            .map(String::from),
            [
                "10.0.0.1",
                "reserved",
                "-",
                "10.0.0.0/8",
                "(reserved)",
                "-",
                "-",
            ]
            .map(String::from),
        ];
        let mut out = Vec::new();
        write_table(&mut out, &header, &rows).unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3);
        let col = |l: &str, w: &str| l.find(w).unwrap();
        assert_eq!(col(lines[0], "status"), col(lines[1], "network"));
        assert_eq!(col(lines[0], "status"), col(lines[2], "reserved"));
        assert_eq!(col(lines[0], "registry"), col(lines[1], "apnic"));
    }
}
