//! Lists through the HTTP API, on the test server: filters on a model's declared references and
//! enumerations, cursor walks (in the body and the `Link` header) while records are added, the
//! total on request only, and the cap on `skip`.

use std::collections::BTreeMap;

use app::auth::CallerRole;
use axum::http::header::LINK;
use axum::http::{Method, StatusCode};
use ports::Role;
use serde_json::{json, Value};
use testkit::server::known_server_gap;
use tests::service::{request, Reply, TestService};
use tower::ServiceExt;

async fn service() -> (TestService, String) {
    let app = TestService::on_fresh_databases("lists").await;
    let token = app.token(CallerRole::MASTER_ADMIN);
    (app, token)
}

fn machine(branch: &str, serial: &str, status: &str) -> Value {
    json!({ "branchId": branch, "name": "Press", "serialNumber": serial, "status": status })
}

fn ids(reply: &Reply) -> Vec<String> {
    let data = reply.body["data"].as_array().expect("a list");
    data.iter()
        .map(|record| record["id"].as_str().expect("an id").to_owned())
        .collect()
}

/// The reply and its `Link` header.
async fn get_with_link(app: &TestService, target: &str, token: &str) -> (Reply, Option<String>) {
    let response = app
        .router()
        .clone()
        .oneshot(request(Method::GET, target, Some(token), None))
        .await
        .expect("the router is infallible");
    let link = response
        .headers()
        .get(LINK)
        .map(|value| value.to_str().expect("ASCII").to_owned());
    (Reply::read(response).await, link)
}

#[tokio::test]
async fn a_list_is_filtered_on_declared_references_and_enumerations_and_a_bad_filter_is_a_400() {
    let (app, token) = service().await;
    let lyon = app.create_branch(&token, "Lyon").await;
    let turin = app.create_branch(&token, "Turin").await;
    let mut made = BTreeMap::new();
    for (branch, serial, status) in [
        (&lyon, "L-1", "running"),
        (&lyon, "L-2", "maintenance"),
        (&lyon, "L-3", "running"),
        (&turin, "T-1", "idle"),
        (&turin, "T-2", "maintenance"),
    ] {
        let id = app
            .create("/machines", &token, machine(branch, serial, status))
            .await;
        made.insert(serial, id);
    }

    let serviced = app.get("/machines?status=maintenance", &token).await;
    assert_eq!(ids(&serviced), [made["L-2"].clone(), made["T-2"].clone()]);
    let both = format!("/machines?branchId={lyon},{turin}&status=running,idle");
    let running = app.get(&both, &token).await;
    assert_eq!(
        ids(&running),
        [
            made["L-1"].clone(),
            made["L-3"].clone(),
            made["T-1"].clone()
        ]
    );

    for (target, named) in [
        ("/machines?color=red", "color"),
        ("/machines?status=broken", "status"),
        ("/machines?branchId=lyon", "branchId"),
        ("/orders?total=3", "total"),
        ("/machines?status=idle&status=running", "status"),
        ("/machines?skip=10001", "skip"),
    ] {
        let reply = app.get(target, &token).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{target}");
        let message = reply.body["error"]["message"].as_str().unwrap_or_default();
        assert!(message.starts_with(named), "{target}: {message}");
    }

    let of_lyon = app.get(&format!("/machines?branchId={lyon}"), &token).await;
    let expected = [
        made["L-1"].clone(),
        made["L-2"].clone(),
        made["L-3"].clone(),
    ];
    if ids(&of_lyon) != expected
        && known_server_gap("equality on an ObjectId outside _id matches nothing")
    {
        app.finish().await;
        return;
    }
    assert_eq!(ids(&of_lyon), expected);
    app.finish().await;
}

#[tokio::test]
async fn a_cursor_walk_while_records_are_added_sees_each_one_present_at_the_start_once() {
    let (app, token) = service().await;
    let branch = app.create_branch(&token, "Lyon").await;
    let mut running = Vec::new();
    for n in 0..30 {
        let status = if n % 3 == 0 { "idle" } else { "running" };
        let id = app
            .create(
                "/machines",
                &token,
                machine(&branch, &format!("S-{n}"), status),
            )
            .await;
        if status == "running" {
            running.push(id);
        }
    }

    let mut seen: Vec<String> = Vec::new();
    let mut added = Vec::new();
    let mut target = "/machines?status=running&limit=4".to_owned();
    let mut pages = 0;
    loop {
        let (page, link) = get_with_link(&app, &target, &token).await;
        assert_eq!(page.status, StatusCode::OK, "{target}: {}", page.body);
        seen.extend(ids(&page));
        // A writer adds a record between every two pages.
        let serial = format!("NEW-{pages}");
        added.push(
            app.create("/machines", &token, machine(&branch, &serial, "running"))
                .await,
        );
        pages += 1;
        let next = page.body["meta"]["next"].as_str();
        match (next, link) {
            (Some(next), Some(link)) => {
                assert!(link.contains(&format!("after={next}")), "{link}");
                assert!(
                    link.contains("status=running") && link.contains("limit=4"),
                    "{link}"
                );
                target = link
                    .trim_start_matches('<')
                    .split_once(">;")
                    .expect("<uri>; rel")
                    .0
                    .to_owned();
            }
            (None, None) => break,
            (next, link) => panic!("the body's cursor {next:?} and the Link {link:?} disagree"),
        }
        assert!(pages < 50, "the walk does not end");
    }
    for id in &running {
        assert_eq!(seen.iter().filter(|s| *s == id).count(), 1, "{id} once");
    }
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), seen.len(), "no record twice");
    assert!(seen
        .iter()
        .all(|id| running.contains(id) || added.contains(id)));
    app.finish().await;
}

#[tokio::test]
async fn the_total_is_counted_only_when_asked_for() {
    let (app, token) = service().await;
    let branch = app.create_branch(&token, "Lyon").await;
    for n in 0..3 {
        app.create(
            "/machines",
            &token,
            machine(&branch, &format!("C-{n}"), "idle"),
        )
        .await;
    }
    let counts = || app.manager().commands_started(Role::MAIN, "aggregate");
    let before = counts();
    let plain = app.get("/machines?status=idle&limit=2", &token).await;
    assert!(plain.body["meta"].get("total").is_none(), "{}", plain.body);
    assert_eq!(counts(), before, "no count command without count=true");

    let counted = app
        .get("/machines?status=idle&limit=2&count=true", &token)
        .await;
    assert_eq!(counted.body["meta"]["total"], 3, "{}", counted.body);
    assert_eq!(ids(&counted).len(), 2);
    app.finish().await;
}

#[tokio::test]
async fn a_created_record_answers_201_with_its_location() {
    let (app, token) = service().await;
    let body = Some(json!({ "name": "Lyon", "location": "x" }).to_string());
    let response = app
        .router()
        .clone()
        .oneshot(request(Method::POST, "/branches", Some(&token), body))
        .await
        .expect("the router is infallible");
    let location = response
        .headers()
        .get(axum::http::header::LOCATION)
        .cloned();
    let reply = Reply::read(response).await;
    assert_eq!(reply.status, StatusCode::CREATED);
    let id = reply.body["data"]["id"].as_str().expect("an id");
    assert_eq!(
        location.as_ref().and_then(|l| l.to_str().ok()),
        Some(format!("/branches/{id}").as_str())
    );
    let (read, _) = get_with_link(&app, &format!("/branches/{id}"), &token).await;
    assert_eq!(read.status, StatusCode::OK);
    app.finish().await;
}
