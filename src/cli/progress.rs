//! Crawl progress on stderr: a live bar on a terminal, one JSON line per
//! interval otherwise (`--progress`), rendered from the library's
//! [`Progress`] snapshots.
//!
//! Rates and the ETA are smoothed ([`Ewma`]): every snapshot (4 a second)
//! feeds exponentially weighted rates with a time constant of [`TAU`], so a
//! tick in which no answer happened to arrive does not show 0/s, and a
//! slowdown shows within tens of seconds.
//!
//! The ETA is taken per registry and the largest one shown: each registry's
//! addresses left divided by the smoothed rate at which its lanes are swept.
//! Per registry, because the registries run side by side at very different
//! rates (LACNIC's limit is 10/min, ARIN's 10/s): the crawl ends when the
//! slowest one does, and a figure from all addresses together would promise
//! the end when the fast ones are done. Addresses and not queries, because
//! the addresses left are known exactly and the queries left are not (they
//! depend on how finely the rest of the space is divided); an estimate
//! "queries left = addresses left × recent queries per address" at the
//! recent query rate comes to the same figure, since the queries cancel out.
//! A single answer can sweep a /8 at once; the smoothing spreads such jumps
//! over [`TAU`].
//!
//! What a line shows, on the bar and in the JSON (`eta_s`, `qps`,
//! `qps_by_registry`, `transport_failures`): see the README's "Progress".

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use ipcrawl::crawl::politeness::Why;
use ipcrawl::crawl::telemetry::TransportCount;
use ipcrawl::crawl::Progress;
use ipcrawl::rdap::{Registry, Transport};

/// The time constant of the smoothed rates: a rate is the average over
/// about the last [`TAU`], older time weighing exponentially less.
pub const TAU: Duration = Duration::from_secs(20);
/// History needed before an ETA is shown (before that, "ETA ?").
const MIN_HISTORY: Duration = Duration::from_secs(3);
/// Longer estimates are shown as unknown (a paused crawl, a stall).
const MAX_ETA: Duration = Duration::from_secs(100 * 24 * 3600);

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

/// The exponentially weighted rate of a growing count, fed at irregular
/// times: the increments and the elapsed time both decay by
/// `exp(-dt / tau)`, and the rate is their ratio. At the start (less history
/// than `tau`) it is the plain average so far, with no bias towards 0.
#[derive(Clone, Copy, Debug)]
pub struct Ewma {
    tau: f64,
    /// Decayed sum of increments.
    amount: f64,
    /// Decayed sum of elapsed seconds.
    time: f64,
    last: Option<(f64, u64)>,
}

impl Ewma {
    /// An empty rate with time constant `tau`.
    pub fn new(tau: Duration) -> Ewma {
        Ewma {
            tau: tau.as_secs_f64().max(1e-3),
            amount: 0.0,
            time: 0.0,
            last: None,
        }
    }

    /// Feeds the count's value `count` at time `at` (both never go back; a
    /// step back is taken as a new start).
    pub fn observe(&mut self, at: Duration, count: u64) {
        let t = at.as_secs_f64();
        if let Some((t0, c0)) = self.last {
            if t < t0 || count < c0 {
                *self = Ewma::new(Duration::from_secs_f64(self.tau));
            } else {
                let dt = t - t0;
                let decay = (-dt / self.tau).exp();
                self.amount = self.amount * decay + (count - c0) as f64;
                self.time = self.time * decay + dt;
            }
        }
        self.last = Some((t, count));
    }

    /// Per second; `None` before any time has passed.
    pub fn rate(&self) -> Option<f64> {
        (self.time > 0.0).then(|| self.amount / self.time)
    }

    /// The history behind [`Ewma::rate`], in (decayed) seconds.
    pub fn history(&self) -> Duration {
        Duration::from_secs_f64(self.time)
    }
}

/// The smoothed figures: swept addresses and queries, per registry.
#[derive(Clone, Debug)]
pub struct Estimate {
    swept: [Ewma; 5],
    left: [u64; 5],
    queries: Ewma,
    queries_by: [Ewma; 5],
}

impl Default for Estimate {
    fn default() -> Estimate {
        Estimate::new(TAU)
    }
}

impl Estimate {
    /// Empty, with time constant `tau`.
    pub fn new(tau: Duration) -> Estimate {
        Estimate {
            swept: [Ewma::new(tau); 5],
            left: [0; 5],
            queries: Ewma::new(tau),
            queries_by: [Ewma::new(tau); 5],
        }
    }

    /// Feeds one snapshot.
    pub fn observe(&mut self, p: &Progress) {
        self.observe_counts(p.elapsed, p.by_registry, p.run_queries, registry_queries(p));
    }

    /// [`Estimate::observe`] from plain numbers: at `elapsed`, per registry
    /// (swept, total) addresses; `queries` sent, per registry `queries_by`.
    pub fn observe_counts(
        &mut self,
        elapsed: Duration,
        swept: [(u64, u64); 5],
        queries: u64,
        queries_by: [u64; 5],
    ) {
        for (i, (s, total)) in swept.into_iter().enumerate() {
            self.swept[i].observe(elapsed, s);
            self.left[i] = total.saturating_sub(s);
            self.queries_by[i].observe(elapsed, queries_by[i]);
        }
        self.queries.observe(elapsed, queries);
    }

    /// Time left: the largest of the registries' [`Estimate::eta_of`].
    /// `None` while any registry's is unknown.
    pub fn eta(&self) -> Option<Duration> {
        let mut worst = Duration::ZERO;
        for r in Registry::ALL {
            worst = worst.max(self.eta_of(r)?);
        }
        Some(worst)
    }

    /// Time left for one registry's lanes: its addresses left at its
    /// smoothed sweep rate (zero when it has none left). `None` until there
    /// is enough history, or while it sweeps nothing (a pause, a stall).
    pub fn eta_of(&self, r: Registry) -> Option<Duration> {
        let (e, left) = (&self.swept[r.index()], self.left[r.index()]);
        if left == 0 {
            return Some(Duration::ZERO);
        }
        if e.history() < MIN_HISTORY {
            return None;
        }
        let secs = left as f64 / e.rate().filter(|r| *r > 0.0)?;
        (secs < MAX_ETA.as_secs_f64()).then(|| Duration::from_secs_f64(secs))
    }

    /// Smoothed queries per second, all registries.
    pub fn qps(&self) -> f64 {
        self.queries.rate().unwrap_or(0.0)
    }

    /// Smoothed queries per second of one registry.
    pub fn qps_of(&self, r: Registry) -> f64 {
        self.queries_by[r.index()].rate().unwrap_or(0.0)
    }
}

/// Queries per registry, in [`Registry::ALL`] order (cumulative).
fn registry_queries(p: &Progress) -> [u64; 5] {
    Registry::ALL.map(|r| {
        p.snapshot
            .by_registry
            .get(r.name())
            .map_or(0, |s| s.queries)
    })
}

/// A rate for people: `12/s`, `2.5/s`, `10/min` (LACNIC's limit), `<1/min`.
pub fn fmt_rate(per_s: f64) -> String {
    if per_s >= 9.95 {
        format!("{per_s:.0}/s")
    } else if per_s >= 0.995 {
        format!("{per_s:.1}/s")
    } else if per_s * 60.0 >= 0.5 {
        format!("{:.0}/min", per_s * 60.0)
    } else if per_s > 0.0 {
        "<1/min".into()
    } else {
        "0/s".into()
    }
}

/// A duration for people: `45s`, `12m05s`, `3h20m`, `2d04h`.
pub fn fmt_eta(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m{:02}s", s / 60, s % 60),
        3600..86_400 => format!("{}h{:02}m", s / 3600, s % 3600 / 60),
        _ => format!("{}d{:02}h", s / 86_400, s % 86_400 / 3600),
    }
}

/// `12 DNS failures`, `1 refused connection`, ...
pub fn fmt_cause(cause: Transport, n: u64) -> String {
    let noun = match cause {
        Transport::Dns => "DNS failure",
        Transport::Refused => "refused connection",
        Transport::Unreachable => "unreachable-network error",
        Transport::ConnectTimeout => "connect timeout",
        Transport::Timeout => "request timeout",
        Transport::Reset => "connection reset",
        Transport::Tls => "TLS error",
        Transport::Other => "transport error",
    };
    format!("{n} {noun}{}", if n == 1 { "" } else { "s" })
}

/// Per registry with transport failures: `ripe: 12 DNS failures, 3 connect timeouts`.
pub fn fmt_transport(counts: &[TransportCount]) -> Vec<String> {
    Registry::ALL
        .iter()
        .filter_map(|&r| {
            let mine: Vec<String> = counts
                .iter()
                .filter(|c| c.registry == r && c.count > 0)
                .map(|c| fmt_cause(c.cause, c.count))
                .collect();
            (!mine.is_empty()).then(|| format!("{r}: {}", mine.join(", ")))
        })
        .collect()
}

/// The bar's message: ETA, queries and rate, networks, per-registry rates,
/// paused registries, transport failures.
pub fn bar_message(p: &Progress, e: &Estimate) -> String {
    let eta = e.eta().map_or_else(|| "?".into(), fmt_eta);
    // The registries still sweeping (a finished one's rate only decays).
    let regs: Vec<String> = Registry::ALL
        .iter()
        .filter(|r| {
            let (swept, total) = p.by_registry[r.index()];
            swept < total && e.qps_of(**r) > 0.0
        })
        .map(|r| format!("{r} {}", fmt_rate(e.qps_of(*r))))
        .collect();
    let paused = paused_text(p);
    let mut parts = vec![format!(
        "ETA {eta} | {} queries ({}) {} nets",
        p.run_queries,
        fmt_rate(e.qps()),
        p.snapshot.got_whois
    )];
    if !regs.is_empty() {
        parts.push(regs.join(" "));
    }
    if !paused.is_empty() {
        parts.push(format!("paused: {}", paused.join(" ")));
    }
    parts.extend(fmt_transport(&p.run_transport));
    parts.join(" | ")
}

/// One JSON progress line.
pub fn json_line(p: &Progress, e: &Estimate) -> serde_json::Value {
    let round2 = |x: f64| (x * 100.0).round() / 100.0;
    let (paused, put_off) = paused_json(p);
    let rates: serde_json::Map<String, serde_json::Value> = Registry::ALL
        .iter()
        .map(|r| {
            (
                r.name().to_string(),
                serde_json::json!(round2(e.qps_of(*r))),
            )
        })
        .collect();
    let registries: serde_json::Map<String, serde_json::Value> = Registry::ALL
        .iter()
        .map(|&r| {
            let (swept, total) = p.by_registry[r.index()];
            let v = serde_json::json!({
                "swept": swept,
                "total": total,
                "eta_s": e.eta_of(r).map(|d| d.as_secs()),
            });
            (r.name().to_string(), v)
        })
        .collect();
    let mut transport = serde_json::Map::new();
    for c in &p.run_transport {
        let entry = transport
            .entry(c.registry.name())
            .or_insert_with(|| serde_json::json!({}));
        entry[c.cause.key()] = c.count.into();
    }
    serde_json::json!({
        "elapsed_s": (p.elapsed.as_secs_f64() * 10.0).round() / 10.0,
        "swept": p.swept,
        "total": p.total,
        "percent": if p.total == 0 { 100.0 } else { (p.swept as f64 * 10000.0 / p.total as f64).round() / 100.0 },
        "eta_s": e.eta().map(|d| d.as_secs()),
        "run_queries": p.run_queries,
        "qps": round2(e.qps()),
        "qps_by_registry": rates,
        "by_registry": registries,
        "paused": paused,
        "put_off": put_off,
        "transport_failures": transport,
        "counters": p.snapshot,
    })
}

/// Renders progress: a bar on a terminal, JSON lines otherwise.
pub struct View {
    mode: ProgressArg,
    every: Duration,
    last: Option<Instant>,
    estimate: Estimate,
    bar: Option<indicatif::ProgressBar>,
}

impl View {
    /// A renderer in `mode` (JSON lines at most every `every`).
    pub fn new(mode: ProgressArg, every: Duration) -> View {
        let bar = (mode == ProgressArg::Bar).then(|| {
            let b = indicatif::ProgressBar::new(1);
            b.set_style(
                // No `{eta}`: indicatif's own estimate jumps with the swept
                // addresses; ours is in the message.
                indicatif::ProgressStyle::with_template(
                    "{elapsed_precise} [{bar:30}] {percent:>3}% {msg}",
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
            estimate: Estimate::default(),
            bar,
        }
    }

    /// Shows one snapshot (every snapshot feeds the smoothed rates, shown
    /// or not).
    pub fn show(&mut self, p: &Progress) {
        self.estimate.observe(p);
        match self.mode {
            ProgressArg::None | ProgressArg::Auto => {}
            ProgressArg::Bar => {
                if let Some(b) = &self.bar {
                    b.set_length(p.total.max(1));
                    b.set_position(p.swept);
                    b.set_message(bar_message(p, &self.estimate));
                }
            }
            ProgressArg::Json => {
                if self.last.is_some_and(|t| t.elapsed() < self.every) {
                    return;
                }
                self.last = Some(Instant::now());
                eprintln!("{}", json_line(p, &self.estimate));
            }
        }
    }

    /// A line above the bar (or on stderr without one).
    pub fn say(&self, line: &str) {
        match &self.bar {
            Some(b) => b.println(line),
            None => eprintln!("{line}"),
        }
    }

    /// The smoothed rates and ETA so far.
    pub fn estimate(&self) -> &Estimate {
        &self.estimate
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

pub(super) type JsonMap = serde_json::Map<String, serde_json::Value>;

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

    const TOTAL: u64 = 10_000_000;

    fn secs(s: f64) -> Duration {
        Duration::from_secs_f64(s)
    }

    /// ARIN's lanes only: `swept` of [`TOTAL`].
    fn arin(swept: u64) -> [(u64, u64); 5] {
        [(swept, TOTAL), (0, 0), (0, 0), (0, 0), (0, 0)]
    }

    /// Feeds ARIN's `swept` at one-second ticks from `from` on; returns the
    /// ETA (seconds) after each tick.
    fn feed(e: &mut Estimate, from: u64, swept: &[u64]) -> Vec<Option<f64>> {
        swept
            .iter()
            .enumerate()
            .map(|(i, &s)| {
                let q = s / 100;
                e.observe_counts(secs((from + i as u64) as f64), arin(s), q, [q, 0, 0, 0, 0]);
                e.eta().map(|d| d.as_secs_f64())
            })
            .collect()
    }

    #[test]
    fn a_steady_rate_gives_a_steady_eta() {
        let mut e = Estimate::default();
        // 10,000 addresses a second for 200 s.
        let swept: Vec<u64> = (0..=200).map(|t| t * 10_000).collect();
        let etas = feed(&mut e, 0, &swept);
        assert_eq!(etas[1], None, "too little history");
        for (t, eta) in etas.iter().enumerate().skip(5) {
            let truth = (TOTAL - swept[t]) as f64 / 10_000.0;
            let eta = eta.expect("an ETA");
            assert!(
                (eta - truth).abs() < 0.01 * truth,
                "t={t}: {eta} vs {truth}"
            );
            if t > 5 {
                // One second less per second, never a jump.
                let step = etas[t - 1].unwrap() - eta;
                assert!((step - 1.0).abs() < 0.05, "t={t}: step {step}");
            }
        }
        assert!((e.qps() - 100.0).abs() < 1.0, "{}", e.qps());
    }

    #[test]
    fn a_pause_grows_the_eta_and_a_resume_brings_it_back() {
        let mut e = Estimate::default();
        let mut swept: Vec<u64> = (0..=60).map(|t| t * 10_000).collect();
        // 30 s without progress, then the same rate again for 120 s.
        swept.extend(std::iter::repeat_n(600_000, 30));
        swept.extend((1..=120).map(|t| 600_000 + t * 10_000));
        let etas = feed(&mut e, 0, &swept);
        let before = etas[60].unwrap();
        // During the pause the estimate only grows (never drops to 0/s at once).
        for t in 61..91 {
            let (a, b) = (etas[t - 1].unwrap_or(f64::MAX), etas[t].unwrap_or(f64::MAX));
            assert!(b >= a, "t={t}: {b} < {a} during the pause");
        }
        assert!(etas[90].unwrap_or(f64::MAX) > 2.0 * before);
        // Within 3 TAU of the resume it is back within 5 % of the truth.
        let t = 90 + 3 * TAU.as_secs() as usize;
        let truth = (TOTAL - swept[t]) as f64 / 10_000.0;
        let eta = etas[t].unwrap();
        assert!((eta - truth).abs() < 0.05 * truth, "{eta} vs {truth}");
    }

    #[test]
    fn a_sudden_slowdown_shows_within_a_bounded_number_of_ticks() {
        let mut e = Estimate::default();
        let mut swept: Vec<u64> = (0..=100).map(|t| t * 10_000).collect();
        // A quarter of the rate from t = 100 on.
        swept.extend((1..=200).map(|t| 1_000_000 + t * 2_500));
        let etas = feed(&mut e, 0, &swept);
        let old_rate_eta = |t: usize| (TOTAL - swept[t]) as f64 / 10_000.0;
        // The truth is 4x the old-rate figure; by 1.5 TAU (30 ticks) the
        // estimate has at least doubled against it.
        let t = 100 + 30;
        assert!(
            etas[t].unwrap() > 2.0 * old_rate_eta(t),
            "{:?} vs {}",
            etas[t],
            old_rate_eta(t)
        );
        // By 5 TAU it is within 5 % of the truth.
        let t = 100 + 100;
        let truth = (TOTAL - swept[t]) as f64 / 2_500.0;
        assert!((etas[t].unwrap() - truth).abs() < 0.05 * truth);
    }

    #[test]
    fn the_slowest_registry_sets_the_eta() {
        // ARIN: 1,000,000 addresses at 10,000/s (done at t = 100 s);
        // LACNIC: 100,000 at 100/s (done at t = 1000 s).
        let mut e = Estimate::default();
        let at = |t: u64| -> [(u64, u64); 5] {
            [
                ((t * 10_000).min(1_000_000), 1_000_000),
                (0, 0),
                (0, 0),
                (t * 100, 100_000),
                (0, 0),
            ]
        };
        for t in 0..=50 {
            e.observe_counts(secs(t as f64), at(t), t * 110, [t * 100, 0, 0, t * 10, 0]);
        }
        // All addresses together would say 595,000 left at 10,100/s: 59 s.
        let eta = e.eta().unwrap().as_secs_f64();
        assert!((eta - 950.0).abs() < 10.0, "{eta}");
        for t in 51..=200 {
            e.observe_counts(secs(t as f64), at(t), t * 110, [t * 100, 0, 0, t * 10, 0]);
        }
        let eta = e.eta().unwrap().as_secs_f64();
        assert!((eta - 800.0).abs() < 8.0, "ARIN is done: {eta}");
    }

    #[test]
    fn a_registry_that_sweeps_nothing_makes_the_eta_unknown() {
        let mut e = Estimate::default();
        for t in 0..=30u64 {
            let regs = [(t * 1000, TOTAL), (0, 1000), (0, 0), (0, 0), (0, 0)];
            e.observe_counts(secs(t as f64), regs, t * 10, [t * 10, 0, 0, 0, 0]);
        }
        assert_eq!(e.eta(), None, "RIPE has 1,000 addresses left and no rate");
    }

    #[test]
    fn bursty_answers_do_not_flicker_the_rate_to_zero() {
        // 10 queries a second arriving in one burst per second, seen by 4
        // snapshots a second: 3 of 4 snapshots see no new query.
        let mut e = Estimate::default();
        let mut shown = Vec::new();
        for tick in 0..400u64 {
            let q = tick / 4 * 10;
            e.observe_counts(secs(tick as f64 * 0.25), arin(q), q, [q, 0, 0, 0, 0]);
            if tick >= 8 {
                shown.push(e.qps_of(Registry::Arin));
            }
        }
        let min = shown.iter().copied().fold(f64::MAX, f64::min);
        assert!(min > 7.0, "the rate dipped to {min}/s");
        assert!(
            e.qps_of(Registry::Ripe).abs() < f64::EPSILON,
            "RIPE sent nothing"
        );
    }

    #[test]
    fn a_crawl_that_is_done_has_no_time_left() {
        let mut e = Estimate::default();
        let regs = |s| [(s, 100), (0, 0), (0, 0), (0, 0), (0, 0)];
        e.observe_counts(secs(0.0), regs(0), 0, [0; 5]);
        e.observe_counts(secs(0.5), regs(100), 3, [3, 0, 0, 0, 0]);
        assert_eq!(e.eta(), Some(Duration::ZERO));
    }

    #[test]
    fn rates_durations_and_causes_for_people() {
        assert_eq!(fmt_rate(64.4), "64/s");
        assert_eq!(fmt_rate(2.46), "2.5/s");
        assert_eq!(fmt_rate(10.0 / 60.0), "10/min");
        assert_eq!(fmt_rate(0.001), "<1/min");
        assert_eq!(fmt_rate(0.0), "0/s");
        assert_eq!(fmt_eta(secs(45.0)), "45s");
        assert_eq!(fmt_eta(secs(725.0)), "12m05s");
        assert_eq!(fmt_eta(secs(12_000.0)), "3h20m");
        assert_eq!(fmt_eta(secs(187_200.0)), "2d04h");
        let counts = [
            TransportCount {
                registry: Registry::Ripe,
                cause: Transport::Dns,
                count: 12,
            },
            TransportCount {
                registry: Registry::Ripe,
                cause: Transport::ConnectTimeout,
                count: 1,
            },
            TransportCount {
                registry: Registry::Arin,
                cause: Transport::Refused,
                count: 3,
            },
        ];
        assert_eq!(
            fmt_transport(&counts),
            [
                "arin: 3 refused connections",
                "ripe: 12 DNS failures, 1 connect timeout"
            ]
        );
    }

    #[test]
    fn the_bar_and_the_json_line_show_the_same_figures() {
        let mut e = Estimate::default();
        let progress = |t: f64, swept: u64, q: u64| Progress {
            snapshot: Snapshot::default(),
            run_queries: q,
            swept,
            total: TOTAL,
            elapsed: secs(t),
            paused: vec![Pause {
                registry: Registry::Lacnic,
                left: secs(59.5),
                why: Why::Breaker { trips: 1 },
            }],
            put_off: vec![],
            run_transport: vec![TransportCount {
                registry: Registry::Ripe,
                cause: Transport::Dns,
                count: 12,
            }],
            by_registry: arin(swept),
        };
        for t in 0..=10u64 {
            e.observe(&progress(t as f64, t * 100_000, t * 10));
        }
        let p = progress(10.0, 1_000_000, 100);
        let msg = bar_message(&p, &e);
        assert_eq!(
            msg,
            "ETA 1m30s | 100 queries (10/s) 0 nets | paused: lacnic 59s (circuit open (trip 1)) | ripe: 12 DNS failures"
        );
        let j = json_line(&p, &e);
        assert_eq!(j["eta_s"], 90);
        assert_eq!(j["qps"], 10.0);
        assert_eq!(j["percent"], 10.0);
        assert_eq!(j["transport_failures"]["ripe"]["dns"], 12);
        assert_eq!(j["qps_by_registry"]["arin"], 0.0);
        assert_eq!(j["by_registry"]["arin"]["swept"], 1_000_000);
        assert_eq!(j["by_registry"]["arin"]["eta_s"], 90);
        assert_eq!(j["by_registry"]["ripe"]["eta_s"], 0, "nothing to sweep");
    }

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
            run_transport: vec![],
            by_registry: [(0, 0); 5],
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
