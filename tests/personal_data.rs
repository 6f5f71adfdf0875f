//! Personal data (issue 13 §6): the export of everything held about one person, and the purge
//! that pseudonymises cases closed before their retention ends while keeping every amount and
//! ledger line. On SQLite, and on PostgreSQL in CI.

use crate::common;

use axum::http::StatusCode;
use common::seed002::{ok, register_seed_002, set_clock};
use common::Api;
use indriva::domain::HttpDate;
use indriva::personal::{export, PURGED};
use serde_json::{json, Value};

const ACME: &str = "5560269986";

async fn case(api: &Api, id: &str) -> Value {
    ok(&api.get(&format!("/cases/{id}")).await, StatusCode::OK)
}

/// Seed 002's case, its invoice uploaded, paid in full on 3 Sep 2025 (closed).
async fn closed_seed_002(api: &Api) -> String {
    let (id, _) = register_seed_002(api).await;
    let form = "--b\r\nContent-Disposition: form-data; name=\"domain\"\r\n\r\ncases\r\n--b\r\nContent-Disposition: form-data; name=\"dotted_path\"\r\n\r\noriginal_invoice\r\n--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"invoice.pdf\"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.4 ACME\r\n--b--\r\n";
    let r = api
        .send(
            axum::http::Request::post(format!("/media--upload/{id}"))
                .header("content-type", "multipart/form-data; boundary=b")
                .body(axum::body::Body::from(form))
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    set_clock(api, "Wed, 03 Sep 2025 08:00:00 GMT").await;
    let paid = api
        .post(
            "/creditor--payments",
            &json!({"account": "674dbeaf08847b9501cc9132", "creditor": "674dbeb208847b9501cc9138",
                    "case": id, "currency": "SEK", "amount": 2014.0,
                    "bank_transaction_date": "Wed, 03 Sep 2025 08:00:00 GMT",
                    "creditor_payment_reference": "PAY-REF-001", "origin": "creditor_system"}),
        )
        .await;
    ok(&paid, StatusCode::CREATED);
    assert_eq!(case(api, &id).await["status"], "closed");
    id
}

fn day(s: &str) -> HttpDate {
    HttpDate::parse_lenient(s).unwrap()
}

#[tokio::test]
async fn the_export_holds_everything_about_one_person() {
    let api = Api::new().await;
    let id = closed_seed_002(&api).await;
    let store = &api.db.store;
    // Any notation of the number finds the same person.
    for notation in [ACME, "556026-9986", "165560269986"] {
        let out = export(store, notation, day("Thu, 03 Dec 2026 00:00:00 GMT"))
            .await
            .unwrap();
        assert_eq!(out["id_number"], ACME);
        assert_eq!(out["customers"].as_array().unwrap().len(), 1);
        assert_eq!(out["customers"][0]["name"], "ACME Inc.");
        assert_eq!(out["cases"].as_array().unwrap().len(), 1);
        assert_eq!(out["cases"][0]["_id"], json!(id));
        assert_eq!(out["case_registrations"].as_array().unwrap().len(), 1);
        assert_eq!(out["creditor_payments"].as_array().unwrap().len(), 1);
        let audit = out["audit_events"].as_array().unwrap();
        assert!(audit.iter().any(|e| e["writes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w["item"] == json!(id))));
    }
    // Someone else's number finds nothing of ACME's.
    let other = export(store, "202501012385", day("Thu, 03 Dec 2026 00:00:00 GMT"))
        .await
        .unwrap();
    assert!(other["cases"].as_array().unwrap().is_empty());
    assert!(
        export(store, "-5560269986", day("Thu, 03 Dec 2026 00:00:00 GMT"))
            .await
            .is_err()
    );
}

/// The purge, as `indriva personal-data purge` runs it.
async fn purge(
    api: &Api,
    today: indriva::domain::HttpDate,
    years: u32,
    dry_run: bool,
) -> Result<indriva::actions::pseudonymise::Purged, indriva::actions::ActionError> {
    let actor = indriva::actions::Actor::agency(indriva::audit::Actor::system());
    indriva::actions::pseudonymise::purge(&api.app(), &actor, today, years, dry_run).await
}

#[tokio::test]
async fn a_purge_pseudonymises_closed_cases_past_retention_and_keeps_the_money() {
    let api = Api::new().await;
    let id = closed_seed_002(&api).await;
    let open = {
        let mut body = common::seed002::seed_002();
        body["debts"][0]["invoice_number"] = json!("INV-OPEN");
        body["customer"]["id_number"] = json!("202501012385");
        body["customer"]["name"] = json!("Jane Doe");
        body["customer"]["is_company"] = json!(false);
        ok(
            &api.post("/case--registrations", &body).await,
            StatusCode::CREATED,
        )["_cases"][0]
            .as_str()
            .unwrap()
            .to_string()
    };
    let store = &api.db.store;
    // Operators' notes on both (a note may name the debtor).
    let ops = indriva::actions::Actor::agency(indriva::audit::Actor::system());
    for c in [&id, &open] {
        indriva::actions::notes::add(&api.app(), &ops, c.parse().unwrap(), "Spoke to Jane Doe")
            .await
            .unwrap();
    }
    let before = case(&api, &id).await;
    let open_before = case(&api, &open).await;

    // Closed in 2025: kept through 2032 under the default seven years.
    let in_2026 = day("Thu, 03 Dec 2026 00:00:00 GMT");
    let kept = purge(&api, in_2026, 7, false).await.unwrap();
    assert_eq!(kept.cases, 0);
    assert_eq!(case(&api, &id).await["_etag"], before["_etag"]);
    let in_2033 = day("Mon, 03 Jan 2033 00:00:00 GMT");
    // A dry run counts and changes nothing.
    let dry = purge(&api, in_2033, 7, true).await.unwrap();
    assert_eq!(
        (dry.cases, dry.registrations, dry.customers, dry.notes),
        (1, 1, 1, 1)
    );
    assert_eq!(case(&api, &id).await["_etag"], before["_etag"]);
    let notes_of = |c: &str| {
        let (account, case): (indriva::domain::ObjectId, indriva::domain::ObjectId) = (
            before["account"].as_str().unwrap().parse().unwrap(),
            c.parse().unwrap(),
        );
        async move { store.case_notes(&account, &case).await.unwrap().len() }
    };
    assert_eq!(notes_of(&id).await, 1, "a dry run deletes nothing");

    let done = purge(&api, in_2033, 7, false).await.unwrap();
    assert_eq!(
        (done.cases, done.registrations, done.customers, done.notes),
        (1, 1, 1, 1)
    );
    assert_eq!(notes_of(&id).await, 0, "the purged case's note is gone");
    assert_eq!(notes_of(&open).await, 1, "the open case keeps its note");
    assert_eq!(done.files.len(), 1, "the uploaded invoice is to be deleted");
    // A job deletes it once the purge is committed.
    let invoice = api.media.path(&done.files[0]);
    assert!(api.media.store.head(&invoice).await.is_ok());
    let sender = indriva::webhooks::Sender::new(Default::default()).unwrap();
    api.job_runner(sender, indriva::worker::Jobs::Files)
        .drain(indriva::jobs::Priority::Backfill, None)
        .await
        .unwrap();
    assert!(api.media.store.head(&invoice).await.is_err(), "deleted");
    let after = case(&api, &id).await;
    assert_eq!(after["customer_name"], PURGED);
    assert_eq!(after["debtor_name"], PURGED);
    assert!(after["customer_id_number"]
        .as_str()
        .unwrap()
        .starts_with("purged-"));
    assert!(after.get("original_invoice").is_none());
    // The money and the case's life are untouched.
    for f in [
        "transactions",
        "state_history",
        "status",
        "closed",
        "total_added_capital_amount",
        "total_remaining_transaction_amount",
        "reference_number",
        "debt",
    ] {
        assert_eq!(after[f], before[f], "{f}");
    }
    let text = after.to_string();
    assert!(!text.contains(ACME) && !text.contains("ACME"), "{text}");
    // The open case and its person are untouched.
    assert_eq!(case(&api, &open).await["_etag"], open_before["_etag"]);
    // The person can no longer be found by number.
    let out = export(store, ACME, in_2033).await.unwrap();
    assert!(out["customers"].as_array().unwrap().is_empty());
    assert!(out["cases"].as_array().unwrap().is_empty());
    assert!(out["case_registrations"].as_array().unwrap().is_empty());
    let customers = ok(&api.get("/customers?max_results=50").await, StatusCode::OK);
    assert!(!customers.to_string().contains("ACME"));
    // Once done, a second purge finds nothing more.
    let again = purge(&api, in_2033, 7, false).await.unwrap();
    assert_eq!(again.cases, 0);
    // The purge is in the audit trail.
    let trail = ok(
        &api.get_q(
            "/audit--events",
            &[("where", &json!({"writes.item": id}).to_string())],
        )
        .await,
        StatusCode::OK,
    );
    assert!(trail["_items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["actor"]["type"] == "system"));
}

/// docs/security.md: a purge deletes the letters' PDFs (the debtor's name and address are on
/// them), and its boundary is 1 January: a case closed in 2025 is kept through 31 December
/// 2032 and purged from 1 January 2033.
#[tokio::test]
async fn a_purge_deletes_the_letters_and_starts_on_the_first_of_january() {
    let api = Api::new().await;
    let (id, _) = register_seed_002(&api).await;
    set_clock(&api, common::seed002::LOOKED_AT).await;
    assert_eq!(api.render_letters().await, 1);
    let letters = ok(&api.get("/case--letters").await, StatusCode::OK);
    let key = letters["_items"][0]["file"]["id"]
        .as_str()
        .expect("a rendered letter has its file")
        .to_string();
    let pdf = api.media.path(&key);
    assert!(api.media.store.head(&pdf).await.is_ok());
    let owed = case(&api, &id).await["total_remaining_transaction_amount"].clone();
    let paid = api
        .post(
            "/creditor--payments",
            &json!({"account": "674dbeaf08847b9501cc9132", "creditor": "674dbeb208847b9501cc9138",
                    "case": id, "currency": "SEK", "amount": owed,
                    "bank_transaction_date": common::seed002::LOOKED_AT,
                    "creditor_payment_reference": "PAY-ALL", "origin": "creditor_system"}),
        )
        .await;
    ok(&paid, StatusCode::CREATED);
    assert_eq!(case(&api, &id).await["status"], "closed");

    let last_kept = day("Fri, 31 Dec 2032 23:59:59 GMT");
    assert_eq!(purge(&api, last_kept, 7, false).await.unwrap().cases, 0);
    let first_purged = day("Sat, 01 Jan 2033 00:00:00 GMT");
    let done = purge(&api, first_purged, 7, false).await.unwrap();
    assert_eq!(done.cases, 1);
    assert!(done.files.contains(&key), "{:?}", done.files);
    let sender = indriva::webhooks::Sender::new(Default::default()).unwrap();
    api.job_runner(sender, indriva::worker::Jobs::Files)
        .drain(indriva::jobs::Priority::Backfill, None)
        .await
        .unwrap();
    assert!(
        api.media.store.head(&pdf).await.is_err(),
        "the letter's PDF is deleted"
    );
    let letter = ok(&api.get("/case--letters").await, StatusCode::OK);
    assert!(letter["_items"][0].get("file").is_none(), "{letter}");
}
