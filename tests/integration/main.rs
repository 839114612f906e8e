//! The one integration test binary: runs the real `ipcrawl` binary against
//! local RDAP servers on 127.0.0.1 (never any other host). Modules by theme:
//!
//! - `util`: a unique temp dir per test, running the binary, JSON helpers;
//! - `server`: the world crate's scripted mode (five RDAP servers answering
//!   from each test's function: the real fixtures in `tests/fixtures/rdap/`,
//!   redirects, 404s, 5xx, streams) and the `crawl` arguments aimed at it;
//! - `pipeline`: gen-seeds → crawl → coverage → export → lookup → stats;
//! - `hostile`: hostile answers (huge, endless, broken, redirect tricks,
//!   10^6 entities with the crawl's peak memory measured);
//! - `pauses`: 429s with `Retry-After: 0`, huge, dated or garbage values,
//!   and a registry's work put off after its pause budget;
//! - `files`: truncated, corrupt, foreign and other-version DBs, a read-only
//!   directory, a disk that fills during a crawl;
//! - `integrity`: single-byte flips in a copy of a real DB refused or
//!   harmless (never a silently different export), and the open errors: a
//!   DB in use, a missing directory, a denied permission;
//! - `cli`: command-line errors and exit codes;
//! - `localworld`: `ipcrawl world` as a subprocess, and crawls against it
//!   that can be killed, interrupted and resumed;
//! - `resume`: kill -9 and Ctrl-C at several points, then resume;
//! - `shards`: `--shard K/N` crawls and their merge against one full crawl;
//! - `merge`: `merge` refusals and guarantees;
//! - `outputs`: export formats from the file name, Parquet read back, UTC
//!   dates, integer addresses, escaped control characters, `--raw`, outputs
//!   replaced whole (a full disk leaves the old file), the DB refused as an
//!   output, killed runs' temporaries removed;
//! - `people`: the map's pixels, `lookup` statuses/stdin/table, completions,
//!   the man page, `-q`/`-v`, closed pipes;
//! - `recipes`: the Slurm and ssh scale-out scripts with stand-in schedulers;
//! - `offline`: no registry reachable (refused, DNS, timeouts): the causes
//!   named and the offline stop;
//! - `signals`: SIGTERM and SIGHUP at once and mid-crawl, `nohup`, and one
//!   Ctrl-C to `scripts/shards-local.sh`;
//! - `dumps`: `import` of world-written dumps and real excerpts, the crawl
//!   after it, newer dumps, hostile dumps;
//! - `compat`: databases written by earlier versions (`tests/fixtures/db/`);
//! - `fresh`: the delegated statistics fetched from an aged world, the
//!   bundle alone, and the fallbacks (stale, truncated, garbage, 404,
//!   refused; stored copies kept), `--delegated` files;
//! - `pauses`: 429s with `Retry-After: 0`, huge, dated or garbage values;
//! - `refresh`: `crawl --refresh` from an epoch-0 DB against the epoch-1
//!   world, compared with a fresh crawl; `export --history`; `--max-age`;
//! - `watch`: `stats` and `coverage` on a DB a running crawl holds (its
//!   live status file), with no status file, a stale one; a refused echo
//!   answer recorded for good.

mod cli;
mod compat;
mod dumps;
mod files;
mod fresh;
mod hostile;
mod integrity;
mod localworld;
mod merge;
mod offline;
mod outputs;
mod pauses;
mod people;
mod pipeline;
mod recipes;
mod refresh;
mod resume;
mod search;
mod search_hostile;
mod server;
mod shards;
mod signals;
mod util;
mod watch;
