//! IPv4 prefix maths: addresses as `u32`, inclusive ranges, CIDR blocks, the
//! exact range → CIDR decomposition, and the reserved (bogon) space.
//!
//! Pure and std-only (plus serde derives). Every other module speaks in these
//! types; nothing here allocates more than a decomposition needs.

use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Number of non-reserved IPv4 addresses: 2^32 minus the 15 [`RESERVED`] blocks.
pub const NON_RESERVED_TOTAL: u64 = 3_702_258_432;

/// An inclusive range of IPv4 addresses, `start <= end` always.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Range {
    /// First address.
    pub start: u32,
    /// Last address (inclusive).
    pub end: u32,
}

impl Range {
    /// A range from `start` to `end` inclusive; `None` when `start > end`.
    pub fn new(start: u32, end: u32) -> Option<Range> {
        (start <= end).then_some(Range { start, end })
    }

    /// The whole IPv4 space.
    pub const ALL: Range = Range {
        start: 0,
        end: u32::MAX,
    };

    /// Number of addresses (1 ..= 2^32).
    pub fn len(&self) -> u64 {
        u64::from(self.end) - u64::from(self.start) + 1
    }

    /// Always false: a range holds at least one address. Present for clippy's sake.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Whether `addr` lies inside.
    pub fn contains(&self, addr: u32) -> bool {
        self.start <= addr && addr <= self.end
    }

    /// Whether `other` lies entirely inside `self`.
    pub fn contains_range(&self, other: &Range) -> bool {
        self.start <= other.start && other.end <= self.end
    }

    /// The overlap of two ranges, if any.
    pub fn intersect(&self, other: &Range) -> Option<Range> {
        Range::new(self.start.max(other.start), self.end.min(other.end))
    }

    /// The exact, minimal CIDR decomposition, in address order.
    pub fn to_cidrs(&self) -> Vec<Cidr> {
        let mut out = Vec::new();
        let mut cur = u64::from(self.start);
        let end = u64::from(self.end);
        while cur <= end {
            // Largest block aligned at `cur` that does not pass `end`.
            let align = if cur == 0 {
                32
            } else {
                cur.trailing_zeros().min(32)
            };
            let mut size_log = align;
            while size_log > 0 && cur + (1u64 << size_log) - 1 > end {
                size_log -= 1;
            }
            out.push(Cidr {
                addr: cur as u32,
                len: (32 - size_log) as u8,
            });
            cur += 1u64 << size_log;
        }
        out
    }

    /// The smallest CIDR block that contains the whole range.
    pub fn covering_cidr(&self) -> Cidr {
        let diff = self.start ^ self.end;
        let len = diff.leading_zeros() as u8;
        Cidr::new_masked(self.start, len)
    }

    /// The range as a single CIDR, when it is exactly one.
    pub fn as_cidr(&self) -> Option<Cidr> {
        let c = self.covering_cidr();
        (c.range() == *self).then_some(c)
    }
}

impl fmt::Display for Range {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} - {}",
            Ipv4Addr::from(self.start),
            Ipv4Addr::from(self.end)
        )
    }
}

/// A CIDR block `addr/len` with the host bits of `addr` zero.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Cidr {
    addr: u32,
    len: u8,
}

impl Cidr {
    /// A block; `None` when `len > 32` or `addr` has host bits set.
    pub fn new(addr: u32, len: u8) -> Option<Cidr> {
        if len > 32 || addr & !mask(len) != 0 {
            return None;
        }
        Some(Cidr { addr, len })
    }

    /// A block, clearing any host bits of `addr` (`len` is clamped to 32).
    pub fn new_masked(addr: u32, len: u8) -> Cidr {
        let len = len.min(32);
        Cidr {
            addr: addr & mask(len),
            len,
        }
    }

    /// Network address.
    pub fn addr(&self) -> u32 {
        self.addr
    }

    /// Prefix length, 0 ..= 32.
    pub fn len(&self) -> u8 {
        self.len
    }

    /// Always false (a block holds at least one address).
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The addresses of the block.
    pub fn range(&self) -> Range {
        Range {
            start: self.addr,
            end: self.addr | !mask(self.len),
        }
    }

    /// Number of addresses.
    pub fn size(&self) -> u64 {
        1u64 << (32 - u32::from(self.len))
    }

    /// Whether `addr` lies inside.
    pub fn contains(&self, addr: u32) -> bool {
        addr & mask(self.len) == self.addr
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", Ipv4Addr::from(self.addr), self.len)
    }
}

/// Why a CIDR string was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CidrParseError(pub String);

impl fmt::Display for CidrParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid IPv4 CIDR {:?}: expected a.b.c.d/len with len 0-32 and no host bits set",
            self.0
        )
    }
}

impl std::error::Error for CidrParseError {}

impl FromStr for Cidr {
    type Err = CidrParseError;

    /// Strict form for command lines: `a.b.c.d/len`, host bits zero. A bare
    /// address means `/32`.
    fn from_str(s: &str) -> Result<Cidr, CidrParseError> {
        let err = || CidrParseError(s.to_string());
        let (a, l) = match s.split_once('/') {
            Some((a, l)) => (a, l.parse::<u8>().map_err(|_| err())?),
            None => (s, 32),
        };
        let addr = Ipv4Addr::from_str(a).map_err(|_| err())?;
        Cidr::new(u32::from(addr), l).ok_or_else(err)
    }
}

/// The netmask of a prefix length (`len` 0 ..= 32).
pub fn mask(len: u8) -> u32 {
    if len == 0 {
        0
    } else {
        u32::MAX << (32 - u32::from(len.min(32)))
    }
}

/// Dotted-quad text of an address.
pub fn fmt_addr(addr: u32) -> String {
    Ipv4Addr::from(addr).to_string()
}

/// Reads a dotted quad leniently, as old registry answers write them:
/// surrounding spaces, zero-padded octets (`074.125.000.000`) and a `/32`
/// suffix (`62.239.237.0/32`) are accepted. Any other suffix, a fifth octet,
/// an octet over 255 or more than three digits are refused.
pub fn parse_addr_lenient(s: &str) -> Option<u32> {
    let s = s.trim();
    let s = s.strip_suffix("/32").unwrap_or(s);
    let mut out: u32 = 0;
    let mut n = 0;
    for part in s.split('.') {
        if part.is_empty() || part.len() > 3 || !part.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let v: u32 = part.parse().ok()?;
        if v > 255 {
            return None;
        }
        out = (out << 8) | v;
        n += 1;
    }
    (n == 4).then_some(out)
}

/// Reads a range as registries write one in handles and `parentHandle`:
/// `"a.b.c.d - e.f.g.h"` (any spacing), `"a.b.c.d/len"` (lenient address), or
/// a single address. `None` for anything else (e.g. a handle like `NET-1-0-0-0-1`).
pub fn parse_range_lenient(s: &str) -> Option<Range> {
    let s = s.trim();
    if let Some((a, b)) = s.split_once('-') {
        let start = parse_addr_lenient(a)?;
        let end = parse_addr_lenient(b)?;
        return Range::new(start, end);
    }
    if let Some((a, l)) = s.split_once('/') {
        let addr = parse_addr_lenient(a)?;
        let len: u8 = l.trim().parse().ok()?;
        if len > 32 {
            return None;
        }
        return Some(Cidr::new_masked(addr, len).range());
    }
    parse_addr_lenient(s).map(|a| Range { start: a, end: a })
}

const fn c(a: u8, b: u8, c: u8, d: u8, len: u8) -> Cidr {
    Cidr {
        addr: u32::from_be_bytes([a, b, c, d]),
        len,
    }
}

/// The 15 reserved blocks (the usual bogon list: the IANA special-purpose
/// registry's non-global blocks, 6to4 relay, multicast, class E), in address order.
pub const RESERVED: [Cidr; 15] = [
    c(0, 0, 0, 0, 8),
    c(10, 0, 0, 0, 8),
    c(100, 64, 0, 0, 10),
    c(127, 0, 0, 0, 8),
    c(169, 254, 0, 0, 16),
    c(172, 16, 0, 0, 12),
    c(192, 0, 0, 0, 24),
    c(192, 0, 2, 0, 24),
    c(192, 88, 99, 0, 24),
    c(192, 168, 0, 0, 16),
    c(198, 18, 0, 0, 15),
    c(198, 51, 100, 0, 24),
    c(203, 0, 113, 0, 24),
    c(224, 0, 0, 0, 4),
    c(240, 0, 0, 0, 4),
];

/// Whether `addr` is in one of the [`RESERVED`] blocks.
pub fn is_reserved(addr: u32) -> bool {
    RESERVED.iter().any(|b| b.contains(addr))
}

/// The non-reserved space as sorted, disjoint ranges (the complement of
/// [`RESERVED`]); their sizes add up to [`NON_RESERVED_TOTAL`].
pub fn non_reserved() -> Vec<Range> {
    let mut out = Vec::new();
    let mut next: u64 = 0;
    for b in RESERVED {
        let r = b.range();
        if u64::from(r.start) > next {
            out.push(Range {
                start: next as u32,
                end: r.start - 1,
            });
        }
        next = u64::from(r.end) + 1;
    }
    if let Ok(start) = u32::try_from(next) {
        out.push(Range {
            start,
            end: u32::MAX,
        });
    }
    out
}

/// `ranges` (sorted, disjoint) intersected with `within`, in order.
pub fn clip(ranges: &[Range], within: &Range) -> Vec<Range> {
    ranges.iter().filter_map(|r| r.intersect(within)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(s: &str) -> u32 {
        u32::from(Ipv4Addr::from_str(s).unwrap())
    }

    #[test]
    fn non_reserved_total_is_exact() {
        let total: u64 = non_reserved().iter().map(Range::len).sum();
        assert_eq!(total, NON_RESERVED_TOTAL);
        let reserved: u64 = RESERVED.iter().map(Cidr::size).sum();
        assert_eq!(reserved + NON_RESERVED_TOTAL, 1u64 << 32);
    }

    #[test]
    fn reserved_membership() {
        assert!(is_reserved(a("10.1.2.3")));
        assert!(is_reserved(a("100.127.255.255")));
        assert!(!is_reserved(a("100.128.0.0")));
        assert!(is_reserved(a("198.19.0.1")));
        assert!(!is_reserved(a("198.20.0.0")));
        assert!(is_reserved(a("255.255.255.255")));
        assert!(!is_reserved(a("1.1.1.1")));
    }

    #[test]
    fn arin_msft_is_three_cidrs() {
        let r = Range::new(a("13.64.0.0"), a("13.107.255.255")).unwrap();
        let got: Vec<String> = r.to_cidrs().iter().map(ToString::to_string).collect();
        assert_eq!(got, ["13.64.0.0/11", "13.96.0.0/13", "13.104.0.0/14"]);
    }

    #[test]
    fn afrinic_unaligned_range() {
        let r = Range::new(a("196.11.239.0"), a("196.11.246.255")).unwrap();
        let got: Vec<String> = r.to_cidrs().iter().map(ToString::to_string).collect();
        assert_eq!(
            got,
            [
                "196.11.239.0/24",
                "196.11.240.0/22",
                "196.11.244.0/23",
                "196.11.246.0/24"
            ]
        );
        assert_eq!(r.as_cidr(), None);
        assert_eq!(r.covering_cidr().to_string(), "196.11.224.0/19");
    }

    #[test]
    fn whole_space_and_single_address() {
        assert_eq!(Range::ALL.to_cidrs(), vec![Cidr::new(0, 0).unwrap()]);
        assert_eq!(Range::ALL.len(), 1u64 << 32);
        let one = Range::new(u32::MAX, u32::MAX).unwrap();
        assert_eq!(one.to_cidrs()[0].to_string(), "255.255.255.255/32");
        assert_eq!(one.covering_cidr().len(), 32);
    }

    #[test]
    fn decomposition_is_exact_for_many_ranges() {
        // A deterministic spread of ranges: the pieces must tile the range exactly.
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..2000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let s = (x >> 32) as u32;
            let e = s.saturating_add((x as u32) >> (x % 32));
            let r = Range::new(s, e).unwrap();
            let cidrs = r.to_cidrs();
            let mut next = u64::from(s);
            for c in &cidrs {
                assert_eq!(u64::from(c.addr()), next);
                assert_eq!(Cidr::new(c.addr(), c.len()), Some(*c));
                next += c.size();
            }
            assert_eq!(next, u64::from(e) + 1);
            assert!(cidrs.len() <= 62);
            assert!(r.covering_cidr().range().contains_range(&r));
        }
    }

    #[test]
    fn lenient_addresses() {
        assert_eq!(parse_addr_lenient("074.125.000.000"), Some(a("74.125.0.0")));
        assert_eq!(
            parse_addr_lenient(" 62.239.237.0/32 "),
            Some(a("62.239.237.0"))
        );
        assert_eq!(parse_addr_lenient("1.2.3"), None);
        assert_eq!(parse_addr_lenient("1.2.3.4.5"), None);
        assert_eq!(parse_addr_lenient("1.2.3.256"), None);
        assert_eq!(parse_addr_lenient("1.2.3.0/24"), None);
        assert_eq!(parse_addr_lenient("::1"), None);
        assert_eq!(parse_addr_lenient("0001.2.3.4"), None);
    }

    #[test]
    fn lenient_ranges() {
        let r = parse_range_lenient("61.160.0.0 - 61.191.255.255").unwrap();
        assert_eq!(r.to_string(), "61.160.0.0 - 61.191.255.255");
        let r = parse_range_lenient("200.0.0.0/8").unwrap();
        assert_eq!(r, Range::new(a("200.0.0.0"), a("200.255.255.255")).unwrap());
        assert_eq!(parse_range_lenient("NET-108-0-0-0-0"), None);
        assert_eq!(parse_range_lenient("RU-ROSNIIROS-194-85"), None);
        assert_eq!(parse_range_lenient("2.0.0.0 - 1.0.0.0"), None);
    }

    #[test]
    fn strict_cidr_parse() {
        assert_eq!(
            "10.0.0.0/8".parse::<Cidr>().unwrap().to_string(),
            "10.0.0.0/8"
        );
        assert!("10.0.0.1/8".parse::<Cidr>().is_err());
        assert!("10.0.0.0/33".parse::<Cidr>().is_err());
        assert!("nonsense".parse::<Cidr>().is_err());
        assert_eq!("1.2.3.4".parse::<Cidr>().unwrap().len(), 32);
        let e = "10.0.0.1/8".parse::<Cidr>().unwrap_err().to_string();
        assert!(e.contains("10.0.0.1/8"), "{e}");
    }

    #[test]
    fn clip_to_window() {
        let nr = non_reserved();
        let w = Range::new(a("9.0.0.0"), a("11.255.255.255")).unwrap();
        let got = clip(&nr, &w);
        assert_eq!(
            got,
            vec![
                Range::new(a("9.0.0.0"), a("9.255.255.255")).unwrap(),
                Range::new(a("11.0.0.0"), a("11.255.255.255")).unwrap()
            ]
        );
    }
}
