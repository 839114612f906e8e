//! Lanes: where each sweep goes next, and what its answers store.
//!
//! The space to crawl is cut into *lanes* (pieces of the seed plan's space
//! served by one registry: [`split`], or one per seed for the 2016 strategy:
//! [`per_seed`]). Each lane is swept in address order, one query in flight at
//! a time, so parallel queries never ask about the same unknown network. A
//! lane's cursor moves ([`Lanes::next_lookup`] and the answer handlers):
//! - past every stretch already *swept* at the crawl's depth (`within_known_cidr`:
//!   no query) and every gap probed before. What a sweep records as swept is
//!   the stretch from the address it asked to where its cursor went next,
//!   clipped to the lane; a coverage-first crawl skips what was swept at
//!   either depth, `--depth all` only what was swept at depth all (a bulk
//!   dump's and a search's networks count as that);
//! - after a network answer, to its end + 1 (a *continuation*: asked even if
//!   it is not a seed, since a new network may start right there); a lane
//!   also starts with a continuation at its first address;
//! - after a 404 or placeholder, or a lookup given up, to the next seed (the
//!   seed grid is the sweep's granularity in empty space), or, in a *coarse*
//!   lane (space the delegated statistics list as not delegated), to the end
//!   of the coarse block;
//! - a nested answer is followed by its parent (the `up` link, the smallest
//!   prefix covering the parent's range, or the start an ARIN parent handle
//!   names), at most [`MAX_CLIMB`] hops, until a parent is stored already or
//!   none is named. By default ([`Depth::Coverage`]) the lane then continues
//!   after the top-level network, so a run of reassignments costs 1 + depth
//!   queries; [`Depth::All`] continues at the end + 1 of the answer it asked
//!   for, having stored its missing parents on the way.
//!
//! Why swept stretches and exact parents, not the union of stored networks:
//! what a lane skips and where a climb stops then depend only on that lane's
//! own answers and on what was stored before the crawl started, never on
//! what another lane stored a moment ago — so a crawl stores the same
//! networks whatever the thread timing, and a resumed crawl the same as an
//! uninterrupted one (the stored networks' provenance, `queried` and
//! `fetched_at`, may differ). The union would also make `--depth all` skip
//! the siblings of a parent once the parent is stored.
//!
//! Held writes: a nested answer is stored only with the climb it starts, so
//! a crash mid-climb redoes the whole climb exactly as an uninterrupted run
//! does it ([`Lanes::release`]).
//!
//! Writes: this file turns answers into [`Write`]s — networks (the one place
//! a [`Record`] is built), swept stretches, gaps, failures, and cleared
//! failures when a later answer covers a failed address. Pure: no threads, no
//! clock (timestamps come in as [`Now`]).

use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;

use super::netindex::NetIndex;
use super::telemetry::{add, inc, Telemetry};
use crate::prefix::Range;
use crate::rdap::{Answered, Network, Registry, Target};
use crate::seeds::SeedSet;
use crate::store::{Failure, GapKind, Level, Record, Write};
use crate::time::Now;
use crate::trie::{IntervalSet, KnownSet};

/// How deep a sweep goes.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Depth {
    /// Climb to the top-level network and continue after it (fewest queries
    /// for full coverage). The default.
    Coverage,
    /// Continue at end + 1 of every answer (every most-specific network the
    /// sweep meets, and their parents).
    All,
}

impl Depth {
    /// The level a sweep at this depth records as swept.
    pub fn level(self) -> Level {
        match self {
            Depth::Coverage => Level::Top,
            Depth::All => Level::All,
        }
    }
}

/// What the lanes know before the crawl starts.
#[derive(Debug, Default)]
pub struct Known {
    /// Space swept before, at the crawl's depth or deeper: skipped.
    pub swept: KnownSet,
    /// Space probed empty before (404 or placeholder): skipped.
    pub gaps: KnownSet,
    /// The stored networks, by exact range (where climbs stop).
    pub nets: NetIndex,
    /// Addresses whose earlier lookups failed (cleared when they resolve).
    pub failed: BTreeSet<u32>,
}

/// How the lanes of a crawl behave.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Sweep {
    /// The depth.
    pub depth: Depth,
    /// Whether nested answers are followed by their parents (the 2016
    /// strategy does not climb).
    pub climb: bool,
    /// Whether a network answer marks only the lane's own part of the space
    /// as swept (the sweep), or its whole range (the 2016 strategy, where
    /// every seed is its own lane and a seed inside a stored network is
    /// skipped).
    pub clip: bool,
}

impl Sweep {
    /// A lane sweep at `depth`.
    pub fn lanes(depth: Depth) -> Sweep {
        Sweep {
            depth,
            climb: true,
            clip: true,
        }
    }
}

/// Largest number of parent hops climbed from one answer.
pub const MAX_CLIMB: u32 = 8;

/// A piece of space swept by one registry.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct LaneSpec {
    /// The bootstrap registry of the piece.
    pub registry: Registry,
    /// The addresses.
    pub range: Range,
    /// For space the delegated statistics list as not delegated: after an
    /// empty answer, step to the end of this prefix length's block instead
    /// of to the next seed. `None`: step by seeds.
    pub coarse: Option<u8>,
}

/// Why a lookup was made.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum JobKind {
    /// A sweep query for an address.
    Sweep,
    /// A parent lookup while climbing from a nested answer.
    Parent,
}

/// One lookup a lane wants made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lookup {
    /// Registry to ask.
    pub registry: Registry,
    /// What to ask for.
    pub target: Target,
    /// Sweep or parent.
    pub kind: JobKind,
    /// The sweep address this lookup serves.
    pub addr: u32,
    /// What an answer must contain to be accepted.
    pub must_contain: Range,
}

/// What a network answer says of its parent.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Parent {
    /// None named (a top-level network, or one under a registry's
    /// placeholder).
    Unnamed,
    /// Stored already; the end of its top-level network.
    Stored(u32),
    /// Not stored: ask here.
    Climb(Target),
}

/// A lookup dispatched for a lane.
#[derive(Clone, Debug)]
pub struct Job {
    /// Lane index.
    pub lane: usize,
    /// The lookup.
    pub lookup: Lookup,
}

#[derive(Debug)]
struct Lane {
    registry: Registry,
    range: Range,
    coarse: Option<u8>,
    cursor: u64,
    cont: bool,
    busy: bool,
    done: bool,
    pending: Option<Lookup>,
    attempts: u32,
    climb_depth: u32,
    /// End of the highest network of the answer chain in progress.
    chain_end: u32,
    /// Where the cursor goes when the chain ends ([`Depth::All`]: after the
    /// answer the sweep asked for).
    resume_at: Option<u64>,
    /// The end of the top-level network of the last chain (for the index).
    top_end: u32,
    /// Writes of a climb in progress, released when it ends.
    held: Vec<Write>,
}

/// Every lane's cursor, and what the sweep knows: networks, gaps probed,
/// standing failures.
pub struct Lanes {
    all: Vec<Lane>,
    swept: KnownSet,
    gaps: KnownSet,
    nets: NetIndex,
    seeds: Arc<SeedSet>,
    failed: BTreeSet<u32>,
    placeholders_seen: HashSet<(u32, u32, Registry)>,
    sweep: Sweep,
    tele: Arc<Telemetry>,
    swept_count: usize,
    total_span: u64,
    advanced: u64,
}

impl Lanes {
    /// Lanes over `specs`, skipping what `known` says is done.
    pub fn new(
        specs: &[LaneSpec],
        seeds: Arc<SeedSet>,
        known: Known,
        sweep: Sweep,
        tele: Arc<Telemetry>,
    ) -> Lanes {
        let lanes: Vec<Lane> = specs
            .iter()
            .map(|l| Lane {
                registry: l.registry,
                range: l.range,
                coarse: l.coarse,
                cursor: u64::from(l.range.start),
                // A lane starts where a block starts: ask there even if the
                // seed grid does not.
                cont: true,
                busy: false,
                done: false,
                pending: None,
                attempts: 0,
                climb_depth: 0,
                chain_end: 0,
                resume_at: None,
                top_end: 0,
                held: Vec::new(),
            })
            .collect();
        let total_span = lanes.iter().map(|l| l.range.len()).sum();
        Lanes {
            all: lanes,
            swept: known.swept,
            gaps: known.gaps,
            nets: known.nets,
            seeds,
            failed: known.failed,
            placeholders_seen: HashSet::new(),
            sweep,
            tele,
            swept_count: 0,
            total_span,
            advanced: 0,
        }
    }

    /// Number of lanes.
    pub fn len(&self) -> usize {
        self.all.len()
    }

    /// Whether there are no lanes at all.
    pub fn is_empty(&self) -> bool {
        self.all.is_empty()
    }

    /// The registry whose queue an idle lane waits in (its pending lookup's
    /// registry, else its own), and whether it is climbing (a climb goes
    /// first: it ends soon, and its writes are held until then). `None` for
    /// a lane in flight or swept.
    pub fn queue_of(&self, lane: usize) -> Option<(Registry, bool)> {
        let l = &self.all[lane];
        if l.done || l.busy {
            return None;
        }
        let reg = l.pending.as_ref().map_or(l.registry, |p| p.registry);
        Some((reg, l.climb_depth > 0))
    }

    /// Whether every lane has been swept to its end.
    pub fn finished(&self) -> bool {
        self.swept_count == self.all.len()
    }

    /// (addresses swept, addresses in all lanes).
    pub fn progress(&self) -> (u64, u64) {
        (self.advanced, self.total_span)
    }

    /// Space a search marked as swept: no lane asks inside it, and the
    /// failures standing inside it are resolved.
    pub fn mark_swept(&mut self, r: Range, out: &mut Vec<Write>) {
        self.swept.insert(r);
        self.clear_failures(r, out);
    }

    /// A network a search stored: climbs stop at it.
    pub fn note_network(&mut self, r: Range, reg: Registry) {
        self.nets.insert(r, reg, r.end);
    }

    /// Marks the lane's lookup as in flight.
    pub fn start(&mut self, lane: usize) {
        self.all[lane].busy = true;
    }

    /// The lane's lookup is back.
    pub fn returned(&mut self, lane: usize) {
        self.all[lane].busy = false;
    }

    /// Keeps `lookup` as the lane's next one (a parent lookup queued at
    /// another registry, a retry, a rate-limited lookup).
    pub fn put_back(&mut self, lane: usize, lookup: Lookup) {
        self.all[lane].pending = Some(lookup);
    }

    /// Counts a failed attempt of the lane's lookup; returns the attempts so far.
    pub fn failed_attempt(&mut self, lane: usize) -> u32 {
        let l = &mut self.all[lane];
        l.attempts += 1;
        l.attempts
    }

    /// The lane's next lookup, or `None` when the lane is swept (or in flight).
    pub fn next_lookup(&mut self, lane: usize) -> Option<Lookup> {
        if self.all[lane].busy || self.all[lane].done {
            return None;
        }
        if let Some(p) = self.all[lane].pending.take() {
            return Some(p);
        }
        loop {
            let l = &self.all[lane];
            let (reg, end, cursor, cont) = (l.registry, l.range.end, l.cursor, l.cont);
            if cursor > u64::from(end) {
                self.mark_done(lane);
                return None;
            }
            let c = cursor as u32;
            if let Some(r) = self.swept.covering(c) {
                let skipped = self.seeds.count_in(Range {
                    start: c,
                    end: r.end.min(end),
                });
                add(&self.tele.within_known_cidr, skipped);
                self.move_cursor(lane, u64::from(r.end) + 1, true);
                continue;
            }
            if let Some(g) = self.gaps.covering(c) {
                self.move_cursor(lane, u64::from(g.end) + 1, false);
                continue;
            }
            if !cont {
                match self.seeds.next_at_or_after(c) {
                    Some(s) if s <= end => {
                        if s != c {
                            self.move_cursor(lane, u64::from(s), false);
                            continue;
                        }
                    }
                    _ => {
                        self.mark_done(lane);
                        return None;
                    }
                }
            }
            inc(&self.tele.found_registry);
            return Some(Lookup {
                registry: reg,
                target: Target::Addr(c),
                kind: JobKind::Sweep,
                addr: c,
                must_contain: Range { start: c, end: c },
            });
        }
    }

    /// A network or placeholder answer to `job`, fetched at `at`.
    pub fn network(&mut self, job: &Job, a: Answered, at: &Now, out: &mut Vec<Write>) {
        let tele = Arc::clone(&self.tele);
        inc(&tele.got_whois);
        inc(&tele.of(a.registry).answers);
        let range = a.network.range;
        let placeholder = a.network.placeholder;
        let registry = a.registry;
        let parent = if placeholder {
            Parent::Unnamed
        } else {
            self.parent_of(&a.network, registry)
        };
        let fresh = !placeholder
            || self
                .placeholders_seen
                .insert((range.start, range.end, a.registry));
        if placeholder {
            inc(&tele.of(a.registry).placeholders);
        }
        if fresh {
            out.push(record(job, a, at));
        }
        if placeholder {
            self.empty_answer(job, GapKind::Placeholder, registry, out);
            return;
        }
        self.clear_failures(range, out);
        if !self.sweep.clip {
            // The 2016 strategy: every lane skips a seed inside a stored
            // network.
            self.swept.insert(range);
            out.push(Write::Swept(range, self.sweep.depth.level()));
        }
        let l = &mut self.all[job.lane];
        if job.lookup.kind == JobKind::Sweep {
            l.chain_end = range.end;
            l.resume_at = (self.sweep.depth == Depth::All).then(|| u64::from(range.end) + 1);
        } else {
            l.chain_end = l.chain_end.max(range.end);
        }
        let climb = self.sweep.climb && l.climb_depth < MAX_CLIMB;
        match parent {
            Parent::Climb(target) if climb => {
                l.climb_depth += 1;
                l.attempts = 0;
                l.pending = Some(Lookup {
                    registry,
                    target,
                    kind: JobKind::Parent,
                    addr: job.lookup.addr,
                    must_contain: range,
                });
                inc(&tele.parent_queries);
            }
            Parent::Stored(top_end) => self.end_chain(job.lane, job.lookup.addr, top_end, out),
            Parent::Climb(_) | Parent::Unnamed => {
                let top_end = self.all[job.lane].chain_end;
                self.end_chain(job.lane, job.lookup.addr, top_end, out);
            }
        }
    }

    /// A 404 to `job`.
    pub fn not_found(&mut self, job: &Job, out: &mut Vec<Write>) {
        let reg = job.lookup.registry;
        inc(&self.tele.of(reg).not_found);
        self.empty_answer(job, GapKind::NotFound, reg, out);
    }

    /// Gives `job` up (a refusal, or retries exhausted) at `at`: a sweep
    /// address is recorded as failed and the lane moves on; a parent lookup
    /// only ends the climb (the sweep address was answered).
    pub fn give_up(&mut self, job: &Job, reason: String, at: &Now, out: &mut Vec<Write>) {
        self.record_failure(job, reason, at, out, false);
    }

    /// [`Lanes::give_up`] for an answer refused for good (the registry
    /// answers the same way every time): the failure is marked permanent,
    /// so later crawls skip its stretch and do not count it as work left.
    pub fn refuse_for_good(&mut self, job: &Job, reason: String, at: &Now, out: &mut Vec<Write>) {
        self.record_failure(job, reason, at, out, true);
    }

    fn record_failure(
        &mut self,
        job: &Job,
        reason: String,
        at: &Now,
        out: &mut Vec<Write>,
        permanent: bool,
    ) {
        let attempts = self.all[job.lane].attempts.max(1);
        let Lookup {
            registry,
            kind,
            addr,
            ..
        } = job.lookup;
        match kind {
            JobKind::Sweep => {
                inc(&self.tele.failed_lookup_whois);
                inc(&self.tele.of(registry).failures);
                let r = self.after_empty(job.lane, addr);
                self.failed.insert(addr);
                out.push(Write::Failure(Failure {
                    addr,
                    end: r.end,
                    registry,
                    reason,
                    attempts,
                    at: at.rfc3339(),
                    permanent,
                }));
            }
            JobKind::Parent => {
                let top_end = self.all[job.lane].chain_end;
                self.end_chain(job.lane, addr, top_end, out);
            }
        }
    }

    /// What the lane may store now: `out` joins the writes its climb holds,
    /// and all of them come back once no climb is in progress (nothing
    /// before).
    pub fn release(&mut self, lane: usize, mut out: Vec<Write>) -> Vec<Write> {
        let l = &mut self.all[lane];
        l.held.append(&mut out);
        if l.climb_depth > 0 {
            return Vec::new();
        }
        let top_end = l.top_end;
        let released = std::mem::take(&mut l.held);
        for w in &released {
            if let Write::Network(rec, _) = w {
                if !rec.network.placeholder {
                    let top = top_end.max(rec.network.range.end);
                    self.nets.insert(rec.network.range, rec.registry, top);
                }
            }
        }
        released
    }

    fn move_cursor(&mut self, lane: usize, to: u64, cont: bool) {
        let l = &mut self.all[lane];
        if to > l.cursor {
            let end = u64::from(l.range.end) + 1;
            let n = to.min(end) - l.cursor.min(end);
            self.advanced += n;
            add(&self.tele.swept[l.registry.index()], n);
            l.cursor = to;
        }
        l.cont = cont;
    }

    fn mark_done(&mut self, lane: usize) {
        let l = &mut self.all[lane];
        if !l.done {
            let end = u64::from(l.range.end) + 1;
            let n = end.saturating_sub(l.cursor);
            self.advanced += n;
            add(&self.tele.swept[l.registry.index()], n);
            l.cursor = end;
            l.done = true;
            self.swept_count += 1;
        }
    }

    /// A 404 or a placeholder: for a sweep query, the space up to the next
    /// seed (or coarse block) is a gap; for a parent lookup, the climb ends.
    fn empty_answer(&mut self, job: &Job, kind: GapKind, registry: Registry, out: &mut Vec<Write>) {
        let addr = job.lookup.addr;
        match job.lookup.kind {
            JobKind::Sweep => {
                let gap = self.after_empty(job.lane, addr);
                self.gaps.insert(gap);
                self.clear_failures(
                    Range {
                        start: addr,
                        end: addr,
                    },
                    out,
                );
                out.push(Write::Gap(gap, kind, registry));
            }
            JobKind::Parent => {
                let top_end = self.all[job.lane].chain_end;
                self.end_chain(job.lane, addr, top_end, out);
            }
        }
    }

    /// The end of the empty stretch a gap or failure at `addr` moves past:
    /// up to the next seed (or the coarse block's end), within the lane.
    fn gap_end(&self, lane: usize, addr: u32) -> u32 {
        let end = self.all[lane].range.end;
        if let Some(len) = self.all[lane].coarse {
            return (addr | !crate::prefix::mask(len)).min(end);
        }
        match addr
            .checked_add(1)
            .and_then(|a| self.seeds.next_at_or_after(a))
        {
            Some(s) if s <= end => s - 1,
            _ => end,
        }
    }

    /// Whether `net` (answered by `reg`) names a parent, and whether that
    /// parent is stored already (by its exact range, or for ARIN by the
    /// first address its handle names), else where to ask for it.
    fn parent_of(&self, net: &Network, reg: Registry) -> Parent {
        if let Some(pr) = net.parent_range {
            if !pr.contains_range(&net.range) || pr == net.range {
                return Parent::Unnamed;
            }
            if let Some(top_end) = self.nets.top_end(pr, reg) {
                return Parent::Stored(top_end);
            }
            let c = pr.covering_cidr();
            // A /8 or more above: the registry's placeholder, not a parent.
            if c.len() <= 8 {
                return Parent::Unnamed;
            }
            return Parent::Climb(Target::Prefix(c));
        }
        if let Some(up) = &net.up_link {
            return Parent::Climb(Target::Url(up.clone()));
        }
        // ARIN handles name the parent's first address: NET-a-b-c-d-N.
        let Some(start) = net.parent_handle.as_deref().and_then(arin_handle_start) else {
            return Parent::Unnamed;
        };
        if start > net.range.start {
            return Parent::Unnamed;
        }
        if let Some((_, top_end)) = self.nets.starting_at(start, reg, net.range) {
            return Parent::Stored(top_end);
        }
        let Some(c) = Range::new(start, net.range.end).map(|r| r.covering_cidr()) else {
            return Parent::Unnamed;
        };
        if c.len() <= 8 {
            return Parent::Unnamed;
        }
        Parent::Climb(Target::Prefix(c))
    }

    /// Ends the answer chain of the sweep address `addr`: the lane continues
    /// after the top-level network ending at `top_end` (coverage first) or
    /// after the answer it asked for (depth all), and records the stretch it
    /// moves past as swept.
    fn end_chain(&mut self, lane: usize, addr: u32, top_end: u32, out: &mut Vec<Write>) {
        let l = &self.all[lane];
        let to = match self.sweep.depth {
            Depth::Coverage => u64::from(top_end) + 1,
            Depth::All => l.resume_at.unwrap_or(u64::from(top_end) + 1),
        };
        let lane_end = u64::from(l.range.end);
        let last = u32::try_from((to - 1).min(lane_end)).unwrap_or(u32::MAX);
        if let Some(first) = addr.checked_add(1) {
            if let Some(r) = Range::new(first, last) {
                add(&self.tele.within_known_cidr, self.seeds.count_in(r));
            }
        }
        if self.sweep.clip {
            if let Some(r) = Range::new(addr, last) {
                self.swept.insert(r);
                out.push(Write::Swept(r, self.sweep.depth.level()));
            }
        }
        let l = &mut self.all[lane];
        l.climb_depth = 0;
        l.attempts = 0;
        l.resume_at = None;
        l.top_end = top_end;
        self.move_cursor(lane, to, true);
    }

    /// Gives up the sweep address `addr` or marks it empty.
    fn after_empty(&mut self, lane: usize, addr: u32) -> Range {
        let end = self.gap_end(lane, addr);
        let l = &mut self.all[lane];
        l.attempts = 0;
        l.climb_depth = 0;
        self.move_cursor(lane, u64::from(end) + 1, false);
        Range { start: addr, end }
    }

    /// A failure recorded outside the lanes (a search key given up): the
    /// sweep clears it once it resolves the address.
    pub fn note_failure(&mut self, addr: u32) {
        self.failed.insert(addr);
    }

    fn clear_failures(&mut self, r: Range, out: &mut Vec<Write>) {
        let hit: Vec<u32> = self.failed.range(r.start..=r.end).copied().collect();
        for a in hit {
            self.failed.remove(&a);
            out.push(Write::ClearFailure(a));
        }
    }
}

/// The stored form of a network answer to `job`: the one place a
/// [`Record`] is built.
fn record(job: &Job, a: Answered, at: &Now) -> Write {
    Write::Network(
        Box::new(Record {
            registry: a.registry,
            network: *a.network,
            queried: Some(job.lookup.must_contain.start),
            source_url: a.url,
            fetched_at: at.rfc3339(),
        }),
        a.raw,
    )
}

/// The first address named by an ARIN network handle `NET-a-b-c-d-N`
/// (`None` for other handles, and for `N` = 0, ARIN's /8-level records).
fn arin_handle_start(handle: &str) -> Option<u32> {
    let rest = handle.strip_prefix("NET-")?;
    let parts: Vec<&str> = rest.split('-').collect();
    if parts.len() != 5 || parts[4] == "0" {
        return None;
    }
    let mut addr = 0u32;
    for p in &parts[..4] {
        let v: u8 = p.parse().ok()?;
        addr = (addr << 8) | u32::from(v);
    }
    Some(addr)
}

/// Splits `space` into lanes by bootstrap registry, then at `cuts` (sorted
/// addresses where a new lane should start, e.g. allocation starts). With
/// `delegated` (the space the registries list as held), lanes outside it get
/// `coarse` probing; its edges are cut too, so a lane is wholly in or out.
pub fn split(
    space: &[Range],
    routes: &[(Range, Registry)],
    cuts: &[u32],
    delegated: Option<&IntervalSet>,
    coarse: Option<u8>,
) -> Vec<LaneSpec> {
    let mut cuts = cuts.to_vec();
    if let Some(d) = delegated {
        for r in d.ranges() {
            cuts.push(r.start);
            if let Some(after) = r.end.checked_add(1) {
                cuts.push(after);
            }
        }
    }
    cuts.sort_unstable();
    cuts.dedup();
    let coarse_at = |start: u32| match delegated {
        Some(d) if !d.contains(start) => coarse,
        _ => None,
    };
    let mut out = Vec::new();
    for s in space {
        let i = routes.partition_point(|(r, _)| r.end < s.start);
        for (r, reg) in &routes[i..] {
            if r.start > s.end {
                break;
            }
            let Some(piece) = r.intersect(s) else {
                continue;
            };
            let j = cuts.partition_point(|&c| c <= piece.start);
            let mut start = piece.start;
            for &c in &cuts[j..] {
                if c > piece.end {
                    break;
                }
                out.push(LaneSpec {
                    registry: *reg,
                    range: Range { start, end: c - 1 },
                    coarse: coarse_at(start),
                });
                start = c;
            }
            out.push(LaneSpec {
                registry: *reg,
                range: Range {
                    start,
                    end: piece.end,
                },
                coarse: coarse_at(start),
            });
        }
    }
    out
}

/// One single-address lane per seed (the 2016 strategy: every seed asked
/// unless a known network covers it when its turn comes; no sweep).
pub fn per_seed(space: &[Range], routes: &[(Range, Registry)], seeds: &SeedSet) -> Vec<LaneSpec> {
    let mut out = Vec::new();
    for s in space {
        let mut a = seeds.next_at_or_after(s.start);
        while let Some(x) = a.filter(|&x| x <= s.end) {
            let i = routes.partition_point(|(r, _)| r.end < x);
            if let Some((r, reg)) = routes.get(i) {
                if r.contains(x) {
                    out.push(LaneSpec {
                        registry: *reg,
                        range: Range { start: x, end: x },
                        coarse: None,
                    });
                }
            }
            a = x.checked_add(1).and_then(|n| seeds.next_at_or_after(n));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prefix::{parse_addr_lenient, parse_range_lenient, Cidr};
    use std::time::Instant;

    fn a(s: &str) -> u32 {
        parse_addr_lenient(s).unwrap()
    }

    fn r(s: &str) -> Range {
        parse_range_lenient(s).unwrap()
    }

    fn at() -> Now {
        Now {
            instant: Instant::now(),
            unix_secs: 0,
        }
    }

    fn net(start: &str, end: &str, parent: Option<&str>) -> Network {
        Network {
            handle: format!("{start} - {end}"),
            range: Range::new(a(start), a(end)).unwrap(),
            name: None,
            net_type: None,
            country: None,
            parent_handle: parent.map(str::to_string),
            parent_range: parent.and_then(parse_range_lenient),
            up_link: None,
            status: vec![],
            entities: vec![],
            registration: None,
            last_changed: None,
            placeholder: false,
        }
    }

    fn answered(n: Network) -> Answered {
        Answered {
            network: Box::new(n),
            registry: Registry::Ripe,
            url: "http://x/".into(),
            raw: b"{}".to_vec(),
        }
    }

    /// One RIPE lane over `space` (seeds every /24), with `known` networks
    /// stored (and swept) and `gaps` probed by an earlier crawl.
    fn one_lane(
        space: &str,
        coarse: Option<u8>,
        depth: Depth,
        known: &[&str],
        gaps: &[&str],
    ) -> Lanes {
        let c: Cidr = space.parse().unwrap();
        let plan = crate::seeds::grid(&[c], 24).unwrap();
        let set =
            |v: &[&str]| KnownSet::from_set(&IntervalSet::from_ranges(v.iter().map(|s| r(s))));
        let nets: Vec<(Range, Registry)> = known.iter().map(|s| (r(s), Registry::Ripe)).collect();
        Lanes::new(
            &[LaneSpec {
                registry: Registry::Ripe,
                range: c.range(),
                coarse,
            }],
            Arc::new(plan.seeds),
            Known {
                swept: set(known),
                gaps: set(gaps),
                nets: NetIndex::from_keys(&nets),
                failed: BTreeSet::new(),
            },
            Sweep::lanes(depth),
            Arc::new(Telemetry::default()),
        )
    }

    fn next(l: &mut Lanes) -> Job {
        let lookup = l.next_lookup(0).expect("a lookup");
        Job { lane: 0, lookup }
    }

    /// Answers `job` with `n` and returns what the lane releases.
    fn reply(l: &mut Lanes, job: &Job, n: Network) -> Vec<Write> {
        let mut out = Vec::new();
        l.network(job, answered(n), &at(), &mut out);
        l.release(job.lane, out)
    }

    fn networks(w: &[Write]) -> Vec<Range> {
        w.iter()
            .filter_map(|w| match w {
                Write::Network(rec, _) => Some(rec.network.range),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn known_networks_and_probed_gaps_cost_no_query() {
        let mut l = one_lane(
            "11.0.0.0/22",
            None,
            Depth::All,
            &["11.0.0.0 - 11.0.0.255"],
            &["11.0.1.0 - 11.0.1.255"],
        );
        let j = next(&mut l);
        assert_eq!(j.lookup.target, Target::Addr(a("11.0.2.0")));
        assert_eq!(j.lookup.kind, JobKind::Sweep);
        assert_eq!(j.lookup.must_contain, r("11.0.2.0"));
        let t = l.tele.snapshot();
        assert_eq!(t.within_known_cidr, 1, "the seed inside the known network");
        assert_eq!(t.found_registry, 1);
        assert_eq!(l.progress(), (512, 1024));
    }

    #[test]
    fn a_continuation_is_asked_off_the_seed_grid_and_an_empty_answer_steps_to_the_next_seed() {
        let mut l = one_lane("11.0.0.0/22", None, Depth::All, &[], &[]);
        let j = next(&mut l);
        assert_eq!(
            j.lookup.addr,
            a("11.0.0.0"),
            "a lane starts at its first address"
        );
        reply(&mut l, &j, net("11.0.0.0", "11.0.0.127", None));
        let j = next(&mut l);
        assert_eq!(j.lookup.addr, a("11.0.0.128"));
        let mut out = Vec::new();
        l.not_found(&j, &mut out);
        assert!(
            matches!(out[..], [Write::Gap(g, GapKind::NotFound, Registry::Ripe)] if g == r("11.0.0.128 - 11.0.0.255"))
        );
        assert_eq!(next(&mut l).lookup.addr, a("11.0.1.0"));
    }

    #[test]
    fn a_coarse_lane_steps_over_the_whole_block_after_an_empty_answer() {
        let mut l = one_lane("11.0.0.0/15", Some(16), Depth::All, &[], &[]);
        let j = next(&mut l);
        let mut out = Vec::new();
        l.not_found(&j, &mut out);
        assert!(matches!(out[..], [Write::Gap(g, ..)] if g == r("11.0.0.0/16")));
        let j = next(&mut l);
        assert_eq!(j.lookup.addr, a("11.1.0.0"));
        l.not_found(&j, &mut out);
        assert!(l.next_lookup(0).is_none(), "the lane is swept");
        assert!(l.finished());
        assert_eq!(l.progress(), (1 << 17, 1 << 17));
    }

    #[test]
    fn a_climb_holds_its_writes_until_it_ends_and_skips_the_parents_children() {
        let mut l = one_lane("11.0.0.0/16", None, Depth::Coverage, &[], &[]);
        let j = next(&mut l);
        let w = reply(
            &mut l,
            &j,
            net("11.0.0.0", "11.0.0.7", Some("11.0.0.0 - 11.0.63.255")),
        );
        assert!(w.is_empty(), "held while climbing: {w:?}");
        assert_eq!(
            l.queue_of(0),
            Some((Registry::Ripe, true)),
            "a climb goes first"
        );
        let p = next(&mut l);
        assert_eq!(p.lookup.kind, JobKind::Parent);
        assert_eq!(
            p.lookup.target,
            Target::Prefix("11.0.0.0/18".parse().unwrap())
        );
        assert_eq!(p.lookup.must_contain, r("11.0.0.0 - 11.0.0.7"));
        let w = reply(&mut l, &p, net("11.0.0.0", "11.0.63.255", None));
        assert_eq!(
            networks(&w),
            vec![r("11.0.0.0 - 11.0.0.7"), r("11.0.0.0/18")],
            "child and parent stored together"
        );
        assert_eq!(l.queue_of(0), Some((Registry::Ripe, false)));
        assert_eq!(next(&mut l).lookup.addr, a("11.0.64.0"));
        assert_eq!(l.tele.snapshot().parent_queries, 1);
        // The 63 seeds under the parent after the first one are skipped.
        assert_eq!(l.tele.snapshot().within_known_cidr, 63);
    }

    #[test]
    fn a_climb_stops_after_max_climb_hops() {
        let mut l = one_lane("11.0.0.0/16", None, Depth::Coverage, &[], &[]);
        let mut j = next(&mut l);
        // Each answer names a parent twice its size: 11.0.0.0/31, /30, ...
        for hop in 0..=MAX_CLIMB {
            let len = 31 - hop;
            let size = 1u32 << (32 - len);
            let end = fmt(a("11.0.0.0") + size - 1);
            let parent = format!("11.0.0.0/{}", len - 1);
            let w = reply(&mut l, &j, net("11.0.0.0", &end, Some(&parent)));
            if hop < MAX_CLIMB {
                assert!(w.is_empty(), "hop {hop}: still climbing");
                j = next(&mut l);
                assert_eq!(j.lookup.kind, JobKind::Parent, "hop {hop}");
            } else {
                assert_eq!(networks(&w).len() as u32, MAX_CLIMB + 1, "all released");
            }
        }
        assert_eq!(next(&mut l).lookup.kind, JobKind::Sweep);
    }

    fn fmt(x: u32) -> String {
        crate::prefix::fmt_addr(x)
    }

    #[test]
    fn an_arin_parent_handle_names_the_prefix_to_climb_to() {
        let mut l = one_lane("11.0.0.0/16", None, Depth::Coverage, &[], &[]);
        let j = next(&mut l);
        let mut child = net("11.0.0.0", "11.0.0.255", None);
        child.parent_handle = Some("NET-11-0-0-0-1".into());
        reply(&mut l, &j, child);
        let p = next(&mut l);
        assert_eq!(
            p.lookup.target,
            Target::Prefix("11.0.0.0/24".parse().unwrap())
        );
    }

    #[test]
    fn depth_all_stores_the_missing_parent_and_continues_after_the_child() {
        let mut l = one_lane("11.0.0.0/16", None, Depth::All, &[], &[]);
        let j = next(&mut l);
        let w = reply(
            &mut l,
            &j,
            net("11.0.0.0", "11.0.0.7", Some("11.0.0.0 - 11.0.63.255")),
        );
        assert!(w.is_empty(), "held while the parent is fetched");
        let p = next(&mut l);
        assert_eq!(p.lookup.kind, JobKind::Parent);
        assert_eq!(
            p.lookup.target,
            Target::Prefix("11.0.0.0/18".parse().unwrap())
        );
        let w = reply(&mut l, &p, net("11.0.0.0", "11.0.63.255", None));
        assert_eq!(
            networks(&w),
            vec![r("11.0.0.0 - 11.0.0.7"), r("11.0.0.0 - 11.0.63.255")]
        );
        assert!(
            w.iter().any(
                |w| matches!(w, Write::Swept(s, Level::All) if *s == r("11.0.0.0 - 11.0.0.7"))
            ),
            "only what the sweep asked about is swept: {w:?}"
        );
        // Not after the parent: its other children are still to be met.
        assert_eq!(next(&mut l).lookup.addr, a("11.0.0.8"));
        // A sibling names the same parent: stored now, so no second climb.
        let j = next_after(&mut l, a("11.0.0.8"));
        let w = reply(
            &mut l,
            &j,
            net("11.0.0.8", "11.0.0.15", Some("11.0.0.0 - 11.0.63.255")),
        );
        assert_eq!(networks(&w), vec![r("11.0.0.8 - 11.0.0.15")]);
        assert_eq!(next(&mut l).lookup.addr, a("11.0.0.16"));
    }

    #[test]
    fn depth_all_never_skips_the_siblings_inside_a_stored_parent() {
        // The parent was stored by an earlier crawl (and swept at depth all
        // only where that crawl asked): its children are still asked.
        let mut l = one_lane("11.0.0.0/22", None, Depth::All, &[], &[]);
        l.nets.insert(
            r("11.0.0.0 - 11.0.3.255"),
            Registry::Ripe,
            r("11.0.3.255").start,
        );
        let j = next(&mut l);
        let w = reply(
            &mut l,
            &j,
            net("11.0.0.0", "11.0.0.63", Some("11.0.0.0 - 11.0.3.255")),
        );
        assert_eq!(
            networks(&w),
            vec![r("11.0.0.0 - 11.0.0.63")],
            "no climb: the parent is stored"
        );
        let j = next(&mut l);
        assert_eq!(j.lookup.addr, a("11.0.0.64"), "the next sibling is asked");
        let w = reply(&mut l, &j, net("11.0.0.0", "11.0.3.255", None));
        assert_eq!(networks(&w), vec![r("11.0.0.0 - 11.0.3.255")]);
        assert!(
            l.next_lookup(0).is_none(),
            "after the parent's end: the lane is swept"
        );
    }

    /// The lane's next lookup, which must be at `addr`.
    fn next_after(_l: &mut Lanes, addr: u32) -> Job {
        Job {
            lane: 0,
            lookup: Lookup {
                registry: Registry::Ripe,
                target: Target::Addr(addr),
                kind: JobKind::Sweep,
                addr,
                must_contain: Range {
                    start: addr,
                    end: addr,
                },
            },
        }
    }

    #[test]
    fn placeholders_are_stored_once_and_never_cover_anything() {
        let mut l = one_lane("11.0.0.0/22", None, Depth::Coverage, &[], &[]);
        let mut ph = net("0.0.0.0", "255.255.255.255", None);
        ph.placeholder = true;
        let j = next(&mut l);
        let w = reply(&mut l, &j, ph.clone());
        assert_eq!(networks(&w).len(), 1);
        assert!(matches!(w[1], Write::Gap(g, GapKind::Placeholder, _) if g == r("11.0.0.0/24")));
        let j = next(&mut l);
        assert_eq!(j.lookup.addr, a("11.0.1.0"), "a placeholder covers nothing");
        let w = reply(&mut l, &j, ph);
        assert!(
            networks(&w).is_empty(),
            "the same placeholder is stored once"
        );
        assert_eq!(w.len(), 1, "only the gap: {w:?}");
        assert_eq!(l.tele.snapshot().by_registry["ripe"].placeholders, 2);
    }

    #[test]
    fn giving_up_a_parent_lookup_ends_the_climb_without_a_failure() {
        let mut l = one_lane("11.0.0.0/16", None, Depth::Coverage, &[], &[]);
        let j = next(&mut l);
        reply(
            &mut l,
            &j,
            net("11.0.0.0", "11.0.0.7", Some("11.0.0.0 - 11.0.63.255")),
        );
        let p = next(&mut l);
        assert_eq!(l.failed_attempt(0), 1);
        let mut out = Vec::new();
        l.give_up(&p, "HTTP 400".into(), &at(), &mut out);
        let w = l.release(0, out);
        assert_eq!(
            networks(&w),
            vec![r("11.0.0.0 - 11.0.0.7")],
            "the child is released"
        );
        assert!(!w.iter().any(|w| matches!(w, Write::Failure(_))));
        assert_eq!(next(&mut l).lookup.addr, a("11.0.0.8"));
    }

    #[test]
    fn a_failure_is_cleared_by_the_network_that_later_covers_it() {
        let c: Cidr = "11.0.0.0/22".parse().unwrap();
        let plan = crate::seeds::grid(&[c], 24).unwrap();
        let mut l = Lanes::new(
            &[LaneSpec {
                registry: Registry::Ripe,
                range: c.range(),
                coarse: None,
            }],
            Arc::new(plan.seeds),
            Known {
                failed: BTreeSet::from([a("11.0.0.9")]),
                ..Known::default()
            },
            Sweep::lanes(Depth::All),
            Arc::new(Telemetry::default()),
        );
        let j = next(&mut l);
        let w = reply(&mut l, &j, net("11.0.0.0", "11.0.0.255", None));
        assert!(w
            .iter()
            .any(|w| matches!(w, Write::ClearFailure(x) if *x == a("11.0.0.9"))));
    }

    #[test]
    fn lanes_split_by_registry_and_cuts() {
        let routes = vec![
            (
                Range::new(a("1.0.0.0"), a("1.255.255.255")).unwrap(),
                Registry::Apnic,
            ),
            (
                Range::new(a("2.0.0.0"), a("2.255.255.255")).unwrap(),
                Registry::Ripe,
            ),
        ];
        let space = [Range::new(a("1.128.0.0"), a("2.0.255.255")).unwrap()];
        let l = split(&space, &routes, &[a("1.200.0.0")], None, Some(16));
        assert_eq!(l.len(), 3);
        assert_eq!(l[0].range.end, a("1.199.255.255"));
        assert_eq!(l[1].range.start, a("1.200.0.0"));
        assert_eq!(l[2].registry, Registry::Ripe);
        assert!(l.iter().all(|l| l.coarse.is_none()));
        // Delegated space splits lanes too; the rest is probed coarsely.
        let held =
            IntervalSet::from_ranges([Range::new(a("1.128.0.0"), a("1.129.255.255")).unwrap()]);
        let l = split(&space, &routes, &[], Some(&held), Some(16));
        assert_eq!(
            l[0].range,
            Range::new(a("1.128.0.0"), a("1.129.255.255")).unwrap()
        );
        assert_eq!(l[0].coarse, None);
        assert_eq!(l[1].range.start, a("1.130.0.0"));
        assert_eq!(l[1].coarse, Some(16));
    }

    #[test]
    fn one_lane_per_seed_inside_a_route() {
        let routes = vec![(r("1.0.0.0/8"), Registry::Apnic)];
        let plan = crate::seeds::grid(
            &["2.0.0.0/24".parse().unwrap(), "1.0.0.0/23".parse().unwrap()],
            24,
        )
        .unwrap();
        let l = per_seed(plan.space.ranges(), &routes, &plan.seeds);
        let starts: Vec<u32> = l.iter().map(|l| l.range.start).collect();
        assert_eq!(
            starts,
            vec![a("1.0.0.0"), a("1.0.1.0")],
            "no route, no lane"
        );
        assert!(l
            .iter()
            .all(|l| l.range.len() == 1 && l.registry == Registry::Apnic));
    }

    #[test]
    fn arin_parent_handles() {
        assert_eq!(arin_handle_start("NET-74-125-0-0-1"), Some(a("74.125.0.0")));
        assert_eq!(arin_handle_start("NET-108-0-0-0-0"), None);
        assert_eq!(arin_handle_start("NET-1-2-3"), None);
        assert_eq!(arin_handle_start("RU-ROSNIIROS-194-85"), None);
    }
}
