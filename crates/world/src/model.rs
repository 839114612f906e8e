//! The world's networks: top-level blocks from delegated statistics, routed by
//! the IANA bootstrap, with seeded nested reassignments; and the lookup every
//! server answer and the oracle are built on.
//!
//! Networks form a laminar family (any two are nested or disjoint) kept in
//! pre-order, which is `(start asc, end desc)` order, so the most specific
//! network containing an address is found by one binary search and a short walk
//! up the parent chain.

use std::fmt;

use ipcrawl_core::delegated::{Delegation, Status};
use ipcrawl_core::prefix::{self, Cidr, Range};
use ipcrawl_core::rdap::Registry;

use ipcrawl_core::rng::SplitMix64;

/// The IANA bootstrap bundled with the crate (`data/SOURCES.md`).
pub const BUNDLED_BOOTSTRAP: &str = include_str!("../../../data/iana-rdap-bootstrap-ipv4.json");

/// Why the world could not be built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelError {
    /// The bootstrap JSON is unusable.
    Bootstrap(String),
    /// The scope holds no routable address.
    EmptyScope,
}

impl fmt::Display for ModelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ModelError::Bootstrap(m) => write!(f, "bad IANA bootstrap: {m}"),
            ModelError::EmptyScope => f.write_str(
                "the scope holds no address routed by the bootstrap outside the reserved space",
            ),
        }
    }
}

impl std::error::Error for ModelError {}

/// Which registry serves which prefix (a minimal RFC 9224 reader).
#[derive(Clone, Debug, Default)]
pub struct Bootstrap {
    /// Entries, longest prefix first.
    entries: Vec<(Cidr, Registry)>,
}

impl Bootstrap {
    /// Reads the bootstrap JSON; a service's registry is taken from its first
    /// URL's host (`rdap.db.ripe.net` → ripe); services of unknown hosts are ignored.
    pub fn parse(json: &str) -> Result<Bootstrap, ModelError> {
        let v: serde_json::Value =
            serde_json::from_str(json).map_err(|e| ModelError::Bootstrap(e.to_string()))?;
        let services = v
            .get("services")
            .and_then(|s| s.as_array())
            .ok_or_else(|| ModelError::Bootstrap("no \"services\" array".into()))?;
        let mut entries = Vec::new();
        for s in services {
            let (Some(prefixes), Some(urls)) = (
                s.get(0).and_then(|p| p.as_array()),
                s.get(1).and_then(|u| u.as_array()),
            ) else {
                continue;
            };
            let reg = urls.iter().filter_map(|u| u.as_str()).find_map(|u| {
                let host = u.split("://").nth(1)?.split('/').next()?;
                Registry::from_host(host)
            });
            let Some(reg) = reg else { continue };
            for p in prefixes.iter().filter_map(|p| p.as_str()) {
                if let Ok(c) = p.parse::<Cidr>() {
                    entries.push((c, reg));
                }
            }
        }
        if entries.is_empty() {
            return Err(ModelError::Bootstrap(
                "no IPv4 entry of a known registry".into(),
            ));
        }
        entries.sort_by_key(|(c, _)| std::cmp::Reverse(c.len()));
        Ok(Bootstrap { entries })
    }

    /// The registry serving `addr`, if any.
    pub fn registry(&self, addr: u32) -> Option<Registry> {
        self.entries
            .iter()
            .find(|(c, _)| c.contains(addr))
            .map(|(_, r)| *r)
    }

    /// The bootstrap entry (usually a /8) holding `addr`.
    pub fn block(&self, addr: u32) -> Option<Cidr> {
        self.entries
            .iter()
            .find(|(c, _)| c.contains(addr))
            .map(|(c, _)| *c)
    }
}

/// What kind of record a network is (drives each registry's `type` word).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A top-level allocation to an LIR/ISP.
    Allocation,
    /// A top-level assignment to an end user (PI).
    Assignment,
    /// A top-level block registered before the RIRs (old date).
    Legacy,
    /// A nested block handed to a downstream ISP.
    SubAllocation,
    /// A nested customer assignment.
    Reassignment,
}

/// One network of the world.
#[derive(Clone, Debug)]
pub struct Net {
    /// Its addresses.
    pub range: Range,
    /// The registry holding it (a transfer when it differs from the /8's).
    pub registry: Registry,
    /// Index of the enclosing network, `None` for a top-level one.
    pub parent: Option<u32>,
    /// 0 for top-level networks.
    pub depth: u8,
    /// Record kind.
    pub kind: Kind,
    /// Registry-style handle (`NET-…`, range string, CIDR).
    pub handle: String,
    /// Network name.
    pub name: String,
    /// Country code.
    pub cc: Option<String>,
    /// Registration date `YYYY-MM-DD`.
    pub registered: String,
    /// Last-changed date `YYYY-MM-DD`.
    pub changed: String,
    /// A number identifying the holder (for entity handles).
    pub holder: u64,
    /// Whether its children cover it wholly (then it is no `rdap-bottom`
    /// result: only networks with a gap, leaves included, are).
    pub filled: bool,
    /// The delegated-statistics record of a top-level network (`None` for
    /// nested ones): what [`crate::stats`] publishes for it.
    pub record: Option<Box<Record>>,
}

/// What the delegated statistics say about a top-level network beyond its
/// range, registry and country: kept as the input wrote it, so that the
/// world's own statistics files rebuild the same world.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// `allocated` or `assigned`.
    pub status: Status,
    /// The `date` column (`YYYYMMDD`) as written; `None` when empty.
    pub date: Option<String>,
    /// The opaque holder id; `None` when the input had none.
    pub holder_id: Option<String>,
}

/// The density and mix of nested reassignments.
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct GenParams {
    /// Multiplier on the default amount of nesting (1.0 = default, 0 = none).
    pub density: f64,
}

/// How the world looks.
#[derive(Clone, Debug)]
pub struct Model {
    /// Routing.
    pub bootstrap: Bootstrap,
    /// The scope: sorted, disjoint, non-reserved and routed ranges.
    pub scope: Vec<Range>,
    /// All networks, pre-order (`start asc, end desc`).
    pub nets: Vec<Net>,
    /// Delegations dropped because they overlapped an earlier one.
    pub overlaps_dropped: usize,
    /// Ranges the input statistics mark `reserved` (sorted by start): free
    /// space there is published as reserved, elsewhere as available.
    pub reserved: Vec<Range>,
    /// How many years this world was aged ([`crate::epoch`]); 0 = as built.
    pub epoch: u32,
    /// What changed in each year, oldest first (empty at epoch 0).
    pub history: Vec<crate::epoch::EpochLog>,
}

/// What the server for some registry does with a query.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Resolution {
    /// Answer with network `i`.
    Net(u32),
    /// Redirect to `registry`'s server (same path).
    Redirect(Registry),
    /// Answer with the registry's placeholder (RIPE, APNIC, AFRINIC).
    Placeholder(Placeholder),
    /// 404.
    NotFound,
}

/// The placeholders registries give for space they hold but did not delegate.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Placeholder {
    /// RIPE `RIPE-NCC-MANAGED-ADDRESS-BLOCK` over the /8.
    RipeManaged(Cidr),
    /// APNIC `APNIC-AP` over the /8.
    ApnicAp(Cidr),
    /// APNIC `IANA-BLOCK` over 0.0.0.0/0.
    ApnicIana,
    /// AFRINIC `ORG-IANA1-AFRINIC` over 0.0.0.0/0.
    AfrinicIana,
}

impl Placeholder {
    /// The placeholder's range.
    pub fn range(self) -> Range {
        match self {
            Placeholder::RipeManaged(c) | Placeholder::ApnicAp(c) => c.range(),
            Placeholder::ApnicIana | Placeholder::AfrinicIana => Range::ALL,
        }
    }
}

impl Model {
    /// Builds the world for `scope` from `delegations` (any order).
    pub fn build(
        bootstrap: Bootstrap,
        scope: &[Cidr],
        delegations: &[Delegation],
        seed: u64,
        params: GenParams,
    ) -> Result<Model, ModelError> {
        // Scope: union of the prefixes, minus reserved and unrouted space.
        let mut raw: Vec<Range> = scope.iter().map(Cidr::range).collect();
        raw.sort();
        let mut merged: Vec<Range> = Vec::new();
        for r in raw {
            match merged.last_mut() {
                Some(last) if u64::from(r.start) <= u64::from(last.end) + 1 => {
                    last.end = last.end.max(r.end);
                }
                _ => merged.push(r),
            }
        }
        let mut scope_ranges = Vec::new();
        for nr in prefix::non_reserved() {
            for r in prefix::clip(&merged, &nr) {
                scope_ranges.extend(routed_parts(&bootstrap, r));
            }
        }
        if scope_ranges.is_empty() {
            return Err(ModelError::EmptyScope);
        }

        // Top-level candidates: delegated blocks touching the scope, no overlaps.
        let mut cands: Vec<&Delegation> = delegations
            .iter()
            .filter(|d| d.status.is_delegated())
            .filter(|d| scope_ranges.iter().any(|s| s.intersect(&d.range).is_some()))
            .filter(|d| !prefix::is_reserved(d.range.start) && !prefix::is_reserved(d.range.end))
            .collect();
        cands.sort_by_key(|d| (d.range.start, std::cmp::Reverse(d.range.end)));
        let mut tops: Vec<&Delegation> = Vec::with_capacity(cands.len());
        let mut dropped = 0;
        for d in cands {
            if tops.last().is_some_and(|t| t.range.end >= d.range.start) {
                dropped += 1;
            } else {
                tops.push(d);
            }
        }

        let mut g = Gen {
            nets: Vec::with_capacity(tops.len() * 8),
            density: params.density.max(0.0),
            seed,
        };
        for d in tops {
            g.top(d, &bootstrap);
        }
        let mut nets = g.nets;
        assign_handles(&mut nets);
        mark_filled(&mut nets);
        let mut reserved: Vec<Range> = delegations
            .iter()
            .filter(|d| d.status == Status::Reserved)
            .filter(|d| scope_ranges.iter().any(|s| s.intersect(&d.range).is_some()))
            .map(|d| d.range)
            .collect();
        reserved.sort_unstable();
        Ok(Model {
            bootstrap,
            scope: scope_ranges,
            nets,
            overlaps_dropped: dropped,
            reserved,
            epoch: 0,
            history: Vec::new(),
        })
    }

    /// The most specific network containing `addr`.
    pub fn deepest(&self, addr: u32) -> Option<u32> {
        let n = self.nets.partition_point(|n| n.range.start <= addr);
        let mut i = n.checked_sub(1)? as u32;
        loop {
            let net = &self.nets[i as usize];
            if net.range.contains(addr) {
                return Some(i);
            }
            i = net.parent?;
        }
    }

    /// The most specific network containing all of `r`.
    pub fn deepest_range(&self, r: Range) -> Option<u32> {
        let mut i = self.deepest(r.start)?;
        loop {
            let net = &self.nets[i as usize];
            if net.range.contains_range(&r) {
                return Some(i);
            }
            i = net.parent?;
        }
    }

    /// What `server`'s registry answers for a query of `r` (an address is a
    /// one-address range). `placeholder_key` picks between APNIC's two placeholders.
    pub fn resolve(&self, server: Registry, r: Range) -> Resolution {
        if let Some(i) = self.deepest_range(r) {
            let reg = self.nets[i as usize].registry;
            return if reg == server {
                Resolution::Net(i)
            } else {
                Resolution::Redirect(reg)
            };
        }
        let (Some(owner), Some(block)) = (
            self.bootstrap.registry(r.start),
            self.bootstrap.block(r.start),
        ) else {
            return Resolution::NotFound;
        };
        if owner != server {
            return if block.range().contains_range(&r) {
                Resolution::Redirect(owner)
            } else {
                Resolution::NotFound
            };
        }
        let inside = block.range().contains_range(&r);
        match server {
            Registry::Ripe if inside => Resolution::Placeholder(Placeholder::RipeManaged(block)),
            Registry::Apnic => {
                // APNIC answers IANA-BLOCK for about one /16 in eight, APNIC-AP elsewhere.
                let k = ipcrawl_core::rng::mix(u64::from(r.start >> 16) ^ 0xA9_1C);
                if !inside || k % 8 == 0 {
                    Resolution::Placeholder(Placeholder::ApnicIana)
                } else {
                    Resolution::Placeholder(Placeholder::ApnicAp(block))
                }
            }
            Registry::Afrinic => Resolution::Placeholder(Placeholder::AfrinicIana),
            Registry::Arin | Registry::Lacnic | Registry::Ripe => Resolution::NotFound,
        }
    }

    /// The index of the first network starting at or after `addr` (networks
    /// inside a range start at or after its start: walk from here).
    pub fn first_from(&self, addr: u32) -> usize {
        self.nets.partition_point(|n| n.range.start < addr)
    }

    /// The top-level network holding network `i`.
    pub fn root(&self, mut i: u32) -> u32 {
        while let Some(p) = self.nets[i as usize].parent {
            i = p;
        }
        i
    }

    /// Real (non-placeholder) networks.
    pub fn len(&self) -> usize {
        self.nets.len()
    }

    /// Whether the world has no network at all.
    pub fn is_empty(&self) -> bool {
        self.nets.is_empty()
    }
}

/// Cuts `r` to the parts some bootstrap entry routes.
#[allow(clippy::many_single_char_names)]
fn routed_parts(b: &Bootstrap, r: Range) -> Vec<Range> {
    let mut out = Vec::new();
    let mut cur = u64::from(r.start);
    let end = u64::from(r.end);
    while cur <= end {
        // Walk /8 by /8 (bootstrap entries are /8 or longer in practice).
        let a = cur as u32;
        let block_end = u64::from(a | 0x00FF_FFFF).min(end);
        // Inside one /8, split by entry where entries are longer than /8.
        let mut x = cur;
        while x <= block_end {
            let xa = x as u32;
            let piece_end = match b.block(xa) {
                Some(c) => u64::from(c.range().end).min(block_end),
                None => block_end,
            };
            if b.registry(xa).is_some() {
                match out.last_mut() {
                    Some(Range { end: e, .. }) if u64::from(*e) + 1 == x => *e = piece_end as u32,
                    _ => out.push(Range {
                        start: xa,
                        end: piece_end as u32,
                    }),
                }
            }
            x = piece_end + 1;
        }
        cur = block_end + 1;
    }
    out
}

const WORDS: [&str; 12] = [
    "NET",
    "TELECOM",
    "HOSTING",
    "CABLE",
    "BROADBAND",
    "DSL",
    "CLOUD",
    "UNI",
    "ISP",
    "DATA",
    "FIBER",
    "MOBILE",
];

/// One of the name words, picked by `k`.
pub(crate) fn word(k: u64) -> &'static str {
    WORDS[(k % WORDS.len() as u64) as usize]
}

struct Gen {
    nets: Vec<Net>,
    density: f64,
    seed: u64,
}

impl Gen {
    fn top(&mut self, d: &Delegation, _b: &Bootstrap) {
        let mut rng = SplitMix64::keyed(self.seed, u64::from(d.range.start));
        let holder = holder_number(d.holder.as_deref(), d.range.start);
        let registered = match d.date.as_deref() {
            Some(s) if s.len() == 8 && s.is_ascii() => {
                format!("{}-{}-{}", &s[..4], &s[4..6], &s[6..8])
            }
            _ => fake_date(&mut rng, 1995),
        };
        let kind = top_kind(d.status, &registered, d.registry);
        let cc = d.cc.clone();
        let name = top_name(cc.as_deref(), holder);
        let changed = later_date(&mut rng, &registered);
        let idx = self.nets.len() as u32;
        self.nets.push(Net {
            range: d.range,
            registry: d.registry,
            parent: None,
            depth: 0,
            kind,
            handle: String::new(),
            name,
            cc,
            registered,
            changed,
            holder,
            filled: false,
            record: Some(Box::new(Record {
                status: d.status,
                date: d.date.clone(),
                holder_id: d.holder.clone(),
            })),
        });
        self.carve(idx, &mut rng);
    }

    fn child(&mut self, parent: u32, range: Range, kind: Kind, rng: &mut SplitMix64) -> u32 {
        let p = &self.nets[parent as usize];
        let holder = rng.next_u64() % 1_000_000;
        let word = WORDS[(holder % WORDS.len() as u64) as usize];
        let name = match kind {
            Kind::Reassignment => format!(
                "{}-CUST-{}",
                p.name.split('-').nth(1).unwrap_or(word),
                holder % 100_000
            ),
            _ => format!(
                "{}-{}-{}",
                p.cc.as_deref().unwrap_or("EU"),
                word,
                holder % 1000 + 1
            ),
        };
        let registered = later_date(rng, &p.registered);
        let changed = later_date(rng, &registered);
        let net = Net {
            range,
            registry: p.registry,
            parent: Some(parent),
            depth: p.depth + 1,
            kind,
            handle: String::new(),
            name,
            cc: p.cc.clone(),
            registered,
            changed,
            holder,
            filled: false,
            record: None,
        };
        let idx = self.nets.len() as u32;
        self.nets.push(net);
        idx
    }

    /// Draws the children of `parent` (recursively), in address order.
    fn carve(&mut self, parent: u32, rng: &mut SplitMix64) {
        let p = self.nets[parent as usize].clone();
        let size = p.range.len();
        if size < 16 || p.depth >= 3 || self.density <= 0.0 {
            return;
        }
        let big = matches!(
            p.registry,
            Registry::Arin | Registry::Ripe | Registry::Apnic
        );
        let lacnic = p.registry == Registry::Lacnic;
        let end = u64::from(p.range.end);
        let mut cur = u64::from(p.range.start);

        // Runs of small customer reassignments, often from the first address.
        if p.depth == 0 && big && size >= 1024 && !matches!(p.kind, Kind::Assignment) {
            let scale = (size as f64 / 1024.0).log2();
            let p_run = ((0.2 + 0.08 * scale) * self.density).min(0.95);
            if rng.chance(p_run) {
                if !rng.chance(0.7) {
                    cur += (rng.range(0, (size / 4) / 256) * 256).min(size / 2);
                }
                let max_n = (size / 64).clamp(2, 400);
                let n = ((rng.range(10, 300) as f64) * self.density.sqrt()).round() as u64;
                let n = n.clamp(2, max_n);
                let base_len = 29 - rng.range(0, 3) as u8; // /29../26
                for _ in 0..n {
                    let len = if rng.chance(0.2) {
                        29 - rng.range(0, 3) as u8
                    } else {
                        base_len
                    };
                    let bs = 1u64 << (32 - u32::from(len));
                    cur = cur.div_ceil(bs) * bs;
                    if cur + bs - 1 > end || bs >= size {
                        break;
                    }
                    let r = Range::new(cur as u32, (cur + bs - 1) as u32).unwrap_or(p.range);
                    self.child(parent, r, Kind::Reassignment, rng);
                    cur += bs;
                    if rng.chance(0.05) {
                        cur += bs * rng.range(1, 4);
                    }
                }
            }
        }

        // Scattered children: aligned, unaligned, tiny; some with grandchildren.
        let per_addr = match (big, p.depth) {
            (true, 0) => 3000.0,
            (true, _) => 6000.0,
            (false, 0) => 12000.0,
            (false, _) => 24000.0,
        };
        let expected = size as f64 / per_addr * self.density;
        if expected <= 0.0 {
            return;
        }
        let mean_gap = (size as f64 / expected.max(0.05)).max(8.0);
        loop {
            let gap = (-rng.unit().max(1e-12).ln() * mean_gap) as u64;
            cur = cur.saturating_add(gap);
            if cur > end {
                break;
            }
            let roll = rng.unit();
            let (s, n, kind) = if roll < 0.4 || lacnic {
                // CIDR-aligned, an 1/4 .. 1/256 of the parent, /28 at the smallest.
                let plen = 32 - (size.ilog2());
                let len = (plen + rng.range(2, 8) as u32).min(28);
                let bs = 1u64 << (32 - len);
                let s = cur.div_ceil(bs) * bs;
                if s + bs - 1 > end {
                    break;
                }
                (s, bs, Kind::SubAllocation)
            } else if roll < 0.65 {
                // Not CIDR-aligned: a few /24s from any /24, or an odd count.
                let s = cur.div_ceil(256) * 256;
                let n = if size >= 4096 {
                    [3, 5, 6, 7, 9, 12][rng.range(0, 5) as usize] * 256
                } else {
                    rng.range(3, (size / 4).max(3))
                };
                (s, n, Kind::SubAllocation)
            } else if roll < 0.85 {
                // Tiny: 1-16 addresses anywhere.
                (cur, rng.range(1, 16), Kind::Reassignment)
            } else {
                let len = rng.range(24, 29) as u32;
                let bs = 1u64 << (32 - len);
                (cur.div_ceil(bs) * bs, bs, Kind::Reassignment)
            };
            let Some(r) = child_range(s, n, end, size) else {
                cur += 256;
                continue;
            };
            let idx = self.child(parent, r, kind, rng);
            if kind == Kind::SubAllocation && r.len() >= 64 && rng.chance(0.35) {
                self.carve(idx, rng);
            }
            cur = u64::from(r.end) + 1;
        }
    }
}

/// The holder number of a delegated record: its opaque id hashed, else its start.
pub(crate) fn holder_number(holder_id: Option<&str>, start: u32) -> u64 {
    holder_id.map_or(u64::from(start), |h| {
        ipcrawl_core::rng::hash_bytes(0, h.as_bytes())
    })
}

/// The name of a top-level network of country `cc` and holder number `holder`.
pub(crate) fn top_name(cc: Option<&str>, holder: u64) -> String {
    let word = WORDS[(holder % WORDS.len() as u64) as usize];
    format!("{}-{}-{}", cc.unwrap_or("EU"), word, holder % 1000 + 1)
}

/// A top-level network's kind from its status and registration date.
pub(crate) fn top_kind(status: Status, registered: &str, registry: Registry) -> Kind {
    let year: u32 = registered
        .get(..4)
        .and_then(|y| y.parse().ok())
        .unwrap_or(2000);
    if year < 1994 && registry != Registry::Afrinic {
        Kind::Legacy
    } else if status == Status::Assigned {
        Kind::Assignment
    } else {
        Kind::Allocation
    }
}

/// The networks [`Model::build`] draws for one delegated record: the
/// top-level network first, then its nested ones in pre-order (parent
/// indices relative to the returned list), with their handles.
pub(crate) fn generate_block(d: &Delegation, seed: u64, params: GenParams) -> Vec<Net> {
    let mut g = Gen {
        nets: Vec::new(),
        density: params.density.max(0.0),
        seed,
    };
    g.top(d, &Bootstrap::default());
    let mut nets = g.nets;
    assign_handles(&mut nets);
    nets
}

/// `n` addresses from `s`, if they fit in the parent and are smaller than it.
fn child_range(s: u64, n: u64, end: u64, size: u64) -> Option<Range> {
    if n == 0 || n >= size || s + n - 1 > end {
        return None;
    }
    Range::new(s as u32, (s + n - 1) as u32)
}

fn fake_date(rng: &mut SplitMix64, from: u64) -> String {
    format!(
        "{}-{:02}-{:02}",
        rng.range(from, 2024),
        rng.range(1, 12),
        rng.range(1, 28)
    )
}

fn later_date(rng: &mut SplitMix64, after: &str) -> String {
    let y: u64 = after.get(..4).and_then(|y| y.parse().ok()).unwrap_or(2000);
    fake_date(rng, (y + 1).min(2025))
}

/// Gives every network its registry-style handle.
pub(crate) fn assign_handles(nets: &mut [Net]) {
    let mut prev_start = None;
    let mut same_start = 0u32;
    for net in nets.iter_mut() {
        let r = net.range;
        if prev_start == Some(r.start) {
            same_start += 1;
        } else {
            same_start = 1;
            prev_start = Some(r.start);
        }
        net.handle = match net.registry {
            Registry::Arin => {
                let [a, bb, c, d] = r.start.to_be_bytes();
                format!("NET-{a}-{bb}-{c}-{d}-{same_start}")
            }
            Registry::Lacnic => r.as_cidr().unwrap_or_else(|| r.to_cidrs()[0]).to_string(),
            _ => r.to_string(),
        };
    }
}

/// Sets [`Net::filled`]: in pre-order a parent's children come in address
/// order, so one pass with a cursor per parent finds every gap.
pub(crate) fn mark_filled(nets: &mut [Net]) {
    let mut cursor: Vec<u64> = nets.iter().map(|n| u64::from(n.range.start)).collect();
    let mut gap = vec![false; nets.len()];
    let mut parent_of = vec![false; nets.len()];
    for n in nets.iter() {
        if let Some(p) = n.parent {
            let p = p as usize;
            parent_of[p] = true;
            gap[p] |= u64::from(n.range.start) > cursor[p];
            cursor[p] = u64::from(n.range.end) + 1;
        }
    }
    for (i, n) in nets.iter_mut().enumerate() {
        n.filled = parent_of[i] && !gap[i] && cursor[i] > u64::from(n.range.end);
    }
}
