//! The idempotency store in MongoDB: one collection per role, shared by every instance, so a
//! retry that reaches another instance (another Lambda execution environment, another task)
//! finds the first attempt's claim or answer.
//!
//! - **One claim.** A record's `_id` is the key's id: the first insert wins, the unique `_id`
//!   index decides between concurrent ones, on any number of instances.
//! - **Lease and takeover.** A claim holds its key until `leaseUntil`; after that the next
//!   request replaces it, with a filter on the claim's `token`, so that of two instances that
//!   both saw it expired, one replaces it and the other finds nothing to replace.
//! - **Expiry.** `expiresAt` ends an answer's window; a TTL index on it removes old records,
//!   but it only cleans up (MongoDB's TTL monitor may run a minute late): the window is
//!   enforced here, from the stored expiry.
//! - **Consistency.** Read from the primary, written with majority: a record a client's retry
//!   must see is never read from a lagging secondary or lost in a failover.
//!
//! Every write replaces the whole record (no partial `$set`), as the repositories do. A record
//! reads as text where it can, for the operator who looks at one: the fingerprint in hex, the
//! headers and a UTF-8 body (every answer of this API) as strings; a body that is not UTF-8
//! is kept as binary.

use std::time::Duration;

use async_trait::async_trait;
use mongodb::bson::oid::ObjectId;
use mongodb::bson::spec::BinarySubtype;
use mongodb::bson::{doc, Binary, Bson, DateTime, Document};
use mongodb::options::{CollectionOptions, ReadPreference, SelectionCriteria, WriteConcern};
use mongodb::Collection;
use ports::{
    Claim, ClaimToken, Conflict, Fingerprint, IdempotencyKey, IdempotencyStore, IdempotencyTerms,
    IndexKey, IndexSpec, RepositoryError, StoredAnswer,
};

use crate::indexes::DeclaredIndexes;
use crate::manager::RoleConnection;

/// The collection that holds the records of one role's routes.
pub const IDEMPOTENCY_COLLECTION: &str = "idempotencyRecords";

/// How many times a claim is tried when records change under it (taken over, expired and
/// removed) before the request is told the key is busy.
const CLAIM_ATTEMPTS: usize = 3;

/// The idempotency store of one role, in that role's database.
#[derive(Debug)]
pub struct MongoIdempotencyStore {
    connection: RoleConnection,
    terms: IdempotencyTerms,
    /// The TTL index, created before the first write when auto-index is on, decided once.
    indexes: DeclaredIndexes,
}

impl MongoIdempotencyStore {
    /// The store of `connection`'s role, keeping answers and claims for `terms`.
    pub fn new(connection: RoleConnection, terms: IdempotencyTerms) -> Self {
        Self {
            indexes: Self::declared_indexes(connection.clone()),
            connection,
            terms,
        }
    }

    /// The collection of `connection`'s role with its declared indexes: what `app indexes`
    /// compares and, with `sync`, creates when auto-index is off. Besides `_id`, one: the TTL
    /// index that removes records once their window has ended.
    pub fn declared_indexes(connection: RoleConnection) -> DeclaredIndexes {
        let ttl =
            IndexSpec::new(vec![IndexKey::ascending("expiresAt")]).expiring_after(Duration::ZERO);
        DeclaredIndexes::new(connection, IDEMPOTENCY_COLLECTION, vec![ttl])
            .when_refused("old records stay")
    }

    async fn collection(&self) -> Result<Collection<Document>, RepositoryError> {
        let database = self.connection.database_for_writes().await?;
        let options = CollectionOptions::builder()
            .selection_criteria(SelectionCriteria::ReadPreference(ReadPreference::Primary))
            .write_concern(WriteConcern::majority())
            .build();
        let collection = database.collection_with_options(IDEMPOTENCY_COLLECTION, options);
        if self.connection.auto_index() {
            // Refused, it is logged once and kept: the window is enforced here anyway, and
            // only old records stay. Unreachable fails the call, as its write would.
            self.indexes.ensure().await?;
        }
        Ok(collection)
    }

    fn map(&self, error: &mongodb::error::Error) -> RepositoryError {
        self.connection
            .map_error(error, Some(("IdempotencyRecord", "_id")))
    }

    /// A claim on `key` by `token`, from `now`.
    fn running(&self, key: &IdempotencyKey, fingerprint: &Fingerprint, token: &str) -> Document {
        let now = DateTime::now();
        doc! {
            "_id": &key.id,
            "caller": &key.caller,
            "fingerprint": hex::encode(fingerprint),
            "token": token,
            "state": "running",
            "leaseUntil": later(now, self.terms.lease),
            // A claim whose holder died is removed with the answers of its time.
            "expiresAt": later(now, self.terms.window.max(self.terms.lease)),
        }
    }

    /// What a stored record says to a request with `fingerprint` now, or the token of a record
    /// that no longer holds its key.
    ///
    /// The lease and the window are read against this instance's clock: instances' clocks must
    /// agree to well within the lease, which is why it has a margin over the request timeout
    /// by default. The takeover itself is decided by the claim's token, not by dates.
    fn decide(&self, record: &Document, fingerprint: &Fingerprint) -> Result<Claim, Stale> {
        let now = DateTime::now();
        let token = record.get_str("token").unwrap_or_default().to_owned();
        let expired = |field: &str| record.get_datetime(field).map_or(true, |at| *at <= now);
        let done = record.get_str("state") == Ok("done");
        if (done && expired("expiresAt")) || (!done && expired("leaseUntil")) {
            return Err(Stale::Expired(token));
        }
        if done {
            let same = record.get_str("fingerprint") == Ok(hex::encode(fingerprint).as_str());
            return match answer(record) {
                _ if !same => Ok(Claim::Mismatch),
                Some(answer) => Ok(Claim::Replay(answer)),
                None => Err(Stale::Unreadable),
            };
        }
        let lease_left = record
            .get_datetime("leaseUntil")
            .map_or(Duration::ZERO, |until| {
                Duration::from_millis(
                    u64::try_from(until.timestamp_millis() - now.timestamp_millis()).unwrap_or(0),
                )
            });
        Ok(Claim::Running { lease_left })
    }
}

#[async_trait]
impl IdempotencyStore for MongoIdempotencyStore {
    async fn claim(
        &self,
        key: &IdempotencyKey,
        fingerprint: &Fingerprint,
    ) -> Result<Claim, RepositoryError> {
        let collection = self.collection().await?;
        for _ in 0..CLAIM_ATTEMPTS {
            let token = ObjectId::new().to_hex();
            let claim = self.running(key, fingerprint, &token);
            match collection.insert_one(&claim).await {
                Ok(_) => return Ok(Claim::Owned(ClaimToken(token))),
                Err(error) => match self.map(&error) {
                    RepositoryError::Conflict(Conflict::Duplicate { .. }) => {}
                    other => return Err(other),
                },
            }
            let found = collection.find_one(doc! { "_id": &key.id }).await;
            // Removed since (its window ended): insert again.
            let Some(record) = found.map_err(|e| self.map(&e))? else {
                continue;
            };
            let stale = match self.decide(&record, fingerprint) {
                Ok(claim) => return Ok(claim),
                Err(Stale::Expired(token)) => token,
                Err(Stale::Unreadable) => {
                    return Err(RepositoryError::Internal(format!(
                        "{} database: the idempotency record of a key does not read as an answer",
                        self.connection.role()
                    )))
                }
            };
            let taken = collection
                .replace_one(doc! { "_id": &key.id, "token": stale }, &claim)
                .await
                .map_err(|e| self.map(&e))?;
            if taken.matched_count == 1 {
                return Ok(Claim::Owned(ClaimToken(token)));
            }
        }
        // Claimed and taken over around us each time: busy for now.
        Ok(Claim::Running {
            lease_left: Duration::ZERO,
        })
    }

    async fn complete(
        &self,
        key: &IdempotencyKey,
        fingerprint: &Fingerprint,
        token: &ClaimToken,
        answer: StoredAnswer,
    ) -> Result<(), RepositoryError> {
        let now = DateTime::now();
        let done = doc! {
            "_id": &key.id,
            "caller": &key.caller,
            "fingerprint": hex::encode(fingerprint),
            "token": &token.0,
            "state": "done",
            "leaseUntil": now,
            "expiresAt": later(now, self.terms.window),
            "answer": answer_document(answer),
        };
        let replaced = self
            .collection()
            .await?
            .replace_one(doc! { "_id": &key.id, "token": &token.0 }, done)
            .await
            .map_err(|e| self.map(&e))?;
        if replaced.matched_count == 0 {
            tracing::warn!(role = %self.connection.role(),
                "an idempotency claim was taken over before its request finished: its answer is not kept");
        }
        Ok(())
    }

    async fn release(
        &self,
        key: &IdempotencyKey,
        token: &ClaimToken,
    ) -> Result<(), RepositoryError> {
        self.collection()
            .await?
            .delete_one(doc! { "_id": &key.id, "token": &token.0 })
            .await
            .map_err(|e| self.map(&e))?;
        Ok(())
    }
}

/// Why a stored record does not answer a request.
enum Stale {
    /// Its lease or window has ended: the next request takes it over from this token.
    Expired(String),
    /// It says it was answered, and its answer does not read: neither replayed nor run again.
    Unreadable,
}

/// Text when it is UTF-8, binary otherwise.
fn text_or_binary(bytes: Vec<u8>) -> Bson {
    match String::from_utf8(bytes) {
        Ok(text) => Bson::String(text),
        Err(error) => Bson::Binary(Binary {
            subtype: BinarySubtype::Generic,
            bytes: error.into_bytes(),
        }),
    }
}

fn bytes_of(value: &Bson) -> Option<Vec<u8>> {
    match value {
        Bson::String(text) => Some(text.clone().into_bytes()),
        Bson::Binary(binary) => Some(binary.bytes.clone()),
        _ => None,
    }
}

fn later(now: DateTime, by: Duration) -> DateTime {
    let millis = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
    DateTime::from_millis(now.timestamp_millis().saturating_add(millis))
}

fn answer_document(answer: StoredAnswer) -> Document {
    let headers: Vec<Bson> = answer
        .headers
        .into_iter()
        .map(|(name, value)| Bson::Document(doc! { "name": name, "value": text_or_binary(value) }))
        .collect();
    doc! {
        "status": i32::from(answer.status),
        "headers": headers,
        "body": text_or_binary(answer.body),
    }
}

/// The answer of a done record; `None` when it does not read as one we wrote.
fn answer(record: &Document) -> Option<StoredAnswer> {
    let answer = record.get_document("answer").ok()?;
    let status = u16::try_from(answer.get_i32("status").ok()?).ok()?;
    let headers = answer
        .get_array("headers")
        .ok()?
        .iter()
        .map(|header| {
            let header = header.as_document()?;
            let name = header.get_str("name").ok()?.to_owned();
            Some((name, bytes_of(header.get("value")?)?))
        })
        .collect::<Option<Vec<_>>>()?;
    let body = bytes_of(answer.get("body")?)?;
    Some(StoredAnswer {
        status,
        headers,
        body,
    })
}
