//! The by-name face of a repository, for tools that do not know the model's type.

use std::sync::Arc;

use adapters_mongo::MongoRepository;
use async_trait::async_trait;
use domain::{Entity, Id, ValidationError};
use ports::{IndexedCollection, ListQuery, Page, Repository, RepositoryError, Role, ScanReport};
use serde::Serialize;
use serde_json::Value;

use crate::error::ByNameError;

/// What the registry can do with a repository whose type only the binding knew.
#[async_trait]
pub(crate) trait Untyped: Send + Sync {
    async fn count(&self) -> Result<u64, ByNameError>;
    async fn get(&self, id: &str) -> Result<Value, ByNameError>;
    async fn list(&self, page: Page) -> Result<Vec<Value>, ByNameError>;
}

pub(crate) struct Typed<T: Entity>(pub(crate) Arc<dyn Repository<T>>);

#[async_trait]
impl<T: Entity + Serialize> Untyped for Typed<T> {
    async fn count(&self) -> Result<u64, ByNameError> {
        Ok(self.0.count().await?)
    }

    async fn get(&self, id: &str) -> Result<Value, ByNameError> {
        let record = self.0.get(Id::parse(id)?).await?;
        Ok(json(&record))
    }

    async fn list(&self, page: Page) -> Result<Vec<Value>, ByNameError> {
        let listing = self.0.list(ListQuery::new(page)).await?;
        Ok(listing.records.iter().map(json).collect())
    }
}

// A record is plain data (strings, numbers, ids, dates): it always serialises.
fn json(record: &impl Serialize) -> Value {
    serde_json::to_value(record).unwrap_or(Value::Null)
}

/// One model on one role, addressed by name: the seed's `getModel('Branch', 'main')`.
/// Records come as the JSON the API answers with.
#[derive(Clone)]
pub struct ModelHandle {
    pub(crate) plural: String,
    pub(crate) repository: Arc<dyn Untyped>,
    pub(crate) stored: Option<Arc<dyn Maintenance>>,
}

impl ModelHandle {
    /// The model's plural name (`branches`).
    pub fn name(&self) -> &str {
        &self.plural
    }

    /// How many records are stored.
    ///
    /// # Errors
    /// The repository's error.
    pub async fn count(&self) -> Result<u64, ByNameError> {
        self.repository.count().await
    }

    /// The record with id `id` (24 hexadecimal characters), as JSON.
    ///
    /// # Errors
    /// [`ByNameError::Id`] for a malformed id; the repository's error (not found, …).
    pub async fn get(&self, id: &str) -> Result<Value, ByNameError> {
        self.repository.get(id).await
    }

    /// A page of records in creation order, as JSON.
    ///
    /// # Errors
    /// The repository's error.
    pub async fn list(&self, page: Page) -> Result<Vec<Value>, ByNameError> {
        self.repository.list(page).await
    }

    /// The MongoDB collection the model is bound to, to be read document by document as it is
    /// stored; `None` when the binding was created on the in-memory backend, or bound to a
    /// repository built by hand ([`Registry::bind_repository`](crate::Registry::bind_repository)).
    pub fn stored(&self) -> Option<StoredCollection> {
        self.stored.as_ref().map(|scan| StoredCollection {
            plural: self.plural.clone(),
            scan: Arc::clone(scan),
        })
    }
}

/// What the registry can do with the MongoDB collection of a binding whose type only the
/// binding knew.
#[async_trait]
pub(crate) trait Maintenance: Send + Sync {
    fn role(&self) -> Role;
    fn database(&self) -> &str;
    fn collection(&self) -> &str;
    async fn scan(
        &self,
        progress: &mut (dyn FnMut(u64) + Send),
    ) -> Result<ScanReport, RepositoryError>;
    fn indexes(&self) -> &Arc<dyn IndexedCollection>;
}

pub(crate) struct MongoMaintenance<T: Entity> {
    repository: MongoRepository<T>,
    /// The repository's own declared indexes: what a tool does to them, its writes see.
    indexes: Arc<dyn IndexedCollection>,
}

impl<T: Entity> MongoMaintenance<T> {
    pub(crate) fn new(repository: MongoRepository<T>) -> Self {
        Self {
            indexes: Arc::new(repository.declared_indexes()),
            repository,
        }
    }
}

#[async_trait]
impl<T: Entity> Maintenance for MongoMaintenance<T> {
    fn role(&self) -> Role {
        self.repository.connection().role()
    }

    fn database(&self) -> &str {
        self.repository.connection().database_name()
    }

    fn collection(&self) -> &str {
        self.repository.collection_name()
    }

    async fn scan(
        &self,
        progress: &mut (dyn FnMut(u64) + Send),
    ) -> Result<ScanReport, RepositoryError> {
        self.repository
            .scan(accepted_as_a_request::<T>, progress)
            .await
    }

    fn indexes(&self) -> &Arc<dyn IndexedCollection> {
        &self.indexes
    }
}

/// The MongoDB collection of one binding, addressed without its model's type: what a tool
/// that checks stored data before a migration (`app check`) reads. Records read through the
/// repository hide what does not read; a scan reports it.
#[derive(Clone)]
pub struct StoredCollection {
    plural: String,
    scan: Arc<dyn Maintenance>,
}

impl StoredCollection {
    /// The model's plural name (`machines`).
    pub fn model(&self) -> &str {
        &self.plural
    }

    /// The role the binding is on.
    pub fn role(&self) -> Role {
        self.scan.role()
    }

    /// The name of the role's database.
    pub fn database(&self) -> &str {
        self.scan.database()
    }

    /// The collection's name.
    pub fn collection(&self) -> &str {
        self.scan.collection()
    }

    /// Reads every document of the collection, in `_id` order through a cursor, as the
    /// repository reads it; each readable record is also checked against today's request
    /// rules: its values, sent as a create request, would they be accepted? (A value an older
    /// Node.js handler accepted reads fine, and is counted as refused.) `progress` is called
    /// after each document with how many were read so far.
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when the database cannot be reached or stops
    /// answering; [`RepositoryError::Internal`] when the server refuses the query. Documents
    /// that do not read or would be refused are in the report, not errors.
    pub async fn scan(
        &self,
        mut progress: impl FnMut(u64) + Send,
    ) -> Result<ScanReport, RepositoryError> {
        self.scan.scan(&mut progress).await
    }
}

impl StoredCollection {
    /// The collection's declared indexes, shared with the binding's repository: what became
    /// of them ([`IndexedCollection::status`], [`IndexedCollection::ensure`]: `app check`),
    /// and how they differ from the declaration, brought in line on demand
    /// ([`IndexedCollection::diff`], [`IndexedCollection::sync`]: `app indexes`).
    pub fn indexes(&self) -> Arc<dyn IndexedCollection> {
        Arc::clone(self.scan.indexes())
    }
}

impl std::fmt::Debug for StoredCollection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredCollection")
            .field("model", &self.plural)
            .field("role", &self.role())
            .field("database", &self.database())
            .field("collection", &self.collection())
            .finish()
    }
}

/// Whether a create request carrying the values of `entity` would be accepted today
/// ([`Entity::accepted_today`]), as the scan reports it: the first field refused.
fn accepted_as_a_request<T: Entity>(entity: &T) -> Result<(), ValidationError> {
    entity
        .accepted_today()
        .map_err(|invalid| invalid.first().clone())
}

#[cfg(test)]
mod tests {
    use adapters_mongo::{ConnectionManager, MongoSettings};
    use domain::{Branch, Customer, Order};
    use serde_json::json;

    use super::*;
    use crate::{Backend, Registry};

    #[test]
    fn a_stored_value_todays_rules_refuse_is_refused_naming_its_field() {
        let stored = json!({
            "branchId": "65f0a1b2c3d4e5f6a7b8c9d0", "name": "Forge & Co",
            "email": "ops@localhost", "phone": "+33 4 72 00 00 00",
        });
        let legacy: Customer = serde_json::from_value(stored.clone()).unwrap();
        let refusal = accepted_as_a_request(&legacy).unwrap_err();
        assert_eq!(refusal.field(), "email", "{refusal:?}");

        let mut valid = stored;
        valid["email"] = json!("ops@example.com");
        let customer: Customer = serde_json::from_value(valid).unwrap();
        assert_eq!(accepted_as_a_request(&customer), Ok(()));
    }

    #[test]
    fn derived_fields_are_left_out_and_nested_records_checked_with_their_rules() {
        let order = |quantity: i64| {
            let stored = json!({
                "branchId": "65f0a1b2c3d4e5f6a7b8c9d0", "customerId": "65f0a1b2c3d4e5f6a7b8c9d1",
                "items": [{ "sku": "BOLT-M8", "quantity": quantity, "unitPrice": 0.1 }],
                "status": "completed", "total": 12.5,
            });
            serde_json::from_value::<Order>(stored).unwrap()
        };
        assert_eq!(accepted_as_a_request(&order(3)), Ok(()));
        let refusal = accepted_as_a_request(&order(0)).unwrap_err();
        assert_eq!(refusal.field(), "items[0].quantity", "{refusal:?}");
    }

    #[test]
    fn only_bindings_created_on_mongodb_have_a_stored_collection() {
        let memory = Registry::new(Backend::memory(Role::DEFAULTS))
            .bind::<Branch>(Role::MAIN)
            .unwrap();
        assert!(memory
            .model("branches", Role::MAIN)
            .unwrap()
            .stored()
            .is_none());

        let settings = MongoSettings::new("mongodb://127.0.0.1:1/backoffice").unwrap();
        let mongo = Registry::new(Backend::Mongo(ConnectionManager::new(settings)))
            .bind::<Branch>(Role::MAIN)
            .unwrap()
            .bind_in_collection::<Customer>(Role::MAIN, "clients")
            .unwrap()
            .bind_listed("branches@masteradmin")
            .unwrap();
        let stored = |name: &str, role: Role| mongo.model(name, role).unwrap().stored().unwrap();
        let branches = stored("branches", Role::MASTERADMIN);
        assert_eq!(
            (
                branches.model(),
                branches.role(),
                branches.database(),
                branches.collection()
            ),
            ("branches", Role::MASTERADMIN, "backoffice", "branches")
        );
        assert_eq!(stored("customers", Role::MAIN).collection(), "clients");
    }
}
