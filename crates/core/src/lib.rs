//! ipcrawl collects the RDAP registration record of every network in the
//! non-reserved IPv4 space into one redb file and reports the coverage.
//!
//! Architecture, bottom up:
//! - [`prefix`]: addresses, ranges, CIDR maths, reserved space (pure);
//! - [`trie`]: the known-network set and coverage maths (pure);
//! - [`rdap`]: registry types, answer parsing (pure), bootstrap routing, the HTTP client;
//! - [`store`]: the only redb user — seeds, networks, gaps, failures, counters;
//! - [`seeds`]: seed plans (the /24 grid, the 2016 grid, delegated blocks);
//! - [`crawl`]: scheduler, worker pool, single writer thread, telemetry;
//! - [`coverage`], [`stats`], [`export`]: reports over a store; [`merge`]: shard databases into one;
//! - [`status`]: the live status file a running crawl publishes beside its DB;
//! - [`outfile`]: output files written whole or not at all (temporary beside, rename);
//! - [`delegated`]: RIR delegated statistics (seeds, lanes, shard balance);
//! - [`dump`]: registry bulk dumps (RPSL) → networks, as their RDAP servers describe them (pure);
//! - [`import`]: bulk dumps into the store (`ipcrawl import`), so a crawl asks only for the rest;
//! - [`gz`]: gzip reading and writing (the only flate2 user);
//!
//! The local RDAP world is its own crate, `ipcrawl-world`, built on this one.
//!
//! The `ipcrawl` binary (`src/cli/`) is the only code that prints or picks exit codes.

pub mod coverage;
pub mod crawl;
pub mod delegated;
pub mod dump;
pub mod export;
pub mod gz;
pub mod import;
pub mod map;
pub mod merge;
pub mod outfile;
pub mod prefix;
pub mod rdap;
pub mod rng;
pub mod seeds;
pub mod stats;
pub mod status;
pub mod store;
pub mod time;
pub mod trie;
