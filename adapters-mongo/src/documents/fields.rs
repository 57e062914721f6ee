//! Reading typed values out of stored documents, tolerant of the numeric types Node.js writes:
//! the building blocks of a [`MongoEntity`](crate::MongoEntity) mapping.

use domain::{Id, Timestamp};
use mongodb::bson::oid::ObjectId;
use mongodb::bson::{Bson, Document};

use super::DocumentError;

/// The ObjectId with the bytes of `id`.
pub fn object_id<T>(id: Id<T>) -> ObjectId {
    ObjectId::from_bytes(id.bytes())
}

/// The ObjectId in `field`, as an id.
pub fn id<T>(document: &Document, field: &str) -> Result<Id<T>, DocumentError> {
    optional_id(document, field)?.ok_or_else(|| missing(field))
}

/// The ObjectId in `field`, or `None` when the field is absent or null.
pub fn optional_id<T>(document: &Document, field: &str) -> Result<Option<Id<T>>, DocumentError> {
    match document.get(field) {
        None | Some(Bson::Null) => Ok(None),
        Some(Bson::ObjectId(oid)) => Ok(Some(Id::from_bytes(oid.bytes()))),
        Some(other) => Err(wrong_type(field, "an ObjectId", other)),
    }
}

/// The string in `field`.
pub fn string<'a>(document: &'a Document, field: &str) -> Result<&'a str, DocumentError> {
    match document.get(field) {
        None | Some(Bson::Null) => Err(missing(field)),
        Some(Bson::String(text)) => Ok(text),
        Some(other) => Err(wrong_type(field, "a string", other)),
    }
}

/// The whole number in `field`.
pub fn integer(document: &Document, field: &str) -> Result<i64, DocumentError> {
    optional_integer(document, field)?.ok_or_else(|| missing(field))
}

/// The whole number in `field` (Int32, Int64, or a Double without fraction), or `None` when
/// absent or null.
pub fn optional_integer(document: &Document, field: &str) -> Result<Option<i64>, DocumentError> {
    const EXPECTED: &str = "a whole number";
    match document.get(field) {
        None | Some(Bson::Null) => Ok(None),
        Some(Bson::Int32(n)) => Ok(Some(i64::from(*n))),
        Some(Bson::Int64(n)) => Ok(Some(*n)),
        // JavaScript has one number type; the Node.js driver may store a whole number as a
        // double. Accept it when it is exactly a whole number in range.
        Some(Bson::Double(x)) if x.fract() == 0.0 && x.abs() < 9.0e15 => Ok(Some(*x as i64)),
        Some(other) => Err(wrong_type(field, EXPECTED, other)),
    }
}

/// The number in `field` (Double, Int32 or Int64).
pub fn number(document: &Document, field: &str) -> Result<f64, DocumentError> {
    match document.get(field) {
        None | Some(Bson::Null) => Err(missing(field)),
        Some(Bson::Double(x)) => Ok(*x),
        Some(Bson::Int32(n)) => Ok(f64::from(*n)),
        Some(Bson::Int64(n)) => Ok(*n as f64),
        Some(other) => Err(wrong_type(field, "a number", other)),
    }
}

/// The date in `field`, or `None` when absent or null.
pub fn optional_date(document: &Document, field: &str) -> Result<Option<Timestamp>, DocumentError> {
    match document.get(field) {
        None | Some(Bson::Null) => Ok(None),
        Some(Bson::DateTime(at)) => Timestamp::from_millis(at.timestamp_millis())
            .map(Some)
            .ok_or_else(|| wrong_type(field, "a representable date", &Bson::DateTime(*at))),
        Some(other) => Err(wrong_type(field, "a date", other)),
    }
}

/// The array in `field`.
pub fn array<'a>(document: &'a Document, field: &str) -> Result<&'a [Bson], DocumentError> {
    match document.get(field) {
        None | Some(Bson::Null) => Err(missing(field)),
        Some(Bson::Array(values)) => Ok(values),
        Some(other) => Err(wrong_type(field, "an array", other)),
    }
}

/// `value`, which must be a sub-document, stored at `field`.
pub fn subdocument<'a>(value: &'a Bson, field: &str) -> Result<&'a Document, DocumentError> {
    match value {
        Bson::Document(document) => Ok(document),
        other => Err(wrong_type(field, "a sub-document", other)),
    }
}

fn missing(field: &str) -> DocumentError {
    DocumentError::Missing {
        field: field.to_owned(),
    }
}

fn wrong_type(field: &str, expected: &'static str, found: &Bson) -> DocumentError {
    DocumentError::WrongType {
        field: field.to_owned(),
        expected,
        found: format!("{:?}", found.element_type()),
    }
}
