//! The flow engine over HTTP (issue 10): seed 002 replayed on the sandbox clock, the clock's
//! rules, letters as PDFs, the forecast, the worker in real time, tenancy. Runs on SQLite,
//! and on PostgreSQL when `INDRIVA_TEST_DATABASE_URL` is set.

use crate::common;

use axum::http::StatusCode;
use common::seed002::{ok, register_seed_002, seed_002, set_clock, CREATED, LOOKED_AT};
use common::{insert_account, Api};
use indriva::domain::{Clock, HttpDate};
use serde_json::{json, Value};

fn fixture() -> Value {
    serde_json::from_str(include_str!("fixtures/seed_open_case.json")).unwrap()
}

/// Numbers compared by value (Amili writes `2000` and `14.0`).
fn num(v: &Value) -> f64 {
    v.as_f64().unwrap_or(f64::NAN)
}

/// A document with every number as a float, to compare by value.
fn by_value(v: &Value) -> Value {
    match v {
        Value::Number(n) => json!(n.as_f64()),
        Value::Array(a) => Value::Array(a.iter().map(by_value).collect()),
        Value::Object(o) => {
            Value::Object(o.iter().map(|(k, v)| (k.clone(), by_value(v))).collect())
        }
        other => other.clone(),
    }
}

#[tokio::test]
async fn seed_002_replayed_on_the_sandbox_clock_gives_the_documented_case() {
    let api = Api::new().await;
    let (id, ocr) = register_seed_002(&api).await;
    let fresh = ok(&api.get(&format!("/cases/{id}")).await, StatusCode::OK);
    assert_eq!(fresh["state"], "initializing");
    assert_eq!(fresh["_created"], CREATED);
    assert_eq!(
        fresh["next_flow_item"]["item"],
        "case--registrations__initialize"
    );

    let moved = set_clock(&api, LOOKED_AT).await;
    assert_eq!(moved["now"], LOOKED_AT);
    assert_eq!(moved["flow_items_run"], 3);
    assert_eq!(moved["letters_queued"], 1);
    assert_eq!(
        ok(&api.get("/sandbox/clock").await, StatusCode::OK)["now"],
        LOOKED_AT
    );

    let case = ok(&api.get(&format!("/cases/{id}")).await, StatusCode::OK);
    let seed = fixture();
    // Everything the guide's answer shows that does not depend on ids or the exact minute.
    for field in [
        "debt",
        "creditor",
        "account",
        "agreement_version",
        "case_settings",
        "creditor_name",
        "currency",
        "customer_id_number",
        "customer_name",
        "customer_status",
        "debtor_id_number",
        "debtor_name",
        "state",
        "status",
        "event_listeners",
    ] {
        assert_eq!(by_value(&case[field]), by_value(&seed[field]), "{field}");
    }
    for field in [
        "local_added_capital_amount",
        "local_added_costs_amount",
        "local_added_interest_amount",
        "local_added_transaction_amount",
        "local_remaining_capital_amount",
        "local_remaining_costs_amount",
        "local_remaining_interest_amount",
        "local_remaining_transaction_amount",
        "total_added_capital_amount",
        "total_added_costs_amount",
        "total_added_interest_amount",
        "total_added_transaction_amount",
        "total_remaining_capital_amount",
        "total_remaining_costs_amount",
        "total_remaining_interest_amount",
        "total_remaining_transaction_amount",
    ] {
        assert_eq!(num(&case[field]), num(&seed[field]), "{field}");
    }
    assert_eq!(num(&case["local_added_interest_amount"]), 14.0);
    assert_eq!(case["_created"], CREATED);
    let states: Vec<&Value> = case["state_history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| &s["state"])
        .collect();
    assert_eq!(states, [&json!("initializing"), &json!("debt_collection")]);
    let statuses: Vec<&Value> = case["status_history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| &s["status"])
        .collect();
    assert_eq!(
        statuses,
        [
            &json!("initializing"),
            &json!("initialized"),
            &json!("debt_collection")
        ]
    );
    assert_eq!(case["state_history"][0]["state_date"], CREATED);
    // The ledger: the capital of the registration and the interest the flow posted.
    let lines = case["transactions"].as_array().unwrap();
    assert_eq!(lines.len(), 2);
    for (ours, theirs) in lines.iter().zip(seed["transactions"].as_array().unwrap()) {
        for f in [
            "origin",
            "type",
            "description_locale_tag",
            "bank_transaction_date",
        ] {
            if f == "bank_transaction_date" && ours["type"] == "interest" {
                continue;
            }
            assert_eq!(ours[f], theirs[f], "{f}");
        }
        assert_eq!(num(&ours["amount"]), num(&theirs["amount"]));
    }
    // The next step and the limitation, with the seed's names and dates.
    let next = &case["next_flow_item"];
    for f in [
        "item",
        "schedule_to_execute",
        "flow_config",
        "is_failed",
        "waiting_for",
        "moved_to_next_state",
        "flow_config_name_locale",
    ] {
        assert_eq!(next[f], seed["next_flow_item"][f], "next_flow_item.{f}");
    }
    // The collection letter is queued, not yet sent: limitation still runs from the due
    // date (it is interrupted once the letter is typeset, below).
    assert_eq!(
        case["limitation"]["locale_annotation"],
        "api.log_messages.claim_fell_due"
    );
    assert!(
        HttpDate::parse_lenient(case["_updated"].as_str().unwrap()).unwrap()
            <= HttpDate::parse_lenient(LOOKED_AT).unwrap()
    );

    // The collection letter: listed at once, a PDF once rendered, holding the OCR reference.
    let where_ = json!({"case": id}).to_string();
    let listed = ok(
        &api.get_q("/case--letters", &[("where", &where_)]).await,
        StatusCode::OK,
    );
    assert_eq!(listed["_meta"]["total"], 1);
    let letter = &listed["_items"][0];
    assert_eq!(letter["type"], "debt_collection");
    assert_eq!(letter["status"], "queued");
    assert_eq!(num(&letter["total"]), 2014.0);
    assert!(letter.get("url").is_none());

    // The letter's job only: with no webhook, a change writes no events.
    assert_eq!(api.render_letters().await, 1);
    let listed = ok(
        &api.get_q("/case--letters", &[("where", &where_)]).await,
        StatusCode::OK,
    );
    let letter = &listed["_items"][0];
    assert_eq!(letter["status"], "rendered");
    // Sent, the letter interrupts limitation for ten years from its day, as the seed shows.
    let case = ok(&api.get(&format!("/cases/{id}")).await, StatusCode::OK);
    assert_eq!(letter["sent_date"], case["limitation"]["break_date"]);
    assert_eq!(
        case["limitation"]["locale_annotation"],
        seed["limitation"]["locale_annotation"]
    );
    let break_date =
        HttpDate::parse_lenient(case["limitation"]["break_date"].as_str().unwrap()).unwrap();
    assert_eq!(
        case["limitation"]["limitation_date"],
        break_date.plus_years(10).to_string()
    );
    assert!(case["limitation"]["limitation_date"]
        .as_str()
        .unwrap()
        .contains("2035"));
    assert_eq!(case["services"][0]["service"], "debt_collection");
    assert!(case["debt_collection"].is_string());

    assert_eq!(letter["file"]["content_type"], "application/pdf");
    let url = letter["url"].as_str().unwrap();
    let path = &url[url.find("/media/").unwrap()..];
    let pdf = api.get_as(None, path).await;
    assert_eq!(pdf.status, StatusCode::OK);
    assert_eq!(pdf.header("content-type"), Some("application/pdf"));
    // `INDRIVA_WRITE_LETTER=letter.pdf cargo test --test flow seed_002` keeps it to look at.
    if let Ok(path) = std::env::var("INDRIVA_WRITE_LETTER") {
        std::fs::write(path, &pdf.body).unwrap();
    }
    let text = pdf_extract::extract_text_from_mem(&pdf.body).unwrap();
    for expected in [
        ocr.as_str(),
        "INKASSOKRAV",
        "991-2346",
        "ACME Inc.",
        "Amili Integration Team",
        "INV-2025-003",
        "Kronofogden",
        // ten days to pay or object end on Saturday 13 September: the next banking day
        // (lag 1930:173)
        "15 september 2025",
    ] {
        // The PDF's text extraction keeps the words; spacing and case may differ.
        let squash = |s: &str| s.split_whitespace().collect::<String>().to_lowercase();
        assert!(
            squash(&text).contains(&squash(expected)),
            "{expected:?} not in the letter:\n{text}"
        );
    }
    assert!(
        text.contains("2\u{a0}014,00") || text.contains("2 014,00"),
        "{text}"
    );
    // The letter by id, with the same URL while the hour lasts.
    let by_id = ok(
        &api.get(&format!(
            "/case--letters/{}",
            letter["_id"].as_str().unwrap()
        ))
        .await,
        StatusCode::OK,
    );
    assert_eq!(by_id["url"], letter["url"]);
}

#[tokio::test]
async fn the_sandbox_clock_moves_forward_only_while_there_are_cases() {
    let api = Api::new().await;
    // A fresh sandbox follows real time (the test's clock).
    let c = ok(&api.get("/sandbox/clock").await, StatusCode::OK);
    assert_eq!(
        c["now"],
        HttpDate::from_unix(api.now()).unwrap().to_string()
    );
    assert_eq!(c["follows_real_time"], true);
    // Without cases it may go anywhere, even back.
    set_clock(&api, "Mon, 01 Jan 2024 00:00:00 GMT").await;
    set_clock(&api, CREATED).await;
    assert_eq!(
        ok(&api.get("/sandbox/clock").await, StatusCode::OK)["follows_real_time"],
        false
    );
    register_seed_002(&api).await;
    // With a case, not back.
    let back = api
        .post(
            "/sandbox/clock",
            &json!({"now": "Tue, 02 Sep 2025 00:00:00 GMT"}),
        )
        .await;
    let body = ok(&back, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["_status"], "ERR");
    assert!(body["_issues"]["now"]
        .as_str()
        .unwrap()
        .contains("only moves forward"));
    assert_eq!(
        ok(&api.get("/sandbox/clock").await, StatusCode::OK)["now"],
        CREATED
    );
    // Standing still is allowed, and runs nothing new.
    assert_eq!(set_clock(&api, CREATED).await["flow_items_run"], 0);
    // Bad bodies are 422 in Eve's envelope.
    for bad in [
        json!({}),
        json!({"now": "2025-09-03"}),
        json!({"now": CREATED, "extra": 1}),
    ] {
        let r = api.post("/sandbox/clock", &bad).await;
        assert_eq!(
            ok(&r, StatusCode::UNPROCESSABLE_ENTITY)["_status"],
            "ERR",
            "{bad}"
        );
    }
    // A reset deletes the cases and what hangs off them; then the clock may go back.
    let reset = ok(
        &api.post("/sandbox/reset", &json!({})).await,
        StatusCode::OK,
    );
    assert_eq!(reset["cases_deleted"], 1);
    assert_eq!(
        ok(&api.get("/cases").await, StatusCode::OK)["_meta"]["total"],
        0
    );
    assert_eq!(
        ok(&api.get("/case--registrations").await, StatusCode::OK)["_meta"]["total"],
        0
    );
    assert_eq!(
        ok(&api.get("/customers").await, StatusCode::OK)["_meta"]["total"],
        0
    );
    set_clock(&api, "Tue, 02 Sep 2025 00:00:00 GMT").await;
    // The creditor and the API user survive a reset: the seed registers again.
    register_seed_002(&api).await;
}

#[tokio::test]
async fn every_timestamp_of_a_sandbox_account_comes_from_its_clock() {
    let api = Api::new().await;
    set_clock(&api, CREATED).await;
    let user = ok(
        &api.post(
            "/users",
            &json!({"account": "674dbeaf08847b9501cc9132", "name": "Clerk"}),
        )
        .await,
        StatusCode::CREATED,
    );
    assert_eq!(user["_created"], CREATED);
    let (id, _) = register_seed_002(&api).await;
    set_clock(&api, "Wed, 03 Sep 2025 12:00:00 GMT").await;
    let case = ok(&api.get(&format!("/cases/{id}")).await, StatusCode::OK);
    for line in case["transactions"].as_array().unwrap() {
        let reg = HttpDate::parse_lenient(line["registration_date"].as_str().unwrap()).unwrap();
        assert!(reg.to_string().contains("03 Sep 2025"), "{line}");
    }
    assert!(case["_updated"].as_str().unwrap().contains("03 Sep 2025"));
}

#[tokio::test]
async fn an_ordinary_account_has_no_sandbox_and_lives_in_real_time() {
    let api = Api::new().await;
    let now = api.clock.now();
    let other = insert_account(&api.db.store, "Real AB", now).await;
    let token = api.token_for(other, None).await;
    for (method, path) in [
        ("GET", "/sandbox/clock"),
        ("POST", "/sandbox/clock"),
        ("POST", "/sandbox/reset"),
    ] {
        let r = if method == "GET" {
            api.get_as(Some(&token), path).await
        } else {
            api.write_as(&token, "POST", path, &json!({"now": CREATED}), None)
                .await
        };
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{method} {path}");
        assert_eq!(r.json()["_status"], "ERR");
    }
    // Moving the sandbox's clock does not move theirs.
    set_clock(&api, CREATED).await;
    assert_eq!(
        indriva::clocks::Clocks::now(&api.clocks(), &api.db.store, &other)
            .await
            .unwrap(),
        now
    );
}

#[tokio::test]
async fn a_creditor_bound_user_may_move_the_clock_but_not_reset_the_account() {
    let api = Api::new().await;
    let sandbox = indriva::sandbox::sandbox_account_id();
    let bound = api
        .token_for(sandbox, Some(indriva::sandbox::sandbox_creditor_id()))
        .await;
    let r = api
        .write_as(
            &bound,
            "POST",
            "/sandbox/clock",
            &json!({"now": CREATED}),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let r = api
        .write_as(&bound, "POST", "/sandbox/reset", &json!({}), None)
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_forecast_lists_the_steps_ahead_with_fees_and_interest() {
    let api = Api::new().await;
    let (id, _) = register_seed_002(&api).await;
    set_clock(&api, LOOKED_AT).await;
    let f = ok(
        &api.get(&format!("/cases/{id}/forecast")).await,
        StatusCode::OK,
    );
    assert_eq!(f["as_of"], LOOKED_AT);
    let steps = f["steps"].as_array().unwrap();
    assert_eq!(steps[0]["item"], "case--debt-collections__debt_statement");
    assert_eq!(steps[0]["date"], "Fri, 19 Sep 2025 00:00:00 GMT");
    assert_eq!(steps[0]["letter"], "debt_statement");
    assert_eq!(steps[1]["item"], "case--enforcements__application");
    assert_eq!(steps[1]["state"], "enforcement");
    assert_eq!(num(&steps[1]["fees_added"]), 680.0);
    // interest to each date: 19 Sep is 43 days at 10 % on 2 000 = 23.56 → 23
    assert_eq!(num(&steps[0]["interest"]), 23.0);
    assert_eq!(num(&steps[0]["total"]), 2023.0);
    assert!(steps.iter().any(|s| s["state"] == "debt_surveillance"));
    // The forecast changes nothing.
    let case = ok(&api.get(&format!("/cases/{id}")).await, StatusCode::OK);
    assert_eq!(case["state"], "debt_collection");
    // Another account's case is unknown.
    let other = insert_account(&api.db.store, "Other AB", api.clock.now()).await;
    let token = api.token_for(other, None).await;
    assert_eq!(
        api.get_as(Some(&token), &format!("/cases/{id}/forecast"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        api.get("/cases/0123456789abcdef01234567/forecast")
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn letters_are_tenant_scoped() {
    let api = Api::new().await;
    let (_, _) = register_seed_002(&api).await;
    set_clock(&api, LOOKED_AT).await;
    let mine = ok(&api.get("/case--letters").await, StatusCode::OK);
    assert_eq!(mine["_meta"]["total"], 1);
    let letter_id = mine["_items"][0]["_id"].as_str().unwrap().to_string();
    let other = insert_account(&api.db.store, "Other AB", api.clock.now()).await;
    let token = api.token_for(other, None).await;
    assert_eq!(
        ok(
            &api.get_as(Some(&token), "/case--letters").await,
            StatusCode::OK
        )["_meta"]["total"],
        0
    );
    assert_eq!(
        api.get_as(Some(&token), &format!("/case--letters/{letter_id}"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn the_worker_runs_due_items_of_real_time_accounts_as_time_passes() {
    let mut api = Api::new().await;
    // The sandbox account follows real time (the test clock) until its clock is set.
    let r = ok(
        &api.post("/case--registrations", &seed_002()).await,
        StatusCode::CREATED,
    );
    let id = r["_cases"][0].as_str().unwrap().to_string();
    let engine = indriva::cases::Engine::default();
    let run = |api: &Api| {
        let engine = engine.clone();
        let store = api.db.store.clone();
        let clocks = api.clocks();
        async move {
            indriva::cases::flow::run_all(&store, &engine, &clocks)
                .await
                .unwrap()
        }
    };
    assert_eq!(run(&api).await.items, 0, "nothing is due at registration");
    // An hour later: initialisation and debt collection run; the letter is 10 minutes away.
    api.clock.set(api.clock.now().plus_seconds(3600));
    let report = run(&api).await;
    assert_eq!((report.items, report.letters), (2, 0));
    api.clock.set(api.clock.now().plus_seconds(600));
    let report = run(&api).await;
    assert_eq!((report.items, report.letters), (1, 1));
    // (access tokens live an hour)
    api.token = api
        .token_for(indriva::sandbox::sandbox_account_id(), None)
        .await;
    let case = ok(&api.get(&format!("/cases/{id}")).await, StatusCode::OK);
    assert_eq!(case["state"], "debt_collection");
    // Real time: the items are stamped with the time the worker ran them.
    assert_eq!(
        case["status_history"][1]["status_date"],
        api.clock.now().plus_seconds(-600).to_string()
    );
    // A second run at the same time does nothing.
    assert_eq!(run(&api).await.cases, 0);
    // The invoice was due on 7 Aug 2025; a year on, interest is posted daily as it grows.
    let before = num(&case["local_added_interest_amount"]);
    api.clock.set(api.clock.now().plus_days(3));
    let report = run(&api).await;
    assert!(report.interest_postings >= 1, "{report:?}");
    // (three days on, the first token has expired)
    api.token = api
        .token_for(indriva::sandbox::sandbox_account_id(), None)
        .await;
    let case = ok(&api.get(&format!("/cases/{id}")).await, StatusCode::OK);
    assert!(num(&case["local_added_interest_amount"]) > before);
    assert_eq!(
        api.db
            .store
            .count_due(
                &indriva::sandbox::sandbox_account_id(),
                api.clock.now().unix()
            )
            .await
            .unwrap(),
        0
    );
}

#[tokio::test]
async fn an_uploaded_invoice_goes_through_the_case_path() {
    let api = Api::new().await;
    let (id, _) = register_seed_002(&api).await;
    set_clock(&api, "Wed, 03 Sep 2025 08:00:00 GMT").await;
    let r = api
        .send(
            axum::http::Request::post(format!("/media--upload/{id}"))
                .header("content-type", "multipart/form-data; boundary=b")
                .body(axum::body::Body::from(
                    "--b\r\nContent-Disposition: form-data; name=\"domain\"\r\n\r\ncases\r\n--b\r\nContent-Disposition: form-data; name=\"dotted_path\"\r\n\r\noriginal_invoice\r\n--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"original_invoice.pdf\"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.4 test\r\n--b--\r\n",
                ))
                .unwrap(),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    let case = ok(&api.get(&format!("/cases/{id}")).await, StatusCode::OK);
    assert_eq!(case["original_invoice"]["filename"], "original_invoice.pdf");
    assert_eq!(case["_updated"], "Wed, 03 Sep 2025 08:00:00 GMT");
    // The balances are recomputed on the way: interest through 3 Sep is posted.
    assert_eq!(num(&case["local_added_interest_amount"]), 14.0);
}

#[tokio::test]
async fn a_due_case_is_brought_up_to_date_when_it_is_read() {
    let mut api = Api::new().await;
    let r = ok(
        &api.post("/case--registrations", &seed_002()).await,
        StatusCode::CREATED,
    );
    let id = r["_cases"][0].as_str().unwrap().to_string();
    // No worker runs; an hour passes.
    api.clock.set(api.clock.now().plus_seconds(3600));
    api.token = api
        .token_for(indriva::sandbox::sandbox_account_id(), None)
        .await;
    let listed = ok(&api.get("/cases").await, StatusCode::OK);
    assert_eq!(
        listed["_items"][0]["state"], "initializing",
        "lists show what is stored"
    );
    let case = ok(&api.get(&format!("/cases/{id}")).await, StatusCode::OK);
    assert_eq!(case["state"], "debt_collection");
    assert!(num(&case["local_added_interest_amount"]) > 0.0);
    // …and stored: the list shows it too.
    let listed = ok(&api.get("/cases").await, StatusCode::OK);
    assert_eq!(listed["_items"][0]["state"], "debt_collection");
    // A case that is not due is served as stored, with a stable ETag.
    let again = api.get(&format!("/cases/{id}")).await;
    assert_eq!(
        again.header("etag"),
        Some(format!("\"{}\"", case["_etag"].as_str().unwrap()).as_str())
    );
}

/// Regression: a case read within a second of the sandbox clock being set back (after a
/// reset) was brought up to date with the clock remembered from before, so seed 002's case
/// registered at 2025's 07:56:11 came back with a year of interest.
#[tokio::test]
async fn a_case_read_right_after_the_clock_is_set_back_uses_the_new_time() {
    let api = Api::new().await;
    // The clock follows real time (1 Nov 2026 here); a case is registered and read.
    let mut other = seed_002();
    other["debts"][0]["invoice_number"] = json!("INV-BEFORE-RESET");
    let r = ok(
        &api.post("/case--registrations", &other).await,
        StatusCode::CREATED,
    );
    let first = r["_cases"][0].as_str().unwrap().to_string();
    ok(&api.get(&format!("/cases/{first}")).await, StatusCode::OK);
    ok(
        &api.post("/sandbox/reset", &json!({})).await,
        StatusCode::OK,
    );
    // Set back to the seed's morning, registered, read at once.
    let (id, _) = register_seed_002(&api).await;
    let case = ok(&api.get(&format!("/cases/{id}")).await, StatusCode::OK);
    assert_eq!(
        case["local_added_interest_amount"].as_f64(),
        Some(0.0),
        "{case}"
    );
    assert!(
        case["_updated"].as_str().unwrap().contains("2025"),
        "{}",
        case["_updated"]
    );
}

/// Issue 23 item 4: one move's work is bounded. A move of more than ten years (3,653 days)
/// past the clock's time is a 422 while the account has cases, and nothing moves; so is any
/// move while more than 10,000 of the account's letters wait to be typeset (409: send it
/// again when they are).
#[tokio::test]
async fn a_move_is_bounded_in_time_and_by_the_letters_waiting() {
    let api = Api::new().await;
    // An empty sandbox may go anywhere: there is nothing to run.
    set_clock(&api, "Mon, 03 Sep 2090 07:56:11 GMT").await;
    api.post("/sandbox/reset", &json!({})).await;
    register_seed_002(&api).await;
    let r = api
        .post(
            "/sandbox/clock",
            &json!({"now": "Mon, 05 Sep 2035 07:56:11 GMT"}),
        )
        .await;
    let v = ok(&r, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        v["_issues"]["now"],
        "a move takes the clock of a sandbox account with cases at most 3653 days (ten years) \
         ahead of its time (Wed, 03 Sep 2025 07:56:11 GMT); move it in steps"
    );
    assert_eq!(
        ok(&api.get("/sandbox/clock").await, StatusCode::OK)["now"],
        CREATED
    );
    // Ten years (with two leap days) is allowed.
    set_clock(&api, "Mon, 03 Sep 2035 07:56:11 GMT").await;

    // 10,001 letters waiting: the clock does not move.
    let account = indriva::sandbox::sandbox_account_id();
    let queued = api
        .db
        .store
        .count_jobs(Some(&account.to_hex()), Some("render_letter"))
        .await
        .unwrap();
    assert!(queued > 0, "the ten years queued letters");
    let mut tx = api.db.store.begin().await.unwrap();
    let jobs: Vec<_> = (queued..10_001)
        .map(|_| indriva::store::NewJob {
            kind: "render_letter",
            payload: "{}".into(),
            account: account.to_hex(),
            unique_key: None,
            priority: 0,
            // (not before the test ends: no runner would take it anyway)
            run_at: i64::MAX / 2,
        })
        .collect();
    indriva::jobs::enqueue(&mut tx, &jobs, api.now())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let r = api
        .post(
            "/sandbox/clock",
            &json!({"now": "Tue, 04 Sep 2035 07:56:11 GMT"}),
        )
        .await;
    let v = ok(&r, StatusCode::CONFLICT);
    assert_eq!(
        v["_error"]["message"],
        "10001 letters of this account are still being typeset; move the clock again when no \
         more than 10000 wait"
    );
    assert_eq!(
        ok(&api.get("/sandbox/clock").await, StatusCode::OK)["now"],
        "Mon, 03 Sep 2035 07:56:11 GMT"
    );
}

/// Issue 23 item 4: a move whose run was cut short (the server stopped after the clock was
/// stored, before its cases ran) is finished by the worker when it starts again, and the
/// move is marked done so it is not run again.
#[tokio::test]
async fn the_worker_finishes_a_move_cut_short() {
    let api = Api::new().await;
    let (case, _) = register_seed_002(&api).await;
    let account = indriva::sandbox::sandbox_account_id();
    // What the move's first transaction stores, and nothing after it: a SIGKILL there.
    let to = HttpDate::parse_lenient(LOOKED_AT).unwrap();
    let mut tx = api.db.store.begin().await.unwrap();
    assert!(tx
        .move_account_clock(&account, to.unix(), api.now())
        .await
        .unwrap());
    tx.commit().await.unwrap();
    // (Not read through the API: a read brings a due case up to date.)
    let due = || api.db.store.count_due(&account, to.unix());
    assert_eq!(due().await.unwrap(), 1, "the move's run never happened");
    assert_eq!(
        api.db.store.unfinished_runs(i64::MAX).await.unwrap().len(),
        1
    );

    // The worker starts (as after a restart) and finishes the run.
    let app = api.app();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let interval = std::time::Duration::from_millis(50);
    let worker = tokio::spawn(indriva::worker::run_forever(
        app,
        interval,
        indriva::observe::WorkerBeat::new(interval),
        stopped,
    ));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !api
        .db
        .store
        .unfinished_runs(i64::MAX)
        .await
        .unwrap()
        .is_empty()
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the worker did not finish the move"
        );
        tokio::time::sleep(interval).await;
    }
    stop.send(true).unwrap();
    worker.await.unwrap();
    assert_eq!(due().await.unwrap(), 0);
    let c = ok(&api.get(&format!("/cases/{case}")).await, StatusCode::OK);
    assert_eq!(c["state"], "debt_collection");
    // Each item at its own time, as the move would have run them.
    assert_eq!(
        c["status_history"][1]["status_date"],
        "Wed, 03 Sep 2025 08:01:11 GMT"
    );
}

/// A case whose next item names a step its flow no longer has is marked failed and waits for
/// an operator: it is not due, so a run to a time ends (it looped on such a case before).
#[tokio::test]
async fn a_case_whose_step_is_gone_does_not_keep_a_run_going() {
    let api = Api::new().await;
    let (case, _) = register_seed_002(&api).await;
    let store = &api.db.store;
    let id = indriva::domain::ObjectId::parse(&case).unwrap();
    let scope = indriva::scope::Scope::unrestricted();
    let doc = store
        .get(&indriva::resources::CASES, &scope, &id)
        .await
        .unwrap()
        .unwrap();
    let mut c: indriva::domain::case::Case = serde_json::from_str(&doc.doc).unwrap();
    c.next_flow_item.as_mut().unwrap().item = "case--nowhere__gone".into();
    let engine = api.app().engine.clone();
    let now = HttpDate::parse_lenient(CREATED).unwrap();
    let mut tx = store.begin().await.unwrap();
    tx.upsert(
        &indriva::resources::CASES,
        vec![indriva::cases::stored(&c, now, &engine).unwrap()],
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let moved = tokio::time::timeout(
        std::time::Duration::from_secs(30),
        api.post("/sandbox/clock", &json!({"now": LOOKED_AT})),
    )
    .await
    .expect("the move ends");
    ok(&moved, StatusCode::OK);
    let c = ok(&api.get(&format!("/cases/{case}")).await, StatusCode::OK);
    assert_eq!(c["next_flow_item"]["is_failed"], true);
    assert_eq!(c["state"], "initializing");
    assert_eq!(
        store
            .count_due(
                &id_account(),
                HttpDate::parse_lenient(LOOKED_AT).unwrap().unix()
            )
            .await
            .unwrap(),
        0
    );
}

fn id_account() -> indriva::domain::ObjectId {
    indriva::sandbox::sandbox_account_id()
}

/// Issue 23 item 11: a sandbox reset leaves no file behind: not the letters' PDFs (with the
/// debtor's name on them), not one typeset while the reset ran, and not the emptied folders.
#[tokio::test]
async fn a_reset_leaves_no_letter_and_no_folder_behind() {
    let dir = tempfile::tempdir().unwrap();
    let mut api = Api::new().await;
    api.media = indriva::media::Media::open(None, dir.path(), 20 * 1024 * 1024).unwrap();
    let media = dir.path().join("media");
    let files = || {
        let mut found = Vec::new();
        let mut stack = vec![media.clone()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                found.push(p.strip_prefix(&media).unwrap().display().to_string());
                if p.is_dir() {
                    stack.push(p);
                }
            }
        }
        found.sort();
        found
    };
    register_seed_002(&api).await;
    set_clock(&api, LOOKED_AT).await;
    assert_eq!(api.render_letters().await, 1);
    assert_eq!(
        files().len(),
        3,
        "letters/<case>/<letter>.pdf: {:?}",
        files()
    );

    // The debt statement: its job is taken and typeset, and the reset comes before the
    // worker marks it rendered.
    set_clock(&api, "Fri, 19 Sep 2025 00:00:00 GMT").await;
    let store = &api.db.store;
    let claimed = store
        .claim_jobs(api.now(), api.now() + 60, 1, &["render_letter"], 1)
        .await
        .unwrap()
        .remove(0);
    let job: indriva::jobs::RenderLetter = serde_json::from_str(&claimed.payload).unwrap();
    let renderer = indriva::letters::Renderer {
        media: api.media.clone(),
        templates: Default::default(),
        agency: Default::default(),
    };
    let file = renderer.typeset(store, &job).await.unwrap();
    assert!(file.is_some());
    assert_eq!(files().len(), 4, "{:?}", files());
    ok(
        &api.post("/sandbox/reset", &json!({})).await,
        StatusCode::OK,
    );
    let run = indriva::jobs::Run {
        id: claimed.id,
        attempt: claimed.attempts,
    };
    indriva::actions::letters::rendered(&api.app(), &job, file, &run)
        .await
        .unwrap();
    let sender = indriva::webhooks::Sender::new(Default::default()).unwrap();
    api.job_runner(sender, indriva::worker::Jobs::Files)
        .drain(indriva::jobs::Priority::Backfill, None)
        .await
        .unwrap();
    assert_eq!(files(), Vec::<String>::new());
}
