//! `coverage --map`: the IPv4 space as a Hilbert-curve picture, one pixel
//! per /16 (256 × 256) or per /24 (4096 × 4096). Consecutive blocks stay
//! neighbours on a Hilbert curve, so allocations show as compact shapes.
//!
//! Each pixel takes the colour of whatever holds most of its block:
//!
//! | colour | meaning |
//! |---|---|
//! | blue `#1f77b4` | networks from ARIN |
//! | orange `#ff7f0e` | networks from RIPE NCC |
//! | green `#2ca02c` | networks from APNIC |
//! | red `#d62728` | networks from LACNIC |
//! | purple `#9467bd` | networks from AFRINIC |
//! | light grey `#c8c8c8` | probed: the registry answered 404 |
//! | beige `#e6dcb4` | probed: the registry answered with a placeholder |
//! | dark grey `#303030` | not probed (yet) |
//! | black `#000000` | reserved space |
//!
//! The only `png` user.

use std::io::Write;

use crate::prefix::{self, Range};
use crate::rdap::Registry;
use crate::store::GapKind;
use crate::trie::IntervalSet;

/// What a block is mostly made of.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Class {
    /// Covered by this registry's networks.
    Registry(Registry),
    /// Probed, 404.
    NotFound,
    /// Probed, placeholder.
    Placeholder,
    /// Reserved space.
    Reserved,
    /// Nothing known.
    Unknown,
}

impl Class {
    fn from_index(i: usize) -> Class {
        match i {
            0..=4 => Class::Registry(Registry::ALL[i]),
            5 => Class::NotFound,
            6 => Class::Placeholder,
            7 => Class::Reserved,
            _ => Class::Unknown,
        }
    }

    /// The pixel colour.
    pub fn rgb(self) -> [u8; 3] {
        match self {
            Class::Registry(Registry::Arin) => [0x1f, 0x77, 0xb4],
            Class::Registry(Registry::Ripe) => [0xff, 0x7f, 0x0e],
            Class::Registry(Registry::Apnic) => [0x2c, 0xa0, 0x2c],
            Class::Registry(Registry::Lacnic) => [0xd6, 0x27, 0x28],
            Class::Registry(Registry::Afrinic) => [0x94, 0x67, 0xbd],
            Class::NotFound => [0xc8, 0xc8, 0xc8],
            Class::Placeholder => [0xe6, 0xdc, 0xb4],
            Class::Reserved => [0, 0, 0],
            Class::Unknown => [0x30, 0x30, 0x30],
        }
    }
}

/// Hilbert curve: the (x, y) cell of distance `d` on a `side` × `side` grid
/// (`side` a power of two).
pub fn hilbert_xy(side: u32, d: u32) -> (u32, u32) {
    let (mut x, mut y) = (0u32, 0u32);
    let mut t = d;
    let mut s = 1u32;
    while s < side {
        let rx = 1 & (t / 2);
        let ry = 1 & (t ^ rx);
        if ry == 0 {
            if rx == 1 {
                x = s - 1 - x;
                y = s - 1 - y;
            }
            std::mem::swap(&mut x, &mut y);
        }
        x += s * rx;
        y += s * ry;
        t /= 4;
        s *= 2;
    }
    (x, y)
}

/// The majority class of every block of `2^(32-bits)` addresses, in block order.
pub fn classify(
    networks: &[(Range, Registry)],
    gaps: &[(Range, GapKind, Registry)],
    bits: u8,
) -> Vec<Class> {
    let blocks = 1usize << bits;
    let shift = 32 - u32::from(bits);
    // Each class's own union (sorted, disjoint), so nesting counts once.
    let mut classes: Vec<IntervalSet> = Vec::with_capacity(8);
    let mut covered = IntervalSet::new();
    for reg in Registry::ALL {
        let set = IntervalSet::from_ranges(
            networks
                .iter()
                .filter(|(_, r)| *r == reg)
                .map(|(range, _)| *range),
        );
        covered = covered.union(&set);
        classes.push(set);
    }
    for kind in [GapKind::NotFound, GapKind::Placeholder] {
        classes.push(
            IntervalSet::from_ranges(
                gaps.iter()
                    .filter(|(_, k, _)| *k == kind)
                    .map(|(r, _, _)| *r),
            )
            .subtract(&covered),
        );
    }
    classes.push(IntervalSet::from_ranges(
        prefix::RESERVED.iter().map(prefix::Cidr::range),
    ));
    // One pass over the blocks with a cursor per class.
    let size = 1u64 << shift;
    let mut cursor = [0usize; 8];
    let mut out = Vec::with_capacity(blocks);
    for b in 0..blocks as u64 {
        let lo = b << shift;
        let hi = lo + size - 1;
        let mut best = (0u64, 8usize);
        let mut known = 0u64;
        for (i, set) in classes.iter().enumerate() {
            let ranges = set.ranges();
            while cursor[i] < ranges.len() && u64::from(ranges[cursor[i]].end) < lo {
                cursor[i] += 1;
            }
            let mut n = 0u64;
            for r in &ranges[cursor[i]..] {
                if u64::from(r.start) > hi {
                    break;
                }
                n += u64::from(r.end).min(hi) - u64::from(r.start).max(lo) + 1;
            }
            known += n;
            if n > best.0 {
                best = (n, i);
            }
        }
        out.push(if best.0 == 0 || size.saturating_sub(known) > best.0 {
            Class::Unknown
        } else {
            Class::from_index(best.1)
        });
    }
    out
}

/// Writes the picture as PNG: `bits` 16 (256 × 256) or 24 (4096 × 4096).
pub fn write_png(out: impl Write, classes: &[Class], bits: u8) -> Result<(), png::EncodingError> {
    let side = 1u32 << (bits / 2);
    let mut pixels = vec![0u8; (side as usize) * (side as usize) * 3];
    for (d, class) in classes.iter().enumerate() {
        let (x, y) = hilbert_xy(side, d as u32);
        let at = ((y as usize) * (side as usize) + x as usize) * 3;
        pixels[at..at + 3].copy_from_slice(&class.rgb());
    }
    let mut enc = png::Encoder::new(out, side, side);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    let mut w = enc.write_header()?;
    w.write_image_data(&pixels)?;
    w.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prefix::parse_addr_lenient;

    fn r(a: &str, b: &str) -> Range {
        Range::new(
            parse_addr_lenient(a).unwrap(),
            parse_addr_lenient(b).unwrap(),
        )
        .unwrap()
    }

    #[test]
    fn hilbert_visits_every_cell_once_and_moves_by_one() {
        let side = 16;
        let mut seen = vec![false; 256];
        let mut prev: Option<(u32, u32)> = None;
        for d in 0..256 {
            let (x, y) = hilbert_xy(side, d);
            assert!(!seen[(y * side + x) as usize]);
            seen[(y * side + x) as usize] = true;
            if let Some((px, py)) = prev {
                assert_eq!(px.abs_diff(x) + py.abs_diff(y), 1, "step {d}");
            }
            prev = Some((x, y));
        }
    }

    #[test]
    fn blocks_take_the_majority_class() {
        let nets = vec![
            (r("1.0.0.0", "1.0.255.255"), Registry::Apnic),
            (r("1.0.0.0", "1.0.0.255"), Registry::Apnic),
            (r("2.0.0.0", "2.0.127.255"), Registry::Ripe),
        ];
        let gaps = vec![(
            r("3.0.0.0", "3.0.255.255"),
            GapKind::NotFound,
            Registry::Arin,
        )];
        let c = classify(&nets, &gaps, 16);
        assert_eq!(c[0x0100], Class::Registry(Registry::Apnic));
        // Half covered, half unknown: ties go to what is known.
        assert_eq!(c[0x0200], Class::Registry(Registry::Ripe));
        assert_eq!(c[0x0300], Class::NotFound);
        assert_eq!(c[0x0A00], Class::Reserved);
        assert_eq!(c[0x0400], Class::Unknown);
        let mut png = Vec::new();
        write_png(&mut png, &c, 16).unwrap();
        assert_eq!(&png[1..4], b"PNG");
    }
}
