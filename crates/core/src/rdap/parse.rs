//! RDAP answer bytes → [`Network`]. Pure: never does I/O, never panics.
//!
//! Real registry answers are messy (see `tests/fixtures/rdap/SOURCES.md`), so
//! the parser reads a `serde_json::Value` and picks members by hand instead of
//! deriving a strict schema. What it accepts and what it refuses:
//!
//! **Front end** (shared by [`parse_network`] and [`parse_error_body`]):
//! bodies over [`MAX_BODY`] bytes, invalid UTF-8, an empty body and JSON nested
//! deeper than [`MAX_DEPTH`] are refused before serde_json sees them (the depth
//! check is a flat byte scan, so a 100k-deep `[[[[…` costs no stack). A leading
//! UTF-8 byte-order mark is skipped. The top level must be an object.
//!
//! **Leniency** — accepted and normalised:
//! - addresses zero-padded (`074.125.000.000`) or with a `/32` suffix
//!   (`62.239.237.0/32`), via [`parse_addr_lenient`];
//! - `objectClassName` absent (old RIPE answers); when present it must be
//!   `ip network` (any case);
//! - `errorCode` as a number or a string; `rdapConformance` in any shape,
//!   `lacnic_originAutnum`/`nicbr_autnum` and every other extension are ignored;
//! - strings where arrays are expected (`status`, `roles`), and values joined
//!   in one string (`"technical, abuse"` → `technical`, `abuse`); roles and
//!   status are trimmed, lower-cased and de-duplicated;
//! - `[]` where an object is expected (vCard parameters are never read),
//!   `null` vCard values, numbers where text is expected (`"name": 126560`);
//! - `type`, `name`, `country`, `parentHandle` and event dates are kept as sent
//!   (trimmed; an empty string counts as absent);
//! - `parentHandle` that is a handle (`NET-13-0-0-0-0`), a CIDR (`200.0.0.0/8`)
//!   or a range string (`61.160.0.0 - 61.191.255.255`): it is kept verbatim in
//!   `parent_handle`, and `parent_range` is filled from it when it is a CIDR or
//!   a range, otherwise from the `up` link's `href` when that ends in
//!   `ip/a.b.c.d/len` (or a range, percent-encoded or with raw spaces). A
//!   "parent" that does not contain the network's own range is dropped from
//!   `parent_range` (it cannot be a parent); one equal to it is kept (AFRINIC's
//!   placeholder names itself as parent);
//! - `links[].rel` holding several space-separated tokens: `up_link` is the
//!   first link having the exact token `up` (`rdap-up` is not `up`);
//! - entities nested inside entities (ARIN) are flattened depth-first; the same
//!   handle met twice becomes one [`Entity`] with the union of its roles (the
//!   first name/e-mail found wins). Name is the vCard `fn`, e-mail the first
//!   vCard `email` (a JSContact `jscard` member is read when no vCard has them);
//! - a missing `handle` is replaced by the range string (`a.b.c.d - e.f.g.h`).
//!
//! **Refused** with a specific [`ParseError`]: error bodies (`errorCode`
//! present), LACNIC "Rate Limit Notice" bodies, other object classes, IPv6
//! (`ipVersion: "v6"` or an address with `:`), missing or unreadable
//! `startAddress`/`endAddress`, start after end, a range that does not contain
//! the whole queried range, and LACNIC's 2015 bug that echoes the queried
//! address as handle, start and end of a real organisation's network.
//!
//! **Too broad to trust**: a network that is not a placeholder must lie inside
//! one /8 ([`ParseError::TooBroad`]). IANA hands the registries /8s, no real
//! allocation or assignment crosses a /8 boundary, and the only answers wider
//! than a /8 are the placeholders (`IANA-BLOCK`, `ORG-IANA1-AFRINIC`, ... over
//! 0.0.0.0/0), which are recognised by name, handle or status. So a "real"
//! network claiming 0.0.0.0/0, a /1 or two /8s is a broken or hostile answer:
//! accepting it would mark a whole slice of the space as covered and stop the
//! sweep from ever asking about it. Because the range must also contain the
//! query, an accepted network never leaves the queried address's /8.
//!
//! Placeholders (objects that own nothing, see [`is_placeholder`]) parse
//! normally and come back with `placeholder: true`.

use std::collections::HashMap;
use std::fmt;

use serde_json::{Map, Value};

use super::{Entity, Network};
use crate::prefix::{fmt_addr, parse_addr_lenient, parse_range_lenient, Range};

/// Largest body accepted (8 MiB); RDAP answers are kilobytes.
pub const MAX_BODY: usize = 8 * 1024 * 1024;

/// Deepest JSON nesting accepted (arrays and objects); real answers reach about 10.
pub const MAX_DEPTH: usize = 64;

/// Longest server value quoted in an error message.
const QUOTE_MAX: usize = 80;

/// Why an answer was not accepted as a network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseError {
    /// The body is larger than [`MAX_BODY`].
    TooLarge {
        /// Body length in bytes.
        len: usize,
    },
    /// The body is empty (or only whitespace).
    Empty,
    /// The body is not valid UTF-8.
    Utf8 {
        /// Offset of the first invalid byte.
        offset: usize,
    },
    /// JSON nesting deeper than [`MAX_DEPTH`].
    TooDeep {
        /// The limit that was passed.
        limit: usize,
    },
    /// Not JSON (syntax error or truncated); serde_json's message.
    Json(String),
    /// Valid JSON whose top level is not an object (`"array"`, `"null"`, ...).
    NotObject(&'static str),
    /// An RDAP error body (`errorCode` present).
    ErrorBody {
        /// `errorCode`, when it reads as a number 0–65535 (sent as number or string).
        code: Option<u16>,
        /// `title`, if any.
        title: Option<String>,
    },
    /// A "Rate Limit Notice" body (LACNIC answers over-limit clients this way).
    RateLimited,
    /// `objectClassName` is present and is not `ip network`.
    WrongClass(String),
    /// An IPv6 network (`ipVersion` or an address); carries the offending value.
    NotIpv4(String),
    /// `startAddress` or `endAddress` is absent (the member name).
    MissingAddress(&'static str),
    /// `startAddress` or `endAddress` is not a readable IPv4 address.
    BadAddress {
        /// The member name.
        field: &'static str,
        /// The value as sent (JSON text for non-strings).
        value: String,
    },
    /// `startAddress` is after `endAddress`.
    Inverted {
        /// Start address.
        start: u32,
        /// End address.
        end: u32,
    },
    /// The answer's range does not contain the whole queried range.
    Outside {
        /// The answer's range.
        range: Range,
        /// What was asked for.
        queried: Range,
    },
    /// A network that is not a placeholder but spans more than one /8
    /// (0.0.0.0/0, a /1, ...): never trusted as coverage.
    TooBroad {
        /// The answer's range.
        range: Range,
    },
    /// LACNIC's 2015 bug: handle, start and end all equal the queried address
    /// while the name is a real organisation's.
    EchoesQuery {
        /// The queried (and echoed) address.
        addr: u32,
        /// The `name` sent with it.
        name: String,
    },
}

/// Quotes a server value on one line, shortened to [`QUOTE_MAX`] characters.
fn quote(s: &str) -> String {
    if s.chars().count() > QUOTE_MAX {
        let short: String = s.chars().take(QUOTE_MAX).collect();
        format!("{short:?}…")
    } else {
        format!("{s:?}")
    }
}

/// A range as `a.b.c.d` when it is one address, else `a.b.c.d - e.f.g.h`.
fn show_range(r: Range) -> String {
    if r.start == r.end {
        fmt_addr(r.start)
    } else {
        r.to_string()
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseError::TooLarge { len } => {
                write!(f, "answer too large: {len} bytes (limit {MAX_BODY})")
            }
            ParseError::Empty => f.write_str("empty answer body: expected an RDAP JSON object"),
            ParseError::Utf8 { offset } => {
                write!(f, "answer is not UTF-8: invalid byte at offset {offset}")
            }
            ParseError::TooDeep { limit } => {
                write!(f, "answer nests JSON deeper than {limit} levels")
            }
            ParseError::Json(m) => write!(f, "bad JSON: {m}"),
            ParseError::NotObject(kind) => {
                write!(f, "answer is a JSON {kind}: expected an RDAP object")
            }
            ParseError::ErrorBody { code, title } => {
                f.write_str("registry answered with an error body: errorCode ")?;
                match code {
                    Some(c) => write!(f, "{c}")?,
                    None => f.write_str("(unreadable)")?,
                }
                if let Some(t) = title {
                    write!(f, " {}", quote(t))?;
                }
                Ok(())
            }
            ParseError::RateLimited => f.write_str("registry answered with a Rate Limit Notice"),
            ParseError::WrongClass(c) => {
                write!(
                    f,
                    "objectClassName is {}: expected \"ip network\"",
                    quote(c)
                )
            }
            ParseError::NotIpv4(v) => write!(f, "not an IPv4 network: {}", quote(v)),
            ParseError::MissingAddress(field) => write!(f, "answer has no {field}"),
            ParseError::BadAddress { field, value } => {
                write!(f, "{field} {} is not an IPv4 address", quote(value))
            }
            ParseError::Inverted { start, end } => write!(
                f,
                "startAddress {} is after endAddress {}",
                fmt_addr(*start),
                fmt_addr(*end)
            ),
            ParseError::Outside { range, queried } => write!(
                f,
                "answer range {range} does not contain the query {}",
                show_range(*queried)
            ),
            ParseError::TooBroad { range } => write!(
                f,
                "answer range {range} is not a placeholder yet spans more than one /8: refused as untrustworthy"
            ),
            ParseError::EchoesQuery { addr, name } => write!(
                f,
                "answer echoes the query: handle, startAddress and endAddress are all {} (name {})",
                fmt_addr(*addr),
                quote(name)
            ),
        }
    }
}

impl std::error::Error for ParseError {}

/// An RDAP error body (RFC 9083 §6), read leniently.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorBody {
    /// `errorCode` as a number, whether sent as number or string; `None` when
    /// present but unreadable.
    pub code: Option<u16>,
    /// `title`, trimmed.
    pub title: Option<String>,
    /// `description` lines joined with a space.
    pub description: Option<String>,
}

/// Reads an RDAP error body. `None` unless the body is a JSON object with an
/// `errorCode` member (and passes the size, UTF-8 and depth limits).
pub fn parse_error_body(body: &[u8]) -> Option<ErrorBody> {
    let root = decode(body).ok()?;
    let code = root.get("errorCode")?;
    Some(ErrorBody {
        code: error_code(code),
        title: root.get("title").and_then(text),
        description: root.get("description").and_then(|d| {
            let lines = texts(d);
            (!lines.is_empty()).then(|| lines.join(" "))
        }),
    })
}

/// Whether the body is (or carries) LACNIC's "Rate Limit Notice", matched
/// case-insensitively on the raw bytes, JSON or not. One pass, no allocation.
pub fn is_rate_limit_notice(body: &[u8]) -> bool {
    const NEEDLE: &[u8] = b"rate limit notice";
    // Compare only where an `r`/`R` starts a candidate: one cheap test per byte.
    for (i, &b) in body.iter().enumerate() {
        if b | 0x20 == b'r'
            && body
                .get(i..i + NEEDLE.len())
                .is_some_and(|w| w.eq_ignore_ascii_case(NEEDLE))
        {
            return true;
        }
    }
    false
}

/// Whether a network is a registry placeholder that owns nothing: a known
/// placeholder name or handle (case-insensitive: `RIPE-NCC-MANAGED-ADDRESS-BLOCK`,
/// `NON-RIPE-NCC-MANAGED-ADDRESS-BLOCK`, `IANA-BLOCK`, `IANA-BLK`, `APNIC-AP`,
/// `ORG-IANA1-AFRINIC`, `ERX-NETBLOCK`, anything starting `STUB-`, and APNIC's
/// `IANA-NETBLOCK-*` as its bulk dump names them) or an
/// `administrative` status. The range alone never makes a placeholder: an
/// unnamed 0.0.0.0/0 is refused by [`parse_network`] as
/// [`ParseError::TooBroad`] instead (`_range` is kept for callers).
pub fn is_placeholder(name: Option<&str>, handle: &str, _range: Range, status: &[String]) -> bool {
    const NAMES: [&str; 7] = [
        "RIPE-NCC-MANAGED-ADDRESS-BLOCK",
        "NON-RIPE-NCC-MANAGED-ADDRESS-BLOCK",
        "IANA-BLOCK",
        "IANA-BLK",
        "APNIC-AP",
        "ORG-IANA1-AFRINIC",
        "ERX-NETBLOCK",
    ];
    let known = |s: &str| {
        let s = s.trim();
        NAMES.iter().any(|n| s.eq_ignore_ascii_case(n))
            || s.get(..5).is_some_and(|p| p.eq_ignore_ascii_case("STUB-"))
            || s.get(..14)
                .is_some_and(|p| p.eq_ignore_ascii_case("IANA-NETBLOCK-"))
    };
    name.is_some_and(known)
        || known(handle)
        || status
            .iter()
            .any(|s| s.trim().eq_ignore_ascii_case("administrative"))
}

/// Parses one `ip network` answer to a query for `queried` (a single address
/// is a one-address range; an `ip/{prefix}/{len}` query passes the prefix's
/// range). See the module documentation for what is accepted and refused.
pub fn parse_network(body: &[u8], queried: Range) -> Result<Network, ParseError> {
    match parse_inner(body, queried) {
        Ok(n) => Ok(n),
        Err(e @ ParseError::TooLarge { .. }) => Err(e),
        Err(e) => {
            if is_rate_limit_notice(body) {
                Err(ParseError::RateLimited)
            } else {
                Err(e)
            }
        }
    }
}

fn parse_inner(body: &[u8], queried: Range) -> Result<Network, ParseError> {
    let root = decode(body)?;
    network_from_object(&root, &|range, handle, name| {
        lookup_checks(range, handle, name, queried)
    })
}

/// What a lookup answer must satisfy beyond being a network: not LACNIC's
/// echo of the query, and its range contains the whole query.
fn lookup_checks(
    range: Range,
    handle: &str,
    name: Option<&str>,
    queried: Range,
) -> Result<(), ParseError> {
    // LACNIC 2015: the query echoed as a one-address "network" of a real org.
    if queried.start == queried.end && range == queried {
        let handle_is_addr = !handle.contains(['/', '-'])
            && parse_addr_lenient(handle).is_some_and(|a| a == queried.start);
        if let Some(n) = name {
            if handle_is_addr && parse_range_lenient(n).is_none() {
                return Err(ParseError::EchoesQuery {
                    addr: queried.start,
                    name: n.to_string(),
                });
            }
        }
    }
    if !range.contains_range(&queried) {
        return Err(ParseError::Outside { range, queried });
    }
    Ok(())
}

/// Where a network may lie: `(range, handle, name)` → ok or the refusal.
pub(crate) type Placement<'a> = dyn Fn(Range, &str, Option<&str>) -> Result<(), ParseError> + 'a;

/// One `ip network` object (a lookup answer's top level, or one member of a
/// search answer's `ipSearchResults`) → [`Network`]. `check(range, handle,
/// name)` is the caller's rule on where the network may lie; it runs after
/// the range is read and before the rest of the object.
pub(crate) fn network_from_object(
    root: &Map<String, Value>,
    check: &Placement<'_>,
) -> Result<Network, ParseError> {
    if let Some(code) = root.get("errorCode") {
        return Err(ParseError::ErrorBody {
            code: error_code(code),
            title: root.get("title").and_then(text),
        });
    }
    if let Some(class) = root.get("objectClassName") {
        let ok = class
            .as_str()
            .is_some_and(|c| c.trim().eq_ignore_ascii_case("ip network"));
        if !ok {
            return Err(ParseError::WrongClass(raw_text(class)));
        }
    }
    if let Some(v) = root.get("ipVersion").and_then(text) {
        if v.eq_ignore_ascii_case("v6") || v == "6" {
            return Err(ParseError::NotIpv4(format!("ipVersion {v}")));
        }
    }
    let start = address(root, "startAddress")?;
    let end = address(root, "endAddress")?;
    let range = Range::new(start, end).ok_or(ParseError::Inverted { start, end })?;

    let name = root.get("name").and_then(text);
    let handle = root
        .get("handle")
        .and_then(text)
        .unwrap_or_else(|| range.to_string());
    check(range, &handle, name.as_deref())?;

    let status: Vec<String> = root.get("status").map(split_lower).unwrap_or_default();
    let parent_handle = root.get("parentHandle").and_then(text);
    let up_link = up_link(root);
    let parent_range = parent_handle
        .as_deref()
        .and_then(range_from_handle)
        .or_else(|| up_link.as_deref().and_then(range_from_href))
        .filter(|p| p.contains_range(&range));
    let (registration, last_changed) = events(root);
    let placeholder = is_placeholder(name.as_deref(), &handle, range, &status);
    if !placeholder && range.start >> 24 != range.end >> 24 {
        return Err(ParseError::TooBroad { range });
    }

    Ok(Network {
        handle,
        range,
        name,
        net_type: root.get("type").and_then(text),
        country: root.get("country").and_then(text),
        parent_handle,
        parent_range,
        up_link,
        status,
        entities: entities(root),
        registration,
        last_changed,
        placeholder,
    })
}

/// Size, UTF-8, emptiness and depth checks, then JSON; the top level must be an object.
pub(crate) fn decode(body: &[u8]) -> Result<Map<String, Value>, ParseError> {
    if body.len() > MAX_BODY {
        return Err(ParseError::TooLarge { len: body.len() });
    }
    let text = std::str::from_utf8(body).map_err(|e| ParseError::Utf8 {
        offset: e.valid_up_to(),
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.trim().is_empty() {
        return Err(ParseError::Empty);
    }
    check_depth(text.as_bytes(), MAX_DEPTH)?;
    let value: Value = serde_json::from_str(text).map_err(|e| ParseError::Json(e.to_string()))?;
    match value {
        Value::Object(m) => Ok(m),
        Value::Array(_) => Err(ParseError::NotObject("array")),
        Value::Null => Err(ParseError::NotObject("null")),
        Value::Bool(_) => Err(ParseError::NotObject("boolean")),
        Value::Number(_) => Err(ParseError::NotObject("number")),
        Value::String(_) => Err(ParseError::NotObject("string")),
    }
}

/// Refuses nesting deeper than `limit` with a flat scan (strings and escapes
/// are skipped), so hostile depth never reaches a recursive parser.
pub(crate) fn check_depth(bytes: &[u8], limit: usize) -> Result<(), ParseError> {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for &b in bytes {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > limit {
                    return Err(ParseError::TooDeep { limit });
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

/// A string (trimmed) or a number as text; `None` for anything else or an empty string.
pub(crate) fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => {
            let t = s.trim();
            (!t.is_empty()).then(|| t.to_string())
        }
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A value as text for error messages: the string itself, or its JSON.
fn raw_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Every text in a string or an array of strings (other elements skipped).
pub(crate) fn texts(v: &Value) -> Vec<String> {
    match v {
        Value::Array(items) => items.iter().filter_map(text).collect(),
        other => text(other).into_iter().collect(),
    }
}

/// [`texts`], each split on commas, trimmed, lower-cased, empty and repeated ones dropped.
fn split_lower(v: &Value) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for t in texts(v) {
        for part in t.split(',') {
            let p = part.trim().to_lowercase();
            if !p.is_empty() && !out.contains(&p) {
                out.push(p);
            }
        }
    }
    out
}

/// `errorCode` as a number, sent as a number or a string.
pub(crate) fn error_code(v: &Value) -> Option<u16> {
    match v {
        Value::Number(n) => n.as_u64().and_then(|c| u16::try_from(c).ok()),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// `startAddress` / `endAddress`, leniently.
fn address(root: &Map<String, Value>, field: &'static str) -> Result<u32, ParseError> {
    let v = root.get(field).ok_or(ParseError::MissingAddress(field))?;
    if v.is_null() {
        return Err(ParseError::MissingAddress(field));
    }
    let raw = raw_text(v);
    if raw.contains(':') {
        return Err(ParseError::NotIpv4(format!("{field} {raw}")));
    }
    v.as_str()
        .and_then(parse_addr_lenient)
        .ok_or(ParseError::BadAddress { field, value: raw })
}

/// A `parentHandle` read as a range, when it is a CIDR or a range string.
fn range_from_handle(h: &str) -> Option<Range> {
    if h.contains(['/', '-']) {
        parse_range_lenient(h)
    } else {
        None
    }
}

/// The range named by a link ending in `ip/a.b.c.d/len` (or `ip/a.b.c.d - e.f.g.h`),
/// percent-encoded or not; query string and fragment ignored.
fn range_from_href(href: &str) -> Option<Range> {
    let path = href.split(['?', '#']).next().unwrap_or(href);
    let path = path
        .replace("%2F", "/")
        .replace("%2f", "/")
        .replace("%20", " ");
    let tail = path.get(path.rfind("ip/")? + 3..)?;
    range_from_handle(tail)
}

/// The `href` of the first link whose `rel` has the exact token `up`.
fn up_link(root: &Map<String, Value>) -> Option<String> {
    let links = root.get("links")?.as_array()?;
    links.iter().find_map(|l| {
        let l = l.as_object()?;
        let rel = l.get("rel")?.as_str()?;
        if rel.split_whitespace().any(|t| t.eq_ignore_ascii_case("up")) {
            l.get("href").and_then(text)
        } else {
            None
        }
    })
}

/// (`registration`, `last changed`) event dates as sent; the first of each wins.
fn events(root: &Map<String, Value>) -> (Option<String>, Option<String>) {
    let mut registration = None;
    let mut last_changed = None;
    let Some(events) = root.get("events").and_then(Value::as_array) else {
        return (None, None);
    };
    for e in events.iter().filter_map(Value::as_object) {
        let Some(action) = e.get("eventAction").and_then(text) else {
            continue;
        };
        let date = e.get("eventDate").and_then(text);
        let action = action.to_lowercase().replace('_', " ");
        match action.as_str() {
            "registration" if registration.is_none() => registration = date,
            "last changed" if last_changed.is_none() => last_changed = date,
            _ => {}
        }
    }
    (registration, last_changed)
}

/// All entities, nested ones flattened depth-first, same handles merged.
fn entities(root: &Map<String, Value>) -> Vec<Entity> {
    let mut out: Vec<Entity> = Vec::new();
    let mut by_handle: HashMap<String, usize> = HashMap::new();
    let mut stack: Vec<&Value> = Vec::new();
    if let Some(top) = root.get("entities").and_then(Value::as_array) {
        stack.extend(top.iter().rev());
    }
    while let Some(v) = stack.pop() {
        let Some(obj) = v.as_object() else { continue };
        if let Some(kids) = obj.get("entities").and_then(Value::as_array) {
            stack.extend(kids.iter().rev());
        }
        let e = entity(obj);
        let slot = e.handle.as_ref().and_then(|h| by_handle.get(h).copied());
        if let Some(known) = slot.and_then(|i| out.get_mut(i)) {
            for r in e.roles {
                if !known.roles.contains(&r) {
                    known.roles.push(r);
                }
            }
            if known.name.is_none() {
                known.name = e.name;
            }
            if known.email.is_none() {
                known.email = e.email;
            }
        } else {
            if let Some(h) = &e.handle {
                by_handle.insert(h.clone(), out.len());
            }
            out.push(e);
        }
    }
    out
}

/// One entity object (its nested entities are handled by the caller).
fn entity(obj: &Map<String, Value>) -> Entity {
    let (mut name, mut email) = vcard(obj);
    if name.is_none() || email.is_none() {
        let (jn, je) = jscard(obj);
        name = name.or(jn);
        email = email.or(je);
    }
    Entity {
        handle: obj.get("handle").and_then(text),
        roles: obj.get("roles").map(split_lower).unwrap_or_default(),
        name,
        email,
    }
}

/// Text of a vCard property value: a string, or the first string of a structured value.
fn vcard_text(v: &Value) -> Option<String> {
    match v {
        Value::Array(parts) => parts.iter().find_map(text),
        other => text(other),
    }
}

/// (`fn`, first `email`) of a jCard `vcardArray` (`["vcard", [[name, params, type, value], ...]]`).
fn vcard(obj: &Map<String, Value>) -> (Option<String>, Option<String>) {
    let mut name = None;
    let mut email = None;
    let props = obj
        .get("vcardArray")
        .and_then(Value::as_array)
        .and_then(|a| a.get(1))
        .and_then(Value::as_array);
    for p in props.into_iter().flatten().filter_map(Value::as_array) {
        let Some(prop) = p.first().and_then(Value::as_str) else {
            continue;
        };
        let value = p.get(3).and_then(vcard_text);
        if prop.eq_ignore_ascii_case("fn") {
            if name.is_none() {
                name = value;
            }
        } else if prop.eq_ignore_ascii_case("email") && email.is_none() {
            email = value;
        }
    }
    (name, email)
}

/// (name, first e-mail) of a JSContact card (`jscard`, RFC 9553), when a server sends one.
fn jscard(obj: &Map<String, Value>) -> (Option<String>, Option<String>) {
    let Some(card) = obj.get("jscard").and_then(Value::as_object) else {
        return (None, None);
    };
    let name = card
        .get("name")
        .and_then(|n| n.get("full"))
        .and_then(text)
        .or_else(|| card.get("fullName").and_then(text));
    let email = card
        .get("emails")
        .and_then(Value::as_object)
        .and_then(|m| m.values().find_map(|e| e.get("address").and_then(text)));
    (name, email)
}

#[cfg(test)]
mod tests {
    //! Two kinds of test. **Golden pairs** (`golden_pairs_match`): every real
    //! answer `tests/fixtures/rdap/**/X.json` has an `X.expected.json` beside it
    //! holding the query it is parsed against and what [`parse_network`] makes
    //! of it (the network, or the refusal), plus [`parse_error_body`]'s reading;
    //! a new registry quirk is a new fixture and a blessed expected file, not new
    //! code. **Rule tests** (the rest): the leniency and refusal rules on small
    //! synthetic bodies, the placeholder rule, and the no-panic fuzz.
    //!
    //! To add a fixture: copy it in (and list it in `SOURCES.md`), write
    //! `{"query": "a.b.c.d"}` (or `a.b.c.d/len`) into its expected file, or let
    //! the query be read from the file name (`apnic-1.1.1.0_24-….json` →
    //! `1.1.1.0/24`), then run
    //! `IPCRAWL_BLESS=1 cargo nextest run -p ipcrawl-core golden` and review the
    //! diff of the expected files before committing them.

    use super::*;
    use std::path::{Path, PathBuf};

    macro_rules! fixture {
        ($path:literal) => {
            include_bytes!(concat!("../../../../tests/fixtures/rdap/", $path)).as_slice()
        };
    }

    /// A query: one address or a CIDR / range.
    fn q(s: &str) -> Range {
        parse_range_lenient(s).unwrap()
    }

    fn ok(body: &[u8], query: &str) -> Network {
        parse_network(body, q(query)).unwrap_or_else(|e| panic!("{query}: {e}"))
    }

    fn err(body: &[u8], query: &str) -> ParseError {
        match parse_network(body, q(query)) {
            Ok(n) => panic!("{query}: accepted {n:?}"),
            Err(e) => e,
        }
    }

    fn range_str(r: Option<Range>) -> Option<String> {
        r.map(|r| r.to_string())
    }

    fn ent<'a>(n: &'a Network, handle: &str) -> &'a Entity {
        n.entities
            .iter()
            .find(|e| e.handle.as_deref() == Some(handle))
            .unwrap_or_else(|| panic!("no entity {handle} in {:?}", n.entities))
    }

    /// `Some(owned)`, for comparing optional fields.
    #[allow(clippy::unnecessary_wraps)]
    fn s(v: &str) -> Option<String> {
        Some(v.to_string())
    }

    fn roles(e: &Entity) -> Vec<&str> {
        e.roles.iter().map(String::as_str).collect()
    }

    // -------------------------------------------------------- golden pairs

    /// Set to `1` to (re)write every expected file from what the parser says.
    const BLESS_VAR: &str = "IPCRAWL_BLESS";
    const GOLDEN_SUFFIX: &str = ".expected.json";

    fn fixture_root() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/rdap")
    }

    /// Path relative to the fixture root, `/`-separated (for messages and SOURCES.md).
    fn rel(p: &Path) -> String {
        p.strip_prefix(fixture_root())
            .unwrap_or(p)
            .to_string_lossy()
            .replace('\\', "/")
    }

    /// Every `.json` file under the fixture root (expected files included), sorted.
    fn json_files() -> Vec<PathBuf> {
        let mut out = Vec::new();
        let mut dirs = vec![fixture_root()];
        while let Some(d) = dirs.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    dirs.push(p);
                } else if p.to_string_lossy().ends_with(".json") {
                    out.push(p);
                }
            }
        }
        out.sort();
        out
    }

    fn is_golden(p: &Path) -> bool {
        p.to_string_lossy().ends_with(GOLDEN_SUFFIX)
    }

    /// `dir/X.json` → `dir/X.expected.json`.
    fn golden_path(fixture: &Path) -> PathBuf {
        let s = fixture.to_string_lossy();
        PathBuf::from(format!("{}{GOLDEN_SUFFIX}", s.trim_end_matches(".json")))
    }

    /// `dir/X.expected.json` → `dir/X.json`.
    fn fixture_of(golden: &Path) -> PathBuf {
        let s = golden.to_string_lossy();
        PathBuf::from(format!("{}.json", s.trim_end_matches(GOLDEN_SUFFIX)))
    }

    /// Every real answer under the fixture root (the files that need a golden).
    fn answer_files() -> Vec<PathBuf> {
        json_files().into_iter().filter(|p| !is_golden(p)).collect()
    }

    /// The query named in a fixture's file name: the first `-`-separated piece
    /// that reads as a dotted quad, `_len` meaning `/len`.
    fn query_from_name(file: &Path) -> Option<String> {
        let name = file.file_name()?.to_str()?.trim_end_matches(".json");
        name.split('-')
            .map(|piece| piece.replace('_', "/"))
            .find(|piece| {
                let addr = piece.split('/').next().unwrap_or("");
                addr.split('.').count() == 4 && parse_range_lenient(piece).is_some()
            })
    }

    /// The enum variant of an error, from its `Debug` form.
    fn variant(e: &ParseError) -> String {
        let d = format!("{e:?}");
        d.split(['(', ' ', '{']).next().unwrap_or("").to_string()
    }

    /// A network as golden JSON: its serde form with ranges as `a.b.c.d - e.f.g.h`
    /// and the range's CIDR cover after it.
    fn network_view(n: &Network) -> Value {
        let Value::Object(fields) = serde_json::to_value(n).unwrap() else {
            unreachable!("a Network serialises to an object")
        };
        let mut out = Map::new();
        for (k, v) in fields {
            match k.as_str() {
                "range" => {
                    out.insert(k, Value::String(n.range.to_string()));
                    let cidrs: Vec<Value> = n
                        .range
                        .to_cidrs()
                        .iter()
                        .map(|c| Value::String(c.to_string()))
                        .collect();
                    out.insert("cidrs".into(), Value::Array(cidrs));
                }
                "parent_range" => {
                    let r = range_str(n.parent_range).map_or(Value::Null, Value::String);
                    out.insert(k, r);
                }
                _ => {
                    out.insert(k, v);
                }
            }
        }
        Value::Object(out)
    }

    /// What the parser makes of `body` asked as `query`, as golden JSON.
    fn golden_of(body: &[u8], query: &str) -> Value {
        let mut g = Map::new();
        g.insert("query".into(), Value::String(query.to_string()));
        match parse_network(body, q(query)) {
            Ok(n) => g.insert("network".into(), network_view(&n)),
            Err(e) => g.insert(
                "refused".into(),
                serde_json::json!({"variant": variant(&e), "message": e.to_string()}),
            ),
        };
        let error_body = parse_error_body(body).map_or(Value::Null, |eb| {
            serde_json::json!({"code": eb.code, "title": eb.title, "description": eb.description})
        });
        g.insert("error_body".into(), error_body);
        Value::Object(g)
    }

    fn pretty(v: &Value) -> String {
        serde_json::to_string_pretty(v).unwrap()
    }

    /// The JSON paths where `want` and `got` differ (`network.entities[2].email`).
    fn diff_paths(path: &str, want: &Value, got: &Value, out: &mut Vec<String>) {
        match (want, got) {
            (Value::Object(w), Value::Object(g)) => {
                let mut keys: Vec<&String> = w.keys().chain(g.keys()).collect();
                keys.sort();
                keys.dedup();
                for k in keys {
                    let (wv, gv) = (w.get(k).unwrap_or(&Value::Null), g.get(k));
                    let sub = format!("{path}.{k}");
                    match gv {
                        Some(gv) => diff_paths(&sub, wv, gv, out),
                        None => out.push(format!("{sub}: expected {wv}, got nothing")),
                    }
                }
            }
            (Value::Array(w), Value::Array(g)) if w.len() == g.len() => {
                for (i, (wv, gv)) in w.iter().zip(g).enumerate() {
                    diff_paths(&format!("{path}[{i}]"), wv, gv, out);
                }
            }
            _ if want != got => out.push(format!("{path}: expected {want}, got {got}")),
            _ => {}
        }
    }

    /// One fixture against its expected file; `Err` is the failure message.
    /// With `bless`, writes the expected file instead (keeping its query).
    fn check_golden(fixture: &Path, bless: bool) -> Result<(), String> {
        let name = rel(fixture);
        let gpath = golden_path(fixture);
        let want: Option<Value> = match std::fs::read(&gpath) {
            Ok(bytes) => Some(
                serde_json::from_slice(&bytes)
                    .map_err(|e| format!("{}: not JSON: {e}", rel(&gpath)))?,
            ),
            Err(_) => None,
        };
        let query = want
            .as_ref()
            .and_then(|w| w.get("query")?.as_str().map(str::to_string))
            .or_else(|| query_from_name(fixture))
            .ok_or_else(|| {
                format!(
                    "{name}: no query: write {{\"query\": \"a.b.c.d\"}} into {} and bless",
                    rel(&gpath)
                )
            })?;
        if parse_range_lenient(&query).is_none() {
            return Err(format!(
                "{}: query {query:?} is not an address, CIDR or range",
                rel(&gpath)
            ));
        }
        let body = std::fs::read(fixture).unwrap();
        let got = golden_of(&body, &query);
        if bless {
            if want.as_ref() != Some(&got) {
                std::fs::write(&gpath, format!("{}\n", pretty(&got))).unwrap();
            }
            return Ok(());
        }
        let Some(want) = want else {
            return Err(format!(
                "{name}: no expected file {}: run {BLESS_VAR}=1 and review it; the parser says:\n{}",
                rel(&gpath),
                pretty(&got)
            ));
        };
        if want == got {
            return Ok(());
        }
        let mut paths = Vec::new();
        diff_paths("", &want, &got, &mut paths);
        Err(format!(
            "{name} (query {query}) differs from {}:\n  {}\n--- expected\n{}\n--- got\n{}",
            rel(&gpath),
            paths.join("\n  "),
            pretty(&want),
            pretty(&got)
        ))
    }

    #[test]
    fn golden_pairs_match() {
        let bless = std::env::var(BLESS_VAR).is_ok_and(|v| v == "1");
        let answers = answer_files();
        let mut failures: Vec<String> = answers
            .iter()
            .filter_map(|f| check_golden(f, bless).err())
            .collect();
        for g in json_files().into_iter().filter(|p| is_golden(p)) {
            if !fixture_of(&g).exists() {
                failures.push(format!(
                    "{}: expected file without a fixture (remove it, or restore {})",
                    rel(&g),
                    rel(&fixture_of(&g))
                ));
            }
        }
        assert!(
            failures.is_empty(),
            "{} of {} golden pairs fail:\n\n{}",
            failures.len(),
            answers.len(),
            failures.join("\n\n")
        );
        // The walk itself found the fixtures (SOURCES.md lists 44).
        assert_eq!(answers.len(), 44);
    }

    #[test]
    fn golden_helpers() {
        let root = fixture_root();
        let f = root.join("apnic/apnic-1.1.1.0_24-2021-06-09.json");
        assert_eq!(query_from_name(&f), s("1.1.1.0/24"));
        assert_eq!(
            query_from_name(&root.join("afrinic/afrinic-196.216.2.20-2018-02-13.http.json")),
            s("196.216.2.20")
        );
        assert_eq!(
            query_from_name(&root.join("errors/apnic-400-bad-request.json")),
            None
        );
        let g = golden_path(&f);
        assert!(g
            .to_string_lossy()
            .ends_with("apnic-1.1.1.0_24-2021-06-09.expected.json"));
        assert!(is_golden(&g) && !is_golden(&f));
        assert_eq!(fixture_of(&g), f);
        assert_eq!(variant(&ParseError::Empty), "Empty");
        assert_eq!(variant(&ParseError::Json("x".into())), "Json");
        assert_eq!(variant(&ParseError::TooLarge { len: 1 }), "TooLarge");
        let mut paths = Vec::new();
        diff_paths(
            "",
            &serde_json::json!({"a": [1, {"b": 2}], "c": 3}),
            &serde_json::json!({"a": [1, {"b": 5}], "d": 4}),
            &mut paths,
        );
        assert_eq!(
            paths,
            [
                ".a[1].b: expected 2, got 5",
                ".c: expected 3, got nothing",
                ".d: expected null, got 4"
            ]
        );
    }

    /// The `.http.json` files are the status line and headers of the capture
    /// whose body is the `.json` of the same name (their goldens show that the
    /// parser refuses them as networks).
    #[test]
    fn http_metadata_fixtures_are_200_captures() {
        let http: Vec<PathBuf> = answer_files()
            .into_iter()
            .filter(|p| p.to_string_lossy().ends_with(".http.json"))
            .collect();
        assert_eq!(http.len(), 8);
        for f in http {
            let v: Value = serde_json::from_slice(&std::fs::read(&f).unwrap()).unwrap();
            assert_eq!(
                v.get("status").and_then(Value::as_u64),
                Some(200),
                "{}",
                rel(&f)
            );
            let body = PathBuf::from(f.to_string_lossy().replace(".http.json", ".json"));
            assert!(body.exists(), "{}: no body file", rel(&f));
        }
    }

    #[test]
    fn error_body_reader_needs_json_with_error_code() {
        assert_eq!(parse_error_body(b"not json"), None);
        assert_eq!(parse_error_body(br#"{"title":"Not Found"}"#), None);
        assert_eq!(
            parse_error_body(br#"{"errorCode":"404","title":" T ","description":["a","b"]}"#),
            Some(ErrorBody {
                code: Some(404),
                title: s("T"),
                description: s("a b"),
            })
        );
        assert_eq!(
            parse_error_body(br#"{"errorCode":"x"}"#).unwrap().code,
            None
        );
    }

    #[test]
    fn rate_limit_notice() {
        let body =
            br#"{"notices":[{"title":"Rate Limit Notice","description":["Too many queries"]}]}"#;
        assert!(is_rate_limit_notice(body));
        assert!(is_rate_limit_notice(b"<html>RATE LIMIT NOTICE</html>"));
        assert!(is_rate_limit_notice(b"rate limit notice"));
        assert!(!is_rate_limit_notice(b"rate limit"));
        assert!(!is_rate_limit_notice(b""));
        assert!(!is_rate_limit_notice(fixture!(
            "lacnic/lacnic-179.0.0.0_23.json"
        )));
        assert_eq!(err(body, "1.1.1.1"), ParseError::RateLimited);
        let with_code = br#"{"errorCode":403,"title":"Rate Limit Notice"}"#;
        assert_eq!(err(with_code, "1.1.1.1"), ParseError::RateLimited);
        assert_eq!(
            err(b"<html>Rate Limit Notice</html>", "1.1.1.1"),
            ParseError::RateLimited
        );
    }

    // ------------------------------------------------------ placeholder rule

    #[test]
    fn placeholder_rule() {
        let r = q("193.0.0.0/8");
        let none: &[String] = &[];
        let no = |name: Option<&str>, handle: &str| !is_placeholder(name, handle, r, none);
        assert!(is_placeholder(
            Some("RIPE-NCC-MANAGED-ADDRESS-BLOCK"),
            "193.0.0.0 - 193.255.255.255",
            r,
            none
        ));
        assert!(is_placeholder(
            Some("non-ripe-ncc-managed-address-block"),
            "x",
            r,
            none
        ));
        assert!(is_placeholder(Some("IANA-BLOCK"), "x", r, none));
        assert!(is_placeholder(Some("Iana-Blk"), "x", r, none));
        assert!(is_placeholder(Some(" APNIC-AP "), "x", r, none));
        assert!(is_placeholder(None, "ORG-IANA1-AFRINIC", r, none));
        assert!(is_placeholder(Some("ERX-NETBLOCK"), "NET-1", r, none));
        assert!(is_placeholder(Some("stub-193-0"), "x", r, none));
        assert!(is_placeholder(None, "STUB-NET-1", r, none));
        // APNIC's dump names its IANA blocks IANA-NETBLOCK-<n>.
        assert!(is_placeholder(Some("iana-netblock-101"), "x", r, none));
        // The range alone does not make a placeholder (see `too_broad_is_refused`).
        assert!(!is_placeholder(Some("REAL"), "NET-0", Range::ALL, none));
        assert!(is_placeholder(
            Some("REAL"),
            "NET-1",
            r,
            &["Administrative".into()]
        ));
        assert!(no(Some("RIPE-NCC"), "193.0.0.0 - 193.0.7.255"));
        assert!(no(Some("STUB"), "STUBBORN-NET"));
        assert!(no(Some("APNIC-APX"), "x"));
        assert!(no(Some("IANA-NETBLOCK"), "x"));
        assert!(no(None, "ERX-NETBLOCK-2"));
        assert!(no(Some("é"), "ü"));
        assert!(!is_placeholder(
            Some("REAL"),
            "NET-1",
            r,
            &["active".into(), "reserved".into()]
        ));
        // A whole /8 by itself is not a placeholder.
        assert!(!is_placeholder(Some("REAL"), "NET-1", q("3.0.0.0/8"), none));
    }

    // ----------------------------------------------------- synthetic bodies

    fn net(members: &str) -> Vec<u8> {
        format!(r#"{{"objectClassName":"ip network","ipVersion":"v4",{members}}}"#).into_bytes()
    }

    #[test]
    fn minimal_network_and_missing_handle() {
        let n = ok(
            &net(r#""startAddress":"10.0.0.0","endAddress":"10.0.0.255""#),
            "10.0.0.7",
        );
        assert_eq!(n.handle, "10.0.0.0 - 10.0.0.255");
        assert_eq!(n.name, None);
        assert!(n.entities.is_empty());
        assert!(!n.placeholder);
    }

    #[test]
    fn range_not_containing_query() {
        let body = fixture!("arin/arin-13.64.0.0.json");
        let e = err(body, "13.108.0.0");
        assert!(matches!(e, ParseError::Outside { .. }));
        assert_eq!(
            e.to_string(),
            "answer range 13.64.0.0 - 13.107.255.255 does not contain the query 13.108.0.0"
        );
        // A prefix query sticking out of the range is refused too.
        assert!(matches!(
            err(body, "13.64.0.0/10"),
            ParseError::Outside { .. }
        ));
        // Any address of the range, or a prefix inside it, is a fitting query
        // (the golden pair asks 13.104.0.0).
        for query in ["13.64.0.0", "13.64.0.0/11", "13.107.255.255"] {
            assert_eq!(ok(body, query), ok(body, "13.104.0.0"), "{query}");
        }
    }

    #[test]
    fn too_broad_is_refused() {
        // Not a placeholder by name, handle or status, yet 0.0.0.0/0, a /1, two /8s.
        for (start, end, query) in [
            ("0.0.0.0", "255.255.255.255", "8.8.8.8"),
            ("0.0.0.0", "127.255.255.255", "8.8.8.8"),
            ("3.0.0.0", "4.255.255.255", "3.3.3.3"),
            ("3.128.0.0", "4.127.255.255", "4.0.0.1"),
        ] {
            let body = net(&format!(
                r#""handle":"EVIL-1","name":"EVIL","status":["active"],"startAddress":"{start}","endAddress":"{end}""#
            ));
            let e = err(&body, query);
            assert_eq!(
                e,
                ParseError::TooBroad {
                    range: Range::new(
                        parse_addr_lenient(start).unwrap(),
                        parse_addr_lenient(end).unwrap()
                    )
                    .unwrap()
                },
                "{start}-{end}"
            );
            assert!(e.to_string().contains("more than one /8"), "{e}");
        }
        // A whole /8 is fine; so are the named placeholders over 0.0.0.0/0.
        let slash8 = net(
            r#""handle":"NET-3-0-0-0-1","name":"BIG","startAddress":"3.0.0.0","endAddress":"3.255.255.255""#,
        );
        assert!(!ok(&slash8, "3.3.3.3").placeholder);
        let iana = net(
            r#""handle":"0.0.0.0 - 255.255.255.255","name":"IANA-BLOCK","startAddress":"0.0.0.0","endAddress":"255.255.255.255""#,
        );
        assert!(ok(&iana, "1.2.3.4").placeholder);
        let admin = net(
            r#""handle":"X","status":["administrative"],"startAddress":"0.0.0.0","endAddress":"255.255.255.255""#,
        );
        assert!(ok(&admin, "1.2.3.4").placeholder);
    }

    #[test]
    fn ipv6_answers() {
        let v6 = br#"{"objectClassName":"ip network","ipVersion":"v6","startAddress":"2001:db8::","endAddress":"2001:db8::ffff"}"#;
        assert!(matches!(err(v6, "1.1.1.1"), ParseError::NotIpv4(_)));
        let unlabelled = br#"{"startAddress":"2001:db8::","endAddress":"2001:db8::ffff"}"#;
        let e = err(unlabelled, "1.1.1.1");
        assert!(matches!(e, ParseError::NotIpv4(_)));
        assert!(e.to_string().contains("2001:db8::"), "{e}");
    }

    #[test]
    fn start_after_end() {
        let e = err(
            &net(r#""startAddress":"10.0.1.0","endAddress":"10.0.0.0""#),
            "10.0.0.0",
        );
        assert_eq!(
            e.to_string(),
            "startAddress 10.0.1.0 is after endAddress 10.0.0.0"
        );
    }

    #[test]
    fn missing_and_bad_addresses() {
        assert_eq!(
            err(&net(r#""endAddress":"10.0.0.0""#), "10.0.0.0"),
            ParseError::MissingAddress("startAddress")
        );
        assert_eq!(
            err(
                &net(r#""startAddress":"10.0.0.0","endAddress":null"#),
                "10.0.0.0"
            ),
            ParseError::MissingAddress("endAddress")
        );
        let e = err(
            &net(r#""startAddress":"10.0.0.256","endAddress":"10.0.0.0""#),
            "10.0.0.0",
        );
        assert_eq!(
            e.to_string(),
            r#"startAddress "10.0.0.256" is not an IPv4 address"#
        );
        let e = err(
            &net(r#""startAddress":167772160,"endAddress":"10.0.0.0""#),
            "10.0.0.0",
        );
        assert!(matches!(
            e,
            ParseError::BadAddress {
                field: "startAddress",
                ..
            }
        ));
    }

    #[test]
    fn wrong_object_class() {
        let e = err(
            br#"{"objectClassName":"autnum","startAutnum":1}"#,
            "1.1.1.1",
        );
        assert_eq!(e, ParseError::WrongClass("autnum".into()));
        assert_eq!(
            e.to_string(),
            r#"objectClassName is "autnum": expected "ip network""#
        );
        let body = net(r#""startAddress":"10.0.0.0","endAddress":"10.0.0.255""#);
        let body = String::from_utf8(body)
            .unwrap()
            .replace("ip network", "IP Network");
        ok(body.as_bytes(), "10.0.0.1");
    }

    #[test]
    fn hostile_depth_is_an_error_not_a_crash() {
        let deep = vec![b'['; 100_000];
        assert_eq!(
            err(&deep, "1.1.1.1"),
            ParseError::TooDeep { limit: MAX_DEPTH }
        );
        let mut deep_obj = b"{\"a\":".repeat(100_000);
        deep_obj.extend(b"1");
        deep_obj.extend(b"}".repeat(100_000));
        assert_eq!(
            err(&deep_obj, "1.1.1.1"),
            ParseError::TooDeep { limit: MAX_DEPTH }
        );
        assert_eq!(parse_error_body(&deep), None);
        // Brackets inside strings do not count.
        let in_string = net(&format!(
            r#""startAddress":"10.0.0.0","endAddress":"10.0.0.255","name":"{}""#,
            "[".repeat(1000)
        ));
        ok(&in_string, "10.0.0.1");
    }

    #[test]
    fn too_large() {
        let mut big = net(r#""startAddress":"10.0.0.0","endAddress":"10.0.0.255","x":""#);
        big.resize(MAX_BODY + 1, b' ');
        assert_eq!(
            err(&big, "10.0.0.1"),
            ParseError::TooLarge { len: MAX_BODY + 1 }
        );
    }

    #[test]
    fn invalid_utf8() {
        let mut body = fixture!("ripe/ripe-193.0.6.139.json").to_vec();
        body[200] = 0xff;
        assert_eq!(err(&body, "193.0.6.139"), ParseError::Utf8 { offset: 200 });
    }

    #[test]
    fn truncated_json() {
        let body = fixture!("ripe/ripe-193.0.6.139.json");
        let half = body.get(..body.len() / 2).unwrap();
        let e = err(half, "193.0.6.139");
        assert!(matches!(e, ParseError::Json(_)), "{e}");
        assert!(e.to_string().starts_with("bad JSON: EOF"), "{e}");
    }

    #[test]
    fn not_objects() {
        assert_eq!(err(b"", "1.1.1.1"), ParseError::Empty);
        assert_eq!(err(b" \n\t", "1.1.1.1"), ParseError::Empty);
        assert_eq!(err(b"null", "1.1.1.1"), ParseError::NotObject("null"));
        assert_eq!(err(b"[]", "1.1.1.1"), ParseError::NotObject("array"));
        assert_eq!(
            err(b"[{\"startAddress\":\"1.1.1.1\"}]", "1.1.1.1"),
            ParseError::NotObject("array")
        );
        assert_eq!(err(b"\"x\"", "1.1.1.1"), ParseError::NotObject("string"));
        assert_eq!(err(b"42", "1.1.1.1"), ParseError::NotObject("number"));
        assert!(matches!(
            err(b"<html>502</html>", "1.1.1.1"),
            ParseError::Json(_)
        ));
    }

    #[test]
    fn odd_shapes_are_read_leniently() {
        let body = net(
            r#""handle":" H-1 ","startAddress":" 010.000.000.000 ","endAddress":"10.0.0.255/32",
            "name":12345,"type":"", "status":"Active, Locked","country":null,
            "parentHandle":"10.0.0.0/8",
            "links":[{"rel":"self up","href":"https://x/rdap/ip/10.0.0.0%2F16"},{"rel":"up"}],
            "events":{"eventAction":"registration"},
            "entities":[{"handle":"E1","roles":"Technical,  ABUSE, technical",
              "vcardArray":["vcard",[["fn",[],"text",null],["FN",{},"text","Second"],
                ["email",[],"text",["a@b"]],"junk",[],["email",{},"text","c@d"]]],
              "entities":[{"handle":"E2","jscard":{"name":{"full":"JS"},"emails":{"e":{"address":"js@x"}}}}]},
             {"handle":"E1","roles":["registrant"]}, 7, null]"#,
        );
        let n = ok(&body, "10.0.0.5");
        assert_eq!(n.handle, "H-1");
        assert_eq!(n.range.to_string(), "10.0.0.0 - 10.0.0.255");
        assert_eq!(n.name, s("12345"));
        assert_eq!(n.net_type, None);
        assert_eq!(n.country, None);
        assert_eq!(n.status, ["active", "locked"]);
        assert_eq!(range_str(n.parent_range), s("10.0.0.0 - 10.255.255.255"));
        assert_eq!(n.up_link, s("https://x/rdap/ip/10.0.0.0%2F16"));
        assert_eq!(n.registration, None);
        assert_eq!(n.entities.len(), 2);
        let e1 = ent(&n, "E1");
        assert_eq!(roles(e1), ["technical", "abuse", "registrant"]);
        assert_eq!(e1.name, s("Second"));
        assert_eq!(e1.email, s("a@b"));
        let e2 = ent(&n, "E2");
        assert_eq!(e2.name, s("JS"));
        assert_eq!(e2.email, s("js@x"));
    }

    #[test]
    fn parent_range_from_up_link_and_sanity() {
        // Netname parent: the up link gives the range (percent-encoded slash).
        let body = net(
            r#""startAddress":"10.1.0.0","endAddress":"10.1.255.255","parentHandle":"NET-10-0-0-0-0",
            "links":[{"rel":"up","href":" https://r/ip/10.0.0.0%2F8?x=1 "}]"#,
        );
        let n = ok(&body, "10.1.2.3");
        assert_eq!(range_str(n.parent_range), s("10.0.0.0 - 10.255.255.255"));
        assert_eq!(n.up_link, s("https://r/ip/10.0.0.0%2F8?x=1"));
        // Raw spaces in a range-shaped link.
        let body = net(r#""startAddress":"10.1.0.0","endAddress":"10.1.255.255",
            "links":[{"rel":"up","href":"https://r/ip/10.0.0.0 - 10.3.255.255"}]"#);
        assert_eq!(
            range_str(ok(&body, "10.1.0.0").parent_range),
            s("10.0.0.0 - 10.3.255.255")
        );
        // A "parent" that does not contain the network is dropped; the handle stays.
        let body = net(
            r#""startAddress":"10.1.0.0","endAddress":"10.1.255.255","parentHandle":"11.0.0.0/8""#,
        );
        let n = ok(&body, "10.1.0.0");
        assert_eq!(n.parent_handle, s("11.0.0.0/8"));
        assert_eq!(n.parent_range, None);
        // An up link to a non-ip URL gives no range.
        let body = net(r#""startAddress":"10.1.0.0","endAddress":"10.1.255.255",
            "links":[{"rel":"up","href":"https://r/entity/X"}]"#);
        assert_eq!(ok(&body, "10.1.0.0").parent_range, None);
    }

    #[test]
    fn echo_rule_is_narrow() {
        // A genuine one-address network (CIDR handle) is accepted.
        let body = net(
            r#""handle":"200.57.141.161/32","name":"Org","startAddress":"200.57.141.161","endAddress":"200.57.141.161""#,
        );
        ok(&body, "200.57.141.161");
        // Bare-address handle but no name: nothing says it is an echo.
        let body = net(
            r#""handle":"200.57.141.161","startAddress":"200.57.141.161","endAddress":"200.57.141.161""#,
        );
        ok(&body, "200.57.141.161");
        // The real 2015 echo (its golden pair asks the echoed address).
        let body = fixture!("lacnic/lacnic-200.57.141.161-2015.json");
        assert_eq!(
            err(body, "200.57.141.161"),
            ParseError::EchoesQuery {
                addr: q("200.57.141.161").start,
                name: "Triara.com, S.A. de C.V.".into()
            }
        );
        // Asked about another address, the same body fails the containment rule.
        assert!(matches!(
            err(body, "200.57.141.0"),
            ParseError::Outside { .. }
        ));
    }

    #[test]
    fn error_messages_are_one_line() {
        let name = "a\nb".repeat(100);
        let e = ParseError::EchoesQuery { addr: 1, name };
        let m = e.to_string();
        assert!(!m.contains('\n'), "{m}");
        assert!(m.chars().count() < 200, "{m}");
        assert!(ParseError::TooLarge { len: 9 }.to_string().contains('9'));
        assert!(ParseError::Utf8 { offset: 3 }.to_string().contains('3'));
    }

    #[test]
    fn sources_md_lists_every_fixture_with_its_sha256() {
        use sha2::{Digest, Sha256};
        use std::fmt::Write as _;
        let dir =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/rdap");
        let sources = std::fs::read_to_string(dir.join("SOURCES.md")).unwrap();
        let mut listed = Vec::new();
        for line in sources.lines().filter(|l| l.starts_with("| `")) {
            let cells: Vec<&str> = line.split(" | ").collect();
            let file = cells[0].trim_start_matches("| ").trim_matches('`');
            let want = cells
                .last()
                .unwrap()
                .trim_end_matches(" |")
                .trim_matches('`');
            let body = std::fs::read(dir.join(file)).unwrap();
            let got = Sha256::digest(&body)
                .iter()
                .fold(String::new(), |mut h, b| {
                    let _ = write!(h, "{b:02x}");
                    h
                });
            assert_eq!(got, want, "{file}");
            listed.push(file.to_string());
        }
        let mut on_disk = Vec::new();
        for rir in std::fs::read_dir(&dir).unwrap() {
            let rir = rir.unwrap().path();
            if rir.is_dir() {
                for f in std::fs::read_dir(&rir).unwrap() {
                    let f = f.unwrap().path();
                    // Expected files are this parser's output, not sourced data:
                    // `golden_pairs_match` pairs each with its fixture.
                    if is_golden(&f) {
                        continue;
                    }
                    let rel = f
                        .strip_prefix(&dir)
                        .unwrap()
                        .to_string_lossy()
                        .replace('\\', "/");
                    on_disk.push(rel);
                }
            }
        }
        listed.sort();
        on_disk.sort();
        assert_eq!(listed, on_disk);
        assert_eq!(listed.len(), 44);
    }

    // ------------------------------------------------------- no-panic fuzz

    /// Every real answer with the query of its golden pair.
    fn fuzz_corpus() -> Vec<(Vec<u8>, Range)> {
        answer_files()
            .iter()
            .map(|f| {
                let golden: Value =
                    serde_json::from_slice(&std::fs::read(golden_path(f)).unwrap()).unwrap();
                let query = q(golden["query"].as_str().unwrap());
                (std::fs::read(f).unwrap(), query)
            })
            .collect()
    }

    struct XorShift(u64);

    impl XorShift {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n.max(1) as u64) as usize
        }
    }

    #[test]
    fn mutated_fixtures_never_panic() {
        const SPECIAL: &[u8] = b"[]{}\",:\\0./- \xff\x00";
        let corpus = fuzz_corpus();
        let mut rng = XorShift(0x2545_F491_4F6C_DD1D);
        let mut accepted = 0;
        for round in 0..3000 {
            let (src, own_query) = &corpus[round % corpus.len()];
            let mut body = src.clone();
            match rng.below(4) {
                0 => body.truncate(rng.below(src.len())),
                1 => {
                    for _ in 0..=rng.below(8) {
                        let i = rng.below(body.len());
                        body[i] = rng.next() as u8;
                    }
                }
                2 => {
                    for _ in 0..=rng.below(8) {
                        let i = rng.below(body.len());
                        body[i] = SPECIAL[rng.below(SPECIAL.len())];
                    }
                }
                _ => {
                    let a = rng.below(body.len());
                    let b = (a + rng.below(64)).min(body.len());
                    body.drain(a..b);
                }
            }
            // Mostly the fixture's own query (so mutants that still parse run
            // the whole extraction), sometimes a random address or prefix.
            let addr = rng.next() as u32;
            let query = match rng.below(4) {
                0 => Range {
                    start: addr,
                    end: addr,
                },
                1 => crate::prefix::Cidr::new_masked(addr, rng.below(33) as u8).range(),
                _ => *own_query,
            };
            if parse_network(&body, query).is_ok() {
                accepted += 1;
            }
            let _ = parse_error_body(&body);
            let _ = is_rate_limit_notice(&body);
        }
        // Both paths were exercised: some mutants still parse, most do not.
        assert!(accepted > 100 && accepted < 2900, "accepted {accepted}");
    }
}
