//! Test data, written through the app's own API so it has exactly the stored shape the app
//! reads back.

use hyper::{Method, StatusCode};
use mongodb::bson::oid::ObjectId;
use serde_json::{json, Value};

use crate::load::HttpTarget;

/// How many records of each kind are written.
#[derive(Debug, Clone, Copy)]
pub struct SeedCounts {
    pub branches: usize,
    pub customers: usize,
    pub orders: usize,
    pub admins: usize,
}

/// The default data set: small, like a real back office's first months.
pub const SEED: SeedCounts = SeedCounts {
    branches: 20,
    customers: 20,
    orders: 200,
    admins: 10,
};

/// Writes [`SEED`] through `target` (a master admin's token); returns the branch ids.
pub async fn seed(target: &HttpTarget) -> Result<Vec<ObjectId>, String> {
    let mut branches = Vec::with_capacity(SEED.branches);
    for i in 0..SEED.branches {
        let body = json!({"name": format!("Bench branch {i:02}"), "location": format!("{i} Bench Street")});
        branches.push(create(target, "/branches", body).await?);
    }
    let mut customers = Vec::with_capacity(SEED.customers);
    for i in 0..SEED.customers {
        let body = json!({
            "branchId": branches[i % branches.len()],
            "name": format!("Customer {i:02}"),
            "email": format!("customer{i:02}@bench.example"),
            "phone": format!("+33 4 72 00 00 {i:02}"),
        });
        customers.push(create(target, "/customers", body).await?);
    }
    for i in 0..SEED.orders {
        let body = json!({
            "branchId": branches[i % branches.len()],
            "customerId": customers[i % customers.len()],
            "items": [
                {"sku": "BOLT-M8", "quantity": 1 + (i % 50), "unitPrice": 0.25},
                {"sku": "PRESS-200", "quantity": 1, "unitPrice": 1200.0}
            ],
        });
        create(target, "/orders", body).await?;
    }
    for i in 0..SEED.admins {
        let body = json!({
            "username": format!("bench.admin{i:02}"),
            "fullName": format!("Bench Admin {i:02}"),
            "email": format!("admin{i:02}@bench.example"),
        });
        create(target, "/admins", body).await?;
    }
    branches
        .iter()
        .map(|id| ObjectId::parse_str(id).map_err(|e| format!("branch id {id}: {e}")))
        .collect()
}

/// `POST path` with `body`; the new record's id.
async fn create(target: &HttpTarget, path: &str, body: Value) -> Result<String, String> {
    let (status, response) = target
        .once(Method::POST, path, Some(body.to_string()))
        .await?;
    let text = String::from_utf8_lossy(&response);
    if status != StatusCode::CREATED {
        return Err(format!("POST {path}: {status} {text}"));
    }
    let parsed: Value = serde_json::from_str(&text).map_err(|e| format!("POST {path}: {e}"))?;
    parsed["data"]["id"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("POST {path}: no data.id in {text}"))
}
