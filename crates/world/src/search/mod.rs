//! RFC 9910 RIR search over the model (DESIGN §6.1): the four relations, who
//! holds a key's space, and the result-set limits. Pure: no HTTP here (the
//! answers are in [`answer`]).
//!
//! For the networks server `S` holds, a key `K` (an address is a one-address
//! range):
//! - `up(K)`: the smallest network strictly containing `K`;
//! - `top(K)`: the least-specific network strictly containing `K` (ARIN:
//!   containing, `K`'s own network included, see [`top`]);
//! - `down(K)`: the maximal networks strictly inside `K` (`K` itself excluded);
//! - `bottom(K)`: every network inside `K` (`K`'s own included) that its
//!   children do not cover wholly: leaves, and parents whose children leave
//!   gaps. Results overlap.
//!
//! Networks are in pre-order (`start asc, end desc`), so everything inside
//! `K` starts in `[K.start, K.end]`: one binary search, then a walk that stops
//! at `K.end` or once a limit is exceeded.

pub mod answer;

use ipcrawl_core::prefix::{Cidr, Range};
use ipcrawl_core::rdap::Registry;

use crate::model::Model;

/// The relation asked for (`rdap-up`, `rdap-top`, `rdap-down`, `rdap-bottom`).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Relation {
    /// `rdap-up`: the parent.
    Up,
    /// `rdap-top`: the top-level network.
    Top,
    /// `rdap-down`: the immediate children.
    Down,
    /// `rdap-bottom`: the most specific networks (and those with gaps).
    Bottom,
}

impl Relation {
    /// All four.
    pub const ALL: [Relation; 4] = [
        Relation::Up,
        Relation::Top,
        Relation::Down,
        Relation::Bottom,
    ];

    /// The path segment, `rdap-up` ...
    pub fn name(self) -> &'static str {
        match self {
            Relation::Up => "rdap-up",
            Relation::Top => "rdap-top",
            Relation::Down => "rdap-down",
            Relation::Bottom => "rdap-bottom",
        }
    }

    /// Reads a path segment.
    pub fn parse(s: &str) -> Option<Relation> {
        Relation::ALL.into_iter().find(|r| r.name() == s)
    }

    /// Whether the answer is one network object (up, top) rather than
    /// `ipSearchResults` (down, bottom).
    pub fn single(self) -> bool {
        matches!(self, Relation::Up | Relation::Top)
    }
}

/// What a server does with more results than its limit.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum OverLimit {
    /// RIPE NCC: HTTP 400 "Too Many Rows", no results.
    Refuse,
    /// The first `max` results and a "result set truncated" notice.
    Truncate,
}

/// A server's result-set limit for down and bottom.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct SearchLimit {
    /// The most results answered (RIPE NCC's real limit: 10,000).
    pub max: usize,
    /// What happens above it.
    pub over: OverLimit,
}

impl SearchLimit {
    /// The limit a registry has unless configured: 10,000 results; ARIN
    /// truncates (its documentation says results "may be truncated"), the
    /// others refuse like RIPE NCC.
    pub fn default_for(r: Registry) -> SearchLimit {
        SearchLimit {
            max: 10_000,
            over: if r == Registry::Arin {
                OverLimit::Truncate
            } else {
                OverLimit::Refuse
            },
        }
    }
}

/// Which registries serve RIR search, and their limits.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct SearchConfig {
    /// By [`Registry::index`]: whether the registry serves `rirSearch1`.
    pub enabled: [bool; 5],
    /// By [`Registry::index`]: the result-set limits.
    pub limits: [SearchLimit; 5],
}

impl Default for SearchConfig {
    /// ARIN and RIPE NCC serve search (as far as public sources show), the
    /// others not; default limits.
    fn default() -> SearchConfig {
        SearchConfig {
            enabled: Registry::ALL.map(|r| matches!(r, Registry::Arin | Registry::Ripe)),
            limits: Registry::ALL.map(SearchLimit::default_for),
        }
    }
}

/// The registries holding the space of `key`: the holder of the most
/// specific network containing all of it, if any; otherwise the holders of
/// every top-level network it touches, plus the bootstrap registry of every
/// part no network covers. Empty for space no registry serves.
pub fn holders(model: &Model, key: Range) -> [bool; 5] {
    let mut set = [false; 5];
    if let Some(i) = model.deepest_range(key) {
        set[model.nets[i as usize].registry.index()] = true;
        return set;
    }
    let mut cur = u64::from(key.start);
    // Top-level networks in address order; the space between them is the bootstrap's.
    let top_at = |r: Range, reg: Registry, set: &mut [bool; 5], cur: &mut u64| {
        if u64::from(r.start) > *cur {
            bootstrap_holders(model, *cur as u32, r.start - 1, set);
        }
        set[reg.index()] = true;
        *cur = u64::from(r.end) + 1;
    };
    // A top-level network holding the key's start (it began before the key).
    if let Some(i) = model.deepest(key.start) {
        let t = &model.nets[model.root(i) as usize];
        top_at(t.range, t.registry, &mut set, &mut cur);
    }
    for n in &model.nets[model.first_from(key.start)..] {
        if n.range.start > key.end {
            break;
        }
        if n.depth == 0 && u64::from(n.range.start) >= cur {
            top_at(n.range, n.registry, &mut set, &mut cur);
        }
    }
    if cur <= u64::from(key.end) {
        bootstrap_holders(model, cur as u32, key.end, &mut set);
    }
    set
}

/// Marks the bootstrap registry of every block `[from, to]` touches.
fn bootstrap_holders(model: &Model, from: u32, to: u32, set: &mut [bool; 5]) {
    let mut x = u64::from(from);
    while x <= u64::from(to) {
        let a = x as u32;
        if let Some(r) = model.bootstrap.registry(a) {
            set[r.index()] = true;
        }
        let end = model
            .bootstrap
            .block(a)
            .map_or(a | 0x00FF_FFFF, |c| c.range().end);
        x = u64::from(end) + 1;
    }
}

/// The smallest network of `server` strictly containing `key`.
pub fn up(model: &Model, server: Registry, key: Range) -> Option<u32> {
    let mut i = model.deepest_range(key)?;
    if model.nets[i as usize].registry != server {
        return None;
    }
    while model.nets[i as usize].range == key {
        i = model.nets[i as usize].parent?;
    }
    Some(i)
}

/// The least-specific network of `server` containing `key`: strictly
/// (RIPE NCC: a top-level key has no top, 404), or with `key`'s own network
/// allowed when `or_itself` (ARIN with `?status=active` answered the queried
/// top-level network itself, terraform-provider-arin's live probe).
pub fn top(model: &Model, server: Registry, key: Range, or_itself: bool) -> Option<u32> {
    let i = if or_itself {
        model
            .deepest_range(key)
            .filter(|&i| model.nets[i as usize].registry == server)?
    } else {
        up(model, server, key)?
    };
    Some(model.root(i))
}

/// ARIN's administrative /8 (`NET-a-0-0-0-0`) strictly containing `key`,
/// when the bootstrap gives that /8 to `server`.
pub fn admin_block(model: &Model, server: Registry, key: Range) -> Option<Cidr> {
    let b = model.bootstrap.block(key.start)?;
    let ok = model.bootstrap.registry(key.start) == Some(server)
        && b.range().contains_range(&key)
        && b.range() != key;
    ok.then_some(b)
}

/// Network indices in address order, and whether more than asked for exist.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Found {
    /// At most `max` results.
    pub nets: Vec<u32>,
    /// Whether there were more than `max`.
    pub more: bool,
}

impl Found {
    fn push(&mut self, i: u32, max: usize) -> bool {
        if self.nets.len() == max {
            self.more = true;
            return false;
        }
        self.nets.push(i);
        true
    }
}

/// The maximal networks of `server` strictly inside `key`, at most `max`.
pub fn down(model: &Model, server: Registry, key: Range, max: usize) -> Found {
    let mut found = Found::default();
    let from = model.first_from(key.start);
    // End of the last result: what starts before it is inside it.
    let mut covered: Option<u32> = None;
    for (off, n) in model.nets[from..].iter().enumerate() {
        if n.range.start > key.end {
            break;
        }
        let inside = covered.is_some_and(|e| n.range.start <= e);
        if inside || n.registry != server || n.range.end > key.end || n.range == key {
            continue;
        }
        if !found.push((from + off) as u32, max) {
            break;
        }
        covered = Some(n.range.end);
    }
    found
}

/// The networks of `server` inside `key` (its own included) that their
/// children do not cover wholly, at most `max`.
pub fn bottom(model: &Model, server: Registry, key: Range, max: usize) -> Found {
    let mut found = Found::default();
    let from = model.first_from(key.start);
    for (off, n) in model.nets[from..].iter().enumerate() {
        if n.range.start > key.end {
            break;
        }
        let wanted = n.registry == server && n.range.end <= key.end && !n.filled;
        if wanted && !found.push((from + off) as u32, max) {
            break;
        }
    }
    found
}

#[cfg(test)]
mod http_tests;
#[cfg(test)]
mod tests;
