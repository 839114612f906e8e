//! Politeness: when may registry R be asked again. Every such rule lives in
//! this file, and [`Politeness`] keeps the per-registry state:
//!
//! - **rate**: a token bucket per registry ([`Bucket`]: strictly spaced
//!   queries, no bursts) at [`default_rates`] unless `--rate` says otherwise;
//! - **429 pauses**: a 429 or a rate-limit notice pauses the registry for
//!   `Retry-After` seconds when sent (at most [`RETRY_AFTER_CAP`], an hour),
//!   else for a jittered doubling pause from [`Rules::rate_limit_base`] up to
//!   [`Rules::rate_limit_cap`]; never for less than a floor that starts at
//!   [`Rules::rate_limit_floor`], doubles with each 429 in a row and is at
//!   least the registry's query spacing (so `Retry-After: 0` cannot make us
//!   hammer a registry). The streak ends with the next answer; a 429 that
//!   arrives during a pause (a query sent before it) does not lengthen the
//!   streak. The run's 429 pauses of one registry add up to at most
//!   [`Rules::max_pause`]: the 429 that would pass it puts that registry's
//!   remaining work off to the next run ([`PutOff`]), the others carry on;
//!   see [`Politeness::rate_limited`];
//! - **circuit breaker**: [`Rules::breaker_threshold`] retryable failures in
//!   a row open the registry's circuit for a jittered doubling pause from
//!   [`Rules::breaker_base`] up to [`Rules::breaker_cap`]; its lanes wait,
//!   the other registries carry on;
//! - **retry backoff**: attempt `n` of a lookup that failed retryably is
//!   asked again after `retry_base × 2^(n−1)` (±25 %, capped at
//!   [`Rules::retry_cap`]), at most [`Rules::max_attempts`] attempts.
//!
//! The defaults of every tunable are documented on
//! [`Policy`](super::sched::Policy), which the crawl is configured with.
//!
//! What counts as "rate-limited" or "retryable" is decided by
//! [`crate::rdap::classify`]; what happens to the lane meanwhile is
//! [`super::lanes`]' business. Time is passed in (`now: Instant`) so the
//! logic is testable without sleeping or threads.

use std::fmt;
use std::str::FromStr;
use std::time::{Duration, Instant};

use crate::rdap::Registry;
use crate::rng::SplitMix64;

/// A query rate: `N/s`, `N/min`, or unlimited.
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct Rate {
    /// Queries per second; `None` = unlimited.
    per_sec: Option<f64>,
}

impl Rate {
    /// `n` queries per second.
    pub fn per_sec(n: f64) -> Rate {
        Rate { per_sec: Some(n) }
    }

    /// No limit.
    pub const UNLIMITED: Rate = Rate { per_sec: None };

    /// Queries per second, `None` when unlimited.
    pub fn as_per_sec(&self) -> Option<f64> {
        self.per_sec
    }

    /// Time between two queries (at most an hour: a rate built with
    /// [`Rate::per_sec`] below [`MIN_PER_SEC`] is spaced as that; zero,
    /// negative or NaN counts as unlimited). Never panics.
    pub fn interval(&self) -> Duration {
        match self.per_sec {
            Some(r) if r > 0.0 => Duration::from_secs_f64(1.0 / r.max(MIN_PER_SEC)),
            _ => Duration::ZERO,
        }
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.per_sec {
            None => f.write_str("unlimited"),
            Some(r) if r < 1.0 => write!(f, "{}/min", r * 60.0),
            Some(r) => write!(f, "{r}/s"),
        }
    }
}

/// Slowest rate accepted: one query an hour.
pub const MIN_PER_SEC: f64 = 1.0 / 3600.0;

/// Fastest rate accepted (above it, ask for `unlimited`).
pub const MAX_PER_SEC: f64 = 100_000.0;

/// A bad `--rate` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateParseError(pub String);

impl fmt::Display for RateParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown: String = self.0.chars().take(80).collect();
        write!(
            f,
            "invalid rate {shown:?}: expected N/s, N/min or N/h from 1/h to 100000/s, or unlimited"
        )
    }
}

impl std::error::Error for RateParseError {}

impl FromStr for Rate {
    type Err = RateParseError;
    /// `N/s`, `N/min` or `N/h` with N a decimal number, the rate between
    /// [`MIN_PER_SEC`] and [`MAX_PER_SEC`] (so its interval is always a
    /// sane [`Duration`]), or `unlimited`. Anything else (`0/s`, `NaN/s`,
    /// `inf/s`, `1e-300/s`, `-1/s`, `1/0s`) is refused.
    fn from_str(s: &str) -> Result<Rate, RateParseError> {
        let err = || RateParseError(s.to_string());
        let t = s.trim();
        if t.eq_ignore_ascii_case("unlimited") {
            return Ok(Rate::UNLIMITED);
        }
        let (n, unit) = t.split_once('/').ok_or_else(err)?;
        let n: f64 = n.trim().parse().map_err(|_| err())?;
        let per_sec = match unit.trim() {
            "s" | "sec" | "second" => n,
            "min" | "m" | "minute" => n / 60.0,
            "h" | "hour" => n / 3600.0,
            _ => return Err(err()),
        };
        // Also false for NaN; the bound is checked on the rate, not on N,
        // so 1/h is accepted and 0.99/h is not.
        let ok =
            per_sec.is_finite() && (MIN_PER_SEC * (1.0 - 1e-9)..=MAX_PER_SEC).contains(&per_sec);
        if !ok {
            return Err(err());
        }
        Ok(Rate::per_sec(per_sec))
    }
}

/// Strictly spaced tokens: one query every `interval`, no bursts (the
/// politest reading of a per-second limit).
#[derive(Debug, Clone)]
pub struct Bucket {
    interval: Duration,
    next: Option<Instant>,
}

impl Bucket {
    /// A bucket for `rate`.
    pub fn new(rate: Rate) -> Bucket {
        Bucket {
            interval: rate.interval(),
            next: None,
        }
    }

    /// When the next token is available.
    pub fn ready_at(&self, now: Instant) -> Instant {
        self.next.map_or(now, |n| n.max(now))
    }

    /// Takes a token if one is available at `now`.
    pub fn try_take(&mut self, now: Instant) -> bool {
        if self.ready_at(now) > now {
            return false;
        }
        if !self.interval.is_zero() {
            self.next = Some(now + self.interval);
        }
        true
    }
}

/// Deterministic jitter.
#[derive(Debug, Clone)]
pub struct Jitter(SplitMix64);

impl Jitter {
    /// Seeded.
    pub fn new(seed: u64) -> Jitter {
        Jitter(SplitMix64::new(seed))
    }

    /// A factor in `[1 - spread, 1 + spread]`.
    pub fn factor(&mut self, spread: f64) -> f64 {
        1.0 - spread + 2.0 * spread * self.0.unit()
    }
}

/// `base × 2^(attempt−1)`, capped, with ±25 % jitter.
pub fn backoff(base: Duration, cap: Duration, attempt: u32, jitter: &mut Jitter) -> Duration {
    let exp = base.saturating_mul(1u32 << attempt.saturating_sub(1).min(20));
    exp.min(cap).mul_f64(jitter.factor(0.25))
}

/// DESIGN §2.5 defaults: arin, ripe, apnic 10/s; lacnic 10/min; afrinic 1/s.
pub fn default_rates() -> [Rate; 5] {
    Registry::ALL.map(|r| match r {
        Registry::Arin | Registry::Ripe | Registry::Apnic => Rate::per_sec(10.0),
        Registry::Lacnic => Rate::per_sec(10.0 / 60.0),
        Registry::Afrinic => Rate::per_sec(1.0),
    })
}

/// Longest pause one `Retry-After` can get: a server asking for more (a
/// day, a year, `u64::MAX` seconds) is paused for an hour, and told so in
/// the progress display ([`Pause`]); repeated, such pauses end in the
/// registry's work being put off ([`Rules::max_pause`]).
pub const RETRY_AFTER_CAP: Duration = Duration::from_secs(3600);

/// The tunables of the rules above (defaults: see
/// [`Policy`](super::sched::Policy)).
#[derive(Clone, Debug)]
pub struct Rules {
    /// Per-registry rates, in [`Registry::ALL`] order.
    pub rates: [Rate; 5],
    /// Attempts per lookup before it is given up.
    pub max_attempts: u32,
    /// First retry delay (doubles, ±25 % jitter).
    pub retry_base: Duration,
    /// Longest retry delay.
    pub retry_cap: Duration,
    /// Pause after a 429 without Retry-After (doubles on repeats).
    pub rate_limit_base: Duration,
    /// Longest such pause, and longest floor.
    pub rate_limit_cap: Duration,
    /// Shortest pause after any 429, whatever its Retry-After says (`0`, a
    /// second, a date in the past); doubles with each 429 in a row (up to
    /// `rate_limit_cap`), and is never shorter than the registry's own
    /// query spacing.
    pub rate_limit_floor: Duration,
    /// Longest total of 429 pauses one registry may cost a run; the 429
    /// that would pause it longer puts its remaining work off to the next
    /// run instead ([`Politeness::put_off`]).
    pub max_pause: Duration,
    /// Consecutive retryable failures that open a registry's circuit.
    pub breaker_threshold: u32,
    /// First circuit-open pause (doubles on repeats).
    pub breaker_base: Duration,
    /// Longest circuit-open pause.
    pub breaker_cap: Duration,
    /// Seed of the jitter.
    pub seed: u64,
}

/// Why a registry is paused.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Why {
    /// A 429 or a rate-limit notice.
    RateLimited {
        /// Seconds its `Retry-After` asked for (`None`: not sent, or unreadable).
        asked: Option<u64>,
        /// 429s in a row (the pause doubles with each).
        streak: u32,
    },
    /// The circuit breaker: transient failures in a row.
    Breaker {
        /// Times the circuit opened since the registry last answered.
        trips: u32,
    },
}

impl fmt::Display for Why {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Why::RateLimited { asked, streak } => {
                f.write_str("429")?;
                if streak > 1 {
                    write!(f, " ×{streak} in a row")?;
                }
                match asked {
                    None => f.write_str(", no Retry-After"),
                    Some(s) if Duration::from_secs(s) > RETRY_AFTER_CAP => write!(
                        f,
                        ", Retry-After {s} s capped at {} s",
                        RETRY_AFTER_CAP.as_secs()
                    ),
                    Some(s) => write!(f, ", Retry-After {s} s"),
                }
            }
            Why::Breaker { trips } => write!(f, "circuit open (trip {trips})"),
        }
    }
}

/// A paused registry, for the progress display.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Pause {
    /// The registry.
    pub registry: Registry,
    /// Time left.
    pub left: Duration,
    /// Why.
    pub why: Why,
}

/// A registry whose remaining work this run put off to the next one: its
/// 429 pauses would have passed [`Rules::max_pause`].
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct PutOff {
    /// The registry.
    pub registry: Registry,
    /// 429 pauses it had cost this run.
    pub paused: Duration,
    /// The budget ([`Rules::max_pause`]).
    pub max_pause: Duration,
    /// 429s this run.
    pub limits: u32,
    /// Seconds the last `Retry-After` asked for.
    pub asked: Option<u64>,
}

impl fmt::Display for PutOff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} rate limits (429) paused it for {} this run and the next pause would pass --max-pause {} (last Retry-After: {}); its remaining work is put off to the next run, the other registries carry on",
            self.registry,
            self.limits,
            human(self.paused),
            human(self.max_pause),
            self.asked.map_or_else(|| "none".to_string(), |s| format!("{s} s")),
        )
    }
}

/// A duration for people: `750 ms`, `1.5 s`, `12 min 3 s`, `4 h`.
pub fn human(d: Duration) -> String {
    let ms = d.as_millis();
    let s = d.as_secs();
    if ms < 1000 {
        format!("{ms} ms")
    } else if s < 60 {
        if ms % 1000 == 0 {
            format!("{s} s")
        } else {
            format!("{:.1} s", d.as_secs_f64())
        }
    } else if s < 3600 {
        match s % 60 {
            0 => format!("{} min", s / 60),
            r => format!("{} min {r} s", s / 60),
        }
    } else {
        match (s % 3600) / 60 {
            0 => format!("{} h", s / 3600),
            m => format!("{} h {m} min", s / 3600),
        }
    }
}

/// What a 429 did ([`Politeness::rate_limited`]).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Limited {
    /// When the limited lookup may be asked again.
    pub until: Instant,
    /// How much the registry's pause grew (counted towards
    /// [`Rules::max_pause`]).
    pub added: Duration,
    /// The registry's remaining work is put off (now or earlier): drop the
    /// lookup and everything else waiting for it.
    pub put_off: bool,
}

/// One registry's politeness state.
#[derive(Debug)]
struct RegState {
    bucket: Bucket,
    paused_until: Option<Instant>,
    why: Option<Why>,
    streak_429: u32,
    streak_fail: u32,
    trips: u32,
    /// 429 pauses granted this run, and 429s counted.
    paused_total: Duration,
    limits: u32,
    put_off: Option<PutOff>,
}

/// Per-registry buckets, pauses and breakers (see the module docs).
#[derive(Debug)]
pub struct Politeness {
    regs: [RegState; 5],
    rules: Rules,
    jitter: Jitter,
}

impl Politeness {
    /// Fresh state under `rules`.
    pub fn new(rules: Rules) -> Politeness {
        Politeness {
            regs: Registry::ALL.map(|r| RegState {
                bucket: Bucket::new(rules.rates[r.index()]),
                paused_until: None,
                why: None,
                streak_429: 0,
                streak_fail: 0,
                trips: 0,
                paused_total: Duration::ZERO,
                limits: 0,
                put_off: None,
            }),
            jitter: Jitter::new(rules.seed),
            rules,
        }
    }

    /// `Ok` when `reg` may be asked at `now`, else the earliest instant it
    /// may (end of a pause, or its next token).
    pub fn ready(&self, reg: Registry, now: Instant) -> Result<(), Instant> {
        let st = &self.regs[reg.index()];
        if let Some(p) = st.paused_until.filter(|&p| p > now) {
            return Err(p);
        }
        let at = st.bucket.ready_at(now);
        if at > now {
            return Err(at);
        }
        Ok(())
    }

    /// A query to `reg` is sent at `now`: it takes the token.
    pub fn sent(&mut self, reg: Registry, now: Instant) {
        self.regs[reg.index()].bucket.try_take(now);
    }

    /// `reg` answered (a network, a placeholder or a 404): its 429 and
    /// failure streaks end.
    pub fn answered(&mut self, reg: Registry) {
        let st = &mut self.regs[reg.index()];
        st.streak_429 = 0;
        st.streak_fail = 0;
        st.trips = 0;
    }

    /// `reg` said "too many" at `now`, asking for `retry_after` seconds
    /// (`None`: no usable `Retry-After`). The pause is:
    /// - with a `Retry-After`: what it asks, at most [`RETRY_AFTER_CAP`],
    ///   and at least the floor;
    /// - without: [`Rules::rate_limit_base`] doubling with each 429 in a
    ///   row, ±25 % jitter, at most [`Rules::rate_limit_cap`], and at least
    ///   the floor;
    /// - the floor: [`Rules::rate_limit_floor`] doubling with each 429 in a
    ///   row (at most [`Rules::rate_limit_cap`]), and never less than the
    ///   registry's query spacing. So `Retry-After: 0` repeated forever is
    ///   asked again after 1 s, 2 s, 4 s, ... never faster than the rate.
    ///
    /// A 429 that arrives while the registry is already paused answers a
    /// query sent before the pause: it may lengthen the pause but is not
    /// "another 429 in a row". A 429 that would take the run's total of
    /// pauses past [`Rules::max_pause`] puts the registry's remaining work
    /// off instead ([`Politeness::put_off`]).
    pub fn rate_limited(
        &mut self,
        reg: Registry,
        retry_after: Option<u64>,
        now: Instant,
    ) -> Limited {
        let rules = &self.rules;
        let st = &mut self.regs[reg.index()];
        st.limits += 1;
        if st.put_off.is_some() {
            return Limited {
                until: now,
                added: Duration::ZERO,
                put_off: true,
            };
        }
        let echo = st.paused_until.is_some_and(|p| p > now);
        if !echo {
            st.streak_429 += 1;
        }
        let streak = st.streak_429.max(1);
        let floor = rules
            .rate_limit_floor
            .saturating_mul(1u32 << (streak - 1).min(20))
            .min(rules.rate_limit_cap)
            .max(st.bucket.interval);
        let pause = match retry_after {
            Some(s) => Duration::from_secs(s).min(RETRY_AFTER_CAP),
            None => backoff(
                rules.rate_limit_base,
                rules.rate_limit_cap,
                streak,
                &mut self.jitter,
            ),
        }
        .max(floor);
        let until = now + pause;
        let before = st.paused_until.filter(|&p| p > now).unwrap_or(now);
        let added = until.saturating_duration_since(before);
        if st.paused_total + added > rules.max_pause {
            st.put_off = Some(PutOff {
                registry: reg,
                paused: st.paused_total,
                max_pause: rules.max_pause,
                limits: st.limits,
                asked: retry_after,
            });
            return Limited {
                until: now,
                added: Duration::ZERO,
                put_off: true,
            };
        }
        st.paused_total += added;
        if until > before {
            st.paused_until = Some(until);
            st.why = Some(Why::RateLimited {
                asked: retry_after,
                streak,
            });
        }
        Limited {
            until,
            added,
            put_off: false,
        }
    }

    /// Whether `reg`'s remaining work was put off this run.
    pub fn is_put_off(&self, reg: Registry) -> bool {
        self.regs[reg.index()].put_off.is_some()
    }

    /// The registries whose remaining work was put off this run.
    pub fn put_off(&self) -> Vec<PutOff> {
        self.regs.iter().filter_map(|st| st.put_off).collect()
    }

    /// Attempt number `attempt` (from 1) of a lookup to `reg` failed
    /// retryably at `now`: counts towards the breaker, and says when to ask
    /// again, or `None` when the lookup is to be given up.
    pub fn retry(&mut self, reg: Registry, attempt: u32, now: Instant) -> Option<Instant> {
        let st = &mut self.regs[reg.index()];
        st.streak_fail += 1;
        if st.streak_fail >= self.rules.breaker_threshold {
            st.trips += 1;
            st.streak_fail = 0;
            let pause = backoff(
                self.rules.breaker_base,
                self.rules.breaker_cap,
                st.trips,
                &mut self.jitter,
            );
            st.paused_until = Some(now + pause);
            st.why = Some(Why::Breaker { trips: st.trips });
        }
        (attempt < self.rules.max_attempts).then(|| {
            now + backoff(
                self.rules.retry_base,
                self.rules.retry_cap,
                attempt,
                &mut self.jitter,
            )
        })
    }

    /// Registries paused at `now`, with the time left and why (a registry
    /// whose work was put off is not paused: see [`Politeness::put_off`]).
    pub fn paused(&self, now: Instant) -> Vec<Pause> {
        Registry::ALL
            .into_iter()
            .filter_map(|r| {
                let st = &self.regs[r.index()];
                let until = st.paused_until?;
                let why = st.why?;
                (until > now && st.put_off.is_none()).then(|| Pause {
                    registry: r,
                    left: until - now,
                    why,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crawl::sched::Policy;

    #[test]
    fn rates_parse() {
        assert_eq!("10/s".parse::<Rate>().unwrap().as_per_sec(), Some(10.0));
        let lacnic: Rate = "10/min".parse().unwrap();
        assert_eq!(lacnic.interval(), Duration::from_secs(6));
        assert_eq!("unlimited".parse::<Rate>().unwrap(), Rate::UNLIMITED);
        for bad in ["", "10", "0/s", "-1/s", "ten/s", "5/fortnight", "NaN/s"] {
            let e = bad.parse::<Rate>().unwrap_err().to_string();
            assert!(e.contains("expected N/s"), "{e}");
        }
    }

    /// Issue 15.7: `1e-300/s` reached a panic (an interval of 10^300 s).
    #[test]
    fn rates_outside_the_accepted_range_are_refused_never_a_panic() {
        for bad in [
            "1e-300/s", "0/s", "-0/s", "inf/s", "-inf/s", "NaN/s", "-1/s", "1e300/s", "100001/s",
            "0.99/h", "1/0s", "1/0", "1//s", "1/s/s", "0x10/s", "",
        ] {
            let e = bad.parse::<Rate>().unwrap_err();
            let m = e.to_string();
            assert_eq!(
                m,
                format!(
                    "invalid rate {bad:?}: expected N/s, N/min or N/h from 1/h to 100000/s, or unlimited"
                )
            );
        }
        // The bounds themselves, and every accepted rate's interval.
        for (good, interval) in [
            ("1/h", Duration::from_secs(3600)),
            ("60/h", Duration::from_secs(60)),
            ("100000/s", Duration::from_micros(10)),
            ("1e5/s", Duration::from_micros(10)),
            (" 2.5 / min ", Duration::from_secs(24)),
        ] {
            let r: Rate = good.parse().unwrap_or_else(|e| panic!("{good}: {e}"));
            assert_eq!(r.interval(), interval, "{good}");
        }
        // Built by hand, out of range: still a sane interval, never a panic.
        assert_eq!(Rate::per_sec(1e-300).interval(), Duration::from_secs(3600));
        assert_eq!(Rate::per_sec(f64::NAN).interval(), Duration::ZERO);
        assert_eq!(Rate::per_sec(-1.0).interval(), Duration::ZERO);
        assert_eq!(Rate::per_sec(f64::INFINITY).interval(), Duration::ZERO);
        // A long value is quoted shortened, on one line.
        let long = format!("{}/s", "9".repeat(500));
        let m = long.parse::<Rate>().unwrap_err().to_string();
        assert!(m.len() < 200 && !m.contains('\n'), "{m}");
    }

    #[test]
    fn bucket_spaces_queries() {
        let t0 = Instant::now();
        let mut b = Bucket::new(Rate::per_sec(10.0));
        assert!(b.try_take(t0));
        assert!(!b.try_take(t0 + Duration::from_millis(50)));
        assert_eq!(b.ready_at(t0), t0 + Duration::from_millis(100));
        assert!(b.try_take(t0 + Duration::from_millis(100)));
        let mut u = Bucket::new(Rate::UNLIMITED);
        assert!(u.try_take(t0) && u.try_take(t0) && u.try_take(t0));
    }

    #[test]
    fn backoff_grows_and_caps() {
        let mut j = Jitter::new(1);
        let base = Duration::from_secs(1);
        let cap = Duration::from_secs(60);
        let d1 = backoff(base, cap, 1, &mut j);
        let d4 = backoff(base, cap, 4, &mut j);
        let d30 = backoff(base, cap, 30, &mut j);
        assert!(d1 >= Duration::from_millis(750) && d1 <= Duration::from_millis(1250));
        assert!(d4 >= Duration::from_secs(6) && d4 <= Duration::from_secs(10));
        assert!(d30 <= Duration::from_secs(75));
    }

    fn polite(policy: Policy) -> Politeness {
        Politeness::new(policy.rules())
    }

    const S: Duration = Duration::from_secs(1);

    #[test]
    fn each_registry_has_its_own_bucket() {
        let t0 = Instant::now();
        let mut p = polite(Policy::default());
        assert_eq!(p.ready(Registry::Lacnic, t0), Ok(()));
        p.sent(Registry::Lacnic, t0);
        // LACNIC's 10/min: the next token in 6 s; ARIN is not held up.
        assert_eq!(p.ready(Registry::Lacnic, t0), Err(t0 + 6 * S));
        assert_eq!(p.ready(Registry::Arin, t0), Ok(()));
        assert_eq!(p.ready(Registry::Lacnic, t0 + 6 * S), Ok(()));
        assert!(p.paused(t0).is_empty(), "a bucket is not a pause");
    }

    #[test]
    fn a_429_pauses_that_registry_for_retry_after() {
        let t0 = Instant::now();
        let mut p = polite(Policy::default());
        assert_eq!(
            p.rate_limited(Registry::Ripe, Some(2), t0).until,
            t0 + 2 * S
        );
        assert_eq!(p.ready(Registry::Ripe, t0), Err(t0 + 2 * S));
        assert_eq!(p.ready(Registry::Arin, t0), Ok(()));
        assert_eq!(
            p.paused(t0),
            vec![Pause {
                registry: Registry::Ripe,
                left: 2 * S,
                why: Why::RateLimited {
                    asked: Some(2),
                    streak: 1
                }
            }]
        );
        assert_eq!(p.ready(Registry::Ripe, t0 + 2 * S), Ok(()));
        // A shorter Retry-After never shortens a pause already running.
        assert_eq!(p.rate_limited(Registry::Ripe, Some(1), t0).until, t0 + S);
        assert_eq!(p.ready(Registry::Ripe, t0), Err(t0 + 2 * S));
        // A Retry-After of days is capped at an hour, and the display says so.
        let l = p.rate_limited(Registry::Apnic, Some(86_400 * 7), t0);
        assert_eq!(l.until, t0 + RETRY_AFTER_CAP);
        assert_eq!((l.added, l.put_off), (RETRY_AFTER_CAP, false));
        let why = p.paused(t0)[1].why.to_string();
        assert_eq!(why, "429, Retry-After 604800 s capped at 3600 s");
    }

    /// Asks `reg` again when its pause ends, and gets another 429 (with
    /// `retry_after`); returns the pause that 429 gave.
    fn again(
        p: &mut Politeness,
        reg: Registry,
        retry_after: Option<u64>,
        t: &mut Instant,
    ) -> Duration {
        let l = p.rate_limited(reg, retry_after, *t);
        assert!(!l.put_off);
        let pause = l.until - *t;
        *t = l.until;
        pause
    }

    #[test]
    fn a_429_without_retry_after_backs_off_with_jitter_until_an_answer() {
        let mut t = Instant::now();
        let mut p = polite(Policy {
            max_pause: Duration::from_secs(86_400),
            ..Policy::default()
        });
        let within = |d: Duration, base: u64| {
            d >= Duration::from_secs(base * 3 / 4) && d <= Duration::from_secs(base * 5 / 4)
        };
        let first = again(&mut p, Registry::Lacnic, None, &mut t);
        assert!(within(first, 60), "{first:?}");
        let second = again(&mut p, Registry::Lacnic, None, &mut t);
        assert!(within(second, 120), "{second:?}");
        for _ in 0..10 {
            again(&mut p, Registry::Lacnic, None, &mut t);
        }
        let capped = again(&mut p, Registry::Lacnic, None, &mut t);
        assert!(within(capped, 15 * 60), "{capped:?}");
        // An answer ends the streak: the next pause starts small again.
        p.answered(Registry::Lacnic);
        let again = again(&mut p, Registry::Lacnic, None, &mut t);
        assert!(within(again, 60), "{again:?}");
    }

    /// Issue 15.6: `Retry-After: 0` meant immediate retries (549 queries in
    /// 25 s). Now each 429 in a row pauses the registry for the floor, 1 s
    /// doubling, never less than its spacing; the pauses add up to the
    /// budget, then its work is put off.
    #[test]
    fn retry_after_zero_gets_a_growing_floor_then_the_work_is_put_off() {
        let t0 = Instant::now();
        let mut t = t0;
        let mut p = polite(Policy::default());
        let pauses: Vec<u64> = (0..10)
            .map(|_| again(&mut p, Registry::Ripe, Some(0), &mut t).as_secs())
            .collect();
        assert_eq!(pauses, [1, 2, 4, 8, 16, 32, 64, 128, 256, 512]);
        // Tiny, past-date (0) and small values get the same floor; a value
        // above it is honoured as sent.
        p.answered(Registry::Ripe);
        assert_eq!(again(&mut p, Registry::Ripe, Some(0), &mut t), S);
        assert_eq!(again(&mut p, Registry::Ripe, Some(1), &mut t), 2 * S);
        assert_eq!(again(&mut p, Registry::Ripe, Some(30), &mut t), 30 * S);
        // The floor stops doubling at the 15 min cap.
        p.answered(Registry::Ripe);
        let mut last = Duration::ZERO;
        for _ in 0..11 {
            last = again(&mut p, Registry::Ripe, Some(0), &mut t);
        }
        assert_eq!(last, Duration::from_secs(15 * 60));
        // Never faster than the registry's own spacing: LACNIC's 6 s.
        let mut p = polite(Policy::default());
        let mut t = t0;
        assert_eq!(again(&mut p, Registry::Lacnic, Some(0), &mut t), 6 * S);
        // Between two 429s the registry is never asked (it is paused), so
        // queries come at most one per pause: never faster than the rate.
        assert_eq!(p.ready(Registry::Lacnic, t0 + 5 * S), Err(t));
    }

    #[test]
    fn a_429_answering_a_query_sent_before_the_pause_is_no_repeat() {
        let t0 = Instant::now();
        let mut p = polite(Policy::default());
        assert_eq!(p.rate_limited(Registry::Arin, Some(0), t0).until, t0 + S);
        // Four more queries were in flight: their 429s come during the pause.
        for k in 1..=4 {
            let at = t0 + Duration::from_millis(100 * k);
            let l = p.rate_limited(Registry::Arin, Some(0), at);
            assert_eq!(l.until, at + S, "the floor of the first 429");
        }
        // The pause grew by 400 ms, not to 16 s.
        assert_eq!(
            p.ready(Registry::Arin, t0),
            Err(t0 + Duration::from_millis(1400))
        );
        let why = p.paused(t0)[0].why;
        assert_eq!(
            why,
            Why::RateLimited {
                asked: Some(0),
                streak: 1
            }
        );
        // Asked again after the pause, another 429 is the second in a row.
        let t1 = t0 + Duration::from_millis(1400);
        assert_eq!(
            p.rate_limited(Registry::Arin, Some(0), t1).until,
            t1 + 2 * S
        );
    }

    #[test]
    fn the_pause_budget_puts_one_registrys_work_off_and_says_why() {
        let t0 = Instant::now();
        let mut t = t0;
        let mut p = polite(Policy {
            max_pause: Duration::from_secs(3 * 3600),
            ..Policy::default()
        });
        // A server asking for a day, every time: an hour each (the cap).
        for _ in 0..3 {
            assert_eq!(
                again(&mut p, Registry::Apnic, Some(86_400), &mut t),
                RETRY_AFTER_CAP
            );
        }
        assert!(!p.is_put_off(Registry::Apnic));
        let l = p.rate_limited(Registry::Apnic, Some(86_400), t);
        assert!(l.put_off, "a fourth hour would pass the 3 h budget");
        assert!(p.is_put_off(Registry::Apnic));
        let off = p.put_off();
        assert_eq!(
            off,
            [PutOff {
                registry: Registry::Apnic,
                paused: 3 * RETRY_AFTER_CAP,
                max_pause: 3 * RETRY_AFTER_CAP,
                limits: 4,
                asked: Some(86_400),
            }]
        );
        assert_eq!(
            off[0].to_string(),
            "apnic: 4 rate limits (429) paused it for 3 h this run and the next pause would pass --max-pause 3 h (last Retry-After: 86400 s); its remaining work is put off to the next run, the other registries carry on"
        );
        // It is no longer listed as paused; later 429s (redirects, queries
        // in flight) say "put off" at once; the others are untouched.
        assert!(p.paused(t).is_empty());
        assert!(p.rate_limited(Registry::Apnic, Some(1), t).put_off);
        assert!(!p.is_put_off(Registry::Ripe));
        assert!(!p.rate_limited(Registry::Ripe, Some(1), t).put_off);
        // Answers do not refill the budget within a run.
        let mut p = polite(Policy {
            max_pause: Duration::from_secs(10),
            ..Policy::default()
        });
        let mut t = t0;
        for _ in 0..2 {
            again(&mut p, Registry::Arin, Some(4), &mut t);
            p.answered(Registry::Arin);
        }
        assert!(p.rate_limited(Registry::Arin, Some(4), t).put_off);
    }

    #[test]
    fn durations_for_people() {
        let ms = Duration::from_millis;
        assert_eq!(human(ms(0)), "0 ms");
        assert_eq!(human(ms(750)), "750 ms");
        assert_eq!(human(ms(1000)), "1 s");
        assert_eq!(human(ms(1500)), "1.5 s");
        assert_eq!(human(ms(60_000)), "1 min");
        assert_eq!(human(ms(723_000)), "12 min 3 s");
        assert_eq!(human(ms(4 * 3_600_000)), "4 h");
        assert_eq!(human(ms(3_600_000 + 300_000 + 7)), "1 h 5 min");
        assert!(human(Duration::MAX).starts_with(&format!("{} h", u64::MAX / 3600)));
    }

    #[test]
    fn why_a_registry_is_paused_reads_well() {
        let show = |asked, streak| Why::RateLimited { asked, streak }.to_string();
        assert_eq!(show(None, 1), "429, no Retry-After");
        assert_eq!(show(Some(0), 3), "429 ×3 in a row, Retry-After 0 s");
        assert_eq!(show(Some(3600), 1), "429, Retry-After 3600 s");
        assert_eq!(
            show(Some(u64::MAX), 1),
            format!("429, Retry-After {} s capped at 3600 s", u64::MAX)
        );
        assert_eq!(
            Why::Breaker { trips: 2 }.to_string(),
            "circuit open (trip 2)"
        );
    }

    #[test]
    fn retries_back_off_and_stop_after_max_attempts() {
        let t0 = Instant::now();
        let mut p = polite(Policy {
            max_attempts: 3,
            ..Policy::default()
        });
        let d1 = p.retry(Registry::Arin, 1, t0).expect("a retry") - t0;
        assert!(d1 >= Duration::from_millis(750) && d1 <= Duration::from_millis(1250));
        let d2 = p.retry(Registry::Arin, 2, t0).expect("a retry") - t0;
        assert!(d2 >= Duration::from_millis(1500) && d2 <= Duration::from_millis(2500));
        assert_eq!(
            p.retry(Registry::Arin, 3, t0),
            None,
            "the third attempt was the last"
        );
        assert!(
            p.paused(t0).is_empty(),
            "three failures do not open the circuit"
        );
    }

    #[test]
    fn the_breaker_opens_after_a_streak_of_failures_and_only_for_that_registry() {
        let t0 = Instant::now();
        let mut p = polite(Policy {
            max_attempts: 100,
            ..Policy::default()
        });
        for attempt in 1..8 {
            p.retry(Registry::Afrinic, attempt, t0);
        }
        assert!(p.paused(t0).is_empty(), "7 failures in a row: still closed");
        p.retry(Registry::Afrinic, 8, t0);
        let paused = p.paused(t0);
        assert_eq!(paused.len(), 1);
        assert_eq!(paused[0].registry, Registry::Afrinic);
        let first = paused[0].left;
        assert_eq!(paused[0].why, Why::Breaker { trips: 1 });
        assert!(first >= Duration::from_millis(22_500) && first <= Duration::from_millis(37_500));
        assert!(p.ready(Registry::Afrinic, t0).is_err());
        assert_eq!(p.ready(Registry::Ripe, t0), Ok(()));
        // Another streak trips it for longer; an answer resets the trips.
        for attempt in 1..=8 {
            p.retry(Registry::Afrinic, attempt, t0);
        }
        let second = p.paused(t0)[0].left;
        assert!(second >= Duration::from_secs(45) && second <= Duration::from_secs(75));
        p.answered(Registry::Afrinic);
        for attempt in 1..=8 {
            p.retry(Registry::Afrinic, attempt, t0);
        }
        let reset = p.paused(t0)[0].left;
        assert!(reset <= Duration::from_millis(37_500), "{reset:?}");
        // An answer in the middle of a streak starts it over.
        let t1 = t0 + Duration::from_secs(3600);
        for attempt in 1..8 {
            p.retry(Registry::Arin, attempt, t1);
        }
        p.answered(Registry::Arin);
        p.retry(Registry::Arin, 1, t1);
        assert!(p.paused(t1).is_empty());
    }

    #[test]
    fn default_rates_are_the_documented_ones() {
        let r = default_rates();
        assert_eq!(r[Registry::Arin.index()], Rate::per_sec(10.0));
        assert_eq!(r[Registry::Ripe.index()], Rate::per_sec(10.0));
        assert_eq!(r[Registry::Apnic.index()], Rate::per_sec(10.0));
        assert_eq!(r[Registry::Lacnic.index()].interval(), 6 * S);
        assert_eq!(r[Registry::Afrinic.index()], Rate::per_sec(1.0));
    }
}
