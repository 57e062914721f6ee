//! Reading the record's own fields (`_id`, timestamps, `__v`) out of stored documents, as the
//! server sent them (raw BSON), tolerant of the numeric types Node.js writes.

use domain::{Id, Timestamp};
use mongodb::bson::oid::ObjectId;
use mongodb::bson::{RawBsonRef, RawDocument};

use super::DocumentError;

/// The ObjectId with the bytes of `id`.
pub(crate) fn object_id<T>(id: Id<T>) -> ObjectId {
    ObjectId::from_bytes(id.bytes())
}

/// The ObjectId in `field`, as an id.
pub(crate) fn id<T>(document: &RawDocument, field: &str) -> Result<Id<T>, DocumentError> {
    optional_id(document, field)?.ok_or_else(|| missing(field))
}

/// The ObjectId in `field`, or `None` when the field is absent or null.
pub(crate) fn optional_id<T>(
    document: &RawDocument,
    field: &str,
) -> Result<Option<Id<T>>, DocumentError> {
    match value(document, field)? {
        None | Some(RawBsonRef::Null) => Ok(None),
        Some(RawBsonRef::ObjectId(oid)) => Ok(Some(Id::from_bytes(oid.bytes()))),
        Some(other) => Err(wrong_type(field, "an ObjectId", other)),
    }
}

/// The whole number in `field` (Int32, Int64, or a Double without fraction), or `None` when
/// absent or null.
pub(crate) fn optional_integer(
    document: &RawDocument,
    field: &str,
) -> Result<Option<i64>, DocumentError> {
    const EXPECTED: &str = "a whole number";
    match value(document, field)? {
        None | Some(RawBsonRef::Null) => Ok(None),
        Some(RawBsonRef::Int32(n)) => Ok(Some(i64::from(n))),
        Some(RawBsonRef::Int64(n)) => Ok(Some(n)),
        // JavaScript has one number type; the Node.js driver may store a whole number as a
        // double. Accept it when it is exactly a whole number in range.
        Some(RawBsonRef::Double(x)) if x.fract() == 0.0 && x.abs() < 9.0e15 => Ok(Some(x as i64)),
        Some(other) => Err(wrong_type(field, EXPECTED, other)),
    }
}

/// The date in `field`, or `None` when absent or null.
pub(crate) fn optional_date(
    document: &RawDocument,
    field: &str,
) -> Result<Option<Timestamp>, DocumentError> {
    match value(document, field)? {
        None | Some(RawBsonRef::Null) => Ok(None),
        Some(at @ RawBsonRef::DateTime(date)) => Timestamp::from_millis(date.timestamp_millis())
            .map(Some)
            .ok_or_else(|| wrong_type(field, "a representable date", at)),
        Some(other) => Err(wrong_type(field, "a date", other)),
    }
}

/// The value of `field`, or `None` when absent.
///
/// # Errors
/// [`DocumentError::Shape`] when the bytes on the way to it are not well-formed BSON.
pub(crate) fn value<'a>(
    document: &'a RawDocument,
    field: &str,
) -> Result<Option<RawBsonRef<'a>>, DocumentError> {
    document.get(field).map_err(|err| malformed(field, err))
}

/// Why the raw BSON of `field` does not read: its bytes are not well-formed.
pub(crate) fn malformed(field: &str, err: impl std::fmt::Display) -> DocumentError {
    DocumentError::Shape(format!("{field}: {err}"))
}

fn missing(field: &str) -> DocumentError {
    DocumentError::Missing {
        field: field.to_owned(),
    }
}

fn wrong_type(field: &str, expected: &'static str, found: RawBsonRef<'_>) -> DocumentError {
    DocumentError::WrongType {
        field: field.to_owned(),
        expected,
        found: format!("{:?}", found.element_type()),
    }
}
