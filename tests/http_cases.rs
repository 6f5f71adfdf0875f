//! `GET /cases` and `GET /cases/{id}` on the wire: the seeds' queries (seed 003), Eve's
//! envelopes, paging, projection, conditional GET and every documented error.

use crate::common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::Api;
use indriva::domain::case::Case;
use indriva::resources::CASES;
use indriva::store::prepare_document;
use serde_json::{json, Value};

const CREDITOR: &str = "674dbeb208847b9501cc9138";

async fn api_with_cases(n: u64) -> (Api, Vec<Value>) {
    let api = Api::new().await;
    let docs = common::seed_cases(&api.db.store, n).await;
    (api, docs)
}

/// Inserts the seed's own closed case (seed 002) and returns its id.
async fn insert_seed_case(api: &Api) -> String {
    let case: Case = serde_json::from_str(include_str!("fixtures/seed_closed_case.json")).unwrap();
    let doc = prepare_document(&CASES, &case).unwrap();
    let mut tx = api.db.store.begin().await.unwrap();
    tx.insert(&CASES, vec![doc]).await.unwrap();
    tx.commit().await.unwrap();
    case.id.to_hex()
}

fn assert_err(resp: &common::Resp, code: u16) {
    assert_eq!(
        resp.status.as_u16(),
        code,
        "{}",
        String::from_utf8_lossy(&resp.body)
    );
    let body = resp.json();
    assert_eq!(body["_status"], "ERR");
    assert_eq!(body["_error"]["code"], code);
    assert!(body["_error"]["message"]
        .as_str()
        .is_some_and(|m| !m.is_empty()));
    assert_eq!(resp.header("content-type"), Some("application/json"));
}

#[tokio::test]
async fn the_open_cases_query_of_seed_003() {
    let (api, docs) = api_with_cases(120).await;
    let r = api
        .get_q(
            "/cases",
            &[
                ("where", &json!({"creditor": CREDITOR, "closed": {"$exists": false}}).to_string()),
                ("projection", r#"{"_id": 1, "state": 1, "status": 1, "debt.invoice_number": 1, "total_remaining_capital_amount": 1}"#),
                ("sort", "-_created"),
                ("max_results", "50"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let body = r.json();
    let expected: Vec<&Value> = docs
        .iter()
        .filter(|d| d["creditor"] == CREDITOR && d.get("closed").is_none())
        .collect();
    assert!(!expected.is_empty());
    assert_eq!(
        body["_meta"],
        json!({"page": 1, "max_results": 50, "total": expected.len()})
    );
    assert_eq!(
        r.header("x-total-count"),
        Some(expected.len().to_string().as_str())
    );
    assert!(body.get("_links").is_none(), "HATEOAS is off");
    let items = body["_items"].as_array().unwrap();
    assert_eq!(items.len(), expected.len().min(50));
    let mut prev: Option<i64> = None;
    for item in items {
        let keys: Vec<&str> = item
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(
            sorted,
            [
                "_created",
                "_etag",
                "_id",
                "_updated",
                "debt",
                "state",
                "status",
                "total_remaining_capital_amount"
            ]
        );
        assert_eq!(item["debt"].as_object().unwrap().len(), 1);
        let created = indriva::domain::HttpDate::parse_lenient(item["_created"].as_str().unwrap())
            .unwrap()
            .unix();
        assert!(prev.is_none_or(|p| p >= created), "newest first");
        prev = Some(created);
    }
    assert!(r.header("last-modified").is_some());
}

#[tokio::test]
async fn the_closed_since_query_of_seed_003() {
    let (api, docs) = api_with_cases(120).await;
    let since = "Mon, 13 Jan 2025 00:00:00 GMT";
    let r = api
        .get_q(
            "/cases",
            &[
                ("where", &json!({"closed.close_date": {"$gt": since}}).to_string()),
                ("projection", r#"{"_id": 1, "closed": 1, "debt.invoice_number": 1, "total_remaining_capital_amount": 1}"#),
                ("sort", "-closed.close_date"),
                ("max_results", "50"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let body = r.json();
    let since = indriva::domain::HttpDate::parse_lenient(since).unwrap();
    let date = |v: &Value| indriva::domain::HttpDate::parse_lenient(v.as_str().unwrap()).unwrap();
    let expected = docs
        .iter()
        .filter(|d| {
            d.get("closed")
                .is_some_and(|c| date(&c["close_date"]) > since)
        })
        .count();
    assert!(expected > 0);
    assert_eq!(body["_meta"]["total"], expected);
    let items = body["_items"].as_array().unwrap();
    let dates: Vec<_> = items
        .iter()
        .map(|i| date(&i["closed"]["close_date"]))
        .collect();
    assert!(
        dates.windows(2).all(|w| w[0] >= w[1]),
        "most recently closed first"
    );
    assert!(items.iter().all(|i| i["closed"]["reason"].is_string()));
}

#[tokio::test]
async fn one_case_has_every_field_of_the_seed_and_honours_projection() {
    let api = Api::new().await;
    let id = insert_seed_case(&api).await;
    let r = api.get(&format!("/cases/{id}")).await;
    assert_eq!(r.status, StatusCode::OK);
    let body = r.json();
    let seed: Value = serde_json::from_str(include_str!("fixtures/seed_closed_case.json")).unwrap();
    for key in seed.as_object().unwrap().keys() {
        if key != "_etag" {
            assert!(body.get(key).is_some(), "missing field {key}");
        }
    }
    assert_eq!(body["closed"], seed["closed"]);
    assert_eq!(body["transactions"].as_array().unwrap().len(), 4);
    let etag = body["_etag"].as_str().unwrap();
    assert_eq!(etag.len(), 40);
    assert_eq!(r.header("etag"), Some(format!("\"{etag}\"").as_str()));
    assert_eq!(
        r.header("last-modified"),
        Some("Wed, 03 Sep 2025 11:18:59 GMT")
    );

    // The seed's single-case projection.
    let proj = r#"{"_id":1,"state":1,"status":1,"closed":1,"debt.invoice_number":1,"total_remaining_capital_amount":1}"#;
    let r = api
        .get_q(&format!("/cases/{id}"), &[("projection", proj)])
        .await;
    assert_eq!(
        r.json(),
        json!({"_id": id, "_created": "Wed, 03 Sep 2025 07:56:12 GMT", "_updated": "Wed, 03 Sep 2025 11:18:59 GMT",
               "_etag": etag, "debt": {"invoice_number": "INV-2025-003"}, "state": "debt_collection", "status": "closed",
               "closed": {"close_date": "Wed, 03 Sep 2025 11:18:59 GMT", "reason": "fully_paid_depreciation"},
               "total_remaining_capital_amount": 0.0})
    );
}

#[tokio::test]
async fn conditional_get_answers_304_when_every_validator_matches() {
    let api = Api::new().await;
    let id = insert_seed_case(&api).await;
    let first = api.get(&format!("/cases/{id}")).await;
    let etag = first.json()["_etag"].as_str().unwrap().to_string();
    for inm in [format!("\"{etag}\""), etag.clone(), format!("W/\"{etag}\"")] {
        let r = api
            .send(
                Request::get(format!("/cases/{id}"))
                    .header("if-none-match", inm)
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        assert_eq!(r.status, StatusCode::NOT_MODIFIED);
        assert!(r.body.is_empty());
        assert_eq!(r.header("etag"), Some(format!("\"{etag}\"").as_str()));
        assert!(r.header("content-type").is_none());
    }
    let r = api
        .send(
            Request::get(format!("/cases/{id}"))
                .header("if-none-match", "\"other\"")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    // If-Modified-Since: not modified since a later date; modified since an earlier one.
    let ims = |d: &'static str| {
        Request::get(format!("/cases/{id}"))
            .header("if-modified-since", d)
            .body(Body::empty())
            .unwrap()
    };
    assert_eq!(
        api.send(ims("Thu, 04 Sep 2025 00:00:00 GMT")).await.status,
        StatusCode::NOT_MODIFIED
    );
    assert_eq!(
        api.send(ims("Tue, 02 Sep 2025 00:00:00 GMT")).await.status,
        StatusCode::OK
    );
    // A malformed If-Modified-Since is ignored, not a 500 as in Eve.
    assert_eq!(api.send(ims("yesterday")).await.status, StatusCode::OK);
    // Both present: both must match.
    let both = Request::get(format!("/cases/{id}"))
        .header("if-none-match", format!("\"{etag}\""))
        .header("if-modified-since", "Tue, 02 Sep 2025 00:00:00 GMT")
        .body(Body::empty())
        .unwrap();
    assert_eq!(api.send(both).await.status, StatusCode::OK);
}

#[tokio::test]
async fn ids_that_are_not_24_lowercase_hex_or_unknown_are_404() {
    let api = Api::new().await;
    let id = insert_seed_case(&api).await;
    assert_eq!(
        api.get(&format!("/cases/{id}")).await.status,
        StatusCode::OK
    );
    assert_eq!(
        api.get(&format!("/cases/{id}/")).await.status,
        StatusCode::OK,
        "trailing slash ignored"
    );
    for bad in [
        id.to_uppercase(),
        id[..23].to_string(),
        "xyz".into(),
        "000000000000000000000000".into(),
        format!("{id}0"),
    ] {
        assert_err(&api.get(&format!("/cases/{bad}")).await, 404);
    }
}

#[tokio::test]
async fn unknown_routes_and_methods_get_the_envelope() {
    let api = Api::new().await;
    assert_err(&api.get("/nope").await, 404);
    for m in ["POST", "PUT", "PATCH", "DELETE"] {
        let r = api
            .send(
                Request::builder()
                    .method(m)
                    .uri("/cases")
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        assert_err(&r, 405);
    }
    let r = api
        .send(
            Request::builder()
                .method("DELETE")
                .uri("/cases/674dbeb208847b9501cc9138")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_err(&r, 405);
}

#[tokio::test]
async fn bad_query_input_is_a_400_never_a_500() {
    let (api, _) = api_with_cases(5).await;
    let bad_where = [
        "{",
        "5",
        "[1]",
        "\"x\"",
        "null",
        r#"{"a": {"$foo": 1}}"#,
        r#"{"$where": "this.a == 1"}"#,
        r#"{"a": {"$regex": "^x"}}"#,
        r#"{"$or": [{"a": {"$regex": "x"}}]}"#,
        r#"{"$or": []}"#,
        r#"{"$and": 5}"#,
        r#"{"a": {"$in": 5}}"#,
        r#"{"a": {"$size": -1}}"#,
        r#"{"a": {"$not": 5}}"#,
        r#"{"a": {"$elemMatch": 5}}"#,
        r#"{"a": {"$mod": [2, 0]}}"#,
        r#"{"$text": {"$search": "x"}}"#,
        r#"{"a": {"$gt": 1, "b": 2}}"#,
        r#"{"a..b": 1}"#,
        "state in ['a']",
        "state is None",
        "a + 1 == 2",
        "1 < a < 3",
        "not a",
        "a",
        "{'a': 1}",
        "a ==",
    ];
    for w in bad_where {
        assert_err(&api.get_q("/cases", &[("where", w)]).await, 400);
    }
    for p in ["{", "5", "[1]", "\"a\""] {
        assert_err(&api.get_q("/cases", &[("projection", p)]).await, 400);
        assert_err(
            &api.get_q("/cases/674dbeb208847b9501cc9138", &[("projection", p)])
                .await,
            400,
        );
    }
    for s in [
        r#"[("age":1)]"#,
        "a b",
        "-",
        "a,,b",
        "\"firstname\"",
        "5",
        r#"[("a", 2)]"#,
        "-state_history",
    ] {
        assert_err(&api.get_q("/cases", &[("sort", s)]).await, 400);
    }
}

#[tokio::test]
async fn python_syntax_where_works_too() {
    let (api, docs) = api_with_cases(60).await;
    let r = api.get_q("/cases", &[("where", r#"state == "reminder" or (state == debt_collection and total_remaining_capital_amount > 1000)"#)]).await;
    assert_eq!(r.status, StatusCode::OK);
    let num = |d: &Value| d["total_remaining_capital_amount"].as_f64().unwrap();
    let want = docs
        .iter()
        .filter(|d| {
            d["state"] == "reminder" || (d["state"] == "debt_collection" && num(d) > 1000.0)
        })
        .count();
    assert_eq!(r.json()["_meta"]["total"], want);
    let r = api
        .get_q(
            "/cases",
            &[("where", r#"_created >= "Tue, 01 Oct 2013 00:59:22 GMT""#)],
        )
        .await;
    assert_eq!(r.json()["_meta"]["total"], 60);
}

#[tokio::test]
async fn paging_is_lenient_and_capped_at_100() {
    let (api, docs) = api_with_cases(130).await;
    let meta = |r: &common::Resp| r.json()["_meta"].clone();
    let r = api.get("/cases").await;
    assert_eq!(
        meta(&r),
        json!({"page": 1, "max_results": 25, "total": 130})
    );
    assert_eq!(r.json()["_items"].as_array().unwrap().len(), 25);
    let r = api.get("/cases?max_results=500").await;
    assert_eq!(r.json()["_items"].as_array().unwrap().len(), 100);
    assert_eq!(meta(&r)["max_results"], 100);
    assert_eq!(
        meta(&api.get("/cases?max_results=7.9").await)["max_results"],
        7
    );
    assert_eq!(
        meta(&api.get("/cases?max_results=abc").await)["max_results"],
        25
    );
    assert_eq!(
        meta(&api.get("/cases?page=-2&max_results=10").await)["page"],
        2
    );
    // pages are disjoint and cover everything in id order
    let mut seen = Vec::new();
    for page in 1..=3 {
        let r = api.get(&format!("/cases?page={page}&max_results=50")).await;
        seen.extend(
            r.json()["_items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["_id"].as_str().unwrap().to_string()),
        );
    }
    let want: Vec<String> = docs
        .iter()
        .map(|d| d["_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(seen, want);
    // past the end: empty page, 200, no Last-Modified
    let r = api.get("/cases?page=9&max_results=50").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["_items"], json!([]));
    assert_eq!(
        meta(&r),
        json!({"page": 9, "max_results": 50, "total": 130})
    );
    assert!(r.header("last-modified").is_none());
}

#[tokio::test]
async fn empty_where_means_no_filter_and_pretty_indents() {
    let (api, _) = api_with_cases(3).await;
    assert_eq!(api.get("/cases?where=").await.json()["_meta"]["total"], 3);
    let r = api.get("/cases/?pretty&max_results=1").await;
    let text = String::from_utf8(r.body.clone()).unwrap();
    assert!(text.starts_with("{\n    \"_items\": ["), "{text}");
}

#[tokio::test]
async fn head_gives_the_headers_without_a_body() {
    let (api, _) = api_with_cases(4).await;
    let r = api
        .send(Request::head("/cases").body(Body::empty()).unwrap())
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.is_empty());
    assert_eq!(r.header("x-total-count"), Some("4"));
}

#[tokio::test]
async fn counts_follow_writes() {
    let (api, _) = api_with_cases(10).await;
    let total = |r: common::Resp| r.json()["_meta"]["total"].as_i64().unwrap();
    let q = [("where", r#"{"closed": {"$exists": true}}"#)];
    let before_closed = total(api.get_q("/cases", &q).await);
    assert_eq!(total(api.get("/cases").await), 10);
    insert_seed_case(&api).await; // a closed case
    assert_eq!(
        total(api.get("/cases").await),
        11,
        "a cached count must not survive a write"
    );
    assert_eq!(total(api.get_q("/cases", &q).await), before_closed + 1);
}

#[tokio::test]
async fn seeding_another_account_uses_its_creditors_or_creates_one() {
    let api = Api::new().await;
    let clock = common::clock();
    let now = indriva::domain::Clock::now(&clock);
    let other = common::insert_account(&api.db.store, "Other", now).await;
    let report = indriva::seed::run(&api.db.store, &clock, 30, Some(other), false, None)
        .await
        .unwrap();
    assert_eq!((report.cases, report.creditors), (30, 1));
    let sandbox_view = api.get("/cases").await;
    assert_eq!(
        sandbox_view.json()["_meta"]["total"],
        0,
        "another account's cases stay invisible"
    );
    let other_token = api.token_for(other, None).await;
    let r = api
        .get_q_as(
            &other_token,
            "/cases",
            &[
                ("where", &json!({"account": other.to_hex()}).to_string()),
                ("max_results", "100"),
            ],
        )
        .await;
    let items = r.json()["_items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 30);
    let creditor = items[0]["creditor"].clone();
    assert!(items
        .iter()
        .all(|i| i["creditor"] == creditor && i["creditor"] != CREDITOR));
}

#[tokio::test]
async fn the_sandbox_account_and_creditor_are_created_once() {
    use indriva::domain::party::{Account, Creditor};
    use indriva::resources::{ACCOUNTS, CREDITORS};
    use indriva::tenancy::Scope;
    let dir = tempfile::tempdir().unwrap();
    let db = common::db().await;
    let clock = common::clock();
    assert!(
        indriva::sandbox::ensure(&db.store, &clock, Some(dir.path()))
            .await
            .unwrap()
    );
    assert!(
        !indriva::sandbox::ensure(&db.store, &clock, Some(dir.path()))
            .await
            .unwrap(),
        "idempotent"
    );
    let api = common::Api::without_token(db, clock);
    let all = Scope::unrestricted();
    let acc = api
        .db
        .store
        .get(&ACCOUNTS, &all, &indriva::sandbox::sandbox_account_id())
        .await
        .unwrap()
        .unwrap();
    let acc: Account = serde_json::from_str(&acc.doc).unwrap();
    assert_eq!(acc.id.to_hex(), "674dbeaf08847b9501cc9132");
    let cred = api
        .db
        .store
        .get(&CREDITORS, &all, &indriva::sandbox::sandbox_creditor_id())
        .await
        .unwrap()
        .unwrap();
    let cred: Creditor = serde_json::from_str(&cred.doc).unwrap();
    assert_eq!(cred.name, "Amili Integration Team");
    assert!(cred.is_active);
    assert_eq!(cred.account, acc.id);
    assert_eq!(api.db.store.count_all(&CREDITORS).await.unwrap(), 1);
}
