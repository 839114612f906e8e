//! `ipcrawl export`: one record per stored network.

use std::io::{self, IsTerminal as _, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use ipcrawl::export::{Format, Options, Target, Writer};
use ipcrawl::outfile::{self, OutFile};
use ipcrawl::store::Store;

use super::Globals;

/// Output formats.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum FormatArg {
    /// JSON Lines: one object per line.
    Jsonl,
    /// CSV with a header line; lists are JSON arrays in one field.
    Csv,
    /// Apache Parquet: typed columns, lists as lists, UTC timestamps.
    Parquet,
}

impl From<FormatArg> for Format {
    fn from(f: FormatArg) -> Format {
        match f {
            FormatArg::Jsonl => Format::Jsonl,
            FormatArg::Csv => Format::Csv,
            FormatArg::Parquet => Format::Parquet,
        }
    }
}

const AFTER_HELP: &str = "\
Fields, in every format and in this order (absent values are null; CSV: empty):
  handle               the registry's handle                                string
  start, end           first and last address, dotted quads                 string
  cidrs                exact CIDR decomposition of start..end               list of string
  start_int, end_int   start and end as integers (for range joins)          uint32
  name, type, country  the network's own values (ARIN has no country)       string
  registry             arin, ripe, apnic, lacnic or afrinic (who answered)  string
  parent_handle        parentHandle as sent                                 string
  status               status values, lower case                            list of string
  entities             contacts: {handle, roles (list), name, email}        list of struct
  registration         registration date, UTC                               timestamp
  last_changed         last-changed date, UTC                               timestamp
  queried              the address whose lookup returned it (null: import)  string
  source_url           the URL that answered (dump:FILE for imports)        string
  fetched_at           when it was fetched, UTC                             timestamp
  placeholder          true only for placeholders (--placeholders)          bool
  valid_from           with --history: the version's fetched_at, UTC        timestamp
  valid_until          with --history: when it was replaced or found gone   timestamp
  raw                  with --raw: the stored answer (see below)            JSON / string

Formats:
  jsonl    one JSON object per line; timestamps as \"YYYY-MM-DDTHH:MM:SSZ\".
  csv      RFC 4180 with a header; lists and entities as JSON arrays in one field;
           control characters (ESC, BEL, C1...) written as the text \\u001b.
  parquet  typed columns: start_int/end_int UINT32, timestamps TIMESTAMP(us, UTC),
           lists as LIST, entities as LIST<STRUCT>; Snappy; not to a terminal.
Dates are the registry's instant written in UTC; a value that is not a date is
null (and counted on stderr); the original text is in --raw.

-o FILE picks the format from its extension: .jsonl .json .ndjson, .csv,
.parquet; .gz after jsonl or csv gzips. --format must agree with a known
extension (a contradiction is refused); a name with no extension takes
--format, else JSON Lines. FILE is replaced whole or not at all (written
beside it, then renamed); it may not be the database.

--history writes the previous versions of networks instead of the current view:
each record a network had before a different one replaced it (a refresh, a
newer crawl or dump, a merge) or before it was found gone, with valid_from and
valid_until; a transferred block's old version keeps its old registry and
handle. History keeps parsed records only (no --raw).

--raw adds each network's stored answer: in JSON Lines a JSON answer is a JSON
value (a bulk-dump object a string), in CSV the same text in one field, in
Parquet the stored text exactly.

Load with no code:
  duckdb:  SELECT * FROM 'networks.parquet';  SELECT * FROM 'networks.jsonl';
  pandas:  pd.read_parquet('networks.parquet');  pd.read_json('networks.jsonl', lines=True)";

/// Export options.
#[derive(clap::Args, Debug)]
#[command(after_long_help = AFTER_HELP)]
pub struct Args {
    /// Output format [default: from -o's extension, else jsonl].
    #[arg(long, value_enum)]
    pub format: Option<FormatArg>,
    /// Write to FILE instead of stdout (format from the extension: .jsonl,
    /// .json, .csv, .parquet; .gz after jsonl/csv: gzip). Replaced whole or
    /// not at all.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Also export placeholder answers (flagged `placeholder: true`).
    #[arg(long)]
    pub placeholders: bool,
    /// Add a `raw` field: the RDAP answer stored for each network.
    #[arg(long)]
    pub raw: bool,
    /// Write the previous versions of networks (replaced or gone), with
    /// `valid_from` and `valid_until`, instead of the current view.
    #[arg(long, conflicts_with_all = ["raw", "placeholders"])]
    pub history: bool,
}

/// Runs the command.
pub fn run(args: Args, g: &Globals) -> anyhow::Result<ExitCode> {
    if let Some(p) = &args.output {
        refuse_db_as_output(p, &g.db)?;
    }
    let target = Target::of(args.format.map(Format::from), args.output.as_deref())
        .map_err(anyhow::Error::msg)?;
    if args.output.is_none() && target.format == Format::Parquet && io::stdout().is_terminal() {
        anyhow::bail!(
            "--format parquet is binary: give -o FILE.parquet or redirect stdout to a file"
        );
    }
    let store = Store::open_read(&g.db)?;
    let out = Output::open(args.output.as_deref(), target.gzip)?;
    let options = Options {
        raw: args.raw,
        history: args.history,
    };
    let dest = args
        .output
        .as_ref()
        .map_or_else(|| "stdout".to_string(), |p| p.display().to_string());
    let mut w = Writer::with_options(out, target.format, options);
    let mut io_err: Option<io::Error> = None;
    let mut keep = |e: io::Error| -> Box<dyn std::error::Error> {
        let msg = e.to_string();
        io_err = Some(e);
        msg.into()
    };
    let scan = if args.history {
        store.for_each_version(|v| w.write_version(&v).map_err(&mut keep))
    } else if args.raw {
        store.for_each_record_with_raw(args.placeholders, |r, raw| {
            w.write_with_raw(&r, raw.as_deref()).map_err(&mut keep)
        })
    } else {
        store.for_each_record(args.placeholders, |r| w.write(&r).map_err(&mut keep))
    };
    scan.map_err(|e| match io_err.take() {
        Some(io) => anyhow::Error::new(io),
        None => anyhow::anyhow!("{e}"),
    })
    .with_context(|| format!("exporting to {dest}"))?;
    let (count, unreadable) = (w.count, w.dates_unreadable);
    let out = w.finish().with_context(|| format!("exporting to {dest}"))?;
    out.commit()
        .with_context(|| format!("cannot write {dest}"))?;
    if unreadable > 0 {
        g.info(format_args!(
            "{unreadable} dates were not date-times and were exported as null (export --raw has the registries' text)"
        ));
    }
    if let Some(p) = &args.output {
        g.info(format_args!(
            "{count} {} written to {} ({}{})",
            if args.history {
                "previous versions"
            } else {
                "records"
            },
            p.display(),
            target.format.title(),
            if target.gzip { ", gzip" } else { "" }
        ));
    }
    Ok(ExitCode::SUCCESS)
}

/// `-o X` with X the database itself would destroy the database.
fn refuse_db_as_output(out: &Path, db: &Path) -> anyhow::Result<()> {
    if outfile::same_file(out, db) {
        anyhow::bail!(
            "-o {} is the database itself (--db {}): choose another file name, e.g. networks.jsonl",
            out.display(),
            db.display()
        );
    }
    Ok(())
}

/// Where the records go: stdout, or a file replaced whole on success.
enum Sink {
    Stdout(io::BufWriter<io::Stdout>),
    File(io::BufWriter<OutFile>),
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Sink::Stdout(w) => w.write(buf),
            Sink::File(w) => w.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Sink::Stdout(w) => w.flush(),
            Sink::File(w) => w.flush(),
        }
    }
}

impl Sink {
    fn commit(self) -> io::Result<()> {
        match self {
            Sink::Stdout(mut w) => w.flush(),
            Sink::File(w) => w
                .into_inner()
                .map_err(io::IntoInnerError::into_error)?
                .commit(),
        }
    }
}

/// The sink, gzip'd or not.
enum Output {
    Plain(Sink),
    Gz(Box<ipcrawl::gz::Writer<Sink>>),
}

impl Write for Output {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Output::Plain(w) => w.write(buf),
            Output::Gz(w) => w.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Output::Plain(w) => w.flush(),
            Output::Gz(w) => w.flush(),
        }
    }
}

impl Output {
    /// `-o FILE` (through a temporary beside it) or stdout.
    fn open(path: Option<&Path>, gzip: bool) -> anyhow::Result<Output> {
        let sink = match path {
            None => Sink::Stdout(io::BufWriter::with_capacity(1 << 16, io::stdout())),
            Some(p) => Sink::File(io::BufWriter::with_capacity(
                1 << 16,
                OutFile::create(p).with_context(|| format!("cannot write -o {}", p.display()))?,
            )),
        };
        Ok(if gzip {
            Output::Gz(Box::new(ipcrawl::gz::Writer::new(sink)))
        } else {
            Output::Plain(sink)
        })
    }

    /// Ends the gzip stream and puts the file in place.
    fn commit(self) -> io::Result<()> {
        match self {
            Output::Plain(s) => s.commit(),
            Output::Gz(w) => w.finish()?.commit(),
        }
    }
}
