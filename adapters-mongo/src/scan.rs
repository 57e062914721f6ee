//! A whole collection read document by document, as stored: what a team checks before moving
//! a handler from the Node.js services (`app check`).
//!
//! The repository contract reads leniently and hides what it cannot read (a list leaves it out
//! and counts it). A scan shows it instead: every document is read the way the repository reads
//! it, and each one that does not read is reported with its id, field and reason; each one that
//! reads is also put through a check of the caller's (today's request rules), since a value
//! an older handler accepted reads fine but would be refused if sent again.

use domain::{Entity, Record};
use futures::TryStreamExt;
use mongodb::bson::{doc, RawDocumentBuf};
use ports::RepositoryError;

use crate::documents::{read_stored, DocumentError};
use crate::repository::MongoRepository;

/// What a scan of one collection found. A report rather than an error, because a collection
/// with a few unreadable documents is still worth reading to the end: the point is to list
/// what a migration must fix, not to stop at the first problem.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ScanReport {
    /// The database scanned (the role's).
    pub database: String,
    /// The collection scanned.
    pub collection: String,
    /// How many documents were read, readable or not.
    pub documents: u64,
    /// How many documents do not read as the model (a declared field of another type): the
    /// repository leaves them out of lists and fails reads of them by id.
    pub unreadable: u64,
    /// The first [`ScanReport::SAMPLES`] unreadable documents, in `_id` order.
    pub unreadable_samples: Vec<Finding>,
    /// How many readable documents the caller's check refused: values today's rules would not
    /// accept in a request (`ops@localhost` as an email).
    pub refused: u64,
    /// The first [`ScanReport::SAMPLES`] refused documents, in `_id` order.
    pub refused_samples: Vec<Finding>,
}

impl ScanReport {
    /// How many documents of each kind a report names, so that a report on a large collection
    /// stays readable.
    pub const SAMPLES: usize = 5;

    fn new<T: Entity>(repository: &MongoRepository<T>) -> Self {
        Self {
            database: repository.connection().database_name().to_owned(),
            collection: repository.collection_name().to_owned(),
            documents: 0,
            unreadable: 0,
            unreadable_samples: Vec::new(),
            refused: 0,
            refused_samples: Vec::new(),
        }
    }

    /// Whether every document read.
    pub fn all_readable(&self) -> bool {
        self.unreadable == 0
    }
}

/// One document a scan reports: which, where, and why, so that it can be found and fixed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The document's `_id` (an ObjectId's hexadecimal text, or the value as it is).
    pub id: String,
    /// The field at fault (`serialNumber`, `items[0].quantity`); empty when the document as a
    /// whole is at fault.
    pub field: String,
    /// What is wrong with it.
    pub reason: String,
}

/// Why a scan's check refuses a readable record: the field and the problem, as a request
/// would be answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The field at fault; empty when the record as a whole is at fault.
    pub field: String,
    /// What is wrong with it.
    pub reason: String,
}

impl<T: Entity> MongoRepository<T> {
    /// Reads every document of the collection, one at a time through a cursor in `_id` order
    /// (never the whole collection in memory), the way [`ports::Repository::get`] reads one,
    /// and puts each readable record through `check`. `progress` is called after each
    /// document with how many were read so far.
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when the database cannot be reached, or stops
    /// answering during the scan; [`RepositoryError::Internal`] when the server refuses the
    /// query. Documents that do not read are not errors: they are in the report.
    pub async fn scan(
        &self,
        mut check: impl FnMut(&T) -> Result<(), Refusal>,
        mut progress: impl FnMut(u64),
    ) -> Result<ScanReport, RepositoryError> {
        let fail = |err: mongodb::error::Error| {
            let error = self.connection().map_error(&err, None);
            tracing::warn!(collection = %self.collection_name(), %error, "scan failed");
            error
        };
        let mut cursor = self
            .connection()
            .database()
            .await?
            .collection::<RawDocumentBuf>(self.collection_name())
            .find(doc! {})
            .sort(doc! { "_id": 1 })
            .await
            .map_err(fail)?;
        self.connection().answered();
        let mut report = ScanReport::new(self);
        while let Some(document) = cursor.try_next().await.map_err(fail)? {
            report.documents += 1;
            match read_stored::<T>(&document) {
                Ok(record) => check_record(&mut report, &record, &mut check),
                Err((id, error)) => {
                    report.unreadable += 1;
                    if report.unreadable_samples.len() < ScanReport::SAMPLES {
                        let (field, reason) = located(&error);
                        report
                            .unreadable_samples
                            .push(Finding { id, field, reason });
                    }
                }
            }
            progress(report.documents);
        }
        Ok(report)
    }
}

fn check_record<T: Entity>(
    report: &mut ScanReport,
    record: &Record<T>,
    check: &mut impl FnMut(&T) -> Result<(), Refusal>,
) {
    if let Err(Refusal { field, reason }) = check(record.entity()) {
        report.refused += 1;
        if report.refused_samples.len() < ScanReport::SAMPLES {
            let id = record.id().to_string();
            report.refused_samples.push(Finding { id, field, reason });
        }
    }
}

/// The field a read error is about, and the rest of its message.
fn located(error: &DocumentError) -> (String, String) {
    match error {
        DocumentError::Missing { field } => (field.clone(), "is missing".to_owned()),
        DocumentError::WrongType {
            field,
            expected,
            found,
        } => (field.clone(), format!("should be {expected}, not {found}")),
        // `path: message`, the path `.` when the document as a whole does not read (a missing
        // field, whose name is then in the message).
        DocumentError::Shape(text) => {
            let (path, message) = text.split_once(": ").unwrap_or(("", text.as_str()));
            let field = match path {
                "" | "." => missing_field(message).unwrap_or_default(),
                path => path.to_owned(),
            };
            (field, message.to_owned())
        }
    }
}

/// The field named by serde's "missing field `name`".
fn missing_field(message: &str) -> Option<String> {
    let rest = message.strip_prefix("missing field `")?;
    rest.split_once('`').map(|(field, _)| field.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_read_error_is_located_at_its_field() {
        let shape = DocumentError::Shape(
            "serialNumber: invalid type: integer `42`, expected a string".into(),
        );
        assert_eq!(
            located(&shape),
            (
                "serialNumber".to_owned(),
                "invalid type: integer `42`, expected a string".to_owned()
            )
        );
        let missing = DocumentError::Shape(".: missing field `name`".into());
        assert_eq!(located(&missing).0, "name");
        let nested = DocumentError::Shape("items[0].quantity: invalid value".into());
        assert_eq!(located(&nested).0, "items[0].quantity");
        let id = DocumentError::WrongType {
            field: "_id".into(),
            expected: "an ObjectId",
            found: "String".into(),
        };
        assert_eq!(
            located(&id),
            (
                "_id".to_owned(),
                "should be an ObjectId, not String".to_owned()
            )
        );
    }
}
