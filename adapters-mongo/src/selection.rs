//! The query document of a list: built from a [`ListQuery`]'s parsed conditions and the
//! model's declared field kinds only, never from a caller's document.

use domain::{Field, Kind};
use mongodb::bson::oid::ObjectId;
use mongodb::bson::{doc, Bson, Document};
use ports::{Condition, ListQuery};

use crate::documents::object_id;

/// What every listed record meets: each condition of the filter.
pub(crate) fn filter<T>(query: &ListQuery<T>) -> Document {
    query
        .filter()
        .conditions()
        .iter()
        .map(|condition| (condition.field().name.to_owned(), matcher(condition)))
        .collect()
}

/// The filter, after the query's cursor in `_id` order.
pub(crate) fn page_filter<T>(query: &ListQuery<T>) -> Document {
    let mut selection = filter(query);
    if let Some(after) = query.cursor() {
        selection.insert("_id", doc! { "$gt": object_id(after) });
    }
    selection
}

/// Equality for one value, `$in` for several: the query MongoDB answers from an index.
fn matcher(condition: &Condition) -> Bson {
    let field = condition.field();
    let mut values: Vec<Bson> = condition
        .values()
        .iter()
        .map(|value| stored(field, value))
        .collect();
    match values.len() {
        1 => values.remove(0),
        _ => Bson::Document(doc! { "$in": values }),
    }
}

/// A condition's value as the field is stored: a reference as an ObjectId, a whole number as
/// a number.
fn stored(field: &Field, value: &str) -> Bson {
    match field.kind {
        Kind::Reference(_) => ObjectId::parse_str(value)
            .map(Bson::ObjectId)
            .unwrap_or_else(|_| Bson::String(value.to_owned())),
        Kind::Integer => value
            .parse::<i64>()
            .map(Bson::Int64)
            .unwrap_or_else(|_| Bson::String(value.to_owned())),
        _ => Bson::String(value.to_owned()),
    }
}
