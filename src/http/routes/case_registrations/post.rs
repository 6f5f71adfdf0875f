//! `POST /case--registrations`: the body validated and typed, then
//! [`crate::actions::register`] (all or nothing: the registration, the customer, one case
//! and OCR reference per debt). `Idempotency-Key` makes retries safe.

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use super::SCHEMA;
use crate::actions::{register, Idempotency};
use crate::domain::registration::CaseRegistration;
use crate::domain::{HttpDate, ObjectId};
use crate::eve::validate::Mode;
use crate::http::error::{ApiError, MSG_403};
use crate::http::scope::RequestActor;
use crate::http::write::{check_own_account, idempotency_key, typed, validated_body};
use crate::http::AppState;

pub async fn handler(
    State(state): State<AppState>,
    RequestActor(actor): RequestActor,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let account = actor.account.ok_or_else(|| ApiError::forbidden(MSG_403))?;
    let key = idempotency_key(&headers)?;
    let (mut doc, mut issues) =
        validated_body(&headers, body, state.limits.json_body, SCHEMA, Mode::Insert).await?;
    let idempotency = key.map(|k| Idempotency::of(k, &Value::Object(doc.clone())));
    check_own_account(&doc, &account, &mut issues);
    if !issues.is_empty() {
        return Err(ApiError::insertion_failure(issues));
    }
    // Stamped by the use case (its id and the account's time); placeholders to parse.
    let epoch = HttpDate::from_unix(0).ok_or_else(|| ApiError::internal("no epoch"))?;
    for (k, v) in [
        ("_id", json!(ObjectId::at(0).to_hex())),
        ("_created", json!(epoch.to_string())),
        ("_updated", json!(epoch.to_string())),
    ] {
        doc.insert(k.into(), v);
    }
    let registration: CaseRegistration = typed(doc)?;
    let outcome = register::run(&state.app, &actor, registration, idempotency).await?;
    let answer = outcome.answer();
    let status = StatusCode::from_u16(answer.status)
        .map_err(|_| ApiError::internal("recorded answer with a bad status"))?;
    Ok((
        status,
        [(header::CONTENT_TYPE, "application/json")],
        answer.body.clone(),
    )
        .into_response())
}
