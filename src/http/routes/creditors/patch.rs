//! `PATCH /creditors/{id}` with `If-Match` (428 without, 412 when stale). Nested documents
//! are merged; `account` and `agreement_template` cannot change; the activation rule is
//! checked on the merged creditor.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;

use super::{check, SCHEMA};
use crate::domain::party::Creditor;
use crate::domain::ObjectId;
use crate::eve::validate::Mode;
use crate::http::error::{ApiError, MSG_403};
use crate::http::scope::RequestScope;
use crate::http::write::{check_if_match, patched, save_patch, validated_body};
use crate::http::AppState;
use crate::resources::CREDITORS;

pub async fn handler(
    State(state): State<AppState>,
    RequestScope(scope): RequestScope,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    // The agency's operators (bound to no account) change no client's creditor.
    if scope.account.is_none() {
        return Err(ApiError::forbidden(MSG_403));
    }
    let id = ObjectId::parse(&id).map_err(|_| ApiError::not_found())?;
    // The body is read before the transaction starts, so a slow client never holds the
    // writer; its problems are reported after the 404/428/412 checks, in Eve's order.
    let (patch, mut issues) =
        validated_body(&headers, body, state.limits.json_body, SCHEMA, Mode::Update).await?;
    let mut tx = state.app.store.begin().await?;
    let row = tx
        .get(&CREDITORS, &scope, &id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    check_if_match(&headers, &row.etag)?;
    for field in ["account", "agreement_template"] {
        if patch.contains_key(field) {
            issues.add(field, "field is read-only");
        }
    }
    if !issues.is_empty() {
        return Err(ApiError::update_failure(issues));
    }
    let org_no_sent = patch.contains_key("organization_no");
    let now = match &scope.account {
        Some(a) => state.app.clocks.time_in(&mut tx, a).await?.now,
        None => return Err(ApiError::forbidden(MSG_403)),
    };
    let mut creditor: Creditor = patched(&row.doc, patch, now)?;
    check(&mut creditor, &mut issues, org_no_sent);
    if !issues.is_empty() {
        return Err(ApiError::update_failure(issues));
    }
    save_patch(
        tx,
        &CREDITORS,
        &creditor,
        &row.etag,
        (id, creditor.created, now),
    )
    .await
}
