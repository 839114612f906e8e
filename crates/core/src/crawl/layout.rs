//! A crawl's layout from the registries' current delegated statistics:
//! which files it uses ([`gather`]), and the lane cuts and delegated space
//! they give ([`Statistics::layout`]).
//!
//! For each registry, in this order ([`Want`] is what the arguments ask):
//! 1. `--delegated FILE...`: the records the local files hold for it;
//! 2. a file stored in the DB that was fetched less than 24 h ago from the
//!    same URL ([`source::reusable`]): used again, not fetched;
//! 3. a fetch of its `delegated-<registry>-extended-latest` (its own URL, or
//!    `--stats NAME=URL`), checked ([`source::check`]: a version line naming
//!    the registry, not truncated) and stored in the DB with its date;
//! 4. when the fetch fails (refused, 404, timeout, garbage, truncated) or
//!    was not asked for (`--registry` without `--stats`: a test world or a
//!    mirror whose statistics live elsewhere): the newest of the stored file
//!    and the bundled snapshot, with a one-line warning naming it and its
//!    date (a deliberate skip gets a note, not a warning).
//!
//! Statistics more than 30 days old ([`source::is_stale`]) are not trusted
//! about free space: the registry's space (its bootstrap blocks and every
//! range its file lists) is then probed at the seed granularity, never
//! skipped coarsely on the file's word.
//!
//! Fetches run in parallel, one thread per registry; a raised quit flag
//! stops waiting for them (the crawl then stops at once, as interrupted).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use serde::Serialize;

use crate::delegated::{self, source, Delegation, Parsed};
use crate::rdap::bootstrap::Bootstrap;
use crate::rdap::client::FileClient;
use crate::rdap::Registry;
use crate::store::{StatsFile, Store};
use crate::trie::IntervalSet;

use super::Error;

/// A plain GET of a whole file: the body of a 200, or a one-line reason.
pub trait GetFile: Send + Sync {
    /// Fetches `url`.
    fn get_file(&self, url: &str) -> Result<Vec<u8>, String>;
}

impl GetFile for FileClient {
    fn get_file(&self, url: &str) -> Result<Vec<u8>, String> {
        self.get(url)
    }
}

/// Where the crawl's arguments say a registry's statistics come from.
#[derive(Clone, Debug)]
pub enum Want {
    /// Fetch this URL (the registry's own, or `--stats NAME=URL`).
    Fetch(String),
    /// Records of local files (`--delegated`).
    Local(Local),
    /// Not fetched, for this reason: the stored file, else the bundle.
    /// `warn`: say so as a warning (else a note).
    Skip {
        /// Why, for the message.
        why: String,
        /// Whether it deserves a warning.
        warn: bool,
    },
}

/// One registry's part of the `--delegated` files.
#[derive(Clone, Debug, Default)]
pub struct Local {
    /// The files, as given.
    pub paths: Vec<String>,
    /// The oldest of their dates (`None` when one has none).
    pub date: Option<String>,
    /// Its records.
    pub records: Vec<Delegation>,
}

/// How a registry's statistics were got.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// Fetched now.
    Fetched,
    /// A stored file fetched less than 24 h ago, used again.
    Reused,
    /// A stored file, because the fetch failed or was not asked for.
    Stored,
    /// `--delegated` files.
    Local,
    /// The bundled snapshot.
    Bundled,
}

/// One registry's statistics as the crawl uses them.
#[derive(Clone, Debug, Serialize)]
pub struct Used {
    /// Whose.
    pub registry: Registry,
    /// How they were got.
    pub origin: Origin,
    /// URL, file paths, or `bundled snapshot`.
    pub source: String,
    /// Their date, `YYYYMMDD`.
    pub date: Option<String>,
    /// Older than 30 days (or undated): free space is probed at every seed.
    pub stale: bool,
    /// When a stored or fetched file was fetched (Unix seconds).
    pub fetched_at: Option<u64>,
    /// Lines refused in the file.
    pub skipped: usize,
    /// Records used.
    pub records: usize,
    /// A one-line warning to show (fallbacks, staleness, skipped lines).
    pub warning: Option<String>,
    /// A one-line note (a deliberate skip of the fetch).
    pub note: Option<String>,
    #[serde(skip)]
    delegations: Vec<Delegation>,
}

impl Used {
    /// The records used.
    pub fn delegations(&self) -> &[Delegation] {
        &self.delegations
    }
}

/// The statistics of all five registries (by [`Registry::index`]).
#[derive(Clone, Debug)]
pub struct Statistics {
    /// Per registry.
    pub used: Vec<Used>,
}

/// Lane cuts and delegated space of a crawl (see [`super::CrawlConfig`]).
#[derive(Clone, Debug)]
pub struct Layout {
    /// Every record's start, and the edges of `fine`, sorted.
    pub cuts: Vec<u32>,
    /// The space never probed coarsely: what the statistics list as
    /// allocated or assigned, and `fine`.
    pub delegated: IntervalSet,
    /// The space of the registries whose statistics are stale: probed at
    /// the seed granularity whatever their files call it.
    pub fine: IntervalSet,
    /// Space whose every network an imported dump holds: the fresh dumps'
    /// networks, and the space a registry with a fresh dump and fresh
    /// statistics lists as its own, allocated or assigned no later than its
    /// dump's date (the dump holds every network of it; an address there
    /// without one has none). See [`Statistics::layout_with_dumps`].
    pub complete: IntervalSet,
}

/// A registry's imported bulk dump, dated within [`source::STALE_DAYS`].
#[derive(Clone, Debug)]
pub struct FreshDump {
    /// Whose.
    pub registry: Registry,
    /// The space its networks cover.
    pub space: IntervalSet,
    /// Its date, `YYYYMMDD`.
    pub date: String,
}

impl Statistics {
    /// Cuts and delegated space (see the module documentation).
    pub fn layout(&self, routes: &Bootstrap) -> Layout {
        self.layout_with_dumps(routes, &[])
    }

    /// [`Statistics::layout`] knowing the registries' imported bulk dumps
    /// dated within [`source::STALE_DAYS`]. Such a dump says what its
    /// registry holds today: its networks' space counts as delegated, the
    /// registry's other space is probed coarsely even when its statistics
    /// are stale, and [`Layout::complete`] says where nothing need be asked.
    pub fn layout_with_dumps(&self, routes: &Bootstrap, fresh_dumps: &[FreshDump]) -> Layout {
        let mut cuts = Vec::new();
        let mut held = Vec::new();
        let mut fine = Vec::new();
        let mut complete = Vec::new();
        for f in fresh_dumps {
            held.extend_from_slice(f.space.ranges());
            complete.extend_from_slice(f.space.ranges());
        }
        for u in &self.used {
            let dump = fresh_dumps.iter().find(|f| f.registry == u.registry);
            let stale = u.stale && dump.is_none();
            for d in &u.delegations {
                cuts.push(d.range.start);
                if d.status.is_delegated() {
                    held.push(d.range);
                    let before_dump =
                        |f: &FreshDump| d.date.as_deref().is_none_or(|day| day <= f.date.as_str());
                    if !u.stale && d.registry == u.registry && dump.is_some_and(before_dump) {
                        complete.push(d.range);
                    }
                }
                if stale {
                    fine.push(d.range);
                }
            }
            if stale {
                fine.extend(
                    routes
                        .entries()
                        .iter()
                        .filter(|(_, r)| *r == u.registry)
                        .map(|(x, _)| *x),
                );
            }
        }
        let fine = IntervalSet::from_ranges(fine);
        for r in fine.ranges() {
            cuts.push(r.start);
            if let Some(after) = r.end.checked_add(1) {
                cuts.push(after);
            }
        }
        cuts.sort_unstable();
        cuts.dedup();
        Layout {
            cuts,
            delegated: IntervalSet::from_ranges(held).union(&fine),
            fine,
            complete: IntervalSet::from_ranges(complete),
        }
    }

    /// The one-line warnings, in registry order.
    pub fn warnings(&self) -> impl Iterator<Item = &str> {
        self.used.iter().filter_map(|u| u.warning.as_deref())
    }

    /// The one-line notes, in registry order.
    pub fn notes(&self) -> impl Iterator<Item = &str> {
        self.used.iter().filter_map(|u| u.note.as_deref())
    }

    /// `{"arin": {"origin": "fetched", "source": URL, "date": "2027-08-21",
    /// "stale": false, ...}, ...}` for the crawl's summary.
    pub fn to_json(&self) -> serde_json::Value {
        let mut m = serde_json::Map::new();
        for u in &self.used {
            let mut v = serde_json::to_value(u).unwrap_or_default();
            if let Some(o) = v.as_object_mut() {
                o.remove("registry");
                o.insert(
                    "date".into(),
                    u.date.as_deref().map(source::show_date).into(),
                );
                o.insert(
                    "fetched_at".into(),
                    u.fetched_at.map(crate::time::rfc3339).into(),
                );
            }
            m.insert(u.registry.name().into(), v);
        }
        m.into()
    }
}

/// The `--delegated` files, by registry: each file's records of each
/// registry (a file may hold several; a registry no file holds is `None`),
/// and a one-line warning per file with lines skipped. A file that cannot
/// be read, or holds no ipv4 record, is a one-line error.
pub fn local(paths: &[std::path::PathBuf]) -> Result<([Option<Local>; 5], Vec<String>), String> {
    let mut out: [Option<Local>; 5] = Default::default();
    let mut warnings = Vec::new();
    for p in paths {
        let shown = p.display().to_string();
        let parsed = delegated::parse_file(p).map_err(|e| match e {
            delegated::Error::Io { path, source } => {
                format!("--delegated {path}: cannot read: {source}")
            }
        })?;
        if parsed.delegations.is_empty() {
            return Err(format!(
                "--delegated {shown}: no ipv4 records ({} lines refused{}); expected an RIR delegated-statistics file",
                parsed.junk,
                parsed
                    .errors
                    .first()
                    .map(|e| format!(", first: {}", e.at(&shown)))
                    .unwrap_or_default()
            ));
        }
        if let Some(e) = parsed.errors.first() {
            warnings.push(format!(
                "--delegated {shown}: {} lines skipped, first: {}",
                parsed.junk,
                e.at(&shown)
            ));
        }
        let date = parsed.header.as_ref().and_then(delegated::Header::date);
        for r in Registry::ALL {
            let mine: Vec<Delegation> = parsed
                .delegations
                .iter()
                .filter(|d| d.registry == r)
                .cloned()
                .collect();
            if mine.is_empty() {
                continue;
            }
            let l = out[r.index()].get_or_insert_with(|| Local {
                date: date.clone(),
                ..Local::default()
            });
            if !l.paths.is_empty() {
                // The oldest date counts; an undated file makes it undated.
                l.date = match (&l.date, &date) {
                    (Some(a), Some(b)) => Some(a.min(b).clone()),
                    _ => None,
                };
            }
            l.paths.push(shown.clone());
            l.records.extend(mine);
        }
    }
    Ok((out, warnings))
}

/// A registry's fetch, running or done.
type Fetched = (Registry, Result<Vec<u8>, String>);

/// Gets each registry's statistics as [`Want`] says (see the module
/// documentation): reuses or fetches, stores what it fetched, falls back.
/// `now` is Unix seconds, `today` days since 1970-01-01 (the day the
/// statistics' age is counted from).
pub fn gather(
    store: &Store,
    wants: &[Want; 5],
    get: &Arc<dyn GetFile>,
    now: u64,
    today: i64,
    quit: &AtomicBool,
) -> Result<Statistics, Error> {
    let mut stored: [Option<StatsFile>; 5] = Default::default();
    for f in store.stats_files()? {
        let i = f.registry.index();
        stored[i] = Some(f);
    }
    let mut bundle = Bundle::default();
    let (tx, rx) = mpsc::channel::<Fetched>();
    let mut pending = 0;
    let mut used: [Option<Used>; 5] = Default::default();
    for r in Registry::ALL {
        let i = r.index();
        match &wants[i] {
            Want::Local(l) => used[i] = Some(from_local(r, l, today)),
            Want::Skip { why, warn } => {
                used[i] = Some(fallback(
                    r,
                    stored[i].as_ref(),
                    why,
                    *warn,
                    today,
                    &mut bundle,
                ));
            }
            Want::Fetch(url) => match &stored[i] {
                Some(f) if source::reusable(&f.source, f.fetched_at, url, now) => {
                    used[i] = Some(match source::check(r, &f.bytes) {
                        Ok(p) => from_file(r, Origin::Reused, f, &p, today),
                        Err(why) => {
                            let why = format!("the copy stored in the DB is unusable ({why})");
                            fallback(r, None, &why, true, today, &mut bundle)
                        }
                    });
                }
                _ => {
                    let (tx, get, url) = (tx.clone(), Arc::clone(get), url.clone());
                    std::thread::spawn(move || {
                        let _ = tx.send((r, get.get_file(&url)));
                    });
                    pending += 1;
                }
            },
        }
    }
    drop(tx);
    while pending > 0 && !quit.load(Ordering::SeqCst) {
        let Ok((r, got)) = rx.recv_timeout(Duration::from_millis(50)) else {
            continue;
        };
        pending -= 1;
        let i = r.index();
        let Want::Fetch(url) = &wants[i] else {
            continue;
        };
        used[i] = Some(fetched(
            store,
            r,
            url,
            got,
            stored[i].as_ref(),
            now,
            today,
            &mut bundle,
        )?);
    }
    // Interrupted: what was not fetched falls back (the crawl stops at once).
    for r in Registry::ALL {
        let i = r.index();
        if used[i].is_none() {
            let why = "the fetch was interrupted";
            used[i] = Some(fallback(
                r,
                stored[i].as_ref(),
                why,
                false,
                today,
                &mut bundle,
            ));
        }
    }
    Ok(Statistics {
        used: used.into_iter().flatten().collect(),
    })
}

/// The outcome of a fetch of `url`: checked and stored, or the fallback.
#[allow(clippy::too_many_arguments)]
fn fetched(
    store: &Store,
    r: Registry,
    url: &str,
    got: Result<Vec<u8>, String>,
    stored: Option<&StatsFile>,
    now: u64,
    today: i64,
    bundle: &mut Bundle,
) -> Result<Used, Error> {
    let checked = got.and_then(|bytes| match source::check(r, &bytes) {
        Ok(p) => Ok((bytes, p)),
        Err(why) => Err(format!("{url}: {why}")),
    });
    let (bytes, parsed) = match checked {
        Ok(x) => x,
        Err(why) => {
            let why = format!("fetch failed: {why}");
            return Ok(fallback(r, stored, &why, true, today, bundle));
        }
    };
    let header = parsed.header.clone().unwrap_or_default();
    let file = StatsFile {
        registry: r,
        source: url.to_string(),
        fetched_at: now,
        date: header.date(),
        serial: header.serial,
        bytes,
    };
    store.put_stats_file(&file)?;
    Ok(from_file(r, Origin::Fetched, &file, &parsed, today))
}

/// The bundled snapshot, parsed once when first needed.
#[derive(Default)]
struct Bundle(Option<Vec<Delegation>>);

impl Bundle {
    fn of(&mut self, r: Registry) -> Vec<Delegation> {
        self.0
            .get_or_insert_with(delegated::bundled)
            .iter()
            .filter(|d| d.registry == r)
            .cloned()
            .collect()
    }
}

/// " (dated 2026-08-21)", " (no date)".
fn dated(date: Option<&str>) -> String {
    match date {
        Some(d) => format!("dated {}", source::show_date(d)),
        None => "no date".into(),
    }
}

/// The clause a stale source adds to its message.
fn stale_clause(stale: bool) -> &'static str {
    if stale {
        "; older than 30 days: the space it calls free is probed at every seed"
    } else {
        ""
    }
}

fn from_file(r: Registry, origin: Origin, f: &StatsFile, p: &Parsed, today: i64) -> Used {
    let stale = source::is_stale(f.date.as_deref(), today);
    let mut warning = Vec::new();
    if stale {
        warning.push(format!(
            "{r} statistics from {} are {}{}",
            f.source,
            dated(f.date.as_deref()),
            stale_clause(true)
        ));
    }
    if let Some(e) = p.errors.first() {
        warning.push(format!(
            "{r} statistics: {} lines skipped, first: {}",
            p.junk,
            e.at(&f.source)
        ));
    }
    Used {
        registry: r,
        origin,
        source: f.source.clone(),
        date: f.date.clone(),
        stale,
        fetched_at: Some(f.fetched_at),
        skipped: p.junk,
        records: p.delegations.len(),
        warning: (!warning.is_empty()).then(|| warning.join("; ")),
        note: None,
        delegations: p.delegations.clone(),
    }
}

fn from_local(r: Registry, l: &Local, today: i64) -> Used {
    let stale = source::is_stale(l.date.as_deref(), today);
    let source = l.paths.join(", ");
    Used {
        registry: r,
        origin: Origin::Local,
        warning: stale.then(|| {
            format!(
                "{r} statistics from --delegated {source} are {}{}",
                dated(l.date.as_deref()),
                stale_clause(true)
            )
        }),
        source,
        date: l.date.clone(),
        stale,
        fetched_at: None,
        skipped: 0,
        records: l.records.len(),
        note: None,
        delegations: l.records.clone(),
    }
}

/// The newest of the stored file and the bundle, with the message saying
/// `why` and which one, and its date.
fn fallback(
    r: Registry,
    stored: Option<&StatsFile>,
    why: &str,
    warn: bool,
    today: i64,
    bundle: &mut Bundle,
) -> Used {
    let bdate = source::bundle_date(r);
    let usable = stored
        .filter(|f| f.date.as_deref().is_none_or(|d| d >= bdate))
        .and_then(|f| source::check(r, &f.bytes).ok().map(|p| (f, p)));
    let (mut u, what) = if let Some((f, p)) = usable {
        let u = from_file(r, Origin::Stored, f, &p, today);
        let what = format!(
            "using the copy stored in the DB (fetched {} from {}, {})",
            crate::time::rfc3339(f.fetched_at),
            f.source,
            dated(f.date.as_deref()),
        );
        (u, what)
    } else {
        let delegations = bundle.of(r);
        let u = Used {
            registry: r,
            origin: Origin::Bundled,
            source: "bundled snapshot".into(),
            date: Some(bdate.into()),
            stale: source::is_stale(Some(bdate), today),
            fetched_at: None,
            skipped: 0,
            records: delegations.len(),
            warning: None,
            note: None,
            delegations,
        };
        (
            u,
            format!("using the bundled snapshot ({})", dated(Some(bdate))),
        )
    };
    let line = format!("{r} statistics: {why}; {what}{}", stale_clause(u.stale));
    if warn {
        u.warning = Some(line);
        u.note = None;
    } else {
        u.warning = None;
        u.note = Some(line);
    }
    u
}

#[cfg(test)]
mod tests;
