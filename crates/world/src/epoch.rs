//! Aging the world (`--epoch N`): the same world N years on.
//!
//! **Design.** An aged world is a transform of the epoch-0 model, one year
//! at a time: year `y` takes the networks of year `y - 1`, cut into
//! *blocks* (a top-level network with its whole subtree), and changes a few
//! blocks; every other block is moved over untouched (same networks, same
//! handles, same bytes in every answer). All randomness of year `y` is keyed
//! by `(seed, y, block start)` (and `(seed, y, registry)` for new
//! allocations), so a world is a function of `(seed, epoch)` and the scope.
//!
//! **Rates** (per block and year, [`RATES`]; real registries see a few
//! percent of their records change a year):
//! - returned: 0.5 % — the block and its subtree disappear (404 or the
//!   registry placeholder), its space is published as `available`;
//! - transferred to another registry: 0.4 % of the blocks of ARIN, RIPE NCC
//!   and APNIC (the registries with inter-RIR transfer policies), to one of
//!   the other three or LACNIC (inbound only). The block (subtree included)
//!   is then answered by the new holder registry in its style (handles too);
//!   the old registry redirects, as for today's transfers. A transfer is a
//!   sale: the block gets a new holder (opaque id, name) and is registered at
//!   the new registry on the transfer date;
//! - renamed holder: 1.5 % — a new holder (new opaque id, so a new name and
//!   organisation) and a newer last-changed date on the top-level network;
//! - reassignments changed: 2.5 % of the allocations of 256 addresses or more
//!   — 1 to 3 new customer reassignments in free space inside the allocation
//!   or one of its sub-allocations, and each existing leaf reassignment
//!   removed with probability 1/4;
//! - new allocations: per registry, 1.5 % of its block count, in space the
//!   epoch-0 statistics call free (available, reserved or unlisted,
//!   anywhere in it: any start, sizes of 1–16 /24s or whatever the free piece
//!   holds), drawn exactly as [`Model::build`] draws a delegated record
//!   (so nested networks too), dated in that year.
//!
//! **Visible in the statistics.** Every change of a year changes the
//! block's record in the delegated statistics ([`crate::stats`]), so that
//! diffing two epochs' files (start, size, status, holder id, date,
//! registry) finds exactly the blocks whose networks changed:
//!
//! | change | record in the statistics |
//! |---|---|
//! | new | a new allocated/assigned record (new opaque id, date = the allocation date); the free record around it shrinks or splits |
//! | returned | the record is gone; the space is an `available` record |
//! | transferred | the record leaves the old registry's file and appears in the new one's, with a new opaque id and the transfer date |
//! | renamed | the opaque id changes (the date stays the allocation date) |
//! | reassignments | the date becomes the date of the change |
//!
//! So the networks of epoch N are those of epoch N − 1 outside the changed
//! blocks plus what asking the changed blocks again returns. (The world's
//! `date` column is therefore "registration date, or date of the block's
//! latest change"; real files carry the allocation date, and real
//! reassignments do not show in them at all.)
//!
//! What changed is kept in [`Model::history`] ([`EpochLog`]) for the truth.

use std::cmp::Reverse;
use std::collections::HashMap;

use ipcrawl_core::delegated::{Delegation, Status};
use ipcrawl_core::prefix::Range;
use ipcrawl_core::rdap::Registry;
use ipcrawl_core::rng::{mix, SplitMix64};

use super::model::{
    assign_handles, generate_block, holder_number, top_kind, top_name, word, GenParams, Kind,
    Model, Net, Record,
};

/// The date of the epoch-0 world: the newest input of the bundled snapshot
/// (AFRINIC's file of 2026-08-21). Epoch N is dated N years later.
pub const BASE_DATE: (i64, u32, u32) = (2026, 8, 21);

/// Yearly change rates (see the module documentation).
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct Rates {
    /// Fraction of blocks returned per year.
    pub returned: f64,
    /// Fraction of ARIN, RIPE NCC and APNIC blocks transferred to another registry.
    pub transferred: f64,
    /// Fraction of blocks whose holder changes.
    pub renamed: f64,
    /// Fraction of allocations (>= 256 addresses) whose reassignments change.
    pub reassigned: f64,
    /// New allocations per registry, as a fraction of its block count.
    pub new: f64,
}

/// The rates every aged world uses.
pub const RATES: Rates = Rates {
    returned: 0.005,
    transferred: 0.004,
    renamed: 0.015,
    reassigned: 0.025,
    new: 0.015,
};

/// Salt of the per-block draws.
const BLOCK_SALT: u64 = 0xE90C_4B1D_2C0F_FEE5;
/// Salt of the new-allocation draws.
const NEW_SALT: u64 = 0x0A11_0CA7_E5EE_D001;

/// What happened to a block in one year.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ChangeKind {
    /// A new allocation or assignment in free space.
    New,
    /// Given back to the registry: gone.
    Returned,
    /// Moved to another registry (and a new holder).
    Transferred,
    /// A new holder (name, organisation) for the same block.
    Renamed,
    /// Reassignments added and/or removed under the block.
    Reassigned,
}

impl ChangeKind {
    /// Every kind, in a fixed order.
    pub const ALL: [ChangeKind; 5] = [
        ChangeKind::New,
        ChangeKind::Returned,
        ChangeKind::Transferred,
        ChangeKind::Renamed,
        ChangeKind::Reassigned,
    ];

    /// The word used in the truth file.
    pub fn name(self) -> &'static str {
        match self {
            ChangeKind::New => "new",
            ChangeKind::Returned => "returned",
            ChangeKind::Transferred => "transferred",
            ChangeKind::Renamed => "renamed",
            ChangeKind::Reassigned => "reassigned",
        }
    }
}

/// One changed block of one year.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockChange {
    /// What happened.
    pub kind: ChangeKind,
    /// The block's range.
    pub range: Range,
    /// The registry holding it before (`None` for a new block).
    pub registry_before: Option<Registry>,
    /// The registry holding it after (`None` for a returned block).
    pub registry_after: Option<Registry>,
    /// Holder (opaque id, name) before.
    pub holder_before: Option<(Option<String>, String)>,
    /// Holder (opaque id, name) after.
    pub holder_after: Option<(Option<String>, String)>,
    /// The date of the change, `YYYY-MM-DD`.
    pub date: String,
}

/// A network as it was in some epoch (for added/removed/changed lists).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NetVersion {
    /// Holder registry.
    pub registry: Registry,
    /// Addresses.
    pub range: Range,
    /// Handle as served.
    pub handle: String,
    /// The parent's handle (`None` for a top-level network).
    pub parent: Option<String>,
    /// 0 = top-level.
    pub depth: u8,
    /// Network name.
    pub name: String,
    /// Record kind.
    pub kind: Kind,
    /// Country.
    pub cc: Option<String>,
    /// Registration date.
    pub registered: String,
    /// Last-changed date.
    pub changed: String,
}

/// What one year changed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EpochLog {
    /// The epoch this year ends in (1 = one year on).
    pub epoch: u32,
    /// Its date, `YYYY-MM-DD`.
    pub date: String,
    /// The changed blocks, by start address.
    pub blocks: Vec<BlockChange>,
    /// Networks that did not exist at epoch − 1.
    pub added: Vec<NetVersion>,
    /// Networks of epoch − 1 that are gone.
    pub removed: Vec<NetVersion>,
    /// Same range, something else differs: (before, after).
    pub changed: Vec<(NetVersion, NetVersion)>,
}

// ---------------------------------------------------------------- dates

/// Days since 1970-01-01 of a proleptic Gregorian date (Hinnant).
pub(crate) fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day number (inverse of [`days_from_civil`]).
pub(crate) fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// The day number of epoch `n`'s date.
pub(crate) fn epoch_day(n: u32) -> i64 {
    let (y, m, d) = BASE_DATE;
    days_from_civil(y + i64::from(n), m, d)
}

/// Epoch `n`'s date, `YYYY-MM-DD`.
pub fn epoch_date(n: u32) -> String {
    day_string(epoch_day(n))
}

/// A day number as `YYYY-MM-DD`.
pub(crate) fn day_string(day: i64) -> String {
    let (y, m, d) = civil_from_days(day);
    format!("{y:04}-{m:02}-{d:02}")
}

/// `YYYY-MM-DD` → `YYYYMMDD`.
pub(crate) fn compact(date: &str) -> String {
    date.replace('-', "")
}

/// A day in year `y`: after epoch `y - 1`'s date, up to epoch `y`'s.
fn day_in_year(rng: &mut SplitMix64, y: u32) -> i64 {
    let lo = epoch_day(y.saturating_sub(1));
    let hi = epoch_day(y);
    lo + i64::try_from(rng.range(1, (hi - lo).max(1).unsigned_abs())).unwrap_or(1)
}

/// A date from `from` (a `YYYY-MM-DD` day number) up to epoch `y`'s date.
fn day_between(rng: &mut SplitMix64, from: i64, y: u32) -> i64 {
    let hi = epoch_day(y).max(from);
    from + i64::try_from(rng.range(0, (hi - from).unsigned_abs())).unwrap_or(0)
}

// ---------------------------------------------------------------- blocks

/// A top-level network and its subtree; parent indices are local.
struct Block {
    nets: Vec<Net>,
}

impl Block {
    fn top(&self) -> &Net {
        &self.nets[0]
    }
}

fn split_blocks(nets: Vec<Net>) -> Vec<Block> {
    // Block sizes first, so that every block's list is allocated once.
    let mut sizes: Vec<usize> = Vec::new();
    for (i, n) in nets.iter().enumerate() {
        match sizes.last_mut() {
            Some(s) if n.depth > 0 && i > 0 => *s += 1,
            _ => sizes.push(1),
        }
    }
    let mut sizes = sizes.into_iter();
    let mut blocks: Vec<Block> = Vec::with_capacity(sizes.len());
    let mut base = 0u32;
    for (i, mut n) in nets.into_iter().enumerate() {
        if n.depth == 0 || blocks.is_empty() {
            base = i as u32;
            blocks.push(Block {
                nets: Vec::with_capacity(sizes.next().unwrap_or(1)),
            });
        }
        n.parent = n.parent.map(|p| p.saturating_sub(base));
        if let Some(b) = blocks.last_mut() {
            b.nets.push(n);
        }
    }
    blocks
}

fn flatten(blocks: Vec<Block>) -> Vec<Net> {
    let mut out = Vec::with_capacity(blocks.iter().map(|b| b.nets.len()).sum());
    for b in blocks {
        let base = out.len() as u32;
        for mut n in b.nets {
            n.parent = n.parent.map(|p| p + base);
            out.push(n);
        }
    }
    out
}

/// Restores pre-order, parents and depths of a block's networks (a laminar
/// family: any two nested or disjoint).
fn normalize(nets: &mut [Net]) {
    nets.sort_by_key(|n| (n.range.start, Reverse(n.range.end)));
    let mut stack: Vec<usize> = Vec::new();
    for i in 0..nets.len() {
        while let Some(&t) = stack.last() {
            if nets[t].range.contains_range(&nets[i].range) {
                break;
            }
            stack.pop();
        }
        nets[i].parent = stack.last().map(|&t| t as u32);
        nets[i].depth = stack.len() as u8;
        stack.push(i);
    }
}

fn version(nets: &[Net], i: usize) -> NetVersion {
    let n = &nets[i];
    NetVersion {
        registry: n.registry,
        range: n.range,
        handle: n.handle.clone(),
        parent: n.parent.map(|p| nets[p as usize].handle.clone()),
        depth: n.depth,
        name: n.name.clone(),
        kind: n.kind,
        cc: n.cc.clone(),
        registered: n.registered.clone(),
        changed: n.changed.clone(),
    }
}

/// Adds to `log` what differs between a block's networks before and after.
fn diff(before: &[Net], after: &[Net], log: &mut EpochLog) {
    let old: HashMap<Range, usize> = before
        .iter()
        .enumerate()
        .map(|(i, n)| (n.range, i))
        .collect();
    let new: HashMap<Range, usize> = after
        .iter()
        .enumerate()
        .map(|(i, n)| (n.range, i))
        .collect();
    for (i, n) in after.iter().enumerate() {
        match old.get(&n.range) {
            None => log.added.push(version(after, i)),
            Some(&j) => {
                let (a, b) = (version(before, j), version(after, i));
                if a != b || before[j].holder != n.holder {
                    log.changed.push((a, b));
                }
            }
        }
    }
    for (j, n) in before.iter().enumerate() {
        if !new.contains_key(&n.range) {
            log.removed.push(version(before, j));
        }
    }
}

fn holder_of(n: &Net) -> (Option<String>, String) {
    (
        n.record.as_ref().and_then(|r| r.holder_id.clone()),
        n.name.clone(),
    )
}

/// A new opaque holder id in the registry's style (hex hash at ARIN, UUID
/// at RIPE NCC, `A9…` at APNIC, a number at LACNIC, `F3…` at AFRINIC).
fn new_holder_id(r: Registry, rng: &mut SplitMix64) -> String {
    let (a, b) = (rng.next_u64(), rng.next_u64());
    match r {
        Registry::Arin => format!("{a:016x}{b:016x}"),
        Registry::Ripe => format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xFFFF,
            a & 0xFFF,
            (b >> 48) & 0x3FFF | 0x8000,
            b & 0xFFFF_FFFF_FFFF
        ),
        Registry::Apnic => format!("A9{:06X}", a & 0xFF_FFFF),
        Registry::Lacnic => format!("{}", 100_000 + a % 900_000),
        Registry::Afrinic => format!("F3{:06X}", a & 0xFF_FFFF),
    }
}

/// Gives the block's top-level network a new holder.
fn rehold(top: &mut Net, id: String) {
    top.holder = holder_number(Some(&id), top.range.start);
    top.name = top_name(top.cc.as_deref(), top.holder);
    if let Some(r) = top.record.as_mut() {
        r.holder_id = Some(id);
    } else {
        top.record = Some(Box::new(Record {
            status: status_of(top.kind),
            date: None,
            holder_id: Some(id),
        }));
    }
}

fn status_of(kind: Kind) -> Status {
    if kind == Kind::Assignment {
        Status::Assigned
    } else {
        Status::Allocated
    }
}

/// Handles for the networks that have none yet (new ones), in the
/// registry's style, unique within the block.
fn fill_handles(nets: &mut [Net]) {
    if nets.iter().all(|n| !n.handle.is_empty()) {
        return;
    }
    let mut fresh: Vec<Net> = nets.to_vec();
    assign_handles(&mut fresh);
    for i in 0..nets.len() {
        if !nets[i].handle.is_empty() {
            continue;
        }
        let mut h = fresh[i].handle.clone();
        if nets[i].registry == Registry::Arin {
            let [a, b, c, d] = nets[i].range.start.to_be_bytes();
            let mut k = 1;
            while nets.iter().any(|n| n.handle == h) {
                h = format!("NET-{a}-{b}-{c}-{d}-{k}");
                k += 1;
            }
        }
        nets[i].handle = h;
    }
}

// ---------------------------------------------------------------- one year

/// Where new allocations may go: epoch-0 free space not yet allocated.
struct Pool {
    free: Vec<(Range, Registry)>,
}

impl Pool {
    /// Takes a new block of `r`'s free space, or `None` when it has none.
    fn take(&mut self, r: Registry, rng: &mut SplitMix64) -> Option<Range> {
        let total: u64 = self
            .free
            .iter()
            .filter(|(_, g)| *g == r)
            .map(|(p, _)| p.len())
            .sum();
        if total == 0 {
            return None;
        }
        let mut pick = rng.range(0, total - 1);
        let idx = self.free.iter().position(|(p, g)| {
            if *g != r {
                return false;
            }
            if pick < p.len() {
                return true;
            }
            pick -= p.len();
            false
        })?;
        let (piece, _) = self.free[idx];
        let want = 256 * [1u64, 1, 1, 1, 2, 2, 3, 4, 4, 6, 8, 16][rng.range(0, 11) as usize];
        let count = want.min(piece.len());
        let slots = (piece.len() - count) / 256;
        let start = u64::from(piece.start) + rng.range(0, slots) * 256;
        let block = Range::new(start as u32, (start + count - 1) as u32)?;
        let mut rest = Vec::new();
        if block.start > piece.start {
            rest.push((Range::new(piece.start, block.start - 1)?, r));
        }
        if block.end < piece.end {
            rest.push((Range::new(block.end + 1, piece.end)?, r));
        }
        self.free.splice(idx..=idx, rest);
        Some(block)
    }
}

fn transfer_target(from: Registry, rng: &mut SplitMix64) -> Option<Registry> {
    // Where real inter-RIR transfers go: mostly APNIC and RIPE NCC.
    const TO: [(Registry, u64); 4] = [
        (Registry::Apnic, 40),
        (Registry::Ripe, 35),
        (Registry::Arin, 15),
        (Registry::Lacnic, 10),
    ];
    if !matches!(from, Registry::Arin | Registry::Ripe | Registry::Apnic) {
        return None;
    }
    let total: u64 = TO.iter().filter(|(r, _)| *r != from).map(|(_, w)| w).sum();
    let mut x = rng.range(0, total - 1);
    for (r, w) in TO {
        if r == from {
            continue;
        }
        if x < w {
            return Some(r);
        }
        x -= w;
    }
    None
}

struct Year<'a> {
    y: u32,
    seed: u64,
    params: GenParams,
    log: &'a mut EpochLog,
}

impl Year<'_> {
    fn change(&mut self, kind: ChangeKind, before: Option<&Net>, after: Option<&Net>, day: i64) {
        let range = after.or(before).map_or(Range::ALL, |n| n.range);
        self.log.blocks.push(BlockChange {
            kind,
            range,
            registry_before: before.map(|n| n.registry),
            registry_after: after.map(|n| n.registry),
            holder_before: before.map(holder_of),
            holder_after: after.map(holder_of),
            date: day_string(day),
        });
    }

    /// Decides and applies this year's change to one block.
    fn block(&mut self, b: Block) -> Option<Block> {
        let top = b.top();
        let mut rng = SplitMix64::keyed(
            self.seed ^ BLOCK_SALT,
            mix(u64::from(self.y)) ^ u64::from(top.range.start),
        );
        let u = rng.unit();
        let day = day_in_year(&mut rng, self.y);
        let r = RATES;
        let mut t = r.returned;
        if u < t {
            self.change(ChangeKind::Returned, Some(top), None, day);
            diff(&b.nets, &[], self.log);
            return None;
        }
        t += r.transferred;
        if u < t {
            return Some(match transfer_target(top.registry, &mut rng) {
                Some(to) => self.transfer(b, to, &mut rng, day),
                None => b,
            });
        }
        t += r.renamed;
        if u < t {
            return Some(self.rename(b, &mut rng, day));
        }
        t += r.reassigned;
        let allocation = matches!(top.kind, Kind::Allocation | Kind::Legacy);
        if u < t && allocation && top.range.len() >= 256 {
            return Some(self.reassign(b, &mut rng, day));
        }
        Some(b)
    }

    fn transfer(&mut self, b: Block, to: Registry, rng: &mut SplitMix64, day: i64) -> Block {
        let mut nets = b.nets.clone();
        for n in &mut nets {
            n.registry = to;
            n.handle.clear();
        }
        let date = day_string(day);
        let top = &mut nets[0];
        rehold(top, new_holder_id(to, rng));
        let status = top
            .record
            .as_ref()
            .map_or(status_of(top.kind), |r| r.status);
        top.kind = top_kind(status, &date, to);
        top.registered.clone_from(&date);
        top.changed.clone_from(&date);
        if let Some(r) = top.record.as_mut() {
            r.date = Some(compact(&date));
        }
        assign_handles(&mut nets);
        self.change(ChangeKind::Transferred, Some(b.top()), Some(&nets[0]), day);
        diff(&b.nets, &nets, self.log);
        Block { nets }
    }

    fn rename(&mut self, b: Block, rng: &mut SplitMix64, day: i64) -> Block {
        let mut nets = b.nets.clone();
        let top = &mut nets[0];
        rehold(top, new_holder_id(top.registry, rng));
        top.changed = day_string(day);
        self.change(ChangeKind::Renamed, Some(b.top()), Some(&nets[0]), day);
        diff(&b.nets, &nets, self.log);
        Block { nets }
    }

    fn reassign(&mut self, b: Block, rng: &mut SplitMix64, day: i64) -> Block {
        let mut nets = b.nets.clone();
        let mut added = Vec::new();
        for _ in 0..rng.range(1, 3) {
            if let Some(n) = new_reassignment(&nets, rng, day, self.y) {
                if !added
                    .iter()
                    .any(|a: &Net| a.range.intersect(&n.range).is_some())
                {
                    added.push(n);
                }
            }
        }
        // Existing leaf reassignments (never the top) go with probability 1/4.
        let mut has_child = vec![false; nets.len()];
        for n in &nets {
            if let Some(p) = n.parent {
                has_child[p as usize] = true;
            }
        }
        let mut keep: Vec<bool> = Vec::with_capacity(nets.len());
        for (i, n) in nets.iter().enumerate() {
            let leaf_reassignment = i > 0 && n.kind == Kind::Reassignment && !has_child[i];
            keep.push(!(leaf_reassignment && rng.chance(0.25)));
        }
        if added.is_empty() && keep.iter().all(|&k| k) {
            return b;
        }
        let mut it = keep.iter();
        nets.retain(|_| it.next().copied().unwrap_or(true));
        nets.extend(added);
        normalize(&mut nets);
        fill_handles(&mut nets);
        if let Some(r) = nets[0].record.as_mut() {
            r.date = Some(compact(&day_string(day)));
        }
        self.change(ChangeKind::Reassigned, Some(b.top()), Some(&nets[0]), day);
        diff(&b.nets, &nets, self.log);
        Block { nets }
    }

    fn new_block(
        &mut self,
        range: Range,
        r: Registry,
        cc: Option<String>,
        rng: &mut SplitMix64,
    ) -> Block {
        let day = day_in_year(rng, self.y);
        let date = day_string(day);
        let d = Delegation {
            registry: r,
            cc,
            range,
            date: Some(compact(&date)),
            status: if rng.chance(0.1) {
                Status::Assigned
            } else {
                Status::Allocated
            },
            holder: Some(new_holder_id(r, rng)),
        };
        let mut nets = generate_block(&d, self.seed, self.params);
        // Model::build dates nested networks from the bundle's years; a
        // new block's are all of this year.
        for (i, n) in nets.iter_mut().enumerate() {
            if i == 0 {
                n.changed.clone_from(&date);
            } else {
                let reg = day_between(rng, day, self.y);
                n.registered = day_string(reg);
                n.changed = day_string(day_between(rng, reg, self.y));
            }
        }
        self.change(ChangeKind::New, None, Some(&nets[0]), day);
        diff(&[], &nets, self.log);
        Block { nets }
    }
}

/// A new customer reassignment in free space under the block's top-level
/// network or one of its sub-allocations.
fn new_reassignment(nets: &[Net], rng: &mut SplitMix64, day: i64, y: u32) -> Option<Net> {
    let parents: Vec<usize> = (0..nets.len())
        .filter(|&i| {
            let n = &nets[i];
            n.depth <= 2
                && n.range.len() >= 16
                && matches!(
                    n.kind,
                    Kind::Allocation | Kind::Legacy | Kind::SubAllocation
                )
        })
        .collect();
    let pi = *parents.get(rng.range(0, parents.len().max(1) as u64 - 1) as usize)?;
    let p = &nets[pi];
    // Gaps between the parent's direct children.
    let mut gaps = Vec::new();
    let mut cur = u64::from(p.range.start);
    for c in nets.iter().filter(|c| c.parent == Some(pi as u32)) {
        if u64::from(c.range.start) > cur {
            gaps.push((cur, u64::from(c.range.start) - 1));
        }
        cur = cur.max(u64::from(c.range.end) + 1);
    }
    if cur <= u64::from(p.range.end) {
        gaps.push((cur, u64::from(p.range.end)));
    }
    gaps.retain(|(s, e)| e - s + 1 >= 8);
    let &(gs, ge) = gaps.get(rng.range(0, gaps.len().max(1) as u64 - 1) as usize)?;
    let max_bits = ((ge - gs + 1).ilog2())
        .min(8)
        .min(p.range.len().ilog2() - 1);
    if max_bits < 3 {
        return None;
    }
    let bits = rng.range(3, u64::from(max_bits)) as u32;
    let bs = 1u64 << bits;
    let first = gs.div_ceil(bs) * bs;
    if first + bs - 1 > ge {
        return None;
    }
    let slots = (ge + 1 - first) / bs - 1;
    let s = first + rng.range(0, slots) * bs;
    let range = Range::new(s as u32, (s + bs - 1) as u32)?;
    let holder = rng.next_u64() % 1_000_000;
    let registered = day_string(day);
    let changed = day_string(day_between(rng, day, y));
    Some(Net {
        range,
        registry: p.registry,
        parent: Some(pi as u32),
        depth: p.depth + 1,
        kind: Kind::Reassignment,
        handle: String::new(),
        name: format!(
            "{}-CUST-{}",
            p.name.split('-').nth(1).unwrap_or_else(|| word(holder)),
            holder % 100_000
        ),
        cc: p.cc.clone(),
        registered,
        changed,
        holder,
        record: None,
        filled: false,
    })
}

/// Ages `model` by `years` more years (0 returns it unchanged): see the
/// module documentation. `seed` and `params` must be the ones it was built
/// with, so that new blocks are drawn as [`Model::build`] draws them.
pub fn age(mut model: Model, seed: u64, params: GenParams, years: u32) -> Model {
    if years == 0 {
        return model;
    }
    // The epoch-0 free space not allocated since: today's free space
    // without what was returned (returned space is not handed out again).
    let mut returned: Vec<Range> = model
        .history
        .iter()
        .flat_map(|l| &l.blocks)
        .filter(|b| b.kind == ChangeKind::Returned)
        .map(|b| b.range)
        .collect();
    returned.sort_unstable();
    let mut free = Vec::new();
    for (piece, r) in super::stats::free_space(&model) {
        free.extend(
            super::stats::subtract(&[piece], &returned)
                .into_iter()
                .map(|f| (f, r)),
        );
    }
    let mut pool = Pool { free };
    let mut blocks = split_blocks(std::mem::take(&mut model.nets));
    for y in model.epoch + 1..=model.epoch + years {
        let mut log = EpochLog {
            epoch: y,
            date: epoch_date(y),
            ..EpochLog::default()
        };
        blocks = one_year(blocks, &mut pool, seed, params, y, &mut log);
        log.blocks.sort_by_key(|b| (b.range.start, b.kind));
        log.added
            .sort_by_key(|n| (n.range.start, Reverse(n.range.end)));
        log.removed
            .sort_by_key(|n| (n.range.start, Reverse(n.range.end)));
        log.changed
            .sort_by_key(|(a, _)| (a.range.start, Reverse(a.range.end)));
        model.history.push(log);
    }
    model.epoch += years;
    model.nets = flatten(blocks);
    // Returned space is published as available, even where the input had
    // reserved it before it was allocated.
    let mut returned: Vec<Range> = model
        .history
        .iter()
        .flat_map(|l| &l.blocks)
        .filter(|b| b.kind == ChangeKind::Returned)
        .map(|b| b.range)
        .collect();
    returned.sort_unstable();
    model.reserved = super::stats::subtract(&model.reserved, &returned);
    model
}

fn one_year(
    blocks: Vec<Block>,
    pool: &mut Pool,
    seed: u64,
    params: GenParams,
    y: u32,
    log: &mut EpochLog,
) -> Vec<Block> {
    let mut count = [0u64; 5];
    let mut ccs: [Vec<String>; 5] = Default::default();
    let mut year = Year {
        y,
        seed,
        params,
        log,
    };
    let mut out = Vec::with_capacity(blocks.len() + blocks.len() / 50);
    for b in blocks {
        let top = b.top();
        count[top.registry.index()] += 1;
        if let Some(cc) = &top.cc {
            ccs[top.registry.index()].push(cc.clone());
        }
        if let Some(b) = year.block(b) {
            out.push(b);
        }
    }
    for r in Registry::ALL {
        let mut rng = SplitMix64::keyed(seed ^ NEW_SALT, u64::from(y) * 8 + r.index() as u64);
        let want = count[r.index()] as f64 * RATES.new;
        let n = want.floor() as u64 + u64::from(rng.chance(want.fract()));
        for _ in 0..n {
            let Some(range) = pool.take(r, &mut rng) else {
                break;
            };
            let list = &ccs[r.index()];
            let cc = (!list.is_empty())
                .then(|| list[rng.range(0, list.len() as u64 - 1) as usize].clone());
            out.push(year.new_block(range, r, cc, &mut rng));
        }
    }
    out.sort_by_key(|b| b.top().range.start);
    out
}

#[cfg(test)]
mod tests;
