//! An install of the previous release upgrades in place: a database written by the schema up
//! to migration 0011 (tests/fixtures/upgrade, made from that release with the walk-through
//! and 40 seeded cases) is opened, migrated forward, and serves what it held — its cases, the
//! closed seed 002 case, its API user, who can still sign in, while the API code that release
//! stored in plain text is now only a hash. SQLite always; PostgreSQL when
//! `INDRIVA_TEST_DATABASE_URL` names one (a fresh database is created for the dump).

use crate::common;

use std::sync::Arc;

use axum::http::StatusCode;
use common::{sign_jwt, Api, TestDb};
use indriva::store::Store;
use serde_json::{json, Value};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/upgrade");

struct Credentials {
    api_code: String,
    key: p256::ecdsa::SigningKey,
}

fn credentials(name: &str) -> Credentials {
    use p256::pkcs8::DecodePrivateKey;
    let text = std::fs::read_to_string(format!("{FIXTURES}/{name}")).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    Credentials {
        api_code: v["api_code"].as_str().unwrap().to_string(),
        key: p256::ecdsa::SigningKey::from_pkcs8_pem(v["private_key_pem"].as_str().unwrap())
            .unwrap(),
    }
}

/// What every upgraded database must still serve.
async fn serves_what_it_held(store: Arc<Store>, creds: &Credentials) {
    let api = Api::without_token(TestDb::of(store), common::clock());
    // The API user of the old release signs in with the code it was given.
    let jwt = sign_jwt(
        &creds.key,
        &json!({"api_code": creds.api_code, "exp": api.now() + 300}),
    );
    let r = api.authenticate(&jwt).await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    let token = r.json()["token"].as_str().unwrap().to_string();
    let all = api.get_as(Some(&token), "/cases?max_results=1").await;
    assert_eq!(all.status, StatusCode::OK);
    assert_eq!(all.json()["_meta"]["total"], 41);
    // Seed 002's case, paid in full on the sandbox clock.
    let found = api
        .get_as(
            Some(&token),
            "/cases?where=debt.invoice_number==%22INV-2025-003%22",
        )
        .await
        .json();
    assert_eq!(found["_meta"]["total"], 1);
    let case = &found["_items"][0];
    assert_eq!(case["status"], "closed");
    assert_eq!(case["closed"]["reason"], "fully_paid_depreciation");
    assert_eq!(case["total_remaining_capital_amount"], 0.0);
    // The typed column added after that release (migration 0017) was filled from the
    // documents: the due-date queries, answered from the column, agree with the documents.
    let docs = api
        .get_q_as(
            &token,
            "/cases",
            &[
                ("max_results", "100"),
                ("projection", r#"{"next_flow_item": 1}"#),
            ],
        )
        .await
        .json();
    let scheduled: Vec<&str> = docs["_items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["next_flow_item"]["schedule_to_execute"].as_str())
        .collect();
    assert!(
        scheduled.len() > 10,
        "{} cases wait for a step",
        scheduled.len()
    );
    let mut dates: Vec<indriva::domain::HttpDate> = scheduled
        .iter()
        .map(|s| indriva::domain::HttpDate::parse_lenient(s).unwrap())
        .collect();
    dates.sort();
    let middle = dates[dates.len() / 2];
    let by_then = dates.iter().filter(|d| **d <= middle).count();
    for (filter, expected) in [
        (json!({"next_flow_item": {"$exists": true}}), dates.len()),
        (
            json!({"closed": {"$exists": false},
                   "next_flow_item.schedule_to_execute": {"$lte": middle.to_string()}}),
            by_then,
        ),
    ] {
        let r = api
            .get_q_as(&token, "/cases", &[("where", &filter.to_string())])
            .await
            .json();
        assert_eq!(r["_meta"]["total"], expected, "{filter}");
    }
    // Every list the old release served still reads.
    for path in [
        "/creditors",
        "/customers",
        "/case--registrations",
        "/case--letters",
        "/creditor--payments",
        "/webhooks",
        "/webhook--deliveries",
        "/finance--payout-specifications",
    ] {
        let r = api.get_as(Some(&token), path).await;
        assert_eq!(r.status, StatusCode::OK, "{path}");
    }
    let deliveries = api
        .get_as(Some(&token), "/webhook--deliveries")
        .await
        .json();
    assert!(deliveries["_meta"]["total"].as_i64().unwrap() >= 4);
    // A code that was never issued is still refused.
    let wrong = sign_jwt(
        &creds.key,
        &json!({"api_code": "00000000000000000000000000000000", "exp": api.now() + 300}),
    );
    assert_eq!(
        api.authenticate(&wrong).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn a_sqlite_database_of_the_previous_release_migrates_and_keeps_its_data() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("indriva.db");
    std::fs::copy(format!("{FIXTURES}/sqlite-0011.db"), &file).unwrap();
    let creds = credentials("sqlite-0011-credentials.json");
    let url = indriva::store::default_sqlite_url(dir.path());

    let store = Arc::new(Store::open(&url).await.unwrap());
    store.readiness().await.expect("every migration applied");
    serves_what_it_held(store.clone(), &creds).await;
    store.close().await;
    drop(store);

    // The plain API code is gone from the file (hashed, and the old text zeroed).
    let bytes = std::fs::read(&file).unwrap();
    let code = creds.api_code.as_bytes();
    assert!(
        !bytes.windows(code.len()).any(|w| w == code),
        "the API code is still in the database file in plain text"
    );
    // Opening again changes nothing and still serves.
    let store = Arc::new(Store::open(&url).await.unwrap());
    serves_what_it_held(store, &creds).await;
}

#[tokio::test]
async fn a_postgres_database_of_the_previous_release_migrates_and_keeps_its_data() {
    let Ok(base) = std::env::var("INDRIVA_TEST_DATABASE_URL") else {
        return; // SQLite leg: the test above is this leg's upgrade test.
    };
    if !base.starts_with("postgres") {
        return;
    }
    let name = format!("upgrade_{}", hex::encode(rand::random::<[u8; 6]>()));
    let admin = sqlx::PgPool::connect(&base).await.unwrap();
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&admin)
        .await
        .unwrap();
    let url = match base.rsplit_once('/') {
        Some((head, _)) => format!("{head}/{name}"),
        None => panic!("cannot place a database name in {base}"),
    };
    let dump = std::fs::read_to_string(format!("{FIXTURES}/postgres-0011.sql")).unwrap();
    let load = sqlx::PgPool::connect(&url).await.unwrap();
    sqlx::raw_sql(&dump).execute(&load).await.unwrap();
    load.close().await;
    let creds = credentials("postgres-0011-credentials.json");

    let store = Arc::new(Store::open(&url).await.unwrap());
    store.readiness().await.expect("every migration applied");
    serves_what_it_held(store.clone(), &creds).await;
    let check = sqlx::PgPool::connect(&url).await.unwrap();
    let plain: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM api_credentials WHERE api_code_hash = $1 OR hashed = 0",
    )
    .bind(&creds.api_code)
    .fetch_one(&check)
    .await
    .unwrap();
    assert_eq!(plain, 0, "no API code left in plain text");
    check.close().await;
    store.close().await;
    sqlx::query(&format!("DROP DATABASE {name} WITH (FORCE)"))
        .execute(&admin)
        .await
        .unwrap();
}
