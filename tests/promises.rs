//! Promises the README and docs/api.md make that no other test held the code to: each claim
//! here is a test. Runs on SQLite, and on PostgreSQL in CI.

use crate::common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::seed002::{ok, seed_002};
use common::{Api, Resp};
use indriva::domain::ObjectId;
use serde_json::{json, Value};

const SANDBOX: &str = "674dbeaf08847b9501cc9132";

fn creditor_body(account: &str) -> Value {
    let address = json!({"address_line_1": "Storgatan 1", "zip_code": "11122",
                         "city": "Stockholm", "country": "SE"});
    json!({"account": account, "name": "Nya Bolaget AB", "organization_no": "556026-9986",
           "is_active": true, "standard_debt_description": "Obetald faktura",
           "sender_address": address, "invoice_address": address,
           "payout_details": {"sek": {"bankgiro": "5050-1055"}}})
}

fn err(r: &Resp, status: StatusCode) -> Value {
    assert_eq!(r.status, status, "{}", String::from_utf8_lossy(&r.body));
    let v = r.json();
    assert_eq!(v["_status"], "ERR", "{v}");
    assert_eq!(v["_error"]["code"], status.as_u16(), "{v}");
    assert!(
        v["_error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{v}"
    );
    v
}

#[tokio::test]
async fn of_two_writes_racing_on_one_etag_one_wins_and_the_other_gets_412() {
    let api = Api::new().await;
    let created = ok(
        &api.post("/creditors", &creditor_body(SANDBOX)).await,
        StatusCode::CREATED,
    );
    let (id, etag) = (
        created["_id"].as_str().unwrap(),
        created["_etag"].as_str().unwrap(),
    );
    let uri = format!("/creditors/{id}");
    let token = api.token.clone();
    let (body_a, body_b) = (json!({"description": "A"}), json!({"description": "B"}));
    let (a, b) = tokio::join!(
        api.write_as(&token, "PATCH", &uri, &body_a, Some(etag)),
        api.write_as(&token, "PATCH", &uri, &body_b, Some(etag)),
    );
    let mut statuses = [a.status.as_u16(), b.status.as_u16()];
    statuses.sort();
    assert_eq!(
        statuses,
        [200, 412],
        "{} / {}",
        String::from_utf8_lossy(&a.body),
        String::from_utf8_lossy(&b.body)
    );
    let loser = if a.status == 412 { &a } else { &b };
    err(loser, StatusCode::PRECONDITION_FAILED);
    // The winner's change is the one stored.
    let stored = ok(&api.get(&uri).await, StatusCode::OK);
    let winner = if a.status == 200 { "A" } else { "B" };
    assert_eq!(stored["description"], winner);
    // No If-Match at all: 428.
    err(
        &api.write_as(&token, "PATCH", &uri, &json!({"description": "C"}), None)
            .await,
        StatusCode::PRECONDITION_REQUIRED,
    );
}

#[tokio::test]
async fn deleting_a_creditor_revokes_its_users_tokens_at_once() {
    let api = Api::new().await;
    let created = ok(
        &api.post("/creditors", &creditor_body(SANDBOX)).await,
        StatusCode::CREATED,
    );
    let id = ObjectId::parse(created["_id"].as_str().unwrap()).unwrap();
    let bound = api
        .token_for(indriva::sandbox::sandbox_account_id(), Some(id))
        .await;
    assert_eq!(
        api.get_as(Some(&bound), "/cases").await.status,
        StatusCode::OK
    );
    let r = api
        .write_as(
            &api.token,
            "DELETE",
            &format!("/creditors/{}", id.to_hex()),
            &json!({}),
            created["_etag"].as_str(),
        )
        .await;
    assert!(
        r.status.is_success(),
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    err(
        &api.get_as(Some(&bound), "/cases").await,
        StatusCode::UNAUTHORIZED,
    );
    // The account-wide token is untouched.
    assert_eq!(api.get("/cases").await.status, StatusCode::OK);
}

#[tokio::test]
async fn another_accounts_customers_and_registrations_are_not_found() {
    let api = Api::new().await;
    let reg = ok(
        &api.post("/case--registrations", &seed_002()).await,
        StatusCode::CREATED,
    );
    let customers = ok(&api.get("/customers").await, StatusCode::OK);
    let customer = customers["_items"][0]["_id"].as_str().unwrap().to_string();
    let other = common::insert_account(
        &api.db.store,
        "Other AB",
        indriva::domain::HttpDate::from_unix(api.now()).unwrap(),
    )
    .await;
    let theirs = api.token_for(other, None).await;
    for path in [
        format!("/customers/{customer}"),
        format!("/case--registrations/{}", reg["_id"].as_str().unwrap()),
        format!("/cases/{}", reg["_cases"][0].as_str().unwrap()),
    ] {
        err(
            &api.get_as(Some(&theirs), &path).await,
            StatusCode::NOT_FOUND,
        );
        assert_eq!(
            api.get(&path).await.status,
            StatusCode::OK,
            "{path} is the owner's"
        );
    }
    for path in ["/customers", "/case--registrations"] {
        let v = ok(&api.get_as(Some(&theirs), path).await, StatusCode::OK);
        assert_eq!(v["_meta"]["total"], 0, "{path}");
    }
}

#[tokio::test]
async fn registration_limits_the_docs_state() {
    let api = Api::new().await;
    // Idempotency-Key: 1–255 characters.
    let post = |key: String| {
        Request::post("/case--registrations")
            .header("content-type", "application/json")
            .header("idempotency-key", key)
            .body(Body::from(seed_002().to_string()))
            .unwrap()
    };
    let v = err(
        &api.send(post("k".repeat(256))).await,
        StatusCode::BAD_REQUEST,
    );
    assert!(
        v["_error"]["message"]
            .as_str()
            .unwrap()
            .contains("1 to 255"),
        "{v}"
    );
    err(&api.send(post("ké".into())).await, StatusCode::BAD_REQUEST);
    ok(&api.send(post("k".repeat(255))).await, StatusCode::CREATED);
    // At most 100 debts in one registration.
    let mut many = seed_002();
    let debt = many["debts"][0].clone();
    many["debts"] = Value::Array(
        (0..101)
            .map(|i| {
                let mut d = debt.clone();
                d["invoice_number"] = json!(format!("MANY-{i}"));
                d
            })
            .collect(),
    );
    let v = err(
        &api.post("/case--registrations", &many).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    );
    assert_eq!(v["_issues"]["debts"], "max length is 100");
    many["debts"].as_array_mut().unwrap().pop();
    let v = ok(
        &api.post("/case--registrations", &many).await,
        StatusCode::CREATED,
    );
    assert_eq!(v["_cases"].as_array().unwrap().len(), 100);
}

#[tokio::test]
async fn first_action_reminder_starts_the_case_with_a_reminder() {
    let api = Api::new().await;
    common::seed002::set_clock(&api, common::seed002::CREATED).await;
    let mut body = seed_002();
    body["first_action"] = json!("reminder");
    let reminder = ok(
        &api.post("/case--registrations", &body).await,
        StatusCode::CREATED,
    )["_cases"][0]
        .as_str()
        .unwrap()
        .to_string();
    let mut dc = seed_002();
    dc["debts"][0]["invoice_number"] = json!("INV-DC");
    let debt_collection = ok(
        &api.post("/case--registrations", &dc).await,
        StatusCode::CREATED,
    )["_cases"][0]
        .as_str()
        .unwrap()
        .to_string();
    // A day later both are out of `initializing`, each where its first action said.
    common::seed002::set_clock(&api, "Thu, 04 Sep 2025 08:00:00 GMT").await;
    let state = |id: String| {
        let api = &api;
        async move { ok(&api.get(&format!("/cases/{id}")).await, StatusCode::OK)["state"].clone() }
    };
    assert_eq!(state(reminder).await, "reminder");
    assert_eq!(state(debt_collection).await, "debt_collection");
}

#[tokio::test]
async fn a_trailing_slash_is_the_same_resource_everywhere() {
    let api = Api::new().await;
    let doc = indriva::http::openapi::build();
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        if path.contains('{') || item.get("get").is_none() || path == "/" {
            continue;
        }
        let plain = api.get(path).await;
        let slashed = api.get(&format!("{path}/")).await;
        assert_eq!(plain.status, slashed.status, "{path}/");
        // The same documents (health answers carry timings, the docs page a script).
        if plain.status == StatusCode::OK && plain.json_ok() {
            assert_eq!(plain.json()["_items"], slashed.json()["_items"], "{path}/");
        }
        checked += 1;
    }
    assert!(checked > 15, "{checked}");
}

#[tokio::test]
async fn the_json_body_limit_is_the_configured_one() {
    let mut api = Api::new().await;
    api.limits = indriva::http::Limits { json_body: 2048 };
    let mut body = seed_002();
    body["debts"][0]["debt_description"] = json!("x".repeat(3000));
    err(
        &api.post("/case--registrations", &body).await,
        StatusCode::PAYLOAD_TOO_LARGE,
    );
    // Declared in Content-Length, it is refused before the body is read, naming the limit.
    let declared = api
        .send(
            Request::post("/case--registrations")
                .header("content-type", "application/json")
                .header("content-length", body.to_string().len())
                .body(Body::from(body.to_string()))
                .unwrap(),
        )
        .await;
    let v = err(&declared, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(
        v["_error"]["message"]
            .as_str()
            .unwrap()
            .contains("at most 2048"),
        "{v}"
    );
    body["debts"][0]["debt_description"] = json!("short");
    ok(
        &api.post("/case--registrations", &body).await,
        StatusCode::CREATED,
    );
}
