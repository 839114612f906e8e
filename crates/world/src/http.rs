//! The HTTP/1.1 core every server of the world runs on, on `std::net`: one
//! listener per registry on `127.0.0.1:0`, one accept thread per registry, one
//! thread per connection, keep-alive; request heads read within fixed limits
//! (8 KB of head, 1 MB of request body skipped, no chunked requests); replies
//! written whole, paced, cut or not at all; a shutdown that closes every
//! connection. Hand-written because fault injection needs the socket: closing
//! without an answer, truncating a body, answering late, trickling forever.
//! Never panics on a bad request.
//!
//! What is answered is not decided here: a [`Handler`] turns each request into
//! a [`Reply`] (the world's routing in [`crate::service`], a test's script in
//! [`crate::scripted`]).

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use ipcrawl_core::rdap::Registry;

use crate::render::Bases;
use crate::Error;

/// The most bytes of request head (request line and headers) read.
pub const MAX_HEAD: u64 = 8192;
/// The largest request body skipped (larger ones are a 400).
const MAX_BODY_SKIP: u64 = 1 << 20;
/// How long an idle keep-alive connection is kept.
const IDLE_TIMEOUT: Duration = Duration::from_secs(120);
/// Stack of a connection thread (handlers are shallow).
const CONN_STACK: usize = 256 * 1024;

/// One request, as read from the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// `GET`, `HEAD`, ... as sent.
    pub method: String,
    /// The request target as sent (path and query, not decoded).
    pub target: String,
    /// Whether the client keeps the connection (HTTP/1.1 default, `Connection` header).
    pub keep_alive: bool,
}

impl Request {
    /// The target without its query string or fragment.
    pub fn path(&self) -> &str {
        self.target.split(['?', '#']).next().unwrap_or("")
    }

    /// The query string (after `?`, before `#`), empty when there is none.
    pub fn query(&self) -> &str {
        self.target
            .split_once('?')
            .map_or("", |(_, q)| q.split('#').next().unwrap_or(""))
    }
}

/// A body written chunk by chunk: `chunk` repeated until `total` bytes were
/// sent (or the client went away), sleeping `pause` between chunks. The bytes
/// actually written are counted in `sent`. The connection closes after it.
#[derive(Clone, Debug)]
pub struct Stream {
    /// `Content-Length` to announce (`None`: no length, the body ends at close).
    pub content_length: Option<u64>,
    /// What is written, again and again (an empty chunk writes nothing).
    pub chunk: Vec<u8>,
    /// How many bytes to write in all (`u64::MAX`: until the client leaves).
    pub total: u64,
    /// Sleep after each chunk (zero: write as fast as the socket takes it).
    pub pause: Duration,
    /// Bytes written so far.
    pub sent: Arc<AtomicU64>,
}

/// A reply's body.
#[derive(Clone, Debug)]
pub enum Body {
    /// Fixed bytes, sent with their `Content-Length`.
    Bytes(Vec<u8>),
    /// A paced or huge body (see [`Stream`]).
    Stream(Stream),
}

impl Body {
    /// The length of a fixed body (0 for a stream).
    pub fn len(&self) -> usize {
        match self {
            Body::Bytes(b) => b.len(),
            Body::Stream(_) => 0,
        }
    }

    /// Whether a fixed body is empty (a stream never is).
    pub fn is_empty(&self) -> bool {
        matches!(self, Body::Bytes(b) if b.is_empty())
    }
}

/// How a reply ends on the wire.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Ending {
    /// Complete: head and whole body.
    Whole,
    /// Close the connection without writing anything.
    Drop,
    /// Head (with the full `Content-Length`) and only the first N bytes of a
    /// fixed body, then close.
    Truncate(usize),
}

/// One answer before it goes on the wire.
#[derive(Clone, Debug)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// Headers in order (`Content-Type`, `Location`, `Retry-After`, anything);
    /// `Content-Length` and `Connection` are added by the core.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Body,
    /// Wait this long before answering (latency, slow answers).
    pub delay: Duration,
    /// Whole, dropped or truncated.
    pub ending: Ending,
    /// A word for the request log (a fault's name), empty for none.
    pub note: &'static str,
}

impl Reply {
    /// `status` with no header and an empty body.
    pub fn new(status: u16) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: Body::Bytes(Vec::new()),
            delay: Duration::ZERO,
            ending: Ending::Whole,
            note: "",
        }
    }

    /// `status` with a body of `content_type`.
    pub fn with_body(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Reply {
        Reply {
            body: Body::Bytes(body.into()),
            ..Reply::new(status)
        }
        .header("Content-Type", content_type)
    }

    /// `status` with an `application/rdap+json` body.
    pub fn json(status: u16, body: impl Into<Vec<u8>>) -> Reply {
        Reply::with_body(status, "application/rdap+json", body)
    }

    /// A 301 to `location`, empty body.
    pub fn redirect(location: &str) -> Reply {
        Reply::new(301).header("Location", location)
    }

    /// No answer: the connection is closed.
    pub fn dropped() -> Reply {
        Reply {
            ending: Ending::Drop,
            ..Reply::new(0)
        }
    }

    /// A 200 whose body is `stream` (`application/rdap+json`).
    pub fn streamed(stream: Stream) -> Reply {
        Reply {
            body: Body::Stream(stream),
            ..Reply::json(200, Vec::new())
        }
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: &str) -> Reply {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    /// The first value of header `name` (case-insensitive).
    pub fn header_value(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The fixed body's bytes (empty for a stream).
    pub fn body_bytes(&self) -> &[u8] {
        match &self.body {
            Body::Bytes(b) => b,
            Body::Stream(_) => &[],
        }
    }
}

/// What went on the wire for one reply, told to [`Handler::sent`].
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Sent {
    /// The status sent; `None` when the connection was dropped unanswered.
    pub status: Option<u16>,
    /// Body bytes: a fixed body's length (also for `HEAD`), the part of a
    /// truncated one, a stream's bytes written, 0 for a drop.
    pub bytes: u64,
    /// The reply's [`Reply::note`].
    pub note: &'static str,
}

/// Decides the answers of the five servers.
pub trait Handler: Send + Sync + 'static {
    /// The answer to one request read on `reg`'s server.
    fn answer(&self, reg: Registry, req: &Request) -> Reply;

    /// The answer to a request head that could not be read (`why`: too long,
    /// cut, not HTTP/1.x, a bad header); the connection closes after it.
    fn malformed(&self, reg: Registry, why: &str) -> Reply;

    /// Told after each reply went out (`req` is `None` for a malformed head).
    fn sent(&self, reg: Registry, req: Option<&Request>, sent: &Sent) {
        let _ = (reg, req, sent);
    }
}

/// The standard reason phrase of `status`.
pub fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Unknown",
    }
}

/// Decodes `%XX` escapes (invalid ones are kept as they are).
pub fn percent_decode(s: &str) -> String {
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

fn head_bytes(r: &Reply, length: Option<u64>, keep_alive: bool) -> Vec<u8> {
    let mut h = format!("HTTP/1.1 {} {}\r\n", r.status, reason(r.status));
    for (k, v) in &r.headers {
        let _ = write!(h, "{k}: {v}\r\n");
    }
    if let Some(n) = length {
        let _ = write!(h, "Content-Length: {n}\r\n");
    }
    let _ = write!(
        h,
        "Connection: {}\r\n\r\n",
        if keep_alive { "keep-alive" } else { "close" }
    );
    h.into_bytes()
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
    let mut keep_alive = version != "HTTP/1.0";
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

/// Writes `st` until its total, a write error or shutdown; returns the bytes written.
fn write_stream(w: &mut TcpStream, st: &Stream) -> u64 {
    let mut written = 0;
    let mut left = st.total;
    while left > 0 {
        let n = st
            .chunk
            .len()
            .min(usize::try_from(left).unwrap_or(usize::MAX));
        if n == 0 || w.write_all(&st.chunk[..n]).is_err() {
            break;
        }
        st.sent.fetch_add(n as u64, Ordering::SeqCst);
        written += n as u64;
        left -= n as u64;
        if !st.pause.is_zero() {
            let _ = w.flush();
            std::thread::sleep(st.pause);
        }
    }
    written
}

/// Puts `reply` on the wire; returns what was sent and whether the
/// connection stays open.
fn write_reply(
    w: &mut TcpStream,
    reply: Reply,
    head_only: bool,
    keep_alive: bool,
    stop: &AtomicBool,
) -> (Sent, bool) {
    if !reply.delay.is_zero() {
        std::thread::sleep(reply.delay);
    }
    let keep_alive = keep_alive && !stop.load(Ordering::Relaxed);
    let note = reply.note;
    let sent = |status, bytes| Sent {
        status,
        bytes,
        note,
    };
    match (reply.ending, &reply.body) {
        (Ending::Drop, _) => {
            let _ = w.shutdown(Shutdown::Both);
            (sent(None, 0), false)
        }
        (Ending::Truncate(at), Body::Bytes(b)) => {
            let at = at.min(b.len());
            let mut out = head_bytes(&reply, Some(b.len() as u64), false);
            out.extend_from_slice(&b[..at]);
            let _ = w.write_all(&out);
            let _ = w.flush();
            let _ = w.shutdown(Shutdown::Both);
            (sent(Some(reply.status), at as u64), false)
        }
        (Ending::Whole | Ending::Truncate(_), Body::Stream(st)) => {
            let mut n = 0;
            if w.write_all(&head_bytes(&reply, st.content_length, false))
                .is_ok()
                && !head_only
            {
                n = write_stream(w, st);
            }
            let _ = w.flush();
            (sent(Some(reply.status), n), false)
        }
        (Ending::Whole, Body::Bytes(b)) => {
            let mut out = head_bytes(&reply, Some(b.len() as u64), keep_alive);
            if !head_only {
                out.extend_from_slice(b);
            }
            let ok = w.write_all(&out).is_ok();
            (sent(Some(reply.status), b.len() as u64), ok && keep_alive)
        }
    }
}

/// What the connection threads share with the running servers.
struct Conns {
    stop: AtomicBool,
    open: Mutex<HashMap<u64, TcpStream>>,
    next: AtomicU64,
    /// Connection threads started and not yet ended (a stop waits for
    /// them, so that every answer sent is also logged and counted).
    live: AtomicU64,
}

/// Ends one connection thread's count in [`Conns::live`], however it ends.
struct Live<'a>(&'a AtomicU64);

impl Drop for Live<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Conns {
    fn add(&self, s: &TcpStream) -> u64 {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        if let Ok(c) = s.try_clone() {
            self.open
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(id, c);
        }
        id
    }

    fn remove(&self, id: u64) {
        self.open
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&id);
    }

    fn close_all(&self) {
        let open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        for s in open.values() {
            let _ = s.shutdown(Shutdown::Both);
        }
    }
}

/// Five bound listeners, one per registry on `127.0.0.1:0`, not yet serving
/// (so that a handler can be built knowing every base URL).
pub struct Listeners {
    list: Vec<(Registry, TcpListener, SocketAddr)>,
}

impl Listeners {
    /// Binds the five listeners.
    pub fn bind() -> Result<Listeners, Error> {
        let mut list = Vec::new();
        for r in Registry::ALL {
            let l = TcpListener::bind("127.0.0.1:0").map_err(|source| Error::Io {
                what: format!("bind 127.0.0.1:0 for {r}"),
                source,
            })?;
            let addr = l.local_addr().map_err(|source| Error::Io {
                what: "read the listener address".into(),
                source,
            })?;
            list.push((r, l, addr));
        }
        Ok(Listeners { list })
    }

    /// Each registry's base URL, `http://127.0.0.1:PORT/`, by [`Registry::index`].
    pub fn bases(&self) -> Bases {
        std::array::from_fn(|i| format!("http://{}/", self.list[i].2))
    }

    /// Serves every listener with `handler` on background threads until
    /// [`Servers::shutdown`] (or drop).
    pub fn serve<H: Handler>(self, handler: Arc<H>) -> Result<Servers<H>, Error> {
        let mut servers = Servers {
            bases: self.bases(),
            handler,
            conns: Arc::new(Conns {
                stop: AtomicBool::new(false),
                open: Mutex::new(HashMap::new()),
                next: AtomicU64::new(0),
                live: AtomicU64::new(0),
            }),
            threads: Vec::new(),
            addrs: Vec::new(),
        };
        for (r, l, addr) in self.list {
            let h = Arc::clone(&servers.handler);
            let c = Arc::clone(&servers.conns);
            let t = std::thread::Builder::new()
                .name(format!("world-{}", r.name()))
                .spawn(move || accept_loop(&h, &c, r, &l))
                .map_err(|source| Error::Io {
                    what: "spawn a server thread".into(),
                    source,
                })?;
            servers.threads.push(t);
            servers.addrs.push(addr);
        }
        Ok(servers)
    }
}

/// Five running servers sharing one handler.
pub struct Servers<H: Handler> {
    bases: Bases,
    handler: Arc<H>,
    conns: Arc<Conns>,
    threads: Vec<JoinHandle<()>>,
    addrs: Vec<SocketAddr>,
}

impl<H: Handler> Servers<H> {
    /// The handler answering.
    pub fn handler(&self) -> &H {
        &self.handler
    }

    /// Each registry's base URL, by [`Registry::index`].
    pub fn bases(&self) -> &Bases {
        &self.bases
    }

    /// Stops accepting, closes open connections and joins the accept threads.
    pub fn shutdown(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        if self.conns.stop.swap(true, Ordering::SeqCst) {
            return;
        }
        for a in &self.addrs {
            // Wake the blocking accept().
            let _ = TcpStream::connect_timeout(a, Duration::from_secs(1));
        }
        self.conns.close_all();
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
        // Connection threads end once their sockets are shut (a connection
        // accepted after `close_all` sees `stop` and ends too); bounded, in
        // case one is stuck in a slow fault's sleep.
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while self.conns.live.load(Ordering::SeqCst) > 0 && std::time::Instant::now() < deadline {
            self.conns.close_all();
            std::thread::sleep(Duration::from_millis(2));
        }
    }
}

impl<H: Handler> Drop for Servers<H> {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Accepts connections of `reg` until stopped.
fn accept_loop<H: Handler>(handler: &Arc<H>, conns: &Arc<Conns>, reg: Registry, l: &TcpListener) {
    for stream in l.incoming() {
        if conns.stop.load(Ordering::SeqCst) {
            break;
        }
        let Ok(stream) = stream else { continue };
        let h = Arc::clone(handler);
        let c = Arc::clone(conns);
        conns.live.fetch_add(1, Ordering::SeqCst);
        let spawned = std::thread::Builder::new()
            .name(format!("world-{}-conn", reg.name()))
            .stack_size(CONN_STACK)
            .spawn(move || {
                let _live = Live(&c.live);
                serve_conn(&*h, &c, reg, stream);
            });
        if spawned.is_err() {
            conns.live.fetch_sub(1, Ordering::SeqCst);
            // Out of threads: the stream was moved into the failed closure and dropped (closed).
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

fn serve_conn<H: Handler>(handler: &H, conns: &Conns, reg: Registry, stream: TcpStream) {
    let _ = stream.set_nodelay(true);
    let _ = stream.set_read_timeout(Some(IDLE_TIMEOUT));
    let id = conns.add(&stream);
    if let Ok(rd) = stream.try_clone() {
        let mut reader = BufReader::with_capacity(8192, rd);
        let mut w = stream;
        while !conns.stop.load(Ordering::Relaxed) {
            match read_request(&mut reader) {
                Ok(req) => {
                    let reply = handler.answer(reg, &req);
                    let head_only = req.method == "HEAD";
                    let (sent, keep) =
                        write_reply(&mut w, reply, head_only, req.keep_alive, &conns.stop);
                    handler.sent(reg, Some(&req), &sent);
                    if !keep {
                        break;
                    }
                }
                Err(ReadError::Bad(msg)) => {
                    let reply = handler.malformed(reg, &msg);
                    let (sent, _) = write_reply(&mut w, reply, false, false, &conns.stop);
                    handler.sent(reg, None, &sent);
                    break;
                }
                Err(ReadError::Eof | ReadError::Io) => break,
            }
        }
        let _ = w.shutdown(Shutdown::Both);
    }
    conns.remove(id);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_path_and_query() {
        let r = Request {
            method: "GET".into(),
            target: "/ips/rirSearch1/rdap-top/1.0.0.0/8?status=active#x".into(),
            keep_alive: true,
        };
        assert_eq!(r.path(), "/ips/rirSearch1/rdap-top/1.0.0.0/8");
        assert_eq!(r.query(), "status=active");
        let r = Request {
            target: "/ip/1.2.3.4".into(),
            ..r
        };
        assert_eq!(r.query(), "");
    }

    #[test]
    fn heads_carry_length_connection_and_headers_in_order() {
        let r = Reply::json(404, "{}").header("Retry-After", "3");
        let h = String::from_utf8(head_bytes(&r, Some(2), true)).unwrap();
        assert_eq!(
            h,
            "HTTP/1.1 404 Not Found\r\nContent-Type: application/rdap+json\r\n\
             Retry-After: 3\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\n"
        );
        let h = String::from_utf8(head_bytes(&Reply::new(299), None, false)).unwrap();
        assert_eq!(h, "HTTP/1.1 299 Unknown\r\nConnection: close\r\n\r\n");
        assert_eq!(r.header_value("retry-after"), Some("3"));
        assert_eq!(Reply::redirect("/x").header_value("Location"), Some("/x"));
    }
}
