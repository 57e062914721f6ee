//! The model factory: a map from (role, model) to the repository that serves it, open to any
//! model type, with a name index for tools that only know names.

use std::any::Any;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use domain::{plural_name, Entity};
use ports::{ConnectionMonitor, IndexRefusal, IndexStatus, Repository, Role, UnknownRole};

use crate::backend::Backend;
use crate::error::{ByNameError, RegistryError};
use crate::handle::{Maintenance, ModelHandle, Typed, Untyped};
use crate::references::{checked_fields, CheckedReferences, Target};

/// Which repository serves each model on each role, and the health of each role. Built once at
/// start-up with one [`Registry::bind`] line per (model, role); read-only afterwards and cheap
/// to share behind an `Arc`.
///
/// ```
/// use domain::{Branch, Order};
/// use ports::Role;
/// use registry::{Backend, Registry};
///
/// let registry = Registry::new(Backend::memory(Role::DEFAULTS))
///     .bind::<Branch>(Role::MAIN)?
///     .bind::<Order>(Role::MAIN)?;
/// let branches = registry.repository::<Branch>(Role::MAIN)?;          // typed
/// let (branches, orders) = registry.repositories::<(Branch, Order)>(Role::MAIN)?; // several
/// let by_name = registry.model("branches", Role::MAIN)?;               // for generic tools
/// assert!(registry.repository::<Branch>(Role::MASTERADMIN).is_err()); // not bound there
/// # Ok::<(), registry::RegistryError>(())
/// ```
#[derive(Clone)]
pub struct Registry {
    backend: Backend,
    monitor: Arc<dyn ConnectionMonitor>,
    bindings: BTreeMap<(Role, &'static str), Binding>,
    /// How to bind each model seen so far on another role, by name and by plural name.
    binders: BTreeMap<String, Binder>,
}

#[derive(Clone)]
struct Binding {
    plural: String,
    /// An `Arc<dyn Repository<T>>` for the model's `T`.
    typed: Arc<dyn Any + Send + Sync>,
    untyped: Arc<dyn Untyped>,
    /// The MongoDB collection, to be scanned as stored; `None` in memory or for a repository
    /// bound by hand.
    stored: Option<Arc<dyn Maintenance>>,
}

type Binder = fn(&Backend, Role) -> Result<Binding, UnknownRole>;

fn binder<T: Entity>(backend: &Backend, role: Role) -> Result<Binding, UnknownRole> {
    let (repository, stored) = backend.bound::<T>(role, None)?;
    Ok(binding(repository, stored))
}

fn binding<T: Entity>(
    repository: Arc<dyn Repository<T>>,
    stored: Option<Arc<dyn Maintenance>>,
) -> Binding {
    Binding {
        plural: plural_name(T::NAME),
        typed: Arc::new(Arc::clone(&repository)),
        untyped: Arc::new(Typed(repository)),
        stored,
    }
}

impl Registry {
    /// An empty registry whose bindings are created on `backend`.
    pub fn new(backend: Backend) -> Self {
        Self {
            monitor: backend.monitor(),
            backend,
            bindings: BTreeMap::new(),
            binders: BTreeMap::new(),
        }
    }

    /// Serves `T` on `role` from a new repository on the backend. Does no I/O.
    ///
    /// # Errors
    /// [`RegistryError::UnknownRole`] when `role` is not configured.
    pub fn bind<T: Entity>(mut self, role: Role) -> Result<Self, RegistryError> {
        let binding = binder::<T>(&self.backend, role)?;
        self.insert::<T>(role, binding);
        Ok(self)
    }

    /// Serves `T` on `role` when the deployment configures `role`, and does nothing otherwise:
    /// for an optional role, such as a reporting copy that only some environments have.
    pub fn bind_if_configured<T: Entity>(mut self, role: Role) -> Self {
        // Binding fails only on a role that is not configured.
        if let Ok(binding) = binder::<T>(&self.backend, role) {
            self.insert::<T>(role, binding);
        }
        self
    }

    /// Serves `T` on `role` from `collection` instead of the collection its name gives: for a
    /// Mongoose model declared with a collection name of its own. Does no I/O.
    ///
    /// # Errors
    /// [`RegistryError::UnknownRole`] when `role` is not configured.
    pub fn bind_in_collection<T: Entity>(
        mut self,
        role: Role,
        collection: &str,
    ) -> Result<Self, RegistryError> {
        let (repository, stored) = self.backend.bound::<T>(role, Some(collection))?;
        self.insert::<T>(role, binding(repository, stored));
        Ok(self)
    }

    /// Serves `T` on `role` from `repository`: a test double, or a repository built by hand.
    pub fn bind_repository<T: Entity>(
        mut self,
        role: Role,
        repository: Arc<dyn Repository<T>>,
    ) -> Self {
        self.insert::<T>(role, binding(repository, None));
        self
    }

    /// Also serves the model named `name` (already bound on some role) on `role`: the seed's
    /// "same schema in both databases".
    ///
    /// # Errors
    /// [`RegistryError::UnknownModel`] when no bound model has that name;
    /// [`RegistryError::UnknownRole`] when `role` is not configured.
    pub fn bind_by_name(mut self, name: &str, role: Role) -> Result<Self, RegistryError> {
        let bind = *self
            .binders
            .get(name)
            .ok_or_else(|| self.unknown_model(name))?;
        let binding = bind(&self.backend, role)?;
        let model = self
            .model_name(name)
            .ok_or_else(|| self.unknown_model(name))?;
        self.bindings.insert((role, model), binding);
        Ok(self)
    }

    /// Applies extra bindings written `models@role`, separated by commas (`admins@main`), as
    /// configuration gives them.
    ///
    /// # Errors
    /// [`RegistryError::InvalidBinding`] for text that is not `models@role`, else as
    /// [`Self::bind_by_name`].
    pub fn bind_listed(mut self, list: &str) -> Result<Self, RegistryError> {
        for pair in list.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let invalid = || RegistryError::InvalidBinding(pair.chars().take(64).collect());
            let (name, role) = pair.split_once('@').ok_or_else(invalid)?;
            let role = Role::find(role, self.roles()).map_err(|_| invalid())?;
            self = self.bind_by_name(name, role).map_err(|_| invalid())?;
        }
        Ok(self)
    }

    /// The repository of `T` on `role`.
    ///
    /// # Errors
    /// [`RegistryError::NotBound`] when `T` is not served on `role`.
    pub fn repository<T: Entity>(
        &self,
        role: Role,
    ) -> Result<Arc<dyn Repository<T>>, RegistryError> {
        let repository = self
            .bindings
            .get(&(role, T::NAME))
            .and_then(|b| b.typed.downcast_ref::<Arc<dyn Repository<T>>>())
            .cloned()
            .ok_or_else(|| self.not_bound(&plural_name(T::NAME), role))?;
        let targets: Vec<Target> = checked_fields::<T>()
            .map(|(field, model)| Target {
                field,
                model,
                records: self.referenced(model, role),
            })
            .collect();
        if targets.is_empty() {
            return Ok(repository);
        }
        Ok(Arc::new(CheckedReferences {
            inner: repository,
            targets,
        }))
    }

    /// Where records of the model named `model` are looked up for a reference from `role`:
    /// on `role` when it is bound there, otherwise on the first role it is bound on.
    fn referenced(&self, model: &str, role: Role) -> Option<Arc<dyn Untyped>> {
        let binding = self.bindings.get(&(role, model)).or_else(|| {
            self.bindings
                .iter()
                .find(|((_, name), _)| *name == model)
                .map(|(_, binding)| binding)
        });
        binding.map(|binding| Arc::clone(&binding.untyped))
    }

    /// The repositories of several models on `role` at once, as a tuple: the seed's
    /// `getModels`.
    ///
    /// # Errors
    /// The first model that is not bound on `role`.
    pub fn repositories<M: Models>(&self, role: Role) -> Result<M::Repositories, RegistryError> {
        M::from_registry(self, role)
    }

    /// Whether `T` is served on `role`.
    pub fn is_bound<T: Entity>(&self, role: Role) -> bool {
        self.repository::<T>(role).is_ok()
    }

    /// The model named `name` (its name, `Branch`, or plural name, `branches`) on `role`, for
    /// tools that address models by name.
    ///
    /// # Errors
    /// [`RegistryError::UnknownModel`] or [`RegistryError::NotBound`], listing what is
    /// registered.
    pub fn model(&self, name: &str, role: Role) -> Result<ModelHandle, RegistryError> {
        let model = self
            .model_name(name)
            .ok_or_else(|| self.unknown_model(name))?;
        let binding = self
            .bindings
            .get(&(role, model))
            .ok_or_else(|| self.not_bound(name, role))?;
        Ok(ModelHandle {
            plural: binding.plural.clone(),
            repository: Arc::clone(&binding.untyped),
            stored: binding.stored.clone(),
        })
    }

    /// Counts the records of the model named `name` on `role`.
    ///
    /// # Errors
    /// As [`Self::model`], or the repository's error.
    pub async fn count_by_name(&self, role: Role, name: &str) -> Result<u64, ByNameError> {
        self.model(name, role)?.count().await
    }

    /// Counts the records of several models by name on `role`, concurrently, in the order
    /// asked.
    ///
    /// # Errors
    /// The first failure among the names.
    pub async fn counts_by_name(
        &self,
        role: Role,
        names: &[&str],
    ) -> Result<Vec<(String, u64)>, ByNameError> {
        let counts = names.iter().map(|name| async move {
            let count = self.model(name, role)?.count().await?;
            Ok::<_, ByNameError>(((*name).to_owned(), count))
        });
        futures::future::try_join_all(counts).await
    }

    /// The health of each role's database.
    pub fn monitor(&self) -> &Arc<dyn ConnectionMonitor> {
        &self.monitor
    }

    /// The configured roles, in configuration order.
    pub fn roles(&self) -> Vec<Role> {
        self.backend.roles()
    }

    /// The storage the bindings were created on.
    pub fn backend(&self) -> &Backend {
        &self.backend
    }

    /// Every binding, as (plural model name, role).
    pub fn bindings(&self) -> Vec<(String, Role)> {
        self.bindings
            .iter()
            .map(|((role, _), b)| (b.plural.clone(), *role))
            .collect()
    }

    /// The bindings whose declared indexes the server refused (legacy duplicates, an index of
    /// the same keys with other options), as far as a write or a check has tried, as (plural
    /// model name, role, refusal): what an operator must resolve for the database to enforce
    /// unique fields again. No I/O.
    pub fn refused_indexes(&self) -> Vec<(String, Role, IndexRefusal)> {
        self.bindings
            .iter()
            .filter_map(|((role, _), binding)| {
                let status = binding.stored.as_ref()?.indexes().status()?;
                let IndexStatus::Refused(refusal) = status else {
                    return None;
                };
                Some((binding.plural.clone(), *role, refusal))
            })
            .collect()
    }

    fn insert<T: Entity>(&mut self, role: Role, binding: Binding) {
        self.binders.insert(T::NAME.to_owned(), binder::<T>);
        self.binders.insert(binding.plural.clone(), binder::<T>);
        self.bindings.insert((role, T::NAME), binding);
    }

    /// The model name (`T::NAME`) a name or plural name stands for.
    fn model_name(&self, name: &str) -> Option<&'static str> {
        self.bindings
            .iter()
            .find(|((_, model), b)| *model == name || b.plural == name)
            .map(|((_, model), _)| *model)
    }

    fn unknown_model(&self, name: &str) -> RegistryError {
        RegistryError::UnknownModel {
            name: name.chars().take(64).collect(),
            registered: self.registered(),
        }
    }

    fn not_bound(&self, name: &str, role: Role) -> RegistryError {
        RegistryError::NotBound {
            model: name.chars().take(64).collect(),
            role,
            registered: self.registered(),
        }
    }

    fn registered(&self) -> String {
        let pairs: Vec<String> = self
            .bindings()
            .iter()
            .map(|(model, role)| format!("{model}@{role}"))
            .collect();
        pairs.join(", ")
    }
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registry")
            .field("bindings", &self.registered())
            .finish()
    }
}

/// A tuple of models whose repositories [`Registry::repositories`] returns together.
pub trait Models {
    /// The tuple of their repositories.
    type Repositories;

    /// Looks each one up.
    ///
    /// # Errors
    /// The first model that is not bound on `role`.
    fn from_registry(registry: &Registry, role: Role) -> Result<Self::Repositories, RegistryError>;
}

macro_rules! models_tuple {
    ($($model:ident),+) => {
        impl<$($model: Entity),+> Models for ($($model,)+) {
            type Repositories = ($(Arc<dyn Repository<$model>>,)+);

            fn from_registry(
                registry: &Registry,
                role: Role,
            ) -> Result<Self::Repositories, RegistryError> {
                Ok(($(registry.repository::<$model>(role)?,)+))
            }
        }
    };
}
models_tuple!(A);
models_tuple!(A, B);
models_tuple!(A, B, C);
models_tuple!(A, B, C, D);
models_tuple!(A, B, C, D, E);
models_tuple!(A, B, C, D, E, F);

#[cfg(test)]
mod tests {
    use domain::{Branch, BranchName, Location, Order};
    use ports::Page;

    use super::*;

    fn registry() -> Registry {
        Registry::new(Backend::memory(Role::DEFAULTS))
            .bind::<Branch>(Role::MAIN)
            .unwrap()
            .bind::<Order>(Role::MAIN)
            .unwrap()
    }

    fn lyon() -> Branch {
        Branch::new(
            BranchName::parse("Lyon").unwrap(),
            Location::parse("Forge").unwrap(),
        )
    }

    #[test]
    fn a_model_not_bound_on_a_role_is_an_error_listing_what_is_registered() {
        let registry = registry();
        assert!(registry.repositories::<(Branch, Order)>(Role::MAIN).is_ok());
        let err = registry
            .repository::<Branch>(Role::MASTERADMIN)
            .err()
            .unwrap();
        assert!(matches!(err, RegistryError::NotBound { .. }));
        assert!(
            err.to_string().contains("branches@main, orders@main"),
            "{err}"
        );
    }

    #[test]
    fn binding_to_a_role_that_is_not_configured_fails_at_start_up() {
        let billing = Role::new("billing").unwrap();
        let err = registry().bind::<Branch>(billing).err().unwrap();
        assert!(
            err.to_string().contains("'billing'") && err.to_string().contains("main, masteradmin"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn the_by_name_handle_reads_what_the_typed_repository_wrote() {
        let registry = registry();
        let created = registry
            .repository::<Branch>(Role::MAIN)
            .unwrap()
            .create(lyon())
            .await
            .unwrap();
        for name in ["Branch", "branches"] {
            let handle = registry.model(name, Role::MAIN).unwrap();
            assert_eq!(handle.count().await.unwrap(), 1);
            let json = handle.get(&created.id().to_string()).await.unwrap();
            assert_eq!(json["name"], "Lyon");
            assert_eq!(handle.list(Page::first()).await.unwrap(), vec![json]);
        }
        let unknown = registry.model("widgets", Role::MAIN).err().unwrap();
        assert!(matches!(unknown, RegistryError::UnknownModel { .. }));
    }

    #[tokio::test]
    async fn a_model_bound_again_by_name_on_another_role_gets_a_store_of_its_own() {
        let registry = registry().bind_listed("branches@masteradmin").unwrap();
        let on_main = registry.repository::<Branch>(Role::MAIN).unwrap();
        on_main.create(lyon()).await.unwrap();
        let on_admin = registry.repository::<Branch>(Role::MASTERADMIN).unwrap();
        assert_eq!(on_admin.count().await.unwrap(), 0);
        for bad in ["branches", "branches@billing", "widgets@main"] {
            let err = registry.clone().bind_listed(bad).err().unwrap();
            assert!(err.to_string().contains(bad), "{err}");
        }
    }

    #[test]
    fn a_model_bound_to_a_collection_of_its_own_is_found_like_any_other() {
        let registry = registry()
            .bind_in_collection::<Branch>(Role::MASTERADMIN, "sites")
            .unwrap();
        assert!(registry.repository::<Branch>(Role::MASTERADMIN).is_ok());
        let billing = Role::new("billing").unwrap();
        let err = registry.bind_in_collection::<Order>(billing, "bills").err();
        assert!(
            matches!(err, Some(RegistryError::UnknownRole(_))),
            "{err:?}"
        );
    }
}
