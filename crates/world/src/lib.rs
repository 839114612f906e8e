//! The local RDAP world: one real HTTP server per registry on 127.0.0.1,
//! serving networks built from real allocation data, for tests, offline
//! rehearsals and benchmarks (DESIGN §5).
//!
//! - [`model`]: top-level networks from the delegated statistics inside the
//!   scope, routed by the IANA bootstrap, with seeded nested reassignments;
//!   what each server answers (network, 301 to the holder, placeholder, 404);
//! - [`render`]: the answer bodies in each registry's JSON style;
//! - [`http`]: the hand-written HTTP/1.1 core (listeners, connections,
//!   request heads, replies whole, paced, cut or dropped, shutdown);
//! - [`service`]: the world's answers on that core: routing to the model, rate
//!   limits, faults, counters, the request log;
//! - [`search`]: RFC 9910 RIR search (up, top, down, bottom) over the model,
//!   and its answers;
//! - [`scripted`]: the scripted mode: the same servers answering from a
//!   caller's function (for tests needing exact or hostile answers);
//! - [`truth`]: the ground truth (networks, covered addresses, oracle queries).
//! - [`http`]: the hand-written HTTP/1.1 server with rate limits and faults;
//! - [`truth`]: the ground truth (networks, covered addresses, oracle queries);
//! - [`epoch`]: the same world N years on (`--epoch N`);
//! - [`stats`]: the world's own delegated statistics, served by each
//!   registry's server at [`stats::url_path`] and written by `--stats-dir DIR`;
//! - [`dumps`]: bulk dumps in RIPE NCC's, APNIC's and AFRINIC's RPSL styles (`--dumps DIR`).
//!
//! ```no_run
//! use ipcrawl_world::{World, WorldConfig};
//! use ipcrawl_core::rdap::Registry;
//! let world = World::start(WorldConfig::default()).unwrap();
//! println!("{}", world.base_url(Registry::Ripe)); // http://127.0.0.1:PORT/
//! world.shutdown();
//! ```

pub mod dumps;
pub mod epoch;
pub mod http;
pub mod model;
pub mod render;
pub mod scripted;
pub mod search;
pub mod service;
pub mod stats;
pub mod truth;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use serde::Serialize;

use ipcrawl_core::delegated::Delegation;
use ipcrawl_core::prefix::Cidr;
use ipcrawl_core::rdap::Registry;

pub use model::{Bootstrap, GenParams, Model, ModelError};
pub use scripted::Scripted;
pub use search::{OverLimit, SearchConfig, SearchLimit};
pub use truth::Truth;

/// The default scope: five /8s of five registries, with transfers in 1.0.0.0/8
/// (APNIC's, holding RIPE NCC and ARIN blocks).
pub const DEFAULT_SCOPE: [&str; 5] = [
    "1.0.0.0/8",
    "23.0.0.0/8",
    "41.0.0.0/8",
    "185.0.0.0/8",
    "200.0.0.0/8",
];

/// A per-registry rate limit: over it, the server answers 429.
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct RateLimit {
    /// Requests per second (the bucket also holds that many, at least 1).
    pub per_second: f64,
    /// Whether 429s carry `Retry-After` (seconds until a token is back).
    pub retry_after: bool,
}

/// Fault injection: fractions of requests (0..1, drawn independently per
/// request from the seed, the registry, the target and its attempt number).
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct Faults {
    /// Answer 500/502/503/504.
    pub server_error: f64,
    /// Close the connection without answering.
    pub drop: f64,
    /// Answer after `slow_delay`.
    pub slow: f64,
    /// Send the headers and half the body, then close.
    pub truncate: f64,
    /// How late a slow answer is. Defaults to 2 s.
    pub slow_delay: Duration,
}

impl Default for Faults {
    fn default() -> Faults {
        Faults {
            server_error: 0.0,
            drop: 0.0,
            slow: 0.0,
            truncate: 0.0,
            slow_delay: Duration::from_secs(2),
        }
    }
}

/// How to build and run a world.
#[derive(Clone, Debug)]
pub struct WorldConfig {
    /// Prefixes the world covers (reserved and unrouted parts are cut away).
    /// Defaults to [`DEFAULT_SCOPE`].
    pub scope: Vec<Cidr>,
    /// Seed of everything random. Defaults to 1.
    pub seed: u64,
    /// Nesting density: 1.0 (default) draws the realistic mix; 0 gives only
    /// the delegated blocks; 2 about twice as many reassignments.
    pub density: f64,
    /// Per-registry rate limits, indexed by [`Registry::index`]. Defaults to none.
    pub rate: [Option<RateLimit>; 5],
    /// Added to every answer. Defaults to 0.
    pub latency: Duration,
    /// Fault injection. Defaults to none.
    pub faults: Faults,
    /// Request log file (one line per request). Defaults to none.
    pub log: Option<PathBuf>,
    /// Delegations to build from; `None` (default) uses [`ipcrawl_core::delegated::bundled`].
    pub delegations: Option<Vec<Delegation>>,
    /// IANA bootstrap JSON; `None` (default) uses the bundled copy.
    pub bootstrap_json: Option<String>,
    /// By [`Registry::index`]: which registries serve RFC 9910 RIR search
    /// (`ips/rirSearch1/...`, listed in their `help`). Defaults to ARIN and
    /// RIPE NCC, the two that serve it as far as public sources show.
    pub search: [bool; 5],
    /// By [`Registry::index`]: each search server's result-set limit.
    /// Defaults to [`SearchLimit::default_for`] (10,000; ARIN truncates, the
    /// others refuse with "Too Many Rows").
    pub search_limits: [SearchLimit; 5],
    /// Years the world is aged ([`epoch`]); 0 (default) is the world as built.
    pub epoch: u32,
}

impl Default for WorldConfig {
    fn default() -> WorldConfig {
        WorldConfig {
            scope: DEFAULT_SCOPE
                .iter()
                .filter_map(|s| s.parse().ok())
                .collect(),
            seed: 1,
            density: 1.0,
            rate: [None; 5],
            latency: Duration::ZERO,
            faults: Faults::default(),
            log: None,
            delegations: None,
            bootstrap_json: None,
            search: SearchConfig::default().enabled,
            search_limits: SearchConfig::default().limits,
            epoch: 0,
        }
    }
}

impl WorldConfig {
    /// Builds the model this configuration serves (aged by `epoch` years),
    /// without starting any server: for writing statistics and dumps.
    pub fn model(&self) -> Result<Model, Error> {
        let bootstrap = Bootstrap::parse(
            self.bootstrap_json
                .as_deref()
                .unwrap_or(model::BUNDLED_BOOTSTRAP),
        )?;
        let bundled;
        let delegations: &[Delegation] = if let Some(d) = &self.delegations {
            d
        } else {
            bundled = ipcrawl_core::delegated::bundled();
            &bundled
        };
        let params = GenParams {
            density: self.density,
        };
        let model = Model::build(bootstrap, &self.scope, delegations, self.seed, params)?;
        let mut aged = epoch::age(model, self.seed, params, self.epoch);
        // Which networks their children cover wholly (search's `rdap-bottom`)
        // follows the aged nesting.
        model::mark_filled(&mut aged.nets);
        Ok(aged)
    }
}

/// Why a world did not start.
#[derive(Debug)]
pub enum Error {
    /// The model could not be built.
    Model(ModelError),
    /// Binding a listener, spawning a thread or opening the log failed.
    Io {
        /// What was being done.
        what: String,
        /// The cause.
        source: std::io::Error,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Model(e) => write!(f, "cannot build the world: {e}"),
            Error::Io { what, source } => write!(f, "cannot {what}: {source}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Model(e) => Some(e),
            Error::Io { source, .. } => Some(source),
        }
    }
}

impl From<ModelError> for Error {
    fn from(e: ModelError) -> Error {
        Error::Model(e)
    }
}

/// Request counters of one registry's server.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Every request read (including bad ones).
    pub requests: u64,
    /// 200 with a real network.
    pub networks: u64,
    /// 200 with a placeholder.
    pub placeholders: u64,
    /// 301 to another registry.
    pub redirects: u64,
    /// 404.
    pub not_found: u64,
    /// 429.
    pub rate_limited: u64,
    /// 400/405 and unknown paths.
    pub bad_requests: u64,
    /// Injected 5xx.
    pub fault_5xx: u64,
    /// Injected drops.
    pub fault_drop: u64,
    /// Injected slow answers.
    pub fault_slow: u64,
    /// Injected truncations.
    pub fault_truncate: u64,
    /// Requests on `ips/rirSearch1/...` (any answer).
    pub searches: u64,
    /// Network objects in search answers.
    pub search_results: u64,
    /// Search result sets refused ("Too Many Rows") or truncated for their size.
    pub search_cut: u64,
    /// `help` requests.
    pub help: u64,
    /// Requests for the registry's delegated statistics (`GET /` +
    /// [`stats::url_path`]; also counted in `requests`).
    pub stats: u64,
}

/// The world builder.
pub struct World;

impl World {
    /// Builds the model, binds one listener per registry on `127.0.0.1:0` and
    /// serves on background threads until [`WorldHandle::shutdown`] (or drop).
    pub fn start(cfg: WorldConfig) -> Result<WorldHandle, Error> {
        let model = cfg.model()?;
        let listeners = http::Listeners::bind()?;
        let log = match &cfg.log {
            Some(p) => Some(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(p)
                    .map_err(|source| Error::Io {
                        what: format!("open the request log {}", p.display()),
                        source,
                    })?,
            ),
            None => None,
        };
        let service = service::WorldService::new(
            model,
            listeners.bases(),
            service::Behaviour {
                seed: cfg.seed,
                rate: cfg.rate,
                latency: cfg.latency,
                faults: cfg.faults,
                log,
                search: SearchConfig {
                    enabled: cfg.search,
                    limits: cfg.search_limits,
                },
            },
        );
        Ok(WorldHandle {
            servers: listeners.serve(Arc::new(service))?,
            seed: cfg.seed,
            density: cfg.density,
            search: cfg.search,
            truth: OnceLock::new(),
        })
    }

    /// The scripted mode: five servers on `127.0.0.1:0` whose answers come
    /// from `script(registry, request, bases)`; see [`scripted`].
    pub fn scripted(
        script: impl Fn(Registry, &http::Request, &render::Bases) -> http::Reply + Send + Sync + 'static,
    ) -> Result<Scripted, Error> {
        Scripted::start(script)
    }
}

/// A running world.
pub struct WorldHandle {
    servers: http::Servers<service::WorldService>,
    seed: u64,
    density: f64,
    search: [bool; 5],
    truth: OnceLock<Truth>,
}

impl WorldHandle {
    /// The registry's base URL, `http://127.0.0.1:PORT/` (ends with `/`; append `ip/ADDR`).
    pub fn base_url(&self, r: Registry) -> String {
        self.servers.bases()[r.index()].clone()
    }

    /// `(registry, base URL)` for all five.
    pub fn urls(&self) -> Vec<(Registry, String)> {
        Registry::ALL
            .iter()
            .map(|&r| (r, self.base_url(r)))
            .collect()
    }

    /// The request counters of one registry's server.
    pub fn counters(&self, r: Registry) -> Counts {
        self.servers.handler().counters(r)
    }

    /// The request counters of all five, by [`Registry::index`].
    pub fn all_counters(&self) -> [Counts; 5] {
        Registry::ALL.map(|r| self.counters(r))
    }

    /// The world's networks and routing.
    pub fn model(&self) -> &Model {
        &self.servers.handler().model
    }

    /// The registry's delegated-statistics file for this world
    /// ([`stats::render`]), as its server serves it at [`stats::url_path`].
    pub fn stats(&self, r: Registry) -> Vec<u8> {
        self.servers.handler().stats_file(r).to_vec()
    }

    /// The URL of the registry's delegated statistics on its server.
    pub fn stats_url(&self, r: Registry) -> String {
        format!("{}{}", self.base_url(r), stats::url_path(r))
    }

    /// The ground truth (computed once).
    pub fn truth(&self) -> &Truth {
        self.truth
            .get_or_init(|| Truth::compute(self.model(), self.seed, self.density, self.search))
    }

    /// Writes the ground truth as JSON.
    pub fn write_truth(&self, path: &Path) -> Result<(), Error> {
        let io = |source| Error::Io {
            what: format!("write the truth file {}", path.display()),
            source,
        };
        let f = std::fs::File::create(path).map_err(io)?;
        let mut w = std::io::BufWriter::new(f);
        serde_json::to_writer(&mut w, self.truth()).map_err(|e| io(e.into()))?;
        std::io::Write::flush(&mut w).map_err(io)
    }

    /// Stops accepting, closes open connections and joins the accept threads.
    pub fn shutdown(self) {
        self.servers.shutdown();
    }
}

#[cfg(test)]
mod tests;
