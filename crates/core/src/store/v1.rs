//! Schema 1, as written by ipcrawl up to c6db4ef: records, failures and the
//! plan as serde JSON (the shapes below are frozen copies of the domain
//! types of that version, owned here so the domain can change), raw answers
//! and seed runs gzip'd, range sets as [`IntervalSet::to_bytes`].
//!
//! Read by every command that opens a schema-1 file and by the migration;
//! written only by the `#[doc(hidden)]` test-support path
//! ([`super::Store::create_v1`]) that benches and tests use as the baseline.

use serde::{Deserialize, Serialize};

use crate::prefix::Range;
use crate::rdap::{Entity, Network, Registry};
use crate::seeds::{PlanInfo, Run};
use crate::trie::IntervalSet;

use super::codec::{decode_runs, encode_runs, Reason};
use super::{Failure, Record};

/// Largest raw answer or seed chunk a schema-1 value may expand to.
const CAP: usize = 64 << 20;

#[derive(Serialize, Deserialize)]
struct RangeV1 {
    start: u32,
    end: u32,
}

#[derive(Serialize, Deserialize)]
struct EntityV1 {
    handle: Option<String>,
    roles: Vec<String>,
    name: Option<String>,
    email: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct NetworkV1 {
    handle: String,
    range: RangeV1,
    name: Option<String>,
    net_type: Option<String>,
    country: Option<String>,
    parent_handle: Option<String>,
    parent_range: Option<RangeV1>,
    up_link: Option<String>,
    status: Vec<String>,
    entities: Vec<EntityV1>,
    registration: Option<String>,
    last_changed: Option<String>,
    placeholder: bool,
}

#[derive(Serialize, Deserialize)]
struct RecordV1 {
    registry: String,
    network: NetworkV1,
    queried: u32,
    source_url: String,
    fetched_at: String,
}

#[derive(Serialize, Deserialize)]
struct FailureV1 {
    addr: u32,
    end: u32,
    registry: String,
    reason: String,
    attempts: u32,
    at: String,
}

#[derive(Serialize, Deserialize)]
struct PlanInfoV1 {
    kind: String,
    granularity: Option<u8>,
    within: Vec<String>,
    seeds: u64,
    space_addresses: u64,
}

fn registry(name: &str) -> Result<Registry, Reason> {
    Registry::ALL
        .into_iter()
        .find(|r| r.name() == name)
        .ok_or_else(|| format!("unknown registry {name:?}"))
}

fn range(r: &RangeV1) -> Result<Range, Reason> {
    Range::new(r.start, r.end).ok_or_else(|| format!("range {} > {}", r.start, r.end))
}

fn range_v1(r: Range) -> RangeV1 {
    RangeV1 {
        start: r.start,
        end: r.end,
    }
}

/// Reads a schema-1 record (JSON).
pub(crate) fn decode_record(bytes: &[u8]) -> Result<Record, Reason> {
    let r: RecordV1 = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
    let n = r.network;
    Ok(Record {
        registry: registry(&r.registry)?,
        network: Network {
            handle: n.handle,
            range: range(&n.range)?,
            name: n.name,
            net_type: n.net_type,
            country: n.country,
            parent_handle: n.parent_handle,
            parent_range: n.parent_range.as_ref().map(range).transpose()?,
            up_link: n.up_link,
            status: n.status,
            entities: n
                .entities
                .into_iter()
                .map(|e| Entity {
                    handle: e.handle,
                    roles: e.roles,
                    name: e.name,
                    email: e.email,
                })
                .collect(),
            registration: n.registration,
            last_changed: n.last_changed,
            placeholder: n.placeholder,
        },
        queried: Some(r.queried),
        source_url: r.source_url,
        fetched_at: r.fetched_at,
    })
}

/// Writes a schema-1 record; schema 1 cannot hold a record without a
/// queried address.
pub(crate) fn encode_record(r: &Record) -> Result<Vec<u8>, Reason> {
    let n = &r.network;
    let v = RecordV1 {
        registry: r.registry.name().into(),
        network: NetworkV1 {
            handle: n.handle.clone(),
            range: range_v1(n.range),
            name: n.name.clone(),
            net_type: n.net_type.clone(),
            country: n.country.clone(),
            parent_handle: n.parent_handle.clone(),
            parent_range: n.parent_range.map(range_v1),
            up_link: n.up_link.clone(),
            status: n.status.clone(),
            entities: n
                .entities
                .iter()
                .map(|e| EntityV1 {
                    handle: e.handle.clone(),
                    roles: e.roles.clone(),
                    name: e.name.clone(),
                    email: e.email.clone(),
                })
                .collect(),
            registration: n.registration.clone(),
            last_changed: n.last_changed.clone(),
            placeholder: n.placeholder,
        },
        queried: r
            .queried
            .ok_or("schema 1 cannot store a record without a queried address")?,
        source_url: r.source_url.clone(),
        fetched_at: r.fetched_at.clone(),
    };
    serde_json::to_vec(&v).map_err(|e| e.to_string())
}

/// Reads a schema-1 failure (JSON).
pub(crate) fn decode_failure(bytes: &[u8]) -> Result<Failure, Reason> {
    let f: FailureV1 = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
    Ok(Failure {
        addr: f.addr,
        end: f.end,
        registry: registry(&f.registry)?,
        reason: f.reason,
        attempts: f.attempts,
        at: f.at,
        permanent: false,
    })
}

/// Writes a schema-1 failure.
pub(crate) fn encode_failure(f: &Failure) -> Vec<u8> {
    let v = FailureV1 {
        addr: f.addr,
        end: f.end,
        registry: f.registry.name().into(),
        reason: f.reason.clone(),
        attempts: f.attempts,
        at: f.at.clone(),
    };
    serde_json::to_vec(&v).unwrap_or_default()
}

/// Reads the schema-1 plan description (JSON).
pub(crate) fn decode_plan(bytes: &[u8]) -> Result<PlanInfo, Reason> {
    let p: PlanInfoV1 = serde_json::from_slice(bytes).map_err(|e| format!("plan: {e}"))?;
    Ok(PlanInfo {
        kind: p.kind,
        granularity: p.granularity,
        within: p.within,
        seeds: p.seeds,
        space_addresses: p.space_addresses,
    })
}

/// Writes the schema-1 plan description.
pub(crate) fn encode_plan(p: &PlanInfo) -> Vec<u8> {
    let v = PlanInfoV1 {
        kind: p.kind.clone(),
        granularity: p.granularity,
        within: p.within.clone(),
        seeds: p.seeds,
        space_addresses: p.space_addresses,
    };
    serde_json::to_vec(&v).unwrap_or_default()
}

/// Reads `meta.merged_from` (a JSON list).
pub(crate) fn decode_names(bytes: &[u8]) -> Result<Vec<String>, Reason> {
    serde_json::from_slice(bytes).map_err(|e| format!("merged_from: {e}"))
}

/// A raw answer, gunzipped.
pub(crate) fn decode_raw(bytes: &[u8]) -> Result<Vec<u8>, Reason> {
    crate::gz::gunzip(bytes, CAP).map_err(|e| e.to_string())
}

/// A raw answer, gzip'd.
pub(crate) fn encode_raw(body: &[u8]) -> Vec<u8> {
    crate::gz::gzip(body)
}

/// A /8's seed runs (gzip'd varints).
pub(crate) fn decode_seeds(chunk: u8, bytes: &[u8]) -> Result<Vec<Run>, Reason> {
    let raw = crate::gz::gunzip(bytes, CAP).map_err(|e| format!("/8 {chunk}: {e}"))?;
    decode_runs(chunk, &raw)
}

/// Writes a /8's seed runs.
pub(crate) fn encode_seeds(chunk: u8, runs: &[Run]) -> Vec<u8> {
    crate::gz::gzip(&encode_runs(chunk, runs))
}

/// Reads a range set.
pub(crate) fn decode_ranges(bytes: &[u8]) -> Result<IntervalSet, Reason> {
    IntervalSet::from_bytes(bytes).map_err(|e| e.to_string())
}

/// Writes a range set.
pub(crate) fn encode_ranges(set: &IntervalSet) -> Vec<u8> {
    set.to_bytes()
}
