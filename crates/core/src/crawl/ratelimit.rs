//! Politeness: a token bucket per registry, pauses for 429s and for a
//! registry that keeps failing (circuit breaker), and jittered exponential
//! back-off.
//!
//! Time is passed in (`now: Instant`) so the logic is testable without sleeping.

use std::fmt;
use std::str::FromStr;
use std::time::{Duration, Instant};

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

#[cfg(test)]
mod tests {
    use super::*;

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
}
