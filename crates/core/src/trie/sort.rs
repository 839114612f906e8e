//! LSD radix sort of packed `(start << 32) | end` keys by their high half.
//!
//! Building the canonical form only needs runs ordered by start (the merge
//! pass takes the largest end), so three stable 11-bit passes over the start
//! suffice. For a million random ranges this is several times faster than a
//! comparison sort; passes whose digit is constant are skipped, and small
//! inputs fall back to `sort_unstable`.

use crate::prefix::Range;

/// Below this many keys a comparison sort wins.
const RADIX_MIN: usize = 2048;
const BITS: u32 = 11;
const BUCKETS: usize = 1 << BITS;
const PASSES: [u32; 3] = [32, 32 + BITS, 32 + 2 * BITS];

/// The digit of `k` at bit offset `shift`, as a bucket index.
#[inline]
fn digit(k: u64, shift: u32) -> usize {
    usize::try_from((k >> shift) & (BUCKETS as u64 - 1)).unwrap_or(0)
}

/// Sorts `keys` by `key >> 32` (ties in any order).
pub(crate) fn sort_by_high_u32(keys: &mut Vec<u64>) {
    if keys.len() < RADIX_MIN {
        keys.sort_unstable();
        return;
    }
    let mut counts = vec![[0usize; BUCKETS]; PASSES.len()];
    for &k in keys.iter() {
        for (p, &shift) in PASSES.iter().enumerate() {
            counts[p][digit(k, shift)] += 1;
        }
    }
    let mut buf = vec![0u64; keys.len()];
    for (p, &shift) in PASSES.iter().enumerate() {
        let c = &mut counts[p];
        if c.contains(&keys.len()) {
            continue; // every key has the same digit here
        }
        let mut sum = 0;
        for n in c.iter_mut() {
            let here = *n;
            *n = sum;
            sum += here;
        }
        for &k in keys.iter() {
            let d = digit(k, shift);
            buf[c[d]] = k;
            c[d] += 1;
        }
        std::mem::swap(keys, &mut buf);
    }
}

/// The range packed by `(start << 32) | end`.
#[inline]
pub(crate) fn unpack(k: u64) -> Range {
    Range {
        start: super::low_u32(k >> 32),
        end: super::low_u32(k),
    }
}
