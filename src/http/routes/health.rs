//! `/healthz` (the process answers) and `/readyz` (the database answers with every migration
//! applied, and the flow worker, when it runs here, has looped recently).

use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::http::AppState;

/// `GET /healthz`: the process is up.
pub async fn healthz() -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        json!({"status": "ok"}).to_string(),
    )
        .into_response()
}

/// `GET /readyz`: 200 when the database answers with every migration applied and the worker
/// (if any) is alive; 503 with the reasons otherwise.
pub async fn readyz(State(state): State<AppState>) -> Response {
    let mut problems = Vec::new();
    let started = Instant::now();
    match tokio::time::timeout(Duration::from_secs(5), state.app.store.readiness()).await {
        Ok(Ok(())) => {}
        Ok(Err(reason)) => problems.push(reason),
        Err(_) => problems.push("database did not answer within 5 s".to_string()),
    }
    problems.extend(state.health.worker_problem());
    // A stale reference-rate table is a warning, not a reason to stop serving: interest runs
    // on at the last known rate until an operator adds the row (docs/interest.md).
    let warnings: Vec<String> = state
        .app
        .engine
        .rate_table_warning(state.app.clocks.real())
        .into_iter()
        .collect();
    let (status, mut body) = if problems.is_empty() {
        (
            StatusCode::OK,
            json!({"status": "ready", "database_ms": started.elapsed().as_millis() as u64}),
        )
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            json!({"status": "unavailable", "problems": problems}),
        )
    };
    if !warnings.is_empty() {
        body["warnings"] = json!(warnings);
    }
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}
