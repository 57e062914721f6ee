//! The repository contract, run against the in-memory backend.

use std::sync::Arc;

use adapters_memory::MemoryRepository;
use tests::contract::{any_model, two_keys, RolePair, Stores};

fn fresh_store() -> Stores {
    Stores {
        branches: Arc::new(MemoryRepository::new()),
        customers: Arc::new(MemoryRepository::new()),
        orders: Arc::new(MemoryRepository::new()),
        machines: Arc::new(MemoryRepository::new()),
        master_admins: Arc::new(MemoryRepository::new()),
        admins: Arc::new(MemoryRepository::new()),
    }
}

async fn fresh_stores() -> RolePair {
    RolePair {
        main: fresh_store(),
        masteradmin: fresh_store(),
    }
}

tests::contract_suite!(fresh_stores);

#[tokio::test]
async fn every_built_in_model_passes_the_contract_with_the_examples_of_its_declaration() {
    macro_rules! each_passes {
        ($($model:ty),*) => {
            $(any_model::declared(&MemoryRepository::<$model>::new()).await;)*
        };
    }
    domain::with_built_in_models!(each_passes);
}

#[tokio::test]
async fn a_duplicate_on_either_of_two_unique_keys_names_that_key() {
    two_keys::a_duplicate_on_either_unique_key_names_that_key(&MemoryRepository::new()).await;
}

#[tokio::test]
async fn the_memory_idempotency_store_keeps_the_contract_within_its_process() {
    let store: Arc<dyn ports::IdempotencyStore> = Arc::new(
        adapters_memory::MemoryIdempotencyStore::new(tests::contract::idempotency::TERMS, 100),
    );
    tests::contract::idempotency::all([store.clone(), store]).await;
}
