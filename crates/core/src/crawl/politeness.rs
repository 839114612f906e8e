//! Politeness: when may registry R be asked again. Every such rule lives in
//! this file, and [`Politeness`] keeps the per-registry state:
//!
//! - **rate**: a token bucket per registry ([`Bucket`]: strictly spaced
//!   queries, no bursts) at [`default_rates`] unless `--rate` says otherwise;
//! - **429 pauses**: a 429 or a rate-limit notice pauses the registry for
//!   `Retry-After` seconds (capped at an hour) when sent, else for a jittered
//!   doubling pause from [`Rules::rate_limit_base`] up to
//!   [`Rules::rate_limit_cap`] (the streak ends with the next answer);
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

    /// Time between two queries.
    pub fn interval(&self) -> Duration {
        match self.per_sec {
            Some(r) if r > 0.0 => Duration::from_secs_f64(1.0 / r),
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

/// A bad `--rate` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateParseError(pub String);

impl fmt::Display for RateParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid rate {:?}: expected N/s, N/min (N > 0) or unlimited",
            self.0
        )
    }
}

impl std::error::Error for RateParseError {}

impl FromStr for Rate {
    type Err = RateParseError;
    fn from_str(s: &str) -> Result<Rate, RateParseError> {
        let err = || RateParseError(s.to_string());
        let t = s.trim();
        if t.eq_ignore_ascii_case("unlimited") {
            return Ok(Rate::UNLIMITED);
        }
        let (n, unit) = t.split_once('/').ok_or_else(err)?;
        let n: f64 = n.trim().parse().map_err(|_| err())?;
        if !n.is_finite() || n <= 0.0 {
            return Err(err());
        }
        let per_sec = match unit.trim() {
            "s" | "sec" | "second" => n,
            "min" | "m" | "minute" => n / 60.0,
            "h" | "hour" => n / 3600.0,
            _ => return Err(err()),
        };
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

/// Longest pause a `Retry-After` can ask for.
const RETRY_AFTER_CAP: Duration = Duration::from_secs(3600);

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
    /// Longest such pause.
    pub rate_limit_cap: Duration,
    /// Consecutive retryable failures that open a registry's circuit.
    pub breaker_threshold: u32,
    /// First circuit-open pause (doubles on repeats).
    pub breaker_base: Duration,
    /// Longest circuit-open pause.
    pub breaker_cap: Duration,
    /// Seed of the jitter.
    pub seed: u64,
}

/// One registry's politeness state.
#[derive(Debug)]
struct RegState {
    bucket: Bucket,
    paused_until: Option<Instant>,
    streak_429: u32,
    streak_fail: u32,
    trips: u32,
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
                streak_429: 0,
                streak_fail: 0,
                trips: 0,
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

    /// `reg` said "too many" at `now`: pauses it; returns when the limited
    /// lookup may be asked again.
    pub fn rate_limited(
        &mut self,
        reg: Registry,
        retry_after: Option<u64>,
        now: Instant,
    ) -> Instant {
        let st = &mut self.regs[reg.index()];
        st.streak_429 += 1;
        let pause = match retry_after {
            Some(s) => Duration::from_secs(s).min(RETRY_AFTER_CAP),
            None => backoff(
                self.rules.rate_limit_base,
                self.rules.rate_limit_cap,
                st.streak_429,
                &mut self.jitter,
            ),
        };
        let until = now + pause;
        st.paused_until = Some(st.paused_until.map_or(until, |p| p.max(until)));
        until
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

    /// Registries paused at `now`, with the time left.
    pub fn paused(&self, now: Instant) -> Vec<(Registry, Duration)> {
        Registry::ALL
            .into_iter()
            .filter_map(|r| {
                let until = self.regs[r.index()].paused_until?;
                (until > now).then(|| (r, until - now))
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
        assert_eq!(p.rate_limited(Registry::Ripe, Some(2), t0), t0 + 2 * S);
        assert_eq!(p.ready(Registry::Ripe, t0), Err(t0 + 2 * S));
        assert_eq!(p.ready(Registry::Arin, t0), Ok(()));
        assert_eq!(p.paused(t0), vec![(Registry::Ripe, 2 * S)]);
        assert_eq!(p.ready(Registry::Ripe, t0 + 2 * S), Ok(()));
        // A shorter Retry-After never shortens a pause already running.
        assert_eq!(p.rate_limited(Registry::Ripe, Some(1), t0), t0 + S);
        assert_eq!(p.ready(Registry::Ripe, t0), Err(t0 + 2 * S));
        // A Retry-After of days is capped at an hour.
        let until = p.rate_limited(Registry::Apnic, Some(86_400 * 7), t0);
        assert_eq!(until, t0 + RETRY_AFTER_CAP);
    }

    #[test]
    fn a_429_without_retry_after_backs_off_with_jitter_until_an_answer() {
        let t0 = Instant::now();
        let mut p = polite(Policy::default());
        let within = |d: Duration, base: u64| {
            d >= Duration::from_secs(base * 3 / 4) && d <= Duration::from_secs(base * 5 / 4)
        };
        let first = p.rate_limited(Registry::Lacnic, None, t0) - t0;
        assert!(within(first, 60), "{first:?}");
        let second = p.rate_limited(Registry::Lacnic, None, t0) - t0;
        assert!(within(second, 120), "{second:?}");
        for _ in 0..10 {
            p.rate_limited(Registry::Lacnic, None, t0);
        }
        let capped = p.rate_limited(Registry::Lacnic, None, t0) - t0;
        assert!(within(capped, 15 * 60), "{capped:?}");
        // An answer ends the streak: the next pause starts small again.
        p.answered(Registry::Lacnic);
        let again = p.rate_limited(Registry::Lacnic, None, t0) - t0;
        assert!(within(again, 60), "{again:?}");
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
        assert_eq!(paused[0].0, Registry::Afrinic);
        let first = paused[0].1;
        assert!(first >= Duration::from_millis(22_500) && first <= Duration::from_millis(37_500));
        assert!(p.ready(Registry::Afrinic, t0).is_err());
        assert_eq!(p.ready(Registry::Ripe, t0), Ok(()));
        // Another streak trips it for longer; an answer resets the trips.
        for attempt in 1..=8 {
            p.retry(Registry::Afrinic, attempt, t0);
        }
        let second = p.paused(t0)[0].1;
        assert!(second >= Duration::from_secs(45) && second <= Duration::from_secs(75));
        p.answered(Registry::Afrinic);
        for attempt in 1..=8 {
            p.retry(Registry::Afrinic, attempt, t0);
        }
        let reset = p.paused(t0)[0].1;
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
