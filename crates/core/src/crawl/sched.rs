//! The scheduler: which lookup to run next, across all registries, and what
//! a result changes. It composes three parts, one concern per file:
//!
//! | question | file |
//! |---|---|
//! | where does a lane's sweep go next? (known skip, gaps, seeds, coarse steps, continuations, parent climbs, held writes, what an answer stores) | [`super::lanes`] |
//! | when may registry R be asked again? (token buckets, 429 pauses, Retry-After, circuit breaker, retry backoff and attempts) | [`super::politeness`] |
//! | is this answer a network, a gap, a rate limit, retryable or refused? | [`crate::rdap::classify`] |
//! | which ready lane goes next, and when is the crawl over? (round robin over registries, `--max-queries`, stop and drain) | this file |
//!
//! No worker ever sleeps on one registry while another has work: a worker
//! asks [`Scheduler::next`] for any dispatchable job across all registries.
//!
//! Pure logic: time comes in (an `Instant` for [`Scheduler::next`], a
//! [`Now`] with the wall clock too for [`Scheduler::complete`]), results come
//! in as [`Answer`]s, state changes go out as [`Write`]s for the writer
//! thread.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::lanes::{Depth, Job, Known, LaneSpec, Lanes, Sweep};
use super::politeness::{default_rates, Pause, Politeness, PutOff, Rate, Rules};
use super::telemetry::{add, inc, Telemetry};
use super::walks::{Effect, Wait, WalkAnswer, WalkJob, Walks};
use crate::rdap::{classify, Answer, Answered, Exchange, Registry, Target};
use crate::seeds::SeedSet;
use crate::store::Write;
use crate::time::Now;

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
    /// Longest such pause (and longest 429 floor). Defaults to 15 min.
    pub rate_limit_cap: Duration,
    /// Shortest pause after any 429 whatever its Retry-After says (doubles
    /// with each 429 in a row, never below the registry's spacing).
    /// Defaults to 1 s.
    pub rate_limit_floor: Duration,
    /// Longest total of 429 pauses per registry and run; past it, that
    /// registry's remaining work is put off to the next run. Defaults to 4 h.
    pub max_pause: Duration,
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
            rate_limit_floor: Duration::from_secs(1),
            max_pause: Duration::from_secs(4 * 3600),
            breaker_threshold: 8,
            breaker_base: Duration::from_secs(30),
            breaker_cap: Duration::from_secs(10 * 60),
            max_queries: None,
            seed: 0x1bc0_ffee,
        }
    }
}

impl Policy {
    /// The politeness part.
    pub fn rules(&self) -> Rules {
        Rules {
            rates: self.rates,
            max_attempts: self.max_attempts,
            retry_base: self.retry_base,
            retry_cap: self.retry_cap,
            rate_limit_base: self.rate_limit_base,
            rate_limit_cap: self.rate_limit_cap,
            rate_limit_floor: self.rate_limit_floor,
            max_pause: self.max_pause,
            breaker_threshold: self.breaker_threshold,
            breaker_base: self.breaker_base,
            breaker_cap: self.breaker_cap,
            seed: self.seed,
        }
    }
}

/// A job for a worker: a lane's lookup, or a registry's search work.
#[derive(Clone, Debug)]
pub enum Work {
    /// A lane's lookup.
    Lane(Job),
    /// A `help` or a search walk's task.
    Walk(WalkJob),
}

impl Work {
    /// The registry to ask.
    pub fn registry(&self) -> Registry {
        match self {
            Work::Lane(j) => j.lookup.registry,
            Work::Walk(w) => w.registry,
        }
    }

    /// What to ask for.
    pub fn target(&self) -> Target {
        match self {
            Work::Lane(j) => j.lookup.target.clone(),
            Work::Walk(w) => w.target(),
        }
    }

    /// What the exchange means (the parse runs here, in the worker thread).
    pub fn classify(&self, exchange: Exchange) -> Outcome {
        match self {
            Work::Lane(j) => Outcome::Lane(classify(exchange, j.lookup.must_contain)),
            Work::Walk(w) => Outcome::Walk(w.classify(exchange)),
        }
    }
}

/// A classified result of a [`Work`].
#[derive(Clone, Debug)]
pub enum Outcome {
    /// Of a lane's lookup.
    Lane(Answer),
    /// Of search work.
    Walk(WalkAnswer),
}

/// What to do next.
#[derive(Debug)]
pub enum Next {
    /// Run this.
    Job(Work),
    /// Nothing to do before this instant.
    Wait(Instant),
    /// The crawl is over (or stopped and drained).
    Done,
}

/// How long a stopped scheduler waits between looks at its in-flight jobs.
const DRAIN_POLL: Duration = Duration::from_millis(50);
/// How long to wait when nothing says when to look again.
const IDLE_POLL: Duration = Duration::from_millis(100);

/// The scheduler state (the pool wraps it in a mutex).
pub struct Scheduler {
    lanes: Lanes,
    walks: Walks,
    polite: Politeness,
    /// Idle lanes per registry queue.
    ready: [VecDeque<usize>; 5],
    /// Lanes waiting for a retry or a pause to end.
    delayed: BinaryHeap<Reverse<(Instant, usize)>>,
    /// The registry queue looked at first by the next [`Scheduler::next`].
    rr: usize,
    max_queries: Option<u64>,
    tele: Arc<Telemetry>,
    inflight: usize,
    dispatched: u64,
    stopped: bool,
    /// Lanes put off to the next run (their registry's 429 pauses passed
    /// the budget): never queued again in this run.
    dropped: Vec<bool>,
}

impl Scheduler {
    /// A scheduler over the lanes `specs`, skipping what `known` says is
    /// done, sweeping as `sweep` says (its depth is the policy's).
    pub fn new(
        specs: &[LaneSpec],
        seeds: Arc<SeedSet>,
        known: Known,
        sweep: Sweep,
        policy: Policy,
        tele: Arc<Telemetry>,
    ) -> Scheduler {
        let mut ready: [VecDeque<usize>; 5] = Default::default();
        for (i, l) in specs.iter().enumerate() {
            ready[l.registry.index()].push_back(i);
        }
        let lanes = Lanes::new(
            specs,
            seeds,
            known,
            Sweep {
                depth: policy.depth,
                ..sweep
            },
            Arc::clone(&tele),
        );
        Scheduler {
            lanes,
            walks: Walks::off(Arc::clone(&tele)),
            polite: Politeness::new(policy.rules()),
            ready,
            delayed: BinaryHeap::new(),
            rr: 0,
            max_queries: policy.max_queries,
            tele,
            inflight: 0,
            dispatched: 0,
            stopped: false,
            dropped: vec![false; specs.len()],
        }
    }

    /// Adds RFC 9910 searches: while a registry's probe or walk runs, its
    /// lanes wait (see [`super::walks`]).
    pub fn with_walks(mut self, walks: Walks) -> Scheduler {
        self.walks = walks;
        self
    }

    /// Registries whose `help` said they serve search, this run.
    pub fn search_served(&self) -> [bool; 5] {
        self.walks.served()
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
        self.lanes.finished()
    }

    /// (addresses swept, addresses in all lanes).
    pub fn progress(&self) -> (u64, u64) {
        self.lanes.progress()
    }

    /// Registries paused at `now`, with the time left and why.
    pub fn paused(&self, now: Instant) -> Vec<Pause> {
        self.polite.paused(now)
    }

    /// Registries whose remaining work this run put off to the next.
    pub fn put_off(&self) -> Vec<PutOff> {
        self.polite.put_off()
    }

    /// The next job to run at `now`, or how long to wait.
    pub fn next(&mut self, now: Instant) -> Next {
        let wake = self.promote_delayed(now);
        if self.stopped {
            return if self.inflight == 0 {
                Next::Done
            } else {
                Next::Wait(now + DRAIN_POLL)
            };
        }
        let mut earliest = match (wake, self.walks.wakes_at()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        for i in 0..5 {
            let reg = Registry::ALL[(self.rr + i) % 5];
            let walking = self.walks.holds_lanes(reg);
            if self.ready[reg.index()].is_empty() && !walking {
                continue;
            }
            if let Err(t) = self.polite.ready(reg, now) {
                earliest = Some(earliest.map_or(t, |e| e.min(t)));
                continue;
            }
            let work = if walking {
                // The registry's lanes wait for its search.
                self.walks.next_job(reg, now).map(Work::Walk)
            } else {
                self.dispatch_from(reg, now).map(Work::Lane)
            };
            if let Some(work) = work {
                if let Work::Walk(_) = work {
                    self.sent(reg, now);
                }
                self.rr = (self.rr + i + 1) % 5;
                self.update_gauges();
                return Next::Job(work);
            }
        }
        self.update_gauges();
        if self.inflight == 0
            && self.delayed.is_empty()
            && self.ready.iter().all(VecDeque::is_empty)
            && Registry::ALL.iter().all(|&r| !self.walks.busy(r))
        {
            return Next::Done;
        }
        Next::Wait(earliest.unwrap_or(now + IDLE_POLL))
    }

    /// Takes a job's result, obtained at `now`; returns what to store.
    pub fn complete(&mut self, work: &Work, outcome: Outcome, now: Now) -> Vec<Write> {
        match (work, outcome) {
            (Work::Lane(job), Outcome::Lane(answer)) => self.complete_lane(job, answer, now),
            (Work::Walk(job), Outcome::Walk(answer)) => {
                self.complete_walk(job.clone(), answer, &now)
            }
            // A mismatched pair cannot be built by `Work::classify`.
            _ => {
                self.inflight -= 1;
                Vec::new()
            }
        }
    }

    /// A search job's answer: the walk's writes; a 429 or a retryable
    /// failure waits as politeness says, or gives the task up.
    fn complete_walk(&mut self, job: WalkJob, answer: WalkAnswer, now: &Now) -> Vec<Write> {
        self.inflight -= 1;
        let reg = job.registry;
        let (mut out, fx, pending) = self.walks.complete(job, answer, now);
        let wait = fx.wait;
        self.apply_effect(fx, &mut out);
        if let Some(p) = pending {
            match wait {
                Some(Wait::RateLimited(from, retry_after)) => {
                    let c = self.tele.of(from);
                    inc(&c.rate_limited);
                    let l = self.polite.rate_limited(from, retry_after, now.instant);
                    add(&c.pause_429_ms, l.added.as_millis() as u64);
                    if l.put_off {
                        inc(&c.put_off);
                        self.walks.stop(reg);
                        self.put_off_queues(from);
                    } else {
                        self.walks.retry_later(p, l.until);
                    }
                }
                Some(Wait::Retry(attempt)) => {
                    if let Some(at) = self.polite.retry(reg, attempt, now.instant) {
                        inc(&self.tele.of(reg).retries);
                        self.walks.retry_later(p, at);
                    } else {
                        let (w, fx) = self.walks.give_up(p, now);
                        out.extend(w);
                        self.apply_effect(fx, &mut out);
                    }
                }
                None => self.walks.retry_later(p, now.instant),
            }
        } else {
            self.polite.answered(reg);
        }
        self.update_gauges();
        out
    }

    /// What a walk step changes for the lanes: swept space they skip, and
    /// stored networks their climbs stop at.
    fn apply_effect(&mut self, fx: Effect, out: &mut Vec<Write>) {
        // A key a search gave up is a failure the sweep clears once it
        // resolves the address.
        for a in fx.failed {
            self.lanes.note_failure(a);
        }
        for r in fx.swept {
            self.lanes.mark_swept(r, out);
        }
        for (r, reg) in fx.stored {
            self.lanes.note_network(r, reg);
        }
    }

    /// A lane's lookup result.
    pub(crate) fn complete_lane(&mut self, job: &Job, answer: Answer, now: Now) -> Vec<Write> {
        self.inflight -= 1;
        self.lanes.returned(job.lane);
        let mut out = Vec::new();
        let again_at = match answer {
            Answer::Network(a) => self.network(job, a, &now, &mut out),
            Answer::NotFound => self.not_found(job, &mut out),
            Answer::RateLimited {
                registry,
                retry_after,
            } => self.rate_limited(job, registry, retry_after, now.instant),
            Answer::Retry(reason) => self.retry(job, reason, &now, &mut out),
            Answer::Refused(reason) => self.refused(job, reason, &now, &mut out),
            Answer::RefusedForGood(reason) => {
                self.lanes.refuse_for_good(job, reason, &now, &mut out);
                None
            }
        };
        let out = self.lanes.release(job.lane, out);
        self.requeue(job.lane, again_at);
        self.update_gauges();
        out
    }

    /// A network answer: both the registry asked and the one that answered
    /// (after redirects) are answering.
    fn network(
        &mut self,
        job: &Job,
        a: Answered,
        now: &Now,
        out: &mut Vec<Write>,
    ) -> Option<Instant> {
        self.polite.answered(job.lookup.registry);
        self.polite.answered(a.registry);
        // A transfer: space the answering registry holds in this lane. At
        // `--depth all` its search enumerates it (no lookup sweep can).
        if a.registry != job.lookup.registry && !a.network.placeholder {
            for piece in self.walks.add_transfer(a.registry, a.network.range) {
                out.push(Write::ToSearch(piece, a.registry));
            }
        }
        self.lanes.network(job, a, now, out);
        None
    }

    fn not_found(&mut self, job: &Job, out: &mut Vec<Write>) -> Option<Instant> {
        self.polite.answered(job.lookup.registry);
        self.lanes.not_found(job, out);
        None
    }

    fn refused(
        &mut self,
        job: &Job,
        reason: String,
        now: &Now,
        out: &mut Vec<Write>,
    ) -> Option<Instant> {
        self.lanes.give_up(job, reason, now, out);
        None
    }

    /// Back in its registry's queue, or delayed until `again_at` (not when
    /// it was dropped: see [`Scheduler::enqueue`]).
    fn requeue(&mut self, lane: usize, again_at: Option<Instant>) {
        let put_off = self
            .lanes
            .queue_of(lane)
            .is_some_and(|(reg, _)| self.polite.is_put_off(reg));
        if put_off {
            self.dropped[lane] = true;
        }
        if self.dropped[lane] {
            return;
        }
        match again_at {
            Some(t) => self.delayed.push(Reverse((t, lane))),
            None => self.enqueue(lane),
        }
    }

    /// A 429 from `registry`: the registry pauses, the lookup waits for it
    /// (returns when). When the 429 puts the registry's remaining work off
    /// (or came from a registry already put off, after a redirect), the
    /// lane is dropped for this run, and so is every lane waiting for that
    /// registry; `None` then.
    fn rate_limited(
        &mut self,
        job: &Job,
        registry: Registry,
        retry_after: Option<u64>,
        now: Instant,
    ) -> Option<Instant> {
        let c = self.tele.of(registry);
        inc(&c.rate_limited);
        if let Some(s) = retry_after {
            c.retry_after_max_s.fetch_max(s, Ordering::Relaxed);
        }
        let was_put_off = self.polite.is_put_off(registry);
        let l = self.polite.rate_limited(registry, retry_after, now);
        add(&c.pause_429_ms, l.added.as_millis() as u64);
        if !l.put_off {
            self.lanes.put_back(job.lane, job.lookup.clone());
            return Some(l.until);
        }
        self.dropped[job.lane] = true;
        if !was_put_off {
            inc(&c.put_off);
            self.put_off_queues(registry);
        }
        None
    }

    /// Drops every idle lane waiting for `reg` (ready or delayed); lanes in
    /// flight are dropped when they come back ([`Scheduler::enqueue`]).
    fn put_off_queues(&mut self, reg: Registry) {
        for lane in std::mem::take(&mut self.ready[reg.index()]) {
            self.dropped[lane] = true;
        }
        let lanes = &self.lanes;
        let dropped = &mut self.dropped;
        self.delayed.retain(|&Reverse((_, lane))| {
            let waits_for_reg = lanes.queue_of(lane).is_some_and(|(r, _)| r == reg);
            if waits_for_reg {
                dropped[lane] = true;
            }
            !waits_for_reg
        });
    }

    /// A retryable failure: asked again later, or given up after the last
    /// attempt. Returns when to ask again.
    fn retry(
        &mut self,
        job: &Job,
        reason: String,
        now: &Now,
        out: &mut Vec<Write>,
    ) -> Option<Instant> {
        let attempt = self.lanes.failed_attempt(job.lane);
        let Some(at) = self.polite.retry(job.lookup.registry, attempt, now.instant) else {
            self.lanes.give_up(job, reason, now, out);
            return None;
        };
        inc(&self.tele.of(job.lookup.registry).retries);
        self.lanes.put_back(job.lane, job.lookup.clone());
        Some(at)
    }

    /// The first dispatchable lane in `reg`'s queue, dispatched at `now`.
    fn dispatch_from(&mut self, reg: Registry, now: Instant) -> Option<Job> {
        while let Some(lane) = self.ready[reg.index()].pop_front() {
            let Some(lookup) = self.lanes.next_lookup(lane) else {
                continue;
            };
            if lookup.registry != reg {
                // A parent lookup for another registry: queue it there.
                self.lanes.put_back(lane, lookup);
                self.enqueue(lane);
                continue;
            }
            self.lanes.start(lane);
            self.sent(reg, now);
            return Some(Job { lane, lookup });
        }
        None
    }

    /// One query to `reg` goes out at `now`: politeness, counts, the
    /// query budget.
    fn sent(&mut self, reg: Registry, now: Instant) {
        self.polite.sent(reg, now);
        self.inflight += 1;
        self.dispatched += 1;
        if self.max_queries.is_some_and(|m| self.dispatched >= m) {
            self.stopped = true;
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

    /// Into the queue of the registry the lane waits for; a lane dropped,
    /// or waiting for a registry whose work was put off, is dropped (the
    /// next run sweeps it again from what was stored).
    fn enqueue(&mut self, lane: usize) {
        let Some((reg, climbing)) = self.lanes.queue_of(lane) else {
            return;
        };
        if self.dropped[lane] || self.polite.is_put_off(reg) {
            self.dropped[lane] = true;
            return;
        }
        // A climb goes first: it ends soon, and its writes are held until then.
        if climbing {
            self.ready[reg.index()].push_front(lane);
        } else {
            self.ready[reg.index()].push_back(lane);
        }
    }

    fn update_gauges(&self) {
        let waiting: usize = self.ready.iter().map(VecDeque::len).sum();
        self.tele
            .awaiting_registry
            .store(waiting as u64, Ordering::Relaxed);
        self.tele
            .looking_up_whois
            .store(self.inflight as u64, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crawl::lanes::JobKind;
    use crate::prefix::{parse_addr_lenient, Cidr, Range};
    use crate::rdap::{Network, Target};
    use crate::store::GapKind;

    /// The wall clock the tests pretend it is: 2026-11-27T13:38:10Z.
    const UNIX: u64 = 1_795_786_690;
    const STAMP: &str = "2026-11-27T13:38:10Z";

    fn a(s: &str) -> u32 {
        parse_addr_lenient(s).unwrap()
    }

    /// `instant` with the tests' wall clock.
    fn at(instant: Instant) -> Now {
        Now {
            instant,
            unix_secs: UNIX,
        }
    }

    pub(crate) fn net(start: &str, end: &str, parent: Option<&str>) -> Network {
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

    fn policy(depth: Depth) -> Policy {
        Policy {
            depth,
            rates: [Rate::UNLIMITED; 5],
            retry_base: Duration::from_millis(10),
            ..Policy::default()
        }
    }

    /// A scheduler over one lane per (registry, prefix), seeds every /24.
    fn sched_of(lanes: &[(Registry, &str)], policy: Policy) -> Scheduler {
        let cidrs: Vec<Cidr> = lanes.iter().map(|(_, c)| c.parse().unwrap()).collect();
        let plan = crate::seeds::grid(&cidrs, 24).unwrap();
        let specs: Vec<LaneSpec> = lanes
            .iter()
            .zip(&cidrs)
            .map(|((registry, _), c)| LaneSpec {
                registry: *registry,
                range: c.range(),
                coarse: None,
            })
            .collect();
        Scheduler::new(
            &specs,
            Arc::new(plan.seeds),
            Known::default(),
            Sweep::lanes(policy.depth),
            policy,
            Arc::new(Telemetry::default()),
        )
    }

    fn sched(space: &str, depth: Depth) -> Scheduler {
        sched_of(&[(Registry::Ripe, space)], policy(depth))
    }

    fn job(s: &mut Scheduler, now: Instant) -> Job {
        match s.next(now) {
            Next::Job(Work::Walk(w)) => panic!("no search in this test: {w:?}"),
            Next::Job(Work::Lane(j)) => j,
            other => panic!("expected a job, got {other:?}"),
        }
    }

    fn answer(n: Network) -> Answer {
        Answer::Network(Answered {
            network: Box::new(n),
            registry: Registry::Ripe,
            url: "http://x/".into(),
            raw: b"{}".to_vec(),
        })
    }

    fn transient() -> Answer {
        Answer::Retry("HTTP 503".into())
    }

    #[test]
    fn sweep_continues_after_each_network_and_steps_over_gaps() {
        let now = Instant::now();
        let mut s = sched("11.0.0.0/22", Depth::All);
        let j = job(&mut s, now);
        assert_eq!(j.lookup.target, Target::Addr(a("11.0.0.0")));
        // One lane: only one query in flight.
        assert!(matches!(s.next(now), Next::Wait(_)));
        s.complete_lane(&j, answer(net("11.0.0.0", "11.0.0.127", None)), at(now));
        let j = job(&mut s, now);
        assert_eq!(
            j.lookup.target,
            Target::Addr(a("11.0.0.128")),
            "continuation at end + 1"
        );
        let w = s.complete_lane(&j, Answer::NotFound, at(now));
        assert!(matches!(w[0], Write::Gap(r, GapKind::NotFound, _) if r.end == a("11.0.0.255")));
        let j = job(&mut s, now);
        assert_eq!(
            j.lookup.target,
            Target::Addr(a("11.0.1.0")),
            "next seed after a gap"
        );
        s.complete_lane(&j, answer(net("11.0.1.0", "11.0.3.255", None)), at(now));
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
        s.complete_lane(&j, answer(child), at(now));
        let j = job(&mut s, now);
        assert_eq!(j.lookup.kind, JobKind::Parent);
        assert_eq!(
            j.lookup.target,
            Target::Prefix("11.0.0.0/18".parse().unwrap())
        );
        s.complete_lane(&j, answer(net("11.0.0.0", "11.0.63.255", None)), at(now));
        let j = job(&mut s, now);
        assert_eq!(j.lookup.target, Target::Addr(a("11.0.64.0")));
        s.complete_lane(&j, Answer::NotFound, at(now));
        let j = job(&mut s, now);
        assert_eq!(j.lookup.target, Target::Addr(a("11.0.65.0")));
    }

    #[test]
    fn retries_then_records_a_failure_and_moves_on() {
        let mut now = Instant::now();
        let mut s = sched("11.0.0.0/23", Depth::Coverage);
        for attempt in 1..=5 {
            let j = loop {
                match s.next(now) {
                    Next::Job(Work::Walk(w)) => panic!("no search in this test: {w:?}"),
                    Next::Job(Work::Lane(j)) => break j,
                    Next::Wait(t) => now = t,
                    Next::Done => panic!("done too early"),
                }
            };
            assert_eq!(j.lookup.addr, a("11.0.0.0"), "attempt {attempt}");
            let w = s.complete_lane(&j, transient(), at(now));
            if attempt == 5 {
                assert!(matches!(&w[0], Write::Failure(f) if f.end == a("11.0.0.255")));
                // The failure's time is the caller's wall clock, not the scheduler's.
                assert!(matches!(&w[0], Write::Failure(f) if f.at == STAMP && f.attempts == 5));
            } else {
                assert!(w.is_empty());
            }
        }
        let j = job(&mut s, now);
        assert_eq!(j.lookup.addr, a("11.0.1.0"));
        let w = s.complete_lane(&j, answer(net("11.0.0.0", "11.0.1.255", None)), at(now));
        // The later answer covers the failed address: the failure is cleared.
        assert!(w
            .iter()
            .any(|w| matches!(w, Write::ClearFailure(x) if *x == a("11.0.0.0"))));
    }

    #[test]
    fn a_refused_answer_fails_at_once() {
        let now = Instant::now();
        let mut s = sched("11.0.0.0/23", Depth::Coverage);
        let j = job(&mut s, now);
        let w = s.complete_lane(&j, Answer::Refused("HTTP 400 from x".into()), at(now));
        match &w[..] {
            [Write::Failure(f)] => {
                assert_eq!((f.addr, f.attempts), (a("11.0.0.0"), 1));
                assert_eq!(f.reason, "HTTP 400 from x");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(job(&mut s, now).lookup.addr, a("11.0.1.0"), "moves on");
    }

    #[test]
    fn records_carry_the_callers_wall_clock() {
        let now = Instant::now();
        let mut s = sched("11.0.0.0/24", Depth::All);
        let j = job(&mut s, now);
        let w = s.complete_lane(&j, answer(net("11.0.0.0", "11.0.0.255", None)), at(now));
        match &w[..] {
            [Write::Network(rec, raw), Write::Swept(..)] => {
                assert_eq!(rec.fetched_at, STAMP);
                assert_eq!(rec.queried, Some(a("11.0.0.0")));
                assert_eq!(rec.source_url, "http://x/");
                assert_eq!(raw, b"{}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn rate_limit_pauses_only_that_registry() {
        let now = Instant::now();
        let mut s = sched_of(
            &[
                (Registry::Ripe, "11.0.0.0/24"),
                (Registry::Arin, "12.0.0.0/22"),
            ],
            policy(Depth::Coverage),
        );
        let j = job(&mut s, now);
        assert_eq!(j.lookup.registry, Registry::Arin, "round robin from arin");
        let arin = j;
        let j = job(&mut s, now);
        assert_eq!(j.lookup.registry, Registry::Ripe);
        s.complete_lane(
            &j,
            Answer::RateLimited {
                registry: Registry::Ripe,
                retry_after: Some(2),
            },
            at(now),
        );
        let paused = s.paused(now);
        assert_eq!(paused.len(), 1);
        assert_eq!(paused[0].registry, Registry::Ripe);
        // While ARIN's only lane is in flight, the next event is RIPE's pause end.
        match s.next(now) {
            Next::Job(Work::Walk(w)) => panic!("no search in this test: {w:?}"),
            Next::Wait(t) => assert!(t >= now + Duration::from_secs(2)),
            other => panic!("{other:?}"),
        }
        // ARIN carries on during the pause: its lane is swept to the end.
        let mut arin_addrs = vec![arin.lookup.addr];
        let mut j = arin;
        loop {
            s.complete_lane(&j, Answer::NotFound, at(now));
            match s.next(now) {
                Next::Job(Work::Walk(w)) => panic!("no search in this test: {w:?}"),
                Next::Job(Work::Lane(next)) => {
                    assert_eq!(next.lookup.registry, Registry::Arin, "RIPE is paused");
                    arin_addrs.push(next.lookup.addr);
                    j = next;
                }
                Next::Wait(t) => {
                    assert!(t >= now + Duration::from_secs(2));
                    break;
                }
                Next::Done => panic!("RIPE's lookup is still waiting"),
            }
        }
        let want: Vec<u32> = ["12.0.0.0", "12.0.1.0", "12.0.2.0", "12.0.3.0"]
            .map(a)
            .to_vec();
        assert_eq!(
            arin_addrs, want,
            "every ARIN seed asked during RIPE's pause"
        );
        let later = now + Duration::from_secs(2);
        assert!(s.paused(later).is_empty());
        let j2 = job(&mut s, later);
        assert_eq!(j2.lookup.registry, Registry::Ripe);
        assert_eq!(
            j2.lookup.addr,
            a("11.0.0.0"),
            "the limited query is asked again"
        );
    }

    /// A server answering 429 with `Retry-After: 0` forever: RIPE is asked
    /// again only after each growing pause, never faster; once the pauses
    /// would pass `max_pause` its lanes are put off, ARIN carries on, and
    /// the crawl ends with work left.
    #[test]
    fn endless_429s_put_one_registrys_lanes_off_and_the_rest_finishes() {
        let t0 = Instant::now();
        let p = Policy {
            rate_limit_floor: Duration::from_millis(100),
            max_pause: Duration::from_millis(1500),
            ..policy(Depth::All)
        };
        let mut s = sched_of(
            &[
                (Registry::Ripe, "11.0.0.0/23"),
                (Registry::Ripe, "11.1.0.0/24"),
                (Registry::Arin, "12.0.0.0/22"),
            ],
            p,
        );
        let tele = Arc::clone(&s.tele);
        let limited = || Answer::RateLimited {
            registry: Registry::Ripe,
            retry_after: Some(0),
        };
        let mut now = t0;
        let mut ripe_asks = Vec::new();
        let mut arin_done = 0;
        loop {
            match s.next(now) {
                Next::Job(Work::Walk(w)) => panic!("no search in this test: {w:?}"),
                Next::Job(Work::Lane(j)) if j.lookup.registry == Registry::Ripe => {
                    ripe_asks.push(now - t0);
                    s.complete_lane(&j, limited(), at(now));
                }
                Next::Job(Work::Lane(j)) => {
                    arin_done += 1;
                    s.complete_lane(&j, Answer::NotFound, at(now));
                }
                Next::Wait(t) => now = t,
                Next::Done => break,
            }
        }
        // One ask per pause end (the other RIPE lane waits for the pause
        // too): 100, 200, 400, 800 ms; the fifth 429 would pause it 1.6 s
        // more, past the 1.5 s budget.
        let ms: Vec<u128> = ripe_asks.iter().map(Duration::as_millis).collect();
        assert_eq!(ms, [0, 100, 300, 700, 1500]);
        assert_eq!(arin_done, 4, "every ARIN seed asked");
        assert!(!s.finished(), "RIPE's lanes are left for the next run");
        assert!(!s.is_stopped());
        let off = s.put_off();
        assert_eq!(off.len(), 1);
        assert_eq!((off[0].registry, off[0].limits), (Registry::Ripe, 5));
        assert!(s.paused(now).is_empty());
        let ripe = &tele.snapshot().by_registry["ripe"];
        assert_eq!((ripe.rate_limited, ripe.put_off), (5, 1));
        assert_eq!(ripe.pause_429_ms, 1500);
        assert_eq!(ripe.retry_after_max_s, 0);
    }

    /// A lane whose answer came, through a redirect, from a registry whose
    /// work was put off is dropped too (it would be asked again at once);
    /// so are the put-off registry's lanes in flight when they come back,
    /// an answer first stored, a retry not waited for.
    #[test]
    fn a_redirect_to_a_put_off_registry_drops_the_lane() {
        let now = Instant::now();
        let p = Policy {
            max_pause: Duration::ZERO,
            ..policy(Depth::All)
        };
        let mut s = sched_of(
            &[
                (Registry::Lacnic, "11.0.0.0/24"),
                (Registry::Arin, "12.0.0.0/24"),
                (Registry::Arin, "13.0.0.0/24"),
            ],
            p,
        );
        let a1 = job(&mut s, now);
        let l1 = job(&mut s, now);
        let a2 = job(&mut s, now);
        let regs = [a1.lookup.registry, l1.lookup.registry, a2.lookup.registry];
        assert_eq!(regs, [Registry::Arin, Registry::Lacnic, Registry::Arin]);
        // LACNIC's lookup was redirected to ARIN, which said 429: ARIN is put off.
        let limited = Answer::RateLimited {
            registry: Registry::Arin,
            retry_after: None,
        };
        s.complete_lane(&l1, limited, at(now));
        assert_eq!(s.put_off()[0].registry, Registry::Arin);
        // ARIN's lanes in flight come back: an answer is still stored...
        let w = s.complete_lane(&a1, Answer::NotFound, at(now));
        assert_eq!(w.len(), 1, "its answer is still stored");
        // ... and a transient failure is not retried (no wait for it).
        assert!(s.complete_lane(&a2, transient(), at(now)).is_empty());
        assert!(matches!(s.next(now), Next::Done));
        assert!(!s.finished());
    }

    #[test]
    fn a_tripped_breaker_pauses_only_that_registry() {
        let mut now = Instant::now();
        let p = Policy {
            max_attempts: 100,
            breaker_threshold: 3,
            ..policy(Depth::All)
        };
        let mut s = sched_of(
            &[
                (Registry::Ripe, "11.0.0.0/24"),
                (Registry::Arin, "12.0.0.0/22"),
            ],
            p,
        );
        let mut arin = job(&mut s, now);
        // RIPE fails three times in a row (waiting out each retry delay).
        for _ in 0..3 {
            let j = loop {
                match s.next(now) {
                    Next::Job(Work::Walk(w)) => panic!("no search in this test: {w:?}"),
                    Next::Job(Work::Lane(j)) if j.lookup.registry == Registry::Ripe => break j,
                    Next::Job(Work::Lane(j)) => panic!("ARIN's lane is in flight: {j:?}"),
                    Next::Wait(t) => now = t,
                    Next::Done => panic!("done too early"),
                }
            };
            s.complete_lane(&j, transient(), at(now));
        }
        let paused = s.paused(now);
        assert_eq!(paused.len(), 1, "{paused:?}");
        assert_eq!(paused[0].registry, Registry::Ripe);
        assert!(
            paused[0].left >= Duration::from_millis(22_500),
            "{paused:?}"
        );
        // ARIN keeps being dispatched while RIPE's circuit is open.
        for _ in 0..3 {
            s.complete_lane(&arin, Answer::NotFound, at(now));
            arin = job(&mut s, now);
            assert_eq!(arin.lookup.registry, Registry::Arin);
        }
    }

    #[test]
    fn max_queries_stops_dispatch() {
        let now = Instant::now();
        let mut s = sched_of(
            &[(Registry::Ripe, "11.0.0.0/22")],
            Policy {
                max_queries: Some(1),
                ..policy(Depth::All)
            },
        );
        let j = job(&mut s, now);
        assert!(s.is_stopped());
        s.complete_lane(&j, Answer::NotFound, at(now));
        assert!(matches!(s.next(now), Next::Done));
        assert!(!s.finished());
    }

    #[test]
    fn stop_drains_the_queries_in_flight() {
        let now = Instant::now();
        let mut s = sched_of(
            &[
                (Registry::Ripe, "11.0.0.0/22"),
                (Registry::Arin, "12.0.0.0/22"),
            ],
            policy(Depth::All),
        );
        let j1 = job(&mut s, now);
        let j2 = job(&mut s, now);
        s.stop();
        assert_eq!(s.inflight(), 2);
        assert!(matches!(s.next(now), Next::Wait(_)), "two still in flight");
        s.complete_lane(&j1, Answer::NotFound, at(now));
        assert!(matches!(s.next(now), Next::Wait(_)), "one still in flight");
        s.complete_lane(&j2, Answer::NotFound, at(now));
        assert!(matches!(s.next(now), Next::Done));
        assert!(!s.finished());
    }

    #[test]
    fn a_parent_at_another_registry_waits_in_that_registrys_queue() {
        let now = Instant::now();
        let mut s = sched_of(
            &[(Registry::Lacnic, "11.0.0.0/16")],
            policy(Depth::Coverage),
        );
        let j = job(&mut s, now);
        assert_eq!(j.lookup.registry, Registry::Lacnic);
        // LACNIC redirected to ARIN, which answered with a nested network.
        let child = net("11.0.0.0", "11.0.0.7", Some("11.0.0.0 - 11.0.63.255"));
        let reply = Answer::Network(Answered {
            network: Box::new(child),
            registry: Registry::Arin,
            url: "http://arin/".into(),
            raw: b"{}".to_vec(),
        });
        assert!(
            s.complete_lane(&j, reply, at(now)).is_empty(),
            "held by the climb"
        );
        let p = job(&mut s, now);
        assert_eq!(
            (p.lookup.kind, p.lookup.registry),
            (JobKind::Parent, Registry::Arin)
        );
        let w = s.complete_lane(&p, Answer::NotFound, at(now));
        assert!(
            matches!(&w[..], [Write::Network(..), Write::Swept(r, _)] if *r == Range::new(a("11.0.0.0"), a("11.0.0.7")).unwrap()),
            "the climb ended: the child is released with what it swept: {w:?}"
        );
    }
}
