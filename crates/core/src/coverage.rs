//! How much of the non-reserved space the stored networks cover.
//!
//! `addresses` is the size of the *union* of all stored non-placeholder
//! networks intersected with the non-reserved space — nested networks are
//! never counted twice (the 2016 system summed CIDRs and over-counted).
//! `cidrs` counts the distinct blocks of the networks' exact CIDR
//! decompositions.

use std::collections::BTreeMap;

use rayon::prelude::*;
use serde::Serialize;

use crate::prefix::{self, Range, NON_RESERVED_TOTAL};
use crate::rdap::Registry;
use crate::store::{self, GapKind, Store};
use crate::trie::IntervalSet;

/// One registry's share.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct RegCoverage {
    /// Stored non-placeholder networks given by this registry.
    pub networks: u64,
    /// Distinct non-reserved addresses they cover.
    pub addresses: u64,
    /// `addresses` as a percentage of the non-reserved space.
    pub percent: f64,
    /// Where the registry's latest imported bulk dump stands (absent
    /// without one): the rest of `addresses` came from RDAP answers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dump: Option<DumpShare>,
}

/// The part of a registry's coverage that lies in the space its latest
/// imported bulk dump covers (`ipcrawl import`): every network at every
/// level there was stored from the dump, or from an RDAP answer newer than it.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct DumpShare {
    /// The dump's date (RFC 3339).
    pub date: String,
    /// Of the registry's covered addresses, those inside the dump's space.
    pub addresses: u64,
    /// `addresses` as a percentage of the non-reserved space.
    pub percent: f64,
}

/// A registry's imported dump, as [`compute`] takes it: its date and the
/// space it covers.
#[derive(Clone, Debug)]
pub struct Dumped {
    /// The registry.
    pub registry: Registry,
    /// The dump's date.
    pub date: String,
    /// The space its non-placeholder inetnums cover.
    pub space: IntervalSet,
}

/// The `coverage --json` object.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Coverage {
    /// Stored non-placeholder networks (the records `export` writes).
    pub networks: u64,
    /// Distinct CIDR blocks of their exact decompositions.
    pub cidrs: u64,
    /// Distinct covered addresses inside the non-reserved space.
    pub addresses: u64,
    /// 3,702,258,432.
    pub non_reserved: u64,
    /// `addresses / non_reserved × 100`.
    pub percent: f64,
    /// Per registry, keyed `arin`, `ripe`, `apnic`, `lacnic`, `afrinic`.
    pub by_registry: BTreeMap<String, RegCoverage>,
    /// Placeholder answers stored (never counted as coverage).
    pub placeholders: u64,
    /// Non-reserved addresses probed and found empty (404 or placeholder), not covered.
    pub gap_addresses: u64,
    /// Lookups that failed for good and still stand (to be retried; not
    /// the permanent refusals).
    pub failures: u64,
}

/// Computes the report from the networks' keys alone (no JSON decoding).
pub fn report(store: &Store) -> Result<Coverage, store::Error> {
    let keys = store.network_keys()?;
    let (_, placeholders) = store.counts()?;
    let gaps = store.gaps()?;
    let failures = store.failures()?.iter().filter(|f| !f.permanent).count() as u64;
    let mut dumps = Vec::new();
    for (registry, note) in crate::import::stored_dumps(store)? {
        dumps.push(Dumped {
            registry,
            date: note.date,
            space: store.load_dumped_of(registry)?,
        });
    }
    Ok(compute(&keys, placeholders, &gaps, failures, &dumps))
}

/// The pure computation behind [`report`].
pub fn compute(
    keys: &[(Range, Registry)],
    placeholders: u64,
    gaps: &[(Range, GapKind, Registry)],
    failures: u64,
    dumps: &[Dumped],
) -> Coverage {
    let nr = IntervalSet::from_ranges(prefix::non_reserved());
    let all = IntervalSet::from_ranges(keys.iter().map(|(r, _)| *r)).intersect(&nr);
    let addresses = all.address_count();
    let mut blocks: Vec<u64> = keys
        .par_iter()
        .flat_map_iter(|(r, _)| {
            r.to_cidrs()
                .into_iter()
                .map(|c| (u64::from(c.addr()) << 8) | u64::from(c.len()))
        })
        .collect();
    blocks.par_sort_unstable();
    blocks.dedup();
    let by_registry = Registry::ALL
        .par_iter()
        .map(|&reg| {
            let mine: Vec<Range> = keys
                .iter()
                .filter(|(_, r)| *r == reg)
                .map(|(r, _)| *r)
                .collect();
            let covered = IntervalSet::from_ranges(mine.iter().copied()).intersect(&nr);
            let addrs = covered.address_count();
            let dump = dumps.iter().find(|d| d.registry == reg).map(|d| {
                let inside = covered.intersect(&d.space).address_count();
                DumpShare {
                    date: d.date.clone(),
                    addresses: inside,
                    percent: pct(inside),
                }
            });
            (
                reg.name().to_string(),
                RegCoverage {
                    networks: mine.len() as u64,
                    addresses: addrs,
                    percent: pct(addrs),
                    dump,
                },
            )
        })
        .collect();
    let gap_addresses = IntervalSet::from_ranges(gaps.iter().map(|(r, _, _)| *r))
        .intersect(&nr)
        .subtract(&all)
        .address_count();
    Coverage {
        networks: keys.len() as u64,
        cidrs: blocks.len() as u64,
        addresses,
        non_reserved: NON_RESERVED_TOTAL,
        percent: pct(addresses),
        by_registry,
        placeholders,
        gap_addresses,
        failures,
    }
}

fn pct(n: u64) -> f64 {
    // Rounded to 4 decimals so JSON stays readable and stable.
    (n as f64 * 100.0 / NON_RESERVED_TOTAL as f64 * 10_000.0).round() / 10_000.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prefix::parse_addr_lenient;

    fn r(a: &str, b: &str) -> Range {
        Range::new(
            parse_addr_lenient(a).unwrap(),
            parse_addr_lenient(b).unwrap(),
        )
        .unwrap()
    }

    #[test]
    fn nested_networks_count_once_and_reserved_space_never() {
        let keys = vec![
            (r("8.0.0.0", "8.255.255.255"), Registry::Arin),
            (r("8.8.8.0", "8.8.8.255"), Registry::Arin),
            // Half reserved: 10/8 is not counted.
            (r("9.0.0.0", "10.255.255.255"), Registry::Arin),
            (r("13.64.0.0", "13.107.255.255"), Registry::Arin),
            (r("193.0.0.0", "193.0.7.255"), Registry::Ripe),
        ];
        let c = compute(&keys, 2, &[], 1, &[]);
        assert_eq!(c.networks, 5);
        // 8/8 + 9/8 (10/8 is reserved) + 44 /16s + a /21; 8.8.8.0/24 is nested.
        assert_eq!(c.addresses, 2 * (1 << 24) + 44 * 65536 + 2048);
        assert_eq!(c.by_registry["ripe"].addresses, 2048);
        assert_eq!(c.by_registry["ripe"].networks, 1);
        // 8/8; 8.8.8.0/24; 9/8 + 10/8; three for 13.64–13.107; 193.0.0.0/21.
        assert_eq!(c.cidrs, 1 + 1 + 2 + 3 + 1);
        assert_eq!(c.non_reserved, NON_RESERVED_TOTAL);
        assert_eq!(c.placeholders, 2);
        assert_eq!(c.by_registry["ripe"].dump, None);
    }

    #[test]
    fn a_dumps_share_is_the_registrys_coverage_inside_its_space() {
        let keys = vec![
            (r("193.0.0.0", "193.0.7.255"), Registry::Ripe),
            (r("193.0.0.0", "193.0.0.255"), Registry::Ripe),
            (r("194.0.0.0", "194.0.0.255"), Registry::Ripe),
            (r("8.0.0.0", "8.0.0.255"), Registry::Arin),
        ];
        let dumps = [Dumped {
            registry: Registry::Ripe,
            date: "2026-11-30T00:00:00Z".into(),
            // The dump covers 193.0.0.0/22 and 8/8 (another registry's
            // networks there are not its share).
            space: IntervalSet::from_ranges([
                r("193.0.0.0", "193.0.3.255"),
                r("8.0.0.0", "8.255.255.255"),
            ]),
        }];
        let c = compute(&keys, 0, &[], 0, &dumps);
        let ripe = &c.by_registry["ripe"];
        assert_eq!(ripe.addresses, 2048 + 256);
        let share = ripe.dump.as_ref().unwrap();
        assert_eq!(share.addresses, 1024);
        assert_eq!(share.date, "2026-11-30T00:00:00Z");
        assert_eq!(c.by_registry["arin"].dump, None);
        let json = serde_json::to_value(&c).unwrap();
        assert_eq!(json["by_registry"]["ripe"]["dump"]["addresses"], 1024);
        assert!(json["by_registry"]["arin"].get("dump").is_none());
    }
}
