//! Seed 002's case on the sandbox clock: its registration body, and the steps that register
//! it and move the clock.

use axum::http::StatusCode;
use serde_json::{json, Value};

use super::{Api, Resp};

pub const CREATED: &str = "Wed, 03 Sep 2025 07:56:11 GMT";
pub const LOOKED_AT: &str = "Wed, 03 Sep 2025 09:10:17 GMT";

pub fn ok(r: &Resp, status: StatusCode) -> Value {
    assert_eq!(r.status, status, "{}", String::from_utf8_lossy(&r.body));
    r.json()
}

/// Seed 002's registration body, verbatim.
pub fn seed_002() -> Value {
    json!({
        "account": "674dbeaf08847b9501cc9132",
        "creditor": "674dbeb208847b9501cc9138",
        "first_action": "debt_collection",
        "currency": "SEK",
        "customer": {
            "name": "ACME Inc.",
            "id_number": "5560269986",
            "is_company": true,
            "address": {
                "address_line_1": "Storgatan 42",
                "zip_code": "12345",
                "city": "Stockholm",
                "country": "SE"
            }
        },
        "debts": [{
            "invoice_number": "INV-2025-003",
            "debt_description": "Services",
            "invoice_date": "Mon, 07 Jul 2025 00:00:00 GMT",
            "capital_to_claim": 2000.0,
            "invoice_due_days_after_invoice_date": 31
        }]
    })
}

pub async fn set_clock(api: &Api, now: &str) -> Value {
    ok(
        &api.post("/sandbox/clock", &json!({"now": now})).await,
        StatusCode::OK,
    )
}

/// Registers seed 002's case on the sandbox clock at 07:56:11; (case id, OCR reference).
pub async fn register_seed_002(api: &Api) -> (String, String) {
    set_clock(api, CREATED).await;
    let r = ok(
        &api.post("/case--registrations", &seed_002()).await,
        StatusCode::CREATED,
    );
    assert_eq!(r["_created"], CREATED);
    (
        r["_cases"][0].as_str().unwrap().to_string(),
        r["_ocr_numbers_ocr"][0].as_str().unwrap().to_string(),
    )
}
