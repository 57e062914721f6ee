//! The indexes a model declares, and what became of them in one collection: created, or
//! refused by the server (legacy duplicates, an index of the same keys with other options).
//!
//! The outcome is decided once per repository. A refusal is logged once and kept, never
//! retried on every write: with legacy duplicates, a retry would rebuild an index over the
//! whole collection each time and fail again. Writes then go on, and the repository checks
//! unique values itself, by reading, until an operator resolves the conflict (`app check`
//! lists what is in the way) and restarts.

use domain::Model;
use mongodb::bson::doc;
use mongodb::options::IndexOptions;
use mongodb::IndexModel;

/// What became of a model's declared indexes in one collection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IndexStatus {
    /// Every declared index exists: the database enforces the unique fields.
    Ready,
    /// The server refused them. Writes go on; unique fields are checked by reading first,
    /// which a concurrent writer can race.
    Refused {
        /// The server's answer, as the repository maps it.
        reason: String,
    },
}

/// The model's indexes, named `<field>_1` as Mongoose names them: unique for `unique` fields,
/// plain for `filter` and `index` fields.
pub(crate) fn declared<T: Model>() -> Vec<IndexModel> {
    T::FIELDS
        .iter()
        .filter(|field| field.indexed)
        .map(|field| {
            let options = field
                .unique
                .then(|| IndexOptions::builder().unique(true).build());
            IndexModel::builder()
                .keys(doc! { field.name: 1 })
                .options(options)
                .build()
        })
        .collect()
}

/// The model's `unique` fields.
pub(crate) fn unique_fields<T: Model>() -> impl Iterator<Item = &'static str> {
    T::FIELDS.iter().filter(|f| f.unique).map(|f| f.name)
}
