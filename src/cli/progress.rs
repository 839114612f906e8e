//! Crawl progress on stderr: a live bar on a terminal, one JSON line per
//! interval otherwise (`--progress`), rendered from the library's
//! [`Progress`] snapshots.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use ipcrawl::crawl::politeness::Why;
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
                    let paused = paused_text(p);
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
                let (paused, put_off) = paused_json(p);
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
                    "put_off": put_off,
                    "counters": p.snapshot,
                });
                eprintln!("{line}");
            }
        }
    }

    /// A one-line message on stderr, above the bar when there is one.
    pub fn note(&self, line: &str) {
        match &self.bar {
            Some(b) => b.println(line),
            None => eprintln!("{line}"),
        }
    }

    /// Ends the bar, if any.
    pub fn finish(&mut self) {
        if let Some(b) = self.bar.take() {
            b.finish();
        }
    }
}

/// The bar's pause notes: `arin 59s (429, Retry-After 86400 s capped at
/// 3600 s)`, `lacnic put off`.
fn paused_text(p: &Progress) -> Vec<String> {
    p.paused
        .iter()
        .map(|x| format!("{} {}s ({})", x.registry, x.left.as_secs(), x.why))
        .chain(p.put_off.iter().map(|o| format!("{} put off", o.registry)))
        .collect()
}

type JsonMap = serde_json::Map<String, serde_json::Value>;

/// The JSON line's `paused` (registry → time left, why, the Retry-After
/// asked for) and `put_off` (registry → the one-line reason) members.
fn paused_json(p: &Progress) -> (JsonMap, JsonMap) {
    let paused = p
        .paused
        .iter()
        .map(|x| {
            let asked = match x.why {
                Why::RateLimited { asked, .. } => asked,
                Why::Breaker { .. } => None,
            };
            let v = serde_json::json!({
                "left_s": x.left.as_secs_f64(),
                "why": x.why.to_string(),
                "retry_after_s": asked,
            });
            (x.registry.name().to_string(), v)
        })
        .collect();
    let put_off = p
        .put_off
        .iter()
        .map(|o| (o.registry.name().to_string(), o.to_string().into()))
        .collect();
    (paused, put_off)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ipcrawl::crawl::politeness::{Pause, PutOff};
    use ipcrawl::crawl::telemetry::Snapshot;

    #[test]
    fn paused_registries_show_why_and_what_the_server_asked() {
        let p = Progress {
            snapshot: Snapshot::default(),
            run_queries: 0,
            swept: 0,
            total: 0,
            elapsed: Duration::ZERO,
            paused: vec![
                Pause {
                    registry: Registry::Arin,
                    left: Duration::from_secs(3599),
                    why: Why::RateLimited {
                        asked: Some(86_400),
                        streak: 1,
                    },
                },
                Pause {
                    registry: Registry::Afrinic,
                    left: Duration::from_secs(30),
                    why: Why::Breaker { trips: 1 },
                },
            ],
            put_off: vec![PutOff {
                registry: Registry::Lacnic,
                paused: Duration::from_secs(4 * 3600),
                max_pause: Duration::from_secs(4 * 3600),
                limits: 17,
                asked: None,
            }],
        };
        assert_eq!(
            paused_text(&p),
            [
                "arin 3599s (429, Retry-After 86400 s capped at 3600 s)",
                "afrinic 30s (circuit open (trip 1))",
                "lacnic put off"
            ]
        );
        let (paused, put_off) = paused_json(&p);
        assert_eq!(
            serde_json::Value::Object(paused),
            serde_json::json!({
                "arin": {"left_s": 3599.0, "why": "429, Retry-After 86400 s capped at 3600 s", "retry_after_s": 86400},
                "afrinic": {"left_s": 30.0, "why": "circuit open (trip 1)", "retry_after_s": null},
            })
        );
        let reason = put_off["lacnic"].as_str().unwrap();
        assert!(
            reason.starts_with("lacnic: 17 rate limits (429) paused it for 4 h"),
            "{reason}"
        );
    }
}
