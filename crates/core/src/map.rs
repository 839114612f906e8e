//! `coverage --map`: the IPv4 space as a Hilbert-curve picture, laid out
//! like the xkcd "Map of the Internet" and the Measurement Factory's IPv4
//! maps: 0.0.0.0/8 at the top left, 1/8 to its right, 2/8 below 1/8, 3/8
//! below 0/8, and every /8 a square of the 16 × 16 grid (consecutive blocks
//! stay neighbours on a Hilbert curve, so allocations show as compact shapes).
//!
//! The data are classified per cell — one cell per /16 (256 × 256 cells) or
//! per /24 (4096 × 4096) — and each cell takes the colour of whatever holds
//! most of its block. The picture ([`render`]) adds a title (the DB's date
//! and the coverage), the /8 grid with each /8's first octet in its square,
//! and a legend; [`Layout`] says where each part is.
//!
//! Colours are the Okabe–Ito palette (Okabe & Ito, "Color Universal Design",
//! 2002/2008), chosen so every pair of legend colours stays apart under
//! protanopia, deuteranopia and tritanopia (simulated with Machado, Oliveira
//! & Fernandes 2009, severity 1; checked by a unit test):
//!
//! | colour | meaning |
//! |---|---|
//! | blue `#0072b2` | networks from ARIN |
//! | orange `#e69f00` | networks from RIPE NCC |
//! | bluish green `#009e73` | networks from APNIC |
//! | reddish purple `#cc79a7` | networks from LACNIC |
//! | vermillion `#d55e00` | networks from AFRINIC |
//! | light grey `#c8c8c8` | probed: the registry answered 404 (no network) |
//! | yellow `#f0e442` | probed: the registry answered with a placeholder only |
//! | dark grey `#303030` | not crawled (yet) |
//! | black `#000000` | reserved space |
//!
//! Text uses the built-in 5 × 7 bitmap font in [`font`](self) (no font
//! files, no rendering dependency). The only `png` user.

mod font;

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
    /// Every class, in legend order.
    pub const LEGEND: [Class; 9] = [
        Class::Registry(Registry::Arin),
        Class::Registry(Registry::Ripe),
        Class::Registry(Registry::Apnic),
        Class::Registry(Registry::Lacnic),
        Class::Registry(Registry::Afrinic),
        Class::NotFound,
        Class::Placeholder,
        Class::Unknown,
        Class::Reserved,
    ];

    fn from_index(i: usize) -> Class {
        match i {
            0..=4 => Class::Registry(Registry::ALL[i]),
            5 => Class::NotFound,
            6 => Class::Placeholder,
            7 => Class::Reserved,
            _ => Class::Unknown,
        }
    }

    fn index(self) -> usize {
        match self {
            Class::Registry(r) => r.index(),
            Class::NotFound => 5,
            Class::Placeholder => 6,
            Class::Reserved => 7,
            Class::Unknown => 8,
        }
    }

    /// The cell colour.
    pub fn rgb(self) -> [u8; 3] {
        match self {
            Class::Registry(Registry::Arin) => [0x00, 0x72, 0xb2],
            Class::Registry(Registry::Ripe) => [0xe6, 0x9f, 0x00],
            Class::Registry(Registry::Apnic) => [0x00, 0x9e, 0x73],
            Class::Registry(Registry::Lacnic) => [0xcc, 0x79, 0xa7],
            Class::Registry(Registry::Afrinic) => [0xd5, 0x5e, 0x00],
            Class::NotFound => [0xc8, 0xc8, 0xc8],
            Class::Placeholder => [0xf0, 0xe4, 0x42],
            Class::Reserved => [0x00, 0x00, 0x00],
            Class::Unknown => [0x30, 0x30, 0x30],
        }
    }

    /// The legend text.
    pub fn label(self) -> &'static str {
        match self {
            Class::Registry(Registry::Arin) => "ARIN",
            Class::Registry(Registry::Ripe) => "RIPE NCC",
            Class::Registry(Registry::Apnic) => "APNIC",
            Class::Registry(Registry::Lacnic) => "LACNIC",
            Class::Registry(Registry::Afrinic) => "AFRINIC",
            Class::NotFound => "NO NETWORK (404)",
            Class::Placeholder => "PLACEHOLDER ONLY",
            Class::Unknown => "NOT CRAWLED",
            Class::Reserved => "RESERVED",
        }
    }
}

/// Picture background (margins, title and legend bands).
pub const BACKGROUND: [u8; 3] = [0xff, 0xff, 0xff];
/// Title and legend text, swatch frames.
pub const INK: [u8; 3] = [0x10, 0x10, 0x10];
/// The /8 grid lines.
pub const GRID: [u8; 3] = [0xff, 0xff, 0xff];
/// The /8 labels (on a halo of [`HALO`]).
pub const LABEL: [u8; 3] = [0xff, 0xff, 0xff];
/// The outline around the /8 labels, readable on every cell colour.
pub const HALO: [u8; 3] = [0x00, 0x00, 0x00];

/// Smallest and largest `--map-size`.
pub const SIZE_RANGE: (u32, u32) = (256, 4096);

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

/// A rectangle of pixels.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Rect {
    /// Left column.
    pub x: u32,
    /// Top row.
    pub y: u32,
    /// Width.
    pub w: u32,
    /// Height.
    pub h: u32,
}

impl Rect {
    /// The centre pixel.
    pub fn centre(&self) -> (u32, u32) {
        (self.x + self.w / 2, self.y + self.h / 2)
    }
}

/// One legend entry: a swatch of the class colour and its label to the right.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct LegendItem {
    /// What it explains.
    pub class: Class,
    /// The swatch (filled with the class colour, framed in [`INK`] just outside).
    pub swatch: Rect,
    /// Top-left corner of the label text.
    pub text_at: (u32, u32),
}

/// Where every part of the picture is, for a map area of `size` × `size` pixels.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layout {
    /// Whole picture width.
    pub width: u32,
    /// Whole picture height.
    pub height: u32,
    /// Text scale: one font cell is `unit` × `unit` pixels (`size / 512`, at least 1).
    pub unit: u32,
    /// The Hilbert square.
    pub map: Rect,
    /// Top-left of the title (drawn at scale `2 × unit`).
    pub title_at: (u32, u32),
    /// Top-left of the subtitle (scale `unit`).
    pub subtitle_at: (u32, u32),
    /// The legend entries, in [`Class::LEGEND`] order.
    pub legend: Vec<LegendItem>,
    /// Top-left of the note under the legend (scale `unit`).
    pub note_at: (u32, u32),
    /// Width of the /8 grid lines.
    pub grid_width: u32,
}

impl Layout {
    /// The layout for a map area of `size` pixels (clamped to
    /// [`SIZE_RANGE`] and rounded down to a multiple of 16).
    pub fn new(size: u32) -> Layout {
        let size = size.clamp(SIZE_RANGE.0, SIZE_RANGE.1) / 16 * 16;
        let u = (size / 512).max(1);
        let m = 8 * u;
        let title_at = (m, m);
        let subtitle_at = (m, m + 18 * u);
        let map = Rect {
            x: m,
            y: subtitle_at.1 + 7 * u + m,
            w: size,
            h: size,
        };
        let longest = Class::LEGEND
            .iter()
            .map(|c| font::text_width(c.label(), u))
            .max()
            .unwrap_or(0);
        let swatch = 10 * u;
        let item_w = swatch + 4 * u + longest + 8 * u;
        let cols = (size / item_w).clamp(1, Class::LEGEND.len() as u32);
        let col_w = size / cols;
        let row_h = 14 * u;
        let legend_y = map.y + size + m;
        let legend: Vec<LegendItem> = Class::LEGEND
            .iter()
            .enumerate()
            .map(|(i, &class)| {
                let (col, row) = (i as u32 % cols, i as u32 / cols);
                let s = Rect {
                    x: map.x + col * col_w,
                    y: legend_y + row * row_h,
                    w: swatch,
                    h: swatch,
                };
                LegendItem {
                    class,
                    swatch: s,
                    text_at: (s.x + swatch + 4 * u, s.y + (swatch - 7 * u) / 2),
                }
            })
            .collect();
        let rows = (Class::LEGEND.len() as u32).div_ceil(cols);
        let note_at = (map.x, legend_y + rows * row_h + 2 * u);
        Layout {
            width: size + 2 * m,
            height: note_at.1 + 7 * u + m,
            unit: u,
            map,
            title_at,
            subtitle_at,
            legend,
            note_at,
            grid_width: (u / 2).max(1),
        }
    }

    /// The square of the /8 whose first octet is `octet`.
    pub fn slash8(&self, octet: u8) -> Rect {
        let (hx, hy) = hilbert_xy(16, u32::from(octet));
        let side = self.map.w / 16;
        Rect {
            x: self.map.x + hx * side,
            y: self.map.y + hy * side,
            w: side,
            h: side,
        }
    }
}

/// The text around the map.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caption {
    /// The first line, large: date and coverage.
    pub title: String,
    /// The second line: the counts behind the percentage, where the date comes from.
    pub subtitle: String,
    /// Under the legend: how to read the map.
    pub note: String,
}

/// The caption for a DB dated `date` (`YYYY-MM-DD`; `date_source` says
/// where it came from) whose networks cover `addresses` of the non-reserved
/// space (`percent`), drawn with one cell per `/bits`.
pub fn caption(percent: f64, addresses: u64, date: &str, date_source: &str, bits: u8) -> Caption {
    Caption {
        title: format!("IPV4 COVERAGE {date}: {percent:.4} %"),
        subtitle: format!(
            "{} OF {} NON-RESERVED ADDRESSES - DATE: {date_source}",
            thousands(addresses),
            thousands(prefix::NON_RESERVED_TOTAL)
        ),
        note: format!(
            "HILBERT CURVE, ONE CELL PER /{bits}: EACH SQUARE IS A /8, LABELLED WITH ITS FIRST OCTET"
        ),
    }
}

fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The date (`YYYY-MM-DD`) of the newest of `timestamps` (RFC 3339;
/// anything not starting with a date is ignored).
pub fn newest_date<'a>(timestamps: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let is_date = |s: &str| {
        let b = s.as_bytes();
        b.len() >= 10
            && b[4] == b'-'
            && b[7] == b'-'
            && b[..10]
                .iter()
                .enumerate()
                .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
    };
    timestamps
        .into_iter()
        .filter(|s| is_date(s))
        .map(|s| &s[..s.len().min(19)])
        .max()
        .map(|s| s[..10].to_string())
}

/// An RGB picture.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Image {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Row-major RGB, 3 bytes per pixel.
    pub pixels: Vec<u8>,
}

impl Image {
    /// A picture filled with `bg`.
    pub fn new(width: u32, height: u32, bg: [u8; 3]) -> Image {
        let n = width as usize * height as usize;
        Image {
            width,
            height,
            pixels: bg.repeat(n),
        }
    }

    /// The colour at (x, y); [`BACKGROUND`] outside the picture.
    pub fn get(&self, x: u32, y: u32) -> [u8; 3] {
        if x >= self.width || y >= self.height {
            return BACKGROUND;
        }
        let at = (y as usize * self.width as usize + x as usize) * 3;
        [self.pixels[at], self.pixels[at + 1], self.pixels[at + 2]]
    }

    fn set(&mut self, x: u32, y: u32, c: [u8; 3]) {
        if x < self.width && y < self.height {
            let at = (y as usize * self.width as usize + x as usize) * 3;
            self.pixels[at..at + 3].copy_from_slice(&c);
        }
    }

    fn fill(&mut self, r: Rect, c: [u8; 3]) {
        for y in r.y..r.y.saturating_add(r.h).min(self.height) {
            for x in r.x..r.x.saturating_add(r.w).min(self.width) {
                self.set(x, y, c);
            }
        }
    }

    /// Draws `text` with its top-left at (x, y), one font cell per
    /// `scale` × `scale` pixels; what falls outside the picture is clipped.
    pub fn text(&mut self, (x, y): (u32, u32), scale: u32, text: &str, c: [u8; 3]) {
        for (i, ch) in text.chars().enumerate() {
            let gx = x + i as u32 * font::ADVANCE * scale;
            for (row, bits) in font::glyph(ch).iter().enumerate() {
                for col in 0..font::W {
                    if bits & (0x10 >> col) != 0 {
                        self.fill(
                            Rect {
                                x: gx + col * scale,
                                y: y + row as u32 * scale,
                                w: scale,
                                h: scale,
                            },
                            c,
                        );
                    }
                }
            }
        }
    }

    /// Writes the picture as an 8-bit RGB PNG.
    pub fn write_png(&self, out: impl Write) -> Result<(), png::EncodingError> {
        let mut enc = png::Encoder::new(out, self.width, self.height);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let mut w = enc.write_header()?;
        w.write_image_data(&self.pixels)?;
        w.finish()
    }
}

/// Draws the map of `classes` (one per `/bits` block, in address order;
/// `bits` 16 or 24) with a map area of `size` pixels (see [`Layout::new`]),
/// the /8 grid and labels, the caption and the legend.
pub fn render(classes: &[Class], bits: u8, size: u32, caption: &Caption) -> Image {
    let lay = Layout::new(size);
    let mut img = Image::new(lay.width, lay.height, BACKGROUND);
    draw_cells(&mut img, &lay, classes, bits);
    draw_grid(&mut img, &lay);
    draw_labels(&mut img, &lay);
    let u = lay.unit;
    img.text(lay.title_at, 2 * u, &caption.title, INK);
    img.text(lay.subtitle_at, u, &caption.subtitle, INK);
    for item in &lay.legend {
        let s = item.swatch;
        img.fill(
            Rect {
                x: s.x.saturating_sub(1),
                y: s.y.saturating_sub(1),
                w: s.w + 2,
                h: s.h + 2,
            },
            INK,
        );
        img.fill(s, item.class.rgb());
        img.text(item.text_at, u, item.class.label(), INK);
    }
    img.text(lay.note_at, u, &caption.note, INK);
    img
}

/// Fills the map area: each pixel takes its cell's class (or, when cells
/// are smaller than pixels, the majority class of the cells it covers).
fn draw_cells(img: &mut Image, lay: &Layout, classes: &[Class], bits: u8) {
    let side = 1u32 << (u32::from(bits.min(30)) / 2);
    let mut grid = vec![Class::Unknown.index() as u8; side as usize * side as usize];
    for (d, class) in classes.iter().enumerate().take(grid.len()) {
        let (x, y) = hilbert_xy(side, d as u32);
        grid[(y * side + x) as usize] = class.index() as u8;
    }
    let s = u64::from(lay.map.w);
    let side64 = u64::from(side);
    let span = |p: u32| {
        let lo = u64::from(p) * side64 / s;
        let hi = (u64::from(p + 1) * side64 / s).max(lo + 1);
        (lo as u32, hi as u32)
    };
    let colours: Vec<[u8; 3]> = (0..9).map(|i| Class::from_index(i).rgb()).collect();
    for py in 0..lay.map.h {
        let (y0, y1) = span(py);
        for px in 0..lay.map.w {
            let (x0, x1) = span(px);
            let class = if y1 - y0 == 1 && x1 - x0 == 1 {
                grid[(y0 * side + x0) as usize] as usize
            } else {
                let mut count = [0u32; 9];
                for y in y0..y1 {
                    for x in x0..x1 {
                        count[grid[(y * side + x) as usize] as usize] += 1;
                    }
                }
                (0..9).max_by_key(|&i| (count[i], 9 - i)).unwrap_or(8)
            };
            img.set(lay.map.x + px, lay.map.y + py, colours[class]);
        }
    }
}

/// The /8 grid: lines between the 16 × 16 squares.
fn draw_grid(img: &mut Image, lay: &Layout) {
    let step = lay.map.w / 16;
    let t = lay.grid_width;
    for k in 1..16 {
        let off = k * step - t / 2;
        img.fill(
            Rect {
                x: lay.map.x + off,
                y: lay.map.y,
                w: t,
                h: lay.map.h,
            },
            GRID,
        );
        img.fill(
            Rect {
                x: lay.map.x,
                y: lay.map.y + off,
                w: lay.map.w,
                h: t,
            },
            GRID,
        );
    }
}

/// Each /8's first octet, centred in its square, white on a black halo
/// (skipped when the squares are too small for the text).
fn draw_labels(img: &mut Image, lay: &Layout) {
    let u = lay.unit;
    let halo = u.div_ceil(2);
    for octet in 0..=255u8 {
        let sq = lay.slash8(octet);
        let text = octet.to_string();
        let w = font::text_width(&text, u);
        let h = font::H * u;
        if w + 2 * halo + 2 > sq.w {
            continue;
        }
        let at = (sq.x + (sq.w - w) / 2, sq.y + (sq.h - h) / 2);
        for dy in 0..=2 * halo {
            for dx in 0..=2 * halo {
                img.text((at.0 + dx - halo, at.1 + dy - halo), u, &text, HALO);
            }
        }
        img.text(at, u, &text, LABEL);
    }
}

#[cfg(test)]
mod tests;
