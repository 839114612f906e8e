//! Text lines → RPSL objects, one at a time, with bounded memory.
//!
//! An object is a run of non-blank lines; blank (or whitespace-only) lines
//! separate objects. Lines starting with `%` or `#` are comments wherever
//! they are; the `#` lines before the first object are the file's header,
//! which may carry the dump's timestamp ([`header_date`]). An attribute line
//! is `name: value`; a line starting with a space, a tab or `+` continues the
//! previous attribute's value (joined with one space). The first attribute's
//! name is the object's class.
//!
//! Only the classes the import needs ([`wanted`]) are kept, and of them only
//! the attributes it reads; every other object is read past without storing
//! anything. A kept object larger than [`MAX_OBJECT_BYTES`] or with more than
//! [`MAX_ATTRIBUTES`] attributes is skipped (its lines are read past, not
//! held); so is one with a line that is neither an attribute nor a
//! continuation.

use std::borrow::Cow;
use std::io::BufRead;

use super::input::{InputError, Line, Lines};
use super::SkipReason;

/// Largest object kept (bytes of text); larger ones are skipped.
pub const MAX_OBJECT_BYTES: usize = 1024 * 1024;

/// Most attribute lines in a kept object; more are skipped.
pub const MAX_ATTRIBUTES: usize = 10_000;

/// Longest raw RPSL text kept with a network (bytes); cut at a line boundary.
pub const MAX_RAW: usize = 16 * 1024;

/// One kept attribute: its name, and where its value lies in [`Object`]'s text.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Attr {
    /// Attribute name, lower case (`inetnum`, `netname`, ...).
    name: &'static str,
    /// The value is `values[start..end]`.
    start: usize,
    end: usize,
}

/// A kept object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Object {
    /// The class (first attribute's name, lower case).
    pub class: Cow<'static, str>,
    /// The attributes the import reads, in file order (the class attribute first).
    attrs: Vec<Attr>,
    /// Their values one after the other (one allocation per object, not per value).
    values: String,
    /// The object's text as read (comment lines left out), at most [`MAX_RAW`]
    /// bytes; empty from [`Reader::without_raw`].
    pub raw: String,
    /// 1-based line number of the object's first line.
    pub line: u64,
}

impl Object {
    /// An object of `class` with no attributes yet (first line `line`).
    pub fn new(class: impl Into<Cow<'static, str>>, line: u64) -> Object {
        Object {
            class: class.into(),
            attrs: Vec::new(),
            values: String::new(),
            raw: String::new(),
            line,
        }
    }

    /// Adds attribute `name` (lower case) with `value`, trimmed.
    pub fn push(&mut self, name: &'static str, value: &str) {
        let start = self.values.len();
        self.values.push_str(value.trim());
        self.attrs.push(Attr {
            name,
            start,
            end: self.values.len(),
        });
    }

    /// Appends a continuation line's text (trimmed; joined with one space)
    /// to the last attribute's value.
    fn continue_last(&mut self, more: &str) {
        let more = more.trim();
        let Some(last) = self.attrs.last_mut() else {
            return;
        };
        if more.is_empty() {
            return;
        }
        // The last value is the tail of `values`: it grows in place.
        if last.end > last.start {
            self.values.push(' ');
        }
        self.values.push_str(more);
        last.end = self.values.len();
    }

    fn value(&self, a: &Attr) -> &str {
        self.values.get(a.start..a.end).unwrap_or("")
    }

    /// The first value of attribute `name` (lower case), if any.
    pub fn first(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|a| a.name == name)
            .map(|a| self.value(a))
    }

    /// Every value of attribute `name`.
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.attrs
            .iter()
            .filter(move |a| a.name == name)
            .map(|a| self.value(a))
    }
}

/// What the reader found next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// A kept object, whole.
    Object(Object),
    /// A kept-class object (or one whose class cannot be read) refused as malformed.
    Skipped {
        /// The class, when the first line named one.
        class: Option<Cow<'static, str>>,
        /// Why.
        reason: SkipReason,
        /// 1-based line number of the object's first line.
        line: u64,
    },
    /// An object of a class the import does not read (counted, not kept).
    Other {
        /// Its class.
        class: Cow<'static, str>,
    },
}

/// The attributes kept for each class the import reads; `None` for other classes.
pub fn wanted(class: &str) -> Option<&'static [&'static str]> {
    match class {
        "inetnum" => Some(&[
            "inetnum",
            "netname",
            "country",
            "org",
            "status",
            "abuse-c",
            "mnt-irt",
            "created",
            "last-modified",
            "changed",
            "source",
        ]),
        "organisation" => Some(&["organisation", "org-name", "abuse-c", "e-mail", "source"]),
        "role" => Some(&["role", "nic-hdl", "abuse-mailbox", "source"]),
        "irt" => Some(&["irt", "abuse-mailbox", "e-mail", "source"]),
        _ => None,
    }
}

/// The dump timestamp a header comment carries, as RFC 3339 UTC.
///
/// Read forms: APNIC's `# 20130123 23:06:23` (no zone: taken as UTC) and ISO
/// `YYYY-MM-DD[T ]HH:MM:SS` with no zone, `Z` or ` UTC`. Any other line: `None`.
pub fn header_date(line: &str) -> Option<String> {
    let text = line.trim_start_matches('#').trim();
    let text = text
        .strip_suffix("UTC")
        .or_else(|| text.strip_suffix('Z'))
        .unwrap_or(text)
        .trim_end();
    let (date, time) = text.split_once([' ', 'T'])?;
    let (y, mo, d) = if date.len() == 8 && date.bytes().all(|b| b.is_ascii_digit()) {
        (date.get(..4)?, date.get(4..6)?, date.get(6..8)?)
    } else {
        let mut p = date.split('-');
        let parts = (p.next()?, p.next()?, p.next()?);
        if p.next().is_some() || parts.0.len() != 4 || parts.1.len() != 2 || parts.2.len() != 2 {
            return None;
        }
        parts
    };
    let mut t = time.trim().split(':');
    let (h, mi, s) = (t.next()?, t.next()?, t.next()?);
    if t.next().is_some() {
        return None;
    }
    let num = |v: &str, max: u32| -> Option<u32> {
        (v.len() == 2 || v.len() == 4)
            .then(|| v.parse::<u32>().ok())
            .flatten()
            .filter(|n| *n <= max)
    };
    let (y, mo, d) = (num(y, 9999)?, num(mo, 12)?, num(d, 31)?);
    let (h, mi, s) = (num(h, 23)?, num(mi, 59)?, num(s, 60)?);
    if y < 1970 || mo == 0 || d == 0 {
        return None;
    }
    Some(format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z"))
}

/// `name: value` when `line` is an attribute line (name of letters, digits, `-`, `_`).
fn split_attr(line: &str) -> Option<(&str, &str)> {
    let (name, value) = line.split_once(':')?;
    let ok = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    ok.then_some((name, value))
}

fn is_blank(line: &str) -> bool {
    // Most lines start with a letter: no need to trim them.
    match line.as_bytes().first() {
        None => true,
        Some(b) if b.is_ascii_alphanumeric() || *b == b'%' || *b == b'#' => false,
        Some(_) => line.trim().is_empty(),
    }
}

fn is_comment(line: &str) -> bool {
    line.starts_with('%') || line.starts_with('#')
}

fn is_continuation(line: &str) -> bool {
    line.starts_with([' ', '\t', '+'])
}

/// Reads objects from a line source; see the module documentation.
pub struct Reader<R> {
    lines: Lines<R>,
    /// No object seen yet: `#` lines are header lines.
    in_header: bool,
    /// The timestamp of the first header line that has one.
    dump_date: Option<String>,
    /// Whether objects carry their raw text.
    keep_raw: bool,
}

/// The RPSL classes of the registries' databases: their names are not
/// allocated per object.
const CLASSES: [&str; 21] = [
    "as-block",
    "as-set",
    "aut-num",
    "domain",
    "filter-set",
    "inet-rtr",
    "inet6num",
    "inetnum",
    "irt",
    "key-cert",
    "mntner",
    "organisation",
    "peering-set",
    "person",
    "poem",
    "poetic-form",
    "role",
    "route",
    "route-set",
    "route6",
    "rtr-set",
];

/// An attribute name as a class, lower case.
fn class_name(name: &str) -> Cow<'static, str> {
    match CLASSES.iter().find(|c| c.eq_ignore_ascii_case(name)) {
        Some(c) => Cow::Borrowed(c),
        None => Cow::Owned(name.to_ascii_lowercase()),
    }
}

/// The object being read.
struct Building {
    obj: Object,
    keep: &'static [&'static str],
    /// Whether the last attribute line was kept (its continuations are then appended).
    last_kept: bool,
    /// Whether the raw text is wanted (the second pass) at all.
    keep_raw: bool,
    raw_full: bool,
    bytes: usize,
    count: usize,
    refused: Option<SkipReason>,
}

impl Building {
    fn new(
        class: Cow<'static, str>,
        keep: &'static [&'static str],
        line: u64,
        keep_raw: bool,
    ) -> Building {
        let mut obj = Object::new(class, line);
        obj.attrs.reserve(keep.len());
        Building {
            obj,
            keep,
            last_kept: false,
            keep_raw,
            raw_full: false,
            bytes: 0,
            count: 0,
            refused: None,
        }
    }

    fn refuse(&mut self, reason: SkipReason) {
        if self.refused.is_none() {
            self.refused = Some(reason);
            self.obj.attrs = Vec::new();
            self.obj.values = String::new();
            self.obj.raw = String::new();
        }
    }

    /// Adds one line of the object (not blank, not a comment).
    fn push(&mut self, line: Line<'_>) {
        if self.refused.is_some() {
            return;
        }
        let Line::Text(text) = line else {
            return self.refuse(SkipReason::TooLarge);
        };
        self.bytes += text.len() + 1;
        if self.bytes > MAX_OBJECT_BYTES {
            return self.refuse(SkipReason::TooLarge);
        }
        if is_continuation(text) {
            if self.last_kept {
                self.obj.continue_last(text.get(1..).unwrap_or(""));
            }
        } else {
            let Some((name, value)) = split_attr(text) else {
                return self.refuse(SkipReason::BadLine);
            };
            self.count += 1;
            if self.count > MAX_ATTRIBUTES {
                return self.refuse(SkipReason::TooManyAttributes);
            }
            // Matched without allocating: most attributes are not kept.
            let kept = self.keep.iter().find(|k| k.eq_ignore_ascii_case(name));
            self.last_kept = kept.is_some();
            if let Some(k) = kept {
                self.obj.push(k, value);
            }
        }
        if self.keep_raw && !self.raw_full {
            if self.obj.raw.len() + text.len() < MAX_RAW {
                self.obj.raw.push_str(text);
                self.obj.raw.push('\n');
            } else {
                self.raw_full = true;
            }
        }
    }

    fn finish(self) -> Item {
        match self.refused {
            Some(reason) => Item::Skipped {
                class: Some(self.obj.class),
                reason,
                line: self.obj.line,
            },
            None => Item::Object(self.obj),
        }
    }
}

impl<R: BufRead> Reader<R> {
    /// Objects of `lines`, with their raw text.
    pub fn new(lines: Lines<R>) -> Reader<R> {
        Reader {
            lines,
            in_header: true,
            dump_date: None,
            keep_raw: true,
        }
    }

    /// Objects of `lines` without their raw text ([`Object::raw`] stays
    /// empty): for a pass that only counts and indexes.
    pub fn without_raw(lines: Lines<R>) -> Reader<R> {
        Reader {
            keep_raw: false,
            ..Reader::new(lines)
        }
    }

    /// The header timestamp, once the header has been read (after the first item).
    pub fn dump_date(&self) -> Option<&str> {
        self.dump_date.as_deref()
    }

    /// Lines read so far.
    pub fn line_no(&self) -> u64 {
        self.lines.line_no()
    }

    /// The next item; `None` at the end. An error ends the file: the object
    /// it interrupted is dropped, everything before it was delivered.
    pub fn next_item(&mut self) -> Result<Option<Item>, InputError> {
        // Up to the object's first line: the object begun, or the class of
        // one the import does not read.
        let begun = loop {
            let line_no = self.lines.line_no() + 1;
            let Some(line) = self.lines.next_line()? else {
                return Ok(None);
            };
            let text = match line {
                Line::Text(t) => t,
                Line::Overlong => return self.refuse_object(SkipReason::TooLarge),
            };
            if is_blank(text) {
                continue;
            }
            if is_comment(text) {
                if self.in_header && text.starts_with('#') && self.dump_date.is_none() {
                    self.dump_date = header_date(text);
                }
                continue;
            }
            let Some((name, _)) = split_attr(text) else {
                // A stray continuation or a line that is no attribute: the
                // whole object is refused.
                return self.refuse_object(SkipReason::BadLine);
            };
            let class = class_name(name);
            break match wanted(&class) {
                Some(keep) => {
                    let mut obj = Building::new(class, keep, line_no, self.keep_raw);
                    obj.push(Line::Text(text));
                    Ok(obj)
                }
                None => Err(class),
            };
        };
        self.in_header = false;
        let mut obj = match begun {
            Ok(obj) => obj,
            Err(class) => {
                self.skip_object()?;
                return Ok(Some(Item::Other { class }));
            }
        };
        while let Some(line) = self.lines.next_line()? {
            match line {
                Line::Text(t) if is_blank(t) => break,
                Line::Text(t) if is_comment(t) => {}
                other => obj.push(other),
            }
        }
        Ok(Some(obj.finish()))
    }

    /// Refuses the object whose first line was just read, reading past the rest.
    fn refuse_object(&mut self, reason: SkipReason) -> Result<Option<Item>, InputError> {
        self.in_header = false;
        let line = self.lines.line_no();
        self.skip_object()?;
        Ok(Some(Item::Skipped {
            class: None,
            reason,
            line,
        }))
    }

    /// Reads past the rest of the current object.
    fn skip_object(&mut self) -> Result<(), InputError> {
        while let Some(line) = self.lines.next_line()? {
            if matches!(line, Line::Text(t) if is_blank(t)) {
                break;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(text: &[u8]) -> (Vec<Item>, Option<String>) {
        let mut r = Reader::new(Lines::new(text));
        let mut out = Vec::new();
        while let Some(i) = r.next_item().unwrap() {
            out.push(i);
        }
        (out, r.dump_date().map(str::to_string))
    }

    fn object(item: &Item) -> &Object {
        match item {
            Item::Object(o) => o,
            other => panic!("not an object: {other:?}"),
        }
    }

    #[test]
    fn objects_comments_and_continuations() {
        let text = b"# header\n#\n\n% Tags relating to x\n\ninetnum:  1.0.0.0 - 1.0.0.255\nnetname:  NET-ONE\ndescr:    dropped\nremarks:  multi\n          line\nNetName:  SECOND\n          continued\n+         plus\n% comment inside\nsource:   RIPE # filtered\n\n\n\nas-block: AS1 - AS2\ndescr: x\n\nrole: Abuse Team\nnic-hdl: AB1-RIPE\nabuse-mailbox: abuse@example.net\n";
        let (items, date) = items(text);
        assert_eq!(date, None);
        assert_eq!(items.len(), 3);
        let o = object(&items[0]);
        assert_eq!(o.class, "inetnum");
        assert_eq!(o.line, 6);
        assert_eq!(o.first("inetnum"), Some("1.0.0.0 - 1.0.0.255"));
        assert_eq!(o.first("netname"), Some("NET-ONE"));
        assert_eq!(
            o.all("netname").collect::<Vec<_>>(),
            ["NET-ONE", "SECOND continued plus"]
        );
        assert_eq!(o.first("descr"), None, "not kept");
        assert_eq!(o.first("source"), Some("RIPE # filtered"));
        assert!(o.raw.starts_with("inetnum:  1.0.0.0 - 1.0.0.255\nnetname:"));
        assert!(o.raw.contains("remarks:  multi\n          line\n"));
        assert!(!o.raw.contains("comment inside"));
        assert_eq!(
            items[1],
            Item::Other {
                class: "as-block".into()
            }
        );
        let role = object(&items[2]);
        assert_eq!(role.first("abuse-mailbox"), Some("abuse@example.net"));
    }

    #[test]
    fn crlf_and_whitespace_only_separators() {
        let (items, _) = items(b"role: A\r\nnic-hdl: A1\r\n \t \r\nrole: B\r\nnic-hdl: B1\r\n");
        assert_eq!(items.len(), 2);
        assert_eq!(object(&items[1]).first("nic-hdl"), Some("B1"));
    }

    #[test]
    fn malformed_objects_are_skipped_and_the_next_one_is_read() {
        let text = b"inetnum: 1.0.0.0 - 1.0.0.255\nthis line has no colon\nnetname: X\n\n  stray continuation\nnetname: Y\n\nbad name!: v\n\nirt: IRT-OK\nabuse-mailbox: a@b\n";
        let (items, _) = items(text);
        let reasons: Vec<_> = items
            .iter()
            .map(|i| match i {
                Item::Skipped { reason, .. } => Some(*reason),
                _ => None,
            })
            .collect();
        assert_eq!(
            reasons,
            [
                Some(SkipReason::BadLine),
                Some(SkipReason::BadLine),
                Some(SkipReason::BadLine),
                None
            ]
        );
        assert_eq!(object(&items[3]).first("irt"), Some("IRT-OK"));
    }

    #[test]
    fn size_and_attribute_caps() {
        // 2 MB of remarks: refused, and the next object is intact.
        let mut big = b"inetnum: 1.0.0.0 - 1.0.0.255\n".to_vec();
        for _ in 0..2_000 {
            big.extend_from_slice(b"remarks: ".as_slice());
            big.extend(std::iter::repeat_n(b'r', 1000));
            big.push(b'\n');
        }
        big.extend_from_slice(b"\nrole: R\nnic-hdl: R1\n");
        let (got, _) = items(&big);
        assert!(matches!(
            got[0],
            Item::Skipped {
                reason: SkipReason::TooLarge,
                ..
            }
        ));
        assert_eq!(object(&got[1]).first("nic-hdl"), Some("R1"));
        let mut many = b"organisation: ORG-X\n".to_vec();
        for _ in 0..=MAX_ATTRIBUTES {
            many.extend_from_slice(b"a: b\n");
        }
        let (got, _) = items(&many);
        assert!(matches!(
            got[0],
            Item::Skipped {
                reason: SkipReason::TooManyAttributes,
                ..
            }
        ));
        // A class the import does not read is never capped.
        let mut set = b"as-set: AS-BIG\n".to_vec();
        for _ in 0..=MAX_ATTRIBUTES {
            set.extend_from_slice(b"members: AS1\n");
        }
        assert_eq!(
            items(&set).0,
            [Item::Other {
                class: "as-set".into()
            }]
        );
    }

    #[test]
    fn raw_is_capped_at_a_line_boundary() {
        let mut text = b"inetnum: 1.0.0.0 - 1.0.0.255\n".to_vec();
        for i in 0..2000 {
            text.extend(format!("remarks: line {i:05} padding padding\n").bytes());
        }
        let (items, _) = items(&text);
        let o = object(&items[0]);
        assert!(o.raw.len() < MAX_RAW && o.raw.len() > MAX_RAW - 100);
        assert!(o.raw.ends_with('\n'));
    }

    #[test]
    fn header_dates() {
        let apnic = b"#\n# 20130123 23:06:23\n#\n# Copyright (c) 1994-1998 APNIC Ltd.\n\nirt: X\n";
        assert_eq!(items(apnic).1, Some("2013-01-23T23:06:23Z".into()));
        assert_eq!(
            header_date("# 2024-05-06 07:08:09 UTC"),
            Some("2024-05-06T07:08:09Z".into())
        );
        assert_eq!(
            header_date("#2024-05-06T07:08:09Z"),
            Some("2024-05-06T07:08:09Z".into())
        );
        for no in [
            "# The contents of this file are subject to",
            "# http://www.ripe.net/db/support/db-terms-conditions.pdf",
            "# 20131323 23:06:23",
            "# 20130123 24:00:00",
            "# 2013-01-23 23:06",
            "# 1-2-3 4:5:6",
            "#",
        ] {
            assert_eq!(header_date(no), None, "{no}");
        }
        // Only the header counts: a dated comment after an object does not.
        assert_eq!(items(b"irt: X\n\n# 20130123 23:06:23\n").1, None);
    }
}
