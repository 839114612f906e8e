//! The worker pool: worker threads, the single writer thread, the bounded
//! channel between them, and the stop-and-drain of a crawl ([`run`]).
//!
//! Workers ask the scheduler for a job, run the lookup, classify the answer
//! (the parse is CPU work and stays parallel), hand the result back to the
//! scheduler and send the resulting [`Write`]s over a bounded channel. One
//! writer thread owns every redb write transaction and commits what it has
//! every [`COMMIT_EVERY`] (or at [`COMMIT_MAX`] writes), so a crash loses at
//! most the answers of the last 50 ms plus the queries in flight, which the
//! next run redoes. With nothing new to store it commits only the counters,
//! every [`COMMIT_IDLE`].
//!
//! The writer owns the receiving end of the channel: when it ends with a
//! storage error (a full disk), every send fails at once instead of waiting
//! on a full queue, the crawl stops and [`run`] returns that error within
//! the drain timeout.
//!
//! The offline stop ([`nothing_reachable`], the one place of that rule): a run in
//! which no server has answered anything yet (any HTTP status counts, a 429
//! or a 503 too) while lookups failed in transport (DNS, refused, timeouts,
//! ...: [`crate::rdap::Transport`]) stops as [`Stop::Unreachable`] once
//! [`Settings::unreachable_after`] has passed since it started, instead of
//! retrying into the void. A run that has had an answer rides out later
//! outages with retries and the circuit breaker: its seeds wait.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::ScopedJoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};

use super::politeness::{Pause, PutOff};
use super::sched::{Next, Scheduler, Work};
use super::telemetry::{add, inc, Telemetry};
use crate::rdap::Fetch;
use crate::store::{self, Store, Write};
use crate::time::Now;

/// Longest time an answer waits before it is committed.
pub const COMMIT_EVERY: Duration = Duration::from_millis(50);
/// Longest time between commits of the counters alone.
pub const COMMIT_IDLE: Duration = Duration::from_secs(1);
/// Most writes in one commit.
pub const COMMIT_MAX: usize = 2000;
/// Answers waiting for the writer, at most: when the writer falls behind
/// (a busy machine), workers wait instead of piling up answers a kill would
/// lose.
pub const QUEUE: usize = 64;
/// How often the watching thread looks at the crawl.
const WATCH_EVERY: Duration = Duration::from_millis(50);
/// Longest a worker sleeps before asking the scheduler again.
const WORKER_NAP: Duration = Duration::from_millis(200);

/// How the pool runs.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Worker threads (queries in flight at most); at least 1.
    pub threads: usize,
    /// How often the progress callback runs.
    pub progress_every: Duration,
    /// After a stop, how long to wait for queries in flight.
    pub drain_timeout: Duration,
    /// The offline stop: how long a run may go with transport failures and
    /// no answer at all (see the module docs). `None`: never.
    pub unreachable_after: Option<Duration>,
}

/// How a crawl ended.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Stop {
    /// Swept every lane.
    Finished,
    /// The quit flag (Ctrl-C).
    Interrupted,
    /// `--max-queries` reached.
    MaxQueries,
    /// Every lane swept but those of registries whose remaining work was
    /// put off to the next run (their 429 pauses passed `--max-pause`).
    PutOff,
    /// No server answered anything while lookups failed in transport, for
    /// [`Settings::unreachable_after`] (see the module docs).
    Unreachable,
}

/// The offline stop rule: whether a run `elapsed` since its start, in which
/// servers answered `reached` lookups and `transport_failures` lookups got no
/// answer, must stop because nothing is reachable (`after`: the bound).
pub fn nothing_reachable(
    elapsed: Duration,
    reached: u64,
    transport_failures: u64,
    after: Duration,
) -> bool {
    reached == 0 && transport_failures > 0 && elapsed >= after
}

/// Why the watcher stopped the crawl.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Why {
    /// It did not: the workers ran out of work (or hit `--max-queries`).
    Nothing,
    /// The quit flag.
    Quit,
    /// The offline stop rule.
    Unreachable,
    /// The writer ended early (its error is returned).
    Writer,
}

/// What the progress callback sees.
#[derive(Clone, Debug)]
pub struct Tick {
    /// Addresses of the lanes swept so far.
    pub swept: u64,
    /// Addresses in all lanes.
    pub total: u64,
    /// Registries paused (429 or circuit open), with time left and why.
    pub paused: Vec<Pause>,
    /// Registries whose remaining work was put off to the next run.
    pub put_off: Vec<PutOff>,
}

/// What the writer receives.
enum Msg {
    /// Changes to store.
    Writes(Vec<Write>),
    /// Commit what is left and stop.
    Finish,
}

/// The scheduler shared by the workers.
struct Shared {
    sched: Mutex<Scheduler>,
    /// Signalled when a lane becomes ready or the crawl ends.
    wake: Condvar,
    tele: Arc<Telemetry>,
    /// Workers still running.
    live: AtomicUsize,
    /// The thread that watches the crawl (unparked when a worker or the
    /// writer ends).
    main: std::thread::Thread,
}

impl Shared {
    /// Locks the scheduler (a poisoned lock is taken over: the state is
    /// plain data and every update is completed before unlocking).
    fn lock(&self) -> MutexGuard<'_, Scheduler> {
        self.sched.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn tick(&self) -> Tick {
        let g = self.lock();
        let (swept, total) = g.progress();
        Tick {
            swept,
            total,
            paused: g.paused(Instant::now()),
            put_off: g.put_off(),
        }
    }
}

/// Runs `sched` to its end with `settings.threads` workers asking `fetch`
/// and one writer storing into `store`: until every lane is swept,
/// `--max-queries` is reached, `quit` is raised (then in-flight queries get
/// `drain_timeout`), or the writer fails (its error is returned).
pub fn run(
    store: &Store,
    sched: Scheduler,
    fetch: Arc<dyn Fetch>,
    tele: &Arc<Telemetry>,
    settings: &Settings,
    quit: &AtomicBool,
    on_tick: &mut dyn FnMut(Tick),
) -> Result<Stop, store::Error> {
    let threads = settings.threads.max(1);
    let mut sched = sched;
    if quit.load(Ordering::SeqCst) {
        // A signal before the crawl began: not one query.
        sched.stop();
    }
    let shared = Arc::new(Shared {
        sched: Mutex::new(sched),
        wake: Condvar::new(),
        tele: Arc::clone(tele),
        live: AtomicUsize::new(threads),
        main: std::thread::current(),
    });
    let (tx, rx) = crossbeam_channel::bounded::<Msg>(QUEUE);
    std::thread::scope(|sc| {
        let writer = {
            let tele = Arc::clone(tele);
            let main = std::thread::current();
            sc.spawn(move || {
                let r = writer(store, rx, &tele);
                main.unpark();
                r
            })
        };
        // Workers are detached: after a stop, queries still in flight past
        // the drain timeout are abandoned (and redone by the next run).
        for _ in 0..threads {
            let shared = Arc::clone(&shared);
            let fetch = Arc::clone(&fetch);
            let tx = tx.clone();
            std::thread::spawn(move || worker(&shared, fetch.as_ref(), &tx));
        }
        let why = watch(&shared, &writer, settings, quit, on_tick);
        // Fails at once if the writer is gone; never waits on a dead one.
        let _ = tx.send(Msg::Finish);
        drop(tx);
        writer.join().unwrap_or_else(|_| {
            Err(store::Error::Db {
                table: "(writer)",
                message: "writer thread panicked".into(),
            })
        })?;
        let g = shared.lock();
        Ok(match why {
            _ if g.finished() => Stop::Finished,
            Why::Quit => Stop::Interrupted,
            Why::Unreachable => Stop::Unreachable,
            _ if g.is_stopped() => Stop::MaxQueries,
            Why::Writer => Stop::MaxQueries,
            // Not stopped, not swept, nothing left to dispatch: lanes were
            // put off.
            Why::Nothing => Stop::PutOff,
        })
    })
}

/// Watches the crawl until the workers are done or the drain after a stop
/// times out; stops it on `quit`, by the offline rule ([`nothing_reachable`]), or
/// when the writer ends early. Returns why it stopped it.
fn watch(
    shared: &Shared,
    writer: &ScopedJoinHandle<'_, Result<(), store::Error>>,
    settings: &Settings,
    quit: &AtomicBool,
    on_tick: &mut dyn FnMut(Tick),
) -> Why {
    let started = Instant::now();
    let failures_before = shared.tele.transport_total();
    let mut last_tick = Instant::now();
    let mut stop_at: Option<Instant> = None;
    let mut why = Why::Nothing;
    loop {
        // Not on the workers' condvar: a wake-up meant for a worker must
        // never land here.
        std::thread::park_timeout(WATCH_EVERY);
        if stop_at.is_none() {
            let offline = settings.unreachable_after.is_some_and(|after| {
                nothing_reachable(
                    started.elapsed(),
                    shared.tele.reached.load(Ordering::Relaxed),
                    shared
                        .tele
                        .transport_total()
                        .saturating_sub(failures_before),
                    after,
                )
            });
            why = if quit.load(Ordering::SeqCst) {
                Why::Quit
            } else if offline {
                Why::Unreachable
            } else if writer.is_finished() {
                Why::Writer
            } else {
                Why::Nothing
            };
            if why != Why::Nothing {
                shared.lock().stop();
                shared.wake.notify_all();
                stop_at = Some(Instant::now());
            }
        }
        // After the stop checks: a crawl stopped before it began (below)
        // has no workers left at the first look.
        if shared.live.load(Ordering::SeqCst) == 0 {
            break;
        }
        if stop_at.is_some_and(|t| t.elapsed() >= settings.drain_timeout) {
            break;
        }
        if last_tick.elapsed() >= settings.progress_every {
            on_tick(shared.tick());
            last_tick = Instant::now();
        }
    }
    on_tick(shared.tick());
    why
}

/// The next job, waiting for one as long as the scheduler says; `None` when
/// the crawl is over.
fn next_job(shared: &Shared) -> Option<Work> {
    let mut g = shared.lock();
    loop {
        let now = Instant::now();
        match g.next(now) {
            Next::Job(j) => return Some(j),
            Next::Done => {
                shared.wake.notify_all();
                return None;
            }
            Next::Wait(t) => {
                let d = t.saturating_duration_since(now).min(WORKER_NAP);
                g = shared
                    .wake
                    .wait_timeout(g, d.max(Duration::from_millis(1)))
                    .unwrap_or_else(PoisonError::into_inner)
                    .0;
            }
        }
    }
}

/// Runs one worker until the scheduler says `Done`.
fn worker(shared: &Shared, fetch: &dyn Fetch, tx: &Sender<Msg>) {
    while let Some(work) = next_job(shared) {
        let registry = work.registry();
        let reg = &shared.tele.of(registry);
        inc(&reg.queries);
        let exchange = fetch.fetch(registry, &work.target());
        add(&reg.redirects, u64::from(exchange.redirects()));
        shared.tele.exchanged(&exchange);
        let outcome = work.classify(exchange);
        // No wake-up here: a completion readies at most its own lane (or
        // its registry's next search), and this worker asks right away.
        let writes = shared.lock().complete(&work, outcome, Now::read());
        if !writes.is_empty() && tx.send(Msg::Writes(writes)).is_err() {
            // The writer is gone (a storage error): stop.
            shared.lock().stop();
        }
    }
    shared.live.fetch_sub(1, Ordering::SeqCst);
    shared.wake.notify_all();
    shared.main.unpark();
}

/// Runs the writer until `Finish` (or every sender is gone), committing as
/// the module docs say. On a storage error, returns it; `rx` is dropped
/// either way, so no sender ever waits on a writer that is gone.
fn writer(store: &Store, rx: Receiver<Msg>, tele: &Telemetry) -> Result<(), store::Error> {
    let mut batch: Vec<Write> = Vec::new();
    let mut last = Instant::now();
    loop {
        let finish = match rx.recv_timeout(COMMIT_EVERY) {
            Ok(Msg::Writes(w)) => {
                batch.extend(w);
                false
            }
            Ok(Msg::Finish) | Err(RecvTimeoutError::Disconnected) => true,
            Err(RecvTimeoutError::Timeout) => false,
        };
        let due = if batch.is_empty() {
            COMMIT_IDLE
        } else {
            COMMIT_EVERY
        };
        if finish || batch.len() >= COMMIT_MAX || last.elapsed() >= due {
            batch.push(Write::Counters(tele.to_map()));
            store.apply(&batch)?;
            batch.clear();
            last = Instant::now();
        }
        if finish {
            return Ok(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crawl::{self, politeness, CrawlConfig, Policy};
    use crate::prefix::Cidr;
    use crate::rdap::bootstrap::Bootstrap;
    use crate::rdap::{Broken, Exchange, Registry, Target, Transport};
    use std::path::{Path, PathBuf};

    #[test]
    fn the_offline_rule_needs_failures_no_answer_and_the_time() {
        let after = Duration::from_secs(60);
        let s = Duration::from_secs;
        assert!(nothing_reachable(s(60), 0, 1, after));
        assert!(nothing_reachable(s(3600), 0, 500, after));
        assert!(!nothing_reachable(s(59), 0, 500, after), "not yet");
        assert!(
            !nothing_reachable(s(600), 1, 500, after),
            "a server answered"
        );
        assert!(
            !nothing_reachable(s(600), 0, 0, after),
            "nothing failed: queries in flight"
        );
    }

    /// ARIN answers 404 at once; every other registry refuses the connection.
    struct OnlyArin;

    impl Fetch for OnlyArin {
        fn fetch(&self, registry: Registry, _: &Target) -> Exchange {
            if registry == Registry::Arin {
                return Exchange::Response {
                    registry,
                    url: "http://127.0.0.1:1/".into(),
                    status: 404,
                    retry_after: None,
                    body: Vec::new(),
                    redirects: 0,
                };
            }
            Exchange::Broken {
                registry,
                cause: Broken::Transport(Transport::Refused),
                reason: "http://127.0.0.1:2/: Connection refused".into(),
                redirects: 0,
            }
        }
    }

    /// A fresh DB with a plan of every /24 of `within`.
    fn db(name: &str, within: &[&str]) -> (PathBuf, crate::seeds::SeedPlan) {
        let path =
            std::env::temp_dir().join(format!("ipcrawl-pool-{name}-{}.redb", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let cidrs: Vec<Cidr> = within.iter().map(|c| c.parse().unwrap()).collect();
        let plan = crate::seeds::grid(&cidrs, 24).unwrap();
        Store::open_or_create(&path)
            .unwrap()
            .replace_seeds(&plan)
            .unwrap();
        (path, plan)
    }

    fn cfg(threads: usize, after: Duration) -> CrawlConfig {
        CrawlConfig {
            threads,
            policy: Policy {
                rates: [politeness::Rate::UNLIMITED; 5],
                retry_base: Duration::from_millis(20),
                breaker_base: Duration::from_millis(20),
                ..Policy::default()
            },
            coarse: None,
            unreachable_after: Some(after),
            ..CrawlConfig::default()
        }
    }

    /// Runs the crawl; returns its summary and the last progress seen.
    fn crawl(
        path: &Path,
        plan: crate::seeds::SeedPlan,
        cfg: &CrawlConfig,
    ) -> (crawl::Summary, crawl::Progress) {
        let store = Store::open_rw(path).unwrap();
        let quit = AtomicBool::new(false);
        let mut last = None;
        let s = crawl::run(
            &store,
            plan,
            &Bootstrap::bundled(),
            Arc::new(OnlyArin),
            cfg,
            &quit,
            &mut |p| last = Some(p.clone()),
        )
        .unwrap();
        (s, last.expect("a final progress tick"))
    }

    #[test]
    fn a_run_where_nothing_answers_stops_as_unreachable_naming_the_cause() {
        // RIPE space only: 65,536 seeds, far more than failing lookups can
        // get through before the bound.
        let (path, plan) = db("offline", &["193.0.0.0/8"]);
        let (s, _) = crawl(&path, plan, &cfg(4, Duration::from_millis(200)));
        assert_eq!(s.stop, Stop::Unreachable);
        assert_eq!(s.run_transport.len(), 1, "{:?}", s.run_transport);
        let c = s.run_transport[0];
        assert_eq!((c.registry, c.cause), (Registry::Ripe, Transport::Refused));
        assert!(c.count > 0);
        let stored = Store::open_read(&path).unwrap().counters().unwrap();
        assert_eq!(stored["ripe.transport.refused"], c.count, "persisted");
        let _ = std::fs::remove_file(&path);
    }

    #[test]
    fn one_registry_answering_keeps_the_crawl_going() {
        // One worker: ARIN (asked first) answers before any RIPE failure.
        let (path, plan) = db("one-answers", &["11.0.0.0/22", "193.0.0.0/22"]);
        let (s, p) = crawl(&path, plan, &cfg(1, Duration::from_millis(1)));
        assert_eq!(s.stop, Stop::Finished, "{:?}", s.run_transport);
        // Per registry progress adds up: both swept to the end.
        let (arin, ripe) = (p.by_registry[0], p.by_registry[1]);
        assert_eq!((arin, ripe), ((1024, 1024), (1024, 1024)), "{p:?}");
        assert_eq!((p.swept, p.total), (2048, 2048));
        assert!(s.failures > 0, "RIPE's lookups failed for good");
        assert!(s.run_transport[0].count >= 5, "{:?}", s.run_transport);
        let _ = std::fs::remove_file(&path);
    }
}
