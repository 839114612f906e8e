//! The crawl's RFC 9910 searches: per registry, first its `help` (does it
//! serve search?), then the [`Walk`] over its part of the crawl's space, and
//! what their answers store. The walk's rules are in [`super::search`]; this
//! file turns exchanges into walk replies and walk steps into [`Write`]s.
//!
//! While a registry's probe or walk runs, its lanes wait (they would ask
//! what the walk is about to return); once it ends, they sweep what the walk
//! did not mark as swept — free space, space held by other registries, keys
//! the walk left to the sweep. One search is in flight per registry at a
//! time (the walk's order is what makes a resumed walk lose nothing, and a
//! registry's result sets are large). Pure: no threads, no clock.

use std::time::Instant;

use super::search::{Ask, Dialect, Level, Reply, Task, Walk};
use super::telemetry::{add, inc, Telemetry};
use crate::prefix::Range;
use crate::rdap::search::{self, SearchReply};
use crate::rdap::{
    classify, classify_help, classify_search, Answer, Exchange, HelpAnswer, Registry, SearchAnswer,
    Target,
};
use crate::store::{self, Failure, Record, Write};
use crate::time::Now;
use crate::trie::IntervalSet;
use std::sync::Arc;

/// A search-side job for a worker.
#[derive(Clone, Debug)]
pub struct WalkJob {
    /// Registry asked.
    pub registry: Registry,
    /// What for.
    pub kind: WalkKind,
}

/// What a [`WalkJob`] asks.
#[derive(Clone, Debug)]
pub enum WalkKind {
    /// `{base}help`.
    Help,
    /// One task of the registry's walk.
    Task(Task, Ask),
}

impl WalkJob {
    /// The request to send.
    pub fn target(&self) -> Target {
        match &self.kind {
            WalkKind::Help => Target::Help,
            WalkKind::Task(_, Ask::Search(rel, key)) => Target::Search(*rel, *key),
            WalkKind::Task(_, Ask::Lookup(t)) => t.clone(),
        }
    }

    /// What the exchange means (the parse runs here, in the worker).
    pub fn classify(&self, exchange: Exchange) -> WalkAnswer {
        match &self.kind {
            WalkKind::Help => WalkAnswer::Help(classify_help(exchange)),
            WalkKind::Task(_, Ask::Search(rel, key)) => {
                WalkAnswer::Search(classify_search(exchange, *rel, *key))
            }
            WalkKind::Task(task, Ask::Lookup(_)) => {
                WalkAnswer::Lookup(classify(exchange, Walk::must_contain(task)))
            }
        }
    }
}

/// A classified answer to a [`WalkJob`].
#[derive(Clone, Debug)]
pub enum WalkAnswer {
    /// To a `help`.
    Help(HelpAnswer),
    /// To a search.
    Search(SearchAnswer),
    /// To a lookup (root, boundary, covering prefix).
    Lookup(Answer),
}

/// What a completed walk job asks of the scheduler, beyond its writes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Effect {
    /// Space now swept (the lanes skip it from now on).
    pub swept: Vec<Range>,
    /// Networks stored, for the lanes' exact index.
    pub stored: Vec<(Range, Registry)>,
    /// First addresses of keys given up (recorded as failures): the sweep
    /// clears each once it resolves the address.
    pub failed: Vec<u32>,
    /// A 429 or a retry: the registry's job waits until then (the
    /// scheduler asks politeness; this is the kind of wait).
    pub wait: Option<Wait>,
}

/// Why a walk job waits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wait {
    /// A 429 from this registry (with `Retry-After`, when sent).
    RateLimited(Registry, Option<u64>),
    /// A failure worth retrying: attempt number.
    Retry(u32),
}

/// A job that came back for politeness to decide on: asked again later
/// ([`Walks::retry_later`]) or given up ([`Walks::give_up`]).
#[derive(Clone, Debug)]
pub struct Pending {
    job: WalkJob,
    reason: String,
}

#[derive(Debug, Default)]
enum Slot {
    /// No search for this registry (off, not served, or over).
    #[default]
    Off,
    /// Its `help` is to be asked (not yet, or not answered yet).
    Probe {
        regions: Vec<Range>,
        searched: IntervalSet,
        inflight: bool,
        attempts: u32,
        not_before: Option<Instant>,
    },
    /// Its walk runs.
    Walking {
        walk: Box<Walk>,
        attempts: u32,
        not_before: Option<Instant>,
        /// A task given back for a retry.
        held: Option<(Task, Ask)>,
    },
}

impl Slot {
    /// A `help` to ask, then a walk over `regions` minus `searched`.
    fn probe(regions: Vec<Range>, searched: IntervalSet) -> Slot {
        Slot::Probe {
            regions,
            searched,
            inflight: false,
            attempts: 0,
            not_before: None,
        }
    }

    /// A walk starting now.
    fn walking(walk: Box<Walk>) -> Slot {
        Slot::Walking {
            walk,
            attempts: 0,
            not_before: None,
            held: None,
        }
    }
}

/// The searches of a crawl, one slot per registry.
#[derive(Debug)]
pub struct Walks {
    slots: [Slot; 5],
    level: Level,
    tele: Arc<Telemetry>,
    /// Registries whose `help` listed search (for the summary).
    served: [bool; 5],
    /// Per registry: whether search may be used at all (`--search auto`).
    enabled: [bool; 5],
    /// Per registry: what its `help` said, once known.
    help: [Option<bool>; 5],
    /// Per registry: its work was put off for this run.
    put_off: [bool; 5],
    /// Per registry: keys searched before this run (skipped by any walk).
    searched: [IntervalSet; 5],
    /// Per registry: its own regions and the transfers added so far.
    walked: [IntervalSet; 5],
    /// The crawl's space (every registry's regions): no walk leaves it.
    space: IntervalSet,
}

impl Walks {
    /// No searches at all (`--search off`, the 2016 strategy).
    pub fn off(tele: Arc<Telemetry>) -> Walks {
        Walks {
            slots: Default::default(),
            level: Level::Top,
            tele,
            served: [false; 5],
            enabled: [false; 5],
            help: [None; 5],
            put_off: [false; 5],
            searched: Default::default(),
            walked: Default::default(),
            space: IntervalSet::new(),
        }
    }

    /// Searches of the registries `probe` names over their `regions` of the
    /// crawl's space, skipping the keys `searched` before (per registry).
    /// `known`: what a recent `help` of the registry said (`Some(true)`: it
    /// serves search; its `help` is not asked again), else `None`.
    pub fn new(
        probe: [bool; 5],
        known: [Option<bool>; 5],
        regions: [Vec<Range>; 5],
        searched: [IntervalSet; 5],
        level: Level,
        tele: Arc<Telemetry>,
    ) -> Walks {
        let mut slots: [Slot; 5] = Default::default();
        let walked = regions
            .each_ref()
            .map(|r| IntervalSet::from_ranges(r.iter().copied()));
        let space = walked
            .iter()
            .fold(IntervalSet::new(), |all, r| all.union(r));
        for (i, (regions, searched)) in regions.into_iter().zip(searched.clone()).enumerate() {
            if probe[i] && !regions.is_empty() {
                slots[i] = Slot::probe(regions, searched);
            }
        }
        let mut w = Walks {
            slots,
            level,
            tele,
            served: [false; 5],
            enabled: probe,
            help: known,
            put_off: [false; 5],
            searched,
            walked,
            space,
        };
        for r in Registry::ALL {
            if let Some(serves) = known[r.index()] {
                w.start_walk(r, serves);
            }
        }
        w
    }

    /// Whether `reg`'s lanes wait for its probe or walk.
    pub fn holds_lanes(&self, reg: Registry) -> bool {
        !matches!(self.slots[reg.index()], Slot::Off)
    }

    /// Whether `reg` has search work left (asked or to ask).
    pub fn busy(&self, reg: Registry) -> bool {
        self.holds_lanes(reg)
    }

    /// Registries whose `help` says they serve search.
    pub fn served(&self) -> [bool; 5] {
        self.served
    }

    /// The earliest instant a waiting search job may go (for the
    /// scheduler's sleep), if one waits.
    pub fn wakes_at(&self) -> Option<Instant> {
        self.slots
            .iter()
            .filter_map(|s| match s {
                Slot::Probe { not_before, .. } | Slot::Walking { not_before, .. } => *not_before,
                Slot::Off => None,
            })
            .min()
    }

    /// Ends `reg`'s searches (its work was put off): what they did not
    /// mark stays for the sweep and the next run.
    pub fn stop(&mut self, reg: Registry) {
        self.slots[reg.index()] = Slot::Off;
        self.put_off[reg.index()] = true;
    }

    /// `range` was answered by `reg` in space not (all) in its own
    /// regions: a transfer in another registry's lanes, after a redirect,
    /// or the parent of one. At `--depth all`, where `reg` serves search
    /// (or may: its `help` not asked yet), its walk enumerates the part of
    /// `range` inside the crawl's space it does not walk yet. Returns the
    /// pieces added (the caller stores them as [`Write::ToSearch`], so a
    /// resumed crawl walks them as well).
    pub fn add_transfer(&mut self, reg: Registry, range: Range) -> Vec<Range> {
        let i = reg.index();
        if self.level != Level::All
            || !self.enabled[i]
            || self.put_off[i]
            || self.help[i] == Some(false)
        {
            return Vec::new();
        }
        let new = IntervalSet::from_ranges([range])
            .intersect(&self.space)
            .subtract(&self.walked[i]);
        if new.is_empty() {
            return Vec::new();
        }
        self.walked[i] = self.walked[i].union(&new);
        let pieces = new.ranges().to_vec();
        match &mut self.slots[i] {
            Slot::Probe { regions, .. } => regions.extend_from_slice(&pieces),
            Slot::Walking { walk, .. } => {
                for p in &pieces {
                    walk.add_region(*p, self.searched[i].ranges());
                }
            }
            Slot::Off if self.help[i] == Some(true) => {
                self.slots[i] = Slot::walking(Box::new(Walk::new(
                    reg,
                    self.level,
                    Dialect::of(reg),
                    &pieces,
                    self.searched[i].ranges(),
                )));
                self.settle(reg);
            }
            Slot::Off => {
                self.slots[i] = Slot::probe(pieces.clone(), self.searched[i].clone());
            }
        }
        pieces
    }

    /// `reg`'s next job at `now`, if one may go (none in flight, no wait).
    pub fn next_job(&mut self, reg: Registry, now: Instant) -> Option<WalkJob> {
        let slot = &mut self.slots[reg.index()];
        match slot {
            Slot::Off => None,
            Slot::Probe {
                inflight,
                not_before,
                ..
            } => {
                if *inflight || not_before.is_some_and(|t| t > now) {
                    return None;
                }
                *inflight = true;
                *not_before = None;
                Some(WalkJob {
                    registry: reg,
                    kind: WalkKind::Help,
                })
            }
            Slot::Walking {
                walk,
                not_before,
                held,
                ..
            } => {
                if not_before.is_some_and(|t| t > now) {
                    return None;
                }
                *not_before = None;
                let (task, ask) = match held.take() {
                    Some(x) => x,
                    None => walk.next_task()?,
                };
                if matches!(task, Task::Set { .. }) {
                    inc(&self.tele.of(reg).searches);
                }
                Some(WalkJob {
                    registry: reg,
                    kind: WalkKind::Task(task, ask),
                })
            }
        }
    }

    /// Whether `reg`'s walk has nothing left to ask or wait for; a finished
    /// walk frees the registry's lanes.
    fn settle(&mut self, reg: Registry) {
        if let Slot::Walking { walk, held, .. } = &self.slots[reg.index()] {
            if held.is_none() && walk.is_done() {
                let s = walk.stats();
                let t = self.tele.of(reg);
                add(&t.search_splits, s.splits);
                add(&t.search_fallbacks, s.fallbacks);
                add(&t.search_results, s.members);
                self.slots[reg.index()] = Slot::Off;
            }
        }
    }

    /// Takes the answer to `job`, obtained at `now`: the writes, and what
    /// the scheduler must do (mark swept, index, wait). A rate limit or a
    /// retry comes back as [`Effect::wait`]: the scheduler asks politeness,
    /// then calls [`Walks::retry_later`] or [`Walks::give_up`].
    pub fn complete(
        &mut self,
        job: WalkJob,
        answer: WalkAnswer,
        now: &Now,
    ) -> (Vec<Write>, Effect, Option<Pending>) {
        let reg = job.registry;
        let mut out = Vec::new();
        let mut fx = Effect::default();
        match (job.kind.clone(), answer) {
            (WalkKind::Help, WalkAnswer::Help(h)) => match h {
                HelpAnswer::Conformance(c) => {
                    let serves = search::supports_search(&c);
                    self.help[reg.index()] = Some(serves);
                    out.push(help_note(
                        reg,
                        now,
                        serves,
                        ("rdapConformance", serde_json::json!(c)),
                    ));
                    self.start_walk(reg, serves);
                }
                HelpAnswer::Unusable(reason) => {
                    self.help[reg.index()] = Some(false);
                    out.push(help_note(reg, now, false, ("reason", reason.into())));
                    self.slots[reg.index()] = Slot::Off;
                }
                HelpAnswer::RateLimited { retry_after } => {
                    fx.wait = Some(Wait::RateLimited(reg, retry_after));
                    return (
                        out,
                        fx,
                        Some(Pending {
                            job,
                            reason: String::new(),
                        }),
                    );
                }
                HelpAnswer::Retry(reason) => {
                    let attempt = self.attempt(reg);
                    fx.wait = Some(Wait::Retry(attempt));
                    return (out, fx, Some(Pending { job, reason }));
                }
            },
            (WalkKind::Task(task, _), answer) => {
                let reply = match self.reply_of(reg, answer, &mut fx) {
                    Ok(r) => r,
                    Err(reason) => return (out, fx, Some(Pending { job, reason })),
                };
                self.reset_attempts(reg);
                self.take_step(reg, task, reply, now, &mut out, &mut fx);
            }
            (WalkKind::Help, _) => {
                self.help[reg.index()] = Some(false);
                self.slots[reg.index()] = Slot::Off;
            }
        }
        self.settle(reg);
        (out, fx, None)
    }

    /// The job waits for politeness: asked again once the wait is over.
    pub fn retry_later(&mut self, p: Pending, at: Instant) {
        let reg = p.job.registry;
        match (&mut self.slots[reg.index()], p.job.kind) {
            (
                Slot::Probe {
                    inflight,
                    not_before,
                    ..
                },
                WalkKind::Help,
            ) => {
                *inflight = false;
                *not_before = Some(at);
            }
            (
                Slot::Walking {
                    not_before, held, ..
                },
                WalkKind::Task(task, ask),
            ) => {
                // Still in flight as far as the walk knows: asked again as
                // it is, so the walk's order is kept.
                *held = Some((task, ask));
                *not_before = Some(at);
            }
            _ => {}
        }
    }

    /// The job failed for good (retries used up): a help makes the
    /// registry's search off; a walk task is answered as failed (its key is
    /// left to the sweep, and the failure recorded).
    pub fn give_up(&mut self, p: Pending, now: &Now) -> (Vec<Write>, Effect) {
        let reg = p.job.registry;
        let mut out = Vec::new();
        let mut fx = Effect::default();
        match p.job.kind {
            WalkKind::Help => {
                self.help[reg.index()] = Some(false);
                self.slots[reg.index()] = Slot::Off;
            }
            WalkKind::Task(task, _) => {
                self.reset_attempts(reg);
                self.take_step(
                    reg,
                    task,
                    (Reply::Failed(p.reason), None),
                    now,
                    &mut out,
                    &mut fx,
                );
            }
        }
        self.settle(reg);
        (out, fx)
    }

    fn attempt(&mut self, reg: Registry) -> u32 {
        match &mut self.slots[reg.index()] {
            Slot::Probe { attempts, .. } | Slot::Walking { attempts, .. } => {
                *attempts += 1;
                *attempts
            }
            Slot::Off => 1,
        }
    }

    fn reset_attempts(&mut self, reg: Registry) {
        if let Slot::Probe { attempts, .. } | Slot::Walking { attempts, .. } =
            &mut self.slots[reg.index()]
        {
            *attempts = 0;
        }
    }

    fn start_walk(&mut self, reg: Registry, serves: bool) {
        let slot = std::mem::replace(&mut self.slots[reg.index()], Slot::Off);
        if let (
            true,
            Slot::Probe {
                regions, searched, ..
            },
        ) = (serves, slot)
        {
            self.served[reg.index()] = true;
            let walk = Walk::new(
                reg,
                self.level,
                Dialect::of(reg),
                &regions,
                searched.ranges(),
            );
            self.slots[reg.index()] = Slot::walking(Box::new(walk));
            // A walk with nothing left (all searched before) frees the
            // lanes at once.
            self.settle(reg);
        }
    }

    /// The walk reply an answer means, or `Err` for a wait (set in `fx`).
    fn reply_of(
        &mut self,
        reg: Registry,
        answer: WalkAnswer,
        fx: &mut Effect,
    ) -> Result<(Reply, Option<(Registry, String)>), String> {
        let wait_retry = |me: &mut Walks, fx: &mut Effect, reason: String| {
            let attempt = me.attempt(reg);
            fx.wait = Some(Wait::Retry(attempt));
            Err(reason)
        };
        let wait_limited = |fx: &mut Effect, registry, retry_after| {
            fx.wait = Some(Wait::RateLimited(registry, retry_after));
            Err(String::new())
        };
        match answer {
            WalkAnswer::Lookup(a) => match a {
                Answer::Network(a) if a.network.placeholder => Ok((Reply::NoneThere, None)),
                Answer::Network(a) => Ok((Reply::One(a.network, a.raw), Some((a.registry, a.url)))),
                Answer::NotFound => Ok((Reply::NoneThere, None)),
                Answer::RateLimited {
                    registry,
                    retry_after,
                } => wait_limited(fx, registry, retry_after),
                Answer::Retry(reason) => wait_retry(self, fx, reason),
                Answer::Refused(reason) | Answer::RefusedForGood(reason) => {
                    Ok((Reply::Failed(reason), None))
                }
            },
            WalkAnswer::Search(s) => match s {
                SearchAnswer::Reply {
                    registry,
                    url,
                    reply,
                } => {
                    let r = Walks::search_reply(reg, registry, &url, reply);
                    // A key redirected into a registry without search: its
                    // 404/501 says nothing about the key; the sweep asks.
                    let r = match r {
                        Reply::Split | Reply::NoneThere | Reply::Unsupported | Reply::Failed(_)
                            if registry != reg && self.help[registry.index()] != Some(true) =>
                        {
                            Reply::Elsewhere(format!(
                                "{url}: redirected to {registry}, which serves no search"
                            ))
                        }
                        r => r,
                    };
                    Ok((r, Some((registry, url))))
                }
                SearchAnswer::RateLimited {
                    registry,
                    retry_after,
                } => wait_limited(fx, registry, retry_after),
                SearchAnswer::Retry(reason) => wait_retry(self, fx, reason),
                SearchAnswer::Refused(reason) => Ok((Reply::Failed(reason), None)),
            },
            WalkAnswer::Help(_) => Ok((Reply::Failed("a help answer to a walk task".into()), None)),
        }
    }

    /// A search reply from `answered` (after redirects) for `reg`'s walk.
    fn search_reply(reg: Registry, answered: Registry, url: &str, r: SearchReply) -> Reply {
        match r {
            SearchReply::Set(s) => Reply::Set(s),
            SearchReply::One(n, _) if n.placeholder => Reply::NoneThere,
            SearchReply::One(n, raw) => Reply::One(n, raw),
            SearchReply::NoneThere => Reply::NoneThere,
            SearchReply::Split(_) => Reply::Split,
            // The walk's own registry has no search after all; another one
            // (a key redirected into its space) just cannot answer this key.
            SearchReply::Unsupported(_) if answered == reg => Reply::Unsupported,
            SearchReply::Unsupported(m) | SearchReply::Refused(m) => {
                Reply::Failed(format!("{url}: {m}"))
            }
            SearchReply::Bad(e) => Reply::Failed(format!("{url}: {e}")),
        }
    }

    /// Feeds `reply` to `reg`'s walk and turns its step into writes.
    fn take_step(
        &mut self,
        reg: Registry,
        task: Task,
        reply: (Reply, Option<(Registry, String)>),
        now: &Now,
        out: &mut Vec<Write>,
        fx: &mut Effect,
    ) {
        let (reply, source) = reply;
        let failed = match &reply {
            Reply::Failed(r) => Some(r.clone()),
            _ => None,
        };
        let Slot::Walking { walk, .. } = &mut self.slots[reg.index()] else {
            return;
        };
        let step = walk.complete(task, reply);
        if step.unsupported {
            self.slots[reg.index()] = Slot::Off;
            return;
        }
        let (answered, url) = source.unwrap_or((reg, String::new()));
        let level = match self.level {
            Level::Top => store::Level::Top,
            Level::All => store::Level::All,
        };
        let mut wider = Vec::new();
        for m in step.store {
            fx.stored.push((m.network.range, answered));
            if !m.network.placeholder {
                wider.push(m.network.range);
            }
            out.push(Write::Network(
                Box::new(Record {
                    registry: answered,
                    network: m.network,
                    queried: None,
                    source_url: url.clone(),
                    fetched_at: now.rfc3339(),
                }),
                m.raw,
            ));
        }
        for r in step.swept {
            fx.swept.push(r);
            out.push(Write::Swept(r, level));
        }
        // A parent reaching past what the walks cover (the parent of a
        // transfer's network): its space is walked too.
        for r in wider {
            for piece in self.add_transfer(answered, r) {
                out.push(Write::ToSearch(piece, answered));
            }
        }
        for r in step.searched {
            out.push(Write::Searched(r, reg, level));
        }
        // A key refused (a broken or hostile answer, after the retries) is
        // a recorded failure, cleared once the sweep resolves its address; a
        // key the walk only could not split further is simply left to it.
        if let Some(why) = failed {
            for (r, _) in step.fallback {
                inc(&self.tele.of(reg).failures);
                fx.failed.push(r.start);
                out.push(Write::Failure(Failure {
                    addr: r.start,
                    end: r.end,
                    registry: reg,
                    reason: format!("search of {r}: {why}; left to the address sweep"),
                    attempts: 1,
                    at: now.rfc3339(),
                    permanent: false,
                }));
            }
        }
    }
}

/// The stored note of a registry's `help` (`meta` key `help.<registry>`):
/// when (text and Unix seconds, for [`fresh_help`]), whether it serves
/// search, and what it listed (`rdapConformance`) or why it is unusable
/// (`reason`).
fn help_note(reg: Registry, now: &Now, serves: bool, said: (&str, serde_json::Value)) -> Write {
    let mut note = serde_json::json!({
        "at": now.rfc3339(),
        "at_unix": now.unix_secs,
        "search": serves,
    });
    note[said.0] = said.1;
    Write::Meta(
        format!("help.{}", reg.name()),
        note.to_string().into_bytes(),
    )
}

/// How long a stored `help` note is trusted instead of asking again.
pub const HELP_FRESH_SECS: u64 = 24 * 3600;

/// What a stored `help.<registry>` note says, if it is younger than
/// [`HELP_FRESH_SECS`] at `now_unix`: whether the registry serves search.
pub fn fresh_help(note: &[u8], now_unix: u64) -> Option<bool> {
    let v: serde_json::Value = serde_json::from_slice(note).ok()?;
    let at = v.get("at_unix")?.as_u64()?;
    let serves = v.get("search")?.as_bool()?;
    (now_unix.saturating_sub(at) < HELP_FRESH_SECS && at <= now_unix.saturating_add(300))
        .then_some(serves)
}

/// The regions of each registry: its lanes' ranges, adjacent ones united.
pub fn regions_of(specs: &[super::lanes::LaneSpec]) -> [Vec<Range>; 5] {
    let mut out: [Vec<Range>; 5] = Default::default();
    let mut sorted: Vec<(Registry, Range)> = specs.iter().map(|s| (s.registry, s.range)).collect();
    sorted.sort_by_key(|(r, range)| (r.index(), range.start));
    for (reg, r) in sorted {
        let v = &mut out[reg.index()];
        match v.last_mut() {
            Some(last) if u64::from(last.end) + 1 == u64::from(r.start) => last.end = r.end,
            _ => v.push(r),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prefix::Cidr;
    use crate::rdap::search::{Key, Relation};

    /// ARIN's real `rdap-bottom` answer for 149.112.152.0/22 (two networks,
    /// one nested in the other).
    const BOTTOM: &[u8] = include_bytes!(
        "../../../../tests/fixtures/rdap-search/arin-rdap-bottom-149.112.152.0_22.json"
    );

    const HELP_SEARCH: &[u8] =
        br#"{"rdapConformance":["rdap_level_0","rirSearch1","ips","ipSearchResults"]}"#;
    const HELP_PLAIN: &[u8] = br#"{"rdapConformance":["rdap_level_0"]}"#;

    fn cidr(s: &str) -> Cidr {
        s.parse().expect("test CIDR")
    }

    fn now() -> Now {
        Now {
            instant: Instant::now(),
            unix_secs: 1_790_000_000,
        }
    }

    fn ok(status: u16, body: &[u8]) -> Exchange {
        Exchange::Response {
            registry: Registry::Arin,
            url: "http://127.0.0.1/arin/x".into(),
            status,
            retry_after: None,
            body: body.to_vec(),
            redirects: 0,
        }
    }

    /// ARIN probing over 149.112.152.0/22 at `--depth all`.
    fn walks(known: Option<bool>, searched: &[Range]) -> Walks {
        let mut probe = [false; 5];
        probe[Registry::Arin.index()] = true;
        let mut known_all = [None; 5];
        known_all[Registry::Arin.index()] = known;
        let mut regions: [Vec<Range>; 5] = Default::default();
        regions[Registry::Arin.index()] = vec![cidr("149.112.152.0/22").range()];
        let mut done: [IntervalSet; 5] = Default::default();
        done[Registry::Arin.index()] = IntervalSet::from_ranges(searched.iter().copied());
        Walks::new(
            probe,
            known_all,
            regions,
            done,
            Level::All,
            Arc::new(Telemetry::default()),
        )
    }

    fn metas(out: &[Write]) -> Vec<(String, serde_json::Value)> {
        out.iter()
            .filter_map(|w| match w {
                Write::Meta(k, v) => Some((k.clone(), serde_json::from_slice(v).ok()?)),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn help_then_the_walk_and_its_answer_stored() {
        let mut w = walks(None, &[]);
        let t = Instant::now();
        assert!(w.holds_lanes(Registry::Arin), "lanes wait for the probe");
        assert!(!w.holds_lanes(Registry::Ripe));
        let help = w.next_job(Registry::Arin, t).expect("the help goes first");
        assert!(matches!(help.target(), Target::Help));
        assert!(w.next_job(Registry::Arin, t).is_none(), "one at a time");
        let answer = help.classify(ok(200, HELP_SEARCH));
        let (out, fx, pending) = w.complete(help, answer, &now());
        assert!(pending.is_none());
        assert_eq!(fx, Effect::default());
        let notes = metas(&out);
        assert_eq!(notes.len(), 1);
        assert_eq!(notes[0].0, "help.arin");
        assert_eq!(notes[0].1["search"], true);
        assert_eq!(notes[0].1["at_unix"], 1_790_000_000u64);
        assert!(w.served()[Registry::Arin.index()]);

        let job = w
            .next_job(Registry::Arin, t)
            .expect("the walk's first search");
        let key = Key::Cidr(cidr("149.112.152.0/22"));
        assert_eq!(job.target(), Target::Search(Relation::Bottom, key));
        let answer = job.classify(ok(200, BOTTOM));
        let (out, fx, pending) = w.complete(job, answer, &now());
        assert!(pending.is_none());
        let mut stored: Vec<String> = out
            .iter()
            .filter_map(|w| match w {
                Write::Network(r, raw) => {
                    assert!(!raw.is_empty(), "each member keeps its raw object");
                    assert_eq!(r.registry, Registry::Arin);
                    Some(r.network.handle.clone())
                }
                _ => None,
            })
            .collect();
        stored.sort();
        assert_eq!(stored, ["NET-149-112-152-0-1", "NET-149-112-154-0-1"]);
        assert_eq!(fx.stored.len(), 2);
    }

    #[test]
    fn a_registry_without_search_is_off_and_noted() {
        let mut w = walks(None, &[]);
        let help = w.next_job(Registry::Arin, Instant::now()).expect("help");
        let answer = help.classify(ok(200, HELP_PLAIN));
        let (out, _, _) = w.complete(help, answer, &now());
        assert_eq!(metas(&out)[0].1["search"], false);
        assert!(!w.holds_lanes(Registry::Arin), "the sweep takes over");
        assert!(w.next_job(Registry::Arin, Instant::now()).is_none());

        // A 404 for `help` is a registry without search too, with its reason.
        let mut w = walks(None, &[]);
        let help = w.next_job(Registry::Arin, Instant::now()).expect("help");
        let answer = help.classify(ok(404, b""));
        let (out, _, _) = w.complete(help, answer, &now());
        let note = &metas(&out)[0].1;
        assert_eq!(note["search"], false);
        assert!(note["reason"].as_str().is_some_and(|r| r.contains("404")));
        assert!(!w.holds_lanes(Registry::Arin));
    }

    #[test]
    fn a_failed_help_waits_and_is_asked_again() {
        let mut w = walks(None, &[]);
        let t = Instant::now();
        let help = w.next_job(Registry::Arin, t).expect("help");
        let answer = help.classify(ok(503, b""));
        let (out, fx, pending) = w.complete(help, answer, &now());
        assert!(out.is_empty());
        assert_eq!(fx.wait, Some(Wait::Retry(1)));
        let later = t + std::time::Duration::from_secs(5);
        w.retry_later(pending.expect("given back"), later);
        assert!(w.holds_lanes(Registry::Arin));
        assert!(
            w.next_job(Registry::Arin, t).is_none(),
            "not before its time"
        );
        assert_eq!(w.wakes_at(), Some(later));
        let again = w.next_job(Registry::Arin, later).expect("asked again");
        assert!(matches!(again.target(), Target::Help));
    }

    #[test]
    fn a_recent_help_note_is_trusted_and_a_finished_walk_frees_the_lanes() {
        // Known to serve search, nothing searched yet: no help, the walk.
        let mut w = walks(Some(true), &[]);
        let job = w.next_job(Registry::Arin, Instant::now()).expect("walk");
        assert!(matches!(job.target(), Target::Search(Relation::Bottom, _)));
        // Known to serve search, all searched before: nothing to ask.
        let w = walks(Some(true), &[cidr("149.112.152.0/22").range()]);
        assert!(!w.holds_lanes(Registry::Arin));
        // Known not to serve it: the sweep at once.
        let mut w = walks(Some(false), &[]);
        assert!(!w.holds_lanes(Registry::Arin));
        assert!(w.next_job(Registry::Arin, Instant::now()).is_none());
    }

    #[test]
    fn a_key_redirected_to_a_registry_without_search_goes_to_the_sweep_unsplit() {
        let mut w = walks(Some(true), &[]);
        let job = w.next_job(Registry::Arin, Instant::now()).expect("walk");
        // ARIN redirected the key to APNIC (transferred space), whose
        // server has no search paths: 404.
        let redirected = Exchange::Response {
            registry: Registry::Apnic,
            url: "http://127.0.0.1/apnic/ips/rirSearch1/rdap-bottom/149.112.152.0/22".into(),
            status: 404,
            retry_after: None,
            body: br#"{"errorCode":404,"title":"Not Found"}"#.to_vec(),
            redirects: 1,
        };
        let answer = job.classify(redirected);
        let (out, fx, pending) = w.complete(job, answer, &now());
        assert!(pending.is_none());
        assert!(
            !out.iter().any(|w| matches!(w, Write::Failure(_))),
            "no failure: {out:?}"
        );
        assert!(fx.swept.is_empty(), "nothing marked: the sweep asks");
        // No split: the walk is over and the lanes sweep the key.
        assert!(w.next_job(Registry::Arin, Instant::now()).is_none());
        assert!(!w.holds_lanes(Registry::Arin));
    }

    #[test]
    fn help_notes_are_fresh_for_a_day() {
        let t = 1_790_000_000;
        let note = |at: u64, search: bool| {
            serde_json::json!({"at_unix": at, "search": search})
                .to_string()
                .into_bytes()
        };
        assert_eq!(fresh_help(&note(t - 60, true), t), Some(true));
        assert_eq!(fresh_help(&note(t - 60, false), t), Some(false));
        assert_eq!(fresh_help(&note(t - HELP_FRESH_SECS, true), t), None);
        assert_eq!(
            fresh_help(&note(t + 86_400, true), t),
            None,
            "from the future"
        );
        assert_eq!(fresh_help(b"not json", t), None);
        assert_eq!(fresh_help(br#"{"search":true}"#, t), None, "no date");
    }
}
