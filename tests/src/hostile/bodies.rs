//! Bodies: create bodies valid by construction or with one flaw that makes them invalid,
//! bodies with an operator or dotted key at any depth, and the valid bodies of the
//! role-isolation routes.

use axum::http::Method;
use domain::{Model, Order};

use super::EntityKind;
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{json, Map, Value};

use super::values::{
    accepted_text, hostile_text, json_leaf, json_value, text_of, wrapped, wraps, wrong_values,
    Wrap, FRAGMENTS, OPERATOR_KEYS,
};
use super::{unique_token, ApiKind, Seeds};

/// What a field of a create body must be.
#[derive(Debug, Clone, Copy)]
enum Shape {
    Text(usize),
    Id,
    Items,
}

/// The required fields of a create body of `kind`.
fn required(kind: EntityKind) -> &'static [(&'static str, Shape)] {
    match kind {
        EntityKind::Branch => &[("name", Shape::Text(100)), ("location", Shape::Text(200))],
        EntityKind::Customer => &[
            ("branchId", Shape::Id),
            ("name", Shape::Text(100)),
            ("email", Shape::Text(254)),
            ("phone", Shape::Text(30)),
        ],
        EntityKind::Order => &[
            ("branchId", Shape::Id),
            ("customerId", Shape::Id),
            ("items", Shape::Items),
        ],
        EntityKind::Machine => &[
            ("branchId", Shape::Id),
            ("name", Shape::Text(100)),
            ("serialNumber", Shape::Text(64)),
        ],
        EntityKind::MasterAdmin | EntityKind::Admin => &[
            ("username", Shape::Text(50)),
            ("fullName", Shape::Text(100)),
            ("email", Shape::Text(254)),
        ],
    }
}

// Create bodies: valid by construction, or valid with one flaw that makes them invalid

/// The free parts of a valid create body; the unique keys get a fresh token when it is sent.
#[derive(Debug, Clone)]
struct Look {
    /// Arbitrary characters (RTL marks, zero-width, NUL…) around the names.
    decor: String,
    padded: bool,
    username_tail: String,
    email_local: String,
    phone: String,
    status: Option<usize>,
    items: Vec<(String, i64, f64)>,
    admin_branch: AdminBranch,
}

#[derive(Debug, Clone)]
enum AdminBranch {
    Absent,
    Null,
    Seeded,
    Unknown(String),
}

/// What makes a create body invalid; every variant must be a 400.
#[derive(Debug, Clone)]
enum Flaw {
    WrongType { field: usize, value: Value },
    ExtraKey { key: String, value: Value },
    Missing { field: usize },
    Blank { field: usize, blank: &'static str },
    TooLong { field: usize },
    Deep { field: usize, wraps: Vec<Wrap> },
    Item(ItemFlaw),
}

#[derive(Debug, Clone)]
enum ItemFlaw {
    Quantity(Value),
    Price(Value),
    Sku(Value),
    ExtraKey(&'static str),
    MissingField(&'static str),
    TooMany,
}

/// A create body: its kind, its free parts, and the flaw that makes it invalid, if any.
#[derive(Debug, Clone)]
pub struct Blueprint {
    /// The kind of entity the body creates.
    pub kind: EntityKind,
    look: Look,
    flaw: Option<Flaw>,
}

fn look() -> BoxedStrategy<Look> {
    let item = (
        vec(any::<char>(), 0..20).prop_map(|chars| accepted_text(text_of(chars))),
        prop_oneof![1_i64..=1_000_000, select(&[1_i64, 1_000_000][..])],
        prop_oneof![0.0..=1e9_f64, select(&[0.0, 0.01, 1e9][..])],
    );
    let phone =
        (any::<bool>(), vec(0_u8..10, 5..14), any::<bool>()).prop_map(|(plus, digits, spaced)| {
            let digits: Vec<String> = digits.iter().map(u8::to_string).collect();
            let separator = if spaced { " " } else { "" };
            format!("{}{}", if plus { "+" } else { "" }, digits.join(separator))
        });
    (
        prop_oneof![
            vec(any::<char>(), 0..30).prop_map(|chars| accepted_text(text_of(chars))),
            vec(select(FRAGMENTS), 0..4).prop_map(|parts| accepted_text(parts.concat())),
        ],
        any::<bool>(),
        "[A-Za-z0-9._-]{0,10}",
        "[A-Za-z0-9+_]{1,10}",
        phone,
        proptest::option::of(0_usize..4),
        vec(item, 1..4),
        prop_oneof![
            Just(AdminBranch::Absent),
            Just(AdminBranch::Null),
            Just(AdminBranch::Seeded),
            "[0-9a-fA-F]{24}".prop_map(AdminBranch::Unknown),
        ],
    )
        .prop_map(
            |(decor, padded, username_tail, email_local, phone, status, items, admin_branch)| {
                Look {
                    // The names are this plus a unique token: at most 30 + 40 characters.
                    decor: decor.chars().take(30).collect(),
                    padded,
                    username_tail,
                    email_local,
                    phone,
                    status,
                    items,
                    admin_branch,
                }
            },
        )
        .boxed()
}

fn flaw() -> BoxedStrategy<Flaw> {
    let item_flaw = prop_oneof![
        prop_oneof![
            Just(json!(0)),
            (i64::MIN..0).prop_map(Value::from),
            (1_000_001_i64..).prop_map(Value::from),
            Just(json!(u64::MAX)),
            Just(json!(1.5)),
            Just(json!("5")),
            Just(json!({ "$gt": 0 })),
            Just(Value::Null),
        ]
        .prop_map(ItemFlaw::Quantity),
        prop_oneof![
            (-1e12..-0.001_f64).prop_map(Value::from),
            (1_000_000_000.5..1e300_f64).prop_map(Value::from),
            Just(json!("9.5")),
            Just(json!({ "$lt": 1 })),
            Just(Value::Null),
        ]
        .prop_map(ItemFlaw::Price),
        prop_oneof![
            Just(json!({ "$ne": null })),
            Just(json!("")),
            Just(json!("   ")),
            Just(json!("s".repeat(65))),
            Just(json!(7)),
            Just(json!(["SKU"])),
        ]
        .prop_map(ItemFlaw::Sku),
        select(&["$where", "a.b", "_id", "total", "price"][..]).prop_map(ItemFlaw::ExtraKey),
        select(&["sku", "quantity", "unitPrice"][..]).prop_map(ItemFlaw::MissingField),
        Just(ItemFlaw::TooMany),
    ];
    prop_oneof![
        (0_usize..4, select(wrong_values()))
            .prop_map(|(field, value)| Flaw::WrongType { field, value }),
        (
            prop_oneof![
                3 => select(OPERATOR_KEYS).prop_map(str::to_owned),
                1 => hostile_text(),
            ],
            json_value()
        )
            .prop_map(|(key, value)| Flaw::ExtraKey { key, value }),
        (0_usize..4).prop_map(|field| Flaw::Missing { field }),
        (0_usize..4, select(&["", " ", "\t\n", "\u{3000}\u{A0}"][..]))
            .prop_map(|(field, blank)| Flaw::Blank { field, blank }),
        (0_usize..4).prop_map(|field| Flaw::TooLong { field }),
        (0_usize..4, wraps(1..250)).prop_map(|(field, wraps)| Flaw::Deep { field, wraps }),
        item_flaw.prop_map(Flaw::Item),
    ]
    .boxed()
}

/// Create bodies of `kinds`, `flawed` in a hundred of them with one flaw.
pub fn blueprint(kinds: &'static [EntityKind], flawed: u32) -> BoxedStrategy<Blueprint> {
    (
        select(kinds),
        look(),
        prop_oneof![
            (100 - flawed) => Just(None),
            flawed => flaw().prop_map(Some),
        ],
    )
        .prop_map(|(kind, look, flaw)| Blueprint { kind, look, flaw })
        .boxed()
}

const MACHINE_STATUSES: [&str; 4] = ["idle", "running", "maintenance", "offline"];

impl Blueprint {
    /// Whether the body has no flaw, so that creating it must succeed.
    pub fn valid(&self) -> bool {
        self.flaw.is_none()
    }

    /// The body, with `unique` in its unique keys.
    pub fn body(&self, unique: &str, seeds: &Seeds) -> Value {
        let look = &self.look;
        let pad = |text: String| match look.padded {
            true => format!(" \t{text} \n"),
            false => text,
        };
        let name = pad(format!("{} {unique}", look.decor));
        let email = format!("{}.{unique}@Example.com", look.email_local);
        let username = format!("u{unique}{}", look.username_tail);
        let branch = seeds.id(EntityKind::Branch);
        let mut body = match self.kind {
            EntityKind::Branch => {
                json!({ "name": name, "location": pad(format!("{} street", look.decor)) })
            }
            EntityKind::Customer => json!({
                "branchId": branch, "name": name, "email": email, "phone": look.phone,
            }),
            EntityKind::Order => json!({
                "branchId": branch,
                "customerId": seeds.id(EntityKind::Customer),
                "items": look.items.iter().map(|(sku, quantity, price)| json!({
                    "sku": format!("SKU-{sku}"), "quantity": quantity, "unitPrice": price,
                })).collect::<Vec<_>>(),
            }),
            EntityKind::Machine => json!({
                "branchId": branch,
                "name": name,
                "serialNumber": format!("SN-{unique}{}", look.username_tail),
            }),
            EntityKind::MasterAdmin | EntityKind::Admin => json!({
                "username": username, "fullName": name, "email": email,
            }),
        };
        let object = body.as_object_mut().unwrap();
        match (self.kind, look.status) {
            // An order is created in its declared initial state only.
            (EntityKind::Order, Some(_)) => _ = object.insert("status".into(), "pending".into()),
            (EntityKind::Machine, Some(s)) => {
                _ = object.insert("status".into(), MACHINE_STATUSES[s].into())
            }
            _ => {}
        }
        if self.kind == EntityKind::Admin {
            let branch_id = match &look.admin_branch {
                AdminBranch::Absent => None,
                AdminBranch::Null => Some(Value::Null),
                AdminBranch::Seeded => Some(branch.into()),
                AdminBranch::Unknown(id) => Some(id.as_str().into()),
            };
            if let Some(branch_id) = branch_id {
                object.insert("branchId".into(), branch_id);
            }
        }
        if let Some(flaw) = &self.flaw {
            apply_flaw(self.kind, object, flaw);
        }
        body
    }
}

fn apply_flaw(kind: EntityKind, object: &mut Map<String, Value>, flaw: &Flaw) {
    let required = required(kind);
    let pick = |field: usize| required[field % required.len()];
    match flaw {
        Flaw::WrongType { field, value } => {
            object.insert(pick(*field).0.into(), value.clone());
        }
        Flaw::ExtraKey { key, value } => {
            // A key the kind knows would not be a flaw: make it an operator.
            let key = match kind.fields().contains(&key.as_str()) {
                true => format!("${key}"),
                false => key.clone(),
            };
            object.insert(key, value.clone());
        }
        Flaw::Missing { field } => {
            object.remove(pick(*field).0);
        }
        Flaw::Blank { field, blank } => {
            let (name, shape) = pick(*field);
            let value = match shape {
                Shape::Items => json!([]),
                Shape::Text(_) | Shape::Id => json!(blank),
            };
            object.insert(name.into(), value);
        }
        Flaw::TooLong { field } => {
            let (name, shape) = pick(*field);
            let value = match shape {
                Shape::Text(max) => json!("a".repeat(max + 1)),
                Shape::Id => json!("a".repeat(25)),
                Shape::Items => Value::Array(vec![
                    json!({ "sku": "S", "quantity": 1, "unitPrice": 1.0 });
                    most_items() + 1
                ]),
            };
            object.insert(name.into(), value);
        }
        Flaw::Deep { field, wraps } => {
            object.insert(pick(*field).0.into(), wrapped(json!("x"), wraps));
        }
        Flaw::Item(item_flaw) => {
            let Some(Value::Array(items)) = object.get_mut("items") else {
                // Only orders have items: on any other kind the key itself is the flaw.
                object.insert("items".into(), json!([{ "sku": "S", "quantity": 1 }]));
                return;
            };
            let first = items[0].as_object_mut().unwrap();
            match item_flaw {
                ItemFlaw::Quantity(v) => _ = first.insert("quantity".into(), v.clone()),
                ItemFlaw::Price(v) => _ = first.insert("unitPrice".into(), v.clone()),
                ItemFlaw::Sku(v) => _ = first.insert("sku".into(), v.clone()),
                ItemFlaw::ExtraKey(key) => _ = first.insert((*key).into(), json!(1)),
                ItemFlaw::MissingField(key) => _ = first.remove(*key),
                ItemFlaw::TooMany => {
                    let copy = items[0].clone();
                    items.resize(most_items() + 1, copy);
                }
            }
        }
    }
}

/// A body with a key that starts with `$` or contains a dot, at any depth.
#[derive(Debug, Clone)]
pub struct Injection {
    /// The valid body the key is put into.
    pub base: Blueprint,
    key: String,
    value: Value,
    wraps: Vec<Wrap>,
    site: Site,
    /// Whether it is sent as a `PATCH` of a seeded record rather than a `POST`.
    pub patch: bool,
}

#[derive(Debug, Clone, Copy)]
enum Site {
    TopLevel,
    Field(usize),
    InsideItem,
    WrappedAtTopLevel,
}

/// Bodies with an operator or dotted key at the top, in a field, in an item, or wrapped deep.
pub fn injection() -> BoxedStrategy<Injection> {
    let key = prop_oneof![
        3 => select(OPERATOR_KEYS)
            .prop_filter("a $ or a dot", |k| k.starts_with('$') || k.contains('.'))
            .prop_map(str::to_owned),
        1 => ("[$]", "[a-zA-Z]{0,8}").prop_map(|(d, rest)| format!("{d}{rest}")),
        1 => ("[a-z]{0,6}", "[a-z]{0,6}").prop_map(|(a, b)| format!("{a}.{b}")),
    ];
    let site = prop_oneof![
        Just(Site::TopLevel),
        (0_usize..4).prop_map(Site::Field),
        Just(Site::InsideItem),
        Just(Site::WrappedAtTopLevel),
    ];
    (
        blueprint(&EntityKind::ALL, 0),
        key,
        prop_oneof![
            json_leaf(),
            Just(json!("")),
            Just(Value::Null),
            Just(json!(1))
        ],
        wraps(0..200),
        site,
        any::<bool>(),
    )
        .prop_map(|(base, key, value, wraps, site, patch)| Injection {
            base,
            key,
            value,
            wraps,
            site,
            patch,
        })
        .boxed()
}

impl Injection {
    /// The body, with a fresh token in its unique keys.
    pub fn body(&self, seeds: &Seeds) -> Value {
        let mut body = self.base.body(&unique_token(), seeds);
        if self.patch {
            // An empty change is a valid PATCH: the injection is then its only content.
            body = json!({});
        }
        let operator = Value::Object(Map::from_iter([(self.key.clone(), self.value.clone())]));
        let object = body.as_object_mut().unwrap();
        match self.site {
            Site::TopLevel => {
                object.insert(self.key.clone(), wrapped(self.value.clone(), &self.wraps));
            }
            Site::Field(field) => {
                let fields = self.base.kind.fields();
                let name = fields[field % fields.len()];
                object.insert(name.into(), wrapped(operator, &self.wraps));
            }
            Site::InsideItem => {
                let mut item = json!({ "sku": "S-1", "quantity": 1, "unitPrice": 1.0 });
                item.as_object_mut()
                    .unwrap()
                    .insert(self.key.clone(), wrapped(self.value.clone(), &self.wraps));
                object.insert("items".into(), json!([item]));
            }
            Site::WrappedAtTopLevel => {
                object.insert(self.key.clone(), wrapped(operator.clone(), &self.wraps));
            }
        }
        body
    }
}

/// Every route with every verb it serves (and one it does not), with a body where one is read.
pub fn isolation_routes(seeds: &Seeds) -> Vec<(Method, String, Option<Value>, EntityKind)> {
    let mut routes = Vec::new();
    for kind in EntityKind::ALL {
        let item = format!("{}/{}", kind.path(), seeds.id(kind));
        let valid = Blueprint {
            kind,
            look: Look {
                decor: "Isolation".into(),
                padded: false,
                username_tail: String::new(),
                email_local: "iso".into(),
                phone: "+33 1 23 45 67 89".into(),
                status: None,
                items: vec![("I-1".into(), 1, 1.0)],
                admin_branch: AdminBranch::Seeded,
            },
            flaw: None,
        }
        .body(&unique_token(), seeds);
        let change = match kind {
            EntityKind::Branch => json!({ "location": "Pwned" }),
            EntityKind::Customer | EntityKind::Machine => json!({ "name": "Pwned" }),
            EntityKind::Order => json!({ "status": "cancelled" }),
            EntityKind::MasterAdmin | EntityKind::Admin => json!({ "fullName": "Pwned" }),
        };
        routes.push((Method::GET, kind.path().to_owned(), None, kind));
        routes.push((Method::POST, kind.path().to_owned(), Some(valid), kind));
        routes.push((Method::GET, item.clone(), None, kind));
        routes.push((Method::PATCH, item.clone(), Some(change), kind));
        routes.push((Method::PUT, item.clone(), Some(json!({})), kind));
        routes.push((Method::DELETE, item, None, kind));
    }
    routes
}

/// The most items an order declares.
fn most_items() -> usize {
    Order::FIELDS
        .iter()
        .find_map(|field| field.rules.max_items)
        .expect("an order declares the most items it holds")
}
