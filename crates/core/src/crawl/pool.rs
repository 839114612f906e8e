//! Worker threads and the single writer thread.
//!
//! Workers ask the scheduler for a job, run the lookup, parse the answer
//! (CPU work stays parallel), hand the result back to the scheduler and send
//! the resulting [`Write`]s over a bounded channel. One writer thread owns
//! every redb write transaction and commits what it has [`COMMIT_EVERY`]
//! (or at [`COMMIT_MAX`] writes), so a crash loses at most the answers of
//! the last 50 ms plus the queries in flight, which the next run redoes.
//! With nothing new to store it commits only the counters, every
//! [`COMMIT_IDLE`].

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};

use super::sched::{Next, Reply, Scheduler};
use super::telemetry::{add, inc, Telemetry};
use crate::rdap::parse::{parse_network, ParseError};
use crate::rdap::{Fetch, Outcome};
use crate::store::{Store, Write};

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

/// What the writer receives.
pub enum Msg {
    /// Changes to store.
    Writes(Vec<Write>),
    /// Commit what is left and stop.
    Finish,
}

/// The scheduler shared by the workers.
pub struct Shared {
    /// Scheduler state.
    pub sched: Mutex<Scheduler>,
    /// Signalled when a lane becomes ready or the crawl ends.
    pub wake: Condvar,
    /// Counters.
    pub tele: Arc<Telemetry>,
    /// Workers still running.
    pub live: AtomicUsize,
    /// The thread that watches the crawl (unparked when a worker ends).
    pub main: std::thread::Thread,
}

impl Shared {
    /// Locks the scheduler (a poisoned lock is taken over: the state is
    /// plain data and every update is completed before unlocking).
    pub fn lock(&self) -> MutexGuard<'_, Scheduler> {
        self.sched
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Runs one worker until the scheduler says `Done`.
pub fn worker(shared: &Shared, fetch: &dyn Fetch, tx: &Sender<Msg>) {
    loop {
        let job = {
            let mut g = shared.lock();
            loop {
                let now = Instant::now();
                match g.next(now) {
                    Next::Job(j) => break Some(j),
                    Next::Done => {
                        shared.wake.notify_all();
                        break None;
                    }
                    Next::Wait(t) => {
                        let d = t
                            .saturating_duration_since(now)
                            .min(Duration::from_millis(200));
                        g = shared
                            .wake
                            .wait_timeout(g, d.max(Duration::from_millis(1)))
                            .unwrap_or_else(std::sync::PoisonError::into_inner)
                            .0;
                    }
                }
            }
        };
        let Some(job) = job else { break };
        let tele = &shared.tele;
        inc(&tele.of(job.registry).queries);
        let reply = match fetch.fetch(job.registry, &job.target) {
            Outcome::Answer {
                registry,
                url,
                body,
                redirects,
            } => {
                add(&tele.of(job.registry).redirects, u64::from(redirects));
                match parse_network(&body, job.must_contain) {
                    Ok(n) => Reply::Network {
                        network: Box::new(n),
                        registry,
                        url,
                        raw: body,
                    },
                    Err(ParseError::RateLimited) => Reply::RateLimited {
                        registry,
                        retry_after: None,
                    },
                    Err(e) if is_retryable(&e) => Reply::Transient(format!("{url}: {e}")),
                    Err(e) => Reply::Permanent(format!("{url}: {e}")),
                }
            }
            Outcome::NotFound {
                registry: _,
                redirects,
            } => {
                add(&tele.of(job.registry).redirects, u64::from(redirects));
                Reply::NotFound
            }
            Outcome::RateLimited {
                registry,
                retry_after,
            } => Reply::RateLimited {
                registry,
                retry_after,
            },
            Outcome::Transient { reason, .. } => Reply::Transient(reason),
            Outcome::Permanent { reason, .. } => Reply::Permanent(reason),
        };
        // No wake-up here: a completion readies at most its own lane, and
        // this worker asks for the next job right away.
        let writes = shared.lock().complete(&job, reply, Instant::now());
        if !writes.is_empty() && tx.send(Msg::Writes(writes)).is_err() {
            // The writer is gone (a storage error): stop.
            shared.lock().stop();
        }
    }
    shared.live.fetch_sub(1, Ordering::SeqCst);
    shared.wake.notify_all();
    shared.main.unpark();
}

/// Broken JSON (a truncated body) is worth asking again; an answer that
/// parsed but was refused is not.
fn is_retryable(e: &ParseError) -> bool {
    matches!(e, ParseError::Json(_) | ParseError::Empty)
}

/// Runs the writer until `Finish` (or every sender is gone). On a storage
/// error, raises `failed`, keeps draining the queue until `Finish` (so that
/// neither the workers nor the final `Finish` block on a full queue) and
/// returns the error.
pub fn writer(
    store: &Store,
    rx: &Receiver<Msg>,
    tele: &Telemetry,
    failed: &AtomicBool,
) -> Result<(), crate::store::Error> {
    let mut batch: Vec<Write> = Vec::new();
    let mut last = Instant::now();
    let result = (|| loop {
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
    })();
    if result.is_err() {
        failed.store(true, Ordering::SeqCst);
        while let Ok(m) = rx.recv() {
            if matches!(m, Msg::Finish) {
                break;
            }
        }
    }
    result
}
