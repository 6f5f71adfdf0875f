//! The audit trail (issue 13 §5): every write appends who, when and what, in the transaction of
//! the write; an account reads its own trail at `/audit--events`, nobody can change it, and
//! it holds ids, never identity numbers, tokens or secrets. Runs on SQLite, and on PostgreSQL
//! in CI.

use crate::common;

use axum::http::StatusCode;
use common::seed002::{ok, register_seed_002, set_clock};
use common::Api;
use indriva::domain::clock::Clock;
use serde_json::{json, Value};

const ACCOUNT: &str = "674dbeaf08847b9501cc9132";

async fn events(api: &Api, token: Option<&str>, filter: Value) -> Vec<Value> {
    let r = api
        .get_q_as(
            token.unwrap_or(&api.token),
            "/audit--events",
            &[
                ("where", &filter.to_string()),
                ("max_results", "100"),
                ("sort", "_id"),
            ],
        )
        .await;
    ok(&r, StatusCode::OK)["_items"].as_array().unwrap().clone()
}

#[tokio::test]
async fn every_write_is_recorded_with_its_author_and_request() {
    let api = Api::new().await;
    let (case, _) = register_seed_002(&api).await;

    // The registration, written by the registrar's batch, is the API user's.
    let trail = events(&api, None, json!({"writes.item": case})).await;
    assert_eq!(trail.len(), 1, "{trail:?}");
    let e = &trail[0];
    assert!(
        e["writes"]
            .as_array()
            .unwrap()
            .contains(&json!({"resource": "cases", "item": case, "action": "create"})),
        "{e}"
    );
    assert_eq!(e["account"], ACCOUNT);
    assert_eq!(e["actor"]["type"], "api_user");
    assert_eq!(e["actor"]["account"], ACCOUNT);
    assert!(e["actor"]["user"].is_string(), "{e}");
    let request = e["actor"]["request_id"].as_str().unwrap().to_string();
    let same_request = events(&api, None, json!({"actor.request_id": request})).await;
    // One event per transaction of the request (and account).
    let resources: Vec<&str> = same_request
        .iter()
        .flat_map(|e| e["writes"].as_array().unwrap())
        .map(|w| w["resource"].as_str().unwrap())
        .collect();
    for r in ["case--registrations", "cases", "customers"] {
        assert!(resources.contains(&r), "{r} in {resources:?}");
    }

    // A payment: the payment created and the case updated, in one request.
    set_clock(&api, "Wed, 03 Sep 2025 08:00:00 GMT").await;
    let r = api
        .post(
            "/creditor--payments",
            &json!({"account": ACCOUNT, "creditor": "674dbeb208847b9501cc9138", "case": case,
                    "currency": "SEK", "amount": 2000.0, "bank_transaction_date": "Wed, 03 Sep 2025 08:00:00 GMT",
                    "creditor_payment_reference": "PAY-REF-001", "origin": "creditor_system"}),
        )
        .await;
    let request_id = r.header("x-request-id").unwrap().to_string();
    let payment = ok(&r, StatusCode::CREATED)["_id"]
        .as_str()
        .unwrap()
        .to_string();
    let of_payment = events(&api, None, json!({"actor.request_id": request_id})).await;
    let what: Vec<(String, String, String)> = of_payment
        .iter()
        .flat_map(|e| e["writes"].as_array().unwrap().clone())
        .map(|w| {
            (
                w["resource"].as_str().unwrap().to_string(),
                w["item"].as_str().unwrap().to_string(),
                w["action"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(
        what.contains(&("creditor--payments".into(), payment, "create".into())),
        "{what:?}"
    );
    assert!(
        what.contains(&("cases".into(), case.clone(), "update".into())),
        "{what:?}"
    );

    // The sandbox clock move is recorded on the account.
    let moves = events(&api, None, json!({"writes.action": "sandbox_clock_moved"})).await;
    assert!(!moves.is_empty());
    assert!(moves[0]["writes"].as_array().unwrap().contains(
        &json!({"resource": "accounts", "item": ACCOUNT, "action": "sandbox_clock_moved"})
    ));

    // Ids only: no identity number, name, token or api code anywhere in the trail.
    let all = events(&api, None, json!({})).await;
    let text = serde_json::to_string(&all).unwrap();
    for secret in ["5560269986", "556026-9986", "ACME", &api.token] {
        assert!(!text.contains(secret), "{secret} in the audit trail");
    }
}

#[tokio::test]
async fn the_trail_is_the_accounts_own_and_cannot_be_changed() {
    let api = Api::new().await;
    let (case, _) = register_seed_002(&api).await;
    // Another account sees nothing of it.
    let other = common::insert_account(&api.db.store, "Other AB", common::clock().now()).await;
    let other_token = api.token_for(other, None).await;
    let theirs = events(&api, Some(&other_token), json!({})).await;
    assert!(
        theirs.iter().all(|e| e["account"] == json!(other.to_hex())),
        "{theirs:?}"
    );
    assert!(
        events(&api, Some(&other_token), json!({"writes.item": case}))
            .await
            .is_empty()
    );
    assert!(
        events(&api, Some(&other_token), json!({"account": ACCOUNT}))
            .await
            .is_empty()
    );
    let mine = events(&api, None, json!({"writes.item": case})).await;
    let id = mine[0]["_id"].as_str().unwrap();
    let r = api
        .get_as(Some(&other_token), &format!("/audit--events/{id}"))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    // A user bound to one creditor is refused the account-wide trail.
    let bound = api
        .token_for(
            indriva::sandbox::sandbox_account_id(),
            Some(indriva::domain::ObjectId::parse("674dbeb208847b9501cc9138").unwrap()),
        )
        .await;
    let r = api.get_as(Some(&bound), "/audit--events").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.json()["_status"], "ERR");
    // Nothing can delete or change an event, not even a transaction of the server's own.
    let mut tx = api.db.store.begin().await.unwrap();
    let deleted = tx
        .delete_where(
            &indriva::resources::AUDIT_EVENTS,
            &indriva::sandbox::sandbox_account_id(),
            "account",
            &indriva::sandbox::sandbox_account_id(),
        )
        .await;
    let err = deleted
        .expect_err("audit events are append-only")
        .to_string();
    assert!(err.contains("append-only"), "{err}");
    drop(tx);
    // Nor change one (the UPDATE trigger).
    let mut event = mine[0].clone();
    event["actor"]["type"] = json!("forged");
    let etag = event["_etag"].as_str().unwrap().to_string();
    let mut tx = api.db.store.begin().await.unwrap();
    let doc = indriva::store::prepare_document(&indriva::resources::AUDIT_EVENTS, &event).unwrap();
    let err = tx
        .replace(&indriva::resources::AUDIT_EVENTS, doc, &etag)
        .await
        .expect_err("audit events cannot be updated")
        .to_string();
    assert!(err.contains("append-only"), "{err}");
    drop(tx);
    let now = events(&api, None, json!({"writes.item": case})).await;
    assert_eq!(now.len(), 1);
    assert_eq!(now[0]["actor"], mine[0]["actor"]);
    // Not a write method: the trail itself is read-only over HTTP.
    let r = api.post("/audit--events", &json!({})).await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
}
