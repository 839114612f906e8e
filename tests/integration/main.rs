//! The one integration test binary: runs the real `ipcrawl` binary against
//! local RDAP servers on 127.0.0.1 (never any other host). Modules by theme:
//!
//! - `util`: a unique temp dir per test, running the binary, JSON helpers;
//! - `server`: a scripted multi-registry RDAP server serving the real
//!   fixtures in `tests/fixtures/rdap/` plus redirects, 404s, 5xx, 429s;
//! - `pipeline`: gen-seeds → crawl → coverage → export → lookup → stats;
//! - `hostile`: hostile answers (huge, endless, broken, redirect tricks);
//! - `files`: truncated, corrupt, foreign and other-version DBs, a read-only
//!   directory, a disk that fills during a crawl;
//! - `cli`: command-line errors and exit codes.

mod cli;
mod files;
mod hostile;
mod pipeline;
mod server;
mod util;
