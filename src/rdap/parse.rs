//! RDAP answer bytes → [`Network`]. Pure: never does I/O, never panics.
//!
//! STUB: the lenient parser is being written (issue 2, item 6).

use std::fmt;

use super::Network;
use crate::prefix::Range;

/// Why an answer was not accepted as a network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseError {
    /// Not JSON, or not the shape of an RDAP object.
    Json(String),
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseError::Json(m) => write!(f, "bad JSON: {m}"),
        }
    }
}

impl std::error::Error for ParseError {}

/// Parses one `ip network` answer to a query for `queried`.
pub fn parse_network(body: &[u8], queried: Range) -> Result<Network, ParseError> {
    let _ = (body, queried);
    Err(ParseError::Json("parser not written yet".into()))
}

/// Whether a body is LACNIC's "Rate Limit Notice".
pub fn is_rate_limit_notice(body: &[u8]) -> bool {
    body.windows(17)
        .any(|w| w.eq_ignore_ascii_case(b"rate limit notice"))
}
