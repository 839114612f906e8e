//! A scripted RDAP server per registry on 127.0.0.1:0 (HTTP/1.1 with
//! keep-alive, std only). Each test supplies a function from
//! (registry, path) to a reply; every request is logged.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

/// One scripted answer.
#[derive(Clone, Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Close the connection without answering.
    pub drop: bool,
    /// Send this endless or huge body instead of `body`.
    pub stream: Option<Stream>,
}

/// A body written chunk by chunk: `chunk` repeated until `total` bytes were
/// sent (or the client went away), sleeping `pause` between chunks. The
/// bytes actually written are counted in `sent`.
#[derive(Clone, Debug)]
pub struct Stream {
    /// `Content-Length` to announce (`None`: no length, the body ends at close).
    pub content_length: Option<u64>,
    pub chunk: Vec<u8>,
    pub total: u64,
    pub pause: Duration,
    pub sent: Arc<AtomicU64>,
}

impl Reply {
    pub fn json(status: u16, body: impl Into<Vec<u8>>) -> Reply {
        Reply {
            status,
            headers: vec![("Content-Type".into(), "application/rdap+json".into())],
            body: body.into(),
            drop: false,
            stream: None,
        }
    }

    pub fn not_found() -> Reply {
        Reply::json(
            404,
            r#"{"errorCode":404,"title":"Not Found","description":["No network here"]}"#,
        )
    }

    pub fn redirect(location: &str) -> Reply {
        Reply {
            status: 301,
            headers: vec![("Location".into(), location.into())],
            body: Vec::new(),
            drop: false,
            stream: None,
        }
    }

    #[allow(dead_code)]
    pub fn dropped() -> Reply {
        Reply {
            status: 0,
            headers: vec![],
            body: vec![],
            drop: true,
            stream: None,
        }
    }

    /// A 200 whose body is `stream` (headers as for JSON).
    #[allow(dead_code)]
    pub fn streamed(stream: Stream) -> Reply {
        Reply {
            stream: Some(stream),
            ..Reply::json(200, Vec::new())
        }
    }
}

/// Base URL of every registry's server, by name.
pub type Bases = BTreeMap<String, String>;

type Handler = dyn Fn(&str, &str, &Bases) -> Reply + Send + Sync;

/// Five servers, one per registry.
pub struct Registries {
    pub bases: Bases,
    log: Arc<Mutex<Vec<(String, String)>>>,
}

pub const NAMES: [&str; 5] = ["arin", "ripe", "apnic", "lacnic", "afrinic"];

impl Registries {
    /// Starts the five servers; `handler(registry, path, bases)` answers.
    pub fn start(
        handler: impl Fn(&str, &str, &Bases) -> Reply + Send + Sync + 'static,
    ) -> Registries {
        let handler: Arc<Handler> = Arc::new(handler);
        let log = Arc::new(Mutex::new(Vec::new()));
        let bases_cell: Arc<OnceLock<Bases>> = Arc::new(OnceLock::new());
        let mut bases = Bases::new();
        for name in NAMES {
            let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
            let addr: SocketAddr = listener.local_addr().expect("local addr");
            bases.insert(name.to_string(), format!("http://{addr}/"));
            let handler = Arc::clone(&handler);
            let log = Arc::clone(&log);
            let cell = Arc::clone(&bases_cell);
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    let Ok(stream) = stream else { continue };
                    let handler = Arc::clone(&handler);
                    let log = Arc::clone(&log);
                    let cell = Arc::clone(&cell);
                    std::thread::spawn(move || serve(stream, name, &*handler, &log, &cell));
                }
            });
        }
        let _ = bases_cell.set(bases.clone());
        Registries { bases, log }
    }

    /// `--registry NAME=URL` arguments for all five.
    pub fn args(&self) -> Vec<String> {
        self.bases
            .iter()
            .flat_map(|(n, u)| ["--registry".to_string(), format!("{n}={u}")])
            .collect()
    }

    /// `crawl` arguments against these servers: all five `--registry`
    /// overrides, no rate limit, no progress display, then `extra`.
    pub fn crawl_args(&self, extra: &[&str]) -> Vec<String> {
        let mut v: Vec<String> = ["crawl", "--progress", "none"].map(String::from).to_vec();
        for r in NAMES {
            v.extend(["--rate".to_string(), format!("{r}=unlimited")]);
        }
        v.extend(extra.iter().map(ToString::to_string));
        v.extend(self.args());
        v
    }

    /// Every request so far as (registry, path).
    pub fn requests(&self) -> Vec<(String, String)> {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }
}

fn serve(
    stream: TcpStream,
    name: &str,
    handler: &Handler,
    log: &Mutex<Vec<(String, String)>>,
    bases: &OnceLock<Bases>,
) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
    let Ok(mut out) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    loop {
        let mut line = String::new();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let path = line.split_whitespace().nth(1).unwrap_or("/").to_string();
        let mut close = false;
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h).unwrap_or(0) == 0 {
                return;
            }
            let l = h.trim().to_ascii_lowercase();
            if l.is_empty() {
                break;
            }
            if l == "connection: close" {
                close = true;
            }
            if let Some(n) = l.strip_prefix("content-length:") {
                let n: usize = n.trim().parse().unwrap_or(0);
                let mut skip = vec![0u8; n];
                let _ = reader.read_exact(&mut skip);
            }
        }
        if let Ok(mut l) = log.lock() {
            l.push((name.to_string(), path.clone()));
        }
        let Some(b) = bases.get() else { return };
        let reply = handler(name, &path, b);
        if reply.drop {
            return;
        }
        let length = match &reply.stream {
            None => Some(reply.body.len() as u64),
            Some(st) => st.content_length,
        };
        let mut head = format!("HTTP/1.1 {} X\r\n", reply.status);
        match length {
            Some(n) => {
                let _ = write!(head, "Content-Length: {n}\r\n");
            }
            None => head.push_str("Connection: close\r\n"),
        }
        for (k, v) in &reply.headers {
            let _ = write!(head, "{k}: {v}\r\n");
        }
        head.push_str("\r\n");
        if out.write_all(head.as_bytes()).is_err() {
            return;
        }
        if let Some(st) = &reply.stream {
            write_stream(&mut out, st);
            return;
        }
        if out.write_all(&reply.body).is_err() {
            return;
        }
        if close {
            return;
        }
    }
}

fn write_stream(out: &mut TcpStream, st: &Stream) {
    let mut left = st.total;
    while left > 0 {
        let n = st
            .chunk
            .len()
            .min(usize::try_from(left).unwrap_or(usize::MAX));
        if n == 0 || out.write_all(&st.chunk[..n]).is_err() {
            return;
        }
        st.sent.fetch_add(n as u64, Ordering::SeqCst);
        left -= n as u64;
        if !st.pause.is_zero() {
            let _ = out.flush();
            std::thread::sleep(st.pause);
        }
    }
}

/// The address in an `/ip/a.b.c.d` or `/ip/a.b.c.d/len` path, with the prefix length.
pub fn ip_of(path: &str) -> Option<(u32, u8)> {
    let rest = path.strip_prefix("/ip/")?;
    let (a, len) = match rest.split_once('/') {
        Some((a, l)) => (a, l.parse().ok()?),
        None => (rest, 32),
    };
    let addr: std::net::Ipv4Addr = a.parse().ok()?;
    Some((u32::from(addr), len))
}

/// Dotted quad → u32.
pub fn a(s: &str) -> u32 {
    u32::from(s.parse::<std::net::Ipv4Addr>().expect("dotted quad"))
}
