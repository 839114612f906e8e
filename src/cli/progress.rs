//! Crawl progress on stderr: a live bar on a terminal, one JSON line per
//! interval otherwise (`--progress`), rendered from the library's
//! [`Progress`] snapshots.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use ipcrawl::crawl::Progress;
use ipcrawl::rdap::Registry;

/// How progress is shown on stderr.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProgressArg {
    /// A live bar on a terminal, JSON lines otherwise.
    Auto,
    /// A live bar.
    Bar,
    /// One JSON line per interval.
    Json,
    /// Nothing.
    None,
}

impl ProgressArg {
    /// `Auto` resolved: a bar when stderr is a terminal, JSON lines otherwise.
    pub fn resolve(self) -> ProgressArg {
        match self {
            ProgressArg::Auto if std::io::stderr().is_terminal() => ProgressArg::Bar,
            ProgressArg::Auto => ProgressArg::Json,
            m => m,
        }
    }
}

/// Renders progress: a bar on a terminal, JSON lines otherwise.
pub struct View {
    mode: ProgressArg,
    every: Duration,
    last: Option<Instant>,
    prev: Option<(Instant, [u64; 5], u64)>,
    bar: Option<indicatif::ProgressBar>,
}

impl View {
    /// A renderer in `mode` (JSON lines at most every `every`).
    pub fn new(mode: ProgressArg, every: Duration) -> View {
        let bar = (mode == ProgressArg::Bar).then(|| {
            let b = indicatif::ProgressBar::new(1);
            b.set_style(
                indicatif::ProgressStyle::with_template(
                    "{elapsed_precise} [{bar:30}] {percent:>3}% ETA {eta} {msg}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
                .progress_chars("=> "),
            );
            b
        });
        View {
            mode,
            every,
            last: None,
            prev: None,
            bar,
        }
    }

    /// Per-registry and total query rates since the previous call.
    fn rates(&mut self, p: &Progress) -> ([f64; 5], f64) {
        let now = Instant::now();
        let q: [u64; 5] = Registry::ALL.map(|r| {
            p.snapshot
                .by_registry
                .get(r.name())
                .map_or(0, |s| s.queries)
        });
        let mut per = [0.0; 5];
        let mut total = 0.0;
        if let Some((t, pq, pt)) = self.prev {
            let dt = now.duration_since(t).as_secs_f64().max(1e-3);
            for i in 0..5 {
                per[i] = (q[i] - pq[i].min(q[i])) as f64 / dt;
            }
            total = (p.run_queries - pt.min(p.run_queries)) as f64 / dt;
        }
        self.prev = Some((now, q, p.run_queries));
        (per, total)
    }

    /// Shows one snapshot.
    pub fn show(&mut self, p: &Progress) {
        match self.mode {
            ProgressArg::None | ProgressArg::Auto => {}
            ProgressArg::Bar => {
                let (per, total) = self.rates(p);
                if let Some(b) = &self.bar {
                    b.set_length(p.total.max(1));
                    b.set_position(p.swept);
                    let regs: Vec<String> = Registry::ALL
                        .iter()
                        .zip(per)
                        .filter(|(_, r)| *r > 0.0)
                        .map(|(reg, r)| format!("{reg} {r:.0}/s"))
                        .collect();
                    let paused: Vec<String> = p
                        .paused
                        .iter()
                        .map(|(r, d)| format!("{r} {}s", d.as_secs()))
                        .collect();
                    b.set_message(format!(
                        "{} queries ({total:.0}/s) {} nets{}{}",
                        p.run_queries,
                        p.snapshot.got_whois,
                        if regs.is_empty() {
                            String::new()
                        } else {
                            format!(" | {}", regs.join(" "))
                        },
                        if paused.is_empty() {
                            String::new()
                        } else {
                            format!(" | paused: {}", paused.join(" "))
                        },
                    ));
                }
            }
            ProgressArg::Json => {
                if self.last.is_some_and(|t| t.elapsed() < self.every) {
                    return;
                }
                self.last = Some(Instant::now());
                let (per, total) = self.rates(p);
                let paused: serde_json::Map<String, serde_json::Value> = p
                    .paused
                    .iter()
                    .map(|(r, d)| (r.name().to_string(), serde_json::json!(d.as_secs_f64())))
                    .collect();
                let rates: serde_json::Map<String, serde_json::Value> = Registry::ALL
                    .iter()
                    .zip(per)
                    .map(|(r, q)| {
                        (
                            r.name().to_string(),
                            serde_json::json!((q * 10.0).round() / 10.0),
                        )
                    })
                    .collect();
                let line = serde_json::json!({
                    "elapsed_s": (p.elapsed.as_secs_f64() * 10.0).round() / 10.0,
                    "swept": p.swept,
                    "total": p.total,
                    "percent": if p.total == 0 { 100.0 } else { (p.swept as f64 * 10000.0 / p.total as f64).round() / 100.0 },
                    "eta_s": p.eta().map(|d| d.as_secs()),
                    "run_queries": p.run_queries,
                    "qps": (total * 10.0).round() / 10.0,
                    "qps_by_registry": rates,
                    "paused": paused,
                    "counters": p.snapshot,
                });
                eprintln!("{line}");
            }
        }
    }

    /// Ends the bar, if any.
    pub fn finish(&mut self) {
        if let Some(b) = self.bar.take() {
            b.finish();
        }
    }
}
