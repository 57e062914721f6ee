//! Routes as data: each mount says which models on which roles it reads and who may call it,
//! so that start-up can refuse a route whose model has no binding, or a route to the
//! `masteradmin` database open to callers other than master admins, before serving anything.

use std::fmt;
use std::sync::Arc;

use axum::middleware::{from_fn_with_state, map_response};
use domain::{plural_name, Branch, Entity, MasterAdmin, Model, Order};
use ports::Role;
use registry::Registry;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::guard;
use super::idempotency::{self, RouteStore};
use super::request_log::RouteRoles;
use super::resources::crud_routes;
use super::AppState;
use crate::auth::CallerRole;

/// Who may call a mount's operations, by caller role, checked before any body is read:
/// readers list and get, writers create, change and delete.
///
/// ```
/// use app::auth::CallerRole;
/// use app::http::Access;
///
/// // Any caller reads, admins and master admins write.
/// const ADMINS: &[CallerRole] = &[CallerRole::ADMIN, CallerRole::MASTER_ADMIN];
/// let access = Access::ANY_CALLER.writes(ADMINS);
/// assert!(access.allows(CallerRole::USER, false) && !access.allows(CallerRole::USER, true));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Access {
    read: Callers,
    write: Callers,
}

/// The callers of one kind of operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Callers {
    /// Any caller with a verified token.
    Any,
    /// Callers with one of these roles.
    Only(&'static [CallerRole]),
}

impl Callers {
    fn allows(self, role: CallerRole) -> bool {
        match self {
            Callers::Any => true,
            Callers::Only(roles) => roles.contains(&role),
        }
    }

    /// The roles, as an error or a document names them; `None` for any caller.
    pub(crate) fn names(self) -> Option<String> {
        match self {
            Callers::Any => None,
            Callers::Only(roles) => {
                let names: Vec<&str> = roles.iter().map(|role| role.as_str()).collect();
                Some(names.join(", "))
            }
        }
    }
}

impl Access {
    /// Any caller with a verified token reads and writes.
    pub const ANY_CALLER: Access = Access {
        read: Callers::Any,
        write: Callers::Any,
    };

    /// Master admins only: the only access a route to the `masteradmin` database may have.
    pub const MASTER_ADMIN: Access = Access::only(&[CallerRole::MASTER_ADMIN]);

    /// Callers with one of `roles` read and write.
    pub const fn only(roles: &'static [CallerRole]) -> Access {
        Access {
            read: Callers::Only(roles),
            write: Callers::Only(roles),
        }
    }

    /// The same readers; only callers with one of `roles` write.
    pub const fn writes(self, roles: &'static [CallerRole]) -> Access {
        Access {
            read: self.read,
            write: Callers::Only(roles),
        }
    }

    /// Whether a caller with `role` may read (or, when `writing`, write).
    pub fn allows(&self, role: CallerRole, writing: bool) -> bool {
        self.callers(writing).allows(role)
    }

    /// The callers of reads (or, when `writing`, of writes).
    pub(crate) fn callers(&self, writing: bool) -> Callers {
        if writing {
            self.write
        } else {
            self.read
        }
    }
}

type AddRoutes = dyn Fn() -> OpenApiRouter<AppState> + Send + Sync;

/// A group of routes with what it needs: the (model, role) bindings it reads and its access.
#[derive(Clone)]
pub struct Mount {
    what: String,
    needs: Vec<(String, Role)>,
    access: Access,
    read_only: bool,
    /// Left out, rather than refused, when what it reads is not bound.
    optional: bool,
    roles: Vec<Role>,
    /// The role whose store keeps the answers to its `POST`s with an `Idempotency-Key`.
    answers_kept_on: Option<Role>,
    routes: Arc<AddRoutes>,
}

/// A mount that start-up refuses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MountError {
    /// The route reads a model that is not bound on its role.
    #[error(
        "route {what} needs {model} on the {role} role, which is not bound; bind it at start-up"
    )]
    NotBound {
        /// The routes, as `/path`.
        what: String,
        /// The model, by plural name.
        model: String,
        /// The role.
        role: Role,
    },
    /// A route reaches `masteradmin` with a weaker access than master admins only.
    #[error("route {what} reaches the masteradmin role and must be for master admins only")]
    WeakAccess {
        /// The routes, as `/path`.
        what: String,
    },
}

/// The CRUD routes of model `M` at `path` (`/invoices` and `/invoices/{id}`), reading and
/// writing `M` on `role`, for callers allowed by `access`: one line per model in a router.
pub fn crud<M: Entity>(path: &'static str, role: Role, access: Access) -> Mount {
    Mount {
        what: path.to_owned(),
        needs: vec![(plural_name(M::NAME), role)],
        access,
        read_only: false,
        optional: false,
        roles: vec![role],
        answers_kept_on: Some(role),
        routes: Arc::new(move || crud_routes::<M>(path, role, access, false)),
    }
}

/// The list and get routes of model `M` at `path`, reading `M` on `role`, for callers
/// allowed by `access` to read: a read-only view (a reporting role's copy), whose document
/// shows only those two operations.
pub fn listing<M: Entity>(path: &'static str, role: Role, access: Access) -> Mount {
    Mount {
        what: path.to_owned(),
        needs: vec![(plural_name(M::NAME), role)],
        access,
        read_only: true,
        optional: false,
        roles: vec![role],
        answers_kept_on: None,
        routes: Arc::new(move || crud_routes::<M>(path, role, access, true)),
    }
}

/// `/dashboard`, `/me` and `/counts`: the back office's reports across `main` and
/// `masteradmin`, for master admins.
pub fn reports() -> Mount {
    let needs = [
        (MasterAdmin::NAME, Role::MASTERADMIN),
        (Branch::NAME, Role::MAIN),
        (Order::NAME, Role::MAIN),
    ];
    Mount {
        what: "/dashboard, /me, /counts".to_owned(),
        needs: needs.iter().map(|(m, r)| (plural_name(m), *r)).collect(),
        access: Access::MASTER_ADMIN,
        read_only: true,
        optional: false,
        roles: Role::DEFAULTS.to_vec(),
        answers_kept_on: None,
        routes: Arc::new(|| {
            OpenApiRouter::default()
                .routes(routes!(super::overview::dashboard))
                .routes(routes!(super::overview::me))
                .routes(routes!(super::overview::counts))
        }),
    }
}

impl Mount {
    /// The same mount, served only when what it reads is bound (a role some deployments
    /// configure, bound with `Registry::bind_if_configured`), and left out otherwise.
    pub fn when_bound(self) -> Self {
        Self {
            optional: true,
            ..self
        }
    }

    /// Whether the mount is served with `registry`: an optional mount is left out when what it
    /// reads is not bound.
    pub fn is_served(&self, registry: &Registry) -> bool {
        !self.optional || self.needs_bound(registry)
    }

    fn needs_bound(&self, registry: &Registry) -> bool {
        self.needs
            .iter()
            .all(|(model, role)| registry.model(model, *role).is_ok())
    }

    /// Checks the mount against what is bound.
    ///
    /// # Errors
    /// A [`MountError`] naming the route and the missing binding or the weak access.
    pub fn check(&self, registry: &Registry) -> Result<(), MountError> {
        for (model, role) in &self.needs {
            if registry.model(model, *role).is_err() {
                return Err(MountError::NotBound {
                    what: self.what.clone(),
                    model: model.clone(),
                    role: *role,
                });
            }
        }
        if self.roles.contains(&Role::MASTERADMIN) && self.access != Access::MASTER_ADMIN {
            return Err(MountError::WeakAccess {
                what: self.what.clone(),
            });
        }
        Ok(())
    }

    /// The routes with their documentation, tagged with their roles for the request log,
    /// with their `Idempotency-Key` answers kept, and guarded: the guard runs first, so a
    /// caller without a valid token is refused before any other check.
    pub(crate) fn router(&self, state: &AppState) -> OpenApiRouter<AppState> {
        let roles: Vec<&str> = self.roles.iter().map(|r| r.as_str()).collect();
        let mut routes = (self.routes)();
        if let Some(role) = self.answers_kept_on {
            let route = RouteStore {
                state: state.clone(),
                role,
            };
            routes = routes.route_layer(from_fn_with_state(route, idempotency::layer));
        }
        // Outside the idempotency layer, so that replays are tagged too.
        let tagged = routes.route_layer(map_response(RouteRoles::new(&roles).tag()));
        let guarded = guard::Guarded {
            state: state.clone(),
            access: self.access,
        };
        tagged.route_layer(from_fn_with_state(guarded, guard::allow))
    }

    /// Whether the mount serves only reads.
    pub fn is_read_only(&self) -> bool {
        self.read_only
    }
}

impl fmt::Debug for Mount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mount")
            .field("what", &self.what)
            .field("needs", &self.needs)
            .field("access", &self.access)
            .finish()
    }
}
