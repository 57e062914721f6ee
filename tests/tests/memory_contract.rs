//! The repository contract, run against the in-memory backend.

use std::sync::Arc;

use adapters_memory::MemoryRepository;
use tests::contract::{RolePair, Stores};

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
