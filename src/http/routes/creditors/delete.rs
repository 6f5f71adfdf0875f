//! `DELETE /creditors/{id}` with `If-Match`: only a creditor without cases can go (one with
//! cases answers 409; deactivate it with `PATCH {"is_active": false}` instead). Its access
//! groups and users go with it, and API users bound to it lose their credentials and tokens.
//! As in Eve, deleting an id that does not exist (or is not the caller's) answers 204.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use crate::domain::ObjectId;
use crate::eve::{Filter, Val};
use crate::http::error::{ApiError, MSG_403};
use crate::http::scope::RequestScope;
use crate::http::write::{check_if_match, deleted};
use crate::http::AppState;
use crate::resources::{ACCESS_GROUPS, CASES, CREDITORS, USERS};
use crate::scope::Scope;

pub const HAS_CASES: &str =
    "The creditor has cases and cannot be deleted; set is_active to false instead";

pub async fn handler(
    State(state): State<AppState>,
    RequestScope(scope): RequestScope,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let id = ObjectId::parse(&id).map_err(|_| ApiError::not_found())?;
    let account = match (&scope.account, &scope.creditors) {
        (Some(a), None) => *a,
        _ => return Err(ApiError::forbidden(MSG_403)),
    };
    let mut tx = state.app.store.begin().await?;
    let Some(row) = tx.get(&CREDITORS, &scope, &id).await? else {
        return Ok(deleted());
    };
    check_if_match(&headers, &row.etag)?;
    let account_scope = Scope {
        account: Some(account),
        creditors: None,
    };
    let cases = tx
        .count(
            &CASES,
            &account_scope,
            &Filter::eq("creditor", Val::Oid(id)),
        )
        .await?;
    if cases > 0 {
        return Err(ApiError::new(StatusCode::CONFLICT, HAS_CASES));
    }
    tx.delete_where(&ACCESS_GROUPS, &account, "creditor", &id)
        .await?;
    tx.delete_where(&USERS, &account, "creditor", &id).await?;
    tx.revoke_creditor_credentials(&account, &id).await?;
    tx.delete_where(&CREDITORS, &account, "id", &id).await?;
    tx.commit().await?;
    state.auth.forget_creditor(&id);
    Ok(deleted())
}
