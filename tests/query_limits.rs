//! Queries too large or too slow for the database are refused in the Eve envelope (400), never
//! a 500; an abandoned or overlong query does not hold the readers other clients need; and the
//! query forms Eve answers (`$all` through an array of documents, `sort` as a JSON object) are
//! answered here too. Runs on SQLite, and on PostgreSQL in CI.

use crate::common;

use std::sync::Arc;
use std::time::Duration;

use common::{Api, Resp};
use indriva::eve::{eval, Filter};
use indriva::resources::CASES;
use serde_json::Value;

fn assert_400(r: &Resp, message_part: &str) {
    assert_eq!(r.status, 400, "{}", String::from_utf8_lossy(&r.body));
    let body = r.json();
    assert_eq!(body["_status"], "ERR");
    assert_eq!(body["_error"]["code"], 400);
    let message = body["_error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains(message_part),
        "message {message:?} should contain {message_part:?}"
    );
}

fn or_of(n: usize, path: &str) -> String {
    let terms: Vec<String> = (0..n).map(|i| format!(r#"{{"{path}": {i}}}"#)).collect();
    format!(r#"{{"$or": [{}]}}"#, terms.join(","))
}

#[tokio::test]
async fn filters_the_database_would_refuse_are_a_400_with_the_limit() {
    let api = Api::new().await;
    let get = |params: Vec<(&'static str, String)>| {
        let api = &api;
        async move {
            let p: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
            api.get_q("/cases", &p).await
        }
    };
    // The reports: 999-term $or / and, a 997-value $in on a number, 2,000 sort keys.
    assert_400(
        &get(vec![("where", or_of(999, "a"))]).await,
        "`$or` has 999 sub-queries; at most 100 are allowed (for many values of one field, use `$in`)",
    );
    let and: Vec<String> = (0..999).map(|i| format!(r#"{{"a{i}": 1}}"#)).collect();
    assert_400(
        &get(vec![(
            "where",
            format!(r#"{{"$and": [{}]}}"#, and.join(",")),
        )])
        .await,
        "`$and` has 999 sub-queries",
    );
    let python: Vec<String> = (0..999)
        .map(|i| format!("reference_number == {i}"))
        .collect();
    assert_400(
        &get(vec![("where", python.join(" or "))]).await,
        "`$or` has 999 sub-queries",
    );
    let values: Vec<String> = (0..997).map(|i| i.to_string()).collect();
    assert_400(
        &get(vec![(
            "where",
            format!(
                r#"{{"total_remaining_capital_amount": {{"$in": [{}]}}}}"#,
                values.join(",")
            ),
        )])
        .await,
        "`$in` has 997 values; at most 500 are allowed",
    );
    let keys: Vec<String> = (0..2000).map(|i| format!("f{i}")).collect();
    assert_400(
        &get(vec![("sort", keys.join(","))]).await,
        "`sort` has 2000 keys; at most 16 are allowed",
    );
    let fields: Vec<String> = (0..200).map(|i| format!(r#""f{i}": 1"#)).collect();
    assert_400(
        &get(vec![("projection", format!("{{{}}}", fields.join(",")))]).await,
        "`projection` has 200 fields; at most 100 are allowed",
    );
    let mut deep = r#"{"state": "reminder"}"#.to_string();
    for _ in 0..40 {
        deep = format!(r#"{{"$or": [{deep}]}}"#);
    }
    assert_400(
        &get(vec![("where", deep)]).await,
        "nests operators more than 16 levels deep",
    );

    // Just inside every limit the query runs (balanced SQL, far from the depth limit).
    let r = get(vec![("where", or_of(100, "transactions.amount"))]).await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let values: Vec<String> = (0..500).map(|i| i.to_string()).collect();
    let r = get(vec![(
        "where",
        format!(
            r#"{{"$or": [{{"transactions.amount": {{"$in": [{v}]}}}}, {{"total_remaining_capital_amount": {{"$nin": [{v}]}}}}]}}"#,
            v = values.join(",")
        ),
    )])
    .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let keys: Vec<String> = (0..16).map(|i| format!("-f{i}")).collect();
    assert_eq!(get(vec![("sort", keys.join(","))]).await.status, 200);
}

/// 100 range conditions on an array of documents that no element meets, so each is walked
/// to the end: seconds of JSON over 3,000 cases (equalities would become one `$in`).
fn slow_query() -> String {
    let terms: Vec<String> = (0..100)
        .map(|i| {
            format!(
                r#"{{"transactions.amount": {{"$gt": {}}}}}"#,
                1_000_000_000 + i
            )
        })
        .collect();
    format!(r#"{{"$or": [{}]}}"#, terms.join(","))
}

/// A test database whose list queries may run for `budget`.
async fn db_with_budget(budget: Duration) -> common::TestDb {
    let mut db = common::db().await;
    Arc::get_mut(&mut db.store)
        .expect("the store is not shared yet")
        .set_query_budget(budget);
    db
}

#[tokio::test]
async fn a_query_over_its_time_budget_is_stopped_with_a_400_and_others_go_on() {
    // Seeded before the budget is set, and a budget a plain read keeps even while other
    // tests load the database (the slow query takes seconds).
    let mut db = common::db().await;
    common::seed_cases(&db.store, 3000).await;
    Arc::get_mut(&mut db.store)
        .expect("the store is not shared yet")
        .set_query_budget(Duration::from_millis(1000));
    let api = Api::with_db(db).await;
    let slow = slow_query();
    let r = api.get_q("/cases", &[("where", &slow)]).await;
    assert_400(&r, "did not finish within the server's 1000 ms budget");
    // The count of a slow query is stopped the same way (a page of one still counts all).
    let r = api
        .get_q("/cases", &[("where", &slow), ("max_results", "1")])
        .await;
    assert_400(&r, "1000 ms budget");
    // The readers are free again.
    let r = api.get_q("/cases", &[("max_results", "1")]).await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let page = r.json();
    assert_eq!(page["_items"].as_array().map(Vec::len), Some(1), "{page}");
    assert_eq!(page["_meta"]["total"], 3000, "{}", page["_meta"]);
}

#[tokio::test]
async fn queries_abandoned_by_their_clients_stop_and_free_the_readers() {
    // A budget long enough that only abandonment can stop the slow queries in time.
    let api = Arc::new(Api::with_db(db_with_budget(Duration::from_secs(600)).await).await);
    common::seed_cases(&api.db.store, 3000).await;
    let slow = slow_query();
    // More clients than either database has connections for readers (SQLite 4, PostgreSQL
    // 16) give up after 300 ms (their request futures are dropped, as hyper does when a
    // connection closes): if an abandoned query kept its connection, the plain read below
    // would wait for the 600 s budget.
    let mut gave_up = Vec::new();
    for _ in 0..20 {
        let api = api.clone();
        let slow = slow.clone();
        gave_up.push(tokio::spawn(async move {
            tokio::time::timeout(
                Duration::from_millis(300),
                api.get_q("/cases", &[("where", &slow)]),
            )
            .await
            .is_err()
        }));
    }
    for g in gave_up {
        assert!(g.await.unwrap(), "the slow query should outlast its client");
    }
    // Another client's plain read is answered, long before any slow query could finish.
    let r = tokio::time::timeout(
        Duration::from_secs(5),
        api.get_q("/cases", &[("max_results", "1")]),
    )
    .await
    .expect("a plain read waited behind abandoned queries");
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["_meta"]["total"], 3000);
}

#[tokio::test]
async fn all_matches_values_in_different_elements_of_an_array_of_documents() {
    let api = Api::new().await;
    let docs = common::seed_cases(&api.db.store, 300).await;
    let raw = r#"{"state_history.state": {"$all": ["initializing", "debt_collection"]}}"#;
    let f = Filter::parse(raw).unwrap();
    let want = docs
        .iter()
        .filter(|d| eval::matches(d, &CASES.schema, &f))
        .count();
    assert!(
        want > 10,
        "the seed should have cases that went to debt collection"
    );
    let r = api
        .get_q("/cases", &[("where", raw), ("max_results", "1")])
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["_meta"]["total"], want as u64);
    // Eve's answer is the same as one equality per value.
    let both = r#"{"$and": [{"state_history.state": "initializing"}, {"state_history.state": "debt_collection"}]}"#;
    let r = api
        .get_q("/cases", &[("where", both), ("max_results", "1")])
        .await;
    assert_eq!(r.json()["_meta"]["total"], want as u64);
}

#[tokio::test]
async fn sort_accepts_every_form_eve_and_pymongo_take() {
    let api = Api::new().await;
    common::seed_cases(&api.db.store, 60).await;
    let ids = |r: Resp| -> Vec<Value> {
        assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
        r.json()["_items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["_id"].clone())
            .collect()
    };
    let want = ids(api
        .get_q("/cases", &[("sort", "-state,_id"), ("max_results", "50")])
        .await);
    assert_eq!(want.len(), 50);
    for form in [
        r#"{"state": -1, "_id": 1}"#,
        r#"{'state': -1, '_id': 1}"#,
        r#"[("state", -1), ("_id", 1)]"#,
        r#"[["state", -1], ["_id", 1]]"#,
        r#"[("state", -1), "_id"]"#,
    ] {
        let got = ids(api
            .get_q("/cases", &[("sort", form), ("max_results", "50")])
            .await);
        assert_eq!(got, want, "sort={form}");
    }
    assert_400(
        &api.get_q("/cases", &[("sort", r#"{"state": 2}"#)]).await,
        "Unable to parse `sort` clause",
    );
}
