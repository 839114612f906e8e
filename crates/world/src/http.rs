//! A minimal HTTP/1.1 server on `std::net`: one accept thread per registry, one
//! thread per connection, keep-alive. Hand-written because fault injection needs
//! the socket: closing without an answer, truncating a body, answering late.
//! Never panics on a bad request (400) and never reads more than 8 KB of head.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use ipcrawl_core::prefix::{parse_range_lenient, Cidr, Range};
use ipcrawl_core::rdap::Registry;

use super::model::{Model, Resolution};
use super::render::{self, Bases};
use super::{Counts, Faults, RateLimit};
use ipcrawl_core::rng::hash_bytes;

const MAX_HEAD: u64 = 8192;
const MAX_BODY_SKIP: u64 = 1 << 20;
const IDLE_TIMEOUT: Duration = Duration::from_secs(120);

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
}

impl RegCounters {
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

/// Everything the server threads share.
pub struct Shared {
    pub model: Model,
    pub bases: Bases,
    pub seed: u64,
    pub rate: [Option<RateLimit>; 5],
    pub latency: Duration,
    pub faults: Faults,
    pub counters: [RegCounters; 5],
    buckets: [Mutex<Bucket>; 5],
    attempts: [Mutex<HashMap<String, u32>>; 5],
    log: Option<Mutex<std::fs::File>>,
    pub stop: AtomicBool,
    conns: Mutex<HashMap<u64, TcpStream>>,
    next_conn: AtomicU64,
    t0: Instant,
}

impl Shared {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        model: Model,
        bases: Bases,
        seed: u64,
        rate: [Option<RateLimit>; 5],
        latency: Duration,
        faults: Faults,
        log: Option<std::fs::File>,
    ) -> Shared {
        let now = Instant::now();
        Shared {
            model,
            bases,
            seed,
            buckets: std::array::from_fn(|i| {
                Mutex::new(Bucket {
                    tokens: rate[i].map_or(0.0, |r| r.per_second.max(1.0)),
                    last: now,
                })
            }),
            rate,
            latency,
            faults,
            counters: Default::default(),
            attempts: Default::default(),
            log: log.map(Mutex::new),
            stop: AtomicBool::new(false),
            conns: Mutex::new(HashMap::new()),
            next_conn: AtomicU64::new(0),
            t0: now,
        }
    }

    /// Closes every open connection (used by shutdown).
    pub fn close_all(&self) {
        let conns = self.conns.lock().unwrap_or_else(PoisonError::into_inner);
        for s in conns.values() {
            let _ = s.shutdown(Shutdown::Both);
        }
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

    fn log(
        &self,
        reg: Registry,
        method: &str,
        target: &str,
        status: &str,
        bytes: usize,
        note: &str,
    ) {
        let Some(l) = &self.log else { return };
        let ms = self.t0.elapsed().as_millis();
        let line = format!(
            "{ms} {} {method} {target} {status} {bytes} {note}\n",
            reg.name()
        );
        let mut f = l.lock().unwrap_or_else(PoisonError::into_inner);
        let _ = f.write_all(line.as_bytes());
    }
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Fault {
    ServerError,
    Drop,
    Slow,
    Truncate,
}

/// One answer before it goes on the wire.
#[derive(Debug, Clone)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// Body bytes.
    pub body: Vec<u8>,
    /// `Location` header (redirects).
    pub location: Option<String>,
    /// `Content-Type`.
    pub content_type: &'static str,
    /// `Retry-After` seconds (429).
    pub retry_after: Option<u64>,
    /// What it is, for the counters.
    pub kind: ReplyKind,
}

/// What kind of answer a [`Reply`] is.
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
    /// Anything else (400, 405, 429, 5xx).
    Other,
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

fn percent_decode(s: &str) -> String {
    if !s.contains('%') {
        return s.to_string();
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hex = std::str::from_utf8(b.get(i + 1..i + 3).unwrap_or(b"")).unwrap_or("");
            if let Ok(v) = u8::from_str_radix(hex, 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The answer of `reg`'s server to `target` (no faults, no rate limit).
pub fn route(model: &Model, bases: &Bases, reg: Registry, target: &str) -> Reply {
    let ct = render::content_type(reg);
    let reply = |status, body, kind| Reply {
        status,
        body,
        location: None,
        content_type: ct,
        retry_after: None,
        kind,
    };
    let q = match parse_target(target) {
        Ok(q) => q,
        Err(msg) => {
            let not_ip = !target.starts_with("/ip/");
            let (code, title) = if not_ip {
                (404, "Not Found")
            } else {
                (400, "Bad Request")
            };
            let kind = if not_ip {
                ReplyKind::NotFound
            } else {
                ReplyKind::Other
            };
            return reply(code, render::error(reg, code, title, &msg), kind);
        }
    };
    let Query::Ip(range) = q;
    let base = &bases[reg.index()];
    let query_url = format!("{base}{}", target.trim_start_matches('/'));
    match model.resolve(reg, range) {
        Resolution::Net(i) => reply(
            200,
            render::network(model, i, bases, &query_url),
            ReplyKind::Network,
        ),
        Resolution::Placeholder(p) => reply(
            200,
            render::placeholder(p, bases, &query_url),
            ReplyKind::Placeholder,
        ),
        Resolution::Redirect(to) => Reply {
            status: 301,
            body: Vec::new(),
            location: Some(format!(
                "{}{}",
                bases[to.index()],
                target.trim_start_matches('/')
            )),
            content_type: ct,
            retry_after: None,
            kind: ReplyKind::Redirect,
        },
        Resolution::NotFound => reply(
            404,
            render::error(
                reg,
                404,
                "Not Found",
                "No network found for the requested address",
            ),
            ReplyKind::NotFound,
        ),
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        301 => "Moved Permanently",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Unknown",
    }
}

fn head_bytes(r: &Reply, keep_alive: bool) -> Vec<u8> {
    let mut h = format!(
        "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nAccess-Control-Allow-Origin: *\r\nConnection: {}\r\n",
        r.status,
        reason(r.status),
        r.content_type,
        r.body.len(),
        if keep_alive { "keep-alive" } else { "close" }
    );
    if let Some(l) = &r.location {
        h.push_str("Location: ");
        h.push_str(l);
        h.push_str("\r\n");
    }
    if let Some(s) = r.retry_after {
        h.push_str("Retry-After: ");
        h.push_str(&s.to_string());
        h.push_str("\r\n");
    }
    h.push_str("\r\n");
    h.into_bytes()
}

struct Request {
    method: String,
    target: String,
    keep_alive: bool,
}

enum ReadError {
    Eof,
    Bad(String),
    Io,
}

/// Reads one line of the request head into `line`, within what is left of
/// the head's byte `budget`; returns the bytes read (0 at end of stream).
fn head_line(
    r: &mut BufReader<TcpStream>,
    budget: &mut u64,
    line: &mut Vec<u8>,
) -> Result<usize, ReadError> {
    line.clear();
    let n = r
        .by_ref()
        .take(*budget)
        .read_until(b'\n', line)
        .map_err(|_| ReadError::Io)?;
    *budget = budget.saturating_sub(n as u64);
    Ok(n)
}

#[allow(clippy::many_single_char_names)]
fn read_request(r: &mut BufReader<TcpStream>) -> Result<Request, ReadError> {
    let mut budget = MAX_HEAD;
    let mut line = Vec::new();
    // Request line (tolerate empty lines before it, RFC 9112 §2.2).
    let first = loop {
        if head_line(r, &mut budget, &mut line)? == 0 {
            return Err(ReadError::Eof);
        }
        if !line.ends_with(b"\n") {
            return Err(ReadError::Bad("request head too long or cut".into()));
        }
        let s = String::from_utf8_lossy(&line).trim().to_string();
        if !s.is_empty() {
            break s;
        }
    };
    let mut parts = first.split_ascii_whitespace();
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(ReadError::Bad(format!("bad request line {first:?}")));
    };
    if !version.starts_with("HTTP/1.") || !target.starts_with('/') {
        return Err(ReadError::Bad(format!("bad request line {first:?}")));
    }
    let http10 = version == "HTTP/1.0";
    let mut keep_alive = !http10;
    let mut content_length: u64 = 0;
    loop {
        let n = head_line(r, &mut budget, &mut line)?;
        if n == 0 || !line.ends_with(b"\n") {
            return Err(ReadError::Bad("request head too long or cut".into()));
        }
        let s = String::from_utf8_lossy(&line);
        let s = s.trim();
        if s.is_empty() {
            break;
        }
        let Some((k, v)) = s.split_once(':') else {
            return Err(ReadError::Bad(format!("bad header line {s:?}")));
        };
        let v = v.trim();
        if k.eq_ignore_ascii_case("connection") {
            let v = v.to_ascii_lowercase();
            if v.contains("close") {
                keep_alive = false;
            } else if v.contains("keep-alive") {
                keep_alive = true;
            }
        } else if k.eq_ignore_ascii_case("content-length") {
            content_length = v
                .parse()
                .map_err(|_| ReadError::Bad(format!("bad Content-Length {v:?}")))?;
        } else if k.eq_ignore_ascii_case("transfer-encoding") {
            return Err(ReadError::Bad("request bodies are not supported".into()));
        }
    }
    if content_length > MAX_BODY_SKIP {
        return Err(ReadError::Bad("request body too large".into()));
    }
    if content_length > 0 {
        std::io::copy(&mut r.by_ref().take(content_length), &mut std::io::sink())
            .map_err(|_| ReadError::Io)?;
    }
    Ok(Request {
        method: method.to_string(),
        target: target.to_string(),
        keep_alive,
    })
}

/// Accepts connections of `reg` until `shared.stop`.
pub fn accept_loop(shared: &Arc<Shared>, reg: Registry, listener: &TcpListener) {
    for stream in listener.incoming() {
        if shared.stop.load(Ordering::SeqCst) {
            break;
        }
        let Ok(stream) = stream else { continue };
        let sh = Arc::clone(shared);
        let spawned = std::thread::Builder::new()
            .name(format!("world-{}-conn", reg.name()))
            .stack_size(256 * 1024)
            .spawn(move || serve_conn(&sh, reg, stream));
        if spawned.is_err() {
            // Out of threads: the stream was moved into the failed closure and dropped (closed).
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

fn serve_conn(shared: &Shared, reg: Registry, stream: TcpStream) {
    let _ = stream.set_nodelay(true);
    let _ = stream.set_read_timeout(Some(IDLE_TIMEOUT));
    let id = shared.next_conn.fetch_add(1, Ordering::Relaxed);
    if let Ok(c) = stream.try_clone() {
        shared
            .conns
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(id, c);
    }
    if let Ok(rd) = stream.try_clone() {
        let mut reader = BufReader::with_capacity(8192, rd);
        let mut w = stream;
        while !shared.stop.load(Ordering::Relaxed) {
            match read_request(&mut reader) {
                Ok(req) => {
                    if !handle(shared, reg, &req, &mut w) {
                        break;
                    }
                }
                Err(ReadError::Bad(msg)) => {
                    bump(&shared.counters[reg.index()].requests);
                    bump(&shared.counters[reg.index()].bad_requests);
                    let r = Reply {
                        status: 400,
                        body: render::error(reg, 400, "Bad Request", &msg),
                        location: None,
                        content_type: render::content_type(reg),
                        retry_after: None,
                        kind: ReplyKind::Other,
                    };
                    let mut out = head_bytes(&r, false);
                    out.extend_from_slice(&r.body);
                    let _ = w.write_all(&out);
                    shared.log(reg, "-", "-", "400", r.body.len(), "bad-request");
                    break;
                }
                Err(ReadError::Eof | ReadError::Io) => break,
            }
        }
        let _ = w.shutdown(Shutdown::Both);
    }
    shared
        .conns
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .remove(&id);
}

/// Answers one request; false when the connection must close.
fn handle(shared: &Shared, reg: Registry, req: &Request, w: &mut TcpStream) -> bool {
    let c = &shared.counters[reg.index()];
    bump(&c.requests);
    let ct = render::content_type(reg);
    let mut keep = req.keep_alive;
    let mut note = "";

    let mut reply = if req.method != "GET" && req.method != "HEAD" {
        bump(&c.bad_requests);
        Reply {
            status: 405,
            body: render::error(reg, 405, "Method Not Allowed", "only GET and HEAD"),
            location: None,
            content_type: ct,
            retry_after: None,
            kind: ReplyKind::Other,
        }
    } else if let Err(wait) = shared.take_token(reg) {
        bump(&c.rate_limited);
        let rl = shared.rate[reg.index()];
        Reply {
            status: 429,
            body: if reg == Registry::Lacnic {
                render::rate_limit_notice()
            } else {
                render::error(reg, 429, "Too Many Requests", "Query rate limit exceeded")
            },
            location: None,
            content_type: ct,
            retry_after: rl.filter(|r| r.retry_after).map(|_| wait),
            kind: ReplyKind::Other,
        }
    } else {
        let fault = shared.fault(reg, &req.target);
        let mut r = route(&shared.model, &shared.bases, reg, &req.target);
        match r.kind {
            ReplyKind::Network => bump(&c.networks),
            ReplyKind::Placeholder => bump(&c.placeholders),
            ReplyKind::Redirect => bump(&c.redirects),
            ReplyKind::NotFound => bump(&c.not_found),
            ReplyKind::Other => bump(&c.bad_requests),
        }
        if !shared.latency.is_zero() {
            std::thread::sleep(shared.latency);
        }
        match fault {
            Some(Fault::ServerError) => {
                bump(&c.fault_5xx);
                note = "fault-5xx";
                let code = [500, 502, 503, 504][(r.body.len() + req.target.len()) % 4];
                r = Reply {
                    status: code,
                    body: render::error(reg, code, reason(code), "Internal error, try again later"),
                    location: None,
                    content_type: ct,
                    retry_after: None,
                    kind: ReplyKind::Other,
                };
            }
            Some(Fault::Drop) => {
                bump(&c.fault_drop);
                shared.log(reg, &req.method, &req.target, "-", 0, "fault-drop");
                let _ = w.shutdown(Shutdown::Both);
                return false;
            }
            Some(Fault::Slow) => {
                bump(&c.fault_slow);
                note = "fault-slow";
                std::thread::sleep(shared.faults.slow_delay);
            }
            Some(Fault::Truncate) if !r.body.is_empty() => {
                bump(&c.fault_truncate);
                let mut out = head_bytes(&r, false);
                out.extend_from_slice(&r.body[..r.body.len() / 2]);
                let _ = w.write_all(&out);
                let _ = w.flush();
                shared.log(
                    reg,
                    &req.method,
                    &req.target,
                    &r.status.to_string(),
                    r.body.len() / 2,
                    "fault-truncate",
                );
                let _ = w.shutdown(Shutdown::Both);
                return false;
            }
            Some(Fault::Truncate) | None => {}
        }
        r
    };
    if shared.stop.load(Ordering::Relaxed) {
        keep = false;
    }
    let mut out = head_bytes(&reply, keep);
    let n = reply.body.len();
    if req.method != "HEAD" {
        out.append(&mut reply.body);
    }
    let ok = w.write_all(&out).is_ok();
    shared.log(
        reg,
        &req.method,
        &req.target,
        &reply.status.to_string(),
        n,
        note,
    );
    ok && keep
}
