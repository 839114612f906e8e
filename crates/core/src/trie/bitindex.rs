//! [`BitIndex`]: a read-only, popcount-compressed membership bitmap.
//!
//! The address space is cut three ways:
//!
//! | level | unit | stored as |
//! |-------|------|-----------|
//! | block | /12  | a direct-indexed table of 4096 [`Block`]s (32 bytes each, 128 KiB) |
//! | word  | /18  | per block, 64 two-bit states via bitmaps `full` and `mixed`; each mixed /18 owns one `u64` (a bit per /24) |
//! | leaf  | /24  | a bit in that word; /24s only partly covered are flagged in `partial` words and answered from a sorted remainder of sub-/24 pieces |
//!
//! A mixed /18's word is found Poptrie-style: `block.mrank + popcount(mixed &
//! below)`. Two sentinel words (`0` and `!0`) sit at the front of `words` so
//! the all-out and all-in cases load a word too: the lookup is always two
//! loads (block, word) with no data-dependent branch, except for the rare
//! address whose /18 holds a partial /24 and whose /24 bit is clear.
//!
//! Why this shape: at /24 granularity a realistic table of a million
//! prefixes touches nearly every /18, so about 2 MB of words — fitting in
//! L2 on the target machines — while a 50 000-prefix table needs only the
//! words it touches (no fixed multi-MB floor). Building is one pass over the
//! canonical runs with `bitvec` range fills, then one pass over the words.

use bitvec::prelude::*;

use super::IntervalSet;

/// Bits of the address that pick a block (/12).
const BLOCK_SHIFT: u32 = 20;
/// Bits of the address that pick a word (/18).
const WORD_SHIFT: u32 = 14;
/// Bits of the address that pick a leaf (/24).
const LEAF_SHIFT: u32 = 8;
const BLOCKS: usize = 1 << (32 - BLOCK_SHIFT);
const WORDS: usize = 1 << (32 - WORD_SHIFT);
const LEAVES: usize = 1 << (32 - LEAF_SHIFT);
/// Index of the sentinel words in `words`.
const ALL_OUT: usize = 0;
const ALL_IN: usize = 1;

/// The per-/12 entry: 64 /18 states plus ranks into the word arrays.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Block {
    /// /18s that have their own word in `words`.
    mixed: u64,
    /// /18s entirely inside the set.
    full: u64,
    /// /18s holding at least one partly covered /24.
    partial: u64,
    /// Index in `words` of this block's first mixed word.
    mrank: u32,
    /// Index in `pwords` of this block's first partial word.
    prank: u32,
}

/// Read-only membership index over an [`IntervalSet`]; see the module docs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BitIndex {
    blocks: Vec<Block>,
    /// `[0, !0, one word per mixed /18 …]`: bit `i` = /24 number `i` of the /18 fully in.
    words: Vec<u64>,
    /// One word per /18 in `partial`: bit `i` = /24 number `i` is partly covered.
    pwords: Vec<u64>,
    /// For each `pwords` entry, the number of partial /24s before it.
    pbase: Vec<u32>,
    /// For partial /24 number `q`, its pieces are `pieces[poffs[q]..poffs[q+1]]`.
    poffs: Vec<u32>,
    /// Covered sub-/24 pieces as inclusive low-byte pairs, in address order.
    pieces: Vec<[u8; 2]>,
}

impl Default for BitIndex {
    fn default() -> Self {
        BitIndex::build(&IntervalSet::new())
    }
}

#[inline]
fn usize_of(x: u32) -> usize {
    x as usize
}

#[inline]
fn u32_of(x: usize) -> u32 {
    u32::try_from(x).expect("index fits in u32")
}

/// Bits of `x` below bit `i` (`i < 64`).
#[inline]
fn below(x: u64, i: u32) -> u64 {
    x & ((1u64 << i) - 1)
}

impl BitIndex {
    /// Builds the index of `set`.
    pub fn build(set: &IntervalSet) -> BitIndex {
        let mut full: BitVec<u64, Lsb0> = BitVec::repeat(false, LEAVES);
        let mut part: BitVec<u64, Lsb0> = BitVec::repeat(false, LEAVES);
        let mut pieces: Vec<[u8; 2]> = Vec::new();
        let mut poffs: Vec<u32> = Vec::new();
        let mut last_partial: Option<usize> = None;
        let mut add_piece = |part: &mut BitSlice<u64, Lsb0>, leaf: usize, lo: u32, hi: u32| {
            if last_partial != Some(leaf) {
                poffs.push(u32_of(pieces.len()));
                part.set(leaf, true);
                last_partial = Some(leaf);
            }
            pieces.push([low_byte(lo), low_byte(hi)]);
        };
        for r in set.ranges() {
            let (s_leaf, e_leaf) = (
                usize_of(r.start >> LEAF_SHIFT),
                usize_of(r.end >> LEAF_SHIFT),
            );
            let (s_lo, e_lo) = (r.start & 0xFF, r.end & 0xFF);
            if s_leaf == e_leaf && !(s_lo == 0 && e_lo == 0xFF) {
                add_piece(&mut part, s_leaf, s_lo, e_lo);
                continue;
            }
            let first_full = if s_lo == 0 { s_leaf } else { s_leaf + 1 };
            let end_full = if e_lo == 0xFF { e_leaf + 1 } else { e_leaf };
            if s_lo != 0 {
                add_piece(&mut part, s_leaf, s_lo, 0xFF);
            }
            if first_full < end_full {
                full[first_full..end_full].fill(true);
            }
            if e_lo != 0xFF {
                add_piece(&mut part, e_leaf, 0, e_lo);
            }
        }
        poffs.push(u32_of(pieces.len()));

        let mut blocks = vec![Block::default(); BLOCKS];
        let mut words = vec![0, !0];
        let mut pwords = Vec::new();
        let mut pbase = Vec::new();
        let mut npartial = 0u32;
        let (fw, pw) = (full.as_raw_slice(), part.as_raw_slice());
        debug_assert_eq!(fw.len(), WORDS);
        for (b, block) in blocks.iter_mut().enumerate() {
            block.mrank = u32_of(words.len());
            block.prank = u32_of(pwords.len());
            for i in 0..64 {
                let w = b * 64 + i;
                let bit = 1u64 << i;
                match fw[w] {
                    0 => {}
                    u64::MAX => block.full |= bit,
                    x => {
                        block.mixed |= bit;
                        words.push(x);
                    }
                }
                if pw[w] != 0 {
                    block.partial |= bit;
                    pwords.push(pw[w]);
                    pbase.push(npartial);
                    npartial += pw[w].count_ones();
                }
            }
        }
        words.shrink_to_fit();
        pieces.shrink_to_fit();
        BitIndex {
            blocks,
            words,
            pwords,
            pbase,
            poffs,
            pieces,
        }
    }

    /// Whether `addr` is in the set.
    #[inline]
    pub fn contains(&self, addr: u32) -> bool {
        let b = &self.blocks[usize_of(addr >> BLOCK_SHIFT)];
        let i = (addr >> WORD_SHIFT) & 63;
        let is_mixed = (b.mixed >> i) & 1;
        let is_full = usize::from((b.full >> i) & 1 != 0);
        let ranked = usize_of(b.mrank) + usize_of(below(b.mixed, i).count_ones());
        // Branch-free select: mixed → its word, else the all-in/all-out sentinel.
        let sel = 0usize.wrapping_sub(usize::from(is_mixed != 0));
        let w = self.words[(ranked & sel) | ((ALL_OUT + is_full) & !sel)];
        let bit = (w >> ((addr >> LEAF_SHIFT) & 63)) & 1;
        if (b.partial >> i) & 1 & !bit == 0 {
            bit != 0
        } else {
            self.partial_contains(b, i, addr)
        }
    }

    /// The slow path: `addr`'s /24 bit is clear and its /18 holds a partial /24.
    #[cold]
    #[inline(never)]
    fn partial_contains(&self, b: &Block, i: u32, addr: u32) -> bool {
        let pi = usize_of(b.prank) + usize_of(below(b.partial, i).count_ones());
        let pw = self.pwords[pi];
        let j = (addr >> LEAF_SHIFT) & 63;
        if (pw >> j) & 1 == 0 {
            return false;
        }
        let q = usize_of(self.pbase[pi]) + usize_of(below(pw, j).count_ones());
        let lo = low_byte(addr);
        self.pieces[usize_of(self.poffs[q])..usize_of(self.poffs[q + 1])]
            .iter()
            .any(|&[a, z]| a <= lo && lo <= z)
    }

    /// Heap bytes owned by the index (capacity, not just length).
    pub fn heap_bytes(&self) -> usize {
        self.blocks.capacity() * std::mem::size_of::<Block>()
            + self.words.capacity() * 8
            + self.pwords.capacity() * 8
            + self.pbase.capacity() * 4
            + self.poffs.capacity() * 4
            + self.pieces.capacity() * 2
    }

    /// Number of addresses in the set, counted from the bitmaps (a
    /// cross-check of [`IntervalSet::address_count`]).
    pub fn address_count(&self) -> u64 {
        let mut n = 0u64;
        for b in &self.blocks {
            n += u64::from(b.full.count_ones()) << (WORD_SHIFT);
        }
        for w in &self.words[ALL_IN + 1..] {
            n += u64::from(w.count_ones()) << LEAF_SHIFT;
        }
        for p in &self.pieces {
            n += u64::from(p[1] - p[0]) + 1;
        }
        n
    }
}

/// The low 8 bits.
#[inline]
fn low_byte(x: u32) -> u8 {
    x.to_le_bytes()[0]
}
