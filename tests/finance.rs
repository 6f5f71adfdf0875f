//! Finance (issue 11): the payout-specification lines each settlement makes, payout runs
//! that group them, and the totals reconciling to the öre. Runs on SQLite, and on PostgreSQL
//! when `INDRIVA_TEST_DATABASE_URL` is set.

use crate::common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use chrono::NaiveDate;
use common::seed002::{ok, seed_002, set_clock, CREATED, LOOKED_AT};
use common::{insert_account, multipart, Api};
use indriva::actions::payout_run::Run;
use indriva::domain::bank::AGENCY_ACCOUNT;
use indriva::domain::bgmax::{GeneratedPayment, Generator};
use indriva::domain::{Clock, HttpDate, Money};
use indriva::sandbox::{sandbox_account_id, sandbox_creditor_id};
use serde_json::{json, Value};

async fn set_policy(api: &Api, doc: Value) {
    let mut tx = api.db.store.begin().await.unwrap();
    tx.set_creditor_policy(
        &sandbox_creditor_id(),
        &sandbox_account_id(),
        &doc.to_string(),
        0,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
}

/// Seed 001's case (2,000 + 50 invoice fee as capital, a 60 kr reminder fee already
/// claimed by the creditor) in debt collection; (case id, OCR reference).
async fn seed_001_case(api: &Api) -> (String, String) {
    set_clock(api, CREATED).await;
    let mut reg = seed_002();
    reg["debts"][0]["capital_to_claim"] = json!(2050.0);
    reg["debts"][0]["fees_included_in_capital_to_claim"] = json!({"invoice_fee": 50.0});
    reg["debts"][0]["fees_already_claimed"] = json!({"reminder": {
        "amount": 60.0, "fee_registration_date": "Mon, 11 Aug 2025 00:00:00 GMT"}});
    let r = ok(
        &api.post("/case--registrations", &reg).await,
        StatusCode::CREATED,
    );
    set_clock(api, LOOKED_AT).await;
    (
        r["_cases"][0].as_str().unwrap().to_string(),
        r["_ocr_numbers_ocr"][0].as_str().unwrap().to_string(),
    )
}

async fn pay_by_bank(api: &Api, ocr: &str, kronor: i64) -> Value {
    let operator = api.token_for(AGENCY_ACCOUNT, None).await;
    let text = Generator {
        payee_bankgiro: "9912346".into(),
        payment_date: NaiveDate::from_ymd_opt(2025, 9, 3).unwrap(),
        written: format!("2025090306301212{kronor:04}"),
        payments: vec![GeneratedPayment {
            reference: ocr.into(),
            ocr: true,
            amount: Money::from_ore(kronor * 100),
            payer_name: None,
            parts: vec![],
        }],
        deductions: vec![],
    }
    .render();
    let (ct, body) = multipart(&[], Some(("f.txt", "text/plain", text.as_bytes())));
    let r = api
        .send_as(
            Some(&operator),
            Request::post("/bank--files")
                .header("content-type", ct)
                .body(Body::from(body))
                .unwrap(),
        )
        .await;
    ok(&r, StatusCode::CREATED)
}

async fn lines(api: &Api, query: &str) -> Vec<Value> {
    let r = ok(
        &api.get_q("/finance--payout-specifications", &[("where", query)])
            .await,
        StatusCode::OK,
    );
    r["_items"].as_array().unwrap().clone()
}

fn ore(v: &Value) -> i64 {
    (v.as_f64().unwrap() * 100.0).round() as i64
}

#[tokio::test]
async fn a_debtor_payment_makes_capital_interest_and_outlay_lines_and_a_payout_pays_them() {
    let api = Api::new().await;
    let (id, ocr) = seed_001_case(&api).await;
    let case = ok(&api.get(&format!("/cases/{id}")).await, StatusCode::OK);
    let owed = case["local_remaining_transaction_amount"].as_f64().unwrap();
    // Interest on 2,050 for the 27 days since 7 Aug at 10 %: 15.16, whole kronor 15.
    assert_eq!(owed, 2050.0 + 60.0 + 15.0);
    let report = pay_by_bank(&api, &ocr, 2125).await;
    assert_eq!(report["matched_count"], 1);

    let got = lines(&api, &json!({"case": id}).to_string()).await;
    let summary: Vec<(&str, &str, f64)> = got
        .iter()
        .map(|l| {
            (
                l["finance_category"].as_str().unwrap(),
                l["article"].as_str().unwrap(),
                l["amount"].as_f64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("creditor_outlay", "reminder", 60.0),
            ("interest", "interest", 15.0),
            ("capital", "capital", 2050.0),
        ]
    );
    for l in &got {
        assert_eq!(l["booking_date"], "Wed, 03 Sep 2025 00:00:00 GMT");
        assert_eq!(l["invoice_number"], "INV-2025-003");
        assert_eq!(l["creditor"], sandbox_creditor_id().to_hex());
        assert_eq!(l["vat_amount"].as_f64(), Some(0.0));
        assert!(l.get("payout").is_none());
    }

    // The payout run (the operator's: whatever the schedule).
    let payouts = api.payout_run(Run::All).await.unwrap();
    assert_eq!(payouts.len(), 1);
    let p = &payouts[0];
    assert_eq!(p.total_amount, Money::from_ore(212_500));
    assert_eq!(p.line_count, 3);
    let stored = ok(
        &api.get(&format!("/finance--payouts/{}", p.id)).await,
        StatusCode::OK,
    );
    assert_eq!(stored["status"], "scheduled");
    assert_eq!(stored["payout_date"], "Wed, 03 Sep 2025 00:00:00 GMT");
    assert_eq!(stored["finance_interval"], "2025-09-03/2025-09-03");
    assert_eq!(stored["summary"].as_array().unwrap().len(), 3);
    let paid = lines(&api, &json!({"payout": p.id.to_hex()}).to_string()).await;
    assert_eq!(paid.len(), 3);
    // To the öre: the payout is the sum of its lines, and the lines what the debtor paid.
    let sum: i64 = paid.iter().map(|l| ore(&l["total_amount"])).sum();
    assert_eq!(sum, ore(&stored["total_amount"]));
    assert_eq!(sum, ore(&report["settled_amount"]));
    for l in &paid {
        assert_eq!(l["payout_reference"], stored["payout_reference"]);
        assert_eq!(l["payout_date"], stored["payout_date"]);
    }
    // A second run finds nothing unpaid.
    let again = api.payout_run(Run::All).await.unwrap();
    assert!(again.is_empty());
}

#[tokio::test]
async fn a_creditor_payment_makes_the_commission_the_creditor_owes() {
    let api = Api::new().await;
    set_policy(
        &api,
        json!({"fees": {"collection_fee": 180.0, "late_payment_compensation": false}}),
    )
    .await;
    set_clock(&api, CREATED).await;
    let r = ok(
        &api.post("/case--registrations", &seed_002()).await,
        StatusCode::CREATED,
    );
    let id = r["_cases"][0].as_str().unwrap().to_string();
    set_clock(&api, LOOKED_AT).await;
    let case = ok(&api.get(&format!("/cases/{id}")).await, StatusCode::OK);
    assert_eq!(case["local_remaining_costs_amount"].as_f64(), Some(180.0));
    let payment = json!({
        "creditor": sandbox_creditor_id().to_hex(), "case": id, "currency": "SEK",
        "amount": 2000.0, "bank_transaction_date": "Wed, 03 Sep 2025 08:00:00 GMT",
        "origin": "creditor_system"
    });
    ok(
        &api.post("/creditor--payments", &payment).await,
        StatusCode::CREATED,
    );
    let got = lines(&api, &json!({"case": id}).to_string()).await;
    assert_eq!(got.len(), 1, "{got:?}");
    let l = &got[0];
    assert_eq!(l["finance_category"], "creditor_commission");
    assert_eq!(l["article"], "debt_collection");
    assert_eq!(l["amount"].as_f64(), Some(-180.0));
    assert_eq!(l["vat_amount"].as_f64(), Some(-45.0));
    assert_eq!(l["total_amount"].as_f64(), Some(-225.0));
    // No capital line: the money is already with the creditor.
    let payouts = api.payout_run(Run::All).await.unwrap();
    assert_eq!(payouts.len(), 1);
    let stored = ok(
        &api.get(&format!("/finance--payouts/{}", payouts[0].id))
            .await,
        StatusCode::OK,
    );
    assert_eq!(stored["status"], "to_invoice");
    assert_eq!(stored["total_amount"].as_f64(), Some(-225.0));
}

#[tokio::test]
async fn small_payouts_wait_and_scheduled_runs_keep_the_creditors_day() {
    let api = Api::new().await;
    let (id, ocr) = seed_001_case(&api).await;
    pay_by_bank(&api, &ocr, 50).await;
    // 50 kr is below the default minimum of 100 kr.
    assert!(api.payout_run(Run::All).await.unwrap().is_empty());
    let unpaid = lines(&api, &json!({"case": id}).to_string()).await;
    assert!(unpaid.iter().all(|l| l.get("payout").is_none()));
    // Daily payouts, no minimum: a scheduled run pays what was booked before today.
    set_policy(
        &api,
        json!({"payout_frequency": "daily", "minimum_payout_amount": 0.0}),
    )
    .await;
    assert!(api.payout_run(Run::Scheduled).await.unwrap().is_empty());
    set_clock(&api, "Thu, 04 Sep 2025 06:00:00 GMT").await;
    let paid = api.payout_run(Run::Scheduled).await.unwrap();
    assert_eq!(paid.len(), 1);
    assert_eq!(paid[0].total_amount, Money::from_ore(5_000));
    assert_eq!(
        paid[0].payout_date,
        HttpDate::parse_lenient("Thu, 04 Sep 2025 00:00:00 GMT").unwrap()
    );
    // Weekly on Fridays: nothing on a Thursday.
    pay_by_bank(&api, &ocr, 70).await;
    set_policy(
        &api,
        json!({"payout_frequency": "weekly", "payout_day": "friday"}),
    )
    .await;
    set_clock(&api, "Thu, 11 Sep 2025 06:00:00 GMT").await;
    assert!(api.payout_run(Run::Scheduled).await.unwrap().is_empty());
    // Below 100 kr on the Friday still waits; the 70 kr is there, unpaid.
    set_clock(&api, "Fri, 12 Sep 2025 06:00:00 GMT").await;
    assert!(api.payout_run(Run::Scheduled).await.unwrap().is_empty());
}

#[tokio::test]
async fn another_account_sees_no_finance_lines() {
    let api = Api::new().await;
    let (_, ocr) = seed_001_case(&api).await;
    pay_by_bank(&api, &ocr, 2125).await;
    api.payout_run(Run::All).await.unwrap();
    let other = insert_account(&api.db.store, "Other AB", api.clock.now()).await;
    let token = api.token_for(other, None).await;
    for path in ["/finance--payout-specifications", "/finance--payouts"] {
        let r = ok(&api.get_as(Some(&token), path).await, StatusCode::OK);
        assert_eq!(r["_meta"]["total"], 0, "{path}");
        let mine = ok(&api.get(path).await, StatusCode::OK);
        assert!(mine["_meta"]["total"].as_i64().unwrap() > 0, "{path}");
    }
    // A sandbox reset starts the account's finance over too.
    ok(
        &api.post("/sandbox/reset", &json!({})).await,
        StatusCode::OK,
    );
    for path in ["/finance--payout-specifications", "/finance--payouts"] {
        let mine = ok(&api.get(path).await, StatusCode::OK);
        assert_eq!(mine["_meta"]["total"], 0, "{path}");
    }
}
