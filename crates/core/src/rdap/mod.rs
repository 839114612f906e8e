//! RDAP domain types: the five registries, a parsed IP network, and the
//! [`Fetch`] trait the crawl depends on.
//!
//! - [`parse`] turns answer bytes into a [`Network`] (pure, never does I/O);
//! - [`bootstrap`] maps addresses to registries (IANA RDAP bootstrap, RFC 9224);
//! - [`client`] is the only HTTP user (ureq) and implements [`Fetch`]: it
//!   reports what happened as an [`Exchange`] (status, headers, body), never
//!   what it means;
//! - [`answer`] holds [`classify`], the one function deciding what an
//!   exchange means for the crawl (an [`Answer`]): which statuses and bodies
//!   are networks, gaps, rate limits, worth a retry, or refused.

pub mod answer;
pub mod bootstrap;
pub mod client;
pub mod json;
pub mod parse;
pub mod search;

pub use answer::{
    classify, classify_help, classify_search, Answer, Answered, HelpAnswer, SearchAnswer,
};

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::prefix::Range;

/// One of the five Regional Internet Registries.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Registry {
    /// American Registry for Internet Numbers.
    Arin,
    /// RIPE NCC (Europe, Middle East, Central Asia).
    Ripe,
    /// Asia-Pacific Network Information Centre.
    Apnic,
    /// Latin America and Caribbean Network Information Centre.
    Lacnic,
    /// African Network Information Centre.
    Afrinic,
}

impl Registry {
    /// All five, in a fixed order (also their index order).
    pub const ALL: [Registry; 5] = [
        Registry::Arin,
        Registry::Ripe,
        Registry::Apnic,
        Registry::Lacnic,
        Registry::Afrinic,
    ];

    /// The name used on the command line and in every output: `arin`, `ripe`, ...
    pub fn name(self) -> &'static str {
        match self {
            Registry::Arin => "arin",
            Registry::Ripe => "ripe",
            Registry::Apnic => "apnic",
            Registry::Lacnic => "lacnic",
            Registry::Afrinic => "afrinic",
        }
    }

    /// Position in [`Registry::ALL`] (0..5), for per-registry arrays.
    pub fn index(self) -> usize {
        self as usize
    }

    /// Inverse of [`Registry::index`].
    pub fn from_index(i: usize) -> Option<Registry> {
        Registry::ALL.get(i).copied()
    }

    /// The registry's public RDAP base URL (as in the IANA bootstrap).
    pub fn official_base(self) -> &'static str {
        match self {
            Registry::Arin => "https://rdap.arin.net/registry/",
            Registry::Ripe => "https://rdap.db.ripe.net/",
            Registry::Apnic => "https://rdap.apnic.net/",
            Registry::Lacnic => "https://rdap.lacnic.net/rdap/",
            Registry::Afrinic => "https://rdap.afrinic.net/rdap/",
        }
    }

    /// Which registry a public RDAP host name belongs to (`rdap.db.ripe.net` → ripe).
    pub fn from_host(host: &str) -> Option<Registry> {
        let h = host.to_ascii_lowercase();
        let h = h.trim_end_matches('.');
        Registry::ALL.into_iter().find(|r| {
            let d = match r {
                Registry::Arin => "arin.net",
                Registry::Ripe => "ripe.net",
                Registry::Apnic => "apnic.net",
                Registry::Lacnic => "lacnic.net",
                Registry::Afrinic => "afrinic.net",
            };
            h == d || h.ends_with(&format!(".{d}"))
        })
    }
}

impl fmt::Display for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An unknown registry name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownRegistry(pub String);

impl fmt::Display for UnknownRegistry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown registry {:?}: expected one of arin, ripe, apnic, lacnic, afrinic",
            self.0
        )
    }
}

impl std::error::Error for UnknownRegistry {}

impl FromStr for Registry {
    type Err = UnknownRegistry;
    fn from_str(s: &str) -> Result<Registry, UnknownRegistry> {
        let l = s.trim().to_ascii_lowercase();
        match l.as_str() {
            "arin" => Ok(Registry::Arin),
            "ripe" | "ripencc" | "ripe-ncc" | "ripe ncc" => Ok(Registry::Ripe),
            "apnic" => Ok(Registry::Apnic),
            "lacnic" => Ok(Registry::Lacnic),
            "afrinic" => Ok(Registry::Afrinic),
            _ => Err(UnknownRegistry(s.to_string())),
        }
    }
}

/// A contact attached to a network (from the RDAP `entities` array, with
/// nested entities flattened).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entity {
    /// Entity handle, e.g. `ABUSE5250-ARIN`.
    pub handle: Option<String>,
    /// Roles, lower case, split when a server joined them (`"technical, abuse"`).
    pub roles: Vec<String>,
    /// The vCard `fn` (formatted name).
    pub name: Option<String>,
    /// The first vCard `email`.
    pub email: Option<String>,
}

/// One parsed RDAP IP network answer.
///
/// Fields hold what the server sent, trimmed; absent values are `None` or
/// empty, never invented.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Network {
    /// The object's handle (`NET-13-64-0-0-1`, `193.0.0.0 - 193.0.7.255`, `179.0.0.0/23`).
    pub handle: String,
    /// Addresses from `startAddress` to `endAddress`.
    pub range: Range,
    /// `name` member.
    pub name: Option<String>,
    /// `type` member, as sent (any case).
    pub net_type: Option<String>,
    /// The network object's own `country` member (ARIN networks have none).
    pub country: Option<String>,
    /// `parentHandle` as sent (a handle, a CIDR or a range string).
    pub parent_handle: Option<String>,
    /// The parent's range when `parentHandle` or the `up` link names one.
    pub parent_range: Option<Range>,
    /// The `href` of the `rel: "up"` link, if any.
    pub up_link: Option<String>,
    /// `status` values, lower case.
    pub status: Vec<String>,
    /// Contacts.
    pub entities: Vec<Entity>,
    /// `registration` event date, as sent.
    pub registration: Option<String>,
    /// `last changed` event date, as sent.
    pub last_changed: Option<String>,
    /// A registry placeholder that owns nothing (RIPE managed block, IANA-BLOCK, ...).
    pub placeholder: bool,
}

/// What one lookup (a GET plus the redirects followed) produced, as plain
/// facts: no verdict. [`classify`] is the one place that decides what it
/// means (network, gap, rate limit, retry or refusal).
#[derive(Clone, Debug)]
pub enum Exchange {
    /// A server answered with a status other than a followed redirect.
    Response {
        /// Registry whose server answered (after redirects).
        registry: Registry,
        /// The URL that answered.
        url: String,
        /// HTTP status.
        status: u16,
        /// Seconds from `Retry-After`, when given as a number or an
        /// HTTP-date ([`client::retry_after_secs`]); `None` when absent or
        /// unreadable.
        retry_after: Option<u64>,
        /// Body bytes: of a 200 at most the client's body limit, of any
        /// other status at most 64 KiB (empty when longer).
        body: Vec<u8>,
        /// Redirect hops followed before this answer.
        redirects: u32,
    },
    /// No answer to judge.
    Broken {
        /// Registry involved (the last one asked).
        registry: Registry,
        /// What kind of breakage.
        cause: Broken,
        /// What went wrong, one line naming the URL.
        reason: String,
        /// Redirect hops followed before it broke.
        redirects: u32,
    },
}

impl Exchange {
    /// Why no server answered, if none did (a transport failure): the
    /// crawl counts these per registry and cause.
    pub fn transport_failure(&self) -> Option<Transport> {
        match self {
            Exchange::Broken { cause, .. } => cause.transport(),
            Exchange::Response { .. } => None,
        }
    }

    /// The registry the exchange ended at (after redirects).
    pub fn registry(&self) -> Registry {
        match self {
            Exchange::Response { registry, .. } | Exchange::Broken { registry, .. } => *registry,
        }
    }

    /// Redirect hops followed.
    pub fn redirects(&self) -> u32 {
        match self {
            Exchange::Response { redirects, .. } | Exchange::Broken { redirects, .. } => *redirects,
        }
    }
}

/// Why an [`Exchange`] has no answer.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Broken {
    /// No answer came back: the connection failed, timed out or was reset,
    /// TLS failed, or the body could not be read to its end; the cause named.
    Transport(Transport),
    /// The request cannot be made as configured: a bad URI, https required,
    /// an unreadable certificate store.
    Setup,
    /// A 200 body over the client's body limit (not read further).
    TooLarge,
    /// A redirect or link that must not be followed: no `Location`, a loop,
    /// too many hops, a host that is not a registry.
    Route,
}

impl Broken {
    /// The transport cause, if no server answered.
    pub fn transport(self) -> Option<Transport> {
        match self {
            Broken::Transport(t) => Some(t),
            Broken::Setup | Broken::TooLarge | Broken::Route => None,
        }
    }
}

/// Why no answer came back from a registry's server: what a person must
/// check (DNS, the firewall, the server). Named in `stats`, the progress
/// display and the crawl's offline diagnosis.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Transport {
    /// The host name did not resolve (or resolving timed out).
    Dns,
    /// The host answered the connect with a refusal (nothing listening, or
    /// a firewall rejecting).
    Refused,
    /// No route to the host or its network (no network at all, or a
    /// firewall dropping with an ICMP error).
    Unreachable,
    /// The TCP (or TLS) connect did not complete within the connect timeout
    /// (a firewall dropping silently).
    ConnectTimeout,
    /// Connected, but the answer did not come within the whole-request timeout.
    Timeout,
    /// The connection was reset or closed before the answer was complete.
    Reset,
    /// The TLS handshake or certificate check failed (an intercepting proxy,
    /// a wrong clock, a server without TLS).
    Tls,
    /// Any other failure of the connection or the HTTP framing.
    Other,
}

impl Transport {
    /// Every cause, in a fixed order (also their index order).
    pub const ALL: [Transport; 8] = [
        Transport::Dns,
        Transport::Refused,
        Transport::Unreachable,
        Transport::ConnectTimeout,
        Transport::Timeout,
        Transport::Reset,
        Transport::Tls,
        Transport::Other,
    ];

    /// Position in [`Transport::ALL`], for per-cause arrays.
    pub fn index(self) -> usize {
        self as usize
    }

    /// The key used in stored counters and JSON: `dns`, `refused`, ...
    pub fn key(self) -> &'static str {
        match self {
            Transport::Dns => "dns",
            Transport::Refused => "refused",
            Transport::Unreachable => "unreachable",
            Transport::ConnectTimeout => "connect_timeout",
            Transport::Timeout => "timeout",
            Transport::Reset => "reset",
            Transport::Tls => "tls",
            Transport::Other => "other",
        }
    }

    /// What a person reads: `DNS failure`, `connection refused`, ...
    pub fn describe(self) -> &'static str {
        match self {
            Transport::Dns => "DNS failure",
            Transport::Refused => "connection refused",
            Transport::Unreachable => "network unreachable",
            Transport::ConnectTimeout => "connect timeout",
            Transport::Timeout => "request timeout",
            Transport::Reset => "connection reset",
            Transport::Tls => "TLS error",
            Transport::Other => "transport error",
        }
    }
}

impl fmt::Display for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.describe())
    }
}

/// What the crawl needs from the network: one lookup, with redirects followed.
pub trait Fetch: Send + Sync {
    /// Asks `registry` for `path` (relative to its base URL, e.g. `ip/1.2.3.4`),
    /// or for an absolute `https://…` URL (an `up` link).
    fn fetch(&self, registry: Registry, target: &Target) -> Exchange;
}

/// What to ask for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// `ip/{addr}`.
    Addr(u32),
    /// `ip/{prefix}/{len}`.
    Prefix(crate::prefix::Cidr),
    /// An absolute URL given by a server (an `up` link).
    Url(String),
    /// An RFC 9910 search: `ips/rirSearch1/{relation}/{key}`.
    Search(search::Relation, search::Key),
    /// `help`: the server's conformance (does it serve search?).
    Help,
}

impl Target {
    /// Whether the answer may be a large result set (its own body cap,
    /// [`search::MAX_SET_BODY`], and a longer timeout).
    pub fn is_set_search(&self) -> bool {
        matches!(self, Target::Search(rel, _) if rel.is_set())
    }
}
