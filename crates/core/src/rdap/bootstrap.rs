//! IANA RDAP bootstrap (RFC 9224): which registry serves which prefix, and
//! the base URL to ask.
//!
//! The bundled copy (`data/iana-rdap-bootstrap-ipv4.json`) is used unless a
//! file is given. `--registry NAME=URL` replaces a registry's base URL
//! everywhere: for routing and for redirects, which are rewritten from the
//! registry's public host onto the override (so a mirror or the local world
//! can stand in for a real registry).
//!
//! **Security rules.** Registry base URLs from a bootstrap file must be
//! https: a service that lists only `http://` URLs is refused
//! ([`BootstrapError::Insecure`]); plain http is allowed only for a base given
//! explicitly with `--registry`. URLs sent by servers (redirects, `up` links)
//! go through [`Bootstrap::resolve`], which accepts only URLs under an
//! effective base or on a registry's public host, and rebuilds the latter on
//! that registry's effective base: scheme, host and port always come from the
//! bootstrap or `--registry`, never from the server, so a redirect can neither
//! leave the registries nor downgrade https to http.

use std::fmt;

use serde::Deserialize;

use super::Registry;
use crate::prefix::{Cidr, Range};

/// The bundled IANA bootstrap file.
pub const BUNDLED: &str = include_str!("../../../../data/iana-rdap-bootstrap-ipv4.json");

/// Why a bootstrap file or registry URL was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BootstrapError {
    /// Not a bootstrap JSON document.
    Json(String),
    /// A prefix in the file is not an IPv4 CIDR.
    BadPrefix(String),
    /// A service's URLs belong to no known registry.
    UnknownService(String),
    /// A `--registry` URL is not usable.
    BadUrl(String),
    /// A bootstrap service offers no https URL (plain http only with `--registry`).
    Insecure(String),
    /// A `--registry` URL carries user info, a query or a fragment (shown redacted).
    Secret(String),
}

impl fmt::Display for BootstrapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BootstrapError::Json(m) => write!(f, "not an RDAP bootstrap file: {}", short(m)),
            BootstrapError::BadPrefix(p) => {
                write!(
                    f,
                    "bootstrap prefix {:?} is not an IPv4 CIDR (a.b.c.d/len)",
                    short(p)
                )
            }
            BootstrapError::UnknownService(u) => write!(
                f,
                "bootstrap service {} is not one of the five registries (arin, ripe, apnic, lacnic, afrinic)",
                short(u)
            ),
            BootstrapError::BadUrl(u) => write!(
                f,
                "registry URL {:?} is not usable: expected http://host[:port]/path or https://...",
                short(u)
            ),
            BootstrapError::Secret(u) => write!(
                f,
                "registry URL {:?} carries user info, a query or a fragment: not accepted, since every URL is stored in the database (source_url) and shown in failure reasons; expected http(s)://host[:port]/path",
                short(u)
            ),
            BootstrapError::Insecure(u) => write!(
                f,
                "bootstrap service {} is not https: registry URLs from a bootstrap file must be https (use --registry NAME=URL to point a registry at a plain-http mirror)",
                short(u)
            ),
        }
    }
}

/// A value from the file, on one line and at most 100 characters (serde_json
/// quotes whole values in its messages).
fn short(s: &str) -> String {
    let one: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if one.chars().count() > 100 {
        let cut: String = one.chars().take(100).collect();
        format!("{cut}…")
    } else {
        one
    }
}

impl std::error::Error for BootstrapError {}

#[derive(Deserialize)]
struct File {
    services: Vec<(Vec<String>, Vec<String>)>,
}

/// Routing table: prefix → registry, and each registry's effective base URL.
#[derive(Clone, Debug)]
pub struct Bootstrap {
    /// Sorted, disjoint (longest prefixes were split out by [`Bootstrap::from_json`]).
    entries: Vec<(Range, Registry)>,
    bases: [String; 5],
    overridden: [bool; 5],
}

impl Bootstrap {
    /// The bundled IANA file.
    pub fn bundled() -> Bootstrap {
        Bootstrap::from_json(BUNDLED.as_bytes()).expect("bundled bootstrap file parses")
    }

    /// Parses an RFC 9224 IPv4 bootstrap document. Service URLs are mapped to
    /// registries by host name (`rdap.db.ripe.net` → ripe); the https URL is
    /// taken when a service lists several, and a service without one is
    /// refused ([`BootstrapError::Insecure`]).
    pub fn from_json(bytes: &[u8]) -> Result<Bootstrap, BootstrapError> {
        let file: File =
            serde_json::from_slice(bytes).map_err(|e| BootstrapError::Json(e.to_string()))?;
        let mut bases: [String; 5] = Registry::ALL.map(|r| r.official_base().to_string());
        let mut cidrs: Vec<(Cidr, Registry)> = Vec::new();
        for (prefixes, urls) in &file.services {
            let first = urls
                .first()
                .ok_or_else(|| BootstrapError::UnknownService("(no URL)".into()))?;
            let url = urls
                .iter()
                .find(|u| u.starts_with("https://"))
                .ok_or_else(|| BootstrapError::Insecure(first.clone()))?;
            let reg = host_of(url)
                .and_then(Registry::from_host)
                .ok_or_else(|| BootstrapError::UnknownService(url.clone()))?;
            bases[reg.index()] = with_slash(url);
            for p in prefixes {
                let c: Cidr = p
                    .parse()
                    .map_err(|_| BootstrapError::BadPrefix(p.clone()))?;
                cidrs.push((c, reg));
            }
        }
        // Longer prefixes win: apply from shortest to longest over a flat map.
        cidrs.sort_by_key(|(c, _)| c.len());
        let mut entries: Vec<(Range, Registry)> = Vec::new();
        for (c, reg) in cidrs {
            let r = c.range();
            let mut next = Vec::with_capacity(entries.len() + 2);
            for &(e, er) in &entries {
                if let Some(x) = e.intersect(&r) {
                    if e.start < x.start {
                        next.push((Range::new(e.start, x.start - 1).unwrap_or(e), er));
                    }
                    if x.end < e.end {
                        next.push((Range::new(x.end + 1, e.end).unwrap_or(e), er));
                    }
                } else {
                    next.push((e, er));
                }
            }
            next.push((r, reg));
            next.sort_by_key(|(r, _)| r.start);
            entries = next;
        }
        Ok(Bootstrap {
            entries,
            bases,
            overridden: [false; 5],
        })
    }

    /// Replaces a registry's base URL (`--registry NAME=URL`).
    pub fn set_base(&mut self, reg: Registry, url: &str) -> Result<(), BootstrapError> {
        let ok = (url.starts_with("http://") || url.starts_with("https://"))
            && host_of(url).is_some_and(|h| !h.is_empty())
            && !url.contains(char::is_whitespace);
        if !ok {
            return Err(BootstrapError::BadUrl(redact(url)));
        }
        let authority = url
            .split_once("://")
            .map_or("", |(_, rest)| rest.split('/').next().unwrap_or(""));
        if authority.contains('@') || url.contains(['?', '#']) {
            return Err(BootstrapError::Secret(redact(url)));
        }
        self.bases[reg.index()] = with_slash(url);
        self.overridden[reg.index()] = true;
        Ok(())
    }

    /// The registry that serves `addr`, if any.
    pub fn registry_of(&self, addr: u32) -> Option<Registry> {
        let i = self.entries.partition_point(|(r, _)| r.end < addr);
        self.entries
            .get(i)
            .filter(|(r, _)| r.start <= addr)
            .map(|&(_, reg)| reg)
    }

    /// Sorted, disjoint ranges with their registry.
    pub fn entries(&self) -> &[(Range, Registry)] {
        &self.entries
    }

    /// The effective base URL (with a trailing `/`).
    pub fn base(&self, reg: Registry) -> &str {
        &self.bases[reg.index()]
    }

    /// Whether the base URL was given with `--registry`.
    pub fn is_overridden(&self, reg: Registry) -> bool {
        self.overridden[reg.index()]
    }

    /// Maps a URL given by a server (a redirect `Location` or an `up` link) to
    /// the registry it names and the URL to actually ask: a URL under an
    /// effective base is kept; a URL on a registry's public host is moved
    /// onto that registry's effective base (keeping the `ip/...` part).
    /// `None` for hosts that belong to no registry.
    pub fn resolve(&self, url: &str) -> Option<(Registry, String)> {
        let url = url.trim();
        for reg in Registry::ALL {
            if url.starts_with(self.base(reg)) {
                return Some((reg, url.replace(' ', "%20")));
            }
        }
        let reg = host_of(url).and_then(Registry::from_host)?;
        let rest = rdap_path(url)?;
        Some((
            reg,
            format!("{}{}", self.base(reg), rest.replace(' ', "%20")),
        ))
    }
}

/// The host part of an http(s) URL.
pub fn host_of(url: &str) -> Option<&str> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host = authority.rsplit('@').next()?;
    let host = if host.starts_with('[') {
        host.split(']').next().map(|h| h.trim_start_matches('['))?
    } else {
        host.split(':').next()?
    };
    Some(host)
}

/// The URL with any user info and query replaced by `***`, for messages.
fn redact(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let (authority, path) = rest.find('/').map_or((rest, ""), |i| rest.split_at(i));
    let authority = match authority.rsplit_once('@') {
        Some((_, host)) => format!("***@{host}"),
        None => authority.to_string(),
    };
    let path = match path.find(['?', '#']) {
        Some(i) => format!("{}?***", &path[..i]),
        None => path.to_string(),
    };
    if scheme.is_empty() {
        format!("{authority}{path}")
    } else {
        format!("{scheme}://{authority}{path}")
    }
}

/// The RDAP query part of a URL: from the last `/ip/` on, without the slash.
fn rdap_path(url: &str) -> Option<&str> {
    url.rfind("/ip/").map(|i| &url[i + 1..])
}

fn with_slash(url: &str) -> String {
    if url.ends_with('/') {
        url.to_string()
    } else {
        format!("{url}/")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prefix::parse_addr_lenient;

    fn a(s: &str) -> u32 {
        parse_addr_lenient(s).unwrap()
    }

    #[test]
    fn bundled_routes_the_five_registries() {
        let b = Bootstrap::bundled();
        assert_eq!(b.registry_of(a("3.3.3.3")), Some(Registry::Arin));
        assert_eq!(b.registry_of(a("193.0.6.139")), Some(Registry::Ripe));
        assert_eq!(b.registry_of(a("1.1.1.1")), Some(Registry::Apnic));
        assert_eq!(b.registry_of(a("200.3.14.10")), Some(Registry::Lacnic));
        assert_eq!(b.registry_of(a("41.0.0.1")), Some(Registry::Afrinic));
        // Not in any entry: 0/8, 10/8, 127/8, 224/3.
        for s in ["0.1.2.3", "10.0.0.1", "127.0.0.1", "224.0.0.1", "250.1.1.1"] {
            assert_eq!(b.registry_of(a(s)), None, "{s}");
        }
        assert_eq!(b.entries().len(), 221);
        assert_eq!(b.base(Registry::Arin), "https://rdap.arin.net/registry/");
        assert_eq!(b.base(Registry::Afrinic), "https://rdap.afrinic.net/rdap/");
    }

    #[test]
    fn overrides_move_redirects_onto_the_mirror() {
        let mut b = Bootstrap::bundled();
        b.set_base(Registry::Ripe, "http://127.0.0.1:4000").unwrap();
        assert_eq!(b.base(Registry::Ripe), "http://127.0.0.1:4000/");
        let (r, u) = b.resolve("https://rdap.db.ripe.net/ip/2.0.0.1").unwrap();
        assert_eq!(
            (r, u.as_str()),
            (Registry::Ripe, "http://127.0.0.1:4000/ip/2.0.0.1")
        );
        let (r, u) = b.resolve("http://127.0.0.1:4000/ip/2.0.0.0/8").unwrap();
        assert_eq!(
            (r, u.as_str()),
            (Registry::Ripe, "http://127.0.0.1:4000/ip/2.0.0.0/8")
        );
        let (r, u) = b
            .resolve("https://rdap.afrinic.net/rdap/ip/196.216.2.0 - 196.216.3.255")
            .unwrap();
        assert_eq!(r, Registry::Afrinic);
        assert_eq!(
            u,
            "https://rdap.afrinic.net/rdap/ip/196.216.2.0%20-%20196.216.3.255"
        );
        assert_eq!(b.resolve("https://evil.example.com/ip/1.2.3.4"), None);
        assert_eq!(b.resolve("https://rdap.arin.net.evil.com/ip/1.2.3.4"), None);
    }

    #[test]
    fn server_urls_never_leave_the_registries_nor_downgrade() {
        let b = Bootstrap::bundled();
        // http on a registry host is rebuilt on the registry's https base.
        let (r, u) = b
            .resolve("http://rdap.arin.net/registry/ip/1.2.3.4")
            .unwrap();
        assert_eq!(r, Registry::Arin);
        assert_eq!(u, "https://rdap.arin.net/registry/ip/1.2.3.4");
        let (_, u) = b
            .resolve("http://rdap.db.ripe.net:8080/ip/2.0.0.1")
            .unwrap();
        assert_eq!(u, "https://rdap.db.ripe.net/ip/2.0.0.1");
        // User info cannot smuggle in another host; lookalikes are foreign.
        for foreign in [
            "https://rdap.arin.net@evil.example/ip/1.2.3.4",
            "http://127.0.0.1:1/ip/1.2.3.4",
            "https://arin.net.example/ip/1.2.3.4",
            "https://evil-arin.net/ip/1.2.3.4",
            "ftp://rdap.arin.net/ip/1.2.3.4",
            "rdap.arin.net/ip/1.2.3.4",
        ] {
            assert_eq!(b.resolve(foreign), None, "{foreign}");
        }
        // A URL on a registry host outside its base needs an RDAP ip/ path.
        assert_eq!(b.resolve("https://www.arin.net/entity/X"), None);
        // Every bundled base is https.
        for reg in Registry::ALL {
            assert!(b.base(reg).starts_with("https://"), "{reg}");
            assert!(!b.is_overridden(reg));
        }
    }

    #[test]
    fn bootstrap_urls_must_be_https() {
        let http_only = br#"{"services":[[["1.0.0.0/8"],["http://rdap.apnic.net/"]]]}"#;
        let e = Bootstrap::from_json(http_only).unwrap_err();
        assert_eq!(e, BootstrapError::Insecure("http://rdap.apnic.net/".into()));
        assert!(e.to_string().contains("--registry"), "{e}");
        // Both offered: the https one is used.
        let both =
            br#"{"services":[[["1.0.0.0/8"],["http://rdap.apnic.net/","https://rdap.apnic.net/"]]]}"#;
        let b = Bootstrap::from_json(both).unwrap();
        assert_eq!(b.base(Registry::Apnic), "https://rdap.apnic.net/");
        // Only an explicit override may be plain http.
        let mut b = b;
        b.set_base(Registry::Apnic, "http://127.0.0.1:9/").unwrap();
        assert!(b.is_overridden(Registry::Apnic));
    }

    #[test]
    fn bad_inputs_are_refused() {
        let mut b = Bootstrap::bundled();
        assert!(b.set_base(Registry::Arin, "ftp://x/").is_err());
        assert!(b.set_base(Registry::Arin, "http:///").is_err());
        // Credentials would land in the DB (source_url) and in messages.
        for secret in [
            "https://user:hunter2@mirror.example/rdap/",
            "https://mirror.example/rdap/?apikey=hunter2",
            "https://mirror.example/rdap/#hunter2",
        ] {
            let e = b.set_base(Registry::Arin, secret).unwrap_err();
            assert!(matches!(e, BootstrapError::Secret(_)), "{secret}: {e}");
            assert!(!e.to_string().contains("hunter2"), "{e}");
        }
        assert!(b
            .set_base(Registry::Arin, "https://mirror.example:8443/rdap")
            .is_ok());
        assert!(Bootstrap::from_json(b"{}").is_err());
        assert!(Bootstrap::from_json(b"not json").is_err());
        let bad = br#"{"services":[[["1.0.0.0/33"],["https://rdap.apnic.net/"]]]}"#;
        assert!(matches!(
            Bootstrap::from_json(bad),
            Err(BootstrapError::BadPrefix(_))
        ));
        let foreign = br#"{"services":[[["1.0.0.0/8"],["https://rdap.example.com/"]]]}"#;
        assert!(matches!(
            Bootstrap::from_json(foreign),
            Err(BootstrapError::UnknownService(_))
        ));
    }

    #[test]
    fn more_specific_entries_win() {
        let doc = br#"{"services":[
            [["1.0.0.0/8"],["https://rdap.apnic.net/"]],
            [["1.2.0.0/16"],["https://rdap.arin.net/registry/"]]]}"#;
        let b = Bootstrap::from_json(doc).unwrap();
        assert_eq!(b.registry_of(a("1.1.255.255")), Some(Registry::Apnic));
        assert_eq!(b.registry_of(a("1.2.3.4")), Some(Registry::Arin));
        assert_eq!(b.registry_of(a("1.3.0.0")), Some(Registry::Apnic));
        assert_eq!(b.entries().len(), 3);
    }
}
