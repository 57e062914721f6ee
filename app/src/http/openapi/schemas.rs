//! A model's three shapes in the API, written from its declaration ([`Model::FIELDS`]), so a
//! model mounted by another team is documented exactly as ours are:
//! - the record an answer carries (`Branch`): every field, `id`, `createdAt`, `updatedAt`;
//!   no bounds, because stored values are read as they are;
//! - the create request (`NewBranch`): the fields a request may set, the required ones
//!   required, nothing else accepted, each with its declared rules ([`domain::Rules`]) as
//!   JSON Schema keywords, and a state machine's field limited to its initial values;
//! - the change request (`BranchChange`): the fields a patch may change, all optional, with
//!   the same rules.

use domain::{Edit, Field, Kind, Model};
use serde_json::Value;
use utoipa::openapi::schema::{
    AdditionalProperties, ArrayBuilder, ObjectBuilder, Schema, SchemaType, Type,
};
use utoipa::openapi::{KnownFormat, RefOr, SchemaFormat};

/// An id as the API shows it: the 24 lower-case hexadecimal characters of a MongoDB ObjectId.
/// Requests may write it in either case ([`domain::ID_PATTERN`]).
pub(crate) const ID_PATTERN: &str = "^[0-9a-f]{24}$";

/// Which of a model's shapes a schema describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    Record,
    New,
    Change,
}

/// The component name of the record of `M`; the request forms are `New{name}` and
/// `{name}Change`.
pub(crate) fn record_name<M: Model>() -> String {
    M::NAME.to_owned()
}

/// The component name of `M`'s create request.
pub(crate) fn new_name<M: Model>() -> String {
    format!("New{}", M::NAME)
}

/// The component name of `M`'s change request.
pub(crate) fn change_name<M: Model>() -> String {
    format!("{}Change", M::NAME)
}

/// The three components of `M`, by name.
pub(crate) fn model_components<M: Model>() -> Vec<(String, RefOr<Schema>)> {
    vec![
        (record_name::<M>(), record(M::FIELDS).into()),
        (new_name::<M>(), object(M::FIELDS, Shape::New).into()),
        (change_name::<M>(), object(M::FIELDS, Shape::Change).into()),
    ]
}

/// An id: what `id` and every reference carry.
pub(crate) fn id() -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(ID_PATTERN))
}

/// An id as a request may write it: in either case.
pub(crate) fn requested_id() -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(domain::ID_PATTERN))
}

/// A record: its fields plus the id and timestamps every stored record has.
fn record(fields: &[Field]) -> Schema {
    let timestamp = || {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
    };
    let mut schema = object(fields, Shape::Record);
    if let Schema::Object(object) = &mut schema {
        for (name, property) in [
            ("id", id()),
            ("createdAt", timestamp()),
            ("updatedAt", timestamp()),
        ] {
            object.properties.insert(name.to_owned(), property.into());
            object.required.push(name.to_owned());
        }
    }
    schema
}

/// The fields of `shape` as a closed object: no other key is answered or accepted.
fn object(fields: &[Field], shape: Shape) -> Schema {
    let closed = ObjectBuilder::new()
        .schema_type(Type::Object)
        .additional_properties(Some(AdditionalProperties::FreeForm(false)));
    fields
        .iter()
        .filter(|field| carried(field, shape))
        .fold(closed, |object, field| {
            let object = object.property(field.name, value(field, shape));
            if required(field, shape) {
                object.required(field.name)
            } else {
                object
            }
        })
        .into()
}

/// Whether `shape` carries `field`: a record every field, a create request all but those the
/// rules compute, a change request those a request may change.
fn carried(field: &Field, shape: Shape) -> bool {
    match shape {
        Shape::Record => true,
        Shape::New => field.edit != Edit::Derived,
        Shape::Change => field.edit == Edit::Free,
    }
}

fn required(field: &Field, shape: Shape) -> bool {
    match shape {
        Shape::Record => !field.optional,
        Shape::New => field.required_on_create,
        Shape::Change => false,
    }
}

/// The schema of one field's value; an optional field may also be `null` (a record shows an
/// unset field as `null`, and a change sets one to `null` to clear it). A request's value
/// carries the field's rules; a record's does not, as stored values are read as they are.
fn value(field: &Field, shape: Shape) -> RefOr<Schema> {
    let of_type = |kind: Type| -> SchemaType {
        if field.optional {
            [kind, Type::Null].into_iter().collect()
        } else {
            kind.into()
        }
    };
    let scalar = |kind: Type| ObjectBuilder::new().schema_type(of_type(kind));
    let requested = shape != Shape::Record;
    let rules = &field.rules;
    match field.kind {
        Kind::Text if requested => scalar(Type::String)
            .min_length(rules.min_length)
            .max_length(rules.max_length)
            .pattern(Some(rules.pattern()))
            .format(rules.format.map(format))
            .into(),
        Kind::Text => scalar(Type::String).into(),
        Kind::Integer | Kind::Number => {
            let kind = if field.kind == Kind::Integer {
                Type::Integer
            } else {
                Type::Number
            };
            let number = scalar(kind);
            if requested {
                number
                    .minimum(rules.minimum)
                    .maximum(rules.maximum)
                    .format(rules.format.map(format))
                    .into()
            } else {
                number.into()
            }
        }
        Kind::Choice(names) => {
            let allowed = if shape == Shape::New && !field.initial.is_empty() {
                field.initial
            } else {
                names
            };
            let mut values: Vec<Value> = allowed.iter().map(|name| Value::from(*name)).collect();
            if field.optional {
                values.push(Value::Null);
            }
            scalar(Type::String).enum_values(Some(values)).into()
        }
        Kind::Reference(model) => {
            let pattern = if requested {
                domain::ID_PATTERN
            } else {
                ID_PATTERN
            };
            scalar(Type::String)
                .pattern(Some(pattern))
                .description(Some(format!("The id of a {model}.")))
                .into()
        }
        Kind::Records(nested) => {
            // A nested record is created whole, in a create or a change: its create form.
            let item_shape = if shape == Shape::Record {
                Shape::Record
            } else {
                Shape::New
            };
            let list = ArrayBuilder::new().items(RefOr::T(object(nested, item_shape)));
            if requested {
                list.min_items(rules.min_items)
                    .max_items(rules.max_items)
                    .into()
            } else {
                list.into()
            }
        }
    }
}

/// A declared format, as the schema writes it.
fn format(name: &'static str) -> SchemaFormat {
    match name {
        "int64" => SchemaFormat::KnownFormat(KnownFormat::Int64),
        "email" => SchemaFormat::KnownFormat(KnownFormat::Email),
        other => SchemaFormat::Custom(other.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use domain::{Branch, Order};
    use serde_json::json;

    use super::*;

    fn component<M: Model>(name: &str) -> Value {
        let (_, schema) = model_components::<M>()
            .into_iter()
            .find(|(component, _)| component == name)
            .expect("a component of that name");
        serde_json::to_value(schema).expect("a schema serialises")
    }

    #[test]
    fn a_record_has_its_id_timestamps_and_every_field_and_nothing_else() {
        let branch = component::<Branch>("Branch");
        let required = branch["required"].as_array().expect("required fields");
        for name in ["id", "createdAt", "updatedAt", "name"] {
            assert!(
                required.contains(&json!(name)),
                "{name} is required: {branch}"
            );
        }
        assert_eq!(branch["additionalProperties"], json!(false));
        assert_eq!(branch["properties"]["id"]["pattern"], json!(ID_PATTERN));
    }

    #[test]
    fn the_request_forms_follow_who_sets_each_field() {
        let new_order = component::<Order>("NewOrder");
        let change = component::<Order>("OrderChange");
        assert!(
            new_order["properties"].get("total").is_none(),
            "derived: {new_order}"
        );
        assert!(
            new_order["properties"].get("branchId").is_some(),
            "{new_order}"
        );
        assert!(
            change["properties"].get("branchId").is_none(),
            "fixed: {change}"
        );
        assert!(
            change.get("required").is_none(),
            "a change requires nothing: {change}"
        );
        let items = &new_order["properties"]["items"]["items"];
        assert_eq!(items["additionalProperties"], json!(false), "{items}");
        let status = &change["properties"]["status"]["enum"];
        assert!(status
            .as_array()
            .is_some_and(|names| names.contains(&json!("pending"))));
    }

    #[test]
    fn a_request_form_publishes_each_fields_declared_rules_and_a_record_none() {
        let new_branch = component::<Branch>("NewBranch");
        let name = &new_branch["properties"]["name"];
        assert_eq!(
            (&name["minLength"], &name["maxLength"]),
            (&json!(1), &json!(100))
        );
        let pattern = name["pattern"].as_str().expect("a pattern");
        let matches = |text: &str| regex::Regex::new(pattern).unwrap().is_match(text);
        assert!(matches("  Lyon ") && !matches("   ") && !matches("C\u{0}x"));
        assert!(component::<Branch>("Branch")["properties"]["name"]
            .get("maxLength")
            .is_none());

        let new_order = component::<Order>("NewOrder");
        let items = &new_order["properties"]["items"];
        assert_eq!(
            (&items["minItems"], &items["maxItems"]),
            (&json!(1), &json!(100))
        );
        let quantity = &items["items"]["properties"]["quantity"];
        assert_eq!(
            (&quantity["minimum"], &quantity["maximum"]),
            (&json!(1), &json!(1_000_000))
        );
        assert_eq!(
            new_order["properties"]["status"]["enum"],
            json!(["pending"])
        );
        let change = component::<Order>("OrderChange");
        assert_eq!(
            change["properties"]["status"]["enum"]
                .as_array()
                .map(Vec::len),
            Some(4)
        );
    }
}
