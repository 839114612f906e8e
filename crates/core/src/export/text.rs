//! Text that is safe on a terminal: the servers' strings (names, handles,
//! raw answers) may hold control characters, and an ESC or CSI reaching a
//! terminal raw can retitle it, move the cursor or worse
//! (`"\x1b]0;pwned\x07"`). No exported text carries one raw:
//!
//! - JSON (JSON Lines, `lookup`): every C0 control, DEL and C1 control is
//!   written as a `\u00XX` escape ([`SafeJson`]; serde_json alone escapes
//!   only C0), so the decoded value is exactly what the server sent;
//! - CSV has no escapes of its own: each such character is written as the
//!   six characters `\u00XX` ([`escape_controls`]); a CSV field is thus
//!   always one line. The exact value is in the JSON Lines and Parquet
//!   exports.

use std::borrow::Cow;
use std::io::{self, Write};

use serde::Serialize;

/// Whether `c` is a control character a terminal may act on: C0
/// (U+0000–U+001F), DEL (U+007F) or C1 (U+0080–U+009F).
pub fn is_control(c: char) -> bool {
    c.is_control()
}

/// `s` with every control character (see [`is_control`]) written as the
/// text `\u00XX`; borrowed when there is none.
pub fn escape_controls(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_control) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        if is_control(c) {
            push_escape(&mut out, c);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Appends `c` as the text `\u00XX`.
fn push_escape(out: &mut String, c: char) {
    use std::fmt::Write as _;
    let _ = write!(out, "\\u{:04x}", u32::from(c));
}

/// serde_json's compact formatter, also escaping DEL and the C1 controls
/// inside strings (serde_json escapes C0 itself).
#[derive(Clone, Copy, Debug, Default)]
pub struct SafeJson;

impl serde_json::ser::Formatter for SafeJson {
    fn write_string_fragment<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        let mut from = 0;
        for (i, c) in fragment.char_indices() {
            if is_control(c) {
                writer.write_all(&fragment.as_bytes()[from..i])?;
                write!(writer, "\\u{:04x}", u32::from(c))?;
                from = i + c.len_utf8();
            }
        }
        writer.write_all(&fragment.as_bytes()[from..])
    }
}

/// Writes `value` as one line of JSON text with no raw control character.
pub fn write_json_line<W: Write, T: Serialize + ?Sized>(out: &mut W, value: &T) -> io::Result<()> {
    let mut ser = serde_json::Serializer::with_formatter(&mut *out, SafeJson);
    value.serialize(&mut ser).map_err(io::Error::from)?;
    out.write_all(b"\n")
}

/// `value` as JSON text with no raw control character.
pub fn to_json_string<T: Serialize + ?Sized>(value: &T) -> io::Result<String> {
    let mut buf = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(&mut buf, SafeJson);
    value.serialize(&mut ser).map_err(io::Error::from)?;
    String::from_utf8(buf).map_err(io::Error::other)
}

/// A stored answer as one line of JSON text: the same document with the
/// whitespace between tokens removed and DEL/C1 inside strings escaped
/// (valid JSON has no raw C0 inside strings). `None` when `raw` is not
/// JSON (e.g. an RPSL object from a bulk dump).
pub fn json_one_line(raw: &[u8]) -> Option<String> {
    serde_json::from_slice::<serde::de::IgnoredAny>(raw).ok()?;
    let text = std::str::from_utf8(raw).ok()?;
    let mut out = String::with_capacity(text.len());
    let (mut in_string, mut escaped) = (false, false);
    for c in text.chars() {
        if in_string {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
            if is_control(c) {
                push_escape(&mut out, c);
                continue;
            }
        } else if c == '"' {
            in_string = true;
        } else if matches!(c, ' ' | '\t' | '\n' | '\r') {
            continue;
        }
        out.push(c);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PWNED: &str = "\x1b]0;pwned\x07";

    #[test]
    fn controls_are_c0_del_and_c1_only() {
        for c in [
            '\0', '\x07', '\t', '\n', '\r', '\x1b', '\x7f', '\u{80}', '\u{9b}', '\u{9f}',
        ] {
            assert!(is_control(c), "{c:?}");
        }
        for c in [' ', '~', '\u{a0}', 'é', '\u{2028}', '😀'] {
            assert!(!is_control(c), "{c:?}");
        }
    }

    #[test]
    fn csv_text_shows_controls_as_escapes() {
        assert_eq!(escape_controls("plain"), Cow::Borrowed("plain"));
        assert_eq!(escape_controls(PWNED), "\\u001b]0;pwned\\u0007");
        assert_eq!(
            escape_controls("a\u{9b}31mb\r\n"),
            "a\\u009b31mb\\u000d\\u000a"
        );
        assert_eq!(escape_controls("héllo"), "héllo");
    }

    #[test]
    fn json_lines_escape_c1_too_and_decode_to_the_same_value() {
        let v = serde_json::json!({"name": format!("{PWNED}\u{9b}2J\u{7f}é")});
        let mut out = Vec::new();
        write_json_line(&mut out, &v).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            !text.trim_end_matches('\n').chars().any(is_control),
            "{text:?}"
        );
        assert_eq!(text.matches('\n').count(), 1);
        assert!(
            text.contains("\\u001b]0;pwned\\u0007\\u009b2J\\u007fé"),
            "{text}"
        );
        let back: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back, v);
        assert_eq!(to_json_string(&v).unwrap(), text.trim_end());
    }

    #[test]
    fn a_raw_answer_becomes_one_safe_line_with_the_same_meaning() {
        let raw = "{\n  \"handle\" : \"X \\\" y\",\r\n\t\"name\": \"a\u{9b}b c\",\n \"n\": [1, 2.5e3, true, null]\n}\n";
        let line = json_one_line(raw.as_bytes()).unwrap();
        assert_eq!(
            line,
            "{\"handle\":\"X \\\" y\",\"name\":\"a\\u009bb c\",\"n\":[1,2.5e3,true,null]}"
        );
        let a: serde_json::Value = serde_json::from_str(raw).unwrap();
        let b: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(a, b);
        assert_eq!(json_one_line(b"inetnum: 1.0.0.0 - 1.0.0.255\n"), None);
        assert_eq!(
            json_one_line(b"{\"a\":\"\x1b\"}"),
            None,
            "raw C0 is not JSON"
        );
        assert_eq!(json_one_line(b"\xff"), None);
    }
}
