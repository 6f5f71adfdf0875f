//! Webhooks (issue 12) against a real HTTP receiver: events from a case moved on the sandbox
//! clock arrive signed (Standard Webhooks) and thin; a receiver that is down, answers 500 or
//! is too slow gets them later; a delivery can be sent again by hand; loopback and private
//! addresses are refused unless allowed; tenants see only their own webhooks and
//! deliveries. Runs on SQLite, and on PostgreSQL when `INDRIVA_TEST_DATABASE_URL` is set.

use crate::common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use common::seed002::{ok, register_seed_002, seed_002, set_clock, CREATED, LOOKED_AT};
use common::{insert_account, Api};
use hmac::{Hmac, Mac};
use indriva::domain::HttpDate;
use indriva::webhooks::{Sender, SenderSettings};
use serde_json::{json, Value};
use sha2::Sha256;

/// What a receiver got: headers and the raw body.
#[derive(Clone, Debug)]
struct Received {
    id: String,
    timestamp: String,
    signature: String,
    body: String,
}

impl Received {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap()
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Ok,
    Fail,
    Slow,
}

#[derive(Clone)]
struct Receiver {
    got: Arc<Mutex<Vec<Received>>>,
    mode: Arc<Mutex<Mode>>,
    url: String,
    task: Arc<tokio::task::JoinHandle<()>>,
}

impl Receiver {
    async fn start() -> Receiver {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        Receiver::on(listener).await
    }

    async fn on(listener: tokio::net::TcpListener) -> Receiver {
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let got = Arc::new(Mutex::new(Vec::new()));
        let mode = Arc::new(Mutex::new(Mode::Ok));
        let (g, m) = (got.clone(), mode.clone());
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: HeaderMap, body: String| {
                let (g, m) = (g.clone(), m.clone());
                async move {
                    let h = |n: &str| {
                        headers
                            .get(n)
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or_default()
                            .to_string()
                    };
                    let mode = *m.lock().unwrap();
                    if mode == Mode::Slow {
                        tokio::time::sleep(Duration::from_secs(3)).await;
                    }
                    g.lock().unwrap().push(Received {
                        id: h("webhook-id"),
                        timestamp: h("webhook-timestamp"),
                        signature: h("webhook-signature"),
                        body,
                    });
                    if mode == Mode::Fail {
                        (StatusCode::INTERNAL_SERVER_ERROR, "down for maintenance")
                    } else {
                        (StatusCode::NO_CONTENT, "")
                    }
                }
            }),
        );
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Receiver {
            got,
            mode,
            url,
            task: Arc::new(task),
        }
    }

    fn set(&self, mode: Mode) {
        *self.mode.lock().unwrap() = mode;
    }

    fn got(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }

    fn types(&self) -> Vec<String> {
        self.got()
            .iter()
            .map(|r| r.json()["type"].as_str().unwrap().to_string())
            .collect()
    }
}

/// Verifies a delivery the way a receiver would, from the Standard Webhooks spec alone.
fn verify(secret: &str, r: &Received) {
    let key = STANDARD
        .decode(secret.strip_prefix("whsec_").expect("whsec_ prefix"))
        .unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{}.{}.{}", r.id, r.timestamp, r.body).as_bytes());
    let expected = format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()));
    assert_eq!(r.signature, expected, "signature of {}", r.body);
    assert!(r.id.starts_with("msg_"), "{}", r.id);
    r.timestamp.parse::<i64>().expect("a unix timestamp");
}

fn sender(timeout_ms: u64) -> Sender {
    Sender::new(SenderSettings {
        allow_private: true,
        timeout: Duration::from_millis(timeout_ms),
    })
    .unwrap()
}

/// Fans events out and sends what is due (the job runner); how many deliveries were tried.
async fn pump(api: &Api, s: &Sender) -> usize {
    api.render_letters().await;
    api.job_runner(s.clone(), indriva::worker::Jobs::All)
        .run_once(indriva::jobs::Priority::Backfill)
        .await
        .unwrap()
}

/// Real time moves on by `secs` (the retry schedule runs in real time).
fn later(api: &Api, secs: i64) {
    let now = indriva::domain::Clock::now(&api.clock);
    api.clock.set(now.plus_seconds(secs));
}

async fn subscribe(api: &Api, url: &str, events: &[&str]) -> (String, String) {
    let r = ok(
        &api.post("/webhooks", &json!({"url": url, "events": events}))
            .await,
        StatusCode::CREATED,
    );
    (
        r["_id"].as_str().unwrap().to_string(),
        r["secret"].as_str().unwrap().to_string(),
    )
}

async fn deliveries(api: &Api, query: &str) -> Vec<Value> {
    let r = ok(
        &api.get_q(
            "/webhook--deliveries",
            &[("where", query), ("sort", "_created")],
        )
        .await,
        StatusCode::OK,
    );
    r["_items"].as_array().unwrap().clone()
}

#[tokio::test]
async fn a_case_moved_on_the_sandbox_clock_sends_signed_thin_events() {
    let api = Api::new().await;
    let rx = Receiver::start().await;
    let all = [
        "case.state_changed",
        "case.closed",
        "case.letter_sent",
        "payment.settled",
        "payout.created",
    ];
    let (hook, secret) = subscribe(&api, &rx.url, &all).await;
    assert!(
        secret.starts_with("whsec_") && secret.len() > 40,
        "{secret}"
    );
    // The secret is shown once: not in the webhook's document.
    let stored = ok(&api.get(&format!("/webhooks/{hook}")).await, StatusCode::OK);
    assert_eq!(stored["url"], rx.url.as_str());
    assert_eq!(stored["active"], true);
    assert!(!stored.to_string().contains(&secret[6..]), "{stored}");

    let (case, _) = register_seed_002(&api).await;
    set_clock(&api, LOOKED_AT).await;
    let s = sender(5_000);
    assert!(pump(&api, &s).await >= 2);
    let types = rx.types();
    assert_eq!(
        types,
        ["case.state_changed", "case.letter_sent"],
        "{:#?}",
        rx.got()
    );
    // Each body is what the OpenAPI document's `webhooks.event` describes.
    let doc = indriva::http::openapi::build();
    let schema =
        &doc["webhooks"]["event"]["post"]["requestBody"]["content"]["application/json"]["schema"];
    let documented = jsonschema::validator_for(schema).unwrap();
    for r in rx.got() {
        verify(&secret, &r);
        assert!(documented.is_valid(&r.json()), "{}", r.body);
        // Ids and states only: no name, identity number or address of the debtor.
        for personal in ["ACME", "5560269986", "Storgatan", "12345", "Stockholm"] {
            assert!(!r.body.contains(personal), "{personal} in {}", r.body);
        }
    }
    let changed = rx.got()[0].json();
    assert_eq!(changed["data"]["case"], case.as_str());
    assert_eq!(changed["data"]["state"], "debt_collection");
    assert_eq!(changed["data"]["previous_state"], "initializing");
    assert_eq!(changed["data"]["account"], "674dbeaf08847b9501cc9132");
    assert_eq!(changed["data"]["creditor"], "674dbeb208847b9501cc9138");
    // The event's time is the account's (sandbox) time, in RFC 3339.
    assert!(changed["timestamp"]
        .as_str()
        .unwrap()
        .starts_with("2025-09-03T"));
    let letter = rx.got()[1].json();
    let letter_id = letter["data"]["letter"].as_str().unwrap();
    // The letter is rendered before the event goes out: the receiver can fetch its PDF.
    let l = ok(
        &api.get(&format!("/case--letters/{letter_id}")).await,
        StatusCode::OK,
    );
    assert_eq!(l["status"], "rendered");

    // The delivery is recorded with its attempt and the receiver's answer.
    let ds = deliveries(&api, &json!({"webhook": hook}).to_string()).await;
    assert_eq!(ds.len(), 2);
    assert_eq!(ds[0]["status"], "delivered");
    assert_eq!(ds[0]["attempts"][0]["status_code"], 204);
    assert_eq!(
        format!("msg_{}", ds[0]["_id"].as_str().unwrap()),
        rx.got()[0].id
    );

    // The debtor pays it all: payment.settled, then case.closed; a payout follows.
    let paid = ok(
        &api.post(
            "/creditor--payments",
            &json!({
                "creditor": "674dbeb208847b9501cc9138",
                "case": case,
                "currency": "SEK",
                "amount": 2000.0,
                "bank_transaction_date": LOOKED_AT,
                "origin": "creditor_system",
            }),
        )
        .await,
        StatusCode::CREATED,
    );
    pump(&api, &s).await;
    let types = rx.types();
    // The state stays `debt_collection`; the status closes.
    assert_eq!(types[2..], ["payment.settled", "case.closed"], "{types:?}");
    let settled = rx.got()[2].json();
    assert_eq!(settled["data"]["creditor_payment"], paid["_id"]);
    assert_eq!(settled["data"]["amount"].as_f64(), Some(2000.0));
    let closed = rx.got()[3].json();
    assert_eq!(closed["data"]["close_reason"], "fully_paid_depreciation");
    assert_eq!(closed["data"]["state"], "debt_collection");

    for r in rx.got() {
        verify(&secret, &r);
    }
}

#[tokio::test]
async fn a_receiver_that_is_down_failing_or_slow_gets_the_event_later() {
    let api = Api::new().await;
    // Down: nothing listens on the port yet.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let url = format!("http://{addr}/hook");
    let (_, secret) = subscribe(&api, &url, &["case.state_changed"]).await;
    register_seed_002(&api).await;
    set_clock(&api, LOOKED_AT).await;
    let s = sender(500);
    assert_eq!(pump(&api, &s).await, 1);
    let d = &deliveries(&api, "{}").await[0];
    assert_eq!(d["status"], "pending");
    assert_eq!(d["attempt_count"], 1);
    assert!(d["attempts"][0].get("status_code").is_none());
    assert!(d["attempts"][0]["error"].as_str().unwrap().len() > 3, "{d}");
    // Not due again before its time.
    assert_eq!(pump(&api, &s).await, 0);

    // Up, but answering 500: tried again after 5 s, and kept.
    let rx = Receiver::on(tokio::net::TcpListener::bind(addr).await.unwrap()).await;
    rx.set(Mode::Fail);
    later(&api, 6);
    assert_eq!(pump(&api, &s).await, 1);
    let d = &deliveries(&api, "{}").await[0];
    assert_eq!(d["status"], "pending");
    assert_eq!(d["attempts"][1]["status_code"], 500);
    assert_eq!(d["attempts"][1]["response"], "down for maintenance");

    // Too slow: the attempt times out (500 ms), and is tried again 30 minutes later.
    rx.set(Mode::Slow);
    later(&api, 301);
    assert_eq!(pump(&api, &s).await, 1);
    let d = &deliveries(&api, "{}").await[0];
    assert_eq!(d["status"], "pending");
    assert!(
        d["attempts"][2]["error"]
            .as_str()
            .unwrap()
            .contains("no answer within 500 ms"),
        "{d}"
    );
    let next = HttpDate::parse_lenient(d["next_attempt"].as_str().unwrap()).unwrap();
    let tried = HttpDate::parse_lenient(d["attempts"][2]["date"].as_str().unwrap()).unwrap();
    assert_eq!(next.unix() - tried.unix(), 1800);

    // Back to normal: the same message (same webhook-id each time) arrives, verifiable.
    rx.set(Mode::Ok);
    later(&api, 1801);
    assert_eq!(pump(&api, &s).await, 1);
    let d = &deliveries(&api, "{}").await[0];
    assert_eq!(d["status"], "delivered");
    assert_eq!(d["attempt_count"], 4);
    let got = rx.got();
    let last = got.last().unwrap();
    verify(&secret, last);
    assert!(
        got.iter().all(|r| r.id == last.id),
        "one message id for every attempt"
    );
    assert_eq!(last.json()["type"], "case.state_changed");
    rx.task.abort();
}

#[tokio::test]
async fn a_delivery_is_sent_again_by_hand_and_a_deleted_webhook_gets_nothing() {
    let api = Api::new().await;
    let rx = Receiver::start().await;
    let (hook, secret) = subscribe(&api, &rx.url, &["case.state_changed"]).await;
    register_seed_002(&api).await;
    set_clock(&api, LOOKED_AT).await;
    let s = sender(2_000);
    pump(&api, &s).await;
    assert_eq!(rx.got().len(), 1);
    let d = deliveries(&api, "{}").await[0].clone();
    let id = d["_id"].as_str().unwrap();
    let r = api
        .post(&format!("/webhook--deliveries/{id}/retry"), &json!({}))
        .await;
    assert_eq!(
        r.status,
        StatusCode::ACCEPTED,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    assert_eq!(r.json()["status"], "pending");
    pump(&api, &s).await;
    let got = rx.got();
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].id, got[1].id);
    assert_eq!(got[0].body, got[1].body);
    verify(&secret, &got[1]);
    let r = api
        .post(
            "/webhook--deliveries/000000000000000000000000/retry",
            &json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.json()["_status"], "ERR");

    // Only the events subscribed to are sent; an inactive webhook gets nothing.
    let stored = ok(&api.get(&format!("/webhooks/{hook}")).await, StatusCode::OK);
    let r = api
        .write(
            "PATCH",
            &format!("/webhooks/{hook}"),
            &json!({"active": false}),
            Some(stored["_etag"].as_str().unwrap()),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    let mut other = seed_002();
    other["debts"][0]["invoice_number"] = json!("INV-2025-099");
    ok(
        &api.post("/case--registrations", &other).await,
        StatusCode::CREATED,
    );
    set_clock(&api, "Wed, 10 Sep 2025 09:00:00 GMT").await;
    pump(&api, &s).await;
    assert_eq!(rx.got().len(), 2, "an inactive webhook hears nothing");

    // Deleted while a delivery waits: it fails, saying why, and nothing is sent.
    let stored = ok(&api.get(&format!("/webhooks/{hook}")).await, StatusCode::OK);
    let r = api
        .write(
            "PATCH",
            &format!("/webhooks/{hook}"),
            &json!({"active": true, "events": ["case.state_changed", "case.closed"]}),
            Some(stored["_etag"].as_str().unwrap()),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let mut third = seed_002();
    third["debts"][0]["invoice_number"] = json!("INV-2025-100");
    ok(
        &api.post("/case--registrations", &third).await,
        StatusCode::CREATED,
    );
    set_clock(&api, "Wed, 17 Sep 2025 09:00:00 GMT").await;
    api.render_letters().await;
    let waiting = deliveries(&api, r#"{"status": "pending"}"#).await;
    assert_eq!(waiting.len(), 1);
    let etag = ok(&api.get(&format!("/webhooks/{hook}")).await, StatusCode::OK)["_etag"]
        .as_str()
        .unwrap()
        .to_string();
    let r = api
        .send(
            axum::http::Request::delete(format!("/webhooks/{hook}"))
                .header("if-match", etag)
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    pump(&api, &s).await;
    assert_eq!(rx.got().len(), 2);
    let d = ok(
        &api.get(&format!(
            "/webhook--deliveries/{}",
            waiting[0]["_id"].as_str().unwrap()
        ))
        .await,
        StatusCode::OK,
    );
    assert_eq!(d["status"], "failed");
    assert_eq!(d["attempts"][0]["error"], "the webhook was deleted");
    assert_eq!(
        api.get(&format!("/webhooks/{hook}")).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn loopback_and_private_urls_are_refused_unless_the_operator_allows_them() {
    let mut api = Api::new().await;
    api.webhooks_allow_private = false;
    for url in [
        "http://127.0.0.1:9/hook",
        "http://localhost/hook",
        "http://10.0.0.7/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hook",
    ] {
        let r = api
            .post("/webhooks", &json!({"url": url, "events": ["case.closed"]}))
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{url}");
        let issue = r.json()["_issues"]["url"].to_string();
        assert!(issue.contains("--webhook-allow-private"), "{issue}");
    }
    for (body, field) in [
        (
            json!({"url": "ftp://example.com/x", "events": ["case.closed"]}),
            "url",
        ),
        (
            json!({"url": "https://example.com/x", "events": ["case.exploded"]}),
            "events",
        ),
        (
            json!({"url": "https://example.com/x", "events": []}),
            "events",
        ),
        (json!({"url": "https://example.com/x"}), "events"),
        (json!({"events": ["case.closed"]}), "url"),
    ] {
        let r = api.post("/webhooks", &body).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert!(
            r.json()["_issues"].get(field).is_some(),
            "{body}: {}",
            r.json()
        );
    }
    // A public name is accepted (it is checked again, resolved, at each delivery).
    let r = api
        .post(
            "/webhooks",
            &json!({"url": "https://hooks.example.com/indriva", "events": ["case.closed", "case.closed"]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let id = r.json()["_id"].as_str().unwrap().to_string();
    let stored = ok(&api.get(&format!("/webhooks/{id}")).await, StatusCode::OK);
    assert_eq!(stored["events"], json!(["case.closed"]));
    // Nothing was written by the refusals.
    let all = ok(&api.get("/webhooks").await, StatusCode::OK);
    assert_eq!(all["_meta"]["total"], 1);
}

#[tokio::test]
async fn a_name_that_resolves_to_loopback_is_not_called() {
    let api = Api::new().await;
    let rx = Receiver::start().await;
    let port = rx.url.split(':').nth(2).unwrap().split('/').next().unwrap();
    // Accepted as a name by a server that allows private addresses…
    let url = format!("http://localhost.:{port}/hook");
    subscribe(&api, &url, &["case.state_changed"]).await;
    register_seed_002(&api).await;
    set_clock(&api, LOOKED_AT).await;
    // …but a sender that does not allow them refuses to connect.
    let strict = Sender::new(SenderSettings {
        allow_private: false,
        timeout: Duration::from_secs(2),
    })
    .unwrap();
    assert_eq!(pump(&api, &strict).await, 1);
    assert!(rx.got().is_empty());
    let d = &deliveries(&api, "{}").await[0];
    assert_eq!(d["status"], "pending");
    assert!(
        d["attempts"][0]["error"]
            .as_str()
            .unwrap()
            .contains("not allowed"),
        "{d}"
    );
}

#[tokio::test]
async fn tenants_see_only_their_own_webhooks_and_deliveries() {
    let api = Api::new().await;
    let rx = Receiver::start().await;
    let (hook, _) = subscribe(&api, &rx.url, &["case.state_changed"]).await;
    register_seed_002(&api).await;
    set_clock(&api, LOOKED_AT).await;
    pump(&api, &sender(2_000)).await;
    let d = deliveries(&api, "{}").await;
    assert_eq!(d.len(), 1);
    let did = d[0]["_id"].as_str().unwrap();

    let now = HttpDate::parse_lenient(CREATED).unwrap();
    let other = insert_account(&api.db.store, "Other AB", now).await;
    let stranger = api.token_for(other, None).await;
    for path in [
        format!("/webhooks/{hook}"),
        format!("/webhook--deliveries/{did}"),
    ] {
        let r = api.get_as(Some(&stranger), &path).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}");
    }
    for path in ["/webhooks", "/webhook--deliveries"] {
        let r = ok(&api.get_as(Some(&stranger), path).await, StatusCode::OK);
        assert_eq!(r["_meta"]["total"], 0, "{path}");
    }
    let r = api
        .write_as(
            &stranger,
            "POST",
            &format!("/webhook--deliveries/{did}/retry"),
            &json!({}),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = api
        .write_as(
            &stranger,
            "PATCH",
            &format!("/webhooks/{hook}"),
            &json!({"active": false}),
            Some("x"),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    // Another account's webhook hears nothing of this account's cases.
    let (_, _) = {
        let r = ok(
            &api.write_as(
                &stranger,
                "POST",
                "/webhooks",
                &json!({"url": rx.url, "events": ["case.state_changed", "case.closed"]}),
                None,
            )
            .await,
            StatusCode::CREATED,
        );
        (r["_id"].clone(), ())
    };
    let mut again = seed_002();
    again["debts"][0]["invoice_number"] = json!("INV-2025-077");
    ok(
        &api.post("/case--registrations", &again).await,
        StatusCode::CREATED,
    );
    set_clock(&api, "Wed, 10 Sep 2025 09:00:00 GMT").await;
    api.render_letters().await;
    let theirs = ok(
        &api.get_as(Some(&stranger), "/webhook--deliveries").await,
        StatusCode::OK,
    );
    assert_eq!(theirs["_meta"]["total"], 0);

    // A creditor-bound user's webhook is its creditor's; it does not see the account's.
    let creditor = indriva::domain::ObjectId::parse("674dbeb208847b9501cc9138").unwrap();
    let bound = api
        .token_for(indriva::sandbox::sandbox_account_id(), Some(creditor))
        .await;
    let r = ok(
        &api.write_as(
            &bound,
            "POST",
            "/webhooks",
            &json!({"url": rx.url, "events": ["case.closed"]}),
            None,
        )
        .await,
        StatusCode::CREATED,
    );
    let mine = ok(
        &api.get_as(
            Some(&bound),
            &format!("/webhooks/{}", r["_id"].as_str().unwrap()),
        )
        .await,
        StatusCode::OK,
    );
    assert_eq!(mine["creditor"], "674dbeb208847b9501cc9138");
    let listed = ok(&api.get_as(Some(&bound), "/webhooks").await, StatusCode::OK);
    assert_eq!(listed["_meta"]["total"], 1);
    assert_eq!(
        api.get_as(Some(&bound), &format!("/webhooks/{hook}"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn bank_payments_and_payouts_are_told_to_the_agency_and_the_client() {
    use indriva::domain::bank::AGENCY_ACCOUNT;
    use indriva::domain::bgmax::{GeneratedPayment, Generator};
    let api = Api::new().await;
    let rx = Receiver::start().await;
    let operator = api.token_for(AGENCY_ACCOUNT, None).await;
    let r = ok(
        &api.write_as(
            &operator,
            "POST",
            "/webhooks",
            &json!({"url": rx.url, "events": ["payment.unmatched"]}),
            None,
        )
        .await,
        StatusCode::CREATED,
    );
    let secret = r["secret"].as_str().unwrap().to_string();
    // The client hears of its debtor's payment and of the payout that follows.
    let client = Receiver::start().await;
    let (_, client_secret) =
        subscribe(&api, &client.url, &["payment.settled", "payout.created"]).await;
    let (case, ocr) = register_seed_002(&api).await;
    let text = Generator {
        payee_bankgiro: "9912346".into(),
        payment_date: chrono::NaiveDate::from_ymd_opt(2025, 9, 3).unwrap(),
        written: "20250903063012123456".into(),
        payments: vec![
            GeneratedPayment {
                reference: "20250000000000000018".into(),
                ocr: true,
                amount: indriva::domain::Money::from_ore(30_000),
                payer_name: Some("Someone".into()),
                parts: vec![],
            },
            GeneratedPayment {
                reference: ocr,
                ocr: true,
                amount: indriva::domain::Money::from_ore(50_000),
                payer_name: Some("ACME Inc.".into()),
                parts: vec![],
            },
        ],
        deductions: vec![],
    }
    .render();
    let (ct, body) = common::multipart(&[], Some(("b.txt", "text/plain", text.as_bytes())));
    let r = api
        .send_as(
            Some(&operator),
            axum::http::Request::post("/bank--files")
                .header("content-type", ct)
                .body(axum::body::Body::from(body))
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    pump(&api, &sender(2_000)).await;
    let got = rx.got();
    assert_eq!(got.len(), 1);
    verify(&secret, &got[0]);
    let e = got[0].json();
    assert_eq!(e["type"], "payment.unmatched");
    assert_eq!(e["data"]["amount"].as_f64(), Some(300.0));
    assert!(
        !got[0].body.contains("Someone"),
        "no payer name: {}",
        got[0].body
    );
    let u = ok(
        &api.get_as(
            Some(&operator),
            &format!(
                "/payments--unmatched/{}",
                e["data"]["unmatched_payment"].as_str().unwrap()
            ),
        )
        .await,
        StatusCode::OK,
    );
    assert_eq!(u["status"], "unmatched");

    let paid = client.got();
    assert_eq!(paid.len(), 1, "{:?}", client.types());
    verify(&client_secret, &paid[0]);
    let e = paid[0].json();
    assert_eq!(e["type"], "payment.settled");
    assert_eq!(e["data"]["case"], case.as_str());
    assert_eq!(e["data"]["paid_to"], "debtor");
    assert_eq!(e["data"]["amount"].as_f64(), Some(500.0));
    assert!(!paid[0].body.contains("ACME"));
    let payouts = api
        .payout_run(indriva::actions::payout_run::Run::All)
        .await
        .unwrap();
    assert_eq!(payouts.len(), 1);
    pump(&api, &sender(2_000)).await;
    let got = client.got();
    assert_eq!(got.len(), 2, "{:?}", client.types());
    verify(&client_secret, &got[1]);
    let e = got[1].json();
    assert_eq!(e["type"], "payout.created");
    assert_eq!(e["data"]["payout"], payouts[0].id.to_hex());
    assert_eq!(e["data"]["creditor"], "674dbeb208847b9501cc9138");
    // The agency's webhook heard neither.
    assert_eq!(rx.got().len(), 1);
}

#[tokio::test]
async fn a_dead_receiver_costs_one_attempt_per_round_and_then_gets_everything_in_order() {
    let api = Api::new().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let (_, secret) = subscribe(
        &api,
        &format!("http://{addr}/hook"),
        &["case.state_changed", "case.letter_sent"],
    )
    .await;
    register_seed_002(&api).await;
    set_clock(&api, LOOKED_AT).await;
    let s = sender(500);
    // Two deliveries are due; the first fails, the second waits behind it untried.
    assert_eq!(pump(&api, &s).await, 2);
    let ds = deliveries(&api, "{}").await;
    assert_eq!(ds.len(), 2);
    assert_eq!(ds[0]["attempt_count"], 1);
    assert_eq!(ds[1]["attempt_count"], 0);
    assert_eq!(ds[0]["next_attempt"], ds[1]["next_attempt"]);
    // Back up: at the first one's next attempt, both go, in the order they were made.
    let rx = Receiver::on(tokio::net::TcpListener::bind(addr).await.unwrap()).await;
    later(&api, 6);
    assert_eq!(pump(&api, &s).await, 2);
    assert_eq!(rx.types(), ["case.state_changed", "case.letter_sent"]);
    for r in rx.got() {
        verify(&secret, &r);
    }
    let ds = deliveries(&api, r#"{"status": "delivered"}"#).await;
    assert_eq!(ds.len(), 2);
}

/// Issue 22 item 11: a disputed case is interrupted by nothing the flow does; 90 days before
/// its limitation date it tells the integrator (`case.limitation_approaching`), once, and
/// the case shows when it warned (`flow_state.limitation_warned`).
#[tokio::test]
async fn a_disputed_case_nearing_its_limitation_date_raises_an_event() {
    let api = Api::new().await;
    let rx = Receiver::start().await;
    subscribe(&api, &rx.url, &["case.limitation_approaching"]).await;
    let (case, _) = register_seed_002(&api).await;
    set_clock(&api, LOOKED_AT).await;
    let s = sender(5_000);
    pump(&api, &s).await;
    let c = ok(&api.get(&format!("/cases/{case}")).await, StatusCode::OK);
    // The collection letter of 08:11:11 interrupted limitation: ten years, a company.
    let date = c["limitation"]["limitation_date"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(date, "Mon, 03 Sep 2035 08:11:11 GMT");
    let actor = indriva::actions::Actor::agency(indriva::audit::Actor::system());
    indriva::actions::hold::run(
        &api.app(),
        &actor,
        indriva::domain::ObjectId::parse(&case).unwrap(),
        Some(indriva::domain::apply::Hold::Dispute),
    )
    .await
    .unwrap();

    // 91 days before: nothing.
    set_clock(&api, "Mon, 04 Jun 2035 09:00:00 GMT").await;
    pump(&api, &s).await;
    assert!(rx.got().is_empty(), "{:?}", rx.types());
    // 90 days before (5 June 2035, 08:11:11 on): the event.
    set_clock(&api, "Tue, 05 Jun 2035 09:00:00 GMT").await;
    pump(&api, &s).await;
    assert_eq!(rx.types(), ["case.limitation_approaching"]);
    let e = rx.got()[0].json();
    assert_eq!(e["data"]["case"], case.as_str());
    assert_eq!(e["data"]["state"], "dispute");
    assert_eq!(e["data"]["reason"], "dispute");
    assert_eq!(e["data"]["limitation_date"], date.as_str());
    assert_eq!(e["data"]["days_left"], 90);
    let c = ok(&api.get(&format!("/cases/{case}")).await, StatusCode::OK);
    assert_eq!(c["flow_state"]["limitation_warned"], date.as_str());
    // Once.
    set_clock(&api, "Tue, 03 Jul 2035 09:00:00 GMT").await;
    pump(&api, &s).await;
    assert_eq!(rx.got().len(), 1);
}
