//! Enumerating one registry's networks with RFC 9910 search (DESIGN §6.1):
//! which searches to ask, what each answer means, what to store. Pure: no
//! threads, no clock, no I/O; the scheduler dispatches its [`Ask`]s under the
//! registry's politeness and feeds back [`Reply`]s.
//!
//! A walk covers *regions*: the registry's bootstrap blocks inside the crawl's
//! space (one shard's part of them, or the `--within` prefixes). Each region
//! is cut into CIDR keys (ARIN takes nothing else), searched whole first:
//! - [`Level::All`] (`--depth all`): `rdap-bottom` of each key returns every
//!   network inside it except the intermediates wholly covered by their
//!   children; those are fetched one by one with `rdap-up` from a child that
//!   names them as parent (or a lookup of the child's covering prefix where
//!   the registry takes CIDR keys only and the child is not one);
//! - [`Level::Top`] (the default coverage-first crawl): `rdap-down` of each
//!   key returns its maximal networks, the top-level ones; a region root is
//!   first looked up whole (`ip/{prefix}`), since `rdap-down` never returns
//!   the key itself when it is a registered network.
//!
//! A set the server refused as too large (RIPE's 400 "Too Many Rows") or
//! cut (ARIN's truncation notice) is split into its two halves and asked
//! again, down to [`MAX_SPLIT_LEN`]; beyond that, or when a cut answer holds
//! fewer than [`MIN_CUT_MEMBERS`] members (a server that truncates without
//! reason), the key is left to the address sweep. A split needs one lookup at
//! the boundary between the halves: a network crossing it lies inside
//! neither half and is in neither answer. The lookup returns the deepest
//! network at the boundary; if it starts before it, it and all its
//! ancestors cross the boundary, and are climbed to the top; if it starts
//! at the boundary and its parent before, the climb starts at its parent.
//!
//! What is marked done ([`Step::swept`]) is the union of the non-placeholder
//! networks found, never a whole key: space a key's answer leaves empty may be
//! free or may be held by another registry (a transfer), and the sweep probes
//! it as usual. A key is recorded as searched ([`Step::searched`]) only once
//! all the parents its answer needs are fetched, so a crawl killed in between
//! asks that key again on resume (one search), and nothing is lost.

use std::collections::{HashSet, VecDeque};

use crate::prefix::{Cidr, Range};
use crate::rdap::search::{Key, Member, Relation, SetAnswer};
use crate::rdap::{Network, Registry, Target};

/// Longest prefix a key is split to; a longer key still refused or cut is
/// left to the sweep.
pub const MAX_SPLIT_LEN: u8 = 28;

/// A cut answer with fewer members than this is not split (splitting a set
/// the server will not show even a few of cannot converge): the key is left
/// to the sweep.
pub const MIN_CUT_MEMBERS: usize = 8;

/// How many levels a climb to a missing parent may go.
pub const MAX_CLIMB: u32 = 8;

/// What the walk enumerates.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Level {
    /// The top-level networks (coverage first; `rdap-down`).
    Top,
    /// Every network at every level (`--depth all`; `rdap-bottom` + `rdap-up`).
    All,
}

/// How a registry takes search keys.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Dialect {
    /// Whether it takes range keys `a.b.c.d - e.f.g.h` (RIPE NCC does; ARIN
    /// takes only an address or `prefix/len`).
    pub range_keys: bool,
}

impl Dialect {
    /// What each registry is known to accept.
    pub fn of(r: Registry) -> Dialect {
        Dialect {
            range_keys: r == Registry::Ripe,
        }
    }
}

/// One piece of work.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Task {
    /// `ip/{root}`: is the region root itself (inside) a registered network?
    /// (Top level only; the down set never holds the key itself.)
    Root {
        /// The root key.
        key: Cidr,
    },
    /// `rdap-down` or `rdap-bottom` of a key.
    Set {
        /// The key.
        key: Cidr,
    },
    /// `ip/{at}`: the deepest network at a split boundary (does one cross it?).
    Boundary {
        /// First address right of the boundary.
        at: u32,
    },
    /// The parent of `child`, missing from every set.
    Parent {
        /// The network whose parent is wanted.
        child: Range,
        /// Its `parentHandle`, as sent (to recognise the answer).
        handle: Option<String>,
        /// The key whose answer named it (recorded as searched once done).
        key: Option<Cidr>,
        /// Levels climbed so far.
        depth: u32,
    },
    /// `rdap-down` of `probe`, looking for the parent named `handle` among
    /// its members (a CIDR-only registry whose covering-prefix lookup
    /// skipped the parent).
    FindParent(FindParent),
    /// `rdap-top` of a nested network (Top level): its top-level network.
    Top {
        /// The network.
        of: Range,
        /// The root key to record as searched once the top is known.
        key: Option<Cidr>,
    },
}

/// See [`Task::FindParent`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FindParent {
    /// The network whose parent is wanted.
    pub child: Range,
    /// The parent's handle.
    pub handle: String,
    /// The key whose answer named it.
    pub key: Option<Cidr>,
    /// Levels and probes so far.
    pub depth: u32,
    /// The prefix searched now.
    pub probe: Cidr,
    /// A range known to hold the parent strictly (the ancestor the lookup
    /// answered, or the key): probing stops before a prefix as large as it.
    pub above: Range,
}

/// What to ask the registry for a task.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ask {
    /// An RFC 9910 search.
    Search(Relation, Key),
    /// A lookup (`ip/...`).
    Lookup(Target),
}

/// What came back for a task, after politeness and retries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reply {
    /// A result set (down/bottom).
    Set(SetAnswer),
    /// One network (up/top, or a lookup), with its raw JSON.
    One(Box<Network>, Vec<u8>),
    /// Nothing there: 404, or a placeholder (which owns nothing).
    NoneThere,
    /// Too many results, or refused for spanning several holders: split.
    Split,
    /// The registry does not serve search after all (501).
    Unsupported,
    /// Given up (refused key, a broken or hostile answer after retries).
    Failed(String),
    /// The key was redirected to a registry that serves no search (space
    /// transferred to it): left to the lookup sweep, no failure, no split.
    Elsewhere(String),
}

/// What a completed task asks of the scheduler.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Step {
    /// Networks (and placeholders) to store, with their raw JSON.
    pub store: Vec<Member>,
    /// Space now known at the walk's level (unions of networks found).
    pub swept: Vec<Range>,
    /// Keys fully searched (persisted, so a resumed walk skips them).
    pub searched: Vec<Range>,
    /// Keys given up, left to the address sweep, with the reason.
    pub fallback: Vec<(Range, String)>,
    /// The registry answered 501: stop searching it; everything not yet
    /// searched is left to the sweep.
    pub unsupported: bool,
}

/// Counters of one walk.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WalkStats {
    /// Set searches asked (down/bottom).
    pub sets: u64,
    /// Keys split.
    pub splits: u64,
    /// Boundary lookups.
    pub boundaries: u64,
    /// Parent fetches (up, or a covering-prefix lookup).
    pub parents: u64,
    /// Parents that could not be pinned down (the answer skipped a level).
    pub parents_unresolved: u64,
    /// Keys left to the sweep.
    pub fallbacks: u64,
    /// Members received.
    pub members: u64,
}

/// Per key: what its answer named, while its parents are fetched.
#[derive(Debug)]
struct Open {
    key: Cidr,
    pending: u32,
    /// Handles and ranges of the networks known under this key.
    seen_handles: HashSet<String>,
    seen_ranges: HashSet<(u32, u32)>,
}

/// The walk over one registry's regions.
#[derive(Debug)]
pub struct Walk {
    registry: Registry,
    level: Level,
    dialect: Dialect,
    queue: VecDeque<Task>,
    open: Vec<Open>,
    inflight: usize,
    stopped: bool,
    stats: WalkStats,
}

impl Walk {
    /// A walk of `registry` at `level` over `regions` (sorted, disjoint),
    /// minus the parts `searched` already (a resumed crawl).
    pub fn new(
        registry: Registry,
        level: Level,
        dialect: Dialect,
        regions: &[Range],
        searched: &[Range],
    ) -> Walk {
        let mut walk = Walk {
            registry,
            level,
            dialect,
            queue: VecDeque::new(),
            open: Vec::new(),
            inflight: 0,
            stopped: false,
            stats: WalkStats::default(),
        };
        for region in regions {
            walk.add_region(*region, searched);
        }
        walk
    }

    /// Adds `region` (minus the parts `searched`) to the walk, after what
    /// is queued: space found held by this registry in another registry's
    /// lanes (a transfer), enumerated like its own regions.
    pub fn add_region(&mut self, region: Range, searched: &[Range]) {
        for piece in subtract(region, searched) {
            let keys = piece.to_cidrs();
            for (i, key) in keys.iter().enumerate() {
                if self.level == Level::Top {
                    self.queue.push_back(Task::Root { key: *key });
                } else {
                    self.queue.push_back(Task::Set { key: *key });
                }
                if i > 0 {
                    self.queue.push_back(Task::Boundary { at: key.addr() });
                }
            }
        }
    }

    /// The registry walked.
    pub fn registry(&self) -> Registry {
        self.registry
    }

    /// Counters so far.
    pub fn stats(&self) -> WalkStats {
        self.stats
    }

    /// Whether nothing is left to ask or waiting for an answer.
    pub fn is_done(&self) -> bool {
        self.inflight == 0 && (self.queue.is_empty() || self.stopped)
    }

    /// Tasks waiting to be asked.
    pub fn queued(&self) -> usize {
        if self.stopped {
            0
        } else {
            self.queue.len()
        }
    }

    /// Tasks asked and not yet answered.
    pub fn inflight(&self) -> usize {
        self.inflight
    }

    /// The next task and what to ask for it (`None`: nothing now). One task
    /// is in flight at a time: the order of the queue is what makes a
    /// resumed walk lose nothing (see the module docs), and a registry's
    /// search answers are large.
    pub fn next_task(&mut self) -> Option<(Task, Ask)> {
        if self.stopped || self.inflight > 0 {
            return None;
        }
        let task = self.queue.pop_front()?;
        self.inflight += 1;
        let ask = self.ask(&task);
        match &task {
            Task::Set { .. } => self.stats.sets += 1,
            Task::Boundary { .. } => self.stats.boundaries += 1,
            Task::Parent { .. } | Task::FindParent(_) => self.stats.parents += 1,
            Task::Root { .. } | Task::Top { .. } => {}
        }
        Some((task, ask))
    }

    /// Puts a task back unasked (the crawl is stopping, or the query budget
    /// ran out): it stays for the next run.
    pub fn give_back(&mut self, task: Task) {
        self.inflight = self.inflight.saturating_sub(1);
        self.queue.push_front(task);
    }

    fn ask(&self, task: &Task) -> Ask {
        match task {
            Task::Root { key } => Ask::Lookup(Target::Prefix(*key)),
            Task::Set { key } => {
                let rel = match self.level {
                    Level::Top => Relation::Down,
                    Level::All => Relation::Bottom,
                };
                Ask::Search(rel, Key::Cidr(*key))
            }
            Task::Boundary { at } => Ask::Lookup(Target::Addr(*at)),
            Task::Parent { child, .. } => match child.as_cidr() {
                Some(c) => Ask::Search(Relation::Up, Key::Cidr(c)),
                None if self.dialect.range_keys => Ask::Search(Relation::Up, Key::Range(*child)),
                // A CIDR-only registry and a child that is no CIDR: the most
                // specific network holding its covering prefix (its parent
                // when that prefix fits inside it).
                None => Ask::Lookup(Target::Prefix(child.covering_cidr())),
            },
            Task::FindParent(f) => Ask::Search(Relation::Down, Key::Cidr(f.probe)),
            Task::Top { of, .. } => {
                let key = match of.as_cidr() {
                    Some(c) => Key::Cidr(c),
                    None if self.dialect.range_keys => Key::Range(*of),
                    None => Key::Cidr(of.to_cidrs()[0]),
                };
                Ask::Search(Relation::Top, key)
            }
        }
    }

    /// What an answer must cover (a lookup or up/top) for `task`, so the
    /// parser can refuse an answer about something else.
    pub fn must_contain(task: &Task) -> Range {
        match task {
            Task::Root { key } | Task::Set { key } => key.range(),
            Task::Boundary { at } => Range {
                start: *at,
                end: *at,
            },
            Task::Parent { child, .. } => *child,
            Task::FindParent(f) => f.probe.range(),
            Task::Top { of, .. } => *of,
        }
    }

    /// Takes the reply to `task`; returns what to store and mark.
    pub fn complete(&mut self, task: Task, reply: Reply) -> Step {
        self.inflight = self.inflight.saturating_sub(1);
        let mut step = Step::default();
        if reply == Reply::Unsupported {
            self.stopped = true;
            step.unsupported = true;
            return step;
        }
        match task {
            Task::Root { key } => self.root_done(key, reply, &mut step),
            Task::Set { key } => self.set_done(key, reply, &mut step),
            Task::Boundary { at } => self.boundary_done(at, reply, &mut step),
            Task::Parent {
                child,
                handle,
                key,
                depth,
            } => self.parent_done(child, handle.as_deref(), key, depth, reply, &mut step),
            Task::FindParent(f) => self.find_parent_done(f, reply, &mut step),
            Task::Top { of, key } => {
                if let Reply::One(n, raw) = reply {
                    if !n.placeholder && n.range.contains_range(&of) {
                        step.swept.push(n.range);
                        step.store.push(Member { network: *n, raw });
                    }
                }
                // 404: `of` is itself top-level (stored already).
                if let Some(k) = key {
                    step.searched.push(k.range());
                }
            }
        }
        step
    }

    fn root_done(&mut self, key: Cidr, reply: Reply, step: &mut Step) {
        match reply {
            // A real network holds the whole root: it is its top-level
            // network (or inside one: climb to the top).
            Reply::One(n, raw) if !n.placeholder && n.range.contains_range(&key.range()) => {
                let top_here = n
                    .parent_range
                    .is_none_or(|p| !p.contains_range(&n.range) || p == n.range);
                let range = n.range;
                step.store.push(Member { network: *n, raw });
                step.swept.push(range);
                if top_here {
                    step.searched.push(key.range());
                } else {
                    // The root lies inside a nested network: its top-level
                    // network holds the whole root, no set is needed.
                    self.queue.push_front(Task::Top {
                        of: range,
                        key: Some(key),
                    });
                }
            }
            Reply::Failed(_)
            | Reply::Elsewhere(_)
            | Reply::One(..)
            | Reply::NoneThere
            | Reply::Split
            | Reply::Set(_) => {
                self.queue.push_front(Task::Set { key });
            }
            Reply::Unsupported => {}
        }
    }

    fn set_done(&mut self, key: Cidr, reply: Reply, step: &mut Step) {
        match reply {
            Reply::Set(answer) if !answer.truncated => {
                self.stats.members += answer.members.len() as u64;
                self.take_set(key, answer, step);
            }
            Reply::Set(answer) => {
                self.stats.members += answer.members.len() as u64;
                if answer.members.len() < MIN_CUT_MEMBERS {
                    self.fall_back(
                        key,
                        format!(
                            "search {key}: the server cut the set at {} members",
                            answer.members.len()
                        ),
                        step,
                    );
                } else {
                    self.split(key, step);
                }
            }
            Reply::Split => self.split(key, step),
            Reply::Failed(reason) | Reply::Elsewhere(reason) => self.fall_back(key, reason, step),
            Reply::One(..) | Reply::NoneThere => {
                self.fall_back(key, format!("search {key}: expected a result set"), step);
            }
            Reply::Unsupported => {}
        }
    }

    fn split(&mut self, key: Cidr, step: &mut Step) {
        if key.len() >= MAX_SPLIT_LEN {
            self.fall_back(
                key,
                format!("search {key}: still too many results at /{}", key.len()),
                step,
            );
            return;
        }
        self.stats.splits += 1;
        let len = key.len() + 1;
        let left = Cidr::new_masked(key.addr(), len);
        let right_start = key.addr() | (1u32 << (32 - u32::from(len)));
        let right = Cidr::new_masked(right_start, len);
        // Depth first (a split key's halves are asked next, so the queue
        // holds one region's keys at a time), the boundary before the
        // halves: a crawl killed after both halves were recorded as searched
        // has then already found what crosses between them.
        self.queue.push_front(Task::Set { key: right });
        self.queue.push_front(Task::Set { key: left });
        self.queue.push_front(Task::Boundary { at: right_start });
    }

    fn fall_back(&mut self, key: Cidr, reason: String, step: &mut Step) {
        self.stats.fallbacks += 1;
        step.fallback.push((key.range(), reason));
    }

    /// A complete set: store it, mark what it covers, fetch missing parents.
    fn take_set(&mut self, key: Cidr, answer: SetAnswer, step: &mut Step) {
        let k = key.range();
        let mut open = Open {
            key,
            pending: 0,
            seen_handles: HashSet::new(),
            seen_ranges: HashSet::new(),
        };
        for m in &answer.members {
            if !m.network.placeholder {
                step.swept.push(m.network.range);
                open.seen_handles.insert(m.network.handle.clone());
                open.seen_ranges
                    .insert((m.network.range.start, m.network.range.end));
            }
        }
        let mut wanted: Vec<Task> = Vec::new();
        if self.level == Level::All {
            let mut asked: HashSet<String> = HashSet::new();
            for m in &answer.members {
                let n = &m.network;
                if n.placeholder || !parent_missing(n, k, &open) {
                    continue;
                }
                let id = parent_id(n);
                if asked.insert(id) {
                    wanted.push(Task::Parent {
                        child: n.range,
                        handle: n.parent_handle.clone(),
                        key: Some(key),
                        depth: 0,
                    });
                }
            }
        }
        step.store.extend(answer.members);
        if wanted.is_empty() {
            step.searched.push(k);
            return;
        }
        open.pending = wanted.len() as u32;
        self.open.push(open);
        for t in wanted.into_iter().rev() {
            self.queue.push_front(t);
        }
    }

    fn boundary_done(&mut self, at: u32, reply: Reply, step: &mut Step) {
        let Reply::One(n, raw) = reply else { return };
        if n.placeholder || !n.range.contains(at) {
            return;
        }
        if n.range.start == at {
            // `n` starts at the boundary: the right half's set holds it, but
            // its parent crosses the boundary when it starts left of it, and
            // then no half's set holds the parent or its ancestors.
            let parent_start = n
                .parent_range
                .filter(|p| *p != n.range)
                .map(|p| p.start)
                .or_else(|| arin_parent(&n));
            if parent_start.is_some_and(|s| s < at) {
                self.queue.push_front(match self.level {
                    Level::Top => Task::Top {
                        of: n.range,
                        key: None,
                    },
                    Level::All => Task::Parent {
                        child: n.range,
                        handle: n.parent_handle.clone(),
                        key: None,
                        depth: 0,
                    },
                });
            }
            return;
        }
        // `n` is the deepest network at `at` and starts left of it: it and
        // every ancestor cross the boundary, so no half's set holds them.
        let range = n.range;
        let handle = n.parent_handle.clone();
        let nested = n.parent_range.is_some_and(|p| p != range) || arin_parent(&n).is_some();
        step.swept.push(range);
        step.store.push(Member { network: *n, raw });
        match self.level {
            Level::Top if nested => self.queue.push_front(Task::Top {
                of: range,
                key: None,
            }),
            Level::All if nested => self.queue.push_front(Task::Parent {
                child: range,
                handle,
                key: None,
                depth: 0,
            }),
            _ => {}
        }
    }

    fn parent_done(
        &mut self,
        child: Range,
        handle: Option<&str>,
        key: Option<Cidr>,
        depth: u32,
        reply: Reply,
        step: &mut Step,
    ) {
        let mut above: Option<Range> = None;
        if let Reply::One(n, raw) = reply {
            if !n.placeholder && n.range.contains_range(&child) && n.range != child {
                if handle.is_none_or(|h| h == n.handle) || self.dialect.range_keys {
                    if handle.is_some_and(|h| h != n.handle) {
                        self.stats.parents_unresolved += 1;
                    }
                    self.found_parent(*n, raw, key, depth, step);
                    return;
                }
                // The covering prefix's lookup skipped the parent: keep what
                // it found (an ancestor) and look further below it.
                above = Some(n.range);
                step.swept.push(n.range);
                step.store.push(Member { network: *n, raw });
            }
        }
        // A CIDR-only registry, a child that is no CIDR: look for the parent
        // among the maximal networks of the smallest prefix from its first
        // address (the handle names it) over the child, then of ever larger
        // prefixes, up to what the lookup answered (or the key).
        let start = handle.and_then(|h| arin_handle_start(h, child.start));
        if let (false, Some(h), Some(s)) = (self.dialect.range_keys, handle, start) {
            let probe = Range {
                start: s,
                end: child.end,
            }
            .covering_cidr();
            let bound = above
                .or(key.map(|k| k.range()))
                .unwrap_or_else(|| Cidr::new_masked(child.start, 8).range());
            self.queue.push_front(Task::FindParent(FindParent {
                child,
                handle: h.to_string(),
                key,
                depth,
                probe,
                above: bound,
            }));
            return;
        }
        self.parent_finished(key, step);
    }

    fn find_parent_done(&mut self, task: FindParent, reply: Reply, step: &mut Step) {
        let FindParent {
            child,
            handle,
            key,
            depth,
            probe,
            above,
        } = task;
        if let Reply::Set(answer) = reply {
            let hit = answer
                .members
                .into_iter()
                .find(|m| m.network.handle == handle && m.network.range.contains_range(&child));
            if let Some(m) = hit {
                self.found_parent(m.network, m.raw, key, depth, step);
                return;
            }
            let bigger = probe
                .len()
                .checked_sub(1)
                .map(|l| Cidr::new_masked(probe.addr(), l));
            let within = |b: &Cidr| above.contains_range(&b.range()) && b.range() != above;
            if let Some(b) = bigger.filter(|b| within(b) && depth < MAX_CLIMB) {
                self.queue.push_front(Task::FindParent(FindParent {
                    child,
                    handle,
                    key,
                    depth: depth + 1,
                    probe: b,
                    above,
                }));
                return;
            }
        }
        self.stats.parents_unresolved += 1;
        self.parent_finished(key, step);
    }

    /// Stores a fetched parent and asks for its own parent when that one is
    /// missing too (inside the same key, not in its answer).
    fn found_parent(
        &mut self,
        n: Network,
        raw: Vec<u8>,
        key: Option<Cidr>,
        depth: u32,
        step: &mut Step,
    ) {
        let open = key.and_then(|k| self.open.iter().find(|o| o.key == k));
        let in_key = key.is_none_or(|k| k.range().contains_range(&n.range));
        let seen = open.is_some_and(|o| {
            n.parent_handle
                .as_deref()
                .is_some_and(|h| o.seen_handles.contains(h))
                || n.parent_range
                    .is_some_and(|p| o.seen_ranges.contains(&(p.start, p.end)))
        });
        let nested = n.parent_range.is_some_and(|p| p != n.range) || arin_parent(&n).is_some();
        let parent_inside = key.is_none_or(|k| {
            n.parent_range.map_or_else(
                || arin_parent(&n).is_some_and(|s| s >= k.addr()),
                |p| k.range().contains_range(&p),
            )
        });
        let more =
            (nested && !seen && in_key && parent_inside && depth + 1 < MAX_CLIMB).then(|| {
                Task::Parent {
                    child: n.range,
                    handle: n.parent_handle.clone(),
                    key,
                    depth: depth + 1,
                }
            });
        if let Some(k) = key {
            if let Some(o) = self.open.iter_mut().find(|o| o.key == k) {
                o.seen_handles.insert(n.handle.clone());
                o.seen_ranges.insert((n.range.start, n.range.end));
            }
        }
        step.swept.push(n.range);
        step.store.push(Member { network: n, raw });
        match more {
            // The same key stays open: one more parent to wait for.
            Some(t) => self.queue.push_front(t),
            None => self.parent_finished(key, step),
        }
    }

    /// One parent chain of `key` ended: the key is searched once all are.
    fn parent_finished(&mut self, key: Option<Cidr>, step: &mut Step) {
        if let Some(k) = key {
            if let Some(i) = self.open.iter().position(|o| o.key == k) {
                self.open[i].pending = self.open[i].pending.saturating_sub(1);
                if self.open[i].pending == 0 {
                    self.open.swap_remove(i);
                    step.searched.push(k.range());
                }
            }
        }
    }
}

/// Whether `n`'s parent should have been in a set of `key` and is not: the
/// parent lies inside the key (by its range, or for ARIN by the start its
/// handle names) and nothing in the answer is it.
fn parent_missing(n: &Network, key: Range, open: &Open) -> bool {
    if let Some(p) = n.parent_range {
        if p == n.range || !key.contains_range(&p) {
            return false;
        }
        return !open.seen_ranges.contains(&(p.start, p.end));
    }
    if let Some(start) = arin_parent(n) {
        if start < key.start {
            return false;
        }
        return n
            .parent_handle
            .as_deref()
            .is_some_and(|h| !open.seen_handles.contains(h));
    }
    false
}

/// The first address of an ARIN parent handle `NET-a-b-c-d-N` (`N` = 0 is
/// ARIN's administrative /8, no parent).
fn arin_parent(n: &Network) -> Option<u32> {
    arin_handle_start(n.parent_handle.as_deref()?, n.range.start)
}

/// The first address an ARIN handle `NET-a-b-c-d-N` names, when it is at or
/// before `child_start` (`N` = 0, the administrative /8s: none).
fn arin_handle_start(h: &str, child_start: u32) -> Option<u32> {
    let rest = h.strip_prefix("NET-")?;
    let parts: Vec<&str> = rest.split('-').collect();
    if parts.len() != 5 || parts[4] == "0" {
        return None;
    }
    let mut addr = 0u32;
    for p in &parts[..4] {
        let v: u8 = p.parse().ok()?;
        addr = (addr << 8) | u32::from(v);
    }
    (addr <= child_start).then_some(addr)
}

fn parent_id(n: &Network) -> String {
    match (n.parent_range, n.parent_handle.as_deref()) {
        (Some(p), _) => p.to_string(),
        (None, Some(h)) => h.to_string(),
        (None, None) => n.range.to_string(),
    }
}

/// `region` minus `done` (both address ranges), in order.
fn subtract(region: Range, done: &[Range]) -> Vec<Range> {
    let mut out = Vec::new();
    let mut cur = u64::from(region.start);
    let end = u64::from(region.end);
    let mut done: Vec<Range> = done.iter().filter_map(|d| d.intersect(&region)).collect();
    done.sort();
    for d in done {
        if u64::from(d.start) > cur {
            out.push(Range {
                start: cur as u32,
                end: d.start - 1,
            });
        }
        cur = cur.max(u64::from(d.end) + 1);
    }
    if cur <= end {
        out.push(Range {
            start: cur as u32,
            end: region.end,
        });
    }
    out
}

#[cfg(test)]
mod tests;
