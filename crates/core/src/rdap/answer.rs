//! What an exchange with a registry means for the crawl: [`classify`], the
//! one place holding the rules "is this a network, a gap, a rate limit, worth
//! a retry, or refused?".
//!
//! | exchange | answer |
//! |---|---|
//! | 200 or 403 whose body carries LACNIC's "Rate Limit Notice" | [`Answer::RateLimited`] (with `Retry-After` when sent) |
//! | 200 that parses as an IPv4 network containing the query (placeholders included) | [`Answer::Network`] |
//! | 200 that is not JSON or is empty (a truncated answer) | [`Answer::Retry`] |
//! | 200 refused by the parser (error body, IPv6, outside the query, too broad, ...) | [`Answer::Refused`] |
//! | 200 that echoes the query (LACNIC's 2015 bug: handle, start and end all the queried address) | [`Answer::RefusedForGood`] |
//! | 404 | [`Answer::NotFound`] (a gap, not a failure) |
//! | 429 | [`Answer::RateLimited`] |
//! | 5xx | [`Answer::Retry`] |
//! | any other status | [`Answer::Refused`] |
//! | DNS failure, connect refused or timed out, no route, request timeout, reset, unreadable body | [`Answer::Retry`] |
//! | bad URI, TLS failure, body over the limit, bad redirect or link | [`Answer::Refused`] |
//!
//! Pure: the parse runs here, in the caller's (worker) thread, so the CPU
//! work stays parallel; no I/O.

use super::parse::{is_rate_limit_notice, parse_network, ParseError};
use super::search::{self, Key, Relation, SearchError, SearchReply};
use super::{Broken, Exchange, Network, Registry, Transport};
use crate::prefix::Range;

/// A classified lookup result: what the crawl acts on.
#[derive(Clone, Debug)]
pub enum Answer {
    /// A network (or placeholder) answer.
    Network(Answered),
    /// No network here (404): a gap.
    NotFound,
    /// Over the registry's limit (429 or a rate-limit notice).
    RateLimited {
        /// Registry that limited us.
        registry: Registry,
        /// Seconds from `Retry-After`, when given.
        retry_after: Option<u64>,
    },
    /// A failure worth retrying (5xx, timeout, reset, truncated body); the
    /// reason, one line.
    Retry(String),
    /// A failure retrying will not fix (other statuses, answers refused by
    /// the parser, bad redirects); the reason, one line.
    Refused(String),
    /// A refused answer the registry gives the same way every time (its
    /// 2015-style echo of the query): recorded once as a permanent refusal,
    /// which later crawls do not ask again; the reason, one line.
    RefusedForGood(String),
}

/// A network (or placeholder) answer, parsed.
#[derive(Clone, Debug)]
pub struct Answered {
    /// The network.
    pub network: Box<Network>,
    /// Registry that answered (after redirects).
    pub registry: Registry,
    /// URL that answered.
    pub url: String,
    /// Raw body.
    pub raw: Vec<u8>,
}

/// Decides what `exchange`, a lookup whose answer must contain `queried`,
/// means (see the module docs for the table).
pub fn classify(exchange: Exchange, queried: Range) -> Answer {
    match exchange {
        Exchange::Broken { cause, reason, .. } => match cause {
            // A certificate or handshake failure does not fix itself in seconds.
            Broken::Transport(Transport::Tls)
            | Broken::Setup
            | Broken::TooLarge
            | Broken::Route => Answer::Refused(reason),
            Broken::Transport(_) => Answer::Retry(reason),
        },
        Exchange::Response {
            registry,
            url,
            status,
            retry_after,
            body,
            ..
        } => match status {
            200 | 403 if is_rate_limit_notice(&body) => Answer::RateLimited {
                registry,
                retry_after,
            },
            200 => network(registry, url, body, retry_after, queried),
            404 => Answer::NotFound,
            429 => Answer::RateLimited {
                registry,
                retry_after,
            },
            500..=599 => Answer::Retry(format!("HTTP {status} from {url}")),
            _ => Answer::Refused(format!("HTTP {status} from {url}")),
        },
    }
}

/// A 200 body: a network, or why not.
fn network(
    registry: Registry,
    url: String,
    body: Vec<u8>,
    retry_after: Option<u64>,
    queried: Range,
) -> Answer {
    match parse_network(&body, queried) {
        Ok(n) => Answer::Network(Answered {
            network: Box::new(n),
            registry,
            url,
            raw: body,
        }),
        Err(ParseError::RateLimited) => Answer::RateLimited {
            registry,
            retry_after,
        },
        // Broken JSON (a truncated body) is worth asking again; an answer
        // that parsed but was refused is not.
        Err(e @ (ParseError::Json(_) | ParseError::Empty)) => Answer::Retry(format!("{url}: {e}")),
        Err(e @ ParseError::EchoesQuery { .. }) => Answer::RefusedForGood(format!("{url}: {e}")),
        Err(e) => Answer::Refused(format!("{url}: {e}")),
    }
}

/// A classified RFC 9910 search exchange (see [`search::classify`] for
/// what each status and body means; rate limits, server errors and broken
/// exchanges mean what they mean for lookups).
#[derive(Clone, Debug)]
pub enum SearchAnswer {
    /// The server's answer, read.
    Reply {
        /// Registry that answered (after redirects).
        registry: Registry,
        /// URL that answered.
        url: String,
        /// What it means.
        reply: SearchReply,
    },
    /// Over the registry's limit.
    RateLimited {
        /// Registry that limited us.
        registry: Registry,
        /// Seconds from `Retry-After`, when given.
        retry_after: Option<u64>,
    },
    /// Worth asking again (5xx, transport, a truncated body).
    Retry(String),
    /// Not worth asking again (a refused answer, a bad route).
    Refused(String),
}

/// Decides what a search exchange for `rel` on `key` means.
pub fn classify_search(exchange: Exchange, rel: Relation, key: Key) -> SearchAnswer {
    match exchange {
        Exchange::Broken { cause, reason, .. } => match cause {
            Broken::Transport(_) => SearchAnswer::Retry(reason),
            Broken::Setup | Broken::TooLarge | Broken::Route => SearchAnswer::Refused(reason),
        },
        Exchange::Response {
            registry,
            url,
            status,
            retry_after,
            body,
            ..
        } => match status {
            200 | 403 if is_rate_limit_notice(&body) => SearchAnswer::RateLimited {
                registry,
                retry_after,
            },
            429 => SearchAnswer::RateLimited {
                registry,
                retry_after,
            },
            500 | 502..=504 => SearchAnswer::Retry(format!("HTTP {status} from {url}")),
            _ => match search::classify(rel, key.range(), status, &body) {
                SearchReply::Bad(SearchError::Body(
                    e @ (ParseError::Json(_) | ParseError::Empty),
                )) => SearchAnswer::Retry(format!("{url}: {e}")),
                SearchReply::Bad(e) => SearchAnswer::Refused(format!("{url}: {e}")),
                reply => SearchAnswer::Reply {
                    registry,
                    url,
                    reply,
                },
            },
        },
    }
}

/// What a registry's `help` says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HelpAnswer {
    /// Its conformance (lower case); whether it serves search is
    /// [`search::supports_search`] of it.
    Conformance(Vec<String>),
    /// No usable help (404, 501, an unreadable body): no search.
    Unusable(String),
    /// Over the registry's limit.
    RateLimited {
        /// Seconds from `Retry-After`, when given.
        retry_after: Option<u64>,
    },
    /// Worth asking again.
    Retry(String),
}

/// Decides what a `help` exchange means.
pub fn classify_help(exchange: Exchange) -> HelpAnswer {
    match exchange {
        Exchange::Broken { cause, reason, .. } => match cause {
            Broken::Transport(_) => HelpAnswer::Retry(reason),
            Broken::Setup | Broken::TooLarge | Broken::Route => HelpAnswer::Unusable(reason),
        },
        Exchange::Response {
            url,
            status,
            retry_after,
            body,
            ..
        } => match status {
            429 => HelpAnswer::RateLimited { retry_after },
            200 | 403 if is_rate_limit_notice(&body) => HelpAnswer::RateLimited { retry_after },
            500 | 502..=504 => HelpAnswer::Retry(format!("HTTP {status} from {url}")),
            200 => search::help_conformance(&body).map_or_else(
                |e| HelpAnswer::Unusable(format!("{url}: {e}")),
                HelpAnswer::Conformance,
            ),
            _ => HelpAnswer::Unusable(format!("HTTP {status} from {url}")),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prefix::parse_range_lenient;

    macro_rules! fixture {
        ($path:literal) => {
            include_bytes!(concat!("../../../../tests/fixtures/rdap/", $path)).as_slice()
        };
    }

    /// Body kinds, each a real registry answer where one exists.
    const NETWORK: &[u8] = fixture!("ripe/ripe-193.0.6.139.json");
    const PLACEHOLDER: &[u8] = fixture!("afrinic/afrinic-0.0.0.0-placeholder-2022-12-17.json");
    const ERROR_BODY: &[u8] = fixture!("errors/apnic-400-bad-request.json");
    /// LACNIC's over-limit answer, as the local world renders it.
    const NOTICE: &[u8] = br#"{"notices":[{"title":"Rate Limit Notice","description":["Too many requests."]}],"errorCode":429,"title":"Rate Limit Notice"}"#;
    const HTML_NOTICE: &[u8] = b"<html><body>Rate Limit Notice</body></html>";
    const HTML: &[u8] = b"<html><body>Service Unavailable</body></html>";
    const EMPTY: &[u8] = b"";

    /// The query the bodies answer: 193.0.6.139 (inside the RIPE network).
    fn queried() -> Range {
        parse_range_lenient("193.0.6.139").unwrap()
    }

    fn response(status: u16, body: &[u8], retry_after: Option<u64>) -> Exchange {
        Exchange::Response {
            registry: Registry::Ripe,
            url: "http://127.0.0.1:1/ip/193.0.6.139".into(),
            status,
            retry_after,
            body: body.to_vec(),
            redirects: 0,
        }
    }

    /// A short name of an answer, for the table.
    fn kind(a: &Answer) -> String {
        match a {
            Answer::Network(a) if a.network.placeholder => "placeholder".into(),
            Answer::Network(_) => "network".into(),
            Answer::NotFound => "not_found".into(),
            Answer::RateLimited { retry_after, .. } => format!("rate_limited({retry_after:?})"),
            Answer::Retry(_) => "retry".into(),
            Answer::Refused(_) => "refused".into(),
            Answer::RefusedForGood(_) => "refused_for_good".into(),
        }
    }

    #[test]
    fn an_echo_of_the_query_is_refused_for_good_and_other_refusals_are_not() {
        let echo = fixture!("lacnic/lacnic-200.57.141.161-2015.json");
        let q = parse_range_lenient("200.57.141.161").unwrap();
        let x = |body: &[u8]| Exchange::Response {
            registry: Registry::Lacnic,
            url: "http://127.0.0.1:1/ip/200.57.141.161".into(),
            status: 200,
            retry_after: None,
            body: body.to_vec(),
            redirects: 0,
        };
        match classify(x(echo), q) {
            Answer::RefusedForGood(why) => assert!(
                why.starts_with("http://127.0.0.1:1/ip/200.57.141.161: answer echoes the query"),
                "{why}"
            ),
            other => panic!("{}", kind(&other)),
        }
        // Outside the query: refused, but not for good.
        assert_eq!(kind(&classify(response(200, NETWORK, None), q)), "refused");
    }

    #[test]
    fn status_by_body_table() {
        let truncated = &NETWORK[..NETWORK.len() / 2];
        let bodies: [(&str, &[u8]); 8] = [
            ("network", NETWORK),
            ("placeholder", PLACEHOLDER),
            ("error body", ERROR_BODY),
            ("notice", NOTICE),
            ("html notice", HTML_NOTICE),
            ("html", HTML),
            ("truncated", truncated),
            ("empty", EMPTY),
        ];
        // Rows: status; columns: the bodies above, in order.
        let table: [(u16, [&str; 8]); 8] = [
            (
                200,
                [
                    "network",
                    "placeholder",
                    "refused",
                    "rate_limited(Some(7))",
                    "rate_limited(Some(7))",
                    "retry",
                    "retry",
                    "retry",
                ],
            ),
            (404, ["not_found"; 8]),
            (429, ["rate_limited(Some(7))"; 8]),
            (
                403,
                [
                    "refused",
                    "refused",
                    "refused",
                    "rate_limited(Some(7))",
                    "rate_limited(Some(7))",
                    "refused",
                    "refused",
                    "refused",
                ],
            ),
            (500, ["retry"; 8]),
            (503, ["retry"; 8]),
            (400, ["refused"; 8]),
            (418, ["refused"; 8]),
        ];
        for (status, want) in table {
            for ((name, body), want) in bodies.iter().zip(want) {
                let got = kind(&classify(response(status, body, Some(7)), queried()));
                assert_eq!(got, want, "HTTP {status} with a {name} body");
            }
        }
    }

    #[test]
    fn retry_after_is_passed_on_only_when_sent() {
        for status in [429, 200, 403] {
            let a = classify(response(status, NOTICE, None), queried());
            assert!(
                matches!(
                    a,
                    Answer::RateLimited {
                        registry: Registry::Ripe,
                        retry_after: None
                    }
                ),
                "HTTP {status}: {a:?}"
            );
        }
    }

    #[test]
    fn a_network_keeps_the_answering_registry_url_and_body() {
        let x = Exchange::Response {
            registry: Registry::Arin,
            url: "http://127.0.0.1:2/ip/193.0.6.139".into(),
            status: 200,
            retry_after: None,
            body: NETWORK.to_vec(),
            redirects: 2,
        };
        assert_eq!(x.redirects(), 2);
        match classify(x, queried()) {
            Answer::Network(Answered {
                network,
                registry,
                url,
                raw,
            }) => {
                assert_eq!(network.handle, "193.0.0.0 - 193.0.7.255");
                assert_eq!(registry, Registry::Arin);
                assert_eq!(url, "http://127.0.0.1:2/ip/193.0.6.139");
                assert_eq!(raw, NETWORK);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn an_answer_outside_the_query_is_refused_with_the_url() {
        let elsewhere = parse_range_lenient("8.8.8.8").unwrap();
        match classify(response(200, NETWORK, None), elsewhere) {
            Answer::Refused(r) => {
                assert!(r.starts_with("http://127.0.0.1:1/ip/193.0.6.139: "), "{r}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn reasons_name_status_and_url() {
        match classify(response(503, HTML, None), queried()) {
            Answer::Retry(r) => assert_eq!(r, "HTTP 503 from http://127.0.0.1:1/ip/193.0.6.139"),
            other => panic!("{other:?}"),
        }
        match classify(response(400, ERROR_BODY, None), queried()) {
            Answer::Refused(r) => assert_eq!(r, "HTTP 400 from http://127.0.0.1:1/ip/193.0.6.139"),
            other => panic!("{other:?}"),
        }
        match classify(response(200, EMPTY, None), queried()) {
            Answer::Retry(r) => assert!(r.contains("empty answer body"), "{r}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn broken_exchanges_by_cause() {
        for (cause, want) in [
            (Broken::Transport(Transport::Dns), "retry"),
            (Broken::Transport(Transport::Refused), "retry"),
            (Broken::Transport(Transport::Unreachable), "retry"),
            (Broken::Transport(Transport::ConnectTimeout), "retry"),
            (Broken::Transport(Transport::Timeout), "retry"),
            (Broken::Transport(Transport::Reset), "retry"),
            (Broken::Transport(Transport::Other), "retry"),
            (Broken::Transport(Transport::Tls), "refused"),
            (Broken::Setup, "refused"),
            (Broken::TooLarge, "refused"),
            (Broken::Route, "refused"),
        ] {
            let x = Exchange::Broken {
                registry: Registry::Lacnic,
                cause,
                reason: format!("{cause:?} at http://127.0.0.1:3/"),
                redirects: 1,
            };
            assert_eq!(x.redirects(), 1);
            let a = classify(x, queried());
            assert_eq!(kind(&a), want, "{cause:?}");
            match a {
                Answer::Retry(r) | Answer::Refused(r) => {
                    assert_eq!(r, format!("{cause:?} at http://127.0.0.1:3/"));
                }
                other => panic!("{other:?}"),
            }
        }
    }
}
