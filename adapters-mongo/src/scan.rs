//! A whole collection read document by document, as stored: what a team checks before moving
//! a handler from the Node.js services (`app check`).
//!
//! The repository contract reads leniently and hides what it cannot read (a list leaves it out
//! and counts it). A scan shows it instead: every document is read the way the repository reads
//! it, and each one that does not read is reported with its id, field and reason; each one that
//! reads is also put through a check of the caller's (today's request rules), since a value
//! an older handler accepted reads fine but would be refused if sent again.

use domain::{Entity, Record, ValidationError};
use futures::TryStreamExt;
use mongodb::bson::{doc, RawDocumentBuf};
use ports::{Finding, RepositoryError, ScanReport};

use crate::documents::{read_stored, DocumentError};
use crate::repository::MongoRepository;

impl<T: Entity> MongoRepository<T> {
    /// Reads every document of the collection, one at a time through a cursor in `_id` order
    /// (never the whole collection in memory), the way [`ports::Repository::get`] reads one,
    /// and puts each readable record through `check` (today's request rules, say: the field
    /// and problem it answers are the report's). `progress` is called after each
    /// document with how many were read so far.
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when the database cannot be reached, or stops
    /// answering during the scan; [`RepositoryError::Internal`] when the server refuses the
    /// query. Documents that do not read are not errors: they are in the report.
    pub async fn scan(
        &self,
        mut check: impl FnMut(&T) -> Result<(), ValidationError>,
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
        let mut report = ScanReport::new(self.connection().database_name(), self.collection_name());
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
    check: &mut impl FnMut(&T) -> Result<(), ValidationError>,
) {
    if let Err(refused) = check(record.entity()) {
        report.refused += 1;
        if report.refused_samples.len() < ScanReport::SAMPLES {
            report.refused_samples.push(Finding {
                id: record.id().to_string(),
                field: refused.field().to_owned(),
                reason: refused.problem().to_string(),
            });
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
