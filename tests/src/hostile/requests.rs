//! Requests of any shape: methods, paths, queries, ids, credentials, content types and
//! payloads, mostly aimed past the router at a handler; and `limit`/`skip` queries with the
//! page each must answer.

use std::fmt;

use super::EntityKind;
use app::http::BODY_LIMIT_BYTES;
use axum::body::Body;
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::{Method, Request};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{json, Map, Value};

use super::bodies::{blueprint, Blueprint};
use super::values::{encode, json_value, text_of, wrapped, wraps, FILLERS, FRAGMENTS};
use super::{unique_token, ApiKind, Harness, Seeds};
use crate::service::shorten;

// Requests of any shape

#[derive(Clone)]
enum Payload {
    Json(Value),
    Blueprint(Blueprint),
    Raw(Vec<u8>),
}

impl fmt::Debug for Payload {
    // Bodies of 1.5 MiB or 250 levels would drown the failure message.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Payload::Json(value) => write!(f, "Json({})", shorten(&value.to_string(), 300)),
            Payload::Blueprint(blueprint) => write!(f, "{blueprint:?}"),
            Payload::Raw(bytes) => write!(
                f,
                "Raw({:?})",
                shorten(&String::from_utf8_lossy(bytes), 200)
            ),
        }
    }
}

impl Payload {
    fn bytes(&self, seeds: &Seeds) -> Vec<u8> {
        match self {
            Payload::Json(value) => serde_json::to_vec(value).unwrap(),
            Payload::Blueprint(blueprint) => {
                serde_json::to_vec(&blueprint.body(&unique_token(), seeds)).unwrap()
            }
            Payload::Raw(bytes) => bytes.clone(),
        }
    }
}

#[derive(Debug, Clone)]
enum Auth {
    MasterAdmin,
    Missing,
    /// `bearer` in lower case, with a valid token.
    LowerCaseScheme,
    Literal(&'static str),
}

/// One request of any shape.
#[derive(Debug, Clone)]
pub struct Probe {
    /// Its method.
    pub method: Method,
    /// Its path and query, as sent.
    pub target: String,
    auth: Auth,
    content_type: Option<&'static str>,
    payload: Option<Payload>,
}

impl Probe {
    /// The request, with the harness's master admin token where the probe sends one.
    pub fn request(&self, harness: &Harness) -> Request<Body> {
        let mut request = Request::builder()
            .method(self.method.clone())
            .uri(&self.target);
        let token = &harness.master_token;
        request = match &self.auth {
            Auth::MasterAdmin => request.header(AUTHORIZATION, format!("Bearer {token}")),
            Auth::Missing => request,
            Auth::LowerCaseScheme => request.header(AUTHORIZATION, format!("bearer {token}")),
            Auth::Literal(value) => request.header(AUTHORIZATION, *value),
        };
        if let Some(content_type) = self.content_type {
            request = request.header(CONTENT_TYPE, content_type);
        }
        let body = self
            .payload
            .as_ref()
            .map_or_else(Body::empty, |p| Body::from(p.bytes(&harness.seeds)));
        request
            .body(body)
            .unwrap_or_else(|e| panic!("the generator made an invalid request {self:?}: {e}"))
    }

    /// Whether the method cannot change anything by definition.
    pub fn safe(&self) -> bool {
        [Method::GET, Method::HEAD, Method::OPTIONS, Method::TRACE].contains(&self.method)
    }
}

fn method() -> BoxedStrategy<Method> {
    let unusual = vec![
        Method::PUT,
        Method::HEAD,
        Method::OPTIONS,
        Method::TRACE,
        Method::CONNECT,
        Method::from_bytes(b"get").unwrap(),
        Method::from_bytes(b"PURGE").unwrap(),
        Method::from_bytes(b"M-SEARCH").unwrap(),
    ];
    prop_oneof![
        4 => Just(Method::GET),
        3 => Just(Method::POST),
        3 => Just(Method::PATCH),
        2 => Just(Method::DELETE),
        2 => select(unusual),
    ]
    .boxed()
}

/// `limit` and `skip` values: numbers of every size and sign, and things that are no numbers.
fn page_value() -> BoxedStrategy<String> {
    const ODD: &[&str] = &[
        "0",
        "1",
        "20",
        "100",
        "101",
        "-0",
        "+5",
        "-1",
        "18446744073709551615",
        "18446744073709551616",
        "9223372036854775807",
        "9223372036854775808",
        "99999999999999999999999999",
        "1e3",
        "1.5",
        "0x10",
        "abc",
        "",
        " 5",
        "5 ",
        "٣",
        "５",
        "NaN",
        "Infinity",
        "null",
        "\0",
        "[]",
        "{\"$gt\":0}",
    ];
    prop_oneof![
        2 => any::<i64>().prop_map(|n| n.to_string()),
        1 => any::<u64>().prop_map(|n| n.to_string()),
        2 => (0_u64..200).prop_map(|n| n.to_string()),
        3 => select(ODD).prop_map(str::to_owned),
        1 => vec(select(FRAGMENTS), 1..3).prop_map(|parts| parts.concat()),
    ]
    .boxed()
}

fn query() -> BoxedStrategy<String> {
    const KEYS: &[&str] = &[
        "limit",
        "skip",
        "limit",
        "skip",
        "$where",
        "limit[$gt]",
        "sort",
        "filter",
        "",
        "a.b",
        "LIMIT",
    ];
    const RAW: &[&str] = &[
        "?",
        "?&&",
        "?limit",
        "?limit=1&limit=2",
        "?limit[$gt]=0",
        "?%00=1",
        "?limit=%zz",
        "?skip=+1",
        "?limit=1;skip=2",
        "?limit=%F0%9F%98%80",
        "?limit=%ff",
    ];
    prop_oneof![
        3 => Just(String::new()),
        3 => vec((select(KEYS), page_value()), 1..4).prop_map(|pairs| {
            let pairs: Vec<String> = pairs
                .iter()
                .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
                .collect();
            format!("?{}", pairs.join("&"))
        }),
        1 => select(RAW).prop_map(str::to_owned),
    ]
    .boxed()
}

/// Path segments for `{id}`, as sent (already percent-encoded).
pub fn id_segment() -> BoxedStrategy<String> {
    const ODD: &[&str] = &[
        "%00",
        "..",
        ".",
        "%2e%2e",
        "%2E%2E%2F",
        "%2F",
        "%zz",
        "%ff",
        "%c0%ae",
        "%F0%9F%98%80",
        "000000000000000000000000",
        "ffffffffffffffffffffffff",
        "FFFFFFFFFFFFFFFFFFFFFFFF",
        "%20aaaaaaaaaaaaaaaaaaaaaaaa",
        "aaaaaaaaaaaaaaaaaaaaaaaa%00",
        "aaaaaaaaaaaaaaaaaaaaaaa%61",
        "null",
        "undefined",
        "$where",
        "%24where",
        "%7B%22%24gt%22%3A%22%22%7D",
        "+",
        "*",
        "~",
        "-1",
        "1e3",
        "%u0041",
        "0x0000000000000000000000",
    ];
    prop_oneof![
        2 => "[0-9a-fA-F]{24}",
        1 => "[0-9a-f]{23}",
        1 => "[0-9a-f]{25}",
        1 => ("[0-9a-f]{0,23}", "[g-zG-Z _!]", "[0-9a-f]{0,23}")
            .prop_map(|(a, b, c)| encode(&format!("{a}{b}{c}"))),
        2 => select(ODD).prop_map(str::to_owned),
        2 => prop_oneof![
            vec(any::<char>(), 1..30).prop_map(text_of),
            vec(select(FRAGMENTS), 1..4).prop_map(|parts| parts.concat()),
            (select(&[23_usize, 24, 25, 255][..]), select(FILLERS))
                .prop_map(|(n, filler)| filler.repeat(n)),
        ]
        .prop_map(|text| encode(&text)),
    ]
    .boxed()
}

/// Which methods a path serves, so that most probes get past the router to the handler.
#[derive(Debug, Clone, Copy)]
enum Serves {
    Collection,
    Item,
    Read,
    Nothing,
}

impl Serves {
    fn methods(self) -> Vec<Method> {
        match self {
            Serves::Collection => vec![Method::GET, Method::POST],
            Serves::Item => vec![Method::GET, Method::PATCH, Method::DELETE],
            Serves::Read | Serves::Nothing => vec![Method::GET],
        }
    }
}

fn target(kind: EntityKind, seed: String) -> BoxedStrategy<(String, Serves)> {
    const ODD: &[&str] = &[
        "/",
        "//branches",
        "/branches/",
        "/BRANCHES",
        "/branches/a/b",
        "/branches//x",
        "/%2e%2e/masteradmins",
        "/branches/../admins",
        "/admins/..%2f..%2fmasteradmins",
        "/masteradmins",
        "/master-admins/",
        "/dashboard/",
        "/me/x",
        "/health?x=%00",
        "/branches;jsessionid=1",
        "/branches%00",
        "/*",
        "/branches/%E0%A4%A",
        "/%F0%9F%98%80",
    ];
    let path = kind.path();
    prop_oneof![
        3 => query().prop_map(move |q| (format!("{path}{q}"), Serves::Collection)),
        4 => (
            prop_oneof![3 => id_segment(), 1 => Just(seed)],
            query()
        )
            .prop_map(move |(id, q)| (format!("{path}/{id}{q}"), Serves::Item)),
        1 => (select(&["/dashboard", "/me", "/health"][..]), query())
            .prop_map(|(p, q)| (format!("{p}{q}"), Serves::Read)),
        1 => select(ODD).prop_map(|p| (p.to_owned(), Serves::Nothing)),
        1 => vec(vec(any::<char>(), 0..20).prop_map(text_of), 1..4).prop_map(|segments| {
            let path = segments.iter().map(|s| format!("/{}", encode(s))).collect();
            (path, Serves::Nothing)
        }),
    ]
    .boxed()
}

fn raw_body() -> BoxedStrategy<Vec<u8>> {
    let texts: Vec<Vec<u8>> = [
        "",
        "{",
        "nul",
        "[",
        "{\"name\":",
        "\u{FEFF}{}",
        "{\"name\":\"\\ud800\",\"location\":\"x\"}",
        "{\"name\":\"a\",\"name\":\"b\",\"location\":\"x\"}",
        "{\"name\":\"a\",\"location\":\"x\"} trailing",
        "{\"quantity\":1e999999}",
        "{\"name\":\"a\u{0}\",\"location\":\"b\"}",
        "null",
        "[]",
        "\"string\"",
        "12",
        "{\"__proto__\":{\"admin\":true}}",
    ]
    .iter()
    .map(|t| t.as_bytes().to_vec())
    .chain([
        vec![0xff, 0xfe, b'{', b'}'],
        b"{\"name\":\"\xc3\x28\",\"location\":\"x\"}".to_vec(),
        "[".repeat(100_000).into_bytes(),
        "{\"a\":".repeat(50_000).into_bytes(),
    ])
    .collect();
    select(texts).boxed()
}

/// Bodies around and over the 1 MiB limit.
fn huge_body() -> BoxedStrategy<Value> {
    (
        prop_oneof![
            Just(1_100_000_usize),
            Just(1_500_000),
            BODY_LIMIT_BYTES - 64..BODY_LIMIT_BYTES + 64,
            Just(900 * 1024),
        ],
        select(&["a", "é", "\u{200B}", "\0"][..]),
        select(&["name", "location", "username", "$where"][..]),
    )
        .prop_map(|(bytes, filler, key)| {
            let count = bytes / filler.len().max(1);
            json!({ key: filler.repeat(count) })
        })
        .boxed()
}

fn payload(kind: EntityKind) -> BoxedStrategy<Option<Payload>> {
    let kinds: &'static [EntityKind] = match kind {
        EntityKind::Branch => &[EntityKind::Branch],
        EntityKind::Customer => &[EntityKind::Customer],
        EntityKind::Order => &[EntityKind::Order],
        EntityKind::Machine => &[EntityKind::Machine],
        EntityKind::MasterAdmin => &[EntityKind::MasterAdmin],
        EntityKind::Admin => &[EntityKind::Admin],
    };
    let fields = kind.fields();
    prop_oneof![
        2 => Just(None),
        6 => blueprint(kinds, 40).prop_map(|b| Some(Payload::Blueprint(b))),
        3 => json_value().prop_map(|v| Some(Payload::Json(v))),
        3 => vec((select(fields), json_value()), 0..5).prop_map(|pairs| {
            let object: Map<String, Value> =
                pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
            Some(Payload::Json(Value::Object(object)))
        }),
        1 => (wraps(100..300), select(&["", "name", "items"][..])).prop_map(|(wraps, key)| {
            let deep = wrapped(json!("x"), &wraps);
            let body = if key.is_empty() { deep } else { json!({ key: deep }) };
            Some(Payload::Json(body))
        }),
        1 => raw_body().prop_map(|b| Some(Payload::Raw(b))),
        1 => huge_body().prop_map(|v| Some(Payload::Json(v))),
    ]
    .boxed()
}

/// Requests of any shape to every route, most with a method the route serves.
pub fn probe(seeds: &Seeds) -> BoxedStrategy<Probe> {
    let seeds = seeds.clone();
    let auth = prop_oneof![
        12 => Just(Auth::MasterAdmin),
        2 => Just(Auth::Missing),
        1 => Just(Auth::LowerCaseScheme),
        1 => select(&[
            "Bearer ",
            "Bearer x.y.z",
            "Basic YWRtaW46YWRtaW4=",
            "Bearer eyJhbGciOiJub25lIn0.eyJyb2xlIjoibWFzdGVyX2FkbWluIn0.",
        ][..])
        .prop_map(Auth::Literal),
    ];
    let content_type = prop_oneof![
        8 => Just(Some("application/json")),
        1 => Just(None),
        1 => select(&[
            Some("text/plain"),
            Some("application/json; charset=utf-8"),
            Some("application/x-www-form-urlencoded"),
            Some("application/vnd.api+json"),
            Some("multipart/form-data; boundary=x"),
        ][..]),
    ];
    (
        select(&EntityKind::ALL[..]),
        auth,
        content_type,
        proptest::bool::weighted(0.85),
    )
        .prop_flat_map(move |(kind, auth, content_type, served)| {
            target(kind, seeds.id(kind).to_owned()).prop_flat_map(move |(target, serves)| {
                let method = match served {
                    true => select(serves.methods()).boxed(),
                    false => method(),
                };
                (
                    method,
                    Just(target),
                    Just(auth.clone()),
                    Just(content_type),
                    payload(kind),
                )
            })
        })
        .prop_map(|(method, target, auth, content_type, payload)| Probe {
            method,
            target,
            auth,
            content_type,
            payload,
        })
        .boxed()
}

/// A list request with any `limit` and `skip`, perhaps repeated or with another key.
#[derive(Debug, Clone)]
pub struct PageProbe {
    kind: EntityKind,
    limit: Option<String>,
    skip: Option<String>,
    extra: Option<(&'static str, String)>,
    repeated_limit: bool,
}

impl PageProbe {
    /// The path and query, percent-encoded.
    pub fn target(&self) -> String {
        let mut pairs = Vec::new();
        if let Some(limit) = &self.limit {
            pairs.push(format!("limit={}", encode(limit)));
            if self.repeated_limit {
                pairs.push(format!("limit={}", encode(limit)));
            }
        }
        if let Some(skip) = &self.skip {
            pairs.push(format!("skip={}", encode(skip)));
        }
        if let Some((key, value)) = &self.extra {
            pairs.push(format!("{}={}", encode(key), encode(value)));
        }
        match pairs.is_empty() {
            true => self.kind.path().to_owned(),
            false => format!("{}?{}", self.kind.path(), pairs.join("&")),
        }
    }

    /// `Some(page size bound)` when the query is valid.
    pub fn expected(&self) -> Option<u64> {
        if self.extra.is_some() || (self.repeated_limit && self.limit.is_some()) {
            return None;
        }
        let limit = match &self.limit {
            None => 20,
            Some(text) => text
                .parse::<u64>()
                .ok()
                .filter(|&n| (1..=u64::from(ports::Page::MAX_LIMIT)).contains(&n))?,
        };
        match &self.skip {
            Some(text) if text.parse::<u64>().ok()? > app::http::MAX_SKIP => None,
            _ => Some(limit),
        }
    }
}

/// List requests of every kind with `limit` and `skip` values of every size, sign and shape.
pub fn page_probe() -> impl Strategy<Value = PageProbe> {
    (
        select(&EntityKind::ALL[..]),
        proptest::option::weighted(0.8, page_value()),
        proptest::option::weighted(0.6, page_value()),
        proptest::option::weighted(
            0.1,
            (
                select(&["$where", "sort", "filter", "a.b", "limit[$gt]"][..]),
                page_value(),
            ),
        ),
        proptest::bool::weighted(0.05),
    )
        .prop_map(|(kind, limit, skip, extra, repeated_limit)| PageProbe {
            kind,
            limit,
            skip,
            extra,
            repeated_limit,
        })
}
