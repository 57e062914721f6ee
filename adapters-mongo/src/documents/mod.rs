//! The stored shape of each entity: Mongoose's, so that the Node.js services and this crate
//! read and write the same documents.
//!
//! Every document has `_id` (ObjectId), the entity's fields in camelCase, `createdAt` and
//! `updatedAt` (BSON dates) and `__v` (Int32, the record's [`Version`]). On read, unknown fields
//! are ignored, a missing or null `__v` is version 0, missing timestamps fall back to the time
//! in the `_id`, and the entity's own fields are read as the model's declaration says (see
//! `shape`), as they are: stored data is not validated again, so a value an older rule
//! accepted never makes a read fail.

mod fields;
mod shape;

use domain::{Entity, Id, Model, Record, Timestamp, Version};
use mongodb::bson::oid::ObjectId;
use mongodb::bson::{doc, Bson, DateTime, Document, RawBsonRef, RawDocument};
use ports::RepositoryError;

pub(crate) use fields::object_id;

/// The collection of `T`, named as Mongoose names a model's: plural, lower case
/// (`Branch` → `branches`, `MasterAdmin` → `masteradmins`).
pub fn collection_name<T: Model>() -> String {
    domain::plural_name(T::NAME).to_lowercase()
}

/// Why a stored document does not read as an entity.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum DocumentError {
    /// A required field is absent.
    #[error("field {field} is missing")]
    Missing {
        /// The field.
        field: String,
    },
    /// A field holds another type of value.
    #[error("field {field} should be {expected}, not {found}")]
    WrongType {
        /// The field.
        field: String,
        /// The types accepted.
        expected: &'static str,
        /// The BSON type found.
        found: String,
    },
    /// The declared fields do not read as the model: a required field is missing, or holds
    /// a value of another shape.
    #[error("{0}")]
    Shape(String),
}

/// The stored document of `record`.
///
/// # Errors
/// [`RepositoryError::Internal`] when the entity has no document form (a model whose serde
/// form is not a map, or a number beyond BSON's range).
pub(crate) fn to_document<T: Entity>(record: &Record<T>) -> Result<Document, RepositoryError> {
    let fields = shape::write(record.entity()).map_err(|err| {
        RepositoryError::Internal(format!("a {} cannot be stored: {err}", T::NAME))
    })?;
    let mut document = doc! { "_id": object_id(record.id()) };
    document.extend(fields);
    document.insert("createdAt", date(record.created_at()));
    document.insert("updatedAt", date(record.updated_at()));
    document.insert("__v", version(record.version()));
    Ok(document)
}

/// `written`, plus the fields of `stored` that neither the entity nor the record owns.
///
/// Saving replaces the whole document, so without this a field the domain does not model
/// (written by the Node.js services sharing the collection) would be erased by any update.
pub(crate) fn with_foreign_fields<T: Model>(stored: Document, mut written: Document) -> Document {
    const RECORD_FIELDS: [&str; 4] = ["_id", "createdAt", "updatedAt", "__v"];
    shape::carry_over_nested(T::FIELDS, &stored, &mut written);
    for (field, value) in stored {
        let declared = T::FIELDS.iter().any(|f| f.name == field);
        let owned = declared || RECORD_FIELDS.contains(&field.as_str());
        if !owned && !written.contains_key(&field) {
            written.insert(field, value);
        }
    }
    written
}

/// The record stored in `document`, read from the bytes the server sent: the driver's
/// `Document` of the whole reply is never built.
///
/// # Errors
/// [`RepositoryError::Internal`] naming the collection and the id when the document does not
/// read: stored data that no longer validates is a fault to investigate, not a user error.
pub(crate) fn from_document<T: Entity>(
    document: &RawDocument,
    collection: &str,
) -> Result<Record<T>, RepositoryError> {
    read_record(document).map_err(|err| {
        let id = shown_id(document);
        RepositoryError::Internal(format!(
            "stored {collection} document {id} cannot be read: {err}"
        ))
    })
}

/// The record stored in `document`, read exactly as [`from_document`] reads it, with the
/// reason it does not read kept structured, and the document's id as messages show it: what a
/// scan of a whole collection reports per document.
pub(crate) fn read_stored<T: Entity>(
    document: &RawDocument,
) -> Result<Record<T>, (String, DocumentError)> {
    read_record(document).map_err(|err| (shown_id(document), err))
}

fn read_record<T: Entity>(document: &RawDocument) -> Result<Record<T>, DocumentError> {
    let id: Id<T> = fields::id(document, "_id")?;
    let entity = shape::read(document)?;
    let created_at = match fields::optional_date(document, "createdAt")? {
        Some(at) => at,
        None => id_time(id)?,
    };
    let updated_at = fields::optional_date(document, "updatedAt")?.unwrap_or(created_at);
    let version = match fields::optional_integer(document, "__v")? {
        None => Version::INITIAL,
        Some(n) => Version::new(u32::try_from(n).map_err(|_| DocumentError::WrongType {
            field: "__v".into(),
            expected: "a whole number from 0 to 4294967295",
            found: n.to_string(),
        })?),
    };
    Ok(Record::restore(id, entity, created_at, updated_at, version))
}

/// The condition on `updatedAt` that holds only while the stored document is still the one
/// read: Mongoose's `timestamps` move `updatedAt` on every write, `__v` only on some, so a
/// write by the Node.js services between our read and our replace is caught too.
pub(crate) fn unchanged_since_read(stored: &Document) -> Document {
    match stored.get("updatedAt") {
        Some(value) => doc! { "updatedAt": value.clone() },
        None => doc! { "updatedAt": { "$exists": false } },
    }
}

/// Whether `stored` was saved after `record` was read: its `updatedAt` is no longer the date
/// read (a document without one cannot tell, and relies on `__v` alone).
pub(crate) fn saved_since<T: Entity>(stored: &Document, record: &Record<T>) -> bool {
    match stored.get("updatedAt") {
        None => false,
        Some(Bson::DateTime(at)) => at.timestamp_millis() != record.updated_at().millis(),
        Some(_) => true,
    }
}

/// The filter that matches the stored record `id` only while it still has `version`. A
/// document Mongoose wrote without `__v` is at version 0, so version 0 also matches a missing
/// or null `__v` (`$in` with null matches both in MongoDB).
pub(crate) fn versioned_filter<T>(id: Id<T>, expected: Version) -> Document {
    let version_condition = if expected == Version::INITIAL {
        Bson::Document(doc! { "$in": [version(expected), Bson::Null] })
    } else {
        version(expected)
    };
    doc! { "_id": object_id(id), "__v": version_condition }
}

fn date(at: Timestamp) -> DateTime {
    DateTime::from_millis(at.millis())
}

/// `__v` as Mongoose writes it: Int32, or Int64 beyond its range.
fn version(version: Version) -> Bson {
    match i32::try_from(version.number()) {
        Ok(n) => Bson::Int32(n),
        Err(_) => Bson::Int64(i64::from(version.number())),
    }
}

/// The creation time held in an ObjectId, for documents written without `createdAt`.
fn id_time<T>(id: Id<T>) -> Result<Timestamp, DocumentError> {
    let millis = ObjectId::from_bytes(id.bytes())
        .timestamp()
        .timestamp_millis();
    Timestamp::from_millis(millis).ok_or_else(|| DocumentError::WrongType {
        field: "_id".into(),
        expected: "an ObjectId with a representable time",
        found: id.to_string(),
    })
}

/// The `_id` of `document` as messages show it.
fn shown_id(document: &RawDocument) -> String {
    match document.get("_id") {
        Ok(Some(RawBsonRef::ObjectId(oid))) => oid.to_hex(),
        Ok(Some(other)) => Bson::try_from(other).map_or_else(
            |_| "with a malformed _id".to_owned(),
            |id| id.to_string().chars().take(64).collect(),
        ),
        Ok(None) | Err(_) => "without _id".to_owned(),
    }
}

#[cfg(test)]
mod tests;
