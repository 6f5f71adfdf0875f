//! `POST /creditors`: an account-wide API user creates a creditor in its own account. It
//! starts inactive unless the body activates it (and then must satisfy the activation rule).

use axum::body::Body;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;

use super::{check, with_server_fields, SCHEMA};
use crate::domain::party::Creditor;
use crate::eve::validate::Mode;
use crate::http::error::{ApiError, MSG_403};
use crate::http::scope::RequestScope;
use crate::http::write::{check_own_account, created, typed, validated_body, Meta};
use crate::http::AppState;
use crate::tenancy;

pub async fn handler(
    State(state): State<AppState>,
    RequestScope(scope): RequestScope,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let account = match (&scope.account, &scope.creditors) {
        (Some(a), None) => *a,
        _ => return Err(ApiError::forbidden(MSG_403)),
    };
    let (doc, mut issues) =
        validated_body(&headers, body, state.limits.json_body, SCHEMA, Mode::Insert).await?;
    check_own_account(&doc, &account, &mut issues);
    if !issues.is_empty() {
        return Err(ApiError::insertion_failure(issues));
    }
    let now = state.app.clocks.now(&state.app.store, &account).await?;
    let mut creditor: Creditor = typed(with_server_fields(doc, now))?;
    let id = creditor.id;
    check(&mut creditor, &mut issues, true);
    if !issues.is_empty() {
        return Err(ApiError::insertion_failure(issues));
    }
    let mut tx = state.app.store.begin().await?;
    tenancy::create_creditor(&mut tx, &mut creditor).await?;
    tx.commit().await?;
    Ok(created(&Meta {
        id,
        created: now,
        updated: now,
        etag: creditor.etag,
    }))
}
