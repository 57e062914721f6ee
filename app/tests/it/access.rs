//! Access declared per mount and per operation over the caller roles a service declares:
//! a service's own caller role, writers narrower than readers, a read-only listing.

use app::auth::CallerRole;
use app::http::{crud, listing, Access};
use app::service::Service;
use axum::http::StatusCode;
use domain::Branch;
use ports::Role;
use serde_json::json;
use tests::service::TestService;

const ANALYST: CallerRole = CallerRole::named("analyst");
const ADMINS: &[CallerRole] = &[CallerRole::ADMIN, CallerRole::MASTER_ADMIN];
const REPORTERS: &[CallerRole] = &[ANALYST, CallerRole::MASTER_ADMIN];

/// Branches any caller reads and admins write, and a read-only listing for analysts.
fn service() -> Service {
    Service {
        roles: Vec::new(),
        callers: vec![ANALYST],
        bind: |registry| registry.bind::<Branch>(Role::MAIN),
        routes: || {
            vec![
                crud::<Branch>("/branches", Role::MAIN, Access::ANY_CALLER.writes(ADMINS)),
                listing::<Branch>("/reports/branches", Role::MAIN, Access::only(REPORTERS)),
            ]
        },
        seeds_demo: false,
    }
}

async fn started() -> TestService {
    TestService::start_service(TestService::memory_config(), service()).await
}

#[tokio::test]
async fn any_caller_reads_and_only_the_declared_writers_write() {
    let app = started().await;
    let user = app.token(CallerRole::USER);
    let admin = app.token(CallerRole::ADMIN);
    let body = json!({ "name": "Lyon", "location": "Forge" });
    let refused = app.post("/branches", &user, body.clone()).await;
    let message = refused.error(StatusCode::FORBIDDEN, "forbidden");
    assert!(message.contains("admin, master_admin"), "{message}");
    let id = app.create("/branches", &admin, body).await;
    app.get(&format!("/branches/{id}"), &user)
        .await
        .data(StatusCode::OK);
    app.delete(&format!("/branches/{id}"), &user)
        .await
        .error(StatusCode::FORBIDDEN, "forbidden");
}

#[tokio::test]
async fn a_read_only_listing_serves_and_documents_only_list_and_get_to_its_callers() {
    let app = started().await;
    let analyst = app.token(ANALYST);
    let admin = app.token(CallerRole::ADMIN);
    let id = app.create_branch(&admin, "Turin").await;
    let page = app
        .get("/reports/branches", &analyst)
        .await
        .data(StatusCode::OK);
    assert_eq!(page.as_array().map(Vec::len), Some(1));
    app.get(&format!("/reports/branches/{id}"), &analyst)
        .await
        .data(StatusCode::OK);
    app.get("/reports/branches", &admin)
        .await
        .error(StatusCode::FORBIDDEN, "forbidden");
    let write = app
        .post(
            "/reports/branches",
            &analyst,
            json!({ "name": "X", "location": "Y" }),
        )
        .await;
    assert_eq!(write.status, StatusCode::METHOD_NOT_ALLOWED);

    let document = app.get("/openapi.json", &analyst).await.body;
    let listed = &document["paths"]["/reports/branches"];
    let one = &document["paths"]["/reports/branches/{id}"];
    let methods = |item: &serde_json::Value| -> Vec<String> {
        item.as_object()
            .map_or_else(Vec::new, |item| item.keys().cloned().collect())
    };
    assert_eq!(
        (methods(listed), methods(one)),
        (vec!["get".to_owned()], vec!["get".to_owned()])
    );
    assert!(listed["get"]["responses"].get("403").is_some(), "{listed}");
}

#[tokio::test]
async fn a_token_whose_role_the_service_does_not_declare_is_refused() {
    let app = started().await;
    let auditor = app.token(CallerRole::named("auditor"));
    app.get("/branches", &auditor)
        .await
        .error(StatusCode::UNAUTHORIZED, "unauthorized");
    // The back office does not declare the analyst role either.
    let back_office = TestService::start(TestService::memory_config()).await;
    let analyst = back_office.token(ANALYST);
    back_office
        .get("/branches", &analyst)
        .await
        .error(StatusCode::UNAUTHORIZED, "unauthorized");
}

const ANALYTICS: Role = Role::named("analytics");

/// Branches on `main`, and a listing on `analytics` when the deployment configures it.
fn with_optional_role(configured: bool) -> Service {
    Service {
        roles: if configured {
            vec![ANALYTICS]
        } else {
            Vec::new()
        },
        callers: Vec::new(),
        bind: |registry| {
            Ok(registry
                .bind::<Branch>(Role::MAIN)?
                .bind_if_configured::<Branch>(ANALYTICS))
        },
        routes: || {
            vec![
                crud::<Branch>("/branches", Role::MAIN, Access::ANY_CALLER),
                listing::<Branch>("/analytics/branches", ANALYTICS, Access::ANY_CALLER)
                    .when_bound(),
            ]
        },
        seeds_demo: false,
    }
}

#[tokio::test]
async fn a_mount_on_an_optional_role_is_served_only_where_the_role_is_configured() {
    for configured in [false, true] {
        let service = with_optional_role(configured);
        let app = TestService::start_service(TestService::memory_config(), service).await;
        let token = app.token(CallerRole::USER);
        let reply = app.get("/analytics/branches", &token).await;
        let expected = if configured {
            StatusCode::OK
        } else {
            StatusCode::NOT_FOUND
        };
        assert_eq!(reply.status, expected, "configured: {configured}");
        let document = app.get("/openapi.json", &token).await.body;
        assert_eq!(
            document["paths"].get("/analytics/branches").is_some(),
            configured
        );
    }
}
