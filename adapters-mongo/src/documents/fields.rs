//! Reading the record's own fields (`_id`, timestamps, `__v`) out of stored documents,
//! tolerant of the numeric types Node.js writes.

use domain::{Id, Timestamp};
use mongodb::bson::oid::ObjectId;
use mongodb::bson::{Bson, Document};

use super::DocumentError;

/// The ObjectId with the bytes of `id`.
pub(crate) fn object_id<T>(id: Id<T>) -> ObjectId {
    ObjectId::from_bytes(id.bytes())
}

/// The ObjectId in `field`, as an id.
pub(crate) fn id<T>(document: &Document, field: &str) -> Result<Id<T>, DocumentError> {
    optional_id(document, field)?.ok_or_else(|| missing(field))
}

/// The ObjectId in `field`, or `None` when the field is absent or null.
pub(crate) fn optional_id<T>(
    document: &Document,
    field: &str,
) -> Result<Option<Id<T>>, DocumentError> {
    match document.get(field) {
        None | Some(Bson::Null) => Ok(None),
        Some(Bson::ObjectId(oid)) => Ok(Some(Id::from_bytes(oid.bytes()))),
        Some(other) => Err(wrong_type(field, "an ObjectId", other)),
    }
}

/// The whole number in `field` (Int32, Int64, or a Double without fraction), or `None` when
/// absent or null.
pub(crate) fn optional_integer(
    document: &Document,
    field: &str,
) -> Result<Option<i64>, DocumentError> {
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

/// The date in `field`, or `None` when absent or null.
pub(crate) fn optional_date(
    document: &Document,
    field: &str,
) -> Result<Option<Timestamp>, DocumentError> {
    match document.get(field) {
        None | Some(Bson::Null) => Ok(None),
        Some(Bson::DateTime(at)) => Timestamp::from_millis(at.timestamp_millis())
            .map(Some)
            .ok_or_else(|| wrong_type(field, "a representable date", &Bson::DateTime(*at))),
        Some(other) => Err(wrong_type(field, "a date", other)),
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
