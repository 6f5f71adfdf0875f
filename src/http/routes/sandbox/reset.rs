//! `POST /sandbox/reset`: deletes the sandbox account's cases and everything hanging off
//! them — registrations, OCR references, letters and their files, uploaded invoices,
//! customers, queued work, idempotency keys — so the clock may again be set to any date.
//! Creditors, users and credentials stay. Only an account-wide API user may do it.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::sandbox_account;
use crate::http::error::{ApiError, MSG_403};
use crate::http::scope::RequestScope;
use crate::http::AppState;

pub async fn post(
    State(state): State<AppState>,
    RequestScope(scope): RequestScope,
) -> Result<Response, ApiError> {
    let account = sandbox_account(&state, &scope).await?;
    if scope.creditors.is_some() {
        return Err(ApiError::forbidden(MSG_403));
    }
    let mut tx = state.store.begin().await?;
    let files = tx.account_media_keys(&account).await?;
    let cases = tx.delete_account_cases(&account).await?;
    tx.commit().await?;
    state.clocks.forget(&account);
    for key in &files {
        if let Err(e) = state.media.store.delete(&state.media.path(key)).await {
            tracing::warn!(error = %e, "could not delete a file of a reset sandbox");
        }
    }
    Ok((
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        json!({"_status": "OK", "cases_deleted": cases, "files_deleted": files.len()}).to_string(),
    )
        .into_response())
}
