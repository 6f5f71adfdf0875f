//! What the engine may do and claim under Swedish law (issue 22), item by item, as a new
//! integrator would meet it on the sandbox clock. On SQLite, and on PostgreSQL when
//! `INDRIVA_TEST_DATABASE_URL` is set. The worked examples are in docs/flow.md.

mod common;

use axum::http::StatusCode;
use common::seed002::{ok, seed_002, set_clock};
use common::Api;
use serde_json::{json, Value};

async fn case(api: &Api, id: &str) -> Value {
    ok(&api.get(&format!("/cases/{id}")).await, StatusCode::OK)
}

/// The sandbox creditor on the default policy (a 180 kr collection fee; the sandbox's own
/// charges none, to match seed 002).
async fn default_policy(api: &Api) {
    let policy = indriva::domain::policy::CreditorPolicy::default();
    let mut tx = api.db.store.begin().await.unwrap();
    tx.set_creditor_policy(
        &indriva::sandbox::sandbox_creditor_id(),
        &indriva::sandbox::sandbox_account_id(),
        &serde_json::to_string(&policy).unwrap(),
        api.now(),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
}

async fn letters(api: &Api, case: &str) -> Vec<Value> {
    let r = api
        .get_q(
            "/case--letters",
            &[("where", &json!({"case": case}).to_string())],
        )
        .await;
    ok(&r, StatusCode::OK)["_items"].as_array().unwrap().clone()
}

/// Item 1: no reminder, demand or fee before the claim has fallen due (lag 1981:739, 4 §),
/// and no invoice dated after today.
#[tokio::test]
async fn nothing_is_sent_or_charged_before_the_due_date() {
    let api = Api::new().await;
    default_policy(&api).await;
    set_clock(&api, "Sat, 21 Dec 2024 09:00:00 GMT").await;
    // A consumer's debt (the default policy's 180 kr collection fee applies to it).
    let mut body = seed_002();
    body["customer"] = json!({
        "name": "Anna Andersson", "id_number": "198112289874", "is_company": false,
        "address": {"address_line_1": "Storgatan 1", "zip_code": "11122",
                    "city": "Stockholm", "country": "SE"}
    });
    body["debts"][0]["invoice_date"] = json!("Fri, 20 Dec 2024 00:00:00 GMT");
    body["debts"][0]["invoice_due_days_after_invoice_date"] = json!(5);
    let r = ok(
        &api.post("/case--registrations", &body).await,
        StatusCode::CREATED,
    );
    let id = r["_cases"][0].as_str().unwrap().to_string();
    set_clock(&api, "Sat, 21 Dec 2024 10:00:00 GMT").await;
    let c = case(&api, &id).await;
    assert!(
        letters(&api, &id).await.is_empty(),
        "no demand before the due date"
    );
    assert_eq!(c["total_added_costs_amount"], 0.0, "no fee: {c}");
    assert_eq!(c["state"], "initializing");
    assert_eq!(
        c["next_flow_item"]["schedule_to_execute"], "Thu, 26 Dec 2024 00:00:00 GMT",
        "the day after the due date (25 December)"
    );
    // Due on the 25th: on the 26th the demand goes out, dated then.
    set_clock(&api, "Thu, 26 Dec 2024 09:00:00 GMT").await;
    let sent = letters(&api, &id).await;
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0]["type"], "debt_collection");
    assert_eq!(sent[0]["sent_date"], "Thu, 26 Dec 2024 00:10:00 GMT");
    assert_eq!(case(&api, &id).await["total_added_costs_amount"], 180.0);

    // An invoice dated after the account's today is refused.
    let mut future = seed_002();
    future["debts"][0]["invoice_number"] = json!("INV-FUTURE");
    future["debts"][0]["invoice_date"] = json!("Fri, 27 Dec 2024 00:00:00 GMT");
    let r = api.post("/case--registrations", &future).await;
    let e = ok(&r, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        e["_issues"]["debts"]["0"]["invoice_date"],
        "the invoice date cannot be later than today (2024-12-26)",
        "{e}"
    );
}
