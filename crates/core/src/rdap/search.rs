//! RFC 9910 RIR search: relations, request paths, and answer bytes → what
//! they mean. Pure: never does I/O, never panics.
//!
//! A search is `GET {base}ips/rirSearch1/{relation}/{key}` with the key an
//! address or `prefix/len` (ARIN takes nothing else, so ipcrawl always sends
//! CIDR keys). `rdap-up` and `rdap-top` answer one network object, like a
//! lookup; `rdap-down` and `rdap-bottom` answer
//! `{"ipSearchResults": [network, ...], "notices": [...]}` (see
//! `tests/fixtures/rdap/search/` for real answers and DESIGN §6.1).
//!
//! Every member goes through the same object reader as a lookup answer
//! ([`super::parse`]), under the same per-network caps (its size at most
//! [`super::parse::MAX_BODY`], at most [`super::parse::MAX_VALUES`] JSON
//! values, and the entity, text and list caps listed there), with the
//! search's own placement rule instead of the lookup's "contains the query":
//! - a member of a down/bottom set must lie inside the key; a member outside
//!   it (or too broad to trust, or unreadable) refuses the whole answer
//!   ([`SearchError::Member`]): a server that sends one is broken or hostile,
//!   and the crawl then asks again or sweeps that key instead;
//! - a placeholder member is kept flagged when it lies inside the key and
//!   dropped (counted) when it does not: it owns nothing either way;
//! - an up/top answer must cover the key.
//!
//! What the HTTP status and body mean ([`classify`]):
//! - 200 with `ipSearchResults`: the set; cut by the server when a notice or
//!   remark says so (`"type": "result set truncated due to …"`, a title
//!   with "truncated" or RIPE's "limited search results to N maximum"), or
//!   when the answer carries `paging_metadata` or a `next` link
//!   ([`SetAnswer::truncated`]): the crawl splits the key and asks again;
//! - 404 with an `ipSearchResults` member (ARIN's empty set): empty; 404
//!   without one: nothing there for up/top, a refusal for down/bottom (RIPE's
//!   "Redirect URI not found" for a key spanning several holders: split it);
//! - 400 "Too Many Rows" (RIPE, above 10,000 results) or another 400/413 that
//!   says the set is too large: split; another 400: the key was refused;
//! - 501: the registry has no search.
//!
//! Support is read from `{base}help` ([`supports_search`]), never guessed
//! from a status.

use std::fmt;

use super::json::{self, Value};
use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::parse::{
    check_depth, check_shape, decode, error_code, network_from_object, text, texts, ParseError,
};
use super::Network;
use crate::prefix::{fmt_addr, Cidr, Range};

/// Largest search answer accepted (64 MiB): RIPE's largest set (10,000
/// objects) is about 30 MB. A bigger answer is refused and its key split.
pub const MAX_SET_BODY: usize = 64 * 1024 * 1024;

/// Most members read from one set answer. Beyond it the answer is treated as
/// cut (the key is split), so a hostile server cannot make one answer hold
/// the crawl's memory.
pub const MAX_SET_MEMBERS: usize = 20_000;

/// The four RFC 9910 relations.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Relation {
    /// `rdap-up`: the immediate parent (one object).
    Up,
    /// `rdap-top`: the least-specific covering network (one object).
    Top,
    /// `rdap-down`: the maximal networks strictly inside the key (a set).
    Down,
    /// `rdap-bottom`: the most-specific networks inside the key, plus the
    /// networks whose children leave gaps (a set).
    Bottom,
}

impl Relation {
    /// The path segment: `rdap-up`, `rdap-top`, `rdap-down`, `rdap-bottom`.
    pub fn segment(self) -> &'static str {
        match self {
            Relation::Up => "rdap-up",
            Relation::Top => "rdap-top",
            Relation::Down => "rdap-down",
            Relation::Bottom => "rdap-bottom",
        }
    }

    /// Whether the answer is a set (`ipSearchResults`) rather than one object.
    pub fn is_set(self) -> bool {
        matches!(self, Relation::Down | Relation::Bottom)
    }
}

impl fmt::Display for Relation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.segment())
    }
}

/// What a search is about: a CIDR (every registry), or a range (RIPE NCC
/// also takes its range handles, `a.b.c.d - e.f.g.h`, percent-encoded).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Key {
    /// An address (`/32`) or a prefix.
    Cidr(Cidr),
    /// Any range (only for registries that accept range keys).
    Range(Range),
}

impl Key {
    /// The addresses the key names.
    pub fn range(self) -> Range {
        match self {
            Key::Cidr(c) => c.range(),
            Key::Range(r) => r,
        }
    }

    /// The key for `r`: its CIDR when it is one, else the range itself.
    pub fn of(r: Range) -> Key {
        r.as_cidr().map_or(Key::Range(r), Key::Cidr)
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Key::Cidr(c) if c.len() == 32 => f.write_str(&fmt_addr(c.addr())),
            Key::Cidr(c) => write!(f, "{c}"),
            Key::Range(r) => write!(f, "{} - {}", fmt_addr(r.start), fmt_addr(r.end)),
        }
    }
}

/// The request path of a search, relative to the registry's base URL:
/// `ips/rirSearch1/rdap-bottom/185.0.0.0/8`, a bare address for a /32,
/// `a.b.c.d%20-%20e.f.g.h` for a range. Up and top ask `?status=active`, so
/// administrative placeholders (ARIN's `/8` records) are skipped as RFC 9910
/// describes.
pub fn path(rel: Relation, key: Key) -> String {
    let k = key.to_string().replace(' ', "%20");
    let q = if rel.is_set() { "" } else { "?status=active" };
    format!("ips/rirSearch1/{}/{k}{q}", rel.segment())
}

/// One member of a result set: the parsed network and its own JSON, as sent
/// (stored as the network's raw answer).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    /// The parsed network (placeholders flagged).
    pub network: Network,
    /// The member's JSON text, byte for byte.
    pub raw: Vec<u8>,
}

/// A down/bottom result set.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SetAnswer {
    /// The members, in the order sent.
    pub members: Vec<Member>,
    /// The server cut the set (a truncation notice, paging, or more than
    /// [`MAX_SET_MEMBERS`] members): split the key and ask again.
    pub truncated: bool,
    /// Placeholder members outside the key, dropped.
    pub dropped_placeholders: u32,
}

/// Why a search answer was not accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SearchError {
    /// The body as a whole is unreadable (size, UTF-8, depth, JSON, shape).
    Body(ParseError),
    /// A set answer without an `ipSearchResults` array.
    NoResults,
    /// Member `index` of the set was refused.
    Member {
        /// Position in `ipSearchResults` (from 0).
        index: usize,
        /// Why.
        error: ParseError,
    },
}

impl fmt::Display for SearchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SearchError::Body(e) => write!(f, "search answer refused: {e}"),
            SearchError::NoResults => {
                f.write_str("search answer has no ipSearchResults array: expected RFC 9910 results")
            }
            SearchError::Member { index, error } => {
                write!(
                    f,
                    "search answer refused: ipSearchResults[{index}]: {error}"
                )
            }
        }
    }
}

impl std::error::Error for SearchError {}

/// What one search exchange means for the crawl.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SearchReply {
    /// A down/bottom set (possibly empty, possibly cut).
    Set(SetAnswer),
    /// The one network of an up/top answer, and the body.
    One(Box<Network>, Vec<u8>),
    /// Nothing there (up/top 404: no parent, or the key is top-level).
    NoneThere,
    /// The set is too large for the server (RIPE's 400 "Too Many Rows") or
    /// refused for a key spanning several holders: split the key.
    Split(String),
    /// The server has no search (501).
    Unsupported(String),
    /// Another 4xx: the key itself was refused; asking again will not help.
    Refused(String),
    /// An answer that cannot be trusted or read (retry, then fail).
    Bad(SearchError),
}

/// Reads a search answer of `status` for `rel` on `key`. Rate limits (429),
/// server errors (5xx) and redirects are the caller's: they mean the same
/// as for lookups.
pub fn classify(rel: Relation, key: Range, status: u16, body: &[u8]) -> SearchReply {
    match status {
        200 if rel.is_set() => match parse_set(body, key) {
            Ok(s) => SearchReply::Set(s),
            Err(e) => SearchReply::Bad(e),
        },
        200 => match parse_one(body, key) {
            Ok(n) => SearchReply::One(Box::new(n), body.to_vec()),
            Err(e) => SearchReply::Bad(SearchError::Body(e)),
        },
        404 if rel.is_set() => match parse_set(body, key) {
            Ok(s) if s.members.is_empty() && !s.truncated => SearchReply::Set(s),
            // A 404 that is no (empty) result set: RIPE refuses a key
            // spanning several holders' space this way.
            _ => SearchReply::Split(format!("HTTP 404{}", title_of(body))),
        },
        404 => SearchReply::NoneThere,
        501 => SearchReply::Unsupported(format!("HTTP 501{}", title_of(body))),
        400 | 413 | 422 if says_too_large(body) => {
            SearchReply::Split(format!("HTTP {status}{}", title_of(body)))
        }
        _ => SearchReply::Refused(format!("HTTP {status}{}", title_of(body))),
    }
}

/// `: "title"` of an error body, for messages; empty when there is none.
fn title_of(body: &[u8]) -> String {
    super::parse::parse_error_body(body)
        .and_then(|e| e.title.or(e.description))
        .map(|t| {
            let short: String = t.chars().take(80).collect();
            format!(": {short:?}")
        })
        .unwrap_or_default()
}

/// Whether an error body says the result set is too large.
fn says_too_large(body: &[u8]) -> bool {
    super::parse::parse_error_body(body).is_some_and(|e| {
        let all = format!(
            "{} {}",
            e.title.unwrap_or_default(),
            e.description.unwrap_or_default()
        )
        .to_lowercase();
        all.contains("too many") || all.contains("too large") || all.contains("result size")
    })
}

/// An up/top answer: one network that must cover `key`.
pub fn parse_one(body: &[u8], key: Range) -> Result<Network, ParseError> {
    let root = decode(body)?;
    network_from_object(&root, &|range, _, _| {
        if range.contains_range(&key) {
            Ok(())
        } else {
            Err(ParseError::Outside {
                range,
                queried: key,
            })
        }
    })
}

/// A down/bottom answer. The body is read member by member (never as one
/// JSON tree), so memory is the body plus one member at a time plus the
/// parsed networks.
pub fn parse_set(body: &[u8], key: Range) -> Result<SetAnswer, SearchError> {
    if body.len() > MAX_SET_BODY {
        return Err(SearchError::Body(ParseError::TooLarge { len: body.len() }));
    }
    let text = std::str::from_utf8(body).map_err(|e| {
        SearchError::Body(ParseError::Utf8 {
            offset: e.valid_up_to(),
        })
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.trim().is_empty() {
        return Err(SearchError::Body(ParseError::Empty));
    }
    check_depth(text.as_bytes(), super::parse::MAX_DEPTH).map_err(SearchError::Body)?;
    let mut state = SetState {
        key,
        answer: SetAnswer::default(),
        seen_results: false,
        member_error: None,
        error_body: None,
    };
    let mut de = serde_json::Deserializer::from_str(text);
    TopLevel(&mut state)
        .deserialize(&mut de)
        .and_then(|()| de.end())
        .map_err(|e| {
            if e.is_data() {
                SearchError::Body(ParseError::NotObject("non-object value"))
            } else {
                SearchError::Body(ParseError::Json(e.to_string()))
            }
        })?;
    if let Some(e) = state.member_error {
        return Err(e);
    }
    if let Some(e) = state.error_body {
        return Err(SearchError::Body(e));
    }
    if !state.seen_results {
        return Err(SearchError::NoResults);
    }
    Ok(state.answer)
}

struct SetState {
    key: Range,
    answer: SetAnswer,
    seen_results: bool,
    member_error: Option<SearchError>,
    error_body: Option<ParseError>,
}

impl SetState {
    /// Takes one `ipSearchResults` member.
    fn member(&mut self, index: usize, raw: &str) {
        if self.member_error.is_some() {
            return;
        }
        if self.answer.members.len() >= MAX_SET_MEMBERS {
            self.answer.truncated = true;
            return;
        }
        // The lookup answer's caps hold for each member: its size, and its
        // JSON values before a tree is built (the set's depth is checked).
        let shape = if raw.len() > super::parse::MAX_BODY {
            Err(ParseError::TooLarge { len: raw.len() })
        } else {
            check_shape(raw.as_bytes(), usize::MAX, super::parse::MAX_VALUES)
        };
        if let Err(error) = shape {
            self.member_error = Some(SearchError::Member { index, error });
            return;
        }
        let v = match json::from_str(raw) {
            Ok(v) => v,
            Err(e) => {
                self.member_error = Some(SearchError::Member {
                    index,
                    error: ParseError::Json(e.to_string()),
                });
                return;
            }
        };
        let Some(obj) = v.as_object() else {
            self.member_error = Some(SearchError::Member {
                index,
                error: ParseError::NotObject(v.kind()),
            });
            return;
        };
        let key = self.key;
        // Placement is checked after the object is read: placeholders may
        // lie anywhere (they are dropped outside the key), networks not.
        match network_from_object(obj, &|_, _, _| Ok(())) {
            Ok(network) if key.contains_range(&network.range) => self.answer.members.push(Member {
                network,
                raw: raw.as_bytes().to_vec(),
            }),
            Ok(n) if n.placeholder => self.answer.dropped_placeholders += 1,
            Ok(n) => {
                self.member_error = Some(SearchError::Member {
                    index,
                    error: ParseError::Outside {
                        range: n.range,
                        queried: key,
                    },
                });
            }
            Err(error) => self.member_error = Some(SearchError::Member { index, error }),
        }
    }

    /// Looks at the top-level `notices` / `remarks` for a truncation notice.
    fn notices(&mut self, v: &Value<'_>) {
        let Some(items) = v.as_array() else { return };
        for n in items.iter().filter_map(Value::as_object) {
            let mut words: Vec<String> = ["type", "title"]
                .iter()
                .filter_map(|k| n.get(k).and_then(text))
                .collect();
            if let Some(d) = n.get("description") {
                words.extend(texts(d));
            }
            if words.iter().any(|w| is_truncation_text(w)) {
                self.answer.truncated = true;
            }
        }
    }

    fn links(&mut self, v: &Value<'_>) {
        let Some(items) = v.as_array() else { return };
        let next = items.iter().filter_map(Value::as_object).any(|l| {
            l.get("rel")
                .and_then(Value::as_str)
                .is_some_and(|r| r.split_whitespace().any(|t| t.eq_ignore_ascii_case("next")))
        });
        if next {
            self.answer.truncated = true;
        }
    }
}

/// Whether a notice text says the result set was cut: RFC 9083 §10.2.1's
/// `result set truncated due to …` types, a title with "truncated", RIPE's
/// "limited search results to N maximum".
pub fn is_truncation_text(s: &str) -> bool {
    let l = s.to_lowercase();
    l.contains("truncat") || (l.contains("limited") && l.contains("maximum"))
}

/// The top-level object of a set answer, visited member by member.
struct TopLevel<'a>(&'a mut SetState);

impl<'de> DeserializeSeed<'de> for TopLevel<'_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for TopLevel<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an RDAP search result object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let state = self.0;
        while let Some(k) = map.next_key::<String>()? {
            match k.as_str() {
                "ipSearchResults" => {
                    state.seen_results = true;
                    map.next_value_seed(Members(state))?;
                }
                "notices" | "remarks" => {
                    let v: Value<'de> = map.next_value()?;
                    state.notices(&v);
                }
                "links" => {
                    let v: Value<'de> = map.next_value()?;
                    state.links(&v);
                }
                "paging_metadata" | "pagingMetadata" => {
                    map.next_value::<IgnoredAny>()?;
                    state.answer.truncated = true;
                }
                "errorCode" => {
                    let v: Value<'de> = map.next_value()?;
                    state.error_body = Some(ParseError::ErrorBody {
                        code: error_code(&v),
                        title: None,
                    });
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

/// The `ipSearchResults` array, one member at a time.
struct Members<'a>(&'a mut SetState);

impl<'de> DeserializeSeed<'de> for Members<'_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Members<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of ip network objects")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let state = self.0;
        let mut index = 0;
        while let Some(raw) = seq.next_element::<&serde_json::value::RawValue>()? {
            state.member(index, raw.get());
            index += 1;
        }
        Ok(())
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<(), E> {
        // `"ipSearchResults": null`: no results array after all.
        self.0.seen_results = false;
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        self.0.seen_results = false;
        Ok(())
    }
}

/// The `rdapConformance` of a `{base}help` answer (any shape: an array, or
/// one joined string), lower-cased.
pub fn help_conformance(body: &[u8]) -> Result<Vec<String>, ParseError> {
    let root = decode(body)?;
    let Some(c) = root.get("rdapConformance") else {
        return Ok(Vec::new());
    };
    Ok(texts(c)
        .iter()
        .flat_map(|t| t.split([',', ' ']).map(str::to_string).collect::<Vec<_>>())
        .map(|t| t.trim().to_lowercase())
        .filter(|t| !t.is_empty())
        .collect())
}

/// Whether a `help` conformance list says the server answers RFC 9910 IP
/// searches: `rirSearch1` and `ips` (and the `ipSearchResults` result type).
pub fn supports_search(conformance: &[String]) -> bool {
    let has = |w: &str| conformance.iter().any(|c| c.eq_ignore_ascii_case(w));
    has("rirsearch1") && has("ips") && has("ipsearchresults")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prefix::parse_addr_lenient;

    fn a(s: &str) -> u32 {
        parse_addr_lenient(s).unwrap()
    }

    fn key(s: &str) -> Range {
        s.parse::<Cidr>().unwrap().range()
    }

    fn fixture(name: &str) -> Vec<u8> {
        let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/fixtures/rdap-search")
            .join(name);
        std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
    }

    fn net(start: &str, end: &str, extra: &str) -> String {
        format!(
            r#"{{"objectClassName":"ip network","handle":"{start} - {end}","startAddress":"{start}","endAddress":"{end}","name":"N"{extra}}}"#
        )
    }

    fn set(members: &[String], tail: &str) -> Vec<u8> {
        format!(
            r#"{{"rdapConformance":["rirSearch1","ips","ipSearchResults"],"ipSearchResults":[{}]{tail}}}"#,
            members.join(",")
        )
        .into_bytes()
    }

    #[test]
    fn paths_use_cidr_keys_and_active_status_for_single_answers() {
        let k = Key::Cidr("185.0.0.0/8".parse().unwrap());
        assert_eq!(
            path(Relation::Bottom, k),
            "ips/rirSearch1/rdap-bottom/185.0.0.0/8"
        );
        assert_eq!(
            path(Relation::Top, k),
            "ips/rirSearch1/rdap-top/185.0.0.0/8?status=active"
        );
        let one = Key::Cidr(Cidr::new(a("1.2.3.4"), 32).unwrap());
        assert_eq!(
            path(Relation::Up, one),
            "ips/rirSearch1/rdap-up/1.2.3.4?status=active"
        );
        let r = Range::new(a("88.208.0.0"), a("88.208.2.127")).unwrap();
        assert_eq!(Key::of(r), Key::Range(r));
        assert_eq!(
            path(Relation::Up, Key::of(r)),
            "ips/rirSearch1/rdap-up/88.208.0.0%20-%2088.208.2.127?status=active"
        );
        assert_eq!(Key::of(k.range()), k);
    }

    #[test]
    fn real_arin_bottom_and_down_sets_parse() {
        let b = parse_set(
            &fixture("arin-rdap-bottom-149.112.152.0_22.json"),
            key("149.112.152.0/22"),
        )
        .unwrap();
        let handles: Vec<&str> = b
            .members
            .iter()
            .map(|m| m.network.handle.as_str())
            .collect();
        assert_eq!(handles, ["NET-149-112-154-0-1", "NET-149-112-152-0-1"]);
        assert!(!b.truncated);
        assert_eq!(
            b.members[0].network.parent_handle.as_deref(),
            Some("NET-149-112-152-0-1")
        );
        // Each member keeps its own JSON, which reads back as the same network.
        let again = parse_one(&b.members[1].raw, key("149.112.152.0/22")).unwrap();
        assert_eq!(again, b.members[1].network);
        let d = parse_set(
            &fixture("arin-rdap-down-149.112.152.0_21.json"),
            key("149.112.152.0/21"),
        )
        .unwrap();
        assert_eq!(d.members.len(), 1);
        assert_eq!(
            d.members[0].network.range,
            Range::new(a("149.112.152.0"), a("149.112.155.255")).unwrap()
        );
    }

    #[test]
    fn real_arin_up_and_top_answers_cover_the_key() {
        let up = parse_one(
            &fixture("arin-rdap-up-149.112.152.0.json"),
            key("149.112.152.0/32"),
        )
        .unwrap();
        assert_eq!(up.handle, "NET-149-112-152-0-1");
        // ARIN's top without ?status=active: the administrative /8, a placeholder.
        let top = parse_one(
            &fixture("arin-rdap-top-149.112.152.0_22.json"),
            key("149.112.152.0/22"),
        )
        .unwrap();
        assert!(top.placeholder);
        assert_eq!(top.handle, "NET-149-0-0-0-0");
        // An up answer that does not cover the key is refused.
        let e = parse_one(
            &fixture("arin-rdap-up-149.112.152.0.json"),
            key("149.112.160.0/24"),
        )
        .unwrap_err();
        assert!(matches!(e, ParseError::Outside { .. }), "{e}");
    }

    #[test]
    fn members_outside_the_key_refuse_the_answer() {
        let body = set(
            &[
                net("10.0.0.0", "10.0.0.255", ""),
                net("10.1.0.0", "10.1.0.255", ""),
            ],
            "",
        );
        let e = parse_set(&body, key("10.0.0.0/16")).unwrap_err();
        assert!(
            matches!(
                e,
                SearchError::Member {
                    index: 1,
                    error: ParseError::Outside { .. }
                }
            ),
            "{e}"
        );
        assert!(e.to_string().contains("ipSearchResults[1]"), "{e}");
        // A non-placeholder 0/0 member: too broad, refused.
        let body = set(&[net("0.0.0.0", "255.255.255.255", "")], "");
        let e = parse_set(&body, key("0.0.0.0/0")).unwrap_err();
        assert!(
            matches!(
                e,
                SearchError::Member {
                    error: ParseError::TooBroad { .. },
                    ..
                }
            ),
            "{e}"
        );
        // An IPv6 member, an unreadable one, a non-object.
        for bad in [
            r#"{"objectClassName":"ip network","ipVersion":"v6","startAddress":"::","endAddress":"::1"}"#.to_string(),
            r#"{"objectClassName":"ip network","startAddress":"x"}"#.to_string(),
            "42".to_string(),
        ] {
            assert!(matches!(
                parse_set(&set(&[bad], ""), key("10.0.0.0/8")),
                Err(SearchError::Member { index: 0, .. })
            ));
        }
    }

    #[test]
    fn placeholders_stay_flagged_inside_and_are_dropped_outside() {
        let body = set(
            &[
                net(
                    "0.0.0.0",
                    "255.255.255.255",
                    r#","name":"IANA-BLOCK","status":["administrative"]"#,
                ),
                net(
                    "10.0.0.0",
                    "10.255.255.255",
                    r#","status":["administrative"]"#,
                ),
                net("10.0.0.0", "10.0.0.255", ""),
            ],
            "",
        );
        let s = parse_set(&body, key("10.0.0.0/8")).unwrap();
        assert_eq!(s.dropped_placeholders, 1);
        assert_eq!(s.members.len(), 2);
        assert!(s.members[0].network.placeholder);
        assert!(!s.members[1].network.placeholder);
    }

    #[test]
    fn truncation_is_read_from_notices_paging_and_next_links() {
        let m = [net("10.0.0.0", "10.0.0.255", "")];
        let cases = [
            (
                r#","notices":[{"title":"Search Policy","type":"result set truncated due to excessive load"}]"#,
                true,
            ),
            (r#","notices":[{"title":"Search results truncated"}]"#, true),
            (
                r#","notices":[{"title":"limited search results to 100 maximum"}]"#,
                true,
            ),
            (
                r#","notices":[{"title":"Terms of Service","description":["By using ..."]}]"#,
                false,
            ),
            (r#","paging_metadata":{"totalCount":50000}"#, true),
            (r#","links":[{"rel":"next","href":"http://x/next"}]"#, true),
            (r#","links":[{"rel":"self","href":"http://x/"}]"#, false),
            ("", false),
        ];
        for (tail, cut) in cases {
            let s = parse_set(&set(&m, tail), key("10.0.0.0/8")).unwrap();
            assert_eq!(s.truncated, cut, "{tail}");
            assert_eq!(s.members.len(), 1);
        }
    }

    /// Each member is held to a lookup answer's caps: a hostile one refuses
    /// the set, whatever its neighbours (and no tree of it is built).
    #[test]
    fn a_hostile_member_refuses_the_set_under_the_lookup_caps() {
        use super::super::parse::{MAX_ENTITIES, MAX_TEXT, MAX_VALUES};
        let good = net("10.0.0.0", "10.0.0.255", "");
        let empties = vec!["{}"; 1_000_000].join(",");
        let wide = net(
            "10.0.1.0",
            "10.0.1.255",
            &format!(r#","entities":[{empties}]"#),
        );
        let many: Vec<String> = (0..=MAX_ENTITIES)
            .map(|i| format!(r#"{{"handle":"E{i}"}}"#))
            .collect();
        let crowded = net(
            "10.0.1.0",
            "10.0.1.255",
            &format!(r#","entities":[{}]"#, many.join(",")),
        );
        let long = net(
            "10.0.1.0",
            "10.0.1.255",
            &format!(r#","country":"{}""#, "x".repeat(MAX_TEXT + 1)),
        );
        for (hostile, want) in [
            (
                wide,
                format!("ipSearchResults[1]: answer holds more than {MAX_VALUES} JSON values"),
            ),
            (
                crowded,
                format!("ipSearchResults[1]: answer has more than {MAX_ENTITIES} entities"),
            ),
            (
                long,
                "ipSearchResults[1]: country is 1025 bytes long (limit 1024)".to_string(),
            ),
        ] {
            let e = parse_set(&set(&[good.clone(), hostile], ""), key("10.0.0.0/16")).unwrap_err();
            assert!(matches!(e, SearchError::Member { index: 1, .. }), "{e}");
            let m = e.to_string();
            assert!(m.contains(&want), "{m}");
            assert!(!m.contains('\n'));
        }
    }

    #[test]
    fn too_many_members_count_as_a_cut_set() {
        let members: Vec<String> = (0..MAX_SET_MEMBERS as u32 + 5)
            .map(|i| {
                let s = fmt_addr((10 << 24) + i * 4);
                let e = fmt_addr((10 << 24) + i * 4 + 3);
                net(&s, &e, "")
            })
            .collect();
        let s = parse_set(&set(&members, ""), key("10.0.0.0/8")).unwrap();
        assert!(s.truncated);
        assert_eq!(s.members.len(), MAX_SET_MEMBERS);
    }

    #[test]
    fn bodies_that_are_not_result_sets() {
        let k = key("10.0.0.0/8");
        assert!(matches!(
            parse_set(b"", k),
            Err(SearchError::Body(ParseError::Empty))
        ));
        assert!(matches!(
            parse_set(b"[1,2]", k),
            Err(SearchError::Body(ParseError::NotObject(_)))
        ));
        assert!(matches!(
            parse_set(br#"{"ipSearchResults":[{"#, k),
            Err(SearchError::Body(ParseError::Json(_)))
        ));
        assert!(matches!(
            parse_set(br#"{"notices":[]}"#, k),
            Err(SearchError::NoResults)
        ));
        assert!(matches!(
            parse_set(br#"{"ipSearchResults":null}"#, k),
            Err(SearchError::NoResults)
        ));
        let deep = format!(
            r#"{{"ipSearchResults":{}{}}}"#,
            "[".repeat(100),
            "]".repeat(100)
        );
        assert!(matches!(
            parse_set(deep.as_bytes(), k),
            Err(SearchError::Body(ParseError::TooDeep { .. }))
        ));
        assert!(matches!(
            parse_set(&[0xff, 0xfe], k),
            Err(SearchError::Body(ParseError::Utf8 { .. }))
        ));
        let huge = vec![b' '; MAX_SET_BODY + 1];
        assert!(matches!(
            parse_set(&huge, k),
            Err(SearchError::Body(ParseError::TooLarge { .. }))
        ));
    }

    #[test]
    fn statuses_mean_what_the_servers_mean() {
        let k = key("10.0.0.0/8");
        let empty = br#"{"rdapConformance":["rirSearch1"],"ipSearchResults":[]}"#;
        // ARIN: 404 with an empty set; RIPE: 200 with an empty set.
        assert_eq!(
            classify(Relation::Down, k, 404, empty),
            SearchReply::Set(SetAnswer::default())
        );
        assert_eq!(
            classify(Relation::Bottom, k, 200, empty),
            SearchReply::Set(SetAnswer::default())
        );
        // RIPE's refusal of a key spanning several holders: split.
        let redirect =
            br#"{"errorCode":404,"title":"Not Found","description":["Redirect URI not found"]}"#;
        assert!(matches!(
            classify(Relation::Bottom, k, 404, redirect),
            SearchReply::Split(_)
        ));
        assert_eq!(
            classify(Relation::Top, k, 404, redirect),
            SearchReply::NoneThere
        );
        let too_many = br#"{"errorCode":400,"title":"Too Many Rows","description":["The result size is too large"]}"#;
        match classify(Relation::Bottom, k, 400, too_many) {
            SearchReply::Split(m) => assert!(m.contains("Too Many Rows"), "{m}"),
            other => panic!("{other:?}"),
        }
        let bad_key = br#"{"errorCode":400,"title":"Bad Request","description":["'10.0' is not an IP string literal."]}"#;
        assert!(matches!(
            classify(Relation::Down, k, 400, bad_key),
            SearchReply::Refused(_)
        ));
        assert!(matches!(
            classify(Relation::Down, k, 501, b"{}"),
            SearchReply::Unsupported(_)
        ));
        let outside = set(&[net("11.0.0.0", "11.0.0.255", "")], "");
        assert!(matches!(
            classify(Relation::Down, k, 200, &outside),
            SearchReply::Bad(SearchError::Member { .. })
        ));
    }

    #[test]
    fn help_conformance_says_who_serves_search() {
        let ripe = br#"{"rdapConformance":["cidr0","rdap_level_0","nro_rdap_profile_0","rirSearch1","ips","ipSearchResults","autnums","autnumSearchResults"]}"#;
        assert!(supports_search(&help_conformance(ripe).unwrap()));
        let apnic = br#"{"rdapConformance":["history_version_0","nro_rdap_profile_0","cidr0","rdap_level_0"]}"#;
        assert!(!supports_search(&help_conformance(apnic).unwrap()));
        // One joined string (an old server's habit) still reads.
        let joined = br#"{"rdapConformance":"rdap_level_0, rirSearch1, ips, ipSearchResults"}"#;
        assert!(supports_search(&help_conformance(joined).unwrap()));
        assert!(help_conformance(b"not json").is_err());
        assert!(help_conformance(br#"{"notices":[]}"#).unwrap().is_empty());
    }

    #[test]
    fn no_byte_sequence_panics() {
        let base = set(
            &[
                net("10.0.0.0", "10.0.0.255", ""),
                net("10.0.1.0", "10.0.1.255", ""),
            ],
            r#","notices":[{"title":"Search results truncated"}]"#,
        );
        let mut rng = crate::rng::SplitMix64::new(7);
        for _ in 0..3000 {
            let mut b = base.clone();
            for _ in 0..=(rng.next_u64() % 4) {
                let i = (rng.next_u64() as usize) % b.len();
                b[i] = rng.next_u64() as u8;
            }
            let cut = (rng.next_u64() as usize) % (b.len() + 1);
            for body in [&b[..], &b[..cut]] {
                let _ = classify(Relation::Bottom, key("10.0.0.0/8"), 200, body);
                let _ = classify(Relation::Up, key("10.0.0.0/24"), 200, body);
                let _ = help_conformance(body);
            }
        }
    }
}
