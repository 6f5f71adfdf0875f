//! `/case--respites` (amili-api.md §4.9, respite / anstånd): `POST /case--respites/{case_id}`
//! with `{"days": 1–30, "origin": "creditor_system"}` postpones the case's next flow item by
//! that many days, within the limits its creditor's policy sets (respites per case and per
//! state, days per respite); beyond them, 422. `GET /case--respites[/{id}]` lists them.

use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use crate::actions::respite;
use crate::domain::ObjectId;
use crate::eve::validate::{Mode, Rule, Schema};
use crate::http::error::ApiError;
use crate::http::scope::{RequestActor, RequestScope};
use crate::http::write::validated_body;
use crate::http::{eve, AppState};
use crate::resources::CASE_RESPITES;

pub const SCHEMA: Schema = &[
    ("days", Rule::integer().required().min(1.0).max(30.0)),
    (
        "origin",
        Rule::string().required().allowed(&["creditor_system"]),
    ),
];

pub async fn list(
    State(state): State<AppState>,
    RequestScope(scope): RequestScope,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    eve::list(&state, &CASE_RESPITES, &scope, query.as_deref()).await
}

pub async fn get(
    State(state): State<AppState>,
    RequestScope(scope): RequestScope,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    eve::item(
        &state,
        &CASE_RESPITES,
        &scope,
        &id,
        query.as_deref(),
        &headers,
    )
    .await
}

pub async fn post(
    State(state): State<AppState>,
    RequestActor(actor): RequestActor,
    Path(case_id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let case = ObjectId::parse(&case_id).map_err(|_| ApiError::not_found())?;
    let (doc, issues) =
        validated_body(&headers, body, state.limits.json_body, SCHEMA, Mode::Insert).await?;
    if !issues.is_empty() {
        return Err(ApiError::insertion_failure(issues));
    }
    let days = doc.get("days").and_then(Value::as_i64).unwrap_or(0);
    let done = respite::run(&state.app, &actor, respite::Input { case, days }).await?;
    Ok((
        StatusCode::CREATED,
        [(header::CONTENT_TYPE, "application/json")],
        done.answer.body,
    )
        .into_response())
}
