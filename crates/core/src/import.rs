//! `ipcrawl import`: registry bulk dumps ([`crate::dump`]) into the store,
//! so that a crawl asks nothing the dumps answered.
//!
//! **Steps.** Every file is scanned first ([`dump::Index::scan`], two files
//! at a time, largest first, each into its own index, united in file
//! order); a file that cannot be read to its end (a truncated gzip, binary
//! data) stops the import before anything is written. Then the files
//! holding inetnums are read again (on a reader thread, while the writer
//! stores the previous batch) and their networks are stored in batches of
//! [`ImportConfig::batch`], one commit each (the store packs a large
//! batch's values on two threads); last, per registry, one
//! transaction ([`Store::finish_dump`]) replaces the space its dump covers,
//! removes what an older dump of it said that this one no longer says, and
//! writes the notes `stats` reports (`meta` `dump.<registry>`,
//! `import.files`).
//!
//! **Dates.** A file's date is its header timestamp, else
//! [`ImportConfig::dump_date`], else the file's mtime; every network of the
//! file gets it as `fetched_at`, and `source_url` is `dump:FILENAME`. A
//! registry's dump date is the latest of its inetnum files'. A dump older
//! than the one stored for its registry is refused (its networks are
//! counted, not written); one of the same date is imported again, which
//! changes nothing; a newer one replaces the older one's view.
//!
//! **Reconciled with RDAP.** A network is stored once per (range,
//! registry): an RDAP answer of it fetched after the dump's date is kept
//! (counted as `kept_rdap`), an older one is replaced by the dump's record.
//!
//! **Stops and crashes.** The quit flag is read between batches and while
//! scanning; a stopped or killed import leaves valid records of the dump and
//! no notes, and running it again gives the same result as one run.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::crawl::layout::FreshDump;
use crate::dump::{self, DumpError, DumpNetwork, DumpSummary};
use crate::prefix::Range;
use crate::rdap::Registry;
use crate::store::{self, DumpFinish, Record, Store, Write};
use crate::trie::IntervalSet;

/// The `meta` key of the per-file notes (a JSON object by file name).
pub const FILES_NOTE: &str = "import.files";

/// The `meta` key of a registry's dump note ([`DumpNote`]).
pub fn dump_note_key(r: Registry) -> String {
    format!("dump.{}", r.name())
}

/// How to import.
#[derive(Clone, Debug)]
pub struct ImportConfig {
    /// The date (`YYYY-MM-DDTHH:MM:SSZ`) of files whose header has none,
    /// instead of their mtime (`--dump-date`).
    pub dump_date: Option<String>,
    /// Networks per commit.
    pub batch: usize,
}

impl Default for ImportConfig {
    fn default() -> ImportConfig {
        ImportConfig {
            dump_date: None,
            batch: 20_000,
        }
    }
}

/// Which pass an [`ImportProgress`] is from.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Reading every file once for the index.
    Scan,
    /// Reading the inetnum files again and storing their networks.
    Store,
}

/// Where an import is (both passes count bytes of the files as given).
#[derive(Clone, Debug)]
pub struct ImportProgress {
    /// The pass.
    pub phase: Phase,
    /// The file being read.
    pub file: String,
    /// Bytes read so far, both passes.
    pub bytes: u64,
    /// Bytes both passes read in all.
    pub total_bytes: u64,
    /// Networks and placeholders stored so far.
    pub stored: u64,
    /// Since the start.
    pub elapsed: Duration,
}

/// Where a file's date came from.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DateSource {
    /// The file's header comment.
    Header,
    /// `--dump-date`.
    Flag,
    /// The file's modification time.
    Mtime,
}

/// One file's note (in `meta` `import.files`, and in the report).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileNote {
    /// The file name (`source_url` is `dump:` and this).
    pub file: String,
    /// The date its networks carry.
    pub date: String,
    /// Where that date came from.
    pub date_from: DateSource,
    /// Objects per class, skipped ones included.
    pub objects: BTreeMap<String, u64>,
    /// Skipped objects per reason (`bad_range`, `inverted`, ...).
    pub skipped: BTreeMap<String, u64>,
    /// Accepted inetnums per registry.
    pub inetnums: BTreeMap<String, u64>,
    /// Lines read.
    pub lines: u64,
    /// When it was imported.
    pub imported_at: String,
}

/// A registry's dump note (`meta` `dump.<registry>`): what `stats` says of it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DumpNote {
    /// The dump's date (its inetnum files' latest).
    pub date: String,
    /// Its inetnum files.
    pub files: Vec<String>,
    /// Networks stored from it (placeholders not included).
    pub networks: u64,
    /// Placeholders stored from it.
    pub placeholders: u64,
    /// Networks whose stored RDAP answer is newer than the dump and was kept.
    pub kept_rdap: u64,
    /// Records of an older dump that this one no longer has, removed.
    pub removed: u64,
    /// When it was imported.
    pub imported_at: String,
}

/// What one registry's part of an import did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegistryImport {
    /// The registry.
    pub registry: Registry,
    /// What is stored of it now (its note), `None` if refused.
    pub note: Option<DumpNote>,
    /// The stored dump's date when this one is older and was refused.
    pub refused_older_than: Option<String>,
    /// Inetnums of it in the files.
    pub inetnums: u64,
}

/// What an import did.
#[derive(Clone, Debug, Default)]
pub struct ImportReport {
    /// Per file, in the order given.
    pub files: Vec<FileNote>,
    /// Per registry whose inetnums the files held.
    pub registries: Vec<RegistryImport>,
    /// The quit flag stopped it (nothing was noted; run it again).
    pub stopped: bool,
}

/// Why an import ended without finishing.
#[derive(Debug)]
pub enum ImportError {
    /// A file could not be opened or its metadata read.
    Open(PathBuf, io::Error),
    /// A file could not be read to its end (see [`DumpError`]).
    Dump(DumpError),
    /// The store failed.
    Store(store::Error),
    /// Two files of the same name (their networks' `source_url` would clash).
    SameName(String),
}

impl fmt::Display for ImportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ImportError::Open(p, e) => write!(f, "cannot read {}: {e}", p.display()),
            ImportError::Dump(e) => write!(f, "{e}; nothing of this import's notes was written"),
            ImportError::Store(e) => write!(f, "{e}"),
            ImportError::SameName(n) => write!(
                f,
                "two files named {n}: expected each dump file once (networks are stored with source dump:{n})"
            ),
        }
    }
}

impl std::error::Error for ImportError {}

impl From<store::Error> for ImportError {
    fn from(e: store::Error) -> ImportError {
        ImportError::Store(e)
    }
}

/// Normalises a `--dump-date` value (`YYYY-MM-DD` or
/// `YYYY-MM-DDTHH:MM:SSZ`) to `YYYY-MM-DDTHH:MM:SSZ`.
pub fn parse_dump_date(s: &str) -> Result<String, String> {
    let full = if s.len() == 10 {
        format!("{s}T00:00:00Z")
    } else {
        s.to_string()
    };
    let b = full.as_bytes();
    let digits = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18];
    let shape = b.len() == 20
        && digits.iter().all(|&i| b[i].is_ascii_digit())
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
        && b[16] == b':'
        && b[19] == b'Z';
    let num = |r: std::ops::Range<usize>| full[r].parse::<u32>().unwrap_or(99);
    if !shape
        || !(1..=12).contains(&num(5..7))
        || !(1..=31).contains(&num(8..10))
        || num(11..13) > 23
        || num(14..16) > 59
        || num(17..19) > 60
    {
        return Err(format!(
            "invalid dump date {s:?}: expected YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ (UTC)"
        ));
    }
    Ok(full)
}

/// One file as given.
struct Input {
    path: PathBuf,
    name: String,
    size: u64,
    mtime: Option<String>,
}

fn inputs(paths: &[PathBuf]) -> Result<Vec<Input>, ImportError> {
    let mut out: Vec<Input> = Vec::new();
    for p in paths {
        let meta = std::fs::metadata(p).map_err(|e| ImportError::Open(p.clone(), e))?;
        if !meta.is_file() {
            let e = io::Error::new(io::ErrorKind::InvalidInput, "not a regular file");
            return Err(ImportError::Open(p.clone(), e));
        }
        let name = p.file_name().map_or_else(
            || p.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        if out.iter().any(|i| i.name == name) {
            return Err(ImportError::SameName(name));
        }
        let mtime = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| crate::time::rfc3339(d.as_secs()));
        out.push(Input {
            path: p.clone(),
            name,
            size: meta.len(),
            mtime,
        });
    }
    Ok(out)
}

/// Counts the bytes read, reports them, and ends the read when asked to stop.
struct Counted<'a, R> {
    inner: R,
    read: u64,
    since_report: u64,
    report: &'a mut dyn FnMut(u64) -> bool,
}

/// Bytes between two progress reports (and quit checks) while reading.
const REPORT_EVERY: u64 = 1 << 20;

impl<R: Read> Read for Counted<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        self.since_report += n as u64;
        if self.since_report >= REPORT_EVERY {
            self.since_report = 0;
            if !(self.report)(self.read) {
                return Err(io::Error::other("stopped"));
            }
        }
        Ok(n)
    }
}

/// The running import's state.
struct Run<'a> {
    store: &'a Store,
    cfg: &'a ImportConfig,
    quit: &'a AtomicBool,
    start: Instant,
    total_bytes: u64,
    bytes_before: u64,
    stored: u64,
    on_progress: &'a mut dyn FnMut(&ImportProgress),
}

impl Run<'_> {
    fn progress(&mut self, phase: Phase, file: &str, bytes_in_file: u64) -> bool {
        (self.on_progress)(&ImportProgress {
            phase,
            file: file.to_string(),
            bytes: self.bytes_before + bytes_in_file,
            total_bytes: self.total_bytes,
            stored: self.stored,
            elapsed: self.start.elapsed(),
        });
        !self.quit.load(Ordering::Relaxed)
    }
}

/// Opens a file for one pass.
fn open(i: &Input) -> Result<BufReader<File>, ImportError> {
    File::open(&i.path)
        .map(|f| BufReader::with_capacity(1 << 16, f))
        .map_err(|e| ImportError::Open(i.path.clone(), e))
}

/// Per registry, while storing.
#[derive(Default)]
struct Tally {
    networks: u64,
    placeholders: u64,
    kept_rdap: u64,
    space: Vec<Range>,
    files: Vec<String>,
    date: String,
    oldest: String,
}

/// Imports `paths` into `store`. `on_progress` is called about every MiB
/// read; `quit` stops the import between batches (the report says so).
pub fn run(
    store: &Store,
    paths: &[PathBuf],
    cfg: &ImportConfig,
    quit: &AtomicBool,
    on_progress: &mut dyn FnMut(&ImportProgress),
) -> Result<ImportReport, ImportError> {
    let files = inputs(paths)?;
    let scan_bytes: u64 = files.iter().map(|f| f.size).sum();
    let mut run = Run {
        store,
        cfg,
        quit,
        start: Instant::now(),
        total_bytes: scan_bytes,
        bytes_before: 0,
        stored: 0,
        on_progress,
    };
    let Some((resolved, summaries)) = scan_all(&mut run, &files)? else {
        return Ok(ImportReport {
            stopped: true,
            ..ImportReport::default()
        });
    };
    let notes: Vec<FileNote> = files
        .iter()
        .zip(&summaries)
        .map(|(i, s)| file_note(i, s, cfg))
        .collect();
    // Registry → the stored dump's date, and whether this import is older.
    let mut tallies: BTreeMap<Registry, Tally> = BTreeMap::new();
    for (note, s) in notes.iter().zip(&summaries) {
        for (&reg, _) in s.networks.iter().filter(|(_, n)| **n > 0) {
            let t = tallies.entry(reg).or_default();
            t.files.push(note.file.clone());
            if t.date.is_empty() || note.date > t.date {
                t.date.clone_from(&note.date);
            }
            if t.oldest.is_empty() || note.date < t.oldest {
                t.oldest.clone_from(&note.date);
            }
        }
    }
    let mut refused: HashMap<Registry, String> = HashMap::new();
    let mut stored_dates: HashMap<Registry, String> = HashMap::new();
    for (&reg, t) in &tallies {
        if let Some(old) = stored_note(store, reg)? {
            if old.date > t.date {
                refused.insert(reg, old.date.clone());
            }
            stored_dates.insert(reg, old.date);
        }
    }
    run.total_bytes += files
        .iter()
        .zip(&summaries)
        .filter(|(_, s)| s.networks.keys().any(|r| !refused.contains_key(r)))
        .map(|(f, _)| f.size)
        .sum::<u64>();
    run.bytes_before = scan_bytes;
    for ((input, s), note) in files.iter().zip(&summaries).zip(&notes) {
        if !s.networks.keys().any(|r| !refused.contains_key(r)) {
            continue;
        }
        if !store_file(&mut run, &resolved, input, note, &refused, &mut tallies)? {
            return Ok(ImportReport {
                files: notes,
                stopped: true,
                ..ImportReport::default()
            });
        }
        run.bytes_before += input.size;
    }
    finish(&run, notes, tallies, &refused, &stored_dates, &summaries)
}

/// The first pass over every file, two at a time (each file gets its own
/// index; they are united in file order, so the result is that of one
/// index reading the files in turn); `None` when stopped. The first error in
/// file order is the one returned, as when the files are read in turn.
fn scan_all(
    run: &mut Run<'_>,
    files: &[Input],
) -> Result<Option<(dump::Resolved, Vec<DumpSummary>)>, ImportError> {
    type Scanned = Result<(dump::Index, Result<DumpSummary, DumpError>), ImportError>;
    // Largest first, so two threads finish about together.
    let mut order: Vec<usize> = (0..files.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(files.get(i).map_or(0, |f| f.size)));
    let next = AtomicUsize::new(0);
    let read: Vec<AtomicU64> = files.iter().map(|_| AtomicU64::new(0)).collect();
    let results: Mutex<Vec<Option<Scanned>>> = Mutex::new(files.iter().map(|_| None).collect());
    let quit = run.quit;
    let scan_one = |i: usize, input: &Input| -> Scanned {
        let reader = open(input)?;
        let mut report = |n: u64| {
            if let Some(r) = read.get(i) {
                r.store(n, Ordering::Relaxed);
            }
            !quit.load(Ordering::Relaxed)
        };
        let counted = Counted {
            inner: reader,
            read: 0,
            since_report: 0,
            report: &mut report,
        };
        let mut index = dump::Index::new();
        let summary = index.scan(&input.name, counted);
        Ok((index, summary))
    };
    let worker = || {
        while let Some(&i) = order.get(next.fetch_add(1, Ordering::Relaxed)) {
            if quit.load(Ordering::Relaxed) {
                return;
            }
            let Some(input) = files.get(i) else { return };
            let out = scan_one(i, input);
            let mut all = results.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(slot) = all.get_mut(i) {
                *slot = Some(out);
            }
        }
    };
    std::thread::scope(|scope| {
        let threads = [scope.spawn(worker), scope.spawn(worker)];
        while !threads
            .iter()
            .all(std::thread::ScopedJoinHandle::is_finished)
        {
            std::thread::sleep(Duration::from_millis(50));
            let bytes: u64 = read.iter().map(|r| r.load(Ordering::Relaxed)).sum();
            let current = order
                .get(next.load(Ordering::Relaxed).saturating_sub(1))
                .and_then(|&i| files.get(i))
                .map_or("", |f| f.name.as_str());
            run.progress(Phase::Scan, current, bytes);
        }
    });
    if run.quit.load(Ordering::Relaxed) {
        return Ok(None);
    }
    let mut index = dump::Index::new();
    let mut summaries = Vec::new();
    let all = results.into_inner().unwrap_or_else(PoisonError::into_inner);
    for (slot, input) in all.into_iter().zip(files) {
        let Some(scanned) = slot else {
            // A worker ended early: only when stopped (checked above).
            return Ok(None);
        };
        let (file_index, summary) = scanned?;
        index.unite(file_index);
        summaries.push(summary.map_err(ImportError::Dump)?);
        run.bytes_before += input.size;
    }
    Ok(Some((index.finish(), summaries)))
}

fn file_note(i: &Input, s: &DumpSummary, cfg: &ImportConfig) -> FileNote {
    let (date, date_from) = match (&s.dump_date, &cfg.dump_date, &i.mtime) {
        (Some(d), _, _) => (d.clone(), DateSource::Header),
        (None, Some(d), _) => (d.clone(), DateSource::Flag),
        (None, None, Some(m)) => (m.clone(), DateSource::Mtime),
        (None, None, None) => (crate::time::now_rfc3339(), DateSource::Mtime),
    };
    FileNote {
        file: i.name.clone(),
        date,
        date_from,
        objects: s.objects.clone(),
        skipped: s
            .skipped
            .iter()
            .map(|(r, n)| (r.name().to_string(), *n))
            .collect(),
        inetnums: s
            .networks
            .iter()
            .map(|(r, n)| (r.name().to_string(), *n))
            .collect(),
        lines: s.lines,
        imported_at: crate::time::now_rfc3339(),
    }
}

/// The stored note of `reg`'s dump; an unreadable note counts as none.
fn stored_note(store: &Store, reg: Registry) -> Result<Option<DumpNote>, ImportError> {
    Ok(store
        .meta_plain(&dump_note_key(reg))?
        .and_then(|b| serde_json::from_slice(&b).ok()))
}

/// The second pass over one file: its networks, stored in batches. A
/// thread reads and resolves the next batch while this one stores the
/// last (at most two batches wait between them: memory stays bounded).
/// `false` when stopped.
fn store_file(
    run: &mut Run<'_>,
    resolved: &dump::Resolved,
    input: &Input,
    note: &FileNote,
    refused: &HashMap<Registry, String>,
    tallies: &mut BTreeMap<Registry, Tally>,
) -> Result<bool, ImportError> {
    let reader = open(input)?;
    let read = AtomicU64::new(0);
    let size = run.cfg.batch.max(1);
    std::thread::scope(|scope| {
        let (tx, rx) = mpsc::sync_channel::<Result<Vec<DumpNetwork>, DumpError>>(2);
        // Stored batches go back to the reader thread to be freed there:
        // glibc's free of another thread's allocations, millions of small
        // strings, cost the writer an eighth of its time.
        let (done_tx, done_rx) = mpsc::channel::<Vec<Write>>();
        let read = &read;
        scope.spawn(move || {
            let mut report = |n: u64| {
                read.store(n, Ordering::Relaxed);
                true
            };
            let counted = Counted {
                inner: reader,
                read: 0,
                since_report: 0,
                report: &mut report,
            };
            let mut batch = Vec::with_capacity(size);
            for item in resolved.networks(&input.name, counted) {
                match item {
                    Ok(n) if refused.contains_key(&n.registry) => {}
                    Ok(n) => batch.push(n),
                    Err(e) => {
                        let _ = tx.send(Err(e));
                        return;
                    }
                }
                if batch.len() >= size {
                    let full = std::mem::replace(&mut batch, Vec::with_capacity(size));
                    if tx.send(Ok(full)).is_err() {
                        return; // stopped: nobody stores it
                    }
                    done_rx.try_iter().for_each(drop);
                }
            }
            let _ = tx.send(Ok(batch));
        });
        for msg in rx {
            let mut batch = msg.map_err(ImportError::Dump)?;
            let stored = write_batch(run, &mut batch, note, tallies)?;
            // Freed here if the reader has ended.
            let _ = done_tx.send(stored);
            if !run.progress(Phase::Store, &input.name, read.load(Ordering::Relaxed)) {
                return Ok(false);
            }
        }
        Ok(run.progress(Phase::Store, &input.name, input.size))
    })
}

/// Stores a batch (RDAP answers newer than the dump kept) in one commit;
/// returns the writes, for the caller to free.
fn write_batch(
    run: &mut Run<'_>,
    batch: &mut Vec<DumpNetwork>,
    note: &FileNote,
    tallies: &mut BTreeMap<Registry, Tally>,
) -> Result<Vec<Write>, ImportError> {
    if batch.is_empty() {
        return Ok(Vec::new());
    }
    let keys: Vec<(Range, Registry, bool)> = batch
        .iter()
        .map(|n| (n.network.range, n.registry, n.network.placeholder))
        .collect();
    let existing = run.store.stored_sources(&keys)?;
    let mut writes = Vec::with_capacity(batch.len());
    for (n, old) in batch.drain(..).zip(existing) {
        let t = tallies.entry(n.registry).or_default();
        if let Some(old) = old {
            if !old.from_dump && old.fetched_at > note.date {
                t.kept_rdap += 1;
                if !n.network.placeholder {
                    t.space.push(n.network.range);
                }
                continue;
            }
        }
        if n.network.placeholder {
            t.placeholders += 1;
        } else {
            t.networks += 1;
            t.space.push(n.network.range);
        }
        let rec = Record {
            registry: n.registry,
            network: n.network,
            queried: None,
            source_url: format!("dump:{}", n.source_file),
            fetched_at: note.date.clone(),
        };
        writes.push(Write::Network(Box::new(rec), n.raw.into_bytes()));
    }
    run.stored += writes.len() as u64;
    run.store.apply(&writes)?;
    Ok(writes)
}

/// The last step: per registry, its space, the older dump's leftovers
/// removed, and the notes.
fn finish(
    run: &Run<'_>,
    notes: Vec<FileNote>,
    tallies: BTreeMap<Registry, Tally>,
    refused: &HashMap<Registry, String>,
    stored_dates: &HashMap<Registry, String>,
    summaries: &[DumpSummary],
) -> Result<ImportReport, ImportError> {
    let store = run.store;
    let mut registries = Vec::new();
    let now = crate::time::now_rfc3339();
    for (reg, t) in tallies {
        let inetnums = summaries
            .iter()
            .map(|s| s.networks.get(&reg).copied().unwrap_or(0))
            .sum();
        if let Some(old) = refused.get(&reg) {
            registries.push(RegistryImport {
                registry: reg,
                note: None,
                refused_older_than: Some(old.clone()),
                inetnums,
            });
            continue;
        }
        // Only a newer dump removes: the same one again changes nothing.
        let remove_before = stored_dates
            .get(&reg)
            .filter(|old| **old < t.date)
            .map(|_| t.oldest.as_str());
        let mut note = DumpNote {
            date: t.date.clone(),
            files: t.files.clone(),
            networks: t.networks,
            placeholders: t.placeholders,
            kept_rdap: t.kept_rdap,
            removed: 0,
            imported_at: now.clone(),
        };
        let space = IntervalSet::from_ranges(t.space);
        let notes_of = |removed: u64| {
            let mut n = note.clone();
            n.removed = removed;
            vec![(dump_note_key(reg), note_bytes(&n))]
        };
        note.removed = store.finish_dump(&DumpFinish {
            registry: reg,
            space: &space,
            remove_before,
            meta: &notes_of,
        })?;
        registries.push(RegistryImport {
            registry: reg,
            note: Some(note),
            refused_older_than: None,
            inetnums,
        });
    }
    store.apply(&[Write::Meta(FILES_NOTE.into(), files_bytes(store, &notes)?)])?;
    Ok(ImportReport {
        files: notes,
        registries,
        stopped: false,
    })
}

fn note_bytes(note: &DumpNote) -> Vec<u8> {
    serde_json::to_vec(note).unwrap_or_default()
}

/// The stored per-file notes with this import's replacing theirs by name.
fn files_bytes(store: &Store, notes: &[FileNote]) -> Result<Vec<u8>, ImportError> {
    let mut all = stored_files(store)?;
    for n in notes {
        all.insert(n.file.clone(), n.clone());
    }
    Ok(serde_json::to_vec(&all).unwrap_or_default())
}

/// Every file note stored (by file name); an unreadable note counts as none.
pub fn stored_files(store: &Store) -> Result<BTreeMap<String, FileNote>, store::Error> {
    Ok(store
        .meta_plain(FILES_NOTE)?
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default())
}

/// Every registry's dump note stored.
pub fn stored_dumps(store: &Store) -> Result<Vec<(Registry, DumpNote)>, store::Error> {
    let mut out = Vec::new();
    for r in Registry::ALL {
        if let Some(b) = store.meta_plain(&dump_note_key(r))? {
            if let Ok(n) = serde_json::from_slice(&b) {
                out.push((r, n));
            }
        }
    }
    Ok(out)
}

/// The registries whose stored dump is dated at most
/// [`crate::delegated::source::STALE_DAYS`] before `today` (days since
/// 1970-01-01), each with the space its networks cover: what a crawl's
/// layout may trust ([`crate::crawl::layout::Statistics::layout_with_dumps`]).
pub fn fresh_dumps(store: &Store, today: i64) -> Result<Vec<FreshDump>, store::Error> {
    let mut out = Vec::new();
    for (r, note) in stored_dumps(store)? {
        let date: String = note.date.chars().take(10).filter(|c| *c != '-').collect();
        let fresh = crate::delegated::date_days(&date)
            .is_some_and(|d| today - d <= crate::delegated::source::STALE_DAYS);
        if fresh {
            out.push(FreshDump {
                registry: r,
                space: store.load_dumped_of(r)?,
                date,
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
