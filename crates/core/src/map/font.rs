//! A 5 × 7 bitmap font for the map's title, legend and /8 labels: upper-case
//! letters, digits and the punctuation the captions use, drawn for this
//! project (public domain). Lower-case text is drawn in upper case; any
//! other character is drawn as a hollow box, so nothing is silently lost.
//!
//! Each glyph is seven rows of five cells, `#` ink and `.` paper, top row
//! first.

/// Glyph width in cells.
pub const W: u32 = 5;
/// Glyph height in cells.
pub const H: u32 = 7;
/// Horizontal advance in cells (one blank column between glyphs).
pub const ADVANCE: u32 = W + 1;

const GLYPHS: &[(char, &str)] = &[
    (' ', "..... ..... ..... ..... ..... ..... ....."),
    ('A', ".###. #...# #...# ##### #...# #...# #...#"),
    ('B', "####. #...# #...# ####. #...# #...# ####."),
    ('C', ".###. #...# #.... #.... #.... #...# .###."),
    ('D', "####. #...# #...# #...# #...# #...# ####."),
    ('E', "##### #.... #.... ####. #.... #.... #####"),
    ('F', "##### #.... #.... ####. #.... #.... #...."),
    ('G', ".###. #...# #.... #.### #...# #...# .####"),
    ('H', "#...# #...# #...# ##### #...# #...# #...#"),
    ('I', ".###. ..#.. ..#.. ..#.. ..#.. ..#.. .###."),
    ('J', "..### ...#. ...#. ...#. ...#. #..#. .##.."),
    ('K', "#...# #..#. #.#.. ##... #.#.. #..#. #...#"),
    ('L', "#.... #.... #.... #.... #.... #.... #####"),
    ('M', "#...# ##.## #.#.# #.#.# #...# #...# #...#"),
    ('N', "#...# #...# ##..# #.#.# #..## #...# #...#"),
    ('O', ".###. #...# #...# #...# #...# #...# .###."),
    ('P', "####. #...# #...# ####. #.... #.... #...."),
    ('Q', ".###. #...# #...# #...# #.#.# #..#. .##.#"),
    ('R', "####. #...# #...# ####. #.#.. #..#. #...#"),
    ('S', ".#### #.... #.... .###. ....# ....# ####."),
    ('T', "##### ..#.. ..#.. ..#.. ..#.. ..#.. ..#.."),
    ('U', "#...# #...# #...# #...# #...# #...# .###."),
    ('V', "#...# #...# #...# #...# #...# .#.#. ..#.."),
    ('W', "#...# #...# #...# #.#.# #.#.# #.#.# .#.#."),
    ('X', "#...# #...# .#.#. ..#.. .#.#. #...# #...#"),
    ('Y', "#...# #...# .#.#. ..#.. ..#.. ..#.. ..#.."),
    ('Z', "##### ....# ...#. ..#.. .#... #.... #####"),
    ('0', ".###. #...# #..## #.#.# ##..# #...# .###."),
    ('1', "..#.. .##.. ..#.. ..#.. ..#.. ..#.. .###."),
    ('2', ".###. #...# ....# ...#. ..#.. .#... #####"),
    ('3', "##### ...#. ..#.. ...#. ....# #...# .###."),
    ('4', "...#. ..##. .#.#. #..#. ##### ...#. ...#."),
    ('5', "##### #.... ####. ....# ....# #...# .###."),
    ('6', "..##. .#... #.... ####. #...# #...# .###."),
    ('7', "##### ....# ...#. ..#.. .#... .#... .#..."),
    ('8', ".###. #...# #...# .###. #...# #...# .###."),
    ('9', ".###. #...# #...# .#### ....# ...#. .##.."),
    ('.', "..... ..... ..... ..... ..... .##.. .##.."),
    (',', "..... ..... ..... ..... .##.. ..#.. .#..."),
    (':', "..... .##.. .##.. ..... .##.. .##.. ....."),
    ('-', "..... ..... ..... ##### ..... ..... ....."),
    ('+', "..... ..#.. ..#.. ##### ..#.. ..#.. ....."),
    ('=', "..... ..... ##### ..... ##### ..... ....."),
    ('/', "..... ....# ...#. ..#.. .#... #.... ....."),
    ('(', "...#. ..#.. .#... .#... .#... ..#.. ...#."),
    (')', ".#... ..#.. ...#. ...#. ...#. ..#.. .#..."),
    ('%', "##... ##..# ...#. ..#.. .#... #..## ...##"),
    ('_', "..... ..... ..... ..... ..... ..... #####"),
    ('\'', "..#.. ..#.. .#... ..... ..... ..... ....."),
    ('|', "..#.. ..#.. ..#.. ..#.. ..#.. ..#.. ..#.."),
];

/// Drawn for characters the table lacks.
const MISSING: &str = "##### #...# #...# #...# #...# #...# #####";

/// The rows of `c` as 5-bit masks (bit 4 = leftmost cell).
pub fn glyph(c: char) -> [u8; H as usize] {
    let up = c.to_ascii_uppercase();
    let art = GLYPHS
        .iter()
        .find(|(g, _)| *g == up)
        .map_or(MISSING, |(_, a)| a);
    let mut rows = [0u8; H as usize];
    for (row, cells) in rows.iter_mut().zip(art.split(' ')) {
        for (i, cell) in cells.bytes().enumerate() {
            if cell == b'#' {
                *row |= 0x10 >> i;
            }
        }
    }
    rows
}

/// Width in pixels of `text` drawn at `scale` (no trailing gap).
pub fn text_width(text: &str, scale: u32) -> u32 {
    let n = text.chars().count() as u32;
    if n == 0 {
        0
    } else {
        (n * ADVANCE - 1) * scale
    }
}

/// Whether the table has a glyph for `c` (in upper case).
#[cfg(test)]
pub fn has_glyph(c: char) -> bool {
    let up = c.to_ascii_uppercase();
    GLYPHS.iter().any(|(g, _)| *g == up)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_glyph_is_seven_rows_of_five_cells_and_unique() {
        for (c, art) in GLYPHS {
            let rows: Vec<&str> = art.split(' ').collect();
            assert_eq!(rows.len(), H as usize, "{c:?}");
            for r in rows {
                assert_eq!(r.len(), W as usize, "{c:?}: {r:?}");
                assert!(r.bytes().all(|b| b == b'#' || b == b'.'), "{c:?}: {r:?}");
            }
        }
        for (i, (a, ga)) in GLYPHS.iter().enumerate() {
            for (b, gb) in &GLYPHS[i + 1..] {
                assert_ne!(a, b, "duplicate entry");
                assert_ne!(ga, gb, "{a:?} and {b:?} look the same");
            }
        }
    }

    #[test]
    fn lower_case_is_upper_case_and_unknowns_are_a_box() {
        assert_eq!(glyph('a'), glyph('A'));
        assert_eq!(glyph('~'), glyph('\u{1F600}'));
        assert_eq!(glyph('~')[0], 0x1f);
        assert!(!has_glyph('~') && has_glyph('q'));
        assert_eq!(glyph('I')[0], 0b01110);
        assert_eq!(text_width("AB", 2), 22);
    }
}
