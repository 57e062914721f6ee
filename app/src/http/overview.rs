//! Routes that read across databases: `/dashboard`, `/me`. (`/health` is in `health.rs`.)

use std::collections::BTreeMap;

use axum::extract::State;
use axum::Json;
use domain::{Branch, Id, MasterAdmin, Order};
use ports::Role;
use serde::{Deserialize, Serialize};
use utoipa::openapi::path::ParameterStyle;
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Schema, Type};
use utoipa::openapi::{OpenApi, RefOr};
use utoipa::{IntoParams, ToSchema};

use super::error::{ApiError, ApiResult, ErrorBody};
use super::extract::AppQuery;
use super::{AppState, Data};
use crate::auth::Identity;
use registry::ByNameError;

/// The counts of `GET /dashboard`, as the Node.js handler answers them: `totalAdmins` is the
/// number of master admins (the seed's `MasterAdmin.countDocuments({})`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Dashboard {
    total_admins: u64,
    total_branches: u64,
    total_orders: u64,
}

/// Counts from both databases, read concurrently. If either database fails the whole answer
/// is a `503` naming the role: partial counts would be wrong counts.
#[utoipa::path(
    get, path = "/dashboard", tag = "reports", operation_id = "reports.dashboard",
    summary = "Master admins, branches and orders, counted",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The counts", body = Data<Dashboard>),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not a master admin", body = ErrorBody),
        (status = 503, description = "A database is unavailable", body = ErrorBody),
        (status = 500, description = "A stored record cannot be read", body = ErrorBody),
    )
)]
pub async fn dashboard(State(state): State<AppState>) -> ApiResult<Json<Data<Dashboard>>> {
    let registry = &state.registry;
    let admins = registry.repository::<MasterAdmin>(Role::MASTERADMIN)?;
    let branches = registry.repository::<Branch>(Role::MAIN)?;
    let orders = registry.repository::<Order>(Role::MAIN)?;
    let (total_admins, total_branches, total_orders) =
        tokio::try_join!(admins.count(), branches.count(), orders.count())?;
    Ok(Data::json(Dashboard {
        total_admins,
        total_branches,
        total_orders,
    }))
}

/// The body of `GET /me`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Me {
    full_name: String,
    total_branches: u64,
}

/// The calling master admin's name from `masteradmin` and the branch count from `main`.
#[utoipa::path(
    get, path = "/me", tag = "reports", operation_id = "reports.me",
    summary = "The calling master admin",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller's name and the branch count", body = Data<Me>),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not a master admin", body = ErrorBody),
        (status = 404, description = "The caller's account is gone", body = ErrorBody),
        (status = 503, description = "A database is unavailable", body = ErrorBody),
        (status = 500, description = "A stored record cannot be read", body = ErrorBody),
    )
)]
pub async fn me(State(state): State<AppState>, caller: Identity) -> ApiResult<Json<Data<Me>>> {
    let id: Id<MasterAdmin> = Id::parse(caller.subject())
        .map_err(|_| ApiError::NotFound("the token's subject is not a master admin id".into()))?;
    let master_admins = state
        .registry
        .repository::<MasterAdmin>(Role::MASTERADMIN)?;
    let branches = state.registry.repository::<Branch>(Role::MAIN)?;
    let (account, total_branches) = tokio::try_join!(master_admins.get(id), branches.count())?;
    Ok(Data::json(Me {
        full_name: account.entity().full_name().to_string(),
        total_branches,
    }))
}

/// `?role=&entities=` of `GET /counts`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CountsQuery {
    /// A configured connection role (the document lists them: [`document_roles`]).
    role: String,
    /// 1 to 12 model names separated by commas, such as `branches,orders` (the document
    /// lists the bound ones: [`document_counts`]); a name not bound on the role is a `404`.
    entities: String,
}

/// The most names one `/counts` request may ask for.
const MAX_COUNTED: usize = 12;

/// Writes what only the running service knows into the document's `/counts`: its configured
/// connection roles as the values `role` accepts, and its bound models' names as those
/// `entities` lists (comma-separated, 1 to [`MAX_COUNTED`]).
pub(crate) fn document_counts(document: &mut OpenApi, roles: &[Role], models: &[String]) {
    let text = |names: Vec<serde_json::Value>| {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(names))
    };
    let roles: RefOr<Schema> = text(roles.iter().map(|r| r.as_str().into()).collect()).into();
    let names: RefOr<Schema> = ArrayBuilder::new()
        .items(text(models.iter().map(|m| m.as_str().into()).collect()))
        .min_items(Some(1))
        .max_items(Some(MAX_COUNTED))
        .into();
    let operation = document
        .paths
        .paths
        .get_mut("/counts")
        .and_then(|item| item.get.as_mut());
    let parameters = operation.and_then(|operation| operation.parameters.as_mut());
    for parameter in parameters.into_iter().flatten() {
        let RefOr::T(parameter) = parameter else {
            continue;
        };
        match parameter.name.as_str() {
            "role" => parameter.schema = Some(roles.clone()),
            "entities" => {
                parameter.schema = Some(names.clone());
                parameter.style = Some(ParameterStyle::Form);
                parameter.explode = Some(false);
            }
            _ => {}
        }
    }
}

/// Counts entity kinds by name on a role, concurrently: the registry's access by name, for
/// tools that do not know the entity types (and for kinds bound with `EXTRA_BINDINGS`).
#[utoipa::path(
    get, path = "/counts", tag = "reports", operation_id = "reports.counts",
    summary = "Records of models named in the query, counted on one role",
    security(("bearer" = [])),
    params(CountsQuery),
    responses(
        (status = 200, description = "The count of each model, by name",
            body = Data<BTreeMap<String, u64>>),
        (status = 400, description = "A role that is not configured, or no model named", body = ErrorBody),
        (status = 404, description = "A model not bound on the role", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not a master admin", body = ErrorBody),
        (status = 503, description = "A database is unavailable", body = ErrorBody),
        (status = 500, description = "A stored record cannot be read", body = ErrorBody),
    )
)]
pub async fn counts(
    State(state): State<AppState>,
    AppQuery(query): AppQuery<CountsQuery>,
) -> ApiResult<Json<Data<BTreeMap<String, u64>>>> {
    let role = Role::find(&query.role, state.registry.roles())
        .map_err(|unknown| ApiError::BadRequest(unknown.to_string()))?;
    let names: Vec<&str> = query.entities.split(',').collect();
    if names.iter().any(|name| name.is_empty()) || names.len() > MAX_COUNTED {
        let expected = format!("entities: 1 to {MAX_COUNTED} names separated by commas");
        return Err(ApiError::BadRequest(expected));
    }
    let counts = state
        .registry
        .counts_by_name(role, &names)
        .await
        .map_err(|e| match e {
            ByNameError::Registry(unknown) => ApiError::NotFound(unknown.to_string()),
            ByNameError::Id(bad) => ApiError::BadRequest(bad.to_string()),
            ByNameError::Repository(failure) => failure.into(),
        })?;
    Ok(Data::json(counts.into_iter().collect()))
}
