//! Ground truth: every real network, the union of covered addresses inside the
//! scope, and the query count of an oracle that sweeps each scope range in
//! address order (query; on a network jump to its end + 1; on a placeholder or a
//! 404 step to the next /24).
//!
//! JSON shape (`WorldHandle::write_truth`):
//! ```text
//! { "seed": 1, "density": 1.0,
//!   "scope": [["1.0.0.0", "1.255.255.255"], ...],
//!   "networks": [{"registry": "apnic", "handle": "1.0.0.0 - 1.0.0.255",
//!                 "start": "1.0.0.0", "end": "1.0.0.255", "depth": 0,
//!                 "parent": null, "transfer": false}, ...],
//!   "covered": {"addresses": N, "ranges": [["1.0.0.0", "1.0.0.255"], ...]},
//!   "by_registry": {"apnic": {"networks": N, "top_level": N, "with_children": N,
//!                             "addresses": N, "search": false}, ...},
//!   "oracle": {"queries": N, "redirects": N, "networks": N, "gaps": N,
//!              "by_registry": {"apnic": N, ...}},
//!   "overlaps_dropped": N,
//!   "epoch": 2, "date": "2028-08-21",
//!   "epochs": [{"epoch": 1, "date": "2027-08-21",
//!               "blocks": [{"change": "transferred", "start": "1.178.16.0",
//!                           "end": "1.178.19.255", "date": "2027-03-02",
//!                           "registry_before": "arin", "registry_after": "ripe",
//!                           "holder_before": {"id": null, "name": "US-NET-5"},
//!                           "holder_after": {"id": "…", "name": "US-CLOUD-7"}}, ...],
//!               "added": [version, ...], "removed": [version, ...],
//!               "changed": [{"before": version, "after": version}, ...]}, ...] }
//! ```
//! A `version` is `{"registry", "handle", "start", "end", "depth", "parent",
//! "name", "type", "country", "registration", "last_changed"}`. `epochs`
//! lists, per year since epoch 0, the blocks whose delegated record changed
//! ([`crate::epoch::ChangeKind`]: `new`, `returned`, `transferred`,
//! `renamed`, `reassigned`) and the networks added, removed and changed
//! relative to the year before (a network is its range: a transferred one
//! is `changed`, with its old registry and handle in `before`).
//! `networks[].parent` is the parent's handle; `transfer` is true when the
//! holder differs from the /8's bootstrap registry. `by_registry.*.addresses`
//! and `oracle.by_registry` attribute to the registry holding the network (or,
//! for gaps, the /8's registry).

use std::collections::BTreeMap;

use serde::Serialize;

use ipcrawl_core::prefix::{fmt_addr, Range};
use ipcrawl_core::rdap::Registry;

use super::epoch::{epoch_date, BlockChange, EpochLog, NetVersion};
use super::model::Model;

/// One real network.
#[derive(Clone, Debug, Serialize)]
pub struct TruthNet {
    /// Holder registry name.
    pub registry: Registry,
    /// Handle as served.
    pub handle: String,
    /// First address.
    pub start: String,
    /// Last address.
    pub end: String,
    /// 0 = top-level.
    pub depth: u8,
    /// The parent's handle.
    pub parent: Option<String>,
    /// Held by another registry than the /8's.
    pub transfer: bool,
}

/// Covered addresses.
#[derive(Clone, Debug, Serialize)]
pub struct Covered {
    /// How many addresses (inside the scope).
    pub addresses: u64,
    /// The union as sorted disjoint ranges.
    pub ranges: Vec<[String; 2]>,
}

/// Per-registry figures. A search crawl's goal metric is its requests per
/// top-level network; `with_children` counts the networks an `rdap-down`
/// walk must ask about.
#[derive(Clone, Debug, Default, Serialize)]
pub struct RegTruth {
    /// Networks held.
    pub networks: u64,
    /// Top-level networks held.
    pub top_level: u64,
    /// Networks held that have at least one child.
    pub with_children: u64,
    /// Covered addresses inside the scope.
    pub addresses: u64,
    /// Whether the registry's server answers RFC 9910 RIR search.
    pub search: bool,
}

/// The oracle sweep.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Oracle {
    /// Lookups (one per address asked).
    pub queries: u64,
    /// Of those, how many start with a 301 (transfers).
    pub redirects: u64,
    /// Lookups answered with a real network.
    pub networks: u64,
    /// Lookups answered with a placeholder or 404.
    pub gaps: u64,
    /// Lookups by the registry that finally answered.
    pub by_registry: BTreeMap<String, u64>,
}

/// The ground truth of a world.
#[derive(Clone, Debug, Serialize)]
pub struct Truth {
    /// World seed.
    pub seed: u64,
    /// Density knob.
    pub density: f64,
    /// Scope ranges (non-reserved, routed).
    pub scope: Vec<[String; 2]>,
    /// Every real network, in address order (parents first).
    pub networks: Vec<TruthNet>,
    /// Covered addresses inside the scope.
    pub covered: Covered,
    /// Per registry.
    pub by_registry: BTreeMap<String, RegTruth>,
    /// The oracle sweep.
    pub oracle: Oracle,
    /// Delegations left out because they overlapped an earlier one.
    pub overlaps_dropped: usize,
    /// Years the world was aged (0 = as built).
    pub epoch: u32,
    /// The world's date, `YYYY-MM-DD` (the date of its statistics).
    pub date: String,
    /// What each year changed, oldest first.
    pub epochs: Vec<EpochTruth>,
}

/// A network as it was in some epoch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Version {
    /// Holder registry.
    pub registry: Registry,
    /// Handle as served.
    pub handle: String,
    /// First address.
    pub start: String,
    /// Last address.
    pub end: String,
    /// 0 = top-level.
    pub depth: u8,
    /// The parent's handle.
    pub parent: Option<String>,
    /// Network name.
    pub name: String,
    /// The `type` its registry gives it.
    #[serde(rename = "type")]
    pub net_type: String,
    /// Country.
    pub country: Option<String>,
    /// Registration date.
    pub registration: String,
    /// Last-changed date.
    pub last_changed: String,
}

/// A holder: opaque id (as in the statistics) and the network name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Holder {
    /// The opaque id (`None` where the statistics have none).
    pub id: Option<String>,
    /// The top-level network's name.
    pub name: String,
}

/// One changed block.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BlockTruth {
    /// `new`, `returned`, `transferred`, `renamed` or `reassigned`.
    pub change: &'static str,
    /// First address.
    pub start: String,
    /// Last address.
    pub end: String,
    /// The date of the change.
    pub date: String,
    /// Holder registry before (null for a new block).
    pub registry_before: Option<Registry>,
    /// Holder registry after (null for a returned block).
    pub registry_after: Option<Registry>,
    /// Holder before.
    pub holder_before: Option<Holder>,
    /// Holder after.
    pub holder_after: Option<Holder>,
}

/// A before/after pair.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Changed {
    /// At epoch − 1.
    pub before: Version,
    /// At this epoch.
    pub after: Version,
}

/// What one year changed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EpochTruth {
    /// The epoch the year ends in.
    pub epoch: u32,
    /// Its date.
    pub date: String,
    /// Blocks whose delegated record changed.
    pub blocks: Vec<BlockTruth>,
    /// Networks that are new.
    pub added: Vec<Version>,
    /// Networks that are gone.
    pub removed: Vec<Version>,
    /// Networks that changed.
    pub changed: Vec<Changed>,
}

impl Version {
    fn of(v: &NetVersion) -> Version {
        Version {
            registry: v.registry,
            handle: v.handle.clone(),
            start: fmt_addr(v.range.start),
            end: fmt_addr(v.range.end),
            depth: v.depth,
            parent: v.parent.clone(),
            name: v.name.clone(),
            net_type: super::render::net_type(v.registry, v.kind).to_string(),
            country: v.cc.clone(),
            registration: v.registered.clone(),
            last_changed: v.changed.clone(),
        }
    }
}

fn holder(h: Option<&(Option<String>, String)>) -> Option<Holder> {
    h.map(|(id, name)| Holder {
        id: id.clone(),
        name: name.clone(),
    })
}

impl BlockTruth {
    fn of(b: &BlockChange) -> BlockTruth {
        BlockTruth {
            change: b.kind.name(),
            start: fmt_addr(b.range.start),
            end: fmt_addr(b.range.end),
            date: b.date.clone(),
            registry_before: b.registry_before,
            registry_after: b.registry_after,
            holder_before: holder(b.holder_before.as_ref()),
            holder_after: holder(b.holder_after.as_ref()),
        }
    }
}

impl EpochTruth {
    /// The truth of one year's log.
    pub fn of(log: &EpochLog) -> EpochTruth {
        EpochTruth {
            epoch: log.epoch,
            date: log.date.clone(),
            blocks: log.blocks.iter().map(BlockTruth::of).collect(),
            added: log.added.iter().map(Version::of).collect(),
            removed: log.removed.iter().map(Version::of).collect(),
            changed: log
                .changed
                .iter()
                .map(|(a, b)| Changed {
                    before: Version::of(a),
                    after: Version::of(b),
                })
                .collect(),
        }
    }
}

fn pair(r: Range) -> [String; 2] {
    [fmt_addr(r.start), fmt_addr(r.end)]
}

impl Truth {
    /// Computes the truth of `model`; `search` says which registries serve
    /// RIR search (by [`Registry::index`]).
    pub fn compute(model: &Model, seed: u64, density: f64, search: [bool; 5]) -> Truth {
        let mut by_registry: BTreeMap<String, RegTruth> = Registry::ALL
            .iter()
            .map(|r| {
                let t = RegTruth {
                    search: search[r.index()],
                    ..RegTruth::default()
                };
                (r.name().to_string(), t)
            })
            .collect();
        let mut parents = vec![false; model.nets.len()];
        for n in &model.nets {
            if let Some(p) = n.parent {
                parents[p as usize] = true;
            }
        }
        let mut networks = Vec::with_capacity(model.nets.len());
        let mut tops: Vec<(Range, Registry)> = Vec::new();
        for (n, &parent) in model.nets.iter().zip(&parents) {
            let e = by_registry
                .entry(n.registry.name().to_string())
                .or_default();
            e.networks += 1;
            e.with_children += u64::from(parent);
            if n.depth == 0 {
                e.top_level += 1;
                tops.push((n.range, n.registry));
            }
            networks.push(TruthNet {
                registry: n.registry,
                handle: n.handle.clone(),
                start: fmt_addr(n.range.start),
                end: fmt_addr(n.range.end),
                depth: n.depth,
                parent: n.parent.map(|p| model.nets[p as usize].handle.clone()),
                transfer: model.bootstrap.registry(n.range.start) != Some(n.registry),
            });
        }
        // Top-level networks are disjoint and sorted: clip each to the scope.
        let mut covered: Vec<Range> = Vec::new();
        let mut total = 0;
        for (r, reg) in &tops {
            for s in &model.scope {
                if let Some(x) = r.intersect(s) {
                    total += x.len();
                    if let Some(e) = by_registry.get_mut(reg.name()) {
                        e.addresses += x.len();
                    }
                    match covered.last_mut() {
                        Some(last) if u64::from(last.end) + 1 == u64::from(x.start) => {
                            last.end = x.end;
                        }
                        _ => covered.push(x),
                    }
                }
            }
        }
        Truth {
            seed,
            density,
            scope: model.scope.iter().map(|r| pair(*r)).collect(),
            networks,
            covered: Covered {
                addresses: total,
                ranges: covered.into_iter().map(pair).collect(),
            },
            by_registry,
            oracle: oracle(model),
            overlaps_dropped: model.overlaps_dropped,
            epoch: model.epoch,
            date: epoch_date(model.epoch),
            epochs: model.history.iter().map(EpochTruth::of).collect(),
        }
    }
}

/// The address-order sweep of every scope range.
pub fn oracle(model: &Model) -> Oracle {
    let mut o = Oracle::default();
    for s in &model.scope {
        let mut x = u64::from(s.start);
        let end = u64::from(s.end);
        while x <= end {
            let a = x as u32;
            o.queries += 1;
            let owner = model.bootstrap.registry(a);
            if let Some(i) = model.deepest(a) {
                let n = &model.nets[i as usize];
                o.networks += 1;
                if owner != Some(n.registry) {
                    o.redirects += 1;
                }
                *o.by_registry.entry(n.registry.name().into()).or_default() += 1;
                x = u64::from(n.range.end) + 1;
            } else {
                o.gaps += 1;
                if let Some(r) = owner {
                    *o.by_registry.entry(r.name().into()).or_default() += 1;
                }
                x = (x | 0xFF) + 1;
            }
        }
    }
    o
}
