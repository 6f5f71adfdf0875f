//! Nothing acknowledged is lost, nothing runs twice (issue 13 §2): the real server is killed
//! with SIGKILL three times while clients register cases, report payments and move the
//! sandbox clock (so the worker runs flow items and posts fees and interest). After the last
//! restart every registration and payment answered 2xx is there exactly once, a request whose
//! answer was lost is there at most once, and no flow item left a doubled trace (state, fee,
//! letter). On SQLite, and on PostgreSQL when `INDRIVA_TEST_DATABASE_URL` is set. Prints the
//! figures.

use crate::common;

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_indriva");
const ACCOUNT: &str = "674dbeaf08847b9501cc9132";
const CREDITOR: &str = "674dbeb208847b9501cc9138";
const START: &str = "Mon, 01 Sep 2025 08:00:00 GMT";

struct Server(Child);
impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start(dir: &Path, url: &str, port: u16) -> Server {
    Server(
        Command::new(BIN)
            .args([
                "serve",
                "--bind",
                &format!("127.0.0.1:{port}"),
                "--data-dir",
            ])
            .arg(dir)
            .args(["--worker-interval-ms", "50"])
            .env("DATABASE_URL", url)
            .env("INDRIVA_LOG", "warn")
            .env("INDRIVA_FLOW_BATCH", "16")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    )
}

struct Client {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Client {
    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
        key: Option<&str>,
    ) -> Option<(u16, Value)> {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header("X-API-Key", &self.token)
            .timeout(Duration::from_secs(10));
        if let Some(b) = body {
            req = req
                .header("Content-Type", "application/json")
                .body(b.to_string());
        }
        if let Some(k) = key {
            req = req.header("Idempotency-Key", k);
        }
        let resp = req.send().await.ok()?;
        let status = resp.status().as_u16();
        let text = resp.text().await.ok()?;
        Some((status, serde_json::from_str(&text).unwrap_or(Value::Null)))
    }

    async fn get(&self, path: &str) -> Value {
        let (status, body) = self
            .send(reqwest::Method::GET, path, None, None)
            .await
            .expect("the server answers");
        assert_eq!(status, 200, "{path}: {body}");
        body
    }
}

async fn wait_ready(base: &str) {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(30) {
        if let Ok(r) = reqwest::get(format!("{base}/cases")).await {
            if r.status() == 401 {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the server did not start");
}

async fn token(base: &str, dir: &Path) -> String {
    let creds: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("sandbox-credentials.json")).unwrap(),
    )
    .unwrap();
    let r = reqwest::Client::new()
        .post(format!("{base}/authenticates/api-code"))
        .header("Content-Type", "application/json")
        .body(json!({"api_code": creds["api_code"]}).to_string())
        .send()
        .await
        .unwrap();
    let v: Value = serde_json::from_str(&r.text().await.unwrap()).unwrap();
    v["token"].as_str().unwrap().to_string()
}

fn registration(invoice: &str, n: u64) -> Value {
    json!({
        "account": ACCOUNT, "creditor": CREDITOR, "first_action": "reminder", "currency": "SEK",
        "customer": {"name": format!("Debtor {n}"), "id_number": "5560269986", "is_company": true,
            "address": {"address_line_1": "Storgatan 42", "zip_code": "12345", "city": "Stockholm", "country": "SE"}},
        "debts": [{"invoice_number": invoice, "debt_description": "Services",
            "invoice_date": "Mon, 07 Jul 2025 00:00:00 GMT", "capital_to_claim": 2000.0,
            "invoice_due_days_after_invoice_date": 31}]
    })
}

#[derive(Default)]
struct Ledger {
    /// Invoice number → the case id the 201 named.
    registered: HashMap<String, String>,
    /// Invoice numbers whose request got no answer (sent while the server died).
    unanswered_registrations: HashSet<String>,
    /// Payment reference → (payment id, case).
    paid: HashMap<String, (String, String)>,
    unanswered_payments: HashSet<String>,
    clock_moves: u32,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_under_load_loses_nothing_acknowledged_and_doubles_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let url = common::database_url(dir.path()).await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let ledger = Arc::new(Mutex::new(Ledger::default()));
    let mut clock = indriva::domain::HttpDate::parse_lenient(START).unwrap();

    for cycle in 0..3u64 {
        let server = start(dir.path(), &url, port);
        wait_ready(&base).await;
        let client = Arc::new(Client {
            http: reqwest::Client::new(),
            base: base.clone(),
            token: token(&base, dir.path()).await,
        });
        if cycle == 0 {
            let (s, _) = client
                .send(
                    reqwest::Method::POST,
                    "/sandbox/clock",
                    Some(&json!({"now": START})),
                    None,
                )
                .await
                .unwrap();
            assert_eq!(s, 200);
        }
        let stop = Instant::now() + Duration::from_millis(1500);
        let mut tasks = Vec::new();
        for t in 0..4u64 {
            let (client, ledger) = (client.clone(), ledger.clone());
            tasks.push(tokio::spawn(async move {
                let mut n = 0;
                while Instant::now() < stop + Duration::from_secs(5) {
                    n += 1;
                    let invoice = format!("D-{cycle}-{t}-{n}");
                    let body = registration(&invoice, n);
                    match client
                        .send(
                            reqwest::Method::POST,
                            "/case--registrations",
                            Some(&body),
                            Some(&invoice),
                        )
                        .await
                    {
                        Some((201, v)) => {
                            let id = v["_cases"][0].as_str().unwrap().to_string();
                            ledger.lock().unwrap().registered.insert(invoice, id);
                        }
                        Some((status, v)) => panic!("registration {invoice}: {status} {v}"),
                        None => {
                            ledger
                                .lock()
                                .unwrap()
                                .unanswered_registrations
                                .insert(invoice);
                            return;
                        }
                    }
                }
            }));
        }
        {
            let (client, ledger) = (client.clone(), ledger.clone());
            tasks.push(tokio::spawn(async move {
                let mut n = 0;
                loop {
                    let case = {
                        let l = ledger.lock().unwrap();
                        l.registered
                            .values()
                            .nth(n % l.registered.len().max(1))
                            .cloned()
                    };
                    let Some(case) = case else {
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        continue;
                    };
                    n += 1;
                    let reference = format!("P-{cycle}-{n}");
                    let body = json!({"account": ACCOUNT, "creditor": CREDITOR, "case": case,
                        "currency": "SEK", "amount": 10.0, "bank_transaction_date": START,
                        "creditor_payment_reference": reference, "origin": "creditor_system"});
                    match client
                        .send(
                            reqwest::Method::POST,
                            "/creditor--payments",
                            Some(&body),
                            Some(&reference),
                        )
                        .await
                    {
                        Some((201, v)) => {
                            let id = v["_id"].as_str().unwrap().to_string();
                            ledger.lock().unwrap().paid.insert(reference, (id, case));
                        }
                        Some((status, v)) => panic!("payment {reference}: {status} {v}"),
                        None => {
                            ledger.lock().unwrap().unanswered_payments.insert(reference);
                            return;
                        }
                    }
                }
            }));
        }
        let clock_task = {
            let (client, ledger) = (client.clone(), ledger.clone());
            let mut now = clock;
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(Duration::from_millis(250)).await;
                    now = now.plus_days(4);
                    match client
                        .send(
                            reqwest::Method::POST,
                            "/sandbox/clock",
                            Some(&json!({"now": now.to_string()})),
                            None,
                        )
                        .await
                    {
                        Some((200, _)) => ledger.lock().unwrap().clock_moves += 1,
                        Some((status, v)) => panic!("clock: {status} {v}"),
                        None => return now,
                    }
                }
            })
        };
        tokio::time::sleep_until(stop.into()).await;
        drop(server); // SIGKILL, with requests, commits and flow runs in flight
        for t in tasks {
            t.await.unwrap();
        }
        // The next cycle's clock moves on from the last one sent (it may have been applied).
        clock = clock_task.await.unwrap();
    }

    // Restart and look.
    let _server = start(dir.path(), &url, port);
    wait_ready(&base).await;
    let client = Client {
        http: reqwest::Client::new(),
        base: base.clone(),
        token: token(&base, dir.path()).await,
    };
    let ledger = std::mem::take(&mut *ledger.lock().unwrap());
    let mut found_registrations = 0;
    for (invoice, id) in &ledger.registered {
        let v = client
            .get(&format!(
                "/cases?where=debt.invoice_number==%22{invoice}%22"
            ))
            .await;
        assert_eq!(
            v["_meta"]["total"], 1,
            "acknowledged {invoice} found {}",
            v["_meta"]["total"]
        );
        assert_eq!(v["_items"][0]["_id"], json!(id));
        found_registrations += 1;
    }
    let mut unanswered_found = 0;
    for invoice in &ledger.unanswered_registrations {
        let v = client
            .get(&format!(
                "/cases?where=debt.invoice_number==%22{invoice}%22"
            ))
            .await;
        let n = v["_meta"]["total"].as_i64().unwrap();
        assert!(n <= 1, "{invoice} registered {n} times");
        unanswered_found += n;
    }
    let mut found_payments = 0;
    for (reference, (id, case)) in &ledger.paid {
        let v = client
            .get(&format!(
                "/creditor--payments?where=creditor_payment_reference==%22{reference}%22"
            ))
            .await;
        assert_eq!(v["_meta"]["total"], 1, "payment {reference}");
        assert_eq!(v["_items"][0]["_id"], json!(id));
        assert_eq!(v["_items"][0]["case"], json!(case));
        found_payments += 1;
    }
    for reference in &ledger.unanswered_payments {
        let v = client
            .get(&format!(
                "/creditor--payments?where=creditor_payment_reference==%22{reference}%22"
            ))
            .await;
        assert!(v["_meta"]["total"].as_i64().unwrap() <= 1);
    }
    // No flow item ran twice: no state entered twice, no ledger line posted twice for the
    // same day, no letter of one kind sent twice for a case.
    let total = client.get("/cases?max_results=1").await["_meta"]["total"]
        .as_i64()
        .unwrap();
    let mut cases_checked = 0;
    let mut moved = 0;
    for page in 1..=((total + 99) / 100) {
        let v = client
            .get(&format!("/cases?max_results=100&page={page}"))
            .await;
        for case in v["_items"].as_array().unwrap() {
            cases_checked += 1;
            let states: Vec<&str> = case["state_history"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s["state"].as_str().unwrap())
                .collect();
            let distinct: HashSet<&&str> = states.iter().collect();
            assert_eq!(
                distinct.len(),
                states.len(),
                "{}: states {states:?}",
                case["_id"]
            );
            if states.len() > 1 {
                moved += 1;
            }
            // Each fee is claimed once (payments and interest repeat legitimately).
            let mut fees = HashSet::new();
            for t in case["transactions"].as_array().unwrap() {
                if t["type"] != "costs" || t["amount"].as_f64().unwrap() <= 0.0 {
                    continue;
                }
                let key = t["description_locale_tag"].to_string();
                assert!(fees.insert(key.clone()), "{}: fee {key} twice", case["_id"]);
            }
        }
    }
    let letters = client.get("/case--letters?max_results=100").await;
    let total_letters = letters["_meta"]["total"].as_i64().unwrap();
    let mut seen = HashSet::new();
    for page in 1..=((total_letters + 99) / 100) {
        let v = client
            .get(&format!("/case--letters?max_results=100&page={page}"))
            .await;
        for l in v["_items"].as_array().unwrap() {
            // A letter is its case, its type and the day it was sent: each must be there, or
            // the key would be the same for letters that differ (it was keyed on a `kind`
            // letters do not have: always null).
            let field = |f: &str| {
                l[f].as_str()
                    .unwrap_or_else(|| panic!("a letter without {f}: {l}"))
                    .to_string()
            };
            let key = (field("case"), field("type"), field("sent_date"));
            assert!(seen.insert(key.clone()), "letter {key:?} twice");
        }
    }
    eprintln!(
        "{}: registrations acknowledged {} found {found_registrations}; unanswered {} of which stored {unanswered_found}; \
         payments acknowledged {} found {found_payments}; unanswered {}; clock moves {}; cases {cases_checked} ({moved} moved by the flow); letters {total_letters}",
        common::backend(),
        ledger.registered.len(),
        ledger.unanswered_registrations.len(),
        ledger.paid.len(),
        ledger.unanswered_payments.len(),
        ledger.clock_moves,
    );
    assert!(
        ledger.registered.len() > 50,
        "the load should register many cases"
    );
    assert!(ledger.paid.len() > 10);
    assert!(moved > 10, "the flow should have moved cases");
}
