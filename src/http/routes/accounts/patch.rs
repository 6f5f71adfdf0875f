//! `PATCH /accounts/{id}` with `If-Match`, for account-wide API users.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;

use super::SCHEMA;
use crate::domain::party::Account;
use crate::domain::ObjectId;
use crate::eve::validate::Mode;
use crate::http::error::{ApiError, MSG_403};
use crate::http::scope::RequestScope;
use crate::http::write::{check_if_match, patched, save_patch, validated_body};
use crate::http::AppState;
use crate::resources::ACCOUNTS;

pub async fn handler(
    State(state): State<AppState>,
    RequestScope(scope): RequestScope,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let id = ObjectId::parse(&id).map_err(|_| ApiError::not_found())?;
    let (patch, issues) =
        validated_body(&headers, body, state.limits.json_body, SCHEMA, Mode::Update).await?;
    let mut tx = state.app.store.begin().await?;
    let row = tx
        .get(&ACCOUNTS, &scope, &id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    // Creditor-bound users and the agency's operators (bound to no account) change no
    // client's account.
    if scope.creditors.is_some() || scope.account.is_none() {
        return Err(ApiError::forbidden(MSG_403));
    }
    check_if_match(&headers, &row.etag)?;
    if !issues.is_empty() {
        return Err(ApiError::update_failure(issues));
    }
    let now = state.app.clocks.time_in(&mut tx, &id).await?.now;
    let account: Account = patched(&row.doc, patch, now)?;
    save_patch(
        tx,
        &ACCOUNTS,
        &account,
        &row.etag,
        (id, account.created, now),
    )
    .await
}
