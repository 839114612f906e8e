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
    Ok(compute(&keys, placeholders, &gaps, failures))
}

/// The pure computation behind [`report`].
pub fn compute(
    keys: &[(Range, Registry)],
    placeholders: u64,
    gaps: &[(Range, GapKind, Registry)],
    failures: u64,
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
            let addrs = IntervalSet::from_ranges(mine.iter().copied())
                .intersect(&nr)
                .address_count();
            (
                reg.name().to_string(),
                RegCoverage {
                    networks: mine.len() as u64,
                    addresses: addrs,
                    percent: pct(addrs),
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
        let c = compute(&keys, 2, &[], 1);
        assert_eq!(c.networks, 5);
        // 8/8 + 9/8 (10/8 is reserved) + 44 /16s + a /21; 8.8.8.0/24 is nested.
        assert_eq!(c.addresses, 2 * (1 << 24) + 44 * 65536 + 2048);
        assert_eq!(c.by_registry["ripe"].addresses, 2048);
        assert_eq!(c.by_registry["ripe"].networks, 1);
        // 8/8; 8.8.8.0/24; 9/8 + 10/8; three for 13.64–13.107; 193.0.0.0/21.
        assert_eq!(c.cidrs, 1 + 1 + 2 + 3 + 1);
        assert_eq!(c.non_reserved, NON_RESERVED_TOTAL);
        assert_eq!(c.placeholders, 2);
    }
}
