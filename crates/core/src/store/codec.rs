//! Storage-owned value layouts (schema 2): the envelope (tag + CRC-32),
//! the byte primitives, and each value's body. The domain types are never
//! serialized straight to disk: a renamed field in `rdap` cannot change the
//! file format. See [`super::schema`] for the layouts and tags.
//!
//! Decoders return a one-line reason; the caller turns it into
//! [`super::Error::Corrupt`] with the table and the key.

use crate::prefix::Range;
use crate::rdap::{Entity, Network, Registry};
use crate::seeds::{PlanInfo, Run};
use crate::trie::IntervalSet;

use super::compress::{dict_id, Dict, DictKind};
use super::schema::{NetKey, Tag};
use super::{Failure, Record, StatsFile};

/// Why a value could not be decoded (one line).
pub(crate) type Reason = String;

/// Header bytes before a body: tag + CRC-32.
const HEAD: usize = 5;

/// Wraps `body` in the envelope: tag, CRC-32 of tag and body, body.
pub(crate) fn seal(tag: Tag, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEAD + body.len());
    out.push(tag as u8);
    let mut h = crc32fast::Hasher::new();
    h.update(&[tag as u8]);
    h.update(body);
    out.extend_from_slice(&h.finalize().to_le_bytes());
    out.extend_from_slice(body);
    out
}

/// The first byte of an envelope's body, unchecked: a packed value's
/// method (see the `compress` module), for a scan that skips most values.
pub(crate) fn packing_method(bytes: &[u8]) -> Option<u8> {
    bytes.get(HEAD).copied()
}

/// The body of an envelope of tag `want`, after checking the checksum.
pub(crate) fn open(bytes: &[u8], want: Tag) -> Result<&[u8], Reason> {
    let (Some(&tag), Some(sum), Some(body)) =
        (bytes.first(), bytes.get(1..HEAD), bytes.get(HEAD..))
    else {
        return Err(format!("{} bytes, too short for a value", bytes.len()));
    };
    let mut h = crc32fast::Hasher::new();
    h.update(&[tag]);
    h.update(body);
    if h.finalize().to_le_bytes() != sum {
        return Err("checksum mismatch (the value was damaged)".into());
    }
    if tag != want as u8 {
        return Err(format!(
            "tag 0x{tag:02x}, expected 0x{:02x} ({want:?})",
            want as u8
        ));
    }
    Ok(body)
}

/// A body being written.
#[derive(Default)]
pub(crate) struct Out(pub(crate) Vec<u8>);

impl Out {
    pub(crate) fn varint(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.0.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.0.push(v as u8);
    }

    pub(crate) fn u8(&mut self, v: u8) {
        self.0.push(v);
    }

    pub(crate) fn u32(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }

    pub(crate) fn str(&mut self, s: &str) {
        self.varint(s.len() as u64);
        self.0.extend_from_slice(s.as_bytes());
    }

    fn opt(&mut self, s: Option<&str>) {
        if let Some(s) = s {
            self.str(s);
        }
    }

    fn strs(&mut self, v: &[String]) {
        self.varint(v.len() as u64);
        for s in v {
            self.str(s);
        }
    }
}

/// A body being read; every read checks the bounds.
pub(crate) struct In<'a> {
    b: &'a [u8],
    pos: usize,
}

impl<'a> In<'a> {
    pub(crate) fn new(b: &'a [u8]) -> In<'a> {
        In { b, pos: 0 }
    }

    pub(crate) fn u8(&mut self) -> Result<u8, Reason> {
        let v = *self.b.get(self.pos).ok_or("truncated")?;
        self.pos += 1;
        Ok(v)
    }

    pub(crate) fn varint(&mut self) -> Result<u64, Reason> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = self.u8()?;
            v |= u64::from(byte & 0x7F) << shift;
            if byte & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err("varint longer than 64 bits".into())
    }

    /// A varint that must fit in a `u32`.
    pub(crate) fn varint32(&mut self) -> Result<u32, Reason> {
        let v = self.varint()?;
        u32::try_from(v).map_err(|_| format!("{v} does not fit in 32 bits"))
    }

    pub(crate) fn u32(&mut self) -> Result<u32, Reason> {
        let b = self.bytes(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    pub(crate) fn bytes(&mut self, n: usize) -> Result<&'a [u8], Reason> {
        let end = self.pos.checked_add(n).ok_or("length overflow")?;
        let b = self.b.get(self.pos..end).ok_or("truncated")?;
        self.pos = end;
        Ok(b)
    }

    /// Everything not read yet.
    pub(crate) fn rest(&mut self) -> &'a [u8] {
        let b = &self.b[self.pos..];
        self.pos = self.b.len();
        b
    }

    pub(crate) fn str(&mut self) -> Result<String, Reason> {
        let n = self.varint()?;
        let n = usize::try_from(n).map_err(|_| "string length overflow")?;
        let b = self.bytes(n)?;
        String::from_utf8(b.to_vec()).map_err(|_| "a string is not UTF-8".into())
    }

    fn opt(&mut self, present: bool) -> Result<Option<String>, Reason> {
        present.then(|| self.str()).transpose()
    }

    fn count(&mut self) -> Result<usize, Reason> {
        let n = self.varint()?;
        // Each element takes at least one byte: a longer count is damage.
        if n > (self.b.len() - self.pos) as u64 {
            return Err(format!("count {n} exceeds the value"));
        }
        Ok(n as usize)
    }

    fn strs(&mut self) -> Result<Vec<String>, Reason> {
        let n = self.count()?;
        (0..n).map(|_| self.str()).collect()
    }

    /// Fails when bytes are left over.
    pub(crate) fn end(&self) -> Result<(), Reason> {
        if self.pos == self.b.len() {
            Ok(())
        } else {
            Err(format!("{} trailing bytes", self.b.len() - self.pos))
        }
    }
}

// Record flags (byte 0 of the payload).
const PLACEHOLDER: u8 = 1;
const QUERIED: u8 = 1 << 1;
const NAME: u8 = 1 << 2;
const TYPE: u8 = 1 << 3;
const COUNTRY: u8 = 1 << 4;
const PARENT_HANDLE: u8 = 1 << 5;
const PARENT_RANGE: u8 = 1 << 6;
const UP_LINK: u8 = 1 << 7;
// Flags 2 (byte 1).
const REGISTRATION: u8 = 1;
const LAST_CHANGED: u8 = 1 << 1;
// Entity flags.
const E_HANDLE: u8 = 1;
const E_NAME: u8 = 1 << 1;
const E_EMAIL: u8 = 1 << 2;

fn bit(on: bool, flag: u8) -> u8 {
    if on {
        flag
    } else {
        0
    }
}

/// The payload of a record (before packing). Range and registry are in the key.
pub(crate) fn encode_record(r: &Record) -> Vec<u8> {
    let n = &r.network;
    let mut o = Out(Vec::with_capacity(256));
    o.u8(bit(n.placeholder, PLACEHOLDER)
        | bit(r.queried.is_some(), QUERIED)
        | bit(n.name.is_some(), NAME)
        | bit(n.net_type.is_some(), TYPE)
        | bit(n.country.is_some(), COUNTRY)
        | bit(n.parent_handle.is_some(), PARENT_HANDLE)
        | bit(n.parent_range.is_some(), PARENT_RANGE)
        | bit(n.up_link.is_some(), UP_LINK));
    o.u8(bit(n.registration.is_some(), REGISTRATION) | bit(n.last_changed.is_some(), LAST_CHANGED));
    o.str(&n.handle);
    o.opt(n.name.as_deref());
    o.opt(n.net_type.as_deref());
    o.opt(n.country.as_deref());
    o.opt(n.parent_handle.as_deref());
    if let Some(p) = n.parent_range {
        o.u32(p.start);
        o.u32(p.end);
    }
    o.opt(n.up_link.as_deref());
    o.strs(&n.status);
    o.varint(n.entities.len() as u64);
    for e in &n.entities {
        o.u8(bit(e.handle.is_some(), E_HANDLE)
            | bit(e.name.is_some(), E_NAME)
            | bit(e.email.is_some(), E_EMAIL));
        o.opt(e.handle.as_deref());
        o.strs(&e.roles);
        o.opt(e.name.as_deref());
        o.opt(e.email.as_deref());
    }
    o.opt(n.registration.as_deref());
    o.opt(n.last_changed.as_deref());
    if let Some(q) = r.queried {
        o.u32(q);
    }
    o.str(&r.source_url);
    o.str(&r.fetched_at);
    o.0
}

/// Range and registry of a network key.
pub(crate) fn key_parts(key: NetKey) -> Result<(Range, Registry), Reason> {
    let (start, end, reg) = key;
    let range = Range::new(start, end).ok_or_else(|| format!("start {start} > end {end}"))?;
    let registry =
        Registry::from_index(usize::from(reg)).ok_or_else(|| format!("registry index {reg}"))?;
    Ok((range, registry))
}

/// Reads a record payload back; `key` gives range and registry.
pub(crate) fn decode_record(key: NetKey, payload: &[u8]) -> Result<Record, Reason> {
    let (range, registry) = key_parts(key)?;
    let mut i = In::new(payload);
    let f = i.u8()?;
    let f2 = i.u8()?;
    if f2 & !(REGISTRATION | LAST_CHANGED) != 0 {
        return Err(format!("unknown record flags 0x{f2:02x}"));
    }
    let handle = i.str()?;
    let name = i.opt(f & NAME != 0)?;
    let net_type = i.opt(f & TYPE != 0)?;
    let country = i.opt(f & COUNTRY != 0)?;
    let parent_handle = i.opt(f & PARENT_HANDLE != 0)?;
    let parent_range = if f & PARENT_RANGE != 0 {
        let (s, e) = (i.u32()?, i.u32()?);
        Some(Range::new(s, e).ok_or_else(|| format!("parent range {s} > {e}"))?)
    } else {
        None
    };
    let up_link = i.opt(f & UP_LINK != 0)?;
    let status = i.strs()?;
    let n = i.count()?;
    let mut entities = Vec::with_capacity(n);
    for _ in 0..n {
        let ef = i.u8()?;
        if ef & !(E_HANDLE | E_NAME | E_EMAIL) != 0 {
            return Err(format!("unknown entity flags 0x{ef:02x}"));
        }
        let handle = i.opt(ef & E_HANDLE != 0)?;
        let roles = i.strs()?;
        let name = i.opt(ef & E_NAME != 0)?;
        let email = i.opt(ef & E_EMAIL != 0)?;
        entities.push(Entity {
            handle,
            roles,
            name,
            email,
        });
    }
    let registration = i.opt(f2 & REGISTRATION != 0)?;
    let last_changed = i.opt(f2 & LAST_CHANGED != 0)?;
    let queried = if f & QUERIED != 0 {
        Some(i.u32()?)
    } else {
        None
    };
    let source_url = i.str()?;
    let fetched_at = i.str()?;
    i.end()?;
    Ok(Record {
        registry,
        network: Network {
            handle,
            range,
            name,
            net_type,
            country,
            parent_handle,
            parent_range,
            up_link,
            status,
            entities,
            registration,
            last_changed,
            placeholder: f & PLACEHOLDER != 0,
        },
        queried,
        source_url,
        fetched_at,
    })
}

/// A failure value: [`Tag::Failure`], or [`Tag::Refusal`] for a permanent
/// one (so files without permanent refusals stay readable by versions that
/// knew only the first).
pub(crate) fn encode_failure(f: &Failure) -> Vec<u8> {
    let mut o = Out::default();
    o.u8(f.registry.index() as u8);
    o.u32(f.addr);
    o.u32(f.end);
    o.varint(u64::from(f.attempts));
    o.str(&f.reason);
    o.str(&f.at);
    if f.permanent {
        o.u8(1);
        return seal(Tag::Refusal, &o.0);
    }
    seal(Tag::Failure, &o.0)
}

/// Reads a failure value (either tag).
pub(crate) fn decode_failure(bytes: &[u8]) -> Result<Failure, Reason> {
    let refusal = bytes.first() == Some(&(Tag::Refusal as u8));
    let tag = if refusal { Tag::Refusal } else { Tag::Failure };
    let mut i = In::new(open(bytes, tag)?);
    let reg = i.u8()?;
    let registry =
        Registry::from_index(usize::from(reg)).ok_or_else(|| format!("registry index {reg}"))?;
    let f = Failure {
        registry,
        addr: i.u32()?,
        end: i.u32()?,
        attempts: i.varint32()?,
        reason: i.str()?,
        at: i.str()?,
        permanent: refusal && {
            let flags = i.u8()?;
            if flags != 1 {
                return Err(format!("refusal flags {flags}, expected 1"));
            }
            true
        },
    };
    i.end()?;
    Ok(f)
}

/// The plan's description.
pub(crate) fn encode_plan(p: &PlanInfo) -> Vec<u8> {
    let mut o = Out::default();
    o.str(&p.kind);
    match p.granularity {
        Some(g) => {
            o.u8(1);
            o.u8(g);
        }
        None => o.u8(0),
    }
    o.strs(&p.within);
    o.varint(p.seeds);
    o.varint(p.space_addresses);
    seal(Tag::Plan, &o.0)
}

/// Reads the plan's description.
pub(crate) fn decode_plan(bytes: &[u8]) -> Result<PlanInfo, Reason> {
    let mut i = In::new(open(bytes, Tag::Plan)?);
    let kind = i.str()?;
    let granularity = match i.u8()? {
        0 => None,
        1 => Some(i.u8()?),
        b => return Err(format!("granularity marker {b}")),
    };
    let p = PlanInfo {
        kind,
        granularity,
        within: i.strs()?,
        seeds: i.varint()?,
        space_addresses: i.varint()?,
    };
    i.end()?;
    Ok(p)
}

/// A delegated-statistics file: its description, then `packed` (the
/// file's bytes as `compress` packed them).
pub(crate) fn encode_stats(f: &StatsFile, packed: &[u8]) -> Vec<u8> {
    let mut o = Out::default();
    o.varint(f.fetched_at);
    o.str(&f.source);
    o.str(f.date.as_deref().unwrap_or_default());
    o.str(&f.serial);
    o.0.extend_from_slice(packed);
    seal(Tag::Stats, &o.0)
}

/// Reads a statistics value: the file without its bytes, and the packed bytes.
pub(crate) fn decode_stats(registry: Registry, bytes: &[u8]) -> Result<(StatsFile, &[u8]), Reason> {
    let mut i = In::new(open(bytes, Tag::Stats)?);
    let fetched_at = i.varint()?;
    let source = i.str()?;
    let date = Some(i.str()?).filter(|d| !d.is_empty());
    let serial = i.str()?;
    let packed = i.rest();
    let f = StatsFile {
        registry,
        source,
        fetched_at,
        date,
        serial,
        bytes: Vec::new(),
    };
    Ok((f, packed))
}

/// A list of names.
pub(crate) fn encode_names(names: &[String]) -> Vec<u8> {
    let mut o = Out::default();
    o.strs(names);
    seal(Tag::Names, &o.0)
}

/// Reads a list of names.
pub(crate) fn decode_names(bytes: &[u8]) -> Result<Vec<String>, Reason> {
    let mut i = In::new(open(bytes, Tag::Names)?);
    let v = i.strs()?;
    i.end()?;
    Ok(v)
}

/// Sorted disjoint ranges.
pub(crate) fn encode_ranges(set: &IntervalSet) -> Vec<u8> {
    let mut o = Out(Vec::with_capacity(set.len() * 4 + 4));
    o.varint(set.len() as u64);
    let mut next = 0u64;
    for r in set.ranges() {
        o.varint(u64::from(r.start) - next);
        o.varint(u64::from(r.end - r.start));
        next = u64::from(r.end) + 1;
    }
    seal(Tag::Ranges, &o.0)
}

/// Reads sorted disjoint ranges.
pub(crate) fn decode_ranges(bytes: &[u8]) -> Result<IntervalSet, Reason> {
    let mut i = In::new(open(bytes, Tag::Ranges)?);
    let n = i.count()?;
    let mut out = Vec::with_capacity(n);
    let mut next = 0u64;
    for _ in 0..n {
        let start = next.checked_add(i.varint()?).ok_or("range overflow")?;
        let end = start.checked_add(i.varint()?).ok_or("range overflow")?;
        let (Ok(s), Ok(e)) = (u32::try_from(start), u32::try_from(end)) else {
            return Err("a range leaves the IPv4 space".into());
        };
        out.push(Range { start: s, end: e });
        next = end + 1;
    }
    i.end()?;
    Ok(IntervalSet::from_ranges(out))
}

/// The seed runs of one /8 (`chunk`), unpacked: count, then per run
/// `start − previous last` (from the /8's first address), step, count.
pub(crate) fn encode_runs(chunk: u8, runs: &[Run]) -> Vec<u8> {
    let mut o = Out(Vec::with_capacity(runs.len() * 4 + 4));
    let mut prev = u32::from(chunk) << 24;
    o.varint(runs.len() as u64);
    for r in runs {
        o.varint(u64::from(r.start - prev));
        o.varint(u64::from(r.step));
        o.varint(u64::from(r.count));
        prev = r.last();
    }
    o.0
}

/// Reads the runs of one /8 back; checks every invariant.
pub(crate) fn decode_runs(chunk: u8, raw: &[u8]) -> Result<Vec<Run>, Reason> {
    let mut i = In::new(raw);
    let n = i.varint()?;
    let lo = u64::from(chunk) << 24;
    let hi = lo | 0x00FF_FFFF;
    let mut prev = lo;
    let mut out = Vec::with_capacity(n.min(1 << 24) as usize);
    for k in 0..n {
        let d = i.varint()?;
        let step = i.varint()?;
        let count = i.varint()?;
        if (d == 0 && k > 0) || step == 0 || count == 0 {
            return Err(format!("/8 {chunk}: runs overlap or are empty"));
        }
        let start = prev.checked_add(d).ok_or("overflow")?;
        let last = step
            .checked_mul(count - 1)
            .and_then(|x| x.checked_add(start))
            .ok_or("overflow")?;
        if last > hi || step > u64::from(u32::MAX) || count > u64::from(u32::MAX) {
            return Err(format!("/8 {chunk}: run leaves its /8"));
        }
        out.push(Run {
            start: start as u32,
            step: step as u32,
            count: count as u32,
        });
        prev = last;
    }
    i.end()?;
    Ok(out)
}

/// A dictionary value (its id is the key).
pub(crate) fn encode_dict(d: &Dict) -> Vec<u8> {
    let mut o = Out(Vec::with_capacity(d.bytes.len() + 40));
    o.u8(d.kind.code());
    o.u8(d.registry.index() as u8);
    o.varint(u64::from(d.samples));
    o.str(&d.trained_at);
    o.0.extend_from_slice(&d.bytes);
    seal(Tag::Dict, &o.0)
}

/// Reads a dictionary value stored under `id`.
pub(crate) fn decode_dict(id: u32, bytes: &[u8]) -> Result<Dict, Reason> {
    let mut i = In::new(open(bytes, Tag::Dict)?);
    let k = i.u8()?;
    let kind = DictKind::from_code(k).ok_or_else(|| format!("dictionary kind {k}"))?;
    let reg = i.u8()?;
    let registry =
        Registry::from_index(usize::from(reg)).ok_or_else(|| format!("registry index {reg}"))?;
    let samples = i.varint32()?;
    let trained_at = i.str()?;
    let bytes = i.rest();
    if dict_id(bytes) != id {
        return Err(format!(
            "dictionary id {} stored under key {id}",
            dict_id(bytes)
        ));
    }
    Ok(Dict {
        id,
        kind,
        registry,
        samples,
        trained_at,
        bytes: bytes.into(),
    })
}
