//! The registry (what Mongoose users call the model factory): for each role, the repository
//! that serves each entity kind. Built once at start-up; read-only afterwards.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use domain::{Admin, Branch, Customer, Entity, EntityKind, Machine, MasterAdmin, Order};
use ports::{ConnectionMonitor, Repository, RepositoryError, Role};

/// Which entity kinds are served on which role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bindings(BTreeSet<(EntityKind, Role)>);

impl Default for Bindings {
    /// Business data on `main`; master admins and admins on `masteradmin`.
    fn default() -> Self {
        use EntityKind::*;
        let main = [Branch, Customer, Order, Machine].map(|k| (k, Role::Main));
        let admin = [MasterAdmin, Admin].map(|k| (k, Role::MasterAdmin));
        Self(main.into_iter().chain(admin).collect())
    }
}

impl Bindings {
    /// Whether `kind` is served on `role`.
    pub fn contains(&self, kind: EntityKind, role: Role) -> bool {
        self.0.contains(&(kind, role))
    }

    /// Every (kind, role) pair.
    pub fn iter(&self) -> impl Iterator<Item = (EntityKind, Role)> + '_ {
        self.0.iter().copied()
    }
}

/// Parses the default bindings plus extra ones, `kind@role` separated by commas (for
/// example `admins@main` also serves admins from the main database).
impl FromStr for Bindings {
    type Err = RegistryError;

    fn from_str(extra: &str) -> Result<Self, Self::Err> {
        let mut bindings = Bindings::default();
        for pair in extra.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let invalid = || RegistryError::InvalidBinding(pair.chars().take(64).collect());
            let (kind, role) = pair.split_once('@').ok_or_else(invalid)?;
            let kind = kind.parse().map_err(|_| invalid())?;
            let role = role.parse().map_err(|_| invalid())?;
            bindings.0.insert((kind, role));
        }
        Ok(bindings)
    }
}

/// A registry lookup that cannot be served.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegistryError {
    /// No entity kind has this name.
    #[error("unknown entity '{name}'; registered: {registered}")]
    UnknownEntity {
        /// The name asked for.
        name: String,
        /// What is registered, as `kind@role` pairs.
        registered: String,
    },
    /// The kind exists but is not served on the role.
    #[error("{kind} is not bound on the {role} role; registered: {registered}")]
    NotBound {
        /// The kind asked for.
        kind: EntityKind,
        /// The role asked for.
        role: Role,
        /// What is registered, as `kind@role` pairs.
        registered: String,
    },
    /// A binding in the configuration is not `kind@role`.
    #[error("invalid binding '{0}': expected kind@role, such as admins@main")]
    InvalidBinding(String),
}

/// One role's repositories; `None` where the kind is not bound on the role.
#[derive(Clone, Default)]
pub struct RoleRepositories {
    branches: Option<Arc<dyn Repository<Branch>>>,
    customers: Option<Arc<dyn Repository<Customer>>>,
    orders: Option<Arc<dyn Repository<Order>>>,
    machines: Option<Arc<dyn Repository<Machine>>>,
    master_admins: Option<Arc<dyn Repository<MasterAdmin>>>,
    admins: Option<Arc<dyn Repository<Admin>>>,
}

/// An entity kind the registry can hold: names its slot in [`RoleRepositories`].
pub trait Registered: Entity {
    /// The repository of this kind, if bound.
    fn slot(repositories: &RoleRepositories) -> Option<&Arc<dyn Repository<Self>>>;

    /// The place of this kind's repository, to bind it.
    fn slot_mut(repositories: &mut RoleRepositories) -> &mut Option<Arc<dyn Repository<Self>>>;
}

macro_rules! registered {
    ($($entity:ty => $field:ident),+ $(,)?) => {$(
        impl Registered for $entity {
            fn slot(repositories: &RoleRepositories) -> Option<&Arc<dyn Repository<Self>>> {
                repositories.$field.as_ref()
            }

            fn slot_mut(repositories: &mut RoleRepositories) -> &mut Option<Arc<dyn Repository<Self>>> {
                &mut repositories.$field
            }
        }
    )+};
}
registered!(
    Branch => branches, Customer => customers, Order => orders,
    Machine => machines, MasterAdmin => master_admins, Admin => admins,
);

/// Every repository of the process, by role and kind, and the health of each role.
#[derive(Clone)]
pub struct Registry {
    main: RoleRepositories,
    masteradmin: RoleRepositories,
    bindings: Bindings,
    monitor: Arc<dyn ConnectionMonitor>,
}

impl Registry {
    /// An empty registry observed by `monitor`; fill it with [`Registry::bind`].
    pub fn new(monitor: Arc<dyn ConnectionMonitor>) -> Self {
        Self {
            main: RoleRepositories::default(),
            masteradmin: RoleRepositories::default(),
            bindings: Bindings(BTreeSet::new()),
            monitor,
        }
    }

    /// Serves `T` on `role` from `repository`.
    pub fn bind<T: Registered>(mut self, role: Role, repository: Arc<dyn Repository<T>>) -> Self {
        *T::slot_mut(self.role_mut(role)) = Some(repository);
        self.bindings.0.insert((T::KIND, role));
        self
    }

    /// The repository of `T` on `role`, checked by the compiler for the kind.
    ///
    /// # Errors
    /// [`RegistryError::NotBound`] when `T` is not served on `role`.
    pub fn repository<T: Registered>(
        &self,
        role: Role,
    ) -> Result<Arc<dyn Repository<T>>, RegistryError> {
        T::slot(self.role_repositories(role))
            .cloned()
            .ok_or_else(|| self.not_bound(T::KIND, role))
    }

    /// Counts the entities of the kind named `name` (`branches`, `masterAdmins`, …) on `role`,
    /// for tools that address entities by name.
    ///
    /// # Errors
    /// A [`RegistryError`] (wrapped) for an unknown name or a kind not bound on the role; the
    /// repository's error when counting fails.
    pub async fn count_by_name(&self, role: Role, name: &str) -> Result<u64, CountError> {
        let kind: EntityKind = name.parse().map_err(|_| RegistryError::UnknownEntity {
            name: name.chars().take(64).collect(),
            registered: self.registered(),
        })?;
        let count = match kind {
            EntityKind::Branch => self.repository::<Branch>(role)?.count().await,
            EntityKind::Customer => self.repository::<Customer>(role)?.count().await,
            EntityKind::Order => self.repository::<Order>(role)?.count().await,
            EntityKind::Machine => self.repository::<Machine>(role)?.count().await,
            EntityKind::MasterAdmin => self.repository::<MasterAdmin>(role)?.count().await,
            EntityKind::Admin => self.repository::<Admin>(role)?.count().await,
        };
        Ok(count?)
    }

    /// Counts several kinds by name on `role` in one call, concurrently, in the order asked.
    ///
    /// # Errors
    /// The first failure of [`Self::count_by_name`] among the names.
    pub async fn counts_by_name(
        &self,
        role: Role,
        names: &[&str],
    ) -> Result<Vec<(String, u64)>, CountError> {
        let counts = names.iter().map(|name| async move {
            let count = self.count_by_name(role, name).await?;
            Ok::<_, CountError>(((*name).to_owned(), count))
        });
        futures::future::try_join_all(counts).await
    }

    /// The health of each role's database.
    pub fn monitor(&self) -> &Arc<dyn ConnectionMonitor> {
        &self.monitor
    }

    /// What is bound.
    pub fn bindings(&self) -> &Bindings {
        &self.bindings
    }

    fn role_repositories(&self, role: Role) -> &RoleRepositories {
        match role {
            Role::Main => &self.main,
            Role::MasterAdmin => &self.masteradmin,
        }
    }

    fn role_mut(&mut self, role: Role) -> &mut RoleRepositories {
        match role {
            Role::Main => &mut self.main,
            Role::MasterAdmin => &mut self.masteradmin,
        }
    }

    fn not_bound(&self, kind: EntityKind, role: Role) -> RegistryError {
        RegistryError::NotBound {
            kind,
            role,
            registered: self.registered(),
        }
    }

    fn registered(&self) -> String {
        let pairs: Vec<String> = self
            .bindings
            .iter()
            .map(|(k, r)| format!("{k}@{r}"))
            .collect();
        pairs.join(", ")
    }
}

/// Why a count by name failed.
#[derive(Debug, thiserror::Error)]
pub enum CountError {
    /// The name or binding is wrong.
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// The repository failed.
    #[error(transparent)]
    Repository(#[from] RepositoryError),
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registry")
            .field("bindings", &self.registered())
            .finish()
    }
}
