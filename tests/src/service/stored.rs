//! What the service stored, read with a driver client of the test's own: fresh databases on
//! the test server, single documents and counts, and snapshots of every collection.

use std::collections::BTreeMap;

use adapters_mongo::{collection_name, MongoSettings};
use mongodb::bson::oid::ObjectId;
use mongodb::bson::{doc, Document};
use mongodb::options::ClientOptions;
use mongodb::{Client, Collection, Database};
use ports::Role;

use super::{shorten, SELECTION_TIMEOUT};
use testkit::server::{test_server_uri, unique_database_name, uri_with_database};

/// Two databases of the test server that no other test uses: `{prefix}_main…` for the `main`
/// role and `{prefix}_admin…` for `masteradmin`.
#[derive(Debug, Clone)]
pub struct FreshDatabases {
    /// The name of the `main` role's database.
    pub main: String,
    /// The name of the `masteradmin` role's database.
    pub masteradmin: String,
}

impl FreshDatabases {
    /// Two fresh names; nothing is created until something is written.
    pub fn new(prefix: &str) -> Self {
        Self {
            main: unique_database_name(&format!("{prefix}_main")),
            masteradmin: unique_database_name(&format!("{prefix}_admin")),
        }
    }

    /// The URI of `role`'s database on the test server.
    pub fn uri(&self, role: Role) -> String {
        let database = match role {
            Role::MAIN => &self.main,
            Role::MASTERADMIN => &self.masteradmin,
            other => panic!("fresh databases are for main and masteradmin, not {other}"),
        };
        uri_with_database(&test_server_uri(), database)
    }

    /// Settings with each role on its database and the tests' [`SELECTION_TIMEOUT`], counting
    /// commands (`ConnectionManager::commands_started`), which tests read and the service
    /// leaves off unless it serves metrics.
    pub fn settings(&self) -> MongoSettings {
        MongoSettings::new(self.uri(Role::MAIN))
            .expect("a valid main URI")
            .with_masteradmin_uri(self.uri(Role::MASTERADMIN))
            .expect("a valid masteradmin URI")
            .with_server_selection_timeout(SELECTION_TIMEOUT)
            .with_command_monitoring(true)
    }
}

/// A driver client of the test's own on the server at `uri` (no database path needed), built
/// in the test's runtime, with the tests' [`SELECTION_TIMEOUT`].
///
/// # Panics
///
/// When `uri` is not valid, or the server does not answer a first `ping`.
pub async fn raw_client(uri: &str) -> Client {
    let mut options = ClientOptions::parse(uri).await.expect("a valid server URI");
    options.server_selection_timeout = Some(SELECTION_TIMEOUT);
    let client = Client::with_options(options).expect("a driver client");
    // A first round trip, so that a slow start shows here rather than in an assertion.
    client
        .database("admin")
        .run_command(doc! { "ping": 1 })
        .await
        .expect("the raw client reaches the server");
    client
}

/// The stored document `id` of `collection`, read with the raw driver.
pub async fn stored(database: &Database, collection: &str, id: &str) -> Option<Document> {
    let id = ObjectId::parse_str(id).expect("the API returns ObjectId-shaped ids");
    database
        .collection::<Document>(collection)
        .find_one(doc! { "_id": id })
        .await
        .expect("a raw read")
}

/// How many documents `collection` holds, read with the raw driver.
pub async fn count(database: &Database, collection: &str) -> u64 {
    database
        .collection::<Document>(collection)
        .count_documents(doc! {})
        .await
        .expect("a raw count")
}

/// Every document of `collection`, in the order the server returns them.
pub async fn all_documents(collection: &Collection<Document>) -> Vec<Document> {
    let mut cursor = collection.find(doc! {}).await.expect("a raw find");
    let mut documents = Vec::new();
    while cursor.advance().await.expect("a raw read") {
        documents.push(cursor.deserialize_current().expect("a stored document"));
    }
    documents
}

/// Every document of every collection, by collection, in `_id` order.
pub type Snapshot = BTreeMap<String, Vec<Document>>;

/// The collections the adapter stores the built-in models in.
fn collections() -> Vec<String> {
    macro_rules! collections {
        ($($model:ty),*) => { vec![$(collection_name::<$model>()),*] };
    }
    domain::with_built_in_models!(collections)
}

/// Every document of the entity collections of `database`, keyed by collection name.
pub async fn snapshot(database: &Database) -> Snapshot {
    let mut snapshot = Snapshot::new();
    for collection in collections() {
        let mut documents = all_documents(&database.collection(&collection)).await;
        documents.sort_by_key(|d| d.get("_id").map(ToString::to_string));
        snapshot.insert(collection, documents);
    }
    snapshot
}

/// `Ok` when equal, else what differs, briefly.
///
/// # Errors
///
/// The first collection whose documents differ, with its counts and first difference.
pub fn same_snapshot(before: &Snapshot, after: &Snapshot) -> Result<(), String> {
    for (collection, documents) in before {
        let now = after.get(collection).map_or(&[][..], Vec::as_slice);
        if documents.as_slice() != now {
            let first_difference = documents
                .iter()
                .zip(now)
                .find(|(a, b)| a != b)
                .map(|(a, b)| format!("; first difference: {a} became {b}"))
                .unwrap_or_default();
            return Err(format!(
                "{collection} changed: {} documents before, {} after{}",
                documents.len(),
                now.len(),
                shorten(&first_difference, 600)
            ));
        }
    }
    Ok(())
}

/// Every document added, removed or changed between two snapshots, as
/// `collection id added|removed|changed`.
pub fn changes(before: &Snapshot, after: &Snapshot) -> Vec<String> {
    let by_id = |documents: &[Document]| -> BTreeMap<String, Document> {
        documents
            .iter()
            .map(|d| match d.get_object_id("_id") {
                Ok(id) => (id.to_hex(), d.clone()),
                Err(_) => (format!("{:?}", d.get("_id")), d.clone()),
            })
            .collect()
    };
    let mut changes = Vec::new();
    for (collection, old) in before {
        let old = by_id(old);
        let new = by_id(after.get(collection).map_or(&[][..], Vec::as_slice));
        for (id, document) in &old {
            match new.get(id) {
                None => changes.push(format!("{collection} {id} removed")),
                Some(now) if now != document => changes.push(format!("{collection} {id} changed")),
                Some(_) => {}
            }
        }
        for id in new.keys().filter(|id| !old.contains_key(*id)) {
            changes.push(format!("{collection} {id} added"));
        }
    }
    changes
}
