//! The entity's own fields, between the model's serde form and Mongoose's document, driven by
//! the model's declared [`Field`]s: what serde cannot know is that a reference is an ObjectId,
//! that Node.js writes a whole number as Int32, and that Mongoose gives each array
//! sub-document an `_id`.

use domain::{Field, Kind, Model};
use mongodb::bson::oid::ObjectId;
use mongodb::bson::{self, Bson, Document, RawBsonRef, RawDocument};

use super::fields::malformed;
use super::DocumentError;

/// The fields of `entity` as Mongoose stores them, in declaration order.
pub(super) fn write<T: Model>(entity: &T) -> Result<Document, DocumentError> {
    let mut document =
        bson::to_document(entity).map_err(|err| DocumentError::Shape(err.to_string()))?;
    to_stored(T::FIELDS, &mut document);
    Ok(document)
}

/// The entity held in the declared fields of `stored`, read as it is: any other field, a
/// null, or the `_id` of a sub-document is left out; numbers are taken in any numeric type.
/// Only the declared fields are taken out of the server's bytes: the rest of the document
/// (Mongoose's `_id`s, fields of other services) is never copied.
pub(super) fn read<T: Model>(stored: &RawDocument) -> Result<T, DocumentError> {
    let fields = bson::Deserializer::new(Bson::Document(declared(T::FIELDS, stored)?));
    // The path names the field (`items[0].quantity`) that serde's message alone does not.
    serde_path_to_error::deserialize(fields).map_err(|err| {
        let path = err.path().to_string();
        DocumentError::Shape(format!("{path}: {}", err.into_inner()))
    })
}

/// `written`'s nested records, each with the `_id` and the undeclared fields of the stored
/// record at the same index when it is the same record: same values in its unique fields, or
/// in every field when it declares none (Mongoose's item `_id`, a description, a discount).
pub(super) fn carry_over_nested(fields: &[Field], stored: &Document, written: &mut Document) {
    for field in fields {
        let Kind::Records(nested) = field.kind else {
            continue;
        };
        let (Ok(before), Ok(after)) = (
            stored.get_array(field.name),
            written.get_array_mut(field.name),
        ) else {
            continue;
        };
        for (old, new) in before.iter().zip(after.iter_mut()) {
            let (Bson::Document(old), Bson::Document(new)) = (old, new) else {
                continue;
            };
            if same_record(nested, old, new) {
                let mut merged = old.clone();
                merged.extend(std::mem::take(new).into_iter().filter(|(k, _)| k != "_id"));
                *new = merged;
            }
        }
    }
}

fn same_record(fields: &[Field], old: &Document, new: &Document) -> bool {
    let unique: Vec<&Field> = fields.iter().filter(|f| f.unique).collect();
    let keys = if unique.is_empty() {
        fields.iter().collect()
    } else {
        unique
    };
    keys.iter().all(|f| old.get(f.name) == new.get(f.name))
}

fn to_stored(fields: &[Field], document: &mut Document) {
    for field in fields {
        let Some(value) = document.get_mut(field.name) else {
            continue;
        };
        match (field.kind, &mut *value) {
            // Mongoose leaves an unset optional path out of the document.
            (_, Bson::Null) => {
                document.remove(field.name);
            }
            (Kind::Reference(_), Bson::String(hex)) => {
                if let Ok(oid) = ObjectId::parse_str(hex.as_str()) {
                    *value = Bson::ObjectId(oid);
                }
            }
            (Kind::Integer, Bson::Int64(n)) => {
                if let Ok(n) = i32::try_from(*n) {
                    *value = Bson::Int32(n);
                }
            }
            (Kind::Records(nested), Bson::Array(items)) => {
                for item in items.iter_mut() {
                    if let Bson::Document(record) = item {
                        to_stored(nested, record);
                        let mut with_id = bson::doc! { "_id": ObjectId::new() };
                        with_id.extend(std::mem::take(record));
                        *record = with_id;
                    }
                }
            }
            _ => {}
        }
    }
}

fn declared(fields: &[Field], stored: &RawDocument) -> Result<Document, DocumentError> {
    let mut document = Document::new();
    for field in fields {
        let value = match (field.kind, super::fields::value(stored, field.name)?) {
            (_, None | Some(RawBsonRef::Null)) => continue,
            (Kind::Reference(_), Some(RawBsonRef::ObjectId(oid))) => Bson::String(oid.to_hex()),
            // JavaScript has one number type: a whole number may come back as a double.
            (Kind::Integer, Some(RawBsonRef::Double(x)))
                if x.fract() == 0.0 && x.abs() < 9.0e15 =>
            {
                Bson::Int64(x as i64)
            }
            (Kind::Records(nested), Some(RawBsonRef::Array(items))) => {
                let mut records = Vec::new();
                for item in items {
                    records.push(match item.map_err(|err| malformed(field.name, err))? {
                        RawBsonRef::Document(record) => Bson::Document(declared(nested, record)?),
                        other => owned(field, other)?,
                    });
                }
                Bson::Array(records)
            }
            (_, Some(value)) => owned(field, value)?,
        };
        document.insert(field.name, value);
    }
    Ok(document)
}

/// `value` as an owned [`Bson`], for serde to read.
fn owned(field: &Field, value: RawBsonRef<'_>) -> Result<Bson, DocumentError> {
    Bson::try_from(value).map_err(|err| malformed(field.name, err))
}
