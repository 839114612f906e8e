//! The scheduler: which address to ask next, of which registry, and when.
//!
//! The space to crawl is cut into *lanes* (pieces of the seed plan's space
//! served by one registry). Each lane is swept in address order, one query
//! in flight at a time, so parallel queries never ask about the same unknown
//! network; many lanes run at once. A lane's cursor moves:
//! - past every known network (`within_known_cidr`: no query);
//! - after a network answer, to its end + 1 (a *continuation*: asked even if
//!   it is not a seed, since a new network may start right there);
//! - after a 404 or placeholder, or a lookup given up, to the next seed
//!   (the seed grid is the sweep's granularity in empty space);
//! - by default (coverage first), a nested answer is followed by its parent
//!   (the `up` link or the smallest prefix covering the parent's range), so a
//!   run of reassignments costs 1 + depth queries; `--depth all` continues at
//!   the end + 1 of every answer instead.
//!
//! Politeness lives here too: a token bucket per registry, pauses on 429
//! (Retry-After, else growing jittered minutes), a circuit breaker per
//! registry, and jittered exponential retries of transient failures. No
//! worker ever sleeps on one registry while another has work: a worker asks
//! [`Scheduler::next`] for any dispatchable job across all registries.
//!
//! Pure logic: time comes in as `now`, results as [`Reply`], state changes go
//! out as [`Write`]s for the writer thread.

use std::cmp::Reverse;
use std::collections::{BTreeSet, BinaryHeap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::ratelimit::{backoff, Bucket, Jitter, Rate};
use super::telemetry::{add, inc, Telemetry};
use crate::prefix::Range;
use crate::rdap::{Network, Registry, Target};
use crate::seeds::SeedSet;
use crate::store::{Failure, GapKind, Record, Write};
use crate::trie::{IntervalSet, KnownSet};

/// How deep a sweep goes.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Depth {
    /// Climb to the top-level network and continue after it (fewest queries
    /// for full coverage). The default.
    Coverage,
    /// Continue at end + 1 of every answer (every most-specific network the
    /// sweep meets).
    All,
}

/// Tunables; [`Policy::default`] documents each default.
#[derive(Clone, Debug)]
pub struct Policy {
    /// Sweep depth. Defaults to [`Depth::Coverage`].
    pub depth: Depth,
    /// Per-registry rates, in [`Registry::ALL`] order. Defaults: arin, ripe,
    /// apnic 10/s; lacnic 10/min; afrinic 1/s.
    pub rates: [Rate; 5],
    /// Attempts per lookup before it is recorded as failed. Defaults to 5.
    pub max_attempts: u32,
    /// First retry delay (doubles, ±25 % jitter). Defaults to 1 s.
    pub retry_base: Duration,
    /// Longest retry delay. Defaults to 60 s.
    pub retry_cap: Duration,
    /// Pause after a 429 without Retry-After (doubles on repeats). Defaults to 60 s.
    pub rate_limit_base: Duration,
    /// Longest such pause. Defaults to 15 min.
    pub rate_limit_cap: Duration,
    /// Consecutive transient failures that open a registry's circuit. Defaults to 8.
    pub breaker_threshold: u32,
    /// First circuit-open pause (doubles on repeats). Defaults to 30 s.
    pub breaker_base: Duration,
    /// Longest circuit-open pause. Defaults to 10 min.
    pub breaker_cap: Duration,
    /// Stop dispatching after this many queries. Defaults to none.
    pub max_queries: Option<u64>,
    /// Seed for jitter. Defaults to a fixed value.
    pub seed: u64,
}

impl Default for Policy {
    fn default() -> Policy {
        Policy {
            depth: Depth::Coverage,
            rates: default_rates(),
            max_attempts: 5,
            retry_base: Duration::from_secs(1),
            retry_cap: Duration::from_secs(60),
            rate_limit_base: Duration::from_secs(60),
            rate_limit_cap: Duration::from_secs(15 * 60),
            breaker_threshold: 8,
            breaker_base: Duration::from_secs(30),
            breaker_cap: Duration::from_secs(10 * 60),
            max_queries: None,
            seed: 0x1bc0_ffee,
        }
    }
}

/// DESIGN §2.5 defaults: arin, ripe, apnic 10/s; lacnic 10/min; afrinic 1/s.
pub fn default_rates() -> [Rate; 5] {
    Registry::ALL.map(|r| match r {
        Registry::Arin | Registry::Ripe | Registry::Apnic => Rate::per_sec(10.0),
        Registry::Lacnic => Rate::per_sec(10.0 / 60.0),
        Registry::Afrinic => Rate::per_sec(1.0),
    })
}

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

/// Why a job was made.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum JobKind {
    /// A sweep query for an address.
    Sweep,
    /// A parent lookup while climbing from a nested answer.
    Parent,
}

/// One lookup for a worker to run.
#[derive(Clone, Debug)]
pub struct Job {
    /// Lane index.
    pub lane: usize,
    /// Registry to ask.
    pub registry: Registry,
    /// What to ask for.
    pub target: Target,
    /// Sweep or parent.
    pub kind: JobKind,
    /// The sweep address this job serves.
    pub addr: u32,
    /// What an answer must contain to be accepted.
    pub must_contain: Range,
}

/// What a worker got for a job (the body already parsed).
#[derive(Clone, Debug)]
pub enum Reply {
    /// A network (or placeholder) answer.
    Network {
        /// Parsed answer.
        network: Box<Network>,
        /// Registry that answered.
        registry: Registry,
        /// URL that answered.
        url: String,
        /// Raw body.
        raw: Vec<u8>,
    },
    /// 404.
    NotFound,
    /// 429 / rate-limit notice from `registry`.
    RateLimited {
        /// Who limited us.
        registry: Registry,
        /// Retry-After seconds.
        retry_after: Option<u64>,
    },
    /// Worth retrying.
    Transient(String),
    /// Not worth retrying (includes answers rejected by the parser).
    Permanent(String),
}

/// What to do next.
#[derive(Debug)]
pub enum Next {
    /// Run this.
    Job(Job),
    /// Nothing to do before this instant.
    Wait(Instant),
    /// The crawl is over (or stopped and drained).
    Done,
}

#[derive(Clone, Debug)]
struct Pending {
    registry: Registry,
    target: Target,
    kind: JobKind,
    addr: u32,
    must_contain: Range,
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
    pending: Option<Pending>,
    attempts: u32,
    climb_depth: u32,
    /// Writes of a climb in progress, released when it ends (see `complete`).
    held: Vec<Write>,
}

#[derive(Debug)]
struct RegState {
    bucket: Bucket,
    paused_until: Option<Instant>,
    streak_429: u32,
    streak_fail: u32,
    trips: u32,
}

/// Largest number of parent hops climbed from one answer.
const MAX_CLIMB: u32 = 8;

/// The scheduler state (the crawl wraps it in a mutex).
pub struct Scheduler {
    lanes: Vec<Lane>,
    ready: [VecDeque<usize>; 5],
    delayed: BinaryHeap<Reverse<(Instant, usize)>>,
    regs: [RegState; 5],
    rr: usize,
    known: KnownSet,
    gaps: KnownSet,
    seeds: Arc<SeedSet>,
    failed: BTreeSet<u32>,
    placeholders_seen: HashSet<(u32, u32, Registry)>,
    policy: Policy,
    jitter: Jitter,
    tele: Arc<Telemetry>,
    inflight: usize,
    dispatched: u64,
    stopped: bool,
    lanes_done: usize,
    total_span: u64,
    advanced: u64,
}

impl Scheduler {
    /// A scheduler over `lanes`, skipping `known` networks and `gaps` already
    /// probed; `failed` are addresses whose earlier lookups failed (cleared
    /// when they resolve).
    pub fn new(
        lanes: &[LaneSpec],
        seeds: Arc<SeedSet>,
        known: KnownSet,
        gaps: KnownSet,
        failed: BTreeSet<u32>,
        policy: Policy,
        tele: Arc<Telemetry>,
    ) -> Scheduler {
        let mut ready: [VecDeque<usize>; 5] = Default::default();
        let lanes: Vec<Lane> = lanes
            .iter()
            .enumerate()
            .map(|(i, l)| {
                ready[l.registry.index()].push_back(i);
                Lane {
                    registry: l.registry,
                    range: l.range,
                    coarse: l.coarse,
                    cursor: u64::from(l.range.start),
                    // A lane starts where a block starts: ask there even if
                    // the seed grid does not.
                    cont: true,
                    busy: false,
                    done: false,
                    pending: None,
                    attempts: 0,
                    climb_depth: 0,
                    held: Vec::new(),
                }
            })
            .collect();
        let total_span = lanes.iter().map(|l| l.range.len()).sum();
        let regs = Registry::ALL.map(|r| RegState {
            bucket: Bucket::new(policy.rates[r.index()]),
            paused_until: None,
            streak_429: 0,
            streak_fail: 0,
            trips: 0,
        });
        Scheduler {
            lanes,
            ready,
            delayed: BinaryHeap::new(),
            regs,
            rr: 0,
            known,
            gaps,
            seeds,
            failed,
            placeholders_seen: HashSet::new(),
            jitter: Jitter::new(policy.seed),
            policy,
            tele,
            inflight: 0,
            dispatched: 0,
            stopped: false,
            lanes_done: 0,
            total_span,
            advanced: 0,
        }
    }

    /// Stops dispatching; [`Scheduler::next`] says `Done` once in-flight jobs are back.
    pub fn stop(&mut self) {
        self.stopped = true;
    }

    /// Whether `stop` was called or `--max-queries` reached.
    pub fn is_stopped(&self) -> bool {
        self.stopped
    }

    /// Queries in flight.
    pub fn inflight(&self) -> usize {
        self.inflight
    }

    /// Whether every lane has been swept to its end.
    pub fn finished(&self) -> bool {
        self.lanes_done == self.lanes.len()
    }

    /// (addresses swept, addresses in all lanes).
    pub fn progress(&self) -> (u64, u64) {
        (self.advanced, self.total_span)
    }

    /// Registries paused at `now`, with the time left.
    pub fn paused(&self, now: Instant) -> Vec<(Registry, Duration)> {
        Registry::ALL
            .into_iter()
            .filter_map(|r| {
                let until = self.regs[r.index()].paused_until?;
                (until > now).then(|| (r, until - now))
            })
            .collect()
    }

    fn move_cursor(&mut self, lane: usize, to: u64, cont: bool) {
        let l = &mut self.lanes[lane];
        if to > l.cursor {
            let end = u64::from(l.range.end) + 1;
            self.advanced += to.min(end) - l.cursor.min(end);
            l.cursor = to;
        }
        l.cont = cont;
    }

    fn mark_done(&mut self, lane: usize) {
        let l = &mut self.lanes[lane];
        if !l.done {
            let end = u64::from(l.range.end) + 1;
            self.advanced += end.saturating_sub(l.cursor);
            l.cursor = end;
            l.done = true;
            self.lanes_done += 1;
        }
    }

    /// The lane's next lookup, or `None` when the lane is swept.
    fn prepare(&mut self, lane: usize) -> Option<Pending> {
        if let Some(p) = self.lanes[lane].pending.take() {
            return Some(p);
        }
        loop {
            let l = &self.lanes[lane];
            let (reg, end, cursor, cont) = (l.registry, l.range.end, l.cursor, l.cont);
            if cursor > u64::from(end) {
                self.mark_done(lane);
                return None;
            }
            let c = cursor as u32;
            if let Some(r) = self.known.covering(c) {
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
            return Some(Pending {
                registry: reg,
                target: Target::Addr(c),
                kind: JobKind::Sweep,
                addr: c,
                must_contain: Range { start: c, end: c },
            });
        }
    }

    fn promote_delayed(&mut self, now: Instant) -> Option<Instant> {
        while let Some(&Reverse((t, lane))) = self.delayed.peek() {
            if t > now {
                return Some(t);
            }
            self.delayed.pop();
            self.enqueue(lane);
        }
        None
    }

    fn enqueue(&mut self, lane: usize) {
        let l = &self.lanes[lane];
        if l.done || l.busy {
            return;
        }
        let reg = l.pending.as_ref().map_or(l.registry, |p| p.registry);
        // A climb goes first: it ends soon, and its writes are held until then.
        if l.climb_depth > 0 {
            self.ready[reg.index()].push_front(lane);
        } else {
            self.ready[reg.index()].push_back(lane);
        }
    }

    fn available(&self, reg: Registry, now: Instant) -> Result<(), Instant> {
        let st = &self.regs[reg.index()];
        if let Some(p) = st.paused_until {
            if p > now {
                return Err(p);
            }
        }
        let at = st.bucket.ready_at(now);
        if at > now {
            return Err(at);
        }
        Ok(())
    }

    /// The next job to run at `now`, or how long to wait.
    pub fn next(&mut self, now: Instant) -> Next {
        let wake = self.promote_delayed(now);
        if self.stopped {
            return if self.inflight == 0 {
                Next::Done
            } else {
                Next::Wait(now + Duration::from_millis(50))
            };
        }
        let mut earliest = wake;
        let soonest = |t: Instant, e: &mut Option<Instant>| {
            *e = Some(e.map_or(t, |x: Instant| x.min(t)));
        };
        for i in 0..5 {
            let reg = Registry::ALL[(self.rr + i) % 5];
            let ri = reg.index();
            if self.ready[ri].is_empty() {
                continue;
            }
            if let Err(t) = self.available(reg, now) {
                soonest(t, &mut earliest);
                continue;
            }
            while let Some(lane) = self.ready[ri].pop_front() {
                if self.lanes[lane].busy || self.lanes[lane].done {
                    continue;
                }
                let Some(p) = self.prepare(lane) else {
                    continue;
                };
                if p.registry != reg {
                    // A parent lookup for another registry: queue it there.
                    self.lanes[lane].pending = Some(p);
                    self.enqueue(lane);
                    continue;
                }
                self.regs[ri].bucket.try_take(now);
                self.lanes[lane].busy = true;
                self.inflight += 1;
                self.dispatched += 1;
                if self
                    .policy
                    .max_queries
                    .is_some_and(|m| self.dispatched >= m)
                {
                    self.stopped = true;
                }
                self.rr = (self.rr + i + 1) % 5;
                self.update_gauges();
                return Next::Job(Job {
                    lane,
                    registry: p.registry,
                    target: p.target,
                    kind: p.kind,
                    addr: p.addr,
                    must_contain: p.must_contain,
                });
            }
        }
        self.update_gauges();
        if self.inflight == 0
            && self.delayed.is_empty()
            && self.ready.iter().all(VecDeque::is_empty)
        {
            return Next::Done;
        }
        Next::Wait(earliest.unwrap_or(now + Duration::from_millis(100)))
    }

    fn update_gauges(&self) {
        let waiting: usize = self.ready.iter().map(VecDeque::len).sum();
        self.tele
            .awaiting_registry
            .store(waiting as u64, std::sync::atomic::Ordering::Relaxed);
        self.tele
            .looking_up_whois
            .store(self.inflight as u64, std::sync::atomic::Ordering::Relaxed);
    }

    /// The end of the empty stretch a gap or failure at `addr` moves past:
    /// up to the next seed, within the lane.
    fn gap_end(&self, lane: usize, addr: u32) -> u32 {
        let end = self.lanes[lane].range.end;
        if let Some(len) = self.lanes[lane].coarse {
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

    /// Where a nested network's parent can be asked for, if anywhere useful.
    fn parent_target(&self, net: &Network) -> Option<Target> {
        if let Some(pr) = net.parent_range {
            if !pr.contains_range(&net.range) || pr == net.range {
                return None;
            }
            let c = pr.covering_cidr();
            if c.len() <= 8
                || self
                    .known
                    .covering(pr.start)
                    .is_some_and(|k| k.contains_range(&pr))
            {
                return None;
            }
            return Some(Target::Prefix(c));
        }
        if let Some(up) = &net.up_link {
            return Some(Target::Url(up.clone()));
        }
        // ARIN handles name the parent's first address: NET-a-b-c-d-N.
        let start = arin_handle_start(net.parent_handle.as_deref()?)?;
        if start > net.range.start {
            return None;
        }
        let c = Range::new(start, net.range.end)?.covering_cidr();
        if c.len() <= 8
            || self
                .known
                .covering(c.addr())
                .is_some_and(|k| k.contains_range(&c.range()))
        {
            return None;
        }
        Some(Target::Prefix(c))
    }

    /// Moves the lane on after a network answer to `job`.
    fn after_network(&mut self, lane: usize, addr: u32, net_end: u32) {
        let to = match self.policy.depth {
            Depth::Coverage => self
                .known
                .covering(addr)
                .map_or(u64::from(net_end) + 1, |r| u64::from(r.end) + 1),
            Depth::All => u64::from(net_end) + 1,
        };
        // Seeds the answer (or its top-level ancestor) covers are skipped.
        let lane_end = u64::from(self.lanes[lane].range.end);
        if let (Some(first), Ok(last)) =
            (addr.checked_add(1), u32::try_from((to - 1).min(lane_end)))
        {
            if let Some(r) = Range::new(first, last) {
                add(&self.tele.within_known_cidr, self.seeds.count_in(r));
            }
        }
        let l = &mut self.lanes[lane];
        l.climb_depth = 0;
        l.attempts = 0;
        self.move_cursor(lane, to, true);
    }

    /// Gives up the sweep address `addr` or marks it empty.
    fn after_empty(&mut self, lane: usize, addr: u32) -> Range {
        let end = self.gap_end(lane, addr);
        let l = &mut self.lanes[lane];
        l.attempts = 0;
        l.climb_depth = 0;
        self.move_cursor(lane, u64::from(end) + 1, false);
        Range { start: addr, end }
    }

    fn clear_failures(&mut self, r: Range, out: &mut Vec<Write>) {
        let hit: Vec<u32> = self.failed.range(r.start..=r.end).copied().collect();
        for a in hit {
            self.failed.remove(&a);
            out.push(Write::ClearFailure(a));
        }
    }

    /// Takes a job's result; returns what to store.
    pub fn complete(&mut self, job: &Job, reply: Reply, now: Instant) -> Vec<Write> {
        let mut out = Vec::new();
        let lane = job.lane;
        self.inflight -= 1;
        self.lanes[lane].busy = false;
        let tele = Arc::clone(&self.tele);
        let mut delay: Option<Instant> = None;
        match reply {
            Reply::Network {
                network,
                registry,
                url,
                raw,
            } => {
                self.success(job.registry);
                self.success(registry);
                inc(&tele.got_whois);
                inc(&tele.of(registry).answers);
                let range = network.range;
                let placeholder = network.placeholder;
                let nested_parent = if placeholder {
                    None
                } else {
                    self.parent_target(&network)
                };
                let fresh = !placeholder
                    || self
                        .placeholders_seen
                        .insert((range.start, range.end, registry));
                if placeholder {
                    inc(&tele.of(registry).placeholders);
                }
                if fresh {
                    out.push(Write::Network(
                        Box::new(Record {
                            registry,
                            network: *network,
                            queried: Some(job.must_contain.start),
                            source_url: url,
                            fetched_at: crate::time::now_rfc3339(),
                        }),
                        raw,
                    ));
                }
                if placeholder {
                    self.empty_answer(job, GapKind::Placeholder, registry, &mut out);
                } else {
                    self.known.insert(range);
                    self.clear_failures(range, &mut out);
                    let climb = self.policy.depth == Depth::Coverage
                        && self.lanes[lane].climb_depth < MAX_CLIMB;
                    match nested_parent.filter(|_| climb) {
                        Some(target) => {
                            let l = &mut self.lanes[lane];
                            l.climb_depth += 1;
                            l.attempts = 0;
                            let must_contain = range;
                            l.pending = Some(Pending {
                                registry,
                                target,
                                kind: JobKind::Parent,
                                addr: job.addr,
                                must_contain,
                            });
                            inc(&tele.parent_queries);
                        }
                        None => self.after_network(lane, job.addr, range.end),
                    }
                }
            }
            Reply::NotFound => {
                self.success(job.registry);
                inc(&tele.of(job.registry).not_found);
                self.empty_answer(job, GapKind::NotFound, job.registry, &mut out);
            }
            Reply::RateLimited {
                registry,
                retry_after,
            } => {
                inc(&tele.of(registry).rate_limited);
                let st = &mut self.regs[registry.index()];
                st.streak_429 += 1;
                let pause = match retry_after {
                    Some(s) => Duration::from_secs(s.min(3600)),
                    None => backoff(
                        self.policy.rate_limit_base,
                        self.policy.rate_limit_cap,
                        st.streak_429,
                        &mut self.jitter,
                    ),
                };
                let until = now + pause;
                st.paused_until = Some(st.paused_until.map_or(until, |p| p.max(until)));
                self.lanes[lane].pending = Some(Self::pending_of(job));
                delay = Some(until);
            }
            Reply::Transient(reason) => {
                let st = &mut self.regs[job.registry.index()];
                st.streak_fail += 1;
                if st.streak_fail >= self.policy.breaker_threshold {
                    st.trips += 1;
                    st.streak_fail = 0;
                    let pause = backoff(
                        self.policy.breaker_base,
                        self.policy.breaker_cap,
                        st.trips,
                        &mut self.jitter,
                    );
                    st.paused_until = Some(now + pause);
                }
                let l = &mut self.lanes[lane];
                l.attempts += 1;
                if l.attempts < self.policy.max_attempts {
                    inc(&tele.of(job.registry).retries);
                    let attempts = l.attempts;
                    let p = Self::pending_of(job);
                    self.lanes[lane].pending = Some(p);
                    delay = Some(
                        now + backoff(
                            self.policy.retry_base,
                            self.policy.retry_cap,
                            attempts,
                            &mut self.jitter,
                        ),
                    );
                } else {
                    self.give_up(job, reason, &mut out);
                }
            }
            Reply::Permanent(reason) => self.give_up(job, reason, &mut out),
        }
        // A nested answer is stored only with the climb it starts: a crash
        // mid-climb then redoes the whole climb, exactly as an uninterrupted
        // run does it, instead of resuming after the child and asking its
        // siblings.
        let l = &mut self.lanes[lane];
        l.held.append(&mut out);
        if l.climb_depth == 0 {
            out = std::mem::take(&mut l.held);
        }
        match delay {
            Some(t) => self.delayed.push(Reverse((t, lane))),
            None => self.enqueue(lane),
        }
        self.update_gauges();
        out
    }

    /// A 404 or a placeholder: for a sweep query, the space up to the next
    /// seed (or coarse block) is a gap; for a parent lookup, the climb ends.
    fn empty_answer(&mut self, job: &Job, kind: GapKind, registry: Registry, out: &mut Vec<Write>) {
        match job.kind {
            JobKind::Sweep => {
                let gap = self.after_empty(job.lane, job.addr);
                self.gaps.insert(gap);
                self.clear_failures(
                    Range {
                        start: job.addr,
                        end: job.addr,
                    },
                    out,
                );
                out.push(Write::Gap(gap, kind, registry));
            }
            JobKind::Parent => self.after_network(job.lane, job.addr, job.addr),
        }
    }

    fn pending_of(job: &Job) -> Pending {
        Pending {
            registry: job.registry,
            target: job.target.clone(),
            kind: job.kind,
            addr: job.addr,
            must_contain: job.must_contain,
        }
    }

    fn give_up(&mut self, job: &Job, reason: String, out: &mut Vec<Write>) {
        let attempts = self.lanes[job.lane].attempts.max(1);
        match job.kind {
            JobKind::Sweep => {
                inc(&self.tele.failed_lookup_whois);
                inc(&self.tele.of(job.registry).failures);
                let r = self.after_empty(job.lane, job.addr);
                self.failed.insert(job.addr);
                out.push(Write::Failure(Failure {
                    addr: job.addr,
                    end: r.end,
                    registry: job.registry,
                    reason,
                    attempts,
                    at: crate::time::now_rfc3339(),
                }));
            }
            // The sweep address was answered; only the climb stops.
            JobKind::Parent => self.after_network(job.lane, job.addr, job.addr),
        }
    }

    fn success(&mut self, reg: Registry) {
        let st = &mut self.regs[reg.index()];
        st.streak_429 = 0;
        st.streak_fail = 0;
        st.trips = 0;
    }
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
pub fn lanes(
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
pub fn seed_lanes(space: &[Range], routes: &[(Range, Registry)], seeds: &SeedSet) -> Vec<LaneSpec> {
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
    use crate::prefix::{parse_addr_lenient, Cidr};

    fn a(s: &str) -> u32 {
        parse_addr_lenient(s).unwrap()
    }

    fn net(start: &str, end: &str, parent: Option<&str>) -> Network {
        Network {
            handle: format!("{start} - {end}"),
            range: Range::new(a(start), a(end)).unwrap(),
            name: None,
            net_type: None,
            country: None,
            parent_handle: parent.map(str::to_string),
            parent_range: parent.and_then(crate::prefix::parse_range_lenient),
            up_link: None,
            status: vec![],
            entities: vec![],
            registration: None,
            last_changed: None,
            placeholder: false,
        }
    }

    fn sched(space: &str, depth: Depth) -> Scheduler {
        let c: Cidr = space.parse().unwrap();
        let plan = crate::seeds::grid(&[c], 24).unwrap();
        let lanes = vec![LaneSpec {
            registry: Registry::Ripe,
            range: c.range(),
            coarse: None,
        }];
        let policy = Policy {
            depth,
            rates: [Rate::UNLIMITED; 5],
            retry_base: Duration::from_millis(10),
            ..Policy::default()
        };
        Scheduler::new(
            &lanes,
            Arc::new(plan.seeds),
            KnownSet::new(),
            KnownSet::new(),
            BTreeSet::new(),
            policy,
            Arc::new(Telemetry::default()),
        )
    }

    fn job(s: &mut Scheduler, now: Instant) -> Job {
        match s.next(now) {
            Next::Job(j) => j,
            other => panic!("expected a job, got {other:?}"),
        }
    }

    fn answer(n: Network) -> Reply {
        Reply::Network {
            network: Box::new(n),
            registry: Registry::Ripe,
            url: "http://x/".into(),
            raw: b"{}".to_vec(),
        }
    }

    #[test]
    fn sweep_continues_after_each_network_and_steps_over_gaps() {
        let now = Instant::now();
        let mut s = sched("11.0.0.0/22", Depth::All);
        let j = job(&mut s, now);
        assert_eq!(j.target, Target::Addr(a("11.0.0.0")));
        // One lane: only one query in flight.
        assert!(matches!(s.next(now), Next::Wait(_)));
        s.complete(&j, answer(net("11.0.0.0", "11.0.0.127", None)), now);
        let j = job(&mut s, now);
        assert_eq!(
            j.target,
            Target::Addr(a("11.0.0.128")),
            "continuation at end + 1"
        );
        let w = s.complete(&j, Reply::NotFound, now);
        assert!(matches!(w[0], Write::Gap(r, GapKind::NotFound, _) if r.end == a("11.0.0.255")));
        let j = job(&mut s, now);
        assert_eq!(
            j.target,
            Target::Addr(a("11.0.1.0")),
            "next seed after a gap"
        );
        s.complete(&j, answer(net("11.0.1.0", "11.0.3.255", None)), now);
        assert!(matches!(s.next(now), Next::Done));
        assert!(s.finished());
        assert_eq!(s.progress(), (1024, 1024));
    }

    #[test]
    fn coverage_first_climbs_to_the_parent_and_skips_its_children() {
        let now = Instant::now();
        let mut s = sched("11.0.0.0/16", Depth::Coverage);
        let j = job(&mut s, now);
        let child = net("11.0.0.0", "11.0.0.7", Some("11.0.0.0 - 11.0.63.255"));
        s.complete(&j, answer(child), now);
        let j = job(&mut s, now);
        assert_eq!(j.kind, JobKind::Parent);
        assert_eq!(j.target, Target::Prefix("11.0.0.0/18".parse().unwrap()));
        s.complete(&j, answer(net("11.0.0.0", "11.0.63.255", None)), now);
        let j = job(&mut s, now);
        assert_eq!(j.target, Target::Addr(a("11.0.64.0")));
        s.complete(&j, Reply::NotFound, now);
        let j = job(&mut s, now);
        assert_eq!(j.target, Target::Addr(a("11.0.65.0")));
    }

    #[test]
    fn retries_then_records_a_failure_and_moves_on() {
        let mut now = Instant::now();
        let mut s = sched("11.0.0.0/23", Depth::Coverage);
        for attempt in 1..=5 {
            let j = loop {
                match s.next(now) {
                    Next::Job(j) => break j,
                    Next::Wait(t) => now = t,
                    Next::Done => panic!("done too early"),
                }
            };
            assert_eq!(j.addr, a("11.0.0.0"), "attempt {attempt}");
            let w = s.complete(&j, Reply::Transient("HTTP 503".into()), now);
            if attempt == 5 {
                assert!(matches!(&w[0], Write::Failure(f) if f.end == a("11.0.0.255")));
            } else {
                assert!(w.is_empty());
            }
        }
        let j = job(&mut s, now);
        assert_eq!(j.addr, a("11.0.1.0"));
        let w = s.complete(&j, answer(net("11.0.0.0", "11.0.1.255", None)), now);
        // The later answer covers the failed address: the failure is cleared.
        assert!(w
            .iter()
            .any(|w| matches!(w, Write::ClearFailure(x) if *x == a("11.0.0.0"))));
    }

    #[test]
    fn rate_limit_pauses_only_that_registry() {
        let now = Instant::now();
        let mut s = sched("11.0.0.0/24", Depth::Coverage);
        let j = job(&mut s, now);
        s.complete(
            &j,
            Reply::RateLimited {
                registry: Registry::Ripe,
                retry_after: Some(2),
            },
            now,
        );
        assert_eq!(s.paused(now).len(), 1);
        match s.next(now) {
            Next::Wait(t) => assert!(t >= now + Duration::from_secs(2)),
            other => panic!("{other:?}"),
        }
        let j2 = job(&mut s, now + Duration::from_secs(2));
        assert_eq!(j2.addr, j.addr, "the limited query is asked again");
    }

    #[test]
    fn max_queries_stops_dispatch() {
        let now = Instant::now();
        let mut s = sched("11.0.0.0/22", Depth::All);
        s.policy.max_queries = Some(1);
        let j = job(&mut s, now);
        assert!(s.is_stopped());
        s.complete(&j, Reply::NotFound, now);
        assert!(matches!(s.next(now), Next::Done));
        assert!(!s.finished());
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
        let l = lanes(&space, &routes, &[a("1.200.0.0")], None, Some(16));
        assert_eq!(l.len(), 3);
        assert_eq!(l[0].range.end, a("1.199.255.255"));
        assert_eq!(l[1].range.start, a("1.200.0.0"));
        assert_eq!(l[2].registry, Registry::Ripe);
        assert!(l.iter().all(|l| l.coarse.is_none()));
        // Delegated space splits lanes too; the rest is probed coarsely.
        let held =
            IntervalSet::from_ranges([Range::new(a("1.128.0.0"), a("1.129.255.255")).unwrap()]);
        let l = lanes(&space, &routes, &[], Some(&held), Some(16));
        assert_eq!(
            l[0].range,
            Range::new(a("1.128.0.0"), a("1.129.255.255")).unwrap()
        );
        assert_eq!(l[0].coarse, None);
        assert_eq!(l[1].range.start, a("1.130.0.0"));
        assert_eq!(l[1].coarse, Some(16));
    }

    #[test]
    fn arin_parent_handles() {
        assert_eq!(arin_handle_start("NET-74-125-0-0-1"), Some(a("74.125.0.0")));
        assert_eq!(arin_handle_start("NET-108-0-0-0-0"), None);
        assert_eq!(arin_handle_start("NET-1-2-3"), None);
        assert_eq!(arin_handle_start("RU-ROSNIIROS-194-85"), None);
    }
}
