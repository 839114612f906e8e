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
        let interrupted = watch(&shared, &writer, settings, quit, on_tick);
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
        Ok(if g.finished() {
            Stop::Finished
        } else if interrupted {
            Stop::Interrupted
        } else if g.is_stopped() {
            Stop::MaxQueries
        } else {
            // Not stopped, not swept, nothing left to dispatch: lanes were
            // put off.
            Stop::PutOff
        })
    })
}

/// Watches the crawl until the workers are done or the drain after a stop
/// times out; stops it on `quit` or when the writer ends early. Returns
/// whether `quit` stopped it.
fn watch(
    shared: &Shared,
    writer: &ScopedJoinHandle<'_, Result<(), store::Error>>,
    settings: &Settings,
    quit: &AtomicBool,
    on_tick: &mut dyn FnMut(Tick),
) -> bool {
    let mut last_tick = Instant::now();
    let mut stop_at: Option<Instant> = None;
    let mut interrupted = false;
    loop {
        // Not on the workers' condvar: a wake-up meant for a worker must
        // never land here.
        std::thread::park_timeout(WATCH_EVERY);
        if shared.live.load(Ordering::SeqCst) == 0 {
            break;
        }
        if stop_at.is_none() {
            let quit_now = quit.load(Ordering::SeqCst);
            if quit_now || writer.is_finished() {
                interrupted = quit_now;
                shared.lock().stop();
                shared.wake.notify_all();
                stop_at = Some(Instant::now());
            }
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
    interrupted
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
