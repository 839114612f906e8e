//! RDAP answer bytes → [`Network`]. Pure: never does I/O, never panics.
//!
//! Real registry answers are messy (see `tests/fixtures/rdap/SOURCES.md`), so
//! the parser reads a JSON tree ([`super::json`], borrowing from the body)
//! and picks members by hand instead of deriving a strict schema. What it
//! accepts and what it refuses:
//!
//! **Front end** (shared by [`parse_network`] and [`parse_error_body`]):
//! bodies over [`MAX_BODY`] bytes, invalid UTF-8, an empty body, JSON nested
//! deeper than [`MAX_DEPTH`] and JSON holding more than [`MAX_VALUES`] values
//! are refused before serde_json sees them (one flat byte scan, so a
//! 100k-deep `[[[[…` costs no stack and 10^6 empty entities build no tree). A
//! leading UTF-8 byte-order mark is skipped. The top level must be an object.
//!
//! **Caps** — part of the contract (README, "Hostile input"). Real answers
//! are kilobytes with a few dozen entities; a hostile one must not cost
//! memory, disk or time in proportion to what it claims. Per network object
//! (a lookup answer, or each member of an RFC 9910 search set, see
//! [`super::search`]; the bulk-dump reader holds its networks to the same
//! text cap, see [`crate::dump`]):
//!
//! | what | cap | real answers reach | over it |
//! |---|---|---|---|
//! | body (a search member: its own JSON) | [`MAX_BODY`] 8 MiB (the client stops at 4 MiB) | 22 KB | refused |
//! | JSON values (containers + commas) | [`MAX_VALUES`] 20,000 | 609 (804 for a search answer) | refused, before parsing |
//! | JSON nesting | [`MAX_DEPTH`] 64 | about 10 | refused, before parsing |
//! | entities met, nested ones included (before merging by handle) | [`MAX_ENTITIES`] 64 | 17 | refused |
//! | entity nesting | [`MAX_ENTITY_DEPTH`] 8 | 2 | refused |
//! | length of each kept text: `handle`, `name`, `type`, `country`, `parentHandle`, the `up` link, event dates, status values, and each entity's handle, roles, name, e-mail | [`MAX_TEXT`] 1 KiB | 102 | refused |
//! | `status` values; one entity's `roles` | [`MAX_LIST`] 32 | 1; 6 | refused |
//! | `links`, `events`, vCard properties, JSContact `emails` looked at | [`MAX_SCANNED`] 256 | 65 links, 9 properties | the rest ignored |
//!
//! A refusal is one line naming the member and the limit
//! (`name is 5000 bytes long (limit 1024): refused as hostile`). Refusing
//! rather than truncating: nothing the parser stores is cut or invented,
//! and an answer this far from every real one is broken or hostile; the
//! crawl records it as a failed lookup (a search set is refused whole) and
//! stores nothing of it.
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
//! - `[]` where an object is expected (vCard parameters then count as none),
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
//!   first name/e-mail found wins). Name is the vCard `fn`; the e-mail is the
//!   vCard `email` whose `type` parameter says `abuse` (a string, an array or
//!   comma-joined values, any case: RIPE types its `abuse-mailbox` so), else
//!   the one with the lowest `pref` (1 is the most preferred), else the first
//!   (a JSContact `jscard` member is read when no vCard has them);
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

use super::json::{self, Object, Value};

use super::{Entity, Network};
use crate::prefix::{fmt_addr, parse_addr_lenient, parse_range_lenient, Range};

/// Largest body accepted (8 MiB); RDAP answers are kilobytes.
pub const MAX_BODY: usize = 8 * 1024 * 1024;

/// Deepest JSON nesting accepted (arrays and objects); real answers reach about 10.
pub const MAX_DEPTH: usize = 64;

/// Most JSON values in one network object (a lookup answer, or one member
/// of a search set), counted by the flat pre-scan as containers plus
/// commas, before any tree is built. The real lookup answers reach 609
/// (ARIN's 108.45.128.208), ARIN's `rdap-up` search answer 804; a 3 MB body
/// of 10^6 empty entities counts 10^6.
pub const MAX_VALUES: usize = 20_000;

/// Most entities in one network, nested ones included, counted as met
/// (before the same handle is merged). The real answers reach 17 (RIPE's
/// 193.0.6.139, 14 distinct handles).
pub const MAX_ENTITIES: usize = 64;

/// Deepest entity nesting (entities inside entities). The real answers
/// reach 2 (ARIN's registrant with its contacts).
pub const MAX_ENTITY_DEPTH: usize = 8;

/// Longest text kept, in bytes after trimming: `handle`, `name`, `type`,
/// `country`, `parentHandle`, the `up` link, event dates, status values, and
/// every entity's handle, roles, name and e-mail. The real answers reach 102
/// (an APNIC link); names reach 56, e-mails 38.
pub const MAX_TEXT: usize = 1024;

/// Most values of a `status` list or of one entity's `roles` (after
/// splitting joined ones). The real answers reach 1 and 6.
pub const MAX_LIST: usize = 32;

/// Most elements of `links`, `events`, a vCard, or a JSContact card's
/// `emails` that are looked at; the rest are ignored. The real answers reach
/// 65 links (nic.br), 9 vCard properties and 2 events.
pub const MAX_SCANNED: usize = 256;

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
    /// More than [`MAX_VALUES`] JSON values in one network object.
    TooManyValues {
        /// The limit that was passed.
        limit: usize,
    },
    /// A list longer than its cap ([`MAX_ENTITIES`], [`MAX_ENTITY_DEPTH`],
    /// [`MAX_LIST`]).
    TooMany {
        /// What overflowed (`entities (nested ones included)`, `status values`, ...).
        what: String,
        /// The limit that was passed.
        limit: usize,
    },
    /// A text member longer than [`MAX_TEXT`] bytes.
    TooLong {
        /// The member (`name`, `entity 3 email`, ...).
        member: String,
        /// Its length in bytes.
        len: usize,
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
            ParseError::TooManyValues { limit } => write!(
                f,
                "answer holds more than {limit} JSON values (real answers hold under 1000): refused as hostile"
            ),
            ParseError::TooMany { what, limit } => {
                write!(f, "answer has more than {limit} {what}: refused as hostile")
            }
            ParseError::TooLong { member, len } => write!(
                f,
                "{member} is {len} bytes long (limit {MAX_TEXT}): refused as hostile"
            ),
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
        // Hostile sizes are refused as such (a notice is small).
        Err(e @ (ParseError::TooLarge { .. } | ParseError::TooManyValues { .. })) => Err(e),
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
    root: &Object<'_>,
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

    let name = member_text(root, "name")?;
    let handle = member_text(root, "handle")?.unwrap_or_else(|| range.to_string());
    check(range, &handle, name.as_deref())?;

    let status: Vec<String> = match root.get("status") {
        Some(v) => split_lower(v, "status values", "a status value")?,
        None => Vec::new(),
    };
    let parent_handle = member_text(root, "parentHandle")?;
    let up_link = up_link(root)?;
    let parent_range = parent_handle
        .as_deref()
        .and_then(range_from_handle)
        .or_else(|| up_link.as_deref().and_then(range_from_href))
        .filter(|p| p.contains_range(&range));
    let (registration, last_changed) = events(root)?;
    let placeholder = is_placeholder(name.as_deref(), &handle, range, &status);
    if !placeholder && range.start >> 24 != range.end >> 24 {
        return Err(ParseError::TooBroad { range });
    }

    Ok(Network {
        handle,
        range,
        name,
        net_type: member_text(root, "type")?,
        country: member_text(root, "country")?,
        parent_handle,
        parent_range,
        up_link,
        status,
        entities: entities(root)?,
        registration,
        last_changed,
        placeholder,
    })
}

/// Size, UTF-8, emptiness, depth and value-count checks, then JSON; the top
/// level must be an object.
pub(crate) fn decode(body: &[u8]) -> Result<Object<'_>, ParseError> {
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
    check_shape(text.as_bytes(), MAX_DEPTH, MAX_VALUES)?;
    match json::from_str(text).map_err(|e| ParseError::Json(e.to_string()))? {
        Value::Object(m) => Ok(m),
        other => Err(ParseError::NotObject(other.kind())),
    }
}

/// Refuses nesting deeper than `limit` with a flat scan (strings and escapes
/// are skipped), so hostile depth never reaches a recursive parser.
pub(crate) fn check_depth(bytes: &[u8], limit: usize) -> Result<(), ParseError> {
    check_shape(bytes, limit, usize::MAX)
}

/// One flat scan (strings and escapes skipped, nothing allocated): refuses
/// nesting deeper than `max_depth`, and more than `max_values` JSON values
/// counted as containers plus commas (every element or member after the
/// first of its container follows a comma), so neither a hostile depth nor
/// a hostile width ever reaches the parser or its tree.
pub(crate) fn check_shape(
    bytes: &[u8],
    max_depth: usize,
    max_values: usize,
) -> Result<(), ParseError> {
    count_values(bytes, max_depth, max_values).map(|_| ())
}

/// [`check_shape`], returning the values counted.
fn count_values(bytes: &[u8], max_depth: usize, max_values: usize) -> Result<usize, ParseError> {
    let mut depth = 0usize;
    let mut values = 0usize;
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
                if depth > max_depth {
                    return Err(ParseError::TooDeep { limit: max_depth });
                }
                values += 1;
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            b',' => values += 1,
            _ => continue,
        }
        if values > max_values {
            return Err(ParseError::TooManyValues { limit: max_values });
        }
    }
    Ok(values)
}

/// A string (trimmed) or a number as text; `None` for anything else or an empty string.
pub(crate) fn text(v: &Value<'_>) -> Option<String> {
    match v {
        Value::String(s) => {
            let t = s.trim();
            (!t.is_empty()).then(|| t.to_string())
        }
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// [`text`] of a value that is kept, refused when longer than [`MAX_TEXT`]
/// bytes (`member` names it in the error).
fn capped_text(v: &Value<'_>, member: &dyn Fn() -> String) -> Result<Option<String>, ParseError> {
    if let Value::String(s) = v {
        let len = s.trim().len();
        if len > MAX_TEXT {
            return Err(ParseError::TooLong {
                member: member(),
                len,
            });
        }
    }
    Ok(text(v))
}

/// The capped text of the top-level member `key`.
fn member_text(root: &Object<'_>, key: &'static str) -> Result<Option<String>, ParseError> {
    match root.get(key) {
        Some(v) => capped_text(v, &|| key.to_string()),
        None => Ok(None),
    }
}

/// A value as text for error messages: the string itself, or its JSON.
fn raw_text(v: &Value<'_>) -> String {
    match v {
        Value::String(s) => s.to_string(),
        other => other.to_string(),
    }
}

/// Every text in a string or an array of strings (other elements skipped).
pub(crate) fn texts(v: &Value<'_>) -> Vec<String> {
    match v {
        Value::Array(items) => items.iter().filter_map(text).collect(),
        other => text(other).into_iter().collect(),
    }
}

/// A string or an array of strings, each split on commas, trimmed,
/// lower-cased, empty and repeated ones dropped. More than [`MAX_LIST`]
/// elements or values (`list` names them), or one longer than [`MAX_TEXT`]
/// (`one` names it), refuse the answer.
fn split_lower(v: &Value<'_>, list: &str, one: &str) -> Result<Vec<String>, ParseError> {
    let too_many = || ParseError::TooMany {
        what: list.to_string(),
        limit: MAX_LIST,
    };
    let items = match v {
        Value::Array(items) => items.as_slice(),
        other => std::slice::from_ref(other),
    };
    if items.len() > MAX_LIST {
        return Err(too_many());
    }
    let mut out: Vec<String> = Vec::new();
    for item in items {
        let Some(t) = capped_text(item, &|| one.to_string())? else {
            continue;
        };
        for part in t.split(',') {
            let p = part.trim().to_lowercase();
            if !p.is_empty() && !out.contains(&p) {
                if out.len() == MAX_LIST {
                    return Err(too_many());
                }
                out.push(p);
            }
        }
    }
    Ok(out)
}

/// `errorCode` as a number, sent as a number or a string.
pub(crate) fn error_code(v: &Value<'_>) -> Option<u16> {
    match v {
        Value::Number(n) => n.as_u64().and_then(|c| u16::try_from(c).ok()),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// `startAddress` / `endAddress`, leniently.
fn address(root: &Object<'_>, field: &'static str) -> Result<u32, ParseError> {
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

/// The `href` of the first link (of the first [`MAX_SCANNED`]) whose `rel`
/// has the exact token `up`.
fn up_link(root: &Object<'_>) -> Result<Option<String>, ParseError> {
    let Some(links) = root.get("links").and_then(Value::as_array) else {
        return Ok(None);
    };
    for l in links.iter().take(MAX_SCANNED).filter_map(Value::as_object) {
        let Some(rel) = l.get("rel").and_then(Value::as_str) else {
            continue;
        };
        if !rel.split_whitespace().any(|t| t.eq_ignore_ascii_case("up")) {
            continue;
        }
        if let Some(href) = l.get("href") {
            if let Some(h) = capped_text(href, &|| "the up link".to_string())? {
                return Ok(Some(h));
            }
        }
    }
    Ok(None)
}

/// (`registration`, `last changed`) event dates as sent; the first of each
/// wins (among the first [`MAX_SCANNED`] events).
fn events(root: &Object<'_>) -> Result<(Option<String>, Option<String>), ParseError> {
    let mut registration = None;
    let mut last_changed = None;
    let Some(events) = root.get("events").and_then(Value::as_array) else {
        return Ok((None, None));
    };
    for e in events.iter().take(MAX_SCANNED).filter_map(Value::as_object) {
        let Some(action) = e.get("eventAction").and_then(Value::as_str) else {
            continue;
        };
        let action = action.trim().to_lowercase().replace('_', " ");
        let slot = match action.as_str() {
            "registration" if registration.is_none() => &mut registration,
            "last changed" if last_changed.is_none() => &mut last_changed,
            _ => continue,
        };
        *slot = match e.get("eventDate") {
            Some(d) => capped_text(d, &|| format!("the {action} eventDate"))?,
            None => None,
        };
    }
    Ok((registration, last_changed))
}

/// All entities, nested ones flattened depth-first, same handles merged.
/// More than [`MAX_ENTITIES`] elements met in all `entities` arrays, or
/// nesting deeper than [`MAX_ENTITY_DEPTH`], refuse the answer.
fn entities(root: &Object<'_>) -> Result<Vec<Entity>, ParseError> {
    let mut out: Vec<Entity> = Vec::new();
    let mut by_handle: HashMap<String, usize> = HashMap::new();
    let mut stack: Vec<(&Value<'_>, usize)> = Vec::new();
    let mut met = 0usize;
    if let Some(top) = root.get("entities").and_then(Value::as_array) {
        push_entities(&mut stack, top, 1, &mut met)?;
    }
    let mut n = 0usize;
    while let Some((v, depth)) = stack.pop() {
        let Some(obj) = v.as_object() else { continue };
        n += 1;
        if let Some(kids) = obj.get("entities").and_then(Value::as_array) {
            push_entities(&mut stack, kids, depth + 1, &mut met)?;
        }
        let e = entity(obj, n)?;
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
    Ok(out)
}

/// Queues `kids` (met at entity nesting `depth`, from 1) on the
/// depth-first stack, counting them in `met` against the caps.
fn push_entities<'a, 'j>(
    stack: &mut Vec<(&'a Value<'j>, usize)>,
    kids: &'a [Value<'j>],
    depth: usize,
    met: &mut usize,
) -> Result<(), ParseError> {
    if kids.is_empty() {
        return Ok(());
    }
    *met += kids.len();
    if *met > MAX_ENTITIES {
        return Err(ParseError::TooMany {
            what: "entities (nested ones included)".into(),
            limit: MAX_ENTITIES,
        });
    }
    if depth > MAX_ENTITY_DEPTH {
        return Err(ParseError::TooMany {
            what: "levels of nested entities".into(),
            limit: MAX_ENTITY_DEPTH,
        });
    }
    stack.extend(kids.iter().rev().map(|k| (k, depth)));
    Ok(())
}

/// One entity object, the `n`th met (its nested entities are handled by
/// the caller).
fn entity(obj: &Object<'_>, n: usize) -> Result<Entity, ParseError> {
    let (mut name, mut email) = vcard(obj, n)?;
    if name.is_none() || email.is_none() {
        let (jn, je) = jscard(obj, n)?;
        name = name.or(jn);
        email = email.or(je);
    }
    let handle = match obj.get("handle") {
        Some(h) => capped_text(h, &|| format!("entity #{n} handle"))?,
        None => None,
    };
    let roles = match obj.get("roles") {
        Some(r) => split_lower(
            r,
            &format!("roles in entity #{n}"),
            &format!("a role of entity #{n}"),
        )?,
        None => Vec::new(),
    };
    Ok(Entity {
        handle,
        roles,
        name,
        email,
    })
}

/// Text of a vCard property value: a string, or the first string of a structured value.
fn vcard_text(v: &Value<'_>, member: &dyn Fn() -> String) -> Result<Option<String>, ParseError> {
    match v {
        Value::Array(parts) => match parts.iter().find(|p| text(p).is_some()) {
            Some(p) => capped_text(p, member),
            None => Ok(None),
        },
        other => capped_text(other, member),
    }
}

/// The value of vCard parameter `key` (any case), if present.
fn param<'a, 'j>(params: Option<&'a Object<'j>>, key: &str) -> Option<&'a Value<'j>> {
    params?
        .iter()
        .find_map(|(k, v)| k.eq_ignore_ascii_case(key).then_some(v))
}

/// Whether a vCard `type` parameter (a string, comma-joined values, or an
/// array) names `abuse`, in any case.
fn typed_abuse(v: &Value<'_>) -> bool {
    let one = |s: &str| s.split(',').any(|t| t.trim().eq_ignore_ascii_case("abuse"));
    match v {
        Value::String(s) => one(s),
        Value::Array(items) => items.iter().filter_map(Value::as_str).any(one),
        _ => false,
    }
}

/// A vCard `pref` parameter (1–100, 1 most preferred) sent as a number or a string.
fn pref_of(v: &Value<'_>) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// (`fn`, e-mail) of a jCard `vcardArray` (`["vcard", [[name, params, type,
/// value], ...]]`), among its first [`MAX_SCANNED`] properties. The e-mail
/// is the first `email` whose `type` parameter says `abuse`, else the one
/// with the lowest `pref` (1 is the most preferred; the first of equals),
/// else the first.
fn vcard(obj: &Object<'_>, n: usize) -> Result<(Option<String>, Option<String>), ParseError> {
    let mut name = None;
    let mut abuse = None;
    let mut preferred: Option<(u64, String)> = None;
    let mut first = None;
    let props = obj
        .get("vcardArray")
        .and_then(Value::as_array)
        .and_then(|a| a.get(1))
        .and_then(Value::as_array);
    let props = props.into_iter().flatten().take(MAX_SCANNED);
    for p in props.filter_map(Value::as_array) {
        let Some(prop) = p.first().and_then(Value::as_str) else {
            continue;
        };
        let Some(value) = p.get(3) else { continue };
        if prop.eq_ignore_ascii_case("fn") {
            let v = vcard_text(value, &|| format!("entity #{n} name"))?;
            if name.is_none() {
                name = v;
            }
            continue;
        }
        if !prop.eq_ignore_ascii_case("email") {
            continue;
        }
        let Some(email) = vcard_text(value, &|| format!("entity #{n} email"))? else {
            continue;
        };
        let params = p.get(1).and_then(Value::as_object);
        if abuse.is_none() && param(params, "type").is_some_and(typed_abuse) {
            abuse = Some(email.clone());
        }
        if let Some(pref) = param(params, "pref").and_then(pref_of) {
            if preferred.as_ref().is_none_or(|(best, _)| pref < *best) {
                preferred = Some((pref, email.clone()));
            }
        }
        if first.is_none() {
            first = Some(email);
        }
    }
    let email = abuse.or(preferred.map(|(_, e)| e)).or(first);
    Ok((name, email))
}

/// (name, first e-mail) of a JSContact card (`jscard`, RFC 9553), when a server sends one.
fn jscard(obj: &Object<'_>, n: usize) -> Result<(Option<String>, Option<String>), ParseError> {
    let Some(card) = obj.get("jscard").and_then(Value::as_object) else {
        return Ok((None, None));
    };
    let full = card
        .get("name")
        .and_then(|v| v.get("full"))
        .filter(|v| text(v).is_some())
        .or_else(|| card.get("fullName"));
    let name = match full {
        Some(v) => capped_text(v, &|| format!("entity #{n} name"))?,
        None => None,
    };
    let address = card.get("emails").and_then(Value::as_object).and_then(|m| {
        m.values()
            .take(MAX_SCANNED)
            .find_map(|e| e.get("address").filter(|a| text(a).is_some()))
    });
    let email = match address {
        Some(a) => capped_text(a, &|| format!("entity #{n} email"))?,
        None => None,
    };
    Ok((name, email))
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
    use serde_json::{Map, Value};
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

    // ------------------------------------------------------- hostile sizes

    /// What the real answers reach, measured on every fixture with its
    /// golden query (and ARIN's search answer for one network): each cap
    /// leaves them a wide margin.
    #[test]
    fn real_answers_stay_far_below_every_cap() {
        let count = |body: &[u8]| count_values(body, MAX_DEPTH, usize::MAX).unwrap();
        let mut values = 0;
        let (mut entities, mut roles, mut status) = (0, 0, 0);
        for (body, query) in fuzz_corpus() {
            values = values.max(count(&body));
            if let Ok(n) = parse_network(&body, query) {
                entities = entities.max(n.entities.len());
                status = status.max(n.status.len());
                roles = roles.max(n.entities.iter().map(|e| e.roles.len()).max().unwrap_or(0));
            }
        }
        assert_eq!(values, 609, "ARIN's 108.45.128.208");
        assert_eq!(entities, 14, "RIPE's 193.0.6.139: 14 distinct of 17 met");
        assert_eq!(
            (roles, status),
            (4, 1),
            "roles merged by handle; one status"
        );
        let up = include_bytes!(
            "../../../../tests/fixtures/rdap-search/arin-rdap-up-149.112.152.0.json"
        );
        assert_eq!(count(up), 804);
        const { assert!(MAX_VALUES >= 20 * 804 && MAX_ENTITIES >= 3 * 17) };
    }

    /// `"entities":[{},{},…]`: `n` empty entities.
    fn empty_entities(n: usize) -> String {
        format!(r#","entities":[{}]"#, vec!["{}"; n].join(","))
    }

    #[test]
    fn a_million_empty_entities_are_refused_before_any_tree_is_built() {
        let body = net(&format!(
            r#""startAddress":"10.0.0.0","endAddress":"10.0.0.255"{}"#,
            empty_entities(1_000_000)
        ));
        assert!(body.len() > 3_000_000 && body.len() < MAX_BODY);
        let e = err(&body, "10.0.0.1");
        assert_eq!(e, ParseError::TooManyValues { limit: MAX_VALUES });
        assert_eq!(
            e.to_string(),
            "answer holds more than 20000 JSON values (real answers hold under 1000): refused as hostile"
        );
        // Commas and brackets inside strings are text, not values.
        let body = net(&format!(
            r#""startAddress":"10.0.0.0","endAddress":"10.0.0.255","name":"{}""#,
            "[,".repeat(MAX_TEXT / 2)
        ));
        ok(&body, "10.0.0.1");
    }

    #[test]
    fn entities_are_capped_in_number_and_depth() {
        let with = |entities: &str| {
            net(&format!(
                r#""startAddress":"10.0.0.0","endAddress":"10.0.0.255","entities":{entities}"#
            ))
        };
        let many = |n: usize| {
            let list: Vec<String> = (0..n).map(|i| format!(r#"{{"handle":"E{i}"}}"#)).collect();
            format!("[{}]", list.join(","))
        };
        assert_eq!(
            ok(&with(&many(MAX_ENTITIES)), "10.0.0.1").entities.len(),
            64
        );
        let e = err(&with(&many(MAX_ENTITIES + 1)), "10.0.0.1");
        assert_eq!(
            e.to_string(),
            "answer has more than 64 entities (nested ones included): refused as hostile"
        );
        // Nested ones count, and the same handle counts each time it is met.
        let nested = format!(
            r#"[{{"handle":"A","entities":{}}},{{"handle":"A"}}]"#,
            many(MAX_ENTITIES - 1)
        );
        assert!(matches!(
            err(&with(&nested), "10.0.0.1"),
            ParseError::TooMany { limit: 64, .. }
        ));
        // Nesting: 8 levels are fine, 9 are not.
        let chain = |levels: usize| {
            let mut s = String::from(r#"[{"handle":"L"}]"#);
            for i in 1..levels {
                s = format!(r#"[{{"handle":"L{i}","entities":{s}}}]"#);
            }
            s
        };
        assert_eq!(
            ok(&with(&chain(MAX_ENTITY_DEPTH)), "10.0.0.1")
                .entities
                .len(),
            8
        );
        let e = err(&with(&chain(MAX_ENTITY_DEPTH + 1)), "10.0.0.1");
        assert_eq!(
            e.to_string(),
            "answer has more than 8 levels of nested entities: refused as hostile"
        );
    }

    #[test]
    fn texts_over_the_cap_refuse_the_answer_naming_the_member() {
        let long = "x".repeat(MAX_TEXT + 1);
        let fits = "y".repeat(MAX_TEXT);
        let base = r#""startAddress":"10.0.0.0","endAddress":"10.0.0.255""#;
        let vcard = |prop: &str, v: &str| {
            format!(
                r#","entities":[{{"handle":"E","vcardArray":["vcard",[["{prop}",{{}},"text","{v}"]]]}}]"#
            )
        };
        for (extra, member) in [
            (format!(r#","handle":"{long}""#), "handle"),
            (format!(r#","name":"{long}""#), "name"),
            (format!(r#","type":"{long}""#), "type"),
            (format!(r#","country":"{long}""#), "country"),
            (format!(r#","parentHandle":"{long}""#), "parentHandle"),
            (
                format!(r#","links":[{{"rel":"up","href":"{long}"}}]"#),
                "the up link",
            ),
            (
                format!(r#","events":[{{"eventAction":"registration","eventDate":"{long}"}}]"#),
                "the registration eventDate",
            ),
            (
                format!(r#","status":["active","{long}"]"#),
                "a status value",
            ),
            (
                format!(r#","entities":[{{"handle":"{long}"}}]"#),
                "entity #1 handle",
            ),
            (
                format!(r#","entities":[{{"handle":"E","roles":["{long}"]}}]"#),
                "a role of entity #1",
            ),
            (vcard("fn", &long), "entity #1 name"),
            (vcard("email", &long), "entity #1 email"),
            (
                format!(
                    r#","entities":[{{"jscard":{{"emails":{{"a":{{"address":"{long}"}}}}}}}}]"#
                ),
                "entity #1 email",
            ),
        ] {
            let e = err(&net(&format!("{base}{extra}")), "10.0.0.1");
            assert_eq!(
                e,
                ParseError::TooLong {
                    member: member.into(),
                    len: MAX_TEXT + 1
                },
                "{extra:.60}"
            );
            let m = e.to_string();
            assert_eq!(
                m,
                format!("{member} is 1025 bytes long (limit 1024): refused as hostile")
            );
            // Exactly at the cap is fine.
            let at = extra.replace(&long, &fits);
            ok(&net(&format!("{base}{at}")), "10.0.0.1");
        }
        // Members the parser does not keep are not capped.
        ok(
            &net(&format!(
                r#"{base},"remarks":[{{"description":["{long}"]}}]"#
            )),
            "10.0.0.1",
        );
    }

    #[test]
    fn status_and_roles_lists_are_capped() {
        let base = r#""startAddress":"10.0.0.0","endAddress":"10.0.0.255""#;
        let words = |n: usize| (0..n).map(|i| format!("s{i}")).collect::<Vec<_>>();
        let array = |n: usize| format!("[\"{}\"]", words(n).join("\",\""));
        let joined = |n: usize| format!("\"{}\"", words(n).join(","));
        for list in [array(MAX_LIST), joined(MAX_LIST)] {
            let n = ok(&net(&format!(r#"{base},"status":{list}"#)), "10.0.0.1");
            assert_eq!(n.status.len(), MAX_LIST);
        }
        for list in [array(MAX_LIST + 1), joined(MAX_LIST + 1)] {
            let e = err(&net(&format!(r#"{base},"status":{list}"#)), "10.0.0.1");
            assert_eq!(
                e.to_string(),
                "answer has more than 32 status values: refused as hostile"
            );
            let body = net(&format!(
                r#"{base},"entities":[{{"handle":"E"}},{{"handle":"F","roles":{list}}}]"#
            ));
            assert_eq!(
                err(&body, "10.0.0.1").to_string(),
                "answer has more than 32 roles in entity #2: refused as hostile"
            );
        }
        // Repeats are not new values.
        let repeats = format!("\"{}\"", vec!["active"; 100].join(","));
        let n = ok(&net(&format!(r#"{base},"status":{repeats}"#)), "10.0.0.1");
        assert_eq!(n.status, ["active"]);
    }

    #[test]
    fn only_the_first_links_events_and_vcard_properties_are_scanned() {
        let base = r#""startAddress":"10.1.0.0","endAddress":"10.1.255.255""#;
        let filler = vec![r#"{"rel":"self","href":"https://r/x"}"#; MAX_SCANNED].join(",");
        let up = r#"{"rel":"up","href":"https://r/ip/10.0.0.0/8"}"#;
        let links = |before: usize| {
            let f = vec![r#"{"rel":"self","href":"https://r/x"}"#; before].join(",");
            net(&format!(r#"{base},"links":[{f},{up}]"#))
        };
        assert_eq!(
            ok(&links(MAX_SCANNED - 1), "10.1.0.0").up_link,
            s("https://r/ip/10.0.0.0/8")
        );
        assert_eq!(ok(&links(MAX_SCANNED), "10.1.0.0").up_link, None);
        assert!(filler.len() > 1000);
        let props = |before: usize| {
            let f = vec![r#"["tel",{},"text","1"]"#; before].join(",");
            net(&format!(
                r#"{base},"entities":[{{"handle":"E","vcardArray":["vcard",[{f},["email",{{}},"text","a@b"]]]}}]"#
            ))
        };
        assert_eq!(
            ok(&props(MAX_SCANNED - 1), "10.1.0.0").entities[0].email,
            s("a@b")
        );
        assert_eq!(ok(&props(MAX_SCANNED), "10.1.0.0").entities[0].email, None);
        let events = |before: usize| {
            let f = vec![r#"{"eventAction":"x"}"#; before].join(",");
            net(&format!(
                r#"{base},"events":[{f},{{"eventAction":"registration","eventDate":"2001-01-01"}}]"#
            ))
        };
        assert_eq!(
            ok(&events(MAX_SCANNED - 1), "10.1.0.0").registration,
            s("2001-01-01")
        );
        assert_eq!(ok(&events(MAX_SCANNED), "10.1.0.0").registration, None);
    }

    // ---------------------------------------------------------- e-mail rule

    /// The e-mail of the one entity whose vCard has these `email` properties
    /// (`[params, value]`).
    fn email_of(props: &[(&str, &str)]) -> Option<String> {
        let props: Vec<String> = props
            .iter()
            .map(|(params, v)| format!(r#"["email",{params},"text","{v}"]"#))
            .collect();
        let body = net(&format!(
            r#""startAddress":"10.0.0.0","endAddress":"10.0.0.255",
            "entities":[{{"handle":"E","vcardArray":["vcard",[["fn",{{}},"text","N"],{}]]}}]"#,
            props.join(",")
        ));
        ok(&body, "10.0.0.1").entities[0].email.clone()
    }

    #[test]
    fn the_email_typed_abuse_wins_then_the_preferred_then_the_first() {
        // Issue 14: RIPE's own 193.0.6.139 (ops@ typed email, abuse@ typed abuse).
        let n = ok(fixture!("ripe/ripe-193.0.6.139.json"), "193.0.6.139");
        assert_eq!(ent(&n, "OPS4-RIPE").email, s("abuse@ripe.net"));
        assert_eq!(
            email_of(&[
                (r#"{"type":"email"}"#, "ops@x"),
                (r#"{"type":"abuse"}"#, "abuse@x")
            ]),
            s("abuse@x")
        );
        // Any case, an array, comma-joined values, an upper-case key.
        for params in [
            r#"{"type":"ABUSE"}"#,
            r#"{"type":["work","Abuse"]}"#,
            r#"{"type":"work,abuse"}"#,
            r#"{"TYPE":"abuse"}"#,
        ] {
            assert_eq!(
                email_of(&[(r#"{"pref":"1"}"#, "pref@x"), (params, "abuse@x")]),
                s("abuse@x"),
                "{params}"
            );
        }
        // The first abuse-typed one of several.
        assert_eq!(
            email_of(&[
                (r#"{"type":"abuse"}"#, "a1@x"),
                (r#"{"type":"abuse"}"#, "a2@x")
            ]),
            s("a1@x")
        );
        // No abuse type: the lowest pref (string or number), the first of equals.
        assert_eq!(
            email_of(&[("{}", "first@x"), (r#"{"pref":"1"}"#, "pref@x")]),
            s("pref@x")
        );
        assert_eq!(
            email_of(&[
                (r#"{"pref":3}"#, "p3@x"),
                (r#"{"pref":2}"#, "p2@x"),
                (r#"{"pref":"2"}"#, "p2b@x")
            ]),
            s("p2@x")
        );
        // Neither: the first; unreadable parameters count as none.
        assert_eq!(
            email_of(&[
                ("[]", "first@x"),
                (r#"{"type":7,"pref":"high"}"#, "second@x")
            ]),
            s("first@x")
        );
        assert_eq!(
            email_of(&[(r#"{"type":"work"}"#, "work@x"), ("null", "n@x")]),
            s("work@x")
        );
        // An abuse-typed property without a value does not count.
        assert_eq!(
            email_of(&[("{}", "first@x"), (r#"{"type":"abuse"}"#, "")]),
            s("first@x")
        );
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
