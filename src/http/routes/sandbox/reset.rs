//! `POST /sandbox/reset`: deletes the sandbox account's cases and everything hanging off
//! them — registrations, OCR references, letters and their files, uploaded invoices,
//! customers, queued work, idempotency keys — so the clock may again be set to any date.
//! Creditors, users and credentials stay. Only an account-wide API user may do it.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::actions::clock;
use crate::http::error::ApiError;
use crate::http::scope::RequestActor;
use crate::http::AppState;

pub async fn post(
    State(state): State<AppState>,
    RequestActor(actor): RequestActor,
) -> Result<Response, ApiError> {
    let account = clock::sandbox_account(&state.app, &actor).await?;
    let reset = clock::reset(&state.app, &actor, account).await?;
    Ok((
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        json!({"_status": "OK", "cases_deleted": reset.cases, "files_deleted": reset.files})
            .to_string(),
    )
        .into_response())
}
