//! The scripted mode of the world: the same five servers on `127.0.0.1:0` and
//! the same HTTP core ([`crate::http`]), but every answer comes from a
//! function the caller supplies, `script(registry, request, bases) -> Reply`;
//! every request is logged. For tests that need exact answers (real fixture
//! bodies, hostile bodies, endless streams, redirect tricks) rather than the
//! modelled world.
//!
//! ```no_run
//! use ipcrawl_core::rdap::Registry;
//! use ipcrawl_world::http::Reply;
//! use ipcrawl_world::World;
//! let w = World::scripted(|reg, req, bases| match reg {
//!     Registry::Arin if req.target == "/ip/8.8.8.8" => Reply::json(200, "{}"),
//!     Registry::Arin => Reply::redirect(&format!("{}ip/1.1.1.1", bases[Registry::Apnic.index()])),
//!     _ => ipcrawl_world::scripted::not_found(),
//! })
//! .unwrap();
//! println!("{}", w.base_url(Registry::Arin));
//! assert!(w.requests().is_empty());
//! ```

use std::sync::{Arc, Mutex, PoisonError};

use ipcrawl_core::rdap::Registry;

use crate::http::{Handler, Listeners, Reply, Request, Servers};
use crate::render::Bases;
use crate::Error;

/// A script: the answer of `registry`'s server to `request`, knowing every base URL.
pub type Script = dyn Fn(Registry, &Request, &Bases) -> Reply + Send + Sync;

/// The handler behind [`Scripted`].
pub struct ScriptService {
    script: Box<Script>,
    bases: Bases,
    log: Mutex<Vec<(Registry, String)>>,
}

impl ScriptService {
    fn record(&self, reg: Registry, target: &str) {
        self.log
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push((reg, target.to_string()));
    }
}

impl Handler for ScriptService {
    fn answer(&self, reg: Registry, req: &Request) -> Reply {
        self.record(reg, &req.target);
        (self.script)(reg, req, &self.bases)
    }

    /// Malformed heads are logged with the target `-` and answered 400.
    fn malformed(&self, reg: Registry, why: &str) -> Reply {
        self.record(reg, "-");
        let body =
            serde_json::json!({"errorCode": 400, "title": "Bad Request", "description": [why]});
        Reply::json(400, body.to_string())
    }
}

/// Five scripted servers, one per registry; stopped by [`Scripted::shutdown`] or drop.
pub struct Scripted {
    servers: Servers<ScriptService>,
}

impl Scripted {
    /// Binds the five servers and serves `script` until shutdown.
    pub fn start(
        script: impl Fn(Registry, &Request, &Bases) -> Reply + Send + Sync + 'static,
    ) -> Result<Scripted, Error> {
        let listeners = Listeners::bind()?;
        let service = ScriptService {
            script: Box::new(script),
            bases: listeners.bases(),
            log: Mutex::new(Vec::new()),
        };
        Ok(Scripted {
            servers: listeners.serve(Arc::new(service))?,
        })
    }

    /// The registry's base URL, `http://127.0.0.1:PORT/` (ends with `/`).
    pub fn base_url(&self, r: Registry) -> &str {
        &self.servers.bases()[r.index()]
    }

    /// Every base URL, by [`Registry::index`].
    pub fn bases(&self) -> &Bases {
        self.servers.bases()
    }

    /// Every request so far as (registry, request target), in arrival order.
    pub fn requests(&self) -> Vec<(Registry, String)> {
        self.servers
            .handler()
            .log
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Stops accepting, closes open connections and joins the accept threads.
    pub fn shutdown(self) {
        self.servers.shutdown();
    }
}

/// A plain RDAP 404 (`No network here`), the usual "nothing scripted" answer.
pub fn not_found() -> Reply {
    Reply::json(
        404,
        r#"{"errorCode":404,"title":"Not Found","description":["No network here"]}"#,
    )
}

/// The address and prefix length of an `/ip/a.b.c.d` (length 32) or
/// `/ip/a.b.c.d/len` target; `None` for anything else.
pub fn ip_of(target: &str) -> Option<(u32, u8)> {
    let rest = target.strip_prefix("/ip/")?;
    let (a, len) = match rest.split_once('/') {
        Some((a, l)) => (a, l.parse().ok()?),
        None => (rest, 32),
    };
    let addr: std::net::Ipv4Addr = a.parse().ok()?;
    Some((u32::from(addr), len))
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::net::TcpStream;
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::time::Duration;

    use super::*;
    use crate::http::Stream;

    fn exchange(base: &str, request: &str) -> Vec<u8> {
        let hostport = base.trim_start_matches("http://").trim_end_matches('/');
        let mut s = TcpStream::connect(hostport).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        s.write_all(request.as_bytes()).unwrap();
        let mut buf = Vec::new();
        let _ = s.read_to_end(&mut buf);
        buf
    }

    #[test]
    fn scripts_answer_and_every_request_is_logged() {
        let sent = Arc::new(AtomicU64::new(0));
        let s2 = Arc::clone(&sent);
        let w = Scripted::start(move |reg, req, bases| match req.path() {
            "/a" => Reply::json(200, format!("{{\"reg\":\"{reg}\"}}")),
            "/moved" => Reply::redirect(&format!("{}a", bases[Registry::Ripe.index()])),
            "/drop" => Reply::dropped(),
            "/stream" => Reply::streamed(Stream {
                content_length: None,
                chunk: b"xy".to_vec(),
                total: 5,
                pause: Duration::ZERO,
                sent: Arc::clone(&s2),
            }),
            _ => not_found(),
        })
        .unwrap();
        let arin = w.base_url(Registry::Arin).to_string();
        let got = exchange(
            &arin,
            "GET /a HTTP/1.1\r\n\r\nGET /moved?x=1 HTTP/1.1\r\nConnection: close\r\n\r\n",
        );
        let got = String::from_utf8(got).unwrap();
        assert!(got.starts_with("HTTP/1.1 200 OK\r\n"), "{got}");
        assert!(got.contains("{\"reg\":\"arin\"}HTTP/1.1 301 Moved Permanently\r\n"));
        assert!(got.contains(&format!("Location: {}a\r\n", w.base_url(Registry::Ripe))));
        assert!(exchange(&arin, "GET /drop HTTP/1.1\r\n\r\n").is_empty());
        let got = exchange(&arin, "GET /stream HTTP/1.1\r\n\r\n");
        let got = String::from_utf8(got).unwrap();
        assert!(got.ends_with("\r\n\r\nxyxyx"), "{got}");
        assert!(!got.contains("Content-Length"), "{got}");
        assert_eq!(sent.load(Ordering::SeqCst), 5);
        let got = exchange(w.base_url(Registry::Lacnic), "NONSENSE\r\n\r\n");
        assert!(String::from_utf8_lossy(&got).starts_with("HTTP/1.1 400 "));
        let log = w.requests();
        assert_eq!(
            log,
            [
                (Registry::Arin, "/a".to_string()),
                (Registry::Arin, "/moved?x=1".to_string()),
                (Registry::Arin, "/drop".to_string()),
                (Registry::Arin, "/stream".to_string()),
                (Registry::Lacnic, "-".to_string()),
            ]
        );
        w.shutdown();
    }

    #[test]
    fn ip_of_reads_addresses_and_prefixes() {
        assert_eq!(ip_of("/ip/1.2.3.4"), Some((0x0102_0304, 32)));
        assert_eq!(ip_of("/ip/1.2.3.0/24"), Some((0x0102_0300, 24)));
        assert_eq!(ip_of("/ip/1.2.3"), None);
        assert_eq!(ip_of("/help"), None);
    }
}
