//! The declaration of a model, and what every backend and every API reads from it.
//!
//! A model is a struct of validated values with `#[derive(Model)]`. The struct's serde form is
//! its *stored* form: it reads what a backend holds as it is, without re-validating, because
//! data already stored (perhaps by the Node.js services) must never make a read fail. The
//! derive writes the *strict* forms, [`Model::New`] and [`Model::Change`], through which every
//! request passes: unknown fields refused, every value parsed by [`Value::parse`].
//!
//! ```
//! use domain::{Branch, Id, Model, Value};
//! use serde::{Deserialize, Serialize};
//!
//! domain::bounded_text!(
//!     /// An invoice's number, as printed on it.
//!     InvoiceNumber, field = "number", max = 32, example = "F-{}"
//! );
//!
//! /// An invoice a branch issued.
//! #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Model)]
//! #[serde(rename_all = "camelCase")]
//! pub struct Invoice {
//!     #[model(fixed, filter)]
//!     branch_id: Id<Branch>,
//!     #[model(unique)]
//!     number: InvoiceNumber,
//!     amount_cents: i64,
//! }
//!
//! let request = r#"{"branchId": "65f0a1b2c3d4e5f6a7b8c9d0", "number": " F-1 ", "amountCents": 990}"#;
//! let invoice = Invoice::from_new(serde_json::from_str(request)?)?;
//! assert_eq!(invoice.unique_keys(), [("number", "F-1".to_owned())]);
//!
//! let unknown = r#"{"branchId": "65f0a1b2c3d4e5f6a7b8c9d0", "number": "F-1", "amountCents": 1, "x": 1}"#;
//! assert!(serde_json::from_str::<NewInvoice>(unknown).is_err());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::{Invalid, Problem, ValidationError};
use crate::id::Id;
use crate::rules::{Rules, SAFE_INTEGER};

pub use domain_derive::Model;

/// A declared model: its name, its fields, and its strict request forms. Written by
/// `#[derive(Model)]`, never by hand; what a model's rules add is [`Entity`](crate::Entity).
///
/// The derive takes `#[model(name = "…")]` (the name, if not the struct's) and
/// `#[model(rules)]` (the struct implements [`Entity`](crate::Entity) itself) on the struct,
/// and on a field:
/// - `unique`: no two records share the value; backends keep a unique index on it;
/// - `filter`: lists can be filtered on it; backends keep an index on it;
/// - `index`: backends keep an index on it, for queries of a service's own;
/// - `fixed`: set when created, never changed by a patch;
/// - `derived`: computed by the rules, never in a request (an order's total);
/// - `default`: a create request may leave it out, and it is then the type's default;
/// - `min = 1, max = 5`: the number's bounds (a rating), with no value type written for them;
/// - `min_length = 2`, `max_length = 40`: the text's length, narrower than its type's;
/// - `min_items = 1, max_items = 100`: how many items a list holds;
/// - `multiline`: the text may hold line breaks and tabs;
/// - `initial = "pending"` (once per value): the only values a create request may carry, so a
///   state machine starts where it must;
/// - `checked`: a reference whose record must exist when a record is created or changed
///   (checked by the registry, against the role the referenced model is bound on).
///
/// Each rule is enforced by [`Model::from_request`] and published from [`Model::FIELDS`].
pub trait Model:
    Clone + fmt::Debug + PartialEq + Serialize + DeserializeOwned + Send + Sync + 'static
{
    /// The model's name (`Branch`, `MasterAdmin`): what errors and by-name lookups say, and
    /// what the collection's name follows from.
    const NAME: &'static str;

    /// Every field, in declaration order: what mappings, indexes, filters and API schemas
    /// read.
    const FIELDS: &'static [Field];

    /// A validated change: one `Option` per field a patch may change.
    type Patch: fmt::Debug + Send + Sync + 'static;

    /// The strict form of a create request.
    type New: DeserializeOwned + Serialize + Send + 'static;

    /// The strict form of a change request.
    type Change: DeserializeOwned + Serialize + Send + 'static;

    /// The model of a create request's JSON body, every value checked against its field's
    /// rules and parsed; derived fields at their default, until the rules
    /// ([`Entity::admit`](crate::Entity::admit)) compute them.
    ///
    /// # Errors
    /// Every field that is missing, unknown, of another type or breaking a rule, each named,
    /// in our words.
    fn from_request(body: serde_json::Value) -> Result<Self, Invalid>;

    /// The patch of a change request's JSON body, as [`Model::from_request`] reads a create.
    ///
    /// # Errors
    /// As [`Model::from_request`].
    fn patch_from_request(body: serde_json::Value) -> Result<Self::Patch, Invalid>;

    /// The model of a typed create request: [`Model::from_request`] of its JSON form.
    ///
    /// # Errors
    /// As [`Model::from_request`].
    fn from_new(request: Self::New) -> Result<Self, Invalid> {
        Self::from_request(__private::json_of(&request)?)
    }

    /// The patch of a typed change request: [`Model::patch_from_request`] of its JSON form.
    ///
    /// # Errors
    /// As [`Model::from_request`].
    fn patch_from(request: Self::Change) -> Result<Self::Patch, Invalid> {
        Self::patch_from_request(__private::json_of(&request)?)
    }

    /// The model with the fields `patch` sets replaced, and no rule applied.
    fn patched(&self, patch: Self::Patch) -> Self;

    /// The value of each `unique` field, by field name: what no two records may share.
    fn unique_keys(&self) -> Vec<(&'static str, String)>;

    /// A create request of valid example values, different for different `n` where the
    /// values allow it (see [`Value::example`]).
    fn example_new(n: u32) -> Self::New;

    /// The id the `checked` reference field named `field` holds, as hex; `None` for any other
    /// field, or when the reference is absent.
    fn checked_reference(&self, field: &str) -> Option<String>;

    /// The value of the `filter` field named `field`, as a filter compares it (an id's hex
    /// text, an enumeration's name); `None` for any other field, or when the value is absent.
    fn filter_value(&self, field: &str) -> Option<String>;
}

/// One declared field of a model.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Field {
    /// Its name in requests and documents (camelCase).
    pub name: &'static str,
    /// What kind of value it holds.
    pub kind: Kind,
    /// Whether it may be absent (`Option<…>`).
    pub optional: bool,
    /// Whether a create request must carry it.
    pub required_on_create: bool,
    /// Whether no two records may share its value.
    pub unique: bool,
    /// Whether lists can be filtered on it.
    pub filter: bool,
    /// Whether backends keep an index on it: every unique and filter field, and any field
    /// declared `index`.
    pub indexed: bool,
    /// Who sets it.
    pub edit: Edit,
    /// What a request's value must be: its type's rules, narrowed by the field's attributes.
    pub rules: Rules,
    /// The values a create request may carry (an order's first states); empty for any.
    pub initial: &'static [&'static str],
    /// Whether the referenced record must exist when a record is created or changed.
    pub checked: bool,
}

/// Who sets a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edit {
    /// A request sets it when creating and may change it.
    Free,
    /// A request sets it when creating; nothing changes it afterwards.
    Fixed,
    /// The model's rules compute it; no request carries it.
    Derived,
}

/// What kind of value a field holds: what a storage mapping or an API schema needs to know
/// beyond the serde form (a reference is an ObjectId in MongoDB and a string in JSON).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    /// Text.
    Text,
    /// A whole number.
    Integer,
    /// A number with a fraction.
    Number,
    /// One of these names.
    Choice(&'static [&'static str]),
    /// The id of a record of the model with this name.
    Reference(&'static str),
    /// A list of records of a nested model with these fields (an order's items).
    Records(&'static [Field]),
}

/// A type a model's field may have: how a request carries it and how it is checked.
///
/// Implemented for the domain's validated values, [`Id`], `String`, `i64`, `f64`, `Option` of a
/// value and `Vec` of a nested model; a service implements it for its own value types, or
/// declares them with [`bounded_text!`](crate::bounded_text) and
/// [`enumeration!`](crate::enumeration).
pub trait Value: Sized {
    /// What a request carries, before checking: `String` for text, `i64` for a count.
    type Input: DeserializeOwned + Send + 'static;

    /// What kind of value it is.
    const KIND: Kind;

    /// What a request's value must be, beyond its JSON type: checked before [`Value::parse`]
    /// and published in API schemas. A field's attributes may narrow it.
    const RULES: Rules = Rules::NONE;

    /// Whether it may be absent.
    const OPTIONAL: bool = false;

    /// The value of a request's `field`, checked.
    ///
    /// # Errors
    /// A [`ValidationError`] naming `field` (or, for nested records, the nested field).
    fn parse(input: Self::Input, field: &'static str) -> Result<Self, ValidationError>;

    /// As [`Value::parse`], with every error of a value that holds several (a list of nested
    /// records): what a request's answer lists.
    ///
    /// # Errors
    /// Every error, each naming its field's path.
    fn parse_all(input: Self::Input, field: &'static str) -> Result<Self, Invalid> {
        Self::parse(input, field).map_err(Invalid::from)
    }

    /// A valid input, different for different `n` where the type allows it: what fixtures
    /// and API documentation are built from ([`Entity::example`](crate::Entity::example)).
    fn example(n: u32) -> Self::Input;

    /// The text a unique index compares, for values that can be unique keys.
    fn key(&self) -> Option<String> {
        None
    }
}

impl<T: Value> Value for Option<T> {
    type Input = Option<T::Input>;
    const KIND: Kind = T::KIND;
    const RULES: Rules = T::RULES;
    const OPTIONAL: bool = true;

    fn parse(input: Self::Input, field: &'static str) -> Result<Self, ValidationError> {
        input.map(|input| T::parse(input, field)).transpose()
    }

    fn example(n: u32) -> Self::Input {
        Some(T::example(n))
    }

    fn key(&self) -> Option<String> {
        self.as_ref().and_then(Value::key)
    }
}

/// A list of nested records, each read as a create request of its own model and admitted by
/// its rules; errors name the item's path (`items[2].quantity`).
impl<T: crate::Entity> Value for Vec<T> {
    type Input = Vec<serde_json::Value>;
    const KIND: Kind = Kind::Records(T::FIELDS);

    fn parse(input: Self::Input, field: &'static str) -> Result<Self, ValidationError> {
        Self::parse_all(input, field).map_err(|invalid| invalid.first().clone())
    }

    fn parse_all(input: Self::Input, field: &'static str) -> Result<Self, Invalid> {
        let mut items = Vec::with_capacity(input.len());
        let mut errors = Vec::new();
        for (n, item) in input.into_iter().enumerate() {
            let admitted = T::from_request(item)
                .and_then(|item| crate::Entity::admit(item).map_err(Invalid::from));
            match admitted {
                Ok(item) => items.push(item),
                Err(invalid) => {
                    let path = format!("{field}[{n}]");
                    errors.extend_from_slice(invalid.within(&path).errors());
                }
            }
        }
        Invalid::of(errors).map_or(Ok(items), Err)
    }

    fn example(n: u32) -> Self::Input {
        __private::json_of(&T::example_new(n)).map_or_else(|_| Vec::new(), |item| vec![item])
    }
}

impl<T: Model> Value for Id<T> {
    type Input = String;
    const KIND: Kind = Kind::Reference(T::NAME);

    fn parse(input: String, field: &'static str) -> Result<Self, ValidationError> {
        Id::parse(&input).map_err(|_| {
            ValidationError::new(
                field,
                Problem::Malformed("an id of 24 hexadecimal characters"),
            )
        })
    }

    fn example(n: u32) -> String {
        let mut bytes = [0x65, 0xf0, 0xa1, 0xb2, 0, 0, 0, 0, 0, 0, 0, 0];
        bytes[8..].copy_from_slice(&n.to_be_bytes());
        Id::<T>::from_bytes(bytes).to_string()
    }

    fn key(&self) -> Option<String> {
        Some(self.to_string())
    }
}

/// Text as it comes: for a field with no rule of its own.
impl Value for String {
    type Input = String;
    const KIND: Kind = Kind::Text;

    fn parse(input: String, _field: &'static str) -> Result<Self, ValidationError> {
        Ok(input)
    }

    fn example(n: u32) -> String {
        format!("example {n}")
    }

    fn key(&self) -> Option<String> {
        Some(self.clone())
    }
}

/// A whole number with no rule of its own, within what every JSON client reads exactly.
impl Value for i64 {
    type Input = i64;
    const KIND: Kind = Kind::Integer;
    const RULES: Rules = Rules {
        format: Some("int64"),
        ..Rules::range(-SAFE_INTEGER, SAFE_INTEGER)
    };

    fn parse(input: i64, _field: &'static str) -> Result<Self, ValidationError> {
        Ok(input)
    }

    fn example(n: u32) -> i64 {
        i64::from(n)
    }

    fn key(&self) -> Option<String> {
        Some(self.to_string())
    }
}

/// A finite number with no rule of its own.
impl Value for f64 {
    type Input = f64;
    const KIND: Kind = Kind::Number;

    fn parse(input: f64, field: &'static str) -> Result<Self, ValidationError> {
        if input.is_finite() {
            Ok(input)
        } else {
            Err(ValidationError::new(field, Problem::OutOfRange))
        }
    }

    fn example(n: u32) -> f64 {
        f64::from(n) + 0.5
    }
}

/// What the derive's generated code names; not part of the API.
#[doc(hidden)]
pub mod __private {
    pub use crate::request::Form;
    pub use crate::text::trimmed;
    pub use regex::Regex;
    pub use serde;
    use serde::{Deserialize, Deserializer, Serialize};
    pub use serde_json;

    use crate::error::{Invalid, Problem, ValidationError};

    /// `example` (a value type's) brought within a field's `rules`, which may be narrower than
    /// the type's.
    pub fn fitted<I: Serialize + serde::de::DeserializeOwned>(
        example: I,
        rules: &crate::Rules,
    ) -> I {
        let Ok(json) = serde_json::to_value(&example) else {
            return example;
        };
        serde_json::from_value(rules.fit(json)).unwrap_or(example)
    }

    /// The JSON form of a typed request, which the request parser reads.
    pub fn json_of<T: Serialize>(request: &T) -> Result<serde_json::Value, Invalid> {
        serde_json::to_value(request)
            .map_err(|_| ValidationError::new("", Problem::WrongType("a JSON object")).into())
    }

    /// Tells "absent" (`None`, through `#[serde(default)]`) from "null" (`Some(None)`).
    pub fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
        deserializer: D,
    ) -> Result<Option<T>, D::Error> {
        T::deserialize(deserializer).map(Some)
    }
}
