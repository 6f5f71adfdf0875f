//! The OpenAPI document (issue 12): it covers every route the router serves and nothing else,
//! it validates against the OpenAPI 3.1 meta-schema, and the server's real answers — to the
//! documented examples (seed 002's registration and payment) and to every list and item
//! read — match the schemas documented for their status. Swagger UI is served from the
//! binary. Runs on SQLite, and on PostgreSQL when `INDRIVA_TEST_DATABASE_URL` is set.

use crate::common;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use common::seed002::{ok, set_clock, CREATED};
use common::{multipart, Api, Resp};
use indriva::domain::bank::AGENCY_ACCOUNT;
use indriva::domain::bgmax::{GeneratedPayment, Generator};
use indriva::domain::Money;
use serde_json::{json, Value};

fn document() -> Value {
    indriva::http::openapi::build()
}

/// Every (path, method) the document lists.
fn operations(doc: &Value) -> Vec<(String, Method, Value)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let m = Method::from_bytes(method.to_ascii_uppercase().as_bytes()).unwrap();
            out.push((path.clone(), m, op.clone()));
        }
    }
    out
}

/// A concrete URI for a templated path.
fn concrete(path: &str) -> String {
    path.replace("{id}", "68b7f49c7b02934caddab092")
        .replace("{reference_id}", "68b7f49c7b02934caddab092")
        .replace("{key}", "letters/x.pdf")
        .replace("{asset}", "swagger-ui.css")
}

async fn call(api: &Api, method: Method, uri: &str) -> Resp {
    let req = Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", "application/json")
        .body(Body::from("{}"))
        .unwrap();
    api.send_as(None, req).await
}

#[tokio::test]
async fn the_router_serves_exactly_the_documented_routes() {
    let api = Api::new().await;
    let doc = document();
    let ops = operations(&doc);
    assert!(ops.len() >= 50, "only {} operations documented", ops.len());
    let mut by_path: std::collections::BTreeMap<String, Vec<Method>> = Default::default();
    for (path, method, op) in &ops {
        by_path
            .entry(path.clone())
            .or_default()
            .push(method.clone());
        let r = call(&api, method.clone(), &concrete(path)).await;
        assert_ne!(
            r.status,
            StatusCode::METHOD_NOT_ALLOWED,
            "{method} {path} is documented but not routed"
        );
        // Without a token, every operation not marked public is refused before it runs.
        let public = op.get("security") == Some(&json!([]));
        if !public {
            assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{method} {path}");
            assert_eq!(r.json()["_status"], "ERR");
            assert!(op["responses"].get("401").is_some(), "{method} {path}");
        }
    }
    for (path, methods) in by_path {
        // No route answers PUT: a 405 (not a 404) proves the path is routed, and `Allow`
        // names exactly the documented methods.
        let r = call(&api, Method::PUT, &concrete(&path)).await;
        assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED, "PUT {path}");
        assert_eq!(r.json()["_status"], "ERR");
        let mut allowed: Vec<String> = r
            .header("allow")
            .unwrap_or_else(|| panic!("no Allow header on 405 for {path}"))
            .split(',')
            .map(|m| m.trim().to_string())
            .filter(|m| m != "HEAD")
            .collect();
        allowed.sort();
        let mut documented: Vec<String> = methods.iter().map(|m| m.to_string()).collect();
        documented.sort();
        assert_eq!(allowed, documented, "{path}");
    }
    // A path that is not documented is not served.
    let r = call(&api, Method::GET, "/not-a-resource").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_document_validates_against_the_openapi_3_1_schema() {
    let doc = document();
    let meta: Value =
        serde_json::from_str(include_str!("fixtures/openapi/oas-3.1-schema.json")).unwrap();
    let validator = jsonschema::validator_for(&meta).expect("the OAS meta-schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(&doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    // Every schema in it is a valid JSON Schema 2020-12 schema whose references resolve.
    let components = doc["components"].clone();
    for (name, schema) in components["schemas"].as_object().unwrap() {
        jsonschema::meta::validate(schema)
            .unwrap_or_else(|e| panic!("components.schemas.{name}: {e}"));
        compile(schema, &components);
    }
    for (path, method, op) in operations(&doc) {
        for (status, r) in op["responses"].as_object().unwrap() {
            if let Some(s) = r.pointer("/content/application~1json/schema") {
                compile(s, &components);
            } else {
                assert!(
                    r.get("content").is_some() || ["204", "304"].contains(&status.as_str()),
                    "{method} {path} {status}: no content"
                );
            }
        }
        // A documented request example is valid by the documented request schema.
        if let Some(media) = op.pointer("/requestBody/content/application~1json") {
            if let Some(example) = media.get("example") {
                let v = compile(&media["schema"], &components);
                let errors: Vec<String> = v.iter_errors(example).map(|e| e.to_string()).collect();
                assert!(errors.is_empty(), "{method} {path} example: {errors:?}");
            }
        }
        // Every operation has an id, a summary and a tag, and its path parameters are listed.
        assert!(op["operationId"].is_string() && op["summary"].is_string());
        for name in path
            .split('{')
            .skip(1)
            .map(|s| s.split('}').next().unwrap())
        {
            let listed = op["parameters"]
                .as_array()
                .is_some_and(|ps| ps.iter().any(|p| p["name"] == name && p["in"] == "path"));
            assert!(listed, "{method} {path}: path parameter {name} not listed");
        }
    }
    // The Eve parameters and headers the issue names are there.
    let list = &doc["paths"]["/cases"]["get"]["parameters"];
    for name in ["where", "projection", "sort", "page", "max_results"] {
        assert!(
            list.as_array().unwrap().iter().any(|p| p["name"] == name),
            "{name}"
        );
    }
    let names = |path: &str, method: &str| -> Vec<String> {
        doc["paths"][path][method]["parameters"]
            .as_array()
            .map(|ps| {
                ps.iter()
                    .map(|p| p["name"].as_str().unwrap().to_string())
                    .collect()
            })
            .unwrap_or_default()
    };
    assert!(names("/creditors/{id}", "patch").contains(&"If-Match".to_string()));
    assert!(names("/cases/{id}", "get").contains(&"If-None-Match".to_string()));
    assert!(names("/case--registrations", "post").contains(&"Idempotency-Key".to_string()));
    assert!(names("/creditor--payments", "post").contains(&"Idempotency-Key".to_string()));
    assert_eq!(
        doc["components"]["securitySchemes"]["ApiKey"]["name"],
        "X-API-Key"
    );
    assert_eq!(
        doc["paths"]["/case--registrations"]["post"]["requestBody"]["content"]["application/json"]
            ["example"]["debts"][0]["invoice_number"],
        "INV-2025-003"
    );
}

/// A validator for `schema`, with the document's components beside it so `$ref`s resolve.
fn compile(schema: &Value, components: &Value) -> jsonschema::Validator {
    let mut root =
        json!({"$schema": "https://json-schema.org/draft/2020-12/schema", "allOf": [schema]});
    root["components"] = components.clone();
    jsonschema::validator_for(&root).unwrap_or_else(|e| panic!("{schema}: {e}"))
}

/// Asserts that `r` has a status the operation documents, and a body its schema accepts.
fn conforms(doc: &Value, path: &str, method: &str, r: &Resp) -> Value {
    let op = &doc["paths"][path][method];
    let status = r.status.as_u16().to_string();
    let documented = op["responses"]
        .get(&status)
        .unwrap_or_else(|| panic!("{method} {path} answered an undocumented {status}"));
    let body = r.json();
    let schema = documented
        .pointer("/content/application~1json/schema")
        .unwrap_or_else(|| panic!("{method} {path} {status}: no JSON schema"));
    let validator = compile(schema, &doc["components"]);
    let errors: Vec<String> = validator
        .iter_errors(&body)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{method} {path} {status}: {errors:#?}\n{body:#}"
    );
    body
}

fn example(doc: &Value, path: &str) -> Value {
    doc["paths"][path]["post"]["requestBody"]["content"]["application/json"]["example"].clone()
}

#[tokio::test]
async fn the_examples_answer_as_documented() {
    let api = Api::new().await;
    let doc = document();
    conforms(
        &doc,
        "/sandbox/clock",
        "get",
        &api.get("/sandbox/clock").await,
    );
    let r = api
        .post("/sandbox/clock", &example(&doc, "/sandbox/clock"))
        .await;
    ok(&r, StatusCode::OK);
    conforms(&doc, "/sandbox/clock", "post", &r);
    assert_eq!(r.json()["now"], CREATED);

    // A webhook, as documented: it will have deliveries to read.
    let r = api.post("/webhooks", &example(&doc, "/webhooks")).await;
    assert_eq!(
        r.status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    let hook = conforms(&doc, "/webhooks", "post", &r)["_id"]
        .as_str()
        .unwrap()
        .to_string();

    // Seed 002's registration, as documented.
    let r = api
        .post(
            "/case--registrations",
            &example(&doc, "/case--registrations"),
        )
        .await;
    let registered = conforms(&doc, "/case--registrations", "post", &r);
    assert_eq!(r.status, StatusCode::CREATED);
    let case = registered["_cases"][0].as_str().unwrap().to_string();
    // Its original invoice.
    let (ct, body) = multipart(
        &[("domain", "cases"), ("dotted_path", "original_invoice")],
        Some(("invoice.pdf", "application/pdf", b"%PDF-1.4\n%%EOF\n")),
    );
    let r = api
        .send(
            Request::post(format!("/media--upload/{case}"))
                .header("content-type", ct)
                .body(Body::from(body))
                .unwrap(),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    conforms(&doc, "/media--upload/{reference_id}", "post", &r);
    // The same body again: refused with the documented validation envelope.
    let r = api
        .post(
            "/case--registrations",
            &example(&doc, "/case--registrations"),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    conforms(&doc, "/case--registrations", "post", &r);

    // The flow runs: the collection letter is sent.
    set_clock(&api, "Wed, 03 Sep 2025 09:10:17 GMT").await;
    // The agency's bank file: one payment on the case's OCR reference, one nobody's.
    let operator = api.token_for(AGENCY_ACCOUNT, None).await;
    let ocr = registered["_ocr_numbers_ocr"][0].as_str().unwrap();
    let payment = |reference: &str, kronor: i64| GeneratedPayment {
        reference: reference.into(),
        ocr: true,
        amount: Money::from_ore(kronor * 100),
        payer_name: Some("ACME Inc.".into()),
        parts: vec![],
    };
    let bgmax = Generator {
        payee_bankgiro: "9912346".into(),
        payment_date: chrono::NaiveDate::from_ymd_opt(2025, 9, 3).unwrap(),
        written: "20250903063012123456".into(),
        payments: vec![payment(ocr, 500), payment("20250000000000000018", 5)],
        deductions: vec![],
    }
    .render();
    let (ct, body) = multipart(&[], Some(("BGMAX.txt", "text/plain", bgmax.as_bytes())));
    let r = api
        .send_as(
            Some(&operator),
            Request::post("/bank--files")
                .header("content-type", ct)
                .body(Body::from(body))
                .unwrap(),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    conforms(&doc, "/bank--files", "post", &r);
    let unmatched = api.get_as(Some(&operator), "/payments--unmatched").await;
    let pid = conforms(&doc, "/payments--unmatched", "get", &unmatched)["_items"][0]["_id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = api
        .write_as(
            &operator,
            "POST",
            &format!("/payments--unmatched/{pid}/match"),
            &json!({"case": case}),
            None,
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    conforms(&doc, "/payments--unmatched/{id}/match", "post", &r);

    let r = api
        .post(
            &format!("/case--respites/{case}"),
            &example(&doc, "/case--respites/{id}"),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    conforms(&doc, "/case--respites/{id}", "post", &r);
    // Seed 002's payment, on the case just registered.
    let mut payment = example(&doc, "/creditor--payments");
    payment["case"] = json!(case);
    let r = api.post("/creditor--payments", &payment).await;
    assert_eq!(
        r.status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    conforms(&doc, "/creditor--payments", "post", &r);
    // A broken body: the documented 422.
    let r = api
        .post("/creditor--payments", &json!({"amount": "lots"}))
        .await;
    conforms(&doc, "/creditor--payments", "post", &r);

    // A second case, credited in part and then cancelled.
    let mut second = example(&doc, "/case--registrations");
    second["debts"][0]["invoice_number"] = json!("INV-2025-004");
    let r = api.post("/case--registrations", &second).await;
    let other = conforms(&doc, "/case--registrations", "post", &r)["_cases"][0]
        .as_str()
        .unwrap()
        .to_string();
    let crediting = json!({
        "creditor": "674dbeb208847b9501cc9138",
        "case": other,
        "currency": "SEK",
        "amount": 500.0,
        "origin": "creditor_system",
    });
    let r = api.post("/creditor--creditings", &crediting).await;
    assert_eq!(
        r.status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    conforms(&doc, "/creditor--creditings", "post", &r);
    let r = api
        .post(
            "/creditor--cancellations",
            &json!({"creditor": "674dbeb208847b9501cc9138", "case": other, "origin": "creditor_system"}),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    conforms(&doc, "/creditor--cancellations", "post", &r);
    // Time passes: letters are sent, and the payment is paid out.
    set_clock(&api, "Wed, 15 Oct 2025 09:00:00 GMT").await;
    api.render_letters().await;
    api.payout_run(indriva::actions::payout_run::Run::All)
        .await
        .unwrap();

    let r = api.get(&format!("/cases/{case}/forecast")).await;
    conforms(&doc, "/cases/{id}/forecast", "get", &r);

    // A delivery sent again, and the webhook changed.
    let delivery = conforms(
        &doc,
        "/webhook--deliveries",
        "get",
        &api.get("/webhook--deliveries").await,
    )["_items"][0]["_id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = api
        .post(
            &format!("/webhook--deliveries/{delivery}/retry"),
            &json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
    conforms(&doc, "/webhook--deliveries/{id}/retry", "post", &r);
    let etag = api.get(&format!("/webhooks/{hook}")).await.json()["_etag"]
        .as_str()
        .unwrap()
        .to_string();
    let r = api
        .write(
            "PATCH",
            &format!("/webhooks/{hook}"),
            &json!({"description": "ERP"}),
            Some(&etag),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    conforms(&doc, "/webhooks/{id}", "patch", &r);
    let r = api
        .write(
            "PATCH",
            &format!("/webhooks/{hook}"),
            &json!({"description": "again"}),
            Some(&etag),
        )
        .await;
    assert_eq!(r.status, StatusCode::PRECONDITION_FAILED);
    conforms(&doc, "/webhooks/{id}", "patch", &r);

    // Every list, and the first item of each, answers as documented.
    let mut lists = 0;
    for (path, method, _) in operations(&doc) {
        if method != Method::GET || path.contains('{') {
            continue;
        }
        let item_path = format!("{path}/{{id}}");
        if doc["paths"].get(&item_path).is_none() {
            let r = api.get(&path).await;
            if !matches!(path.as_str(), "/docs" | "/openapi.json") {
                conforms(&doc, &path, "get", &r);
            }
            continue;
        }
        lists += 1;
        // The agency's own resources are read with the operator's token.
        let token = if ["/bank--files", "/payments--unmatched"].contains(&path.as_str()) {
            operator.clone()
        } else {
            api.token.clone()
        };
        let r = api.get_as(Some(&token), &path).await;
        let page = conforms(&doc, &path, "get", &r);
        let first = page["_items"]
            .get(0)
            .unwrap_or_else(|| panic!("{path}: nothing to read an item of"));
        let id = first["_id"].as_str().unwrap();
        let r = api.get_as(Some(&token), &format!("{path}/{id}")).await;
        conforms(&doc, &item_path, "get", &r);
        // An unknown id: the documented 404 envelope.
        let r = api
            .get_as(Some(&token), &format!("{path}/000000000000000000000000"))
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}");
        conforms(&doc, &item_path, "get", &r);
    }
    assert!(lists >= 15, "{lists} lists checked");
    // A bad `where`: the documented 400.
    let r = api.get_q("/cases", &[("where", "{not json")]).await;
    conforms(&doc, "/cases", "get", &r);
}

#[tokio::test]
async fn swagger_ui_is_served_from_the_binary() {
    let api = Api::new().await;
    let r = api.get_as(None, "/docs").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.header("content-type").unwrap().starts_with("text/html"));
    let page = String::from_utf8(r.body.clone()).unwrap();
    for asset in [
        "/docs/swagger-ui.css",
        "/docs/swagger-ui-bundle.js",
        "/docs/swagger-init.js",
    ] {
        assert!(page.contains(asset), "{asset}");
        let r = api.get_as(None, asset).await;
        assert_eq!(r.status, StatusCode::OK, "{asset}");
    }
    let bundle = api.get_as(None, "/docs/swagger-ui-bundle.js").await;
    assert!(bundle.body.len() > 500_000, "the whole bundle");
    assert!(bundle
        .header("content-type")
        .unwrap()
        .starts_with("text/javascript"));
    let init = api.get_as(None, "/docs/swagger-init.js").await;
    assert!(String::from_utf8_lossy(&init.body).contains("/openapi.json"));
    let r = api.get_as(None, "/docs/other.js").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.json()["_status"], "ERR");
    let r = api.get_as(None, "/openapi.json").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["openapi"], "3.1.0");
    assert_eq!(r.json(), document());
}

/// Issue 23 item 10: what the generic request handling refuses is documented on every
/// operation it can happen to. Each operation is sent the generic mistakes that apply to it —
/// a body without its Content-Type, an id that does not exist, a malformed `projection` — and
/// must answer with a status its entry lists (before, 400 and 404 were missing on 24
/// operations, found by schemathesis).
#[tokio::test]
async fn generic_refusals_are_documented_on_every_operation() {
    let api = Api::new().await;
    let doc = document();
    let mut undocumented = Vec::new();
    for (path, method, op) in operations(&doc) {
        if op["security"] == json!([]) || path.starts_with("/docs") || path == "/sandbox/reset" {
            continue;
        }
        let documented = |status: u16| op["responses"].get(status.to_string()).is_some();
        let mut tries: Vec<(String, Request<Body>)> = Vec::new();
        let uri = path
            .replace("{id}", "5f0000000000000000000000")
            .replace("{reference_id}", "5f0000000000000000000000")
            .replace("{key}", "letters/x.pdf");
        if op.get("requestBody").is_some() {
            let req = Request::builder()
                .method(method.clone())
                .uri(&uri)
                .body(Body::from("{}"))
                .unwrap();
            tries.push(("a body without Content-Type".into(), req));
        }
        if path.contains('{') {
            let req = Request::builder()
                .method(method.clone())
                .uri(&uri)
                .header("content-type", "application/json")
                .header("if-match", "x")
                .body(Body::from("{}"))
                .unwrap();
            tries.push(("an unknown id".into(), req));
            let req = Request::builder()
                .method(method.clone())
                .uri(&uri)
                .header("content-type", "application/json")
                .body(Body::from("{}"))
                .unwrap();
            tries.push(("an unknown id, no If-Match".into(), req));
            let req = Request::builder()
                .method(method.clone())
                .uri(path.replace("{id}", "0").replace("{reference_id}", "0"))
                .header("content-type", "application/json")
                .body(Body::from("{}"))
                .unwrap();
            tries.push(("a malformed id".into(), req));
        }
        let projection = op["parameters"]
            .as_array()
            .is_some_and(|ps| ps.iter().any(|p| p["name"] == "projection"));
        if projection {
            let req = Request::builder()
                .method(method.clone())
                .uri(format!("{uri}?projection=%7Bbad"))
                .body(Body::empty())
                .unwrap();
            tries.push(("a malformed projection".into(), req));
        }
        for (what, req) in tries {
            let r = api.send(req).await;
            if !documented(r.status.as_u16()) {
                undocumented.push(format!("{method} {path}, {what}: {}", r.status));
            }
        }
    }
    assert!(undocumented.is_empty(), "{}", undocumented.join("\n"));
}

/// Issue 24 item 7: the document reads in an integrator's order (signing in first, the
/// server's own endpoints last), and the root says where the documentation is.
#[tokio::test]
async fn the_document_reads_in_order_and_the_root_points_to_it() {
    let doc = document();
    let tags: Vec<&str> = doc["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    let expected: Vec<&str> = indriva::http::openapi::TAG_ORDER
        .iter()
        .copied()
        .filter(|t| tags.contains(t))
        .collect();
    assert_eq!(tags, expected);
    assert_eq!(tags.first(), Some(&"Authentication"));
    assert_eq!(tags.last(), Some(&"Operations"));
    let first_path = doc["paths"].as_object().unwrap().keys().next().unwrap();
    assert_eq!(first_path, "/authenticates/api-code");

    let api = Api::new().await;
    let r = api.get_as(None, "/").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let message = r.json()["_error"]["message"].as_str().unwrap().to_string();
    for place in ["/docs", "/openapi.json", "/console"] {
        assert!(message.contains(place), "{message}");
    }
}

/// Issue 24 item 1: seed 003's projected reads answer what the document describes (a client
/// generated from it crashed on them: every field of a case was required).
#[tokio::test]
async fn projected_reads_conform_to_the_document() {
    let api = Api::new().await;
    let doc = document();
    let (case, _) = common::seed002::register_seed_002(&api).await;
    let one = r#"{"_id": 1, "state": 1, "status": 1, "closed": 1, "debt.invoice_number": 1, "total_remaining_capital_amount": 1}"#;
    let r = api
        .get_q(&format!("/cases/{case}"), &[("projection", one)])
        .await;
    let body = conforms(&doc, "/cases/{id}", "get", &r);
    assert!(body.get("customer_name").is_none(), "projected: {body}");
    let open = r#"{"_id": 1, "state": 1, "status": 1, "debt.invoice_number": 1, "total_remaining_capital_amount": 1}"#;
    let r = api
        .get_q(
            "/cases",
            &[
                ("where", r#"{"closed": {"$exists": false}}"#),
                ("projection", open),
                ("sort", "-_created"),
                ("max_results", "50"),
            ],
        )
        .await;
    let page = conforms(&doc, "/cases", "get", &r);
    assert_eq!(page["_items"].as_array().unwrap().len(), 1);
}
