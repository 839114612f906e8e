//! Registry bulk dumps (RPSL) → networks, described the way each registry's
//! RDAP server describes the same objects. Pure: reads only from the
//! [`Read`]ers it is given, never touches the store.
//!
//! **Input.** The daily split files of RIPE NCC (`ripe.db.inetnum.gz`,
//! `ripe.db.organisation.gz`, `ripe.db.role.gz`), APNIC
//! (`apnic.db.inetnum.gz`, `apnic.db.irt.gz`, `apnic.db.role.gz`,
//! `apnic.db.organisation.gz`) and AFRINIC's single `afrinic.db.gz`: gzip or
//! plain (sniffed), in any order, several at once. Text is UTF-8, or Latin-1
//! line by line where a line is not UTF-8 (RIPE's default files are
//! ISO-8859-1, its `.utf8.gz` ones UTF-8); CRLF is read; see [`rpsl`] for the
//! object syntax (comments, continuation lines, caps).
//!
//! **Two passes.** An inetnum's parent is the smallest enclosing inetnum,
//! which may come anywhere in the file, and its organisation, role and irt
//! objects may be in files given after it. So:
//! 1. [`Index::scan`] every file once: it counts objects, decides every skip,
//!    and keeps only what resolution needs — each accepted inetnum's range
//!    (8 bytes, plus 4 for its parent link), each organisation's name,
//!    abuse-c and e-mail, each role's and irt's name and abuse-mailbox. It
//!    returns the file's [`DumpSummary`].
//! 2. [`Index::finish`] sorts the ranges and links parents ([`nest`]).
//! 3. [`Resolved::networks`] reads each file that holds inetnums again and
//!    yields its networks one by one ([`DumpNetwork`]), never holding more
//!    than one object.
//!
//! Memory is O(networks) with a small constant and O(1) in the file size:
//! the index holds 8 bytes per accepted inetnum's range and 4 per parent
//! link, plus about 150–200 bytes per organisation and per abuse role or
//! irt. `benches/dump.rs` measures the peak resident set growing by 21 MiB
//! over both passes of a 1 M-inetnum world-style dump (22 bytes per inetnum,
//! with its 16 k organisations and roles); a 4 M-inetnum dump costs about
//! 90 MB of index, plus ~35 MB if the registry has some 100 k organisations
//! and 100 k abuse roles. Per object, at most [`rpsl::MAX_OBJECT_BYTES`] of
//! text is examined and only the attributes the import reads are kept; a
//! longer object (a 10 MB one, say) is read past line by line and skipped,
//! and no line longer than [`input::MAX_LINE`] is held.
//!
//! **Field mapping** (inetnum → [`Network`]), chosen to match the real RDAP
//! answers of the same objects in `tests/fixtures/rdap/{ripe,apnic,afrinic}`:
//!
//! | field | RIPE NCC | APNIC | AFRINIC |
//! |---|---|---|---|
//! | `handle` | the range, `a.b.c.d - e.f.g.h` | same | same |
//! | `name` | `netname` (absent: null) | `netname` | `org` (AFRINIC's RDAP names a network after its organisation id; null without one) |
//! | `net_type` | `status` as written | same | same |
//! | `country` | first `country`, upper case | same | same |
//! | `parent_handle`, `parent_range` | smallest enclosing inetnum of the same source (placeholders included) | same | same |
//! | `status` | `["active"]`; `["administrative"]` for placeholders and `ALLOCATED UNSPECIFIED` | `["active"]`; `["administrative"]` for placeholders (`APNIC-AP`) | `["active"]`; `["reserved"]` for `ALLOCATED UNSPECIFIED` |
//! | registrant entity | `org` → handle, `org-name` as name, `e-mail` | same | same (obfuscated `***@domain` kept) |
//! | abuse entity | `abuse-c`, else the org's `abuse-c` → role name, `abuse-mailbox` | `mnt-irt` → irt `abuse-mailbox`, else as RIPE | as RIPE |
//! | `registration` | `created` (absent: null) | null (APNIC has none) | `created`, null in old objects |
//! | `last_changed` | `last-modified`, else the newest `changed:` date as `YYYY-MM-DDT00:00:00Z` | same | same |
//! | `placeholder` | [`inetnum::dump_placeholder`] on `netname` and `status` | same | same, and on the `org` id (its RDAP name) |
//! | `up_link` | null | null | null |
//!
//! A network that is not a placeholder but spans more than one /8 is
//! refused ([`SkipReason::TooBroad`]), as the RDAP parser refuses it.
//!
//! **Skips and errors.** A malformed object is skipped with a counted
//! [`SkipReason`]; nothing else in the file is lost. A damaged or truncated
//! gzip stream, a read error or binary data (a NUL byte) end the file with a
//! [`DumpError`] naming it, after everything read before was delivered.
//!
//! **Dump date.** The header comment's timestamp where it has one (APNIC:
//! `# 20130123 23:06:23`, no zone: taken as UTC), else `None`: the caller
//! then uses the file's mtime or `--dump-date`. RIPE NCC's and AFRINIC's
//! headers carry none.

pub mod inetnum;
pub mod input;
pub mod nest;
pub mod rpsl;

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::io::{BufRead, Read};

use serde::{Deserialize, Serialize};

use crate::prefix::Range;
use crate::rdap::{Network, Registry};
use inetnum::{Contact, Directory, Org};
use input::{InputError, Lines};
use rpsl::{Item, Object, Reader};

/// Why an object was skipped (counted per reason in [`DumpSummary::skipped`]).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SkipReason {
    /// A line that is neither `name: value` nor a continuation (no colon, a bad
    /// attribute name, or a continuation line where an object starts).
    BadLine,
    /// More than [`rpsl::MAX_OBJECT_BYTES`] of text, a line over
    /// [`input::MAX_LINE`], or a kept value over the RDAP parser's
    /// [`crate::rdap::parse::MAX_TEXT`] (a network from a dump is held to the
    /// caps of one from an answer).
    TooLarge,
    /// More than [`rpsl::MAX_ATTRIBUTES`] attribute lines.
    TooManyAttributes,
    /// An `inetnum:` value that is not an IPv4 range.
    BadRange,
    /// An `inetnum:` range whose start is after its end.
    Inverted,
    /// An IPv6 address in an `inetnum:`.
    Ipv6,
    /// Not a placeholder, yet wider than one /8.
    TooBroad,
    /// `source:` missing or not `RIPE`, `APNIC` or `AFRINIC`.
    ForeignSource,
    /// An organisation, role or irt object without its key (`organisation:`,
    /// `nic-hdl:`, `irt:`) value.
    NoKey,
}

impl SkipReason {
    /// Every reason, in a fixed order.
    pub const ALL: [SkipReason; 9] = [
        SkipReason::BadLine,
        SkipReason::TooLarge,
        SkipReason::TooManyAttributes,
        SkipReason::BadRange,
        SkipReason::Inverted,
        SkipReason::Ipv6,
        SkipReason::TooBroad,
        SkipReason::ForeignSource,
        SkipReason::NoKey,
    ];

    /// The stable key used in reports (`bad_line`, `too_large`, ...).
    pub fn name(self) -> &'static str {
        match self {
            SkipReason::BadLine => "bad_line",
            SkipReason::TooLarge => "too_large",
            SkipReason::TooManyAttributes => "too_many_attributes",
            SkipReason::BadRange => "bad_range",
            SkipReason::Inverted => "inverted",
            SkipReason::Ipv6 => "ipv6",
            SkipReason::TooBroad => "too_broad",
            SkipReason::ForeignSource => "foreign_source",
            SkipReason::NoKey => "no_key",
        }
    }
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SkipReason::BadLine => "a line that is not \"name: value\" nor a continuation",
            SkipReason::TooLarge => {
                "object larger than 1 MiB, with a line over 64 KiB or a value over 1 KiB"
            }
            SkipReason::TooManyAttributes => "object with more than 10000 attributes",
            SkipReason::BadRange => "inetnum is not an IPv4 range \"a.b.c.d - e.f.g.h\"",
            SkipReason::Inverted => "inetnum range starts after its end",
            SkipReason::Ipv6 => "IPv6 address in an inetnum",
            SkipReason::TooBroad => "not a placeholder, yet wider than one /8",
            SkipReason::ForeignSource => "source is not RIPE, APNIC or AFRINIC",
            SkipReason::NoKey => "object without its key value",
        })
    }
}

/// One network read from a dump.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DumpNetwork {
    /// The registry its `source:` names.
    pub registry: Registry,
    /// The network, as the registry's RDAP server would describe it.
    pub network: Network,
    /// The object's RPSL text (comment lines left out), at most [`rpsl::MAX_RAW`] bytes.
    pub raw: String,
    /// The file name the caller gave for it.
    pub source_file: String,
}

/// Distinct object classes counted by name; further ones count as `(other)`.
const MAX_KINDS: usize = 64;

/// What one file held (from [`Index::scan`]).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DumpSummary {
    /// The file name the caller gave.
    pub file: String,
    /// The header timestamp (RFC 3339, UTC), `None` when the header has none.
    pub dump_date: Option<String>,
    /// Objects per class (`inetnum`, `organisation`, `as-block`, ...), skipped ones included.
    pub objects: BTreeMap<String, u64>,
    /// Skipped objects per reason.
    pub skipped: BTreeMap<SkipReason, u64>,
    /// Accepted inetnums (the networks [`Resolved::networks`] yields) per registry.
    pub networks: BTreeMap<Registry, u64>,
    /// Lines read.
    pub lines: u64,
}

impl DumpSummary {
    fn new(file: &str) -> DumpSummary {
        DumpSummary {
            file: file.to_string(),
            ..DumpSummary::default()
        }
    }

    fn count_kind(&mut self, class: &str) {
        if let Some(n) = self.objects.get_mut(class) {
            *n += 1;
            return;
        }
        let key = if self.objects.len() < MAX_KINDS {
            class
        } else {
            "(other)"
        };
        *self.objects.entry(key.to_string()).or_default() += 1;
    }

    fn skip(&mut self, reason: SkipReason) {
        *self.skipped.entry(reason).or_default() += 1;
    }

    /// Accepted inetnums, all registries.
    pub fn network_count(&self) -> u64 {
        self.networks.values().sum()
    }

    /// Skipped objects, all reasons.
    pub fn skipped_count(&self) -> u64 {
        self.skipped.values().sum()
    }
}

/// What ended a file early.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DumpErrorKind {
    /// Reading or gunzipping failed (a truncated or damaged gzip stream).
    Read(String),
    /// A NUL byte: binary data, not RPSL text.
    Binary,
    /// The second pass met an inetnum the first pass did not index.
    Changed {
        /// The inetnum's range.
        range: Range,
    },
}

/// A file that could not be read to its end. Everything before `line` was
/// delivered (indexed, or yielded as networks).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DumpError {
    /// The file name the caller gave.
    pub file: String,
    /// Lines read before the error.
    pub line: u64,
    /// What went wrong.
    pub kind: DumpErrorKind,
    /// What the file held up to the error (from [`Index::scan`]; empty from
    /// [`Resolved::networks`]).
    pub partial: Box<DumpSummary>,
}

impl fmt::Display for DumpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (file, line) = (&self.file, self.line);
        match &self.kind {
            DumpErrorKind::Read(m) => write!(
                f,
                "{file}: read error after line {line}: {m}: expected a complete gzip file or plain RPSL text"
            ),
            DumpErrorKind::Binary => write!(
                f,
                "{file}: binary data (a NUL byte) at line {}: expected RPSL text, gzip or plain",
                line + 1
            ),
            DumpErrorKind::Changed { range } => write!(
                f,
                "{file}: inetnum {range} near line {line} was not there when the file was scanned: expected the same file in both passes"
            ),
        }
    }
}

impl std::error::Error for DumpError {}

fn input_error(file: &str, line: u64, e: InputError, partial: DumpSummary) -> DumpError {
    let kind = match e {
        InputError::Io(e) => DumpErrorKind::Read(one_line(&e.to_string())),
        InputError::Binary { .. } => DumpErrorKind::Binary,
    };
    DumpError {
        file: file.to_string(),
        line,
        kind,
        partial: Box::new(partial),
    }
}

fn one_line(s: &str) -> String {
    let s: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    s.chars().take(200).collect()
}

/// The first pass: what resolution needs from every file.
#[derive(Debug, Default)]
pub struct Index {
    nest: nest::Nest,
    /// Per registry (index order): organisation id → its parts.
    orgs: [HashMap<String, Org>; 5],
    /// Per registry: role `nic-hdl` or irt name → its parts (abuse roles only).
    contacts: [HashMap<String, Contact>; 5],
}

impl Index {
    /// An empty index.
    pub fn new() -> Index {
        Index::default()
    }

    /// Reads one file (gzip or plain) and indexes it; returns what it held.
    /// On a [`DumpError`], what was read before it stays indexed and the
    /// error's `partial` summary counts it.
    pub fn scan<R: Read>(&mut self, file: &str, r: R) -> Result<DumpSummary, DumpError> {
        let mut summary = DumpSummary::new(file);
        let input = input::decompress(r)
            .map_err(|e| input_error(file, 0, InputError::Io(e), DumpSummary::new(file)))?;
        let mut reader = Reader::without_raw(Lines::new(input));
        loop {
            match reader.next_item() {
                Ok(Some(item)) => self.absorb(item, &mut summary),
                Ok(None) => break,
                Err(e) => {
                    summary.dump_date = reader.dump_date().map(str::to_string);
                    summary.lines = reader.line_no();
                    return Err(input_error(file, reader.line_no(), e, summary));
                }
            }
        }
        summary.dump_date = reader.dump_date().map(str::to_string);
        summary.lines = reader.line_no();
        Ok(summary)
    }

    fn absorb(&mut self, item: Item, summary: &mut DumpSummary) {
        match item {
            Item::Other { class } => summary.count_kind(&class),
            Item::Skipped { class, reason, .. } => {
                summary.count_kind(class.as_deref().unwrap_or("(unreadable)"));
                summary.skip(reason);
            }
            Item::Object(obj) => {
                summary.count_kind(&obj.class);
                if let Err(reason) = self.keep(&obj, summary) {
                    summary.skip(reason);
                }
            }
        }
    }

    fn keep(&mut self, obj: &Object, summary: &mut DumpSummary) -> Result<(), SkipReason> {
        if obj.class == "inetnum" {
            let i = inetnum::check_inetnum(obj)?;
            self.nest.add(i.registry, i.range);
            *summary.networks.entry(i.registry).or_default() += 1;
            return Ok(());
        }
        let reg = inetnum::source_of(obj)?.index();
        if obj.class == "organisation" {
            let (id, org) = inetnum::read_org(obj)?;
            if let Some(m) = self.orgs.get_mut(reg) {
                m.insert(id, org);
            }
        } else {
            let (id, c) = inetnum::read_contact(obj)?;
            // A role without an abuse-mailbox is never an abuse contact.
            if obj.class == "irt" || c.mailbox.is_some() {
                if let Some(m) = self.contacts.get_mut(reg) {
                    m.insert(id, c);
                }
            }
        }
        Ok(())
    }

    /// Adds what `later` indexed (files scanned on another thread): the same
    /// index as scanning its files after this one's, an organisation or
    /// contact indexed twice keeping the later file's.
    pub fn unite(&mut self, later: Index) {
        self.nest.absorb(later.nest);
        for (mine, theirs) in self.orgs.iter_mut().zip(later.orgs) {
            mine.extend(theirs);
        }
        for (mine, theirs) in self.contacts.iter_mut().zip(later.contacts) {
            mine.extend(theirs);
        }
    }

    /// Ends the first pass: sorts the ranges and links every inetnum to its parent.
    pub fn finish(mut self) -> Resolved {
        self.nest.build();
        self.orgs.iter_mut().for_each(HashMap::shrink_to_fit);
        self.contacts.iter_mut().for_each(HashMap::shrink_to_fit);
        Resolved {
            nest: self.nest,
            orgs: self.orgs,
            contacts: self.contacts,
        }
    }
}

/// The finished index: yields networks in the second pass.
#[derive(Debug)]
pub struct Resolved {
    nest: nest::Nest,
    orgs: [HashMap<String, Org>; 5],
    contacts: [HashMap<String, Contact>; 5],
}

impl Directory for Resolved {
    fn org(&self, registry: Registry, id: &str) -> Option<&Org> {
        self.orgs.get(registry.index())?.get(id)
    }
    fn contact(&self, registry: Registry, id: &str) -> Option<&Contact> {
        self.contacts.get(registry.index())?.get(id)
    }
}

impl Resolved {
    /// Inetnums indexed (distinct ranges per registry).
    pub fn indexed(&self) -> usize {
        self.nest.len()
    }

    /// Reads `file` again (the same bytes [`Index::scan`] read) and yields
    /// its networks in file order. After an `Err` the iterator ends.
    pub fn networks<'a, R: Read + 'a>(&'a self, file: &str, r: R) -> Networks<'a> {
        let (reader, pending) = match input::decompress(r) {
            Ok(input) => (Some(Reader::new(Lines::new(input))), None),
            Err(e) => (
                None,
                Some(input_error(
                    file,
                    0,
                    InputError::Io(e),
                    DumpSummary::new(file),
                )),
            ),
        };
        Networks {
            resolved: self,
            file: file.to_string(),
            reader,
            pending,
        }
    }
}

/// The networks of one file ([`Resolved::networks`]).
pub struct Networks<'a> {
    resolved: &'a Resolved,
    file: String,
    reader: Option<Reader<Box<dyn BufRead + 'a>>>,
    pending: Option<DumpError>,
}

impl Iterator for Networks<'_> {
    type Item = Result<DumpNetwork, DumpError>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(e) = self.pending.take() {
            return Some(Err(e));
        }
        let reader = self.reader.as_mut()?;
        loop {
            let item = match reader.next_item() {
                Ok(Some(item)) => item,
                Ok(None) => {
                    self.reader = None;
                    return None;
                }
                Err(e) => {
                    let line = reader.line_no();
                    self.reader = None;
                    return Some(Err(input_error(
                        &self.file,
                        line,
                        e,
                        DumpSummary::new(&self.file),
                    )));
                }
            };
            let Item::Object(obj) = item else { continue };
            if obj.class != "inetnum" {
                continue;
            }
            let Ok(inet) = inetnum::read_inetnum(&obj) else {
                continue;
            };
            let Some(parent) = self.resolved.nest.parent(inet.registry, inet.range) else {
                let line = reader.line_no();
                self.reader = None;
                return Some(Err(DumpError {
                    file: self.file.clone(),
                    line,
                    kind: DumpErrorKind::Changed { range: inet.range },
                    partial: Box::new(DumpSummary::new(&self.file)),
                }));
            };
            let network = inetnum::to_network(&inet, parent, self.resolved);
            return Some(Ok(DumpNetwork {
                registry: inet.registry,
                network,
                raw: obj.raw,
                source_file: self.file.clone(),
            }));
        }
    }
}

/// Both passes over in-memory files, every network collected: for tests and
/// small inputs (the streaming API is [`Index`] and [`Resolved::networks`]).
/// Stops at the first [`DumpError`].
pub fn read_slices(
    files: &[(&str, &[u8])],
) -> Result<(Vec<DumpNetwork>, Vec<DumpSummary>), DumpError> {
    let mut index = Index::new();
    let mut summaries = Vec::new();
    for (name, bytes) in files {
        summaries.push(index.scan(name, *bytes)?);
    }
    let resolved = index.finish();
    let mut networks = Vec::new();
    for ((name, bytes), summary) in files.iter().zip(&summaries) {
        if summary.network_count() > 0 {
            for n in resolved.networks(name, *bytes) {
                networks.push(n?);
            }
        }
    }
    Ok((networks, summaries))
}

#[cfg(test)]
mod tests;
