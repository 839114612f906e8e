//! The scripted registries: the world crate's scripted mode (five servers on
//! 127.0.0.1:0, answers from the test's `script(registry, request, bases)`,
//! every request logged; `ipcrawl::world::scripted`), plus the `crawl`
//! arguments that point the binary at them.

pub use ipcrawl::rdap::Registry;
pub use ipcrawl::world::http::{Reply, Request, Stream};
pub use ipcrawl::world::render::Bases;
pub use ipcrawl::world::scripted::{ip_of, not_found};
pub use ipcrawl::world::Scripted as Registries;

/// Starts the five scripted servers.
pub fn start(
    script: impl Fn(Registry, &Request, &Bases) -> Reply + Send + Sync + 'static,
) -> Registries {
    ipcrawl::world::World::scripted(script).expect("start the scripted registries")
}

/// The command-line arguments that aim `ipcrawl` at scripted registries.
pub trait CrawlArgs {
    /// `--registry NAME=URL` for all five.
    fn args(&self) -> Vec<String>;
    /// `crawl` arguments: all five `--registry` overrides, no rate limit, no
    /// progress display, then `extra`.
    fn crawl_args(&self, extra: &[&str]) -> Vec<String>;
}

impl CrawlArgs for Registries {
    fn args(&self) -> Vec<String> {
        Registry::ALL
            .iter()
            .flat_map(|&r| {
                [
                    "--registry".to_string(),
                    format!("{r}={}", self.base_url(r)),
                ]
            })
            .collect()
    }

    fn crawl_args(&self, extra: &[&str]) -> Vec<String> {
        // The scripted servers answer lookups only: no `help` probes to
        // count among their requests (search has its own tests, against
        // the world).
        let mut v: Vec<String> = ["crawl", "--progress", "none", "--search", "off"]
            .map(String::from)
            .to_vec();
        for r in Registry::ALL {
            v.extend(["--rate".to_string(), format!("{r}=unlimited")]);
        }
        v.extend(extra.iter().map(ToString::to_string));
        v.extend(self.args());
        v
    }
}

/// Dotted quad → u32.
pub fn a(s: &str) -> u32 {
    u32::from(s.parse::<std::net::Ipv4Addr>().expect("dotted quad"))
}
