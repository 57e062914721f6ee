//! The MongoDB idempotency store keeps the contract across instances: two connection managers
//! (two processes' worth of clients) on one database.

use adapters_mongo::MongoIdempotencyStore;
use ports::IdempotencyStore;
use tests::contract::idempotency::{self, TERMS};

use super::*;

#[tokio::test]
async fn the_mongodb_idempotency_store_keeps_the_contract_across_instances() {
    let databases = FreshDatabases::new("idempotency");
    let instances = [
        ConnectionManager::new(databases.settings()),
        ConnectionManager::new(databases.settings()),
    ];
    let stores = instances.each_ref().map(|manager| {
        let connection = manager.role(Role::MAIN).unwrap();
        Arc::new(MongoIdempotencyStore::new(connection, TERMS)) as Arc<dyn IdempotencyStore>
    });
    idempotency::all(stores).await;
    for manager in &instances {
        manager.shutdown().await;
    }
}
