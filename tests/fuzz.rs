//! Property-based fuzzing of the HTTP API (issue 13 §1): generated `where`, `projection`,
//! `sort` and paging parameters on every list, and mutated bodies on every JSON write the
//! OpenAPI document describes (seeded from its examples), plus random bank files and uploads.
//! Every answer must be below 500 and in the Eve envelope, and a refused write must have
//! written nothing (the audit trail, which every document write appends to, does not grow).
//!
//! CI runs a few hundred cases per property on each database; a longer run:
//! `FUZZ_CASES=20000 cargo test --release --test fuzz -- --nocapture`
//! (and with `INDRIVA_TEST_DATABASE_URL=postgres://…` for PostgreSQL).

use crate::common;

use std::sync::atomic::{AtomicU64, Ordering};

use axum::body::Body;
use axum::http::Request;
use common::{Api, Resp};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{json, Map, Value};

fn cases(default: u32) -> u32 {
    std::env::var("FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn runner(n: u32) -> TestRunner {
    TestRunner::new(Config {
        cases: n,
        failure_persistence: None,
        ..Config::default()
    })
}

/// Strings that have broken parsers: quotes, brackets, operators, unicode, NUL, long runs.
fn nasty_string() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z_.$]{0,12}",
        "\\PC{0,40}",
        Just(String::new()),
        Just("\u{0}".to_string()),
        Just("Mon, 13 Jan 2025 00:00:00 GMT".to_string()),
        Just("674dbeb208847b9501cc9138".to_string()),
        Just("x".repeat(5000)),
        Just("' or 1=1 --".to_string()),
        Just("$where".to_string()),
        Just("\")]}".to_string()),
    ]
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f)
            .map(Value::Number)
            .unwrap_or(Value::Null)),
        prop_oneof![
            Just(1e308),
            Just(-0.0),
            Just(1e-300),
            Just(0.005),
            Just(2000.0),
            Just(-1.0)
        ]
        .prop_map(|f: f64| json!(f)),
        nasty_string().prop_map(Value::String),
    ]
}

/// JSON with Mongo operators and case fields for keys.
fn json_value() -> impl Strategy<Value = Value> {
    let key = prop_oneof![
        Just("$or"),
        Just("$and"),
        Just("$nor"),
        Just("$not"),
        Just("$in"),
        Just("$nin"),
        Just("$all"),
        Just("$elemMatch"),
        Just("$size"),
        Just("$exists"),
        Just("$gt"),
        Just("$lte"),
        Just("$ne"),
        Just("$regex"),
        Just("$foo"),
        Just("state"),
        Just("transactions.amount"),
        Just("state_history.state"),
        Just("closed.close_date"),
        Just("debt.capital_to_claim"),
        Just("_id"),
        Just("customer_id_number"),
        Just(""),
        Just("a..b"),
    ]
    .prop_map(str::to_string);
    leaf().prop_recursive(5, 64, 8, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            prop::collection::vec((key.clone(), inner), 0..6)
                .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// A `where` value: JSON (mostly objects), Python expressions, or noise.
fn where_param() -> impl Strategy<Value = String> {
    let python = (
        prop::sample::select(vec![
            "state",
            "a.b",
            "total_remaining_capital_amount",
            "_created",
            "1",
            "(",
        ]),
        prop::sample::select(vec!["==", "!=", ">", "<=", "in", "is", "=", ""]),
        nasty_string(),
        prop::sample::select(vec!["", " and ", " or ", ")", " and (", " or not "]),
    )
        .prop_map(|(f, op, v, tail)| format!("{f} {op} {v:?}{tail}"));
    let field = prop::sample::select(vec![
        "state",
        "status",
        "creditor",
        "transactions.amount",
        "state_history.state",
        "debt.capital_to_claim",
        "closed",
        "_created",
        "customer_id_number",
        "nonexistent",
    ]);
    let simple = (
        field,
        leaf(),
        prop::sample::select(vec!["", "$gt", "$ne", "$in", "$exists", "$all"]),
    )
        .prop_map(|(f, v, op)| {
            match op {
                "" => json!({ f: v }),
                "$in" | "$all" => json!({ f: { op: [v] } }),
                _ => json!({ f: { op: v } }),
            }
            .to_string()
        });
    prop_oneof![
        3 => simple,
        3 => json_value().prop_map(|v| v.to_string()),
        2 => python,
        1 => nasty_string(),
    ]
}

fn sort_param() -> impl Strategy<Value = String> {
    prop_oneof![
        nasty_string(),
        json_value().prop_map(|v| v.to_string()),
        prop::collection::vec(
            ("[a-z_.]{0,10}", prop::sample::select(vec![-1, 1, 0, 2])),
            0..20
        )
        .prop_map(|ks| format!(
            "[{}]",
            ks.iter()
                .map(|(k, d)| format!("('{k}', {d})"))
                .collect::<Vec<_>>()
                .join(",")
        )),
        prop::collection::vec("-?[a-z_.]{0,10}", 0..20).prop_map(|ks| ks.join(",")),
    ]
}

fn envelope_ok(r: &Resp, what: &str) -> Result<(), TestCaseError> {
    prop_assert!(
        r.status.as_u16() < 500,
        "{what} → {}: {}",
        r.status,
        String::from_utf8_lossy(&r.body)
    );
    if r.status.as_u16() >= 400 && r.status.as_u16() != 405 {
        let v: Value = serde_json::from_slice(&r.body)
            .map_err(|e| TestCaseError::fail(format!("{what}: not JSON ({e})")))?;
        prop_assert_eq!(&v["_status"], "ERR", "{}", what);
        if r.status.as_u16() == 422 {
            // Validation: `_issues` always; a PATCH's has no `_error`, as Eve answers
            // (eve-wire §4.2, observed).
            prop_assert!(v["_issues"].is_object(), "{}: {}", what, v);
            prop_assert!(
                v["_error"]["message"].is_string() || what.starts_with("PATCH "),
                "{}: {}",
                what,
                v
            );
        } else {
            prop_assert!(v["_error"]["message"].is_string(), "{}: {}", what, v);
        }
    }
    Ok(())
}

const LISTS: &[&str] = &[
    "/cases",
    "/customers",
    "/creditors",
    "/case--registrations",
    "/creditor--payments",
    "/case--letters",
    "/webhooks",
    "/webhook--deliveries",
    "/audit--events",
    "/finance--payouts",
];

#[test]
fn generated_list_queries_never_fail_the_server() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let api = rt.block_on(async {
        let api = Api::new().await;
        common::seed_cases(&api.db.store, 60).await;
        api
    });
    let answered = AtomicU64::new(0);
    let refused = AtomicU64::new(0);
    let strategy = (
        prop::sample::select(LISTS),
        prop::option::of(where_param()),
        prop::option::of(prop_oneof![
            json_value().prop_map(|v| v.to_string()),
            nasty_string()
        ]),
        prop::option::of(sort_param()),
        prop::option::of(prop_oneof!["-?[0-9]{1,20}", nasty_string()]),
        prop::option::of(prop_oneof!["-?[0-9]{1,20}(\\.[0-9])?", nasty_string()]),
    );
    runner(cases(400))
        .run(&strategy, |(path, w, p, s, page, mr)| {
            let mut params: Vec<(&str, &str)> = Vec::new();
            for (k, v) in [
                ("where", &w),
                ("projection", &p),
                ("sort", &s),
                ("page", &page),
                ("max_results", &mr),
            ] {
                if let Some(v) = v {
                    params.push((k, v.as_str()));
                }
            }
            let r = rt.block_on(api.get_q(path, &params));
            envelope_ok(&r, &format!("GET {path} {params:?}"))?;
            if r.status == 200 {
                answered.fetch_add(1, Ordering::Relaxed);
            } else {
                refused.fetch_add(1, Ordering::Relaxed);
            }
            Ok(())
        })
        .unwrap();
    eprintln!(
        "{}: {} list queries: {} answered 200, {} refused (4xx), 0 5xx",
        common::backend(),
        answered.load(Ordering::Relaxed) + refused.load(Ordering::Relaxed),
        answered.load(Ordering::Relaxed),
        refused.load(Ordering::Relaxed)
    );
}

/// Mutates a JSON document: a value replaced, a key removed or added, at any depth.
fn mutate(doc: &Value, edits: &[(u8, usize, Value, String)]) -> Value {
    let mut doc = doc.clone();
    for (kind, at, value, key) in edits {
        let mut paths = Vec::new();
        collect_paths(&doc, &mut vec![], &mut paths);
        if paths.is_empty() {
            doc = json!({ key.clone(): value.clone() });
            continue;
        }
        let path = &paths[at % paths.len()];
        let (last, parent) = path.split_last().unwrap();
        let Some(target) = parent.iter().try_fold(&mut doc, |v, k| match v {
            Value::Object(o) => o.get_mut(k),
            Value::Array(a) => k.parse::<usize>().ok().and_then(|i| a.get_mut(i)),
            _ => None,
        }) else {
            continue;
        };
        match (kind % 3, target) {
            (0, Value::Object(o)) => {
                o.insert(last.clone(), value.clone());
            }
            (1, Value::Object(o)) => {
                o.remove(last);
            }
            (_, Value::Object(o)) => {
                o.insert(key.clone(), value.clone());
            }
            (_, Value::Array(a)) => {
                if let Ok(i) = last.parse::<usize>() {
                    if i < a.len() {
                        a[i] = value.clone();
                    }
                }
            }
            _ => {}
        }
    }
    doc
}

fn collect_paths(v: &Value, prefix: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    match v {
        Value::Object(o) => {
            for (k, c) in o {
                prefix.push(k.clone());
                out.push(prefix.clone());
                collect_paths(c, prefix, out);
                prefix.pop();
            }
        }
        Value::Array(a) => {
            for (i, c) in a.iter().enumerate() {
                prefix.push(i.to_string());
                out.push(prefix.clone());
                collect_paths(c, prefix, out);
                prefix.pop();
            }
        }
        _ => {}
    }
}

/// Every JSON write in the OpenAPI document, with its example body (or `{}`).
fn json_writes() -> Vec<(String, String, Value)> {
    let doc = indriva::http::openapi::build();
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in ["post", "patch"] {
            let Some(op) = item.get(method) else { continue };
            let Some(media) = op["requestBody"]["content"].get("application/json") else {
                continue;
            };
            let example = media
                .get("example")
                .cloned()
                .or_else(|| {
                    media["examples"]
                        .as_object()
                        .and_then(|e| e.values().next())
                        .map(|e| e["value"].clone())
                })
                .unwrap_or(json!({}));
            out.push((method.to_uppercase(), path.clone(), example));
        }
    }
    out
}

async fn audit_len(api: &Api) -> i64 {
    api.db
        .store
        .count_all(&indriva::resources::AUDIT_EVENTS)
        .await
        .unwrap()
}

/// What the writes act on: a case, the account and its creditor, a webhook, and an unmatched
/// payment, so every `{id}` names something the caller may change and each operation reaches
/// its validation (a case id in `/creditors/{id}` only ever answered 404).
struct Targets {
    case: String,
    account: String,
    creditor: String,
    webhook: String,
    unmatched: String,
}

impl Targets {
    async fn make(api: &Api, operator: &str) -> Targets {
        let (case, _) = common::seed002::register_seed_002(api).await;
        let hook = api
            .post(
                "/webhooks",
                &json!({"url": "https://hooks.example.com/indriva", "events": ["case.closed"]}),
            )
            .await;
        assert_eq!(hook.status, 201, "{}", String::from_utf8_lossy(&hook.body));
        let file = indriva::domain::bgmax::Generator {
            payee_bankgiro: "9912346".into(),
            payment_date: chrono::NaiveDate::from_ymd_opt(2025, 9, 3).unwrap(),
            written: "20250903063012123456".into(),
            payments: vec![indriva::domain::bgmax::GeneratedPayment {
                reference: "no such reference".into(),
                ocr: false,
                amount: indriva::domain::Money::from_ore(300_00),
                payer_name: Some("ACME Inc.".into()),
                parts: vec![],
            }],
            deductions: vec![],
        }
        .render();
        let r = crate::bank_files::upload(api, operator, "f.txt", file.as_bytes()).await;
        assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
        let unmatched = api
            .get_as(Some(operator), "/payments--unmatched")
            .await
            .json();
        Targets {
            case,
            account: indriva::sandbox::sandbox_account_id().to_hex(),
            creditor: common::seed002::seed_002()["creditor"]
                .as_str()
                .unwrap()
                .to_string(),
            webhook: hook.json()["_id"].as_str().unwrap().to_string(),
            unmatched: unmatched["_items"][0]["_id"].as_str().unwrap().to_string(),
        }
    }

    /// The path with its id filled in.
    fn uri(&self, path: &str) -> String {
        let id = if path.starts_with("/accounts/") {
            &self.account
        } else if path.starts_with("/creditors/") {
            &self.creditor
        } else if path.starts_with("/webhooks/") {
            &self.webhook
        } else if path.starts_with("/payments--unmatched/") {
            &self.unmatched
        } else {
            &self.case
        };
        path.replace("{id}", id).replace("{reference_id}", id)
    }
}

#[test]
fn mutated_write_bodies_never_fail_the_server_and_refusals_write_nothing() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (api, targets, operator) = rt.block_on(async {
        let api = Api::new().await;
        let operator = api
            .token_for(indriva::domain::bank::AGENCY_ACCOUNT, None)
            .await;
        let targets = Targets::make(&api, &operator).await;
        (api, targets, operator)
    });
    let mut writes = json_writes();
    for (_, path, example) in &mut writes {
        // The manual match's example names the case.
        if path.ends_with("/match") && example == &json!({}) {
            *example = json!({"case": targets.case});
        }
    }
    assert!(
        writes.len() >= 12,
        "{:?}",
        writes.iter().map(|w| &w.1).collect::<Vec<_>>()
    );
    let (accepted, refused) = (AtomicU64::new(0), AtomicU64::new(0));
    // Per operation: answers that got past finding the target and its etag (2xx or 422).
    let reached: Vec<AtomicU64> = writes.iter().map(|_| AtomicU64::new(0)).collect();
    let edit = (any::<u8>(), any::<usize>(), json_value(), "[a-z_]{1,12}");
    let strategy = (
        0..writes.len(),
        prop::collection::vec(edit, 0..4),
        any::<bool>(),
        prop::option::of(nasty_string()),
    );
    runner(cases(600))
        .run(&strategy, |(which, edits, as_operator, raw)| {
            let (method, path, example) = &writes[which];
            let uri = targets.uri(path);
            let body = match &raw {
                Some(text) if edits.is_empty() => text.clone(),
                _ => mutate(example, &edits).to_string(),
            };
            // The bank's operations are the operators'; the others the account's, now and
            // then the other way round.
            let agency = path.contains("--unmatched") || path.starts_with("/bank--");
            let token = if agency != as_operator {
                operator.clone()
            } else {
                api.token.clone()
            };
            let (r, before, after) = rt.block_on(async {
                // A PATCH carries the target's current etag, as a client would.
                let etag = if method == "PATCH" {
                    let item = api.get_as(Some(&token), &uri).await;
                    item.json()["_etag"].as_str().map(str::to_string)
                } else {
                    None
                };
                let mut req = Request::builder()
                    .method(method.as_str())
                    .uri(&uri)
                    .header("content-type", "application/json");
                if let Some(etag) = etag {
                    req = req.header("if-match", etag);
                }
                let req = req.body(Body::from(body.clone())).unwrap();
                let before = audit_len(&api).await;
                let r = api.send_as(Some(&token), req).await;
                (r, before, audit_len(&api).await)
            });
            envelope_ok(&r, &format!("{method} {uri} {body}"))?;
            // (The static-IP sign-in judges its body by the code: a wrong one is a 401.)
            let judged = r.status.is_success()
                || r.status == 422
                || (path == "/authenticates/api-code" && r.status == 401);
            if judged {
                reached[which].fetch_add(1, Ordering::Relaxed);
            }
            if r.status.is_success() {
                accepted.fetch_add(1, Ordering::Relaxed);
            } else {
                refused.fetch_add(1, Ordering::Relaxed);
                prop_assert_eq!(
                    before,
                    after,
                    "{} {} refused ({}) but wrote: {}",
                    method,
                    uri,
                    r.status,
                    body
                );
            }
            Ok(())
        })
        .unwrap();
    let accepted = accepted.load(Ordering::Relaxed);
    eprintln!(
        "{}: {} writes over {} operations: {} accepted, {} refused with nothing written, 0 5xx",
        common::backend(),
        accepted + refused.load(Ordering::Relaxed),
        writes.len(),
        accepted,
        refused.load(Ordering::Relaxed)
    );
    for (w, n) in writes.iter().zip(&reached) {
        eprintln!(
            "  {} {}: {} reached validation",
            w.0,
            w.1,
            n.load(Ordering::Relaxed)
        );
    }
    // The fuzz reaches what it is meant to test: some writes are taken, and every operation
    // is judged on its body at least once (not only refused for its id or etag).
    assert!(accepted > 0, "nothing was accepted");
    let missed: Vec<String> = writes
        .iter()
        .zip(&reached)
        .filter(|(_, n)| n.load(Ordering::Relaxed) == 0)
        .map(|(w, _)| format!("{} {}", w.0, w.1))
        .collect();
    assert!(missed.is_empty(), "never reached validation: {missed:?}");
}

#[test]
fn random_bank_files_and_uploads_never_fail_the_server() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (api, case, operator) = rt.block_on(async {
        let api = Api::new().await;
        let (case, _) = common::seed002::register_seed_002(&api).await;
        let operator = api
            .token_for(indriva::domain::bank::AGENCY_ACCOUNT, None)
            .await;
        (api, case, operator)
    });
    // A real BgMax file to mutate line by line.
    let sample = indriva::domain::bgmax::Generator {
        payee_bankgiro: "9912346".into(),
        payment_date: chrono::NaiveDate::from_ymd_opt(2025, 9, 3).unwrap(),
        written: "20250903100000000001".into(),
        payments: vec![indriva::domain::bgmax::GeneratedPayment {
            reference: "12345682".into(),
            ocr: true,
            amount: indriva::domain::Money::from_ore(200_000),
            payer_name: Some("ACME Inc.".into()),
            parts: vec![],
        }],
        deductions: vec![],
    }
    .render();
    let lines: Vec<String> = sample.lines().map(str::to_string).collect();
    let strategy = (
        prop::collection::vec((any::<usize>(), "\\PC{0,90}"), 0..6),
        any::<bool>(),
        prop::collection::vec(any::<u8>(), 0..300),
    );
    runner(cases(200))
        .run(&strategy, |(edits, upload, bytes)| {
            let (uri, token, file): (String, &str, Vec<u8>) = if upload {
                (format!("/media--upload/{case}"), &api.token, bytes)
            } else {
                let mut ls = lines.clone();
                for (at, text) in &edits {
                    let i = at % (ls.len() + 1);
                    if i == ls.len() {
                        ls.push(text.clone());
                    } else {
                        ls[i] = text.clone();
                    }
                }
                (
                    "/bank--files".to_string(),
                    &operator,
                    ls.join("\n").into_bytes(),
                )
            };
            let (ct, body) = common::multipart(
                &[("domain", "cases"), ("dotted_path", "original_invoice")],
                Some(("f.txt", "application/octet-stream", &file)),
            );
            let req = Request::post(&uri)
                .header("content-type", ct)
                .body(Body::from(body))
                .unwrap();
            let r = rt.block_on(api.send_as(Some(token), req));
            envelope_ok(&r, &format!("POST {uri} ({} bytes)", file.len()))
        })
        .unwrap();
}
