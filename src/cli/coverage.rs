//! `ipcrawl coverage`: how much of the non-reserved space is covered, and
//! optionally the Hilbert map of it (`--map FILE.png`). On a DB a running
//! crawl holds, the crawl's live snapshot instead ([`live`]).

use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use ipcrawl::coverage::{self, Coverage};
use ipcrawl::map;
use ipcrawl::store::{self, Store};

use super::{live, Globals};

/// Coverage options.
#[derive(clap::Args, Debug)]
#[command(after_long_help = live::HELP)]
pub struct Args {
    /// Print one JSON object instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Also draw the IPv4 space as a Hilbert-curve PNG (xkcd layout), with
    /// a title, the /8 grid and labels, and a legend: registries, 404s,
    /// placeholders, not crawled, reserved.
    #[arg(long, value_name = "FILE.png")]
    pub map: Option<PathBuf>,
    /// Data resolution of the map: one cell per /16 (256 x 256 cells) or
    /// per /24 (4096 x 4096).
    #[arg(long, value_name = "LEN", default_value_t = 16, value_parser = parse_pixel)]
    pub map_pixel: u8,
    /// Side of the map's square in pixels (a multiple of 16, 256 to 4096);
    /// the title and legend add a margin.
    #[arg(long, value_name = "PX", default_value_t = 1024, value_parser = parse_size)]
    pub map_size: u32,
}

fn parse_pixel(s: &str) -> Result<u8, String> {
    match s {
        "16" => Ok(16),
        "24" => Ok(24),
        _ => Err(format!(
            "{s:?} is not 16 or 24 (one cell per /16 or per /24)"
        )),
    }
}

fn parse_size(s: &str) -> Result<u32, String> {
    let (lo, hi) = map::SIZE_RANGE;
    match s.parse::<u32>() {
        Ok(n) if (lo..=hi).contains(&n) && n % 16 == 0 => Ok(n),
        _ => Err(format!(
            "{s:?} is not a map size (expected pixels, a multiple of 16 from {lo} to {hi}, e.g. 1024)"
        )),
    }
}

/// Runs the command.
pub fn run(args: Args, g: &Globals) -> anyhow::Result<ExitCode> {
    if let Some(path) = &args.map {
        refuse_db_as_output(path, &g.db)?;
    }
    let store = match Store::open_read(&g.db) {
        Ok(s) => s,
        Err(store::Error::InUse(_)) => return held(&args, g),
        Err(e) => return Err(e.into()),
    };
    let c = coverage::report(&store)?;
    if let Some(path) = &args.map {
        write_map(&store, &c, path, &args, g)?;
    }
    let mut out = io::BufWriter::new(io::stdout().lock());
    if args.json {
        writeln!(out, "{}", serde_json::to_string(&c)?)?;
    } else {
        write_table(&mut out, &c)?;
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// `coverage` on a DB a crawl holds: its live snapshot ([`live`]); no map
/// (it needs the DB).
fn held(args: &Args, g: &Globals) -> anyhow::Result<ExitCode> {
    let (path, seen) = live::held(&g.db)?;
    if let Some(m) = &args.map {
        anyhow::bail!(
            "--map {}: the map needs the DB itself, which a crawl holds (its live snapshot, {}, has no map): run it once the crawl ends",
            m.display(),
            path.display()
        );
    }
    let c = &seen.doc["coverage"];
    let mut out = io::BufWriter::new(io::stdout().lock());
    if args.json {
        writeln!(out, "{}", live::json(c, &path, &seen))?;
    } else {
        for l in live::header(&g.db, &path, &seen) {
            writeln!(out, "{l}")?;
        }
        writeln!(out)?;
        writeln!(
            out,
            "covered     {} addresses of the non-reserved {} ({}%)",
            live::text(&c["addresses"]),
            live::text(&c["non_reserved"]),
            live::text(&c["percent"])
        )?;
        writeln!(
            out,
            "networks    {} stored, {} placeholders (never counted); per registry: once the crawl ends",
            live::text(&c["networks"]),
            live::text(&c["placeholders"])
        )?;
        for l in live::progress_lines(&seen.doc) {
            writeln!(out, "{l}")?;
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn write_table(out: &mut impl io::Write, c: &Coverage) -> io::Result<()> {
    let dumps = c.by_registry.values().any(|r| r.dump.is_some());
    write!(
        out,
        "{:<10} {:>10} {:>15} {:>9}",
        "registry", "networks", "addresses", "percent"
    )?;
    if dumps {
        write!(out, "  {:>15}  dump of", "from its dump")?;
    }
    writeln!(out)?;
    for (name, r) in &c.by_registry {
        write!(
            out,
            "{name:<10} {:>10} {:>15} {:>8.4}%",
            r.networks, r.addresses, r.percent
        )?;
        if let Some(d) = &r.dump {
            write!(
                out,
                "  {:>15}  {}",
                d.addresses,
                d.date.get(..10).unwrap_or(&d.date)
            )?;
        }
        writeln!(out)?;
    }
    writeln!(
        out,
        "{:<10} {:>10} {:>15} {:>8.4}%",
        "total", c.networks, c.addresses, c.percent
    )?;
    writeln!(out)?;
    writeln!(out, "distinct CIDRs          {}", c.cidrs)?;
    writeln!(out, "non-reserved addresses  {}", c.non_reserved)?;
    writeln!(
        out,
        "placeholders stored     {} (never counted)",
        c.placeholders
    )?;
    writeln!(out, "probed, no network      {} addresses", c.gap_addresses)?;
    writeln!(out, "failed lookups          {}", c.failures)
}

/// `--map X` with X the DB itself would replace the DB with a picture.
fn refuse_db_as_output(map: &Path, db: &Path) -> anyhow::Result<()> {
    if map.is_dir() {
        anyhow::bail!(
            "--map {}: is a directory (expected a file name such as coverage.png)",
            map.display()
        );
    }
    if same_file(map, db) {
        anyhow::bail!(
            "--map {} is the database itself (--db {}): choose another file name, e.g. coverage.png",
            map.display(),
            db.display()
        );
    }
    Ok(())
}

/// Whether two paths name one file (same inode: through links, `./`, `..`).
fn same_file(a: &Path, b: &Path) -> bool {
    ipcrawl::outfile::same_file(a, b)
}

/// The DB's date for the title: the newest answer's `fetched_at`, else the
/// file's modification time.
fn db_date(store: &Store, db: &Path) -> anyhow::Result<(String, &'static str)> {
    let mut newest: Option<String> = None;
    store
        .for_each_record(true, |r| {
            if let Some(d) = map::newest_date([r.fetched_at.as_str()]) {
                if newest.as_ref().is_none_or(|n| d > *n) {
                    newest = Some(d);
                }
            }
            Ok(())
        })
        .map_err(|e| anyhow::anyhow!("{e}"))
        .context("reading the answers' dates")?;
    if let Some(d) = newest {
        return Ok((d, "NEWEST ANSWER"));
    }
    let mtime = std::fs::metadata(db)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_secs());
    Ok((ipcrawl::time::rfc3339(mtime)[..10].to_string(), "FILE DATE"))
}

fn write_map(
    store: &Store,
    c: &Coverage,
    path: &Path,
    args: &Args,
    g: &Globals,
) -> anyhow::Result<()> {
    let bits = args.map_pixel;
    let keys = store.network_keys()?;
    let gaps = store.gaps()?;
    g.detail(format_args!(
        "map: {} networks and {} gaps read; classifying {} cells (one per /{bits})",
        keys.len(),
        gaps.len(),
        1u64 << bits
    ));
    let classes = map::classify(&keys, &gaps, bits);
    let (date, source) = db_date(store, &g.db)?;
    g.detail(format_args!(
        "map: dated {date} ({})",
        source.to_lowercase()
    ));
    let caption = map::caption(c.percent, c.addresses, &date, source, bits);
    let img = map::render(&classes, bits, args.map_size, &caption);
    let mut png = Vec::new();
    img.write_png(&mut png)
        .with_context(|| format!("--map {}: cannot encode the PNG", path.display()))?;
    write_atomically(path, &png)?;
    g.info(format_args!(
        "map written to {} ({} x {} px, one cell per /{bits}, dated {date})",
        path.display(),
        img.width,
        img.height
    ));
    Ok(())
}

/// Writes `bytes` to a temporary file beside `path`, syncs it and renames
/// it over `path`: a reader never sees half a picture, a failure leaves any
/// earlier file untouched, and a killed run's temporary is removed by the
/// next (see `ipcrawl::outfile`).
fn write_atomically(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    ipcrawl::outfile::write_whole(path, bytes)
        .with_context(|| format!("--map {}: cannot write", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn map_sizes_are_multiples_of_16_in_range() {
        assert_eq!(parse_size("1024"), Ok(1024));
        assert_eq!(parse_size("256"), Ok(256));
        assert_eq!(parse_size("4096"), Ok(4096));
        for bad in ["1000", "128", "8192", "-16", "big", ""] {
            let e = parse_size(bad).unwrap_err();
            assert!(
                e.contains(&format!("{bad:?}")) && e.contains("multiple of 16"),
                "{e}"
            );
        }
    }

    #[test]
    fn the_same_file_is_recognised_through_other_spellings() {
        let dir = std::env::temp_dir().join(format!("ipcrawl-cov-same-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        let db = dir.join("x.redb");
        std::fs::write(&db, b"db").unwrap();
        assert!(same_file(&db, &db));
        assert!(same_file(&dir.join("sub/../x.redb"), &db));
        assert!(!same_file(&dir.join("x.png"), &db));
        assert!(!same_file(&dir.join("nodir/x.redb"), &db));
        #[cfg(unix)]
        {
            let link = dir.join("link.redb");
            let _ = std::fs::remove_file(&link);
            std::os::unix::fs::symlink(&db, &link).unwrap();
            assert!(same_file(&link, &db));
        }
        assert!(refuse_db_as_output(&dir, &db).is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn an_atomic_write_replaces_whole_and_leaves_no_temporary() {
        let dir = std::env::temp_dir().join(format!("ipcrawl-cov-atomic-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("m.png");
        write_atomically(&p, b"first").unwrap();
        write_atomically(&p, b"second").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"second");
        let names: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, [std::ffi::OsString::from("m.png")]);
        assert!(write_atomically(&dir.join("missing/m.png"), b"x").is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
