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
