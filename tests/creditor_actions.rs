//! Creditor actions over HTTP (issue 11): payments the debtor made to the creditor directly,
//! creditings, cancellations and respites, each through the case's one change path. Runs on
//! SQLite, and on PostgreSQL when `INDRIVA_TEST_DATABASE_URL` is set.

use crate::common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::seed002::{ok, register_seed_002, set_clock, LOOKED_AT};
use common::{insert_account, Api, Resp};
use indriva::domain::Clock;
use serde_json::{json, Value};

const PAID_AT: &str = "Wed, 03 Sep 2025 11:18:58 GMT";
const ACCOUNT: &str = "674dbeaf08847b9501cc9132";
const CREDITOR: &str = "674dbeb208847b9501cc9138";

/// Seed 002's payment body, verbatim, for `case`.
fn seed_002_payment(case: &str) -> Value {
    json!({
        "account": ACCOUNT,
        "creditor": CREDITOR,
        "case": case,
        "currency": "SEK",
        "amount": 2000.0,
        "bank_transaction_date": "Wed, 03 Sep 2025 08:00:00 GMT",
        "creditor_payment_reference": "PAY-REF-001",
        "origin": "creditor_system"
    })
}

fn payment(case: &str, amount: f64) -> Value {
    let mut p = seed_002_payment(case);
    p["amount"] = json!(amount);
    p
}

/// Seed 002's case in debt collection, the clock at 09:10:17 as in the guide.
async fn case_in_debt_collection(api: &Api) -> String {
    let (id, _) = register_seed_002(api).await;
    set_clock(api, LOOKED_AT).await;
    id
}

async fn get_case(api: &Api, id: &str) -> Value {
    ok(&api.get(&format!("/cases/{id}")).await, StatusCode::OK)
}

fn issues(r: &Resp) -> Value {
    assert_eq!(
        r.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    let body = r.json();
    assert_eq!(body["_status"], "ERR");
    body["_issues"].clone()
}

fn lines(case: &Value) -> Vec<(String, f64, String)> {
    case["transactions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["type"].as_str().unwrap().to_string(),
                t["amount"].as_f64().unwrap(),
                t["description_locale_tag"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn seed_002s_payment_closes_the_case_as_the_guide_shows() {
    let api = Api::new().await;
    let id = case_in_debt_collection(&api).await;
    set_clock(&api, PAID_AT).await;
    let answer = ok(
        &api.post("/creditor--payments", &seed_002_payment(&id))
            .await,
        StatusCode::CREATED,
    );
    assert_eq!(answer["_status"], "OK");
    assert_eq!(answer["_payment_status"], "completed");
    assert_eq!(answer["_created"], PAID_AT);
    let payment_id = answer["_id"].as_str().unwrap().to_string();

    let case = get_case(&api, &id).await;
    assert_eq!(case["status"], "closed");
    assert_eq!(case["state"], "debt_collection");
    assert_eq!(case["closed"]["reason"], "fully_paid_depreciation");
    assert_eq!(case["closed"]["close_date"], PAID_AT);
    assert!(case.get("next_flow_item").is_none(), "{case}");
    assert_eq!(
        case["next_flow_item_on_close"]["item"],
        "case--debt-collections__debt_statement"
    );
    assert_eq!(
        case["next_flow_item_on_close"]["schedule_to_execute"],
        "Fri, 19 Sep 2025 00:00:00 GMT"
    );
    let statuses: Vec<&str> = case["status_history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses,
        ["initializing", "initialized", "debt_collection", "closed"]
    );
    assert_eq!(
        lines(&case),
        [
            (
                "capital".into(),
                2000.0,
                "api.transaction.case_registration".into()
            ),
            ("interest".into(), 14.0, "api.transaction.case_flow".into()),
            (
                "capital".into(),
                -2000.0,
                "creditor_payment.payment_settled".into()
            ),
            (
                "interest".into(),
                -14.0,
                "api.transaction.depreciated".into()
            ),
        ]
    );
    let paid = &case["transactions"][2];
    assert_eq!(
        paid["bank_transaction_date"],
        "Wed, 03 Sep 2025 08:00:00 GMT"
    );
    assert_eq!(paid["registration_date"], PAID_AT);
    assert_eq!(paid["payment_method"], "creditor_payment");
    assert_eq!(paid["creditor_payment"], payment_id.as_str());
    for field in [
        "local_remaining_transaction_amount",
        "local_remaining_interest_amount",
        "total_remaining_capital_amount",
    ] {
        assert_eq!(case[field].as_f64(), Some(0.0), "{field}");
    }
    assert_eq!(
        case["local_added_transaction_amount"].as_f64(),
        Some(2014.0)
    );

    let stored = ok(
        &api.get(&format!("/creditor--payments/{payment_id}")).await,
        StatusCode::OK,
    );
    assert_eq!(stored["status"], "completed");
    assert_eq!(stored["settled_amount"].as_f64(), Some(2000.0));
    assert_eq!(stored["case"], id.as_str());
    assert_eq!(stored["case_invoice_number"], "INV-2025-003");
    assert_eq!(stored["case_reference_number"], case["reference_number"]);
    assert_eq!(stored["client_registration_date"], PAID_AT);
    assert_eq!(stored["_etag"], answer["_etag"]);

    // Paying a closed case again: a warning, nothing settled, the case untouched.
    let again = ok(
        &api.post("/creditor--payments", &seed_002_payment(&id))
            .await,
        StatusCode::CREATED,
    );
    assert_eq!(again["_payment_status"], "warning");
    let second = ok(
        &api.get(&format!(
            "/creditor--payments/{}",
            again["_id"].as_str().unwrap()
        ))
        .await,
        StatusCode::OK,
    );
    assert_eq!(second["settled_amount"].as_f64(), Some(0.0));
    assert_eq!(
        second["status_reason_locale"],
        "api.creditor_action.case_closed"
    );
    assert_eq!(get_case(&api, &id).await["_etag"], case["_etag"]);

    let listed = ok(
        &api.get_q(
            "/creditor--payments",
            &[("where", &json!({"case": id}).to_string())],
        )
        .await,
        StatusCode::OK,
    );
    assert_eq!(listed["_meta"]["total"], 2);
}

#[tokio::test]
async fn a_partial_payment_reduces_capital_and_an_overpayment_is_a_warning() {
    let api = Api::new().await;
    let id = case_in_debt_collection(&api).await;
    let r = ok(
        &api.post("/creditor--payments", &payment(&id, 500.0)).await,
        StatusCode::CREATED,
    );
    assert_eq!(r["_payment_status"], "completed");
    let case = get_case(&api, &id).await;
    assert!(case.get("closed").is_none());
    assert_eq!(
        case["local_remaining_capital_amount"].as_f64(),
        Some(1500.0)
    );
    assert!(case["next_flow_item"].is_object(), "the flow continues");

    // 2,000 more than the 1,500 left: the 1,500 is settled, the rest reported.
    let r = ok(
        &api.post("/creditor--payments", &payment(&id, 2000.0)).await,
        StatusCode::CREATED,
    );
    assert_eq!(r["_payment_status"], "warning");
    let stored = ok(
        &api.get(&format!(
            "/creditor--payments/{}",
            r["_id"].as_str().unwrap()
        ))
        .await,
        StatusCode::OK,
    );
    assert_eq!(stored["settled_amount"].as_f64(), Some(1500.0));
    assert_eq!(
        stored["status_reason_locale"],
        "api.creditor_action.amount_exceeds_remaining_capital"
    );
    let case = get_case(&api, &id).await;
    assert_eq!(case["closed"]["reason"], "fully_paid_depreciation");
    assert_eq!(
        case["local_remaining_transaction_amount"].as_f64(),
        Some(0.0)
    );
}

#[tokio::test]
async fn the_case_is_named_by_id_or_by_invoice_number_and_bad_input_is_422() {
    let api = Api::new().await;
    let id = case_in_debt_collection(&api).await;
    let by_invoice = json!({
        "creditor": CREDITOR,
        "invoice_number": "INV-2025-003",
        "currency": "SEK",
        "amount": 100.0,
        "bank_transaction_date": LOOKED_AT,
        "origin": "creditor_system"
    });
    let r = ok(
        &api.post("/creditor--payments", &by_invoice).await,
        StatusCode::CREATED,
    );
    let stored = ok(
        &api.get(&format!(
            "/creditor--payments/{}",
            r["_id"].as_str().unwrap()
        ))
        .await,
        StatusCode::OK,
    );
    assert_eq!(stored["case"], id.as_str());
    assert_eq!(stored["account"], ACCOUNT, "derived from the case");
    assert_eq!(stored["invoice_number"], "INV-2025-003");

    let with = |f: &str, v: Value| {
        let mut b = by_invoice.clone();
        b[f] = v;
        b
    };
    let without = |f: &str| {
        let mut b = by_invoice.clone();
        b.as_object_mut().unwrap().remove(f);
        b
    };
    let cases: Vec<(Value, &str, &str)> = vec![
        (with("case", json!(id)), "invoice_number", "not both"),
        (without("invoice_number"), "case", "required"),
        (
            with("invoice_number", json!("NO-SUCH")),
            "invoice_number",
            "no case",
        ),
        (with("origin", json!("debtor")), "origin", "unallowed value"),
        (
            with("currency", json!("EUR")),
            "currency",
            "unallowed value",
        ),
        (with("amount", json!(0)), "amount", "greater than 0"),
        (with("amount", json!(1.001)), "amount", "decimals"),
        (
            with("account", json!("5f0000000000000000000000")),
            "account",
            "must exist",
        ),
        (
            with(
                "bank_transaction_date",
                json!("Wed, 03 Sep 2025 09:10:18 GMT"),
            ),
            "bank_transaction_date",
            "later than now",
        ),
        (
            with("file_import_report", json!(id)),
            "file_import_report",
            "read-only",
        ),
        (with("extra", json!(1)), "extra", "unknown field"),
        (
            with("amount", json!(1e-300)),
            "amount",
            "at most two decimals",
        ),
        (
            with("amount", json!(100.0000000001)),
            "amount",
            "at most two decimals",
        ),
        (
            with(
                "bank_transaction_date",
                json!("Mon, 01 Jan 1600 00:00:00 GMT"),
            ),
            "bank_transaction_date",
            "between 1900 and 2099",
        ),
        (
            with("case", json!("5f0000000000000000000000"))
                .as_object()
                .map(|o| {
                    let mut o = o.clone();
                    o.remove("invoice_number");
                    Value::Object(o)
                })
                .unwrap(),
            "case",
            "must exist",
        ),
    ];
    let before = get_case(&api, &id).await;
    for (body, field, message) in cases {
        let got = issues(&api.post("/creditor--payments", &body).await);
        let text = got[field].to_string().to_lowercase();
        assert!(
            text.contains(&message.to_lowercase()),
            "{field}: {got} (for {body})"
        );
    }
    assert_eq!(get_case(&api, &id).await["_etag"], before["_etag"]);
    let listed = ok(&api.get("/creditor--payments").await, StatusCode::OK);
    assert_eq!(
        listed["_meta"]["total"], 1,
        "a refused action stores nothing"
    );
}

#[tokio::test]
async fn an_ambiguous_invoice_number_is_refused() {
    let api = Api::new().await;
    let first = case_in_debt_collection(&api).await;
    // A second case with the same invoice number at another creditor is not ambiguous…
    // …but two open cases at the same creditor can only exist if the first was closed and
    // another registered; the open one is then the one meant.
    ok(
        &api.post(
            "/creditor--cancellations",
            &json!({"creditor": CREDITOR, "case": first, "origin": "creditor_system"}),
        )
        .await,
        StatusCode::CREATED,
    );
    let mut reg = common::seed002::seed_002();
    reg["debts"][0]["capital_to_claim"] = json!(300.0);
    let second = ok(
        &api.post("/case--registrations", &reg).await,
        StatusCode::CREATED,
    );
    let second = second["_cases"][0].as_str().unwrap().to_string();
    let body = json!({
        "creditor": CREDITOR, "invoice_number": "INV-2025-003", "currency": "SEK",
        "amount": 100.0, "origin": "creditor_system"
    });
    let r = ok(
        &api.post("/creditor--creditings", &body).await,
        StatusCode::CREATED,
    );
    let stored = ok(
        &api.get(&format!(
            "/creditor--creditings/{}",
            r["_id"].as_str().unwrap()
        ))
        .await,
        StatusCode::OK,
    );
    assert_eq!(stored["case"], second.as_str());
    // With both closed, the number names two cases.
    ok(
        &api.post(
            "/creditor--cancellations",
            &json!({"creditor": CREDITOR, "case": second, "origin": "creditor_system"}),
        )
        .await,
        StatusCode::CREATED,
    );
    let got = issues(&api.post("/creditor--creditings", &body).await);
    assert!(
        got["invoice_number"].to_string().contains("2 cases"),
        "{got}"
    );
}

#[tokio::test]
async fn creditings_reduce_capital_and_a_full_crediting_closes_the_case() {
    let api = Api::new().await;
    let id = case_in_debt_collection(&api).await;
    let credit = |amount: f64| {
        json!({
            "creditor": CREDITOR, "case": id, "currency": "SEK", "amount": amount,
            "credit_invoice": "CN-7", "origin": "creditor_system"
        })
    };
    let r = ok(
        &api.post("/creditor--creditings", &credit(800.0)).await,
        StatusCode::CREATED,
    );
    assert_eq!(r["_payment_status"], "completed");
    let case = get_case(&api, &id).await;
    assert_eq!(
        case["local_remaining_capital_amount"].as_f64(),
        Some(1200.0)
    );
    assert!(case.get("closed").is_none());
    ok(
        &api.post("/creditor--creditings", &credit(1200.0)).await,
        StatusCode::CREATED,
    );
    let case = get_case(&api, &id).await;
    assert_eq!(case["closed"]["reason"], "credit");
    assert_eq!(
        case["local_remaining_transaction_amount"].as_f64(),
        Some(0.0)
    );
    let listed = ok(&api.get("/creditor--creditings").await, StatusCode::OK);
    assert_eq!(listed["_meta"]["total"], 2);
    assert_eq!(listed["_items"][0]["credit_invoice"], "CN-7");
}

#[tokio::test]
async fn a_cancellation_closes_the_case_and_a_second_is_a_warning() {
    let api = Api::new().await;
    let id = case_in_debt_collection(&api).await;
    let body = json!({"creditor": CREDITOR, "case": id, "origin": "creditor_system"});
    let r = ok(
        &api.post("/creditor--cancellations", &body).await,
        StatusCode::CREATED,
    );
    assert_eq!(r["_cancellation_status"], "completed");
    assert!(r.get("_payment_status").is_none());
    let case = get_case(&api, &id).await;
    assert_eq!(case["closed"]["reason"], "cancellation");
    assert!(case.get("next_flow_item").is_none());
    let r = ok(
        &api.post("/creditor--cancellations", &body).await,
        StatusCode::CREATED,
    );
    assert_eq!(r["_cancellation_status"], "warning");
    // No amount or currency on a cancellation.
    let mut with_amount = body.clone();
    with_amount["amount"] = json!(1);
    assert!(
        issues(&api.post("/creditor--cancellations", &with_amount).await)
            .get("amount")
            .is_some()
    );
    // Moving the clock runs nothing on the closed case.
    let moved = set_clock(&api, "Wed, 01 Oct 2025 00:00:00 GMT").await;
    assert_eq!(moved["flow_items_run"], 0);
}

#[tokio::test]
async fn a_respite_postpones_the_next_item_within_the_creditors_limits() {
    let api = Api::new().await;
    let id = case_in_debt_collection(&api).await;
    let body = json!({"days": 10, "origin": "creditor_system"});
    let r = ok(
        &api.post(&format!("/case--respites/{id}"), &body).await,
        StatusCode::CREATED,
    );
    assert_eq!(r["_respite_status"], "completed");
    let case = get_case(&api, &id).await;
    assert_eq!(
        case["next_flow_item"]["schedule_to_execute"],
        "Mon, 29 Sep 2025 00:00:00 GMT"
    );
    let stored = ok(
        &api.get(&format!("/case--respites/{}", r["_id"].as_str().unwrap()))
            .await,
        StatusCode::OK,
    );
    assert_eq!(stored["schedule_before"], "Fri, 19 Sep 2025 00:00:00 GMT");
    assert_eq!(stored["schedule_after"], "Mon, 29 Sep 2025 00:00:00 GMT");
    assert_eq!(stored["item"], "case--debt-collections__debt_statement");

    // One respite per state by default.
    let got = issues(&api.post(&format!("/case--respites/{id}"), &body).await);
    assert!(
        got["days"].to_string().contains("in state debt_collection"),
        "{got}"
    );
    for days in [0, 31] {
        let got = issues(
            &api.post(
                &format!("/case--respites/{id}"),
                &json!({"days": days, "origin": "creditor_system"}),
            )
            .await,
        );
        assert!(got.get("days").is_some(), "{got}");
    }
    let r = api
        .post("/case--respites/5f0000000000000000000000", &body)
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let listed = ok(&api.get("/case--respites").await, StatusCode::OK);
    assert_eq!(listed["_meta"]["total"], 1);

    // The flow item does not run on its old date.
    let moved = set_clock(&api, "Sun, 28 Sep 2025 12:00:00 GMT").await;
    assert_eq!(moved["flow_items_run"], 0);
}

#[tokio::test]
async fn an_idempotency_key_makes_a_retried_payment_count_once() {
    let api = Api::new().await;
    let id = case_in_debt_collection(&api).await;
    let send = |body: Value| {
        Request::builder()
            .method("POST")
            .uri("/creditor--payments")
            .header("content-type", "application/json")
            .header("idempotency-key", "pay-4711")
            .body(Body::from(body.to_string()))
            .unwrap()
    };
    let first = ok(
        &api.send(send(payment(&id, 300.0))).await,
        StatusCode::CREATED,
    );
    let again = ok(
        &api.send(send(payment(&id, 300.0))).await,
        StatusCode::CREATED,
    );
    assert_eq!(first, again);
    let other = api.send(send(payment(&id, 400.0))).await;
    assert!(issues(&other).get("Idempotency-Key").is_some());
    let case = get_case(&api, &id).await;
    assert_eq!(
        case["local_remaining_capital_amount"].as_f64(),
        Some(1700.0)
    );
    let listed = ok(&api.get("/creditor--payments").await, StatusCode::OK);
    assert_eq!(listed["_meta"]["total"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_actions_on_one_case_lose_no_update() {
    let api = Api::new().await;
    let id = case_in_debt_collection(&api).await;
    let body = payment(&id, 100.0);
    let payments = (0..10).map(|_| api.post("/creditor--payments", &body));
    let respite_uri = format!("/case--respites/{id}");
    let respite_body = json!({"days": 3, "origin": "creditor_system"});
    let respite = api.post(&respite_uri, &respite_body);
    let (answers, respite) =
        futures_util::future::join(futures_util::future::join_all(payments), respite).await;
    for r in &answers {
        assert_eq!(
            r.status,
            StatusCode::CREATED,
            "{}",
            String::from_utf8_lossy(&r.body)
        );
        assert_eq!(r.json()["_payment_status"], "completed");
    }
    assert_eq!(respite.status, StatusCode::CREATED);
    let case = get_case(&api, &id).await;
    assert_eq!(
        case["local_remaining_capital_amount"].as_f64(),
        Some(1000.0)
    );
    let paid = lines(&case)
        .iter()
        .filter(|(_, _, tag)| tag == "creditor_payment.payment_settled")
        .count();
    assert_eq!(paid, 10);
    assert_eq!(
        case["next_flow_item"]["schedule_to_execute"],
        "Mon, 22 Sep 2025 00:00:00 GMT"
    );
}

#[tokio::test]
async fn another_account_can_neither_act_on_nor_see_the_case() {
    let api = Api::new().await;
    let id = case_in_debt_collection(&api).await;
    ok(
        &api.post("/creditor--payments", &payment(&id, 100.0)).await,
        StatusCode::CREATED,
    );
    let other = insert_account(&api.db.store, "Other AB", api.clock.now()).await;
    let token = api.token_for(other, None).await;
    let mut body = payment(&id, 100.0);
    body.as_object_mut().unwrap().remove("account");
    let r = api
        .write_as(&token, "POST", "/creditor--payments", &body, None)
        .await;
    assert!(issues(&r).get("case").is_some());
    let r = api
        .write_as(
            &token,
            "POST",
            &format!("/case--respites/{id}"),
            &json!({"days": 5, "origin": "creditor_system"}),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let listed = ok(
        &api.get_as(Some(&token), "/creditor--payments").await,
        StatusCode::OK,
    );
    assert_eq!(listed["_meta"]["total"], 0);
    let case = get_case(&api, &id).await;
    assert_eq!(
        case["local_remaining_capital_amount"].as_f64(),
        Some(1900.0)
    );
}

#[tokio::test]
async fn closed_since_fetches_in_settled_windows_return_each_case_once() {
    // Seed 003's reconciliation: `closed.close_date` `$gt` the last window's end and `$lte`
    // a second before now (a second that can still get closings is never read).
    let api = Api::new().await;
    set_clock(&api, common::seed002::CREATED).await;
    let mut ids = Vec::new();
    for invoice in ["A-1", "A-2", "A-3"] {
        let mut reg = common::seed002::seed_002();
        reg["debts"][0]["invoice_number"] = json!(invoice);
        let r = ok(
            &api.post("/case--registrations", &reg).await,
            StatusCode::CREATED,
        );
        ids.push(r["_cases"][0].as_str().unwrap().to_string());
    }
    let cancel = |id: &str| json!({"creditor": CREDITOR, "case": id, "origin": "creditor_system"});
    let window =
        |from: &str, to: &str| json!({"closed.close_date": {"$gt": from, "$lte": to}}).to_string();
    let api = &api;
    let fetch = |w: String| async move {
        let r = ok(
            &api.get_q("/cases", &[("where", &w), ("sort", "closed.close_date")])
                .await,
            StatusCode::OK,
        );
        r["_items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    c["_id"].as_str().unwrap().to_string(),
                    c["closed"]["reason"].as_str().unwrap().to_string(),
                )
            })
            .collect::<Vec<_>>()
    };
    set_clock(api, "Wed, 10 Sep 2025 10:00:00 GMT").await;
    ok(
        &api.post("/creditor--cancellations", &cancel(&ids[0])).await,
        StatusCode::CREATED,
    );
    // Fetched at 10:00:00: the window ends at 09:59:59, so the closing at 10:00:00 waits.
    let first = fetch(window(
        "Mon, 01 Sep 2025 00:00:00 GMT",
        "Wed, 10 Sep 2025 09:59:59 GMT",
    ))
    .await;
    assert!(first.is_empty());
    set_clock(api, "Wed, 10 Sep 2025 10:00:05 GMT").await;
    ok(
        &api.post("/creditor--cancellations", &cancel(&ids[1])).await,
        StatusCode::CREATED,
    );
    let second = fetch(window(
        "Wed, 10 Sep 2025 09:59:59 GMT",
        "Wed, 10 Sep 2025 10:00:04 GMT",
    ))
    .await;
    // A case closing during the fetch, in the window's next second.
    ok(
        &api.post(
            "/creditor--creditings",
            &json!({
        "creditor": CREDITOR, "case": ids[2], "currency": "SEK", "amount": 2000.0,
        "origin": "creditor_system"}),
        )
        .await,
        StatusCode::CREATED,
    );
    set_clock(api, "Wed, 10 Sep 2025 10:00:10 GMT").await;
    let third = fetch(window(
        "Wed, 10 Sep 2025 10:00:04 GMT",
        "Wed, 10 Sep 2025 10:00:09 GMT",
    ))
    .await;
    assert_eq!(second, [(ids[0].clone(), "cancellation".to_string())]);
    let mut third_ids: Vec<_> = third.iter().map(|(i, _)| i.clone()).collect();
    third_ids.sort();
    let mut expected = vec![ids[1].clone(), ids[2].clone()];
    expected.sort();
    assert_eq!(third_ids, expected);
    assert!(third.iter().any(|(_, r)| r == "credit"));
}
