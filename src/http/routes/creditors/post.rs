//! `POST /creditors`: an account-wide API user creates a creditor in its own account. It
//! starts inactive unless the body activates it (and then must satisfy the activation rule).

use axum::body::Body;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::{json, Value};

use super::{check, SCHEMA};
use crate::domain::party::Creditor;
use crate::domain::ObjectId;
use crate::eve::validate::Mode;
use crate::http::error::{ApiError, MSG_403};
use crate::http::scope::RequestScope;
use crate::http::write::{created, must_exist, typed, validated_body, Meta};
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
    let (mut doc, mut issues) =
        validated_body(&headers, body, state.limits.json_body, SCHEMA, Mode::Insert).await?;
    if let Some(a) = doc.get("account").and_then(Value::as_str) {
        if !issues.has("account") && a != account.to_hex() {
            issues.add("account", must_exist(a, "accounts"));
        }
    }
    if !issues.is_empty() {
        return Err(ApiError::insertion_failure(issues));
    }
    let now = state.clock.now();
    let id = ObjectId::at(now.unix());
    for (k, v) in [
        ("is_active", json!(false)),
        ("default_letter_locale", json!("sv")),
        ("always_use_standard_debt_description", json!(false)),
    ] {
        doc.entry(k).or_insert(v);
    }
    for (k, v) in [
        ("_id", json!(id.to_hex())),
        ("added_to_erp_system", json!(false)),
        ("creditor_number", json!(0)),
        ("_created", json!(now.to_string())),
        ("_updated", json!(now.to_string())),
    ] {
        doc.insert(k.into(), v);
    }
    let mut creditor: Creditor = typed(doc)?;
    check(&mut creditor, &mut issues, true);
    if !issues.is_empty() {
        return Err(ApiError::insertion_failure(issues));
    }
    let mut tx = state.store.begin().await?;
    tenancy::create_creditor(&mut tx, &mut creditor).await?;
    tx.commit().await?;
    Ok(created(&Meta {
        id,
        created: now,
        updated: now,
        etag: creditor.etag,
    }))
}
