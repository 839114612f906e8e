//! The world's answers on top of the HTTP core ([`crate::http`]): routing a
//! request to the model ([`route`]: network, placeholder, 301 to the holder,
//! 404), then what a busy registry adds: per-registry rate limits (429, with or
//! without `Retry-After`, LACNIC's "Rate Limit Notice" body), seeded faults
//! (5xx, dropped connection, slow answer, truncated body), latency, request
//! counters and the request log.

use std::collections::HashMap;
use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use ipcrawl_core::prefix::{parse_range_lenient, Cidr, Range};
use ipcrawl_core::rdap::Registry;
use ipcrawl_core::rng::hash_bytes;

use crate::http::{percent_decode, reason, Ending, Handler, Reply, Request, Sent};
use crate::model::{Model, Resolution};
use crate::render::{self, Bases};
use crate::search::{answer, SearchConfig};
use crate::{Counts, Faults, RateLimit};

/// Per-registry counters.
#[derive(Default, Debug)]
pub struct RegCounters {
    requests: AtomicU64,
    networks: AtomicU64,
    placeholders: AtomicU64,
    redirects: AtomicU64,
    not_found: AtomicU64,
    rate_limited: AtomicU64,
    bad_requests: AtomicU64,
    fault_5xx: AtomicU64,
    fault_drop: AtomicU64,
    fault_slow: AtomicU64,
    fault_truncate: AtomicU64,
    searches: AtomicU64,
    search_results: AtomicU64,
    search_cut: AtomicU64,
    help: AtomicU64,
    stats: AtomicU64,
}

impl RegCounters {
    /// The counters now.
    pub fn snapshot(&self) -> Counts {
        let g = |a: &AtomicU64| a.load(Ordering::Relaxed);
        Counts {
            requests: g(&self.requests),
            networks: g(&self.networks),
            placeholders: g(&self.placeholders),
            redirects: g(&self.redirects),
            not_found: g(&self.not_found),
            rate_limited: g(&self.rate_limited),
            bad_requests: g(&self.bad_requests),
            fault_5xx: g(&self.fault_5xx),
            fault_drop: g(&self.fault_drop),
            fault_slow: g(&self.fault_slow),
            fault_truncate: g(&self.fault_truncate),
            searches: g(&self.searches),
            search_results: g(&self.search_results),
            search_cut: g(&self.search_cut),
            help: g(&self.help),
            stats: g(&self.stats),
        }
    }
}

fn bump(a: &AtomicU64) {
    a.fetch_add(1, Ordering::Relaxed);
}

struct Bucket {
    tokens: f64,
    last: Instant,
}

/// How the world's servers behave besides the model: everything
/// [`WorldService`] needs.
pub struct Behaviour {
    /// Seed of the faults.
    pub seed: u64,
    /// Per-registry rate limits, by [`Registry::index`].
    pub rate: [Option<RateLimit>; 5],
    /// Added to every routed answer.
    pub latency: Duration,
    /// Fault injection.
    pub faults: Faults,
    /// Request log (one line per request).
    pub log: Option<std::fs::File>,
    /// Which registries serve RIR search, and their limits.
    pub search: SearchConfig,
}

/// The world's [`Handler`]: model, rate limits, faults, counters, log.
pub struct WorldService {
    /// The networks served.
    pub model: Model,
    /// Each registry's base URL.
    pub bases: Bases,
    seed: u64,
    rate: [Option<RateLimit>; 5],
    latency: Duration,
    faults: Faults,
    counters: [RegCounters; 5],
    buckets: [Mutex<Bucket>; 5],
    attempts: [Mutex<HashMap<String, u32>>; 5],
    log: Option<Mutex<std::fs::File>>,
    search: SearchConfig,
    t0: Instant,
    /// Each registry's delegated statistics, rendered on first request.
    stats: [OnceLock<Vec<u8>>; 5],
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Fault {
    ServerError,
    Drop,
    Slow,
    Truncate,
}

/// What kind of answer a routed [`Reply`] is, for the counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyKind {
    /// A real network.
    Network,
    /// A registry placeholder.
    Placeholder,
    /// A 301 to another registry.
    Redirect,
    /// 404.
    NotFound,
    /// Anything else (400, 405, 429, 5xx, 501).
    Other,
    /// A 200 search answer (counted in `searches`, `search_results`).
    Search,
    /// A `help` answer.
    Help,
}

impl WorldService {
    /// The service for `model` behind `bases`.
    pub fn new(model: Model, bases: Bases, b: Behaviour) -> WorldService {
        let now = Instant::now();
        WorldService {
            model,
            bases,
            seed: b.seed,
            buckets: std::array::from_fn(|i| {
                Mutex::new(Bucket {
                    tokens: b.rate[i].map_or(0.0, |r| r.per_second.max(1.0)),
                    last: now,
                })
            }),
            rate: b.rate,
            latency: b.latency,
            faults: b.faults,
            counters: Default::default(),
            attempts: Default::default(),
            log: b.log.map(Mutex::new),
            search: b.search,
            t0: now,
            stats: Default::default(),
        }
    }

    /// The registry's delegated-statistics file ([`crate::stats::render`]),
    /// rendered once.
    pub fn stats_file(&self, r: Registry) -> &[u8] {
        self.stats[r.index()].get_or_init(|| crate::stats::render(&self.model, r))
    }

    /// The statistics reply when `target` is the registry's statistics path
    /// (query string ignored): served like a registry's FTP/HTTPS site, with
    /// no rate limit, fault or latency of the RDAP service.
    fn stats_reply(&self, reg: Registry, target: &str) -> Option<Reply> {
        let path = target.split(['?', '#']).next().unwrap_or_default();
        if path.strip_prefix('/') != Some(crate::stats::url_path(reg).as_str()) {
            return None;
        }
        bump(&self.counters[reg.index()].stats);
        let r = Reply::with_body(200, "text/plain; charset=utf-8", self.stats_file(reg));
        Some(Reply { note: "stats", ..r })
    }

    /// The counters of one registry's server.
    pub fn counters(&self, r: Registry) -> Counts {
        self.counters[r.index()].snapshot()
    }

    /// Takes a token; `Err(seconds to wait)` when the bucket is empty.
    fn take_token(&self, reg: Registry) -> Result<(), u64> {
        let Some(rl) = self.rate[reg.index()] else {
            return Ok(());
        };
        let rate = rl.per_second.max(1e-6);
        let burst = rate.max(1.0);
        let mut b = self.buckets[reg.index()]
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let now = Instant::now();
        b.tokens = (b.tokens + now.duration_since(b.last).as_secs_f64() * rate).min(burst);
        b.last = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - b.tokens) / rate).ceil().max(1.0) as u64)
        }
    }

    /// The fault for this request: seeded by (seed, registry, target, attempt
    /// number of that target), so a rerun draws the same faults whatever the
    /// interleaving of connections, and a retry draws anew.
    fn fault(&self, reg: Registry, target: &str) -> Option<Fault> {
        let f = &self.faults;
        let total = f.server_error + f.drop + f.slow + f.truncate;
        if total <= 0.0 {
            return None;
        }
        let attempt = {
            let mut m = self.attempts[reg.index()]
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            let n = m.entry(target.to_string()).or_insert(0);
            *n += 1;
            *n
        };
        let key = format!("{}|{target}|{attempt}", reg.name());
        let u = (hash_bytes(self.seed, key.as_bytes()) >> 11) as f64 / (1u64 << 53) as f64;
        let mut acc = f.server_error;
        if u < acc {
            return Some(Fault::ServerError);
        }
        acc += f.drop;
        if u < acc {
            return Some(Fault::Drop);
        }
        acc += f.slow;
        if u < acc {
            return Some(Fault::Slow);
        }
        acc += f.truncate;
        if u < acc {
            return Some(Fault::Truncate);
        }
        None
    }

    fn log(&self, reg: Registry, method: &str, target: &str, status: &str, bytes: u64, note: &str) {
        let Some(l) = &self.log else { return };
        let ms = self.t0.elapsed().as_millis();
        let line = format!(
            "{ms} {} {method} {target} {status} {bytes} {note}\n",
            reg.name()
        );
        let mut f = l.lock().unwrap_or_else(PoisonError::into_inner);
        let _ = f.write_all(line.as_bytes());
    }

    /// A 429 in the registry's style.
    fn rate_limited(&self, reg: Registry, wait: u64) -> Reply {
        let body = if reg == Registry::Lacnic {
            render::rate_limit_notice()
        } else {
            render::error(reg, 429, "Too Many Requests", "Query rate limit exceeded")
        };
        let r = reply(reg, 429, body);
        match self.rate[reg.index()] {
            Some(rl) if rl.retry_after => r.header("Retry-After", &wait.to_string()),
            _ => r,
        }
    }

    /// The routed answer with this request's fault applied.
    fn routed(&self, reg: Registry, req: &Request) -> Reply {
        let c = &self.counters[reg.index()];
        let fault = self.fault(reg, &req.target);
        let routed = route(&self.model, &self.bases, &self.search, reg, &req.target);
        match routed.kind {
            ReplyKind::Network => bump(&c.networks),
            ReplyKind::Placeholder => bump(&c.placeholders),
            ReplyKind::Redirect => bump(&c.redirects),
            ReplyKind::NotFound => bump(&c.not_found),
            ReplyKind::Other => bump(&c.bad_requests),
            ReplyKind::Help => bump(&c.help),
            ReplyKind::Search => {}
        }
        if let Some(t) = routed.search {
            bump(&c.searches);
            c.search_results.fetch_add(t.results, Ordering::Relaxed);
            if t.cut {
                bump(&c.search_cut);
            }
        }
        let mut r = routed.reply;
        r.delay = self.latency;
        match fault {
            Some(Fault::ServerError) => {
                bump(&c.fault_5xx);
                let code = [500, 502, 503, 504][(r.body.len() + req.target.len()) % 4];
                let body =
                    render::error(reg, code, reason(code), "Internal error, try again later");
                r = Reply {
                    delay: self.latency,
                    note: "fault-5xx",
                    ..reply(reg, code, body)
                };
            }
            Some(Fault::Drop) => {
                bump(&c.fault_drop);
                r.ending = Ending::Drop;
                r.note = "fault-drop";
            }
            Some(Fault::Slow) => {
                bump(&c.fault_slow);
                r.delay += self.faults.slow_delay;
                r.note = "fault-slow";
            }
            Some(Fault::Truncate) if !r.body.is_empty() => {
                bump(&c.fault_truncate);
                r.ending = Ending::Truncate(r.body.len() / 2);
                r.note = "fault-truncate";
            }
            Some(Fault::Truncate) | None => {}
        }
        r
    }
}

impl Handler for WorldService {
    fn answer(&self, reg: Registry, req: &Request) -> Reply {
        let c = &self.counters[reg.index()];
        bump(&c.requests);
        if req.method != "GET" && req.method != "HEAD" {
            bump(&c.bad_requests);
            let body = render::error(reg, 405, "Method Not Allowed", "only GET and HEAD");
            return reply(reg, 405, body);
        }
        if let Some(r) = self.stats_reply(reg, &req.target) {
            return r;
        }
        if let Err(wait) = self.take_token(reg) {
            bump(&c.rate_limited);
            return self.rate_limited(reg, wait);
        }
        self.routed(reg, req)
    }

    fn malformed(&self, reg: Registry, why: &str) -> Reply {
        let c = &self.counters[reg.index()];
        bump(&c.requests);
        bump(&c.bad_requests);
        Reply {
            note: "bad-request",
            ..reply(reg, 400, render::error(reg, 400, "Bad Request", why))
        }
    }

    fn sent(&self, reg: Registry, req: Option<&Request>, sent: &Sent) {
        let status = sent
            .status
            .map_or_else(|| "-".to_string(), |s| s.to_string());
        let (method, target) = req.map_or(("-", "-"), |r| (r.method.as_str(), r.target.as_str()));
        self.log(reg, method, target, &status, sent.bytes, sent.note);
    }
}

/// A reply of `reg`'s server: its `Content-Type`, CORS open, `body`.
fn reply(reg: Registry, status: u16, body: Vec<u8>) -> Reply {
    Reply::with_body(status, render::content_type(reg), body)
        .header("Access-Control-Allow-Origin", "*")
}

/// What a request asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Query {
    /// `ip/{addr}`, `ip/{prefix}/{len}` or `ip/{start} - {end}`: a range.
    Ip(Range),
}

/// Reads `/ip/...` targets (query string ignored, `%2F`/`%20` decoded).
pub fn parse_target(target: &str) -> Result<Query, String> {
    let path = target.split(['?', '#']).next().unwrap_or("");
    let path = percent_decode(path);
    let rest = path
        .strip_prefix("/ip/")
        .ok_or_else(|| format!("unknown path {path:?}, expected /ip/ADDRESS or /ip/PREFIX/LEN"))?;
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    let bad = || format!("{rest:?} is not an IPv4 address, prefix or range");
    if let Some((a, l)) = rest.split_once('/') {
        let addr: std::net::Ipv4Addr = a.parse().map_err(|_| bad())?;
        let len: u8 = l.parse().map_err(|_| bad())?;
        let c = Cidr::new(u32::from(addr), len).ok_or_else(bad)?;
        return Ok(Query::Ip(c.range()));
    }
    if rest.contains('-') {
        return parse_range_lenient(rest).map(Query::Ip).ok_or_else(bad);
    }
    let addr: std::net::Ipv4Addr = rest.parse().map_err(|_| bad())?;
    let a = u32::from(addr);
    Ok(Query::Ip(Range { start: a, end: a }))
}

/// A routed answer and what the counters make of it.
#[derive(Debug, Clone)]
pub struct Routed {
    /// The reply (no fault, no delay yet).
    pub reply: Reply,
    /// What it is.
    pub kind: ReplyKind,
    /// For a request on a search path: results and whether the set was cut.
    pub search: Option<SearchTally>,
}

/// What a search answer adds to the counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SearchTally {
    /// Network objects answered.
    pub results: u64,
    /// Refused or truncated for its size.
    pub cut: bool,
}

fn kind_of(status: u16) -> ReplyKind {
    match status {
        200 => ReplyKind::Search,
        301 => ReplyKind::Redirect,
        404 => ReplyKind::NotFound,
        _ => ReplyKind::Other,
    }
}

/// The answer of `reg`'s server to `target` (no faults, no rate limit):
/// `help`, an RIR search (where `search` serves it), or a lookup.
pub fn route(
    model: &Model,
    bases: &Bases,
    search: &SearchConfig,
    reg: Registry,
    target: &str,
) -> Routed {
    let plain = |(reply, kind)| Routed {
        reply,
        kind,
        search: None,
    };
    if target.split(['?', '#']).next() == Some("/help") {
        let body = answer::help(reg, search, bases, target);
        return plain((reply(reg, 200, body), ReplyKind::Help));
    }
    if answer::is_search(target) {
        let a = if search.enabled[reg.index()] {
            Some(answer::search(model, bases, search, reg, target))
        } else {
            answer::not_served(reg)
        };
        if let Some(a) = a {
            let mut r = reply(reg, a.status, a.body);
            if let Some(l) = &a.location {
                r = r.header("Location", l);
            }
            return Routed {
                reply: r,
                kind: kind_of(a.status),
                search: Some(SearchTally {
                    results: a.results,
                    cut: a.cut,
                }),
            };
        }
        let mut r = plain(lookup(model, bases, reg, target));
        r.search = Some(SearchTally {
            results: 0,
            cut: false,
        });
        return r;
    }
    plain(lookup(model, bases, reg, target))
}

/// The answer to a lookup (`/ip/...`; anything else is an unknown path, 404).
fn lookup(model: &Model, bases: &Bases, reg: Registry, target: &str) -> (Reply, ReplyKind) {
    let q = match parse_target(target) {
        Ok(q) => q,
        Err(msg) => {
            return if target.starts_with("/ip/") {
                let body = render::error(reg, 400, "Bad Request", &msg);
                (reply(reg, 400, body), ReplyKind::Other)
            } else {
                let body = render::error(reg, 404, "Not Found", &msg);
                (reply(reg, 404, body), ReplyKind::NotFound)
            };
        }
    };
    let Query::Ip(range) = q;
    let base = &bases[reg.index()];
    let query_url = format!("{base}{}", target.trim_start_matches('/'));
    match model.resolve(reg, range) {
        Resolution::Net(i) => (
            reply(reg, 200, render::network(model, i, bases, &query_url)),
            ReplyKind::Network,
        ),
        Resolution::Placeholder(p) => (
            reply(reg, 200, render::placeholder(p, bases, &query_url)),
            ReplyKind::Placeholder,
        ),
        Resolution::Redirect(to) => {
            let loc = format!("{}{}", bases[to.index()], target.trim_start_matches('/'));
            (
                reply(reg, 301, Vec::new()).header("Location", &loc),
                ReplyKind::Redirect,
            )
        }
        Resolution::NotFound => {
            let body = render::error(
                reg,
                404,
                "Not Found",
                "No network found for the requested address",
            );
            (reply(reg, 404, body), ReplyKind::NotFound)
        }
    }
}
