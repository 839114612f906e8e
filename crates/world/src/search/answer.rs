//! The answers to `GET {base}ips/rirSearch1/{rel}/{key}` and `GET {base}help`,
//! as the real servers give them (DESIGN §6.1, `tests/fixtures/rdap/search/`):
//!
//! - without search: 501 with an error body (ARIN, RIPE NCC and AFRINIC, whose
//!   software is RIPE's), or the 404 of any unknown path (APNIC, LACNIC);
//! - an unknown relation, a bad key, or (ARIN) a key that is neither an
//!   address nor `prefix/len`: 400; `?status=` on down/bottom, or any value
//!   but `active`: 501 (RIPE NCC's rules);
//! - a key whose space one other registry holds: 301 there, as a lookup; a key
//!   spanning several holders' space: RIPE NCC and AFRINIC refuse (404,
//!   "Redirect URI not found"), the others answer from their own networks;
//! - up/top: one network object (ARIN without `?status=active`: its
//!   administrative /8 when nothing smaller holds the key), or 404;
//! - down/bottom: `ipSearchResults`; nothing found is 404 with an empty list
//!   at ARIN, 200 with an empty list elsewhere; more than the limit is a 400
//!   "Too Many Rows" or the first `max` and a truncation notice.

use ipcrawl_core::prefix::{parse_range_lenient, Cidr, Range};
use ipcrawl_core::rdap::Registry;

use super::{admin_block, bottom, down, holders, top, up, OverLimit, Relation, SearchConfig};
use crate::http::percent_decode;
use crate::model::Model;
use crate::render::{self, Bases};

/// The path every relation search starts with.
pub const PREFIX: &str = "/ips/rirSearch1";

/// One search answer before it becomes a reply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SearchAnswer {
    /// HTTP status.
    pub status: u16,
    /// Body (empty for a redirect).
    pub body: Vec<u8>,
    /// `Location` of a redirect.
    pub location: Option<String>,
    /// Network objects in the answer (the administrative /8 included).
    pub results: u64,
    /// Whether the result set was refused or truncated for its size.
    pub cut: bool,
}

impl SearchAnswer {
    fn new(status: u16, body: Vec<u8>) -> SearchAnswer {
        SearchAnswer {
            status,
            body,
            location: None,
            results: 0,
            cut: false,
        }
    }

    fn error(reg: Registry, status: u16, title: &str, description: &str) -> SearchAnswer {
        SearchAnswer::new(status, render::error(reg, status, title, description))
    }
}

/// Whether `target` asks for a relation search.
pub fn is_search(target: &str) -> bool {
    let path = target.split(['?', '#']).next().unwrap_or("");
    path == PREFIX || path.starts_with("/ips/rirSearch1/")
}

/// The answer of a server without search to a search path: `None` where
/// such paths get the 404 of any unknown path (APNIC, LACNIC).
pub fn not_served(reg: Registry) -> Option<SearchAnswer> {
    match reg {
        Registry::Arin | Registry::Ripe | Registry::Afrinic => Some(SearchAnswer::error(
            reg,
            501,
            "Not Implemented",
            "RIR search (rirSearch1) is not implemented by this server",
        )),
        Registry::Apnic | Registry::Lacnic => None,
    }
}

/// Whether a server refuses keys spanning several holders' space (RIPE NCC
/// software) rather than answering from its own networks.
fn refuses_mixed(reg: Registry) -> bool {
    matches!(reg, Registry::Ripe | Registry::Afrinic)
}

/// Reads a search key: an address, `prefix/len` (no host bits), or where
/// `ranges` (RIPE NCC) also `a.b.c.d - e.f.g.h`.
pub fn parse_key(key: &str, ranges: bool) -> Result<Range, String> {
    let key = key.trim();
    if key.is_empty() {
        return Err("empty lookup term".into());
    }
    let bad = || format!("'{key}' is not an IP string literal.");
    if let Some((a, l)) = key.split_once('/') {
        let addr: std::net::Ipv4Addr = a.parse().map_err(|_| bad())?;
        let len: u8 = l.parse().map_err(|_| bad())?;
        return Cidr::new(u32::from(addr), len)
            .map(|c| c.range())
            .ok_or_else(|| {
                format!("'{key}' is not a prefix: host bits are set or the length is over 32")
            });
    }
    if key.contains('-') {
        if !ranges {
            return Err(format!(
                "'{key}' is not an address or prefix/length, the only keys this server takes"
            ));
        }
        return parse_range_lenient(key).ok_or_else(bad);
    }
    let addr: std::net::Ipv4Addr = key.parse().map_err(|_| bad())?;
    Ok(Range::new(u32::from(addr), u32::from(addr)).unwrap_or(Range::ALL))
}

/// `?status=...`: `Ok(true)` for `active`, `Ok(false)` for none, `Err(501 answer)` otherwise.
fn status_filter(reg: Registry, rel: Relation, query: &str) -> Result<bool, SearchAnswer> {
    let Some(v) = query.split('&').find_map(|p| p.strip_prefix("status=")) else {
        return Ok(false);
    };
    let not_impl = |d: &str| SearchAnswer::error(reg, 501, "Not Implemented", d);
    if !rel.single() {
        return Err(not_impl(
            "Status is not implement in down and bottom relation",
        ));
    }
    if v.eq_ignore_ascii_case("active") {
        Ok(true)
    } else {
        Err(not_impl(&format!("{v} status is not implemented")))
    }
}

/// The answer of `reg`'s server (which serves search, per `cfg`) to `target`.
pub fn search(
    model: &Model,
    bases: &Bases,
    cfg: &SearchConfig,
    reg: Registry,
    target: &str,
) -> SearchAnswer {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let path = percent_decode(path.split('#').next().unwrap_or(""));
    let rest = path.strip_prefix(PREFIX).unwrap_or("");
    let rest = rest.trim_start_matches('/');
    let (rel_s, key_s) = rest.split_once('/').unwrap_or((rest, ""));
    let Some(rel) = Relation::parse(rel_s) else {
        return SearchAnswer::error(
            reg,
            400,
            "Bad Request",
            &format!("Relation {rel_s} doesn't exist"),
        );
    };
    let active = match status_filter(reg, rel, query) {
        Ok(a) => a,
        Err(e) => return e,
    };
    let key_s = key_s.strip_suffix('/').unwrap_or(key_s);
    let key = match parse_key(key_s, reg != Registry::Arin) {
        Ok(k) => k,
        Err(msg) => return SearchAnswer::error(reg, 400, "Bad Request", &msg),
    };
    let held = holders(model, key);
    let count = held.iter().filter(|&&h| h).count();
    let mine = held[reg.index()];
    if count == 1 && !mine {
        let to = Registry::ALL
            .into_iter()
            .find(|r| held[r.index()])
            .unwrap_or(reg);
        return SearchAnswer {
            location: Some(format!(
                "{}{}",
                bases[to.index()],
                target.trim_start_matches('/')
            )),
            ..SearchAnswer::new(301, Vec::new())
        };
    }
    if count != 1 && refuses_mixed(reg) {
        return SearchAnswer::error(reg, 404, "Not Found", "Redirect URI not found");
    }
    let q = format!("{}{}", bases[reg.index()], target.trim_start_matches('/'));
    let ctx = Ctx {
        model,
        bases,
        reg,
        key,
        key_s,
        q: &q,
    };
    if !mine {
        // Several holders, none of them this server (or nobody's space).
        return ctx.nothing(rel);
    }
    match rel {
        Relation::Up | Relation::Top => ctx.single(rel, active),
        Relation::Down | Relation::Bottom => ctx.results(rel, cfg),
    }
}

/// What one answer is computed from.
struct Ctx<'a> {
    model: &'a Model,
    bases: &'a Bases,
    reg: Registry,
    key: Range,
    key_s: &'a str,
    q: &'a str,
}

impl Ctx<'_> {
    /// Nothing found, in the relation's and the registry's way.
    fn nothing(&self, rel: Relation) -> SearchAnswer {
        if rel.single() {
            let what = if rel == Relation::Up {
                "up level"
            } else {
                "top-level"
            };
            let d = format!("No {what} object has been found for {}", self.key_s);
            return SearchAnswer::error(self.reg, 404, "Not Found", &d);
        }
        let status = if self.reg == Registry::Arin { 404 } else { 200 };
        let body = render::search_results(self.reg, self.model, &[], self.bases, self.q, None);
        SearchAnswer::new(status, body)
    }

    /// up or top.
    fn single(&self, rel: Relation, active: bool) -> SearchAnswer {
        let (m, reg, key) = (self.model, self.reg, self.key);
        let arin = reg == Registry::Arin;
        let net = match rel {
            Relation::Up => up(m, reg, key),
            // ARIN's top: its /8 unless ?status=active; then the top network, the key's own included.
            _ if arin && !active => None,
            _ => top(m, reg, key, arin),
        };
        if let Some(i) = net {
            let mut a = SearchAnswer::new(200, render::search_network(m, i, self.bases, self.q));
            a.results = 1;
            return a;
        }
        if arin && !active {
            if let Some(b) = admin_block(m, reg, key) {
                let mut a = SearchAnswer::new(200, render::arin_admin_block(b, self.bases, self.q));
                a.results = 1;
                return a;
            }
            if rel == Relation::Top {
                // No ARIN /8 above the key (a transfer in another /8): the top network.
                if let Some(i) = top(m, reg, key, false) {
                    let mut a =
                        SearchAnswer::new(200, render::search_network(m, i, self.bases, self.q));
                    a.results = 1;
                    return a;
                }
            }
        }
        self.nothing(rel)
    }

    /// down or bottom, within the limit.
    fn results(&self, rel: Relation, cfg: &SearchConfig) -> SearchAnswer {
        let limit = cfg.limits[self.reg.index()];
        let found = if rel == Relation::Down {
            down(self.model, self.reg, self.key, limit.max)
        } else {
            bottom(self.model, self.reg, self.key, limit.max)
        };
        if found.more && limit.over == OverLimit::Refuse {
            let mut a = SearchAnswer::error(
                self.reg,
                400,
                "Too Many Rows",
                "The result size is too large",
            );
            a.cut = true;
            return a;
        }
        if found.nets.is_empty() {
            return self.nothing(rel);
        }
        let cut_at = found.more.then_some(limit.max);
        let body = render::search_results(
            self.reg,
            self.model,
            &found.nets,
            self.bases,
            self.q,
            cut_at,
        );
        SearchAnswer {
            results: found.nets.len() as u64,
            cut: found.more,
            ..SearchAnswer::new(200, body)
        }
    }
}

/// The `help` answer of `reg`'s server.
pub fn help(reg: Registry, cfg: &SearchConfig, bases: &Bases, target: &str) -> Vec<u8> {
    let q = format!("{}{}", bases[reg.index()], target.trim_start_matches('/'));
    render::help(reg, cfg.enabled[reg.index()], &q)
}
