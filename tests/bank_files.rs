//! Debtor payments from BgMax bank files (issue 11): files from the generator that pay,
//! part-pay, overpay and miss; the same file twice; broken files refused whole; unmatched
//! payments matched by hand; operators only. Runs on SQLite, and on PostgreSQL when
//! `INDRIVA_TEST_DATABASE_URL` is set.

use crate::common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use chrono::NaiveDate;
use common::seed002::{ok, seed_002, set_clock, CREATED, LOOKED_AT};
use common::{multipart, Api, Resp};
use indriva::domain::bank::AGENCY_ACCOUNT;
use indriva::domain::bgmax::{GeneratedPayment, Generator};
use indriva::domain::Money;
use serde_json::{json, Value};

/// Registers seed 002's case with another invoice number; (case id, OCR reference).
async fn register(api: &Api, invoice: &str) -> (String, String) {
    let mut reg = seed_002();
    reg["debts"][0]["invoice_number"] = json!(invoice);
    let r = ok(
        &api.post("/case--registrations", &reg).await,
        StatusCode::CREATED,
    );
    (
        r["_cases"][0].as_str().unwrap().to_string(),
        r["_ocr_numbers_ocr"][0].as_str().unwrap().to_string(),
    )
}

fn ocr(reference: &str, kronor: i64) -> GeneratedPayment {
    GeneratedPayment {
        reference: reference.into(),
        ocr: true,
        amount: Money::from_ore(kronor * 100),
        payer_name: Some("ACME Inc.".into()),
        parts: vec![],
    }
}

fn file(payments: Vec<GeneratedPayment>, written: &str) -> String {
    Generator {
        payee_bankgiro: "9912346".into(),
        payment_date: NaiveDate::from_ymd_opt(2025, 9, 3).unwrap(),
        written: written.into(),
        payments,
        deductions: vec![],
    }
    .render()
}

pub(crate) async fn upload(api: &Api, token: &str, name: &str, bytes: &[u8]) -> Resp {
    let (ct, body) = multipart(&[], Some((name, "text/plain", bytes)));
    api.send_as(
        Some(token),
        Request::post("/bank--files")
            .header("content-type", ct)
            .body(Body::from(body))
            .unwrap(),
    )
    .await
}

struct Agency {
    api: Api,
    operator: String,
}

async fn agency() -> Agency {
    let api = Api::new().await;
    let operator = api.token_for(AGENCY_ACCOUNT, None).await;
    set_clock(&api, CREATED).await;
    Agency { api, operator }
}

async fn case(api: &Api, id: &str) -> Value {
    ok(&api.get(&format!("/cases/{id}")).await, StatusCode::OK)
}

async fn unmatched(a: &Agency) -> Vec<Value> {
    let r = ok(
        &a.api
            .get_as(Some(&a.operator), "/payments--unmatched?sort=line")
            .await,
        StatusCode::OK,
    );
    r["_items"].as_array().unwrap().clone()
}

#[tokio::test]
async fn a_file_pays_part_pays_overpays_and_misses() {
    let a = agency().await;
    let (paid, paid_ocr) = register(&a.api, "INV-1").await;
    let (part, part_ocr) = register(&a.api, "INV-2").await;
    let (over, over_ocr) = register(&a.api, "INV-3").await;
    set_clock(&a.api, LOOKED_AT).await;
    let mut free_text = ocr("faktura INV-9", 50);
    free_text.ocr = false;
    let text = file(
        vec![
            ocr(&paid_ocr, 2014),
            ocr(&part_ocr, 500),
            ocr(&over_ocr, 2100),
            ocr("20250000000000000018", 300),
            free_text,
        ],
        "20250903063012123456",
    );
    let r = upload(&a.api, &a.operator, "BGMAX_20250903.txt", text.as_bytes()).await;
    let report = ok(&r, StatusCode::CREATED);
    assert_eq!(report["_already_imported"], false);
    assert_eq!(report["payment_count"], 5);
    assert_eq!(report["matched_count"], 3);
    assert_eq!(report["unmatched_count"], 2);
    assert_eq!(report["deposit_amount"].as_f64(), Some(4964.0));
    assert_eq!(
        report["settled_amount"].as_f64(),
        Some(2014.0 + 500.0 + 2014.0)
    );
    assert_eq!(
        report["unmatched_amount"].as_f64(),
        Some(86.0 + 300.0 + 50.0)
    );
    let outcomes: Vec<&str> = report["payments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(
        outcomes,
        [
            "matched",
            "matched",
            "partly_matched",
            "unmatched",
            "unmatched"
        ]
    );
    assert_eq!(report["payments"][0]["line"], 3);

    // Paid in full on the day: interest 14 and capital 2000 settled, closed fully_paid.
    let c = case(&a.api, &paid).await;
    assert_eq!(c["closed"]["reason"], "fully_paid");
    assert_eq!(c["local_remaining_transaction_amount"].as_f64(), Some(0.0));
    let settled: Vec<(String, f64)> = c["transactions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["description_locale_tag"] == "api.transaction.payment")
        .map(|t| {
            (
                t["type"].as_str().unwrap().into(),
                t["amount"].as_f64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        settled,
        [("interest".into(), -14.0), ("capital".into(), -2000.0)]
    );
    assert_eq!(
        c["transactions"].as_array().unwrap().last().unwrap()["bank_transaction_date"],
        "Wed, 03 Sep 2025 00:00:00 GMT"
    );

    // 500: interest first (14), then 486 of capital; the flow goes on.
    let c = case(&a.api, &part).await;
    assert!(c.get("closed").is_none());
    assert_eq!(c["local_remaining_capital_amount"].as_f64(), Some(1514.0));
    assert_eq!(c["local_remaining_interest_amount"].as_f64(), Some(0.0));
    assert!(c["next_flow_item"].is_object());

    // 2,100 on 2,014: closed, and the 86 kept.
    let c = case(&a.api, &over).await;
    assert_eq!(c["closed"]["reason"], "fully_paid");
    let left = unmatched(&a).await;
    assert_eq!(left.len(), 3);
    assert_eq!(left[0]["reason"], "api.unmatched.overpayment");
    assert_eq!(left[0]["amount"].as_f64(), Some(86.0));
    assert_eq!(left[0]["paid_amount"].as_f64(), Some(2100.0));
    assert_eq!(left[0]["case"], over.as_str());
    assert_eq!(left[1]["reason"], "api.unmatched.unknown_ocr_reference");
    assert_eq!(left[1]["payer_name"], "ACME Inc.");
    assert_eq!(left[2]["reason"], "api.unmatched.no_ocr_reference");
    assert_eq!(left[2]["reference"], "faktura INV-9");

    // The same file again, under another name: nothing added.
    let r = upload(&a.api, &a.operator, "again.txt", text.as_bytes()).await;
    let again = ok(&r, StatusCode::OK);
    assert_eq!(again["_already_imported"], true);
    assert_eq!(again["_id"], report["_id"]);
    assert_eq!(unmatched(&a).await.len(), 3);
    assert_eq!(
        case(&a.api, &part).await["local_remaining_capital_amount"].as_f64(),
        Some(1514.0)
    );

    // The same payment in another file (another write time): reported, not booked again.
    let other = file(vec![ocr(&part_ocr, 500)], "20250903070000000000");
    let report = ok(
        &upload(&a.api, &a.operator, "other.txt", other.as_bytes()).await,
        StatusCode::CREATED,
    );
    assert_eq!(report["duplicate_count"], 1);
    assert_eq!(report["payments"][0]["outcome"], "duplicate");
    assert_eq!(
        case(&a.api, &part).await["local_remaining_capital_amount"].as_f64(),
        Some(1514.0)
    );
    let files = ok(
        &a.api.get_as(Some(&a.operator), "/bank--files").await,
        StatusCode::OK,
    );
    assert_eq!(files["_meta"]["total"], 2);
}

#[tokio::test]
async fn an_unmatched_payment_is_matched_by_hand() {
    let a = agency().await;
    let (id, _) = register(&a.api, "INV-1").await;
    set_clock(&a.api, LOOKED_AT).await;
    let text = file(
        vec![ocr("20250000000000000018", 300)],
        "20250903063012123456",
    );
    ok(
        &upload(&a.api, &a.operator, "f.txt", text.as_bytes()).await,
        StatusCode::CREATED,
    );
    let left = unmatched(&a).await;
    let pid = left[0]["_id"].as_str().unwrap();
    let matched = ok(
        &a.api
            .write_as(
                &a.operator,
                "POST",
                &format!("/payments--unmatched/{pid}/match"),
                &json!({"case": id}),
                None,
            )
            .await,
        StatusCode::OK,
    );
    assert_eq!(matched["status"], "matched");
    assert_eq!(matched["settled_amount"].as_f64(), Some(300.0));
    let c = case(&a.api, &id).await;
    // 14 of interest, then 286 of capital.
    assert_eq!(c["local_remaining_capital_amount"].as_f64(), Some(1714.0));
    let stored = ok(
        &a.api
            .get_as(Some(&a.operator), &format!("/payments--unmatched/{pid}"))
            .await,
        StatusCode::OK,
    );
    assert_eq!(stored["status"], "matched");
    assert_eq!(stored["matches"][0]["case"], id.as_str());
    // Matching it again, or to a case that does not exist, is refused.
    let again = a
        .api
        .write_as(
            &a.operator,
            "POST",
            &format!("/payments--unmatched/{pid}/match"),
            &json!({"case": id}),
            None,
        )
        .await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);
    let nowhere = a
        .api
        .write_as(
            &a.operator,
            "POST",
            "/payments--unmatched/5f0000000000000000000000/match",
            &json!({"case": id}),
            None,
        )
        .await;
    assert_eq!(nowhere.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn broken_or_foreign_files_are_refused_whole() {
    let a = agency().await;
    let (id, ocr_ref) = register(&a.api, "INV-1").await;
    set_clock(&a.api, LOOKED_AT).await;
    let before = case(&a.api, &id).await;
    let good = file(
        vec![ocr(&ocr_ref, 100), ocr("20250000000000000018", 5)],
        "20250903063012123456",
    );
    let lines: Vec<&str> = good.split("\r\n").collect();
    let truncated = lines[..lines.len() - 2].join("\r\n");
    let wrong_sum = good.replacen("000000000000010500SEK", "000000000000010600SEK", 1);
    let long_line = good.replacen(
        "ACME Inc.",
        "ACME Inc.                                                 x",
        1,
    );
    let foreign = Generator {
        payee_bankgiro: "1234566".into(),
        payment_date: NaiveDate::from_ymd_opt(2025, 9, 3).unwrap(),
        written: "20250903063012123456".into(),
        payments: vec![ocr(&ocr_ref, 100)],
        deductions: vec![],
    }
    .render();
    // Issue 23 item 9: implausible deposits. Dated 1899 or 2999 for a file written on
    // 3 September 2025, and a payment of 0,00 kr.
    let dated = |y: i32, m: u32, d: u32| {
        Generator {
            payee_bankgiro: "9912346".into(),
            payment_date: NaiveDate::from_ymd_opt(y, m, d).unwrap(),
            written: "20250903063012123456".into(),
            payments: vec![ocr(&ocr_ref, 100)],
            deductions: vec![],
        }
        .render()
    };
    let zero = file(vec![ocr(&ocr_ref, 0)], "20250903063012123456");
    for (bytes, expected) in [
        (
            dated(1899, 12, 31),
            "payment date 1899-12-31: more than 366 days before the file was written (2025-09-03)",
        ),
        (
            dated(2999, 12, 31),
            "payment date 2999-12-31: after the file was written (2025-09-03)",
        ),
        (
            zero,
            "line 3: a payment or deduction of 0,00 kr is no payment",
        ),
        (truncated, "truncated"),
        (wrong_sum, "line 7: the deposit of 106.00 does not equal"),
        (long_line, "line 4: is "),
        (foreign, "pays bankgiro 1234566"),
        ("not a bank file\n".to_string(), "line 1"),
    ] {
        let r = upload(&a.api, &a.operator, "bad.txt", bytes.as_bytes()).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            String::from_utf8_lossy(&r.body)
        );
        let issue = r.json()["_issues"]["file"].to_string();
        assert!(issue.contains(expected), "{issue} lacks {expected}");
    }
    assert_eq!(case(&a.api, &id).await["_etag"], before["_etag"]);
    assert!(unmatched(&a).await.is_empty());
    let files = ok(
        &a.api.get_as(Some(&a.operator), "/bank--files").await,
        StatusCode::OK,
    );
    assert_eq!(files["_meta"]["total"], 0);
    // Without a file part.
    let r = a
        .api
        .send_as(
            Some(&a.operator),
            Request::post("/bank--files")
                .header("content-type", "application/json")
                .body(Body::from("{}"))
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn only_operators_touch_bank_files_and_unmatched_payments() {
    let a = agency().await;
    let (_, ocr_ref) = register(&a.api, "INV-1").await;
    let text = file(vec![ocr(&ocr_ref, 100)], "20250903063012123456");
    // The account's own API user (the default token) is refused everywhere.
    let r = upload(&a.api, &a.api.token, "f.txt", text.as_bytes()).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    for path in ["/bank--files", "/payments--unmatched"] {
        assert_eq!(
            a.api.get(path).await.status,
            StatusCode::FORBIDDEN,
            "{path}"
        );
    }
    let r = a
        .api
        .post(
            "/payments--unmatched/5f0000000000000000000000/match",
            &json!({"case": "5f0000000000000000000000"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(
        a.api.get_as(None, "/bank--files").await.status,
        StatusCode::UNAUTHORIZED
    );
    // An operator reads every account's cases but registers none for a creditor.
    let cases = ok(
        &a.api.get_as(Some(&a.operator), "/cases").await,
        StatusCode::OK,
    );
    assert_eq!(cases["_meta"]["total"], 1);
    let r = a
        .api
        .write_as(
            &a.operator,
            "POST",
            "/case--registrations",
            &seed_002(),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

fn kr(v: i64) -> Money {
    Money::from_ore(v * 100)
}

/// Issue 22 item 4: a deduction (`21`) is money taken back, never a payment. It is netted
/// against the payment of its deposit that carries its reference; one that no payment
/// carries is kept as a negative unmatched item; and every import reconciles: settled +
/// unmatched (+ imported before) = the deposits, to the öre.
#[tokio::test]
async fn deductions_are_netted_and_every_import_reconciles() {
    let a = agency().await;
    let mut cases = vec![];
    for n in 1..=4 {
        cases.push(register(&a.api, &format!("INV-{n}")).await);
    }
    set_clock(&a.api, LOOKED_AT).await;
    let mut free_text = ocr("faktura INV-9", 50);
    free_text.ocr = false;
    let text = Generator {
        payee_bankgiro: "9912346".into(),
        payment_date: NaiveDate::from_ymd_opt(2025, 9, 3).unwrap(),
        written: "20250903063012123456".into(),
        payments: vec![
            ocr(&cases[0].1, 2014),
            ocr(&cases[1].1, 500),
            ocr(&cases[2].1, 2100),
            ocr("20250000000000000018", 300),
            free_text,
            ocr(&cases[3].1, 1000),
            ocr(&cases[3].1, 100),
        ],
        deductions: vec![
            (cases[0].1.clone(), kr(250)),
            ("99999999999".into(), kr(40)),
        ],
    }
    .render();
    let report = ok(
        &upload(&a.api, &a.operator, "BGMAX_DEDUCTIONS.txt", text.as_bytes()).await,
        StatusCode::CREATED,
    );
    // 2 014 + 500 + 2 100 + 300 + 50 + 1 000 + 100 − 250 − 40
    assert_eq!(report["deposit_amount"].as_f64(), Some(5774.0), "{report}");
    // 1 764 (2 014 less the deduction) + 500 + 2 014 + 1 000 + 100
    assert_eq!(report["settled_amount"].as_f64(), Some(5378.0));
    // 86 overpaid + 300 unknown + 50 free text − 40 deducted from no payment
    assert_eq!(report["unmatched_amount"].as_f64(), Some(396.0));
    assert_eq!(report["duplicate_amount"].as_f64(), Some(0.0));
    assert_eq!(report["deduction_count"], 2);
    assert_eq!(report["deduction_amount"].as_f64(), Some(290.0));
    let first = &report["payments"][0];
    assert_eq!(first["deducted_amount"].as_f64(), Some(250.0));
    assert_eq!(first["settled_amount"].as_f64(), Some(1764.0));
    assert_eq!(first["outcome"], "matched");
    assert_eq!(report["deductions"][0]["payment_line"], first["line"]);
    assert_eq!(report["deductions"][0]["code"], 1);
    assert!(report["deductions"][1]["unmatched_payment"].is_string());

    // The case got what came in, not what was deducted: 250 kr is still owed.
    let c = case(&a.api, &cases[0].0).await;
    assert!(c.get("closed").is_none(), "{c}");
    assert_eq!(
        c["total_remaining_transaction_amount"].as_f64(),
        Some(250.0)
    );

    // The deduction no payment carried waits for an operator, negative, and cannot be
    // put on a case.
    let items = unmatched(&a).await;
    let deduction = items
        .iter()
        .find(|u| u["reason"] == "api.unmatched.deduction")
        .expect("the deduction is kept");
    assert_eq!(deduction["amount"].as_f64(), Some(-40.0));
    let r = a
        .api
        .write_as(
            &a.operator,
            "POST",
            &format!(
                "/payments--unmatched/{}/match",
                deduction["_id"].as_str().unwrap()
            ),
            &json!({"case": cases[1].0}),
            None,
        )
        .await;
    let e = ok(&r, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        e["_issues"]["case"]
            .as_str()
            .unwrap_or_default()
            .contains("a deduction"),
        "{e}"
    );
    // The sum of every unmatched item is the report's.
    let sum: f64 = items.iter().map(|u| u["amount"].as_f64().unwrap()).sum();
    assert!((sum - 396.0).abs() < 0.005, "{sum}");
}

/// Issue 22 item 5: extra references (`22`, `23` negative) that carry amounts split the
/// payment over their cases; what cannot be put on a case stays unmatched with every
/// reference; references without amounts are kept for the operator. The shapes are those
/// of Bankgirot's example file BgMaxfil4.
#[tokio::test]
async fn a_split_payment_pays_each_part() {
    let a = agency().await;
    let mut cases = vec![];
    for n in 1..=4 {
        cases.push(register(&a.api, &format!("INV-{n}")).await);
    }
    set_clock(&a.api, LOOKED_AT).await;
    let no_reference = |kronor: i64, parts: Vec<(String, Money)>| GeneratedPayment {
        reference: String::new(),
        ocr: false,
        amount: kr(kronor),
        payer_name: Some("Kalles Plat AB".into()),
        parts,
    };
    let text = file(
        vec![
            // 2 000,00 = 1 700,00 + 300,00
            no_reference(
                2000,
                vec![
                    (cases[0].1.clone(), kr(1700)),
                    (cases[1].1.clone(), kr(300)),
                ],
            ),
            // 1 400,00 = 1 000 + 500 + 400 − 500
            no_reference(
                1400,
                vec![
                    (cases[2].1.clone(), kr(1000)),
                    (cases[3].1.clone(), kr(500)),
                    ("8988777".into(), kr(400)),
                    ("7445".into(), kr(-500)),
                ],
            ),
            // 600,00 for two references, no amounts
            no_reference(
                600,
                vec![
                    (cases[0].1.clone(), Money::ZERO),
                    (cases[1].1.clone(), Money::ZERO),
                ],
            ),
        ],
        "20250903063012123457",
    );
    let report = ok(
        &upload(&a.api, &a.operator, "BGMAX_SPLIT.txt", text.as_bytes()).await,
        StatusCode::CREATED,
    );
    assert_eq!(report["deposit_amount"].as_f64(), Some(4000.0), "{report}");
    assert_eq!(report["settled_amount"].as_f64(), Some(3000.0));
    assert_eq!(report["unmatched_amount"].as_f64(), Some(1000.0));

    let first = &report["payments"][0];
    assert_eq!(first["outcome"], "matched");
    assert_eq!(first["parts"][0]["case"], cases[0].0.as_str());
    assert_eq!(first["parts"][0]["settled_amount"].as_f64(), Some(1700.0));
    assert_eq!(first["parts"][1]["settled_amount"].as_f64(), Some(300.0));
    let remaining = |c: &Value| c["total_remaining_transaction_amount"].as_f64();
    assert_eq!(remaining(&case(&a.api, &cases[0].0).await), Some(314.0));
    assert_eq!(remaining(&case(&a.api, &cases[1].0).await), Some(1714.0));

    // 1 000 to its case; the 500 part would leave the payment short of its −500, so it and
    // the rest wait, 400 kr, with every reference.
    let second = &report["payments"][1];
    assert_eq!(second["outcome"], "partly_matched");
    assert_eq!(second["settled_amount"].as_f64(), Some(1000.0));
    assert_eq!(remaining(&case(&a.api, &cases[2].0).await), Some(1014.0));
    assert_eq!(remaining(&case(&a.api, &cases[3].0).await), Some(2014.0));
    let items = unmatched(&a).await;
    let split = items
        .iter()
        .find(|u| u["reason"] == "api.unmatched.split_payment")
        .expect("the rest of the split payment");
    assert_eq!(split["amount"].as_f64(), Some(400.0));
    assert_eq!(
        split["references"],
        json!([cases[2].1, cases[3].1, "8988777", "7445 (-500.00)"])
    );
    // No amounts: the whole 600 waits, with both references.
    let kept = items
        .iter()
        .find(|u| u["amount"].as_f64() == Some(600.0))
        .expect("the payment without amounts");
    assert_eq!(kept["references"], json!([cases[0].1, cases[1].1]));
    assert_eq!(kept["reason"], "api.unmatched.no_ocr_reference");
}

/// Issue 23 item 5: a file of 60,000 payments (one bound value per reference would pass
/// SQLite's 32,766 and PostgreSQL's 65,535 with its parts) is imported whole: the case's
/// payment is settled, the rest kept unmatched, and the file reconciles.
#[tokio::test]
async fn a_file_of_sixty_thousand_payments_is_imported() {
    let a = agency().await;
    let (id, ocr_ref) = register(&a.api, "INV-1").await;
    set_clock(&a.api, LOOKED_AT).await;
    let mut payments = vec![ocr(&ocr_ref, 100)];
    payments.extend((1..60_000).map(|i| GeneratedPayment {
        reference: format!("9{i:017}"),
        ocr: true,
        amount: Money::from_ore(100),
        payer_name: None,
        parts: vec![],
    }));
    let text = file(payments, "20250903063012123456");
    let r = upload(&a.api, &a.operator, "big.txt", text.as_bytes()).await;
    assert_eq!(
        r.status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&r.body[..r.body.len().min(2000)])
    );
    let report = r.json();
    assert_eq!(report["payment_count"], 60_000);
    assert_eq!(report["matched_count"], 1);
    assert_eq!(report["unmatched_count"], 59_999);
    assert_eq!(report["settled_amount"].as_f64(), Some(100.0));
    assert_eq!(report["deposit_amount"].as_f64(), Some(100.0 + 59_999.0));
    assert_eq!(
        case(&a.api, &id).await["total_remaining_capital_amount"].as_f64(),
        // 100 kr pays the 14 kr of interest and 86 of the 2 000 capital.
        Some(1914.0)
    );
}

/// docs/security.md: a bank file is at most 50 MB. A body declared larger than that and its
/// multipart framing (64 KiB) is refused with 413 before any of it is read; a file part that
/// turns out larger is refused with 413 as soon as it passes the limit.
#[tokio::test]
async fn a_bank_file_over_fifty_megabytes_is_refused() {
    let a = agency().await;
    const LIMIT: usize = 50 * 1024 * 1024;
    let r = a
        .api
        .send_as(
            Some(&a.operator),
            Request::post("/bank--files")
                .header("content-type", "multipart/form-data; boundary=b")
                .header("content-length", (LIMIT + 64 * 1024 + 1).to_string())
                .body(Body::from("--b--\r\n"))
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(r.header("connection"), Some("close"));
    assert_eq!(r.json()["_status"], "ERR");
    let big = vec![b'0'; LIMIT + 1];
    let r = upload(&a.api, &a.operator, "big.txt", &big).await;
    assert_eq!(
        r.status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    assert_eq!(
        r.json()["_error"]["message"],
        "a bank file may be at most 52428800 bytes"
    );
}
