//! The MongoDB adapter against the test server (`MONGO_TEST_URI`): the repository contract,
//! roles and client sharing, configuration errors, connection state and faults, and storage
//! compatibility with the Node.js/Mongoose services.
//!
//! Every test builds its own `ConnectionManager` (so its own driver clients, inside the test's
//! own runtime) on databases no other test uses.

mod collections;
mod configuration;
mod connection;
mod idempotency;
mod mongoose;
mod roles;

use std::sync::Arc;
use std::time::{Duration, Instant};

use adapters_mongo::{ConfigError, ConnectionManager, MongoRepository, MongoSettings};
use domain::{
    Admin, AdminPatch, Branch, BranchName, BranchPatch, Customer, Email, FullName, Id, Location,
    Machine, MasterAdmin, Order, OrderPatch, OrderStatus, Username, Version,
};
use mongodb::bson::oid::ObjectId;
use mongodb::bson::{doc, Bson, DateTime, Document};
use ports::{
    Conflict, ConnectionMonitor, ConnectionState, IndexStatus, ListQuery, Page, Repository,
    RepositoryError, Role,
};
use testkit::server::{
    known_server_gap, stalled_listener, test_server_uri, unique_database_name, uri_with_database,
    SpawnedServer,
};
use tests::contract::{any_model, branch, line, machine, two_keys, RolePair, Stores};
use tests::service::{all_documents, FreshDatabases, SELECTION_TIMEOUT};

/// A URI of the test server with a database no other test uses.
fn fresh_uri(prefix: &str) -> String {
    uri_with_database(&test_server_uri(), &unique_database_name(prefix))
}

/// A manager whose roles use two distinct fresh databases on the test server.
fn two_database_manager(prefix: &str) -> ConnectionManager {
    ConnectionManager::new(FreshDatabases::new(prefix).settings())
}

fn stores(manager: &ConnectionManager, role: Role) -> Stores {
    let connection = manager.role(role).unwrap();
    Stores {
        branches: Arc::new(MongoRepository::<Branch>::new(connection.clone())),
        customers: Arc::new(MongoRepository::<Customer>::new(connection.clone())),
        orders: Arc::new(MongoRepository::<Order>::new(connection.clone())),
        machines: Arc::new(MongoRepository::<Machine>::new(connection.clone())),
        master_admins: Arc::new(MongoRepository::<MasterAdmin>::new(connection.clone())),
        admins: Arc::new(MongoRepository::<Admin>::new(connection)),
    }
}

async fn fresh_stores() -> RolePair {
    let manager = two_database_manager("contract");
    RolePair {
        main: stores(&manager, Role::MAIN),
        masteradmin: stores(&manager, Role::MASTERADMIN),
    }
}

tests::contract_suite!(fresh_stores);

// Fixtures and raw access, for every suite below.

pub(crate) fn repository<T: domain::Entity>(
    manager: &ConnectionManager,
    role: Role,
) -> MongoRepository<T> {
    MongoRepository::new(manager.role(role).unwrap())
}

/// A branch created through `main` reads back the same through `masteradmin`: both roles
/// reach one database.
pub(crate) async fn main_and_masteradmin_share_records(manager: &ConnectionManager) {
    let created = repository::<Branch>(manager, Role::MAIN)
        .create(branch("Lyon"))
        .await
        .unwrap();
    let seen = repository::<Branch>(manager, Role::MASTERADMIN)
        .get(created.id())
        .await
        .unwrap();
    assert_eq!(seen, created);
}

/// The raw collection `name` of `role`'s database, through the same role handle.
async fn raw(manager: &ConnectionManager, role: Role, name: &str) -> mongodb::Collection<Document> {
    manager
        .role(role)
        .unwrap()
        .database()
        .await
        .unwrap()
        .collection(name)
}

async fn raw_by_id(manager: &ConnectionManager, role: Role, name: &str, id: ObjectId) -> Document {
    raw(manager, role, name)
        .await
        .find_one(doc! { "_id": id })
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("no {name} document {id}"))
}

fn oid<T>(id: Id<T>) -> ObjectId {
    ObjectId::from_bytes(id.bytes())
}
