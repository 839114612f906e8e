//! The HTTP client: the only ureq user.
//!
//! One [`Agent`] (a shared connection pool) configured explicitly: connect
//! and whole-request timeouts, a User-Agent naming ipcrawl, its version and
//! the operator's contact address, HTTP statuses returned as values (so 429
//! and `Retry-After` are visible), no automatic redirects (they are followed
//! here, at most [`ClientConfig::max_redirects`] hops, loops detected, and
//! only onto registry hosts), and a cap on the body size. Bodies of every
//! answer are read to the end so the connection returns to the pool.
//!
//! It reports facts (an [`Exchange`]: status, `Retry-After` as seconds, read
//! from delay-seconds or an HTTP-date by [`retry_after_secs`], body, or how
//! the exchange broke) and decides nothing about them: what a status or body
//! means for the crawl is [`super::classify`]'s job.
//!
//! TLS certificates and host names are always verified (ureq's default,
//! rustls with the webpki roots; nothing here can turn it off, and a unit test
//! checks the built agent). Plain http is possible only towards a base URL
//! given with `--registry` (see [`super::bootstrap`] for the redirect rules).
//! The body cap applies to the decoded bytes, so a gzip bomb stops at the cap
//! too; an oversized body is not read further.

use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use ureq::http::Uri;
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{DefaultConnector, NextTimeout};
use ureq::Agent;

use super::bootstrap::Bootstrap;
use super::{Broken, Exchange, Fetch, Registry, Target, Transport};

/// How the client behaves; every field has a documented default.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// TCP (and TLS) connect timeout. Defaults to 10 s.
    pub connect_timeout: Duration,
    /// Whole-request timeout, body included. Defaults to 30 s.
    pub request_timeout: Duration,
    /// Contact e-mail added to the User-Agent. Defaults to none.
    pub contact: Option<String>,
    /// Largest body accepted, in bytes. Defaults to 4 MiB (answers are KBs).
    pub body_limit: u64,
    /// Redirect hops followed. Defaults to 5.
    pub max_redirects: u32,
}

impl Default for ClientConfig {
    fn default() -> ClientConfig {
        ClientConfig {
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            contact: None,
            body_limit: 4 << 20,
            max_redirects: 5,
        }
    }
}

impl ClientConfig {
    /// The User-Agent header value.
    pub fn user_agent(&self) -> String {
        let base = format!(
            "ipcrawl/{} (+https://github.com/ipcrawl/ipcrawl)",
            env!("CARGO_PKG_VERSION")
        );
        match &self.contact {
            Some(c) => format!("{base} contact:{c}"),
            None => base,
        }
    }
}

/// How many lookup timeouts a result-set search may take.
const SET_TIMEOUT_FACTOR: u32 = 4;

/// An RDAP client over real HTTP.
pub struct Client {
    agent: Agent,
    routes: Bootstrap,
    cfg: ClientConfig,
}

impl Client {
    /// Builds the agent.
    pub fn new(routes: Bootstrap, cfg: ClientConfig) -> Client {
        let config = Agent::config_builder()
            .timeout_connect(Some(cfg.connect_timeout))
            .timeout_global(Some(cfg.request_timeout))
            .http_status_as_error(false)
            .max_redirects(0)
            .user_agent(cfg.user_agent())
            .accept("application/rdap+json, application/json;q=0.9")
            .max_idle_connections(80)
            .max_idle_connections_per_host(72)
            .build();
        let agent = Agent::with_parts(
            config,
            DefaultConnector::default(),
            CachingResolver::default(),
        );
        Client { agent, routes, cfg }
    }

    fn url_for(&self, registry: Registry, target: &Target) -> Result<(Registry, String), String> {
        let base = self.routes.base(registry);
        match target {
            Target::Addr(a) => Ok((
                registry,
                format!("{base}ip/{}", std::net::Ipv4Addr::from(*a)),
            )),
            Target::Prefix(c) => Ok((registry, format!("{base}ip/{c}"))),
            Target::Search(rel, key) => Ok((
                registry,
                format!("{base}{}", super::search::path(*rel, *key)),
            )),
            Target::Help => Ok((registry, format!("{base}help"))),
            Target::Url(u) => self
                .routes
                .resolve(u)
                .ok_or_else(|| format!("link to a host that is not a registry: {u}")),
        }
    }

    /// One GET, with redirects followed by hand. Reports what happened;
    /// [`super::classify`] decides what it means.
    fn get(&self, registry: Registry, target: &Target) -> Exchange {
        let broken = |registry, cause, reason, redirects| Exchange::Broken {
            registry,
            cause,
            reason,
            redirects,
        };
        let (mut reg, mut url) = match self.url_for(registry, target) {
            Ok(x) => x,
            Err(reason) => return broken(registry, Broken::Route, reason, 0),
        };
        let mut seen: HashSet<String> = HashSet::new();
        let mut redirects = 0u32;
        loop {
            seen.insert(url.clone());
            let request = self.agent.get(&url);
            let request = if target.is_set_search() {
                // A full result set is tens of MB: more time than a lookup.
                request
                    .config()
                    .timeout_global(Some(self.cfg.request_timeout * SET_TIMEOUT_FACTOR))
                    .build()
            } else {
                request
            };
            let mut resp = match request.call() {
                Ok(r) => r,
                Err(e) => return broken(reg, cause_of(&e), reason_of(&url, &e), redirects),
            };
            let status = resp.status().as_u16();
            let header = |name: &str| {
                resp.headers()
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string)
            };
            let location = header("location");
            let retry_after = header("retry-after").and_then(|v| {
                retry_after_secs(
                    &v,
                    header("date").as_deref(),
                    crate::time::Now::read().unix_secs,
                )
            });
            let ok_limit = if target.is_set_search() {
                super::search::MAX_SET_BODY as u64
            } else {
                self.cfg.body_limit
            };
            let limit = if status == 200 { ok_limit } else { 64 << 10 };
            let body = match read_body(resp.body_mut().as_reader(), limit) {
                Ok(b) => b,
                Err(BodyError::TooLarge) if status == 200 => {
                    let reason = format!("body over {ok_limit} bytes from {url}");
                    return broken(reg, Broken::TooLarge, reason, redirects);
                }
                Err(BodyError::TooLarge) => Vec::new(),
                Err(BodyError::Io(e)) => {
                    let reason = format!("reading body of {url}: {e}");
                    return broken(reg, Broken::Transport(io_cause(&e)), reason, redirects);
                }
            };
            if !matches!(status, 301 | 302 | 303 | 307 | 308) {
                return Exchange::Response {
                    registry: reg,
                    url,
                    status,
                    retry_after,
                    body,
                    redirects,
                };
            }
            match self.follow(&url, status, location, &seen, redirects) {
                Ok((next_reg, next_url)) => {
                    redirects += 1;
                    reg = next_reg;
                    url = next_url;
                }
                Err(reason) => return broken(reg, Broken::Route, reason, redirects),
            }
        }
    }

    /// Where a redirect from `url` leads, or why it must not be followed
    /// (`done` hops so far).
    fn follow(
        &self,
        url: &str,
        status: u16,
        location: Option<String>,
        seen: &HashSet<String>,
        done: u32,
    ) -> Result<(Registry, String), String> {
        let Some(loc) = location else {
            return Err(format!("HTTP {status} without Location from {url}"));
        };
        let loc = absolutize(url, &loc);
        let Some((next_reg, next_url)) = self.routes.resolve(&loc) else {
            return Err(format!("redirect to a host that is not a registry: {loc}"));
        };
        if seen.contains(&next_url) {
            return Err(format!("redirect loop at {next_url}"));
        }
        if done + 1 > self.cfg.max_redirects {
            return Err(format!(
                "more than {} redirects (last {next_url})",
                self.cfg.max_redirects
            ));
        }
        Ok((next_reg, next_url))
    }
}

impl Fetch for Client {
    fn fetch(&self, registry: Registry, target: &Target) -> Exchange {
        self.get(registry, target)
    }
}

/// How [`FileClient`] fetches a whole file (the delegated statistics).
#[derive(Clone, Debug)]
pub struct FileConfig {
    /// TCP (and TLS) connect timeout. Defaults to 10 s.
    pub connect_timeout: Duration,
    /// Whole-request timeout, body included. Defaults to 300 s (the real
    /// files are 10-40 MB).
    pub request_timeout: Duration,
    /// Largest body accepted (decoded), in bytes. Defaults to 64 MiB.
    pub body_limit: u64,
    /// Contact e-mail added to the User-Agent. Defaults to none.
    pub contact: Option<String>,
}

impl Default for FileConfig {
    fn default() -> FileConfig {
        FileConfig {
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(300),
            body_limit: 64 << 20,
            contact: None,
        }
    }
}

/// Plain GETs of whole files (the registries' delegated statistics): the
/// same TLS verification and User-Agent as [`Client`], a connect and a
/// whole-request timeout, a cap on the decoded body, at most 5 redirects
/// (followed by ureq, never from https down to http). Only a 200 is a file.
pub struct FileClient {
    agent: Agent,
    limit: u64,
}

impl FileClient {
    /// Builds the agent.
    pub fn new(cfg: &FileConfig) -> FileClient {
        let ua = ClientConfig {
            contact: cfg.contact.clone(),
            ..ClientConfig::default()
        }
        .user_agent();
        let config = Agent::config_builder()
            .timeout_connect(Some(cfg.connect_timeout))
            .timeout_global(Some(cfg.request_timeout))
            .http_status_as_error(false)
            .max_redirects(5)
            .user_agent(ua)
            .accept("text/plain, */*;q=0.5")
            .build();
        let agent = Agent::with_parts(
            config,
            DefaultConnector::default(),
            CachingResolver::default(),
        );
        FileClient {
            agent,
            limit: cfg.body_limit,
        }
    }

    /// The body of a 200 answer to `GET url`, or a one-line reason naming
    /// the URL: the transport failure, the status, or the body cap.
    pub fn get(&self, url: &str) -> Result<Vec<u8>, String> {
        // From https, a redirect may not lead to plain http.
        let https = url.starts_with("https://");
        let mut resp = self
            .agent
            .get(url)
            .config()
            .https_only(https)
            .build()
            .call()
            .map_err(|e| reason_of(url, &e))?;
        let status = resp.status();
        if status.as_u16() != 200 {
            return Err(format!(
                "{url}: HTTP {} {}",
                status.as_u16(),
                status.canonical_reason().unwrap_or_default()
            ));
        }
        match read_body(resp.body_mut().as_reader(), self.limit) {
            Ok(b) => Ok(b),
            Err(BodyError::TooLarge) => Err(format!("{url}: body over {} bytes", self.limit)),
            Err(BodyError::Io(e)) => Err(format!("{url}: reading the body: {e}")),
        }
    }
}

/// ureq resolves the host on every request, and with a timeout set it does
/// so on a new thread: one thread per query. This resolver keeps answers for
/// [`DNS_TTL`] (the registries' hosts change rarely).
#[derive(Debug, Default)]
struct CachingResolver {
    inner: DefaultResolver,
    cache: Mutex<HashMap<String, (Instant, ResolvedSocketAddrs)>>,
}

/// How long a resolved address is reused.
const DNS_TTL: Duration = Duration::from_secs(300);

impl Resolver for CachingResolver {
    fn resolve(
        &self,
        uri: &Uri,
        config: &ureq::config::Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let key = format!("{:?}|{:?}", uri.scheme(), uri.authority());
        if let Ok(cache) = self.cache.lock() {
            if let Some((at, addrs)) = cache.get(&key) {
                if at.elapsed() < DNS_TTL {
                    return Ok(addrs.clone());
                }
            }
        }
        let host = uri.host().unwrap_or_default();
        if is_invalid_name(host) {
            return Err(dns_failure(
                host,
                "names under .invalid never resolve (RFC 6761)",
            ));
        }
        let addrs = self
            .inner
            .resolve(uri, config, timeout)
            .map_err(|e| match e {
                // Resolving timed out: ureq says so itself (`Timeout::Resolve`).
                ureq::Error::Timeout(_) => e,
                e => dns_failure(host, &e.to_string()),
            })?;
        if let Ok(mut cache) = self.cache.lock() {
            cache.insert(key, (Instant::now(), addrs.clone()));
        }
        Ok(addrs)
    }
}

enum BodyError {
    TooLarge,
    Io(std::io::Error),
}

/// Reads at most `limit` bytes; more is an error (and the rest is not read).
fn read_body(reader: impl Read, limit: u64) -> Result<Vec<u8>, BodyError> {
    let mut buf = Vec::new();
    reader
        .take(limit + 1)
        .read_to_end(&mut buf)
        .map_err(BodyError::Io)?;
    if buf.len() as u64 > limit {
        return Err(BodyError::TooLarge);
    }
    Ok(buf)
}

/// Makes a relative `Location` absolute against the URL that sent it.
fn absolutize(base: &str, loc: &str) -> String {
    if loc.starts_with("http://") || loc.starts_with("https://") {
        return loc.to_string();
    }
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let host_end = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |i| scheme_end + i);
    if loc.starts_with('/') {
        format!("{}{loc}", &base[..host_end])
    } else {
        let dir_end = base
            .rfind('/')
            .filter(|&i| i >= host_end)
            .map_or(base.len(), |i| i + 1);
        format!("{}{loc}", &base[..dir_end])
    }
}

/// `Retry-After` (RFC 9110 §10.2.3) as seconds from now: delay-seconds
/// (digits only; more than `u64` holds saturates, to be capped by the
/// politeness rules), or an HTTP-date counted from the response's own
/// `Date` when it has a readable one (the server's clock against the
/// server's clock), else from `now_unix`; a date in the past is 0. Anything
/// else (negative, fractional, garbage) is `None`: treated as absent.
pub fn retry_after_secs(value: &str, date: Option<&str>, now_unix: u64) -> Option<u64> {
    let v = value.trim();
    if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) {
        return Some(v.parse().unwrap_or(u64::MAX));
    }
    let at = http_date(v)?;
    let base = date
        .and_then(http_date)
        .unwrap_or_else(|| i64::try_from(now_unix).unwrap_or(i64::MAX));
    Some(u64::try_from(at.saturating_sub(base)).unwrap_or(0))
}

/// An HTTP-date (RFC 9110 §5.6.7) as Unix seconds, in the three forms a
/// recipient must read: IMF-fixdate `Sun, 06 Nov 1994 08:49:37 GMT`,
/// RFC 850 `Sunday, 06-Nov-94 08:49:37 GMT` (a two-digit year from 1970 to
/// 2069), and asctime `Sun Nov  6 08:49:37 1994`. `None` for anything else.
fn http_date(s: &str) -> Option<i64> {
    let t: Vec<&str> = s.split_whitespace().collect();
    let (day, mon, year, time) = match t.as_slice() {
        [wd, d, m, y, time, "GMT"] if wd.ends_with(',') => (*d, *m, *y, *time),
        [wd, dmy, time, "GMT"] if wd.ends_with(',') => {
            let mut p = dmy.split('-');
            let (d, m, y) = (p.next()?, p.next()?, p.next()?);
            if p.next().is_some() || y.len() != 2 {
                return None;
            }
            let yy: i64 = y.parse().ok()?;
            let year = if yy < 70 { 2000 + yy } else { 1900 + yy };
            return civil_secs(d, m, year, time);
        }
        [_, m, d, time, y] => (*d, *m, *y, *time),
        _ => return None,
    };
    if year.len() != 4 {
        return None;
    }
    civil_secs(day, mon, year.parse().ok()?, time)
}

/// Unix seconds of day `d` of month name `m` (`Jan`…`Dec`) of `year` at `hh:mm:ss` UTC.
fn civil_secs(d: &str, m: &str, year: i64, time: &str) -> Option<i64> {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month = i64::try_from(MONTHS.iter().position(|x| *x == m)?).ok()? + 1;
    let num = |x: &str, max: i64| {
        let ok = (1..=2).contains(&x.len()) && x.bytes().all(|b| b.is_ascii_digit());
        ok.then(|| x.parse::<i64>().ok())
            .flatten()
            .filter(|&n| n <= max)
    };
    let day = num(d, 31).filter(|&n| n >= 1)?;
    let mut hms = time.split(':');
    let (h, mi, sec) = (hms.next()?, hms.next()?, hms.next()?);
    if hms.next().is_some() || !(1970..=9999).contains(&year) {
        return None;
    }
    let (h, mi, sec) = (num(h, 23)?, num(mi, 59)?, num(sec, 60)?);
    // Howard Hinnant's days_from_civil.
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + h * 3600 + mi * 60 + sec)
}

/// A host name that did not resolve: carried through ureq as
/// `Error::Other` so that [`cause_of`] can tell it from other failures
/// (getaddrinfo's errors reach ureq as plain, uncategorized I/O errors).
#[derive(Debug)]
struct DnsFailure {
    host: String,
    why: String,
}

impl std::fmt::Display for DnsFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DNS lookup of {} failed: {}", self.host, self.why)
    }
}

impl std::error::Error for DnsFailure {}

fn dns_failure(host: &str, why: &str) -> ureq::Error {
    ureq::Error::Other(Box::new(DnsFailure {
        host: host.to_string(),
        why: why.to_string(),
    }))
}

/// Whether `host` is under the special-use `.invalid` domain, which
/// resolvers "should always" refuse at once (RFC 6761 §6.4): no query leaves
/// the machine for it.
fn is_invalid_name(host: &str) -> bool {
    let h = host.trim_end_matches('.').to_ascii_lowercase();
    h == "invalid" || h.ends_with(".invalid")
}

/// The one-line reason for a failed call to `url`.
fn reason_of(url: &str, e: &ureq::Error) -> String {
    match e {
        // ureq prints these as `other: …`; the inner error says it all.
        ureq::Error::Other(inner) => format!("{url}: {inner}"),
        e => format!("{url}: {e}"),
    }
}

/// What kind of breakage a ureq error is: the request could not be made as
/// configured (bad URI, https required), or no answer came back, and why
/// (see [`Transport`]).
fn cause_of(e: &ureq::Error) -> Broken {
    use ureq::Error as E;
    use ureq::Timeout as T;
    let t = match e {
        E::BadUri(_) | E::RequireHttpsOnly(_) | E::TlsRequired | E::Pem(_) | E::InvalidProxyUrl => {
            return Broken::Setup
        }
        E::Tls(_) | E::Rustls(_) => Transport::Tls,
        E::HostNotFound | E::Timeout(T::Resolve) => Transport::Dns,
        E::Other(inner) if inner.is::<DnsFailure>() => Transport::Dns,
        E::Timeout(T::Connect) => Transport::ConnectTimeout,
        E::Timeout(_) | E::BodyStalled => Transport::Timeout,
        E::Io(io) | E::Decompress(_, io) => io_cause(io),
        _ => Transport::Other,
    };
    Broken::Transport(t)
}

/// The cause of an I/O error on a connection (a body reader's error may
/// carry a ureq error inside).
fn io_cause(e: &std::io::Error) -> Transport {
    use std::io::ErrorKind as K;
    if let Some(inner) = e.get_ref().and_then(|i| i.downcast_ref::<ureq::Error>()) {
        return cause_of(inner).transport().unwrap_or(Transport::Other);
    }
    // rustls reports a failed handshake or a corrupt record from inside the
    // stream, as `InvalidData` carrying its error.
    if matches!(e.get_ref(), Some(i) if i.is::<rustls::Error>()) {
        return Transport::Tls;
    }
    match e.kind() {
        K::ConnectionRefused => Transport::Refused,
        K::HostUnreachable | K::NetworkUnreachable | K::NetworkDown | K::AddrNotAvailable => {
            Transport::Unreachable
        }
        K::ConnectionReset
        | K::ConnectionAborted
        | K::BrokenPipe
        | K::UnexpectedEof
        | K::NotConnected => Transport::Reset,
        K::TimedOut | K::WouldBlock => Transport::Timeout,
        _ => Transport::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_locations() {
        assert_eq!(
            absolutize("http://127.0.0.1:9/ip/1.2.3.4", "/ip/5.6.7.8"),
            "http://127.0.0.1:9/ip/5.6.7.8"
        );
        assert_eq!(
            absolutize("http://h/rdap/ip/1.2.3.4", "5.6.7.8"),
            "http://h/rdap/ip/5.6.7.8"
        );
        assert_eq!(absolutize("http://h/x", "https://o/ip/1"), "https://o/ip/1");
    }

    #[test]
    fn tls_verification_is_always_on() {
        let c = Client::new(Bootstrap::bundled(), ClientConfig::default());
        let cfg = c.agent.config();
        assert!(!cfg.tls_config().disable_verification());
        // http stays possible only because `--registry` may name an http mirror;
        // the bootstrap and redirect rules keep public registries on https.
        assert!(!cfg.https_only());
        assert_eq!(cfg.max_redirects(), 0, "redirects are followed by hand");
        assert_eq!(cfg.timeouts().global, Some(Duration::from_secs(30)));
    }

    #[test]
    fn body_cap_stops_reading() {
        // An endless body: only limit + 1 bytes are read.
        let endless = std::io::repeat(b'x');
        assert!(matches!(read_body(endless, 1024), Err(BodyError::TooLarge)));
        assert_eq!(read_body(&b"abc"[..], 3).ok(), Some(b"abc".to_vec()));
    }

    #[test]
    fn retry_after_as_seconds_or_an_http_date() {
        // 1994-11-06T08:49:37Z, the RFC's example.
        const T: u64 = 784_111_777;
        let ra = |v: &str| retry_after_secs(v, None, T);
        assert_eq!(ra("120"), Some(120));
        assert_eq!(ra(" 0 "), Some(0));
        assert_eq!(ra("99999999999999999999999"), Some(u64::MAX), "saturates");
        // The three HTTP-date forms, 10 s after T.
        for v in [
            "Sun, 06 Nov 1994 08:49:47 GMT",
            "Sunday, 06-Nov-94 08:49:47 GMT",
            "Sun Nov  6 08:49:47 1994",
        ] {
            assert_eq!(ra(v), Some(10), "{v}");
        }
        // Counted from the server's own Date when it sends one.
        let later = "Sun, 06 Nov 1994 09:49:37 GMT";
        assert_eq!(
            retry_after_secs(later, Some("Sun, 06 Nov 1994 09:00:00 GMT"), 0),
            Some(2977)
        );
        assert_eq!(
            retry_after_secs(later, Some("garbage"), T),
            Some(3600),
            "an unreadable Date: the local clock"
        );
        // A date in the past is "now"; leap days and far dates read right.
        assert_eq!(ra("Sat, 05 Nov 1994 08:49:37 GMT"), Some(0));
        assert_eq!(
            retry_after_secs("Tue, 29 Feb 2000 00:00:00 GMT", None, 0),
            Some(951_782_400)
        );
        assert_eq!(
            retry_after_secs("Fri, 31 Dec 9999 23:59:59 GMT", None, 0),
            Some(253_402_300_799)
        );
        // Garbage is absent, never a guess.
        for bad in [
            "",
            "-1",
            "1.5",
            "+5",
            "soon",
            "1e3",
            "0x10",
            "Sun, 06 Nov 1994 08:49:37 UTC",
            "Sun, 06 Foo 1994 08:49:37 GMT",
            "Sun, 32 Nov 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 24:00:00 GMT",
            "Sun, 06 Nov 94 08:49:37 GMT",
            "Sun, 06 Nov 1969 08:49:37 GMT",
            "Sunday, 06-Nov-1994 08:49:37 GMT",
            "Sun Nov  6 08:49 1994",
            "06 Nov 1994 08:49:37 GMT",
        ] {
            assert_eq!(ra(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn user_agent_names_tool_and_contact() {
        let cfg = ClientConfig {
            contact: Some("noc@example.org".into()),
            ..ClientConfig::default()
        };
        let ua = cfg.user_agent();
        assert!(ua.starts_with("ipcrawl/"), "{ua}");
        assert!(ua.contains("noc@example.org"), "{ua}");
    }

    /// A client whose ARIN base is `base`, with short timeouts.
    fn client_at(base: &str) -> Client {
        let mut routes = Bootstrap::bundled();
        routes.set_base(Registry::Arin, base).unwrap();
        let cfg = ClientConfig {
            connect_timeout: Duration::from_secs(2),
            request_timeout: Duration::from_millis(300),
            ..ClientConfig::default()
        };
        Client::new(routes, cfg)
    }

    fn cause_at(base: &str) -> (Option<Transport>, String) {
        let x = client_at(base).fetch(Registry::Arin, &Target::Addr(0x0800_0808));
        let reason = match &x {
            Exchange::Broken { reason, .. } => reason.clone(),
            Exchange::Response { status, .. } => format!("HTTP {status}"),
        };
        (x.transport_failure(), reason)
    }

    /// A port on 127.0.0.1 with nothing listening (bound, then closed).
    fn closed_port() -> u16 {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    }

    /// A server on 127.0.0.1 that treats each connection with `serve`.
    fn server(serve: fn(std::net::TcpStream)) -> u16 {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        std::thread::spawn(move || {
            for c in l.incoming().flatten() {
                std::thread::spawn(move || serve(c));
            }
        });
        port
    }

    #[test]
    fn nothing_listening_is_a_refused_connection() {
        let (cause, reason) = cause_at(&format!("http://127.0.0.1:{}/", closed_port()));
        assert_eq!(cause, Some(Transport::Refused), "{reason}");
        assert!(reason.starts_with("http://127.0.0.1:"), "{reason}");
    }

    #[test]
    fn an_invalid_name_is_a_dns_failure_without_any_query() {
        let (cause, reason) = cause_at("http://nonexistent.invalid/");
        assert_eq!(cause, Some(Transport::Dns), "{reason}");
        assert!(
            reason.contains("DNS lookup of nonexistent.invalid failed"),
            "{reason}"
        );
        assert!(is_invalid_name("A.B.INVALID."));
        assert!(!is_invalid_name("invalid.example.org"));
    }

    #[test]
    fn a_server_that_never_answers_is_a_timeout() {
        let port = server(|c| {
            // Hold the connection, read nothing, answer nothing.
            std::thread::sleep(Duration::from_secs(5));
            drop(c);
        });
        let (cause, reason) = cause_at(&format!("http://127.0.0.1:{port}/"));
        assert_eq!(cause, Some(Transport::Timeout), "{reason}");
    }

    #[test]
    fn a_connection_closed_before_the_answer_is_a_reset() {
        let port = server(|c| {
            let mut buf = [0u8; 1024];
            let _ = std::io::Read::read(&mut &c, &mut buf);
            let _ = c.shutdown(std::net::Shutdown::Both);
        });
        let (cause, reason) = cause_at(&format!("http://127.0.0.1:{port}/"));
        assert_eq!(cause, Some(Transport::Reset), "{reason}");
    }

    #[test]
    fn plain_http_behind_an_https_url_is_a_tls_error() {
        let port = server(|mut c| {
            let mut buf = [0u8; 1024];
            let _ = std::io::Read::read(&mut c, &mut buf);
            let _ = std::io::Write::write_all(&mut c, b"HTTP/1.1 400 Bad Request\r\n\r\n");
        });
        let (cause, reason) = cause_at(&format!("https://127.0.0.1:{port}/"));
        assert_eq!(cause, Some(Transport::Tls), "{reason}");
    }

    /// A server that answers every request with `reply` (status line,
    /// headers and body as given).
    fn answering(reply: &'static [u8]) -> u16 {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        std::thread::spawn(move || {
            for mut c in l.incoming().flatten() {
                let mut buf = [0u8; 4096];
                let _ = std::io::Read::read(&mut c, &mut buf);
                let _ = std::io::Write::write_all(&mut c, reply);
            }
        });
        port
    }

    #[test]
    fn a_file_is_a_200_body_within_the_cap() {
        let files = |limit| {
            FileClient::new(&FileConfig {
                request_timeout: Duration::from_secs(5),
                body_limit: limit,
                ..FileConfig::default()
            })
        };
        let ok =
            answering(b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\nConnection: close\r\n\r\n2|arin");
        let url = format!("http://127.0.0.1:{ok}/pub/stats/arin/x");
        assert_eq!(files(64).get(&url).unwrap(), b"2|arin");
        let e = files(3).get(&url).unwrap_err();
        assert_eq!(e, format!("{url}: body over 3 bytes"));
        let missing =
            answering(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        let url = format!("http://127.0.0.1:{missing}/x");
        assert_eq!(
            files(64).get(&url).unwrap_err(),
            format!("{url}: HTTP 404 Not Found")
        );
        let url = format!("http://127.0.0.1:{}/x", closed_port());
        let e = files(64).get(&url).unwrap_err();
        assert!(e.starts_with(&url) && e.contains("refused"), "{e}");
        let e = files(64).get("http://stats.invalid/x").unwrap_err();
        assert!(e.contains("DNS lookup of stats.invalid failed"), "{e}");
    }

    #[test]
    fn ureq_errors_map_to_causes() {
        use std::io::{Error as IoError, ErrorKind as K};
        use ureq::Error as E;
        use ureq::Timeout as T;
        let t = |e: E| cause_of(&e).transport();
        assert_eq!(t(E::HostNotFound), Some(Transport::Dns));
        assert_eq!(t(E::Timeout(T::Resolve)), Some(Transport::Dns));
        assert_eq!(t(dns_failure("h", "x")), Some(Transport::Dns));
        assert_eq!(t(E::Timeout(T::Connect)), Some(Transport::ConnectTimeout));
        assert_eq!(t(E::Timeout(T::Global)), Some(Transport::Timeout));
        assert_eq!(t(E::Timeout(T::RecvResponse)), Some(Transport::Timeout));
        assert_eq!(t(E::Tls("bad")), Some(Transport::Tls));
        assert_eq!(t(E::ConnectionFailed), Some(Transport::Other));
        for (kind, want) in [
            (K::ConnectionRefused, Transport::Refused),
            (K::NetworkUnreachable, Transport::Unreachable),
            (K::HostUnreachable, Transport::Unreachable),
            (K::ConnectionReset, Transport::Reset),
            (K::UnexpectedEof, Transport::Reset),
            (K::TimedOut, Transport::Timeout),
            (K::PermissionDenied, Transport::Other),
        ] {
            assert_eq!(t(E::Io(IoError::from(kind))), Some(want), "{kind:?}");
        }
        // A body reader's I/O error wrapping a ureq timeout.
        let wrapped = IoError::other(E::Timeout(T::RecvBody));
        assert_eq!(io_cause(&wrapped), Transport::Timeout);
        assert_eq!(cause_of(&E::BadUri("x".into())), Broken::Setup);
        assert_eq!(
            reason_of("http://h/", &dns_failure("h", "no such host")),
            "http://h/: DNS lookup of h failed: no such host"
        );
    }
}
