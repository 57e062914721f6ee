//! Hostile values: text that has broken parsers, loggers or databases somewhere, keys that no
//! body may use, any JSON value, deep nesting, and percent-encoding both ways.

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{json, Map, Value};

/// Text fragments that have broken parsers, loggers or databases somewhere.
pub(crate) const FRAGMENTS: &[&str] = &[
    "",
    " ",
    "\t",
    "\n",
    "\r\n",
    "\0",
    "a\0b",
    "\u{202E}",
    "\u{202B}رسالة\u{202C}",
    "\u{200B}",
    "\u{200D}",
    "\u{2060}",
    "\u{FEFF}",
    "e\u{301}",
    "שלום",
    "مرحبا",
    "👩‍👩‍👧‍👦",
    "\u{10FFFF}",
    "\u{FFFD}",
    "İ",
    "ß",
    "ﬁ",
    "\u{7F}",
    "\u{85}",
    "\u{A0}",
    "\u{3000}",
    "$where",
    "$gt",
    "{\"$gt\":\"\"}",
    "'; db.dropDatabase(); '",
    "\\",
    "\"",
    "a.b",
    "$",
    "..",
    "%00",
    "%2e%2e",
    "null",
    "undefined",
    "<script>",
];

pub(crate) const LENGTHS: &[usize] = &[
    2, 3, 23, 24, 25, 30, 31, 50, 51, 64, 65, 100, 101, 200, 201, 254, 255, 3000,
];
pub(crate) const FILLERS: &[&str] = &["a", "é", "\u{200B}", "0", "f", " ", "👍", "\0", "\u{202E}"];

/// Keys a body may use that no body of any kind may: operators, paths, internals.
pub(crate) const OPERATOR_KEYS: &[&str] = &[
    "$gt",
    "$ne",
    "$where",
    "$set",
    "$regex",
    "$expr",
    "$in",
    "$or",
    "$function",
    "$",
    "a.b",
    "items.0.sku",
    "name.first",
    ".",
    "$.name",
    "_id",
    "__v",
    "id",
    "createdAt",
    "__proto__",
    "constructor",
];

const KNOWN_FIELDS: &[&str] = &[
    "name",
    "location",
    "branchId",
    "customerId",
    "email",
    "phone",
    "items",
    "sku",
    "quantity",
    "unitPrice",
    "status",
    "serialNumber",
    "username",
    "fullName",
];

const NUMBERS: &[f64] = &[
    0.0,
    -0.0,
    1e308,
    -1e308,
    5e-324,
    1.5,
    1_000_000.0,
    1_000_001.0,
    1e9,
    1_000_000_000.01,
    -0.01,
];

/// Values that no required field of a create body accepts.
pub(crate) fn wrong_values() -> Vec<Value> {
    vec![
        json!({ "$gt": "" }),
        json!({ "$ne": null }),
        json!({ "$where": "1" }),
        json!({ "$regex": ".*" }),
        json!({ "$in": ["a"] }),
        json!(5),
        json!(-1),
        json!(true),
        json!(["x"]),
        json!({}),
        json!(1.5),
        Value::Null,
    ]
}

pub(crate) fn text_of(parts: Vec<char>) -> String {
    parts.into_iter().collect()
}

/// `text` without what a caller's text may not hold (control characters, bidirectional
/// embeddings, overrides and isolates): text of any script that a create accepts.
pub(crate) fn accepted_text(text: String) -> String {
    let refused =
        |c: char| c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
    text.chars().filter(|c| !refused(*c)).collect()
}

pub(crate) fn hostile_text() -> BoxedStrategy<String> {
    prop_oneof![
        3 => vec(any::<char>(), 0..40).prop_map(text_of),
        3 => vec(select(FRAGMENTS), 1..6).prop_map(|parts| parts.concat()),
        1 => (select(LENGTHS), select(FILLERS)).prop_map(|(n, filler)| filler.repeat(n)),
    ]
    .boxed()
}

fn hostile_key() -> BoxedStrategy<String> {
    prop_oneof![
        3 => select(KNOWN_FIELDS).prop_map(str::to_owned),
        2 => select(OPERATOR_KEYS).prop_map(str::to_owned),
        1 => hostile_text(),
    ]
    .boxed()
}

pub(crate) fn json_leaf() -> BoxedStrategy<Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        select(NUMBERS).prop_map(Value::from),
        hostile_text().prop_map(Value::String),
    ]
    .boxed()
}

/// Any JSON value, at most four levels deep and 48 leaves large.
pub(crate) fn json_value() -> BoxedStrategy<Value> {
    json_leaf()
        .prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                vec(inner.clone(), 0..6).prop_map(Value::Array),
                vec((hostile_key(), inner), 0..6)
                    .prop_map(|pairs| Value::Object(pairs.into_iter().collect())),
            ]
        })
        .boxed()
}

/// How to wrap a value one level deeper.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Wrap {
    Array,
    Object(&'static str),
}

pub(crate) fn wraps(depth: std::ops::Range<usize>) -> BoxedStrategy<Vec<Wrap>> {
    vec(
        prop_oneof![
            Just(Wrap::Array),
            select(&["name", "items", "$where", "a.b", "sku"][..]).prop_map(Wrap::Object),
        ],
        depth,
    )
    .boxed()
}

pub(crate) fn wrapped(mut value: Value, wraps: &[Wrap]) -> Value {
    for wrap in wraps {
        value = match wrap {
            Wrap::Array => Value::Array(vec![value]),
            Wrap::Object(key) => Value::Object(Map::from_iter([((*key).to_owned(), value)])),
        };
    }
    value
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
pub(crate) fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Decodes `%XX` escapes and leaves malformed ones as they are, as axum does; `None` when the
/// result is not UTF-8.
pub fn decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let pair = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], pair) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

/// Whether `text` has the shape of an ObjectId: 24 hexadecimal digits.
pub fn is_object_id(text: &str) -> bool {
    text.len() == 24 && text.bytes().all(|b| b.is_ascii_hexdigit())
}
