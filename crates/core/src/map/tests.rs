use super::*;
use crate::prefix::parse_addr_lenient;

fn r(a: &str, b: &str) -> Range {
    Range::new(
        parse_addr_lenient(a).unwrap(),
        parse_addr_lenient(b).unwrap(),
    )
    .unwrap()
}

fn slash8(o: u8) -> Range {
    let s = u32::from(o) << 24;
    Range::new(s, s | 0x00ff_ffff).unwrap()
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
fn the_slash8_squares_sit_where_the_xkcd_map_puts_them() {
    // xkcd 195 "Map of the Internet", top two rows of /8s.
    let top = [
        0, 1, 14, 15, 16, 19, 20, 21, 234, 235, 236, 239, 240, 241, 254, 255,
    ];
    let second = [
        3, 2, 13, 12, 17, 18, 23, 22, 233, 232, 237, 238, 243, 242, 253, 252,
    ];
    for (x, (&a, &b)) in top.iter().zip(&second).enumerate() {
        assert_eq!(hilbert_xy(16, a), (x as u32, 0), "{a}/8");
        assert_eq!(hilbert_xy(16, b), (x as u32, 1), "{b}/8");
    }
    // 128/8 starts the bottom-right quarter.
    assert_eq!(hilbert_xy(16, 128), (8, 8));
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
    render(&c, 16, 256, &test_caption())
        .write_png(&mut png)
        .unwrap();
    assert_eq!(&png[1..4], b"PNG");
}

fn test_caption() -> Caption {
    caption(12.3456, 457_179_136, "2026-11-27", "NEWEST ANSWER", 16)
}

/// A world of known /8s: each registry, a 404 /8, a placeholder /8.
fn sample() -> Vec<Class> {
    let nets = vec![
        (slash8(3), Registry::Arin),
        (slash8(185), Registry::Ripe),
        (slash8(1), Registry::Apnic),
        (slash8(200), Registry::Lacnic),
        (slash8(41), Registry::Afrinic),
    ];
    let gaps = vec![
        (slash8(2), GapKind::NotFound, Registry::Ripe),
        (slash8(5), GapKind::Placeholder, Registry::Ripe),
    ];
    classify(&nets, &gaps, 16)
}

/// A point inside the /8's square, off its centred label and its grid lines.
fn inside(lay: &Layout, octet: u8) -> (u32, u32) {
    let s = lay.slash8(octet);
    (s.x + s.w / 4, s.y + s.h / 4)
}

#[test]
fn every_slash8_square_shows_its_class_at_its_hilbert_position() {
    let img = render(&sample(), 16, 1024, &test_caption());
    let lay = Layout::new(1024);
    assert_eq!((img.width, img.height), (lay.width, lay.height));
    assert_eq!(lay.map.w, 1024);
    let expect = [
        (3u8, Class::Registry(Registry::Arin)),
        (185, Class::Registry(Registry::Ripe)),
        (1, Class::Registry(Registry::Apnic)),
        (200, Class::Registry(Registry::Lacnic)),
        (41, Class::Registry(Registry::Afrinic)),
        (2, Class::NotFound),
        (5, Class::Placeholder),
        (4, Class::Unknown),
        (0, Class::Reserved),
        (10, Class::Reserved),
        (127, Class::Reserved),
    ];
    for (octet, class) in expect {
        let (x, y) = inside(&lay, octet);
        assert_eq!(img.get(x, y), class.rgb(), "{octet}/8 at ({x}, {y})");
    }
    // 224/4 and 240/4: multicast and class E, sixteen /8s each.
    for octet in 224..=255u8 {
        let (x, y) = inside(&lay, octet);
        assert_eq!(img.get(x, y), Class::Reserved.rgb(), "{octet}/8");
    }
    // 1/8 sits right of 0/8 in the top row, as on the xkcd map.
    assert_eq!(lay.slash8(1).x, lay.map.x + 64);
    assert_eq!(lay.slash8(1).y, lay.map.y);
}

#[test]
fn the_slash8_grid_lines_cross_the_whole_map() {
    let img = render(&sample(), 16, 1024, &test_caption());
    let lay = Layout::new(1024);
    let step = lay.map.w / 16;
    for k in 1..16 {
        let line = lay.map.x + k * step - lay.grid_width / 2;
        for y in lay.map.y..lay.map.y + lay.map.h {
            assert_eq!(img.get(line, y), GRID, "vertical line {k} at y {y}");
        }
        let row = lay.map.y + k * step - lay.grid_width / 2;
        for x in lay.map.x..lay.map.x + lay.map.w {
            assert_eq!(img.get(x, row), GRID, "horizontal line {k} at x {x}");
        }
    }
    // And only there: the row just below a line inside 1/8 is APNIC's.
    let s = lay.slash8(1);
    assert_eq!(
        img.get(s.x + s.w / 2, s.y + lay.grid_width + 1),
        Class::Registry(Registry::Apnic).rgb()
    );
}

/// Whether the pixels of `img` inside `area` equal those of `text` drawn
/// alone at `at` in `colour` on `bg`.
fn shows_text(img: &Image, at: (u32, u32), scale: u32, text: &str, colour: [u8; 3]) -> bool {
    let w = font::text_width(text, scale);
    let h = font::H * scale;
    let mut alone = Image::new(img.width, img.height, [1, 2, 3]);
    alone.text(at, scale, text, colour);
    let mut ink = 0;
    for y in at.1..at.1 + h {
        for x in at.0..at.0 + w {
            let want_ink = alone.get(x, y) == colour;
            if want_ink != (img.get(x, y) == colour) {
                return false;
            }
            ink += usize::from(want_ink);
        }
    }
    ink > 0
}

#[test]
fn each_slash8_is_labelled_with_its_first_octet() {
    let img = render(&sample(), 16, 1024, &test_caption());
    let lay = Layout::new(1024);
    let u = lay.unit;
    for octet in [0u8, 1, 10, 41, 127, 185, 200, 255] {
        let sq = lay.slash8(octet);
        let text = octet.to_string();
        let w = font::text_width(&text, u);
        let at = (sq.x + (sq.w - w) / 2, sq.y + (sq.h - font::H * u) / 2);
        assert!(shows_text(&img, at, u, &text, LABEL), "label {octet}");
        // Every pixel next to the ink (within the halo) is halo: readable on any cell.
        let halo = u.div_ceil(2);
        let mut alone = Image::new(img.width, img.height, [1, 2, 3]);
        alone.text(at, u, &text, LABEL);
        let ink = |x: u32, y: u32| alone.get(x, y) == LABEL;
        let mut ringed = 0;
        for y in at.1 - halo..at.1 + font::H * u + halo {
            for x in at.0 - halo..at.0 + w + halo {
                let near =
                    (y - halo..=y + halo).any(|yy| (x - halo..=x + halo).any(|xx| ink(xx, yy)));
                if near && !ink(x, y) {
                    assert_eq!(img.get(x, y), HALO, "label {octet}: ({x}, {y})");
                    ringed += 1;
                }
            }
        }
        assert!(ringed > 0);
    }
}

#[test]
fn legend_swatches_hold_their_colour_next_to_their_label() {
    let img = render(&sample(), 16, 1024, &test_caption());
    let lay = Layout::new(1024);
    assert_eq!(lay.legend.len(), 9);
    for item in &lay.legend {
        let s = item.swatch;
        // Below the map, inside the picture.
        assert!(s.y > lay.map.y + lay.map.h && s.y + s.h < lay.height);
        for y in s.y..s.y + s.h {
            for x in s.x..s.x + s.w {
                assert_eq!(img.get(x, y), item.class.rgb(), "{:?} swatch", item.class);
            }
        }
        assert_eq!(img.get(s.x - 1, s.y - 1), INK, "{:?} frame", item.class);
        assert!(
            shows_text(&img, item.text_at, lay.unit, item.class.label(), INK),
            "{:?} label",
            item.class
        );
        // The label starts right of its own swatch, on the same row.
        assert!(item.text_at.0 > s.x + s.w && item.text_at.1 >= s.y);
        assert!(item.text_at.1 + font::H * lay.unit <= s.y + s.h);
    }
    // Every class once, in the documented order.
    let classes: Vec<Class> = lay.legend.iter().map(|i| i.class).collect();
    assert_eq!(classes, Class::LEGEND);
}

#[test]
fn the_caption_names_date_and_coverage_and_fits_the_default_size() {
    let cap = test_caption();
    assert_eq!(cap.title, "IPV4 COVERAGE 2026-11-27: 12.3456 %");
    assert!(
        cap.subtitle.starts_with("457,179,136 OF 3,702,258,432 "),
        "{}",
        cap.subtitle
    );
    assert!(cap.note.contains("/16"));
    let img = render(&sample(), 16, 1024, &cap);
    let lay = Layout::new(1024);
    let u = lay.unit;
    assert!(shows_text(&img, lay.title_at, 2 * u, &cap.title, INK));
    assert!(shows_text(&img, lay.subtitle_at, u, &cap.subtitle, INK));
    assert!(shows_text(&img, lay.note_at, u, &cap.note, INK));
    let right = lay.map.x + lay.map.w;
    assert!(lay.title_at.0 + font::text_width(&cap.title, 2 * u) <= right);
    assert!(lay.subtitle_at.0 + font::text_width(&cap.subtitle, u) <= right);
    assert!(lay.note_at.0 + font::text_width(&cap.note, u) <= right);
    for line in [&cap.title, &cap.subtitle, &cap.note] {
        assert!(line.chars().all(font::has_glyph), "{line}");
    }
    for c in Class::LEGEND {
        assert!(c.label().chars().all(font::has_glyph), "{}", c.label());
    }
    // The title band is above the map, the legend below it.
    assert!(lay.subtitle_at.1 + 7 * u < lay.map.y);
}

#[test]
fn per_slash24_data_drawn_smaller_than_its_cells_keeps_each_slash16() {
    // Data aligned on /16s: one cell per /24 downsampled to 1024 pixels
    // (4 x 4 cells a pixel) must draw exactly the per-/16 picture.
    let nets = vec![
        (r("1.0.0.0", "1.0.255.255"), Registry::Apnic),
        (r("1.7.0.0", "1.9.255.255"), Registry::Apnic),
        (r("185.2.0.0", "185.3.255.255"), Registry::Ripe),
    ];
    let gaps = vec![(
        r("2.0.0.0", "2.3.255.255"),
        GapKind::NotFound,
        Registry::Ripe,
    )];
    let cap = test_caption();
    let c16 = classify(&nets, &gaps, 16);
    // Each /16's class for its 256 /24s (what `classify(.., 24)` gives for
    // /16-aligned data, without its 16 M-block pass in a debug build).
    let c24: Vec<Class> = c16
        .iter()
        .flat_map(|&c| std::iter::repeat_n(c, 256))
        .collect();
    let a = render(&c24, 24, 1024, &cap);
    let b = render(&c16, 16, 1024, &cap);
    assert!(a == b, "the /24 map downsampled differs from the /16 map");
    // Each size keeps the layout's own dimensions.
    for size in [256, 512] {
        let img = render(&sample(), 16, size, &cap);
        let lay = Layout::new(size);
        assert_eq!((img.width, img.height), (lay.width, lay.height));
        let (x, y) = inside(&lay, 185);
        assert_eq!(
            img.get(x, y),
            Class::Registry(Registry::Ripe).rgb(),
            "{size}"
        );
    }
    assert_eq!(
        Layout::new(1000).map.w,
        992,
        "rounded down to a multiple of 16"
    );
}

#[test]
fn newest_date_takes_the_latest_timestamp() {
    let ts = [
        "2026-11-27T13:38:10Z",
        "2026-12-01T00:00:00Z",
        "garbage",
        "2026-11-30T23:59:59+00:00",
    ];
    assert_eq!(newest_date(ts).as_deref(), Some("2026-12-01"));
    assert_eq!(newest_date(["x", ""]), None);
    assert_eq!(thousands(3_702_258_432), "3,702,258,432");
    assert_eq!(thousands(999), "999");
    assert_eq!(thousands(1000), "1,000");
}

// --- colour-vision deficiency check --------------------------------------
//
// Machado, Oliveira & Fernandes, "A Physiologically-based Model for
// Simulation of Color Vision Deficiency", IEEE TVCG 15(6), 2009: the
// severity-1.0 matrices for protanopia, deuteranopia and tritanopia, applied
// to linear RGB; colour distance is CIE76 ΔE*ab in CIELAB (D65).

const PROTAN: [[f64; 3]; 3] = [
    [0.152_286, 1.052_583, -0.204_868],
    [0.114_503, 0.786_281, 0.099_216],
    [-0.003_882, -0.048_116, 1.051_998],
];
const DEUTAN: [[f64; 3]; 3] = [
    [0.367_322, 0.860_646, -0.227_968],
    [0.280_085, 0.672_501, 0.047_413],
    [-0.011_820, 0.042_940, 0.968_881],
];
const TRITAN: [[f64; 3]; 3] = [
    [1.255_528, -0.076_749, -0.178_779],
    [-0.078_411, 0.930_809, 0.147_602],
    [0.004_733, 0.691_367, 0.303_900],
];
const NORMAL: [[f64; 3]; 3] = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]];

fn linear(c: u8) -> f64 {
    let c = f64::from(c) / 255.0;
    if c <= 0.040_45 {
        c / 12.92
    } else {
        ((c + 0.055) / 1.055).powf(2.4)
    }
}

fn lab(rgb: [u8; 3], m: &[[f64; 3]; 3]) -> [f64; 3] {
    let l = rgb.map(linear);
    let s: Vec<f64> = m
        .iter()
        .map(|row| (row[0] * l[0] + row[1] * l[1] + row[2] * l[2]).clamp(0.0, 1.0))
        .collect();
    let x = 0.412_456_4 * s[0] + 0.357_576_1 * s[1] + 0.180_437_5 * s[2];
    let y = 0.212_672_9 * s[0] + 0.715_152_2 * s[1] + 0.072_175_0 * s[2];
    let z = 0.019_333_9 * s[0] + 0.119_192_0 * s[1] + 0.950_304_1 * s[2];
    let f = |t: f64| {
        if t > 216.0 / 24_389.0 {
            t.cbrt()
        } else {
            (24_389.0 / 27.0 * t + 16.0) / 116.0
        }
    };
    let (fx, fy, fz) = (f(x / 0.950_47), f(y), f(z / 1.088_83));
    [116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz)]
}

fn delta_e(a: [f64; 3], b: [f64; 3]) -> f64 {
    ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2) + (a[2] - b[2]).powi(2)).sqrt()
}

#[test]
fn legend_colours_stay_apart_under_colour_blindness() {
    let mut worst = (f64::MAX, "", Class::Reserved, Class::Reserved);
    for (name, m) in [
        ("normal", NORMAL),
        ("protanopia", PROTAN),
        ("deuteranopia", DEUTAN),
        ("tritanopia", TRITAN),
    ] {
        for (i, &a) in Class::LEGEND.iter().enumerate() {
            for &b in &Class::LEGEND[i + 1..] {
                let d = delta_e(lab(a.rgb(), &m), lab(b.rgb(), &m));
                if d < worst.0 {
                    worst = (d, name, a, b);
                }
            }
        }
    }
    // ΔE*ab ≈ 2.3 is a just-noticeable difference; 15 is plainly different
    // at a glance. Measured minimum: 16.97 (APNIC/ARIN under tritanopia).
    assert!(worst.0 >= 15.0, "closest pair: {worst:?}");
    // The simulation itself: pure red and green collapse under deuteranopia.
    let (red, green) = ([0xff, 0, 0], [0, 0xff, 0]);
    assert!(delta_e(lab(red, &NORMAL), lab(green, &NORMAL)) > 80.0);
    assert!(delta_e(lab(red, &DEUTAN), lab(green, &DEUTAN)) < 40.0);
}

#[test]
fn labels_contrast_with_every_cell_colour() {
    // White text on a black halo: one of the two differs strongly from any cell.
    for c in Class::LEGEND {
        let cell = lab(c.rgb(), &NORMAL);
        let best = delta_e(cell, lab(LABEL, &NORMAL)).max(delta_e(cell, lab(HALO, &NORMAL)));
        assert!(best > 50.0, "{c:?}");
    }
}
