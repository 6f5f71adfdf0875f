//! `/healthz` and `/readyz` (issue 12): up, ready, and 503 with the reason when the database
//! is gone or the flow worker is stuck. Runs on SQLite, and on PostgreSQL when
//! `INDRIVA_TEST_DATABASE_URL` is set.

use crate::common;

use axum::http::StatusCode;
use common::Api;
use indriva::observe::{Health, WorkerBeat};
use std::time::Duration;

#[tokio::test]
async fn healthz_and_readyz_answer_without_a_token() {
    let api = Api::new().await;
    let r = api.get_as(None, "/healthz").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["status"], "ok");
    let r = api.get_as(None, "/readyz").await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    assert_eq!(r.json()["status"], "ready");
}

#[tokio::test]
async fn readyz_is_503_when_the_worker_is_stuck() {
    let mut api = Api::new().await;
    let beat = WorkerBeat::new(Duration::from_secs(1));
    api.health = Health {
        worker: Some(beat.clone()),
    };
    assert_eq!(api.get_as(None, "/readyz").await.status, StatusCode::OK);
    beat.beat_at(0);
    let r = api.get_as(None, "/readyz").await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    let problems = r.json()["problems"].to_string();
    assert!(
        problems.contains("flow worker has not finished a run"),
        "{problems}"
    );
    beat.beat();
    assert_eq!(api.get_as(None, "/readyz").await.status, StatusCode::OK);
}

#[tokio::test]
async fn readyz_is_503_when_the_database_is_gone() {
    let api = Api::new().await;
    api.db.store.close().await;
    let r = api.get_as(None, "/readyz").await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    let problems = r.json()["problems"].to_string();
    assert!(problems.contains("database unreachable"), "{problems}");
    // The process itself is still up.
    assert_eq!(api.get_as(None, "/healthz").await.status, StatusCode::OK);
}

/// Issue 22 item 13: `/readyz` says when the reference-rate table has no row for the
/// current half-year (it stays 200: interest runs on at the last known rate).
#[tokio::test]
async fn readyz_warns_when_the_rate_table_has_no_row_for_this_half_year() {
    use indriva::domain::HttpDate;
    let api = Api::new().await;
    // The shipped table's last row is 1 January 2026.
    api.clock
        .set(HttpDate::from_ymd_hms(2026, 3, 1, 12, 0, 0).unwrap());
    let r = api.get_as(None, "/readyz").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.json().get("warnings").is_none(), "{}", r.json());
    api.clock
        .set(HttpDate::from_ymd_hms(2026, 7, 1, 0, 0, 0).unwrap());
    let r = api.get_as(None, "/readyz").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["status"], "ready");
    let w = r.json()["warnings"][0]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        w.starts_with("the reference-rate table has no row for the half-year from 2026-07-01"),
        "{w}"
    );
    assert!(w.contains("2026-01-01 (2,00 %)"), "{w}");
}
