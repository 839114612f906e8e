//! The file format: every table, its keys and values, and the schema versions.
//!
//! # Tables (schema 3)
//!
//! | table | key | value |
//! |---|---|---|
//! | `meta` | `&str` | bytes: `magic` = `ipcrawl`, `schema_version` = `3` (plain ASCII, so every version can read them), `created_at` (plain), `plan` (a [`Tag::Plan`] value), `merged_from` (a [`Tag::Names`] value), `migrated_from` (plain: `1 at <time>`), `help.<registry>` (plain JSON: what the registry's RDAP `help` listed when a crawl asked, and whether it serves RFC 9910 search) |
//! | `seeds` | `u8` first octet | the /8's seed runs ([`Tag::Seeds`]) |
//! | `space` | `u8` first octet | the swept space inside the /8 ([`Tag::Ranges`]) |
//! | `networks` | `(start, end, registry)` | the parsed record ([`Tag::Record`]) |
//! | `network_keys` | `(start, end, registry)` | `()`: the same keys, so reports scan no record |
//! | `placeholders` | `(start, end, registry)` | a placeholder record ([`Tag::Record`]; never coverage) |
//! | `raw` | `(start, end, registry)` | the answer's raw bytes ([`Tag::Raw`]) |
//! | `dicts` | `u32` dictionary id | a compression dictionary ([`Tag::Dict`]) |
//! | `gaps` | `start` | `(end, kind, registry)`: space probed and found empty (kind 0 = 404, 1 = placeholder) |
//! | `failures` | `start` | a lookup that failed for good ([`Tag::Failure`]); retried next crawl; or an answer refused for good ([`Tag::Refusal`]: LACNIC's echo), whose stretch later crawls skip |
//! | `counters` | `&str` | `u64` telemetry counters, cumulative over runs |
//! | `known` | `u8` first octet | the known-network set inside the /8 ([`Tag::Ranges`]) |
//! | `delegated` | `u8` registry | the registry's delegated-statistics file as a crawl last fetched it ([`Tag::Stats`]), reused for 24 h and the fallback when a fetch fails |
//! | `history` | `(start, end, registry, valid_from)` | a previous version of a network ([`Tag::History`]): replaced by a different record of the same key, or removed (gone from a newer dump, found gone by `crawl --refresh`); `valid_from` is the version's `fetched_at` in Unix seconds. Added without a version change: older files simply lack it (no history) |
//! | `crawled_stats` | `u8` registry | the delegated statistics the last crawl or refresh laid itself out by ([`Tag::Stats`]; the body is the records it used, written back as a delegated file): what `crawl --refresh` compares the fresh statistics with. Added without a version change, like `history` |
//! | `swept` | `(set, u8 first octet)` | a range set inside the /8 ([`Tag::Ranges`]); `set` 0: space swept at depth top (coverage first: every top-level network in it stored), 1: swept at depth all (every network in it stored), `16 + 2 × registry + depth` (depth 0 top, 1 all): the keys an RFC 9910 search of that registry has enumerated, `32 + registry`: space that registry answered in other registries' lanes, for its search to enumerate, `48 + registry`: the space that registry's latest imported bulk dump covers (its non-placeholder inetnums: every network at every level inside is stored), replaced by each newer import, `64`: the space a `crawl --refresh` is asking again (with `meta.refresh.since`, when it began), until a crawl finishes it |
//!
//! `registry` is the index in [`crate::rdap::Registry::ALL`] (arin 0, ripe 1,
//! apnic 2, lacnic 3, afrinic 4). Integer keys sort numerically, so scans run
//! in address order.
//!
//! # Values
//!
//! Every byte value (except the plain `meta` entries above) is an envelope
//! (the store's `codec` module): byte 0 is a [`Tag`] (what the value is, and
//! the version of its layout), bytes 1..5 the CRC-32 (IEEE, little endian)
//! of byte 0 and of everything after byte 5, then the body. A value whose
//! checksum does not match, or whose tag is unknown to its table, is a
//! [`super::Error::Corrupt`] naming the table and the key: never decoded
//! into an export. A later layout gets a new tag; the decoders of the older
//! tags stay, so old values keep reading.
//!
//! Bodies are built from unsigned LEB128 varints, `u32` little endian, and
//! strings (varint byte length + UTF-8). Records and raw answers are
//! *packed* (the store's `compress` module, the only zstd user): a method byte (0 stored, 1 zstd, 2 zstd
//! with the dictionary whose `u32` id follows), then the bytes.
//!
//! # Dictionaries
//!
//! Registries answer in their own, very regular, JSON style, so a zstd
//! dictionary trained on a registry's answers shrinks them about 20× where
//! gzip shrinks them 3× (figures in `benches/store.rs`). There is one per
//! (kind, registry), kinds being raw answers and records. The writer
//! collects the first 2,000 payloads of a pair
//! that has no dictionary yet, trains one on a background thread (about a
//! second; the writer keeps committing meanwhile, packing with plain zstd),
//! and stores it in `dicts` in the transaction of the first value that uses
//! it. Its id is the zstd dictionary id (derived from its content), so a
//! merge copies values and dictionaries as they are. Values written before a
//! dictionary existed keep their packing and stay readable.
//!
//! # Versions and migration
//!
//! | schema | written by | what changed |
//! |---|---|---|
//! | 1 | ipcrawl up to c6db4ef | records, failures and the plan as serde JSON of the domain types; raw answers and seed runs gzip'd; range sets as [`crate::trie::IntervalSet::to_bytes`]; no checksums |
//! | 2 | ipcrawl up to the store rewrite | the envelope above on every value; storage-owned record layouts (the `codec` module); zstd with per-registry dictionaries (`dicts` table); `Record.queried` may be absent |
//! | 3 | this version | the `swept` table: what a crawl skips is what was swept (at its depth), no longer the union of stored networks |
//!
//! Opening a schema-1 file for writing (`crawl`, `gen-seeds`) migrates it in
//! place, in one transaction (a crash leaves it at schema 1): every value is
//! re-encoded, dictionaries are trained from the stored answers, and
//! `meta.migrated_from` records it; then the file is compacted. A schema-2
//! file (and a schema-1 file after that step) gets the `swept` table, its
//! depth-top set being the stored networks' union: that was the progress of
//! the crawls that wrote it. Read as it is, a schema-1 or -2 file reads the
//! same way (its known set as swept at depth top). Read-only
//! commands (`export`, `coverage`, `stats`, `lookup`) and `merge` inputs
//! read a schema-1 file as it is, through the schema-1 decoders, and never
//! change it. A file of a newer schema than [`SCHEMA_VERSION`] is refused
//! untouched with [`super::Error::Schema`]. The backward-compatibility
//! test opens `tests/fixtures/db/v1.redb` (written by c6db4ef) both ways and
//! compares the exports with the golden file made by that version;
//! `tests/fixtures/db/v2.redb` is ready for the next version's test.

use redb::TableDefinition;

/// Byte 0 of every enveloped value: what it is, and the version of its
/// layout (high nibble: the kind, low nibble: the layout version).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Tag {
    /// A network or placeholder record, layout 2: packed; the payload is
    /// flags, handle, optional name/type/country/parent handle/parent
    /// range/up link, status list, entities, optional dates, optional
    /// queried address, source URL, fetch time. The key holds range and registry.
    Record = 0x12,
    /// A raw answer, layout 2: packed bytes as the server sent them.
    Raw = 0x22,
    /// A failure, layout 2: registry, address, end, attempts, reason, time.
    Failure = 0x32,
    /// A permanent refusal (a failure with `permanent`, layout 3): the
    /// failure's layout 2, then a flags byte (1). Written only for permanent
    /// ones, so other failures keep the tag every version reads.
    Refusal = 0x33,
    /// The seed plan's description, layout 2: kind, granularity, `--within` list, counts.
    Plan = 0x42,
    /// A /8's seed runs, layout 2: packed varints (count, then `start − previous last`, step, count per run).
    Seeds = 0x52,
    /// Sorted disjoint ranges, layout 2: count, then `start − previous end` and `end − start` per range.
    Ranges = 0x62,
    /// A compression dictionary, layout 2: kind (0 raw, 1 record), registry, samples, training time, zstd dictionary.
    Dict = 0x72,
    /// A list of names (`meta.merged_from`), layout 2.
    Names = 0x82,
    /// A delegated-statistics file, layout 2: fetch time (Unix seconds),
    /// source URL, the file's date (`YYYYMMDD`, empty if none), its serial,
    /// then the file's bytes packed with plain zstd.
    Stats = 0xA2,
    /// A previous version of a network, layout 2: the time it stopped
    /// being current (RFC 3339 string), then the record's stored value
    /// as it was (its own [`Tag::Record`] envelope).
    History = 0x92,
}

/// Version of the layout above; checked on open.
pub const SCHEMA_VERSION: u32 = 3;
/// The oldest schema this version reads (and migrates when writing).
pub const OLDEST_READABLE: u32 = 1;
/// `meta.magic`.
pub(crate) const MAGIC: &[u8] = b"ipcrawl";

/// `(start, end, registry index)`.
pub(crate) type NetKey = (u32, u32, u8);

/// Names and plain values of `meta`.
pub(crate) const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");
/// Seed runs per /8.
pub(crate) const SEEDS: TableDefinition<u8, &[u8]> = TableDefinition::new("seeds");
/// Swept space per /8.
pub(crate) const SPACE: TableDefinition<u8, &[u8]> = TableDefinition::new("space");
/// Non-placeholder records.
pub(crate) const NETWORKS: TableDefinition<NetKey, &[u8]> = TableDefinition::new("networks");
/// The keys of `networks` alone.
pub(crate) const NETWORK_KEYS: TableDefinition<NetKey, ()> = TableDefinition::new("network_keys");
/// Placeholder records.
pub(crate) const PLACEHOLDERS: TableDefinition<NetKey, &[u8]> =
    TableDefinition::new("placeholders");
/// Raw answers of both.
pub(crate) const RAW: TableDefinition<NetKey, &[u8]> = TableDefinition::new("raw");
/// Compression dictionaries by id (schema 2).
pub(crate) const DICTS: TableDefinition<u32, &[u8]> = TableDefinition::new("dicts");
/// Space found empty.
pub(crate) const GAPS: TableDefinition<u32, (u32, u8, u8)> = TableDefinition::new("gaps");
/// Lookups given up.
pub(crate) const FAILURES: TableDefinition<u32, &[u8]> = TableDefinition::new("failures");
/// Telemetry counters.
pub(crate) const COUNTERS: TableDefinition<&str, u64> = TableDefinition::new("counters");
/// The known-network set per /8.
pub(crate) const KNOWN: TableDefinition<u8, &[u8]> = TableDefinition::new("known");
/// Fetched delegated-statistics files by registry (schema 3, added
/// without a version change: older files simply lack it).
pub(crate) const DELEGATED: TableDefinition<u8, &[u8]> = TableDefinition::new("delegated");
/// `(start, end, registry, valid_from)`: a key of `history`.
pub(crate) type HistKey = (u32, u32, u8, u64);
/// Previous versions of networks (schema 3, added without a version
/// change: older files simply lack it).
pub(crate) const HISTORY: TableDefinition<HistKey, &[u8]> = TableDefinition::new("history");
/// The statistics the last crawl used, by registry (schema 3, added
/// without a version change).
pub(crate) const CRAWLED_STATS: TableDefinition<u8, &[u8]> = TableDefinition::new("crawled_stats");
/// Swept and searched space per (set, /8) (schema 3).
pub(crate) const SWEPT: TableDefinition<(u8, u8), &[u8]> = TableDefinition::new("swept");

/// `swept` set: space swept at depth top.
pub(crate) const SET_SWEPT_TOP: u8 = 0;
/// `swept` set: space swept at depth all.
pub(crate) const SET_SWEPT_ALL: u8 = 1;

/// `swept` set: the space a `crawl --refresh` asks again.
pub(crate) const SET_REFRESH: u8 = 64;

/// `swept` set: keys `registry` has enumerated by search at `all` depth or not.
pub(crate) fn set_searched(registry: crate::rdap::Registry, all: bool) -> u8 {
    16 + 2 * registry.index() as u8 + u8::from(all)
}

/// `swept` set: the space `registry`'s latest imported dump covers (its
/// non-placeholder inetnums), replaced by each newer import of it.
pub(crate) fn set_dumped(registry: crate::rdap::Registry) -> u8 {
    48 + registry.index() as u8
}

/// `swept` set: space `registry` answered in other registries' lanes (a
/// transfer) that its search is to enumerate at `all` depth.
pub(crate) fn set_to_search(registry: crate::rdap::Registry) -> u8 {
    32 + registry.index() as u8
}

#[cfg(test)]
mod tests {
    use super::*;
    use redb::TableHandle;

    /// Every table's name, as documented above and in the README.
    #[test]
    fn every_table_name_is_the_documented_one() {
        let names = [
            META.name(),
            SEEDS.name(),
            SPACE.name(),
            NETWORKS.name(),
            NETWORK_KEYS.name(),
            PLACEHOLDERS.name(),
            RAW.name(),
            DICTS.name(),
            GAPS.name(),
            FAILURES.name(),
            COUNTERS.name(),
            KNOWN.name(),
            SWEPT.name(),
            DELEGATED.name(),
            HISTORY.name(),
            CRAWLED_STATS.name(),
        ];
        assert_eq!(
            names,
            [
                "meta",
                "seeds",
                "space",
                "networks",
                "network_keys",
                "placeholders",
                "raw",
                "dicts",
                "gaps",
                "failures",
                "counters",
                "known",
                "swept",
                "delegated",
                "history",
                "crawled_stats"
            ]
        );
        for n in names {
            assert!(
                include_str!("schema.rs").contains(&format!("| `{n}` |")),
                "{n} is missing from the table doc"
            );
        }
    }
}
