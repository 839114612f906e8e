//! ipcrawl collects the RDAP registration record of every network in the
//! non-reserved IPv4 space into one redb file and reports the coverage.
//!
//! This crate is the facade the `ipcrawl` binary, the integration tests and
//! the benchmarks build on. The work lives in two library crates:
//! - [`ipcrawl_core`] (re-exported here module by module): addresses, the
//!   known-network set, RDAP parsing and the HTTP client, storage, the crawl,
//!   reports. It knows nothing of the local world.
//! - [`ipcrawl_world`] (as [`world`]): the local RDAP world for tests,
//!   rehearsals and benchmarks, built on the core's types.
//!
//! The binary (`src/cli/`) is the only code that prints or picks exit codes.

pub use ipcrawl_core::*;
pub use ipcrawl_world as world;
