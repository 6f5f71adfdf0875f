//! `GET /audit--events`: the audit trail of the caller's account (every account's for the
//! agency's operators). A creditor-bound API user sees the account's cases only through its
//! creditor and is refused the account-wide trail.

use axum::extract::{Path, RawQuery, State};
use axum::response::Response;

use crate::http::error::ApiError;
use crate::http::eve;
use crate::http::scope::RequestScope;
use crate::http::AppState;
use crate::resources::AUDIT_EVENTS;
use crate::scope::Scope;

const CREDITOR_BOUND: &str =
    "the audit trail is the account's: an API user bound to one creditor cannot read it";

fn account_wide(scope: &Scope) -> Result<(), ApiError> {
    match scope.creditors {
        Some(_) => Err(ApiError::forbidden(CREDITOR_BOUND)),
        None => Ok(()),
    }
}

pub async fn list(
    State(state): State<AppState>,
    RequestScope(scope): RequestScope,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    account_wide(&scope)?;
    eve::list(&state, &AUDIT_EVENTS, &scope, query.as_deref()).await
}

pub async fn get(
    State(state): State<AppState>,
    RequestScope(scope): RequestScope,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    headers: axum::http::HeaderMap,
) -> Result<Response, ApiError> {
    account_wide(&scope)?;
    eve::item(
        &state,
        &AUDIT_EVENTS,
        &scope,
        &id,
        query.as_deref(),
        &headers,
    )
    .await
}
