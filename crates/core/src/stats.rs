//! The crawl's standing, as `ipcrawl stats` shows it: counters, seed
//! accounting (done, failed, pending), stored networks, gaps, failures, and
//! the lookups no server answered, by registry and cause.
//!
//! Seed accounting is interval algebra over what the store holds: a seed is
//! *done* when a stored network or a probed gap covers it, *failed* when a
//! standing failure's stretch covers it and nothing resolved it since, and
//! *pending* otherwise.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::crawl::telemetry::{snapshot_from_map, Snapshot, TransportCount};
use crate::import::{self, DumpNote, FileNote};
use crate::prefix::Range;
use crate::rdap::Registry;
use crate::seeds::SeedPlan;
use crate::store::{self, Failure, GapKind, Store};
use crate::trie::IntervalSet;

/// Seeds by state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SeedCounts {
    /// Seeds in the plan.
    pub total: u64,
    /// Covered by a stored network or a probed gap.
    pub done: u64,
    /// Covered by a standing failure only (retried by the next crawl).
    pub failed: u64,
    /// Covered by a permanent refusal only (an answer refused for good,
    /// not asked again).
    pub refused: u64,
    /// Neither: still to be asked.
    pub pending: u64,
}

/// Gaps by kind.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct GapCounts {
    /// Stretches a 404 answered.
    pub not_found: u64,
    /// Stretches a placeholder answered.
    pub placeholder: u64,
}

/// Everything `ipcrawl stats` reports.
#[derive(Clone, Debug)]
pub struct StatsReport {
    /// The stored counters.
    pub counters: Snapshot,
    /// Seeds by state.
    pub seeds: SeedCounts,
    /// Stored non-placeholder networks.
    pub networks: u64,
    /// Stored placeholders.
    pub placeholders: u64,
    /// Gaps by kind.
    pub gaps: GapCounts,
    /// The standing failures (retried by the next crawl).
    pub failures: Vec<Failure>,
    /// The permanent refusals (answers refused for good, not asked again).
    pub refused: Vec<Failure>,
    /// Lookups no server answered (all runs), by registry and cause,
    /// nonzero ones only.
    pub transport: Vec<TransportCount>,
    /// Where each registry's stored networks came from, and how old they are.
    pub sources: Vec<Source>,
    /// The imported dumps, per registry (`ipcrawl import`).
    pub dumps: Vec<(Registry, DumpNote)>,
    /// The imported files by name, as their latest import found them.
    pub import_files: BTreeMap<String, FileNote>,
}

/// One registry's networks from one kind of source.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Source {
    /// Whose.
    pub registry: Registry,
    /// From a bulk dump (`source_url` `dump:…`), else an RDAP answer.
    pub dump: bool,
    /// Networks (placeholders not included).
    pub networks: u64,
    /// The oldest `fetched_at`.
    pub oldest: String,
    /// The newest `fetched_at`.
    pub newest: String,
}

impl StatsReport {
    /// Skipped dump objects per reason, over every imported file.
    pub fn import_skipped(&self) -> BTreeMap<String, u64> {
        let mut m = BTreeMap::new();
        for f in self.import_files.values() {
            for (k, n) in &f.skipped {
                *m.entry(k.clone()).or_insert(0) += n;
            }
        }
        m
    }
}

/// Counts the stored networks by registry and source, with their ages.
pub fn sources(store: &Store) -> Result<Vec<Source>, store::Error> {
    let mut m: BTreeMap<(Registry, bool), Source> = BTreeMap::new();
    store
        .for_each_record(false, |r| {
            let dump = r.source_url.starts_with("dump:");
            let s = m.entry((r.registry, dump)).or_insert_with(|| Source {
                registry: r.registry,
                dump,
                networks: 0,
                oldest: r.fetched_at.clone(),
                newest: r.fetched_at.clone(),
            });
            s.networks += 1;
            if r.fetched_at < s.oldest {
                s.oldest.clone_from(&r.fetched_at);
            }
            if r.fetched_at > s.newest {
                s.newest.clone_from(&r.fetched_at);
            }
            Ok(())
        })
        .map_err(|e| match e.downcast::<store::Error>() {
            Ok(e) => *e,
            Err(e) => store::Error::Db {
                table: "networks",
                message: e.to_string(),
            },
        })?;
    Ok(m.into_values().collect())
}

/// Reads the report from the store.
pub fn report(store: &Store) -> Result<StatsReport, store::Error> {
    let counters = snapshot_from_map(&store.counters()?);
    let transport = counters.transport_failures();
    let plan = store.load_plan()?;
    let known = store.load_known()?;
    let gaps = store.gaps()?;
    let all = store.failures()?;
    let (networks, placeholders) = store.counts()?;
    let seeds = seed_counts(plan.as_ref(), &known, &gaps, &all);
    let (refused, failures) = all.into_iter().partition(|f| f.permanent);
    Ok(StatsReport {
        counters,
        seeds,
        networks,
        placeholders,
        gaps: gap_counts(&gaps),
        failures,
        refused,
        transport,
        sources: sources(store)?,
        dumps: import::stored_dumps(store)?,
        import_files: import::stored_files(store)?,
    })
}

/// The seed accounting behind [`report`] (pure): `known` networks, `gaps`
/// and `failures` against `plan`'s seeds (all zero without a plan).
pub fn seed_counts(
    plan: Option<&SeedPlan>,
    known: &IntervalSet,
    gaps: &[(Range, GapKind, Registry)],
    failures: &[Failure],
) -> SeedCounts {
    let Some(p) = plan else {
        return SeedCounts::default();
    };
    let resolved = known.union(&IntervalSet::from_ranges(gaps.iter().map(|(r, _, _)| *r)));
    let stretches = |permanent: bool| {
        IntervalSet::from_ranges(
            failures
                .iter()
                .filter(|f| f.permanent == permanent)
                .filter_map(|f| Range::new(f.addr, f.end.max(f.addr))),
        )
    };
    let failed_set = stretches(false).subtract(&resolved);
    let refused_set = stretches(true).subtract(&resolved).subtract(&failed_set);
    let count =
        |set: &IntervalSet| -> u64 { set.ranges().iter().map(|r| p.seeds.count_in(*r)).sum() };
    let total = p.seeds.len();
    let done = count(&resolved);
    let failed = count(&failed_set);
    let refused = count(&refused_set);
    SeedCounts {
        total,
        done,
        failed,
        refused,
        pending: total.saturating_sub(done + failed + refused),
    }
}

/// Gaps by kind.
pub fn gap_counts(gaps: &[(Range, GapKind, Registry)]) -> GapCounts {
    let of = |k: GapKind| gaps.iter().filter(|(_, kind, _)| *kind == k).count() as u64;
    GapCounts {
        not_found: of(GapKind::NotFound),
        placeholder: of(GapKind::Placeholder),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prefix::parse_range_lenient;

    fn r(s: &str) -> Range {
        parse_range_lenient(s).unwrap()
    }

    fn failure(range: &str) -> Failure {
        let r = r(range);
        Failure {
            addr: r.start,
            end: r.end,
            registry: Registry::Ripe,
            reason: "HTTP 503".into(),
            attempts: 5,
            at: "2026-11-27T13:38:10Z".into(),
            permanent: false,
        }
    }

    #[test]
    fn seeds_are_done_failed_or_pending() {
        // 16 seeds: 11.0.0.0 ... 11.0.15.0.
        let plan = crate::seeds::grid(&["11.0.0.0/20".parse().unwrap()], 24).unwrap();
        let known = IntervalSet::from_ranges([r("11.0.0.0/22")]);
        let gaps = [
            (r("11.0.4.0/24"), GapKind::NotFound, Registry::Ripe),
            (r("11.0.5.0/24"), GapKind::Placeholder, Registry::Ripe),
        ];
        // A failure over 11.0.6-7, and one the known network resolved
        // since; a permanent refusal over 11.0.8.
        let refusal = Failure {
            permanent: true,
            ..failure("11.0.8.0/24")
        };
        let failures = [
            failure("11.0.6.0 - 11.0.7.255"),
            failure("11.0.1.0/24"),
            refusal,
        ];
        let c = seed_counts(Some(&plan), &known, &gaps, &failures);
        assert_eq!(
            c,
            SeedCounts {
                total: 16,
                done: 6,
                failed: 2,
                refused: 1,
                pending: 7
            }
        );
        assert_eq!(
            gap_counts(&gaps),
            GapCounts {
                not_found: 1,
                placeholder: 1
            }
        );
    }

    #[test]
    fn no_plan_counts_nothing() {
        let known = IntervalSet::from_ranges([r("11.0.0.0/22")]);
        let c = seed_counts(None, &known, &[], &[failure("11.0.6.0/24")]);
        assert_eq!(c, SeedCounts::default());
    }

    #[test]
    fn a_failure_with_its_end_before_its_address_counts_its_address() {
        let plan = crate::seeds::grid(&["11.0.0.0/22".parse().unwrap()], 24).unwrap();
        let mut f = failure("11.0.2.0/24");
        f.end = 0;
        let c = seed_counts(Some(&plan), &IntervalSet::new(), &[], &[f]);
        assert_eq!((c.failed, c.pending), (1, 3));
    }
}
