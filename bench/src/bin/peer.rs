//! The benchmark's peer: the service a Rust team would write by hand instead of adopting our
//! layers, on the same stack (axum on tokio's multi-threaded runtime, the system allocator, the
//! official driver, an HS256 check with `jsonwebtoken` on every request, `serde_json`), with no
//! logging and no metrics. It serves the three routes the benchmark loads with the app's JSON,
//! on the same databases: `MONGO_URI`, `MASTER_ADMIN_MONGO_URI`, `AUTH_JWT_SECRET`, `PORT`.
//! `peer lambda` serves them to AWS Lambda instead.

use axum::extract::{Json, Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use jsonwebtoken::{decode, DecodingKey, Validation};
use mongodb::bson::{doc, oid::ObjectId, DateTime, Document};
use mongodb::options::{ClientOptions, ConnectionString};
use mongodb::{Client, Database};
use serde::Deserialize;
use serde_json::json;

#[derive(Clone)]
struct Peer {
    main: Database,
    admins: Database,
    key: DecodingKey,
    validation: Validation,
}

#[derive(Deserialize)]
struct Claims {
    role: String,
}

#[derive(Deserialize)]
struct NewBranch {
    name: String,
    location: String,
}

fn claims(peer: &Peer, headers: &HeaderMap) -> Result<Claims, StatusCode> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let token = token
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or(StatusCode::UNAUTHORIZED)?;
    let data = decode::<Claims>(token, &peer.key, &peer.validation);
    data.map(|d| d.claims).map_err(|_| StatusCode::UNAUTHORIZED)
}

fn branch(doc: &Document) -> Response {
    let time = |field| {
        doc.get_datetime(field)
            .ok()
            .and_then(|t| t.try_to_rfc3339_string().ok())
    };
    let version = doc.get_i32("__v").unwrap_or(0);
    let updated = doc
        .get_datetime("updatedAt")
        .map_or(0, |t| t.timestamp_millis());
    let etag = format!("\"{version}-{updated}\"");
    let id = doc
        .get_object_id("_id")
        .map(|id| id.to_hex())
        .unwrap_or_default();
    let data = json!({ "id": id, "name": doc.get_str("name").unwrap_or_default(),
        "location": doc.get_str("location").unwrap_or_default(),
        "createdAt": time("createdAt"), "updatedAt": time("updatedAt") });
    ([(header::ETAG, etag)], Json(json!({ "data": data }))).into_response()
}

async fn get_branch(
    State(peer): State<Peer>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if let Err(status) = claims(&peer, &headers) {
        return status.into_response();
    }
    let Ok(id) = ObjectId::parse_str(&id) else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    match peer
        .main
        .collection::<Document>("branches")
        .find_one(doc! { "_id": id })
        .await
    {
        Ok(Some(found)) => branch(&found),
        Ok(None) => StatusCode::NOT_FOUND.into_response(),
        Err(_) => StatusCode::SERVICE_UNAVAILABLE.into_response(),
    }
}

async fn create_branch(
    State(peer): State<Peer>,
    headers: HeaderMap,
    Json(body): Json<NewBranch>,
) -> Response {
    if let Err(status) = claims(&peer, &headers) {
        return status.into_response();
    }
    if body.name.trim().is_empty() || body.location.trim().is_empty() {
        return StatusCode::BAD_REQUEST.into_response();
    }
    let now = DateTime::now();
    let new = doc! { "_id": ObjectId::new(), "name": body.name, "location": body.location,
    "createdAt": now, "updatedAt": now, "__v": 0 };
    match peer
        .main
        .collection::<Document>("branches")
        .insert_one(&new)
        .await
    {
        Ok(_) => (StatusCode::CREATED, branch(&new)).into_response(),
        Err(_) => StatusCode::CONFLICT.into_response(),
    }
}

async fn dashboard(State(peer): State<Peer>, headers: HeaderMap) -> Response {
    match claims(&peer, &headers) {
        Ok(claims) if claims.role == "master_admin" => {}
        Ok(_) => return StatusCode::FORBIDDEN.into_response(),
        Err(status) => return status.into_response(),
    }
    let admins = peer.admins.collection::<Document>("masteradmins");
    let branches = peer.main.collection::<Document>("branches");
    let orders = peer.main.collection::<Document>("orders");
    let counts = tokio::try_join!(
        admins.count_documents(doc! {}),
        branches.count_documents(doc! {}),
        orders.count_documents(doc! {})
    );
    let Ok((admins, branches, orders)) = counts else {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    };
    let data = json!({ "totalAdmins": admins, "totalBranches": branches, "totalOrders": orders });
    Json(json!({ "data": data })).into_response()
}

fn database(uri: &str) -> String {
    ConnectionString::parse(uri)
        .ok()
        .and_then(|c| c.default_database)
        .unwrap_or_default()
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let env = |name: &str| std::env::var(name).map_err(|_| format!("{name} is not set"));
    let (main_uri, admin_uri) = (env("MONGO_URI")?, env("MASTER_ADMIN_MONGO_URI")?);
    let mut options = ClientOptions::parse(&main_uri).await?;
    options.max_pool_size = Some(50); // as the app's default, so the pools are alike
    let client = Client::with_options(options)?;
    let peer = Peer {
        main: client.database(&database(&main_uri)),
        admins: client.database(&database(&admin_uri)),
        key: DecodingKey::from_secret(env("AUTH_JWT_SECRET")?.as_bytes()),
        validation: Validation::default(),
    };
    let router: Router<()> = Router::new()
        .route("/branches", axum::routing::post(create_branch))
        .route("/branches/{id}", get(get_branch))
        .route("/dashboard", get(dashboard))
        .route(
            "/health/live",
            get(|| async { Json(json!({ "data": { "status": "up" } })) }),
        )
        .with_state(peer);
    if std::env::args().nth(1).as_deref() == Some("lambda") {
        return lambda_http::run(router).await;
    }
    let port: u16 = env("PORT")?.parse()?;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    axum::serve(listener, router).await?;
    Ok(())
}
