//! Crawl counters: atomics updated by the workers, read as a [`Snapshot`].
//!
//! The 2016 system's counters are kept under their names:
//! - `within_known_cidr`: seeds skipped because a known network covers them;
//! - `found_registry`: lookups routed to a registry (sweep queries dispatched);
//! - `awaiting_registry`: (live) lanes ready but waiting for their registry's
//!   rate limit or pause;
//! - `looking_up_whois`: (live) queries in flight;
//! - `got_whois`: answers stored (networks and placeholders);
//! - `failed_lookup_whois`: lookups that failed for good.
//!
//! and extended per registry: queries, answers, not_found, placeholders,
//! redirects, rate_limited, retries, failures, and what 429s cost:
//! searches, search_results, search_splits, search_fallbacks (RFC 9910
//! search), pause_429_ms, retry_after_max_s (the largest asked for), put_off (runs
//! that put the registry's remaining work off).
//! redirects, rate_limited, retries, failures, and the transport failures by
//! cause ([`Transport`]: `arin.transport.dns`, ...: lookups no server
//! answered, and why). All of these are stored with the crawl and shown by
//! `stats`.
//!
//! Two live counters are never stored: [`Telemetry::reached`], the lookups
//! of this run that some server answered (any status), which the pool's
//! offline stop rule reads; and [`Telemetry::swept`], the addresses of each
//! registry's lanes this run has swept, for the progress display's ETA.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use crate::rdap::{Exchange, Registry, Transport};

/// Per-registry counters.
#[derive(Default, Debug)]
pub struct RegCounters {
    /// HTTP lookups sent (each redirect hop is part of one lookup).
    pub queries: AtomicU64,
    /// 200 answers parsed as networks (placeholders included).
    pub answers: AtomicU64,
    /// 404 answers.
    pub not_found: AtomicU64,
    /// Placeholder answers.
    pub placeholders: AtomicU64,
    /// Redirect hops followed.
    pub redirects: AtomicU64,
    /// 429 answers and rate-limit notices.
    pub rate_limited: AtomicU64,
    /// Lookups retried after a transient failure.
    pub retries: AtomicU64,
    /// Lookups that failed for good.
    pub failures: AtomicU64,
    /// Milliseconds the registry was paused by 429s.
    pub pause_429_ms: AtomicU64,
    /// The largest `Retry-After` it sent, in seconds (a maximum, not a sum).
    pub retry_after_max_s: AtomicU64,
    /// Runs that put its remaining work off (its 429 pauses passed `--max-pause`).
    pub put_off: AtomicU64,
    /// RFC 9910 result-set searches sent (`rdap-down`, `rdap-bottom`).
    pub searches: AtomicU64,
    /// Networks received in search results.
    pub search_results: AtomicU64,
    /// Search keys split (a set refused as too large, or cut).
    pub search_splits: AtomicU64,
    /// Search keys left to the address sweep.
    pub search_fallbacks: AtomicU64,
    /// Lookups no server answered, by cause (in [`Transport::ALL`] order).
    pub transport: [AtomicU64; 8],
}

/// All counters of a crawl, cumulative across runs of the same DB.
#[derive(Default, Debug)]
pub struct Telemetry {
    /// See the module docs.
    pub within_known_cidr: AtomicU64,
    /// See the module docs.
    pub found_registry: AtomicU64,
    /// See the module docs.
    pub got_whois: AtomicU64,
    /// See the module docs.
    pub failed_lookup_whois: AtomicU64,
    /// Live gauge.
    pub looking_up_whois: AtomicU64,
    /// Live gauge.
    pub awaiting_registry: AtomicU64,
    /// Parent lookups made to climb from a nested answer (coverage-first).
    pub parent_queries: AtomicU64,
    /// Per registry, in [`Registry::ALL`] order.
    pub reg: [RegCounters; 5],
    /// Live, not stored: lookups of this run that a server answered (any
    /// status; see the module docs).
    pub reached: AtomicU64,
    /// Live, not stored: addresses of each registry's lanes swept by this
    /// run, in [`Registry::ALL`] order (their sum is the pool's swept count).
    pub swept: [AtomicU64; 5],
}

/// Transport failures of one registry, by cause (in [`Transport::ALL`]
/// order); serialized as `{"dns": N, "refused": N, ...}`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TransportCounts(pub [u64; 8]);

impl TransportCounts {
    /// Failures with cause `t`.
    pub fn get(&self, t: Transport) -> u64 {
        self.0[t.index()]
    }

    /// All causes together.
    pub fn total(&self) -> u64 {
        self.0.iter().sum()
    }
}

impl Serialize for TransportCounts {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(Transport::ALL.len()))?;
        for t in Transport::ALL {
            m.serialize_entry(t.key(), &self.get(t))?;
        }
        m.end()
    }
}

/// Lookups of one registry that no server answered for one cause.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TransportCount {
    /// The registry asked (the last one, after redirects).
    pub registry: Registry,
    /// Why.
    pub cause: Transport,
    /// How many.
    pub count: u64,
}

/// A registry's counters at one instant.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct RegSnapshot {
    /// See [`RegCounters`].
    pub queries: u64,
    /// See [`RegCounters`].
    pub answers: u64,
    /// See [`RegCounters`].
    pub not_found: u64,
    /// See [`RegCounters`].
    pub placeholders: u64,
    /// See [`RegCounters`].
    pub redirects: u64,
    /// See [`RegCounters`].
    pub rate_limited: u64,
    /// See [`RegCounters`].
    pub retries: u64,
    /// See [`RegCounters`].
    pub failures: u64,
    /// See [`RegCounters`].
    pub pause_429_ms: u64,
    /// See [`RegCounters`].
    pub retry_after_max_s: u64,
    /// See [`RegCounters`].
    pub put_off: u64,
    /// See [`RegCounters`].
    pub searches: u64,
    /// See [`RegCounters`].
    pub search_results: u64,
    /// See [`RegCounters`].
    pub search_splits: u64,
    /// See [`RegCounters`].
    pub search_fallbacks: u64,
    pub transport: TransportCounts,
}

/// All counters at one instant.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Snapshot {
    /// See the module docs.
    pub within_known_cidr: u64,
    /// See the module docs.
    pub awaiting_registry: u64,
    /// See the module docs.
    pub found_registry: u64,
    /// See the module docs.
    pub looking_up_whois: u64,
    /// See the module docs.
    pub got_whois: u64,
    /// See the module docs.
    pub failed_lookup_whois: u64,
    /// Parent lookups (coverage-first climbing).
    pub parent_queries: u64,
    /// Sum of per-registry queries.
    pub queries: u64,
    /// Per registry name.
    pub by_registry: BTreeMap<String, RegSnapshot>,
}

fn get(a: &AtomicU64) -> u64 {
    a.load(Ordering::Relaxed)
}

/// Adds one.
pub fn inc(a: &AtomicU64) {
    a.fetch_add(1, Ordering::Relaxed);
}

/// Adds `n`.
pub fn add(a: &AtomicU64, n: u64) {
    a.fetch_add(n, Ordering::Relaxed);
}

impl Telemetry {
    /// Counters for one registry.
    pub fn of(&self, r: Registry) -> &RegCounters {
        &self.reg[r.index()]
    }

    /// Counts what `exchange` says about reachability: a transport failure
    /// for its registry and cause, or one more lookup a server answered.
    pub fn exchanged(&self, exchange: &Exchange) {
        match exchange.transport_failure() {
            Some(t) => inc(&self.of(exchange.registry()).transport[t.index()]),
            None => inc(&self.reached),
        }
    }

    /// [`Telemetry::swept`] read, by [`Registry::index`].
    pub fn swept_by_registry(&self) -> [u64; 5] {
        self.swept.each_ref().map(get)
    }

    /// Transport failures of every registry and cause together (cumulative).
    pub fn transport_total(&self) -> u64 {
        self.reg
            .iter()
            .flat_map(|c| c.transport.iter())
            .map(get)
            .sum()
    }

    /// Reads every counter.
    pub fn snapshot(&self) -> Snapshot {
        let mut by_registry = BTreeMap::new();
        let mut queries = 0;
        for r in Registry::ALL {
            let c = self.of(r);
            let s = RegSnapshot {
                queries: get(&c.queries),
                answers: get(&c.answers),
                not_found: get(&c.not_found),
                placeholders: get(&c.placeholders),
                redirects: get(&c.redirects),
                rate_limited: get(&c.rate_limited),
                retries: get(&c.retries),
                failures: get(&c.failures),
                pause_429_ms: get(&c.pause_429_ms),
                retry_after_max_s: get(&c.retry_after_max_s),
                put_off: get(&c.put_off),
                searches: get(&c.searches),
                search_results: get(&c.search_results),
                search_splits: get(&c.search_splits),
                search_fallbacks: get(&c.search_fallbacks),
                transport: TransportCounts(c.transport.each_ref().map(get)),
            };
            queries += s.queries;
            by_registry.insert(r.name().to_string(), s);
        }
        Snapshot {
            within_known_cidr: get(&self.within_known_cidr),
            awaiting_registry: get(&self.awaiting_registry),
            found_registry: get(&self.found_registry),
            looking_up_whois: get(&self.looking_up_whois),
            got_whois: get(&self.got_whois),
            failed_lookup_whois: get(&self.failed_lookup_whois),
            parent_queries: get(&self.parent_queries),
            queries,
            by_registry,
        }
    }

    /// The cumulative counters as flat `name` / `registry.name` keys (for the DB).
    pub fn to_map(&self) -> BTreeMap<String, u64> {
        let s = self.snapshot();
        let mut m = BTreeMap::new();
        m.insert("within_known_cidr".into(), s.within_known_cidr);
        m.insert("found_registry".into(), s.found_registry);
        m.insert("got_whois".into(), s.got_whois);
        m.insert("failed_lookup_whois".into(), s.failed_lookup_whois);
        m.insert("parent_queries".into(), s.parent_queries);
        for (name, r) in &s.by_registry {
            for (k, v) in [
                ("queries", r.queries),
                ("answers", r.answers),
                ("not_found", r.not_found),
                ("placeholders", r.placeholders),
                ("redirects", r.redirects),
                ("rate_limited", r.rate_limited),
                ("retries", r.retries),
                ("failures", r.failures),
                ("pause_429_ms", r.pause_429_ms),
                ("retry_after_max_s", r.retry_after_max_s),
                ("put_off", r.put_off),
                ("searches", r.searches),
                ("search_results", r.search_results),
                ("search_splits", r.search_splits),
                ("search_fallbacks", r.search_fallbacks),
            ] {
                m.insert(format!("{name}.{k}"), v);
            }
            for t in Transport::ALL {
                m.insert(format!("{name}.transport.{}", t.key()), r.transport.get(t));
            }
        }
        m
    }

    /// Counters restored from [`Telemetry::to_map`] (unknown keys ignored).
    pub fn from_map(m: &BTreeMap<String, u64>) -> Telemetry {
        let t = Telemetry::default();
        let v = |k: &str| m.get(k).copied().unwrap_or(0);
        t.within_known_cidr
            .store(v("within_known_cidr"), Ordering::Relaxed);
        t.found_registry
            .store(v("found_registry"), Ordering::Relaxed);
        t.got_whois.store(v("got_whois"), Ordering::Relaxed);
        t.failed_lookup_whois
            .store(v("failed_lookup_whois"), Ordering::Relaxed);
        t.parent_queries
            .store(v("parent_queries"), Ordering::Relaxed);
        for r in Registry::ALL {
            let c = t.of(r);
            let n = r.name();
            c.queries
                .store(v(&format!("{n}.queries")), Ordering::Relaxed);
            c.answers
                .store(v(&format!("{n}.answers")), Ordering::Relaxed);
            c.not_found
                .store(v(&format!("{n}.not_found")), Ordering::Relaxed);
            c.placeholders
                .store(v(&format!("{n}.placeholders")), Ordering::Relaxed);
            c.redirects
                .store(v(&format!("{n}.redirects")), Ordering::Relaxed);
            c.rate_limited
                .store(v(&format!("{n}.rate_limited")), Ordering::Relaxed);
            c.retries
                .store(v(&format!("{n}.retries")), Ordering::Relaxed);
            c.failures
                .store(v(&format!("{n}.failures")), Ordering::Relaxed);
            c.pause_429_ms
                .store(v(&format!("{n}.pause_429_ms")), Ordering::Relaxed);
            c.retry_after_max_s
                .store(v(&format!("{n}.retry_after_max_s")), Ordering::Relaxed);
            c.put_off
                .store(v(&format!("{n}.put_off")), Ordering::Relaxed);
            for (a, k) in [
                (&c.searches, "searches"),
                (&c.search_results, "search_results"),
                (&c.search_splits, "search_splits"),
                (&c.search_fallbacks, "search_fallbacks"),
            ] {
                a.store(v(&format!("{n}.{k}")), Ordering::Relaxed);
            }
            for cause in Transport::ALL {
                c.transport[cause.index()].store(
                    v(&format!("{n}.transport.{}", cause.key())),
                    Ordering::Relaxed,
                );
            }
        }
        t
    }
}

impl Snapshot {
    /// The transport failures counted since `before` (an earlier snapshot
    /// of the same crawl), nonzero ones only, in registry then cause order.
    pub fn transport_since(&self, before: &Snapshot) -> Vec<TransportCount> {
        let mut out = Vec::new();
        for r in Registry::ALL {
            let Some(now) = self.by_registry.get(r.name()) else {
                continue;
            };
            let then = before
                .by_registry
                .get(r.name())
                .map(|s| s.transport)
                .unwrap_or_default();
            for cause in Transport::ALL {
                let count = now.transport.get(cause).saturating_sub(then.get(cause));
                if count > 0 {
                    out.push(TransportCount {
                        registry: r,
                        cause,
                        count,
                    });
                }
            }
        }
        out
    }

    /// Every transport failure counted (all runs), as [`Snapshot::transport_since`] an empty snapshot.
    pub fn transport_failures(&self) -> Vec<TransportCount> {
        self.transport_since(&Snapshot::default())
    }
}

/// Rebuilds a [`Snapshot`] from stored counters (for `stats`).
pub fn snapshot_from_map(m: &BTreeMap<String, u64>) -> Snapshot {
    Telemetry::from_map(m).snapshot()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every stored counter of `t`, with a distinct value each.
    fn set_every_counter(t: &Telemetry) -> u64 {
        let top = [
            &t.within_known_cidr,
            &t.found_registry,
            &t.got_whois,
            &t.failed_lookup_whois,
            &t.parent_queries,
        ];
        let mut n = 0;
        for c in top {
            n += 1;
            add(c, n);
        }
        let mut queries = 0;
        for r in Registry::ALL {
            let c = t.of(r);
            for x in [
                &c.queries,
                &c.answers,
                &c.not_found,
                &c.placeholders,
                &c.redirects,
                &c.rate_limited,
                &c.retries,
                &c.failures,
                &c.pause_429_ms,
                &c.retry_after_max_s,
                &c.put_off,
                &c.searches,
                &c.search_results,
                &c.search_splits,
                &c.search_fallbacks,
            ]
            .into_iter()
            .chain(c.transport.iter())
            {
                n += 1;
                add(x, n * 100);
            }
            queries += get(&c.queries);
        }
        queries
    }

    #[test]
    fn map_round_trip() {
        let t = Telemetry::default();
        let queries = set_every_counter(&t);
        let m = t.to_map();
        // 5 crawl-wide counters + 15 and 8 transport causes for each of the
        // 5 registries, all distinct.
        assert_eq!(m.len(), 5 + 23 * 5);
        let distinct: std::collections::BTreeSet<u64> = m.values().copied().collect();
        assert_eq!(distinct.len(), m.len(), "{m:?}");
        let back = Telemetry::from_map(&m);
        assert_eq!(back.snapshot(), t.snapshot());
        assert_eq!(back.to_map(), m);
        assert_eq!(back.snapshot().queries, queries);
        assert_eq!(back.snapshot().within_known_cidr, 1);
        assert_eq!(back.snapshot().parent_queries, 5);
        let lacnic = &back.snapshot().by_registry["lacnic"];
        assert_eq!(
            lacnic.rate_limited,
            get(&t.of(Registry::Lacnic).rate_limited)
        );
        assert_eq!(m["lacnic.rate_limited"], lacnic.rate_limited);
        assert_eq!(m["afrinic.failures"], (5 + 23 * 4 + 8) * 100);
        assert_eq!(m["afrinic.put_off"], (5 + 23 * 4 + 11) * 100);
        assert_eq!(m["afrinic.search_fallbacks"], (5 + 23 * 4 + 15) * 100);
        assert_eq!(m["afrinic.transport.other"], (5 + 23 * 5) * 100);
        assert_eq!(m["arin.transport.dns"], (5 + 16) * 100);
        assert_eq!(
            back.snapshot().by_registry["arin"]
                .transport
                .get(Transport::Dns),
            2100
        );
    }

    #[test]
    fn exchanges_count_as_reached_or_as_a_transport_failure_by_cause() {
        use crate::rdap::Broken;
        let t = Telemetry::default();
        let broken = |registry, cause| Exchange::Broken {
            registry,
            cause,
            reason: "x".into(),
            redirects: 0,
        };
        let before = t.snapshot();
        t.exchanged(&broken(Registry::Ripe, Broken::Transport(Transport::Dns)));
        t.exchanged(&broken(Registry::Ripe, Broken::Transport(Transport::Dns)));
        t.exchanged(&broken(
            Registry::Arin,
            Broken::Transport(Transport::Refused),
        ));
        // A server answered these.
        t.exchanged(&broken(Registry::Arin, Broken::TooLarge));
        t.exchanged(&Exchange::Response {
            registry: Registry::Apnic,
            url: "http://127.0.0.1:1/".into(),
            status: 503,
            retry_after: None,
            body: Vec::new(),
            redirects: 0,
        });
        assert_eq!(get(&t.reached), 2);
        let after = t.snapshot();
        let got: Vec<(Registry, Transport, u64)> = after
            .transport_since(&before)
            .iter()
            .map(|c| (c.registry, c.cause, c.count))
            .collect();
        assert_eq!(
            got,
            [
                (Registry::Arin, Transport::Refused, 1),
                (Registry::Ripe, Transport::Dns, 2)
            ]
        );
        assert!(after.transport_since(&after).is_empty());
        let json = serde_json::to_value(&after.by_registry["ripe"]).unwrap();
        assert_eq!(json["transport"]["dns"], 2);
        assert_eq!(json["transport"]["connect_timeout"], 0);
        // `reached` is live: not stored.
        assert_eq!(get(&Telemetry::from_map(&t.to_map()).reached), 0);
    }

    #[test]
    fn live_gauges_are_not_stored() {
        let t = Telemetry::default();
        add(&t.looking_up_whois, 7);
        add(&t.awaiting_registry, 9);
        let back = Telemetry::from_map(&t.to_map());
        assert_eq!(back.snapshot().looking_up_whois, 0);
        assert_eq!(back.snapshot().awaiting_registry, 0);
        assert_eq!(t.snapshot().looking_up_whois, 7);
    }
}
